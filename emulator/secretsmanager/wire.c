/*
 * wire.c — Secrets Manager's JSON protocol (awsJson1_1): POST /, X-Amz-Target
 * secretsmanager.<Operation>, application/x-amz-json-1.1.
 *
 * Parse the body, check fault rules, run the operation in one savepoint under
 * the store lock, shape the answer: x-amzn-RequestId on every answer, errors
 * as {"__type": "<Type>", "Message": "..."} (the API's exception shapes carry
 * "Message"; botocore reads either case) with HTTP 400, 500 for
 * InternalServiceError. Request bodies carry secret values, so neither bodies
 * nor answers are ever logged: a log line names the operation and the error
 * type only.
 */
#include "secretsmanager/wire.h"

#include <stdlib.h>
#include <string.h>

#include "core/fault.h"
#include "core/http.h"
#include "core/log.h"
#include "core/template.h"
#include "secretsmanager/model.h"

#define TARGET_PREFIX "secretsmanager"
#define CONTENT_TYPE "application/x-amz-json-1.1"

typedef struct sm_service {
    sm_model *model;
    core_faults *faults;
} sm_service;

static void answer(core_http_response *resp, const core_http_request *req, int status,
                   const cJSON *body)
{
    core_http_response_json(resp, status, CONTENT_TYPE, body);
    core_http_response_header(resp, "x-amzn-RequestId", req->request_id, 0);
}

static void answer_error(core_http_response *resp, const core_http_request *req,
                         const core_err *err)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "__type", err->type);
    cJSON_AddStringToObject(body, "Message", err->message);
    int status = err->status >= 400 && err->status <= 599 ? err->status : 400;
    answer(resp, req, status, body);
    core_http_response_header(resp, "x-amzn-ErrorType", err->type, 0);
    cJSON_Delete(body);
}

static void handle(void *ctx, const core_http_request *req, core_http_response *resp)
{
    sm_service *svc = ctx;
    core_err err;
    core_err_clear(&err);
    const char *target = core_http_header_get(req, "X-Amz-Target");
    const char *name = target && !strncmp(target, TARGET_PREFIX ".", sizeof TARGET_PREFIX)
                           ? target + sizeof TARGET_PREFIX
                           : NULL;
    sm_op op = sm_op_find(name);
    if (!op || strcmp(req->method, "POST") != 0) {
        core_err_set(&err, 400, "UnknownOperationException", "%s",
                     op ? "Secrets Manager answers POST only" : "Unknown operation");
        answer_error(resp, req, &err);
        return;
    }
    cJSON *body = req->body_len ? cJSON_ParseWithLength(req->body, req->body_len)
                                : cJSON_CreateObject();
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        core_err_set(&err, 400, "SerializationException", "%s",
                     "Start of structure or map found where not expected, or the body is not "
                     "valid JSON");
        answer_error(resp, req, &err);
        return;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, "SecretId");
    if (!cJSON_IsString(id))
        id = cJSON_GetObjectItemCaseSensitive(body, "Name");
    if (core_fault_check(svc->faults, "secretsmanager", name,
                         cJSON_IsString(id) ? id->valuestring : NULL, &err)) {
        cJSON_Delete(body);
        answer_error(resp, req, &err);
        return;
    }
    cJSON *out = NULL;
    int rc = sm_model_run(svc->model, op, body, &out, &err);
    if (rc == CORE_OK) {
        answer(resp, req, 200, out);
    } else {
        if (!err.type[0])
            core_err_set(&err, 500, "InternalServiceError", "Internal service error");
        core_log(err.status >= 500 ? CORE_LOG_ERROR : CORE_LOG_DEBUG, "secretsmanager",
                 req->request_id, "%s: %s", name, err.type);
        answer_error(resp, req, &err);
    }
    cJSON_Delete(out);
    cJSON_Delete(body);
}

int sm_service_start(core_emulator *emu, void **state, core_err *err)
{
    sm_service *svc = calloc(1, sizeof *svc);
    if (!svc)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    const core_config *cfg = core_emulator_config(emu);
    const core_template *tpl = core_emulator_template(emu);
    svc->faults = core_emulator_faults(emu);
    if (sm_model_open(cfg->data_dir, core_template_region(tpl), core_emulator_clock(emu),
                      &svc->model, err) != CORE_OK) {
        free(svc);
        return CORE_ERROR;
    }
    sm_model_lock(svc->model);
    int rc = sm_model_seed_template(svc->model, tpl, err);
    sm_model_unlock(svc->model);
    if (rc != CORE_OK) {
        sm_service_stop(svc);
        return CORE_ERROR;
    }
    core_service route = {.name = "secretsmanager", .target_prefix = TARGET_PREFIX,
                          .signing_name = "secretsmanager", .handler = handle, .ctx = svc};
    if (core_router_add(core_emulator_router(emu), &route) != CORE_OK) {
        sm_service_stop(svc);
        return core_err_set(err, 500, "InternalFailure", "router full");
    }
    *state = svc;
    return CORE_OK;
}

void sm_service_stop(void *state)
{
    sm_service *svc = state;
    if (!svc)
        return;
    sm_model_close(svc->model);
    free(svc);
}
