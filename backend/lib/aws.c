/*
 * aws.c — the handlers' AWS client (aws.h): the AWS JSON protocols over
 * libcurl, every request signed with SigV4 (sigv4.h), the SDKs' standard retry
 * mode, a Secrets Manager cache and S3 presigned URLs.
 *
 * What it reproduces, from the AWS SDKs and Tools reference guide and botocore:
 *   - endpoints: AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL,
 *     AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, else the regional endpoint;
 *   - awsJson1_0 / awsJson1_1: POST / with X-Amz-Target and the protocol's
 *     content type; errors {"__type": "ns#Type", "message"} (or "Message");
 *   - the "standard" retry mode: up to 3 attempts, throttling codes and
 *     500/502/503/504 and transport failures retried, full-jitter exponential
 *     backoff (base 100 ms, cap 20 s), a retry quota, and the
 *     amz-sdk-invocation-id / amz-sdk-request headers botocore sends;
 *   - DynamoDB's x-amz-crc32: an answer whose CRC32 does not match is retried
 *     as a transient failure, as the SDKs do;
 *   - in a Lambda, _X_AMZN_TRACE_ID goes out as X-Amzn-Trace-Id (unsigned).
 *
 * Nothing here prints or reads the process environment: configuration comes
 * from the getenv callback, read once in aws_client_new. Secret values and
 * credentials are cleansed from memory when dropped.
 */
#include "lib/aws.h"

#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "lib/aws_impl.h"
#include "lib/sigv4.h"

#define MAX_RESPONSE (16u << 20)
#define SECRET_CACHE 16
#define DEFAULT_CONNECT_MS 3000
#define DEFAULT_TOTAL_MS 10000
#define USER_AGENT "shoplocal-aws/1.0"

/* Signing name, AWS_ENDPOINT_URL_<suffix>, JSON protocol version. */
static const struct {
    const char *service;
    const char *suffix;
    int json10;
} services[] = {
    {"dynamodb", "DYNAMODB", 1},     {"states", "SFN", 1}, {"secretsmanager", "SECRETS_MANAGER", 0},
    {"s3", "S3", 0},                 {"email", "SES", 0},  {"sns", "SNS", 0},
};
#define N_SERVICES (sizeof services / sizeof *services)

typedef struct secret_entry {
    char *id;
    char *value;
    long long expires_ms;
} secret_entry;

struct aws_client {
    char region[64];
    sigv4_signer *signer; /* NULL without credentials */
    char *endpoint_all;   /* AWS_ENDPOINT_URL, or NULL */
    int ignore_configured;
    char endpoints[N_SERVICES][512];
    int custom[N_SERVICES];
    CURL *curl;
    long connect_ms, total_ms;
    int quota;
    secret_entry secrets[SECRET_CACHE];
    char trace_id[256]; /* _X_AMZN_TRACE_ID at creation: sent, not signed */
    void (*sleep_ms)(void *ctx, long ms);
    void *sleep_ctx;
    long long (*now_ms)(void *ctx);
    void *now_ctx;
};

/* --- small helpers ---------------------------------------------------------- */

