/*
 * test_serve.c — `shoplocal serve` as a user meets it: a real process on free
 * loopback ports, spoken to over HTTP only, stopped by signals.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/testutil.h"

static char *dir;
static char data[600];
static tu_proc proc;

static void setup(void)
{
    dir = tu_mkdtemp();
    cr_assert_not_null(dir);
    snprintf(data, sizeof data, "%s/data", dir);
}

static void teardown(void)
{
    if (proc.pid > 0)
        tu_proc_stop(&proc, SIGKILL, 5000, NULL);
    tu_rmrf(dir);
    free(dir);
}

TestSuite(serve, .init = setup, .fini = teardown, .timeout = 60);

static const char *const FRESH[] = {"--fresh", NULL};

static void start(const char *const *extra)
{
    int status = 0;
    int rc = tu_serve_start(&proc, data, extra, &status);
    if (rc != 0) {
        char *err = tu_proc_stderr(&proc);
        cr_assert_fail("shoplocal did not start (status %d): %s", status, err);
    }
}

static cJSON *get_json(const char *base, const char *path, long expect_status)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    tu_http r;
    cr_assert_eq(tu_http_request("GET", url, NULL, NULL, 0, &r), 0, "GET %s failed", url);
    cr_assert_eq(r.status, expect_status, "GET %s: %ld %s", url, r.status, r.body);
    cJSON *j = cJSON_Parse(r.body);
    cr_assert_not_null(j, "not JSON: %s", r.body);
    tu_http_release(&r);
    return j;
}

static void stop_cleanly(int sig)
{
    int status = -1;
    cr_assert_eq(tu_proc_stop(&proc, sig, 15000, &status), 0, "did not exit after signal");
    cr_assert(WIFEXITED(status), "killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    cr_assert_eq(WEXITSTATUS(status), 0);
    char *err = tu_proc_stderr(&proc);
    cr_assert(strstr(err, "\"message\":\"stopped cleanly\""), "stderr: %s", err);
    free(err);
}

Test(serve, answers_health_with_version_services_and_stack)
{
    start(FRESH);
    cr_log_info("ready in %.1f ms", proc.ready_ms);
    cJSON *h = get_json(proc.aws_url, "/_shoplocal/health", 200);
    cr_assert_str_eq(cJSON_GetObjectItem(h, "status")->valuestring, "running");
    cr_assert_str_eq(cJSON_GetObjectItem(h, "version")->valuestring, SHOPLOCAL_VERSION);
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(h, "uptimeMs")));
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(h, "listeners"), "aws")->valuestring,
                     proc.aws_url);
    cr_assert(cJSON_IsArray(cJSON_GetObjectItem(h, "services")));
    cJSON *stack = cJSON_GetObjectItem(h, "stack");
    cr_assert_str_eq(cJSON_GetObjectItem(stack, "accountId")->valuestring, "000000000000");
    cJSON *res = cJSON_GetObjectItem(stack, "resources");
    int found_table = 0;
    cJSON *r;
    cJSON_ArrayForEach(r, res)
    {
        if (!strcmp(cJSON_GetObjectItem(r, "logicalId")->valuestring, "ShopTable")) {
            found_table = 1;
            cr_assert_str_eq(cJSON_GetObjectItem(r, "type")->valuestring, "AWS::DynamoDB::Table");
            cr_assert_str_eq(cJSON_GetObjectItem(r, "arn")->valuestring,
                             "arn:aws:dynamodb:us-east-1:000000000000:table/shoplocal-shop");
        }
    }
    cr_assert(found_table, "ShopTable not in health");
    cJSON_Delete(h);
    stop_cleanly(SIGTERM);
}

Test(serve, unknown_target_gets_aws_shaped_error)
{
    start(FRESH);
    char url[256];
    snprintf(url, sizeof url, "%s/", proc.aws_url);
    const char *hdrs[] = {"X-Amz-Target: NoSuchService_20990101.DoThing",
                          "Content-Type: application/x-amz-json-1.0", NULL};
    tu_http r;
    cr_assert_eq(tu_http_request("POST", url, hdrs, "{}", 2, &r), 0);
    cr_assert_eq(r.status, 400);
    cJSON *j = cJSON_Parse(r.body);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "__type")->valuestring, "UnknownOperationException");
    cr_assert(strstr(cJSON_GetObjectItem(j, "message")->valuestring, "NoSuchService_20990101"));
    char *rid = tu_http_header(&r, "x-amzn-RequestId");
    cr_assert_not_null(rid);
    cr_assert_eq(strlen(rid), 36);
    free(rid);
    cJSON_Delete(j);
    tu_http_release(&r);
    stop_cleanly(SIGTERM);
}

Test(serve, request_with_neither_target_nor_scope_gets_unknown_operation)
{
    start(FRESH);
    char url[256];
    snprintf(url, sizeof url, "%s/some/path", proc.aws_url);
    tu_http r;
    cr_assert_eq(tu_http_request("GET", url, NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 400);
    cr_assert(strstr(r.body, "\"__type\":\"UnknownOperationException\""), "%s", r.body);
    tu_http_release(&r);

    const char *signed_hdrs[] = {
        "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/kinesis/"
        "aws4_request, SignedHeaders=host, Signature=00", NULL};
    cr_assert_eq(tu_http_request("POST", url, signed_hdrs, "x", 1, &r), 0);
    cr_assert_eq(r.status, 400);
    cr_assert(strstr(r.body, "SigV4 service 'kinesis'"), "%s", r.body);
    tu_http_release(&r);
    stop_cleanly(SIGTERM);
}

Test(serve, malformed_requests_get_clear_errors_and_server_stays_up)
{
    start(FRESH);
    char url[256];
    snprintf(url, sizeof url, "%s/_shoplocal/clock/advance", proc.aws_url);
    tu_http r;
    /* hostile bodies to an endpoint that parses JSON */
    const char *bodies[] = {"{", "\x01\x02\x03", "[[[[[[[[[[[[[[[[[[[[", "{\"ms\": \"x\"}", ""};
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        cr_assert_eq(tu_http_request("POST", url, NULL, bodies[i], strlen(bodies[i]), &r), 0);
        cr_assert(r.status == 400 || r.status == 409, "status %ld", r.status);
        tu_http_release(&r);
    }
    /* a raw request line that is not HTTP */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int port = atoi(strrchr(proc.aws_url, ':') + 1);
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    const char junk[] = "\x16\x03\x01 NOT HTTP AT ALL\r\n\r\n";
    cr_assert(write(fd, junk, sizeof junk - 1) > 0);
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    cr_assert(n >= 0);
    if (n > 0) {
        buf[n] = '\0';
        cr_assert(strncmp(buf, "HTTP/1.1 4", 10) == 0, "answer: %s", buf);
    }
    /* a header flood larger than the connection's memory */
    size_t big = 200 * 1024;
    char *hv = malloc(big + 16);
    memcpy(hv, "X-Flood: ", 9);
    memset(hv + 9, 'a', big);
    hv[9 + big] = '\0';
    const char *flood[] = {hv, NULL};
    snprintf(url, sizeof url, "%s/_shoplocal/health", proc.aws_url);
    if (tu_http_request("GET", url, flood, NULL, 0, &r) == 0)
        cr_assert(r.status == 431 || r.status == 413 || r.status == 400, "status %ld", r.status);
    tu_http_release(&r);
    free(hv);
    /* still healthy */
    cJSON *h = get_json(proc.aws_url, "/_shoplocal/health", 200);
    cJSON_Delete(h);
    stop_cleanly(SIGTERM);
}

