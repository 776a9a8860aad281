/*
 * route.c — the API handlers' shared dispatcher (route.h): route look-up, the
 * 404/401/503 checks, the invocation's AWS client and the access log line;
 * and the listings' paging (limit, lastKey cursor, {items, lastKey}).
 */
#include "lib/route.h"

#include <stdlib.h>
#include <string.h>

#include "lib/cursor.h"
#include "lib/http.h"
#include "lib/log.h"
#include "lib/model.h"
#include "lib/val.h"

/* The route's answer, or the 401/503 that comes before it. */
static cJSON *run_route(const route *rt, route_request *r)
{
    if (rt->auth == ROUTE_USER && !r->user)
        return http_error(401, "Unauthorized", "sign in first");
    if (!r->table)
        return http_error(503, "ServiceUnavailable", "TABLE_NAME is not set");
    if (!(r->aws = model_client_new(r->ctx)))
        return http_error(503, "ServiceUnavailable", "out of memory");
    return rt->fn(r);
}

cJSON *route_dispatch(const route *routes, size_t n, const cJSON *event,
                      const lambda_context *ctx)
{
    long long started = lambda_epoch_ms();
    route_request r = {.event = event, .ctx = ctx, .table = ctx->getenv(ctx, "TABLE_NAME"),
                       .user = http_user_id(event)};
    const char *key = http_route_key(event);
    cJSON *resp = NULL;
    for (size_t i = 0; i < n && !resp; i++)
        if (!strcmp(routes[i].key, key))
            resp = run_route(&routes[i], &r);
    if (!resp)
        resp = http_error(404, "NotFound", "no route %s", key);
    aws_client_free(r.aws);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(resp, "statusCode");
    log_request(ctx, event, cJSON_IsNumber(status) ? status->valueint : 0, started);
    return resp;
}

const char *route_path_id(const route_request *r, const char *param, const char *what,
                          cJSON **bad)
{
    const char *id = http_path_param(r->event, param);
    if (val_id(id, MODEL_ID_MAX))
        return id;
    *bad = http_error(400, "InvalidParameter", "the %s id must be 1 to %d of A-Z a-z 0-9 _ -",
                      what, MODEL_ID_MAX);
    return NULL;
}

/* route_ddb and route_ddb_conditional: 1 on a failed condition only when
 * conditional. */
static int ddb_call(const route_request *r, const char *operation, cJSON *body, cJSON **out,
                    cJSON **unavailable, int conditional)
{
    cJSON *answer = NULL;
    aws_error err;
    int rc = model_ddb(r->aws, operation, body, &answer, &err);
    cJSON_Delete(body);
    if (!rc && out) {
        *out = answer;
        return 0;
    }
    cJSON_Delete(answer);
    if (out)
        *out = NULL;
    if (!rc)
        return 0;
    if (conditional && model_condition_failed(&err))
        return 1;
    *unavailable = model_unavailable(r->ctx, operation, &err);
    return -1;
}

int route_ddb(const route_request *r, const char *operation, cJSON *body, cJSON **out,
              cJSON **unavailable)
{
    return ddb_call(r, operation, body, out, unavailable, 0);
}

int route_ddb_conditional(const route_request *r, const char *operation, cJSON *body,
                          cJSON **out, cJSON **unavailable)
{
    return ddb_call(r, operation, body, out, unavailable, 1);
}

int route_batch_get(const route_request *r, cJSON *q, cJSON *items, cJSON **unavailable)
{
    for (int attempt = 0; q && attempt < 5; attempt++) {
        cJSON *out;
        int rc = route_ddb(r, "BatchGetItem", q, &out, unavailable);
        q = NULL;
        if (rc)
            return -1;
        const cJSON *got = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(out, "Responses"), r->table);
        for (const cJSON *it = got ? got->child : NULL; it; it = it->next)
            cJSON_AddItemToArray(items, cJSON_Duplicate(it, 1));
        cJSON *un = cJSON_GetObjectItemCaseSensitive(out, "UnprocessedKeys");
        if (cJSON_IsObject(un) && un->child) {
            q = cJSON_CreateObject();
            cJSON_AddItemToObject(q, "RequestItems",
                                  cJSON_DetachItemFromObjectCaseSensitive(out, "UnprocessedKeys"));
        }
        cJSON_Delete(out);
    }
    if (!q)
        return 0;
    cJSON_Delete(q);
    return 1;
}

cJSON *route_query_page(const route_request *r, const route_page *page, cJSON *q)
{
    long long limit;
    if (http_query_int(r->event, "limit", 1, page->max, page->dflt, &limit)) {
        cJSON_Delete(q);
        return http_error(400, "InvalidParameter", "limit must be an integer from 1 to %lld",
                          page->max);
    }
    const char *secret = r->ctx->getenv(r->ctx, "CURSOR_SECRET");
    cJSON *start = NULL;
    const char *last = http_query_param(r->event, "lastKey");
    if (last && !(start = cursor_decode(last, page->scope, secret, page->keys))) {
        cJSON_Delete(q);
        return http_error(400, "InvalidCursor", "lastKey is not a cursor this API gave out");
    }
    cJSON_AddNumberToObject(q, "Limit", (double)limit);
    if (start)
        cJSON_AddItemToObject(q, "ExclusiveStartKey", start);
    cJSON *out, *unavailable;
    if (route_ddb(r, "Query", q, &out, &unavailable))
        return unavailable;
    cJSON *body = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(body, "items");
    const cJSON *found = cJSON_GetObjectItemCaseSensitive(out, "Items");
    for (const cJSON *it = found ? found->child : NULL; it; it = it->next) {
        cJSON *api = page->item(it, r);
        if (api)
            cJSON_AddItemToArray(items, api);
    }
    const cJSON *lek = cJSON_GetObjectItemCaseSensitive(out, "LastEvaluatedKey");
    char *cursor = cJSON_IsObject(lek) ? cursor_encode(lek, page->scope, secret) : NULL;
    if (cursor)
        cJSON_AddStringToObject(body, "lastKey", cursor);
    else
        cJSON_AddNullToObject(body, "lastKey");
    free(cursor);
    cJSON_Delete(out);
    return http_json(200, body);
}
