/*
 * test_yaml.c — core_yaml_parse: CloudFormation-flavoured YAML to cJSON.
 *
 * Each test parses one inline document and compares the whole tree, printed as
 * compact JSON, with the exact expected text; errors are compared by message,
 * which always starts with the 1-based line ("line N: ..."). The fixture owns
 * the parsed tree so a failing assertion still frees it (valgrind stays clean).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "core/yaml.h"

static cJSON *doc;
static core_err err;
static char printed[1 << 16];

static void setup(void)
{
    doc = NULL;
    core_err_clear(&err);
}

static void teardown(void)
{
    cJSON_Delete(doc);
    doc = NULL;
}

TestSuite(core_yaml, .init = setup, .fini = teardown);

/* Parse text (its strlen) into the fixture's doc; returns the rc. */
static int parse(const char *text)
{
    cJSON_Delete(doc);
    doc = NULL;
    return core_yaml_parse(text, strlen(text), &doc, &err);
}

/* The fixture's doc as compact JSON (borrowed, valid until the next call). */
static const char *doc_json(void)
{
    cr_assert_not_null(doc);
    cr_assert(cJSON_PrintPreallocated(doc, printed, (int)sizeof printed, 0),
              "document too large to print");
    return printed;
}

static void assert_parses_to(const char *text, const char *expected_json)
{
    int rc = parse(text);
    cr_assert_eq(rc, CORE_OK, "parse failed: %s", err.message);
    cr_assert_str_eq(doc_json(), expected_json);
}

static void assert_refused(const char *text, const char *expected_message)
{
    int rc = parse(text);
    cr_assert_eq(rc, CORE_ERROR, "parse of %s should fail", text);
    cr_assert_null(doc);
    cr_assert_str_eq(err.type, "ValidationError");
    cr_assert_eq(err.status, 400);
    cr_assert_str_eq(err.message, expected_message);
}

/* "[[[...]]]" with `levels` brackets around `inner`; caller frees. */
static char *nested_flow_lists(size_t levels, const char *inner)
{
    size_t n = strlen(inner);
    char *s = malloc(2 * levels + n + 1);
    cr_assert_not_null(s);
    memset(s, '[', levels);
    memcpy(s + levels, inner, n);
    memset(s + levels + n, ']', levels);
    s[2 * levels + n] = '\0';
    return s;
}

/* ---- plain scalars -------------------------------------------------------- */

Test(core_yaml, types_plain_integers_as_numbers)
{
    assert_parses_to("a: 42\nb: -7\nc: 0\n", "{\"a\":42,\"b\":-7,\"c\":0}");
}

Test(core_yaml, keeps_digits_with_leading_zeros_as_strings)
{
    assert_parses_to("a: 000123\nb: 007\n", "{\"a\":\"000123\",\"b\":\"007\"}");
}

Test(core_yaml, types_integers_of_up_to_15_digits_and_keeps_longer_ones_as_strings)
{
    assert_parses_to("a: 123456789012345\nb: 1234567890123456\n",
                     "{\"a\":123456789012345,\"b\":\"1234567890123456\"}");
}

Test(core_yaml, types_simple_decimals_as_numbers)
{
    assert_parses_to("a: 3.25\nb: -0.5\nc: 0.75\n", "{\"a\":3.25,\"b\":-0.5,\"c\":0.75}");
}

Test(core_yaml, keeps_version_like_and_partial_decimals_as_strings)
{
    assert_parses_to("a: 1.2.3\nb: 1.\nc: .5\nd: 00.5\ne: 1e5\n",
                     "{\"a\":\"1.2.3\",\"b\":\"1.\",\"c\":\".5\",\"d\":\"00.5\",\"e\":\"1e5\"}");
}

Test(core_yaml, types_true_and_false_in_their_three_spellings_as_booleans)
{
    assert_parses_to("a: true\nb: True\nc: TRUE\nd: false\ne: False\nf: FALSE\n",
                     "{\"a\":true,\"b\":true,\"c\":true,\"d\":false,\"e\":false,\"f\":false}");
}

