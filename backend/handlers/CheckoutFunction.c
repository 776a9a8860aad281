/*
 * CheckoutFunction.c — POST /checkout/start (template.yaml's CheckoutFunction):
 * prices the signed-in user's cart from the table (never from the client),
 * writes a PENDING order with its lines, starts the order-processing state
 * machine, clears the cart, and answers 202 {orderId, executionArn, ...}.
 *
 * Body (the report's): {"shippingAddress": {"street", "city", "state",
 * "zipCode", "country"?, "name"?}, "paymentMethod": "card" | "pm_..."}. "card"
 * means Stripe's test method pm_card_visa; otherwise a Stripe PaymentMethod id
 * (pm_card_visa_chargeDeclined and the other test ids, or a real pm_...).
 *
 * Order of work, and why:
 *   1. validate (user, Idempotency-Key, body) — nothing is read before;
 *   2. with an Idempotency-Key, read its record first: a retry after success
 *      must replay the first answer, not price the (now empty) cart again;
 *   3. price the cart (BatchGetItem), refuse an empty cart, a missing product,
 *      too little stock, mixed currencies (409);
 *   4. one transaction: the order, its lines and the idempotency record
 *      (attribute_not_exists on each), so two racing retries make one order;
 *   5. StartExecution, named after the order id (a retried start is the same
 *      execution); if it fails the order is marked FAILED, the idempotency
 *      record is deleted (a retry may try again) and the answer is 503;
 *   6. the execution ARN onto the order, the cart lines deleted (each only if
 *      its quantity is still the one priced), the record COMPLETED with the
 *      answer.
 * A record still IN_PROGRESS after IDEMPOTENCY_STALE_MS is an attempt that died
 * between 4 and 6: a retry recovers it (recover_stale) rather than answering
 * 409 until the record expires.
 * Stock is not decremented here: the saga reserves it (conditional writes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/aws.h"
#include "lib/http.h"
#include "lib/log.h"
#include "lib/model.h"
#include "lib/route.h"
#include "lib/val.h"
#include "runtime/handler.h"

#define IDEMPOTENCY_TTL_S (24 * 3600)
#define IDEMPOTENCY_KEY_MAX 255
/* An IN_PROGRESS record older than this belongs to an attempt that died (the
 * function's Timeout is 10 s): a retry recovers it instead of waiting 24 h. */
#define IDEMPOTENCY_STALE_MS 60000

/* The dispatcher's request (lib/route.h): event, ctx, aws, table, user. */
typedef route_request request;

static int check_text_zip(const cJSON *v, char *why, size_t why_len)
{
    for (const char *p = v->valuestring; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              *p == ' ' || *p == '-')) {
            snprintf(why, why_len, "must be a postal code (letters, digits, space, -)");
            return -1;
        }
    return 0;
}

static int check_country(const cJSON *v, char *why, size_t why_len)
{
    const char *s = v->valuestring;
    if (s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && !s[2])
        return 0;
    snprintf(why, why_len, "must be an ISO 3166-1 alpha-2 code such as US");
    return -1;
}

static int check_payment_method(const cJSON *v, char *why, size_t why_len)
{
    const char *s = v->valuestring;
    if (!strcmp(s, "card"))
        return 0;
    if (!strncmp(s, "pm_", 3) && s[3]) {
        const char *p = s + 3;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
               *p == '_')
            p++;
        if (!*p)
            return 0;
    }
    snprintf(why, why_len, "must be \"card\" or a Stripe payment method id such as pm_card_visa");
    return -1;
}

static const val_field address_fields[] = {
    {"name", VAL_STRING, 0, 1, 200, NULL, NULL},
    {"street", VAL_STRING, VAL_REQUIRED, 1, 200, NULL, NULL},
    {"city", VAL_STRING, VAL_REQUIRED, 1, 100, NULL, NULL},
    {"state", VAL_STRING, VAL_REQUIRED, 1, 100, NULL, NULL},
    {"zipCode", VAL_STRING, VAL_REQUIRED, 3, 12, NULL, check_text_zip},
    {"country", VAL_STRING, 0, 2, 2, NULL, check_country},
    {NULL, VAL_STRING, 0, 0, 0, NULL, NULL},
};

