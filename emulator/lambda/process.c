/*
 * process.c — the process host: each function's real `bootstrap` (the
 * production binary: handler + backend/runtime) runs as child processes against
 * the emulator's own Lambda Runtime API ("Using the Lambda runtime API for custom
 * runtimes"; wire details from aws-lambda-runtime-interface-emulator, lambda/rapi).
 *
 * One sandbox, one Runtime API. In AWS every execution environment has its own
 * Runtime API endpoint (AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 inside it), and the
 * API has no worker id: the endpoint IS the sandbox. So does this host: each
 * worker gets a small libmicrohttpd daemon of its own on 127.0.0.1:<any port>
 * (thread per connection: the one kept-alive connection of a bootstrap gets one
 * thread, and a GET /next that blocks for minutes holds nothing but that thread —
 * never a worker of the aws listener). The Runtime API is therefore NOT
 * registered on the core router; which worker asks is known by construction, and
 * every request id is checked against the one invocation that worker holds.
 *
 * Endpoints (as the RIE answers them):
 *   GET  /2018-06-01/runtime/invocation/next           200 event + Lambda-Runtime-* headers
 *   POST /2018-06-01/runtime/invocation/{id}/response  202 {"status":"OK"};
 *        over 6291556 bytes 413 RequestEntityTooLarge, and the invocation ends with
 *        Function.ResponseSizeTooLarge
 *   POST /2018-06-01/runtime/invocation/{id}/error     202 {"status":"OK"}
 *   POST /2018-06-01/runtime/init/error                202 {"status":"OK"}
 *   an id that is not the worker's current invocation  400 InvalidRequestID
 *
 * Workers: started on demand (a function's first invocation, or when all its
 * workers are busy, up to LAM_WORKERS_MAX per function), kept warm and reused.
 * Each worker logs an INIT_START line to the function's log when it starts.
 * A reader thread per worker copies the child's stdout/stderr, line by line, to
 * the log of the invocation it is running (or to the function's log between
 * invocations), notices the child's exit (waitid, no SIGCHLD handler), reaps it
 * and ends the invocation it held with Runtime.ExitError.
 *
 * Invariants (host->lock guards all worker and job state):
 *   - a worker holds at most one job; a job is on at most one worker;
 *   - a pid is signalled only while not reaped (w->exited == 0), so never reused;
 *   - a job's lam_result is written once, by whoever sets job->done first;
 *   - a worker is freed only when its reader has finished and nobody holds a ref.
 * Lock order: host->lock, then a worker's io_lock, then a function's f->lock (the
 * log file, the env copy); the reader never takes host->lock holding io_lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/config.h"
#include "core/emulator.h"
#include "lambda/lambda_impl.h"

#define LAM_WORKERS_MAX 8          /* warm workers per function */
#define LAM_MAX_PAYLOAD 6291556    /* RIE interop.MaxPayloadSize: 6 MiB + 100 */
#define LAM_LINE_MAX 16384         /* longer output lines are split */
#define LAM_STOP_GRACE_MS 2000     /* SIGTERM, then SIGKILL */

typedef struct lam_job {
    lam_function *fn;
    invocation *inv;
    const char *payload;
    size_t len;
    long long deadline_ms;
    lam_result *out;
    char note[256]; /* a line for the invocation's log (the exit error), or "" */
    int taken; /* handed out by /next */
    int done;  /* out is final */
} lam_job;

typedef struct line_buf {
    char text[LAM_LINE_MAX + 1];
    size_t len;
} line_buf;

typedef struct lam_worker {
    struct lam_process_host *host;
    lam_function *fn;
    unsigned number; /* 1, 2, ... per host, for logs */
    pid_t pid;
    struct MHD_Daemon *daemon;
    int out_fd, err_fd;
    pthread_t reader;
    /* under io_lock */
    pthread_mutex_t io_lock;
    invocation *log_inv;
    line_buf out_line, err_line;
    /* under host->lock */
    lam_job *job;
    int retired; /* timed out (and SIGKILLed) or failed its init: not reused */
    int exited;  /* reaped */
    int gone;    /* its Runtime API is closing: /next returns */
    int done;    /* the reader has finished: may be joined and freed */
    int refs;    /* lam_process_run calls using it */
    struct lam_worker *next;
} lam_worker;