Test(core_yaml, keeps_yaml_1_1_yes_no_on_off_as_strings)
{
    assert_parses_to("a: yes\nb: no\nc: on\nd: off\n",
                     "{\"a\":\"yes\",\"b\":\"no\",\"c\":\"on\",\"d\":\"off\"}");
}

Test(core_yaml, types_null_tilde_and_empty_values_as_null)
{
    assert_parses_to("a: null\nb: ~\nc:\nd: NULL\n",
                     "{\"a\":null,\"b\":null,\"c\":null,\"d\":null}");
}

Test(core_yaml, keeps_single_and_double_quoted_scalars_as_strings)
{
    assert_parses_to("a: '42'\nb: \"true\"\nc: ''\nd: \"~\"\ne: '3.5'\n",
                     "{\"a\":\"42\",\"b\":\"true\",\"c\":\"\",\"d\":\"~\",\"e\":\"3.5\"}");
}

Test(core_yaml, keeps_block_literal_text_with_its_newlines)
{
    assert_parses_to("a: |\n  x\n  y\nb: >-\n  p\n  q\n", "{\"a\":\"x\\ny\\n\",\"b\":\"p q\"}");
}

Test(core_yaml, keeps_double_bang_str_tagged_scalars_as_their_text)
{
    assert_parses_to("a: !!str 123\nb: !!str true\nc: !!str 0.10\nd: !!str ~\n",
                     "{\"a\":\"123\",\"b\":\"true\",\"c\":\"0.10\",\"d\":\"~\"}");
}

Test(core_yaml, keeps_block_sequences_and_mappings_in_order)
{
    assert_parses_to("z:\n  - 1\n  - two\na:\n  y: 1\n  b: 2\n",
                     "{\"z\":[1,\"two\"],\"a\":{\"y\":1,\"b\":2}}");
}

/* ---- short-form intrinsic tags -------------------------------------------- */

Test(core_yaml, rewrites_ref_tag_to_long_form)
{
    assert_parses_to("a: !Ref MyBucket\n", "{\"a\":{\"Ref\":\"MyBucket\"}}");
}

Test(core_yaml, keeps_a_tagged_number_as_the_string_argument_of_ref)
{
    assert_parses_to("a: !Ref 42\n", "{\"a\":{\"Ref\":\"42\"}}");
}

Test(core_yaml, splits_dotted_getatt_at_the_first_dot)
{
    assert_parses_to("a: !GetAtt A.B.C\n", "{\"a\":{\"Fn::GetAtt\":[\"A\",\"B.C\"]}}");
}

Test(core_yaml, rewrites_getatt_list_form_unchanged)
{
    assert_parses_to("a: !GetAtt [Table, StreamArn]\n",
                     "{\"a\":{\"Fn::GetAtt\":[\"Table\",\"StreamArn\"]}}");
}

Test(core_yaml, rejects_dotted_getatt_without_an_attribute)
{
    assert_refused("a: 1\nb: !GetAtt Table\n", "line 2: !GetAtt needs LogicalId.Attribute");
}

Test(core_yaml, rejects_dotted_getatt_with_an_empty_logical_id)
{
    assert_refused("b: !GetAtt .Arn\n", "line 1: !GetAtt needs LogicalId.Attribute");
}

Test(core_yaml, rewrites_sub_string_form_to_long_form)
{
    assert_parses_to("a: !Sub '${AWS::StackName}-x'\n",
                     "{\"a\":{\"Fn::Sub\":\"${AWS::StackName}-x\"}}");
}

Test(core_yaml, rewrites_sub_list_form_to_long_form)
{
    assert_parses_to("a: !Sub ['${A}-${B}', {A: 1, B: !Ref P}]\n",
                     "{\"a\":{\"Fn::Sub\":[\"${A}-${B}\",{\"A\":1,\"B\":{\"Ref\":\"P\"}}]}}");
}

Test(core_yaml, rewrites_join_tag_to_long_form)
{
    assert_parses_to("a: !Join ['-', [x, !Ref Y]]\n",
                     "{\"a\":{\"Fn::Join\":[\"-\",[\"x\",{\"Ref\":\"Y\"}]]}}");
}

