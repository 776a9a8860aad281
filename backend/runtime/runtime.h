/*
 * runtime.h — the production host: the provided.al2023 custom-runtime loop
 * that turns a lambda_handler_fn into a `bootstrap` (AWS Lambda developer
 * guide, "Using the Lambda runtime API for custom runtimes").
 *
 * Uses libcurl and cJSON only; never the emulator. In the emulator's process
 * mode the same bootstrap runs against the emulator's own Runtime API.
 */
#ifndef LAMBDA_RUNTIME_H
#define LAMBDA_RUNTIME_H

#include <stdio.h>

#include "runtime/handler.h"

/* What lambda_runtime_run returns; bootstrap_main.c makes it the exit status. */
typedef enum lambda_runtime_status {
    LAMBDA_RUNTIME_DONE = 0,       /* opts->max_invocations served */
    LAMBDA_RUNTIME_ERR_CONFIG = 1, /* no AWS_LAMBDA_RUNTIME_API, or libcurl unusable */
    LAMBDA_RUNTIME_ERR_INIT = 2,   /* the init hook failed (reported to /init/error) */
    LAMBDA_RUNTIME_ERR_API = 3,    /* the Runtime API is gone: /next failed 3 times in a
                                      row, or a result could not be posted */
} lambda_runtime_status;

/* The Runtime API's limit on a synchronous response (as the 413's invoke error
 * says: "Response payload size exceeded maximum allowed payload size (6291556
 * bytes)."). The runtime does not enforce it itself: the API answers 413. */
#define LAMBDA_RUNTIME_MAX_RESPONSE 6291556

/* Consecutive failed /next calls before giving up (aws-lambda-cpp's run_handler). */
#define LAMBDA_RUNTIME_NEXT_RETRIES 3

typedef struct lambda_runtime_stats {
    long invocations;  /* events received from /next */
    long errors;       /* invocations reported to /error */
    long connects;     /* TCP connections opened (CURLINFO_NUM_CONNECTS, summed) */
} lambda_runtime_stats;

typedef struct lambda_runtime_opts {
    const char *endpoint;  /* "host:port"; NULL: $AWS_LAMBDA_RUNTIME_API */
    long max_invocations;  /* return after this many events; 0: loop forever */
    lambda_init_fn init;   /* optional init hook (see handler.h) */
    FILE *log;             /* where the JSON log lines go; NULL: stdout */
    lambda_runtime_stats *stats; /* filled if not NULL */
} lambda_runtime_opts;

/*
 * Run the Runtime API loop with fn as the handler; opts may be NULL. Returns a
 * lambda_runtime_status.
 *
 * Init: runs opts->init (if any); on failure POSTs the error to
 * /2018-06-01/runtime/init/error and returns LAMBDA_RUNTIME_ERR_INIT.
 * Then, per event: GET /2018-06-01/runtime/invocation/next (no timeout: the
 * sandbox may be frozen while it waits), set _X_AMZN_TRACE_ID (or unset it when
 * the event has no trace id), parse the body as JSON, call fn, and POST either
 * .../invocation/{id}/response with the JSON, or .../invocation/{id}/error with
 * {"errorMessage","errorType","stackTrace":[]} and the header
 * Lambda-Runtime-Function-Error-Type. Error types the runtime itself reports:
 *   Runtime.UnmarshalError         the event body is not JSON
 *   Runtime.MarshalError           the response cannot be serialised
 *   Function.ResponseSizeTooLarge  the API answered 413 to the response
 * A handler error never ends the loop. One libcurl handle (and so one kept-alive
 * connection) serves every call.
 *
 * Library code: never exits; the caller (bootstrap_main.c) turns the status into
 * the process's exit status.
 */
int lambda_runtime_run(lambda_handler_fn fn, const lambda_runtime_opts *opts);

#endif
