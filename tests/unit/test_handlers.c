/*
 * test_handlers.c — the four API handlers (backend/handlers/, one .so each) called
 * directly, as the Lambda host calls them, against a real DynamoDB: the
 * emulator's, started in-process on free loopback ports.
 *
 * How the handlers are reached. Every handler is built as its own shared object
 * build/functions/<LogicalId>.so (the emulator's in-process Lambda host loads
 * exactly these), with -fvisibility=hidden so that only `lambda_handler` is
 * exported; all four export that same name. Linking the four sources into one
 * test binary would collide on it (and on their static helpers' copies of
 * backend/lib), so each is loaded with dlopen(RTLD_NOW | RTLD_LOCAL) and its
 * `lambda_handler` found with dlsym on that handle: the test exercises the very
 * artefact the emulator runs, with its own private copy of backend/lib. The
 * Makefile builds $(FN_SO) before this binary.
 *
 * The fixture (per test, so it works under Criterion's runner and with one
 * fork() per test alike): a temporary data folder, core_emulator_start on
 * template.yaml with ports 0 and virtual time, and a small fake Step Functions
 * endpoint (core_http_server on a free port) that records StartExecution and
 * answers an executionArn — the emulator has no Step Functions service the
 * checkout could start, and the saga itself is not this suite's subject. The
 * failure path is tested against the emulator proper, where no state machine
 * answers. Teardown stops both servers, closes the .so files and removes the
 * folder.
 *
 * Each invocation gets an API Gateway HTTP API payload 2.0 event built here
 * (routeKey, rawPath, pathParameters, queryStringParameters, headers, body,
 * requestContext.authorizer.jwt.claims as AWS hands them over: every claim a
 * string, cognito:groups as "[Admins Staff]") and a lambda_context whose getenv
 * answers the function's environment from template.yaml plus what the host
 * adds (AWS_ENDPOINT_URL = the emulator's aws listener, region, dummy keys).
 *
 * Orders with chosen creation times are written straight into the table with
 * the backend's own DynamoDB client (a fixture in the table's real shape, see
 * docs/DATA-MODEL.md), so "newest first" does not depend on the clock.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/emulator.h"
#include "core/http.h"
#include "lib/model.h"
#include "runtime/handler.h"
#include "support/testutil.h"

#define TABLE "shoplocal-shop" /* ShopTable's name in template.yaml (stack shoplocal) */
#define MISSING_MACHINE "arn:aws:states:us-east-1:000000000000:stateMachine:no-such-machine"
#define FAKE_MACHINE "arn:aws:states:us-east-1:000000000000:stateMachine:shoplocal-orders"

/* ---- the fake Step Functions endpoint --------------------------------------- */

static struct {
    pthread_mutex_t lock;
    int calls;
    char target[128];
    cJSON *last; /* the last StartExecution request body */
} sfn = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void sfn_handle(void *ctx, const core_http_request *req, core_http_response *resp)
{
    (void)ctx;
    const char *target = core_http_header_get(req, "x-amz-target");
    cJSON *in = cJSON_Parse(req->body);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "name");
    pthread_mutex_lock(&sfn.lock);
    sfn.calls++;
    snprintf(sfn.target, sizeof sfn.target, "%s", target ? target : "");
    cJSON_Delete(sfn.last);
    sfn.last = in;
    pthread_mutex_unlock(&sfn.lock);
    cJSON *out = cJSON_CreateObject();
    char arn[256];
    snprintf(arn, sizeof arn, "arn:aws:states:us-east-1:000000000000:execution:shoplocal-orders:%s",
             cJSON_IsString(name) ? name->valuestring : "x");
    cJSON_AddStringToObject(out, "executionArn", arn);
    cJSON_AddNumberToObject(out, "startDate", 1.7e9);
    core_http_response_json(resp, 200, "application/x-amz-json-1.0", out);
    cJSON_Delete(out);
}

/* ---- the fixture ------------------------------------------------------------- */

typedef struct fn {
    const char *id;
    void *dl;
    lambda_handler_fn call;
} fn;

static fn products = {"ProductsFunction", NULL, NULL};
static fn cart = {"CartFunction", NULL, NULL};
static fn checkout = {"CheckoutFunction", NULL, NULL};
static fn orders = {"OrdersFunction", NULL, NULL};

static char *dir;
static core_emulator *emu;
static core_http_server *sfn_srv;
static char aws_url[128], sfn_url[128];
static const char *machine_arn = FAKE_MACHINE;
static int use_fake_sfn = 1;
static const char *log_level = "ERROR";
static const char *endpoint = NULL; /* NULL: the emulator's aws listener */
static int no_table = 0;
static const char *images_bucket = "shoplocal-images-000000000000";

/* Everything an invocation returned, freed at teardown (tests stay short). */
static cJSON *garbage[512];
static size_t n_garbage;

static cJSON *keep(cJSON *j)
{
    cr_assert_lt(n_garbage, sizeof garbage / sizeof *garbage, "raise garbage[]");
    garbage[n_garbage++] = j;
    return j;
}

/* <BUILD>/functions, found from this binary's own place <BUILD>/tests/unit/,
 * so that any BUILD= tree tests its own functions. */
static char functions_dir[1024];

static void find_functions_dir(void)
{
    char exe[900];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert_gt(n, 0, "readlink /proc/self/exe");
    exe[n] = '\0';
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(exe, '/');
        cr_assert_not_null(slash, "binary not under <BUILD>/tests/unit: %s", exe);
        *slash = '\0';
    }
    snprintf(functions_dir, sizeof functions_dir, "%s/functions", exe);
}

static void load(fn *f)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s.so", functions_dir, f->id);
    f->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(f->dl, "dlopen %s: %s", path, dlerror());
    f->call = (lambda_handler_fn)(uintptr_t)dlsym(f->dl, "lambda_handler");
    cr_assert_not_null(f->call, "%s exports no lambda_handler", path);
}

static void setup(void)
{
    dir = tu_mkdtemp();
    cr_assert_not_null(dir);
    find_functions_dir();
    core_log_setup(CORE_LOG_ERROR, stderr);
    core_config cfg;
    core_config_defaults(&cfg);
    snprintf(cfg.functions_dir, sizeof cfg.functions_dir, "%s", functions_dir);
    snprintf(cfg.template_path, sizeof cfg.template_path, "template.yaml");
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/data", dir);
    snprintf(cfg.host, sizeof cfg.host, "127.0.0.1");
    cfg.fresh = 1;
    cfg.web_port = cfg.aws_port = cfg.stripe_port = 0;
    cfg.time_mode = CORE_CLOCK_VIRTUAL;
    cfg.log_level = CORE_LOG_ERROR;
    core_err err = {0};
    int rc = core_emulator_start(&cfg, &emu, &err);
    core_config_release(&cfg);
    cr_assert_eq(rc, CORE_OK, "emulator: %s", err.message);
    snprintf(aws_url, sizeof aws_url, "%s", core_emulator_url(emu, "aws"));

    core_http_server_opts o = {.name = "fake-sfn", .host = "127.0.0.1", .port = 0, .threads = 2,
                               .max_body = 1 << 20, .too_large_type = "text/plain",
                               .too_large_body = "too large", .handler = sfn_handle};
    sfn_srv = core_http_server_start(&o, &err);
    cr_assert_not_null(sfn_srv, "fake sfn: %s", err.message);
    snprintf(sfn_url, sizeof sfn_url, "http://127.0.0.1:%d", core_http_server_port(sfn_srv));

    load(&products);
    load(&cart);
    load(&checkout);
    load(&orders);
}

static void teardown(void)
{
    for (size_t i = 0; i < n_garbage; i++)
        cJSON_Delete(garbage[i]);
    n_garbage = 0;
    fn *all[] = {&products, &cart, &checkout, &orders};
    for (size_t i = 0; i < 4; i++)
        if (all[i]->dl) {
            dlclose(all[i]->dl);
            all[i]->dl = NULL;
        }
    if (sfn_srv)
        core_http_server_stop(sfn_srv);
    sfn_srv = NULL;
    cJSON_Delete(sfn.last);
    sfn.last = NULL;
    core_emulator_stop(emu, 1000);
    emu = NULL;
    tu_rmrf(dir);
    free(dir);
}

TestSuite(handlers, .init = setup, .fini = teardown, .timeout = 120);

/* ---- the functions' environment -------------------------------------------- */

static const char *fn_getenv(const lambda_context *ctx, const char *name)
{
    const fn *f = ctx->host;
    static const char *const common[][2] = {
        {"TABLE_NAME", TABLE},
        {"ENVIRONMENT", "dev"},
        {"AWS_REGION", "us-east-1"},
        {"AWS_DEFAULT_REGION", "us-east-1"},
        {"AWS_ACCESS_KEY_ID", "AKIDSHOPLOCALTEST"},
        {"AWS_SECRET_ACCESS_KEY", "shoplocal-test-secret"},
        {"CURSOR_SECRET", "handler-test-cursor-secret"},
    };
    if (no_table && !strcmp(name, "TABLE_NAME"))
        return NULL;
    for (size_t i = 0; i < sizeof common / sizeof *common; i++)
        if (!strcmp(name, common[i][0]))
            return common[i][1];
    if (!strcmp(name, "AWS_ENDPOINT_URL"))
        return endpoint ? endpoint : aws_url;
    if (!strcmp(name, "LOG_LEVEL"))
        return log_level;
    if (f == &products && !strcmp(name, "ADMIN_GROUP"))
        return "Admins";
    if (f == &products && !strcmp(name, "IMAGES_BUCKET"))
        return images_bucket;
    if (f == &products && !strcmp(name, "IMAGES_BASE_URL"))
        return "https://d111111abcdef8.cloudfront.net";
    if (f == &checkout) {
        if (!strcmp(name, "STATE_MACHINE_ARN"))
            return machine_arn;
        if (!strcmp(name, "AWS_ENDPOINT_URL_SFN"))
            return use_fake_sfn ? sfn_url : NULL;
        if (strstr(name, "_FUNCTION_ARN")) {
            static char arn[160];
            snprintf(arn, sizeof arn, "arn:aws:lambda:us-east-1:000000000000:function:%.*s",
                     (int)(strlen(name) - strlen("_FUNCTION_ARN")), name);
            return arn;
        }
    }
    return NULL;
}

/* What the handlers logged through ctx->log: "<level> <message>\n" lines. */
static char log_text[1 << 16];
static size_t log_used;

static void fn_log(const lambda_context *ctx, const char *level, const char *message)
{
    (void)ctx;
    int n = snprintf(log_text + log_used, sizeof log_text - log_used, "%s %s\n", level, message);
    if (n > 0 && (size_t)n < sizeof log_text - log_used)
        log_used += (size_t)n;
}

