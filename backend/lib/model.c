/*
 * model.c — keys and item mappings of the single-table model. See model.h and
 * docs/DATA-MODEL.md.
 */
#include "lib/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "lib/http.h"
#include "lib/log.h"

static int check_currency(const cJSON *v, char *why, size_t why_len)
{
    const char *s = v->valuestring;
    if (strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
        s[2] >= 'A' && s[2] <= 'Z')
        return 0;
    snprintf(why, why_len, "must be an ISO 4217 code such as USD");
    return -1;
}

static int check_image_url(const cJSON *v, char *why, size_t why_len)
{
    const char *s = v->valuestring;
    if ((!strncmp(s, "https://", 8) && s[8]) || (!strncmp(s, "http://", 7) && s[7]) ||
        (s[0] == '/' && s[1] != '/')) {
        for (const char *p = s; *p; p++)
            if (*p == ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
                goto bad;
        return 0;
    }
bad:
    snprintf(why, why_len, "must be an http(s) URL or a path starting with /");
    return -1;
}

int model_check_id(const cJSON *v, char *why, size_t why_len)
{
    if (val_id(v->valuestring, MODEL_ID_MAX))
        return 0;
    snprintf(why, why_len, "must be 1 to %d of A-Z a-z 0-9 _ -", MODEL_ID_MAX);
    return -1;
}

const val_field model_product_create_fields[] = {
    {"id", VAL_STRING, 0, 1, MODEL_ID_MAX, NULL, model_check_id},
    {"name", VAL_STRING, VAL_REQUIRED, 1, 200, NULL, NULL},
    {"description", VAL_STRING, VAL_MULTILINE, 0, 4000, NULL, NULL},
    {"priceCents", VAL_INT, VAL_REQUIRED, 1, MODEL_PRICE_MAX, NULL, NULL},
    {"currency", VAL_STRING, 0, 3, 3, NULL, check_currency},
    {"stock", VAL_INT, VAL_REQUIRED, 0, MODEL_STOCK_MAX, NULL, NULL},
    {"imageUrl", VAL_STRING, VAL_NULLABLE, 1, 2048, NULL, check_image_url},
    {NULL, VAL_STRING, 0, 0, 0, NULL, NULL},
};

const val_field model_product_update_fields[] = {
    {"name", VAL_STRING, 0, 1, 200, NULL, NULL},
    {"description", VAL_STRING, VAL_MULTILINE, 0, 4000, NULL, NULL},
    {"priceCents", VAL_INT, 0, 1, MODEL_PRICE_MAX, NULL, NULL},
    {"currency", VAL_STRING, 0, 3, 3, NULL, check_currency},
    {"stock", VAL_INT, 0, 0, MODEL_STOCK_MAX, NULL, NULL},
    {"imageUrl", VAL_STRING, VAL_NULLABLE, 1, 2048, NULL, check_image_url},
    {NULL, VAL_STRING, 0, 0, 0, NULL, NULL},
};

void model_put_s(cJSON *item, const char *name, const char *value)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "S", value ? value : "");
    cJSON_DeleteItemFromObjectCaseSensitive(item, name);
    cJSON_AddItemToObject(item, name, a);
}

void model_put_n(cJSON *item, const char *name, long long value)
{
    char n[32];
    snprintf(n, sizeof n, "%lld", value);
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "N", n);
    cJSON_DeleteItemFromObjectCaseSensitive(item, name);
    cJSON_AddItemToObject(item, name, a);
}

const char *model_get_s(const cJSON *item, const char *name)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(item, name),
                                                      "S");
    return cJSON_IsString(s) ? s->valuestring : NULL;
}

int model_get_n(const cJSON *item, const char *name, long long *out)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(item, name),
                                                      "N");
    *out = 0;
    if (!cJSON_IsString(n))
        return -1;
    char *end = NULL;
    long long v = strtoll(n->valuestring, &end, 10);
    if (!end || *end)
        return -1;
    *out = v;
    return 0;
}

cJSON *model_key(const char *pk_prefix, const char *pk_id, const char *sk)
{
    size_t n = strlen(pk_prefix) + strlen(pk_id) + 1;
    char *pk = malloc(n);
    if (!pk)
        return NULL;
    snprintf(pk, n, "%s%s", pk_prefix, pk_id);
    cJSON *k = cJSON_CreateObject();
    model_put_s(k, "PK", pk);
    model_put_s(k, "SK", sk);
    free(pk);
    return k;
}

