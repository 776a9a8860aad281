/*
 * template.h — the SAM template loader: template.yaml as a model of the stack.
 *
 * The emulator reads the same template.yaml that `sam deploy` reads. Loading it
 * does what CloudFormation + the SAM transform would do, for local values:
 *
 *   1. parse YAML with short-form tags (yaml.h);
 *   2. take Parameters (defaults, overrides, AllowedValues, lengths, bounds);
 *   3. evaluate Conditions;
 *   4. merge SAM Globals into AWS::Serverless::Function / HttpApi resources;
 *   5. order resources by their dependencies (Ref, GetAtt, Sub, DependsOn),
 *      refusing cycles and references to nothing;
 *   6. resolve every intrinsic (Ref, GetAtt, Sub both forms, Join, Select,
 *      Split, If, Equals, And, Or, Not, FindInMap, Base64, GetAZs) and the
 *      pseudo parameters (AWS::Region, AWS::AccountId = 000000000000,
 *      AWS::StackName, AWS::Partition, AWS::URLSuffix, AWS::StackId,
 *      AWS::NoValue), giving each resource a local physical id, an ARN and its
 *      GetAtt attributes, stable across restarts (derived from the stack name
 *      and logical id, never random);
 *   7. build typed views of what the emulator runs: functions with their HTTP
 *      API routes, HTTP APIs with their JWT authorizers, tables, state machines.
 *
 * Everything else (user pools, clients, groups, buckets, secrets, topics...) is
 * a core_tpl_resource with its resolved Properties, which the service that
 * emulates it reads.
 *
 * Every refusal names the resource and the field ("Resources.ShopTable.
 * Properties.KeySchema: ..."), never crashes. The model is immutable after
 * load and may be read from any thread.
 */
#ifndef CORE_TEMPLATE_H
#define CORE_TEMPLATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/err.h"

#define CORE_ACCOUNT_ID "000000000000"

typedef struct core_template_opts {
    const char *region;        /* default us-east-1 */
    const char *stack_name;    /* default shoplocal */
    char *const *params;       /* "Key=Value" overrides */
    size_t n_params;
} core_template_opts;

typedef struct core_tpl_resource {
    char *logical_id;
    char *type;          /* "AWS::DynamoDB::Table" */
    cJSON *properties;   /* resolved; an object (possibly empty) */
    cJSON *metadata;     /* as written (unresolved), or NULL */
    char *physical_id;   /* what Ref returns */
    char *arn;           /* NULL when the type has none */
    cJSON *attributes;   /* GetAtt name -> value */
} core_tpl_resource;

typedef struct core_tpl_route {
    char *event_name;     /* the key under Events */
    char *api_logical_id; /* owning HttpApi; "ServerlessHttpApi" when implicit */
    char *method;         /* upper case: GET, POST, ..., ANY */
    char *path;           /* "/orders/{id}", "/{proxy+}", or "$default" */
    char *route_key;      /* "GET /orders/{id}" or "$default" */
    char *authorizer;     /* authorizer name, or NULL for none */
    char **scopes;        /* AuthorizationScopes */
    size_t n_scopes;
    char *payload_version; /* "2.0" unless the event says otherwise */
    int timeout_ms;        /* integration timeout, default 30000 */
} core_tpl_route;

typedef struct core_tpl_function {
    const core_tpl_resource *resource; /* borrowed */
    const char *name;                  /* borrowed: resource->physical_id */
    const char *arn;                   /* borrowed: resource->arn */
    char *handler;
    char *runtime;
    char *code_uri;        /* as written, relative to the template's folder */
    char *architecture;    /* "x86_64" or "arm64" */
    char *build_method;    /* Metadata.BuildMethod, or NULL */
    int timeout_s;         /* default 3 */
    int memory_mb;         /* default 128 */
    int tracing_active;
    cJSON *environment;    /* object of strings */
    core_tpl_route *routes;
    size_t n_routes;
} core_tpl_function;

typedef struct core_tpl_authorizer {
    char *name;
    char *identity_source;  /* "$request.header.Authorization" */
    char *issuer;
    char **audience;
    size_t n_audience;
} core_tpl_authorizer;

