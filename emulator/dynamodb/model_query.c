/*
 * model_query.c — Query and Scan.
 *
 * Query is one range scan of a B-tree: items(tbl, pk, sk) for the table, or
 * index_entries(tbl, idx, ipk, isk, pk, sk) joined to items for an index, bounded
 * by the key condition translated to comparisons of encoded keys (begins_with
 * becomes [prefix, successor(prefix))). Scan walks the same trees in key order.
 * Both read pages as DynamoDB does: stop after Limit items evaluated or once 1 MB
 * has been read, before the filter, and hand back LastEvaluatedKey.
 *
 * When nothing needs the item as a tree (no filter, no projection, an ALL index),
 * stored item texts are spliced into the answer as they are.
 */
#include "dynamodb/model_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

typedef struct blob {
    unsigned char *p;
    size_t n;
} blob;

typedef struct page {
    ddb_model *m;
    const ddb_table *t;
    const ddb_index *ix;
    const ddb_request_exprs *x;
    int count_only;
    int limit;                 /* 0: none */
    int project_index;         /* apply the index's KEYS_ONLY / INCLUDE projection */
    int splice;                /* append stored text as is */
    int segment, total_segments;
    /* output */
    char *items;               /* JSON text of the Items array content */
    size_t items_len, items_cap;
    int count, scanned;
    double bytes;
    cJSON *last_key;
} page;

static int buf_add(page *p, const char *s, size_t n)
{
    if (p->items_len + n + 2 > p->items_cap) {
        size_t cap = p->items_cap ? p->items_cap : 4096;
        while (cap < p->items_len + n + 2)
            cap *= 2;
        char *b = realloc(p->items, cap);
        if (!b)
            return -1;
        p->items = b;
        p->items_cap = cap;
    }
    memcpy(p->items + p->items_len, s, n);
    p->items_len += n;
    p->items[p->items_len] = '\0';
    return 0;
}

/* The attributes an index projection keeps. */
static cJSON *index_projection(const ddb_table *t, const ddb_index *ix, const cJSON *item)
{
    cJSON *out = ddb_item_key_of(t, ix, item);
    for (size_t i = 0; ix->projection == DDB_PROJ_INCLUDE && i < ix->n_include; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, ix->include[i]);
        if (v && !cJSON_GetObjectItemCaseSensitive(out, ix->include[i]))
            cJSON_AddItemToObject(out, ix->include[i], cJSON_Duplicate(v, 1));
    }
    return out;
}

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Take one row: returns 1 to go on, 0 when the page is full, CORE_ERROR. */
static int take_row(page *p, sqlite3_stmt *st, core_err *err)
{
    const char *text = (const char *)sqlite3_column_text(st, 2);
    size_t len = (size_t)sqlite3_column_bytes(st, 2);
    if (p->t->ttl_attr && sqlite3_column_type(st, 3) != SQLITE_NULL &&
        sqlite3_column_int64(st, 3) <= ddb_now_s(p->m))
        return 1; /* expired: as if already swept */
    if (p->total_segments > 1) {
        uint32_t h = fnv1a(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        if ((int)(h % (uint32_t)p->total_segments) != p->segment)
            return 1;
    }
    p->scanned++;
    p->bytes += (double)sqlite3_column_int64(st, 4);
    cJSON *item = NULL;
    int keep = 1;
    if (!p->splice) {
        item = cJSON_ParseWithLength(text, len);
        if (!item)
            return core_err_set(err, 500, "InternalServerError", "stored item unreadable");
    }
    if (p->x->filter) {
        if (ddb_expr_eval(p->x->filter, item, &keep, err) != CORE_OK) {
            cJSON_Delete(item);
            return CORE_ERROR;
        }
    }
    if (keep) {
        p->count++;
        if (!p->count_only) {
            if (p->items_len)
                buf_add(p, ",", 1);
            if (p->splice) {
                buf_add(p, text, len);
            } else {
                cJSON *shown = item;
                cJSON *projected = NULL;
                if (p->project_index)
                    shown = projected = index_projection(p->t, p->ix, item);
                cJSON *proj = p->x->projection ? ddb_expr_project(p->x->projection, shown) : NULL;
                char *s = cJSON_PrintUnformatted(proj ? proj : shown);
                if (s)
                    buf_add(p, s, strlen(s));
                free(s);
                cJSON_Delete(proj);
                cJSON_Delete(projected);
            }
        }
    }
    int full = (p->limit && p->scanned >= p->limit) || p->bytes >= DDB_PAGE_BYTES;
    if (full) {
        if (!item)
            item = cJSON_ParseWithLength(text, len);
        cJSON_Delete(p->last_key);
        p->last_key = ddb_item_key_of(p->t, p->ix, item);
    }
    cJSON_Delete(item);
    return full ? 0 : 1;
}

static int run_page(page *p, sqlite3_stmt *st, core_err *err)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int r = take_row(p, st, err);
        if (r == CORE_ERROR) {
            sqlite3_reset(st);
            return CORE_ERROR;
        }
        if (r == 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_reset(st);
        return core_err_set(err, 500, "InternalServerError", "read failed: %s",
                            sqlite3_errmsg(core_store_db(p->m->store)));
    }
    sqlite3_reset(st);
    return CORE_OK;
}

