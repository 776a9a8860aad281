/*
 * OrdersFunction.c — the signed-in user's orders (template.yaml's
 * OrdersFunction; read-only on the table).
 *
 *   GET /orders?limit&lastKey   mine, newest first (GSI1: USER#<sub>, ORDER#<createdAt>#<id>)
 *   GET /orders/{id}            one of mine; another user's order is 404, exactly
 *                               as an order that does not exist (no existence leak)
 *
 * The cursor's scope is "orders#<sub>": a cursor one user got is refused (400)
 * in another user's listing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/aws.h"
#include "lib/http.h"
#include "lib/log.h"
#include "lib/model.h"
#include "lib/route.h"
#include "runtime/handler.h"

#define LIST_DEFAULT 20
#define LIST_MAX 50

/* The dispatcher's request (lib/route.h): event, ctx, aws, table, user. */
typedef route_request request;

static const char *const order_cursor_keys[] = {"PK", "SK", "GSI1PK", "GSI1SK", NULL};

/* The order of a GSI1 item, when the item's userId agrees with the key. */
static cJSON *own_order(const cJSON *it, const request *r)
{
    const char *owner = model_get_s(it, "userId");
    return owner && !strcmp(owner, r->user) ? model_order_from_item(it) : NULL;
}

static cJSON *list_orders(const request *r)
{
    char scope[160], pk[160];
    snprintf(scope, sizeof scope, "orders#%s", r->user);
    snprintf(pk, sizeof pk, "USER#%s", r->user);
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "TableName", r->table);
    cJSON_AddStringToObject(q, "IndexName", "GSI1");
    cJSON_AddStringToObject(q, "KeyConditionExpression",
                            "GSI1PK = :pk AND begins_with(GSI1SK, :order)");
    cJSON *v = cJSON_AddObjectToObject(q, "ExpressionAttributeValues");
    model_put_s(v, ":pk", pk);
    model_put_s(v, ":order", "ORDER#");
    cJSON_AddBoolToObject(q, "ScanIndexForward", 0);
    const route_page page = {scope, order_cursor_keys, LIST_MAX, LIST_DEFAULT, own_order};
    return route_query_page(r, &page, q);
}

static cJSON *get_order(const request *r)
{
    cJSON *bad = NULL;
    const char *id = route_path_id(r, "id", "order", &bad);
    if (!id)
        return bad;
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "TableName", r->table);
    cJSON_AddItemToObject(q, "Key", model_key("ORDER#", id, "ORDER"));
    cJSON_AddBoolToObject(q, "ConsistentRead", 1);
    cJSON *out, *unavailable;
    if (route_ddb(r, "GetItem", q, &out, &unavailable))
        return unavailable;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(out, "Item");
    const char *owner = model_get_s(item, "userId");
    if (!cJSON_IsObject(item) || !owner || strcmp(owner, r->user)) {
        cJSON_Delete(out);
        return http_error(404, "OrderNotFound", "no order %s", id);
    }
    cJSON *o = model_order_from_item(item);
    cJSON_Delete(out);
    return http_json(200, o);
}

static const route routes[] = {
    {"GET /orders", list_orders, ROUTE_USER},
    {"GET /orders/{id}", get_order, ROUTE_USER},
};

ROUTE_HANDLER(routes)
