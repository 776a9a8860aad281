/*
 * dataflow.c — payload templates (Parameters, ResultSelector, ItemSelector):
 * a JSON value copied as written, except that every object key ending ".$",
 * at any depth (inside arrays too), loses the suffix and takes the value of
 * its string: a path against the input ("$..."), against the context object
 * ("$$..."), or an intrinsic call ("States.Format(...)").
 *
 * Errors are AWS's as its execution histories show them: a path that selects
 * nothing fails the state with States.Runtime (not ParameterPathFailure, which
 * the specification names but the service does not raise) and the cause
 * "The JSONPath '$.x' specified for the field 'x.$' could not be found in the
 * input '{"a":1}'" (the input as compact JSON). The interpreter prefixes
 * "An error occurred while executing the state 'S' (entered at the event id
 * #n). ". Intrinsic errors are sfn_intrinsic_eval's.
 *
 * Invariants: the template and the input are borrowed and never changed; the
 * recursion is bounded by SFN_JSON_MAX_DEPTH whatever tree it is given.
 */
#include "stepfunctions/lang.h"
#include "stepfunctions/lang_impl.h"

#include <stdlib.h>
#include <string.h>

#define RUNTIME "States.Runtime"

/* A node of the input, shared: an object or array becomes a reference to its
 * members (cJSON_Delete leaves them alone), a scalar a copy. */
static cJSON *shared_node(const cJSON *node)
{
    if (cJSON_IsObject(node))
        return cJSON_CreateObjectReference(node->child);
    if (cJSON_IsArray(node))
        return cJSON_CreateArrayReference(node->child);
    return cJSON_Duplicate(node, 1);
}

static int dynamic_value(const char *key, const cJSON *value, const cJSON *input,
                         const cJSON *context, int share, cJSON **out, core_err *err)
{
    *out = NULL;
    if (!cJSON_IsString(value))
        return core_err_set(err, 400, RUNTIME,
                            "The value for the field '%s' must be a valid JSONPath or a valid "
                            "intrinsic function call",
                            key);
    const char *text = value->valuestring;
    if (sfn_is_intrinsic(text))
        return sfn_intrinsic_eval_field(text, input, context, key, out, err);
    sfn_jpath *path = sfn_jpath_parse_cached(text, NULL);
    if (!path)
        return core_err_set(err, 400, RUNTIME,
                            "The value for the field '%s' must be a valid JSONPath or a valid "
                            "intrinsic function call",
                            key);
    /* a definite path that selects a node: that node, shared or copied, without
     * the evaluator's node list (sfn_jpath_eval's result for it) */
    const cJSON *node = sfn_jpath_lookup(path, input, context);
    if (node) {
        *out = share && !sfn_jpath_is_context(path) ? shared_node(node) : cJSON_Duplicate(node, 1);
        sfn_jpath_free(path);
        return *out ? CORE_OK : core_err_set(err, 500, RUNTIME, "out of memory");
    }
    core_err perr;
    int rc = sfn_jpath_eval(path, input, context, out, &perr);
    sfn_jpath_free(path);
    if (rc == CORE_OK)
        return CORE_OK;
    if (strstr(perr.message, "No results for path") == NULL) {
        /* a bound was hit: keep the evaluator's message */
        core_err_set(err, perr.status, perr.type, "%s", perr.message);
        return CORE_ERROR;
    }
    char *shown = sfn_json_text(input);
    core_err_set(err, 400, RUNTIME,
                 "The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'",
                 text, key, shown);
    free(shown);
    return CORE_ERROR;
}

static int template_copy(const cJSON *tmpl, const cJSON *input, const cJSON *context, int depth,
                         int share, cJSON **out, core_err *err);

static int template_object(const cJSON *tmpl, const cJSON *input, const cJSON *context, int depth,
                           int share, cJSON **out, core_err *err)
{
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return core_err_set(err, 500, RUNTIME, "out of memory");
    for (const cJSON *c = tmpl->child; c; c = c->next) {
        const char *key = c->string ? c->string : "";
        size_t klen = strlen(key);
        cJSON *value = NULL;
        char *name = NULL;
        int rc;
        if (klen > 2 && strcmp(key + klen - 2, ".$") == 0) {
            rc = dynamic_value(key, c, input, context, share, &value, err);
            name = strndup(key, klen - 2);
        } else {
            rc = template_copy(c, input, context, depth + 1, share, &value, err);
            name = strdup(key);
        }
        if (rc == CORE_OK && !name)
            rc = core_err_set(err, 500, RUNTIME, "out of memory");
        if (rc == CORE_OK) {
            /* "a" and "a.$" in one template: the later one wins, one key. */
            if (sfn_object_item(obj, name))
                cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
            /* the item takes name as its key (what cJSON_AddItemToObject does with a
             * copy of it): one allocation less per key */
            if (!(value->type & cJSON_StringIsConst))
                free(value->string);
            value->type &= ~cJSON_StringIsConst;
            value->string = name;
            name = NULL;
            if (!cJSON_AddItemToArray(obj, value))
                rc = core_err_set(err, 500, RUNTIME, "out of memory");
            else
                value = NULL;
        }
        free(name);
        cJSON_Delete(value);
        if (rc != CORE_OK) {
            cJSON_Delete(obj);
            return CORE_ERROR;
        }
    }
    *out = obj;
    return CORE_OK;
}

