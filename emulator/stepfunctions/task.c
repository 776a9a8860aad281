/*
 * task.c — what a Task state's Resource calls, with AWS's result and error
 * shapes ("Invoke Lambda with Step Functions", "Call DynamoDB with Step
 * Functions", "Call Amazon SNS with Step Functions").
 *
 *   arn:aws:states:::lambda:invoke    result {ExecutedVersion, Payload,
 *       SdkHttpMetadata, SdkResponseMetadata, StatusCode}; a function error
 *       is the state's error named by its errorType, Cause its error JSON.
 *   arn:aws:lambda:<region>:<acct>:function:<name>   (the bare form) result =
 *       the function's payload; the history says LambdaFunction*.
 *   arn:aws:states:::dynamodb:putItem|getItem|updateItem|deleteItem  the
 *       parameters are the DynamoDB request; result = its answer; errors
 *       DynamoDB.<ErrorType> with AWS's Cause wording.
 *   arn:aws:states:::sns:publish      AmazonSNS's Publish, in-process; errors
 *       SNS.<ErrorType>. (No SNS service answers yet: the router's
 *       UnknownOperationException comes back as SNS.UnknownOperationException.)
 *
 * The calls go through sfn_hooks, so the interpreter never links the Lambda
 * or DynamoDB services and tests can stand in for them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/http.h"
#include "stepfunctions/sfn_impl.h"

#define LAMBDA_INVOKE "arn:aws:states:::lambda:invoke"
#define DDB_PREFIX "arn:aws:states:::dynamodb:"
#define SNS_PUBLISH "arn:aws:states:::sns:publish"

static const struct {
    const char *suffix; /* after DDB_PREFIX */
    const char *target;
} ddb_ops[] = {
    {"putItem", "DynamoDB_20120810.PutItem"},
    {"getItem", "DynamoDB_20120810.GetItem"},
    {"updateItem", "DynamoDB_20120810.UpdateItem"},
    {"deleteItem", "DynamoDB_20120810.DeleteItem"},
};

static int is_bare_lambda(const char *resource)
{
    return !strncmp(resource, "arn:aws:lambda:", 15) && strstr(resource, ":function:");
}

/* Copy n bytes of src into dst (len > 0), truncated, NUL-terminated: snprintf's
 * "%.*s" without its cost (this runs at every task step). */
static void copy_span(char *dst, size_t len, const char *src, size_t n)
{
    if (n >= len)
        n = len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int sfn_task_describe(const char *resource, char *type, size_t type_len, char *name,
                      size_t name_len, int *bare_lambda)
{
    *bare_lambda = 0;
    if (is_bare_lambda(resource)) {
        *bare_lambda = 1;
        copy_span(type, type_len, "lambda", 6);
        copy_span(name, name_len, "invoke", 6);
        return 1;
    }
    const char *p = !strncmp(resource, "arn:aws:states:::", 17) ? resource + 17 : NULL;
    const char *colon = p ? strchr(p, ':') : NULL;
    if (!colon)
        return 0;
    copy_span(type, type_len, p, (size_t)(colon - p));
    copy_span(name, name_len, colon + 1, strlen(colon + 1));
    return 1;
}

static int lambda_call(const sfn_hooks *hooks, const char *function, const cJSON *payload,
                       cJSON **result, core_err *err)
{
    if (!hooks->call_lambda)
        return core_err_set(err, 400, "Lambda.ServiceException", "no Lambda service");
    return hooks->call_lambda(hooks->ctx, function, payload, result, err);
}

static cJSON *invoke_result(cJSON *payload)
{
    char rid[40];
    core_http_uuid(rid);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "ExecutedVersion", "$LATEST");
    cJSON_AddItemToObject(r, "Payload", payload ? payload : cJSON_CreateNull());
    cJSON *meta = cJSON_AddObjectToObject(r, "SdkHttpMetadata");
    cJSON *all = cJSON_AddObjectToObject(meta, "AllHttpHeaders");
    cJSON *one = cJSON_CreateArray();
    cJSON_AddItemToArray(one, cJSON_CreateString("application/json"));
    cJSON_AddItemToObject(all, "Content-Type", one);
    one = cJSON_CreateArray();
    cJSON_AddItemToArray(one, cJSON_CreateString(rid));
    cJSON_AddItemToObject(all, "x-amzn-RequestId", one);
    one = cJSON_CreateArray();
    cJSON_AddItemToArray(one, cJSON_CreateString("$LATEST"));
    cJSON_AddItemToObject(all, "X-Amz-Executed-Version", one);
    cJSON *hdr = cJSON_AddObjectToObject(meta, "HttpHeaders");
    cJSON_AddStringToObject(hdr, "Content-Type", "application/json");
    cJSON_AddStringToObject(hdr, "X-Amz-Executed-Version", "$LATEST");
    cJSON_AddStringToObject(hdr, "x-amzn-RequestId", rid);
    cJSON_AddNumberToObject(meta, "HttpStatusCode", 200);
    cJSON *sdk = cJSON_AddObjectToObject(r, "SdkResponseMetadata");
    cJSON_AddStringToObject(sdk, "RequestId", rid);
    cJSON_AddNumberToObject(r, "StatusCode", 200);
    return r;
}

