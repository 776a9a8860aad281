/*
 * cursor.h — the opaque, tamper-checked pagination cursor of list answers
 * ({"items": [...], "lastKey": "<cursor>"}).
 *
 * A cursor carries DynamoDB's LastEvaluatedKey back to the client and, on the
 * next request, to ExclusiveStartKey. The client must not be able to forge one
 * (an arbitrary ExclusiveStartKey could start a Query anywhere), nor replay one
 * in another listing (another user's orders): so the text is
 *
 *     base64url( 0x01 | HMAC-SHA256(key, 0x01 | scope | 0x00 | json) | json )
 *
 * with json the LastEvaluatedKey printed unformatted and scope a string naming
 * the listing ("products", "orders#<sub>"). Decoding checks the length, the
 * alphabet, the version, the MAC in constant time, and that the key is an
 * object of at most 4 attributes, each one of the allowed names with a single
 * S or N value: anything else is "invalid" (the API's 400).
 *
 * The key comes from CURSOR_SECRET in the function's environment; without it a
 * fixed local default is used (set the variable in production).
 */
#ifndef BACKEND_CURSOR_H
#define BACKEND_CURSOR_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* The longest cursor text accepted. */
#define CURSOR_MAX_TEXT 2048

/* The key used when CURSOR_SECRET is unset (local development only). */
#define CURSOR_DEFAULT_SECRET "shoplocal-local-cursor-key"

/* Encode a LastEvaluatedKey (borrowed) under scope. Returns the cursor text
 * (caller frees), or NULL when the key is too large or memory runs out. */
char *cursor_encode(const cJSON *last_key, const char *scope, const char *secret);

/* Decode text made by cursor_encode with the same scope and secret. allowed is
 * a NULL-terminated list of the attribute names a key may have. Returns the key
 * (caller owns; ready for ExclusiveStartKey), or NULL when the cursor is
 * malformed, tampered with, from another scope, or names other attributes. */
cJSON *cursor_decode(const char *text, const char *scope, const char *secret,
                     const char *const *allowed);

/* base64url without padding of data[len] into a new string (caller frees). */
char *cursor_b64url_encode(const unsigned char *data, size_t len);

/* Decode unpadded base64url text; returns the bytes (caller frees) and *len, or
 * NULL on any character outside the alphabet or an impossible length. */
unsigned char *cursor_b64url_decode(const char *text, size_t *len);

#endif
