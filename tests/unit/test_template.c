/*
 * test_template.c — the SAM template loader: parameters, conditions, Globals,
 * resource identities, intrinsic functions, typed views and refusals.
 *
 * Templates are inline YAML strings loaded with core_template_load_string from
 * ".", except the DefinitionUri and load_file tests, which write files into a
 * mkdtemp folder the fixture removes, and the last tests, which load the
 * project's own template.yaml (the suite runs from the repository root).
 * Most tests put the expression under test in the Properties of a resource of
 * a type shoplocal does not model ("Probe", Custom::Probe) and read back the
 * resolved value. The fixture owns the loaded template, so a failing assertion
 * still frees everything (the suite is also run under valgrind).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "core/template.h"

static core_template *tpl;
static core_err err;
static char printed[1 << 14];

/* Files the test wrote into tmpdir, removed by the fixture. */
static char tmpdir[64];
static char tmpfiles[4][256];
static size_t n_tmpfiles;

static void setup(void)
{
    tpl = NULL;
    core_err_clear(&err);
    tmpdir[0] = '\0';
    n_tmpfiles = 0;
}

static void teardown(void)
{
    core_template_free(tpl);
    tpl = NULL;
    for (size_t i = 0; i < n_tmpfiles; i++)
        unlink(tmpfiles[i]);
    if (tmpdir[0])
        rmdir(tmpdir);
}

TestSuite(core_template, .init = setup, .fini = teardown);

/* ---- helpers -------------------------------------------------------------- */

/* A resource whose Properties the tests fill with the expression under test. */
#define PROBE "  Probe:\n    Type: Custom::Probe\n    Properties:\n"

/* A minimal SAM function named `name` (its Properties block stays open). */
#define FUNCTION(name)                                                                       \
    "  " name ":\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: bootstrap\n"

static void load_with(const char *yaml, const core_template_opts *opts)
{
    core_template_free(tpl);
    tpl = NULL;
    int rc = core_template_load_string(yaml, strlen(yaml), ".", opts, &tpl, &err);
    cr_assert_eq(rc, CORE_OK, "load failed: %s", err.message);
    cr_assert_not_null(tpl);
}

static void load(const char *yaml)
{
    load_with(yaml, NULL);
}

static void refuse_with(const char *yaml, const core_template_opts *opts, const char *message)
{
    core_template_free(tpl);
    tpl = NULL;
    int rc = core_template_load_string(yaml, strlen(yaml), ".", opts, &tpl, &err);
    cr_assert_eq(rc, CORE_ERROR, "load should have failed");
    cr_assert_null(tpl);
    cr_assert_eq(err.status, 400);
    cr_assert_str_eq(err.type, "ValidationError");
    cr_assert_str_eq(err.message, message);
}

static void refuse(const char *yaml, const char *message)
{
    refuse_with(yaml, NULL, message);
}

static const core_tpl_resource *resource(const char *logical_id)
{
    const core_tpl_resource *r = core_template_resource(tpl, logical_id);
    cr_assert_not_null(r, "no resource %s", logical_id);
    return r;
}

static const cJSON *property(const char *logical_id, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(resource(logical_id)->properties, name);
    cr_assert_not_null(v, "%s has no property %s", logical_id, name);
    return v;
}

static const char *property_string(const char *logical_id, const char *name)
{
    const cJSON *v = property(logical_id, name);
    cr_assert(cJSON_IsString(v), "%s.%s is not a string", logical_id, name);
    return v->valuestring;
}

static const char *probe(const char *name)
{
    return property_string("Probe", name);
}

static const char *attribute(const char *logical_id, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(resource(logical_id)->attributes, name);
    cr_assert(cJSON_IsString(v), "%s has no attribute %s", logical_id, name);
    return v->valuestring;
}

/* v as compact JSON (borrowed, valid until the next call). */
static const char *json(const cJSON *v)
{
    cr_assert_not_null(v);
    cr_assert(cJSON_PrintPreallocated((cJSON *)v, printed, (int)sizeof printed, 0));
    return printed;
}

static const core_tpl_function *function(const char *logical_id)
{
    const core_tpl_function *f = core_template_function(tpl, logical_id);
    cr_assert_not_null(f, "no function %s", logical_id);
    return f;
}

static const core_tpl_route *route(const core_tpl_function *f, const char *event)
{
    for (size_t i = 0; i < f->n_routes; i++)
        if (!strcmp(f->routes[i].event_name, event))
            return &f->routes[i];
    cr_assert_fail("no route for event %s", event);
    return NULL;
}

static const core_tpl_http_api *http_api(const char *logical_id)
{
    for (size_t i = 0; i < core_template_http_api_count(tpl); i++)
        if (!strcmp(core_template_http_api_at(tpl, i)->logical_id, logical_id))
            return core_template_http_api_at(tpl, i);
    cr_assert_fail("no HTTP API %s", logical_id);
    return NULL;
}

static int all_in(const char *s, const char *alphabet)
{
    for (; *s; s++)
        if (!strchr(alphabet, *s))
            return 0;
    return 1;
}

#define LOWER_ALNUM "abcdefghijklmnopqrstuvwxyz0123456789"
#define UPPER_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define MIXED_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* Create tmpdir once; returns it. */
static const char *temp_dir(void)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/shoplocal-tpl-XXXXXX");
        cr_assert_not_null(mkdtemp(tmpdir));
    }
    return tmpdir;
}

