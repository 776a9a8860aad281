/*
 * testutil.h — what the test suites share: temporary folders, a real
 * `shoplocal serve` child process on free ports, and an HTTP client (libcurl).
 *
 * Nothing here sleeps to synchronise: start-up is awaited by reading the
 * child's "ready" banner with poll() under a deadline, and exit by waitpid
 * polling under a deadline.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* A fresh folder under $TMPDIR (caller frees the string; tu_rmrf removes it). */
char *tu_mkdtemp(void);
void tu_rmrf(const char *path);

/* Write text to dir/name; returns the full path (caller frees). */
char *tu_write_file(const char *dir, const char *name, const char *text);

typedef struct tu_proc {
    pid_t pid;
    int out_fd;           /* the child's stdout */
    char stderr_path[512];
    char web_url[128], aws_url[128], stripe_url[128];
    char banner[4096];    /* what the child printed before it was ready */
    double ready_ms;      /* as the banner says */
} tu_proc;

/* Start $SHOPLOCAL_BIN (default build/shoplocal) `serve --data data_dir` on
 * ports 0 (any free), plus extra args (NULL-terminated, may be NULL). Waits up
 * to 10 s for the ready banner. Returns 0 when ready; -1 if the child exited
 * or timed out (its exit status in *status if not NULL). */
int tu_serve_start(tu_proc *p, const char *data_dir, const char *const *extra, int *status);

/* Send sig and wait up to timeout_ms for the child to exit. Returns 0 and the
 * wait status in *status, or -1 on timeout (the child is then killed). */
int tu_proc_stop(tu_proc *p, int sig, int timeout_ms, int *status);

/* The child's stderr so far (caller frees). */
char *tu_proc_stderr(const tu_proc *p);

typedef struct tu_http {
    long status;
    char *body;
    size_t body_len;
    char *headers; /* raw response header block */
} tu_http;

/* One request. headers: NULL-terminated "Name: value" strings, may be NULL.
 * Returns 0 when a response came back (any status), -1 on transport failure. */
int tu_http_request(const char *method, const char *url, const char *const *headers,
                    const char *body, size_t body_len, tu_http *out);

/* A response header's value (case-insensitive; caller frees), or NULL. */
char *tu_http_header(const tu_http *r, const char *name);

void tu_http_release(tu_http *r);

/* Monotonic milliseconds. */
long long tu_now_ms(void);

#endif