typedef struct core_tpl_http_api {
    const core_tpl_resource *resource; /* borrowed; NULL for the implicit API */
    char *logical_id;
    char *id;             /* the API id (Ref) */
    char *stage;          /* "$default" unless StageName says */
    cJSON *cors;          /* CorsConfiguration resolved, or NULL */
    core_tpl_authorizer *authorizers;
    size_t n_authorizers;
    char *default_authorizer; /* or NULL */
    int throttle_burst;   /* 0: not set */
    double throttle_rate; /* 0: not set */
} core_tpl_http_api;

typedef struct core_tpl_table {
    const core_tpl_resource *resource; /* borrowed */
    const char *name;                  /* borrowed */
    const char *arn;                   /* borrowed */
    char *hash_key;
    char *range_key;                   /* or NULL */
    char *billing_mode;                /* PAY_PER_REQUEST or PROVISIONED */
    char *ttl_attribute;               /* or NULL */
    const cJSON *attribute_definitions; /* borrowed from properties */
    const cJSON *global_indexes;        /* borrowed, or NULL */
    const cJSON *local_indexes;         /* borrowed, or NULL */
} core_tpl_table;

typedef struct core_tpl_state_machine {
    const core_tpl_resource *resource; /* borrowed */
    const char *name;                  /* borrowed */
    const char *arn;                   /* borrowed */
    char *definition_path;  /* DefinitionUri joined to the template's folder, or NULL */
    const cJSON *definition;    /* inline Definition (borrowed), or NULL */
    const cJSON *substitutions; /* DefinitionSubstitutions, resolved strings, or NULL */
    char *type;                 /* STANDARD or EXPRESS */
} core_tpl_state_machine;

typedef struct core_template core_template;

/* Load and resolve the template at path. On success *out owns the model. */
int core_template_load_file(const char *path, const core_template_opts *opts,
                            core_template **out, core_err *err);

/* Same, from text; base_dir resolves relative DefinitionUri/CodeUri (may be "."). */
int core_template_load_string(const char *text, size_t len, const char *base_dir,
                              const core_template_opts *opts, core_template **out,
                              core_err *err);

/* Free; NULL is a no-op. */
void core_template_free(core_template *tpl);

const char *core_template_region(const core_template *tpl);
const char *core_template_stack_name(const core_template *tpl);

/* Resources in dependency order (a resource comes after those it refers to).
 * Resources whose Condition is false are absent. All borrowed. */
size_t core_template_resource_count(const core_template *tpl);
const core_tpl_resource *core_template_resource_at(const core_template *tpl, size_t i);
const core_tpl_resource *core_template_resource(const core_template *tpl, const char *logical_id);

/* Resolved parameter value (string, or comma-joined for lists), or NULL. Borrowed. */
const char *core_template_parameter(const core_template *tpl, const char *name);

/* Resolved value of a condition: 1, 0, or -1 if there is no such condition. */
int core_template_condition(const core_template *tpl, const char *name);

/* Outputs: an object name -> resolved value (borrowed). */
const cJSON *core_template_outputs(const core_template *tpl);

/* Typed views (borrowed). */
size_t core_template_function_count(const core_template *tpl);
const core_tpl_function *core_template_function_at(const core_template *tpl, size_t i);
const core_tpl_function *core_template_function(const core_template *tpl, const char *logical_id);

size_t core_template_http_api_count(const core_template *tpl);
const core_tpl_http_api *core_template_http_api_at(const core_template *tpl, size_t i);

size_t core_template_table_count(const core_template *tpl);
const core_tpl_table *core_template_table_at(const core_template *tpl, size_t i);

size_t core_template_state_machine_count(const core_template *tpl);
const core_tpl_state_machine *core_template_state_machine_at(const core_template *tpl, size_t i);

/* The model as JSON for /_shoplocal/health: resources with ids and ARNs,
 * functions with routes, outputs. Caller owns the result. */
cJSON *core_template_describe(const core_template *tpl);

#endif
