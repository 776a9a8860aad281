#!/usr/bin/env python3
"""postman/Ecommerce.postman_collection.json run by newman against a freshly
started emulator with the demo data (--seed fixtures/): the report's flow
SignUp -> InitiateAuth -> GetProducts -> Add Item -> Checkout Start, admin
product CRUD, the error cases; every request's pm.test assertions must pass.

newman comes from npm into build/peers (`make deps` installs it; this script
does too when it is missing). The run needs the emulator's Cognito (SignUp,
InitiateAuth) and Step Functions (Checkout Start). A newman that cannot be
installed fails the suite: `make test` promises it runs."""
import json
import os
import subprocess
import sys
import tempfile
import unittest
from urllib.request import urlopen

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

FUNCTIONS = os.path.join(os.path.dirname(harness.BIN), "functions")
PEERS = os.path.join(harness.ROOT, "build", "peers")
NEWMAN = os.path.join(PEERS, "node_modules", ".bin", "newman")
COLLECTION = os.path.join(harness.ROOT, "postman", "Ecommerce.postman_collection.json")
ENVIRONMENT = os.path.join(harness.ROOT, "postman", "local.postman_environment.json")


def ensure_newman():
    if os.access(NEWMAN, os.X_OK):
        return None
    try:
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", PEERS, "newman@6"],
                           capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "npm could not run: %s" % e
    if r.returncode or not os.access(NEWMAN, os.X_OK):
        return "npm could not install newman: %s" % r.stderr[-500:]
    return None


class Postman(unittest.TestCase):
    def test_collection_is_valid_json_with_the_reports_variables_and_tests(self):
        with open(COLLECTION) as f:
            coll = json.load(f)
        names = {v["key"] for v in coll["variable"]}
        for v in ("apiBaseUrl", "region", "cognitoClientId", "username", "password", "email", "productId"):
            self.assertIn(v, names)
        flow = [i["name"] for i in coll["item"][0]["item"]]
        order = [flow.index(n) for n in ("SignUp", "InitiateAuth", "GetProducts", "Add Item", "Checkout Start")]
        self.assertEqual(order, sorted(order))

        def requests(items):
            for i in items:
                if "item" in i:
                    yield from requests(i["item"])
                else:
                    yield i
        for r in requests(coll["item"]):
            tests = [e for e in r.get("event", []) if e["listen"] == "test"]
            self.assertTrue(tests and any("pm.test(" in line for line in tests[0]["script"]["exec"]),
                            "%s has no pm.test assertions" % r["name"])
        with open(ENVIRONMENT) as f:
            env = {v["key"]: v["value"] for v in json.load(f)["values"]}
        self.assertTrue(env["apiBaseUrl"].endswith("/api"))

    def test_newman_runs_the_collection_green(self):
        emu = harness.Emulator("--functions", FUNCTIONS, "--seed", "fixtures/").start()
        try:
            with urlopen(emu.aws + "/_shoplocal/health", timeout=10) as r:
                health = json.load(r)
            why = ensure_newman()
            self.assertIsNone(why, "newman is needed for this suite (`make deps` installs it)")
            res = {r["logicalId"]: r for r in health["stack"]["resources"]}
            report = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
            argv = [NEWMAN, "run", COLLECTION, "-e", ENVIRONMENT, "--bail", "failure",
                    "--env-var", "apiBaseUrl=%s/api" % emu.urls["web"],
                    "--env-var", "cognitoEndpoint=%s" % emu.aws,
                    "--env-var", "awsEndpoint=%s" % emu.aws,
                    "--env-var", "cognitoClientId=%s" % res["UserPoolClient"]["physicalId"],
                    "--env-var", "region=%s" % health["stack"]["region"],
                    "--reporters", "cli,json", "--reporter-json-export", report,
                    "--timeout-request", "30000"]
            r = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=harness.ROOT)
            print(r.stdout[-6000:])
            with open(report) as f:
                stats = json.load(f)["run"]["stats"]
            os.unlink(report)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            self.assertEqual(stats["assertions"]["failed"], 0)
            self.assertGreater(stats["assertions"]["total"], 60)
            self.assertEqual(stats["requests"]["failed"], 0)
        finally:
            emu.cleanup()


if __name__ == "__main__":
    sys.exit(harness.run(__name__))
