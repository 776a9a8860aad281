/*
 * test_cognito.c — Cognito's tokens, passwords and user-pool rules.
 *
 * Tokens: keys come from two fixed PEM texts (RSA generation costs seconds
 * under Valgrind), so every test signs with the same ID and access keys; the
 * round trip goes through the HTTP API's own verifier (apigw_jwt_authorize)
 * with the JWKS this module renders. Passwords hash with one PBKDF2 iteration
 * here; the iteration count is a parameter, checked separately. The model
 * runs on an in-memory cognito.db and outbox with a virtual clock, from a
 * template text, so code expiry and lockouts are a clock advance away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "apigateway/jwt.h"
#include "cognito/model.h"
#include "cognito/password.h"
#include "cognito/token.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"
#include "core/outbox.h"
#include "core/template.h"

static const char id_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQClG/wQmoxszo1H\n"
    "krNnx+Io8fkzNhTvvjBmhe2GOG+BtrfXFWyD7Vm7Sl+vqoIlPRotgnvbOJg6/7CP\n"
    "auSp68cW9sDj3MGYaWu+BiBEKUgVufNLfoUJIhY/dCxiSzUZeJVYJFFwXXax++zY\n"
    "uHr8swmxLpMGG5EWYEcvotZYKbsMgoHXKsCT06lVgU1i2GcU6n8hilAnEude0HIM\n"
    "hND9yhGgVwBS3GS506jcNQkZnnR25Tu4djkm8Unr2jkd1R/uV0i6VfRI9H/NiUNr\n"
    "+1uS2qQcBMwxxnQS0Nb5Xb+fnmhrkgcsk5ky+LtHwEcfajk9efRROTjolxn4v2CX\n"
    "MQ0MQvAVAgMBAAECggEACIeUkwsDkXoY5FyuIKtmgfUA3xC+g3rQ0fW97+l/ITVe\n"
    "SUyVtDm7y/2An05GC5nHfhhillBV1PPGnEd1FAOBNSzUNDFVswOnNEQ+wHwIJE8x\n"
    "7sbUz+753+ym1QEg93WPnuO+wqOhcSUcTD8441B112MaPKjfQEetsHFPdMiFyD8/\n"
    "I6bcy5514g/1it0BrTsoUiq9K/VhKCQW7cplWcpRTipqicPG63BcsLj6hzQs/JSS\n"
    "Om7y4XY6mVBlM7CGu+9Zm/ffFrH4FJ7FfqU4suLmwqbOFxEB9zAdaujyeMZyn9TF\n"
    "TNtaBPCAjGZ8jRSUAbYggQOCA0zf+GH4UcpYn3jOdQKBgQDYwHjNlDWpHNPeAV2/\n"
    "TC6byvRJLWX1Kl5TiknulWkbHSRoPOeN42s/LJf625XUzkE9DqZrcxzZPVvsVJsE\n"
    "Egfh1YBjmMU94A91YpsvKzMShSMXUZNxIW4V9giK+LXo5uDSaYxtIMBB0crZkgVR\n"
    "AWutcmFT73IqfJz3XFsKbLsZVwKBgQDDAZ/LI6pJrXX9hW3pX3fYWY49HJ4RHcsv\n"
    "lMF9ZmmmtFEQMhxomlMhca+2ivRR3x2E5qqt1qDxda7uMBszl+Y70iWPLvun9eFI\n"
    "857hg8mfCChMUBlTbj3ie4EohkZUJVb2/TNdWUhQ9wCFgQJTm7IqADz2LVNd1cPx\n"
    "U295H08icwKBgCRXQOnW65hLCQqz1+/26emdAZAzWGDelaoUCYlC67hsDmqbq4cS\n"
    "liylYWXh4yEm47FE/4oMZs3Vh8/773GjREcM8NXCC2/wXSclPTePWqTERbnnJ31U\n"
    "SYzND2mdgYJnE1Kz96NkVleywPvxi4qlXlRaVQ8pmk6dTgP7LBh3WndJAoGAPy9g\n"
    "il61B4h36bx5H5v6ZhSmfPCv2tXvhyxJAYvUgdp9RaUnBVGzy+tdRuWBQqHrm6tt\n"
    "9EPOBE7gbncR6Ua3p/xwhRNxITwPUib1/RZJlwj6nbd6bUkULjVcZTgUw6ERq5fh\n"
    "M8cBIpLWDWv+x/5z3R4UoqOPFqF0CtbBENrvNjcCgYBgzUU0YWQLU+IybYgI+xET\n"
    "runXGFezp0dhdOrSLJY3cgpJD5cqko0pAEBKhTgXRsXicRzVQLPgM60iV8XAKgFy\n"
    "O8exi/EcFMwmS2Be81HhJNrcpwAtQd+SIoxYCmm52jjcSx4UmfIRDTgeY1R477Xh\n"
    "3QRJBPhH2CwFHbiUkjFU5w==\n"
    "-----END PRIVATE KEY-----\n"
    ;

static const char access_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCT8npmRSXPX4gC\n"
    "p0za+HoFUZA4WF5eNswhNk/YP2ksVc72mUr1x2lmM5cGINak27Si8TCkOhpsnys3\n"
    "keYii4JpDwuLfHwJT0EhNywmKgZlbKUvrxI31OT9Iz//Ni98rxtsUczDEmGJBHsG\n"
    "b2NkJlZ5pUFJfv9BphJ2rr9S9+gKP23Ja+JOb3qgOQ1XdIZ4fGMy8wkQS9WimGvM\n"
    "FekeMLho4TNAYp9ANgoyYj3RDO4oPCdDIk/OaY1vbHX9joMUK3ZJsX7fwD/6rrRN\n"
    "qgD3NJMM8efdGRh0G4IuWlMkxk0UXDMfcKnBl9W0i2Gg/8N7VuYQXqmAh7OPvnzE\n"
    "PTzA8JepAgMBAAECggEACYrh+5dP+7YVz9U0C/DR7szje5blKbhPTOcaM4CavobS\n"
    "wHodT4jReT7KA29G/1j1p9R2hpxoZVAtsyBgeSLv27avAz8ZjjPD9JBnJkqfB5fm\n"
    "q0XK0lOtHDZTvUwLHqr564mQWcnla526RHoW+l5n3nta7V9ZHhL7Ohd5J+QgkQry\n"
    "l0D69vtQe2MKbR/FzJb0+aGIhQh71KUdLDjRESlPbbMvaFd2hVlBqcqgfaKMvB5/\n"
    "uds7g8uTgokFaOlpxHJ6s620rK7sJ8rXNkFILwrmXjPZg7oK0HgtpGQnasRgJIsq\n"
    "yBUbA5ani9xBV8pj8z+m5CuH/pHH02FlNUBLbL0dRwKBgQDGoz3bjt9cVHNLupzD\n"
    "Dh7n5dJ4XUZQY7rR6TiXPbvEvs01PFv4SWFKAcK8YvFtluYRpwQo/mziq+YX9TUI\n"
    "pkqh98/aLt4DLb21VPUVSOnH6Ud9mjpcK/vPtc7SbvDFLCf7Fm5fQoqkhhYHoITn\n"
    "kKEDAjgvY26wNr2tD+mQ9fwhQwKBgQC+q9KmXeWBoQq3jjYRh7dKZHeW1hMNWZnT\n"
    "VrzaeY7Xry0ykcjKcMLZFwfDc1yaCrSsQOV2LUCd6v8+3ZkCNfPr5idpw+HROVvp\n"
    "RDirid2HEWMaTZqsgTWrD1sPHRR6YF0aPe89EGhJataWzxuqdCxRnX+PKjLd+8eG\n"
    "3TfHINdOowKBgQDB2thoqPOVcRmgY3vP5L0GxkT0kNspY1sUtw4yk93nMeqlNMXw\n"
    "9vRKvJMnNUy3Dhh0S9IEi+EKCochBH6AdYHKtkWUgj7LTV2iVUpmPmVhY2oQy25/\n"
    "O7Gh0aYJupmhY+mU4xxOPWt/Cxj+0opCT+TDQexBW0HQGWxdNHVWsqogbwKBgBnU\n"
    "UO70nViYJkmDXFO3nN7ZCVJHocEXOD1m7KJ0ASO6uVa2ZQr3h429DvItOIgtlxgW\n"
    "mn8N1kkOQpGTl1yzTl3QidpMDNU4/fh1o2+pd3cKpfA0PxXLUyffJqi/ebyyPSqG\n"
    "5VfSVy5K6NL5L3hB0JclzNfqEYX8y6S7Zwj0q/YdAoGAVLFWrt9lUNShFhQDhH4b\n"
    "N5idcy8AHjn6I1u4xz+IITZJpVqnSeDqpYWCuzENPXKU39a6lWjaaT0Xu5zLrOO+\n"
    "l7oB/wzn7avDLwnuhrK2UnU4B864/A5c3vTUUcsrvzpF+mVn2Xw0tJg8BwolhjHs\n"
    "WSK2aECkyT5V19jXgXBFCNU=\n"
    "-----END PRIVATE KEY-----\n"
    ;

#define NOW_MS 1700000000000LL
#define NOW_S (NOW_MS / 1000)

static const char template_text[] =
    "AWSTemplateFormatVersion: '2010-09-09'\n"
    "Resources:\n"
    "  Pool:\n"
    "    Type: AWS::Cognito::UserPool\n"
    "    Properties:\n"
    "      UserPoolName: users\n"
    "      UsernameAttributes: [email]\n"
    "      AutoVerifiedAttributes: [email]\n"
    "      Schema:\n"
    "        - {Name: email, AttributeDataType: String, Required: true}\n"
    "      Policies:\n"
    "        PasswordPolicy: {MinimumLength: 8, RequireUppercase: true, RequireLowercase: true,\n"
    "                         RequireNumbers: true, RequireSymbols: false}\n"
    "  Client:\n"
    "    Type: AWS::Cognito::UserPoolClient\n"
    "    Properties:\n"
    "      UserPoolId: !Ref Pool\n"
    "      ExplicitAuthFlows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]\n"
    "      AccessTokenValidity: 30\n"
    "      IdTokenValidity: 2\n"
    "      TokenValidityUnits: {AccessToken: minutes, IdToken: hours}\n"
    "  Admins:\n"
    "    Type: AWS::Cognito::UserPoolGroup\n"
    "    Properties: {GroupName: Admins, UserPoolId: !Ref Pool, Precedence: 1}\n"
    "  Staff:\n"
    "    Type: AWS::Cognito::UserPoolGroup\n"
    "    Properties: {GroupName: Staff, UserPoolId: !Ref Pool, Precedence: 0,\n"
    "                 RoleArn: 'arn:aws:iam::000000000000:role/staff'}\n";

/* ---- fixture ---------------------------------------------------------------- */

