/*
 * inproc.h — call one of the emulator's own AWS services in-process, through
 * the aws listener's router, with a synthesized request.
 *
 * Step Functions' service integrations (dynamodb:putItem, sns:publish, ...)
 * need the emulator's other services. Going over loopback HTTP from a worker
 * would hold a listener thread per call and could starve the listener; this
 * builds the core_http_request a client would have sent (POST /, X-Amz-Target,
 * the JSON protocol's content type) and runs core_router_dispatch on the
 * calling thread, so the service's wire layer — parsing, validation, errors —
 * is exactly what a client gets. A target no service claims answers the
 * router's UnknownOperationException, as over HTTP.
 */
#ifndef CORE_INPROC_H
#define CORE_INPROC_H

#include <cjson/cJSON.h>

#include "core/err.h"
#include "core/router.h"

/* POST target ("DynamoDB_20120810.PutItem") with body (borrowed) to the
 * router. CORE_OK with *out (owned) the answer's JSON when the status is 2xx;
 * otherwise CORE_ERROR with err->type the answer's __type (after any '#'),
 * err->message its message and err->status its status. */
int core_inproc_call(core_router *router, const char *target, const cJSON *body, cJSON **out,
                     core_err *err);

#endif