/* A service error as Step Functions names it: "<Prefix>.<Type>", with the
 * Cause AWS's SDK formats ("<message> (Service: ...; Status Code: ...; Error
 * Code: ...; Request ID: ...)"). */
static void service_error(core_err *err, const char *prefix, const char *service)
{
    const char *type = strrchr(err->type, '#');
    type = type ? type + 1 : err->type;
    char t[sizeof err->type];
    snprintf(t, sizeof t, "%.20s.%.70s", prefix, type);
    char rid[40];
    core_http_uuid(rid);
    char cause[sizeof err->message];
    snprintf(cause, sizeof cause, "%.600s (Service: %s; Status Code: %d; Error Code: %.80s; "
             "Request ID: %s; Proxy: null)", err->message, service, err->status ? err->status : 400,
             type, rid);
    snprintf(err->type, sizeof err->type, "%s", t);
    snprintf(err->message, sizeof err->message, "%s", cause);
}

int sfn_task_invoke(const sfn_hooks *hooks, const sfn_task_call *call, cJSON **result,
                    core_err *err)
{
    *result = NULL;
    const char *res = call->resource;
    if (!strcmp(res, LAMBDA_INVOKE) || !strncmp(res, LAMBDA_INVOKE ":", sizeof LAMBDA_INVOKE)) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call->params, "FunctionName");
        if (!cJSON_IsString(fn))
            return core_err_set(err, 400, "States.Runtime",
                                "The field 'FunctionName' is required for lambda:invoke");
        const cJSON *payload = cJSON_GetObjectItemCaseSensitive(call->params, "Payload");
        cJSON *empty = payload ? NULL : cJSON_CreateObject();
        cJSON *out = NULL;
        int rc = lambda_call(hooks, fn->valuestring, payload ? payload : empty, &out, err);
        cJSON_Delete(empty);
        if (rc != CORE_OK)
            return CORE_ERROR;
        *result = invoke_result(out);
        return CORE_OK;
    }
    if (is_bare_lambda(res))
        return lambda_call(hooks, res, call->params, result, err);
    if (!strncmp(res, DDB_PREFIX, strlen(DDB_PREFIX))) {
        const char *op = res + strlen(DDB_PREFIX);
        for (size_t i = 0; i < sizeof ddb_ops / sizeof *ddb_ops; i++) {
            if (strcmp(op, ddb_ops[i].suffix) != 0)
                continue;
            if (!hooks->call_service)
                return core_err_set(err, 400, "DynamoDB.InternalServerError", "no DynamoDB");
            if (hooks->call_service(hooks->ctx, ddb_ops[i].target, call->params, result, err) ==
                CORE_OK)
                return CORE_OK;
            service_error(err, "DynamoDB", "AmazonDynamoDBv2");
            return CORE_ERROR;
        }
    }
    if (!strcmp(res, SNS_PUBLISH)) {
        if (hooks->call_service &&
            hooks->call_service(hooks->ctx, "AmazonSimpleNotificationService.Publish",
                                call->params, result, err) == CORE_OK)
            return CORE_OK;
        if (!hooks->call_service)
            core_err_set(err, 400, "UnknownOperationException", "no SNS service");
        service_error(err, "SNS", "AmazonSNS");
        return CORE_ERROR;
    }
    return core_err_set(err, 400, "States.Runtime",
                        "The resource '%.300s' is not supported by shoplocal", res);
}
