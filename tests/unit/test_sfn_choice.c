/*
 * test_sfn_choice.c — Choice rules (choice.c): every comparison operator and
 * its Path form, the type tests, And/Or/Not (sfn_choice), RFC 3339 timestamps
 * (sfn_timestamp), rule shapes for validation (sfn_choice_check), and hostile
 * rules (sfn_choice_hostile).
 *
 * AWS's semantics as its execution histories show them: operands of the wrong
 * type compare false; a Variable or ...Path that selects nothing is
 * States.Runtime "Invalid path '$.x': The choice state's condition path
 * references an invalid value." (not under IsPresent); timestamps compare as
 * instants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "stepfunctions/lang.h"
#include "stepfunctions/lang_impl.h"

static core_err err;

static const char *INPUT =
    "{\"s\":\"apple\",\"s2\":\"banana\",\"n\":42,\"f\":1.5,\"n2\":42.0,\"t\":true,\"fl\":false,"
    "\"z\":null,\"ts\":\"2025-01-01T12:00:00Z\",\"ts2\":\"2025-01-01T12:00:00.000Z\","
    "\"ts3\":\"2025-01-02T00:00:00+02:00\",\"o\":{\"k\":\"v\"},\"a\":[1,2],"
    "\"glob\":\"log-2025.txt\",\"star\":\"a*b\",\"back\":\"a\\\\b\",\"empty\":\"\"}";

typedef struct rule_case {
    const char *rule;
    int want; /* 1 match, 0 no match, -1 error */
} rule_case;

static void run_rules(const rule_case *cases, size_t n)
{
    cJSON *input = cJSON_Parse(INPUT);
    cJSON *ctx = cJSON_Parse("{\"Execution\":{\"Name\":\"e1\"}}");
    cr_assert_not_null(input);
    for (size_t i = 0; i < n; i++) {
        cJSON *rule = cJSON_Parse(cases[i].rule);
        cr_assert_not_null(rule, "bad rule JSON: %s", cases[i].rule);
        int m = -7;
        core_err_clear(&err);
        int rc = sfn_choice_match(rule, input, ctx, &m, &err);
        if (cases[i].want < 0) {
            cr_assert_eq(rc, CORE_ERROR, "%s: expected an error", cases[i].rule);
            cr_assert_str_eq(err.type, "States.Runtime", "%s", cases[i].rule);
        } else {
            cr_assert_eq(rc, CORE_OK, "%s: %s", cases[i].rule, err.message);
            cr_assert_eq(m, cases[i].want, "%s", cases[i].rule);
        }
        cJSON_Delete(rule);
    }
    cJSON_Delete(input);
    cJSON_Delete(ctx);
}