struct lam_process_host {
    lam_service *svc;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* broadcast on every state change; CLOCK_REALTIME */
    lam_worker *workers;
    int stopping;
    int users; /* lam_process_run calls in progress */
    unsigned started;
    char functions_dir[PATH_MAX];
};

/* ---- small helpers ---------------------------------------------------------- */

static void abs_deadline(struct timespec *ts, long long epoch_ms)
{
    ts->tv_sec = (time_t)(epoch_ms / 1000);
    ts->tv_nsec = (long)(epoch_ms % 1000) * 1000000L;
}

/* Go's os.ProcessState text for a signal, which is what AWS reports
 * ("Runtime exited with error: signal: killed"). */
static const char *signal_text(int sig, char *buf, size_t len)
{
    static const char *const names[] = {
        NULL, "hangup", "interrupt", "quit", "illegal instruction",
        "trace/breakpoint trap", "aborted", "bus error", "floating point exception",
        "killed", "user defined signal 1", "segmentation fault", "user defined signal 2",
        "broken pipe", "alarm clock", "terminated",
    };
    const int count = (int)(sizeof names / sizeof *names);
    if (sig >= 1 && sig < count)
        return names[sig];
    snprintf(buf, len, "signal %d", sig);
    return buf;
}

/* End job with a function error (host->lock held). */
static void job_fail(lam_job *job, const char *type, const char *message)
{
    lam_set_error(job->out, type, message);
    job->done = 1;
}

/* End job with the error document the runtime posted (host->lock held): the body
 * verbatim when it is a JSON object, as the RIE passes it on (invocationerror.go,
 * initerror.go); else a generic error document, since our Invoke API answers JSON. */
static void job_fail_posted(lam_job *job, const char *body, size_t len, const char *header_type)
{
    cJSON *doc = cJSON_ParseWithLength(body, len);
    if (cJSON_IsObject(doc)) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "errorType");
        /* The RIE takes the type from the header; the body is the payload. */
        const char *type = header_type && *header_type ? header_type
                           : cJSON_IsString(t)         ? t->valuestring
                                                       : "Unhandled";
        free(job->out->payload);
        job->out->payload = malloc(len + 1);
        if (job->out->payload) {
            memcpy(job->out->payload, body, len);
            job->out->payload[len] = '\0';
            job->out->len = len;
            job->out->status = LAM_FUNCTION_ERROR;
            snprintf(job->out->error_type, sizeof job->out->error_type, "%s", type);
            job->done = 1;
        } else {
            job_fail(job, type, "out of memory");
        }
    } else {
        job_fail(job, header_type ? header_type : "Runtime.Unknown",
                 "Unknown application error occurred");
    }
    cJSON_Delete(doc);
}

/* ---- the Runtime API (one daemon per worker) -------------------------------- */

typedef struct api_request {
    char *body;
    size_t len;   /* bytes kept (at most LAM_MAX_PAYLOAD + 1) */
    size_t total; /* bytes received */
} api_request;

static enum MHD_Result api_reply(struct MHD_Connection *c, unsigned status, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result api_error(struct MHD_Connection *c, unsigned status, const char *type,
                                 const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "errorMessage", message);
    cJSON_AddStringToObject(o, "errorType", type);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    enum MHD_Result rc = text ? api_reply(c, status, text) : MHD_NO;
    free(text);
    return rc;
}

