/*
 * test_sfn_run.c — golden tests of whole Step Functions executions, run
 * in-process: a definition and an input go in; the execution's status, output
 * or error, and the types (and times) of its history events come out. Tasks
 * reach a fake Lambda and a fake service hook, or mocked responses in Step
 * Functions Local's format. Time is virtual, so retry back-offs and Waits take
 * no wall time while the history's timestamps show them.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/http.h"
#include "core/inproc.h"
#include "core/router.h"
#include "stepfunctions/sfn_impl.h"
#include "support/sfn_testutil.h"
#include "support/testutil.h"

#define T0 1700000000000LL

static sfn_model *model;
static core_clock *clk;
static sfn_mocks *mocks;
static sfn_chaos *chaos;
static int lambda_calls;
static char last_target[128];

/* The fake Lambda: {"fail": "Type"} fails with that errorType; {"sleep": true}
 * ...; anything else answers {"echo": payload, "fn": name}. */
static int fake_lambda(void *ctx, const char *function, const cJSON *payload, cJSON **result,
                       core_err *err)
{
    (void)ctx;
    lambda_calls++;
    const cJSON *sleep_ms = cJSON_GetObjectItemCaseSensitive(payload, "sleepMs");
    if (cJSON_IsNumber(sleep_ms)) {
        struct timespec ts = {sleep_ms->valueint / 1000, (sleep_ms->valueint % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    const cJSON *fail = cJSON_GetObjectItemCaseSensitive(payload, "fail");
    const cJSON *until = cJSON_GetObjectItemCaseSensitive(payload, "failUntil");
    if (cJSON_IsString(fail) && (!cJSON_IsNumber(until) || lambda_calls <= until->valueint)) {
        char cause[512];
        snprintf(cause, sizeof cause,
                 "{\"errorMessage\":\"boom\",\"errorType\":\"%s\",\"stackTrace\":[]}",
                 fail->valuestring);
        return core_err_set(err, 400, fail->valuestring, "%s", cause);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "echo", cJSON_Duplicate(payload, 1));
    cJSON_AddStringToObject(o, "fn", function);
    *result = o;
    return CORE_OK;
}

static int fake_service(void *ctx, const char *target, const cJSON *body, cJSON **result,
                        core_err *err)
{
    (void)ctx;
    snprintf(last_target, sizeof last_target, "%s", target);
    if (cJSON_GetObjectItemCaseSensitive(body, "ConditionExpression"))
        return core_err_set(err, 400, "ConditionalCheckFailedException",
                            "The conditional request failed");
    if (!strncmp(target, "AmazonSimpleNotificationService", 31))
        return core_err_set(err, 400, "UnknownOperationException", "No service of shoplocal");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "Request", cJSON_Duplicate(body, 1));
    *result = o;
    return CORE_OK;
}

static void setup(void)
{
    core_err err;
    cr_assert_eq(sfn_model_open(NULL, &model, &err), CORE_OK, "%s", err.message);
    clk = core_clock_new(CORE_CLOCK_VIRTUAL, T0);
    mocks = NULL;
    chaos = NULL;
    lambda_calls = 0;
    last_target[0] = '\0';
}

static void teardown(void)
{
    sfn_model_close(model);
    core_clock_free(clk);
    sfn_mocks_free(mocks);
    sfn_chaos_free(chaos);
}

TestSuite(sfn_run, .init = setup, .fini = teardown);

typedef struct run {
    sfn_exec_row row;
    cJSON *output; /* parsed */
    cJSON *events;
    char types[2048]; /* "ExecutionStarted,PassStateEntered,..." */
} run;

static sfn_runtime *runtime(void)
{
    sfn_runtime_opts o = {.model = model, .clock = clk, .workers = 1, .region = "us-east-1",
                          .mocks = mocks, .chaos = chaos,
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
    sfn_exec_arn("us-east-1", "m", name, 0, arn, sizeof arn);
    cr_assert_eq(sfn_model_exec_get(model, arn, &r->row, &err), CORE_OK, "%s", err.message);
    r->output = r->row.output ? cJSON_Parse(r->row.output) : NULL;
    cr_assert_eq(sfn_model_events(model, arn, &r->events, &err), CORE_OK);
    sfn_test_types(r->events, r->types, sizeof r->types);
}

static void execute_named(const char *name, const char *definition, const char *input,
                          const char *test_case, run *r)
{
    create_exec(name, definition, input, test_case);
    sfn_runtime *rt = runtime();
    char arn[300];
    core_err err;
    sfn_exec_arn("us-east-1", "m", name, 0, arn, sizeof arn);
    cr_assert_eq(sfn_runtime_run(rt, arn, &err), CORE_OK, "%s", err.message);
    sfn_runtime_free(rt);
    collect(name, r);
}

static void execute(const char *definition, const char *input, run *r)
{
    execute_named("e1", definition, input, NULL, r);
}

static void release(run *r)
{
    sfn_exec_row_release(&r->row);
    cJSON_Delete(r->output);
    cJSON_Delete(r->events);
}

static void assert_output(const run *r, const char *expected)
{
    cr_assert_str_eq(r->row.status, "SUCCEEDED", "status %s (%s: %s)", r->row.status,
                     r->row.error ? r->row.error : "", r->row.cause ? r->row.cause : "");
    cJSON *want = cJSON_Parse(expected);
    cr_assert_not_null(want);
    char *got = cJSON_PrintUnformatted(r->output);
    cr_assert(cJSON_Compare(want, r->output, 1), "output %s, expected %s", got, expected);
    free(got);
    cJSON_Delete(want);
}

static void assert_failed(const run *r, const char *error)
{
    cr_assert_str_eq(r->row.status, "FAILED", "status %s", r->row.status);
    cr_assert_str_eq(r->row.error, error, "error %s, cause %s", r->row.error,
                     r->row.cause ? r->row.cause : "");
}

static const cJSON *event(const run *r, int i)
{
    return cJSON_GetArrayItem(r->events, i);
}

static double event_ts(const run *r, int i)
{
    return cJSON_GetObjectItemCaseSensitive(event(r, i), "timestampMs")->valuedouble;
}

/* The index of the n-th (0-based) event of type, or -1. */
static int find_event(const run *r, const char *type, int n)
{
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, r->events)
    {
        if (!strcmp(cJSON_GetObjectItemCaseSensitive(e, "type")->valuestring, type) && n-- == 0)
            return i;
        i++;
    }
    return -1;
}

#define LAMBDA_TASK(name, fn, extra)                                                       \
    "\"" name "\": {\"Type\": \"Task\", \"Resource\": \"arn:aws:states:::lambda:invoke\", " \
    "\"Parameters\": {\"FunctionName\": \"" fn "\", \"Payload.$\": \"$\"}" extra "}"

/* ---- Pass, history shape ---------------------------------------------------------- */

Test(sfn_run, pass_chain_succeeds_with_aws_event_types_ids_and_previous_ids)
{
    run r;
    execute("{\"StartAt\": \"A\", \"States\": {"
            "\"A\": {\"Type\": \"Pass\", \"Result\": {\"x\": 1}, \"ResultPath\": \"$.a\", "
            "\"Next\": \"B\"},"
            "\"B\": {\"Type\": \"Pass\", \"End\": true}}}",
            "{\"in\": true}", &r);
    assert_output(&r, "{\"in\": true, \"a\": {\"x\": 1}}");
    cr_assert_str_eq(r.types, "ExecutionStarted,PassStateEntered,PassStateExited,"
                              "PassStateEntered,PassStateExited,ExecutionSucceeded");
    for (int i = 0; i < cJSON_GetArraySize(r.events); i++) {
        cr_assert_eq(cJSON_GetObjectItemCaseSensitive(event(&r, i), "id")->valueint, i + 1);
        cr_assert_eq(cJSON_GetObjectItemCaseSensitive(event(&r, i), "previousEventId")->valueint,
                     i == 1 ? 0 : i, "event %d", i);
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(event(&r, 1), "stateEnteredEventDetails");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "name")->valuestring, "A");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "input")->valuestring, "{\"in\":true}");
    d = cJSON_GetObjectItemCaseSensitive(event(&r, 5), "executionSucceededEventDetails");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "output")->valuestring,
                     "{\"in\":true,\"a\":{\"x\":1}}");
    release(&r);
}

Test(sfn_run, pass_result_path_null_keeps_the_input_and_output_path_filters)
{
    run r;
    execute("{\"StartAt\": \"A\", \"States\": {"
            "\"A\": {\"Type\": \"Pass\", \"Result\": 5, \"ResultPath\": null, "
            "\"OutputPath\": \"$.keep\", \"End\": true}}}",
            "{\"keep\": {\"k\": 1}, \"drop\": 2}", &r);
    assert_output(&r, "{\"k\": 1}");
    release(&r);
}

Test(sfn_run, pass_parameters_read_the_context_object)
{
    run r;
    execute("{\"StartAt\": \"A\", \"States\": {"
            "\"A\": {\"Type\": \"Pass\", \"Parameters\": {\"name.$\": \"$$.Execution.Name\", "
            "\"state.$\": \"$$.State.Name\", \"v.$\": \"$.v\"}, \"End\": true}}}",
            "{\"v\": 7}", &r);
    assert_output(&r, "{\"name\": \"e1\", \"state\": \"A\", \"v\": 7}");
    release(&r);
}

Test(sfn_run, intrinsics_and_context_paths_reach_parameters_and_choice)
{
    run r;
    execute("{\"StartAt\": \"C\", \"States\": {"
            "\"C\": {\"Type\": \"Choice\", \"Choices\": [{\"Variable\": "
            "\"$$.Execution.Input.go\", \"BooleanEquals\": true, \"Next\": \"P\"}], "
            "\"Default\": \"F\"},"
            "\"P\": {\"Type\": \"Pass\", \"Parameters\": {\"msg.$\": "
            "\"States.Format('Hello {} from {}', $.name, $$.Execution.Name)\", "
            "\"n.$\": \"States.ArrayLength($.list)\"}, \"End\": true},"
            "\"F\": {\"Type\": \"Fail\", \"Error\": \"NoGo\"}}}",
            "{\"go\": true, \"name\": \"Ann\", \"list\": [1, 2, 3]}", &r);
    assert_output(&r, "{\"msg\": \"Hello Ann from e1\", \"n\": 3}");
    release(&r);
}

/* AWS answers a Parameters path that selects nothing with States.Runtime ("The JsonPath
 * argument for the field 'Payload.$' could not be found in the input"), which no Catch
 * matches — not with the States.ParameterPathFailure its documents name. */
Test(sfn_run, missing_parameter_path_fails_states_runtime_past_catch)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {"
            "\"T\": {\"Type\": \"Task\", \"Resource\": \"arn:aws:states:::lambda:invoke\", "
            "\"Parameters\": {\"FunctionName\": \"f\", \"Payload.$\": \"$.missing\"}, "
            "\"Catch\": [{\"ErrorEquals\": [\"States.ALL\"], \"Next\": \"C\"}], "
            "\"End\": true},"
            "\"C\": {\"Type\": \"Pass\", \"End\": true}}}",
            "{}", &r);
    assert_failed(&r, "States.Runtime");
    const char *prefix = "An error occurred while executing the state 'T' (entered at the event "
                         "id #2). ";
    cr_assert(!strncmp(r.row.cause, prefix, strlen(prefix)), "%s", r.row.cause);
    cr_assert(strstr(r.row.cause, "could not be found in the input"), "%s", r.row.cause);
    cr_assert_eq(lambda_calls, 0);
    release(&r);
}

Test(sfn_run, input_path_selecting_nothing_is_states_runtime_and_not_caught)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {"
            LAMBDA_TASK("T", "f", ", \"InputPath\": \"$.missing\", \"Catch\": [{\"ErrorEquals\": "
                                  "[\"States.ALL\"], \"Next\": \"C\"}], \"End\": true") ","
            "\"C\": {\"Type\": \"Pass\", \"End\": true}}}",
            "{}", &r);
    assert_failed(&r, "States.Runtime");
    cr_assert_eq(lambda_calls, 0);
    release(&r);
}

/* ---- Task and Lambda ------------------------------------------------------------------ */

