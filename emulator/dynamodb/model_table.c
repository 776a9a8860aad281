/*
 * model_table.c — DynamoDB tables: their storage, their descriptions, and the
 * table operations (CreateTable, DescribeTable, DeleteTable, ListTables,
 * UpdateTable, UpdateTimeToLive, DescribeTimeToLive). See ddb.h.
 *
 * A table's definition is kept as JSON in the tables row (the CreateTable request
 * as validated, plus what DynamoDB adds: TableId, CreationDateTime, index ids,
 * TTL) and mirrored in memory as a ddb_table for the hot paths. Tables become
 * ACTIVE at once, as in DynamoDB Local: there is no CREATING phase to wait out.
 */
#include "dynamodb/model_impl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/http.h"
#include "core/log.h"
#include "core/template.h"

static const char *const migrations[] = {
    "CREATE TABLE tables (name TEXT PRIMARY KEY, id INTEGER UNIQUE NOT NULL,"
    "  spec TEXT NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE TABLE items (tbl INTEGER NOT NULL, pk BLOB NOT NULL, sk BLOB NOT NULL,"
    "  item TEXT NOT NULL, size INTEGER NOT NULL, ttl INTEGER,"
    "  PRIMARY KEY (tbl, pk, sk)) WITHOUT ROWID;"
    "CREATE INDEX items_ttl ON items(tbl, ttl) WHERE ttl IS NOT NULL;"
    "CREATE TABLE index_entries (tbl INTEGER NOT NULL, idx INTEGER NOT NULL,"
    "  ipk BLOB NOT NULL, isk BLOB NOT NULL, pk BLOB NOT NULL, sk BLOB NOT NULL,"
    "  PRIMARY KEY (tbl, idx, ipk, isk, pk, sk)) WITHOUT ROWID;"
    "CREATE TABLE tx_tokens (token TEXT PRIMARY KEY, digest TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL);",
};

/* ---- errors ------------------------------------------------------------- */

int ddb_validation(core_err *err, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return core_err_set(err, 400, "ValidationException", "%s", msg);
}

int ddb_not_found(core_err *err)
{
    return core_err_set(err, 400, "ResourceNotFoundException", "Requested resource not found");
}

int64_t ddb_now_s(ddb_model *m)
{
    return core_clock_now_ms(m->clock) / 1000;
}

/* ---- the in-memory mirror ------------------------------------------------ */

static void keys_release(ddb_keys *k)
{
    free(k->hash);
    free(k->range);
}

static void table_free(ddb_table *t)
{
    if (!t)
        return;
    free(t->name);
    cJSON_Delete(t->spec);
    keys_release(&t->keys);
    for (size_t i = 0; i < t->n_indexes; i++) {
        free(t->indexes[i].name);
        keys_release(&t->indexes[i].keys);
        for (size_t k = 0; k < t->indexes[i].n_include; k++)
            free(t->indexes[i].include[k]);
        free(t->indexes[i].include);
    }
    free(t->indexes);
    free(t->ttl_attr);
    free(t);
}

static const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static ddb_type attr_type(const cJSON *defs, const char *name)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, defs)
    {
        const char *n = str_of(d, "AttributeName");
        if (n && !strcmp(n, name))
            return ddb_type_from_name(str_of(d, "AttributeType") ? str_of(d, "AttributeType") : "");
    }
    return DDB_INVALID;
}

/* Parse a KeySchema (validated already) into k. */
static void keys_from_schema(const cJSON *schema, const cJSON *defs, ddb_keys *k)
{
    memset(k, 0, sizeof *k);
    const cJSON *e;
    cJSON_ArrayForEach(e, schema)
    {
        const char *n = str_of(e, "AttributeName"), *kt = str_of(e, "KeyType");
        if (!n || !kt)
            continue;
        if (!strcmp(kt, "HASH")) {
            k->hash = strdup(n);
            k->hash_type = attr_type(defs, n);
        } else {
            k->range = strdup(n);
            k->range_type = attr_type(defs, n);
        }
    }
}

static void index_from_spec(ddb_index *ix, const cJSON *spec, const cJSON *defs, int local,
                            int id)
{
    memset(ix, 0, sizeof *ix);
    ix->id = id;
    ix->local = local;
    ix->name = strdup(str_of(spec, "IndexName"));
    keys_from_schema(cJSON_GetObjectItemCaseSensitive(spec, "KeySchema"), defs, &ix->keys);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(spec, "Projection");
    const char *pt = str_of(p, "ProjectionType");
    ix->projection = !pt || !strcmp(pt, "ALL") ? DDB_PROJ_ALL
                     : !strcmp(pt, "KEYS_ONLY") ? DDB_PROJ_KEYS_ONLY : DDB_PROJ_INCLUDE;
    const cJSON *nk = cJSON_GetObjectItemCaseSensitive(p, "NonKeyAttributes");
    int n = cJSON_IsArray(nk) ? cJSON_GetArraySize(nk) : 0;
    ix->include = calloc((size_t)n + 1, sizeof *ix->include);
    const cJSON *a;
    cJSON_ArrayForEach(a, nk)
    {
        if (cJSON_IsString(a) && ix->include)
            ix->include[ix->n_include++] = strdup(a->valuestring);
    }
}

/* Build the mirror of a persisted spec (takes ownership of spec). */
static ddb_table *table_from_spec(int id, cJSON *spec)
{
    ddb_table *t = calloc(1, sizeof *t);
    if (!t) {
        cJSON_Delete(spec);
        return NULL;
    }
    t->id = id;
    t->spec = spec;
    t->name = strdup(str_of(spec, "TableName"));
    const cJSON *defs = cJSON_GetObjectItemCaseSensitive(spec, "AttributeDefinitions");
    keys_from_schema(cJSON_GetObjectItemCaseSensitive(spec, "KeySchema"), defs, &t->keys);
    const cJSON *gsis = cJSON_GetObjectItemCaseSensitive(spec, "GlobalSecondaryIndexes");
    const cJSON *lsis = cJSON_GetObjectItemCaseSensitive(spec, "LocalSecondaryIndexes");
    size_t n = (size_t)cJSON_GetArraySize(gsis) + (size_t)cJSON_GetArraySize(lsis);
    t->indexes = calloc(n + 1, sizeof *t->indexes);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(spec, "x-IndexIds");
    const cJSON *x;
    cJSON_ArrayForEach(x, gsis)
    {
        const cJSON *idv = cJSON_GetObjectItemCaseSensitive(ids, str_of(x, "IndexName"));
        index_from_spec(&t->indexes[t->n_indexes++], x, defs, 0, idv ? idv->valueint : 0);
    }
    cJSON_ArrayForEach(x, lsis)
    {
        const cJSON *idv = cJSON_GetObjectItemCaseSensitive(ids, str_of(x, "IndexName"));
        index_from_spec(&t->indexes[t->n_indexes++], x, defs, 1, idv ? idv->valueint : 0);
    }
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(spec, "x-TimeToLive");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ttl, "Enabled")) &&
        str_of(ttl, "AttributeName"))
        t->ttl_attr = strdup(str_of(ttl, "AttributeName"));
    return t;
}

ddb_table *ddb_table_get(ddb_model *m, const char *name, core_err *err)
{
    for (ddb_table *t = m->tables; t; t = t->next)
        if (!strcmp(t->name, name))
            return t;
    ddb_not_found(err);
    return NULL;
}

ddb_table *ddb_table_from_request(ddb_model *m, const cJSON *req, core_err *err)
{
    const char *name = str_of(req, "TableName");
    if (!name) {
        ddb_validation(err, "1 validation error detected: Value null at 'tableName' failed to "
                            "satisfy constraint: Member must not be null");
        return NULL;
    }
    return ddb_table_get(m, name, err);
}

const ddb_index *ddb_table_index(const ddb_table *t, const char *name)
{
    for (size_t i = 0; i < t->n_indexes; i++)
        if (!strcmp(t->indexes[i].name, name))
            return &t->indexes[i];
    return NULL;
}

