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
            if (cJSON_GetObjectItemCaseSensitive(obj, name))
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

/* ---- compiled templates ------------------------------------------------------- */

/* A template compiled once per cached definition: each member's output key cut
 * from its ".$" once, each plain path parsed once, and repeated keys resolved
 * ahead (a member that a later one of the same key replaces is still evaluated
 * — its error still fails the state — but dropped). Evaluating it is
 * template_copy, member for member, error for error. */
typedef struct tmpl_member {
    const char *key;       /* as written (with ".$"), for messages */
    char *name;            /* the output key */
    const cJSON *value;    /* the template's value node */
    int dynamic, shadowed;
    sfn_jpath *path;       /* dynamic, a plain path that parses; else dynamic_value decides */
    sfn_template *sub;     /* not dynamic: the value, compiled */
} tmpl_member;

struct sfn_template {
    const cJSON *src;
    int depth;
    int kind; /* 0 scalar, 1 object, 2 array, 3 nested too deep */
    size_t n;
    tmpl_member *m;
};

static sfn_template *compile_at(const cJSON *tmpl, int depth)
{
    sfn_template *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->src = tmpl;
    t->depth = depth;
    if (depth > SFN_JSON_MAX_DEPTH) {
        t->kind = 3;
        return t;
    }
    t->kind = cJSON_IsObject(tmpl) ? 1 : cJSON_IsArray(tmpl) ? 2 : 0;
    if (!t->kind)
        return t;
    size_t n = 0;
    for (const cJSON *c = tmpl->child; c; c = c->next)
        n++;
    if (!(t->m = calloc(n + 1, sizeof *t->m))) {
        free(t);
        return NULL;
    }
    for (const cJSON *c = tmpl->child; c; c = c->next) {
        tmpl_member *m = &t->m[t->n++];
        m->key = c->string ? c->string : "";
        m->value = c;
        size_t klen = strlen(m->key);
        m->dynamic = t->kind == 1 && klen > 2 && !strcmp(m->key + klen - 2, ".$");
        if (t->kind == 1 && !(m->name = m->dynamic ? strndup(m->key, klen - 2) : strdup(m->key)))
            goto oom;
        if (m->dynamic && cJSON_IsString(c) && !sfn_is_intrinsic(c->valuestring))
            m->path = sfn_jpath_parse_cached(c->valuestring, NULL);
        if (!m->dynamic && !(m->sub = compile_at(c, depth + 1)))
            goto oom;
    }
    for (size_t i = 0; t->kind == 1 && i < t->n; i++)
        for (size_t j = i + 1; j < t->n && !t->m[i].shadowed; j++)
            t->m[i].shadowed = !strcmp(t->m[i].name, t->m[j].name);
    return t;
oom:
    sfn_template_free(t);
    return NULL;
}

sfn_template *sfn_template_compile(const cJSON *tmpl)
{
    return tmpl ? compile_at(tmpl, 0) : NULL;
}

void sfn_template_free(sfn_template *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->m[i].name);
        sfn_jpath_free(t->m[i].path);
        sfn_template_free(t->m[i].sub);
    }
    free(t->m);
    free(t);
}

/* cJSON_Duplicate(node, 1) but for node's own key, which it leaves NULL (the
 * template gives the copy its key: copying the source's only to free it is a
 * waste). Members keep theirs, as cJSON_Duplicate copies them. */
static cJSON *duplicate_unkeyed(const cJSON *node)
{
    cJSON *c = cJSON_CreateNull();
    if (!c)
        return NULL;
    c->type = node->type & ~(cJSON_IsReference | cJSON_StringIsConst);
    c->valueint = node->valueint;
    c->valuedouble = node->valuedouble;
    if (node->valuestring) {
        size_t n = strlen(node->valuestring) + 1;
        if (!(c->valuestring = cJSON_malloc(n))) {
            cJSON_Delete(c);
            return NULL;
        }
        memcpy(c->valuestring, node->valuestring, n);
    }
    for (const cJSON *k = node->child; k; k = k->next) {
        cJSON *copy = cJSON_Duplicate(k, 1);
        if (!copy || !cJSON_AddItemToArray(c, copy)) {
            cJSON_Delete(copy);
            cJSON_Delete(c);
            return NULL;
        }
    }
    return c;
}

/* A dynamic member's value (*out NULL with check: only whether it evaluates). */
static int member_value(const tmpl_member *m, const cJSON *input, const cJSON *context,
                        int share, int check, cJSON **out, core_err *err)
{
    *out = NULL;
    const cJSON *node = m->path ? sfn_jpath_lookup(m->path, input, context) : NULL;
    if (node) {
        if (check)
            return CORE_OK;
        *out = share && !sfn_jpath_is_context(m->path) ? shared_node(node)
                                                        : duplicate_unkeyed(node);
        return *out ? CORE_OK : core_err_set(err, 500, RUNTIME, "out of memory");
    }
    /* an intrinsic, a path that selects nothing or more than one node, or no
     * path at all: the evaluator's full answer, and its errors */
    int rc = dynamic_value(m->key, m->value, input, context, share, out, err);
    if (check) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

static int template_run(const sfn_template *t, const cJSON *input, const cJSON *context,
                        int share, int check, cJSON **out, core_err *err)
{
    *out = NULL;
    if (t->kind == 3)
        return core_err_set(err, 400, RUNTIME, "The payload template is nested deeper than %d levels",
                            SFN_JSON_MAX_DEPTH);
    if (t->kind == 0) {
        if (check)
            return CORE_OK;
        *out = cJSON_Duplicate(t->src, 0);
        return *out ? CORE_OK : core_err_set(err, 500, RUNTIME, "out of memory");
    }
    cJSON *c = check ? NULL : t->kind == 1 ? cJSON_CreateObject() : cJSON_CreateArray();
    if (!check && !c)
        return core_err_set(err, 500, RUNTIME, "out of memory");
    for (size_t i = 0; i < t->n; i++) {
        const tmpl_member *m = &t->m[i];
        cJSON *v = NULL;
        int rc = m->dynamic ? member_value(m, input, context, share, check, &v, err)
                            : template_run(m->sub, input, context, share, check, &v, err);
        if (rc != CORE_OK) {
            cJSON_Delete(c);
            return CORE_ERROR;
        }
        if (check)
            continue;
        if (t->kind == 1 && m->shadowed) {
            cJSON_Delete(v);
            continue;
        }
        if (t->kind == 1) {
            char *name = strdup(m->name);
            if (!name) {
                cJSON_Delete(v);
                cJSON_Delete(c);
                return core_err_set(err, 500, RUNTIME, "out of memory");
            }
            if (!(v->type & cJSON_StringIsConst))
                cJSON_free(v->string);
            v->type &= ~cJSON_StringIsConst;
            v->string = name;
        }
        if (!cJSON_AddItemToArray(c, v)) {
            cJSON_Delete(v);
            cJSON_Delete(c);
            return core_err_set(err, 500, RUNTIME, "out of memory");
        }
    }
    *out = c;
    return CORE_OK;
}

int sfn_template_eval(const sfn_template *t, const cJSON *input, const cJSON *context, int share,
                      cJSON **out, core_err *err)
{
    return template_run(t, input, context, share, 0, out, err);
}

int sfn_template_check(const sfn_template *t, const cJSON *input, const cJSON *context,
                       core_err *err)
{
    cJSON *none;
    return template_run(t, input, context, 1, 1, &none, err);
}
