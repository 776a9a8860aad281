/*
 * test_sfn_timeout.c — the limits that end a Step Functions execution from
 * outside its states, run in-process like test_sfn_run.c:
 *
 *   - the machine-level TimeoutSeconds (ExecutionTimedOut): in virtual time a
 *     Wait, a retry back-off, a Parallel branch or a Map iteration is cut at
 *     the deadline at once; in real time the waiting thread is woken there; a
 *     resumed execution keeps the deadline of its persisted start; AWS's
 *     longest executions (a year STANDARD, five minutes EXPRESS) apply when the
 *     definition says nothing or more; the shape of the event and the row as
 *     AWS records them (error States.Timeout in the event only, previousEventId
 *     0, stopDate = startDate + TimeoutSeconds);
 *   - States.DataLimitExceeded: 262,144 bytes of UTF-8 JSON per state output,
 *     task (Parallel, Map) result and task input after Parameters, a terminal
 *     error no Retry or Catch handles; the size counter against cJSON's text;
 *   - CreateStateMachine's validation of the top-level TimeoutSeconds.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "stepfunctions/lang.h"
#include "stepfunctions/sfn_impl.h"
#include "support/sfn_testutil.h"

#define T0 1700000000000LL
#define DAY_MS (24LL * 3600 * 1000)

static sfn_model *model;
static core_clock *clk;
static sfn_mocks *mocks;
static int lambda_calls;

/* The fake Lambda: {"sleepMs": n} first sleeps n ms; {"fail": "Type"} fails
 * with that errorType; {"big": n} answers a string of n 'x'; anything else
 * answers {"ok": true}. */
static int fake_lambda(void *ctx, const char *function, const cJSON *payload, cJSON **result,
                       core_err *err)
{
    (void)ctx;
    (void)function;
    lambda_calls++;
    const cJSON *sleep_ms = cJSON_GetObjectItemCaseSensitive(payload, "sleepMs");
    if (cJSON_IsNumber(sleep_ms)) {
        struct timespec ts = {sleep_ms->valueint / 1000, (sleep_ms->valueint % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    const cJSON *fail = cJSON_GetObjectItemCaseSensitive(payload, "fail");
    if (cJSON_IsString(fail))
        return core_err_set(err, 400, fail->valuestring,
                            "{\"errorMessage\":\"boom\",\"errorType\":\"%s\"}", fail->valuestring);
    const cJSON *big = cJSON_GetObjectItemCaseSensitive(payload, "big");
    if (cJSON_IsNumber(big)) {
        size_t n = (size_t)big->valueint;
        char *s = malloc(n + 1);
        memset(s, 'x', n);
        s[n] = '\0';
        *result = cJSON_CreateString(s);
        free(s);
        return CORE_OK;
    }
    *result = cJSON_CreateObject();
    cJSON_AddBoolToObject(*result, "ok", 1);
    return CORE_OK;
}

static int fake_service(void *ctx, const char *target, const cJSON *body, cJSON **result,
                        core_err *err)
{
    (void)ctx;
    (void)target;
    (void)body;
    (void)err;
    *result = cJSON_CreateObject();
    return CORE_OK;
}

static void setup(void)
{
    core_err err;
    cr_assert_eq(sfn_model_open(NULL, &model, &err), CORE_OK, "%s", err.message);
    clk = core_clock_new(CORE_CLOCK_VIRTUAL, T0);
    mocks = NULL;
    lambda_calls = 0;
}

static void teardown(void)
{
    sfn_model_close(model);
    core_clock_free(clk);
    sfn_mocks_free(mocks);
}

TestSuite(sfn_timeout, .init = setup, .fini = teardown);
TestSuite(sfn_datalimit, .init = setup, .fini = teardown);
TestSuite(sfn_timeout_validate);

typedef struct run {
    sfn_exec_row row;
    cJSON *events;
    char types[4096];
} run;

static sfn_runtime *runtime(void)
{
    sfn_runtime_opts o = {.model = model, .clock = clk, .workers = 1, .region = "us-east-1",
                          .mocks = mocks,
                          .hooks = {.call_lambda = fake_lambda, .call_service = fake_service}};
    return sfn_runtime_new(&o);
}

static void create_exec(const char *name, const char *definition, const char *input,
                        const char *test_case)
{
    sfn_test_create_exec(model, clk, name, definition, input, test_case);
}

static void collect(const char *name, run *r)
{
    core_err err;
    char arn[300];
    sfn_test_arn(name, arn, sizeof arn);
    cr_assert_eq(sfn_model_exec_get(model, arn, &r->row, &err), CORE_OK, "%s", err.message);
    cr_assert_eq(sfn_model_events(model, arn, &r->events, &err), CORE_OK);
    sfn_test_types(r->events, r->types, sizeof r->types);
}

static void execute_named(const char *name, const char *definition, const char *input, run *r)
{
    create_exec(name, definition, input, NULL);
    sfn_runtime *rt = runtime();
    char arn[300];
    core_err err;
    sfn_test_arn(name, arn, sizeof arn);
    cr_assert_eq(sfn_runtime_run(rt, arn, &err), CORE_OK, "%s", err.message);
    sfn_runtime_free(rt);
    collect(name, r);
}

static void execute(const char *definition, const char *input, run *r)
{
    execute_named("e1", definition, input, r);
}

static void release(run *r)
{
    sfn_exec_row_release(&r->row);
    cJSON_Delete(r->events);
}

static const cJSON *event(const run *r, int i)
{
    return cJSON_GetArrayItem(r->events, i);
}

static const cJSON *last_event(const run *r)
{
    return event(r, cJSON_GetArraySize(r->events) - 1);
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    cr_assert(cJSON_IsNumber(v), "no number %s", key);
    return v->valuedouble;
}

static int count_type(const run *r, const char *type)
{
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, r->events)
    {
        if (!strcmp(cJSON_GetObjectItemCaseSensitive(e, "type")->valuestring, type))
            n++;
    }
    return n;
}

/* The execution timed out at start + after_ms, recorded as AWS records it. */
static void assert_timed_out(const run *r, int64_t after_ms)
{
    cr_assert_str_eq(r->row.status, "TIMED_OUT", "status %s (%s: %s) %s", r->row.status,
                     r->row.error ? r->row.error : "", r->row.cause ? r->row.cause : "",
                     r->types);
    cr_assert_eq(r->row.stop_ms - r->row.start_ms, after_ms, "stopped after %lld ms",
                 (long long)(r->row.stop_ms - r->row.start_ms));
    cr_assert_null(r->row.output);
    const cJSON *e = last_event(r);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(e, "type")->valuestring,
                     "ExecutionTimedOut");
    cr_assert_eq((int64_t)num(e, "timestampMs"), r->row.start_ms + after_ms);
    cr_assert_eq(num(e, "previousEventId"), 0);
    cr_assert_eq(num(e, "id"), cJSON_GetArraySize(r->events));
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "executionTimedOutEventDetails");
    cr_assert(cJSON_IsObject(d));
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "error")->valuestring,
                     "States.Timeout");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(d, "cause"));
    cr_assert_eq(count_type(r, "ExecutionTimedOut"), 1);
    cr_assert_eq(count_type(r, "ExecutionFailed") + count_type(r, "ExecutionSucceeded") +
                     count_type(r, "ExecutionAborted"),
                 0);
    /* ids count from 1 without gaps, timestamps never go back */
    for (int i = 0; i < cJSON_GetArraySize(r->events); i++) {
        cr_assert_eq(num(event(r, i), "id"), i + 1);
        if (i)
            cr_assert_geq(num(event(r, i), "timestampMs"), num(event(r, i - 1), "timestampMs"),
                          "event %d goes back in time", i + 1);
    }
}

