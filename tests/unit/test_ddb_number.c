/*
 * test_ddb_number.c — DynamoDB's exact decimal Number: parsing, the canonical
 * text, range and precision errors with AWS's wording, comparison, exact
 * addition and subtraction, order-preserving key bytes, storage size.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamodb/number.h"

TestSuite(ddb_number);

#define NOT_A_NUMBER "The parameter cannot be converted to a numeric value"
#define OVERFLOW                                                                              \
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
#define UNDERFLOW                                                                             \
    "Number underflow. Attempting to store a number with magnitude smaller than supported "    \
    "range"
#define PRECISION "Attempting to store more than 38 significant digits in a Number"

static ddb_num num(const char *text)
{
    ddb_num n;
    core_err err;
    core_err_clear(&err);
    int rc = ddb_num_parse(text, strlen(text), &n, &err);
    cr_assert_eq(rc, CORE_OK, "\"%s\" refused: %s", text, err.message);
    return n;
}

static void assert_text(const ddb_num *n, const char *want)
{
    char out[DDB_NUM_TEXT_MAX];
    size_t len = ddb_num_format(n, out, sizeof out);
    cr_assert_str_eq(out, want);
    cr_assert_eq(len, strlen(want));
}

static void assert_normalises(const char *in, const char *want)
{
    ddb_num n = num(in);
    assert_text(&n, want);
}

static void assert_refused_len(const char *text, size_t len, const char *message)
{
    ddb_num n;
    core_err err;
    core_err_clear(&err);
    cr_assert_eq(ddb_num_parse(text, len, &n, &err), CORE_ERROR, "\"%.*s\" accepted", (int)len,
                 text);
    cr_assert_eq(err.status, 400);
    cr_assert_str_eq(err.type, "ValidationException");
    cr_assert_str_eq(err.message, message, "for \"%.*s\"", (int)len, text);
}

static void assert_refused(const char *text, const char *message)
{
    assert_refused_len(text, strlen(text), message);
}

static void assert_not_a_number(const char *text)
{
    char message[256];
    snprintf(message, sizeof message, NOT_A_NUMBER ": %s", text);
    assert_refused(text, message);
}

/* A string of n copies of c (caller frees). */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    cr_assert_not_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---- parsing and the canonical text --------------------------------------- */

Test(ddb_number, drops_trailing_zeros_of_a_fraction)
{
    assert_normalises("5.10", "5.1");
    assert_normalises("5.000", "5");
    assert_normalises("-2.50", "-2.5");
}

Test(ddb_number, writes_exponents_out_in_full)
{
    assert_normalises("1e3", "1000");
    assert_normalises("1E+3", "1000");
    assert_normalises("1.5e-3", "0.0015");
    assert_normalises("12.5E1", "125");
    assert_normalises("-4.2e2", "-420");
    assert_normalises("123e-2", "1.23");
}

Test(ddb_number, reads_negative_zero_as_zero)
{
    ddb_num n = num("-0");
    cr_assert_eq(n.sign, 0);
    cr_assert_eq(n.ndigits, 0);
    assert_text(&n, "0");
}

Test(ddb_number, reads_every_spelling_of_zero_as_zero)
{
    const char *zeros[] = {"0", "0.000", "000", "-0.0E-5", ".0", "0.", "+0", "0e99999999999",
                           "0e-2147483649"};
    for (size_t i = 0; i < sizeof zeros / sizeof *zeros; i++) {
        ddb_num n = num(zeros[i]);
        cr_assert_eq(n.sign, 0, "%s", zeros[i]);
        assert_text(&n, "0");
    }
}

Test(ddb_number, strips_leading_and_trailing_zeros)
{
    assert_normalises("00012.3400", "12.34");
    assert_normalises("-000.00100", "-0.001");
    assert_normalises("0100", "100");
    ddb_num n = num("00012.3400");
    cr_assert_eq(n.ndigits, 4);
    cr_assert_eq(n.exp, 2);
    cr_assert_eq(memcmp(n.digits, "1234", 4), 0);
}

Test(ddb_number, accepts_a_point_on_either_side_and_a_plus_sign)
{
    assert_normalises(".5", "0.5");
    assert_normalises("5.", "5");
    assert_normalises("+7", "7");
    assert_normalises("-.25", "-0.25");
}

