/*
 * test_router.c — routing the aws listener by target, path and SigV4 scope.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/router.h"

static void noop(void *ctx, const core_http_request *req, core_http_response *resp)
{
    (void)ctx;
    (void)req;
    (void)resp;
}

static core_router *router;

static void setup(void)
{
    router = core_router_new();
    core_service svcs[] = {
        {.name = "dynamodb", .target_prefix = "DynamoDB_20120810", .signing_name = "dynamodb",
         .handler = noop},
        {.name = "cognito", .target_prefix = "AWSCognitoIdentityProviderService",
         .signing_name = "cognito-idp", .handler = noop},
        {.name = "s3", .signing_name = "s3", .handler = noop},
        {.name = "shoplocal", .path_prefix = "/_shoplocal/", .handler = noop},
    };
    for (size_t i = 0; i < sizeof svcs / sizeof *svcs; i++)
        cr_assert_eq(core_router_add(router, &svcs[i]), CORE_OK);
}

static void teardown(void)
{
    core_router_free(router);
}

TestSuite(core_router, .init = setup, .fini = teardown);

static const char *match(const char *target, const char *auth, const char *path,
                         const char *query)
{
    const core_service *s = core_router_match(router, target, auth, path, query);
    return s ? s->name : NULL;
}

Test(core_router, routes_by_target_prefix)
{
    cr_assert_str_eq(match("DynamoDB_20120810.GetItem", NULL, "/", NULL), "dynamodb");
    cr_assert_str_eq(match("AWSCognitoIdentityProviderService.InitiateAuth", NULL, "/", NULL),
                     "cognito");
}

Test(core_router, target_prefix_must_match_whole)
{
    cr_assert_null(match("DynamoDB_2012081.GetItem", NULL, "/", NULL));
    cr_assert_null(match("DynamoDB_20120810X.GetItem", NULL, "/", NULL));
}

Test(core_router, unknown_target_is_not_claimed_by_scope_or_path)
{
    const char *auth = "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/s3/aws4_request, "
                       "SignedHeaders=host, Signature=00";
    cr_assert_null(match("Nope.Op", auth, "/_shoplocal/health", NULL));
}

Test(core_router, routes_by_path_prefix)
{
    cr_assert_str_eq(match(NULL, NULL, "/_shoplocal/health", NULL), "shoplocal");
    cr_assert_null(match(NULL, NULL, "/_shoplocalx", NULL));
}

Test(core_router, routes_by_sigv4_scope_service)
{
    const char *auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/"
                       "aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
    cr_assert_str_eq(match(NULL, auth, "/bucket/key", NULL), "s3");
}

Test(core_router, routes_presigned_urls_by_credential_query)
{
    const char *q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20250101%2F"
                    "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20250101T000000Z";
    cr_assert_str_eq(match(NULL, NULL, "/bucket/key", q), "s3");
}

Test(core_router, extracts_scope_service)
{
    char svc[32];
    cr_assert_eq(core_sigv4_scope_service("AWS4-HMAC-SHA256 Credential=A/20250101/eu-west-1/"
                                          "states/aws4_request, SignedHeaders=host",
                                          svc, sizeof svc), 0);
    cr_assert_str_eq(svc, "states");
}

Test(core_router, rejects_malformed_authorization_headers)
{
    char svc[8];
    const char *bad[] = {
        NULL,
        "",
        "Bearer abc",
        "AWS4-HMAC-SHA256 SignedHeaders=host",
        "AWS4-HMAC-SHA256 Credential=onlyone",
        "AWS4-HMAC-SHA256 Credential=a/b/c",
        "AWS4-HMAC-SHA256 Credential=a/b/c//aws4_request",
        "AWS4-HMAC-SHA256 Credential=a/b/c/averyveryverylongservicename/aws4_request",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(core_sigv4_scope_service(bad[i], svc, sizeof svc), -1, "case %zu", i);
}

Test(core_router, rejects_truncated_credential_query)
{
    char svc[32];
    cr_assert_eq(core_sigv4_query_service("X-Amz-Credential=AKID%2F2025", svc, sizeof svc), -1);
    cr_assert_eq(core_sigv4_query_service("X-Amz-Credential=%", svc, sizeof svc), -1);
    cr_assert_eq(core_sigv4_query_service("a=b&c", svc, sizeof svc), -1);
}

Test(core_router, unrouted_request_has_no_service)
{
    cr_assert_null(match(NULL, NULL, "/", NULL));
    cr_assert_null(match("", NULL, "/", ""));
}

Test(core_router, table_has_a_bound)
{
    core_router *r = core_router_new();
    core_service s = {.name = "x", .handler = noop};
    int rc = CORE_OK;
    size_t added = 0;
    while (rc == CORE_OK && added < 1000) {
        rc = core_router_add(r, &s);
        added += rc == CORE_OK;
    }
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_eq(core_router_count(r), added);
    core_router_free(r);
}
