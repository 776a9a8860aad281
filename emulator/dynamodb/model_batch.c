/*
 * model_batch.c — BatchGetItem, BatchWriteItem, TransactWriteItems,
 * TransactGetItems.
 *
 * All run whole under the model lock, so every one is isolated; the write
 * operations apply their writes inside one SQLite savepoint, so a failure midway
 * leaves nothing behind. TransactWriteItems checks every condition before it
 * writes anything and answers TransactionCanceledException with one reason per
 * request item, in request order. A ClientRequestToken makes a retried
 * transaction a no-op for ten minutes (the idempotency window AWS documents).
 */
#include "dynamodb/model_impl.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_GET_MAX 100
#define BATCH_WRITE_MAX 25
#define TRANSACT_MAX 100
#define TOKEN_WINDOW_MS (10 * 60 * 1000)

static const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A "table|pk|sk" identity for duplicate detection (caller frees). */
static char *identity(const ddb_table *t, const unsigned char *pk, size_t pl,
                      const unsigned char *sk, size_t sl)
{
    size_t n = strlen(t->name) + 2 * (pl + sl) + 4;
    char *s = malloc(n);
    if (!s)
        return NULL;
    size_t k = (size_t)snprintf(s, n, "%s|", t->name);
    for (size_t i = 0; i < pl; i++)
        k += (size_t)snprintf(s + k, n - k, "%02x", pk[i]);
    s[k++] = '|';
    for (size_t i = 0; i < sl; i++)
        k += (size_t)snprintf(s + k, n - k, "%02x", sk[i]);
    s[k] = '\0';
    return s;
}

static int seen_before(cJSON *seen, char *id)
{
    if (!id)
        return 0;
    int dup = cJSON_GetObjectItemCaseSensitive(seen, id) != NULL;
    if (!dup)
        cJSON_AddTrueToObject(seen, id);
    free(id);
    return dup;
}

/* ---- BatchGetItem --------------------------------------------------------- */

int ddb_op_batch_get_item(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err)
{
    (void)extra;
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(req, "RequestItems");
    if (!cJSON_IsObject(items) || !items->child)
        return ddb_validation(err, "1 validation error detected: Value null at 'requestItems' "
                                   "failed to satisfy constraint: Member must have length greater "
                                   "than or equal to 1");
    int total = 0;
    const cJSON *tr;
    cJSON_ArrayForEach(tr, items)
    total += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tr, "Keys"));
    if (total > BATCH_GET_MAX)
        return ddb_validation(err, "Too many items requested for the BatchGetItem call");
    cJSON *out = cJSON_CreateObject();
    cJSON *responses = cJSON_AddObjectToObject(out, "Responses");
    cJSON *seen = cJSON_CreateObject();
    int rc = CORE_OK;
    cJSON_ArrayForEach(tr, items)
    {
        ddb_table *t = ddb_table_get(m, tr->string, err);
        const cJSON *keys = cJSON_GetObjectItemCaseSensitive(tr, "Keys");
        if (!t) {
            rc = CORE_ERROR;
            break;
        }
        if (!cJSON_IsArray(keys) || !cJSON_GetArraySize(keys)) {
            rc = ddb_validation(err, "1 validation error detected: Value null at "
                                     "'requestItems.%s.member.keys' failed to satisfy constraint: "
                                     "Member must have length greater than or equal to 1", t->name);
            break;
        }
        ddb_request_exprs x;
        if (ddb_exprs_parse(tr, 0, 0, 0, 0, 1, &x, err) != CORE_OK) {
            ddb_exprs_release(&x);
            rc = CORE_ERROR;
            break;
        }
        cJSON *list = cJSON_AddArrayToObject(responses, t->name);
        const cJSON *k;
        cJSON_ArrayForEach(k, keys)
        {
            unsigned char *pk, *sk;
            size_t pl, sl;
            if (ddb_key_param(t, k, &pk, &pl, &sk, &sl, err) != CORE_OK) {
                rc = CORE_ERROR;
                break;
            }
            if (seen_before(seen, identity(t, pk, pl, sk, sl))) {
                free(pk);
                free(sk);
                rc = ddb_validation(err, "Provided list of item keys contains duplicates");
                break;
            }
            int failed;
            cJSON *item = ddb_item_load(m, t, pk, pl, sk, sl, err, &failed);
            free(pk);
            free(sk);
            if (failed) {
                rc = CORE_ERROR;
                break;
            }
            if (item && x.projection) {
                cJSON *p = ddb_expr_project(x.projection, item);
                cJSON_Delete(item);
                item = p;
            }
            if (item)
                cJSON_AddItemToArray(list, item);
        }
        ddb_exprs_release(&x);
        if (rc != CORE_OK)
            break;
    }
    cJSON_Delete(seen);
    if (rc != CORE_OK) {
        cJSON_Delete(out);
        return CORE_ERROR;
    }
    cJSON_AddObjectToObject(out, "UnprocessedKeys");
    *resp = out;
    return CORE_OK;
}