/* GET /invocation/next: block until the worker is given a job (or is closing). */
static enum MHD_Result api_next(lam_worker *w, struct MHD_Connection *c)
{
    lam_process_host *host = w->host;
    pthread_mutex_lock(&host->lock);
    while (!w->gone && !w->retired && !host->stopping &&
           !(w->job && !w->job->taken && !w->job->done))
        pthread_cond_wait(&host->cond, &host->lock);
    /* A retired sandbox gets no more events: closing makes its runtime exit. */
    if (w->gone || w->retired || host->stopping) {
        pthread_mutex_unlock(&host->lock);
        return MHD_NO; /* closes the connection: the runtime exits after its retries */
    }
    lam_job *job = w->job;
    job->taken = 1;
    struct MHD_Response *r = MHD_create_response_from_buffer(job->len, (void *)job->payload,
                                                             MHD_RESPMEM_MUST_COPY);
    if (r) {
        char deadline[32];
        snprintf(deadline, sizeof deadline, "%lld", job->deadline_ms);
        MHD_add_response_header(r, "Content-Type", "application/json");
        MHD_add_response_header(r, "Lambda-Runtime-Aws-Request-Id", job->inv->request_id);
        MHD_add_response_header(r, "Lambda-Runtime-Deadline-Ms", deadline);
        MHD_add_response_header(r, "Lambda-Runtime-Invoked-Function-Arn", job->fn->arn);
        MHD_add_response_header(r, "Lambda-Runtime-Trace-Id", job->inv->trace_id);
    }
    pthread_mutex_unlock(&host->lock);
    if (!r)
        return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

/* POST /invocation/{id}/response or /error, and /init/error (id NULL). */
static enum MHD_Result api_post(lam_worker *w, struct MHD_Connection *c, const char *id,
                                const char *what, const api_request *req)
{
    lam_process_host *host = w->host;
    const char *header_type =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Lambda-Runtime-Function-Error-Type");
    pthread_mutex_lock(&host->lock);
    lam_job *job = w->job;
    if (!id) {
        /* An init error ends the invocation that started the sandbox. */
        if (job && !job->done)
            job_fail_posted(job, req->body ? req->body : "", req->len, header_type);
        w->retired = 1; /* the bootstrap exits next; the next invocation inits anew */
        pthread_cond_broadcast(&host->cond);
        pthread_mutex_unlock(&host->lock);
        return api_reply(c, MHD_HTTP_ACCEPTED, "{\"status\":\"OK\"}");
    }
    if (!job || !job->taken || job->done || strcmp(id, job->inv->request_id) != 0) {
        pthread_mutex_unlock(&host->lock);
        return api_error(c, MHD_HTTP_BAD_REQUEST, "InvalidRequestID", "Invalid request ID");
    }
    if (req->total > LAM_MAX_PAYLOAD) {
        /* The RIE ends the invocation itself and refuses the body. */
        job_fail(job, "Function.ResponseSizeTooLarge",
                 "Response payload size exceeded maximum allowed payload size (6291556 bytes).");
        pthread_cond_broadcast(&host->cond);
        pthread_mutex_unlock(&host->lock);
        return api_error(c, 413, "RequestEntityTooLarge",
                         "Exceeded maximum allowed payload size (6291556 bytes).");
    }
    if (!strcmp(what, "error")) {
        job_fail_posted(job, req->body ? req->body : "", req->len, header_type);
    } else {
        lam_result *out = job->out;
        free(out->payload);
        out->payload = malloc(req->len + 1);
        if (out->payload) {
            if (req->len)
                memcpy(out->payload, req->body, req->len);
            out->payload[req->len] = '\0';
            out->len = req->len;
            out->status = LAM_OK;
            job->done = 1;
        } else {
            job_fail(job, "Runtime.Unknown", "out of memory");
        }
    }
    pthread_cond_broadcast(&host->cond);
    pthread_mutex_unlock(&host->lock);
    return api_reply(c, MHD_HTTP_ACCEPTED, "{\"status\":\"OK\"}");
}

static enum MHD_Result api_handle(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    lam_worker *w = cls;
    api_request *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        *con_cls = req;
        return req ? MHD_YES : MHD_NO;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        size_t keep = req->len < LAM_MAX_PAYLOAD + 1 ? LAM_MAX_PAYLOAD + 1 - req->len : 0;
        if (keep > n)
            keep = n;
        if (keep) {
            char *b = realloc(req->body, req->len + keep + 1);
            if (!b)
                return MHD_NO;
            req->body = b;
            memcpy(b + req->len, upload_data, keep);
            req->len += keep;
            b[req->len] = '\0';
        }
        req->total += n;
        *upload_data_size = 0;
        return MHD_YES;
    }