/* ---- events ------------------------------------------------------------------- */

/* A payload 2.0 event for route ("GET /products/{id}") by user (NULL: no
 * authorizer), path "a=b" pairs filled into both pathParameters and rawPath. */
static cJSON *ev(const char *route, const char *user, const char *groups)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "version", "2.0");
    cJSON_AddStringToObject(e, "routeKey", route);
    const char *sp = strchr(route, ' ');
    cJSON_AddStringToObject(e, "rawPath", sp ? sp + 1 : "/");
    cJSON_AddStringToObject(e, "rawQueryString", "");
    cJSON *h = cJSON_AddObjectToObject(e, "headers");
    cJSON_AddStringToObject(h, "content-type", "application/json");
    cJSON *rc = cJSON_AddObjectToObject(e, "requestContext");
    cJSON_AddStringToObject(rc, "accountId", "000000000000");
    cJSON_AddStringToObject(rc, "apiId", "shoplocal");
    cJSON_AddStringToObject(rc, "requestId", "req-handler-test");
    cJSON_AddStringToObject(rc, "stage", "$default");
    cJSON_AddStringToObject(rc, "routeKey", route);
    cJSON *http = cJSON_AddObjectToObject(rc, "http");
    char method[8] = "";
    snprintf(method, sizeof method, "%.*s", sp ? (int)(sp - route) : 0, route);
    cJSON_AddStringToObject(http, "method", method);
    cJSON_AddStringToObject(http, "path", sp ? sp + 1 : "/");
    if (user) {
        cJSON *claims = cJSON_AddObjectToObject(
            cJSON_AddObjectToObject(cJSON_AddObjectToObject(rc, "authorizer"), "jwt"), "claims");
        cJSON_AddStringToObject(claims, "sub", user);
        char email[160];
        snprintf(email, sizeof email, "%s@example.com", user);
        cJSON_AddStringToObject(claims, "email", email);
        cJSON_AddStringToObject(claims, "token_use", "access");
        if (groups)
            cJSON_AddStringToObject(claims, "cognito:groups", groups);
    }
    cJSON_AddBoolToObject(e, "isBase64Encoded", 0);
    return e;
}

static cJSON *ev_path(cJSON *e, const char *name, const char *value)
{
    cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "pathParameters");
    if (!p)
        p = cJSON_AddObjectToObject(e, "pathParameters");
    cJSON_AddStringToObject(p, name, value);
    return e;
}

static cJSON *ev_query(cJSON *e, const char *name, const char *value)
{
    cJSON *q = cJSON_GetObjectItemCaseSensitive(e, "queryStringParameters");
    if (!q)
        q = cJSON_AddObjectToObject(e, "queryStringParameters");
    cJSON_AddStringToObject(q, name, value);
    return e;
}

static cJSON *ev_header(cJSON *e, const char *name, const char *value)
{
    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(e, "headers"), name, value);
    return e;
}

static cJSON *ev_body(cJSON *e, const char *body)
{
    cJSON_AddStringToObject(e, "body", body);
    return e;
}

/* ---- invoking ----------------------------------------------------------------- */

typedef struct reply {
    int status;
    cJSON *body;       /* parsed (NULL for an empty body) */
    const cJSON *headers;
    const char *code;  /* error.code, or NULL */
} reply;

/* Call f's lambda_handler with event (consumed) as the host does. */
static reply invoke(fn *f, cJSON *event)
{
    lambda_context ctx = {.request_id = "req-handler-test",
                          .deadline_ms = lambda_epoch_ms() + 60000,
                          .function_name = f->id,
                          .function_arn = "",
                          .memory_mb_text = "128",
                          .getenv = fn_getenv,
                          .log = fn_log,
                          .host = f};
    lambda_error err;
    memset(&err, 0, sizeof err);
    cJSON *resp = f->call(keep(event), &ctx, &err);
    cr_assert_not_null(resp, "%s returned an error %s: %s", f->id, err.type, err.message);
    keep(resp);
    reply r = {0};
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(resp, "statusCode");
    cr_assert(cJSON_IsNumber(sc), "%s: no statusCode", f->id);
    r.status = sc->valueint;
    r.headers = cJSON_GetObjectItemCaseSensitive(resp, "headers");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(resp, "body");
    if (cJSON_IsString(b) && b->valuestring[0]) {
        r.body = keep(cJSON_Parse(b->valuestring));
        cr_assert_not_null(r.body, "%s: body is not JSON: %s", f->id, b->valuestring);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(r.body, "error");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
        if (cJSON_IsString(code)) {
            r.code = code->valuestring;
            cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")),
                      "%s: error without message", f->id);
        }
    }
    return r;
}

/* Expect status and (non-NULL) error code. */
static void expect(reply r, int status, const char *code, const char *what)
{
    cr_assert_eq(r.status, status, "%s: status %d, wanted %d (%s)", what, r.status, status,
                 r.code ? r.code : "-");
    if (code)
        cr_assert(r.code && !strcmp(r.code, code), "%s: code %s, wanted %s", what,
                  r.code ? r.code : "(none)", code);
    else
        cr_assert_null(r.code, "%s: unexpected error %s", what, r.code);
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    cr_assert(cJSON_IsString(v), "%s is not a string", name);
    return v->valuestring;
}

static long long num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    cr_assert(cJSON_IsNumber(v), "%s is not a number", name);
    return (long long)v->valuedouble;
}

static const cJSON *items(reply r)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(r.body, "items");
    cr_assert(cJSON_IsArray(a), "no items array");
    return a;
}

static const char *header(reply r, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r.headers, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

#define ADMIN "admin-1", "[Admins Staff]"
#define ALICE "alice-sub", NULL
#define BOB "bob-sub", NULL

/* POST /products as an admin; expects 201. */
static void create_product(const char *id, long long price, long long stock)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"name\":\"Product %s\",\"description\":\"About %s\","
             "\"priceCents\":%lld,\"currency\":\"USD\",\"stock\":%lld}",
             id, id, id, price, stock);
    reply r = invoke(&products, ev_body(ev("POST /products", ADMIN), body));
    expect(r, 201, NULL, id);
}

static reply get_product(const char *id)
{
    return invoke(&products, ev_path(ev("GET /products/{id}", NULL, NULL), "id", id));
}

static reply cart_add(const char *user, const char *product, int qty)
{
    char body[160];
    snprintf(body, sizeof body, "{\"productId\":\"%s\",\"quantity\":%d}", product, qty);
    return invoke(&cart, ev_body(ev("POST /cart", user, NULL), body));
}

static reply cart_get(const char *user)
{
    return invoke(&cart, ev("GET /cart", user, NULL));
}

/* The cart line of product, or NULL. */
static const cJSON *line_of(reply r, const char *product)
{
    const cJSON *l;
    cJSON_ArrayForEach(l, items(r))
    {
        if (!strcmp(str(l, "productId"), product))
            return l;
    }
    return NULL;
}

/* One DynamoDB call from the test itself, with the backend's own client (for
 * fixtures the API cannot make, and for looking at what the handlers wrote).
 * Consumes q; returns the answer (kept) and expects success. */
static cJSON *ddb(const char *op, cJSON *q)
{
    lambda_context ctx = {.getenv = fn_getenv, .log = fn_log, .host = &orders};
    aws_client *c = model_client_new(&ctx);
    cr_assert_not_null(c);
    cJSON *out = NULL;
    aws_error err;
    int rc = model_ddb(c, op, q, &out, &err);
    cJSON_Delete(q);
    aws_client_free(c);
    keep(out);
    cr_assert_eq(rc, 0, "%s: %s %s", op, err.type, err.message);
    return out;
}

static void ddb_put(cJSON *item)
{
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "TableName", TABLE);
    cJSON_AddItemToObject(q, "Item", item);
    ddb("PutItem", q);
}

/* ======================================================================== */
/* ProductsFunction                                                          */
/* ======================================================================== */

Test(handlers, products_list_oldest_first_with_every_field)
{
    reply r = invoke(&products, ev("GET /products", NULL, NULL));
    expect(r, 200, NULL, "empty catalog");
    cr_assert_eq(cJSON_GetArraySize(items(r)), 0);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.body, "lastKey")));

    create_product("p-a", 1999, 5);
    create_product("p-b", 500, 0);
    create_product("p-c", 250, 100);
    r = invoke(&products, ev("GET /products", NULL, NULL));
    expect(r, 200, NULL, "catalog");
    const cJSON *a = items(r);
    cr_assert_eq(cJSON_GetArraySize(a), 3);
    cr_assert_str_eq(str(cJSON_GetArrayItem(a, 0), "id"), "p-a");
    cr_assert_str_eq(str(cJSON_GetArrayItem(a, 1), "id"), "p-b");
    cr_assert_str_eq(str(cJSON_GetArrayItem(a, 2), "id"), "p-c");
    const cJSON *p = cJSON_GetArrayItem(a, 0);
    cr_assert_str_eq(str(p, "name"), "Product p-a");
    cr_assert_str_eq(str(p, "description"), "About p-a");
    cr_assert_eq(num(p, "priceCents"), 1999);
    cr_assert_str_eq(str(p, "currency"), "USD");
    cr_assert_eq(num(p, "stock"), 5);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(p, "imageUrl")));
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.body, "lastKey")));
}

Test(handlers, products_paging_cursor_and_its_tampering)
{
    create_product("p-a", 100, 1);
    create_product("p-b", 200, 1);
    create_product("p-c", 300, 1);
    reply r = invoke(&products, ev_query(ev("GET /products", NULL, NULL), "limit", "2"));
    expect(r, 200, NULL, "page 1");
    cr_assert_eq(cJSON_GetArraySize(items(r)), 2);
    char cursor[1024];
    snprintf(cursor, sizeof cursor, "%s", str(r.body, "lastKey"));

    r = invoke(&products, ev_query(ev_query(ev("GET /products", NULL, NULL), "limit", "2"),
                                   "lastKey", cursor));
    expect(r, 200, NULL, "page 2");
    cr_assert_eq(cJSON_GetArraySize(items(r)), 1);
    cr_assert_str_eq(str(cJSON_GetArrayItem(items(r), 0), "id"), "p-c");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.body, "lastKey")));

    /* every single-character change of the cursor is refused */
    size_t n = strlen(cursor);
    for (size_t i = 0; i < n; i += n / 7 + 1) {
        char bad[1024];
        snprintf(bad, sizeof bad, "%s", cursor);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        r = invoke(&products, ev_query(ev("GET /products", NULL, NULL), "lastKey", bad));
        expect(r, 400, "InvalidCursor", bad);
    }
    const char *junk[] = {"", "x", "eyJQSyI6eyJTIjoiUFJPRFVDVCNwLWEifX0", "%%%%", NULL};
    for (size_t i = 0; junk[i]; i++) {
        r = invoke(&products, ev_query(ev("GET /products", NULL, NULL), "lastKey", junk[i]));
        expect(r, 400, "InvalidCursor", junk[i]);
    }
    const char *limits[] = {"0", "101", "-1", "abc", "2x", "", NULL};
    for (size_t i = 0; limits[i]; i++) {
        r = invoke(&products, ev_query(ev("GET /products", NULL, NULL), "limit", limits[i]));
        expect(r, 400, "InvalidParameter", limits[i]);
    }
    r = invoke(&products, ev_query(ev("GET /products", NULL, NULL), "limit", "100"));
    expect(r, 200, NULL, "limit 100");
}