/* ---- BatchWriteItem ------------------------------------------------------- */

int ddb_op_batch_write_item(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra,
                            core_err *err)
{
    (void)extra;
    cJSON *items = cJSON_GetObjectItemCaseSensitive(req, "RequestItems");
    if (!cJSON_IsObject(items) || !items->child)
        return ddb_validation(err, "1 validation error detected: Value null at 'requestItems' "
                                   "failed to satisfy constraint: Member must have length greater "
                                   "than or equal to 1");
    int total = 0;
    cJSON *tr;
    cJSON_ArrayForEach(tr, items)
    total += cJSON_IsArray(tr) ? cJSON_GetArraySize(tr) : 0;
    if (total > BATCH_WRITE_MAX)
        return ddb_validation(err, "Too many items requested for the BatchWriteItem call");
    ddb_write *writes = calloc((size_t)total + 1, sizeof *writes);
    cJSON *seen = cJSON_CreateObject();
    int n = 0, rc = CORE_OK;
    cJSON_ArrayForEach(tr, items)
    {
        if (!cJSON_IsArray(tr) || !cJSON_GetArraySize(tr)) {
            rc = ddb_validation(err, "1 validation error detected: Value at 'requestItems.%s' "
                                     "failed to satisfy constraint: Member must have length "
                                     "greater than or equal to 1", tr->string);
            break;
        }
        cJSON *r;
        cJSON_ArrayForEach(r, tr)
        {
            cJSON *put = cJSON_GetObjectItemCaseSensitive(r, "PutRequest");
            cJSON *del = cJSON_GetObjectItemCaseSensitive(r, "DeleteRequest");
            if (!!put == !!del) {
                rc = ddb_validation(err, "Supplied AttributeValue has more than one datatypes set, "
                                         "must contain exactly one of the supported datatypes");
                break;
            }
            cJSON *sub = cJSON_CreateObject();
            cJSON_AddStringToObject(sub, "TableName", tr->string);
            cJSON *body = put ? cJSON_GetObjectItemCaseSensitive(put, "Item")
                              : cJSON_GetObjectItemCaseSensitive(del, "Key");
            if (body)
                cJSON_AddItemReferenceToObject(sub, put ? "Item" : "Key", body);
            rc = ddb_write_prepare(m, put ? 'P' : 'D', sub, &writes[n], err);
            n++;
            if (rc == CORE_OK && put)
                writes[n - 1].new_item = cJSON_Duplicate(body, 1);
            cJSON_Delete(sub);
            if (rc == CORE_OK &&
                seen_before(seen, identity(writes[n - 1].table, writes[n - 1].pk, writes[n - 1].pk_len,
                                           writes[n - 1].sk, writes[n - 1].sk_len)))
                rc = ddb_validation(err, "Provided list of item keys contains duplicates");
            if (rc != CORE_OK)
                break;
        }
        if (rc != CORE_OK)
            break;
    }
    cJSON_Delete(seen);
    if (rc == CORE_OK)
        rc = ddb_writes_apply(m, writes, (size_t)n, err);
    for (int i = 0; i < n; i++)
        ddb_write_release(&writes[i]);
    free(writes);
    if (rc != CORE_OK)
        return CORE_ERROR;
    *resp = cJSON_CreateObject();
    cJSON_AddObjectToObject(*resp, "UnprocessedItems");
    return CORE_OK;
}

/* ---- TransactWriteItems --------------------------------------------------- */

static int token_check(ddb_model *m, const char *token, const char *digest, int *replay,
                       core_err *err)
{
    *replay = 0;
    sqlite3_stmt *st = core_store_stmt(
        m->store, "SELECT digest, created_ms FROM tx_tokens WHERE token = ?1", err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
    int rc = CORE_OK;
    if (sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_int64(st, 1) + TOKEN_WINDOW_MS > core_clock_now_ms(m->clock)) {
        if (strcmp((const char *)sqlite3_column_text(st, 0), digest) == 0)
            *replay = 1;
        else
            rc = core_err_set(err, 400, "IdempotentParameterMismatchException",
                              "The request uses the same client token as a previous, but "
                              "non-identical request.");
    }
    sqlite3_reset(st);
    return rc;
}

static int token_store(ddb_model *m, const char *token, const char *digest, core_err *err)
{
    sqlite3_stmt *st = core_store_stmt(
        m->store, "INSERT OR REPLACE INTO tx_tokens(token, digest, created_ms) VALUES (?1, ?2, ?3)",
        err);
    if (!st)
        return CORE_ERROR;
    sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, core_clock_now_ms(m->clock));
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CORE_OK : core_err_set(err, 500, "InternalServerError", "token");
}

