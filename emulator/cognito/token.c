/*
 * token.c — RSA keys, JWKS and RS256 JWTs with OpenSSL 3's EVP interface. See
 * token.h.
 */
#include "cognito/token.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "core/codec.h"

#define COG_JWT_MAX_TOKEN (16 * 1024)

struct cog_key {
    EVP_PKEY *pkey;
    char kid[64];
};

/* kid = standard base64 of SHA-256(SubjectPublicKeyInfo DER). */
static int key_set_kid(cog_key *k)
{
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(k->pkey, &der);
    if (len <= 0)
        return -1;
    unsigned char md[32];
    unsigned int md_len = 0;
    int ok = EVP_Digest(der, (size_t)len, md, &md_len, EVP_sha256(), NULL);
    OPENSSL_free(der);
    if (!ok)
        return -1;
    EVP_EncodeBlock((unsigned char *)k->kid, md, (int)md_len);
    return 0;
}

static cog_key *key_wrap(EVP_PKEY *pkey, core_err *err)
{
    cog_key *k = calloc(1, sizeof *k);
    if (!k) {
        EVP_PKEY_free(pkey);
        core_err_set(err, 500, "InternalErrorException", "out of memory");
        return NULL;
    }
    k->pkey = pkey;
    if (key_set_kid(k) != 0) {
        cog_key_free(k);
        core_err_set(err, 500, "InternalErrorException", "cannot derive the key id");
        return NULL;
    }
    return k;
}

cog_key *cog_key_generate(core_err *err)
{
    EVP_PKEY *pkey = EVP_RSA_gen(2048);
    if (!pkey) {
        core_err_set(err, 500, "InternalErrorException", "RSA key generation failed");
        return NULL;
    }
    return key_wrap(pkey, err);
}

cog_key *cog_key_from_pem(const char *pem, core_err *err)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!pkey || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        EVP_PKEY_free(pkey);
        core_err_set(err, 500, "InternalErrorException", "not an RSA private key");
        return NULL;
    }
    return key_wrap(pkey, err);
}

char *cog_key_to_pem(const cog_key *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return NULL;
    char *out = NULL;
    if (PEM_write_bio_PKCS8PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL)) {
        char *data;
        long n = BIO_get_mem_data(bio, &data);
        out = malloc((size_t)n + 1);
        if (out) {
            memcpy(out, data, (size_t)n);
            out[n] = 0;
        }
    }
    BIO_free(bio);
    return out;
}

const char *cog_key_kid(const cog_key *key) { return key->kid; }

void cog_key_free(cog_key *key)
{
    if (!key)
        return;
    EVP_PKEY_free(key->pkey);
    free(key);
}

static char *bn_param_b64url(const EVP_PKEY *pkey, const char *name)
{
    BIGNUM *bn = NULL;
    if (!EVP_PKEY_get_bn_param(pkey, name, &bn))
        return NULL;
    int len = BN_num_bytes(bn);
    unsigned char *buf = malloc((size_t)len + 1);
    char *out = NULL;
    if (buf) {
        BN_bn2bin(bn, buf);
        out = core_base64url_encode(buf, (size_t)len);
    }
    free(buf);
    BN_free(bn);
    return out;
}

cJSON *cog_key_jwk(const cog_key *key)
{
    char *n = bn_param_b64url(key->pkey, OSSL_PKEY_PARAM_RSA_N);
    char *e = bn_param_b64url(key->pkey, OSSL_PKEY_PARAM_RSA_E);
    cJSON *o = NULL;
    if (n && e) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "alg", "RS256");
        cJSON_AddStringToObject(o, "e", e);
        cJSON_AddStringToObject(o, "kid", key->kid);
        cJSON_AddStringToObject(o, "kty", "RSA");
        cJSON_AddStringToObject(o, "n", n);
        cJSON_AddStringToObject(o, "use", "sig");
    }
    free(n);
    free(e);
    return o;
}

