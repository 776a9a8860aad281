/*
 * token.h — Cognito's signing keys and RS256 JSON Web Tokens.
 *
 * Source: Cognito developer guide, "Verifying a JSON Web Token" and "Using the
 * ID token" / "Using the access token". A user pool signs with RSA key pairs
 * and publishes the public halves at <issuer>/.well-known/jwks.json as
 * {"keys":[{"alg":"RS256","e","kid","kty":"RSA","n","use":"sig"}]}; ID tokens
 * and access tokens are signed by different keys, told apart by `kid`. The JWT
 * header is {"kid","alg":"RS256"}.
 *
 * A key's kid is the standard base64 of the SHA-256 of its public key (DER),
 * the shape Cognito's kids have (44 characters ending in "="), so it changes
 * only with the key. Keys are kept as PKCS#8 PEM text by the model.
 */
#ifndef COG_TOKEN_H
#define COG_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/err.h"

typedef struct cog_key cog_key;

/* A new RSA-2048 key pair. NULL and err filled on failure. */
cog_key *cog_key_generate(core_err *err);

/* The key a PEM private key (PKCS#8 or traditional RSA) holds; NULL and err
 * filled if the text is not an RSA private key. */
cog_key *cog_key_from_pem(const char *pem, core_err *err);

/* The private key as PKCS#8 PEM text (caller frees), or NULL. */
char *cog_key_to_pem(const cog_key *key);

/* The key's kid (borrowed). */
const char *cog_key_kid(const cog_key *key);

/* Free; NULL is a no-op. */
void cog_key_free(cog_key *key);

/* The public key as a JWK in Cognito's member order (caller owns). */
cJSON *cog_key_jwk(const cog_key *key);

/* The JWKS document {"keys":[...]} of keys[0..n) as JSON text (caller frees). */
char *cog_jwks_render(const cog_key *const *keys, size_t n);

/* header.payload.signature: claims (borrowed) serialised compactly, signed with
 * RSASSA-PKCS1-v1_5 SHA-256 under key. Caller frees; NULL on failure. */
char *cog_jwt_sign(const cog_key *key, const cJSON *claims);

typedef enum cog_jwt_status {
    COG_JWT_VALID = 0,
    COG_JWT_MALFORMED,  /* not three base64url parts of JSON objects, too long, alg not RS256 */
    COG_JWT_BAD_SIGNATURE, /* no key of that kid, or the signature does not verify */
    COG_JWT_EXPIRED,    /* exp missing or not after now_s */
} cog_jwt_status;

/* Verify token against keys[0..n) (the kid picks the key) and its exp against
 * now_s. On COG_JWT_VALID and COG_JWT_EXPIRED *claims_out (if not NULL)
 * receives the payload (caller owns); otherwise it is NULL. Tokens over 16 KiB
 * are malformed. */
cog_jwt_status cog_jwt_verify(const cog_key *const *keys, size_t n, const char *token,
                              int64_t now_s, cJSON **claims_out);

#endif