static cog_key *id_key, *access_key;
static core_template *tpl;
static core_clock *clk;
static core_outbox *outbox;
static cog_model *model;
static const cog_client *client;
static const cog_pool *pool;
static core_err err;
static cJSON *json_a, *json_b;
static char *text_a, *text_b;
static apigw_jwks *registry;

static void keys_setup(void)
{
    core_err_clear(&err);
    id_key = cog_key_from_pem(id_pem, &err);
    access_key = cog_key_from_pem(access_pem, &err);
    cr_assert(id_key && access_key, "%s", err.message);
}

static void teardown(void)
{
    cog_model_close(model);
    core_outbox_close(outbox);
    core_clock_free(clk);
    core_template_free(tpl);
    cog_key_free(id_key);
    cog_key_free(access_key);
    cJSON_Delete(json_a);
    cJSON_Delete(json_b);
    free(text_a);
    free(text_b);
    apigw_jwks_free(registry);
    model = NULL;
    outbox = NULL;
    clk = NULL;
    tpl = NULL;
    id_key = access_key = NULL;
    json_a = json_b = NULL;
    text_a = text_b = NULL;
    registry = NULL;
}

static void model_setup(void)
{
    core_log_setup(CORE_LOG_WARN, stderr); /* codes are logged at info */
    core_err_clear(&err);
    core_template_opts o = {.region = "us-east-1", .stack_name = "test"};
    cr_assert_eq(core_template_load_string(template_text, strlen(template_text), ".", &o, &tpl,
                                           &err), CORE_OK, "%s", err.message);
    clk = core_clock_new(CORE_CLOCK_VIRTUAL, NOW_MS);
    cr_assert_eq(core_outbox_open(NULL, &outbox, &err), CORE_OK, "%s", err.message);
    cog_model_opts mo = {.kdf_iterations = 1, .id_key_pem = id_pem, .access_key_pem = access_pem};
    cr_assert_eq(cog_model_open(NULL, tpl, clk, outbox, &mo, &model, &err), CORE_OK, "%s",
                 err.message);
    cr_assert_eq(cog_model_client_count(model), 1);
    client = cog_model_client_at(model, 0);
    pool = client->pool;
}