static const val_field checkout_fields[] = {
    {"shippingAddress", VAL_OBJECT, VAL_REQUIRED, 0, 0, address_fields, NULL},
    {"paymentMethod", VAL_STRING, VAL_REQUIRED, 1, 255, NULL, check_payment_method},
    {NULL, VAL_STRING, 0, 0, 0, NULL, NULL},
};

/* A US ZIP is 5 digits or ZIP+4. */
static int us_zip(const char *z)
{
    size_t n = strlen(z);
    if (n != 5 && n != 10)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (i == 5 ? z[i] != '-' : (z[i] < '0' || z[i] > '9'))
            return 0;
    return 1;
}

static void sha256_hex(const char *text, char out[65])
{
    unsigned char d[32];
    unsigned int n = 0;
    EVP_Digest(text, strlen(text), d, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int call(const request *r, const char *op, cJSON *body, cJSON **out, aws_error *err)
{
    int rc = model_ddb(r->aws, op, body, out, err);
    cJSON_Delete(body);
    return rc;
}

static cJSON *table_request(const request *r)
{
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "TableName", r->table);
    return q;
}

static cJSON *idempotency_key_of(const request *r, const char *key)
{
    char pk[512];
    snprintf(pk, sizeof pk, "%s#%s", r->user, key);
    return model_key("IDEMPOTENCY#", pk, "IDEMPOTENCY");
}

static void complete_key(const request *r, const char *idem_key, int status, const cJSON *body);

static cJSON *started_answer(const char *order_id, const char *execution_arn, long long total,
                             const char *currency)
{
    cJSON *answer = cJSON_CreateObject();
    cJSON_AddStringToObject(answer, "orderId", order_id);
    cJSON_AddStringToObject(answer, "executionArn", execution_arn);
    cJSON_AddStringToObject(answer, "status", "PENDING");
    cJSON_AddNumberToObject(answer, "totalCents", (double)total);
    cJSON_AddStringToObject(answer, "currency", currency);
    return answer;
}

static cJSON *accepted(cJSON *answer, const char *order_id)
{
    cJSON *resp = http_json(202, answer);
    char location[80];
    snprintf(location, sizeof location, "/orders/%s", order_id);
    http_set_header(resp, "location", location);
    return resp;
}

/* One conditional step of recover_stale on q (owned): NULL when it was done,
 * 409 RequestInProgress when its condition failed (the first attempt is still
 * alive), 503 when the call failed. */
static cJSON *recover_step(const request *r, const char *operation, cJSON *q)
{
    cJSON *unavailable = NULL;
    int rc = route_ddb_conditional(r, operation, q, NULL, &unavailable);
    if (rc > 0)
        return http_error(409, "RequestInProgress",
                          "a request with this Idempotency-Key is still being processed");
    return rc ? unavailable : NULL;
}

/* A stale IN_PROGRESS record: the attempt that wrote it died between its
 * transaction and its answer. If it started the saga, its answer is rebuilt
 * from the order and stored; if not, its order is failed and the record
 * removed, and this request starts afresh (NULL). Every step is conditional, so
 * a late-living first attempt and this one cannot both win. */
static cJSON *recover_stale(const request *r, const char *key, const cJSON *record)
{
    const char *order_id = model_get_s(record, "orderId");
    cJSON *q = table_request(r);
    cJSON_AddItemToObject(q, "Key", model_key("ORDER#", order_id ? order_id : "", "ORDER"));
    cJSON_AddBoolToObject(q, "ConsistentRead", 1);
    cJSON *out, *unavailable;
    if (route_ddb(r, "GetItem", q, &out, &unavailable))
        return unavailable;
    const cJSON *order = cJSON_GetObjectItemCaseSensitive(out, "Item");
    const char *arn = model_get_s(order, "executionArn");
    if (cJSON_IsObject(order) && arn) {
        long long total = 0;
        model_get_n(order, "total", &total);
        const char *cur = model_get_s(order, "currency");
        cJSON *answer = started_answer(order_id, arn, total, cur ? cur : "USD");
        cJSON_Delete(out);
        complete_key(r, key, 202, answer);
        cJSON *resp = accepted(answer, order_id);
        http_set_header(resp, "idempotent-replayed", "true");
        return resp;
    }
    int had_order = cJSON_IsObject(order);
    cJSON_Delete(out);
    char now[32];
    model_now_iso(now, sizeof now);
    if (had_order) {
        q = table_request(r);
        cJSON_AddItemToObject(q, "Key", model_key("ORDER#", order_id, "ORDER"));
        cJSON_AddStringToObject(q, "UpdateExpression",
                                "SET #s = :failed, failureReason = :why, updatedAt = :now, GSI2PK = :g");
        cJSON_AddStringToObject(q, "ConditionExpression",
                                "#s = :pending AND attribute_not_exists(executionArn)");
        cJSON_AddStringToObject(cJSON_AddObjectToObject(q, "ExpressionAttributeNames"), "#s",
                                "status");
        cJSON *v = cJSON_AddObjectToObject(q, "ExpressionAttributeValues");
        model_put_s(v, ":failed", "FAILED");
        model_put_s(v, ":pending", "PENDING");
        model_put_s(v, ":why", "checkout did not finish");
        model_put_s(v, ":now", now);
        model_put_s(v, ":g", "ORDER_STATUS#FAILED");
        cJSON *refused = recover_step(r, "UpdateItem", q);
        if (refused)
            return refused;
    }
    long long started = 0;
    model_get_n(record, "startedMs", &started);
    q = table_request(r);
    cJSON_AddItemToObject(q, "Key", idempotency_key_of(r, key));
    cJSON_AddStringToObject(q, "ConditionExpression", "#s = :inprogress AND startedMs = :started");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(q, "ExpressionAttributeNames"), "#s", "status");
    cJSON *v = cJSON_AddObjectToObject(q, "ExpressionAttributeValues");
    model_put_s(v, ":inprogress", "IN_PROGRESS");
    model_put_n(v, ":started", started);
    cJSON *refused = recover_step(r, "DeleteItem", q);
    if (refused)
        return refused;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "orderId", order_id ? order_id : "");
    log_event(r->ctx, "WARN", "checkout.recovered_stale_attempt", f);
    cJSON_Delete(f);
    return NULL;
}

