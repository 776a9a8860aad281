/*
 * model.c — Secrets Manager's secrets, versions and staging labels. See model.h.
 *
 * Rules reproduced from the Secrets Manager API reference:
 *   - a secret is found by name, by full ARN, or by partial ARN (the ARN
 *     without the "-" and six random characters Secrets Manager appends);
 *   - a version is a value (SecretString or SecretBinary, never both) under a
 *     VersionId, the ClientRequestToken of the call that made it (SDKs send a
 *     UUID); the same token with the same value is an idempotent no-op, with
 *     another value ResourceExistsException;
 *   - staging labels point at one version each: a new value takes AWSCURRENT
 *     (unless VersionStages says otherwise) and the version that had it gets
 *     AWSPREVIOUS; GetSecretValue reads AWSCURRENT unless VersionId or
 *     VersionStage says which;
 *   - dates on the wire are epoch seconds with a fraction; LastAccessedDate is
 *     kept to the day, as AWS does;
 *   - ListSecrets pages with MaxResults (1..100) and an opaque NextToken.
 *
 * Invariant: every secret row has at most one version per stage label; a
 * secret created without a value has no versions (GetSecretValue answers
 * "can't find the specified secret value for staging label: AWSCURRENT").
 */
#include "secretsmanager/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/codec.h"
#include "core/http.h"
#include "core/log.h"
#include "core/store.h"

#define ACCOUNT "000000000000"
#define NOT_FOUND "Secrets Manager can't find the specified secret."

struct sm_model {
    core_store *store;
    core_clock *clock;
    char region[64];
};

static const char *const migrations[] = {
    "CREATE TABLE secrets (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
    "  arn TEXT UNIQUE NOT NULL, description TEXT, kms_key_id TEXT, tags TEXT,"
    "  created_ms INTEGER NOT NULL, changed_ms INTEGER NOT NULL, accessed_ms INTEGER);"
    "CREATE TABLE versions (secret INTEGER NOT NULL, version_id TEXT NOT NULL,"
    "  string_value TEXT, binary_value TEXT, created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (secret, version_id));"
    "CREATE TABLE stages (secret INTEGER NOT NULL, stage TEXT NOT NULL,"
    "  version_id TEXT NOT NULL, PRIMARY KEY (secret, stage));",
};

int sm_model_open(const char *dir, const char *region, core_clock *clock, sm_model **out,
                  core_err *err)
{
    sm_model *m = calloc(1, sizeof *m);
    if (!m)
        return core_err_set(err, 500, "InternalServiceError", "out of memory");
    m->clock = clock;
    snprintf(m->region, sizeof m->region, "%s", region ? region : "us-east-1");
    if (core_store_open(dir, "secretsmanager", migrations, sizeof migrations / sizeof *migrations,
                        &m->store, err) != CORE_OK) {
        free(m);
        return CORE_ERROR;
    }
    *out = m;
    return CORE_OK;
}

void sm_model_close(sm_model *m)
{
    if (!m)
        return;
    core_store_close(m->store);
    free(m);
}

void sm_model_lock(sm_model *m)
{
    core_store_lock(m->store);
}

void sm_model_unlock(sm_model *m)
{
    core_store_unlock(m->store);
}

int sm_model_run(sm_model *m, sm_op op, const cJSON *req, cJSON **out, core_err *err)
{
    core_store_lock(m->store);
    int rc = core_store_run(m->store, "SAVEPOINT sm_op", err);
    if (rc == CORE_OK) {
        rc = op(m, req, out, err);
        if (rc == CORE_OK) {
            rc = core_store_run(m->store, "RELEASE sm_op", err);
        } else {
            core_store_run(m->store, "ROLLBACK TO sm_op", NULL);
            core_store_run(m->store, "RELEASE sm_op", NULL);
        }
    }
    core_store_unlock(m->store);
    if (rc != CORE_OK && out && *out) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

/* --- helpers ------------------------------------------------------------------ */

static int64_t now_ms(sm_model *m)
{
    return m->clock ? core_clock_now_ms(m->clock) : 0;
}

static const char *str_field(const cJSON *req, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A field that, when present, must be a string of min..max characters. */
static int check_string(const cJSON *req, const char *name, size_t min, size_t max, int required,
                        const char **out, core_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return core_err_set(err, 400, "ValidationException", "1 validation error detected: "
                                "Value null at '%c%s' failed to satisfy constraint: Member must "
                                "not be null", name[0] + ('a' - 'A'), name + 1);
        return CORE_OK;
    }
    if (!cJSON_IsString(v))
        return core_err_set(err, 400, "SerializationException", "Start of structure or map found "
                            "where not expected (%s must be a string)", name);
    size_t n = strlen(v->valuestring);
    if (n < min || n > max)
        return core_err_set(err, 400, "ValidationException", "1 validation error detected: "
                            "Value at '%c%s' failed to satisfy constraint: Member must have "
                            "length %s %zu", name[0] + ('a' - 'A'), name + 1,
                            n < min ? "greater than or equal to" : "less than or equal to",
                            n < min ? min : max);
    *out = v->valuestring;
    return CORE_OK;
}

static double wire_date(int64_t ms)
{
    return (double)ms / 1000.0;
}

static void random_chars(char *out, size_t n)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char b[64];
    if (n > sizeof b)
        n = sizeof b;
    if (RAND_bytes(b, (int)n) != 1)
        memset(b, 7, n);
    for (size_t i = 0; i < n; i++)
        out[i] = alnum[b[i] % (sizeof alnum - 1)];
    out[n] = '\0';
}