#define LAMBDA_TASK(name, extra)                                                           \
    "\"" name "\": {\"Type\": \"Task\", \"Resource\": \"arn:aws:states:::lambda:invoke\", " \
    "\"Parameters\": {\"FunctionName\": \"f\", \"Payload.$\": \"$\"}" extra "}"

/* ---- TimeoutSeconds under virtual time ------------------------------------------------- */

Test(sfn_timeout, a_wait_past_the_deadline_times_out_at_the_deadline_at_once)
{
    int64_t wall = core_clock_monotonic_ms();
    run r;
    execute("{\"TimeoutSeconds\": 10, \"StartAt\": \"W\", \"States\": {"
            "\"W\": {\"Type\": \"Wait\", \"Seconds\": 100, \"Next\": \"P\"},"
            "\"P\": {\"Type\": \"Pass\", \"End\": true}}}", "{}", &r);
    cr_assert_lt(core_clock_monotonic_ms() - wall, 2000, "virtual time takes no wall time");
    assert_timed_out(&r, 10000);
    cr_assert_str_eq(r.types, "ExecutionStarted,WaitStateEntered,ExecutionTimedOut");
    /* the row keeps the error; DescribeExecution leaves it out (compat test) */
    cr_assert_str_eq(r.row.error, "States.Timeout");
    cr_assert_null(r.row.cause);
    release(&r);
}

Test(sfn_timeout, steps_before_the_deadline_are_recorded_and_the_one_running_is_cut)
{
    run r;
    execute("{\"TimeoutSeconds\": 10, \"StartAt\": \"W1\", \"States\": {"
            "\"W1\": {\"Type\": \"Wait\", \"Seconds\": 6, \"Next\": \"P\"},"
            "\"P\": {\"Type\": \"Pass\", \"Next\": \"W2\"},"
            "\"W2\": {\"Type\": \"Wait\", \"Seconds\": 6, \"End\": true}}}", "{}", &r);
    assert_timed_out(&r, 10000);
    cr_assert_str_eq(r.types, "ExecutionStarted,WaitStateEntered,WaitStateExited,"
                              "PassStateEntered,PassStateExited,WaitStateEntered,"
                              "ExecutionTimedOut");
    cr_assert_eq((int64_t)num(event(&r, 2), "timestampMs"), T0 + 6000);
    release(&r);
}

Test(sfn_timeout, an_execution_that_ends_before_the_deadline_succeeds)
{
    run r;
    execute("{\"TimeoutSeconds\": 10, \"StartAt\": \"W\", \"States\": {"
            "\"W\": {\"Type\": \"Wait\", \"Seconds\": 9, \"End\": true}}}", "{\"a\": 1}", &r);
    cr_assert_str_eq(r.row.status, "SUCCEEDED");
    cr_assert_eq(r.row.stop_ms - T0, 9000);
    release(&r);
}

Test(sfn_timeout, a_retry_back_off_past_the_deadline_times_out_instead_of_retrying)
{
    run r;
    execute("{\"TimeoutSeconds\": 30, \"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                "T", ", \"Retry\": [{\"ErrorEquals\": [\"States.ALL\"], \"IntervalSeconds\": 20, "
                     "\"MaxAttempts\": 5}], \"End\": true") "}}",
            "{\"fail\": \"Boom\"}", &r);
    assert_timed_out(&r, 30000);
    /* attempt 2 at 20 s; attempt 3 would be at 20 s + 40 s */
    cr_assert_eq(lambda_calls, 2, "%d calls", lambda_calls);
    cr_assert_eq(count_type(&r, "TaskFailed"), 2);
    release(&r);
}

Test(sfn_timeout, a_wait_inside_a_parallel_branch_times_the_whole_execution_out)
{
    run r;
    execute("{\"TimeoutSeconds\": 10, \"StartAt\": \"Par\", \"States\": {\"Par\": {"
            "\"Type\": \"Parallel\", \"End\": true, \"Branches\": ["
            "{\"StartAt\": \"A\", \"States\": {\"A\": {\"Type\": \"Wait\", \"Seconds\": 100, "
            "\"End\": true}}},"
            "{\"StartAt\": \"B\", \"States\": {\"B\": {\"Type\": \"Pass\", \"End\": true}}}]}}}",
            "{}", &r);
    assert_timed_out(&r, 10000);
    /* stopped the way StopExecution stops it: no failure, no sibling abort recorded */
    cr_assert_eq(count_type(&r, "ParallelStateFailed") + count_type(&r, "WaitStateAborted") +
                     count_type(&r, "ParallelStateExited"),
                 0, "%s", r.types);
    release(&r);
}

