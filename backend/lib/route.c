/*
 * route.c — the API handlers' shared dispatcher (route.h): route look-up, the
 * 404/401/503 checks, the invocation's AWS client and the access log line.
 */
#include "lib/route.h"

#include <string.h>

#include "lib/http.h"
#include "lib/log.h"
#include "lib/model.h"

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
