#!/usr/bin/env python3
"""Lambda compatibility: the Invoke API with boto3 and the AWS CLI, against the
in-process host running tests/lambda/Echo.c from tests/lambda/template.yaml."""
import base64
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

from botocore.exceptions import ClientError  # noqa: E402

FUNCTIONS = os.path.join(os.path.dirname(harness.BIN), "tests", "functions")


class LambdaInvoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = harness.Emulator("--template", "tests/lambda/template.yaml",
                                   "--functions", FUNCTIONS).start()
        cls.lam = cls.emu.client("lambda")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    def invoke(self, payload, **kw):
        r = self.lam.invoke(FunctionName="shoplocal-echo", Payload=json.dumps(payload).encode(), **kw)
        return r, json.loads(r["Payload"].read() or b"null")

    def test_request_response_returns_the_result_and_context(self):
        r, body = self.invoke({"hello": "world"})
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["ExecutedVersion"], "$LATEST")
        self.assertNotIn("FunctionError", r)
        self.assertEqual(body["event"], {"hello": "world"})
        self.assertEqual(body["functionName"], "shoplocal-echo")
        self.assertEqual(body["functionArn"], "arn:aws:lambda:us-east-1:000000000000:function:shoplocal-echo")
        self.assertEqual(body["greeting"], "hello")
        self.assertEqual(body["endpoint"], self.emu.aws)
        self.assertTrue(body["deadlineInFuture"])
        self.assertTrue(body["traceId"].startswith("Root=1-"))
        self.assertEqual(len(body["requestId"]), 36)

    def test_function_error_is_200_with_x_amz_function_error(self):
        r, body = self.invoke({"action": "error"})
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(body, {"errorMessage": "told to fail", "errorType": "EchoError", "stackTrace": []})

    def test_timeout_is_reported_as_sandbox_timedout(self):
        r, body = self.invoke({"action": "sleep", "ms": 1100})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(body["errorType"], "Sandbox.Timedout")
        self.assertIn("Task timed out after 1.00 seconds", body["errorMessage"])

    def test_log_tail_carries_start_end_report(self):
        r, _ = self.invoke({"action": "log"}, LogType="Tail")
        tail = base64.b64decode(r["LogResult"]).decode()
        lines = tail.strip().split("\n")
        self.assertTrue(lines[0].startswith("START RequestId: "), tail)
        self.assertIn("hello from echo", tail)
        self.assertTrue(lines[-2].startswith("END RequestId: "), tail)
        self.assertTrue(lines[-1].startswith("REPORT RequestId: "), tail)
        self.assertIn("Billed Duration:", lines[-1])
        self.assertIn("Max Memory Used:", lines[-1])
        log = os.path.join(self.emu.data, "logs", "lambda", "shoplocal-echo.log")
        with open(log) as f:
            self.assertIn("hello from echo", f.read())

    def test_event_invocation_is_accepted_with_202(self):
        r = self.lam.invoke(FunctionName="shoplocal-echo", InvocationType="Event", Payload=b"{}")
        self.assertEqual(r["StatusCode"], 202)
        r = self.lam.invoke(FunctionName="shoplocal-echo", InvocationType="DryRun", Payload=b"{}")
        self.assertEqual(r["StatusCode"], 204)

    def test_unknown_function_is_resource_not_found(self):
        with self.assertRaises(ClientError) as e:
            self.lam.invoke(FunctionName="nope", Payload=b"{}")
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFoundException")
        self.assertIn("Function not found", e.exception.response["Error"]["Message"])

    def test_invalid_event_json_is_a_function_error(self):
        r = self.lam.invoke(FunctionName="shoplocal-echo", Payload=b"{not json")
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(json.loads(r["Payload"].read())["errorType"], "Runtime.InvalidEventJson")

    def test_list_and_get_function(self):
        fns = self.lam.list_functions()["Functions"]
        self.assertEqual([f["FunctionName"] for f in fns], ["shoplocal-echo"])
        cfg = self.lam.get_function(FunctionName="shoplocal-echo")["Configuration"]
        self.assertEqual(cfg["Runtime"], "provided.al2023")
        self.assertEqual(cfg["Timeout"], 1)
        self.assertEqual(cfg["Environment"]["Variables"], {"GREETING": "hello"})

    def test_aws_cli_invoke_works(self):
        out = os.path.join(self.emu.data, "out.json")
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_DEFAULT_REGION="us-east-1")
        r = subprocess.run(["aws", "--endpoint-url", self.emu.aws, "lambda", "invoke",
                            "--function-name", "shoplocal-echo", "--payload", '{"via":"cli"}', out],
                           env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["StatusCode"], 200)
        with open(out) as f:
            self.assertEqual(json.load(f)["event"], {"via": "cli"})


if __name__ == "__main__":
    sys.exit(harness.run(__name__))
