/*
 * test_ddb_value.c — DynamoDB AttributeValues: type detection, validation with
 * AWS's wording (and number normalisation in place), equality, ordering, item
 * sizes per "DynamoDB item sizes and formats", key bytes, strict base64.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamodb/value.h"

TestSuite(ddb_value);

#define EMPTY_AV "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
#define MULTI_AV                                                                              \
    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "    \
    "the supported datatypes"
#define INVALID "One or more parameter values were invalid: "
#define NESTING                                                                               \
    "Nesting Levels have exceeded supported limits: Attributes in the item have nested "       \
    "levels beyond supported limit"
#define NOT_A_NUMBER "The parameter cannot be converted to a numeric value"

static cJSON *json(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j, "test JSON does not parse: %s", text);
    return j;
}

static char *print(const cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    cr_assert_not_null(s);
    return s;
}

/* validate(in) succeeds and leaves exactly out. */
static void assert_valid_as(const char *in, const char *out)
{
    cJSON *av = json(in);
    core_err err;
    core_err_clear(&err);
    cr_assert_eq(ddb_value_validate(av, &err), CORE_OK, "%s refused: %s", in, err.message);
    char *s = print(av);
    cr_assert_str_eq(s, out);
    free(s);
    cJSON_Delete(av);
}

static void assert_valid(const char *in)
{
    assert_valid_as(in, in);
}

static void assert_refused_as(const char *in, const char *type, const char *message)
{
    cJSON *av = json(in);
    core_err err;
    core_err_clear(&err);
    cr_assert_eq(ddb_value_validate(av, &err), CORE_ERROR, "%s accepted", in);
    cr_assert_eq(err.status, 400);
    cr_assert_str_eq(err.type, type, "for %s", in);
    cr_assert_str_eq(err.message, message, "for %s", in);
    cJSON_Delete(av);
}

static void assert_refused(const char *in, const char *message)
{
    assert_refused_as(in, "ValidationException", message);
}

static void assert_malformed(const char *in, const char *message)
{
    assert_refused_as(in, "SerializationException", message);
}

/* An AttributeValue `levels` deep: levels-1 containers ("M" or "L") around a leaf S. */
static char *nested(int levels, const char *container)
{
    size_t cap = (size_t)levels * 16 + 32;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    size_t used = 0;
    int is_map = strcmp(container, "M") == 0;
    for (int i = 0; i < levels - 1; i++)
        used += (size_t)snprintf(s + used, cap - used, is_map ? "{\"M\":{\"n\":" : "{\"L\":[");
    used += (size_t)snprintf(s + used, cap - used, "{\"S\":\"leaf\"}");
    for (int i = 0; i < levels - 1; i++)
        used += (size_t)snprintf(s + used, cap - used, is_map ? "}}" : "]}");
    return s;
}

/* ---- types --------------------------------------------------------------- */

Test(ddb_value, names_every_type_both_ways)
{
    const char *names[] = {"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"};
    for (int t = DDB_S; t <= DDB_BS; t++) {
        cr_assert_str_eq(ddb_type_name((ddb_type)t), names[t - 1]);
        cr_assert_eq(ddb_type_from_name(names[t - 1]), (ddb_type)t);
    }
    cr_assert_str_eq(ddb_type_name(DDB_INVALID), "");
    cr_assert_eq(ddb_type_from_name("s"), DDB_INVALID);
    cr_assert_eq(ddb_type_from_name("X"), DDB_INVALID);
    cr_assert_eq(ddb_type_from_name(""), DDB_INVALID);
    cr_assert_eq(ddb_type_from_name(NULL), DDB_INVALID);
}

Test(ddb_value, tells_the_type_of_each_well_formed_value)
{
    const struct {
        const char *text;
        ddb_type type;
    } cases[] = {{"{\"S\":\"x\"}", DDB_S},        {"{\"N\":\"5\"}", DDB_N},
                 {"{\"B\":\"AA==\"}", DDB_B},     {"{\"BOOL\":false}", DDB_BOOL},
                 {"{\"NULL\":true}", DDB_NULL},   {"{\"M\":{}}", DDB_M},
                 {"{\"L\":[]}", DDB_L},           {"{\"SS\":[\"a\"]}", DDB_SS},
                 {"{\"NS\":[\"1\"]}", DDB_NS},    {"{\"BS\":[\"AA==\"]}", DDB_BS},
                 {"{\"S\":\"x\",\"extra\":1}", DDB_S}, {"{\"S\":\"x\",\"N\":null}", DDB_S}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *av = json(cases[i].text);
        cr_assert_eq(ddb_value_type(av), cases[i].type, "%s", cases[i].text);
        cJSON_Delete(av);
    }
}

Test(ddb_value, calls_malformed_values_invalid)
{
    const char *bad[] = {"{}",           "{\"S\":5}",          "{\"N\":[]}",
                         "{\"BOOL\":1}", "{\"M\":[]}",         "{\"L\":{}}",
                         "{\"SS\":\"a\"}", "{\"S\":\"a\",\"N\":\"1\"}", "{\"x\":\"a\"}",
                         "[]",           "\"S\"",              "{\"S\":null}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *av = json(bad[i]);
        cr_assert_eq(ddb_value_type(av), DDB_INVALID, "%s", bad[i]);
        cr_assert_null(ddb_value_payload(av), "%s", bad[i]);
        cJSON_Delete(av);
    }
    cr_assert_eq(ddb_value_type(NULL), DDB_INVALID);
}

