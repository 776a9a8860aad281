/*
 * runtime.c — the provided.al2023 custom-runtime loop (see runtime.h).
 *
 * Reproduces "Using the Lambda runtime API for custom runtimes" (AWS Lambda
 * developer guide) and copies the official runtimes where the guide is silent:
 *
 *   - /next has no timeout (the guide: "Do not set a timeout on the GET request
 *     ... the runtime process may be frozen"); connects time out after 1 s and
 *     proxies from the environment are ignored, as aws-lambda-cpp does.
 *   - /next failing (no answer, a non-2xx status, or no request id header) is
 *     retried at once; LAMBDA_RUNTIME_NEXT_RETRIES failures in a row end the loop
 *     (aws-lambda-cpp run_handler: max_retries = 3, reset after a success).
 *   - A result that cannot be posted ends the loop (aws-lambda-cpp returns from
 *     run_handler; aws-lambda-go's loop returns the error and log.Fatal()s):
 *     the Runtime API is gone and Lambda will start a fresh sandbox. The one
 *     exception is a 413 to /response: the API refused the size, so the function
 *     error Function.ResponseSizeTooLarge is reported instead and the loop goes on.
 *   - An event that is not JSON is reported as Runtime.UnmarshalError "Unable to
 *     unmarshal input: ..." (awslambdaric's bootstrap; aws-lambda-go uses the same
 *     errorType), and the loop goes on.
 *   - _X_AMZN_TRACE_ID is set from Lambda-Runtime-Trace-Id for each event and
 *     removed when an event has none (awslambdaric update_xray_env_variable).
 *   - Error bodies are {"errorMessage","errorType","stackTrace":[]} with the
 *     Lambda-Runtime-Function-Error-Type header (aws-lambda-cpp's failure()
 *     body; the header from the Runtime API's OpenAPI description).
 *
 * One CURL easy handle serves every call, so libcurl keeps the one connection
 * to the Runtime API alive across /next, /response and /error.
 */
#include "runtime/runtime.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define API_VERSION "/2018-06-01/runtime"
/* Far above any event the API sends (6 MB sync, 256 KB async); a guard only. */
#define MAX_EVENT_BYTES ((size_t)64 * 1024 * 1024)

typedef struct rt_headers {
    char *request_id, *deadline, *arn, *trace_id, *client_context, *cognito_identity;
} rt_headers;

typedef struct rt_state {
    CURL *curl;
    char *base; /* http://host:port/2018-06-01/runtime */
    FILE *log;
    lambda_runtime_stats stats;
    char *function_name, *memory_mb;
    /* the last answer */
    char *body;
    size_t body_len, body_cap;
    int body_overflow;
    rt_headers hdr;
} rt_state;

/* ---- logging ------------------------------------------------------------- */

static const char *rt_getenv(const lambda_context *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

/* One JSON object per line, written with one fwrite so lines never interleave. */
static void rt_log(const lambda_context *ctx, const char *level, const char *message)
{
    const rt_state *rt = ctx ? (const rt_state *)ctx->host : NULL;
    FILE *out = rt && rt->log ? rt->log : stdout;

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[64], stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when, sizeof when, "%s.%03dZ", stamp, (int)(ts.tv_nsec / 1000000));

    cJSON *line = cJSON_CreateObject();
    if (!line)
        return;
    cJSON_AddStringToObject(line, "time", when);
    cJSON_AddStringToObject(line, "level", level ? level : "INFO");
    if (ctx && ctx->request_id)
        cJSON_AddStringToObject(line, "requestId", ctx->request_id);
    else
        cJSON_AddNullToObject(line, "requestId");
    if (ctx && ctx->trace_id)
        cJSON_AddStringToObject(line, "traceId", ctx->trace_id);
    else
        cJSON_AddNullToObject(line, "traceId");
    cJSON_AddStringToObject(line, "message", message ? message : "");
    char *text = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    if (!text)
        return;
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the NUL: written by length below */
    fwrite(text, 1, n + 1, out);
    fflush(out);
    free(text);
}