/* The code of the last message in the outbox (6 digits), into code. */
static void last_code(char code[8])
{
    cJSON *list = core_outbox_list(outbox, NULL);
    cJSON *msgs = cJSON_GetObjectItem(list, "messages");
    cJSON *last = cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1);
    const char *body = cJSON_GetStringValue(cJSON_GetObjectItem(last, "body"));
    cr_assert(body, "no message in the outbox");
    const char *p = body;
    while (*p && (*p < '0' || *p > '9'))
        p++;
    memcpy(code, p, 6);
    code[6] = 0;
    cJSON_Delete(list);
}

static void sign_up_confirmed(const char *email, const char *password)
{
    cog_user u;
    int confirmed;
    cog_delivery d;
    cr_assert_eq(cog_sign_up(model, client, email, password, NULL, &u, &confirmed, &d, &err),
                 CORE_OK, "%s", err.message);
    cog_user_release(&u);
    char code[8];
    last_code(code);
    cr_assert_eq(cog_confirm_sign_up(model, client, email, code, &err), CORE_OK, "%s",
                 err.message);
}

/* ---- keys, JWKS, JWTs ------------------------------------------------------- */

TestSuite(cog_token, .init = keys_setup, .fini = teardown);

Test(cog_token, kid_is_base64_of_a_sha256_and_differs_per_key)
{
    cr_assert_eq(strlen(cog_key_kid(id_key)), 44);
    cr_assert_eq(cog_key_kid(id_key)[43], '=');
    cr_assert_str_neq(cog_key_kid(id_key), cog_key_kid(access_key));
}

Test(cog_token, pem_round_trip_keeps_the_kid)
{
    text_a = cog_key_to_pem(id_key);
    cr_assert(text_a);
    cog_key *again = cog_key_from_pem(text_a, &err);
    cr_assert(again, "%s", err.message);
    cr_assert_str_eq(cog_key_kid(again), cog_key_kid(id_key));
    cog_key_free(again);
}

Test(cog_token, garbage_pem_is_refused)
{
    static const char *const bad[] = {"", "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n"
                                                       "-----END PRIVATE KEY-----\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cog_key *k = cog_key_from_pem(bad[i], &err);
        cr_assert_null(k, "case %zu accepted", i);
    }
}

Test(cog_token, jwks_has_cognitos_members_in_order_and_the_authorizer_takes_it)
{
    const cog_key *keys[] = {access_key, id_key};
    text_a = cog_jwks_render(keys, 2);
    cr_assert(text_a);
    json_a = cJSON_Parse(text_a);
    cJSON *arr = cJSON_GetObjectItem(json_a, "keys");
    cr_assert_eq(cJSON_GetArraySize(arr), 2);
    static const char *const order[] = {"alg", "e", "kid", "kty", "n", "use"};
    cJSON *k = cJSON_GetArrayItem(arr, 1);
    size_t i = 0;
    for (cJSON *m = k->child; m; m = m->next, i++)
        cr_assert_str_eq(m->string, order[i], "member %zu", i);
    cr_assert_eq(i, 6);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(k, "kid")), cog_key_kid(id_key));
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(k, "e")), "AQAB");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(k, "alg")), "RS256");
    cr_assert_eq(strlen(cJSON_GetStringValue(cJSON_GetObjectItem(k, "n"))), 342); /* 256 bytes */
    registry = apigw_jwks_new();
    cr_assert_eq(apigw_jwks_set(registry, "https://issuer", text_a, &err), CORE_OK, "%s",
                 err.message);
    cr_assert_eq(apigw_jwks_count(registry, "https://issuer"), 2);
}

Test(cog_token, b64url_has_no_padding_and_the_url_alphabet)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {{"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"\xfb\xff", "-_8"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *s = core_base64url_encode((const unsigned char *)cases[i].in, strlen(cases[i].in));
        cr_assert_str_eq(s, cases[i].out, "case %zu", i);
        free(s);
    }
}

Test(cog_token, b64url_decode_takes_unpadded_url_alphabet_only)
{
    static const struct {
        const char *in;
        const char *out; /* NULL: rejected */
        size_t len;
    } cases[] = {{"", "", 0},        {"Zg", "f", 1},     {"Zm8", "fo", 2}, {"Zm9v", "foo", 3},
                 {"-_8", "\xfb\xff", 2}, {"A", NULL, 0},     {"Zg==", NULL, 0}, {"+/8", NULL, 0},
                 {"Zm 9v", NULL, 0}, {"Zm9vA", NULL, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t len = 99;
        unsigned char *s = core_base64url_decode(cases[i].in, strlen(cases[i].in), &len);
        if (!cases[i].out) {
            cr_expect_null(s, "case %zu (%s) should be rejected", i, cases[i].in);
        } else {
            cr_assert_not_null(s, "case %zu (%s)", i, cases[i].in);
            cr_expect_eq(len, cases[i].len, "case %zu length", i);
            cr_expect_eq(memcmp(s, cases[i].out, len), 0, "case %zu bytes", i);
            cr_expect_eq(s[len], 0, "case %zu NUL", i);
        }
        free(s);
    }
}

Test(cog_token, signed_token_has_cognitos_header_and_verifies)
{
    json_a = cJSON_CreateObject();
    cJSON_AddStringToObject(json_a, "sub", "u1");
    cJSON_AddNumberToObject(json_a, "exp", (double)(NOW_S + 60));
    text_a = cog_jwt_sign(id_key, json_a);
    cr_assert(text_a);
    const char *dot = strchr(text_a, '.');
    char *header = NULL;
    {
        /* {"kid":"...","alg":"RS256"} */
        size_t n = (size_t)(dot - text_a);
        char *h64 = strndup(text_a, n);
        cr_assert(h64);
        header = h64;
    }
    cr_assert(!strncmp(header, "eyJraWQiOi", 10), "header %s", header); /* {"kid": */
    free(header);
    const cog_key *keys[] = {id_key};
    cr_assert_eq(cog_jwt_verify(keys, 1, text_a, NOW_S, &json_b), COG_JWT_VALID);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(json_b, "sub")), "u1");
}