const char *ddb_request_table(const cJSON *req)
{
    return str_of(req, "TableName");
}

/* ---- open / close --------------------------------------------------------- */

int ddb_model_open(const char *dir, const char *region, core_clock *clock, ddb_model **out,
                   core_err *err)
{
    *out = NULL;
    ddb_model *m = calloc(1, sizeof *m);
    if (!m)
        return core_err_set(err, 500, "InternalServerError", "out of memory");
    pthread_mutex_init(&m->lock, NULL);
    m->clock = clock;
    m->region = strdup(region ? region : "us-east-1");
    m->next_table_id = 1;
    if (core_store_open(dir, "dynamodb", migrations, sizeof migrations / sizeof *migrations,
                        &m->store, err) != CORE_OK) {
        ddb_model_close(m);
        return CORE_ERROR;
    }
    core_store_lock(m->store);
    sqlite3_stmt *st = core_store_stmt(m->store, "SELECT id, spec FROM tables ORDER BY name", err);
    int rc = st ? CORE_OK : CORE_ERROR;
    ddb_table **tail = &m->tables;
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        int id = sqlite3_column_int(st, 0);
        cJSON *spec = cJSON_Parse((const char *)sqlite3_column_text(st, 1));
        ddb_table *t = spec ? table_from_spec(id, spec) : NULL;
        if (!t) {
            rc = core_err_set(err, 500, "InternalServerError", "dynamodb.db: unreadable table");
            break;
        }
        *tail = t;
        tail = &t->next;
        if (id >= m->next_table_id)
            m->next_table_id = id + 1;
    }
    if (st)
        sqlite3_reset(st);
    core_store_unlock(m->store);
    if (rc != CORE_OK) {
        ddb_model_close(m);
        return CORE_ERROR;
    }
    *out = m;
    return CORE_OK;
}

void ddb_model_close(ddb_model *m)
{
    if (!m)
        return;
    ddb_table *t = m->tables;
    while (t) {
        ddb_table *next = t->next;
        table_free(t);
        t = next;
    }
    core_store_close(m->store);
    pthread_mutex_destroy(&m->lock);
    free(m->region);
    free(m);
}

/* ---- keys ----------------------------------------------------------------- */

static int encode_one(const char *name, ddb_type want, const cJSON *item, const char *index_name,
                      unsigned char **out, size_t *len, size_t max, core_err *err)
{
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(item, name);
    if (!av)
        return 0;
    ddb_type got = ddb_value_type(av);
    if (got != want) {
        if (index_name)
            return ddb_validation(err, "One or more parameter values were invalid: Type mismatch "
                                       "for Index Key %s Expected: %s Actual: %s IndexName: %s",
                                  name, ddb_type_name(want), ddb_type_name(got), index_name);
        return ddb_validation(err, "One or more parameter values were invalid: Type mismatch for "
                                   "key %s expected: %s actual: %s",
                              name, ddb_type_name(want), ddb_type_name(got));
    }
    const cJSON *payload = ddb_value_payload(av);
    if ((want == DDB_S || want == DDB_B) && cJSON_IsString(payload) && !payload->valuestring[0])
        return ddb_validation(err, "One or more parameter values are not valid. The AttributeValue "
                                   "for a key attribute cannot contain an empty %s value. %s: %s",
                              want == DDB_S ? "string" : "binary",
                              index_name ? "IndexName" : "Key", index_name ? index_name : name);
    if (ddb_value_key_encode(av, out, len, err) != CORE_OK)
        return CORE_ERROR;
    if (*len > max) {
        free(*out);
        *out = NULL;
        return ddb_validation(err, "One or more parameter values were invalid: Size of %s has "
                                   "exceeded the maximum size limit of%zu bytes",
                              max == 2048 ? "hashkey" : "rangekey", max);
    }
    return 1;
}

int ddb_keys_encode(const ddb_keys *k, const cJSON *item, const char *index_name,
                    unsigned char **pk, size_t *pk_len, unsigned char **sk, size_t *sk_len,
                    core_err *err)
{
    *pk = *sk = NULL;
    *pk_len = *sk_len = 0;
    int r = encode_one(k->hash, k->hash_type, item, index_name, pk, pk_len, 2048, err);
    if (r != 1)
        return r;
    if (!k->range) {
        *sk = malloc(1);
        return 1;
    }
    r = encode_one(k->range, k->range_type, item, index_name, sk, sk_len, 1024, err);
    if (r != 1) {
        free(*pk);
        *pk = NULL;
    }
    return r;
}

int ddb_key_param(const ddb_table *t, const cJSON *key, unsigned char **pk, size_t *pk_len,
                  unsigned char **sk, size_t *sk_len, core_err *err)
{
    *pk = *sk = NULL;
    if (!cJSON_IsObject(key))
        return ddb_validation(err, "1 validation error detected: Value null at 'key' failed to "
                                   "satisfy constraint: Member must not be null");
    int n = cJSON_GetArraySize(key);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(key, t->keys.hash);
    const cJSON *r = t->keys.range ? cJSON_GetObjectItemCaseSensitive(key, t->keys.range) : NULL;
    if (!h || (t->keys.range && !r) || n != (t->keys.range ? 2 : 1) ||
        ddb_value_type(h) != t->keys.hash_type ||
        (t->keys.range && ddb_value_type(r) != t->keys.range_type))
        return ddb_validation(err, "The provided key element does not match the schema");
    cJSON *copy = cJSON_Duplicate(key, 1);
    int rc = ddb_item_validate(copy, err);
    if (rc == CORE_OK) {
        rc = ddb_keys_encode(&t->keys, copy, NULL, pk, pk_len, sk, sk_len, err);
        rc = rc == 1 ? CORE_OK : CORE_ERROR;
    }
    cJSON_Delete(copy);
    return rc;
}

cJSON *ddb_item_key_of(const ddb_table *t, const ddb_index *ix, const cJSON *item)
{
    cJSON *k = cJSON_CreateObject();
    const char *names[4] = {t->keys.hash, t->keys.range, ix ? ix->keys.hash : NULL,
                            ix ? ix->keys.range : NULL};
    for (int i = 0; i < 4; i++) {
        if (!names[i] || cJSON_GetObjectItemCaseSensitive(k, names[i]))
            continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, names[i]);
        if (v)
            cJSON_AddItemToObject(k, names[i], cJSON_Duplicate(v, 1));
    }
    return k;
}

/* ---- item storage --------------------------------------------------------- */

char *ddb_item_load_text(ddb_model *m, const ddb_table *t, const unsigned char *pk,
                         size_t pk_len, const unsigned char *sk, size_t sk_len, size_t *size,
                         core_err *err, int *failed)
{
    *failed = 0;
    sqlite3_stmt *st = core_store_stmt(
        m->store, "SELECT item, ttl, size FROM items WHERE tbl = ?1 AND pk = ?2 AND sk = ?3", err);
    if (!st) {
        *failed = 1;
        return NULL;
    }
    sqlite3_bind_int(st, 1, t->id);
    sqlite3_bind_blob(st, 2, pk, (int)pk_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, sk, (int)sk_len, SQLITE_STATIC);
    char *text = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        int expired = t->ttl_attr && sqlite3_column_type(st, 1) != SQLITE_NULL &&
                      sqlite3_column_int64(st, 1) <= ddb_now_s(m);
        if (!expired) {
            text = strndup((const char *)sqlite3_column_text(st, 0),
                           (size_t)sqlite3_column_bytes(st, 0));
            if (size)
                *size = (size_t)sqlite3_column_int64(st, 2);
        }
    }
    sqlite3_reset(st);
    return text;
}

cJSON *ddb_item_load(ddb_model *m, const ddb_table *t, const unsigned char *pk, size_t pk_len,
                     const unsigned char *sk, size_t sk_len, core_err *err, int *failed)
{
    char *text = ddb_item_load_text(m, t, pk, pk_len, sk, sk_len, NULL, err, failed);
    cJSON *item = text ? cJSON_Parse(text) : NULL;
    free(text);
    return item;
}