/* The stored answer for this key, the conflict answer, or a 503; NULL when
 * there is no record (or a stale one was cleared). */
static cJSON *replay(const request *r, const char *key, const char *hash)
{
    cJSON *q = table_request(r);
    cJSON_AddItemToObject(q, "Key", idempotency_key_of(r, key));
    cJSON_AddBoolToObject(q, "ConsistentRead", 1);
    cJSON *out, *unavailable;
    if (route_ddb(r, "GetItem", q, &out, &unavailable))
        return unavailable;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(out, "Item");
    if (!cJSON_IsObject(item)) {
        cJSON_Delete(out);
        return NULL;
    }
    const char *stored_hash = model_get_s(item, "requestHash");
    const char *status = model_get_s(item, "status");
    const char *body = model_get_s(item, "response");
    long long code = 0, started_ms = 0;
    model_get_n(item, "statusCode", &code);
    model_get_n(item, "startedMs", &started_ms);
    cJSON *resp;
    if (!stored_hash || strcmp(stored_hash, hash))
        resp = http_error(422, "IdempotencyKeyReused",
                          "this Idempotency-Key was used with a different request");
    else if (status && !strcmp(status, "IN_PROGRESS") && started_ms > 0 &&
             lambda_epoch_ms() - started_ms > IDEMPOTENCY_STALE_MS)
        resp = recover_stale(r, key, item);
    else if (!status || strcmp(status, "COMPLETED") || !body)
        resp = http_error(409, "RequestInProgress",
                          "a request with this Idempotency-Key is still being processed");
    else {
        /* the first answer as it was sent, its location header included */
        cJSON *first = cJSON_Parse(body);
        const cJSON *oid = cJSON_GetObjectItemCaseSensitive(first, "orderId");
        char order_id[MODEL_ID_MAX + 1] = "";
        if (code == 202 && cJSON_IsString(oid))
            snprintf(order_id, sizeof order_id, "%s", oid->valuestring);
        resp = order_id[0] ? accepted(first, order_id) : http_json((int)code, first);
        http_set_header(resp, "idempotent-replayed", "true");
    }
    cJSON_Delete(out);
    return resp;
}

typedef struct priced {
    cJSON *lines;     /* the cart's items (DynamoDB JSON) */
    cJSON *order_lines; /* the API's lines */
    long long total;
    char currency[8];
} priced;

