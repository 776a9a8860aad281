/*
 * wire.c — Step Functions' JSON protocol (awsJson1_0): POST /, X-Amz-Target
 * AWSStepFunctions.<Operation>, application/x-amz-json-1.0; and the service's
 * life (start-up machines from the template, the worker pool, resume).
 *
 * Operations: CreateStateMachine, DescribeStateMachine, ListStateMachines,
 * UpdateStateMachine, DeleteStateMachine, StartExecution, StartSyncExecution,
 * DescribeExecution, StopExecution, ListExecutions, GetExecutionHistory,
 * DescribeStateMachineForExecution. Shapes and error names follow the API
 * reference: errors are HTTP 400 {"__type": "<Name>", "message": "..."}
 * (StateMachineDoesNotExist, ExecutionDoesNotExist, ExecutionAlreadyExists,
 * InvalidArn, InvalidName, InvalidDefinition, InvalidExecutionInput,
 * InvalidToken, StateMachineTypeNotSupported, ValidationException); dates are
 * epoch seconds with a fraction.
 *
 * A StartExecution on "<machine ARN>#<TestCase>" runs the machine with that
 * test case of the mock config, as Step Functions Local does; the execution's
 * ARN is the plain machine's.
 */
#include "stepfunctions/wire.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/http.h"
#include "core/inproc.h"
#include "core/log.h"
#include "core/template.h"
#include "lambda/lambda.h"
#include "stepfunctions/lang.h"
#include "stepfunctions/sfn_impl.h"

#define TARGET_PREFIX "AWSStepFunctions"
#define MAX_INPUT 262144
#define MAX_DEFINITION (1024 * 1024)

/* A machine as StartExecution/StartSyncExecution last read it, with its
 * definition compiled (sfn_runtime_definition): a start finds it here instead
 * of reading the machine's row (its 15 KB definition) and having the runtime
 * compare that text with its cache's. Valid while no machine was created,
 * updated or deleted since it was read (machines_gen: every write of a
 * machine goes through this file). Reference-counted: a start holds it while
 * it runs; the last release frees it. */
typedef struct machine_memo {
    sfn_machine sm;
    const sfn_definition *def; /* NULL when the stored text does not parse */
    unsigned long gen;
    int refs; /* under memo_lock */
} machine_memo;

#define MACHINE_MEMOS 8

typedef struct sfn_service {
    core_emulator *emu;
    sfn_model *model;
    sfn_runtime *runtime;
    sfn_mocks *mocks;
    sfn_chaos *chaos;
    char region[64];
    pthread_t resumer;
    int resumer_started;
    atomic_int started; /* the listeners came up */
    atomic_ulong machines_gen; /* bumped by every write of a machine */
    pthread_mutex_t memo_lock;
    machine_memo *memos[MACHINE_MEMOS];
    unsigned next_memo;
} sfn_service;

typedef int (*sfn_op)(sfn_service *svc, const cJSON *req, cJSON **out, core_err *err);

static void machines_changed(sfn_service *svc);

/* ---- helpers --------------------------------------------------------------------- */

static const char *req_str(const cJSON *req, const char *name)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(req, name);
    return cJSON_IsString(f) ? f->valuestring : NULL;
}

static int required(const cJSON *req, const char *name, const char **out, core_err *err)
{
    *out = req_str(req, name);
    if (!*out)
        return core_err_set(err, 400, "ValidationException",
                            "1 validation error detected: Value null at '%s' failed to satisfy "
                            "constraint: Member must not be null", name);
    return CORE_OK;
}

static void add_date(cJSON *o, const char *key, int64_t ms)
{
    cJSON_AddNumberToObject(o, key, (double)ms / 1000.0);
}

static int valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > 80)
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f || strchr("<>{}[]?*\"#%\\^|~`$&,;:/", *p))
            return 0;
        if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return 0; /* U+0080..U+009F */
    }
    return 1;
}

/* Split "arn:aws:states:<region>:<account>:stateMachine:<name>[#case]". */
static int machine_arn_parse(const char *arn, char *plain, size_t plain_len, char *name,
                             size_t name_len, char *test_case, size_t case_len, core_err *err)
{
    if (!arn || strncmp(arn, "arn:", 4) != 0)
        return core_err_set(err, 400, "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: %.200s'",
                            arn ? arn : "");
    const char *p = strstr(arn, ":stateMachine:");
    if (strncmp(arn, "arn:aws:states:", 15) != 0 || !p)
        return core_err_set(err, 400, "InvalidArn",
                            "Invalid Arn: 'Resource type not valid in this context: %.200s'", arn);
    const char *nm = p + 14;
    const char *hash = strchr(nm, '#');
    size_t nlen = hash ? (size_t)(hash - nm) : strlen(nm);
    if (nlen == 0 || nlen >= name_len || (size_t)(nm - arn) + nlen >= plain_len)
        return core_err_set(err, 400, "InvalidArn", "Invalid Arn: '%.200s'", arn);
    memcpy(name, nm, nlen);
    name[nlen] = '\0';
    memcpy(plain, arn, (size_t)(nm - arn) + nlen);
    plain[(nm - arn) + nlen] = '\0';
    test_case[0] = '\0';
    if (hash)
        snprintf(test_case, case_len, "%s", hash + 1);
    return CORE_OK;
}

static int exec_arn_check(const char *arn, core_err *err)
{
    if (!arn || strncmp(arn, "arn:", 4) != 0)
        return core_err_set(err, 400, "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: %.200s'",
                            arn ? arn : "");
    if (strncmp(arn, "arn:aws:states:", 15) != 0 ||
        (!strstr(arn, ":execution:") && !strstr(arn, ":express:")))
        return core_err_set(err, 400, "InvalidArn",
                            "Invalid Arn: 'Resource type not valid in this context: %.200s'", arn);
    return CORE_OK;
}

