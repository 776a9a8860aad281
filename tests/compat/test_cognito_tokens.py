#!/usr/bin/env python3
"""Hostile tokens against the HTTP API's Cognito authorizer, with real tokens from
the emulator's own Cognito (tests/lambda/template-cognito.yaml: Echo behind an
HTTP API whose authorizer trusts the Pool user pool and its PoolClient).

test_jwt_authorizer.py covers the authorizer's rules with keys made in the test;
this suite closes the loop: the pool's keys registered in-process by the Cognito
service, tokens that Cognito issued, and forgeries made with the pool's real
private key (read from cognito.db while the emulator is stopped), so a claim check
is tested on its own, with a signature that verifies. Every refused request
carries a marker in its query string that only the function's echo could bring
back: none may reach the function."""
import hashlib
import hmac
import json
import os
import sqlite3
import sys
import unittest
from urllib.parse import quote, urlparse

from cryptography.hazmat.primitives import serialization

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from jose_util import b64url, parts, rs256, unb64  # noqa: E402

os.environ["SHOPLOCAL_COGNITO_KDF_ITER"] = "1000"
FUNCTIONS = os.path.join(os.path.dirname(harness.BIN), "tests", "functions")
PASSWORD = "Passw0rd!Ok"  # the other pool has the default policy: symbols too