/* Secret names: ASCII letters, digits and /_+=.@- (CreateSecret's rule). */
static int valid_name(const char *s)
{
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("/_+=.@-", *p)))
            return 0;
    return 1;
}

static int valid_base64(const char *s)
{
    size_t n = strlen(s), pad = 0;
    if (n == 0 || n % 4)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') {
            pad++;
            if (i < n - 2)
                return 0;
        } else if (pad || core_base64_digit((unsigned char)s[i], 0) < 0) {
            return 0;
        }
    }
    return 1;
}

typedef struct secret_row {
    sqlite3_int64 id;
    char name[520];
    char arn[700];
} secret_row;

/* Find a secret by name, ARN or partial ARN. CORE_OK with *row, or
 * ResourceNotFoundException. */
static int find_secret(sm_model *m, const char *id, secret_row *row, core_err *err)
{
    const char *sql = "SELECT id, name, arn FROM secrets WHERE name = ?1 OR arn = ?1 OR "
                      "(substr(?1, 1, 4) = 'arn:' AND length(arn) = length(?1) + 7 AND "
                      "substr(arn, 1, length(?1) + 1) = ?1 || '-') ORDER BY name = ?1 DESC LIMIT 1";
    sqlite3_stmt *st = core_store_stmt(m->store, sql, err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return core_err_set(err, 400, "ResourceNotFoundException", NOT_FOUND);
    }
    row->id = sqlite3_column_int64(st, 0);
    snprintf(row->name, sizeof row->name, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(row->arn, sizeof row->arn, "%s", (const char *)sqlite3_column_text(st, 2));
    sqlite3_reset(st);
    return CORE_OK;
}

static int exec_simple(sm_model *m, const char *sql, sqlite3_int64 secret, const char *a,
                       const char *b, core_err *err)
{
    sqlite3_stmt *st = core_store_stmt(m->store, sql, err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_int64(st, 1, secret);
    if (a)
        sqlite3_bind_text(st, 2, a, -1, SQLITE_TRANSIENT);
    if (b)
        sqlite3_bind_text(st, 3, b, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return core_err_set(err, 500, "InternalServiceError", "storage: %s",
                            sqlite3_errmsg(core_store_db(m->store)));
    return CORE_OK;
}

/* Run sql with ?1 = secret and ?2 = a time. */
static int touch(sm_model *m, const char *sql, sqlite3_int64 secret, int64_t ms, core_err *err)
{
    sqlite3_stmt *st = core_store_stmt(m->store, sql, err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_int64(st, 1, secret);
    sqlite3_bind_int64(st, 2, ms);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return core_err_set(err, 500, "InternalServiceError", "storage: %s",
                            sqlite3_errmsg(core_store_db(m->store)));
    return CORE_OK;
}

/* The version a stage points at, into out (or "" when none). */
static void stage_version(sm_model *m, sqlite3_int64 secret, const char *stage, char *out,
                          size_t cap)
{
    out[0] = '\0';
    sqlite3_stmt *st = core_store_stmt(
        m->store, "SELECT version_id FROM stages WHERE secret = ?1 AND stage = ?2", NULL);
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, secret);
    sqlite3_bind_text(st, 2, stage, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
}

/* Attach stage to version (moving it off any other version of the secret);
 * moving AWSCURRENT gives AWSPREVIOUS to the version that had it. */
static int attach_stage(sm_model *m, sqlite3_int64 secret, const char *stage,
                        const char *version, core_err *err)
{
    char had[80];
    stage_version(m, secret, stage, had, sizeof had);
    if (!strcmp(had, version))
        return CORE_OK;
    if (exec_simple(m, "INSERT OR REPLACE INTO stages (secret, stage, version_id) VALUES (?1, ?2, ?3)",
                    secret, stage, version, err) != CORE_OK)
        return CORE_ERROR;
    if (!strcmp(stage, "AWSCURRENT") && had[0])
        return exec_simple(m, "INSERT OR REPLACE INTO stages (secret, stage, version_id) "
                           "VALUES (?1, ?2, ?3)", secret, "AWSPREVIOUS", had, err);
    return CORE_OK;
}

/* The labels of one version as a JSON array (caller owns). */
static cJSON *version_stages(sm_model *m, sqlite3_int64 secret, const char *version)
{
    cJSON *arr = cJSON_CreateArray();
    sqlite3_stmt *st = core_store_stmt(
        m->store, "SELECT stage FROM stages WHERE secret = ?1 AND version_id = ?2 ORDER BY stage",
        NULL);
    if (!st)
        return arr;
    sqlite3_bind_int64(st, 1, secret);
    sqlite3_bind_text(st, 2, version, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW)
        cJSON_AddItemToArray(arr, cJSON_CreateString((const char *)sqlite3_column_text(st, 0)));
    sqlite3_reset(st);
    return arr;
}

/* {versionId: [stages]} for the versions that carry a label (caller owns). */
static cJSON *versions_to_stages(sm_model *m, sqlite3_int64 secret)
{
    cJSON *map = cJSON_CreateObject();
    sqlite3_stmt *st = core_store_stmt(
        m->store, "SELECT version_id, stage FROM stages WHERE secret = ?1 ORDER BY version_id, stage",
        NULL);
    if (!st)
        return map;
    sqlite3_bind_int64(st, 1, secret);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(map, v);
        if (!arr)
            arr = cJSON_AddArrayToObject(map, v);
        cJSON_AddItemToArray(arr, cJSON_CreateString((const char *)sqlite3_column_text(st, 1)));
    }
    sqlite3_reset(st);
    return map;
}

/* Whether version exists with this value: 1 same, 0 another value, -1 absent. */
static int version_same(sm_model *m, sqlite3_int64 secret, const char *version,
                        const char *string_value, const char *binary_value)
{
    sqlite3_stmt *st = core_store_stmt(
        m->store, "SELECT string_value, binary_value FROM versions WHERE secret = ?1 AND version_id = ?2",
        NULL);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, secret);
    sqlite3_bind_text(st, 2, version, -1, SQLITE_TRANSIENT);
    int r = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        const char *b = (const char *)sqlite3_column_text(st, 1);
        r = (s && string_value && !strcmp(s, string_value)) ||
            (b && binary_value && !strcmp(b, binary_value));
    }
    sqlite3_reset(st);
    return r;
}

/* Store a value as a version and give it its labels. With the same token and
 * the same value already stored, nothing changes (*created 0). */
static int put_version(sm_model *m, sqlite3_int64 secret, const char *version,
                       const char *string_value, const char *binary_value, const cJSON *stages,
                       int *created, core_err *err)
{
    *created = 0;
    int same = version_same(m, secret, version, string_value, binary_value);
    if (same == 0)
        return core_err_set(err, 400, "ResourceExistsException", "You can't modify an existing "
                            "version, you can only create new versions.");
    if (same == 1)
        return CORE_OK;
    sqlite3_stmt *st = core_store_stmt(m->store, "INSERT INTO versions (secret, version_id, string_value, "
                         "binary_value, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)", err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_int64(st, 1, secret);
    sqlite3_bind_text(st, 2, version, -1, SQLITE_TRANSIENT);
    if (string_value)
        sqlite3_bind_text(st, 3, string_value, -1, SQLITE_TRANSIENT);
    if (binary_value)
        sqlite3_bind_text(st, 4, binary_value, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, now_ms(m));
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return core_err_set(err, 500, "InternalServiceError", "storage: %s",
                            sqlite3_errmsg(core_store_db(m->store)));
    *created = 1;
    if (cJSON_IsArray(stages) && cJSON_GetArraySize(stages) > 0) {
        const cJSON *s;
        cJSON_ArrayForEach(s, stages) {
            if (attach_stage(m, secret, s->valuestring, version, err) != CORE_OK)
                return CORE_ERROR;
        }
    } else if (attach_stage(m, secret, "AWSCURRENT", version, err) != CORE_OK) {
        return CORE_ERROR;
    }
    return touch(m, "UPDATE secrets SET changed_ms = ?2 WHERE id = ?1", secret, now_ms(m), err);
}

/* Read SecretString / SecretBinary of a request: exactly one, or neither when
 * allow_none. */
static int value_fields(const cJSON *req, int allow_none, const char **s, const char **b,
                        core_err *err)
{
    if (check_string(req, "SecretString", 0, 65536, 0, s, err) != CORE_OK)
        return CORE_ERROR;
    const cJSON *bin = cJSON_GetObjectItemCaseSensitive(req, "SecretBinary");
    *b = NULL;
    if (bin && !cJSON_IsNull(bin)) {
        if (!cJSON_IsString(bin) || !valid_base64(bin->valuestring))
            return core_err_set(err, 400, "SerializationException", "SecretBinary must be "
                                "base64-encoded binary data");
        if (strlen(bin->valuestring) > 65536 / 3 * 4 + 4)
            return core_err_set(err, 400, "ValidationException", "1 validation error detected: "
                                "Value at 'secretBinary' failed to satisfy constraint: Member "
                                "must have length less than or equal to 65536");
        *b = bin->valuestring;
    }
    if (*s && *b)
        return core_err_set(err, 400, "InvalidParameterException", "You can't specify both a "
                            "binary secret value and a string secret value in the same secret.");
    if (!*s && !*b && !allow_none)
        return core_err_set(err, 400, "InvalidRequestException", "You must provide either "
                            "SecretString or SecretBinary.");
    return CORE_OK;
}

static int check_stages(const cJSON *req, const cJSON **out, core_err *err)
{
    *out = cJSON_GetObjectItemCaseSensitive(req, "VersionStages");
    if (!*out || cJSON_IsNull(*out)) {
        *out = NULL;
        return CORE_OK;
    }
    int n = cJSON_GetArraySize(*out);
    if (!cJSON_IsArray(*out))
        return core_err_set(err, 400, "SerializationException", "VersionStages must be a list");
    if (n < 1 || n > 20)
        return core_err_set(err, 400, "ValidationException", "1 validation error detected: Value "
                            "at 'versionStages' failed to satisfy constraint: Member must have "
                            "length between 1 and 20");
    const cJSON *s;
    cJSON_ArrayForEach(s, *out) {
        if (!cJSON_IsString(s) || !*s->valuestring || strlen(s->valuestring) > 256)
            return core_err_set(err, 400, "ValidationException", "1 validation error detected: "
                                "a staging label must be a string of 1 to 256 characters");
    }
    return CORE_OK;
}

/* --- operations ------------------------------------------------------------- */

/* Create a secret row (and its first version). arn NULL: a fresh random
 * suffix. */
static int create_secret(sm_model *m, const char *name, const char *arn, const char *description,
                         const char *kms, const cJSON *tags, const char *token,
                         const char *string_value, const char *binary_value, cJSON **out,
                         core_err *err)
{
    sqlite3_stmt *st = core_store_stmt(m->store, "SELECT id, arn FROM secrets WHERE name = ?1", err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int exists = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_int64 existing = exists ? sqlite3_column_int64(st, 0) : 0;
    char existing_arn[700] = "";
    if (exists)
        snprintf(existing_arn, sizeof existing_arn, "%s", (const char *)sqlite3_column_text(st, 1));
    sqlite3_reset(st);
    if (exists) {
        /* A retried CreateSecret (same ClientRequestToken, same value) answers
         * as the first one did. */
        if (token && version_same(m, existing, token, string_value, binary_value) == 1) {
            if (out) {
                *out = cJSON_CreateObject();
                cJSON_AddStringToObject(*out, "ARN", existing_arn);
                cJSON_AddStringToObject(*out, "Name", name);
                cJSON_AddStringToObject(*out, "VersionId", token);
            }
            return CORE_OK;
        }
        return core_err_set(err, 400, "ResourceExistsException", "The operation failed because the "
                            "secret %s already exists.", name);
    }
    char made[700];
    if (!arn) {
        char suffix[8];
        random_chars(suffix, 6);
        snprintf(made, sizeof made, "arn:aws:secretsmanager:%s:%s:secret:%s-%s", m->region, ACCOUNT,
                 name, suffix);
        arn = made;
    }
    char *tags_text = cJSON_IsArray(tags) ? cJSON_PrintUnformatted(tags) : NULL;
    int64_t now = now_ms(m);
    st = core_store_stmt(m->store, "INSERT INTO secrets (name, arn, description, kms_key_id, tags, "
                         "created_ms, changed_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)", err);
    if (!st) {
        free(tags_text);
        return CORE_ERROR;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, arn, -1, SQLITE_TRANSIENT);
    if (description)
        sqlite3_bind_text(st, 3, description, -1, SQLITE_TRANSIENT);
    if (kms)
        sqlite3_bind_text(st, 4, kms, -1, SQLITE_TRANSIENT);
    if (tags_text)
        sqlite3_bind_text(st, 5, tags_text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    free(tags_text);
    if (rc != SQLITE_DONE)
        return core_err_set(err, 500, "InternalServiceError", "storage: %s",
                            sqlite3_errmsg(core_store_db(m->store)));
    sqlite3_int64 id = sqlite3_last_insert_rowid(core_store_db(m->store));
    char version[80] = "";
    if (string_value || binary_value) {
        if (token)
            snprintf(version, sizeof version, "%s", token);
        else
            core_http_uuid(version);
        int created;
        if (put_version(m, id, version, string_value, binary_value, NULL, &created, err) != CORE_OK)
            return CORE_ERROR;
    }
    if (out) {
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "ARN", arn);
        cJSON_AddStringToObject(*out, "Name", name);
        if (version[0])
            cJSON_AddStringToObject(*out, "VersionId", version);
    }
    return CORE_OK;
}

static int check_tags(const cJSON *req, const cJSON **tags, core_err *err)
{
    *tags = cJSON_GetObjectItemCaseSensitive(req, "Tags");
    if (!*tags || cJSON_IsNull(*tags)) {
        *tags = NULL;
        return CORE_OK;
    }
    if (!cJSON_IsArray(*tags))
        return core_err_set(err, 400, "SerializationException", "Tags must be a list");
    const cJSON *t;
    cJSON_ArrayForEach(t, *tags) {
        const char *k = str_field(t, "Key"), *v = str_field(t, "Value");
        if (!k || !*k || strlen(k) > 128 || (v && strlen(v) > 256) ||
            (cJSON_GetObjectItemCaseSensitive(t, "Value") && !v))
            return core_err_set(err, 400, "InvalidParameterException", "Invalid tag: a tag needs a "
                                "Key of 1 to 128 characters and a Value of at most 256");
    }
    return CORE_OK;
}

int sm_op_create_secret(sm_model *m, const cJSON *req, cJSON **out, core_err *err)
{
    const char *name, *token, *description, *kms, *s, *b;
    const cJSON *tags;
    if (check_string(req, "Name", 1, 512, 1, &name, err) != CORE_OK ||
        check_string(req, "ClientRequestToken", 32, 64, 0, &token, err) != CORE_OK ||
        check_string(req, "Description", 0, 2048, 0, &description, err) != CORE_OK ||
        check_string(req, "KmsKeyId", 0, 2048, 0, &kms, err) != CORE_OK ||
        check_tags(req, &tags, err) != CORE_OK || value_fields(req, 1, &s, &b, err) != CORE_OK)
        return CORE_ERROR;
    if (!valid_name(name))
        return core_err_set(err, 400, "InvalidParameterException", "Invalid name. Must be a valid "
                            "name containing alphanumeric characters, or any of the following: "
                            "-/_+=.@!");
    return create_secret(m, name, NULL, description, kms, tags, token, s, b, out, err);
}

int sm_op_put_secret_value(sm_model *m, const cJSON *req, cJSON **out, core_err *err)
{
    const char *id, *token, *s, *b;
    const cJSON *stages;
    if (check_string(req, "SecretId", 1, 2048, 1, &id, err) != CORE_OK ||
        check_string(req, "ClientRequestToken", 32, 64, 0, &token, err) != CORE_OK ||
        check_stages(req, &stages, err) != CORE_OK || value_fields(req, 0, &s, &b, err) != CORE_OK)
        return CORE_ERROR;
    secret_row row;
    if (find_secret(m, id, &row, err) != CORE_OK)
        return CORE_ERROR;
    char version[80];
    if (token)
        snprintf(version, sizeof version, "%s", token);
    else
        core_http_uuid(version);
    int created;
    if (put_version(m, row.id, version, s, b, stages, &created, err) != CORE_OK)
        return CORE_ERROR;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "ARN", row.arn);
    cJSON_AddStringToObject(*out, "Name", row.name);
    cJSON_AddStringToObject(*out, "VersionId", version);
    cJSON_AddItemToObject(*out, "VersionStages", version_stages(m, row.id, version));
    return CORE_OK;
}

int sm_op_get_secret_value(sm_model *m, const cJSON *req, cJSON **out, core_err *err)
{
    const char *id, *version_id, *stage;
    if (check_string(req, "SecretId", 1, 2048, 1, &id, err) != CORE_OK ||
        check_string(req, "VersionId", 32, 64, 0, &version_id, err) != CORE_OK ||
        check_string(req, "VersionStage", 1, 256, 0, &stage, err) != CORE_OK)
        return CORE_ERROR;
    secret_row row;
    if (find_secret(m, id, &row, err) != CORE_OK)
        return CORE_ERROR;
    char version[80];
    if (version_id) {
        snprintf(version, sizeof version, "%s", version_id);
        if (stage) {
            char at[80];
            stage_version(m, row.id, stage, at, sizeof at);
            if (strcmp(at, version_id) != 0)
                return core_err_set(err, 400, "InvalidRequestException", "You provided a "
                                    "VersionStage that is not associated to the provided "
                                    "VersionId.");
        }
    } else {
        const char *want = stage ? stage : "AWSCURRENT";
        stage_version(m, row.id, want, version, sizeof version);
        if (!version[0])
            return core_err_set(err, 400, "ResourceNotFoundException", "Secrets Manager can't find "
                                "the specified secret value for staging label: %s", want);
    }
    sqlite3_stmt *st = core_store_stmt(m->store, "SELECT string_value, binary_value, created_ms "
                                       "FROM versions WHERE secret = ?1 AND version_id = ?2", err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_int64(st, 1, row.id);
    sqlite3_bind_text(st, 2, version, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return core_err_set(err, 400, "ResourceNotFoundException", "Secrets Manager can't find "
                            "the specified secret value for VersionId: %s", version);
    }
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "ARN", row.arn);
    cJSON_AddStringToObject(*out, "Name", row.name);
    cJSON_AddStringToObject(*out, "VersionId", version);
    if (sqlite3_column_type(st, 0) != SQLITE_NULL)
        cJSON_AddStringToObject(*out, "SecretString", (const char *)sqlite3_column_text(st, 0));
    if (sqlite3_column_type(st, 1) != SQLITE_NULL)
        cJSON_AddStringToObject(*out, "SecretBinary", (const char *)sqlite3_column_text(st, 1));
    int64_t created = sqlite3_column_int64(st, 2);
    sqlite3_reset(st);
    cJSON_AddItemToObject(*out, "VersionStages", version_stages(m, row.id, version));
    cJSON_AddNumberToObject(*out, "CreatedDate", wire_date(created));
    /* AWS records the last access to the day. */
    return touch(m, "UPDATE secrets SET accessed_ms = ?2 WHERE id = ?1", row.id,
                 now_ms(m) / 86400000 * 86400000, err);
}

/* The description fields shared by DescribeSecret and ListSecrets' entries. */
static cJSON *describe_row(sm_model *m, sqlite3_stmt *st, const char *versions_key)
{
    sqlite3_int64 id = sqlite3_column_int64(st, 0);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ARN", (const char *)sqlite3_column_text(st, 2));
    cJSON_AddStringToObject(o, "Name", (const char *)sqlite3_column_text(st, 1));
    if (sqlite3_column_type(st, 3) != SQLITE_NULL)
        cJSON_AddStringToObject(o, "Description", (const char *)sqlite3_column_text(st, 3));
    if (sqlite3_column_type(st, 4) != SQLITE_NULL)
        cJSON_AddStringToObject(o, "KmsKeyId", (const char *)sqlite3_column_text(st, 4));
    cJSON_AddNumberToObject(o, "LastChangedDate", wire_date(sqlite3_column_int64(st, 7)));
    if (sqlite3_column_type(st, 8) != SQLITE_NULL)
        cJSON_AddNumberToObject(o, "LastAccessedDate", wire_date(sqlite3_column_int64(st, 8)));
    if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
        cJSON *tags = cJSON_Parse((const char *)sqlite3_column_text(st, 5));
        if (tags)
            cJSON_AddItemToObject(o, "Tags", tags);
    }
    cJSON_AddItemToObject(o, versions_key, versions_to_stages(m, id));
    cJSON_AddNumberToObject(o, "CreatedDate", wire_date(sqlite3_column_int64(st, 6)));
    return o;
}

#define SECRET_COLUMNS "id, name, arn, description, kms_key_id, tags, created_ms, changed_ms, accessed_ms"

int sm_op_describe_secret(sm_model *m, const cJSON *req, cJSON **out, core_err *err)
{
    const char *id;
    if (check_string(req, "SecretId", 1, 2048, 1, &id, err) != CORE_OK)
        return CORE_ERROR;
    secret_row row;
    if (find_secret(m, id, &row, err) != CORE_OK)
        return CORE_ERROR;
    sqlite3_stmt *st = core_store_stmt(m->store, "SELECT " SECRET_COLUMNS " FROM secrets WHERE id = ?1",
                                       err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_int64(st, 1, row.id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return core_err_set(err, 400, "ResourceNotFoundException", NOT_FOUND);
    }
    *out = describe_row(m, st, "VersionIdsToStages");
    sqlite3_reset(st);
    return CORE_OK;
}

/* ListSecrets filters: each Key's Values are prefixes (a leading '!' negates);
 * an entry must match every filter, and any one value of a filter. */
static int prefix_match(const char *text, const char *prefix)
{
    return text && !strncmp(text, prefix, strlen(prefix));
}

static int filter_match(const cJSON *entry, const cJSON *filters)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, filters) {
        const char *key = str_field(f, "Key");
        const cJSON *values = cJSON_GetObjectItemCaseSensitive(f, "Values");
        int any = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, values) {
            const char *want = v->valuestring;
            int negate = want[0] == '!';
            if (negate)
                want++;
            const char *name = str_field(entry, "Name");
            const char *desc = str_field(entry, "Description");
            int hit = 0;
            if (!strcmp(key, "name") || !strcmp(key, "all"))
                hit |= prefix_match(name, want);
            if (!strcmp(key, "description") || !strcmp(key, "all"))
                hit |= prefix_match(desc, want);
            if (!strcmp(key, "tag-key") || !strcmp(key, "tag-value") || !strcmp(key, "all")) {
                const cJSON *t;
                cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(entry, "Tags")) {
                    if (strcmp(key, "tag-value") != 0)
                        hit |= prefix_match(str_field(t, "Key"), want);
                    if (strcmp(key, "tag-key") != 0)
                        hit |= prefix_match(str_field(t, "Value"), want);
                }
            }
            if (!strcmp(key, "primary-region"))
                hit = 0;
            if (negate ? !hit : hit)
                any = 1;
        }
        if (!any)
            return 0;
    }
    return 1;
}

