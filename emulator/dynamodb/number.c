/*
 * number.c — DynamoDB's Number as an exact decimal. See number.h.
 *
 * Invariants of a ddb_num produced here:
 *   - zero is {sign 0, exp 0, ndigits 0};
 *   - otherwise sign is -1 or +1, digits[0] != '0', digits[ndigits-1] != '0',
 *     1 <= ndigits <= 38, DDB_NUM_MIN_EXP <= exp <= DDB_NUM_MAX_EXP;
 *   - value = sign * 0.d1d2...dn * 10^exp, so the scientific exponent is exp - 1:
 *     1E+125 has exp 126, 1E-130 has exp -129.
 * Every number has exactly one such form, so equality is field equality, and text,
 * key bytes and size are functions of the value alone ("5.10" and "5.1" agree).
 *
 * Nothing here uses floating point: parsing walks the text once, counting digits
 * and clamping the exponent so that hostile input ("1e99999999999", ten thousand
 * digits) costs one pass and can neither overflow an integer nor allocate.
 *
 * AWS behaviour reproduced (DynamoDB developer guide, "Supported data types": Number;
 * error wording as real DynamoDB answers it, checked against dynalite's suite that
 * was recorded on AWS and later public captures):
 *   range is checked before precision: "1e126" is an overflow even when it also has
 *   too many digits; the text of an unparsable value is echoed after a colon.
 */
#include "dynamodb/number.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VALIDATION "ValidationException"

/* An exponent written in the text is clamped here: far beyond any range check,
 * far below LLONG_MAX even after adding a text length. */
#define EXPONENT_CLAMP 1000000000000000LL

/* Longest text echoed in a "cannot be converted" message (core_err truncates anyway). */
#define ECHO_MAX 900

static int err_not_a_number(const char *text, size_t len, core_err *err)
{
    if (len == 0)
        return core_err_set(err, 400, VALIDATION,
                            "The parameter cannot be converted to a numeric value");
    return core_err_set(err, 400, VALIDATION,
                        "The parameter cannot be converted to a numeric value: %.*s",
                        (int)(len > ECHO_MAX ? ECHO_MAX : len), text);
}

static int err_overflow(core_err *err)
{
    return core_err_set(err, 400, VALIDATION,
                        "Number overflow. Attempting to store a number with magnitude larger "
                        "than supported range");
}

static int err_underflow(core_err *err)
{
    return core_err_set(err, 400, VALIDATION,
                        "Number underflow. Attempting to store a number with magnitude smaller "
                        "than supported range");
}

static int err_precision(core_err *err)
{
    return core_err_set(err, 400, VALIDATION,
                        "Attempting to store more than 38 significant digits in a Number");
}

/* The checks every result goes through, in AWS's order: range, then precision. */
static int check_limits(long long exp, long long ndigits, core_err *err)
{
    if (exp > DDB_NUM_MAX_EXP)
        return err_overflow(err);
    if (exp < DDB_NUM_MIN_EXP)
        return err_underflow(err);
    if (ndigits > DDB_NUM_MAX_DIGITS)
        return err_precision(err);
    return CORE_OK;
}

