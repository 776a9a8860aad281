/*
 * test_lambda_runtime.c — the production runtime loop (backend/runtime) against a
 * fake Lambda Runtime API served in-process by libmicrohttpd on 127.0.0.1:0.
 *
 * The fake hands out a scripted sequence of /next answers and records every
 * request the runtime makes (method, URL, body, Lambda-Runtime-Function-Error-Type)
 * and every TCP connection it accepts. lambda_runtime_run runs in the test's own
 * thread, bounded by max_invocations or by the script running out (the fake then
 * answers /next with 500, which the runtime gives up on after three tries), so
 * every expectation is checked after the run returns: no sleeps.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <criterion/criterion.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/handler.h"
#include "runtime/runtime.h"

/* ---- the fake Runtime API --------------------------------------------------- */

typedef struct scripted {
    int status; /* 0: 200 with the event */
    const char *request_id, *deadline, *arn, *trace_id, *client_context, *cognito;
    const char *body;
} scripted;

typedef struct recorded {
    char method[8];
    char url[256];
    char *body;
    size_t body_len;
    char error_type[256];
    char content_type[64];
} recorded;

#define MAX_RECORDED 64

static struct fake {
    struct MHD_Daemon *daemon;
    int port;
    char endpoint[64];
    pthread_mutex_t mu;
    const scripted *script;
    size_t n_script, next;
    recorded calls[MAX_RECORDED];
    size_t n_calls;
    int connections;
    int response_status; /* answer to /response, 0: 202 */
    size_t max_response; /* bigger /response bodies get 413 */
} fake;

typedef struct upload {
    char *body;
    size_t len, cap;
} upload;

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    (void)c;
    (void)socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        pthread_mutex_lock(&fake.mu);
        fake.connections++;
        pthread_mutex_unlock(&fake.mu);
    }
}

static enum MHD_Result answer(struct MHD_Connection *c, int status, const char *body,
                              const scripted *ev)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (ev) {
        const char *names[] = {"Lambda-Runtime-Aws-Request-Id", "Lambda-Runtime-Deadline-Ms",
                               "Lambda-Runtime-Invoked-Function-Arn", "Lambda-Runtime-Trace-Id",
                               "Lambda-Runtime-Client-Context",
                               "Lambda-Runtime-Cognito-Identity"};
        const char *values[] = {ev->request_id, ev->deadline, ev->arn,
                                ev->trace_id,   ev->client_context, ev->cognito};
        for (size_t i = 0; i < 6; i++)
            if (values[i])
                MHD_add_response_header(r, names[i], values[i]);
    }
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state)
{
    (void)cls;
    (void)version;
    upload *up = *state;
    if (!up) {
        up = calloc(1, sizeof *up);
        *state = up;
        return MHD_YES;
    }
    if (*upload_size) {
        if (up->len + *upload_size + 1 > up->cap) {
            size_t cap = up->cap ? up->cap : 1024;
            while (cap < up->len + *upload_size + 1)
                cap *= 2;
            up->body = realloc(up->body, cap);
            up->cap = cap;
        }
        memcpy(up->body + up->len, upload_data, *upload_size);
        up->len += *upload_size;
        up->body[up->len] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }

    pthread_mutex_lock(&fake.mu);
    if (fake.n_calls < MAX_RECORDED) {
        recorded *rec = &fake.calls[fake.n_calls++];
        snprintf(rec->method, sizeof rec->method, "%s", method);
        snprintf(rec->url, sizeof rec->url, "%s", url);
        rec->body = up->body;
        rec->body_len = up->len;
        up->body = NULL;
        const char *et =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Lambda-Runtime-Function-Error-Type");
        snprintf(rec->error_type, sizeof rec->error_type, "%s", et ? et : "");
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        snprintf(rec->content_type, sizeof rec->content_type, "%s", ct ? ct : "");
    }
    size_t body_len = fake.n_calls ? fake.calls[fake.n_calls - 1].body_len : 0;
    const scripted *ev = NULL;
    int status = 202;
    const char *body = "{\"status\":\"OK\"}";
    if (strcmp(url, "/2018-06-01/runtime/invocation/next") == 0) {
        if (fake.next < fake.n_script) {
            ev = &fake.script[fake.next++];
            status = ev->status ? ev->status : 200;
            body = ev->status ? "{\"errorMessage\":\"scripted\",\"errorType\":\"Scripted\"}"
                              : ev->body;
        } else {
            status = 500;
            body = "{\"errorMessage\":\"no more events\",\"errorType\":\"Script.Done\"}";
        }
    } else if (strstr(url, "/response")) {
        if (fake.max_response && body_len > fake.max_response) {
            status = 413;
            body = "{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 bytes).\","
                   "\"errorType\":\"RequestEntityTooLarge\"}";
        } else if (fake.response_status) {
            status = fake.response_status;
            body = "{\"errorMessage\":\"rejected\",\"errorType\":\"InvalidStateTransition\"}";
        }
    }
    pthread_mutex_unlock(&fake.mu);
    return answer(c, status, body, ev && status == 200 ? ev : NULL);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)c;
    (void)code;
    upload *up = *state;
    if (up) {
        free(up->body);
        free(up);
        *state = NULL;
    }
}