Test(sfn_run, lambda_invoke_result_has_aws_shape_and_task_events)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK("T", "myfn", ", \"End\": true") "}}",
            "{\"a\": 1}", &r);
    cr_assert_str_eq(r.row.status, "SUCCEEDED");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r.output, "ExecutedVersion")->valuestring,
                     "$LATEST");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(r.output, "StatusCode")->valueint, 200);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(r.output, "SdkHttpMetadata");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(meta, "HttpStatusCode")->valueint, 200);
    cr_assert_not_null(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r.output, "SdkResponseMetadata"), "RequestId"));
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(r.output, "Payload");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(payload, "fn")->valuestring, "myfn");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(
                     cJSON_GetObjectItemCaseSensitive(payload, "echo"), "a")->valueint, 1);
    cr_assert_str_eq(r.types, "ExecutionStarted,TaskStateEntered,TaskScheduled,TaskStarted,"
                              "TaskSucceeded,TaskStateExited,ExecutionSucceeded");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(event(&r, 2), "taskScheduledEventDetails");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "resourceType")->valuestring, "lambda");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "resource")->valuestring, "invoke");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "region")->valuestring, "us-east-1");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "parameters")->valuestring,
                     "{\"FunctionName\":\"myfn\",\"Payload\":{\"a\":1}}");
    release(&r);
}

Test(sfn_run, result_selector_unwraps_the_payload_before_result_path)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                "T", "f", ", \"ResultSelector\": {\"r.$\": \"$.Payload.echo.a\"}, "
                          "\"ResultPath\": \"$.out\", \"End\": true") "}}",
            "{\"a\": 3}", &r);
    assert_output(&r, "{\"a\": 3, \"out\": {\"r\": 3}}");
    release(&r);
}

Test(sfn_run, bare_function_arn_returns_the_payload_with_lambda_function_events)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {\"T\": {\"Type\": \"Task\", \"Resource\": "
            "\"arn:aws:lambda:us-east-1:000000000000:function:f\", \"End\": true}}}",
            "{\"a\": 1}", &r);
    assert_output(&r, "{\"echo\": {\"a\": 1}, \"fn\": "
                      "\"arn:aws:lambda:us-east-1:000000000000:function:f\"}");
    cr_assert_str_eq(r.types, "ExecutionStarted,TaskStateEntered,LambdaFunctionScheduled,"
                              "LambdaFunctionStarted,LambdaFunctionSucceeded,TaskStateExited,"
                              "ExecutionSucceeded");
    release(&r);
}

Test(sfn_run, function_error_is_the_state_error_with_the_error_json_as_cause)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK("T", "f", ", \"End\": true") "}}",
            "{\"fail\": \"PaymentError\"}", &r);
    assert_failed(&r, "PaymentError");
    cr_assert_str_eq(r.row.cause,
                     "{\"errorMessage\":\"boom\",\"errorType\":\"PaymentError\",\"stackTrace\":[]}");
    cr_assert_str_eq(r.types, "ExecutionStarted,TaskStateEntered,TaskScheduled,TaskStarted,"
                              "TaskFailed,ExecutionFailed");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(event(&r, 4), "taskFailedEventDetails");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "error")->valuestring, "PaymentError");
    release(&r);
}

Test(sfn_run, bare_arn_failure_writes_lambda_function_failed)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {\"T\": {\"Type\": \"Task\", \"Resource\": "
            "\"arn:aws:lambda:us-east-1:000000000000:function:f\", \"End\": true}}}",
            "{\"fail\": \"X\"}", &r);
    assert_failed(&r, "X");
    cr_assert_geq(find_event(&r, "LambdaFunctionFailed", 0), 0, "%s", r.types);
    release(&r);
}

/* ---- Retry ------------------------------------------------------------------------------- */

Test(sfn_run, retry_backs_off_2_4_8_seconds_in_virtual_time_and_succeeds)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                "T", "f", ", \"Retry\": [{\"ErrorEquals\": [\"Lambda.ServiceException\"], "
                          "\"IntervalSeconds\": 2, \"MaxAttempts\": 3, \"BackoffRate\": 2}], "
                          "\"ResultSelector\": {\"ok\": true}, \"End\": true") "}}",
            "{\"fail\": \"Lambda.ServiceException\", \"failUntil\": 3}", &r);
    assert_output(&r, "{\"ok\": true}");
    cr_assert_eq(lambda_calls, 4);
    double t[4];
    for (int i = 0; i < 4; i++) {
        int k = find_event(&r, "TaskScheduled", i);
        cr_assert_geq(k, 0);
        t[i] = event_ts(&r, k);
    }
    cr_assert_eq(t[1] - t[0], 2000);
    cr_assert_eq(t[2] - t[1], 4000);
    cr_assert_eq(t[3] - t[2], 8000);
    cr_assert_eq(core_clock_now_ms(clk), T0, "the emulator's clock did not move");
    release(&r);
}

Test(sfn_run, retries_exhausted_fail_with_the_last_error)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                "T", "f", ", \"Retry\": [{\"ErrorEquals\": [\"States.ALL\"], "
                          "\"IntervalSeconds\": 1, \"MaxAttempts\": 2}], \"End\": true") "}}",
            "{\"fail\": \"Boom\"}", &r);
    assert_failed(&r, "Boom");
    cr_assert_eq(lambda_calls, 3);
    release(&r);
}

Test(sfn_run, max_attempts_zero_never_retries_and_goes_to_catch)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                "T", "f", ", \"Retry\": [{\"ErrorEquals\": [\"Boom\"], \"MaxAttempts\": 0}], "
                          "\"Catch\": [{\"ErrorEquals\": [\"Boom\"], \"Next\": \"C\"}], "
                          "\"End\": true") ","
            "\"C\": {\"Type\": \"Pass\", \"End\": true}}}",
            "{\"fail\": \"Boom\"}", &r);
    cr_assert_str_eq(r.row.status, "SUCCEEDED");
    cr_assert_eq(lambda_calls, 1);
    release(&r);
}

Test(sfn_run, first_matching_retrier_wins_even_when_a_later_one_allows_more)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                "T", "f", ", \"Retry\": [{\"ErrorEquals\": [\"Boom\"], \"MaxAttempts\": 1, "
                          "\"IntervalSeconds\": 1}, {\"ErrorEquals\": [\"States.ALL\"], "
                          "\"MaxAttempts\": 5}], \"End\": true") "}}",
            "{\"fail\": \"Boom\"}", &r);
    assert_failed(&r, "Boom");
    cr_assert_eq(lambda_calls, 2, "one retry by the first retrier, none by the second");
    release(&r);
}

Test(sfn_run, max_delay_seconds_caps_the_backoff)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                "T", "f", ", \"Retry\": [{\"ErrorEquals\": [\"States.ALL\"], "
                          "\"IntervalSeconds\": 10, \"BackoffRate\": 10, \"MaxAttempts\": 3, "
                          "\"MaxDelaySeconds\": 30}], \"End\": true") "}}",
            "{\"fail\": \"Boom\"}", &r);
    double t0 = event_ts(&r, find_event(&r, "TaskScheduled", 0));
    double t1 = event_ts(&r, find_event(&r, "TaskScheduled", 1));
    double t2 = event_ts(&r, find_event(&r, "TaskScheduled", 2));
    double t3 = event_ts(&r, find_event(&r, "TaskScheduled", 3));
    cr_assert_eq(t1 - t0, 10000);
    cr_assert_eq(t2 - t1, 30000, "100 s capped to 30 s");
    cr_assert_eq(t3 - t2, 30000);
    release(&r);
}

Test(sfn_run, full_jitter_waits_at_most_the_backoff_and_replays_identically)
{
    const char *def = "{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
        "T", "f", ", \"Retry\": [{\"ErrorEquals\": [\"States.ALL\"], \"IntervalSeconds\": 4, "
                  "\"MaxAttempts\": 2, \"JitterStrategy\": \"FULL\"}], \"End\": true") "}}";
    run a, b;
    execute_named("j1", def, "{\"fail\": \"Boom\"}", NULL, &a);
    execute_named("j1b", def, "{\"fail\": \"Boom\"}", NULL, &b);
    double d1 = event_ts(&a, find_event(&a, "TaskScheduled", 1)) -
                event_ts(&a, find_event(&a, "TaskScheduled", 0));
    cr_assert(d1 >= 0 && d1 <= 4000, "jittered delay %f", d1);
    release(&a);
    release(&b);
    /* The same execution name draws the same jitter. */
    teardown();
    setup();
    run c;
    execute_named("j1", def, "{\"fail\": \"Boom\"}", NULL, &c);
    double d2 = event_ts(&c, find_event(&c, "TaskScheduled", 1)) -
                event_ts(&c, find_event(&c, "TaskScheduled", 0));
    cr_assert_eq(d1, d2);
    release(&c);
}

/* ---- Catch ----------------------------------------------------------------------------- */

Test(sfn_run, catch_result_path_puts_error_and_cause_into_the_raw_input)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                "T", "f", ", \"Catch\": [{\"ErrorEquals\": [\"Other\"], \"Next\": \"Wrong\"}, "
                          "{\"ErrorEquals\": [\"Boom\"], \"ResultPath\": \"$.error\", "
                          "\"Next\": \"C\"}], \"End\": true") ","
            "\"Wrong\": {\"Type\": \"Fail\", \"Error\": \"Wrong\"},"
            "\"C\": {\"Type\": \"Pass\", \"End\": true}}}",
            "{\"fail\": \"Boom\"}", &r);
    assert_output(&r, "{\"fail\": \"Boom\", \"error\": {\"Error\": \"Boom\", \"Cause\": "
                      "\"{\\\"errorMessage\\\":\\\"boom\\\",\\\"errorType\\\":\\\"Boom\\\","
                      "\\\"stackTrace\\\":[]}\"}}");
    cr_assert_str_eq(r.types, "ExecutionStarted,TaskStateEntered,TaskScheduled,TaskStarted,"
                              "TaskFailed,TaskStateExited,PassStateEntered,PassStateExited,"
                              "ExecutionSucceeded");
    release(&r);
}

Test(sfn_run, catch_without_result_path_replaces_the_input)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                "T", "f", ", \"Catch\": [{\"ErrorEquals\": [\"States.ALL\"], \"Next\": \"C\"}], "
                          "\"End\": true") ","
            "\"C\": {\"Type\": \"Pass\", \"OutputPath\": \"$.Error\", \"End\": true}}}",
            "{\"fail\": \"Boom\"}", &r);
    assert_output(&r, "\"Boom\"");
    release(&r);
}

Test(sfn_run, task_failed_matches_errors_but_not_states_timeout)
{
    cr_assert_eq(sfn_mocks_parse("{\"StateMachines\": {\"m\": {\"TestCases\": {\"t\": "
                                 "{\"T\": \"TO\"}}}}, \"MockedResponses\": {\"TO\": {\"0\": "
                                 "{\"Throw\": {\"Error\": \"States.Timeout\", \"Cause\": "
                                 "\"late\"}}}}}", 200, &mocks, NULL), CORE_OK);
    run r;
    execute_named("e1", "{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                      "T", "f", ", \"Catch\": [{\"ErrorEquals\": [\"States.TaskFailed\"], "
                                "\"Next\": \"C\"}], \"End\": true") ","
                  "\"C\": {\"Type\": \"Pass\", \"End\": true}}}",
                  "{}", "t", &r);
    assert_failed(&r, "States.Timeout");
    release(&r);
}

Test(sfn_run, a_task_past_its_timeout_seconds_is_states_timeout_with_task_timed_out)
{
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                "T", "f", ", \"TimeoutSeconds\": 1, \"Catch\": [{\"ErrorEquals\": "
                          "[\"States.TaskFailed\"], \"Next\": \"Wrong\"}], \"End\": true") ","
            "\"Wrong\": {\"Type\": \"Succeed\"}}}",
            "{\"sleepMs\": 1100}", &r);
    assert_failed(&r, "States.Timeout");
    int k = find_event(&r, "TaskTimedOut", 0);
    cr_assert_geq(k, 0, "%s", r.types);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(event(&r, find_event(&r, "TaskScheduled", 0)),
                                                      "taskScheduledEventDetails");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(d, "timeoutInSeconds")->valueint, 1);
    release(&r);
}

/* ---- Choice, Wait, Succeed, Fail ---------------------------------------------------------- */