Test(ddb_number, refuses_text_that_is_not_a_number_and_echoes_it)
{
    const char *bad[] = {"+",       "-",  ".",    "1e",   "1e+",  "e5",    "0x10", "NaN",
                         "Infinity", "-Infinity", " 1", "1 ", "1.2.3", "--1",  "1e5.5", "1,5",
                         "5e-",     "abc", "1_000", "+-1", "1e++1", "\xd9\xa1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_not_a_number(bad[i]);
}

Test(ddb_number, refuses_the_empty_text_without_an_echo)
{
    assert_refused("", NOT_A_NUMBER);
    assert_refused_len("5", 0, NOT_A_NUMBER);
}

Test(ddb_number, refuses_an_embedded_nul)
{
    assert_refused_len("1\0" "2", 3, NOT_A_NUMBER ": 1");
}

Test(ddb_number, parses_only_the_given_length)
{
    ddb_num n;
    core_err err;
    cr_assert_eq(ddb_num_parse("12345", 3, &n, &err), CORE_OK);
    assert_text(&n, "123");
}

Test(ddb_number, accepts_the_smallest_magnitude)
{
    ddb_num n = num("1E-130");
    cr_assert_eq(n.exp, DDB_NUM_MIN_EXP);
    char want[140] = "0.";
    memset(want + 2, '0', 129);
    want[131] = '1';
    want[132] = '\0';
    assert_text(&n, want);
    ddb_num m = num("-1E-130");
    cr_assert_eq(m.sign, -1);
}

Test(ddb_number, refuses_magnitudes_below_the_smallest_as_underflow)
{
    assert_refused("1E-131", UNDERFLOW);
    assert_refused("-1e-131", UNDERFLOW);
    assert_refused("0.99e-130", UNDERFLOW);
    assert_refused("0.00000000001e-120", UNDERFLOW);
}

Test(ddb_number, accepts_the_largest_magnitude)
{
    ddb_num n = num("9.9999999999999999999999999999999999999E+125");
    cr_assert_eq(n.exp, DDB_NUM_MAX_EXP);
    cr_assert_eq(n.ndigits, 38);
    char want[140];
    memset(want, '9', 38);
    memset(want + 38, '0', 88);
    want[126] = '\0';
    assert_text(&n, want);
    ddb_num m = num("-9.9999999999999999999999999999999999999E+125");
    cr_assert_eq(m.sign, -1);
}

Test(ddb_number, refuses_magnitudes_of_1e126_and_above_as_overflow)
{
    assert_refused("1E+126", OVERFLOW);
    assert_refused("-1e126", OVERFLOW);
    assert_refused("10e125", OVERFLOW);
    assert_refused("0.1e127", OVERFLOW);
}

Test(ddb_number, accepts_38_significant_digits)
{
    assert_normalises("12345678901234567890123456789012345678",
                      "12345678901234567890123456789012345678");
    assert_normalises("-0.12345678901234567890123456789012345678",
                      "-0.12345678901234567890123456789012345678");
}

Test(ddb_number, refuses_39_significant_digits)
{
    assert_refused("123456789012345678901234567890123456789", PRECISION);
    assert_refused("-1.23456789012345678901234567890123456789", PRECISION);
    assert_refused("1000000000000000000000000000000000000001", PRECISION);
}

Test(ddb_number, counts_only_significant_digits_against_the_limit)
{
    assert_normalises("100000000000000000000000000000000000000000",
                      "100000000000000000000000000000000000000000");
    assert_normalises("1.000000000000000000000000000000000000000000000", "1");
    assert_normalises("000000000000000000000000000000000000000000001", "1");
    ddb_num n = num("100000000000000000000000000000000000000000");
    cr_assert_eq(n.ndigits, 1);
    cr_assert_eq(n.exp, 42);
}

Test(ddb_number, checks_the_range_before_the_precision)
{
    assert_refused("1.23456789012345678901234567890123456789e126", OVERFLOW);
    assert_refused("1.23456789012345678901234567890123456789e-131", UNDERFLOW);
}

Test(ddb_number, survives_ten_thousand_digit_input)
{
    char *big = repeat('0', 10000);
    big[0] = '1';
    assert_refused_len(big, 10000, OVERFLOW);

    memset(big, '9', 10000);
    assert_refused_len(big, 10000, OVERFLOW);

    memset(big, '0', 10000);
    ddb_num zero;
    core_err err;
    cr_assert_eq(ddb_num_parse(big, 10000, &zero, &err), CORE_OK);
    cr_assert_eq(zero.sign, 0);

    big[1] = '.';
    big[9999] = '1';
    assert_refused_len(big, 10000, UNDERFLOW);
    free(big);
}

Test(ddb_number, reads_long_but_valid_texts_exactly)
{
    /* 1 followed by 4000 zeros, scaled back down by e-4000: exactly 1. */
    char *text = malloc(4010);
    cr_assert_not_null(text);
    text[0] = '1';
    memset(text + 1, '0', 4000);
    strcpy(text + 4001, "e-4000");
    assert_normalises(text, "1");
    /* 5000 leading zeros before the significant digits. */
    char *zeros = repeat('0', 5000);
    char *text2 = malloc(5020);
    cr_assert_not_null(text2);
    snprintf(text2, 5020, "%s12.5e-3", zeros);
    assert_normalises(text2, "0.0125");
    free(text);
    free(zeros);
    free(text2);
}

Test(ddb_number, refuses_exponents_beyond_any_integer_as_out_of_range)
{
    assert_refused("1e+2147483648", OVERFLOW);
    assert_refused("1e2147483647", OVERFLOW);
    assert_refused("1e99999999999", OVERFLOW);
    assert_refused("1e999999999999999999999999999999999999", OVERFLOW);
    assert_refused("-1e+2147483648", OVERFLOW);
    assert_refused("1e-2147483649", UNDERFLOW);
    assert_refused("1e-99999999999999999999999999", UNDERFLOW);
}

Test(ddb_number, fills_a_null_err_safely)
{
    ddb_num n;
    cr_assert_eq(ddb_num_parse("x", 1, &n, NULL), CORE_ERROR);
    cr_assert_eq(ddb_num_parse(NULL, 0, &n, NULL), CORE_ERROR);
}

/* ---- format and normalize ------------------------------------------------ */

Test(ddb_number, formats_like_snprintf_into_a_short_buffer)
{
    ddb_num n = num("-12345.5");
    char small[5];
    cr_assert_eq(ddb_num_format(&n, small, sizeof small), 8);
    cr_assert_str_eq(small, "-123");
    cr_assert_eq(ddb_num_format(&n, NULL, 0), 8);
    char one[1] = {'x'};
    cr_assert_eq(ddb_num_format(&n, one, 1), 8);
    cr_assert_eq(one[0], '\0');
}

Test(ddb_number, formats_the_longest_canonical_text_within_the_declared_maximum)
{
    ddb_num n = num("-1.2345678901234567890123456789012345678E-130");
    size_t len = ddb_num_format(&n, NULL, 0);
    cr_assert_lt(len, DDB_NUM_TEXT_MAX);
    cr_assert_eq(len, 1 + 2 + 129 + 38);
}

Test(ddb_number, normalizes_into_a_new_string)
{
    core_err err;
    char *s = ddb_num_normalize("00012.3400", &err);
    cr_assert_not_null(s);
    cr_assert_str_eq(s, "12.34");
    free(s);
    s = ddb_num_normalize("-1e3", &err);
    cr_assert_str_eq(s, "-1000");
    free(s);
}

Test(ddb_number, normalize_returns_null_with_the_error)
{
    core_err err;
    core_err_clear(&err);
    cr_assert_null(ddb_num_normalize("1e126", &err));
    cr_assert_str_eq(err.message, OVERFLOW);
    cr_assert_null(ddb_num_normalize("abc", &err));
    cr_assert_str_eq(err.message, NOT_A_NUMBER ": abc");
    cr_assert_null(ddb_num_normalize(NULL, &err));
}

/* ---- comparison ---------------------------------------------------------- */

static int cmp_text(const char *a, const char *b)
{
    ddb_num x = num(a), y = num(b);
    return ddb_num_cmp(&x, &y);
}

Test(ddb_number, compares_across_signs)
{
    cr_assert_eq(cmp_text("-1", "1"), -1);
    cr_assert_eq(cmp_text("1", "-1"), 1);
    cr_assert_eq(cmp_text("-0.0001", "0"), -1);
    cr_assert_eq(cmp_text("0", "0.0001"), -1);
    cr_assert_eq(cmp_text("-0", "0"), 0);
}

Test(ddb_number, compares_across_exponents)
{
    cr_assert_eq(cmp_text("10", "9"), 1);
    cr_assert_eq(cmp_text("0.5", "0.05"), 1);
    cr_assert_eq(cmp_text("-10", "-9"), -1);
    cr_assert_eq(cmp_text("1e125", "9e124"), 1);
    cr_assert_eq(cmp_text("1e-130", "1e-129"), -1);
    cr_assert_eq(cmp_text("-1e125", "-1e-130"), -1);
}

Test(ddb_number, compares_digit_strings_of_different_lengths)
{
    cr_assert_eq(cmp_text("0.5", "0.501"), -1);
    cr_assert_eq(cmp_text("-0.5", "-0.501"), 1);
    cr_assert_eq(cmp_text("1.25", "1.5"), -1);
    cr_assert_eq(cmp_text("123", "124"), -1);
}

Test(ddb_number, finds_equal_values_equal_whatever_their_spelling)
{
    cr_assert_eq(cmp_text("5.10", "5.1"), 0);
    cr_assert_eq(cmp_text("1e3", "1000.000"), 0);
    cr_assert_eq(cmp_text("-0.50", "-.5"), 0);
}

/* ---- addition and subtraction -------------------------------------------- */

static void assert_sum(const char *a, const char *b, const char *want)
{
    ddb_num x = num(a), y = num(b), r;
    core_err err;
    core_err_clear(&err);
    cr_assert_eq(ddb_num_add(&x, &y, &r, &err), CORE_OK, "%s + %s: %s", a, b, err.message);
    assert_text(&r, want);
}

static void assert_difference(const char *a, const char *b, const char *want)
{
    ddb_num x = num(a), y = num(b), r;
    core_err err;
    core_err_clear(&err);
    cr_assert_eq(ddb_num_sub(&x, &y, &r, &err), CORE_OK, "%s - %s: %s", a, b, err.message);
    assert_text(&r, want);
}

static void assert_sum_refused(const char *a, const char *b, const char *message)
{
    ddb_num x = num(a), y = num(b), r;
    core_err err;
    core_err_clear(&err);
    cr_assert_eq(ddb_num_add(&x, &y, &r, &err), CORE_ERROR, "%s + %s accepted", a, b);
    cr_assert_str_eq(err.type, "ValidationException");
    cr_assert_str_eq(err.message, message);
}

Test(ddb_number, adds_one_tenth_and_two_tenths_to_exactly_three_tenths)
{
    ddb_num a = num("0.1"), b = num("0.2"), r, want = num("0.3");
    core_err err;
    cr_assert_eq(ddb_num_add(&a, &b, &r, &err), CORE_OK);
    cr_assert_eq(ddb_num_cmp(&r, &want), 0);
    assert_text(&r, "0.3");
    cr_assert_eq(r.ndigits, 1);
}

Test(ddb_number, carries_across_exponents)
{
    assert_sum("9.99", "0.01", "10");
    assert_sum("999", "1", "1000");
    assert_sum("0.999999", "0.000001", "1");
    assert_sum("99999999999999999999999999999999999999", "1",
               "100000000000000000000000000000000000000");
    assert_sum("1e20", "1e-17", "100000000000000000000.00000000000000001");
}

Test(ddb_number, borrows_across_exponents)
{
    assert_difference("1000", "0.001", "999.999");
    assert_difference("1", "0.0000001", "0.9999999");
    assert_difference("10", "9.99", "0.01");
    assert_difference("1e10", "1", "9999999999");
}

Test(ddb_number, subtracts_a_number_from_itself_to_zero)
{
    const char *values[] = {"0", "5", "-5", "0.1", "1e125", "-1E-130",
                            "12345678901234567890123456789012345678"};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        ddb_num a = num(values[i]), r;
        core_err err;
        cr_assert_eq(ddb_num_sub(&a, &a, &r, &err), CORE_OK);
        cr_assert_eq(r.sign, 0, "%s - itself", values[i]);
        cr_assert_eq(r.ndigits, 0);
        assert_text(&r, "0");
    }
}

