#!/usr/bin/env python3
"""The HTTP API's JWT authorizer over plain HTTP: a key generated here (Python's
`cryptography`) is registered as the JWKS of https://issuer.test/pool1 through
PUT /_shoplocal/jwks, tokens are signed here, and tests/lambda/Echo.c shows what
reached the function. Refused requests must never reach it: each carries a
marker query parameter, and the function's echo is the only way it could come
back."""
import json
import os
import sys
import time
import unittest
from urllib.parse import quote, urlparse

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from jose_util import b64url, rs256, rsa_jwk  # noqa: E402

FUNCTIONS = os.path.join(os.path.dirname(harness.BIN), "tests", "functions")
ISSUER = "https://issuer.test/pool1"


class JwtAuthorizer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.emu = harness.Emulator("--template", "tests/lambda/template-auth.yaml",
                                   "--functions", FUNCTIONS).start()
        cls.web = urlparse(cls.emu.urls["web"])
        cls.aws = urlparse(cls.emu.aws)
        cls.jwks = json.dumps({"keys": [rsa_jwk(cls.key, "k1")]})
        status, _, body = cls.http(cls.aws, "PUT", "/_shoplocal/jwks?issuer=" + quote(ISSUER, safe=""),
                                   cls.jwks.encode())
        assert status == 200, body

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    http = staticmethod(harness.http_raw)

    def sign(self, claims, header=None, key=None):
        return rs256(header or {"kid": "k1", "alg": "RS256"}, claims, key or self.key)

    def id_claims(self, **over):
        now = int(time.time())
        c = {"sub": "u-1", "cognito:groups": ["Admins", "Staff"], "email_verified": True,
             "iss": ISSUER, "aud": "client1", "token_use": "id", "auth_time": now,
             "iat": now, "exp": now + 3600}
        c.update(over)
        return c

    def get(self, path, token=None):
        headers = [("Authorization", "Bearer " + token)] if token is not None else []
        return self.http(self.web, "GET", path, headers=headers)

    def refused(self, token, description, path="/api/echo/x?marker=refused"):
        status, headers, body = self.get(path, token)
        self.assertEqual(status, 401, body)
        self.assertEqual(json.loads(body), {"message": "Unauthorized"})
        self.assertNotIn(b"marker", body)
        self.assertEqual(headers["www-authenticate"],
                         'Bearer scope="" error="invalid_token" error_description="%s"' % description)
        self.assertTrue(headers.get("apigw-requestid"))

    def test_no_token_is_401_and_never_reaches_the_function(self):
        status, headers, body = self.get("/api/echo/x?marker=none")
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(body), {"message": "Unauthorized"})
        self.assertEqual(headers["www-authenticate"], "Bearer")

    def test_valid_id_token_reaches_the_function_with_string_claims(self):
        claims = self.id_claims()
        status, _, body = self.get("/api/echo/x", self.sign(claims))
        self.assertEqual(status, 200, body)
        jwt = json.loads(body)["event"]["requestContext"]["authorizer"]["jwt"]
        self.assertEqual(jwt["claims"]["cognito:groups"], "[Admins Staff]")
        self.assertEqual(jwt["claims"]["email_verified"], "true")
        self.assertEqual(jwt["claims"]["exp"], str(claims["exp"]))
        self.assertEqual(jwt["claims"]["sub"], "u-1")
        self.assertIsNone(jwt["scopes"])

    def test_access_token_with_the_route_scope_passes_on_client_id(self):
        now = int(time.time())
        token = self.sign({"sub": "u-1", "iss": ISSUER, "client_id": "client1",
                           "token_use": "access", "scope": "openid shop/orders.read",
                           "exp": now + 3600})
        status, _, body = self.get("/api/orders", token)
        self.assertEqual(status, 200, body)
        jwt = json.loads(body)["event"]["requestContext"]["authorizer"]["jwt"]
        self.assertEqual(jwt["scopes"], ["openid", "shop/orders.read"])

    def test_id_token_on_a_scoped_route_is_403_insufficient_scope(self):
        status, headers, body = self.get("/api/orders?marker=scoped", self.sign(self.id_claims()))
        self.assertEqual(status, 403, body)
        self.assertEqual(json.loads(body), {"message": "Forbidden"})
        self.assertEqual(headers["www-authenticate"],
                         'Bearer scope="shop/orders.read" error="insufficient_scope" '
                         'error_description="expected scopes: [shop/orders.read]"')

    def test_wrong_audience_is_refused_with_aws_description(self):
        self.refused(self.sign(self.id_claims(aud="client2")),
                     "the token does not have a valid audience")

    def test_expired_token_is_refused(self):
        self.refused(self.sign(self.id_claims(exp=int(time.time()) - 10)), "token is expired")

    def test_token_signed_by_another_key_is_refused(self):
        self.refused(self.sign(self.id_claims(), key=self.other), "crypto/rsa: verification error")

    def test_forged_payload_is_refused(self):
        good = self.sign(self.id_claims()).split(".")
        forged = b64url(json.dumps(self.id_claims(sub="admin")).encode())
        self.refused(".".join([good[0], forged, good[2]]), "crypto/rsa: verification error")

    def test_hs256_keyed_with_the_jwks_is_refused(self):
        signed = (b64url(b'{"kid":"k1","alg":"HS256"}') + "." +
                  b64url(json.dumps(self.id_claims()).encode())).encode()
        mac = hmac.HMAC(self.jwks.encode(), hashes.SHA256())
        mac.update(signed)
        self.refused(signed.decode() + "." + b64url(mac.finalize()), "signing method HS256 is invalid")

    def test_route_with_authorizer_none_needs_no_token(self):
        status, _, body = self.get("/api/open")
        self.assertEqual(status, 200, body)
        self.assertNotIn("authorizer", json.loads(body)["event"]["requestContext"])

    def test_jwks_admin_refuses_a_malformed_jwks(self):
        status, _, body = self.http(self.aws, "PUT", "/_shoplocal/jwks?issuer=" + quote(ISSUER, safe=""),
                                    b'{"keys":[{"kid":"x","kty":"RSA","n":"!!","e":"AQAB"}]}')
        self.assertEqual(status, 400, body)
        # the registered keys are untouched
        status, _, _ = self.get("/api/echo/x", self.sign(self.id_claims()))
        self.assertEqual(status, 200)


if __name__ == "__main__":
    sys.exit(harness.run(__name__))