static void fake_start(void)
{
    memset(&fake, 0, sizeof fake);
    pthread_mutex_init(&fake.mu, NULL);
    fake.max_response = LAMBDA_RUNTIME_MAX_RESPONSE;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fake.daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    cr_assert_not_null(fake.daemon);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(fake.daemon, MHD_DAEMON_INFO_BIND_PORT);
    cr_assert_not_null(info);
    fake.port = info->port;
    snprintf(fake.endpoint, sizeof fake.endpoint, "127.0.0.1:%d", fake.port);
}

static void fake_stop(void)
{
    if (fake.daemon)
        MHD_stop_daemon(fake.daemon);
    for (size_t i = 0; i < fake.n_calls; i++)
        free(fake.calls[i].body);
    pthread_mutex_destroy(&fake.mu);
    memset(&fake, 0, sizeof fake);
}

#define SCRIPT(...)                                                                        \
    do {                                                                                   \
        static const scripted s_[] = {__VA_ARGS__};                                        \
        fake.script = s_;                                                                  \
        fake.n_script = sizeof s_ / sizeof *s_;                                            \
    } while (0)

/* The n-th recorded request that is not a GET /next, or NULL. */
static const recorded *posted(size_t n)
{
    for (size_t i = 0; i < fake.n_calls; i++)
        if (strcmp(fake.calls[i].method, "POST") == 0 && n-- == 0)
            return &fake.calls[i];
    return NULL;
}

static size_t count_calls(const char *method)
{
    size_t n = 0;
    for (size_t i = 0; i < fake.n_calls; i++)
        n += strcmp(fake.calls[i].method, method) == 0;
    return n;
}

/* ---- test handlers ------------------------------------------------------------ */

static struct seen {
    int calls;
    char request_id[128], arn[256], trace_id[256], env_trace[256], client_context[256],
        cognito[256], function_name[64], memory[16];
    long long deadline_ms;
    int trace_env_set;
} seen;

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "(null)");
}

static cJSON *echo(const cJSON *event, const lambda_context *ctx, lambda_error *err)
{
    (void)err;
    seen.calls++;
    copy(seen.request_id, sizeof seen.request_id, ctx->request_id);
    copy(seen.arn, sizeof seen.arn, ctx->function_arn);
    copy(seen.trace_id, sizeof seen.trace_id, ctx->trace_id);
    copy(seen.client_context, sizeof seen.client_context, ctx->client_context);
    copy(seen.cognito, sizeof seen.cognito, ctx->cognito_identity);
    copy(seen.function_name, sizeof seen.function_name, ctx->function_name);
    copy(seen.memory, sizeof seen.memory, ctx->memory_mb_text);
    const char *env = getenv("_X_AMZN_TRACE_ID");
    seen.trace_env_set = env != NULL;
    copy(seen.env_trace, sizeof seen.env_trace, env);
    seen.deadline_ms = ctx->deadline_ms;
    return cJSON_Duplicate(event, 1);
}

/* {"fail": "Type"} fails with that type; anything else echoes. */
static cJSON *fail_on_request(const cJSON *event, const lambda_context *ctx, lambda_error *err)
{
    const cJSON *fail = cJSON_GetObjectItemCaseSensitive(event, "fail");
    if (cJSON_IsString(fail)) {
        seen.calls++;
        return lambda_error_set(err, fail->valuestring, "asked to fail (%d)", seen.calls);
    }
    return echo(event, ctx, err);
}