Test(ddb_number, adds_and_subtracts_with_mixed_signs)
{
    assert_sum("-5", "3", "-2");
    assert_sum("5", "-7", "-2");
    assert_sum("-1.5", "-1.5", "-3");
    assert_sum("-0.5", "0.5", "0");
    assert_difference("0", "5", "-5");
    assert_difference("-3", "-5", "2");
    assert_difference("0.3", "0.1", "0.2");
    assert_sum("0", "-0.25", "-0.25");
    assert_sum("7", "0", "7");
}

Test(ddb_number, normalises_results)
{
    ddb_num a = num("1.5"), b = num("1.5"), r;
    core_err err;
    cr_assert_eq(ddb_num_add(&a, &b, &r, &err), CORE_OK);
    cr_assert_eq(r.ndigits, 1);
    cr_assert_eq(r.exp, 1);
    cr_assert_eq(r.digits[0], '3');
    assert_sum("0.25", "0.75", "1");
}

Test(ddb_number, lets_the_result_alias_an_operand)
{
    ddb_num a = num("2.5"), b = num("0.5");
    core_err err;
    cr_assert_eq(ddb_num_add(&a, &b, &a, &err), CORE_OK);
    assert_text(&a, "3");
    cr_assert_eq(ddb_num_sub(&a, &b, &b, &err), CORE_OK);
    assert_text(&b, "2.5");
}