Test(sfn_timeout, a_wait_inside_a_map_iteration_times_the_whole_execution_out)
{
    run r;
    execute("{\"TimeoutSeconds\": 10, \"StartAt\": \"Map\", \"States\": {\"Map\": {"
            "\"Type\": \"Map\", \"End\": true, \"MaxConcurrency\": 1, \"ItemProcessor\": {"
            "\"StartAt\": \"W\", \"States\": {\"W\": {\"Type\": \"Wait\", \"SecondsPath\": \"$\", "
            "\"End\": true}}}}}}",
            "[4, 4, 4, 4]", &r);
    /* one at a time: 4 s, 8 s, then the third iteration is cut at 10 s */
    assert_timed_out(&r, 10000);
    cr_assert_eq(count_type(&r, "MapIterationSucceeded"), 2, "%s", r.types);
    cr_assert_eq(count_type(&r, "MapStateSucceeded") + count_type(&r, "MapStateFailed"), 0);
    cr_assert_eq(count_type(&r, "MapIterationAborted"), 1, "%s", r.types);
    release(&r);
}

Test(sfn_timeout, a_resumed_execution_keeps_the_deadline_of_its_persisted_start)
{
    const char *def = "{\"TimeoutSeconds\": 10, \"StartAt\": \"W\", \"States\": {"
                      "\"W\": {\"Type\": \"Wait\", \"Seconds\": 5, \"Next\": \"W\"}}}";
    create_exec("r1", def, "{}", NULL);
    /* As if the process had died 8 s into the execution, entering W again. */
    char arn[300];
    sfn_test_arn("r1", arn, sizeof arn);
    sfn_event evs[] = {
        {.id = 2, .prev_id = 0, .ts_ms = T0, .type = "WaitStateEntered"},
        {.id = 3, .prev_id = 2, .ts_ms = T0 + 5000, .type = "WaitStateExited"},
    };
    sfn_exec_update u = {.events = evs, .n_events = 2, .pos_state = "W", .pos_input = "{}",
                         .pos_entered = 0, .offset_ms = 8000};
    core_err err;
    cr_assert_eq(sfn_model_exec_update(model, arn, &u, &err), CORE_OK, "%s", err.message);
    sfn_runtime *rt = runtime();
    cr_assert_eq(sfn_runtime_resume_all(rt, &err), 1);
    cr_assert_eq(sfn_runtime_wait_idle(rt, 10000), 0);
    sfn_runtime_free(rt);
    run r;
    collect("r1", &r);
    assert_timed_out(&r, 10000); /* not 8 s + 10 s: the count did not restart */
    cr_assert_str_eq(r.types, "ExecutionStarted,WaitStateEntered,WaitStateExited,"
                              "WaitStateEntered,ExecutionTimedOut");
    release(&r);
}

Test(sfn_timeout, an_execution_resumed_past_its_deadline_times_out_before_any_step)
{
    const char *def = "{\"TimeoutSeconds\": 10, \"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
        "T", ", \"End\": true") "}}";
    create_exec("r2", def, "{}", NULL);
    char arn[300];
    sfn_test_arn("r2", arn, sizeof arn);
    sfn_exec_update u = {.pos_state = "T", .pos_input = "{}", .offset_ms = 12000};
    core_err err;
    cr_assert_eq(sfn_model_exec_update(model, arn, &u, &err), CORE_OK, "%s", err.message);
    sfn_runtime *rt = runtime();
    cr_assert_eq(sfn_runtime_run(rt, arn, &err), CORE_OK);
    sfn_runtime_free(rt);
    run r;
    collect("r2", &r);
    assert_timed_out(&r, 10000);
    cr_assert_eq(lambda_calls, 0);
    cr_assert_str_eq(r.types, "ExecutionStarted,ExecutionTimedOut");
    release(&r);
}

Test(sfn_timeout, a_standard_execution_without_timeout_seconds_ends_at_aws_one_year_maximum)
{
    run r;
    execute("{\"StartAt\": \"W\", \"States\": {"
            "\"W\": {\"Type\": \"Wait\", \"Seconds\": 40000000, \"End\": true}}}", "{}", &r);
    assert_timed_out(&r, 365 * DAY_MS);
    release(&r);
    run r2;
    execute_named("e2", "{\"TimeoutSeconds\": 99999999, \"StartAt\": \"W\", \"States\": {"
                        "\"W\": {\"Type\": \"Wait\", \"Seconds\": 99999999, \"End\": true}}}",
                  "{}", &r2);
    assert_timed_out(&r2, 365 * DAY_MS);
    release(&r2);
}

/* StartSyncExecution: nothing stored, the row handed back is the answer. */
static void run_express(const char *definition, sfn_exec_row *out)
{
    cJSON *def = cJSON_Parse(definition);
    const char *start = cJSON_GetObjectItemCaseSensitive(def, "StartAt")->valuestring;
    sfn_exec_row in = {.arn = "arn:aws:states:us-east-1:000000000000:express:m:x:y",
                       .machine_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:m",
                       .machine_name = "m", .name = "x", .input = "{}",
                       .definition = (char *)definition, .type = "EXPRESS",
                       .start_ms = core_clock_now_ms(clk)};
    sfn_runtime *rt = runtime();
    core_err err;
    cr_assert_eq(sfn_runtime_run_ephemeral(rt, &in, start, out, &err), CORE_OK, "%s",
                 err.message);
    sfn_runtime_free(rt);
    cJSON_Delete(def);
}

Test(sfn_timeout, a_sync_express_execution_times_out_at_its_timeout_seconds)
{
    sfn_exec_row out;
    run_express("{\"TimeoutSeconds\": 10, \"StartAt\": \"W\", \"States\": {"
                "\"W\": {\"Type\": \"Wait\", \"Seconds\": 100, \"End\": true}}}", &out);
    cr_assert_str_eq(out.status, "TIMED_OUT");
    cr_assert_eq(out.stop_ms - out.start_ms, 10000);
    cr_assert_null(out.output);
    sfn_exec_row_release(&out);
}

