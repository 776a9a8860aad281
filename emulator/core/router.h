/*
 * router.h — which emulated service answers a request on the aws listener.
 *
 * One endpoint serves every AWS API, as LocalStack does. A request is routed by,
 * in order:
 *   1. its X-Amz-Target header's prefix ("DynamoDB_20120810.GetItem" ->
 *      the service registered with target prefix "DynamoDB_20120810");
 *   2. a registered path prefix ("/_shoplocal/", "/2018-06-01/runtime/");
 *   3. the service name in its SigV4 credential scope — from the Authorization
 *      header ("Credential=AKID/20250101/us-east-1/s3/aws4_request") or from a
 *      presigned URL's X-Amz-Credential query parameter.
 * A request no service claims gets 400 UnknownOperationException in the AWS
 * JSON error shape.
 */
#ifndef CORE_ROUTER_H
#define CORE_ROUTER_H

#include <stddef.h>

#include "core/http.h"

typedef struct core_service {
    const char *name;          /* "dynamodb": shown in health and logs */
    const char *target_prefix; /* X-Amz-Target prefix, or NULL */
    const char *signing_name;  /* SigV4 service name, or NULL */
    const char *path_prefix;   /* e.g. "/_shoplocal/", or NULL */
    core_http_handler handler;
    void *ctx;
} core_service;

typedef struct core_router core_router;

core_router *core_router_new(void);
void core_router_free(core_router *router);

/* Register a service (the struct is copied; its strings are borrowed and must
 * outlive the router). Returns CORE_OK, or CORE_ERROR if the table is full. */
int core_router_add(core_router *router, const core_service *svc);

size_t core_router_count(const core_router *router);
const core_service *core_router_at(const core_router *router, size_t i);

/* The service for these request facts (each may be NULL), or NULL. Borrowed. */
const core_service *core_router_match(const core_router *router, const char *target,
                                      const char *authorization, const char *path,
                                      const char *raw_query);

/* Extract the service name from a SigV4 Authorization header value into out.
 * Returns 0, or -1 if the header is not SigV4 or has no credential scope. */
int core_sigv4_scope_service(const char *authorization, char *out, size_t len);

/* Same, from a query string's X-Amz-Credential parameter (percent-encoded). */
int core_sigv4_query_service(const char *raw_query, char *out, size_t len);

/* The listener handler: route and call the service, or answer the error. */
void core_router_dispatch(void *router, const core_http_request *req, core_http_response *resp);

#endif