Test(handlers, products_get_one_missing_and_bad_id)
{
    create_product("p-a", 1999, 5);
    reply r = get_product("p-a");
    expect(r, 200, NULL, "get p-a");
    cr_assert_str_eq(str(r.body, "id"), "p-a");
    cr_assert_eq(num(r.body, "priceCents"), 1999);
    cr_assert_eq(num(r.body, "stock"), 5);
    expect(get_product("p-zzz"), 404, "ProductNotFound", "missing");
    char long_id[80];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    const char *bad[] = {"", "a/b", "a b", "PRODUCT#x", long_id, NULL};
    for (size_t i = 0; bad[i]; i++)
        expect(get_product(bad[i]), 400, "InvalidParameter", bad[i]);
    /* no id at all */
    expect(invoke(&products, ev("GET /products/{id}", NULL, NULL)), 400, "InvalidParameter",
           "no path parameter");
}

Test(handlers, products_writes_are_for_admins_only)
{
    const char *body = "{\"id\":\"p-x\",\"name\":\"X\",\"priceCents\":100,\"stock\":1}";
    expect(invoke(&products, ev_body(ev("POST /products", NULL, NULL), body)), 401,
           "Unauthorized", "no user");
    expect(invoke(&products, ev_body(ev("POST /products", ALICE), body)), 403, "Forbidden",
           "no groups");
    const char *not_admin[] = {"[Staff]", "[Administrators]", "[admins]", "Admin", "[]", "",
                               "[\"Staff\"]", NULL};
    for (size_t i = 0; not_admin[i]; i++)
        expect(invoke(&products, ev_body(ev("POST /products", "eve-sub", not_admin[i]), body)),
               403, "Forbidden", not_admin[i]);
    expect(invoke(&products, ev_path(ev_body(ev("PATCH /products/{id}", ALICE),
                                             "{\"priceCents\":1}"), "id", "p-x")),
           403, "Forbidden", "patch");
    expect(invoke(&products, ev_path(ev("DELETE /products/{id}", ALICE), "id", "p-x")), 403,
           "Forbidden", "delete");
    expect(get_product("p-x"), 404, "ProductNotFound", "nothing was written");

    /* the group alone, and the JSON-array text form, are admins too */
    reply r = invoke(&products, ev_body(ev("POST /products", "admin-2", "Admins"), body));
    expect(r, 201, NULL, "single group");
    cr_assert_str_eq(header(r, "location"), "/products/p-x");
    cr_assert_str_eq(str(r.body, "id"), "p-x");
    cr_assert_str_eq(str(r.body, "currency"), "USD");
    r = invoke(&products, ev_body(ev("POST /products", "admin-3", "[\"Staff\",\"Admins\"]"),
                                  "{\"name\":\"Generated\",\"priceCents\":5,\"stock\":0}"));
    expect(r, 201, NULL, "JSON array groups, generated id");
    cr_assert_eq(strlen(str(r.body, "id")), 36, "a UUID id: %s", str(r.body, "id"));
    expect(get_product(str(r.body, "id")), 200, NULL, "generated id is readable");
}

Test(handlers, products_create_rejects_bad_bodies)
{
    static const struct {
        const char *body;
        int status;
        const char *code;
    } cases[] = {
        {NULL, 400, "InvalidJson"},
        {"", 400, "InvalidJson"},
        {"not json", 400, "InvalidJson"},
        {"{\"name\":", 400, "InvalidJson"},
        {"[1,2]", 400, "InvalidJson"},
        {"\"text\"", 400, "InvalidJson"},
        {"{}", 422, "ValidationError"},
        {"{\"priceCents\":100,\"stock\":1}", 422, "ValidationError"},
        {"{\"name\":\"A\",\"stock\":1}", 422, "ValidationError"},
        {"{\"name\":\"A\",\"priceCents\":100}", 422, "ValidationError"},
        {"{\"name\":\"A\",\"priceCents\":0,\"stock\":1}", 422, "ValidationError"},
        {"{\"name\":\"A\",\"priceCents\":-5,\"stock\":1}", 422, "ValidationError"},
        {"{\"name\":\"A\",\"priceCents\":100000001,\"stock\":1}", 422, "ValidationError"},
        {"{\"name\":\"A\",\"priceCents\":1.5,\"stock\":1}", 422, "ValidationError"},
        {"{\"name\":\"A\",\"priceCents\":\"100\",\"stock\":1}", 422, "ValidationError"},
        {"{\"name\":\"A\",\"priceCents\":100,\"stock\":-1}", 422, "ValidationError"},
        {"{\"name\":\"A\",\"priceCents\":100,\"stock\":1000001}", 422, "ValidationError"},
        {"{\"name\":\"\",\"priceCents\":100,\"stock\":1}", 422, "ValidationError"},
        {"{\"name\":7,\"priceCents\":100,\"stock\":1}", 422, "ValidationError"},
        {"{\"name\":\"A\",\"priceCents\":100,\"stock\":1,\"color\":\"red\"}", 422,
         "ValidationError"},
        {"{\"name\":\"A\",\"name\":\"B\",\"priceCents\":100,\"stock\":1}", 422,
         "ValidationError"},
        {"{\"name\":\"A\",\"priceCents\":100,\"stock\":1,\"currency\":\"usd\"}", 422,
         "ValidationError"},
        {"{\"name\":\"A\",\"priceCents\":100,\"stock\":1,\"currency\":\"DOLLAR\"}", 422,
         "ValidationError"},
        {"{\"name\":\"A\",\"priceCents\":100,\"stock\":1,\"id\":\"a/b\"}", 422,
         "ValidationError"},
        {"{\"name\":\"A\",\"priceCents\":100,\"stock\":1,\"imageUrl\":\"javascript:x\"}", 422,
         "ValidationError"},
        {"{\"name\":\"A\",\"priceCents\":100,\"stock\":1,\"imageUrl\":\"//evil\"}", 422,
         "ValidationError"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *e = ev("POST /products", ADMIN);
        if (cases[i].body)
            ev_body(e, cases[i].body);
        reply r = invoke(&products, e);
        cr_assert_eq(r.status, cases[i].status, "case %zu (%s): %d %s", i,
                     cases[i].body ? cases[i].body : "(no body)", r.status, r.code);
        cr_assert_not_null(r.code, "case %zu: no error code", i);
        if (cases[i].code)
            cr_assert_str_eq(r.code, cases[i].code, "case %zu", i);
    }
    /* a 200-character name is fine, 201 is not */
    char body[512], name[210];
    memset(name, 'n', 201);
    name[201] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"priceCents\":1,\"stock\":1}", name);
    expect(invoke(&products, ev_body(ev("POST /products", ADMIN), body)), 422, "ValidationError",
           "name 201");
    name[200] = '\0';
    snprintf(body, sizeof body, "{\"id\":\"long\",\"name\":\"%s\",\"priceCents\":1,\"stock\":1}",
             name);
    expect(invoke(&products, ev_body(ev("POST /products", ADMIN), body)), 201, NULL, "name 200");

    /* over the 16 KiB every route accepts */
    char *huge = malloc(20000);
    cr_assert_not_null(huge);
    int used = snprintf(huge, 20000, "{\"name\":\"A\",\"priceCents\":1,\"stock\":1,"
                                     "\"description\":\"");
    memset(huge + used, 'd', 17000);
    snprintf(huge + used + 17000, 20000 - used - 17000, "\"}");
    reply r = invoke(&products, ev_body(ev("POST /products", ADMIN), huge));
    free(huge);
    expect(r, 413, "PayloadTooLarge", "17 kB body");

    r = invoke(&products, ev("GET /products", NULL, NULL));
    cr_assert_eq(cJSON_GetArraySize(items(r)), 1, "only the valid product was written");
    r = invoke(&products, ev_body(ev("POST /products", ADMIN),
                                  "{\"id\":\"eur\",\"name\":\"Euro\",\"priceCents\":1,\"stock\":0,"
                                  "\"currency\":\"EUR\",\"imageUrl\":null,"
                                  "\"description\":\"two\\nlines\"}"));
    expect(r, 201, NULL, "EUR, null image, multi-line description");
    cr_assert_str_eq(str(r.body, "currency"), "EUR");
    cr_assert_str_eq(str(r.body, "description"), "two\nlines");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.body, "imageUrl")));
    create_product("dup", 1, 1);
    expect(invoke(&products, ev_body(ev("POST /products", ADMIN),
                                     "{\"id\":\"dup\",\"name\":\"Again\",\"priceCents\":2,"
                                     "\"stock\":2}")),
           409, "ProductExists", "duplicate id");
    r = get_product("dup");
    cr_assert_str_eq(str(r.body, "name"), "Product dup", "the first product is unchanged");
}

