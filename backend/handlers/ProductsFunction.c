/*
 * ProductsFunction.c — the catalog: public reads, admin writes and image upload
 * URLs (template.yaml's ProductsFunction; docs/api-specification.json).
 *
 *   GET    /products?limit&lastKey        the catalog, oldest first (GSI1 PRODUCT)
 *   GET    /products/{id}                 one product
 *   POST   /products                      admin: create (201); 409 if the id exists
 *   PATCH  /products/{id}                 admin: change some fields
 *   DELETE /products/{id}                 admin: delete (204)
 *   POST   /products/{id}/image-upload-url admin: a presigned S3 PUT for its image
 *
 * Admin means the cognito:groups claim names ADMIN_GROUP (default Admins): 401
 * without a user, 403 for a user outside it. Validation comes before any call.
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

#define LIST_DEFAULT 20
#define LIST_MAX 100
#define UPLOAD_EXPIRES_S 300

/* The dispatcher's request (lib/route.h): event, ctx, aws, table, user. */
typedef route_request request;

static const char *const product_cursor_keys[] = {"PK", "SK", "GSI1PK", "GSI1SK", NULL};

static const char *env_or(const request *r, const char *name, const char *dflt)
{
    const char *v = r->ctx->getenv(r->ctx, name);
    return v && *v ? v : dflt;
}

/* 401/403 unless the caller is an admin; NULL when they are. */
static cJSON *require_admin(const request *r)
{
    if (!http_user_id(r->event))
        return http_error(401, "Unauthorized", "sign in first");
    if (!http_claims_in_group(r->event, env_or(r, "ADMIN_GROUP", "Admins")))
        return http_error(403, "Forbidden", "only shop administrators may do this");
    return NULL;
}

/* GetItem of the product; 0 found (*item owned), 1 not found, -1 with *resp. */
static int get_product(const request *r, const char *id, cJSON **item, cJSON **resp)
{
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "TableName", r->table);
    cJSON_AddItemToObject(q, "Key", model_key("PRODUCT#", id, "PRODUCT"));
    cJSON_AddBoolToObject(q, "ConsistentRead", 1);
    cJSON *out;
    if (route_ddb(r, "GetItem", q, &out, resp))
        return -1;
    cJSON *found = cJSON_DetachItemFromObjectCaseSensitive(out, "Item");
    cJSON_Delete(out);
    if (!cJSON_IsObject(found)) {
        cJSON_Delete(found);
        return 1;
    }
    *item = found;
    return 0;
}

static cJSON *api_product(const cJSON *it, const request *r)
{
    (void)r;
    return model_product_from_item(it);
}

static cJSON *list_products(const request *r)
{
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "TableName", r->table);
    cJSON_AddStringToObject(q, "IndexName", "GSI1");
    cJSON_AddStringToObject(q, "KeyConditionExpression", "GSI1PK = :p");
    cJSON *values = cJSON_AddObjectToObject(q, "ExpressionAttributeValues");
    model_put_s(values, ":p", "PRODUCT");
    const route_page page = {"products", product_cursor_keys, LIST_MAX, LIST_DEFAULT,
                             api_product};
    return route_query_page(r, &page, q);
}

static cJSON *get_one(const request *r)
{
    cJSON *resp = NULL, *item = NULL;
    const char *id = route_path_id(r, "id", "product", &resp);
    if (!id)
        return resp;
    int rc = get_product(r, id, &item, &resp);
    if (rc < 0)
        return resp;
    if (rc > 0)
        return http_error(404, "ProductNotFound", "no product %s", id);
    cJSON *p = model_product_from_item(item);
    cJSON_Delete(item);
    return http_json(200, p);
}

