/*
 * number.h — DynamoDB's Number: an exact decimal of up to 38 significant digits.
 *
 * DynamoDB numbers are never binary floating point: "5.10" and "5.1" are the same
 * number, 0.1 + 0.2 is exactly 0.3, and 38 significant digits survive a round
 * trip. Magnitudes run from 1E-130 to 9.9999999999999999999999999999999999999E+125
 * (positive and negative); 0 is its own value. Answers are normalised: "5.10" is
 * returned as "5.1", "1e3" as "1000", "-0" as "0".
 *
 * A ddb_num holds sign, significant digits (no leading or trailing zeros) and a
 * decimal exponent; value = sign * 0.d1d2...dn * 10^exp. Everything here is exact
 * integer work on digit strings: no double anywhere.
 *
 * Key order: ddb_num_key_encode gives bytes whose memcmp order is numeric order,
 * so SQLite can index numbers (sort keys, index keys) as BLOBs.
 */
#ifndef DDB_NUMBER_H
#define DDB_NUMBER_H

#include <stddef.h>

#include "core/err.h"

#define DDB_NUM_MAX_DIGITS 38
#define DDB_NUM_MIN_EXP (-129)  /* smallest magnitude 1E-130 = 0.1 * 10^-129 */
#define DDB_NUM_MAX_EXP 126     /* largest magnitude < 1E+126 = 0.1 * 10^127 */
#define DDB_NUM_TEXT_MAX 192    /* longest canonical text, with sign, point and NUL */
#define DDB_NUM_KEY_MAX 24      /* longest key encoding */

typedef struct ddb_num {
    int sign;                         /* -1, 0 or +1; 0 means the value is zero */
    int exp;                          /* value = sign * 0.digits * 10^exp */
    int ndigits;                      /* 0 for zero, else 1..38 */
    char digits[DDB_NUM_MAX_DIGITS];  /* ASCII digits, digits[0] != '0', last != '0' */
} ddb_num;

/* Parse text[0..len) — an optional sign, digits with an optional point, an optional
 * exponent (e/E, optional sign, digits); leading and trailing zeros allowed.
 * Errors (type ValidationException, status 400), AWS's wording:
 *   not a number  -> "The parameter cannot be converted to a numeric value: <text>"
 *   > 38 digits   -> "Attempting to store more than 38 significant digits in a Number"
 *   too large     -> "Number overflow. Attempting to store a number with magnitude larger
 *                     than supported range"
 *   too small     -> "Number underflow. Attempting to store a number with magnitude smaller
 *                     than supported range" */
int ddb_num_parse(const char *text, size_t len, ddb_num *out, core_err *err);

/* The canonical text (no exponent, no superfluous zeros): "0", "-5.1", "1000",
 * "0.00001". Writes at most len bytes including the NUL; returns the length the
 * full text needs (like snprintf). */
size_t ddb_num_format(const ddb_num *n, char *buf, size_t len);

/* Normalise a number's text in place of a malloc'd copy: parse + format. Returns a
 * new string (caller frees) or NULL with err filled. */
char *ddb_num_normalize(const char *text, core_err *err);

/* -1, 0, +1 as a < b, a == b, a > b, numerically. */
int ddb_num_cmp(const ddb_num *a, const ddb_num *b);

/* out = a + b, or a - b, exactly. Errors as ddb_num_parse's when the result needs
 * more than 38 significant digits or leaves the range. out may alias a or b. */
int ddb_num_add(const ddb_num *a, const ddb_num *b, ddb_num *out, core_err *err);
int ddb_num_sub(const ddb_num *a, const ddb_num *b, ddb_num *out, core_err *err);

/* Order-preserving bytes: memcmp(enc(a), enc(b)) has the sign of ddb_num_cmp(a, b).
 * Writes into buf (>= DDB_NUM_KEY_MAX bytes) and returns the length used. */
size_t ddb_num_key_encode(const ddb_num *n, unsigned char *buf);

/* DynamoDB's storage size of the number in bytes, for item-size accounting:
 * (significant digits + 1) / 2 + 1. */
size_t ddb_num_size(const ddb_num *n);

#endif
