/*
 * asl_validate.c — definition validation as CreateStateMachine does it: the
 * schema of every state (required and allowed fields per type, field types,
 * paths, payload templates, intrinsic calls, Retry/Catch, Choice rules), then
 * the graph (transition targets exist, every state is reachable, the workflow
 * has a terminal state), recursively into Parallel branches and Map
 * processors (ItemProcessor or the older Iterator).
 *
 * Messages are AWS's, as its CreateStateMachine answers and
 * ValidateStateMachineDefinition diagnostics show them: each diagnostic is
 * "<CODE>: <message> at <location>", diagnostics are joined with ", ", and the
 * whole is wrapped as "Invalid State Machine Definition: '<...>'", e.g.
 *   MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next
 *   MISSING_TRANSITION_TARGET: State "pass2" is not reachable. at /States/pass2
 *   MISSING_END_STATE: Workflow has no terminal state at null
 *   SCHEMA_VALIDATION_FAILED: These fields are required: [Choices] at /States/C
 *   SCHEMA_VALIDATION_FAILED: Field 'TimeoutSeconds' is not supported at /States/P
 *   SCHEMA_VALIDATION_FAILED: The value for the field 'Message.$' must be a valid
 *     JSONPath or a valid intrinsic function call at /States/S/Parameters
 * A dangling target is always worded with 'Next', whatever the field (Default,
 * StartAt, Catch[i].Next). MISSING_END_STATE is checked for the top level
 * only and, when it fires, suppresses the unreachable-state report. Schema
 * errors are reported first; the graph is checked only when the schema holds.
 *
 * Only the JSONPath query language is supported: a definition that selects
 * JSONata is refused (the interpreter cannot run it). Bounds: definitions nest
 * (Parallel in Map in ...) at most SFN_DEFINITION_MAX_DEPTH deep; state lookup
 * is by binary search, so a definition with many states is checked in
 * O(n log n).
 */
#include "stepfunctions/lang.h"
#include "stepfunctions/lang_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA "SCHEMA_VALIDATION_FAILED"
#define TARGET "MISSING_TRANSITION_TARGET"
#define DIAG_MAX 8192
#define LOC_MAX 512

typedef struct diags {
    char text[DIAG_MAX];
    size_t len;
    int count;
} diags;

static void diag(diags *d, const char *code, const char *loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void diag(diags *d, const char *code, const char *loc, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->len < sizeof d->text) {
        int n = snprintf(d->text + d->len, sizeof d->text - d->len, "%s%s: %s at %s",
                         d->count ? ", " : "", code, msg, loc ? loc : "null");
        d->len += n > 0 ? (size_t)n : 0;
        if (d->len > sizeof d->text)
            d->len = sizeof d->text;
    }
    d->count++;
}

/* ---- locations ------------------------------------------------------------------- */

