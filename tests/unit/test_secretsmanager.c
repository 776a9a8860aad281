/*
 * test_secretsmanager.c — Secrets Manager's model (emulator/secretsmanager/model.c)
 * on an in-memory database: lookups by name and ARN, versions and staging
 * labels, pagination, the template's secrets, and malformed, oversized and
 * hostile requests. (The wire, with boto3 and the CLI: tests/compat/test_secretsmanager.py.)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/template.h"
#include "secretsmanager/model.h"

static sm_model *model;
static core_clock *clk;

static void setup(void)
{
    clk = core_clock_new(CORE_CLOCK_VIRTUAL, 1700000000000LL);
    core_err err;
    core_err_clear(&err);
    cr_assert_eq(sm_model_open(NULL, "us-east-1", clk, &model, &err), CORE_OK, "%s", err.message);
}

static void teardown(void)
{
    sm_model_close(model);
    core_clock_free(clk);
}

TestSuite(secretsmanager, .init = setup, .fini = teardown);

/* Run op on the request text; CORE_OK with *out, or the error in err. */
static int run(const char *op, const char *req_text, cJSON **out, core_err *err)
{
    cJSON *req = cJSON_Parse(req_text);
    cr_assert(req, "bad test JSON: %s", req_text);
    core_err_clear(err);
    *out = NULL;
    int rc = sm_model_run(model, sm_op_find(op), req, out, err);
    cJSON_Delete(req);
    return rc;
}

static cJSON *ok(const char *op, const char *req_text)
{
    cJSON *out;
    core_err err;
    cr_assert_eq(run(op, req_text, &out, &err), CORE_OK, "%s %s: %s %s", op, req_text, err.type,
                 err.message);
    return out;
}

static void fails(const char *op, const char *req_text, const char *type, const char *message)
{
    cJSON *out;
    core_err err;
    cr_assert_eq(run(op, req_text, &out, &err), CORE_ERROR, "%s %s succeeded", op, req_text);
    cr_assert_null(out);
    cr_assert_str_eq(err.type, type, "%s %s: %s", op, req_text, err.message);
    cr_assert_eq(err.status, 400);
    if (message)
        cr_assert_str_eq(err.message, message, "%s %s", op, req_text);
}

static const char *field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

Test(secretsmanager, finds_a_secret_by_name_full_arn_and_partial_arn_only)
{
    cJSON *c = ok("CreateSecret", "{\"Name\":\"app/db\",\"SecretString\":\"pw\"}");
    const char *arn = field(c, "ARN");
    cr_assert(!strncmp(arn, "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-", 60));
    cr_assert_eq(strlen(arn), 60 + 6);
    char partial[128], req[256];
    snprintf(partial, sizeof partial, "%.*s", (int)strlen(arn) - 7, arn);
    const char *ids[] = {"app/db", arn, partial};
    for (size_t i = 0; i < 3; i++) {
        snprintf(req, sizeof req, "{\"SecretId\":\"%s\"}", ids[i]);
        cJSON *g = ok("GetSecretValue", req);
        cr_assert_str_eq(field(g, "SecretString"), "pw", "%s", ids[i]);
        cJSON_Delete(g);
    }
    char wrong[160];
    const char *bad[] = {"app/d", "app/db-", "APP/DB", "arn:aws:secretsmanager:us-east-1:000000000000:secret:app",
                         wrong};
    snprintf(wrong, sizeof wrong, "%s-", partial);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(req, sizeof req, "{\"SecretId\":\"%s\"}", bad[i]);
        fails("GetSecretValue", req, "ResourceNotFoundException",
              "Secrets Manager can't find the specified secret.");
    }
    cJSON_Delete(c);
}

