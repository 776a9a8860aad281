/*
 * test_apigw_jwt.c — the HTTP API's JWT authorizer against tokens signed here.
 *
 * One RSA-2048 key pair per test process (Criterion runs each test in its own
 * process, and key generation is the slow part under valgrind), registered as
 * the JWKS of ISSUER under kid "k1". Tokens are built from JSON text and signed
 * with EVP_DigestSign, so every malformation is one edit away from a valid
 * token. The fixture frees what a test gets back, so a failed assertion leaks
 * nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "apigateway/jwt.h"
#include "core/codec.h"

#define ISSUER "https://issuer.test/pool1"
#define OTHER_ISSUER "https://issuer.test/pool2"
#define NOW 1700000000LL

static EVP_PKEY *key;         /* the signing key of this process */
static apigw_jwks *registry;
static cJSON *claims, *scopes;
static char why[512];
static char *token;           /* the last token built */
static char *audience[] = {"client1"};
static core_tpl_authorizer auth = {
    .name = "Jwt",
    .identity_source = "$request.header.Authorization",
    .issuer = ISSUER,
    .audience = audience,
    .n_audience = 1,
};
static char *route_scopes[] = {"shop/orders.read", "shop/orders.write"};

static char *bn_b64url(const char *param)
{
    BIGNUM *bn = NULL;
    cr_assert(EVP_PKEY_get_bn_param(key, param, &bn));
    unsigned char buf[1024];
    int n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return core_base64url_encode(buf, (size_t)n);
}

/* {"keys":[<the process key as kid>]} */
static char *jwks_json(const char *kid)
{
    char *n = bn_b64url(OSSL_PKEY_PARAM_RSA_N), *e = bn_b64url(OSSL_PKEY_PARAM_RSA_E);
    char *out = NULL;
    cr_assert(asprintf(&out, "{\"keys\":[{\"kid\":\"%s\",\"kty\":\"RSA\",\"alg\":\"RS256\",\"use\":\"sig\","
                 "\"n\":\"%s\",\"e\":\"%s\"}]}", kid, n, e) > 0);
    free(n);
    free(e);
    return out;
}

/* header.payload.signature, RS256 with the process key. */
static const char *sign(const char *header, const char *payload)
{
    char *h = core_base64url_encode((const unsigned char *)header, strlen(header));
    char *p = core_base64url_encode((const unsigned char *)payload, strlen(payload));
    size_t signed_len = strlen(h) + 1 + strlen(p);
    free(token);
    token = malloc(signed_len + 1024);
    snprintf(token, signed_len + 1024, "%s.%s", h, p);
    free(h);
    free(p);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char sig[512];
    size_t sig_len = sizeof sig;
    cr_assert(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1);
    cr_assert(EVP_DigestSign(md, sig, &sig_len, (unsigned char *)token, signed_len) == 1);
    EVP_MD_CTX_free(md);
    char *s = core_base64url_encode(sig, sig_len);
    snprintf(token + signed_len, 1024, ".%s", s);
    free(s);
    return token;
}

#define HEADER "{\"kid\":\"k1\",\"alg\":\"RS256\"}"
/* An ID token as Cognito issues one: aud, no scope. */
#define ID_TOKEN "{\"sub\":\"u-1\",\"cognito:groups\":[\"Admins\",\"Staff\"],\"email_verified\":true," \
                 "\"iss\":\"" ISSUER "\",\"aud\":\"client1\",\"token_use\":\"id\"," \
                 "\"auth_time\":1699999000,\"exp\":1700003600,\"iat\":1699999000}"
/* An access token: client_id, scope, no aud. */
#define ACCESS(scope) "{\"sub\":\"u-1\",\"iss\":\"" ISSUER "\",\"client_id\":\"client1\"," \
                      "\"token_use\":\"access\",\"scope\":\"" scope "\",\"exp\":1700003600}"

static apigw_jwt_result run(const char *authorization, int scoped)
{
    cJSON_Delete(claims);
    cJSON_Delete(scopes);
    return apigw_jwt_authorize(registry, &auth, scoped ? route_scopes : NULL, scoped ? 2 : 0,
                               authorization, NOW, &claims, &scopes, why, sizeof why);
}

