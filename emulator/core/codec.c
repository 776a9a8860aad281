/*
 * codec.c — percent-decoding, base64 digits and base64url. See codec.h.
 */
#include "core/codec.h"

#include <stdlib.h>
#include <string.h>

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *core_url_decode(const char *text, size_t len, int plus_is_space, size_t *out_len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)text[i];
        if (c == '%') {
            if (len - i < 3) {
                free(out);
                return NULL;
            }
            int h = hex_value((unsigned char)text[i + 1]);
            int l = hex_value((unsigned char)text[i + 2]);
            if (h < 0 || l < 0) {
                free(out);
                return NULL;
            }
            c = h * 16 + l;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == 0) {
            free(out);
            return NULL;
        }
        out[n++] = (char)c;
    }
    out[n] = '\0';
    if (out_len)
        *out_len = n;
    return out;
}

char *core_query_param(const char *query, const char *name)
{
    size_t name_len = strlen(name);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > name_len && !strncmp(p, name, name_len) && p[name_len] == '=')
            return core_url_decode(p + name_len + 1, len - name_len - 1, 1, NULL);
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

int core_base64_digit(unsigned char c, int url_alphabet)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url_alphabet ? '-' : '+'))
        return 62;
    if (c == (url_alphabet ? '_' : '/'))
        return 63;
    return -1;
}

char *core_base64url_encode(const unsigned char *data, size_t len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = malloc(len / 3 * 4 + 5);
    if (!out)
        return NULL;
    size_t n = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8 | data[i + 2];
        out[n++] = abc[v >> 18];
        out[n++] = abc[(v >> 12) & 63];
        out[n++] = abc[(v >> 6) & 63];
        out[n++] = abc[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)data[i] << 16;
        out[n++] = abc[v >> 18];
        out[n++] = abc[(v >> 12) & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8;
        out[n++] = abc[v >> 18];
        out[n++] = abc[(v >> 12) & 63];
        out[n++] = abc[(v >> 6) & 63];
    }
    out[n] = 0;
    return out;
}

unsigned char *core_base64_decode_unpadded(const char *s, size_t len, int url_alphabet,
                                           size_t *out_len)
{
    if (len % 4 == 1)
        return NULL;
    unsigned char *out = malloc(len / 4 * 3 + 3);
    if (!out)
        return NULL;
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = core_base64_digit((unsigned char)s[i], url_alphabet);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    out[n] = 0;
    if (out_len)
        *out_len = n;
    return out;
}

unsigned char *core_base64url_decode(const char *s, size_t len, size_t *out_len)
{
    return core_base64_decode_unpadded(s, len, 1, out_len);
}

cJSON *core_base64url_json_object(const char *s, size_t len)
{
    size_t n = 0;
    unsigned char *raw = core_base64url_decode(s, len, &n);
    if (!raw)
        return NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)raw, n);
    free(raw);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

size_t core_utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
        (len == 4 && (v < 0x10000 || v > 0x10FFFF)))
        return 0;
    *cp = v;
    return len;
}

int core_utf8_valid(const unsigned char *data, size_t len)
{
    uint32_t cp;
    for (size_t i = 0; i < len;) {
        size_t step = core_utf8_char(data + i, len - i, &cp);
        if (!step)
            return 0;
        i += step;
    }
    return 1;
}
