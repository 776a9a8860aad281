/*
 * test_sfn_jsonpath.c — the paths of Amazon States Language (jsonpath.c):
 * evaluation of reference paths and Jayway JSONPath forms (sfn_path), the
 * reference/valid predicates, InputPath/OutputPath (sfn_filter_path),
 * ResultPath (sfn_result_path), and hostile input (sfn_path_hostile).
 *
 * Expected results follow the Step Functions developer guide's examples
 * ("Input and output processing", "Paths", "ResultPath") and AWS's messages as
 * quoted in public issues: "Invalid path '$.x' : No results for path: $['x']",
 * "Unable to apply ReferencePath $.a to input \"...\"", "Multi properties can
 * only be used as path leafs". Tables loop with a message naming the case.
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

/* Assert that got equals the JSON text want (NULL want: got is NULL). */
static void assert_json(const cJSON *got, const char *want, const char *what)
{
    if (!want) {
        cr_assert_null(got, "%s: expected no output", what);
        return;
    }
    cr_assert_not_null(got, "%s: no output (%s: %s)", what, err.type, err.message);
    cJSON *w = parse(want);
    char *g = cJSON_PrintUnformatted(got);
    int eq = cJSON_Compare(got, w, 1);
    cJSON_Delete(w);
    if (!eq) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%s: got %s, want %s", what, g, want);
        free(g);
        cr_assert_fail("%s", msg);
    }
    free(g);
}

static const char *STORE =
    "{\"store\":{\"book\":["
    "{\"category\":\"reference\",\"author\":\"Nigel Rees\",\"title\":\"Sayings\",\"price\":8.95},"
    "{\"category\":\"fiction\",\"author\":\"Evelyn Waugh\",\"title\":\"Sword\",\"price\":12.99},"
    "{\"category\":\"fiction\",\"author\":\"Herman Melville\",\"title\":\"Moby Dick\",\"isbn\":\"0-553\",\"price\":8.99}],"
    "\"bicycle\":{\"color\":\"red\",\"price\":19.95}},"
    "\"a b\":1,\"it's\":2,\"a-b\":3,\"vals\":[0,10,20,30,40,50],\"n\":null,\"t\":true}";

typedef struct path_case {
    const char *path;
    const char *want; /* JSON, or NULL for an error */
    const char *message; /* expected error message (exact), when want is NULL */
} path_case;

