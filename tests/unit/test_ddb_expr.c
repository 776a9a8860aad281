/*
 * test_ddb_expr.c — DynamoDB's expression language: grammar and static checks
 * (ddb_expr), condition evaluation (ddb_expr_eval), updates (ddb_expr_update),
 * projections (ddb_expr_projection), key conditions (ddb_expr_key) and
 * hostile input (ddb_expr_hostile).
 *
 * Expected messages are AWS's where its wording is known: from AWS's own
 * answers quoted in public issues (e.g. 'a-b' -> token "-", near "a-b"), from
 * the test suites of ScyllaDB Alternator and dynalite, which run against real
 * DynamoDB, and from the developer guide. Every test builds its request from
 * JSON text with the helpers below; the fixture frees everything, so a failing
 * assertion leaks nothing under valgrind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "dynamodb/expr.h"
#include "dynamodb/value.h"

static ddb_expr_ctx *ctx;
static ddb_expr *ex;
static core_err err;
static cJSON *names_json, *values_json;
static cJSON *garbage[64];
static size_t n_garbage;
static char printed[1 << 14];

static void setup(void)
{
    ctx = NULL;
    ex = NULL;
    names_json = values_json = NULL;
    n_garbage = 0;
    core_err_clear(&err);
}

static void teardown(void)
{
    ddb_expr_free(ex);
    ddb_expr_ctx_free(ctx);
    cJSON_Delete(names_json);
    cJSON_Delete(values_json);
    for (size_t i = 0; i < n_garbage; i++)
        cJSON_Delete(garbage[i]);
    ex = NULL;
    ctx = NULL;
    names_json = values_json = NULL;
    n_garbage = 0;
}

TestSuite(ddb_expr, .init = setup, .fini = teardown);
TestSuite(ddb_expr_eval, .init = setup, .fini = teardown);
TestSuite(ddb_expr_update, .init = setup, .fini = teardown);
TestSuite(ddb_expr_projection, .init = setup, .fini = teardown);
TestSuite(ddb_expr_key, .init = setup, .fini = teardown);
TestSuite(ddb_expr_hostile, .init = setup, .fini = teardown);

/* ---- helpers ---------------------------------------------------------------- */

/* A JSON document the fixture frees. */
static cJSON *J(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j, "bad JSON in test: %s", text);
    cr_assert_lt(n_garbage, sizeof garbage / sizeof garbage[0]);
    garbage[n_garbage++] = j;
    return j;
}

/* A new request context from names/values JSON (either may be NULL). Values are
 * validated (numbers normalised) as the wire layer does. */
static void request(const char *names, const char *values)
{
    ddb_expr_free(ex);
    ex = NULL;
    ddb_expr_ctx_free(ctx);
    cJSON_Delete(names_json);
    cJSON_Delete(values_json);
    names_json = names ? cJSON_Parse(names) : NULL;
    values_json = values ? cJSON_Parse(values) : NULL;
    cr_assert(!names || names_json, "bad names JSON: %s", names);
    cr_assert(!values || values_json, "bad values JSON: %s", values);
    if (values_json) {
        core_err verr;
        cr_assert_eq(ddb_item_validate(values_json, &verr), CORE_OK, "values: %s", verr.message);
    }
    ctx = ddb_expr_ctx_new(names_json, values_json);
    cr_assert_not_null(ctx);
}

/* Parse text as kind in a fresh request. */
static int parse(ddb_expr_kind kind, const char *text, const char *names, const char *values)
{
    request(names, values);
    core_err_clear(&err);
    return ddb_expr_parse(kind, text, ctx, &ex, &err);
}

/* Parse another expression into the same request (ex is replaced). */
static int parse_more(ddb_expr_kind kind, const char *text)
{
    ddb_expr_free(ex);
    ex = NULL;
    core_err_clear(&err);
    return ddb_expr_parse(kind, text, ctx, &ex, &err);
}

#define OK(kind, text, names, values)                                                        \
    cr_assert_eq(parse(kind, text, names, values), CORE_OK, "parse of '%s' failed: %s", text, \
                 err.message)

#define FAILS(kind, text, names, values, msg)                                                 \
    do {                                                                                      \
        cr_assert_eq(parse(kind, text, names, values), CORE_ERROR, "'%s' parsed", text);     \
        cr_assert_null(ex);                                                                   \
        cr_assert_str_eq(err.message, msg);                                                   \
        cr_assert_str_eq(err.type, "ValidationException");                                    \
        cr_assert_eq(err.status, 400);                                                        \
    } while (0)

#define C DDB_EXPR_CONDITION
#define F DDB_EXPR_FILTER
#define K DDB_EXPR_KEY_CONDITION
#define U DDB_EXPR_UPDATE
#define P DDB_EXPR_PROJECTION

/* Evaluate the parsed condition on an item (JSON text, or NULL for none). */
static int holds(const char *item)
{
    const cJSON *it = item ? J(item) : NULL;
    int r = -1;
    cr_assert_eq(ddb_expr_eval(ex, it, &r, &err), CORE_OK, "eval: %s", err.message);
    return r;
}

/* Parse a condition with values and evaluate it on an item. */
static int cond_on(const char *text, const char *values, const char *item)
{
    OK(C, text, NULL, values);
    return holds(item);
}

static const char *print(const cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    cr_assert_not_null(s);
    snprintf(printed, sizeof printed, "%s", s);
    free(s);
    return printed;
}

static void same_json(const cJSON *got, const char *want)
{
    cJSON *w = J(want);
    cr_assert(cJSON_Compare(got, w, 1), "got %s, want %s", print(got), want);
}

/* Apply the parsed update to item and compare with want. */
static void update_gives(const char *item, const char *want)
{
    cJSON *it = J(item);
    cr_assert_eq(ddb_expr_update_apply(ex, it, &err), CORE_OK, "apply: %s", err.message);
    same_json(it, want);
}

/* Apply the parsed update to item; it must fail: the message. */
static const char *update_fails(const char *item)
{
    cJSON *it = J(item);
    core_err_clear(&err);
    cr_assert_eq(ddb_expr_update_apply(ex, it, &err), CORE_ERROR, "applied: %s", print(it));
    cr_assert_str_eq(err.type, "ValidationException");
    return err.message;
}

static void project_gives(const char *item, const char *want)
{
    cJSON *got = ddb_expr_project(ex, J(item));
    cr_assert_not_null(got);
    cr_assert_lt(n_garbage, sizeof garbage / sizeof garbage[0]);
    garbage[n_garbage++] = got;
    same_json(got, want);
}

/* A string of n copies of piece (caller frees). */
static char *repeat(const char *piece, size_t n, const char *head, const char *tail)
{
    size_t pl = strlen(piece), hl = strlen(head), tl = strlen(tail);
    char *s = malloc(hl + pl * n + tl + 1);
    cr_assert_not_null(s);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * pl, piece, pl);
    memcpy(s + hl + n * pl, tail, tl + 1);
    return s;
}

static const char *V1 = "{\":v\":{\"S\":\"x\"}}";
static const char *VN = "{\":v\":{\"N\":\"1\"},\":w\":{\"N\":\"2\"}}";

/* ---- ddb_expr: grammar ------------------------------------------------------ */

Test(ddb_expr, accepts_a_comparison_of_a_path_with_a_value)
{
    OK(C, "a = :v", NULL, V1);
}

Test(ddb_expr, accepts_every_comparator)
{
    const char *ops[] = {"=", "<>", "<", "<=", ">", ">="};
    for (size_t i = 0; i < 6; i++) {
        char text[32];
        snprintf(text, sizeof text, "a %s :v", ops[i]);
        OK(C, text, NULL, V1);
    }
}

Test(ddb_expr, accepts_comparators_without_spaces)
{
    OK(C, "a<>:v", NULL, V1);
    OK(C, "a<=:v", NULL, V1);
    OK(C, "a>=:v", NULL, V1);
}

Test(ddb_expr, accepts_between_and_in)
{
    OK(C, "a BETWEEN :v AND :w", NULL, VN);
    OK(C, "a IN (:v, :w)", NULL, VN);
    OK(C, "a IN (:v)", NULL, VN);
}

Test(ddb_expr, accepts_keywords_in_any_case)
{
    OK(C, "a = :v aNd b = :w oR NoT c = :v", NULL, VN);
    OK(C, "a between :v and :w", NULL, VN);
    OK(C, "a in (:v,:w)", NULL, VN);
}

Test(ddb_expr, accepts_every_function_where_it_belongs)
{
    const char *vals = "{\":s\":{\"S\":\"x\"},\":t\":{\"S\":\"N\"},\":n\":{\"N\":\"3\"}}";
    OK(C, "attribute_exists(a) AND attribute_not_exists(b) AND attribute_type(c, :t) AND "
          "begins_with(d, :s) AND contains(e, :s) AND size(f) > :n",
       NULL, vals);
}

Test(ddb_expr, accepts_document_paths_with_names_indexes_and_placeholders)
{
    OK(C, "a.b[2].c = :v AND #n.#m[0] = :v AND x[1][2][3] = :v AND a . b [ 1 ] = :v",
       "{\"#n\":\"name\",\"#m\":\"m\"}", V1);
}

Test(ddb_expr, accepts_names_with_digits_and_underscores_after_the_first_letter)
{
    OK(C, "Alpha_Numeric_123 = :v AND A123_ = :v", NULL, V1);
}

Test(ddb_expr, accepts_placeholders_that_start_with_digits_or_underscore)
{
    OK(C, "#123 = :_ AND #_ = :9a", "{\"#123\":\"a\",\"#_\":\"b\"}",
       "{\":_\":{\"S\":\"x\"},\":9a\":{\"S\":\"y\"}}");
}

Test(ddb_expr, accepts_a_parenthesised_operand_and_a_grouped_path)
{
    OK(C, "(a) = :v AND (a.b).c = :v AND a = (:v)", NULL, V1);
}

Test(ddb_expr, accepts_parentheses_around_conditions)
{
    OK(C, "(a = :v)", NULL, V1);
    OK(C, "((a = :v) OR (b = :v)) AND (c = :v)", NULL, V1);
}

Test(ddb_expr, accepts_a_filter_with_the_condition_grammar)
{
    OK(F, "a = :v OR attribute_not_exists(b)", NULL, V1);
}

Test(ddb_expr, reports_an_empty_expression)
{
    FAILS(C, "", NULL, NULL, "Invalid ConditionExpression: The expression can not be empty;");
    FAILS(U, "", NULL, NULL, "Invalid UpdateExpression: The expression can not be empty;");
    FAILS(P, "", NULL, NULL, "Invalid ProjectionExpression: The expression can not be empty;");
    FAILS(K, "", NULL, NULL, "Invalid KeyConditionExpression: The expression can not be empty;");
    FAILS(F, "", NULL, NULL, "Invalid FilterExpression: The expression can not be empty;");
}

Test(ddb_expr, reports_a_syntax_error_with_the_token_and_its_neighbours)
{
    FAILS(C, "a-b", NULL, NULL,
          "Invalid ConditionExpression: Syntax error; token: \"-\", near: \"a-b\"");
    FAILS(F, "a-b", NULL, NULL, "Invalid FilterExpression: Syntax error; token: \"-\", near: \"a-b\"");
    FAILS(K, "a-b", NULL, NULL,
          "Invalid KeyConditionExpression: Syntax error; token: \"-\", near: \"a-b\"");
}

Test(ddb_expr, reports_the_end_of_input_after_a_lone_path)
{
    FAILS(C, "foo", NULL, NULL,
          "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"foo\"");
}

Test(ddb_expr, reports_the_end_of_input_after_not_and_a_path)
{
    FAILS(C, "attribute_exists(car_id) AND NOT #has_air_conditioner",
          "{\"#has_air_conditioner\":\"h\"}", NULL,
          "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: "
          "\"#has_air_conditioner\"");
}

Test(ddb_expr, refuses_an_empty_in_list)
{
    FAILS(K, "()", NULL, NULL,
          "Invalid KeyConditionExpression: Syntax error; token: \")\", near: \"()\"");
    FAILS(C, "a IN ()", NULL, NULL,
          "Invalid ConditionExpression: Syntax error; token: \")\", near: \"()\"");
}

Test(ddb_expr, refuses_a_value_after_a_name_without_operator)
{
    FAILS(F, "tenantAgent:abc123-x", NULL, "{\":abc123\":{\"S\":\"x\"}}",
          "Invalid FilterExpression: Syntax error; token: \":abc123\", near: "
          "\"tenantAgent:abc123-\"");
}

Test(ddb_expr, refuses_a_bracket_at_the_start)
{
    FAILS(K, "[object Object]", NULL, NULL,
          "Invalid KeyConditionExpression: Syntax error; token: \"[\", near: \"[object\"");
}

Test(ddb_expr, refuses_number_literals_outside_list_indexes)
{
    FAILS(C, "a > 4", NULL, NULL,
          "Invalid ConditionExpression: Syntax error; token: \"4\", near: \"> 4\"");
}

