/*
 * model.c — Cognito user pools on SQLite. See model.h for the rules.
 */
#include "cognito/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/codec.h"
#include "core/http.h"
#include "core/log.h"
#include "core/store.h"

static const char *const cog_migrations[] = {
    "CREATE TABLE pools (id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE keys (pool_id TEXT NOT NULL, use TEXT NOT NULL, pem TEXT NOT NULL,"
    " PRIMARY KEY(pool_id, use)) WITHOUT ROWID;"
    "CREATE TABLE users (pool_id TEXT NOT NULL, username TEXT NOT NULL, sub TEXT NOT NULL,"
    " email TEXT COLLATE NOCASE, status TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1,"
    " pw TEXT, attrs TEXT NOT NULL, created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL,"
    " failures INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0,"
    " sends INTEGER NOT NULL DEFAULT 0, sends_since INTEGER NOT NULL DEFAULT 0,"
    " last_attempt INTEGER NOT NULL DEFAULT 0,"
    " seq INTEGER NOT NULL, PRIMARY KEY(pool_id, username));"
    "CREATE UNIQUE INDEX users_by_sub ON users(pool_id, sub);"
    "CREATE INDEX users_by_email ON users(pool_id, email);"
    "CREATE TABLE codes (pool_id TEXT NOT NULL, sub TEXT NOT NULL, purpose TEXT NOT NULL,"
    " code TEXT NOT NULL, expires_ms INTEGER NOT NULL, PRIMARY KEY(pool_id, sub, purpose))"
    " WITHOUT ROWID;"
    "CREATE TABLE members (pool_id TEXT NOT NULL, sub TEXT NOT NULL, grp TEXT NOT NULL,"
    " PRIMARY KEY(pool_id, sub, grp)) WITHOUT ROWID;"
    "CREATE TABLE refresh (hash TEXT PRIMARY KEY, pool_id TEXT NOT NULL,"
    " client_id TEXT NOT NULL, sub TEXT NOT NULL, origin_jti TEXT NOT NULL,"
    " event_id TEXT NOT NULL, auth_time INTEGER NOT NULL, expires_ms INTEGER NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE INDEX refresh_by_origin ON refresh(origin_jti);"
    "CREATE INDEX refresh_by_sub ON refresh(pool_id, sub);"
    "CREATE TABLE sessions (hash TEXT PRIMARY KEY, pool_id TEXT NOT NULL,"
    " client_id TEXT NOT NULL, sub TEXT NOT NULL, expires_ms INTEGER NOT NULL) WITHOUT ROWID;",
};

struct cog_model {
    core_store *store;
    core_clock *clock;
    core_outbox *outbox;
    int kdf_iterations;
    int auto_confirm;
    const char *preset_pem[2]; /* tests: keys instead of generated ones */
    void (*on_keys)(void *ctx, const cog_pool *pool);
    void *on_keys_ctx;
    cog_pool *pools;
    size_t n_pools;
    cog_client *clients;
    size_t n_clients;
    cog_group *groups;
    size_t n_groups;
};

/* A user row: the public part and what never leaves this file. */
typedef struct user_row {
    cog_user u;
    char pw[COG_PASSWORD_HASH_MAX];
    long failures;
    int64_t locked_until;
    long sends;
    int64_t sends_since;
    int64_t last_attempt; /* the last password sign-in attempt, for the lockout reset */
} user_row;

static int64_t now_ms(cog_model *m) { return core_clock_now_ms(m->clock); }

static int db_fail(cog_model *m, core_err *err)
{
    return core_err_set(err, 500, "InternalErrorException", "cognito.db: %s",
                        sqlite3_errmsg(core_store_db(m->store)));
}

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

static const char *str_prop(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A template boolean: true, "true" (CloudFormation takes both). */
static int bool_prop(const cJSON *o, const char *name, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v);
    if (cJSON_IsString(v))
        return !strcasecmp(v->valuestring, "true");
    return dflt;
}

static long num_prop(const cJSON *o, const char *name, long dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsNumber(v))
        return (long)v->valuedouble;
    if (cJSON_IsString(v) && *v->valuestring)
        return strtol(v->valuestring, NULL, 10);
    return dflt;
}

static int list_has(const cJSON *list, const char *value)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, list)
        if (cJSON_IsString(x) && !strcmp(x->valuestring, value))
            return 1;
    return 0;
}

/* ---- set-up ----------------------------------------------------------------- */

/* Load the pool's keys from cognito.db; with create, make (and keep) those
 * that are missing. Caller holds the store lock. Tells on_keys once both are
 * there. */