static cJSON *returns_nothing(const cJSON *event, const lambda_context *ctx, lambda_error *err)
{
    (void)event;
    (void)ctx;
    (void)err;
    return NULL;
}

static cJSON *returns_huge(const cJSON *event, const lambda_context *ctx, lambda_error *err)
{
    (void)event;
    (void)ctx;
    (void)err;
    size_t n = LAMBDA_RUNTIME_MAX_RESPONSE + 1024;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "blob", big);
    free(big);
    return o;
}

static cJSON *logs_a_line(const cJSON *event, const lambda_context *ctx, lambda_error *err)
{
    (void)event;
    (void)err;
    ctx->log(ctx, "INFO", "hello \"world\"\nsecond line");
    return cJSON_CreateObject();
}

static FILE *quiet_log;

static int run(lambda_handler_fn fn, long max, lambda_runtime_stats *stats)
{
    lambda_runtime_opts opts = {
        .endpoint = fake.endpoint, .max_invocations = max, .log = quiet_log, .stats = stats};
    return lambda_runtime_run(fn, &opts);
}

static void setup(void)
{
    memset(&seen, 0, sizeof seen);
    quiet_log = fopen("/dev/null", "w");
    fake_start();
}

static void teardown(void)
{
    fake_stop();
    if (quiet_log)
        fclose(quiet_log);
}

TestSuite(lambda_runtime, .init = setup, .fini = teardown, .timeout = 30);

#define EV(id, json) {.request_id = id, .body = json}

/* ---- the loop ------------------------------------------------------------------ */

Test(lambda_runtime, posts_the_handler_result_to_the_request_ids_response_url)
{
    SCRIPT(EV("req-1", "{\"a\":[1,2,{\"b\":null}]}"));
    cr_assert_eq(run(echo, 1, NULL), LAMBDA_RUNTIME_DONE);
    cr_assert_eq(count_calls("GET"), 1);
    cr_assert_str_eq(fake.calls[0].url, "/2018-06-01/runtime/invocation/next");
    const recorded *p = posted(0);
    cr_assert_not_null(p);
    cr_assert_str_eq(p->url, "/2018-06-01/runtime/invocation/req-1/response");
    cr_assert_str_eq(p->body, "{\"a\":[1,2,{\"b\":null}]}");
    cr_assert_str_eq(p->content_type, "application/json");
    cr_assert_str_eq(p->error_type, "");
}

Test(lambda_runtime, passes_the_next_invocation_headers_in_the_context)
{
    static const scripted ev = {
        .request_id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
        .deadline = "1542409706888",
        .arn = "arn:aws:lambda:us-east-2:123456789012:function:custom-runtime",
        .trace_id = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
        .client_context = "{\"client\":{\"installation_id\":\"i\"}}",
        .cognito = "{\"cognitoIdentityId\":\"id\"}",
        .body = "{}"};
    fake.script = &ev;
    fake.n_script = 1;
    cr_assert_eq(run(echo, 1, NULL), LAMBDA_RUNTIME_DONE);
    cr_assert_str_eq(seen.request_id, ev.request_id);
    cr_assert_eq(seen.deadline_ms, 1542409706888LL);
    cr_assert_str_eq(seen.arn, ev.arn);
    cr_assert_str_eq(seen.trace_id, ev.trace_id);
    cr_assert_str_eq(seen.client_context, ev.client_context);
    cr_assert_str_eq(seen.cognito, ev.cognito);
}

Test(lambda_runtime, sets_X_AMZN_TRACE_ID_from_the_trace_header)
{
    static const scripted ev = {.request_id = "r", .trace_id = "Root=1-abc;Sampled=1",
                                .body = "{}"};
    fake.script = &ev;
    fake.n_script = 1;
    unsetenv("_X_AMZN_TRACE_ID");
    cr_assert_eq(run(echo, 1, NULL), LAMBDA_RUNTIME_DONE);
    cr_assert_str_eq(seen.env_trace, "Root=1-abc;Sampled=1");
}

