/*
 * choice.c — Choice rules: the comparison operators, the type tests and the
 * And/Or/Not combinators of a Choice state, and the shape check the definition
 * validator runs on them.
 *
 * A rule is either a boolean combination ({"And": [rules]}, {"Or": [rules]},
 * {"Not": rule}) or a data test: "Variable" plus exactly one operator.
 * Operators come in four families with a literal and a "...Path" form each:
 *   String{Equals,LessThan,GreaterThan,LessThanEquals,GreaterThanEquals}
 *   (byte order of UTF-8, which is code point order), StringMatches ('*' any
 *   run, "\*" a star, "\\" a backslash; no Path form), Numeric..., Boolean
 *   Equals, Timestamp... (RFC 3339 with AWS's restrictions: an upper-case 'T'
 *   between date and time, an upper-case 'Z' or a numeric offset; compared as
 *   instants, so "12:00:00Z" equals "12:00:00.000Z"), and the tests IsNull,
 *   IsPresent, IsNumeric, IsString, IsBoolean, IsTimestamp (true or false).
 *
 * AWS's semantics, pinned by its execution histories: a comparison whose
 * operands are not of the operator's type is false, not an error; a Variable
 * (or a ...Path operand) that selects nothing fails with States.Runtime
 * "Invalid path '$.x': The choice state's condition path references an invalid
 * value." — except under IsPresent, whose whole point is to ask.
 *
 * Recursion through And/Or/Not is bounded by SFN_CHOICE_MAX_DEPTH.
 */
#include "stepfunctions/lang.h"
#include "stepfunctions/lang_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNTIME "States.Runtime"

typedef enum { K_STRING, K_NUMERIC, K_BOOLEAN, K_TIMESTAMP, K_MATCHES, K_TYPE } op_kind;
typedef enum { C_EQ, C_LT, C_GT, C_LE, C_GE, T_NULL, T_PRESENT, T_NUMERIC, T_STRING, T_BOOLEAN, T_TIMESTAMP } op_test;

typedef struct op_def {
    const char *name;
    op_kind kind;
    op_test test;
    int path; /* the operand is a path to the value to compare with */
} op_def;

static const op_def OPS[] = {
    {"StringEquals", K_STRING, C_EQ, 0},
    {"StringEqualsPath", K_STRING, C_EQ, 1},
    {"StringLessThan", K_STRING, C_LT, 0},
    {"StringLessThanPath", K_STRING, C_LT, 1},
    {"StringGreaterThan", K_STRING, C_GT, 0},
    {"StringGreaterThanPath", K_STRING, C_GT, 1},
    {"StringLessThanEquals", K_STRING, C_LE, 0},
    {"StringLessThanEqualsPath", K_STRING, C_LE, 1},
    {"StringGreaterThanEquals", K_STRING, C_GE, 0},
    {"StringGreaterThanEqualsPath", K_STRING, C_GE, 1},
    {"StringMatches", K_MATCHES, C_EQ, 0},
    {"NumericEquals", K_NUMERIC, C_EQ, 0},
    {"NumericEqualsPath", K_NUMERIC, C_EQ, 1},
    {"NumericLessThan", K_NUMERIC, C_LT, 0},
    {"NumericLessThanPath", K_NUMERIC, C_LT, 1},
    {"NumericGreaterThan", K_NUMERIC, C_GT, 0},
    {"NumericGreaterThanPath", K_NUMERIC, C_GT, 1},
    {"NumericLessThanEquals", K_NUMERIC, C_LE, 0},
    {"NumericLessThanEqualsPath", K_NUMERIC, C_LE, 1},
    {"NumericGreaterThanEquals", K_NUMERIC, C_GE, 0},
    {"NumericGreaterThanEqualsPath", K_NUMERIC, C_GE, 1},
    {"BooleanEquals", K_BOOLEAN, C_EQ, 0},
    {"BooleanEqualsPath", K_BOOLEAN, C_EQ, 1},
    {"TimestampEquals", K_TIMESTAMP, C_EQ, 0},
    {"TimestampEqualsPath", K_TIMESTAMP, C_EQ, 1},
    {"TimestampLessThan", K_TIMESTAMP, C_LT, 0},
    {"TimestampLessThanPath", K_TIMESTAMP, C_LT, 1},
    {"TimestampGreaterThan", K_TIMESTAMP, C_GT, 0},
    {"TimestampGreaterThanPath", K_TIMESTAMP, C_GT, 1},
    {"TimestampLessThanEquals", K_TIMESTAMP, C_LE, 0},
    {"TimestampLessThanEqualsPath", K_TIMESTAMP, C_LE, 1},
    {"TimestampGreaterThanEquals", K_TIMESTAMP, C_GE, 0},
    {"TimestampGreaterThanEqualsPath", K_TIMESTAMP, C_GE, 1},
    {"IsNull", K_TYPE, T_NULL, 0},
    {"IsPresent", K_TYPE, T_PRESENT, 0},
    {"IsNumeric", K_TYPE, T_NUMERIC, 0},
    {"IsString", K_TYPE, T_STRING, 0},
    {"IsBoolean", K_TYPE, T_BOOLEAN, 0},
    {"IsTimestamp", K_TYPE, T_TIMESTAMP, 0},
};