/* The TTL attribute's value in epoch seconds, if it is a number (else no TTL). */
static int item_ttl(const ddb_table *t, const cJSON *item, int64_t *out)
{
    if (!t->ttl_attr)
        return 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, t->ttl_attr);
    if (ddb_value_type(v) != DDB_N)
        return 0;
    const char *text = ddb_value_payload(v)->valuestring;
    if (text[0] == '-')
        return 0;
    char *end;
    long long s = strtoll(text, &end, 10);
    if (end == text)
        return 0;
    *out = s;
    return 1;
}

static int index_entries(ddb_model *m, const ddb_table *t, const cJSON *item, int insert,
                         const unsigned char *pk, size_t pk_len, const unsigned char *sk,
                         size_t sk_len, core_err *err)
{
    const char *sql = insert ? "INSERT OR REPLACE INTO index_entries(tbl, idx, ipk, isk, pk, sk)"
                               " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                             : "DELETE FROM index_entries WHERE tbl = ?1 AND idx = ?2 AND"
                               " ipk = ?3 AND isk = ?4 AND pk = ?5 AND sk = ?6";
    for (size_t i = 0; i < t->n_indexes; i++) {
        const ddb_index *ix = &t->indexes[i];
        unsigned char *ipk, *isk;
        size_t ipk_len, isk_len;
        int r = ddb_keys_encode(&ix->keys, item, ix->name, &ipk, &ipk_len, &isk, &isk_len, err);
        if (r == CORE_ERROR)
            return CORE_ERROR;
        if (r == 0)
            continue; /* sparse: the item is not in this index */
        sqlite3_stmt *st = core_store_stmt(m->store, sql, err);
        if (!st) {
            free(ipk);
            free(isk);
            return CORE_ERROR;
        }
        sqlite3_bind_int(st, 1, t->id);
        sqlite3_bind_int(st, 2, ix->id);
        sqlite3_bind_blob(st, 3, ipk, (int)ipk_len, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, isk, (int)isk_len, SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, pk, (int)pk_len, SQLITE_STATIC);
        sqlite3_bind_blob(st, 6, sk, (int)sk_len, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        free(ipk);
        free(isk);
        if (rc != SQLITE_DONE)
            return core_err_set(err, 500, "InternalServerError", "index write failed: %s",
                                sqlite3_errmsg(core_store_db(m->store)));
    }
    return CORE_OK;
}

int ddb_item_store(ddb_model *m, const ddb_table *t, const cJSON *item, const cJSON *old,
                   const unsigned char *pk, size_t pk_len, const unsigned char *sk,
                   size_t sk_len, core_err *err)
{
    if (old && index_entries(m, t, old, 0, pk, pk_len, sk, sk_len, err) != CORE_OK)
        return CORE_ERROR;
    char *text = cJSON_PrintUnformatted(item);
    if (!text)
        return core_err_set(err, 500, "InternalServerError", "out of memory");
    sqlite3_stmt *st = core_store_stmt(
        m->store,
        "INSERT OR REPLACE INTO items(tbl, pk, sk, item, size, ttl) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        err);
    if (!st) {
        free(text);
        return CORE_ERROR;
    }
    sqlite3_bind_int(st, 1, t->id);
    sqlite3_bind_blob(st, 2, pk, (int)pk_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, sk, (int)sk_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, text, -1, free);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)ddb_item_size(item));
    int64_t ttl;
    if (item_ttl(t, item, &ttl))
        sqlite3_bind_int64(st, 6, ttl);
    else
        sqlite3_bind_null(st, 6);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return core_err_set(err, 500, "InternalServerError", "item write failed: %s",
                            sqlite3_errmsg(core_store_db(m->store)));
    return index_entries(m, t, item, 1, pk, pk_len, sk, sk_len, err);
}

int ddb_item_remove(ddb_model *m, const ddb_table *t, const cJSON *old,
                    const unsigned char *pk, size_t pk_len, const unsigned char *sk,
                    size_t sk_len, core_err *err)
{
    if (old && index_entries(m, t, old, 0, pk, pk_len, sk, sk_len, err) != CORE_OK)
        return CORE_ERROR;
    sqlite3_stmt *st = core_store_stmt(
        m->store, "DELETE FROM items WHERE tbl = ?1 AND pk = ?2 AND sk = ?3", err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_int(st, 1, t->id);
    sqlite3_bind_blob(st, 2, pk, (int)pk_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, sk, (int)sk_len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CORE_OK
                             : core_err_set(err, 500, "InternalServerError", "delete failed");
}

long ddb_model_sweep_ttl(ddb_model *m)
{
    long swept = 0;
    core_err err;
    pthread_mutex_lock(&m->lock);
    core_store_lock(m->store);
    for (ddb_table *t = m->tables; t; t = t->next) {
        if (!t->ttl_attr)
            continue;
        core_store_exec(m->store, "BEGIN", &err);
        sqlite3_stmt *st = core_store_stmt(
            m->store, "SELECT pk, sk, item FROM items WHERE tbl = ?1 AND ttl IS NOT NULL AND"
                      " ttl <= ?2 LIMIT 1000", &err);
        if (!st) {
            core_store_exec(m->store, "ROLLBACK", &err);
            continue;
        }
        sqlite3_bind_int(st, 1, t->id);
        sqlite3_bind_int64(st, 2, ddb_now_s(m));
        /* collect first: the cached statement is reused by ddb_item_remove's helpers */
        size_t n = 0, cap = 0;
        struct row { unsigned char *pk, *sk; size_t pl, sl; cJSON *item; } *rows = NULL;
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                struct row *r = realloc(rows, cap * sizeof *rows);
                if (!r)
                    break;
                rows = r;
            }
            struct row *r = &rows[n++];
            r->pl = (size_t)sqlite3_column_bytes(st, 0);
            r->sl = (size_t)sqlite3_column_bytes(st, 1);
            r->pk = malloc(r->pl + 1);
            r->sk = malloc(r->sl + 1);
            memcpy(r->pk, sqlite3_column_blob(st, 0), r->pl);
            memcpy(r->sk, sqlite3_column_blob(st, 1) ? sqlite3_column_blob(st, 1) : "", r->sl);
            r->item = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
        }
        sqlite3_reset(st);
        for (size_t i = 0; i < n; i++) {
            if (ddb_item_remove(m, t, rows[i].item, rows[i].pk, rows[i].pl, rows[i].sk,
                                rows[i].sl, &err) == CORE_OK)
                swept++;
            free(rows[i].pk);
            free(rows[i].sk);
            cJSON_Delete(rows[i].item);
        }
        free(rows);
        core_store_exec(m->store, "COMMIT", &err);
    }
    core_store_unlock(m->store);
    pthread_mutex_unlock(&m->lock);
    return swept;
}

/* ---- expressions of a request --------------------------------------------- */