/* Write text to tmpdir/name; returns the path (borrowed). */
static const char *temp_file(const char *name, const char *text)
{
    cr_assert_lt(n_tmpfiles, sizeof tmpfiles / sizeof *tmpfiles);
    char *path = tmpfiles[n_tmpfiles];
    snprintf(path, sizeof tmpfiles[0], "%s/%s", temp_dir(), name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    n_tmpfiles++;
    fputs(text, f);
    fclose(f);
    return path;
}

/* ---- parameters ----------------------------------------------------------- */

static const char params_template[] =
    "Parameters:\n"
    "  Env:\n"
    "    Type: String\n"
    "    Default: dev\n"
    "    AllowedValues: [dev, prod]\n"
    "Resources:\n" PROBE "      V: !Ref Env\n";

Test(core_template, refs_a_parameter_to_its_default)
{
    load(params_template);
    cr_assert_str_eq(probe("V"), "dev");
    cr_assert_str_eq(core_template_parameter(tpl, "Env"), "dev");
}

Test(core_template, overrides_a_parameter_with_key_equals_value)
{
    char *params[] = {"Env=prod"};
    core_template_opts opts = {.params = params, .n_params = 1};
    load_with(params_template, &opts);
    cr_assert_str_eq(probe("V"), "prod");
    cr_assert_str_eq(core_template_parameter(tpl, "Env"), "prod");
}

Test(core_template, keeps_equals_signs_after_the_first_in_an_override)
{
    char *params[] = {"Url=https://x.test/?a=b"};
    core_template_opts opts = {.params = params, .n_params = 1};
    load_with("Parameters:\n  Url: {Type: String}\nResources:\n" PROBE "      V: !Ref Url\n",
              &opts);
    cr_assert_str_eq(probe("V"), "https://x.test/?a=b");
}

Test(core_template, keeps_a_numeric_default_as_its_text)
{
    load("Parameters:\n  N: {Type: Number, Default: 5}\n  D: {Type: String, Default: 2.5}\n"
         "Resources:\n" PROBE "      N: !Ref N\n      D: !Ref D\n");
    cr_assert_str_eq(probe("N"), "5");
    cr_assert_str_eq(probe("D"), "2.5");
}

Test(core_template, returns_null_for_an_undeclared_parameter)
{
    load(params_template);
    cr_assert_null(core_template_parameter(tpl, "Nope"));
}

Test(core_template, rejects_an_override_of_an_undeclared_parameter)
{
    char *params[] = {"Env=prod", "Nope=1"};
    core_template_opts opts = {.params = params, .n_params = 2};
    refuse_with(params_template, &opts, "Parameters: [Nope] do not exist in the template");
}

Test(core_template, rejects_an_override_when_the_template_has_no_parameters)
{
    char *params[] = {"Env=prod"};
    core_template_opts opts = {.params = params, .n_params = 1};
    refuse_with("Resources:\n" PROBE "      V: 1\n", &opts,
                "Parameters: [Env] do not exist in the template");
}

Test(core_template, rejects_a_parameter_without_default_or_override)
{
    refuse("Parameters:\n  Env: {Type: String}\nResources:\n" PROBE "      V: !Ref Env\n",
           "Parameters: [Env] must have values");
}

Test(core_template, rejects_a_parameter_without_type)
{
    refuse("Parameters:\n  Env: {Default: x}\nResources:\n" PROBE "      V: 1\n",
           "Parameters.Env.Type: required");
}

Test(core_template, rejects_an_override_outside_allowed_values)
{
    char *params[] = {"Env=qa"};
    core_template_opts opts = {.params = params, .n_params = 1};
    refuse_with(params_template, &opts, "Parameter 'Env' must be one of AllowedValues");
}

Test(core_template, rejects_a_default_outside_allowed_values)
{
    refuse("Parameters:\n  Env: {Type: String, Default: qa, AllowedValues: [dev, prod]}\n"
           "Resources:\n" PROBE "      V: 1\n",
           "Parameter 'Env' must be one of AllowedValues");
}

Test(core_template, matches_numeric_allowed_values_by_their_text)
{
    load("Parameters:\n  Days: {Type: Number, Default: 14, AllowedValues: [7, 14, 30]}\n"
         "Resources:\n" PROBE "      V: !Ref Days\n");
    cr_assert_str_eq(probe("V"), "14");
}

static const char number_template[] =
    "Parameters:\n"
    "  N:\n"
    "    Type: Number\n"
    "    Default: 10\n"
    "    MinValue: 1\n"
    "    MaxValue: 100\n"
    "Resources:\n" PROBE "      V: !Ref N\n";

Test(core_template, accepts_a_number_on_its_bounds)
{
    char *params[] = {"N=100"};
    core_template_opts opts = {.params = params, .n_params = 1};
    load_with(number_template, &opts);
    cr_assert_str_eq(probe("V"), "100");
}

Test(core_template, rejects_a_number_below_min_value)
{
    char *params[] = {"N=0"};
    core_template_opts opts = {.params = params, .n_params = 1};
    refuse_with(number_template, &opts, "Parameter 'N' must be within MinValue and MaxValue");
}

Test(core_template, rejects_a_number_above_max_value)
{
    char *params[] = {"N=100.5"};
    core_template_opts opts = {.params = params, .n_params = 1};
    refuse_with(number_template, &opts, "Parameter 'N' must be within MinValue and MaxValue");
}

Test(core_template, rejects_a_number_parameter_that_is_not_a_number)
{
    char *params[] = {"N=ten"};
    core_template_opts opts = {.params = params, .n_params = 1};
    refuse_with(number_template, &opts, "Parameter 'N' must be a number");
}

Test(core_template, rejects_an_empty_number_parameter)
{
    char *params[] = {"N="};
    core_template_opts opts = {.params = params, .n_params = 1};
    refuse_with(number_template, &opts, "Parameter 'N' must be a number");
}

Test(core_template, rejects_a_string_longer_than_max_length)
{
    refuse("Parameters:\n  S: {Type: String, Default: abcdef, MinLength: 1, MaxLength: 5}\n"
           "Resources:\n" PROBE "      V: 1\n",
           "Parameter 'S' length must be within MinLength and MaxLength");
}

Test(core_template, rejects_a_string_shorter_than_min_length)
{
    refuse("Parameters:\n  S: {Type: String, Default: '', MinLength: 1}\n"
           "Resources:\n" PROBE "      V: 1\n",
           "Parameter 'S' length must be within MinLength and MaxLength");
}

static const char list_template[] =
    "Parameters:\n"
    "  L:\n"
    "    Type: CommaDelimitedList\n"
    "    Default: 'a, b ,c'\n"
    "Resources:\n" PROBE
    "      All: !Ref L\n"
    "      Joined: !Join ['|', !Ref L]\n"
    "      Second: !Select [1, !Ref L]\n";

Test(core_template, refs_a_comma_delimited_list_as_a_list_of_trimmed_strings)
{
    load(list_template);
    cr_assert_str_eq(json(property("Probe", "All")), "[\"a\",\"b\",\"c\"]");
}

Test(core_template, joins_a_comma_delimited_list_parameter)
{
    load(list_template);
    cr_assert_str_eq(probe("Joined"), "a|b|c");
}

Test(core_template, selects_from_a_comma_delimited_list_parameter)
{
    load(list_template);
    cr_assert_str_eq(probe("Second"), "b");
}

Test(core_template, reports_a_list_parameter_value_as_its_comma_separated_text)
{
    load(list_template);
    cr_assert_str_eq(core_template_parameter(tpl, "L"), "a, b ,c");
}

Test(core_template, splits_a_list_parameter_override)
{
    char *params[] = {"L=x,y"};
    core_template_opts opts = {.params = params, .n_params = 1};
    load_with(list_template, &opts);
    cr_assert_str_eq(json(property("Probe", "All")), "[\"x\",\"y\"]");
    cr_assert_str_eq(core_template_parameter(tpl, "L"), "x,y");
}

Test(core_template, refuses_parameters_that_are_not_a_mapping)
{
    refuse("Parameters: [a]\nResources:\n" PROBE "      V: 1\n", "Parameters: must be a mapping");
}

/* ---- pseudo parameters ---------------------------------------------------- */

static const char pseudo_template[] =
    "Resources:\n" PROBE
    "      Region: !Ref AWS::Region\n"
    "      Account: !Ref AWS::AccountId\n"
    "      Stack: !Ref AWS::StackName\n"
    "      StackId: !Ref AWS::StackId\n"
    "      Partition: !Ref AWS::Partition\n"
    "      Suffix: !Ref AWS::URLSuffix\n"
    "      Arns: !Ref AWS::NotificationARNs\n";

Test(core_template, refs_aws_region_from_the_options)
{
    core_template_opts opts = {.region = "eu-west-2"};
    load_with(pseudo_template, &opts);
    cr_assert_str_eq(probe("Region"), "eu-west-2");
    cr_assert_str_eq(core_template_region(tpl), "eu-west-2");
}

Test(core_template, defaults_aws_region_to_us_east_1)
{
    load(pseudo_template);
    cr_assert_str_eq(probe("Region"), "us-east-1");
}

Test(core_template, refs_aws_account_id_as_twelve_zeros)
{
    load(pseudo_template);
    cr_assert_str_eq(probe("Account"), "000000000000");
}

Test(core_template, refs_aws_stack_name_from_the_options)
{
    core_template_opts opts = {.stack_name = "demo"};
    load_with(pseudo_template, &opts);
    cr_assert_str_eq(probe("Stack"), "demo");
    cr_assert_str_eq(core_template_stack_name(tpl), "demo");
}

Test(core_template, defaults_aws_stack_name_to_shoplocal)
{
    load(pseudo_template);
    cr_assert_str_eq(probe("Stack"), "shoplocal");
}

Test(core_template, refs_aws_stack_id_as_a_cloudformation_stack_arn)
{
    load(pseudo_template);
    const char *id = probe("StackId");
    const char *prefix = "arn:aws:cloudformation:us-east-1:000000000000:stack/shoplocal/";
    cr_assert_eq(strncmp(id, prefix, strlen(prefix)), 0, "stack id %s", id);
    cr_assert_eq(strlen(id), strlen(prefix) + 36, "stack id %s", id);
}

Test(core_template, refs_aws_partition_as_aws)
{
    load(pseudo_template);
    cr_assert_str_eq(probe("Partition"), "aws");
}

Test(core_template, refs_aws_url_suffix_as_amazonaws_com)
{
    load(pseudo_template);
    cr_assert_str_eq(probe("Suffix"), "amazonaws.com");
}

Test(core_template, refs_aws_notification_arns_as_an_empty_list)
{
    load(pseudo_template);
    cr_assert_str_eq(json(property("Probe", "Arns")), "[]");
}

Test(core_template, drops_a_property_whose_value_is_aws_no_value)
{
    load("Resources:\n" PROBE "      Gone: !Ref AWS::NoValue\n      Kept: x\n");
    cr_assert_str_eq(json(resource("Probe")->properties), "{\"Kept\":\"x\"}");
}

Test(core_template, drops_a_list_element_whose_value_is_aws_no_value)
{
    load("Resources:\n" PROBE "      L: [a, !Ref AWS::NoValue, b]\n");
    cr_assert_str_eq(json(property("Probe", "L")), "[\"a\",\"b\"]");
}

Test(core_template, rejects_an_unknown_pseudo_parameter)
{
    refuse("Resources:\n" PROBE "      V: !Ref AWS::Bogus\n",
           "Resources.Probe.Properties.V: unknown pseudo parameter");
}

/* ---- conditions ----------------------------------------------------------- */

static const char conditions_template[] =
    "Parameters:\n"
    "  Env: {Type: String, Default: dev}\n"
    "Conditions:\n"
    "  IsProd: !Equals [!Ref Env, prod]\n"
    "  IsDev: !Equals [dev, !Ref Env]\n"
    "  NotProd: !Not [!Condition IsProd]\n"
    "  Both: !And [!Condition IsDev, !Condition NotProd]\n"
    "  Either: !Or [!Condition IsProd, !Equals [a, b]]\n"
    "  Alias: !Condition IsDev\n"
    "Resources:\n" PROBE
    "      Level: !If [IsProd, INFO, DEBUG]\n"
    "      Nested: !If [Both, !Sub '${Env}-x', !Ref AWS::NoValue]\n"
    "  ProdOnly:\n"
    "    Type: AWS::SNS::Topic\n"
    "    Condition: IsProd\n";

Test(core_template, evaluates_fn_equals_against_a_parameter)
{
    load(conditions_template);
    cr_assert_eq(core_template_condition(tpl, "IsProd"), 0);
    cr_assert_eq(core_template_condition(tpl, "IsDev"), 1);
}

Test(core_template, evaluates_fn_not_of_a_condition)
{
    load(conditions_template);
    cr_assert_eq(core_template_condition(tpl, "NotProd"), 1);
}

Test(core_template, evaluates_fn_and_of_conditions)
{
    load(conditions_template);
    cr_assert_eq(core_template_condition(tpl, "Both"), 1);
}

Test(core_template, evaluates_fn_or_of_false_conditions_to_false)
{
    load(conditions_template);
    cr_assert_eq(core_template_condition(tpl, "Either"), 0);
}

Test(core_template, evaluates_a_condition_that_names_another)
{
    load(conditions_template);
    cr_assert_eq(core_template_condition(tpl, "Alias"), 1);
}

Test(core_template, reevaluates_conditions_after_a_parameter_override)
{
    char *params[] = {"Env=prod"};
    core_template_opts opts = {.params = params, .n_params = 1};
    load_with(conditions_template, &opts);
    cr_assert_eq(core_template_condition(tpl, "IsProd"), 1);
    cr_assert_eq(core_template_condition(tpl, "Both"), 0);
    cr_assert_eq(core_template_condition(tpl, "Either"), 1);
}

Test(core_template, returns_minus_one_for_an_undeclared_condition)
{
    load(conditions_template);
    cr_assert_eq(core_template_condition(tpl, "Nope"), -1);
}

Test(core_template, picks_the_false_branch_of_fn_if)
{
    load(conditions_template);
    cr_assert_str_eq(probe("Level"), "DEBUG");
}

Test(core_template, picks_the_true_branch_of_fn_if)
{
    char *params[] = {"Env=prod"};
    core_template_opts opts = {.params = params, .n_params = 1};
    load_with(conditions_template, &opts);
    cr_assert_str_eq(probe("Level"), "INFO");
}

Test(core_template, evaluates_only_the_chosen_branch_of_fn_if)
{
    /* The unchosen branch refers to nothing: evaluating it would fail the load. */
    load("Conditions:\n  No: !Equals [a, b]\n"
         "Resources:\n" PROBE "      V: !If [No, !Ref Missing, fine]\n");
    cr_assert_str_eq(probe("V"), "fine");
}

Test(core_template, substitutes_inside_the_chosen_branch_of_fn_if)
{
    load(conditions_template);
    cr_assert_str_eq(probe("Nested"), "dev-x");
}

Test(core_template, drops_a_property_when_fn_if_picks_aws_no_value)
{
    char *params[] = {"Env=prod"};
    core_template_opts opts = {.params = params, .n_params = 1};
    load_with(conditions_template, &opts);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(resource("Probe")->properties, "Nested"));
}

Test(core_template, compares_numbers_and_strings_by_their_text_in_fn_equals)
{
    load("Conditions:\n  Same: !Equals [1, '1']\nResources:\n" PROBE "      V: 1\n");
    cr_assert_eq(core_template_condition(tpl, "Same"), 1);
}

Test(core_template, leaves_out_a_resource_whose_condition_is_false)
{
    load(conditions_template);
    cr_assert_null(core_template_resource(tpl, "ProdOnly"));
    cr_assert_eq(core_template_resource_count(tpl), 1);
}

Test(core_template, keeps_a_resource_whose_condition_is_true)
{
    char *params[] = {"Env=prod"};
    core_template_opts opts = {.params = params, .n_params = 1};
    load_with(conditions_template, &opts);
    cr_assert_not_null(core_template_resource(tpl, "ProdOnly"));
    cr_assert_eq(core_template_resource_count(tpl), 2);
}

Test(core_template, rejects_a_ref_to_a_resource_whose_condition_is_false)
{
    refuse("Conditions:\n  No: !Equals [a, b]\n"
           "Resources:\n"
           "  Gone:\n    Type: AWS::SNS::Topic\n    Condition: No\n" PROBE
           "      V: !Ref Gone\n",
           "Resources.Probe.Properties.V: Unresolved resource dependencies [Gone] in the "
           "Resources block of the template (its Condition is false)");
}

Test(core_template, rejects_a_get_att_of_a_resource_whose_condition_is_false)
{
    refuse("Conditions:\n  No: !Equals [a, b]\n"
           "Resources:\n"
           "  Gone:\n    Type: AWS::SNS::Topic\n    Condition: No\n" PROBE
           "      V: !Sub '${Gone.TopicName}'\n",
           "Resources.Probe.Properties.V: Unresolved resource dependencies [Gone] in the "
           "Resources block of the template (its Condition is false)");
}

Test(core_template, rejects_a_cycle_between_conditions)
{
    refuse("Conditions:\n  A: !Condition B\n  B: !Not [!Condition A]\n"
           "Resources:\n" PROBE "      V: 1\n",
           "Conditions.A: circular reference");
}

Test(core_template, rejects_a_condition_that_refers_to_itself)
{
    refuse("Conditions:\n  A: !And [!Condition A, true]\nResources:\n" PROBE "      V: 1\n",
           "Conditions.A: circular reference");
}

Test(core_template, rejects_fn_if_on_an_undeclared_condition)
{
    refuse("Resources:\n" PROBE "      V: !If [Nope, a, b]\n",
           "Resources.Probe.Properties.V: no condition named Nope in Conditions");
}

Test(core_template, rejects_a_resource_condition_that_is_not_declared)
{
    refuse("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Condition: Nope\n",
           "Resources.T.Condition: no condition named Nope in Conditions");
}

Test(core_template, rejects_fn_and_with_a_single_condition)
{
    refuse("Conditions:\n  A: !And [true]\nResources:\n" PROBE "      V: 1\n",
           "Conditions.A: Fn::And takes 2 to 10 conditions");
}

Test(core_template, rejects_a_condition_that_is_not_a_condition_function)
{
    refuse("Conditions:\n  A: !Ref X\nResources:\n" PROBE "      V: 1\n",
           "Conditions.A: Ref is not a condition function");
}

Test(core_template, rejects_conditions_that_are_not_a_mapping)
{
    refuse("Conditions: [a]\nResources:\n" PROBE "      V: 1\n", "Conditions: must be a mapping");
}

/* ---- Globals -------------------------------------------------------------- */