Test(lambda_runtime, removes_X_AMZN_TRACE_ID_when_an_event_has_no_trace)
{
    static const scripted evs[] = {
        {.request_id = "r1", .trace_id = "Root=1-first", .body = "{}"},
        {.request_id = "r2", .body = "{}"},
    };
    fake.script = evs;
    fake.n_script = 2;
    cr_assert_eq(run(echo, 2, NULL), LAMBDA_RUNTIME_DONE);
    cr_assert_eq(seen.calls, 2);
    cr_assert_eq(seen.trace_env_set, 0, "a stale trace id leaked into the next invocation");
    cr_assert_str_eq(seen.trace_id, "(null)");
}

Test(lambda_runtime, reads_function_name_and_memory_from_the_environment)
{
    setenv("AWS_LAMBDA_FUNCTION_NAME", "shoplocal-products", 1);
    setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256", 1);
    SCRIPT(EV("r", "{}"));
    cr_assert_eq(run(echo, 1, NULL), LAMBDA_RUNTIME_DONE);
    cr_assert_str_eq(seen.function_name, "shoplocal-products");
    cr_assert_str_eq(seen.memory, "256");
    cr_assert_str_eq(seen.arn, "", "an absent ARN header reads as empty, not NULL");
}

Test(lambda_runtime, posts_a_handler_error_with_the_error_type_header_and_body)
{
    SCRIPT(EV("req-err", "{\"fail\":\"ValidationError\"}"));
    lambda_runtime_stats st = {0};
    cr_assert_eq(run(fail_on_request, 1, &st), LAMBDA_RUNTIME_DONE);
    const recorded *p = posted(0);
    cr_assert_not_null(p);
    cr_assert_str_eq(p->url, "/2018-06-01/runtime/invocation/req-err/error");
    cr_assert_str_eq(p->error_type, "ValidationError");
    cr_assert_str_eq(p->content_type, "application/json");
    cr_assert_str_eq(p->body, "{\"errorMessage\":\"asked to fail (1)\","
                              "\"errorType\":\"ValidationError\",\"stackTrace\":[]}");
    cr_assert_eq(st.errors, 1);
}

Test(lambda_runtime, survives_a_handler_error_and_serves_the_next_event)
{
    SCRIPT(EV("e1", "{\"fail\":\"Boom\"}"), EV("e2", "{\"ok\":true}"),
           EV("e3", "{\"fail\":\"Again\"}"));
    lambda_runtime_stats st = {0};
    cr_assert_eq(run(fail_on_request, 3, &st), LAMBDA_RUNTIME_DONE);
    cr_assert_eq(count_calls("GET"), 3);
    cr_assert_str_eq(posted(0)->url, "/2018-06-01/runtime/invocation/e1/error");
    cr_assert_str_eq(posted(1)->url, "/2018-06-01/runtime/invocation/e2/response");
    cr_assert_str_eq(posted(1)->body, "{\"ok\":true}");
    cr_assert_str_eq(posted(2)->url, "/2018-06-01/runtime/invocation/e3/error");
    cr_assert_str_eq(posted(2)->error_type, "Again");
    cr_assert_eq(st.invocations, 3);
    cr_assert_eq(st.errors, 2);
}

Test(lambda_runtime, reports_a_null_result_without_an_error_type_as_Error)
{
    SCRIPT(EV("r", "{}"));
    cr_assert_eq(run(returns_nothing, 1, NULL), LAMBDA_RUNTIME_DONE);
    const recorded *p = posted(0);
    cr_assert_str_eq(p->error_type, "Error");
    cr_assert_str_eq(p->body, "{\"errorMessage\":\"handler returned no response and no error\","
                              "\"errorType\":\"Error\",\"stackTrace\":[]}");
}

