/*
 * lang.h — the data language of Amazon States Language (JSONPath query
 * language): paths, payload templates, intrinsic functions, Choice rules, and
 * definition validation. Pure functions of JSON trees: no SQLite, no HTTP, no
 * clock. The interpreter (asl_run.c) calls these in AWS's data-flow order:
 *
 *   InputPath -> Parameters -> (task) -> ResultSelector -> ResultPath -> OutputPath
 *
 * Errors: every function returns CORE_OK or CORE_ERROR and fills err with
 * err->type = the ASL error name the interpreter raises ("States.Runtime",
 * "States.ParameterPathFailure", "States.ResultPathMatchFailure",
 * "States.IntrinsicFailure", ...), err->message = the Cause text in AWS's
 * wording, err->status = 400. sfn_asl_validate instead fills type
 * "InvalidDefinition" for the API's error.
 *
 * Ownership: inputs are borrowed; *out is a new tree the caller owns
 * (cJSON_Delete). On error *out is NULL.
 */
#ifndef SFN_LANG_H
#define SFN_LANG_H

#include <cjson/cJSON.h>

#include "core/err.h"

/* Evaluate a path against root: "$", "$.a.b", "$['a b']", "$.a[0]", and, where
 * AWS allows JSONPath beyond reference paths (Parameters ".$" values,
 * ItemsPath), "$.a[*].b", "$..b", "$.a[0:2]", "$.a[?(@.x == 1)]". A path
 * beginning "$$" is evaluated against context instead (context may be NULL).
 * A path that selects nothing is CORE_ERROR (type "States.Runtime"; callers
 * re-type it, e.g. to States.ParameterPathFailure). */
int sfn_path_get(const cJSON *root, const cJSON *context, const char *path, cJSON **out,
                 core_err *err);

/* 1 if path is a valid Reference Path (only "$", dotted names, ['quoted'],
 * [index]; no wildcards, filters, slices or "..": what InputPath, OutputPath,
 * ResultPath, Choice Variable and *Path fields accept), else 0. */
int sfn_path_is_reference(const char *path);

/* 1 if path is any JSONPath the evaluator accepts, else 0. */
int sfn_path_is_valid(const char *path);

/* InputPath / OutputPath: field is the state's field as found in the
 * definition (NULL when absent: "$"; JSON null: {} as AWS does; a string: the
 * path's value). */
int sfn_filter_path(const cJSON *doc, const cJSON *context, const cJSON *field, cJSON **out,
                    core_err *err);

/* ResultPath: field NULL (absent) means "$" (the result replaces the input);
 * JSON null discards the result (output = copy of input); a reference path puts
 * result into a copy of input at that path, creating objects on the way.
 * result is borrowed. Fails with States.ResultPathMatchFailure when the path
 * cannot be applied (e.g. it crosses a non-object). */
int sfn_result_path(const cJSON *input, const cJSON *field, const cJSON *result, cJSON **out,
                    core_err *err);
/* sfn_result_path taking ownership of result (NULL: JSON null), freed on failure:
 * the interpreter's form, which spares a copy of each result. */
int sfn_result_path_take(const cJSON *input, const cJSON *field, cJSON *result, cJSON **out,
                         core_err *err);
/* sfn_result_path_take into *doc itself (owned by the caller): when the path
 * applies, *out is *doc changed in place and *doc becomes NULL (no copy of the
 * document); otherwise *doc is left as it was and *out is a copy, or the error. */
int sfn_result_path_into(cJSON **doc, const cJSON *field, cJSON *result, cJSON **out,
                         core_err *err);

/* Payload templates (Parameters, ResultSelector, ItemSelector, Catch-free):
 * copy tmpl, and for every key ending ".$" (at any depth) replace it by the key
 * without the suffix whose value is the path's value against input (or "$$..."
 * against context) or the intrinsic call's result. Fails with
 * States.ParameterPathFailure (path selects nothing) or States.IntrinsicFailure. */
int sfn_payload_template(const cJSON *tmpl, const cJSON *input, const cJSON *context,
                         cJSON **out, core_err *err);
/* sfn_payload_template whose ".$" values that select a node of input by a
 * plain path share it (a cJSON reference) instead of copying it: the result is
 * valid while input lives unchanged, and is only read (the interpreter's Task
 * parameters, which are printed or sent, never kept). */
int sfn_payload_template_shared(const cJSON *tmpl, const cJSON *input, const cJSON *context,
                                cJSON **out, core_err *err);

/* Whether sfn_payload_template would succeed, and its error if not, without
 * building its result: for a caller that would only drop it (a mocked task's
 * parameters that no history records and no integration receives). */
int sfn_payload_template_check(const cJSON *tmpl, const cJSON *input, const cJSON *context,
                               core_err *err);

/* A payload template compiled once (keys cut, paths parsed, repeated keys
 * resolved): evaluating it gives exactly sfn_payload_template's result (share:
 * sfn_payload_template_shared's) or error; sfn_template_check,
 * sfn_payload_template_check's. tmpl is borrowed for the compiled template's
 * life. NULL: out of memory (or tmpl NULL). */
typedef struct sfn_template sfn_template;
sfn_template *sfn_template_compile(const cJSON *tmpl);
void sfn_template_free(sfn_template *t);
int sfn_template_eval(const sfn_template *t, const cJSON *input, const cJSON *context, int share,
                      cJSON **out, core_err *err);
int sfn_template_check(const sfn_template *t, const cJSON *input, const cJSON *context,
                       core_err *err);

/* 1 if text looks like an intrinsic call ("States.Name(...)"), else 0. */
int sfn_is_intrinsic(const char *text);

/* Evaluate one intrinsic call, e.g. "States.Format('Hello {}', $.name)", with
 * arguments that are literals, paths (against input, or "$$" against context)
 * or nested calls. Errors: States.IntrinsicFailure with AWS's wording. */
int sfn_intrinsic_eval(const char *call, const cJSON *input, const cJSON *context, cJSON **out,
                       core_err *err);

/* One Choice rule (an element of Choices without its Next, or a nested rule of
 * And/Or/Not) against input: *matched is 1 or 0. A comparison whose Variable
 * selects nothing is CORE_ERROR (States.Runtime, AWS's message), except under
 * IsPresent. */
int sfn_choice_match(const cJSON *rule, const cJSON *input, const cJSON *context, int *matched,
                     core_err *err);

/* Validate a whole definition as CreateStateMachine does (StartAt, States,
 * every state's required and allowed fields per type, Next targets exist, no
 * unreachable states, terminal states, Retry/Catch shape and "States.ALL alone
 * and last", valid paths, Choice rule shapes, nested Parallel branches and Map
 * processors). On failure type "InvalidDefinition", status 400, and a message
 * in AWS's form naming the state, e.g.
 * "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Foo at /States/Bar/Next'". */
int sfn_asl_validate(const cJSON *definition, core_err *err);

#endif
