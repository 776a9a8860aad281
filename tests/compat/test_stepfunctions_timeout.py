#!/usr/bin/env python3
"""Step Functions compatibility, the limits that end an execution from outside
its states: the machine-level TimeoutSeconds (ExecutionTimedOut, TIMED_OUT)
through boto3 and the AWS CLI, under --time virtual and --time real and across
a kill -9; States.DataLimitExceeded; the validation of TimeoutSeconds.

What AWS answers, as measured on AWS and quoted in floci-io/floci#2733 and
LocalStack's validated snapshot test_timeouts::test_global_timeout: a timed-out
execution's DescribeExecution has status TIMED_OUT, stopDate = startDate +
TimeoutSeconds, and no error or cause; its history ends with one
ExecutionTimedOut event whose details carry error States.Timeout.

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

ROLE = "arn:aws:iam::000000000000:role/sfn"
MOCKS = os.path.join(harness.ROOT, "fixtures", "stepfunctions", "order-processing.mock.json")
SAGA_ARN = "arn:aws:states:us-east-1:000000000000:stateMachine:shoplocal-order-processing"


def wait_done(sfn, arn, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
    raise AssertionError("execution %s still RUNNING after %.0f s" % (arn, timeout))


def history(sfn, arn, **kw):
    events = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn, **kw):
        events.extend(page["events"])
    return events


def waiting(seconds, timeout):
    return json.dumps({"TimeoutSeconds": timeout, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": seconds, "Next": "P"},
        "P": {"Type": "Pass", "End": True}}})


class TimedOut(unittest.TestCase):
    """The checks every timed-out execution must pass, whatever the clock."""

    def assert_timed_out(self, sfn, arn, d, seconds):
        self.assertEqual(d["status"], "TIMED_OUT")
        self.assertNotIn("error", d)
        self.assertNotIn("cause", d)
        self.assertNotIn("output", d)
        took = (d["stopDate"] - d["startDate"]).total_seconds()
        self.assertAlmostEqual(took, seconds, delta=0.0015)
        ev = history(sfn, arn)
        last = ev[-1]
        self.assertEqual(last["type"], "ExecutionTimedOut")
        self.assertEqual(last["previousEventId"], 0)
        self.assertEqual(last["id"], len(ev))
        self.assertEqual(last["executionTimedOutEventDetails"], {"error": "States.Timeout"})
        self.assertEqual(last["timestamp"], d["stopDate"])
        self.assertEqual([e["id"] for e in ev], list(range(1, len(ev) + 1)))
        self.assertEqual([e["type"] for e in ev].count("ExecutionTimedOut"), 1)
        return ev


class Virtual(TimedOut):
    @classmethod
    def setUpClass(cls):
        cls.emu = harness.Emulator("--time", "virtual").start()
        cls.sfn = cls.emu.client("stepfunctions")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    def create(self, name, definition, **kw):
        return self.sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE,
                                             **kw)["stateMachineArn"]

    def test_a_long_wait_times_out_at_timeout_seconds_in_no_wall_time(self):
        sm = self.create("virtual-timeout", waiting(100, 10))
        t0 = time.monotonic()
        arn = self.sfn.start_execution(stateMachineArn=sm, name="v1")["executionArn"]
        d = wait_done(self.sfn, arn, timeout=10)
        self.assertLess(time.monotonic() - t0, 5, "virtual time should take no wall time")
        ev = self.assert_timed_out(self.sfn, arn, d, 10.0)
        self.assertEqual([e["type"] for e in ev],
                         ["ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"])
        newest = self.sfn.get_execution_history(executionArn=arn, reverseOrder=True,
                                                maxResults=1)
        self.assertEqual(newest["events"][0]["type"], "ExecutionTimedOut")
        listed = self.sfn.list_executions(stateMachineArn=sm, statusFilter="TIMED_OUT")
        self.assertEqual([e["executionArn"] for e in listed["executions"]], [arn])
        self.assertEqual(listed["executions"][0]["status"], "TIMED_OUT")
        self.assertIn("stopDate", listed["executions"][0])
        self.assertEqual(self.sfn.list_executions(stateMachineArn=sm,
                                                  statusFilter="FAILED")["executions"], [])

    def test_the_aws_cli_reads_a_timed_out_execution(self):
        sm = self.create("cli-timeout", waiting(3600, 60))
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_DEFAULT_REGION="us-east-1")

        def cli(*args):
            r = subprocess.run(["aws", "--endpoint-url", self.emu.aws, "stepfunctions"] +
                               list(args), env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            return json.loads(r.stdout) if r.stdout.strip() else {}
        arn = cli("start-execution", "--state-machine-arn", sm)["executionArn"]
        wait_done(self.sfn, arn)
        d = cli("describe-execution", "--execution-arn", arn)
        self.assertEqual(d["status"], "TIMED_OUT")
        self.assertNotIn("error", d)
        listed = cli("list-executions", "--state-machine-arn", sm, "--status-filter", "TIMED_OUT")
        self.assertEqual([e["executionArn"] for e in listed["executions"]], [arn])
        ev = cli("get-execution-history", "--execution-arn", arn, "--reverse-order")["events"]
        self.assertEqual(ev[0]["type"], "ExecutionTimedOut")
        self.assertEqual(ev[0]["executionTimedOutEventDetails"]["error"], "States.Timeout")

    def test_a_sync_express_execution_answers_timed_out(self):
        sm = self.create("express-timeout", waiting(100, 10), type="EXPRESS")
        import boto3
        sync = boto3.client("stepfunctions", endpoint_url=self.emu.aws, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(inject_host_prefix=False,
                                          retries={"total_max_attempts": 1}))
        r = sync.start_sync_execution(stateMachineArn=sm, input="{}")
        self.assertEqual(r["status"], "TIMED_OUT")
        self.assertNotIn("output", r)
        self.assertAlmostEqual((r["stopDate"] - r["startDate"]).total_seconds(), 10.0,
                               delta=0.0015)

    def test_timeout_seconds_must_be_a_positive_integer(self):
        for bad, words in [(0, "Minimum value is 1 at /TimeoutSeconds"),
                           (1.5, "Expected value of type [INTEGER] at /TimeoutSeconds"),
                           ("10", "Expected value of type [INTEGER] at /TimeoutSeconds")]:
            d = json.loads(waiting(1, 10))
            d["TimeoutSeconds"] = bad
            with self.assertRaises(ClientError) as e:
                self.create("bad-timeout", json.dumps(d))
            self.assertEqual(e.exception.response["Error"]["Code"], "InvalidDefinition")
            self.assertIn(words, e.exception.response["Error"]["Message"])

    def test_a_state_output_over_256_kib_fails_with_data_limit_exceeded(self):
        sm = self.create("too-big", json.dumps({"StartAt": "Double", "States": {
            "Double": {"Type": "Pass", "Parameters": {"a.$": "$.s", "b.$": "$.s"},
                       "Next": "Never"},
            "Never": {"Type": "Pass", "End": True}}}))
        arn = self.sfn.start_execution(stateMachineArn=sm,
                                       input=json.dumps({"s": "x" * 140000}))["executionArn"]
        d = wait_done(self.sfn, arn)
        self.assertEqual(d["status"], "FAILED")
        self.assertEqual(d["error"], "States.DataLimitExceeded")
        self.assertEqual(d["cause"], "The state/task 'Double' returned a result with a size "
                                     "exceeding the maximum number of bytes service limit.")
        self.assertNotIn("PassStateExited", [e["type"] for e in history(self.sfn, arn)])


class Audit(unittest.TestCase):
    """Items of issue 7 no other suite exercised through a real client."""

    @classmethod
    def setUpClass(cls):
        cls.emu = harness.Emulator("--time", "virtual").start()
        cls.sfn = cls.emu.client("stepfunctions")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    def test_history_without_execution_data_leaves_inputs_and_outputs_out(self):
        sm = self.sfn.create_state_machine(name="no-data", roleArn=ROLE, definition=json.dumps({
            "StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": True}}}))[
            "stateMachineArn"]
        arn = self.sfn.start_execution(stateMachineArn=sm, input='{"secret": 1}')["executionArn"]
        wait_done(self.sfn, arn)
        full = self.sfn.get_execution_history(executionArn=arn)["events"]
        self.assertIn("input", full[0]["executionStartedEventDetails"])
        bare = self.sfn.get_execution_history(executionArn=arn,
                                              includeExecutionData=False)["events"]
        self.assertEqual([e["type"] for e in bare], [e["type"] for e in full])
        for e in bare:
            for key, value in e.items():
                if key.endswith("EventDetails"):
                    self.assertNotIn("input", value, e["type"])
                    self.assertNotIn("output", value, e["type"])

    def test_describe_state_machine_for_execution_gives_the_definition_it_ran(self):
        first = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
        second = json.dumps({"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}})
        sm = self.sfn.create_state_machine(name="versioned", roleArn=ROLE,
                                           definition=first)["stateMachineArn"]
        arn = self.sfn.start_execution(stateMachineArn=sm)["executionArn"]
        wait_done(self.sfn, arn)
        self.sfn.update_state_machine(stateMachineArn=sm, definition=second)
        d = self.sfn.describe_state_machine_for_execution(executionArn=arn)
        self.assertEqual(d["stateMachineArn"], sm)
        self.assertEqual(json.loads(d["definition"]), json.loads(first))
        self.assertEqual(json.loads(self.sfn.describe_state_machine(stateMachineArn=sm)[
            "definition"]), json.loads(second))

    def test_dynamodb_update_item_and_delete_item_tasks_reach_the_table(self):
        ddb = self.emu.client("dynamodb")
        ddb.create_table(TableName="sfn-audit", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        ddb.put_item(TableName="sfn-audit", Item={"pk": {"S": "k"}, "n": {"N": "1"}})
        key = {"pk": {"S.$": "$.id"}}
        sm = self.sfn.create_state_machine(name="ddb-audit", roleArn=ROLE, definition=json.dumps({
            "StartAt": "Bump", "States": {
                "Bump": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem",
                         "Parameters": {"TableName": "sfn-audit", "Key": key,
                                        "UpdateExpression": "SET n = n + :one",
                                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                                        "ReturnValues": "UPDATED_NEW"},
                         "ResultSelector": {"n.$": "$.Attributes.n.N"}, "ResultPath": "$.bumped",
                         "Next": "Drop"},
                "Drop": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:deleteItem",
                         "Parameters": {"TableName": "sfn-audit", "Key": key,
                                        "ReturnValues": "ALL_OLD"},
                         "ResultSelector": {"old.$": "$.Attributes.n.N"},
                         "ResultPath": "$.dropped", "End": True}}}))["stateMachineArn"]
        arn = self.sfn.start_execution(stateMachineArn=sm, input='{"id": "k"}')["executionArn"]
        d = wait_done(self.sfn, arn)
        self.assertEqual(d["status"], "SUCCEEDED", d.get("cause"))
        out = json.loads(d["output"])
        self.assertEqual(out["bumped"], {"n": "2"})
        self.assertEqual(out["dropped"], {"old": "2"})
        self.assertNotIn("Item", ddb.get_item(TableName="sfn-audit", Key={"pk": {"S": "k"}}))


class MockConfigFromEnvironment(unittest.TestCase):
    """SFN_MOCK_CONFIG, the environment's way to --mock-config (Step Functions
    Local's variable), chooses the test case by the #suffix of the ARN."""

    def test_sfn_mock_config_drives_the_order_saga(self):
        os.environ["SFN_MOCK_CONFIG"] = MOCKS
        try:
            emu = harness.Emulator("--time", "virtual").start()
        finally:
            os.environ.pop("SFN_MOCK_CONFIG", None)
        try:
            sfn = emu.client("stepfunctions")
            arn = sfn.start_execution(stateMachineArn=SAGA_ARN + "#HappyPath",
                                      input='{"orderId": "o-env"}')["executionArn"]
            d = wait_done(sfn, arn)
            self.assertEqual(d["status"], "SUCCEEDED", d.get("cause"))
            self.assertEqual(json.loads(d["output"])["payment"]["result"]["paymentIntentId"],
                             "pi_mock")
            with self.assertRaises(ClientError) as e:
                sfn.start_execution(stateMachineArn=SAGA_ARN + "#NoSuchCase")
            self.assertEqual(e.exception.response["Error"]["Code"], "InvalidArn")
        finally:
            emu.cleanup()


