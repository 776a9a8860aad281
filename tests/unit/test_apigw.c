/*
 * test_apigw.c — the pure core of the HTTP API emulation: route selection,
 * the payload 2.0 event, response mapping, CORS and throttling.
 *
 * Templates are inline YAML loaded with core_template_load_string; requests
 * are plain structs (method, path, header pairs), so no socket is involved.
 * Each suite's fixture owns what a test builds (template, route table, event,
 * response, params), so a failing assertion still frees everything — the
 * suite also runs under valgrind.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <criterion/criterion.h>

#include "apigateway/cors.h"
#include "apigateway/event.h"
#include "apigateway/response.h"
#include "apigateway/route.h"
#include "apigateway/throttle.h"
#include "apigateway/util.h"
#include "core/clock.h"
#include "core/template.h"

static core_template *tpl;
static apigw_routes *routes;
static apigw_params params;
static core_err err;
static char printed[1 << 14];
static core_http_response resp;
static cJSON *event;
static apigw_cors *cors;
static apigw_throttle *bucket;
static core_clock *clock_;

static void setup(void)
{
    tpl = NULL;
    routes = NULL;
    memset(&params, 0, sizeof params);
    memset(&resp, 0, sizeof resp);
    event = NULL;
    cors = NULL;
    bucket = NULL;
    clock_ = NULL;
    core_err_clear(&err);
}

static void teardown(void)
{
    apigw_params_release(&params);
    core_http_response_release(&resp);
    cJSON_Delete(event);
    event = NULL;
    apigw_cors_free(cors);
    cors = NULL;
    apigw_throttle_free(bucket);
    bucket = NULL;
    core_clock_free(clock_);
    clock_ = NULL;
    apigw_routes_free(routes);
    routes = NULL;
    core_template_free(tpl);
    tpl = NULL;
}

static const char *json(const cJSON *v)
{
    cr_assert_not_null(v);
    cr_assert(cJSON_PrintPreallocated((cJSON *)v, printed, (int)sizeof printed, 0));
    return printed;
}

/* A response header's value (case-insensitive, first one), or NULL. */
static const char *header(const char *name)
{
    for (size_t i = 0; i < resp.n_headers; i++)
        if (!strcasecmp(resp.headers[i].name, name))
            return resp.headers[i].value;
    return NULL;
}

static size_t header_count(const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < resp.n_headers; i++)
        n += !strcasecmp(resp.headers[i].name, name);
    return n;
}

static const char *body(void)
{
    cr_assert_not_null(resp.body);
    cr_assert_eq(strlen(resp.body), resp.body_len, "body has a NUL");
    return resp.body;
}

static int map(const char *payload)
{
    return apigw_response_map(payload, strlen(payload), "req-1", &resp);
}

static void load(const char *yaml)
{
    int rc = core_template_load_string(yaml, strlen(yaml), ".", NULL, &tpl, &err);
    cr_assert_eq(rc, CORE_OK, "load failed: %s", err.message);
}

/* A function `name` with one HttpApi event on Api: method and path. */
#define FN(name, method, path)                                                             \
    "  " name ":\n    Type: AWS::Serverless::Function\n    Properties:\n"                 \
    "      Handler: bootstrap\n      Events:\n        E:\n          Type: HttpApi\n"       \
    "          Properties:\n            ApiId: !Ref Api\n            Method: " method "\n" \
    "            Path: '" path "'\n"

#define API "  Api:\n    Type: AWS::Serverless::HttpApi\n"

/* Every precedence test uses this table. */
static const char precedence_template[] =
    "Resources:\n" API
    FN("Exact", "GET", "/pets/dog/1")
    FN("Param", "GET", "/pets/dog/{id}")
    FN("ParamAny", "ANY", "/pets/dog/{id}")
    FN("Greedy", "GET", "/pets/{proxy+}")
    FN("RootGreedy", "ANY", "/{proxy+}")
    FN("Orders", "ANY", "/orders/{id}")
    FN("OrdersLatest", "ANY", "/orders/latest")
    FN("Items", "GET", "/orders/{id}/items/{item}")
    FN("Root", "GET", "/")
    "  Fallback:\n    Type: AWS::Serverless::Function\n    Properties:\n"
    "      Handler: bootstrap\n      Events:\n        E:\n          Type: HttpApi\n"
    "          Properties:\n            ApiId: !Ref Api\n";

static void load_routes(const char *yaml)
{
    load(yaml);
    routes = apigw_routes_new(tpl, "Api", &err);
    cr_assert_not_null(routes, "routes: %s", err.message);
}

/* The function that method + path reaches, or "404". */
static const char *reach(const char *method, const char *path)
{
    apigw_params_release(&params);
    const apigw_route *r = apigw_route_match(routes, method, path, &params);
    return r ? r->function_id : "404";
}

/* ==== apigw_route ============================================================ */

TestSuite(apigw_route, .init = setup, .fini = teardown);

Test(apigw_route, builds_one_route_per_event_of_the_api)
{
    load_routes(precedence_template);
    cr_assert_eq(apigw_routes_count(routes), 10);
}