Test(ddb_expr, refuses_chained_comparisons)
{
    FAILS(C, "a < :v < b", NULL, V1,
          "Invalid ConditionExpression: Syntax error; token: \"<\", near: \":v < b\"");
    FAILS(C, "a < < b", NULL, NULL,
          "Invalid ConditionExpression: Syntax error; token: \"<\", near: \"< < b\"");
}

Test(ddb_expr, refuses_syntax_errors_dynalite_lists)
{
    const char *bad[] = {
        "things are not gonna be ok", "attribute_exists(Pictures-RearView)",
        "attribute_exists(\"Pictures.RearView\")", "attribute_exists(Pictures..RearView)",
        "attribute_exists(Pi#ctures.RearView)", "attribute_exists(asdf[a])", "a.:a < b.:b",
        "a in b, c", "a > between", "a in b", "a in (b,c,)", "(a)between(b.(c.d))and(c)",
        "(a)between(b.c.d)and((c)", "#$.b > a", "a > :things.stuff", "b[:a] > a", "b[#_] > a",
        "(a)between(b.c[4.5].#d)and(:a)", "size(a).b > a", "(size(a)).b > a", "size(a)[0] > a",
        "(size(a))[0] > a", "a = :v = b", "a ! = b", "a == b", "a = b AND", "OR a = b",
        "a = b)", "(a = b", "f()", "a BETWEEN b", "a BETWEEN b OR c", "size(a = b) > c",
        "(a = b) = c", "a IN (b = c)", "a[-1] = b", "a[1.5] = b", "NOT", "a = NOT b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(parse(F, bad[i], NULL, NULL), CORE_ERROR, "'%s' parsed", bad[i]);
        cr_assert(strncmp(err.message, "Invalid FilterExpression: Syntax error; token: ", 47) == 0,
                  "'%s': %s", bad[i], err.message);
    }
}

Test(ddb_expr, refuses_a_name_starting_with_an_underscore)
{
    FAILS(U, "SET _123 = :v", NULL, "{\":v\":{\"N\":\"3\"}}",
          "Invalid UpdateExpression: Syntax error; token: \"_\", near: \"SET _123\"");
}

Test(ddb_expr, refuses_non_ascii_names_quoting_the_whole_character)
{
    FAILS(F, "\xc3\xbc > a", NULL, NULL,
          "Invalid FilterExpression: Syntax error; token: \"\xc3\xbc\", near: \"\xc3\xbc >\"");
}

Test(ddb_expr, refuses_a_lone_hash_or_colon)
{
    FAILS(C, "# = :v", NULL, V1,
          "Invalid ConditionExpression: Syntax error; token: \"#\", near: \"# =\"");
    FAILS(C, "a = :", NULL, NULL,
          "Invalid ConditionExpression: Syntax error; token: \":\", near: \"= :\"");
}

Test(ddb_expr, refuses_unterminated_parentheses_and_brackets)
{
    FAILS(C, "(a = :v", NULL, V1,
          "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \":v\"");
    FAILS(C, "a[1 = :v", NULL, V1,
          "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"1 = :v\"");
    FAILS(C, "a. = :v", NULL, V1,
          "Invalid ConditionExpression: Syntax error; token: \"=\", near: \". = :v\"");
}

Test(ddb_expr, refuses_whitespace_only_as_a_syntax_error)
{
    FAILS(C, "   ", NULL, NULL,
          "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"\"");
}

Test(ddb_expr, refuses_keywords_where_a_name_is_expected)
{
    FAILS(C, "and = :v", NULL, V1,
          "Invalid ConditionExpression: Syntax error; token: \"and\", near: \"and =\"");
    FAILS(C, "a.between = :v", NULL, V1,
          "Invalid ConditionExpression: Syntax error; token: \"between\", near: \".between =\"");
}

Test(ddb_expr, names_function_names_case_sensitively)
{
    FAILS(C, "ATTRIBUTE_EXISTS(a)", NULL, NULL,
          "Invalid ConditionExpression: Invalid function name; function: ATTRIBUTE_EXISTS");
    FAILS(U, "SET a = LIST_APPEND(:v, :v)", NULL, "{\":v\":{\"L\":[]}}",
          "Invalid UpdateExpression: Invalid function name; function: LIST_APPEND");
}

Test(ddb_expr, refuses_an_unknown_function)
{
    FAILS(C, "dog(a) = :v", NULL, V1,
          "Invalid ConditionExpression: Invalid function name; function: dog");
    FAILS(F, "a=a and whatever((:things)) > a", NULL, NULL,
          "Invalid FilterExpression: Invalid function name; function: whatever");
}

Test(ddb_expr, reports_an_unknown_function_before_a_reserved_word)
{
    FAILS(F, "attRIbute_exIsts((views), #a)", NULL, NULL,
          "Invalid FilterExpression: Invalid function name; function: attRIbute_exIsts");
}

Test(ddb_expr, frees_nothing_when_given_nothing)
{
    ddb_expr_free(NULL);
    ddb_expr_ctx_free(NULL);
    ddb_expr_ctx *c = ddb_expr_ctx_new(NULL, NULL);
    cr_assert_not_null(c);
    cr_assert_eq(ddb_expr_ctx_check_unused(c, &err), CORE_OK);
    ddb_expr_ctx_free(c);
}

Test(ddb_expr, parses_a_null_text_as_an_empty_expression)
{
    request(NULL, NULL);
    cr_assert_eq(ddb_expr_parse(P, NULL, ctx, &ex, &err), CORE_ERROR);
    cr_assert_null(ex);
    cr_assert_str_eq(err.message, "Invalid ProjectionExpression: The expression can not be empty;");
}

/* ---- ddb_expr: reserved words ------------------------------------------- */

Test(ddb_expr, rejects_reserved_word_used_bare)
{
    const char *words[] = {"status", "name", "size", "data", "count", "date", "timestamp", "user"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        char text[64], want[160];
        snprintf(text, sizeof text, "%s = :v", words[i]);
        snprintf(want, sizeof want,
                 "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved "
                 "keyword: %s",
                 words[i]);
        FAILS(C, text, NULL, V1, want);
    }
}

Test(ddb_expr, rejects_reserved_word_in_an_update)
{
    FAILS(U, "SET status = :v", NULL, V1,
          "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: "
          "status");
    FAILS(U, " remove Absolute ", NULL, NULL,
          "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: "
          "Absolute");
}

Test(ddb_expr, rejects_reserved_word_in_a_projection_and_nested)
{
    FAILS(P, "a, b.Data", NULL, NULL,
          "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: "
          "Data");
    FAILS(F, ":v < abOrT", NULL, V1,
          "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: "
          "abOrT");
}

Test(ddb_expr, accepts_reserved_words_through_expression_attribute_names)
{
    OK(C, "#s = :v AND #n.#d = :v", "{\"#s\":\"status\",\"#n\":\"name\",\"#d\":\"data\"}", V1);
}

Test(ddb_expr, knows_the_573_reserved_words_in_any_case)
{
    size_t ddbx_reserved_count(void);
    cr_assert_eq(ddbx_reserved_count(), 573);
    cr_assert(ddb_expr_is_reserved("ABORT"));
    cr_assert(ddb_expr_is_reserved("zone"));
    cr_assert(ddb_expr_is_reserved("LocalTimeStamp"));
    cr_assert(ddb_expr_is_reserved("flattern"));
    cr_assert(ddb_expr_is_reserved("inNter"));
    cr_assert_not(ddb_expr_is_reserved("price"));
    cr_assert_not(ddb_expr_is_reserved("shop"));
    cr_assert_not(ddb_expr_is_reserved(""));
    cr_assert_not(ddb_expr_is_reserved(NULL));
    cr_assert_not(ddb_expr_is_reserved("localtimestampsxx"));
}

/* ---- ddb_expr: names and values ------------------------------------------- */

Test(ddb_expr, reports_an_undefined_name_in_a_key_condition)
{
    FAILS(K, "#x = :v", NULL, V1,
          "Invalid KeyConditionExpression: An expression attribute name used in the document "
          "path is not defined; attribute name: #x");
}

Test(ddb_expr, reports_an_undefined_value_in_a_filter)
{
    FAILS(F, "a = :x", NULL, V1,
          "Invalid FilterExpression: An expression attribute value used in expression is not "
          "defined; attribute value: :x");
}

Test(ddb_expr, reports_undefined_names_without_any_names_given)
{
    FAILS(U, "SET #name = :val1", NULL, "{\":val1\":{\"N\":\"4\"}}",
          "Invalid UpdateExpression: An expression attribute name used in the document path is "
          "not defined; attribute name: #name");
}

Test(ddb_expr, lists_unused_values_sorted)
{
    OK(C, "a = :c", NULL, "{\":b\":{\"S\":\"x\"},\":c\":{\"S\":\"x\"},\":a\":{\"S\":\"x\"}}");
    cr_assert_eq(ddb_expr_ctx_check_unused(ctx, &err), CORE_ERROR);
    cr_assert_str_eq(err.message,
                     "Value provided in ExpressionAttributeValues unused in expressions: keys: "
                     "{:a, :b}");
}

Test(ddb_expr, lists_unused_names)
{
    OK(C, "#b = :v", "{\"#a\":\"x\",\"#b\":\"y\"}", V1);
    cr_assert_eq(ddb_expr_ctx_check_unused(ctx, &err), CORE_ERROR);
    cr_assert_str_eq(err.message,
                     "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a}");
}

Test(ddb_expr, reports_unused_names_before_unused_values)
{
    OK(C, "a = :v", "{\"#a\":\"x\"}", "{\":v\":{\"S\":\"x\"},\":w\":{\"S\":\"x\"}}");
    cr_assert_eq(ddb_expr_ctx_check_unused(ctx, &err), CORE_ERROR);
    cr_assert_str_eq(err.message,
                     "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a}");
}

Test(ddb_expr, counts_names_used_by_any_expression_of_the_request)
{
    OK(U, "SET #a = :a", "{\"#a\":\"x\",\"#b\":\"y\"}", "{\":a\":{\"S\":\"x\"},\":b\":{\"S\":\"y\"}}");
    cr_assert_eq(ddb_expr_ctx_check_unused(ctx, &err), CORE_ERROR);
    cr_assert_eq(parse_more(C, "#b = :b"), CORE_OK, "%s", err.message);
    cr_assert_eq(ddb_expr_ctx_check_unused(ctx, &err), CORE_OK, "%s", err.message);
}

Test(ddb_expr, counts_names_in_branches_evaluation_would_skip)
{
    OK(C, "#n1 = :v1 OR #n2 = :v2", "{\"#n1\":\"a\",\"#n2\":\"b\"}",
       "{\":v1\":{\"N\":\"1\"},\":v2\":{\"N\":\"2\"}}");
    cr_assert_eq(ddb_expr_ctx_check_unused(ctx, &err), CORE_OK, "%s", err.message);
}

Test(ddb_expr, accepts_a_context_without_names_or_values)
{
    OK(C, "attribute_exists(a)", NULL, NULL);
    cr_assert_eq(ddb_expr_ctx_check_unused(ctx, &err), CORE_OK);
    cr_assert_eq(ddb_expr_ctx_check_unused(NULL, &err), CORE_OK);
}

Test(ddb_expr, keeps_its_own_copies_so_the_context_may_go_first)
{
    OK(C, "#a = :v", "{\"#a\":\"x\"}", V1);
    ddb_expr_ctx_free(ctx);
    ctx = NULL;
    cJSON_Delete(names_json);
    cJSON_Delete(values_json);
    names_json = values_json = NULL;
    cr_assert_eq(holds("{\"x\":{\"S\":\"x\"}}"), 1);
}

/* ---- ddb_expr: static checks of conditions ------------------------------------ */