    static const char prefix[] = "/2018-06-01/runtime/";
    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return api_reply(c, MHD_HTTP_NOT_FOUND, "{\"errorMessage\":\"404 page not found\","
                                                "\"errorType\":\"NotFound\"}");
    const char *rest = url + sizeof prefix - 1;
    int is_get = !strcmp(method, "GET"), is_post = !strcmp(method, "POST");
    if (!strcmp(rest, "invocation/next"))
        return is_get ? api_next(w, c) : api_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "{}");
    if (!strcmp(rest, "init/error"))
        return is_post ? api_post(w, c, NULL, "error", req)
                       : api_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "{}");
    static const char inv[] = "invocation/";
    if (!strncmp(rest, inv, sizeof inv - 1)) {
        const char *id = rest + sizeof inv - 1;
        const char *slash = strchr(id, '/');
        char request_id[64];
        size_t n = slash ? (size_t)(slash - id) : 0;
        if (slash && n < sizeof request_id && (!strcmp(slash, "/response") ||
                                              !strcmp(slash, "/error"))) {
            if (!is_post)
                return api_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "{}");
            memcpy(request_id, id, n);
            request_id[n] = '\0';
            return api_post(w, c, request_id, slash + 1, req);
        }
    }
    return api_reply(c, MHD_HTTP_NOT_FOUND,
                     "{\"errorMessage\":\"404 page not found\",\"errorType\":\"NotFound\"}");
}

static void api_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                          enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    api_request *req = *con_cls;
    if (req) {
        free(req->body);
        free(req);
    }
    *con_cls = NULL;
}

/* ---- the worker's output ------------------------------------------------------ */

/* One line of the child's output to the current invocation's log, or to the
 * function's log between invocations (io_lock held). */
static void emit_line(lam_worker *w, char *text, size_t len)
{
    while (len && text[len - 1] == '\r')
        len--;
    text[len] = '\0';
    if (w->log_inv) {
        lam_log_line(w->log_inv, text);
    } else {
        invocation none = {.fn = w->fn};
        lam_log_line(&none, text);
        free(none.tail);
    }
}

/* Read what fd has now (nonblocking) and emit complete lines (io_lock held).
 * Returns 0 while open, -1 once at end of file (fd closed and set to -1). */
static int drain_fd(lam_worker *w, int *fd, line_buf *lb)
{
    if (*fd < 0)
        return -1;
    char buf[4096];
    for (;;) {
        ssize_t n = read(*fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return 0; /* EAGAIN: nothing more now */
        if (n == 0) {
            if (lb->len)
                emit_line(w, lb->text, lb->len);
            lb->len = 0;
            close(*fd);
            *fd = -1;
            return -1;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n' || lb->len == LAM_LINE_MAX) {
                emit_line(w, lb->text, lb->len);
                lb->len = 0;
                if (buf[i] == '\n')
                    continue;
            }
            lb->text[lb->len++] = buf[i];
        }
    }
}

static void drain_output(lam_worker *w)
{
    pthread_mutex_lock(&w->io_lock);
    drain_fd(w, &w->out_fd, &w->out_line);
    drain_fd(w, &w->err_fd, &w->err_line);
    pthread_mutex_unlock(&w->io_lock);
}

/* The reader: copies output until the child exits, then reaps it, ends the job
 * it held with Runtime.ExitError, and closes its Runtime API. */
