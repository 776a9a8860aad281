/*
 * test_form.c — core/form.c (form-encoded bodies of the AWS Query protocol) and
 * core/xml.c (the escaping XML writer): decoding, members, and malformed,
 * oversized and hostile input — bad escapes, missing '=', empty and repeated
 * names, %00 and raw NUL bytes, text that is not UTF-8, huge and malformed
 * member indexes, bodies and names over their limits, 3,000 random bodies —
 * each refused with an AWS-shaped error, never truncated.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/form.h"
#include "core/xml.h"

static core_form *parse_ok(const char *body)
{
    core_form *f = NULL;
    core_err err;
    core_err_clear(&err);
    cr_assert_eq(core_form_parse(body, strlen(body), NULL, &f, &err), CORE_OK, "%s: %s", body,
                 err.message);
    return f;
}

Test(core_form, decodes_names_and_values_with_escapes_and_plus)
{
    core_form *f = parse_ok("Action=Publish&Message=a+b%20c%26d%3D%2B&Subject=%C3%A9t%C3%A9"
                            "&E=%F0%9F%98%80%EF%BF%BD");
    cr_assert_eq(core_form_count(f), 4);
    cr_assert_str_eq(core_form_get(f, "E"), "\xF0\x9F\x98\x80\xEF\xBF\xBD");
    cr_assert_str_eq(core_form_get(f, "Action"), "Publish");
    cr_assert_str_eq(core_form_get(f, "Message"), "a b c&d=+");
    cr_assert_str_eq(core_form_get(f, "Subject"), "\xC3\xA9t\xC3\xA9");
    cr_assert_null(core_form_get(f, "Nope"));
    cr_assert_str_eq(core_form_name_at(f, 1), "Message");
    cr_assert_null(core_form_name_at(f, 4));
    core_form_free(f);
}

Test(core_form, accepts_empty_values_bodies_and_stray_ampersands)
{
    core_form *f = parse_ok("");
    cr_assert_eq(core_form_count(f), 0);
    cr_assert_null(core_form_get(f, "a"));
    core_form_free(f);
    f = parse_ok("&a=&&b=2&");
    cr_assert_eq(core_form_count(f), 2);
    cr_assert_str_eq(core_form_get(f, "a"), "");
    cr_assert_str_eq(core_form_get(f, "b"), "2");
    core_form_free(f);
    core_form_free(NULL);
}

Test(core_form, refuses_malformed_and_hostile_bodies)
{
    static const struct {
        const char *body;
        const char *type;
        const char *says;
    } cases[] = {
        {"a=%zz", "MalformedQueryString", "malformed %-escape"},
        {"a=%4", "MalformedQueryString", "malformed %-escape"},
        {"a=ok&b=%", "MalformedQueryString", "'b'"},
        {"%zz=1", "MalformedQueryString", "malformed"},
        {"a=1&novalue", "MalformedQueryString", "'novalue' has no '='"},
        {"=x", "MalformedQueryString", "empty name"},
        {"a=1&=x", "MalformedQueryString", "empty name"},
        {"a=1&a=2", "MalformedQueryString", "'a' is given more than once"},
        {"a=1&b=2&a=1", "MalformedQueryString", "more than once"},
        {"a%3D=1&a%3d=2", "MalformedQueryString", "more than once"},
        {"Message=a%00b", "MalformedQueryString", "NUL"},
        {"Na%00me=x", "MalformedQueryString", "NUL"},
        {"\x01\x02=%zz", "MalformedQueryString", "'\?\?'"},
        /* Decoded text must be UTF-8: a stray byte, a cut sequence, an overlong
         * '/', a surrogate, raw (unescaped) bad bytes, in a value or a name. */
        {"Message=%FF", "MalformedQueryString", "'Message' is not valid UTF-8"},
        {"Message=ab%C3", "MalformedQueryString", "not valid UTF-8"},
        {"Message=%C0%AF", "MalformedQueryString", "not valid UTF-8"},
        {"Message=%ED%A0%80", "MalformedQueryString", "not valid UTF-8"},
        {"Message=%F4%90%80%80", "MalformedQueryString", "not valid UTF-8"},
        {"Message=\xff\xfe", "MalformedQueryString", "not valid UTF-8"},
        {"N%FFme=x", "MalformedQueryString", "'N?me' is not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        core_form *f = (core_form *)1;
        core_err err;
        core_err_clear(&err);
        cr_assert_eq(core_form_parse(cases[i].body, strlen(cases[i].body), NULL, &f, &err),
                     CORE_ERROR, "case %zu (%s) was accepted", i, cases[i].body);
        cr_assert_null(f, "case %zu", i);
        cr_assert_eq(err.status, 400, "case %zu", i);
        cr_assert_str_eq(err.type, cases[i].type, "case %zu", i);
        cr_assert(strstr(err.message, cases[i].says), "case %zu: %s", i, err.message);
    }
    /* A raw NUL byte (not %00) inside the body, in a value and in a name. */
    static const char raw_value[] = "a=1&Message=x\0y&b=2", raw_name[] = "a=1&N\0=x";
    core_form *f = (core_form *)1;
    core_err err;
    cr_assert_eq(core_form_parse(raw_value, sizeof raw_value - 1, NULL, &f, &err), CORE_ERROR);
    cr_assert_null(f);
    cr_assert(strstr(err.message, "NUL"), "%s", err.message);
    cr_assert_eq(core_form_parse(raw_name, sizeof raw_name - 1, NULL, &f, &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "MalformedQueryString");
}