/* Price the cart; NULL with *p filled, or the error answer. */
static cJSON *price_cart(const request *r, priced *p)
{
    memset(p, 0, sizeof *p);
    cJSON *q = model_cart_query(r->table, r->user);
    cJSON *out, *unavailable;
    if (route_ddb(r, "Query", q, &out, &unavailable))
        return unavailable;
    p->lines = cJSON_DetachItemFromObjectCaseSensitive(out, "Items");
    cJSON_Delete(out);
    if (!cJSON_GetArraySize(p->lines))
        return http_error(409, "CartEmpty", "the cart is empty");

    q = cJSON_CreateObject();
    cJSON *t = cJSON_AddObjectToObject(cJSON_AddObjectToObject(q, "RequestItems"), r->table);
    cJSON *keys = cJSON_AddArrayToObject(t, "Keys");
    for (const cJSON *l = p->lines->child; l; l = l->next)
        cJSON_AddItemToArray(keys, model_key("PRODUCT#", model_get_s(l, "productId") ?
                                                              model_get_s(l, "productId") : "",
                                             "PRODUCT"));
    cJSON_AddBoolToObject(t, "ConsistentRead", 1);
    cJSON *products = cJSON_CreateArray();
    int rc = route_batch_get(r, q, products, &unavailable);
    if (rc) {
        cJSON_Delete(products);
        return rc < 0 ? unavailable
                      : http_error(503, "ServiceUnavailable", "the catalog is busy; try again");
    }
    p->order_lines = cJSON_CreateArray();
    for (const cJSON *l = p->lines->child; l; l = l->next) {
        const char *pid = model_get_s(l, "productId");
        long long qty = 0, price = 0, stock = 0;
        model_get_n(l, "quantity", &qty);
        const cJSON *prod = NULL;
        for (const cJSON *x = products->child; x && pid; x = x->next)
            if (model_get_s(x, "id") && !strcmp(model_get_s(x, "id"), pid))
                prod = x;
        if (!prod) {
            cJSON_Delete(products);
            return http_error(409, "ProductUnavailable", "product %s is no longer sold",
                              pid ? pid : "?");
        }
        model_get_n(prod, "priceCents", &price);
        model_get_n(prod, "stock", &stock);
        const char *cur = model_get_s(prod, "currency");
        if (stock < qty) {
            cJSON_Delete(products);
            return http_error(409, "InsufficientStock", "only %lld of %s in stock", stock, pid);
        }
        if (!p->currency[0])
            snprintf(p->currency, sizeof p->currency, "%s", cur ? cur : "USD");
        else if (strcmp(p->currency, cur ? cur : "USD")) {
            cJSON_Delete(products);
            return http_error(409, "MixedCurrencies", "the cart mixes currencies");
        }
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "productId", pid);
        cJSON_AddStringToObject(x, "name", model_get_s(prod, "name") ? model_get_s(prod, "name")
                                                                     : "");
        cJSON_AddNumberToObject(x, "quantity", (double)qty);
        cJSON_AddNumberToObject(x, "unitPriceCents", (double)price);
        cJSON_AddNumberToObject(x, "lineTotalCents", (double)(price * qty));
        cJSON_AddItemToArray(p->order_lines, x);
        p->total += price * qty; /* <= 25 * 99 * 1e8: far inside 2^53 */
    }
    cJSON_Delete(products);
    return NULL;
}

static void priced_free(priced *p)
{
    cJSON_Delete(p->lines);
    cJSON_Delete(p->order_lines);
}

static cJSON *line_m(const cJSON *line)
{
    cJSON *m = cJSON_CreateObject();
    model_put_s(m, "productId", cJSON_GetObjectItemCaseSensitive(line, "productId")->valuestring);
    model_put_s(m, "name", cJSON_GetObjectItemCaseSensitive(line, "name")->valuestring);
    model_put_n(m, "quantity",
                (long long)cJSON_GetObjectItemCaseSensitive(line, "quantity")->valuedouble);
    model_put_n(m, "unitPriceCents",
                (long long)cJSON_GetObjectItemCaseSensitive(line, "unitPriceCents")->valuedouble);
    model_put_n(m, "lineTotalCents",
                (long long)cJSON_GetObjectItemCaseSensitive(line, "lineTotalCents")->valuedouble);
    return m;
}