Test(secretsmanager, new_values_move_awscurrent_and_awsprevious)
{
    cJSON_Delete(ok("CreateSecret", "{\"Name\":\"s\",\"SecretString\":\"one\","
                                    "\"ClientRequestToken\":\"00000000-0000-4000-8000-000000000001\"}"));
    cJSON_Delete(ok("PutSecretValue", "{\"SecretId\":\"s\",\"SecretString\":\"two\","
                                      "\"ClientRequestToken\":\"00000000-0000-4000-8000-000000000002\"}"));
    cJSON *p = ok("PutSecretValue", "{\"SecretId\":\"s\",\"SecretString\":\"three\","
                                    "\"ClientRequestToken\":\"00000000-0000-4000-8000-000000000003\"}");
    char *stages = cJSON_PrintUnformatted(cJSON_GetObjectItem(p, "VersionStages"));
    cr_assert_str_eq(stages, "[\"AWSCURRENT\"]");
    free(stages);
    cJSON *d = ok("DescribeSecret", "{\"SecretId\":\"s\"}");
    char *map = cJSON_PrintUnformatted(cJSON_GetObjectItem(d, "VersionIdsToStages"));
    cr_assert_str_eq(map, "{\"00000000-0000-4000-8000-000000000002\":[\"AWSPREVIOUS\"],"
                          "\"00000000-0000-4000-8000-000000000003\":[\"AWSCURRENT\"]}");
    free(map);
    cJSON *g = ok("GetSecretValue", "{\"SecretId\":\"s\",\"VersionStage\":\"AWSPREVIOUS\"}");
    cr_assert_str_eq(field(g, "SecretString"), "two");
    cJSON_Delete(g);
    g = ok("GetSecretValue", "{\"SecretId\":\"s\",\"VersionId\":\"00000000-0000-4000-8000-000000000001\"}");
    cr_assert_str_eq(field(g, "SecretString"), "one");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(g, "VersionStages")), 0);
    cJSON_Delete(g);
    /* The same token with the same value is a no-op; with another, refused. */
    cJSON_Delete(ok("PutSecretValue", "{\"SecretId\":\"s\",\"SecretString\":\"three\","
                                      "\"ClientRequestToken\":\"00000000-0000-4000-8000-000000000003\"}"));
    fails("PutSecretValue", "{\"SecretId\":\"s\",\"SecretString\":\"four\","
                            "\"ClientRequestToken\":\"00000000-0000-4000-8000-000000000003\"}",
          "ResourceExistsException", "You can't modify an existing version, you can only create new versions.");
    g = ok("GetSecretValue", "{\"SecretId\":\"s\"}");
    cr_assert_str_eq(field(g, "SecretString"), "three");
    cJSON_Delete(g);
    cJSON_Delete(p);
    cJSON_Delete(d);
}