static void set_zero(ddb_num *n)
{
    n->sign = 0;
    n->exp = 0;
    n->ndigits = 0;
    memset(n->digits, 0, sizeof n->digits);
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int ddb_num_parse(const char *text, size_t len, ddb_num *out, core_err *err)
{
    if (!text || !out)
        return err_not_a_number("", 0, err);

    size_t i = 0;
    int negative = 0;
    if (i < len && (text[i] == '+' || text[i] == '-')) {
        negative = text[i] == '-';
        i++;
    }

    /* Mantissa: digits with at most one point. Digit positions are counted over
     * the digits only, so the point's place is int_digits. */
    size_t mantissa_start = i;
    size_t ndigits_total = 0, int_digits = 0;
    size_t first_nonzero = SIZE_MAX, last_nonzero = 0;
    int seen_point = 0;
    for (; i < len; i++) {
        char c = text[i];
        if (is_digit(c)) {
            if (c != '0') {
                if (first_nonzero == SIZE_MAX)
                    first_nonzero = ndigits_total;
                last_nonzero = ndigits_total;
            }
            ndigits_total++;
            if (!seen_point)
                int_digits++;
        } else if (c == '.' && !seen_point) {
            seen_point = 1;
        } else {
            break;
        }
    }
    if (ndigits_total == 0)
        return err_not_a_number(text, len, err);

    long long exponent = 0;
    if (i < len && (text[i] == 'e' || text[i] == 'E')) {
        i++;
        int exponent_negative = 0;
        if (i < len && (text[i] == '+' || text[i] == '-')) {
            exponent_negative = text[i] == '-';
            i++;
        }
        size_t exponent_start = i;
        for (; i < len && is_digit(text[i]); i++)
            if (exponent < EXPONENT_CLAMP)
                exponent = exponent * 10 + (text[i] - '0');
        if (i == exponent_start)
            return err_not_a_number(text, len, err);
        if (exponent_negative)
            exponent = -exponent;
    }
    if (i != len)
        return err_not_a_number(text, len, err);

    if (first_nonzero == SIZE_MAX) {
        set_zero(out);
        return CORE_OK;
    }

    /* Text lengths that do not fit a long long cannot exist in memory; clamping
     * keeps the arithmetic defined all the same. */
    long long ld = int_digits > (size_t)EXPONENT_CLAMP ? EXPONENT_CLAMP : (long long)int_digits;
    long long lf = first_nonzero > (size_t)EXPONENT_CLAMP ? EXPONENT_CLAMP
                                                          : (long long)first_nonzero;
    long long exp = ld - lf + exponent;
    long long nsig = (long long)(last_nonzero - first_nonzero) + 1;
    if (check_limits(exp, nsig, err) != CORE_OK)
        return CORE_ERROR;

    ddb_num n;
    set_zero(&n);
    n.sign = negative ? -1 : 1;
    n.exp = (int)exp;
    n.ndigits = (int)nsig;
    size_t k = 0;
    for (size_t j = mantissa_start; j < len && k <= last_nonzero; j++) {
        if (!is_digit(text[j]))
            continue;
        if (k >= first_nonzero)
            n.digits[k - first_nonzero] = text[j];
        k++;
    }
    *out = n;
    return CORE_OK;
}

/* A number as this file produces it, or a zero; out-of-range fields are clamped so
 * that formatting and encoding stay inside their buffers whatever the caller built. */
static int safe_ndigits(const ddb_num *n)
{
    if (n->sign == 0 || n->ndigits <= 0)
        return 0;
    return n->ndigits > DDB_NUM_MAX_DIGITS ? DDB_NUM_MAX_DIGITS : n->ndigits;
}

static int safe_exp(const ddb_num *n)
{
    if (n->exp > DDB_NUM_MAX_EXP)
        return DDB_NUM_MAX_EXP;
    if (n->exp < DDB_NUM_MIN_EXP)
        return DDB_NUM_MIN_EXP;
    return n->exp;
}

size_t ddb_num_format(const ddb_num *n, char *buf, size_t len)
{
    char text[DDB_NUM_TEXT_MAX];
    size_t t = 0;
    int nd = n ? safe_ndigits(n) : 0;

    if (nd == 0) {
        text[t++] = '0';
    } else {
        int exp = safe_exp(n);
        if (n->sign < 0)
            text[t++] = '-';
        if (exp <= 0) {
            text[t++] = '0';
            text[t++] = '.';
            for (int z = 0; z < -exp; z++)
                text[t++] = '0';
            memcpy(text + t, n->digits, (size_t)nd);
            t += (size_t)nd;
        } else if (exp < nd) {
            memcpy(text + t, n->digits, (size_t)exp);
            t += (size_t)exp;
            text[t++] = '.';
            memcpy(text + t, n->digits + exp, (size_t)(nd - exp));
            t += (size_t)(nd - exp);
        } else {
            memcpy(text + t, n->digits, (size_t)nd);
            t += (size_t)nd;
            for (int z = 0; z < exp - nd; z++)
                text[t++] = '0';
        }
    }

    if (buf && len > 0) {
        size_t copy = t < len - 1 ? t : len - 1;
        memcpy(buf, text, copy);
        buf[copy] = '\0';
    }
    return t;
}

char *ddb_num_normalize(const char *text, core_err *err)
{
    ddb_num n;
    if (!text) {
        err_not_a_number("", 0, err);
        return NULL;
    }
    if (ddb_num_parse(text, strlen(text), &n, err) != CORE_OK)
        return NULL;
    char *out = malloc(DDB_NUM_TEXT_MAX);
    if (!out) {
        core_err_set(err, 500, "InternalServerError", "out of memory");
        return NULL;
    }
    ddb_num_format(&n, out, DDB_NUM_TEXT_MAX);
    return out;
}

/* Compare magnitudes of two non-zero numbers. */
static int cmp_magnitude(const ddb_num *a, const ddb_num *b)
{
    int ea = safe_exp(a), eb = safe_exp(b);
    if (ea != eb)
        return ea < eb ? -1 : 1;
    int na = safe_ndigits(a), nb = safe_ndigits(b);
    int common = na < nb ? na : nb;
    int c = memcmp(a->digits, b->digits, (size_t)common);
    if (c != 0)
        return c < 0 ? -1 : 1;
    /* No trailing zeros: the longer of two equal prefixes has more below. */
    if (na != nb)
        return na < nb ? -1 : 1;
    return 0;
}

static int sign_of(const ddb_num *n)
{
    if (safe_ndigits(n) == 0)
        return 0;
    return n->sign < 0 ? -1 : 1;
}

int ddb_num_cmp(const ddb_num *a, const ddb_num *b)
{
    int sa = sign_of(a), sb = sign_of(b);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (sa == 0)
        return 0;
    int m = cmp_magnitude(a, b);
    return sa > 0 ? m : -m;
}

/* Places run from 10^(MIN_EXP - MAX_DIGITS - 1) up to 10^MAX_EXP, plus a carry. */
#define PLACES (DDB_NUM_MAX_EXP - (DDB_NUM_MIN_EXP - DDB_NUM_MAX_DIGITS - 1) + 2)

/* Lay a number's digits out by place: digit i (0-based) of x has place exp-1-i. */
static void spread(const ddb_num *x, int low, unsigned char *places)
{
    int nd = safe_ndigits(x), exp = safe_exp(x);
    for (int i = 0; i < nd; i++)
        places[exp - 1 - i - low] = (unsigned char)(x->digits[i] - '0');
}

/* out = a + s*b, where s is +1 or -1. */
static int add_signed(const ddb_num *a, const ddb_num *b, int s, ddb_num *out, core_err *err)
{
    int sa = sign_of(a), sb = sign_of(b) * s;
    ddb_num r;
    set_zero(&r);

    if (sb == 0) {
        r = *a;
        if (sa == 0)
            set_zero(&r);
        *out = r;
        return CORE_OK;
    }
    if (sa == 0) {
        r = *b;
        r.sign = sb;
        *out = r;
        return CORE_OK;
    }

    int low_a = safe_exp(a) - safe_ndigits(a), low_b = safe_exp(b) - safe_ndigits(b);
    int low = low_a < low_b ? low_a : low_b;
    unsigned char pa[PLACES], pb[PLACES], pr[PLACES];
    memset(pa, 0, sizeof pa);
    memset(pb, 0, sizeof pb);
    memset(pr, 0, sizeof pr);
    spread(a, low, pa);
    spread(b, low, pb);
    int width = (safe_exp(a) > safe_exp(b) ? safe_exp(a) : safe_exp(b)) - low + 1;

    int sign;
    if (sa == sb) {
        int carry = 0;
        for (int p = 0; p < width; p++) {
            int d = pa[p] + pb[p] + carry;
            pr[p] = (unsigned char)(d % 10);
            carry = d / 10;
        }
        sign = sa;
    } else {
        int m = cmp_magnitude(a, b);
        if (m == 0) {
            *out = r;
            return CORE_OK;
        }
        const unsigned char *big = m > 0 ? pa : pb, *small = m > 0 ? pb : pa;
        int borrow = 0;
        for (int p = 0; p < width; p++) {
            int d = big[p] - small[p] - borrow;
            borrow = d < 0;
            pr[p] = (unsigned char)(d < 0 ? d + 10 : d);
        }
        sign = m > 0 ? sa : sb;
    }

    int high = -1, lowest = -1;
    for (int p = width - 1; p >= 0; p--)
        if (pr[p] != 0) {
            high = p;
            break;
        }
    for (int p = 0; p < width; p++)
        if (pr[p] != 0) {
            lowest = p;
            break;
        }
    /* high >= 0 here: equal magnitudes of opposite sign returned above. */
    long long exp = (long long)high + low + 1;
    long long nsig = (long long)high - lowest + 1;
    if (check_limits(exp, nsig, err) != CORE_OK)
        return CORE_ERROR;
    r.sign = sign;
    r.exp = (int)exp;
    r.ndigits = (int)nsig;
    for (int i = 0; i < r.ndigits; i++)
        r.digits[i] = (char)('0' + pr[high - i]);
    *out = r;
    return CORE_OK;
}

int ddb_num_add(const ddb_num *a, const ddb_num *b, ddb_num *out, core_err *err)
{
    return add_signed(a, b, +1, out, err);
}

int ddb_num_sub(const ddb_num *a, const ddb_num *b, ddb_num *out, core_err *err)
{
    return add_signed(a, b, -1, out, err);
}

/*
 * Key bytes:
 *   zero      0x02
 *   positive  0x03, exp - MIN_EXP (0..255), then the digits two to a byte as
 *             d1*10 + d2 + 1 (1..100; a last odd digit d as d*10 + 1)
 *   negative  0x01, 255 - (exp - MIN_EXP), each digit byte as 255 - byte, then 0xFF
 * Among positives of one exponent a shorter digit string is a prefix of, and smaller
 * than, a longer one (no trailing zeros), which is memcmp's order for prefixes. For
 * negatives that order must flip: the 0xFF terminator outranks every inverted digit
 * byte (155..254), so the shorter -0.5 sorts above the longer -0.501.
 */
size_t ddb_num_key_encode(const ddb_num *n, unsigned char *buf)
{
    int sign = sign_of(n);
    if (sign == 0) {
        buf[0] = 0x02;
        return 1;
    }
    int nd = safe_ndigits(n);
    unsigned char biased = (unsigned char)(safe_exp(n) - DDB_NUM_MIN_EXP);
    size_t k = 0;
    buf[k++] = sign > 0 ? 0x03 : 0x01;
    buf[k++] = sign > 0 ? biased : (unsigned char)(255 - biased);
    for (int i = 0; i < nd; i += 2) {
        int hi = n->digits[i] - '0';
        int lo = i + 1 < nd ? n->digits[i + 1] - '0' : 0;
        unsigned char byte = (unsigned char)(hi * 10 + lo + 1);
        buf[k++] = sign > 0 ? byte : (unsigned char)(255 - byte);
    }
    if (sign < 0)
        buf[k++] = 0xFF;
    return k;
}

size_t ddb_num_size(const ddb_num *n)
{
    return (size_t)(safe_ndigits(n) + 1) / 2 + 1;
}
