/*
 * model.h — Cognito user pools as state and rules, on SQLite (cognito.db). No
 * HTTP and no envelopes here: wire.c parses requests, calls these functions and
 * shapes their answers.
 *
 * Pools, app clients and groups come from the template (AWS::Cognito::UserPool,
 * UserPoolClient, UserPoolGroup) with the ids the template loader derives, so
 * they are the same on every start; users, codes, group memberships, refresh
 * tokens, failed sign-in counts and each pool's two signing keys (ID tokens,
 * access tokens, made on the pool's first use) are rows of cognito.db and
 * survive restarts.
 *
 * Usernames: in a pool whose UsernameAttributes hold `email`, the user's
 * username is a generated UUID (its sub) and the email is the sign-in alias,
 * as on AWS: every lookup takes the email (case-insensitively), the username
 * or the sub. Otherwise the username is what SignUp was given.
 *
 * Rules kept here, each as Cognito documents it:
 *   - sign-up codes live 24 hours, reset codes 1 hour; a used code is gone;
 *   - after five failed sign-ins the user is locked for 2^(n-5) seconds (n
 *     failures so far) up to 15 minutes; attempts while locked answer
 *     "Password attempts exceeded" and are not failures; a success, or 15
 *     minutes without attempts, resets the count (Cognito's "Lockout
 *     behavior for failed sign-in attempts");
 *   - at most five codes per user per hour (LimitExceededException);
 *   - refresh tokens are opaque random strings, stored as SHA-256 hashes,
 *     valid for the client's RefreshTokenValidity; GlobalSignOut revokes
 *     every refresh token of the user and the access tokens issued from them;
 *   - token lifetimes from the client (AccessTokenValidity, IdTokenValidity,
 *     RefreshTokenValidity with TokenValidityUnits).
 * Time is the emulator clock, so virtual time expires codes, tokens and
 * lockouts.
 *
 * Thread safety: every function holds the store's lock.
 */
#ifndef COG_MODEL_H
#define COG_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cognito/password.h"
#include "cognito/token.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/outbox.h"
#include "core/template.h"

#define COG_SIGNUP_CODE_MS (24LL * 3600 * 1000)
#define COG_RESET_CODE_MS (3600LL * 1000)
#define COG_FAILURES_BEFORE_LOCK 5
#define COG_LOCK_MAX_MS (15LL * 60 * 1000)
#define COG_CODES_PER_HOUR 5
#define COG_SESSION_MS (3LL * 60 * 1000) /* a challenge's Session (AuthSessionValidity 3) */

typedef struct cog_pool {
    char *id;          /* us-east-1_AbCdEf123 */
    char *name;
    char *logical_id;
    char *arn;
    char *issuer;      /* https://cognito-idp.<region>.amazonaws.com/<id> */
    cog_password_policy policy;
    int username_is_email; /* UsernameAttributes holds email */
    int auto_verify_email; /* AutoVerifiedAttributes holds email */
    const cJSON *properties; /* borrowed from the template */
    cog_key *id_key, *access_key;
    int64_t created_ms;
} cog_pool;

typedef struct cog_client {
    char *id;
    char *name;
    const cog_pool *pool;
    int password_auth; /* ALLOW_USER_PASSWORD_AUTH */
    int refresh_auth;  /* ALLOW_REFRESH_TOKEN_AUTH */
    int prevent_existence_errors; /* PreventUserExistenceErrors ENABLED */
    int64_t access_ttl_s, id_ttl_s, refresh_ttl_s;
    const cJSON *properties; /* borrowed */
} cog_client;

typedef struct cog_group {
    char *name;
    const cog_pool *pool;
    char *description;  /* or NULL */
    char *role_arn;     /* or NULL */
    int precedence;     /* -1: none */
} cog_group;

typedef struct cog_user {
    char username[128];
    char sub[40];
    char status[32];   /* UNCONFIRMED, CONFIRMED, FORCE_CHANGE_PASSWORD, RESET_REQUIRED */
    int enabled;
    cJSON *attributes; /* [{"Name","Value"}], owned; sub first */
    int64_t created_ms, modified_ms;
} cog_user;

