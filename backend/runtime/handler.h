/*
 * handler.h — the one ABI every shoplocal Lambda function implements, shared by
 * both hosts (ARCHITECTURE.md, "One handler, two hosts"):
 *
 *   - production: runtime.c links the handler into a `bootstrap` that polls the
 *     Lambda Runtime API (provided.al2023);
 *   - the emulator: the same source built as a shared object, loaded with dlopen,
 *     and called in-process through the symbol `lambda_handler` (and, if present,
 *     `lambda_init`).
 *
 * A handler is a plain function of (event, context) to a response or an error:
 *
 *     static cJSON *products_get(const cJSON *event, const lambda_context *ctx,
 *                                lambda_error *err)
 *     {
 *         if (!valid(event))
 *             return lambda_error_set(err, "ValidationError", "missing %s", "id");
 *         return response;               // the host frees it
 *     }
 *     LAMBDA_HANDLER(products_get)
 *
 * Ownership: the event and the context are borrowed for the duration of the call
 * (copy what must outlive it; the context's strings change with every invocation).
 * A non-NULL return value is owned by the caller (the host), which serialises and
 * cJSON_Delete()s it. A NULL return means "function error": the host reports
 * err->type / err->message as {"errorType", "errorMessage", "stackTrace": []}.
 *
 * Configuration comes only from ctx->getenv (the function's environment from the
 * template); never from getenv(3) directly, because in-process the emulator hosts
 * many functions with different environments in one process.
 *
 * Depends on cJSON only: nothing here may include the emulator.
 */
#ifndef LAMBDA_HANDLER_H
#define LAMBDA_HANDLER_H

#include <cjson/cJSON.h>

typedef struct lambda_context {
    const char *request_id;    /* Lambda-Runtime-Aws-Request-Id; NULL during init */
    long long deadline_ms;     /* Lambda-Runtime-Deadline-Ms, epoch ms; 0 = unknown */
    const char *function_name; /* AWS_LAMBDA_FUNCTION_NAME */
    const char *function_arn;  /* Lambda-Runtime-Invoked-Function-Arn ("" if absent) */
    const char *trace_id;      /* Lambda-Runtime-Trace-Id, NULL if absent */
    const char *memory_mb_text; /* AWS_LAMBDA_FUNCTION_MEMORY_SIZE, e.g. "128" */
    /* The function's environment: a value (borrowed, valid until the handler
     * returns) or NULL when unset. */
    const char *(*getenv)(const struct lambda_context *ctx, const char *name);
    /* One JSON object per line with time, level, requestId, traceId, message.
     * level: "DEBUG", "INFO", "WARN", "ERROR". message is copied. */
    void (*log)(const struct lambda_context *ctx, const char *level, const char *message);
    /* Lambda-Runtime-Client-Context / Lambda-Runtime-Cognito-Identity (JSON text
     * as sent by AWS Mobile SDK invocations); NULL when absent. */
    const char *client_context;
    const char *cognito_identity;
    void *host; /* private to the host */
} lambda_context;

typedef struct lambda_error {
    char type[128];     /* errorType, e.g. "ValidationError" */
    char message[1024]; /* errorMessage */
} lambda_error;

/* A handler returns the response (caller owns) or NULL with err filled
 * (errorType, errorMessage). err arrives zeroed. */
typedef cJSON *(*lambda_handler_fn)(const cJSON *event, const lambda_context *ctx,
                                    lambda_error *err);

/* An optional one-time initialisation hook, run before the first invocation
 * with a context whose request_id is NULL and deadline_ms 0. Returns 0 on
 * success; nonzero with err filled makes the host report an init error
 * (production: POST /runtime/init/error, then the bootstrap exits nonzero). */
typedef int (*lambda_init_fn)(const lambda_context *ctx, lambda_error *err);

/* The well-known symbols a function exports, found by dlsym() in the emulator's
 * in-process host and linked by bootstrap_main.c in production. */
#define LAMBDA_EXPORT __attribute__((visibility("default")))

cJSON *lambda_handler(const cJSON *event, const lambda_context *ctx, lambda_error *err);
int lambda_init(const lambda_context *ctx, lambda_error *err);

/* Export fn as the function's handler: exactly one per function. */
#define LAMBDA_HANDLER(fn)                                                                \
    LAMBDA_EXPORT cJSON *lambda_handler(const cJSON *event, const lambda_context *ctx,   \
                                        lambda_error *err)                               \
    {                                                                                     \
        return fn(event, ctx, err);                                                       \
    }

/* Export fn as the function's init hook: at most one per function, optional. */
#define LAMBDA_INIT(fn)                                                                   \
    LAMBDA_EXPORT int lambda_init(const lambda_context *ctx, lambda_error *err)           \
    {                                                                                     \
        return fn(ctx, err);                                                              \
    }

/* Fill err with type and a printf-style message. Text longer than the buffers is
 * cut and marked with a trailing "..." (never silently). Returns NULL so that a
 * handler can `return lambda_error_set(err, ...);`. err may be NULL (no-op). */
cJSON *lambda_error_set(lambda_error *err, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Milliseconds left before ctx->deadline_ms at epoch time now_ms; 0 once past,
 * and LLONG_MAX when the deadline is unknown (0). */
long long lambda_remaining_ms(const lambda_context *ctx, long long now_ms);

/* The wall clock in epoch milliseconds (CLOCK_REALTIME), to pass as now_ms. */
long long lambda_epoch_ms(void);

#endif
