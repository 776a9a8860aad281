/*
 * model_item.c — single-item operations: PutItem, GetItem, UpdateItem, DeleteItem,
 * and the write steps they share with TransactWriteItems (ddb_write_*).
 *
 * A write runs in four steps, all under the model lock: prepare (validate the
 * request, load the stored item), condition (ConditionExpression against the
 * stored item), compute (the new item: Put's Item, or the UpdateExpression applied
 * to a copy of the stored one), store. Transactions run every prepare and
 * condition first and store only if all hold.
 */
#include "dynamodb/model_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void ddb_write_release(ddb_write *w)
{
    free(w->pk);
    free(w->sk);
    cJSON_Delete(w->old);
    cJSON_Delete(w->new_item);
    ddb_exprs_release(&w->exprs);
    memset(w, 0, sizeof *w);
}

static int check_index_keys(const ddb_table *t, const cJSON *item, core_err *err)
{
    for (size_t i = 0; i < t->n_indexes; i++) {
        unsigned char *a, *b;
        size_t al, bl;
        int r = ddb_keys_encode(&t->indexes[i].keys, item, t->indexes[i].name, &a, &al, &b, &bl, err);
        if (r == CORE_ERROR)
            return CORE_ERROR;
        if (r == 1) {
            free(a);
            free(b);
        }
    }
    return CORE_OK;
}

static int check_size(const cJSON *item, core_err *err)
{
    if (ddb_item_size(item) > DDB_MAX_ITEM_BYTES)
        return ddb_validation(err, "Item size has exceeded the maximum allowed size");
    return CORE_OK;
}

int ddb_write_prepare(ddb_model *m, int kind, cJSON *req, ddb_write *w, core_err *err)
{
    memset(w, 0, sizeof *w);
    w->kind = kind;
    w->table = ddb_table_from_request(m, req, err);
    if (!w->table)
        return CORE_ERROR;
    const ddb_table *t = w->table;
    if (kind == 'P') {
        cJSON *item = cJSON_GetObjectItemCaseSensitive(req, "Item");
        if (!cJSON_IsObject(item))
            return ddb_validation(err, "1 validation error detected: Value null at 'item' failed "
                                       "to satisfy constraint: Member must not be null");
        if (ddb_item_validate(item, err) != CORE_OK)
            return CORE_ERROR;
        const char *names[2] = {t->keys.hash, t->keys.range};
        for (int i = 0; i < 2; i++)
            if (names[i] && !cJSON_GetObjectItemCaseSensitive(item, names[i]))
                return ddb_validation(err, "One or more parameter values were invalid: Missing "
                                           "the key %s in the item", names[i]);
        if (check_size(item, err) != CORE_OK)
            return CORE_ERROR;
        if (ddb_keys_encode(&t->keys, item, NULL, &w->pk, &w->pk_len, &w->sk, &w->sk_len, err) != 1)
            return CORE_ERROR;
        if (check_index_keys(t, item, err) != CORE_OK)
            return CORE_ERROR;
    } else {
        if (ddb_key_param(t, cJSON_GetObjectItemCaseSensitive(req, "Key"), &w->pk, &w->pk_len,
                          &w->sk, &w->sk_len, err) != CORE_OK)
            return CORE_ERROR;
    }
    if (kind == 'C' && !cJSON_GetObjectItemCaseSensitive(req, "ConditionExpression"))
        return ddb_validation(err, "1 validation error detected: Value null at "
                                   "'conditionExpression' failed to satisfy constraint: Member "
                                   "must not be null");
    if (ddb_exprs_parse(req, 1, 0, 0, kind == 'U', 0, &w->exprs, err) != CORE_OK)
        return CORE_ERROR;
    if (w->exprs.update) {
        const char *keys[2] = {t->keys.hash, t->keys.range};
        for (int i = 0; i < 2; i++)
            if (keys[i] && ddb_expr_update_touches(w->exprs.update, keys[i]))
                return ddb_validation(err, "One or more parameter values were invalid: Cannot "
                                           "update attribute %s. This attribute is part of the key",
                                      keys[i]);
    }
    /* A plain Put or Delete of a table without indexes that asks nothing back does
     * not need the stored item: skip reading it (the common write path). */
    const char *rv = str_of(req, "ReturnValues");
    int need_old = kind == 'U' || kind == 'C' || w->exprs.condition || t->n_indexes ||
                   (rv && strcmp(rv, "NONE")) || str_of(req, "ReturnConsumedCapacity");
    if (!need_old)
        return CORE_OK;
    int failed;
    w->old = ddb_item_load(m, t, w->pk, w->pk_len, w->sk, w->sk_len, err, &failed);
    return failed ? CORE_ERROR : CORE_OK;
}

