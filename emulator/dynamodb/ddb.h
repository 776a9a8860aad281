/*
 * ddb.h — the DynamoDB model: tables and items on SQLite, no HTTP.
 *
 * Every operation takes the request as parsed JSON (DynamoDB's own request shape,
 * borrowed; the model may normalise it in place) and produces the response body
 * as JSON, or an error. Some errors carry fields besides the message
 * (ConditionalCheckFailedException's Item, TransactionCanceledException's
 * CancellationReasons): those come back in *extra for the wire layer to add.
 *
 * Storage (dynamodb.db in the data folder):
 *   tables(name, id, spec JSON, created_ms)
 *   items(tbl, pk, sk, item, size, ttl)          PRIMARY KEY (tbl, pk, sk)
 *   index_entries(tbl, idx, ipk, isk, pk, sk)    PRIMARY KEY (tbl, idx, ipk, isk, pk, sk)
 * pk, sk, ipk, isk are order-preserving encodings of key values
 * (ddb_value_key_encode), so GetItem is one B-tree lookup and Query one range scan,
 * O(log n) in the table's size. Items are stored as their validated DynamoDB JSON
 * text, numbers normalised, and sent back as stored.
 *
 * Concurrency: one connection under one lock; every operation, transactions
 * included, runs whole under it — serializable by construction.
 */
#ifndef DDB_DDB_H
#define DDB_DDB_H

#include <cjson/cJSON.h>

#include "core/clock.h"
#include "core/err.h"

typedef struct ddb_model ddb_model;

/* Open (or create) dir/dynamodb.db; dir ":memory:" for tests. */
int ddb_model_open(const char *dir, const char *region, core_clock *clock, ddb_model **out,
                   core_err *err);
void ddb_model_close(ddb_model *m);

/* An operation: request in, response out (caller owns *resp). On error *extra may
 * hold extra error fields (caller owns). */
typedef int (*ddb_op)(ddb_model *m, cJSON *req, cJSON **resp, cJSON **extra, core_err *err);

/* The operation named by X-Amz-Target's suffix ("GetItem"), or NULL. */
ddb_op ddb_op_find(const char *name);

/* The table a request names (for fault rules and logs), borrowed, or NULL. */
const char *ddb_request_table(const cJSON *req);

/* Create the table described by a CreateTable request unless a table of that name
 * exists (template tables at start-up). *created tells which. */
int ddb_model_ensure_table(ddb_model *m, cJSON *create_req, int *created, core_err *err);

/* Set TimeToLive (UpdateTimeToLive's body), for template tables. */
int ddb_model_set_ttl(ddb_model *m, const char *table, const char *attr, int enabled,
                      core_err *err);

/* Delete expired items of every TTL-enabled table; returns how many. */
long ddb_model_sweep_ttl(ddb_model *m);

#endif