int ddb_exprs_parse(const cJSON *req, int want_condition, int want_filter, int want_key,
                    int want_update, int want_projection, ddb_request_exprs *out,
                    core_err *err)
{
    memset(out, 0, sizeof *out);
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(req, "ExpressionAttributeNames");
    cJSON *values = cJSON_GetObjectItemCaseSensitive(req, "ExpressionAttributeValues");
    if (names && !cJSON_IsObject(names))
        return ddb_validation(err, "ExpressionAttributeNames must be a map");
    if (values) {
        if (!cJSON_IsObject(values))
            return ddb_validation(err, "ExpressionAttributeValues must be a map");
        if (!values->child)
            return ddb_validation(err, "ExpressionAttributeValues must not be empty");
        cJSON *v;
        cJSON_ArrayForEach(v, values)
        {
            if (ddb_value_validate(v, err) != CORE_OK) {
                if (strcmp(err->type, "ValidationException") != 0)
                    return CORE_ERROR; /* SerializationException passes through as on AWS */
                char msg[sizeof err->message];
                snprintf(msg, sizeof msg, "%s", err->message);
                return ddb_validation(err, "ExpressionAttributeValues contains invalid value: %s "
                                           "for key %s", msg, v->string);
            }
        }
    }
    if (names && !names->child)
        return ddb_validation(err, "ExpressionAttributeNames must not be empty");
    const cJSON *maps[2] = {names, values};
    for (int i = 0; i < 2; i++) {
        const cJSON *k;
        cJSON_ArrayForEach(k, maps[i])
        {
            if (k->string[0] != (i ? ':' : '#') || !k->string[1])
                return ddb_validation(err, "%s contains invalid key: Syntax error; key: \"%s\"",
                                      i ? "ExpressionAttributeValues" : "ExpressionAttributeNames",
                                      k->string);
        }
    }
    out->ctx = ddb_expr_ctx_new(names, values);
    if (!out->ctx)
        return core_err_set(err, 500, "InternalServerError", "out of memory");
    /* AWS's order, which decides which error a request with several bad
     * expressions gets. */
    static const struct {
        const char *field;
        ddb_expr_kind kind;
    } kinds[] = {
        {"UpdateExpression", DDB_EXPR_UPDATE},
        {"ConditionExpression", DDB_EXPR_CONDITION},
        {"KeyConditionExpression", DDB_EXPR_KEY_CONDITION},
        {"FilterExpression", DDB_EXPR_FILTER},
        {"ProjectionExpression", DDB_EXPR_PROJECTION},
    };
    int wanted[] = {want_update, want_condition, want_key, want_filter, want_projection};
    ddb_expr **slots[] = {&out->update, &out->condition, &out->key_condition, &out->filter,
                          &out->projection};
    for (size_t i = 0; i < 5; i++) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(req, kinds[i].field);
        if (!text || !wanted[i])
            continue;
        if (!cJSON_IsString(text))
            return ddb_validation(err, "%s must be a string", kinds[i].field);
        if (ddb_expr_parse(kinds[i].kind, text->valuestring, out->ctx, slots[i], err) != CORE_OK)
            return CORE_ERROR;
    }
    if ((names || values) && !out->condition && !out->filter && !out->key_condition &&
        !out->update && !out->projection) {
        return ddb_validation(err, "%s can only be specified when using expressions",
                              values ? "ExpressionAttributeValues" : "ExpressionAttributeNames");
    }
    return ddb_expr_ctx_check_unused(out->ctx, err);
}

void ddb_exprs_release(ddb_request_exprs *x)
{
    ddb_expr_free(x->condition);
    ddb_expr_free(x->filter);
    ddb_expr_free(x->key_condition);
    ddb_expr_free(x->update);
    ddb_expr_free(x->projection);
    ddb_expr_ctx_free(x->ctx);
    memset(x, 0, sizeof *x);
}

void ddb_add_consumed(cJSON *resp, const cJSON *req, const char *table, double units)
{
    const char *mode = str_of(req, "ReturnConsumedCapacity");
    if (!mode || !strcmp(mode, "NONE"))
        return;
    cJSON *c = cJSON_AddObjectToObject(resp, "ConsumedCapacity");
    cJSON_AddStringToObject(c, "TableName", table);
    cJSON_AddNumberToObject(c, "CapacityUnits", units);
    if (!strcmp(mode, "INDEXES")) {
        cJSON *t = cJSON_AddObjectToObject(c, "Table");
        cJSON_AddNumberToObject(t, "CapacityUnits", units);
    }
}

/* ---- CreateTable ---------------------------------------------------------- */

static int valid_name(const char *s, size_t lo, size_t hi)
{
    size_t n = strlen(s);
    if (n < lo || n > hi)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return 0;
    return 1;
}

/* Check a KeySchema: 1 or 2 elements, HASH first, RANGE second, attributes defined. */
static int check_key_schema(const cJSON *schema, const cJSON *defs, const char *what,
                            cJSON *used, core_err *err)
{
    int n = cJSON_IsArray(schema) ? cJSON_GetArraySize(schema) : 0;
    if (n < 1 || n > 2)
        return ddb_validation(err, "1 validation error detected: Value '%s' at 'keySchema' failed "
                                   "to satisfy constraint: Member must have length less than or "
                                   "equal to 2", what);
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(schema, i);
        const char *name = str_of(e, "AttributeName"), *kt = str_of(e, "KeyType");
        if (!name || !kt || (strcmp(kt, "HASH") && strcmp(kt, "RANGE")))
            return ddb_validation(err, "Invalid KeySchema: each element needs AttributeName and "
                                       "KeyType HASH or RANGE");
        if (i == 0 && strcmp(kt, "HASH"))
            return ddb_validation(err, "Invalid KeySchema: The first KeySchemaElement is not a "
                                       "HASH key type");
        if (i == 1 && strcmp(kt, "RANGE"))
            return ddb_validation(err, "Invalid KeySchema: The second KeySchemaElement is not a "
                                       "RANGE key type");
        if (i == 1 && !strcmp(name, str_of(cJSON_GetArrayItem(schema, 0), "AttributeName")))
            return ddb_validation(err, "Both the Hash Key and the Range Key element in the "
                                       "KeySchema have the same name");
        if (attr_type(defs, name) == DDB_INVALID)
            return ddb_validation(err, "One or more parameter values were invalid: Some index key "
                                       "attributes are not defined in AttributeDefinitions. "
                                       "Keys: [%s], AttributeDefinitions: [...]", name);
        if (!cJSON_GetObjectItemCaseSensitive(used, name))
            cJSON_AddTrueToObject(used, name);
    }
    return CORE_OK;
}

static int check_projection(const cJSON *p, const char *index, core_err *err)
{
    const char *pt = str_of(p, "ProjectionType");
    const cJSON *nk = cJSON_GetObjectItemCaseSensitive(p, "NonKeyAttributes");
    if (!cJSON_IsObject(p))
        return ddb_validation(err, "One or more parameter values were invalid: Projection is "
                                   "required for index %s", index);
    if (pt && strcmp(pt, "ALL") && strcmp(pt, "KEYS_ONLY") && strcmp(pt, "INCLUDE"))
        return ddb_validation(err, "1 validation error detected: Value '%s' at 'projection."
                                   "projectionType' failed to satisfy constraint: Member must "
                                   "satisfy enum value set: [INCLUDE, ALL, KEYS_ONLY]", pt);
    if (nk && (!pt || strcmp(pt, "INCLUDE")))
        return ddb_validation(err, "One or more parameter values were invalid: ProjectionType is "
                                   "%s, but NonKeyAttributes is specified", pt ? pt : "ALL");
    if (pt && !strcmp(pt, "INCLUDE") && (!cJSON_IsArray(nk) || !cJSON_GetArraySize(nk)))
        return ddb_validation(err, "One or more parameter values were invalid: ProjectionType is "
                                   "INCLUDE, but NonKeyAttributes is not specified");
    return CORE_OK;
}

static int check_throughput(const cJSON *spec, const char *billing, const char *where,
                            core_err *err)
{
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(spec, "ProvisionedThroughput");
    if (!strcmp(billing, "PAY_PER_REQUEST")) {
        if (pt && (cJSON_GetObjectItemCaseSensitive(pt, "ReadCapacityUnits") ||
                   cJSON_GetObjectItemCaseSensitive(pt, "WriteCapacityUnits")))
            return ddb_validation(err, "One or more parameter values were invalid: Neither "
                                       "ReadCapacityUnits nor WriteCapacityUnits can be specified "
                                       "when BillingMode is PAY_PER_REQUEST");
        return CORE_OK;
    }
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(pt, "ReadCapacityUnits");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(pt, "WriteCapacityUnits");
    if (!cJSON_IsNumber(r) || !cJSON_IsNumber(w))
        return ddb_validation(err, "One or more parameter values were invalid: ReadCapacityUnits "
                                   "and WriteCapacityUnits must both be specified when BillingMode "
                                   "is PROVISIONED%s", where);
    if (r->valuedouble < 1 || w->valuedouble < 1)
        return ddb_validation(err, "One or more parameter values were invalid: Provisioned "
                                   "throughput values must be greater than zero");
    return CORE_OK;
}