Test(handlers, products_update_changes_only_given_fields)
{
    create_product("p-a", 1999, 5);
    reply r = invoke(&products, ev_path(ev_body(ev("PATCH /products/{id}", ADMIN),
                                                "{\"priceCents\":2500,\"stock\":7,"
                                                "\"imageUrl\":\"https://cdn.example/a.png\"}"),
                                        "id", "p-a"));
    expect(r, 200, NULL, "patch");
    cr_assert_eq(num(r.body, "priceCents"), 2500);
    cr_assert_eq(num(r.body, "stock"), 7);
    cr_assert_str_eq(str(r.body, "imageUrl"), "https://cdn.example/a.png");
    cr_assert_str_eq(str(r.body, "name"), "Product p-a");
    cr_assert_str_eq(str(r.body, "description"), "About p-a");
    r = get_product("p-a");
    cr_assert_eq(num(r.body, "priceCents"), 2500, "the change is stored");

    r = invoke(&products, ev_path(ev_body(ev("PATCH /products/{id}", ADMIN),
                                          "{\"imageUrl\":null,\"name\":\"Renamed\"}"),
                                  "id", "p-a"));
    expect(r, 200, NULL, "null imageUrl");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.body, "imageUrl")));
    cr_assert_str_eq(str(r.body, "name"), "Renamed");

    const char *bad[] = {"{}", "{\"id\":\"p-b\"}", "{\"color\":\"red\"}", "{\"priceCents\":0}",
                         "{\"stock\":-1}", "{\"name\":null}", "{\"currency\":\"us\"}", NULL};
    for (size_t i = 0; bad[i]; i++)
        expect(invoke(&products, ev_path(ev_body(ev("PATCH /products/{id}", ADMIN), bad[i]),
                                         "id", "p-a")),
               422, "ValidationError", bad[i]);
    expect(invoke(&products, ev_path(ev_body(ev("PATCH /products/{id}", ADMIN), "nope"), "id",
                                     "p-a")),
           400, "InvalidJson", "not JSON");
    expect(invoke(&products, ev_path(ev_body(ev("PATCH /products/{id}", ADMIN),
                                             "{\"stock\":1}"), "id", "p-none")),
           404, "ProductNotFound", "missing product");
    expect(get_product("p-none"), 404, "ProductNotFound", "PATCH did not create it");
    r = get_product("p-a");
    cr_assert_eq(num(r.body, "stock"), 7, "rejected patches changed nothing");
}

Test(handlers, products_delete)
{
    create_product("p-a", 100, 1);
    reply r = invoke(&products, ev_path(ev("DELETE /products/{id}", ADMIN), "id", "p-a"));
    expect(r, 204, NULL, "delete");
    cr_assert_null(r.body);
    expect(get_product("p-a"), 404, "ProductNotFound", "deleted");
    expect(invoke(&products, ev_path(ev("DELETE /products/{id}", ADMIN), "id", "p-a")), 404,
           "ProductNotFound", "delete again");
    expect(invoke(&products, ev_path(ev("DELETE /products/{id}", ADMIN), "id", "a b")), 400,
           "InvalidParameter", "bad id");
}

Test(handlers, every_handler_refuses_unknown_routes_and_anonymous_users)
{
    fn *all[] = {&products, &cart, &checkout, &orders};
    for (size_t i = 0; i < 4; i++)
        expect(invoke(all[i], ev("GET /nowhere", ALICE)), 404, "NotFound", all[i]->id);
    expect(invoke(&products, ev("PUT /products", ADMIN)), 404, "NotFound", "PUT /products");
    expect(cart_get(NULL), 401, "Unauthorized", "GET /cart");
    expect(cart_add(NULL, "p-a", 1), 401, "Unauthorized", "POST /cart");
    expect(invoke(&cart, ev("DELETE /cart", NULL, NULL)), 401, "Unauthorized", "DELETE /cart");
    expect(invoke(&checkout, ev_body(ev("POST /checkout/start", NULL, NULL), "{}")), 401,
           "Unauthorized", "checkout");
    expect(invoke(&orders, ev("GET /orders", NULL, NULL)), 401, "Unauthorized", "GET /orders");
    expect(invoke(&orders, ev_path(ev("GET /orders/{id}", NULL, NULL), "id", "o-1")), 401,
           "Unauthorized", "GET /orders/{id}");
    /* an empty or oversized sub is no user either */
    expect(cart_get(""), 401, "Unauthorized", "empty sub");
    char big[200];
    memset(big, 'u', 129);
    big[129] = '\0';
    expect(cart_get(big), 401, "Unauthorized", "129-byte sub");
}

/* ======================================================================== */
/* CartFunction                                                              */
/* ======================================================================== */

Test(handlers, cart_starts_empty)
{
    reply r = cart_get("alice-sub");
    expect(r, 200, NULL, "empty cart");
    cr_assert_eq(cJSON_GetArraySize(items(r)), 0);
    cr_assert_eq(num(r.body, "totalCents"), 0);
    cr_assert_str_eq(str(r.body, "currency"), "USD");
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r.body, "mixedCurrencies")));
}

Test(handlers, cart_add_sums_quantities_priced_from_the_table)
{
    create_product("p-a", 1999, 10);
    create_product("p-b", 250, 3);
    reply r = cart_add("alice-sub", "p-a", 2);
    expect(r, 200, NULL, "add 2");
    cr_assert_eq(num(line_of(r, "p-a"), "quantity"), 2);
    r = cart_add("alice-sub", "p-a", 3);
    expect(r, 200, NULL, "add 3 more");
    const cJSON *l = line_of(r, "p-a");
    cr_assert_eq(num(l, "quantity"), 5);
    cr_assert_eq(num(l, "priceCents"), 1999);
    cr_assert_eq(num(l, "lineTotalCents"), 5 * 1999);
    cr_assert_str_eq(str(l, "name"), "Product p-a");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "available")));
    r = cart_add("alice-sub", "p-b", 3);
    expect(r, 200, NULL, "add p-b");
    cr_assert_eq(cJSON_GetArraySize(items(r)), 2);
    cr_assert_eq(num(r.body, "totalCents"), 5 * 1999 + 3 * 250);

    /* the price is the catalog's now, not the one at the time of adding */
    expect(invoke(&products, ev_path(ev_body(ev("PATCH /products/{id}", ADMIN),
                                             "{\"priceCents\":1000,\"stock\":4}"), "id", "p-a")),
           200, NULL, "reprice");
    r = cart_get("alice-sub");
    l = line_of(r, "p-a");
    cr_assert_eq(num(l, "priceCents"), 1000);
    cr_assert_eq(num(r.body, "totalCents"), 5 * 1000 + 3 * 250);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(l, "available")),
              "5 wanted, 4 in stock");
}

