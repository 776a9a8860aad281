"""Compact-JWS helpers the compat suites share: base64url without padding, a
token's decoded parts, RS256 tokens signed by a test key, and RSA public keys
as JWKS entries (what PUT /_shoplocal/jwks takes)."""
import base64
import json

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding


def b64url(data):
    """base64url of bytes, without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(part):
    """The bytes of an unpadded base64url part."""
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def int_b64url(n):
    """A JWK integer (n, e): its big-endian bytes, base64url."""
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def parts(token):
    """(header, claims, signature text) of a three-part token."""
    h, p, s = token.split(".")
    return json.loads(unb64(h)), json.loads(unb64(p)), s


def header_of(token):
    return json.loads(unb64(token.split(".")[0]))


def claims_of(token):
    return json.loads(unb64(token.split(".")[1]))


def rs256(header, claims, key):
    """header.claims.signature: both JSON-serialised, signed with RSASSA-PKCS1-v1_5
    SHA-256 by key (a cryptography RSA private key)."""
    signed = (b64url(json.dumps(header).encode()) + "." +
              b64url(json.dumps(claims).encode())).encode()
    return signed.decode() + "." + b64url(key.sign(signed, padding.PKCS1v15(), hashes.SHA256()))


def rsa_jwk(key, kid):
    """The JWKS entry of key's public half (an RSA private key) under kid."""
    pub = key.public_key().public_numbers()
    return {"kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig",
            "n": int_b64url(pub.n), "e": int_b64url(pub.e)}
