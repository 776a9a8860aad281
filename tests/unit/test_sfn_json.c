/*
 * test_sfn_json.c — json_text.c prints exactly what cJSON_PrintUnformatted
 * prints (the interpreter's outputs and histories must not change by a byte),
 * and json_alloc.c's free-list cache hands out sound memory on every thread.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stepfunctions/lang_impl.h"
#include "stepfunctions/sfn_impl.h"

/* Both printers on item: the same text, or both NULL. */
static void same_as_cjson(const cJSON *item, const char *what)
{
    char *want = cJSON_PrintUnformatted(item);
    char *got = sfn_json_print(item);
    size_t n = 0;
    const char *borrowed = sfn_json_print_borrowed(item, &n);
    if (!want) {
        cr_assert_null(got, "%s: cJSON gave NULL, we gave %s", what, got);
        cr_assert_null(borrowed, "%s", what);
    } else {
        cr_assert_not_null(got, "%s: we gave NULL, cJSON %s", what, want);
        cr_assert_str_eq(got, want, "%s", what);
        cr_assert_str_eq(borrowed, want, "%s (borrowed)", what);
        cr_assert_eq(n, strlen(want), "%s: length", what);
    }
    free(want);
    free(got);
}

Test(sfn_json, documents_print_as_cjson_prints_them)
{
    static const char *docs[] = {
        "null", "true", "false", "0", "-0", "1", "-1", "1999", "2147483647", "2147483648",
        "-2147483648", "-2147483649", "999999999999999", "1000000000000000", "-999999999999999",
        "1e15", "1e16", "12345678901234567890", "0.1", "0.5", "-0.25", "3.14159", "1e300",
        "-1e308", "1e-300", "5e-324", "2.2250738585072014e-308", "0.3333333333333333",
        "123456.789", "1.7976931348623157e308", "100.0", "1.5e3", "\"\"", "\"a\"",
        "\"q\\\"b\\\\s/\\n\\t\\r\\b\\f\"", "\"\\u0001\\u001f\\u007f\\u00e9\\u20ac\\ud83d\\ude00\"",
        "[]", "{}", "[[]]", "{\"\":{}}", "[1,[2,[3,[4]]]]", "{\"a\":1,\"b\":[true,false,null]}",
        "{\"k\\\"ey\\n\":\"v\"}",
        "{\"orderId\":\"o-bench\",\"items\":[{\"productId\":\"p1\",\"quantity\":1}],\"total\":1999}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        cJSON *d = cJSON_Parse(docs[i]);
        cr_assert_not_null(d, "%s does not parse", docs[i]);
        same_as_cjson(d, docs[i]);
        cJSON_Delete(d);
    }
}

Test(sfn_json, every_byte_of_a_string_and_a_key_escapes_as_cjson_escapes_it)
{
    char s[2];
    s[1] = '\0';
    for (int c = 1; c < 256; c++) {
        s[0] = (char)c;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, s, s);
        char what[32];
        snprintf(what, sizeof what, "byte 0x%02x", c);
        same_as_cjson(o, what);
        cJSON_Delete(o);
        /* and at every place of a longer string, where the printer goes a word at a time */
        for (int at = 0; at < 20; at++) {
            char longer[26];
            memset(longer, 'a', sizeof longer - 1);
            longer[sizeof longer - 1] = '\0';
            longer[at] = (char)c;
            if (c >= 0x80 && at + 1 < 25)
                longer[at + 1] = (char)0x80; /* a plausible UTF-8 pair */
            cJSON *str = cJSON_CreateString(longer);
            snprintf(what, sizeof what, "byte 0x%02x at %d", c, at);
            same_as_cjson(str, what);
            cJSON_Delete(str);
        }
    }
}

Test(sfn_json, numbers_of_every_shape_print_as_cjson_prints_them)
{
    double fixed[] = {NAN, -NAN, INFINITY, -INFINITY, 0.0, -0.0, 1e15 - 1, 1e15, -1e15 + 1,
                      4503599627370496.0, 9007199254740993.0, 0.1 + 0.2, 1.0 / 3, 2.0 / 3,
                      1e-7, 123e-20, (double)INT32_MAX + 1, (double)INT32_MIN - 1};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        cJSON *n = cJSON_CreateNumber(fixed[i]);
        char what[48];
        snprintf(what, sizeof what, "%.17g", fixed[i]);
        same_as_cjson(n, what);
        cJSON_Delete(n);
    }
    /* random bit patterns (finite or not) and random integers */
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        if (i % 2) {
            memcpy(&d, &x, sizeof d);
        } else {
            d = (double)(int64_t)(x >> (i % 50));
            if (i % 4)
                d = -d;
        }
        cJSON *n = cJSON_CreateNumber(d);
        char what[48];
        snprintf(what, sizeof what, "%.17g (pattern %d)", d, i);
        same_as_cjson(n, what);
        cJSON_Delete(n);
    }
}