Test(sfn_run, choice_takes_the_matching_rule_then_the_default)
{
    const char *def =
        "{\"StartAt\": \"C\", \"States\": {"
        "\"C\": {\"Type\": \"Choice\", \"Choices\": [{\"Variable\": \"$.n\", "
        "\"NumericGreaterThan\": 10, \"Next\": \"Big\"}], \"Default\": \"Small\"},"
        "\"Big\": {\"Type\": \"Pass\", \"Result\": \"big\", \"End\": true},"
        "\"Small\": {\"Type\": \"Pass\", \"Result\": \"small\", \"End\": true}}}";
    run a, b;
    execute_named("c1", def, "{\"n\": 11}", NULL, &a);
    execute_named("c2", def, "{\"n\": 3}", NULL, &b);
    assert_output(&a, "\"big\"");
    assert_output(&b, "\"small\"");
    cr_assert_str_eq(a.types, "ExecutionStarted,ChoiceStateEntered,ChoiceStateExited,"
                              "PassStateEntered,PassStateExited,ExecutionSucceeded");
    release(&a);
    release(&b);
}

Test(sfn_run, choice_without_match_or_default_fails_no_choice_matched)
{
    run r;
    execute("{\"StartAt\": \"C\", \"States\": {"
            "\"C\": {\"Type\": \"Choice\", \"Choices\": [{\"Variable\": \"$.n\", "
            "\"NumericEquals\": 1, \"Next\": \"D\"}]},"
            "\"D\": {\"Type\": \"Succeed\"}}}",
            "{\"n\": 2}", &r);
    assert_failed(&r, "States.NoChoiceMatched");
    release(&r);
}

Test(sfn_run, wait_seconds_and_seconds_path_advance_the_execution_clock_only)
{
    run r;
    execute("{\"StartAt\": \"W\", \"States\": {"
            "\"W\": {\"Type\": \"Wait\", \"Seconds\": 3600, \"Next\": \"W2\"},"
            "\"W2\": {\"Type\": \"Wait\", \"SecondsPath\": \"$.s\", \"End\": true}}}",
            "{\"s\": 5}", &r);
    assert_output(&r, "{\"s\": 5}");
    cr_assert_str_eq(r.types, "ExecutionStarted,WaitStateEntered,WaitStateExited,"
                              "WaitStateEntered,WaitStateExited,ExecutionSucceeded");
    cr_assert_eq(event_ts(&r, 2) - event_ts(&r, 1), 3600000);
    cr_assert_eq(event_ts(&r, 4) - event_ts(&r, 3), 5000);
    cr_assert_eq(r.row.stop_ms - r.row.start_ms, 3605000);
    cr_assert_eq(core_clock_now_ms(clk), T0);
    release(&r);
}

Test(sfn_run, wait_timestamp_and_timestamp_path_wait_until_then)
{
    /* T0 = 2023-11-14T22:13:20Z */
    run r;
    execute("{\"StartAt\": \"W\", \"States\": {"
            "\"W\": {\"Type\": \"Wait\", \"Timestamp\": \"2023-11-14T22:14:20Z\", \"Next\": \"W2\"},"
            "\"W2\": {\"Type\": \"Wait\", \"TimestampPath\": \"$.t\", \"End\": true}}}",
            "{\"t\": \"2023-11-14T23:15:20.500+01:00\"}", &r);
    cr_assert_str_eq(r.row.status, "SUCCEEDED");
    cr_assert_eq(event_ts(&r, 2) - T0, 60000);
    cr_assert_eq(event_ts(&r, 4) - T0, 120500);
    release(&r);
}

Test(sfn_run, wait_with_a_bad_timestamp_fails_states_runtime)
{
    run r;
    execute("{\"StartAt\": \"W\", \"States\": {"
            "\"W\": {\"Type\": \"Wait\", \"TimestampPath\": \"$.t\", \"End\": true}}}",
            "{\"t\": \"tomorrow\"}", &r);
    assert_failed(&r, "States.Runtime");
    release(&r);
}

Test(sfn_run, fail_state_error_and_cause_and_their_path_forms)
{
    run a, b;
    execute_named("f1", "{\"StartAt\": \"F\", \"States\": {\"F\": {\"Type\": \"Fail\", "
                        "\"Error\": \"E\", \"Cause\": \"why\"}}}", "{}", NULL, &a);
    assert_failed(&a, "E");
    cr_assert_str_eq(a.row.cause, "why");
    cr_assert_str_eq(a.types, "ExecutionStarted,FailStateEntered,ExecutionFailed");
    execute_named("f2", "{\"StartAt\": \"F\", \"States\": {\"F\": {\"Type\": \"Fail\", "
                        "\"ErrorPath\": \"$.e\", \"CausePath\": \"$.c\"}}}",
                  "{\"e\": \"Dyn\", \"c\": \"because\"}", NULL, &b);
    assert_failed(&b, "Dyn");
    cr_assert_str_eq(b.row.cause, "because");
    release(&a);
    release(&b);
}

Test(sfn_run, succeed_state_ends_with_its_filtered_input)
{
    run r;
    execute("{\"StartAt\": \"S\", \"States\": {\"S\": {\"Type\": \"Succeed\", "
            "\"InputPath\": \"$.a\"}}}", "{\"a\": [1, 2]}", &r);
    assert_output(&r, "[1, 2]");
    cr_assert_str_eq(r.types, "ExecutionStarted,SucceedStateEntered,SucceedStateExited,"
                              "ExecutionSucceeded");
    release(&r);
}

Test(sfn_run, machine_timeout_seconds_times_the_execution_out)
{
    run r;
    execute("{\"TimeoutSeconds\": 10, \"StartAt\": \"W\", \"States\": {"
            "\"W\": {\"Type\": \"Wait\", \"Seconds\": 60, \"Next\": \"P\"},"
            "\"P\": {\"Type\": \"Pass\", \"End\": true}}}", "{}", &r);
    cr_assert_str_eq(r.row.status, "TIMED_OUT");
    cr_assert_str_eq(r.row.error, "States.Timeout");
    cr_assert_str_eq(r.types, "ExecutionStarted,WaitStateEntered,ExecutionTimedOut");
    cr_assert_eq(r.row.stop_ms - T0, 10000);
    release(&r);
}

/* ---- Parallel --------------------------------------------------------------------------- */

Test(sfn_run, parallel_gathers_branch_outputs_in_order)
{
    run r;
    execute("{\"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Parallel\", \"Branches\": ["
            "{\"StartAt\": \"A\", \"States\": {\"A\": {\"Type\": \"Wait\", \"Seconds\": 5, "
            "\"Next\": \"A2\"}, \"A2\": {\"Type\": \"Pass\", \"Result\": \"a\", \"End\": true}}},"
            "{\"StartAt\": \"B\", \"States\": {\"B\": {\"Type\": \"Pass\", \"Result\": \"b\", "
            "\"End\": true}}}], \"ResultPath\": \"$.r\", \"End\": true}}}",
            "{\"x\": 1}", &r);
    assert_output(&r, "{\"x\": 1, \"r\": [\"a\", \"b\"]}");
    cr_assert_eq(find_event(&r, "ParallelStateEntered", 0), 1);
    cr_assert_eq(find_event(&r, "ParallelStateStarted", 0), 2);
    int ok = find_event(&r, "ParallelStateSucceeded", 0);
    cr_assert_gt(ok, 2);
    cr_assert_eq(event_ts(&r, ok) - T0, 5000, "the parallel ends when its slowest branch does");
    release(&r);
}

Test(sfn_run, parallel_fails_with_the_branch_error_which_its_catch_matches)
{
    run r;
    execute("{\"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Parallel\", \"Branches\": ["
            "{\"StartAt\": \"A\", \"States\": {\"A\": {\"Type\": \"Fail\", \"Error\": "
            "\"BranchBoom\", \"Cause\": \"c\"}}},"
            "{\"StartAt\": \"B\", \"States\": {\"B\": {\"Type\": \"Wait\", \"Seconds\": 1, "
            "\"End\": true}}}],"
            "\"Catch\": [{\"ErrorEquals\": [\"BranchBoom\"], \"ResultPath\": \"$.err\", "
            "\"Next\": \"Done\"}], \"End\": true},"
            "\"Done\": {\"Type\": \"Pass\", \"End\": true}}}",
            "{}", &r);
    assert_output(&r, "{\"err\": {\"Error\": \"BranchBoom\", \"Cause\": \"c\"}}");
    cr_assert_geq(find_event(&r, "ParallelStateFailed", 0), 0, "%s", r.types);
    release(&r);
}

Test(sfn_run, a_failing_branch_aborts_its_waiting_sibling)
{
    core_clock_free(clk);
    clk = core_clock_new(CORE_CLOCK_REAL, 0);
    int64_t t0 = core_clock_monotonic_ms();
    run r;
    execute("{\"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Parallel\", \"Branches\": ["
            "{\"StartAt\": \"Long\", \"States\": {\"Long\": {\"Type\": \"Wait\", \"Seconds\": 30, "
            "\"End\": true}}},"
            "{\"StartAt\": \"Soon\", \"States\": {\"Soon\": {\"Type\": \"Wait\", \"Seconds\": 0, "
            "\"Next\": \"F\"}, \"F\": {\"Type\": \"Fail\", \"Error\": \"Early\"}}}],"
            "\"End\": true}}}", "{}", &r);
    assert_failed(&r, "Early");
    cr_assert_lt(core_clock_monotonic_ms() - t0, 5000, "the sibling's 30 s Wait was cut short");
    /* Every branch enters its first state, even one whose sibling fails
     * before its thread runs, so the entered Wait is always aborted. */
    int aborted = find_event(&r, "WaitStateAborted", 0);
    cr_assert_geq(aborted, 0, "%s", r.types);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
                         event(&r, aborted), "stateExitedEventDetails"), "name")->valuestring,
                     "Long");
    cr_assert_gt(find_event(&r, "ParallelStateFailed", 0), aborted);
    release(&r);
}

Test(sfn_run, parallel_without_catch_fails_the_execution)
{
    run r;
    execute("{\"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Parallel\", \"Branches\": ["
            "{\"StartAt\": \"A\", \"States\": {" LAMBDA_TASK("A", "f", ", \"End\": true") "}}],"
            "\"End\": true}}}",
            "{\"fail\": \"Deep\"}", &r);
    assert_failed(&r, "Deep");
    release(&r);
}

/* ---- Map ------------------------------------------------------------------------------------ */

Test(sfn_run, map_runs_each_item_with_item_selector_and_context)
{
    run r;
    execute("{\"StartAt\": \"M\", \"States\": {\"M\": {\"Type\": \"Map\", \"ItemsPath\": "
            "\"$.items\", \"MaxConcurrency\": 1, \"ItemSelector\": {\"v.$\": \"$$.Map.Item.Value\", "
            "\"i.$\": \"$$.Map.Item.Index\", \"k.$\": \"$.k\"}, \"ItemProcessor\": {\"StartAt\": "
            "\"P\", \"States\": {\"P\": {\"Type\": \"Pass\", \"End\": true}}}, \"ResultPath\": "
            "\"$.out\", \"End\": true}}}",
            "{\"items\": [\"a\", \"b\"], \"k\": 9}", &r);
    assert_output(&r, "{\"items\": [\"a\", \"b\"], \"k\": 9, \"out\": [{\"v\": \"a\", \"i\": 0, "
                      "\"k\": 9}, {\"v\": \"b\", \"i\": 1, \"k\": 9}]}");
    cr_assert_str_eq(r.types, "ExecutionStarted,MapStateEntered,MapStateStarted,"
                              "MapIterationStarted,PassStateEntered,PassStateExited,"
                              "MapIterationSucceeded,MapIterationStarted,PassStateEntered,"
                              "PassStateExited,MapIterationSucceeded,MapStateSucceeded,"
                              "MapStateExited,ExecutionSucceeded");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(event(&r, 2), "mapStateStartedEventDetails");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(d, "length")->valueint, 2);
    release(&r);
}

Test(sfn_run, map_iterator_with_parameters_and_concurrency_keeps_item_order)
{
    run r;
    execute("{\"StartAt\": \"M\", \"States\": {\"M\": {\"Type\": \"Map\", \"Parameters\": "
            "{\"x.$\": \"$$.Map.Item.Value\"}, \"Iterator\": {\"StartAt\": \"T\", \"States\": {"
            LAMBDA_TASK("T", "f", ", \"OutputPath\": \"$.Payload.echo.x\", \"End\": true")
            "}}, \"End\": true}}}",
            "[1, 2, 3, 4, 5]", &r);
    assert_output(&r, "[1, 2, 3, 4, 5]");
    cr_assert_eq(lambda_calls, 5);
    release(&r);
}