Test(lambda_runtime, reports_an_invalid_event_as_Runtime_UnmarshalError_and_goes_on)
{
    SCRIPT(EV("bad", "{\"a\": tru"), EV("empty", ""), EV("good", "[1]\r\n"),
           EV("trailing", "{} {}"));
    cr_assert_eq(run(echo, 4, NULL), LAMBDA_RUNTIME_DONE);
    cr_assert_eq(seen.calls, 1, "the handler must not see an unparsable event");
    const recorded *p = posted(0);
    cr_assert_str_eq(p->url, "/2018-06-01/runtime/invocation/bad/error");
    cr_assert_str_eq(p->error_type, "Runtime.UnmarshalError");
    cJSON *body = cJSON_Parse(p->body);
    cr_assert_not_null(body);
    cr_assert_str_eq(cJSON_GetObjectItem(body, "errorType")->valuestring,
                     "Runtime.UnmarshalError");
    cr_assert(strncmp(cJSON_GetObjectItem(body, "errorMessage")->valuestring,
                      "Unable to unmarshal input: ", 27) == 0);
    cr_assert(cJSON_IsArray(cJSON_GetObjectItem(body, "stackTrace")));
    cJSON_Delete(body);
    cr_assert_str_eq(posted(1)->url, "/2018-06-01/runtime/invocation/empty/error");
    cr_assert_str_eq(posted(1)->error_type, "Runtime.UnmarshalError");
    cr_assert_str_eq(posted(2)->url, "/2018-06-01/runtime/invocation/good/response");
    cr_assert_str_eq(posted(2)->body, "[1]");
    cr_assert_str_eq(posted(3)->url, "/2018-06-01/runtime/invocation/trailing/error");
    cr_assert_str_eq(posted(3)->error_type, "Runtime.UnmarshalError");
}

Test(lambda_runtime, answers_a_413_with_Function_ResponseSizeTooLarge_and_goes_on)
{
    SCRIPT(EV("huge", "{}"), EV("after", "{}"));
    cr_assert_eq(run(returns_huge, 2, NULL), LAMBDA_RUNTIME_DONE);
    cr_assert_eq(count_calls("GET"), 2, "the loop must go on after a 413");
    cr_assert_str_eq(posted(0)->url, "/2018-06-01/runtime/invocation/huge/response");
    cr_assert_gt(posted(0)->body_len, LAMBDA_RUNTIME_MAX_RESPONSE);
    const recorded *p = posted(1);
    cr_assert_str_eq(p->url, "/2018-06-01/runtime/invocation/huge/error");
    cr_assert_str_eq(p->error_type, "Function.ResponseSizeTooLarge");
    cr_assert_str_eq(p->body, "{\"errorMessage\":\"Response payload size exceeded maximum "
                              "allowed payload size (6291556 bytes).\",\"errorType\":"
                              "\"Function.ResponseSizeTooLarge\",\"stackTrace\":[]}");
    cr_assert_str_eq(posted(2)->url, "/2018-06-01/runtime/invocation/after/response");
}

Test(lambda_runtime, reuses_one_connection_for_every_call)
{
    SCRIPT(EV("c1", "{}"), EV("c2", "{\"fail\":\"X\"}"), EV("c3", "{}"), EV("c4", "nope"),
           EV("c5", "{}"));
    lambda_runtime_stats st = {0};
    cr_assert_eq(run(fail_on_request, 5, &st), LAMBDA_RUNTIME_DONE);
    cr_assert_eq(fake.n_calls, 10, "5 /next + 5 results");
    cr_assert_eq(fake.connections, 1, "the server saw %d connections", fake.connections);
    cr_assert_eq(st.connects, 1);
}

/* ---- Runtime API failures --------------------------------------------------------- */

Test(lambda_runtime, retries_a_failed_next_and_serves_the_event_after_it)
{
    static const scripted evs[] = {{.status = 500}, {.status = 503}, EV("late", "{}")};
    fake.script = evs;
    fake.n_script = 3;
    cr_assert_eq(run(echo, 1, NULL), LAMBDA_RUNTIME_DONE);
    cr_assert_eq(count_calls("GET"), 3);
    cr_assert_str_eq(posted(0)->url, "/2018-06-01/runtime/invocation/late/response");
}

Test(lambda_runtime, gives_up_after_three_failed_next_calls_in_a_row)
{
    /* 2 failures, a success (resets the count), then 3 failures: 6 GETs. */
    static const scripted evs[] = {{.status = 500}, {.status = 500}, EV("one", "{}")};
    fake.script = evs;
    fake.n_script = 3;
    cr_assert_eq(run(echo, 0, NULL), LAMBDA_RUNTIME_ERR_API);
    cr_assert_eq(count_calls("GET"), 6);
    cr_assert_eq(seen.calls, 1);
}

