/*
 * sfn_impl.h — internals shared by the Step Functions files, not for other
 * modules:
 *
 *   model.c     state machines, executions and history events on SQLite
 *               (stepfunctions.db), and each running execution's position;
 *   asl_run.c   the interpreter: worker pool, states, data flow (via lang.h),
 *               Retry/Catch, timeouts, per-execution virtual time, resume;
 *   task.c      the integrations a Task state calls (Lambda, DynamoDB, SNS);
 *   mock.c      Step Functions Local mock configs and the seeded chaos mode;
 *   wire.c      the AWSStepFunctions JSON protocol and the service's life.
 *
 * Times are epoch milliseconds from core/clock.h everywhere; the wire turns
 * them into AWS's epoch seconds with a fraction.
 */
#ifndef SFN_IMPL_H
#define SFN_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/clock.h"
#include "core/err.h"

/* ---- model.c --------------------------------------------------------------- */

typedef struct sfn_model sfn_model;

typedef struct sfn_machine {
    char *arn, *name, *definition, *role_arn, *type; /* type: STANDARD | EXPRESS */
    int64_t created_ms, updated_ms;
    char *revision_id;
} sfn_machine;

/* An execution row. pos_* is where a RUNNING execution stands: the top-level
 * state it is in (or about to enter), that state's input, whether its
 * ...StateEntered event is already written, and the retry counters of the
 * state's retriers (a JSON array), so that a restart resumes there. */
typedef struct sfn_exec_row {
    char *arn, *machine_arn, *machine_name, *name, *status, *input, *output, *error, *cause;
    char *definition; /* the machine's definition as of StartExecution */
    char *role_arn, *type, *test_case;
    int64_t start_ms, stop_ms;
    char *pos_state, *pos_input, *pos_retries;
    int pos_entered;
    int64_t offset_ms; /* virtual time this execution has waited (see asl_run.c) */
    int64_t last_event_id;
} sfn_exec_row;

int sfn_model_open(const char *dir, sfn_model **out, core_err *err);
void sfn_model_close(sfn_model *m);

void sfn_machine_release(sfn_machine *sm);
void sfn_exec_row_release(sfn_exec_row *row);

/* Insert a state machine; StateMachineAlreadyExists when the name is taken by
 * a different definition (an identical one is CORE_OK with *existed = 1). */
int sfn_model_machine_create(sfn_model *m, const sfn_machine *sm, int *existed, core_err *err);
/* By ARN: CORE_OK and *out filled, or StateMachineDoesNotExist. */
int sfn_model_machine_get(sfn_model *m, const char *arn, sfn_machine *out, core_err *err);
/* Replace definition and/or role (NULL: unchanged). */
int sfn_model_machine_update(sfn_model *m, const char *arn, const char *definition,
                             const char *role_arn, int64_t now_ms, sfn_machine *out,
                             core_err *err);
int sfn_model_machine_delete(sfn_model *m, const char *arn, core_err *err);
/* Machines in name order after `after` (NULL: from the start), at most limit.
 * *more is set when more follow. Caller releases each and frees the array. */
int sfn_model_machine_list(sfn_model *m, const char *after, int limit, sfn_machine **out,
                           size_t *n, int *more, core_err *err);

/* Insert a new RUNNING execution (pos at StartAt, written in the same
 * transaction as its ExecutionStarted event, id 1). */
int sfn_model_exec_create(sfn_model *m, const sfn_exec_row *row, const char *start_at,
                          const char *started_details, core_err *err);
int sfn_model_exec_get(sfn_model *m, const char *arn, sfn_exec_row *out, core_err *err);

/* sfn_model_exec_get for running the execution: out->definition is left NULL
 * and hash (65 bytes) set to the SHA-256 (hex) its definition is stored under,
 * for a runtime that holds the parsed definition to skip its 15 KB text. */
int sfn_model_exec_get_for_run(sfn_model *m, const char *arn, sfn_exec_row *out, char *hash,
                               core_err *err);

/* The definition text stored under hash (caller frees), as sfn_model_exec_get
 * would have answered it: NULL in *text if none. */
int sfn_model_definition(sfn_model *m, const char *hash, char **text, core_err *err);
/* Executions of a machine, newest first; status NULL for all; after: the ARN
 * the previous page ended with. */
int sfn_model_exec_list(sfn_model *m, const char *machine_arn, const char *status,
                        const char *after, int limit, sfn_exec_row **out, size_t *n, int *more,
                        core_err *err);