Test(serve, oversized_body_gets_413_with_or_without_content_length)
{
    const char *const args[] = {"--fresh", "--max-body", "1k", NULL};
    start(args);
    char url[256];
    snprintf(url, sizeof url, "%s/", proc.aws_url);
    char body[4096];
    memset(body, 'x', sizeof body);
    const char *hdrs[] = {"X-Amz-Target: DynamoDB_20120810.PutItem", NULL};
    tu_http r;
    cr_assert_eq(tu_http_request("POST", url, hdrs, body, sizeof body, &r), 0);
    cr_assert_eq(r.status, 413);
    cr_assert(strstr(r.body, "RequestEntityTooLargeException"), "%s", r.body);
    tu_http_release(&r);

    const char *chunked[] = {"X-Amz-Target: DynamoDB_20120810.PutItem",
                             "Transfer-Encoding: chunked", NULL};
    cr_assert_eq(tu_http_request("POST", url, chunked, body, sizeof body, &r), 0);
    cr_assert_eq(r.status, 413);
    tu_http_release(&r);

    cJSON *h = get_json(proc.aws_url, "/_shoplocal/health", 200);
    cJSON_Delete(h);
    stop_cleanly(SIGTERM);
}

Test(serve, sigint_also_stops_cleanly)
{
    start(FRESH);
    stop_cleanly(SIGINT);
}

