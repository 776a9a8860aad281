/*
 * password.c — PBKDF2 hashes, the password policy and one-time codes. See
 * password.h.
 */
#include "cognito/password.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cognito/token.h"
#include "core/codec.h"

#define SALT_LEN 16
#define HASH_LEN 32

int cog_kdf_iterations(void)
{
    const char *v = getenv("SHOPLOCAL_COGNITO_KDF_ITER");
    if (v && *v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (!*end && n >= COG_KDF_MIN_ITERATIONS && n < COG_KDF_ITERATIONS)
            return (int)n;
    }
    return COG_KDF_ITERATIONS;
}

static int derive(const char *password, const unsigned char *salt, size_t salt_len,
                  int iterations, unsigned char *out)
{
    return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, iterations,
                             EVP_sha256(), HASH_LEN, out) == 1 ? 0 : -1;
}

int cog_password_hash(const char *password, int iterations, char *out, size_t out_len,
                      core_err *err)
{
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    if (iterations < 1 || RAND_bytes(salt, sizeof salt) != 1 ||
        derive(password, salt, sizeof salt, iterations, hash) != 0)
        return core_err_set(err, 500, "InternalErrorException", "password hashing failed");
    char *s64 = core_base64url_encode(salt, sizeof salt);
    char *h64 = core_base64url_encode(hash, sizeof hash);
    int n = s64 && h64 ? snprintf(out, out_len, "pbkdf2-sha256$%d$%s$%s", iterations, s64, h64)
                       : -1;
    free(s64);
    free(h64);
    OPENSSL_cleanse(hash, sizeof hash);
    if (n < 0 || (size_t)n >= out_len)
        return core_err_set(err, 500, "InternalErrorException", "password hashing failed");
    return CORE_OK;
}

static int b64url_to(const char *s, size_t len, unsigned char *out, size_t want)
{
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = core_base64_digit((unsigned char)s[i], 1);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == want)
                return -1;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return n == want ? 0 : -1;
}

int cog_password_verify(const char *password, const char *stored)
{
    static const char prefix[] = "pbkdf2-sha256$";
    if (!password || !stored || strncmp(stored, prefix, sizeof prefix - 1) != 0)
        return 0;
    const char *p = stored + sizeof prefix - 1;
    char *end;
    long iterations = strtol(p, &end, 10);
    if (end == p || *end != '$' || iterations < 1 || iterations > 10000000)
        return 0;
    const char *salt64 = end + 1;
    const char *dollar = strchr(salt64, '$');
    if (!dollar)
        return 0;
    unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
    if (b64url_to(salt64, (size_t)(dollar - salt64), salt, sizeof salt) != 0 ||
        b64url_to(dollar + 1, strlen(dollar + 1), want, sizeof want) != 0)
        return 0;
    if (derive(password, salt, sizeof salt, (int)iterations, got) != 0)
        return 0;
    int same = CRYPTO_memcmp(got, want, sizeof got) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return same;
}

static int is_symbol(unsigned char c)
{
    return c && strchr("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ", c) != NULL;
}

int cog_password_check(const cog_password_policy *policy, const char *password, core_err *err)
{
    int lower = 0, upper = 0, digit = 0, symbol = 0;
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)password; *p; p++) {
        if ((*p & 0xC0) != 0x80)
            chars++; /* count code points, not bytes */
        lower |= *p >= 'a' && *p <= 'z';
        upper |= *p >= 'A' && *p <= 'Z';
        digit |= *p >= '0' && *p <= '9';
        symbol |= is_symbol(*p);
    }
    const char *why = NULL;
    if ((long)chars < policy->minimum_length)
        why = "Password not long enough";
    else if (policy->require_lowercase && !lower)
        why = "Password must have lowercase characters";
    else if (policy->require_uppercase && !upper)
        why = "Password must have uppercase characters";
    else if (policy->require_numbers && !digit)
        why = "Password must have numeric characters";
    else if (policy->require_symbols && !symbol)
        why = "Password must have symbol characters";
    if (why)
        return core_err_set(err, 400, "InvalidPasswordException",
                            "Password did not conform with policy: %s", why);
    return CORE_OK;
}

void cog_code_generate(char *out, int digits)
{
    if (digits > 15)
        digits = 15;
    unsigned char r[16];
    if (RAND_bytes(r, sizeof r) != 1)
        memset(r, 7, sizeof r); /* RAND_bytes does not fail once seeded */
    for (int i = 0; i < digits; i++)
        out[i] = (char)('0' + r[i] % 10);
    out[digits] = 0;
}

void cog_password_generate(const cog_password_policy *policy, char *out, size_t out_len)
{
    static const char alnum[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    size_t want = policy->minimum_length > 12 ? (size_t)policy->minimum_length : 12;
    if (want + 5 > out_len)
        want = out_len - 5;
    unsigned char r[256];
    RAND_bytes(r, sizeof r);
    size_t n = 0;
    for (; n < want && n < sizeof r; n++)
        out[n] = alnum[r[n] % (sizeof alnum - 1)];
    /* one of each class, whatever the policy asks */
    out[n++] = 'a';
    out[n++] = 'Z';
    out[n++] = '7';
    out[n++] = '!';
    out[n] = 0;
}
