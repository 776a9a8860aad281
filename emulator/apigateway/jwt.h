/*
 * jwt.h — the HTTP API's JWT authorizer, and the registry of signing keys it
 * verifies tokens with.
 *
 * Source: API Gateway developer guide, "Control access to HTTP APIs with JWT
 * authorizers" and "Troubleshooting issues with HTTP API JWT authorizers", and
 * WIRE.md. The rules, in the order they are checked:
 *
 *   1. The token comes from the identity source ($request.header.Authorization
 *      only), "with or without Bearer" (the prefix is matched case-
 *      insensitively). No token at all: APIGW_JWT_MISSING.
 *   2. It is decoded: three base64url parts, a JSON object header and payload.
 *      A token over APIGW_JWT_MAX_TOKEN bytes is refused before decoding.
 *   3. Algorithm and signature: "only RSA-based algorithms are supported"; we
 *      take RS256, what Cognito signs with. `alg` none or HS256 is refused even
 *      if the HMAC was keyed with the public key. `kid` must be present and name
 *      a key of the JWKS registered for the authorizer's own issuer, so a token
 *      another pool signed finds no key. The signature is RSASSA-PKCS1-v1_5 with
 *      SHA-256.
 *   4. Claims: `exp` required and after now, `nbf` (when present) not after
 *      now, with no clock skew allowance (the guide documents none); `iss`
 *      equal to the configured issuer; audience: "API Gateway validates
 *      client_id only if aud is not present" — `aud` (string or array) must hold
 *      one of the configured audiences, otherwise `client_id` must be one.
 *   5. Scopes: when the route declares AuthorizationScopes, the token's `scope`
 *      (space-separated) or `scp` (array or string) must hold at least one of
 *      them. An ID token has no scope, so it never passes a scoped route.
 *
 * Answers: a refused token is 401 {"message":"Unauthorized"} with
 * `www-authenticate: Bearer scope="" error="invalid_token"
 * error_description="<why>"` (the troubleshooting page's example, with "the
 * token does not have a valid audience"); an unmet scope is 403
 * {"message":"Forbidden"} with `www-authenticate: Bearer scope="<route
 * scopes>" error="insufficient_scope" error_description="expected scopes:
 * [<route scopes>]"` (a live AWS answer captured June 2024). The other
 * descriptions are not published by AWS; see jwt.c for which is which.
 *
 * The registry is thread-safe: keys are reference-counted EVP_PKEYs, so a
 * request verifying with a key keeps it alive while apigw_jwks_set replaces
 * the issuer's set.
 */
#ifndef APIGW_JWT_H
#define APIGW_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/err.h"
#include "core/template.h"

#define APIGW_JWT_MAX_TOKEN (16 * 1024) /* bytes of a token we will decode */
#define APIGW_JWKS_MAX_TEXT (256 * 1024) /* bytes of a JWKS document */

typedef struct apigw_jwks apigw_jwks;

/* An empty registry; NULL on allocation failure. */
apigw_jwks *apigw_jwks_new(void);

/* Free; NULL is a no-op. */
void apigw_jwks_free(apigw_jwks *registry);

/* Replace the keys of `issuer` with those of a JWKS document
 * ({"keys":[{"kid","kty":"RSA","alg":"RS256","use":"sig","n","e"}]}). The whole
 * document is refused (CORE_ERROR, err 400 "ValidationException", nothing
 * changed) if it is not JSON, has no "keys" array, or any key lacks a kid,
 * is not kty RSA, has an alg other than RS256 or a use other than sig, has
 * n/e that are not base64url, or repeats a kid. An empty "keys" array removes
 * the issuer's keys. CORE_OK on success. */
int apigw_jwks_set(apigw_jwks *registry, const char *issuer, const char *jwks_json,
                   core_err *err);

/* Number of keys registered for issuer (0 if none). */
size_t apigw_jwks_count(const apigw_jwks *registry, const char *issuer);

typedef enum apigw_jwt_result {
    APIGW_JWT_DENIED = 0,    /* 401, why = the error_description */
    APIGW_JWT_ALLOWED = 1,   /* claims and scopes filled */
    APIGW_JWT_FORBIDDEN = 2, /* 403, valid token lacking the route's scopes */
    APIGW_JWT_MISSING = 3,   /* 401, no token in the identity source; why = "" */
} apigw_jwt_result;

/* Authorize one request against auth (see the rules above). authorization is
 * the identity source's value (NULL when the header is absent); now_s the
 * emulator clock in epoch seconds. On APIGW_JWT_ALLOWED, *claims_out receives
 * the claims as API Gateway passes them (an object of strings, see
 * apigw_claim_string) and *scopes_out the token's scopes as an array of
 * strings when the route declares scopes, a JSON null otherwise; the caller
 * owns both. On anything else both are NULL and why (if why_len > 0) holds
 * the error_description. Never fails on malformed input: every parse error is
 * a refusal. Allocation failure refuses with "internal error". */
apigw_jwt_result apigw_jwt_authorize(const apigw_jwks *registry, const core_tpl_authorizer *auth,
                                     char *const *route_scopes, size_t n_route_scopes,
                                     const char *authorization, int64_t now_s,
                                     cJSON **claims_out, cJSON **scopes_out, char *why,
                                     size_t why_len);

/* The www-authenticate value for a refusal: result and why as returned by
 * apigw_jwt_authorize, route_scopes those of the route. Written to out
 * (truncated to out_len - 1). */
void apigw_jwt_challenge(apigw_jwt_result result, const char *why, char *const *route_scopes,
                         size_t n_route_scopes, char *out, size_t out_len);

#endif