Test(serve, shutdown_finishes_a_request_in_flight)
{
    start(FRESH);
    int port = atoi(strrchr(proc.aws_url, ':') + 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    const char head[] = "POST /_shoplocal/clock/advance HTTP/1.1\r\nHost: x\r\n"
                        "Content-Length: 10\r\n\r\n{\"ms\":";
    cr_assert(write(fd, head, sizeof head - 1) > 0);

    /* Wait (bounded) until the server counts our half-sent request in flight. */
    long long deadline = tu_now_ms() + 10000;
    int seen = 0;
    while (!seen && tu_now_ms() < deadline) {
        cJSON *h = get_json(proc.aws_url, "/_shoplocal/health", 200);
        seen = cJSON_GetObjectItem(cJSON_GetObjectItem(h, "inflight"), "aws")->valueint >= 2;
        cJSON_Delete(h);
    }
    cr_assert(seen, "the half-sent request never showed as in flight");
    kill(proc.pid, SIGTERM);
    cr_assert(write(fd, "1000}", 5) == 5); /* the rest of the body */
    char buf[1024];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 && (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(fd);
    /* the clock is real, so the request is refused with 409 — but it is answered */
    cr_assert(strncmp(buf, "HTTP/1.1 409", 12) == 0, "answer: %s", buf);
    stop_cleanly(SIGTERM);
}

Test(serve, data_survives_restart_and_fresh_starts_empty)
{
    start(FRESH);
    cJSON *h = get_json(proc.aws_url, "/_shoplocal/health", 200);
    cr_assert_eq(cJSON_GetObjectItem(h, "startCount")->valueint, 1);
    cJSON_Delete(h);
    stop_cleanly(SIGTERM);

    start(NULL);
    h = get_json(proc.aws_url, "/_shoplocal/health", 200);
    cr_assert_eq(cJSON_GetObjectItem(h, "startCount")->valueint, 2);
    cJSON_Delete(h);
    /* kill -9: committed state must survive (WAL) */
    tu_proc_stop(&proc, SIGKILL, 5000, NULL);

    start(NULL);
    h = get_json(proc.aws_url, "/_shoplocal/health", 200);
    cr_assert_eq(cJSON_GetObjectItem(h, "startCount")->valueint, 3);
    cJSON_Delete(h);
    stop_cleanly(SIGTERM);

    start(FRESH);
    h = get_json(proc.aws_url, "/_shoplocal/health", 200);
    cr_assert_eq(cJSON_GetObjectItem(h, "startCount")->valueint, 1);
    cJSON_Delete(h);
    stop_cleanly(SIGTERM);
}

Test(serve, fresh_refuses_to_wipe_a_folder_that_is_not_ours)
{
    mkdir(data, 0755);
    char *f = tu_write_file(data, "precious.txt", "keep me");
    int status = 0;
    cr_assert_eq(tu_serve_start(&proc, data, FRESH, &status), -1);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
    char *err = tu_proc_stderr(&proc);
    cr_assert(strstr(err, "refusing to wipe"), "%s", err);
    cr_assert_eq(access(f, F_OK), 0, "the file was deleted");
    free(err);
    free(f);
}

Test(serve, bad_flags_and_env_exit_2_with_one_line)
{
    const char *const cases[][3] = {
        {"--nope", NULL, NULL},
        {"--aws-port", "70000", NULL},
        {"--log-level", "loud", NULL},
        {"--time", "sideways", NULL},
        {"--threads", "0", NULL},
        {"--host", "not-an-ip", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int status = 0;
        cr_assert_eq(tu_serve_start(&proc, data, cases[i], &status), -1, "case %zu started", i);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "case %zu: status %d", i,
                  status);
        char *err = tu_proc_stderr(&proc);
        cr_assert(strncmp(err, "shoplocal: ", 11) == 0, "case %zu: %s", i, err);
        cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "case %zu: not one line: %s", i,
                     err);
        free(err);
    }
    setenv("SHOPLOCAL_LOG_LEVEL", "loud", 1);
    int status = 0;
    cr_assert_eq(tu_serve_start(&proc, data, NULL, &status), -1);
    unsetenv("SHOPLOCAL_LOG_LEVEL");
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2);
    char *err = tu_proc_stderr(&proc);
    cr_assert(strstr(err, "SHOPLOCAL_LOG_LEVEL"), "%s", err);
    free(err);
}