/* Validate a CreateTable request; on success returns the spec to persist (owned). */
static cJSON *create_spec(ddb_model *m, const cJSON *req, core_err *err)
{
    const char *name = str_of(req, "TableName");
    if (!name)
        return ddb_validation(err, "1 validation error detected: Value null at 'tableName' "
                                   "failed to satisfy constraint: Member must not be null"),
               NULL;
    if (!valid_name(name, 3, 255))
        return ddb_validation(err, "1 validation error detected: Value '%.255s' at 'tableName' "
                                   "failed to satisfy constraint: Member must satisfy regular "
                                   "expression pattern: [a-zA-Z0-9_.-]+ and length 3..255", name),
               NULL;
    const cJSON *defs = cJSON_GetObjectItemCaseSensitive(req, "AttributeDefinitions");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(req, "KeySchema");
    if (!cJSON_IsArray(defs) || !cJSON_GetArraySize(defs))
        return ddb_validation(err, "1 validation error detected: Value null at "
                                   "'attributeDefinitions' failed to satisfy constraint: Member "
                                   "must not be null"), NULL;
    const cJSON *d;
    cJSON_ArrayForEach(d, defs)
    {
        const char *an = str_of(d, "AttributeName"), *at = str_of(d, "AttributeType");
        if (!an || !at || (strcmp(at, "S") && strcmp(at, "N") && strcmp(at, "B")))
            return ddb_validation(err, "1 validation error detected: Value '%s' at "
                                       "'attributeDefinitions.member.attributeType' failed to "
                                       "satisfy constraint: Member must satisfy enum value set: "
                                       "[B, N, S]", at ? at : "null"), NULL;
    }
    cJSON *used = cJSON_CreateObject();
    cJSON *spec = NULL;
    if (check_key_schema(schema, defs, name, used, err) != CORE_OK)
        goto done;
    const char *billing = str_of(req, "BillingMode");
    if (!billing)
        billing = "PROVISIONED";
    if (strcmp(billing, "PROVISIONED") && strcmp(billing, "PAY_PER_REQUEST")) {
        ddb_validation(err, "1 validation error detected: Value '%s' at 'billingMode' failed to "
                            "satisfy constraint: Member must satisfy enum value set: "
                            "[PROVISIONED, PAY_PER_REQUEST]", billing);
        goto done;
    }
    if (check_throughput(req, billing, "", err) != CORE_OK)
        goto done;
    const cJSON *gsis = cJSON_GetObjectItemCaseSensitive(req, "GlobalSecondaryIndexes");
    const cJSON *lsis = cJSON_GetObjectItemCaseSensitive(req, "LocalSecondaryIndexes");
    if ((gsis && !cJSON_IsArray(gsis)) || (lsis && !cJSON_IsArray(lsis))) {
        ddb_validation(err, "Secondary indexes must be lists");
        goto done;
    }
    if (cJSON_GetArraySize(gsis) > DDB_MAX_GSI) {
        ddb_validation(err, "One or more parameter values were invalid: GlobalSecondaryIndexes "
                            "list has more than %d elements", DDB_MAX_GSI);
        goto done;
    }
    if (cJSON_GetArraySize(lsis) > DDB_MAX_LSI) {
        ddb_validation(err, "One or more parameter values were invalid: Number of "
                            "LocalSecondaryIndexes exceeds per-table limit of %d", DDB_MAX_LSI);
        goto done;
    }
    cJSON *seen = cJSON_CreateObject();
    const cJSON *lists[2] = {gsis, lsis};
    for (int l = 0; l < 2; l++) {
        const cJSON *ix;
        cJSON_ArrayForEach(ix, lists[l])
        {
            const char *iname = str_of(ix, "IndexName");
            if (!iname || !valid_name(iname, 3, 255)) {
                ddb_validation(err, "1 validation error detected: Value '%s' at 'indexName' failed "
                                    "to satisfy constraint: Member must satisfy regular expression "
                                    "pattern: [a-zA-Z0-9_.-]+", iname ? iname : "null");
                cJSON_Delete(seen);
                goto done;
            }
            if (cJSON_GetObjectItemCaseSensitive(seen, iname)) {
                ddb_validation(err, "One or more parameter values were invalid: Duplicate index "
                                    "name: %s", iname);
                cJSON_Delete(seen);
                goto done;
            }
            cJSON_AddTrueToObject(seen, iname);
            const cJSON *ks = cJSON_GetObjectItemCaseSensitive(ix, "KeySchema");
            if (check_key_schema(ks, defs, iname, used, err) != CORE_OK ||
                check_projection(cJSON_GetObjectItemCaseSensitive(ix, "Projection"), iname, err) !=
                    CORE_OK ||
                (l == 0 && check_throughput(ix, billing, " for index", err) != CORE_OK)) {
                cJSON_Delete(seen);
                goto done;
            }
            if (l == 1) {
                const char *th = str_of(cJSON_GetArrayItem(schema, 0), "AttributeName");
                const char *ih = str_of(cJSON_GetArrayItem(ks, 0), "AttributeName");
                if (cJSON_GetArraySize(schema) != 2) {
                    ddb_validation(err, "One or more parameter values were invalid: Table "
                                        "KeySchema does not have a range key, which is required "
                                        "when specifying a LocalSecondaryIndex");
                    cJSON_Delete(seen);
                    goto done;
                }
                if (cJSON_GetArraySize(ks) != 2 || strcmp(th, ih)) {
                    ddb_validation(err, "One or more parameter values were invalid: Index "
                                        "KeySchema does not have the same leading hash key as "
                                        "table KeySchema for index: %s", iname);
                    cJSON_Delete(seen);
                    goto done;
                }
            }
        }
    }
    cJSON_Delete(seen);
    int ndefs = cJSON_GetArraySize(defs);
    if (ndefs != cJSON_GetArraySize(used)) {
        ddb_validation(err, "One or more parameter values were invalid: Number of attributes in "
                            "KeySchema does not exactly match number of attributes defined in "
                            "AttributeDefinitions");
        goto done;
    }
    if (ddb_table_get(m, name, err)) {
        core_err_set(err, 400, "ResourceInUseException", "Table already exists: %s", name);
        goto done;
    }
    spec = cJSON_CreateObject();
    cJSON_AddStringToObject(spec, "TableName", name);
    cJSON_AddItemToObject(spec, "AttributeDefinitions", cJSON_Duplicate(defs, 1));
    cJSON_AddItemToObject(spec, "KeySchema", cJSON_Duplicate(schema, 1));
    cJSON_AddStringToObject(spec, "BillingMode", billing);
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(req, "ProvisionedThroughput");
    if (pt && !strcmp(billing, "PROVISIONED"))
        cJSON_AddItemToObject(spec, "ProvisionedThroughput", cJSON_Duplicate(pt, 1));
    cJSON *ids = cJSON_CreateObject();
    int next = 1;
    for (int l = 0; l < 2; l++) {
        if (!cJSON_GetArraySize(lists[l]))
            continue;
        cJSON *copy = cJSON_Duplicate(lists[l], 1);
        cJSON *ix;
        cJSON_ArrayForEach(ix, copy)
        {
            cJSON_AddNumberToObject(ids, str_of(ix, "IndexName"), next++);
            if (!cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ix, "Projection"),
                                                  "ProjectionType"))
                cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(ix, "Projection"),
                                        "ProjectionType", "ALL");
        }
        cJSON_AddItemToObject(spec, l ? "LocalSecondaryIndexes" : "GlobalSecondaryIndexes", copy);
    }
    cJSON_AddItemToObject(spec, "x-IndexIds", ids);
    cJSON_AddNumberToObject(spec, "x-NextIndexId", next);
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(req, "StreamSpecification");
    if (stream)
        cJSON_AddItemToObject(spec, "StreamSpecification", cJSON_Duplicate(stream, 1));
    const cJSON *dp = cJSON_GetObjectItemCaseSensitive(req, "DeletionProtectionEnabled");
    cJSON_AddBoolToObject(spec, "DeletionProtectionEnabled", cJSON_IsTrue(dp));
    char uuid[40];
    core_http_uuid(uuid);
    cJSON_AddStringToObject(spec, "TableId", uuid);
    cJSON_AddNumberToObject(spec, "x-CreatedMs", (double)core_clock_now_ms(m->clock));
