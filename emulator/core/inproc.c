/*
 * inproc.c — in-process calls through the router. See inproc.h.
 */
#include "core/inproc.h"

#include <stdlib.h>
#include <string.h>

#include "core/http.h"

int core_inproc_call(core_router *router, const char *target, const cJSON *body, cJSON **out,
                     core_err *err)
{
    *out = NULL;
    char *text = cJSON_PrintUnformatted(body);
    if (!text)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    const char *dot = strchr(target, '.');
    /* DynamoDB and Step Functions speak awsJson1_0; the others 1.1. */
    const char *type = dot && (!strncmp(target, "DynamoDB", 8) || !strncmp(target, "AWSStep", 7))
                           ? "application/x-amz-json-1.0"
                           : "application/x-amz-json-1.1";
    core_http_header headers[] = {
        {(char *)"X-Amz-Target", (char *)target},
        {(char *)"Content-Type", (char *)type},
        {(char *)"Host", (char *)"localhost"},
    };
    char rid[40];
    core_http_uuid(rid);
    core_http_request req = {
        .method = "POST",
        .path = "/",
        .raw_target = "/",
        .raw_query = "",
        .body = text,
        .body_len = strlen(text),
        .request_id = rid,
        .remote_addr = "127.0.0.1",
        .priv = NULL,
        .headers = headers,
        .n_headers = sizeof headers / sizeof *headers,
    };
    core_http_response resp = {0};
    core_router_dispatch(router, &req, &resp);
    free(text);
    cJSON *answer = resp.body ? cJSON_ParseWithLength(resp.body, resp.body_len) : NULL;
    int rc;
    if (resp.status >= 200 && resp.status < 300) {
        *out = answer ? answer : cJSON_CreateObject();
        rc = CORE_OK;
    } else {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(answer, "__type");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(answer, "message");
        if (!m)
            m = cJSON_GetObjectItemCaseSensitive(answer, "Message");
        const char *ts = cJSON_IsString(t) ? t->valuestring : "InternalFailure";
        const char *hash = strrchr(ts, '#');
        core_err_set(err, resp.status ? resp.status : 500, hash ? hash + 1 : ts, "%s",
                     cJSON_IsString(m) ? m->valuestring : "");
        cJSON_Delete(answer);
        rc = CORE_ERROR;
    }
    core_http_response_release(&resp);
    return rc;
}