Test(handlers, cart_add_validates_and_bounds_quantities)
{
    create_product("p-a", 100, 150);
    create_product("p-few", 100, 2);
    static const struct {
        const char *body;
        int status;
        const char *code;
    } cases[] = {
        {"", 400, "InvalidJson"},
        {"[]", 400, "InvalidJson"},
        {"{\"productId\":\"p-a\"}", 422, "ValidationError"},
        {"{\"quantity\":1}", 422, "ValidationError"},
        {"{\"productId\":\"p-a\",\"quantity\":0}", 422, "ValidationError"},
        {"{\"productId\":\"p-a\",\"quantity\":-1}", 422, "ValidationError"},
        {"{\"productId\":\"p-a\",\"quantity\":100}", 422, "ValidationError"},
        {"{\"productId\":\"p-a\",\"quantity\":1.5}", 422, "ValidationError"},
        {"{\"productId\":\"p-a\",\"quantity\":\"2\"}", 422, "ValidationError"},
        {"{\"productId\":\"p-a\",\"quantity\":null}", 422, "ValidationError"},
        {"{\"productId\":\"p-a\",\"quantity\":1e300}", 422, "ValidationError"},
        {"{\"productId\":\"../x\",\"quantity\":1}", 422, "ValidationError"},
        {"{\"productId\":7,\"quantity\":1}", 422, "ValidationError"},
        {"{\"productId\":\"p-a\",\"quantity\":1,\"priceCents\":1}", 422, "ValidationError"},
        {"{\"productId\":\"p-a\",\"quantity\":1,\"userId\":\"bob-sub\"}", 422,
         "ValidationError"},
        {"{\"productId\":\"p-none\",\"quantity\":1}", 404, "ProductNotFound"},
        {"{\"productId\":\"p-few\",\"quantity\":3}", 409, "InsufficientStock"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        reply r = invoke(&cart, ev_body(ev("POST /cart", ALICE), cases[i].body));
        cr_assert_eq(r.status, cases[i].status, "case %zu (%s): %d %s", i, cases[i].body,
                     r.status, r.code);
        cr_assert(r.code && !strcmp(r.code, cases[i].code), "case %zu: %s", i, r.code);
    }
    reply r = cart_get("alice-sub");
    cr_assert_eq(cJSON_GetArraySize(items(r)), 0, "no refused add wrote a line");

    /* a \u0000 would cut the id short in cJSON: refused as not JSON */
    expect(invoke(&cart, ev_body(ev("POST /cart", ALICE),
                                 "{\"productId\":\"p-a\\u0000x\",\"quantity\":1}")),
           400, "InvalidJson", "escaped NUL");
    /* API Gateway base64-encodes some bodies: decoded first */
    cJSON *e = ev_body(ev("POST /cart", ALICE), "eyJwcm9kdWN0SWQiOiJwLWEiLCJxdWFudGl0eSI6MX0=");
    cJSON_ReplaceItemInObjectCaseSensitive(e, "isBase64Encoded", cJSON_CreateTrue());
    r = invoke(&cart, e);
    expect(r, 200, NULL, "base64 body {\"productId\":\"p-a\",\"quantity\":1}");
    cr_assert_eq(num(line_of(r, "p-a"), "quantity"), 1);
    e = ev_body(ev("POST /cart", ALICE), "eyJwcm9kdWN0SWQi!!!");
    cJSON_ReplaceItemInObjectCaseSensitive(e, "isBase64Encoded", cJSON_CreateTrue());
    expect(invoke(&cart, e), 400, "InvalidJson", "bad base64");
    expect(invoke(&cart, ev("DELETE /cart", ALICE)), 200, NULL, "clear");

    expect(cart_add("alice-sub", "p-a", 99), 200, NULL, "99 is the most");
    expect(cart_add("alice-sub", "p-a", 1), 422, "ValidationError", "99 + 1");
    expect(cart_add("alice-sub", "p-few", 2), 200, NULL, "all the stock");
    expect(cart_add("alice-sub", "p-few", 1), 409, "InsufficientStock", "beyond the stock");
    r = cart_get("alice-sub");
    cr_assert_eq(num(line_of(r, "p-a"), "quantity"), 99);
    cr_assert_eq(num(line_of(r, "p-few"), "quantity"), 2);
}

Test(handlers, cart_patch_sets_a_quantity)
{
    create_product("p-a", 100, 10);
    create_product("p-b", 100, 10);
    expect(cart_add("alice-sub", "p-a", 2), 200, NULL, "add");
    reply r = invoke(&cart, ev_path(ev_body(ev("PATCH /cart/{productId}", ALICE),
                                            "{\"quantity\":7}"), "productId", "p-a"));
    expect(r, 200, NULL, "set 7");
    cr_assert_eq(num(line_of(r, "p-a"), "quantity"), 7, "set, not added");
    cr_assert_eq(num(r.body, "totalCents"), 700);

    expect(invoke(&cart, ev_path(ev_body(ev("PATCH /cart/{productId}", ALICE),
                                         "{\"quantity\":1}"), "productId", "p-b")),
           404, "CartItemNotFound", "not in the cart");
    expect(invoke(&cart, ev_path(ev_body(ev("PATCH /cart/{productId}", ALICE),
                                         "{\"quantity\":1}"), "productId", "p-none")),
           404, "ProductNotFound", "no such product");
    expect(invoke(&cart, ev_path(ev_body(ev("PATCH /cart/{productId}", ALICE),
                                         "{\"quantity\":11}"), "productId", "p-a")),
           409, "InsufficientStock", "beyond stock");
    const char *bad[] = {"{\"quantity\":0}", "{\"quantity\":100}", "{}",
                         "{\"quantity\":1,\"productId\":\"p-b\"}", NULL};
    for (size_t i = 0; bad[i]; i++)
        expect(invoke(&cart, ev_path(ev_body(ev("PATCH /cart/{productId}", ALICE), bad[i]),
                                     "productId", "p-a")),
               422, "ValidationError", bad[i]);
    expect(invoke(&cart, ev_path(ev_body(ev("PATCH /cart/{productId}", ALICE),
                                         "{\"quantity\":1}"), "productId", "a b")),
           400, "InvalidParameter", "bad path id");
    r = cart_get("alice-sub");
    cr_assert_eq(num(line_of(r, "p-a"), "quantity"), 7, "refused patches changed nothing");
    cr_assert_null(line_of(r, "p-b"));
}

Test(handlers, cart_remove_line_and_clear)
{
    create_product("p-a", 100, 10);
    create_product("p-b", 200, 10);
    expect(cart_add("alice-sub", "p-a", 1), 200, NULL, "add a");
    expect(cart_add("alice-sub", "p-b", 2), 200, NULL, "add b");
    reply r = invoke(&cart, ev_path(ev("DELETE /cart/{productId}", ALICE), "productId", "p-a"));
    expect(r, 200, NULL, "remove a");
    cr_assert_eq(cJSON_GetArraySize(items(r)), 1, "the whole cart is answered");
    cr_assert_null(line_of(r, "p-a"));
    cr_assert_eq(num(r.body, "totalCents"), 400);
    expect(invoke(&cart, ev_path(ev("DELETE /cart/{productId}", ALICE), "productId", "p-a")),
           404, "CartItemNotFound", "remove again");
    expect(invoke(&cart, ev_path(ev("DELETE /cart/{productId}", ALICE), "productId", "")), 400,
           "InvalidParameter", "empty id");
    r = invoke(&cart, ev("DELETE /cart", ALICE));
    expect(r, 200, NULL, "clear");
    cr_assert_eq(cJSON_GetArraySize(items(r)), 0);
    cr_assert_eq(num(r.body, "totalCents"), 0);
    r = invoke(&cart, ev("DELETE /cart", ALICE));
    expect(r, 200, NULL, "clear an empty cart");
    expect(cart_get("alice-sub"), 200, NULL, "still readable");
    cr_assert_eq(cJSON_GetArraySize(items(cart_get("alice-sub"))), 0);
}

Test(handlers, cart_of_another_user_is_unreachable)
{
    create_product("p-a", 100, 10);
    expect(cart_add("alice-sub", "p-a", 3), 200, NULL, "alice adds");
    reply r = cart_get("bob-sub");
    expect(r, 200, NULL, "bob's cart");
    cr_assert_eq(cJSON_GetArraySize(items(r)), 0, "bob does not see alice's line");
    expect(invoke(&cart, ev_path(ev_body(ev("PATCH /cart/{productId}", BOB), "{\"quantity\":9}"),
                                 "productId", "p-a")),
           404, "CartItemNotFound", "bob patches");
    expect(invoke(&cart, ev_path(ev("DELETE /cart/{productId}", BOB), "productId", "p-a")), 404,
           "CartItemNotFound", "bob removes");
    expect(invoke(&cart, ev("DELETE /cart", BOB)), 200, NULL, "bob clears his own");
    /* a sub with '#' could step out of USER#<sub>: it is no user at all */
    expect(cart_get("alice-sub#CART#p-a"), 401, "Unauthorized", "sub with #");
    expect(invoke(&cart, ev("DELETE /cart", "alice-sub#", NULL)), 401, "Unauthorized",
           "clear with # sub");
    r = cart_get("alice-sub");
    cr_assert_eq(num(line_of(r, "p-a"), "quantity"), 3, "alice's cart is intact");
}

Test(handlers, cart_shows_a_deleted_product_unpriced)
{
    create_product("p-a", 100, 10);
    create_product("p-b", 300, 10);
    expect(cart_add("alice-sub", "p-a", 2), 200, NULL, "add a");
    expect(cart_add("alice-sub", "p-b", 1), 200, NULL, "add b");
    expect(invoke(&products, ev_path(ev("DELETE /products/{id}", ADMIN), "id", "p-a")), 204,
           NULL, "delete p-a");
    reply r = cart_get("alice-sub");
    expect(r, 200, NULL, "cart");
    const cJSON *l = line_of(r, "p-a");
    cr_assert_not_null(l);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(l, "available")));
    cr_assert_eq(num(l, "priceCents"), 0);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(l, "name")));
    cr_assert_eq(num(r.body, "totalCents"), 300);
}

/* ======================================================================== */
/* CheckoutFunction                                                          */
/* ======================================================================== */

#define ADDRESS "{\"street\":\"1 Main St\",\"city\":\"Springfield\",\"state\":\"IL\"," \
                "\"zipCode\":\"62701\"}"
#define CHECKOUT_BODY "{\"shippingAddress\":" ADDRESS ",\"paymentMethod\":\"card\"}"

static reply checkout_start(const char *user, const char *body, const char *idem_key)
{
    cJSON *e = ev_body(ev("POST /checkout/start", user, NULL), body);
    if (idem_key)
        ev_header(e, "idempotency-key", idem_key);
    return invoke(&checkout, e);
}

static int sfn_calls(void)
{
    pthread_mutex_lock(&sfn.lock);
    int n = sfn.calls;
    pthread_mutex_unlock(&sfn.lock);
    return n;
}

static reply orders_list(const char *user, const char *limit, const char *last)
{
    cJSON *e = ev("GET /orders", user, NULL);
    if (limit)
        ev_query(e, "limit", limit);
    if (last)
        ev_query(e, "lastKey", last);
    return invoke(&orders, e);
}

static reply order_get(const char *user, const char *id)
{
    return invoke(&orders, ev_path(ev("GET /orders/{id}", user, NULL), "id", id));
}