static int check_filters(const cJSON *req, const cJSON **out, core_err *err)
{
    static const char *const keys[] = {"description", "name", "tag-key", "tag-value",
                                       "primary-region", "owning-service", "all"};
    *out = cJSON_GetObjectItemCaseSensitive(req, "Filters");
    if (!*out || cJSON_IsNull(*out)) {
        *out = NULL;
        return CORE_OK;
    }
    if (!cJSON_IsArray(*out) || cJSON_GetArraySize(*out) > 10)
        return core_err_set(err, 400, "ValidationException", "1 validation error detected: Value "
                            "at 'filters' failed to satisfy constraint: Member must have length "
                            "less than or equal to 10");
    const cJSON *f;
    cJSON_ArrayForEach(f, *out) {
        const char *key = str_field(f, "Key");
        const cJSON *values = cJSON_GetObjectItemCaseSensitive(f, "Values");
        int known = 0;
        for (size_t i = 0; key && i < sizeof keys / sizeof *keys; i++)
            known |= !strcmp(key, keys[i]);
        if (!known)
            return core_err_set(err, 400, "ValidationException", "1 validation error detected: "
                                "Value at 'filters.1.member.key' failed to satisfy constraint: "
                                "Member must satisfy enum value set: [all, name, tag-key, "
                                "description, tag-value, primary-region, owning-service]");
        if (!cJSON_IsArray(values) || cJSON_GetArraySize(values) < 1 ||
            cJSON_GetArraySize(values) > 10)
            return core_err_set(err, 400, "InvalidParameterException", "Invalid filter values: "
                                "each filter needs 1 to 10 values");
        const cJSON *v;
        cJSON_ArrayForEach(v, values) {
            if (!cJSON_IsString(v) || strlen(v->valuestring) > 512)
                return core_err_set(err, 400, "InvalidParameterException", "Invalid filter value");
        }
    }
    return CORE_OK;
}