Test(ddb_expr, refuses_redundant_parentheses)
{
    const char *bad[] = {
        "((a = :v))",
        "a = ((:v))",
        "a=:v AND ((a=:v AND a=:v)) AND a=:v",
        "a=:v OR ((a=:v OR (a=:v OR a=:v)))",
        "(a)between(((b.c)).d)and(c)",
        "a > whatever((:v), ((a)))",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        FAILS(F, bad[i], NULL, V1, "Invalid FilterExpression: The expression has redundant parentheses;");
}

Test(ddb_expr, refuses_size_used_as_a_condition)
{
    FAILS(C, "size(a)", NULL, NULL,
          "Invalid ConditionExpression: The function is not allowed to be used this way in an "
          "expression; function: size");
}

Test(ddb_expr, refuses_boolean_functions_used_as_operands)
{
    const char *vals = "{\":v\":{\"N\":\"1\"}}";
    FAILS(C, "attribute_exists(a) < :v", NULL, vals,
          "Invalid ConditionExpression: The function is not allowed to be used this way in an "
          "expression; function: attribute_exists");
    FAILS(F, "size(contains(a, b)) > a", NULL, NULL,
          "Invalid FilterExpression: The function is not allowed to be used this way in an "
          "expression; function: contains");
    FAILS(F, "a in (b, attribute_exists(things))", NULL, NULL,
          "Invalid FilterExpression: The function is not allowed to be used this way in an "
          "expression; function: attribute_exists");
    FAILS(F, "a between b and attribute_exists(things)", NULL, NULL,
          "Invalid FilterExpression: The function is not allowed to be used this way in an "
          "expression; function: attribute_exists");
}

Test(ddb_expr, refuses_update_functions_in_a_condition)
{
    FAILS(C, "if_not_exists(a, a) = :v", NULL, V1,
          "Invalid ConditionExpression: The function is not allowed in a condition expression; "
          "function: if_not_exists");
    FAILS(C, "list_append(a, a) = :v", NULL, V1,
          "Invalid ConditionExpression: The function is not allowed in a condition expression; "
          "function: list_append");
}

Test(ddb_expr, counts_the_operands_of_functions)
{
    FAILS(C, "begins_with(a, :v, :v)", NULL, V1,
          "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
          "operator or function: begins_with, number of operands: 3");
    FAILS(F, "attribute_exists(things, a) and a=:v", NULL, V1,
          "Invalid FilterExpression: Incorrect number of operands for operator or function; "
          "operator or function: attribute_exists, number of operands: 2");
    FAILS(F, "attribute_type(things)", NULL, NULL,
          "Invalid FilterExpression: Incorrect number of operands for operator or function; "
          "operator or function: attribute_type, number of operands: 1");
    FAILS(F, "contains(things)", NULL, NULL,
          "Invalid FilterExpression: Incorrect number of operands for operator or function; "
          "operator or function: contains, number of operands: 1");
    FAILS(F, "size(things, a) > b", NULL, NULL,
          "Invalid FilterExpression: Incorrect number of operands for operator or function; "
          "operator or function: size, number of operands: 2");
}

Test(ddb_expr, requires_a_document_path_for_attribute_exists)
{
    FAILS(F, "attribute_exists(:a) and a=a", NULL, "{\":a\":{\"S\":\"1\"}}",
          "Invalid FilterExpression: Operator or function requires a document path; operator or "
          "function: attribute_exists");
}

Test(ddb_expr, checks_the_type_name_of_attribute_type)
{
    FAILS(C, "attribute_type(a, :t)", NULL, "{\":t\":{\"S\":\"DOG\"}}",
          "Invalid ConditionExpression: Invalid attribute type name found; type: DOG, valid types: "
          "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
    FAILS(C, "attribute_type(a, :t)", NULL, "{\":t\":{\"N\":\"1\"}}",
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator "
          "or function: attribute_type, operand type: N");
    FAILS(C, "attribute_type(a, b)", NULL, NULL,
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator "
          "or function: attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}");
}

Test(ddb_expr, requires_strings_or_binaries_for_begins_with)
{
    const char *types[] = {"{\"N\":\"1\"}",   "{\"BOOL\":true}", "{\"NULL\":true}",
                           "{\"L\":[]}",      "{\"M\":{}}",      "{\"SS\":[\"1\"]}",
                           "{\"NS\":[\"1\"]}", "{\"BS\":[\"YQ==\"]}"};
    const char *names[] = {"N", "BOOL", "NULL", "L", "M", "SS", "NS", "BS"};
    for (size_t i = 0; i < 8; i++) {
        char vals[64], want[200];
        snprintf(vals, sizeof vals, "{\":a\":%s}", types[i]);
        snprintf(want, sizeof want,
                 "Invalid FilterExpression: Incorrect operand type for operator or function; "
                 "operator or function: begins_with, operand type: %s",
                 names[i]);
        FAILS(F, "begins_with(a, :a)", NULL, vals, want);
        FAILS(F, "begins_with(:a, a)", NULL, vals, want);
    }
    OK(F, "begins_with(a, :a)", NULL, "{\":a\":{\"B\":\"YQ==\"}}");
}

Test(ddb_expr, refuses_size_of_a_number_bool_or_null_constant)
{
    FAILS(F, "size(:a) > a", NULL, "{\":a\":{\"BOOL\":true}}",
          "Invalid FilterExpression: Incorrect operand type for operator or function; operator or "
          "function: size, operand type: BOOL");
    FAILS(F, "size(size(a)) > :a", NULL, "{\":a\":{\"N\":\"1\"}}",
          "Invalid FilterExpression: Incorrect operand type for operator or function; operator or "
          "function: size, operand type: N");
    OK(F, "size(:a) = :a", NULL, "{\":a\":{\"S\":\"abc\"}}");
}

Test(ddb_expr, refuses_ordering_against_a_constant_that_cannot_be_ordered)
{
    FAILS(C, "a < :l", NULL, "{\":l\":{\"L\":[{\"N\":\"1\"}]}}",
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator "
          "or function: <, operand type: L");
    FAILS(C, ":l >= a", NULL, "{\":l\":{\"BOOL\":true}}",
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator "
          "or function: >=, operand type: BOOL");
    FAILS(C, "a BETWEEN :l AND :l", NULL, "{\":l\":{\"M\":{}}}",
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator "
          "or function: BETWEEN, operand type: M");
    OK(C, "a = :l AND a <> :l", NULL, "{\":l\":{\"L\":[]}}");
}

Test(ddb_expr, requires_distinct_first_operands)
{
    FAILS(F, "#a <> a", "{\"#a\":\"a\"}", NULL,
          "Invalid FilterExpression: The first operand must be distinct from the remaining "
          "operands for this operator or function; operator: <>, first operand: [a]");
    FAILS(F, "contains(ab.bc[1].a, ab.bc[1].#a)", "{\"#a\":\"a\"}", NULL,
          "Invalid FilterExpression: The first operand must be distinct from the remaining "
          "operands for this operator or function; operator: contains, first operand: [ab, bc, "
          "[1], a]");
    OK(F, ":v > :v", NULL, V1);
}

Test(ddb_expr, checks_the_bounds_of_between)
{
    FAILS(C, "a between :b and :a", NULL, "{\":a\":{\"S\":\"a\"},\":b\":{\"N\":\"1\"}}",
          "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower "
          "and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: "
          "AttributeValue: {S:a}");
    FAILS(C, "a between :b and :a", NULL, "{\":a\":{\"S\":\"a\"},\":b\":{\"S\":\"b\"}}",
          "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater "
          "than or equal to lower bound; lower bound operand: AttributeValue: {S:b}, upper bound "
          "operand: AttributeValue: {S:a}");
    OK(C, "a between :a and :a", NULL, "{\":a\":{\"S\":\"a\"}}");
    OK(C, "a between b and :a", NULL, "{\":a\":{\"S\":\"a\"}}");
}

Test(ddb_expr, accepts_in_with_one_hundred_values_and_refuses_one_hundred_and_one)
{
    cJSON *vals = cJSON_CreateObject();
    char *list = malloc(101 * 8 + 32);
    size_t o = 0;
    for (int i = 0; i < 101; i++) {
        char key[16];
        snprintf(key, sizeof key, ":v%d", i);
        cJSON *av = cJSON_CreateObject();
        cJSON_AddStringToObject(av, "N", "1");
        cJSON_AddItemToObject(vals, key, av);
        o += (size_t)snprintf(list + o, 101 * 8 + 32 - o, "%s%s", i ? "," : "", key);
    }
    char *text = malloc(o + 32);
    char *names = cJSON_PrintUnformatted(vals);
    cJSON_Delete(vals);
    /* 100 values after IN: accepted. */
    char *cut = strrchr(list, ',');
    snprintf(text, o + 32, "a IN (%.*s)", (int)(cut - list), list);
    int rc = parse(C, text, NULL, names);
    cr_assert_eq(rc, CORE_OK, "%s", err.message);
    snprintf(text, o + 32, "a IN (%s)", list);
    rc = parse(C, text, NULL, names);
    free(text);
    free(list);
    free(names);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_str_eq(err.message, "Invalid ConditionExpression: The IN operator is provided with "
                                  "too many operands; number of operands: 101");
}

Test(ddb_expr, accepts_three_hundred_operators_and_refuses_three_hundred_and_one)
{
    /* "a<:v" joined by AND: n comparisons and n-1 ANDs. */
    char *ok = repeat(" AND a<:v", 149, "a<:v", "");   /* 150 + 149 = 299 */
    char *ok300 = repeat(" AND a<:v", 149, "NOT a<:v", ""); /* + NOT = 300 */
    char *bad = repeat(" AND a<:v", 150, "a<:v", "");  /* 151 + 150 = 301 */
    int rc1 = parse(C, ok, NULL, V1);
    int rc2 = parse(C, ok300, NULL, V1);
    int rc3 = parse(C, bad, NULL, V1);
    free(ok);
    free(ok300);
    free(bad);
    cr_assert_eq(rc1, CORE_OK);
    cr_assert_eq(rc2, CORE_OK);
    cr_assert_eq(rc3, CORE_ERROR);
    cr_assert_str_eq(err.message, "Invalid ConditionExpression: The expression contains too many "
                                  "operators; operator count: 301");
}

Test(ddb_expr, refuses_an_expression_over_4096_bytes_with_its_size)
{
    char *text = repeat("a", 4090, "", " = :v"); /* 4095 bytes */
    char *big = repeat("a", 4092, "", " = :v");  /* 4097 bytes */
    int rc1 = parse(C, text, NULL, V1);
    int rc2 = parse(C, big, NULL, V1);
    free(text);
    free(big);
    cr_assert_eq(rc1, CORE_OK, "%s", err.message);
    cr_assert_eq(rc2, CORE_ERROR);
    cr_assert_str_eq(err.message, "Invalid ConditionExpression: Expression size has exceeded the "
                                  "maximum allowed size; expression size: 4097");
}

Test(ddb_expr, accepts_an_expression_of_exactly_4096_bytes)
{
    char *text = repeat("a", 4091, "", " = :v");
    cr_assert_eq(strlen(text), 4096);
    int rc = parse(C, text, NULL, V1);
    free(text);
    cr_assert_eq(rc, CORE_OK, "%s", err.message);
}

Test(ddb_expr, accepts_32_nesting_levels_and_refuses_33)
{
    char *ok = repeat(".b", 31, "a", "");
    char *bad = repeat(".b", 32, "a", "");
    int rc1 = parse(P, ok, NULL, NULL);
    int rc2 = parse(P, bad, NULL, NULL);
    free(ok);
    free(bad);
    cr_assert_eq(rc1, CORE_OK, "%s", err.message);
    cr_assert_eq(rc2, CORE_ERROR);
    cr_assert_str_eq(err.message, "Invalid ProjectionExpression: The document path has too many "
                                  "nesting levels; nesting levels: 33");
}

Test(ddb_expr, refuses_a_list_index_past_the_allowable_range)
{
    FAILS(P, "a[99999999999]", NULL, NULL,
          "Invalid ProjectionExpression: List index is not within the allowable range; index: "
          "[99999999999]");
    OK(P, "a[2147483647]", NULL, NULL);
}

/* ---- ddb_expr: key conditions (shape) ------------------------------------ */

Test(ddb_expr, refuses_operators_a_key_condition_cannot_use)
{
    const struct {
        const char *text, *op;
    } cases[] = {
        {"a > b and size(b) > c or a > c", "OR"},
        {"a in (b, size(c), d)", "IN"},
        {"attribute_exists(a)", "attribute_exists"},
        {"attribute_not_exists(a)", "attribute_not_exists"},
        {"contains(a.d, b)", "contains"},
        {"not a > b", "NOT"},
        {"a <> b", "<>"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[128];
        snprintf(want, sizeof want, "Invalid operator used in KeyConditionExpression: %s",
                 cases[i].op);
        FAILS(K, cases[i].text, NULL, NULL, want);
    }
    FAILS(K, "attribute_type(a, :a)", NULL, "{\":a\":{\"S\":\"S\"}}",
          "Invalid operator used in KeyConditionExpression: attribute_type");
}

Test(ddb_expr, refuses_key_conditions_of_the_wrong_shape)
{
    const char *vals = "{\":a\":{\"S\":\"1\"},\":b\":{\"S\":\"1\"}}";
    FAILS(K, ":a between size(b) and size(a) and b > :b", NULL, vals,
          "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key "
          "attribute as its first operand");
    FAILS(K, "begins_with(:a, b) and a > :b", NULL, vals,
          "Invalid condition in KeyConditionExpression: begins_with operator must have the key "
          "attribute as its first operand");
    FAILS(K, "size(b) > a AND a.b > b AND b > c", NULL, NULL,
          "KeyConditionExpressions cannot contain nested operations");
    FAILS(K, "a > size(b.d)", NULL, NULL, "KeyConditionExpressions cannot contain nested operations");
    FAILS(K, "b > a.b", NULL, NULL,
          "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
          "condition");
    FAILS(K, "begins_with(a, b)", NULL, NULL,
          "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
          "condition");
    FAILS(K, "a.d > :a", NULL, vals, "KeyConditionExpressions cannot have conditions on nested attributes");
    FAILS(K, "b[0] > :a", NULL, vals, "KeyConditionExpressions cannot have conditions on nested attributes");
    FAILS(K, ":b > :a AND a < :b", NULL, vals,
          "Invalid condition in KeyConditionExpression: No key attribute specified");
    FAILS(K, "b > :a AND b < :a", NULL, vals,
          "KeyConditionExpressions must only contain one condition per key");
    FAILS(K, "(a > :a and b > :a) and (c > :a and d > :a)", NULL, vals,
          "Conditions can be of length 1 or 2 only");
}

Test(ddb_expr, checks_key_condition_operands_before_its_shape)
{
    FAILS(K, "attribute_type(a, b)", NULL, NULL,
          "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
          "operator or function: attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}");
}

/* ---- ddb_expr_eval: conditions --------------------------------------------- */

static const char *ITEM =
    "{\"a\":{\"N\":\"1\"},\"b\":{\"N\":\"2\"},\"c\":{\"N\":\"3\"},\"s\":{\"S\":\"cat\"},"
    "\"bin\":{\"B\":\"Y2F0\"},\"t\":{\"BOOL\":true},\"z\":{\"NULL\":true},"
    "\"l\":{\"L\":[{\"N\":\"2\"},{\"S\":\"dog\"},{\"L\":[{\"N\":\"3\"},{\"N\":\"4\"}]}]},"
    "\"m\":{\"M\":{\"x\":{\"N\":\"1\"},\"y\":{\"M\":{\"m\":{\"N\":\"3\"},\"n\":{\"N\":\"4\"}}}}},"
    "\"ss\":{\"SS\":[\"a\",\"b\"]},\"ns\":{\"NS\":[\"2\",\"4\",\"7\"]},"
    "\"bs\":{\"BS\":[\"YQ==\",\"Yg==\"]},\"u\":{\"S\":\"\xc3\xa9\xf0\x9d\x84\x9e\"}}";

Test(ddb_expr_eval, compares_numbers_by_value)
{
    const char *v = "{\":x\":{\"N\":\"1.0\"},\":y\":{\"N\":\"10\"}}";
    cr_assert_eq(cond_on("a = :x", v, ITEM), 1);
    cr_assert_eq(cond_on("a < :y", v, ITEM), 1);
    cr_assert_eq(cond_on("a >= :y", v, ITEM), 0);
    cr_assert_eq(cond_on("a <= :x", v, ITEM), 1);
    cr_assert_eq(cond_on("a > :x", v, ITEM), 0);
    cr_assert_eq(cond_on("a <> :x", v, ITEM), 0);
    cr_assert_eq(cond_on("c > b", v, ITEM), 1);
}

Test(ddb_expr_eval, compares_strings_and_binaries_by_bytes)
{
    const char *v = "{\":dog\":{\"S\":\"dog\"},\":aa\":{\"S\":\"aardvark\"},"
                    "\":bdog\":{\"B\":\"ZG9n\"},\":hi\":{\"B\":\"gA==\"}}";
    cr_assert_eq(cond_on("s < :dog", v, ITEM), 1);
    cr_assert_eq(cond_on("s > :aa", v, ITEM), 1);
    cr_assert_eq(cond_on("bin < :bdog", v, ITEM), 1);
    /* Binary order is unsigned: 0x80 sorts after 'c'. */
    cr_assert_eq(cond_on("bin < :hi", v, ITEM), 1);
}

Test(ddb_expr_eval, finds_values_of_different_types_neither_equal_nor_ordered)
{
    const char *v = "{\":s\":{\"S\":\"1\"}}";
    cr_assert_eq(cond_on("a = :s", v, ITEM), 0);
    cr_assert_eq(cond_on("a <> :s", v, ITEM), 1);
    cr_assert_eq(cond_on("a < :s", v, ITEM), 0);
    cr_assert_eq(cond_on("a >= :s", v, ITEM), 0);
    cr_assert_eq(cond_on("l < a", NULL, ITEM), 0);
}

Test(ddb_expr_eval, compares_documents_and_sets_deeply)
{
    const char *v = "{\":m\":{\"M\":{\"y\":{\"M\":{\"n\":{\"N\":\"4.0\"},\"m\":{\"N\":\"3\"}}},"
                    "\"x\":{\"N\":\"1\"}}},\":ns\":{\"NS\":[\"7\",\"2\",\"4\"]},"
                    "\":l\":{\"L\":[{\"N\":\"3\"},{\"N\":\"4\"}]}}";
    cr_assert_eq(cond_on("m = :m AND ns = :ns AND l[2] = :l", v, ITEM), 1);
    cr_assert_eq(cond_on("t = t2", NULL, ITEM), 0);
}

Test(ddb_expr_eval, treats_a_missing_attribute_as_no_value)
{
    const char *v = "{\":x\":{\"N\":\"1\"},\":y\":{\"N\":\"5\"}}";
    cr_assert_eq(cond_on("q = :x", v, ITEM), 0);
    cr_assert_eq(cond_on("q <> :x", v, ITEM), 1);
    cr_assert_eq(cond_on("q < :x", v, ITEM), 0);
    cr_assert_eq(cond_on("q BETWEEN :x AND :y", v, ITEM), 0);
    cr_assert_eq(cond_on("q IN (:x, :y)", v, ITEM), 0);
    cr_assert_eq(cond_on("q = w", NULL, ITEM), 0);
    cr_assert_eq(cond_on("q <> w", NULL, ITEM), 1);
    cr_assert_eq(cond_on("q <= w", NULL, ITEM), 0);
    cr_assert_eq(cond_on("begins_with(q, s) OR contains(q, s)", NULL, ITEM), 0);
}

Test(ddb_expr_eval, evaluates_against_no_item)
{
    const char *v = "{\":x\":{\"N\":\"1\"}}";
    cr_assert_eq(cond_on("attribute_not_exists(a)", NULL, NULL), 1);
    cr_assert_eq(cond_on("attribute_exists(a)", NULL, NULL), 0);
    cr_assert_eq(cond_on("a = :x", v, NULL), 0);
    cr_assert_eq(cond_on("a <> :x", v, NULL), 1);
}

Test(ddb_expr_eval, evaluates_between_inclusively)
{
    const char *v = "{\":lo\":{\"N\":\"1\"},\":hi\":{\"N\":\"2\"},\":a\":{\"S\":\"a\"},"
                    "\":c\":{\"S\":\"cat\"}}";
    cr_assert_eq(cond_on("a BETWEEN :lo AND :hi", v, ITEM), 1);
    cr_assert_eq(cond_on("b BETWEEN :lo AND :hi", v, ITEM), 1);
    cr_assert_eq(cond_on("c BETWEEN :lo AND :hi", v, ITEM), 0);
    cr_assert_eq(cond_on("s BETWEEN :a AND :c", v, ITEM), 1);
    cr_assert_eq(cond_on("s BETWEEN :lo AND :hi", v, ITEM), 0);
    /* Bounds read from the item in the wrong order: simply false. */
    cr_assert_eq(cond_on("b BETWEEN c AND a", NULL, ITEM), 0);
}

Test(ddb_expr_eval, evaluates_in_over_values_of_any_type)
{
    const char *v = "{\":x\":{\"S\":\"dog\"},\":y\":{\"N\":\"2\"},\":z\":{\"SS\":[\"b\",\"a\"]}}";
    cr_assert_eq(cond_on("b IN (:x, :y)", v, ITEM), 1);
    cr_assert_eq(cond_on("a IN (:x, :y)", v, ITEM), 0);
    cr_assert_eq(cond_on("ss IN (:z)", v, ITEM), 1);
}

Test(ddb_expr_eval, gives_not_precedence_over_and_over_or)
{
    /* a=1, b=2, c=3 */
    cr_assert_eq(cond_on("a < b OR c < b AND b < c", NULL, ITEM), 1);
    cr_assert_eq(cond_on("NOT a < b AND c < b", NULL, ITEM), 0);
    cr_assert_eq(cond_on("NOT (a < b AND c < b)", NULL, ITEM), 1);
    cr_assert_eq(cond_on("(a < b OR c < b) AND b > c", NULL, ITEM), 0);
    cr_assert_eq(cond_on("b BETWEEN a AND c AND a < b", NULL, ITEM), 1);
    cr_assert_eq(cond_on("NOT NOT NOT NOT a < b", NULL, ITEM), 1);
    cr_assert_eq(cond_on("NOT NOT NOT a < b", NULL, ITEM), 0);
}

Test(ddb_expr_eval, gives_the_truth_tables_of_and_or_not)
{
    const char *v = "{\":t\":{\"N\":\"1\"},\":f\":{\"N\":\"0\"}}";
    const struct {
        const char *text;
        int want;
    } cases[] = {
        {"a = :t AND a = :t", 1}, {"a = :t AND a = :f", 0}, {"a = :f AND a = :t", 0},
        {"a = :f AND a = :f", 0}, {"a = :t OR a = :t", 1},  {"a = :t OR a = :f", 1},
        {"a = :f OR a = :t", 1},  {"a = :f OR a = :f", 0},  {"NOT a = :t", 0},
        {"NOT a = :f", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(cond_on(cases[i].text, v, ITEM), cases[i].want, "%s", cases[i].text);
}

Test(ddb_expr_eval, reads_nested_paths_and_list_indexes)
{
    const char *v = "{\":v\":{\"N\":\"4\"},\":d\":{\"S\":\"dog\"}}";
    cr_assert_eq(cond_on("m.y.n = :v AND l[1] = :d AND l[2][1] = :v", v, ITEM), 1);
    cr_assert_eq(cond_on("attribute_exists(l[2][1]) AND attribute_not_exists(l[3])", NULL, ITEM),
                 1);
    cr_assert_eq(cond_on("attribute_exists(m.x.y) OR attribute_exists(l.x) OR "
                         "attribute_exists(m[0])",
                         NULL, ITEM),
                 0);
    cr_assert_eq(cond_on("m.x < l[2][0]", NULL, ITEM), 1);
}

Test(ddb_expr_eval, checks_attribute_types)
{
    const char *pairs[][2] = {{"s", "S"},   {"a", "N"},   {"bin", "B"}, {"t", "BOOL"},
                              {"z", "NULL"}, {"l", "L"},   {"m", "M"},   {"ss", "SS"},
                              {"ns", "NS"},  {"bs", "BS"}};
    for (size_t i = 0; i < 10; i++) {
        char text[64], vals[64];
        snprintf(text, sizeof text, "attribute_type(%s, :t)", pairs[i][0]);
        snprintf(vals, sizeof vals, "{\":t\":{\"S\":\"%s\"}}", pairs[i][1]);
        cr_assert_eq(cond_on(text, vals, ITEM), 1, "%s", text);
        snprintf(vals, sizeof vals, "{\":t\":{\"S\":\"%s\"}}", pairs[(i + 1) % 10][1]);
        cr_assert_eq(cond_on(text, vals, ITEM), 0, "%s", text);
    }
    cr_assert_eq(cond_on("attribute_type(:x, :t)", "{\":x\":{\"N\":\"0\"},\":t\":{\"S\":\"N\"}}",
                         ITEM),
                 1);
}

Test(ddb_expr_eval, begins_with_strings_and_binaries)
{
    const char *v = "{\":ca\":{\"S\":\"ca\"},\":do\":{\"S\":\"do\"},\":bca\":{\"B\":\"Y2E=\"},"
                    "\":long\":{\"S\":\"cats\"},\":empty\":{\"S\":\"\"}}";
    cr_assert_eq(cond_on("begins_with(s, :ca)", v, ITEM), 1);
    cr_assert_eq(cond_on("begins_with(s, :do)", v, ITEM), 0);
    cr_assert_eq(cond_on("begins_with(s, :long)", v, ITEM), 0);
    cr_assert_eq(cond_on("begins_with(s, :empty)", v, ITEM), 1);
    cr_assert_eq(cond_on("begins_with(bin, :bca)", v, ITEM), 1);
    cr_assert_eq(cond_on("begins_with(bin, :ca)", v, ITEM), 0);
    cr_assert_eq(cond_on("begins_with(a, :ca)", v, ITEM), 0);
    cr_assert_eq(cond_on("begins_with(:long, s)", v, ITEM), 1);
}

Test(ddb_expr_eval, contains_substrings_members_and_elements)
{
    const char *v = "{\":at\":{\"S\":\"at\"},\":x\":{\"S\":\"x\"},\":bat\":{\"B\":\"YXQ=\"},"
                    "\":a\":{\"S\":\"a\"},\":n4\":{\"N\":\"4.0\"},\":n5\":{\"N\":\"5\"},"
                    "\":by\":{\"B\":\"Yg==\"},\":dog\":{\"S\":\"dog\"},"
                    "\":l34\":{\"L\":[{\"N\":\"3\"},{\"N\":\"4\"}]}}";
    cr_assert_eq(cond_on("contains(s, :at)", v, ITEM), 1);
    cr_assert_eq(cond_on("contains(s, :x)", v, ITEM), 0);
    cr_assert_eq(cond_on("contains(bin, :bat)", v, ITEM), 1);
    cr_assert_eq(cond_on("contains(ss, :a)", v, ITEM), 1);
    cr_assert_eq(cond_on("contains(ss, :x)", v, ITEM), 0);
    cr_assert_eq(cond_on("contains(ns, :n4)", v, ITEM), 1);
    cr_assert_eq(cond_on("contains(ns, :n5)", v, ITEM), 0);
    cr_assert_eq(cond_on("contains(bs, :by)", v, ITEM), 1);
    cr_assert_eq(cond_on("contains(l, :dog)", v, ITEM), 1);
    cr_assert_eq(cond_on("contains(l, :l34)", v, ITEM), 1);
    cr_assert_eq(cond_on("contains(l, :x)", v, ITEM), 0);
    cr_assert_eq(cond_on("contains(ss, :n4)", v, ITEM), 0);
    cr_assert_eq(cond_on("contains(a, :n4)", v, ITEM), 0);
}

Test(ddb_expr_eval, sizes_strings_in_utf16_units_and_collections_by_count)
{
    const char *v = "{\":3\":{\"N\":\"3\"},\":2\":{\"N\":\"2\"},\":1\":{\"N\":\"1\"},"
                    "\":s\":{\"S\":\"dog\"}}";
    cr_assert_eq(cond_on("size(s) = :3", v, ITEM), 1);
    /* "é𝄞": one unit for é, a surrogate pair for 𝄞 (AWS: size 3, not 6 bytes). */
    cr_assert_eq(cond_on("size(u) = :3", v, ITEM), 1);
    cr_assert_eq(cond_on("size(bin) = :3", v, ITEM), 1);
    cr_assert_eq(cond_on("size(l) = :3", v, ITEM), 1);
    cr_assert_eq(cond_on("size(m) = :2", v, ITEM), 1);
    cr_assert_eq(cond_on("size(ss) = :2", v, ITEM), 1);
    cr_assert_eq(cond_on("size(ns) = :3", v, ITEM), 1);
    cr_assert_eq(cond_on("size(l[2]) < size(ns)", v, ITEM), 1);
    cr_assert_eq(cond_on("size(:s) = :3", v, ITEM), 1);
}

Test(ddb_expr_eval, finds_no_size_for_numbers_booleans_nulls_or_missing)
{
    const char *v = "{\":1\":{\"N\":\"1\"},\":s\":{\"S\":\"x\"}}";
    cr_assert_eq(cond_on("size(a) = :1", v, ITEM), 0);
    cr_assert_eq(cond_on("size(t) = :1", v, ITEM), 0);
    cr_assert_eq(cond_on("size(z) = :1", v, ITEM), 0);
    cr_assert_eq(cond_on("size(q) = :1", v, ITEM), 0);
    cr_assert_eq(cond_on("size(a) <> :1", v, ITEM), 1);
    cr_assert_eq(cond_on("size(s) = :s", v, ITEM), 0);
}

Test(ddb_expr_eval, evaluates_the_same_tree_many_times)
{
    OK(C, "a < :v", NULL, "{\":v\":{\"N\":\"2\"}}");
    cr_assert_eq(holds("{\"a\":{\"N\":\"1\"}}"), 1);
    cr_assert_eq(holds("{\"a\":{\"N\":\"3\"}}"), 0);
    cr_assert_eq(holds("{}"), 0);
    cr_assert_eq(holds(NULL), 0);
}

Test(ddb_expr_eval, evaluates_a_key_condition_as_a_condition)
{
    OK(K, "pk = :p AND sk BETWEEN :a AND :b", NULL,
       "{\":p\":{\"S\":\"x\"},\":a\":{\"N\":\"1\"},\":b\":{\"N\":\"5\"}}");
    cr_assert_eq(holds("{\"pk\":{\"S\":\"x\"},\"sk\":{\"N\":\"3\"}}"), 1);
    cr_assert_eq(holds("{\"pk\":{\"S\":\"x\"},\"sk\":{\"N\":\"6\"}}"), 0);
}

Test(ddb_expr_eval, refuses_to_evaluate_an_update_tree)
{
    OK(U, "REMOVE a", NULL, NULL);
    int r = 5;
    cr_assert_eq(ddb_expr_eval(ex, NULL, &r, &err), CORE_ERROR);
    cr_assert_eq(r, 0);
}

/* ---- ddb_expr_update ---------------------------------------------------------- */

Test(ddb_expr_update, sets_a_top_level_attribute)
{
    OK(U, "SET b = :v", NULL, "{\":v\":{\"N\":\"4\"}}");
    update_gives("{\"p\":{\"S\":\"k\"}}", "{\"p\":{\"S\":\"k\"},\"b\":{\"N\":\"4\"}}");
}

Test(ddb_expr_update, accepts_clause_keywords_in_any_case_and_spacing)
{
    OK(U, "  sEt   b=:v  ", NULL, "{\":v\":{\"N\":\"5\"}}");
    update_gives("{}", "{\"b\":{\"N\":\"5\"}}");
}

Test(ddb_expr_update, replaces_an_attribute_and_keeps_the_others)
{
    OK(U, "SET a = :v, b = :v", NULL, "{\":v\":{\"S\":\"hey\"}}");
    update_gives("{\"a\":{\"S\":\"hi\"},\"c\":{\"N\":\"1\"}}",
                 "{\"a\":{\"S\":\"hey\"},\"b\":{\"S\":\"hey\"},\"c\":{\"N\":\"1\"}}");
}

Test(ddb_expr_update, copies_one_attribute_to_another)
{
    OK(U, "SET b = a, #one = #two", "{\"#one\":\"c\",\"#two\":\"a\"}", NULL);
    update_gives("{\"a\":{\"S\":\"hello\"}}",
                 "{\"a\":{\"S\":\"hello\"},\"b\":{\"S\":\"hello\"},\"c\":{\"S\":\"hello\"}}");
}

Test(ddb_expr_update, reads_every_operand_before_writing)
{
    OK(U, "SET a = :v, b = a", NULL, "{\":v\":{\"N\":\"4\"}}");
    update_gives("{\"a\":{\"N\":\"1\"}}", "{\"a\":{\"N\":\"4\"},\"b\":{\"N\":\"1\"}}");
    OK(U, "REMOVE a SET b = a", NULL, NULL);
    update_gives("{\"a\":{\"S\":\"x\"}}", "{\"b\":{\"S\":\"x\"}}");
}

Test(ddb_expr_update, refuses_to_copy_a_missing_attribute)
{
    OK(U, "SET c = z", NULL, NULL);
    cr_assert_str_eq(update_fails("{\"a\":{\"N\":\"1\"}}"),
                     "The provided expression refers to an attribute that does not exist in the "
                     "item");
    OK(U, "SET x = :v, y = x", NULL, "{\":v\":{\"N\":\"4\"}}");
    cr_assert_str_eq(update_fails("{}"),
                     "The provided expression refers to an attribute that does not exist in the "
                     "item");
}

Test(ddb_expr_update, adds_and_subtracts_exactly)
{
    OK(U, "SET a = a + :x, b = :x - b, c = :x + :y, d = :y - :x", NULL,
       "{\":x\":{\"N\":\"0.1\"},\":y\":{\"N\":\"0.2\"}}");
    update_gives("{\"a\":{\"N\":\"2\"},\"b\":{\"N\":\"7\"}}",
                 "{\"a\":{\"N\":\"2.1\"},\"b\":{\"N\":\"-6.9\"},\"c\":{\"N\":\"0.3\"},"
                 "\"d\":{\"N\":\"0.1\"}}");
}

Test(ddb_expr_update, keeps_38_significant_digits)
{
    OK(U, "SET a = a + :x", NULL, "{\":x\":{\"N\":\"1\"}}");
    update_gives("{\"a\":{\"N\":\"9999999999999999999999999999999999998\"}}",
                 "{\"a\":{\"N\":\"9999999999999999999999999999999999999\"}}");
}

Test(ddb_expr_update, reports_number_overflow)
{
    OK(U, "SET a = a + :x", NULL, "{\":x\":{\"N\":\"9E+125\"}}");
    const char *msg = update_fails("{\"a\":{\"N\":\"9E+125\"}}");
    cr_assert(strstr(msg, "Number overflow") != NULL, "%s", msg);
}

Test(ddb_expr_update, refuses_arithmetic_on_a_non_number_attribute)
{
    OK(U, "SET e = a + :v", NULL, "{\":v\":{\"N\":\"1\"}}");
    cr_assert_str_eq(update_fails("{\"a\":{\"S\":\"x\"}}"),
                     "An operand in the update expression has an incorrect data type");
}

Test(ddb_expr_update, refuses_arithmetic_on_a_non_number_constant)
{
    FAILS(U, "SET a = a + :v", NULL, "{\":v\":{\"S\":\"x\"}}",
          "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or "
          "function: +, operand type: S");
    FAILS(U, "SET a = :c - a", NULL, "{\":c\":{\"B\":\"YQ==\"}}",
          "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or "
          "function: -, operand type: B");
}

Test(ddb_expr_update, sets_if_not_exists)
{
    OK(U, "SET a = if_not_exists(a, :v), b = if_not_exists(c, :v), d = if_not_exists(a, :v)", NULL,
       "{\":v\":{\"N\":\"9\"}}");
    update_gives("{\"a\":{\"N\":\"2\"}}",
                 "{\"a\":{\"N\":\"2\"},\"b\":{\"N\":\"9\"},\"d\":{\"N\":\"2\"}}");
}

Test(ddb_expr_update, adds_to_if_not_exists)
{
    OK(U, "SET b = if_not_exists(b, :a) + :b", NULL, "{\":a\":{\"N\":\"2\"},\":b\":{\"N\":\"3\"}}");
    update_gives("{}", "{\"b\":{\"N\":\"5\"}}");
    update_gives("{\"b\":{\"N\":\"10\"}}", "{\"b\":{\"N\":\"13\"}}");
}

Test(ddb_expr_update, appends_lists_in_either_order)
{
    OK(U, "SET a = list_append(a, :v), b = list_append(:v, a)", NULL,
       "{\":v\":{\"L\":[{\"S\":\"x\"}]}}");
    update_gives("{\"a\":{\"L\":[{\"N\":\"1\"}]}}",
                 "{\"a\":{\"L\":[{\"N\":\"1\"},{\"S\":\"x\"}]},"
                 "\"b\":{\"L\":[{\"S\":\"x\"},{\"N\":\"1\"}]}}");
}

Test(ddb_expr_update, appends_to_a_list_that_may_not_exist_yet)
{
    OK(U, "SET #l = list_append(if_not_exists(#l, :empty), :new)", "{\"#l\":\"list\"}",
       "{\":empty\":{\"L\":[]},\":new\":{\"L\":[{\"N\":\"1\"}]}}");
    update_gives("{}", "{\"list\":{\"L\":[{\"N\":\"1\"}]}}");
}

Test(ddb_expr_update, refuses_list_append_on_a_missing_or_non_list_attribute)
{
    OK(U, "SET a = list_append(b, :v)", NULL, "{\":v\":{\"L\":[]}}");
    cr_assert_str_eq(update_fails("{}"),
                     "The provided expression refers to an attribute that does not exist in the "
                     "item");
    cr_assert_str_eq(update_fails("{\"b\":{\"S\":\"x\"}}"),
                     "An operand in the update expression has an incorrect data type");
}

Test(ddb_expr_update, checks_function_operands_before_reading_the_item)
{
    FAILS(U, "set a = list_append(:a, a)", NULL, "{\":a\":{\"S\":\"a\"}}",
          "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or "
          "function: list_append, operand type: S");
    FAILS(U, "set a = if_not_exists(:a, c)", NULL, "{\":a\":{\"S\":\"a\"}}",
          "Invalid UpdateExpression: Operator or function requires a document path; operator or "
          "function: if_not_exists");
    FAILS(U, "set a = if_not_exists(c)", NULL, NULL,
          "Invalid UpdateExpression: Incorrect number of operands for operator or function; "
          "operator or function: if_not_exists, number of operands: 1");
    FAILS(U, "SET a = list_append(list_append(:v, :v), :v)", NULL, "{\":v\":{\"L\":[]}}",
          "Invalid UpdateExpression: The function is not allowed to be used this way in an "
          "expression; function: list_append");
    FAILS(U, "SET a = size(b)", NULL, NULL,
          "Invalid UpdateExpression: The function is not allowed in an update expression; "
          "function: size");
    FAILS(U, "SET a = f(b,c,d)", NULL, NULL,
          "Invalid UpdateExpression: Invalid function name; function: f");
}

Test(ddb_expr_update, sets_nested_map_keys_creating_missing_keys)
{
    OK(U, "SET a.c = :v, a.d = :v", NULL, "{\":v\":{\"N\":\"7\"}}");
    update_gives("{\"a\":{\"M\":{\"b\":{\"N\":\"3\"},\"c\":{\"N\":\"4\"}}}}",
                 "{\"a\":{\"M\":{\"b\":{\"N\":\"3\"},\"c\":{\"N\":\"7\"},\"d\":{\"N\":\"7\"}}}}");
}

Test(ddb_expr_update, sets_deep_paths_with_names)
{
    OK(U, "SET a.c[1].#name.y[1] = :v", "{\"#name\":\"x\"}", "{\":v\":{\"N\":\"9\"}}");
    update_gives("{\"a\":{\"M\":{\"c\":{\"L\":[{\"S\":\"hi\"},{\"M\":{\"x\":{\"M\":{\"y\":"
                 "{\"L\":[{\"N\":\"3\"},{\"N\":\"5\"}]}}}}}]}}}}",
                 "{\"a\":{\"M\":{\"c\":{\"L\":[{\"S\":\"hi\"},{\"M\":{\"x\":{\"M\":{\"y\":"
                 "{\"L\":[{\"N\":\"3\"},{\"N\":\"9\"}]}}}}}]}}}}");
}

Test(ddb_expr_update, refuses_a_nested_path_whose_parent_is_missing_or_not_a_map)
{
    const char *item = "{\"a\":{\"S\":\"hello\"},\"b\":{\"L\":[{\"S\":\"hi\"}]},"
                       "\"c\":{\"M\":{\"1\":{\"S\":\"a\"}}}}";
    const char *exprs[] = {"SET a.c = :v", "SET b.c = :v", "SET x.c = :v", "SET a[0] = :v",
                           "SET x[0] = :v", "SET c[1] = :v", "ADD x.y :v", "ADD c[1] :v",
                           "DELETE b.x :s", "REMOVE a.c", "REMOVE b.c", "REMOVE x.c",
                           "REMOVE a[0]", "REMOVE c[1]"};
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        OK(U, exprs[i], NULL, "{\":v\":{\"N\":\"7\"},\":s\":{\"SS\":[\"a\"]}}");
        cr_assert_str_eq(update_fails(item),
                         "The document path provided in the update expression is invalid for "
                         "update",
                         "%s", exprs[i]);
    }
}

Test(ddb_expr_update, replaces_a_list_element)
{
    OK(U, "SET a[1] = :v", NULL, "{\":v\":{\"S\":\"hello\"}}");
    update_gives("{\"a\":{\"L\":[{\"S\":\"one\"},{\"S\":\"two\"},{\"S\":\"three\"}]}}",
                 "{\"a\":{\"L\":[{\"S\":\"one\"},{\"S\":\"hello\"},{\"S\":\"three\"}]}}");
}

Test(ddb_expr_update, appends_past_the_end_of_a_list_in_index_order)
{
    OK(U, "SET a[7] = :v", NULL, "{\":v\":{\"S\":\"hello\"}}");
    update_gives("{\"a\":{\"L\":[{\"S\":\"one\"}]}}",
                 "{\"a\":{\"L\":[{\"S\":\"one\"},{\"S\":\"hello\"}]}}");
    OK(U, "SET a[84] = :v1, a[37] = :v2, a[17] = :v3, a[50] = :v4", NULL,
       "{\":v1\":{\"S\":\"a1\"},\":v2\":{\"S\":\"a2\"},\":v3\":{\"S\":\"a3\"},"
       "\":v4\":{\"S\":\"a4\"}}");
    update_gives("{\"a\":{\"L\":[{\"S\":\"one\"}]}}",
                 "{\"a\":{\"L\":[{\"S\":\"one\"},{\"S\":\"a3\"},{\"S\":\"a2\"},{\"S\":\"a4\"},"
                 "{\"S\":\"a1\"}]}}");
}

Test(ddb_expr_update, removes_attributes_and_nested_elements)
{
    OK(U, "REMOVE a.c[1].x.y[1], a.c[1].q, b", NULL, NULL);
    update_gives("{\"a\":{\"M\":{\"b\":{\"N\":\"3\"},\"c\":{\"L\":[{\"S\":\"hi\"},{\"M\":{\"x\":"
                 "{\"M\":{\"y\":{\"L\":[{\"N\":\"3\"},{\"N\":\"5\"},{\"N\":\"7\"}]}}},\"q\":{\"N\":"
                 "\"2\"}}}]}}},\"b\":{\"N\":\"1\"}}",
                 "{\"a\":{\"M\":{\"b\":{\"N\":\"3\"},\"c\":{\"L\":[{\"S\":\"hi\"},{\"M\":{\"x\":"
                 "{\"M\":{\"y\":{\"L\":[{\"N\":\"3\"},{\"N\":\"7\"}]}}}}}]}}}}");
}

Test(ddb_expr_update, removes_list_elements_by_their_original_indexes)
{
    const char *item = "{\"a\":{\"L\":[{\"N\":\"2\"},{\"N\":\"3\"},{\"N\":\"4\"},{\"N\":\"5\"},"
                       "{\"N\":\"6\"},{\"N\":\"7\"}]}}";
    const char *want = "{\"a\":{\"L\":[{\"N\":\"2\"},{\"N\":\"4\"},{\"N\":\"17\"},{\"N\":\"6\"},"
                       "{\"N\":\"7\"}]}}";
    OK(U, "REMOVE a[1] SET a[3] = :v", NULL, "{\":v\":{\"N\":\"17\"}}");
    update_gives(item, want);
    OK(U, "SET a[3] = :v REMOVE a[1]", NULL, "{\":v\":{\"N\":\"17\"}}");
    update_gives(item, want);
    OK(U, "REMOVE a[0], a[2], a[4]", NULL, NULL);
    update_gives(item, "{\"a\":{\"L\":[{\"N\":\"3\"},{\"N\":\"5\"},{\"N\":\"7\"}]}}");
}

Test(ddb_expr_update, ignores_removal_of_what_is_not_there)
{
    const char *item = "{\"a\":{\"M\":{\"x\":{\"N\":\"3\"}}},\"b\":{\"L\":[{\"S\":\"hi\"}]}}";
    OK(U, "REMOVE a.y, b[7], c", NULL, NULL);
    update_gives(item, item);
}

Test(ddb_expr_update, leaves_empty_maps_and_lists_behind)
{
    OK(U, "REMOVE a.b, l[0]", NULL, NULL);
    update_gives("{\"a\":{\"M\":{\"b\":{\"N\":\"1\"}}},\"l\":{\"L\":[{\"N\":\"1\"}]}}",
                 "{\"a\":{\"M\":{}},\"l\":{\"L\":[]}}");
}

Test(ddb_expr_update, ignores_a_nested_remove_on_an_item_that_did_not_exist)
{
    OK(U, "REMOVE x.y, w[0]", NULL, NULL);
    cJSON *item = J("{\"pk\":{\"S\":\"k\"}}");
    cr_assert_eq(ddb_expr_update_apply_ex(ex, item, 0, &err), CORE_OK, "%s", err.message);
    same_json(item, "{\"pk\":{\"S\":\"k\"}}");
    cr_assert_eq(ddb_expr_update_apply_ex(ex, item, 1, &err), CORE_ERROR);
    cr_assert_str_eq(err.message,
                     "The document path provided in the update expression is invalid for update");
    update_gives("{}", "{}");
}

Test(ddb_expr_update, adds_to_numbers_creating_them_from_zero)
{
    OK(U, "ADD a :v, b :v", NULL, "{\":v\":{\"N\":\"4\"}}");
    update_gives("{\"a\":{\"N\":\"3\"}}", "{\"a\":{\"N\":\"7\"},\"b\":{\"N\":\"4\"}}");
}

Test(ddb_expr_update, unites_sets_without_duplicates)
{
    OK(U, "ADD a :v, b :w, c :n", NULL,
       "{\":v\":{\"SS\":[\"coati\",\"beaver\",\"badger\"]},\":w\":{\"SS\":[\"cat\"]},"
       "\":n\":{\"NS\":[\"2\",\"3.0\"]}}");
    update_gives("{\"a\":{\"SS\":[\"beaver\",\"lynx\",\"coati\"]},\"c\":{\"NS\":[\"1\",\"3\"]}}",
                 "{\"a\":{\"SS\":[\"beaver\",\"lynx\",\"coati\",\"badger\"]},"
                 "\"c\":{\"NS\":[\"1\",\"3\",\"2\"]},\"b\":{\"SS\":[\"cat\"]}}");
}

Test(ddb_expr_update, refuses_to_add_to_the_wrong_type)
{
    OK(U, "ADD b :v", NULL, "{\":v\":{\"N\":\"1\"}}");
    cr_assert_str_eq(update_fails("{\"b\":{\"S\":\"hi\"}}"),
                     "An operand in the update expression has an incorrect data type");
    OK(U, "ADD a :v", NULL, "{\":v\":{\"SS\":[\"x\"]}}");
    cr_assert_str_eq(update_fails("{\"a\":{\"L\":[]}}"),
                     "An operand in the update expression has an incorrect data type");
    OK(U, "ADD a :v", NULL, "{\":v\":{\"NS\":[\"1\"]}}");
    cr_assert_str_eq(update_fails("{\"a\":{\"SS\":[\"1\"]}}"),
                     "An operand in the update expression has an incorrect data type");
}

Test(ddb_expr_update, refuses_add_and_delete_operands_of_the_wrong_type)
{
    const struct {
        const char *expr, *value, *msg;
    } cases[] = {
        {"ADD a :a", "{\"S\":\"a\"}", "operator: ADD, operand type: STRING"},
        {"ADD a :a", "{\"NULL\":true}", "operator: ADD, operand type: NULL"},
        {"ADD a :a", "{\"BOOL\":false}", "operator: ADD, operand type: BOOLEAN"},
        {"ADD a :a", "{\"B\":\"YQ==\"}", "operator: ADD, operand type: BINARY"},
        {"ADD a :a", "{\"M\":{}}", "operator: ADD, operand type: MAP"},
        {"ADD a :a", "{\"L\":[]}", "operator: ADD, operand type: LIST"},
        {"DELETE a :a", "{\"S\":\"a\"}", "operator: DELETE, operand type: STRING"},
        {"DELETE a :a", "{\"N\":\"1\"}", "operator: DELETE, operand type: NUMBER"},
        {"DELETE a :a", "{\"L\":[]}", "operator: DELETE, operand type: LIST"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char vals[64], want[200];
        snprintf(vals, sizeof vals, "{\":a\":%s}", cases[i].value);
        snprintf(want, sizeof want,
                 "Invalid UpdateExpression: Incorrect operand type for operator or function; %s",
                 cases[i].msg);
        FAILS(U, cases[i].expr, NULL, vals, want);
    }
}

Test(ddb_expr_update, deletes_elements_from_a_set)
{
    OK(U, "DELETE a :v", NULL, "{\":v\":{\"SS\":[\"cat\",\"mouse\",\"pig\"]}}");
    update_gives("{\"a\":{\"SS\":[\"dog\",\"cat\",\"mouse\"]},\"b\":{\"S\":\"hi\"}}",
                 "{\"a\":{\"SS\":[\"dog\"]},\"b\":{\"S\":\"hi\"}}");
}

Test(ddb_expr_update, deletes_numbers_by_value_and_binaries_by_bytes)
{
    OK(U, "DELETE n :n, b :b", NULL, "{\":n\":{\"NS\":[\"1.0\"]},\":b\":{\"BS\":[\"YQ==\"]}}");
    update_gives("{\"n\":{\"NS\":[\"1\",\"2\"]},\"b\":{\"BS\":[\"YQ==\",\"Yg==\"]}}",
                 "{\"n\":{\"NS\":[\"2\"]},\"b\":{\"BS\":[\"Yg==\"]}}");
}

Test(ddb_expr_update, removes_a_set_when_its_last_element_goes)
{
    OK(U, "DELETE a :v, l[0] :v", NULL, "{\":v\":{\"SS\":[\"dog\"]}}");
    update_gives("{\"a\":{\"SS\":[\"dog\"]},\"b\":{\"S\":\"hi\"},"
                 "\"l\":{\"L\":[{\"SS\":[\"dog\"]},{\"N\":\"1\"}]}}",
                 "{\"b\":{\"S\":\"hi\"},\"l\":{\"L\":[{\"N\":\"1\"}]}}");
}

Test(ddb_expr_update, ignores_delete_from_a_missing_attribute)
{
    OK(U, "DELETE a :v", NULL, "{\":v\":{\"SS\":[\"dog\"]}}");
    update_gives("{\"b\":{\"S\":\"hi\"}}", "{\"b\":{\"S\":\"hi\"}}");
}

Test(ddb_expr_update, refuses_to_delete_from_the_wrong_type)
{
    OK(U, "DELETE d :a", NULL, "{\":a\":{\"SS\":[\"1\"]}}");
    cr_assert_str_eq(update_fails("{\"d\":{\"NS\":[\"1\"]}}"),
                     "An operand in the update expression has an incorrect data type");
    cr_assert_str_eq(update_fails("{\"d\":{\"S\":\"1\"}}"),
                     "An operand in the update expression has an incorrect data type");
}

Test(ddb_expr_update, takes_clauses_in_any_order)
{
    OK(U, "ADD #e :e,#d :d DELETE #c :c REMOVE #b SET #f = :f",
       "{\"#b\":\"b\",\"#c\":\"c\",\"#d\":\"d\",\"#e\":\"e\",\"#f\":\"f\"}",
       "{\":c\":{\"SS\":[\"a\",\"b\"]},\":d\":{\"N\":\"5\"},\":e\":{\"SS\":[\"a\",\"b\"]},"
       "\":f\":{\"L\":[{\"S\":\"a\"},{\"N\":\"1\"}]}}");
    update_gives("{\"a\":{\"S\":\"k\"},\"b\":{\"N\":\"1\"}}",
                 "{\"a\":{\"S\":\"k\"},\"d\":{\"N\":\"5\"},\"e\":{\"SS\":[\"a\",\"b\"]},"
                 "\"f\":{\"L\":[{\"S\":\"a\"},{\"N\":\"1\"}]}}");
}

Test(ddb_expr_update, reproduces_the_nested_update_dynalite_recorded)
{
    OK(U, "set b.c=((c[1])+(b.a)),b.a = a,c[1] = a, c[4] = b.a - b.b, c[2] = b.c add c[8] :b, "
          "c[6] :a",
       NULL, "{\":a\":{\"N\":\"2\"},\":b\":{\"SS\":[\"a\"]}}");
    update_gives("{\"a\":{\"S\":\"key\"},\"b\":{\"M\":{\"a\":{\"N\":\"1\"},\"b\":{\"N\":\"2\"},"
                 "\"c\":{\"N\":\"3\"}}},\"c\":{\"L\":[{\"N\":\"1\"},{\"N\":\"3\"}]}}",
                 "{\"a\":{\"S\":\"key\"},\"b\":{\"M\":{\"a\":{\"S\":\"key\"},\"b\":{\"N\":\"2\"},"
                 "\"c\":{\"N\":\"4\"}}},\"c\":{\"L\":[{\"N\":\"1\"},{\"S\":\"key\"},{\"N\":\"3\"},"
                 "{\"N\":\"-1\"},{\"N\":\"2\"},{\"SS\":[\"a\"]}]}}");
}

Test(ddb_expr_update, allows_each_clause_only_once)
{
    const struct {
        const char *expr, *section;
    } cases[] = {
        {"set a = :v set c = :v", "SET"},
        {"remove d set a = :v remove e", "REMOVE"},
        {"add d :n set a = :v add e :n", "ADD"},
        {"delete d :s set a = :v delete e :s", "DELETE"},
    };
    for (size_t i = 0; i < 4; i++) {
        char want[160];
        snprintf(want, sizeof want,
                 "Invalid UpdateExpression: The \"%s\" section can only be used once in an update "
                 "expression;",
                 cases[i].section);
        FAILS(U, cases[i].expr, NULL,
              "{\":v\":{\"S\":\"x\"},\":n\":{\"N\":\"1\"},\":s\":{\"SS\":[\"x\"]}}", want);
    }
}

Test(ddb_expr_update, refuses_overlapping_paths)
{
    const char *v = "{\":v\":{\"N\":\"2\"},\":w\":{\"S\":\"x\"}}";
    FAILS(U, "SET a = :v, a.b = :w", NULL, v,
          "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
          "rewrite one of these paths; path one: [a], path two: [a, b]");
    FAILS(U, "SET a = :v REMOVE a", NULL, v,
          "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
          "rewrite one of these paths; path one: [a], path two: [a]");
    FAILS(U, "SET #a1 = :v, #a2 = :w", "{\"#a1\":\"a\",\"#a2\":\"a\"}", v,
          "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
          "rewrite one of these paths; path one: [a], path two: [a]");
    FAILS(U, "SET a[1][1] = :v, a[1] = :w", NULL, v,
          "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
          "rewrite one of these paths; path one: [a, [1], [1]], path two: [a, [1]]");
    FAILS(U, "remove c, #c.a, #d", "{\"#c\":\"c\",\"#d\":\"[3]\"}", NULL,
          "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
          "rewrite one of these paths; path one: [c], path two: [c, a]");
}

Test(ddb_expr_update, refuses_conflicting_paths)
{
    FAILS(U, "SET a.b = :v, a[1] = :v", NULL, V1,
          "Invalid UpdateExpression: Two document paths conflict with each other; must remove or "
          "rewrite one of these paths; path one: [a, b], path two: [a, [1]]");
    FAILS(U, "remove a.#c set a[1] = #d", "{\"#c\":\"c\",\"#d\":\"d\"}", NULL,
          "Invalid UpdateExpression: Two document paths conflict with each other; must remove or "
          "rewrite one of these paths; path one: [a, c], path two: [a, [1]]");
}

Test(ddb_expr_update, accepts_distinct_nested_paths_of_one_attribute)
{
    OK(U, "SET a.b = :v, a.c.d = :w, b.x = :x REMOVE a.x, b.y", NULL,
       "{\":v\":{\"N\":\"10\"},\":w\":{\"S\":\"dog\"},\":x\":{\"N\":\"17\"}}");
    update_gives("{\"a\":{\"M\":{\"x\":{\"N\":\"3\"},\"y\":{\"N\":\"4\"},\"c\":{\"M\":{\"y\":"
                 "{\"N\":\"3\"}}}}},\"b\":{\"M\":{\"x\":{\"N\":\"1\"},\"y\":{\"N\":\"2\"}}}}",
                 "{\"a\":{\"M\":{\"y\":{\"N\":\"4\"},\"c\":{\"M\":{\"y\":{\"N\":\"3\"},\"d\":"
                 "{\"S\":\"dog\"}}},\"b\":{\"N\":\"10\"}}},\"b\":{\"M\":{\"x\":{\"N\":\"17\"}}}}");
}

Test(ddb_expr_update, refuses_update_syntax_errors)
{
    const char *bad[] = {
        "whatever", "set a", "add a", "delete a", "set a=set", "remove a = b", "add a = b",
        "delete a = b", "delete a b", "delete a if_not_exist(b)", "add abort b",
        "add a if_not_exist(b)", "remove a b", "set a b", "set :a = b", "add :a b",
        "delete :a b", "remove :a", "set a = b / c", "set a = b * c", "set a[1] = \"eight\"",
        "set a[1] = 1", "SET a = if_not_exist(a, 100)", "SET if_not_exist(a, b) = a",
        "set (a = (b + c))", "set a = (b.c).d + e", "set a = (b.c)[0] + e", "set a = b + c + d",
        "SET c = if_not_exists(c, :v1+:v2)", "SET a[:xyz] = :v", "SET a[#xyz] = :v",
        "SET a = :v,", "HELLO b = :v", "SET a = _f(b,c,d)", "SET a = add(b)",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(parse(U, bad[i], NULL, NULL), CORE_ERROR, "'%s' parsed", bad[i]);
        cr_assert(strncmp(err.message, "Invalid UpdateExpression: Syntax error; token: ", 47) == 0,
                  "'%s': %s", bad[i], err.message);
    }
}

Test(ddb_expr_update, names_the_token_of_an_unknown_clause)
{
    FAILS(U, "HELLO b = :v", NULL, V1,
          "Invalid UpdateExpression: Syntax error; token: \"HELLO\", near: \"HELLO b\"");
}

Test(ddb_expr_update, accepts_parentheses_around_values_and_operands)
{
    OK(U, "SET a = (:v), b = (:v + :v), c = (:v) - (:v), d = ((:v))", NULL,
       "{\":v\":{\"N\":\"2\"}}");
    update_gives("{}", "{\"a\":{\"N\":\"2\"},\"b\":{\"N\":\"4\"},\"c\":{\"N\":\"0\"},"
                       "\"d\":{\"N\":\"2\"}}");
}

Test(ddb_expr_update, tells_whether_it_touches_an_attribute)
{
    OK(U, "SET a.b = :v REMOVE c ADD d[1] :n DELETE #e :s", "{\"#e\":\"e\"}",
       "{\":v\":{\"S\":\"x\"},\":n\":{\"N\":\"1\"},\":s\":{\"SS\":[\"x\"]}}");
    cr_assert(ddb_expr_update_touches(ex, "a"));
    cr_assert(ddb_expr_update_touches(ex, "c"));
    cr_assert(ddb_expr_update_touches(ex, "d"));
    cr_assert(ddb_expr_update_touches(ex, "e"));
    cr_assert_not(ddb_expr_update_touches(ex, "b"));
    cr_assert_not(ddb_expr_update_touches(ex, "#e"));
    cr_assert_not(ddb_expr_update_touches(NULL, "a"));
}

Test(ddb_expr_update, projects_the_paths_it_changes)
{
    OK(U, "set b.c=((c[1])+(b.a)),b.a = a,c[1] = a, c[4] = b.a - b.b, c[2] = b.c add c[8] :b, "
          "c[6] :a",
       NULL, "{\":a\":{\"N\":\"2\"},\":b\":{\"SS\":[\"a\"]}}");
    cJSON *item = J("{\"a\":{\"S\":\"key\"},\"b\":{\"M\":{\"a\":{\"N\":\"1\"},\"b\":{\"N\":\"2\"},"
                    "\"c\":{\"N\":\"3\"}}},\"c\":{\"L\":[{\"N\":\"1\"},{\"N\":\"3\"}]}}");
    cJSON *old = ddb_expr_project(ex, item);
    garbage[n_garbage++] = old;
    same_json(old, "{\"b\":{\"M\":{\"c\":{\"N\":\"3\"},\"a\":{\"N\":\"1\"}}},"
                   "\"c\":{\"L\":[{\"N\":\"3\"}]}}");
    cr_assert_eq(ddb_expr_update_apply(ex, item, &err), CORE_OK, "%s", err.message);
    cJSON *now = ddb_expr_project(ex, item);
    garbage[n_garbage++] = now;
    same_json(now, "{\"b\":{\"M\":{\"a\":{\"S\":\"key\"},\"c\":{\"N\":\"4\"}}},"
                   "\"c\":{\"L\":[{\"S\":\"key\"},{\"N\":\"3\"},{\"N\":\"2\"}]}}");
}

Test(ddb_expr_update, refuses_to_apply_a_condition_tree)
{
    OK(C, "a = :v", NULL, V1);
    cJSON *item = J("{}");
    cr_assert_eq(ddb_expr_update_apply(ex, item, &err), CORE_ERROR);
}

/* ---- ddb_expr_projection ------------------------------------------------------ */

static const char *DOC =
    "{\"id\":{\"S\":\"1\"},\"title\":{\"S\":\"Bike\"},\"price\":{\"N\":\"5\"},"
    "\"pics\":{\"M\":{\"front\":{\"S\":\"f.jpg\"},\"side\":{\"S\":\"s.jpg\"},"
    "\"rear\":{\"S\":\"r.jpg\"}}},"
    "\"reviews\":{\"L\":[{\"M\":{\"stars\":{\"N\":\"5\"},\"who\":{\"S\":\"ann\"}}},"
    "{\"M\":{\"stars\":{\"N\":\"3\"},\"who\":{\"S\":\"bob\"}}},"
    "{\"M\":{\"stars\":{\"N\":\"1\"},\"who\":{\"S\":\"cy\"}}}]},"
    "\"tags\":{\"SS\":[\"x\",\"y\"]}}";

Test(ddb_expr_projection, keeps_the_top_level_attributes_named)
{
    OK(P, "title, price, tags", NULL, NULL);
    project_gives(DOC, "{\"title\":{\"S\":\"Bike\"},\"price\":{\"N\":\"5\"},"
                       "\"tags\":{\"SS\":[\"x\",\"y\"]}}");
}

Test(ddb_expr_projection, keeps_the_nesting_of_map_paths)
{
    OK(P, "pics.front, #p.#r", "{\"#p\":\"pics\",\"#r\":\"rear\"}", NULL);
    project_gives(DOC, "{\"pics\":{\"M\":{\"front\":{\"S\":\"f.jpg\"},\"rear\":{\"S\":\"r.jpg\"}}}}");
}

Test(ddb_expr_projection, keeps_selected_list_elements_in_index_order_without_gaps)
{
    OK(P, "reviews[2].who, reviews[0]", NULL, NULL);
    project_gives(DOC, "{\"reviews\":{\"L\":[{\"M\":{\"stars\":{\"N\":\"5\"},\"who\":{\"S\":\"ann\"}}},"
                       "{\"M\":{\"who\":{\"S\":\"cy\"}}}]}}");
}

Test(ddb_expr_projection, leaves_out_paths_absent_from_the_item)
{
    OK(P, "nope, pics.nope, reviews[7], title.x, price[0], id", NULL, NULL);
    project_gives(DOC, "{\"id\":{\"S\":\"1\"}}");
}

Test(ddb_expr_projection, gives_an_empty_item_when_nothing_matches)
{
    OK(P, "nope", NULL, NULL);
    project_gives(DOC, "{}");
    cJSON *none = ddb_expr_project(ex, NULL);
    cr_assert_not_null(none);
    cr_assert_null(none->child);
    cJSON_Delete(none);
}

Test(ddb_expr_projection, refuses_overlapping_and_duplicate_paths)
{
    FAILS(P, "a, a.b", NULL, NULL,
          "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
          "or rewrite one of these paths; path one: [a], path two: [a, b]");
    FAILS(P, "a, b, a", NULL, NULL,
          "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
          "or rewrite one of these paths; path one: [a], path two: [a]");
    FAILS(P, "#x, a", "{\"#x\":\"a\"}", NULL,
          "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
          "or rewrite one of these paths; path one: [a], path two: [a]");
}

Test(ddb_expr_projection, refuses_conflicting_paths)
{
    FAILS(P, "a.b, a[0]", NULL, NULL,
          "Invalid ProjectionExpression: Two document paths conflict with each other; must remove "
          "or rewrite one of these paths; path one: [a, b], path two: [a, [0]]");
}

Test(ddb_expr_projection, refuses_syntax_errors_and_undefined_names)
{
    FAILS(P, "a,", NULL, NULL,
          "Invalid ProjectionExpression: Syntax error; token: \"<EOF>\", near: \",\"");
    FAILS(P, "a b", NULL, NULL,
          "Invalid ProjectionExpression: Syntax error; token: \"b\", near: \"a b\"");
    FAILS(P, ":v", NULL, NULL,
          "Invalid ProjectionExpression: Syntax error; token: \":v\", near: \":v\"");
    FAILS(P, "#a", NULL, NULL,
          "Invalid ProjectionExpression: An expression attribute name used in the document path "
          "is not defined; attribute name: #a");
}

Test(ddb_expr_projection, lists_its_top_level_names_once)
{
    OK(P, "pics.front, title, pics.rear, #t", "{\"#t\":\"tags\"}", NULL);
    const char *names[8];
    size_t n = ddb_expr_top_names(ex, names, 8);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(names[0], "pics");
    cr_assert_str_eq(names[1], "title");
    cr_assert_str_eq(names[2], "tags");
    cr_assert_eq(ddb_expr_top_names(ex, names, 1), 3);
    cr_assert_str_eq(names[0], "pics");
}

/* ---- ddb_expr_key: key conditions for the storage layer --------------------- */

static const char *KV = "{\":h\":{\"S\":\"shop\"},\":a\":{\"N\":\"1\"},\":b\":{\"N\":\"9\"},"
                        "\":p\":{\"S\":\"ord\"}}";

static void key_gives(const char *text, ddb_key_op op, const char *lo, const char *hi)
{
    OK(K, text, NULL, KV);
    ddb_key_cond kc;
    cr_assert_eq(ddb_expr_key_condition(ex, "pk", "sk", &kc, &err), CORE_OK, "%s: %s", text,
                 err.message);
    same_json(kc.hash_value, "{\"S\":\"shop\"}");
    cr_assert_eq(kc.op, op, "%s", text);
    if (lo)
        same_json(kc.range_lo, lo);
    else
        cr_assert_null(kc.range_lo);
    if (hi)
        same_json(kc.range_hi, hi);
    else
        cr_assert_null(kc.range_hi);
}

Test(ddb_expr_key, takes_apart_a_hash_key_equality)
{
    key_gives("pk = :h", DDB_KEY_NONE, NULL, NULL);
    key_gives(":h = pk", DDB_KEY_NONE, NULL, NULL);
}

Test(ddb_expr_key, takes_apart_every_sort_key_operator)
{
    key_gives("pk = :h AND sk = :a", DDB_KEY_EQ, "{\"N\":\"1\"}", NULL);
    key_gives("pk = :h AND sk < :a", DDB_KEY_LT, "{\"N\":\"1\"}", NULL);
    key_gives("pk = :h AND sk <= :a", DDB_KEY_LE, "{\"N\":\"1\"}", NULL);
    key_gives("pk = :h AND sk > :a", DDB_KEY_GT, "{\"N\":\"1\"}", NULL);
    key_gives("pk = :h AND sk >= :a", DDB_KEY_GE, "{\"N\":\"1\"}", NULL);
    key_gives("pk = :h AND sk BETWEEN :a AND :b", DDB_KEY_BETWEEN, "{\"N\":\"1\"}", "{\"N\":\"9\"}");
    key_gives("begins_with(sk, :p) AND pk = :h", DDB_KEY_BEGINS_WITH, "{\"S\":\"ord\"}", NULL);
}

Test(ddb_expr_key, turns_a_value_first_comparison_around)
{
    key_gives("pk = :h AND :a < sk", DDB_KEY_GT, "{\"N\":\"1\"}", NULL);
    key_gives("pk = :h AND :a >= sk", DDB_KEY_LE, "{\"N\":\"1\"}", NULL);
}

Test(ddb_expr_key, accepts_names_and_parentheses)
{
    OK(K, "(#p = :h) AND (#s > :a)", "{\"#p\":\"pk\",\"#s\":\"sk\"}", KV);
    ddb_key_cond kc;
    cr_assert_eq(ddb_expr_key_condition(ex, "pk", "sk", &kc, &err), CORE_OK, "%s", err.message);
    cr_assert_eq(kc.op, DDB_KEY_GT);
}

static const char *key_fails(const char *text, const char *hash, const char *range)
{
    OK(K, text, NULL, KV);
    ddb_key_cond kc;
    cr_assert_eq(ddb_expr_key_condition(ex, hash, range, &kc, &err), CORE_ERROR, "%s", text);
    cr_assert_str_eq(err.type, "ValidationException");
    return err.message;
}

Test(ddb_expr_key, reports_a_missing_hash_key)
{
    cr_assert_str_eq(key_fails("sk BETWEEN :a AND :b", "pk", "sk"),
                     "Query condition missed key schema element: pk");
    cr_assert_str_eq(key_fails("z = :a", "pk", NULL), "Query condition missed key schema element: pk");
}

Test(ddb_expr_key, reports_a_condition_on_a_non_key_attribute)
{
    cr_assert_str_eq(key_fails("pk = :h AND c = :a", "pk", "sk"),
                     "Query condition missed key schema element: sk");
}

Test(ddb_expr_key, refuses_anything_but_equality_on_the_hash_key)
{
    cr_assert_str_eq(key_fails("pk > :h", "pk", NULL), "Query key condition not supported");
    cr_assert_str_eq(key_fails("begins_with(pk, :h)", "pk", "sk"), "Query key condition not supported");
    cr_assert_str_eq(key_fails("pk BETWEEN :a AND :b", "pk", "sk"), "Query key condition not supported");
}

Test(ddb_expr_key, refuses_two_conditions_on_a_hash_only_table)
{
    cr_assert_str_eq(key_fails("pk = :h AND sk = :a", "pk", NULL), "Query key condition not supported");
    cr_assert_str_eq(key_fails("y = :a and z = :a", "pk", NULL), "Query key condition not supported");
}

Test(ddb_expr_key, refuses_a_tree_that_is_not_a_key_condition)
{
    OK(C, "pk = :h", NULL, KV);
    ddb_key_cond kc;
    cr_assert_eq(ddb_expr_key_condition(ex, "pk", NULL, &kc, &err), CORE_ERROR);
}

/* ---- ddb_expr_hostile --------------------------------------------------------- */

Test(ddb_expr_hostile, refuses_ten_thousand_terms_by_size)
{
    char *text = repeat(" OR a = :v", 9999, "a = :v", "");
    int rc = parse(C, text, NULL, V1);
    free(text);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert(strstr(err.message, "Expression size has exceeded the maximum allowed size") != NULL,
              "%s", err.message);
}

Test(ddb_expr_hostile, refuses_ten_thousand_nested_parentheses_by_size)
{
    char *open = repeat("(", 10000, "", "a = :v");
    char *text = repeat(")", 10000, open, "");
    free(open);
    int rc = parse(C, text, NULL, V1);
    free(text);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert(strstr(err.message, "Expression size has exceeded") != NULL, "%s", err.message);
}

Test(ddb_expr_hostile, refuses_deep_parentheses_within_the_size_limit)
{
    char *open = repeat("(", 2000, "", "a = :v");
    char *text = repeat(")", 2000, open, "");
    free(open);
    int rc = parse(C, text, NULL, V1);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_str_eq(err.message, "Invalid ConditionExpression: The expression has redundant "
                                  "parentheses;");
    /* Unbalanced too: still a clean refusal. */
    text[strlen(text) - 1] = ' ';
    rc = parse(C, text, NULL, V1);
    free(text);
    cr_assert_eq(rc, CORE_ERROR);
}

Test(ddb_expr_hostile, refuses_deep_operand_parentheses_in_every_kind)
{
    char *open = repeat("(", 2040, "SET a = ", ":v");
    char *text = repeat(")", 2040, open, "");
    free(open);
    int rc = parse(U, text, NULL, V1);
    free(text);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_str_eq(err.message, "Invalid UpdateExpression: The expression has redundant "
                                  "parentheses;");
}

Test(ddb_expr_hostile, refuses_deep_nots_and_functions_by_operator_count)
{
    char *nots = repeat("NOT (", 600, "", "a = :v");
    char *text = repeat(")", 600, nots, "");
    free(nots);
    int rc = parse(C, text, NULL, V1);
    free(text);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert(strstr(err.message, "The expression contains too many operators; operator count: ") !=
                  NULL,
              "%s", err.message);

    char *sizes = repeat("size(", 600, "", "a");
    text = repeat(")", 600, sizes, " > :v");
    free(sizes);
    rc = parse(F, text, NULL, V1);
    free(text);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert(strstr(err.message, "too many operators") != NULL, "%s", err.message);

    char *bare = repeat("NOT ", 1000, "", "a = :v");
    rc = parse(C, bare, NULL, V1);
    free(bare);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_str_eq(err.message, "Invalid ConditionExpression: The expression contains too many "
                                  "operators; operator count: 1001");
}

Test(ddb_expr_hostile, refuses_long_chains_by_operator_count)
{
    char *text = repeat(" OR a=:v", 500, "a=:v", "");
    int rc = parse(F, text, NULL, V1);
    free(text);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_str_eq(err.message, "Invalid FilterExpression: The expression contains too many "
                                  "operators; operator count: 1001");
    char *proj = repeat(",a", 2000, "a", "");
    rc = parse(P, proj, NULL, NULL);
    free(proj);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert(strstr(err.message, "overlap") != NULL, "%s", err.message);
}

Test(ddb_expr_hostile, accepts_a_very_long_identifier)
{
    char *text = repeat("x", 4000, "", " = :v");
    int rc = parse(C, text, NULL, V1);
    free(text);
    cr_assert_eq(rc, CORE_OK, "%s", err.message);
    cr_assert_eq(holds("{}"), 0);
}

Test(ddb_expr_hostile, refuses_a_nul_byte_as_a_stray_character)
{
    request(NULL, V1);
    const char text[] = "a = \0:v";
    int rc = ddb_expr_parse_len(C, text, sizeof text - 1, ctx, &ex, &err);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_str_eq(err.message, "Invalid ConditionExpression: Syntax error; token: \"\xEF\xBF\xBD\", "
                                  "near: \"= \xEF\xBF\xBD:v\"");
}

Test(ddb_expr_hostile, quotes_invalid_utf8_as_replacement_characters)
{
    FAILS(C, "a = \xff\xfe", NULL, NULL,
          "Invalid ConditionExpression: Syntax error; token: \"\xEF\xBF\xBD\", near: "
          "\"= \xEF\xBF\xBD\xEF\xBF\xBD\"");
}

Test(ddb_expr_hostile, refuses_unterminated_tokens_cleanly)
{
    const char *bad[] = {"a = :", "#", "a[", "a.", "(", "a IN (", "a BETWEEN :v AND", "size(",
                         "a[1", "attribute_exists(a", "\"", "a = :v AND (", ")"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(parse(C, bad[i], NULL, V1), CORE_ERROR, "'%s' parsed", bad[i]);
        cr_assert(strstr(err.message, "Syntax error") != NULL, "'%s': %s", bad[i], err.message);
    }
    const char *ubad[] = {"SET", "SET a =", "SET a = (", "ADD a", "SET a = list_append(",
                          "REMOVE a,", "SET a = :v +"};
    for (size_t i = 0; i < sizeof ubad / sizeof ubad[0]; i++) {
        cr_assert_eq(parse(U, ubad[i], NULL, V1), CORE_ERROR, "'%s' parsed", ubad[i]);
        cr_assert(strstr(err.message, "Syntax error") != NULL, "'%s': %s", ubad[i], err.message);
    }
}

Test(ddb_expr_hostile, survives_every_prefix_of_a_rich_expression)
{
    const char *full = "(#a.b[1] = :v OR NOT attribute_exists(c)) AND size(d) BETWEEN :n AND :m "
                       "AND e IN (:v, :n) AND begins_with(f, :v) AND contains(g, :v)";
    const char *vals = "{\":v\":{\"S\":\"x\"},\":n\":{\"N\":\"1\"},\":m\":{\"N\":\"2\"}}";
    size_t len = strlen(full);
    for (size_t cut = 1; cut <= len; cut++) {
        request("{\"#a\":\"a\"}", vals);
        core_err_clear(&err);
        int rc = ddb_expr_parse_len(F, full, cut, ctx, &ex, &err);
        if (rc == CORE_OK) {
            int r;
            cr_assert_eq(ddb_expr_eval(ex, NULL, &r, &err), CORE_OK);
        } else {
            cr_assert_null(ex);
            cr_assert_str_eq(err.type, "ValidationException", "cut %zu: %s", cut, err.message);
        }
    }
    cr_assert_not_null(ex);
}