Test(sfn_timeout, an_express_execution_never_outlives_aws_five_minutes)
{
    static const char *const defs[] = {
        "{\"StartAt\": \"W\", \"States\": {\"W\": {\"Type\": \"Wait\", \"Seconds\": 400, "
        "\"End\": true}}}",
        "{\"TimeoutSeconds\": 1000, \"StartAt\": \"W\", \"States\": {\"W\": {\"Type\": "
        "\"Wait\", \"Seconds\": 400, \"End\": true}}}",
    };
    for (size_t i = 0; i < 2; i++) {
        sfn_exec_row out;
        run_express(defs[i], &out);
        cr_assert_str_eq(out.status, "TIMED_OUT", "case %zu", i);
        cr_assert_eq(out.stop_ms - out.start_ms, 300000, "case %zu", i);
        sfn_exec_row_release(&out);
    }
    sfn_exec_row ok;
    run_express("{\"StartAt\": \"W\", \"States\": {\"W\": {\"Type\": \"Wait\", \"Seconds\": "
                "299, \"End\": true}}}", &ok);
    cr_assert_str_eq(ok.status, "SUCCEEDED");
    sfn_exec_row_release(&ok);
}

Test(sfn_timeout, an_express_loop_without_a_wait_times_out_at_its_wall_clock_limit)
{
    /* Virtual time: the loop's own clock never moves, so only the wall-clock limit
     * (AWS's five minutes, 150 ms here) ends it. */
    static const char def[] =
        "{\"StartAt\": \"A\", \"States\": {\"A\": {\"Type\": \"Pass\", \"Next\": \"B\"}, "
        "\"B\": {\"Type\": \"Pass\", \"Next\": \"A\"}}}";
    sfn_exec_row in = {.arn = "arn:aws:states:us-east-1:000000000000:express:m:x:y",
                       .machine_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:m",
                       .machine_name = "m", .name = "x", .input = "{}",
                       .definition = (char *)def, .type = "EXPRESS",
                       .start_ms = core_clock_now_ms(clk)};
    sfn_runtime_opts o = {.model = model, .clock = clk, .workers = 1, .region = "us-east-1",
                          .express_wall_ms = 150,
                          .hooks = {.call_lambda = fake_lambda, .call_service = fake_service}};
    sfn_runtime *rt = sfn_runtime_new(&o);
    sfn_exec_row out;
    core_err err;
    int64_t t0 = core_clock_monotonic_ms();
    cr_assert_eq(sfn_runtime_run_ephemeral(rt, &in, "A", &out, &err), CORE_OK, "%s", err.message);
    int64_t took = core_clock_monotonic_ms() - t0;
    cr_assert_str_eq(out.status, "TIMED_OUT");
    cr_assert_geq(took, 150, "ended after %lld ms", (long long)took);
    cr_assert_lt(took, 60000, "ended after %lld ms", (long long)took);
    sfn_exec_row_release(&out);
    sfn_runtime_free(rt);
}

Test(sfn_timeout, stop_execution_before_the_deadline_aborts_rather_than_times_out)
{
    create_exec("s1", "{\"TimeoutSeconds\": 10, \"StartAt\": \"W\", \"States\": {"
                      "\"W\": {\"Type\": \"Wait\", \"Seconds\": 100, \"End\": true}}}",
                "{}", NULL);
    char arn[300];
    sfn_test_arn("s1", arn, sizeof arn);
    sfn_runtime *rt = runtime();
    core_err err;
    int64_t stop_ms;
    cr_assert_eq(sfn_runtime_stop(rt, arn, "Halt", "by hand", &stop_ms, &err), CORE_OK);
    cr_assert_eq(sfn_runtime_run(rt, arn, &err), CORE_OK); /* no longer running: no-op */
    sfn_runtime_free(rt);
    run r;
    collect("s1", &r);
    cr_assert_str_eq(r.row.status, "ABORTED");
    cr_assert_str_eq(r.types, "ExecutionStarted,ExecutionAborted");
    /* AWS (floci-io/floci#2965, measured): previousEventId 0, the caller's error and cause */
    const cJSON *e = last_event(&r);
    cr_assert_eq(num(e, "previousEventId"), 0);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "executionAbortedEventDetails");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "error")->valuestring, "Halt");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "cause")->valuestring, "by hand");
    release(&r);
    /* without error or cause: an empty details object, and none on the row */
    create_exec("s2", "{\"StartAt\": \"W\", \"States\": {\"W\": {\"Type\": \"Wait\", "
                      "\"Seconds\": 100, \"End\": true}}}", "{}", NULL);
    sfn_test_arn("s2", arn, sizeof arn);
    rt = runtime();
    cr_assert_eq(sfn_runtime_stop(rt, arn, NULL, NULL, &stop_ms, &err), CORE_OK);
    sfn_runtime_free(rt);
    run q;
    collect("s2", &q);
    cr_assert_str_eq(q.row.status, "ABORTED");
    cr_assert_null(q.row.error);
    cr_assert_null(q.row.cause);
    d = cJSON_GetObjectItemCaseSensitive(last_event(&q), "executionAbortedEventDetails");
    cr_assert(cJSON_IsObject(d) && !d->child, "details should be {}");
    release(&q);
}

/* ---- TimeoutSeconds under real time ----------------------------------------------------- */

static void use_real_clock(void)
{
    core_clock_free(clk);
    clk = core_clock_new(CORE_CLOCK_REAL, 0);
}

Test(sfn_timeout, real_time_wakes_a_wait_at_the_deadline)
{
    use_real_clock();
    int64_t wall = core_clock_monotonic_ms();
    run r;
    execute("{\"TimeoutSeconds\": 1, \"StartAt\": \"W\", \"States\": {"
            "\"W\": {\"Type\": \"Wait\", \"Seconds\": 100, \"End\": true}}}", "{}", &r);
    int64_t took = core_clock_monotonic_ms() - wall;
    cr_assert_geq(took, 900, "woke after %lld ms", (long long)took);
    cr_assert_lt(took, 5000, "woke after %lld ms", (long long)took);
    assert_timed_out(&r, 1000);
    release(&r);
}

Test(sfn_timeout, real_time_wakes_a_parallel_branch_and_a_retry_at_the_deadline)
{
    use_real_clock();
    int64_t wall = core_clock_monotonic_ms();
    run r;
    execute("{\"TimeoutSeconds\": 1, \"StartAt\": \"Par\", \"States\": {\"Par\": {"
            "\"Type\": \"Parallel\", \"End\": true, \"Branches\": ["
            "{\"StartAt\": \"A\", \"States\": {\"A\": {\"Type\": \"Wait\", \"Seconds\": 100, "
            "\"End\": true}}},"
            "{\"StartAt\": \"B\", \"States\": {" LAMBDA_TASK(
                "B", ", \"Retry\": [{\"ErrorEquals\": [\"Boom\"], \"IntervalSeconds\": 60}], "
                     "\"End\": true") "}}]}}}",
            "{\"fail\": \"Boom\"}", &r);
    int64_t took = core_clock_monotonic_ms() - wall;
    cr_assert_lt(took, 5000, "woke after %lld ms", (long long)took);
    assert_timed_out(&r, 1000);
    cr_assert_eq(lambda_calls, 1);
    release(&r);
}

