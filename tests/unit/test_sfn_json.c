/*
 * test_sfn_json.c — json_text.c's reused buffer gives exactly what
 * cJSON_PrintUnformatted prints (the interpreter's outputs and histories must
 * not change by a byte), documents small and large, one after another,
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
