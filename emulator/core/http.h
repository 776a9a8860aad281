/*
 * http.h — a small HTTP server layer on libmicrohttpd, shared by the web, aws
 * and stripe listeners.
 *
 * It hands a handler one complete request (headers, raw target as sent, whole
 * body) and takes back one complete response; it owns everything around that:
 * body accumulation under a size limit (413 before the body is read when
 * Content-Length already says too much), a request id per request, counting of
 * requests in flight, and graceful shutdown (stop accepting, let requests in
 * flight finish, then close).
 *
 * Threading: a pool of `threads` epoll workers; the handler runs on a worker
 * and must be thread-safe.
 */
#ifndef CORE_HTTP_H
#define CORE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/err.h"

typedef struct core_http_request {
    const char *method;
    const char *path;       /* path as sent, percent-escapes kept, no query */
    const char *raw_target; /* request target as sent: path?query */
    const char *raw_query;  /* after '?', "" if none */
    const char *body;       /* NUL-terminated copy; body_len bytes may include NULs */
    size_t body_len;
    const char *request_id; /* a fresh UUID per request */
    const char *remote_addr;
    void *priv;             /* the connection; for core_http_header* only */
    /* A request made in-process (core/inproc.h) has no connection (priv NULL):
     * core_http_header* read these instead. */
    const struct core_http_header *headers;
    size_t n_headers;
} core_http_request;

typedef struct core_http_header {
    char *name;
    char *value;
} core_http_header;

typedef struct core_http_response {
    int status;
    char *body; /* owned */
    size_t body_len;
    core_http_header *headers; /* owned */
    size_t n_headers, cap_headers;
} core_http_response;

/* A request header's value (case-insensitive name; first one if repeated), or NULL.
 * Borrowed: valid during the handler call. */
const char *core_http_header_get(const core_http_request *req, const char *name);

/* Call fn(name, value, ctx) for every request header, in the order received.
 * Names are as sent (not lower-cased). */
void core_http_header_each(const core_http_request *req,
                           void (*fn)(const char *name, const char *value, void *ctx),
                           void *ctx);

/* Add a response header (copied). Replaces an earlier header of the same name
 * unless append is nonzero (for set-cookie). */
void core_http_response_header(core_http_response *resp, const char *name, const char *value,
                               int append);

/* Set the body to a copy of data[0..len). */
void core_http_response_body(core_http_response *resp, int status, const char *content_type,
                             const char *data, size_t len);

/* Set the body to the serialisation of json (borrowed). */
void core_http_response_json(core_http_response *resp, int status, const char *content_type,
                             const cJSON *json);

/* The AWS JSON-protocol error envelope {"__type": type, "message": message},
 * with the x-amzn-RequestId and x-amzn-ErrorType headers. */
void core_http_response_aws_error(core_http_response *resp, const core_http_request *req,
                                  int status, const char *type, const char *message);

/* Free what the response owns (not the struct). */
void core_http_response_release(core_http_response *resp);

typedef void (*core_http_handler)(void *ctx, const core_http_request *req,
                                  core_http_response *resp);

typedef struct core_http_server_opts {
    const char *name;     /* "web", "aws", "stripe": for logs */
    const char *host;     /* IPv4 or IPv6 literal */
    int port;             /* 0: any free port */
    int threads;          /* worker pool size */
    size_t max_body;      /* larger bodies get 413 */
    const char *too_large_type; /* body of the 413: content type and text */
    const char *too_large_body;
    core_http_handler handler;
    void *ctx;
} core_http_server_opts;

typedef struct core_http_server core_http_server;

/* Bind and start. On error (port in use, bad host) NULL and err filled. */
core_http_server *core_http_server_start(const core_http_server_opts *opts, core_err *err);

/* The port actually bound (useful after port 0). */
int core_http_server_port(const core_http_server *srv);

/* Stop accepting new connections; requests in flight go on. */
void core_http_server_quiesce(core_http_server *srv);

/* Wait until no request is in flight or deadline_ms (monotonic) passes.
 * Returns the number still in flight (0 when drained). */
int core_http_server_drain(core_http_server *srv, int64_t deadline_ms);

/* Requests in flight now. */
int core_http_server_inflight(const core_http_server *srv);

/* Stop the workers and free; NULL is a no-op. */
void core_http_server_stop(core_http_server *srv);

/* Fill buf (>= 37 bytes) with a random UUID v4. */
void core_http_uuid(char *buf);

#endif