static void request_digest(const cJSON *items, char out[65])
{
    char *text = cJSON_PrintUnformatted(items);
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)(text ? text : ""), text ? strlen(text) : 0, d);
    free(text);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int ddb_op_transact_write_items(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra,
                                core_err *err)
{
    cJSON *items = cJSON_GetObjectItemCaseSensitive(req, "TransactItems");
    int n = cJSON_IsArray(items) ? cJSON_GetArraySize(items) : 0;
    if (n < 1 || n > TRANSACT_MAX)
        return ddb_validation(err, "1 validation error detected: Value at 'transactItems' failed "
                                   "to satisfy constraint: Member must have length %s",
                              n < 1 ? "greater than or equal to 1" : "less than or equal to 100");
    const char *token = str_of(req, "ClientRequestToken");
    char digest[65];
    request_digest(items, digest);
    if (token) {
        int replay;
        if (token_check(m, token, digest, &replay, err) != CORE_OK)
            return CORE_ERROR;
        if (replay) {
            *resp = cJSON_CreateObject();
            return CORE_OK;
        }
    }
    ddb_write *w = calloc((size_t)n, sizeof *w);
    cJSON *seen = cJSON_CreateObject();
    int rc = CORE_OK, i = 0;
    static const struct {
        const char *name;
        int kind;
    } kinds[] = {{"Put", 'P'}, {"Update", 'U'}, {"Delete", 'D'}, {"ConditionCheck", 'C'}};
    cJSON *ti;
    cJSON_ArrayForEach(ti, items)
    {
        cJSON *body = NULL;
        int kind = 0, found = 0;
        for (size_t k = 0; k < 4; k++) {
            cJSON *b = cJSON_GetObjectItemCaseSensitive(ti, kinds[k].name);
            if (b) {
                body = b;
                kind = kinds[k].kind;
                found++;
            }
        }
        if (found != 1) {
            rc = ddb_validation(err, "TransactItems can only contain one of Check, Put, Update or "
                                     "Delete");
            break;
        }
        rc = ddb_write_prepare(m, kind, body, &w[i], err);
        i++;
        if (rc != CORE_OK)
            break;
        if (seen_before(seen, identity(w[i - 1].table, w[i - 1].pk, w[i - 1].pk_len, w[i - 1].sk,
                                       w[i - 1].sk_len))) {
            rc = ddb_validation(err, "Transaction request cannot include multiple operations on "
                                     "one item");
            break;
        }
    }
    cJSON_Delete(seen);
    if (rc == CORE_OK) {
        /* Every condition and every new item first; write only if all hold. */
        cJSON *reasons = cJSON_CreateArray();
        char codes[2048] = "";
        size_t used = 0;
        int cancelled = 0;
        i = 0;
        cJSON_ArrayForEach(ti, items)
        {
            cJSON *reason = cJSON_CreateObject();
            core_err cerr;
            core_err_clear(&cerr);
            int ok = ddb_write_condition(&w[i], &cerr);
            const char *code = "None";
            if (ok == 0) {
                code = "ConditionalCheckFailed";
                cJSON_AddStringToObject(reason, "Code", code);
                cJSON_AddStringToObject(reason, "Message", "The conditional request failed");
                cJSON *body = NULL;
                for (size_t k = 0; k < 4 && !body; k++)
                    body = cJSON_GetObjectItemCaseSensitive(ti, kinds[k].name);
                const char *rv = str_of(body, "ReturnValuesOnConditionCheckFailure");
                if (rv && !strcmp(rv, "ALL_OLD") && w[i].old)
                    cJSON_AddItemToObject(reason, "Item", cJSON_Duplicate(w[i].old, 1));
            } else if (ok < 0) {
                code = "ValidationError";
                cJSON_AddStringToObject(reason, "Code", code);
                cJSON_AddStringToObject(reason, "Message", cerr.message);
            } else {
                cJSON *body = NULL;
                for (size_t k = 0; k < 4 && !body; k++)
                    body = cJSON_GetObjectItemCaseSensitive(ti, kinds[k].name);
                if (w[i].kind == 'P')
                    w[i].new_item = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(body, "Item"), 1);
                else if (w[i].kind == 'U') {
                    w[i].new_item = w[i].old ? cJSON_Duplicate(w[i].old, 1)
                                             : cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(body, "Key"), 1);
                    if (w[i].exprs.update &&
                        ddb_expr_update_apply_ex(w[i].exprs.update, w[i].new_item, w[i].old != NULL, &cerr) != CORE_OK) {
                        code = "ValidationError";
                        cJSON_AddStringToObject(reason, "Code", code);
                        cJSON_AddStringToObject(reason, "Message", cerr.message);
                    } else if (ddb_item_size(w[i].new_item) > DDB_MAX_ITEM_BYTES) {
                        code = "ValidationError";
                        cJSON_AddStringToObject(reason, "Code", code);
                        cJSON_AddStringToObject(reason, "Message",
                                                "Item size has exceeded the maximum allowed size");
                    }
                }
                if (!strcmp(code, "None"))
                    cJSON_AddStringToObject(reason, "Code", "None");
            }
            if (strcmp(code, "None"))
                cancelled = 1;
            used += (size_t)snprintf(codes + used, used < sizeof codes ? sizeof codes - used : 0,
                                     "%s%s", i ? ", " : "", code);
            cJSON_AddItemToArray(reasons, reason);
            i++;
        }
        if (cancelled) {
            *extra = cJSON_CreateObject();
            cJSON_AddItemToObject(*extra, "CancellationReasons", reasons);
            rc = core_err_set(err, 400, "TransactionCanceledException",
                              "Transaction cancelled, please refer cancellation reasons for "
                              "specific reasons [%s]", codes);
        } else {
            cJSON_Delete(reasons);
            core_store_run(m->store, "SAVEPOINT t", err);
            rc = ddb_writes_apply(m, w, (size_t)n, err);
            if (rc == CORE_OK && token)
                rc = token_store(m, token, digest, err);
            if (rc != CORE_OK)
                core_store_run(m->store, "ROLLBACK TO t", err);
            core_store_run(m->store, "RELEASE t", err);
        }
    }
    for (int k = 0; k < n; k++)
        ddb_write_release(&w[k]);
    free(w);
    if (rc != CORE_OK)
        return CORE_ERROR;
    *resp = cJSON_CreateObject();
    return CORE_OK;
}