Test(cog_token, verify_refuses_what_it_must)
{
    json_a = cJSON_CreateObject();
    cJSON_AddNumberToObject(json_a, "exp", (double)(NOW_S + 60));
    text_a = cog_jwt_sign(id_key, json_a);
    char *tampered = strdup(text_a);
    char *p = strrchr(tampered, '.') + 10; /* a signature byte */
    *p = *p == 'A' ? 'B' : 'A';
    char *sig_cut = strndup(text_a, strlen(text_a) - 4);
    const cog_key *id_only[] = {id_key}, *access_only[] = {access_key};
    static char big[20000];
    memset(big, 'a', sizeof big - 1);
    const struct {
        const char *token;
        const cog_key *const *keys;
        int64_t now;
        cog_jwt_status want;
    } cases[] = {
        {text_a, id_only, NOW_S + 60, COG_JWT_EXPIRED},
        {text_a, access_only, NOW_S, COG_JWT_BAD_SIGNATURE},
        {tampered, id_only, NOW_S, COG_JWT_BAD_SIGNATURE},
        {sig_cut, id_only, NOW_S, COG_JWT_BAD_SIGNATURE},
        {"a.b", id_only, NOW_S, COG_JWT_MALFORMED},
        {"a.b.c.d", id_only, NOW_S, COG_JWT_MALFORMED},
        {"!!.??.**", id_only, NOW_S, COG_JWT_MALFORMED},
        {"eyJhbGciOiJub25lIn0.e30.", id_only, NOW_S, COG_JWT_MALFORMED}, /* alg none */
        {"eyJhbGciOiJIUzI1NiJ9.e30.AAAA", id_only, NOW_S, COG_JWT_MALFORMED}, /* HS256 */
        {"WzFd.e30.AAAA", id_only, NOW_S, COG_JWT_MALFORMED}, /* header [1] */
        {big, id_only, NOW_S, COG_JWT_MALFORMED},
        {"", id_only, NOW_S, COG_JWT_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *c = NULL;
        cog_jwt_status st = cog_jwt_verify(cases[i].keys, 1, cases[i].token, cases[i].now, &c);
        cJSON_Delete(c);
        cr_expect_eq(st, cases[i].want, "case %zu: got %d", i, st);
    }
    free(tampered);
    free(sig_cut);
}

/* ---- passwords and codes ---------------------------------------------------- */

Test(cog_password, hash_verifies_and_salts_differ)
{
    char a[COG_PASSWORD_HASH_MAX], b[COG_PASSWORD_HASH_MAX];
    cr_assert_eq(cog_password_hash("Secret123", 2, a, sizeof a, &err), CORE_OK);
    cr_assert_eq(cog_password_hash("Secret123", 2, b, sizeof b, &err), CORE_OK);
    cr_assert(!strncmp(a, "pbkdf2-sha256$2$", 16), "%s", a);
    cr_assert_str_neq(a, b);
    cr_assert(cog_password_verify("Secret123", a));
    cr_assert(cog_password_verify("Secret123", b));
    cr_assert_not(cog_password_verify("Secret124", a));
    cr_assert_not(cog_password_verify("", a));
}

Test(cog_password, malformed_stored_hashes_never_verify)
{
    char good[COG_PASSWORD_HASH_MAX];
    cr_assert_eq(cog_password_hash("pw", 1, good, sizeof good, &err), CORE_OK);
    char shorter[COG_PASSWORD_HASH_MAX];
    snprintf(shorter, sizeof shorter, "%.*s", (int)strlen(good) - 2, good);
    const char *bad[] = {"", "pw", "pbkdf2-sha256$", "pbkdf2-sha256$0$AAAA$AAAA",
                         "pbkdf2-sha256$x$AAAA$AAAA", "pbkdf2-sha256$1$!!!!$AAAA",
                         "pbkdf2-sha256$99999999$AAAAAAAAAAAAAAAAAAAAAA$AAAA", shorter,
                         "sha1$1$AAAA$AAAA", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_not(cog_password_verify("pw", bad[i]), "case %zu verified", i);
}

Test(cog_password, policy_messages_in_cognitos_order)
{
    cog_password_policy all = {8, 1, 1, 1, 1, 7};
    cog_password_policy loose = {6, 0, 0, 0, 0, 7};
    const struct {
        const cog_password_policy *policy;
        const char *password;
        const char *why; /* NULL: accepted */
    } cases[] = {
        {&all, "Aa1!aaaa", NULL},
        {&all, "Aa1!aaa", "Password not long enough"},
        {&all, "AA1!AAAA", "Password must have lowercase characters"},
        {&all, "aa1!aaaa", "Password must have uppercase characters"},
        {&all, "Aa!aaaaa", "Password must have numeric characters"},
        {&all, "Aa1aaaaa", "Password must have symbol characters"},
        {&all, "Aa1 aaaa", NULL},  /* the space is a symbol */
        {&all, "Aa1^aaaa", NULL},
        {&all, "Aa1\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9!", NULL}, /* 8 characters, 12 bytes */
        {&all, "Aa1!\xc3\xa9\xc3\xa9\xc3\xa9", "Password not long enough"},
        {&loose, "abcdef", NULL},
        {&loose, "abcde", "Password not long enough"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        core_err_clear(&err);
        int rc = cog_password_check(cases[i].policy, cases[i].password, &err);
        if (!cases[i].why) {
            cr_expect_eq(rc, CORE_OK, "case %zu refused: %s", i, err.message);
            continue;
        }
        char want[200];
        snprintf(want, sizeof want, "Password did not conform with policy: %s", cases[i].why);
        cr_expect_eq(rc, CORE_ERROR, "case %zu accepted", i);
        cr_expect_str_eq(err.type, "InvalidPasswordException", "case %zu", i);
        cr_expect_str_eq(err.message, want, "case %zu", i);
    }
}

Test(cog_password, kdf_iterations_can_only_be_lowered)
{
    const struct {
        const char *env;
        int want;
    } cases[] = {{NULL, COG_KDF_ITERATIONS}, {"5000", 5000}, {"999", COG_KDF_ITERATIONS},
                 {"1000000", COG_KDF_ITERATIONS}, {"12x", COG_KDF_ITERATIONS},
                 {"", COG_KDF_ITERATIONS}, {"1000", 1000}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (cases[i].env)
            setenv("SHOPLOCAL_COGNITO_KDF_ITER", cases[i].env, 1);
        else
            unsetenv("SHOPLOCAL_COGNITO_KDF_ITER");
        cr_expect_eq(cog_kdf_iterations(), cases[i].want, "case %zu", i);
    }
    unsetenv("SHOPLOCAL_COGNITO_KDF_ITER");
}

Test(cog_password, codes_are_six_digits_and_generated_passwords_pass_the_policy)
{
    char code[8];
    cog_code_generate(code, 6);
    cr_assert_eq(strlen(code), 6);
    for (int i = 0; i < 6; i++)
        cr_assert(code[i] >= '0' && code[i] <= '9');
    cog_password_policy all = {20, 1, 1, 1, 1, 7};
    char pw[64];
    cog_password_generate(&all, pw, sizeof pw);
    cr_assert_eq(cog_password_check(&all, pw, &err), CORE_OK, "%s: %s", pw, err.message);
}

Test(cog_password, email_masks_like_cognito)
{
    const struct {
        const char *in, *out;
    } cases[] = {{"alice@example.com", "a***@e***"}, {"b@x.io", "b***@x***"},
                 {"nobody", "n***"}, {"@x", "@***"}, {"a@", "a***"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[64];
        cog_mask_email(cases[i].in, out, sizeof out);
        cr_expect_str_eq(out, cases[i].out, "case %zu", i);
    }
}

/* ---- the model -------------------------------------------------------------- */

static void model_setup_with_keys(void)
{
    keys_setup();
    model_setup();
}

TestSuite(cog_model, .init = model_setup_with_keys, .fini = teardown);

Test(cog_model, pools_clients_and_groups_come_from_the_template)
{
    cr_assert_eq(cog_model_pool_count(model), 1);
    cr_assert(!strncmp(pool->id, "us-east-1_", 10));
    cr_assert_eq(strlen(pool->id), 19);
    char issuer[100];
    snprintf(issuer, sizeof issuer, "https://cognito-idp.us-east-1.amazonaws.com/%s", pool->id);
    cr_assert_str_eq(pool->issuer, issuer);
    cr_assert(pool->username_is_email);
    cr_assert_eq(pool->policy.minimum_length, 8);
    cr_assert_not(pool->policy.require_symbols);
    cr_assert_eq(client->access_ttl_s, 1800);
    cr_assert_eq(client->id_ttl_s, 7200);
    cr_assert_eq(client->refresh_ttl_s, 30 * 86400);
    cr_assert(client->prevent_existence_errors);
    cr_assert(cog_model_group(model, pool, "Admins"));
    cr_assert_null(cog_model_group(model, pool, "admins"));
    cr_assert_null(pool->id_key); /* made on first use, not at open */
    cr_assert_eq(cog_model_pool_keys(model, pool, &err), CORE_OK, "%s", err.message);
    cr_assert_str_eq(cog_key_kid(pool->id_key), cog_key_kid(id_key));
    cr_assert_str_neq(cog_key_kid(pool->id_key), cog_key_kid(pool->access_key));
}

Test(cog_model, id_and_access_claim_sets)
{
    sign_up_confirmed("carol@example.com", "Passw0rdOk");
    cr_assert_eq(cog_group_add(model, pool, "carol@example.com", "Admins", &err), CORE_OK);
    cr_assert_eq(cog_group_add(model, pool, "carol@example.com", "Staff", &err), CORE_OK);
    cog_tokens t;
    const char *challenge;
    cr_assert_eq(cog_auth_password(model, client, "carol@example.com", "Passw0rdOk", &t,
                                   &challenge, &err), CORE_OK, "%s", err.message);
    cr_assert_eq(t.expires_in, 1800);
    const cog_key *ik[] = {pool->id_key}, *ak[] = {pool->access_key};
    cr_assert_eq(cog_jwt_verify(ik, 1, t.id_token, NOW_S, &json_a), COG_JWT_VALID);
    cr_assert_eq(cog_jwt_verify(ak, 1, t.access_token, NOW_S, &json_b), COG_JWT_VALID);
    static const char *const id_names[] = {"sub", "cognito:groups", "email_verified", "iss",
                                           "cognito:username", "origin_jti", "aud", "event_id",
                                           "token_use", "auth_time", "exp", "iat", "jti",
                                           "email", "cognito:preferred_role", "cognito:roles"};
    static const char *const access_names[] = {"sub", "cognito:groups", "iss", "client_id",
                                               "origin_jti", "event_id", "token_use", "scope",
                                               "auth_time", "exp", "iat", "jti", "username"};
    size_t i = 0;
    for (cJSON *m = json_a->child; m; m = m->next, i++)
        cr_expect_str_eq(m->string, id_names[i], "id claim %zu", i);
    cr_expect_eq(i, sizeof id_names / sizeof *id_names);
    i = 0;
    for (cJSON *m = json_b->child; m; m = m->next, i++)
        cr_expect_str_eq(m->string, access_names[i], "access claim %zu", i);
    cr_expect_eq(i, sizeof access_names / sizeof *access_names);
    /* groups by precedence: Staff (0) before Admins (1) */
    cJSON *g = cJSON_GetObjectItem(json_a, "cognito:groups");
    cr_assert_str_eq(cJSON_GetArrayItem(g, 0)->valuestring, "Staff");
    cr_assert_str_eq(cJSON_GetArrayItem(g, 1)->valuestring, "Admins");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(json_a, "email_verified")));
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(json_a, "cognito:preferred_role")),
                     "arn:aws:iam::000000000000:role/staff");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(json_a, "cognito:roles")), 1);
    cr_assert_null(cJSON_GetObjectItem(json_b, "cognito:roles")); /* ID tokens only */
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(json_a, "aud")), client->id);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(json_b, "client_id")), client->id);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(json_b, "scope")),
                     "aws.cognito.signin.user.admin");
    cr_assert_eq(cJSON_GetObjectItem(json_a, "exp")->valuedouble, (double)(NOW_S + 7200));
    cr_assert_eq(cJSON_GetObjectItem(json_b, "exp")->valuedouble, (double)(NOW_S + 1800));
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(json_a, "origin_jti")),
                     cJSON_GetStringValue(cJSON_GetObjectItem(json_b, "origin_jti")));
    cog_tokens_release(&t);
}

