/*
 * model.h — the shop's single-table data model (docs/DATA-MODEL.md): the keys
 * of every entity, and the mapping between the API's JSON and DynamoDB items.
 *
 * One table (TABLE_NAME), generic keys PK/SK, two GSIs:
 *
 *   product      PK=PRODUCT#<id>        SK=PRODUCT
 *                GSI1PK=PRODUCT          GSI1SK=<createdAt>#<id>     (the catalog, oldest first)
 *   cart line    PK=USER#<sub>          SK=CART#<productId>
 *   order        PK=ORDER#<id>          SK=ORDER
 *                GSI1PK=USER#<sub>       GSI1SK=ORDER#<createdAt>#<id> (my orders, newest first)
 *                GSI2PK=ORDER_STATUS#<status> GSI2SK=<createdAt>#<id>
 *   order line   PK=ORDER#<id>          SK=LINE#<productId>
 *   reservation  PK=ORDER#<id>          SK=RESERVATION#<productId>   (the saga's)
 *   payment      PK=ORDER#<id>          SK=PAYMENT                   (the saga's)
 *   idempotency  PK=IDEMPOTENCY#<sub>#<key> SK=IDEMPOTENCY            (ttl: 24 h)
 *
 * Money is integer cents (priceCents, total, lineTotalCents) with an ISO 4217
 * currency; stock is an integer >= 0 that only conditional writes change.
 * Every item has `entity` naming its kind.
 *
 * The emulator's seed loader uses this module too, so fixtures land in the
 * table exactly as POST /products would write them.
 */
#ifndef BACKEND_MODEL_H
#define BACKEND_MODEL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/aws.h"
#include "lib/val.h"
#include "runtime/handler.h"

#define MODEL_ID_MAX 64
#define MODEL_PRICE_MAX 100000000LL /* $1,000,000.00 */
#define MODEL_STOCK_MAX 1000000LL
#define MODEL_QUANTITY_MAX 99
#define MODEL_CART_LINES_MAX 25

/* Fields of POST /products and PATCH /products/{id} ({NULL}-terminated). */
extern const val_field model_product_create_fields[];
extern const val_field model_product_update_fields[];

/* DynamoDB attribute values: add {"S": value} / {"N": "<n>"} under name. */
void model_put_s(cJSON *item, const char *name, const char *value);
void model_put_n(cJSON *item, const char *name, long long value);

/* Read an S attribute (borrowed) or NULL; an N attribute into *out (0 if absent
 * or not an integer, returning -1). */
const char *model_get_s(const cJSON *item, const char *name);
int model_get_n(const cJSON *item, const char *name, long long *out);

/* A {"PK": {"S": pk}, "SK": {"S": sk}} key (caller owns); parts are joined. */
cJSON *model_key(const char *pk_prefix, const char *pk_id, const char *sk);

/* The product item for the validated create body, with id and timestamps
 * (caller owns). */
cJSON *model_product_item(const cJSON *body, const char *id, const char *created_at);

/* val_check of an id (val_id, at most MODEL_ID_MAX): "must be 1 to 64 of ...". */
int model_check_id(const cJSON *v, char *why, size_t why_len);

/* The consistent Query of user's cart lines (PK USER#<user>, SK CART#...) on
 * table (caller owns). */
cJSON *model_cart_query(const char *table, const char *user);

/* The API's product from its item (caller owns). */
cJSON *model_product_from_item(const cJSON *item);

/* The API's order from its item (caller owns); lines from the item's lines. */
cJSON *model_order_from_item(const cJSON *item);

/* Now as ISO 8601 UTC with milliseconds ("2026-12-01T20:15:00.123Z") into
 * buf[32]. */
void model_now_iso(char *buf, size_t len);

/* A random UUID v4 into buf[37]. Returns 0, or -1 when the RNG fails. */
int model_uuid(char *buf, size_t len);

/* The AWS client of one invocation, configured from the function's environment
 * (ctx->getenv; caller frees with aws_client_free). */
aws_client *model_client_new(const lambda_context *ctx);

/* One DynamoDB call ("GetItem", "Query", ...) on the client: 0 with *out (caller
 * owns), or -1 with err filled (and *out any error document, caller owns). */
int model_ddb(aws_client *client, const char *operation, const cJSON *body, cJSON **out,
              aws_error *err);

/* Nonzero when err is a ConditionalCheckFailedException (or a cancelled
 * transaction whose reasons include ConditionalCheckFailed). */
int model_condition_failed(const aws_error *err);

/* Log a failed AWS call (type and status, never the request) and answer 503
 * ServiceUnavailable (caller owns). */
cJSON *model_unavailable(const lambda_context *ctx, const char *what, const aws_error *err);

#endif