Test(ddb_number, refuses_a_sum_that_needs_more_than_38_digits)
{
    assert_sum_refused("12345678901234567890123456789012345678", "0.1", PRECISION);
    assert_sum_refused("99999999999999999999999999999999999999", "2", PRECISION);
    assert_sum_refused("1e125", "1e-130", PRECISION);
    assert_sum_refused("1", "1e-38", PRECISION);
    assert_sum("1", "1e-37", "1.0000000000000000000000000000000000001");
}

Test(ddb_number, refuses_a_sum_beyond_the_largest_magnitude)
{
    assert_sum_refused("9.9999999999999999999999999999999999999E+125", "1e88", OVERFLOW);
    assert_sum_refused("-9.9999999999999999999999999999999999999E+125", "-1e88", OVERFLOW);
    ddb_num a = num("9e125"), b = num("-9e125"), r;
    core_err err;
    core_err_clear(&err);
    cr_assert_eq(ddb_num_sub(&a, &b, &r, &err), CORE_ERROR);
    cr_assert_str_eq(err.message, OVERFLOW);
}

Test(ddb_number, refuses_a_difference_below_the_smallest_magnitude)
{
    ddb_num a = num("1.1e-129"), b = num("1.0999999999999999999999999999999999999e-129"), r;
    core_err err;
    core_err_clear(&err);
    cr_assert_eq(ddb_num_sub(&a, &b, &r, &err), CORE_ERROR);
    cr_assert_str_eq(err.message, UNDERFLOW);
    assert_difference("2e-130", "1e-130", "0." "000000000000000000000000000000000000000000"
                                          "000000000000000000000000000000000000000000000"
                                          "000000000000000000000000000000000000000000" "1");
}