static cJSON *page_response(page *p, const cJSON *req)
{
    cJSON *resp = cJSON_CreateObject();
    if (!p->count_only) {
        char *raw = malloc(p->items_len + 3);
        if (raw) {
            raw[0] = '[';
            memcpy(raw + 1, p->items ? p->items : "", p->items_len);
            raw[p->items_len + 1] = ']';
            raw[p->items_len + 2] = '\0';
            cJSON_AddRawToObject(resp, "Items", raw);
            free(raw);
        }
    }
    cJSON_AddNumberToObject(resp, "Count", p->count);
    cJSON_AddNumberToObject(resp, "ScannedCount", p->scanned);
    if (p->last_key) {
        cJSON_AddItemToObject(resp, "LastEvaluatedKey", p->last_key);
        p->last_key = NULL;
    }
    double units = ceil(p->bytes / 4096.0) * 0.5;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "ConsistentRead")))
        units *= 2;
    ddb_add_consumed(resp, req, p->t->name, units > 0 ? units : 0.5);
    free(p->items);
    p->items = NULL;
    return resp;
}

/* Common set-up of Query and Scan: index, Select, Limit, expressions. */
static int page_setup(ddb_model *m, cJSON *req, int query, page *p, ddb_request_exprs *x,
                      core_err *err)
{
    memset(p, 0, sizeof *p);
    p->m = m;
    ddb_table *t = ddb_table_from_request(m, req, err);
    if (!t)
        return CORE_ERROR;
    p->t = t;
    const char *iname = str_of(req, "IndexName");
    if (iname) {
        p->ix = ddb_table_index(t, iname);
        if (!p->ix)
            return ddb_validation(err, "The table does not have the specified index: %s", iname);
        if (!p->ix->local && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "ConsistentRead")))
            return ddb_validation(err, "Consistent reads are not supported on global secondary "
                                       "indexes");
    }
    static const char *const legacy[] = {"KeyConditions", "QueryFilter", "ScanFilter",
                                         "AttributesToGet", "ConditionalOperator"};
    for (size_t i = 0; i < sizeof legacy / sizeof *legacy; i++)
        if (cJSON_GetObjectItemCaseSensitive(req, legacy[i]))
            return ddb_validation(err, "shoplocal supports expressions; the legacy parameter %s is "
                                       "not emulated", legacy[i]);
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(req, "Limit");
    if (limit) {
        if (!cJSON_IsNumber(limit) || limit->valuedouble < 1 || limit->valuedouble != (int)limit->valuedouble)
            return ddb_validation(err, "1 validation error detected: Value '%g' at 'limit' failed to "
                                       "satisfy constraint: Member must have value greater than or "
                                       "equal to 1", cJSON_IsNumber(limit) ? limit->valuedouble : 0);
        p->limit = limit->valueint;
    }
    if (ddb_exprs_parse(req, 0, 1, query, 0, 1, x, err) != CORE_OK)
        return CORE_ERROR;
    p->x = x;
    if (query && !x->key_condition)
        return ddb_validation(err, "Either the KeyConditions or KeyConditionExpression parameter "
                                   "must be specified in the request.");
    const char *select = str_of(req, "Select");
    if (select) {
        int ok = !strcmp(select, "ALL_ATTRIBUTES") || !strcmp(select, "ALL_PROJECTED_ATTRIBUTES") ||
                 !strcmp(select, "SPECIFIC_ATTRIBUTES") || !strcmp(select, "COUNT");
        if (!ok)
            return ddb_validation(err, "1 validation error detected: Value '%s' at 'select' failed "
                                       "to satisfy constraint: Member must satisfy enum value set: "
                                       "[SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, "
                                       "ALL_PROJECTED_ATTRIBUTES]", select);
        if (x->projection && strcmp(select, "SPECIFIC_ATTRIBUTES"))
            return ddb_validation(err, "Cannot specify the ProjectionExpression when choosing to get "
                                       "%s", select);
        if (!strcmp(select, "ALL_PROJECTED_ATTRIBUTES") && !p->ix)
            return ddb_validation(err, "ALL_PROJECTED_ATTRIBUTES can be used only when Querying "
                                       "using an IndexName");
        if (!strcmp(select, "ALL_ATTRIBUTES") && p->ix && p->ix->projection != DDB_PROJ_ALL &&
            !p->ix->local)
            return ddb_validation(err, "One or more parameter values were invalid: Select type "
                                       "ALL_ATTRIBUTES is not supported for global secondary index "
                                       "%s because its projection type is not ALL", p->ix->name);
        p->count_only = !strcmp(select, "COUNT");
    }
    p->project_index = p->ix && p->ix->projection != DDB_PROJ_ALL;
    p->splice = !x->filter && !x->projection && !p->project_index;
    return CORE_OK;
}