Test(sfn_run, map_on_an_empty_array_is_an_empty_array)
{
    run r;
    execute("{\"StartAt\": \"M\", \"States\": {\"M\": {\"Type\": \"Map\", \"ItemProcessor\": "
            "{\"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Pass\", \"End\": true}}}, "
            "\"End\": true}}}", "[]", &r);
    assert_output(&r, "[]");
    release(&r);
}

Test(sfn_run, map_items_path_to_a_non_array_is_states_runtime)
{
    run r;
    execute("{\"StartAt\": \"M\", \"States\": {\"M\": {\"Type\": \"Map\", \"ItemProcessor\": "
            "{\"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Pass\", \"End\": true}}}, "
            "\"End\": true}}}", "{\"a\": 1}", &r);
    assert_failed(&r, "States.Runtime");
    release(&r);
}

Test(sfn_run, map_iteration_failure_fails_the_map_with_its_error)
{
    run r;
    execute("{\"StartAt\": \"M\", \"States\": {\"M\": {\"Type\": \"Map\", \"ItemProcessor\": "
            "{\"StartAt\": \"C\", \"States\": {\"C\": {\"Type\": \"Choice\", \"Choices\": "
            "[{\"Variable\": \"$\", \"NumericEquals\": 2, \"Next\": \"F\"}], \"Default\": \"P\"},"
            "\"F\": {\"Type\": \"Fail\", \"Error\": \"ItemTwo\"},"
            "\"P\": {\"Type\": \"Pass\", \"End\": true}}}, \"End\": true}}}",
            "[1, 2, 3]", &r);
    assert_failed(&r, "ItemTwo");
    cr_assert_geq(find_event(&r, "MapIterationFailed", 0), 0, "%s", r.types);
    cr_assert_geq(find_event(&r, "MapStateFailed", 0), 0, "%s", r.types);
    release(&r);
}

Test(sfn_run, map_tolerated_failures_pass_until_the_threshold_is_exceeded)
{
    const char *fmt = "{\"StartAt\": \"M\", \"States\": {\"M\": {\"Type\": \"Map\", %s, "
                      "\"ItemProcessor\": {\"StartAt\": \"C\", \"States\": {\"C\": {\"Type\": "
                      "\"Choice\", \"Choices\": [{\"Variable\": \"$\", \"NumericGreaterThan\": 2, "
                      "\"Next\": \"F\"}], \"Default\": \"P\"}, \"F\": {\"Type\": \"Fail\", "
                      "\"Error\": \"Big\"}, \"P\": {\"Type\": \"Pass\", \"End\": true}}}, "
                      "\"End\": true}}}";
    char def[1024];
    run a, b, c;
    snprintf(def, sizeof def, fmt, "\"ToleratedFailureCount\": 2");
    execute_named("t1", def, "[1, 2, 3, 4]", NULL, &a);
    cr_assert_str_eq(a.row.status, "SUCCEEDED", "%s", a.row.error ? a.row.error : "");
    snprintf(def, sizeof def, fmt, "\"ToleratedFailureCount\": 1");
    execute_named("t2", def, "[1, 2, 3, 4]", NULL, &b);
    assert_failed(&b, "States.ExceedToleratedFailureThreshold");
    snprintf(def, sizeof def, fmt, "\"ToleratedFailurePercentage\": 50");
    execute_named("t3", def, "[1, 2, 3, 4]", NULL, &c);
    cr_assert_str_eq(c.row.status, "SUCCEEDED");
    release(&a);
    release(&b);
    release(&c);
}

/* ---- integrations ----------------------------------------------------------------------------- */

Test(sfn_run, dynamodb_put_item_goes_to_the_service_and_errors_are_dynamodb_named)
{
    run a, b;
    execute_named("d1", "{\"StartAt\": \"D\", \"States\": {\"D\": {\"Type\": \"Task\", "
                        "\"Resource\": \"arn:aws:states:::dynamodb:putItem\", \"Parameters\": "
                        "{\"TableName\": \"t\", \"Item\": {\"pk\": {\"S.$\": \"$.id\"}}}, "
                        "\"End\": true}}}", "{\"id\": \"x\"}", NULL, &a);
    assert_output(&a, "{\"Request\": {\"TableName\": \"t\", \"Item\": {\"pk\": {\"S\": \"x\"}}}}");
    cr_assert_str_eq(last_target, "DynamoDB_20120810.PutItem");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(event(&a, 2), "taskScheduledEventDetails");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "resourceType")->valuestring, "dynamodb");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "resource")->valuestring, "putItem");
    execute_named("d2", "{\"StartAt\": \"D\", \"States\": {\"D\": {\"Type\": \"Task\", "
                        "\"Resource\": \"arn:aws:states:::dynamodb:updateItem\", \"Parameters\": "
                        "{\"TableName\": \"t\", \"ConditionExpression\": \"x\"}, "
                        "\"End\": true}}}", "{}", NULL, &b);
    assert_failed(&b, "DynamoDB.ConditionalCheckFailedException");
    cr_assert(strstr(b.row.cause, "The conditional request failed (Service: AmazonDynamoDBv2; "
                                  "Status Code: 400; Error Code: ConditionalCheckFailedException"),
              "%s", b.row.cause);
    cr_assert_str_eq(last_target, "DynamoDB_20120810.UpdateItem");
    release(&a);
    release(&b);
}

Test(sfn_run, sns_publish_without_an_sns_service_fails_honestly)
{
    run r;
    execute("{\"StartAt\": \"N\", \"States\": {\"N\": {\"Type\": \"Task\", \"Resource\": "
            "\"arn:aws:states:::sns:publish\", \"Parameters\": {\"TopicArn\": \"arn:t\", "
            "\"Message\": \"hi\"}, \"End\": true}}}", "{}", &r);
    assert_failed(&r, "SNS.UnknownOperationException");
    release(&r);
}

static void inproc_echo(void *ctx, const core_http_request *req, core_http_response *resp)
{
    (void)ctx;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "target", core_http_header_get(req, "x-amz-target"));
    cJSON_AddStringToObject(o, "type", core_http_header_get(req, "Content-Type"));
    cJSON_AddItemToObject(o, "body", cJSON_ParseWithLength(req->body, req->body_len));
    core_http_response_json(resp, 200, "application/json", o);
    cJSON_Delete(o);
}

Test(sfn_run, inproc_call_dispatches_through_the_router_with_headers)
{
    core_router *router = core_router_new();
    core_service svc = {.name = "x", .target_prefix = "DynamoDB_20120810", .handler = inproc_echo};
    cr_assert_eq(core_router_add(router, &svc), CORE_OK);
    cJSON *body = cJSON_Parse("{\"a\": 1}"), *out = NULL;
    core_err err;
    cr_assert_eq(core_inproc_call(router, "DynamoDB_20120810.GetItem", body, &out, &err), CORE_OK);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(out, "target")->valuestring,
                     "DynamoDB_20120810.GetItem");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(out, "type")->valuestring,
                     "application/x-amz-json-1.0");
    cJSON_Delete(out);
    out = NULL;
    cr_assert_eq(core_inproc_call(router, "AmazonSimpleNotificationService.Publish", body, &out,
                                  &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "UnknownOperationException");
    cr_assert_eq(err.status, 400);
    cJSON_Delete(body);
    core_router_free(router);
}

/* ---- mock configs and chaos -------------------------------------------------------------------- */

static const char order_mock[] =
    "{\"StateMachines\": {\"m\": {\"TestCases\": {"
    "\"Happy\": {\"T\": \"Ok\"},"
    "\"Flaky\": {\"T\": \"FailTwiceThenOk\"}}}},"
    "\"MockedResponses\": {"
    "\"Ok\": {\"0\": {\"Return\": {\"StatusCode\": 200, \"Payload\": {\"ok\": 1}}}},"
    "\"FailTwiceThenOk\": {\"0-1\": {\"Throw\": {\"Error\": \"Lambda.ServiceException\", "
    "\"Cause\": \"down\"}}, \"2\": {\"Return\": {\"StatusCode\": 200, \"Payload\": {\"ok\": 2}}}}}}";

Test(sfn_run, mocked_responses_answer_by_attempt_and_skip_the_real_lambda)
{
    cr_assert_eq(sfn_mocks_parse(order_mock, sizeof order_mock - 1, &mocks, NULL), CORE_OK);
    const char *def = "{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
        "T", "f", ", \"Retry\": [{\"ErrorEquals\": [\"Lambda.ServiceException\"], "
                  "\"MaxAttempts\": 3}], \"OutputPath\": \"$.Payload\", \"End\": true") "}}";
    run a, b, c;
    execute_named("h", def, "{}", "Happy", &a);
    assert_output(&a, "{\"ok\": 1}");
    execute_named("f", def, "{}", "Flaky", &b);
    assert_output(&b, "{\"ok\": 2}");
    cr_assert_geq(find_event(&b, "TaskFailed", 1), 0, "%s", b.types);
    cr_assert_eq(find_event(&b, "TaskFailed", 2), -1);
    cr_assert_eq(lambda_calls, 0, "mocked states never reach the function");
    execute_named("n", def, "{}", NULL, &c);
    cr_assert_eq(lambda_calls, 1, "without a test case the real integration runs");
    release(&a);
    release(&b);
    release(&c);
}

Test(sfn_run, mock_config_refuses_malformed_and_hostile_documents)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{\"StateMachines\": []}",
        "{\"StateMachines\": {\"m\": {}}}",
        "{\"StateMachines\": {\"m\": {\"TestCases\": {\"t\": {\"S\": \"Nope\"}}}}}",
        "{\"StateMachines\": {\"m\": {\"TestCases\": {\"t\": {\"S\": 3}}}}, \"MockedResponses\": {}}",
        "{\"MockedResponses\": {\"R\": {}}}",
        "{\"MockedResponses\": {\"R\": {\"x\": {\"Return\": 1}}}}",
        "{\"MockedResponses\": {\"R\": {\"2-1\": {\"Return\": 1}}}}",
        "{\"MockedResponses\": {\"R\": {\"-1\": {\"Return\": 1}}}}",
        "{\"MockedResponses\": {\"R\": {\"0\": {\"Return\": 1, \"Throw\": {\"Error\": \"E\"}}}}}",
        "{\"MockedResponses\": {\"R\": {\"0\": {\"Throw\": {\"Cause\": \"no error\"}}}}}",
        "{\"MockedResponses\": {\"R\": {\"0\": {}}}}",
        "{\"MockedResponses\": {\"R\": {\"0 \": {\"Return\": 1}}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sfn_mocks *m = NULL;
        core_err err;
        cr_assert_eq(sfn_mocks_parse(bad[i], strlen(bad[i]), &m, &err), CORE_ERROR,
                     "accepted bad config #%zu: %s", i, bad[i]);
        cr_assert_null(m);
        cr_assert_str_eq(err.type, "InvalidMockConfig");
    }
    /* Deep nesting does not crash the parser (cJSON bounds it). */
    size_t n = 100000;
    char *deep = malloc(2 * n + 1);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    sfn_mocks *m = NULL;
    core_err err;
    cr_assert_eq(sfn_mocks_parse(deep, 2 * n, &m, &err), CORE_ERROR);
    free(deep);
}

Test(sfn_run, mock_past_the_last_key_repeats_the_last_answer)
{
    static const char cfg[] = "{\"StateMachines\": {\"m\": {\"TestCases\": {\"t\": {\"S\": \"R\"}}}}, "
                              "\"MockedResponses\": {\"R\": {\"0\": {\"Return\": 1}, "
                              "\"1-2\": {\"Return\": 2}}}}";
    cr_assert_eq(sfn_mocks_parse(cfg, sizeof cfg - 1, &mocks, NULL), CORE_OK);
    int want[] = {1, 2, 2, 2, 2};
    for (int i = 0; i < 5; i++) {
        cJSON *res = NULL;
        core_err err;
        cr_assert_eq(sfn_mocks_answer(mocks, "m", "t", "S", i, &res, &err), 1);
        cr_assert_eq(res->valueint, want[i], "attempt %d", i);
        cJSON_Delete(res);
    }
    cJSON *res = NULL;
    core_err err;
    cr_assert_eq(sfn_mocks_answer(mocks, "m", "t", "Other", 0, &res, &err), 0);
    cr_assert_eq(sfn_mocks_answer(mocks, "m", "nope", "S", 0, &res, &err), 0);
}

