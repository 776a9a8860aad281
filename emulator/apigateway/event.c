/*
 * event.c — builds the payload format 2.0 event. See event.h for every rule
 * and its source. The builder only reads its input; it never touches a
 * socket, so tests describe a request with plain structs.
 */
#include "apigateway/event.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apigateway/util.h"
#include "core/codec.h"
#include "core/template.h"

/* ---- header list ------------------------------------------------------------ */

int apigw_header_list_add(apigw_header_list *list, const char *name, const char *value)
{
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        apigw_header_pair *items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return -1;
        list->items = items;
        list->cap = cap;
    }
    char *n = strdup(name), *v = strdup(value ? value : "");
    if (!n || !v) {
        free(n);
        free(v);
        return -1;
    }
    list->items[list->n].name = n;
    list->items[list->n].value = v;
    list->n++;
    return 0;
}

typedef struct collect_ctx {
    apigw_header_list *list;
    int failed;
} collect_ctx;

static void collect(const char *name, const char *value, void *ctx)
{
    collect_ctx *c = ctx;
    if (apigw_header_list_add(c->list, name, value) != 0)
        c->failed = 1;
}

int apigw_header_list_from_request(apigw_header_list *list, const core_http_request *req)
{
    collect_ctx c = {list, 0};
    core_http_header_each(req, collect, &c);
    return c.failed ? -1 : 0;
}

void apigw_header_list_release(apigw_header_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        free((char *)list->items[i].name);
        free((char *)list->items[i].value);
    }
    free(list->items);
    memset(list, 0, sizeof *list);
}

/* ---- pieces ----------------------------------------------------------------- */

/* Append value to obj[key], joining repeats with ",". */
static void add_joined(cJSON *obj, const char *key, const char *value)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!old) {
        cJSON_AddStringToObject(obj, key, value);
        return;
    }
    size_t a = strlen(old->valuestring), b = strlen(value);
    char *joined = malloc(a + b + 2);
    if (!joined)
        return;
    memcpy(joined, old->valuestring, a);
    joined[a] = ',';
    memcpy(joined + a + 1, value, b + 1);
    cJSON_ReplaceItemInObjectCaseSensitive(obj, key, cJSON_CreateString(joined));
    free(joined);
}