Test(sfn_path, evaluates_every_form_of_the_grammar)
{
    static const path_case cases[] = {
        {"$", NULL, NULL}, /* checked below: the whole document */
        {"$.vals", "[0,10,20,30,40,50]", NULL},
        {"$.store.bicycle.color", "\"red\"", NULL},
        {"$['store']['bicycle']['price']", "19.95", NULL},
        {"$[\"store\"].bicycle", "{\"color\":\"red\",\"price\":19.95}", NULL},
        {"$['a b']", "1", NULL},
        {"$['it\\'s']", "2", NULL},
        {"$.a-b", "3", NULL},
        {"$.n", "null", NULL},
        {"$.t", "true", NULL},
        {"$.vals[0]", "0", NULL},
        {"$.vals[5]", "50", NULL},
        {"$.vals[-1]", "50", NULL},
        {"$.store.book[1].author", "\"Evelyn Waugh\"", NULL},
        {"$.vals[ 2 ]", "20", NULL},
        {"$.vals[ 1 : 3 ]", "[10,20]", NULL},
        {"$[ 'a b' , 'a-b' ]", "{\"a b\":1,\"a-b\":3}", NULL},
        {"$.vals[?( @ > 45 ) ]", "[50]", NULL},
        {"$.vals[*]", "[0,10,20,30,40,50]", NULL},
        {"$.store.book[*].author", "[\"Nigel Rees\",\"Evelyn Waugh\",\"Herman Melville\"]", NULL},
        {"$.store.book.*.price", "[8.95,12.99,8.99]", NULL},
        {"$.store.bicycle.*", "[\"red\",19.95]", NULL},
        {"$.store.book[*].isbn", "[\"0-553\"]", NULL},
        {"$.store.book[*].nothing", "[]", NULL},
        {"$..author", "[\"Nigel Rees\",\"Evelyn Waugh\",\"Herman Melville\"]", NULL},
        {"$.store..price", "[8.95,12.99,8.99,19.95]", NULL},
        {"$..book[2].title", "[\"Moby Dick\"]", NULL},
        {"$..[0].title", "[\"Sayings\"]", NULL},
        {"$.store.bicycle..*", "[\"red\",19.95]", NULL},
        {"$.vals[3:]", "[30,40,50]", NULL},
        {"$.vals[:2]", "[0,10]", NULL},
        {"$.vals[1:3]", "[10,20]", NULL},
        {"$.vals[-2:]", "[40,50]", NULL},
        {"$.vals[:-4]", "[0,10]", NULL},
        {"$.vals[4:100]", "[40,50]", NULL},
        {"$.vals[3:1]", "[]", NULL},
        {"$.vals[0,2,9]", "[0,20]", NULL},
        {"$['a b','a-b']", "{\"a b\":1,\"a-b\":3}", NULL},
        {"$.store.bicycle['color','nope']", "{\"color\":\"red\"}", NULL},
        {"$.store.book[?(@.isbn)].title", "[\"Moby Dick\"]", NULL},
        {"$.store.book[?(!@.isbn)].price", "[8.95,12.99]", NULL},
        {"$.store.book[?(@.price < 10)].title", "[\"Sayings\",\"Moby Dick\"]", NULL},
        {"$.store.book[?(@.price<=8.95)].title", "[\"Sayings\"]", NULL},
        {"$.store.book[?(@.price > 10)].title", "[\"Sword\"]", NULL},
        {"$.store.book[?(@.price >= 8.99)].title", "[\"Sword\",\"Moby Dick\"]", NULL},
        {"$.store.book[?(@.category == 'fiction')].author", "[\"Evelyn Waugh\",\"Herman Melville\"]", NULL},
        {"$.store.book[?(@.category != \"fiction\")].author", "[\"Nigel Rees\"]", NULL},
        {"$.store.book[?(@.category == 'fiction' && @.price < 10)].title", "[\"Moby Dick\"]", NULL},
        {"$.store.book[?(@.price > 12 || @.isbn)].title", "[\"Sword\",\"Moby Dick\"]", NULL},
        {"$.store.book[?((@.price > 12 || @.isbn) && !(@.price > 12))].title", "[\"Moby Dick\"]", NULL},
        {"$.store.book[?(@.price < $.store.bicycle.price)].price", "[8.95,12.99,8.99]", NULL},
        {"$.vals[?(@ > 25)]", "[30,40,50]", NULL},
        {"$.vals[?(@ == -1)]", "[]", NULL},
        {"$.store.bicycle[?(@.color == 'red')].price", "[19.95]", NULL},
        {"$.store.book[?(@.category == 1)].title", "[]", NULL},
        {"$.store.book[?(@.isbn == null)].title", "[]", NULL},
        {"$[?(@.t == true)].n", "[null]", NULL},
        {"$.nope", NULL, "Invalid path '$.nope' : No results for path: $['nope']"},
        {"$.store.nope.deeper", NULL,
         "Invalid path '$.store.nope.deeper' : No results for path: $['store']['nope']['deeper']"},
        {"$.vals[6]", NULL, "Invalid path '$.vals[6]' : No results for path: $['vals'][6]"},
        {"$.vals.x", NULL, "Invalid path '$.vals.x' : No results for path: $['vals']['x']"},
        {"$.store[0]", NULL, "Invalid path '$.store[0]' : No results for path: $['store'][0]"},
        {"$.vals.length()", NULL,
         "Invalid path '$.vals.length()' : No results for path: $['vals']['length()']"},
        {"$['a b','a-b'].x", NULL,
         "Invalid path '$['a b','a-b'].x' : Multi properties can only be used as path leafs"},
    };
    cJSON *doc = parse(STORE);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const path_case *c = &cases[i];
        cJSON *out = (cJSON *)1;
        core_err_clear(&err);
        int rc = sfn_path_get(doc, NULL, c->path, &out, &err);
        if (i == 0) {
            cr_assert_eq(rc, CORE_OK);
            cr_assert(cJSON_Compare(out, doc, 1), "$ is the whole document");
        } else if (c->want) {
            cr_assert_eq(rc, CORE_OK, "%s: %s", c->path, err.message);
            assert_json(out, c->want, c->path);
        } else {
            cr_assert_eq(rc, CORE_ERROR, "%s: expected an error", c->path);
            cr_assert_null(out, "%s: *out is NULL on error", c->path);
            cr_assert_str_eq(err.type, "States.Runtime", "%s", c->path);
            cr_assert_str_eq(err.message, c->message, "%s", c->path);
            cr_assert_eq(err.status, 400);
        }
        cJSON_Delete(out);
    }
    cJSON_Delete(doc);
}