Test(apigw_route, exposes_the_route_settings_from_the_template)
{
    load_routes("Resources:\n" API
                "    Properties:\n      Auth:\n        Authorizers:\n          Jwt:\n"
                "            JwtConfiguration: {issuer: 'https://issuer.test'}\n"
                "  F:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                "      Handler: bootstrap\n      Events:\n        E:\n          Type: HttpApi\n"
                "          Properties:\n            ApiId: !Ref Api\n"
                "            Method: post\n            Path: /orders\n"
                "            TimeoutInMillis: 5000\n            PayloadFormatVersion: '1.0'\n"
                "            Auth: {Authorizer: Jwt, AuthorizationScopes: [orders/write]}\n");
    const apigw_route *r = apigw_route_match(routes, "POST", "/orders", NULL);
    cr_assert_not_null(r);
    cr_assert_str_eq(r->function_id, "F");
    cr_assert_str_eq(r->route_key, "POST /orders");
    cr_assert_str_eq(r->authorizer, "Jwt");
    cr_assert_eq(r->n_scopes, 1);
    cr_assert_str_eq(r->scopes[0], "orders/write");
    cr_assert_eq(r->timeout_ms, 5000);
    cr_assert_str_eq(r->payload_version, "1.0");
}

Test(apigw_route, takes_only_the_routes_of_the_named_api)
{
    load_routes("Resources:\n" API "  Other:\n    Type: AWS::Serverless::HttpApi\n"
                FN("Mine", "GET", "/a")
                "  Theirs:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                "      Handler: bootstrap\n      Events:\n        E:\n          Type: HttpApi\n"
                "          Properties:\n            ApiId: !Ref Other\n"
                "            Method: GET\n            Path: /b\n");
    cr_assert_eq(apigw_routes_count(routes), 1);
    cr_assert_str_eq(reach("GET", "/a"), "Mine");
    cr_assert_str_eq(reach("GET", "/b"), "404");
}

Test(apigw_route, refuses_an_api_the_template_does_not_have)
{
    load("Resources:\n" API);
    cr_assert_null(apigw_routes_new(tpl, "Nope", &err));
    cr_assert_str_eq(err.message, "no HTTP API Nope in the template");
}

Test(apigw_route, refuses_a_greedy_variable_that_is_not_last)
{
    load("Resources:\n" API FN("F", "GET", "/{proxy+}/x"));
    cr_assert_null(apigw_routes_new(tpl, "Api", &err));
    cr_assert_str_eq(err.message, "route GET /{proxy+}/x: the greedy variable must be the last "
                                  "segment");
}

Test(apigw_route, refuses_a_variable_sharing_a_segment_with_text)
{
    load("Resources:\n" API FN("F", "GET", "/orders/id-{id}"));
    cr_assert_null(apigw_routes_new(tpl, "Api", &err));
    cr_assert_str_eq(err.message,
                     "route GET /orders/id-{id}: a path variable must be a whole segment {name}");
}

Test(apigw_route, prefers_the_exact_path_to_a_parameter_route)
{
    load_routes(precedence_template);
    cr_assert_str_eq(reach("GET", "/pets/dog/1"), "Exact");
    cr_assert_eq(params.n, 0);
}

Test(apigw_route, prefers_a_parameter_route_to_a_greedy_route)
{
    load_routes(precedence_template);
    cr_assert_str_eq(reach("GET", "/pets/dog/2"), "Param");
    cr_assert_str_eq(apigw_params_get(&params, "id"), "2");
}

Test(apigw_route, prefers_the_request_method_to_any)
{
    load_routes(precedence_template);
    cr_assert_str_eq(reach("GET", "/pets/dog/7"), "Param");
    cr_assert_str_eq(reach("DELETE", "/pets/dog/7"), "ParamAny");
}

Test(apigw_route, prefers_a_literal_segment_to_a_variable_under_any)
{
    load_routes(precedence_template);
    cr_assert_str_eq(reach("GET", "/orders/latest"), "OrdersLatest");
    cr_assert_str_eq(reach("GET", "/orders/o-1"), "Orders");
}

Test(apigw_route, prefers_the_longer_greedy_prefix)
{
    load_routes(precedence_template);
    cr_assert_str_eq(reach("GET", "/pets/cat/1"), "Greedy");
    cr_assert_str_eq(apigw_params_get(&params, "proxy"), "cat/1");
    cr_assert_str_eq(reach("GET", "/toys/ball"), "RootGreedy");
    cr_assert_str_eq(apigw_params_get(&params, "proxy"), "toys/ball");
}

Test(apigw_route, sends_other_methods_to_the_any_greedy_route)
{
    load_routes(precedence_template);
    cr_assert_str_eq(reach("POST", "/pets/cat/1"), "RootGreedy");
    cr_assert_str_eq(apigw_params_get(&params, "proxy"), "pets/cat/1");
}

Test(apigw_route, sends_what_no_route_matches_to_default)
{
    load_routes("Resources:\n" API FN("Orders", "GET", "/orders")
                "  Fallback:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                "      Handler: bootstrap\n      Events:\n        E:\n          Type: HttpApi\n"
                "          Properties:\n            ApiId: !Ref Api\n");
    cr_assert_str_eq(reach("POST", "/orders"), "Fallback");
    cr_assert_str_eq(reach("GET", "/nothing/here"), "Fallback");
    const apigw_route *r = apigw_route_match(routes, "GET", "/x", NULL);
    cr_assert_str_eq(r->route_key, "$default");
}

Test(apigw_route, answers_not_found_without_a_default_route)
{
    load_routes("Resources:\n" API FN("Orders", "GET", "/orders"));
    cr_assert_str_eq(reach("POST", "/orders"), "404");
    cr_assert_str_eq(reach("GET", "/orders/1"), "404");
    cr_assert_eq(params.n, 0);
}

Test(apigw_route, matches_the_root_path)
{
    load_routes(precedence_template);
    cr_assert_str_eq(reach("GET", "/"), "Root");
    cr_assert_str_eq(reach("POST", "/"), "Fallback");
}