static void refused(const char *authorization, const char *expected_why)
{
    cr_assert_eq(run(authorization, 0), APIGW_JWT_DENIED, "why: %s", why);
    cr_assert_str_eq(why, expected_why);
    cr_assert_null(claims);
    cr_assert_null(scopes);
}

/* A fixed RSA-2048 test key (generated once with `openssl genrsa 2048`; it signs
 * nothing but these tests). Loading it costs microseconds where generating one
 * per test costs seconds under Valgrind. */
static const char TEST_KEY_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCzHbmhtd8UFnmT\n"
    "/4ybAzcC6W3rltr2GGBY5ePrH58dcEvxbN2Qs4e5WiPA93QXBtUYJA/KGGYTDSlC\n"
    "28z46qwx+8oE46iy6vLTgrRqLmB7F3WVjYbij+9jhlPxKB86OVRFsOdG40mdQ+uo\n"
    "DdKzvWpy6MgS/sK/lsOBIEKISBlKoEnWfa5/6K0SGh682dH/hsFNL2mrN6OV0s6z\n"
    "menDZngd87PsR538M2kK+hvo8GU2aOb+acFIGw3EkxvcczttZYr7z1AOkk58Fpe4\n"
    "PTOK4c9/TRs+s/aLgANkkc9gzENu5UG2Q6KLiOCobNCwkpqx1JbHvJlmvoMZv/EO\n"
    "SqNDBe7JAgMBAAECggEAGftzNLn6eiIoe1zT5fM5b6Vc2efa1ggDMeIR2xw4gJS2\n"
    "73Z9+BeS1e2gHMXIg+6XIBawaP3REMJqpyrV45BnGiO5fQFpNKBQSSOUot0csb5d\n"
    "bYGc0hCpsSOIhFrwQgnpkj0Zz3ajnw8oiArj8vQZv5bKLwyK7i/N0aqpprXkCqb8\n"
    "0tDXWu4ylZ/tX1AeVB0RW40XKXUAewCoMZb3amZ/QmlqrfBORpXXIOtTlwNrLvae\n"
    "/racE2aJxbT0AImjscOUguBn+wV0teGmSMrxNE1cUFGn4Flhm1ujZCLPHewrQWCm\n"
    "126AXEiAa50z5tqkDhSspA8njMOM2Vo1nPsDtPBr4QKBgQDjRxzpd8+geNZVM4sR\n"
    "zhs2/cmyMczgglH8Gdu+pryjJBeihJe3OZO4gVzeR0AfNiWAWft6cYD330suZpY5\n"
    "/0msWVK6uRdUglWuXFHYQ9hZEjdFQSC4tH+8orAQpt+svpSeDf0W6JuNU4WzPJzB\n"
    "ulOjtq2IClw4/qHReDEnnrfhGwKBgQDJwHySvELovBixW2rR40WfC93aMoBAq6Lq\n"
    "9IhIzd+AJRITN7W/gqytRIoXAcvJ/n3D2ccZ+aVvivqvxaKVHzXEd0TITEk4Sbiv\n"
    "V91xjwdKr1kdrIpbOdAgRg8vO07KvqS41rxj2daB0zUc6bHo0TWxIECE3kZ0s06M\n"
    "+UBQMs6R6wKBgBcO6u8A2c7FE7G3Nf/LclVk8CalCM0qS5kRIos4LWE70y4I17+e\n"
    "Fs+cSEjA38+K1cks1+e3RkdfnygI/mrJ7LaQpWUOTEClrH2xHhib4YI/592d2u0C\n"
    "WwdPVh+KXp0PBNL4RlohpU50T9c8agb5mWy9puNrcanSo6Y11H7ZinxLAoGAJJl/\n"
    "v9rZRIFC9YHBChxxt92ePIQm0hSQ9JCx3ItEfWm8MrJLjVd2XeRuLKhNwPIi/JGY\n"
    "VfT89xQ+T/7JdMX5qg988d0s90Igd+a3rG8nAnx27TQs0UnWoNQ00vuuWodlOIb0\n"
    "HCUbjeez3e/jL3oshFp2eeQc4fTZTie1bBcbdEsCgYBlb5ol4qmkzlMJ+8URBuvV\n"
    "GaDpm8foyyJpZpsSPGBtPpFw8Unaig/i9bXNC81pFfWPrkoxQjnCGYOcRNswFtA5\n"
    "dqcGaE7kykIhBANgxJRc5ZrNCOi4qORlESGO8Bvqxudl0KXRWrBg9cj20kxfxM/j\n"
    "aHH2NnBrsebzxQJiVawWGQ==\n"
    "-----END PRIVATE KEY-----\n";

