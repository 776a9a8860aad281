/*
 * test_sfn_asl.c — definition validation (asl_validate.c): the schema of each
 * state type, Retry/Catch, paths and templates (sfn_asl_schema), the graph
 * (sfn_asl_graph), nested branches and processors, the shop's own saga
 * (sfn_asl_saga), and hostile definitions (sfn_asl_hostile).
 *
 * Expected messages are AWS's where its CreateStateMachine answers or
 * ValidateStateMachineDefinition diagnostics are public (issues of
 * LocalStack, floci, cfn-lint, serverless-step-functions quoting them):
 * "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing
 * 'Next' target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State
 * \"pass2\" is not reachable. at /States/pass2'", "SCHEMA_VALIDATION_FAILED:
 * These fields are required: [Choices] at ...", "Field 'TimeoutSeconds' is
 * not supported", "MISSING_END_STATE: Workflow has no terminal state at null".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "stepfunctions/lang.h"
#include "stepfunctions/lang_impl.h"

static core_err err;

#define PREFIX "Invalid State Machine Definition: '"

typedef struct asl_case {
    const char *definition;
    const char *want; /* the whole message without PREFIX and the closing quote; NULL: valid */
} asl_case;

static void run_cases(const asl_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cJSON *def = cJSON_Parse(cases[i].definition);
        cr_assert_not_null(def, "bad JSON in case %zu", i);
        core_err_clear(&err);
        int rc = sfn_asl_validate(def, &err);
        if (!cases[i].want) {
            cr_assert_eq(rc, CORE_OK, "case %zu should be valid: %s", i, err.message);
        } else {
            char want[2048];
            snprintf(want, sizeof want, PREFIX "%s'", cases[i].want);
            cr_assert_eq(rc, CORE_ERROR, "case %zu should be refused", i);
            cr_assert_str_eq(err.type, "InvalidDefinition", "case %zu", i);
            cr_assert_eq(err.status, 400);
            cr_assert_str_eq(err.message, want, "case %zu", i);
        }
        cJSON_Delete(def);
    }
}

#define M(states) "{\"StartAt\":\"A\",\"States\":{" states "}}"
#define PASS_END "\"Type\":\"Pass\",\"End\":true"