Test(sfn_choice, string_operators)
{
    static const rule_case cases[] = {
        {"{\"Variable\":\"$.s\",\"StringEquals\":\"apple\"}", 1},
        {"{\"Variable\":\"$.s\",\"StringEquals\":\"Apple\"}", 0},
        {"{\"Variable\":\"$.n\",\"StringEquals\":\"42\"}", 0},
        {"{\"Variable\":\"$.s\",\"StringLessThan\":\"banana\"}", 1},
        {"{\"Variable\":\"$.s\",\"StringLessThan\":\"apple\"}", 0},
        {"{\"Variable\":\"$.s\",\"StringGreaterThan\":\"aardvark\"}", 1},
        {"{\"Variable\":\"$.s\",\"StringGreaterThan\":\"apple\"}", 0},
        {"{\"Variable\":\"$.s\",\"StringLessThanEquals\":\"apple\"}", 1},
        {"{\"Variable\":\"$.s\",\"StringLessThanEquals\":\"apple0\"}", 1},
        {"{\"Variable\":\"$.s\",\"StringLessThanEquals\":\"appl\"}", 0},
        {"{\"Variable\":\"$.s\",\"StringGreaterThanEquals\":\"apple\"}", 1},
        {"{\"Variable\":\"$.s\",\"StringGreaterThanEquals\":\"b\"}", 0},
        {"{\"Variable\":\"$.empty\",\"StringEquals\":\"\"}", 1},
        {"{\"Variable\":\"$.s\",\"StringEqualsPath\":\"$.s\"}", 1},
        {"{\"Variable\":\"$.s\",\"StringEqualsPath\":\"$.s2\"}", 0},
        {"{\"Variable\":\"$.s\",\"StringLessThanPath\":\"$.s2\"}", 1},
        {"{\"Variable\":\"$.s2\",\"StringGreaterThanPath\":\"$.s\"}", 1},
        {"{\"Variable\":\"$.s\",\"StringLessThanEqualsPath\":\"$.s\"}", 1},
        {"{\"Variable\":\"$.s\",\"StringGreaterThanEqualsPath\":\"$.s2\"}", 0},
        {"{\"Variable\":\"$.s\",\"StringEqualsPath\":\"$.n\"}", 0},
        {"{\"Variable\":\"$$.Execution.Name\",\"StringEquals\":\"e1\"}", 1},
        {"{\"Variable\":\"$.s\",\"StringEqualsPath\":\"$$.Execution.Name\"}", 0},
        {"{\"Variable\":\"$.glob\",\"StringMatches\":\"log-*.txt\"}", 1},
        {"{\"Variable\":\"$.glob\",\"StringMatches\":\"*\"}", 1},
        {"{\"Variable\":\"$.empty\",\"StringMatches\":\"*\"}", 1},
        {"{\"Variable\":\"$.glob\",\"StringMatches\":\"log-*.csv\"}", 0},
        {"{\"Variable\":\"$.glob\",\"StringMatches\":\"*2025*\"}", 1},
        {"{\"Variable\":\"$.glob\",\"StringMatches\":\"l*g*t*x*t\"}", 1},
        {"{\"Variable\":\"$.glob\",\"StringMatches\":\"log\"}", 0},
        {"{\"Variable\":\"$.star\",\"StringMatches\":\"a\\\\*b\"}", 1},
        {"{\"Variable\":\"$.glob\",\"StringMatches\":\"log\\\\*\"}", 0},
        {"{\"Variable\":\"$.back\",\"StringMatches\":\"a\\\\\\\\b\"}", 1},
        {"{\"Variable\":\"$.n\",\"StringMatches\":\"*\"}", 0},
    };
    run_rules(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_choice, numeric_and_boolean_operators)
{
    static const rule_case cases[] = {
        {"{\"Variable\":\"$.n\",\"NumericEquals\":42}", 1},
        {"{\"Variable\":\"$.n\",\"NumericEquals\":42.0}", 1},
        {"{\"Variable\":\"$.n\",\"NumericEquals\":41}", 0},
        {"{\"Variable\":\"$.s\",\"NumericEquals\":42}", 0},
        {"{\"Variable\":\"$.f\",\"NumericLessThan\":2}", 1},
        {"{\"Variable\":\"$.f\",\"NumericLessThan\":1.5}", 0},
        {"{\"Variable\":\"$.f\",\"NumericGreaterThan\":-1}", 1},
        {"{\"Variable\":\"$.f\",\"NumericGreaterThan\":1.5}", 0},
        {"{\"Variable\":\"$.f\",\"NumericLessThanEquals\":1.5}", 1},
        {"{\"Variable\":\"$.f\",\"NumericLessThanEquals\":1.49}", 0},
        {"{\"Variable\":\"$.f\",\"NumericGreaterThanEquals\":1.5}", 1},
        {"{\"Variable\":\"$.f\",\"NumericGreaterThanEquals\":1.51}", 0},
        {"{\"Variable\":\"$.n\",\"NumericEqualsPath\":\"$.n2\"}", 1},
        {"{\"Variable\":\"$.f\",\"NumericLessThanPath\":\"$.n\"}", 1},
        {"{\"Variable\":\"$.n\",\"NumericGreaterThanPath\":\"$.f\"}", 1},
        {"{\"Variable\":\"$.n\",\"NumericLessThanEqualsPath\":\"$.n2\"}", 1},
        {"{\"Variable\":\"$.f\",\"NumericGreaterThanEqualsPath\":\"$.n\"}", 0},
        {"{\"Variable\":\"$.n\",\"NumericEqualsPath\":\"$.s\"}", 0},
        {"{\"Variable\":\"$.a[1]\",\"NumericEquals\":2}", 1},
        {"{\"Variable\":\"$.t\",\"BooleanEquals\":true}", 1},
        {"{\"Variable\":\"$.t\",\"BooleanEquals\":false}", 0},
        {"{\"Variable\":\"$.fl\",\"BooleanEquals\":false}", 1},
        {"{\"Variable\":\"$.s\",\"BooleanEquals\":true}", 0},
        {"{\"Variable\":\"$.z\",\"BooleanEquals\":false}", 0},
        {"{\"Variable\":\"$.t\",\"BooleanEqualsPath\":\"$.t\"}", 1},
        {"{\"Variable\":\"$.t\",\"BooleanEqualsPath\":\"$.fl\"}", 0},
    };
    run_rules(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_choice, timestamp_operators)
{
    static const rule_case cases[] = {
        {"{\"Variable\":\"$.ts\",\"TimestampEquals\":\"2025-01-01T12:00:00Z\"}", 1},
        {"{\"Variable\":\"$.ts\",\"TimestampEquals\":\"2025-01-01T12:00:00.000Z\"}", 1},
        {"{\"Variable\":\"$.ts\",\"TimestampEquals\":\"2025-01-01T14:00:00+02:00\"}", 1},
        {"{\"Variable\":\"$.ts\",\"TimestampEquals\":\"2025-01-01T12:00:00.001Z\"}", 0},
        {"{\"Variable\":\"$.s\",\"TimestampEquals\":\"2025-01-01T12:00:00Z\"}", 0},
        {"{\"Variable\":\"$.n\",\"TimestampEquals\":\"2025-01-01T12:00:00Z\"}", 0},
        {"{\"Variable\":\"$.ts\",\"TimestampLessThan\":\"2025-01-01T12:00:01Z\"}", 1},
        {"{\"Variable\":\"$.ts\",\"TimestampLessThan\":\"2025-01-01T12:00:00Z\"}", 0},
        {"{\"Variable\":\"$.ts\",\"TimestampGreaterThan\":\"2024-12-31T23:59:59.999Z\"}", 1},
        {"{\"Variable\":\"$.ts\",\"TimestampGreaterThan\":\"2025-01-01T13:00:00+01:00\"}", 0},
        {"{\"Variable\":\"$.ts\",\"TimestampLessThanEquals\":\"2025-01-01T12:00:00Z\"}", 1},
        {"{\"Variable\":\"$.ts\",\"TimestampGreaterThanEquals\":\"2025-01-01T12:00:00Z\"}", 1},
        {"{\"Variable\":\"$.ts\",\"TimestampGreaterThanEquals\":\"2026-01-01T00:00:00Z\"}", 0},
        {"{\"Variable\":\"$.ts\",\"TimestampEqualsPath\":\"$.ts2\"}", 1},
        {"{\"Variable\":\"$.ts\",\"TimestampLessThanPath\":\"$.ts3\"}", 1},
        {"{\"Variable\":\"$.ts3\",\"TimestampGreaterThanPath\":\"$.ts\"}", 1},
        {"{\"Variable\":\"$.ts\",\"TimestampLessThanEqualsPath\":\"$.ts2\"}", 1},
        {"{\"Variable\":\"$.ts\",\"TimestampGreaterThanEqualsPath\":\"$.ts3\"}", 0},
        {"{\"Variable\":\"$.ts\",\"TimestampEqualsPath\":\"$.s\"}", 0},
    };
    run_rules(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_choice, type_tests_and_is_present)
{
    static const rule_case cases[] = {
        {"{\"Variable\":\"$.z\",\"IsNull\":true}", 1},
        {"{\"Variable\":\"$.s\",\"IsNull\":true}", 0},
        {"{\"Variable\":\"$.s\",\"IsNull\":false}", 1},
        {"{\"Variable\":\"$.s\",\"IsPresent\":true}", 1},
        {"{\"Variable\":\"$.z\",\"IsPresent\":true}", 1},
        {"{\"Variable\":\"$.nope\",\"IsPresent\":true}", 0},
        {"{\"Variable\":\"$.nope\",\"IsPresent\":false}", 1},
        {"{\"Variable\":\"$.nope.deeper[3]\",\"IsPresent\":false}", 1},
        {"{\"Variable\":\"$$.Execution.Name\",\"IsPresent\":true}", 1},
        {"{\"Variable\":\"$.n\",\"IsNumeric\":true}", 1},
        {"{\"Variable\":\"$.f\",\"IsNumeric\":true}", 1},
        {"{\"Variable\":\"$.s\",\"IsNumeric\":true}", 0},
        {"{\"Variable\":\"$.s\",\"IsNumeric\":false}", 1},
        {"{\"Variable\":\"$.s\",\"IsString\":true}", 1},
        {"{\"Variable\":\"$.n\",\"IsString\":true}", 0},
        {"{\"Variable\":\"$.t\",\"IsBoolean\":true}", 1},
        {"{\"Variable\":\"$.z\",\"IsBoolean\":true}", 0},
        {"{\"Variable\":\"$.ts\",\"IsTimestamp\":true}", 1},
        {"{\"Variable\":\"$.ts3\",\"IsTimestamp\":true}", 1},
        {"{\"Variable\":\"$.s\",\"IsTimestamp\":true}", 0},
        {"{\"Variable\":\"$.n\",\"IsTimestamp\":true}", 0},
        {"{\"Variable\":\"$.s\",\"IsTimestamp\":false}", 1},
        {"{\"Variable\":\"$.o\",\"IsString\":false}", 1},
    };
    run_rules(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_choice, and_or_not_short_circuit)
{
    static const rule_case cases[] = {
        {"{\"And\":[{\"Variable\":\"$.n\",\"NumericEquals\":42},{\"Variable\":\"$.s\",\"StringEquals\":\"apple\"}]}", 1},
        {"{\"And\":[{\"Variable\":\"$.n\",\"NumericEquals\":42},{\"Variable\":\"$.s\",\"StringEquals\":\"x\"}]}", 0},
        {"{\"Or\":[{\"Variable\":\"$.n\",\"NumericEquals\":1},{\"Variable\":\"$.s\",\"StringEquals\":\"apple\"}]}", 1},
        {"{\"Or\":[{\"Variable\":\"$.n\",\"NumericEquals\":1},{\"Variable\":\"$.s\",\"StringEquals\":\"x\"}]}", 0},
        {"{\"Not\":{\"Variable\":\"$.s\",\"StringEquals\":\"x\"}}", 1},
        {"{\"Not\":{\"Not\":{\"Variable\":\"$.s\",\"StringEquals\":\"x\"}}}", 0},
        {"{\"Not\":{\"Variable\":\"$.nope\",\"IsPresent\":true}}", 1},
        {"{\"And\":[{\"Variable\":\"$.nope\",\"IsPresent\":true},{\"Variable\":\"$.nope\",\"StringEquals\":\"x\"}]}", 0},
        {"{\"Or\":[{\"Variable\":\"$.s\",\"IsPresent\":true},{\"Variable\":\"$.nope\",\"StringEquals\":\"x\"}]}", 1},
        {"{\"And\":[{\"Variable\":\"$.s\",\"IsPresent\":true},{\"Variable\":\"$.nope\",\"StringEquals\":\"x\"}]}", -1},
        {"{\"Or\":[{\"And\":[{\"Not\":{\"Variable\":\"$.t\",\"BooleanEquals\":false}},{\"Variable\":\"$.f\",\"NumericLessThan\":2}]}]}", 1},
        {"{\"And\":[]}", -1},
        {"{\"Or\":{}}", -1},
    };
    run_rules(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_choice, missing_paths_fail_with_aws_message)
{
    static const struct { const char *rule, *message; } cases[] = {
        {"{\"Variable\":\"$.approved\",\"BooleanEquals\":true}",
         "Invalid path '$.approved': The choice state's condition path references an invalid value."},
        {"{\"Variable\":\"$.missing\",\"IsTimestamp\":true}",
         "Invalid path '$.missing': The choice state's condition path references an invalid value."},
        {"{\"Variable\":\"$.missing\",\"IsNull\":true}",
         "Invalid path '$.missing': The choice state's condition path references an invalid value."},
        {"{\"Variable\":\"$.n\",\"NumericLessThanPath\":\"$.right\"}",
         "Invalid path '$.right': The choice state's condition path references an invalid value."},
        {"{\"Not\":{\"Variable\":\"$.x.y\",\"StringEquals\":\"a\"}}",
         "Invalid path '$.x.y': The choice state's condition path references an invalid value."},
    };
    cJSON *input = cJSON_Parse("{\"n\":1}");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *rule = cJSON_Parse(cases[i].rule);
        int m = 5;
        cr_assert_eq(sfn_choice_match(rule, input, NULL, &m, &err), CORE_ERROR, "%s", cases[i].rule);
        cr_assert_eq(m, 0);
        cr_assert_str_eq(err.type, "States.Runtime");
        cr_assert_str_eq(err.message, cases[i].message);
        cr_assert_eq(err.status, 400);
        cJSON_Delete(rule);
    }
    cJSON_Delete(input);
}

Test(sfn_choice, malformed_rules_fail_at_runtime_too)
{
    static const rule_case cases[] = {
        {"{\"Variable\":\"$.s\"}", -1},
        {"{\"Variable\":\"$.s\",\"StringEquals\":\"a\",\"StringLessThan\":\"b\"}", -1},
        {"{\"StringEquals\":\"a\"}", -1},
        {"{\"Variable\":7,\"StringEquals\":\"a\"}", -1},
        {"{\"Variable\":\"not a path\",\"StringEquals\":\"a\"}", -1},
        {"{\"Variable\":\"$.s\",\"IsPresent\":\"yes\"}", -1},
        {"{\"Variable\":\"$.s\",\"StringEqualsPath\":7}", -1},
        {"[]", -1},
    };
    run_rules(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_timestamp, parses_rfc3339_as_aws_restricts_it)
{
    static const struct { const char *text; int ok; long long seconds; long nanos; } cases[] = {
        {"1970-01-01T00:00:00Z", 1, 0, 0},
        {"2016-03-14T01:59:00Z", 1, 1457920740, 0},
        {"2016-03-14T01:59:00.5Z", 1, 1457920740, 500000000},
        {"2016-03-14T01:59:00.123456789Z", 1, 1457920740, 123456789},
        {"2016-03-14T01:59:00.1234567891Z", 1, 1457920740, 123456789},
        {"2016-03-14T03:59:00+02:00", 1, 1457920740, 0},
        {"2016-03-13T23:59:00-02:00", 1, 1457920740, 0},
        {"2024-02-29T00:00:00Z", 1, 1709164800, 0},
        {"1969-12-31T23:59:59Z", 1, -1, 0},
        {"2023-02-29T00:00:00Z", 0, 0, 0},
        {"2016-03-14t01:59:00Z", 0, 0, 0},
        {"2016-03-14T01:59:00z", 0, 0, 0},
        {"2016-03-14 01:59:00Z", 0, 0, 0},
        {"2016-03-14T01:59Z", 0, 0, 0},
        {"2016-03-14T01:59:00", 0, 0, 0},
        {"2016-03-14T01:59:00.Z", 0, 0, 0},
        {"2016-03-14T01:59:00+0200", 0, 0, 0},
        {"2016-13-14T01:59:00Z", 0, 0, 0},
        {"2016-03-32T01:59:00Z", 0, 0, 0},
        {"2016-03-14T24:00:00Z", 0, 0, 0},
        {"2016-03-14T01:60:00Z", 0, 0, 0},
        {"2016-03-14T01:59:60Z", 0, 0, 0},
        {"2016-03-14T01:59:00Zjunk", 0, 0, 0},
        {"2016-03-14", 0, 0, 0},
        {"2025-01-01T00%3A00%3A00Z", 0, 0, 0},
        {"", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long long s = 99;
        long ns = 99;
        int ok = sfn_timestamp_parse(cases[i].text, &s, &ns);
        cr_assert_eq(ok, cases[i].ok, "%s", cases[i].text);
        if (ok) {
            cr_assert_eq(s, cases[i].seconds, "%s: %lld", cases[i].text, s);
            cr_assert_eq(ns, cases[i].nanos, "%s", cases[i].text);
        }
    }
    long long s;
    long ns;
    cr_assert_eq(sfn_timestamp_parse(NULL, &s, &ns), 0);
}

Test(sfn_choice_check, accepts_good_rules_and_names_what_is_wrong)
{
    static const struct { const char *rule; int top; const char *why; } cases[] = {
        {"{\"Variable\":\"$.a\",\"StringEquals\":\"x\",\"Next\":\"S\"}", 1, NULL},
        {"{\"Variable\":\"$.a\",\"NumericLessThanPath\":\"$.b\",\"Next\":\"S\"}", 1, NULL},
        {"{\"Variable\":\"$.a\",\"TimestampEquals\":\"2016-03-14T01:59:00Z\",\"Next\":\"S\"}", 1, NULL},
        {"{\"Variable\":\"$.a\",\"IsPresent\":true,\"Next\":\"S\",\"Comment\":\"c\"}", 1, NULL},
        {"{\"And\":[{\"Variable\":\"$.a\",\"IsNull\":false},{\"Not\":{\"Variable\":\"$.b\",\"BooleanEquals\":true}}],\"Next\":\"S\"}", 1, NULL},
        {"{\"Variable\":\"$.a\",\"StringEquals\":\"x\"}", 1, "These fields are required: [Next]"},
        {"{\"Variable\":\"$.a\",\"StringEquals\":\"x\",\"Next\":\"S\"}", 0,
         "Field 'Next' is not allowed in a nested Choice rule"},
        {"{\"Variable\":\"$.a\",\"Next\":\"S\"}", 1, "a Choice rule needs a comparison operator or And, Or, Not"},
        {"{\"StringEquals\":\"x\",\"Next\":\"S\"}", 1, "These fields are required: [Variable]"},
        {"{\"Variable\":\"$.a\",\"StringEquals\":\"x\",\"NumericEquals\":1,\"Next\":\"S\"}", 1,
         "a Choice rule must have exactly one comparison operator, found 'StringEquals' and 'NumericEquals'"},
        {"{\"Variable\":\"$.a\",\"StringEquals\":1,\"Next\":\"S\"}", 1,
         "The value for the field 'StringEquals' must be a string"},
        {"{\"Variable\":\"$.a\",\"NumericEquals\":\"1\",\"Next\":\"S\"}", 1,
         "The value for the field 'NumericEquals' must be a number"},
        {"{\"Variable\":\"$.a\",\"BooleanEquals\":\"true\",\"Next\":\"S\"}", 1,
         "The value for the field 'BooleanEquals' must be a boolean"},
        {"{\"Variable\":\"$.a\",\"IsNull\":1,\"Next\":\"S\"}", 1, "The value for the field 'IsNull' must be a boolean"},
        {"{\"Variable\":\"$.a\",\"TimestampEquals\":\"yesterday\",\"Next\":\"S\"}", 1,
         "The value for the field 'TimestampEquals' must be a valid timestamp"},
        {"{\"Variable\":\"$.a\",\"StringEqualsPath\":\"$.b[*]\",\"Next\":\"S\"}", 1,
         "The value for the field 'StringEqualsPath' must be a valid JSONPath"},
        {"{\"Variable\":\"nope\",\"StringEquals\":\"x\",\"Next\":\"S\"}", 1,
         "The value for the field 'Variable' must be a valid JSONPath"},
        {"{\"Variable\":\"$.a\",\"StringEquals\":\"x\",\"Bogus\":1,\"Next\":\"S\"}", 1,
         "Field 'Bogus' is not supported"},
        {"{\"And\":[],\"Next\":\"S\"}", 1, "The value of And must be a non-empty array of Choice rules"},
        {"{\"Or\":{},\"Next\":\"S\"}", 1, "The value of Or must be a non-empty array of Choice rules"},
        {"{\"And\":[{\"Variable\":\"$.a\",\"IsNull\":true}],\"Or\":[],\"Next\":\"S\"}", 1,
         "A Choice rule may have only one of And, Or and Not"},
        {"{\"Not\":{\"Variable\":\"$.a\",\"IsNull\":true},\"Variable\":\"$.a\",\"Next\":\"S\"}", 1,
         "A Choice rule with And, Or or Not may not have a Variable or operator"},
        {"{\"Not\":{\"Variable\":\"$.a\",\"IsNull\":true,\"Next\":\"S\"},\"Next\":\"S\"}", 1,
         "Field 'Next' is not allowed in a nested Choice rule"},
        {"7", 1, "A Choice rule must be an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *rule = cJSON_Parse(cases[i].rule);
        char why[256];
        int rc = sfn_choice_rule_check(rule, cases[i].top, why, sizeof why);
        if (!cases[i].why) {
            cr_assert_eq(rc, 0, "%s: %s", cases[i].rule, why);
        } else {
            cr_assert_eq(rc, -1, "%s: expected a refusal", cases[i].rule);
            cr_assert_str_eq(why, cases[i].why, "%s", cases[i].rule);
        }
        cJSON_Delete(rule);
    }
}

Test(sfn_choice_hostile, deep_nesting_and_pathological_globs_are_bounded)
{
    /* Not{Not{...}} 5000 deep, built directly (cJSON_Parse stops at 1000). */
    cJSON *rule = cJSON_CreateObject(), *cur = rule;
    for (int i = 0; i < 5000; i++) {
        cJSON *next = cJSON_CreateObject();
        cJSON_AddItemToObject(cur, "Not", next);
        cur = next;
    }
    cJSON_AddStringToObject(cur, "Variable", "$.s");
    cJSON_AddStringToObject(cur, "StringEquals", "x");
    cJSON *input = cJSON_Parse("{\"s\":\"x\"}");
    int m = 3;
    cr_assert_eq(sfn_choice_match(rule, input, NULL, &m, &err), CORE_ERROR);
    cr_assert(strstr(err.message, "deeper") != NULL, "%s", err.message);
    char why[256];
    cJSON_AddStringToObject(rule, "Next", "S");
    cr_assert_eq(sfn_choice_rule_check(rule, 1, why, sizeof why), -1);
    cJSON_Delete(rule);

    /* "a*a*a*...b" against "aaaa...": quadratic at worst, not exponential. */
    char pat[200], text[20001];
    size_t k = 0;
    for (int i = 0; i < 60; i++) {
        pat[k++] = 'a';
        pat[k++] = '*';
    }
    pat[k++] = 'b';
    pat[k] = '\0';
    memset(text, 'a', 20000);
    text[20000] = '\0';
    cJSON *big = cJSON_CreateObject();
    cJSON_AddStringToObject(big, "s", text);
    cJSON *glob = cJSON_CreateObject();
    cJSON_AddStringToObject(glob, "Variable", "$.s");
    cJSON_AddStringToObject(glob, "StringMatches", pat);
    cr_assert_eq(sfn_choice_match(glob, big, NULL, &m, &err), CORE_OK);
    cr_assert_eq(m, 0);
    cJSON_Delete(glob);
    cJSON_Delete(big);
    cJSON_Delete(input);
}
