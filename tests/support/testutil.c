/*
 * testutil.c — see testutil.h.
 */
#include "support/testutil.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long long tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char *path = NULL;
    if (asprintf(&path, "%s/shoplocal-test-XXXXXX", base && *base ? base : "/tmp") < 0)
        return NULL;
    if (!mkdtemp(path)) {
        free(path);
        return NULL;
    }
    return path;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_rmrf(const char *path)
{
    if (path)
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_write_file(const char *dir, const char *name, const char *text)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, name) < 0)
        return NULL;
    FILE *f = fopen(path, "w");
    if (!f) {
        free(path);
        return NULL;
    }
    fputs(text, f);
    fclose(f);
    return path;
}

static void banner_url(const char *banner, const char *label, char *out, size_t len)
{
    char key[32];
    snprintf(key, sizeof key, "  %s ", label);
    const char *p = strstr(banner, key);
    if (!p)
        return;
    p += strlen(key);
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\n");
    if (n >= len)
        n = len - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

int tu_serve_start(tu_proc *p, const char *data_dir, const char *const *extra, int *status)
{
    memset(p, 0, sizeof *p);
    const char *bin = getenv("SHOPLOCAL_BIN");
    if (!bin || !*bin)
        bin = "build/shoplocal";
    snprintf(p->stderr_path, sizeof p->stderr_path, "%s.stderr", data_dir);
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    const char *argv[64] = {bin, "serve", "--data", data_dir, "--web-port", "0",
                            "--aws-port", "0", "--stripe-port", "0"};
    size_t n = 10;
    for (size_t i = 0; extra && extra[i] && n < 63; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], 1);
        int err = open(p->stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (err >= 0)
            dup2(err, 2);
        close(fds[0]);
        close(fds[1]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    p->pid = pid;
    p->out_fd = fds[0];
    size_t used = 0;
    long long deadline = tu_now_ms() + 10000;
    while (tu_now_ms() < deadline) {
        struct pollfd pfd = {.fd = p->out_fd, .events = POLLIN};
        int left = (int)(deadline - tu_now_ms());
        if (poll(&pfd, 1, left > 0 ? left : 0) <= 0)
            continue;
        ssize_t r = read(p->out_fd, p->banner + used, sizeof p->banner - 1 - used);
        if (r <= 0)
            break; /* the child closed stdout: it exited */
        used += (size_t)r;
        p->banner[used] = '\0';
        if (strstr(p->banner, "  data ")) {
            banner_url(p->banner, "web", p->web_url, sizeof p->web_url);
            banner_url(p->banner, "aws", p->aws_url, sizeof p->aws_url);
            banner_url(p->banner, "stripe", p->stripe_url, sizeof p->stripe_url);
            const char *ready = strstr(p->banner, "ready in ");
            p->ready_ms = ready ? atof(ready + 9) : -1;
            return 0;
        }
    }
    int st = 0;
    if (tu_proc_stop(p, SIGKILL, 5000, &st) == 0 && status)
        *status = st;
    return -1;
}

int tu_proc_stop(tu_proc *p, int sig, int timeout_ms, int *status)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, sig);
    long long deadline = tu_now_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            if (status)
                *status = st;
            p->pid = 0;
            close(p->out_fd);
            return 0;
        }
        if (tu_now_ms() >= deadline)
            break;
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL); /* waitpid has no timeout: poll the child's state */
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
    close(p->out_fd);
    return -1;
}

char *tu_proc_stderr(const tu_proc *p)
{
    FILE *f = fopen(p->stderr_path, "r");
    if (!f)
        return strdup("");
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, mem);
    fclose(f);
    fclose(mem);
    return buf;
}

typedef struct growbuf {
    char *data;
    size_t len;
} growbuf;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ctx)
{
    growbuf *b = ctx;
    size_t n = size * nmemb;
    char *d = realloc(b->data, b->len + n + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, ptr, n);
    b->data = d;
    b->len += n;
    d[b->len] = '\0';
    return n;
}

int tu_http_request(const char *method, const char *url, const char *const *headers,
                    const char *body, size_t body_len, tu_http *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    growbuf b = {0}, h = {0};
    struct curl_slist *hl = NULL;
    for (size_t i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    out->body = b.data ? b.data : strdup("");
    out->body_len = b.len;
    out->headers = h.data ? h.data : strdup("");
    return rc == CURLE_OK ? 0 : -1;
}

char *tu_http_header(const tu_http *r, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > n && !strncasecmp(line, name, n) && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            return strndup(v, (size_t)(line + len - v));
        }
        line = end ? end + 2 : NULL;
    }
    return NULL;
}

void tu_http_release(tu_http *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof *r);
}