Test(apigw_route, takes_several_path_variables_in_order)
{
    load_routes(precedence_template);
    cr_assert_str_eq(reach("GET", "/orders/o-1/items/i-2"), "Items");
    cr_assert_eq(params.n, 2);
    cr_assert_str_eq(params.items[0].name, "id");
    cr_assert_str_eq(params.items[0].value, "o-1");
    cr_assert_str_eq(params.items[1].name, "item");
    cr_assert_str_eq(params.items[1].value, "i-2");
    cJSON *o = apigw_params_json(&params);
    cr_assert_str_eq(json(o), "{\"id\":\"o-1\",\"item\":\"i-2\"}");
    cJSON_Delete(o);
}

Test(apigw_route, decodes_path_variables_but_keeps_plus)
{
    load_routes(precedence_template);
    cr_assert_str_eq(reach("GET", "/orders/a%20b+c%C3%A9"), "Orders");
    cr_assert_str_eq(apigw_params_get(&params, "id"), "a b+c\xC3\xA9");
}

Test(apigw_route, decodes_every_segment_of_a_greedy_variable)
{
    load_routes(precedence_template);
    cr_assert_str_eq(reach("GET", "/pets/a%20b/c%21"), "Greedy");
    cr_assert_str_eq(apigw_params_get(&params, "proxy"), "a b/c!");
}

Test(apigw_route, matches_decoded_segments_against_literals)
{
    load_routes(precedence_template);
    cr_assert_str_eq(reach("GET", "/orders/%6Catest"), "OrdersLatest");
}

Test(apigw_route, gives_a_trailing_slash_only_to_a_greedy_route)
{
    load_routes(precedence_template);
    cr_assert_str_eq(reach("GET", "/pets/dog/1/"), "Greedy");
    cr_assert_str_eq(apigw_params_get(&params, "proxy"), "dog/1/");
    cr_assert_str_eq(reach("GET", "/pets/"), "Greedy");
    cr_assert_str_eq(apigw_params_get(&params, "proxy"), "");
}

Test(apigw_route, does_not_match_a_greedy_route_without_a_child)
{
    load_routes("Resources:\n" API FN("Greedy", "GET", "/pets/{proxy+}"));
    cr_assert_str_eq(reach("GET", "/pets"), "404");
    cr_assert_str_eq(reach("GET", "/"), "404");
}

Test(apigw_route, matches_paths_case_sensitively)
{
    load_routes("Resources:\n" API FN("F", "GET", "/Orders"));
    cr_assert_str_eq(reach("GET", "/Orders"), "F");
    cr_assert_str_eq(reach("GET", "/orders"), "404");
    cr_assert_str_eq(reach("get", "/Orders"), "404");
}

Test(apigw_route, refuses_hostile_paths_even_with_a_default_route)
{
    load_routes(precedence_template);
    static const char *const hostile[] = {
        "/pets//dog",       "//pets",          "/pets/./dog",   "/pets/../orders/1",
        "/orders/%2E%2E",   "/orders/a%2Fb",   "/orders/a%2fb", "/orders/%00",
        "/orders/%zz",      "/orders/%4",      "/orders/%FF",   "/orders/%C0%AF",
        "orders/1",         "",
    };
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        cr_expect_str_eq(reach("GET", hostile[i]), "404", "path %s", hostile[i]);
        cr_expect_eq(params.n, 0);
    }
}

Test(apigw_route, refuses_a_path_longer_than_the_limit)
{
    load_routes(precedence_template);
    char *path = malloc(APIGW_MAX_PATH + 2);
    cr_assert_not_null(path);
    memcpy(path, "/pets/", 6);
    memset(path + 6, 'a', APIGW_MAX_PATH - 6);
    path[APIGW_MAX_PATH] = '\0';
    const char *at_limit = reach("GET", path);
    path[APIGW_MAX_PATH] = 'a';
    path[APIGW_MAX_PATH + 1] = '\0';
    const char *over = reach("GET", path);
    free(path);
    cr_assert_str_eq(at_limit, "Greedy");
    cr_assert_str_eq(over, "404");
}

Test(apigw_route, strips_a_named_stage)
{
    cr_assert_str_eq(apigw_strip_stage("/v1/orders/1", "v1"), "/orders/1");
    cr_assert_str_eq(apigw_strip_stage("/v1", "v1"), "/");
    cr_assert_str_eq(apigw_strip_stage("/v1/", "v1"), "/");
}

Test(apigw_route, refuses_a_path_outside_the_stage)
{
    cr_assert_null(apigw_strip_stage("/orders/1", "v1"));
    cr_assert_null(apigw_strip_stage("/v10/orders", "v1"));
    cr_assert_null(apigw_strip_stage("v1/orders", "v1"));
}

Test(apigw_route, keeps_the_path_under_the_default_stage)
{
    cr_assert_str_eq(apigw_strip_stage("/v1/orders", "$default"), "/v1/orders");
}

/* ==== apigw_response ========================================================= */

TestSuite(apigw_response, .init = setup, .fini = teardown);

Test(apigw_response, answers_a_json_object_without_status_code_as_200_json)
{
    cr_assert_eq(map("{\"items\":[1,2]}"), 0);
    cr_assert_eq(resp.status, 200);
    cr_assert_str_eq(body(), "{\"items\":[1,2]}");
    cr_assert_str_eq(header("content-type"), "application/json");
    cr_assert_str_eq(header("apigw-requestid"), "req-1");
    cr_assert_eq(resp.n_headers, 2);
}

Test(apigw_response, answers_a_bare_string_as_its_text)
{
    cr_assert_eq(map("\"Hello from Lambda!\""), 0);
    cr_assert_eq(resp.status, 200);
    cr_assert_str_eq(body(), "Hello from Lambda!");
    cr_assert_str_eq(header("content-type"), "application/json");
}