Test(sfn_timeout, real_time_a_task_returning_past_the_deadline_records_nothing_of_its_result)
{
    use_real_clock();
    run r;
    execute("{\"TimeoutSeconds\": 1, \"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                "T", ", \"Next\": \"P\"") ", \"P\": {\"Type\": \"Pass\", \"End\": true}}}",
            "{\"sleepMs\": 1300}", &r);
    assert_timed_out(&r, 1000); /* stamped at the deadline, not when the call came back */
    cr_assert_str_eq(r.types, "ExecutionStarted,TaskStateEntered,TaskScheduled,TaskStarted,"
                              "ExecutionTimedOut");
    cr_assert_eq(lambda_calls, 1);
    release(&r);
}

/* ---- States.DataLimitExceeded ---------------------------------------------------------------- */

Test(sfn_datalimit, the_size_counter_matches_cjson_compact_text)
{
    static const char *const docs[] = {
        "null", "true", "false", "0", "-0.5", "1e300", "123456789", "2147483648", "0.1",
        "3.141592653589793", "\"\"", "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\"", "\"\\u0001\\u001f\"",
        "\"caf\\u00e9 \\u20ac \\ud83d\\ude00\"", "[]", "{}", "[1,[2,[3,{}]],\"x\"]",
        "{\"a\":{\"b\\\"\":[true,null,{\"c\":-1.25e-7}]},\"\":0}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        cJSON *v = cJSON_Parse(docs[i]);
        cr_assert_not_null(v, "case %zu", i);
        char *text = cJSON_PrintUnformatted(v);
        cr_assert_eq(sfn_json_size(v, SFN_MAX_PAYLOAD), strlen(text), "case %zu: %s (%zu)", i,
                     text, sfn_json_size(v, SFN_MAX_PAYLOAD));
        if (strlen(text) > 1)
            cr_assert_eq(sfn_json_size(v, strlen(text) - 1), strlen(text), "capped, case %zu", i);
        free(text);
        cJSON_Delete(v);
    }
    cr_assert_eq(sfn_json_size(NULL, 100), 4);
}

/* A Pass whose output is a string of `ascii` 'a's and `multi` 'é's (2 bytes each). */
static char *pass_def(size_t ascii, size_t multi, const char *extra)
{
    size_t len = ascii + multi * 2 + 512 + strlen(extra);
    char *d = malloc(len);
    size_t n = (size_t)snprintf(d, len, "{\"StartAt\": \"Big\", \"States\": {\"Big\": {\"Type\": "
                                        "\"Pass\", \"Result\": \"");
    memset(d + n, 'a', ascii);
    n += ascii;
    for (size_t i = 0; i < multi; i++) {
        d[n++] = (char)0xc3;
        d[n++] = (char)0xa9;
    }
    snprintf(d + n, len - n, "\"%s, \"End\": true}}}", extra);
    return d;
}

Test(sfn_datalimit, a_state_output_of_262144_bytes_passes_and_one_byte_more_fails)
{
    /* "..." quoted: 2 + 100000 + 2 * 81071 = 262144 bytes of UTF-8 */
    char *fits = pass_def(100000, 81071, "");
    run r;
    execute(fits, "{}", &r);
    cr_assert_str_eq(r.row.status, "SUCCEEDED", "%s %s", r.row.error ? r.row.error : "",
                     r.row.cause ? r.row.cause : "");
    release(&r);
    free(fits);
    char *over = pass_def(100001, 81071, "");
    run r2;
    execute_named("e2", over, "{}", &r2);
    cr_assert_str_eq(r2.row.status, "FAILED");
    cr_assert_str_eq(r2.row.error, "States.DataLimitExceeded");
    cr_assert_str_eq(r2.row.cause, "The state/task 'Big' returned a result with a size "
                                   "exceeding the maximum number of bytes service limit.");
    cr_assert_str_eq(r2.types, "ExecutionStarted,PassStateEntered,ExecutionFailed");
    release(&r2);
    free(over);
}

Test(sfn_datalimit, no_retry_or_catch_handles_it_not_even_by_name)
{
    static const char *const handlers[] = {
        ", \"Catch\": [{\"ErrorEquals\": [\"States.ALL\"], \"Next\": \"Caught\"}]",
        ", \"Catch\": [{\"ErrorEquals\": [\"States.DataLimitExceeded\"], \"Next\": \"Caught\"}]",
        ", \"Retry\": [{\"ErrorEquals\": [\"States.ALL\"]}], "
        "\"Catch\": [{\"ErrorEquals\": [\"States.TaskFailed\"], \"Next\": \"Caught\"}]",
    };
    for (size_t i = 0; i < sizeof handlers / sizeof *handlers; i++) {
        char def[1024];
        snprintf(def, sizeof def,
                 "{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK("T", "%s, \"End\": true") ","
                 "\"Caught\": {\"Type\": \"Pass\", \"End\": true}}}",
                 handlers[i]);
        char name[16];
        snprintf(name, sizeof name, "h%zu", i);
        lambda_calls = 0;
        run r;
        execute_named(name, def, "{\"big\": 300000}", &r);
        cr_assert_str_eq(r.row.status, "FAILED", "case %zu", i);
        cr_assert_str_eq(r.row.error, "States.DataLimitExceeded", "case %zu", i);
        cr_assert_eq(lambda_calls, 1, "case %zu: retried", i);
        cr_assert_eq(count_type(&r, "PassStateEntered"), 0, "case %zu: caught", i);
        release(&r);
    }
}