static int template_copy(const cJSON *tmpl, const cJSON *input, const cJSON *context, int depth,
                         int share, cJSON **out, core_err *err)
{
    *out = NULL;
    if (depth > SFN_JSON_MAX_DEPTH)
        return core_err_set(err, 400, RUNTIME, "The payload template is nested deeper than %d levels",
                            SFN_JSON_MAX_DEPTH);
    if (cJSON_IsObject(tmpl))
        return template_object(tmpl, input, context, depth, share, out, err);
    if (cJSON_IsArray(tmpl)) {
        cJSON *arr = cJSON_CreateArray();
        if (!arr)
            return core_err_set(err, 500, RUNTIME, "out of memory");
        for (const cJSON *c = tmpl->child; c; c = c->next) {
            cJSON *v = NULL;
            if (template_copy(c, input, context, depth + 1, share, &v, err) != CORE_OK) {
                cJSON_Delete(arr);
                return CORE_ERROR;
            }
            cJSON_AddItemToArray(arr, v);
        }
        *out = arr;
        return CORE_OK;
    }
    *out = cJSON_Duplicate(tmpl, 0);
    return *out ? CORE_OK : core_err_set(err, 500, RUNTIME, "out of memory");
}

int sfn_payload_template(const cJSON *tmpl, const cJSON *input, const cJSON *context,
                         cJSON **out, core_err *err)
{
    *out = NULL;
    if (!tmpl)
        return core_err_set(err, 400, RUNTIME, "No payload template");
    return template_copy(tmpl, input, context, 0, 0, out, err);
}

int sfn_payload_template_shared(const cJSON *tmpl, const cJSON *input, const cJSON *context,
                                cJSON **out, core_err *err)
{
    *out = NULL;
    if (!tmpl)
        return core_err_set(err, 400, RUNTIME, "No payload template");
    return template_copy(tmpl, input, context, 0, 1, out, err);
}

/* template_copy's errors without its result: what a template would fail with,
 * in the same order, building nothing but what an intrinsic or a non-definite
 * path has to compute to know. */
static int template_check(const cJSON *tmpl, const cJSON *input, const cJSON *context, int depth,
                          core_err *err)
{
    if (depth > SFN_JSON_MAX_DEPTH)
        return core_err_set(err, 400, RUNTIME, "The payload template is nested deeper than %d levels",
                            SFN_JSON_MAX_DEPTH);
    if (!cJSON_IsObject(tmpl) && !cJSON_IsArray(tmpl))
        return CORE_OK;
    for (const cJSON *c = tmpl->child; c; c = c->next) {
        const char *key = c->string ? c->string : "";
        size_t klen = strlen(key);
        if (!cJSON_IsObject(tmpl) || klen <= 2 || strcmp(key + klen - 2, ".$") != 0) {
            if (template_check(c, input, context, depth + 1, err) != CORE_OK)
                return CORE_ERROR;
            continue;
        }
        if (cJSON_IsString(c) && !sfn_is_intrinsic(c->valuestring)) {
            sfn_jpath *path = sfn_jpath_parse_cached(c->valuestring, NULL);
            const cJSON *node = path ? sfn_jpath_lookup(path, input, context) : NULL;
            sfn_jpath_free(path);
            if (node)
                continue;
        }
        cJSON *value = NULL;
        int rc = dynamic_value(key, c, input, context, 1, &value, err);
        cJSON_Delete(value);
        if (rc != CORE_OK)
            return CORE_ERROR;
    }
    return CORE_OK;
}

int sfn_payload_template_check(const cJSON *tmpl, const cJSON *input, const cJSON *context,
                               core_err *err)
{
    if (!tmpl)
        return core_err_set(err, 400, RUNTIME, "No payload template");
    return template_check(tmpl, input, context, 0, err);
}