class Real(TimedOut):
    """--time real: the waiting thread is woken at the deadline, and a kill -9
    does not restart the count."""

    def test_a_wait_is_woken_at_the_deadline(self):
        emu = harness.Emulator("--time", "real").start()
        try:
            sfn = emu.client("stepfunctions")
            sm = sfn.create_state_machine(name="real-timeout", roleArn=ROLE,
                                          definition=waiting(600, 1))["stateMachineArn"]
            t0 = time.monotonic()
            arn = sfn.start_execution(stateMachineArn=sm)["executionArn"]
            d = wait_done(sfn, arn, timeout=10)
            self.assertLess(time.monotonic() - t0, 5)
            self.assert_timed_out(sfn, arn, d, 1.0)
        finally:
            emu.cleanup()

    def test_kill_9_mid_wait_keeps_the_deadline_of_the_start(self):
        emu = harness.Emulator("--time", "real")
        emu.start()
        try:
            sfn = emu.client("stepfunctions")
            sm = sfn.create_state_machine(name="durable-timeout", roleArn=ROLE,
                                          definition=waiting(600, 3))["stateMachineArn"]
            arn = sfn.start_execution(stateMachineArn=sm)["executionArn"]
            deadline = time.monotonic() + 20
            while "WaitStateEntered" not in [e["type"] for e in history(sfn, arn)]:
                self.assertLess(time.monotonic(), deadline, "the Wait never began")
            emu.stop(sig=signal.SIGKILL)
            emu.start(fresh=False)
            sfn = emu.client("stepfunctions")
            d = wait_done(sfn, arn, timeout=20)
            ev = self.assert_timed_out(sfn, arn, d, 3.0)
            self.assertEqual([e["type"] for e in ev].count("WaitStateEntered"), 1)
        finally:
            emu.cleanup()


if __name__ == "__main__":
    sys.exit(harness.run(__name__))