static void err_set(aws_error *err, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void err_set(aws_error *err, int status, const char *type, const char *fmt, ...)
{
    if (!err)
        return;
    err->status = status;
    snprintf(err->type, sizeof err->type, "%s", type);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void default_sleep(void *ctx, long ms)
{
    (void)ctx;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static double random_unit(void)
{
    uint32_t v;
    if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
        v = (uint32_t)monotonic_ms() * 2654435761u;
    return v / 4294967296.0;
}

static void uuid4(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        memset(b, 0x5a, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

static const char *env(aws_getenv_fn fn, void *ctx, const char *name)
{
    const char *v = fn ? fn(ctx, name) : NULL;
    return v && *v ? v : NULL;
}

static void cleanse_free(char *p)
{
    if (p) {
        OPENSSL_cleanse(p, strlen(p));
        free(p);
    }
}

/* CRC32 (IEEE), for DynamoDB's x-amz-crc32. */
static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
    pthread_once(&crc_once, crc_init);
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

/* --- the pure parts (aws_impl.h) ------------------------------------------ */

static int service_index(const char *service)
{
    for (size_t i = 0; service && i < N_SERVICES; i++)
        if (!strcmp(services[i].service, service))
            return (int)i;
    return -1;
}

const char *aws_service_env_suffix(const char *service)
{
    int i = service_index(service);
    return i < 0 ? NULL : services[i].suffix;
}

const char *aws_json_content_type(const char *service)
{
    int i = service_index(service);
    return i >= 0 && services[i].json10 ? "application/x-amz-json-1.0"
                                        : "application/x-amz-json-1.1";
}

static int put_url(char *out, size_t cap, const char *url)
{
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    if (n == 0 || n >= cap) {
        if (cap)
            out[0] = '\0';
        return -1;
    }
    memcpy(out, url, n);
    out[n] = '\0';
    return 0;
}

int aws_endpoint_resolve(aws_getenv_fn getenv_fn, void *env_ctx, const char *service,
                         const char *region, char *out, size_t cap, int *custom)
{
    if (custom)
        *custom = 0;
    if (!out || !cap)
        return -1;
    out[0] = '\0';
    if (!service || !*service || !region || !*region)
        return -1;
    const char *ignore = env(getenv_fn, env_ctx, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    if (!ignore || strcasecmp(ignore, "true") != 0) {
        const char *suffix = aws_service_env_suffix(service);
        const char *v = NULL;
        if (suffix) {
            char name[64];
            snprintf(name, sizeof name, "AWS_ENDPOINT_URL_%s", suffix);
            v = env(getenv_fn, env_ctx, name);
        }
        if (!v)
            v = env(getenv_fn, env_ctx, "AWS_ENDPOINT_URL");
        if (v) {
            if (custom)
                *custom = 1;
            return put_url(out, cap, v);
        }
    }
    int n = snprintf(out, cap, "https://%s.%s.amazonaws.com", service, region);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

static void copy_type(aws_error *err, const char *code)
{
    size_t n = strcspn(code, ":");
    const char *hash = NULL;
    for (size_t i = 0; i < n; i++)
        if (code[i] == '#')
            hash = code + i;
    const char *start = hash ? hash + 1 : code;
    size_t len = n - (size_t)(start - code);
    if (len >= sizeof err->type)
        len = sizeof err->type - 1;
    memcpy(err->type, start, len);
    err->type[len] = '\0';
}

void aws_error_parse(int status, const char *body, size_t len, const char *error_type_header,
                     aws_error *err)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
    err->status = status;
    cJSON *doc = body && len ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "__type");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "message");
    if (!cJSON_IsString(m))
        m = cJSON_GetObjectItemCaseSensitive(doc, "Message");
    if (cJSON_IsString(t))
        copy_type(err, t->valuestring);
    if (!err->type[0] && error_type_header)
        copy_type(err, error_type_header);
    if (!err->type[0])
        snprintf(err->type, sizeof err->type, "%d", status);
    if (cJSON_IsString(m))
        snprintf(err->message, sizeof err->message, "%s", m->valuestring);
    cJSON_Delete(doc);
}

aws_retry_kind aws_retry_classify(int status, const char *type, int transport_failed)
{
    /* botocore's retries/standard.py lists. */
    static const char *const throttles[] = {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException",
        "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
        "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    };
    static const char *const transient[] = {"RequestTimeout", "RequestTimeoutException",
                                            "PriorRequestNotComplete"};
    if (transport_failed)
        return AWS_RETRY_TRANSIENT;
    if (status >= 200 && status < 300)
        return AWS_RETRY_NONE;
    for (size_t i = 0; type && i < sizeof throttles / sizeof *throttles; i++)
        if (!strcmp(type, throttles[i]))
            return AWS_RETRY_THROTTLE;
    for (size_t i = 0; type && i < sizeof transient / sizeof *transient; i++)
        if (!strcmp(type, transient[i]))
            return AWS_RETRY_TRANSIENT;
    if (status == 500 || status == 502 || status == 503 || status == 504)
        return AWS_RETRY_TRANSIENT;
    return AWS_RETRY_NONE;
}

long aws_retry_backoff_ms(int attempt, double r)
{
    if (attempt < 1)
        attempt = 1;
    if (!(r >= 0.0))
        r = 0.0;
    if (r >= 1.0)
        r = 0.999999;
    long ceiling = AWS_BACKOFF_BASE_MS;
    for (int i = 1; i < attempt && ceiling < AWS_BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > AWS_BACKOFF_CAP_MS)
        ceiling = AWS_BACKOFF_CAP_MS;
    return (long)(r * (double)ceiling);
}

/* --- the client ------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ready;

static void curl_init_once(void)
{
    curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

aws_client *aws_client_new(aws_getenv_fn getenv_fn, void *env_ctx)
{
    aws_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    const char *region = env(getenv_fn, env_ctx, "AWS_REGION");
    if (!region)
        region = env(getenv_fn, env_ctx, "AWS_DEFAULT_REGION");
    snprintf(c->region, sizeof c->region, "%s", region ? region : "us-east-1");
    const char *akid = env(getenv_fn, env_ctx, "AWS_ACCESS_KEY_ID");
    const char *secret = env(getenv_fn, env_ctx, "AWS_SECRET_ACCESS_KEY");
    if (akid && secret)
        c->signer = sigv4_signer_new(akid, secret, env(getenv_fn, env_ctx, "AWS_SESSION_TOKEN"));
    for (size_t i = 0; i < N_SERVICES; i++)
        aws_endpoint_resolve(getenv_fn, env_ctx, services[i].service, c->region, c->endpoints[i],
                             sizeof c->endpoints[i], &c->custom[i]);
    const char *ignore = env(getenv_fn, env_ctx, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    c->ignore_configured = ignore && !strcasecmp(ignore, "true");
    const char *all = env(getenv_fn, env_ctx, "AWS_ENDPOINT_URL");
    if (all && !c->ignore_configured)
        c->endpoint_all = strdup(all);
    const char *trace = env(getenv_fn, env_ctx, "_X_AMZN_TRACE_ID");
    if (trace && strlen(trace) < sizeof c->trace_id && !strpbrk(trace, "\r\n"))
        snprintf(c->trace_id, sizeof c->trace_id, "%s", trace);
    c->connect_ms = DEFAULT_CONNECT_MS;
    c->total_ms = DEFAULT_TOTAL_MS;
    c->quota = AWS_QUOTA_MAX;
    c->sleep_ms = default_sleep;
    pthread_once(&curl_once, curl_init_once);
    return c;
}

void aws_client_free(aws_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < SECRET_CACHE; i++) {
        free(c->secrets[i].id);
        cleanse_free(c->secrets[i].value);
    }
    if (c->curl)
        curl_easy_cleanup(c->curl);
    sigv4_signer_free(c->signer);
    free(c->endpoint_all);
    free(c);
}

void aws_client_set_timeouts(aws_client *c, long connect_ms, long total_ms)
{
    if (!c)
        return;
    if (connect_ms > 0)
        c->connect_ms = connect_ms;
    if (total_ms > 0)
        c->total_ms = total_ms;
}

const char *aws_client_region(const aws_client *c)
{
    return c ? c->region : NULL;
}

void aws_client_set_clock(aws_client *c, long long (*now_ms)(void *ctx), void *ctx)
{
    if (!c)
        return;
    c->now_ms = now_ms;
    c->now_ctx = ctx;
}

void aws_client_set_sleep(aws_client *c, void (*sleep_ms)(void *ctx, long ms), void *ctx)
{
    if (!c)
        return;
    c->sleep_ms = sleep_ms ? sleep_ms : default_sleep;
    c->sleep_ctx = ctx;
}

int aws_client_retry_tokens(const aws_client *c)
{
    return c ? c->quota : 0;
}

/* The endpoint for service (borrowed into out), and whether it is custom. */
static int endpoint_for(const aws_client *c, const char *service, char *out, size_t cap,
                        int *custom)
{
    int i = service_index(service);
    if (i >= 0) {
        *custom = c->custom[i];
        return put_url(out, cap, c->endpoints[i]);
    }
    if (c->endpoint_all) {
        *custom = 1;
        return put_url(out, cap, c->endpoint_all);
    }
    *custom = 0;
    int n = snprintf(out, cap, "https://%s.%s.amazonaws.com", service, c->region);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* scheme://authority/path split; host is the authority as the Host header
 * carries it (the port kept when the URL names one). */
typedef struct url_parts {
    char scheme[8];
    char host[256];
    char path[512];
} url_parts;

static int url_split(const char *url, url_parts *u)
{
    const char *p;
    if (!strncmp(url, "https://", 8)) {
        snprintf(u->scheme, sizeof u->scheme, "https");
        p = url + 8;
    } else if (!strncmp(url, "http://", 7)) {
        snprintf(u->scheme, sizeof u->scheme, "http");
        p = url + 7;
    } else {
        return -1;
    }
    size_t hl = strcspn(p, "/?#");
    if (hl == 0 || hl >= sizeof u->host || memchr(p, '@', hl))
        return -1;
    memcpy(u->host, p, hl);
    u->host[hl] = '\0';
    for (const char *h = u->host; *h; h++)
        if (*h <= ' ' || *h >= 127)
            return -1;
    const char *rest = p + hl;
    size_t pl = strcspn(rest, "?#");
    if (pl >= sizeof u->path - 1)
        return -1;
    memcpy(u->path, rest, pl);
    u->path[pl] = '\0';
    if (!u->path[0])
        snprintf(u->path, sizeof u->path, "/");
    return 0;
}

typedef struct response {
    char *body;
    size_t len, cap;
    int too_big;
    char error_type[128];
    char crc32[16];
} response;

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    response *r = ctx;
    size_t add = size * n;
    if (r->len + add > MAX_RESPONSE) {
        r->too_big = 1;
        return 0;
    }
    if (r->len + add + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + add + 1)
            cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b)
            return 0;
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, add);
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t len = (size_t)(end - v);
    if (len >= cap)
        len = cap - 1;
    memcpy(out, v, len);
    out[len] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    response *r = ctx;
    size_t len = size * n;
    header_value(data, len, "x-amzn-ErrorType", r->error_type, sizeof r->error_type);
    header_value(data, len, "x-amz-crc32", r->crc32, sizeof r->crc32);
    return len;
}

static struct curl_slist *add_header(struct curl_slist *l, int *failed, const char *name,
                                     const char *value)
{
    if (*failed)
        return l;
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = malloc(n);
    if (!line) {
        *failed = 1;
        return l;
    }
    snprintf(line, n, "%s: %s", name, value);
    struct curl_slist *nl = curl_slist_append(l, line);
    OPENSSL_cleanse(line, n);
    free(line);
    if (!nl)
        *failed = 1;
    return nl ? nl : l;
}

/* One attempt: sign, send, read. Returns the HTTP status, or 0 on a transport
 * failure (err filled, *timed_out set for a timeout). */
static int attempt_once(aws_client *c, const char *service, const char *target, const url_parts *u,
                        const char *url, const char *payload, size_t payload_len,
                        const char *invocation_id, int attempt, response *resp, aws_error *err,
                        int *timed_out)
{
    *timed_out = 0;
    char amz_date[17];
    sigv4_amz_date((long long)time(NULL), amz_date);
    const char *content_type = aws_json_content_type(service);
    const char *token = sigv4_signer_token(c->signer);
    sigv4_header hs[5] = {{"Content-Type", content_type},
                          {"Host", u->host},
                          {"X-Amz-Date", amz_date},
                          {"X-Amz-Target", target}};
    size_t nh = 4;
    if (token)
        hs[nh++] = (sigv4_header){"X-Amz-Security-Token", token};
    sigv4_request sr = {.method = "POST", .path = u->path, .headers = hs, .n_headers = nh,
                        .payload = payload, .payload_len = payload_len};
    char *authz = sigv4_sign(c->signer, &sr, c->region, service, amz_date);
    if (!authz) {
        err_set(err, 0, "SigningError", "the request could not be signed (region \"%s\", "
                "target \"%s\")", c->region, target);
        return -1;
    }
    char sdk_request[48];
    snprintf(sdk_request, sizeof sdk_request, "attempt=%d; max=%d", attempt, AWS_MAX_ATTEMPTS);
    struct curl_slist *l = NULL;
    int failed = 0;
    for (size_t i = 0; i < nh; i++)
        l = add_header(l, &failed, hs[i].name, hs[i].value);
    l = add_header(l, &failed, "Authorization", authz);
    l = add_header(l, &failed, "amz-sdk-invocation-id", invocation_id);
    l = add_header(l, &failed, "amz-sdk-request", sdk_request);
    l = add_header(l, &failed, "Accept-Encoding", "identity");
    if (c->trace_id[0]) /* as the SDKs do in Lambda; X-Ray headers are never signed */
        l = add_header(l, &failed, "X-Amzn-Trace-Id", c->trace_id);
    if (!failed) {
        struct curl_slist *nl = curl_slist_append(l, "Expect:");
        failed = !nl;
        l = nl ? nl : l;
    }
    free(authz);
    if (failed) {
        curl_slist_free_all(l);
        err_set(err, 0, "ClientError", "out of memory");
        return -1;
    }
    CURL *h = c->curl;
    curl_easy_reset(h);
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)payload_len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->total_ms);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(l);
    if (cc != CURLE_OK) {
        if (resp->too_big) {
            err_set(err, 0, "ResponseTooLarge", "the answer is larger than %u bytes",
                    MAX_RESPONSE);
            return -1;
        }
        *timed_out = cc == CURLE_OPERATION_TIMEDOUT;
        err_set(err, 0, *timed_out ? "TimeoutError" : "TransportError", "%s: %s",
                curl_easy_strerror(cc), errbuf[0] ? errbuf : url);
        return 0;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    return (int)status;
}

int aws_json_call(aws_client *c, const char *service, const char *target, const cJSON *body,
                  cJSON **out, aws_error *err)
{
    aws_error scratch;
    if (!err)
        err = &scratch;
    memset(err, 0, sizeof *err);
    if (out)
        *out = NULL;
    if (!c || !service || !*service || !target || !*target) {
        err_set(err, 0, "InvalidParameter", "client, service and target are required");
        return -1;
    }
    if (!strcmp(service, "sns") || !strcmp(service, "email") || !strcmp(service, "s3")) {
        err_set(err, 0, "InvalidParameter", "%s does not speak an AWS JSON protocol (SNS and SES "
                "are query/XML, S3 is REST/XML)", service);
        return -1;
    }
    if (!c->signer) {
        err_set(err, 0, "NoCredentials", "Unable to locate credentials: AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY are not set");
        return -1;
    }
    if (!curl_ready) {
        err_set(err, 0, "ClientError", "libcurl could not be initialised");
        return -1;
    }
    char base[512];
    url_parts u;
    int custom = 0;
    if (endpoint_for(c, service, base, sizeof base, &custom) != 0 || url_split(base, &u) != 0) {
        err_set(err, 0, "InvalidEndpoint", "the endpoint for %s is not an http(s) URL", service);
        return -1;
    }
    char url[1100];
    snprintf(url, sizeof url, "%s://%s%s", u.scheme, u.host, u.path);
    char *payload = body ? cJSON_PrintUnformatted(body) : strdup("{}");
    if (!payload) {
        err_set(err, 0, "ClientError", "out of memory");
        return -1;
    }
    if (!c->curl && !(c->curl = curl_easy_init())) {
        free(payload);
        err_set(err, 0, "ClientError", "curl_easy_init failed");
        return -1;
    }
    size_t payload_len = strlen(payload);
    char invocation_id[37];
    uuid4(invocation_id);
    int spent = 0; /* quota taken by this call's retries */
    int rc = -1;
    for (int attempt = 1;; attempt++) {
        response resp = {0};
        int timed_out = 0;
        int status = attempt_once(c, service, target, &u, url, payload, payload_len,
                                  invocation_id, attempt, &resp, err, &timed_out);
        if (status < 0) { /* not sendable: no retry */
            free(resp.body);
            break;
        }
        aws_retry_kind kind;
        if (status == 0) {
            kind = AWS_RETRY_TRANSIENT;
        } else if (status >= 200 && status < 300) {
            if (resp.crc32[0] &&
                strtoul(resp.crc32, NULL, 10) !=
                    crc32_ieee((const unsigned char *)(resp.body ? resp.body : ""), resp.len)) {
                err_set(err, status, "CRC32CheckFailed", "the answer's x-amz-crc32 does not match "
                        "its body");
                kind = AWS_RETRY_TRANSIENT;
            } else {
                cJSON *doc = resp.len ? cJSON_ParseWithLength(resp.body, resp.len)
                                      : cJSON_CreateObject();
                free(resp.body);
                if (!doc) {
                    err_set(err, status, "SerializationException", "the answer is not JSON");
                    break;
                }
                if (out)
                    *out = doc;
                else
                    cJSON_Delete(doc);
                memset(err, 0, sizeof *err);
                c->quota += spent ? spent : 1;
                if (c->quota > AWS_QUOTA_MAX)
                    c->quota = AWS_QUOTA_MAX;
                rc = 0;
                break;
            }
        } else {
            aws_error_parse(status, resp.body, resp.len, resp.error_type, err);
            kind = aws_retry_classify(status, err->type, 0);
        }
        int cost = timed_out ? AWS_QUOTA_TIMEOUT_COST : AWS_QUOTA_RETRY_COST;
        if (kind == AWS_RETRY_NONE || attempt >= AWS_MAX_ATTEMPTS || c->quota < cost) {
            if (status >= 300 && out && resp.len)
                *out = cJSON_ParseWithLength(resp.body, resp.len);
            free(resp.body);
            break;
        }
        free(resp.body);
        c->quota -= cost;
        spent += cost;
        c->sleep_ms(c->sleep_ctx, aws_retry_backoff_ms(attempt, random_unit()));
    }
    free(payload);
    return rc;
}

/* --- Secrets Manager ---------------------------------------------------------- */

char *aws_secret_string(aws_client *c, const char *secret_id, long long ttl_ms, aws_error *err)
{
    aws_error scratch;
    if (!err)
        err = &scratch;
    memset(err, 0, sizeof *err);
    if (!c || !secret_id || !*secret_id) {
        err_set(err, 0, "InvalidParameter", "a secret id is required");
        return NULL;
    }
    long long now = c->now_ms ? c->now_ms(c->now_ctx) : monotonic_ms();
    secret_entry *slot = NULL;
    for (size_t i = 0; i < SECRET_CACHE; i++) {
        secret_entry *e = &c->secrets[i];
        if (e->id && !strcmp(e->id, secret_id)) {
            if (ttl_ms > 0 && e->expires_ms > now) {
                char *v = strdup(e->value);
                if (!v)
                    err_set(err, 0, "ClientError", "out of memory");
                return v;
            }
            slot = e;
        }
    }
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "SecretId", secret_id);
    cJSON *out = NULL;
    int rc = aws_json_call(c, "secretsmanager", "secretsmanager.GetSecretValue", req, &out, err);
    cJSON_Delete(req);
    if (rc != 0) {
        cJSON_Delete(out);
        return NULL;
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(out, "SecretString");
    if (!cJSON_IsString(s)) {
        cJSON_Delete(out);
        err_set(err, 200, "InvalidSecretType", "the secret %s has no SecretString", secret_id);
        return NULL;
    }
    char *value = strdup(s->valuestring);
    OPENSSL_cleanse(s->valuestring, strlen(s->valuestring));
    cJSON_Delete(out);
    if (!value) {
        err_set(err, 0, "ClientError", "out of memory");
        return NULL;
    }
    if (ttl_ms > 0) {
        if (!slot) {
            slot = &c->secrets[0];
            for (size_t i = 0; i < SECRET_CACHE; i++) {
                if (!c->secrets[i].id) {
                    slot = &c->secrets[i];
                    break;
                }
                if (c->secrets[i].expires_ms < slot->expires_ms)
                    slot = &c->secrets[i];
            }
        }
        char *id = strdup(secret_id), *copy = strdup(value);
        if (id && copy) {
            free(slot->id);
            cleanse_free(slot->value);
            slot->id = id;
            slot->value = copy;
            slot->expires_ms = now + ttl_ms;
        } else {
            free(id);
            cleanse_free(copy);
        }
    }
    return value;
}

/* --- S3 presigned URLs ---------------------------------------------------------- */

static int valid_bucket(const char *b)
{
    size_t n = b ? strlen(b) : 0;
    if (n < 3 || n > 63)
        return 0;
    for (const char *p = b; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
            return 0;
    return 1;
}

char *aws_s3_presign(aws_client *c, const char *method, const char *bucket, const char *key,
                     int expires_s, const char *content_type, aws_error *err)
{
    aws_error scratch;
    if (!err)
        err = &scratch;
    memset(err, 0, sizeof *err);
    if (!c || !method || (strcmp(method, "PUT") != 0 && strcmp(method, "GET") != 0)) {
        err_set(err, 0, "InvalidParameter", "method must be PUT or GET");
        return NULL;
    }
    if (!valid_bucket(bucket)) {
        err_set(err, 0, "InvalidParameter", "not a valid bucket name");
        return NULL;
    }
    if (!key || !*key || strlen(key) > 1024) {
        err_set(err, 0, "InvalidParameter", "the key must be 1 to 1024 bytes");
        return NULL;
    }
    if (expires_s < 1 || expires_s > 604800) {
        err_set(err, 0, "InvalidParameter", "expires_s must be 1..604800");
        return NULL;
    }
    if (!c->signer) {
        err_set(err, 0, "NoCredentials", "Unable to locate credentials");
        return NULL;
    }
    char base[512];
    int custom = 0;
    url_parts u;
    if (endpoint_for(c, "s3", base, sizeof base, &custom) != 0 || url_split(base, &u) != 0) {
        err_set(err, 0, "InvalidEndpoint", "the S3 endpoint is not an http(s) URL");
        return NULL;
    }
    char *ekey = sigv4_uri_encode(key, strlen(key), 1);
    if (!ekey) {
        err_set(err, 0, "ClientError", "out of memory");
        return NULL;
    }
    char host[512];
    size_t plen = strlen(u.path) + strlen(bucket) + strlen(ekey) + 4;
    char *path = malloc(plen);
    if (!path) {
        free(ekey);
        err_set(err, 0, "ClientError", "out of memory");
        return NULL;
    }
    if (custom || strchr(bucket, '.')) {
        /* Path style: a custom endpoint, or a dotted bucket (its virtual host
         * would not match S3's TLS certificate). */
        const char *prefix = strcmp(u.path, "/") ? u.path : "";
        snprintf(path, plen, "%s/%s/%s", prefix, bucket, ekey);
        snprintf(host, sizeof host, "%s", custom ? u.host : "");
        if (!custom)
            snprintf(host, sizeof host, "s3.%s.amazonaws.com", c->region);
    } else {
        snprintf(path, plen, "/%s", ekey);
        snprintf(host, sizeof host, "%s.s3.%s.amazonaws.com", bucket, c->region);
    }
    free(ekey);
    sigv4_header hs[2];
    size_t nh = 0;
    if (content_type && *content_type)
        hs[nh++] = (sigv4_header){"content-type", content_type};
    hs[nh++] = (sigv4_header){"host", host};
    sigv4_request r = {.method = method, .path = path, .headers = hs, .n_headers = nh,
                       .payload_hash = SIGV4_UNSIGNED_PAYLOAD};
    char amz_date[17];
    sigv4_amz_date((long long)time(NULL), amz_date);
    char *q = sigv4_presign_query(c->signer, &r, c->region, "s3", amz_date, expires_s);
    char *url = NULL;
    if (q) {
        size_t n = strlen(u.scheme) + strlen(host) + strlen(path) + strlen(q) + 8;
        url = malloc(n);
        if (url)
            snprintf(url, n, "%s://%s%s?%s", u.scheme, host, path, q);
    }
    if (!url)
        err_set(err, 0, "SigningError", "the URL could not be signed");
    free(q);
    free(path);
    return url;
}
