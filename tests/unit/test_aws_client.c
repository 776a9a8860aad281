/*
 * test_aws_client.c — the AWS client's pure parts (endpoint resolution, content
 * types, error parsing, retry decisions, backoff bounds), presigned URL shapes,
 * and its wire behaviour against a scripted HTTP server on a loopback port in a
 * thread: the headers it sends, keep-alive, retries of throttles, 5xx, CRC32
 * mismatches and refused connections, errors surfaced with their document.
 * (Against the real emulator: tests/compat/test_aws_client.py.)
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/aws.h"
#include "lib/aws_impl.h"

/* --- a getenv over a NULL-terminated name/value list ------------------------ */

static const char *table_getenv(void *ctx, const char *name)
{
    const char *const *kv = ctx;
    for (size_t i = 0; kv && kv[i]; i += 2)
        if (!strcmp(kv[i], name))
            return kv[i + 1];
    return NULL;
}

/* --- pure parts ----------------------------------------------------------------- */

Test(aws_client, service_names_map_to_the_sdk_variable_suffixes)
{
    static const char *const map[][2] = {{"dynamodb", "DYNAMODB"}, {"states", "SFN"},
                                         {"secretsmanager", "SECRETS_MANAGER"}, {"s3", "S3"},
                                         {"email", "SES"}, {"sns", "SNS"}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        cr_assert_str_eq(aws_service_env_suffix(map[i][0]), map[i][1], "%s", map[i][0]);
    cr_assert_null(aws_service_env_suffix("lambda"));
    cr_assert_null(aws_service_env_suffix(NULL));
    cr_assert_str_eq(aws_json_content_type("dynamodb"), "application/x-amz-json-1.0");
    cr_assert_str_eq(aws_json_content_type("states"), "application/x-amz-json-1.0");
    cr_assert_str_eq(aws_json_content_type("secretsmanager"), "application/x-amz-json-1.1");
}

Test(aws_client, endpoints_resolve_as_the_sdks_do)
{
    static const char *const all[] = {"AWS_ENDPOINT_URL", "http://127.0.0.1:4566/", NULL};
    static const char *const specific[] = {"AWS_ENDPOINT_URL", "http://all:1",
                                           "AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://sm:2",
                                           "AWS_ENDPOINT_URL_SFN", "http://sfn:3", NULL};
    static const char *const ignored[] = {"AWS_ENDPOINT_URL", "http://all:1",
                                          "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE", NULL};
    static const char *const empty[] = {"AWS_ENDPOINT_URL", "", "AWS_ENDPOINT_URL_DYNAMODB", "",
                                        NULL};
    static const struct {
        const char *const *env;
        const char *service, *region, *want;
        int custom;
    } cases[] = {
        {NULL, "dynamodb", "eu-west-1", "https://dynamodb.eu-west-1.amazonaws.com", 0},
        {NULL, "states", "us-east-1", "https://states.us-east-1.amazonaws.com", 0},
        {NULL, "email", "us-east-1", "https://email.us-east-1.amazonaws.com", 0},
        {all, "dynamodb", "us-east-1", "http://127.0.0.1:4566", 1},
        {all, "lambda", "us-east-1", "http://127.0.0.1:4566", 1},
        {specific, "secretsmanager", "us-east-1", "http://sm:2", 1},
        {specific, "states", "us-east-1", "http://sfn:3", 1},
        {specific, "dynamodb", "us-east-1", "http://all:1", 1},
        {ignored, "dynamodb", "us-east-1", "https://dynamodb.us-east-1.amazonaws.com", 0},
        {empty, "dynamodb", "us-east-1", "https://dynamodb.us-east-1.amazonaws.com", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[256];
        int custom = -1;
        cr_assert_eq(aws_endpoint_resolve(table_getenv, (void *)cases[i].env, cases[i].service,
                                          cases[i].region, out, sizeof out, &custom),
                     0, "case %zu", i);
        cr_assert_str_eq(out, cases[i].want, "case %zu", i);
        cr_assert_eq(custom, cases[i].custom, "case %zu", i);
    }
    char small[8];
    cr_assert_eq(aws_endpoint_resolve(table_getenv, NULL, "dynamodb", "us-east-1", small,
                                      sizeof small, NULL), -1);
    cr_assert_str_eq(small, "");
    cr_assert_eq(aws_endpoint_resolve(NULL, NULL, NULL, "us-east-1", small, sizeof small, NULL), -1);
}

Test(aws_client, errors_parse_type_without_namespace_and_either_message)
{
    static const struct {
        int status;
        const char *body, *header, *type, *message;
    } cases[] = {
        {400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\","
              "\"message\":\"The conditional request failed\"}",
         NULL, "ConditionalCheckFailedException", "The conditional request failed"},
        {400, "{\"__type\":\"com.amazon.coral.validate#ValidationException\",\"Message\":\"bad\"}",
         NULL, "ValidationException", "bad"},
        {400, "{\"__type\":\"ResourceNotFoundException\",\"Message\":\"Secrets Manager can't find "
              "the specified secret.\"}",
         NULL, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."},
        {400, "{\"__type\":\"a#b#ThrottlingException\"}", NULL, "ThrottlingException", ""},
        {400, "{\"message\":\"m\"}", "ValidationException:http://internal.amazon.com/coral/",
         "ValidationException", "m"},
        {503, "<html>busy</html>", NULL, "503", ""},
        {500, NULL, NULL, "500", ""},
        {400, "{\"__type\":42,\"message\":7}", "X#Y", "Y", ""},
        {400, "{\"__type\":\"ns#\"}", NULL, "400", ""},
        {400, "{\"__type\":\"\"}", "Z", "Z", ""},
        {400, "[\"__type\"]", NULL, "400", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        aws_error e;
        aws_error_parse(cases[i].status, cases[i].body, cases[i].body ? strlen(cases[i].body) : 0,
                        cases[i].header, &e);
        cr_assert_eq(e.status, cases[i].status, "case %zu", i);
        cr_assert_str_eq(e.type, cases[i].type, "case %zu", i);
        cr_assert_str_eq(e.message, cases[i].message, "case %zu", i);
    }
    /* An oversized type or message is cut to the buffer, never overflowing it. */
    size_t n = 5000;
    char *big = malloc(n + 64);
    strcpy(big, "{\"__type\":\"");
    memset(big + 11, 'T', n);
    strcpy(big + 11 + n, "\",\"message\":\"x\"}");
    aws_error e;
    aws_error_parse(400, big, strlen(big), NULL, &e);
    cr_assert_eq(strlen(e.type), sizeof e.type - 1);
    free(big);
}

Test(aws_client, retry_decisions_follow_the_standard_mode)
{
    static const struct {
        int status;
        const char *type;
        int transport;
        aws_retry_kind want;
    } cases[] = {
        {400, "ThrottlingException", 0, AWS_RETRY_THROTTLE},
        {400, "ProvisionedThroughputExceededException", 0, AWS_RETRY_THROTTLE},
        {400, "RequestLimitExceeded", 0, AWS_RETRY_THROTTLE},
        {429, "TooManyRequestsException", 0, AWS_RETRY_THROTTLE},
        {400, "LimitExceededException", 0, AWS_RETRY_THROTTLE},
        {503, "SlowDown", 0, AWS_RETRY_THROTTLE},
        {400, "RequestTimeoutException", 0, AWS_RETRY_TRANSIENT},
        {500, "InternalServerError", 0, AWS_RETRY_TRANSIENT},
        {502, NULL, 0, AWS_RETRY_TRANSIENT},
        {503, "ServiceUnavailable", 0, AWS_RETRY_TRANSIENT},
        {504, NULL, 0, AWS_RETRY_TRANSIENT},
        {0, NULL, 1, AWS_RETRY_TRANSIENT},
        {501, "NotImplemented", 0, AWS_RETRY_NONE},
        {400, "ConditionalCheckFailedException", 0, AWS_RETRY_NONE},
        {400, "TransactionCanceledException", 0, AWS_RETRY_NONE},
        {400, "ValidationException", 0, AWS_RETRY_NONE},
        {404, "ResourceNotFoundException", 0, AWS_RETRY_NONE},
        {200, NULL, 0, AWS_RETRY_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        cr_assert_eq(aws_retry_classify(cases[i].status, cases[i].type, cases[i].transport),
                     cases[i].want, "case %zu (%d %s)", i, cases[i].status,
                     cases[i].type ? cases[i].type : "-");
}

Test(aws_client, backoff_is_full_jitter_under_a_doubling_ceiling_capped_at_20s)
{
    cr_assert_eq(aws_retry_backoff_ms(1, 0.0), 0);
    cr_assert_eq(aws_retry_backoff_ms(1, 0.5), 50);
    cr_assert_eq(aws_retry_backoff_ms(2, 0.5), 100);
    cr_assert_eq(aws_retry_backoff_ms(3, 0.5), 200);
    cr_assert_lt(aws_retry_backoff_ms(1, 0.999999), 100);
    cr_assert_lt(aws_retry_backoff_ms(2, 1.0), 200); /* r is clamped below 1 */
    cr_assert_eq(aws_retry_backoff_ms(20, 0.5), 10000);
    cr_assert_lt(aws_retry_backoff_ms(1000, 0.999999), 20000);
    cr_assert_eq(aws_retry_backoff_ms(0, 0.5), 50);
    cr_assert_eq(aws_retry_backoff_ms(1, -3.0), 0);
    for (int a = 1; a <= 40; a++)
        for (double r = 0; r < 1; r += 0.125) {
            long ms = aws_retry_backoff_ms(a, r);
            cr_assert(ms >= 0 && ms < 20000, "attempt %d r %f: %ld", a, r, ms);
        }
}

/* --- presigned URLs ------------------------------------------------------------- */

Test(aws_client, presign_is_path_style_on_a_custom_endpoint_and_virtual_hosted_on_aws)
{
    static const char *const local[] = {"AWS_REGION", "eu-west-1", "AWS_ACCESS_KEY_ID", "AKID",
                                        "AWS_SECRET_ACCESS_KEY", "secret",
                                        "AWS_ENDPOINT_URL", "http://127.0.0.1:4566", NULL};
    static const char *const cloud[] = {"AWS_REGION", "eu-west-1", "AWS_ACCESS_KEY_ID", "AKID",
                                        "AWS_SECRET_ACCESS_KEY", "secret",
                                        "AWS_SESSION_TOKEN", "tok", NULL};
    aws_client *c = aws_client_new(table_getenv, (void *)local);
    aws_error e;
    char *u = aws_s3_presign(c, "PUT", "images", "products/p 1/a+b.png", 300, "image/png", &e);
    cr_assert(u, "%s", e.message);
    cr_assert(!strncmp(u, "http://127.0.0.1:4566/images/products/p%201/a%2Bb.png?", 54), "%s", u);
    cr_assert(strstr(u, "X-Amz-Credential=AKID%2F"), "%s", u);
    cr_assert(strstr(u, "%2Feu-west-1%2Fs3%2Faws4_request"), "%s", u);
    cr_assert(strstr(u, "X-Amz-Expires=300"), "%s", u);
    cr_assert(strstr(u, "X-Amz-SignedHeaders=content-type%3Bhost"), "%s", u);
    free(u);
    aws_client_free(c);

    c = aws_client_new(table_getenv, (void *)cloud);
    u = aws_s3_presign(c, "GET", "images", "a.png", 60, NULL, &e);
    cr_assert(!strncmp(u, "https://images.s3.eu-west-1.amazonaws.com/a.png?", 48), "%s", u);
    cr_assert(strstr(u, "X-Amz-Security-Token=tok"), "%s", u);
    cr_assert(strstr(u, "X-Amz-SignedHeaders=host&"), "%s", u);
    free(u);
    u = aws_s3_presign(c, "GET", "my.dotted.bucket", "a.png", 60, NULL, &e);
    cr_assert(!strncmp(u, "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/a.png?", 58), "%s", u);
    free(u);
    aws_client_free(c);
}

Test(aws_client, presign_refuses_bad_arguments)
{
    static const char *const env[] = {"AWS_ACCESS_KEY_ID", "AKID", "AWS_SECRET_ACCESS_KEY", "s",
                                      NULL};
    aws_client *c = aws_client_new(table_getenv, (void *)env);
    char longkey[1100];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    static const struct {
        const char *method, *bucket;
        int expires;
    } cases[] = {{"DELETE", "bucket", 60}, {"get", "bucket", 60}, {"GET", "ab", 60},
                 {"GET", "Upper", 60},     {"GET", "bucket", 0},  {"GET", "bucket", 604801},
                 {NULL, "bucket", 60}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        aws_error e;
        cr_assert_null(aws_s3_presign(c, cases[i].method, cases[i].bucket, "k", cases[i].expires,
                                      NULL, &e), "case %zu", i);
        cr_assert_str_eq(e.type, "InvalidParameter", "case %zu", i);
    }
    aws_error e;
    cr_assert_null(aws_s3_presign(c, "GET", "bucket", "", 60, NULL, &e));
    cr_assert_null(aws_s3_presign(c, "GET", "bucket", longkey, 60, NULL, &e));
    aws_client_free(c);
    c = aws_client_new(table_getenv, NULL);
    cr_assert_null(aws_s3_presign(c, "GET", "bucket", "k", 60, NULL, &e));
    cr_assert_str_eq(e.type, "NoCredentials");
    aws_client_free(c);
}

Test(aws_client, region_comes_from_aws_region_then_aws_default_region)
{
    static const char *const both[] = {"AWS_REGION", "eu-west-3", "AWS_DEFAULT_REGION", "us-west-2",
                                       NULL};
    static const char *const def[] = {"AWS_DEFAULT_REGION", "us-west-2", NULL};
    aws_client *c = aws_client_new(table_getenv, (void *)both);
    cr_assert_str_eq(aws_client_region(c), "eu-west-3");
    aws_client_free(c);
    c = aws_client_new(table_getenv, (void *)def);
    cr_assert_str_eq(aws_client_region(c), "us-west-2");
    aws_client_free(c);
    c = aws_client_new(NULL, NULL);
    cr_assert_str_eq(aws_client_region(c), "us-east-1");
    aws_client_free(c);
    aws_client_free(NULL);
}

/* --- a scripted server ------------------------------------------------------------ */

#define MAX_SCRIPT 8

typedef struct script {
    int fd, port;
    pthread_t thread;
    const char *answers[MAX_SCRIPT]; /* whole HTTP responses, in order; NULL: never answer */
    int n_answers;
    char requests[MAX_SCRIPT][4096]; /* headers and body of what arrived */
    int n_requests;
    int accepts;
} script;

static int read_request(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0)
            return -1;
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            const char *cl = strcasestr(buf, "content-length:");
            size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
            if (len >= (size_t)(end + 4 - buf) + body)
                return 0;
        }
        if (len + 1 >= cap)
            return -1;
    }
}

static void *serve(void *arg)
{
    script *s = arg;
    int conn = -1;
    while (s->n_requests < s->n_answers) {
        if (conn < 0) {
            struct pollfd p = {s->fd, POLLIN, 0};
            if (poll(&p, 1, 5000) <= 0)
                break;
            conn = accept(s->fd, NULL, NULL);
            if (conn < 0)
                break;
            s->accepts++;
        }
        if (read_request(conn, s->requests[s->n_requests], sizeof s->requests[0]) != 0) {
            close(conn);
            conn = -1;
            continue;
        }
        const char *a = s->answers[s->n_requests++];
        if (!a) { /* silence: wait for the client to give up and close */
            char sink[256];
            struct pollfd p = {conn, POLLIN, 0};
            while (poll(&p, 1, 5000) > 0 && recv(conn, sink, sizeof sink, 0) > 0) {
            }
            close(conn);
            conn = -1;
            continue;
        }
        send(conn, a, strlen(a), MSG_NOSIGNAL);
    }
    if (conn >= 0)
        close(conn);
    return NULL;
}

static void script_start(script *s)
{
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(s->fd, (struct sockaddr *)&a, &l);
    s->port = ntohs(a.sin_port);
    listen(s->fd, 4);
    pthread_create(&s->thread, NULL, serve, s);
}

static void script_stop(script *s)
{
    pthread_join(s->thread, NULL);
    close(s->fd);
}

typedef struct sleeps {
    long ms[8];
    int n;
} sleeps;

static void record_sleep(void *ctx, long ms)
{
    sleeps *s = ctx;
    if (s->n < 8)
        s->ms[s->n++] = ms;
}

static aws_client *client_for(script *s, char *url, size_t cap, const char **env)
{
    snprintf(url, cap, "http://127.0.0.1:%d", s->port);
    env[0] = "AWS_ENDPOINT_URL";
    env[1] = url;
    env[2] = "AWS_ACCESS_KEY_ID";
    env[3] = "AKID";
    env[4] = "AWS_SECRET_ACCESS_KEY";
    env[5] = "secret";
    env[6] = "AWS_SESSION_TOKEN";
    env[7] = "session";
    env[8] = "_X_AMZN_TRACE_ID";
    env[9] = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    env[10] = NULL;
    return aws_client_new(table_getenv, (void *)env);
}

#define OK_EMPTY "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}"
#define THROTTLE                                                                                 \
    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 101\r\n\r\n" \
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\",\"message\":\"slow\"}"

Test(aws_client, sends_a_signed_json_call_and_reuses_the_connection)
{
    script s = {.answers = {"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
                            "x-amz-crc32: 49613676\r\nContent-Length: 11\r\n\r\n{\"Item\":{}}",
                            OK_EMPTY},
                .n_answers = 2};
    script_start(&s);
    char url[64];
    const char *env[12];
    aws_client *c = client_for(&s, url, sizeof url, env);
    cJSON *body = cJSON_Parse("{\"TableName\":\"t\"}");
    cJSON *out = NULL;
    aws_error e;
    cr_assert_eq(aws_json_call(c, "dynamodb", "DynamoDB_20120810.GetItem", body, &out, &e), 0,
                 "%s: %s", e.type, e.message);
    cr_assert(cJSON_IsObject(cJSON_GetObjectItem(out, "Item")));
    cJSON_Delete(out);
    cr_assert_eq(aws_json_call(c, "secretsmanager", "secretsmanager.ListSecrets", NULL, &out, &e), 0);
    cJSON_Delete(out);
    aws_client_free(c);
    cJSON_Delete(body);
    script_stop(&s);
    cr_assert_eq(s.accepts, 1, "the second call reuses the first connection");
    const char *r = s.requests[0];
    cr_assert(!strncmp(r, "POST / HTTP/1.1\r\n", 17), "%s", r);
    cr_assert(strcasestr(r, "\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\n"), "%s", r);
    cr_assert(strcasestr(r, "\r\nContent-Type: application/x-amz-json-1.0\r\n"), "%s", r);
    char host[64];
    snprintf(host, sizeof host, "\r\nHost: 127.0.0.1:%d\r\n", s.port);
    cr_assert(strcasestr(r, host), "%s", r);
    cr_assert(strcasestr(r, "\r\nX-Amz-Security-Token: session\r\n"), "%s", r);
    cr_assert(strcasestr(r, "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID/"), "%s", r);
    cr_assert(strstr(r, "/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;"
                        "x-amz-date;x-amz-security-token;x-amz-target, Signature="), "%s", r);
    cr_assert(strcasestr(r, "\r\namz-sdk-request: attempt=1; max=3\r\n"), "%s", r);
    cr_assert(strcasestr(r, "\r\namz-sdk-invocation-id: "), "%s", r);
    cr_assert(strcasestr(r, "\r\nX-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;"
                            "Parent=53995c3f42cd8ad8;Sampled=1\r\n"), "%s", r);
    cr_assert(strstr(r, "\r\n\r\n{\"TableName\":\"t\"}"), "%s", r);
    cr_assert(strcasestr(s.requests[1], "Content-Type: application/x-amz-json-1.1\r\n"));
    cr_assert(strstr(s.requests[1], "\r\n\r\n{}"));
}

Test(aws_client, throttles_are_retried_with_backoff_then_surface)
{
    script s = {.answers = {THROTTLE, THROTTLE, THROTTLE}, .n_answers = 3};
    script_start(&s);
    char url[64];
    const char *env[12];
    aws_client *c = client_for(&s, url, sizeof url, env);
    sleeps sl = {0};
    aws_client_set_sleep(c, record_sleep, &sl);
    cJSON *out = NULL;
    aws_error e;
    cr_assert_eq(aws_json_call(c, "dynamodb", "DynamoDB_20120810.PutItem", NULL, &out, &e), -1);
    cr_assert_eq(e.status, 400);
    cr_assert_str_eq(e.type, "ProvisionedThroughputExceededException");
    cr_assert_str_eq(e.message, "slow");
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(out, "__type")), "the error document comes back");
    cJSON_Delete(out);
    cr_assert_eq(sl.n, 2);
    cr_assert(sl.ms[0] >= 0 && sl.ms[0] < 100, "%ld", sl.ms[0]);
    cr_assert(sl.ms[1] >= 0 && sl.ms[1] < 200, "%ld", sl.ms[1]);
    cr_assert_eq(aws_client_retry_tokens(c), AWS_QUOTA_MAX - 2 * AWS_QUOTA_RETRY_COST);
    aws_client_free(c);
    script_stop(&s);
    cr_assert_eq(s.n_requests, 3);
    cr_assert(strcasestr(s.requests[2], "amz-sdk-request: attempt=3; max=3"));
}

Test(aws_client, a_5xx_then_success_succeeds_and_refunds_the_quota)
{
    script s = {.answers = {"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
                            OK_EMPTY},
                .n_answers = 2};
    script_start(&s);
    char url[64];
    const char *env[12];
    aws_client *c = client_for(&s, url, sizeof url, env);
    sleeps sl = {0};
    aws_client_set_sleep(c, record_sleep, &sl);
    aws_error e;
    cr_assert_eq(aws_json_call(c, "states", "AWSStepFunctions.StartExecution", NULL, NULL, &e), 0);
    cr_assert_eq(sl.n, 1);
    cr_assert_eq(aws_client_retry_tokens(c), AWS_QUOTA_MAX);
    aws_client_free(c);
    script_stop(&s);
}

Test(aws_client, client_errors_are_not_retried_and_keep_their_document)
{
    script s = {.answers = {"HTTP/1.1 400 Bad Request\r\nContent-Length: 182\r\n\r\n"
                            "{\"__type\":\"com.amazonaws.dynamodb.v20120810#TransactionCanceledException\","
                            "\"Message\":\"Transaction cancelled\",\"CancellationReasons\":[{\"Code\":\"None\"},"
                            "{\"Code\":\"ConditionalCheckFailed\"}]}"},
                .n_answers = 1};
    script_start(&s);
    char url[64];
    const char *env[12];
    aws_client *c = client_for(&s, url, sizeof url, env);
    cJSON *out = NULL;
    aws_error e;
    cr_assert_eq(aws_json_call(c, "dynamodb", "DynamoDB_20120810.TransactWriteItems", NULL, &out, &e), -1);
    cr_assert_str_eq(e.type, "TransactionCanceledException");
    cr_assert_str_eq(e.message, "Transaction cancelled");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(out, "CancellationReasons")), 2);
    cJSON_Delete(out);
    aws_client_free(c);
    script_stop(&s);
    cr_assert_eq(s.n_requests, 1);
}