static cJSON *create(const request *r)
{
    cJSON *resp = require_admin(r);
    if (resp)
        return resp;
    cJSON *body = http_body_object(r->event, HTTP_MAX_BODY, &resp);
    if (!body)
        return resp;
    val_problem prob;
    if (val_object(body, model_product_create_fields, &prob)) {
        cJSON_Delete(body);
        return http_error(422, "ValidationError", "%s", prob.message);
    }
    char id[MODEL_ID_MAX + 1], now[32];
    const cJSON *given = cJSON_GetObjectItemCaseSensitive(body, "id");
    if (cJSON_IsString(given))
        snprintf(id, sizeof id, "%s", given->valuestring);
    else if (model_uuid(id, sizeof id)) {
        cJSON_Delete(body);
        return http_error(503, "ServiceUnavailable", "no randomness for an id; try again");
    }
    model_now_iso(now, sizeof now);
    cJSON *item = model_product_item(body, id, now);
    cJSON_Delete(body);
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "TableName", r->table);
    cJSON_AddItemToObject(q, "Item", item);
    cJSON_AddStringToObject(q, "ConditionExpression", "attribute_not_exists(PK)");
    cJSON *product = model_product_from_item(item);
    int rc = route_ddb_conditional(r, "PutItem", q, NULL, &resp);
    if (rc) {
        cJSON_Delete(product);
        return rc > 0 ? http_error(409, "ProductExists", "a product with id %s exists", id) : resp;
    }
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "productId", id);
    log_event(r->ctx, "INFO", "product.created", f);
    cJSON_Delete(f);
    resp = http_json(201, product);
    char location[128];
    snprintf(location, sizeof location, "/products/%s", id);
    http_set_header(resp, "location", location);
    return resp;
}

static cJSON *update(const request *r)
{
    cJSON *resp = require_admin(r);
    if (resp)
        return resp;
    const char *id = route_path_id(r, "id", "product", &resp);
    if (!id)
        return resp;
    cJSON *body = http_body_object(r->event, HTTP_MAX_BODY, &resp);
    if (!body)
        return resp;
    val_problem prob;
    if (val_object(body, model_product_update_fields, &prob) || !body->child) {
        cJSON_Delete(body);
        return http_error(422, "ValidationError", "%s",
                          prob.message[0] ? prob.message : "give at least one field to change");
    }
    /* SET #f = :f for each given field (REMOVE for a null imageUrl) */
    char set[512] = "SET #updatedAt = :updatedAt", remove[80] = "";
    cJSON *names = cJSON_CreateObject(), *values = cJSON_CreateObject();
    char now[32];
    model_now_iso(now, sizeof now);
    cJSON_AddStringToObject(names, "#updatedAt", "updatedAt");
    model_put_s(values, ":updatedAt", now);
    for (const cJSON *f = body->child; f; f = f->next) {
        char name[40], value[40];
        snprintf(name, sizeof name, "#%s", f->string);
        snprintf(value, sizeof value, ":%s", f->string);
        cJSON_AddStringToObject(names, name, f->string);
        if (cJSON_IsNull(f)) {
            snprintf(remove, sizeof remove, " REMOVE %s", name);
            continue;
        }
        size_t used = strlen(set);
        snprintf(set + used, sizeof set - used, ", %s = %s", name, value);
        if (cJSON_IsNumber(f))
            model_put_n(values, value, (long long)f->valuedouble);
        else
            model_put_s(values, value, f->valuestring);
    }
    cJSON_Delete(body);
    char expr[600];
    snprintf(expr, sizeof expr, "%s%s", set, remove);
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "TableName", r->table);
    cJSON_AddItemToObject(q, "Key", model_key("PRODUCT#", id, "PRODUCT"));
    cJSON_AddStringToObject(q, "UpdateExpression", expr);
    cJSON_AddStringToObject(q, "ConditionExpression", "attribute_exists(PK)");
    cJSON_AddItemToObject(q, "ExpressionAttributeNames", names);
    cJSON_AddItemToObject(q, "ExpressionAttributeValues", values);
    cJSON_AddStringToObject(q, "ReturnValues", "ALL_NEW");
    cJSON *out;
    int rc = route_ddb_conditional(r, "UpdateItem", q, &out, &resp);
    if (rc)
        return rc > 0 ? http_error(404, "ProductNotFound", "no product %s", id) : resp;
    cJSON *p = model_product_from_item(cJSON_GetObjectItemCaseSensitive(out, "Attributes"));
    cJSON_Delete(out);
    return http_json(200, p);
}

static cJSON *delete_one(const request *r)
{
    cJSON *resp = require_admin(r);
    if (resp)
        return resp;
    const char *id = route_path_id(r, "id", "product", &resp);
    if (!id)
        return resp;
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "TableName", r->table);
    cJSON_AddItemToObject(q, "Key", model_key("PRODUCT#", id, "PRODUCT"));
    cJSON_AddStringToObject(q, "ConditionExpression", "attribute_exists(PK)");
    int rc = route_ddb_conditional(r, "DeleteItem", q, NULL, &resp);
    if (rc)
        return rc > 0 ? http_error(404, "ProductNotFound", "no product %s", id) : resp;
    return http_empty(204);
}