Test(apigw_response, answers_a_bare_number_array_or_boolean_as_json_text)
{
    cr_assert_eq(map("42"), 0);
    cr_assert_str_eq(body(), "42");
    cr_assert_eq(map("[1,\"a\"]"), 0);
    cr_assert_str_eq(body(), "[1,\"a\"]");
    cr_assert_eq(map("true"), 0);
    cr_assert_str_eq(body(), "true");
    cr_assert_eq(resp.status, 200);
}

Test(apigw_response, maps_status_headers_cookies_and_body)
{
    cr_assert_eq(map("{\"statusCode\":201,\"headers\":{\"Content-Type\":\"text/plain\","
                     "\"X-Count\":3,\"X-Flag\":true,\"X-Ratio\":1.5},"
                     "\"cookies\":[\"a=1; Path=/\",\"b=2; HttpOnly\"],\"body\":\"created\"}"),
                 0);
    cr_assert_eq(resp.status, 201);
    cr_assert_str_eq(body(), "created");
    cr_assert_str_eq(header("content-type"), "text/plain");
    cr_assert_str_eq(header("x-count"), "3");
    cr_assert_str_eq(header("x-flag"), "true");
    cr_assert_str_eq(header("x-ratio"), "1.5");
    cr_assert_eq(header_count("set-cookie"), 2);
    cr_assert_str_eq(resp.headers[4].value, "a=1; Path=/");
    cr_assert_str_eq(resp.headers[5].value, "b=2; HttpOnly");
    cr_assert_str_eq(header("apigw-requestid"), "req-1");
}

Test(apigw_response, sends_an_empty_body_when_the_function_gives_none)
{
    cr_assert_eq(map("{\"statusCode\":204}"), 0);
    cr_assert_eq(resp.status, 204);
    cr_assert_eq(resp.body_len, 0);
    cr_assert_null(header("content-type"));
}

Test(apigw_response, ignores_multi_value_headers_of_format_1)
{
    cr_assert_eq(map("{\"statusCode\":200,\"multiValueHeaders\":{\"x-a\":[\"1\",\"2\"]},"
                     "\"body\":\"ok\"}"),
                 0);
    cr_assert_null(header("x-a"));
}

Test(apigw_response, decodes_a_base64_body)
{
    cr_assert_eq(map("{\"statusCode\":200,\"isBase64Encoded\":true,\"body\":\"AAEC/w==\","
                     "\"headers\":{\"content-type\":\"application/octet-stream\"}}"),
                 0);
    cr_assert_eq(resp.body_len, 4);
    cr_assert_eq(memcmp(resp.body, "\x00\x01\x02\xff", 4), 0);
}

Test(apigw_response, keeps_a_base64_looking_body_when_the_flag_is_false)
{
    cr_assert_eq(map("{\"statusCode\":200,\"isBase64Encoded\":false,\"body\":\"AAEC/w==\"}"), 0);
    cr_assert_str_eq(body(), "AAEC/w==");
}

Test(apigw_response, does_not_let_the_function_set_content_length)
{
    cr_assert_eq(map("{\"statusCode\":200,\"headers\":{\"Content-Length\":\"999\"},"
                     "\"body\":\"ok\"}"),
                 0);
    cr_assert_null(header("content-length"));
}

static void assert_internal_error(void)
{
    cr_assert_eq(resp.status, 500);
    cr_assert_str_eq(body(), "{\"message\":\"Internal Server Error\"}");
    cr_assert_str_eq(header("content-type"), "application/json");
    cr_assert_str_eq(header("apigw-requestid"), "req-1");
    cr_assert_eq(resp.n_headers, 2);
}

Test(apigw_response, answers_500_to_a_result_that_is_not_json)
{
    cr_assert_eq(map("Hello, not JSON"), -1);
    assert_internal_error();
    cr_assert_eq(map(""), -1);
    assert_internal_error();
    cr_assert_eq(map("{\"a\":1} trailing"), -1);
    assert_internal_error();
}

Test(apigw_response, answers_500_to_a_status_code_out_of_range_or_not_an_integer)
{
    static const char *const bad[] = {
        "{\"statusCode\":99}",       "{\"statusCode\":600}",  "{\"statusCode\":200.5}",
        "{\"statusCode\":\"200\"}", "{\"statusCode\":null}", "{\"statusCode\":-1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(map(bad[i]), -1, "%s", bad[i]);
        assert_internal_error();
    }
}

Test(apigw_response, answers_500_to_a_body_that_is_not_a_string)
{
    cr_assert_eq(map("{\"statusCode\":200,\"body\":{\"a\":1}}"), -1);
    assert_internal_error();
}

Test(apigw_response, answers_500_to_malformed_headers_cookies_or_base64)
{
    static const char *const bad[] = {
        "{\"statusCode\":200,\"headers\":{\"x\":{\"y\":1}}}",
        "{\"statusCode\":200,\"headers\":[\"x\"]}",
        "{\"statusCode\":200,\"headers\":{\"ok\":\"1\"},\"cookies\":[\"a=1\",2]}",
        "{\"statusCode\":200,\"cookies\":\"a=1\"}",
        "{\"statusCode\":200,\"isBase64Encoded\":true,\"body\":\"not base64!\"}",
        "{\"statusCode\":200,\"isBase64Encoded\":\"yes\",\"body\":\"\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(map(bad[i]), -1, "%s", bad[i]);
        assert_internal_error();
    }
}

Test(apigw_response, replaces_what_the_response_held_before)
{
    core_http_response_header(&resp, "x-stale", "1", 0);
    cr_assert_eq(map("{\"statusCode\":202,\"body\":\"\"}"), 0);
    cr_assert_null(header("x-stale"));
    cr_assert_eq(resp.status, 202);
}

