/*
 * http.c — libmicrohttpd glue. See http.h.
 *
 * Per request, libmicrohttpd calls us: first the URI log callback (we allocate
 * the request state there and keep the raw target, which MHD would otherwise
 * decode and split), then the access handler once for the headers, once per
 * body chunk, and once more when the body is complete — only then does our
 * handler run. The completion callback frees the state and ends the in-flight
 * count, so draining waits exactly for requests that have begun.
 */
#include "core/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

struct core_http_server {
    struct MHD_Daemon *daemon;
    core_http_server_opts opts;
    char name[32];
    char *too_large_type, *too_large_body;
    int port;
    atomic_int inflight;
    int quiesced;
};

typedef struct request_state {
    char *raw_target;
    char *body;
    size_t body_len, body_cap;
    int headers_seen;
    int too_large;
    char request_id[40];
    char remote_addr[64];
} request_state;

void core_http_uuid(char *buf)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) {
        /* The CSPRNG failing is near impossible; fall back to time-derived bytes so a
         * request still gets an id (ids are not secrets). */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (unsigned char)((ts.tv_nsec >> (i % 8)) ^ (ts.tv_sec << i) ^ (i * 37));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(buf, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

/* Request ids: UUID v4 text from a per-thread generator (splitmix64) seeded once
 * from the CSPRNG. Request ids are not secrets; RAND_bytes per request cost ~5%
 * of a PutItem's CPU. core_http_uuid stays on the CSPRNG for everything else. */
static void request_id(char *buf)
{
    static _Thread_local uint64_t state;
    static _Thread_local int seeded;
    if (!seeded) {
        if (RAND_bytes((unsigned char *)&state, sizeof state) != 1) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            state = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)(uintptr_t)&state;
        }
        seeded = 1;
    }
    unsigned char b[16];
    for (int half = 0; half < 2; half++) {
        uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        for (int i = 0; i < 8; i++)
            b[half * 8 + i] = (unsigned char)(z >> (8 * i));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf[o++] = '-';
        buf[o++] = hex[b[i] >> 4];
        buf[o++] = hex[b[i] & 15];
    }
    buf[o] = '\0';
}

/* ---- responses ---------------------------------------------------------- */

void core_http_response_header(core_http_response *resp, const char *name, const char *value,
                               int append)
{
    if (!append) {
        for (size_t i = 0; i < resp->n_headers; i++) {
            if (strcasecmp(resp->headers[i].name, name) == 0) {
                char *v = strdup(value);
                if (!v)
                    return;
                free(resp->headers[i].value);
                resp->headers[i].value = v;
                return;
            }
        }
    }
    if (resp->n_headers == resp->cap_headers) {
        size_t cap = resp->cap_headers ? resp->cap_headers * 2 : 8;
        core_http_header *h = realloc(resp->headers, cap * sizeof *h);
        if (!h)
            return;
        resp->headers = h;
        resp->cap_headers = cap;
    }
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return;
    }
    core_http_header *h = &resp->headers[resp->n_headers++];
    h->name = n;
    h->value = v;
}

void core_http_response_body(core_http_response *resp, int status, const char *content_type,
                             const char *data, size_t len)
{
    free(resp->body);
    resp->body = malloc(len + 1);
    resp->body_len = resp->body ? len : 0;
    if (resp->body) {
        memcpy(resp->body, data, len);
        resp->body[len] = '\0';
    }
    resp->status = status;
    if (content_type)
        core_http_response_header(resp, "Content-Type", content_type, 0);
}

void core_http_response_json(core_http_response *resp, int status, const char *content_type,
                             const cJSON *json)
{
    char *text = cJSON_PrintUnformatted(json);
    if (!text) {
        core_http_response_body(resp, 500, "application/json",
                                "{\"message\":\"Internal Server Error\"}", 34);
        return;
    }
    free(resp->body);
    resp->body = text;
    resp->body_len = strlen(text);
    resp->status = status;
    core_http_response_header(resp, "Content-Type",
                              content_type ? content_type : "application/json", 0);
}