Test(aws_client, a_crc32_mismatch_is_retried)
{
    script s = {.answers = {"HTTP/1.1 200 OK\r\nx-amz-crc32: 1\r\nContent-Length: 2\r\n\r\n{}",
                            "HTTP/1.1 200 OK\r\nx-amz-crc32: 49613676\r\nContent-Length: 11\r\n\r\n{\"Item\":{}}"},
                .n_answers = 2};
    script_start(&s);
    char url[64];
    const char *env[12];
    aws_client *c = client_for(&s, url, sizeof url, env);
    sleeps sl = {0};
    aws_client_set_sleep(c, record_sleep, &sl);
    cJSON *out = NULL;
    aws_error e;
    cr_assert_eq(aws_json_call(c, "dynamodb", "DynamoDB_20120810.GetItem", NULL, &out, &e), 0,
                 "%s", e.type);
    cr_assert(cJSON_GetObjectItem(out, "Item"));
    cJSON_Delete(out);
    aws_client_free(c);
    script_stop(&s);
    cr_assert_eq(s.n_requests, 2);
}

Test(aws_client, a_refused_connection_is_retried_then_a_transport_error)
{
    /* A port bound and closed again: nothing listens there. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    const char *env[] = {"AWS_ENDPOINT_URL_DYNAMODB", url, "AWS_ACCESS_KEY_ID", "A",
                         "AWS_SECRET_ACCESS_KEY", "S", NULL};
    aws_client *c = aws_client_new(table_getenv, (void *)env);
    sleeps sl = {0};
    aws_client_set_sleep(c, record_sleep, &sl);
    aws_error e;
    cJSON *out = (cJSON *)1;
    cr_assert_eq(aws_json_call(c, "dynamodb", "DynamoDB_20120810.GetItem", NULL, &out, &e), -1);
    cr_assert_null(out);
    cr_assert_eq(e.status, 0);
    cr_assert_str_eq(e.type, "TransportError");
    cr_assert_eq(sl.n, 2);
    aws_client_free(c);
}

Test(aws_client, calls_without_credentials_or_with_a_bad_endpoint_fail_cleanly)
{
    aws_client *c = aws_client_new(NULL, NULL);
    aws_error e;
    cr_assert_eq(aws_json_call(c, "dynamodb", "DynamoDB_20120810.GetItem", NULL, NULL, &e), -1);
    cr_assert_str_eq(e.type, "NoCredentials");
    cr_assert_null(aws_secret_string(c, "s", 0, &e));
    cr_assert_str_eq(e.type, "NoCredentials");
    aws_client_free(c);
    static const char *const bad[] = {"AWS_ENDPOINT_URL", "ftp://x", "AWS_ACCESS_KEY_ID", "A",
                                      "AWS_SECRET_ACCESS_KEY", "S", NULL};
    c = aws_client_new(table_getenv, (void *)bad);
    cr_assert_eq(aws_json_call(c, "dynamodb", "DynamoDB_20120810.GetItem", NULL, NULL, &e), -1);
    cr_assert_str_eq(e.type, "InvalidEndpoint");
    cr_assert_eq(aws_json_call(c, "dynamodb", "", NULL, NULL, &e), -1);
    cr_assert_str_eq(e.type, "InvalidParameter");
    cr_assert_eq(aws_json_call(NULL, "dynamodb", "X.Y", NULL, NULL, &e), -1);
    aws_client_free(c);
}

static long long fake_now = 1000000;

static long long fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

Test(aws_client, secret_string_is_cached_for_its_ttl)
{
    script s = {.answers = {"HTTP/1.1 200 OK\r\nContent-Length: 28\r\n\r\n{\"SecretString\":\"value-1\"}  ",
                            "HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\n{\"SecretString\":\"value-2\"}",
                            "HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\n{\"SecretBinary\":\"AA\"}"},
                .n_answers = 3};
    script_start(&s);
    char url[64];
    const char *env[12];
    aws_client *c = client_for(&s, url, sizeof url, env);
    aws_client_set_clock(c, fake_clock, NULL);
    aws_error e;
    char *v = aws_secret_string(c, "shoplocal/stripe", 60000, &e);
    cr_assert_str_eq(v, "value-1", "%s", e.message);
    free(v);
    v = aws_secret_string(c, "shoplocal/stripe", 60000, &e); /* from the cache */
    cr_assert_str_eq(v, "value-1");
    free(v);
    fake_now += 60000; /* the TTL has passed: asks again */
    v = aws_secret_string(c, "shoplocal/stripe", 60000, &e);
    cr_assert_str_eq(v, "value-2");
    free(v);
    v = aws_secret_string(c, "shoplocal/stripe", 60000, &e); /* cached again */
    cr_assert_str_eq(v, "value-2");
    free(v);
    cr_assert_null(aws_secret_string(c, "binary", 0, &e));
    cr_assert_str_eq(e.type, "InvalidSecretType");
    aws_client_free(c);
    script_stop(&s);
    cr_assert_eq(s.n_requests, 3);
    cr_assert(strcasestr(s.requests[0], "X-Amz-Target: secretsmanager.GetSecretValue"));
    cr_assert(strstr(s.requests[0], "{\"SecretId\":\"shoplocal/stripe\"}"));
}

