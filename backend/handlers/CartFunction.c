/*
 * CartFunction.c — the signed-in user's cart (template.yaml's CartFunction).
 *
 *   GET    /cart                  the cart, priced from the catalog now
 *   POST   /cart {productId, quantity}   add (quantities of one product add up)
 *   PATCH  /cart/{productId} {quantity}  set a line's quantity
 *   DELETE /cart/{productId}      remove a line
 *   DELETE /cart                  empty the cart
 *
 * Every route answers the whole cart afterwards (DELETE /cart/{id} and DELETE
 * /cart included), so a client never needs a second request. The user is the
 * token's sub and nothing else: the cart's partition is USER#<sub>, so no body or
 * path can reach another user's cart. Quantities are 1..99 per line, at most
 * MODEL_CART_LINES_MAX lines, never more than the product's stock; the product
 * must exist. Line writes are conditional on the quantity read, so two
 * concurrent adds never lose one another (the loser gets 409 and retries).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/aws.h"
#include "lib/http.h"
#include "lib/log.h"
#include "lib/model.h"
#include "lib/route.h"
#include "lib/val.h"
#include "runtime/handler.h"

/* The dispatcher's request (lib/route.h): event, ctx, aws, table, user. */
typedef route_request request;

static const val_field add_fields[] = {
    {"productId", VAL_STRING, VAL_REQUIRED, 1, MODEL_ID_MAX, NULL, model_check_id},
    {"quantity", VAL_INT, VAL_REQUIRED, 1, MODEL_QUANTITY_MAX, NULL, NULL},
    {NULL, VAL_STRING, 0, 0, 0, NULL, NULL},
};

static const val_field set_fields[] = {
    {"quantity", VAL_INT, VAL_REQUIRED, 1, MODEL_QUANTITY_MAX, NULL, NULL},
    {NULL, VAL_STRING, 0, 0, 0, NULL, NULL},
};

static cJSON *line_key(const request *r, const char *product_id)
{
    char sk[MODEL_ID_MAX + 8];
    snprintf(sk, sizeof sk, "CART#%s", product_id);
    return model_key("USER#", r->user, sk);
}

/* Query the user's cart lines; 0 with *items (caller owns), or -1 with *resp. */
static int cart_lines(const request *r, cJSON **items, cJSON **resp)
{
    cJSON *q = model_cart_query(r->table, r->user);
    cJSON *out;
    if (route_ddb(r, "Query", q, &out, resp))
        return -1;
    *items = cJSON_DetachItemFromObjectCaseSensitive(out, "Items");
    cJSON_Delete(out);
    if (!*items)
        *items = cJSON_CreateArray();
    return 0;
}

/* BatchGetItem of the products the lines name; 0 with *products (an array of
 * items, caller owns), or -1 with *resp. */
static int products_of(const request *r, const cJSON *lines, cJSON **products, cJSON **resp)
{
    *products = cJSON_CreateArray();
    if (!cJSON_GetArraySize(lines))
        return 0;
    cJSON *q = cJSON_CreateObject();
    cJSON *req = cJSON_AddObjectToObject(q, "RequestItems");
    cJSON *t = cJSON_AddObjectToObject(req, r->table);
    cJSON *keys = cJSON_AddArrayToObject(t, "Keys");
    for (const cJSON *l = lines->child; l; l = l->next) {
        const char *pid = model_get_s(l, "productId");
        if (pid)
            cJSON_AddItemToArray(keys, model_key("PRODUCT#", pid, "PRODUCT"));
    }
    cJSON_AddBoolToObject(t, "ConsistentRead", 1);
    /* UnprocessedKeys are asked again, a bounded number of times */
    /* keys still unprocessed after the last call are left out of *products */
    if (route_batch_get(r, q, *products, resp) < 0) {
        cJSON_Delete(*products);
        *products = NULL;
        return -1;
    }
    return 0;
}

static const cJSON *find_product(const cJSON *products, const char *id)
{
    for (const cJSON *p = products ? products->child : NULL; p; p = p->next) {
        const char *pid = model_get_s(p, "id");
        if (pid && !strcmp(pid, id))
            return p;
    }
    return NULL;
}

