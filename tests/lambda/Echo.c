/*
 * Echo.c — the test function: echoes its event and context, or does what the
 * event's "action" says ("error", "sleep" for "ms" milliseconds, "log", "respond"
 * with the event's "response"; "crash": abort(), for the process host only, never
 * in-process). Built in-process as build/tests/functions/Echo.so, and as the
 * bootstrap build/tests/functions/Echo/bootstrap for --lambda-host process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/handler.h"

static cJSON *echo(const cJSON *event, const lambda_context *ctx, lambda_error *err)
{
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(event, "action");
    const char *a = cJSON_IsString(action) ? action->valuestring : "echo";
    /* Through the HTTP API the action comes in the query string, and "respond"
     * answers the request body parsed as JSON. */
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(event, "queryStringParameters");
    const cJSON *qa = cJSON_GetObjectItemCaseSensitive(qs, "action");
    if (cJSON_IsString(qa))
        a = qa->valuestring;
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(event, "body");
    if (!strcmp(a, "respond") && cJSON_IsString(qa) && cJSON_IsString(body)) {
        cJSON *r = cJSON_Parse(body->valuestring);
        return r ? r : cJSON_CreateString(body->valuestring);
    }
    if (!strcmp(a, "pong")) /* the trivial answer, for benchmarks */
        return cJSON_CreateTrue();
    if (!strcmp(a, "error"))
        return lambda_error_set(err, "EchoError", "told to fail");
    if (!strcmp(a, "crash"))
        abort();
    if (!strcmp(a, "sleep")) {
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(event, "ms");
        long v = cJSON_IsNumber(ms) ? (long)ms->valuedouble : 0;
        struct timespec ts = {v / 1000, (v % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (!strcmp(a, "respond")) /* answer the event's "response" as it is */
        return cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(event, "response"), 1);
    if (!strcmp(a, "log"))
        ctx->log(ctx, "INFO", "hello from echo");
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "event", cJSON_Duplicate(event, 1));
    cJSON_AddStringToObject(out, "requestId", ctx->request_id);
    cJSON_AddStringToObject(out, "functionName", ctx->function_name);
    cJSON_AddStringToObject(out, "functionArn", ctx->function_arn);
    cJSON_AddStringToObject(out, "traceId", ctx->trace_id ? ctx->trace_id : "");
    const char *greeting = ctx->getenv(ctx, "GREETING");
    cJSON_AddStringToObject(out, "greeting", greeting ? greeting : "");
    const char *endpoint = ctx->getenv(ctx, "AWS_ENDPOINT_URL");
    cJSON_AddStringToObject(out, "endpoint", endpoint ? endpoint : "");
    cJSON_AddBoolToObject(out, "deadlineInFuture", ctx->deadline_ms > lambda_epoch_ms());
    return out;
}

LAMBDA_HANDLER(echo)
