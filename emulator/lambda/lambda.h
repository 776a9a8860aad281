/*
 * lambda.h — the emulator's Lambda service: the template's functions, hosted
 * in-process, invoked by the HTTP API, by Step Functions and by the Lambda Invoke
 * API (POST /2015-03-31/functions/{name}/invocations on the aws listener).
 *
 * In-process host: a function's handler is its source built as a shared object,
 * <functions dir>/<LogicalId>.so (`--functions`, default build/functions), loaded
 * with dlopen on first use and called through the handler ABI of
 * backend/runtime/handler.h. Each function sees its own environment (the
 * template's, intrinsics resolved, plus the variables that point its AWS client
 * at this emulator) through ctx->getenv, never the process environment.
 *
 * Every invocation writes CloudWatch-style START / END / REPORT lines (and the
 * function's own log lines) to <data>/logs/lambda/<function name>.log.
 *
 * Limits of the in-process host, said plainly: a handler runs on the caller's
 * thread and cannot be pre-empted, so a Timeout is enforced after the fact (the
 * result is discarded and Sandbox.Timedout reported, as AWS would have), and a
 * handler that crashes takes the emulator with it.
 */
#ifndef LAM_LAMBDA_H
#define LAM_LAMBDA_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/emulator.h"
#include "core/err.h"

typedef struct lam_service lam_service;

typedef enum lam_status {
    LAM_OK = 0,           /* payload is the function's result */
    LAM_FUNCTION_ERROR,   /* payload is {"errorMessage","errorType","stackTrace"} */
    LAM_NOT_FOUND,        /* no such function */
} lam_status;

typedef struct lam_result {
    lam_status status;
    char *payload;        /* JSON text (owned) */
    size_t len;
    char error_type[128]; /* LAM_FUNCTION_ERROR: errorType */
    char request_id[40];
    double duration_ms;
    char *log_tail;       /* the invocation's log lines (owned), for X-Amz-Log-Result */
} lam_result;

int lam_service_start(core_emulator *emu, void **state, core_err *err);
void lam_service_stop(void *state);

/* The running service (borrowed), for the HTTP API and Step Functions. */
lam_service *lam_service_of(core_emulator *emu);

/* Invoke a function by name, logical id or ARN (RequestResponse), with the event
 * payload[0..len) (JSON text). Fills out; release with lam_result_release. */
void lam_invoke(lam_service *svc, const char *function, const char *payload, size_t len,
                lam_result *out);
/* The same with the event as a tree (borrowed): in-process callers that built
 * it (the HTTP API) save printing and re-parsing it. */
void lam_invoke_event(lam_service *svc, const char *function, const cJSON *event,
                      lam_result *out);

void lam_result_release(lam_result *r);

#endif
