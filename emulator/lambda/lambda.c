/*
 * lambda.c — the Lambda service: function registry, in-process host, logs, and
 * the Invoke API. See lambda.h.
 */
#include "lambda/lambda.h"

#include <dlfcn.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/codec.h"
#include "core/http.h"
#include "core/log.h"
#include "core/services.h"
#include "core/template.h"
#include "runtime/handler.h"

#include "lambda/lambda_impl.h"

static void lam_wire_handle(void *ctx, const core_http_request *req, core_http_response *resp);

/* ---- registry ------------------------------------------------------------- */

static void env_add(cJSON *env, const char *k, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(env, k);
    cJSON_AddStringToObject(env, k, v);
}

static int mkdirs(const char *path)
{
    char buf[1200];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int lam_service_start(core_emulator *emu, void **state, core_err *err)
{
    const core_template *tpl = core_emulator_template(emu);
    const core_config *cfg = core_emulator_config(emu);
    lam_service *svc = calloc(1, sizeof *svc);
    if (!svc)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    svc->emu = emu;
    svc->n = core_template_function_count(tpl);
    svc->fns = calloc(svc->n + 1, sizeof *svc->fns);
    snprintf(svc->log_dir, sizeof svc->log_dir, "%s/logs/lambda", cfg->data_dir);
    if (mkdirs(svc->log_dir) != 0) {
        free(svc->fns);
        free(svc);
        return core_err_set(err, 500, "InternalFailure", "cannot create %s", svc->log_dir);
    }
    char mem[16];
    for (size_t i = 0; i < svc->n; i++) {
        const core_tpl_function *t = core_template_function_at(tpl, i);
        lam_function *f = &svc->fns[i];
        f->tpl = t;
        f->logical_id = strdup(t->resource->logical_id);
        f->name = strdup(t->name);
        f->arn = strdup(t->arn);
        pthread_mutex_init(&f->lock, NULL);
        f->env = cJSON_Duplicate(t->environment, 1);
        /* What Lambda sets, and what points the function's AWS client here. */
        env_add(f->env, "AWS_REGION", core_template_region(tpl));
        env_add(f->env, "AWS_DEFAULT_REGION", core_template_region(tpl));
        env_add(f->env, "AWS_LAMBDA_FUNCTION_NAME", f->name);
        snprintf(mem, sizeof mem, "%d", t->memory_mb);
        env_add(f->env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", mem);
        env_add(f->env, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        char group[400];
        snprintf(group, sizeof group, "/aws/lambda/%s", f->name);
        env_add(f->env, "AWS_LAMBDA_LOG_GROUP_NAME", group);
        env_add(f->env, "AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023");
        env_add(f->env, "AWS_ACCESS_KEY_ID", "test");
        env_add(f->env, "AWS_SECRET_ACCESS_KEY", "test");
        env_add(f->env, "AWS_SESSION_TOKEN", "test");
        /* AWS_ENDPOINT_URL and SHOPLOCAL_STRIPE_URL are set on first load: the
         * listeners (and so their ports) come up after the services. */
        if (asprintf(&f->so_path, "%s/%s.so", cfg->functions_dir, f->logical_id) < 0)
            f->so_path = NULL;
    }
    *state = svc;
    core_service route = {.name = "lambda", .signing_name = "lambda",
                          .path_prefix = "/2015-03-31/functions", .handler = NULL, .ctx = svc};
    route.handler = lam_wire_handle;
    if (core_router_add(core_emulator_router(emu), &route) != CORE_OK) {
        lam_service_stop(svc);
        *state = NULL;
        return core_err_set(err, 500, "InternalFailure", "router full");
    }
    if (!strcmp(cfg->lambda_host, "process")) {
        if (lam_process_host_start(svc, err) != CORE_OK) {
            lam_service_stop(svc);
            *state = NULL;
            return CORE_ERROR;
        }
    } else if (strcmp(cfg->lambda_host, "inprocess") != 0) {
        lam_service_stop(svc);
        *state = NULL;
        return core_err_set(err, 2, "InvalidArgument",
                            "--lambda-host: expected inprocess|process, got %s", cfg->lambda_host);
    }
    return CORE_OK;
}

void lam_service_stop(void *state)
{
    lam_service *svc = state;
    if (!svc)
        return;
    /* Event invocations in flight finish first (bounded wait), then the workers
     * they may be using stop. */
    int64_t deadline = core_clock_monotonic_ms() + 10000;
    while (atomic_load(&svc->async_running) > 0 && core_clock_monotonic_ms() < deadline) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    lam_process_host_stop(svc);
    for (size_t i = 0; i < svc->n; i++) {
        lam_function *f = &svc->fns[i];
        free(f->logical_id);
        free(f->name);
        free(f->arn);
        free(f->so_path);
        cJSON_Delete(f->env);
        if (f->log)
            fclose(f->log);
        /* The shared objects stay loaded: a handler's static data may still be
         * referenced by cJSON hooks or atexit handlers; the process is ending. */
        pthread_mutex_destroy(&f->lock);
    }
    free(svc->fns);
    free(svc);
}

lam_service *lam_service_of(core_emulator *emu)
{
    return core_emulator_service(emu, "lambda");
}

static lam_function *find(lam_service *svc, const char *name)
{
    for (size_t i = 0; i < svc->n; i++) {
        lam_function *f = &svc->fns[i];
        if (!strcmp(f->name, name) || !strcmp(f->logical_id, name) || !strcmp(f->arn, name))
            return f;
        /* an ARN with a qualifier: ...:function:name:$LATEST */
        size_t n = strlen(f->arn);
        if (!strncmp(name, f->arn, n) && name[n] == ':')
            return f;
    }
    return NULL;
}

/* ---- the context ------------------------------------------------------------ */


static const char *ctx_getenv(const lambda_context *ctx, const char *name)
{
    const invocation *inv = ctx->host;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(inv->fn->env, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Append a line to the function's log file and to the invocation's tail. */
void lam_log_line(invocation *inv, const char *line)
{
    lam_function *f = inv->fn;
    pthread_mutex_lock(&f->lock);
    if (f->log) {
        fputs(line, f->log);
        fputc('\n', f->log);
        /* An invocation's lines are flushed together after its REPORT line (one
         * write per invocation); a line outside any invocation goes out now. */
        if (!inv->request_id[0])
            fflush(f->log);
    }
    pthread_mutex_unlock(&f->lock);
    size_t n = strlen(line);
    if (inv->tail_len + n + 2 < LOG_TAIL_MAX) {
        char *t = realloc(inv->tail, inv->tail_len + n + 2);
        if (t) {
            inv->tail = t;
            memcpy(t + inv->tail_len, line, n);
            t[inv->tail_len + n] = '\n';
            inv->tail_len += n + 1;
            t[inv->tail_len] = '\0';
        }
    }
}

static void ctx_log(const lambda_context *ctx, const char *level, const char *message)
{
    invocation *inv = ctx->host;
    cJSON *o = cJSON_CreateObject();
    char when[40];
    core_log_format_time(lambda_epoch_ms(), when, sizeof when);
    cJSON_AddStringToObject(o, "time", when);
    cJSON_AddStringToObject(o, "level", level ? level : "INFO");
    cJSON_AddStringToObject(o, "requestId", inv->request_id);
    cJSON_AddStringToObject(o, "traceId", inv->trace_id);
    cJSON_AddStringToObject(o, "message", message ? message : "");
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text)
        lam_log_line(inv, text);
    free(text);
}

static void trace_id(char *out, size_t len, long long epoch_ms)
{
    char a[40], b[40];
    core_http_uuid(a);
    core_http_uuid(b);
    /* Root=1-<8 hex seconds>-<24 hex>;Parent=<16 hex>;Sampled=1 */
    snprintf(out, len, "Root=1-%08llx-%.8s%.4s%.4s%.8s;Parent=%.8s%.8s;Sampled=1",
             epoch_ms / 1000, a, a + 9, a + 14, a + 24, b, b + 24);
}

/* ---- loading ---------------------------------------------------------------- */

static int load(lam_service *svc, lam_function *f, int in_process)
{
    pthread_mutex_lock(&f->lock);
    if (!f->log) {
        char path[1600];
        snprintf(path, sizeof path, "%s/%s.log", svc->log_dir, f->name);
        f->log = fopen(path, "a");
    }
    if (!cJSON_GetObjectItemCaseSensitive(f->env, "AWS_ENDPOINT_URL")) {
        env_add(f->env, "AWS_ENDPOINT_URL", core_emulator_url(svc->emu, "aws"));
        env_add(f->env, "SHOPLOCAL_STRIPE_URL", core_emulator_url(svc->emu, "stripe"));
    }
    if (!f->loaded && in_process) {
        f->dl = f->so_path ? dlopen(f->so_path, RTLD_NOW | RTLD_LOCAL) : NULL;
        f->handler = f->dl ? (lambda_handler_fn)(uintptr_t)dlsym(f->dl, "lambda_handler") : NULL;
        if (!f->dl)
            snprintf(f->load_error, sizeof f->load_error,
                     "shoplocal: no in-process build of %s (%s): %s — run make build",
                     f->logical_id, f->so_path ? f->so_path : "?", dlerror());
        else if (!f->handler)
            snprintf(f->load_error, sizeof f->load_error,
                     "shoplocal: %s exports no lambda_handler (use LAMBDA_HANDLER)", f->so_path);
        f->loaded = f->handler ? 1 : -1;
        if (f->loaded == 1) {
            lambda_init_fn init = (lambda_init_fn)(uintptr_t)dlsym(f->dl, "lambda_init");
            if (init) {
                invocation inv = {.fn = f};
                lambda_context ctx = {.function_name = f->name, .function_arn = f->arn,
                                      .memory_mb_text = ctx_getenv(&(lambda_context){.host = &inv},
                                                                   "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
                                      .getenv = ctx_getenv, .log = ctx_log, .host = &inv};
                lambda_error e;
                memset(&e, 0, sizeof e);
                pthread_mutex_unlock(&f->lock);
                int rc = init(&ctx, &e);
                pthread_mutex_lock(&f->lock);
                free(inv.tail);
                if (rc != 0) {
                    snprintf(f->load_error, sizeof f->load_error, "%s: %s", e.type, e.message);
                    f->loaded = -1;
                }
            }
        }
    }
    int ok = f->loaded;
    pthread_mutex_unlock(&f->lock);
    return ok;
}

/* ---- invoke ------------------------------------------------------------------ */

void lam_set_error(lam_result *out, const char *type, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "errorMessage", message);
    cJSON_AddStringToObject(o, "errorType", type);
    cJSON_AddArrayToObject(o, "stackTrace");
    free(out->payload);
    out->payload = cJSON_PrintUnformatted(o);
    out->len = out->payload ? strlen(out->payload) : 0;
    cJSON_Delete(o);
    out->status = LAM_FUNCTION_ERROR;
    snprintf(out->error_type, sizeof out->error_type, "%s", type);
}

static long max_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

/* One invocation. The event comes as text (payload/len) or, from in-process
 * callers that already hold it as a tree, as parsed (borrowed); the in-process
 * host then skips printing and re-parsing it. */
static void invoke(lam_service *svc, const char *function, const char *payload, size_t len,
                   const cJSON *parsed, lam_result *out)
{
    memset(out, 0, sizeof *out);
    lam_function *f = svc ? find(svc, function) : NULL;
    if (!f) {
        out->status = LAM_NOT_FOUND;
        return;
    }
    invocation inv = {.fn = f};
    core_http_uuid(inv.request_id);
    memcpy(out->request_id, inv.request_id, sizeof out->request_id);
    long long start_ms = lambda_epoch_ms();
    int64_t t0 = core_clock_monotonic_us();
    trace_id(inv.trace_id, sizeof inv.trace_id, start_ms);
    int loaded = load(svc, f, svc->processes == NULL);
    char line[512];
    snprintf(line, sizeof line, "START RequestId: %s Version: $LATEST", inv.request_id);
    lam_log_line(&inv, line);

    if (svc->processes) {
        char *text = parsed ? cJSON_PrintUnformatted(parsed) : NULL;
        lam_process_run(svc, f, &inv, text ? text : payload, text ? strlen(text) : len,
                        start_ms + (long long)f->tpl->timeout_s * 1000, out);
        free(text);
    } else if (loaded != 1) {
        lam_set_error(out, "Runtime.InvalidEntrypoint", f->load_error);
    } else {
        cJSON *owned = parsed ? NULL : cJSON_ParseWithLength(payload, len);
        const cJSON *event = parsed ? parsed : owned;
        if (!event) {
            lam_set_error(out, "Runtime.InvalidEventJson", "the event is not valid JSON");
        } else {
            lambda_context ctx = {
                .request_id = inv.request_id,
                .deadline_ms = start_ms + (long long)f->tpl->timeout_s * 1000,
                .function_name = f->name,
                .function_arn = f->arn,
                .trace_id = inv.trace_id,
                .memory_mb_text = cJSON_GetObjectItemCaseSensitive(f->env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE")->valuestring,
                .getenv = ctx_getenv,
                .log = ctx_log,
                .host = &inv,
            };
            lambda_error e;
            memset(&e, 0, sizeof e);
            cJSON *result = f->handler(event, &ctx, &e);
            if (result) {
                out->payload = cJSON_PrintUnformatted(result);
                out->len = out->payload ? strlen(out->payload) : 0;
                out->status = LAM_OK;
                cJSON_Delete(result);
            } else {
                lam_set_error(out, e.type[0] ? e.type : "Error", e.message);
            }
            cJSON_Delete(owned);
        }
    }
    out->duration_ms = (double)(core_clock_monotonic_us() - t0) / 1000.0;
    if (out->duration_ms > (double)f->tpl->timeout_s * 1000.0) {
        char msg[200];
        snprintf(msg, sizeof msg, "RequestId: %s Error: Task timed out after %d.00 seconds",
                 inv.request_id, f->tpl->timeout_s);
        lam_set_error(out, "Sandbox.Timedout", msg);
        lam_log_line(&inv, msg);
    }
    snprintf(line, sizeof line, "END RequestId: %s", inv.request_id);
    lam_log_line(&inv, line);
    double billed = (double)(long long)(out->duration_ms + 0.999999);
    snprintf(line, sizeof line,
             "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %.0f ms\tMemory Size: %d "
             "MB\tMax Memory Used: %ld MB\t",
             inv.request_id, out->duration_ms, billed < 1 ? 1 : billed, f->tpl->memory_mb,
             max_rss_mb());
    lam_log_line(&inv, line);
    pthread_mutex_lock(&f->lock);
    if (f->log)
        fflush(f->log);
    pthread_mutex_unlock(&f->lock);
    out->log_tail = inv.tail;
    if (!out->payload) {
        out->payload = strdup("null");
        out->len = 4;
    }
}

void lam_invoke(lam_service *svc, const char *function, const char *payload, size_t len,
                lam_result *out)
{
    invoke(svc, function, payload, len, NULL, out);
}

void lam_invoke_event(lam_service *svc, const char *function, const cJSON *event,
                      lam_result *out)
{
    invoke(svc, function, NULL, 0, event, out);
}

void lam_result_release(lam_result *r)
{
    free(r->payload);
    free(r->log_tail);
    memset(r, 0, sizeof *r);
}

/* ---- the Invoke API (REST, /2015-03-31/functions/...) ------------------------ */

static void rest_error(core_http_response *resp, const core_http_request *req, int status,
                       const char *type, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Type", "User");
    cJSON_AddStringToObject(o, "message", message);
    core_http_response_json(resp, status, "application/json", o);
    cJSON_Delete(o);
    core_http_response_header(resp, "x-amzn-RequestId", req->request_id, 0);
    core_http_response_header(resp, "x-amzn-ErrorType", type, 0);
}

static cJSON *configuration(const lam_function *f)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "FunctionName", f->name);
    cJSON_AddStringToObject(c, "FunctionArn", f->arn);
    cJSON_AddStringToObject(c, "Runtime", f->tpl->runtime ? f->tpl->runtime : "provided.al2023");
    cJSON_AddStringToObject(c, "Handler", f->tpl->handler);
    cJSON_AddNumberToObject(c, "Timeout", f->tpl->timeout_s);
    cJSON_AddNumberToObject(c, "MemorySize", f->tpl->memory_mb);
    cJSON_AddStringToObject(c, "Version", "$LATEST");
    cJSON_AddStringToObject(c, "State", "Active");
    cJSON_AddStringToObject(c, "PackageType", "Zip");
    cJSON *arch = cJSON_AddArrayToObject(c, "Architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString(f->tpl->architecture));
    cJSON *env = cJSON_AddObjectToObject(c, "Environment");
    cJSON_AddItemToObject(env, "Variables", cJSON_Duplicate(f->tpl->environment, 1));
    cJSON *tc = cJSON_AddObjectToObject(c, "TracingConfig");
    cJSON_AddStringToObject(tc, "Mode", f->tpl->tracing_active ? "Active" : "PassThrough");
    return c;
}

typedef struct async_job {
    lam_service *svc;
    char *function;
    char *payload;
    size_t len;
} async_job;

static void *async_main(void *arg)
{
    async_job *job = arg;
    lam_result r;
    lam_invoke(job->svc, job->function, job->payload, job->len, &r);
    lam_result_release(&r);
    atomic_fetch_sub(&job->svc->async_running, 1);
    free(job->function);
    free(job->payload);
    free(job);
    return NULL;
}

static void lam_wire_handle(void *ctx, const core_http_request *req, core_http_response *resp)
{
    lam_service *svc = ctx;
    static const char prefix[] = "/2015-03-31/functions";
    const char *rest = req->path + sizeof prefix - 1;
    if (!strcmp(rest, "") || !strcmp(rest, "/")) {
        if (strcmp(req->method, "GET")) {
            rest_error(resp, req, 405, "InvalidRequestContentException", "method not allowed");
            return;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON *list = cJSON_AddArrayToObject(o, "Functions");
        for (size_t i = 0; i < svc->n; i++)
            cJSON_AddItemToArray(list, configuration(&svc->fns[i]));
        core_http_response_json(resp, 200, "application/json", o);
        cJSON_Delete(o);
        return;
    }
    if (rest[0] != '/') {
        rest_error(resp, req, 404, "ResourceNotFoundException", "Unknown Lambda API path");
        return;
    }
    rest++;
    const char *slash = strchr(rest, '/');
    size_t name_len = slash ? (size_t)(slash - rest) : strlen(rest);
    char *decoded = core_url_decode(rest, name_len, 0, NULL);
    if (!decoded || strlen(decoded) > 511) {
        free(decoded);
        rest_error(resp, req, 400, "InvalidParameterValueException",
                   "the function name is malformed or too long");
        return;
    }
    char name[512];
    snprintf(name, sizeof name, "%s", decoded);
    free(decoded);
    lam_function *f = find(svc, name);
    if (!f) {
        char msg[700];
        snprintf(msg, sizeof msg, "Function not found: %s%s",
                 strncmp(name, "arn:", 4) ? "arn:aws:lambda:us-east-1:000000000000:function:" : "",
                 name);
        rest_error(resp, req, 404, "ResourceNotFoundException", msg);
        return;
    }
    if (!slash && !strcmp(req->method, "GET")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "Configuration", configuration(f));
        cJSON *code = cJSON_AddObjectToObject(o, "Code");
        cJSON_AddStringToObject(code, "RepositoryType", "S3");
        cJSON_AddStringToObject(code, "Location", f->so_path ? f->so_path : "");
        core_http_response_json(resp, 200, "application/json", o);
        cJSON_Delete(o);
        return;
    }
    if (!slash || strcmp(slash, "/invocations") || strcmp(req->method, "POST")) {
        rest_error(resp, req, 404, "ResourceNotFoundException", "Unknown Lambda API path");
        return;
    }
    const char *type = core_http_header_get(req, "X-Amz-Invocation-Type");
    if (!type)
        type = "RequestResponse";
    core_http_response_header(resp, "x-amzn-RequestId", req->request_id, 0);
    if (!strcmp(type, "DryRun")) {
        core_http_response_body(resp, 204, NULL, "", 0);
        return;
    }
    const char *payload = req->body_len ? req->body : "{}";
    size_t len = req->body_len ? req->body_len : 2;
    if (!strcmp(type, "Event")) {
        async_job *job = calloc(1, sizeof *job);
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (job) {
            job->svc = svc;
            job->function = strdup(f->name);
            job->payload = strndup(payload, len);
            job->len = len;
            atomic_fetch_add(&svc->async_running, 1);
            if (pthread_create(&th, &attr, async_main, job) != 0) {
                atomic_fetch_sub(&svc->async_running, 1);
                free(job->function);
                free(job->payload);
                free(job);
                job = NULL;
            }
        }
        pthread_attr_destroy(&attr);
        if (!job) {
            rest_error(resp, req, 500, "ServiceException", "cannot start the invocation");
            return;
        }
        core_http_response_body(resp, 202, NULL, "", 0);
        return;
    }
    if (strcmp(type, "RequestResponse")) {
        rest_error(resp, req, 400, "InvalidParameterValueException",
                   "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun");
        return;
    }
    lam_result r;
    lam_invoke(svc, f->name, payload, len, &r);
    core_http_response_body(resp, 200, "application/json", r.payload, r.len);
    core_http_response_header(resp, "X-Amz-Executed-Version", "$LATEST", 0);
    if (r.status == LAM_FUNCTION_ERROR)
        core_http_response_header(resp, "X-Amz-Function-Error", "Unhandled", 0);
    const char *log_type = core_http_header_get(req, "X-Amz-Log-Type");
    if (log_type && !strcmp(log_type, "Tail") && r.log_tail) {
        size_t n = strlen(r.log_tail);
        const char *tail = n > LOG_TAIL_MAX ? r.log_tail + n - LOG_TAIL_MAX : r.log_tail;
        size_t tn = strlen(tail);
        unsigned char *b64 = malloc(4 * ((tn + 2) / 3) + 1);
        if (b64) {
            EVP_EncodeBlock(b64, (const unsigned char *)tail, (int)tn);
            core_http_response_header(resp, "X-Amz-Log-Result", (const char *)b64, 0);
            free(b64);
        }
    }
    lam_result_release(&r);
}
