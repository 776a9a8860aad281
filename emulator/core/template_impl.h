/*
 * template_impl.h — internals shared by template.c (loading, ordering, typed
 * views) and template_eval.c (intrinsic functions). Not for other modules.
 */
#ifndef CORE_TEMPLATE_IMPL_H
#define CORE_TEMPLATE_IMPL_H

#include "core/template.h"

typedef enum tpl_state {
    TPL_PENDING = 0, /* not resolved yet */
    TPL_ACTIVE,      /* being resolved: meeting it again is a cycle */
    TPL_DONE,
    TPL_SKIPPED,     /* its Condition is false: it does not exist */
} tpl_state;

typedef struct tpl_res {
    core_tpl_resource pub;
    const cJSON *raw; /* the resource's node in the document (borrowed) */
    tpl_state state;
} tpl_res;

struct core_template {
    char *region, *stack, *stack_id, *base_dir;
    cJSON *doc;            /* the parsed template, Globals merged */
    cJSON *params;         /* name -> resolved value as text; Ref splits list types */
    cJSON *conditions;     /* name -> true/false once evaluated */
    cJSON *cond_active;    /* names being evaluated (cycle guard) */
    tpl_res *res;          /* every declared resource, in document order */
    size_t n_res;
    tpl_res **order;       /* resolved resources, dependencies first */
    size_t n_order;
    const char *stack_path[512]; /* resources being resolved (CloudFormation allows 500) */
    size_t depth;
    cJSON *outputs;
    core_tpl_function *functions;
    size_t n_functions;
    core_tpl_http_api *apis;
    size_t n_apis;
    core_tpl_table *tables;
    size_t n_tables;
    core_tpl_state_machine *machines;
    size_t n_machines;
};

/* The value AWS::NoValue evaluates to: the member holding it is dropped. */
extern cJSON tpl_novalue;
#define TPL_NOVALUE (&tpl_novalue)

/* Evaluate every intrinsic in node; where names the node in errors
 * ("Resources.X.Properties.Y"). Returns a new tree, TPL_NOVALUE, or NULL with
 * err filled. */
cJSON *tpl_eval(core_template *t, const cJSON *node, const char *where, core_err *err);

/* Evaluate a condition by name (memoised; cycles refused). 1/0, or -1 on error. */
int tpl_condition(core_template *t, const char *name, const char *where, core_err *err);

/* Resolve a resource (properties, identity) if not done yet. NULL with err filled
 * if it does not exist, is conditioned away, or is part of a cycle. */
tpl_res *tpl_resolve(core_template *t, const char *logical_id, const char *where,
                     core_err *err);

/* The GetAtt value of a resolved resource's attribute (borrowed), or NULL + err. */
const cJSON *tpl_attribute(core_template *t, tpl_res *r, const char *attr, const char *where,
                           core_err *err);

/* 1 if name is an intrinsic key (Ref, Condition, Fn::...). */
int tpl_is_intrinsic(const cJSON *node);

#endif
