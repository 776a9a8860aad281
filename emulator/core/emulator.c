/*
 * emulator.c — wiring one shoplocal together, and its admin API. See emulator.h.
 *
 * The admin API lives under /_shoplocal/ on the aws listener:
 *   GET  /_shoplocal/health        version, uptime, listeners, services, stack
 *   GET  /_shoplocal/clock         the clock's mode and now
 *   POST /_shoplocal/clock/advance {"ms": N} — virtual time only
 *   GET  /_shoplocal/faults        the fault rules and how often each fired
 *   POST /_shoplocal/faults        add a rule (see fault.h); answers its id
 *   DELETE /_shoplocal/faults      remove every rule
 *   GET  /_shoplocal/outbox[?to=]  messages services "sent" (see outbox.h)
 *   DELETE /_shoplocal/outbox      remove every message
 * and whatever paths services add with core_emulator_add_admin (the HTTP API
 * adds PUT /_shoplocal/jwks).
 */
#include "core/emulator.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/codec.h"
#include "core/fault.h"
#include "core/http.h"
#include "core/log.h"
#include "core/outbox.h"
#include "core/services.h"

#define MAX_SERVICES 16
#define MAX_ADMIN_HOOKS 8
#define MAX_NOTES 16

typedef struct admin_hook {
    const char *path; /* borrowed: a literal of the service */
    core_http_handler handler;
    void *ctx;
} admin_hook;

struct core_emulator {
    core_config cfg;
    core_clock *clock;
    core_store *core_db;
    core_outbox *outbox;
    char *notes[MAX_NOTES]; /* extra banner lines from services */
    size_t n_notes;
    core_template *tpl;
    core_router *router;
    core_faults *faults;
    core_http_handler api_handler; /* /api on the web listener, or NULL */
    void *api_ctx;
    void *service_state[MAX_SERVICES];
    admin_hook admin_hooks[MAX_ADMIN_HOOKS];
    size_t n_admin_hooks;
    size_t n_started;
    core_http_server *web, *aws, *stripe;
    char web_url[300], aws_url[300], stripe_url[300];
    int64_t started_mono_ms;
    int64_t started_epoch_ms;
    long long start_count;
    pthread_mutex_t ready_lock; /* listening: 0 starting, 1 listening, -1 failed/stopping */
    pthread_cond_t ready_cond;
    int listening;
};

/* The core database: facts about this data folder itself. */
static const char *const core_migrations[] = {
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",
};

/* ---- admin API ------------------------------------------------------------ */

static void admin_json(core_http_response *resp, int status, cJSON *body)
{
    core_http_response_json(resp, status, "application/json", body);
    cJSON_Delete(body);
}

static void admin_handle(void *ctx, const core_http_request *req, core_http_response *resp)
{
    core_emulator *emu = ctx;
    int is_get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    if (!strcmp(req->path, "/_shoplocal/health") && is_get) {
        admin_json(resp, 200, core_emulator_health(emu));
        return;
    }
    if (!strcmp(req->path, "/_shoplocal/clock") && is_get) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "mode", core_clock_get_mode(emu->clock) == CORE_CLOCK_VIRTUAL
                                               ? "virtual" : "real");
        cJSON_AddNumberToObject(o, "nowMs", (double)core_clock_now_ms(emu->clock));
        admin_json(resp, 200, o);
        return;
    }
    if (!strcmp(req->path, "/_shoplocal/clock/advance") && !strcmp(req->method, "POST")) {
        if (core_clock_get_mode(emu->clock) != CORE_CLOCK_VIRTUAL) {
            core_http_response_aws_error(resp, req, 409, "ConflictException",
                                         "the clock is real; start with --time virtual");
            return;
        }
        cJSON *body = cJSON_ParseWithLength(req->body, req->body_len);
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(body, "ms");
        if (!cJSON_IsNumber(ms) || ms->valuedouble < 0 || ms->valuedouble > 1e13) {
            cJSON_Delete(body);
            core_http_response_aws_error(resp, req, 400, "ValidationException",
                                         "body must be {\"ms\": <non-negative number>}");
            return;
        }
        int64_t now = core_clock_advance_ms(emu->clock, (int64_t)ms->valuedouble);
        cJSON_Delete(body);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "nowMs", (double)now);
        admin_json(resp, 200, o);
        return;
    }
    if (!strcmp(req->path, "/_shoplocal/faults")) {
        if (is_get) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "rules", core_faults_list(emu->faults));
            admin_json(resp, 200, o);
            return;
        }
        if (!strcmp(req->method, "DELETE")) {
            core_faults_clear(emu->faults);
            admin_json(resp, 200, cJSON_CreateObject());
            return;
        }
        if (!strcmp(req->method, "POST")) {
            cJSON *rule = cJSON_ParseWithLength(req->body, req->body_len);
            core_err err;
            core_err_clear(&err);
            int id = core_faults_add(emu->faults, rule, &err);
            cJSON_Delete(rule);
            if (id < 0) {
                core_http_response_aws_error(resp, req, err.status, err.type, err.message);
                return;
            }
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "id", id);
            admin_json(resp, 201, o);
            return;
        }
    }
    if (!strcmp(req->path, "/_shoplocal/outbox")) {
        if (is_get) {
            char *to = core_query_param(req->raw_query, "to");
            cJSON *list = core_outbox_list(emu->outbox, to);
            free(to);
            if (!list) {
                core_http_response_aws_error(resp, req, 500, "InternalFailure",
                                             "the outbox could not be read");
                return;
            }
            admin_json(resp, 200, list);
            return;
        }
        if (!strcmp(req->method, "DELETE")) {
            long n = core_outbox_clear(emu->outbox);
            if (n < 0) {
                core_http_response_aws_error(resp, req, 500, "InternalFailure",
                                             "the outbox could not be cleared");
                return;
            }
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "deleted", (double)n);
            admin_json(resp, 200, o);
            return;
        }
    }
    for (size_t i = 0; i < emu->n_admin_hooks; i++)
        if (!strcmp(req->path, emu->admin_hooks[i].path)) {
            emu->admin_hooks[i].handler(emu->admin_hooks[i].ctx, req, resp);
            return;
        }
    core_http_response_aws_error(resp, req, 404, "NotFoundException",
                                 "no such shoplocal admin resource");
}

