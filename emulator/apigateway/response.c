/*
 * response.c — payload format 2.0 response mapping and API Gateway's own
 * answers. See response.h for the rules and their sources.
 *
 * The answer is built in a scratch response and moved into the caller's only
 * when the whole result validated, so a result that fails halfway (a bad
 * cookie after good headers) leaves no half-mapped headers behind the 500.
 */
#include "apigateway/response.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "apigateway/util.h"

static const struct {
    int status;
    const char *message;
} answers[] = {
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {413, "Request Entity Too Large"},
    {429, "Too Many Requests"},
    {500, "Internal Server Error"},
    {503, "Service Unavailable"},
};

const char *apigw_answer_message(int status)
{
    for (size_t i = 0; i < sizeof answers / sizeof *answers; i++)
        if (answers[i].status == status)
            return answers[i].message;
    return NULL;
}

void apigw_answer(core_http_response *resp, int status, const char *request_id)
{
    const char *message = apigw_answer_message(status);
    if (!message) {
        status = 500;
        message = apigw_answer_message(500);
    }
    core_http_response_release(resp);
    char body[96];
    int n = snprintf(body, sizeof body, "{\"message\":\"%s\"}", message);
    core_http_response_body(resp, status, NULL, body, (size_t)n);
    core_http_response_header(resp, "content-type", "application/json", 0);
    if (request_id)
        core_http_response_header(resp, "apigw-requestid", request_id, 0);
}

/* Headers the listener owns: a function cannot set them. */
static int hop_by_hop(const char *name)
{
    static const char *const owned[] = {"content-length", "transfer-encoding", "connection"};
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
        if (!strcasecmp(name, owned[i]))
            return 1;
    return 0;
}

/* A header value as API Gateway sends it: strings as they are, numbers and
 * booleans stringified. 0 for anything else. */
static int header_text(const cJSON *v, char *buf, size_t cap, const char **out)
{
    if (cJSON_IsString(v)) {
        *out = v->valuestring;
        return 1;
    }
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v) ? "true" : "false";
        return 1;
    }
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 1e15)
            snprintf(buf, cap, "%.0f", d);
        else
            snprintf(buf, cap, "%.17g", d);
        *out = buf;
        return 1;
    }
    return 0;
}

static int map_structured(const cJSON *root, core_http_response *out)
{
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "statusCode");
    if (!cJSON_IsNumber(status) || status->valuedouble != floor(status->valuedouble) ||
        status->valuedouble < 100 || status->valuedouble > 599)
        return -1;
    const cJSON *headers = cJSON_GetObjectItemCaseSensitive(root, "headers");
    const cJSON *cookies = cJSON_GetObjectItemCaseSensitive(root, "cookies");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(root, "body");
    const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(root, "isBase64Encoded");
    if (headers && !cJSON_IsNull(headers) && !cJSON_IsObject(headers))
        return -1;
    if (cookies && !cJSON_IsNull(cookies) && !cJSON_IsArray(cookies))
        return -1;
    if (body && !cJSON_IsNull(body) && !cJSON_IsString(body))
        return -1;
    if (b64 && !cJSON_IsNull(b64) && !cJSON_IsBool(b64))
        return -1;

    for (const cJSON *h = cJSON_IsObject(headers) ? headers->child : NULL; h; h = h->next) {
        char buf[64];
        const char *text;
        if (!header_text(h, buf, sizeof buf, &text))
            return -1;
        if (!hop_by_hop(h->string))
            core_http_response_header(out, h->string, text, 0);
    }
    for (const cJSON *c = cJSON_IsArray(cookies) ? cookies->child : NULL; c; c = c->next) {
        if (!cJSON_IsString(c))
            return -1;
        core_http_response_header(out, "set-cookie", c->valuestring, 1);
    }
    const char *text = cJSON_IsString(body) ? body->valuestring : "";
    if (cJSON_IsTrue(b64)) {
        size_t n;
        unsigned char *raw = apigw_base64_decode(text, strlen(text), &n);
        if (!raw)
            return -1;
        core_http_response_body(out, (int)status->valuedouble, NULL, (const char *)raw, n);
        free(raw);
    } else {
        core_http_response_body(out, (int)status->valuedouble, NULL, text, strlen(text));
    }
    return (out->body || out->body_len == 0) ? 0 : -1;
}

int apigw_response_map(const char *payload, size_t len, const char *request_id,
                       core_http_response *resp)
{
    core_http_response out;
    memset(&out, 0, sizeof out);
    const char *end = NULL;
    cJSON *root = payload ? cJSON_ParseWithLengthOpts(payload, len, &end, 0) : NULL;
    /* cJSON's own require_null_terminated cannot work with a length; check
     * that only whitespace follows the value. */
    while (root && end < payload + len && strchr(" \t\r\n", *end) && *end)
        end++;
    if (root && end != payload + len) {
        cJSON_Delete(root);
        root = NULL;
    }
    int rc = -1;
    if (root && cJSON_IsObject(root) && cJSON_GetObjectItemCaseSensitive(root, "statusCode")) {
        rc = map_structured(root, &out);
    } else if (root) {
        /* Valid JSON without statusCode: 200, application/json, the JSON as
         * the body — a bare string as its text. */
        if (cJSON_IsString(root))
            core_http_response_body(&out, 200, NULL, root->valuestring,
                                    strlen(root->valuestring));
        else
            core_http_response_body(&out, 200, NULL, payload, len);
        core_http_response_header(&out, "content-type", "application/json", 0);
        rc = 0;
    }
    cJSON_Delete(root);
    if (rc != 0) {
        core_http_response_release(&out);
        apigw_answer(resp, 500, request_id);
        return -1;
    }
    if (request_id)
        core_http_response_header(&out, "apigw-requestid", request_id, 0);
    core_http_response_release(resp);
    *resp = out;
    return 0;
}