/* ---- key bytes ----------------------------------------------------------- */

typedef struct keyed {
    ddb_num n;
    unsigned char key[DDB_NUM_KEY_MAX];
    size_t len;
} keyed;

static int key_memcmp(const keyed *a, const keyed *b)
{
    size_t common = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->key, b->key, common);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

static int by_number(const void *x, const void *y)
{
    return ddb_num_cmp(&((const keyed *)x)->n, &((const keyed *)y)->n);
}

static int by_key(const void *x, const void *y)
{
    return key_memcmp(x, y);
}

static unsigned long long lcg_state = 0x2545F4914F6CDD1DULL;

static unsigned lcg_next(unsigned bound)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((lcg_state >> 33) % bound);
}

/* A random valid number: random sign, 1..38 digits, exponent anywhere in range. */
static void random_number_text(char *buf, size_t size)
{
    char digits[DDB_NUM_MAX_DIGITS + 1];
    unsigned nd = 1 + lcg_next(DDB_NUM_MAX_DIGITS);
    for (unsigned i = 0; i < nd; i++)
        digits[i] = (char)('0' + lcg_next(10));
    digits[0] = (char)('1' + lcg_next(9));
    digits[nd] = '\0';
    int exp = DDB_NUM_MIN_EXP + (int)lcg_next(DDB_NUM_MAX_EXP - DDB_NUM_MIN_EXP + 1);
    snprintf(buf, size, "%s0.%se%d", lcg_next(2) ? "-" : "", digits, exp);
}