Test(handlers, checkout_validates_the_body_and_the_key)
{
    create_product("p-a", 100, 10);
    expect(cart_add("alice-sub", "p-a", 1), 200, NULL, "add");
    static const struct {
        const char *body;
        int status;
        const char *code;
    } cases[] = {
        {"", 400, "InvalidJson"},
        {"nope", 400, "InvalidJson"},
        {"{}", 422, "ValidationError"},
        {"{\"paymentMethod\":\"card\"}", 422, "ValidationError"},
        {"{\"shippingAddress\":" ADDRESS "}", 422, "ValidationError"},
        {"{\"shippingAddress\":\"1 Main St\",\"paymentMethod\":\"card\"}", 422,
         "ValidationError"},
        {"{\"shippingAddress\":" ADDRESS ",\"paymentMethod\":\"bitcoin\"}", 422,
         "ValidationError"},
        {"{\"shippingAddress\":" ADDRESS ",\"paymentMethod\":\"pm_\"}", 422, "ValidationError"},
        {"{\"shippingAddress\":" ADDRESS ",\"paymentMethod\":\"pm_card visa\"}", 422,
         "ValidationError"},
        {"{\"shippingAddress\":" ADDRESS ",\"paymentMethod\":7}", 422, "ValidationError"},
        {"{\"shippingAddress\":" ADDRESS ",\"paymentMethod\":\"card\",\"totalCents\":1}", 422,
         "ValidationError"},
        {"{\"shippingAddress\":" ADDRESS ",\"paymentMethod\":\"card\",\"items\":[]}", 422,
         "ValidationError"},
        {"{\"shippingAddress\":{\"street\":\"1 Main St\",\"city\":\"S\",\"state\":\"IL\"},"
         "\"paymentMethod\":\"card\"}", 422, "ValidationError"},
        {"{\"shippingAddress\":{\"street\":\"1 Main St\",\"city\":\"S\",\"state\":\"IL\","
         "\"zipCode\":\"6270\"},\"paymentMethod\":\"card\"}", 422, "ValidationError"},
        {"{\"shippingAddress\":{\"street\":\"1 Main St\",\"city\":\"S\",\"state\":\"IL\","
         "\"zipCode\":\"ABCDE\",\"country\":\"US\"},\"paymentMethod\":\"card\"}", 422,
         "ValidationError"},
        {"{\"shippingAddress\":{\"street\":\"1 Main St\",\"city\":\"S\",\"state\":\"IL\","
         "\"zipCode\":\"62701\",\"country\":\"usa\"},\"paymentMethod\":\"card\"}", 422,
         "ValidationError"},
        {"{\"shippingAddress\":{\"street\":\"1 Main St\",\"city\":\"S\",\"state\":\"IL\","
         "\"zipCode\":\"62701\",\"phone\":\"1\"},\"paymentMethod\":\"card\"}", 422,
         "ValidationError"},
        {"{\"shippingAddress\":{\"street\":\"\",\"city\":\"S\",\"state\":\"IL\","
         "\"zipCode\":\"62701\"},\"paymentMethod\":\"card\"}", 422, "ValidationError"},
        {"{\"shippingAddress\":{\"street\":\"1 Main St\",\"city\":\"S\",\"state\":\"IL\","
         "\"zipCode\":\"<script>\",\"country\":\"GB\"},\"paymentMethod\":\"card\"}", 422,
         "ValidationError"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        reply r = checkout_start("alice-sub", cases[i].body, NULL);
        cr_assert_eq(r.status, cases[i].status, "case %zu (%s): %d %s", i, cases[i].body,
                     r.status, r.code);
        cr_assert(r.code && !strcmp(r.code, cases[i].code), "case %zu: %s", i, r.code);
    }
    char long_key[300];
    memset(long_key, 'k', 256);
    long_key[256] = '\0';
    const char *bad_keys[] = {"", "has space", "tab\tkey", "caf\xc3\xa9", long_key, NULL};
    for (size_t i = 0; bad_keys[i]; i++)
        expect(checkout_start("alice-sub", CHECKOUT_BODY, bad_keys[i]), 400,
               "InvalidIdempotencyKey", bad_keys[i]);
    cr_assert_eq(sfn_calls(), 0, "nothing was started");
    expect(orders_list("alice-sub", NULL, NULL), 200, NULL, "orders");
    cr_assert_eq(cJSON_GetArraySize(items(orders_list("alice-sub", NULL, NULL))), 0,
                 "no order was written");
    cr_assert_eq(num(line_of(cart_get("alice-sub"), "p-a"), "quantity"), 1, "cart kept");
}

Test(handlers, checkout_prices_from_the_table_writes_the_order_and_starts_the_saga)
{
    create_product("p-a", 1999, 10);
    create_product("p-b", 250, 10);
    expect(cart_add("alice-sub", "p-a", 2), 200, NULL, "add a");
    expect(cart_add("alice-sub", "p-b", 1), 200, NULL, "add b");
    reply r = checkout_start("alice-sub",
                             "{\"shippingAddress\":{\"name\":\"Alice\",\"street\":\"1 Main St\","
                             "\"city\":\"Springfield\",\"state\":\"IL\",\"zipCode\":\"62701-1234\","
                             "\"country\":\"US\"},\"paymentMethod\":\"card\"}",
                             NULL);
    expect(r, 202, NULL, "checkout");
    char order_id[64];
    snprintf(order_id, sizeof order_id, "%s", str(r.body, "orderId"));
    cr_assert_eq(strlen(order_id), 36);
    cr_assert_str_eq(str(r.body, "status"), "PENDING");
    cr_assert_eq(num(r.body, "totalCents"), 2 * 1999 + 250);
    cr_assert_str_eq(str(r.body, "currency"), "USD");
    const char *arn = str(r.body, "executionArn");
    cr_assert(strstr(arn, order_id), "execution named after the order: %s", arn);
    char location[80];
    snprintf(location, sizeof location, "/orders/%s", order_id);
    cr_assert_str_eq(header(r, "location"), location);

    /* what StartExecution was sent */
    cr_assert_eq(sfn_calls(), 1);
    cr_assert_str_eq(sfn.target, "AWSStepFunctions.StartExecution");
    cr_assert_str_eq(str(sfn.last, "stateMachineArn"), FAKE_MACHINE);
    cr_assert_str_eq(str(sfn.last, "name"), order_id);
    cJSON *in = keep(cJSON_Parse(str(sfn.last, "input")));
    cr_assert_not_null(in);
    cr_assert_str_eq(str(in, "orderId"), order_id);
    cr_assert_str_eq(str(in, "userId"), "alice-sub");
    cr_assert_str_eq(str(in, "email"), "alice-sub@example.com");
    cr_assert_str_eq(str(in, "paymentMethod"), "pm_card_visa", "\"card\" means pm_card_visa");
    cr_assert_eq(num(in, "totalCents"), 4248);
    const cJSON *its = cJSON_GetObjectItemCaseSensitive(in, "items");
    cr_assert_eq(cJSON_GetArraySize(its), 2);
    const cJSON *fns = cJSON_GetObjectItemCaseSensitive(in, "functions");
    cr_assert_str_eq(str(fns, "processPayment"),
                     "arn:aws:lambda:us-east-1:000000000000:function:PROCESS_PAYMENT");
    cr_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(in, "shippingAddress"), "zipCode"),
                     "62701-1234");

    /* the order as stored, and the cart emptied */
    r = order_get("alice-sub", order_id);
    expect(r, 200, NULL, "the order");
    cr_assert_str_eq(str(r.body, "status"), "PENDING");
    cr_assert_str_eq(str(r.body, "executionArn"), arn);
    cr_assert_eq(num(r.body, "totalCents"), 4248);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.body, "failureReason")));
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(r.body, "lines");
    cr_assert_eq(cJSON_GetArraySize(lines), 2);
    const cJSON *l;
    long long sum = 0;
    cJSON_ArrayForEach(l, lines)
    {
        long long unit = num(l, "unitPriceCents"), qty = num(l, "quantity");
        cr_assert_eq(unit, !strcmp(str(l, "productId"), "p-a") ? 1999 : 250);
        cr_assert_eq(num(l, "lineTotalCents"), unit * qty);
        sum += unit * qty;
    }
    cr_assert_eq(sum, 4248);
    cr_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(r.body, "shippingAddress"), "name"),
                     "Alice");
    cr_assert_eq(cJSON_GetArraySize(items(cart_get("alice-sub"))), 0, "the cart is cleared");
    expect(checkout_start("alice-sub", CHECKOUT_BODY, NULL), 409, "CartEmpty", "again");
    cr_assert_eq(sfn_calls(), 1);
}

Test(handlers, checkout_refuses_an_empty_cart_short_stock_and_gone_products)
{
    expect(checkout_start("alice-sub", CHECKOUT_BODY, NULL), 409, "CartEmpty", "empty");
    create_product("p-a", 100, 5);
    create_product("p-b", 100, 5);
    expect(cart_add("alice-sub", "p-a", 3), 200, NULL, "add a");
    expect(invoke(&products, ev_path(ev_body(ev("PATCH /products/{id}", ADMIN), "{\"stock\":2}"),
                                     "id", "p-a")),
           200, NULL, "stock down");
    expect(checkout_start("alice-sub", CHECKOUT_BODY, NULL), 409, "InsufficientStock", "short");
    expect(invoke(&products, ev_path(ev_body(ev("PATCH /products/{id}", ADMIN),
                                             "{\"stock\":3}"), "id", "p-a")),
           200, NULL, "stock back");
    expect(cart_add("alice-sub", "p-b", 1), 200, NULL, "add b");
    expect(invoke(&products, ev_path(ev_body(ev("PATCH /products/{id}", ADMIN),
                                             "{\"currency\":\"EUR\"}"), "id", "p-b")),
           200, NULL, "euro");
    expect(checkout_start("alice-sub", CHECKOUT_BODY, NULL), 409, "MixedCurrencies", "mixed");
    expect(invoke(&products, ev_path(ev("DELETE /products/{id}", ADMIN), "id", "p-b")), 204,
           NULL, "delete b");
    expect(checkout_start("alice-sub", CHECKOUT_BODY, NULL), 409, "ProductUnavailable", "gone");
    cr_assert_eq(sfn_calls(), 0);
    cr_assert_eq(cJSON_GetArraySize(items(orders_list("alice-sub", NULL, NULL))), 0,
                 "no order was written");
    cr_assert_eq(cJSON_GetArraySize(items(cart_get("alice-sub"))), 2, "the cart is kept");
}

Test(handlers, checkout_when_no_state_machine_answers_fails_the_order_and_keeps_the_cart)
{
    create_product("p-a", 700, 5);
    expect(cart_add("alice-sub", "p-a", 2), 200, NULL, "add");
    use_fake_sfn = 0; /* StartExecution goes to the emulator, which has no such machine */
    machine_arn = MISSING_MACHINE;
    reply r = checkout_start("alice-sub", CHECKOUT_BODY, "retry-me");
    expect(r, 503, "ServiceUnavailable", "no state machine");
    cr_assert_eq(sfn_calls(), 0);
    cr_assert_eq(num(line_of(cart_get("alice-sub"), "p-a"), "quantity"), 2, "the cart is kept");
    r = orders_list("alice-sub", NULL, NULL);
    cr_assert_eq(cJSON_GetArraySize(items(r)), 1, "the order was written, then failed");
    const cJSON *o = cJSON_GetArrayItem(items(r), 0);
    cr_assert_str_eq(str(o, "status"), "FAILED");
    cr_assert_str_eq(str(o, "failureReason"), "order processing could not be started");
    cr_assert_eq(num(o, "totalCents"), 1400);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(o, "executionArn"));
    char failed_id[64];
    snprintf(failed_id, sizeof failed_id, "%s", str(o, "id"));

    /* the key was forgotten: the retry, once Step Functions answers, goes through */
    use_fake_sfn = 1;
    machine_arn = FAKE_MACHINE;
    r = checkout_start("alice-sub", CHECKOUT_BODY, "retry-me");
    expect(r, 202, NULL, "retry");
    cr_assert_str_neq(str(r.body, "orderId"), failed_id, "a new order");
    cr_assert_null(header(r, "idempotent-replayed"));
    cr_assert_eq(sfn_calls(), 1);
    cr_assert_eq(cJSON_GetArraySize(items(orders_list("alice-sub", NULL, NULL))), 2);
}

Test(handlers, checkout_idempotency_key_replays_the_first_answer)
{
    create_product("p-a", 100, 5);
    expect(cart_add("alice-sub", "p-a", 1), 200, NULL, "add");
    reply first = checkout_start("alice-sub", CHECKOUT_BODY, "key-1");
    expect(first, 202, NULL, "first");
    /* the same body with other spacing is the same request */
    reply again = checkout_start("alice-sub",
                                 "{ \"shippingAddress\": " ADDRESS ", \"paymentMethod\": \"card\" }",
                                 "key-1");
    expect(again, 202, NULL, "replay");
    cr_assert_str_eq(str(again.body, "orderId"), str(first.body, "orderId"));
    cr_assert_str_eq(str(again.body, "executionArn"), str(first.body, "executionArn"));
    cr_assert_str_eq(header(again, "idempotent-replayed"), "true");
    /* the first answer, headers included (the contract's 202 has location) */
    cr_assert_not_null(header(again, "location"), "the replay lost the location header");
    cr_assert_str_eq(header(again, "location"), header(first, "location"));
    cr_assert_eq(sfn_calls(), 1, "one execution");
    cr_assert_eq(cJSON_GetArraySize(items(orders_list("alice-sub", NULL, NULL))), 1,
                 "one order");
    expect(checkout_start("alice-sub",
                          "{\"shippingAddress\":" ADDRESS ",\"paymentMethod\":\"pm_card_mastercard\"}",
                          "key-1"),
           422, "IdempotencyKeyReused", "other body, same key");
    /* keys are per user */
    expect(checkout_start("bob-sub", CHECKOUT_BODY, "key-1"), 409, "CartEmpty", "bob, same key");
}

/* ======================================================================== */
/* OrdersFunction                                                            */
/* ======================================================================== */