Test(apigw_response, answers_with_api_gateway_messages)
{
    static const struct {
        int status;
        const char *body;
    } cases[] = {
        {401, "{\"message\":\"Unauthorized\"}"},
        {403, "{\"message\":\"Forbidden\"}"},
        {404, "{\"message\":\"Not Found\"}"},
        {413, "{\"message\":\"Request Entity Too Large\"}"},
        {429, "{\"message\":\"Too Many Requests\"}"},
        {500, "{\"message\":\"Internal Server Error\"}"},
        {503, "{\"message\":\"Service Unavailable\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        apigw_answer(&resp, cases[i].status, "req-9");
        cr_assert_eq(resp.status, cases[i].status);
        cr_assert_str_eq(body(), cases[i].body);
        cr_assert_str_eq(header("content-type"), "application/json");
        cr_assert_str_eq(header("apigw-requestid"), "req-9");
        cr_assert_eq(resp.n_headers, 2);
    }
}

Test(apigw_response, answers_an_unknown_status_as_internal_server_error)
{
    apigw_answer(&resp, 418, "req-9");
    cr_assert_eq(resp.status, 500);
    cr_assert_str_eq(body(), "{\"message\":\"Internal Server Error\"}");
}

/* ==== apigw_event ============================================================ */

TestSuite(apigw_event, .init = setup, .fini = teardown);

/* 2020-03-12T19:03:58.390Z, the guide's example instant. */
#define EPOCH_MS 1584039838390LL

static apigw_event_input request(const apigw_header_pair *headers, size_t n_headers)
{
    apigw_event_input in = {
        .method = "GET",
        .raw_path = "/orders",
        .raw_query = "",
        .headers = headers,
        .n_headers = n_headers,
        .source_ip = "127.0.0.1",
        .request_id = "req-1",
        .epoch_ms = EPOCH_MS,
        .api_id = "abcdef1234",
        .stage = "$default",
        .route_key = "GET /orders",
        .domain_name = "abcdef1234.execute-api.localhost",
    };
    return in;
}

static const char *build(const apigw_event_input *in)
{
    cJSON_Delete(event);
    event = apigw_event_build(in);
    return json(event);
}

static const char *field(const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(event, name);
    return v ? json(v) : "(absent)";
}

#define CONTEXT(route_key)                                                                  \
    "\"requestContext\":{\"accountId\":\"000000000000\",\"apiId\":\"abcdef1234\","         \
    "\"domainName\":\"abcdef1234.execute-api.localhost\",\"domainPrefix\":\"abcdef1234\"," \
    "\"http\":{\"method\":\"GET\",\"path\":\"/orders\",\"protocol\":\"HTTP/1.1\","         \
    "\"sourceIp\":\"127.0.0.1\",\"userAgent\":\"\"},\"requestId\":\"req-1\","             \
    "\"routeKey\":\"" route_key "\",\"stage\":\"$default\","                               \
    "\"time\":\"12/Mar/2020:19:03:58 +0000\",\"timeEpoch\":1584039838390}"

Test(apigw_event, builds_the_minimal_event_with_absent_parts_left_out)
{
    apigw_event_input in = request(NULL, 0);
    cr_assert_str_eq(build(&in), "{\"version\":\"2.0\",\"routeKey\":\"GET /orders\","
                                 "\"rawPath\":\"/orders\",\"rawQueryString\":\"\","
                                 "\"headers\":{}," CONTEXT("GET /orders") ","
                                 "\"isBase64Encoded\":false}");
}

Test(apigw_event, builds_the_exact_event_of_a_full_request)
{
    static const apigw_header_pair headers[] = {
        {"Host", "abcdef1234.execute-api.localhost:3000"},
        {"User-Agent", "curl/8.5"},
        {"Accept", "text/html"},
        {"Cookie", "a=1; b=2"},
        {"X-Tag", "one"},
        {"accept", "application/json"},
        {"Cookie", "c=3"},
        {"X-TAG", "two"},
        {"Content-Type", "application/json"},
    };
    apigw_event_input in = request(headers, sizeof headers / sizeof *headers);
    in.method = "POST";
    in.raw_path = "/v1/orders/o%201";
    in.raw_query = "tag=a&tag=b%2Fc&q=x+y&empty=&flag";
    in.stage = "v1";
    in.route_key = "POST /orders/{id}";
    apigw_params p = {.n = 1, .items = {{"id", (char *)"o 1"}}};
    in.path_params = &p;
    in.body = (const unsigned char *)"{\"qty\":2}";
    in.body_len = 9;
    cr_assert_str_eq(
        build(&in),
        "{\"version\":\"2.0\",\"routeKey\":\"POST /orders/{id}\",\"rawPath\":\"/v1/orders/o%201\","
        "\"rawQueryString\":\"tag=a&tag=b%2Fc&q=x+y&empty=&flag\","
        "\"cookies\":[\"a=1\",\"b=2\",\"c=3\"],"
        "\"headers\":{\"host\":\"abcdef1234.execute-api.localhost:3000\","
        "\"user-agent\":\"curl/8.5\",\"accept\":\"text/html,application/json\","
        "\"x-tag\":\"one,two\",\"content-type\":\"application/json\"},"
        "\"queryStringParameters\":{\"tag\":\"a,b/c\",\"q\":\"x y\",\"empty\":\"\",\"flag\":\"\"},"
        "\"requestContext\":{\"accountId\":\"000000000000\",\"apiId\":\"abcdef1234\","
        "\"domainName\":\"abcdef1234.execute-api.localhost\",\"domainPrefix\":\"abcdef1234\","
        "\"http\":{\"method\":\"POST\",\"path\":\"/v1/orders/o%201\",\"protocol\":\"HTTP/1.1\","
        "\"sourceIp\":\"127.0.0.1\",\"userAgent\":\"curl/8.5\"},\"requestId\":\"req-1\","
        "\"routeKey\":\"POST /orders/{id}\",\"stage\":\"v1\","
        "\"time\":\"12/Mar/2020:19:03:58 +0000\",\"timeEpoch\":1584039838390},"
        "\"body\":\"{\\\"qty\\\":2}\",\"pathParameters\":{\"id\":\"o 1\"},"
        "\"isBase64Encoded\":false}");
}

Test(apigw_event, keeps_cookies_out_of_headers)
{
    static const apigw_header_pair headers[] = {{"cookie", "session=abc"}};
    apigw_event_input in = request(headers, 1);
    build(&in);
    cr_assert_str_eq(field("cookies"), "[\"session=abc\"]");
    cr_assert_str_eq(field("headers"), "{}");
}

Test(apigw_event, decodes_query_parameters_but_keeps_the_raw_query)
{
    apigw_event_input in = request(NULL, 0);
    in.raw_query = "name=caf%C3%A9&sum=1%2B1&bad=%zz&k%20ey=v";
    build(&in);
    cr_assert_str_eq(field("rawQueryString"), "\"name=caf%C3%A9&sum=1%2B1&bad=%zz&k%20ey=v\"");
    cr_assert_str_eq(field("queryStringParameters"),
                     "{\"name\":\"caf\xC3\xA9\",\"sum\":\"1+1\",\"bad\":\"%zz\",\"k ey\":\"v\"}");
}

Test(apigw_event, sends_a_binary_body_as_base64)
{
    static const apigw_header_pair headers[] = {{"Content-Type", "image/png"}};
    apigw_event_input in = request(headers, 1);
    in.body = (const unsigned char *)"\x89PNG\r\n";
    in.body_len = 6;
    build(&in);
    cr_assert_str_eq(field("body"), "\"iVBORw0K\"");
    cr_assert_str_eq(field("isBase64Encoded"), "true");
}

Test(apigw_event, sends_a_body_without_content_type_as_base64)
{
    apigw_event_input in = request(NULL, 0);
    in.body = (const unsigned char *)"hello";
    in.body_len = 5;
    build(&in);
    cr_assert_str_eq(field("body"), "\"aGVsbG8=\"");
    cr_assert_str_eq(field("isBase64Encoded"), "true");
}

Test(apigw_event, sends_a_form_post_as_base64)
{
    static const apigw_header_pair headers[] = {
        {"Content-Type", "application/x-www-form-urlencoded"}};
    apigw_event_input in = request(headers, 1);
    in.body = (const unsigned char *)"a=1";
    in.body_len = 3;
    build(&in);
    cr_assert_str_eq(field("body"), "\"YT0x\"");
    cr_assert_str_eq(field("isBase64Encoded"), "true");
}

Test(apigw_event, sends_text_types_as_text_whatever_the_charset_parameter)
{
    static const char *const types[] = {"text/plain", "application/json; charset=utf-8",
                                        "Application/XML", "application/javascript"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        apigw_header_pair h = {"Content-Type", types[i]};
        apigw_event_input in = request(&h, 1);
        in.body = (const unsigned char *)"caf\xC3\xA9";
        in.body_len = 5;
        build(&in);
        cr_assert_str_eq(field("body"), "\"caf\xC3\xA9\"", "%s", types[i]);
        cr_assert_str_eq(field("isBase64Encoded"), "false");
    }
}

Test(apigw_event, sends_a_text_body_that_is_not_utf8_as_base64)
{
    static const apigw_header_pair headers[] = {{"Content-Type", "text/plain"}};
    apigw_event_input in = request(headers, 1);
    in.body = (const unsigned char *)"caf\xE9";
    in.body_len = 4;
    build(&in);
    cr_assert_str_eq(field("body"), "\"Y2Fm6Q==\"");
    cr_assert_str_eq(field("isBase64Encoded"), "true");
}

Test(apigw_event, leaves_out_an_empty_body)
{
    static const apigw_header_pair headers[] = {{"Content-Type", "application/json"}};
    apigw_event_input in = request(headers, 1);
    in.body = (const unsigned char *)"";
    in.body_len = 0;
    build(&in);
    cr_assert_str_eq(field("body"), "(absent)");
    cr_assert_str_eq(field("isBase64Encoded"), "false");
}

Test(apigw_event, stringifies_the_jwt_claims)
{
    cJSON *claims = cJSON_Parse("{\"sub\":\"u-1\",\"cognito:groups\":[\"Admins\",\"Staff\"],"
                                "\"exp\":1700000000,\"email_verified\":true,\"ratio\":0.5,"
                                "\"addr\":{\"c\":\"FR\"},\"none\":null}");
    cJSON *scopes = cJSON_Parse("[\"orders/read\"]");
    apigw_event_input in = request(NULL, 0);
    in.jwt_claims = claims;
    in.jwt_scopes = scopes;
    build(&in);
    cJSON_Delete(claims);
    cJSON_Delete(scopes);
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(event, "requestContext");
    cr_assert_str_eq(json(cJSON_GetObjectItemCaseSensitive(ctx, "authorizer")),
                     "{\"jwt\":{\"claims\":{\"sub\":\"u-1\",\"cognito:groups\":\"[Admins Staff]\","
                     "\"exp\":\"1700000000\",\"email_verified\":\"true\",\"ratio\":\"0.5\","
                     "\"addr\":\"{\\\"c\\\":\\\"FR\\\"}\"},\"scopes\":[\"orders/read\"]}}");
}

Test(apigw_event, leaves_out_the_authorizer_when_none_ran)
{
    apigw_event_input in = request(NULL, 0);
    build(&in);
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(event, "requestContext");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(ctx, "authorizer"));
}