Test(sfn_json, raw_null_strings_bad_types_and_null_fail_or_print_as_cjson)
{
    same_as_cjson(NULL, "NULL item");
    cJSON *raw = cJSON_CreateRaw("{\"already\": \"text\" }");
    same_as_cjson(raw, "raw");
    cJSON_Delete(raw);
    cJSON *s = cJSON_CreateString("x");
    cJSON_free(s->valuestring);
    s->valuestring = NULL;
    same_as_cjson(s, "string without text");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "s", s);
    cJSON_free(o->child->string);
    o->child->string = NULL;
    same_as_cjson(o, "key without text");
    cJSON *bad = cJSON_CreateArray();
    cJSON *invalid = cJSON_CreateNull();
    invalid->type = cJSON_Invalid;
    cJSON_AddItemToArray(bad, invalid);
    same_as_cjson(bad, "an item of no type");
    cJSON *badraw = cJSON_CreateRaw("1");
    cJSON_free(badraw->valuestring);
    badraw->valuestring = NULL;
    same_as_cjson(badraw, "raw without text");
    cJSON_Delete(badraw);
    cJSON_Delete(bad);
    cJSON_Delete(o);
}

Test(sfn_json, a_large_document_prints_whole_and_the_buffer_is_reused_after_it)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < 100000; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString("0123456789abcdef\n"));
    same_as_cjson(a, "2 MB array");
    cJSON_Delete(a);
    cJSON *small = cJSON_Parse("{\"a\":[1,2,3]}");
    same_as_cjson(small, "small after large");
    cJSON_Delete(small);
}

static void *churn(void *arg)
{
    (void)arg;
    sfn_json_alloc_thread();
    for (int round = 0; round < 200; round++) {
        cJSON *d = cJSON_Parse("{\"a\": [1, 2, {\"b\": \"a string of some length to copy\"}], "
                               "\"c\": \"x\", \"d\": 0.5}");
        cr_assert_not_null(d);
        cJSON *copy = cJSON_Duplicate(d, 1);
        cr_assert(cJSON_Compare(d, copy, 1));
        char *text = cJSON_PrintUnformatted(copy);
        free(text); /* plain free of cJSON's text: every block is malloc's */
        cJSON_Delete(d);
        cJSON_Delete(copy);
    }
    return NULL;
}

static void *delete_tree(void *tree)
{
    cJSON_Delete(tree);
    return NULL;
}

Test(sfn_json, the_allocation_cache_serves_threads_that_free_each_others_blocks)
{
    const char *off = getenv("SHOPLOCAL_NO_ARENA");
    if (off && !strcmp(off, "1"))
        cr_assert_eq(sfn_json_alloc_installed(), 0, "SHOPLOCAL_NO_ARENA=1 leaves it out");
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, churn, NULL), 0);
    churn(NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    /* a tree built on one thread and freed on another */
    sfn_json_alloc_thread();
    cJSON *d = cJSON_Parse("[\"built here\", {\"k\": \"v\"}]");
    pthread_t other;
    cr_assert_eq(pthread_create(&other, NULL, delete_tree, d), 0);
    pthread_join(other, NULL);
}

/* The same tree node for node: types, numbers (valueint too), strings, keys,
 * order, and the links cJSON's own functions rely on (prev of the first child
 * is the last). */
static void same_tree(const cJSON *a, const cJSON *b, const char *what)
{
    cr_assert_eq(a == NULL, b == NULL, "%s: one is NULL", what);
    if (!a)
        return;
    cr_assert_eq(a->type, b->type, "%s: type %d vs %d", what, a->type, b->type);
    cr_assert_eq(a->valueint, b->valueint, "%s: valueint", what);
    cr_assert(memcmp(&a->valuedouble, &b->valuedouble, sizeof a->valuedouble) == 0 ||
                  (isnan(a->valuedouble) && isnan(b->valuedouble)),
              "%s: valuedouble %.17g vs %.17g", what, a->valuedouble, b->valuedouble);
    cr_assert_eq(a->valuestring == NULL, b->valuestring == NULL, "%s: valuestring", what);
    if (a->valuestring)
        cr_assert_str_eq(a->valuestring, b->valuestring, "%s", what);
    cr_assert_eq(a->string == NULL, b->string == NULL, "%s: key", what);
    if (a->string)
        cr_assert_str_eq(a->string, b->string, "%s", what);
    const cJSON *x = a->child, *y = b->child;
    if (x) {
        cr_assert_not_null(y, "%s: children", what);
        const cJSON *lx = x, *ly = y;
        while (lx->next)
            lx = lx->next;
        while (ly->next)
            ly = ly->next;
        cr_assert_eq(x->prev, lx, "%s: first->prev is the last child", what);
        cr_assert_eq(y->prev, ly, "%s: first->prev is the last child", what);
    }
    for (; x || y; x = x->next, y = y->next) {
        cr_assert(x && y, "%s: child counts differ", what);
        same_tree(x, y, what);
    }
}

