/*
 * codec.h — the small text codecs several services share: percent-decoding of
 * URLs and query strings, and base64 digits (standard and URL alphabets).
 * Every function is bounded by an explicit length and never reads past it.
 */
#ifndef CORE_CODEC_H
#define CORE_CODEC_H

#include <stddef.h>

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

#endif
