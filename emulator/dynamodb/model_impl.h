/*
 * model_impl.h — internals shared by the model's files (model_table.c: tables and
 * storage; model_item.c: single-item operations; model_query.c: Query and Scan;
 * model_batch.c: batch and transaction operations). Not for other modules.
 */
#ifndef DDB_MODEL_IMPL_H
#define DDB_MODEL_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/store.h"
#include "dynamodb/ddb.h"
#include "dynamodb/expr.h"
#include "dynamodb/value.h"

#define DDB_MAX_GSI 20
#define DDB_MAX_LSI 5
#define DDB_PAGE_BYTES (1024 * 1024)

typedef enum ddb_projection {
    DDB_PROJ_ALL,
    DDB_PROJ_KEYS_ONLY,
    DDB_PROJ_INCLUDE,
} ddb_projection;

typedef struct ddb_keys {
    char *hash;
    ddb_type hash_type;
    char *range; /* NULL: no sort key */
    ddb_type range_type;
} ddb_keys;

typedef struct ddb_index {
    int id;          /* stable number in index_entries.idx */
    char *name;
    int local;       /* LSI */
    ddb_keys keys;
    ddb_projection projection;
    char **include;  /* NonKeyAttributes */
    size_t n_include;
} ddb_index;

typedef struct ddb_table {
    int id;
    char *name;
    cJSON *spec;     /* the persisted description (CreateTable shape + our fields) */
    ddb_keys keys;
    ddb_index *indexes;
    size_t n_indexes;
    char *ttl_attr;  /* NULL unless TTL is enabled */
    struct ddb_table *next;
} ddb_table;

struct ddb_model {
    core_store *store;
    core_clock *clock;
    char *region;
    pthread_mutex_t lock;
    ddb_table *tables;
    int next_table_id;
};

/* Errors with the DynamoDB types the wire layer knows. */
int ddb_validation(core_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ddb_not_found(core_err *err);

/* The table named in req["TableName"] (or `name`), under the lock. */
ddb_table *ddb_table_get(ddb_model *m, const char *name, core_err *err);
ddb_table *ddb_table_from_request(ddb_model *m, const cJSON *req, core_err *err);
const ddb_index *ddb_table_index(const ddb_table *t, const char *name);

/* Encoded key of an item for a key schema. Returns 1 with pk and sk filled (caller
 * frees), 0 if the item lacks a key attribute (sparse index: no entry), or
 * CORE_ERROR for a wrong type / empty key (err filled; `what` names the index for
 * messages, NULL for the table). */
int ddb_keys_encode(const ddb_keys *k, const cJSON *item, const char *index_name,
                    unsigned char **pk, size_t *pk_len, unsigned char **sk, size_t *sk_len,
                    core_err *err);

/* Validate a Key parameter (exactly the table's key attributes, right types) and
 * encode it. */
int ddb_key_param(const ddb_table *t, const cJSON *key, unsigned char **pk, size_t *pk_len,
                  unsigned char **sk, size_t *sk_len, core_err *err);

/* The stored item at (pk, sk), parsed (caller owns), or NULL if absent or expired. */
cJSON *ddb_item_load(ddb_model *m, const ddb_table *t, const unsigned char *pk, size_t pk_len,
                     const unsigned char *sk, size_t sk_len, core_err *err, int *failed);

/* The stored item's text as stored (caller frees) and its size, or NULL if absent or
 * expired: for answers that send the item back unchanged. */
char *ddb_item_load_text(ddb_model *m, const ddb_table *t, const unsigned char *pk,
                         size_t pk_len, const unsigned char *sk, size_t sk_len, size_t *size,
                         core_err *err, int *failed);

/* Write item (replacing any old one) with its index entries; old may be NULL. */
int ddb_item_store(ddb_model *m, const ddb_table *t, const cJSON *item, const cJSON *old,
                   const unsigned char *pk, size_t pk_len, const unsigned char *sk,
                   size_t sk_len, core_err *err);

/* Delete the item at (pk, sk) and its index entries (old is the stored item). */
int ddb_item_remove(ddb_model *m, const ddb_table *t, const cJSON *old,
                    const unsigned char *pk, size_t pk_len, const unsigned char *sk,
                    size_t sk_len, core_err *err);

/* Only the key attributes of item for the table (and index, if any). */
cJSON *ddb_item_key_of(const ddb_table *t, const ddb_index *ix, const cJSON *item);

/* Now, in epoch seconds, for TTL. */
int64_t ddb_now_s(ddb_model *m);

/* Parse the expressions a request carries into ctx-bound trees. Any of the out
 * pointers may be NULL when the operation does not take that expression. */
typedef struct ddb_request_exprs {
    ddb_expr_ctx *ctx;
    ddb_expr *condition, *filter, *key_condition, *update, *projection;
} ddb_request_exprs;
int ddb_exprs_parse(const cJSON *req, int want_condition, int want_filter, int want_key,
                    int want_update, int want_projection, ddb_request_exprs *out,
                    core_err *err);
void ddb_exprs_release(ddb_request_exprs *x);

/* ConsumedCapacity for a table when req asks ReturnConsumedCapacity. */
void ddb_add_consumed(cJSON *resp, const cJSON *req, const char *table, double units);

/* Single-item operations (model_item.c). */
int ddb_op_put_item(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err);
int ddb_op_get_item(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err);
int ddb_op_update_item(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err);
int ddb_op_delete_item(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err);
int ddb_op_query(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err);
int ddb_op_scan(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err);
int ddb_op_batch_get_item(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err);
int ddb_op_batch_write_item(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra,
                            core_err *err);
int ddb_op_transact_write_items(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra,
                                core_err *err);
int ddb_op_transact_get_items(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra,
                              core_err *err);

/* Table operations (model_table.c). */
int ddb_op_create_table(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err);
int ddb_op_describe_table(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra,
                          core_err *err);
int ddb_op_delete_table(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err);
int ddb_op_list_tables(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err);
int ddb_op_update_table(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err);
int ddb_op_update_ttl(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err);
int ddb_op_describe_ttl(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err);

/* Put/Update/Delete/ConditionCheck bodies shared with transactions: validate and
 * prepare a write without storing it. */
typedef struct ddb_write {
    ddb_table *table;
    int kind;              /* 'P'ut, 'U'pdate, 'D'elete, 'C'heck */
    unsigned char *pk, *sk;
    size_t pk_len, sk_len;
    cJSON *old;            /* the stored item, or NULL */
    cJSON *new_item;       /* Put/Update: the item to store */
    ddb_request_exprs exprs;
} ddb_write;
int ddb_write_prepare(ddb_model *m, int kind, cJSON *req, ddb_write *w, core_err *err);
/* Evaluate the write's ConditionExpression against w->old: 1 holds, 0 fails. */
int ddb_write_condition(const ddb_write *w, core_err *err);
int ddb_write_apply(ddb_model *m, ddb_write *w, core_err *err);
/* Apply w[0..n) all or nothing, inside one savepoint (nested in any transaction
 * the caller holds). */
int ddb_writes_apply(ddb_model *m, ddb_write *w, size_t n, core_err *err);
void ddb_write_release(ddb_write *w);

#endif