static const char globals_template[] =
    "Globals:\n"
    "  Function:\n"
    "    Runtime: provided.al2023\n"
    "    Timeout: 10\n"
    "    MemorySize: 256\n"
    "    Layers: [global-layer]\n"
    "    Environment:\n"
    "      Variables:\n"
    "        SHARED: from-globals\n"
    "        LEVEL: global\n"
    "Resources:\n" FUNCTION("F")
    "      Timeout: 30\n"
    "      Layers: [own-layer]\n"
    "      Environment:\n"
    "        Variables:\n"
    "          LEVEL: resource\n"
    "          OWN: mine\n" PROBE
    "      V: 1\n";

Test(core_template, applies_function_globals_the_resource_does_not_set)
{
    load(globals_template);
    const core_tpl_function *f = function("F");
    cr_assert_str_eq(f->runtime, "provided.al2023");
    cr_assert_eq(f->memory_mb, 256);
}

Test(core_template, lets_a_resource_scalar_override_a_global)
{
    load(globals_template);
    cr_assert_eq(function("F")->timeout_s, 30);
}

Test(core_template, merges_environment_variables_with_the_resource_winning)
{
    load(globals_template);
    const cJSON *env = function("F")->environment;
    cr_assert_eq(cJSON_GetArraySize(env), 3);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(env, "SHARED")->valuestring, "from-globals");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(env, "LEVEL")->valuestring, "resource");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(env, "OWN")->valuestring, "mine");
}

Test(core_template, appends_resource_lists_after_global_lists)
{
    load(globals_template);
    cr_assert_str_eq(json(property("F", "Layers")), "[\"global-layer\",\"own-layer\"]");
}

Test(core_template, applies_function_globals_only_to_serverless_functions)
{
    load(globals_template);
    cr_assert_str_eq(json(resource("Probe")->properties), "{\"V\":1}");
}

Test(core_template, gives_globals_to_a_function_without_properties)
{
    load("Globals:\n  Function:\n    Handler: bootstrap\n    Timeout: 7\n"
         "Resources:\n  F:\n    Type: AWS::Serverless::Function\n");
    cr_assert_str_eq(function("F")->handler, "bootstrap");
    cr_assert_eq(function("F")->timeout_s, 7);
}

Test(core_template, applies_http_api_globals_to_http_apis)
{
    load("Globals:\n  HttpApi:\n    StageName: v1\n"
         "Resources:\n  Api:\n    Type: AWS::Serverless::HttpApi\n");
    cr_assert_str_eq(http_api("Api")->stage, "v1");
}

Test(core_template, resolves_intrinsics_inside_globals_per_function)
{
    load("Globals:\n  Function:\n    Environment:\n      Variables:\n"
         "        NAME: !Ref AWS::StackName\n"
         "Resources:\n" FUNCTION("F"));
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(function("F")->environment, "NAME")->valuestring,
                     "shoplocal");
}

Test(core_template, rejects_an_unknown_globals_section)
{
    refuse("Globals:\n  Bogus:\n    X: 1\nResources:\n" PROBE "      V: 1\n",
           "Globals.Bogus: not a section SAM knows (Function, HttpApi, Api, SimpleTable, "
           "StateMachine, LayerVersion)");
}

Test(core_template, rejects_a_globals_section_that_is_not_a_mapping)
{
    refuse("Globals:\n  Function: [1]\nResources:\n" PROBE "      V: 1\n",
           "Globals.Function: must be a mapping");
}

/* ---- identities by resource type ------------------------------------------ */

Test(core_template, names_a_function_stack_dash_logical_id_by_default)
{
    load("Resources:\n" FUNCTION("Orders") PROBE "      Name: !Ref Orders\n"
         "      Arn: !GetAtt Orders.Arn\n");
    cr_assert_str_eq(probe("Name"), "shoplocal-Orders");
    cr_assert_str_eq(probe("Arn"), "arn:aws:lambda:us-east-1:000000000000:function:shoplocal-Orders");
    cr_assert_str_eq(function("Orders")->name, "shoplocal-Orders");
    cr_assert_str_eq(function("Orders")->arn, probe("Arn"));
}

Test(core_template, uses_function_name_when_given)
{
    core_template_opts opts = {.region = "eu-central-1"};
    load_with("Resources:\n" FUNCTION("F") "      FunctionName: custom\n" PROBE
              "      Arn: !GetAtt F.Arn\n",
              &opts);
    cr_assert_str_eq(resource("F")->physical_id, "custom");
    cr_assert_str_eq(probe("Arn"), "arn:aws:lambda:eu-central-1:000000000000:function:custom");
}

Test(core_template, caps_a_default_function_name_at_64_characters)
{
    load("Resources:\n" FUNCTION(
        "AVeryLongLogicalIdThatGoesOnAndOnForMoreThanSixtyFourCharactersInAll"));
    const char *name = core_template_resource_at(tpl, 0)->physical_id;
    cr_assert_eq(strlen(name), 64);
    cr_assert_str_eq(name, "shoplocal-AVeryLongLogicalIdThatGoesOnAndOnForMoreThanSixtyFourC");
}

Test(core_template, gives_a_plain_lambda_function_the_same_identity)
{
    load("Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n"
         "      Handler: index.handler\n");
    cr_assert_str_eq(resource("F")->physical_id, "shoplocal-F");
    cr_assert_str_eq(attribute("F", "Arn"),
                     "arn:aws:lambda:us-east-1:000000000000:function:shoplocal-F");
    cr_assert_eq(core_template_function_count(tpl), 1);
}

static const char table_template[] =
    "Resources:\n"
    "  Shop:\n"
    "    Type: AWS::DynamoDB::Table\n"
    "    Properties:\n"
    "      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]\n"
    "      KeySchema: [{AttributeName: PK, KeyType: HASH}]\n" PROBE
    "      Name: !Ref Shop\n"
    "      Arn: !GetAtt Shop.Arn\n"
    "      Stream: !GetAtt Shop.StreamArn\n";

Test(core_template, names_a_table_stack_dash_logical_id_with_its_arn)
{
    load(table_template);
    cr_assert_str_eq(probe("Name"), "shoplocal-Shop");
    cr_assert_str_eq(probe("Arn"), "arn:aws:dynamodb:us-east-1:000000000000:table/shoplocal-Shop");
}

Test(core_template, gives_a_table_a_stream_arn_under_its_arn)
{
    load(table_template);
    cr_assert_str_eq(probe("Stream"), "arn:aws:dynamodb:us-east-1:000000000000:table/"
                                      "shoplocal-Shop/stream/1970-01-01T00:00:00.000");
}

Test(core_template, uses_table_name_when_given)
{
    load("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
         "      TableName: !Sub '${AWS::StackName}-shop'\n"
         "      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]\n"
         "      KeySchema: [{AttributeName: PK, KeyType: HASH}]\n");
    cr_assert_str_eq(resource("T")->physical_id, "shoplocal-shop");
    cr_assert_str_eq(core_template_table_at(tpl, 0)->name, "shoplocal-shop");
}

Test(core_template, gives_a_simple_table_a_table_identity)
{
    load("Resources:\n  T:\n    Type: AWS::Serverless::SimpleTable\n");
    cr_assert_str_eq(resource("T")->physical_id, "shoplocal-T");
    cr_assert_str_eq(resource("T")->arn, "arn:aws:dynamodb:us-east-1:000000000000:table/shoplocal-T");
}

static const char state_machine_template[] =
    "Resources:\n"
    "  Saga:\n"
    "    Type: AWS::Serverless::StateMachine\n"
    "    Properties:\n"
    "      Definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}\n" PROBE
    "      Ref: !Ref Saga\n"
    "      Arn: !GetAtt Saga.Arn\n"
    "      Name: !GetAtt Saga.Name\n";

Test(core_template, refs_a_state_machine_as_its_arn)
{
    load(state_machine_template);
    cr_assert_str_eq(probe("Ref"), "arn:aws:states:us-east-1:000000000000:stateMachine:shoplocal-Saga");
    cr_assert_str_eq(probe("Arn"), probe("Ref"));
}

Test(core_template, gives_a_state_machine_a_name_attribute)
{
    load(state_machine_template);
    cr_assert_str_eq(probe("Name"), "shoplocal-Saga");
    cr_assert_str_eq(core_template_state_machine_at(tpl, 0)->name, "shoplocal-Saga");
}

Test(core_template, uses_the_state_machine_name_property)
{
    load("Resources:\n  Saga:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n"
         "      StateMachineName: orders\n      DefinitionString: '{}'\n");
    cr_assert_str_eq(resource("Saga")->physical_id,
                     "arn:aws:states:us-east-1:000000000000:stateMachine:orders");
    cr_assert_str_eq(attribute("Saga", "Name"), "orders");
}

static const char cognito_template[] =
    "Resources:\n"
    "  Pool:\n    Type: AWS::Cognito::UserPool\n"
    "  Client:\n    Type: AWS::Cognito::UserPoolClient\n    Properties:\n"
    "      UserPoolId: !Ref Pool\n      ClientName: web\n"
    "  Admins:\n    Type: AWS::Cognito::UserPoolGroup\n    Properties:\n"
    "      GroupName: Admins\n      UserPoolId: !Ref Pool\n"
    "  Unnamed:\n    Type: AWS::Cognito::UserPoolGroup\n" PROBE
    "      PoolId: !Ref Pool\n"
    "      PoolArn: !GetAtt Pool.Arn\n"
    "      Url: !GetAtt Pool.ProviderURL\n"
    "      Provider: !GetAtt Pool.ProviderName\n"
    "      ClientId: !Ref Client\n"
    "      ClientName: !GetAtt Client.Name\n"
    "      Group: !Ref Admins\n"
    "      Unnamed: !Ref Unnamed\n";

Test(core_template, ids_a_user_pool_as_region_underscore_nine_characters)
{
    core_template_opts opts = {.region = "eu-west-1"};
    load_with(cognito_template, &opts);
    const char *id = probe("PoolId");
    cr_assert_eq(strlen(id), strlen("eu-west-1_") + 9, "pool id %s", id);
    cr_assert_eq(strncmp(id, "eu-west-1_", 10), 0, "pool id %s", id);
    cr_assert(all_in(id + 10, MIXED_ALNUM), "pool id %s", id);
    cr_assert_str_eq(attribute("Pool", "UserPoolId"), id);
}

Test(core_template, gives_a_user_pool_its_arn_and_provider_url)
{
    load(cognito_template);
    const char *id = probe("PoolId");
    char expected[256];
    snprintf(expected, sizeof expected, "arn:aws:cognito-idp:us-east-1:000000000000:userpool/%s", id);
    cr_assert_str_eq(probe("PoolArn"), expected);
    snprintf(expected, sizeof expected, "https://cognito-idp.us-east-1.amazonaws.com/%s", id);
    cr_assert_str_eq(probe("Url"), expected);
    snprintf(expected, sizeof expected, "cognito-idp.us-east-1.amazonaws.com/%s", id);
    cr_assert_str_eq(probe("Provider"), expected);
}

Test(core_template, ids_a_user_pool_client_with_26_lowercase_characters)
{
    load(cognito_template);
    const char *id = probe("ClientId");
    cr_assert_eq(strlen(id), 26, "client id %s", id);
    cr_assert(all_in(id, LOWER_ALNUM), "client id %s", id);
    cr_assert_str_eq(attribute("Client", "ClientId"), id);
    cr_assert_str_eq(probe("ClientName"), "web");
}

Test(core_template, refs_a_user_pool_group_as_its_group_name)
{
    load(cognito_template);
    cr_assert_str_eq(probe("Group"), "Admins");
    cr_assert_str_eq(probe("Unnamed"), "Unnamed");
}

static const char bucket_template[] =
    "Resources:\n"
    "  Assets:\n    Type: AWS::S3::Bucket\n"
    "  Named:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: my-bucket\n" PROBE
    "      Name: !Ref Assets\n"
    "      Domain: !GetAtt Assets.DomainName\n"
    "      Regional: !GetAtt Named.RegionalDomainName\n"
    "      DualStack: !GetAtt Named.DualStackDomainName\n"
    "      Website: !GetAtt Named.WebsiteURL\n"
    "      Arn: !GetAtt Named.Arn\n";

Test(core_template, names_a_bucket_in_lower_case_with_a_stable_suffix)
{
    load(bucket_template);
    const char *name = probe("Name");
    const char *prefix = "shoplocal-assets-";
    cr_assert_eq(strlen(name), strlen(prefix) + 12, "bucket %s", name);
    cr_assert_eq(strncmp(name, prefix, strlen(prefix)), 0, "bucket %s", name);
    cr_assert(all_in(name + strlen(prefix), LOWER_ALNUM), "bucket %s", name);
}