/* The model's tokens through the HTTP API's authorizer, with the JWKS the
 * model renders registered under the pool's issuer. */
Test(cog_model, tokens_pass_the_http_apis_authorizer)
{
    sign_up_confirmed("dave@example.com", "Passw0rdOk");
    cr_assert_eq(cog_group_add(model, pool, "dave@example.com", "Admins", &err), CORE_OK);
    registry = apigw_jwks_new();
    text_a = cog_model_jwks(model, pool);
    cr_assert_eq(apigw_jwks_set(registry, pool->issuer, text_a, &err), CORE_OK, "%s", err.message);
    cog_tokens t;
    const char *challenge;
    cr_assert_eq(cog_auth_password(model, client, "dave@example.com", "Passw0rdOk", &t,
                                   &challenge, &err), CORE_OK);
    char *audience[] = {client->id};
    core_tpl_authorizer auth = {.name = "Cognito",
                                .identity_source = "$request.header.Authorization",
                                .issuer = pool->issuer, .audience = audience, .n_audience = 1};
    char *scopes[] = {"aws.cognito.signin.user.admin"};
    char bearer[8192], why[256];
    cJSON *claims = NULL, *sc = NULL;
    snprintf(bearer, sizeof bearer, "Bearer %s", t.id_token);
    cr_assert_eq(apigw_jwt_authorize(registry, &auth, NULL, 0, bearer, NOW_S, &claims, &sc, why,
                                     sizeof why), APIGW_JWT_ALLOWED, "%s", why);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(claims, "cognito:groups")),
                     "[Admins]");
    cJSON_Delete(claims);
    cJSON_Delete(sc);
    /* the ID token carries no scope: a scoped route is forbidden */
    cr_assert_eq(apigw_jwt_authorize(registry, &auth, scopes, 1, bearer, NOW_S, &claims, &sc, why,
                                     sizeof why), APIGW_JWT_FORBIDDEN);
    snprintf(bearer, sizeof bearer, "%s", t.access_token);
    cr_assert_eq(apigw_jwt_authorize(registry, &auth, scopes, 1, bearer, NOW_S, &claims, &sc, why,
                                     sizeof why), APIGW_JWT_ALLOWED, "%s", why);
    cJSON_Delete(claims);
    cJSON_Delete(sc);
    /* expired by the clock: the access token lives 30 minutes */
    cr_assert_eq(apigw_jwt_authorize(registry, &auth, scopes, 1, bearer, NOW_S + 1800, &claims,
                                     &sc, why, sizeof why), APIGW_JWT_DENIED);
    cr_assert_str_eq(why, "token is expired");
    /* another issuer's registry entry does not vouch for this pool */
    auth.issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other0000";
    cr_assert_eq(apigw_jwt_authorize(registry, &auth, scopes, 1, bearer, NOW_S, &claims, &sc, why,
                                     sizeof why), APIGW_JWT_DENIED);
    cog_tokens_release(&t);
}

