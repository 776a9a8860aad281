/*
 * val.h — strict validation of JSON request bodies against a small schema: a
 * table of fields, each with a type, whether it is required, and bounds.
 *
 * Strict means: every field of the body must be in the table (unknown fields
 * are refused, so a typo is an error and not silently ignored), types are
 * exact (an integer is a JSON number without a fraction, within +-2^53; a
 * string is valid UTF-8 with no control characters except, when allowed, tab
 * and newline), string bounds count code points, integers are bounded, and
 * nested objects are validated by their own table. The first problem found is
 * reported as "<path>: <what is wrong>", e.g. "shippingAddress.zipCode: must
 * match ^[0-9]{5}(-[0-9]{4})?$".
 *
 * Patterns are a deliberately tiny language (no regex engine on untrusted
 * input): val_check callbacks do anything richer.
 */
#ifndef BACKEND_VAL_H
#define BACKEND_VAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

typedef enum val_type {
    VAL_STRING,
    VAL_INT,
    VAL_BOOL,
    VAL_OBJECT,
} val_type;

#define VAL_REQUIRED 1u
#define VAL_MULTILINE 2u /* strings: allow \n, \r and \t */
#define VAL_NULLABLE 4u  /* JSON null is accepted (and means "clear") */

/* A custom check of a present value: 0 when valid, else nonzero with why[] set
 * ("must be ..."). */
typedef int (*val_check_fn)(const cJSON *value, char *why, size_t why_len);

typedef struct val_field {
    const char *name;
    val_type type;
    unsigned flags;
    long long min, max;              /* INT: value bounds; STRING: length in code points */
    const struct val_field *fields;  /* OBJECT: its fields, terminated by a {NULL} row */
    val_check_fn check;              /* optional, run after the type and bounds checks */
} val_field;

typedef struct val_problem {
    char message[300];
} val_problem;

/* Validate obj (a JSON object) against fields (terminated by a row whose name is
 * NULL). Returns 0, or -1 with p->message naming the first problem. */
int val_object(const cJSON *obj, const val_field *fields, val_problem *p);

/* Nonzero when s is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int val_utf8(const char *s, size_t len);

/* Code points in valid UTF-8 text s. */
size_t val_utf8_length(const char *s);

/* Nonzero when s is an identifier: 1..max_len of [A-Za-z0-9_-]. */
int val_id(const char *s, size_t max_len);

/* Nonzero when JSON value v is an integer (no fraction) within [min, max],
 * both within +-2^53; *out gets it. */
int val_int(const cJSON *v, long long min, long long max, long long *out);

#endif