void core_http_response_aws_error(core_http_response *resp, const core_http_request *req,
                                  int status, const char *type, const char *message)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "__type", type);
    cJSON_AddStringToObject(body, "message", message);
    core_http_response_json(resp, status, "application/x-amz-json-1.1", body);
    cJSON_Delete(body);
    core_http_response_header(resp, "x-amzn-RequestId", req->request_id, 0);
    core_http_response_header(resp, "x-amzn-ErrorType", type, 0);
}

void core_http_response_release(core_http_response *resp)
{
    for (size_t i = 0; i < resp->n_headers; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    free(resp->headers);
    free(resp->body);
    memset(resp, 0, sizeof *resp);
}

/* ---- request headers ---------------------------------------------------- */

const char *core_http_header_get(const core_http_request *req, const char *name)
{
    if (!req->priv) {
        for (size_t i = 0; i < req->n_headers; i++)
            if (strcasecmp(req->headers[i].name, name) == 0)
                return req->headers[i].value;
        return NULL;
    }
    return MHD_lookup_connection_value((struct MHD_Connection *)req->priv, MHD_HEADER_KIND,
                                       name);
}

typedef struct each_ctx {
    void (*fn)(const char *, const char *, void *);
    void *ctx;
} each_ctx;

static enum MHD_Result each_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    each_ctx *e = cls;
    e->fn(key, value ? value : "", e->ctx);
    return MHD_YES;
}

void core_http_header_each(const core_http_request *req,
                           void (*fn)(const char *name, const char *value, void *ctx),
                           void *ctx)
{
    if (!req->priv) {
        for (size_t i = 0; i < req->n_headers; i++)
            fn(req->headers[i].name, req->headers[i].value, ctx);
        return;
    }
    each_ctx e = {fn, ctx};
    MHD_get_connection_values((struct MHD_Connection *)req->priv, MHD_HEADER_KIND, each_header,
                              &e);
}

/* ---- libmicrohttpd callbacks -------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    core_http_server *srv = cls;
    request_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->raw_target = strdup(uri ? uri : "/");
    request_id(st->request_id);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, st->remote_addr,
                      sizeof st->remote_addr);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, st->remote_addr,
                      sizeof st->remote_addr);
    }
    atomic_fetch_add(&srv->inflight, 1);
    return st;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    core_http_server *srv = cls;
    request_state *st = *con_cls;
    if (!st)
        return;
    free(st->raw_target);
    free(st->body);
    free(st);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->inflight, 1);
}

static enum MHD_Result queue(struct MHD_Connection *conn, core_http_response *resp,
                             const char *request_id)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp->body_len, resp->body ? resp->body : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    for (size_t i = 0; i < resp->n_headers; i++)
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    (void)request_id;
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)(resp->status ? resp->status : 500), r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result reply_too_large(core_http_server *srv, struct MHD_Connection *conn,
                                       request_state *st)
{
    core_http_response resp = {0};
    core_http_response_body(&resp, 413, srv->too_large_type, srv->too_large_body,
                            strlen(srv->too_large_body));
    core_http_response_header(&resp, "Connection", "close", 0);
    enum MHD_Result ok = queue(conn, &resp, st->request_id);
    core_http_response_release(&resp);
    return ok;
}

static int append_body(request_state *st, const char *data, size_t len, size_t max)
{
    if (len > max || st->body_len > max - len)
        return -1;
    size_t need = st->body_len + len + 1;
    if (need > st->body_cap) {
        size_t cap = st->body_cap ? st->body_cap : 4096;
        while (cap < need)
            cap *= 2;
        char *b = realloc(st->body, cap);
        if (!b)
            return -1;
        st->body = b;
        st->body_cap = cap;
    }
    memcpy(st->body + st->body_len, data, len);
    st->body_len += len;
    st->body[st->body_len] = '\0';
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)url;
    (void)version;
    core_http_server *srv = cls;
    request_state *st = *con_cls;
    if (!st)
        return MHD_NO; /* allocation failed in on_uri: drop the connection */

    if (!st->headers_seen) {
        st->headers_seen = 1;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (*end == '\0' && n > srv->opts.max_body) {
                st->too_large = 1;
                return reply_too_large(srv, conn, st);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!st->too_large &&
            append_body(st, upload_data, *upload_data_size, srv->opts.max_body) != 0) {
            st->too_large = 1;
            free(st->body);
            st->body = NULL;
            st->body_len = st->body_cap = 0;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->too_large)
        return reply_too_large(srv, conn, st);

    char *query = strchr(st->raw_target, '?');
    char *path;
    if (query) {
        path = strndup(st->raw_target, (size_t)(query - st->raw_target));
        query++;
    } else {
        path = strdup(st->raw_target);
    }
    if (!path)
        return MHD_NO;
    core_http_request req = {
        .method = method,
        .path = path,
        .raw_target = st->raw_target,
        .raw_query = query ? query : "",
        .body = st->body ? st->body : "",
        .body_len = st->body_len,
        .request_id = st->request_id,
        .remote_addr = st->remote_addr,
        .priv = conn,
    };
    core_http_response resp = {0};
    srv->opts.handler(srv->opts.ctx, &req, &resp);
    enum MHD_Result ok = queue(conn, &resp, st->request_id);
    core_http_response_release(&resp);
    free(path);
    return ok;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    core_http_server *srv = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    core_log(CORE_LOG_DEBUG, srv->name, NULL, "libmicrohttpd: %s", msg);
}