Test(core_template, gives_a_bucket_its_domain_names)
{
    load(bucket_template);
    char expected[256];
    snprintf(expected, sizeof expected, "%s.s3.amazonaws.com", probe("Name"));
    cr_assert_str_eq(probe("Domain"), expected);
    cr_assert_str_eq(probe("Regional"), "my-bucket.s3.us-east-1.amazonaws.com");
    cr_assert_str_eq(probe("DualStack"), "my-bucket.s3.dualstack.us-east-1.amazonaws.com");
    cr_assert_str_eq(probe("Website"), "http://my-bucket.s3-website-us-east-1.amazonaws.com");
}

Test(core_template, gives_a_named_bucket_its_arn)
{
    load(bucket_template);
    cr_assert_str_eq(resource("Named")->physical_id, "my-bucket");
    cr_assert_str_eq(probe("Arn"), "arn:aws:s3:::my-bucket");
}

Test(core_template, refs_a_secret_as_its_arn_with_a_six_character_suffix)
{
    load("Resources:\n  Stripe:\n    Type: AWS::SecretsManager::Secret\n    Properties:\n"
         "      Name: shop/stripe\n" PROBE "      Ref: !Ref Stripe\n      Name: !GetAtt Stripe.Name\n");
    const char *arn = probe("Ref");
    const char *prefix = "arn:aws:secretsmanager:us-east-1:000000000000:secret:shop/stripe-";
    cr_assert_eq(strlen(arn), strlen(prefix) + 6, "secret %s", arn);
    cr_assert_eq(strncmp(arn, prefix, strlen(prefix)), 0, "secret %s", arn);
    cr_assert(all_in(arn + strlen(prefix), MIXED_ALNUM), "secret %s", arn);
    cr_assert_str_eq(attribute("Stripe", "Id"), arn);
    cr_assert_str_eq(probe("Name"), "shop/stripe");
}

Test(core_template, refs_an_sns_topic_as_its_arn)
{
    load("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n"
         "      TopicName: orders\n" PROBE "      Ref: !Ref Topic\n      Name: !GetAtt Topic.TopicName\n");
    cr_assert_str_eq(probe("Ref"), "arn:aws:sns:us-east-1:000000000000:orders");
    cr_assert_str_eq(attribute("Topic", "TopicArn"), probe("Ref"));
    cr_assert_str_eq(probe("Name"), "orders");
}

Test(core_template, names_an_unnamed_sns_topic_with_a_stable_suffix)
{
    load("Resources:\n  Alerts:\n    Type: AWS::SNS::Topic\n");
    const char *arn = resource("Alerts")->physical_id;
    const char *prefix = "arn:aws:sns:us-east-1:000000000000:shoplocal-Alerts-";
    cr_assert_eq(strlen(arn), strlen(prefix) + 12, "topic %s", arn);
    cr_assert_eq(strncmp(arn, prefix, strlen(prefix)), 0, "topic %s", arn);
    cr_assert(all_in(arn + strlen(prefix), UPPER_ALNUM), "topic %s", arn);
}

Test(core_template, ids_an_http_api_with_10_lowercase_characters)
{
    load("Resources:\n  Api:\n    Type: AWS::Serverless::HttpApi\n" PROBE
         "      Id: !Ref Api\n      Endpoint: !GetAtt Api.ApiEndpoint\n");
    const char *id = probe("Id");
    cr_assert_eq(strlen(id), 10, "api id %s", id);
    cr_assert(all_in(id, LOWER_ALNUM), "api id %s", id);
    char expected[128];
    snprintf(expected, sizeof expected, "https://%s.execute-api.us-east-1.amazonaws.com", id);
    cr_assert_str_eq(probe("Endpoint"), expected);
    cr_assert_str_eq(http_api("Api")->id, id);
}

Test(core_template, refs_an_sqs_queue_as_its_url)
{
    load("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: jobs\n");
    cr_assert_str_eq(resource("Q")->physical_id, "https://sqs.us-east-1.amazonaws.com/000000000000/jobs");
    cr_assert_str_eq(attribute("Q", "Arn"), "arn:aws:sqs:us-east-1:000000000000:jobs");
    cr_assert_str_eq(attribute("Q", "QueueName"), "jobs");
}

Test(core_template, gives_an_iam_role_a_global_arn_and_role_id)
{
    load("Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: runner\n");
    cr_assert_str_eq(resource("Role")->physical_id, "runner");
    cr_assert_str_eq(attribute("Role", "Arn"), "arn:aws:iam::000000000000:role/runner");
    const char *id = attribute("Role", "RoleId");
    cr_assert_eq(strlen(id), 21, "role id %s", id);
    cr_assert_eq(strncmp(id, "AROA", 4), 0, "role id %s", id);
}

Test(core_template, gives_a_log_group_an_arn_ending_in_star)
{
    load("Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n    Properties:\n"
         "      LogGroupName: /aws/x\n");
    cr_assert_str_eq(resource("Logs")->physical_id, "/aws/x");
    cr_assert_str_eq(attribute("Logs", "Arn"), "arn:aws:logs:us-east-1:000000000000:log-group:/aws/x:*");
}

Test(core_template, ids_a_cloudfront_distribution_and_its_domain)
{
    load("Resources:\n  Cdn:\n    Type: AWS::CloudFront::Distribution\n");
    const char *id = resource("Cdn")->physical_id;
    cr_assert_eq(strlen(id), 14, "distribution %s", id);
    cr_assert_eq(id[0], 'E');
    cr_assert(all_in(id, UPPER_ALNUM), "distribution %s", id);
    cr_assert_str_eq(attribute("Cdn", "Id"), id);
    const char *domain = attribute("Cdn", "DomainName");
    cr_assert_eq(strlen(domain), strlen("d.cloudfront.net") + 13, "domain %s", domain);
    cr_assert_str_eq(domain + 14, ".cloudfront.net");
}

Test(core_template, ids_other_cloudfront_resources_with_14_characters)
{
    load("Resources:\n  Oac:\n    Type: AWS::CloudFront::OriginAccessControl\n");
    const char *id = resource("Oac")->physical_id;
    cr_assert_eq(strlen(id), 14, "id %s", id);
    cr_assert(all_in(id, UPPER_ALNUM), "id %s", id);
    cr_assert_str_eq(attribute("Oac", "Id"), id);
}

Test(core_template, gives_a_cloudfront_web_acl_a_global_us_east_1_arn)
{
    core_template_opts opts = {.region = "eu-west-1"};
    load_with("Resources:\n  Acl:\n    Type: AWS::WAFv2::WebACL\n    Properties:\n"
              "      Name: shop-acl\n      Scope: CLOUDFRONT\n",
              &opts);
    const char *id = attribute("Acl", "Id");
    cr_assert_eq(strlen(id), 32);
    char expected[256];
    snprintf(expected, sizeof expected, "arn:aws:wafv2:us-east-1:000000000000:global/webacl/shop-acl/%s",
             id);
    cr_assert_str_eq(attribute("Acl", "Arn"), expected);
    snprintf(expected, sizeof expected, "shop-acl|%s|CLOUDFRONT", id);
    cr_assert_str_eq(resource("Acl")->physical_id, expected);
}

Test(core_template, gives_a_regional_web_acl_a_regional_arn)
{
    core_template_opts opts = {.region = "eu-west-1"};
    load_with("Resources:\n  Acl:\n    Type: AWS::WAFv2::WebACL\n    Properties:\n"
              "      Name: api-acl\n      Scope: REGIONAL\n",
              &opts);
    char expected[256];
    snprintf(expected, sizeof expected, "arn:aws:wafv2:eu-west-1:000000000000:regional/webacl/api-acl/%s",
             attribute("Acl", "Id"));
    cr_assert_str_eq(attribute("Acl", "Arn"), expected);
}

Test(core_template, gives_an_alarm_its_arn)
{
    load("Resources:\n  Alarm:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n"
         "      AlarmName: failures\n");
    cr_assert_str_eq(resource("Alarm")->physical_id, "failures");
    cr_assert_str_eq(attribute("Alarm", "Arn"), "arn:aws:cloudwatch:us-east-1:000000000000:alarm:failures");
}

Test(core_template, names_an_unmodelled_type_stack_dash_logical_id_dash_suffix)
{
    load("Resources:\n" PROBE "      V: 1\n");
    const char *name = resource("Probe")->physical_id;
    const char *prefix = "shoplocal-Probe-";
    cr_assert_eq(strlen(name), strlen(prefix) + 12, "name %s", name);
    cr_assert_eq(strncmp(name, prefix, strlen(prefix)), 0, "name %s", name);
    cr_assert_null(resource("Probe")->arn);
}

Test(core_template, keeps_ids_stable_across_two_loads)
{
    load(cognito_template);
    char pool[64], client[64];
    snprintf(pool, sizeof pool, "%s", probe("PoolId"));
    snprintf(client, sizeof client, "%s", probe("ClientId"));
    load(cognito_template);
    cr_assert_str_eq(probe("PoolId"), pool);
    cr_assert_str_eq(probe("ClientId"), client);
}

Test(core_template, derives_different_ids_for_different_stack_names)
{
    core_template_opts a = {.stack_name = "alpha"}, b = {.stack_name = "beta"};
    load_with(cognito_template, &a);
    char pool[64], client[64];
    snprintf(pool, sizeof pool, "%s", probe("PoolId"));
    snprintf(client, sizeof client, "%s", probe("ClientId"));
    load_with(cognito_template, &b);
    cr_assert_str_neq(probe("PoolId"), pool);
    cr_assert_str_neq(probe("ClientId"), client);
}

Test(core_template, derives_different_ids_for_different_logical_ids)
{
    load("Resources:\n  A:\n    Type: AWS::Serverless::HttpApi\n"
         "  B:\n    Type: AWS::Serverless::HttpApi\n");
    cr_assert_str_neq(resource("A")->physical_id, resource("B")->physical_id);
}

/* ---- references, ordering, cycles ----------------------------------------- */

Test(core_template, rejects_get_att_of_an_unknown_attribute_naming_resource_and_attribute)
{
    refuse("Resources:\n  T:\n    Type: AWS::SNS::Topic\n" PROBE "      V: !GetAtt T.Bogus\n",
           "Resources.Probe.Properties.V: Fn::GetAtt T.Bogus: AWS::SNS::Topic has no attribute "
           "Bogus in shoplocal");
}

Test(core_template, rejects_get_att_on_an_unmodelled_type)
{
    refuse("Resources:\n  X:\n    Type: Custom::Thing\n" PROBE "      V: !GetAtt X.Arn\n",
           "Resources.Probe.Properties.V: Fn::GetAtt X.Arn: Custom::Thing has no attribute Arn "
           "in shoplocal");
}

Test(core_template, resolves_get_att_in_long_string_form)
{
    load("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: t\n" PROBE
         "      V:\n        Fn::GetAtt: T.TopicName\n");
    cr_assert_str_eq(probe("V"), "t");
}

Test(core_template, resolves_get_att_with_an_attribute_given_by_ref)
{
    load("Parameters:\n  Attr: {Type: String, Default: TopicName}\n"
         "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: t\n" PROBE
         "      V: !GetAtt [T, !Ref Attr]\n");
    cr_assert_str_eq(probe("V"), "t");
}

Test(core_template, rejects_a_ref_to_a_missing_resource)
{
    refuse("Resources:\n" PROBE "      V: !Ref Missing\n",
           "Resources.Probe.Properties.V: Unresolved resource dependencies [Missing] in the "
           "Resources block of the template");
}

Test(core_template, rejects_a_get_att_of_a_missing_resource)
{
    refuse("Resources:\n" PROBE "      L: [ok, !GetAtt Missing.Arn]\n",
           "Resources.Probe.Properties.L[1]: Unresolved resource dependencies [Missing] in the "
           "Resources block of the template");
}