Test(ddb_number, orders_key_bytes_exactly_as_numbers_order)
{
    const char *edges[] = {
        "0", "-0", "1", "-1", "10", "-10", "9", "-9", "0.5", "-0.5", "0.501", "-0.501",
        "0.05", "-0.05", "5.1", "5.10", "-5.1", "1e-130", "-1e-130", "1.1e-130", "-1.1e-130",
        "9.9999999999999999999999999999999999999E+125",
        "-9.9999999999999999999999999999999999999E+125", "1e125", "-1e125", "1e-129",
        "-1e-129", "12345678901234567890123456789012345678",
        "-12345678901234567890123456789012345678", "12345678901234567890123456789012345679",
        "1234567890123456789012345678901234567", "100", "101", "99", "-100", "-101", "-99",
        "0.1", "0.11", "0.1000000000000000000000000000000000001", "-0.11", "-0.1",
        "2", "20", "200", "0.2", "-2", "-20", "-0.2", "1.5", "15", "0.15"};
    const size_t nedges = sizeof edges / sizeof *edges;
    const size_t total = 200;
    keyed *all = calloc(total, sizeof *all);
    cr_assert_not_null(all);
    for (size_t i = 0; i < total; i++) {
        char text[96];
        if (i < nedges)
            snprintf(text, sizeof text, "%s", edges[i]);
        else
            random_number_text(text, sizeof text);
        all[i].n = num(text);
        all[i].len = ddb_num_key_encode(&all[i].n, all[i].key);
        cr_assert_leq(all[i].len, DDB_NUM_KEY_MAX);
    }

    /* Every pair agrees. */
    for (size_t i = 0; i < total; i++)
        for (size_t j = 0; j < total; j++)
            cr_assert_eq(key_memcmp(&all[i], &all[j]), ddb_num_cmp(&all[i].n, &all[j].n),
                         "pair %zu, %zu", i, j);

    /* And the two sorts give the same sequence of values. */
    keyed *by_n = malloc(total * sizeof *by_n), *by_k = malloc(total * sizeof *by_k);
    cr_assert_not_null(by_n);
    cr_assert_not_null(by_k);
    memcpy(by_n, all, total * sizeof *all);
    memcpy(by_k, all, total * sizeof *all);
    qsort(by_n, total, sizeof *by_n, by_number);
    qsort(by_k, total, sizeof *by_k, by_key);
    for (size_t i = 0; i < total; i++)
        cr_assert_eq(ddb_num_cmp(&by_n[i].n, &by_k[i].n), 0, "position %zu", i);
    for (size_t i = 1; i < total; i++)
        cr_assert_leq(ddb_num_cmp(&by_k[i - 1].n, &by_k[i].n), 0);
    free(all);
    free(by_n);
    free(by_k);
}

Test(ddb_number, encodes_equal_values_to_equal_bytes)
{
    ddb_num a = num("5.10"), b = num("5.1"), z1 = num("-0"), z2 = num("0.000");
    unsigned char ka[DDB_NUM_KEY_MAX], kb[DDB_NUM_KEY_MAX];
    size_t la = ddb_num_key_encode(&a, ka), lb = ddb_num_key_encode(&b, kb);
    cr_assert_eq(la, lb);
    cr_assert_eq(memcmp(ka, kb, la), 0);
    la = ddb_num_key_encode(&z1, ka);
    lb = ddb_num_key_encode(&z2, kb);
    cr_assert_eq(la, 1);
    cr_assert_eq(lb, 1);
    cr_assert_eq(ka[0], kb[0]);
}

Test(ddb_number, orders_a_shorter_negative_above_its_longer_extension)
{
    ddb_num a = num("-0.5"), b = num("-0.501");
    keyed ka = {.n = a}, kb = {.n = b};
    ka.len = ddb_num_key_encode(&a, ka.key);
    kb.len = ddb_num_key_encode(&b, kb.key);
    cr_assert_eq(key_memcmp(&ka, &kb), 1);
}

Test(ddb_number, fits_the_longest_number_in_the_declared_key_size)
{
    ddb_num n = num("-1.2345678901234567890123456789012345678E-130");
    unsigned char key[DDB_NUM_KEY_MAX];
    cr_assert_eq(ddb_num_key_encode(&n, key), 22);
}

/* ---- size ---------------------------------------------------------------- */

Test(ddb_number, sizes_a_number_by_its_significant_digits)
{
    const struct {
        const char *text;
        size_t size;
    } cases[] = {{"0", 1},      {"1", 2},      {"12", 2},    {"123", 3},
                 {"1000", 2},   {"0.001", 2},  {"-12345", 4}, {"5.10", 2},
                 {"12345678901234567890123456789012345678", 20}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ddb_num n = num(cases[i].text);
        cr_assert_eq(ddb_num_size(&n), cases[i].size, "%s", cases[i].text);
    }
}
