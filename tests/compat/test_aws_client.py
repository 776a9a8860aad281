#!/usr/bin/env python3
"""backend/lib's AWS client against real peers:

- inside a Lambda (tests/lambda/AwsClientProbe.c, both hosts) against the
  emulator's DynamoDB and Secrets Manager: PutItem, GetItem, a conditional
  failure, a cancelled TransactWriteItems with its reasons, GetSecretValue and
  its cache, and fault rules proving throttles are retried (3 attempts) and
  then surface;
- its SigV4 against botocore's signer (SigV4Auth, S3SigV4QueryAuth) on the
  same requests, and every request it sends checked by a Python server that
  re-signs what arrived with botocore.
"""
import datetime
import http.server
import json
import os
import sys
import threading
import unittest
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

import botocore.auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

FUNCTIONS = os.path.join(os.path.dirname(harness.BIN), "tests", "functions")
TEMPLATE = "tests/lambda/template-awsclient.yaml"
PROBE = "shoplocal-aws-client-probe"
TABLE = "shoplocal-probe"
DDB = "DynamoDB_20120810."


def invoke(lam, event):
    r = lam.invoke(FunctionName=PROBE, Payload=json.dumps(event).encode())
    body = json.loads(r["Payload"].read() or b"null")
    if r.get("FunctionError"):
        raise AssertionError("probe failed: %s" % body)
    return body


def ddb(op, body):
    return {"service": "dynamodb", "target": DDB + op, "body": body}