Test(core_template, rejects_a_cycle_between_resources_naming_both)
{
    refuse("Resources:\n"
           "  A:\n    Type: Custom::A\n    Properties:\n      Peer: !Ref B\n"
           "  B:\n    Type: Custom::B\n    Properties:\n      Peer: !GetAtt A.Arn\n",
           "Circular dependency between resources: [A, B, A]");
}

Test(core_template, rejects_a_resource_that_refers_to_itself)
{
    refuse("Resources:\n  A:\n    Type: Custom::A\n    Properties:\n      Me: !Sub '${A}'\n",
           "Circular dependency between resources: [A, A]");
}

Test(core_template, rejects_a_cycle_through_depends_on)
{
    refuse("Resources:\n"
           "  A:\n    Type: Custom::A\n    DependsOn: B\n"
           "  B:\n    Type: Custom::B\n    DependsOn: [A]\n",
           "Circular dependency between resources: [A, B, A]");
}

Test(core_template, rejects_depends_on_a_missing_resource)
{
    refuse("Resources:\n  A:\n    Type: Custom::A\n    DependsOn: [Nope]\n",
           "Resources.A: Unresolved resource dependencies [Nope] in the Resources block of the "
           "template");
}

Test(core_template, rejects_depends_on_that_is_not_a_name)
{
    refuse("Resources:\n  A:\n    Type: Custom::A\n    DependsOn: {B: 1}\n",
           "Resources.A.DependsOn: must be a name or a list of names");
}

Test(core_template, orders_resources_after_those_they_depend_on)
{
    load("Resources:\n"
         "  First:\n    Type: Custom::A\n    DependsOn: [Third]\n"
         "  Second:\n    Type: Custom::B\n    Properties:\n      P: !Ref First\n"
         "  Third:\n    Type: Custom::C\n");
    cr_assert_eq(core_template_resource_count(tpl), 3);
    cr_assert_str_eq(core_template_resource_at(tpl, 0)->logical_id, "Third");
    cr_assert_str_eq(core_template_resource_at(tpl, 1)->logical_id, "First");
    cr_assert_str_eq(core_template_resource_at(tpl, 2)->logical_id, "Second");
    cr_assert_null(core_template_resource_at(tpl, 3));
}

Test(core_template, resolves_a_chain_of_64_dependent_resources)
{
    /* R0 -> R1 -> ... -> R63: the deepest resolution the loader records. */
    char yaml[8192];
    size_t used = (size_t)snprintf(yaml, sizeof yaml, "Resources:\n");
    for (int i = 0; i < 64; i++) {
        used += (size_t)snprintf(yaml + used, sizeof yaml - used, "  R%d:\n    Type: Custom::X\n", i);
        if (i < 63)
            used += (size_t)snprintf(yaml + used, sizeof yaml - used,
                                     "    Properties:\n      Next: !Ref R%d\n", i + 1);
    }
    cr_assert_lt(used, sizeof yaml);
    load(yaml);
    cr_assert_eq(core_template_resource_count(tpl), 64);
    cr_assert_str_eq(core_template_resource_at(tpl, 0)->logical_id, "R63");
    cr_assert_str_eq(core_template_resource_at(tpl, 63)->logical_id, "R0");
    cr_assert_str_eq(property_string("R0", "Next"), resource("R1")->physical_id);
}

Test(core_template, keeps_metadata_as_written)
{
    load("Resources:\n" FUNCTION("F") "    Metadata:\n      BuildMethod: makefile\n"
         "      Ref: !Ref Nothing\n");
    cr_assert_str_eq(json(resource("F")->metadata),
                     "{\"BuildMethod\":\"makefile\",\"Ref\":{\"Ref\":\"Nothing\"}}");
    cr_assert_str_eq(function("F")->build_method, "makefile");
}

/* ---- Fn::Sub -------------------------------------------------------------- */

static const char sub_template[] =
    "Parameters:\n  Env: {Type: String, Default: dev}\n"
    "Resources:\n"
    "  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: t\n" PROBE
    "      Param: !Sub 'app-${Env}'\n"
    "      Attr: !Sub '${T.TopicName}/x'\n"
    "      Resource: !Sub 'topic=${T}'\n"
    "      Pseudo: !Sub 'https://s3.${AWS::Region}.${AWS::URLSuffix}/${AWS::AccountId}'\n"
    "      Literal: !Sub '${!Env} stays, ${Env} goes'\n"
    "      Plain: !Sub 'no variables'\n"
    "      Map: !Sub ['${Env}-${Name}-${Count}', {Name: !GetAtt T.TopicName, Count: 3}]\n"
    "      Shadow: !Sub ['${Env}', {Env: mine}]\n";

Test(core_template, substitutes_a_parameter_in_fn_sub)
{
    load(sub_template);
    cr_assert_str_eq(probe("Param"), "app-dev");
}

Test(core_template, substitutes_a_resource_attribute_in_fn_sub)
{
    load(sub_template);
    cr_assert_str_eq(probe("Attr"), "t/x");
}

Test(core_template, substitutes_a_resource_ref_in_fn_sub)
{
    load(sub_template);
    cr_assert_str_eq(probe("Resource"), "topic=arn:aws:sns:us-east-1:000000000000:t");
}

Test(core_template, substitutes_pseudo_parameters_in_fn_sub)
{
    load(sub_template);
    cr_assert_str_eq(probe("Pseudo"), "https://s3.us-east-1.amazonaws.com/000000000000");
}

Test(core_template, writes_a_bang_escaped_variable_literally_in_fn_sub)
{
    load(sub_template);
    cr_assert_str_eq(probe("Literal"), "${Env} stays, dev goes");
}

Test(core_template, returns_text_without_variables_unchanged_from_fn_sub)
{
    load(sub_template);
    cr_assert_str_eq(probe("Plain"), "no variables");
}

Test(core_template, substitutes_from_a_variable_map_in_fn_sub)
{
    load(sub_template);
    cr_assert_str_eq(probe("Map"), "dev-t-3");
}

Test(core_template, prefers_the_variable_map_over_a_parameter_of_the_same_name)
{
    load(sub_template);
    cr_assert_str_eq(probe("Shadow"), "mine");
}

Test(core_template, rejects_an_unterminated_variable_in_fn_sub)
{
    refuse("Resources:\n" PROBE "      V: !Sub 'a-${AWS::Region'\n",
           "Resources.Probe.Properties.V: Fn::Sub: unterminated ${");
}

Test(core_template, rejects_an_empty_variable_in_fn_sub)
{
    refuse("Resources:\n" PROBE "      V: !Sub 'a-${}'\n",
           "Resources.Probe.Properties.V: Fn::Sub: empty ${}");
}

Test(core_template, rejects_a_list_variable_in_fn_sub)
{
    refuse("Parameters:\n  L: {Type: CommaDelimitedList, Default: 'a,b'}\n"
           "Resources:\n" PROBE "      V: !Sub '${L}'\n",
           "Resources.Probe.Properties.V: Fn::Sub: ${L} is not a string");
}

Test(core_template, rejects_an_unknown_variable_in_fn_sub)
{
    refuse("Resources:\n" PROBE "      V: !Sub '${Nope}'\n",
           "Resources.Probe.Properties.V: Unresolved resource dependencies [Nope] in the "
           "Resources block of the template");
}

/* ---- Join, Select, Split, FindInMap, Base64, GetAZs, ImportValue ----------- */

Test(core_template, joins_strings_numbers_and_booleans_with_fn_join)
{
    load("Resources:\n" PROBE "      V: !Join [',', [a, 1, true, !Ref AWS::Region]]\n");
    cr_assert_str_eq(probe("V"), "a,1,true,us-east-1");
}

Test(core_template, joins_an_empty_list_to_an_empty_string)
{
    load("Resources:\n" PROBE "      V: !Join ['-', []]\n");
    cr_assert_str_eq(probe("V"), "");
}

Test(core_template, rejects_fn_join_of_a_non_list)
{
    refuse("Resources:\n" PROBE "      V: !Join ['-', abc]\n",
           "Resources.Probe.Properties.V: expected a list");
}

Test(core_template, rejects_fn_join_of_a_nested_list)
{
    refuse("Resources:\n" PROBE "      V: !Join ['-', [a, [b]]]\n",
           "Resources.Probe.Properties.V: Fn::Join: values must be strings");
}

Test(core_template, selects_by_index_with_fn_select)
{
    load("Resources:\n" PROBE "      V: !Select [2, [a, b, c]]\n      S: !Select ['0', [x]]\n");
    cr_assert_str_eq(probe("V"), "c");
    cr_assert_str_eq(probe("S"), "x");
}

Test(core_template, rejects_fn_select_past_the_end)
{
    refuse("Resources:\n" PROBE "      V: !Select [3, [a, b, c]]\n",
           "Resources.Probe.Properties.V: Fn::Select: index out of range");
}

Test(core_template, rejects_a_negative_fn_select_index)
{
    refuse("Resources:\n" PROBE "      V: !Select [-1, [a]]\n",
           "Resources.Probe.Properties.V: Fn::Select: index must be a non-negative integer");
}

Test(core_template, splits_keeping_empty_parts_with_fn_split)
{
    load("Resources:\n" PROBE "      V: !Split [',', 'a,b,,c']\n");
    cr_assert_str_eq(json(property("Probe", "V")), "[\"a\",\"b\",\"\",\"c\"]");
}

Test(core_template, splits_on_a_multi_character_delimiter)
{
    load("Resources:\n" PROBE "      V: !Split ['::', 'AWS::S3::Bucket']\n");
    cr_assert_str_eq(json(property("Probe", "V")), "[\"AWS\",\"S3\",\"Bucket\"]");
}

Test(core_template, selects_from_a_split)
{
    load("Resources:\n" PROBE "      V: !Select [1, !Split ['-', !Ref AWS::Region]]\n");
    cr_assert_str_eq(probe("V"), "east");
}

Test(core_template, rejects_fn_split_with_an_empty_delimiter)
{
    refuse("Resources:\n" PROBE "      V: !Split ['', abc]\n",
           "Resources.Probe.Properties.V: Fn::Split takes [delimiter, string]");
}

static const char mappings_template[] =
    "Mappings:\n"
    "  RegionMap:\n"
    "    us-east-1: {Ami: ami-east, Zones: [a, b]}\n"
    "    eu-west-1: {Ami: ami-west}\n"
    "Resources:\n" PROBE
    "      Ami: !FindInMap [RegionMap, !Ref AWS::Region, Ami]\n"
    "      Zones: !FindInMap [RegionMap, us-east-1, Zones]\n";

Test(core_template, finds_a_value_in_mappings_by_evaluated_keys)
{
    core_template_opts opts = {.region = "eu-west-1"};
    load_with(mappings_template, &opts);
    cr_assert_str_eq(probe("Ami"), "ami-west");
}

Test(core_template, finds_a_list_value_in_mappings)
{
    load(mappings_template);
    cr_assert_str_eq(json(property("Probe", "Zones")), "[\"a\",\"b\"]");
}

Test(core_template, rejects_a_missing_key_in_fn_find_in_map)
{
    core_template_opts opts = {.region = "ap-south-1"};
    refuse_with(mappings_template, &opts,
                "Resources.Probe.Properties.Ami: Fn::FindInMap: no RegionMap.ap-south-1.Ami in "
                "Mappings");
}

Test(core_template, encodes_with_fn_base64)
{
    load("Resources:\n" PROBE "      V: !Base64 hello\n      E: !Base64 ''\n"
         "      S: !Base64 {'Fn::Sub': '${AWS::Partition}!'}\n");
    cr_assert_str_eq(probe("V"), "aGVsbG8=");
    cr_assert_str_eq(probe("E"), "");
    cr_assert_str_eq(probe("S"), "YXdzIQ==");
}

Test(core_template, lists_three_zones_of_the_region_with_fn_get_azs)
{
    core_template_opts opts = {.region = "eu-west-3"};
    load_with("Resources:\n" PROBE "      V: !GetAZs ''\n", &opts);
    cr_assert_str_eq(json(property("Probe", "V")), "[\"eu-west-3a\",\"eu-west-3b\",\"eu-west-3c\"]");
}

Test(core_template, refuses_fn_import_value_by_name)
{
    refuse("Resources:\n" PROBE "      V: !ImportValue SharedVpc\n",
           "Resources.Probe.Properties.V: Fn::ImportValue is not supported by shoplocal");
}