static char *lower_copy(const char *s)
{
    char *out = strdup(s);
    for (char *c = out; c && *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return out;
}

static void split_cookies(cJSON *cookies, const char *value)
{
    const char *p = value;
    while (*p) {
        const char *sep = strstr(p, "; ");
        size_t n = sep ? (size_t)(sep - p) : strlen(p);
        if (n > 0) {
            char *one = strndup(p, n);
            if (one)
                cJSON_AddItemToArray(cookies, cJSON_CreateString(one));
            free(one);
        }
        if (!sep)
            break;
        p = sep + 2;
    }
}

/* Decode a query component; kept as sent when the escape is malformed or the
 * result is not UTF-8. */
static char *query_decode(const char *text, size_t len)
{
    size_t n;
    char *d = core_url_decode(text, len, 1, &n);
    if (d && core_utf8_valid((const unsigned char *)d, n))
        return d;
    free(d);
    return strndup(text, len);
}

static cJSON *query_parameters(const char *raw)
{
    if (!raw || !*raw)
        return NULL;
    cJSON *q = cJSON_CreateObject();
    const char *p = raw;
    while (q) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > 0) {
            const char *eq = memchr(p, '=', n);
            size_t kn = eq ? (size_t)(eq - p) : n;
            char *k = query_decode(p, kn);
            char *v = eq ? query_decode(eq + 1, n - kn - 1) : strdup("");
            if (k && v && *k)
                add_joined(q, k, v);
            free(k);
            free(v);
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    if (q && !q->child) {
        cJSON_Delete(q);
        return NULL;
    }
    return q;
}

/* Text types per ministack#766 (text/ anything and three application types); parameters (";charset=...") ignored. */
static int is_text_type(const char *content_type)
{
    if (!content_type)
        return 0;
    while (*content_type == ' ')
        content_type++;
    size_t n = strcspn(content_type, "; ");
    static const char *const exact[] = {"application/json", "application/xml",
                                        "application/javascript"};
    if (n >= 5 && !strncasecmp(content_type, "text/", 5))
        return 1;
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
        if (n == strlen(exact[i]) && !strncasecmp(content_type, exact[i], n))
            return 1;
    return 0;
}

static void format_number(double d, char *buf, size_t cap)
{
    if (d == floor(d) && fabs(d) < 1e15)
        snprintf(buf, cap, "%.0f", d);
    else
        snprintf(buf, cap, "%.17g", d);
}

char *apigw_claim_string(const cJSON *v)
{
    char buf[64];
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (cJSON_IsString(v))
        return strdup(v->valuestring);
    if (cJSON_IsBool(v))
        return strdup(cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNumber(v)) {
        format_number(v->valuedouble, buf, sizeof buf);
        return strdup(buf);
    }
    if (cJSON_IsArray(v)) {
        size_t cap = 64, len = 1;
        char *out = malloc(cap);
        if (!out)
            return NULL;
        out[0] = '[';
        int first = 1;
        for (const cJSON *e = v->child; e; e = e->next) {
            char *s = apigw_claim_string(e);
            if (!s)
                continue;
            size_t sl = strlen(s);
            if (len + sl + 3 > cap) {
                while (len + sl + 3 > cap)
                    cap *= 2;
                char *grown = realloc(out, cap);
                if (!grown) {
                    free(s);
                    free(out);
                    return NULL;
                }
                out = grown;
            }
            if (!first)
                out[len++] = ' ';
            memcpy(out + len, s, sl);
            len += sl;
            first = 0;
            free(s);
        }
        out[len++] = ']';
        out[len] = '\0';
        return out;
    }
    return cJSON_PrintUnformatted(v);
}

static void add_authorizer(cJSON *ctx, const apigw_event_input *in)
{
    if (!in->jwt_claims)
        return;
    cJSON *jwt = cJSON_AddObjectToObject(cJSON_AddObjectToObject(ctx, "authorizer"), "jwt");
    cJSON *claims = cJSON_AddObjectToObject(jwt, "claims");
    for (const cJSON *c = in->jwt_claims->child; c && claims; c = c->next) {
        char *s = apigw_claim_string(c);
        if (s)
            cJSON_AddStringToObject(claims, c->string, s);
        free(s);
    }
    if (in->jwt_scopes)
        cJSON_AddItemToObject(jwt, "scopes", cJSON_Duplicate(in->jwt_scopes, 1));
}

static void format_time(int64_t epoch_ms, char *buf, size_t cap)
{
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t secs = (time_t)(epoch_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, cap, "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday, months[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- the event -------------------------------------------------------------- */

cJSON *apigw_event_build(const apigw_event_input *in)
{
    cJSON *ev = cJSON_CreateObject();
    if (!ev)
        return NULL;
    cJSON_AddStringToObject(ev, "version", "2.0");
    cJSON_AddStringToObject(ev, "routeKey", in->route_key ? in->route_key : "$default");
    cJSON_AddStringToObject(ev, "rawPath", in->raw_path ? in->raw_path : "/");
    cJSON_AddStringToObject(ev, "rawQueryString", in->raw_query ? in->raw_query : "");

    cJSON *cookies = cJSON_CreateArray();
    cJSON *headers = cJSON_CreateObject();
    const char *content_type = NULL, *user_agent = NULL, *host = NULL;
    for (size_t i = 0; i < in->n_headers; i++) {
        const apigw_header_pair *h = &in->headers[i];
        if (!strcasecmp(h->name, "cookie")) {
            split_cookies(cookies, h->value);
            continue;
        }
        char *name = lower_copy(h->name);
        if (name)
            add_joined(headers, name, h->value);
        free(name);
    }
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(headers, "content-type");
    const cJSON *ua = cJSON_GetObjectItemCaseSensitive(headers, "user-agent");
    const cJSON *ho = cJSON_GetObjectItemCaseSensitive(headers, "host");
    content_type = ct ? ct->valuestring : NULL;
    user_agent = ua ? ua->valuestring : "";
    host = ho ? ho->valuestring : NULL;
    if (cJSON_GetArraySize(cookies) > 0)
        cJSON_AddItemToObject(ev, "cookies", cookies);
    else
        cJSON_Delete(cookies);
    cJSON_AddItemToObject(ev, "headers", headers);
    cJSON *query = query_parameters(in->raw_query);
    if (query)
        cJSON_AddItemToObject(ev, "queryStringParameters", query);

    char domain[256];
    if (in->domain_name)
        snprintf(domain, sizeof domain, "%s", in->domain_name);
    else if (host)
        snprintf(domain, sizeof domain, "%.*s", (int)strcspn(host, ":"), host);
    else
        snprintf(domain, sizeof domain, "localhost");
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%.*s", (int)strcspn(domain, "."), domain);
    char when[64];
    format_time(in->epoch_ms, when, sizeof when);

    cJSON *ctx = cJSON_AddObjectToObject(ev, "requestContext");
    cJSON_AddStringToObject(ctx, "accountId", CORE_ACCOUNT_ID);
    cJSON_AddStringToObject(ctx, "apiId", in->api_id ? in->api_id : "");
    add_authorizer(ctx, in);
    cJSON_AddStringToObject(ctx, "domainName", domain);
    cJSON_AddStringToObject(ctx, "domainPrefix", prefix);
    cJSON *http = cJSON_AddObjectToObject(ctx, "http");
    cJSON_AddStringToObject(http, "method", in->method ? in->method : "GET");
    cJSON_AddStringToObject(http, "path", in->raw_path ? in->raw_path : "/");
    cJSON_AddStringToObject(http, "protocol", "HTTP/1.1");
    cJSON_AddStringToObject(http, "sourceIp", in->source_ip ? in->source_ip : "127.0.0.1");
    cJSON_AddStringToObject(http, "userAgent", user_agent);
    cJSON_AddStringToObject(ctx, "requestId", in->request_id ? in->request_id : "");
    cJSON_AddStringToObject(ctx, "routeKey", in->route_key ? in->route_key : "$default");
    cJSON_AddStringToObject(ctx, "stage", in->stage ? in->stage : "$default");
    cJSON_AddStringToObject(ctx, "time", when);
    cJSON_AddNumberToObject(ctx, "timeEpoch", (double)in->epoch_ms);

    int base64 = 0;
    if (in->body && in->body_len > 0) {
        base64 = !is_text_type(content_type) || !core_utf8_valid(in->body, in->body_len) ||
                 memchr(in->body, '\0', in->body_len) != NULL;
        char *text = base64 ? apigw_base64_encode(in->body, in->body_len)
                            : strndup((const char *)in->body, in->body_len);
        if (text)
            cJSON_AddStringToObject(ev, "body", text);
        free(text);
    }
    cJSON *path_params = apigw_params_json(in->path_params);
    if (path_params)
        cJSON_AddItemToObject(ev, "pathParameters", path_params);
    cJSON_AddBoolToObject(ev, "isBase64Encoded", base64);
    return ev;
}