def faults(emu, rule=None, clear=False):
    import urllib.request
    if clear:
        req = urllib.request.Request(emu.aws + "/_shoplocal/faults", method="DELETE")
    elif rule:
        req = urllib.request.Request(emu.aws + "/_shoplocal/faults", data=json.dumps(rule).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    else:
        req = urllib.request.Request(emu.aws + "/_shoplocal/faults")
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read()
    doc = json.loads(text) if text else None
    return doc.get("rules", doc) if isinstance(doc, dict) and not rule else doc


class ProbeAgainstTheEmulator:
    """Mixed into one TestCase per Lambda host."""
    HOST = "inprocess"

    @classmethod
    def setUpClass(cls):
        cls.emu = harness.Emulator("--template", TEMPLATE, "--functions", FUNCTIONS,
                                   "--lambda-host", cls.HOST, "--threads", "4").start()
        cls.lam = cls.emu.client("lambda")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    def tearDown(self):
        faults(self.emu, clear=True)

    def calls(self, *calls):
        return invoke(self.lam, {"action": "calls", "calls": list(calls)})

    def test_put_get_conditional_failure_and_cancelled_transaction(self):
        pk = "order#%s" % self.HOST
        item = {"PK": {"S": pk}, "total": {"N": "1250"}, "status": {"S": "PENDING"}}
        r = self.calls(
            ddb("PutItem", {"TableName": TABLE, "Item": item}),
            ddb("GetItem", {"TableName": TABLE, "Key": {"PK": {"S": pk}}, "ConsistentRead": True}),
            ddb("PutItem", {"TableName": TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}),
            ddb("TransactWriteItems", {"TransactItems": [
                {"Put": {"TableName": TABLE, "Item": {"PK": {"S": pk + "#2"}}}},
                {"ConditionCheck": {"TableName": TABLE, "Key": {"PK": {"S": pk}},
                                    "ConditionExpression": "#s = :c",
                                    "ExpressionAttributeNames": {"#s": "status"},
                                    "ExpressionAttributeValues": {":c": {"S": "CONFIRMED"}}}}]}),
            ddb("GetItem", {"TableName": TABLE, "Key": {"PK": {"S": pk + "#2"}}}),
            ddb("GetItem", {"TableName": "no-such-table", "Key": {"PK": {"S": "x"}}}),
        )
        self.assertTrue(r[0]["ok"], r[0])
        self.assertEqual(r[0]["out"], {})
        self.assertEqual(r[1]["out"]["Item"], item)
        self.assertFalse(r[2]["ok"])
        self.assertEqual(r[2]["error"], {"status": 400, "type": "ConditionalCheckFailedException",
                                         "message": "The conditional request failed"})
        self.assertFalse(r[3]["ok"])
        self.assertEqual(r[3]["error"]["type"], "TransactionCanceledException")
        self.assertIn("[None, ConditionalCheckFailed]", r[3]["error"]["message"])
        self.assertEqual([c["Code"] for c in r[3]["out"]["CancellationReasons"]],
                         ["None", "ConditionalCheckFailed"])
        self.assertEqual(r[4]["out"], {}, "the cancelled transaction wrote nothing")
        self.assertEqual(r[5]["error"]["type"], "ResourceNotFoundException")

    def test_secret_string_and_its_cache(self):
        sm = self.emu.client("secretsmanager")
        arn = sm.describe_secret(SecretId="probe/stripe")["ARN"]
        r = invoke(self.lam, {"action": "secret", "id": arn, "ttl_ms": 60000, "times": 1})
        self.assertEqual(json.loads(r[0]["value"]), {"secretKey": "sk_test_probe"})
        # Within one client: cached for the TTL (no second GetSecretValue reaches the
        # service — a fault rule on it would fire), asked again with ttl 0.
        faults(self.emu, {"service": "secretsmanager", "operation": "GetSecretValue",
                          "error": "AccessDeniedException", "status": 400, "count": 100})
        r = invoke(self.lam, {"action": "secret", "id": "probe/stripe", "ttl_ms": 60000, "times": 3})
        self.assertEqual(r[0]["error"]["type"], "AccessDeniedException")
        faults(self.emu, clear=True)
        r = invoke(self.lam, {"action": "secret", "id": "probe/stripe", "ttl_ms": 60000, "times": 3})
        self.assertEqual([x.get("value") for x in r], ['{"secretKey":"sk_test_probe"}'] * 3)
        r = invoke(self.lam, {"action": "secret", "id": "probe/missing", "ttl_ms": 0, "times": 1})
        self.assertEqual(r[0]["error"], {"status": 400, "type": "ResourceNotFoundException",
                                         "message": "Secrets Manager can't find the specified secret."})

    def test_throttles_are_retried_then_surface(self):
        key = {"TableName": TABLE, "Key": {"PK": {"S": "retry"}}}
        faults(self.emu, {"service": "dynamodb", "operation": "GetItem", "error":
                          "ProvisionedThroughputExceededException", "status": 400, "count": 2})
        r = self.calls(ddb("GetItem", key))
        self.assertTrue(r[0]["ok"], r)
        rules = faults(self.emu)
        self.assertEqual([x["fired"] for x in rules], [2], rules)
        faults(self.emu, clear=True)
        faults(self.emu, {"service": "dynamodb", "operation": "GetItem", "error":
                          "ThrottlingException", "message": "Rate exceeded", "status": 400, "count": 10})
        r = self.calls(ddb("GetItem", key))
        self.assertFalse(r[0]["ok"])
        self.assertEqual(r[0]["error"]["type"], "ThrottlingException")
        self.assertEqual(r[0]["error"]["message"], "Rate exceeded")
        self.assertEqual([x["fired"] for x in faults(self.emu)], [3], "3 attempts in all")

    def test_5xx_is_retried_and_client_errors_are_not(self):
        key = {"TableName": TABLE, "Key": {"PK": {"S": "retry"}}}
        faults(self.emu, {"service": "dynamodb", "operation": "GetItem", "error": "InternalServerError",
                          "status": 500, "count": 1})
        r = self.calls(ddb("GetItem", key))
        self.assertTrue(r[0]["ok"], r)
        faults(self.emu, clear=True)
        faults(self.emu, {"service": "dynamodb", "operation": "GetItem", "error": "ValidationException",
                          "status": 400, "count": 10})
        r = self.calls(ddb("GetItem", key))
        self.assertEqual(r[0]["error"]["type"], "ValidationException")
        self.assertEqual([x["fired"] for x in faults(self.emu)], [1])

    def test_endpoint_variables_pick_the_service(self):
        # AWS_ENDPOINT_URL_DYNAMODB wins over AWS_ENDPOINT_URL: a dead port for the
        # general one does not matter; a dead port for DynamoDB's does.
        dead = "http://127.0.0.1:9"
        ev = {"action": "calls", "env": {"AWS_ENDPOINT_URL": dead, "AWS_ENDPOINT_URL_DYNAMODB": self.emu.aws},
              "calls": [ddb("GetItem", {"TableName": TABLE, "Key": {"PK": {"S": "x"}}}),
                        {"service": "secretsmanager", "target": "secretsmanager.ListSecrets", "body": {}}]}
        r = invoke(self.lam, ev)
        self.assertTrue(r[0]["ok"], r[0])
        self.assertEqual(r[1]["error"]["type"], "TransportError")
        self.assertEqual(r[1]["error"]["status"], 0)

    def test_presigned_urls(self):
        r = invoke(self.lam, {"action": "presign", "method": "PUT", "bucket": "product-images",
                              "key": "p/1 a.png", "expires": 300, "contentType": "image/png"})
        u = urlsplit(r["url"])
        self.assertEqual("%s://%s" % (u.scheme, u.netloc), self.emu.aws)
        self.assertEqual(u.path, "/product-images/p/1%20a.png")
        q = dict(parse_qsl(u.query))
        self.assertEqual(q["X-Amz-SignedHeaders"], "content-type;host")
        self.assertEqual(q["X-Amz-Security-Token"], "test")
        self.assertEqual(q["X-Amz-Expires"], "300")
        self.assertEqual(q["X-Amz-Signature"], botocore_presign(
            "PUT", r["url"], {"content-type": "image/png"}, "test", "test", "test", "us-east-1", 300))


class InProcess(ProbeAgainstTheEmulator, unittest.TestCase):
    HOST = "inprocess"


class ProcessHost(ProbeAgainstTheEmulator, unittest.TestCase):
    HOST = "process"


# --- botocore as the oracle --------------------------------------------------------

def at(amz_date):
    return mock.patch("botocore.auth.get_current_datetime",
                      return_value=datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ"))


def botocore_presign(method, url, headers, akid, secret, token, region, expires):
    """The X-Amz-Signature botocore's S3SigV4QueryAuth gives the URL's request
    at the URL's own X-Amz-Date."""
    u = urlsplit(url)
    q = dict(parse_qsl(u.query))
    base = "%s://%s%s" % (u.scheme, u.netloc, u.path)
    req = AWSRequest(method=method, url=base, headers=dict(headers))
    with at(q["X-Amz-Date"]):
        botocore.auth.S3SigV4QueryAuth(Credentials(akid, secret, token), "s3", region,
                                       expires=expires).add_auth(req)
    return dict(parse_qsl(urlsplit(req.url).query))["X-Amz-Signature"]


class SignerAgainstBotocore(unittest.TestCase):
    """Sign the same requests with the C signer (through the probe) and botocore."""

    @classmethod
    def setUpClass(cls):
        cls.emu = harness.Emulator("--template", TEMPLATE, "--functions", FUNCTIONS, "--threads", "4").start()
        cls.lam = cls.emu.client("lambda")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    def c_sign(self, **ev):
        ev["action"] = "sign"
        return invoke(self.lam, ev)

    def test_header_signing_matches_sigv4auth(self):
        date = "20250301T101112Z"
        cases = [
            ("POST", "https://dynamodb.us-east-1.amazonaws.com/", "dynamodb", None,
             {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.GetItem"},
             '{"TableName":"t","Key":{"PK":{"S":"a b"}}}'),
            ("POST", "https://secretsmanager.eu-west-1.amazonaws.com/", "secretsmanager", "FwoGZXIvYXdzEBY//tok+en=",
             {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue"},
             '{"SecretId":"shoplocal/stripe"}'),
            # (botocore signs the query as sent; the C signer re-encodes it canonically,
            # so "%7E" would become "~" there: both agree on canonically encoded input.)
            ("GET", "https://example.amazonaws.com/a%20b/c%2Fd/./e//f?b=2&a=1&c=~&d=x%20y&empty=",
             "execute-api", None, {"X-Custom": "  spaced   value  "}, ""),
            ("PUT", "https://states.us-east-1.amazonaws.com/p/%E2%82%AC", "states", None,
             {"Content-Type": "text/plain"}, "\u20ac body"),
        ] + [("GET", "https://example.amazonaws.com" + p, "execute-api", None, {}, "")
             for p in ("/a/.", "/a/b/..", "/../a", "/a/./b/../c/", "//", "/a//b///", "/~user/x-y_z.txt",
                       "/a%2F..%2Fb", "/%7E/%41")] + [
            ("GET", "https://example.amazonaws.com/q?" + q, "execute-api", None, {}, "")
            for q in ("a=1&a=0&b=%20&c=%2B&%E2%82%AC=x", "X-Amz-Meta=1&x-amz-meta=2&_=3", "flag&k=",
                      "list-type=2&prefix=photos%2F2025%2F&max-keys=10")]
        for method, url, service, token, headers, body in cases:
            region = urlsplit(url).netloc.split(".")[1] if service != "execute-api" else "us-east-1"
            u = urlsplit(url)
            hs = dict(headers, Host=u.netloc, **{"X-Amz-Date": date})
            if token:
                hs["X-Amz-Security-Token"] = token
            req = AWSRequest(method=method, url=url, data=body.encode(), headers=dict(hs))
            creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
            with at(date):
                botocore.auth.SigV4Auth(creds, service, region).add_auth(req)
            c = self.c_sign(method=method, path=u.path, query=u.query, service=service, region=region,
                            amzDate=date, accessKey="AKIDEXAMPLE",
                            secretKey="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token=token,
                            headers=[[k, v] for k, v in hs.items()], body=body)
            self.assertEqual(c["authorization"], req.headers["Authorization"],
                             "%s %s\nC canonical request:\n%s" % (method, url, c["canonicalRequest"]))

    def test_s3_presigning_matches_s3sigv4queryauth(self):
        date = "20250301T000000Z"
        cases = [("GET", "https://examplebucket.s3.amazonaws.com/test.txt", {}, None, 86400),
                 ("PUT", "https://b.s3.eu-west-1.amazonaws.com/dir/a%20b%2Bc.png", {"content-type": "image/png"},
                  "sess/token+=", 900),
                 ("GET", "http://127.0.0.1:4566/bucket/k%C3%A9y", {}, "test", 60)]
        for method, url, headers, token, expires in cases:
            u = urlsplit(url)
            region = "eu-west-1" if "eu-west-1" in url else "us-east-1"
            req = AWSRequest(method=method, url=url, headers=dict(headers))
            with at(date):
                botocore.auth.S3SigV4QueryAuth(Credentials("AKIAIOSFODNN7EXAMPLE", "secret", token), "s3",
                                               region, expires=expires).add_auth(req)
            want = dict(parse_qsl(urlsplit(req.url).query))
            hs = [[k, v] for k, v in headers.items()] + [["host", u.netloc]]
            c = self.c_sign(method=method, path=u.path, service="s3", region=region, amzDate=date,
                            accessKey="AKIAIOSFODNN7EXAMPLE", secretKey="secret", token=token, headers=hs,
                            unsignedPayload=True, expires=expires)
            got = dict(parse_qsl(c["query"]))
            self.assertEqual(got, want, url)


class RecordingServer(http.server.BaseHTTPRequestHandler):
    """Answers {} and records each request as it arrived."""
    protocol_version = "HTTP/1.1"
    seen = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        RecordingServer.seen.append((self.command, self.path, list(self.headers.items()), body,
                                     self.client_address[1]))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *a):
        pass


class WireAgainstBotocore(unittest.TestCase):
    """Every request the client sends re-signed by botocore from what arrived."""

    @classmethod
    def setUpClass(cls):
        cls.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingServer)
        cls.thread = threading.Thread(target=cls.srv.serve_forever, daemon=True)
        cls.thread.start()
        cls.emu = harness.Emulator("--template", TEMPLATE, "--functions", FUNCTIONS, "--threads", "4").start()
        cls.lam = cls.emu.client("lambda")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()
        cls.srv.shutdown()
        cls.srv.server_close()

    def test_sent_requests_verify_with_botocore_and_share_a_connection(self):
        RecordingServer.seen.clear()
        url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        ev = {"action": "calls",
              "env": {"AWS_ENDPOINT_URL": url, "AWS_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "AKIDPROBE",
                      "AWS_SECRET_ACCESS_KEY": "probe/secret+key", "AWS_SESSION_TOKEN": "probe-token"},
              "calls": [ddb("PutItem", {"TableName": "t", "Item": {"PK": {"S": "é & ü"}}}),
                        {"service": "states", "target": "AWSStepFunctions.StartExecution",
                         "body": {"stateMachineArn": "arn:aws:states:eu-central-1:0:stateMachine:m", "input": "{}"}},
                        {"service": "secretsmanager", "target": "secretsmanager.GetSecretValue",
                         "body": {"SecretId": "x"}}]}
        r = invoke(self.lam, ev)
        self.assertTrue(all(x["ok"] for x in r), r)
        self.assertEqual(len(RecordingServer.seen), 3)
        services = ["dynamodb", "states", "secretsmanager"]
        types = ["application/x-amz-json-1.0", "application/x-amz-json-1.0", "application/x-amz-json-1.1"]
        for (method, path, headers, body, port), service, ctype in zip(RecordingServer.seen, services, types):
            h = {k.lower(): v for k, v in headers}
            self.assertEqual(h["content-type"], ctype)
            self.assertEqual(h["x-amz-security-token"], "probe-token")
            self.assertEqual(h["amz-sdk-request"], "attempt=1; max=3")
            auth = h["authorization"]
            signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
            req = AWSRequest(method=method, url=url + path, data=body,
                             headers={k: v for k, v in headers if k.lower() in signed})
            with at(h["x-amz-date"]):
                botocore.auth.SigV4Auth(Credentials("AKIDPROBE", "probe/secret+key", "probe-token"),
                                        service, "eu-central-1").add_auth(req)
            self.assertEqual(auth, req.headers["Authorization"], service)
        self.assertEqual(len({s[4] for s in RecordingServer.seen}), 1, "one kept-alive connection")


if __name__ == "__main__":
    sys.exit(harness.run(__name__))