/* Encode ExclusiveStartKey into the start tuple (table pk/sk and, for an index,
 * ipk/isk). */
static int start_key(const page *p, const cJSON *req, blob *spk, blob *ssk, blob *sipk,
                     blob *sisk, core_err *err)
{
    const cJSON *esk = cJSON_GetObjectItemCaseSensitive(req, "ExclusiveStartKey");
    if (!esk)
        return 0;
    cJSON *copy = cJSON_Duplicate(esk, 1);
    int rc = cJSON_IsObject(copy) ? ddb_item_validate(copy, err)
                                  : ddb_validation(err, "The provided starting key is invalid");
    if (rc == CORE_OK &&
        ddb_keys_encode(&p->t->keys, copy, NULL, &spk->p, &spk->n, &ssk->p, &ssk->n, err) != 1)
        rc = ddb_validation(err, "The provided starting key is invalid: The provided key element "
                                 "does not match the schema");
    if (rc == CORE_OK && p->ix &&
        ddb_keys_encode(&p->ix->keys, copy, p->ix->name, &sipk->p, &sipk->n, &sisk->p, &sisk->n,
                        err) != 1)
        rc = ddb_validation(err, "The provided starting key is invalid: The provided key element "
                                 "does not match the schema");
    cJSON_Delete(copy);
    return rc == CORE_OK ? 1 : CORE_ERROR;
}

static int blob_cmp(const blob *a, const blob *b)
{
    int c = memcmp(a->p, b->p, a->n < b->n ? a->n : b->n);
    return c ? c : (a->n > b->n) - (a->n < b->n);
}

static void blob_free(blob *b)
{
    free(b->p);
    b->p = NULL;
}

/* The smallest byte string greater than every string starting with prefix, or
 * n = 0 if there is none (all 0xFF). */
static blob successor(const blob *prefix)
{
    blob s = {malloc(prefix->n + 1), prefix->n};
    if (s.p)
        memcpy(s.p, prefix->p, prefix->n);
    while (s.n && s.p[s.n - 1] == 0xFF)
        s.n--;
    if (s.n)
        s.p[s.n - 1]++;
    return s;
}