static cJSON *put_op(cJSON *item, const char *table)
{
    cJSON *op = cJSON_CreateObject();
    cJSON *put = cJSON_AddObjectToObject(op, "Put");
    cJSON_AddStringToObject(put, "TableName", table);
    cJSON_AddItemToObject(put, "Item", item);
    cJSON_AddStringToObject(put, "ConditionExpression", "attribute_not_exists(PK)");
    return op;
}

/* The order item and its line items, plus the idempotency record, in one
 * transaction. */
static int write_order(const request *r, const char *order_id, const char *now, const priced *p,
                       const cJSON *address, const char *payment_method, const char *idem_key,
                       const char *hash, aws_error *err)
{
    cJSON *order = model_key("ORDER#", order_id, "ORDER");
    char gsi1pk[160], gsi1sk[128], gsi2sk[128];
    snprintf(gsi1pk, sizeof gsi1pk, "USER#%s", r->user);
    snprintf(gsi1sk, sizeof gsi1sk, "ORDER#%s#%s", now, order_id);
    snprintf(gsi2sk, sizeof gsi2sk, "%s#%s", now, order_id);
    model_put_s(order, "GSI1PK", gsi1pk);
    model_put_s(order, "GSI1SK", gsi1sk);
    model_put_s(order, "GSI2PK", "ORDER_STATUS#PENDING");
    model_put_s(order, "GSI2SK", gsi2sk);
    model_put_s(order, "entity", "Order");
    model_put_s(order, "id", order_id);
    model_put_s(order, "userId", r->user);
    const char *email = http_claim(r->event, "email");
    if (email && *email)
        model_put_s(order, "email", email);
    model_put_s(order, "status", "PENDING");
    model_put_n(order, "total", p->total);
    model_put_s(order, "currency", p->currency);
    model_put_s(order, "paymentMethod", payment_method);
    cJSON *addr = cJSON_CreateObject();
    for (const cJSON *f = address->child; f; f = f->next)
        model_put_s(addr, f->string, f->valuestring);
    cJSON *addr_m = cJSON_CreateObject();
    cJSON_AddItemToObject(addr_m, "M", addr);
    cJSON_AddItemToObject(order, "shippingAddress", addr_m);
    cJSON *lines_l = cJSON_CreateObject();
    cJSON *l = cJSON_AddArrayToObject(lines_l, "L");
    for (const cJSON *x = p->order_lines->child; x; x = x->next) {
        cJSON *wrap = cJSON_CreateObject();
        cJSON_AddItemToObject(wrap, "M", line_m(x));
        cJSON_AddItemToArray(l, wrap);
    }
    cJSON_AddItemToObject(order, "lines", lines_l);
    if (idem_key)
        model_put_s(order, "idempotencyKeyHash", hash);
    model_put_s(order, "createdAt", now);
    model_put_s(order, "updatedAt", now);

    cJSON *q = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(q, "TransactItems");
    cJSON_AddItemToArray(items, put_op(order, r->table));
    for (const cJSON *x = p->order_lines->child; x; x = x->next) {
        char sk[MODEL_ID_MAX + 8];
        snprintf(sk, sizeof sk, "LINE#%s",
                 cJSON_GetObjectItemCaseSensitive(x, "productId")->valuestring);
        cJSON *line = line_m(x);
        cJSON *key = model_key("ORDER#", order_id, sk);
        for (cJSON *k = key->child; k;) {
            cJSON *next = k->next;
            cJSON_AddItemToObject(line, k->string, cJSON_DetachItemViaPointer(key, k));
            k = next;
        }
        cJSON_Delete(key);
        model_put_s(line, "entity", "OrderLine");
        model_put_s(line, "orderId", order_id);
        model_put_s(line, "currency", p->currency);
        cJSON_AddItemToArray(items, put_op(line, r->table));
    }
    if (idem_key) {
        cJSON *rec = idempotency_key_of(r, idem_key);
        model_put_s(rec, "entity", "IdempotencyRecord");
        model_put_s(rec, "userId", r->user);
        model_put_s(rec, "status", "IN_PROGRESS");
        model_put_s(rec, "requestHash", hash);
        model_put_s(rec, "orderId", order_id);
        model_put_s(rec, "createdAt", now);
        model_put_n(rec, "startedMs", lambda_epoch_ms());
        model_put_n(rec, "ttl", lambda_epoch_ms() / 1000 + IDEMPOTENCY_TTL_S);
        cJSON_AddItemToArray(items, put_op(rec, r->table));
    }
    cJSON *out = NULL;
    int rc = call(r, "TransactWriteItems", q, &out, err);
    cJSON_Delete(out);
    return rc;
}