/* ---- web and stripe listeners (filled by later services) ------------------ */

static void web_handle(void *ctx, const core_http_request *req, core_http_response *resp)
{
    core_emulator *emu = ctx;
    if (emu->api_handler && !strncmp(req->path, "/api", 4) &&
        (req->path[4] == '/' || req->path[4] == '\0')) {
        core_http_request sub = *req;
        sub.path = req->path[4] ? req->path + 4 : "/";
        emu->api_handler(emu->api_ctx, &sub, resp);
        return;
    }
    core_http_response_header(resp, "apigw-requestid", req->request_id, 0);
    if (!strcmp(req->path, "/config.json")) {
        cJSON *o = cJSON_CreateObject();
        char api[400];
        snprintf(api, sizeof api, "%s/api", emu->web_url);
        cJSON_AddStringToObject(o, "apiBaseUrl", api);
        cJSON_AddStringToObject(o, "awsEndpoint", emu->aws_url);
        cJSON_AddStringToObject(o, "region", core_template_region(emu->tpl));
        const cJSON *outs = core_template_outputs(emu->tpl);
        for (const cJSON *x = outs ? outs->child : NULL; x; x = x->next)
            if (cJSON_IsString(x) && (!strcmp(x->string, "UserPoolId") ||
                                      !strcmp(x->string, "UserPoolClientId")))
                cJSON_AddStringToObject(o, x->string, x->valuestring);
        core_http_response_header(resp, "Cache-Control", "no-cache", 0);
        core_http_response_json(resp, 200, "application/json", o);
        cJSON_Delete(o);
        return;
    }
    static const char not_found[] = "{\"message\":\"Not Found\"}";
    core_http_response_body(resp, 404, "application/json", not_found, sizeof not_found - 1);
}

static void stripe_handle(void *ctx, const core_http_request *req, core_http_response *resp)
{
    (void)ctx;
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    char msg[400];
    snprintf(msg, sizeof msg,
             "Unrecognized request URL (%.16s: %.200s). Please see https://stripe.com/docs or "
             "we can help at https://support.stripe.com/.", req->method, req->path);
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddStringToObject(e, "type", "invalid_request_error");
    core_http_response_json(resp, 404, "application/json", o);
    cJSON_Delete(o);
    core_http_response_header(resp, "Request-Id", req->request_id, 0);
}

/* ---- lifecycle ------------------------------------------------------------ */

