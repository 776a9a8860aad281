/*
 * router.c — the aws listener's service table. See router.h.
 *
 * The table is small (one row per emulated service) and fixed after start-up,
 * so lookups are linear scans over a handful of rows without locking.
 */
#include "core/router.h"

#include "core/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ROUTER_MAX 32

struct core_router {
    core_service services[ROUTER_MAX];
    size_t n;
};

core_router *core_router_new(void)
{
    return calloc(1, sizeof(core_router));
}

void core_router_free(core_router *router)
{
    free(router);
}

int core_router_add(core_router *router, const core_service *svc)
{
    if (router->n >= ROUTER_MAX)
        return CORE_ERROR;
    router->services[router->n++] = *svc;
    return CORE_OK;
}

size_t core_router_count(const core_router *router)
{
    return router->n;
}

const core_service *core_router_at(const core_router *router, size_t i)
{
    return i < router->n ? &router->services[i] : NULL;
}

/* Copy the 4th '/'-separated field of a credential "AKID/date/region/service/aws4_request". */
static int scope_service(const char *cred, size_t cred_len, char *out, size_t len)
{
    const char *p = cred, *end = cred + cred_len;
    for (int field = 0; field < 3; field++) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        if (!slash)
            return -1;
        p = slash + 1;
    }
    const char *slash = memchr(p, '/', (size_t)(end - p));
    if (!slash || slash == p || (size_t)(slash - p) >= len)
        return -1;
    memcpy(out, p, (size_t)(slash - p));
    out[slash - p] = '\0';
    return 0;
}

int core_sigv4_scope_service(const char *authorization, char *out, size_t len)
{
    if (!authorization || strncmp(authorization, "AWS4-HMAC-SHA256", 16) != 0)
        return -1;
    const char *cred = strstr(authorization, "Credential=");
    if (!cred)
        return -1;
    cred += 11;
    size_t n = strcspn(cred, ", ");
    return scope_service(cred, n, out, len);
}

int core_sigv4_query_service(const char *raw_query, char *out, size_t len)
{
    char *cred = core_query_param(raw_query, "X-Amz-Credential");
    if (!cred)
        return -1;
    int rc = scope_service(cred, strlen(cred), out, len);
    free(cred);
    return rc;
}

const core_service *core_router_match(const core_router *router, const char *target,
                                      const char *authorization, const char *path,
                                      const char *raw_query)
{
    if (target && *target) {
        const char *dot = strchr(target, '.');
        size_t n = dot ? (size_t)(dot - target) : strlen(target);
        for (size_t i = 0; i < router->n; i++) {
            const char *p = router->services[i].target_prefix;
            if (p && strlen(p) == n && strncmp(p, target, n) == 0)
                return &router->services[i];
        }
        return NULL; /* a target names its service: no other rule may claim it */
    }
    if (path) {
        for (size_t i = 0; i < router->n; i++) {
            const char *p = router->services[i].path_prefix;
            if (p && strncmp(path, p, strlen(p)) == 0)
                return &router->services[i];
        }
    }
    char svc[64];
    if (core_sigv4_scope_service(authorization, svc, sizeof svc) == 0 ||
        core_sigv4_query_service(raw_query, svc, sizeof svc) == 0) {
        for (size_t i = 0; i < router->n; i++) {
            const char *s = router->services[i].signing_name;
            if (s && strcmp(s, svc) == 0)
                return &router->services[i];
        }
    }
    return NULL;
}

void core_router_dispatch(void *ctx, const core_http_request *req, core_http_response *resp)
{
    const core_router *router = ctx;
    const char *target = core_http_header_get(req, "X-Amz-Target");
    const char *auth = core_http_header_get(req, "Authorization");
    const core_service *svc = core_router_match(router, target, auth, req->path, req->raw_query);
    if (svc) {
        svc->handler(svc->ctx, req, resp);
        return;
    }
    char msg[512];
    char scope[64];
    if (target && *target)
        snprintf(msg, sizeof msg, "No service of shoplocal answers X-Amz-Target %.200s", target);
    else if (core_sigv4_scope_service(auth, scope, sizeof scope) == 0)
        snprintf(msg, sizeof msg, "No service of shoplocal answers SigV4 service '%s'", scope);
    else
        snprintf(msg, sizeof msg,
                 "Cannot route %.16s %.200s: no X-Amz-Target header and no SigV4 credential "
                 "scope", req->method, req->path);
    core_http_response_aws_error(resp, req, 400, "UnknownOperationException", msg);
}