static const op_def *find_op(const char *name)
{
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (strcmp(OPS[i].name, name) == 0)
            return &OPS[i];
    return NULL;
}

/* ---- timestamps ----------------------------------------------------------------- */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant's
 * days_from_civil. */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int sfn_timestamp_parse(const char *s, long long *seconds, long *nanos)
{
    int y, mo, d, h, mi, sec;
    if (!s || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo)
        || s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h)
        || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return 0;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23
        || mi > 59 || sec > 59)
        return 0;
    const char *p = s + 19;
    long frac = 0;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 9)
                frac = frac * 10 + (*p - '0');
        if (n == 0)
            return 0;
        for (; n < 9; n++)
            frac *= 10;
    }
    long offset = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return 0;
        offset = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return 0;
    }
    if (*p)
        return 0;
    *seconds = days_from_civil(y, mo, d) * 86400 + h * 3600LL + mi * 60LL + sec - offset;
    *nanos = frac;
    return 1;
}

static int timestamp_cmp(const char *a, const char *b, int *order)
{
    long long sa, sb;
    long na, nb;
    if (!sfn_timestamp_parse(a, &sa, &na) || !sfn_timestamp_parse(b, &sb, &nb))
        return 0;
    *order = sa != sb ? (sa < sb ? -1 : 1) : na != nb ? (na < nb ? -1 : 1) : 0;
    return 1;
}

/* ---- StringMatches --------------------------------------------------------------- */

/* Glob match with '*' only, iteratively (backtracking to the last star), so a
 * hostile pattern costs O(len(pattern) * len(text)) at worst. */