Test(sfn_datalimit, a_task_result_over_the_quota_fails_even_when_selected_or_discarded)
{
    static const char *const shapes[] = {
        ", \"ResultSelector\": {\"small\": true}",
        ", \"ResultPath\": null",
    };
    for (size_t i = 0; i < 2; i++) {
        char def[512];
        snprintf(def, sizeof def,
                 "{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK("T", "%s, \"End\": true") "}}",
                 shapes[i]);
        char name[16];
        snprintf(name, sizeof name, "t%zu", i);
        run r;
        execute_named(name, def, "{\"big\": 262200}", &r);
        cr_assert_str_eq(r.row.status, "FAILED", "case %zu", i);
        cr_assert_str_eq(r.row.error, "States.DataLimitExceeded", "case %zu", i);
        cr_assert(strstr(r.row.cause, "'T'"), "case %zu: %s", i, r.row.cause);
        release(&r);
    }
}

Test(sfn_datalimit, a_task_input_over_the_quota_after_parameters_never_reaches_the_task)
{
    /* The execution input fits (~140 KB); Parameters doubles it. */
    size_t n = 140000;
    char *input = malloc(n + 32);
    int k = snprintf(input, n + 32, "{\"s\": \"");
    memset(input + k, 'y', n);
    snprintf(input + k + n, 32, "\"}");
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {\"T\": {\"Type\": \"Task\", \"Resource\": "
            "\"arn:aws:states:::lambda:invoke\", \"Parameters\": {\"FunctionName\": \"f\", "
            "\"Payload\": {\"a.$\": \"$.s\", \"b.$\": \"$.s\"}}, \"End\": true}}}",
            input, &r);
    cr_assert_str_eq(r.row.status, "FAILED");
    cr_assert_str_eq(r.row.error, "States.DataLimitExceeded");
    cr_assert_eq(lambda_calls, 0);
    cr_assert_eq(count_type(&r, "TaskScheduled"), 0);
    release(&r);
    free(input);
}

Test(sfn_datalimit, a_map_or_parallel_result_over_the_quota_fails_the_state)
{
    /* each iteration's output fits (100,002 bytes); the three together do not */
    run r;
    execute_named("m1", "{\"StartAt\": \"M\", \"States\": {\"M\": {\"Type\": \"Map\", "
                        "\"ItemsPath\": \"$.items\", \"ItemProcessor\": {\"StartAt\": \"I\", "
                        "\"States\": {\"I\": {\"Type\": \"Task\", \"Resource\": "
                        "\"arn:aws:lambda:us-east-1:000000000000:function:f\", \"End\": true}}}, "
                        "\"ResultSelector\": {\"n\": 1}, \"End\": true}}}",
                  "{\"items\": [{\"big\": 100000}, {\"big\": 100000}, {\"big\": 100000}]}", &r);
    cr_assert_str_eq(r.row.status, "FAILED", "%s", r.types);
    cr_assert_str_eq(r.row.error, "States.DataLimitExceeded");
    cr_assert(strstr(r.row.cause, "'M'"), "%s %s", r.row.cause, r.types);
    cr_assert_eq(count_type(&r, "MapIterationSucceeded"), 3);
    release(&r);
    run p;
    execute_named("p1", "{\"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Parallel\", "
                        "\"ResultPath\": null, \"End\": true, \"Branches\": ["
                        "{\"StartAt\": \"A\", \"States\": {\"A\": {\"Type\": \"Task\", "
                        "\"Resource\": \"arn:aws:lambda:us-east-1:000000000000:function:f\", "
                        "\"End\": true}}},"
                        "{\"StartAt\": \"B\", \"States\": {\"B\": {\"Type\": \"Task\", "
                        "\"Resource\": \"arn:aws:lambda:us-east-1:000000000000:function:f\", "
                        "\"End\": true}}}]}}}",
                  "{\"big\": 140000}", &p);
    cr_assert_str_eq(p.row.status, "FAILED", "%s", p.types);
    cr_assert_str_eq(p.row.error, "States.DataLimitExceeded");
    cr_assert(strstr(p.row.cause, "'P'"), "%s", p.row.cause);
    release(&p);
}

/* ---- validation ------------------------------------------------------------------------------ */

