/*
 * wire.c — DynamoDB's JSON protocol (awsJson1_0): POST /, X-Amz-Target
 * DynamoDB_20120810.<Operation>, application/x-amz-json-1.0.
 *
 * Parse the body, check fault rules, run the operation under the model lock,
 * shape the answer: x-amzn-RequestId and a correct x-amz-crc32 on every answer
 * (botocore verifies it), errors as {"__type": "<namespace>#<Type>", "message"}
 * with the namespaces AWS uses (com.amazon.coral.validate for validation,
 * com.amazon.coral.service for protocol errors, com.amazonaws.dynamodb.v20120810
 * for the service's own).
 */
#include "dynamodb/wire.h"
#include "dynamodb/seed.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fault.h"
#include "core/http.h"
#include "core/log.h"
#include "core/template.h"
#include "dynamodb/model_impl.h"

#define TARGET_PREFIX "DynamoDB_20120810"

static const struct {
    const char *name;
    ddb_op fn;
    int writes; /* needs a consistent snapshot across statements */
} ops[] = {
    {"GetItem", ddb_op_get_item, 0},
    {"PutItem", ddb_op_put_item, 1},
    {"UpdateItem", ddb_op_update_item, 1},
    {"DeleteItem", ddb_op_delete_item, 1},
    {"Query", ddb_op_query, 0},
    {"Scan", ddb_op_scan, 0},
    {"BatchGetItem", ddb_op_batch_get_item, 0},
    {"BatchWriteItem", ddb_op_batch_write_item, 1},
    {"TransactWriteItems", ddb_op_transact_write_items, 1},
    {"TransactGetItems", ddb_op_transact_get_items, 0},
    {"CreateTable", ddb_op_create_table, 1},
    {"DescribeTable", ddb_op_describe_table, 0},
    {"DeleteTable", ddb_op_delete_table, 1},
    {"ListTables", ddb_op_list_tables, 0},
    {"UpdateTable", ddb_op_update_table, 1},
    {"UpdateTimeToLive", ddb_op_update_ttl, 1},
    {"DescribeTimeToLive", ddb_op_describe_ttl, 0},
};

ddb_op ddb_op_find(const char *name)
{
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(ops[i].name, name))
            return ops[i].fn;
    return NULL;
}

static unsigned long crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (unsigned long i = 0; i < 256; i++) {
        unsigned long c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320UL ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

unsigned long ddb_crc32(const unsigned char *data, size_t len)
{
    pthread_once(&crc_once, crc_init);
    unsigned long crc = 0xFFFFFFFFUL;
    for (size_t i = 0; i < len; i++)
        crc = crc_table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFUL;
}

typedef struct ddb_service {
    ddb_model *model;
    core_faults *faults;
    pthread_t sweeper;
    int sweeper_started;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    int stopping;
} ddb_service;

static const char *error_namespace(const char *type)
{
    if (!strcmp(type, "ValidationException"))
        return "com.amazon.coral.validate#";
    if (!strcmp(type, "SerializationException") || !strcmp(type, "UnknownOperationException") ||
        !strcmp(type, "MissingAuthenticationTokenException"))
        return "com.amazon.coral.service#";
    if (!strcmp(type, "ThrottlingException"))
        return "com.amazon.coral.availability#";
    return "com.amazonaws.dynamodb.v20120810#";
}

static void answer(core_http_response *resp, const core_http_request *req, int status,
                   cJSON *body)
{
    char *text = cJSON_PrintUnformatted(body);
    if (!text) {
        core_http_response_body(resp, 500, "application/x-amz-json-1.0", "{}", 2);
        return;
    }
    size_t len = strlen(text);
    free(resp->body);
    resp->body = text;
    resp->body_len = len;
    resp->status = status;
    core_http_response_header(resp, "Content-Type", "application/x-amz-json-1.0", 0);
    core_http_response_header(resp, "x-amzn-RequestId", req->request_id, 0);
    char crc[24];
    snprintf(crc, sizeof crc, "%lu", ddb_crc32((const unsigned char *)text, len));
    core_http_response_header(resp, "x-amz-crc32", crc, 0);
}

static void answer_error(core_http_response *resp, const core_http_request *req,
                         const core_err *err, cJSON *extra)
{
    cJSON *body = cJSON_CreateObject();
    char type[200];
    snprintf(type, sizeof type, "%s%s", error_namespace(err->type), err->type);
    cJSON_AddStringToObject(body, "__type", type);
    int capital = !strcmp(err->type, "TransactionCanceledException");
    cJSON_AddStringToObject(body, capital ? "Message" : "message", err->message);
    if (extra) {
        for (cJSON *f = extra->child; f; f = f->next)
            cJSON_AddItemToObject(body, f->string, cJSON_Duplicate(f, 1));
    }
    int status = err->status >= 400 && err->status <= 599 ? err->status : 400;
    answer(resp, req, status, body);
    cJSON_Delete(body);
}

static void handle(void *ctx, const core_http_request *req, core_http_response *resp)
{
    ddb_service *svc = ctx;
    core_err err;
    core_err_clear(&err);
    const char *target = core_http_header_get(req, "X-Amz-Target");
    const char *name = target ? strchr(target, '.') : NULL;
    ddb_op op = name ? ddb_op_find(name + 1) : NULL;
    if (!op || strcmp(req->method, "POST") != 0) {
        core_err_set(&err, 400, "UnknownOperationException", "%s",
                     op ? "DynamoDB answers POST only" : "Unknown operation");
        answer_error(resp, req, &err, NULL);
        return;
    }
    cJSON *body = cJSON_ParseWithLength(req->body, req->body_len);
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        core_err_set(&err, 400, "SerializationException", "%s",
                     req->body_len ? "Start of structure or map found where not expected, or the "
                                     "body is not valid JSON"
                                   : "The request body is empty");
        answer_error(resp, req, &err, NULL);
        return;
    }
    if (core_fault_check(svc->faults, "dynamodb", name + 1, ddb_request_table(body), &err)) {
        cJSON_Delete(body);
        answer_error(resp, req, &err, NULL);
        return;
    }
    cJSON *out = NULL, *extra = NULL;
    ddb_model *m = svc->model;
    pthread_mutex_lock(&m->lock);
    core_store_lock(m->store);
    int rc = op(m, body, &out, &extra, &err);
    core_store_unlock(m->store);
    pthread_mutex_unlock(&m->lock);
    if (rc == CORE_OK) {
        answer(resp, req, 200, out);
    } else {
        if (!err.type[0])
            core_err_set(&err, 500, "InternalServerError", "Internal server error");
        core_log(err.status >= 500 ? CORE_LOG_ERROR : CORE_LOG_DEBUG, "dynamodb", req->request_id,
                 "%s: %s: %s", name + 1, err.type, err.message);
        answer_error(resp, req, &err, extra);
    }
    cJSON_Delete(out);
    cJSON_Delete(extra);
    cJSON_Delete(body);
}

