#!/usr/bin/env python3
"""The HTTP API on the web listener: requests to /api/... reach tests/lambda/Echo.c
as payload format 2.0 events, and its results come back under format 2.0's
response rules and API Gateway's own answers. Plain HTTP (http.client), exactly
what a browser or curl sends."""
import http.client
import json
import os
import sys
import unittest
from urllib.parse import urlparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

JSON = [("Content-Type", "application/json")]
FUNCTIONS = os.path.join(os.path.dirname(harness.BIN), "tests", "functions")


class HttpApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = harness.Emulator("--template", "tests/lambda/template.yaml",
                                   "--functions", FUNCTIONS).start()
        cls.web = urlparse(cls.emu.urls["web"])

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    def request(self, method, path, body=None, headers=()):
        c = http.client.HTTPConnection(self.web.hostname, self.web.port, timeout=30)
        c.putrequest(method, path, skip_accept_encoding=True)
        for k, v in headers:
            c.putheader(k, v)
        if body is not None:
            c.putheader("Content-Length", str(len(body)))
        c.endheaders(body)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.getheaders(), data

    def header(self, headers, name):
        vals = [v for k, v in headers if k.lower() == name.lower()]
        return vals[0] if vals else None

    def test_event_is_payload_format_2_0(self):
        status, headers, body = self.request(
            "GET", "/api/echo/abc%20d?x=1&x=2&y=z%2Bw",
            headers=[("X-Rep", "a"), ("X-Rep", "b"), ("Cookie", "c1=v1; c2=v2"),
                     ("Cookie", "c3=v3"), ("User-Agent", "compat/1.0")])
        self.assertEqual(status, 200, body)
        self.assertEqual(self.header(headers, "content-type"), "application/json")
        rid = self.header(headers, "apigw-requestid")
        self.assertTrue(rid)
        e = json.loads(body)["event"]
        self.assertEqual(e["version"], "2.0")
        self.assertEqual(e["routeKey"], "ANY /echo/{id}")
        self.assertEqual(e["rawPath"], "/echo/abc%20d")
        self.assertEqual(e["rawQueryString"], "x=1&x=2&y=z%2Bw")
        self.assertEqual(e["queryStringParameters"], {"x": "1,2", "y": "z+w"})
        self.assertEqual(e["pathParameters"], {"id": "abc d"})
        self.assertEqual(e["cookies"], ["c1=v1", "c2=v2", "c3=v3"])
        self.assertNotIn("cookie", e["headers"])
        self.assertEqual(e["headers"]["x-rep"], "a,b")
        self.assertEqual(e["headers"]["user-agent"], "compat/1.0")
        self.assertFalse(e["isBase64Encoded"])
        self.assertNotIn("body", e)
        ctx = e["requestContext"]
        self.assertEqual(ctx["accountId"], "000000000000")
        self.assertEqual(ctx["stage"], "$default")
        self.assertEqual(ctx["requestId"], rid)
        self.assertEqual(ctx["routeKey"], "ANY /echo/{id}")
        self.assertEqual(ctx["http"], {"method": "GET", "path": "/echo/abc%20d", "protocol": "HTTP/1.1",
                                       "sourceIp": "127.0.0.1", "userAgent": "compat/1.0"})
        self.assertIsInstance(ctx["timeEpoch"], int)
        self.assertRegex(ctx["time"], r"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000$")
        for absent in ("stageVariables", "multiValueHeaders", "multiValueQueryStringParameters"):
            self.assertNotIn(absent, e)

    def test_text_and_binary_bodies(self):
        status, _, body = self.request("POST", "/api/echo/1", body=b'{"a":1}',
                                       headers=[("Content-Type", "application/json")])
        e = json.loads(body)["event"]
        self.assertEqual((e["body"], e["isBase64Encoded"]), ('{"a":1}', False))
        status, _, body = self.request("POST", "/api/echo/1", body=b"\x00\xff\x10",
                                       headers=[("Content-Type", "application/octet-stream")])
        e = json.loads(body)["event"]
        self.assertEqual((e["body"], e["isBase64Encoded"]), ("AP8Q", True))

    def test_response_rules_of_format_2_0(self):
        resp = {"statusCode": 201, "headers": {"x-made": "yes", "content-type": "text/plain"},
                "cookies": ["a=1; Path=/", "b=2"], "body": "created"}
        status, headers, body = self.request("POST", "/api/echo/1?action=respond",
                                             body=json.dumps(resp).encode(), headers=JSON)
        self.assertEqual(status, 201)
        self.assertEqual(body, b"created")
        self.assertEqual(self.header(headers, "x-made"), "yes")
        self.assertEqual(sorted(v for k, v in headers if k.lower() == "set-cookie"), ["a=1; Path=/", "b=2"])
        status, headers, body = self.request("POST", "/api/echo/1?action=respond", body=b'[1,2]',
                                             headers=JSON)
        self.assertEqual((status, body), (200, b"[1,2]"))
        self.assertEqual(self.header(headers, "content-type"), "application/json")
        status, _, body = self.request("POST", "/api/echo/1?action=respond",
                                       body=b'{"statusCode":200,"body":"aGk=","isBase64Encoded":true}',
                                       headers=JSON)
        self.assertEqual((status, body), (200, b"hi"))
        status, _, body = self.request("POST", "/api/echo/1?action=respond",
                                       body=b'{"statusCode":"abc"}', headers=JSON)
        self.assertEqual((status, json.loads(body)), (500, {"message": "Internal Server Error"}))

    def test_api_gateway_own_answers(self):
        status, headers, body = self.request("GET", "/api/nothing/here")
        self.assertEqual((status, json.loads(body)), (404, {"message": "Not Found"}))
        self.assertTrue(self.header(headers, "apigw-requestid"))
        status, _, body = self.request("GET", "/api/echo/1?action=error")
        self.assertEqual((status, json.loads(body)), (500, {"message": "Internal Server Error"}))
        status, _, body = self.request("GET", "/api/echo/1?action=sleep")  # ms missing: 0
        self.assertEqual(status, 200)
        # Over 10 MB: refused from the headers alone, before the body is sent.
        import socket
        s = socket.create_connection((self.web.hostname, self.web.port), timeout=30)
        s.sendall(b"POST /api/echo/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10000001\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
        s.close()
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer)
        self.assertTrue(answer.endswith(b'{"message":"Request Entity Too Large"}'), answer)

    def test_hostile_paths_reach_no_function(self):
        for path in ("/api/echo/%2e%2e/x", "/api/echo//x", "/api/echo/a/../b", "/api/" + "a" * 9000):
            status, _, body = self.request("GET", path)
            self.assertIn(status, (404, 414, 431), path)
        status, _, _ = self.request("GET", "/api/echo/ok")
        self.assertEqual(status, 200)


if __name__ == "__main__":
    sys.exit(harness.run(__name__))
