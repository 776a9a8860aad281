/*
 * test_backend_lib.c — the handlers' shared helpers in backend/lib: strict body
 * validation (val_), the tamper-checked cursor (cursor_), format 2.0 answers,
 * bodies and claims (http_), redacted structured logs (log_) and the data
 * model's item mappings (model_). Grammar-like case lists are table-driven:
 * one Test loops over its table and names the failing case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "lib/cursor.h"
#include "lib/http.h"
#include "lib/log.h"
#include "lib/model.h"
#include "lib/val.h"

/* ---- val ------------------------------------------------------------------ */

typedef struct val_case {
    const char *json;
    int ok;
    const char *message; /* expected problem, when !ok (prefix match) */
} val_case;

TestSuite(backend_val);

Test(backend_val, product_bodies_are_checked_strictly)
{
    static const val_case cases[] = {
        {"{\"name\":\"Mug\",\"priceCents\":1800,\"stock\":5}", 1, NULL},
        {"{\"id\":\"p-1\",\"name\":\"Mug\",\"description\":\"two\\nlines\",\"priceCents\":1,"
         "\"currency\":\"EUR\",\"stock\":0,\"imageUrl\":\"https://x.test/a.jpg\"}", 1, NULL},
        {"{\"name\":\"Mug\",\"priceCents\":1800,\"stock\":5,\"imageUrl\":null}", 1, NULL},
        {"{\"priceCents\":1800,\"stock\":5}", 0, "name: is required"},
        {"{\"name\":\"Mug\",\"priceCents\":\"1800\",\"stock\":5}", 0, "priceCents: must be an integer"},
        {"{\"name\":\"Mug\",\"priceCents\":18.5,\"stock\":5}", 0, "priceCents: must be an integer"},
        {"{\"name\":\"Mug\",\"priceCents\":0,\"stock\":5}", 0,
         "priceCents: must be an integer from 1 to 100000000"},
        {"{\"name\":\"Mug\",\"priceCents\":1e300,\"stock\":5}", 0, "priceCents: must be an integer"},
        {"{\"name\":\"Mug\",\"priceCents\":100,\"stock\":-1}", 0, "stock: must be an integer from 0"},
        {"{\"name\":\"Mug\",\"priceCents\":100,\"stock\":1,\"color\":\"red\"}", 0,
         "color: is not a known field"},
        {"{\"name\":\"Mug\",\"name\":\"Cup\",\"priceCents\":100,\"stock\":1}", 0,
         "name: appears more than once"},
        {"{\"name\":null,\"priceCents\":100,\"stock\":1}", 0, "name: must be a string, not null"},
        {"{\"name\":\"\",\"priceCents\":100,\"stock\":1}", 0, "name: must be 1 to 200 characters"},
        {"{\"name\":\"a\\u0001b\",\"priceCents\":100,\"stock\":1}", 0,
         "name: must not contain control characters"},
        {"{\"name\":\"a\\nb\",\"priceCents\":100,\"stock\":1}", 0,
         "name: must not contain control characters"},
        {"{\"name\":\"Mug\",\"priceCents\":100,\"stock\":1,\"currency\":\"USDX\"}", 0,
         "currency: must be 3 characters"},
        {"{\"name\":\"Mug\",\"priceCents\":100,\"stock\":1,\"currency\":\"US1\"}", 0,
         "currency: must be an ISO 4217 code"},
        {"{\"name\":\"Mug\",\"priceCents\":100,\"stock\":1,\"imageUrl\":\"javascript:alert(1)\"}", 0,
         "imageUrl: must be an http(s) URL"},
        {"{\"id\":\"../etc\",\"name\":\"Mug\",\"priceCents\":100,\"stock\":1}", 0, "id: must be 1 to 64"},
        {"{\"id\":\"a#b\",\"name\":\"Mug\",\"priceCents\":100,\"stock\":1}", 0, "id: must be 1 to 64"},
        {"{\"name\":true,\"priceCents\":100,\"stock\":1}", 0, "name: must be a string"},
        {"{\"name\":{\"x\":1},\"priceCents\":100,\"stock\":1}", 0, "name: must be a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *o = cJSON_Parse(cases[i].json);
        cr_assert_not_null(o, "case %zu does not parse", i);
        val_problem p;
        int rc = val_object(o, model_product_create_fields, &p);
        cJSON_Delete(o);
        cr_expect_eq(rc == 0, cases[i].ok, "case %zu (%s): got %d (%s)", i, cases[i].json, rc,
                     p.message);
        if (!cases[i].ok && rc)
            cr_expect(!strncmp(p.message, cases[i].message, strlen(cases[i].message)),
                      "case %zu: message \"%s\", expected \"%s...\"", i, p.message,
                      cases[i].message);
    }
}

Test(backend_val, string_bounds_count_code_points_not_bytes)
{
    /* 200 x "é" (2 bytes each) is 200 characters: allowed */
    char json[1200] = "{\"priceCents\":1,\"stock\":1,\"name\":\"";
    for (int i = 0; i < 200; i++)
        strcat(json, "\xc3\xa9");
    strcat(json, "\"}");
    cJSON *o = cJSON_Parse(json);
    val_problem p;
    cr_assert_eq(val_object(o, model_product_create_fields, &p), 0, "%s", p.message);
    cJSON_Delete(o);
}

Test(backend_val, nested_objects_report_their_path)
{
    static const val_field inner[] = {
        {"zip", VAL_STRING, VAL_REQUIRED, 1, 5, NULL, NULL},
        {NULL, VAL_STRING, 0, 0, 0, NULL, NULL},
    };
    static const val_field outer[] = {
        {"address", VAL_OBJECT, VAL_REQUIRED, 0, 0, inner, NULL},
        {"ok", VAL_BOOL, 0, 0, 0, NULL, NULL},
        {NULL, VAL_STRING, 0, 0, 0, NULL, NULL},
    };
    static const val_case cases[] = {
        {"{\"address\":{\"zip\":\"12345\"},\"ok\":true}", 1, NULL},
        {"{\"address\":{}}", 0, "address.zip: is required"},
        {"{\"address\":{\"zip\":\"123456\"}}", 0, "address.zip: must be 1 to 5 characters"},
        {"{\"address\":{\"zip\":\"1\",\"extra\":1}}", 0, "address.extra: is not a known field"},
        {"{\"address\":[]}", 0, "address: must be an object"},
        {"{\"address\":{\"zip\":\"1\"},\"ok\":1}", 0, "ok: must be a boolean"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *o = cJSON_Parse(cases[i].json);
        val_problem p;
        int rc = val_object(o, outer, &p);
        cJSON_Delete(o);
        cr_expect_eq(rc == 0, cases[i].ok, "case %zu: %s", i, p.message);
        if (!cases[i].ok && rc)
            cr_expect_str_eq(p.message, cases[i].message, "case %zu", i);
    }
}

Test(backend_val, utf8_validation_refuses_overlongs_surrogates_and_cuts)
{
    static const struct {
        const char *s;
        int ok;
    } cases[] = {
        {"plain", 1}, {"caf\xc3\xa9", 1}, {"\xe2\x82\xac", 1}, {"\xf0\x9f\x98\x80", 1},
        {"\xc0\xaf", 0}, {"\xe0\x80\xaf", 0}, {"\xed\xa0\x80", 0}, {"\xf4\x90\x80\x80", 0},
        {"\xc3", 0}, {"\xe2\x82", 0}, {"\x80", 0}, {"\xff", 0}, {"a\xf0\x9f\x98", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        cr_expect_eq(val_utf8(cases[i].s, strlen(cases[i].s)), cases[i].ok, "case %zu", i);
}

Test(backend_val, integers_beyond_two_to_the_53_are_refused)
{
    cJSON *big = cJSON_CreateNumber(9007199254740994.0);
    cJSON *ok = cJSON_CreateNumber(42);
    long long out = 0;
    cr_expect_eq(val_int(big, 0, 1LL << 62, &out), 0);
    cr_expect_eq(val_int(ok, 0, 100, &out), 1);
    cr_expect_eq(out, 42);
    cr_expect_eq(val_int(ok, 43, 100, &out), 0);
    cJSON_Delete(big);
    cJSON_Delete(ok);
}

Test(backend_val, ids_are_short_safe_identifiers)
{
    cr_expect(val_id("p-espresso_1", 64));
    cr_expect(!val_id("", 64));
    cr_expect(!val_id(NULL, 64));
    cr_expect(!val_id("a/b", 64));
    cr_expect(!val_id("a b", 64));
    cr_expect(!val_id("PRODUCT#x", 64));
    cr_expect(!val_id("abcdef", 5));
    cr_expect(val_id("abcde", 5));
}

/* ---- cursor --------------------------------------------------------------- */

static const char *const keys4[] = {"PK", "SK", "GSI1PK", "GSI1SK", NULL};
#define LEK "{\"PK\":{\"S\":\"PRODUCT#p-1\"},\"SK\":{\"S\":\"PRODUCT\"}," \
            "\"GSI1PK\":{\"S\":\"PRODUCT\"},\"GSI1SK\":{\"S\":\"2026-01-01T00:00:00.000Z#p-1\"}}"

TestSuite(backend_cursor);

Test(backend_cursor, round_trips_the_last_evaluated_key)
{
    cJSON *lek = cJSON_Parse(LEK);
    char *c = cursor_encode(lek, "products", "s3cret");
    cr_assert_not_null(c);
    for (const char *p = c; *p; p++)
        cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p),
                  "not base64url: %c", *p);
    cr_expect_null(strstr(c, "PRODUCT"), "the cursor is opaque");
    cJSON *back = cursor_decode(c, "products", "s3cret", keys4);
    cr_assert_not_null(back);
    cr_expect(cJSON_Compare(back, lek, 1));
    cJSON_Delete(back);
    cJSON_Delete(lek);
    free(c);
}

Test(backend_cursor, every_single_character_change_is_refused)
{
    cJSON *lek = cJSON_Parse(LEK);
    char *c = cursor_encode(lek, "products", NULL);
    cJSON_Delete(lek);
    size_t n = strlen(c);
    for (size_t i = 0; i < n; i++) {
        char saved = c[i];
        c[i] = saved == 'A' ? 'B' : 'A';
        cJSON *k = cursor_decode(c, "products", NULL, keys4);
        cr_expect_null(k, "changing position %zu was accepted", i);
        cJSON_Delete(k);
        c[i] = saved;
    }
    cJSON *ok = cursor_decode(c, "products", NULL, keys4);
    cr_expect_not_null(ok);
    cJSON_Delete(ok);
    free(c);
}

Test(backend_cursor, another_scope_or_secret_is_refused)
{
    cJSON *lek = cJSON_Parse(LEK);
    char *c = cursor_encode(lek, "orders#alice", "k1");
    cJSON_Delete(lek);
    cJSON *k;
    cr_expect_null(k = cursor_decode(c, "orders#bob", "k1", keys4));
    cJSON_Delete(k);
    cr_expect_null(k = cursor_decode(c, "orders#alice", "k2", keys4));
    cJSON_Delete(k);
    cr_expect_null(k = cursor_decode(c, "orders#alice", NULL, keys4));
    cJSON_Delete(k);
    cr_expect_not_null(k = cursor_decode(c, "orders#alice", "k1", keys4));
    cJSON_Delete(k);
    free(c);
}

Test(backend_cursor, a_signed_key_with_other_attributes_is_still_refused)
{
    static const char *const pk_only[] = {"PK", NULL};
    static const char *const docs[] = {
        "{\"PK\":{\"S\":\"a\"},\"SK\":{\"S\":\"b\"}}",       /* SK not allowed here */
        "{\"PK\":{\"M\":{}}}",                               /* not S or N */
        "{\"PK\":{\"S\":\"a\",\"N\":\"1\"}}",                /* two types */
        "{\"PK\":\"a\"}",                                    /* not an attribute value */
        "[]", "{}", "\"x\"",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        cJSON *d = cJSON_Parse(docs[i]);
        char *c = cursor_encode(d, "s", NULL);
        cJSON_Delete(d);
        cr_assert_not_null(c, "doc %zu", i);
        cJSON *k = cursor_decode(c, "s", NULL, pk_only);
        cr_expect_null(k, "doc %zu (%s) was accepted", i, docs[i]);
        cJSON_Delete(k);
        free(c);
    }
}

Test(backend_cursor, garbage_texts_are_refused)
{
    char long_text[CURSOR_MAX_TEXT + 10];
    memset(long_text, 'A', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    const char *cases[] = {"", "A", "AAAA", "!!!!", "eyJQSyI6eyJTIjoieCJ9fQ", "a=b", "%00",
                           "AQ==", "AQ", long_text, "ÿÿ"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *k = cursor_decode(cases[i], "products", NULL, keys4);
        cr_expect_null(k, "case %zu accepted", i);
        cJSON_Delete(k);
    }
    cr_expect_null(cursor_decode(NULL, "products", NULL, keys4));
}

Test(backend_cursor, base64url_round_trips_every_length_and_refuses_non_canonical_text)
{
    unsigned char data[40];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 37 + 251);
    for (size_t n = 0; n <= sizeof data; n++) {
        char *t = cursor_b64url_encode(data, n);
        size_t len = 0;
        unsigned char *back = cursor_b64url_decode(t, &len);
        cr_assert_not_null(back, "length %zu", n);
        cr_expect_eq(len, n);
        cr_expect(!memcmp(back, data, n), "length %zu", n);
        free(back);
        free(t);
    }
    size_t len;
    cr_expect_null(cursor_b64url_decode("AB", &len)); /* low bits set: not canonical */
    cr_expect_null(cursor_b64url_decode("A", &len));
    cr_expect_null(cursor_b64url_decode("AA+/", &len));
    unsigned char *ok = cursor_b64url_decode("AA", &len);
    cr_expect_not_null(ok);
    free(ok);
}

Test(backend_cursor, oversized_keys_are_not_encoded)
{
    cJSON *d = cJSON_CreateObject();
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    model_put_s(d, "PK", big);
    cr_expect_null(cursor_encode(d, "s", NULL));
    cJSON_Delete(d);
}

/* ---- http ----------------------------------------------------------------- */

TestSuite(backend_http);

static cJSON *event_with(const char *json)
{
    cJSON *e = cJSON_Parse(json);
    cr_assert_not_null(e, "event does not parse: %s", json);
    return e;
}

Test(backend_http, json_answers_have_status_content_type_and_a_string_body)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddNumberToObject(body, "n", 1);
    cJSON *r = http_json(201, body);
    cr_expect_eq(cJSON_GetObjectItem(r, "statusCode")->valueint, 201);
    cJSON *h = cJSON_GetObjectItem(r, "headers");
    cr_expect_str_eq(cJSON_GetObjectItem(h, "content-type")->valuestring, "application/json");
    cr_expect_str_eq(cJSON_GetObjectItem(r, "body")->valuestring, "{\"n\":1}");
    http_set_header(r, "location", "/x");
    cr_expect_str_eq(cJSON_GetObjectItem(h, "location")->valuestring, "/x");
    cJSON_Delete(r);
    r = http_json(200, NULL);
    cr_expect_str_eq(cJSON_GetObjectItem(r, "body")->valuestring, "{}");
    cJSON_Delete(r);
    r = http_empty(204);
    cr_expect_str_eq(cJSON_GetObjectItem(r, "body")->valuestring, "");
    cJSON_Delete(r);
}

Test(backend_http, errors_have_the_one_error_shape)
{
    cJSON *r = http_error(422, "ValidationError", "quantity: %s", "must be an integer");
    cr_expect_eq(cJSON_GetObjectItem(r, "statusCode")->valueint, 422);
    cJSON *b = cJSON_Parse(cJSON_GetObjectItem(r, "body")->valuestring);
    cJSON *e = cJSON_GetObjectItem(b, "error");
    cr_expect_str_eq(cJSON_GetObjectItem(e, "code")->valuestring, "ValidationError");
    cr_expect_str_eq(cJSON_GetObjectItem(e, "message")->valuestring,
                     "quantity: must be an integer");
    cr_expect_eq(cJSON_GetArraySize(b), 1);
    cJSON_Delete(b);
    cJSON_Delete(r);
}

Test(backend_http, bodies_are_one_json_object_within_the_limit)
{
    static const struct {
        const char *event;
        int status; /* 0: accepted */
    } cases[] = {
        {"{\"body\":\"{\\\"a\\\":1}\"}", 0},
        {"{\"body\":\"{\\\"a\\\":\\\"012345678901234567890123\\\"}\"}", 0}, /* exactly 32 */
        {"{\"body\":\"{\\\"a\\\":\\\"0123456789012345678901234\\\"}\"}", 413}, /* 33 */
        {"{\"body\":\"  {\\\"a\\\":1}  \\n\"}", 0},
        {"{}", 400},
        {"{\"body\":\"\"}", 400},
        {"{\"body\":\"not json\"}", 400},
        {"{\"body\":\"[1,2]\"}", 400},
        {"{\"body\":\"{} {}\"}", 400},
        {"{\"body\":\"{\\\"a\\\":1}x\"}", 400},
        {"{\"body\":\"{\\\"a\\\":\"}", 400},
        {"{\"body\":\"eyJhIjoxfQ==\",\"isBase64Encoded\":true}", 0},
        {"{\"body\":\"eyJhIjoxfQ\",\"isBase64Encoded\":true}", 400},
        {"{\"body\":\"!!!!\",\"isBase64Encoded\":true}", 400},
        {"{\"body\":\"eyJhIjoiAH0=\",\"isBase64Encoded\":true}", 400}, /* {"a":"\0"} */
        {"{\"body\":\"{\\\"a\\\":\\\"x\\\\u0000y\\\"}\"}", 400},   /* "x\u0000y" */
        {"{\"body\":\"{\\\"a\\\":\\\"x\\\\\\\\u0000\\\"}\"}", 0}, /* "x\\u0000" */
        {"{\"body\":\"{\\\"a\\\":\\\"0123456789012345678901234567890123456789\\\"}\"}", 413},
        {"{\"body\":\"eyJhIjoiMDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OSJ9\","
         "\"isBase64Encoded\":true}", 413},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *e = event_with(cases[i].event);
        cJSON *resp = NULL;
        cJSON *o = http_body_object(e, 32, &resp);
        if (!cases[i].status) {
            cr_expect_not_null(o, "case %zu refused", i);
            cr_expect_null(resp);
        } else {
            cr_expect_null(o, "case %zu accepted", i);
            cr_expect_eq(resp ? cJSON_GetObjectItem(resp, "statusCode")->valueint : 0,
                         cases[i].status, "case %zu", i);
        }
        cJSON_Delete(o);
        cJSON_Delete(resp);
        cJSON_Delete(e);
    }
}

Test(backend_http, cognito_groups_claim_is_matched_exactly_in_every_form)
{
    static const struct {
        const char *groups; /* NULL: no claim */
        int admin;
    } cases[] = {
        {"[Admins Staff]", 1}, {"[Staff Admins]", 1}, {"[Admins]", 1}, {"Admins", 1},
        {"[\"Admins\",\"Staff\"]", 1}, {"[Staff]", 0}, {"[AdminsX]", 0}, {"[XAdmins]", 0},
        {"[admins]", 0}, {"[]", 0}, {"", 0}, {NULL, 0}, {"[Admin]", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON *claims = cJSON_AddObjectToObject(
            cJSON_AddObjectToObject(
                cJSON_AddObjectToObject(cJSON_AddObjectToObject(e, "requestContext"), "authorizer"),
                "jwt"),
            "claims");
        cJSON_AddStringToObject(claims, "sub", "u-1");
        if (cases[i].groups)
            cJSON_AddStringToObject(claims, "cognito:groups", cases[i].groups);
        cr_expect_eq(http_claims_in_group(e, "Admins"), cases[i].admin, "case %zu (%s)", i,
                     cases[i].groups ? cases[i].groups : "none");
        cr_expect_str_eq(http_user_id(e), "u-1");
        cJSON_Delete(e);
    }
}

Test(backend_http, user_id_is_the_sub_claim_when_it_is_safe_for_a_key)
{
    static const struct {
        const char *event;
        const char *user;
    } cases[] = {
        {"{\"requestContext\":{\"authorizer\":{\"jwt\":{\"claims\":{\"sub\":\"abc-1\"}}}}}", "abc-1"},
        {"{\"requestContext\":{\"authorizer\":{\"jwt\":{\"claims\":{\"sub\":\"\"}}}}}", NULL},
        {"{\"requestContext\":{\"authorizer\":{\"jwt\":{\"claims\":{\"sub\":\"a#CART#b\"}}}}}", NULL},
        {"{\"requestContext\":{\"authorizer\":{\"jwt\":{\"claims\":{\"sub\":\"a b\"}}}}}", NULL},
        {"{\"requestContext\":{\"authorizer\":{\"jwt\":{\"claims\":{\"sub\":5}}}}}", NULL},
        {"{\"requestContext\":{\"authorizer\":{\"jwt\":{\"claims\":[]}}}}", NULL},
        {"{\"requestContext\":{}}", NULL},
        {"{}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *e = event_with(cases[i].event);
        const char *u = http_user_id(e);
        if (cases[i].user)
            cr_expect(u && !strcmp(u, cases[i].user), "case %zu", i);
        else
            cr_expect_null(u, "case %zu gave %s", i, u);
        cJSON_Delete(e);
    }
    char long_sub[300] = "{\"requestContext\":{\"authorizer\":{\"jwt\":{\"claims\":{\"sub\":\"";
    for (int i = 0; i < 129; i++)
        strcat(long_sub, "a");
    strcat(long_sub, "\"}}}}}");
    cJSON *e = event_with(long_sub);
    cr_expect_null(http_user_id(e));
    cJSON_Delete(e);
}

Test(backend_http, query_integers_are_decimal_and_bounded)
{
    static const struct {
        const char *value; /* NULL: absent */
        int ok;
        long long n;
    } cases[] = {
        {NULL, 1, 20}, {"5", 1, 5}, {"100", 1, 100}, {"0", 0, 0}, {"101", 0, 0}, {"-1", 0, 0},
        {"abc", 0, 0}, {"5x", 0, 0}, {"", 0, 0}, {" 5", 0, 0}, {"99999999999999999999", 0, 0},
        {"1e2", 0, 0}, {"0x10", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON *q = cJSON_AddObjectToObject(e, "queryStringParameters");
        if (cases[i].value)
            cJSON_AddStringToObject(q, "limit", cases[i].value);
        long long n = -7;
        int rc = http_query_int(e, "limit", 1, 100, 20, &n);
        cr_expect_eq(rc == 0, cases[i].ok, "case %zu", i);
        if (cases[i].ok)
            cr_expect_eq(n, cases[i].n, "case %zu", i);
        cJSON_Delete(e);
    }
}

Test(backend_http, event_accessors_read_payload_v2_parts)
{
    cJSON *e = event_with("{\"routeKey\":\"GET /products/{id}\",\"headers\":{\"idempotency-key\":\"k\"},"
                          "\"pathParameters\":{\"id\":\"p-1\"},\"queryStringParameters\":{\"limit\":\"3\"}}");
    cr_expect_str_eq(http_route_key(e), "GET /products/{id}");
    cr_expect_str_eq(http_header(e, "idempotency-key"), "k");
    cr_expect_str_eq(http_path_param(e, "id"), "p-1");
    cr_expect_str_eq(http_query_param(e, "limit"), "3");
    cr_expect_null(http_header(e, "authorization"));
    cr_expect_null(http_claims(e));
    cJSON_Delete(e);
    cJSON *empty = cJSON_CreateObject();
    cr_expect_str_eq(http_route_key(empty), "");
    cJSON_Delete(empty);
}

/* ---- log ------------------------------------------------------------------ */

static char logged[8][2048];
static char logged_level[8][16];
static int n_logged;
static const char *log_level_env;

static void capture(const lambda_context *ctx, const char *level, const char *message)
{
    (void)ctx;
    if (n_logged < 8) {
        snprintf(logged[n_logged], sizeof logged[0], "%s", message);
        snprintf(logged_level[n_logged], sizeof logged_level[0], "%s", level);
    }
    n_logged++;
}

static const char *env(const lambda_context *ctx, const char *name)
{
    (void)ctx;
    return !strcmp(name, "LOG_LEVEL") ? log_level_env : NULL;
}

static void log_setup(void)
{
    n_logged = 0;
    log_level_env = NULL;
}

TestSuite(backend_log, .init = log_setup);

Test(backend_log, events_are_json_messages_with_the_event_first)
{
    lambda_context ctx = {.getenv = env, .log = capture};
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "orderId", "o-1");
    cJSON_AddNumberToObject(f, "total", 5);
    log_event(&ctx, "INFO", "checkout.started", f);
    cJSON_Delete(f);
    cr_assert_eq(n_logged, 1);
    cr_expect_str_eq(logged[0], "{\"event\":\"checkout.started\",\"orderId\":\"o-1\",\"total\":5}");
    cr_expect_str_eq(logged_level[0], "INFO");
}

Test(backend_log, secrets_and_tokens_never_reach_the_log)
{
    lambda_context ctx = {.getenv = env, .log = capture};
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "authorization", "Bearer abc");
    cJSON_AddStringToObject(f, "idempotencyKey", "k-123");
    cJSON_AddStringToObject(f, "stripeSecret", "sk_test_1");
    cJSON_AddStringToObject(f, "password", "Passw0rd!");
    cJSON_AddStringToObject(f, "note", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln");
    cJSON_AddStringToObject(f, "header", "bearer xyz");
    cJSON *inner = cJSON_AddObjectToObject(f, "nested");
    cJSON_AddStringToObject(inner, "accessToken", "t");
    cJSON_AddStringToObject(f, "productId", "p-1");
    log_event(&ctx, "WARN", "x", f);
    cJSON_Delete(f);
    cr_assert_eq(n_logged, 1);
    const char *forbidden[] = {"Bearer abc", "k-123", "sk_test_1", "Passw0rd!", "eyJhbGci",
                               "bearer xyz", "\"t\""};
    for (size_t i = 0; i < sizeof forbidden / sizeof *forbidden; i++)
        cr_expect_null(strstr(logged[0], forbidden[i]), "%s leaked: %s", forbidden[i], logged[0]);
    cr_expect_not_null(strstr(logged[0], "\"productId\":\"p-1\""));
    cr_expect_not_null(strstr(logged[0], "\"password\":\"[redacted]\""));
}

Test(backend_log, log_level_filters_below_the_threshold)
{
    lambda_context ctx = {.getenv = env, .log = capture};
    log_event(&ctx, "DEBUG", "hidden", NULL);
    cr_expect_eq(n_logged, 0, "INFO is the default threshold");
    log_level_env = "DEBUG";
    log_event(&ctx, "DEBUG", "shown", NULL);
    cr_expect_eq(n_logged, 1);
    log_level_env = "ERROR";
    log_event(&ctx, "WARN", "hidden", NULL);
    log_event(&ctx, "ERROR", "shown", NULL);
    cr_expect_eq(n_logged, 2);
}

Test(backend_log, the_request_line_has_route_status_user_and_no_token)
{
    lambda_context ctx = {.getenv = env, .log = capture};
    cJSON *e = event_with("{\"routeKey\":\"POST /cart\",\"headers\":{\"authorization\":\"Bearer "
                          "eyJx.eyJy.z\"},\"requestContext\":{\"authorizer\":{\"jwt\":{\"claims\":"
                          "{\"sub\":\"u-9\"}}}}}");
    log_request(&ctx, e, 503, lambda_epoch_ms());
    cJSON_Delete(e);
    cr_assert_eq(n_logged, 1);
    cJSON *m = cJSON_Parse(logged[0]);
    cr_assert_not_null(m);
    cr_expect_str_eq(cJSON_GetObjectItem(m, "event")->valuestring, "request");
    cr_expect_str_eq(cJSON_GetObjectItem(m, "route")->valuestring, "POST /cart");
    cr_expect_eq(cJSON_GetObjectItem(m, "status")->valueint, 503);
    cr_expect_str_eq(cJSON_GetObjectItem(m, "user")->valuestring, "u-9");
    cr_expect_str_eq(logged_level[0], "ERROR");
    cr_expect_null(strstr(logged[0], "eyJ"));
    cJSON_Delete(m);
}

Test(backend_log, sensitive_names_and_values_are_recognised)
{
    static const char *const names[] = {"Authorization", "idToken", "x-api-key", "PASSWORD",
                                        "stripeSecret", "set-cookie", "awsCredentials"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        cr_expect(log_is_sensitive_name(names[i]), "%s", names[i]);
    static const char *const fine[] = {"orderId", "status", "route", "productId", "user", NULL};
    for (size_t i = 0; fine[i]; i++)
        cr_expect(!log_is_sensitive_name(fine[i]), "%s", fine[i]);
    cr_expect(log_is_sensitive_value("Bearer abc"));
    cr_expect(log_is_sensitive_value("token=eyJhbGciOi.eyJzdWIi.sig"));
    cr_expect(!log_is_sensitive_value("eyJ alone"));
    cr_expect(!log_is_sensitive_value("p-ceramic-mug"));
    cr_expect(!log_is_sensitive_value(NULL));
}

/* ---- model ---------------------------------------------------------------- */

Test(backend_model, condition_failures_are_recognised_in_both_shapes)
{
    aws_error e = {.status = 400};
    snprintf(e.type, sizeof e.type, "ConditionalCheckFailedException");
    cr_expect(model_condition_failed(&e));
    snprintf(e.type, sizeof e.type, "TransactionCanceledException");
    snprintf(e.message, sizeof e.message, "Transaction cancelled, please refer cancellation "
             "reasons for specific reasons [None, ConditionalCheckFailed]");
    cr_expect(model_condition_failed(&e));
    snprintf(e.message, sizeof e.message, "Transaction cancelled, please refer cancellation "
             "reasons for specific reasons [None, TransactionConflict]");
    cr_expect(!model_condition_failed(&e));
    snprintf(e.type, sizeof e.type, "ProvisionedThroughputExceededException");
    cr_expect(!model_condition_failed(&e));
}


TestSuite(backend_model);

Test(backend_model, a_product_maps_to_its_item_and_back)
{
    cJSON *body = cJSON_Parse("{\"name\":\"Mug\",\"description\":\"d\",\"priceCents\":1800,"
                              "\"stock\":7,\"imageUrl\":\"/images/m.jpg\"}");
    cJSON *item = model_product_item(body, "p-1", "2026-01-01T00:00:00.000Z");
    cr_expect_str_eq(model_get_s(item, "PK"), "PRODUCT#p-1");
    cr_expect_str_eq(model_get_s(item, "SK"), "PRODUCT");
    cr_expect_str_eq(model_get_s(item, "GSI1PK"), "PRODUCT");
    cr_expect_str_eq(model_get_s(item, "GSI1SK"), "2026-01-01T00:00:00.000Z#p-1");
    cr_expect_str_eq(model_get_s(item, "currency"), "USD", "USD is the default");
    long long n;
    cr_expect_eq(model_get_n(item, "priceCents", &n), 0);
    cr_expect_eq(n, 1800);
    cJSON *p = model_product_from_item(item);
    const char *want[] = {"id", "name", "description", "priceCents", "currency", "stock",
                          "imageUrl", "createdAt", "updatedAt"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_expect_not_null(cJSON_GetObjectItem(p, want[i]), "%s missing", want[i]);
    cr_expect_eq(cJSON_GetObjectItem(p, "stock")->valueint, 7);
    cr_expect_null(cJSON_GetObjectItem(p, "PK"), "keys stay inside");
    cJSON_Delete(p);
    cJSON_Delete(item);
    cJSON_Delete(body);
}

Test(backend_model, an_order_item_maps_to_the_api_order)
{
    cJSON *item = cJSON_Parse(
        "{\"PK\":{\"S\":\"ORDER#o-1\"},\"SK\":{\"S\":\"ORDER\"},\"id\":{\"S\":\"o-1\"},"
        "\"userId\":{\"S\":\"u\"},\"status\":{\"S\":\"PENDING\"},\"total\":{\"N\":\"3600\"},"
        "\"currency\":{\"S\":\"USD\"},\"lines\":{\"L\":[{\"M\":{\"productId\":{\"S\":\"p-1\"},"
        "\"name\":{\"S\":\"Mug\"},\"quantity\":{\"N\":\"2\"},\"unitPriceCents\":{\"N\":\"1800\"},"
        "\"lineTotalCents\":{\"N\":\"3600\"}}}]},\"createdAt\":{\"S\":\"t1\"},"
        "\"updatedAt\":{\"S\":\"t2\"}}");
    cJSON *o = model_order_from_item(item);
    cr_expect_str_eq(cJSON_GetObjectItem(o, "id")->valuestring, "o-1");
    cr_expect_str_eq(cJSON_GetObjectItem(o, "status")->valuestring, "PENDING");
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(o, "failureReason")));
    cr_expect_eq(cJSON_GetObjectItem(o, "totalCents")->valueint, 3600);
    cJSON *line = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "lines"), 0);
    cr_expect_eq(cJSON_GetObjectItem(line, "quantity")->valueint, 2);
    cr_expect_str_eq(cJSON_GetObjectItem(line, "productId")->valuestring, "p-1");
    cr_expect_null(cJSON_GetObjectItem(o, "userId"));
    cJSON_Delete(o);
    cJSON_Delete(item);
}

Test(backend_model, ids_and_times_have_their_formats)
{
    char u[40], t[32];
    cr_assert_eq(model_uuid(u, sizeof u), 0);
    cr_expect_eq(strlen(u), 36);
    cr_expect_eq(u[14], '4');
    cr_expect(strchr("89ab", u[19]));
    cr_expect(val_id(u, 64));
    model_now_iso(t, sizeof t);
    cr_expect_eq(strlen(t), 24);
    cr_expect_eq(t[10], 'T');
    cr_expect_eq(t[23], 'Z');
    cJSON *k = model_key("USER#", "u-1", "CART#p-1");
    cr_expect_str_eq(model_get_s(k, "PK"), "USER#u-1");
    cr_expect_str_eq(model_get_s(k, "SK"), "CART#p-1");
    cJSON_Delete(k);
    cr_expect_eq(model_uuid(u, 10), -1);
}