/* A mocked result read by a ResultSelector shares the mock config (no copy): what
 * later states write into the selection must not reach the config. */
Test(sfn_run, mocked_result_under_a_result_selector_leaves_the_config_unchanged)
{
    static const char cfg[] = "{\"StateMachines\": {\"m\": {\"TestCases\": {\"t\": {\"A\": \"R\"}}}}, "
                              "\"MockedResponses\": {\"R\": {\"0\": {\"Return\": {\"StatusCode\": "
                              "200, \"Payload\": {\"k\": [1, 2]}}}}}}";
    cr_assert_eq(sfn_mocks_parse(cfg, sizeof cfg - 1, &mocks, NULL), CORE_OK);
    const char *def =
        "{\"StartAt\": \"A\", \"States\": {"
        "\"A\": {\"Type\": \"Task\", \"Resource\": \"arn:aws:states:::lambda:invoke\", "
        "\"Parameters\": {\"FunctionName\": \"f\", \"Payload.$\": \"$\"}, "
        "\"ResultSelector\": {\"p.$\": \"$.Payload\", \"all.$\": \"$\"}, \"ResultPath\": \"$.a\", "
        "\"Next\": \"B\"},"
        "\"B\": {\"Type\": \"Pass\", \"Result\": \"x\", \"ResultPath\": \"$.a.p.added\", "
        "\"Next\": \"C\"},"
        "\"C\": {\"Type\": \"Pass\", \"Result\": 1, \"ResultPath\": \"$.a.all.Payload.more\", "
        "\"End\": true}}}";
    const char *want = "{\"a\": {\"p\": {\"k\": [1, 2], \"added\": \"x\"}, \"all\": {\"StatusCode\": "
                       "200, \"Payload\": {\"k\": [1, 2], \"more\": 1}}}}";
    for (int i = 0; i < 2; i++) {
        run r;
        execute_named(i ? "e2" : "e1", def, "{}", "t", &r);
        assert_output(&r, want);
        cr_assert(strstr(r.types, "TaskSucceeded") != NULL, "%s", r.types);
        release(&r);
    }
    cJSON *res = NULL;
    core_err err;
    cr_assert_eq(sfn_mocks_answer(mocks, "m", "t", "A", 0, &res, &err), 1);
    char *got = cJSON_PrintUnformatted(res);
    cr_assert_str_eq(got, "{\"StatusCode\":200,\"Payload\":{\"k\":[1,2]}}");
    free(got);
    cJSON_Delete(res);
}

Test(sfn_run, chaos_is_reproducible_from_its_seed_and_respects_probabilities)
{
    cJSON *spec = cJSON_Parse("{\"seed\": 42, \"rules\": [{\"state\": \"T\", \"error\": 0.3, "
                              "\"timeout\": 0.2, \"throttle\": 0.1}]}");
    cr_assert_eq(sfn_chaos_parse(spec, &chaos, NULL), CORE_OK);
    cJSON_Delete(spec);
    int errors = 0, timeouts = 0, throttles = 0, ok = 0;
    for (int i = 0; i < 2000; i++) {
        char name[32];
        snprintf(name, sizeof name, "exec-%d", i);
        core_err e1, e2;
        core_err_clear(&e1);
        core_err_clear(&e2);
        int d1 = sfn_chaos_decide(chaos, name, "T", "f", 0, &e1);
        int d2 = sfn_chaos_decide(chaos, name, "T", "f", 0, &e2);
        cr_assert_eq(d1, d2);
        cr_assert_str_eq(e1.type, e2.type);
        if (!d1)
            ok++;
        else if (!strcmp(e1.type, "Chaos.InjectedError"))
            errors++;
        else if (!strcmp(e1.type, "States.Timeout"))
            timeouts++;
        else if (!strcmp(e1.type, "Lambda.TooManyRequestsException"))
            throttles++;
    }
    cr_assert(errors > 500 && errors < 700, "errors %d", errors);
    cr_assert(timeouts > 320 && timeouts < 480, "timeouts %d", timeouts);
    cr_assert(throttles > 140 && throttles < 260, "throttles %d", throttles);
    core_err e;
    cr_assert_eq(sfn_chaos_decide(chaos, "x", "Other", "f", 0, &e), 0, "other states untouched");
    static const char *const bad[] = {"{}", "{\"seed\": 1}", "{\"seed\": 1, \"rules\": [{}]}",
                                      "{\"seed\": 1, \"rules\": [{\"state\": \"T\", \"error\": 0.9, "
                                      "\"timeout\": 0.9}]}",
                                      "{\"seed\": 1, \"rules\": [{\"state\": \"T\", \"error\": -1}]}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *s = cJSON_Parse(bad[i]);
        sfn_chaos *c = NULL;
        cr_assert_eq(sfn_chaos_parse(s, &c, &e), CORE_ERROR, "%s", bad[i]);
        cJSON_Delete(s);
    }
}

Test(sfn_run, chaos_errors_drive_retries_in_a_whole_execution)
{
    cJSON *spec = cJSON_Parse("{\"seed\": 7, \"rules\": [{\"function\": \"f\", \"throttle\": 1}]}");
    cr_assert_eq(sfn_chaos_parse(spec, &chaos, NULL), CORE_OK);
    cJSON_Delete(spec);
    run r;
    execute("{\"StartAt\": \"T\", \"States\": {" LAMBDA_TASK(
                "T", "f", ", \"Retry\": [{\"ErrorEquals\": [\"Lambda.TooManyRequestsException\"], "
                          "\"MaxAttempts\": 2}], \"End\": true") "}}", "{}", &r);
    assert_failed(&r, "Lambda.TooManyRequestsException");
    cr_assert_eq(lambda_calls, 0);
    cr_assert_geq(find_event(&r, "TaskFailed", 2), 0, "%s", r.types);
    release(&r);
}

/* ---- the order saga with mocks ----------------------------------------------------------------- */

static char *order_definition(void)
{
    FILE *f = fopen("state-machines/order-processing.asl.json", "rb");
    cr_assert_not_null(f, "run from the repository root");
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static const char saga_mock[] =
    "{\"StateMachines\": {\"m\": {\"TestCases\": {"
    "\"Happy\": {\"ValidateInventory\": \"Ok\", \"ReserveInventory\": \"Ok\", "
    "\"ProcessPayment\": \"Ok\", \"CreateOrder\": \"Ok\", \"NotifyCustomer\": \"Ok\"},"
    "\"Declined\": {\"ValidateInventory\": \"Ok\", \"ReserveInventory\": \"Ok\", "
    "\"ProcessPayment\": \"Declined\", \"CompensateReservation\": \"Ok\", \"FailOrder\": \"Ok\"},"
    "\"CreateFails\": {\"ValidateInventory\": \"Ok\", \"ReserveInventory\": \"Ok\", "
    "\"ProcessPayment\": \"Ok\", \"CreateOrder\": \"Crash\", \"RefundPayment\": \"Ok\", "
    "\"ReleaseInventory\": \"Ok\", \"FailOrder\": \"Ok\"},"
    "\"FlakyValidate\": {\"ValidateInventory\": \"Flaky\", \"ReserveInventory\": \"Ok\", "
    "\"ProcessPayment\": \"Ok\", \"CreateOrder\": \"Ok\", \"NotifyCustomer\": \"Ok\"}}}},"
    "\"MockedResponses\": {"
    "\"Ok\": {\"0\": {\"Return\": {\"StatusCode\": 200, \"Payload\": {\"ok\": true}}}},"
    "\"Declined\": {\"0\": {\"Throw\": {\"Error\": \"PaymentError\", \"Cause\": \"declined\"}}},"
    "\"Crash\": {\"0\": {\"Throw\": {\"Error\": \"States.TaskFailed\", \"Cause\": \"crash\"}}},"
    "\"Flaky\": {\"0-1\": {\"Throw\": {\"Error\": \"Lambda.ServiceException\", \"Cause\": "
    "\"x\"}}, \"2\": {\"Return\": {\"StatusCode\": 200, \"Payload\": {\"ok\": true}}}}}}";

static void saga(const char *name, const char *test_case, run *r)
{
    if (!mocks)
        cr_assert_eq(sfn_mocks_parse(saga_mock, sizeof saga_mock - 1, &mocks, NULL), CORE_OK);
    execute_named(name, order_definition(), "{\"orderId\": \"o1\"}", test_case, r);
}

Test(sfn_run, saga_happy_path_confirms_the_order)
{
    run r;
    saga("s1", "Happy", &r);
    cr_assert_str_eq(r.row.status, "SUCCEEDED", "%s %s", r.row.error ? r.row.error : "",
                     r.row.cause ? r.row.cause : "");
    cr_assert_eq(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                     cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(r.output, "payment"), "result"),
                     "ok")), 1);
    cr_assert_geq(find_event(&r, "SucceedStateEntered", 0), 0);
    release(&r);
}

Test(sfn_run, saga_decline_releases_stock_and_fails_the_order)
{
    run r;
    saga("s2", "Declined", &r);
    assert_failed(&r, "OrderFailed");
    int comp = -1, fail = -1, i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, r.events)
    {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "stateEnteredEventDetails");
        const char *n = d ? cJSON_GetObjectItemCaseSensitive(d, "name")->valuestring : "";
        if (!strcmp(n, "CompensateReservation"))
            comp = i;
        if (!strcmp(n, "FailOrder"))
            fail = i;
        i++;
    }
    cr_assert(comp > 0 && fail > comp, "%s", r.types);
    release(&r);
}

Test(sfn_run, saga_failure_after_payment_refunds_and_releases_in_parallel)
{
    run r;
    saga("s3", "CreateFails", &r);
    assert_failed(&r, "OrderFailed");
    cr_assert_geq(find_event(&r, "ParallelStateSucceeded", 0), 0, "%s", r.types);
    release(&r);
}

Test(sfn_run, saga_retries_lambda_service_faults_2_then_4_seconds_apart)
{
    run r;
    saga("s4", "FlakyValidate", &r);
    cr_assert_str_eq(r.row.status, "SUCCEEDED");
    double t0 = event_ts(&r, find_event(&r, "TaskScheduled", 0));
    double t1 = event_ts(&r, find_event(&r, "TaskScheduled", 1));
    double t2 = event_ts(&r, find_event(&r, "TaskScheduled", 2));
    cr_assert_eq(t1 - t0, 2000);
    cr_assert_eq(t2 - t1, 4000);
    release(&r);
}

/* ---- durability and stop ------------------------------------------------------------------- */

Test(sfn_run, resumes_from_the_persisted_position_without_redoing_finished_steps)
{
    const char *def = "{\"StartAt\": \"A\", \"States\": {"
                      LAMBDA_TASK("A", "f", ", \"ResultPath\": \"$.a\", \"Next\": \"B\"") ","
                      LAMBDA_TASK("B", "f", ", \"ResultSelector\": {\"b\": true}, \"End\": true")
                      "}}";
    create_exec("r1", def, "{}", NULL);
    /* As if A had run and the process died right after recording it. */
    char arn[300];
    sfn_exec_arn("us-east-1", "m", "r1", 0, arn, sizeof arn);
    sfn_event evs[] = {
        {.id = 2, .prev_id = 1, .ts_ms = T0, .type = "TaskStateEntered"},
        {.id = 3, .prev_id = 2, .ts_ms = T0, .type = "TaskStateExited"},
    };
    sfn_exec_update u = {.events = evs, .n_events = 2, .pos_state = "B",
                         .pos_input = "{\"a\": \"done\"}", .pos_entered = 0};
    core_err err;
    cr_assert_eq(sfn_model_exec_update(model, arn, &u, &err), CORE_OK, "%s", err.message);
    sfn_runtime *rt = runtime();
    cr_assert_eq(sfn_runtime_resume_all(rt, &err), 1);
    cr_assert_eq(sfn_runtime_wait_idle(rt, 10000), 0);
    sfn_runtime_free(rt);
    run r;
    collect("r1", &r);
    assert_output(&r, "{\"b\": true}");
    cr_assert_eq(lambda_calls, 1, "only B ran");
    cr_assert_str_eq(r.types, "ExecutionStarted,TaskStateEntered,TaskStateExited,"
                              "TaskStateEntered,TaskScheduled,TaskStarted,TaskSucceeded,"
                              "TaskStateExited,ExecutionSucceeded");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(event(&r, 3), "id")->valueint, 4);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(event(&r, 3), "previousEventId")->valueint, 3);
    release(&r);
}

