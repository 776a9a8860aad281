/*
 * jwt.c — the HTTP API's JWT authorizer and its JWKS registry. See jwt.h.
 *
 * The error descriptions. AWS publishes two, and they are reproduced exactly:
 *   "the token does not have a valid audience" (troubleshooting page), and
 *   "expected scopes: [a b]" with error="insufficient_scope" and a 403 (a live
 *   answer captured in a public README, June 2024).
 * The others are not published. We use the wording of the Go JWT library the
 * published ones resemble ("token is expired", "token is not valid yet",
 * "signing method HS256 is invalid", "token contains an invalid number of
 * segments", "token is malformed", "kid header parameter is missing",
 * "crypto/rsa: verification error") and, for checks that library does not
 * make, sentences in the style of the audience one. Tests should assert on
 * the status and header shape, and only on the two published descriptions.
 *
 * Nothing from the token is echoed into a description except `alg`, and only
 * when it is a short alphanumeric name, so a description can always sit
 * between double quotes in a header.
 */
#include "apigateway/jwt.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "apigateway/event.h"
#include "core/codec.h"

/* ---- the registry ----------------------------------------------------------- */

typedef struct jwks_key {
    char *kid;
    EVP_PKEY *key;
} jwks_key;

typedef struct jwks_issuer {
    char *issuer;
    jwks_key *keys;
    size_t n;
} jwks_issuer;

struct apigw_jwks {
    pthread_mutex_t lock;
    jwks_issuer *issuers;
    size_t n, cap;
};

static void keys_free(jwks_key *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(keys[i].kid);
        EVP_PKEY_free(keys[i].key);
    }
    free(keys);
}

apigw_jwks *apigw_jwks_new(void)
{
    apigw_jwks *r = calloc(1, sizeof *r);
    if (r && pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r);
        return NULL;
    }
    return r;
}

void apigw_jwks_free(apigw_jwks *registry)
{
    if (!registry)
        return;
    for (size_t i = 0; i < registry->n; i++) {
        free(registry->issuers[i].issuer);
        keys_free(registry->issuers[i].keys, registry->issuers[i].n);
    }
    free(registry->issuers);
    pthread_mutex_destroy(&registry->lock);
    free(registry);
}

static BIGNUM *b64url_bignum(const char *text)
{
    size_t len = 0;
    unsigned char *bytes = core_base64url_decode(text, strlen(text), &len);
    if (!bytes)
        return NULL;
    BIGNUM *bn = len ? BN_bin2bn(bytes, (int)len, NULL) : NULL;
    free(bytes);
    return bn;
}

/* An RSA public key from base64url n and e, or NULL (why filled). */
static EVP_PKEY *rsa_from_jwk(const char *n64, const char *e64, char *why, size_t why_len)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *n = b64url_bignum(n64), *e = b64url_bignum(e64);
    if (!n || !e) {
        snprintf(why, why_len, "%s is not a base64url big-endian integer", !n ? "n" : "e");
        goto out;
    }
    if (BN_num_bits(n) < 1024 || BN_num_bits(n) > 16384) {
        snprintf(why, why_len, "n must be a 1024 to 16384 bit modulus, not %d bits",
                 BN_num_bits(n));
        goto out;
    }
    if (!BN_is_odd(e) || BN_num_bits(e) < 2 || BN_num_bits(e) > 64) {
        snprintf(why, why_len, "e is not a usable RSA public exponent");
        goto out;
    }
    bld = OSSL_PARAM_BLD_new();
    if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
        !(params = OSSL_PARAM_BLD_to_param(bld))) {
        snprintf(why, why_len, "out of memory");
        goto out;
    }
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        pkey = NULL;
        snprintf(why, why_len, "OpenSSL refused the RSA key");
    }
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