static void rt_logf(const lambda_context *ctx, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void rt_logf(const lambda_context *ctx, const char *level, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rt_log(ctx, level, msg);
}

/* ---- HTTP ------------------------------------------------------------------ */

static void headers_clear(rt_headers *h)
{
    free(h->request_id);
    free(h->deadline);
    free(h->arn);
    free(h->trace_id);
    free(h->client_context);
    free(h->cognito_identity);
    memset(h, 0, sizeof *h);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    rt_state *rt = userdata;
    size_t n = size * nmemb;
    if (n > MAX_EVENT_BYTES - rt->body_len) {
        rt->body_overflow = 1;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (rt->body_len + n + 1 > rt->body_cap) {
        size_t cap = rt->body_cap ? rt->body_cap : 4096;
        while (cap < rt->body_len + n + 1)
            cap *= 2;
        char *p = realloc(rt->body, cap);
        if (!p)
            return 0;
        rt->body = p;
        rt->body_cap = cap;
    }
    memcpy(rt->body + rt->body_len, data, n);
    rt->body_len += n;
    rt->body[rt->body_len] = '\0';
    return n;
}

static char *dup_trimmed(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
                   s[len - 1] == '\n'))
        len--;
    return strndup(s, len);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    rt_state *rt = userdata;
    size_t n = size * nmemb;
    /* A status line starts a new header block (after a 100 Continue, say). */
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        headers_clear(&rt->hdr);
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon)
        return n;
    size_t name_len = (size_t)(colon - data);
    static const struct {
        const char *name;
        size_t off;
    } wanted[] = {
        {"Lambda-Runtime-Aws-Request-Id", offsetof(rt_headers, request_id)},
        {"Lambda-Runtime-Deadline-Ms", offsetof(rt_headers, deadline)},
        {"Lambda-Runtime-Invoked-Function-Arn", offsetof(rt_headers, arn)},
        {"Lambda-Runtime-Trace-Id", offsetof(rt_headers, trace_id)},
        {"Lambda-Runtime-Client-Context", offsetof(rt_headers, client_context)},
        {"Lambda-Runtime-Cognito-Identity", offsetof(rt_headers, cognito_identity)},
    };
    for (size_t i = 0; i < sizeof wanted / sizeof *wanted; i++) {
        if (strlen(wanted[i].name) == name_len &&
            strncasecmp(data, wanted[i].name, name_len) == 0) {
            char **slot = (char **)((char *)&rt->hdr + wanted[i].off);
            free(*slot);
            *slot = dup_trimmed(colon + 1, n - name_len - 1);
            break;
        }
    }
    return n;
}

/* One request on the shared handle. Returns the HTTP status, or -1 when no
 * answer came (connection refused, reset, body too large). */