/* Where a code went (CodeDeliveryDetails). */
typedef struct cog_delivery {
    char destination[160]; /* masked: "a***@e***" */
    char medium[8];        /* EMAIL */
    char attribute[16];    /* email */
} cog_delivery;

typedef struct cog_tokens {
    char *id_token, *access_token, *refresh_token; /* refresh NULL on refresh auth */
    char *session; /* a challenge's Session instead of tokens, or NULL */
    int64_t expires_in; /* seconds: the access token's lifetime */
} cog_tokens;

typedef struct cog_model_opts {
    int kdf_iterations; /* 0: cog_kdf_iterations() */
    int auto_confirm;   /* SignUp confirms at once */
    /* Tests only: PEM private keys to use instead of generating a pool's new
     * ID / access keys (RSA generation costs seconds under Valgrind). NULL:
     * generate. */
    const char *id_key_pem, *access_key_pem;
    /* Called (with the model's lock held) when a pool's two keys are known:
     * at open for keys kept in cognito.db, or when first made. NULL: none. */
    void (*on_keys)(void *ctx, const cog_pool *pool);
    void *on_keys_ctx;
} cog_model_opts;

typedef struct cog_model cog_model;

/* Open <dir>/cognito.db (dir NULL or ":memory:": in memory), read the
 * template's pools, clients and groups, and load or create each pool's keys.
 * clock and outbox are borrowed (outbox may be NULL: codes only logged). */
int cog_model_open(const char *dir, const core_template *tpl, core_clock *clock,
                   core_outbox *outbox, const cog_model_opts *opts, cog_model **out,
                   core_err *err);
void cog_model_close(cog_model *model);

size_t cog_model_pool_count(const cog_model *m);
const cog_pool *cog_model_pool_at(const cog_model *m, size_t i);
/* NULL and err ResourceNotFoundException when unknown. */
const cog_pool *cog_model_pool(const cog_model *m, const char *id, core_err *err);
size_t cog_model_client_count(const cog_model *m);
const cog_client *cog_model_client_at(const cog_model *m, size_t i);
const cog_client *cog_model_client(const cog_model *m, const char *id, core_err *err);
size_t cog_model_group_count(const cog_model *m);
const cog_group *cog_model_group_at(const cog_model *m, size_t i);
const cog_group *cog_model_group(const cog_model *m, const cog_pool *pool, const char *name);

/* Make sure the pool has its two signing keys: loaded from cognito.db, or
 * made now (RSA-2048, a noticeable fraction of a second) on the pool's first
 * use — a token to sign or verify, a JWKS to publish — and kept. Start-up
 * stays fast that way. CORE_OK once pool->id_key and pool->access_key are
 * set; they never change after. */
int cog_model_pool_keys(cog_model *m, const cog_pool *pool, core_err *err);

/* The pool's JWKS text (caller frees; keys made if needed), NULL on failure. */
char *cog_model_jwks(cog_model *m, const cog_pool *pool);

/* Estimated number of users of the pool. */
long cog_model_user_count(cog_model *m, const cog_pool *pool);

void cog_user_release(cog_user *u);
void cog_tokens_release(cog_tokens *t);

/* Every function below returns CORE_OK or CORE_ERROR with err filled with the
 * Cognito error type and message AWS answers. attributes are arrays of
 * {"Name","Value"} (borrowed). Users filled on success are the caller's to
 * release. */
int cog_sign_up(cog_model *m, const cog_client *c, const char *username, const char *password,
                const cJSON *attributes, cog_user *out, int *confirmed, cog_delivery *d,
                core_err *err);
int cog_confirm_sign_up(cog_model *m, const cog_client *c, const char *username,
                        const char *code, core_err *err);
int cog_resend_code(cog_model *m, const cog_client *c, const char *username, cog_delivery *d,
                    core_err *err);
/* USER_PASSWORD_AUTH. *challenge is set (to "NEW_PASSWORD_REQUIRED") and
 * out->session to the challenge's Session, instead of tokens, when the user
 * must change a temporary password. */