done:
    cJSON_Delete(used);
    return spec;
}

static int persist(ddb_model *m, const ddb_table *t, int insert, core_err *err)
{
    char *text = cJSON_PrintUnformatted(t->spec);
    sqlite3_stmt *st = core_store_stmt(
        m->store, insert ? "INSERT INTO tables(name, id, spec, created_ms) VALUES (?1, ?2, ?3, ?4)"
                         : "UPDATE tables SET spec = ?3 WHERE name = ?1 AND id = ?2 AND ?4 = ?4",
        err);
    if (!st || !text) {
        free(text);
        return st ? core_err_set(err, 500, "InternalServerError", "out of memory") : CORE_ERROR;
    }
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, t->id);
    sqlite3_bind_text(st, 3, text, -1, free);
    sqlite3_bind_int64(st, 4, core_clock_now_ms(m->clock));
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CORE_OK
                             : core_err_set(err, 500, "InternalServerError", "table write failed");
}

/* Counts for DescribeTable. DynamoDB refreshes these about every six hours; ours
 * are exact at the time of the call. */
static void count_items(ddb_model *m, const ddb_table *t, int idx, double *count, double *bytes)
{
    core_err err;
    sqlite3_stmt *st =
        idx ? core_store_stmt(m->store,
                              "SELECT count(*), coalesce(sum(i.size), 0) FROM index_entries e JOIN"
                              " items i ON i.tbl = e.tbl AND i.pk = e.pk AND i.sk = e.sk"
                              " WHERE e.tbl = ?1 AND e.idx = ?2", &err)
            : core_store_stmt(m->store, "SELECT count(*), coalesce(sum(size), 0) FROM items"
                                        " WHERE tbl = ?1 AND ?2 = ?2", &err);
    *count = *bytes = 0;
    if (!st)
        return;
    sqlite3_bind_int(st, 1, t->id);
    sqlite3_bind_int(st, 2, idx);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *count = (double)sqlite3_column_int64(st, 0);
        *bytes = (double)sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
}

static cJSON *throughput_desc(const cJSON *pt)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "NumberOfDecreasesToday", 0);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(pt, "ReadCapacityUnits");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(pt, "WriteCapacityUnits");
    cJSON_AddNumberToObject(o, "ReadCapacityUnits", cJSON_IsNumber(r) ? r->valuedouble : 0);
    cJSON_AddNumberToObject(o, "WriteCapacityUnits", cJSON_IsNumber(w) ? w->valuedouble : 0);
    return o;
}

static cJSON *describe(ddb_model *m, const ddb_table *t, const char *status)
{
    const cJSON *s = t->spec;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddItemToObject(d, "AttributeDefinitions",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(s, "AttributeDefinitions"), 1));
    cJSON_AddStringToObject(d, "TableName", t->name);
    cJSON_AddItemToObject(d, "KeySchema",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(s, "KeySchema"), 1));
    cJSON_AddStringToObject(d, "TableStatus", status);
    double created = cJSON_GetObjectItemCaseSensitive(s, "x-CreatedMs")->valuedouble / 1000.0;
    cJSON_AddNumberToObject(d, "CreationDateTime", created);
    cJSON_AddItemToObject(d, "ProvisionedThroughput",
                          throughput_desc(cJSON_GetObjectItemCaseSensitive(s, "ProvisionedThroughput")));
    double count, bytes;
    count_items(m, t, 0, &count, &bytes);
    cJSON_AddNumberToObject(d, "TableSizeBytes", bytes);
    cJSON_AddNumberToObject(d, "ItemCount", count);
    char arn[600];
    snprintf(arn, sizeof arn, "arn:aws:dynamodb:%s:%s:table/%s", m->region, CORE_ACCOUNT_ID,
             t->name);
    cJSON_AddStringToObject(d, "TableArn", arn);
    cJSON_AddStringToObject(d, "TableId", str_of(s, "TableId"));
    const char *billing = str_of(s, "BillingMode");
    if (billing && !strcmp(billing, "PAY_PER_REQUEST")) {
        cJSON *b = cJSON_AddObjectToObject(d, "BillingModeSummary");
        cJSON_AddStringToObject(b, "BillingMode", "PAY_PER_REQUEST");
        cJSON_AddNumberToObject(b, "LastUpdateToPayPerRequestDateTime", created);
    }
    static const char *const kinds[2] = {"GlobalSecondaryIndexes", "LocalSecondaryIndexes"};
    for (int l = 0; l < 2; l++) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(s, kinds[l]);
        if (!cJSON_GetArraySize(list))
            continue;
        cJSON *out = cJSON_AddArrayToObject(d, kinds[l]);
        const cJSON *ix;
        cJSON_ArrayForEach(ix, list)
        {
            const char *iname = str_of(ix, "IndexName");
            const ddb_index *mx = ddb_table_index(t, iname);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "IndexName", iname);
            cJSON_AddItemToObject(o, "KeySchema",
                                  cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(ix, "KeySchema"), 1));
            cJSON_AddItemToObject(o, "Projection",
                                  cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(ix, "Projection"), 1));
            if (!l) {
                cJSON_AddStringToObject(o, "IndexStatus", "ACTIVE");
                cJSON_AddItemToObject(o, "ProvisionedThroughput",
                                      throughput_desc(cJSON_GetObjectItemCaseSensitive(ix, "ProvisionedThroughput")));
            }
            double ic = 0, ib = 0;
            if (mx)
                count_items(m, t, mx->id, &ic, &ib);
            cJSON_AddNumberToObject(o, "IndexSizeBytes", ib);
            cJSON_AddNumberToObject(o, "ItemCount", ic);
            char iarn[900];
            snprintf(iarn, sizeof iarn, "%s/index/%s", arn, iname);
            cJSON_AddStringToObject(o, "IndexArn", iarn);
            cJSON_AddItemToArray(out, o);
        }
    }
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(s, "StreamSpecification");
    if (stream)
        cJSON_AddItemToObject(d, "StreamSpecification", cJSON_Duplicate(stream, 1));
    cJSON_AddBoolToObject(d, "DeletionProtectionEnabled",
                          cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "DeletionProtectionEnabled")));
    return d;
}

static int create_locked(ddb_model *m, cJSON *req, ddb_table **out, core_err *err)
{
    cJSON *spec = create_spec(m, req, err);
    if (!spec)
        return CORE_ERROR;
    ddb_table *t = table_from_spec(m->next_table_id, spec);
    if (!t)
        return core_err_set(err, 500, "InternalServerError", "out of memory");
    if (persist(m, t, 1, err) != CORE_OK) {
        table_free(t);
        return CORE_ERROR;
    }
    m->next_table_id++;
    t->next = m->tables;
    m->tables = t;
    *out = t;
    return CORE_OK;
}

int ddb_op_create_table(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err)
{
    (void)extra;
    ddb_table *t;
    if (create_locked(m, req, &t, err) != CORE_OK)
        return CORE_ERROR;
    *resp = cJSON_CreateObject();
    cJSON_AddItemToObject(*resp, "TableDescription", describe(m, t, "ACTIVE"));
    return CORE_OK;
}