static void fail_order(const request *r, const char *order_id, const char *reason)
{
    char now[32];
    model_now_iso(now, sizeof now);
    cJSON *q = table_request(r);
    cJSON_AddItemToObject(q, "Key", model_key("ORDER#", order_id, "ORDER"));
    cJSON_AddStringToObject(q, "UpdateExpression",
                            "SET #s = :s, failureReason = :why, updatedAt = :now, GSI2PK = :g");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(q, "ExpressionAttributeNames"), "#s",
                            "status");
    cJSON *v = cJSON_AddObjectToObject(q, "ExpressionAttributeValues");
    model_put_s(v, ":s", "FAILED");
    model_put_s(v, ":why", reason);
    model_put_s(v, ":now", now);
    model_put_s(v, ":g", "ORDER_STATUS#FAILED");
    cJSON *out = NULL;
    aws_error err;
    if (call(r, "UpdateItem", q, &out, &err))
        cJSON_Delete(model_unavailable(r->ctx, "UpdateItem (fail order)", &err));
    cJSON_Delete(out);
}

static void forget_key(const request *r, const char *idem_key)
{
    cJSON *q = table_request(r);
    cJSON_AddItemToObject(q, "Key", idempotency_key_of(r, idem_key));
    cJSON *out = NULL;
    aws_error err;
    call(r, "DeleteItem", q, &out, &err);
    cJSON_Delete(out);
}

static const char *env_or(const request *r, const char *name, const char *dflt)
{
    const char *v = r->ctx->getenv(r->ctx, name);
    return v && *v ? v : dflt;
}

/* The execution's input: the checkout document the saga's functions read. */
static cJSON *execution_input(const request *r, const char *order_id, const char *now,
                              const priced *p, const cJSON *address, const char *pm)
{
    cJSON *in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "orderId", order_id);
    cJSON_AddStringToObject(in, "userId", r->user);
    const char *email = http_claim(r->event, "email");
    if (email && *email)
        cJSON_AddStringToObject(in, "email", email);
    else
        cJSON_AddNullToObject(in, "email");
    cJSON_AddItemToObject(in, "items", cJSON_Duplicate(p->order_lines, 1));
    cJSON_AddNumberToObject(in, "total", (double)p->total);
    cJSON_AddNumberToObject(in, "totalCents", (double)p->total);
    cJSON_AddStringToObject(in, "currency", p->currency);
    cJSON_AddStringToObject(in, "paymentMethod", pm);
    cJSON_AddItemToObject(in, "shippingAddress", cJSON_Duplicate(address, 1));
    cJSON_AddStringToObject(in, "createdAt", now);
    static const char *const fns[][2] = {
        {"validateInventory", "VALIDATE_INVENTORY_FUNCTION_ARN"},
        {"reserveInventory", "RESERVE_INVENTORY_FUNCTION_ARN"},
        {"processPayment", "PROCESS_PAYMENT_FUNCTION_ARN"},
        {"createOrderRecord", "CREATE_ORDER_FUNCTION_ARN"},
        {"notifyCustomer", "NOTIFY_CUSTOMER_FUNCTION_ARN"},
        {"releaseInventory", "RELEASE_INVENTORY_FUNCTION_ARN"},
        {"refundPayment", "REFUND_PAYMENT_FUNCTION_ARN"},
        {"failOrder", "FAIL_ORDER_FUNCTION_ARN"},
    };
    cJSON *f = cJSON_AddObjectToObject(in, "functions");
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
        cJSON_AddStringToObject(f, fns[i][0], env_or(r, fns[i][1], ""));
    return in;
}