static void *worker_reader(void *arg)
{
    lam_worker *w = arg;
    lam_process_host *host = w->host;
    for (;;) {
        struct pollfd p[2];
        nfds_t n = 0;
        pthread_mutex_lock(&w->io_lock);
        if (w->out_fd >= 0)
            p[n++] = (struct pollfd){.fd = w->out_fd, .events = POLLIN};
        if (w->err_fd >= 0)
            p[n++] = (struct pollfd){.fd = w->err_fd, .events = POLLIN};
        pthread_mutex_unlock(&w->io_lock);
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (n == 0) {
            /* Both pipes closed: wait for the exit itself. */
            while (waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOWAIT) != 0 && errno == EINTR)
                ;
            break;
        }
        /* The pipes may outlive the child (a grandchild holding them): poll with a
         * period and look for the exit each time. */
        poll(p, n, 200);
        drain_output(w);
        if (waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid)
            break;
    }
    drain_output(w);

    int status = 0;
    pthread_mutex_lock(&host->lock);
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
        ;
    w->exited = 1;
    w->gone = 1;
    lam_job *job = w->job;
    if (job && !job->done) {
        char how[64], sigbuf[32], msg[256];
        if (WIFSIGNALED(status))
            snprintf(how, sizeof how, "signal: %s",
                     signal_text(WTERMSIG(status), sigbuf, sizeof sigbuf));
        else
            snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(status));
        snprintf(msg, sizeof msg, "RequestId: %s Error: Runtime exited with error: %s",
                 job->inv->request_id, how);
        job_fail(job, "Runtime.ExitError", msg);
        snprintf(job->note, sizeof job->note, "%s", msg);
    }
    pthread_cond_broadcast(&host->cond);
    pthread_mutex_unlock(&host->lock);

    /* /next handlers have been woken (gone): the daemon's threads can end. */
    MHD_stop_daemon(w->daemon);
    w->daemon = NULL;
    pthread_mutex_lock(&w->io_lock);
    if (w->out_fd >= 0)
        close(w->out_fd);
    if (w->err_fd >= 0)
        close(w->err_fd);
    w->out_fd = w->err_fd = -1;
    pthread_mutex_unlock(&w->io_lock);

    pthread_mutex_lock(&host->lock);
    w->done = 1;
    pthread_cond_broadcast(&host->cond);
    pthread_mutex_unlock(&host->lock);
    return NULL;
}

static void worker_free(lam_worker *w)
{
    if (!w)
        return;
    pthread_join(w->reader, NULL);
    pthread_mutex_destroy(&w->io_lock);
    free(w);
}

/* Unlink finished, unreferenced workers into *out for joining outside the lock
 * (host->lock held). */
static void collect_finished(lam_process_host *host, lam_worker **out)
{
    for (lam_worker **p = &host->workers; *p;) {
        lam_worker *w = *p;
        if (w->done && w->refs == 0) {
            *p = w->next;
            w->next = *out;
            *out = w;
        } else {
            p = &w->next;
        }
    }
}

static void free_list(lam_worker *list)
{
    while (list) {
        lam_worker *next = list->next;
        worker_free(list);
        list = next;
    }
}

/* ---- starting a worker ----------------------------------------------------------- */

static int env_push(char ***envp, size_t *n, size_t *cap, const char *k, const char *v)
{
    if (*n + 2 > *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        char **e = realloc(*envp, c * sizeof *e);
        if (!e)
            return -1;
        *envp = e;
        *cap = c;
    }
    char *kv;
    if (asprintf(&kv, "%s=%s", k, v) < 0)
        return -1;
    (*envp)[(*n)++] = kv;
    (*envp)[*n] = NULL;
    return 0;
}

static void env_free(char **envp)
{
    for (size_t i = 0; envp && envp[i]; i++)
        free(envp[i]);
    free(envp);
}

/* The child's environment: the function's (template + emulator), then what the
 * Lambda runtime itself sets for a provided.al2023 bootstrap. Takes f->lock. */