Test(serve, port_in_use_and_bad_template_fail_with_exit_1)
{
    start(FRESH);
    const char *port = strrchr(proc.aws_url, ':') + 1;
    char other[600];
    snprintf(other, sizeof other, "%s/other", dir);
    tu_proc second;
    int status = 0;
    /* tu_serve_start passes --aws-port 0; a later flag wins */
    const char *const args[] = {"--aws-port", port, NULL};
    cr_assert_eq(tu_serve_start(&second, other, args, &status), -1);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
    char *err = tu_proc_stderr(&second);
    cr_assert(strstr(err, "cannot listen"), "%s", err);
    free(err);
    stop_cleanly(SIGTERM);

    char *tpl = tu_write_file(dir, "bad.yaml", "Resources:\n  A:\n    Type: X\n    Properties:\n"
                                               "      P: !Nope x\n");
    const char *const bad[] = {"--template", tpl, NULL};
    cr_assert_eq(tu_serve_start(&second, other, bad, &status), -1);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
    err = tu_proc_stderr(&second);
    cr_assert(strstr(err, "bad.yaml: line 5: unknown tag: !Nope"), "%s", err);
    free(err);
    free(tpl);
}

Test(serve, env_variables_configure_and_flags_win)
{
    setenv("SHOPLOCAL_REGION", "eu-west-1", 1);
    setenv("SHOPLOCAL_STACK_NAME", "fromenv", 1);
    const char *const args[] = {"--fresh", "--stack-name", "fromflag", NULL};
    start(args);
    unsetenv("SHOPLOCAL_REGION");
    unsetenv("SHOPLOCAL_STACK_NAME");
    cJSON *h = get_json(proc.aws_url, "/_shoplocal/health", 200);
    cJSON *stack = cJSON_GetObjectItem(h, "stack");
    cr_assert_str_eq(cJSON_GetObjectItem(stack, "region")->valuestring, "eu-west-1");
    cr_assert_str_eq(cJSON_GetObjectItem(stack, "stackName")->valuestring, "fromflag");
    cJSON_Delete(h);
    stop_cleanly(SIGTERM);
}