/* StartExecution; the execution ARN (caller frees) or NULL with err. */
static char *start_execution(const request *r, const char *order_id, cJSON *input,
                             aws_error *err)
{
    memset(err, 0, sizeof *err);
    const char *arn = env_or(r, "STATE_MACHINE_ARN", NULL);
    if (!arn) {
        cJSON_Delete(input);
        snprintf(err->type, sizeof err->type, "NotConfigured");
        snprintf(err->message, sizeof err->message, "STATE_MACHINE_ARN is not set");
        return NULL;
    }
    char *text = cJSON_PrintUnformatted(input);
    cJSON_Delete(input);
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "stateMachineArn", arn);
    cJSON_AddStringToObject(q, "name", order_id);
    cJSON_AddStringToObject(q, "input", text ? text : "{}");
    free(text);
    cJSON *out = NULL;
    int rc = aws_json_call(r->aws, "states", "AWSStepFunctions.StartExecution", q, &out, err);
    cJSON_Delete(q);
    const cJSON *ea = cJSON_GetObjectItemCaseSensitive(out, "executionArn");
    char *result = !rc && cJSON_IsString(ea) ? strdup(ea->valuestring) : NULL;
    if (!rc && !result)
        snprintf(err->type, sizeof err->type, "InvalidResponse");
    cJSON_Delete(out);
    return result;
}

static void after_start(const request *r, const char *order_id, const char *execution_arn,
                        const priced *p)
{
    cJSON *q = table_request(r);
    cJSON_AddItemToObject(q, "Key", model_key("ORDER#", order_id, "ORDER"));
    cJSON_AddStringToObject(q, "UpdateExpression", "SET executionArn = :a");
    /* a retry that found this attempt stale may have failed the order meanwhile */
    cJSON_AddStringToObject(q, "ConditionExpression", "#s = :pending");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(q, "ExpressionAttributeNames"), "#s", "status");
    cJSON *ev = cJSON_AddObjectToObject(q, "ExpressionAttributeValues");
    model_put_s(ev, ":a", execution_arn);
    model_put_s(ev, ":pending", "PENDING");
    cJSON *out = NULL;
    aws_error err;
    if (call(r, "UpdateItem", q, &out, &err))
        cJSON_Delete(model_unavailable(r->ctx, "UpdateItem (execution ARN)", &err));
    cJSON_Delete(out);
    /* clear the cart: each line only if it is still the quantity priced */
    for (const cJSON *l = p->lines->child; l; l = l->next) {
        long long qty = 0;
        model_get_n(l, "quantity", &qty);
        q = table_request(r);
        cJSON *key = cJSON_CreateObject();
        cJSON_AddItemToObject(key, "PK",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(l, "PK"), 1));
        cJSON_AddItemToObject(key, "SK",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(l, "SK"), 1));
        cJSON_AddItemToObject(q, "Key", key);
        cJSON_AddStringToObject(q, "ConditionExpression", "quantity = :q");
        model_put_n(cJSON_AddObjectToObject(q, "ExpressionAttributeValues"), ":q", qty);
        out = NULL;
        if (call(r, "DeleteItem", q, &out, &err) && !model_condition_failed(&err))
            cJSON_Delete(model_unavailable(r->ctx, "DeleteItem (cart line)", &err));
        cJSON_Delete(out);
    }
}

static void complete_key(const request *r, const char *idem_key, int status, const cJSON *body)
{
    char *text = cJSON_PrintUnformatted(body);
    cJSON *q = table_request(r);
    cJSON_AddItemToObject(q, "Key", idempotency_key_of(r, idem_key));
    cJSON_AddStringToObject(q, "UpdateExpression",
                            "SET #s = :done, statusCode = :code, #r = :resp");
    cJSON *n = cJSON_AddObjectToObject(q, "ExpressionAttributeNames");
    cJSON_AddStringToObject(n, "#s", "status");
    cJSON_AddStringToObject(n, "#r", "response");
    cJSON *v = cJSON_AddObjectToObject(q, "ExpressionAttributeValues");
    model_put_s(v, ":done", "COMPLETED");
    model_put_n(v, ":code", status);
    model_put_s(v, ":resp", text ? text : "{}");
    free(text);
    cJSON *out = NULL;
    aws_error err;
    if (call(r, "UpdateItem", q, &out, &err))
        cJSON_Delete(model_unavailable(r->ctx, "UpdateItem (idempotency record)", &err));
    cJSON_Delete(out);
}