char *cog_jwks_render(const cog_key *const *keys, size_t n)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(doc, "keys");
    for (size_t i = 0; i < n; i++) {
        cJSON *jwk = cog_key_jwk(keys[i]);
        if (!jwk) {
            cJSON_Delete(doc);
            return NULL;
        }
        cJSON_AddItemToArray(arr, jwk);
    }
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return text;
}

char *cog_jwt_sign(const cog_key *key, const cJSON *claims)
{
    cJSON *header = cJSON_CreateObject();
    cJSON_AddStringToObject(header, "kid", key->kid);
    cJSON_AddStringToObject(header, "alg", "RS256");
    char *h = cJSON_PrintUnformatted(header);
    char *p = cJSON_PrintUnformatted(claims);
    cJSON_Delete(header);
    char *h64 = h ? core_base64url_encode((const unsigned char *)h, strlen(h)) : NULL;
    char *p64 = p ? core_base64url_encode((const unsigned char *)p, strlen(p)) : NULL;
    free(h);
    free(p);
    char *out = NULL;
    if (!h64 || !p64)
        goto done;
    size_t signed_len = strlen(h64) + 1 + strlen(p64);
    char *signing = malloc(signed_len + 1);
    if (!signing)
        goto done;
    memcpy(signing, h64, strlen(h64));
    signing[strlen(h64)] = '.';
    memcpy(signing + strlen(h64) + 1, p64, strlen(p64) + 1);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char sig[1024];
    size_t sig_len = sizeof sig;
    if (md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
        EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)signing, signed_len) == 1) {
        char *s64 = core_base64url_encode(sig, sig_len);
        if (s64) {
            size_t total = signed_len + 1 + strlen(s64) + 1;
            out = malloc(total);
            if (out) {
                memcpy(out, signing, signed_len);
                out[signed_len] = '.';
                memcpy(out + signed_len + 1, s64, strlen(s64) + 1);
            }
            free(s64);
        }
    }
    EVP_MD_CTX_free(md);
    free(signing);
done:
    free(h64);
    free(p64);
    return out;
}

cog_jwt_status cog_jwt_verify(const cog_key *const *keys, size_t n, const char *token,
                              int64_t now_s, cJSON **claims_out)
{
    if (claims_out)
        *claims_out = NULL;
    if (!token)
        return COG_JWT_MALFORMED;
    size_t len = strnlen(token, COG_JWT_MAX_TOKEN + 1);
    if (len > COG_JWT_MAX_TOKEN)
        return COG_JWT_MALFORMED;
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return COG_JWT_MALFORMED;
    cJSON *header = core_base64url_json_object(token, (size_t)(d1 - token));
    cJSON *payload = core_base64url_json_object(d1 + 1, (size_t)(d2 - d1 - 1));
    size_t sig_len = 0;
    unsigned char *sig = core_base64url_decode(d2 + 1, len - (size_t)(d2 + 1 - token), &sig_len);
    cog_jwt_status st = COG_JWT_MALFORMED;
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(header, "alg");
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(header, "kid");
    if (!header || !payload || !sig || !cJSON_IsString(alg) || strcmp(alg->valuestring, "RS256"))
        goto done;
    st = COG_JWT_BAD_SIGNATURE;
    const cog_key *key = NULL;
    for (size_t i = 0; cJSON_IsString(kid) && i < n && !key; i++)
        if (!strcmp(keys[i]->kid, kid->valuestring))
            key = keys[i];
    if (!key)
        goto done;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
             EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)token,
                              (size_t)(d2 - token)) == 1;
    EVP_MD_CTX_free(md);
    if (!ok)
        goto done;
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(payload, "exp");
    st = cJSON_IsNumber(exp) && exp->valuedouble > (double)now_s ? COG_JWT_VALID
                                                                  : COG_JWT_EXPIRED;
    if (claims_out) {
        *claims_out = payload;
        payload = NULL;
    }
done:
    cJSON_Delete(header);
    cJSON_Delete(payload);
    free(sig);
    return st;
}
