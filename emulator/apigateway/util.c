/*
 * util.c — base64 for the HTTP API emulation (percent-decoding is
 * core_url_decode and UTF-8 validation core_utf8_valid, core/codec.h). See
 * util.h. Every loop is bounded by an explicit length; sizes
 * are checked before they are multiplied.
 */
#include "apigateway/util.h"

#include "core/codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *apigw_base64_encode(const unsigned char *data, size_t len)
{
    if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;
    size_t n = (len + 2) / 3 * 4;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

unsigned char *apigw_base64_decode(const char *text, size_t len, size_t *out_len)
{
    /* Padding is optional: strip up to two '=' then require the rest to be
     * alphabet characters whose count leaves no lone sextet. */
    size_t end = len;
    if (end > 0 && text[end - 1] == '=')
        end--;
    if (end > 0 && text[end - 1] == '=')
        end--;
    if (len != end && len % 4 != 0)
        return NULL;
    return core_base64_decode_unpadded(text, end, 0, out_len);
}