static int pool_keys(cog_model *m, cog_pool *p, int create, core_err *err)
{
    static const char *const uses[] = {"id", "access"};
    cog_key **slots[] = {&p->id_key, &p->access_key};
    if (p->id_key && p->access_key)
        return CORE_OK;
    for (size_t i = 0; i < 2; i++) {
        if (*slots[i])
            continue;
        sqlite3_stmt *st = core_store_stmt(m->store,
                                           "SELECT pem FROM keys WHERE pool_id = ?1 AND use = ?2",
                                           err);
        if (!st)
            return CORE_ERROR;
        sqlite3_bind_text(st, 1, p->id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, uses[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            *slots[i] = cog_key_from_pem((const char *)sqlite3_column_text(st, 0), err);
        sqlite3_reset(st);
        if (*slots[i] || !create)
            continue;
        /* first use (or an unreadable key): a new key, kept for next time */
        *slots[i] = m->preset_pem[i] ? cog_key_from_pem(m->preset_pem[i], err)
                                     : cog_key_generate(err);
        if (!*slots[i])
            return CORE_ERROR;
        char *pem = cog_key_to_pem(*slots[i]);
        st = core_store_stmt(m->store, "INSERT OR REPLACE INTO keys(pool_id, use, pem)"
                                       " VALUES(?1, ?2, ?3)", err);
        if (!pem || !st) {
            free(pem);
            return CORE_ERROR;
        }
        sqlite3_bind_text(st, 1, p->id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, uses[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, pem, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        free(pem);
        if (rc != SQLITE_DONE)
            return db_fail(m, err);
    }
    if (p->id_key && p->access_key && m->on_keys)
        m->on_keys(m->on_keys_ctx, p);
    return CORE_OK;
}

int cog_model_pool_keys(cog_model *m, const cog_pool *pool, core_err *err)
{
    core_store_lock(m->store); /* the keys are set under it */
    int rc = pool_keys(m, &m->pools[pool - m->pools], 1, err);
    core_store_unlock(m->store);
    return rc;
}

static int pool_created(cog_model *m, cog_pool *p, core_err *err)
{
    sqlite3_stmt *st = core_store_stmt(
        m->store,
        "INSERT INTO pools(id, created_ms) VALUES(?1, ?2) ON CONFLICT(id) DO UPDATE SET"
        " created_ms = created_ms RETURNING created_ms", err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_text(st, 1, p->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now_ms(m));
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        p->created_ms = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? CORE_OK : db_fail(m, err);
}

static int64_t ttl_seconds(const cJSON *props, const char *field, const char *unit_field,
                           const char *dflt_unit, long dflt)
{
    long v = num_prop(props, field, -1);
    const char *unit = str_prop(cJSON_GetObjectItemCaseSensitive(props, "TokenValidityUnits"),
                                unit_field);
    if (!unit)
        unit = dflt_unit;
    if (v <= 0) {
        v = dflt;
        unit = dflt_unit;
    }
    if (!strcmp(unit, "seconds"))
        return v;
    if (!strcmp(unit, "minutes"))
        return (int64_t)v * 60;
    if (!strcmp(unit, "days"))
        return (int64_t)v * 86400;
    return (int64_t)v * 3600; /* hours */
}

static int load_template(cog_model *m, const core_template *tpl, core_err *err)
{
    size_t n = core_template_resource_count(tpl);
    m->pools = calloc(n ? n : 1, sizeof *m->pools);
    m->clients = calloc(n ? n : 1, sizeof *m->clients);
    m->groups = calloc(n ? n : 1, sizeof *m->groups);
    if (!m->pools || !m->clients || !m->groups)
        return core_err_set(err, 500, "InternalErrorException", "out of memory");
    const char *region = core_template_region(tpl);
    for (size_t i = 0; i < n; i++) {
        const core_tpl_resource *r = core_template_resource_at(tpl, i);
        if (strcmp(r->type, "AWS::Cognito::UserPool") != 0)
            continue;
        cog_pool *p = &m->pools[m->n_pools++];
        p->id = xstrdup(r->physical_id);
        p->logical_id = xstrdup(r->logical_id);
        p->arn = xstrdup(r->arn);
        const char *name = str_prop(r->properties, "UserPoolName");
        p->name = xstrdup(name ? name : r->logical_id);
        size_t il = strlen(region) + strlen(p->id) + 48;
        p->issuer = malloc(il);
        if (!p->id || !p->arn || !p->name || !p->issuer)
            return core_err_set(err, 500, "InternalErrorException", "out of memory");
        snprintf(p->issuer, il, "https://cognito-idp.%s.amazonaws.com/%s", region, p->id);
        p->properties = r->properties;
        const cJSON *pp = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(r->properties, "Policies"), "PasswordPolicy");
        p->policy.minimum_length = (int)num_prop(pp, "MinimumLength", 8);
        p->policy.require_uppercase = bool_prop(pp, "RequireUppercase", pp ? 0 : 1);
        p->policy.require_lowercase = bool_prop(pp, "RequireLowercase", pp ? 0 : 1);
        p->policy.require_numbers = bool_prop(pp, "RequireNumbers", pp ? 0 : 1);
        p->policy.require_symbols = bool_prop(pp, "RequireSymbols", pp ? 0 : 1);
        p->policy.temporary_validity_days = (int)num_prop(pp, "TemporaryPasswordValidityDays", 7);
        p->username_is_email =
            list_has(cJSON_GetObjectItemCaseSensitive(r->properties, "UsernameAttributes"),
                     "email");
        p->auto_verify_email =
            list_has(cJSON_GetObjectItemCaseSensitive(r->properties, "AutoVerifiedAttributes"),
                     "email");
        if (pool_created(m, p, err) != CORE_OK || pool_keys(m, p, 0, err) != CORE_OK)
            return CORE_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        const core_tpl_resource *r = core_template_resource_at(tpl, i);
        int is_client = !strcmp(r->type, "AWS::Cognito::UserPoolClient");
        int is_group = !strcmp(r->type, "AWS::Cognito::UserPoolGroup");
        if (!is_client && !is_group)
            continue;
        const char *pool_id = str_prop(r->properties, "UserPoolId");
        const cog_pool *pool = NULL;
        for (size_t k = 0; pool_id && k < m->n_pools && !pool; k++)
            if (!strcmp(m->pools[k].id, pool_id))
                pool = &m->pools[k];
        if (!pool)
            return core_err_set(err, 2, "ValidationException",
                                "Resources.%s.Properties.UserPoolId: not a user pool of this "
                                "template", r->logical_id);
        if (is_group) {
            cog_group *g = &m->groups[m->n_groups++];
            g->name = xstrdup(r->physical_id);
            g->pool = pool;
            g->description = xstrdup(str_prop(r->properties, "Description"));
            g->role_arn = xstrdup(str_prop(r->properties, "RoleArn"));
            g->precedence = (int)num_prop(r->properties, "Precedence", -1);
            continue;
        }
        cog_client *c = &m->clients[m->n_clients++];
        c->id = xstrdup(r->physical_id);
        const char *name = str_prop(r->properties, "ClientName");
        c->name = xstrdup(name ? name : r->logical_id);
        c->pool = pool;
        c->properties = r->properties;
        const cJSON *flows = cJSON_GetObjectItemCaseSensitive(r->properties, "ExplicitAuthFlows");
        /* No ExplicitAuthFlows: Cognito allows SRP and refresh only. */
        c->password_auth = list_has(flows, "ALLOW_USER_PASSWORD_AUTH") ||
                           list_has(flows, "USER_PASSWORD_AUTH");
        c->refresh_auth = !cJSON_IsArray(flows) || list_has(flows, "ALLOW_REFRESH_TOKEN_AUTH");
        const char *prevent = str_prop(r->properties, "PreventUserExistenceErrors");
        c->prevent_existence_errors = !prevent || !strcmp(prevent, "ENABLED");
        c->access_ttl_s = ttl_seconds(r->properties, "AccessTokenValidity", "AccessToken",
                                      "hours", 1);
        c->id_ttl_s = ttl_seconds(r->properties, "IdTokenValidity", "IdToken", "hours", 1);
        c->refresh_ttl_s = ttl_seconds(r->properties, "RefreshTokenValidity", "RefreshToken",
                                       "days", 30);
    }
    return CORE_OK;
}

int cog_model_open(const char *dir, const core_template *tpl, core_clock *clock,
                   core_outbox *outbox, const cog_model_opts *opts, cog_model **out,
                   core_err *err)
{
    *out = NULL;
    cog_model *m = calloc(1, sizeof *m);
    if (!m)
        return core_err_set(err, 500, "InternalErrorException", "out of memory");
    m->clock = clock;
    m->outbox = outbox;
    m->kdf_iterations = opts && opts->kdf_iterations > 0 ? opts->kdf_iterations
                                                         : cog_kdf_iterations();
    m->auto_confirm = opts ? opts->auto_confirm : 0;
    m->preset_pem[0] = opts ? opts->id_key_pem : NULL;
    m->preset_pem[1] = opts ? opts->access_key_pem : NULL;
    m->on_keys = opts ? opts->on_keys : NULL;
    m->on_keys_ctx = opts ? opts->on_keys_ctx : NULL;
    if (core_store_open(dir, "cognito", cog_migrations,
                        sizeof cog_migrations / sizeof *cog_migrations, &m->store,
                        err) != CORE_OK) {
        free(m);
        return CORE_ERROR;
    }
    core_store_lock(m->store);
    int rc = load_template(m, tpl, err);
    core_store_unlock(m->store);
    if (rc != CORE_OK) {
        cog_model_close(m);
        return CORE_ERROR;
    }
    *out = m;
    return CORE_OK;
}

void cog_model_close(cog_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_pools; i++) {
        cog_pool *p = &m->pools[i];
        free(p->id);
        free(p->name);
        free(p->logical_id);
        free(p->arn);
        free(p->issuer);
        cog_key_free(p->id_key);
        cog_key_free(p->access_key);
    }
    for (size_t i = 0; i < m->n_clients; i++) {
        free(m->clients[i].id);
        free(m->clients[i].name);
    }
    for (size_t i = 0; i < m->n_groups; i++) {
        free(m->groups[i].name);
        free(m->groups[i].description);
        free(m->groups[i].role_arn);
    }
    free(m->pools);
    free(m->clients);
    free(m->groups);
    core_store_close(m->store);
    free(m);
}

size_t cog_model_pool_count(const cog_model *m) { return m->n_pools; }
const cog_pool *cog_model_pool_at(const cog_model *m, size_t i) { return &m->pools[i]; }
size_t cog_model_client_count(const cog_model *m) { return m->n_clients; }
const cog_client *cog_model_client_at(const cog_model *m, size_t i) { return &m->clients[i]; }
size_t cog_model_group_count(const cog_model *m) { return m->n_groups; }
const cog_group *cog_model_group_at(const cog_model *m, size_t i) { return &m->groups[i]; }

const cog_pool *cog_model_pool(const cog_model *m, const char *id, core_err *err)
{
    for (size_t i = 0; id && i < m->n_pools; i++)
        if (!strcmp(m->pools[i].id, id))
            return &m->pools[i];
    core_err_set(err, 400, "ResourceNotFoundException", "User pool %.128s does not exist.",
                 id ? id : "");
    return NULL;
}

const cog_client *cog_model_client(const cog_model *m, const char *id, core_err *err)
{
    for (size_t i = 0; id && i < m->n_clients; i++)
        if (!strcmp(m->clients[i].id, id))
            return &m->clients[i];
    core_err_set(err, 400, "ResourceNotFoundException", "User pool client %.128s does not exist.",
                 id ? id : "");
    return NULL;
}

const cog_group *cog_model_group(const cog_model *m, const cog_pool *pool, const char *name)
{
    for (size_t i = 0; name && i < m->n_groups; i++)
        if (m->groups[i].pool == pool && !strcmp(m->groups[i].name, name))
            return &m->groups[i];
    return NULL;
}

char *cog_model_jwks(cog_model *m, const cog_pool *pool)
{
    core_err err;
    if (cog_model_pool_keys(m, pool, &err) != CORE_OK)
        return NULL;
    const cog_key *keys[] = {pool->access_key, pool->id_key};
    return cog_jwks_render(keys, 2);
}

long cog_model_user_count(cog_model *m, const cog_pool *pool)
{
    core_err err;
    long n = 0;
    core_store_lock(m->store);
    sqlite3_stmt *st = core_store_stmt(m->store, "SELECT count(*) FROM users WHERE pool_id = ?1",
                                       &err);
    if (st) {
        sqlite3_bind_text(st, 1, pool->id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = (long)sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    }
    core_store_unlock(m->store);
    return n;
}

void cog_user_release(cog_user *u)
{
    if (!u)
        return;
    cJSON_Delete(u->attributes);
    u->attributes = NULL;
}

void cog_tokens_release(cog_tokens *t)
{
    if (!t)
        return;
    free(t->id_token);
    free(t->access_token);
    free(t->refresh_token);
    free(t->session);
    memset(t, 0, sizeof *t);
}

/* ---- users ------------------------------------------------------------------ */

static const char *attr_get(const cJSON *attrs, const char *name)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, attrs)
    {
        const char *n = str_prop(a, "Name");
        if (n && !strcmp(n, name))
            return str_prop(a, "Value");
    }
    return NULL;
}

static void attr_set(cJSON *attrs, const char *name, const char *value)
{
    cJSON *a;
    cJSON_ArrayForEach(a, attrs)
    {
        const char *n = str_prop(a, "Name");
        if (n && !strcmp(n, name)) {
            cJSON_ReplaceItemInObjectCaseSensitive(a, "Value", cJSON_CreateString(value));
            return;
        }
    }
    a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "Name", name);
    cJSON_AddStringToObject(a, "Value", value);
    cJSON_AddItemToArray(attrs, a);
}

#define USER_COLUMNS \
    "username, sub, status, enabled, attrs, created_ms, modified_ms, pw, failures," \
    " locked_until, sends, sends_since, last_attempt"

static void row_read(sqlite3_stmt *st, user_row *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->u.username, sizeof r->u.username, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(r->u.sub, sizeof r->u.sub, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(r->u.status, sizeof r->u.status, "%s", (const char *)sqlite3_column_text(st, 2));
    r->u.enabled = sqlite3_column_int(st, 3);
    r->u.attributes = cJSON_Parse((const char *)sqlite3_column_text(st, 4));
    if (!r->u.attributes)
        r->u.attributes = cJSON_CreateArray();
    r->u.created_ms = sqlite3_column_int64(st, 5);
    r->u.modified_ms = sqlite3_column_int64(st, 6);
    const unsigned char *pw = sqlite3_column_text(st, 7);
    snprintf(r->pw, sizeof r->pw, "%s", pw ? (const char *)pw : "");
    r->failures = (long)sqlite3_column_int64(st, 8);
    r->locked_until = sqlite3_column_int64(st, 9);
    r->sends = (long)sqlite3_column_int64(st, 10);
    r->sends_since = sqlite3_column_int64(st, 11);
    r->last_attempt = sqlite3_column_int64(st, 12);
}

/* 1 found (r filled, release r->u), 0 absent, -1 storage error. */
static int user_find(cog_model *m, const cog_pool *pool, const char *name, user_row *r,
                     core_err *err)
{
    if (!name || !*name)
        return 0;
    sqlite3_stmt *st = core_store_stmt(
        m->store,
        "SELECT " USER_COLUMNS " FROM users WHERE pool_id = ?1 AND (username = ?2 OR sub = ?2"
        " OR (?3 AND email = ?2)) ORDER BY username = ?2 DESC LIMIT 1", err);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, pool->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, pool->username_is_email);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        row_read(st, r);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    db_fail(m, err);
    return -1;
}

/* Bind value, or NULL when value is NULL. */
static void bind_text_or_null(sqlite3_stmt *st, int i, const char *value)
{
    if (value)
        sqlite3_bind_text(st, i, value, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Write back what the rules change. */
static int user_save(cog_model *m, const cog_pool *pool, user_row *r, core_err *err)
{
    char *attrs = cJSON_PrintUnformatted(r->u.attributes);
    sqlite3_stmt *st = core_store_stmt(
        m->store,
        "UPDATE users SET status = ?3, enabled = ?4, attrs = ?5, email = ?6, modified_ms = ?7,"
        " pw = ?8, failures = ?9, locked_until = ?10, sends = ?11, sends_since = ?12,"
        " last_attempt = ?13"
        " WHERE pool_id = ?1 AND username = ?2", err);
    if (!st || !attrs) {
        free(attrs);
        return CORE_ERROR;
    }
    sqlite3_bind_text(st, 1, pool->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, r->u.username, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, r->u.status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, r->u.enabled);
    sqlite3_bind_text(st, 5, attrs, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 6, attr_get(r->u.attributes, "email"));
    sqlite3_bind_int64(st, 7, r->u.modified_ms);
    bind_text_or_null(st, 8, r->pw[0] ? r->pw : NULL);
    sqlite3_bind_int64(st, 9, r->failures);
    sqlite3_bind_int64(st, 10, r->locked_until);
    sqlite3_bind_int64(st, 11, r->sends);
    sqlite3_bind_int64(st, 12, r->sends_since);
    sqlite3_bind_int64(st, 13, r->last_attempt);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    free(attrs);
    return rc == SQLITE_DONE ? CORE_OK : db_fail(m, err);
}

static int user_insert(cog_model *m, const cog_pool *pool, user_row *r, core_err *err)
{
    char *attrs = cJSON_PrintUnformatted(r->u.attributes);
    sqlite3_stmt *st = core_store_stmt(
        m->store,
        "INSERT INTO users(pool_id, username, sub, email, status, enabled, pw, attrs,"
        " created_ms, modified_ms, seq) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9,"
        " (SELECT coalesce(max(seq), 0) + 1 FROM users))", err);
    if (!st || !attrs) {
        free(attrs);
        return CORE_ERROR;
    }
    sqlite3_bind_text(st, 1, pool->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, r->u.username, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, r->u.sub, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 4, attr_get(r->u.attributes, "email"));
    sqlite3_bind_text(st, 5, r->u.status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 6, r->u.enabled);
    bind_text_or_null(st, 7, r->pw[0] ? r->pw : NULL);
    sqlite3_bind_text(st, 8, attrs, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 9, r->u.created_ms);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    free(attrs);
    return rc == SQLITE_DONE ? CORE_OK : db_fail(m, err);
}

static void user_export(user_row *r, cog_user *out)
{
    if (out) {
        *out = r->u;
        r->u.attributes = NULL;
    } else {
        cog_user_release(&r->u);
    }
}

static int not_found(core_err *err)
{
    return core_err_set(err, 400, "UserNotFoundException", "User does not exist.");
}

static int incorrect(core_err *err)
{
    return core_err_set(err, 400, "NotAuthorizedException", "Incorrect username or password.");
}

/* Find or answer UserNotFoundException. */
static int user_need(cog_model *m, const cog_pool *pool, const char *name, user_row *r,
                     core_err *err)
{
    int f = user_find(m, pool, name, r, err);
    if (f < 0)
        return CORE_ERROR;
    return f ? CORE_OK : not_found(err);
}

void cog_mask_email(const char *email, char *out, size_t len)
{
    const char *at = strchr(email, '@');
    if (!at || at == email || !at[1]) {
        snprintf(out, len, "%.1s***", email);
        return;
    }
    snprintf(out, len, "%c***@%c***", email[0], at[1]);
}

/* Check the user's code rate, store a new code for purpose and put it in the
 * outbox. The row's send counters are updated (the caller saves the row). */
static int send_code(cog_model *m, const cog_pool *pool, user_row *r, const char *purpose,
                     cog_delivery *d, core_err *err)
{
    const char *email = attr_get(r->u.attributes, "email");
    if (!email)
        return core_err_set(err, 400, "InvalidParameterException",
                            "Cannot send a code: the user has no registered email");
    int64_t now = now_ms(m);
    if (now - r->sends_since >= 3600 * 1000) {
        r->sends_since = now;
        r->sends = 0;
    }
    if (r->sends >= COG_CODES_PER_HOUR)
        return core_err_set(err, 400, "LimitExceededException",
                            "Attempt limit exceeded, please try after some time.");
    r->sends++;
    char code[8];
    cog_code_generate(code, 6);
    int64_t life = !strcmp(purpose, "reset") ? COG_RESET_CODE_MS : COG_SIGNUP_CODE_MS;
    sqlite3_stmt *st = core_store_stmt(m->store,
                                       "INSERT OR REPLACE INTO codes(pool_id, sub, purpose, code,"
                                       " expires_ms) VALUES(?1, ?2, ?3, ?4, ?5)", err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_text(st, 1, pool->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, r->u.sub, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, purpose, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, now + life);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_fail(m, err);
    int reset = !strcmp(purpose, "reset");
    char body[160];
    snprintf(body, sizeof body, reset ? "Your password reset code is %s. " :
                                        "Your verification code is %s. ", code);
    core_outbox_message msg = {
        .channel = "email",
        .to = email,
        .from = "no-reply@verificationemail.com",
        .subject = reset ? "Your password reset code" : "Your verification code",
        .body = body,
        .source = "cognito-idp",
    };
    if (m->outbox && core_outbox_append(m->outbox, now, &msg, NULL, err) != CORE_OK)
        return CORE_ERROR;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "userPoolId", pool->id);
    cJSON_AddStringToObject(f, "to", email);
    cJSON_AddStringToObject(f, "purpose", reset ? "password reset" : "sign-up confirmation");
    cJSON_AddStringToObject(f, "code", code);
    core_log_fields(CORE_LOG_INFO, "cognito-idp", NULL, f,
                    "code sent (see GET /_shoplocal/outbox)");
    cJSON_Delete(f);
    if (d) {
        cog_mask_email(email, d->destination, sizeof d->destination);
        snprintf(d->medium, sizeof d->medium, "EMAIL");
        snprintf(d->attribute, sizeof d->attribute, "email");
    }
    return CORE_OK;
}

/* Check and consume a code. */
static int use_code(cog_model *m, const cog_pool *pool, const user_row *r, const char *purpose,
                    const char *code, core_err *err)
{
    sqlite3_stmt *st = core_store_stmt(m->store,
                                       "SELECT code, expires_ms FROM codes WHERE pool_id = ?1"
                                       " AND sub = ?2 AND purpose = ?3", err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_text(st, 1, pool->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, r->u.sub, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, purpose, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    char want[16] = "";
    int64_t expires = 0;
    if (found) {
        snprintf(want, sizeof want, "%s", (const char *)sqlite3_column_text(st, 0));
        expires = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (!found || !code || strcmp(code, want) != 0)
        return core_err_set(err, 400, "CodeMismatchException",
                            "Invalid verification code provided, please try again.");
    if (now_ms(m) >= expires)
        return core_err_set(err, 400, "ExpiredCodeException",
                            "Invalid code provided, please request a code again.");
    st = core_store_stmt(m->store, "DELETE FROM codes WHERE pool_id = ?1 AND sub = ?2 AND"
                                   " purpose = ?3", err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_text(st, 1, pool->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, r->u.sub, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, purpose, -1, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_reset(st);
    return CORE_OK;
}

/* Build the attribute list of a new user: sub first, then those given. */
static int attrs_new(const cog_pool *pool, const char *sub, const char *username,
                     const cJSON *given, cJSON **out, core_err *err)
{
    cJSON *attrs = cJSON_CreateArray();
    attr_set(attrs, "sub", sub);
    const cJSON *a;
    cJSON_ArrayForEach(a, given)
    {
        const char *n = str_prop(a, "Name"), *v = str_prop(a, "Value");
        if (!n || !v) {
            cJSON_Delete(attrs);
            return core_err_set(err, 400, "InvalidParameterException",
                                "Each user attribute needs a Name and a Value");
        }
        if (!strcmp(n, "sub")) {
            cJSON_Delete(attrs);
            return core_err_set(err, 400, "InvalidParameterException",
                                "Cannot modify an immutable attribute: sub");
        }
        attr_set(attrs, n, v);
    }
    if (pool->username_is_email && !attr_get(attrs, "email"))
        attr_set(attrs, "email", username);
    *out = attrs;
    return CORE_OK;
}

static int valid_email(const char *s)
{
    const char *at = strchr(s, '@');
    return at && at != s && at[1] && !strchr(at + 1, '@') && !strpbrk(s, " \t\r\n");
}

/* Checks common to creating a user: username shape, uniqueness, required
 * attributes. Fills r (attributes owned by r) on success. */
static int user_prepare(cog_model *m, const cog_pool *pool, const char *username,
                        const cJSON *attributes, user_row *r, core_err *err)
{
    if (!username || !*username || strlen(username) > 128)
        return core_err_set(err, 400, "InvalidParameterException",
                            "1 validation error detected: Value at 'username' failed to "
                            "satisfy constraint: Member must have length between 1 and 128");
    if (pool->username_is_email && !valid_email(username))
        return core_err_set(err, 400, "InvalidParameterException", "Username should be an email.");
    user_row existing;
    int f = user_find(m, pool, username, &existing, err);
    if (f < 0)
        return CORE_ERROR;
    if (f) {
        cog_user_release(&existing.u);
        return core_err_set(err, 400, "UsernameExistsException",
                            pool->username_is_email
                                ? "An account with the given email already exists."
                                : "User already exists");
    }
    memset(r, 0, sizeof *r);
    char sub[37];
    core_http_uuid(sub);
    snprintf(r->u.sub, sizeof r->u.sub, "%s", sub);
    snprintf(r->u.username, sizeof r->u.username, "%s", pool->username_is_email ? sub : username);
    if (attrs_new(pool, sub, username, attributes, &r->u.attributes, err) != CORE_OK)
        return CORE_ERROR;
    const char *email = attr_get(r->u.attributes, "email");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(pool->properties, "Schema");
    const cJSON *s;
    cJSON_ArrayForEach(s, schema)
    {
        const char *n = str_prop(s, "Name");
        if (n && bool_prop(s, "Required", 0) && !attr_get(r->u.attributes, n)) {
            cog_user_release(&r->u);
            return core_err_set(err, 400, "InvalidParameterException",
                                "Attributes did not conform to the schema: %s: The attribute "
                                "is required", n);
        }
    }
    if (email && !valid_email(email)) {
        cog_user_release(&r->u);
        return core_err_set(err, 400, "InvalidParameterException", "Invalid email address format.");
    }
    if (email) {
        /* an email is a sign-in alias: two accounts may not share it */
        user_row other;
        int o = pool->username_is_email ? user_find(m, pool, email, &other, err) : 0;
        if (o > 0)
            cog_user_release(&other.u);
        if (o != 0) {
            cog_user_release(&r->u);
            return o < 0 ? CORE_ERROR
                         : core_err_set(err, 400, "UsernameExistsException",
                                        "An account with the given email already exists.");
        }
    }
    r->u.enabled = 1;
    r->u.created_ms = r->u.modified_ms = now_ms(m);
    return CORE_OK;
}

static int begin(cog_model *m, core_err *err)
{
    core_store_lock(m->store);
    if (core_store_run(m->store, "SAVEPOINT cog", err) != CORE_OK) {
        core_store_unlock(m->store);
        return CORE_ERROR;
    }
    return CORE_OK;
}

/* Commit on CORE_OK, roll back otherwise; returns rc. */
static int end(cog_model *m, int rc)
{
    core_err e;
    if (rc != CORE_OK)
        core_store_run(m->store, "ROLLBACK TO cog", &e);
    core_store_run(m->store, "RELEASE cog", &e);
    core_store_unlock(m->store);
    return rc;
}

/* Commit whatever rc says (for failures that still change state). */
static int end_commit(cog_model *m, int rc)
{
    core_err e;
    core_store_run(m->store, "RELEASE cog", &e);
    core_store_unlock(m->store);
    return rc;
}

/* What an absent user is answered, where the client prevents existence errors
 * (PreventUserExistenceErrors ENABLED; without it, always UserNotFoundException). */
typedef enum user_miss {
    MISS_NOT_FOUND,     /* UserNotFoundException regardless (admin calls) */
    MISS_CODE_MISMATCH, /* CodeMismatchException, as a wrong code would be */
    MISS_INCORRECT,     /* NotAuthorizedException, as a wrong password would be */
    MISS_PRETEND_SENT,  /* for an email username, a masked delivery as if a code went out */
} user_miss;

/* Open the transaction and load the user. Returns 1 with *r loaded and the
 * transaction open (the caller ends it); 0 when an absent user was answered as
 * if a code went out (MISS_PRETEND_SENT: *d filled, transaction ended, the call
 * answers CORE_OK); CORE_ERROR with err set and the transaction ended. c may be
 * NULL with MISS_NOT_FOUND. */
static int user_begin(cog_model *m, const cog_client *c, const cog_pool *pool,
                      const char *username, user_miss miss, user_row *r, cog_delivery *d,
                      core_err *err)
{
    if (begin(m, err) != CORE_OK)
        return CORE_ERROR;
    int f = user_find(m, pool, username, r, err);
    if (f > 0)
        return 1;
    if (f < 0)
        return end(m, CORE_ERROR);
    int prevent = miss != MISS_NOT_FOUND && c->prevent_existence_errors;
    if (prevent && miss == MISS_PRETEND_SENT && username && valid_email(username)) {
        /* answer as if a code went out, so callers cannot probe for accounts */
        cog_mask_email(username, d->destination, sizeof d->destination);
        snprintf(d->medium, sizeof d->medium, "EMAIL");
        snprintf(d->attribute, sizeof d->attribute, "email");
        end(m, CORE_OK);
        return 0;
    }
    if (prevent && miss == MISS_CODE_MISMATCH)
        core_err_set(err, 400, "CodeMismatchException",
                     "Invalid verification code provided, please try again.");
    else if (prevent && miss == MISS_INCORRECT)
        incorrect(err);
    else
        not_found(err);
    return end(m, CORE_ERROR);
}

int cog_sign_up(cog_model *m, const cog_client *c, const char *username, const char *password,
                const cJSON *attributes, cog_user *out, int *confirmed, cog_delivery *d,
                core_err *err)
{
    const cog_pool *pool = c->pool;
    if (!password || strlen(password) > 256)
        return core_err_set(err, 400, "InvalidParameterException",
                            "1 validation error detected: Value at 'password' failed to satisfy "
                            "constraint: Member must have length less than or equal to 256");
    if (cog_password_check(&pool->policy, password, err) != CORE_OK)
        return CORE_ERROR;
    if (begin(m, err) != CORE_OK)
        return CORE_ERROR;
    user_row r;
    int rc = user_prepare(m, pool, username, attributes, &r, err);
    if (rc != CORE_OK)
        return end(m, rc);
    rc = cog_password_hash(password, m->kdf_iterations, r.pw, sizeof r.pw, err);
    snprintf(r.u.status, sizeof r.u.status, m->auto_confirm ? "CONFIRMED" : "UNCONFIRMED");
    if (m->auto_confirm && pool->auto_verify_email && attr_get(r.u.attributes, "email"))
        attr_set(r.u.attributes, "email_verified", "true");
    if (rc == CORE_OK)
        rc = user_insert(m, pool, &r, err);
    if (rc == CORE_OK && !m->auto_confirm) {
        rc = send_code(m, pool, &r, "signup", d, err);
        if (rc == CORE_OK)
            rc = user_save(m, pool, &r, err);
    }
    *confirmed = m->auto_confirm;
    if (rc == CORE_OK)
        user_export(&r, out);
    else
        cog_user_release(&r.u);
    return end(m, rc);
}

int cog_confirm_sign_up(cog_model *m, const cog_client *c, const char *username,
                        const char *code, core_err *err)
{
    const cog_pool *pool = c->pool;
    user_row r;
    if (user_begin(m, c, pool, username, MISS_CODE_MISMATCH, &r, NULL, err) != 1)
        return CORE_ERROR;
    int rc = CORE_OK;
    if (strcmp(r.u.status, "UNCONFIRMED") != 0)
        rc = core_err_set(err, 400, "NotAuthorizedException",
                          "User cannot be confirmed. Current status is %s", r.u.status);
    if (rc == CORE_OK)
        rc = use_code(m, pool, &r, "signup", code, err);
    if (rc == CORE_OK) {
        snprintf(r.u.status, sizeof r.u.status, "CONFIRMED");
        if (pool->auto_verify_email && attr_get(r.u.attributes, "email"))
            attr_set(r.u.attributes, "email_verified", "true");
        r.u.modified_ms = now_ms(m);
        rc = user_save(m, pool, &r, err);
    }
    cog_user_release(&r.u);
    return end(m, rc);
}

int cog_resend_code(cog_model *m, const cog_client *c, const char *username, cog_delivery *d,
                    core_err *err)
{
    const cog_pool *pool = c->pool;
    user_row r;
    int f = user_begin(m, c, pool, username, MISS_PRETEND_SENT, &r, d, err);
    if (f != 1)
        return f ? CORE_ERROR : CORE_OK;
    int rc = CORE_OK;
    if (strcmp(r.u.status, "UNCONFIRMED") != 0)
        rc = core_err_set(err, 400, "InvalidParameterException", "User is already confirmed.");
    if (rc == CORE_OK)
        rc = send_code(m, pool, &r, "signup", d, err);
    if (rc == CORE_OK)
        rc = user_save(m, pool, &r, err);
    cog_user_release(&r.u);
    return end(m, rc);
}

/* ---- tokens ----------------------------------------------------------------- */

static cJSON *groups_json(cog_model *m, const cog_pool *pool, const char *sub, core_err *err)
{
    sqlite3_stmt *st = core_store_stmt(m->store,
                                       "SELECT grp FROM members WHERE pool_id = ?1 AND sub = ?2",
                                       err);
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, pool->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, sub, -1, SQLITE_TRANSIENT);
    /* order by precedence (lowest first, none last), then name, as Cognito
     * lists cognito:groups */
    const cog_group *found[64];
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < 64) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const cog_group *g = cog_model_group(m, pool, name);
        if (g)
            found[n++] = g;
    }
    sqlite3_reset(st);
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0; k--) {
            const cog_group *a = found[k - 1], *b = found[k];
            long pa = a->precedence < 0 ? 1L << 40 : a->precedence;
            long pb = b->precedence < 0 ? 1L << 40 : b->precedence;
            if (pa < pb || (pa == pb && strcmp(a->name, b->name) <= 0))
                break;
            found[k - 1] = b;
            found[k] = a;
        }
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(found[i]->name));
    return arr;
}

cJSON *cog_claims_build(const cog_pool *pool, const cog_client *c, const cog_user *u,
                        const cJSON *groups, const char *token_use, int64_t now_s,
                        int64_t auth_time, int64_t ttl_s, const char *origin_jti,
                        const char *event_id)
{
    int id = !strcmp(token_use, "id");
    char jti[37];
    core_http_uuid(jti);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "sub", u->sub);
    if (groups && cJSON_GetArraySize(groups) > 0)
        cJSON_AddItemToObject(o, "cognito:groups", cJSON_Duplicate(groups, 1));
    const char *verified = attr_get(u->attributes, "email_verified");
    if (id && attr_get(u->attributes, "email"))
        cJSON_AddBoolToObject(o, "email_verified", verified && !strcmp(verified, "true"));
    cJSON_AddStringToObject(o, "iss", pool->issuer);
    if (id)
        cJSON_AddStringToObject(o, "cognito:username", u->username);
    else
        cJSON_AddStringToObject(o, "client_id", c->id);
    cJSON_AddStringToObject(o, "origin_jti", origin_jti);
    if (id)
        cJSON_AddStringToObject(o, "aud", c->id);
    cJSON_AddStringToObject(o, "event_id", event_id);
    cJSON_AddStringToObject(o, "token_use", token_use);
    if (!id)
        cJSON_AddStringToObject(o, "scope", "aws.cognito.signin.user.admin");
    cJSON_AddNumberToObject(o, "auth_time", (double)auth_time);
    cJSON_AddNumberToObject(o, "exp", (double)(now_s + ttl_s));
    cJSON_AddNumberToObject(o, "iat", (double)now_s);
    cJSON_AddStringToObject(o, "jti", jti);
    if (id) {
        /* every other attribute of the user, as Cognito puts them in ID tokens */
        const cJSON *a;
        cJSON_ArrayForEach(a, u->attributes)
        {
            const char *n = str_prop(a, "Name"), *v = str_prop(a, "Value");
            if (!n || !v || !strcmp(n, "sub") || !strcmp(n, "email_verified") ||
                cJSON_GetObjectItemCaseSensitive(o, n))
                continue;
            if (!strcmp(n, "phone_number_verified"))
                cJSON_AddBoolToObject(o, n, !strcmp(v, "true"));
            else
                cJSON_AddStringToObject(o, n, v);
        }
    } else {
        cJSON_AddStringToObject(o, "username", u->username);
    }
    return o;
}

static void sha256_hex(const char *text, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int issue(cog_model *m, const cog_client *c, const cog_user *u, int64_t auth_time,
                 const char *origin_jti, const char *event_id, int with_refresh,
                 cog_tokens *out, core_err *err)
{
    memset(out, 0, sizeof *out);
    const cog_pool *pool = c->pool;
    if (cog_model_pool_keys(m, pool, err) != CORE_OK)
        return CORE_ERROR;
    cJSON *groups = groups_json(m, pool, u->sub, err);
    if (!groups)
        return CORE_ERROR;
    int64_t now_s = now_ms(m) / 1000;
    cJSON *idc = cog_claims_build(pool, c, u, groups, "id", now_s, auth_time, c->id_ttl_s,
                                  origin_jti, event_id);
    cJSON *acc = cog_claims_build(pool, c, u, groups, "access", now_s, auth_time,
                                  c->access_ttl_s, origin_jti, event_id);
    /* groups with an IAM role: the ID token lists the roles, and the role of
     * the group with the lowest precedence (groups come sorted that way) */
    cJSON *roles = cJSON_CreateArray();
    const cJSON *g;
    cJSON_ArrayForEach(g, groups)
    {
        const cog_group *grp = cog_model_group(m, pool, g->valuestring);
        if (grp && grp->role_arn)
            cJSON_AddItemToArray(roles, cJSON_CreateString(grp->role_arn));
    }
    if (cJSON_GetArraySize(roles) > 0) {
        cJSON_AddStringToObject(idc, "cognito:preferred_role", roles->child->valuestring);
        cJSON_AddItemToObject(idc, "cognito:roles", roles);
    } else {
        cJSON_Delete(roles);
    }
    out->id_token = cog_jwt_sign(pool->id_key, idc);
    out->access_token = cog_jwt_sign(pool->access_key, acc);
    out->expires_in = c->access_ttl_s;
    cJSON_Delete(idc);
    cJSON_Delete(acc);
    cJSON_Delete(groups);
    if (!out->id_token || !out->access_token) {
        cog_tokens_release(out);
        return core_err_set(err, 500, "InternalErrorException", "token signing failed");
    }
    if (!with_refresh)
        return CORE_OK;
    unsigned char raw[64];
    RAND_bytes(raw, sizeof raw);
    out->refresh_token = core_base64url_encode(raw, sizeof raw);
    char hash[65];
    sha256_hex(out->refresh_token, hash);
    sqlite3_stmt *st = core_store_stmt(
        m->store,
        "INSERT INTO refresh(hash, pool_id, client_id, sub, origin_jti, event_id, auth_time,"
        " expires_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", err);
    int rc = st ? SQLITE_OK : SQLITE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, pool->id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, c->id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, u->sub, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, origin_jti, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, event_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 7, auth_time);
        sqlite3_bind_int64(st, 8, now_ms(m) + c->refresh_ttl_s * 1000);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    if (rc != SQLITE_DONE) {
        cog_tokens_release(out);
        return st ? db_fail(m, err) : CORE_ERROR;
    }
    return CORE_OK;
}

/* A challenge session: an opaque token, valid COG_SESSION_MS, for one
 * RespondToAuthChallenge. */
static int session_new(cog_model *m, const cog_client *c, const char *sub, char **out,
                       core_err *err)
{
    unsigned char raw[48];
    RAND_bytes(raw, sizeof raw);
    *out = core_base64url_encode(raw, sizeof raw);
    if (!*out)
        return core_err_set(err, 500, "InternalErrorException", "out of memory");
    char hash[65];
    sha256_hex(*out, hash);
    sqlite3_stmt *st = core_store_stmt(m->store, "INSERT INTO sessions(hash, pool_id, client_id,"
                                                 " sub, expires_ms) VALUES(?1, ?2, ?3, ?4, ?5)",
                                       err);
    int rc = SQLITE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, c->pool->id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, c->id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, sub, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, now_ms(m) + COG_SESSION_MS);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        return st ? db_fail(m, err) : CORE_ERROR;
    }
    return CORE_OK;
}