static EVP_PKEY *load_test_key(void)
{
    BIO *bio = BIO_new_mem_buf(TEST_KEY_PEM, (int)sizeof TEST_KEY_PEM - 1);
    EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return k;
}

static void setup(void)
{
    if (!key)
        key = load_test_key();
    cr_assert_not_null(key);
    registry = apigw_jwks_new();
    core_err err;
    core_err_clear(&err);
    char *jwks = jwks_json("k1");
    cr_assert_eq(apigw_jwks_set(registry, ISSUER, jwks, &err), CORE_OK, "%s", err.message);
    free(jwks);
    claims = scopes = NULL;
    token = NULL;
    why[0] = 0;
}

static void teardown(void)
{
    cJSON_Delete(claims);
    cJSON_Delete(scopes);
    free(token);
    apigw_jwks_free(registry);
    EVP_PKEY_free(key);
    key = NULL;
}

TestSuite(apigw_jwt, .init = setup, .fini = teardown);

Test(apigw_jwt, accepts_an_id_token_on_aud_and_passes_its_claims_as_strings)
{
    cr_assert_eq(run(sign(HEADER, ID_TOKEN), 0), APIGW_JWT_ALLOWED, "why: %s", why);
    char *text = cJSON_PrintUnformatted(claims);
    cr_assert_str_eq(text, "{\"sub\":\"u-1\",\"cognito:groups\":\"[Admins Staff]\","
                           "\"email_verified\":\"true\",\"iss\":\"" ISSUER "\","
                           "\"aud\":\"client1\",\"token_use\":\"id\",\"auth_time\":\"1699999000\","
                           "\"exp\":\"1700003600\",\"iat\":\"1699999000\"}");
    free(text);
    cr_assert(cJSON_IsNull(scopes));
}

Test(apigw_jwt, accepts_an_access_token_on_client_id_when_aud_is_absent)
{
    char bearer[4096];
    snprintf(bearer, sizeof bearer, "Bearer %s", sign(HEADER, ACCESS("openid")));
    cr_assert_eq(run(bearer, 0), APIGW_JWT_ALLOWED, "why: %s", why);
    cr_assert_str_eq(cJSON_GetObjectItem(claims, "client_id")->valuestring, "client1");
}

Test(apigw_jwt, takes_the_bearer_prefix_in_any_case_or_none)
{
    const char *t = sign(HEADER, ID_TOKEN);
    char v[4096];
    const char *prefixes[] = {"", "Bearer ", "bearer ", "BEARER "};
    for (size_t i = 0; i < 4; i++) {
        snprintf(v, sizeof v, "%s%s", prefixes[i], t);
        cr_assert_eq(run(v, 0), APIGW_JWT_ALLOWED, "prefix '%s': %s", prefixes[i], why);
    }
}

Test(apigw_jwt, reports_an_absent_or_empty_header_as_a_missing_token)
{
    cr_assert_eq(run(NULL, 0), APIGW_JWT_MISSING);
    cr_assert_eq(run("", 0), APIGW_JWT_MISSING);
    cr_assert_eq(run("Bearer ", 0), APIGW_JWT_MISSING);
    cr_assert_str_eq(why, "");
    cr_assert_null(claims);
}

Test(apigw_jwt, refuses_alg_none)
{
    char t[4096];
    snprintf(t, sizeof t, "%s", sign("{\"kid\":\"k1\",\"alg\":\"none\"}", ID_TOKEN));
    *strrchr(t, '.') = 0;
    strcat(t, ".");
    refused(t, "signing method none is invalid");
}