Test(core_yaml, rewrites_select_tag_to_long_form)
{
    assert_parses_to("a: !Select [1, [x, y]]\n", "{\"a\":{\"Fn::Select\":[1,[\"x\",\"y\"]]}}");
}

Test(core_yaml, rewrites_split_tag_to_long_form)
{
    assert_parses_to("a: !Split [',', 'x,y']\n", "{\"a\":{\"Fn::Split\":[\",\",\"x,y\"]}}");
}

Test(core_yaml, rewrites_if_tag_to_long_form)
{
    assert_parses_to("a: !If [IsProd, 1, 2]\n", "{\"a\":{\"Fn::If\":[\"IsProd\",1,2]}}");
}

Test(core_yaml, rewrites_equals_tag_to_long_form)
{
    assert_parses_to("a: !Equals [!Ref Env, prod]\n",
                     "{\"a\":{\"Fn::Equals\":[{\"Ref\":\"Env\"},\"prod\"]}}");
}

Test(core_yaml, rewrites_and_tag_to_long_form)
{
    assert_parses_to("a: !And [!Condition A, !Condition B]\n",
                     "{\"a\":{\"Fn::And\":[{\"Condition\":\"A\"},{\"Condition\":\"B\"}]}}");
}

Test(core_yaml, rewrites_or_tag_to_long_form)
{
    assert_parses_to("a: !Or [!Condition A, !Condition B]\n",
                     "{\"a\":{\"Fn::Or\":[{\"Condition\":\"A\"},{\"Condition\":\"B\"}]}}");
}

Test(core_yaml, rewrites_not_tag_to_long_form)
{
    assert_parses_to("a: !Not [!Condition A]\n",
                     "{\"a\":{\"Fn::Not\":[{\"Condition\":\"A\"}]}}");
}

Test(core_yaml, rewrites_condition_tag_to_long_form)
{
    assert_parses_to("a: !Condition IsProd\n", "{\"a\":{\"Condition\":\"IsProd\"}}");
}

Test(core_yaml, rewrites_find_in_map_tag_to_long_form)
{
    assert_parses_to("a: !FindInMap [M, !Ref AWS::Region, Ami]\n",
                     "{\"a\":{\"Fn::FindInMap\":[\"M\",{\"Ref\":\"AWS::Region\"},\"Ami\"]}}");
}

Test(core_yaml, rewrites_base64_tag_to_long_form)
{
    assert_parses_to("a: !Base64 hello\n", "{\"a\":{\"Fn::Base64\":\"hello\"}}");
}

Test(core_yaml, rewrites_get_azs_tag_to_long_form)
{
    assert_parses_to("a: !GetAZs ''\n", "{\"a\":{\"Fn::GetAZs\":\"\"}}");
}

Test(core_yaml, rewrites_import_value_tag_to_long_form)
{
    assert_parses_to("a: !ImportValue Shared\n", "{\"a\":{\"Fn::ImportValue\":\"Shared\"}}");
}

Test(core_yaml, rewrites_nested_short_forms_inside_out)
{
    assert_parses_to("a: !Join ['', [!Select [0, !Split [',', !Ref L]]]]\n",
                     "{\"a\":{\"Fn::Join\":[\"\",[{\"Fn::Select\":[0,{\"Fn::Split\":"
                     "[\",\",{\"Ref\":\"L\"}]}]}]]}}");
}

Test(core_yaml, keeps_long_form_intrinsics_as_plain_mappings)
{
    assert_parses_to("a:\n  Fn::GetAtt: [T, Arn]\n",
                     "{\"a\":{\"Fn::GetAtt\":[\"T\",\"Arn\"]}}");
}

/* ---- refusals ------------------------------------------------------------- */

Test(core_yaml, rejects_an_unknown_tag_naming_it_and_its_line)
{
    assert_refused("a: 1\nb: !Bogus x\n", "line 2: unknown tag: !Bogus");
}

Test(core_yaml, rejects_an_unknown_tag_on_a_sequence)
{
    assert_refused("a:\n  b: !Nope [1, 2]\n", "line 2: unknown tag: !Nope");
}