static int max_results(const cJSON *req, int dflt, core_err *err, int *out)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(req, "maxResults");
    *out = dflt;
    if (!m)
        return CORE_OK;
    if (!cJSON_IsNumber(m) || m->valuedouble < 0 || m->valuedouble > 1000)
        return core_err_set(err, 400, "ValidationException",
                            "1 validation error detected: Value at 'maxResults' failed to "
                            "satisfy constraint: Member must have value less than or equal to "
                            "1000");
    if (m->valueint > 0)
        *out = m->valueint;
    return CORE_OK;
}

/* Parse and validate a definition as CreateStateMachine does. Caller frees *out. */
static int check_definition(const char *text, cJSON **out, core_err *err)
{
    *out = NULL;
    if (strlen(text) > MAX_DEFINITION)
        return core_err_set(err, 400, "ValidationException",
                            "1 validation error detected: Value at 'definition' failed to satisfy "
                            "constraint: Member must have length less than or equal to 1048576");
    cJSON *def = cJSON_Parse(text);
    if (!cJSON_IsObject(def)) {
        cJSON_Delete(def);
        return core_err_set(err, 400, "InvalidDefinition",
                            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The "
                            "definition is not a valid JSON object'");
    }
    if (sfn_asl_validate(def, err) != CORE_OK) {
        cJSON_Delete(def);
        if (strcmp(err->type, "InvalidDefinition") != 0)
            snprintf(err->type, sizeof err->type, "InvalidDefinition");
        err->status = 400;
        return CORE_ERROR;
    }
    *out = def;
    return CORE_OK;
}

static void machine_arn(const sfn_service *svc, const char *name, char *out, size_t len)
{
    snprintf(out, len, "arn:aws:states:%s:%s:stateMachine:%s", svc->region, CORE_ACCOUNT_ID,
             name);
}

/* ---- state machines ----------------------------------------------------------------- */

static int op_create_machine(sfn_service *svc, const cJSON *req, cJSON **out, core_err *err)
{
    const char *name, *definition, *role;
    if (required(req, "name", &name, err) || required(req, "definition", &definition, err) ||
        required(req, "roleArn", &role, err))
        return CORE_ERROR;
    if (!valid_name(name))
        return core_err_set(err, 400, "InvalidName", "Invalid Name: '%.200s'", name);
    const char *type = req_str(req, "type");
    if (!type)
        type = "STANDARD";
    if (strcmp(type, "STANDARD") != 0 && strcmp(type, "EXPRESS") != 0)
        return core_err_set(err, 400, "ValidationException",
                            "1 validation error detected: Value '%.40s' at 'type' failed to "
                            "satisfy constraint: Member must satisfy enum value set: [STANDARD, "
                            "EXPRESS]", type);
    if (strncmp(role, "arn:", 4) != 0)
        return core_err_set(err, 400, "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: %.200s'",
                            role);
    cJSON *def;
    if (check_definition(definition, &def, err) != CORE_OK)
        return CORE_ERROR;
    cJSON_Delete(def);
    char arn[400], rev[40];
    machine_arn(svc, name, arn, sizeof arn);
    int64_t now = core_clock_now_ms(core_emulator_clock(svc->emu));
    snprintf(rev, sizeof rev, "%lld", (long long)now);
    sfn_machine sm = {.arn = arn, .name = (char *)name, .definition = (char *)definition,
                      .role_arn = (char *)role, .type = (char *)type, .created_ms = now,
                      .updated_ms = now, .revision_id = rev};
    int existed;
    int created = sfn_model_machine_create(svc->model, &sm, &existed, err);
    machines_changed(svc);
    if (created != CORE_OK)
        return CORE_ERROR;
    sfn_machine got;
    if (sfn_model_machine_get(svc->model, arn, &got, err) != CORE_OK)
        return CORE_ERROR;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "stateMachineArn", arn);
    add_date(*out, "creationDate", got.created_ms);
    sfn_machine_release(&got);
    return CORE_OK;
}

static int get_machine(sfn_service *svc, const cJSON *req, sfn_machine *sm, core_err *err)
{
    const char *arn;
    char plain[400], name[128], tc[128];
    if (required(req, "stateMachineArn", &arn, err) ||
        machine_arn_parse(arn, plain, sizeof plain, name, sizeof name, tc, sizeof tc, err))
        return CORE_ERROR;
    return sfn_model_machine_get(svc->model, plain, sm, err);
}

static cJSON *describe_machine(const sfn_machine *sm)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "stateMachineArn", sm->arn);
    cJSON_AddStringToObject(o, "name", sm->name);
    cJSON_AddStringToObject(o, "status", "ACTIVE");
    cJSON_AddStringToObject(o, "definition", sm->definition);
    cJSON_AddStringToObject(o, "roleArn", sm->role_arn);
    cJSON_AddStringToObject(o, "type", sm->type);
    add_date(o, "creationDate", sm->created_ms);
    cJSON *log = cJSON_AddObjectToObject(o, "loggingConfiguration");
    cJSON_AddStringToObject(log, "level", "OFF");
    cJSON_AddBoolToObject(log, "includeExecutionData", 0);
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(o, "tracingConfiguration"), "enabled", 0);
    if (sm->updated_ms != sm->created_ms)
        cJSON_AddStringToObject(o, "revisionId", sm->revision_id);
    return o;
}