Test(sfn_path, context_paths_read_the_context_object)
{
    cJSON *doc = parse("{\"a\":1}");
    cJSON *ctx = parse("{\"Execution\":{\"Id\":\"arn:x\",\"Input\":{\"a\":1}},"
                       "\"Map\":{\"Item\":{\"Index\":2,\"Value\":{\"k\":\"v\"}}}}");
    static const struct { const char *path, *want; } cases[] = {
        {"$$.Execution.Id", "\"arn:x\""},
        {"$$.Map.Item.Index", "2"},
        {"$$.Map.Item.Value.k", "\"v\""},
        {"$$['Execution']['Input']", "{\"a\":1}"},
        {"$$..Index", "[2]"},
        {"$$", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *out = NULL;
        cr_assert_eq(sfn_path_get(doc, ctx, cases[i].path, &out, &err), CORE_OK, "%s: %s",
                     cases[i].path, err.message);
        if (cases[i].want)
            assert_json(out, cases[i].want, cases[i].path);
        else
            cr_assert(cJSON_Compare(out, ctx, 1), "$$ is the context");
        cJSON_Delete(out);
    }
    cJSON *out = NULL;
    cr_assert_eq(sfn_path_get(doc, NULL, "$$.Execution.Id", &out, &err), CORE_ERROR,
                 "no context: nothing selected");
    cr_assert_str_eq(err.message,
                     "Invalid path '$$.Execution.Id' : No results for path: $$['Execution']['Id']");
    cr_assert_eq(sfn_path_get(doc, ctx, "$$.Execution.Nope", &out, &err), CORE_ERROR);
    cJSON_Delete(doc);
    cJSON_Delete(ctx);
}

typedef struct class_case {
    const char *path;
    int reference, valid;
} class_case;

Test(sfn_path, tells_reference_paths_from_jsonpaths_from_garbage)
{
    static const class_case cases[] = {
        {"$", 1, 1},
        {"$$", 1, 1},
        {"$.a", 1, 1},
        {"$.a.b.c", 1, 1},
        {"$['a b'].c", 1, 1},
        {"$.a[0]", 1, 1},
        {"$.a[12][3]", 1, 1},
        {"$$.Execution.Input", 1, 1},
        {"$$.Map.Item.Value", 1, 1},
        {"$.a-b", 1, 1},
        {"$.a[-1]", 0, 1},
        {"$.a[*]", 0, 1},
        {"$.a.*", 0, 1},
        {"$..a", 0, 1},
        {"$.a[0:2]", 0, 1},
        {"$.a[:2]", 0, 1},
        {"$.a[0,1]", 0, 1},
        {"$['a','b']", 0, 1},
        {"$.a[?(@.x == 1)]", 0, 1},
        {"$.a[?(@.x)]", 0, 1},
        {"", 0, 0},
        {"a", 0, 0},
        {"a.b", 0, 0},
        {"$.", 0, 0},
        {"$..", 0, 0},
        {"$.a.", 0, 0},
        {"$a", 0, 0},
        {"$.a b", 0, 0},
        {"$ .a", 0, 0},
        {"$[", 0, 0},
        {"$[0", 0, 0},
        {"$[]", 0, 0},
        {"$['a]", 0, 0},
        {"$['a'", 0, 0},
        {"$[a]", 0, 0},
        {"$[1.5]", 0, 0},
        {"$[0:1:2]", 0, 0},
        {"$.a[?(@.x == )]", 0, 0},
        {"$.a[?(@.x == 1]", 0, 0},
        {"$.a[?(@.x = 1)]", 0, 0},
        {"$.a[?(1)]", 0, 0},
        {"$.a[?(@.x == bogus)]", 0, 0},
        {"$.a[?(@.b[?(@.c)])]", 0, 0},
        {"$.a[?(@..c)]", 0, 0},
        {"$.a[?(@.b[*])]", 0, 0},
        {"$.a(", 1, 1}, /* "a(" is a name to Jayway's dot notation */
        {"$(", 0, 0},
        {"$)", 0, 0},
        {"$.a==1", 1, 1},
        {"$==1", 0, 0},
        {"$['a','b'].c", 0, 0},
        {"@.a", 0, 0},
        {"$.a]", 1, 1},
        {"$.a[0] .b", 0, 0},
        {"$.a[*] .b", 0, 0},
        {"$.* ", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(sfn_path_is_reference(cases[i].path), cases[i].reference, "reference %s",
                     cases[i].path);
        cr_assert_eq(sfn_path_is_valid(cases[i].path), cases[i].valid, "valid %s", cases[i].path);
    }
    cr_assert_eq(sfn_path_is_reference(NULL), 0);
    cr_assert_eq(sfn_path_is_valid(NULL), 0);
}

Test(sfn_path, invalid_paths_fail_with_a_message_naming_the_path)
{
    cJSON *doc = parse("{}"), *out = (cJSON *)1;
    cr_assert_eq(sfn_path_get(doc, NULL, "$.a b", &out, &err), CORE_ERROR);
    cr_assert_null(out);
    cr_assert_str_eq(err.type, "States.Runtime");
    cr_assert(strstr(err.message, "Invalid path '$.a b' : ") == err.message, "%s", err.message);
    cr_assert_eq(sfn_path_get(doc, NULL, "a", &out, &err), CORE_ERROR);
    cr_assert_str_eq(err.message, "Invalid path 'a' : Path must start with '$'");
    cJSON_Delete(doc);
}

typedef struct filter_case {
    const char *doc;
    const char *field; /* JSON of the field, or NULL when absent */
    const char *want;
} filter_case;

Test(sfn_filter_path, applies_input_and_output_path_as_aws_does)
{
    static const filter_case cases[] = {
        {"{\"a\":{\"b\":1}}", NULL, "{\"a\":{\"b\":1}}"},
        {"{\"a\":{\"b\":1}}", "null", "{}"},
        {"{\"a\":{\"b\":1}}", "\"$\"", "{\"a\":{\"b\":1}}"},
        {"{\"a\":{\"b\":1}}", "\"$.a\"", "{\"b\":1}"},
        {"{\"a\":{\"b\":1}}", "\"$.a.b\"", "1"},
        {"{\"a\":[1,2,3]}", "\"$.a[1]\"", "2"},
        {"{\"a\":[{\"x\":1},{\"x\":2}]}", "\"$.a[*].x\"", "[1,2]"},
        {"[1,2]", "\"$[0]\"", "1"},
        {"\"text\"", NULL, "\"text\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *doc = parse(cases[i].doc), *field = cases[i].field ? parse(cases[i].field) : NULL;
        cJSON *out = NULL;
        char what[128];
        snprintf(what, sizeof what, "case %zu (%s)", i, cases[i].field ? cases[i].field : "absent");
        cr_assert_eq(sfn_filter_path(doc, NULL, field, &out, &err), CORE_OK, "%s: %s", what,
                     err.message);
        assert_json(out, cases[i].want, what);
        cJSON_Delete(out);
        cJSON_Delete(doc);
        cJSON_Delete(field);
    }
}

Test(sfn_filter_path, reads_the_context_and_fails_on_missing_or_non_string_fields)
{
    cJSON *doc = parse("{\"a\":1}"), *ctx = parse("{\"Execution\":{\"Name\":\"e1\"}}");
    cJSON *field = cJSON_CreateString("$$.Execution.Name"), *out = NULL;
    cr_assert_eq(sfn_filter_path(doc, ctx, field, &out, &err), CORE_OK);
    assert_json(out, "\"e1\"", "$$.Execution.Name");
    cJSON_Delete(out);
    cJSON_SetValuestring(field, "$.missing");
    cr_assert_eq(sfn_filter_path(doc, ctx, field, &out, &err), CORE_ERROR);
    cr_assert_null(out);
    cr_assert_str_eq(err.type, "States.Runtime");
    cr_assert_str_eq(err.message, "Invalid path '$.missing' : No results for path: $['missing']");
    cJSON *num = cJSON_CreateNumber(1);
    cr_assert_eq(sfn_filter_path(doc, ctx, num, &out, &err), CORE_ERROR);
    cJSON_Delete(num);
    cJSON_Delete(field);
    cJSON_Delete(doc);
    cJSON_Delete(ctx);
}

typedef struct result_case {
    const char *input;
    const char *field; /* JSON or NULL (absent) */
    const char *result;
    const char *want; /* NULL: ResultPathMatchFailure */
} result_case;

Test(sfn_result_path, places_the_result_as_the_developer_guide_shows)
{
    static const result_case cases[] = {
        {"{\"comment\":\"x\"}", NULL, "\"Hello\"", "\"Hello\""},
        {"{\"comment\":\"x\"}", "\"$\"", "{\"r\":1}", "{\"r\":1}"},
        {"{\"comment\":\"x\"}", "null", "\"Hello\"", "{\"comment\":\"x\"}"},
        {"{\"comment\":\"x\"}", "\"$.taskresult\"", "\"Hello\"",
         "{\"comment\":\"x\",\"taskresult\":\"Hello\"}"},
        {"{\"comment\":\"x\"}", "\"$.comment\"", "\"Hello\"", "{\"comment\":\"Hello\"}"},
        {"{\"a\":{\"keep\":1}}", "\"$.a.b.c\"", "[1]", "{\"a\":{\"keep\":1,\"b\":{\"c\":[1]}}}"},
        {"{}", "\"$.x.y\"", "null", "{\"x\":{\"y\":null}}"},
        {"{\"list\":[1,2,3]}", "\"$.list[1]\"", "\"two\"", "{\"list\":[1,\"two\",3]}"},
        {"{\"list\":[{\"a\":1}]}", "\"$.list[0].b\"", "2", "{\"list\":[{\"a\":1,\"b\":2}]}"},
        {"{\"a\":\"text\"}", "\"$.a.b\"", "1", NULL},
        {"[1,2]", "\"$.a\"", "1", NULL},
        {"\"scalar\"", "\"$.a\"", "1", NULL},
        {"{\"list\":[1]}", "\"$.list[3]\"", "1", NULL},
        {"{\"list\":{}}", "\"$.list[0]\"", "1", NULL},
        {"{}", "\"$.a[*]\"", "1", NULL},
        {"{}", "\"$..a\"", "1", NULL},
        {"{}", "\"$$.Execution\"", "1", NULL},
        {"{}", "\"nope\"", "1", NULL},
        {"{}", "7", "1", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const result_case *c = &cases[i];
        cJSON *input = parse(c->input), *field = c->field ? parse(c->field) : NULL;
        cJSON *result = parse(c->result), *out = (cJSON *)1;
        char what[160];
        snprintf(what, sizeof what, "case %zu ResultPath %s", i, c->field ? c->field : "absent");
        core_err_clear(&err);
        int rc = sfn_result_path(input, field, result, &out, &err);
        if (c->want) {
            cr_assert_eq(rc, CORE_OK, "%s: %s", what, err.message);
            assert_json(out, c->want, what);
        } else {
            cr_assert_eq(rc, CORE_ERROR, "%s: expected an error", what);
            cr_assert_null(out, "%s", what);
            cr_assert_str_neq(err.type, "", "%s", what);
        }
        cJSON_Delete(out);
        cJSON_Delete(input);
        cJSON_Delete(field);
        cJSON_Delete(result);
    }
}

Test(sfn_result_path, failure_quotes_the_input_as_aws_does)
{
    cJSON *input = parse("{\"a\":\"text\"}"), *field = cJSON_CreateString("$.a.b");
    cJSON *result = parse("1"), *out = NULL;
    cr_assert_eq(sfn_result_path(input, field, result, &out, &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "States.ResultPathMatchFailure");
    cr_assert_str_eq(err.message,
                     "Unable to apply ReferencePath $.a.b to input \"{\\\"a\\\":\\\"text\\\"}\"");
    cr_assert_eq(err.status, 400);
    cJSON_Delete(input);
    cJSON_Delete(field);
    cJSON_Delete(result);
}

Test(sfn_result_path, never_changes_its_borrowed_arguments)
{
    cJSON *input = parse("{\"a\":{\"b\":1}}"), *field = cJSON_CreateString("$.a.c");
    cJSON *result = parse("{\"r\":[1,2]}"), *out = NULL;
    char *before_in = cJSON_PrintUnformatted(input), *before_res = cJSON_PrintUnformatted(result);
    cr_assert_eq(sfn_result_path(input, field, result, &out, &err), CORE_OK);
    char *after_in = cJSON_PrintUnformatted(input), *after_res = cJSON_PrintUnformatted(result);
    cr_assert_str_eq(before_in, after_in);
    cr_assert_str_eq(before_res, after_res);
    assert_json(out, "{\"a\":{\"b\":1,\"c\":{\"r\":[1,2]}}}", "$.a.c");
    free(before_in);
    free(before_res);
    free(after_in);
    free(after_res);
    cJSON_Delete(out);
    cJSON_Delete(input);
    cJSON_Delete(field);
    cJSON_Delete(result);
}

static char *repeat(const char *head, const char *unit, size_t times, const char *tail);

/* The interpreter's in-place form agrees with the copying one on every case of the
 * table: where the path applies it changes the document itself and hands it over;
 * where it does not, it leaves the document exactly as it was and fails alike. */
Test(sfn_result_path, in_place_form_agrees_with_the_copying_one)
{
    static const result_case cases[] = {
        {"{\"comment\":\"x\"}", NULL, "\"Hello\"", NULL},
        {"{\"comment\":\"x\"}", "null", "\"Hello\"", NULL},
        {"{\"comment\":\"x\"}", "\"$.taskresult\"", "\"Hello\"", NULL},
        {"{\"comment\":\"x\",\"b\":2}", "\"$.comment\"", "{\"r\":1}", NULL},
        {"{\"a\":[1],\"z\":2}", "\"$.a\"", "null", NULL},
        {"{\"\":1}", "\"$['']\"", "3", NULL},
        {"[1,2]", "\"$.a\"", "1", NULL},
        {"{\"a\":{\"keep\":1}}", "\"$.a.b.c\"", "[1]", NULL},
        {"{\"list\":[1,2,3]}", "\"$.list[1]\"", "\"two\"", NULL},
        {"{\"list\":[{\"a\":1}]}", "\"$.list[0].b\"", "2", NULL},
        {"{\"a\":\"text\"}", "\"$.a.b\"", "1", NULL},
        {"{}", "\"$.n.m[0]\"", "1", NULL},
        {"{\"list\":[1]}", "\"$.list[3]\"", "1", NULL},
        {"\"scalar\"", "\"$.a\"", "1", NULL},
        {"{}", "\"$..a\"", "1", NULL},
        {"{}", "7", "1", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const result_case *c = &cases[i];
        cJSON *input = parse(c->input), *field = c->field ? parse(c->field) : NULL;
        cJSON *result = parse(c->result), *want = NULL;
        core_err want_err;
        core_err_clear(&want_err);
        int want_rc = sfn_result_path(input, field, result, &want, &want_err);
        char *before = cJSON_PrintUnformatted(input);
        cJSON *doc = input, *out = NULL;
        core_err_clear(&err);
        int rc = sfn_result_path_into(&doc, field, cJSON_Duplicate(result, 1), &out, &err);
        char what[160];
        snprintf(what, sizeof what, "case %zu ResultPath %s", i, c->field ? c->field : "absent");
        cr_assert_eq(rc, want_rc, "%s", what);
        if (rc == CORE_OK) {
            char *w = cJSON_PrintUnformatted(want);
            assert_json(out, w, what);
            free(w);
            if (!doc) /* handed over: out is the document itself */
                cr_assert_eq(out, input, "%s", what);
            else
                cr_assert_neq(out, doc, "%s", what);
        } else {
            cr_assert_eq(doc, input, "%s: the document stays the caller's", what);
            char *after = cJSON_PrintUnformatted(doc);
            cr_assert_str_eq(after, before, "%s: the document is unchanged", what);
            free(after);
            cr_assert_str_eq(err.type, want_err.type, "%s", what);
            cr_assert_str_eq(err.message, want_err.message, "%s", what);
        }
        free(before);
        if (out != doc)
            cJSON_Delete(out);
        cJSON_Delete(doc);
        cJSON_Delete(want);
        cJSON_Delete(field);
        cJSON_Delete(result);
    }
}

/* Paths are parsed once: the same text gives the same path, which freeing does
 * not free; texts beyond the cached length are parsed afresh. */
Test(sfn_path, the_parse_cache_shares_short_paths_and_not_long_ones)
{
    sfn_jpath *a = sfn_jpath_parse_cached("$.cached.path[0]", &err);
    sfn_jpath *b = sfn_jpath_parse_cached("$.cached.path[0]", &err);
    cr_assert_not_null(a);
    cr_assert_eq(a, b);
    sfn_jpath_free(a); /* a no-op for a cached path */
    cJSON *doc = parse("{\"cached\":{\"path\":[7]}}"), *out = NULL;
    cr_assert_eq(sfn_jpath_eval(b, doc, NULL, &out, &err), CORE_OK);
    assert_json(out, "7", "cached path after free");
    cJSON_Delete(out);
    cJSON_Delete(doc);
    cr_assert_null(sfn_jpath_parse_cached("$.a[", &err), "invalid paths are not cached");
    char *big = repeat("$", ".abcdefgh", 40, "");
    sfn_jpath *c = sfn_jpath_parse_cached(big, &err), *d = sfn_jpath_parse_cached(big, &err);
    cr_assert_not_null(c);
    cr_assert_neq(c, d, "a long path is the caller's");
    sfn_jpath_free(c);
    sfn_jpath_free(d);
    free(big);
}

/* ---- hostile input ------------------------------------------------------------ */

static char *repeat(const char *head, const char *unit, size_t times, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * times + tl + 1);
    cr_assert_not_null(s);
    memcpy(s, head, hl);
    for (size_t i = 0; i < times; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * times, tail, tl + 1);
    return s;
}

Test(sfn_path, number_text_reads_back_exactly)
{
    static const struct { double v; const char *text; } cases[] = {
        {0, "0"}, {1, "1"}, {-1, "-1"}, {42, "42"}, {0.5, "0.5"}, {-2.25, "-2.25"}, {0.1, "0.1"},
        {9007199254740991.0, "9007199254740991"}, {-9007199254740991.0, "-9007199254740991"},
        {1e21, "1e+21"}, {1.0 / 3.0, "0.33333333333333331"}, {1e-7, "1e-07"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        sfn_number_text(cases[i].v, buf, sizeof buf);
        cr_assert_str_eq(buf, cases[i].text, "case %zu", i);
        cr_assert_eq(strtod(buf, NULL), cases[i].v, "case %zu reads back", i);
    }
}

Test(sfn_path_hostile, refuses_oversized_and_deeply_nested_paths)
{
    struct { const char *head, *unit; size_t times; const char *tail; } cases[] = {
        {"$", ".a", 10000, ""},             /* 10k segments, 20k characters */
        {"$", ".a", SFN_PATH_MAX_SEGMENTS + 1, ""}, /* within the length, over the segment bound */
        {"$", "[0]", SFN_PATH_MAX_SEGMENTS + 1, ""},
        {"$['", "x", SFN_PATH_MAX_LEN, "']"}, /* one huge name */
        {"$.a[?(", "(", 200, "@.x"},        /* unclosed, deep parentheses */
        {"$.a[?(", "!", 200, "@.x)]"},      /* deep negation */
        {"$.a[?(", "(", 100, "@.x"},
        {"$", "[", 2000, ""},
        {"$", "..", 2000, "a"},
        {"$[", "0,", 1000, "0]"},
        {"$[", "'a',", 600, "'a']"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = repeat(cases[i].head, cases[i].unit, cases[i].times, cases[i].tail);
        cJSON *doc = parse("{\"a\":[]}"), *out = (cJSON *)1;
        cr_assert_eq(sfn_path_is_valid(path), 0, "case %zu refused", i);
        cr_assert_eq(sfn_path_get(doc, NULL, path, &out, &err), CORE_ERROR, "case %zu", i);
        cr_assert_null(out);
        cr_assert_str_eq(err.type, "States.Runtime");
        cr_assert(strlen(err.message) < sizeof err.message, "bounded message");
        cJSON_Delete(doc);
        free(path);
    }
    char *ok = repeat("$", ".a", SFN_PATH_MAX_SEGMENTS, "");
    cr_assert_eq(sfn_path_is_reference(ok), 1, "the bound itself is accepted");
    free(ok);
    char *parens = repeat("$.a[?(", "(", 20, "@.x");
    char *closed = repeat(parens, ")", 20, ")]");
    cr_assert_eq(sfn_path_is_valid(closed), 1, "20 levels of parentheses are fine");
    free(parens);
    free(closed);
}

Test(sfn_path_hostile, bounds_the_work_of_scans_over_large_documents)
{
    /* A chain of 900 nested arrays: each ".." from each of the ~1800 nodes
     * "$..*" yields walks the rest of the chain, so "$..*..*" is quadratic. */
    cJSON *doc = cJSON_CreateArray(), *cur = doc;
    for (int i = 0; i < 900; i++) {
        cJSON *next = cJSON_CreateArray();
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "x", i);
        cJSON_AddItemToArray(cur, o);
        cJSON_AddItemToArray(cur, next);
        cur = next;
    }
    cJSON *out = NULL;
    cr_assert_eq(sfn_path_get(doc, NULL, "$..x", &out, &err), CORE_OK, "%s", err.message);
    cr_assert_eq(cJSON_GetArraySize(out), 900);
    cJSON_Delete(out);
    cr_assert_eq(sfn_path_get(doc, NULL, "$..*..*", &out, &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "States.Runtime");
    cr_assert(strstr(err.message, "exceeds") != NULL, "%s", err.message);
    cJSON_Delete(doc);
}

Test(sfn_path_hostile, scans_a_deep_document_without_exhausting_the_stack)
{
    /* Built programmatically: cJSON_Parse would refuse it, a machine's own
     * results need not. */
    cJSON *doc = cJSON_CreateObject(), *cur = doc;
    for (int i = 0; i < 5000; i++) {
        cJSON *next = cJSON_CreateObject();
        cJSON_AddItemToObject(cur, "a", next);
        cur = next;
    }
    cJSON *out = NULL;
    cr_assert_eq(sfn_path_get(doc, NULL, "$..a", &out, &err), CORE_ERROR);
    cr_assert_null(out);
    cr_assert_eq(sfn_path_get(doc, NULL, "$.a.a.a", &out, &err), CORE_OK);
    cJSON_Delete(out);
    cr_assert_eq(sfn_json_depth(doc, 100), 101);
    cr_assert_eq(sfn_json_depth(cJSON_GetObjectItem(doc, "nope"), 100), 0);
    cJSON_Delete(doc);
}

Test(sfn_path_hostile, survives_nul_bytes_control_characters_and_utf8)
{
    cJSON *doc = parse("{\"\xc3\xa9t\xc3\xa9\":1,\"tab\\there\":2}"), *out = NULL;
    cr_assert_eq(sfn_path_get(doc, NULL, "$.\xc3\xa9t\xc3\xa9", &out, &err), CORE_OK);
    assert_json(out, "1", "utf-8 name");
    cJSON_Delete(out);
    cr_assert_eq(sfn_path_get(doc, NULL, "$['tab\there']", &out, &err), CORE_OK);
    assert_json(out, "2", "tab in a quoted name");
    cJSON_Delete(out);
    cr_assert_eq(sfn_path_is_valid("$.\x01"), 1, "a control character is a name character");
    cr_assert_eq(sfn_path_is_valid("$['\\"), 0, "a dangling escape");
    cr_assert_eq(sfn_path_is_valid("$[?(@.x == '\\')]"), 0);
    cJSON_Delete(doc);
}