Test(secretsmanager, refuses_malformed_and_hostile_requests)
{
    static const struct {
        const char *op, *req, *type;
    } cases[] = {
        {"CreateSecret", "{}", "ValidationException"},
        {"CreateSecret", "{\"Name\":7}", "SerializationException"},
        {"CreateSecret", "{\"Name\":\"\"}", "ValidationException"},
        {"CreateSecret", "{\"Name\":\"a b\"}", "InvalidParameterException"},
        {"CreateSecret", "{\"Name\":\"caf\\u00e9\"}", "InvalidParameterException"},
        {"CreateSecret", "{\"Name\":\"x\",\"SecretString\":\"a\",\"SecretBinary\":\"YQ==\"}", "InvalidParameterException"},
        {"CreateSecret", "{\"Name\":\"x\",\"SecretBinary\":\"not base64!\"}", "SerializationException"},
        {"CreateSecret", "{\"Name\":\"x\",\"SecretBinary\":\"YQ=a\"}", "SerializationException"},
        {"CreateSecret", "{\"Name\":\"x\",\"ClientRequestToken\":\"short\"}", "ValidationException"},
        {"CreateSecret", "{\"Name\":\"x\",\"Tags\":[{\"Value\":\"v\"}]}", "InvalidParameterException"},
        {"CreateSecret", "{\"Name\":\"x\",\"Tags\":{\"k\":\"v\"}}", "SerializationException"},
        {"GetSecretValue", "{\"SecretId\":[\"a\"]}", "SerializationException"},
        {"GetSecretValue", "{\"SecretId\":null}", "ValidationException"},
        {"GetSecretValue", "{\"SecretId\":\"a\",\"VersionId\":\"x\"}", "ValidationException"},
        {"PutSecretValue", "{\"SecretId\":\"nope\",\"SecretString\":\"v\"}", "ResourceNotFoundException"},
        {"PutSecretValue", "{\"SecretId\":\"a\",\"SecretString\":\"v\",\"VersionStages\":[]}", "ValidationException"},
        {"PutSecretValue", "{\"SecretId\":\"a\",\"SecretString\":\"v\",\"VersionStages\":[1]}", "ValidationException"},
        {"ListSecrets", "{\"MaxResults\":0}", "ValidationException"},
        {"ListSecrets", "{\"MaxResults\":1.5}", "ValidationException"},
        {"ListSecrets", "{\"MaxResults\":\"10\"}", "ValidationException"},
        {"ListSecrets", "{\"NextToken\":\"smnt-x\"}", "InvalidNextTokenException"},
        {"ListSecrets", "{\"NextToken\":\"smnt--5\"}", "InvalidNextTokenException"},
        {"ListSecrets", "{\"SortOrder\":\"up\"}", "ValidationException"},
        {"ListSecrets", "{\"SortBy\":\"size\"}", "ValidationException"},
        {"ListSecrets", "{\"Filters\":[{\"Key\":\"colour\",\"Values\":[\"x\"]}]}", "ValidationException"},
        {"ListSecrets", "{\"Filters\":[{\"Key\":\"name\",\"Values\":[]}]}", "InvalidParameterException"},
        {"ListSecrets", "{\"Filters\":[{\"Key\":\"name\",\"Values\":[3]}]}", "InvalidParameterException"},
        {"ListSecrets", "{\"Filters\":{}}", "ValidationException"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        fails(cases[i].op, cases[i].req, cases[i].type, NULL);
    /* Oversized: a value just over 65536 characters, a name over 512. */
    size_t n = 65537;
    char *big = malloc(n + 64);
    int len = snprintf(big, n + 64, "{\"Name\":\"big\",\"SecretString\":\"");
    memset(big + len, 'v', n);
    strcpy(big + len + n, "\"}");
    fails("CreateSecret", big, "ValidationException", NULL);
    big[len + n - 1] = '"';
    big[len + n] = '}';
    big[len + n + 1] = '\0';
    cJSON_Delete(ok("CreateSecret", big)); /* exactly 65536 */
    memset(big, 0, n + 64);
    len = snprintf(big, n + 64, "{\"Name\":\"");
    memset(big + len, 'n', 513);
    strcpy(big + len + 513, "\"}");
    fails("CreateSecret", big, "ValidationException", NULL);
    free(big);
    /* 11 filters: over the limit of 10. */
    char req[1024] = "{\"Filters\":[";
    for (int i = 0; i < 11; i++)
        strcat(req, i ? ",{\"Key\":\"name\",\"Values\":[\"a\"]}" : "{\"Key\":\"name\",\"Values\":[\"a\"]}");
    strcat(req, "]}");
    fails("ListSecrets", req, "ValidationException", NULL);
    cr_assert_null(sm_op_find("DeleteSecret"));
    cr_assert_null(sm_op_find(NULL));
}

Test(secretsmanager, lists_in_pages_with_filters_and_order)
{
    char req[128];
    for (int i = 0; i < 5; i++) {
        snprintf(req, sizeof req, "{\"Name\":\"p/%d\",\"SecretString\":\"v\",\"Description\":\"%s\"}", i,
                 i % 2 ? "odd" : "even");
        cJSON_Delete(ok("CreateSecret", req));
        core_clock_advance_ms(clk, 1000);
    }
    cJSON_Delete(ok("CreateSecret", "{\"Name\":\"other\",\"SecretString\":\"v\"}"));
    const char *token = NULL;
    char names[128] = "";
    int pages = 0;
    char *tok = NULL;
    do {
        if (token)
            snprintf(req, sizeof req, "{\"MaxResults\":2,\"Filters\":[{\"Key\":\"name\",\"Values\":[\"p/\"]}],"
                                      "\"NextToken\":\"%s\"}", token);
        else
            snprintf(req, sizeof req, "{\"MaxResults\":2,\"Filters\":[{\"Key\":\"name\",\"Values\":[\"p/\"]}]}");
        cJSON *l = ok("ListSecrets", req);
        pages++;
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(l, "SecretList")) {
            strcat(names, field(e, "Name"));
            strcat(names, " ");
        }
        free(tok);
        tok = field(l, "NextToken") ? strdup(field(l, "NextToken")) : NULL;
        token = tok;
        cJSON_Delete(l);
    } while (token);
    cr_assert_str_eq(names, "p/0 p/1 p/2 p/3 p/4 ");
    cr_assert_eq(pages, 3);
    cJSON *l = ok("ListSecrets", "{\"Filters\":[{\"Key\":\"description\",\"Values\":[\"odd\"]}],"
                                 "\"SortOrder\":\"desc\"}");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l, "SecretList")), 2);
    cr_assert_str_eq(field(cJSON_GetArrayItem(cJSON_GetObjectItem(l, "SecretList"), 0), "Name"), "p/3");
    cJSON_Delete(l);
    l = ok("ListSecrets", "{\"Filters\":[{\"Key\":\"all\",\"Values\":[\"!p/\"]}]}");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l, "SecretList")), 1);
    cJSON_Delete(l);
}