static int op_describe_machine(sfn_service *svc, const cJSON *req, cJSON **out, core_err *err)
{
    sfn_machine sm;
    if (get_machine(svc, req, &sm, err) != CORE_OK)
        return CORE_ERROR;
    *out = describe_machine(&sm);
    sfn_machine_release(&sm);
    return CORE_OK;
}

static int op_list_machines(sfn_service *svc, const cJSON *req, cJSON **out, core_err *err)
{
    int limit;
    if (max_results(req, 100, err, &limit) != CORE_OK)
        return CORE_ERROR;
    const char *token = req_str(req, "nextToken");
    sfn_machine *list;
    size_t n;
    int more;
    if (sfn_model_machine_list(svc->model, token, limit, &list, &n, &more, err) != CORE_OK) {
        free(list);
        return CORE_ERROR;
    }
    *out = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(*out, "stateMachines");
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "stateMachineArn", list[i].arn);
        cJSON_AddStringToObject(o, "name", list[i].name);
        cJSON_AddStringToObject(o, "type", list[i].type);
        add_date(o, "creationDate", list[i].created_ms);
        cJSON_AddItemToArray(a, o);
    }
    if (more && n)
        cJSON_AddStringToObject(*out, "nextToken", list[n - 1].name);
    for (size_t i = 0; i < n; i++)
        sfn_machine_release(&list[i]);
    free(list);
    return CORE_OK;
}

static int op_update_machine(sfn_service *svc, const cJSON *req, cJSON **out, core_err *err)
{
    sfn_machine sm;
    if (get_machine(svc, req, &sm, err) != CORE_OK)
        return CORE_ERROR;
    const char *definition = req_str(req, "definition");
    const char *role = req_str(req, "roleArn");
    int rc = CORE_OK;
    if (!definition && !role)
        rc = core_err_set(err, 400, "MissingRequiredParameter",
                          "Either the definition, the roleArn, the loggingConfiguration or the "
                          "tracingConfiguration must be specified");
    if (rc == CORE_OK && definition) {
        cJSON *def;
        rc = check_definition(definition, &def, err);
        cJSON_Delete(def);
    }
    if (rc == CORE_OK && role && strncmp(role, "arn:", 4) != 0)
        rc = core_err_set(err, 400, "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: %.200s'",
                          role);
    sfn_machine updated = {0};
    if (rc == CORE_OK)
        rc = sfn_model_machine_update(svc->model, sm.arn, definition, role,
                                      core_clock_now_ms(core_emulator_clock(svc->emu)), &updated,
                                      err);
    machines_changed(svc);
    if (rc == CORE_OK) {
        *out = cJSON_CreateObject();
        add_date(*out, "updateDate", updated.updated_ms);
        cJSON_AddStringToObject(*out, "revisionId", updated.revision_id);
    }
    sfn_machine_release(&updated);
    sfn_machine_release(&sm);
    return rc;
}

static int op_delete_machine(sfn_service *svc, const cJSON *req, cJSON **out, core_err *err)
{
    const char *arn;
    char plain[400], name[128], tc[128];
    if (required(req, "stateMachineArn", &arn, err) ||
        machine_arn_parse(arn, plain, sizeof plain, name, sizeof name, tc, sizeof tc, err))
        return CORE_ERROR;
    int rc = sfn_model_machine_delete(svc->model, plain, err);
    machines_changed(svc);
    if (rc != CORE_OK)
        return CORE_ERROR;
    *out = cJSON_CreateObject();
    return CORE_OK;
}

/* ---- executions ---------------------------------------------------------------------- */

/* A machine was created, updated or deleted: every memo is stale. */
static void machines_changed(sfn_service *svc)
{
    atomic_fetch_add(&svc->machines_gen, 1);
}

/* Drop a reference (under memo_lock). */
static void memo_unref(sfn_service *svc, machine_memo *m)
{
    if (!m || --m->refs > 0)
        return;
    sfn_runtime_definition_release(svc->runtime, m->def);
    sfn_machine_release(&m->sm);
    free(m);
}

static void memo_release(sfn_service *svc, machine_memo *m)
{
    pthread_mutex_lock(&svc->memo_lock);
    memo_unref(svc, m);
    pthread_mutex_unlock(&svc->memo_lock);
}

/* The machine plain (its ARN) with its compiled definition, a reference the
 * caller releases with memo_release; NULL with err (StateMachineDoesNotExist,
 * ...) as sfn_model_machine_get fails. */
static machine_memo *memo_get(sfn_service *svc, const char *plain, core_err *err)
{
    unsigned long gen = atomic_load(&svc->machines_gen);
    pthread_mutex_lock(&svc->memo_lock);
    for (int i = 0; i < MACHINE_MEMOS; i++) {
        machine_memo *m = svc->memos[i];
        if (m && m->gen == gen && !strcmp(m->sm.arn, plain)) {
            m->refs++;
            pthread_mutex_unlock(&svc->memo_lock);
            return m;
        }
    }
    pthread_mutex_unlock(&svc->memo_lock);
    machine_memo *m = calloc(1, sizeof *m);
    if (!m) {
        core_err_set(err, 500, "InternalFailure", "out of memory");
        return NULL;
    }
    if (sfn_model_machine_get(svc->model, plain, &m->sm, err) != CORE_OK) {
        free(m);
        return NULL;
    }
    m->def = sfn_runtime_definition(svc->runtime, m->sm.definition);
    m->gen = gen; /* read after gen: a write since makes it stale, never wrongly fresh */
    m->refs = 1;
    pthread_mutex_lock(&svc->memo_lock);
    unsigned slot = svc->next_memo++ % MACHINE_MEMOS;
    memo_unref(svc, svc->memos[slot]);
    svc->memos[slot] = m;
    m->refs++; /* the slot's */
    pthread_mutex_unlock(&svc->memo_lock);
    return m;
}

