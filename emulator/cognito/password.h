/*
 * password.h — how Cognito keeps and judges passwords: salted slow hashes, the
 * pool's password policy, and one-time codes.
 *
 * Hashes are PBKDF2-HMAC-SHA256 (OpenSSL) with a 16-byte random salt per
 * password, stored as "pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>",
 * so a hash made with other iterations still verifies. COG_KDF_ITERATIONS is
 * what `serve` uses: tens of milliseconds per sign-in, about as slow as Cognito
 * answers. SHOPLOCAL_COGNITO_KDF_ITER lowers it (never raises it; 1000 at
 * least) for test suites that sign in hundreds of times.
 *
 * The policy check reproduces Cognito's InvalidPasswordException messages
 * ("Password did not conform with policy: Password not long enough", ...,
 * checked in that order: length, lowercase, uppercase, numeric, symbol) and
 * its symbol set: ^ $ * . [ ] { } ( ) ? " ! @ # % & / \ , > < ' : ; | _ ~ ` = +
 * - and the space.
 */
#ifndef COG_PASSWORD_H
#define COG_PASSWORD_H

#include <stddef.h>

#include "core/err.h"

#define COG_KDF_ITERATIONS 100000
#define COG_KDF_MIN_ITERATIONS 1000
#define COG_PASSWORD_HASH_MAX 160

typedef struct cog_password_policy {
    int minimum_length;     /* default 8 */
    int require_uppercase;
    int require_lowercase;
    int require_numbers;
    int require_symbols;
    int temporary_validity_days; /* default 7 */
} cog_password_policy;

/* The iterations `serve` hashes with: COG_KDF_ITERATIONS, or the value of
 * SHOPLOCAL_COGNITO_KDF_ITER when that is a number below it (and not below
 * COG_KDF_MIN_ITERATIONS). */
int cog_kdf_iterations(void);

/* Hash password with a fresh salt and `iterations` into out (>=
 * COG_PASSWORD_HASH_MAX bytes). CORE_OK or CORE_ERROR (err 500). */
int cog_password_hash(const char *password, int iterations, char *out, size_t out_len,
                      core_err *err);

/* 1 if password matches stored (compared in constant time), 0 otherwise
 * (including a stored text this module did not write). */
int cog_password_verify(const char *password, const char *stored);

/* CORE_OK when password satisfies policy; otherwise err is Cognito's
 * InvalidPasswordException (400) naming the first unmet rule. */
int cog_password_check(const cog_password_policy *policy, const char *password, core_err *err);

/* A random code of `digits` decimal digits (<= 15) into out (> digits bytes). */
void cog_code_generate(char *out, int digits);

/* A temporary password that satisfies policy (caller provides >= 32 bytes). */
void cog_password_generate(const cog_password_policy *policy, char *out, size_t out_len);

#endif