Test(ddb_value, lends_the_payload_of_the_type_key)
{
    cJSON *av = json("{\"L\":[{\"S\":\"a\"}]}");
    const cJSON *p = ddb_value_payload(av);
    cr_assert_eq(p, cJSON_GetObjectItemCaseSensitive(av, "L"));
    cr_assert(cJSON_IsArray(p));
    cJSON_Delete(av);
}

/* ---- validation: accepted values ----------------------------------------- */

Test(ddb_value, accepts_every_type_in_its_simplest_form)
{
    assert_valid("{\"S\":\"\"}");
    assert_valid_as("{\"S\":\"h\\u00e9llo\"}", "{\"S\":\"h\xc3\xa9llo\"}");
    assert_valid("{\"N\":\"-12.5\"}");
    assert_valid("{\"B\":\"\"}");
    assert_valid("{\"B\":\"AAEC/w==\"}");
    assert_valid("{\"BOOL\":true}");
    assert_valid("{\"BOOL\":false}");
    assert_valid("{\"NULL\":true}");
    assert_valid("{\"M\":{}}");
    assert_valid("{\"L\":[]}");
    assert_valid("{\"SS\":[\"a\",\"\"]}");
    assert_valid("{\"NS\":[\"1\",\"2\"]}");
    assert_valid("{\"BS\":[\"AA==\",\"\"]}");
}

Test(ddb_value, normalises_a_number_in_place)
{
    assert_valid_as("{\"N\":\"5.10\"}", "{\"N\":\"5.1\"}");
    assert_valid_as("{\"N\":\"1e3\"}", "{\"N\":\"1000\"}");
    assert_valid_as("{\"N\":\"-0\"}", "{\"N\":\"0\"}");
    assert_valid_as("{\"N\":\"1e-5\"}", "{\"N\":\"0.00001\"}");
}

Test(ddb_value, normalises_numbers_inside_maps_lists_and_number_sets)
{
    assert_valid_as("{\"M\":{\"x\":{\"N\":\"5.10\"},\"y\":{\"L\":[{\"N\":\"1e3\"},"
                    "{\"NS\":[\"00012.3400\",\"-0\"]},{\"M\":{\"z\":{\"N\":\"+7.0\"}}}]}}}",
                    "{\"M\":{\"x\":{\"N\":\"5.1\"},\"y\":{\"L\":[{\"N\":\"1000\"},"
                    "{\"NS\":[\"12.34\",\"0\"]},{\"M\":{\"z\":{\"N\":\"7\"}}}]}}}");
}

Test(ddb_value, drops_members_that_are_not_the_type)
{
    assert_valid_as("{\"S\":\"x\",\"foo\":1,\"N\":null}", "{\"S\":\"x\"}");
    assert_valid_as("{\"M\":{\"a\":{\"s\":\"lower\",\"BOOL\":true}}}",
                    "{\"M\":{\"a\":{\"BOOL\":true}}}");
}

/* ---- validation: refused values ------------------------------------------ */

Test(ddb_value, refuses_an_empty_attribute_value)
{
    assert_refused("{}", EMPTY_AV);
    assert_refused("{\"foo\":\"x\"}", EMPTY_AV);
    assert_refused("{\"S\":null}", EMPTY_AV);
    assert_refused("{\"M\":{\"a\":{}}}", EMPTY_AV);
    assert_refused("{\"L\":[{}]}", EMPTY_AV);
    assert_refused("{\"L\":[null]}", EMPTY_AV);
    core_err err;
    cr_assert_eq(ddb_value_validate(NULL, &err), CORE_ERROR);
    cr_assert_str_eq(err.message, EMPTY_AV);
}

Test(ddb_value, refuses_more_than_one_datatype)
{
    assert_refused("{\"S\":\"a\",\"BOOL\":true}", MULTI_AV);
    assert_refused("{\"L\":[{\"S\":\"a\",\"N\":\"1\"}]}", MULTI_AV);
}

Test(ddb_value, reports_a_bad_number_before_a_second_datatype_as_aws_does)
{
    assert_refused("{\"S\":\"a\",\"N\":\"b\"}", NOT_A_NUMBER ": b");
}

Test(ddb_value, refuses_null_false)
{
    assert_refused("{\"NULL\":false}", INVALID "Null attribute value types must have the value of true");
}

Test(ddb_value, refuses_empty_sets_in_aws_words)
{
    assert_refused("{\"SS\":[]}", INVALID "An string set  may not be empty");
    assert_refused("{\"NS\":[]}", INVALID "An number set  may not be empty");
    assert_refused("{\"BS\":[]}", INVALID "Binary sets should not be empty");
}