/* ---- lifecycle ---------------------------------------------------------- */

core_http_server *core_http_server_start(const core_http_server_opts *opts, core_err *err)
{
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_TURBO |
                     MHD_USE_ERROR_LOG;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;
    if (inet_pton(AF_INET, opts->host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)opts->port);
    } else if (inet_pton(AF_INET6, opts->host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)opts->port);
        flags |= MHD_USE_IPv6;
    } else {
        core_err_set(err, 2, "InvalidArgument", "--host: not an IP address: %s", opts->host);
        return NULL;
    }

    core_http_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        core_err_set(err, 500, "InternalFailure", "out of memory");
        return NULL;
    }
    srv->opts = *opts;
    snprintf(srv->name, sizeof srv->name, "%s", opts->name ? opts->name : "http");
    srv->too_large_type = strdup(opts->too_large_type ? opts->too_large_type : "text/plain");
    srv->too_large_body = strdup(opts->too_large_body ? opts->too_large_body
                                                      : "Request Entity Too Large");
    atomic_init(&srv->inflight, 0);

    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)opts->port, NULL, NULL, on_request, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(opts->threads > 0 ? opts->threads : 1),
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)2048,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
        MHD_OPTION_END);
    if (!srv->daemon) {
        core_err_set(err, 500, "AddressInUse", "%s listener: cannot listen on %s:%d "
                     "(in use, or not an address of this machine)",
                     srv->name, opts->host, opts->port);
        core_http_server_stop(srv);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : opts->port;
    return srv;
}

int core_http_server_port(const core_http_server *srv)
{
    return srv->port;
}

int core_http_server_inflight(const core_http_server *srv)
{
    return srv ? atomic_load(&((core_http_server *)srv)->inflight) : 0;
}

void core_http_server_quiesce(core_http_server *srv)
{
    if (!srv || !srv->daemon || srv->quiesced)
        return;
    MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    srv->quiesced = 1;
}

int core_http_server_drain(core_http_server *srv, int64_t deadline_ms)
{
    for (;;) {
        int n = core_http_server_inflight(srv);
        if (n == 0 || core_clock_monotonic_ms() >= deadline_ms)
            return n;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void core_http_server_stop(core_http_server *srv)
{
    if (!srv)
        return;
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    free(srv->too_large_type);
    free(srv->too_large_body);
    free(srv);
}