static int string_matches(const char *text, const char *pat)
{
    const char *star = NULL, *resume = NULL;
    while (*text) {
        if (*pat == '*') {
            star = ++pat;
            resume = text;
            continue;
        }
        const char *lit = pat;
        if (*pat == '\\' && (pat[1] == '*' || pat[1] == '\\'))
            lit = ++pat;
        if (*lit && *lit == *text) {
            pat++;
            text++;
        } else if (star) {
            pat = star;
            text = ++resume;
        } else {
            return 0;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* ---- evaluation -------------------------------------------------------------------- */

static int invalid_path(const char *path, core_err *err)
{
    return core_err_set(err, 400, RUNTIME,
                        "Invalid path '%s': The choice state's condition path references an "
                        "invalid value.",
                        path);
}

/* Resolve a Variable or ...Path operand. *out is NULL when nothing is
 * selected; *owned is what the caller frees. */
static int resolve(const char *path, const cJSON *input, const cJSON *context, const cJSON **out,
                   cJSON **owned, core_err *err)
{
    *out = NULL;
    *owned = NULL;
    sfn_jpath *p = sfn_jpath_parse_cached(path, NULL);
    if (!p)
        return core_err_set(err, 400, RUNTIME, "Invalid path '%s': not a valid JSONPath", path);
    if (sfn_jpath_is_definite(p)) {
        *out = sfn_jpath_lookup(p, input, context);
    } else {
        core_err perr;
        if (sfn_jpath_eval(p, input, context, owned, &perr) != CORE_OK) {
            sfn_jpath_free(p);
            core_err_set(err, perr.status, perr.type, "%s", perr.message);
            return CORE_ERROR;
        }
        *out = *owned;
    }
    sfn_jpath_free(p);
    return CORE_OK;
}

static int ordered(op_test t, int order)
{
    switch (t) {
    case C_EQ: return order == 0;
    case C_LT: return order < 0;
    case C_GT: return order > 0;
    case C_LE: return order <= 0;
    case C_GE: return order >= 0;
    default: return 0;
    }
}

static int type_test(op_test t, const cJSON *v)
{
    long long s;
    long ns;
    switch (t) {
    case T_NULL: return cJSON_IsNull(v);
    case T_NUMERIC: return cJSON_IsNumber(v);
    case T_STRING: return cJSON_IsString(v);
    case T_BOOLEAN: return cJSON_IsBool(v);
    case T_TIMESTAMP: return cJSON_IsString(v) && sfn_timestamp_parse(v->valuestring, &s, &ns);
    default: return 0;
    }
}

/* v against the operand b under op: 1 or 0 (type mismatches are 0). */
static int compare(const op_def *op, const cJSON *v, const cJSON *b)
{
    int order;
    switch (op->kind) {
    case K_STRING:
        if (!cJSON_IsString(v) || !cJSON_IsString(b))
            return 0;
        order = strcmp(v->valuestring, b->valuestring);
        return ordered(op->test, order < 0 ? -1 : order > 0);
    case K_MATCHES:
        return cJSON_IsString(v) && cJSON_IsString(b) && string_matches(v->valuestring, b->valuestring);
    case K_NUMERIC:
        if (!cJSON_IsNumber(v) || !cJSON_IsNumber(b))
            return 0;
        order = v->valuedouble < b->valuedouble ? -1 : v->valuedouble > b->valuedouble;
        return ordered(op->test, order);
    case K_BOOLEAN:
        return cJSON_IsBool(v) && cJSON_IsBool(b) && cJSON_IsTrue(v) == cJSON_IsTrue(b);
    case K_TIMESTAMP:
        if (!cJSON_IsString(v) || !cJSON_IsString(b)
            || !timestamp_cmp(v->valuestring, b->valuestring, &order))
            return 0;
        return ordered(op->test, order);
    case K_TYPE:
        return 0;
    }
    return 0;
}

/* The operator key of a data-test rule, or NULL (reason in why). */
static const cJSON *rule_operator(const cJSON *rule, const op_def **op, char *why, size_t size)
{
    const cJSON *found = NULL;
    *op = NULL;
    for (const cJSON *c = rule->child; c; c = c->next) {
        const op_def *d = c->string ? find_op(c->string) : NULL;
        if (!d)
            continue;
        if (found) {
            snprintf(why, size, "a Choice rule must have exactly one comparison operator, found '%s' and '%s'",
                     found->string, c->string);
            return NULL;
        }
        found = c;
        *op = d;
    }
    if (!found)
        snprintf(why, size, "a Choice rule needs a comparison operator or And, Or, Not");
    return found;
}

static int match(const cJSON *rule, const cJSON *input, const cJSON *context, int depth,
                 int *matched, core_err *err);

static int match_combinator(const cJSON *rule, const cJSON *input, const cJSON *context, int depth,
                            int *matched, core_err *err)
{
    const cJSON *and_ = cJSON_GetObjectItemCaseSensitive(rule, "And");
    const cJSON *or_ = cJSON_GetObjectItemCaseSensitive(rule, "Or");
    const cJSON *not_ = cJSON_GetObjectItemCaseSensitive(rule, "Not");
    if (not_) {
        int m = 0;
        if (match(not_, input, context, depth + 1, &m, err))
            return CORE_ERROR;
        *matched = !m;
        return CORE_OK;
    }
    const cJSON *list = and_ ? and_ : or_;
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
        return core_err_set(err, 400, RUNTIME, "Invalid Choice rule: %s must be a non-empty array",
                            and_ ? "And" : "Or");
    int want_all = and_ != NULL;
    /* Short-circuit like AWS: And stops at the first false, Or at the first
     * true, so a missing path after the deciding rule is never looked at. */
    for (const cJSON *c = list->child; c; c = c->next) {
        int m = 0;
        if (match(c, input, context, depth + 1, &m, err))
            return CORE_ERROR;
        if (m != want_all) {
            *matched = m;
            return CORE_OK;
        }
    }
    *matched = want_all;
    return CORE_OK;
}

static int match(const cJSON *rule, const cJSON *input, const cJSON *context, int depth,
                 int *matched, core_err *err)
{
    *matched = 0;
    if (depth > SFN_CHOICE_MAX_DEPTH)
        return core_err_set(err, 400, RUNTIME, "Invalid Choice rule: nested deeper than %d levels",
                            SFN_CHOICE_MAX_DEPTH);
    if (!cJSON_IsObject(rule))
        return core_err_set(err, 400, RUNTIME, "Invalid Choice rule: not an object");
    if (cJSON_GetObjectItemCaseSensitive(rule, "And") || cJSON_GetObjectItemCaseSensitive(rule, "Or")
        || cJSON_GetObjectItemCaseSensitive(rule, "Not"))
        return match_combinator(rule, input, context, depth, matched, err);

    char why[256];
    const op_def *op;
    const cJSON *operand = rule_operator(rule, &op, why, sizeof why);
    const cJSON *var = cJSON_GetObjectItemCaseSensitive(rule, "Variable");
    if (!operand)
        return core_err_set(err, 400, RUNTIME, "Invalid Choice rule: %s", why);
    if (!cJSON_IsString(var))
        return core_err_set(err, 400, RUNTIME, "Invalid Choice rule: Variable must be a path");

    const cJSON *value = NULL;
    cJSON *owned = NULL;
    if (resolve(var->valuestring, input, context, &value, &owned, err))
        return CORE_ERROR;
    int rc = CORE_OK;
    if (op->kind == K_TYPE) {
        if (!cJSON_IsBool(operand)) {
            rc = core_err_set(err, 400, RUNTIME, "Invalid Choice rule: %s takes true or false", op->name);
        } else if (op->test == T_PRESENT) {
            *matched = (value != NULL) == cJSON_IsTrue(operand);
        } else if (!value) {
            rc = invalid_path(var->valuestring, err);
        } else {
            *matched = type_test(op->test, value) == cJSON_IsTrue(operand);
        }
    } else if (!value) {
        rc = invalid_path(var->valuestring, err);
    } else if (op->path) {
        const cJSON *other = NULL;
        cJSON *other_owned = NULL;
        if (!cJSON_IsString(operand))
            rc = core_err_set(err, 400, RUNTIME, "Invalid Choice rule: %s must be a path", op->name);
        else if ((rc = resolve(operand->valuestring, input, context, &other, &other_owned, err)) == CORE_OK) {
            if (!other)
                rc = invalid_path(operand->valuestring, err);
            else
                *matched = compare(op, value, other);
        }
        cJSON_Delete(other_owned);
    } else {
        *matched = compare(op, value, operand);
    }
    cJSON_Delete(owned);
    if (rc)
        *matched = 0;
    return rc;
}

int sfn_choice_match(const cJSON *rule, const cJSON *input, const cJSON *context, int *matched,
                     core_err *err)
{
    return match(rule, input, context, 0, matched, err);
}

/* ---- shape check for the validator ------------------------------------------------------ */

static int check(const cJSON *rule, int depth, int top, char *why, size_t size);

static int check_list(const cJSON *list, const char *name, int depth, char *why, size_t size)
{
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0) {
        snprintf(why, size, "The value of %s must be a non-empty array of Choice rules", name);
        return -1;
    }
    for (const cJSON *c = list->child; c; c = c->next)
        if (check(c, depth + 1, 0, why, size))
            return -1;
    return 0;
}

static int check(const cJSON *rule, int depth, int top, char *why, size_t size)
{
    if (depth > SFN_CHOICE_MAX_DEPTH) {
        snprintf(why, size, "Choice rules are nested deeper than %d levels", SFN_CHOICE_MAX_DEPTH);
        return -1;
    }
    if (!cJSON_IsObject(rule)) {
        snprintf(why, size, "A Choice rule must be an object");
        return -1;
    }
    const cJSON *and_ = cJSON_GetObjectItemCaseSensitive(rule, "And");
    const cJSON *or_ = cJSON_GetObjectItemCaseSensitive(rule, "Or");
    const cJSON *not_ = cJSON_GetObjectItemCaseSensitive(rule, "Not");
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(rule, "Next");
    if (top && !next) {
        snprintf(why, size, "These fields are required: [Next]");
        return -1;
    }
    if (!top && next) {
        snprintf(why, size, "Field 'Next' is not allowed in a nested Choice rule");
        return -1;
    }
    for (const cJSON *c = rule->child; c; c = c->next) {
        const char *k = c->string ? c->string : "";
        if (strcmp(k, "Next") && strcmp(k, "Comment") && strcmp(k, "Variable") && strcmp(k, "And")
            && strcmp(k, "Or") && strcmp(k, "Not") && !find_op(k) && strcmp(k, "Assign")) {
            snprintf(why, size, "Field '%s' is not supported", k);
            return -1;
        }
    }
    int combinators = (and_ != NULL) + (or_ != NULL) + (not_ != NULL);
    if (combinators > 1) {
        snprintf(why, size, "A Choice rule may have only one of And, Or and Not");
        return -1;
    }
    if (combinators == 1) {
        const op_def *op;
        char ignored[8];
        if (cJSON_GetObjectItemCaseSensitive(rule, "Variable") || rule_operator(rule, &op, ignored, sizeof ignored)) {
            snprintf(why, size, "A Choice rule with And, Or or Not may not have a Variable or operator");
            return -1;
        }
        if (not_)
            return check(not_, depth + 1, 0, why, size);
        return check_list(and_ ? and_ : or_, and_ ? "And" : "Or", depth, why, size);
    }
    const op_def *op;
    const cJSON *operand = rule_operator(rule, &op, why, size);
    if (!operand)
        return -1;
    const cJSON *var = cJSON_GetObjectItemCaseSensitive(rule, "Variable");
    if (!var) {
        snprintf(why, size, "These fields are required: [Variable]");
        return -1;
    }
    if (!cJSON_IsString(var) || !sfn_path_is_valid(var->valuestring)) {
        snprintf(why, size, "The value for the field 'Variable' must be a valid JSONPath");
        return -1;
    }
    int ok;
    switch (op->kind) {
    case K_TYPE:
    case K_BOOLEAN:
        ok = op->path ? cJSON_IsString(operand) : cJSON_IsBool(operand);
        break;
    case K_NUMERIC:
        ok = op->path ? cJSON_IsString(operand) : cJSON_IsNumber(operand);
        break;
    case K_TIMESTAMP: {
        long long s;
        long ns;
        ok = cJSON_IsString(operand)
             && (op->path || sfn_timestamp_parse(operand->valuestring, &s, &ns));
        break;
    }
    default:
        ok = cJSON_IsString(operand);
    }
    if (ok && op->path)
        ok = sfn_path_is_reference(operand->valuestring);
    if (!ok) {
        snprintf(why, size, "The value for the field '%s' must be %s", op->name,
                 op->path ? "a valid JSONPath"
                 : op->kind == K_NUMERIC ? "a number"
                 : op->kind == K_TIMESTAMP ? "a valid timestamp"
                 : (op->kind == K_BOOLEAN || op->kind == K_TYPE) ? "a boolean" : "a string");
        return -1;
    }
    return 0;
}

int sfn_choice_rule_check(const cJSON *rule, int top_level, char *why, size_t size)
{
    why[0] = '\0';
    return check(rule, 0, top_level, why, size);
}