static void parses_as_cjson(const char *text, const char *what)
{
    cJSON *want = cJSON_Parse(text), *got = sfn_json_parse(text);
    same_tree(want, got, what);
    cJSON_Delete(want);
    cJSON_Delete(got);
}

Test(sfn_json, documents_parse_into_the_tree_cjson_builds)
{
    static const char *docs[] = {
        "{\"orderId\": \"o-bench\", \"userId\": \"u1\", \"items\": [{\"productId\": \"p1\", "
        "\"quantity\": 1, \"priceCents\": 1999}], \"total\": 1999, \"ok\": true}",
        "  \t\n{}  ", "[]", "[ ]", "{ }", "true", "false", "null", "0", "-0", "007", "-007",
        "1.5", "-1.5e3", "1E+2", "1e-2", ".5", "-.5", "1.", "1e999", "-1e999", "123456789012345",
        "1234567890123456", "12345678901234567890", "2147483647", "2147483648", "-2147483648",
        "-2147483649", "1-2", "1e5e5", "--1", "+1", "-", "e5", "\"\"", "\"a\\\"b\\\\c\\/d\"",
        "\"\\b\\f\\n\\r\\t\"", "\"\\u00e9\"", "\"\\ud83d\\ude00\"", "\"\\x\"", "\"\\", "\"open",
        "\"tab\there\"", "\"\x01\x1f\"", "\"caf\xc3\xa9 \xe2\x82\xac\"", "{\"a\":1,\"a\":2}",
        "{\"a\" : [1 , 2 ,3 ] , \"b\" :{ \"c\" :null}}", "[1,]", "[,1]", "{\"a\":1,}", "{,}",
        "{\"a\"}", "{\"a\":}", "{a:1}", "[1 2]", "{\"a\":1 \"b\":2}", "[1]garbage", "{}{}",
        "\xEF\xBB\xBF{\"bom\":1}", "", "   ", "nul", "tru", "fals", "nullx", "[true,false,null]",
        "{\"\":\"\"}", "[[[[[[[[[[]]]]]]]]]]", "{\"k\\n\\\"\":\"v\"}", "[\"\\u0000\"]",
        "[0.1, 0.2, 0.30000000000000004, 1e-320, 2.2250738585072014e-308]",
        "[999999999999999, -999999999999999, 1000000000000000]",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++)
        parses_as_cjson(docs[i], docs[i]);
}

Test(sfn_json, nesting_past_the_fast_parsers_depth_is_cjsons_answer)
{
    static char deep[4100];
    for (int depth = 500; depth <= 2000; depth += 250) {
        size_t n = 0;
        for (int i = 0; i < depth; i++)
            deep[n++] = '[';
        for (int i = 0; i < depth; i++)
            deep[n++] = ']';
        deep[n] = '\0';
        parses_as_cjson(deep, "deep arrays");
    }
}

Test(sfn_json, mutated_documents_parse_as_cjson_parses_them)
{
    static const char base[] =
        "{\"a\": [1, -2.5e3, \"s\\\"t\", true, false, null, {\"b\": {}}], \"c\": \"\\u00e9\"}";
    char doc[sizeof base];
    const char alphabet[] = "{}[]\",:.-+eE0123456789 \\u tnfrl";
    uint64_t x = 0x243F6A8885A308D3ULL;
    for (int round = 0; round < 5000; round++) {
        memcpy(doc, base, sizeof base);
        for (int m = 0; m < 1 + round % 4; m++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            size_t at = (size_t)(x % (sizeof base - 1));
            doc[at] = alphabet[(x >> 20) % (sizeof alphabet - 1)];
            if ((x >> 40) % 7 == 0)
                doc[at + 1 < sizeof base - 1 ? at + 1 : at] = '\0'; /* truncated */
        }
        char what[64];
        snprintf(what, sizeof what, "mutation round %d", round);
        parses_as_cjson(doc, what);
    }
}

Test(sfn_json, object_lookups_find_what_cjsons_lookup_finds)
{
    cJSON *o = cJSON_Parse("{\"a\": 1, \"ab\": 2, \"\": 3, \"a\": 4, \"b\": 5, \"A\": 6}");
    cJSON *nokey = cJSON_CreateNumber(7);
    cJSON_AddItemToArray(o, nokey); /* a member without a key */
    const char *names[] = {"a", "ab", "", "b", "A", "abc", "x", "B"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        cr_assert_eq(sfn_object_item(o, names[i]), cJSON_GetObjectItemCaseSensitive(o, names[i]),
                     "key '%s'", names[i]);
    cr_assert_null(sfn_object_item(NULL, "a"));
    cr_assert_null(sfn_object_item(o, NULL));
    cJSON *arr = cJSON_Parse("[1, 2]");
    cr_assert_null(sfn_object_item(arr, "a"));
    cJSON_Delete(arr);
    cJSON_Delete(o);
}