Test(core_yaml, reports_an_unclosed_flow_sequence_with_its_line)
{
    int rc = parse("a: 1\nb: [1, 2\nc: 3\n");
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_null(doc);
    cr_assert_str_eq(err.message,
                     "line 3: did not find expected ',' or ']' while parsing a flow sequence");
}

Test(core_yaml, reports_a_bad_indentation_with_its_line)
{
    assert_refused("a: 1\nb: 2\nc:\n  - 1\n d: 2\n",
                   "line 5: did not find expected key while parsing a block mapping");
}

Test(core_yaml, reports_a_mapping_value_in_a_scalar_with_its_line)
{
    int rc = parse("a: 1\n  b: 2\n");
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert(strstr(err.message, "line 2") == err.message, "message: %s", err.message);
}

Test(core_yaml, rejects_a_duplicate_key_naming_it_and_its_line)
{
    assert_refused("a: 1\nb: 2\na: 3\n", "line 3: duplicate key: a");
}

Test(core_yaml, rejects_a_duplicate_key_in_a_nested_mapping)
{
    assert_refused("top:\n  x: 1\n  x: 2\n", "line 3: duplicate key: x");
}

Test(core_yaml, rejects_an_anchor_on_a_scalar)
{
    assert_refused("a: &x 1\n", "line 1: anchors are not supported in templates");
}

Test(core_yaml, rejects_an_anchor_on_a_mapping)
{
    assert_refused("a: &x {b: 1}\n", "line 1: anchors are not supported in templates");
}

Test(core_yaml, rejects_an_anchor_on_a_sequence)
{
    assert_refused("a: 1\nb: &x [1]\n", "line 2: anchors are not supported in templates");
}

Test(core_yaml, rejects_an_anchor_on_a_mapping_key)
{
    assert_refused("a: 1\n&k b: 2\n", "line 2: anchors are not supported in templates");
}

Test(core_yaml, rejects_an_alias)
{
    assert_refused("a: 1\nb: *x\n", "line 2: aliases are not supported in templates");
}

Test(core_yaml, rejects_an_alias_as_a_mapping_key)
{
    assert_refused("*x : 1\n", "line 1: mapping keys must be plain strings");
}

Test(core_yaml, rejects_a_complex_mapping_key)
{
    assert_refused("? [a, b]\n: c\n", "line 1: mapping keys must be plain strings");
}

Test(core_yaml, rejects_a_tagged_mapping_key)
{
    assert_refused("!Ref a: b\n", "line 1: mapping keys must be plain strings");
}

Test(core_yaml, accepts_nodes_nested_max_depth_levels_below_the_root)
{
    char *text = nested_flow_lists(CORE_YAML_MAX_DEPTH, "1");
    int rc = parse(text);
    free(text);
    cr_assert_eq(rc, CORE_OK, "parse failed: %s", err.message);
    const cJSON *node = doc;
    for (int i = 0; i < CORE_YAML_MAX_DEPTH; i++) {
        cr_assert(cJSON_IsArray(node));
        node = node->child;
    }
    cr_assert(cJSON_IsNumber(node));
    cr_assert_eq(node->valueint, 1);
}

Test(core_yaml, rejects_nodes_nested_deeper_than_max_depth)
{
    char *text = nested_flow_lists(CORE_YAML_MAX_DEPTH + 1, "1");
    int rc = parse(text);
    free(text);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_null(doc);
    cr_assert_str_eq(err.message, "line 1: nesting too deep");
}

Test(core_yaml, rejects_deep_block_mappings)
{
    /* a:\n b:\n  c:\n ... one level per line, 200 levels */
    size_t levels = 200, cap = levels * (levels + 8) + 16, used = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    for (size_t i = 0; i < levels; i++) {
        memset(text + used, ' ', i);
        used += i;
        used += (size_t)snprintf(text + used, cap - used, "k%zu:\n", i);
    }
    memset(text + used, ' ', levels);
    used += levels;
    snprintf(text + used, cap - used, "leaf\n");
    int rc = parse(text);
    free(text);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_str_eq(err.message, "line 130: nesting too deep");
}