/* StartExecution (sync_out NULL: stored, for the pool) or StartSyncExecution
 * (run here, nothing stored, the ended row in *sync_out). */
static int start(sfn_service *svc, const cJSON *req, sfn_exec_row *sync_out, char *arn_out,
                 size_t arn_len, int64_t *start_ms, int *reused, core_err *err)
{
    int sync = sync_out != NULL;
    *reused = 0;
    const char *arn;
    char plain[400], mname[128], tc[128];
    if (required(req, "stateMachineArn", &arn, err) ||
        machine_arn_parse(arn, plain, sizeof plain, mname, sizeof mname, tc, sizeof tc, err))
        return CORE_ERROR;
    machine_memo *memo = memo_get(svc, plain, err);
    if (!memo)
        return CORE_ERROR;
    const sfn_machine sm = memo->sm; /* borrowed while memo is held */
    int express = !strcmp(sm.type, "EXPRESS");
    int rc = CORE_OK;
    if (sync && !express)
        rc = core_err_set(err, 400, "StateMachineTypeNotSupported",
                          "This operation is not supported by this type of state machine");
    if (rc == CORE_OK && tc[0] && !sfn_mocks_has_case(svc->mocks, sm.name, tc))
        rc = core_err_set(err, 400, "InvalidArn",
                          "Invalid Arn: 'test case %.100s is not in the mock config for state "
                          "machine %.100s'", tc, sm.name);
    const char *input = req_str(req, "input");
    if (!input)
        input = "{}";
    if (rc == CORE_OK && strlen(input) > MAX_INPUT)
        rc = core_err_set(err, 400, "ValidationException",
                          "1 validation error detected: Value at 'input' failed to satisfy "
                          "constraint: Member must have length less than or equal to 262144");
    cJSON *parsed = rc == CORE_OK ? cJSON_Parse(input) : NULL;
    if (rc == CORE_OK && !parsed)
        rc = core_err_set(err, 400, "InvalidExecutionInput",
                          "Invalid State Machine Execution Input: 'Unexpected character or end "
                          "of input in %.60s'", input);
    cJSON_Delete(parsed);
    char name[128];
    const char *given = req_str(req, "name");
    if (given)
        snprintf(name, sizeof name, "%s", given);
    else
        core_http_uuid(name);
    if (rc == CORE_OK && !valid_name(name))
        rc = core_err_set(err, 400, "InvalidName", "Invalid Name: '%.200s'", name);
    const char *start_at = sfn_definition_start_at(memo->def);
    if (rc == CORE_OK && (!start_at || strlen(start_at) >= 256))
        rc = core_err_set(err, 400, "InvalidDefinition", "the stored definition has no StartAt");
    sfn_exec_arn(svc->region, sm.name, name, express, arn_out, arn_len);
    if (rc == CORE_OK && sync) {
        *start_ms = core_clock_now_ms(core_emulator_clock(svc->emu));
        sfn_exec_row row = {.arn = arn_out, .machine_arn = sm.arn, .machine_name = sm.name,
                            .name = name, .input = (char *)input, .definition = sm.definition,
                            .role_arn = sm.role_arn, .type = sm.type,
                            .test_case = tc[0] ? tc : NULL, .start_ms = *start_ms};
        rc = sfn_runtime_run_ephemeral_def(svc->runtime, memo->def, &row, start_at, sync_out,
                                           err);
        /* the answer names the execution: what the run hands back does not */
        sync_out->arn = strdup(arn_out);
        sync_out->machine_arn = strdup(sm.arn);
        sync_out->name = strdup(name);
        sync_out->input = strdup(input);
    } else if (rc == CORE_OK) {
        *start_ms = core_clock_now_ms(core_emulator_clock(svc->emu));
        sfn_exec_row row = {.arn = arn_out, .machine_arn = sm.arn, .machine_name = sm.name,
                            .name = name, .input = (char *)input, .definition = sm.definition,
                            .role_arn = sm.role_arn, .type = sm.type,
                            .test_case = tc[0] ? tc : NULL, .start_ms = *start_ms};
        cJSON *d = cJSON_CreateObject();
        cJSON *inner = cJSON_AddObjectToObject(d, "executionStartedEventDetails");
        cJSON_AddStringToObject(inner, "input", input);
        cJSON_AddBoolToObject(cJSON_AddObjectToObject(inner, "inputDetails"), "truncated", 0);
        cJSON_AddStringToObject(inner, "roleArn", sm.role_arn);
        char *details = cJSON_PrintUnformatted(d);
        cJSON_Delete(d);
        rc = sfn_model_exec_create(svc->model, &row, start_at, details, err);
        free(details);
        if (rc != CORE_OK && !strcmp(err->type, "ExecutionAlreadyExists")) {
            /* Same name and input while it runs: the same execution (idempotent). */
            sfn_exec_row old;
            core_err e2;
            if (sfn_model_exec_get(svc->model, arn_out, &old, &e2) == CORE_OK) {
                if (!strcmp(old.status, "RUNNING") && !strcmp(old.input, input) && !sync) {
                    *start_ms = old.start_ms;
                    *reused = 1;
                    rc = CORE_OK;
                }
                sfn_exec_row_release(&old);
            }
        }
    }
    memo_release(svc, memo);
    return rc;
}

