#!/usr/bin/env python3
"""Step Functions compatibility: boto3's `stepfunctions` client and the AWS CLI
against shoplocal — the API (state machines, executions, history), Lambda tasks
on tests/lambda/Echo.c, the order saga driven by the mock config in
fixtures/stepfunctions/, and an execution that survives kill -9.

Every wait polls with a deadline; nothing sleeps."""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

FUNCTIONS = os.path.join(os.path.dirname(harness.BIN), "tests", "functions")
MOCKS = os.path.join(harness.ROOT, "fixtures", "stepfunctions", "order-processing.mock.json")
ROLE = "arn:aws:iam::000000000000:role/sfn"
ECHO_ARN = "arn:aws:lambda:us-east-1:000000000000:function:shoplocal-echo"
SAGA_ARN = "arn:aws:states:us-east-1:000000000000:stateMachine:shoplocal-order-processing"


def code_of(exc):
    return exc.response["Error"]["Code"]


def wait_done(sfn, arn, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
    raise AssertionError("execution %s still RUNNING after %.0f s" % (arn, timeout))


def history(sfn, arn):
    events = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events.extend(page["events"])
    return events


def types(events):
    return [e["type"] for e in events]


def entered(events):
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


PASS = json.dumps({"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.a", "Next": "B"},
    "B": {"Type": "Pass", "End": True}}})