static int alive_calls, die_at;

/* The host's liveness hook: alive until the die_at-th question. */
static int dies_at(void *ctx)
{
    (void)ctx;
    return ++alive_calls < die_at;
}

/* Pure steps (Pass) are not committed on their own; a side effect (the Lambda
 * task) is committed around. Whatever step the host stops at, a restart finishes
 * the execution with every state entered once, gapless ids, and the task run once
 * (stopped while it ran is the one case where it runs again, as on AWS). */
Test(sfn_run, stopping_anywhere_and_resuming_records_each_step_once)
{
    const char *def = "{\"StartAt\": \"A\", \"States\": {"
                      "\"A\": {\"Type\": \"Pass\", \"Result\": 1, \"ResultPath\": \"$.a\", "
                      "\"Next\": \"B\"},"
                      "\"B\": {\"Type\": \"Pass\", \"Next\": \"C\"}," LAMBDA_TASK(
                          "C", "f",
                          ", \"ResultSelector\": {\"p.$\": \"$.Payload\"}, \"ResultPath\": \"$.c\", "
                          "\"Next\": \"D\"") ","
                      "\"D\": {\"Type\": \"Pass\", \"End\": true}}}";
    const char *types = "ExecutionStarted,PassStateEntered,PassStateExited,PassStateEntered,"
                        "PassStateExited,TaskStateEntered,TaskScheduled,TaskStarted,"
                        "TaskSucceeded,TaskStateExited,PassStateEntered,PassStateExited,"
                        "ExecutionSucceeded";
    const char *rescheduled = "ExecutionStarted,PassStateEntered,PassStateExited,"
                              "PassStateEntered,PassStateExited,TaskStateEntered,TaskScheduled,"
                              "TaskStarted,TaskScheduled,TaskStarted,TaskSucceeded,"
                              "TaskStateExited,PassStateEntered,PassStateExited,"
                              "ExecutionSucceeded";
    /* The hook is asked before each state and around the task's call: 2 stops in
     * the pure prefix, 3 before C, 4 between C's commit and its call, 6 after C. */
    static const int stops[] = {1, 2, 3, 4, 6};
    for (size_t i = 0; i < sizeof stops / sizeof *stops; i++) {
        char name[16];
        snprintf(name, sizeof name, "k%zu", i);
        create_exec(name, def, "{}", NULL);
        lambda_calls = 0;
        alive_calls = 0;
        die_at = stops[i];
        char arn[300];
        core_err err;
        sfn_exec_arn("us-east-1", "m", name, 0, arn, sizeof arn);
        sfn_runtime_opts o = {.model = model, .clock = clk, .workers = 1, .region = "us-east-1",
                              .hooks = {.call_lambda = fake_lambda, .call_service = fake_service},
                              .alive = dies_at};
        sfn_runtime *rt = sfn_runtime_new(&o);
        cr_assert_eq(sfn_runtime_run(rt, arn, &err), CORE_OK, "%s", err.message);
        sfn_runtime_free(rt);
        run r;
        collect(name, &r);
        cr_assert_str_eq(r.row.status, "RUNNING", "stop %d: still running", stops[i]);
        release(&r);
        rt = runtime();
        cr_assert_eq(sfn_runtime_run(rt, arn, &err), CORE_OK, "%s", err.message);
        sfn_runtime_free(rt);
        collect(name, &r);
        assert_output(&r, "{\"a\": 1, \"c\": {\"p\": {\"echo\": {\"a\": 1}, \"fn\": \"f\"}}}");
        if (stops[i] == 4) /* stopped with the call scheduled: it is scheduled again */
            cr_assert_str_eq(r.types, rescheduled, "stop %d: %s", stops[i], r.types);
        else
            cr_assert_str_eq(r.types, types, "stop %d: %s", stops[i], r.types);
        int id = 1;
        const cJSON *e;
        cJSON_ArrayForEach(e, r.events)
        {
            cr_assert_eq(cJSON_GetObjectItemCaseSensitive(e, "id")->valueint, id, "stop %d",
                         stops[i]);
            id++;
        }
        cr_assert_eq(lambda_calls, 1, "stop %d: the task ran %d times", stops[i], lambda_calls);
        release(&r);
    }
}

Test(sfn_run, resume_inside_an_entered_task_keeps_its_retry_counters)
{
    const char *def = "{\"StartAt\": \"A\", \"States\": {" LAMBDA_TASK(
        "A", "f", ", \"Retry\": [{\"ErrorEquals\": [\"Boom\"], \"MaxAttempts\": 2}], "
                  "\"End\": true") "}}";
    create_exec("r2", def, "{\"fail\": \"Boom\"}", NULL);
    char arn[300];
    sfn_exec_arn("us-east-1", "m", "r2", 0, arn, sizeof arn);
    sfn_event ev = {.id = 2, .prev_id = 1, .ts_ms = T0, .type = "TaskStateEntered"};
    sfn_exec_update u = {.events = &ev, .n_events = 1, .pos_state = "A",
                         .pos_input = "{\"fail\": \"Boom\"}", .pos_entered = 1,
                         .pos_retries = "[2]", .offset_ms = 3000};
    core_err err;
    cr_assert_eq(sfn_model_exec_update(model, arn, &u, &err), CORE_OK);
    sfn_runtime *rt = runtime();
    cr_assert_eq(sfn_runtime_run(rt, arn, &err), CORE_OK);
    sfn_runtime_free(rt);
    run r;
    collect("r2", &r);
    assert_failed(&r, "Boom");
    cr_assert_eq(lambda_calls, 1, "the retrier was already exhausted");
    cr_assert_eq(find_event(&r, "TaskStateEntered", 1), -1, "no second Entered event");
    cr_assert_eq(event_ts(&r, find_event(&r, "TaskScheduled", 0)) - T0, 3000,
                 "timestamps go on from the persisted offset");
    release(&r);
}

Test(sfn_run, stop_aborts_a_stored_execution_with_an_aborted_event)
{
    create_exec("s1", "{\"StartAt\": \"A\", \"States\": {\"A\": {\"Type\": \"Pass\", \"End\": "
                      "true}}}", "{}", NULL);
    char arn[300];
    sfn_exec_arn("us-east-1", "m", "s1", 0, arn, sizeof arn);
    sfn_runtime *rt = runtime();
    int64_t stop;
    core_err err;
    cr_assert_eq(sfn_runtime_stop(rt, arn, "Stopped", "by test", &stop, &err), CORE_OK);
    cr_assert_eq(sfn_runtime_run(rt, arn, &err), CORE_OK, "an aborted execution does not run");
    sfn_runtime_free(rt);
    run r;
    collect("s1", &r);
    cr_assert_str_eq(r.row.status, "ABORTED");
    cr_assert_str_eq(r.row.error, "Stopped");
    cr_assert_str_eq(r.types, "ExecutionStarted,ExecutionAborted");
    release(&r);
}

Test(sfn_run, stop_wakes_a_real_time_wait)
{
    core_clock_free(clk);
    clk = core_clock_new(CORE_CLOCK_REAL, 0);
    create_exec("w1", "{\"StartAt\": \"W\", \"States\": {\"W\": {\"Type\": \"Wait\", "
                      "\"Seconds\": 600, \"End\": true}}}", "{}", NULL);
    char arn[300];
    sfn_exec_arn("us-east-1", "m", "w1", 0, arn, sizeof arn);
    sfn_runtime *rt = runtime();
    core_err err;
    cr_assert_eq(sfn_runtime_submit(rt, arn, &err), CORE_OK);
    /* Poll until the Wait has begun (its Entered event is written before it sleeps). */
    int64_t deadline = core_clock_monotonic_ms() + 10000;
    run r = {0};
    for (;;) {
        collect("w1", &r);
        int entered = find_event(&r, "WaitStateEntered", 0) >= 0;
        release(&r);
        if (entered)
            break;
        cr_assert_lt(core_clock_monotonic_ms(), deadline, "the wait never started");
    }
    int64_t stop;
    int64_t t0 = core_clock_monotonic_ms();
    cr_assert_eq(sfn_runtime_stop(rt, arn, NULL, NULL, &stop, &err), CORE_OK);
    cr_assert_eq(sfn_runtime_wait_idle(rt, 5000), 0);
    cr_assert_lt(core_clock_monotonic_ms() - t0, 2000);
    sfn_runtime_free(rt);
    collect("w1", &r);
    cr_assert_str_eq(r.row.status, "ABORTED");
    cr_assert_str_eq(r.types, "ExecutionStarted,WaitStateEntered,ExecutionAborted");
    release(&r);
}

Test(sfn_run, executions_keep_separate_virtual_clocks)
{
    const char *slow = "{\"StartAt\": \"W\", \"States\": {\"W\": {\"Type\": \"Wait\", "
                       "\"Seconds\": 1000, \"End\": true}}}";
    const char *fast = "{\"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Pass\", "
                       "\"End\": true}}}";
    run a, b;
    execute_named("slow", slow, "{}", NULL, &a);
    execute_named("fast", fast, "{}", NULL, &b);
    cr_assert_eq(a.row.stop_ms - T0, 1000000);
    cr_assert_eq(b.row.stop_ms, T0, "the other execution's wait did not move this one");
    release(&a);
    release(&b);
}

Test(sfn_run, ephemeral_runs_store_nothing_and_hand_back_the_ended_row)
{
    cr_assert_eq(sfn_mocks_parse(saga_mock, sizeof saga_mock - 1, &mocks, NULL), CORE_OK);
    sfn_runtime *rt = runtime();
    sfn_exec_row in = {.arn = "arn:aws:states:us-east-1:000000000000:express:m:x",
                       .machine_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:m",
                       .machine_name = "m", .name = "x", .input = "{\"orderId\": \"o\"}",
                       .definition = order_definition(), .role_arn = "r", .type = "EXPRESS",
                       .test_case = "Declined", .start_ms = T0};
    sfn_exec_row out;
    core_err err;
    cr_assert_eq(sfn_runtime_run_ephemeral(rt, &in, "ValidateInventory", &out, &err), CORE_OK);
    cr_assert_str_eq(out.status, "FAILED");
    cr_assert_str_eq(out.error, "OrderFailed");
    sfn_exec_row_release(&out);
    cr_assert_eq(sfn_runtime_run_ephemeral(rt, &(sfn_exec_row){.arn = "a", .machine_name = "m",
                                               .name = "y", .input = "[1]",
                                               .definition = "{\"StartAt\": \"P\", \"States\": "
                                                             "{\"P\": {\"Type\": \"Pass\", "
                                                             "\"End\": true}}}",
                                               .type = "EXPRESS", .start_ms = T0},
                                           "P", &out, &err), CORE_OK);
    cr_assert_str_eq(out.status, "SUCCEEDED");
    cr_assert_str_eq(out.output, "[1]");
    sfn_exec_row_release(&out);
    sfn_runtime_free(rt);
    sfn_exec_row got;
    cr_assert_eq(sfn_model_exec_get(model, in.arn, &got, &err), CORE_ERROR, "nothing stored");
}

/* ---- the model ------------------------------------------------------------------------------ */