static void loc_join(char *out, const char *base, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void loc_join(char *out, const char *base, const char *fmt, ...)
{
    char tail[LOC_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tail, sizeof tail, fmt, ap);
    va_end(ap);
    snprintf(out, LOC_MAX, "%s%s", base, tail);
}

/* ---- field tables ------------------------------------------------------------------ */

typedef enum { ST_PASS, ST_TASK, ST_CHOICE, ST_WAIT, ST_SUCCEED, ST_FAIL, ST_PARALLEL, ST_MAP } state_type;

static const char *const TYPE_NAMES[] = {"Pass", "Task", "Choice", "Wait", "Succeed", "Fail",
                                         "Parallel", "Map"};

/* Fields each type accepts (besides Type, Comment, QueryLanguage). */
static const char *const FIELDS[][32] = {
    [ST_PASS] = {"Next", "End", "InputPath", "OutputPath", "Parameters", "Result", "ResultPath",
                 "Assign", NULL},
    [ST_TASK] = {"Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector",
                 "ResultPath", "Resource", "TimeoutSeconds", "TimeoutSecondsPath",
                 "HeartbeatSeconds", "HeartbeatSecondsPath", "Retry", "Catch", "Credentials",
                 "Assign", NULL},
    [ST_CHOICE] = {"Choices", "Default", "InputPath", "OutputPath", "Assign", NULL},
    [ST_WAIT] = {"Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp",
                 "TimestampPath", "Assign", NULL},
    [ST_SUCCEED] = {"InputPath", "OutputPath", NULL},
    [ST_FAIL] = {"Error", "ErrorPath", "Cause", "CausePath", NULL},
    [ST_PARALLEL] = {"Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector",
                     "ResultPath", "Branches", "Retry", "Catch", "Assign", NULL},
    [ST_MAP] = {"Next", "End", "InputPath", "OutputPath", "ItemsPath", "ItemSelector",
                "Parameters", "ResultSelector", "ResultPath", "Iterator", "ItemProcessor",
                "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailureCount",
                "ToleratedFailureCountPath", "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath", "ItemReader", "ItemBatcher", "ResultWriter",
                "Label", "Retry", "Catch", "Assign", NULL},
};

/* Fields of the JSONata query language, refused on a JSONPath state. */
static const char *const JSONATA_FIELDS[] = {"Output", "Arguments", "Items", NULL};

static int in_list(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

static const cJSON *get(const cJSON *obj, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

static int is_int(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9e15;
}

/* ---- containers (a state machine, a branch, a processor) ----------------------------- */

typedef struct entry {
    const char *name;
    const cJSON *state;
} entry;

typedef struct container {
    const cJSON *states;
    entry *e; /* sorted by name */
    size_t n;
} container;

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static int container_init(container *c, const cJSON *states)
{
    c->states = states;
    c->n = 0;
    c->e = NULL;
    size_t n = 0;
    for (const cJSON *s = states->child; s; s = s->next)
        n++;
    if (n == 0)
        return 0;
    c->e = malloc(n * sizeof *c->e);
    if (!c->e)
        return -1;
    for (const cJSON *s = states->child; s; s = s->next)
        c->e[c->n++] = (entry){s->string ? s->string : "", s};
    qsort(c->e, c->n, sizeof *c->e, entry_cmp);
    return 0;
}

static long container_find(const container *c, const char *name)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(c->e[mid].name, name);
        if (cmp == 0)
            return (long)mid;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* ---- schema checks --------------------------------------------------------------------- */

typedef struct validator {
    diags d;
    int oom;
} validator;

static void check_machine(validator *v, const cJSON *m, const char *loc, int depth, int top,
                          const char *kind);

static void check_path_field(validator *v, const cJSON *state, const char *field,
                             const char *sloc, int reference, int allow_null, int allow_intrinsic)
{
    const cJSON *f = get(state, field);
    char loc[LOC_MAX];
    if (!f)
        return;
    loc_join(loc, sloc, "/%s", field);
    if (allow_null && cJSON_IsNull(f))
        return;
    int ok = cJSON_IsString(f)
             && (reference ? sfn_path_is_reference(f->valuestring) : sfn_path_is_valid(f->valuestring));
    if (!ok && allow_intrinsic && cJSON_IsString(f) && sfn_is_intrinsic(f->valuestring))
        ok = sfn_intrinsic_is_valid(f->valuestring, NULL);
    if (!ok)
        diag(&v->d, SCHEMA, loc, "The value for the field '%s' must be a valid %s%s", field,
             reference ? "ReferencePath" : "JSONPath",
             allow_intrinsic ? " or a valid intrinsic function call" : "");
}

/* Every ".$" key of a payload template, at any depth. */
static void check_template(validator *v, const cJSON *t, const char *loc, int depth)
{
    if (depth > SFN_JSON_MAX_DEPTH)
        return;
    if (cJSON_IsArray(t)) {
        int i = 0;
        for (const cJSON *c = t->child; c; c = c->next, i++) {
            char sub[LOC_MAX];
            loc_join(sub, loc, "[%d]", i);
            check_template(v, c, sub, depth + 1);
        }
        return;
    }
    if (!cJSON_IsObject(t))
        return;
    for (const cJSON *c = t->child; c; c = c->next) {
        const char *k = c->string ? c->string : "";
        size_t kl = strlen(k);
        if (kl > 2 && strcmp(k + kl - 2, ".$") == 0) {
            int ok = cJSON_IsString(c)
                     && (sfn_is_intrinsic(c->valuestring) ? sfn_intrinsic_is_valid(c->valuestring, NULL)
                                                          : sfn_path_is_valid(c->valuestring));
            if (!ok)
                diag(&v->d, SCHEMA, loc,
                     "The value for the field '%s' must be a valid JSONPath or a valid intrinsic "
                     "function call",
                     k);
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            char sub[LOC_MAX];
            loc_join(sub, loc, "/%s", k);
            check_template(v, c, sub, depth + 1);
        }
    }
}

static void check_template_field(validator *v, const cJSON *state, const char *field,
                                 const char *sloc, int must_be_object)
{
    const cJSON *f = get(state, field);
    char loc[LOC_MAX];
    if (!f)
        return;
    loc_join(loc, sloc, "/%s", field);
    if (must_be_object && !cJSON_IsObject(f)) {
        diag(&v->d, SCHEMA, loc, "Expected value of type [OBJECT]");
        return;
    }
    check_template(v, f, loc, 0);
}

static void check_int_field(validator *v, const cJSON *state, const char *field, const char *sloc,
                            double min, double max)
{
    const cJSON *f = get(state, field);
    char loc[LOC_MAX];
    if (!f)
        return;
    loc_join(loc, sloc, "/%s", field);
    if (!is_int(f))
        diag(&v->d, SCHEMA, loc, "Expected value of type [INTEGER]");
    else if (f->valuedouble < min)
        diag(&v->d, SCHEMA, loc, "Minimum value is %.0f", min);
    else if (f->valuedouble > max)
        diag(&v->d, SCHEMA, loc, "Maximum value is %.0f", max);
}

static void check_exclusive(validator *v, const cJSON *state, const char *a, const char *b,
                            const char *sloc)
{
    if (get(state, a) && get(state, b))
        diag(&v->d, SCHEMA, sloc, "Only one of the fields [%s, %s] may be specified", a, b);
}

static void check_string_field(validator *v, const cJSON *state, const char *field, const char *sloc)
{
    const cJSON *f = get(state, field);
    char loc[LOC_MAX];
    if (f && !cJSON_IsString(f)) {
        loc_join(loc, sloc, "/%s", field);
        diag(&v->d, SCHEMA, loc, "Expected value of type [STRING]");
    }
}

/* Retry or Catch: an array of objects with ErrorEquals; States.ALL alone and last. */
static void check_handlers(validator *v, const cJSON *state, const char *field, const char *sloc)
{
    const cJSON *list = get(state, field);
    char loc[LOC_MAX];
    int is_catch = strcmp(field, "Catch") == 0;
    static const char *const RETRY_FIELDS[] = {"ErrorEquals", "IntervalSeconds", "MaxAttempts",
                                               "BackoffRate", "MaxDelaySeconds", "JitterStrategy",
                                               "Comment", NULL};
    static const char *const CATCH_FIELDS[] = {"ErrorEquals", "Next", "ResultPath", "Comment",
                                               "Assign", NULL};
    if (!list)
        return;
    loc_join(loc, sloc, "/%s", field);
    if (!cJSON_IsArray(list)) {
        diag(&v->d, SCHEMA, loc, "Expected value of type [ARRAY]");
        return;
    }
    int i = 0, n = cJSON_GetArraySize(list);
    for (const cJSON *h = list->child; h; h = h->next, i++) {
        char hloc[LOC_MAX];
        loc_join(hloc, sloc, "/%s[%d]", field, i);
        if (!cJSON_IsObject(h)) {
            diag(&v->d, SCHEMA, hloc, "Expected value of type [OBJECT]");
            continue;
        }
        for (const cJSON *f = h->child; f; f = f->next) {
            const char *k = f->string ? f->string : "";
            if (!in_list(is_catch ? CATCH_FIELDS : RETRY_FIELDS, k))
                diag(&v->d, SCHEMA, hloc, "Field '%s' is not supported", k);
        }
        const cJSON *ee = get(h, "ErrorEquals");
        if (!ee || (is_catch && !get(h, "Next"))) {
            diag(&v->d, SCHEMA, hloc, "These fields are required: [%s]",
                 !ee && is_catch && !get(h, "Next") ? "ErrorEquals, Next" : !ee ? "ErrorEquals" : "Next");
        }
        if (ee) {
            char eloc[LOC_MAX];
            loc_join(eloc, hloc, "/ErrorEquals");
            if (!cJSON_IsArray(ee) || cJSON_GetArraySize(ee) == 0) {
                diag(&v->d, SCHEMA, eloc, "ErrorEquals must be a non-empty array of error names");
            } else {
                int has_all = 0, bad = 0;
                for (const cJSON *e = ee->child; e; e = e->next) {
                    if (!cJSON_IsString(e))
                        bad = 1;
                    else if (strcmp(e->valuestring, "States.ALL") == 0)
                        has_all = 1;
                }
                if (bad)
                    diag(&v->d, SCHEMA, eloc, "Expected value of type [STRING]");
                if (has_all && (cJSON_GetArraySize(ee) > 1 || i != n - 1))
                    diag(&v->d, SCHEMA, eloc,
                         "States.ALL must appear alone in ErrorEquals and in the last %s",
                         is_catch ? "Catcher" : "Retrier");
            }
        }
        if (is_catch) {
            check_string_field(v, h, "Next", hloc);
            check_path_field(v, h, "ResultPath", hloc, 1, 1, 0);
        } else {
            check_int_field(v, h, "IntervalSeconds", hloc, 1, 99999999);
            check_int_field(v, h, "MaxAttempts", hloc, 0, 99999999);
            check_int_field(v, h, "MaxDelaySeconds", hloc, 1, 31622400);
            const cJSON *br = get(h, "BackoffRate");
            if (br) {
                char bloc[LOC_MAX];
                loc_join(bloc, hloc, "/BackoffRate");
                if (!cJSON_IsNumber(br))
                    diag(&v->d, SCHEMA, bloc, "Expected value of type [NUMBER]");
                else if (br->valuedouble < 1.0)
                    diag(&v->d, SCHEMA, bloc, "Minimum value is 1.0");
            }
            const cJSON *js = get(h, "JitterStrategy");
            if (js && !(cJSON_IsString(js) && (strcmp(js->valuestring, "FULL") == 0
                                              || strcmp(js->valuestring, "NONE") == 0))) {
                char jloc[LOC_MAX];
                loc_join(jloc, hloc, "/JitterStrategy");
                diag(&v->d, SCHEMA, jloc, "Value should be one of the following: [FULL, NONE]");
            }
        }
    }
}

static void check_next_end(validator *v, const cJSON *state, state_type t, const char *sloc)
{
    const cJSON *next = get(state, "Next"), *end = get(state, "End");
    if (t == ST_CHOICE || t == ST_SUCCEED || t == ST_FAIL)
        return; /* refused as unsupported fields */
    char loc[LOC_MAX];
    if (end && !cJSON_IsBool(end)) {
        loc_join(loc, sloc, "/End");
        diag(&v->d, SCHEMA, loc, "Expected value of type [BOOLEAN]");
        return;
    }
    if (next && !cJSON_IsString(next)) {
        loc_join(loc, sloc, "/Next");
        diag(&v->d, SCHEMA, loc, "Expected value of type [STRING]");
        return;
    }
    int is_end = end && cJSON_IsTrue(end);
    if (next && is_end)
        diag(&v->d, SCHEMA, sloc, "Only one of the fields [Next, End] may be specified");
    else if (!next && !is_end)
        diag(&v->d, SCHEMA, sloc, "Exactly one of the fields [Next, End] is required");
}

static void check_state(validator *v, const char *name, const cJSON *state, const char *cloc,
                        int depth)
{
    char sloc[LOC_MAX], loc[LOC_MAX];
    loc_join(sloc, cloc, "/States/%s", name);
    if (!cJSON_IsObject(state)) {
        diag(&v->d, SCHEMA, sloc, "Expected value of type [OBJECT]");
        return;
    }
    if (strlen(name) > 80)
        diag(&v->d, SCHEMA, sloc, "State name must be at most 80 characters long");
    const cJSON *type = get(state, "Type");
    if (!type) {
        diag(&v->d, SCHEMA, sloc, "These fields are required: [Type]");
        return;
    }
    int t = -1;
    for (int i = 0; cJSON_IsString(type) && i < 8; i++)
        if (strcmp(type->valuestring, TYPE_NAMES[i]) == 0)
            t = i;
    if (t < 0) {
        loc_join(loc, sloc, "/Type");
        diag(&v->d, SCHEMA, loc,
             "Value should be one of the following: [Task, Pass, Choice, Wait, Succeed, Fail, "
             "Parallel, Map]");
        return;
    }
    const cJSON *ql = get(state, "QueryLanguage");
    if (ql) {
        loc_join(loc, sloc, "/QueryLanguage");
        if (!cJSON_IsString(ql))
            diag(&v->d, SCHEMA, loc, "Expected value of type [STRING]");
        else if (strcmp(ql->valuestring, "JSONPath") != 0)
            diag(&v->d, SCHEMA, loc, "%s",
                 strcmp(ql->valuestring, "JSONata") == 0
                     ? "The JSONata query language is not supported by this emulator"
                     : "Value should be one of the following: [JSONPath, JSONata]");
    }
    for (const cJSON *f = state->child; f; f = f->next) {
        const char *k = f->string ? f->string : "";
        if (strcmp(k, "Type") == 0 || strcmp(k, "Comment") == 0 || strcmp(k, "QueryLanguage") == 0)
            continue;
        if (in_list(JSONATA_FIELDS, k))
            diag(&v->d, SCHEMA, sloc,
                 "The QueryLanguage is set to 'JSONPath', but field '%s' is only supported for "
                 "the 'JSONata' QueryLanguage",
                 k);
        else if (!in_list(FIELDS[t], k))
            diag(&v->d, SCHEMA, sloc, "Field '%s' is not supported", k);
    }
    check_string_field(v, state, "Comment", sloc);
    check_next_end(v, state, (state_type)t, sloc);
    check_path_field(v, state, "InputPath", sloc, 0, 1, 0);
    check_path_field(v, state, "OutputPath", sloc, 0, 1, 0);
    check_path_field(v, state, "ResultPath", sloc, 1, 1, 0);
    check_template_field(v, state, "Parameters", sloc, t != ST_PASS);
    check_template_field(v, state, "ResultSelector", sloc, 1);
    check_template_field(v, state, "ItemSelector", sloc, 1);
    check_handlers(v, state, "Retry", sloc);
    check_handlers(v, state, "Catch", sloc);

    switch ((state_type)t) {
    case ST_TASK: {
        const cJSON *r = get(state, "Resource");
        loc_join(loc, sloc, "/Resource");
        if (!r)
            diag(&v->d, SCHEMA, sloc, "These fields are required: [Resource]");
        else if (!cJSON_IsString(r) || strncmp(r->valuestring, "arn:", 4) != 0)
            diag(&v->d, SCHEMA, loc, "Value is not a valid resource ARN");
        check_exclusive(v, state, "TimeoutSeconds", "TimeoutSecondsPath", sloc);
        check_exclusive(v, state, "HeartbeatSeconds", "HeartbeatSecondsPath", sloc);
        check_int_field(v, state, "TimeoutSeconds", sloc, 1, 99999999);
        check_int_field(v, state, "HeartbeatSeconds", sloc, 1, 99999999);
        check_path_field(v, state, "TimeoutSecondsPath", sloc, 1, 0, 0);
        check_path_field(v, state, "HeartbeatSecondsPath", sloc, 1, 0, 0);
        const cJSON *ts = get(state, "TimeoutSeconds"), *hb = get(state, "HeartbeatSeconds");
        if (is_int(ts) && is_int(hb) && hb->valuedouble >= ts->valuedouble) {
            loc_join(loc, sloc, "/HeartbeatSeconds");
            diag(&v->d, SCHEMA, loc, "HeartbeatSeconds must be smaller than TimeoutSeconds");
        }
        break;
    }
    case ST_CHOICE: {
        const cJSON *choices = get(state, "Choices");
        check_string_field(v, state, "Default", sloc);
        if (!choices) {
            diag(&v->d, SCHEMA, sloc, "These fields are required: [Choices]");
            break;
        }
        loc_join(loc, sloc, "/Choices");
        if (!cJSON_IsArray(choices) || cJSON_GetArraySize(choices) == 0) {
            diag(&v->d, SCHEMA, loc, "Choices must be a non-empty array of Choice rules");
            break;
        }
        int i = 0;
        for (const cJSON *c = choices->child; c; c = c->next, i++) {
            char why[256];
            if (sfn_choice_rule_check(c, 1, why, sizeof why) == 0)
                continue;
            loc_join(loc, sloc, "/Choices[%d]", i);
            diag(&v->d, SCHEMA, loc, "%s", why);
        }
        break;
    }
    case ST_WAIT: {
        static const char *const W[] = {"Seconds", "SecondsPath", "Timestamp", "TimestampPath"};
        int count = 0;
        for (int i = 0; i < 4; i++)
            count += get(state, W[i]) != NULL;
        if (count != 1)
            diag(&v->d, SCHEMA, sloc,
                 "Exactly one of the fields [Seconds, SecondsPath, Timestamp, TimestampPath] is required");
        check_int_field(v, state, "Seconds", sloc, 0, 99999999);
        check_path_field(v, state, "SecondsPath", sloc, 1, 0, 0);
        check_path_field(v, state, "TimestampPath", sloc, 1, 0, 0);
        const cJSON *ts = get(state, "Timestamp");
        long long s;
        long ns;
        if (ts && !(cJSON_IsString(ts) && sfn_timestamp_parse(ts->valuestring, &s, &ns))) {
            loc_join(loc, sloc, "/Timestamp");
            diag(&v->d, SCHEMA, loc, "Value is not a valid timestamp");
        }
        break;
    }
    case ST_FAIL:
        check_exclusive(v, state, "Error", "ErrorPath", sloc);
        check_exclusive(v, state, "Cause", "CausePath", sloc);
        check_string_field(v, state, "Error", sloc);
        check_string_field(v, state, "Cause", sloc);
        check_path_field(v, state, "ErrorPath", sloc, 1, 0, 1);
        check_path_field(v, state, "CausePath", sloc, 1, 0, 1);
        break;
    case ST_PARALLEL: {
        const cJSON *branches = get(state, "Branches");
        if (!branches) {
            diag(&v->d, SCHEMA, sloc, "These fields are required: [Branches]");
            break;
        }
        loc_join(loc, sloc, "/Branches");
        if (!cJSON_IsArray(branches) || cJSON_GetArraySize(branches) == 0) {
            diag(&v->d, SCHEMA, loc, "Branches must be a non-empty array of state machines");
            break;
        }
        int i = 0;
        for (const cJSON *b = branches->child; b; b = b->next, i++) {
            loc_join(loc, sloc, "/Branches[%d]", i);
            check_machine(v, b, loc, depth + 1, 0, "branch");
        }
        break;
    }
    case ST_MAP: {
        const cJSON *ip = get(state, "ItemProcessor"), *it = get(state, "Iterator");
        if (ip && it)
            diag(&v->d, SCHEMA, sloc, "Only one of the fields [ItemProcessor, Iterator] may be specified");
        else if (!ip && !it)
            diag(&v->d, SCHEMA, sloc, "These fields are required: [ItemProcessor]");
        if (ip || it) {
            loc_join(loc, sloc, "/%s", ip ? "ItemProcessor" : "Iterator");
            check_machine(v, ip ? ip : it, loc, depth + 1, 0, ip ? "processor" : "iterator");
        }
        if (get(state, "ItemSelector") && get(state, "Parameters"))
            diag(&v->d, SCHEMA, sloc, "Only one of the fields [ItemSelector, Parameters] may be specified");
        check_path_field(v, state, "ItemsPath", sloc, 1, 0, 0);
        check_exclusive(v, state, "MaxConcurrency", "MaxConcurrencyPath", sloc);
        check_int_field(v, state, "MaxConcurrency", sloc, 0, 99999999);
        check_path_field(v, state, "MaxConcurrencyPath", sloc, 1, 0, 0);
        check_exclusive(v, state, "ToleratedFailureCount", "ToleratedFailureCountPath", sloc);
        check_exclusive(v, state, "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", sloc);
        check_int_field(v, state, "ToleratedFailureCount", sloc, 0, 99999999);
        check_path_field(v, state, "ToleratedFailureCountPath", sloc, 1, 0, 0);
        check_path_field(v, state, "ToleratedFailurePercentagePath", sloc, 1, 0, 0);
        const cJSON *tp = get(state, "ToleratedFailurePercentage");
        if (tp && !(cJSON_IsNumber(tp) && tp->valuedouble >= 0 && tp->valuedouble <= 100)) {
            loc_join(loc, sloc, "/ToleratedFailurePercentage");
            diag(&v->d, SCHEMA, loc, "Value must be a number between 0 and 100");
        }
        break;
    }
    case ST_PASS:
    case ST_SUCCEED:
        break;
    }
}

/* ---- graph ------------------------------------------------------------------------------- */

typedef struct walk {
    const container *c;
    unsigned char *seen; /* by sorted index */
    long *queue;
    size_t head, tail;
} walk;

static void visit(walk *w, const char *name)
{
    long i = container_find(w->c, name);
    if (i >= 0 && !w->seen[i]) {
        w->seen[i] = 1;
        w->queue[w->tail++] = i;
    }
}

/* A target that names no state: a diagnostic, always worded 'Next'. */
static void target(validator *v, const container *c, const cJSON *t, const char *loc)
{
    if (cJSON_IsString(t) && container_find(c, t->valuestring) < 0)
        diag(&v->d, TARGET, loc, "Missing 'Next' target: %s", t->valuestring);
}

static void check_graph(validator *v, const cJSON *m, const container *c, const char *cloc, int top)
{
    const cJSON *start = get(m, "StartAt");
    char loc[LOC_MAX];
    loc_join(loc, cloc, "/StartAt");
    target(v, c, start, loc);
    int terminal = 0;
    for (const cJSON *s = c->states->child; s; s = s->next) {
        char sloc[LOC_MAX];
        loc_join(sloc, cloc, "/States/%s", s->string ? s->string : "");
        const cJSON *type = get(s, "Type");
        const char *tn = cJSON_IsString(type) ? type->valuestring : "";
        if (cJSON_IsTrue(get(s, "End")) || strcmp(tn, "Succeed") == 0 || strcmp(tn, "Fail") == 0)
            terminal = 1;
        loc_join(loc, sloc, "/Next");
        target(v, c, get(s, "Next"), loc);
        loc_join(loc, sloc, "/Default");
        target(v, c, get(s, "Default"), loc);
        const cJSON *choices = get(s, "Choices");
        int i = 0;
        for (const cJSON *r = cJSON_IsArray(choices) ? choices->child : NULL; r; r = r->next, i++) {
            loc_join(loc, sloc, "/Choices[%d]/Next", i);
            target(v, c, get(r, "Next"), loc);
        }
        const cJSON *catches = get(s, "Catch");
        i = 0;
        for (const cJSON *h = cJSON_IsArray(catches) ? catches->child : NULL; h; h = h->next, i++) {
            loc_join(loc, sloc, "/Catch[%d]/Next", i);
            target(v, c, get(h, "Next"), loc);
        }
    }
    if (top && !terminal) {
        diag(&v->d, "MISSING_END_STATE", NULL, "Workflow has no terminal state");
        return;
    }
    walk w = {.c = c};
    w.seen = calloc(c->n ? c->n : 1, 1);
    w.queue = malloc((c->n ? c->n : 1) * sizeof *w.queue);
    if (!w.seen || !w.queue) {
        free(w.seen);
        free(w.queue);
        v->oom = 1;
        return;
    }
    if (cJSON_IsString(start))
        visit(&w, start->valuestring);
    while (w.head < w.tail) {
        const cJSON *s = c->e[w.queue[w.head++]].state;
        const cJSON *t = get(s, "Next");
        if (cJSON_IsString(t))
            visit(&w, t->valuestring);
        t = get(s, "Default");
        if (cJSON_IsString(t))
            visit(&w, t->valuestring);
        const cJSON *list = get(s, "Choices");
        for (const cJSON *r = cJSON_IsArray(list) ? list->child : NULL; r; r = r->next)
            if (cJSON_IsString(get(r, "Next")))
                visit(&w, get(r, "Next")->valuestring);
        list = get(s, "Catch");
        for (const cJSON *h = cJSON_IsArray(list) ? list->child : NULL; h; h = h->next)
            if (cJSON_IsString(get(h, "Next")))
                visit(&w, get(h, "Next")->valuestring);
    }
    for (const cJSON *s = c->states->child; s; s = s->next) {
        long i = container_find(c, s->string ? s->string : "");
        if (i >= 0 && !w.seen[i]) {
            char sloc[LOC_MAX];
            loc_join(sloc, cloc, "/States/%s", s->string);
            diag(&v->d, TARGET, sloc, "State \"%s\" is not reachable.", s->string);
        }
    }
    free(w.seen);
    free(w.queue);
}

/* Graph checks run per container after the whole schema holds, so they are a
 * second walk over the same nesting. */
static void graph_machine(validator *v, const cJSON *m, const char *cloc, int depth, int top)
{
    const cJSON *states = get(m, "States");
    container c;
    if (depth > SFN_DEFINITION_MAX_DEPTH || !cJSON_IsObject(states))
        return;
    if (container_init(&c, states)) {
        v->oom = 1;
        return;
    }
    check_graph(v, m, &c, cloc, top);
    free(c.e);
    for (const cJSON *s = states->child; s; s = s->next) {
        char sloc[LOC_MAX], loc[LOC_MAX];
        loc_join(sloc, cloc, "/States/%s", s->string ? s->string : "");
        const cJSON *branches = get(s, "Branches");
        int i = 0;
        for (const cJSON *b = cJSON_IsArray(branches) ? branches->child : NULL; b; b = b->next, i++) {
            loc_join(loc, sloc, "/Branches[%d]", i);
            graph_machine(v, b, loc, depth + 1, 0);
        }
        const cJSON *ip = get(s, "ItemProcessor");
        const cJSON *proc = ip ? ip : get(s, "Iterator");
        if (cJSON_IsObject(proc)) {
            loc_join(loc, sloc, "/%s", ip ? "ItemProcessor" : "Iterator");
            graph_machine(v, proc, loc, depth + 1, 0);
        }
    }
}

static void check_machine(validator *v, const cJSON *m, const char *loc, int depth, int top,
                          const char *kind)
{
    static const char *const TOP_FIELDS[] = {"Comment", "StartAt", "States", "TimeoutSeconds",
                                             "Version", "QueryLanguage", NULL};
    static const char *const NESTED_FIELDS[] = {"Comment", "StartAt", "States", "ProcessorConfig", NULL};
    const char *at = loc[0] ? loc : "/";
    if (depth > SFN_DEFINITION_MAX_DEPTH) {
        diag(&v->d, SCHEMA, at, "The definition is nested deeper than %d levels", SFN_DEFINITION_MAX_DEPTH);
        return;
    }
    if (!cJSON_IsObject(m)) {
        diag(&v->d, SCHEMA, at, "Expected value of type [OBJECT]");
        return;
    }
    for (const cJSON *f = m->child; f; f = f->next) {
        const char *k = f->string ? f->string : "";
        int ok = top ? in_list(TOP_FIELDS, k)
                     : in_list(NESTED_FIELDS, k) && (strcmp(k, "ProcessorConfig") != 0 || strcmp(kind, "processor") == 0);
        if (!ok)
            diag(&v->d, SCHEMA, at, "Field '%s' is not supported", k);
    }
    if (top) {
        const cJSON *ql = get(m, "QueryLanguage");
        if (ql && !cJSON_IsString(ql))
            diag(&v->d, SCHEMA, "/QueryLanguage", "Expected value of type [STRING]");
        else if (ql && strcmp(ql->valuestring, "JSONPath") != 0)
            diag(&v->d, SCHEMA, "/QueryLanguage", "%s",
                 strcmp(ql->valuestring, "JSONata") == 0
                     ? "The JSONata query language is not supported by this emulator"
                     : "Value should be one of the following: [JSONPath, JSONata]");
        check_int_field(v, m, "TimeoutSeconds", "", 1, 99999999);
        check_string_field(v, m, "Version", "");
    }
    const cJSON *start = get(m, "StartAt"), *states = get(m, "States");
    if (!start || !states) {
        diag(&v->d, SCHEMA, at, "These fields are required: [%s]",
             !start && !states ? "StartAt, States" : !start ? "StartAt" : "States");
        return;
    }
    char sub[LOC_MAX];
    if (!cJSON_IsString(start)) {
        loc_join(sub, loc, "/StartAt");
        diag(&v->d, SCHEMA, sub, "Expected value of type [STRING]");
    }
    if (!cJSON_IsObject(states)) {
        loc_join(sub, loc, "/States");
        diag(&v->d, SCHEMA, sub, "Expected value of type [OBJECT]");
        return;
    }
    container c;
    if (container_init(&c, states)) {
        v->oom = 1;
        return;
    }
    for (size_t i = 0; i + 1 < c.n; i++)
        if (strcmp(c.e[i].name, c.e[i + 1].name) == 0 && (i == 0 || strcmp(c.e[i - 1].name, c.e[i].name) != 0)) {
            loc_join(sub, loc, "/States/%s", c.e[i].name);
            diag(&v->d, "DUPLICATE_STATE_NAME", sub, "Duplicate State name: %s", c.e[i].name);
        }
    free(c.e);
    for (const cJSON *s = states->child; s; s = s->next)
        check_state(v, s->string ? s->string : "", s, loc, depth);
}

int sfn_asl_validate(const cJSON *definition, core_err *err)
{
    validator *v = calloc(1, sizeof *v);
    if (!v)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    check_machine(v, definition, "", 0, 1, "machine");
    if (v->d.count == 0 && !v->oom)
        graph_machine(v, definition, "", 0, 1);
    int rc = CORE_OK;
    if (v->oom)
        rc = core_err_set(err, 500, "InternalFailure", "out of memory");
    else if (v->d.count)
        rc = core_err_set(err, 400, "InvalidDefinition", "Invalid State Machine Definition: '%s'",
                          v->d.text);
    free(v);
    return rc;
}