static int record_start(core_emulator *emu, core_err *err)
{
    core_store_lock(emu->core_db);
    int rc = CORE_ERROR;
    sqlite3_stmt *st = core_store_stmt(
        emu->core_db,
        "INSERT INTO meta(key, value) VALUES('start_count', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value",
        err);
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        emu->start_count = sqlite3_column_int64(st, 0);
        rc = CORE_OK;
    } else if (st) {
        core_err_set(err, 500, "InternalFailure", "core.db: %s",
                     sqlite3_errmsg(core_store_db(emu->core_db)));
    }
    if (st)
        sqlite3_reset(st);
    core_store_unlock(emu->core_db);
    return rc;
}

static core_http_server *listen_on(core_emulator *emu, const char *name, int port,
                                   size_t max_body, const char *type, const char *too_large,
                                   core_http_handler handler, void *ctx, char *url,
                                   size_t url_len, core_err *err)
{
    core_http_server_opts o = {
        .name = name,
        .host = emu->cfg.host,
        .port = port,
        .threads = emu->cfg.threads,
        .max_body = max_body,
        .too_large_type = type,
        .too_large_body = too_large,
        .handler = handler,
        .ctx = ctx,
    };
    core_http_server *srv = core_http_server_start(&o, err);
    if (srv) {
        int v6 = strchr(emu->cfg.host, ':') != NULL;
        snprintf(url, url_len, "http://%s%s%s:%d", v6 ? "[" : "", emu->cfg.host, v6 ? "]" : "",
                 core_http_server_port(srv));
    }
    return srv;
}