int ddb_model_ensure_table(ddb_model *m, cJSON *create_req, int *created, core_err *err)
{
    *created = 0;
    pthread_mutex_lock(&m->lock);
    core_store_lock(m->store);
    int rc = CORE_OK;
    core_err ignore;
    const char *name = str_of(create_req, "TableName");
    if (!name || !ddb_table_get(m, name, &ignore)) {
        ddb_table *t;
        rc = create_locked(m, create_req, &t, err);
        *created = rc == CORE_OK;
    }
    core_store_unlock(m->store);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int ddb_op_describe_table(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err)
{
    (void)extra;
    ddb_table *t = ddb_table_from_request(m, req, err);
    if (!t)
        return CORE_ERROR;
    *resp = cJSON_CreateObject();
    cJSON_AddItemToObject(*resp, "Table", describe(m, t, "ACTIVE"));
    return CORE_OK;
}

int ddb_op_delete_table(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err)
{
    (void)extra;
    ddb_table *t = ddb_table_from_request(m, req, err);
    if (!t)
        return CORE_ERROR;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t->spec, "DeletionProtectionEnabled")))
        return ddb_validation(err, "Resource cannot be deleted as it is currently protected "
                                   "against deletion. Disable deletion protection first.");
    cJSON *d = describe(m, t, "DELETING");
    static const char *const sql[] = {
        "DELETE FROM index_entries WHERE tbl = ?1",
        "DELETE FROM items WHERE tbl = ?1",
        "DELETE FROM tables WHERE id = ?1",
    };
    core_store_exec(m->store, "BEGIN", err);
    for (size_t i = 0; i < 3; i++) {
        sqlite3_stmt *st = core_store_stmt(m->store, sql[i], err);
        if (!st || (sqlite3_bind_int(st, 1, t->id), sqlite3_step(st)) != SQLITE_DONE) {
            if (st)
                sqlite3_reset(st);
            core_store_exec(m->store, "ROLLBACK", err);
            cJSON_Delete(d);
            return core_err_set(err, 500, "InternalServerError", "delete table failed");
        }
        sqlite3_reset(st);
    }
    core_store_exec(m->store, "COMMIT", err);
    for (ddb_table **p = &m->tables; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    table_free(t);
    *resp = cJSON_CreateObject();
    cJSON_AddItemToObject(*resp, "TableDescription", d);
    return CORE_OK;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ddb_op_list_tables(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err)
{
    (void)extra;
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(req, "Limit");
    const char *start = str_of(req, "ExclusiveStartTableName");
    int max = 100;
    if (limit) {
        if (!cJSON_IsNumber(limit) || limit->valuedouble < 1 || limit->valuedouble > 100)
            return ddb_validation(err, "1 validation error detected: Value '%s' at 'limit' failed "
                                       "to satisfy constraint: Member must have value less than "
                                       "or equal to 100", cJSON_IsNumber(limit) ? "out of range" : "null");
        max = limit->valueint;
    }
    size_t n = 0;
    for (ddb_table *t = m->tables; t; t = t->next)
        n++;
    const char **names = calloc(n + 1, sizeof *names);
    size_t k = 0;
    for (ddb_table *t = m->tables; t; t = t->next)
        names[k++] = t->name;
    qsort(names, n, sizeof *names, name_cmp);
    *resp = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(*resp, "TableNames");
    int taken = 0;
    size_t i = 0;
    for (; i < n && taken < max; i++) {
        if (start && strcmp(names[i], start) <= 0)
            continue;
        cJSON_AddItemToArray(list, cJSON_CreateString(names[i]));
        taken++;
    }
    int more = 0;
    for (; i < n; i++)
        if (!start || strcmp(names[i], start) > 0)
            more = 1;
    if (more && taken)
        cJSON_AddStringToObject(*resp, "LastEvaluatedTableName",
                                cJSON_GetArrayItem(list, taken - 1)->valuestring);
    free(names);
    (void)err;
    return CORE_OK;
}

/* Rebuild one index's entries from the table's items (UpdateTable Create). */
static int backfill_index(ddb_model *m, const ddb_table *t, const ddb_index *ix, core_err *err)
{
    sqlite3_stmt *st = core_store_stmt(m->store, "SELECT pk, sk, item FROM items WHERE tbl = ?1", err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_int(st, 1, t->id);
    sqlite3 *db = core_store_db(m->store);
    sqlite3_stmt *ins;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO index_entries(tbl, idx, ipk, isk, pk, sk)"
                               " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &ins, NULL) != SQLITE_OK) {
        sqlite3_reset(st);
        return core_err_set(err, 500, "InternalServerError", "backfill failed");
    }
    int rc = CORE_OK;
    while (rc == CORE_OK && sqlite3_step(st) == SQLITE_ROW) {
        cJSON *item = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
        unsigned char *ipk, *isk;
        size_t ipk_len, isk_len;
        core_err ignore;
        /* Items whose index key has the wrong type are left out, as DynamoDB's
         * backfill reports them as violations rather than failing. */
        int r = item ? ddb_keys_encode(&ix->keys, item, ix->name, &ipk, &ipk_len, &isk, &isk_len,
                                       &ignore) : 0;
        if (r == 1) {
            sqlite3_bind_int(ins, 1, t->id);
            sqlite3_bind_int(ins, 2, ix->id);
            sqlite3_bind_blob(ins, 3, ipk, (int)ipk_len, SQLITE_STATIC);
            sqlite3_bind_blob(ins, 4, isk, (int)isk_len, SQLITE_STATIC);
            sqlite3_bind_blob(ins, 5, sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0),
                              SQLITE_TRANSIENT);
            sqlite3_bind_blob(ins, 6, sqlite3_column_blob(st, 1) ? sqlite3_column_blob(st, 1) : "",
                              sqlite3_column_bytes(st, 1), SQLITE_TRANSIENT);
            if (sqlite3_step(ins) != SQLITE_DONE)
                rc = core_err_set(err, 500, "InternalServerError", "backfill failed");
            sqlite3_reset(ins);
            free(ipk);
            free(isk);
        }
        cJSON_Delete(item);
    }
    sqlite3_reset(st);
    sqlite3_finalize(ins);
    return rc;
}

