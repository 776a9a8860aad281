/*
 * test_sfn_intrinsics.c — intrinsic functions (intrinsics.c) and payload
 * templates (dataflow.c): the call grammar (sfn_intrinsic_grammar), every
 * function with its argument rules (sfn_intrinsic), payload templates
 * (sfn_payload_template), and hostile calls (sfn_intrinsic_hostile).
 *
 * Expected values are the developer guide's examples ("Intrinsic functions")
 * and AWS's behaviour as recorded by public conformance suites run against the
 * service: argument errors are States.Runtime with "Invalid arguments in
 * States.X", numbers are truncated where integers are wanted, a missing path
 * is "The JSONPath '$.x' specified for the field 'f.$' could not be found in
 * the input '{}'".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "stepfunctions/lang.h"
#include "stepfunctions/lang_impl.h"

static core_err err;

static cJSON *parse(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j, "bad JSON in test: %s", text);
    return j;
}

static void assert_json(const cJSON *got, const char *want, const char *what)
{
    cr_assert_not_null(got, "%s: no output (%s: %s)", what, err.type, err.message);
    cJSON *w = parse(want);
    int eq = cJSON_Compare(got, w, 1);
    cJSON_Delete(w);
    if (!eq) {
        char *g = cJSON_PrintUnformatted(got);
        char msg[2048];
        snprintf(msg, sizeof msg, "%s: got %s, want %s", what, g, want);
        free(g);
        cr_assert_fail("%s", msg);
    }
}

typedef struct call_case {
    const char *input;
    const char *call;
    const char *want;    /* JSON result, or NULL for an error */
    const char *message; /* the exact cause when want is NULL */
} call_case;

static void run_calls(const call_case *cases, size_t n)
{
    cJSON *ctx = parse("{\"Execution\":{\"Name\":\"exec-1\",\"Input\":{\"start\":2,\"end\":6}}}");
    for (size_t i = 0; i < n; i++) {
        const call_case *c = &cases[i];
        cJSON *input = parse(c->input), *out = (cJSON *)1;
        core_err_clear(&err);
        int rc = sfn_intrinsic_eval(c->call, input, ctx, &out, &err);
        if (c->want) {
            cr_assert_eq(rc, CORE_OK, "%s: %s", c->call, err.message);
            assert_json(out, c->want, c->call);
        } else {
            cr_assert_eq(rc, CORE_ERROR, "%s: expected an error", c->call);
            cr_assert_null(out, "%s", c->call);
            cr_assert_str_eq(err.type, "States.Runtime", "%s", c->call);
            cr_assert_str_eq(err.message, c->message, "%s", c->call);
        }
        cJSON_Delete(out);
        cJSON_Delete(input);
    }
    cJSON_Delete(ctx);
}

#define INVALID(f) NULL, "Invalid arguments in States." f