Test(core_template, refuses_fn_cidr_by_name)
{
    refuse("Resources:\n" PROBE "      V: !Cidr ['10.0.0.0/16', 2, 8]\n",
           "Resources.Probe.Properties.V: Fn::Cidr is not supported by shoplocal");
}

Test(core_template, names_the_list_index_of_a_failing_expression)
{
    refuse("Resources:\n" PROBE "      Outer:\n        Inner: [a, b, !Ref AWS::Nope]\n",
           "Resources.Probe.Properties.Outer.Inner[2]: unknown pseudo parameter");
}

/* ---- Outputs -------------------------------------------------------------- */

static const char outputs_template[] =
    "Conditions:\n  No: !Equals [a, b]\n"
    "Resources:\n  Api:\n    Type: AWS::Serverless::HttpApi\n"
    "Outputs:\n"
    "  Url:\n    Value: !Sub 'https://${Api}.execute-api.${AWS::Region}.amazonaws.com'\n"
    "  Hidden:\n    Condition: No\n    Value: !Ref Missing\n"
    "  Count:\n    Value: 3\n"
    "  Dropped:\n    Value: !Ref AWS::NoValue\n";

Test(core_template, resolves_output_values)
{
    load(outputs_template);
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(core_template_outputs(tpl), "Url");
    char expected[128];
    snprintf(expected, sizeof expected, "https://%s.execute-api.us-east-1.amazonaws.com",
             resource("Api")->physical_id);
    cr_assert(cJSON_IsString(url));
    cr_assert_str_eq(url->valuestring, expected);
}

Test(core_template, leaves_out_outputs_whose_condition_is_false)
{
    load(outputs_template);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(core_template_outputs(tpl), "Hidden"));
}

Test(core_template, keeps_outputs_in_order_without_no_value_ones)
{
    load(outputs_template);
    const cJSON *outs = core_template_outputs(tpl);
    cr_assert_eq(cJSON_GetArraySize(outs), 2);
    cr_assert_str_eq(outs->child->string, "Url");
    cr_assert_str_eq(outs->child->next->string, "Count");
    cr_assert_eq(outs->child->next->valueint, 3);
}

Test(core_template, gives_an_empty_outputs_object_without_outputs)
{
    load("Resources:\n" PROBE "      V: 1\n");
    cr_assert_str_eq(json(core_template_outputs(tpl)), "{}");
}

Test(core_template, rejects_an_output_without_value)
{
    refuse("Resources:\n" PROBE "      V: 1\nOutputs:\n  X:\n    Description: nothing\n",
           "Outputs.X.Value: required");
}

Test(core_template, rejects_an_output_referring_to_a_missing_resource)
{
    refuse("Resources:\n" PROBE "      V: 1\nOutputs:\n  X:\n    Value: !GetAtt Nope.Arn\n",
           "Outputs.X.Value: Unresolved resource dependencies [Nope] in the Resources block of "
           "the template");
}

/* ---- typed views: functions ----------------------------------------------- */

Test(core_template, defaults_function_timeout_memory_and_architecture)
{
    load("Resources:\n" FUNCTION("F"));
    const core_tpl_function *f = function("F");
    cr_assert_str_eq(f->handler, "bootstrap");
    cr_assert_null(f->runtime);
    cr_assert_null(f->code_uri);
    cr_assert_null(f->build_method);
    cr_assert_eq(f->timeout_s, 3);
    cr_assert_eq(f->memory_mb, 128);
    cr_assert_str_eq(f->architecture, "x86_64");
    cr_assert_eq(f->tracing_active, 0);
    cr_assert_eq(f->n_routes, 0);
    cr_assert_str_eq(json(f->environment), "{}");
}

Test(core_template, reads_function_settings_from_properties)
{
    load("Resources:\n" FUNCTION("F")
         "      Runtime: provided.al2023\n"
         "      CodeUri: backend/\n"
         "      Timeout: 900\n"
         "      MemorySize: 10240\n"
         "      Architectures: [arm64]\n"
         "      Tracing: Active\n");
    const core_tpl_function *f = function("F");
    cr_assert_str_eq(f->runtime, "provided.al2023");
    cr_assert_str_eq(f->code_uri, "backend/");
    cr_assert_eq(f->timeout_s, 900);
    cr_assert_eq(f->memory_mb, 10240);
    cr_assert_str_eq(f->architecture, "arm64");
    cr_assert_eq(f->tracing_active, 1);
}

Test(core_template, reads_a_numeric_string_timeout)
{
    load("Parameters:\n  T: {Type: Number, Default: 12}\nResources:\n" FUNCTION("F")
         "      Timeout: !Ref T\n");
    cr_assert_eq(function("F")->timeout_s, 12);
}

Test(core_template, reads_tracing_from_a_tracing_config)
{
    load("Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n"
         "      Handler: h\n      TracingConfig: {Mode: Active}\n");
    cr_assert_eq(function("F")->tracing_active, 1);
}

Test(core_template, resolves_environment_variables_to_strings)
{
    load("Parameters:\n  Env: {Type: String, Default: dev}\n"
         "Resources:\n" FUNCTION("F")
         "      Environment:\n        Variables:\n"
         "          STR: !Ref Env\n"
         "          INT: 5\n"
         "          DEC: 1.5\n"
         "          FLAG: true\n"
         "          NAME: !Sub '${AWS::StackName}-x'\n");
    cr_assert_str_eq(json(function("F")->environment),
                     "{\"STR\":\"dev\",\"INT\":\"5\",\"DEC\":\"1.5\",\"FLAG\":\"true\","
                     "\"NAME\":\"shoplocal-x\"}");
}

Test(core_template, rejects_an_environment_variable_that_is_not_a_scalar)
{
    refuse("Resources:\n" FUNCTION("F")
           "      Environment:\n        Variables:\n          X: [1]\n",
           "Resources.F.Properties.Environment.Variables.X: must be a string");
}

Test(core_template, rejects_a_function_timeout_out_of_range_naming_the_field)
{
    refuse("Resources:\n" FUNCTION("F") "      Timeout: 901\n",
           "Resources.F.Properties.Timeout: must be an integer in 1..900");
}

Test(core_template, rejects_a_fractional_function_timeout)
{
    refuse("Resources:\n" FUNCTION("F") "      Timeout: 2.5\n",
           "Resources.F.Properties.Timeout: must be an integer in 1..900");
}

Test(core_template, rejects_a_non_numeric_function_timeout)
{
    refuse("Resources:\n" FUNCTION("F") "      Timeout: soon\n",
           "Resources.F.Properties.Timeout: must be an integer in 1..900");
}

Test(core_template, rejects_a_memory_size_below_128)
{
    refuse("Resources:\n" FUNCTION("F") "      MemorySize: 64\n",
           "Resources.F.Properties.MemorySize: must be an integer in 128..10240");
}

Test(core_template, rejects_a_function_without_handler)
{
    refuse("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n"
           "      Runtime: provided.al2023\n",
           "Resources.F.Properties.Handler: required");
}

/* ---- typed views: routes -------------------------------------------------- */

static const char routes_template[] =
    "Resources:\n"
    "  Api:\n"
    "    Type: AWS::Serverless::HttpApi\n"
    "    Properties:\n"
    "      Auth:\n"
    "        DefaultAuthorizer: Jwt\n"
    "        Authorizers:\n"
    "          Jwt:\n"
    "            JwtConfiguration:\n"
    "              issuer: https://issuer.test/\n"
    "              audience: [aud]\n" FUNCTION("F")
    "      Events:\n"
    "        GetOrder:\n"
    "          Type: HttpApi\n"
    "          Properties:\n"
    "            ApiId: !Ref Api\n"
    "            Path: /orders/{id}\n"
    "            Method: get\n"
    "        ListPublic:\n"
    "          Type: HttpApi\n"
    "          Properties:\n"
    "            ApiId: !Ref Api\n"
    "            Path: /public\n"
    "            Method: GET\n"
    "            Auth:\n"
    "              Authorizer: NONE\n"
    "        Admin:\n"
    "          Type: HttpApi\n"
    "          Properties:\n"
    "            ApiId: !Ref Api\n"
    "            Path: /admin/{proxy+}\n"
    "            Method: any\n"
    "            PayloadFormatVersion: '1.0'\n"
    "            TimeoutInMillis: 5000\n"
    "            Auth:\n"
    "              Authorizer: Jwt\n"
    "              AuthorizationScopes: [admin, write]\n"
    "        Catch:\n"
    "          Type: HttpApi\n"
    "          Properties:\n"
    "            ApiId: !Ref Api\n"
    "        Nightly:\n"
    "          Type: Schedule\n"
    "          Properties:\n"
    "            Schedule: rate(1 day)\n";

Test(core_template, upper_cases_the_route_method_and_builds_the_route_key)
{
    load(routes_template);
    const core_tpl_route *r = route(function("F"), "GetOrder");
    cr_assert_str_eq(r->method, "GET");
    cr_assert_str_eq(r->path, "/orders/{id}");
    cr_assert_str_eq(r->route_key, "GET /orders/{id}");
    cr_assert_str_eq(r->api_logical_id, "Api");
}

Test(core_template, applies_the_default_authorizer_to_a_route_without_auth)
{
    load(routes_template);
    cr_assert_str_eq(route(function("F"), "GetOrder")->authorizer, "Jwt");
}

Test(core_template, leaves_a_route_with_authorizer_none_unauthorized)
{
    load(routes_template);
    cr_assert_null(route(function("F"), "ListPublic")->authorizer);
}

Test(core_template, reads_authorization_scopes_of_a_route)
{
    load(routes_template);
    const core_tpl_route *r = route(function("F"), "Admin");
    cr_assert_eq(r->n_scopes, 2);
    cr_assert_str_eq(r->scopes[0], "admin");
    cr_assert_str_eq(r->scopes[1], "write");
    cr_assert_str_eq(r->route_key, "ANY /admin/{proxy+}");
}

Test(core_template, defaults_payload_version_and_integration_timeout)
{
    load(routes_template);
    const core_tpl_route *r = route(function("F"), "GetOrder");
    cr_assert_str_eq(r->payload_version, "2.0");
    cr_assert_eq(r->timeout_ms, 30000);
    cr_assert_eq(r->n_scopes, 0);
}

Test(core_template, reads_payload_version_and_integration_timeout)
{
    load(routes_template);
    const core_tpl_route *r = route(function("F"), "Admin");
    cr_assert_str_eq(r->payload_version, "1.0");
    cr_assert_eq(r->timeout_ms, 5000);
}

Test(core_template, makes_a_default_route_when_path_and_method_are_absent)
{
    load(routes_template);
    const core_tpl_route *r = route(function("F"), "Catch");
    cr_assert_str_eq(r->method, "ANY");
    cr_assert_str_eq(r->path, "$default");
    cr_assert_str_eq(r->route_key, "$default");
}

Test(core_template, ignores_events_that_are_not_http_api)
{
    load(routes_template);
    cr_assert_eq(function("F")->n_routes, 4);
}

Test(core_template, rejects_an_unknown_route_authorizer)
{
    refuse("Resources:\n  Api:\n    Type: AWS::Serverless::HttpApi\n" FUNCTION("F")
           "      Events:\n        E:\n          Type: HttpApi\n          Properties:\n"
           "            ApiId: !Ref Api\n            Path: /x\n            Method: GET\n"
           "            Auth: {Authorizer: Nope}\n",
           "Resources.F.Properties.Events.E.Properties.Auth.Authorizer: Api has no authorizer "
           "named Nope");
}

Test(core_template, rejects_an_unknown_route_method)
{
    refuse("Resources:\n" FUNCTION("F")
           "      Events:\n        E:\n          Type: HttpApi\n          Properties:\n"
           "            Path: /x\n            Method: fetch\n",
           "Resources.F.Properties.Events.E.Properties.Method: unknown method fetch");
}

Test(core_template, rejects_a_route_path_without_leading_slash)
{
    refuse("Resources:\n" FUNCTION("F")
           "      Events:\n        E:\n          Type: HttpApi\n          Properties:\n"
           "            Path: x\n            Method: GET\n",
           "Resources.F.Properties.Events.E.Properties.Path: must start with /");
}