static const char *string_or(const cJSON *o, const char *name, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

cJSON *model_product_item(const cJSON *body, const char *id, const char *created_at)
{
    cJSON *item = model_key("PRODUCT#", id, "PRODUCT");
    if (!item)
        return NULL;
    char gsi1sk[128];
    snprintf(gsi1sk, sizeof gsi1sk, "%s#%s", created_at, id);
    model_put_s(item, "GSI1PK", "PRODUCT");
    model_put_s(item, "GSI1SK", gsi1sk);
    model_put_s(item, "entity", "Product");
    model_put_s(item, "id", id);
    model_put_s(item, "name", string_or(body, "name", ""));
    model_put_s(item, "description", string_or(body, "description", ""));
    const cJSON *price = cJSON_GetObjectItemCaseSensitive(body, "priceCents");
    const cJSON *stock = cJSON_GetObjectItemCaseSensitive(body, "stock");
    model_put_n(item, "priceCents", cJSON_IsNumber(price) ? (long long)price->valuedouble : 0);
    model_put_s(item, "currency", string_or(body, "currency", "USD"));
    model_put_n(item, "stock", cJSON_IsNumber(stock) ? (long long)stock->valuedouble : 0);
    const char *image = string_or(body, "imageUrl", NULL);
    if (image)
        model_put_s(item, "imageUrl", image);
    model_put_s(item, "createdAt", created_at);
    model_put_s(item, "updatedAt", created_at);
    return item;
}

static void add_s(cJSON *o, const char *name, const cJSON *item, const char *attr)
{
    const char *s = model_get_s(item, attr);
    cJSON_AddStringToObject(o, name, s ? s : "");
}

cJSON *model_product_from_item(const cJSON *item)
{
    cJSON *p = cJSON_CreateObject();
    long long n;
    add_s(p, "id", item, "id");
    add_s(p, "name", item, "name");
    add_s(p, "description", item, "description");
    model_get_n(item, "priceCents", &n);
    cJSON_AddNumberToObject(p, "priceCents", (double)n);
    add_s(p, "currency", item, "currency");
    model_get_n(item, "stock", &n);
    cJSON_AddNumberToObject(p, "stock", (double)(n < 0 ? 0 : n));
    const char *image = model_get_s(item, "imageUrl");
    if (image)
        cJSON_AddStringToObject(p, "imageUrl", image);
    else
        cJSON_AddNullToObject(p, "imageUrl");
    add_s(p, "createdAt", item, "createdAt");
    add_s(p, "updatedAt", item, "updatedAt");
    return p;
}

cJSON *model_order_from_item(const cJSON *item)
{
    cJSON *o = cJSON_CreateObject();
    long long n;
    add_s(o, "id", item, "id");
    add_s(o, "status", item, "status");
    const char *reason = model_get_s(item, "failureReason");
    if (reason)
        cJSON_AddStringToObject(o, "failureReason", reason);
    else
        cJSON_AddNullToObject(o, "failureReason");
    cJSON *lines = cJSON_AddArrayToObject(o, "lines");
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(item, "lines"),
                                                      "L");
    for (const cJSON *m = l ? l->child : NULL; m; m = m->next) {
        const cJSON *line = cJSON_GetObjectItemCaseSensitive(m, "M");
        cJSON *x = cJSON_CreateObject();
        add_s(x, "productId", line, "productId");
        add_s(x, "name", line, "name");
        model_get_n(line, "quantity", &n);
        cJSON_AddNumberToObject(x, "quantity", (double)n);
        model_get_n(line, "unitPriceCents", &n);
        cJSON_AddNumberToObject(x, "unitPriceCents", (double)n);
        model_get_n(line, "lineTotalCents", &n);
        cJSON_AddNumberToObject(x, "lineTotalCents", (double)n);
        cJSON_AddItemToArray(lines, x);
    }
    model_get_n(item, "total", &n);
    cJSON_AddNumberToObject(o, "totalCents", (double)n);
    add_s(o, "currency", item, "currency");
    const cJSON *addr = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(item, "shippingAddress"), "M");
    if (addr) {
        cJSON *a = cJSON_AddObjectToObject(o, "shippingAddress");
        for (const cJSON *f = addr->child; f; f = f->next) {
            const char *s = model_get_s(addr, f->string);
            if (s)
                cJSON_AddStringToObject(a, f->string, s);
        }
    }
    const char *arn = model_get_s(item, "executionArn");
    if (arn)
        cJSON_AddStringToObject(o, "executionArn", arn);
    add_s(o, "createdAt", item, "createdAt");
    add_s(o, "updatedAt", item, "updatedAt");
    return o;
}

void model_now_iso(char *buf, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

int model_uuid(char *buf, size_t len)
{
    unsigned char b[16];
    if (len < 37 || RAND_bytes(b, sizeof b) != 1)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(buf, len,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
    return 0;
}

static const char *env_from_ctx(void *env_ctx, const char *name)
{
    const lambda_context *ctx = env_ctx;
    return ctx && ctx->getenv ? ctx->getenv(ctx, name) : NULL;
}

cJSON *model_cart_query(const char *table, const char *user)
{
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "TableName", table);
    cJSON_AddStringToObject(q, "KeyConditionExpression", "PK = :pk AND begins_with(SK, :cart)");
    cJSON *v = cJSON_AddObjectToObject(q, "ExpressionAttributeValues");
    char pk[160];
    snprintf(pk, sizeof pk, "USER#%s", user);
    model_put_s(v, ":pk", pk);
    model_put_s(v, ":cart", "CART#");
    cJSON_AddBoolToObject(q, "ConsistentRead", 1);
    return q;
}

aws_client *model_client_new(const lambda_context *ctx)
{
    return aws_client_new(env_from_ctx, (void *)ctx);
}

int model_ddb(aws_client *client, const char *operation, const cJSON *body, cJSON **out,
              aws_error *err)
{
    char target[96];
    snprintf(target, sizeof target, "DynamoDB_20120810.%s", operation);
    *out = NULL;
    memset(err, 0, sizeof *err);
    return aws_json_call(client, "dynamodb", target, body, out, err);
}

int model_condition_failed(const aws_error *err)
{
    return !strcmp(err->type, "ConditionalCheckFailedException") ||
           (!strcmp(err->type, "TransactionCanceledException") &&
            strstr(err->message, "ConditionalCheckFailed"));
}

cJSON *model_unavailable(const lambda_context *ctx, const char *what, const aws_error *err)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "call", what);
    cJSON_AddNumberToObject(f, "httpStatus", err ? err->status : 0);
    cJSON_AddStringToObject(f, "errorType", err ? err->type : "");
    cJSON_AddStringToObject(f, "errorMessage", err ? err->message : "");
    log_event(ctx, "ERROR", "dependency.failed", f);
    cJSON_Delete(f);
    return http_error(503, "ServiceUnavailable", "the shop could not complete %s; try again", what);
}