class CognitoTokens(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = harness.Emulator("--template", "tests/lambda/template-cognito.yaml",
                                   "--functions", FUNCTIONS, "--time", "virtual",
                                   "--auto-confirm")
        cls.emu.start()
        stack = json.loads(cls.http(urlparse(cls.emu.aws), "GET", "/_shoplocal/health")[2])["stack"]
        ids = {r["logicalId"]: r["physicalId"] for r in stack["resources"]}
        for pool in (ids["Pool"], ids["OtherPool"]):  # a pool makes its keys on first use
            assert cls.http(urlparse(cls.emu.aws), "GET", "/%s/.well-known/jwks.json" % pool)[0] == 200
        # the pools' private keys, read while nothing holds the database; the restart
        # also checks that kept keys reach the authorizer
        cls.emu.stop()
        db = sqlite3.connect(os.path.join(cls.emu.data, "cognito.db"))
        cls.keys = {(pool, use): serialization.load_pem_private_key(pem.encode(), None)
                    for pool, use, pem in db.execute("SELECT pool_id, use, pem FROM keys")}
        db.close()
        cls.emu.start(fresh=False)
        cls.web = urlparse(cls.emu.urls["web"])
        cls.idp = cls.emu.client("cognito-idp")
        cls.pool, cls.other_pool = ids["Pool"], ids["OtherPool"]
        cls.client_id, cls.other_client = ids["PoolClient"], ids["OtherPoolClient"]
        cls.foreign_client = ids["OtherClient"]
        cls.issuer = "https://cognito-idp.us-east-1.amazonaws.com/" + cls.pool
        for client in (cls.client_id, cls.foreign_client):
            cls.idp.sign_up(ClientId=client, Username="alice@example.com", Password=PASSWORD)
        cls.idp.admin_add_user_to_group(UserPoolId=cls.pool, Username="alice@example.com",
                                        GroupName="Admins")
        jwks = json.loads(cls.http(urlparse(cls.emu.aws), "GET",
                                   "/%s/.well-known/jwks.json" % cls.pool)[2])
        cls.jwks_text = json.dumps(jwks)

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    http = staticmethod(harness.http_raw)

    def tokens(self, client=None):
        r = self.idp.initiate_auth(ClientId=client or self.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "alice@example.com",
                                                   "PASSWORD": PASSWORD})
        return r["AuthenticationResult"]

    def advance(self, ms):
        status, _, body = self.http(urlparse(self.emu.aws), "POST", "/_shoplocal/clock/advance",
                                    json.dumps({"ms": ms}).encode())
        self.assertEqual(status, 200, body)

    sign = staticmethod(rs256)  # (header, claims, key)

    def forge(self, token, key_use="id", **changes):
        """The token's claims changed, re-signed with the pool's real key."""
        header, claims, _ = parts(token)
        claims.update(changes)
        return self.sign(header, claims, self.keys[(self.pool, key_use)])

    def get(self, path, token):
        return self.http(self.web, "GET", path, headers=[("Authorization", "Bearer " + token)])

    def invocations(self):
        """START lines in the function's log: how often Echo really ran."""
        path = os.path.join(self.emu.data, "logs", "lambda", "shoplocal-echo.log")
        if not os.path.exists(path):
            return 0
        with open(path) as f:
            return sum(1 for line in f if line.startswith("START RequestId:"))

    def refused(self, token, path="/api/echo/x?marker=refused", status=401):
        before = self.invocations()
        code, headers, body = self.get(path, token)
        self.assertEqual(self.invocations(), before, "the function ran")
        self.assertEqual(code, status, body)
        self.assertNotIn(b"marker", body)
        if status == 401:
            self.assertEqual(json.loads(body), {"message": "Unauthorized"})
            self.assertTrue(headers["www-authenticate"].startswith(
                'Bearer scope="" error="invalid_token" error_description="'), headers)
        return headers

    # ---- what passes -----------------------------------------------------------
    def test_id_token_reaches_the_function_with_cognito_claims_as_strings(self):
        t = self.tokens()
        before = self.invocations()
        status, _, body = self.get("/api/echo/x", t["IdToken"])
        self.assertEqual(status, 200, body)
        self.assertEqual(self.invocations(), before + 1)  # the log does count invocations
        claims = json.loads(body)["event"]["requestContext"]["authorizer"]["jwt"]["claims"]
        _, raw, _ = parts(t["IdToken"])
        self.assertEqual(claims["cognito:groups"], "[Admins]")
        self.assertEqual(claims["email_verified"], "true")
        self.assertEqual(claims["iss"], self.issuer)
        self.assertEqual(claims["aud"], self.client_id)
        self.assertEqual(claims["token_use"], "id")
        self.assertEqual(claims["exp"], str(raw["exp"]))
        self.assertEqual(claims["sub"], raw["sub"])

    def test_access_token_passes_on_client_id_and_meets_the_route_scope(self):
        t = self.tokens()
        status, _, body = self.get("/api/orders", t["AccessToken"])
        self.assertEqual(status, 200, body)
        jwt = json.loads(body)["event"]["requestContext"]["authorizer"]["jwt"]
        self.assertEqual(jwt["claims"]["client_id"], self.client_id)
        self.assertEqual(jwt["scopes"], ["aws.cognito.signin.user.admin"])

    def test_the_authorizer_does_not_know_of_sign_out(self):
        # API Gateway checks signature and claims only: a signed-out access token
        # still passes until it expires, as on AWS (Cognito's GetUser refuses it).
        t = self.tokens()
        self.idp.global_sign_out(AccessToken=t["AccessToken"])
        self.assertEqual(self.get("/api/echo/x", t["AccessToken"])[0], 200)

    # ---- what is refused -------------------------------------------------------
    def test_alg_none(self):
        header, claims, _ = parts(self.tokens()["IdToken"])
        header["alg"] = "none"
        self.refused(b64url(json.dumps(header).encode()) + "." +
                     b64url(json.dumps(claims).encode()) + ".")

    def test_hs256_keyed_with_the_public_key(self):
        header, claims, _ = parts(self.tokens()["IdToken"])
        header["alg"] = "HS256"
        signed = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode()))
        pub = self.keys[(self.pool, "id")].public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        for secret in (pub, self.jwks_text.encode()):
            mac = hmac.new(secret, signed.encode(), hashlib.sha256).digest()
            self.refused(signed + "." + b64url(mac))

    def test_wrong_kid(self):
        header, claims, _ = parts(self.tokens()["IdToken"])
        header["kid"] = "bm90LWEta2V5LW9mLXRoaXMtcG9vbA=="
        self.refused(self.sign(header, claims, self.keys[(self.pool, "id")]))
        # the access token's kid with the ID key: the signature does not verify
        _, _, _ = parts(self.tokens()["AccessToken"])
        access_kid = parts(self.tokens()["AccessToken"])[0]["kid"]
        header["kid"] = access_kid
        self.refused(self.sign(header, claims, self.keys[(self.pool, "id")]))

    def test_tampered_payload(self):
        token = self.tokens()["IdToken"]
        h, p, s = token.split(".")
        claims = json.loads(unb64(p))
        claims["cognito:groups"] = ["Admins", "Root"]
        self.refused(".".join([h, b64url(json.dumps(claims).encode()), s]))

    def test_tampered_signature(self):
        h, p, s = self.tokens()["IdToken"].split(".")
        flipped = s[:10] + ("A" if s[10] != "A" else "B") + s[11:]
        self.refused(".".join([h, p, flipped]))
        self.refused(".".join([h, p, s[:-8]]))  # truncated

    def test_expired_by_virtual_time(self):
        t = self.tokens()
        self.assertEqual(self.get("/api/echo/x", t["IdToken"])[0], 200)
        self.advance(3600 * 1000)  # the client's IdTokenValidity: 1 hour
        headers = self.refused(t["IdToken"])
        self.assertIn('error_description="token is expired"', headers["www-authenticate"])
        self.refused(t["AccessToken"])

    def test_not_yet_valid(self):
        token = self.tokens()["IdToken"]
        iat = parts(token)[1]["iat"]
        headers = self.refused(self.forge(token, nbf=iat + 600))
        self.assertIn('error_description="token is not valid yet"', headers["www-authenticate"])
        self.assertEqual(self.get("/api/echo/x", self.forge(token, nbf=iat))[0], 200)

    def test_wrong_issuer(self):
        token = self.tokens()["IdToken"]
        other_iss = "https://cognito-idp.us-east-1.amazonaws.com/" + self.other_pool
        for iss in (other_iss, self.issuer + "/", self.issuer.upper(), "http" + self.issuer[5:]):
            self.refused(self.forge(token, iss=iss))

    def test_wrong_audience_or_client(self):
        t = self.tokens(self.other_client)  # same pool, a client the API does not list
        headers = self.refused(t["IdToken"])
        self.assertIn('error_description="the token does not have a valid audience"',
                      headers["www-authenticate"])
        self.refused(t["AccessToken"])
        # aud present wins over client_id: a wrong aud with a right client_id is refused
        good = self.tokens()["IdToken"]
        self.refused(self.forge(good, aud=self.other_client, client_id=self.client_id))

    def test_id_token_on_a_scoped_route(self):
        # ID tokens carry no scope. API Gateway answers 403 insufficient_scope here
        # (not 401): the token is valid, the route wants more. Either way the
        # function is never called.
        before = self.invocations()
        code, headers, body = self.get("/api/orders?marker=scoped", self.tokens()["IdToken"])
        self.assertEqual(code, 403, body)
        self.assertEqual(self.invocations(), before)
        self.assertNotIn(b"marker", body)
        self.assertEqual(json.loads(body), {"message": "Forbidden"})
        self.assertEqual(headers["www-authenticate"],
                         'Bearer scope="aws.cognito.signin.user.admin" error="insufficient_scope" '
                         'error_description="expected scopes: [aws.cognito.signin.user.admin]"')

    def test_malformed_base64(self):
        h, p, s = self.tokens()["IdToken"].split(".")
        for bad in (h + "." + p[:5] + "!*" + p[7:] + "." + s, "%%%." + p + "." + s,
                    h + "." + p, h + "." + p + "." + s + "." + s, h + ".." + s,
                    b64url(b"[1,2]") + "." + p + "." + s, "Bearer"):
            self.refused(bad)
        # "Authorization: Bearer" and nothing else is no token at all: the bare challenge
        code, headers, body = self.get("/api/echo/x?marker=empty", "")
        self.assertEqual(code, 401, body)
        self.assertNotIn(b"marker", body)
        self.assertEqual(headers["www-authenticate"], "Bearer")

    def test_a_100_kb_token(self):
        token = self.forge(self.tokens()["IdToken"], padding="x" * 100 * 1024)
        before = self.invocations()
        code, _, body = self.get("/api/echo/x?marker=huge", token)
        self.assertEqual(self.invocations(), before)
        # 100 KB of header is past the listener's 16 KiB of header memory: the
        # request is refused before any route or authorizer sees it.
        self.assertEqual(code, 431, body)
        self.assertNotIn(b"marker", body)

    def test_token_from_another_pool(self):
        t = self.tokens(self.foreign_client)
        self.refused(t["IdToken"])
        self.refused(t["AccessToken"])
        # even with the right iss and aud, the other pool's key is not this pool's
        header, claims, _ = parts(t["IdToken"])
        claims.update(iss=self.issuer, aud=self.client_id)
        self.refused(self.sign(header, claims, self.keys[(self.other_pool, "id")]))


if __name__ == "__main__":
    sys.exit(harness.run(__name__))