static cJSON *start(const request *r)
{
    cJSON *resp = NULL;
    const char *idem_key = http_header(r->event, "idempotency-key");
    if (idem_key) {
        size_t n = strlen(idem_key);
        int ok = n >= 1 && n <= IDEMPOTENCY_KEY_MAX;
        for (const char *c = idem_key; ok && *c; c++)
            ok = *c > 0x20 && *c < 0x7f;
        if (!ok)
            return http_error(400, "InvalidIdempotencyKey",
                              "Idempotency-Key must be 1 to %d visible ASCII characters",
                              IDEMPOTENCY_KEY_MAX);
    }
    cJSON *body = http_body_object(r->event, HTTP_MAX_BODY, &resp);
    if (!body)
        return resp;
    val_problem prob;
    if (val_object(body, checkout_fields, &prob)) {
        cJSON_Delete(body);
        return http_error(422, "ValidationError", "%s", prob.message);
    }
    const cJSON *address = cJSON_GetObjectItemCaseSensitive(body, "shippingAddress");
    const cJSON *country = cJSON_GetObjectItemCaseSensitive(address, "country");
    const char *zip = cJSON_GetObjectItemCaseSensitive(address, "zipCode")->valuestring;
    if ((!country || !strcmp(country->valuestring, "US")) && !us_zip(zip)) {
        cJSON_Delete(body);
        return http_error(422, "ValidationError",
                          "shippingAddress.zipCode: must be a US ZIP code (12345 or 12345-6789)");
    }
    const char *pm = cJSON_GetObjectItemCaseSensitive(body, "paymentMethod")->valuestring;
    if (!strcmp(pm, "card"))
        pm = "pm_card_visa";

    char hash[65] = "";
    if (idem_key) {
        /* the parsed body printed again: the same request whatever its spacing */
        char *canon = cJSON_PrintUnformatted(body);
        sha256_hex(canon ? canon : "", hash);
        free(canon);
        if ((resp = replay(r, idem_key, hash))) {
            cJSON_Delete(body);
            return resp;
        }
    }
    priced p;
    if ((resp = price_cart(r, &p))) {
        priced_free(&p);
        cJSON_Delete(body);
        return resp;
    }
    char order_id[40], now[32];
    if (model_uuid(order_id, sizeof order_id)) {
        priced_free(&p);
        cJSON_Delete(body);
        return http_error(503, "ServiceUnavailable", "no randomness for an order id; try again");
    }
    model_now_iso(now, sizeof now);
    aws_error err;
    if (write_order(r, order_id, now, &p, address, pm, idem_key, hash, &err)) {
        priced_free(&p);
        cJSON_Delete(body);
        if (idem_key && model_condition_failed(&err)) {
            /* a concurrent request with the same key won the race */
            resp = replay(r, idem_key, hash);
            return resp ? resp : http_error(409, "RequestInProgress",
                                            "a request with this Idempotency-Key is running");
        }
        return model_unavailable(r->ctx, "TransactWriteItems", &err);
    }
    char *execution_arn =
        start_execution(r, order_id, execution_input(r, order_id, now, &p, address, pm), &err);
    cJSON_Delete(body);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "orderId", order_id);
    cJSON_AddNumberToObject(f, "totalCents", (double)p.total);
    cJSON_AddNumberToObject(f, "lines", cJSON_GetArraySize(p.order_lines));
    if (!execution_arn) {
        cJSON_AddStringToObject(f, "errorType", err.type);
        log_event(r->ctx, "ERROR", "checkout.start_failed", f);
        cJSON_Delete(f);
        fail_order(r, order_id, "order processing could not be started");
        if (idem_key)
            forget_key(r, idem_key);
        priced_free(&p);
        return http_error(503, "ServiceUnavailable",
                          "order processing could not be started; the cart is kept, try again");
    }
    after_start(r, order_id, execution_arn, &p);
    cJSON_AddStringToObject(f, "executionArn", execution_arn);
    log_event(r->ctx, "INFO", "checkout.started", f);
    cJSON_Delete(f);
    cJSON *answer = started_answer(order_id, execution_arn, p.total, p.currency);
    free(execution_arn);
    priced_free(&p);
    if (idem_key)
        complete_key(r, idem_key, 202, answer);
    return accepted(answer, order_id);
}

static const route routes[] = {
    {"POST /checkout/start", start, ROUTE_USER},
};

ROUTE_HANDLER(routes)