Test(serve, virtual_clock_advances_only_when_told)
{
    const char *const args[] = {"--fresh", "--time", "virtual", NULL};
    start(args);
    cJSON *c1 = get_json(proc.aws_url, "/_shoplocal/clock", 200);
    cr_assert_str_eq(cJSON_GetObjectItem(c1, "mode")->valuestring, "virtual");
    double t1 = cJSON_GetObjectItem(c1, "nowMs")->valuedouble;
    char url[256];
    snprintf(url, sizeof url, "%s/_shoplocal/clock/advance", proc.aws_url);
    tu_http r;
    cr_assert_eq(tu_http_request("POST", url, NULL, "{\"ms\":3600000}", 14, &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    tu_http_release(&r);
    cJSON *c2 = get_json(proc.aws_url, "/_shoplocal/clock", 200);
    cr_assert_eq(cJSON_GetObjectItem(c2, "nowMs")->valuedouble, t1 + 3600000.0);
    cJSON_Delete(c1);
    cJSON_Delete(c2);
    stop_cleanly(SIGTERM);
}

Test(serve, web_and_stripe_listeners_answer_in_their_own_shapes)
{
    start(FRESH);
    cJSON *cfg = get_json(proc.web_url, "/config.json", 200);
    char api[256];
    snprintf(api, sizeof api, "%s/api", proc.web_url);
    cr_assert_str_eq(cJSON_GetObjectItem(cfg, "apiBaseUrl")->valuestring, api);
    cr_assert_str_eq(cJSON_GetObjectItem(cfg, "awsEndpoint")->valuestring, proc.aws_url);
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(cfg, "UserPoolId")));
    cJSON_Delete(cfg);

    cJSON *nf = get_json(proc.web_url, "/nothing-here", 404);
    cr_assert_str_eq(cJSON_GetObjectItem(nf, "message")->valuestring, "Not Found");
    cJSON_Delete(nf);

    cJSON *s = get_json(proc.stripe_url, "/v1/nothing", 404);
    cr_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(s, "error"), "type")->valuestring,
        "invalid_request_error");
    cJSON_Delete(s);
    stop_cleanly(SIGTERM);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    close(fd);
    return ntohs(sa.sin_port);
}

/* Regression: health polled while the listeners were still starting once read
 * a listener that did not exist yet and crashed the process. */
Test(serve, health_polled_during_start_up_never_crashes)
{
    for (int round = 0; round < 10; round++) {
        char port[16];
        snprintf(port, sizeof port, "%d", free_port());
        pid_t poller = fork();
        cr_assert_geq(poller, 0);
        if (poller == 0) {
            char url[64];
            snprintf(url, sizeof url, "http://127.0.0.1:%s/_shoplocal/health", port);
            long long deadline = tu_now_ms() + 10000;
            while (tu_now_ms() < deadline) {
                tu_http r;
                int ok = tu_http_request("GET", url, NULL, NULL, 0, &r) == 0 && r.status == 200;
                tu_http_release(&r);
                if (ok)
                    _exit(0);
            }
            _exit(1);
        }
        const char *const args[] = {"--fresh", "--aws-port", port, NULL};
        start(args);
        int st = 0;
        waitpid(poller, &st, 0);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "round %d: poller never saw health",
                  round);
        stop_cleanly(SIGTERM);
    }
}

/* Slow clients (slowloris): connections that send half a request and stall hold
 * no worker thread, so other clients are still served. */
Test(serve, slow_clients_do_not_starve_the_listener)
{
    start(FRESH);
    int port = atoi(strrchr(proc.aws_url, ':') + 1);
    int fds[32];
    for (int i = 0; i < 32; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        cr_assert_eq(connect(fds[i], (struct sockaddr *)&sa, sizeof sa), 0);
        const char part[] = "GET /_shoplocal/health HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        cr_assert(write(fds[i], part, sizeof part - 1) > 0);
    }
    for (int round = 0; round < 5; round++) {
        cJSON *h = get_json(proc.aws_url, "/_shoplocal/health", 200);
        cJSON_Delete(h);
    }
    for (int i = 0; i < 32; i++)
        close(fds[i]);
    stop_cleanly(SIGTERM);
}
