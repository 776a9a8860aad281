/*
 * codec.h — the small text codecs several services share: percent-decoding of
 * URLs and query strings, base64 digits (standard and URL alphabets), and
 * unpadded base64url (JWT parts, JWK numbers, opaque tokens), UTF-8 validation.
 * Every function is bounded by an explicit length and never reads past it.
 */
#ifndef CORE_CODEC_H
#define CORE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Percent-decode text[0..len). plus_is_space turns '+' into ' ' (query strings,
 * never paths). Returns a NUL-terminated copy the caller frees, or NULL when an
 * escape is malformed ('%' not followed by two hex digits), when the result
 * would contain a NUL byte, or on allocation failure. *out_len (if not NULL)
 * receives the decoded length. */
char *core_url_decode(const char *text, size_t len, int plus_is_space, size_t *out_len);

/* The decoded value of the first `name=value` parameter of a raw query string
 * (caller frees), or NULL when absent or malformed. */
char *core_query_param(const char *query, const char *name);

/* The value 0..63 of a base64 digit, or -1: the standard alphabet ('+', '/'),
 * or with url_alphabet the URL-safe one ('-', '_'). */
int core_base64_digit(unsigned char c, int url_alphabet);

/* base64url without padding of data[0..len) (caller frees); NULL on allocation
 * failure. */
char *core_base64url_encode(const unsigned char *data, size_t len);

/* Decode s[0..len) as unpadded base64 (with url_alphabet, base64url): digits
 * only, no '=' and no white space. Returns a malloc'd buffer (NUL-terminated
 * for convenience; *out_len, if not NULL, excludes it), or NULL if the text is
 * not such base64 or on allocation failure. */
unsigned char *core_base64_decode_unpadded(const char *s, size_t len, int url_alphabet,
                                           size_t *out_len);

/* core_base64_decode_unpadded with the URL-safe alphabet. */
unsigned char *core_base64url_decode(const char *s, size_t len, size_t *out_len);

/* The JSON object s[0..len) encodes as base64url (a JWT's header or payload;
 * caller deletes), or NULL when it is not base64url or not a JSON object. */
cJSON *core_base64url_json_object(const char *s, size_t len);

/* The length (1-4) of the well-formed UTF-8 character at s[0..n) (no overlong
 * form, no surrogate, nothing past U+10FFFF), with its code point in *cp; 0
 * when s does not start with one (or n is 0). */
size_t core_utf8_char(const unsigned char *s, size_t n, uint32_t *cp);

/* 1 when data[0..len) is well-formed UTF-8 (core_utf8_char's rules), else 0. */
int core_utf8_valid(const unsigned char *data, size_t len);

#endif