Test(ddb_value, refuses_duplicates_in_a_string_set_and_lists_the_set)
{
    assert_refused("{\"SS\":[\"a\",\"a\"]}", INVALID "Input collection [a, a] contains duplicates.");
    assert_refused("{\"SS\":[\"a\",\"b\",\"a\"]}",
                   INVALID "Input collection [a, b, a] contains duplicates.");
    assert_refused("{\"SS\":[\"\",\"\"]}", INVALID "Input collection [, ] contains duplicates.");
}

Test(ddb_value, refuses_duplicates_in_a_binary_set_in_aws_words)
{
    assert_refused("{\"BS\":[\"Yg==\",\"Yg==\"]}",
                   INVALID "Input collection [Yg==, Yg==]of type BS contains duplicates.");
}

Test(ddb_value, refuses_numerically_equal_members_of_a_number_set)
{
    assert_refused("{\"NS\":[\"1\",\"1.0\"]}", "Input collection contains duplicates");
    assert_refused("{\"NS\":[\"1\",\"2\",\"01\"]}", "Input collection contains duplicates");
    assert_refused("{\"NS\":[\"-0\",\"0\"]}", "Input collection contains duplicates");
    assert_refused("{\"NS\":[\"1e2\",\"100\"]}", "Input collection contains duplicates");
}

Test(ddb_value, accepts_sets_whose_members_only_look_alike)
{
    assert_valid("{\"SS\":[\"a\",\"A\",\"a \"]}");
    assert_valid("{\"NS\":[\"1\",\"10\",\"-1\",\"0.1\"]}");
    assert_valid("{\"BS\":[\"AA==\",\"AAA=\",\"AAAA\"]}");
}

Test(ddb_value, refuses_an_invalid_number_with_its_text)
{
    assert_refused("{\"N\":\"abc\"}", NOT_A_NUMBER ": abc");
    assert_refused("{\"N\":\"\"}", NOT_A_NUMBER);
    assert_refused("{\"N\":\"1e126\"}",
                   "Number overflow. Attempting to store a number with magnitude larger than "
                   "supported range");
    assert_refused("{\"N\":\"123456789012345678901234567890123456789\"}",
                   "Attempting to store more than 38 significant digits in a Number");
}

Test(ddb_value, refuses_an_invalid_number_in_a_set)
{
    assert_refused("{\"NS\":[\"1\",\"x\"]}", NOT_A_NUMBER ": x");
    assert_refused("{\"NS\":[\"1\",\"\"]}", NOT_A_NUMBER);
    assert_refused("{\"NS\":[\"1e-131\"]}",
                   "Number underflow. Attempting to store a number with magnitude smaller than "
                   "supported range");
}

Test(ddb_value, refuses_invalid_base64_as_a_serialization_error)
{
    assert_malformed("{\"B\":\"abc\"}",
                     "Base64 encoded length is expected a multiple of 4 bytes but found: 3");
    assert_malformed("{\"B\":\"23456\"}",
                     "Base64 encoded length is expected a multiple of 4 bytes but found: 5");
    assert_malformed("{\"B\":\"ab!d\"}", "Invalid last non-pad Base64 character dectected");
    assert_malformed("{\"B\":\"=+/=\"}", "Invalid last non-pad Base64 character dectected");
    assert_malformed("{\"B\":\"+/+=\"}", "Invalid last non-pad Base64 character dectected");
    assert_malformed("{\"BS\":[\"AA==\",\"QQ\"]}",
                     "Base64 encoded length is expected a multiple of 4 bytes but found: 2");
    assert_malformed("{\"M\":{\"a\":{\"L\":[{\"B\":\"A===\"}]}}}",
                     "Invalid last non-pad Base64 character dectected");
}

Test(ddb_value, refuses_a_payload_of_the_wrong_json_kind_as_aws_does)
{
    assert_malformed("{\"S\":5}", "NUMBER_VALUE cannot be converted to String");
    assert_malformed("{\"S\":5.5}", "DECIMAL_VALUE cannot be converted to String");
    assert_malformed("{\"N\":true}", "TRUE_VALUE cannot be converted to String");
    assert_malformed("{\"S\":false}", "FALSE_VALUE cannot be converted to String");
    assert_malformed("{\"N\":[]}", "Unrecognized collection type class java.lang.String");
    assert_malformed("{\"S\":{}}", "Start of structure or map found where not expected");
    assert_malformed("{\"B\":5}", "only base-64-encoded strings are convertible to bytes");
    assert_malformed("{\"B\":[]}", "Unrecognized collection type class java.nio.ByteBuffer");
    assert_malformed("{\"BOOL\":\"yes\"}", "Unexpected token received from parser");
    assert_malformed("{\"NULL\":1}", "NUMBER_VALUE cannot be converted to Boolean");
    assert_malformed("{\"BOOL\":[]}", "Unrecognized collection type class java.lang.Boolean");
    assert_malformed("{\"L\":{}}", "Start of structure or map found where not expected");
    assert_malformed("{\"SS\":\"a\"}", "Unexpected field type");
    assert_malformed("{\"M\":\"a\"}", "Unexpected field type");
    assert_malformed("{\"M\":[]}", "Unrecognized collection type java.util.Map<java.lang.String, "
                                   "com.amazonaws.dynamodb.v20120810.AttributeValue>");
    assert_malformed("{\"L\":[5]}", "Unexpected value type in payload");
    assert_malformed("{\"L\":[[]]}", "Unrecognized collection type class "
                                     "com.amazonaws.dynamodb.v20120810.AttributeValue");
    assert_malformed("{\"SS\":[1]}", "NUMBER_VALUE cannot be converted to String");
    assert_malformed("{\"BS\":[true]}", "only base-64-encoded strings are convertible to bytes");
}