/* ---- TransactGetItems ----------------------------------------------------- */

int ddb_op_transact_get_items(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra,
                              core_err *err)
{
    (void)extra;
    cJSON *items = cJSON_GetObjectItemCaseSensitive(req, "TransactItems");
    int n = cJSON_IsArray(items) ? cJSON_GetArraySize(items) : 0;
    if (n < 1 || n > TRANSACT_MAX)
        return ddb_validation(err, "1 validation error detected: Value at 'transactItems' failed "
                                   "to satisfy constraint: Member must have length %s",
                              n < 1 ? "greater than or equal to 1" : "less than or equal to 100");
    cJSON *out = cJSON_CreateObject();
    cJSON *responses = cJSON_AddArrayToObject(out, "Responses");
    cJSON *ti;
    cJSON_ArrayForEach(ti, items)
    {
        cJSON *get = cJSON_GetObjectItemCaseSensitive(ti, "Get");
        ddb_table *t = get ? ddb_table_from_request(m, get, err) : NULL;
        if (!get)
            ddb_validation(err, "TransactItems can only contain Get");
        unsigned char *pk = NULL, *sk = NULL;
        size_t pl, sl;
        ddb_request_exprs x;
        memset(&x, 0, sizeof x);
        if (!t || ddb_key_param(t, cJSON_GetObjectItemCaseSensitive(get, "Key"), &pk, &pl, &sk, &sl,
                                err) != CORE_OK ||
            ddb_exprs_parse(get, 0, 0, 0, 0, 1, &x, err) != CORE_OK) {
            free(pk);
            free(sk);
            ddb_exprs_release(&x);
            cJSON_Delete(out);
            return CORE_ERROR;
        }
        int failed;
        cJSON *item = ddb_item_load(m, t, pk, pl, sk, sl, err, &failed);
        free(pk);
        free(sk);
        cJSON *r = cJSON_CreateObject();
        if (item) {
            if (x.projection) {
                cJSON *p = ddb_expr_project(x.projection, item);
                cJSON_Delete(item);
                item = p;
            }
            cJSON_AddItemToObject(r, "Item", item);
        }
        cJSON_AddItemToArray(responses, r);
        ddb_exprs_release(&x);
        if (failed) {
            cJSON_Delete(out);
            return CORE_ERROR;
        }
    }
    *resp = out;
    return CORE_OK;
}