Test(lambda_runtime, counts_a_next_answer_without_a_request_id_as_a_failure)
{
    static const scripted evs[] = {{.body = "{}"}, EV("real", "{}")};
    fake.script = evs;
    fake.n_script = 2;
    cr_assert_eq(run(echo, 1, NULL), LAMBDA_RUNTIME_DONE);
    cr_assert_eq(count_calls("GET"), 2);
    cr_assert_eq(seen.calls, 1);
    cr_assert_str_eq(seen.request_id, "real");
}

Test(lambda_runtime, stops_when_the_api_rejects_a_result)
{
    SCRIPT(EV("r1", "{}"), EV("r2", "{}"));
    fake.response_status = 400;
    cr_assert_eq(run(echo, 2, NULL), LAMBDA_RUNTIME_ERR_API);
    cr_assert_eq(count_calls("GET"), 1);
}

Test(lambda_runtime, gives_up_when_the_api_is_unreachable)
{
    int port = fake.port;
    MHD_stop_daemon(fake.daemon);
    fake.daemon = NULL;
    lambda_runtime_stats st = {0};
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", port);
    lambda_runtime_opts opts = {.endpoint = endpoint, .log = quiet_log, .stats = &st};
    cr_assert_eq(lambda_runtime_run(echo, &opts), LAMBDA_RUNTIME_ERR_API);
    cr_assert_eq(st.invocations, 0);
    cr_assert_eq(seen.calls, 0);
}

/* ---- configuration and init --------------------------------------------------------- */

Test(lambda_runtime, takes_the_endpoint_from_AWS_LAMBDA_RUNTIME_API)
{
    SCRIPT(EV("env", "{}"));
    setenv("AWS_LAMBDA_RUNTIME_API", fake.endpoint, 1);
    lambda_runtime_opts opts = {.max_invocations = 1, .log = quiet_log};
    cr_assert_eq(lambda_runtime_run(echo, &opts), LAMBDA_RUNTIME_DONE);
    cr_assert_str_eq(seen.request_id, "env");
}

Test(lambda_runtime, is_a_config_error_without_an_endpoint)
{
    unsetenv("AWS_LAMBDA_RUNTIME_API");
    lambda_runtime_opts opts = {.max_invocations = 1, .log = quiet_log};
    cr_assert_eq(lambda_runtime_run(echo, &opts), LAMBDA_RUNTIME_ERR_CONFIG);
    cr_assert_eq(fake.n_calls, 0);
}

static int init_fails(const lambda_context *ctx, lambda_error *err)
{
    cr_assert_null(ctx->request_id);
    lambda_error_set(err, "Runtime.ConfigError", "TABLE_NAME is %s",
                     ctx->getenv(ctx, "SHOPLOCAL_TEST_UNSET") ? "set" : "not set");
    return -1;
}

static int init_ok_calls;
static int init_ok(const lambda_context *ctx, lambda_error *err)
{
    (void)err;
    init_ok_calls += ctx->getenv(ctx, "SHOPLOCAL_TEST_VAR") != NULL;
    return 0;
}

Test(lambda_runtime, reports_an_init_failure_to_init_error_and_stops)
{
    unsetenv("SHOPLOCAL_TEST_UNSET");
    SCRIPT(EV("never", "{}"));
    lambda_runtime_opts opts = {
        .endpoint = fake.endpoint, .max_invocations = 1, .init = init_fails, .log = quiet_log};
    cr_assert_eq(lambda_runtime_run(echo, &opts), LAMBDA_RUNTIME_ERR_INIT);
    cr_assert_eq(fake.n_calls, 1, "no /next after an init error");
    const recorded *p = posted(0);
    cr_assert_str_eq(p->url, "/2018-06-01/runtime/init/error");
    cr_assert_str_eq(p->error_type, "Runtime.ConfigError");
    cr_assert_str_eq(p->body, "{\"errorMessage\":\"TABLE_NAME is not set\","
                              "\"errorType\":\"Runtime.ConfigError\",\"stackTrace\":[]}");
}

Test(lambda_runtime, runs_a_successful_init_once_before_the_first_event)
{
    setenv("SHOPLOCAL_TEST_VAR", "1", 1);
    SCRIPT(EV("a", "{}"), EV("b", "{}"));
    lambda_runtime_opts opts = {
        .endpoint = fake.endpoint, .max_invocations = 2, .init = init_ok, .log = quiet_log};
    cr_assert_eq(lambda_runtime_run(echo, &opts), LAMBDA_RUNTIME_DONE);
    cr_assert_eq(init_ok_calls, 1);
    cr_assert_eq(seen.calls, 2);
    cr_assert_eq(count_calls("POST"), 2);
}