Test(ddb_value, reports_a_malformed_payload_before_any_rule)
{
    /* The empty first element breaks a rule; the second is malformed: shape wins. */
    assert_malformed("{\"L\":[{},{\"S\":1}]}", "NUMBER_VALUE cannot be converted to String");
}

Test(ddb_value, refuses_an_empty_attribute_name_inside_a_map)
{
    assert_refused("{\"M\":{\"\":{\"S\":\"x\"}}}", INVALID "Empty attribute name");
}

Test(ddb_value, accepts_32_levels_of_nested_maps)
{
    char *text = nested(32, "M");
    cJSON *av = json(text);
    core_err err;
    cr_assert_eq(ddb_value_validate(av, &err), CORE_OK, "%s", err.message);
    cJSON_Delete(av);
    free(text);
}

Test(ddb_value, refuses_33_levels_of_nested_maps)
{
    char *text = nested(33, "M");
    assert_refused(text, NESTING);
    free(text);
}

Test(ddb_value, counts_lists_and_maps_alike_toward_the_depth)
{
    char *ok = nested(32, "L");
    assert_valid(ok);
    free(ok);
    char *deep = nested(33, "L");
    assert_refused(deep, NESTING);
    free(deep);
    /* 31 list levels inside one map level, plus the leaf: 33. */
    char *inner = nested(32, "L");
    size_t cap = strlen(inner) + 32;
    char *mixed = malloc(cap);
    cr_assert_not_null(mixed);
    snprintf(mixed, cap, "{\"M\":{\"a\":%s}}", inner);
    assert_refused(mixed, NESTING);
    free(inner);
    free(mixed);
}

Test(ddb_value, survives_nesting_far_beyond_the_limit)
{
    char *text = nested(400, "L");
    assert_refused(text, NESTING);
    cJSON *av = json(text);
    cr_assert_eq(ddb_value_equal(av, av), 0);
    (void)ddb_value_size(av);
    cJSON_Delete(av);
    free(text);
}

/* ---- items --------------------------------------------------------------- */

Test(ddb_value, validates_and_normalises_every_attribute_of_an_item)
{
    cJSON *item = json("{\"id\":{\"S\":\"1\"},\"price\":{\"N\":\"12.50\"},"
                       "\"tags\":{\"NS\":[\"1e1\"]}}");
    core_err err;
    cr_assert_eq(ddb_item_validate(item, &err), CORE_OK, "%s", err.message);
    char *s = print(item);
    cr_assert_str_eq(s, "{\"id\":{\"S\":\"1\"},\"price\":{\"N\":\"12.5\"},\"tags\":{\"NS\":[\"10\"]}}");
    free(s);
    cJSON_Delete(item);
}