int ddb_write_condition(const ddb_write *w, core_err *err)
{
    if (!w->exprs.condition)
        return 1;
    int ok = 0;
    if (ddb_expr_eval(w->exprs.condition, w->old, &ok, err) != CORE_OK)
        return CORE_ERROR;
    return ok;
}

/* The new item of a Put or Update (into w->new_item). */
static int write_compute(ddb_write *w, cJSON *req, core_err *err)
{
    if (w->kind == 'P') {
        w->new_item = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(req, "Item"), 1);
        return CORE_OK;
    }
    if (w->kind != 'U')
        return CORE_OK;
    if (w->old) {
        w->new_item = cJSON_Duplicate(w->old, 1);
    } else {
        w->new_item = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(req, "Key"), 1);
        ddb_item_validate(w->new_item, err);
    }
    if (w->exprs.update && ddb_expr_update_apply_ex(w->exprs.update, w->new_item, w->old != NULL, err) != CORE_OK)
        return CORE_ERROR;
    if (check_size(w->new_item, err) != CORE_OK)
        return CORE_ERROR;
    return check_index_keys(w->table, w->new_item, err);
}

int ddb_write_apply(ddb_model *m, ddb_write *w, core_err *err)
{
    switch (w->kind) {
    case 'P':
    case 'U':
        return ddb_item_store(m, w->table, w->new_item, w->old, w->pk, w->pk_len, w->sk,
                              w->sk_len, err);
    case 'D':
        return ddb_item_remove(m, w->table, w->old, w->pk, w->pk_len, w->sk, w->sk_len, err);
    default:
        return CORE_OK;
    }
}

int ddb_writes_apply(ddb_model *m, ddb_write *w, size_t n, core_err *err)
{
    /* One write to a table without indexes is one statement (INSERT OR REPLACE or
     * DELETE), atomic by itself: no savepoint around it (two statements fewer on
     * the hottest write path). */
    if (n == 1 && w[0].table->n_indexes == 0)
        return ddb_write_apply(m, &w[0], err);
    if (core_store_run(m->store, "SAVEPOINT w", err) != CORE_OK)
        return CORE_ERROR;
    int rc = CORE_OK;
    for (size_t i = 0; i < n && rc == CORE_OK; i++)
        rc = ddb_write_apply(m, &w[i], err);
    if (rc != CORE_OK)
        core_store_run(m->store, "ROLLBACK TO w", err);
    core_store_run(m->store, "RELEASE w", err);
    return rc;
}

static int condition_failed(const ddb_write *w, const cJSON *req, cJSON **extra, core_err *err)
{
    const char *rv = str_of(req, "ReturnValuesOnConditionCheckFailure");
    if (rv && !strcmp(rv, "ALL_OLD") && w->old) {
        *extra = cJSON_CreateObject();
        cJSON_AddItemToObject(*extra, "Item", cJSON_Duplicate(w->old, 1));
    }
    return core_err_set(err, 400, "ConditionalCheckFailedException", "The conditional request failed");
}

static int check_return_values(const cJSON *req, const char *const *allowed, core_err *err)
{
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(req, "ReturnValues");
    if (!rv)
        return CORE_OK;
    if (cJSON_IsString(rv))
        for (size_t i = 0; allowed[i]; i++)
            if (!strcmp(rv->valuestring, allowed[i]))
                return CORE_OK;
    return ddb_validation(err, "Return values set to invalid value");
}

static double write_units(const cJSON *a, const cJSON *b)
{
    size_t s = a ? ddb_item_size(a) : 0, t = b ? ddb_item_size(b) : 0;
    size_t n = s > t ? s : t;
    return n ? ceil((double)n / 1024.0) : 1;
}