Test(apigw_jwt, refuses_hs256_even_when_keyed_with_the_public_key)
{
    char *jwks = jwks_json("k1");
    const char *header = "{\"kid\":\"k1\",\"alg\":\"HS256\"}";
    char *h = core_base64url_encode((const unsigned char *)header, strlen(header));
    char *p = core_base64url_encode((const unsigned char *)ID_TOKEN, strlen(ID_TOKEN));
    char t[8192];
    int n = snprintf(t, sizeof t, "%s.%s", h, p);
    unsigned char mac[64];
    size_t mac_len = 0;
    cr_assert_not_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, jwks, strlen(jwks),
                                 (unsigned char *)t, (size_t)n, mac, sizeof mac, &mac_len));
    char *m = core_base64url_encode(mac, mac_len);
    snprintf(t + n, sizeof t - (size_t)n, ".%s", m);
    free(m);
    free(h);
    free(p);
    free(jwks);
    refused(t, "signing method HS256 is invalid");
}

Test(apigw_jwt, refuses_a_kid_the_issuer_has_no_key_for)
{
    refused(sign("{\"kid\":\"k9\",\"alg\":\"RS256\"}", ID_TOKEN),
            "the kid header parameter does not match any key of the issuer");
}

Test(apigw_jwt, refuses_a_token_without_kid)
{
    refused(sign("{\"alg\":\"RS256\"}", ID_TOKEN), "kid header parameter is missing");
}

Test(apigw_jwt, refuses_a_tampered_payload)
{
    char t[4096];
    snprintf(t, sizeof t, "%s", sign(HEADER, ID_TOKEN));
    const char *forged = "{\"sub\":\"admin\",\"iss\":\"" ISSUER "\",\"aud\":\"client1\","
                         "\"exp\":1700003600}";
    char *p = core_base64url_encode((const unsigned char *)forged, strlen(forged));
    char *dot1 = strchr(t, '.'), *dot2 = strchr(dot1 + 1, '.');
    char out[4096];
    snprintf(out, sizeof out, "%.*s.%s%s", (int)(dot1 - t), t, p, dot2);
    free(p);
    refused(out, "crypto/rsa: verification error");
}

Test(apigw_jwt, refuses_a_tampered_signature)
{
    char t[4096];
    snprintf(t, sizeof t, "%s", sign(HEADER, ID_TOKEN));
    char *s = strrchr(t, '.') + 10;
    *s = *s == 'A' ? 'B' : 'A';
    refused(t, "crypto/rsa: verification error");
}

Test(apigw_jwt, refuses_an_expired_token_by_the_given_clock)
{
    const char *t = sign(HEADER, "{\"iss\":\"" ISSUER "\",\"aud\":\"client1\",\"exp\":1700000000}");
    refused(t, "token is expired"); /* exp == now is already expired */
    cr_assert_eq(apigw_jwt_authorize(registry, &auth, NULL, 0, t, NOW - 1, &claims, &scopes,
                                     why, sizeof why), APIGW_JWT_ALLOWED, "why: %s", why);
}

Test(apigw_jwt, refuses_a_token_without_exp)
{
    refused(sign(HEADER, "{\"iss\":\"" ISSUER "\",\"aud\":\"client1\"}"),
            "the token does not have a valid expiration");
}

Test(apigw_jwt, refuses_a_token_whose_nbf_is_in_the_future)
{
    refused(sign(HEADER, "{\"iss\":\"" ISSUER "\",\"aud\":\"client1\",\"exp\":1700003600,"
                         "\"nbf\":1700000001}"),
            "token is not valid yet");
}

Test(apigw_jwt, refuses_a_wrong_issuer)
{
    refused(sign(HEADER, "{\"iss\":\"" ISSUER "/\",\"aud\":\"client1\",\"exp\":1700003600}"),
            "the token does not have a valid issuer");
}

Test(apigw_jwt, refuses_a_token_another_issuer_signed)
{
    /* pool2 has its own key "k2"; pool1's authorizer must not find it. */
    char *jwks = jwks_json("k2");
    core_err err;
    cr_assert_eq(apigw_jwks_set(registry, OTHER_ISSUER, jwks, &err), CORE_OK);
    free(jwks);
    refused(sign("{\"kid\":\"k2\",\"alg\":\"RS256\"}",
                 "{\"iss\":\"" OTHER_ISSUER "\",\"aud\":\"client1\",\"exp\":1700003600}"),
            "the kid header parameter does not match any key of the issuer");
}

Test(apigw_jwt, refuses_a_wrong_aud_even_with_a_right_client_id)
{
    refused(sign(HEADER, "{\"iss\":\"" ISSUER "\",\"aud\":[\"other\",\"x\"],"
                         "\"client_id\":\"client1\",\"exp\":1700003600}"),
            "the token does not have a valid audience");
}