/* ---- context services and helpers ------------------------------------------------------ */

Test(lambda_runtime, logs_one_json_line_with_request_and_trace_ids)
{
    static const scripted ev = {.request_id = "log-1", .trace_id = "Root=1-log", .body = "{}"};
    fake.script = &ev;
    fake.n_script = 1;
    FILE *log = tmpfile();
    cr_assert_not_null(log);
    lambda_runtime_opts opts = {.endpoint = fake.endpoint, .max_invocations = 1, .log = log};
    cr_assert_eq(lambda_runtime_run(logs_a_line, &opts), LAMBDA_RUNTIME_DONE);
    rewind(log);
    char line[1024];
    cr_assert_not_null(fgets(line, sizeof line, log));
    cr_assert_eq(line[strlen(line) - 1], '\n');
    cJSON *o = cJSON_Parse(line);
    cr_assert_not_null(o, "not one JSON object: %s", line);
    cr_assert_str_eq(cJSON_GetObjectItem(o, "level")->valuestring, "INFO");
    cr_assert_str_eq(cJSON_GetObjectItem(o, "requestId")->valuestring, "log-1");
    cr_assert_str_eq(cJSON_GetObjectItem(o, "traceId")->valuestring, "Root=1-log");
    cr_assert_str_eq(cJSON_GetObjectItem(o, "message")->valuestring,
                     "hello \"world\"\nsecond line");
    const char *when = cJSON_GetObjectItem(o, "time")->valuestring;
    cr_assert_eq(strlen(when), strlen("2024-01-01T00:00:00.000Z"), "%s", when);
    cr_assert_eq(when[strlen(when) - 1], 'Z');
    cJSON_Delete(o);
    fclose(log);
}

static cJSON *crlf_type(const cJSON *event, const lambda_context *ctx, lambda_error *err)
{
    (void)event;
    (void)ctx;
    return lambda_error_set(err, "Bad\r\nX-Injected: 1", "m");
}

Test(lambda_runtime, keeps_a_crlf_in_an_error_type_out_of_the_headers)
{
    SCRIPT(EV("r", "{}"));
    cr_assert_eq(run(crlf_type, 1, NULL), LAMBDA_RUNTIME_DONE);
    cr_assert_str_eq(posted(0)->error_type, "Bad  X-Injected: 1");
}

LAMBDA_HANDLER(echo)

Test(lambda_runtime, LAMBDA_HANDLER_exports_lambda_handler)
{
    cJSON *ev = cJSON_Parse("{\"x\":1}");
    lambda_context ctx = {.request_id = "direct"};
    lambda_error err = {{0}, {0}};
    cJSON *out = lambda_handler(ev, &ctx, &err);
    cr_assert(cJSON_Compare(ev, out, 1));
    cr_assert_str_eq(seen.request_id, "direct");
    cJSON_Delete(ev);
    cJSON_Delete(out);
}

Test(lambda_runtime, error_set_marks_a_cut_message_and_remaining_ms_clamps)
{
    lambda_error err;
    char long_text[2000];
    memset(long_text, 'm', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    cr_assert_null(lambda_error_set(&err, "T", "%s", long_text));
    cr_assert_eq(strlen(err.message), sizeof err.message - 1);
    cr_assert_str_eq(err.message + sizeof err.message - 4, "...");
    lambda_error_set(&err, "Short", "n=%d", 7);
    cr_assert_str_eq(err.type, "Short");
    cr_assert_str_eq(err.message, "n=7");

    lambda_context ctx = {.deadline_ms = 10000};
    cr_assert_eq(lambda_remaining_ms(&ctx, 9000), 1000);
    cr_assert_eq(lambda_remaining_ms(&ctx, 12000), 0);
    ctx.deadline_ms = 0;
    cr_assert_eq(lambda_remaining_ms(&ctx, 12000), LLONG_MAX);
    cr_assert_gt(lambda_epoch_ms(), 1500000000000LL);
}