/* Put, Update and Delete share everything but their verb. */
static int single_write(ddb_model *m, int kind, cJSON *req, cJSON **resp, cJSON **extra,
                        core_err *err)
{
    static const char *const put_rv[] = {"NONE", "ALL_OLD", NULL};
    static const char *const upd_rv[] = {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW", NULL};
    if (check_return_values(req, kind == 'U' ? upd_rv : put_rv, err) != CORE_OK)
        return CORE_ERROR;
    ddb_write w;
    int rc = ddb_write_prepare(m, kind, req, &w, err);
    if (rc == CORE_OK) {
        int ok = ddb_write_condition(&w, err);
        if (ok == 0)
            rc = condition_failed(&w, req, extra, err);
        else if (ok < 0)
            rc = CORE_ERROR;
    }
    if (rc == CORE_OK)
        rc = write_compute(&w, req, err);
    if (rc == CORE_OK)
        rc = ddb_writes_apply(m, &w, 1, err);
    if (rc != CORE_OK) {
        ddb_write_release(&w);
        return CORE_ERROR;
    }
    *resp = cJSON_CreateObject();
    const char *rv = str_of(req, "ReturnValues");
    cJSON *attrs = NULL;
    if (rv && !strcmp(rv, "ALL_OLD") && w.old)
        attrs = cJSON_Duplicate(w.old, 1);
    else if (rv && !strcmp(rv, "ALL_NEW") && w.new_item)
        attrs = cJSON_Duplicate(w.new_item, 1);
    else if (rv && !strcmp(rv, "UPDATED_OLD") && w.old && w.exprs.update)
        attrs = ddb_expr_project(w.exprs.update, w.old);
    else if (rv && !strcmp(rv, "UPDATED_NEW") && w.exprs.update)
        attrs = ddb_expr_project(w.exprs.update, w.new_item);
    if (attrs && attrs->child)
        cJSON_AddItemToObject(*resp, "Attributes", attrs);
    else
        cJSON_Delete(attrs);
    ddb_add_consumed(*resp, req, w.table->name, write_units(w.old, w.new_item));
    ddb_write_release(&w);
    return CORE_OK;
}

int ddb_op_put_item(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err)
{
    return single_write(m, 'P', req, resp, extra, err);
}

int ddb_op_update_item(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err)
{
    if (cJSON_GetObjectItemCaseSensitive(req, "AttributeUpdates") ||
        cJSON_GetObjectItemCaseSensitive(req, "Expected"))
        return ddb_validation(err, "shoplocal supports UpdateExpression and ConditionExpression; "
                                   "the legacy AttributeUpdates and Expected parameters are not "
                                   "emulated");
    return single_write(m, 'U', req, resp, extra, err);
}

int ddb_op_delete_item(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err)
{
    return single_write(m, 'D', req, resp, extra, err);
}

int ddb_op_get_item(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err)
{
    (void)extra;
    ddb_table *t = ddb_table_from_request(m, req, err);
    if (!t)
        return CORE_ERROR;
    if (cJSON_GetObjectItemCaseSensitive(req, "AttributesToGet"))
        return ddb_validation(err, "shoplocal supports ProjectionExpression; the legacy "
                                   "AttributesToGet parameter is not emulated");
    unsigned char *pk, *sk;
    size_t pk_len, sk_len;
    if (ddb_key_param(t, cJSON_GetObjectItemCaseSensitive(req, "Key"), &pk, &pk_len, &sk,
                      &sk_len, err) != CORE_OK)
        return CORE_ERROR;
    ddb_request_exprs x;
    if (ddb_exprs_parse(req, 0, 0, 0, 0, 1, &x, err) != CORE_OK) {
        ddb_exprs_release(&x);
        free(pk);
        free(sk);
        return CORE_ERROR;
    }
    int failed;
    size_t size = 0;
    char *text = ddb_item_load_text(m, t, pk, pk_len, sk, sk_len, &size, err, &failed);
    free(pk);
    free(sk);
    if (failed) {
        ddb_exprs_release(&x);
        return CORE_ERROR;
    }
    *resp = cJSON_CreateObject();
    double units = 0.5;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "ConsistentRead")))
        units = 1;
    if (text) {
        units *= ceil((double)size / 4096.0);
        if (x.projection) {
            cJSON *item = cJSON_Parse(text);
            cJSON_AddItemToObject(*resp, "Item", ddb_expr_project(x.projection, item));
            cJSON_Delete(item);
        } else {
            cJSON_AddRawToObject(*resp, "Item", text); /* sent back as stored */
        }
        free(text);
    }
    ddb_add_consumed(*resp, req, t->name, units);
    ddb_exprs_release(&x);
    return CORE_OK;
}