Test(sfn_timeout_validate, top_level_timeout_seconds_must_be_a_positive_integer)
{
    static const struct {
        const char *value;
        const char *want; /* NULL: valid */
    } cases[] = {
        {"1", NULL},
        {"99999999", NULL},
        {"0", "SCHEMA_VALIDATION_FAILED: Minimum value is 1 at /TimeoutSeconds"},
        {"-5", "SCHEMA_VALIDATION_FAILED: Minimum value is 1 at /TimeoutSeconds"},
        {"1.5", "SCHEMA_VALIDATION_FAILED: Expected value of type [INTEGER] at /TimeoutSeconds"},
        {"\"10\"", "SCHEMA_VALIDATION_FAILED: Expected value of type [INTEGER] at /TimeoutSeconds"},
        {"true", "SCHEMA_VALIDATION_FAILED: Expected value of type [INTEGER] at /TimeoutSeconds"},
        {"null", "SCHEMA_VALIDATION_FAILED: Expected value of type [INTEGER] at /TimeoutSeconds"},
        {"1e9", "SCHEMA_VALIDATION_FAILED: Maximum value is 99999999 at /TimeoutSeconds"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char def[256];
        snprintf(def, sizeof def,
                 "{\"TimeoutSeconds\": %s, \"StartAt\": \"A\", \"States\": {\"A\": {\"Type\": "
                 "\"Pass\", \"End\": true}}}",
                 cases[i].value);
        cJSON *d = cJSON_Parse(def);
        cr_assert_not_null(d);
        core_err err;
        core_err_clear(&err);
        int rc = sfn_asl_validate(d, &err);
        if (!cases[i].want) {
            cr_assert_eq(rc, CORE_OK, "case %s: %s", cases[i].value, err.message);
        } else {
            char want[512];
            snprintf(want, sizeof want, "Invalid State Machine Definition: '%s'", cases[i].want);
            cr_assert_eq(rc, CORE_ERROR, "case %s accepted", cases[i].value);
            cr_assert_str_eq(err.type, "InvalidDefinition", "case %s", cases[i].value);
            cr_assert_str_eq(err.message, want, "case %s", cases[i].value);
        }
        cJSON_Delete(d);
    }
}

Test(sfn_timeout_validate, a_branch_or_processor_has_no_timeout_seconds_of_its_own)
{
    static const char *const defs[] = {
        "{\"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Parallel\", \"End\": true, "
        "\"Branches\": [{\"TimeoutSeconds\": 5, \"StartAt\": \"A\", \"States\": {\"A\": "
        "{\"Type\": \"Pass\", \"End\": true}}}]}}}",
        "{\"StartAt\": \"M\", \"States\": {\"M\": {\"Type\": \"Map\", \"End\": true, "
        "\"ItemProcessor\": {\"TimeoutSeconds\": 5, \"StartAt\": \"A\", \"States\": {\"A\": "
        "{\"Type\": \"Pass\", \"End\": true}}}}}}",
    };
    for (size_t i = 0; i < 2; i++) {
        cJSON *d = cJSON_Parse(defs[i]);
        core_err err;
        core_err_clear(&err);
        cr_assert_eq(sfn_asl_validate(d, &err), CORE_ERROR, "case %zu", i);
        cr_assert(strstr(err.message, "Field 'TimeoutSeconds' is not supported"), "case %zu: %s",
                  i, err.message);
        cJSON_Delete(d);
    }
}

/* ---- Map MaxConcurrency in execution time ------------------------------------------------------ */

Test(sfn_timeout, map_iterations_beyond_max_concurrency_wait_for_a_slot_in_execution_time)
{
    static const struct {
        const char *concurrency;
        int64_t took_ms;
    } cases[] = {{"1", 12000}, {"2", 8000}, {"3", 4000}, {"0", 4000}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char def[512], name[16];
        snprintf(def, sizeof def,
                 "{\"StartAt\": \"Map\", \"States\": {\"Map\": {\"Type\": \"Map\", \"End\": true, "
                 "\"MaxConcurrency\": %s, \"ItemProcessor\": {\"StartAt\": \"W\", \"States\": "
                 "{\"W\": {\"Type\": \"Wait\", \"SecondsPath\": \"$\", \"End\": true}}}}}}",
                 cases[i].concurrency);
        snprintf(name, sizeof name, "c%zu", i);
        run r;
        execute_named(name, def, "[4, 4, 4]", &r);
        cr_assert_str_eq(r.row.status, "SUCCEEDED", "MaxConcurrency %s", cases[i].concurrency);
        cr_assert_eq(r.row.stop_ms - r.row.start_ms, cases[i].took_ms,
                     "MaxConcurrency %s took %lld ms", cases[i].concurrency,
                     (long long)(r.row.stop_ms - r.row.start_ms));
        release(&r);
    }
}

/* ---- the history quota ---------------------------------------------------------------------------- */

Test(sfn_timeout, a_loop_without_end_fails_at_aws_25000_history_events)
{
    int64_t wall = core_clock_monotonic_ms();
    run r;
    execute("{\"StartAt\": \"Loop\", \"States\": {"
            "\"Loop\": {\"Type\": \"Pass\", \"Next\": \"Check\"},"
            "\"Check\": {\"Type\": \"Choice\", \"Choices\": [{\"Variable\": \"$.spin\", "
            "\"BooleanEquals\": true, \"Next\": \"Loop\"}], \"Default\": \"Out\"},"
            "\"Out\": {\"Type\": \"Succeed\"}}}",
            "{\"spin\": true}", &r);
    cr_assert_lt(core_clock_monotonic_ms() - wall, 60000);
    cr_assert_str_eq(r.row.status, "FAILED");
    cr_assert_str_eq(r.row.error, "States.Runtime");
    cr_assert_str_eq(r.row.cause,
                     "The execution reached the maximum number of history events (25000).");
    cr_assert_eq(cJSON_GetArraySize(r.events), 25000);
    const cJSON *last = last_event(&r);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(last, "type")->valuestring,
                     "ExecutionFailed");
    cr_assert_eq(num(last, "id"), 25000);
    cr_assert_eq(num(last, "previousEventId"), 24999);
    for (int i = 0; i < 25000; i++)
        cr_assert_eq(num(event(&r, i), "id"), i + 1);
    release(&r);
}

/* ---- task timeouts and empty causes as AWS writes them ------------------------------------------ */

Test(sfn_timeout, timeout_seconds_path_and_heartbeat_reach_task_scheduled_and_time_the_task_out)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                "T", ", \"TimeoutSecondsPath\": \"$.t\", \"HeartbeatSeconds\": 1, "
                     "\"End\": true") "}}",
            "{\"t\": 2, \"sleepMs\": 2100}", &r);
    cr_assert_str_eq(r.row.status, "FAILED");
    cr_assert_str_eq(r.row.error, "States.Timeout");
    cr_assert_null(r.row.cause, "AWS has no cause for a task timeout: %s", r.row.cause);
    cr_assert_str_eq(r.types, "ExecutionStarted,TaskStateEntered,TaskScheduled,TaskStarted,"
                              "TaskTimedOut,ExecutionFailed");
    const cJSON *sched = cJSON_GetObjectItemCaseSensitive(event(&r, 2), "taskScheduledEventDetails");
    cr_assert_eq(num(sched, "timeoutInSeconds"), 2);
    cr_assert_eq(num(sched, "heartbeatInSeconds"), 1);
    /* LocalStack's AWS-recorded snapshot: {"error", "resource", "resourceType"}, no cause */
    const cJSON *tmo = cJSON_GetObjectItemCaseSensitive(event(&r, 4), "taskTimedOutEventDetails");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(tmo, "error")->valuestring, "States.Timeout");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(tmo, "resourceType")->valuestring, "lambda");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(tmo, "resource")->valuestring, "invoke");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(tmo, "cause"));
    const cJSON *failed = cJSON_GetObjectItemCaseSensitive(last_event(&r),
                                                           "executionFailedEventDetails");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(failed, "cause"));
    release(&r);
    run bad;
    execute_named("e2", "{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                            "T", ", \"TimeoutSecondsPath\": \"$.t\", \"End\": true") "}}",
                  "{\"t\": 0}", &bad);
    cr_assert_str_eq(bad.row.status, "FAILED");
    cr_assert_str_eq(bad.row.error, "States.Runtime");
    cr_assert(strstr(bad.row.cause, "TimeoutSecondsPath"), "%s", bad.row.cause);
    cr_assert_eq(count_type(&bad, "TaskScheduled"), 0);
    release(&bad);
}