int sm_op_list_secrets(sm_model *m, const cJSON *req, cJSON **out, core_err *err)
{
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(req, "MaxResults");
    long limit = 100;
    if (max && !cJSON_IsNull(max)) {
        if (!cJSON_IsNumber(max) || max->valuedouble < 1 || max->valuedouble > 100 ||
            max->valuedouble != (double)(long)max->valuedouble)
            return core_err_set(err, 400, "ValidationException", "1 validation error detected: "
                                "Value at 'maxResults' failed to satisfy constraint: Member must "
                                "have value between 1 and 100");
        limit = (long)max->valuedouble;
    }
    const char *token, *sort_order, *sort_by;
    const cJSON *filters;
    if (check_string(req, "NextToken", 1, 4096, 0, &token, err) != CORE_OK ||
        check_string(req, "SortOrder", 0, 8, 0, &sort_order, err) != CORE_OK ||
        check_string(req, "SortBy", 0, 32, 0, &sort_by, err) != CORE_OK ||
        check_filters(req, &filters, err) != CORE_OK)
        return CORE_ERROR;
    if (sort_order && strcmp(sort_order, "asc") && strcmp(sort_order, "desc"))
        return core_err_set(err, 400, "ValidationException", "1 validation error detected: Value "
                            "at 'sortOrder' failed to satisfy constraint: Member must satisfy "
                            "enum value set: [asc, desc]");
    const char *order = "created_ms, id";
    if (sort_by) {
        if (!strcmp(sort_by, "name"))
            order = "name, id";
        else if (!strcmp(sort_by, "last-changed-date"))
            order = "changed_ms, id";
        else if (!strcmp(sort_by, "last-accessed-date"))
            order = "coalesce(accessed_ms, 0), id";
        else if (strcmp(sort_by, "created-date") != 0)
            return core_err_set(err, 400, "ValidationException", "1 validation error detected: "
                                "Value at 'sortBy' failed to satisfy constraint: Member must "
                                "satisfy enum value set: [created-date, last-accessed-date, "
                                "last-changed-date, name]");
    }
    long offset = 0;
    if (token) {
        /* The token is the offset behind a fixed prefix, checked on the way in. */
        char *end = NULL;
        if (strncmp(token, "smnt-", 5) != 0 || (offset = strtol(token + 5, &end, 10)) < 0 ||
            !end || *end)
            return core_err_set(err, 400, "InvalidNextTokenException", "The NextToken value is "
                                "invalid.");
    }
    int desc = sort_order && !strcmp(sort_order, "desc");
    char sql[512];
    /* Each sort key ordered the same way (the id breaks ties). */
    char ordered[160];
    if (desc) {
        const char *comma = strchr(order, ',');
        snprintf(ordered, sizeof ordered, "%.*s DESC, id DESC", (int)(comma - order), order);
    } else {
        snprintf(ordered, sizeof ordered, "%s", order);
    }
    snprintf(sql, sizeof sql, "SELECT " SECRET_COLUMNS " FROM secrets ORDER BY %s", ordered);
    sqlite3_stmt *st = core_store_stmt(m->store, sql, err);
    if (!st)
        return CORE_ERROR;
    cJSON *list = cJSON_CreateArray();
    long seen = 0, added = 0;
    int more = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *e = describe_row(m, st, "SecretVersionsToStages");
        if (filters && !filter_match(e, filters)) {
            cJSON_Delete(e);
            continue;
        }
        if (seen++ < offset) {
            cJSON_Delete(e);
            continue;
        }
        if (added == limit) {
            cJSON_Delete(e);
            more = 1;
            break;
        }
        cJSON_AddItemToArray(list, e);
        added++;
    }
    sqlite3_reset(st);
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "SecretList", list);
    if (more) {
        char next[32];
        snprintf(next, sizeof next, "smnt-%ld", offset + added);
        cJSON_AddStringToObject(*out, "NextToken", next);
    }
    return CORE_OK;
}