static int op_start_execution(sfn_service *svc, const cJSON *req, cJSON **out, core_err *err)
{
    char arn[600];
    int64_t started;
    int reused;
    if (start(svc, req, NULL, arn, sizeof arn, &started, &reused, err) != CORE_OK)
        return CORE_ERROR;
    if (!reused && sfn_runtime_submit(svc->runtime, arn, err) != CORE_OK)
        return CORE_ERROR;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "executionArn", arn);
    add_date(*out, "startDate", started);
    return CORE_OK;
}

static void add_io(cJSON *o, const char *key, const char *value)
{
    if (!value)
        return;
    cJSON_AddStringToObject(o, key, value);
    char dkey[40];
    snprintf(dkey, sizeof dkey, "%sDetails", key);
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(o, dkey), "included", 1);
}

static cJSON *describe_execution(const sfn_exec_row *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "executionArn", r->arn);
    cJSON_AddStringToObject(o, "stateMachineArn", r->machine_arn);
    cJSON_AddStringToObject(o, "name", r->name);
    cJSON_AddStringToObject(o, "status", r->status);
    add_date(o, "startDate", r->start_ms);
    if (strcmp(r->status, "RUNNING") != 0)
        add_date(o, "stopDate", r->stop_ms);
    add_io(o, "input", r->input);
    add_io(o, "output", r->output);
    /* A machine-level timeout has no error or cause here on AWS (the history's
     * ExecutionTimedOut event carries States.Timeout). */
    int timed_out = !strcmp(r->status, "TIMED_OUT");
    if (r->error && !timed_out)
        cJSON_AddStringToObject(o, "error", r->error);
    if (r->cause && !timed_out)
        cJSON_AddStringToObject(o, "cause", r->cause);
    cJSON_AddNumberToObject(o, "redriveCount", 0);
    cJSON_AddStringToObject(o, "redriveStatus", "NOT_REDRIVABLE");
    return o;
}

static int op_start_sync_execution(sfn_service *svc, const cJSON *req, cJSON **out,
                                   core_err *err)
{
    char arn[600];
    int64_t started;
    int reused;
    sfn_exec_row r = {0};
    int64_t t0 = core_clock_monotonic_ms();
    if (start(svc, req, &r, arn, sizeof arn, &started, &reused, err) != CORE_OK) {
        sfn_exec_row_release(&r);
        return CORE_ERROR;
    }
    if (!r.status || !strcmp(r.status, "RUNNING")) {
        sfn_exec_row_release(&r);
        return core_err_set(err, 500, "ServiceUnavailable", "the emulator is shutting down");
    }
    *out = describe_execution(&r);
    cJSON_DeleteItemFromObjectCaseSensitive(*out, "redriveCount");
    cJSON_DeleteItemFromObjectCaseSensitive(*out, "redriveStatus");
    cJSON *bill = cJSON_AddObjectToObject(*out, "billingDetails");
    cJSON_AddNumberToObject(bill, "billedMemoryUsedInMB", 64);
    int64_t took = core_clock_monotonic_ms() - t0;
    cJSON_AddNumberToObject(bill, "billedDurationInMilliseconds", (double)((took / 100 + 1) * 100));
    sfn_exec_row_release(&r);
    return CORE_OK;
}

static int get_execution(sfn_service *svc, const cJSON *req, sfn_exec_row *r, core_err *err)
{
    const char *arn;
    if (required(req, "executionArn", &arn, err) || exec_arn_check(arn, err))
        return CORE_ERROR;
    return sfn_model_exec_get(svc->model, arn, r, err);
}

static int op_describe_execution(sfn_service *svc, const cJSON *req, cJSON **out,
                                 core_err *err)
{
    sfn_exec_row r;
    if (get_execution(svc, req, &r, err) != CORE_OK)
        return CORE_ERROR;
    *out = describe_execution(&r);
    sfn_exec_row_release(&r);
    return CORE_OK;
}

static int op_describe_machine_for_execution(sfn_service *svc, const cJSON *req, cJSON **out,
                                             core_err *err)
{
    sfn_exec_row r;
    if (get_execution(svc, req, &r, err) != CORE_OK)
        return CORE_ERROR;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "stateMachineArn", r.machine_arn);
    cJSON_AddStringToObject(*out, "name", r.machine_name);
    cJSON_AddStringToObject(*out, "definition", r.definition);
    cJSON_AddStringToObject(*out, "roleArn", r.role_arn);
    add_date(*out, "updateDate", r.start_ms);
    sfn_exec_row_release(&r);
    return CORE_OK;
}

static int op_stop_execution(sfn_service *svc, const cJSON *req, cJSON **out, core_err *err)
{
    sfn_exec_row r;
    if (get_execution(svc, req, &r, err) != CORE_OK)
        return CORE_ERROR;
    int64_t stop_ms = r.stop_ms;
    int rc = CORE_OK;
    if (!strcmp(r.status, "RUNNING"))
        rc = sfn_runtime_stop(svc->runtime, r.arn, req_str(req, "error"), req_str(req, "cause"),
                              &stop_ms, err);
    if (rc == CORE_OK) {
        *out = cJSON_CreateObject();
        add_date(*out, "stopDate", stop_ms);
    }
    sfn_exec_row_release(&r);
    return rc;
}

