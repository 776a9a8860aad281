#!/usr/bin/env python3
"""Lambda compatibility, process host: `--lambda-host process` runs the function's
real bootstrap (tests/lambda/Echo.c linked with backend/runtime) as child processes
against the emulator's own Runtime API, and the Invoke API answers as AWS does."""
import base64
import concurrent.futures
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

FUNCTIONS = os.path.join(os.path.dirname(harness.BIN), "tests", "functions")
BOOTSTRAP = os.path.join(FUNCTIONS, "Echo", "bootstrap")
NAME = "shoplocal-echo"


def start(*extra):
    return harness.Emulator("--template", "tests/lambda/template.yaml", "--functions", FUNCTIONS,
                            "--lambda-host", "process", *extra).start()


def log_text(emu):
    path = os.path.join(emu.data, "logs", "lambda", NAME + ".log")
    with open(path) as f:
        return f.read()


def worker_starts(emu):
    return len(re.findall(r"^INIT_START ", log_text(emu), re.M))


def bootstraps(pid):
    """The bootstrap processes that are children of pid, from /proc."""
    kids = []
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                kids += [int(k) for k in f.read().split()]
        except OSError:
            pass
    found = []
    for k in kids:
        try:
            if os.readlink("/proc/%d/exe" % k) == os.path.realpath(BOOTSTRAP):
                found.append(k)
        except OSError:
            pass
    return found


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class ProcessHostInvoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = start()
        cls.lam = cls.emu.client("lambda")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()  # requires exit 0 on SIGTERM, with workers still running

    def invoke(self, payload, **kw):
        r = self.lam.invoke(FunctionName=NAME, Payload=json.dumps(payload).encode(), **kw)
        return r, json.loads(r["Payload"].read() or b"null")

    def test_request_response_returns_the_result_and_context_from_the_bootstrap(self):
        r, body = self.invoke({"hello": "world"})
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["ExecutedVersion"], "$LATEST")
        self.assertNotIn("FunctionError", r)
        self.assertEqual(body["event"], {"hello": "world"})
        self.assertEqual(body["functionName"], NAME)
        self.assertEqual(body["functionArn"],
                         "arn:aws:lambda:us-east-1:000000000000:function:shoplocal-echo")
        self.assertEqual(body["greeting"], "hello")
        self.assertEqual(body["endpoint"], self.emu.aws)
        self.assertTrue(body["deadlineInFuture"])
        self.assertTrue(body["traceId"].startswith("Root=1-"))
        self.assertEqual(len(body["requestId"]), 36)
        self.assertTrue(bootstraps(self.emu.proc.pid), "no bootstrap child process")

    def test_a_warm_worker_is_reused(self):
        self.invoke({"warm": 1})
        before = worker_starts(self.emu)
        for i in range(3):
            r, body = self.invoke({"n": i})
            self.assertEqual(body["event"], {"n": i})
        self.assertEqual(worker_starts(self.emu), before)

    def test_function_error_is_unhandled_with_the_posted_error_body(self):
        r, body = self.invoke({"action": "error"})
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(body, {"errorMessage": "told to fail", "errorType": "EchoError",
                                "stackTrace": []})

    def test_timeout_is_sandbox_timedout_and_the_next_invocation_gets_a_fresh_worker(self):
        self.invoke({"warm": 1})
        before = worker_starts(self.emu)
        t0 = time.monotonic()
        r, body = self.invoke({"action": "sleep", "ms": 3000})
        self.assertLess(time.monotonic() - t0, 2.5, "the timeout was not enforced")
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(body["errorType"], "Sandbox.Timedout")
        self.assertRegex(body["errorMessage"],
                         r"^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$")
        r, body = self.invoke({"after": "timeout"})
        self.assertNotIn("FunctionError", r)
        self.assertEqual(body["event"], {"after": "timeout"})
        self.assertEqual(worker_starts(self.emu), before + 1)

    def test_a_crashing_bootstrap_is_runtime_exit_error_and_the_next_invocation_works(self):
        r, body = self.invoke({"action": "crash"})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(body["errorType"], "Runtime.ExitError")
        self.assertRegex(body["errorMessage"],
                         r"^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: "
                         r"signal: aborted$")
        self.assertEqual(body["stackTrace"], [])
        self.assertIn(body["errorMessage"], log_text(self.emu))
        r, body = self.invoke({"after": "crash"})
        self.assertNotIn("FunctionError", r)
        self.assertEqual(body["event"], {"after": "crash"})

    def test_the_functions_own_log_lines_and_start_end_report_are_logged(self):
        r, body = self.invoke({"action": "log"}, LogType="Tail")
        rid = body["requestId"]
        tail = base64.b64decode(r["LogResult"]).decode()
        lines = tail.strip().split("\n")
        self.assertEqual(lines[0], "START RequestId: %s Version: $LATEST" % rid, tail)
        self.assertEqual(lines[-2], "END RequestId: %s" % rid, tail)
        self.assertTrue(lines[-1].startswith("REPORT RequestId: %s\tDuration: " % rid), tail)
        own = [json.loads(l) for l in lines if l.startswith("{")]
        self.assertEqual(len(own), 1, tail)
        self.assertEqual(own[0]["message"], "hello from echo")
        self.assertEqual(own[0]["level"], "INFO")
        self.assertEqual(own[0]["requestId"], rid)
        self.assertEqual(own[0]["traceId"], body["traceId"])
        log = log_text(self.emu)
        self.assertIn("START RequestId: %s" % rid, log)
        self.assertIn('"message":"hello from echo"', log)
        self.assertIn("REPORT RequestId: %s" % rid, log)

    def test_event_invocation_runs_on_a_worker(self):
        r = self.lam.invoke(FunctionName=NAME, InvocationType="Event",
                            Payload=json.dumps({"action": "log"}).encode())
        self.assertEqual(r["StatusCode"], 202)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if log_text(self.emu).count('"message":"hello from echo"') >= 1:
                break
            time.sleep(0.05)
        self.assertIn('"message":"hello from echo"', log_text(self.emu))

    def test_an_event_that_is_not_json_is_the_runtimes_unmarshal_error(self):
        r = self.lam.invoke(FunctionName=NAME, Payload=b"{not json")
        self.assertEqual(r["FunctionError"], "Unhandled")
        body = json.loads(r["Payload"].read())
        self.assertEqual(body["errorType"], "Runtime.UnmarshalError")