Test(apigw_jwt, refuses_a_wrong_client_id)
{
    refused(sign(HEADER, "{\"iss\":\"" ISSUER "\",\"client_id\":\"client2\",\"exp\":1700003600}"),
            "the token does not have a valid audience");
}

Test(apigw_jwt, forbids_an_id_token_on_a_scoped_route)
{
    cr_assert_eq(run(sign(HEADER, ID_TOKEN), 1), APIGW_JWT_FORBIDDEN);
    cr_assert_str_eq(why, "expected scopes: [shop/orders.read shop/orders.write]");
    char challenge[512];
    apigw_jwt_challenge(APIGW_JWT_FORBIDDEN, why, route_scopes, 2, challenge, sizeof challenge);
    cr_assert_str_eq(challenge, "Bearer scope=\"shop/orders.read shop/orders.write\" "
                                "error=\"insufficient_scope\" error_description=\"expected "
                                "scopes: [shop/orders.read shop/orders.write]\"");
    cr_assert_null(claims);
}

Test(apigw_jwt, accepts_an_access_token_holding_one_of_the_route_scopes)
{
    cr_assert_eq(run(sign(HEADER, ACCESS("openid shop/orders.write")), 1), APIGW_JWT_ALLOWED,
                 "why: %s", why);
    char *text = cJSON_PrintUnformatted(scopes);
    cr_assert_str_eq(text, "[\"openid\",\"shop/orders.write\"]");
    free(text);
}

Test(apigw_jwt, forbids_an_access_token_without_the_route_scopes)
{
    cr_assert_eq(run(sign(HEADER, ACCESS("openid shop/orders")), 1), APIGW_JWT_FORBIDDEN);
    cr_assert_null(scopes);
}

Test(apigw_jwt, refuses_malformed_base64_and_json_cleanly)
{
    refused("abc$.def.ghi", "token is malformed");
    refused("e30.e30.!!", "token is malformed");
    refused("bm90IGpzb24.e30.", "token is malformed"); /* "not json" */
    refused("W10.e30.", "token is malformed");          /* [] is no header */
}

Test(apigw_jwt, refuses_a_100_kb_token_before_decoding)
{
    char *big = malloc(100 * 1024 + 1);
    memset(big, 'A', 100 * 1024);
    big[100 * 1024] = 0;
    big[10] = '.';
    big[20] = '.';
    refused(big, "token is malformed");
    free(big);
}

Test(apigw_jwt, refuses_a_token_without_three_parts)
{
    refused("eyJhbGciOiJSUzI1NiJ9.e30", "token contains an invalid number of segments");
    refused("a.b.c.d", "token contains an invalid number of segments");
    refused("Bearer", "token contains an invalid number of segments");
}

Test(apigw_jwt, formats_the_invalid_token_challenge_as_aws_does)
{
    char challenge[512];
    apigw_jwt_challenge(APIGW_JWT_DENIED, "the token does not have a valid audience", NULL, 0,
                        challenge, sizeof challenge);
    cr_assert_str_eq(challenge, "Bearer scope=\"\" error=\"invalid_token\" "
                                "error_description=\"the token does not have a valid audience\"");
}

Test(apigw_jwt, refuses_malformed_jwks_documents_and_keeps_the_old_keys)
{
    core_err err;
    const char *bad[] = {
        "not json",
        "{\"nokeys\":[]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kid\":\"a\",\"kty\":\"EC\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kid\":\"a\",\"kty\":\"RSA\",\"alg\":\"HS256\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kid\":\"a\",\"kty\":\"RSA\",\"n\":\"!!\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kid\":\"a\",\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}", /* tiny n */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        core_err_clear(&err);
        cr_assert_eq(apigw_jwks_set(registry, ISSUER, bad[i], &err), CORE_ERROR, "%s", bad[i]);
        cr_assert_eq(err.status, 400);
        cr_assert_str_eq(err.type, "ValidationException");
    }
    cr_assert_eq(apigw_jwks_count(registry, ISSUER), 1);
    cr_assert_eq(run(sign(HEADER, ID_TOKEN), 0), APIGW_JWT_ALLOWED, "why: %s", why);
}