static int op_list_executions(sfn_service *svc, const cJSON *req, cJSON **out, core_err *err)
{
    int limit;
    if (max_results(req, 100, err, &limit) != CORE_OK)
        return CORE_ERROR;
    sfn_machine sm;
    if (get_machine(svc, req, &sm, err) != CORE_OK)
        return CORE_ERROR;
    const char *status = req_str(req, "statusFilter");
    static const char *const statuses[] = {"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT",
                                           "ABORTED", "PENDING_REDRIVE"};
    int ok = !status;
    for (size_t i = 0; status && i < sizeof statuses / sizeof *statuses; i++)
        ok |= !strcmp(status, statuses[i]);
    int rc = CORE_OK;
    if (!ok)
        rc = core_err_set(err, 400, "ValidationException",
                          "1 validation error detected: Value '%.40s' at 'statusFilter' failed "
                          "to satisfy constraint: Member must satisfy enum value set: [RUNNING, "
                          "SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]", status);
    const char *token = req_str(req, "nextToken");
    if (rc == CORE_OK && token) {
        sfn_exec_row t;
        if (sfn_model_exec_get(svc->model, token, &t, err) != CORE_OK ||
            strcmp(t.machine_arn, sm.arn) != 0)
            rc = core_err_set(err, 400, "InvalidToken", "Invalid Token: '%.100s'", token);
        sfn_exec_row_release(&t);
    }
    sfn_exec_row *list = NULL;
    size_t n = 0;
    int more = 0;
    if (rc == CORE_OK)
        rc = sfn_model_exec_list(svc->model, sm.arn, status, token, limit, &list, &n, &more, err);
    if (rc == CORE_OK) {
        *out = cJSON_CreateObject();
        cJSON *a = cJSON_AddArrayToObject(*out, "executions");
        for (size_t i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "executionArn", list[i].arn);
            cJSON_AddStringToObject(o, "stateMachineArn", list[i].machine_arn);
            cJSON_AddStringToObject(o, "name", list[i].name);
            cJSON_AddStringToObject(o, "status", list[i].status);
            add_date(o, "startDate", list[i].start_ms);
            if (strcmp(list[i].status, "RUNNING") != 0)
                add_date(o, "stopDate", list[i].stop_ms);
            cJSON_AddItemToArray(a, o);
        }
        if (more && n)
            cJSON_AddStringToObject(*out, "nextToken", list[n - 1].arn);
    }
    for (size_t i = 0; i < n; i++)
        sfn_exec_row_release(&list[i]);
    free(list);
    sfn_machine_release(&sm);
    return rc;
}

static int op_get_history(sfn_service *svc, const cJSON *req, cJSON **out, core_err *err)
{
    int limit;
    if (max_results(req, 100, err, &limit) != CORE_OK)
        return CORE_ERROR;
    sfn_exec_row r;
    if (get_execution(svc, req, &r, err) != CORE_OK)
        return CORE_ERROR;
    cJSON *events = NULL;
    int rc = sfn_model_events(svc->model, r.arn, &events, err);
    int reverse = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "reverseOrder"));
    const cJSON *incl = cJSON_GetObjectItemCaseSensitive(req, "includeExecutionData");
    int include_data = !cJSON_IsFalse(incl);
    const char *token = req_str(req, "nextToken");
    long skip = 0;
    if (rc == CORE_OK && token) {
        char *end;
        skip = strtol(token, &end, 10);
        if (*end || skip < 0 || skip > cJSON_GetArraySize(events))
            rc = core_err_set(err, 400, "InvalidToken", "Invalid Token: '%.100s'", token);
    }
    if (rc == CORE_OK) {
        int n = cJSON_GetArraySize(events);
        *out = cJSON_CreateObject();
        cJSON *a = cJSON_AddArrayToObject(*out, "events");
        long taken = 0;
        for (long k = skip; k < n && taken < limit; k++, taken++) {
            cJSON *e = cJSON_Duplicate(cJSON_GetArrayItem(events, reverse ? n - 1 - (int)k
                                                                       : (int)k), 1);
            cJSON *ts = cJSON_DetachItemFromObjectCaseSensitive(e, "timestampMs");
            cJSON *o = cJSON_CreateObject();
            add_date(o, "timestamp", ts ? (int64_t)ts->valuedouble : 0);
            cJSON_Delete(ts);
            while (e->child) {
                cJSON *f = cJSON_DetachItemViaPointer(e, e->child);
                if (!include_data && cJSON_IsObject(f)) {
                    static const char *const data_keys[] = {"input", "output", "parameters"};
                    for (size_t d = 0; d < sizeof data_keys / sizeof *data_keys; d++)
                        cJSON_DeleteItemFromObjectCaseSensitive(f, data_keys[d]);
                }
                cJSON_AddItemToObject(o, f->string, f);
            }
            cJSON_Delete(e);
            cJSON_AddItemToArray(a, o);
        }
        if (skip + taken < n) {
            char next[24];
            snprintf(next, sizeof next, "%ld", skip + taken);
            cJSON_AddStringToObject(*out, "nextToken", next);
        }
    }
    cJSON_Delete(events);
    sfn_exec_row_release(&r);
    return rc;
}

static const struct {
    const char *name;
    sfn_op fn;
} ops[] = {
    {"CreateStateMachine", op_create_machine},
    {"DescribeStateMachine", op_describe_machine},
    {"ListStateMachines", op_list_machines},
    {"UpdateStateMachine", op_update_machine},
    {"DeleteStateMachine", op_delete_machine},
    {"StartExecution", op_start_execution},
    {"StartSyncExecution", op_start_sync_execution},
    {"DescribeExecution", op_describe_execution},
    {"DescribeStateMachineForExecution", op_describe_machine_for_execution},
    {"StopExecution", op_stop_execution},
    {"ListExecutions", op_list_executions},
    {"GetExecutionHistory", op_get_history},
};

