/*
 * sfn_testutil.h — what the Step Functions suites (test_sfn_run.c,
 * test_sfn_timeout.c) share: a STANDARD execution of machine "m" written to a
 * model as StartExecution writes it, and its history's event types joined by
 * commas. Header-only (static inline): only the Criterion suites that link the
 * emulator include it; tests/support/testutil.c stays free of both.
 */
#ifndef SFN_TESTUTIL_H
#define SFN_TESTUTIL_H

#include <criterion/criterion.h>
#include <stdio.h>

#include "core/clock.h"
#include "stepfunctions/sfn_impl.h"

/* The ARN of execution name of machine "m". */
static inline void sfn_test_arn(const char *name, char *arn, size_t len)
{
    sfn_exec_arn("us-east-1", "m", name, 0, arn, len);
}

/* A RUNNING execution name of definition (JSON text) on input, started now by
 * clk, chosen by test_case (may be NULL) in the mock config. */
static inline void sfn_test_create_exec(sfn_model *model, core_clock *clk, const char *name,
                                        const char *definition, const char *input,
                                        const char *test_case)
{
    core_err err;
    cJSON *def = cJSON_Parse(definition);
    cr_assert_not_null(def, "definition is not JSON: %.200s", definition);
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(def, "StartAt");
    char arn[300];
    sfn_test_arn(name, arn, sizeof arn);
    sfn_exec_row row = {.arn = arn, .machine_arn = "arn:aws:states:us-east-1:000000000000:"
                                                   "stateMachine:m",
                        .machine_name = "m", .name = (char *)name, .input = (char *)input,
                        .definition = (char *)definition, .role_arn = "arn:aws:iam::0:role/r",
                        .type = "STANDARD", .test_case = (char *)test_case,
                        .start_ms = core_clock_now_ms(clk)};
    cr_assert_eq(sfn_model_exec_create(model, &row, start->valuestring, NULL, &err), CORE_OK,
                 "%s", err.message);
    cJSON_Delete(def);
}

/* "ExecutionStarted,PassStateEntered,..." of events into types (size bytes;
 * cut at its end). */
static inline void sfn_test_types(const cJSON *events, char *types, size_t size)
{
    size_t used = 0;
    types[0] = '\0';
    const cJSON *e;
    cJSON_ArrayForEach(e, events)
    {
        const char *t = cJSON_GetObjectItemCaseSensitive(e, "type")->valuestring;
        used += (size_t)snprintf(types + used, size - used, "%s%s", used ? "," : "", t);
        if (used >= size)
            used = size - 1;
    }
}

#endif
