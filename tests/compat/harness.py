"""Shared harness for the compatibility suites: a real `shoplocal serve` on free
ports, real AWS clients pointed at it, and a runner whose closing line is
'N passed, N failed'.

Start-up is awaited by reading the ready banner (no sleeps); every process and
folder is cleaned up by the test that made it.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SHOPLOCAL_BIN") or os.path.join(ROOT, "build", "shoplocal")

# Loopback only, whatever the environment says about proxies.
for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
    os.environ.pop(var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)


class Emulator:
    """One shoplocal process with its own data folder."""

    def __init__(self, *extra, data=None):
        self.own_data = data is None
        self.data = data or tempfile.mkdtemp(prefix="shoplocal-compat-")
        self.extra = list(extra)
        self.proc = None
        self.urls = {}

    def start(self, fresh=True, timeout=15.0):
        argv = [BIN, "serve", "--data", self.data, "--web-port", "0", "--aws-port", "0",
                "--stripe-port", "0", "--log-level", "warn"] + self.extra
        if fresh:
            argv.append("--fresh")
        self.stderr = open(os.path.join(tempfile.gettempdir(),
                                        "shoplocal-compat-%d.err" % os.getpid()), "w")
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("shoplocal exited with %s" % self.proc.wait())
            parts = line.split()
            if len(parts) == 2 and parts[0] in ("web", "aws", "stripe"):
                self.urls[parts[0]] = parts[1]
            if parts and parts[0] == "data":
                return self
        raise RuntimeError("shoplocal did not start in time")

    @property
    def aws(self):
        return self.urls["aws"]

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode if self.proc else None
        if self.proc:
            self.proc.stdout.close()
            self.stderr.close()
        self.proc = None
        return code

    def cleanup(self):
        """Stop gracefully and require a clean exit (0): under the sanitizer build a
        leak or an error at shutdown makes it non-zero, and the test that owns the
        emulator fails."""
        running = self.proc is not None
        code = self.stop()
        if self.own_data:
            shutil.rmtree(self.data, ignore_errors=True)
        if running and code != 0:
            with open(self.stderr.name) as f:
                tail = f.read()[-4000:]
            raise AssertionError("shoplocal exited with %s:\n%s" % (code, tail))

    def client(self, service, **kw):
        import boto3
        from botocore.config import Config
        cfg = Config(retries={"total_max_attempts": kw.pop("attempts", 1), "mode": "standard"},
                     connect_timeout=5, read_timeout=30)
        return boto3.client(service, endpoint_url=self.aws, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=cfg, **kw)

    def resource(self, service):
        import boto3
        return boto3.resource(service, endpoint_url=self.aws, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")


def http_raw(where, method, path, body=None, headers=()):
    """One HTTP/1.1 request to where (a urlparse result: hostname, port), sent as
    given (no Accept-Encoding added; Content-Length when there is a body).
    Returns (status, {lower-case header: value}, body bytes)."""
    import http.client
    c = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    c.putrequest(method, path, skip_accept_encoding=True)
    for k, v in headers:
        c.putheader(k, v)
    if body is not None:
        c.putheader("Content-Length", str(len(body)))
    c.endheaders(body)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def run(module_name):
    """Run every TestCase of the module; print unittest's report, then the
    closing line that counts."""
    # A watchdog: a suite that hangs (a server that stopped answering mid-request)
    # fails within ten minutes instead of holding CI until its own limit.
    def on_alarm(signum, frame):
        raise TimeoutError("compat suite %s ran past its 600 s watchdog" % module_name)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(os.environ.get("COMPAT_TIMEOUT", "600")))
    loader = unittest.TestLoader()
    suite = loader.loadTestsFromModule(sys.modules[module_name])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and result.testsRun > 0 else 1