int core_emulator_start(const core_config *cfg, core_emulator **out, core_err *err)
{
    *out = NULL;
    core_emulator *emu = calloc(1, sizeof *emu);
    if (!emu)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    pthread_mutex_init(&emu->ready_lock, NULL);
    pthread_cond_init(&emu->ready_cond, NULL);
    emu->cfg = *cfg;
    emu->cfg.n_params = 0; /* the overrides stay owned by the caller's cfg */
    emu->started_mono_ms = core_clock_monotonic_ms();
    emu->clock = core_clock_new(cfg->time_mode, 0);
    emu->started_epoch_ms = core_clock_now_ms(emu->clock);

    if (cfg->seed_dir[0]) {
        struct stat st;
        if (stat(cfg->seed_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            core_err_set(err, 2, "InvalidArgument", "--seed: %s is not a folder", cfg->seed_dir);
            goto fail;
        }
    }
    if (core_data_dir_prepare(cfg->data_dir, cfg->fresh, err) != CORE_OK)
        goto fail;
    if (core_store_open(cfg->data_dir, "core", core_migrations,
                        sizeof core_migrations / sizeof *core_migrations, &emu->core_db,
                        err) != CORE_OK)
        goto fail;
    if (record_start(emu, err) != CORE_OK)
        goto fail;
    if (core_outbox_open(cfg->data_dir, &emu->outbox, err) != CORE_OK)
        goto fail;

    core_template_opts topts = {
        .region = cfg->region,
        .stack_name = cfg->stack_name,
        .params = cfg->params,
        .n_params = cfg->n_params,
    };
    if (core_template_load_file(cfg->template_path, &topts, &emu->tpl, err) != CORE_OK)
        goto fail;

    emu->router = core_router_new();
    core_service admin = {.name = "shoplocal", .path_prefix = "/_shoplocal/",
                          .handler = admin_handle, .ctx = emu};
    emu->faults = core_faults_new((unsigned long long)emu->started_epoch_ms);
    if (!emu->router || !emu->faults || core_router_add(emu->router, &admin) != CORE_OK) {
        core_err_set(err, 500, "InternalFailure", "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < core_services_count && i < MAX_SERVICES; i++) {
        core_err inner;
        core_err_clear(&inner);
        if (core_services[i].start(emu, &emu->service_state[i], &inner) != CORE_OK) {
            core_err_set(err, inner.status == 2 ? 2 : 500, inner.type, "%s: %s",
                         core_services[i].name, inner.message);
            goto fail;
        }
        emu->n_started = i + 1;
    }

    char too_large[256];
    snprintf(too_large, sizeof too_large,
             "{\"__type\":\"RequestEntityTooLargeException\",\"message\":\"Request body is "
             "larger than %lld bytes\"}", cfg->max_body_bytes);
    /* API Gateway's payload limit is 10 MB; CloudFront passes the api paths through. */
    emu->web = listen_on(emu, "web", cfg->web_port, 10u * 1000 * 1000, "application/json",
                         "{\"message\":\"Request Entity Too Large\"}", web_handle, emu,
                         emu->web_url, sizeof emu->web_url, err);
    if (!emu->web)
        goto fail;
    emu->stripe = listen_on(emu, "stripe", cfg->stripe_port, 1024 * 1024, "application/json",
                            "{\"error\":{\"type\":\"invalid_request_error\",\"message\":"
                            "\"Request body too large\"}}", stripe_handle, emu,
                            emu->stripe_url, sizeof emu->stripe_url, err);
    if (!emu->stripe)
        goto fail;
    /* The aws listener (and with it health) comes last: whoever sees health
     * answer may rely on every other listener being up. */
    emu->aws = listen_on(emu, "aws", cfg->aws_port, (size_t)cfg->max_body_bytes,
                         "application/x-amz-json-1.1", too_large, core_router_dispatch,
                         emu->router, emu->aws_url, sizeof emu->aws_url, err);
    if (!emu->aws)
        goto fail;
    pthread_mutex_lock(&emu->ready_lock);
    emu->listening = 1;
    pthread_cond_broadcast(&emu->ready_cond);
    pthread_mutex_unlock(&emu->ready_lock);

    cJSON *fields = cJSON_CreateObject();
    cJSON_AddStringToObject(fields, "web", emu->web_url);
    cJSON_AddStringToObject(fields, "aws", emu->aws_url);
    cJSON_AddStringToObject(fields, "stripe", emu->stripe_url);
    cJSON_AddNumberToObject(fields, "resources", (double)core_template_resource_count(emu->tpl));
    cJSON_AddNumberToObject(fields, "startCount", (double)emu->start_count);
    core_log_fields(CORE_LOG_INFO, "core", NULL, fields, "shoplocal started");
    cJSON_Delete(fields);
    *out = emu;
    return CORE_OK;
fail:
    core_emulator_stop(emu, 0);
    return CORE_ERROR;
}

void core_emulator_stop(core_emulator *emu, int drain_ms)
{
    if (!emu)
        return;
    pthread_mutex_lock(&emu->ready_lock);
    emu->listening = -1;
    pthread_cond_broadcast(&emu->ready_cond);
    pthread_mutex_unlock(&emu->ready_lock);
    core_http_server *listeners[] = {emu->web, emu->aws, emu->stripe};
    for (size_t i = 0; i < 3; i++)
        core_http_server_quiesce(listeners[i]);
    int64_t deadline = core_clock_monotonic_ms() + drain_ms;
    int left = 0;
    for (size_t i = 0; i < 3; i++)
        if (listeners[i])
            left += core_http_server_drain(listeners[i], deadline);
    if (left)
        core_log(CORE_LOG_WARN, "core", NULL, "stopping with %d request(s) still in flight", left);
    for (size_t i = 0; i < 3; i++)
        core_http_server_stop(listeners[i]);
    for (size_t i = emu->n_started; i-- > 0;)
        core_services[i].stop(emu->service_state[i]);
    core_faults_free(emu->faults);
    core_router_free(emu->router);
    core_template_free(emu->tpl);
    core_outbox_close(emu->outbox);
    for (size_t i = 0; i < emu->n_notes; i++)
        free(emu->notes[i]);
    core_store_close(emu->core_db);
    core_clock_free(emu->clock);
    pthread_cond_destroy(&emu->ready_cond);
    pthread_mutex_destroy(&emu->ready_lock);
    free(emu);
}

const char *core_emulator_url(const core_emulator *emu, const char *listener)
{
    if (!strcmp(listener, "web"))
        return emu->web_url;
    if (!strcmp(listener, "aws"))
        return emu->aws_url;
    if (!strcmp(listener, "stripe"))
        return emu->stripe_url;
    return NULL;
}

cJSON *core_emulator_health(core_emulator *emu)
{
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "status", "running");
    cJSON_AddStringToObject(h, "version", SHOPLOCAL_VERSION);
    cJSON_AddNumberToObject(h, "uptimeMs",
                            (double)(core_clock_monotonic_ms() - emu->started_mono_ms));
    cJSON_AddNumberToObject(h, "startCount", (double)emu->start_count);
    cJSON *clock = cJSON_AddObjectToObject(h, "clock");
    cJSON_AddStringToObject(clock, "mode", core_clock_get_mode(emu->clock) == CORE_CLOCK_VIRTUAL
                                               ? "virtual" : "real");
    cJSON_AddNumberToObject(clock, "nowMs", (double)core_clock_now_ms(emu->clock));
    cJSON *l = cJSON_AddObjectToObject(h, "listeners");
    cJSON_AddStringToObject(l, "web", emu->web_url);
    cJSON_AddStringToObject(l, "aws", emu->aws_url);
    cJSON_AddStringToObject(l, "stripe", emu->stripe_url);
    cJSON *inflight = cJSON_AddObjectToObject(h, "inflight");
    cJSON_AddNumberToObject(inflight, "web", core_http_server_inflight(emu->web));
    cJSON_AddNumberToObject(inflight, "aws", core_http_server_inflight(emu->aws));
    cJSON_AddNumberToObject(inflight, "stripe", core_http_server_inflight(emu->stripe));
    cJSON_AddStringToObject(h, "dataDir", emu->cfg.data_dir);
    cJSON *svcs = cJSON_AddArrayToObject(h, "services");
    /* Every started service, and how requests reach it: the router's rows on the
     * aws listener, the HTTP API on the web listener's /api. */
    for (size_t i = 0; i < emu->n_started; i++) {
        int routed = 0;
        for (size_t k = 0; k < core_router_count(emu->router); k++)
            routed |= !strcmp(core_router_at(emu->router, k)->name, core_services[i].name);
        if (routed)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", core_services[i].name);
        if (!strcmp(core_services[i].name, "apigateway") && emu->api_handler)
            cJSON_AddStringToObject(o, "pathPrefix", "/api (web listener)");
        cJSON_AddItemToArray(svcs, o);
    }
    for (size_t i = 0; i < core_router_count(emu->router); i++) {
        const core_service *s = core_router_at(emu->router, i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", s->name);
        if (s->target_prefix)
            cJSON_AddStringToObject(o, "targetPrefix", s->target_prefix);
        if (s->signing_name)
            cJSON_AddStringToObject(o, "signingName", s->signing_name);
        if (s->path_prefix)
            cJSON_AddStringToObject(o, "pathPrefix", s->path_prefix);
        cJSON_AddItemToArray(svcs, o);
    }
    cJSON_AddItemToObject(h, "stack", core_template_describe(emu->tpl));
    return h;
}

core_clock *core_emulator_clock(core_emulator *emu) { return emu->clock; }
const core_template *core_emulator_template(core_emulator *emu) { return emu->tpl; }
core_router *core_emulator_router(core_emulator *emu) { return emu->router; }
core_faults *core_emulator_faults(core_emulator *emu) { return emu->faults; }
core_outbox *core_emulator_outbox(core_emulator *emu) { return emu->outbox; }

int core_emulator_add_note(core_emulator *emu, const char *label, const char *text)
{
    if (emu->n_notes == MAX_NOTES)
        return CORE_ERROR;
    size_t n = strlen(label) + strlen(text) + 8;
    char *line = malloc(n);
    if (!line)
        return CORE_ERROR;
    snprintf(line, n, "%-7s %s", label, text);
    emu->notes[emu->n_notes++] = line;
    return CORE_OK;
}

size_t core_emulator_note_count(const core_emulator *emu) { return emu->n_notes; }
const char *core_emulator_note_at(const core_emulator *emu, size_t i)
{
    return i < emu->n_notes ? emu->notes[i] : NULL;
}

void core_emulator_set_api(core_emulator *emu, core_http_handler handler, void *ctx)
{
    emu->api_handler = handler;
    emu->api_ctx = ctx;
}

int core_emulator_add_admin(core_emulator *emu, const char *path, core_http_handler handler,
                            void *ctx, core_err *err)
{
    for (size_t i = 0; i < emu->n_admin_hooks; i++)
        if (!strcmp(emu->admin_hooks[i].path, path))
            return core_err_set(err, 500, "InternalFailure", "admin path %s is taken", path);
    if (emu->n_admin_hooks == MAX_ADMIN_HOOKS)
        return core_err_set(err, 500, "InternalFailure", "too many admin paths");
    emu->admin_hooks[emu->n_admin_hooks++] = (admin_hook){path, handler, ctx};
    return CORE_OK;
}

int core_emulator_wait_listening(core_emulator *emu, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&emu->ready_lock);
    while (emu->listening == 0)
        if (pthread_cond_timedwait(&emu->ready_cond, &emu->ready_lock, &until) != 0)
            break;
    int up = emu->listening == 1;
    pthread_mutex_unlock(&emu->ready_lock);
    return up;
}

void *core_emulator_service(core_emulator *emu, const char *name)
{
    for (size_t i = 0; i < emu->n_started; i++)
        if (!strcmp(core_services[i].name, name))
            return emu->service_state[i];
    return NULL;
}
const core_config *core_emulator_config(core_emulator *emu) { return &emu->cfg; }
