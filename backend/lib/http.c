/*
 * http.c — reading API Gateway payload 2.0 events and shaping format 2.0
 * answers. See http.h.
 */
#include "lib/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

cJSON *http_json(int status, cJSON *body)
{
    cJSON *r = cJSON_CreateObject();
    if (!r) {
        cJSON_Delete(body);
        return NULL;
    }
    cJSON_AddNumberToObject(r, "statusCode", status);
    cJSON *h = cJSON_AddObjectToObject(r, "headers");
    cJSON_AddStringToObject(h, "content-type", "application/json");
    cJSON_AddStringToObject(h, "cache-control", "no-store");
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    cJSON_AddStringToObject(r, "body", text ? text : "{}");
    free(text);
    return r;
}

cJSON *http_empty(int status)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "statusCode", status);
    cJSON *h = cJSON_AddObjectToObject(r, "headers");
    cJSON_AddStringToObject(h, "cache-control", "no-store");
    cJSON_AddStringToObject(r, "body", "");
    return r;
}

cJSON *http_error(int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    return http_json(status, o);
}

void http_set_header(cJSON *response, const char *name, const char *value)
{
    cJSON *h = cJSON_GetObjectItemCaseSensitive(response, "headers");
    if (!cJSON_IsObject(h))
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(h, name);
    cJSON_AddStringToObject(h, name, value);
}

static const char *string_at(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *http_route_key(const cJSON *event)
{
    const char *r = string_at(event, "routeKey");
    return r ? r : "";
}

const char *http_header(const cJSON *event, const char *name)
{
    return string_at(cJSON_GetObjectItemCaseSensitive(event, "headers"), name);
}

const char *http_path_param(const cJSON *event, const char *name)
{
    return string_at(cJSON_GetObjectItemCaseSensitive(event, "pathParameters"), name);
}

const char *http_query_param(const cJSON *event, const char *name)
{
    return string_at(cJSON_GetObjectItemCaseSensitive(event, "queryStringParameters"), name);
}

/* Nonzero when JSON text holds a \u0000 escape in a string: cJSON would cut
 * the string there, so "p-1\u0000x" would silently be read as "p-1". */
static int has_escaped_nul(const char *text, size_t len)
{
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '"')
            in_string = !in_string;
        else if (in_string && text[i] == '\\' && i + 1 < len) {
            if (text[i + 1] == 'u' && i + 5 < len && !strncmp(text + i + 2, "0000", 4))
                return 1;
            i++; /* skip the escaped character (\" does not end the string) */
        }
    }
    return 0;
}

cJSON *http_body_object(const cJSON *event, size_t max_len, cJSON **error_response)
{
    *error_response = NULL;
    const char *body = string_at(event, "body");
    if (!body || !*body) {
        *error_response = http_error(400, "InvalidJson", "the request needs a JSON object body");
        return NULL;
    }
    size_t len = strlen(body);
    char *decoded = NULL;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(event, "isBase64Encoded"))) {
        /* a decoded body is 3/4 of its text: refuse early before decoding */
        if (len / 4 * 3 > max_len + 3 || len % 4) {
            *error_response = len % 4 ? http_error(400, "InvalidJson", "the body is not valid base64")
                                      : http_error(413, "PayloadTooLarge",
                                                   "the body is larger than %zu bytes", max_len);
            return NULL;
        }
        decoded = malloc(len / 4 * 3 + 1);
        int n = decoded ? EVP_DecodeBlock((unsigned char *)decoded, (const unsigned char *)body,
                                          (int)len) : -1;
        if (n < 0) {
            free(decoded);
            *error_response = http_error(400, "InvalidJson", "the body is not valid base64");
            return NULL;
        }
        /* EVP_DecodeBlock counts padding as zero bytes */
        if (len >= 1 && body[len - 1] == '=')
            n--;
        if (len >= 2 && body[len - 2] == '=')
            n--;
        decoded[n] = '\0';
        body = decoded;
        len = (size_t)n;
    }
    if (len > max_len) {
        free(decoded);
        *error_response = http_error(413, "PayloadTooLarge", "the body is larger than %zu bytes",
                                     max_len);
        return NULL;
    }
    if (memchr(body, '\0', len) || strlen(body) != len || has_escaped_nul(body, len)) {
        free(decoded);
        *error_response = http_error(400, "InvalidJson", "the body is not valid JSON");
        return NULL;
    }
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    /* only whitespace may follow the value */
    while (o && end && (size_t)(end - body) < len && isspace((unsigned char)*end))
        end++;
    int trailing = o && end && (size_t)(end - body) < len;
    free(decoded);
    if (!o || trailing) {
        cJSON_Delete(o);
        *error_response = http_error(400, "InvalidJson", "the body is not valid JSON");
        return NULL;
    }
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        *error_response = http_error(400, "InvalidJson", "the body must be a JSON object");
        return NULL;
    }
    return o;
}

const cJSON *http_claims(const cJSON *event)
{
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(event, "requestContext");
    const cJSON *auth = cJSON_GetObjectItemCaseSensitive(rc, "authorizer");
    const cJSON *jwt = cJSON_GetObjectItemCaseSensitive(auth, "jwt");
    const cJSON *claims = cJSON_GetObjectItemCaseSensitive(jwt, "claims");
    return cJSON_IsObject(claims) ? claims : NULL;
}

const char *http_claim(const cJSON *event, const char *name)
{
    return string_at(http_claims(event), name);
}

const char *http_user_id(const cJSON *event)
{
    const char *sub = http_claim(event, "sub");
    if (!sub || !*sub || strlen(sub) > 128)
        return NULL;
    for (const char *p = sub; *p; p++)
        if ((unsigned char)*p < 0x21 || *p == '#' || (unsigned char)*p >= 0x7f)
            return NULL; /* '#' would break out of the key's USER#<sub> namespace */
    return sub;
}

int http_claims_in_group(const cJSON *event, const char *group)
{
    const char *g = http_claim(event, "cognito:groups");
    size_t want = group ? strlen(group) : 0;
    if (!g || !want)
        return 0;
    const char *p = g;
    while (*p) {
        /* separators of both forms: "[a b]" and "[\"a\",\"b\"]" */
        while (*p && (*p == '[' || *p == ']' || *p == ' ' || *p == ',' || *p == '"'))
            p++;
        const char *start = p;
        while (*p && *p != ']' && *p != ' ' && *p != ',' && *p != '"')
            p++;
        if ((size_t)(p - start) == want && !memcmp(start, group, want))
            return 1;
    }
    return 0;
}

int http_query_int(const cJSON *event, const char *name, long long min, long long max,
                   long long dflt, long long *out)
{
    const char *v = http_query_param(event, name);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!*v || strlen(v) > 19)
        return -1;
    for (const char *p = v; *p; p++)
        if (!isdigit((unsigned char)*p) && !(p == v && *p == '-'))
            return -1;
    errno = 0;
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (errno || !end || *end || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}