Test(apigw_event, takes_the_domain_from_the_host_header_without_port)
{
    static const apigw_header_pair headers[] = {{"Host", "shop.local:3000"}};
    apigw_event_input in = request(headers, 1);
    in.domain_name = NULL;
    build(&in);
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(event, "requestContext");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(ctx, "domainName")->valuestring,
                     "shop.local");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(ctx, "domainPrefix")->valuestring, "shop");
}

Test(apigw_event, copies_headers_into_a_list_that_owns_them)
{
    apigw_header_list list = {0};
    cr_assert_eq(apigw_header_list_add(&list, "X-A", "1"), 0);
    cr_assert_eq(apigw_header_list_add(&list, "X-B", NULL), 0);
    cr_assert_eq(list.n, 2);
    cr_assert_str_eq(list.items[0].name, "X-A");
    cr_assert_str_eq(list.items[1].value, "");
    apigw_header_list_release(&list);
    cr_assert_eq(list.n, 0);
    cr_assert_null(list.items);
}

/* ==== apigw_cors ============================================================= */

TestSuite(apigw_cors, .init = setup, .fini = teardown);

static const char cors_template[] =
    "Resources:\n" API "    Properties:\n      CorsConfiguration:\n"
    "        AllowOrigins: ['https://shop.test', 'http://localhost:*']\n"
    "        AllowMethods: [GET, POST]\n"
    "        AllowHeaders: [authorization, content-type]\n"
    "        ExposeHeaders: [x-request-id]\n"
    "        MaxAge: 600\n"
    "        AllowCredentials: true\n";

