/*
 * fault.h — fault injection: make an operation of a service answer an error.
 *
 * A rule names a service ("dynamodb"), optionally an operation ("PutItem") and a
 * resource (a table name), the error to answer (an AWS error type the service
 * knows, e.g. "ProvisionedThroughputExceededException"), and how often: the next
 * `count` matching requests, or each one with `probability` drawn from a seeded
 * generator (reproducible). Services ask core_fault_check before doing any work,
 * so an injected fault never changes stored state.
 *
 * Rules are set through the admin API (POST/GET/DELETE /_shoplocal/faults).
 */
#ifndef CORE_FAULT_H
#define CORE_FAULT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/err.h"

typedef struct core_faults core_faults;

core_faults *core_faults_new(unsigned long long seed);
void core_faults_free(core_faults *f);

/* Add a rule from its JSON form {"service", "operation"?, "resource"?, "error",
 * "message"?, "status"?, "count"? | "probability"?}. Returns the rule id (>= 1), or
 * CORE_ERROR with err filled for a malformed rule. */
int core_faults_add(core_faults *f, const cJSON *rule, core_err *err);

/* Remove every rule. */
void core_faults_clear(core_faults *f);

/* The rules and how often each fired (caller owns). */
cJSON *core_faults_list(core_faults *f);

/* If a rule fires for this request, fill err with its error (type, message, status)
 * and return 1; else 0. operation and resource may be NULL. Thread-safe. */
int core_fault_check(core_faults *f, const char *service, const char *operation,
                     const char *resource, core_err *err);

#endif