/* --- the template ------------------------------------------------------------ */

/* CloudFormation's GenerateSecretString: a random password of PasswordLength
 * (default 32) from letters, digits and punctuation minus ExcludeCharacters,
 * optionally put under GenerateStringKey of SecretStringTemplate. */
static char *generate_secret(const cJSON *g)
{
    const cJSON *len = cJSON_GetObjectItemCaseSensitive(g, "PasswordLength");
    long n = cJSON_IsNumber(len) ? (long)len->valuedouble : 32;
    if (n < 1 || n > 4096)
        n = 32;
    const char *exclude = str_field(g, "ExcludeCharacters");
    const cJSON *np = cJSON_GetObjectItemCaseSensitive(g, "ExcludePunctuation");
    const cJSON *nu = cJSON_GetObjectItemCaseSensitive(g, "ExcludeUppercase");
    const cJSON *nl = cJSON_GetObjectItemCaseSensitive(g, "ExcludeLowercase");
    const cJSON *nn = cJSON_GetObjectItemCaseSensitive(g, "ExcludeNumbers");
    char set[128];
    size_t k = 0;
    for (int c = 33; c < 127; c++) {
        int upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z', digit = c >= '0' && c <= '9';
        int punct = !upper && !lower && !digit;
        if ((punct && cJSON_IsTrue(np)) || (upper && cJSON_IsTrue(nu)) ||
            (lower && cJSON_IsTrue(nl)) || (digit && cJSON_IsTrue(nn)) ||
            (exclude && strchr(exclude, c)))
            continue;
        set[k++] = (char)c;
    }
    if (k == 0)
        set[k++] = 'x';
    char *pw = malloc((size_t)n + 1);
    unsigned char *r = malloc((size_t)n);
    if (!pw || !r || RAND_bytes(r, (int)n) != 1) {
        free(pw);
        free(r);
        return NULL;
    }
    for (long i = 0; i < n; i++)
        pw[i] = set[r[i] % k];
    pw[n] = '\0';
    free(r);
    const char *tmpl = str_field(g, "SecretStringTemplate");
    const char *key = str_field(g, "GenerateStringKey");
    if (!tmpl || !key)
        return pw;
    cJSON *doc = cJSON_Parse(tmpl);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return pw;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(doc, key);
    cJSON_AddStringToObject(doc, key, pw);
    free(pw);
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return text;
}