/* The CORS of the template's only HTTP API. */
static void load_cors(const char *yaml)
{
    load(yaml);
    cr_assert_eq(apigw_cors_new(core_template_http_api_at(tpl, 0)->cors, &cors, &err), CORE_OK,
                 "%s", err.message);
}

Test(apigw_cors, recognises_a_preflight_by_method_origin_and_request_method)
{
    cr_assert(apigw_cors_is_preflight("OPTIONS", "https://shop.test", "POST"));
    cr_assert_not(apigw_cors_is_preflight("OPTIONS", "https://shop.test", NULL));
    cr_assert_not(apigw_cors_is_preflight("OPTIONS", NULL, "POST"));
    cr_assert_not(apigw_cors_is_preflight("GET", "https://shop.test", "POST"));
}

Test(apigw_cors, answers_a_preflight_with_204_and_the_configured_headers)
{
    load_cors(cors_template);
    apigw_cors_preflight(cors, "https://shop.test", "req-1", &resp);
    cr_assert_eq(resp.status, 204);
    cr_assert_eq(resp.body_len, 0);
    cr_assert_str_eq(header("access-control-allow-origin"), "https://shop.test");
    cr_assert_str_eq(header("access-control-allow-credentials"), "true");
    cr_assert_str_eq(header("access-control-allow-methods"), "GET,POST");
    cr_assert_str_eq(header("access-control-allow-headers"), "authorization,content-type");
    cr_assert_str_eq(header("access-control-max-age"), "600");
    cr_assert_str_eq(header("apigw-requestid"), "req-1");
    cr_assert_null(header("access-control-expose-headers"));
    cr_assert_eq(resp.n_headers, 6);
}

Test(apigw_cors, answers_a_preflight_from_another_origin_without_cors_headers)
{
    load_cors(cors_template);
    apigw_cors_preflight(cors, "https://evil.test", "req-1", &resp);
    cr_assert_eq(resp.status, 204);
    cr_assert_null(header("access-control-allow-origin"));
    cr_assert_null(header("access-control-allow-methods"));
    cr_assert_eq(resp.n_headers, 1);
}

Test(apigw_cors, matches_a_scheme_wildcard_origin)
{
    load_cors(cors_template);
    cr_assert(apigw_cors_origin_allowed(cors, "http://localhost:5173"));
    cr_assert_not(apigw_cors_origin_allowed(cors, "https://localhost:5173"));
    cr_assert_not(apigw_cors_origin_allowed(cors, "https://shop.test.evil"));
    cr_assert_not(apigw_cors_origin_allowed(cors, NULL));
}

Test(apigw_cors, adds_cors_headers_to_a_response_and_drops_the_functions_own)
{
    load_cors(cors_template);
    core_http_response_header(&resp, "content-type", "application/json", 0);
    core_http_response_header(&resp, "Access-Control-Allow-Origin", "*", 0);
    core_http_response_header(&resp, "access-control-max-age", "1", 0);
    apigw_cors_decorate(cors, "https://shop.test", &resp);
    cr_assert_eq(resp.n_headers, 4);
    cr_assert_str_eq(resp.headers[0].value, "application/json");
    cr_assert_str_eq(header("access-control-allow-origin"), "https://shop.test");
    cr_assert_str_eq(header("access-control-allow-credentials"), "true");
    cr_assert_str_eq(header("access-control-expose-headers"), "x-request-id");
    cr_assert_null(header("access-control-max-age"));
}

Test(apigw_cors, adds_nothing_for_a_request_without_an_allowed_origin)
{
    load_cors(cors_template);
    core_http_response_header(&resp, "access-control-allow-origin", "*", 0);
    apigw_cors_decorate(cors, NULL, &resp);
    cr_assert_eq(resp.n_headers, 0);
    apigw_cors_decorate(cors, "https://evil.test", &resp);
    cr_assert_eq(resp.n_headers, 0);
}