int ddb_op_query(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err)
{
    (void)extra;
    page p;
    ddb_request_exprs x;
    memset(&x, 0, sizeof x);
    blob hk = {0}, lo = {0}, hi = {0}, spk = {0}, ssk = {0}, sipk = {0}, sisk = {0};
    int rc = page_setup(m, req, 1, &p, &x, err);
    const ddb_keys *keys = p.ix ? &p.ix->keys : (p.t ? &p.t->keys : NULL);
    ddb_key_cond kc;
    memset(&kc, 0, sizeof kc);
    if (rc == CORE_OK)
        rc = ddb_expr_key_condition(x.key_condition, keys->hash, keys->range, &kc, err);
    if (rc == CORE_OK && (ddb_value_type(kc.hash_value) != keys->hash_type ||
                          (kc.op != DDB_KEY_NONE && ddb_value_type(kc.range_lo) != keys->range_type) ||
                          (kc.range_hi && ddb_value_type(kc.range_hi) != keys->range_type)))
        rc = ddb_validation(err, "One or more parameter values were invalid: Condition parameter "
                                 "type does not match schema type");
    if (rc == CORE_OK)
        rc = ddb_value_key_encode(kc.hash_value, &hk.p, &hk.n, err);
    if (rc == CORE_OK && kc.op != DDB_KEY_NONE)
        rc = ddb_value_key_encode(kc.range_lo, &lo.p, &lo.n, err);
    if (rc == CORE_OK && kc.range_hi)
        rc = ddb_value_key_encode(kc.range_hi, &hi.p, &hi.n, err);
    if (rc == CORE_OK && kc.op == DDB_KEY_BETWEEN && blob_cmp(&lo, &hi) > 0)
        rc = ddb_validation(err, "Invalid KeyConditionExpression: The BETWEEN operator requires "
                                 "upper bound to be greater than or equal to lower bound; lower "
                                 "bound operand: AttributeValue, upper bound operand: AttributeValue");
    int has_start = 0;
    if (rc == CORE_OK) {
        has_start = start_key(&p, req, &spk, &ssk, &sipk, &sisk, err);
        if (has_start < 0)
            rc = CORE_ERROR;
    }
    if (rc != CORE_OK)
        goto done;
    const cJSON *fwd = cJSON_GetObjectItemCaseSensitive(req, "ScanIndexForward");
    int forward = !fwd || cJSON_IsTrue(fwd);
    if (kc.op == DDB_KEY_BEGINS_WITH) {
        hi = successor(&lo);
        if (!hi.n)
            blob_free(&hi);
    }
    const char *skcol = p.ix ? "e.isk" : "sk";
    char cond[256] = "";
    switch (kc.op) {
    case DDB_KEY_EQ: snprintf(cond, sizeof cond, " AND %s = ?3", skcol); break;
    case DDB_KEY_LT: snprintf(cond, sizeof cond, " AND %s < ?3", skcol); break;
    case DDB_KEY_LE: snprintf(cond, sizeof cond, " AND %s <= ?3", skcol); break;
    case DDB_KEY_GT: snprintf(cond, sizeof cond, " AND %s > ?3", skcol); break;
    case DDB_KEY_GE: snprintf(cond, sizeof cond, " AND %s >= ?3", skcol); break;
    case DDB_KEY_BETWEEN: snprintf(cond, sizeof cond, " AND %s >= ?3 AND %s <= ?4", skcol, skcol); break;
    case DDB_KEY_BEGINS_WITH:
        snprintf(cond, sizeof cond, hi.p ? " AND %s >= ?3 AND %s < ?4" : " AND %s >= ?3", skcol, skcol);
        break;
    default: break;
    }
    char startc[128] = "";
    if (has_start)
        snprintf(startc, sizeof startc,
                 p.ix ? " AND (e.isk, e.pk, e.sk) %s (?5, ?6, ?7)" : " AND sk %s ?6",
                 forward ? ">" : "<");
    char sql[1024];
    const char *dir = forward ? "ASC" : "DESC";
    if (p.ix)
        snprintf(sql, sizeof sql,
                 "SELECT e.pk, e.sk, i.item, i.ttl, i.size FROM index_entries e JOIN items i"
                 " ON i.tbl = e.tbl AND i.pk = e.pk AND i.sk = e.sk"
                 " WHERE e.tbl = ?1 AND e.idx = ?8 AND e.ipk = ?2%s%s"
                 " ORDER BY e.isk %s, e.pk %s, e.sk %s", cond, startc, dir, dir, dir);
    else
        snprintf(sql, sizeof sql,
                 "SELECT pk, sk, item, ttl, size FROM items WHERE tbl = ?1 AND pk = ?2%s%s"
                 " ORDER BY sk %s", cond, startc, dir);
    sqlite3_stmt *st = core_store_stmt(m->store, sql, err);
    if (!st) {
        rc = CORE_ERROR;
        goto done;
    }
    sqlite3_bind_int(st, 1, p.t->id);
    sqlite3_bind_blob(st, 2, hk.p, (int)hk.n, SQLITE_STATIC);
    if (lo.p)
        sqlite3_bind_blob(st, 3, lo.p, (int)lo.n, SQLITE_STATIC);
    if (hi.p)
        sqlite3_bind_blob(st, 4, hi.p, (int)hi.n, SQLITE_STATIC);
    if (has_start) {
        if (p.ix)
            sqlite3_bind_blob(st, 5, sisk.p, (int)sisk.n, SQLITE_STATIC);
        sqlite3_bind_blob(st, 6, p.ix ? spk.p : ssk.p, (int)(p.ix ? spk.n : ssk.n), SQLITE_STATIC);
        if (p.ix)
            sqlite3_bind_blob(st, 7, ssk.p, (int)ssk.n, SQLITE_STATIC);
    }
    if (p.ix)
        sqlite3_bind_int(st, 8, p.ix->id);
    rc = run_page(&p, st, err);
    if (rc == CORE_OK)
        *resp = page_response(&p, req);
done:
    free(p.items);
    cJSON_Delete(p.last_key);
    blob_free(&hk);
    blob_free(&lo);
    blob_free(&hi);
    blob_free(&spk);
    blob_free(&ssk);
    blob_free(&sipk);
    blob_free(&sisk);
    ddb_exprs_release(&x);
    return rc;
}