Test(cog_model, sign_up_sends_a_code_that_expires_in_24_hours)
{
    cog_user u;
    int confirmed = 1;
    cog_delivery d;
    cr_assert_eq(cog_sign_up(model, client, "erin@example.com", "Passw0rdOk", NULL, &u,
                             &confirmed, &d, &err), CORE_OK, "%s", err.message);
    cr_assert_not(confirmed);
    cr_assert_str_eq(d.destination, "e***@e***");
    cr_assert_str_eq(u.username, u.sub); /* email pools name users by their sub */
    cog_user_release(&u);
    char code[8];
    last_code(code);
    core_clock_advance_ms(clk, COG_SIGNUP_CODE_MS);
    cr_assert_eq(cog_confirm_sign_up(model, client, "erin@example.com", code, &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "ExpiredCodeException");
    char wrong[8];
    snprintf(wrong, sizeof wrong, "%06d", (atoi(code) + 1) % 1000000);
    cr_assert_eq(cog_confirm_sign_up(model, client, "erin@example.com", wrong, &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "CodeMismatchException");
}

Test(cog_model, reset_codes_expire_in_an_hour_and_work_once)
{
    sign_up_confirmed("fay@example.com", "Passw0rdOk");
    cog_delivery d;
    cr_assert_eq(cog_forgot_password(model, client, "fay@example.com", &d, &err), CORE_OK, "%s",
                 err.message);
    char code[8];
    last_code(code);
    core_clock_advance_ms(clk, COG_RESET_CODE_MS - 1);
    cr_assert_eq(cog_confirm_forgot_password(model, client, "fay@example.com", code, "N3wPassword",
                                             &err), CORE_OK, "%s", err.message);
    cr_assert_eq(cog_confirm_forgot_password(model, client, "fay@example.com", code, "N3wPassword",
                                             &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "CodeMismatchException");
    cr_assert_eq(cog_forgot_password(model, client, "fay@example.com", &d, &err), CORE_OK);
    last_code(code);
    core_clock_advance_ms(clk, COG_RESET_CODE_MS);
    cr_assert_eq(cog_confirm_forgot_password(model, client, "fay@example.com", code, "N3wPassword",
                                             &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "ExpiredCodeException");
}

Test(cog_model, new_password_parameters_missing_or_weak_are_refused)
{
    sign_up_confirmed("gus@example.com", "Passw0rdOk");
    cog_tokens t;
    const char *weak = "short";
    const struct {
        const char *param;
        const char *password;
    } cases[] = {{"ProposedPassword", NULL}, {"Password", NULL}, {"NEW_PASSWORD", NULL},
                 {"Password", NULL},         {"ProposedPassword", weak}, {"Password", weak},
                 {"NEW_PASSWORD", weak},     {"Password", weak}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *pw = cases[i].password;
        int rc;
        core_err_clear(&err);
        switch (i % 4) {
        case 0:
            rc = cog_change_password(model, pool, "gus@example.com", "Passw0rdOk", pw, &err);
            break;
        case 1:
            rc = cog_confirm_forgot_password(model, client, "gus@example.com", "123456", pw, &err);
            break;
        case 2:
            rc = cog_respond_new_password(model, client, "no-such-session", "gus@example.com", pw,
                                          &t, &err);
            break;
        default:
            rc = cog_admin_set_password(model, pool, "gus@example.com", pw, 1, &err);
            break;
        }
        cr_expect_eq(rc, CORE_ERROR, "case %zu", i);
        if (!pw) {
            char want[64];
            snprintf(want, sizeof want, "Missing required parameter %s", cases[i].param);
            cr_expect_str_eq(err.type, "InvalidParameterException", "case %zu", i);
            cr_expect_str_eq(err.message, want, "case %zu", i);
        } else {
            cr_expect_str_eq(err.type, "InvalidPasswordException", "case %zu", i);
        }
    }
    /* nothing above changed the password */
    const char *challenge = NULL;
    cr_assert_eq(cog_auth_password(model, client, "gus@example.com", "Passw0rdOk", &t,
                                   &challenge, &err), CORE_OK, "%s", err.message);
    cog_tokens_release(&t);
}

Test(cog_model, five_failures_lock_the_user_with_a_doubling_wait)
{
    sign_up_confirmed("gil@example.com", "Passw0rdOk");
    cog_tokens t;
    const char *ch;
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(cog_auth_password(model, client, "gil@example.com", "Wrong0ne", &t, &ch, &err),
                     CORE_ERROR);
        cr_assert_str_eq(err.message, "Incorrect username or password.");
    }
    cr_assert_eq(cog_auth_password(model, client, "gil@example.com", "Passw0rdOk", &t, &ch, &err),
                 CORE_ERROR);
    cr_assert_str_eq(err.type, "NotAuthorizedException");
    cr_assert_str_eq(err.message, "Password attempts exceeded");
    core_clock_advance_ms(clk, 1000);
    cr_assert_eq(cog_auth_password(model, client, "gil@example.com", "Wrong0ne", &t, &ch, &err),
                 CORE_ERROR); /* the sixth failure: 2 s */
    core_clock_advance_ms(clk, 1999);
    cr_assert_eq(cog_auth_password(model, client, "gil@example.com", "Passw0rdOk", &t, &ch, &err),
                 CORE_ERROR);
    cr_assert_str_eq(err.message, "Password attempts exceeded");
    core_clock_advance_ms(clk, 1);
    cr_assert_eq(cog_auth_password(model, client, "gil@example.com", "Passw0rdOk", &t, &ch, &err),
                 CORE_OK, "%s", err.message);
    cog_tokens_release(&t);
}

Test(cog_model, fifteen_quiet_minutes_after_a_lockout_reset_the_count)
{
    sign_up_confirmed("ham@example.com", "Passw0rdOk");
    cog_tokens t;
    const char *ch;
    for (int i = 0; i < 5; i++)
        cr_assert_eq(cog_auth_password(model, client, "ham@example.com", "Wrong0ne", &t, &ch, &err),
                     CORE_ERROR);
    core_clock_advance_ms(clk, 500); /* an attempt during the lockout is not a failure... */
    cr_assert_eq(cog_auth_password(model, client, "ham@example.com", "Wrong0ne", &t, &ch, &err),
                 CORE_ERROR);
    cr_assert_str_eq(err.message, "Password attempts exceeded");
    core_clock_advance_ms(clk, COG_LOCK_MAX_MS - 1); /* ...but it is an attempt */
    cr_assert_eq(cog_auth_password(model, client, "ham@example.com", "Wrong0ne", &t, &ch, &err),
                 CORE_ERROR);
    cr_assert_str_eq(err.message, "Incorrect username or password.");
    core_clock_advance_ms(clk, COG_LOCK_MAX_MS);
    cr_assert_eq(cog_auth_password(model, client, "ham@example.com", "Wrong0ne", &t, &ch, &err),
                 CORE_ERROR); /* the count starts again: one failure, no lockout */
    cr_assert_eq(cog_auth_password(model, client, "ham@example.com", "Passw0rdOk", &t, &ch, &err),
                 CORE_OK, "%s", err.message);
    cog_tokens_release(&t);
}

Test(cog_model, unknown_users_look_like_wrong_passwords)
{
    cog_tokens t;
    const char *ch;
    cr_assert_eq(cog_auth_password(model, client, "nobody@example.com", "Passw0rdOk", &t, &ch,
                                   &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "NotAuthorizedException");
    cr_assert_str_eq(err.message, "Incorrect username or password.");
    cog_user u;
    cr_assert_eq(cog_admin_get_user(model, pool, "nobody@example.com", &u, &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "UserNotFoundException");
}

Test(cog_model, sign_up_refusals)
{
    cog_user u;
    int confirmed;
    cog_delivery d;
    sign_up_confirmed("hal@example.com", "Passw0rdOk");
    const struct {
        const char *username, *password, *type;
    } cases[] = {
        {"HAL@example.com", "Passw0rdOk", "UsernameExistsException"},
        {"hal", "Passw0rdOk", "InvalidParameterException"},
        {"", "Passw0rdOk", "InvalidParameterException"},
        {"ivy@example.com", "short1A", "InvalidPasswordException"},
        {"ivy@example.com", "nouppercase1", "InvalidPasswordException"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        core_err_clear(&err);
        cr_expect_eq(cog_sign_up(model, client, cases[i].username, cases[i].password, NULL, &u,
                                 &confirmed, &d, &err), CORE_ERROR, "case %zu", i);
        cr_expect_str_eq(err.type, cases[i].type, "case %zu: %s", i, err.message);
    }
}

Test(cog_model, global_sign_out_revokes_refresh_and_access_tokens)
{
    sign_up_confirmed("jo@example.com", "Passw0rdOk");
    cog_tokens t, r;
    const char *ch;
    cr_assert_eq(cog_auth_password(model, client, "jo@example.com", "Passw0rdOk", &t, &ch, &err),
                 CORE_OK);
    cr_assert(t.refresh_token);
    cr_assert_eq(cog_auth_refresh(model, client, t.refresh_token, &r, &err), CORE_OK, "%s",
                 err.message);
    cr_assert_null(r.refresh_token);
    const cog_pool *p;
    cog_user u;
    cr_assert_eq(cog_access_user(model, r.access_token, &p, &u, &err), CORE_OK, "%s", err.message);
    cr_assert_eq(cog_global_sign_out(model, p, u.sub, &err), CORE_OK);
    cog_user_release(&u);
    cog_tokens r2;
    cr_assert_eq(cog_auth_refresh(model, client, t.refresh_token, &r2, &err), CORE_ERROR);
    cr_assert_str_eq(err.message, "Refresh Token has been revoked");
    cr_assert_eq(cog_access_user(model, r.access_token, &p, &u, &err), CORE_ERROR);
    cr_assert_str_eq(err.message, "Access Token has been revoked");
    cog_tokens_release(&t);
    cog_tokens_release(&r);
}

Test(cog_model, seeding_twice_changes_nothing)
{
    json_a = cJSON_Parse("[\"Admins\"]");
    json_b = cJSON_Parse("[{\"Name\":\"name\",\"Value\":\"Boss\"}]");
    int created = 0;
    cr_assert_eq(cog_seed_user(model, pool, "boss@example.com", "Adm1nPassword", json_b, json_a,
                               &created, &err), CORE_OK, "%s", err.message);
    cr_assert(created);
    cog_user first, second;
    cr_assert_eq(cog_admin_get_user(model, pool, "boss@example.com", &first, &err), CORE_OK);
    cr_assert_eq(cog_seed_user(model, pool, "boss@example.com", "Adm1nPassword", json_b, json_a,
                               &created, &err), CORE_OK);
    cr_assert_not(created);
    cr_assert_eq(cog_admin_get_user(model, pool, "boss@example.com", &second, &err), CORE_OK);
    cr_assert_str_eq(first.sub, second.sub);
    cr_assert_str_eq(first.status, "CONFIRMED");
    cog_user_release(&first);
    cog_user_release(&second);
    cJSON *groups;
    cr_assert_eq(cog_groups_of(model, pool, "boss@example.com", &groups, &err), CORE_OK);
    cr_assert_eq(cJSON_GetArraySize(groups), 1);
    cJSON_Delete(groups);
    cr_assert_eq(cog_seed_user(model, pool, "x@example.com", "Adm1nPassword", NULL,
                               cJSON_GetArrayItem(json_b, 0) /* not a list of names */, &created,
                               &err), CORE_ERROR);
}

Test(cog_model, list_users_filters_and_pages)
{
    sign_up_confirmed("ka@example.com", "Passw0rdOk");
    sign_up_confirmed("kb@example.com", "Passw0rdOk");
    sign_up_confirmed("lc@example.com", "Passw0rdOk");
    cog_user *users;
    size_t n;
    int more;
    cr_assert_eq(cog_list_users(model, pool, "email", "^=", "K", 0, 10, &users, &n, &more, &err),
                 CORE_OK);
    cr_assert_eq(n, 2);
    cr_assert_not(more);
    for (size_t i = 0; i < n; i++)
        cog_user_release(&users[i]);
    free(users);
    cr_assert_eq(cog_list_users(model, pool, NULL, NULL, NULL, 1, 1, &users, &n, &more, &err),
                 CORE_OK);
    cr_assert_eq(n, 1);
    cr_assert(more);
    const char *email = NULL;
    const cJSON *a;
    cJSON_ArrayForEach(a, users[0].attributes)
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(a, "Name")), "email"))
            email = cJSON_GetStringValue(cJSON_GetObjectItem(a, "Value"));
    cr_assert_str_eq(email, "kb@example.com");
    cog_user_release(&users[0]);
    free(users);
}

Test(cog_model, keys_persist_across_opens_of_the_same_folder)
{
    char dir[] = "/tmp/cogtestXXXXXX";
    cr_assert(mkdtemp(dir));
    cog_model *a = NULL, *b = NULL;
    cog_model_opts mo = {.kdf_iterations = 1, .id_key_pem = id_pem, .access_key_pem = access_pem};
    cr_assert_eq(cog_model_open(dir, tpl, clk, NULL, &mo, &a, &err), CORE_OK, "%s", err.message);
    cr_assert_eq(cog_model_pool_keys(a, cog_model_pool_at(a, 0), &err), CORE_OK);
    char kid[64];
    snprintf(kid, sizeof kid, "%s", cog_key_kid(cog_model_pool_at(a, 0)->access_key));
    cog_model_close(a);
    /* swapped presets: a key made anew would show as the other kid */
    cog_model_opts none = {.kdf_iterations = 1, .id_key_pem = access_pem, .access_key_pem = id_pem};
    cr_assert_eq(cog_model_open(dir, tpl, clk, NULL, &none, &b, &err), CORE_OK, "%s", err.message);
    cr_assert(cog_model_pool_at(b, 0)->access_key); /* loaded at open */
    cr_assert_str_eq(cog_key_kid(cog_model_pool_at(b, 0)->access_key), kid);
    cog_model_close(b);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* ---- the outbox ------------------------------------------------------------- */

Test(cog_model, outbox_filters_by_recipient_and_refuses_bad_messages)
{
    core_outbox_message sms = {.channel = "sms", .to = "+15550100", .body = "hi",
                               .source = "sns"};
    core_outbox_message bad = {.channel = "fax", .to = "x", .body = "b", .source = "s"};
    core_outbox_message empty = {.channel = "email", .to = "", .body = "b", .source = "s"};
    char id[40];
    cr_assert_eq(core_outbox_append(outbox, NOW_MS, &sms, id, &err), CORE_OK);
    cr_assert_eq(strlen(id), 36);
    cr_assert_eq(core_outbox_append(outbox, NOW_MS, &bad, NULL, &err), CORE_ERROR);
    cr_assert_eq(core_outbox_append(outbox, NOW_MS, &empty, NULL, &err), CORE_ERROR);
    sign_up_confirmed("mo@example.com", "Passw0rdOk");
    json_a = core_outbox_list(outbox, "MO@example.com");
    cJSON *msgs = cJSON_GetObjectItem(json_a, "messages");
    cr_assert_eq(cJSON_GetArraySize(msgs), 1);
    cJSON *m = cJSON_GetArrayItem(msgs, 0);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(m, "source")), "cognito-idp");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(m, "channel")), "email");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(m, "time")),
                     "2023-11-14T22:13:20.000Z");
    cr_assert_eq(core_outbox_clear(outbox), 2);
    json_b = core_outbox_list(outbox, NULL);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(json_b, "messages")), 0);
}