static void answer(core_http_response *resp, const core_http_request *req, int status,
                   const cJSON *body)
{
    /* core_http_response_json's bytes (sfn_json_print is cJSON's printer, faster) */
    size_t len;
    const char *text = sfn_json_print_borrowed(body, &len);
    if (text)
        core_http_response_body(resp, status, "application/x-amz-json-1.0", text, len);
    else
        core_http_response_json(resp, status, "application/x-amz-json-1.0", body);
    core_http_response_header(resp, "x-amzn-RequestId", req->request_id, 0);
}

static void handle(void *ctx, const core_http_request *req, core_http_response *resp)
{
    sfn_service *svc = ctx;
    core_err err;
    core_err_clear(&err);
    const char *target = core_http_header_get(req, "X-Amz-Target");
    const char *name = target ? strchr(target, '.') : NULL;
    sfn_op op = NULL;
    for (size_t i = 0; name && i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(ops[i].name, name + 1))
            op = ops[i].fn;
    if (!op || strcmp(req->method, "POST") != 0) {
        core_http_response_aws_error(resp, req, 400, "UnknownOperationException",
                                     op ? "Step Functions answers POST only"
                                        : "Unknown operation");
        return;
    }
    cJSON *body = cJSON_ParseWithLength(req->body, req->body_len);
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        core_http_response_aws_error(resp, req, 400, "SerializationException",
                                     "Start of structure or map found where not expected, or "
                                     "the body is not valid JSON");
        return;
    }
    cJSON *out = NULL;
    if (op(svc, body, &out, &err) == CORE_OK) {
        answer(resp, req, 200, out);
    } else {
        if (!err.type[0])
            core_err_set(&err, 500, "InternalFailure", "Internal failure");
        core_log(err.status >= 500 ? CORE_LOG_ERROR : CORE_LOG_DEBUG, "stepfunctions",
                 req->request_id, "%s: %s: %s", name + 1, err.type, err.message);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "__type", err.type);
        cJSON_AddStringToObject(e, "message", err.message);
        answer(resp, req, err.status >= 400 && err.status <= 599 ? err.status : 400, e);
        core_http_response_header(resp, "x-amzn-ErrorType", err.type, 0);
        cJSON_Delete(e);
    }
    cJSON_Delete(out);
    cJSON_Delete(body);
}

/* ---- integrations -------------------------------------------------------------------- */

static int hook_lambda(void *ctx, const char *function, const cJSON *payload, cJSON **result,
                       core_err *err)
{
    sfn_service *svc = ctx;
    lam_service *lam = lam_service_of(svc->emu);
    if (!lam)
        return core_err_set(err, 400, "Lambda.ServiceException", "no Lambda service");
    lam_result r;
    memset(&r, 0, sizeof r);
    lam_invoke_event(lam, function, payload, &r);
    int rc = CORE_OK;
    if (r.status == LAM_OK) {
        *result = r.payload ? cJSON_ParseWithLength(r.payload, r.len) : NULL;
        if (!*result)
            *result = cJSON_CreateNull();
    } else if (r.status == LAM_NOT_FOUND) {
        rc = core_err_set(err, 400, "Lambda.ResourceNotFoundException",
                          "Function not found: %.300s (Service: AWSLambda; Status Code: 404; "
                          "Error Code: ResourceNotFoundException; Request ID: %s; Proxy: null)",
                          function, r.request_id);
    } else {
        rc = core_err_set(err, 400, r.error_type[0] ? r.error_type : "Lambda.Unknown", "%.*s",
                          (int)r.len, r.payload ? r.payload : "");
    }
    lam_result_release(&r);
    return rc;
}

static int hook_service(void *ctx, const char *target, const cJSON *body, cJSON **result,
                        core_err *err)
{
    sfn_service *svc = ctx;
    return core_inproc_call(core_emulator_router(svc->emu), target, body, result, err);
}

static int hook_alive(void *ctx)
{
    sfn_service *svc = ctx;
    /* Past start-up, "not listening" means the emulator is stopping. */
    return !svc->started || core_emulator_wait_listening(svc->emu, 0);
}

/* ---- life ------------------------------------------------------------------------------ */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 && n <= MAX_DEFINITION ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Replace every ${Key} of subs in text (owned, returned possibly reallocated). */
static char *substitute(char *text, const cJSON *subs)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, subs)
    {
        if (!cJSON_IsString(s))
            continue;
        char key[300];
        snprintf(key, sizeof key, "${%s}", s->string);
        size_t klen = strlen(key), vlen = strlen(s->valuestring);
        char *hit;
        size_t from = 0;
        while ((hit = strstr(text + from, key))) {
            size_t at = (size_t)(hit - text), len = strlen(text);
            char *grown = malloc(len - klen + vlen + 1);
            if (!grown)
                return text;
            memcpy(grown, text, at);
            memcpy(grown + at, s->valuestring, vlen);
            memcpy(grown + at + vlen, text + at + klen, len - at - klen + 1);
            free(text);
            text = grown;
            from = at + vlen;
        }
    }
    return text;
}