int sm_model_seed_template(sm_model *m, const core_template *tpl, core_err *err)
{
    for (size_t i = 0; i < core_template_resource_count(tpl); i++) {
        const core_tpl_resource *r = core_template_resource_at(tpl, i);
        if (strcmp(r->type, "AWS::SecretsManager::Secret") != 0)
            continue;
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(r->attributes, "Name");
        if (!cJSON_IsString(name) || !r->arn)
            continue;
        sqlite3_stmt *st = core_store_stmt(m->store, "SELECT 1 FROM secrets WHERE name = ?1", err);
        if (!st)
            return CORE_ERROR;
        sqlite3_bind_text(st, 1, name->valuestring, -1, SQLITE_TRANSIENT);
        int exists = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_reset(st);
        if (exists)
            continue;
        const char *value = str_field(r->properties, "SecretString");
        char *generated = NULL;
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(r->properties, "GenerateSecretString");
        if (!value && cJSON_IsObject(g))
            value = generated = generate_secret(g);
        core_err inner;
        core_err_clear(&inner);
        int rc = create_secret(m, name->valuestring, r->arn, str_field(r->properties, "Description"),
                               str_field(r->properties, "KmsKeyId"),
                               cJSON_GetObjectItemCaseSensitive(r->properties, "Tags"), NULL, value,
                               NULL, NULL, &inner);
        free(generated);
        if (rc != CORE_OK)
            return core_err_set(err, 400, "ValidationError", "Resources.%s: %s", r->logical_id,
                                inner.message);
        core_log(CORE_LOG_INFO, "secretsmanager", NULL, "created secret %s from the template",
                 name->valuestring);
    }
    return CORE_OK;
}

static const struct {
    const char *name;
    sm_op fn;
} ops[] = {
    {"CreateSecret", sm_op_create_secret},     {"PutSecretValue", sm_op_put_secret_value},
    {"GetSecretValue", sm_op_get_secret_value}, {"DescribeSecret", sm_op_describe_secret},
    {"ListSecrets", sm_op_list_secrets},
};

sm_op sm_op_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(ops[i].name, name))
            return ops[i].fn;
    return NULL;
}