/* Put an order item as CheckoutFunction writes it (docs/DATA-MODEL.md). */
static void put_order(const char *id, const char *user, const char *created_at,
                      const char *index_user)
{
    cJSON *item = model_key("ORDER#", id, "ORDER");
    char gsi1pk[160], gsi1sk[160];
    snprintf(gsi1pk, sizeof gsi1pk, "USER#%s", index_user ? index_user : user);
    snprintf(gsi1sk, sizeof gsi1sk, "ORDER#%s#%s", created_at, id);
    model_put_s(item, "GSI1PK", gsi1pk);
    model_put_s(item, "GSI1SK", gsi1sk);
    model_put_s(item, "entity", "Order");
    model_put_s(item, "id", id);
    model_put_s(item, "userId", user);
    model_put_s(item, "status", "CONFIRMED");
    model_put_n(item, "total", 1500);
    model_put_s(item, "currency", "USD");
    cJSON *line = cJSON_CreateObject();
    model_put_s(line, "productId", "p-a");
    model_put_s(line, "name", "Product p-a");
    model_put_n(line, "quantity", 3);
    model_put_n(line, "unitPriceCents", 500);
    model_put_n(line, "lineTotalCents", 1500);
    cJSON *wrap = cJSON_CreateObject();
    cJSON_AddItemToObject(wrap, "M", line);
    cJSON *l = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(l, "L"), wrap);
    cJSON_AddItemToObject(item, "lines", l);
    model_put_s(item, "createdAt", created_at);
    model_put_s(item, "updatedAt", created_at);
    ddb_put(item);
}

Test(handlers, orders_list_mine_newest_first_paged)
{
    expect(orders_list("alice-sub", NULL, NULL), 200, NULL, "none yet");
    put_order("o-1", "alice-sub", "2026-01-01T10:00:00.000Z", NULL);
    put_order("o-3", "alice-sub", "2026-03-01T10:00:00.000Z", NULL);
    put_order("o-2", "alice-sub", "2026-02-01T10:00:00.000Z", NULL);
    put_order("o-b", "bob-sub", "2026-02-15T10:00:00.000Z", NULL);
    /* an item whose index key says alice but which is not hers is not listed */
    put_order("o-x", "mallory-sub", "2025-12-20T10:00:00.000Z", "alice-sub");
    reply r = orders_list("alice-sub", NULL, NULL);
    expect(r, 200, NULL, "list");
    const cJSON *a = items(r);
    cr_assert_eq(cJSON_GetArraySize(a), 3);
    cr_assert_str_eq(str(cJSON_GetArrayItem(a, 0), "id"), "o-3");
    cr_assert_str_eq(str(cJSON_GetArrayItem(a, 1), "id"), "o-2");
    cr_assert_str_eq(str(cJSON_GetArrayItem(a, 2), "id"), "o-1");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.body, "lastKey")));
    r = orders_list("bob-sub", NULL, NULL);
    cr_assert_eq(cJSON_GetArraySize(items(r)), 1);
    cr_assert_str_eq(str(cJSON_GetArrayItem(items(r), 0), "id"), "o-b");

    r = orders_list("alice-sub", "2", NULL);
    expect(r, 200, NULL, "page 1");
    cr_assert_eq(cJSON_GetArraySize(items(r)), 2);
    cr_assert_str_eq(str(cJSON_GetArrayItem(items(r), 0), "id"), "o-3");
    char cursor[1024];
    snprintf(cursor, sizeof cursor, "%s", str(r.body, "lastKey"));
    r = orders_list("alice-sub", "2", cursor);
    expect(r, 200, NULL, "page 2");
    cr_assert_eq(cJSON_GetArraySize(items(r)), 1, "o-1, and not mallory's o-x");
    cr_assert_str_eq(str(cJSON_GetArrayItem(items(r), 0), "id"), "o-1");

    expect(orders_list("bob-sub", "2", cursor), 400, "InvalidCursor", "alice's cursor for bob");
    cursor[strlen(cursor) / 2] ^= 1;
    expect(orders_list("alice-sub", "2", cursor), 400, "InvalidCursor", "tampered");
    create_product("p-a", 1, 1);
    create_product("p-b", 1, 1);
    r = invoke(&products, ev_query(ev("GET /products", NULL, NULL), "limit", "1"));
    expect(orders_list("alice-sub", NULL, str(r.body, "lastKey")), 400, "InvalidCursor",
           "a products cursor");
    const char *limits[] = {"0", "51", "x", NULL};
    for (size_t i = 0; limits[i]; i++)
        expect(orders_list("alice-sub", limits[i], NULL), 400, "InvalidParameter", limits[i]);
    expect(orders_list("alice-sub", "50", NULL), 200, NULL, "limit 50");
}

Test(handlers, orders_get_mine_and_never_anothers)
{
    put_order("o-1", "alice-sub", "2026-01-01T10:00:00.000Z", NULL);
    reply r = order_get("alice-sub", "o-1");
    expect(r, 200, NULL, "mine");
    cr_assert_str_eq(str(r.body, "id"), "o-1");
    cr_assert_str_eq(str(r.body, "status"), "CONFIRMED");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.body, "failureReason")));
    cr_assert_eq(num(r.body, "totalCents"), 1500);
    cr_assert_str_eq(str(r.body, "currency"), "USD");
    cr_assert_str_eq(str(r.body, "createdAt"), "2026-01-01T10:00:00.000Z");
    cr_assert_str_eq(str(r.body, "updatedAt"), "2026-01-01T10:00:00.000Z");
    const cJSON *l = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.body, "lines"), 0);
    cr_assert_str_eq(str(l, "productId"), "p-a");
    cr_assert_eq(num(l, "quantity"), 3);
    cr_assert_eq(num(l, "unitPriceCents"), 500);
    cr_assert_eq(num(l, "lineTotalCents"), 1500);

    reply theirs = order_get("bob-sub", "o-1");
    reply none = order_get("bob-sub", "o-2");
    expect(theirs, 404, "OrderNotFound", "alice's order for bob");
    expect(none, 404, "OrderNotFound", "no such order");
    /* the same answer as for an order that does not exist, id aside */
    cr_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(theirs.body, "error"), "message"),
                     "no order o-1");
    cr_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(none.body, "error"), "message"),
                     "no order o-2");
    const char *bad[] = {"", "a b", "ORDER#o-1", "../o-1", NULL};
    for (size_t i = 0; bad[i]; i++)
        expect(order_get("alice-sub", bad[i]), 400, "InvalidParameter", bad[i]);
}

Test(handlers, products_image_upload_url)
{
    create_product("p-a", 100, 1);
    const char *route = "POST /products/{id}/image-upload-url";
    expect(invoke(&products, ev_path(ev(route, ALICE), "id", "p-a")), 403, "Forbidden",
           "not admin");
    expect(invoke(&products, ev_path(ev(route, ADMIN), "id", "p-none")), 404, "ProductNotFound",
           "no product");
    const char *bad[] = {"{\"contentType\":\"text/html\"}", "{\"contentType\":\"image/svg+xml\"}",
                         "{\"type\":\"image/png\"}", "{\"contentType\":5}", NULL};
    for (size_t i = 0; bad[i]; i++)
        expect(invoke(&products, ev_path(ev_body(ev(route, ADMIN), bad[i]), "id", "p-a")), 422,
               "ValidationError", bad[i]);
    reply r = invoke(&products, ev_path(ev_body(ev(route, ADMIN), "{\"contentType\":\"image/png\"}"),
                                        "id", "p-a"));
    expect(r, 200, NULL, "png");
    const char *key = str(r.body, "key");
    cr_assert(!strncmp(key, "images/p-a/", 11) && strlen(key) == 11 + 36 + 4 &&
                  !strcmp(key + strlen(key) - 4, ".png"),
              "key %s", key);
    char image_url[256];
    snprintf(image_url, sizeof image_url, "https://d111111abcdef8.cloudfront.net/%s", key);
    cr_assert_str_eq(str(r.body, "imageUrl"), image_url);
    cr_assert_str_eq(str(r.body, "method"), "PUT");
    cr_assert_eq(num(r.body, "expiresIn"), 300);
    cr_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(r.body, "headers"), "content-type"),
                     "image/png");
    const char *url = str(r.body, "uploadUrl");
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s/%s/%s?", aws_url, images_bucket, key);
    cr_assert(!strncmp(url, prefix, strlen(prefix)), "path-style on the endpoint: %s", url);
    cr_assert(strstr(url, "X-Amz-Algorithm=AWS4-HMAC-SHA256"), "%s", url);
    cr_assert(strstr(url, "X-Amz-Expires=300"), "%s", url);
    cr_assert(strstr(url, "X-Amz-Signature="), "%s", url);
    cr_assert(strstr(url, "X-Amz-Credential=AKIDSHOPLOCALTEST%2F"), "%s", url);
    /* no body: a JPEG */
    r = invoke(&products, ev_path(ev(route, ADMIN), "id", "p-a"));
    expect(r, 200, NULL, "default type");
    cr_assert(strstr(str(r.body, "key"), ".jpg"), "%s", str(r.body, "key"));
    images_bucket = NULL;
    expect(invoke(&products, ev_path(ev(route, ADMIN), "id", "p-a")), 503, "ServiceUnavailable",
           "no bucket configured");
}

/* Put product id straight into the table, as POST /products would. */
static void put_product(const char *id, long long price, long long stock)
{
    char body[200];
    snprintf(body, sizeof body, "{\"name\":\"Product %s\",\"priceCents\":%lld,\"stock\":%lld}", id,
             price, stock);
    cJSON *b = cJSON_Parse(body);
    ddb_put(model_product_item(b, id, "2026-01-01T00:00:00.000Z"));
    cJSON_Delete(b);
}

Test(handlers, cart_holds_25_products_and_a_full_cart_checks_out)
{
    char id[16];
    for (int i = 0; i < 26; i++) {
        snprintf(id, sizeof id, "p-%02d", i);
        put_product(id, 100 + i, 10);
    }
    for (int i = 0; i < 25; i++) {
        snprintf(id, sizeof id, "p-%02d", i);
        expect(cart_add("alice-sub", id, 1), 200, NULL, id);
    }
    expect(cart_add("alice-sub", "p-25", 1), 409, "CartFull", "26th product");
    reply r = cart_add("alice-sub", "p-00", 2);
    expect(r, 200, NULL, "more of a product already in the full cart");
    cr_assert_eq(cJSON_GetArraySize(items(r)), 25);
    long long want = 0;
    for (int i = 0; i < 25; i++)
        want += (100 + i) * (i == 0 ? 3 : 1);
    cr_assert_eq(num(r.body, "totalCents"), want);

    /* order + 25 lines + the idempotency record in one transaction */
    r = checkout_start("alice-sub", CHECKOUT_BODY, "full-cart");
    expect(r, 202, NULL, "checkout of a full cart");
    cr_assert_eq(num(r.body, "totalCents"), want);
    r = order_get("alice-sub", str(r.body, "orderId"));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.body, "lines")), 25);
    cr_assert_eq(cJSON_GetArraySize(items(cart_get("alice-sub"))), 0, "cart cleared");
}