static int template_machines(sfn_service *svc, core_err *err)
{
    const core_template *tpl = core_emulator_template(svc->emu);
    for (size_t i = 0; i < core_template_state_machine_count(tpl); i++) {
        const core_tpl_state_machine *t = core_template_state_machine_at(tpl, i);
        char *text = t->definition_path ? read_file(t->definition_path)
                     : t->definition    ? cJSON_PrintUnformatted(t->definition)
                                        : NULL;
        if (!text)
            return core_err_set(err, 400, "ValidationError",
                                "Resources.%s: cannot read the state machine definition %s",
                                t->resource->logical_id,
                                t->definition_path ? t->definition_path : "(none)");
        text = substitute(text, t->substitutions);
        cJSON *def;
        if (check_definition(text, &def, err) != CORE_OK) {
            char msg[sizeof err->message];
            snprintf(msg, sizeof msg, "%s", err->message);
            free(text);
            return core_err_set(err, 400, "ValidationError", "Resources.%s: %s",
                                t->resource->logical_id, msg);
        }
        /* Stored compact, as the definition a client would have sent. */
        char *compact = cJSON_PrintUnformatted(def);
        cJSON_Delete(def);
        free(text);
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(t->resource->properties, "Role");
        char role_arn[400];
        snprintf(role_arn, sizeof role_arn, "%s",
                 cJSON_IsString(role) ? role->valuestring
                                      : "arn:aws:iam::000000000000:role/shoplocal-statemachine");
        if (!cJSON_IsString(role)) {
            snprintf(role_arn, sizeof role_arn, "arn:aws:iam::%s:role/%s-role", CORE_ACCOUNT_ID,
                     t->name);
        }
        int64_t now = core_clock_now_ms(core_emulator_clock(svc->emu));
        char rev[40];
        snprintf(rev, sizeof rev, "%lld", (long long)now);
        sfn_machine sm = {.arn = (char *)t->arn, .name = (char *)t->name, .definition = compact,
                          .role_arn = role_arn, .type = t->type ? t->type : "STANDARD",
                          .created_ms = now, .updated_ms = now, .revision_id = rev};
        int existed;
        core_err inner;
        core_err_clear(&inner);
        int rc = sfn_model_machine_create(svc->model, &sm, &existed, &inner);
        if (rc != CORE_OK && !strcmp(inner.type, "StateMachineAlreadyExists")) {
            /* The template is the source of truth: a changed definition replaces the stored one. */
            sfn_machine upd = {0};
            rc = sfn_model_machine_update(svc->model, t->arn, compact, role_arn, now, &upd, &inner);
            sfn_machine_release(&upd);
        }
        machines_changed(svc);
        free(compact);
        if (rc != CORE_OK)
            return core_err_set(err, 500, "InternalFailure", "Resources.%s: %s",
                                t->resource->logical_id, inner.message);
    }
    return CORE_OK;
}

static void *resumer_main(void *arg)
{
    sfn_service *svc = arg;
    /* Resumed tasks call Lambdas that call the aws listener: wait for it. */
    if (!core_emulator_wait_listening(svc->emu, 60000))
        return NULL;
    atomic_store(&svc->started, 1);
    core_err err;
    core_err_clear(&err);
    int n = sfn_runtime_resume_all(svc->runtime, &err);
    if (n > 0)
        core_log(CORE_LOG_INFO, "stepfunctions", NULL, "resuming %d running execution(s)", n);
    else if (n < 0)
        core_log(CORE_LOG_ERROR, "stepfunctions", NULL, "resume: %s", err.message);
    return NULL;
}

int sfn_service_start(core_emulator *emu, void **state, core_err *err)
{
    sfn_service *svc = calloc(1, sizeof *svc);
    if (!svc)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    svc->emu = emu;
    pthread_mutex_init(&svc->memo_lock, NULL);
    const core_config *cfg = core_emulator_config(emu);
    snprintf(svc->region, sizeof svc->region, "%s", core_template_region(core_emulator_template(emu)));
    if (sfn_model_open(cfg->data_dir, &svc->model, err) != CORE_OK)
        goto fail;
    if (cfg->mock_config[0] && sfn_mocks_load_file(cfg->mock_config, &svc->mocks, err) != CORE_OK)
        goto fail;
    const char *chaos = getenv("SFN_CHAOS");
    if (chaos && *chaos) {
        cJSON *spec = cJSON_Parse(chaos);
        int rc = sfn_chaos_parse(spec, &svc->chaos, err);
        cJSON_Delete(spec);
        if (rc != CORE_OK) {
            err->status = 2;
            goto fail;
        }
    }
    if (template_machines(svc, err) != CORE_OK)
        goto fail;
    sfn_runtime_opts o = {.model = svc->model, .clock = core_emulator_clock(emu), .workers = 4,
                          .region = svc->region, .mocks = svc->mocks, .chaos = svc->chaos,
                          .hooks = {.ctx = svc, .call_lambda = hook_lambda,
                                    .call_service = hook_service},
                          .alive = hook_alive, .alive_ctx = svc};
    svc->runtime = sfn_runtime_new(&o);
    if (!svc->runtime) {
        core_err_set(err, 500, "InternalFailure", "out of memory");
        goto fail;
    }
    core_service route = {.name = "stepfunctions", .target_prefix = TARGET_PREFIX,
                          .signing_name = "states", .handler = handle, .ctx = svc};
    if (core_router_add(core_emulator_router(emu), &route) != CORE_OK) {
        core_err_set(err, 500, "InternalFailure", "router full");
        goto fail;
    }
    svc->resumer_started = pthread_create(&svc->resumer, NULL, resumer_main, svc) == 0;
    *state = svc;
    return CORE_OK;
fail:
    sfn_service_stop(svc);
    *state = NULL;
    return CORE_ERROR;
}

void sfn_service_stop(void *state)
{
    sfn_service *svc = state;
    if (!svc)
        return;
    if (svc->resumer_started)
        pthread_join(svc->resumer, NULL);
    for (int i = 0; i < MACHINE_MEMOS; i++) /* their definitions go back to the runtime */
        memo_unref(svc, svc->memos[i]);
    pthread_mutex_destroy(&svc->memo_lock);
    sfn_runtime_free(svc->runtime);
    sfn_mocks_free(svc->mocks);
    sfn_chaos_free(svc->chaos);
    sfn_model_close(svc->model);
    free(svc);
}