Test(core_template, rejects_a_route_with_path_but_no_method)
{
    refuse("Resources:\n" FUNCTION("F")
           "      Events:\n        E:\n          Type: HttpApi\n          Properties:\n"
           "            Path: /x\n",
           "Resources.F.Properties.Events.E.Properties: Path and Method go together");
}

Test(core_template, rejects_a_route_on_an_unknown_api)
{
    refuse("Resources:\n" FUNCTION("F")
           "      Events:\n        E:\n          Type: HttpApi\n          Properties:\n"
           "            ApiId: nope\n            Path: /x\n            Method: GET\n",
           "Resources.F.Properties.Events.E.Properties.ApiId: no AWS::Serverless::HttpApi with "
           "id nope");
}

Test(core_template, rejects_an_event_without_type)
{
    refuse("Resources:\n" FUNCTION("F") "      Events:\n        E:\n          Properties: {}\n",
           "Resources.F.Properties.Events.E.Type: required");
}

Test(core_template, rejects_an_integration_timeout_above_30_seconds)
{
    refuse("Resources:\n" FUNCTION("F")
           "      Events:\n        E:\n          Type: HttpApi\n          Properties:\n"
           "            Path: /x\n            Method: GET\n            TimeoutInMillis: 30001\n",
           "Resources.F.Properties.Events.E.Properties.TimeoutInMillis: must be an integer in "
           "50..30000");
}

static const char implicit_api_template[] =
    "Resources:\n" FUNCTION("F")
    "      Events:\n"
    "        Hello:\n"
    "          Type: HttpApi\n"
    "          Properties:\n"
    "            Path: /hello\n"
    "            Method: post\n";

Test(core_template, attaches_a_route_without_api_id_to_the_implicit_api)
{
    load(implicit_api_template);
    const core_tpl_route *r = route(function("F"), "Hello");
    cr_assert_str_eq(r->api_logical_id, "ServerlessHttpApi");
    cr_assert_str_eq(r->route_key, "POST /hello");
    cr_assert_null(r->authorizer);
}

Test(core_template, creates_the_implicit_api_with_a_stable_id)
{
    load(implicit_api_template);
    cr_assert_eq(core_template_http_api_count(tpl), 1);
    const core_tpl_http_api *api = http_api("ServerlessHttpApi");
    cr_assert_null(api->resource);
    cr_assert_str_eq(api->stage, "$default");
    cr_assert_eq(strlen(api->id), 10, "api id %s", api->id);
    cr_assert(all_in(api->id, LOWER_ALNUM), "api id %s", api->id);
    cr_assert_eq(api->n_authorizers, 0);
    cr_assert_null(api->default_authorizer);
}

Test(core_template, creates_no_implicit_api_without_http_api_events)
{
    load("Resources:\n" FUNCTION("F"));
    cr_assert_eq(core_template_http_api_count(tpl), 0);
}

/* ---- typed views: HTTP APIs ----------------------------------------------- */

static const char http_api_template[] =
    "Parameters:\n  Stage: {Type: String, Default: v2}\n"
    "Resources:\n"
    "  Pool:\n    Type: AWS::Cognito::UserPool\n"
    "  Client:\n    Type: AWS::Cognito::UserPoolClient\n    Properties:\n"
    "      UserPoolId: !Ref Pool\n"
    "  Api:\n"
    "    Type: AWS::Serverless::HttpApi\n"
    "    Properties:\n"
    "      StageName: !Ref Stage\n"
    "      CorsConfiguration:\n"
    "        AllowOrigins: [!Sub 'https://${AWS::StackName}.test']\n"
    "      DefaultRouteSettings: {ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100.5}\n"
    "      Auth:\n"
    "        DefaultAuthorizer: Cognito\n"
    "        Authorizers:\n"
    "          Cognito:\n"
    "            JwtConfiguration:\n"
    "              issuer: !Sub 'https://cognito-idp.${AWS::Region}.amazonaws.com/${Pool}'\n"
    "              audience: [!Ref Client, other]\n"
    "          Header:\n"
    "            IdentitySource: $request.header.X-Token\n"
    "            JwtConfiguration:\n"
    "              issuer: https://other.test\n";

Test(core_template, resolves_the_http_api_stage_through_ref)
{
    load(http_api_template);
    cr_assert_str_eq(http_api("Api")->stage, "v2");
}

Test(core_template, reads_the_default_authorizer_of_an_http_api)
{
    load(http_api_template);
    const core_tpl_http_api *api = http_api("Api");
    cr_assert_str_eq(api->default_authorizer, "Cognito");
    cr_assert_eq(api->n_authorizers, 2);
    cr_assert_eq(api->resource, resource("Api"));
}

Test(core_template, resolves_the_jwt_issuer_through_sub)
{
    load(http_api_template);
    char expected[128];
    snprintf(expected, sizeof expected, "https://cognito-idp.us-east-1.amazonaws.com/%s",
             resource("Pool")->physical_id);
    const core_tpl_authorizer *a = &http_api("Api")->authorizers[0];
    cr_assert_str_eq(a->name, "Cognito");
    cr_assert_str_eq(a->issuer, expected);
}

Test(core_template, resolves_the_jwt_audience_through_ref)
{
    load(http_api_template);
    const core_tpl_authorizer *a = &http_api("Api")->authorizers[0];
    cr_assert_eq(a->n_audience, 2);
    cr_assert_str_eq(a->audience[0], resource("Client")->physical_id);
    cr_assert_str_eq(a->audience[1], "other");
}

Test(core_template, defaults_the_identity_source_to_the_authorization_header)
{
    load(http_api_template);
    cr_assert_str_eq(http_api("Api")->authorizers[0].identity_source,
                     "$request.header.Authorization");
    cr_assert_str_eq(http_api("Api")->authorizers[1].identity_source, "$request.header.X-Token");
    cr_assert_eq(http_api("Api")->authorizers[1].n_audience, 0);
}

Test(core_template, resolves_cors_and_throttling_of_an_http_api)
{
    load(http_api_template);
    const core_tpl_http_api *api = http_api("Api");
    cr_assert_str_eq(json(api->cors), "{\"AllowOrigins\":[\"https://shoplocal.test\"]}");
    cr_assert_eq(api->throttle_burst, 200);
    cr_assert_float_eq(api->throttle_rate, 100.5, 1e-9);
}

Test(core_template, defaults_an_http_api_without_properties)
{
    load("Resources:\n  Api:\n    Type: AWS::Serverless::HttpApi\n");
    const core_tpl_http_api *api = http_api("Api");
    cr_assert_str_eq(api->stage, "$default");
    cr_assert_null(api->cors);
    cr_assert_eq(api->throttle_burst, 0);
    cr_assert_eq(api->n_authorizers, 0);
}

Test(core_template, rejects_an_authorizer_without_issuer)
{
    refuse("Resources:\n  Api:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n"
           "      Auth:\n        Authorizers:\n          Jwt:\n"
           "            JwtConfiguration: {audience: [a]}\n",
           "Resources.Api.Properties.Auth.Authorizers.Jwt.JwtConfiguration.issuer: required");
}

Test(core_template, rejects_an_unknown_default_authorizer)
{
    refuse("Resources:\n  Api:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n"
           "      Auth:\n        DefaultAuthorizer: Nope\n",
           "Resources.Api.Properties.Auth.DefaultAuthorizer: no authorizer named Nope");
}

Test(core_template, rejects_an_audience_that_is_not_strings)
{
    refuse("Resources:\n  Api:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n"
           "      Auth:\n        Authorizers:\n          Jwt:\n"
           "            JwtConfiguration: {issuer: i, audience: [a, [b]]}\n",
           "Resources.Api.Properties.Auth.Authorizers.Jwt.JwtConfiguration.audience: strings only");
}

/* ---- typed views: tables -------------------------------------------------- */

static const char shop_table_template[] =
    "Resources:\n"
    "  Shop:\n"
    "    Type: AWS::DynamoDB::Table\n"
    "    Properties:\n"
    "      BillingMode: PAY_PER_REQUEST\n"
    "      AttributeDefinitions:\n"
    "        - {AttributeName: PK, AttributeType: S}\n"
    "        - {AttributeName: SK, AttributeType: S}\n"
    "        - {AttributeName: G1, AttributeType: S}\n"
    "      KeySchema:\n"
    "        - {AttributeName: PK, KeyType: HASH}\n"
    "        - {AttributeName: SK, KeyType: RANGE}\n"
    "      GlobalSecondaryIndexes:\n"
    "        - IndexName: GSI1\n"
    "          KeySchema: [{AttributeName: G1, KeyType: HASH}]\n"
    "          Projection: {ProjectionType: ALL}\n"
    "      TimeToLiveSpecification: {AttributeName: ttl, Enabled: true}\n";

Test(core_template, reads_hash_and_range_keys_of_a_table)
{
    load(shop_table_template);
    cr_assert_eq(core_template_table_count(tpl), 1);
    const core_tpl_table *t = core_template_table_at(tpl, 0);
    cr_assert_str_eq(t->hash_key, "PK");
    cr_assert_str_eq(t->range_key, "SK");
    cr_assert_str_eq(t->name, "shoplocal-Shop");
    cr_assert_eq(t->resource, resource("Shop"));
}

Test(core_template, reads_billing_mode_ttl_and_indexes_of_a_table)
{
    load(shop_table_template);
    const core_tpl_table *t = core_template_table_at(tpl, 0);
    cr_assert_str_eq(t->billing_mode, "PAY_PER_REQUEST");
    cr_assert_str_eq(t->ttl_attribute, "ttl");
    cr_assert_eq(cJSON_GetArraySize(t->attribute_definitions), 3);
    cr_assert_eq(cJSON_GetArraySize(t->global_indexes), 1);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t->global_indexes->child, "IndexName")->valuestring,
                     "GSI1");
    cr_assert_null(t->local_indexes);
}

Test(core_template, defaults_a_table_to_provisioned_without_ttl_or_range_key)
{
    load("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
         "      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n"
         "      KeySchema: [{AttributeName: id, KeyType: HASH}]\n"
         "      TimeToLiveSpecification: {AttributeName: ttl, Enabled: false}\n");
    const core_tpl_table *t = core_template_table_at(tpl, 0);
    cr_assert_str_eq(t->billing_mode, "PROVISIONED");
    cr_assert_null(t->range_key);
    cr_assert_null(t->ttl_attribute);
    cr_assert_null(t->global_indexes);
}

Test(core_template, rejects_a_table_without_hash_key)
{
    refuse("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
           "      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n",
           "Resources.T.Properties.KeySchema: a HASH key is required");
}

Test(core_template, rejects_a_table_with_two_hash_keys)
{
    refuse("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
           "      AttributeDefinitions: [{AttributeName: a, AttributeType: S}]\n"
           "      KeySchema: [{AttributeName: a, KeyType: HASH}, {AttributeName: b, KeyType: HASH}]\n",
           "Resources.T.Properties.KeySchema: one HASH and at most one RANGE key");
}

Test(core_template, rejects_a_table_key_without_key_type)
{
    refuse("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
           "      KeySchema: [{AttributeName: a}]\n",
           "Resources.T.Properties.KeySchema: each key needs AttributeName and KeyType");
}

Test(core_template, rejects_a_table_without_attribute_definitions)
{
    refuse("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
           "      KeySchema: [{AttributeName: a, KeyType: HASH}]\n",
           "Resources.T.Properties.AttributeDefinitions: required");
}

/* ---- typed views: state machines ------------------------------------------ */

static const char definition_uri_template[] =
    "Resources:\n" FUNCTION("Step")
    "  Saga:\n"
    "    Type: AWS::Serverless::StateMachine\n"
    "    Properties:\n"
    "      DefinitionUri: saga.asl.json\n"
    "      Type: EXPRESS\n"
    "      DefinitionSubstitutions:\n"
    "        StepArn: !GetAtt Step.Arn\n"
    "        Region: !Ref AWS::Region\n";

static void load_in_temp_dir(const char *yaml)
{
    int rc = core_template_load_string(yaml, strlen(yaml), temp_dir(), NULL, &tpl, &err);
    cr_assert_eq(rc, CORE_OK, "load failed: %s", err.message);
}