static const char *jwk_str(const cJSON *jwk, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(jwk, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Parse every key of doc into keys/n; CORE_ERROR with err filled on the first
 * bad one (keys are then freed). */
static int parse_keys(const cJSON *doc, jwks_key **out, size_t *out_n, core_err *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "keys");
    if (!cJSON_IsArray(arr))
        return core_err_set(err, 400, "ValidationException",
                            "a JWKS is a JSON object with a \"keys\" array");
    int count = cJSON_GetArraySize(arr);
    jwks_key *keys = calloc((size_t)count + 1, sizeof *keys);
    if (!keys)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    size_t n = 0;
    int i = 0;
    for (const cJSON *jwk = arr->child; jwk; jwk = jwk->next, i++) {
        const char *kid = jwk_str(jwk, "kid"), *kty = jwk_str(jwk, "kty");
        const char *alg = jwk_str(jwk, "alg"), *use = jwk_str(jwk, "use");
        const char *n64 = jwk_str(jwk, "n"), *e64 = jwk_str(jwk, "e");
        char why[160] = "";
        if (!cJSON_IsObject(jwk))
            snprintf(why, sizeof why, "not an object");
        else if (!kid || !*kid)
            snprintf(why, sizeof why, "kid is required");
        else if (!kty || strcmp(kty, "RSA") != 0)
            snprintf(why, sizeof why, "kty must be \"RSA\"");
        else if (cJSON_GetObjectItemCaseSensitive(jwk, "alg") && (!alg || strcmp(alg, "RS256")))
            snprintf(why, sizeof why, "alg must be \"RS256\"");
        else if (cJSON_GetObjectItemCaseSensitive(jwk, "use") && (!use || strcmp(use, "sig")))
            snprintf(why, sizeof why, "use must be \"sig\"");
        else if (!n64 || !e64)
            snprintf(why, sizeof why, "n and e are required strings");
        for (size_t k = 0; !why[0] && k < n; k++)
            if (!strcmp(keys[k].kid, kid))
                snprintf(why, sizeof why, "kid %.64s appears twice", kid);
        EVP_PKEY *pkey = why[0] ? NULL : rsa_from_jwk(n64, e64, why, sizeof why);
        if (!pkey) {
            keys_free(keys, n);
            return core_err_set(err, 400, "ValidationException", "keys[%d]: %s", i, why);
        }
        keys[n].kid = strdup(kid);
        keys[n].key = pkey;
        n++;
        if (!keys[n - 1].kid) {
            keys_free(keys, n);
            return core_err_set(err, 500, "InternalFailure", "out of memory");
        }
    }
    *out = keys;
    *out_n = n;
    return CORE_OK;
}

int apigw_jwks_set(apigw_jwks *registry, const char *issuer, const char *jwks_json,
                   core_err *err)
{
    if (!issuer || !*issuer)
        return core_err_set(err, 400, "ValidationException", "an issuer is required");
    if (!jwks_json || strlen(jwks_json) > APIGW_JWKS_MAX_TEXT)
        return core_err_set(err, 400, "ValidationException",
                            "the JWKS must be JSON of at most %d bytes", APIGW_JWKS_MAX_TEXT);
    cJSON *doc = cJSON_Parse(jwks_json);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return core_err_set(err, 400, "ValidationException", "the JWKS is not a JSON object");
    }
    jwks_key *keys = NULL;
    size_t n = 0;
    int rc = parse_keys(doc, &keys, &n, err);
    cJSON_Delete(doc);
    if (rc != CORE_OK)
        return rc;

    pthread_mutex_lock(&registry->lock);
    jwks_issuer *slot = NULL;
    for (size_t i = 0; i < registry->n && !slot; i++)
        if (!strcmp(registry->issuers[i].issuer, issuer))
            slot = &registry->issuers[i];
    if (!slot) {
        if (registry->n == registry->cap) {
            size_t cap = registry->cap ? registry->cap * 2 : 4;
            jwks_issuer *grown = realloc(registry->issuers, cap * sizeof *grown);
            if (!grown)
                goto oom;
            registry->issuers = grown;
            registry->cap = cap;
        }
        char *copy = strdup(issuer);
        if (!copy)
            goto oom;
        slot = &registry->issuers[registry->n++];
        *slot = (jwks_issuer){.issuer = copy};
    }
    keys_free(slot->keys, slot->n);
    slot->keys = keys;
    slot->n = n;
    pthread_mutex_unlock(&registry->lock);
    return CORE_OK;
oom:
    pthread_mutex_unlock(&registry->lock);
    keys_free(keys, n);
    return core_err_set(err, 500, "InternalFailure", "out of memory");
}

size_t apigw_jwks_count(const apigw_jwks *registry, const char *issuer)
{
    apigw_jwks *r = (apigw_jwks *)registry; /* the lock is not part of the value */
    size_t n = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->issuers[i].issuer, issuer))
            n = r->issuers[i].n;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* The key (issuer, kid) with a reference the caller drops with EVP_PKEY_free,
 * or NULL. */