Test(sfn_run, model_machines_are_idempotent_by_definition_and_list_in_pages)
{
    core_err err;
    int existed;
    char arn[100], name[16];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "sm%d", i);
        snprintf(arn, sizeof arn, "arn:aws:states:us-east-1:000000000000:stateMachine:%s", name);
        sfn_machine sm = {.arn = arn, .name = name, .definition = "{}", .role_arn = "r",
                          .type = "STANDARD", .created_ms = T0, .updated_ms = T0,
                          .revision_id = "1"};
        cr_assert_eq(sfn_model_machine_create(model, &sm, &existed, &err), CORE_OK);
        cr_assert_eq(existed, 0);
        cr_assert_eq(sfn_model_machine_create(model, &sm, &existed, &err), CORE_OK);
        cr_assert_eq(existed, 1);
        sm.definition = "{\"x\": 1}";
        cr_assert_eq(sfn_model_machine_create(model, &sm, &existed, &err), CORE_ERROR);
        cr_assert_str_eq(err.type, "StateMachineAlreadyExists");
    }
    sfn_machine *list;
    size_t n;
    int more;
    cr_assert_eq(sfn_model_machine_list(model, NULL, 2, &list, &n, &more, &err), CORE_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(more, 1);
    cr_assert_str_eq(list[1].name, "sm1");
    for (size_t i = 0; i < n; i++)
        sfn_machine_release(&list[i]);
    free(list);
    cr_assert_eq(sfn_model_machine_list(model, "sm3", 2, &list, &n, &more, &err), CORE_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(more, 0);
    sfn_machine_release(&list[0]);
    free(list);
    sfn_machine got;
    cr_assert_eq(sfn_model_machine_get(model, "arn:nope", &got, &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "StateMachineDoesNotExist");
}

Test(sfn_run, model_executions_are_unique_by_name_and_list_newest_first_by_status)
{
    const char *def = "{\"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Pass\", \"End\": true}}}";
    run r;
    execute_named("x1", def, "{}", NULL, &r);
    release(&r);
    create_exec("x2", def, "{}", NULL);
    create_exec("x3", def, "{}", NULL);
    core_err err;
    char arn[300];
    sfn_exec_arn("us-east-1", "m", "x2", 0, arn, sizeof arn);
    sfn_exec_row dup = {.arn = arn, .machine_arn = "a", .machine_name = "m", .name = "x2",
                        .input = "{}", .definition = (char *)def, .role_arn = "r", .type = "STANDARD"};
    cr_assert_eq(sfn_model_exec_create(model, &dup, "P", NULL, &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "ExecutionAlreadyExists");
    sfn_exec_row *list;
    size_t n;
    int more;
    const char *m = "arn:aws:states:us-east-1:000000000000:stateMachine:m";
    cr_assert_eq(sfn_model_exec_list(model, m, NULL, NULL, 2, &list, &n, &more, &err), CORE_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(more, 1);
    cr_assert_str_eq(list[0].name, "x3");
    cr_assert_str_eq(list[1].name, "x2");
    char *after = strdup(list[1].arn);
    for (size_t i = 0; i < n; i++)
        sfn_exec_row_release(&list[i]);
    free(list);
    cr_assert_eq(sfn_model_exec_list(model, m, NULL, after, 2, &list, &n, &more, &err), CORE_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(list[0].name, "x1");
    sfn_exec_row_release(&list[0]);
    free(list);
    free(after);
    cr_assert_eq(sfn_model_exec_list(model, m, "SUCCEEDED", NULL, 10, &list, &n, &more, &err),
                 CORE_OK);
    cr_assert_eq(n, 1);
    sfn_exec_row_release(&list[0]);
    free(list);
    cr_assert_eq(sfn_model_exec_list(model, m, "RUNNING", NULL, 10, &list, &n, &more, &err),
                 CORE_OK);
    cr_assert_eq(n, 2);
    for (size_t i = 0; i < n; i++)
        sfn_exec_row_release(&list[i]);
    free(list);
}

Test(sfn_run, a_mocked_task_fails_on_its_parameters_alike_stored_or_ephemeral)
{
    static const char mock[] =
        "{\"StateMachines\": {\"m\": {\"TestCases\": {\"C\": {\"T\": \"Ok\"}}}}, "
        "\"MockedResponses\": {\"Ok\": {\"0\": {\"Return\": {\"Payload\": 1}}}}}";
    cr_assert_eq(sfn_mocks_parse(mock, sizeof mock - 1, &mocks, NULL), CORE_OK);
    const char *def = "{\"StartAt\": \"T\", \"States\": {"
                      "\"T\": {\"Type\": \"Task\", \"Resource\": \"arn:aws:states:::lambda:invoke\", "
                      "\"Parameters\": {\"FunctionName\": \"f\", \"P\": {\"ok.$\": \"$.a\", "
                      "\"Payload.$\": \"$.missing\"}}, \"End\": true}}}";
    run r;
    execute_named("p1", def, "{\"a\": 1}", "C", &r);
    assert_failed(&r, "States.Runtime");
    sfn_runtime *rt = runtime();
    sfn_exec_row in = {.arn = "arn:aws:states:us-east-1:000000000000:express:m:x",
                       .machine_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:m",
                       .machine_name = "m", .name = "x", .input = "{\"a\": 1}",
                       .definition = (char *)def, .type = "EXPRESS", .test_case = "C",
                       .start_ms = T0};
    sfn_exec_row out;
    core_err err;
    cr_assert_eq(sfn_runtime_run_ephemeral(rt, &in, "T", &out, &err), CORE_OK);
    cr_assert_str_eq(out.status, "FAILED");
    cr_assert_str_eq(out.error, r.row.error);
    cr_assert_str_eq(out.cause, r.row.cause);
    sfn_exec_row_release(&out);
    sfn_runtime_free(rt);
    cr_assert_eq(lambda_calls, 0);
    release(&r);
}

Test(sfn_run, a_held_definition_outlives_its_eviction_from_the_cache)
{
    sfn_runtime *rt = runtime();
    const char *def = "{\"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Pass\", "
                      "\"Result\": \"held\", \"End\": true}}}";
    const sfn_definition *held = sfn_runtime_definition(rt, def);
    cr_assert_not_null(held);
    cr_assert_str_eq(sfn_definition_start_at(held), "P");
    cr_assert_null(sfn_runtime_definition(rt, "not json"));
    /* more definitions than the cache has slots: the held one is evicted */
    for (int i = 0; i < 20; i++) {
        char other[160];
        snprintf(other, sizeof other,
                 "{\"StartAt\": \"Q\", \"States\": {\"Q\": {\"Type\": \"Pass\", "
                 "\"Result\": %d, \"End\": true}}}", i);
        sfn_exec_row in = {.arn = "a", .machine_name = "m", .name = "x", .input = "{}",
                           .definition = other, .type = "EXPRESS", .start_ms = T0};
        sfn_exec_row out;
        core_err err;
        cr_assert_eq(sfn_runtime_run_ephemeral(rt, &in, "Q", &out, &err), CORE_OK);
        char want[8];
        snprintf(want, sizeof want, "%d", i);
        cr_assert_str_eq(out.output, want);
        sfn_exec_row_release(&out);
    }
    sfn_exec_row in = {.arn = "a", .machine_name = "m", .name = "y", .input = "{}",
                       .type = "EXPRESS", .start_ms = T0};
    sfn_exec_row out;
    core_err err;
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(sfn_runtime_run_ephemeral_def(rt, held, &in, "P", &out, &err), CORE_OK);
        cr_assert_str_eq(out.status, "SUCCEEDED");
        cr_assert_str_eq(out.output, "\"held\"");
        sfn_exec_row_release(&out);
    }
    sfn_runtime_definition_release(rt, held);
    sfn_runtime_definition_release(rt, NULL);
    sfn_runtime_free(rt);
}

/* ---- pinned bytes: the order saga's answer and history ---------------------------------------- */

/* The bench's input and a few values whose printing has edge cases (escapes, a
 * control character, UTF-8, fractions, exponents, negatives). */
static const char pin_input[] =
    "{\"orderId\": \"o-bench\", \"userId\": \"u1\", \"email\": \"a@example.com\", \"items\": "
    "[{\"productId\": \"p1\", \"quantity\": 1, \"priceCents\": 1999}], \"total\": 1999, "
    "\"currency\": \"usd\", \"paymentMethod\": \"pm_card_visa\", \"note\": "
    "\"q\\\"b\\\\s/\\n\\t\\r\\b\\f\\u0001\\u00e9\\u20ac\", \"ratio\": 0.1, \"third\": "
    "0.3333333333333333, \"big\": 1e300, \"neg\": -42, \"huge\": 12345678901234567890, "
    "\"flags\": [true, false, null], \"empty\": {}, \"none\": []}";

static char *golden(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "tests/golden/stepfunctions/%s", name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: run from the repository root", path);
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (n && buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    return buf;
}

Test(sfn_run, pinned_start_sync_answers_of_the_saga_are_byte_for_byte_unchanged)
{
    cr_assert_eq(sfn_mocks_parse(saga_mock, sizeof saga_mock - 1, &mocks, NULL), CORE_OK);
    sfn_runtime *rt = runtime();
    const char *cases[] = {"Happy", "CreateFails", "Declined", "FlakyValidate"};
    char got[1 << 16];
    size_t used = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sfn_exec_row in = {.arn = "arn:aws:states:us-east-1:000000000000:express:m:x",
                           .machine_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:m",
                           .machine_name = "m", .name = "x", .input = (char *)pin_input,
                           .definition = order_definition(), .role_arn = "r", .type = "EXPRESS",
                           .test_case = (char *)cases[i], .start_ms = T0};
        sfn_exec_row out;
        core_err err;
        cr_assert_eq(sfn_runtime_run_ephemeral(rt, &in, "ValidateInventory", &out, &err),
                     CORE_OK);
        used += (size_t)snprintf(got + used, sizeof got - used,
                                 "%s %s stop=%lld\noutput=%s\nerror=%s\ncause=%s\n", cases[i],
                                 out.status, (long long)(out.stop_ms - T0),
                                 out.output ? out.output : "-", out.error ? out.error : "-",
                                 out.cause ? out.cause : "-");
        sfn_exec_row_release(&out);
    }
    while (used && got[used - 1] == '\n')
        got[--used] = '\0';
    sfn_runtime_free(rt);
    cr_assert_str_eq(got, golden("saga_sync_answers.txt"));
}

Test(sfn_run, a_run_on_values_answers_the_tree_the_text_run_prints)
{
    cr_assert_eq(sfn_mocks_parse(saga_mock, sizeof saga_mock - 1, &mocks, NULL), CORE_OK);
    sfn_runtime *rt = runtime();
    const sfn_definition *held = sfn_runtime_definition(rt, order_definition());
    cr_assert_not_null(held);
    cJSON *value = cJSON_Parse(pin_input);
    char *before = cJSON_PrintUnformatted(value);
    const char *cases[] = {"Happy", "CreateFails", "Declined", "FlakyValidate"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sfn_exec_row in = {.arn = "arn:aws:states:us-east-1:000000000000:express:m:x",
                           .machine_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:m",
                           .machine_name = "m", .name = "x", .input = (char *)pin_input,
                           .definition = order_definition(), .role_arn = "r", .type = "EXPRESS",
                           .test_case = (char *)cases[i], .start_ms = T0};
        sfn_exec_row text, tree;
        cJSON *output = NULL;
        core_err err;
        cr_assert_eq(sfn_runtime_run_ephemeral_def(rt, held, &in, "ValidateInventory", &text, &err),
                     CORE_OK);
        in.input = NULL; /* not read on values */
        cr_assert_eq(sfn_runtime_run_value(rt, held, &in, value, "ValidateInventory", &tree,
                                           &output, &err),
                     CORE_OK);
        cr_assert_str_eq(tree.status, text.status, "%s", cases[i]);
        cr_assert_null(tree.output, "%s: no text on values", cases[i]);
        if (text.output) {
            char *printed = cJSON_PrintUnformatted(output);
            cr_assert_str_eq(printed, text.output, "%s", cases[i]);
            free(printed);
        } else {
            cr_assert_null(output, "%s: a failed run answers no tree", cases[i]);
            cr_assert_str_eq(tree.error, text.error, "%s", cases[i]);
            cr_assert_str_eq(tree.cause, text.cause, "%s", cases[i]);
        }
        cJSON_Delete(output);
        sfn_exec_row_release(&text);
        sfn_exec_row_release(&tree);
    }
    /* the input is the caller's: read, never consumed; $$.Execution.Input sees it */
    char *again = cJSON_PrintUnformatted(value);
    cr_assert_str_eq(again, before);
    free(again);
    free(before);
    static const char ctx_def[] = "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
                                  "\"Parameters\":{\"in.$\":\"$$.Execution.Input.a\"},\"End\":true}}}";
    const sfn_definition *small = sfn_runtime_definition(rt, ctx_def);
    cJSON *a = cJSON_Parse("{\"a\":[1,\"two\"]}");
    sfn_exec_row in = {.arn = "arn:aws:states:us-east-1:000000000000:express:m:y",
                       .machine_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:m",
                       .machine_name = "m", .name = "y", .definition = (char *)ctx_def,
                       .role_arn = "r", .type = "EXPRESS", .start_ms = T0};
    sfn_exec_row out;
    cJSON *output = NULL;
    core_err err;
    cr_assert_eq(sfn_runtime_run_value(rt, small, &in, a, "P", &out, &output, &err), CORE_OK);
    cr_assert_str_eq(out.status, "SUCCEEDED");
    char *printed = cJSON_PrintUnformatted(output);
    cr_assert_str_eq(printed, "{\"in\":[1,\"two\"]}");
    free(printed);
    cJSON_Delete(output);
    sfn_exec_row_release(&out);
    cJSON_Delete(a);
    sfn_runtime_definition_release(rt, small);
    cJSON_Delete(value);
    sfn_runtime_definition_release(rt, held);
    sfn_runtime_free(rt);
}

Test(sfn_run, pinned_standard_histories_of_the_saga_are_byte_for_byte_unchanged)
{
    cr_assert_eq(sfn_mocks_parse(saga_mock, sizeof saga_mock - 1, &mocks, NULL), CORE_OK);
    /* no Parallel: its branches interleave their event ids as the threads run */
    const char *cases[] = {"Happy", "Declined", "FlakyValidate"};
    static char got[1 << 17];
    size_t used = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        run r;
        char name[16];
        snprintf(name, sizeof name, "pin%zu", i);
        execute_named(name, order_definition(), pin_input, cases[i], &r);
        char *events = cJSON_PrintUnformatted(r.events);
        used += (size_t)snprintf(got + used, sizeof got - used, "%s %s\noutput=%s\nevents=%s\n",
                                 cases[i], r.row.status, r.row.output ? r.row.output : "-",
                                 events);
        free(events);
        release(&r);
    }
    while (used && got[used - 1] == '\n')
        got[--used] = '\0';
    cr_assert_str_eq(got, golden("saga_standard_histories.txt"));
}

/* stepfunctions.db as schema version 1 made it (events in a WITHOUT ROWID table
 * keyed by the execution's ARN): migration 2 must move every row, and a RUNNING
 * execution of the old file resumes on the new one. */
static const char old_schema_v1[] =
    "CREATE TABLE machines ("
    "  arn TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, definition TEXT NOT NULL,"
    "  role_arn TEXT NOT NULL, type TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL, revision_id TEXT NOT NULL);"
    "CREATE TABLE executions ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, arn TEXT NOT NULL UNIQUE,"
    "  machine_arn TEXT NOT NULL, machine_name TEXT NOT NULL, name TEXT NOT NULL,"
    "  status TEXT NOT NULL, input TEXT NOT NULL, output TEXT, error TEXT, cause TEXT,"
    "  def_hash TEXT NOT NULL, role_arn TEXT NOT NULL, type TEXT NOT NULL, test_case TEXT,"
    "  start_ms INTEGER NOT NULL, stop_ms INTEGER,"
    "  pos_state TEXT, pos_input TEXT, pos_entered INTEGER NOT NULL DEFAULT 0,"
    "  pos_retries TEXT, offset_ms INTEGER NOT NULL DEFAULT 0,"
    "  last_event_id INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX executions_by_machine ON executions(machine_arn, seq);"
    "CREATE INDEX executions_running ON executions(status, seq);"
    "CREATE TABLE definitions (hash TEXT PRIMARY KEY, text TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE events ("
    "  exec_arn TEXT NOT NULL, id INTEGER NOT NULL, prev_id INTEGER NOT NULL,"
    "  ts_ms INTEGER NOT NULL, type TEXT NOT NULL, details TEXT,"
    "  PRIMARY KEY (exec_arn, id)) WITHOUT ROWID;"
    "PRAGMA user_version=1;";

#define OLD_DEF "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Next\":\"B\"}," \
                "\"B\":{\"Type\":\"Pass\",\"Result\":{\"b\":2},\"End\":true}}}"
#define OLD_ARN(n) "arn:aws:states:us-east-1:000000000000:execution:m:" n

Test(sfn_run, schema_1_db_migrates_its_events_and_resumes_a_running_execution)
{
    char *dir = tu_mkdtemp();
    char path[4096];
    snprintf(path, sizeof path, "%s/stepfunctions.db", dir);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, old_schema_v1, NULL, NULL, NULL), SQLITE_OK, "%s",
                 sqlite3_errmsg(db));
    char sql[4096];
    snprintf(sql, sizeof sql,
             "INSERT INTO definitions VALUES ('h', '%s');"
             /* "done" ran first and finished; "half" stands at B, A's events written */
             "INSERT INTO executions(arn, machine_arn, machine_name, name, status, input, output,"
             " def_hash, role_arn, type, start_ms, stop_ms, pos_state, pos_input, last_event_id)"
             " VALUES ('" OLD_ARN("done") "', 'arn:m', 'm', 'done', 'SUCCEEDED', '{}', '{\"b\":2}',"
             " 'h', 'r', 'STANDARD', 1700000000000, 1700000000000, 'B', '{}', 6),"
             " ('" OLD_ARN("half") "', 'arn:m', 'm', 'half', 'RUNNING', '{\"x\":1}', NULL,"
             " 'h', 'r', 'STANDARD', 1700000000000, NULL, 'B', '{\"x\":1}', 3);"
             "INSERT INTO events VALUES"
             " ('" OLD_ARN("half") "', 1, 0, 1700000000000, 'ExecutionStarted',"
             "  '{\"executionStartedEventDetails\":{\"input\":\"{\\\"x\\\":1}\"}}'),"
             " ('" OLD_ARN("done") "', 2, 1, 1700000000000, 'PassStateEntered', NULL),"
             " ('" OLD_ARN("half") "', 3, 2, 1700000000000, 'PassStateExited', NULL),"
             " ('" OLD_ARN("done") "', 1, 0, 1700000000000, 'ExecutionStarted', NULL),"
             " ('" OLD_ARN("half") "', 2, 1, 1700000000000, 'PassStateEntered', NULL);",
             OLD_DEF);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);

    sfn_model_close(model);
    core_err err;
    cr_assert_eq(sfn_model_open(dir, &model, &err), CORE_OK, "%s", err.message);
    cJSON *done;
    cr_assert_eq(sfn_model_events(model, OLD_ARN("done"), &done, &err), CORE_OK);
    cr_assert_eq(cJSON_GetArraySize(done), 2, "the finished execution keeps its own 2 events");
    cJSON_Delete(done);

    sfn_runtime *rt = runtime();
    cr_assert_eq(sfn_runtime_run(rt, OLD_ARN("half"), &err), CORE_OK, "%s", err.message);
    sfn_runtime_free(rt);
    run r;
    memset(&r, 0, sizeof r);
    collect("half", &r);
    cr_assert_str_eq(r.row.status, "SUCCEEDED");
    cr_assert_str_eq(r.types, "ExecutionStarted,PassStateEntered,PassStateExited,"
                              "PassStateEntered,PassStateExited,ExecutionSucceeded",
                     "A is not redone, B runs: %s", r.types);
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(cJSON_GetObjectItemCaseSensitive(event(&r, i), "id")->valuedouble, i + 1);
        cr_assert_eq(
            cJSON_GetObjectItemCaseSensitive(event(&r, i), "previousEventId")->valuedouble, i);
    }
    const cJSON *started = cJSON_GetObjectItemCaseSensitive(event(&r, 0),
                                                            "executionStartedEventDetails");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(started, "input")->valuestring, "{\"x\":1}",
                     "the details came over");
    release(&r);

    sfn_model_close(model);
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 2);
    sqlite3_finalize(st);
    sqlite3_close(db);
    cr_assert_eq(sfn_model_open(NULL, &model, &err), CORE_OK, "%s", err.message);
    tu_rmrf(dir);
    free(dir);
}