static void request_hash(const char *body, char out[65])
{
    cJSON *j = cJSON_Parse(body);
    char *canon = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    unsigned char d[32];
    unsigned int n = 0;
    EVP_Digest(canon, strlen(canon), d, &n, EVP_sha256(), NULL);
    free(canon);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* An IN_PROGRESS idempotency record started two minutes ago for order_id. */
static void put_stale_record(const char *user, const char *key, const char *order_id)
{
    char pk[300], hash[65];
    snprintf(pk, sizeof pk, "%s#%s", user, key);
    request_hash(CHECKOUT_BODY, hash);
    cJSON *rec = model_key("IDEMPOTENCY#", pk, "IDEMPOTENCY");
    model_put_s(rec, "entity", "IdempotencyRecord");
    model_put_s(rec, "userId", user);
    model_put_s(rec, "status", "IN_PROGRESS");
    model_put_s(rec, "requestHash", hash);
    model_put_s(rec, "orderId", order_id);
    model_put_s(rec, "createdAt", "2026-01-01T00:00:00.000Z");
    model_put_n(rec, "startedMs", lambda_epoch_ms() - 120000);
    model_put_n(rec, "ttl", lambda_epoch_ms() / 1000 + 86400);
    ddb_put(rec);
}

Test(handlers, checkout_recovers_an_attempt_that_died)
{
    create_product("p-a", 100, 10);
    expect(cart_add("alice-sub", "p-a", 1), 200, NULL, "add");
    /* a fresh IN_PROGRESS record is a request still running */
    char pk[300], hash[65];
    snprintf(pk, sizeof pk, "alice-sub#running");
    request_hash(CHECKOUT_BODY, hash);
    cJSON *rec = model_key("IDEMPOTENCY#", pk, "IDEMPOTENCY");
    model_put_s(rec, "status", "IN_PROGRESS");
    model_put_s(rec, "requestHash", hash);
    model_put_s(rec, "orderId", "o-running");
    model_put_n(rec, "startedMs", lambda_epoch_ms());
    ddb_put(rec);
    expect(checkout_start("alice-sub", CHECKOUT_BODY, "running"), 409, "RequestInProgress",
           "in progress");

    /* died after its transaction, before StartExecution: the order is failed and
     * this retry starts afresh */
    put_order("o-dead", "alice-sub", "2026-01-01T00:00:00.000Z", NULL);
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "TableName", TABLE);
    cJSON_AddItemToObject(q, "Key", model_key("ORDER#", "o-dead", "ORDER"));
    cJSON_AddStringToObject(q, "UpdateExpression", "SET #s = :p");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(q, "ExpressionAttributeNames"), "#s", "status");
    model_put_s(cJSON_AddObjectToObject(q, "ExpressionAttributeValues"), ":p", "PENDING");
    ddb("UpdateItem", q);
    put_stale_record("alice-sub", "dead", "o-dead");
    reply r = checkout_start("alice-sub", CHECKOUT_BODY, "dead");
    expect(r, 202, NULL, "retry after a dead attempt");
    cr_assert_str_neq(str(r.body, "orderId"), "o-dead");
    cr_assert_eq(sfn_calls(), 1);
    r = order_get("alice-sub", "o-dead");
    cr_assert_str_eq(str(r.body, "status"), "FAILED");
    cr_assert_str_eq(str(r.body, "failureReason"), "checkout did not finish");

    /* died after StartExecution: the answer is rebuilt from the order */
    put_order("o-started", "alice-sub", "2026-01-02T00:00:00.000Z", NULL);
    q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "TableName", TABLE);
    cJSON_AddItemToObject(q, "Key", model_key("ORDER#", "o-started", "ORDER"));
    cJSON_AddStringToObject(q, "UpdateExpression", "SET executionArn = :a");
    model_put_s(cJSON_AddObjectToObject(q, "ExpressionAttributeValues"), ":a",
                "arn:aws:states:us-east-1:000000000000:execution:shoplocal-orders:o-started");
    ddb("UpdateItem", q);
    put_stale_record("alice-sub", "started", "o-started");
    r = checkout_start("alice-sub", CHECKOUT_BODY, "started");
    expect(r, 202, NULL, "retry after a started attempt");
    cr_assert_str_eq(str(r.body, "orderId"), "o-started");
    cr_assert_str_eq(str(r.body, "executionArn"),
                     "arn:aws:states:us-east-1:000000000000:execution:shoplocal-orders:o-started");
    cr_assert_eq(num(r.body, "totalCents"), 1500);
    cr_assert_str_eq(header(r, "idempotent-replayed"), "true");
    cr_assert_eq(sfn_calls(), 1, "no second execution");
    cr_assert_str_eq(header(r, "location"), "/orders/o-started");
    r = checkout_start("alice-sub", CHECKOUT_BODY, "started");
    expect(r, 202, NULL, "and the record is now completed");
    cr_assert_str_eq(str(r.body, "orderId"), "o-started");
    cr_assert_str_eq(header(r, "location"), "/orders/o-started");
}

/* Every log line of the handlers' (after "<level> ") is one JSON object. */
static int log_lines_are_json(void)
{
    int n = 0;
    for (char *line = log_text; *line;) {
        char *end = strchr(line, '\n');
        cr_assert_not_null(end);
        *end = '\0';
        const char *sp = strchr(line, ' ');
        cr_assert_not_null(sp, "%s", line);
        cJSON *j = cJSON_Parse(sp + 1);
        cr_assert(cJSON_IsObject(j), "not a JSON object: %s", line);
        cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "event")), "%s", line);
        cJSON_Delete(j);
        *end = '\n';
        line = end + 1;
        n++;
    }
    return n;
}

Test(handlers, logs_are_structured_and_carry_no_credentials)
{
    log_level = "INFO";
    const char *jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbi0xIn0.c2lnbmF0dXJlLXNlY3JldA";
    char bearer[200];
    snprintf(bearer, sizeof bearer, "Bearer %s", jwt);
    reply r = invoke(&products, ev_header(ev_body(ev("POST /products", ADMIN),
                                                  "{\"id\":\"p-a\",\"name\":\"A\",\"priceCents\":100,"
                                                  "\"stock\":5}"),
                                          "authorization", bearer));
    expect(r, 201, NULL, "create");
    cr_assert(strstr(log_text, "INFO "), "%s", log_text);
    cr_assert(strstr(log_text, "\"event\":\"product.created\""), "%s", log_text);
    cr_assert(strstr(log_text, "\"route\":\"POST /products\""), "%s", log_text);
    cr_assert(strstr(log_text, "\"status\":201"), "%s", log_text);
    cr_assert(strstr(log_text, "\"user\":\"admin-1\""), "%s", log_text);

    expect(cart_add("alice-sub", "p-a", 1), 200, NULL, "add");
    use_fake_sfn = 0;
    machine_arn = MISSING_MACHINE;
    cJSON *e = ev_body(ev("POST /checkout/start", ALICE), CHECKOUT_BODY);
    ev_header(e, "authorization", bearer);
    ev_header(e, "idempotency-key", "secret-idem-key-123");
    expect(invoke(&checkout, e), 503, "ServiceUnavailable", "no machine");
    cr_assert(strstr(log_text, "ERROR "), "a 503 is logged at ERROR: %s", log_text);
    cr_assert(strstr(log_text, "\"event\":\"checkout.start_failed\""), "%s", log_text);
    cr_assert(strstr(log_text, "\"status\":503"), "%s", log_text);

    cr_assert_null(strstr(log_text, jwt), "a token reached the log: %s", log_text);
    cr_assert_null(strstr(log_text, "c2lnbmF0dXJlLXNlY3JldA"), "%s", log_text);
    cr_assert_null(strstr(log_text, "secret-idem-key-123"), "the key reached the log");
    cr_assert_null(strstr(log_text, "shoplocal-test-secret"), "the AWS secret reached the log");
    cr_assert_null(strstr(log_text, "1 Main St"), "the address reached the log");
    cr_assert_geq(log_lines_are_json(), 4, "%s", log_text);
}

/* A loopback URL on which nothing listens: a port the kernel gave us, closed. */
static void closed_port_url(char *out, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t n = sizeof a;
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &n), 0);
    close(fd);
    snprintf(out, len, "http://127.0.0.1:%d", ntohs(a.sin_port));
}

Test(handlers, a_missing_dependency_is_a_503_never_a_500)
{
    create_product("p-a", 100, 5);
    expect(cart_add("alice-sub", "p-a", 1), 200, NULL, "add");

    /* STATE_MACHINE_ARN unset: nothing is started, the order is failed */
    machine_arn = NULL;
    expect(checkout_start("alice-sub", CHECKOUT_BODY, NULL), 503, "ServiceUnavailable",
           "no STATE_MACHINE_ARN");
    cr_assert_eq(sfn_calls(), 0);
    reply r = orders_list("alice-sub", NULL, NULL);
    cr_assert_str_eq(str(cJSON_GetArrayItem(items(r), 0), "status"), "FAILED");
    machine_arn = FAKE_MACHINE;

    /* TABLE_NAME unset: 503 on every route, after the 401 */
    no_table = 1;
    expect(invoke(&products, ev("GET /products", NULL, NULL)), 503, "ServiceUnavailable",
           "products without a table");
    expect(cart_get("alice-sub"), 503, "ServiceUnavailable", "cart without a table");
    expect(cart_get(NULL), 401, "Unauthorized", "anonymous, without a table");
    expect(checkout_start("alice-sub", CHECKOUT_BODY, NULL), 503, "ServiceUnavailable",
           "checkout without a table");
    expect(orders_list("alice-sub", NULL, NULL), 503, "ServiceUnavailable",
           "orders without a table");
    no_table = 0;

    /* DynamoDB unreachable (after the client's bounded retries) */
    char down[64];
    closed_port_url(down, sizeof down);
    endpoint = down;
    expect(invoke(&products, ev("GET /products", NULL, NULL)), 503, "ServiceUnavailable",
           "list");
    expect(get_product("p-a"), 503, "ServiceUnavailable", "get");
    expect(cart_add("alice-sub", "p-a", 1), 503, "ServiceUnavailable", "cart add");
    expect(checkout_start("alice-sub", CHECKOUT_BODY, NULL), 503, "ServiceUnavailable",
           "checkout");
    expect(order_get("alice-sub", "o-1"), 503, "ServiceUnavailable", "order");
    /* validation still comes first */
    expect(cart_add("alice-sub", "p-a", 0), 422, "ValidationError", "bad body, table down");
    endpoint = NULL;
    cr_assert_eq(num(line_of(cart_get("alice-sub"), "p-a"), "quantity"), 1, "nothing changed");
}
