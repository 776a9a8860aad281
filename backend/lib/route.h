/*
 * route.h — the one dispatcher of the API handlers: a handler names its routes
 * (routeKey and function, and whether the route needs a signed-in user) and
 * route_dispatch does the rest, the same for every function:
 *
 *   - the event's routeKey picks the route; none: 404 NotFound "no route <key>";
 *   - a ROUTE_USER route without a signed-in user (http_user_id): 401;
 *   - TABLE_NAME unset in the function's environment: 503;
 *   - one AWS client for the invocation (model_client_new), freed afterwards;
 *     out of memory: 503;
 *   - one access line (log_request) with the answer's statusCode.
 *
 * The checks run in that order and only for a matching route. A ROUTE_PUBLIC
 * route still gets the user (NULL when none): a public route may answer more
 * to a signed-in caller, or check a group itself.
 *
 * The client is not kept across invocations: aws_client_new reads the
 * invocation's _X_AMZN_TRACE_ID (and the credentials and every endpoint
 * variable) once, so a kept client would send a stale trace id.
 */
#ifndef BACKEND_ROUTE_H
#define BACKEND_ROUTE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/aws.h"
#include "runtime/handler.h"

/* What a route function is handed: all borrowed for the invocation. */
typedef struct route_request {
    const cJSON *event;
    const lambda_context *ctx;
    aws_client *aws;   /* never NULL in a route function */
    const char *table; /* TABLE_NAME, never NULL in a route function */
    const char *user;  /* the signed-in user's id; NULL only on ROUTE_PUBLIC */
} route_request;

typedef enum route_auth {
    ROUTE_USER,   /* 401 Unauthorized without a signed-in user */
    ROUTE_PUBLIC, /* anyone */
} route_auth;

typedef struct route {
    const char *key; /* the routeKey, "GET /products/{id}" */
    cJSON *(*fn)(const route_request *r);
    route_auth auth;
} route;

/* Answer event with the first of routes[0..n) whose key is the event's routeKey
 * (see the top of this file). Never NULL unless out of memory. */
cJSON *route_dispatch(const route *routes, size_t n, const cJSON *event,
                      const lambda_context *ctx);

/* The path parameter param as an id (val_id, at most MODEL_ID_MAX), or NULL
 * with *bad the 400 InvalidParameter "the <what> id must be 1 to 64 of ..."
 * (caller owns). */
const char *route_path_id(const route_request *r, const char *param, const char *what,
                          cJSON **bad);

/* The DynamoDB operation (model_ddb) on the invocation's client with body
 * (owned: deleted here), for calls whose every failure answers 503: 0 with *out
 * (caller owns), or -1 with *out NULL and *unavailable the logged 503 answer
 * (model_unavailable; caller owns). */
int route_ddb(const route_request *r, const char *operation, cJSON *body, cJSON **out,
              cJSON **unavailable);

/* A conditional write: as route_ddb, but 1 with *out NULL and nothing answered
 * when the condition failed (model_condition_failed). out may be NULL: the
 * operation's answer is dropped. */
int route_ddb_conditional(const route_request *r, const char *operation, cJSON *body,
                          cJSON **out, cJSON **unavailable);

/* BatchGetItem of q (owned; RequestItems on r->table), asking UnprocessedKeys
 * again, 5 calls at the most: copies of the table's items appended to items.
 * 0 when every key was read, 1 when some were still unprocessed after the last
 * call, -1 with *unavailable the logged 503 (items keeps what was read). */
int route_batch_get(const route_request *r, cJSON *q, cJSON *items, cJSON **unavailable);

/* One listing's paging: GET ...?limit&lastKey answered {items, lastKey}. */
typedef struct route_page {
    const char *scope;       /* the cursor's scope ("products", "orders#<sub>") */
    const char *const *keys; /* the key attributes a cursor may carry (NULL-ended) */
    long long max, dflt;     /* limit's upper bound (lower: 1) and default */
    /* The API's item from a table item (caller owns), or NULL to leave it out. */
    cJSON *(*item)(const cJSON *table_item, const route_request *r);
} route_page;

/* One page of the Query q (owned): 400 InvalidParameter for a limit outside
 * 1..max, 400 InvalidCursor for a lastKey this API did not give out under
 * scope (CURSOR_SECRET); otherwise q gets Limit and ExclusiveStartKey and runs,
 * 503 when it fails, else 200 {"items": [page->item of each], "lastKey": the
 * cursor of LastEvaluatedKey, or null}. */
cJSON *route_query_page(const route_request *r, const route_page *page, cJSON *q);

/* Export the function's handler: route_dispatch over the array table. */
#define ROUTE_HANDLER(table)                                                              \
    static cJSON *route_handler_(const cJSON *event, const lambda_context *ctx,           \
                                 lambda_error *err)                                       \
    {                                                                                     \
        (void)err;                                                                        \
        return route_dispatch(table, sizeof table / sizeof *table, event, ctx);           \
    }                                                                                     \
    LAMBDA_HANDLER(route_handler_)

#endif
