#!/usr/bin/env python3
"""The shop's API over HTTP: the real handlers (build/functions/*.so) behind the
emulator's HTTP API on the web listener (/api/...), with the template's JWT
authorizer in front and the seeded demo catalog in the table.

Every user is a real user of the emulator's Cognito pool (the template's
UserPool / UserPoolClient, ids from /_shoplocal/health's stack resources, checked
against /config.json): boto3's cognito-idp client signs up with a fresh email,
confirms with the code read from GET /_shoplocal/outbox?to=<email>, and signs in
with InitiateAuth USER_PASSWORD_AUTH; the ID token (aud = the app client, which
the template's JWT authorizer names as its audience; the handlers read `sub`,
`email` and `cognito:groups` from its claims) is the Authorization header. An
admin is such a user added to the template's Admins group with
AdminAddUserToGroup before signing in, so its token carries cognito:groups; the
seeded demo admin and customer (fixtures/users.json) sign in too. Passwords are
hashed with few PBKDF2 iterations (SHOPLOCAL_COGNITO_KDF_ITER) so sign-ups are
quick.

Only two tokens are minted here, because Cognito cannot issue them: one whose
cognito:groups names groups the pool does not have ("AdminsX", "admins"), and one
whose sub holds '#' (Cognito's subs are UUIDs). They are signed by a test key
that the two tests using them add next to the pool's own keys (PUT
/_shoplocal/jwks with the pool's JWKS plus the test key) inside `with
self.forger()`; the pool's JWKS alone is put back when the block ends, so every
other request is checked by exactly the keys the emulator's Cognito registered.

Every answer is checked against docs/api-specification.json: its status must be
one the contract lists for the route, and its body must validate against the
contract's schema (jsonschema, draft 2020-12)."""
import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
from urllib.parse import quote, urlparse

from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from jose_util import b64url, claims_of, rs256, rsa_jwk  # noqa: E402

# Few PBKDF2 iterations for the emulators this suite starts (they inherit the
# environment): a sign-up or sign-in costs about a millisecond instead of tens.
os.environ["SHOPLOCAL_COGNITO_KDF_ITER"] = "1000"
PASSWORD = "Passw0rdOk"
DEMO_ADMIN = ("admin@shoplocal.dev", "Admin123!demo")
DEMO_CUSTOMER = ("customer@shoplocal.dev", "Customer123!demo")

FUNCTIONS = os.path.join(os.path.dirname(harness.BIN), "functions")
SPEC_PATH = os.path.join(harness.ROOT, "docs", "api-specification.json")
ADDRESS = {"street": "1 Test St", "city": "Testville", "state": "CA", "zipCode": "90001"}
CHECKOUT = {"shippingAddress": ADDRESS, "paymentMethod": "card"}


class IdToken(str):
    """A Cognito ID token (the string the Authorization header carries) with the
    user it was issued to: .sub, .email, .claims, and .access (the access token
    of the same sign-in)."""

    def __new__(cls, token, email, access):
        self = super().__new__(cls, token)
        self.claims = claims_of(token)
        self.sub = self.claims["sub"]
        self.email = email
        self.access = access
        return self


class Contract:
    """docs/api-specification.json as a checker of real answers."""

    def __init__(self, path):
        import jsonschema
        self.jsonschema = jsonschema
        with open(path) as f:
            self.spec = json.load(f)
        self.routes = []
        for template, item in self.spec["paths"].items():
            rx = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            self.routes.append((re.compile(rx), template, item))
        self.seen = set()

    def check(self, method, path, status, body):
        path = path.split("?")[0]
        for rx, template, item in self.routes:
            if rx.match(path) and method.lower() in item:
                op = item[method.lower()]
                break
        else:
            raise AssertionError("%s %s is not in the contract" % (method, path))
        responses = op["responses"]
        if str(status) not in responses:
            raise AssertionError("%s %s answered %d, which the contract does not list (%s)"
                                 % (method, template, status, sorted(responses)))
        self.seen.add((method.upper(), template, status))
        content = responses[str(status)].get("content")
        if not content:
            if body not in (b"", None):
                raise AssertionError("%s %s %d has a body the contract does not describe: %r"
                                     % (method, template, status, body[:200]))
            return
        schema = dict(content["application/json"]["schema"])
        schema["components"] = self.spec["components"]
        doc = json.loads(body)
        self.jsonschema.Draft202012Validator(schema).validate(doc)


class ShopApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.contract = Contract(SPEC_PATH)
        cls.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.n = 0
        cls.emu = harness.Emulator("--functions", FUNCTIONS, "--seed", "fixtures/").start()
        cls.web = urlparse(cls.emu.urls["web"])
        cls.aws = urlparse(cls.emu.aws)
        status, _, body = cls.raw(cls.aws, "GET", "/_shoplocal/health")
        health = json.loads(body)
        cls.health = health
        res = {r["logicalId"]: r for r in health["stack"]["resources"]}
        cls.region = health["stack"]["region"]
        cls.pool = res["UserPool"]["physicalId"]
        cls.client_id = res["UserPoolClient"]["physicalId"]
        cls.table = res["ShopTable"]["physicalId"]
        cls.bucket = res["ProductImagesBucket"]["physicalId"]
        cls.issuer = "https://cognito-idp.%s.amazonaws.com/%s" % (cls.region, cls.pool)
        status, _, body = cls.raw(cls.web, "GET", "/config.json")
        assert status == 200, body
        config = json.loads(body)
        assert (config["UserPoolId"], config["UserPoolClientId"]) == (cls.pool, cls.client_id), config
        cls.ddb = cls.emu.client("dynamodb")
        cls.idp = cls.emu.client("cognito-idp")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    # ---- plumbing ----------------------------------------------------------

    raw = staticmethod(harness.http_raw)

    # ---- users of the emulator's Cognito ---------------------------------------

    def user(self, admin=False, emu=None):
        """A new, confirmed user of the pool (of `emu`, default the suite's emulator),
        in the Admins group when admin; returns its ID token (an IdToken)."""
        emu = emu or self.emu
        idp = self.idp if emu is self.emu else emu.client("cognito-idp")
        type(self).n += 1
        email = "shop%d.%d.%s@example.com" % (os.getpid(), type(self).n, uuid.uuid4().hex[:6])
        r = idp.sign_up(ClientId=self.client_id, Username=email, Password=PASSWORD)
        self.assertFalse(r["UserConfirmed"])
        status, _, body = self.raw(urlparse(emu.aws), "GET", "/_shoplocal/outbox?to=" + quote(email, safe=""))
        self.assertEqual(status, 200, body)
        msgs = json.loads(body)["messages"]
        self.assertTrue(msgs, "no code was sent to " + email)
        code = re.search(r"\b(\d{6})\b", msgs[-1]["body"])
        self.assertIsNotNone(code, msgs[-1])
        idp.confirm_sign_up(ClientId=self.client_id, Username=email, ConfirmationCode=code.group(1))
        if admin:
            idp.admin_add_user_to_group(UserPoolId=self.pool, Username=email, GroupName="Admins")
        token = self.sign_in(email, PASSWORD, idp)
        self.assertEqual(token.sub, r["UserSub"])
        self.assertEqual(token.claims.get("cognito:groups"), ["Admins"] if admin else None)
        return token

    def sign_in(self, email, password, idp=None):
        """InitiateAuth USER_PASSWORD_AUTH; the ID token, checked to be the one the
        template's authorizer and the handlers expect."""
        r = (idp or self.idp).initiate_auth(ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                            AuthParameters={"USERNAME": email, "PASSWORD": password})
        res = r["AuthenticationResult"]
        token = IdToken(res["IdToken"], email, res["AccessToken"])
        c = token.claims
        self.assertEqual((c["token_use"], c["aud"], c["iss"], c["email"]),
                         ("id", self.client_id, self.issuer, email.lower()))
        return token

    # ---- tokens Cognito cannot issue -----------------------------------------

    def pool_jwks(self):
        status, _, body = self.raw(self.aws, "GET", "/%s/.well-known/jwks.json" % self.pool)
        self.assertEqual(status, 200, body)
        return json.loads(body)

    @contextlib.contextmanager
    def forger(self):
        """For the length of the block, the authorizer also trusts the test key
        (the pool's JWKS plus it, for the pool's issuer), so forged_token()s pass
        the signature check; afterwards the pool's own JWKS alone again."""
        pool = self.pool_jwks()
        self.assertTrue(pool["keys"])
        mine = rsa_jwk(self.key, "test-id")
        where = "/_shoplocal/jwks?issuer=" + quote(self.issuer, safe="")
        status, _, body = self.raw(self.aws, "PUT", where,
                                   json.dumps({"keys": pool["keys"] + [mine]}).encode())
        self.assertEqual(status, 200, body)
        try:
            yield
        finally:
            status, _, body = self.raw(self.aws, "PUT", where, json.dumps(pool).encode())
            self.assertEqual(status, 200, body)

    def forged_token(self, sub, groups=(), email=None):
        """A token with Cognito's ID-token claim set signed by the test key: only for
        claims the pool cannot put in a real token (use inside `with self.forger()`)."""
        now = int(time.time())
        claims = {"sub": sub, "email_verified": True, "iss": self.issuer,
                  "cognito:username": sub, "origin_jti": str(uuid.uuid4()), "aud": self.client_id,
                  "event_id": str(uuid.uuid4()), "token_use": "id", "auth_time": now,
                  "exp": now + 3600, "iat": now, "jti": str(uuid.uuid4()),
                  "email": email or "%s@example.com" % sub}
        if groups:
            claims["cognito:groups"] = list(groups)
        return rs256({"kid": "test-id", "alg": "RS256"}, claims, self.key)

    def call(self, method, path, token=None, body=None, expect=None, headers=(), raw_body=None,
             web=None):
        """One request through /api; checks the status (if expect) and the contract.
        Returns (status, parsed body or None, headers)."""
        hdrs = list(headers)
        if token:
            hdrs.append(("Authorization", "Bearer " + token))
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and not any(k.lower() == "content-type" for k, _ in hdrs):
            hdrs.append(("Content-Type", "application/json"))
        # The stage throttles as the template says (rate 100/s, burst 200), as AWS
        # would: a 429 is retried the way a client backs off, within a deadline.
        deadline = time.monotonic() + 20
        while True:
            status, h, resp = self.raw(web or self.web, method, "/api" + path, data, hdrs)
            if status != 429 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if expect is not None:
            self.assertEqual(status, expect, "%s %s: %s" % (method, path, resp[:500]))
        self.assertNotEqual(status, 500, "%s %s: %s" % (method, path, resp[:500]))
        self.contract.check(method, path, status, resp)
        return status, (json.loads(resp) if resp else None), h

    def error_code(self, method, path, token, body, status, code, **kw):
        _, doc, _ = self.call(method, path, token, body, expect=status, **kw)
        self.assertEqual(doc["error"]["code"], code, doc)
        return doc

    def new_product(self, admin, **over):
        p = {"id": "t-" + uuid.uuid4().hex[:12], "name": "Test product", "description": "for tests",
             "priceCents": 1234, "stock": 10}
        p.update(over)
        _, doc, _ = self.call("POST", "/products", admin, p, expect=201)
        return doc

    # ---- products ------------------------------------------------------------

    def test_catalog_is_seeded_and_pages_walk_it_once_in_order(self):
        seen, last, pages = [], None, 0
        while True:
            path = "/products?limit=5" + ("&lastKey=" + quote(last, safe="") if last else "")
            _, doc, _ = self.call("GET", path, expect=200)
            pages += 1
            self.assertLessEqual(len(doc["items"]), 5)
            seen += [p["id"] for p in doc["items"]]
            last = doc["lastKey"]
            if last is None:
                break
            self.assertLess(pages, 50)
        with open(os.path.join(harness.ROOT, "fixtures", "products.json")) as f:
            fixture_ids = [p["id"] for p in json.load(f)["products"]]
        self.assertEqual(len(seen), len(set(seen)), "a product came twice")
        # the fixtures come first, in the file's order (other tests may add more after)
        self.assertEqual(seen[:len(fixture_ids)], fixture_ids)

    def test_list_limit_is_bounded(self):
        for bad in ("0", "101", "abc", "-1", "1.5", "", "99999999999999999999"):
            self.error_code("GET", "/products?limit=" + bad, None, None, 400, "InvalidParameter")
        _, doc, _ = self.call("GET", "/products?limit=100", expect=200)
        self.assertGreaterEqual(len(doc["items"]), 12)

    def test_tampered_or_foreign_cursors_are_400(self):
        _, doc, _ = self.call("GET", "/products?limit=2", expect=200)
        cursor = doc["lastKey"]
        raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        # change the key inside (keep the MAC): the product id in the JSON
        text = raw.replace(b"p-pour-over-kettle", b"p-burr-grinder\x00\x00\x00\x00")
        forged = b64url(bytes(text))
        for bad in (forged, cursor[:-2], cursor + "A", "x" * 3000, "%00", "eyJQSyI6eyJTIjoieCJ9fQ"):
            self.error_code("GET", "/products?lastKey=" + quote(bad, safe=""), None, None, 400,
                            "InvalidCursor")
        # a products cursor is refused by the orders listing (another scope)
        self.error_code("GET", "/orders?lastKey=" + quote(cursor, safe=""), self.user(), None, 400,
                        "InvalidCursor")

    def test_get_product_found_missing_and_malformed(self):
        _, doc, _ = self.call("GET", "/products/p-ceramic-mug", expect=200)
        self.assertEqual(doc["priceCents"], 1800)
        self.assertEqual(doc["currency"], "USD")
        self.error_code("GET", "/products/p-nope", None, None, 404, "ProductNotFound")
        self.error_code("GET", "/products/bad$id", None, None, 400, "InvalidParameter")
        self.error_code("GET", "/products/" + "a" * 65, None, None, 400, "InvalidParameter")

    def test_admin_creates_updates_and_deletes_a_product(self):
        admin = self.user(admin=True)
        p = self.new_product(admin, currency="EUR", imageUrl="https://cdn.test/x.png")
        self.assertEqual(p["currency"], "EUR")
        _, got, _ = self.call("GET", "/products/" + p["id"], expect=200)
        self.assertEqual(got, p)
        _, doc, _ = self.call("PATCH", "/products/" + p["id"], admin,
                              {"priceCents": 999, "stock": 3, "imageUrl": None}, expect=200)
        self.assertEqual((doc["priceCents"], doc["stock"], doc["imageUrl"]), (999, 3, None))
        self.assertEqual(doc["name"], p["name"])
        self.assertGreaterEqual(doc["updatedAt"], p["updatedAt"])
        self.error_code("POST", "/products", admin, {"id": p["id"], "name": "dup", "priceCents": 1,
                                                     "stock": 1}, 409, "ProductExists")
        self.call("DELETE", "/products/" + p["id"], admin, expect=204)
        self.error_code("GET", "/products/" + p["id"], None, None, 404, "ProductNotFound")
        self.error_code("DELETE", "/products/" + p["id"], admin, None, 404, "ProductNotFound")
        self.error_code("PATCH", "/products/" + p["id"], admin, {"stock": 1}, 404, "ProductNotFound")
        self.error_code("DELETE", "/products/bad$id", admin, None, 400, "InvalidParameter")

    def test_a_created_product_without_id_gets_one_and_a_location(self):
        admin = self.user(admin=True)
        _, doc, h = self.call("POST", "/products", admin, {"name": "No id", "priceCents": 5,
                                                           "stock": 0}, expect=201)
        self.assertRegex(doc["id"], r"^[0-9a-f-]{36}$")
        self.assertEqual(h["location"], "/products/" + doc["id"])
        self.assertIsNone(doc["imageUrl"])

    def test_non_admins_are_403_and_anonymous_401(self):
        customer = self.user()
        body = {"name": "x", "priceCents": 1, "stock": 1}
        for method, path, b in (("POST", "/products", body), ("PATCH", "/products/p-ceramic-mug", {"stock": 0}),
                                ("DELETE", "/products/p-ceramic-mug", None),
                                ("POST", "/products/p-ceramic-mug/image-upload-url", {})):
            self.error_code(method, path, customer, b, 403, "Forbidden")
            _, doc, _ = self.call(method, path, None, b, expect=401)
            self.assertEqual(doc, {"message": "Unauthorized"})
        # the seeded demo customer (fixtures/users.json) is no admin either
        demo = self.sign_in(*DEMO_CUSTOMER)
        self.assertNotIn("cognito:groups", demo.claims)
        self.error_code("POST", "/products", demo, body, 403, "Forbidden")
        # a group named like Admins is not Admins. Minted: the pool has no groups
        # "AdminsX" or "admins" (the template declares Admins only, and groups cannot be
        # created through the emulator's API), so Cognito cannot issue this token.
        with self.forger():
            self.error_code("POST", "/products", self.forged_token("u-x", ("AdminsX", "admins")), body,
                            403, "Forbidden")
        _, doc, _ = self.call("GET", "/products/p-ceramic-mug", expect=200)
        self.assertEqual(doc["stock"], 200, "a refused PATCH changed nothing")

    def test_product_bodies_are_validated(self):
        admin = self.user(admin=True)
        cases = [
            ({"priceCents": 1, "stock": 1}, "name: is required"),
            ({"name": "x", "priceCents": 0, "stock": 1}, "priceCents"),
            ({"name": "x", "priceCents": -5, "stock": 1}, "priceCents"),
            ({"name": "x", "priceCents": 1.5, "stock": 1}, "priceCents"),
            ({"name": "x", "priceCents": "1", "stock": 1}, "priceCents"),
            ({"name": "x", "priceCents": 1, "stock": -1}, "stock"),
            ({"name": "x" * 201, "priceCents": 1, "stock": 1}, "name"),
            ({"name": "x", "priceCents": 1, "stock": 1, "admin": True}, "admin: is not a known field"),
            ({"name": "x", "priceCents": 1, "stock": 1, "currency": "dollars"}, "currency"),
            ({"name": "x", "priceCents": 1, "stock": 1, "imageUrl": "javascript:alert(1)"}, "imageUrl"),
            ({"id": "PRODUCT#evil", "name": "x", "priceCents": 1, "stock": 1}, "id"),
        ]
        for body, fragment in cases:
            doc = self.error_code("POST", "/products", admin, body, 422, "ValidationError")
            self.assertIn(fragment, doc["error"]["message"], body)
        self.error_code("PATCH", "/products/p-ceramic-mug", admin, {}, 422, "ValidationError")
        self.error_code("PATCH", "/products/p-ceramic-mug", admin, {"id": "other"}, 422,
                        "ValidationError")

    def test_image_upload_url_is_a_presigned_put_for_admins(self):
        admin = self.user(admin=True)
        _, doc, _ = self.call("POST", "/products/p-ceramic-mug/image-upload-url", admin,
                              {"contentType": "image/png"}, expect=200)
        self.assertEqual(doc["method"], "PUT")
        self.assertEqual(doc["headers"]["content-type"], "image/png")
        self.assertTrue(doc["key"].startswith("images/p-ceramic-mug/") and doc["key"].endswith(".png"))
        self.assertIn(self.bucket, doc["uploadUrl"])
        self.assertIn("X-Amz-Signature=", doc["uploadUrl"])
        self.assertIn("X-Amz-Expires=300", doc["uploadUrl"])
        self.assertTrue(doc["imageUrl"].endswith("/" + doc["key"]))
        _, doc, _ = self.call("POST", "/products/p-ceramic-mug/image-upload-url", admin, expect=200)
        self.assertTrue(doc["key"].endswith(".jpg"), "image/jpeg is the default")
        self.error_code("POST", "/products/p-nope/image-upload-url", admin, {}, 404, "ProductNotFound")
        self.error_code("POST", "/products/p-ceramic-mug/image-upload-url", admin,
                        {"contentType": "text/html"}, 422, "ValidationError")

    # ---- cart ------------------------------------------------------------------

    def test_cart_add_accumulates_update_remove_and_clear(self):
        alice = self.user()
        _, cart, _ = self.call("GET", "/cart", alice, expect=200)
        self.assertEqual(cart["items"], [])
        self.assertEqual(cart["totalCents"], 0)
        _, cart, _ = self.call("POST", "/cart", alice, {"productId": "p-ceramic-mug", "quantity": 2}, expect=200)
        self.assertEqual([(i["productId"], i["quantity"], i["lineTotalCents"]) for i in cart["items"]],
                         [("p-ceramic-mug", 2, 3600)])
        _, cart, _ = self.call("POST", "/cart", alice, {"productId": "p-ceramic-mug", "quantity": 1}, expect=200)
        self.assertEqual(cart["items"][0]["quantity"], 3)
        _, cart, _ = self.call("POST", "/cart", alice, {"productId": "p-green-tea", "quantity": 1}, expect=200)
        self.assertEqual(cart["totalCents"], 3 * 1800 + 1450)
        _, cart, _ = self.call("PATCH", "/cart/p-ceramic-mug", alice, {"quantity": 5}, expect=200)
        self.assertEqual({i["productId"]: i["quantity"] for i in cart["items"]},
                         {"p-ceramic-mug": 5, "p-green-tea": 1})
        _, cart, _ = self.call("DELETE", "/cart/p-green-tea", alice, expect=200)
        self.assertEqual([i["productId"] for i in cart["items"]], ["p-ceramic-mug"])
        self.error_code("DELETE", "/cart/p-green-tea", alice, None, 404, "CartItemNotFound")
        self.error_code("PATCH", "/cart/p-green-tea", alice, {"quantity": 1}, 404, "CartItemNotFound")
        _, cart, _ = self.call("DELETE", "/cart", alice, expect=200)
        self.assertEqual(cart["items"], [])

    def test_cart_quantities_and_products_are_checked(self):
        bob = self.user()
        for q in (0, 100, -1, 1.5, "2", None, True):
            self.error_code("POST", "/cart", bob, {"productId": "p-ceramic-mug", "quantity": q}, 422,
                            "ValidationError")
        self.error_code("POST", "/cart", bob, {"productId": "p-ceramic-mug"}, 422, "ValidationError")
        self.error_code("POST", "/cart", bob, {"quantity": 1}, 422, "ValidationError")
        self.error_code("POST", "/cart", bob, {"productId": "p-ceramic-mug", "quantity": 1, "price": 1},
                        422, "ValidationError")
        self.error_code("POST", "/cart", bob, {"productId": "p-missing", "quantity": 1}, 404,
                        "ProductNotFound")
        self.error_code("POST", "/cart", bob, {"productId": "p-burr-grinder", "quantity": 16}, 409,
                        "InsufficientStock")
        self.call("POST", "/cart", bob, {"productId": "p-ceramic-mug", "quantity": 99}, expect=200)
        self.error_code("POST", "/cart", bob, {"productId": "p-ceramic-mug", "quantity": 1}, 422,
                        "ValidationError")
        self.error_code("PATCH", "/cart/p-ceramic-mug", bob, {"quantity": 100}, 422, "ValidationError")
        self.error_code("PATCH", "/cart/bad$id", bob, {"quantity": 1}, 400, "InvalidParameter")
        self.error_code("DELETE", "/cart/bad$id", bob, None, 400, "InvalidParameter")
        self.call("POST", "/cart", bob, {"productId": "p-burr-grinder", "quantity": 1}, expect=200)
        self.error_code("PATCH", "/cart/p-burr-grinder", bob, {"quantity": 16}, 409, "InsufficientStock")

    def test_a_cart_holds_at_most_25_products(self):
        admin, carol = self.user(admin=True), self.user()
        ids = [self.new_product(admin)["id"] for _ in range(26)]
        for pid in ids[:25]:
            self.call("POST", "/cart", carol, {"productId": pid, "quantity": 1}, expect=200)
        self.error_code("POST", "/cart", carol, {"productId": ids[25], "quantity": 1}, 409, "CartFull")
        # adding to an existing line is still fine
        self.call("POST", "/cart", carol, {"productId": ids[0], "quantity": 1}, expect=200)

    def test_cart_routes_need_a_token(self):
        for method, path, body in (("GET", "/cart", None), ("POST", "/cart", {"productId": "x", "quantity": 1}),
                                   ("DELETE", "/cart", None), ("PATCH", "/cart/x", {"quantity": 1}),
                                   ("DELETE", "/cart/x", None), ("POST", "/checkout/start", CHECKOUT),
                                   ("GET", "/orders", None), ("GET", "/orders/x", None)):
            _, doc, h = self.call(method, path, None, body, expect=401)
            self.assertEqual(doc, {"message": "Unauthorized"})
            self.assertTrue(h["www-authenticate"].startswith("Bearer"))
            _, doc, _ = self.call(method, path, "not.a.token", body, expect=401)

    def test_one_user_cannot_read_or_change_another_users_cart(self):
        alice, mallory = self.user(), self.user()
        self.call("POST", "/cart", alice, {"productId": "p-oak-tray", "quantity": 2}, expect=200)
        _, cart, _ = self.call("GET", "/cart", mallory, expect=200)
        self.assertEqual(cart["items"], [])
        self.error_code("DELETE", "/cart/p-oak-tray", mallory, None, 404, "CartItemNotFound")
        self.error_code("PATCH", "/cart/p-oak-tray", mallory, {"quantity": 9}, 404, "CartItemNotFound")
        self.call("DELETE", "/cart", mallory, expect=200)
        # a body cannot name another user either
        self.error_code("POST", "/cart", mallory, {"productId": "p-oak-tray", "quantity": 1,
                                                   "userId": "alice"}, 422, "ValidationError")
        _, cart, _ = self.call("GET", "/cart", alice, expect=200)
        self.assertEqual([(i["productId"], i["quantity"]) for i in cart["items"]], [("p-oak-tray", 2)])

    def test_a_sub_that_could_escape_its_key_is_not_a_user(self):
        # Minted: Cognito's subs are UUIDs, so no real token has a '#' in its sub; the
        # handlers must still refuse one rather than build USER#victim#CART#... keys.
        with self.forger():
            token = self.forged_token("victim#CART#p-oak-tray")
            self.error_code("GET", "/cart", token, None, 401, "Unauthorized")
            ok = self.forged_token(str(uuid.uuid4()))
            self.call("GET", "/cart", ok, expect=200)
        # out of the block the test key is trusted no more: the gateway refuses its tokens
        for t in (token, ok):
            _, doc, _ = self.call("GET", "/cart", t, expect=401)
            self.assertEqual(doc, {"message": "Unauthorized"})

    # ---- checkout ------------------------------------------------------------

    def test_checkout_bodies_are_validated_before_anything_is_read(self):
        dave = self.user()
        self.call("POST", "/cart", dave, {"productId": "p-tea-infuser", "quantity": 1}, expect=200)
        bad_bodies = [
            {"paymentMethod": "card"},
            {"shippingAddress": ADDRESS},
            {"shippingAddress": dict(ADDRESS, zipCode="9000"), "paymentMethod": "card"},
            {"shippingAddress": dict(ADDRESS, zipCode="ABCDE"), "paymentMethod": "card"},
            {"shippingAddress": dict(ADDRESS, street=""), "paymentMethod": "card"},
            {"shippingAddress": dict(ADDRESS, city=None), "paymentMethod": "card"},
            {"shippingAddress": dict(ADDRESS, extra="x"), "paymentMethod": "card"},
            {"shippingAddress": dict(ADDRESS, country="usa"), "paymentMethod": "card"},
            {"shippingAddress": "1 Test St", "paymentMethod": "card"},
            {"shippingAddress": ADDRESS, "paymentMethod": "paypal"},
            {"shippingAddress": ADDRESS, "paymentMethod": "pm_"},
            {"shippingAddress": ADDRESS, "paymentMethod": "pm_card visa"},
            {"shippingAddress": ADDRESS, "paymentMethod": 4242},
            {"shippingAddress": ADDRESS, "paymentMethod": "card", "totalCents": 1},
            {"shippingAddress": ADDRESS, "paymentMethod": "card", "items": [{"priceCents": 1}]},
        ]
        for body in bad_bodies:
            self.error_code("POST", "/checkout/start", dave, body, 422, "ValidationError")
        for key in ("", "x" * 256, "a b", "é"):
            hdr = [("Idempotency-Key", key)] if key != "é" else [("Idempotency-Key", "\u00e9".encode().decode("latin-1"))]
            status, _, _ = self.call("POST", "/checkout/start", dave, CHECKOUT, headers=hdr)
            self.assertEqual(status, 400, repr(key))
        # a foreign address with its own postal code format is fine for validation
        status, _, _ = self.call("POST", "/checkout/start", self.user(),
                                 {"shippingAddress": dict(ADDRESS, country="GB", zipCode="SW1A 1AA"),
                                  "paymentMethod": "pm_card_visa_chargeDeclined"})
        self.assertEqual(status, 409, "valid body; the (new user's) cart is empty")
        _, cart, _ = self.call("GET", "/cart", dave, expect=200)
        self.assertEqual(len(cart["items"]), 1, "a refused checkout leaves the cart")

    def test_checkout_refuses_an_empty_cart_a_vanished_product_and_short_stock(self):
        admin, erin = self.user(admin=True), self.user()
        self.error_code("POST", "/checkout/start", erin, CHECKOUT, 409, "CartEmpty")
        p = self.new_product(admin, stock=5)
        self.call("POST", "/cart", erin, {"productId": p["id"], "quantity": 4}, expect=200)
        self.call("PATCH", "/products/" + p["id"], admin, {"stock": 3}, expect=200)
        self.error_code("POST", "/checkout/start", erin, CHECKOUT, 409, "InsufficientStock")
        _, cart, _ = self.call("GET", "/cart", erin, expect=200)
        self.assertFalse(cart["items"][0]["available"])
        self.call("DELETE", "/products/" + p["id"], admin, expect=204)
        _, cart, _ = self.call("GET", "/cart", erin, expect=200)
        self.assertIsNone(cart["items"][0]["name"])
        self.error_code("POST", "/checkout/start", erin, CHECKOUT, 409, "ProductUnavailable")

    def test_checkout_refuses_mixed_currencies(self):
        admin, fay = self.user(admin=True), self.user()
        eur = self.new_product(admin, currency="EUR")
        self.call("POST", "/cart", fay, {"productId": eur["id"], "quantity": 1}, expect=200)
        _, cart, _ = self.call("POST", "/cart", fay, {"productId": "p-gift-card", "quantity": 1}, expect=200)
        self.assertTrue(cart["mixedCurrencies"])
        self.error_code("POST", "/checkout/start", fay, CHECKOUT, 409, "MixedCurrencies")

    def test_a_checkout_whose_saga_cannot_start_records_a_failed_order_and_keeps_the_cart(self):
        # The same template with CheckoutFunction pointed at a state machine that does not
        # exist: StartExecution fails (StateMachineDoesNotExist, or no Step Functions at all).
        tmp = tempfile.mkdtemp(prefix="shoplocal-tpl-")
        with open(os.path.join(harness.ROOT, "template.yaml")) as f:
            text = f.read()
        wired = "STATE_MACHINE_ARN: !Ref OrderProcessingStateMachine"
        self.assertIn(wired, text)
        with open(os.path.join(tmp, "template.yaml"), "w") as f:
            f.write(text.replace(wired, "STATE_MACHINE_ARN: arn:aws:states:%s:000000000000:"
                                        "stateMachine:no-such-machine" % self.region))
        os.symlink(os.path.join(harness.ROOT, "state-machines"), os.path.join(tmp, "state-machines"))
        emu = harness.Emulator("--functions", FUNCTIONS, "--seed", "fixtures/",
                               "--template", os.path.join(tmp, "template.yaml")).start()
        try:
            web = urlparse(emu.urls["web"])
            # a user of that emulator's pool (its own keys, made in its own data folder)
            gus = self.user(emu=emu)
            self.call("POST", "/cart", gus, {"productId": "p-linen-apron", "quantity": 2}, expect=200, web=web)
            key = [("Idempotency-Key", "gus-" + uuid.uuid4().hex)]
            self.error_code("POST", "/checkout/start", gus, CHECKOUT, 503, "ServiceUnavailable",
                            headers=key, web=web)
            _, cart, _ = self.call("GET", "/cart", gus, expect=200, web=web)
            self.assertEqual([(i["productId"], i["quantity"]) for i in cart["items"]], [("p-linen-apron", 2)])
            _, orders, _ = self.call("GET", "/orders", gus, expect=200, web=web)
            self.assertEqual(len(orders["items"]), 1)
            order = orders["items"][0]
            self.assertEqual(order["status"], "FAILED")
            self.assertEqual(order["failureReason"], "order processing could not be started")
            self.assertEqual(order["totalCents"], 2 * 3900, "priced from the table")
            self.assertEqual(order["lines"], [{"productId": "p-linen-apron", "name": "Linen Apron",
                                               "quantity": 2, "unitPriceCents": 3900,
                                               "lineTotalCents": 7800}])
            self.assertEqual(order["shippingAddress"], ADDRESS)
            # the table holds the order and its line, and no idempotency record (a retry runs again)
            ddb = emu.client("dynamodb")
            items = ddb.query(TableName=self.table, KeyConditionExpression="PK = :p",
                              ExpressionAttributeValues={":p": {"S": "ORDER#" + order["id"]}})["Items"]
            by_sk = {i["SK"]["S"]: i for i in items}
            self.assertEqual(sorted(by_sk), ["LINE#p-linen-apron", "ORDER"])
            self.assertEqual(by_sk["ORDER"]["GSI2PK"]["S"], "ORDER_STATUS#FAILED")
            status, _, _ = self.call("POST", "/checkout/start", gus, CHECKOUT, headers=key, web=web)
            self.assertEqual(status, 503, "the same key tries again rather than replaying a failure")
        finally:
            emu.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)

    def test_full_checkout_starts_the_saga_clears_the_cart_and_replays_with_the_same_key(self):
        hal = self.user()
        self.call("POST", "/cart", hal, {"productId": "p-espresso-beans", "quantity": 2}, expect=200)
        key = [("Idempotency-Key", "hal-" + uuid.uuid4().hex)]
        _, first, h = self.call("POST", "/checkout/start", hal, CHECKOUT, expect=202, headers=key)
        self.assertEqual(first["status"], "PENDING")
        self.assertEqual(first["totalCents"], 2 * 2499)
        self.assertTrue(first["executionArn"].endswith(":" + first["orderId"]))
        self.assertEqual(h["location"], "/orders/" + first["orderId"])
        _, cart, _ = self.call("GET", "/cart", hal, expect=200)
        self.assertEqual(cart["items"], [])
        _, again, h = self.call("POST", "/checkout/start", hal, CHECKOUT, expect=202, headers=key)
        self.assertEqual(again, first)
        self.assertEqual(h.get("idempotent-replayed"), "true")
        other = dict(CHECKOUT, paymentMethod="pm_card_visa_chargeDeclined")
        self.error_code("POST", "/checkout/start", hal, other, 422, "IdempotencyKeyReused", headers=key)
        _, order, _ = self.call("GET", "/orders/" + first["orderId"], hal, expect=200)
        self.assertIn(order["status"], ("PENDING", "CONFIRMED", "FAILED"))
        self.assertEqual(order["executionArn"], first["executionArn"])
        _, orders, _ = self.call("GET", "/orders", hal, expect=200)
        self.assertEqual([o["id"] for o in orders["items"]], [first["orderId"]])

    def put_idempotency_record(self, sub, key, body, status, response=None, started_ms=None,
                               order_id="o-replayed"):
        item = {"PK": {"S": "IDEMPOTENCY#%s#%s" % (sub, key)}, "SK": {"S": "IDEMPOTENCY"},
                "entity": {"S": "IdempotencyRecord"}, "userId": {"S": sub}, "status": {"S": status},
                "requestHash": {"S": hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()},
                "orderId": {"S": order_id}, "createdAt": {"S": "2026-02-01T00:00:00.000Z"},
                "startedMs": {"N": str(started_ms if started_ms is not None else int(time.time() * 1000))},
                "ttl": {"N": str(int(time.time()) + 3600)}}
        if response is not None:
            item["statusCode"] = {"N": "202"}
            item["response"] = {"S": json.dumps(response)}
        self.ddb.put_item(TableName=self.table, Item=item)

    def test_an_idempotency_key_replays_conflicts_and_refuses_another_body(self):
        token = self.user()
        sub = token.sub
        first = {"orderId": "o-replayed", "executionArn":
                 "arn:aws:states:us-east-1:000000000000:execution:shoplocal-order-processing:o-replayed",
                 "status": "PENDING", "totalCents": 4998, "currency": "USD"}
        self.put_idempotency_record(sub, "done-1", CHECKOUT, "COMPLETED", first)
        # the cart is empty: only the record can answer 202
        _, doc, h = self.call("POST", "/checkout/start", token, CHECKOUT, expect=202,
                              headers=[("Idempotency-Key", "done-1")])
        self.assertEqual(doc, first)
        self.assertEqual(h.get("idempotent-replayed"), "true")
        other = dict(CHECKOUT, paymentMethod="pm_card_visa_chargeDeclined")
        self.error_code("POST", "/checkout/start", token, other, 422, "IdempotencyKeyReused",
                        headers=[("Idempotency-Key", "done-1")])
        self.put_idempotency_record(sub, "running-1", CHECKOUT, "IN_PROGRESS")
        self.error_code("POST", "/checkout/start", token, CHECKOUT, 409, "RequestInProgress",
                        headers=[("Idempotency-Key", "running-1")])
        # keys are per user: another user's same key is a new request (here: an empty cart)
        self.error_code("POST", "/checkout/start", self.user(), CHECKOUT, 409, "CartEmpty",
                        headers=[("Idempotency-Key", "done-1")])

    def test_a_stale_in_progress_key_is_recovered_not_stuck(self):
        token = self.user()
        sub = token.sub
        long_ago = int(time.time() * 1000) - 120000
        # the first attempt died after starting the saga: its answer is rebuilt from the order
        oid = self.put_order(sub, 40, status="PENDING")
        arn = "arn:aws:states:us-east-1:000000000000:execution:shoplocal-order-processing:" + oid
        self.ddb.update_item(TableName=self.table, Key={"PK": {"S": "ORDER#" + oid}, "SK": {"S": "ORDER"}},
                             UpdateExpression="SET executionArn = :a",
                             ExpressionAttributeValues={":a": {"S": arn}})
        self.put_idempotency_record(sub, "died-after-start", CHECKOUT, "IN_PROGRESS",
                                    started_ms=long_ago, order_id=oid)
        for _ in range(2):
            _, doc, h = self.call("POST", "/checkout/start", token, CHECKOUT, expect=202,
                                  headers=[("Idempotency-Key", "died-after-start")])
            self.assertEqual(doc, {"orderId": oid, "executionArn": arn, "status": "PENDING",
                                   "totalCents": 1800, "currency": "USD"})
            self.assertEqual(h.get("idempotent-replayed"), "true")
        # the first attempt died before starting it: its order fails, this request runs afresh
        dead = self.put_order(sub, 41, status="PENDING")
        self.put_idempotency_record(sub, "died-before-start", CHECKOUT, "IN_PROGRESS",
                                    started_ms=long_ago, order_id=dead)
        status, doc, _ = self.call("POST", "/checkout/start", token, CHECKOUT,
                                   headers=[("Idempotency-Key", "died-before-start")])
        self.assertEqual((status, doc["error"]["code"]), (409, "CartEmpty"), "a fresh attempt")
        _, order, _ = self.call("GET", "/orders/" + dead, token, expect=200)
        self.assertEqual((order["status"], order["failureReason"]), ("FAILED", "checkout did not finish"))
        # a fresh IN_PROGRESS record is still a conflict
        self.put_idempotency_record(sub, "running-2", CHECKOUT, "IN_PROGRESS")
        self.error_code("POST", "/checkout/start", token, CHECKOUT, 409, "RequestInProgress",
                        headers=[("Idempotency-Key", "running-2")])

    # ---- orders ----------------------------------------------------------------

    def put_order(self, sub, n, status="CONFIRMED"):
        oid = "o-%s-%02d" % (uuid.uuid4().hex[:8], n)
        created = "2026-02-01T00:00:%02d.000Z" % n
        line = {"M": {"productId": {"S": "p-ceramic-mug"}, "name": {"S": "Ceramic Mug"},
                      "quantity": {"N": "1"}, "unitPriceCents": {"N": "1800"},
                      "lineTotalCents": {"N": "1800"}}}
        self.ddb.put_item(TableName=self.table, Item={
            "PK": {"S": "ORDER#" + oid}, "SK": {"S": "ORDER"},
            "GSI1PK": {"S": "USER#" + sub}, "GSI1SK": {"S": "ORDER#%s#%s" % (created, oid)},
            "GSI2PK": {"S": "ORDER_STATUS#" + status}, "GSI2SK": {"S": created + "#" + oid},
            "entity": {"S": "Order"}, "id": {"S": oid}, "userId": {"S": sub}, "status": {"S": status},
            "total": {"N": "1800"}, "currency": {"S": "USD"}, "lines": {"L": [line]},
            "createdAt": {"S": created}, "updatedAt": {"S": created}})
        return oid

    def test_orders_are_mine_newest_first_and_paginated(self):
        token = self.user()
        sub = token.sub
        ids = [self.put_order(sub, n) for n in range(7)]
        other = self.put_order(self.user().sub, 30)
        seen, last = [], None
        while True:
            path = "/orders?limit=3" + ("&lastKey=" + quote(last, safe="") if last else "")
            _, doc, _ = self.call("GET", path, token, expect=200)
            seen += [o["id"] for o in doc["items"]]
            last = doc["lastKey"]
            if not last:
                break
        self.assertEqual(seen, list(reversed(ids)))
        self.assertNotIn(other, seen)
        for bad in ("0", "51", "x"):
            self.error_code("GET", "/orders?limit=" + bad, token, None, 400, "InvalidParameter")

    def test_another_users_order_is_404_and_their_cursor_is_refused(self):
        alice, bob = self.user(), self.user()
        oid = self.put_order(alice.sub, 1)
        self.put_order(alice.sub, 2)
        _, doc, _ = self.call("GET", "/orders/" + oid, alice, expect=200)
        self.assertEqual(doc["id"], oid)
        self.assertEqual(doc["status"], "CONFIRMED")
        self.assertIsNone(doc["failureReason"])
        self.error_code("GET", "/orders/" + oid, bob, None, 404, "OrderNotFound")
        self.error_code("GET", "/orders/o-does-not-exist", bob, None, 404, "OrderNotFound")
        self.error_code("GET", "/orders/bad$id", bob, None, 400, "InvalidParameter")
        _, page, _ = self.call("GET", "/orders?limit=1", alice, expect=200)
        self.assertIsNotNone(page["lastKey"])
        self.error_code("GET", "/orders?lastKey=" + quote(page["lastKey"], safe=""), bob, None, 400,
                        "InvalidCursor")
        _, mine, _ = self.call("GET", "/orders", bob, expect=200)
        self.assertEqual(mine["items"], [])

    def test_one_user_cannot_read_or_replay_another_users_checkout(self):
        alice, mallory = self.user(), self.user()
        self.call("POST", "/cart", alice, {"productId": "p-green-tea", "quantity": 2}, expect=200)
        key = [("Idempotency-Key", "shared-" + uuid.uuid4().hex)]
        _, first, _ = self.call("POST", "/checkout/start", alice, CHECKOUT, expect=202, headers=key)
        oid = first["orderId"]
        _, order, _ = self.call("GET", "/orders/" + oid, alice, expect=200)
        self.assertEqual(order["totalCents"], 2 * 1450)
        # mallory, signed in as herself, can neither read alice's order nor list it
        self.error_code("GET", "/orders/" + oid, mallory, None, 404, "OrderNotFound")
        _, mine, _ = self.call("GET", "/orders", mallory, expect=200)
        self.assertEqual(mine["items"], [])
        # nor get alice's answer by sending alice's Idempotency-Key: keys are per user
        self.error_code("POST", "/checkout/start", mallory, CHECKOUT, 409, "CartEmpty", headers=key)
        # alice's access token (client_id instead of aud) passes the authorizer too, as the
        # same user: the template's audience is the app client, which API Gateway matches
        # against an access token's client_id
        self.assertEqual(claims_of(alice.access)["token_use"], "access")
        _, listed, _ = self.call("GET", "/orders", alice.access, expect=200)
        self.assertEqual([o["id"] for o in listed["items"]], [oid])
        _, listed, _ = self.call("GET", "/orders", mallory.access, expect=200)
        self.assertEqual(listed["items"], [])

    # ---- hostile input -------------------------------------------------------

    def test_malformed_oversized_and_hostile_bodies_never_500(self):
        admin, user = self.user(admin=True), self.user()
        bodies = [b"", b"null", b"[]", b"{", b"\"str\"", b"12", b"{}{}", b"{\"a\":1}garbage",
                  b"[" * 5000 + b"]" * 5000, b"{\"a\":" * 3000 + b"1" + b"}" * 3000,
                  b"{\"productId\":\"p-ceramic-mug\",\"quantity\":1e999}",
                  b"{\"productId\":\"p-ceramic-mug\",\"quantity\":-0}",
                  b"{\"productId\":\"p-ceramic-mug\",\"productId\":\"p-oak-tray\",\"quantity\":1}",
                  b"{\"productId\":\"\xff\xfe\",\"quantity\":1}",
                  b"{\"productId\":\"p-ceramic-mug\\u0000x\",\"quantity\":1}",
                  b"{\"__proto__\":{\"admin\":true}}",
                  b"{\"productId\":{\"S\":\"x\"},\"quantity\":{\"N\":\"1\"}}",
                  b"{\"name\":\"" + b"x" * 20000 + b"\"}",
                  b"\x00\x01\x02"]
        routes = [("POST", "/cart", user), ("PATCH", "/cart/p-ceramic-mug", user),
                  ("POST", "/checkout/start", user), ("POST", "/products", admin),
                  ("PATCH", "/products/p-ceramic-mug", admin),
                  ("POST", "/products/p-ceramic-mug/image-upload-url", admin)]
        for method, path, token in routes:
            for b in bodies:
                status, doc, _ = self.call(method, path, token, raw_body=b)
                self.assertIn(status, (400, 404, 409, 413, 422) if b else (200, 400, 404, 409, 413, 422),
                              (method, path, b[:60], doc))
                if status >= 400:
                    self.assertIn("error", doc, (method, path, b[:60]))
        status, doc, _ = self.call("POST", "/cart", user, raw_body=b"{\"a\":\"" + b"x" * 20000 + b"\"}")
        self.assertEqual((status, doc["error"]["code"]), (413, "PayloadTooLarge"))
        _, doc, _ = self.call("GET", "/products/p-ceramic-mug", expect=200)
        self.assertEqual(doc["stock"], 200)

    def test_a_binary_content_type_is_decoded_from_base64_before_parsing(self):
        user = self.user()
        body = json.dumps({"productId": "p-milk-frother", "quantity": 1}).encode()
        _, cart, _ = self.call("POST", "/cart", user, raw_body=body,
                               headers=[("Content-Type", "application/octet-stream")], expect=200)
        self.assertEqual(cart["items"][0]["productId"], "p-milk-frother")

    def test_handler_logs_carry_request_ids_and_no_tokens(self):
        token = self.user()
        self.call("GET", "/cart", token, expect=200)
        path = os.path.join(self.emu.data, "logs", "lambda", "shoplocal-CartFunction.log")
        deadline = time.monotonic() + 10
        while True:
            with open(path) as f:
                text = f.read()
            if '"event\\":\\"request\\"' in text or deadline < time.monotonic():
                break
        self.assertNotIn(token.split(".")[2], text)
        self.assertNotIn("eyJ", text)
        lines = [json.loads(l) for l in text.splitlines() if l.startswith("{")]
        reqs = [l for l in lines if '"event":"request"' in l.get("message", "")]
        self.assertTrue(reqs, text[-2000:])
        self.assertTrue(reqs[-1]["requestId"])
        self.assertIn("traceId", reqs[-1])
        msg = json.loads(reqs[-1]["message"])
        self.assertEqual((msg["route"], msg["status"]), ("GET /cart", 200))

    def test_unknown_routes_are_the_gateways_404(self):
        status, _, body = self.raw(self.web, "GET", "/api/nothing-here")
        self.assertEqual((status, json.loads(body)), (404, {"message": "Not Found"}))

    def test_seeding_again_on_restart_changes_nothing(self):
        # the seeded demo admin (fixtures/users.json): in Admins from the fixture
        admin = self.sign_in(*DEMO_ADMIN)
        self.assertEqual(admin.claims["cognito:groups"], ["Admins"])
        customer = self.user()
        self.call("POST", "/cart", customer, {"productId": "p-oak-tray", "quantity": 1}, expect=200)
        # sold stock and edited prices survive a restart with --seed again
        self.call("PATCH", "/products/p-cold-brew-jar", admin, {"priceCents": 2000, "stock": 7}, expect=200)
        emu2 = harness.Emulator("--functions", FUNCTIONS, "--seed", "fixtures/", data=self.emu.data)
        self.emu.stop()
        try:
            emu2.start(fresh=False)
            web = urlparse(emu2.urls["web"])
            status, _, body = self.raw(web, "GET", "/api/products/p-cold-brew-jar")
            doc = json.loads(body)
            self.assertEqual((status, doc["priceCents"], doc["stock"]), (200, 2000, 7))
            status, _, body = self.raw(web, "GET", "/api/products?limit=100")
            ids = [p["id"] for p in json.loads(body)["items"]]
            self.assertEqual(len(ids), len(set(ids)))
        finally:
            emu2.stop()
            # the rest of the suite continues on a restarted emulator with the same data
            type(self).emu = harness.Emulator("--functions", FUNCTIONS, "--seed", "fixtures/",
                                              data=self.emu.data)
            type(self).emu.own_data = True
            type(self).emu.start(fresh=False)
            type(self).web = urlparse(self.emu.urls["web"])
            type(self).aws = urlparse(self.emu.aws)
            type(self).ddb = self.emu.client("dynamodb")
            type(self).idp = self.emu.client("cognito-idp")
        # users, their passwords and the pool's keys live in the data folder: a token issued
        # before the restart still passes, and the seeded admin was not seeded twice
        _, cart, _ = self.call("GET", "/cart", customer, expect=200)
        self.assertEqual([(i["productId"], i["quantity"]) for i in cart["items"]], [("p-oak-tray", 1)])
        again = self.sign_in(*DEMO_ADMIN)
        self.assertEqual(again.sub, admin.sub)
        self.call("PATCH", "/products/p-cold-brew-jar", again, {"stock": 7}, expect=200)

    def test_a_fixture_the_api_would_refuse_stops_the_start_naming_it(self):
        cases = [('{"products": [{"id": "ok-1", "name": "Fine", "priceCents": 1, "stock": 1},'
                  ' {"id": "bad-1", "name": "Free", "priceCents": 0, "stock": 1}]}', "products[1]: priceCents"),
                 ('{"products": [{"name": "No id", "priceCents": 1, "stock": 1}]}', "products[0]: id"),
                 ('{"products": [{"id": "x", "name": "x", "priceCents": 1, "stock": 1, "owner": "me"}]}',
                  "owner: is not a known field"),
                 ('{"products": ', "must be {\"products\": [...]}"),
                 ('[1, 2]', "products[0]")]
        for text, fragment in cases:
            seed = tempfile.mkdtemp(prefix="shoplocal-seed-")
            data = tempfile.mkdtemp(prefix="shoplocal-data-")
            try:
                with open(os.path.join(seed, "products.json"), "w") as f:
                    f.write(text)
                r = subprocess.run([harness.BIN, "serve", "--data", os.path.join(data, "d"), "--fresh",
                                    "--web-port", "0", "--aws-port", "0", "--stripe-port", "0",
                                    "--seed", seed], cwd=harness.ROOT, capture_output=True, text=True,
                                   timeout=30)
                self.assertEqual(r.returncode, 2, (text, r.stderr[-500:]))
                self.assertIn(fragment, r.stderr, text)
            finally:
                shutil.rmtree(seed, ignore_errors=True)
                shutil.rmtree(data, ignore_errors=True)

    def test_zz_every_operation_of_the_contract_was_exercised(self):
        # runs last (unittest orders by name): every route of the contract has been called
        # and its answers validated; the statuses never seen are listed for the reader
        ops = {(m.upper(), t) for t, item in self.contract.spec["paths"].items()
               for m in item if m in ("get", "post", "patch", "delete")}
        seen_ops = {(m, t) for m, t, _ in self.contract.seen}
        self.assertEqual(ops - seen_ops, set())
        unseen = sorted("%s %s %s" % (m.upper(), t, st)
                        for t, item in self.contract.spec["paths"].items()
                        for m, op in item.items() if m in ("get", "post", "patch", "delete")
                        for st in op["responses"] if (m.upper(), t, int(st)) not in self.contract.seen)
        print("\n  contract: %d (operation, status) pairs answered; not exercised: %s"
              % (len(self.contract.seen), ", ".join(unseen) or "none"))
        self.assertEqual(unseen, [], "every documented answer is exercised")


if __name__ == "__main__":
    sys.exit(harness.run(__name__))