Test(sfn_intrinsic_grammar, reads_literals_paths_and_nested_calls)
{
    static const call_case cases[] = {
        {"{}", "States.Array()", "[]", NULL},
        {"{}", "States.Array('a', 1, -2.5, 1e3, true, false, null)", "[\"a\",1,-2.5,1000,true,false,null]", NULL},
        {"{}", "States.Array( 'spaced' ,\t2 )", "[\"spaced\",2]", NULL},
        {"{}", "States.Array('it\\'s', 'back\\\\slash', '\\{\\}')", "[\"it's\",\"back\\\\slash\",\"{}\"]", NULL},
        {"{}", "States.Array('a,b)', '(')", "[\"a,b)\",\"(\"]", NULL},
        {"{\"a\":{\"b\":[1,2]}}", "States.Array($.a.b, $.a.b[1], $)", "[[1,2],2,{\"a\":{\"b\":[1,2]}}]", NULL},
        {"{\"x y\":1}", "States.Array($['x y'])", "[1]", NULL},
        {"{\"l\":[{\"v\":1},{\"v\":2}]}", "States.Array($.l[*].v)", "[[1,2]]", NULL},
        {"{\"l\":[{\"v\":1},{\"v\":2}]}", "States.Array($.l[?(@.v > 1)].v)", "[[2]]", NULL},
        {"{}", "States.Array($$.Execution.Name, $$.Execution.Input.start)", "[\"exec-1\",2]", NULL},
        {"{}", "States.Array(States.Array(States.Array()))", "[[[]]]", NULL},
        {"{\"s\":\"a.b\"}", "States.ArrayLength(States.StringSplit($.s, '.'))", "2", NULL},
        {"{}", "States.Array($.missing)", NULL,
         "The JSONPath '$.missing' could not be found in the input '{}'"},
    };
    run_calls(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_intrinsic_grammar, refuses_malformed_calls)
{
    static const char *bad[] = {
        "", "States", "States.Array", "States.Array(", "States.Array(1", "States.Array(1,)",
        "States.Array(,1)", "States.Array(1 2)", "States.Array())", "States.Array() x",
        "States.format('x')", "States.Nope()", "Foo.Array()", "States.Array('unterminated)",
        "States.Array(bogus)", "States.Array(1.2.3)", "States.Array(-)", "States.Array(1x)", "States.Array(1.)",
        "States.Array(.5)", "States.Array(01)", "States.Array(1e)", "States.Array([1,2])",
        "States.Array($.a b)", "States.Array($.)", "States.Array(#)", "(States.Array())",
        "States.Array(True)", "States.Array(NULL)", "States.Array('a\\nb')", "States.Array('x\\y')",
        "States.Array('trailing\\')",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *input = parse("{}"), *out = (cJSON *)1;
        const char *reason = NULL;
        cr_assert_eq(sfn_intrinsic_is_valid(bad[i], &reason), 0, "valid? %s", bad[i]);
        cr_assert_not_null(reason, "%s", bad[i]);
        cr_assert_eq(sfn_intrinsic_eval(bad[i], input, NULL, &out, &err), CORE_ERROR, "%s", bad[i]);
        cr_assert_null(out);
        cr_assert_str_eq(err.type, "States.Runtime");
        cr_assert(strncmp(err.message, "Invalid intrinsic function call", 31) == 0, "%s", err.message);
        cJSON_Delete(input);
    }
    cr_assert_eq(sfn_intrinsic_is_valid("States.Format('{}', $.a)", NULL), 1);
    cr_assert_eq(sfn_intrinsic_is_valid("States.ArrayRange(1, 2)", NULL), 1,
                 "argument counts are checked when the call runs");
}

Test(sfn_intrinsic_grammar, recognises_calls_by_their_shape)
{
    static const struct { const char *text; int is; } cases[] = {
        {"States.Format('x')", 1}, {"States.UUID()", 1}, {"States.Nope()", 1},
        {"$.a", 0}, {"$$.Execution", 0}, {"States.Format", 0}, {"states.Format('x')", 0},
        {"", 0}, {"States.Array(", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(sfn_is_intrinsic(cases[i].text), cases[i].is, "%s", cases[i].text);
    cr_assert_eq(sfn_is_intrinsic(NULL), 0);
}

Test(sfn_intrinsic, format)
{
    static const call_case cases[] = {
        {"{\"name\":\"Ada\"}", "States.Format('Hello {}', $.name)", "\"Hello Ada\"", NULL},
        {"{\"a\":\"x\",\"b\":2,\"c\":true}", "States.Format('{} {} {}', $.a, $.b, $.c)", "\"x 2 true\"", NULL},
        {"{\"n\":null,\"f\":3.5,\"big\":9007199254740991,\"neg\":-1}",
         "States.Format('{}|{}|{}|{}', $.n, $.f, $.big, $.neg)", "\"null|3.5|9007199254740991|-1\"", NULL},
        {"{}", "States.Format('no placeholders')", "\"no placeholders\"", NULL},
        {"{}", "States.Format('  {}  ', 'x')", "\"  x  \"", NULL},
        {"{\"t\":\"Hello {}\",\"n\":\"Ada\"}", "States.Format($.t, $.n)", "\"Hello Ada\"", NULL},
        {"{}", "States.Format('Name: \\'{}\\'', 'G')", "\"Name: 'G'\"", NULL},
        {"{}", "States.Format('literal \\{\\} and {}', 1)", "\"literal {} and 1\"", NULL},
        {"{\"o\":{\"k\":1}}", "States.Format('arn:{}', States.JsonToString($.o))", "\"arn:{\\\"k\\\":1}\"", NULL},
        {"{}", "States.Format('{} {}', 'x')", INVALID("Format")},
        {"{}", "States.Format('{}', 'x', 'y')", INVALID("Format")},
        {"{}", "States.Format('Hello {', 'x')", INVALID("Format")},
        {"{}", "States.Format('}')", INVALID("Format")},
        {"{}", "States.Format('Hello {{}}', 'x')", INVALID("Format")},
        {"{\"t\":123}", "States.Format($.t, 'x')", INVALID("Format")},
        {"{\"o\":{}}", "States.Format('{}', $.o)", INVALID("Format")},
        {"{}", "States.Format()", INVALID("Format")},
    };
    run_calls(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_intrinsic, json_conversions)
{
    static const call_case cases[] = {
        {"{\"s\":\"{\\\"a\\\":[1,true]}\"}", "States.StringToJson($.s)", "{\"a\":[1,true]}", NULL},
        {"{}", "States.StringToJson('\"x\"')", "\"x\"", NULL},
        {"{}", "States.StringToJson('12')", "12", NULL},
        {"{}", "States.StringToJson('{bad')", INVALID("StringToJson")},
        {"{}", "States.StringToJson('')", "null", NULL},
        {"{}", "States.StringToJson(' {\"a\":1} ')", "{\"a\":1}", NULL},
        {"{}", "States.StringToJson('undefined')", INVALID("StringToJson")},
        {"{}", "States.StringToJson('{\"a\":1')", INVALID("StringToJson")},
        {"{}", "States.StringToJson(12)", INVALID("StringToJson")},
        {"{\"o\":{\"k\":\"v\",\"n\":[1]}}", "States.JsonToString($.o)", "\"{\\\"k\\\":\\\"v\\\",\\\"n\\\":[1]}\"", NULL},
        {"{\"s\":\"x\"}", "States.JsonToString($.s)", "\"\\\"x\\\"\"", NULL},
        {"{}", "States.JsonToString()", INVALID("JsonToString")},
        {"{\"a\":{\"x\":1,\"y\":{\"z\":1}},\"b\":{\"y\":{\"w\":2},\"q\":3}}",
         "States.JsonMerge($.a, $.b, false)", "{\"x\":1,\"y\":{\"w\":2},\"q\":3}", NULL},
        {"{\"a\":{},\"b\":{}}", "States.JsonMerge($.a, $.b, true)", INVALID("JsonMerge")},
        {"{\"a\":{},\"b\":[]}", "States.JsonMerge($.a, $.b, false)", INVALID("JsonMerge")},
        {"{\"a\":{\"x\":1},\"b\":{}}", "States.JsonMerge($.a, $.b, 'false')", "{\"x\":1}", NULL},
        {"{\"a\":null,\"b\":{}}", "States.JsonMerge($.a, $.b, false)", INVALID("JsonMerge")},
        {"{\"a\":{},\"b\":{}}", "States.JsonMerge($.a, $.b)", INVALID("JsonMerge")},
    };
    run_calls(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_intrinsic, arrays)
{
    static const call_case cases[] = {
        {"{\"Id\":123456}", "States.Array($.Id)", "[123456]", NULL},
        {"{\"a\":[1,2,3,4,5,6,7,8,9]}", "States.ArrayPartition($.a, 4)", "[[1,2,3,4],[5,6,7,8],[9]]", NULL},
        {"{\"a\":[]}", "States.ArrayPartition($.a, 2)", "[]", NULL},
        {"{\"a\":[1,2,3]}", "States.ArrayPartition($.a, 2.9)", "[[1,2],[3]]", NULL},
        {"{\"a\":[1,2,3]}", "States.ArrayPartition($.a, 0.49)", INVALID("ArrayPartition")},
        {"{\"a\":[1,2,3]}", "States.ArrayPartition($.a, 0.6)", INVALID("ArrayPartition")},
        {"{\"a\":[1,2,3]}", "States.ArrayPartition($.a, null)", INVALID("ArrayPartition")},
        {"{\"a\":[1,2,3]}", "States.ArrayPartition($.a, -1)", INVALID("ArrayPartition")},
        {"{}", "States.ArrayPartition('x', 1)", INVALID("ArrayPartition")},
        {"{\"a\":[1,{\"b\":[2]},\"c\"]}", "States.ArrayContains($.a, 'c')", "true", NULL},
        {"{\"a\":[1,{\"b\":[2]},\"c\"]}", "States.ArrayContains($.a, States.StringToJson('{\"b\":[2]}'))", "true", NULL},
        {"{\"a\":[1,2]}", "States.ArrayContains($.a, 5)", "false", NULL},
        {"{\"a\":[1,null,3]}", "States.ArrayContains($.a, null)", "true", NULL},
        {"{\"a\":[{\"a\":1,\"b\":2}],\"t\":{\"b\":2,\"a\":1}}", "States.ArrayContains($.a, $.t)", "false", NULL},
        {"{\"a\":[{\"a\":1}],\"t\":{\"a\":1,\"extra\":null}}", "States.ArrayContains($.a, $.t)", "false", NULL},
        {"{\"a\":[[1,2],[3,4]],\"t\":[1,2]}", "States.ArrayContains($.a, $.t)", "true", NULL},
        {"{\"a\":[0,1,-1,-1.5]}", "States.ArrayContains($.a, false)", "false", NULL},
        {"{\"a\":[\"true\",\"maybe\"]}", "States.ArrayContains($.a, true)", "true", NULL},
        {"{\"a\":[\"9007199254740991\"],\"t\":9007199254740991}", "States.ArrayContains($.a, $.t)", "true", NULL},
        {"{}", "States.ArrayContains('x', 'x')", INVALID("ArrayContains")},
        {"{}", "States.ArrayRange(1, 9, 2)", "[1,3,5,7,9]", NULL},
        {"{}", "States.ArrayRange(-2, 2, 2)", "[-2,0,2]", NULL},
        {"{}", "States.ArrayRange(1.4, 5.6, 2.2)", "[1,3,5]", NULL},
        {"{}", "States.ArrayRange(3, 3, -1)", "[3]", NULL},
        {"{}", "States.ArrayRange(5, 1, -2)", "[5,3,1]", NULL},
        {"{}", "States.ArrayRange(5, 1, 1)", "[]", NULL},
        {"{}", "States.ArrayRange(1, 5, -1)", "[]", NULL},
        {"{}", "States.ArrayRange($$.Execution.Input.start, $$.Execution.Input.end, 2)", "[2,4,6]", NULL},
        {"{\"b\":0}", "States.ArrayRange(States.MathAdd($.b, 1), States.MathAdd($.b, 5), 2)", "[1,3,5]", NULL},
        {"{}", "States.ArrayRange(1, 10, 0)", INVALID("ArrayRange")},
        {"{}", "States.ArrayRange(1, 10, 0.49)", INVALID("ArrayRange")},
        {"{}", "States.ArrayRange('a', 5, 1)", INVALID("ArrayRange")},
        {"{}", "States.ArrayRange(1, 1001, 1)", INVALID("ArrayRange")},
        {"{}", "States.ArrayRange(1001, 1, -1)", INVALID("ArrayRange")},
        {"{}", "States.ArrayRange(-2147483648, 2147483647, 1)", INVALID("ArrayRange")},
        {"{}", "States.ArrayRange(1, 1e300, 1)", INVALID("ArrayRange")},
        {"{}", "States.ArrayRange(1, 5)", INVALID("ArrayRange")},
        {"{}", "States.ArrayRange(1, 5, 1, 9)", INVALID("ArrayRange")},
        {"{\"a\":[\"a\",\"b\",\"c\"]}", "States.ArrayGetItem($.a, 1)", "\"b\"", NULL},
        {"{\"a\":[10,20,30]}", "States.ArrayGetItem($.a, 1.2)", "20", NULL},
        {"{\"a\":[null]}", "States.ArrayGetItem($.a, 0)", "null", NULL},
        {"{}", "States.ArrayGetItem(States.Array('x', 'y', 'z'), 1)", "\"y\"", NULL},
        {"{\"a\":[10,20,30]}", "States.ArrayGetItem($.a, 3)", INVALID("ArrayGetItem")},
        {"{\"a\":[10,20,30]}", "States.ArrayGetItem($.a, -1)", INVALID("ArrayGetItem")},
        {"{\"a\":[10,20,30]}", "States.ArrayGetItem($.a, '1')", INVALID("ArrayGetItem")},
        {"{}", "States.ArrayGetItem('not-array', 0)", INVALID("ArrayGetItem")},
        {"{\"a\":[1,2,3,4,5,6,7,8,9]}", "States.ArrayLength($.a)", "9", NULL},
        {"{\"a\":[]}", "States.ArrayLength($.a)", "0", NULL},
        {"{\"a\":{}}", "States.ArrayLength($.a)", INVALID("ArrayLength")},
        {"{\"a\":[1,2,3,3,3,3,3,3,4]}", "States.ArrayUnique($.a)", "[1,2,3,4]", NULL},
        {"{\"a\":[null,null,true,1,1,1.1,\"s\",\"s\",[],[],{\"a\":1},{\"a\":1},{\"a\":2}]}",
         "States.ArrayUnique($.a)", "[null,true,1,1.1,\"s\",[],{\"a\":1},{\"a\":2}]", NULL},
        {"{}", "States.ArrayUnique('x')", INVALID("ArrayUnique")},
    };
    run_calls(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_intrinsic, encoding_and_hashing)
{
    static const call_case cases[] = {
        {"{\"s\":\"Data to encode\"}", "States.Base64Encode($.s)", "\"RGF0YSB0byBlbmNvZGU=\"", NULL},
        {"{}", "States.Base64Encode('')", "\"\"", NULL},
        {"{}", "States.Base64Encode('\xe2\x9c\x93')", "\"4pyT\"", NULL},
        {"{}", "States.Base64Encode(1)", INVALID("Base64Encode")},
        {"{\"s\":\"RGF0YSB0byBlbmNvZGU=\"}", "States.Base64Decode($.s)", "\"Data to encode\"", NULL},
        {"{}", "States.Base64Decode('aGVsbG8=')", "\"hello\"", NULL},
        {"{}", "States.Base64Decode('')", "\"\"", NULL},
        {"{}", "States.Base64Decode('44GT44KT44Gr44Gh44Gv')", "\"\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf\"", NULL},
        {"{}", "States.Base64Decode(' YWJjZA== ')", "\"abcd\"", NULL},
        {"{}", "States.Base64Decode('abc')", "\"i\xef\xbf\xbd\"", NULL},
        {"{}", "States.Base64Decode('/w==')", "\"\xef\xbf\xbd\"", NULL},
        {"{}", "States.Base64Decode(States.Base64Encode('round trip'))", "\"round trip\"", NULL},
        {"{}", "States.Base64Decode(123)", INVALID("Base64Decode")},
        {"{}", "States.Base64Decode()", INVALID("Base64Decode")},
        {"{}", "States.Hash('hello', 'MD5')", "\"5d41402abc4b2a76b9719d911017c592\"", NULL},
        {"{}", "States.Hash('hello', 'SHA-1')", "\"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d\"", NULL},
        {"{}", "States.Hash('hello', 'SHA-256')",
         "\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\"", NULL},
        {"{}", "States.Hash('hello', 'SHA-384')",
         "\"59e1748777448c69de6b800d7a33bbfb9ff1b463e44354c3553bcdb9c666fa90125a3c79f90397bdf5f6a13de828684f\"", NULL},
        {"{}", "States.Hash('hello', 'SHA-512')",
         "\"9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043\"", NULL},
        {"{\"s\":\"Data to encode\",\"a\":\"MD5\"}", "States.Hash($.s, $.a)", "\"ca405671828a177e26947171bbe1e352\"", NULL},
        {"{}", "States.Hash('', 'SHA-256')", "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"", NULL},
        {"{}", "States.Hash('\xe2\x9c\x93', 'SHA-256')",
         "\"1dabba21cdad44541f6b15796f8d22978fc7ea10c46aeceeeeb66c23b3ac7604\"", NULL},
        {"{}", "States.Hash(States.Format('{}:{}', 'x', 'y'), 'SHA-256')",
         "\"1274e286686b54fe765ec40735665b4bf789cee2a5b22124c5e0491a88e15271\"", NULL},
        {"{}", "States.Hash(123, 'MD5')", "\"202cb962ac59075b964b07152d234b70\"", NULL},
        {"{}", "States.Hash('data', 'sha-256')", INVALID("Hash")},
        {"{}", "States.Hash('data', 'SHA256')", INVALID("Hash")},
        {"{}", "States.Hash('data', 'MD-5')", INVALID("Hash")},
        {"{}", "States.Hash('data', '')", INVALID("Hash")},
        {"{}", "States.Hash('hello', 123)", INVALID("Hash")},
        {"{}", "States.Hash('hello')", INVALID("Hash")},
        {"{}", "States.Hash('hello', 'MD5', 'x')", INVALID("Hash")},
        {"{}", "States.Hash($.missing, 'MD5')", NULL,
         "The JSONPath '$.missing' could not be found in the input '{}'"},
    };
    run_calls(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_intrinsic, text_limits_are_ten_thousand_characters)
{
    static const char *calls[] = {"States.Hash($.s, 'SHA-256')", "States.Base64Encode($.s)",
                                  "States.Base64Decode($.s)"};
    char *s = malloc(10002);
    memset(s, 'A', 10001);
    for (size_t i = 0; i < 3; i++) {
        for (size_t len = 10000; len <= 10001; len++) {
            memset(s, 'A', len);
            s[len] = '\0';
            cJSON *input = cJSON_CreateObject(), *out = NULL;
            cJSON_AddStringToObject(input, "s", s);
            int rc = sfn_intrinsic_eval(calls[i], input, NULL, &out, &err);
            cr_assert_eq(rc, len == 10000 ? CORE_OK : CORE_ERROR, "%s with %zu", calls[i], len);
            if (rc)
                cr_assert(strncmp(err.message, "Invalid arguments in States.", 28) == 0);
            cJSON_Delete(out);
            cJSON_Delete(input);
        }
    }
    /* characters, not bytes: 10,000 three-byte characters are allowed */
    char *wide = malloc(30001);
    for (size_t i = 0; i < 10000; i++)
        memcpy(wide + 3 * i, "\xe2\x9c\x93", 3);
    wide[30000] = '\0';
    cJSON *input = cJSON_CreateObject(), *out = NULL;
    cJSON_AddStringToObject(input, "s", wide);
    cr_assert_eq(sfn_intrinsic_eval("States.Base64Encode($.s)", input, NULL, &out, &err), CORE_OK);
    cJSON_Delete(out);
    cJSON_Delete(input);
    free(wide);
    free(s);
}

Test(sfn_intrinsic, math_strings_and_uuid)
{
    static const call_case cases[] = {
        {"{}", "States.MathAdd(111, -1)", "110", NULL},
        {"{\"a\":5,\"b\":7}", "States.MathAdd($.a, $.b)", "12", NULL},
        {"{\"a\":1.6,\"b\":2.7}", "States.MathAdd($.a, $.b)", "5", NULL},
        {"{}", "States.MathAdd(0.1, 0.2)", "0", NULL},
        {"{}", "States.MathAdd(2147483646, 1)", "2147483647", NULL},
        {"{}", "States.MathAdd(-2147483647, -1)", "-2147483648", NULL},
        {"{}", "States.MathAdd(2147483647, 1)", INVALID("MathAdd")},
        {"{}", "States.MathAdd(-2147483648, -1)", INVALID("MathAdd")},
        {"{}", "States.MathAdd(3000000000, 1)", INVALID("MathAdd")},
        {"{}", "States.MathAdd('2', 1)", INVALID("MathAdd")},
        {"{}", "States.MathAdd(true, 1)", INVALID("MathAdd")},
        {"{}", "States.MathAdd(1, 2, 3)", INVALID("MathAdd")},
        {"{\"a\":\"NOT A NUMBER\"}", "States.MathAdd(1, $.a)", INVALID("MathAdd")},
        {"{}", "States.MathAdd(1)", INVALID("MathAdd")},
        {"{}", "States.MathRandom(1, 1)", INVALID("MathRandom")},
        {"{}", "States.MathRandom(10, 5)", INVALID("MathRandom")},
        {"{}", "States.MathRandom(1.4, 1.6)", INVALID("MathRandom")},
        {"{}", "States.MathRandom('a', 10)", INVALID("MathRandom")},
        {"{}", "States.MathRandom(1, 10, 'seed')", INVALID("MathRandom")},
        {"{}", "States.MathRandom(1, 10, null)", INVALID("MathRandom")},
        {"{}", "States.MathRandom(1)", INVALID("MathRandom")},
        {"{}", "States.MathRandom(1, 10, 5, 99)", INVALID("MathRandom")},
        {"{\"s\":\"1,2,3,4,5\"}", "States.StringSplit($.s, ',')", "[\"1\",\"2\",\"3\",\"4\",\"5\"]", NULL},
        {"{\"s\":\"This.is+a,test=string\"}", "States.StringSplit($.s, '.+,=')",
         "[\"This\",\"is\",\"a\",\"test\",\"string\"]", NULL},
        {"{}", "States.StringSplit(',a,,b,', ',')", "[\"a\",\"b\"]", NULL},
        {"{}", "States.StringSplit('', ',')", "[]", NULL},
        {"{}", "States.StringSplit('abc', '')", "[\"abc\"]", NULL},
        {"{}", "States.StringSplit('a\xe2\x9c\x93" "b\xe2\x9c\x94" "c', '\xe2\x9c\x93')",
         "[\"a\",\"b\xe2\x9c\x94" "c\"]", NULL},
        {"{}", "States.StringSplit(1, ',')", INVALID("StringSplit")},
        {"{}", "States.UUID(1)", INVALID("UUID")},
    };
    run_calls(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_intrinsic, math_random_is_in_range_and_repeatable_with_a_seed)
{
    cJSON *input = parse("{}");
    for (int i = 0; i < 200; i++) {
        cJSON *out = NULL;
        cr_assert_eq(sfn_intrinsic_eval("States.MathRandom(1, 5)", input, NULL, &out, &err), CORE_OK);
        cr_assert(cJSON_IsNumber(out) && out->valuedouble >= 1 && out->valuedouble < 5
                  && out->valuedouble == (double)(int)out->valuedouble);
        cJSON_Delete(out);
    }
    cJSON *a = NULL, *b = NULL, *c = NULL;
    cr_assert_eq(sfn_intrinsic_eval("States.MathRandom(1, 1000, 42)", input, NULL, &a, &err), CORE_OK);
    cr_assert_eq(sfn_intrinsic_eval("States.MathRandom(1, 1000, 42)", input, NULL, &b, &err), CORE_OK);
    cr_assert_eq(sfn_intrinsic_eval("States.MathRandom(-1000000, 1000000, -10)", input, NULL, &c, &err), CORE_OK);
    cr_assert_eq(a->valuedouble, b->valuedouble, "same seed, same value");
    cr_assert(a->valuedouble >= 1 && a->valuedouble < 1000);
    cr_assert(c->valuedouble >= -1000000 && c->valuedouble < 1000000);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
    cJSON_Delete(input);
}

Test(sfn_intrinsic, uuid_is_a_random_version_4_uuid)
{
    cJSON *input = parse("{}"), *a = NULL, *b = NULL;
    cr_assert_eq(sfn_intrinsic_eval("States.UUID()", input, NULL, &a, &err), CORE_OK);
    cr_assert_eq(sfn_intrinsic_eval("States.UUID()", input, NULL, &b, &err), CORE_OK);
    const char *u = a->valuestring;
    cr_assert_eq(strlen(u), 36);
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            cr_assert_eq(u[i], '-');
        else
            cr_assert(strchr("0123456789abcdef", u[i]) != NULL, "lower-case hex: %s", u);
    }
    cr_assert_eq(u[14], '4', "version 4: %s", u);
    cr_assert(strchr("89ab", u[19]) != NULL, "RFC 4122 variant: %s", u);
    cr_assert_str_neq(a->valuestring, b->valuestring);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(input);
}

/* ---- payload templates --------------------------------------------------------------------- */

typedef struct template_case {
    const char *tmpl, *input, *want, *message;
} template_case;

Test(sfn_payload_template, builds_payloads_as_the_developer_guide_shows)
{
    static const template_case cases[] = {
        {"{\"flagged\":true,\"parts\":{\"first.$\":\"$.vals[0]\",\"last3.$\":\"$.vals[3:]\"}}",
         "{\"flagged\":7,\"vals\":[0,10,20,30,40,50]}",
         "{\"flagged\":true,\"parts\":{\"first\":0,\"last3\":[30,40,50]}}", NULL},
        {"{\"FunctionName\":\"arn:fn\",\"Payload.$\":\"$\"}", "{\"a\":1}",
         "{\"FunctionName\":\"arn:fn\",\"Payload\":{\"a\":1}}", NULL},
        {"{\"result.$\":\"$.Payload\"}", "{\"Payload\":{\"ok\":true},\"StatusCode\":200}",
         "{\"result\":{\"ok\":true}}", NULL},
        {"{\"id.$\":\"$$.Execution.Id\",\"item.$\":\"$$.Map.Item.Value\"}", "{}",
         "{\"id\":\"arn:exec\",\"item\":{\"k\":1}}", NULL},
        {"{\"greeting.$\":\"States.Format('Hi {}', $.name)\"}", "{\"name\":\"Bo\"}",
         "{\"greeting\":\"Hi Bo\"}", NULL},
        {"{\"list\":[{\"x.$\":\"$.a\"},\"plain\",[{\"y.$\":\"$.b\"}]]}", "{\"a\":1,\"b\":2}",
         "{\"list\":[{\"x\":1},\"plain\",[{\"y\":2}]]}", NULL},
        {"{\"literal\":\"$.not.a.path\",\"n\":1,\"z\":null,\".$\":\"kept\"}", "{}",
         "{\"literal\":\"$.not.a.path\",\"n\":1,\"z\":null,\".$\":\"kept\"}", NULL},
        {"{\"v.$\":\"$.items[*].id\"}", "{\"items\":[{\"id\":1},{\"id\":2}]}", "{\"v\":[1,2]}", NULL},
        {"{\"v.$\":\"$.items[?(@.id > 5)]\"}", "{\"items\":[{\"id\":1}]}", "{\"v\":[]}", NULL},
        {"[1,{\"a.$\":\"$.x\"}]", "{\"x\":\"y\"}", "[1,{\"a\":\"y\"}]", NULL},
        {"\"scalar\"", "{}", "\"scalar\"", NULL},
        {"{\"missing.$\":\"$.nope.deep\"}", "{\"other\":1}", NULL,
         "The JSONPath '$.nope.deep' specified for the field 'missing.$' could not be found in the "
         "input '{\"other\":1}'"},
        {"{\"JobName.$\":\"$.JobName\"}", "{}", NULL,
         "The JSONPath '$.JobName' specified for the field 'JobName.$' could not be found in the input '{}'"},
        {"{\"a\":{\"b\":[{\"c.$\":\"$.q\"}]}}", "{}", NULL,
         "The JSONPath '$.q' specified for the field 'c.$' could not be found in the input '{}'"},
        {"{\"h.$\":\"States.Hash($.missing, 'SHA-256')\"}", "{}", NULL,
         "The JSONPath '$.missing' specified for the field 'h.$' could not be found in the input '{}'"},
        {"{\"id.$\":\"$$.Execution.Nope\"}", "{}", NULL,
         "The JSONPath '$$.Execution.Nope' specified for the field 'id.$' could not be found in the input '{}'"},
        {"{\"s.$\":\"States.ArrayLength($.a)\"}", "{\"a\":1}", NULL, "Invalid arguments in States.ArrayLength"},
        {"{\"bad.$\":\"not a path\"}", "{}", NULL,
         "The value for the field 'bad.$' must be a valid JSONPath or a valid intrinsic function call"},
        {"{\"bad.$\":7}", "{}", NULL,
         "The value for the field 'bad.$' must be a valid JSONPath or a valid intrinsic function call"},
    };
    cJSON *ctx = parse("{\"Execution\":{\"Id\":\"arn:exec\"},\"Map\":{\"Item\":{\"Index\":0,\"Value\":{\"k\":1}}}}");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const template_case *c = &cases[i];
        cJSON *tmpl = parse(c->tmpl), *input = parse(c->input), *out = (cJSON *)1;
        char *before = cJSON_PrintUnformatted(tmpl);
        core_err_clear(&err);
        int rc = sfn_payload_template(tmpl, input, ctx, &out, &err);
        if (c->want) {
            cr_assert_eq(rc, CORE_OK, "case %zu: %s", i, err.message);
            assert_json(out, c->want, c->tmpl);
        } else {
            cr_assert_eq(rc, CORE_ERROR, "case %zu: expected an error", i);
            cr_assert_null(out);
            cr_assert_str_eq(err.type, "States.Runtime", "case %zu", i);
            cr_assert_str_eq(err.message, c->message, "case %zu", i);
        }
        char *after = cJSON_PrintUnformatted(tmpl);
        cr_assert_str_eq(before, after, "the template is borrowed, never changed");
        /* The sharing form (Task parameters) builds the same payload or the same
         * error, and freeing what it built leaves the input whole. */
        char *in_before = cJSON_PrintUnformatted(input);
        char *want = out ? cJSON_PrintUnformatted(out) : NULL;
        cJSON *shared = (cJSON *)1;
        core_err_clear(&err);
        int src = sfn_payload_template_shared(tmpl, input, ctx, &shared, &err);
        cr_assert_eq(src, rc, "case %zu: shared form", i);
        if (want)
            assert_json(shared, want, c->tmpl);
        else
            cr_assert_str_eq(err.message, c->message, "case %zu: shared form", i);
        cJSON_Delete(shared);
        /* The check form (a mocked task's unread parameters) fails exactly when,
         * and with exactly what, the building forms fail. */
        core_err_clear(&err);
        cr_assert_eq(sfn_payload_template_check(tmpl, input, ctx, &err), rc,
                     "case %zu: check form", i);
        if (!want)
            cr_assert_str_eq(err.message, c->message, "case %zu: check form", i);
        /* The compiled form (a cached definition's) agrees with all three. */
        sfn_template *ct = sfn_template_compile(tmpl);
        cr_assert_not_null(ct);
        for (int share = 0; share < 2; share++) {
            cJSON *built = (cJSON *)1;
            core_err_clear(&err);
            cr_assert_eq(sfn_template_eval(ct, input, ctx, share, &built, &err), rc,
                         "case %zu: compiled (share %d)", i, share);
            if (want)
                assert_json(built, want, c->tmpl);
            else
                cr_assert_str_eq(err.message, c->message, "case %zu: compiled", i);
            cJSON_Delete(built);
        }
        core_err_clear(&err);
        cr_assert_eq(sfn_template_check(ct, input, ctx, &err), rc, "case %zu: compiled check", i);
        if (!want)
            cr_assert_str_eq(err.message, c->message, "case %zu: compiled check", i);
        sfn_template_free(ct);
        char *in_after = cJSON_PrintUnformatted(input);
        cr_assert_str_eq(in_before, in_after, "case %zu: the shared input is intact", i);
        free(in_before);
        free(in_after);
        free(want);
        free(before);
        free(after);
        cJSON_Delete(out);
        cJSON_Delete(tmpl);
        cJSON_Delete(input);
    }
    cJSON_Delete(ctx);
}

Test(sfn_payload_template, the_check_form_refuses_what_the_building_form_refuses_deep_or_null)
{
    char deep[8192];
    size_t n = 0;
    for (int i = 0; i < 1100; i++)
        n += (size_t)snprintf(deep + n, sizeof deep - n, "[");
    for (int i = 0; i < 1100; i++)
        n += (size_t)snprintf(deep + n, sizeof deep - n, "]");
    cJSON *tmpl = cJSON_ParseWithOpts(deep, NULL, 0), *input = parse("{}"), *out = NULL;
    if (tmpl) { /* cJSON's own nesting limit may refuse it first */
        core_err e1, e2;
        int rc = sfn_payload_template(tmpl, input, NULL, &out, &e1);
        cr_assert_eq(sfn_payload_template_check(tmpl, input, NULL, &e2), rc);
        if (rc != CORE_OK)
            cr_assert_str_eq(e1.message, e2.message);
        cJSON_Delete(out);
        cJSON_Delete(tmpl);
    }
    cr_assert_eq(sfn_payload_template_check(NULL, input, NULL, &err), CORE_ERROR);
    cJSON_Delete(input);
}

Test(sfn_payload_template, repeated_keys_resolve_alike_compiled_or_not)
{
    static const char *cases[][3] = {
        {"{\"a\":1,\"b\":2,\"a.$\":\"$.x\"}", "{\"x\":9}", "{\"b\":2,\"a\":9}"},
        {"{\"a.$\":\"$.x\",\"a\":1}", "{\"x\":9}", "{\"a\":1}"},
        {"{\"a\":1,\"a\":2,\"a\":3}", "{}", "{\"a\":3}"},
        {"{\"a.$\":\"$.missing\",\"a\":1}", "{}", NULL},
        {"{\"o\":{\"k\":1,\"k.$\":\"$$.Execution.Id\"}}", "{}", "{\"o\":{\"k\":\"arn:x\"}}"},
    };
    cJSON *ctx = parse("{\"Execution\":{\"Id\":\"arn:x\"}}");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *tmpl = parse(cases[i][0]), *input = parse(cases[i][1]), *a = NULL, *b = NULL;
        core_err e1, e2;
        int ra = sfn_payload_template(tmpl, input, ctx, &a, &e1);
        sfn_template *ct = sfn_template_compile(tmpl);
        int rb = sfn_template_eval(ct, input, ctx, 0, &b, &e2);
        cr_assert_eq(ra, rb, "case %zu", i);
        if (cases[i][2]) {
            char *ta = cJSON_PrintUnformatted(a), *tb = cJSON_PrintUnformatted(b);
            cr_assert_str_eq(ta, cases[i][2], "case %zu (key order too)", i);
            cr_assert_str_eq(tb, cases[i][2], "case %zu compiled (key order too)", i);
            free(ta);
            free(tb);
        } else {
            cr_assert_str_eq(e1.message, e2.message, "case %zu", i);
        }
        sfn_template_free(ct);
        cJSON_Delete(a);
        cJSON_Delete(b);
        cJSON_Delete(tmpl);
        cJSON_Delete(input);
    }
    cJSON_Delete(ctx);
    cr_assert_null(sfn_template_compile(NULL));
}

Test(sfn_payload_template, a_later_dynamic_key_replaces_a_static_one)
{
    cJSON *tmpl = parse("{\"a\":1,\"a.$\":\"$.x\"}"), *input = parse("{\"x\":2}"), *out = NULL;
    cr_assert_eq(sfn_payload_template(tmpl, input, NULL, &out, &err), CORE_OK);
    assert_json(out, "{\"a\":2}", "one key a");
    cJSON_Delete(out);
    cJSON_Delete(tmpl);
    cJSON_Delete(input);
}

/* ---- hostile ---------------------------------------------------------------------------------- */

Test(sfn_intrinsic_hostile, bounds_nesting_arguments_and_length)
{
    char call[4096];
    size_t n = 0;
    for (int i = 0; i < 11; i++)
        n += (size_t)snprintf(call + n, sizeof call - n, "States.Array(");
    for (int i = 0; i < 11; i++)
        call[n++] = ')';
    call[n] = '\0';
    cr_assert_eq(sfn_intrinsic_is_valid(call, NULL), 0, "11 nested calls are refused");
    /* ten are fine: drop the outer one */
    call[n - 1] = '\0';
    cr_assert_eq(sfn_intrinsic_is_valid(call + strlen("States.Array("), NULL), 1, "10 nested calls");

    /* deep nesting far past the bound does not recurse past it */
    size_t big = 200000;
    char *deep = malloc(big * 14 + 1);
    size_t k = 0;
    for (size_t i = 0; i < big && k + 14 < big * 14; i++)
        k += (size_t)snprintf(deep + k, 14, "States.Array(");
    deep[k] = '\0';
    cr_assert_eq(sfn_intrinsic_is_valid(deep, NULL), 0);
    free(deep);

    char *args = malloc(SFN_INTRINSIC_MAX_LEN + 64);
    k = (size_t)snprintf(args, 32, "States.Array(");
    for (int i = 0; i < SFN_INTRINSIC_MAX_ARGS + 1; i++)
        k += (size_t)snprintf(args + k, 8, "%s1", i ? "," : "");
    memcpy(args + k, ")", 2);
    cr_assert_eq(sfn_intrinsic_is_valid(args, NULL), 0, "too many arguments");
    free(args);

    char *longest = malloc(SFN_INTRINSIC_MAX_LEN + 64);
    k = (size_t)snprintf(longest, 32, "States.Array('");
    memset(longest + k, 'x', SFN_INTRINSIC_MAX_LEN);
    memcpy(longest + k + SFN_INTRINSIC_MAX_LEN, "')", 3);
    cr_assert_eq(sfn_intrinsic_is_valid(longest, NULL), 0, "too long");
    free(longest);
}

Test(sfn_intrinsic_hostile, huge_ranges_and_partitions_stay_bounded)
{
    cJSON *input = parse("{\"a\":[1,2,3]}"), *out = NULL;
    cr_assert_eq(sfn_intrinsic_eval("States.ArrayRange(0, 2147483647, 1)", input, NULL, &out, &err), CORE_ERROR);
    cr_assert_eq(sfn_intrinsic_eval("States.ArrayRange(-1e308, 1e308, 1e308)", input, NULL, &out, &err), CORE_ERROR);
    cr_assert_eq(sfn_intrinsic_eval("States.ArrayRange(0, 999, 1)", input, NULL, &out, &err), CORE_OK);
    cr_assert_eq(cJSON_GetArraySize(out), 1000);
    cJSON_Delete(out);
    cr_assert_eq(sfn_intrinsic_eval("States.ArrayPartition($.a, 1e300)", input, NULL, &out, &err), CORE_OK);
    assert_json(out, "[[1,2,3]]", "one chunk");
    cJSON_Delete(out);
    cr_assert_eq(sfn_intrinsic_eval("States.MathRandom(-1e300, 1e300)", input, NULL, &out, &err), CORE_ERROR);
    cr_assert_eq(sfn_intrinsic_eval("States.ArrayGetItem($.a, 1e300)", input, NULL, &out, &err), CORE_ERROR);
    cJSON_Delete(input);
}