static char **worker_env(lam_function *f, int port, const char *task_root)
{
    char **envp = NULL;
    size_t n = 0, cap = 0;
    int ok = 1;
    pthread_mutex_lock(&f->lock);
    const cJSON *item;
    cJSON_ArrayForEach(item, f->env)
    {
        if (cJSON_IsString(item) && item->string && ok)
            ok = env_push(&envp, &n, &cap, item->string, item->valuestring) == 0;
    }
    pthread_mutex_unlock(&f->lock);
    char api[64], timeout[16];
    snprintf(api, sizeof api, "127.0.0.1:%d", port);
    snprintf(timeout, sizeof timeout, "%d", f->tpl->timeout_s);
    const char *fixed[][2] = {
        {"AWS_LAMBDA_RUNTIME_API", api},
        {"AWS_LAMBDA_FUNCTION_TIMEOUT", timeout},
        {"_HANDLER", f->tpl->handler ? f->tpl->handler : "bootstrap"},
        {"LAMBDA_TASK_ROOT", task_root},
        {"LAMBDA_RUNTIME_DIR", task_root},
        {"PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"},
        {"LANG", "en_US.UTF-8"},
        {"TZ", ":UTC"},
    };
    for (size_t i = 0; ok && i < sizeof fixed / sizeof *fixed; i++)
        ok = env_push(&envp, &n, &cap, fixed[i][0], fixed[i][1]) == 0;
    /* A sanitizer build's bootstrap honours the same options as the emulator. */
    static const char *const passed[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};
    for (size_t i = 0; ok && i < sizeof passed / sizeof *passed; i++) {
        const char *v = getenv(passed[i]);
        if (v)
            ok = env_push(&envp, &n, &cap, passed[i], v) == 0;
    }
    if (!ok) {
        env_free(envp);
        return NULL;
    }
    return envp;
}

/* Start a worker of f: its Runtime API daemon, the bootstrap, the reader thread
 * (host->lock held). NULL with msg filled (an AWS-style message) on failure. */
static lam_worker *worker_start(lam_process_host *host, lam_function *f, const char *request_id,
                                char *msg, size_t msg_len)
{
    char task_root[PATH_MAX + 256], bootstrap[PATH_MAX + 300];
    snprintf(task_root, sizeof task_root, "%s/%s", host->functions_dir, f->logical_id);
    snprintf(bootstrap, sizeof bootstrap, "%s/bootstrap", task_root);
    if (access(bootstrap, X_OK) != 0) {
        snprintf(msg, msg_len, "RequestId: %s Error: Couldn't find valid bootstrap(s): [%s]",
                 request_id, bootstrap);
        return NULL;
    }
    lam_worker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(msg, msg_len, "RequestId: %s Error: out of memory", request_id);
        return NULL;
    }
    w->host = host;
    w->fn = f;
    w->out_fd = w->err_fd = -1;
    pthread_mutex_init(&w->io_lock, NULL);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    w->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC, 0, NULL,
        NULL, api_handle, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_NOTIFY_COMPLETED, api_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        w->daemon ? MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    int port = info ? (int)info->port : 0;
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    char **envp = port ? worker_env(f, port, task_root) : NULL;
    int rc = ENOMEM;
    if (envp)
        rc = pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0 ? 0 : errno;
    if (rc == 0) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_adddup2(&fa, err[1], 2);
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
        posix_spawn_file_actions_addchdir_np(&fa, task_root);
        /* main.c blocks SIGINT/SIGTERM and ignores SIGPIPE: a child must not
         * inherit either, or SIGTERM would not stop it. Its own process group
         * keeps a terminal's ^C for the emulator, which stops it in order. */
        sigset_t none, defaults;
        sigemptyset(&none);
        sigemptyset(&defaults);
        sigaddset(&defaults, SIGPIPE);
        sigaddset(&defaults, SIGINT);
        sigaddset(&defaults, SIGTERM);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                            POSIX_SPAWN_SETPGROUP);
        char *argv[] = {bootstrap, NULL};
        rc = posix_spawn(&w->pid, bootstrap, &fa, &attr, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
    }
    env_free(envp);
    if (out[1] >= 0)
        close(out[1]);
    if (err[1] >= 0)
        close(err[1]);
    w->out_fd = out[0];
    w->err_fd = err[0];
    if (rc == 0) {
        fcntl(w->out_fd, F_SETFL, fcntl(w->out_fd, F_GETFL) | O_NONBLOCK);
        fcntl(w->err_fd, F_SETFL, fcntl(w->err_fd, F_GETFL) | O_NONBLOCK);
        if (pthread_create(&w->reader, NULL, worker_reader, w) != 0) {
            kill(w->pid, SIGKILL);
            while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
                ;
            rc = EAGAIN;
        }
    }
    if (rc != 0 || !port) {
        if (w->daemon)
            MHD_stop_daemon(w->daemon);
        if (w->out_fd >= 0)
            close(w->out_fd);
        if (w->err_fd >= 0)
            close(w->err_fd);
        pthread_mutex_destroy(&w->io_lock);
        free(w);
        snprintf(msg, msg_len, "RequestId: %s Error: fork/exec %s: %s", request_id, bootstrap,
                 port ? strerror(rc) : "cannot start the Runtime API");
        return NULL;
    }
    w->number = ++host->started;
    w->next = host->workers;
    host->workers = w;
    return w;
}