/* Every stored event's details text is cJSON's own: printing the tree it parses
 * to gives the same bytes (details written as text, sfn-std; the golden
 * histories pin the saga's, this the bare Lambda, timeout and heartbeat forms
 * and escapes in names and payloads). */
Test(sfn_run, details_written_as_text_are_the_bytes_cjson_prints_of_their_tree)
{
    char *dir = tu_mkdtemp();
    sfn_model_close(model);
    core_err err;
    cr_assert_eq(sfn_model_open(dir, &model, &err), CORE_OK, "%s", err.message);
    run r;
    execute("{\"StartAt\": \"B\\\"\\u00e9\", \"States\": {"
            "\"B\\\"\\u00e9\": {\"Type\": \"Task\", \"Resource\": "
            "\"arn:aws:lambda:us-east-1:000000000000:function:f\", \"TimeoutSeconds\": 7, "
            "\"Next\": \"T\"},"
            "\"T\": {\"Type\": \"Task\", \"Resource\": \"arn:aws:states:::lambda:invoke\", "
            "\"Parameters\": {\"FunctionName\": \"f\", \"Payload.$\": \"$\"}, "
            "\"TimeoutSeconds\": 30, \"HeartbeatSeconds\": 12, \"End\": true}}}",
            "{\"note\": \"q\\\"b\\\\s/\\n\\t\\u0001\\u00e9\\u20ac\", \"ratio\": 0.1, "
            "\"third\": 0.3333333333333333, \"big\": 1e300, \"neg\": -42}", &r);
    cr_assert_str_eq(r.row.status, "SUCCEEDED", "%s", r.types);
    cr_assert_str_eq(r.types, "ExecutionStarted,TaskStateEntered,LambdaFunctionScheduled,"
                              "LambdaFunctionStarted,LambdaFunctionSucceeded,TaskStateExited,"
                              "TaskStateEntered,TaskScheduled,TaskStarted,TaskSucceeded,"
                              "TaskStateExited,ExecutionSucceeded");
    release(&r);
    sfn_model_close(model);
    model = NULL;

    char path[4096];
    snprintf(path, sizeof path, "%s/stepfunctions.db", dir);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT type, details FROM events ORDER BY event_key", -1,
                                    &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    int n = 0, with_numbers = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *text = (const char *)sqlite3_column_text(st, 1);
        n++;
        if (!text)
            continue;
        cJSON *tree = cJSON_Parse(text);
        cr_assert_not_null(tree, "%s: details are not JSON: %s", type, text);
        char *again = cJSON_PrintUnformatted(tree);
        cr_assert_str_eq(text, again, "%s: stored details differ from cJSON's print", type);
        if (strstr(text, "InSeconds\":"))
            with_numbers++;
        free(again);
        cJSON_Delete(tree);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    cr_assert_eq(n, 12);
    cr_assert_eq(with_numbers, 2, "timeoutInSeconds / heartbeatInSeconds written");
    cr_assert_eq(sfn_model_open(NULL, &model, &err), CORE_OK, "%s", err.message);
    tu_rmrf(dir);
    free(dir);
}

/* One runtime runs each execution on the definition it was started with, found
 * by the stored hash once the runtime has parsed it (sfn_model_exec_get_for_run). */
Test(sfn_run, a_runtime_finds_each_execution_definition_by_its_hash)
{
    static const char *const defs[] = {
        "{\"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Pass\", \"Result\": \"a\", "
        "\"End\": true}}}",
        "{\"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Pass\", \"Result\": \"b\", "
        "\"End\": true}}}"};
    static const int order[] = {0, 1, 0, 0, 1};
    char name[16];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "h%d", i);
        create_exec(name, defs[order[i]], "{}", NULL);
    }
    sfn_runtime *rt = runtime();
    for (int i = 0; i < 5; i++) {
        char arn[300];
        core_err err;
        snprintf(name, sizeof name, "h%d", i);
        sfn_exec_arn("us-east-1", "m", name, 0, arn, sizeof arn);
        cr_assert_eq(sfn_runtime_run(rt, arn, &err), CORE_OK, "%s", err.message);
    }
    sfn_runtime_free(rt);
    for (int i = 0; i < 5; i++) {
        run r;
        snprintf(name, sizeof name, "h%d", i);
        collect(name, &r);
        cr_assert_str_eq(r.row.output, order[i] ? "\"b\"" : "\"a\"", "%s", name);
        release(&r);
    }
}