int ddb_op_scan(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err)
{
    (void)extra;
    page p;
    ddb_request_exprs x;
    memset(&x, 0, sizeof x);
    blob spk = {0}, ssk = {0}, sipk = {0}, sisk = {0};
    int rc = page_setup(m, req, 0, &p, &x, err);
    const cJSON *seg = cJSON_GetObjectItemCaseSensitive(req, "Segment");
    const cJSON *tot = cJSON_GetObjectItemCaseSensitive(req, "TotalSegments");
    if (rc == CORE_OK && (seg || tot)) {
        if (!cJSON_IsNumber(seg) || !cJSON_IsNumber(tot))
            rc = ddb_validation(err, "The TotalSegments parameter is required but was not present in "
                                     "the request when parameter Segment is present");
        else if (tot->valuedouble < 1 || tot->valuedouble > 1000000)
            rc = ddb_validation(err, "1 validation error detected: Value '%d' at 'totalSegments' "
                                     "failed to satisfy constraint: Member must have value less than "
                                     "or equal to 1000000", tot->valueint);
        else if (seg->valuedouble < 0 || seg->valuedouble >= tot->valuedouble)
            rc = ddb_validation(err, "The Segment parameter is zero-based and must be less than "
                                     "parameter TotalSegments: Segment: %d is not less than "
                                     "TotalSegments: %d", seg->valueint, tot->valueint);
        else {
            p.segment = seg->valueint;
            p.total_segments = tot->valueint;
        }
    }
    int has_start = 0;
    if (rc == CORE_OK) {
        has_start = start_key(&p, req, &spk, &ssk, &sipk, &sisk, err);
        if (has_start < 0)
            rc = CORE_ERROR;
    }
    if (rc != CORE_OK)
        goto done;
    const char *sql;
    if (p.ix)
        sql = has_start ? "SELECT e.pk, e.sk, i.item, i.ttl, i.size FROM index_entries e JOIN items i"
                          " ON i.tbl = e.tbl AND i.pk = e.pk AND i.sk = e.sk WHERE e.tbl = ?1 AND"
                          " e.idx = ?8 AND (e.ipk, e.isk, e.pk, e.sk) > (?4, ?5, ?6, ?7)"
                          " ORDER BY e.ipk, e.isk, e.pk, e.sk"
                        : "SELECT e.pk, e.sk, i.item, i.ttl, i.size FROM index_entries e JOIN items i"
                          " ON i.tbl = e.tbl AND i.pk = e.pk AND i.sk = e.sk WHERE e.tbl = ?1 AND"
                          " e.idx = ?8 ORDER BY e.ipk, e.isk, e.pk, e.sk";
    else
        sql = has_start ? "SELECT pk, sk, item, ttl, size FROM items WHERE tbl = ?1 AND"
                          " (pk, sk) > (?6, ?7) ORDER BY pk, sk"
                        : "SELECT pk, sk, item, ttl, size FROM items WHERE tbl = ?1 ORDER BY pk, sk";
    sqlite3_stmt *st = core_store_stmt(m->store, sql, err);
    if (!st) {
        rc = CORE_ERROR;
        goto done;
    }
    sqlite3_bind_int(st, 1, p.t->id);
    if (has_start) {
        if (p.ix) {
            sqlite3_bind_blob(st, 4, sipk.p, (int)sipk.n, SQLITE_STATIC);
            sqlite3_bind_blob(st, 5, sisk.p, (int)sisk.n, SQLITE_STATIC);
        }
        sqlite3_bind_blob(st, 6, spk.p, (int)spk.n, SQLITE_STATIC);
        sqlite3_bind_blob(st, 7, ssk.p, (int)ssk.n, SQLITE_STATIC);
    }
    if (p.ix)
        sqlite3_bind_int(st, 8, p.ix->id);
    rc = run_page(&p, st, err);
    if (rc == CORE_OK)
        *resp = page_response(&p, req);
done:
    free(p.items);
    cJSON_Delete(p.last_key);
    blob_free(&spk);
    blob_free(&ssk);
    blob_free(&sipk);
    blob_free(&sisk);
    ddb_exprs_release(&x);
    return rc;
}