Test(sfn_asl_schema, accepts_every_state_type_in_its_documented_form)
{
    static const asl_case cases[] = {
        {M("\"A\":{" PASS_END "}"), NULL},
        {M("\"A\":{\"Type\":\"Pass\",\"Comment\":\"c\",\"InputPath\":\"$.a\",\"Parameters\":{\"x.$\":\"$.b\","
           "\"y\":{\"z.$\":\"States.Format('{}', $.c)\"},\"l\":[{\"w.$\":\"$$.Execution.Id\"}]},"
           "\"ResultPath\":\"$.r\",\"OutputPath\":null,\"Next\":\"B\"},\"B\":{\"Type\":\"Succeed\"}"), NULL},
        {M("\"A\":{\"Type\":\"Pass\",\"Result\":{\"any\":[1,2]},\"ResultPath\":null,\"End\":true}"), NULL},
        {M("\"A\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::lambda:invoke\","
           "\"Parameters\":{\"FunctionName\":\"arn:aws:lambda:us-east-1:1:function:f\",\"Payload.$\":\"$\"},"
           "\"ResultSelector\":{\"r.$\":\"$.Payload\"},\"ResultPath\":\"$.out\",\"TimeoutSeconds\":30,"
           "\"HeartbeatSeconds\":10,\"Retry\":[{\"ErrorEquals\":[\"Lambda.ServiceException\"],\"IntervalSeconds\":2,"
           "\"MaxAttempts\":3,\"BackoffRate\":2,\"MaxDelaySeconds\":10,\"JitterStrategy\":\"FULL\"},"
           "{\"ErrorEquals\":[\"States.ALL\"],\"MaxAttempts\":0}],"
           "\"Catch\":[{\"ErrorEquals\":[\"States.TaskFailed\"],\"ResultPath\":\"$.error\",\"Next\":\"F\"},"
           "{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"F\"}],\"End\":true},"
           "\"F\":{\"Type\":\"Fail\",\"Error\":\"E\",\"Cause\":\"C\"}"), NULL},
        {M("\"A\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:lambda:us-east-1:1:function:f\","
           "\"TimeoutSecondsPath\":\"$.t\",\"HeartbeatSecondsPath\":\"$.h\",\"End\":true}"), NULL},
        {M("\"A\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.n\",\"NumericGreaterThan\":1,\"Next\":\"B\"},"
           "{\"Not\":{\"Variable\":\"$.s\",\"IsPresent\":true},\"Next\":\"C\"}],\"Default\":\"C\"},"
           "\"B\":{" PASS_END "},\"C\":{\"Type\":\"Succeed\"}"), NULL},
        {M("\"A\":{\"Type\":\"Wait\",\"Seconds\":10,\"Next\":\"B\"},\"B\":{\"Type\":\"Wait\",\"SecondsPath\":\"$.s\",\"Next\":\"C\"},"
           "\"C\":{\"Type\":\"Wait\",\"Timestamp\":\"2016-03-14T01:59:00Z\",\"Next\":\"D\"},"
           "\"D\":{\"Type\":\"Wait\",\"TimestampPath\":\"$.ts\",\"End\":true}"), NULL},
        {M("\"A\":{\"Type\":\"Fail\",\"ErrorPath\":\"$.e\",\"CausePath\":\"States.Format('x {}', $.c)\"}"), NULL},
        {M("\"A\":{\"Type\":\"Parallel\",\"Branches\":[{\"StartAt\":\"X\",\"States\":{\"X\":{" PASS_END "}}},"
           "{\"StartAt\":\"Y\",\"Comment\":\"c\",\"States\":{\"Y\":{\"Type\":\"Succeed\"}}}],"
           "\"ResultSelector\":{\"a.$\":\"$[0]\"},\"Retry\":[{\"ErrorEquals\":[\"States.ALL\"]}],"
           "\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"B\"}],\"Next\":\"B\"},\"B\":{" PASS_END "}"), NULL},
        {M("\"A\":{\"Type\":\"Map\",\"ItemsPath\":\"$.items\",\"ItemSelector\":{\"v.$\":\"$$.Map.Item.Value\"},"
           "\"MaxConcurrency\":2,\"ToleratedFailurePercentage\":50,\"ItemProcessor\":{\"ProcessorConfig\":{\"Mode\":\"INLINE\"},"
           "\"StartAt\":\"X\",\"States\":{\"X\":{" PASS_END "}}},\"End\":true}"), NULL},
        {M("\"A\":{\"Type\":\"Map\",\"Parameters\":{\"i.$\":\"$$.Map.Item.Index\"},\"Iterator\":{\"StartAt\":\"X\","
           "\"States\":{\"X\":{" PASS_END "}}},\"End\":true}"), NULL},
        {"{\"Comment\":\"c\",\"Version\":\"1.0\",\"TimeoutSeconds\":60,\"QueryLanguage\":\"JSONPath\",\"StartAt\":\"A\","
         "\"States\":{\"A\":{\"Type\":\"Pass\",\"QueryLanguage\":\"JSONPath\",\"Assign\":{\"x\":1},\"End\":true}}}", NULL},
        {M("\"A\":{\"Type\":\"Pass\",\"InputPath\":\"$$.Execution.Id\",\"End\":true}"), NULL},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_asl_schema, refuses_fields_and_shapes_as_aws_does)
{
    static const asl_case cases[] = {
        {"{\"States\":{}}", "SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /"},
        {"{}", "SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt, States] at /"},
        {"[]", "SCHEMA_VALIDATION_FAILED: Expected value of type [OBJECT] at /"},
        {"{\"StartAt\":1,\"States\":{}}", "SCHEMA_VALIDATION_FAILED: Expected value of type [STRING] at /StartAt"},
        {"{\"StartAt\":\"A\",\"States\":[]}", "SCHEMA_VALIDATION_FAILED: Expected value of type [OBJECT] at /States"},
        {"{\"Coment\":\"typo\",\"StartAt\":\"A\",\"States\":{\"A\":{" PASS_END "}}}",
         "SCHEMA_VALIDATION_FAILED: Field 'Coment' is not supported at /"},
        {M("\"A\":{\"End\":true}"), "SCHEMA_VALIDATION_FAILED: These fields are required: [Type] at /States/A"},
        {M("\"A\":{\"Type\":\"Nope\",\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Value should be one of the following: [Task, Pass, Choice, Wait, Succeed, "
         "Fail, Parallel, Map] at /States/A/Type"},
        {M("\"A\":7"), "SCHEMA_VALIDATION_FAILED: Expected value of type [OBJECT] at /States/A"},
        {M("\"A\":{\"Type\":\"Pass\",\"TimeoutSeconds\":5,\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Field 'TimeoutSeconds' is not supported at /States/A"},
        {M("\"A\":{\"Type\":\"Pass\",\"End\":true,\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"A\"}]}"),
         "SCHEMA_VALIDATION_FAILED: Field 'Catch' is not supported at /States/A"},
        {M("\"A\":{\"Type\":\"Wait\",\"Seconds\":1,\"End\":true,\"Retry\":[{\"ErrorEquals\":[\"States.ALL\"]}]}"),
         "SCHEMA_VALIDATION_FAILED: Field 'Retry' is not supported at /States/A"},
        {M("\"A\":{\"Type\":\"Parallel\",\"TimeoutSeconds\":5,\"Branches\":[{\"StartAt\":\"W\",\"States\":{\"W\":{" PASS_END "}}}],\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Field 'TimeoutSeconds' is not supported at /States/A"},
        {M("\"A\":{\"Type\":\"Succeed\",\"End\":true}"), "SCHEMA_VALIDATION_FAILED: Field 'End' is not supported at /States/A"},
        {M("\"A\":{\"Type\":\"Fail\",\"Next\":\"A\"}"), "SCHEMA_VALIDATION_FAILED: Field 'Next' is not supported at /States/A"},
        {M("\"A\":{\"Type\":\"Pass\",\"Output\":{},\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported "
         "for the 'JSONata' QueryLanguage at /States/A"},
        {M("\"A\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::lambda:invoke\",\"Arguments\":{},\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONPath', but field 'Arguments' is only "
         "supported for the 'JSONata' QueryLanguage at /States/A"},
        {M("\"A\":{\"Type\":\"Pass\"}"), "SCHEMA_VALIDATION_FAILED: Exactly one of the fields [Next, End] is required at /States/A"},
        {M("\"A\":{\"Type\":\"Pass\",\"End\":false}"),
         "SCHEMA_VALIDATION_FAILED: Exactly one of the fields [Next, End] is required at /States/A"},
        {M("\"A\":{\"Type\":\"Pass\",\"Next\":\"A\",\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Only one of the fields [Next, End] may be specified at /States/A"},
        {M("\"A\":{\"Type\":\"Pass\",\"End\":\"yes\"}"), "SCHEMA_VALIDATION_FAILED: Expected value of type [BOOLEAN] at /States/A/End"},
        {M("\"A\":{\"Type\":\"Pass\",\"Next\":3}"), "SCHEMA_VALIDATION_FAILED: Expected value of type [STRING] at /States/A/Next"},
        {M("\"A\":{\"Type\":\"Task\",\"End\":true}"), "SCHEMA_VALIDATION_FAILED: These fields are required: [Resource] at /States/A"},
        {M("\"A\":{\"Type\":\"Task\",\"Resource\":\"lambda\",\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Value is not a valid resource ARN at /States/A/Resource"},
        {M("\"A\":{\"Type\":\"Task\",\"Resource\":\"arn:x\",\"TimeoutSeconds\":0,\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Minimum value is 1 at /States/A/TimeoutSeconds"},
        {M("\"A\":{\"Type\":\"Task\",\"Resource\":\"arn:x\",\"TimeoutSeconds\":1.5,\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Expected value of type [INTEGER] at /States/A/TimeoutSeconds"},
        {M("\"A\":{\"Type\":\"Task\",\"Resource\":\"arn:x\",\"TimeoutSeconds\":5,\"TimeoutSecondsPath\":\"$.t\",\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Only one of the fields [TimeoutSeconds, TimeoutSecondsPath] may be specified at /States/A"},
        {M("\"A\":{\"Type\":\"Task\",\"Resource\":\"arn:x\",\"TimeoutSeconds\":5,\"HeartbeatSeconds\":5,\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: HeartbeatSeconds must be smaller than TimeoutSeconds at /States/A/HeartbeatSeconds"},
        {M("\"A\":{\"Type\":\"Pass\",\"InputPath\":\"a.b\",\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: The value for the field 'InputPath' must be a valid JSONPath at /States/A/InputPath"},
        {M("\"A\":{\"Type\":\"Pass\",\"ResultPath\":\"$.a[*]\",\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: The value for the field 'ResultPath' must be a valid ReferencePath at /States/A/ResultPath"},
        {M("\"A\":{\"Type\":\"Pass\",\"OutputPath\":7,\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: The value for the field 'OutputPath' must be a valid JSONPath at /States/A/OutputPath"},
        {M("\"A\":{\"Type\":\"Task\",\"Resource\":\"arn:x\",\"Parameters\":{\"Message.$\":\"States.format('x')\"},\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: The value for the field 'Message.$' must be a valid JSONPath or a valid "
         "intrinsic function call at /States/A/Parameters"},
        {M("\"A\":{\"Type\":\"Pass\",\"Parameters\":{\"p\":{\"q\":[{\"r.$\":\"nope\"}]}},\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: The value for the field 'r.$' must be a valid JSONPath or a valid "
         "intrinsic function call at /States/A/Parameters/p/q[0]"},
        {M("\"A\":{\"Type\":\"Pass\",\"Parameters\":{\"n.$\":5},\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: The value for the field 'n.$' must be a valid JSONPath or a valid "
         "intrinsic function call at /States/A/Parameters"},
        {M("\"A\":{\"Type\":\"Task\",\"Resource\":\"arn:x\",\"ResultSelector\":[1],\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Expected value of type [OBJECT] at /States/A/ResultSelector"},
        {M("\"A\":{\"Type\":\"Pass\",\"QueryLanguage\":\"JSONata\",\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: The JSONata query language is not supported by this emulator at /States/A/QueryLanguage"},
        {"{\"QueryLanguage\":\"jsonpath\",\"StartAt\":\"A\",\"States\":{\"A\":{" PASS_END "}}}",
         "SCHEMA_VALIDATION_FAILED: Value should be one of the following: [JSONPath, JSONata] at /QueryLanguage"},
        {"{\"QueryLanguage\":5,\"StartAt\":\"A\",\"States\":{\"A\":{" PASS_END "}}}",
         "SCHEMA_VALIDATION_FAILED: Expected value of type [STRING] at /QueryLanguage"},
        {"{\"StartAt\":\"A\",\"States\":{\"A\":{" PASS_END "},\"A\":{" PASS_END "}}}",
         "DUPLICATE_STATE_NAME: Duplicate State name: A at /States/A"},
        {"{\"TimeoutSeconds\":0,\"Version\":1,\"StartAt\":\"A\",\"States\":{\"A\":{" PASS_END "}}}",
         "SCHEMA_VALIDATION_FAILED: Minimum value is 1 at /TimeoutSeconds, "
         "SCHEMA_VALIDATION_FAILED: Expected value of type [STRING] at /Version"},
        {M("\"A\":{\"Type\":\"Pass\",\"Comment\":[],\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Expected value of type [STRING] at /States/A/Comment"},
        {M("\"A\":{\"Type\":\"Task\",\"Resource\":\"arn:x\",\"TimeoutSeconds\":1e9,\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Maximum value is 99999999 at /States/A/TimeoutSeconds"},
        {M("\"A\":{\"Type\":\"Task\",\"Resource\":\"arn:x\",\"TimeoutSecondsPath\":\"$.t[0:1]\",\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: The value for the field 'TimeoutSecondsPath' must be a valid ReferencePath "
         "at /States/A/TimeoutSecondsPath"},
        {M("\"A\":{\"Type\":\"Map\",\"MaxConcurrency\":1,\"MaxConcurrencyPath\":\"$.m\",\"Iterator\":{\"StartAt\":\"X\","
           "\"States\":{\"X\":{" PASS_END "}}},\"ItemProcessor\":{\"StartAt\":\"X\",\"States\":{\"X\":{" PASS_END "}}},\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Only one of the fields [ItemProcessor, Iterator] may be specified at /States/A, "
         "SCHEMA_VALIDATION_FAILED: Only one of the fields [MaxConcurrency, MaxConcurrencyPath] may be specified at /States/A"},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_asl_schema, checks_choice_wait_fail_parallel_and_map)
{
    static const asl_case cases[] = {
        {M("\"A\":{\"Type\":\"Choice\",\"Default\":\"B\"},\"B\":{" PASS_END "}"),
         "SCHEMA_VALIDATION_FAILED: These fields are required: [Choices] at /States/A"},
        {M("\"A\":{\"Type\":\"Choice\",\"Choices\":[]}"),
         "SCHEMA_VALIDATION_FAILED: Choices must be a non-empty array of Choice rules at /States/A/Choices"},
        {M("\"A\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$\",\"StringMatches\":\"Test\"}],\"Default\":\"B\"},\"B\":{\"Type\":\"Succeed\"}"),
         "SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at /States/A/Choices[0]"},
        {M("\"A\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.x\",\"NumericEquals\":\"1\",\"Next\":\"B\"}]},\"B\":{" PASS_END "}"),
         "SCHEMA_VALIDATION_FAILED: The value for the field 'NumericEquals' must be a number at /States/A/Choices[0]"},
        {M("\"A\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.x\",\"IsNull\":true,\"Next\":\"B\"}],\"End\":true},\"B\":{" PASS_END "}"),
         "SCHEMA_VALIDATION_FAILED: Field 'End' is not supported at /States/A"},
        {M("\"A\":{\"Type\":\"Wait\",\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Exactly one of the fields [Seconds, SecondsPath, Timestamp, TimestampPath] is required at /States/A"},
        {M("\"A\":{\"Type\":\"Wait\",\"Seconds\":1,\"SecondsPath\":\"$.s\",\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Exactly one of the fields [Seconds, SecondsPath, Timestamp, TimestampPath] is required at /States/A"},
        {M("\"A\":{\"Type\":\"Wait\",\"Seconds\":-1,\"End\":true}"), "SCHEMA_VALIDATION_FAILED: Minimum value is 0 at /States/A/Seconds"},
        {M("\"A\":{\"Type\":\"Wait\",\"Timestamp\":\"tomorrow\",\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Value is not a valid timestamp at /States/A/Timestamp"},
        {M("\"A\":{\"Type\":\"Wait\",\"SecondsPath\":\"$.s[*]\",\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: The value for the field 'SecondsPath' must be a valid ReferencePath at /States/A/SecondsPath"},
        {M("\"A\":{\"Type\":\"Fail\",\"Error\":\"E\",\"ErrorPath\":\"$.e\"}"),
         "SCHEMA_VALIDATION_FAILED: Only one of the fields [Error, ErrorPath] may be specified at /States/A"},
        {M("\"A\":{\"Type\":\"Fail\",\"CausePath\":\"States.Nope($.c)\"}"),
         "SCHEMA_VALIDATION_FAILED: The value for the field 'CausePath' must be a valid ReferencePath or a valid "
         "intrinsic function call at /States/A/CausePath"},
        {M("\"A\":{\"Type\":\"Fail\",\"Cause\":7}"), "SCHEMA_VALIDATION_FAILED: Expected value of type [STRING] at /States/A/Cause"},
        {M("\"A\":{\"Type\":\"Parallel\",\"End\":true}"), "SCHEMA_VALIDATION_FAILED: These fields are required: [Branches] at /States/A"},
        {M("\"A\":{\"Type\":\"Parallel\",\"Branches\":[],\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Branches must be a non-empty array of state machines at /States/A/Branches"},
        {M("\"A\":{\"Type\":\"Parallel\",\"Branches\":[{\"StartAt\":\"X\",\"States\":{\"X\":{\"Type\":\"Task\",\"End\":true}}}],\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: These fields are required: [Resource] at /States/A/Branches[0]/States/X"},
        {M("\"A\":{\"Type\":\"Parallel\",\"Branches\":[{\"QueryLanguage\":\"JSONata\",\"StartAt\":\"X\",\"States\":{\"X\":{" PASS_END "}}}],\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Field 'QueryLanguage' is not supported at /States/A/Branches[0]"},
        {M("\"A\":{\"Type\":\"Map\",\"End\":true}"), "SCHEMA_VALIDATION_FAILED: These fields are required: [ItemProcessor] at /States/A"},
        {M("\"A\":{\"Type\":\"Map\",\"ItemProcessor\":{\"QueryLanguage\":\"JSONata\",\"StartAt\":\"X\",\"States\":{\"X\":{" PASS_END "}}},\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Field 'QueryLanguage' is not supported at /States/A/ItemProcessor"},
        {M("\"A\":{\"Type\":\"Map\",\"Iterator\":{\"ProcessorConfig\":{},\"StartAt\":\"X\",\"States\":{\"X\":{" PASS_END "}}},\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Field 'ProcessorConfig' is not supported at /States/A/Iterator"},
        {M("\"A\":{\"Type\":\"Map\",\"MaxConcurrency\":-1,\"ItemProcessor\":{\"StartAt\":\"X\",\"States\":{\"X\":{" PASS_END "}}},\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Minimum value is 0 at /States/A/MaxConcurrency"},
        {M("\"A\":{\"Type\":\"Map\",\"ToleratedFailurePercentage\":101,\"ItemProcessor\":{\"StartAt\":\"X\",\"States\":{\"X\":{" PASS_END "}}},\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Value must be a number between 0 and 100 at /States/A/ToleratedFailurePercentage"},
        {M("\"A\":{\"Type\":\"Map\",\"ItemsPath\":\"$..x\",\"ItemProcessor\":{\"StartAt\":\"X\",\"States\":{\"X\":{" PASS_END "}}},\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: The value for the field 'ItemsPath' must be a valid ReferencePath at /States/A/ItemsPath"},
        {M("\"A\":{\"Type\":\"Map\",\"ItemSelector\":{},\"Parameters\":{},\"ItemProcessor\":{\"StartAt\":\"X\",\"States\":{\"X\":{" PASS_END "}}},\"End\":true}"),
         "SCHEMA_VALIDATION_FAILED: Only one of the fields [ItemSelector, Parameters] may be specified at /States/A"},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

#define TASK(extra) "\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::lambda:invoke\"," extra

Test(sfn_asl_schema, checks_retry_and_catch)
{
    static const asl_case cases[] = {
        {M("\"A\":{" TASK("\"Retry\":[{\"ErrorEquals\":[\"States.ALL\",\"X\"]}],\"End\":true") "}"),
         "SCHEMA_VALIDATION_FAILED: States.ALL must appear alone in ErrorEquals and in the last Retrier at /States/A/Retry[0]/ErrorEquals"},
        {M("\"A\":{" TASK("\"Retry\":[{\"ErrorEquals\":[\"States.ALL\"]},{\"ErrorEquals\":[\"X\"]}],\"End\":true") "}"),
         "SCHEMA_VALIDATION_FAILED: States.ALL must appear alone in ErrorEquals and in the last Retrier at /States/A/Retry[0]/ErrorEquals"},
        {M("\"A\":{" TASK("\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"B\"},{\"ErrorEquals\":[\"X\"],\"Next\":\"B\"}],\"Next\":\"B\"") "},\"B\":{" PASS_END "}"),
         "SCHEMA_VALIDATION_FAILED: States.ALL must appear alone in ErrorEquals and in the last Catcher at /States/A/Catch[0]/ErrorEquals"},
        {M("\"A\":{" TASK("\"Retry\":[{\"MaxAttempts\":1}],\"End\":true") "}"),
         "SCHEMA_VALIDATION_FAILED: These fields are required: [ErrorEquals] at /States/A/Retry[0]"},
        {M("\"A\":{" TASK("\"Retry\":[{\"ErrorEquals\":[]}],\"End\":true") "}"),
         "SCHEMA_VALIDATION_FAILED: ErrorEquals must be a non-empty array of error names at /States/A/Retry[0]/ErrorEquals"},
        {M("\"A\":{" TASK("\"Retry\":[{\"ErrorEquals\":[1]}],\"End\":true") "}"),
         "SCHEMA_VALIDATION_FAILED: Expected value of type [STRING] at /States/A/Retry[0]/ErrorEquals"},
        {M("\"A\":{" TASK("\"Retry\":{},\"End\":true") "}"), "SCHEMA_VALIDATION_FAILED: Expected value of type [ARRAY] at /States/A/Retry"},
        {M("\"A\":{" TASK("\"Retry\":[7],\"End\":true") "}"), "SCHEMA_VALIDATION_FAILED: Expected value of type [OBJECT] at /States/A/Retry[0]"},
        {M("\"A\":{" TASK("\"Retry\":[{\"ErrorEquals\":[\"X\"],\"Next\":\"A\"}],\"End\":true") "}"),
         "SCHEMA_VALIDATION_FAILED: Field 'Next' is not supported at /States/A/Retry[0]"},
        {M("\"A\":{" TASK("\"Retry\":[{\"ErrorEquals\":[\"X\"],\"IntervalSeconds\":0}],\"End\":true") "}"),
         "SCHEMA_VALIDATION_FAILED: Minimum value is 1 at /States/A/Retry[0]/IntervalSeconds"},
        {M("\"A\":{" TASK("\"Retry\":[{\"ErrorEquals\":[\"X\"],\"MaxAttempts\":-1}],\"End\":true") "}"),
         "SCHEMA_VALIDATION_FAILED: Minimum value is 0 at /States/A/Retry[0]/MaxAttempts"},
        {M("\"A\":{" TASK("\"Retry\":[{\"ErrorEquals\":[\"X\"],\"BackoffRate\":0.5}],\"End\":true") "}"),
         "SCHEMA_VALIDATION_FAILED: Minimum value is 1.0 at /States/A/Retry[0]/BackoffRate"},
        {M("\"A\":{" TASK("\"Retry\":[{\"ErrorEquals\":[\"X\"],\"JitterStrategy\":\"SOME\"}],\"End\":true") "}"),
         "SCHEMA_VALIDATION_FAILED: Value should be one of the following: [FULL, NONE] at /States/A/Retry[0]/JitterStrategy"},
        {M("\"A\":{" TASK("\"Catch\":[{\"ErrorEquals\":[\"X\"]}],\"End\":true") "}"),
         "SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at /States/A/Catch[0]"},
        {M("\"A\":{" TASK("\"Catch\":[{}],\"End\":true") "}"),
         "SCHEMA_VALIDATION_FAILED: These fields are required: [ErrorEquals, Next] at /States/A/Catch[0]"},
        {M("\"A\":{" TASK("\"Catch\":[{\"ErrorEquals\":[\"X\"],\"Next\":\"B\",\"ResultPath\":\"$..e\"}],\"Next\":\"B\"") "},\"B\":{" PASS_END "}"),
         "SCHEMA_VALIDATION_FAILED: The value for the field 'ResultPath' must be a valid ReferencePath at /States/A/Catch[0]/ResultPath"},
        {M("\"A\":{" TASK("\"Catch\":[{\"ErrorEquals\":[\"X\"],\"Next\":\"B\",\"MaxAttempts\":1}],\"Next\":\"B\"") "},\"B\":{" PASS_END "}"),
         "SCHEMA_VALIDATION_FAILED: Field 'MaxAttempts' is not supported at /States/A/Catch[0]"},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_asl_graph, reports_targets_reachability_and_terminals_in_aws_order)
{
    static const asl_case cases[] = {
        {"{\"StartAt\":\"pass1\",\"States\":{\"pass1\":{\"Type\":\"Pass\",\"Next\":\"pass3\"},\"pass2\":{" PASS_END "}}}",
         "MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, "
         "MISSING_TRANSITION_TARGET: State \"pass2\" is not reachable. at /States/pass2"},
        {M("\"A\":{\"Type\":\"Pass\",\"Next\":\"B\"},\"B\":{\"Type\":\"Pass\",\"Next\":\"A\"}"),
         "MISSING_END_STATE: Workflow has no terminal state at null"},
        {M("\"A\":{\"Type\":\"Pass\",\"Next\":\"B\"},\"B\":{\"Type\":\"Pass\",\"Next\":\"A\"},\"U\":{\"Type\":\"Pass\",\"Next\":\"A\"}"),
         "MISSING_END_STATE: Workflow has no terminal state at null"},
        {M("\"A\":{\"Type\":\"Pass\",\"Next\":\"NOPE\"}"),
         "MISSING_TRANSITION_TARGET: Missing 'Next' target: NOPE at /States/A/Next, "
         "MISSING_END_STATE: Workflow has no terminal state at null"},
        {M("\"A\":{\"Type\":\"Pass\",\"Next\":\"B\"},\"B\":{\"Type\":\"Pass\",\"Next\":\"A\"},\"C\":{" PASS_END "}"),
         "MISSING_TRANSITION_TARGET: State \"C\" is not reachable. at /States/C"},
        {M("\"A\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.x\",\"IsPresent\":true,\"Next\":\"Ghost\"}],\"Default\":\"Z\"},\"Z\":{" PASS_END "}"),
         "MISSING_TRANSITION_TARGET: Missing 'Next' target: Ghost at /States/A/Choices[0]/Next"},
        {M("\"A\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.x\",\"IsPresent\":true,\"Next\":\"Z\"}],\"Default\":\"Ghost\"},\"Z\":{" PASS_END "}"),
         "MISSING_TRANSITION_TARGET: Missing 'Next' target: Ghost at /States/A/Default"},
        {M("\"A\":{" TASK("\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"Ghost\"}],\"End\":true") "}"),
         "MISSING_TRANSITION_TARGET: Missing 'Next' target: Ghost at /States/A/Catch[0]/Next"},
        {"{\"StartAt\":\"Nope\",\"States\":{\"A\":{" PASS_END "}}}",
         "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at /StartAt, "
         "MISSING_TRANSITION_TARGET: State \"A\" is not reachable. at /States/A"},
        {"{\"StartAt\":\"Start\",\"States\":{\"Start\":{" PASS_END "},\"a/b\":{" PASS_END "}}}",
         "MISSING_TRANSITION_TARGET: State \"a/b\" is not reachable. at /States/a/b"},
        {"{\"StartAt\":\"Pass One\",\"States\":{\"Pass One\":{\"Type\":\"Pass\",\"Next\":\"Pass Two\"},"
         "\"Pass Two\":{\"Type\":\"Pass\",\"Next\":\"Success\"},\"Unreachable pass\":{\"Type\":\"Pass\",\"Next\":\"Success\"},"
         "\"Success\":{\"Type\":\"Succeed\"}}}",
         "MISSING_TRANSITION_TARGET: State \"Unreachable pass\" is not reachable. at /States/Unreachable pass"},
        /* A state reached only through a Catch or a Choice Default is reachable. */
        {M("\"A\":{" TASK("\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"F\"}],\"Next\":\"C\"") "},"
           "\"C\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.x\",\"IsNull\":true,\"Next\":\"S\"}],\"Default\":\"D\"},"
           "\"D\":{" PASS_END "},\"S\":{\"Type\":\"Succeed\"},\"F\":{\"Type\":\"Fail\"}"), NULL},
        /* Targets are per container: a branch cannot jump to the outer machine. */
        {M("\"A\":{\"Type\":\"Parallel\",\"Branches\":[{\"StartAt\":\"X\",\"States\":{\"X\":{\"Type\":\"Pass\",\"Next\":\"B\"}}}],\"Next\":\"B\"},"
           "\"B\":{" PASS_END "}"),
         "MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Branches[0]/States/X/Next"},
        {M("\"A\":{\"Type\":\"Parallel\",\"Branches\":[{\"StartAt\":\"W\",\"States\":{\"W\":{" PASS_END "},\"Ghost\":{" PASS_END "}}}],\"End\":true}"),
         "MISSING_TRANSITION_TARGET: State \"Ghost\" is not reachable. at /States/A/Branches[0]/States/Ghost"},
        {M("\"A\":{\"Type\":\"Map\",\"ItemProcessor\":{\"StartAt\":\"W\",\"States\":{\"W\":{" PASS_END "},\"Ghost\":{" PASS_END "}}},\"End\":true}"),
         "MISSING_TRANSITION_TARGET: State \"Ghost\" is not reachable. at /States/A/ItemProcessor/States/Ghost"},
        {M("\"A\":{\"Type\":\"Map\",\"ItemProcessor\":{\"StartAt\":\"Nope\",\"States\":{\"X\":{" PASS_END "}}},\"End\":true}"),
         "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at /States/A/ItemProcessor/StartAt, "
         "MISSING_TRANSITION_TARGET: State \"X\" is not reachable. at /States/A/ItemProcessor/States/X"},
        /* MISSING_END_STATE is a top-level rule: a looping processor is accepted. */
        {M("\"A\":{\"Type\":\"Map\",\"ItemProcessor\":{\"StartAt\":\"X\",\"States\":{\"X\":{\"Type\":\"Pass\",\"Next\":\"Y\"},"
           "\"Y\":{\"Type\":\"Pass\",\"Next\":\"X\"}}},\"End\":true}"), NULL},
        {M("\"A\":{\"Type\":\"Map\",\"Iterator\":{\"StartAt\":\"X\",\"States\":{\"X\":{\"Type\":\"Parallel\",\"Branches\":["
           "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"Next\":\"Q\"}}}],\"End\":true}}},\"End\":true}"),
         "MISSING_TRANSITION_TARGET: Missing 'Next' target: Q at /States/A/Iterator/States/X/Branches[0]/States/P/Next"},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

Test(sfn_asl_graph, reports_several_schema_errors_in_one_message)
{
    cJSON *def = cJSON_Parse(M("\"A\":{\"Type\":\"Pass\",\"End\":true,\"Retry\":[],\"TimeoutSeconds\":5,\"Catch\":[]}"));
    cr_assert_eq(sfn_asl_validate(def, &err), CORE_ERROR);
    cr_assert_str_eq(err.message,
                     PREFIX "SCHEMA_VALIDATION_FAILED: Field 'Retry' is not supported at /States/A, "
                     "SCHEMA_VALIDATION_FAILED: Field 'TimeoutSeconds' is not supported at /States/A, "
                     "SCHEMA_VALIDATION_FAILED: Field 'Catch' is not supported at /States/A'");
    cJSON_Delete(def);
}

/* ---- the shop's saga -------------------------------------------------------------------- */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s (run from the repository root)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* Replace every ${Name} with a Lambda ARN, as DefinitionSubstitutions does. */
static char *substitute(const char *text)
{
    size_t cap = strlen(text) * 3 + 1, o = 0;
    char *out = malloc(cap);
    for (const char *p = text; *p;) {
        if (p[0] == '$' && p[1] == '{' && strchr(p, '}')) {
            const char *end = strchr(p, '}');
            o += (size_t)snprintf(out + o, cap - o, "arn:aws:lambda:us-east-1:123456789012:function:%.*s",
                                  (int)(end - p - 2), p + 2);
            p = end + 1;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return out;
}

Test(sfn_asl_saga, the_order_processing_machine_is_valid)
{
    char *raw = read_file("state-machines/order-processing.asl.json");
    char *text = substitute(raw);
    cr_assert(strstr(text, "${") == NULL);
    cJSON *def = cJSON_Parse(text);
    cr_assert_not_null(def);
    cr_assert_eq(sfn_asl_validate(def, &err), CORE_OK, "%s", err.message);
    /* and a broken copy of it is refused, naming the state */
    cJSON *states = cJSON_GetObjectItem(def, "States");
    cJSON *first = states->child;
    cJSON_ReplaceItemInObject(first, "Next", cJSON_CreateString("NoSuchState"));
    cr_assert_eq(sfn_asl_validate(def, &err), CORE_ERROR);
    char want[256];
    snprintf(want, sizeof want, "Missing 'Next' target: NoSuchState at /States/%s/Next", first->string);
    cr_assert(strstr(err.message, want) != NULL, "%s", err.message);
    cJSON_Delete(def);
    free(text);
    free(raw);
}

/* ---- hostile ------------------------------------------------------------------------------ */

Test(sfn_asl_hostile, deep_nesting_is_refused_without_recursing_past_the_bound)
{
    /* Parallel in Parallel ... 2000 deep, built directly (cJSON_Parse stops at 1000). */
    cJSON *def = cJSON_CreateObject(), *machine = def;
    for (int i = 0; i < 2000; i++) {
        cJSON_AddStringToObject(machine, "StartAt", "P");
        cJSON *states = cJSON_AddObjectToObject(machine, "States");
        cJSON *p = cJSON_AddObjectToObject(states, "P");
        cJSON_AddStringToObject(p, "Type", "Parallel");
        cJSON_AddBoolToObject(p, "End", 1);
        cJSON *branches = cJSON_AddArrayToObject(p, "Branches");
        machine = cJSON_CreateObject();
        cJSON_AddItemToArray(branches, machine);
    }
    cJSON_AddStringToObject(machine, "StartAt", "X");
    cJSON *states = cJSON_AddObjectToObject(machine, "States");
    cJSON *x = cJSON_AddObjectToObject(states, "X");
    cJSON_AddStringToObject(x, "Type", "Succeed");
    cr_assert_eq(sfn_asl_validate(def, &err), CORE_ERROR);
    cr_assert(strstr(err.message, "nested deeper than 32 levels") != NULL, "%s", err.message);
    cJSON_Delete(def);
}

Test(sfn_asl_hostile, many_states_and_long_names_are_checked_quickly_and_bounded)
{
    /* 20,000 states in a chain, listed in reverse: the graph walk is O(n log n). */
    cJSON *def = cJSON_CreateObject();
    cJSON_AddStringToObject(def, "StartAt", "S0");
    cJSON *states = cJSON_AddObjectToObject(def, "States");
    char name[32], next[32];
    for (int i = 19999; i >= 0; i--) {
        snprintf(name, sizeof name, "S%d", i);
        cJSON *s = cJSON_AddObjectToObject(states, name);
        cJSON_AddStringToObject(s, "Type", "Pass");
        if (i == 19999) {
            cJSON_AddBoolToObject(s, "End", 1);
        } else {
            snprintf(next, sizeof next, "S%d", i + 1);
            cJSON_AddStringToObject(s, "Next", next);
        }
    }
    cr_assert_eq(sfn_asl_validate(def, &err), CORE_OK, "%s", err.message);
    /* every state unreachable: the message is bounded, not 20,000 diagnostics long */
    cJSON_ReplaceItemInObject(def, "StartAt", cJSON_CreateString("Nowhere"));
    cr_assert_eq(sfn_asl_validate(def, &err), CORE_ERROR);
    cr_assert(strlen(err.message) < sizeof err.message);
    cr_assert(strncmp(err.message, PREFIX "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /StartAt",
                      strlen(PREFIX) + 60) == 0, "%s", err.message);
    cJSON_Delete(def);

    /* a state name of 100,000 characters */
    char *big = malloc(100001);
    memset(big, 'n', 100000);
    big[100000] = '\0';
    def = cJSON_CreateObject();
    cJSON_AddStringToObject(def, "StartAt", big);
    states = cJSON_AddObjectToObject(def, "States");
    cJSON *s = cJSON_AddObjectToObject(states, big);
    cJSON_AddStringToObject(s, "Type", "Succeed");
    cr_assert_eq(sfn_asl_validate(def, &err), CORE_ERROR);
    cr_assert(strstr(err.message, "State name must be at most 80 characters long") != NULL, "%s", err.message);
    cJSON_Delete(def);
    free(big);

    cr_assert_eq(sfn_asl_validate(NULL, &err), CORE_ERROR);
}