static EVP_PKEY *jwks_lookup(const apigw_jwks *registry, const char *issuer, const char *kid)
{
    apigw_jwks *r = (apigw_jwks *)registry;
    EVP_PKEY *key = NULL;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n && !key; i++) {
        if (strcmp(r->issuers[i].issuer, issuer) != 0)
            continue;
        for (size_t k = 0; k < r->issuers[i].n && !key; k++)
            if (!strcmp(r->issuers[i].keys[k].kid, kid) &&
                EVP_PKEY_up_ref(r->issuers[i].keys[k].key) == 1)
                key = r->issuers[i].keys[k].key;
    }
    pthread_mutex_unlock(&r->lock);
    return key;
}

/* ---- the authorizer --------------------------------------------------------- */

static int verify_rs256(EVP_PKEY *key, const char *signed_part, size_t signed_len,
                        const unsigned char *sig, size_t sig_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)signed_part,
                              signed_len) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

static int is_short_name(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= 16 || !((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
                         (s[n] >= '0' && s[n] <= '9')))
            return 0;
    return n > 0;
}

static int audience_ok(const core_tpl_authorizer *auth, const cJSON *value)
{
    if (cJSON_IsString(value)) {
        for (size_t i = 0; i < auth->n_audience; i++)
            if (!strcmp(auth->audience[i], value->valuestring))
                return 1;
        return 0;
    }
    if (cJSON_IsArray(value))
        for (const cJSON *v = value->child; v; v = v->next)
            if (cJSON_IsString(v) && audience_ok(auth, v))
                return 1;
    return 0;
}

/* Append the space-separated words of text to arr. 0, or -1 on allocation
 * failure. */
static int add_words(cJSON *arr, const char *text)
{
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n) {
            char *w = strndup(p, n);
            cJSON *s = w ? cJSON_CreateString(w) : NULL;
            free(w);
            if (!s)
                return -1;
            cJSON_AddItemToArray(arr, s);
        }
        p += n;
    }
    return 0;
}

/* The token's scopes, from `scope` (space-separated) and `scp` (array or
 * string), as an array of strings; NULL on allocation failure. */
static cJSON *token_scopes(const cJSON *payload)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return NULL;
    const cJSON *scope = cJSON_GetObjectItemCaseSensitive(payload, "scope");
    const cJSON *scp = cJSON_GetObjectItemCaseSensitive(payload, "scp");
    int rc = 0;
    if (cJSON_IsString(scope))
        rc |= add_words(arr, scope->valuestring);
    if (cJSON_IsString(scp))
        rc |= add_words(arr, scp->valuestring);
    else if (cJSON_IsArray(scp))
        for (const cJSON *v = scp->child; v; v = v->next)
            if (cJSON_IsString(v))
                rc |= add_words(arr, v->valuestring);
    if (rc) {
        cJSON_Delete(arr);
        return NULL;
    }
    return arr;
}

static int scopes_meet(const cJSON *have, char *const *want, size_t n_want)
{
    for (const cJSON *h = have->child; h; h = h->next)
        for (size_t i = 0; i < n_want; i++)
            if (!strcmp(h->valuestring, want[i]))
                return 1;
    return 0;
}

/* The claims as API Gateway hands them on: every value a string, nulls dropped. */
static cJSON *stringify_claims(const cJSON *payload)
{
    cJSON *out = cJSON_CreateObject();
    for (const cJSON *c = payload->child; c && out; c = c->next) {
        if (cJSON_IsNull(c))
            continue;
        char *s = apigw_claim_string(c);
        if (!s || !cJSON_AddStringToObject(out, c->string, s)) {
            cJSON_Delete(out);
            out = NULL;
        }
        free(s);
    }
    return out;
}

#define REFUSE(...)                                                                    \
    do {                                                                               \
        snprintf(why, why_len, __VA_ARGS__);                                           \
        goto out;                                                                      \
    } while (0)

