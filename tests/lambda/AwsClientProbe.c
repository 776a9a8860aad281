/*
 * AwsClientProbe.c — the test function that drives backend/lib's AWS client
 * from inside a Lambda, as the shop's handlers do (tests/compat/test_aws_client.py).
 *
 * The event says what to do:
 *   {"action": "calls", "calls": [{"service", "target", "body"}...], "env"?: {...}}
 *       run the calls in order on one client; answer [{"ok", "out", "error"}...]
 *   {"action": "secret", "id", "ttl_ms", "times"}: aws_secret_string `times` times
 *   {"action": "presign", "method", "bucket", "key", "expires", "contentType"?}
 *   {"action": "sign", ...}: sigv4_sign / sigv4_presign_query on the request the
 *       event describes, for the cross-check against botocore's signer.
 * "env" entries override the function's environment (e.g. AWS_ENDPOINT_URL
 * pointing somewhere else); everything else comes from ctx->getenv.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/aws.h"
#include "lib/sigv4.h"
#include "runtime/handler.h"

typedef struct probe_env {
    const lambda_context *ctx;
    const cJSON *overrides;
} probe_env;

static const char *probe_getenv(void *arg, const char *name)
{
    probe_env *e = arg;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e->overrides, name);
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsNull(v))
        return NULL;
    return e->ctx->getenv(e->ctx, name);
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *error_json(const aws_error *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "status", e->status);
    cJSON_AddStringToObject(o, "type", e->type);
    cJSON_AddStringToObject(o, "message", e->message);
    return o;
}

static cJSON *run_calls(aws_client *c, const cJSON *calls)
{
    cJSON *results = cJSON_CreateArray();
    const cJSON *call;
    cJSON_ArrayForEach(call, calls) {
        cJSON *out = NULL;
        aws_error e;
        int rc = aws_json_call(c, str(call, "service"), str(call, "target"),
                               cJSON_GetObjectItemCaseSensitive(call, "body"), &out, &e);
        cJSON *r = cJSON_CreateObject();
        cJSON_AddBoolToObject(r, "ok", rc == 0);
        cJSON_AddItemToObject(r, "out", out ? out : cJSON_CreateNull());
        if (rc != 0)
            cJSON_AddItemToObject(r, "error", error_json(&e));
        cJSON_AddItemToArray(results, r);
    }
    return results;
}

static cJSON *run_sign(const cJSON *ev, lambda_error *err)
{
    sigv4_signer *s = sigv4_signer_new(str(ev, "accessKey"), str(ev, "secretKey"), str(ev, "token"));
    if (!s)
        return lambda_error_set(err, "ProbeError", "no signer");
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(ev, "headers");
    size_t n = (size_t)cJSON_GetArraySize(hs);
    sigv4_header *h = calloc(n ? n : 1, sizeof *h);
    size_t i = 0;
    const cJSON *pair;
    cJSON_ArrayForEach(pair, hs) {
        h[i].name = cJSON_GetArrayItem(pair, 0)->valuestring;
        h[i].value = cJSON_GetArrayItem(pair, 1)->valuestring;
        i++;
    }
    const char *body = str(ev, "body");
    const cJSON *unsigned_payload = cJSON_GetObjectItemCaseSensitive(ev, "unsignedPayload");
    sigv4_request r = {.method = str(ev, "method"), .path = str(ev, "path"), .query = str(ev, "query"),
                       .headers = h, .n_headers = n, .payload = body,
                       .payload_len = body ? strlen(body) : 0,
                       .payload_hash = cJSON_IsTrue(unsigned_payload) ? SIGV4_UNSIGNED_PAYLOAD : NULL};
    const cJSON *expires = cJSON_GetObjectItemCaseSensitive(ev, "expires");
    cJSON *out = cJSON_CreateObject();
    char *creq = sigv4_canonical_request(&r, str(ev, "service"));
    cJSON_AddStringToObject(out, "canonicalRequest", creq ? creq : "");
    free(creq);
    char *v;
    if (cJSON_IsNumber(expires))
        v = sigv4_presign_query(s, &r, str(ev, "region"), str(ev, "service"), str(ev, "amzDate"),
                                (int)expires->valuedouble);
    else
        v = sigv4_sign(s, &r, str(ev, "region"), str(ev, "service"), str(ev, "amzDate"));
    cJSON_AddStringToObject(out, cJSON_IsNumber(expires) ? "query" : "authorization", v ? v : "");
    free(v);
    free(h);
    sigv4_signer_free(s);
    return out;
}

static cJSON *probe(const cJSON *event, const lambda_context *ctx, lambda_error *err)
{
    const char *action = str(event, "action");
    if (!action)
        return lambda_error_set(err, "ProbeError", "no action");
    if (!strcmp(action, "sign"))
        return run_sign(event, err);
    probe_env env = {ctx, cJSON_GetObjectItemCaseSensitive(event, "env")};
    aws_client *c = aws_client_new(probe_getenv, &env);
    if (!c)
        return lambda_error_set(err, "ProbeError", "no client");
    cJSON *out = NULL;
    if (!strcmp(action, "calls")) {
        out = run_calls(c, cJSON_GetObjectItemCaseSensitive(event, "calls"));
    } else if (!strcmp(action, "secret")) {
        const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(event, "ttl_ms");
        const cJSON *times = cJSON_GetObjectItemCaseSensitive(event, "times");
        int n = cJSON_IsNumber(times) ? (int)times->valuedouble : 1;
        out = cJSON_CreateArray();
        for (int i = 0; i < n; i++) {
            aws_error e;
            char *v = aws_secret_string(c, str(event, "id"), cJSON_IsNumber(ttl) ? (long long)ttl->valuedouble : 0, &e);
            cJSON *r = cJSON_CreateObject();
            if (v)
                cJSON_AddStringToObject(r, "value", v);
            else
                cJSON_AddItemToObject(r, "error", error_json(&e));
            free(v);
            cJSON_AddItemToArray(out, r);
        }
    } else if (!strcmp(action, "presign")) {
        const cJSON *exp = cJSON_GetObjectItemCaseSensitive(event, "expires");
        aws_error e;
        char *u = aws_s3_presign(c, str(event, "method"), str(event, "bucket"), str(event, "key"),
                                 cJSON_IsNumber(exp) ? (int)exp->valuedouble : 0,
                                 str(event, "contentType"), &e);
        out = cJSON_CreateObject();
        if (u)
            cJSON_AddStringToObject(out, "url", u);
        else
            cJSON_AddItemToObject(out, "error", error_json(&e));
        free(u);
    } else {
        lambda_error_set(err, "ProbeError", "unknown action %s", action);
    }
    aws_client_free(c);
    return out;
}

LAMBDA_HANDLER(probe)