Test(apigw_cors, answers_a_star_origin_with_star_without_credentials)
{
    load_cors("Resources:\n" API "    Properties:\n      CorsConfiguration:\n"
              "        AllowOrigins: ['*']\n");
    apigw_cors_decorate(cors, "https://any.test", &resp);
    cr_assert_str_eq(header("access-control-allow-origin"), "*");
    cr_assert_null(header("access-control-allow-credentials"));
}

Test(apigw_cors, reads_cors_configuration_true_as_allow_everything)
{
    load_cors("Resources:\n" API "    Properties:\n      CorsConfiguration: true\n");
    cr_assert_not_null(cors);
    apigw_cors_preflight(cors, "https://any.test", "req-1", &resp);
    cr_assert_str_eq(header("access-control-allow-origin"), "*");
    cr_assert_str_eq(header("access-control-allow-methods"), "*");
    cr_assert_str_eq(header("access-control-allow-headers"), "*");
}

Test(apigw_cors, has_no_cors_without_a_configuration)
{
    load_cors("Resources:\n" API);
    cr_assert_null(cors);
    apigw_cors_decorate(cors, "https://shop.test", &resp);
    cr_assert_eq(resp.n_headers, 0);
}

Test(apigw_cors, refuses_a_malformed_configuration)
{
    cJSON *bad = cJSON_Parse("{\"AllowMethods\":\"GET\"}");
    cr_assert_eq(apigw_cors_new(bad, &cors, &err), CORE_ERROR);
    cJSON_Delete(bad);
    cr_assert_null(cors);
    cr_assert_str_eq(err.message, "CorsConfiguration.AllowMethods: a list of strings");
}

/* ==== apigw_throttle ========================================================= */

TestSuite(apigw_throttle, .init = setup, .fini = teardown);

static int take(void)
{
    return apigw_throttle_take(bucket, core_clock_now_ms(clock_));
}

static void virtual_bucket(int burst, double rate)
{
    clock_ = core_clock_new(CORE_CLOCK_VIRTUAL, 1700000000000LL);
    cr_assert_not_null(clock_);
    bucket = apigw_throttle_new(burst, rate, core_clock_now_ms(clock_));
    cr_assert_not_null(bucket);
}

Test(apigw_throttle, allows_a_burst_then_refuses)
{
    virtual_bucket(3, 1);
    cr_assert_eq(take(), 1);
    cr_assert_eq(take(), 1);
    cr_assert_eq(take(), 1);
    cr_assert_eq(take(), 0);
    cr_assert_eq(take(), 0);
}

Test(apigw_throttle, refills_at_the_rate_limit)
{
    virtual_bucket(2, 10);
    cr_assert_eq(take(), 1);
    cr_assert_eq(take(), 1);
    cr_assert_eq(take(), 0);
    core_clock_advance_ms(clock_, 99);
    cr_assert_eq(take(), 0);
    core_clock_advance_ms(clock_, 1);
    cr_assert_eq(take(), 1);
    cr_assert_eq(take(), 0);
}

Test(apigw_throttle, never_holds_more_than_the_burst)
{
    virtual_bucket(2, 100);
    core_clock_advance_ms(clock_, 60000);
    cr_assert_eq(take(), 1);
    cr_assert_eq(take(), 1);
    cr_assert_eq(take(), 0);
}

Test(apigw_throttle, refills_fractional_rates_exactly)
{
    virtual_bucket(1, 0.5);
    cr_assert_eq(take(), 1);
    core_clock_advance_ms(clock_, 1999);
    cr_assert_eq(take(), 0);
    core_clock_advance_ms(clock_, 1);
    cr_assert_eq(take(), 1);
}

Test(apigw_throttle, refills_nothing_when_time_goes_backwards)
{
    virtual_bucket(1, 1000);
    cr_assert_eq(apigw_throttle_take(bucket, 1700000000000LL), 1);
    cr_assert_eq(apigw_throttle_take(bucket, 1699999000000LL), 0);
}

Test(apigw_throttle, uses_the_account_limits_when_unset)
{
    virtual_bucket(0, 0);
    for (int i = 0; i < APIGW_ACCOUNT_BURST; i++)
        cr_assert_eq(take(), 1, "request %d", i);
    cr_assert_eq(take(), 0);
    core_clock_advance_ms(clock_, 1); /* 10,000 per second: 10 tokens a millisecond */
    for (int i = 0; i < 10; i++)
        cr_assert_eq(take(), 1, "refilled request %d", i);
    cr_assert_eq(take(), 0);
}

Test(apigw_util, base64_decode_takes_optional_padding_and_the_standard_alphabet)
{
    static const struct {
        const char *in;
        const char *out; /* NULL: rejected */
        size_t len;
    } cases[] = {{"", "", 0},          {"Zg==", "f", 1},   {"Zg", "f", 1},      {"Zm8=", "fo", 2},
                 {"Zm8", "fo", 2},     {"Zm9v", "foo", 3}, {"+/8=", "\xfb\xff", 2}, {"Zg=", NULL, 0},
                 {"Z", NULL, 0},       {"Zg===", NULL, 0}, {"-_8=", NULL, 0},   {"Zm 9v", NULL, 0},
                 {"Zm=v", NULL, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t len = 99;
        unsigned char *s = apigw_base64_decode(cases[i].in, strlen(cases[i].in), &len);
        if (!cases[i].out) {
            cr_expect_null(s, "case %zu (%s) should be rejected", i, cases[i].in);
        } else {
            cr_assert_not_null(s, "case %zu (%s)", i, cases[i].in);
            cr_expect_eq(len, cases[i].len, "case %zu length", i);
            cr_expect_eq(memcmp(s, cases[i].out, len), 0, "case %zu bytes", i);
        }
        free(s);
    }
}