static void *sweeper_main(void *arg)
{
    ddb_service *svc = arg;
    pthread_mutex_lock(&svc->stop_lock);
    while (!svc->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&svc->stop_cond, &svc->stop_lock, &until);
        if (svc->stopping)
            break;
        pthread_mutex_unlock(&svc->stop_lock);
        long n = ddb_model_sweep_ttl(svc->model);
        if (n)
            core_log(CORE_LOG_DEBUG, "dynamodb", NULL, "TTL sweep deleted %ld item(s)", n);
        pthread_mutex_lock(&svc->stop_lock);
    }
    pthread_mutex_unlock(&svc->stop_lock);
    return NULL;
}

/* The template's tables: their Properties are a CreateTable request. */
static int create_template_tables(ddb_service *svc, const core_template *tpl, core_err *err)
{
    for (size_t i = 0; i < core_template_table_count(tpl); i++) {
        const core_tpl_table *t = core_template_table_at(tpl, i);
        cJSON *req = cJSON_Duplicate(t->resource->properties, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(req, "TableName");
        cJSON_AddStringToObject(req, "TableName", t->name);
        static const char *const not_create[] = {"TimeToLiveSpecification", "PointInTimeRecoverySpecification",
                                                 "SSESpecification", "Tags", "ContributorInsightsSpecification",
                                                 "KinesisStreamSpecification", "TableClass",
                                                 "ImportSourceSpecification", "ResourcePolicy",
                                                 "OnDemandThroughput", "WarmThroughput"};
        for (size_t k = 0; k < sizeof not_create / sizeof *not_create; k++)
            cJSON_DeleteItemFromObjectCaseSensitive(req, not_create[k]);
        int created = 0;
        core_err inner;
        core_err_clear(&inner);
        int rc = ddb_model_ensure_table(svc->model, req, &created, &inner);
        cJSON_Delete(req);
        if (rc != CORE_OK)
            return core_err_set(err, 400, "ValidationError", "Resources.%s: DynamoDB refused the "
                                "table: %s", t->resource->logical_id, inner.message);
        if (t->ttl_attribute &&
            ddb_model_set_ttl(svc->model, t->name, t->ttl_attribute, 1, err) != CORE_OK)
            return CORE_ERROR;
        if (created)
            core_log(CORE_LOG_INFO, "dynamodb", NULL, "created table %s from the template", t->name);
    }
    return CORE_OK;
}

int ddb_service_start(core_emulator *emu, void **state, core_err *err)
{
    ddb_service *svc = calloc(1, sizeof *svc);
    if (!svc)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    pthread_mutex_init(&svc->stop_lock, NULL);
    pthread_cond_init(&svc->stop_cond, NULL);
    const core_config *cfg = core_emulator_config(emu);
    svc->faults = core_emulator_faults(emu);
    if (ddb_model_open(cfg->data_dir, core_template_region(core_emulator_template(emu)),
                       core_emulator_clock(emu), &svc->model, err) != CORE_OK ||
        create_template_tables(svc, core_emulator_template(emu), err) != CORE_OK ||
        (cfg->seed_dir[0] &&
         ddb_seed_catalog(svc->model, core_emulator_template(emu), cfg->seed_dir, err) != CORE_OK)) {
        ddb_service_stop(svc);
        return CORE_ERROR;
    }
    core_service route = {.name = "dynamodb", .target_prefix = TARGET_PREFIX,
                          .signing_name = "dynamodb", .handler = handle, .ctx = svc};
    if (core_router_add(core_emulator_router(emu), &route) != CORE_OK) {
        ddb_service_stop(svc);
        return core_err_set(err, 500, "InternalFailure", "router full");
    }
    svc->sweeper_started = pthread_create(&svc->sweeper, NULL, sweeper_main, svc) == 0;
    *state = svc;
    return CORE_OK;
}

void ddb_service_stop(void *state)
{
    ddb_service *svc = state;
    if (!svc)
        return;
    if (svc->sweeper_started) {
        pthread_mutex_lock(&svc->stop_lock);
        svc->stopping = 1;
        pthread_cond_signal(&svc->stop_cond);
        pthread_mutex_unlock(&svc->stop_lock);
        pthread_join(svc->sweeper, NULL);
    }
    ddb_model_close(svc->model);
    pthread_cond_destroy(&svc->stop_cond);
    pthread_mutex_destroy(&svc->stop_lock);
    free(svc);
}