/* ARNs of every RUNNING execution, oldest first (caller frees each and the array). */
int sfn_model_exec_running(sfn_model *m, char ***arns, size_t *n, core_err *err);

/* One history event. details: the ...EventDetails member as JSON text with its
 * key (e.g. {"stateEnteredEventDetails": {...}}), or NULL. */
typedef struct sfn_event {
    int64_t id, prev_id, ts_ms;
    const char *type;
    char *details;
} sfn_event;

/* Append events and, in the same transaction, optionally move the position
 * (pos_state NULL: keep it) and/or close the execution (status NULL: keep
 * running). This is the one write of a running execution: what it records is
 * either all there after a crash, or none of it. */
typedef struct sfn_exec_update {
    const sfn_event *events;
    size_t n_events;
    const char *pos_state;   /* NULL: unchanged */
    const char *pos_input;
    int pos_entered;
    const char *pos_retries;
    int64_t offset_ms;       /* always written */
    const char *status;      /* NULL: still RUNNING */
    const char *output, *error, *cause;
    int64_t stop_ms;
} sfn_exec_update;

int sfn_model_exec_update(sfn_model *m, const char *arn, const sfn_exec_update *u,
                          core_err *err);

/* Events of an execution in id order (an array of {id, previousEventId,
 * timestamp ms, type, details...} objects, the wire's shape except the
 * timestamp, which stays in ms under "timestampMs"). Caller owns. */
int sfn_model_events(sfn_model *m, const char *arn, cJSON **out, core_err *err);

/* Abort a RUNNING execution in storage (StopExecution of an execution no
 * worker runs, e.g. before resume). 1 if it was running. */
int sfn_model_exec_abort(sfn_model *m, const char *arn, const char *error, const char *cause,
                         int64_t now_ms, core_err *err);

/* ---- mock.c ------------------------------------------------------------------ */

typedef struct sfn_mocks sfn_mocks;

/* Parse a mock config (Step Functions Local's format). NULL text: none. */
int sfn_mocks_parse(const char *text, size_t len, sfn_mocks **out, core_err *err);
int sfn_mocks_load_file(const char *path, sfn_mocks **out, core_err *err);
void sfn_mocks_free(sfn_mocks *mocks);
/* 1 if the machine has that test case. */
int sfn_mocks_has_case(const sfn_mocks *mocks, const char *machine, const char *test_case);

/* 1 if state `state` is mocked in test case machine#test_case (its answer then
 * comes from the config alone: running it has no side effect). */
int sfn_mocks_is_mocked(const sfn_mocks *mocks, const char *machine, const char *test_case,
                        const char *state);
/* The mocked answer of state `state` on its `attempt`-th invocation (0-based)
 * in test case machine#test_case: 0 when the state is not mocked; 1 with
 * *result (owned) for a Return; 2 with err filled (type = Error, message =
 * Cause) for a Throw. */
int sfn_mocks_answer(const sfn_mocks *mocks, const char *machine, const char *test_case,
                     const char *state, int attempt, cJSON **result, core_err *err);
/* sfn_mocks_answer whose result shares the mock config's members (an object or
 * array is a cJSON reference: cJSON_Delete leaves the members alone): for a
 * caller that only reads it before deleting it, while mocks lives. */
int sfn_mocks_answer_shared(const sfn_mocks *mocks, const char *machine, const char *test_case,
                            const char *state, int attempt, cJSON **result, core_err *err);

/* The same, compiled: an execution finds its test case once (NULL: none) and
 * each task its state in it (NULL: not mocked, it runs for real); the answer
 * of that state's attempt-th invocation is sfn_mocks_answer's (share: as
 * sfn_mocks_answer_shared). Borrowed from mocks, valid while it lives. */
typedef struct sfn_mock_case sfn_mock_case;
typedef struct sfn_mock_state sfn_mock_state;
const sfn_mock_case *sfn_mocks_case(const sfn_mocks *mocks, const char *machine,
                                    const char *test_case);
const sfn_mock_state *sfn_mock_case_state(const sfn_mock_case *c, const char *state);
int sfn_mock_state_answer(const sfn_mock_state *st, int attempt, int share, cJSON **result,
                          core_err *err);

/* Chaos: {"seed": N, "rules": [{"state"|"function": name, "error": p, "timeout": p,
 * "throttle": p}]}. */
