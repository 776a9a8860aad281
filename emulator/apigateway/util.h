/*
 * util.h — small text helpers the HTTP API emulation shares (base64), each with
 * explicit lengths; percent-decoding and UTF-8 validation are core/codec.h's.
 *
 * They live here rather than in core/ because their rules are API Gateway's:
 * a path segment decodes '%XX' but never '+', a query component decodes both,
 * and base64 is the standard alphabet with padding (what Lambda events and
 * results carry).
 */
#ifndef APIGW_UTIL_H
#define APIGW_UTIL_H

#include <stddef.h>

/* Percent-decoding: core_url_decode in core/codec.h. */

/* UTF-8 validation: core_utf8_valid in core/codec.h. */

/* Standard base64 with padding. Caller frees; NULL on allocation failure. */
char *apigw_base64_encode(const unsigned char *data, size_t len);

/* Decode standard base64 (padding optional, no whitespace). Caller frees the
 * result (NUL-terminated for convenience); NULL when text is not base64. */
unsigned char *apigw_base64_decode(const char *text, size_t len, size_t *out_len);

#endif