static long rt_http(rt_state *rt, const char *url, const char *body, size_t body_len,
                    const char *error_type)
{
    CURL *c = rt->curl;
    rt->body_len = 0;
    rt->body_overflow = 0;
    if (rt->body)
        rt->body[0] = '\0';
    headers_clear(&rt->hdr);

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, rt);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, rt);

    struct curl_slist *headers = NULL, *h;
    int headers_ok = 1;
    if (body) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        /* No "Expect: 100-continue" round trip for large bodies. */
        const char *fixed[] = {"Content-Type: application/json", "Expect:"};
        for (size_t i = 0; i < 2 && headers_ok; i++) {
            h = curl_slist_append(headers, fixed[i]);
            headers_ok = h != NULL;
            headers = h ? h : headers;
        }
        if (error_type && headers_ok) {
            char line[256];
            snprintf(line, sizeof line, "Lambda-Runtime-Function-Error-Type: %s", error_type);
            /* errorType comes from the handler: no CR/LF may split the header. */
            for (char *p = line; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                    *p = ' ';
            h = curl_slist_append(headers, line);
            headers_ok = h != NULL;
            headers = h ? h : headers;
        }
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

    long status = -1;
    if (headers_ok) {
        CURLcode rc = curl_easy_perform(c);
        long connects = 0;
        if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
            rt->stats.connects += connects;
        if (rc == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        else {
            lambda_context log_ctx = {.host = rt};
            rt_logf(&log_ctx, "ERROR", "Runtime API %s: %s", url, curl_easy_strerror(rc));
        }
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    return status;
}

static int is_2xx(long status)
{
    return status >= 200 && status <= 299;
}

/* POST body to base + suffix; returns the HTTP status or -1. */
static long rt_post(rt_state *rt, const char *suffix, const char *body, size_t len,
                    const char *error_type)
{
    size_t n = strlen(rt->base) + strlen(suffix) + 1;
    char *url = malloc(n);
    if (!url)
        return -1;
    snprintf(url, n, "%s%s", rt->base, suffix);
    long status = rt_http(rt, url, body, len, error_type);
    free(url);
    return status;
}

/* {"errorMessage","errorType","stackTrace":[]} to .../invocation/{id}/error, or
 * to /init/error when request_id is NULL. Returns the HTTP status or -1. */
static long rt_post_error(rt_state *rt, const lambda_context *ctx, const char *request_id,
                          const char *type, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return -1;
    cJSON_AddStringToObject(o, "errorMessage", message);
    cJSON_AddStringToObject(o, "errorType", type);
    cJSON_AddArrayToObject(o, "stackTrace");
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        return -1;

    long status = -1;
    if (request_id) {
        char *id = curl_easy_escape(rt->curl, request_id, 0);
        if (id) {
            size_t n = strlen("/invocation//error") + strlen(id) + 1;
            char *suffix = malloc(n);
            if (suffix) {
                snprintf(suffix, n, "/invocation/%s/error", id);
                status = rt_post(rt, suffix, text, strlen(text), type);
                free(suffix);
            }
            curl_free(id);
        }
    } else {
        status = rt_post(rt, "/init/error", text, strlen(text), type);
    }
    free(text);
    rt_logf(ctx, "ERROR", "%s: %s", type, message);
    return status;
}

static long rt_post_response(rt_state *rt, const char *request_id, const char *json)
{
    char *id = curl_easy_escape(rt->curl, request_id, 0);
    if (!id)
        return -1;
    size_t n = strlen("/invocation//response") + strlen(id) + 1;
    char *suffix = malloc(n);
    long status = -1;
    if (suffix) {
        snprintf(suffix, n, "/invocation/%s/response", id);
        status = rt_post(rt, suffix, json, strlen(json), NULL);
        free(suffix);
    }
    curl_free(id);
    return status;
}

/* ---- the loop --------------------------------------------------------------- */

/* Serve one event already fetched into rt (body + headers). Returns 0 when its
 * result was posted, -1 when the Runtime API would not take it. */
static int rt_invoke(rt_state *rt, lambda_handler_fn fn)
{
    /* The handler sees copies: posting the result reuses rt's buffers. */
    rt_headers inv = rt->hdr;
    memset(&rt->hdr, 0, sizeof rt->hdr);

    if (inv.trace_id)
        setenv("_X_AMZN_TRACE_ID", inv.trace_id, 1);
    else
        unsetenv("_X_AMZN_TRACE_ID");

    lambda_context ctx = {
        .request_id = inv.request_id,
        .deadline_ms = inv.deadline ? strtoll(inv.deadline, NULL, 10) : 0,
        .function_name = rt->function_name,
        .function_arn = inv.arn ? inv.arn : "",
        .trace_id = inv.trace_id,
        .memory_mb_text = rt->memory_mb,
        .getenv = rt_getenv,
        .log = rt_log,
        .client_context = inv.client_context,
        .cognito_identity = inv.cognito_identity,
        .host = rt,
    };

    long status;
    const char *end = NULL;
    const char *text = rt->body ? rt->body : "";
    cJSON *event = cJSON_ParseWithLengthOpts(text, rt->body_len, &end, 0);
    /* Trailing bytes other than whitespace make the whole event invalid. */
    if (event && end) {
        while (end < text + rt->body_len &&
               (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
            end++;
        if (end != text + rt->body_len) {
            cJSON_Delete(event);
            event = NULL;
        }
    }
    if (!event) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        char msg[128];
        snprintf(msg, sizeof msg, "Unable to unmarshal input: invalid JSON at byte %zu", at);
        rt->stats.errors++;
        status = rt_post_error(rt, &ctx, inv.request_id, "Runtime.UnmarshalError", msg);
    } else {
        lambda_error err;
        memset(&err, 0, sizeof err);
        cJSON *result = fn(event, &ctx, &err);
        cJSON_Delete(event);
        if (!result) {
            if (!err.type[0])
                lambda_error_set(&err, "Error", "%s",
                                 err.message[0] ? err.message
                                                : "handler returned no response and no error");
            rt->stats.errors++;
            status = rt_post_error(rt, &ctx, inv.request_id, err.type, err.message);
        } else {
            char *json = cJSON_PrintUnformatted(result);
            cJSON_Delete(result);
            if (!json) {
                rt->stats.errors++;
                status = rt_post_error(rt, &ctx, inv.request_id, "Runtime.MarshalError",
                                       "Unable to marshal response: out of memory");
            } else {
                status = rt_post_response(rt, inv.request_id, json);
                free(json);
                if (status == 413) {
                    /* The API has refused the result; tell the caller why. Its answer
                     * does not matter: the invocation is over either way. */
                    rt->stats.errors++;
                    rt_post_error(rt, &ctx, inv.request_id, "Function.ResponseSizeTooLarge",
                                  "Response payload size exceeded maximum allowed payload "
                                  "size (6291556 bytes).");
                    status = 202;
                }
            }
        }
    }
    int ok = is_2xx(status);
    if (!ok)
        rt_logf(&ctx, "ERROR", "the Runtime API did not take the result (HTTP %ld)", status);
    headers_clear(&inv);
    return ok ? 0 : -1;
}

static int rt_init(rt_state *rt, const lambda_runtime_opts *opts)
{
    lambda_context ctx = {
        .function_name = rt->function_name,
        .function_arn = "",
        .memory_mb_text = rt->memory_mb,
        .getenv = rt_getenv,
        .log = rt_log,
        .host = rt,
    };
    lambda_error err;
    memset(&err, 0, sizeof err);
    if (opts->init(&ctx, &err) == 0)
        return 0;
    if (!err.type[0])
        lambda_error_set(&err, "Runtime.InitError", "%s",
                         err.message[0] ? err.message : "the init hook failed");
    rt_post_error(rt, &ctx, NULL, err.type, err.message);
    return -1;
}

static void rt_free(rt_state *rt)
{
    if (rt->curl)
        curl_easy_cleanup(rt->curl);
    free(rt->base);
    free(rt->function_name);
    free(rt->memory_mb);
    free(rt->body);
    headers_clear(&rt->hdr);
}

static char *dup_env(const char *name)
{
    const char *v = getenv(name);
    return strdup(v ? v : "");
}

int lambda_runtime_run(lambda_handler_fn fn, const lambda_runtime_opts *opts)
{
    static const lambda_runtime_opts defaults;
    if (!opts)
        opts = &defaults;
    rt_state rt;
    memset(&rt, 0, sizeof rt);
    rt.log = opts->log ? opts->log : stdout;
    lambda_context log_ctx = {.host = &rt};

    const char *endpoint = opts->endpoint ? opts->endpoint : getenv("AWS_LAMBDA_RUNTIME_API");
    if (!endpoint || !*endpoint || !fn) {
        rt_log(&log_ctx, "ERROR",
               fn ? "AWS_LAMBDA_RUNTIME_API is not set" : "no handler function");
        return LAMBDA_RUNTIME_ERR_CONFIG;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        rt_log(&log_ctx, "ERROR", "libcurl could not be initialised");
        return LAMBDA_RUNTIME_ERR_CONFIG;
    }

    int status = LAMBDA_RUNTIME_DONE;
    size_t n = strlen("http://") + strlen(endpoint) + strlen(API_VERSION) + 1;
    rt.base = malloc(n);
    rt.curl = curl_easy_init();
    rt.function_name = dup_env("AWS_LAMBDA_FUNCTION_NAME");
    rt.memory_mb = dup_env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
    if (!rt.base || !rt.curl || !rt.function_name || !rt.memory_mb) {
        rt_log(&log_ctx, "ERROR", "out of memory starting the runtime");
        status = LAMBDA_RUNTIME_ERR_CONFIG;
        goto done;
    }
    snprintf(rt.base, n, "http://%s%s", endpoint, API_VERSION);

    if (opts->init && rt_init(&rt, opts) != 0) {
        status = LAMBDA_RUNTIME_ERR_INIT;
        goto done;
    }

    size_t next_len = strlen(rt.base) + strlen("/invocation/next") + 1;
    char *next_url = malloc(next_len);
    if (!next_url) {
        status = LAMBDA_RUNTIME_ERR_CONFIG;
        goto done;
    }
    snprintf(next_url, next_len, "%s/invocation/next", rt.base);

    int failures = 0;
    while (opts->max_invocations <= 0 || rt.stats.invocations < opts->max_invocations) {
        long http = rt_http(&rt, next_url, NULL, 0, NULL);
        if (!is_2xx(http) || !rt.hdr.request_id || !*rt.hdr.request_id) {
            rt_logf(&log_ctx, "ERROR", "failed to get the next invocation (HTTP %ld%s)", http,
                    is_2xx(http) ? ", no Lambda-Runtime-Aws-Request-Id" : "");
            if (++failures >= LAMBDA_RUNTIME_NEXT_RETRIES) {
                rt_log(&log_ctx, "ERROR", "exhausted all retries of /invocation/next; exiting");
                status = LAMBDA_RUNTIME_ERR_API;
                break;
            }
            continue;
        }
        failures = 0;
        rt.stats.invocations++;
        if (rt_invoke(&rt, fn) != 0) {
            status = LAMBDA_RUNTIME_ERR_API;
            break;
        }
    }
    free(next_url);

done:
    if (opts->stats)
        *opts->stats = rt.stats;
    rt_free(&rt);
    curl_global_cleanup();
    return status;
}
