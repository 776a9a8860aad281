/*
 * lambda_impl.h — internals shared by lambda.c (registry, in-process host, logs,
 * Invoke API) and process.c (the process host and the emulator's Runtime API).
 */
#ifndef LAM_LAMBDA_IMPL_H
#define LAM_LAMBDA_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "core/template.h"
#include "lambda/lambda.h"
#include "runtime/handler.h"

#define LOG_TAIL_MAX 4096

typedef struct lam_function {
    const core_tpl_function *tpl; /* borrowed from the template */
    char *logical_id, *name, *arn;
    cJSON *env;                   /* name -> string: the template's + the emulator's */
    char *so_path;
    pthread_mutex_t lock;         /* guards loading and the log file */
    int loaded;                   /* 1 ok, -1 failed */
    char load_error[1400];
    void *dl;
    lambda_handler_fn handler;
    FILE *log;
} lam_function;

typedef struct lam_process_host lam_process_host; /* process.c */

struct lam_service {
    lam_process_host *processes; /* NULL unless --lambda-host process */
    core_emulator *emu;
    atomic_int async_running;     /* Event invocations still running */
    lam_function *fns;
    size_t n;
    char log_dir[1200];
};

typedef struct invocation {
    lam_function *fn;
    char request_id[40];
    char trace_id[96];
    char *tail;
    size_t tail_len;
} invocation;

/* Append a line to the function's log file and to the invocation's log tail. */
void lam_log_line(invocation *inv, const char *line);

/* Make out a function error {"errorMessage","errorType","stackTrace":[]}. */
void lam_set_error(lam_result *out, const char *type, const char *message);

/* ---- the process host (process.c) ----------------------------------------- */

/* Start the process host: register the emulator's Lambda Runtime API
 * (/2018-06-01/runtime/...) on the router and prepare the worker pools. */
int lam_process_host_start(lam_service *svc, core_err *err);

/* Stop every worker process (SIGTERM, then SIGKILL after a grace period) and
 * free the host; no-op when svc->processes is NULL. */
void lam_process_host_stop(lam_service *svc);

/* Run one invocation on a warm (or newly started) bootstrap process of f: hand
 * the event to the process through the Runtime API and wait for its answer until
 * deadline_ms (epoch ms). Fills out->payload/len/status: LAM_OK with the result,
 * or LAM_FUNCTION_ERROR via lam_set_error — the function's own error, or
 * Sandbox.Timedout ("RequestId: <id> Error: Task timed out after N.00 seconds";
 * the process is killed and replaced), or Runtime.ExitError when the process
 * dies ("RequestId: <id> Error: Runtime exited with error: signal: killed" /
 * "exit status N"). The process's stdout/stderr lines go to lam_log_line. */
void lam_process_run(lam_service *svc, lam_function *f, invocation *inv, const char *payload,
                     size_t len, long long deadline_ms, lam_result *out);

#endif