apigw_jwt_result apigw_jwt_authorize(const apigw_jwks *registry, const core_tpl_authorizer *auth,
                                     char *const *route_scopes, size_t n_route_scopes,
                                     const char *authorization, int64_t now_s,
                                     cJSON **claims_out, cJSON **scopes_out, char *why,
                                     size_t why_len)
{
    char why_dummy[1];
    if (!why || !why_len) {
        why = why_dummy;
        why_len = sizeof why_dummy;
    }
    why[0] = 0;
    *claims_out = NULL;
    *scopes_out = NULL;
    apigw_jwt_result result = APIGW_JWT_DENIED;
    cJSON *header = NULL, *payload = NULL, *scopes = NULL;
    unsigned char *sig = NULL;
    EVP_PKEY *key = NULL;

    const char *token = authorization ? authorization : "";
    if (!strncasecmp(token, "Bearer ", 7))
        token += 7;
    while (*token == ' ')
        token++;
    if (!*token)
        return APIGW_JWT_MISSING;
    size_t token_len = strnlen(token, APIGW_JWT_MAX_TOKEN + 1);
    if (token_len > APIGW_JWT_MAX_TOKEN)
        REFUSE("token is malformed");
    const char *dot1 = memchr(token, '.', token_len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', token_len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot1 || !dot2 || memchr(dot2 + 1, '.', token_len - (size_t)(dot2 + 1 - token)))
        REFUSE("token contains an invalid number of segments");
    header = core_base64url_json_object(token, (size_t)(dot1 - token));
    payload = core_base64url_json_object(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    size_t sig_len = 0;
    sig = core_base64url_decode(dot2 + 1, token_len - (size_t)(dot2 + 1 - token), &sig_len);
    if (!header || !payload || !sig)
        REFUSE("token is malformed");

    const char *alg = jwk_str(header, "alg");
    if (!alg || strcmp(alg, "RS256") != 0)
        REFUSE("signing method %s is invalid", alg && is_short_name(alg) ? alg : "(unknown)");
    const char *kid = jwk_str(header, "kid");
    if (!kid)
        REFUSE("kid header parameter is missing");
    key = jwks_lookup(registry, auth->issuer, kid);
    if (!key)
        REFUSE("the kid header parameter does not match any key of the issuer");
    if (!verify_rs256(key, token, (size_t)(dot2 - token), sig, sig_len))
        REFUSE("crypto/rsa: verification error");

    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(payload, "exp");
    const cJSON *nbf = cJSON_GetObjectItemCaseSensitive(payload, "nbf");
    if (!cJSON_IsNumber(exp))
        REFUSE("the token does not have a valid expiration");
    if (!(exp->valuedouble > (double)now_s))
        REFUSE("token is expired");
    if (nbf && (!cJSON_IsNumber(nbf) || nbf->valuedouble > (double)now_s))
        REFUSE("token is not valid yet");
    const char *iss = jwk_str(payload, "iss");
    if (!iss || strcmp(iss, auth->issuer) != 0)
        REFUSE("the token does not have a valid issuer");
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(payload, "aud");
    if (!audience_ok(auth, aud ? aud : cJSON_GetObjectItemCaseSensitive(payload, "client_id")))
        REFUSE("the token does not have a valid audience");

    if (n_route_scopes) {
        scopes = token_scopes(payload);
        if (!scopes)
            REFUSE("internal error");
        if (!scopes_meet(scopes, route_scopes, n_route_scopes)) {
            size_t used = (size_t)snprintf(why, why_len, "expected scopes: [");
            for (size_t i = 0; i < n_route_scopes && used < why_len; i++)
                used += (size_t)snprintf(why + used, why_len - used, "%s%s", i ? " " : "",
                                         route_scopes[i]);
            if (used < why_len)
                snprintf(why + used, why_len - used, "]");
            result = APIGW_JWT_FORBIDDEN;
            goto out;
        }
    } else {
        scopes = cJSON_CreateNull();
    }
    cJSON *claims = stringify_claims(payload);
    if (!claims || !scopes) {
        cJSON_Delete(claims);
        REFUSE("internal error");
    }
    *claims_out = claims;
    *scopes_out = scopes;
    scopes = NULL;
    result = APIGW_JWT_ALLOWED;
out:
    cJSON_Delete(scopes);
    cJSON_Delete(header);
    cJSON_Delete(payload);
    free(sig);
    EVP_PKEY_free(key);
    return result;
}

void apigw_jwt_challenge(apigw_jwt_result result, const char *why, char *const *route_scopes,
                         size_t n_route_scopes, char *out, size_t out_len)
{
    if (!out_len)
        return;
    if (result == APIGW_JWT_MISSING) {
        snprintf(out, out_len, "Bearer");
        return;
    }
    if (result != APIGW_JWT_FORBIDDEN) {
        snprintf(out, out_len, "Bearer scope=\"\" error=\"invalid_token\" error_description=\"%s\"",
                 why ? why : "");
        return;
    }
    size_t used = (size_t)snprintf(out, out_len, "Bearer scope=\"");
    for (size_t i = 0; i < n_route_scopes && used < out_len; i++)
        used += (size_t)snprintf(out + used, out_len - used, "%s%s", i ? " " : "",
                                 route_scopes[i]);
    if (used < out_len)
        snprintf(out + used, out_len - used,
                 "\" error=\"insufficient_scope\" error_description=\"%s\"", why ? why : "");
}