/* ---- the host ---------------------------------------------------------------- */

int lam_process_host_start(lam_service *svc, core_err *err)
{
    const core_config *cfg = core_emulator_config(svc->emu);
    lam_process_host *host = calloc(1, sizeof *host);
    if (!host)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    host->svc = svc;
    /* Absolute, because each bootstrap runs in its own task root. */
    if (!realpath(cfg->functions_dir, host->functions_dir))
        snprintf(host->functions_dir, sizeof host->functions_dir, "%s", cfg->functions_dir);
    pthread_mutex_init(&host->lock, NULL);
    pthread_cond_init(&host->cond, NULL);
    svc->processes = host;
    return CORE_OK;
}

/* Wait on the host's condition until pred or the epoch deadline; 0 when pred. */
#define WAIT_UNTIL(host, pred, deadline_ms)                                            \
    do {                                                                               \
        struct timespec ts_;                                                           \
        abs_deadline(&ts_, (deadline_ms));                                             \
        while (!(pred))                                                                \
            if (pthread_cond_timedwait(&(host)->cond, &(host)->lock, &ts_) == ETIMEDOUT) \
                break;                                                                 \
    } while (0)

static int all_done(const lam_process_host *host)
{
    for (const lam_worker *w = host->workers; w; w = w->next)
        if (!w->done)
            return 0;
    return 1;
}

void lam_process_host_stop(lam_service *svc)
{
    lam_process_host *host = svc ? svc->processes : NULL;
    if (!host)
        return;
    pthread_mutex_lock(&host->lock);
    host->stopping = 1;
    for (lam_worker *w = host->workers; w; w = w->next)
        if (!w->exited)
            kill(w->pid, SIGTERM);
    pthread_cond_broadcast(&host->cond);
    WAIT_UNTIL(host, all_done(host), lambda_epoch_ms() + LAM_STOP_GRACE_MS);
    for (lam_worker *w = host->workers; w; w = w->next)
        if (!w->exited)
            kill(w->pid, SIGKILL);
    WAIT_UNTIL(host, all_done(host), lambda_epoch_ms() + 5000);
    /* Invocations still running end now (their workers are gone); let them leave. */
    WAIT_UNTIL(host, host->users == 0, lambda_epoch_ms() + 5000);
    lam_worker *list = host->workers;
    host->workers = NULL;
    int users = host->users;
    pthread_mutex_unlock(&host->lock);
    free_list(list);
    if (users) /* never expected: leave the host allocated rather than free it in use */
        return;
    svc->processes = NULL;
    pthread_cond_destroy(&host->cond);
    pthread_mutex_destroy(&host->lock);
    free(host);
}

static lam_worker *pick_worker(lam_process_host *host, const lam_function *f, int *alive)
{
    *alive = 0;
    lam_worker *idle = NULL;
    for (lam_worker *w = host->workers; w; w = w->next) {
        if (w->fn != f || w->exited || w->retired || w->gone)
            continue;
        (*alive)++;
        if (!w->job && !idle)
            idle = w;
    }
    return idle;
}