Test(core_form, refuses_oversized_bodies_names_and_pair_counts)
{
    core_form_limits lim = {.max_body = 32, .max_name = 8, .max_pairs = 3};
    core_form *f = NULL;
    core_err err;
    char body[40];
    memset(body, 'x', 33);
    body[0] = 'a';
    body[1] = '=';
    cr_assert_eq(core_form_parse(body, 33, &lim, &f, &err), CORE_ERROR);
    cr_assert_eq(err.status, 413);
    cr_assert_str_eq(err.type, "RequestEntityTooLarge");
    cr_assert(strstr(err.message, "33 bytes"), "%s", err.message);
    /* Exactly at the limits is fine. */
    cr_assert_eq(core_form_parse(body, 32, &lim, &f, &err), CORE_OK, "%s", err.message);
    cr_assert_eq(strlen(core_form_get(f, "a")), 30);
    core_form_free(f);
    const char *long_name = "abcdefghi=1";
    cr_assert_eq(core_form_parse(long_name, strlen(long_name), &lim, &f, &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "MalformedQueryString");
    cr_assert(strstr(err.message, "9 bytes"), "%s", err.message);
    /* A name's limit is on its decoded bytes: %41 is one byte. */
    const char *encoded = "%41%41%41%41%41%41%41%41=1";
    cr_assert_eq(core_form_parse(encoded, strlen(encoded), &lim, &f, &err), CORE_OK);
    cr_assert_str_eq(core_form_get(f, "AAAAAAAA"), "1");
    core_form_free(f);
    const char *many = "a=1&b=2&c=3&d=4";
    cr_assert_eq(core_form_parse(many, strlen(many), &lim, &f, &err), CORE_ERROR);
    cr_assert(strstr(err.message, "more than 3 parameters"), "%s", err.message);
}

Test(core_form, holds_a_large_hostile_body_of_many_pairs_quickly)
{
    size_t n = 50000;
    char *body = malloc(n * 16);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(body + len, "%sk%zu=v", i ? "&" : "", i);
    core_form *f = NULL;
    core_err err;
    cr_assert_eq(core_form_parse(body, len, NULL, &f, &err), CORE_OK, "%s", err.message);
    cr_assert_eq(core_form_count(f), n);
    cr_assert_str_eq(core_form_get(f, "k49999"), "v");
    core_form_free(f);
    /* The same with one repeated name at the far end is refused. */
    len += (size_t)sprintf(body + len, "&k0=again");
    cr_assert_eq(core_form_parse(body, len, NULL, &f, &err), CORE_ERROR);
    cr_assert(strstr(err.message, "'k0'"), "%s", err.message);
    /* Ten thousand members, sent in reverse, come back in index order. */
    len = 0;
    for (size_t i = 10000; i >= 1; i--)
        len += (size_t)sprintf(body + len, "%sM.member.%zu.V=%zu", i < 10000 ? "&" : "", i, i);
    cr_assert_eq(core_form_parse(body, len, NULL, &f, &err), CORE_OK, "%s", err.message);
    core_form **m = NULL;
    size_t nm = 0;
    cr_assert_eq(core_form_members(f, "M.member", 10000, &m, &nm, &err), CORE_OK, "%s",
                 err.message);
    cr_assert_eq(nm, 10000);
    cr_assert_str_eq(core_form_get(m[0], "V"), "1");
    cr_assert_str_eq(core_form_get(m[9999], "V"), "10000");
    core_form_members_free(m, nm);
    core_form_free(f);
    free(body);
}

Test(core_form, groups_members_by_index_in_index_order)
{
    core_form *f = parse_ok("Tags.member.2.Key=b&Tags.member.1.Key=a&Tags.member.1.Value=1"
                            "&Tags.member.10.Key=j&Other=x&Tags.memberX=no&TagKeys.member.1=k"
                            "&M.entry.3.Value.DataType=String");
    core_form **m = NULL;
    size_t n = 0;
    core_err err;
    cr_assert_eq(core_form_members(f, "Tags.member", 100, &m, &n, &err), CORE_OK, "%s",
                 err.message);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(core_form_get(m[0], "Key"), "a");
    cr_assert_str_eq(core_form_get(m[0], "Value"), "1");
    cr_assert_str_eq(core_form_get(m[1], "Key"), "b");
    cr_assert_str_eq(core_form_get(m[2], "Key"), "j");
    core_form_members_free(m, n);
    cr_assert_eq(core_form_members(f, "TagKeys.member", 100, &m, &n, &err), CORE_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(core_form_get(m[0], ""), "k");
    core_form_members_free(m, n);
    cr_assert_eq(core_form_members(f, "M.entry", 100, &m, &n, &err), CORE_OK);
    cr_assert_str_eq(core_form_get(m[0], "Value.DataType"), "String");
    core_form_members_free(m, n);
    cr_assert_eq(core_form_members(f, "Absent", 100, &m, &n, &err), CORE_OK);
    cr_assert_eq(n, 0);
    cr_assert_null(m);
    core_form_free(f);
}

Test(core_form, refuses_malformed_and_huge_member_indexes)
{
    static const char *const bodies[] = {
        "A.entry.0.key=k",          "A.entry.007.key=k",     "A.entry.99999999999.key=k",
        "A.entry.1001.key=k",       "A.entry.-1.key=k",      "A.entry.1x.key=k",
        "A.entry..key=k",           "A.entry.key=k",         "A.entry.4294967297.key=k",
        "A.entry.1.=k",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        core_form *f = parse_ok(bodies[i]);
        core_form **m = (core_form **)1;
        size_t n = 7;
        core_err err;
        core_err_clear(&err);
        cr_assert_eq(core_form_members(f, "A.entry", 1000, &m, &n, &err), CORE_ERROR,
                     "case %zu (%s) was accepted", i, bodies[i]);
        cr_assert_str_eq(err.type, "InvalidParameterValue", "case %zu", i);
        cr_assert_eq(err.status, 400, "case %zu", i);
        cr_assert_null(m, "case %zu", i);
        cr_assert_eq(n, 0, "case %zu", i);
        core_form_free(f);
    }
    core_form *f = parse_ok("A.entry.1000.key=k");
    core_form **m;
    size_t n;
    core_err err;
    cr_assert_eq(core_form_members(f, "A.entry", 1000, &m, &n, &err), CORE_OK);
    cr_assert_eq(n, 1);
    core_form_members_free(m, n);
    core_form_free(f);
}

/* Random bodies over the characters that matter to the grammar (escapes,
 * separators, member dots and digits, NUL, bytes over 0x7f): every one is
 * parsed or refused with a 4xx, its members grouped or refused, and (under
 * Valgrind and ASan) nothing is read or leaked out of bounds. A fixed seed:
 * the same bodies every run. */
Test(core_form, random_hostile_bodies_are_parsed_or_refused_cleanly)
{
    static const struct {
        const char *text;
        size_t len;
    } tokens[] = {
        {"A.entry.", 8}, {"1", 1},     {"2", 1},       {"0", 1},      {"99999999999", 11},
        {".key", 4},     {".value", 6}, {".", 1},       {"=", 1},      {"=", 1},
        {"&", 1},        {"&", 1},      {"v", 1},       {"%41", 3},    {"%", 1},
        {"%4", 2},       {"%C3%A9", 6}, {"%FF", 3},     {"+", 1},      {"\0", 1},
        {"\xff", 1},     {"x", 1},      {"A.entry", 7}, {"-1", 2},     {"%00", 3},
    };
    unsigned int seed = 12345u;
    size_t parsed = 0, refused = 0;
    char body[200];
    for (int round = 0; round < 3000; round++) {
        size_t len = 0, want = 1 + (size_t)(round % 12);
        for (size_t t = 0; t < want; t++) {
            seed = seed * 1103515245u + 12345u;
            size_t r = (seed >> 16) % (sizeof tokens / sizeof *tokens);
            memcpy(body + len, tokens[r].text, tokens[r].len);
            len += tokens[r].len;
        }
        core_form *f = NULL;
        core_err err;
        core_err_clear(&err);
        if (core_form_parse(body, len, NULL, &f, &err) != CORE_OK) {
            cr_assert_null(f);
            cr_assert(err.status == 400 || err.status == 413, "round %d: %d", round, err.status);
            cr_assert(err.type[0] && err.message[0], "round %d", round);
            refused++;
            continue;
        }
        parsed++;
        for (size_t i = 0; i < core_form_count(f); i++)
            cr_assert_eq(core_form_get(f, core_form_name_at(f, i)), core_form_value_at(f, i));
        core_form **m = NULL;
        size_t n = 0;
        if (core_form_members(f, "A.entry", 1000, &m, &n, &err) == CORE_OK)
            core_form_members_free(m, n);
        else
            cr_assert_eq(err.status, 400, "round %d", round);
        core_form_free(f);
    }
    cr_assert_gt(parsed, 100, "the bodies are not all refused (%zu parsed)", parsed);
    cr_assert_gt(refused, 100, "the bodies are not all accepted (%zu refused)", refused);
}

/* --- core/xml ------------------------------------------------------------------ */

static char *xml_of(const char *text, size_t len)
{
    core_xml x;
    core_xml_init(&x);
    core_xml_text(&x, text, len);
    size_t out_len = 0;
    char *out = core_xml_take(&x, &out_len);
    cr_assert_not_null(out);
    cr_assert_eq(out_len, strlen(out));
    return out;
}

Test(core_xml, escapes_markup_quotes_and_white_space_controls)
{
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {"plain", 5, "plain"},
        {"a&b", 3, "a&amp;b"},
        {"<tag>", 5, "&lt;tag&gt;"},
        {"\"q\" 'a'", 7, "&quot;q&quot; &apos;a&apos;"},
        {"t\tn\nr\r", 6, "t&#9;n&#10;r&#13;"},
        {"bell\x07", 5, "bell\xEF\xBF\xBD"},
        {"nul\0x", 5, "nul\xEF\xBF\xBDx"},
        {"\x1f", 1, "\xEF\xBF\xBD"},
        {"del\x7f", 4, "del\x7f"},
        {"\xC3\xA9", 2, "\xC3\xA9"},
        {"\xE2\x82\xAC", 3, "\xE2\x82\xAC"},
        {"\xF0\x9F\x98\x80", 4, "\xF0\x9F\x98\x80"},
        {"\xFF", 1, "\xEF\xBF\xBD"},
        {"\xC3", 1, "\xEF\xBF\xBD"},
        {"\xC0\xAF", 2, "\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"\xED\xA0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"\xEF\xBF\xBE", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"\xF4\x90\x80\x80", 4, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"<![CDATA[x]]>", 13, "&lt;![CDATA[x]]&gt;"},
        {"a\xE2\x82", 3, "a\xEF\xBF\xBD\xEF\xBF\xBD"}, /* a sequence cut by the end */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out = xml_of(cases[i].in, cases[i].len);
        cr_assert_str_eq(out, cases[i].out, "case %zu", i);
        /* core_xml_utf8_valid agrees: text written unchanged apart from
         * escapes is valid, text that got a U+FFFD for a bad byte is not. */
        int control = 0; /* a C0 control is valid UTF-8 but no XML character */
        for (size_t k = 0; k < cases[i].len; k++)
            control |= (unsigned char)cases[i].in[k] < 0x20 &&
                       (!cases[i].in[k] || !strchr("\t\n\r", cases[i].in[k]));
        int valid = control || !strstr(out, "\xEF\xBF\xBD");
        cr_assert_eq(core_xml_utf8_valid(cases[i].in, cases[i].len), valid, "case %zu", i);
        free(out);
    }
}

Test(core_xml, writes_elements_declaration_and_namespace)
{
    core_xml x;
    core_xml_init(&x);
    core_xml_declaration(&x);
    core_xml_open(&x, "R", "urn:a&b");
    core_xml_element(&x, "K", "v<");
    core_xml_element(&x, "Skipped", NULL);
    core_xml_close(&x, "R");
    char *out = core_xml_take(&x, NULL);
    cr_assert_str_eq(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<R xmlns=\"urn:a&amp;b\"><K>v&lt;</K></R>");
    free(out);
    core_xml_init(&x);
    out = core_xml_take(&x, NULL);
    cr_assert_str_eq(out, "");
    free(out);
    core_xml_init(&x);
    core_xml_raw(&x, "<a/>");
    core_xml_release(&x);
    cr_assert_null(x.buf);
}
