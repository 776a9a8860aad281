#!/usr/bin/env python3
"""`sam build` with BuildMethod: makefile runs `make build-<LogicalId>
ARTIFACTS_DIR=...` in a copy of CodeUri (backend/). Do the same with the Echo
test function standing in as a handler, and run the bootstrap it makes."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class SamMakefile(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="shoplocal-sam-")
        self.src = os.path.join(self.tmp, "backend")
        shutil.copytree(os.path.join(harness.ROOT, "backend"), self.src)
        os.makedirs(os.path.join(self.src, "handlers"), exist_ok=True)
        shutil.copy(os.path.join(harness.ROOT, "tests", "lambda", "Echo.c"),
                    os.path.join(self.src, "handlers", "EchoFunction.c"))
        self.art = os.path.join(self.tmp, "artifacts")
        os.makedirs(self.art)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_build_target_makes_a_bootstrap(self):
        r = subprocess.run(["make", "-s", "build-EchoFunction", "ARTIFACTS_DIR=" + self.art],
                           cwd=self.src, capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        boot = os.path.join(self.art, "bootstrap")
        self.assertTrue(os.access(boot, os.X_OK))
        # Outside Lambda it has no Runtime API to poll: a clear failure, exit 1.
        env = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_RUNTIME_API"}
        r = subprocess.run([boot], env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("AWS_LAMBDA_RUNTIME_API", r.stdout + r.stderr)

    def test_unknown_function_fails_with_a_clear_message(self):
        r = subprocess.run(["make", "-s", "build-NoSuchFunction", "ARTIFACTS_DIR=" + self.art],
                           cwd=self.src, capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("expected handlers/NoSuchFunction.c", r.stdout + r.stderr)


if __name__ == "__main__":
    sys.exit(harness.run(__name__))