typedef struct sfn_chaos sfn_chaos;
int sfn_chaos_parse(const cJSON *spec, sfn_chaos **out, core_err *err);
void sfn_chaos_free(sfn_chaos *chaos);
/* Decide, reproducibly from (seed, execution name, state, attempt), whether
 * this invocation fails: 0 no; 1 with err filled (the error to raise). */
int sfn_chaos_decide(const sfn_chaos *chaos, const char *exec_name, const char *state,
                     const char *function, int attempt, core_err *err);
/* The deterministic PRNG: a number in [0, 1) from the key. */
double sfn_chaos_draw(unsigned long long seed, const char *exec_name, const char *state,
                      int attempt);

/* ---- asl_run.c / task.c ---------------------------------------------------- */

typedef struct sfn_runtime sfn_runtime;

/* How a Task reaches the outside world. call_lambda invokes a function by
 * name or ARN with the payload tree: CORE_OK with *result (owned) the
 * function's result; on a function error CORE_ERROR with err->type the
 * errorType and err->message the error JSON text. call_service runs an AWS
 * JSON-protocol operation in-process ("DynamoDB_20120810.PutItem", body):
 * CORE_OK with *result, or err with the service's error type and message. */
typedef struct sfn_hooks {
    void *ctx;
    int (*call_lambda)(void *ctx, const char *function, const cJSON *payload, cJSON **result,
                       core_err *err);
    int (*call_service)(void *ctx, const char *target, const cJSON *body, cJSON **result,
                        core_err *err);
} sfn_hooks;

typedef struct sfn_runtime_opts {
    sfn_model *model;
    core_clock *clock;
    int workers;            /* pool size (default 4) */
    const char *region;
    sfn_hooks hooks;
    const sfn_mocks *mocks; /* borrowed, may be NULL */
    const sfn_chaos *chaos; /* borrowed, may be NULL */
    /* 0 once the host began shutting down (may be NULL): running executions then
     * stop at their next step, unrecorded, and resume on the next start. */
    int (*alive)(void *ctx);
    void *alive_ctx;
    /* EXPRESS executions end TIMED_OUT after this much wall time (AWS's five
     * minutes are wall time); 0: 300,000 ms. Tests shorten it. */
    int64_t express_wall_ms;
} sfn_runtime_opts;

sfn_runtime *sfn_runtime_new(const sfn_runtime_opts *opts);
/* Stop the workers (running executions stay RUNNING in storage, to resume on
 * the next start) and free. NULL: no-op. */
void sfn_runtime_free(sfn_runtime *rt);

/* Queue the persisted RUNNING execution arn to run on the pool. */
int sfn_runtime_submit(sfn_runtime *rt, const char *arn, core_err *err);
/* Run it on the calling thread to its end (tests, tools). */
int sfn_runtime_run(sfn_runtime *rt, const char *arn, core_err *err);
/* StartSyncExecution: run the execution `in` describes (borrowed; its input,
 * definition, names, type, test case, start time) from start_at on the calling
 * thread without storing anything — AWS keeps no history of Express
 * executions a client could read back. *out receives what the run produced:
 * status (NULL if the runtime stopped first), output or error/cause, start_ms,
 * stop_ms; its other fields are NULL (the caller has them in `in`). Release
 * with sfn_exec_row_release. */
int sfn_runtime_run_ephemeral(sfn_runtime *rt, const sfn_exec_row *in, const char *start_at,
                              sfn_exec_row *out, core_err *err);

/* A definition parsed and indexed once, from the runtime's cache: a reference
 * the caller holds until sfn_runtime_definition_release (an entry the cache
 * evicts meanwhile lives on for its holders). NULL when text is not JSON. For a
 * caller that starts many executions of one definition (the wire, per machine):
 * finding the text in the cache compares all of it, every time. */
typedef struct sfn_definition sfn_definition;
const sfn_definition *sfn_runtime_definition(sfn_runtime *rt, const char *text);
void sfn_runtime_definition_release(sfn_runtime *rt, const sfn_definition *d);
/* Its StartAt (borrowed while the reference is held), or NULL. */
const char *sfn_definition_start_at(const sfn_definition *d);
/* sfn_runtime_run_ephemeral of the definition def (in->definition unused). */
int sfn_runtime_run_ephemeral_def(sfn_runtime *rt, const sfn_definition *def,
                                  const sfn_exec_row *in, const char *start_at, sfn_exec_row *out,
                                  core_err *err);