/* The cart answer: lines priced from the catalog, a total per currency. */
static cJSON *cart_answer(const request *r)
{
    cJSON *lines = NULL, *products = NULL, *resp = NULL;
    if (cart_lines(r, &lines, &resp))
        return resp;
    if (products_of(r, lines, &products, &resp)) {
        cJSON_Delete(lines);
        return resp;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(body, "items");
    long long total = 0;
    const char *currency = NULL;
    int mixed = 0;
    for (const cJSON *l = lines->child; l; l = l->next) {
        const char *pid = model_get_s(l, "productId");
        long long qty = 0, price = 0, stock = 0;
        model_get_n(l, "quantity", &qty);
        const cJSON *p = pid ? find_product(products, pid) : NULL;
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "productId", pid ? pid : "");
        cJSON_AddNumberToObject(x, "quantity", (double)qty);
        if (p) {
            model_get_n(p, "priceCents", &price);
            model_get_n(p, "stock", &stock);
            const char *name = model_get_s(p, "name");
            const char *cur = model_get_s(p, "currency");
            const char *image = model_get_s(p, "imageUrl");
            cJSON_AddStringToObject(x, "name", name ? name : "");
            cJSON_AddNumberToObject(x, "priceCents", (double)price);
            cJSON_AddStringToObject(x, "currency", cur ? cur : "USD");
            cJSON_AddNumberToObject(x, "lineTotalCents", (double)(price * qty));
            if (image)
                cJSON_AddStringToObject(x, "imageUrl", image);
            else
                cJSON_AddNullToObject(x, "imageUrl");
            cJSON_AddBoolToObject(x, "available", stock >= qty);
            if (!currency)
                currency = cur;
            else if (cur && strcmp(cur, currency))
                mixed = 1;
            total += price * qty;
        } else {
            /* the product was deleted after it was added: shown, not priced */
            cJSON_AddNullToObject(x, "name");
            cJSON_AddNumberToObject(x, "priceCents", 0);
            cJSON_AddStringToObject(x, "currency", "USD");
            cJSON_AddNumberToObject(x, "lineTotalCents", 0);
            cJSON_AddNullToObject(x, "imageUrl");
            cJSON_AddBoolToObject(x, "available", 0);
        }
        cJSON_AddItemToArray(items, x);
    }
    cJSON_AddNumberToObject(body, "totalCents", (double)total);
    cJSON_AddStringToObject(body, "currency", currency ? currency : "USD");
    cJSON_AddBoolToObject(body, "mixedCurrencies", mixed);
    cJSON_Delete(lines);
    cJSON_Delete(products);
    return http_json(200, body);
}

/* GetItem by key (borrowed); 0 found (*item owned), 1 absent, -1 with *resp. */
static int get_item(const request *r, cJSON *key, cJSON **item, cJSON **resp)
{
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "TableName", r->table);
    cJSON_AddItemToObject(q, "Key", key);
    cJSON_AddBoolToObject(q, "ConsistentRead", 1);
    cJSON *out;
    if (route_ddb(r, "GetItem", q, &out, resp))
        return -1;
    *item = cJSON_DetachItemFromObjectCaseSensitive(out, "Item");
    cJSON_Delete(out);
    if (!cJSON_IsObject(*item)) {
        cJSON_Delete(*item);
        *item = NULL;
        return 1;
    }
    return 0;
}

/* Write the line with quantity, if its quantity is still `old` (0: absent). */
static cJSON *write_line(const request *r, const char *product_id, long long quantity,
                         long long old)
{
    char now[32];
    model_now_iso(now, sizeof now);
    cJSON *item = line_key(r, product_id);
    model_put_s(item, "entity", "CartLine");
    model_put_s(item, "userId", r->user);
    model_put_s(item, "productId", product_id);
    model_put_n(item, "quantity", quantity);
    model_put_s(item, "updatedAt", now);
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "TableName", r->table);
    cJSON_AddItemToObject(q, "Item", item);
    cJSON *v = NULL;
    if (old) {
        cJSON_AddStringToObject(q, "ConditionExpression", "quantity = :old");
        v = cJSON_AddObjectToObject(q, "ExpressionAttributeValues");
        model_put_n(v, ":old", old);
    } else {
        cJSON_AddStringToObject(q, "ConditionExpression", "attribute_not_exists(PK)");
    }
    cJSON *unavailable = NULL;
    int rc = route_ddb_conditional(r, "PutItem", q, NULL, &unavailable);
    if (rc > 0)
        return http_error(409, "ConcurrentUpdate", "the cart changed meanwhile; try again");
    return rc ? unavailable : NULL;
}