Test(core_template, resolves_definition_uri_against_the_base_dir)
{
    temp_file("saga.asl.json", "{}");
    load_in_temp_dir(definition_uri_template);
    cr_assert_eq(core_template_state_machine_count(tpl), 1);
    const core_tpl_state_machine *sm = core_template_state_machine_at(tpl, 0);
    char expected[256];
    snprintf(expected, sizeof expected, "%s/saga.asl.json", tmpdir);
    cr_assert_str_eq(sm->definition_path, expected);
    cr_assert_null(sm->definition);
    cr_assert_str_eq(sm->type, "EXPRESS");
    cr_assert_str_eq(sm->arn, resource("Saga")->arn);
}

Test(core_template, resolves_definition_substitutions)
{
    temp_file("saga.asl.json", "{}");
    load_in_temp_dir(definition_uri_template);
    const core_tpl_state_machine *sm = core_template_state_machine_at(tpl, 0);
    cr_assert_str_eq(json(sm->substitutions),
                     "{\"StepArn\":\"arn:aws:lambda:us-east-1:000000000000:function:shoplocal-Step\","
                     "\"Region\":\"us-east-1\"}");
}

Test(core_template, rejects_a_definition_uri_that_does_not_exist)
{
    const char *dir = temp_dir();
    int rc = core_template_load_string(definition_uri_template, strlen(definition_uri_template),
                                       dir, NULL, &tpl, &err);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_null(tpl);
    char expected[256];
    snprintf(expected, sizeof expected,
             "Resources.Saga.Properties.DefinitionUri: cannot read %s/saga.asl.json", dir);
    cr_assert_str_eq(err.message, expected);
}

Test(core_template, keeps_an_absolute_definition_uri)
{
    const char *path = temp_file("abs.json", "{}");
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "Resources:\n  Saga:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n"
             "      DefinitionUri: %s\n", path);
    load(yaml);
    cr_assert_str_eq(core_template_state_machine_at(tpl, 0)->definition_path, path);
}

Test(core_template, keeps_an_inline_definition_and_defaults_to_standard)
{
    load(state_machine_template);
    const core_tpl_state_machine *sm = core_template_state_machine_at(tpl, 0);
    cr_assert_null(sm->definition_path);
    cr_assert_str_eq(json(sm->definition),
                     "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"End\":true}}}");
    cr_assert_str_eq(sm->type, "STANDARD");
    cr_assert_null(sm->substitutions);
}

Test(core_template, rejects_a_state_machine_without_definition)
{
    refuse("Resources:\n  Saga:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n"
           "      Type: STANDARD\n",
           "Resources.Saga.Properties: one of DefinitionUri, Definition or DefinitionString is "
           "required");
}

/* ---- bad templates -------------------------------------------------------- */

Test(core_template, rejects_a_template_that_is_not_a_mapping)
{
    refuse("- a\n- b\n", "line 1: a template is a mapping");
}

Test(core_template, rejects_an_empty_document_as_not_a_mapping)
{
    refuse("---\n", "line 1: a template is a mapping");
}

Test(core_template, passes_yaml_errors_through_with_their_line)
{
    refuse("Resources:\n  A:\n    Type: !Bogus x\n", "line 3: unknown tag: !Bogus");
}

Test(core_template, rejects_a_template_without_resources)
{
    refuse("Parameters: {}\n", "Resources: a template needs at least one resource");
}

Test(core_template, rejects_an_empty_resources_mapping)
{
    refuse("Resources: {}\n", "Resources: a template needs at least one resource");
}

Test(core_template, rejects_a_resource_without_type)
{
    refuse("Resources:\n  A:\n    Properties: {}\n", "Resources.A.Type: required");
}

Test(core_template, rejects_a_resource_that_is_not_a_mapping)
{
    refuse("Resources:\n  A: AWS::SNS::Topic\n", "Resources.A.Type: required");
}

Test(core_template, rejects_a_logical_id_that_is_not_alphanumeric)
{
    refuse("Resources:\n  My-Topic:\n    Type: AWS::SNS::Topic\n",
           "Resources.My-Topic: logical ids are alphanumeric");
}

Test(core_template, rejects_properties_that_are_not_a_mapping)
{
    refuse("Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties: [1]\n",
           "Resources.A.Properties: must be a mapping");
}

Test(core_template, rejects_properties_that_evaluate_to_no_value)
{
    refuse("Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties: !Ref AWS::NoValue\n",
           "Resources.A.Properties: must be a mapping");
}

Test(core_template, frees_null_as_a_no_op)
{
    core_template_free(NULL);
}

/* ---- load_file and describe ----------------------------------------------- */

Test(core_template, loads_a_file_resolving_paths_against_its_folder)
{
    temp_file("machine.json", "{}");
    const char *path = temp_file("template.yaml",
                                 "Resources:\n  Saga:\n    Type: AWS::Serverless::StateMachine\n"
                                 "    Properties:\n      DefinitionUri: machine.json\n");
    int rc = core_template_load_file(path, NULL, &tpl, &err);
    cr_assert_eq(rc, CORE_OK, "load failed: %s", err.message);
    char expected[256];
    snprintf(expected, sizeof expected, "%s/machine.json", tmpdir);
    cr_assert_str_eq(core_template_state_machine_at(tpl, 0)->definition_path, expected);
}

Test(core_template, prefixes_load_file_errors_with_the_path)
{
    const char *path = temp_file("bad.yaml", "Parameters: {}\n");
    int rc = core_template_load_file(path, NULL, &tpl, &err);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_null(tpl);
    char expected[512];
    snprintf(expected, sizeof expected, "%s: Resources: a template needs at least one resource",
             path);
    cr_assert_str_eq(err.message, expected);
}

Test(core_template, rejects_loading_a_missing_file)
{
    int rc = core_template_load_file("does/not/exist.yaml", NULL, &tpl, &err);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_null(tpl);
    cr_assert_str_eq(err.message, "does/not/exist.yaml: No such file or directory");
}

Test(core_template, rejects_loading_a_directory)
{
    int rc = core_template_load_file(temp_dir(), NULL, &tpl, &err);
    cr_assert_eq(rc, CORE_ERROR);
    char expected[128];
    snprintf(expected, sizeof expected, "%s: not a regular file", tmpdir);
    cr_assert_str_eq(err.message, expected);
}

Test(core_template, describes_resources_routes_and_outputs)
{
    load(implicit_api_template);
    cJSON *d = core_template_describe(tpl);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "stackName")->valuestring, "shoplocal");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "accountId")->valuestring, "000000000000");
    cJSON *routes = cJSON_GetObjectItemCaseSensitive(d, "routes");
    cJSON *resources = cJSON_GetObjectItemCaseSensitive(d, "resources");
    char text[256];
    snprintf(text, sizeof text, "%s", json(routes));
    int nres = cJSON_GetArraySize(resources);
    cJSON_Delete(d);
    cr_assert_str_eq(text, "[{\"routeKey\":\"POST /hello\",\"function\":\"F\"}]");
    cr_assert_eq(nres, 1);
}

/* ---- the project's template.yaml ------------------------------------------ */

static void load_project_template(const core_template_opts *opts)
{
    int rc = core_template_load_file("template.yaml", opts, &tpl, &err);
    cr_assert_eq(rc, CORE_OK, "template.yaml: %s", err.message);
}

Test(core_template, loads_the_project_template_with_its_functions)
{
    load_project_template(NULL);
    cr_assert_geq(core_template_function_count(tpl), 8);
    cr_assert_not_null(core_template_function(tpl, "CheckoutFunction"));
    cr_assert_eq(function("ProcessPaymentFunction")->timeout_s, 30);
    cr_assert_eq(function("CartFunction")->memory_mb, 256);
}

Test(core_template, serves_get_products_without_authorizer_in_the_project_template)
{
    load_project_template(NULL);
    const core_tpl_route *r = route(function("ProductsFunction"), "ListProducts");
    cr_assert_str_eq(r->route_key, "GET /products");
    cr_assert_null(r->authorizer);
    cr_assert_str_eq(route(function("ProductsFunction"), "CreateProduct")->authorizer,
                     "CognitoAuthorizer");
}

Test(core_template, guards_every_cart_route_with_cognito_in_the_project_template)
{
    load_project_template(NULL);
    const core_tpl_function *f = function("CartFunction");
    cr_assert_eq(f->n_routes, 5);
    for (size_t i = 0; i < f->n_routes; i++) {
        cr_assert_not_null(f->routes[i].authorizer, "%s", f->routes[i].route_key);
        cr_assert_str_eq(f->routes[i].authorizer, "CognitoAuthorizer");
        cr_assert_str_eq(f->routes[i].api_logical_id, "HttpApi");
    }
}

Test(core_template, points_the_project_authorizer_at_the_user_pool_and_client)
{
    load_project_template(NULL);
    const core_tpl_http_api *api = http_api("HttpApi");
    cr_assert_eq(api->n_authorizers, 1);
    const core_tpl_authorizer *a = &api->authorizers[0];
    char expected[128];
    snprintf(expected, sizeof expected, "https://cognito-idp.us-east-1.amazonaws.com/%s",
             resource("UserPool")->physical_id);
    cr_assert_str_eq(a->issuer, expected);
    int found = 0;
    for (size_t i = 0; i < a->n_audience; i++)
        found |= !strcmp(a->audience[i], resource("UserPoolClient")->physical_id);
    cr_assert(found, "audience lacks the UserPoolClient id");
    cr_assert_str_eq(api->stage, "dev");
}

Test(core_template, keys_the_project_shop_table_on_pk_and_sk)
{
    load_project_template(NULL);
    const core_tpl_table *t = NULL;
    for (size_t i = 0; i < core_template_table_count(tpl); i++)
        if (!strcmp(core_template_table_at(tpl, i)->resource->logical_id, "ShopTable"))
            t = core_template_table_at(tpl, i);
    cr_assert_not_null(t);
    cr_assert_str_eq(t->hash_key, "PK");
    cr_assert_str_eq(t->range_key, "SK");
    cr_assert_str_eq(t->name, "shoplocal-shop");
    cr_assert_str_eq(t->billing_mode, "PAY_PER_REQUEST");
    cr_assert_str_eq(t->ttl_attribute, "ttl");
    cr_assert_eq(cJSON_GetArraySize(t->global_indexes), 2);
}

Test(core_template, resolves_the_project_saga_definition_and_substitutions)
{
    load_project_template(NULL);
    cr_assert_eq(core_template_state_machine_count(tpl), 1);
    const core_tpl_state_machine *sm = core_template_state_machine_at(tpl, 0);
    cr_assert_str_eq(sm->definition_path, "./state-machines/order-processing.asl.json");
    cr_assert_str_eq(sm->name, "shoplocal-order-processing");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(sm->substitutions, "FailOrderFunctionArn")
                         ->valuestring,
                     function("FailOrderFunction")->arn);
}

Test(core_template, merges_project_globals_into_function_environments)
{
    load_project_template(NULL);
    const cJSON *env = function("ProductsFunction")->environment;
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(env, "TABLE_NAME")->valuestring,
                     "shoplocal-shop");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(env, "LOG_LEVEL")->valuestring, "DEBUG");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(env, "ADMIN_GROUP")->valuestring, "Admins");
}

Test(core_template, leaves_out_project_alerting_without_an_alert_email)
{
    load_project_template(NULL);
    cr_assert_null(core_template_resource(tpl, "OpsAlertsTopic"));
    cr_assert_null(core_template_resource(tpl, "FailedOrdersAlarm"));
}

Test(core_template, creates_the_project_alerting_with_an_alert_email)
{
    char *params[] = {"AlertEmail=ops@example.com"};
    core_template_opts opts = {.params = params, .n_params = 1};
    load_project_template(&opts);
    cr_assert_not_null(core_template_resource(tpl, "OpsAlertsTopic"));
    cr_assert_not_null(core_template_resource(tpl, "FailedOrdersAlarm"));
}

Test(core_template, drops_the_project_web_acl_outside_us_east_1)
{
    core_template_opts opts = {.region = "eu-west-1"};
    load_project_template(&opts);
    cr_assert_null(core_template_resource(tpl, "WebAcl"));
    const cJSON *config = property("FrontendDistribution", "DistributionConfig");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(config, "WebACLId"));
}