static int check_content_type(const cJSON *v, char *why, size_t why_len)
{
    static const char *const ok[] = {"image/jpeg", "image/png", "image/webp", "image/gif", NULL};
    for (size_t i = 0; ok[i]; i++)
        if (!strcmp(v->valuestring, ok[i]))
            return 0;
    snprintf(why, why_len, "must be image/jpeg, image/png, image/webp or image/gif");
    return -1;
}

static const val_field upload_fields[] = {
    {"contentType", VAL_STRING, 0, 1, 32, NULL, check_content_type},
    {NULL, VAL_STRING, 0, 0, 0, NULL, NULL},
};

static cJSON *image_upload_url(const request *r)
{
    cJSON *resp = require_admin(r);
    if (resp)
        return resp;
    const char *id = route_path_id(r, "id", "product", &resp);
    if (!id)
        return resp;
    /* the body is optional here: {"contentType": "image/png"} */
    cJSON *body = NULL;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(r->event, "body");
    if (cJSON_IsString(b) && b->valuestring[0]) {
        body = http_body_object(r->event, HTTP_MAX_BODY, &resp);
        if (!body)
            return resp;
        val_problem prob;
        if (val_object(body, upload_fields, &prob)) {
            cJSON_Delete(body);
            return http_error(422, "ValidationError", "%s", prob.message);
        }
    }
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(body, "contentType");
    char content_type[40];
    snprintf(content_type, sizeof content_type, "%s",
             cJSON_IsString(ct) ? ct->valuestring : "image/jpeg");
    cJSON_Delete(body);
    cJSON *item = NULL;
    int rc = get_product(r, id, &item, &resp);
    if (rc < 0)
        return resp;
    cJSON_Delete(item);
    if (rc > 0)
        return http_error(404, "ProductNotFound", "no product %s", id);
    const char *bucket = env_or(r, "IMAGES_BUCKET", NULL);
    if (!bucket)
        return http_error(503, "ServiceUnavailable", "image uploads are not configured");
    char uuid[40], key[160];
    if (model_uuid(uuid, sizeof uuid))
        return http_error(503, "ServiceUnavailable", "no randomness for a key; try again");
    const char *ext = strchr(content_type, '/') + 1;
    snprintf(key, sizeof key, "images/%s/%s.%s", id, uuid, !strcmp(ext, "jpeg") ? "jpg" : ext);
    aws_error err;
    memset(&err, 0, sizeof err);
    char *url = aws_s3_presign(r->aws, "PUT", bucket, key, UPLOAD_EXPIRES_S, content_type, &err);
    if (!url)
        return model_unavailable(r->ctx, "the upload URL", &err);
    const char *base = env_or(r, "IMAGES_BASE_URL", "");
    char image_url[512];
    snprintf(image_url, sizeof image_url, "%s/%s", base, key);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "uploadUrl", url);
    cJSON_AddStringToObject(o, "method", "PUT");
    cJSON *h = cJSON_AddObjectToObject(o, "headers");
    cJSON_AddStringToObject(h, "content-type", content_type);
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddStringToObject(o, "imageUrl", image_url);
    cJSON_AddNumberToObject(o, "expiresIn", UPLOAD_EXPIRES_S);
    free(url);
    return http_json(200, o);
}

/* ROUTE_PUBLIC throughout: reads are public, and the writes check the admin
 * group themselves (require_admin: 401/403), after the dispatcher's 503s. */
static const route routes[] = {
    {"GET /products", list_products, ROUTE_PUBLIC},
    {"GET /products/{id}", get_one, ROUTE_PUBLIC},
    {"POST /products", create, ROUTE_PUBLIC},
    {"PATCH /products/{id}", update, ROUTE_PUBLIC},
    {"DELETE /products/{id}", delete_one, ROUTE_PUBLIC},
    {"POST /products/{id}/image-upload-url", image_upload_url, ROUTE_PUBLIC},
};

ROUTE_HANDLER(routes)