Test(ddb_value, refuses_an_item_with_an_empty_attribute_name)
{
    cJSON *item = json("{\"\":{\"S\":\"x\"}}");
    core_err err;
    cr_assert_eq(ddb_item_validate(item, &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "ValidationException");
    cr_assert_str_eq(err.message, INVALID "Empty attribute name");
    cJSON_Delete(item);
}

Test(ddb_value, refuses_an_item_with_an_invalid_attribute)
{
    cJSON *item = json("{\"a\":{\"S\":\"x\"},\"b\":{\"SS\":[]}}");
    core_err err;
    cr_assert_eq(ddb_item_validate(item, &err), CORE_ERROR);
    cr_assert_str_eq(err.message, INVALID "An string set  may not be empty");
    cJSON_Delete(item);
}

Test(ddb_value, applies_the_depth_limit_to_item_attributes)
{
    char *deep = nested(33, "M"), *ok = nested(32, "M");
    size_t cap = strlen(deep) + 16;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    core_err err;

    snprintf(text, cap, "{\"a\":%s}", ok);
    cJSON *item = json(text);
    cr_assert_eq(ddb_item_validate(item, &err), CORE_OK, "%s", err.message);
    cJSON_Delete(item);

    snprintf(text, cap, "{\"a\":%s}", deep);
    item = json(text);
    cr_assert_eq(ddb_item_validate(item, &err), CORE_ERROR);
    cr_assert_str_eq(err.message, NESTING);
    cJSON_Delete(item);
    free(deep);
    free(ok);
    free(text);
}

Test(ddb_value, refuses_an_item_that_is_not_a_map)
{
    cJSON *item = json("[]");
    core_err err;
    cr_assert_eq(ddb_item_validate(item, &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "SerializationException");
    cJSON_Delete(item);
}

/* ---- equality ------------------------------------------------------------ */

static int equal_text(const char *a, const char *b)
{
    cJSON *x = json(a), *y = json(b);
    int eq = ddb_value_equal(x, y);
    cr_assert_eq(ddb_value_equal(y, x), eq, "equality is not symmetric for %s, %s", a, b);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return eq;
}

Test(ddb_value, compares_scalars_for_equality)
{
    cr_assert(equal_text("{\"S\":\"a\"}", "{\"S\":\"a\"}"));
    cr_assert_not(equal_text("{\"S\":\"a\"}", "{\"S\":\"A\"}"));
    cr_assert(equal_text("{\"BOOL\":true}", "{\"BOOL\":true}"));
    cr_assert_not(equal_text("{\"BOOL\":true}", "{\"BOOL\":false}"));
    cr_assert(equal_text("{\"NULL\":true}", "{\"NULL\":true}"));
    cr_assert(equal_text("{\"B\":\"AQ==\"}", "{\"B\":\"AQ==\"}"));
    cr_assert_not(equal_text("{\"B\":\"AQ==\"}", "{\"B\":\"Ag==\"}"));
}

Test(ddb_value, finds_numbers_equal_by_value)
{
    cr_assert(equal_text("{\"N\":\"5.1\"}", "{\"N\":\"5.10\"}"));
    cr_assert(equal_text("{\"N\":\"1e3\"}", "{\"N\":\"1000\"}"));
    cr_assert(equal_text("{\"N\":\"-0\"}", "{\"N\":\"0\"}"));
    cr_assert_not(equal_text("{\"N\":\"1\"}", "{\"N\":\"1.0000001\"}"));
}

Test(ddb_value, finds_sets_equal_in_any_order)
{
    cr_assert(equal_text("{\"SS\":[\"a\",\"b\",\"c\"]}", "{\"SS\":[\"c\",\"a\",\"b\"]}"));
    cr_assert_not(equal_text("{\"SS\":[\"a\",\"b\"]}", "{\"SS\":[\"a\",\"b\",\"c\"]}"));
    cr_assert_not(equal_text("{\"SS\":[\"a\",\"b\"]}", "{\"SS\":[\"a\",\"c\"]}"));
    cr_assert(equal_text("{\"NS\":[\"1\",\"2\"]}", "{\"NS\":[\"2.0\",\"1\"]}"));
    cr_assert_not(equal_text("{\"NS\":[\"1\",\"2\"]}", "{\"NS\":[\"1\",\"3\"]}"));
    cr_assert(equal_text("{\"BS\":[\"AAE=\",\"Ag==\"]}", "{\"BS\":[\"Ag==\",\"AAE=\"]}"));
}

Test(ddb_value, compares_maps_deeply_by_key)
{
    cr_assert(equal_text("{\"M\":{\"a\":{\"L\":[{\"N\":\"1\"}]},\"b\":{\"S\":\"x\"}}}",
                         "{\"M\":{\"b\":{\"S\":\"x\"},\"a\":{\"L\":[{\"N\":\"1.0\"}]}}}"));
    cr_assert_not(equal_text("{\"M\":{\"a\":{\"S\":\"x\"}}}",
                             "{\"M\":{\"a\":{\"S\":\"x\"},\"b\":{\"S\":\"y\"}}}"));
    cr_assert_not(equal_text("{\"M\":{\"a\":{\"S\":\"x\"}}}", "{\"M\":{\"b\":{\"S\":\"x\"}}}"));
    cr_assert_not(equal_text("{\"M\":{\"a\":{\"M\":{\"z\":{\"N\":\"1\"}}}}}",
                             "{\"M\":{\"a\":{\"M\":{\"z\":{\"N\":\"2\"}}}}}"));
    cr_assert(equal_text("{\"M\":{}}", "{\"M\":{}}"));
}

Test(ddb_value, compares_lists_in_order)
{
    cr_assert(equal_text("{\"L\":[{\"S\":\"a\"},{\"N\":\"1\"}]}",
                         "{\"L\":[{\"S\":\"a\"},{\"N\":\"1.00\"}]}"));
    cr_assert_not(equal_text("{\"L\":[{\"S\":\"a\"},{\"S\":\"b\"}]}",
                             "{\"L\":[{\"S\":\"b\"},{\"S\":\"a\"}]}"));
    cr_assert_not(equal_text("{\"L\":[{\"S\":\"a\"}]}", "{\"L\":[{\"S\":\"a\"},{\"S\":\"a\"}]}"));
}

Test(ddb_value, never_finds_different_types_equal)
{
    cr_assert_not(equal_text("{\"S\":\"1\"}", "{\"N\":\"1\"}"));
    cr_assert_not(equal_text("{\"SS\":[\"1\"]}", "{\"NS\":[\"1\"]}"));
    cr_assert_not(equal_text("{\"L\":[]}", "{\"M\":{}}"));
    cr_assert_not(equal_text("{\"B\":\"AA==\"}", "{\"S\":\"AA==\"}"));
    cr_assert_not(equal_text("{\"NULL\":true}", "{\"BOOL\":true}"));
    cr_assert_not(equal_text("{\"L\":[{\"S\":\"a\"}]}", "{\"SS\":[\"a\"]}"));
}

Test(ddb_value, never_finds_invalid_values_equal)
{
    cr_assert_not(equal_text("{}", "{}"));
    cr_assert_not(equal_text("{\"S\":5}", "{\"S\":5}"));
    cr_assert_eq(ddb_value_equal(NULL, NULL), 0);
}

/* ---- ordering ------------------------------------------------------------ */

/* The ordering of a and b, or 99 when they are not comparable. */
static int order(const char *a, const char *b)
{
    cJSON *x = json(a), *y = json(b);
    int cmp = 42;
    int rc = ddb_value_compare(x, y, &cmp);
    cJSON_Delete(x);
    cJSON_Delete(y);
    if (rc != 0) {
        cr_assert_eq(rc, -1);
        return 99;
    }
    return cmp;
}

Test(ddb_value, orders_numbers_numerically)
{
    cr_assert_eq(order("{\"N\":\"10\"}", "{\"N\":\"9\"}"), 1);
    cr_assert_eq(order("{\"N\":\"-1\"}", "{\"N\":\"0.5\"}"), -1);
    cr_assert_eq(order("{\"N\":\"5.10\"}", "{\"N\":\"5.1\"}"), 0);
    cr_assert_eq(order("{\"N\":\"-10\"}", "{\"N\":\"-9\"}"), -1);
}

Test(ddb_value, orders_strings_by_utf8_bytes)
{
    cr_assert_eq(order("{\"S\":\"a\"}", "{\"S\":\"b\"}"), -1);
    cr_assert_eq(order("{\"S\":\"B\"}", "{\"S\":\"a\"}"), -1);
    cr_assert_eq(order("{\"S\":\"\\u00e9\"}", "{\"S\":\"z\"}"), 1);
    cr_assert_eq(order("{\"S\":\"\\u00e9\"}", "{\"S\":\"\\u4e2d\"}"), -1);
    cr_assert_eq(order("{\"S\":\"ab\"}", "{\"S\":\"a\"}"), 1);
    cr_assert_eq(order("{\"S\":\"\"}", "{\"S\":\"a\"}"), -1);
    cr_assert_eq(order("{\"S\":\"same\"}", "{\"S\":\"same\"}"), 0);
}

Test(ddb_value, orders_binaries_by_decoded_bytes)
{
    cr_assert_eq(order("{\"B\":\"AQ==\"}", "{\"B\":\"/w==\"}"), -1);
    cr_assert_eq(order("{\"B\":\"AAE=\"}", "{\"B\":\"AQ==\"}"), -1);
    cr_assert_eq(order("{\"B\":\"AQ==\"}", "{\"B\":\"AQA=\"}"), -1);
    cr_assert_eq(order("{\"B\":\"AQI=\"}", "{\"B\":\"AQI=\"}"), 0);
    /* "+" (62) sorts below "/" (63) and above letters in bytes, not in text. */
    cr_assert_eq(order("{\"B\":\"+A==\"}", "{\"B\":\"YQ==\"}"), 1);
}

Test(ddb_value, refuses_to_order_values_of_different_or_unordered_types)
{
    cr_assert_eq(order("{\"S\":\"1\"}", "{\"N\":\"1\"}"), 99);
    cr_assert_eq(order("{\"N\":\"1\"}", "{\"B\":\"AQ==\"}"), 99);
    cr_assert_eq(order("{\"BOOL\":true}", "{\"BOOL\":false}"), 99);
    cr_assert_eq(order("{\"SS\":[\"a\"]}", "{\"SS\":[\"b\"]}"), 99);
    cr_assert_eq(order("{\"L\":[]}", "{\"L\":[]}"), 99);
    cr_assert_eq(order("{\"N\":\"x\"}", "{\"N\":\"1\"}"), 99);
}

/* ---- sizes --------------------------------------------------------------- */

static size_t value_size(const char *text)
{
    cJSON *av = json(text);
    size_t n = ddb_value_size(av);
    cJSON_Delete(av);
    return n;
}

static size_t item_size(const char *text)
{
    cJSON *item = json(text);
    size_t n = ddb_item_size(item);
    cJSON_Delete(item);
    return n;
}

Test(ddb_value, sizes_a_string_by_its_utf8_bytes)
{
    cr_assert_eq(value_size("{\"S\":\"abc\"}"), 3);
    cr_assert_eq(item_size("{\"a\":{\"S\":\"abc\"}}"), 4);
    cr_assert_eq(value_size("{\"S\":\"\\u65e5\\u672c\"}"), 6);
    cr_assert_eq(item_size("{\"\\u00e9\":{\"S\":\"\\u65e5\\u672c\"}}"), 8);
    cr_assert_eq(value_size("{\"S\":\"\"}"), 0);
}

Test(ddb_value, sizes_a_number_by_its_significant_digits)
{
    cr_assert_eq(value_size("{\"N\":\"1000\"}"), 2);
    cr_assert_eq(value_size("{\"N\":\"12345\"}"), 4);
    cr_assert_eq(value_size("{\"N\":\"-0.00100\"}"), 2);
    cr_assert_eq(item_size("{\"price\":{\"N\":\"12.5\"}}"), 5 + 3);
}

Test(ddb_value, sizes_a_binary_by_its_raw_bytes)
{
    cr_assert_eq(value_size("{\"B\":\"AQID\"}"), 3);
    cr_assert_eq(value_size("{\"B\":\"AQ==\"}"), 1);
    cr_assert_eq(value_size("{\"B\":\"\"}"), 0);
}

Test(ddb_value, sizes_booleans_and_nulls_at_one_byte)
{
    cr_assert_eq(value_size("{\"BOOL\":false}"), 1);
    cr_assert_eq(value_size("{\"NULL\":true}"), 1);
    cr_assert_eq(item_size("{\"ok\":{\"BOOL\":true}}"), 3);
}

Test(ddb_value, sizes_maps_and_lists_with_their_overhead)
{
    cr_assert_eq(value_size("{\"M\":{}}"), 3);
    cr_assert_eq(value_size("{\"L\":[]}"), 3);
    /* 3 + (name 1 + "bc" 2 + 1 per element) */
    cr_assert_eq(value_size("{\"M\":{\"a\":{\"S\":\"bc\"}}}"), 7);
    /* 3 + ("ab" 2 + 1) + (N "1" 2 + 1) */
    cr_assert_eq(value_size("{\"L\":[{\"S\":\"ab\"},{\"N\":\"1\"}]}"), 9);
    /* 3 + (name 1 + inner (3 + (1 + 1 + 1)) + 1) */
    cr_assert_eq(value_size("{\"M\":{\"m\":{\"M\":{\"x\":{\"BOOL\":true}}}}}"), 3 + 1 + 6 + 1);
}

Test(ddb_value, sizes_sets_as_the_sum_of_their_members)
{
    cr_assert_eq(value_size("{\"SS\":[\"ab\",\"c\"]}"), 3);
    cr_assert_eq(value_size("{\"NS\":[\"1\",\"100\"]}"), 4);
    cr_assert_eq(value_size("{\"BS\":[\"AQ==\",\"AQI=\"]}"), 3);
}

Test(ddb_value, sizes_an_item_as_names_plus_values)
{
    cr_assert_eq(item_size("{\"id\":{\"S\":\"abc\"},\"n\":{\"N\":\"12345\"},"
                           "\"l\":{\"L\":[{\"NULL\":true}]}}"),
                 (2 + 3) + (1 + 4) + (1 + 3 + 1 + 1));
    cr_assert_eq(item_size("{}"), 0);
    cr_assert_eq(ddb_item_size(NULL), 0);
}

/* ---- key bytes ----------------------------------------------------------- */

typedef struct key_bytes {
    unsigned char *bytes;
    size_t len;
} key_bytes;

static key_bytes key_of(const char *av_text)
{
    cJSON *av = json(av_text);
    key_bytes k = {NULL, 0};
    core_err err;
    cr_assert_eq(ddb_value_key_encode(av, &k.bytes, &k.len, &err), CORE_OK, "%s: %s", av_text,
                 err.message);
    cJSON_Delete(av);
    return k;
}

static int key_cmp(const key_bytes *a, const key_bytes *b)
{
    size_t common = a->len < b->len ? a->len : b->len;
    int c = common ? memcmp(a->bytes, b->bytes, common) : 0;
    if (c != 0)
        return c < 0 ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

static void assert_keys_ascend(const char *const *values, size_t n)
{
    key_bytes *keys = calloc(n, sizeof *keys);
    cr_assert_not_null(keys);
    for (size_t i = 0; i < n; i++)
        keys[i] = key_of(values[i]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int want = (i > j) - (i < j);
            cr_assert_eq(key_cmp(&keys[i], &keys[j]), want, "%s vs %s", values[i], values[j]);
        }
    for (size_t i = 0; i < n; i++)
        free(keys[i].bytes);
    free(keys);
}

Test(ddb_value, orders_string_keys_by_utf8_bytes)
{
    const char *values[] = {"{\"S\":\"\"}",        "{\"S\":\"A\"}",       "{\"S\":\"Z\"}",
                            "{\"S\":\"a\"}",       "{\"S\":\"ab\"}",      "{\"S\":\"b\"}",
                            "{\"S\":\"z\"}",       "{\"S\":\"\\u00e9\"}", "{\"S\":\"\\u4e2d\"}",
                            "{\"S\":\"\\ud83d\\ude00\"}"};
    assert_keys_ascend(values, sizeof values / sizeof *values);
    key_bytes k = key_of("{\"S\":\"h\\u00e9\"}");
    cr_assert_eq(k.len, 3);
    cr_assert_eq(memcmp(k.bytes, "h\xc3\xa9", 3), 0);
    free(k.bytes);
}

Test(ddb_value, orders_binary_keys_by_decoded_bytes)
{
    const char *values[] = {"{\"B\":\"AA==\"}", "{\"B\":\"AAA=\"}", "{\"B\":\"AAE=\"}",
                            "{\"B\":\"AQ==\"}", "{\"B\":\"YQ==\"}", "{\"B\":\"+A==\"}",
                            "{\"B\":\"/w==\"}", "{\"B\":\"//8=\"}"};
    assert_keys_ascend(values, sizeof values / sizeof *values);
    key_bytes k = key_of("{\"B\":\"AQID\"}");
    cr_assert_eq(k.len, 3);
    cr_assert_eq(memcmp(k.bytes, "\x01\x02\x03", 3), 0);
    free(k.bytes);
}

Test(ddb_value, orders_number_keys_numerically)
{
    const char *values[] = {"{\"N\":\"-1e125\"}", "{\"N\":\"-10\"}", "{\"N\":\"-9.5\"}",
                            "{\"N\":\"-1\"}",     "{\"N\":\"-0.5\"}", "{\"N\":\"0\"}",
                            "{\"N\":\"1e-130\"}", "{\"N\":\"0.5\"}", "{\"N\":\"0.501\"}",
                            "{\"N\":\"1\"}",      "{\"N\":\"9\"}",   "{\"N\":\"10\"}",
                            "{\"N\":\"1e125\"}"};
    assert_keys_ascend(values, sizeof values / sizeof *values);
    key_bytes a = key_of("{\"N\":\"5.10\"}"), b = key_of("{\"N\":\"5.1\"}");
    cr_assert_eq(key_cmp(&a, &b), 0);
    free(a.bytes);
    free(b.bytes);
}

Test(ddb_value, refuses_key_bytes_for_values_that_cannot_be_keys)
{
    const char *bad[] = {"{\"BOOL\":true}", "{\"SS\":[\"a\"]}", "{\"M\":{}}", "{}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *av = json(bad[i]);
        unsigned char *out = NULL;
        size_t len = 0;
        core_err err;
        core_err_clear(&err);
        cr_assert_eq(ddb_value_key_encode(av, &out, &len, &err), CORE_ERROR, "%s", bad[i]);
        cr_assert_null(out);
        cr_assert_str_eq(err.type, "ValidationException");
        cJSON_Delete(av);
    }
    cJSON *n = json("{\"N\":\"abc\"}");
    unsigned char *out = NULL;
    size_t len;
    core_err err;
    cr_assert_eq(ddb_value_key_encode(n, &out, &len, &err), CORE_ERROR);
    cr_assert_str_eq(err.message, NOT_A_NUMBER ": abc");
    cJSON_Delete(n);
}

/* ---- base64 -------------------------------------------------------------- */

Test(ddb_value, encodes_base64_as_rfc_4648_shows)
{
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        char *s = ddb_base64_encode((const unsigned char *)plain[i], strlen(plain[i]));
        cr_assert_not_null(s);
        cr_assert_str_eq(s, coded[i]);
        free(s);
        size_t len = 99;
        unsigned char *d = ddb_base64_decode(coded[i], &len);
        cr_assert_not_null(d, "%s", coded[i]);
        cr_assert_eq(len, strlen(plain[i]));
        cr_assert_eq(memcmp(d, plain[i], len), 0);
        free(d);
    }
}

Test(ddb_value, round_trips_every_byte_through_base64)
{
    unsigned char data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 37 + 11);
    data[0] = 0x00;
    data[1] = 0xFF;
    for (size_t n = 0; n <= 70; n++) {
        char *s = ddb_base64_encode(data, n);
        cr_assert_not_null(s);
        cr_assert_eq(strlen(s), (n + 2) / 3 * 4);
        size_t len = 0;
        unsigned char *d = ddb_base64_decode(s, &len);
        cr_assert_not_null(d, "length %zu: %s", n, s);
        cr_assert_eq(len, n);
        cr_assert_eq(memcmp(d, data, n), 0);
        free(d);
        free(s);
    }
}

Test(ddb_value, round_trips_a_large_binary)
{
    size_t n = 200 * 1024 + 1;
    unsigned char *data = malloc(n);
    cr_assert_not_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i ^ (i >> 8));
    char *s = ddb_base64_encode(data, n);
    cr_assert_not_null(s);
    size_t len = 0;
    unsigned char *d = ddb_base64_decode(s, &len);
    cr_assert_not_null(d);
    cr_assert_eq(len, n);
    cr_assert_eq(memcmp(d, data, n), 0);
    free(d);
    free(s);
    free(data);
}

Test(ddb_value, decodes_base64_strictly)
{
    const char *bad[] = {"Zg=",   "Zg",    "Zm9v=", "Zh==",   "Zm9=",     "Z===",
                         "====",  "Zm 9v", "Zm9v\n", "Zm-9",  "Zm_9",     "=Zm9",
                         "Zg==Zg==", "Zm9v====", "\xc3\xa9\xc3\xa9", "Zm9\x01"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t len = 12345;
        cr_assert_null(ddb_base64_decode(bad[i], &len), "accepted \"%s\"", bad[i]);
        cr_assert_eq(len, 12345, "len written for \"%s\"", bad[i]);
    }
    cr_assert_null(ddb_base64_decode(NULL, NULL));
}

Test(ddb_value, decodes_the_empty_text_to_zero_bytes)
{
    size_t len = 99;
    unsigned char *d = ddb_base64_decode("", &len);
    cr_assert_not_null(d);
    cr_assert_eq(len, 0);
    free(d);
}