/* sfn_runtime_run_ephemeral_def on values, for a host that embeds the
 * interpreter (a test harness, a benchmark against another in-process
 * interpreter): input is the execution's input as a tree (borrowed; NULL: {}),
 * in->input is not read, and a SUCCEEDED run's output comes back in *output
 * (owned; out->output stays NULL). Nothing is parsed or printed on the way. */
int sfn_runtime_run_value(sfn_runtime *rt, const sfn_definition *def, const sfn_exec_row *in,
                          const cJSON *input, const char *start_at, sfn_exec_row *out,
                          cJSON **output, core_err *err);
/* The StartAt of a definition, through the runtime's parsed-definition cache
 * (StartExecution needs it at every call; parsing a 15 KB definition each time
 * cost more than running the execution). 0, or -1 when the text is not JSON
 * with a StartAt shorter than len. */
int sfn_runtime_start_at(sfn_runtime *rt, const char *definition, char *out, size_t len);
/* Queue every RUNNING execution found in storage. Returns how many. */
int sfn_runtime_resume_all(sfn_runtime *rt, core_err *err);
/* StopExecution: abort arn (running on a worker, queued, or only stored). */
int sfn_runtime_stop(sfn_runtime *rt, const char *arn, const char *error, const char *cause,
                     int64_t *stop_ms, core_err *err);
/* Block until no execution is queued or running, or timeout_ms (monotonic)
 * passes. 0 when idle. For tests and shutdown. */
int sfn_runtime_wait_idle(sfn_runtime *rt, int64_t timeout_ms);

/* Execution "now": the clock plus the execution's own virtual offset. */
int64_t sfn_runtime_now_ms(sfn_runtime *rt);

/* task.c: run one Task resource with its effective parameters. Fills *result
 * or err (err->type the ASL error name, message the Cause). *kind tells the
 * history which events to write: 0 Task* events (service integrations),
 * 1 LambdaFunction* events (a bare function ARN). */
typedef struct sfn_task_call {
    const char *resource;
    const cJSON *params;   /* effective input of the task (borrowed) */
    const char *region;
} sfn_task_call;

/* The integration's resourceType/resource for the history ("lambda",
 * "invoke"), or 0 when the resource is not one we know. */
int sfn_task_describe(const char *resource, char *type, size_t type_len, char *name,
                      size_t name_len, int *bare_lambda);
int sfn_task_invoke(const sfn_hooks *hooks, const sfn_task_call *call, cJSON **result,
                    core_err *err);

/* ---- datalimit.c ---------------------------------------------------------------- */

/* AWS's payload quota: 256 KiB of UTF-8 JSON text per state input/output, task
 * result and execution input/output. */
#define SFN_MAX_PAYLOAD 262144

/* The length of cJSON_PrintUnformatted(value) without printing it, or cap + 1
 * as soon as it is known to exceed cap. NULL counts as "null". */
size_t sfn_json_size(const cJSON *value, size_t cap);
/* An upper bound of sfn_json_size, cheaper to take (strlen per string), or
 * cap + 1 once it passes cap. */
size_t sfn_json_size_bound(const cJSON *value, size_t cap);
/* CORE_OK when value fits SFN_MAX_PAYLOAD; else err is States.DataLimitExceeded
 * with AWS's cause naming `name` (the state). */
int sfn_data_limit_check(const cJSON *value, const char *name, core_err *err);

/* ---- json_alloc.c -------------------------------------------------------------- */

/* Use the free-list cache for cJSON's allocations on this thread from now on
 * to its end (see json_alloc.c). 1 if the cache is installed, 0 when it is off
 * (SHOPLOCAL_NO_ARENA, Valgrind, AddressSanitizer): then cJSON uses malloc. */
int sfn_json_alloc_thread(void);
/* 1 if the cache is installed in this process. */
int sfn_json_alloc_installed(void);

/* ---- json_text.c ---------------------------------------------------------------- */

/* cJSON_PrintUnformatted's text (cJSON's printer, see json_text.c), malloc'd (free()), or
 * NULL where cJSON would give NULL (item NULL, or of no printable type). */
char *sfn_json_print(const cJSON *item);
/* The same text in this thread's reused buffer (borrowed until the thread's
 * next sfn_json_print*; *len its length if len is not NULL), or NULL. */
const char *sfn_json_print_borrowed(const cJSON *item, size_t *len);

/* ---- shared helpers ---------------------------------------------------------- */

/* Machine ARN -> execution ARN prefix and back. */
void sfn_exec_arn(const char *region, const char *machine_name, const char *exec_name,
                  int express, char *out, size_t len);

#endif