int cog_auth_password(cog_model *m, const cog_client *c, const char *username,
                      const char *password, cog_tokens *out, const char **challenge,
                      core_err *err)
{
    const cog_pool *pool = c->pool;
    *challenge = NULL;
    memset(out, 0, sizeof *out);
    if (!c->password_auth)
        return core_err_set(err, 400, "InvalidParameterException",
                            "USER_PASSWORD_AUTH flow not enabled for this client");
    user_row r;
    if (user_begin(m, c, pool, username, MISS_INCORRECT, &r, NULL, err) != 1)
        return CORE_ERROR;
    int64_t now = now_ms(m);
    int rc = CORE_OK, commit_anyway = 0;
    /* "not initiate any sign-in attempts for 15 consecutive minutes at any time
     * after a lockout" resets the count */
    if (r.failures >= COG_FAILURES_BEFORE_LOCK && now - r.last_attempt >= COG_LOCK_MAX_MS &&
        now >= r.locked_until) {
        r.failures = 0;
        r.locked_until = 0;
    }
    r.last_attempt = now;
    if (r.failures >= COG_FAILURES_BEFORE_LOCK && now < r.locked_until) {
        /* counted as an attempt (for the quiet period), not as a failure */
        commit_anyway = 1;
        core_err ignored;
        user_save(m, pool, &r, &ignored);
        rc = core_err_set(err, 400, "NotAuthorizedException", "Password attempts exceeded");
    } else if (!cog_password_verify(password, r.pw)) {
        commit_anyway = 1;
        r.failures++;
        if (r.failures >= COG_FAILURES_BEFORE_LOCK) {
            int shift = (int)(r.failures - COG_FAILURES_BEFORE_LOCK);
            int64_t lock = shift > 20 ? COG_LOCK_MAX_MS : 1000LL << shift;
            r.locked_until = now + (lock > COG_LOCK_MAX_MS ? COG_LOCK_MAX_MS : lock);
        }
        core_err ignored;
        user_save(m, pool, &r, &ignored);
        rc = incorrect(err);
    } else if (!r.u.enabled) {
        rc = core_err_set(err, 400, "NotAuthorizedException", "User is disabled.");
    } else if (!strcmp(r.u.status, "UNCONFIRMED")) {
        rc = core_err_set(err, 400, "UserNotConfirmedException", "User is not confirmed.");
    } else if (!strcmp(r.u.status, "RESET_REQUIRED")) {
        rc = core_err_set(err, 400, "PasswordResetRequiredException",
                          "Password reset required for the user");
    } else {
        r.failures = 0;
        r.locked_until = 0;
        rc = user_save(m, pool, &r, err);
        if (rc == CORE_OK && !strcmp(r.u.status, "FORCE_CHANGE_PASSWORD")) {
            *challenge = "NEW_PASSWORD_REQUIRED";
            rc = session_new(m, c, r.u.sub, &out->session, err);
        } else if (rc == CORE_OK) {
            char origin[37], event[37];
            core_http_uuid(origin);
            core_http_uuid(event);
            rc = issue(m, c, &r.u, now / 1000, origin, event, c->refresh_auth, out, err);
        }
    }
    cog_user_release(&r.u);
    /* a failed attempt is counted even though the call fails */
    return commit_anyway ? end_commit(m, rc) : end(m, rc);
}

