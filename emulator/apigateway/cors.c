/*
 * cors.c — CORS of an HTTP API: configuration, preflight answers and the
 * headers added to integration responses. See cors.h for the rules.
 *
 * The configuration is read once into joined header values, so answering a
 * request only compares the origin and copies strings.
 */
#include "apigateway/cors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct apigw_cors {
    char **origins;
    size_t n_origins;
    int any_origin;
    char *allow_methods;  /* joined, or NULL */
    char *allow_headers;  /* joined, or NULL */
    char *expose_headers; /* joined, or NULL */
    int max_age;          /* -1: not set */
    int credentials;
};

void apigw_cors_free(apigw_cors *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_origins; i++)
        free(c->origins[i]);
    free(c->origins);
    free(c->allow_methods);
    free(c->allow_headers);
    free(c->expose_headers);
    free(c);
}

/* Join an array of strings with ","; *out NULL when the field is absent. */
static int read_list(const cJSON *config, const char *field, char **out, core_err *err)
{
    *out = NULL;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(config, field);
    if (!a)
        return CORE_OK;
    if (!cJSON_IsArray(a))
        return core_err_set(err, 400, "ValidationError",
                            "CorsConfiguration.%s: a list of strings", field);
    size_t len = 1;
    for (const cJSON *e = a->child; e; e = e->next) {
        if (!cJSON_IsString(e))
            return core_err_set(err, 400, "ValidationError",
                                "CorsConfiguration.%s: a list of strings", field);
        len += strlen(e->valuestring) + 1;
    }
    char *s = malloc(len);
    if (!s)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    size_t o = 0;
    for (const cJSON *e = a->child; e; e = e->next) {
        size_t n = strlen(e->valuestring);
        if (o)
            s[o++] = ',';
        memcpy(s + o, e->valuestring, n);
        o += n;
    }
    s[o] = '\0';
    *out = s;
    return CORE_OK;
}

int apigw_cors_new(const cJSON *config, apigw_cors **out, core_err *err)
{
    *out = NULL;
    if (!config || cJSON_IsFalse(config))
        return CORE_OK;
    apigw_cors *c = calloc(1, sizeof *c);
    if (!c)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    c->max_age = -1;
    if (cJSON_IsTrue(config)) {
        c->any_origin = 1;
        c->allow_methods = strdup("*");
        c->allow_headers = strdup("*");
        *out = c;
        return CORE_OK;
    }
    if (!cJSON_IsObject(config)) {
        apigw_cors_free(c);
        return core_err_set(err, 400, "ValidationError",
                            "CorsConfiguration: an object or a boolean");
    }
    const cJSON *origins = cJSON_GetObjectItemCaseSensitive(config, "AllowOrigins");
    if (origins && !cJSON_IsArray(origins)) {
        apigw_cors_free(c);
        return core_err_set(err, 400, "ValidationError",
                            "CorsConfiguration.AllowOrigins: a list of strings");
    }
    int n = origins ? cJSON_GetArraySize(origins) : 0;
    c->origins = calloc((size_t)n + 1, sizeof *c->origins);
    for (const cJSON *e = n ? origins->child : NULL; e && c->origins; e = e->next) {
        if (!cJSON_IsString(e)) {
            apigw_cors_free(c);
            return core_err_set(err, 400, "ValidationError",
                                "CorsConfiguration.AllowOrigins: a list of strings");
        }
        if (!strcmp(e->valuestring, "*"))
            c->any_origin = 1;
        c->origins[c->n_origins++] = strdup(e->valuestring);
    }
    if (read_list(config, "AllowMethods", &c->allow_methods, err) != CORE_OK ||
        read_list(config, "AllowHeaders", &c->allow_headers, err) != CORE_OK ||
        read_list(config, "ExposeHeaders", &c->expose_headers, err) != CORE_OK) {
        apigw_cors_free(c);
        return CORE_ERROR;
    }
    const cJSON *age = cJSON_GetObjectItemCaseSensitive(config, "MaxAge");
    if (age) {
        if (!cJSON_IsNumber(age) || age->valuedouble != (int)age->valuedouble ||
            age->valuedouble < -1 || age->valuedouble > 86400) {
            apigw_cors_free(c);
            return core_err_set(err, 400, "ValidationError",
                                "CorsConfiguration.MaxAge: an integer in -1..86400");
        }
        c->max_age = (int)age->valuedouble;
    }
    const cJSON *cred = cJSON_GetObjectItemCaseSensitive(config, "AllowCredentials");
    if (cred && !cJSON_IsBool(cred)) {
        apigw_cors_free(c);
        return core_err_set(err, 400, "ValidationError",
                            "CorsConfiguration.AllowCredentials: a boolean");
    }
    c->credentials = cJSON_IsTrue(cred);
    *out = c;
    return CORE_OK;
}

int apigw_cors_is_preflight(const char *method, const char *origin, const char *request_method)
{
    return method && !strcmp(method, "OPTIONS") && origin && request_method;
}

int apigw_cors_origin_allowed(const apigw_cors *c, const char *origin)
{
    if (!c || !origin || !*origin)
        return 0;
    if (c->any_origin)
        return 1;
    for (size_t i = 0; i < c->n_origins; i++) {
        const char *o = c->origins[i];
        size_t n = strlen(o);
        if (n > 0 && o[n - 1] == '*') {
            if (!strncasecmp(origin, o, n - 1))
                return 1;
        } else if (!strcasecmp(origin, o)) {
            return 1;
        }
    }
    return 0;
}

static void add_origin(const apigw_cors *c, const char *origin, core_http_response *resp)
{
    core_http_response_header(resp, "access-control-allow-origin",
                              c->any_origin && !c->credentials ? "*" : origin, 0);
    if (c->credentials)
        core_http_response_header(resp, "access-control-allow-credentials", "true", 0);
}

void apigw_cors_preflight(const apigw_cors *c, const char *origin, const char *request_id,
                          core_http_response *resp)
{
    core_http_response_release(resp);
    core_http_response_body(resp, 204, NULL, "", 0);
    if (apigw_cors_origin_allowed(c, origin)) {
        add_origin(c, origin, resp);
        if (c->allow_methods)
            core_http_response_header(resp, "access-control-allow-methods", c->allow_methods, 0);
        if (c->allow_headers)
            core_http_response_header(resp, "access-control-allow-headers", c->allow_headers, 0);
        if (c->max_age >= 0) {
            char age[16];
            snprintf(age, sizeof age, "%d", c->max_age);
            core_http_response_header(resp, "access-control-max-age", age, 0);
        }
    }
    if (request_id)
        core_http_response_header(resp, "apigw-requestid", request_id, 0);
}

void apigw_cors_decorate(const apigw_cors *c, const char *origin, core_http_response *resp)
{
    if (!c)
        return;
    size_t kept = 0;
    for (size_t i = 0; i < resp->n_headers; i++) {
        if (!strncasecmp(resp->headers[i].name, "access-control-", 15)) {
            free(resp->headers[i].name);
            free(resp->headers[i].value);
            continue;
        }
        resp->headers[kept++] = resp->headers[i];
    }
    resp->n_headers = kept;
    if (!apigw_cors_origin_allowed(c, origin))
        return;
    add_origin(c, origin, resp);
    if (c->expose_headers)
        core_http_response_header(resp, "access-control-expose-headers", c->expose_headers, 0);
}
