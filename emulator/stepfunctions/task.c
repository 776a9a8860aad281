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
 *   arn:aws:states:::sns:publish      SNS's Publish, in-process (the SNS
 *       service's JSON form, AmazonSimpleNotificationService.Publish); a
 *       Message that is not a string is published as its JSON text; result
 *       {MessageId, SdkHttpMetadata, SdkResponseMetadata, SequenceNumber?};
 *       errors SNS.<the SDK's exception, e.g. NotFoundException> with the
 *       SDK's Cause ("Topic does not exist (Service: AmazonSNS; Status Code:
 *       404; Error Code: NotFound; ...)").
 *
 * The calls go through sfn_hooks, so the interpreter never links the Lambda
 * or DynamoDB services and tests can stand in for them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* The SDK's "Date" header value for now: "Tue, 01 Dec 2026 22:50:00 GMT". */
static void http_date(char out[40])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* The sns:publish result: Publish's answer and the Java SDK's HTTP metadata
 * of the XML answer SNS sends (text/xml, its Content-Length: 294 bytes for a
 * standard topic's 36-character ids, 352 with a 20-digit SequenceNumber). */
static cJSON *sns_publish_result(const cJSON *answer)
{
    const char *mid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "MessageId"));
    const char *seq =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "SequenceNumber"));
    char rid[40], date[40], length[24];
    core_http_uuid(rid);
    http_date(date);
    size_t n = 222 + strlen(mid ? mid : "") + strlen(rid) + (seq ? 38 + strlen(seq) : 0);
    snprintf(length, sizeof length, "%zu", n);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "MessageId", mid ? mid : "");
    cJSON *meta = cJSON_AddObjectToObject(r, "SdkHttpMetadata");
    cJSON *all = cJSON_AddObjectToObject(meta, "AllHttpHeaders");
    static const char *const names[] = {"x-amzn-RequestId", "Content-Length", "Date",
                                        "Content-Type"};
    const char *values[] = {rid, length, date, "text/xml"};
    for (size_t i = 0; i < 4; i++) {
        cJSON *one = cJSON_CreateArray();
        cJSON_AddItemToArray(one, cJSON_CreateString(values[i]));
        cJSON_AddItemToObject(all, names[i], one);
    }
    cJSON *hdr = cJSON_AddObjectToObject(meta, "HttpHeaders");
    cJSON_AddStringToObject(hdr, "Content-Length", length);
    cJSON_AddStringToObject(hdr, "Content-Type", "text/xml");
    cJSON_AddStringToObject(hdr, "Date", date);
    cJSON_AddStringToObject(hdr, "x-amzn-RequestId", rid);
    cJSON_AddNumberToObject(meta, "HttpStatusCode", 200);
    cJSON *sdk = cJSON_AddObjectToObject(r, "SdkResponseMetadata");
    cJSON_AddStringToObject(sdk, "RequestId", rid);
    if (seq)
        cJSON_AddStringToObject(r, "SequenceNumber", seq);
    return r;
}

/* SNS errors as Step Functions names them: "SNS." and the Java SDK's
 * exception class (the JSON form's __type), the Cause with the Query error
 * code SNS sent ("NotFound", "InvalidParameter", "ParameterValueInvalid"). */
static void sns_error(core_err *err)
{
    char code[sizeof err->type];
    const char *t = err->type;
    size_t n = strlen(t);
    if (!strcmp(t, "InvalidParameterValueException"))
        snprintf(code, sizeof code, "ParameterValueInvalid");
    else if (n > 9 && !strcmp(t + n - 9, "Exception"))
        snprintf(code, sizeof code, "%.*s", (int)(n - 9), t);
    else
        snprintf(code, sizeof code, "%s", t);
    char rid[40];
    core_http_uuid(rid);
    char type[sizeof err->type], cause[sizeof err->message];
    snprintf(type, sizeof type, "SNS.%.80s", t);
    snprintf(cause, sizeof cause, "%.600s (Service: AmazonSNS; Status Code: %d; Error Code: "
             "%.80s; Request ID: %s; Proxy: null)", err->message, err->status ? err->status : 400,
             code, rid);
    snprintf(err->type, sizeof err->type, "%s", type);
    snprintf(err->message, sizeof err->message, "%s", cause);
}

static int sns_publish(const sfn_hooks *hooks, const cJSON *params, cJSON **result,
                       core_err *err)
{
    if (!hooks->call_service) {
        core_err_set(err, 500, "InternalErrorException", "no SNS service");
        sns_error(err);
        return CORE_ERROR;
    }
    /* Step Functions serialises a Message that is a JSON value to its text. */
    cJSON *req = cJSON_Duplicate(params, 1);
    if (!req)
        return core_err_set(err, 500, "States.Runtime", "out of memory");
    cJSON *msg = cJSON_GetObjectItemCaseSensitive(req, "Message");
    if (msg && !cJSON_IsString(msg)) {
        char *text = cJSON_PrintUnformatted(msg);
        cJSON_ReplaceItemInObjectCaseSensitive(req, "Message", cJSON_CreateString(text ? text : ""));
        free(text);
    }
    cJSON *answer = NULL;
    int rc = hooks->call_service(hooks->ctx, "AmazonSimpleNotificationService.Publish", req,
                                 &answer, err);
    cJSON_Delete(req);
    if (rc != CORE_OK) {
        sns_error(err);
        return CORE_ERROR;
    }
    *result = sns_publish_result(answer);
    cJSON_Delete(answer);
    return CORE_OK;
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
    if (!strcmp(res, SNS_PUBLISH))
        return sns_publish(hooks, call->params, result, err);
    return core_err_set(err, 400, "States.Runtime",
                        "The resource '%.300s' is not supported by shoplocal", res);
}
