/*
 * route.h — the route table of one HTTP API, built from the SAM template, and
 * API Gateway's route selection.
 *
 * Source: API Gateway developer guide, "Create routes for HTTP APIs in API
 * Gateway" (sections "Working with path variables", "Working with the $default
 * route", "Routing API requests"). Selection, most specific first:
 *
 *   1. a route whose every path segment matches (literal or {var}); among
 *      those, a literal segment beats a {var} at the first place they differ
 *      (so GET /orders/latest beats GET /orders/{id} — "full match");
 *   2. a route ending in a greedy {name+} variable, the longest literal prefix
 *      first; the variable takes the rest of the path, slashes included, and
 *      needs at least the slash after the prefix ("/pets/{proxy+}" does not
 *      match "/pets");
 *   3. the $default route.
 *   At each level a route with the request's own method beats ANY ("ANY
 *   matches all methods that you haven't defined for a resource"). Nothing
 *   matching: the caller answers 404 {"message":"Not Found"}.
 *
 * Path parameters reach the function decoded. Evidence: the same guide's note
 * "API Gateway decodes URL-encoded request parameters before passing them to
 * your backend integration"; the example 2.0 events quoted in
 * aws-powertools/powertools-lambda-python#1098 ("API Gateway will already
 * decode encoded whitespaces"); serverless-offline#638 (AWS gives "+" where
 * the local tool gave "%2B"). '+' stays '+' in a path (only query strings
 * use '+' for space).
 *
 * Paths whose handling by API Gateway is not documented are refused (no
 * match, so 404) rather than guessed: an empty segment in the middle ("//"),
 * "." or ".." segments, an encoded slash ("%2F") or NUL, a malformed '%'
 * escape, a segment that decodes to invalid UTF-8, a path not starting with
 * '/', and paths over APIGW_MAX_PATH bytes. A trailing slash is not ignored:
 * HTTP API routes cannot end in '/' (serverless-application-model#1949) and
 * "/metrics/" does not reach "GET /metrics" (storacha/w3infra#166, which
 * catches it with "/metrics/{proxy+}"); so "/orders/" matches only a greedy
 * route, whose variable is then "". A refused path reaches no route, not even
 * $default: the refusal is the emulator's, and must not invoke a function.
 *
 * The table borrows strings from the template: free the table before it.
 * It is immutable after apigw_routes_new and may be matched from any thread.
 */
#ifndef APIGW_ROUTE_H
#define APIGW_ROUTE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/err.h"
#include "core/template.h"

#define APIGW_MAX_PATH 8192   /* bytes of a request path we will route */
#define APIGW_MAX_PARAMS 16   /* path variables of one route */

typedef struct apigw_route {
    const char *function_id;     /* logical id of the function (borrowed) */
    const char *route_key;       /* "GET /orders/{id}" or "$default" */
    const char *method;          /* "GET", ..., "ANY" */
    const char *path;            /* "/orders/{id}" or "$default" */
    const char *authorizer;      /* authorizer name, or NULL for none */
    char *const *scopes;         /* AuthorizationScopes (borrowed) */
    size_t n_scopes;
    int timeout_ms;              /* integration timeout */
    const char *payload_version; /* "2.0" or "1.0" */
} apigw_route;

typedef struct apigw_param {
    const char *name; /* borrowed from the route table */
    char *value;      /* owned: decoded value */
} apigw_param;

/* The path variables of a match, in path order. Fill with apigw_route_match,
 * release with apigw_params_release. Lives on the caller's stack. */
typedef struct apigw_params {
    size_t n;
    apigw_param items[APIGW_MAX_PARAMS];
} apigw_params;

typedef struct apigw_routes apigw_routes;

/* Build the route table of the HTTP API `api_logical_id` (e.g. "Api" or the
 * implicit "ServerlessHttpApi") from every function's routes. Refuses (NULL,
 * err filled, status 400 "ValidationError") an unknown API, two routes with
 * the same route key, and a path a route cannot have (a greedy variable not
 * last, an empty "{}", a variable sharing a segment with text, more than
 * APIGW_MAX_PARAMS variables). */
apigw_routes *apigw_routes_new(const core_template *tpl, const char *api_logical_id,
                               core_err *err);

/* Free; NULL is a no-op. */
void apigw_routes_free(apigw_routes *t);

/* Number of routes, and the i-th in template order (borrowed). */
size_t apigw_routes_count(const apigw_routes *t);
const apigw_route *apigw_routes_at(const apigw_routes *t, size_t i);

/* Select the route for method + path (the path as sent, percent-escapes kept,
 * no query, stage already stripped). Returns the route (borrowed) or NULL for
 * 404. On a match out_params (if not NULL) receives the decoded path
 * variables, which the caller releases; on NULL it is left empty. */
const apigw_route *apigw_route_match(const apigw_routes *t, const char *method,
                                     const char *path, apigw_params *out_params);

/* Free the values of params and empty it; safe on an empty one. */
void apigw_params_release(apigw_params *params);

/* The value of variable `name`, or NULL (borrowed). */
const char *apigw_params_get(const apigw_params *params, const char *name);

/* The variables as a JSON object of strings, or NULL when there are none
 * (API Gateway omits pathParameters then). Caller owns the result. */
cJSON *apigw_params_json(const apigw_params *params);

/* The request path past the stage. With stage "$default" the path is
 * returned unchanged; otherwise the path must be "/<stage>" or start with
 * "/<stage>/": the rest is returned ("/" for the bare stage), borrowed from
 * path or static. NULL when the path is not under the stage (404). */
const char *apigw_strip_stage(const char *path, const char *stage);

#endif