int cog_auth_refresh(cog_model *m, const cog_client *c, const char *refresh_token,
                     cog_tokens *out, core_err *err)
{
    memset(out, 0, sizeof *out);
    if (!c->refresh_auth)
        return core_err_set(err, 400, "InvalidParameterException",
                            "REFRESH_TOKEN_AUTH flow not enabled for this client");
    if (!refresh_token || !*refresh_token || strlen(refresh_token) > 2048)
        return core_err_set(err, 400, "NotAuthorizedException", "Invalid Refresh Token");
    char hash[65];
    sha256_hex(refresh_token, hash);
    if (begin(m, err) != CORE_OK)
        return CORE_ERROR;
    sqlite3_stmt *st = core_store_stmt(m->store,
                                       "SELECT client_id, sub, origin_jti, event_id, auth_time,"
                                       " expires_ms, revoked FROM refresh WHERE hash = ?1"
                                       " AND pool_id = ?2", err);
    if (!st)
        return end(m, CORE_ERROR);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, c->pool->id, -1, SQLITE_TRANSIENT);
    char client[64] = "", sub[40] = "", origin[40] = "", event[40] = "";
    int64_t auth_time = 0, expires = 0;
    int revoked = 0, found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        snprintf(client, sizeof client, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(sub, sizeof sub, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(origin, sizeof origin, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(event, sizeof event, "%s", (const char *)sqlite3_column_text(st, 3));
        auth_time = sqlite3_column_int64(st, 4);
        expires = sqlite3_column_int64(st, 5);
        revoked = sqlite3_column_int(st, 6);
    }
    sqlite3_reset(st);
    int rc;
    user_row r;
    memset(&r, 0, sizeof r);
    if (!found || strcmp(client, c->id) != 0)
        rc = core_err_set(err, 400, "NotAuthorizedException", "Invalid Refresh Token");
    else if (revoked)
        rc = core_err_set(err, 400, "NotAuthorizedException", "Refresh Token has been revoked");
    else if (now_ms(m) >= expires)
        rc = core_err_set(err, 400, "NotAuthorizedException", "Refresh Token has expired");
    else {
        int f = user_find(m, c->pool, sub, &r, err);
        rc = f < 0 ? CORE_ERROR : f == 0 ? not_found(err) : CORE_OK;
        if (rc == CORE_OK && !r.u.enabled)
            rc = core_err_set(err, 400, "NotAuthorizedException", "User is disabled.");
        if (rc == CORE_OK)
            rc = issue(m, c, &r.u, auth_time, origin, event, 0, out, err);
    }
    cog_user_release(&r.u);
    return end(m, rc);
}

int cog_access_user(cog_model *m, const char *access_token, const cog_pool **pool_out,
                    cog_user *out, core_err *err)
{
    *pool_out = NULL;
    int64_t now_s = now_ms(m) / 1000;
    cJSON *claims = NULL;
    const cog_pool *pool = NULL;
    cog_jwt_status st = COG_JWT_MALFORMED;
    core_store_lock(m->store); /* keys appear under it */
    for (size_t i = 0; i < m->n_pools && !pool; i++) {
        if (!m->pools[i].access_key)
            continue; /* no key yet: the pool has issued no token */
        const cog_key *keys[] = {m->pools[i].access_key};
        st = cog_jwt_verify(keys, 1, access_token, now_s, &claims);
        if (st == COG_JWT_VALID || st == COG_JWT_EXPIRED)
            pool = &m->pools[i];
    }
    const char *use = str_prop(claims, "token_use");
    const char *iss = str_prop(claims, "iss");
    const char *sub = str_prop(claims, "sub");
    const char *origin = str_prop(claims, "origin_jti");
    int rc = CORE_OK;
    if (!pool || !use || strcmp(use, "access") || !iss || strcmp(iss, pool->issuer) || !sub ||
        !origin)
        rc = core_err_set(err, 400, "NotAuthorizedException", "Invalid Access Token");
    else if (st == COG_JWT_EXPIRED)
        rc = core_err_set(err, 400, "NotAuthorizedException", "Access Token has expired");
    if (rc == CORE_OK) {
        sqlite3_stmt *q = core_store_stmt(m->store, "SELECT 1 FROM refresh WHERE origin_jti = ?1"
                                                    " AND revoked = 1", err);
        if (!q) {
            rc = CORE_ERROR;
        } else {
            sqlite3_bind_text(q, 1, origin, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(q) == SQLITE_ROW)
                rc = core_err_set(err, 400, "NotAuthorizedException",
                                  "Access Token has been revoked");
            sqlite3_reset(q);
        }
    }
    user_row r;
    if (rc == CORE_OK) {
        int f = user_find(m, pool, sub, &r, err);
        rc = f < 0 ? CORE_ERROR : f == 0 ? not_found(err) : CORE_OK;
        if (rc == CORE_OK) {
            user_export(&r, out);
            *pool_out = pool;
        }
    }
    core_store_unlock(m->store);
    cJSON_Delete(claims);
    return rc;
}

int cog_global_sign_out(cog_model *m, const cog_pool *pool, const char *username,
                        core_err *err)
{
    user_row r;
    if (user_begin(m, NULL, pool, username, MISS_NOT_FOUND, &r, NULL, err) != 1)
        return CORE_ERROR;
    int rc = CORE_ERROR;
    sqlite3_stmt *st = core_store_stmt(m->store, "UPDATE refresh SET revoked = 1"
                                                 " WHERE pool_id = ?1 AND sub = ?2", err);
    if (st) {
        sqlite3_bind_text(st, 1, pool->id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, r.u.sub, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_DONE ? CORE_OK : db_fail(m, err);
        sqlite3_reset(st);
    }
    cog_user_release(&r.u);
    return end(m, rc);
}

/* A new password parameter `param`: missing (InvalidParameterException) or
 * against the pool's policy; CORE_OK when it may be set. */
static int password_param(const cog_pool *pool, const char *password, const char *param,
                          core_err *err)
{
    if (!password)
        return core_err_set(err, 400, "InvalidParameterException",
                            "Missing required parameter %s", param);
    return cog_password_check(&pool->policy, password, err);
}

/* Hash password into *r, clear the lockout, touch and save it. */
static int password_reset(cog_model *m, const cog_pool *pool, user_row *r, const char *password,
                          core_err *err)
{
    int rc = cog_password_hash(password, m->kdf_iterations, r->pw, sizeof r->pw, err);
    r->failures = 0;
    r->locked_until = 0;
    r->u.modified_ms = now_ms(m);
    if (rc == CORE_OK)
        rc = user_save(m, pool, r, err);
    return rc;
}

int cog_change_password(cog_model *m, const cog_pool *pool, const char *username,
                        const char *previous, const char *proposed, core_err *err)
{
    if (password_param(pool, proposed, "ProposedPassword", err) != CORE_OK)
        return CORE_ERROR;
    user_row r;
    if (user_begin(m, NULL, pool, username, MISS_NOT_FOUND, &r, NULL, err) != 1)
        return CORE_ERROR;
    int rc = CORE_OK;
    int64_t now = now_ms(m);
    int failed = 0;
    if (r.failures >= COG_FAILURES_BEFORE_LOCK && now < r.locked_until) {
        rc = core_err_set(err, 400, "LimitExceededException",
                          "Attempt limit exceeded, please try after some time.");
    } else if (!cog_password_verify(previous, r.pw)) {
        r.failures++;
        if (r.failures >= COG_FAILURES_BEFORE_LOCK)
            r.locked_until = now + 1000;
        core_err ignored;
        user_save(m, pool, &r, &ignored);
        failed = 1;
        rc = incorrect(err);
    } else {
        rc = cog_password_hash(proposed, m->kdf_iterations, r.pw, sizeof r.pw, err);
        r.failures = 0;
        r.u.modified_ms = now;
        if (rc == CORE_OK)
            rc = user_save(m, pool, &r, err);
    }
    cog_user_release(&r.u);
    return failed ? end_commit(m, rc) : end(m, rc);
}

int cog_forgot_password(cog_model *m, const cog_client *c, const char *username,
                        cog_delivery *d, core_err *err)
{
    const cog_pool *pool = c->pool;
    user_row r;
    int f = user_begin(m, c, pool, username, MISS_PRETEND_SENT, &r, d, err);
    if (f != 1)
        return f ? CORE_ERROR : CORE_OK;
    const char *verified = attr_get(r.u.attributes, "email_verified");
    int rc = CORE_OK;
    if (!verified || strcmp(verified, "true") != 0)
        rc = core_err_set(err, 400, "InvalidParameterException",
                          "Cannot reset password for the user as there is no registered/"
                          "verified email or phone_number");
    if (rc == CORE_OK)
        rc = send_code(m, pool, &r, "reset", d, err);
    if (rc == CORE_OK)
        rc = user_save(m, pool, &r, err);
    cog_user_release(&r.u);
    return end(m, rc);
}

int cog_confirm_forgot_password(cog_model *m, const cog_client *c, const char *username,
                                const char *code, const char *password, core_err *err)
{
    const cog_pool *pool = c->pool;
    if (password_param(pool, password, "Password", err) != CORE_OK)
        return CORE_ERROR;
    user_row r;
    if (user_begin(m, c, pool, username, MISS_CODE_MISMATCH, &r, NULL, err) != 1)
        return CORE_ERROR;
    int rc = use_code(m, pool, &r, "reset", code, err);
    if (rc == CORE_OK) {
        if (!strcmp(r.u.status, "RESET_REQUIRED") || !strcmp(r.u.status, "FORCE_CHANGE_PASSWORD"))
            snprintf(r.u.status, sizeof r.u.status, "CONFIRMED");
        rc = password_reset(m, pool, &r, password, err);
    }
    cog_user_release(&r.u);
    return end(m, rc);
}

int cog_admin_create_user(cog_model *m, const cog_pool *pool, const char *username,
                          const cJSON *attributes, const char *temp_password, int suppress,
                          cog_user *out, core_err *err)
{
    char generated[64];
    if (temp_password && cog_password_check(&pool->policy, temp_password, err) != CORE_OK)
        return CORE_ERROR;
    if (!temp_password) {
        cog_password_generate(&pool->policy, generated, sizeof generated);
        temp_password = generated;
    }
    if (begin(m, err) != CORE_OK)
        return CORE_ERROR;
    user_row r;
    int rc = user_prepare(m, pool, username, attributes, &r, err);
    if (rc != CORE_OK) {
        if (!strcmp(err->type, "UsernameExistsException"))
            core_err_set(err, 400, "UsernameExistsException", "User account already exists");
        return end(m, rc);
    }
    snprintf(r.u.status, sizeof r.u.status, "FORCE_CHANGE_PASSWORD");
    rc = cog_password_hash(temp_password, m->kdf_iterations, r.pw, sizeof r.pw, err);
    if (rc == CORE_OK)
        rc = user_insert(m, pool, &r, err);
    const char *email = attr_get(r.u.attributes, "email");
    if (rc == CORE_OK && !suppress && email && m->outbox) {
        char body[400];
        snprintf(body, sizeof body, "Your username is %s and temporary password is %s. ",
                 pool->username_is_email ? email : r.u.username, temp_password);
        core_outbox_message msg = {.channel = "email", .to = email,
                                   .from = "no-reply@verificationemail.com",
                                   .subject = "Your temporary password", .body = body,
                                   .source = "cognito-idp"};
        rc = core_outbox_append(m->outbox, now_ms(m), &msg, NULL, err);
        if (rc == CORE_OK)
            core_log(CORE_LOG_INFO, "cognito-idp", NULL,
                     "invitation with a temporary password sent to %s (see GET "
                     "/_shoplocal/outbox)", email);
    }
    if (rc == CORE_OK)
        user_export(&r, out);
    else
        cog_user_release(&r.u);
    return end(m, rc);
}

int cog_admin_set_password(cog_model *m, const cog_pool *pool, const char *username,
                           const char *password, int permanent, core_err *err)
{
    if (password_param(pool, password, "Password", err) != CORE_OK)
        return CORE_ERROR;
    user_row r;
    if (user_begin(m, NULL, pool, username, MISS_NOT_FOUND, &r, NULL, err) != 1)
        return CORE_ERROR;
    if (permanent)
        snprintf(r.u.status, sizeof r.u.status, "CONFIRMED");
    else if (strcmp(r.u.status, "UNCONFIRMED") != 0)
        snprintf(r.u.status, sizeof r.u.status, "FORCE_CHANGE_PASSWORD");
    int rc = password_reset(m, pool, &r, password, err);
    cog_user_release(&r.u);
    return end(m, rc);
}

int cog_admin_confirm(cog_model *m, const cog_pool *pool, const char *username, core_err *err)
{
    user_row r;
    if (user_begin(m, NULL, pool, username, MISS_NOT_FOUND, &r, NULL, err) != 1)
        return CORE_ERROR;
    int rc = CORE_OK;
    if (strcmp(r.u.status, "UNCONFIRMED") != 0) {
        rc = core_err_set(err, 400, "NotAuthorizedException",
                          "User cannot be confirmed. Current status is %s", r.u.status);
    } else {
        snprintf(r.u.status, sizeof r.u.status, "CONFIRMED");
        r.u.modified_ms = now_ms(m);
        rc = user_save(m, pool, &r, err);
    }
    cog_user_release(&r.u);
    return end(m, rc);
}

int cog_admin_get_user(cog_model *m, const cog_pool *pool, const char *username, cog_user *out,
                       core_err *err)
{
    core_store_lock(m->store);
    user_row r;
    int rc = user_need(m, pool, username, &r, err);
    if (rc == CORE_OK)
        user_export(&r, out);
    core_store_unlock(m->store);
    return rc;
}

static int exec_sub(cog_model *m, const char *sql, const cog_pool *pool, const char *sub,
                    const char *extra, core_err *err)
{
    sqlite3_stmt *st = core_store_stmt(m->store, sql, err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_text(st, 1, pool->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, sub, -1, SQLITE_TRANSIENT);
    if (extra)
        sqlite3_bind_text(st, 3, extra, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CORE_OK : db_fail(m, err);
}

int cog_admin_delete_user(cog_model *m, const cog_pool *pool, const char *username,
                          core_err *err)
{
    user_row r;
    if (user_begin(m, NULL, pool, username, MISS_NOT_FOUND, &r, NULL, err) != 1)
        return CORE_ERROR;
    int rc = CORE_OK;
    static const char *const sqls[] = {
        "DELETE FROM users WHERE pool_id = ?1 AND sub = ?2",
        "DELETE FROM codes WHERE pool_id = ?1 AND sub = ?2",
        "DELETE FROM members WHERE pool_id = ?1 AND sub = ?2",
        "UPDATE refresh SET revoked = 1 WHERE pool_id = ?1 AND sub = ?2",
        "DELETE FROM sessions WHERE pool_id = ?1 AND sub = ?2",
    };
    for (size_t i = 0; i < sizeof sqls / sizeof *sqls && rc == CORE_OK; i++)
        rc = exec_sub(m, sqls[i], pool, r.u.sub, NULL, err);
    cog_user_release(&r.u);
    return end(m, rc);
}

static int group_change(cog_model *m, const cog_pool *pool, const char *username,
                        const char *group, int add, core_err *err)
{
    if (!cog_model_group(m, pool, group))
        return core_err_set(err, 400, "ResourceNotFoundException", "Group not found.");
    user_row r;
    if (user_begin(m, NULL, pool, username, MISS_NOT_FOUND, &r, NULL, err) != 1)
        return CORE_ERROR;
    int rc = exec_sub(m, add ? "INSERT OR IGNORE INTO members(pool_id, sub, grp) VALUES(?1, ?2, ?3)"
                         : "DELETE FROM members WHERE pool_id = ?1 AND sub = ?2 AND grp = ?3",
                  pool, r.u.sub, group, err);
    cog_user_release(&r.u);
    return end(m, rc);
}

int cog_group_add(cog_model *m, const cog_pool *pool, const char *username, const char *group,
                  core_err *err)
{
    return group_change(m, pool, username, group, 1, err);
}

int cog_group_remove(cog_model *m, const cog_pool *pool, const char *username,
                     const char *group, core_err *err)
{
    return group_change(m, pool, username, group, 0, err);
}

int cog_groups_of(cog_model *m, const cog_pool *pool, const char *username, cJSON **out,
                  core_err *err)
{
    *out = NULL;
    core_store_lock(m->store);
    user_row r;
    int rc = user_need(m, pool, username, &r, err);
    if (rc == CORE_OK) {
        *out = groups_json(m, pool, r.u.sub, err);
        rc = *out ? CORE_OK : CORE_ERROR;
        cog_user_release(&r.u);
    }
    core_store_unlock(m->store);
    return rc;
}

int cog_list_users(cog_model *m, const cog_pool *pool, const char *filter_attr,
                   const char *filter_op, const char *filter_value, long offset, long limit,
                   cog_user **out, size_t *n_out, int *more, core_err *err)
{
    *out = NULL;
    *n_out = 0;
    *more = 0;
    core_store_lock(m->store);
    sqlite3_stmt *st = core_store_stmt(m->store, "SELECT " USER_COLUMNS " FROM users"
                                                 " WHERE pool_id = ?1 ORDER BY seq", err);
    if (!st) {
        core_store_unlock(m->store);
        return CORE_ERROR;
    }
    sqlite3_bind_text(st, 1, pool->id, -1, SQLITE_TRANSIENT);
    cog_user *users = calloc((size_t)limit + 1, sizeof *users);
    size_t n = 0;
    long skipped = 0;
    int rc;
    while (users && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        user_row r;
        row_read(st, &r);
        int keep = 1;
        if (filter_attr) {
            const char *v;
            if (!strcmp(filter_attr, "username"))
                v = r.u.username;
            else if (!strcmp(filter_attr, "status"))
                v = r.u.enabled ? "Enabled" : "Disabled";
            else if (!strcmp(filter_attr, "cognito:user_status"))
                v = r.u.status;
            else
                v = attr_get(r.u.attributes, filter_attr);
            if (!v)
                keep = 0;
            else if (!strcmp(filter_op, "^="))
                keep = !strncasecmp(v, filter_value, strlen(filter_value));
            else
                keep = !strcasecmp(v, filter_value);
        }
        if (keep && skipped < offset) {
            skipped++;
            keep = 0;
        }
        if (keep && (long)n == limit) {
            *more = 1;
            cog_user_release(&r.u);
            break;
        }
        if (keep)
            users[n++] = r.u;
        else
            cog_user_release(&r.u);
    }
    sqlite3_reset(st);
    core_store_unlock(m->store);
    if (!users)
        return core_err_set(err, 500, "InternalErrorException", "out of memory");
    *out = users;
    *n_out = n;
    return CORE_OK;
}

int cog_seed_user(cog_model *m, const cog_pool *pool, const char *username,
                  const char *password, const cJSON *attributes, const cJSON *groups,
                  int *created, core_err *err)
{
    *created = 0;
    if (!password || cog_password_check(&pool->policy, password, err) != CORE_OK)
        return password ? CORE_ERROR
                        : core_err_set(err, 400, "InvalidParameterException",
                                       "a seeded user needs a password");
    if (begin(m, err) != CORE_OK)
        return CORE_ERROR;
    user_row r;
    int f = user_find(m, pool, username, &r, err);
    if (f != 0) {
        if (f > 0)
            cog_user_release(&r.u);
        return end(m, f > 0 ? CORE_OK : CORE_ERROR);
    }
    int rc = user_prepare(m, pool, username, attributes, &r, err);
    if (rc != CORE_OK)
        return end(m, rc);
    snprintf(r.u.status, sizeof r.u.status, "CONFIRMED");
    if (attr_get(r.u.attributes, "email") && !attr_get(r.u.attributes, "email_verified"))
        attr_set(r.u.attributes, "email_verified", "true");
    rc = cog_password_hash(password, m->kdf_iterations, r.pw, sizeof r.pw, err);
    if (rc == CORE_OK)
        rc = user_insert(m, pool, &r, err);
    const cJSON *g;
    cJSON_ArrayForEach(g, groups)
    {
        if (rc != CORE_OK)
            break;
        if (!cJSON_IsString(g) || !cog_model_group(m, pool, g->valuestring))
            rc = core_err_set(err, 400, "ResourceNotFoundException", "Group not found: %s",
                              cJSON_IsString(g) ? g->valuestring : "(not a string)");
        else
            rc = exec_sub(m, "INSERT OR IGNORE INTO members(pool_id, sub, grp) VALUES(?1, ?2, ?3)",
                          pool, r.u.sub, g->valuestring, err);
    }
    cog_user_release(&r.u);
    *created = rc == CORE_OK;
    return end(m, rc);
}

int cog_respond_new_password(cog_model *m, const cog_client *c, const char *session,
                             const char *username, const char *password, cog_tokens *out,
                             core_err *err)
{
    memset(out, 0, sizeof *out);
    const cog_pool *pool = c->pool;
    if (!session || strlen(session) > 2048)
        return core_err_set(err, 400, "NotAuthorizedException", "Invalid session for the user.");
    if (password_param(pool, password, "NEW_PASSWORD", err) != CORE_OK)
        return CORE_ERROR;
    char hash[65];
    sha256_hex(session, hash);
    if (begin(m, err) != CORE_OK)
        return CORE_ERROR;
    sqlite3_stmt *st = core_store_stmt(m->store, "SELECT sub, expires_ms FROM sessions"
                                                 " WHERE hash = ?1 AND client_id = ?2", err);
    if (!st)
        return end(m, CORE_ERROR);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, c->id, -1, SQLITE_TRANSIENT);
    char sub[40] = "";
    int64_t expires = 0;
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        snprintf(sub, sizeof sub, "%s", (const char *)sqlite3_column_text(st, 0));
        expires = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (!found)
        return end(m, core_err_set(err, 400, "NotAuthorizedException",
                                   "Invalid session for the user."));
    if (now_ms(m) >= expires)
        return end(m, core_err_set(err, 400, "NotAuthorizedException",
                                   "Invalid session for the user, session is expired."));
    user_row r;
    int rc = user_need(m, pool, sub, &r, err);
    if (rc != CORE_OK)
        return end(m, rc);
    user_row named;
    int f = username ? user_find(m, pool, username, &named, err) : 1;
    if (f > 0 && username) {
        if (strcmp(named.u.sub, r.u.sub) != 0)
            f = 0;
        cog_user_release(&named.u);
    }
    if (f <= 0)
        rc = f < 0 ? CORE_ERROR
                   : core_err_set(err, 400, "NotAuthorizedException",
                                  "Invalid session for the user.");
    else if (strcmp(r.u.status, "FORCE_CHANGE_PASSWORD") != 0)
        rc = core_err_set(err, 400, "NotAuthorizedException", "Invalid session for the user.");
    if (rc == CORE_OK)
        rc = cog_password_hash(password, m->kdf_iterations, r.pw, sizeof r.pw, err);
    if (rc == CORE_OK) {
        snprintf(r.u.status, sizeof r.u.status, "CONFIRMED");
        r.u.modified_ms = now_ms(m);
        rc = user_save(m, pool, &r, err);
    }
    if (rc == CORE_OK)
        rc = exec_sub(m, "DELETE FROM sessions WHERE pool_id = ?1 AND sub = ?2", pool, r.u.sub,
                      NULL, err);
    if (rc == CORE_OK) {
        char origin[37], event[37];
        core_http_uuid(origin);
        core_http_uuid(event);
        rc = issue(m, c, &r.u, now_ms(m) / 1000, origin, event, c->refresh_auth, out, err);
    }
    cog_user_release(&r.u);
    return end(m, rc);
}