Test(aws_client, a_silent_server_times_out_each_attempt_and_costs_the_timeout_quota)
{
    script s = {.answers = {NULL, NULL, OK_EMPTY}, .n_answers = 3};
    script_start(&s);
    char url[64];
    const char *env[12];
    aws_client *c = client_for(&s, url, sizeof url, env);
    aws_client_set_timeouts(c, 1000, 200);
    sleeps sl = {0};
    aws_client_set_sleep(c, record_sleep, &sl);
    aws_error e;
    cr_assert_eq(aws_json_call(c, "dynamodb", "DynamoDB_20120810.GetItem", NULL, NULL, &e), 0,
                 "%s: %s", e.type, e.message);
    cr_assert_eq(sl.n, 2);
    /* Two timeouts took 10 tokens each; the success paid them back. */
    cr_assert_eq(aws_client_retry_tokens(c), AWS_QUOTA_MAX);
    aws_client_free(c);
    script_stop(&s);
    cr_assert_eq(s.n_requests, 3);
}

Test(aws_client, query_and_rest_services_are_refused_by_the_json_call)
{
    static const char *const env[] = {"AWS_ACCESS_KEY_ID", "A", "AWS_SECRET_ACCESS_KEY", "S", NULL};
    aws_client *c = aws_client_new(table_getenv, (void *)env);
    static const char *const services[] = {"sns", "email", "s3"};
    for (size_t i = 0; i < 3; i++) {
        aws_error e;
        cr_assert_eq(aws_json_call(c, services[i], "X.Y", NULL, NULL, &e), -1);
        cr_assert_str_eq(e.type, "InvalidParameter", "%s", services[i]);
    }
    aws_client_free(c);
}