class ProcessHostRuntimeApi(unittest.TestCase):
    """The worker's own Runtime API, found in its environment as the runtime finds it."""

    @classmethod
    def setUpClass(cls):
        cls.emu = start()
        cls.lam = cls.emu.client("lambda")
        cls.lam.invoke(FunctionName=NAME, Payload=b"{}")
        pid = bootstraps(cls.emu.proc.pid)[0]
        with open("/proc/%d/environ" % pid, "rb") as f:
            cls.env = dict(kv.decode().split("=", 1) for kv in f.read().split(b"\0") if kv)

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    def post(self, path, body=b"{}"):
        import urllib.error
        import urllib.request
        url = "http://%s/2018-06-01/runtime/%s" % (self.env["AWS_LAMBDA_RUNTIME_API"], path)
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_the_bootstrap_gets_the_lambda_environment(self):
        self.assertRegex(self.env["AWS_LAMBDA_RUNTIME_API"], r"^127\.0\.0\.1:\d+$")
        self.assertEqual(self.env["_HANDLER"], "bootstrap")
        self.assertEqual(self.env["LAMBDA_TASK_ROOT"], os.path.dirname(os.path.realpath(BOOTSTRAP)))
        self.assertEqual(self.env["AWS_LAMBDA_FUNCTION_TIMEOUT"], "1")
        self.assertEqual(self.env["AWS_LAMBDA_FUNCTION_NAME"], NAME)
        self.assertEqual(self.env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128")
        self.assertEqual(self.env["AWS_ENDPOINT_URL"], self.emu.aws)
        self.assertEqual(self.env["GREETING"], "hello")
        self.assertEqual(self.env["AWS_REGION"], "us-east-1")

    def test_an_unknown_request_id_is_400_invalid_request_id(self):
        for what in ("response", "error"):
            status, body = self.post("invocation/00000000-0000-0000-0000-000000000000/" + what)
            self.assertEqual(status, 400)
            self.assertEqual(body, {"errorMessage": "Invalid request ID",
                                    "errorType": "InvalidRequestID"})

    def test_an_unknown_path_is_404(self):
        status, _ = self.post("invocation/x/nope")
        self.assertEqual(status, 404)


class ProcessHostMissingBootstrap(unittest.TestCase):
    def test_a_function_without_a_bootstrap_is_runtime_invalid_entrypoint(self):
        import tempfile
        empty = tempfile.mkdtemp(prefix="shoplocal-nofn-")
        emu = harness.Emulator("--template", "tests/lambda/template.yaml", "--functions", empty,
                               "--lambda-host", "process").start()
        try:
            r = emu.client("lambda").invoke(FunctionName=NAME, Payload=b"{}")
            self.assertEqual(r["FunctionError"], "Unhandled")
            body = json.loads(r["Payload"].read())
            self.assertEqual(body["errorType"], "Runtime.InvalidEntrypoint")
            self.assertRegex(body["errorMessage"],
                             r"^RequestId: [0-9a-f-]{36} Error: Couldn't find valid bootstrap\(s\): "
                             r"\[.*/Echo/bootstrap\]$")
        finally:
            emu.cleanup()
            os.rmdir(empty)


class ProcessHostConcurrency(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = start("--threads", "8")
        cls.lam = cls.emu.client("lambda")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    def test_eight_parallel_invocations_all_succeed_on_several_workers(self):
        def one(i):
            r = self.lam.invoke(FunctionName=NAME,
                                Payload=json.dumps({"action": "sleep", "ms": 300, "i": i}).encode())
            return r.get("FunctionError"), json.loads(r["Payload"].read())

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(one, range(8)))
        for i, (error, body) in enumerate(results):
            self.assertIsNone(error, body)
            self.assertEqual(body["event"]["i"], i)
        self.assertEqual(len({body["requestId"] for _, body in results}), 8)
        started = worker_starts(self.emu)
        self.assertGreater(started, 1)
        self.assertLessEqual(started, 8)
        self.assertEqual(len(bootstraps(self.emu.proc.pid)), started)


class ProcessHostShutdown(unittest.TestCase):
    def test_sigterm_stops_every_worker_and_exits_0(self):
        emu = start()
        try:
            lam = emu.client("lambda")
            r = lam.invoke(FunctionName=NAME, Payload=b"{}")
            self.assertNotIn("FunctionError", r)
            workers = bootstraps(emu.proc.pid)
            self.assertEqual(len(workers), 1)
            self.assertEqual(emu.stop(), 0)
            for pid in workers:
                self.assertFalse(alive(pid), "bootstrap %d outlived the emulator" % pid)
        finally:
            emu.cleanup()


if __name__ == "__main__":
    sys.exit(harness.run(__name__))