void lam_process_run(lam_service *svc, lam_function *f, invocation *inv, const char *payload,
                     size_t len, long long deadline_ms, lam_result *out)
{
    lam_process_host *host = svc->processes;
    if (!host) {
        lam_set_error(out, "Runtime.Unavailable", "the process host is stopped");
        return;
    }
    lam_job job = {.fn = f, .inv = inv, .payload = payload, .len = len,
                   .deadline_ms = deadline_ms, .out = out};
    lam_worker *finished = NULL, *w = NULL;
    int started = 0;
    char msg[PATH_MAX + 512];

    pthread_mutex_lock(&host->lock);
    host->users++;
    collect_finished(host, &finished);
    while (!w && !job.done) {
        int alive;
        if (host->stopping) {
            job_fail(&job, "Runtime.Unavailable", "the emulator is shutting down");
            break;
        }
        w = pick_worker(host, f, &alive);
        if (w)
            break;
        if (alive < LAM_WORKERS_MAX) {
            w = worker_start(host, f, inv->request_id, msg, sizeof msg);
            if (!w)
                job_fail(&job, "Runtime.InvalidEntrypoint", msg);
            started = w != NULL;
            break;
        }
        /* Every worker is busy: wait for one until the invocation's own deadline. */
        struct timespec ts;
        abs_deadline(&ts, deadline_ms);
        if (pthread_cond_timedwait(&host->cond, &host->lock, &ts) == ETIMEDOUT) {
            snprintf(msg, sizeof msg, "RequestId: %s Error: Task timed out after %d.00 seconds",
                     inv->request_id, f->tpl->timeout_s);
            job_fail(&job, "Sandbox.Timedout", msg);
        }
    }
    if (w) {
        /* Log routing first: the bootstrap may answer before this thread runs again. */
        pthread_mutex_lock(&w->io_lock);
        w->log_inv = inv;
        pthread_mutex_unlock(&w->io_lock);
        w->job = &job;
        w->refs++;
        pthread_cond_broadcast(&host->cond);
    }
    pthread_mutex_unlock(&host->lock);
    free_list(finished);

    if (w) {
        if (started) {
            char line[128];
            snprintf(line, sizeof line, "INIT_START Runtime Version: provided:al2023\tWorker: %u",
                     w->number);
            lam_log_line(inv, line);
        }

        pthread_mutex_lock(&host->lock);
        /* A little past the deadline, so that the host's measured duration is over
         * the Timeout too and its START/END/REPORT agree with the error. */
        WAIT_UNTIL(host, job.done, deadline_ms + 2);
        if (!job.done) {
            snprintf(msg, sizeof msg, "RequestId: %s Error: Task timed out after %d.00 seconds",
                     inv->request_id, f->tpl->timeout_s);
            job_fail(&job, "Sandbox.Timedout", msg);
            /* The sandbox is not reused after a timeout: kill it, the next
             * invocation starts a fresh one. */
            if (!w->exited && !w->retired) {
                kill(w->pid, SIGKILL);
                w->retired = 1;
            }
        }
        w->job = NULL;
        pthread_cond_broadcast(&host->cond);
        pthread_mutex_unlock(&host->lock);

        /* Output the function wrote before answering is in the pipe already. */
        drain_output(w);
        pthread_mutex_lock(&w->io_lock);
        w->log_inv = NULL;
        pthread_mutex_unlock(&w->io_lock);
        if (job.note[0]) { /* as Lambda logs it: the message, then the type */
            lam_log_line(inv, job.note);
            lam_log_line(inv, "Runtime.ExitError");
        }

        pthread_mutex_lock(&host->lock);
        w->refs--;
    } else {
        pthread_mutex_lock(&host->lock);
    }
    host->users--;
    pthread_cond_broadcast(&host->cond);
    pthread_mutex_unlock(&host->lock);
}
