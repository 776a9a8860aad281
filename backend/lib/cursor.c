/*
 * cursor.c — opaque HMAC-checked pagination cursors. See cursor.h.
 */
#include "lib/cursor.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define CURSOR_VERSION 0x01
#define MAC_LEN 32

static const char B64URL[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *cursor_b64url_encode(const unsigned char *data, size_t len)
{
    if (len > (SIZE_MAX - 4) / 4 * 3)
        return NULL;
    char *out = malloc(len / 3 * 4 + 5);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8 | data[i + 2];
        out[o++] = B64URL[v >> 18 & 63];
        out[o++] = B64URL[v >> 12 & 63];
        out[o++] = B64URL[v >> 6 & 63];
        out[o++] = B64URL[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)data[i] << 16;
        out[o++] = B64URL[v >> 18 & 63];
        out[o++] = B64URL[v >> 12 & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8;
        out[o++] = B64URL[v >> 18 & 63];
        out[o++] = B64URL[v >> 12 & 63];
        out[o++] = B64URL[v >> 6 & 63];
    }
    out[o] = '\0';
    return out;
}

static int digit(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

unsigned char *cursor_b64url_decode(const char *text, size_t *len)
{
    size_t n = strlen(text);
    if (n % 4 == 1)
        return NULL;
    unsigned char *out = malloc(n / 4 * 3 + 3);
    if (!out)
        return NULL;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int d = digit(text[i]);
        if (d < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6 | (unsigned)d) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* the unused low bits of the last digit must be zero: one text per value */
    if (bits && (acc & ((1u << bits) - 1))) {
        free(out);
        return NULL;
    }
    *len = o;
    return out;
}

static int mac(const char *secret, const char *scope, const unsigned char *json, size_t json_len,
               unsigned char out[MAC_LEN])
{
    const char *key = secret && *secret ? secret : CURSOR_DEFAULT_SECRET;
    size_t scope_len = strlen(scope);
    size_t n = 1 + scope_len + 1 + json_len;
    unsigned char *msg = malloc(n);
    if (!msg)
        return -1;
    msg[0] = CURSOR_VERSION;
    memcpy(msg + 1, scope, scope_len);
    msg[1 + scope_len] = 0;
    memcpy(msg + 2 + scope_len, json, json_len);
    unsigned int out_len = 0;
    unsigned char *r = HMAC(EVP_sha256(), key, (int)strlen(key), msg, n, out, &out_len);
    free(msg);
    return r && out_len == MAC_LEN ? 0 : -1;
}

char *cursor_encode(const cJSON *last_key, const char *scope, const char *secret)
{
    char *json = cJSON_PrintUnformatted(last_key);
    if (!json)
        return NULL;
    size_t json_len = strlen(json);
    /* the text must decode again: keep it under the accepted length */
    if ((1 + MAC_LEN + json_len) * 4 / 3 + 4 > CURSOR_MAX_TEXT) {
        free(json);
        return NULL;
    }
    unsigned char *blob = malloc(1 + MAC_LEN + json_len);
    if (!blob || mac(secret, scope, (const unsigned char *)json, json_len, blob + 1)) {
        free(blob);
        free(json);
        return NULL;
    }
    blob[0] = CURSOR_VERSION;
    memcpy(blob + 1 + MAC_LEN, json, json_len);
    char *text = cursor_b64url_encode(blob, 1 + MAC_LEN + json_len);
    free(blob);
    free(json);
    return text;
}

static int allowed_name(const char *name, const char *const *allowed)
{
    for (; allowed && *allowed; allowed++)
        if (!strcmp(name, *allowed))
            return 1;
    return 0;
}

cJSON *cursor_decode(const char *text, const char *scope, const char *secret,
                     const char *const *allowed)
{
    if (!text || !*text || strlen(text) > CURSOR_MAX_TEXT)
        return NULL;
    size_t len = 0;
    unsigned char *blob = cursor_b64url_decode(text, &len);
    if (!blob)
        return NULL;
    unsigned char expect[MAC_LEN];
    cJSON *key = NULL;
    if (len > 1 + MAC_LEN && blob[0] == CURSOR_VERSION &&
        !mac(secret, scope, blob + 1 + MAC_LEN, len - 1 - MAC_LEN, expect) &&
        !CRYPTO_memcmp(expect, blob + 1, MAC_LEN))
        key = cJSON_ParseWithLength((const char *)blob + 1 + MAC_LEN, len - 1 - MAC_LEN);
    free(blob);
    /* Even a correctly signed key is checked: a leaked secret must not open
     * the door to arbitrary ExclusiveStartKeys. */
    int n = 0;
    int ok = cJSON_IsObject(key);
    for (const cJSON *a = ok ? key->child : NULL; a && ok; a = a->next, n++) {
        const cJSON *only = a->child;
        ok = n < 4 && a->string && allowed_name(a->string, allowed) && cJSON_IsObject(a) &&
             only && !only->next && only->string &&
             ((!strcmp(only->string, "S") && cJSON_IsString(only)) ||
              (!strcmp(only->string, "N") && cJSON_IsString(only)));
    }
    if (!ok || n == 0) {
        cJSON_Delete(key);
        return NULL;
    }
    return key;
}