int ddb_op_update_table(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err)
{
    (void)extra;
    ddb_table *t = ddb_table_from_request(m, req, err);
    if (!t)
        return CORE_ERROR;
    cJSON *spec = cJSON_Duplicate(t->spec, 1);
    const char *billing = str_of(req, "BillingMode");
    if (billing) {
        if (strcmp(billing, "PROVISIONED") && strcmp(billing, "PAY_PER_REQUEST")) {
            cJSON_Delete(spec);
            return ddb_validation(err, "1 validation error detected: Value '%s' at 'billingMode' "
                                       "failed to satisfy constraint: Member must satisfy enum "
                                       "value set: [PROVISIONED, PAY_PER_REQUEST]", billing);
        }
        if (check_throughput(req, billing, "", err) != CORE_OK) {
            cJSON_Delete(spec);
            return CORE_ERROR;
        }
        cJSON_ReplaceItemInObjectCaseSensitive(spec, "BillingMode", cJSON_CreateString(billing));
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "ProvisionedThroughput");
    }
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(req, "ProvisionedThroughput");
    if (pt) {
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "ProvisionedThroughput");
        cJSON_AddItemToObject(spec, "ProvisionedThroughput", cJSON_Duplicate(pt, 1));
    }
    const cJSON *defs_new = cJSON_GetObjectItemCaseSensitive(req, "AttributeDefinitions");
    if (cJSON_IsArray(defs_new)) {
        cJSON *defs = cJSON_GetObjectItemCaseSensitive(spec, "AttributeDefinitions");
        const cJSON *d;
        cJSON_ArrayForEach(d, defs_new)
        {
            if (attr_type(defs, str_of(d, "AttributeName") ? str_of(d, "AttributeName") : "") ==
                DDB_INVALID)
                cJSON_AddItemToArray(defs, cJSON_Duplicate(d, 1));
        }
    }
    const cJSON *updates = cJSON_GetObjectItemCaseSensitive(req, "GlobalSecondaryIndexUpdates");
    const char *created = NULL;
    const cJSON *u;
    cJSON_ArrayForEach(u, updates)
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(u, "Create");
        const cJSON *del = cJSON_GetObjectItemCaseSensitive(u, "Delete");
        cJSON *gsis = cJSON_GetObjectItemCaseSensitive(spec, "GlobalSecondaryIndexes");
        if (c) {
            const char *iname = str_of(c, "IndexName");
            cJSON *used = cJSON_CreateObject();
            const char *b = str_of(spec, "BillingMode");
            int bad = !iname || ddb_table_index(t, iname) ||
                      check_key_schema(cJSON_GetObjectItemCaseSensitive(c, "KeySchema"),
                                       cJSON_GetObjectItemCaseSensitive(spec, "AttributeDefinitions"),
                                       iname ? iname : "", used, err) != CORE_OK ||
                      check_projection(cJSON_GetObjectItemCaseSensitive(c, "Projection"),
                                       iname ? iname : "", err) != CORE_OK ||
                      check_throughput(c, b ? b : "PROVISIONED", " for index", err) != CORE_OK;
            cJSON_Delete(used);
            if (bad) {
                cJSON_Delete(spec);
                if (iname && ddb_table_index(t, iname))
                    return ddb_validation(err, "One or more parameter values were invalid: Index "
                                               "already exists: %s", iname);
                return iname ? CORE_ERROR : ddb_validation(err, "IndexName is required");
            }
            if (!gsis)
                gsis = cJSON_AddArrayToObject(spec, "GlobalSecondaryIndexes");
            cJSON *copy = cJSON_Duplicate(c, 1);
            cJSON *proj = cJSON_GetObjectItemCaseSensitive(copy, "Projection");
            if (!str_of(proj, "ProjectionType"))
                cJSON_AddStringToObject(proj, "ProjectionType", "ALL");
            cJSON_AddItemToArray(gsis, copy);
            cJSON *next = cJSON_GetObjectItemCaseSensitive(spec, "x-NextIndexId");
            cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(spec, "x-IndexIds"), iname,
                                    next->valuedouble);
            cJSON_SetNumberValue(next, next->valuedouble + 1);
            created = iname;
        } else if (del) {
            const char *iname = str_of(del, "IndexName");
            int found = -1, i = 0;
            const cJSON *g;
            cJSON_ArrayForEach(g, gsis)
            {
                if (iname && str_of(g, "IndexName") && !strcmp(str_of(g, "IndexName"), iname))
                    found = i;
                i++;
            }
            if (found < 0) {
                cJSON_Delete(spec);
                return core_err_set(err, 400, "ResourceNotFoundException",
                                    "Requested resource not found: Index: %s not found",
                                    iname ? iname : "null");
            }
            const ddb_index *ix = ddb_table_index(t, iname);
            sqlite3_stmt *st = core_store_stmt(m->store,
                                               "DELETE FROM index_entries WHERE tbl = ?1 AND idx = ?2", err);
            if (st && ix) {
                sqlite3_bind_int(st, 1, t->id);
                sqlite3_bind_int(st, 2, ix->id);
                sqlite3_step(st);
                sqlite3_reset(st);
            }
            cJSON_DeleteItemFromArray(gsis, found);
            if (!cJSON_GetArraySize(gsis))
                cJSON_DeleteItemFromObjectCaseSensitive(spec, "GlobalSecondaryIndexes");
        }
    }
    ddb_table *nt = table_from_spec(t->id, spec);
    if (!nt)
        return core_err_set(err, 500, "InternalServerError", "out of memory");
    if (created) {
        const ddb_index *ix = ddb_table_index(nt, created);
        if (ix && backfill_index(m, nt, ix, err) != CORE_OK) {
            table_free(nt);
            return CORE_ERROR;
        }
    }
    if (persist(m, nt, 0, err) != CORE_OK) {
        table_free(nt);
        return CORE_ERROR;
    }
    nt->next = t->next;
    for (ddb_table **p = &m->tables; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = nt;
            break;
        }
    }
    table_free(t);
    *resp = cJSON_CreateObject();
    cJSON_AddItemToObject(*resp, "TableDescription", describe(m, nt, "ACTIVE"));
    return CORE_OK;
}

static int set_ttl_locked(ddb_model *m, ddb_table *t, const char *attr, int enabled,
                          core_err *err)
{
    cJSON *ttl = cJSON_GetObjectItemCaseSensitive(t->spec, "x-TimeToLive");
    int was = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ttl, "Enabled"));
    if (was == enabled)
        return ddb_validation(err, "TimeToLive is already %s", enabled ? "enabled" : "disabled");
    cJSON_DeleteItemFromObjectCaseSensitive(t->spec, "x-TimeToLive");
    ttl = cJSON_AddObjectToObject(t->spec, "x-TimeToLive");
    cJSON_AddStringToObject(ttl, "AttributeName", attr);
    cJSON_AddBoolToObject(ttl, "Enabled", enabled);
    free(t->ttl_attr);
    t->ttl_attr = enabled ? strdup(attr) : NULL;
    if (persist(m, t, 0, err) != CORE_OK)
        return CORE_ERROR;
    /* Recompute the ttl column: items written before TTL was enabled count too. */
    sqlite3_stmt *st = core_store_stmt(m->store, "SELECT pk, sk, item FROM items WHERE tbl = ?1", err);
    sqlite3 *db = core_store_db(m->store);
    sqlite3_stmt *up;
    if (!st || sqlite3_prepare_v2(db, "UPDATE items SET ttl = ?4 WHERE tbl = ?1 AND pk = ?2 AND sk = ?3",
                                  -1, &up, NULL) != SQLITE_OK)
        return core_err_set(err, 500, "InternalServerError", "ttl update failed");
    sqlite3_bind_int(st, 1, t->id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *item = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
        int64_t v;
        sqlite3_bind_int(up, 1, t->id);
        sqlite3_bind_blob(up, 2, sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0), SQLITE_TRANSIENT);
        sqlite3_bind_blob(up, 3, sqlite3_column_blob(st, 1) ? sqlite3_column_blob(st, 1) : "",
                          sqlite3_column_bytes(st, 1), SQLITE_TRANSIENT);
        if (item && item_ttl(t, item, &v))
            sqlite3_bind_int64(up, 4, v);
        else
            sqlite3_bind_null(up, 4);
        sqlite3_step(up);
        sqlite3_reset(up);
        cJSON_Delete(item);
    }
    sqlite3_reset(st);
    sqlite3_finalize(up);
    return CORE_OK;
}

int ddb_model_set_ttl(ddb_model *m, const char *table, const char *attr, int enabled,
                      core_err *err)
{
    pthread_mutex_lock(&m->lock);
    core_store_lock(m->store);
    ddb_table *t = ddb_table_get(m, table, err);
    int rc = CORE_ERROR;
    if (t) {
        const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(t->spec, "x-TimeToLive");
        int was = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ttl, "Enabled"));
        rc = was == enabled ? CORE_OK : set_ttl_locked(m, t, attr, enabled, err);
    }
    core_store_unlock(m->store);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int ddb_op_update_ttl(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err)
{
    (void)extra;
    ddb_table *t = ddb_table_from_request(m, req, err);
    if (!t)
        return CORE_ERROR;
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(req, "TimeToLiveSpecification");
    const char *attr = str_of(spec, "AttributeName");
    const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(spec, "Enabled");
    if (!attr || !*attr || !cJSON_IsBool(enabled))
        return ddb_validation(err, "1 validation error detected: Value null at "
                                   "'timeToLiveSpecification' failed to satisfy constraint: "
                                   "Member must not be null");
    if (set_ttl_locked(m, t, attr, cJSON_IsTrue(enabled), err) != CORE_OK)
        return CORE_ERROR;
    *resp = cJSON_CreateObject();
    cJSON_AddItemToObject(*resp, "TimeToLiveSpecification", cJSON_Duplicate(spec, 1));
    return CORE_OK;
}

int ddb_op_describe_ttl(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err)
{
    (void)extra;
    ddb_table *t = ddb_table_from_request(m, req, err);
    if (!t)
        return CORE_ERROR;
    *resp = cJSON_CreateObject();
    cJSON *d = cJSON_AddObjectToObject(*resp, "TimeToLiveDescription");
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(t->spec, "x-TimeToLive");
    if (t->ttl_attr) {
        cJSON_AddStringToObject(d, "TimeToLiveStatus", "ENABLED");
        cJSON_AddStringToObject(d, "AttributeName", t->ttl_attr);
    } else {
        cJSON_AddStringToObject(d, "TimeToLiveStatus", "DISABLED");
        (void)ttl;
    }
    return CORE_OK;
}