/* Set (replace=1) or add to the quantity of a product's line. */
static cJSON *change_line(const request *r, const char *product_id, long long quantity,
                          int replace)
{
    cJSON *product = NULL, *line = NULL, *resp = NULL;
    int rc = get_item(r, model_key("PRODUCT#", product_id, "PRODUCT"), &product, &resp);
    if (rc < 0)
        return resp;
    if (rc > 0)
        return http_error(404, "ProductNotFound", "no product %s", product_id);
    long long stock = 0, old = 0;
    model_get_n(product, "stock", &stock);
    cJSON_Delete(product);
    rc = get_item(r, line_key(r, product_id), &line, &resp);
    if (rc < 0)
        return resp;
    if (line)
        model_get_n(line, "quantity", &old);
    cJSON_Delete(line);
    if (replace && !old)
        return http_error(404, "CartItemNotFound", "product %s is not in the cart", product_id);
    long long want = replace ? quantity : old + quantity;
    if (want > MODEL_QUANTITY_MAX)
        return http_error(422, "ValidationError",
                          "quantity: a line holds at most %d (the cart has %lld)",
                          MODEL_QUANTITY_MAX, old);
    if (want > stock)
        return http_error(409, "InsufficientStock", "only %lld of %s in stock", stock,
                          product_id);
    if (!old) {
        cJSON *lines = NULL;
        if (cart_lines(r, &lines, &resp))
            return resp;
        int n = cJSON_GetArraySize(lines);
        cJSON_Delete(lines);
        if (n >= MODEL_CART_LINES_MAX)
            return http_error(409, "CartFull", "a cart holds at most %d different products",
                              MODEL_CART_LINES_MAX);
    }
    resp = write_line(r, product_id, want, old);
    return resp ? resp : cart_answer(r);
}

static cJSON *add(const request *r)
{
    cJSON *resp = NULL;
    cJSON *body = http_body_object(r->event, HTTP_MAX_BODY, &resp);
    if (!body)
        return resp;
    val_problem prob;
    if (val_object(body, add_fields, &prob)) {
        cJSON_Delete(body);
        return http_error(422, "ValidationError", "%s", prob.message);
    }
    char pid[MODEL_ID_MAX + 1];
    snprintf(pid, sizeof pid, "%s",
             cJSON_GetObjectItemCaseSensitive(body, "productId")->valuestring);
    long long qty = (long long)cJSON_GetObjectItemCaseSensitive(body, "quantity")->valuedouble;
    cJSON_Delete(body);
    return change_line(r, pid, qty, 0);
}

static cJSON *set_quantity(const request *r)
{
    cJSON *resp = NULL;
    const char *pid = route_path_id(r, "productId", "product", &resp);
    if (!pid)
        return resp;
    cJSON *body = http_body_object(r->event, HTTP_MAX_BODY, &resp);
    if (!body)
        return resp;
    val_problem prob;
    if (val_object(body, set_fields, &prob)) {
        cJSON_Delete(body);
        return http_error(422, "ValidationError", "%s", prob.message);
    }
    long long qty = (long long)cJSON_GetObjectItemCaseSensitive(body, "quantity")->valuedouble;
    cJSON_Delete(body);
    return change_line(r, pid, qty, 1);
}

/* DeleteItem of a line; 0, 1 when it was not there, -1 with *resp. */
static int delete_line(const request *r, const char *product_id, cJSON **resp)
{
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "TableName", r->table);
    cJSON_AddItemToObject(q, "Key", line_key(r, product_id));
    cJSON_AddStringToObject(q, "ConditionExpression", "attribute_exists(PK)");
    return route_ddb_conditional(r, "DeleteItem", q, NULL, resp);
}

static cJSON *remove_line(const request *r)
{
    cJSON *resp = NULL;
    const char *pid = route_path_id(r, "productId", "product", &resp);
    if (!pid)
        return resp;
    int rc = delete_line(r, pid, &resp);
    if (rc < 0)
        return resp;
    if (rc > 0)
        return http_error(404, "CartItemNotFound", "product %s is not in the cart", pid);
    return cart_answer(r);
}

static cJSON *clear(const request *r)
{
    cJSON *lines = NULL, *resp = NULL;
    if (cart_lines(r, &lines, &resp))
        return resp;
    for (const cJSON *l = lines->child; l; l = l->next) {
        const char *pid = model_get_s(l, "productId");
        if (pid && delete_line(r, pid, &resp) < 0) {
            cJSON_Delete(lines);
            return resp;
        }
    }
    cJSON_Delete(lines);
    return cart_answer(r);
}

static const route routes[] = {
    {"GET /cart", cart_answer, ROUTE_USER},
    {"POST /cart", add, ROUTE_USER},
    {"DELETE /cart", clear, ROUTE_USER},
    {"PATCH /cart/{productId}", set_quantity, ROUTE_USER},
    {"DELETE /cart/{productId}", remove_line, ROUTE_USER},
};

ROUTE_HANDLER(routes)