Test(secretsmanager, the_templates_secrets_are_created_once_with_their_arns)
{
    const char *yaml =
        "Resources:\n"
        "  Stripe:\n"
        "    Type: AWS::SecretsManager::Secret\n"
        "    Properties:\n"
        "      Name: shop/stripe\n"
        "      SecretString: '{\"secretKey\":\"sk_test_x\"}'\n"
        "  Generated:\n"
        "    Type: AWS::SecretsManager::Secret\n"
        "    Properties:\n"
        "      GenerateSecretString:\n"
        "        SecretStringTemplate: '{\"user\":\"admin\"}'\n"
        "        GenerateStringKey: password\n"
        "        PasswordLength: 24\n"
        "        ExcludePunctuation: true\n";
    core_template *tpl = NULL;
    core_err err;
    core_err_clear(&err);
    core_template_opts opts = {0};
    cr_assert_eq(core_template_load_string(yaml, strlen(yaml), ".", &opts, &tpl, &err), CORE_OK,
                 "%s", err.message);
    cr_assert_eq(sm_model_seed_template(model, tpl, &err), CORE_OK, "%s", err.message);
    const core_tpl_resource *r = core_template_resource(tpl, "Stripe");
    cJSON *g = ok("GetSecretValue", "{\"SecretId\":\"shop/stripe\"}");
    cr_assert_str_eq(field(g, "ARN"), r->arn);
    cr_assert_str_eq(field(g, "SecretString"), "{\"secretKey\":\"sk_test_x\"}");
    cJSON_Delete(g);
    const cJSON *gname = cJSON_GetObjectItem(core_template_resource(tpl, "Generated")->attributes, "Name");
    char req[256];
    snprintf(req, sizeof req, "{\"SecretId\":\"%s\"}", gname->valuestring);
    g = ok("GetSecretValue", req);
    cJSON *doc = cJSON_Parse(field(g, "SecretString"));
    cr_assert_str_eq(field(doc, "user"), "admin");
    const char *pw = field(doc, "password");
    cr_assert_eq(strlen(pw), 24);
    for (const char *p = pw; *p; p++)
        cr_assert((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'), "%s", pw);
    cJSON_Delete(doc);
    cJSON_Delete(g);
    /* A value set later survives a second seeding (a restart). */
    cJSON_Delete(ok("PutSecretValue", "{\"SecretId\":\"shop/stripe\",\"SecretString\":\"real\"}"));
    cr_assert_eq(sm_model_seed_template(model, tpl, &err), CORE_OK);
    g = ok("GetSecretValue", "{\"SecretId\":\"shop/stripe\"}");
    cr_assert_str_eq(field(g, "SecretString"), "real");
    cJSON_Delete(g);
    core_template_free(tpl);
}

Test(secretsmanager, dates_are_epoch_seconds_and_last_access_is_kept_to_the_day)
{
    core_clock_advance_ms(clk, 12345);
    cJSON *c = ok("CreateSecret", "{\"Name\":\"d\",\"SecretString\":\"v\"}");
    cJSON *d = ok("DescribeSecret", "{\"SecretId\":\"d\"}");
    cr_assert_float_eq(cJSON_GetObjectItem(d, "CreatedDate")->valuedouble, 1700000012.345, 1e-6);
    cr_assert_null(cJSON_GetObjectItem(d, "LastAccessedDate"));
    cJSON_Delete(d);
    cJSON_Delete(ok("GetSecretValue", "{\"SecretId\":\"d\"}"));
    d = ok("DescribeSecret", "{\"SecretId\":\"d\"}");
    double day = (double)(1700000012345LL / 86400000 * 86400);
    cr_assert_float_eq(cJSON_GetObjectItem(d, "LastAccessedDate")->valuedouble, day, 1e-6);
    cJSON_Delete(d);
    cJSON_Delete(c);
}