Test(core_yaml, rejects_a_hundred_thousand_nested_flow_lists_without_crashing)
{
    char *text = nested_flow_lists(100000, "");
    int rc = parse(text);
    free(text);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_null(doc);
    cr_assert_str_eq(err.message, "line 1: nesting too deep");
}

Test(core_yaml, rejects_unbalanced_deep_nesting_without_crashing)
{
    char *text = nested_flow_lists(100000, "");
    text[100000] = '\0'; /* only the opening brackets */
    int rc = parse(text);
    free(text);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_str_eq(err.message, "line 1: nesting too deep");
}

Test(core_yaml, parses_a_flow_list_of_ten_thousand_elements)
{
    size_t n = 10000, cap = n * 8 + 8, used = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    text[used++] = '[';
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, cap - used, "%s%zu", i ? "," : "", i);
    text[used++] = ']';
    text[used] = '\0';
    int rc = parse(text);
    free(text);
    cr_assert_eq(rc, CORE_OK, "parse failed: %s", err.message);
    cr_assert_eq(cJSON_GetArraySize(doc), 10000);
    cr_assert_eq(cJSON_GetArrayItem(doc, 0)->valueint, 0);
    cr_assert_eq(cJSON_GetArrayItem(doc, 9999)->valueint, 9999);
}

Test(core_yaml, rejects_input_larger_than_max_bytes_before_parsing)
{
    size_t len = CORE_YAML_MAX_BYTES + 1;
    char *text = malloc(len);
    cr_assert_not_null(text);
    memset(text, '#', len); /* a valid comment, were it parsed */
    int rc = core_yaml_parse(text, len, &doc, &err);
    free(text);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_null(doc);
    cr_assert_str_eq(err.message, "template is 4194305 bytes, larger than the 4194304 byte limit");
}

Test(core_yaml, accepts_input_of_exactly_max_bytes)
{
    size_t len = CORE_YAML_MAX_BYTES;
    char *text = malloc(len);
    cr_assert_not_null(text);
    memset(text, ' ', len);
    memcpy(text, "a: 1\n", 5);
    int rc = core_yaml_parse(text, len, &doc, &err);
    free(text);
    cr_assert_eq(rc, CORE_OK, "parse failed: %s", err.message);
    cr_assert_str_eq(doc_json(), "{\"a\":1}");
}

Test(core_yaml, rejects_a_nul_byte_inside_the_input)
{
    static const char text[] = "a: 1\0b: 2\n";
    int rc = core_yaml_parse(text, sizeof text - 1, &doc, &err);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_null(doc);
    cr_assert_str_eq(err.message, "template contains a NUL byte");
}

Test(core_yaml, reads_only_len_bytes_of_an_unterminated_buffer)
{
    static const char text[] = {'a', ':', ' ', '1', '\n', 'b'};
    int rc = core_yaml_parse(text, 5, &doc, &err);
    cr_assert_eq(rc, CORE_OK, "parse failed: %s", err.message);
    cr_assert_str_eq(doc_json(), "{\"a\":1}");
}

Test(core_yaml, rejects_an_empty_input)
{
    assert_refused("", "line 1: the template is empty");
}

Test(core_yaml, rejects_an_input_of_only_comments_and_blank_lines)
{
    assert_refused("# nothing here\n\n   \n", "line 1: the template is empty");
}

Test(core_yaml, rejects_a_second_document_naming_its_line)
{
    assert_refused("a: 1\n---\nb: 2\n", "line 2: a template is one YAML document; found another");
}

Test(core_yaml, accepts_one_document_with_explicit_start_and_end_markers)
{
    assert_parses_to("---\na: 1\n...\n", "{\"a\":1}");
}

Test(core_yaml, accepts_json_input)
{
    assert_parses_to("{\"a\": [1, \"x\", true, null, 2.5], \"b\": {\"c\": \"007\"}}",
                     "{\"a\":[1,\"x\",true,null,2.5],\"b\":{\"c\":\"007\"}}");
}

Test(core_yaml, accepts_a_top_level_sequence)
{
    assert_parses_to("- a\n- 1\n", "[\"a\",1]");
}