class Api(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = harness.Emulator("--template", "tests/lambda/template.yaml",
                                   "--functions", FUNCTIONS, "--time", "virtual").start()
        cls.sfn = cls.emu.client("stepfunctions")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    def create(self, name, definition=PASS, **kw):
        return self.sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE,
                                             **kw)["stateMachineArn"]

    def run_to_end(self, sm, input="{}", name=None):
        kw = {"name": name} if name else {}
        arn = self.sfn.start_execution(stateMachineArn=sm, input=input, **kw)["executionArn"]
        return arn, wait_done(self.sfn, arn)

    def test_create_describe_list_update_delete(self):
        arn = self.create("crud")
        self.assertEqual(arn, "arn:aws:states:us-east-1:000000000000:stateMachine:crud")
        d = self.sfn.describe_state_machine(stateMachineArn=arn)
        self.assertEqual(d["name"], "crud")
        self.assertEqual(d["status"], "ACTIVE")
        self.assertEqual(d["type"], "STANDARD")
        self.assertEqual(json.loads(d["definition"]), json.loads(PASS))
        self.assertEqual(d["roleArn"], ROLE)
        self.assertIn("creationDate", d)
        names = [m["name"] for p in self.sfn.get_paginator("list_state_machines").paginate(
            PaginationConfig={"PageSize": 1}) for m in p["stateMachines"]]
        self.assertIn("crud", names)
        self.assertEqual(self.create("crud"), arn, "the same definition again is idempotent")
        with self.assertRaises(ClientError) as e:
            self.create("crud", json.dumps({"StartAt": "Z", "States": {"Z": {"Type": "Succeed"}}}))
        self.assertEqual(code_of(e.exception), "StateMachineAlreadyExists")
        new = json.dumps({"StartAt": "Z", "States": {"Z": {"Type": "Succeed"}}})
        u = self.sfn.update_state_machine(stateMachineArn=arn, definition=new)
        self.assertIn("updateDate", u)
        self.assertEqual(json.loads(self.sfn.describe_state_machine(stateMachineArn=arn)
                                    ["definition"]), json.loads(new))
        self.sfn.delete_state_machine(stateMachineArn=arn)
        with self.assertRaises(ClientError) as e:
            self.sfn.describe_state_machine(stateMachineArn=arn)
        self.assertEqual(code_of(e.exception), "StateMachineDoesNotExist")

    def test_invalid_definitions_are_refused(self):
        for bad in ["not json", "[]",
                    json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"}}})]:
            with self.assertRaises(ClientError) as e:
                self.create("bad", bad)
            self.assertEqual(code_of(e.exception), "InvalidDefinition", bad)
            self.assertIn("Invalid State Machine Definition", e.exception.response["Error"]["Message"])
        with self.assertRaises(ClientError) as e:
            self.create("has space")
        self.assertEqual(code_of(e.exception), "InvalidName")

    def test_start_describe_and_history_of_a_pass_machine(self):
        sm = self.create("passes")
        arn, d = self.run_to_end(sm, '{"in": true}', name="run-1")
        self.assertEqual(arn, "arn:aws:states:us-east-1:000000000000:execution:passes:run-1")
        self.assertEqual(d["status"], "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), {"in": True, "a": {"x": 1}})
        self.assertEqual(json.loads(d["input"]), {"in": True})
        self.assertLessEqual(d["startDate"], d["stopDate"])
        ev = self.sfn.get_execution_history(executionArn=arn)["events"]
        self.assertEqual(types(ev), ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                     "PassStateEntered", "PassStateExited", "ExecutionSucceeded"])
        self.assertEqual([e["id"] for e in ev], [1, 2, 3, 4, 5, 6])
        self.assertEqual(ev[0]["previousEventId"], 0)
        self.assertEqual(ev[0]["executionStartedEventDetails"]["roleArn"], ROLE)
        rev = self.sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=2)
        self.assertEqual(types(rev["events"]), ["ExecutionSucceeded", "PassStateExited"])
        self.assertIn("nextToken", rev)
        rest = self.sfn.get_execution_history(executionArn=arn, reverseOrder=True,
                                              nextToken=rev["nextToken"])
        self.assertEqual(len(rest["events"]), 4)
        self.assertEqual(rest["events"][-1]["type"], "ExecutionStarted")

    def test_execution_names_inputs_and_arns_are_checked(self):
        sm = self.create("checks")
        self.run_to_end(sm, name="once")
        with self.assertRaises(ClientError) as e:
            self.sfn.start_execution(stateMachineArn=sm, name="once")
        self.assertEqual(code_of(e.exception), "ExecutionAlreadyExists")
        with self.assertRaises(ClientError) as e:
            self.sfn.start_execution(stateMachineArn=sm, input="{nope")
        self.assertEqual(code_of(e.exception), "InvalidExecutionInput")
        with self.assertRaises(ClientError) as e:
            self.sfn.start_execution(stateMachineArn=sm, input=json.dumps({"x": "y" * 262144}))
        self.assertEqual(code_of(e.exception), "ValidationException")
        with self.assertRaises(ClientError) as e:
            self.sfn.start_execution(stateMachineArn="not-an-arn")
        self.assertEqual(code_of(e.exception), "InvalidArn")
        with self.assertRaises(ClientError) as e:
            self.sfn.start_execution(stateMachineArn=sm + "-missing")
        self.assertEqual(code_of(e.exception), "StateMachineDoesNotExist")
        with self.assertRaises(ClientError) as e:
            self.sfn.describe_execution(
                executionArn="arn:aws:states:us-east-1:000000000000:execution:checks:nope")
        self.assertEqual(code_of(e.exception), "ExecutionDoesNotExist")

    def test_list_executions_filters_by_status_and_pages(self):
        sm = self.create("lister", json.dumps({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": True,
                                                "Next": "Y"}], "Default": "N"},
            "Y": {"Type": "Succeed"}, "N": {"Type": "Fail", "Error": "No"}}}))
        for i, ok in enumerate([True, False, True]):
            self.run_to_end(sm, json.dumps({"ok": ok}), name="l%d" % i)
        pages = list(self.sfn.get_paginator("list_executions").paginate(
            stateMachineArn=sm, PaginationConfig={"PageSize": 2}))
        self.assertEqual(len(pages), 2)
        self.assertEqual([x["name"] for p in pages for x in p["executions"]], ["l2", "l1", "l0"])
        failed = self.sfn.list_executions(stateMachineArn=sm, statusFilter="FAILED")["executions"]
        self.assertEqual([x["name"] for x in failed], ["l1"])
        d = self.sfn.describe_execution(executionArn=failed[0]["executionArn"])
        self.assertEqual(d["error"], "No")

    def test_lambda_invoke_task_on_the_echo_function(self):
        sm = self.create("lam", json.dumps({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": ECHO_ARN, "Payload.$": "$"},
            "ResultSelector": {"event.$": "$.Payload.event", "status.$": "$.StatusCode",
                               "version.$": "$.ExecutedVersion"},
            "End": True}}}))
        arn, d = self.run_to_end(sm, '{"hello": "sfn"}')
        self.assertEqual(d["status"], "SUCCEEDED", d.get("cause"))
        self.assertEqual(json.loads(d["output"]),
                         {"event": {"hello": "sfn"}, "status": 200, "version": "$LATEST"})
        self.assertEqual(types(history(self.sfn, arn)),
                         ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                          "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"])

    def test_bare_lambda_arn_and_function_errors_caught(self):
        sm = self.create("bare", json.dumps({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": ECHO_ARN,
                  "Catch": [{"ErrorEquals": ["EchoError"], "ResultPath": "$.error",
                             "Next": "Caught"}], "End": True},
            "Caught": {"Type": "Pass", "End": True}}}))
        arn, d = self.run_to_end(sm, '{"action": "error"}')
        self.assertEqual(d["status"], "SUCCEEDED")
        err = json.loads(d["output"])["error"]
        self.assertEqual(err["Error"], "EchoError")
        self.assertEqual(json.loads(err["Cause"]),
                         {"errorMessage": "told to fail", "errorType": "EchoError", "stackTrace": []})
        t = types(history(self.sfn, arn))
        self.assertEqual(t[:5], ["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
                                 "LambdaFunctionStarted", "LambdaFunctionFailed"])
        arn, d = self.run_to_end(sm, '{"v": 1}')
        self.assertEqual(json.loads(d["output"])["event"], {"v": 1})

    def test_dynamodb_tasks_reach_the_emulators_table(self):
        ddb = self.emu.client("dynamodb")
        ddb.create_table(TableName="sfn-items", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        sm = self.create("ddb", json.dumps({"StartAt": "Put", "States": {
            "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                    "Parameters": {"TableName": "sfn-items",
                                   "Item": {"pk": {"S.$": "$.id"}, "n": {"N": "1"}}},
                    "ResultPath": None, "Next": "Get"},
            "Get": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
                    "Parameters": {"TableName": "sfn-items", "Key": {"pk": {"S.$": "$.id"}}},
                    "ResultSelector": {"n.$": "$.Item.n.N"}, "ResultPath": "$.got",
                    "Next": "PutAgain"},
            "PutAgain": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                         "Parameters": {"TableName": "sfn-items", "Item": {"pk": {"S.$": "$.id"}},
                                        "ConditionExpression": "attribute_not_exists(pk)"},
                         "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                                    "ResultPath": "$.conflict", "Next": "Done"}],
                         "End": True},
            "Done": {"Type": "Succeed"}}}))
        arn, d = self.run_to_end(sm, '{"id": "k1"}')
        self.assertEqual(d["status"], "SUCCEEDED", d.get("cause"))
        out = json.loads(d["output"])
        self.assertEqual(out["got"], {"n": "1"})
        self.assertEqual(out["conflict"]["Error"], "DynamoDB.ConditionalCheckFailedException")
        self.assertIn("The conditional request failed", out["conflict"]["Cause"])
        self.assertEqual(ddb.get_item(TableName="sfn-items", Key={"pk": {"S": "k1"}})["Item"]["n"],
                         {"N": "1"})

    def raw(self, target, body, content_type="application/x-amz-json-1.0"):
        import urllib.error
        import urllib.request
        req = urllib.request.Request(self.emu.aws + "/", body if isinstance(body, bytes) else body.encode(),
                                     {"Content-Type": content_type,
                                      "X-Amz-Target": "AWSStepFunctions." + target})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_malformed_and_hostile_requests_get_aws_errors(self):
        cases = [
            ("ListStateMachines", b"not json", 400, "SerializationException"),
            ("ListStateMachines", b"[1, 2]", 400, "SerializationException"),
            ("ListStateMachines", b"\x00\xff\xfe", 400, "SerializationException"),
            ("NoSuchOperation", b"{}", 400, "UnknownOperationException"),
            ("CreateStateMachine", b"{}", 400, "ValidationException"),
            ("CreateStateMachine", json.dumps({"name": "x" * 81, "definition": PASS,
                                               "roleArn": ROLE}), 400, "InvalidName"),
            ("CreateStateMachine", json.dumps({"name": "ok", "definition": PASS,
                                               "roleArn": "role"}), 400, "InvalidArn"),
            ("CreateStateMachine", json.dumps({"name": "ok", "definition": PASS, "roleArn": ROLE,
                                               "type": "BOGUS"}), 400, "ValidationException"),
            ("CreateStateMachine", json.dumps({"name": "deep", "roleArn": ROLE,
                                               "definition": "[" * 100000 + "]" * 100000}),
             400, "InvalidDefinition"),
            ("CreateStateMachine", json.dumps({"name": "huge", "roleArn": ROLE,
                                               "definition": " " * (1024 * 1024 + 1)}),
             400, "ValidationException"),
            ("DescribeExecution", json.dumps({"executionArn": "arn:aws:states:us-east-1:0:"
                                              "stateMachine:x"}), 400, "InvalidArn"),
            ("GetExecutionHistory", json.dumps({"executionArn": "arn:aws:states:us-east-1:0:"
                                                "execution:x:y", "maxResults": 5000}),
             400, "ValidationException"),
            ("ListStateMachines", json.dumps({"maxResults": -1}), 400, "ValidationException"),
            ("StartExecution", json.dumps({"stateMachineArn": "arn:aws:states:us-east-1:"
                                           "000000000000:stateMachine:" + "n" * 5000}),
             400, "InvalidArn"),
        ]
        for target, body, status, error in cases:
            got_status, got = self.raw(target, body)
            self.assertEqual((got_status, got.get("__type")), (status, error), (target, body[:80]))
        sm = self.create("tokens")
        self.run_to_end(sm)
        st, got = self.raw("ListExecutions", json.dumps({"stateMachineArn": sm, "nextToken": "garbage"}))
        self.assertEqual((st, got["__type"]), (400, "InvalidToken"))
        arn = self.sfn.list_executions(stateMachineArn=sm)["executions"][0]["executionArn"]
        st, got = self.raw("GetExecutionHistory", json.dumps({"executionArn": arn, "nextToken": "-3"}))
        self.assertEqual((st, got["__type"]), (400, "InvalidToken"))
        st, got = self.raw("StartExecution", json.dumps({"stateMachineArn": sm, "name": "a/b"}))
        self.assertEqual((st, got["__type"]), (400, "InvalidName"))

    def test_start_sync_execution_is_for_express_machines(self):
        express = self.create("fast", type="EXPRESS")
        # StartSyncExecution has the host prefix "sync-"; against a local endpoint it is off.
        import boto3
        sync = boto3.client("stepfunctions", endpoint_url=self.emu.aws, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(inject_host_prefix=False,
                                          retries={"total_max_attempts": 1}))
        r = sync.start_sync_execution(stateMachineArn=express, input='{"q": 1}')
        self.assertEqual(r["status"], "SUCCEEDED")
        self.assertEqual(json.loads(r["output"]), {"q": 1, "a": {"x": 1}})
        self.assertTrue(r["executionArn"].startswith(
            "arn:aws:states:us-east-1:000000000000:express:fast:"))
        self.assertIn("billingDetails", r)
        with self.assertRaises(ClientError) as e:
            sync.start_sync_execution(stateMachineArn=self.create("slowpoke"))
        self.assertEqual(code_of(e.exception), "StateMachineTypeNotSupported")

    def test_start_sync_execution_follows_updates_deletes_and_recreations(self):
        # The wire keeps the machines it started compiled: every write of a machine
        # must be seen by the next start.
        import boto3
        sync = boto3.client("stepfunctions", endpoint_url=self.emu.aws, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(inject_host_prefix=False,
                                          retries={"total_max_attempts": 1}))

        def pass_result(x):
            return json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": x,
                                                                "End": True}}})

        arn = self.create("memo", definition=pass_result(1), type="EXPRESS")
        out = lambda: json.loads(sync.start_sync_execution(stateMachineArn=arn)["output"])
        self.assertEqual([out(), out()], [1, 1])
        self.sfn.update_state_machine(stateMachineArn=arn, definition=pass_result(2))
        self.assertEqual(out(), 2)
        self.sfn.delete_state_machine(stateMachineArn=arn)
        with self.assertRaises(ClientError) as e:
            sync.start_sync_execution(stateMachineArn=arn)
        self.assertEqual(code_of(e.exception), "StateMachineDoesNotExist")
        self.assertEqual(self.create("memo", definition=pass_result(3), type="EXPRESS"), arn)
        self.assertEqual(out(), 3)
        # StartExecution reads the same memo: a Standard machine updated in between
        std = self.create("memo-std", definition=pass_result("a"))
        self.assertEqual(json.loads(self.run_to_end(std)[1]["output"]), "a")
        self.sfn.update_state_machine(stateMachineArn=std, definition=pass_result("b"))
        self.assertEqual(json.loads(self.run_to_end(std)[1]["output"]), "b")

    def test_aws_cli_works(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_DEFAULT_REGION="us-east-1")

        def cli(*args):
            r = subprocess.run(["aws", "--endpoint-url", self.emu.aws, "stepfunctions"] + list(args),
                               env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            return json.loads(r.stdout) if r.stdout.strip() else {}
        sm = cli("create-state-machine", "--name", "cli", "--definition", PASS,
                 "--role-arn", ROLE)["stateMachineArn"]
        self.assertIn("cli", [m["name"] for m in cli("list-state-machines")["stateMachines"]])
        arn = cli("start-execution", "--state-machine-arn", sm, "--input", '{"c": 1}')["executionArn"]
        d = wait_done(self.sfn, arn)
        self.assertEqual(cli("describe-execution", "--execution-arn", arn)["status"], d["status"])
        self.assertEqual(len(cli("get-execution-history", "--execution-arn", arn)["events"]), 6)


class Saga(unittest.TestCase):
    """The template's order-processing machine, its tasks mocked by test case."""

    @classmethod
    def setUpClass(cls):
        cls.emu = harness.Emulator("--time", "virtual", "--mock-config", MOCKS).start()
        cls.sfn = cls.emu.client("stepfunctions")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    def run_case(self, case):
        arn = self.sfn.start_execution(stateMachineArn=SAGA_ARN + "#" + case,
                                       input=json.dumps({"orderId": "o-" + case}))["executionArn"]
        self.assertTrue(arn.startswith(
            "arn:aws:states:us-east-1:000000000000:execution:shoplocal-order-processing:"))
        d = wait_done(self.sfn, arn)
        return d, history(self.sfn, arn)

    def test_the_template_machine_exists_with_substitutions_applied(self):
        d = self.sfn.describe_state_machine(stateMachineArn=SAGA_ARN)
        self.assertNotIn("${", d["definition"])
        self.assertIn("function:shoplocal-ValidateInventoryFunction", d["definition"])

    def test_happy_path_confirms(self):
        d, ev = self.run_case("HappyPath")
        self.assertEqual(d["status"], "SUCCEEDED", d.get("cause"))
        out = json.loads(d["output"])
        self.assertEqual(out["payment"]["result"]["paymentIntentId"], "pi_mock")
        self.assertEqual(entered(ev), ["ValidateInventory", "ReserveInventory", "ProcessPayment",
                                       "CreateOrder", "NotifyCustomer", "OrderConfirmed"])

    def test_out_of_stock_fails_the_order_without_compensation(self):
        d, ev = self.run_case("OutOfStock")
        self.assertEqual(d["status"], "FAILED")
        self.assertEqual(d["error"], "OrderFailed")
        self.assertEqual(entered(ev), ["ValidateInventory", "FailOrder", "OrderFailed"])
        fail_input = json.loads([e for e in ev if e.get("stateEnteredEventDetails", {})
                                 .get("name") == "FailOrder"][0]["stateEnteredEventDetails"]["input"])
        self.assertEqual(fail_input["error"]["Error"], "InventoryError")

    def test_declined_payment_releases_the_reservation(self):
        d, ev = self.run_case("PaymentDeclined")
        self.assertEqual(d["error"], "OrderFailed")
        self.assertEqual(entered(ev), ["ValidateInventory", "ReserveInventory", "ProcessPayment",
                                       "CompensateReservation", "FailOrder", "OrderFailed"])

    def test_failure_after_payment_refunds_and_releases_in_parallel(self):
        d, ev = self.run_case("CreateOrderFails")
        self.assertEqual(d["error"], "OrderFailed")
        names = entered(ev)
        self.assertIn("CompensatePaymentAndReservation", names)
        self.assertIn("RefundPayment", names)
        self.assertIn("ReleaseInventory", names)
        self.assertEqual(names[-2:], ["FailOrder", "OrderFailed"])
        self.assertIn("ParallelStateSucceeded", types(ev))

    def test_failed_notification_still_succeeds_after_four_attempts(self):
        d, ev = self.run_case("NotifyFails")
        self.assertEqual(d["status"], "SUCCEEDED")
        self.assertIn("notificationError", json.loads(d["output"]))
        self.assertEqual(types(ev).count("TaskFailed"), 4)

    def test_service_faults_are_retried_2_then_4_seconds_apart_in_history(self):
        d, ev = self.run_case("FlakyPayment")
        self.assertEqual(d["status"], "SUCCEEDED")
        sched = [e["timestamp"] for e in ev if e["type"] == "TaskScheduled"]
        # Validate, Reserve, then Payment three times, CreateOrder, Notify.
        self.assertEqual(len(sched), 7)
        gaps = [(sched[3] - sched[2]).total_seconds(), (sched[4] - sched[3]).total_seconds()]
        self.assertEqual([round(g, 3) for g in gaps], [2.0, 4.0])

    def test_many_executions_at_once_all_finish(self):
        import concurrent.futures
        cases = ["HappyPath", "PaymentDeclined", "CreateOrderFails", "FlakyPayment"] * 15

        def one(i_case):
            i, case = i_case
            sfn = self.emu.client("stepfunctions")
            return case, sfn.start_execution(stateMachineArn=SAGA_ARN + "#" + case,
                                             name="burst-%d" % i)["executionArn"]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            started = list(pool.map(one, enumerate(cases)))
        want = {"HappyPath": "SUCCEEDED", "FlakyPayment": "SUCCEEDED", "PaymentDeclined": "FAILED",
                "CreateOrderFails": "FAILED"}
        for case, arn in started:
            d = wait_done(self.sfn, arn, timeout=60)
            self.assertEqual(d["status"], want[case], (case, d.get("cause")))
            ids = [e["id"] for e in history(self.sfn, arn)]
            self.assertEqual(ids, list(range(1, len(ids) + 1)), case)

    def test_unknown_test_case_is_refused(self):
        with self.assertRaises(ClientError) as e:
            self.sfn.start_execution(stateMachineArn=SAGA_ARN + "#NoSuchCase")
        self.assertEqual(code_of(e.exception), "InvalidArn")


class Chaos(unittest.TestCase):
    """SFN_CHAOS over the mocked saga: a seeded throttle on ProcessPayment, every attempt."""

    @classmethod
    def setUpClass(cls):
        os.environ["SFN_CHAOS"] = json.dumps({"seed": 7, "rules": [
            {"state": "ProcessPayment", "throttle": 1.0}]})
        try:
            cls.emu = harness.Emulator("--time", "virtual", "--mock-config", MOCKS).start()
        finally:
            os.environ.pop("SFN_CHAOS", None)
        cls.sfn = cls.emu.client("stepfunctions")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    def test_throttled_payment_is_retried_then_compensated(self):
        arn = self.sfn.start_execution(stateMachineArn=SAGA_ARN + "#HappyPath",
                                       input='{"orderId": "chaos"}')["executionArn"]
        d = wait_done(self.sfn, arn)
        self.assertEqual(d["error"], "OrderFailed")
        ev = history(self.sfn, arn)
        failed = [e["taskFailedEventDetails"]["error"] for e in ev if e["type"] == "TaskFailed"]
        # 1 + 3 retries, 2 s, 4 s, 8 s apart; the unmocked compensations then fail for real
        # (no function is built for them here), which the saga also survives.
        self.assertEqual(failed.count("Lambda.TooManyRequestsException"), 4, failed)
        self.assertIn("CompensatePaymentAndReservation", entered(ev))


class Durability(unittest.TestCase):
    """Real time: an execution in a Wait survives kill -9 and finishes after restart."""

    def test_kill_9_mid_execution_resumes_and_finishes_once(self):
        emu = harness.Emulator("--template", "tests/lambda/template.yaml",
                               "--functions", FUNCTIONS, "--time", "real")
        emu.start()
        try:
            sfn = emu.client("stepfunctions")
            sm = sfn.create_state_machine(name="durable", roleArn=ROLE, definition=json.dumps({
                "StartAt": "First", "States": {
                    "First": {"Type": "Pass", "Result": "one", "ResultPath": "$.first",
                              "Next": "Hold"},
                    "Hold": {"Type": "Wait", "Seconds": 2, "Next": "Echo"},
                    "Echo": {"Type": "Task", "Resource": ECHO_ARN, "ResultPath": "$.echo",
                             "End": True}}}))["stateMachineArn"]
            arn = sfn.start_execution(stateMachineArn=sm, input='{"n": 1}')["executionArn"]
            deadline = time.monotonic() + 20
            while "WaitStateEntered" not in types(history(sfn, arn)):
                self.assertLess(time.monotonic(), deadline, "the Wait never began")
            emu.stop(sig=signal.SIGKILL)
            emu.start(fresh=False)
            sfn = emu.client("stepfunctions")
            d = wait_done(sfn, arn, timeout=30)
            self.assertEqual(d["status"], "SUCCEEDED", d.get("cause"))
            out = json.loads(d["output"])
            self.assertEqual(out["first"], "one")
            self.assertEqual(out["echo"]["event"], {"n": 1, "first": "one"})
            t = types(history(sfn, arn))
            for once in ["ExecutionStarted", "PassStateEntered", "WaitStateEntered",
                         "WaitStateExited", "LambdaFunctionSucceeded", "ExecutionSucceeded"]:
                self.assertEqual(t.count(once), 1, "%s in %s" % (once, t))
            ids = [e["id"] for e in history(sfn, arn)]
            self.assertEqual(ids, list(range(1, len(ids) + 1)))
        finally:
            emu.cleanup()

    def test_graceful_shutdown_mid_wait_leaves_it_running_and_it_resumes(self):
        emu = harness.Emulator("--template", "tests/lambda/template.yaml",
                               "--functions", FUNCTIONS, "--time", "real")
        emu.start()
        try:
            sfn = emu.client("stepfunctions")
            sm = sfn.create_state_machine(name="graceful", roleArn=ROLE, definition=json.dumps({
                "StartAt": "Hold", "States": {
                    "Hold": {"Type": "Wait", "Seconds": 3, "Next": "Done"},
                    "Done": {"Type": "Pass", "Result": "done", "End": True}}}))["stateMachineArn"]
            arn = sfn.start_execution(stateMachineArn=sm)["executionArn"]
            deadline = time.monotonic() + 20
            while "WaitStateEntered" not in types(history(sfn, arn)):
                self.assertLess(time.monotonic(), deadline, "the Wait never began")
            t0 = time.monotonic()
            self.assertEqual(emu.stop(), 0)
            self.assertLess(time.monotonic() - t0, 2.5, "shutdown waited for the Wait")
            emu.start(fresh=False)
            sfn = emu.client("stepfunctions")
            d = wait_done(sfn, arn, timeout=30)
            self.assertEqual((d["status"], d["output"]), ("SUCCEEDED", '"done"'))
            t = types(history(sfn, arn))
            self.assertEqual(t.count("WaitStateEntered"), 1, t)
            self.assertEqual(t.count("ExecutionSucceeded"), 1, t)
        finally:
            emu.cleanup()

    def test_stop_execution_aborts_a_waiting_execution(self):
        emu = harness.Emulator("--template", "tests/lambda/template.yaml",
                               "--functions", FUNCTIONS, "--time", "real").start()
        try:
            sfn = emu.client("stepfunctions")
            sm = sfn.create_state_machine(name="stoppable", roleArn=ROLE, definition=json.dumps({
                "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}))[
                "stateMachineArn"]
            arn = sfn.start_execution(stateMachineArn=sm)["executionArn"]
            r = sfn.stop_execution(executionArn=arn, error="Manual", cause="test")
            self.assertIn("stopDate", r)
            d = wait_done(sfn, arn, timeout=5)
            self.assertEqual(d["status"], "ABORTED")
            self.assertEqual(d["error"], "Manual")
            self.assertEqual(types(history(sfn, arn))[-1], "ExecutionAborted")
            running = sfn.list_executions(stateMachineArn=sm, statusFilter="RUNNING")["executions"]
            self.assertEqual(running, [])
        finally:
            emu.cleanup()


if __name__ == "__main__":
    sys.exit(harness.run(__name__))