Test(sfn_timeout, a_fail_state_without_cause_or_error_leaves_them_out)
{
    static const struct {
        const char *fields, *error, *cause;
    } cases[] = {
        {"\"Error\": \"E\"", "E", NULL},
        {"\"Cause\": \"C\"", NULL, "C"},
        {"\"Comment\": \"none\"", NULL, NULL},
    };
    for (size_t i = 0; i < 3; i++) {
        char def[256], name[16];
        snprintf(def, sizeof def,
                 "{\"StartAt\": \"F\", \"States\": {\"F\": {\"Type\": \"Fail\", %s}}}",
                 cases[i].fields);
        snprintf(name, sizeof name, "f%zu", i);
        run r;
        execute_named(name, def, "{}", &r);
        cr_assert_str_eq(r.row.status, "FAILED", "case %zu", i);
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(last_event(&r),
                                                          "executionFailedEventDetails");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(d, "error");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(d, "cause");
        if (cases[i].error) {
            cr_assert_str_eq(r.row.error, cases[i].error, "case %zu", i);
            cr_assert_str_eq(e->valuestring, cases[i].error, "case %zu", i);
        } else {
            cr_assert_null(r.row.error, "case %zu", i);
            cr_assert_null(e, "case %zu", i);
        }
        if (cases[i].cause) {
            cr_assert_str_eq(r.row.cause, cases[i].cause, "case %zu", i);
            cr_assert_str_eq(c->valuestring, cases[i].cause, "case %zu", i);
        } else {
            cr_assert_null(r.row.cause, "case %zu", i);
            cr_assert_null(c, "case %zu", i);
        }
        release(&r);
    }
}

/* ---- ...Path forms the validator accepts take effect at run time -------------------------------- */

Test(sfn_timeout, map_concurrency_and_tolerance_paths_read_the_state_input)
{
    /* MaxConcurrencyPath 1: three 4 s waits one after the other */
    run r;
    execute_named("p1", "{\"StartAt\": \"Map\", \"States\": {\"Map\": {\"Type\": \"Map\", "
                        "\"End\": true, \"ItemsPath\": \"$.items\", \"MaxConcurrencyPath\": "
                        "\"$.mc\", \"ItemProcessor\": {\"StartAt\": \"W\", \"States\": {\"W\": "
                        "{\"Type\": \"Wait\", \"SecondsPath\": \"$\", \"End\": true}}}}}}",
                  "{\"items\": [4, 4, 4], \"mc\": 1}", &r);
    cr_assert_str_eq(r.row.status, "SUCCEEDED");
    cr_assert_eq(r.row.stop_ms - r.row.start_ms, 12000);
    release(&r);
    /* ToleratedFailureCountPath 1: one failure passes, two do not */
    static const struct {
        const char *input, *status;
    } cases[] = {
        {"{\"tc\": 1, \"items\": [{\"fail\": \"X\"}, {}, {}]}", "SUCCEEDED"},
        {"{\"tc\": 1, \"items\": [{\"fail\": \"X\"}, {\"fail\": \"X\"}, {}]}", "FAILED"},
        {"{\"tc\": -1, \"items\": [{}]}", "FAILED"},
        {"{\"items\": [{}]}", "FAILED"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%zu", i);
        run t;
        execute_named(name, "{\"StartAt\": \"Map\", \"States\": {\"Map\": {\"Type\": \"Map\", "
                            "\"End\": true, \"ItemsPath\": \"$.items\", "
                            "\"ToleratedFailureCountPath\": \"$.tc\", \"ItemProcessor\": {"
                            "\"StartAt\": \"T\", \"States\": {\"T\": {\"Type\": \"Task\", "
                            "\"Resource\": \"arn:aws:lambda:us-east-1:000000000000:function:f\", "
                            "\"End\": true}}}}}}",
                      cases[i].input, &t);
        cr_assert_str_eq(t.row.status, cases[i].status, "case %zu: %s %s", i,
                         t.row.error ? t.row.error : "", t.row.cause ? t.row.cause : "");
        if (i == 1)
            cr_assert_str_eq(t.row.error, "States.ExceedToleratedFailureThreshold");
        if (i >= 2) {
            cr_assert_str_eq(t.row.error, "States.Runtime", "case %zu", i);
            cr_assert(strstr(t.row.cause, "ToleratedFailureCountPath"), "case %zu: %s", i,
                      t.row.cause);
        }
        release(&t);
    }
}

Test(sfn_timeout, heartbeat_seconds_path_reaches_task_scheduled)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                "T", ", \"HeartbeatSecondsPath\": \"$.hb\", \"End\": true") "}}",
            "{\"hb\": 30}", &r);
    cr_assert_str_eq(r.row.status, "SUCCEEDED");
    const cJSON *sched = cJSON_GetObjectItemCaseSensitive(event(&r, 2), "taskScheduledEventDetails");
    cr_assert_eq(num(sched, "heartbeatInSeconds"), 30);
    release(&r);
}

Test(sfn_datalimit, results_that_accumulate_fail_at_the_state_that_crosses_the_quota)
{
    /* each result fits (100,002 bytes); the output grows by one at each state, and
     * a Choice hands it on unchanged */
#define BIG_TASK(name, path, next)                                                        \
    "\"" name "\": {\"Type\": \"Task\", \"Resource\": "                                   \
    "\"arn:aws:lambda:us-east-1:000000000000:function:f\", \"ResultPath\": \"" path "\", " \
    "\"Next\": \"" next "\"}"
    run r;
    execute("{\"StartAt\": \"A\", \"States\": {" BIG_TASK("A", "$.a", "B") ","
            "\"B\": {\"Type\": \"Choice\", \"Choices\": [{\"Variable\": \"$.big\", "
            "\"IsPresent\": true, \"Next\": \"C\"}]}," BIG_TASK("C", "$.c", "D") ","
            BIG_TASK("D", "$.d", "E") ","
            "\"E\": {\"Type\": \"Succeed\"}}}",
            "{\"big\": 100000}", &r);
#undef BIG_TASK
    cr_assert_str_eq(r.row.status, "FAILED", "%s", r.types);
    cr_assert_str_eq(r.row.error, "States.DataLimitExceeded");
    cr_assert(strstr(r.row.cause, "'D'"), "%s", r.row.cause);
    cr_assert_eq(count_type(&r, "TaskStateExited"), 2, "A and C exited: %s", r.types);
    cr_assert_eq(count_type(&r, "ChoiceStateExited"), 1);
    cr_assert_eq(lambda_calls, 3);
    release(&r);
}