int cog_auth_password(cog_model *m, const cog_client *c, const char *username,
                      const char *password, cog_tokens *out, const char **challenge,
                      core_err *err);
/* RespondToAuthChallenge NEW_PASSWORD_REQUIRED: the Session of the
 * challenge (valid 3 minutes, once), USERNAME (may be NULL), NEW_PASSWORD
 * against the policy; the user becomes CONFIRMED and gets tokens. */
int cog_respond_new_password(cog_model *m, const cog_client *c, const char *session,
                             const char *username, const char *password, cog_tokens *out,
                             core_err *err);
int cog_auth_refresh(cog_model *m, const cog_client *c, const char *refresh_token,
                     cog_tokens *out, core_err *err);
/* The user an access token belongs to (NotAuthorizedException when it is
 * malformed, expired or revoked); *pool_out the pool. */
int cog_access_user(cog_model *m, const char *access_token, const cog_pool **pool_out,
                    cog_user *out, core_err *err);
int cog_global_sign_out(cog_model *m, const cog_pool *pool, const char *username,
                        core_err *err);
int cog_change_password(cog_model *m, const cog_pool *pool, const char *username,
                        const char *previous, const char *proposed, core_err *err);
int cog_forgot_password(cog_model *m, const cog_client *c, const char *username,
                        cog_delivery *d, core_err *err);
int cog_confirm_forgot_password(cog_model *m, const cog_client *c, const char *username,
                                const char *code, const char *password, core_err *err);
/* AdminCreateUser: temp_password NULL generates one; suppress skips the
 * invitation message. */
int cog_admin_create_user(cog_model *m, const cog_pool *pool, const char *username,
                          const cJSON *attributes, const char *temp_password, int suppress,
                          cog_user *out, core_err *err);
int cog_admin_set_password(cog_model *m, const cog_pool *pool, const char *username,
                           const char *password, int permanent, core_err *err);
int cog_admin_confirm(cog_model *m, const cog_pool *pool, const char *username, core_err *err);
int cog_admin_get_user(cog_model *m, const cog_pool *pool, const char *username, cog_user *out,
                       core_err *err);
int cog_admin_delete_user(cog_model *m, const cog_pool *pool, const char *username,
                          core_err *err);
int cog_group_add(cog_model *m, const cog_pool *pool, const char *username, const char *group,
                  core_err *err);
int cog_group_remove(cog_model *m, const cog_pool *pool, const char *username,
                     const char *group, core_err *err);
/* The names of the user's groups, by precedence then name (caller owns the
 * array of strings). */
int cog_groups_of(cog_model *m, const cog_pool *pool, const char *username, cJSON **out,
                  core_err *err);
/* ListUsers: users of the pool ordered by creation, skipping `offset`, at
 * most `limit`; filter_attr/op/value as parsed from Filter (op "=" or "^=",
 * NULL for none). *out an array of cog_user (n in *n_out), *more nonzero when
 * more follow. */
int cog_list_users(cog_model *m, const cog_pool *pool, const char *filter_attr,
                   const char *filter_op, const char *filter_value, long offset, long limit,
                   cog_user **out, size_t *n_out, int *more, core_err *err);

/* Seed: create the user confirmed with a permanent password and the given
 * groups unless a user of that name already exists (then nothing changes).
 * *created tells which. */
int cog_seed_user(cog_model *m, const cog_pool *pool, const char *username,
                  const char *password, const cJSON *attributes, const cJSON *groups,
                  int *created, core_err *err);

/* ID and access token claims for a user (exposed for tests): token_use "id" or
 * "access"; now_s the issue time; ids are jti/origin_jti/event_id. */
cJSON *cog_claims_build(const cog_pool *pool, const cog_client *c, const cog_user *u,
                        const cJSON *groups, const char *token_use, int64_t now_s,
                        int64_t auth_time, int64_t ttl_s, const char *origin_jti,
                        const char *event_id);

/* "a***@e***" for "alice@example.com". */
void cog_mask_email(const char *email, char *out, size_t len);

#endif
