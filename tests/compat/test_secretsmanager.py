#!/usr/bin/env python3
"""Secrets Manager compatibility: boto3's secretsmanager client and the AWS CLI
against the emulator — every operation, its errors as AWS shapes them, the
template's secret (ARN stable across restarts), and values kept out of logs."""
import json
import os
import subprocess
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

from botocore.exceptions import ClientError, ParamValidationError  # noqa: E402

STRIPE = "shoplocal/stripe"


def code(e):
    return e.response["Error"]["Code"], e.response["Error"]["Message"]


class SecretsManager(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = harness.Emulator("--log-level", "debug").start()
        cls.sm = cls.emu.client("secretsmanager")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    def name(self):
        return "test/%s" % uuid.uuid4().hex[:12]

    def cli(self, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        r = subprocess.run(["aws", "--endpoint-url", self.emu.aws, "secretsmanager"] + list(args),
                           capture_output=True, text=True, env=env, timeout=60)
        return r.returncode, r.stdout, r.stderr

    # --- the template's secret ---------------------------------------------------
    def test_template_secret_has_its_value_and_a_six_character_suffix(self):
        r = self.sm.get_secret_value(SecretId=STRIPE)
        self.assertEqual(json.loads(r["SecretString"]), {"secretKey": "sk_test_placeholder"})
        self.assertEqual(r["Name"], STRIPE)
        prefix = "arn:aws:secretsmanager:us-east-1:000000000000:secret:%s-" % STRIPE
        self.assertTrue(r["ARN"].startswith(prefix), r["ARN"])
        self.assertEqual(len(r["ARN"]) - len(prefix), 6)
        self.assertEqual(r["VersionStages"], ["AWSCURRENT"])
        self.assertEqual(len(r["VersionId"]), 36)
        self.assertIn("CreatedDate", r)
        d = self.sm.describe_secret(SecretId=r["ARN"])
        self.assertEqual(d["Description"],
                         "Stripe API key. Placeholder - set the real value with put-secret-value after deploy.")

    def test_lookup_by_name_full_arn_and_partial_arn(self):
        arn = self.sm.describe_secret(SecretId=STRIPE)["ARN"]
        partial = arn[:-7]
        for sid in (STRIPE, arn, partial):
            self.assertEqual(self.sm.get_secret_value(SecretId=sid)["ARN"], arn, sid)
        for sid in (arn[:-1], partial + "-", "shoplocal/strip", arn.replace("us-east-1", "eu-west-1")):
            with self.assertRaises(ClientError, msg=sid) as cm:
                self.sm.get_secret_value(SecretId=sid)
            self.assertEqual(code(cm.exception), ("ResourceNotFoundException",
                                                  "Secrets Manager can't find the specified secret."))

    # --- CreateSecret ------------------------------------------------------------
    def test_create_then_get_and_describe(self):
        n = self.name()
        c = self.sm.create_secret(Name=n, SecretString="s3cr3t", Description="d",
                                  Tags=[{"Key": "team", "Value": "shop"}])
        self.assertTrue(c["ARN"].startswith("arn:aws:secretsmanager:us-east-1:000000000000:secret:%s-" % n))
        self.assertEqual(c["Name"], n)
        g = self.sm.get_secret_value(SecretId=n)
        self.assertEqual(g["SecretString"], "s3cr3t")
        self.assertEqual(g["VersionId"], c["VersionId"])
        d = self.sm.describe_secret(SecretId=c["ARN"])
        self.assertEqual(d["Tags"], [{"Key": "team", "Value": "shop"}])
        self.assertEqual(d["VersionIdsToStages"], {c["VersionId"]: ["AWSCURRENT"]})
        self.assertIn("LastAccessedDate", d)
        self.assertNotIn("RotationEnabled", d)

    def test_binary_secret_round_trips(self):
        n = self.name()
        self.sm.create_secret(Name=n, SecretBinary=b"\x00\x01binary\xff")
        g = self.sm.get_secret_value(SecretId=n)
        self.assertEqual(g["SecretBinary"], b"\x00\x01binary\xff")
        self.assertNotIn("SecretString", g)

    def test_create_existing_name_is_resource_exists(self):
        n = self.name()
        self.sm.create_secret(Name=n, SecretString="a")
        with self.assertRaises(ClientError) as cm:
            self.sm.create_secret(Name=n, SecretString="b")
        self.assertEqual(code(cm.exception), ("ResourceExistsException",
                                              "The operation failed because the secret %s already exists." % n))
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)

    def test_create_retried_with_the_same_token_is_idempotent(self):
        n, tok = self.name(), str(uuid.uuid4())
        a = self.sm.create_secret(Name=n, SecretString="v", ClientRequestToken=tok)
        b = self.sm.create_secret(Name=n, SecretString="v", ClientRequestToken=tok)
        self.assertEqual(a["ARN"], b["ARN"])
        self.assertEqual(b["VersionId"], tok)

    def test_create_without_a_value_has_no_current_version(self):
        n = self.name()
        c = self.sm.create_secret(Name=n)
        self.assertNotIn("VersionId", c)
        with self.assertRaises(ClientError) as cm:
            self.sm.get_secret_value(SecretId=n)
        self.assertEqual(code(cm.exception), (
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"))

    def test_create_refuses_both_values_and_bad_names(self):
        with self.assertRaises(ClientError) as cm:
            self.sm.create_secret(Name=self.name(), SecretString="a", SecretBinary=b"b")
        self.assertEqual(code(cm.exception)[0], "InvalidParameterException")
        self.assertIn("both a binary secret value and a string secret value", code(cm.exception)[1])
        with self.assertRaises(ClientError) as cm:
            self.sm.create_secret(Name="bad name!", SecretString="a")
        self.assertEqual(code(cm.exception)[0], "InvalidParameterException")

    # --- PutSecretValue and staging labels -------------------------------------------
    def test_put_moves_awscurrent_and_awsprevious(self):
        n = self.name()
        v1 = self.sm.create_secret(Name=n, SecretString="one")["VersionId"]
        p2 = self.sm.put_secret_value(SecretId=n, SecretString="two")
        self.assertEqual(p2["VersionStages"], ["AWSCURRENT"])
        v2 = p2["VersionId"]
        v3 = self.sm.put_secret_value(SecretId=n, SecretString="three")["VersionId"]
        self.assertEqual(self.sm.get_secret_value(SecretId=n)["SecretString"], "three")
        prev = self.sm.get_secret_value(SecretId=n, VersionStage="AWSPREVIOUS")
        self.assertEqual((prev["SecretString"], prev["VersionId"]), ("two", v2))
        self.assertEqual(self.sm.get_secret_value(SecretId=n, VersionId=v1)["SecretString"], "one")
        self.assertEqual(self.sm.get_secret_value(SecretId=n, VersionId=v1)["VersionStages"], [])
        stages = self.sm.describe_secret(SecretId=n)["VersionIdsToStages"]
        self.assertEqual(stages, {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]})
        self.assertEqual(self.sm.get_secret_value(SecretId=n, VersionId=v3, VersionStage="AWSCURRENT")["SecretString"],
                         "three")

    def test_put_with_explicit_stages_leaves_awscurrent(self):
        n = self.name()
        self.sm.create_secret(Name=n, SecretString="one")
        p = self.sm.put_secret_value(SecretId=n, SecretString="pending", VersionStages=["AWSPENDING"])
        self.assertEqual(p["VersionStages"], ["AWSPENDING"])
        self.assertEqual(self.sm.get_secret_value(SecretId=n)["SecretString"], "one")
        self.assertEqual(self.sm.get_secret_value(SecretId=n, VersionStage="AWSPENDING")["SecretString"], "pending")

    def test_put_same_token_same_value_is_a_no_op_and_another_value_refused(self):
        n, tok = self.name(), str(uuid.uuid4())
        self.sm.create_secret(Name=n, SecretString="one")
        a = self.sm.put_secret_value(SecretId=n, SecretString="two", ClientRequestToken=tok)
        b = self.sm.put_secret_value(SecretId=n, SecretString="two", ClientRequestToken=tok)
        self.assertEqual(a["VersionId"], b["VersionId"])
        self.assertEqual(len(self.sm.describe_secret(SecretId=n)["VersionIdsToStages"]), 2)
        with self.assertRaises(ClientError) as cm:
            self.sm.put_secret_value(SecretId=n, SecretString="other", ClientRequestToken=tok)
        self.assertEqual(code(cm.exception), ("ResourceExistsException",
                                              "You can't modify an existing version, you can only create new versions."))

    def test_put_errors(self):
        with self.assertRaises(ClientError) as cm:
            self.sm.put_secret_value(SecretId="no/such/secret", SecretString="x")
        self.assertEqual(code(cm.exception)[0], "ResourceNotFoundException")
        n = self.name()
        self.sm.create_secret(Name=n, SecretString="one")
        with self.assertRaises(ClientError) as cm:
            self.sm.put_secret_value(SecretId=n)
        self.assertEqual(code(cm.exception)[0], "InvalidRequestException")

    # --- GetSecretValue errors -----------------------------------------------------
    def test_get_errors_for_versions_and_stages(self):
        n = self.name()
        v1 = self.sm.create_secret(Name=n, SecretString="one")["VersionId"]
        with self.assertRaises(ClientError) as cm:
            self.sm.get_secret_value(SecretId=n, VersionStage="AWSPREVIOUS")
        self.assertEqual(code(cm.exception), (
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS"))
        missing = str(uuid.uuid4())
        with self.assertRaises(ClientError) as cm:
            self.sm.get_secret_value(SecretId=n, VersionId=missing)
        self.assertEqual(code(cm.exception), (
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret value for VersionId: %s" % missing))
        with self.assertRaises(ClientError) as cm:
            self.sm.get_secret_value(SecretId=n, VersionId=v1, VersionStage="AWSPENDING")
        self.assertEqual(code(cm.exception)[0], "InvalidRequestException")
        with self.assertRaises(ParamValidationError):
            self.sm.get_secret_value(SecretId="")  # botocore checks min length itself

    # --- ListSecrets ------------------------------------------------------------------
    def test_list_pages_filters_and_sorts(self):
        prefix = "page/%s/" % uuid.uuid4().hex[:8]
        names = [prefix + "%02d" % i for i in range(7)]
        for n in names:
            self.sm.create_secret(Name=n, SecretString="v", Description="paged")
        got, token, pages = [], None, 0
        while True:
            kw = {"MaxResults": 3, "Filters": [{"Key": "name", "Values": [prefix]}]}
            if token:
                kw["NextToken"] = token
            r = self.sm.list_secrets(**kw)
            pages += 1
            self.assertLessEqual(len(r["SecretList"]), 3)
            got += [e["Name"] for e in r["SecretList"]]
            token = r.get("NextToken")
            if not token:
                break
        self.assertEqual(got, names)
        self.assertEqual(pages, 3)
        e = self.sm.list_secrets(Filters=[{"Key": "name", "Values": [names[0]]}])["SecretList"][0]
        for k in ("ARN", "Name", "Description", "LastChangedDate", "SecretVersionsToStages", "CreatedDate"):
            self.assertIn(k, e)
        paginated = [e["Name"] for p in self.sm.get_paginator("list_secrets").paginate(
            Filters=[{"Key": "name", "Values": [prefix]}], PaginationConfig={"PageSize": 2}) for e in p["SecretList"]]
        self.assertEqual(paginated, names)
        desc = self.sm.list_secrets(Filters=[{"Key": "name", "Values": [prefix]}], SortOrder="desc",
                                    SortBy="name")["SecretList"]
        self.assertEqual([e["Name"] for e in desc], names[::-1])
        neg = self.sm.list_secrets(Filters=[{"Key": "name", "Values": [prefix]},
                                            {"Key": "name", "Values": ["!" + prefix + "0"]}])["SecretList"]
        self.assertEqual([e["Name"] for e in neg], [])
        with self.assertRaises(ClientError) as cm:
            self.sm.list_secrets(NextToken="garbage")
        self.assertEqual(code(cm.exception)[0], "InvalidNextTokenException")

    # --- the wire ------------------------------------------------------------------------
    def test_raw_wire_errors(self):
        import urllib.request
        def post(target, body):
            req = urllib.request.Request(self.emu.aws + "/", data=body, method="POST", headers={
                "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1",
                "Authorization": "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0"})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    return r.status, dict(r.headers), json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, dict(e.headers), json.loads(e.read())
        s, h, b = post("secretsmanager.GetSecretValue", b"{not json")
        self.assertEqual((s, b["__type"]), (400, "SerializationException"))
        s, h, b = post("secretsmanager.NoSuchOp", b"{}")
        self.assertEqual((s, b["__type"]), (400, "UnknownOperationException"))
        s, h, b = post("secretsmanager.GetSecretValue", b"{}")
        self.assertEqual((s, b["__type"]), (400, "ValidationException"))
        s, h, b = post("secretsmanager.GetSecretValue", json.dumps({"SecretId": "nope"}).encode())
        self.assertEqual(b, {"__type": "ResourceNotFoundException",
                             "Message": "Secrets Manager can't find the specified secret."})
        self.assertEqual(h["Content-Type"], "application/x-amz-json-1.1")
        self.assertIn("x-amzn-RequestId", h)
        s, h, b = post("secretsmanager.GetSecretValue", json.dumps({"SecretId": ["x"]}).encode())
        self.assertEqual((s, b["__type"]), (400, "SerializationException"))
        s, h, b = post("secretsmanager.ListSecrets", json.dumps({"MaxResults": 1000}).encode())
        self.assertEqual((s, b["__type"]), (400, "ValidationException"))
        big = json.dumps({"Name": self.name(), "SecretString": "x" * 65537}).encode()
        s, h, b = post("secretsmanager.CreateSecret", big)
        self.assertEqual((s, b["__type"]), (400, "ValidationException"))

    def test_answers_carry_only_the_models_members(self):
        """botocore drops unknown keys; read the raw answers and check every key
        against the service model's output shapes."""
        import urllib.request
        import botocore.session
        model = botocore.session.get_session().get_service_model("secretsmanager")

        def post(op, body):
            req = urllib.request.Request(self.emu.aws + "/", data=json.dumps(body).encode(), method="POST",
                                         headers={"X-Amz-Target": "secretsmanager." + op,
                                                  "Content-Type": "application/x-amz-json-1.1"})
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())

        n = self.name()
        answers = {
            "CreateSecret": post("CreateSecret", {"Name": n, "SecretString": "v", "Description": "d",
                                                  "Tags": [{"Key": "k", "Value": "v"}],
                                                  "ClientRequestToken": str(uuid.uuid4())}),
            "PutSecretValue": post("PutSecretValue", {"SecretId": n, "SecretString": "w",
                                                      "ClientRequestToken": str(uuid.uuid4())}),
            "GetSecretValue": post("GetSecretValue", {"SecretId": n}),
            "DescribeSecret": post("DescribeSecret", {"SecretId": n}),
            "ListSecrets": post("ListSecrets", {"Filters": [{"Key": "name", "Values": [n]}]}),
        }
        for op, answer in answers.items():
            members = set(model.operation_model(op).output_shape.members)
            self.assertLessEqual(set(answer), members, op)
        entry = model.shape_for("SecretListEntry").members
        self.assertEqual(len(answers["ListSecrets"]["SecretList"]), 1)
        self.assertLessEqual(set(answers["ListSecrets"]["SecretList"][0]), set(entry))
        self.assertEqual(set(answers["DescribeSecret"]) - {"Description", "Tags", "LastAccessedDate"},
                         {"ARN", "Name", "LastChangedDate", "VersionIdsToStages", "CreatedDate"})

    def test_faults_answer_before_any_work(self):
        import urllib.request
        rule = {"service": "secretsmanager", "operation": "GetSecretValue",
                "error": "ThrottlingException", "message": "Rate exceeded", "status": 400, "count": 1}
        req = urllib.request.Request(self.emu.aws + "/_shoplocal/faults", data=json.dumps(rule).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()
        with self.assertRaises(ClientError) as cm:
            self.sm.get_secret_value(SecretId=STRIPE)
        self.assertEqual(code(cm.exception), ("ThrottlingException", "Rate exceeded"))
        self.assertEqual(self.sm.get_secret_value(SecretId=STRIPE)["Name"], STRIPE)

    # --- the AWS CLI ---------------------------------------------------------------------
    def test_cli_every_operation(self):
        n = self.name()
        rc, out, err = self.cli("create-secret", "--name", n, "--secret-string", '{"k":"v"}')
        self.assertEqual(rc, 0, err)
        arn = json.loads(out)["ARN"]
        rc, out, err = self.cli("put-secret-value", "--secret-id", arn, "--secret-string", "v2")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.cli("get-secret-value", "--secret-id", n, "--query", "SecretString", "--output", "text")
        self.assertEqual((rc, out.strip()), (0, "v2"), err)
        rc, out, err = self.cli("get-secret-value", "--secret-id", n, "--version-stage", "AWSPREVIOUS",
                                "--query", "SecretString", "--output", "text")
        self.assertEqual(out.strip(), '{"k":"v"}', err)
        rc, out, err = self.cli("describe-secret", "--secret-id", n)
        self.assertEqual(json.loads(out)["ARN"], arn)
        rc, out, err = self.cli("list-secrets", "--filters", "Key=name,Values=%s" % n)
        self.assertEqual([e["Name"] for e in json.loads(out)["SecretList"]], [n])
        rc, out, err = self.cli("get-secret-value", "--secret-id", "does/not/exist")
        self.assertNotEqual(rc, 0)  # 255 from CLI v1, 254 from v2
        self.assertIn("ResourceNotFoundException", err)
        self.assertIn("Secrets Manager can't find the specified secret.", err)

    def test_values_never_reach_the_logs(self):
        n, value = self.name(), "never-log-me-%s" % uuid.uuid4().hex
        self.sm.create_secret(Name=n, SecretString=value)
        self.sm.put_secret_value(SecretId=n, SecretString=value + "-2")
        self.sm.get_secret_value(SecretId=n)
        with self.assertRaises(ClientError):
            self.sm.create_secret(Name=n, SecretString=value)
        texts = [open(self.emu.stderr.name, errors="replace").read()]
        for root, _, files in os.walk(self.emu.data):
            for f in files:
                if f.endswith(".log"):
                    texts.append(open(os.path.join(root, f), errors="replace").read())
        self.assertTrue(any("secretsmanager" in t for t in texts), "debug logging is on")
        for t in texts:
            self.assertNotIn(value, t)


class SecretsManagerRestart(unittest.TestCase):
    def test_arns_and_values_survive_a_restart(self):
        emu = harness.Emulator()
        emu.start()
        try:
            sm = emu.client("secretsmanager")
            arn = sm.describe_secret(SecretId=STRIPE)["ARN"]
            sm.put_secret_value(SecretId=STRIPE, SecretString='{"secretKey":"sk_test_real"}')
            made = sm.create_secret(Name="kept/one", SecretString="kept")["ARN"]
            emu.stop()
            emu.start(fresh=False)
            sm = emu.client("secretsmanager")
            self.assertEqual(sm.describe_secret(SecretId=STRIPE)["ARN"], arn)
            self.assertEqual(json.loads(sm.get_secret_value(SecretId=STRIPE)["SecretString"]),
                             {"secretKey": "sk_test_real"})
            self.assertEqual(sm.get_secret_value(SecretId="kept/one")["ARN"], made)
            emu.stop()
            emu.start(fresh=True)
            sm = emu.client("secretsmanager")
            self.assertEqual(sm.describe_secret(SecretId=STRIPE)["ARN"], arn,
                             "the template's ARN is derived, the same in a fresh data folder")
            with self.assertRaises(ClientError):
                sm.describe_secret(SecretId="kept/one")
        finally:
            emu.cleanup()


if __name__ == "__main__":
    sys.exit(harness.run(__name__))
