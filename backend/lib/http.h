/*
 * http.h — what every API handler shares about API Gateway's HTTP API payload
 * format 2.0: reading the event (route key, headers, path and query parameters,
 * the body, the JWT authorizer's claims) and shaping the answer
 * ({statusCode, headers, body} with a JSON body).
 *
 * Errors have one shape, {"error": {"code": "...", "message": "..."}}, with the
 * statuses the API uses: 400 malformed request (not JSON, a bad query parameter,
 * a tampered cursor), 401 no signed-in user, 403 not allowed (not an admin),
 * 404 no such resource (or not yours), 409 conflict with the current state,
 * 413 body too large, 422 well-formed but invalid body (types, required fields,
 * bounds, unknown fields), 503 a dependency failed.
 *
 * Claims: the HTTP API's JWT authorizer hands every claim over as a string in
 * requestContext.authorizer.jwt.claims; arrays become "[Admins Staff]" (AWS's
 * own form). http_claims_in_group also accepts a JSON array text, so a token
 * minted elsewhere still works.
 *
 * Everything returned as `const char *` is borrowed from the event.
 */
#ifndef BACKEND_HTTP_H
#define BACKEND_HTTP_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* The largest JSON body any route accepts. */
#define HTTP_MAX_BODY 16384

/* A format 2.0 response: statusCode, headers {content-type: application/json,
 * cache-control: no-store}, body = body printed unformatted. Takes ownership of
 * body (NULL: an empty object). Never NULL unless out of memory. */
cJSON *http_json(int status, cJSON *body);

/* A response without a body (204). */
cJSON *http_empty(int status);

/* The error response {"error": {"code", "message"}} with a printf-style message. */
cJSON *http_error(int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Add or replace a response header (lower-cased name as API Gateway sends it). */
void http_set_header(cJSON *response, const char *name, const char *value);

/* The event's routeKey ("GET /products/{id}"), or "" when absent. */
const char *http_route_key(const cJSON *event);

/* A header by lower-case name, a path parameter, a query string parameter; NULL
 * when absent or not a string. */
const char *http_header(const cJSON *event, const char *name);
const char *http_path_param(const cJSON *event, const char *name);
const char *http_query_param(const cJSON *event, const char *name);

/* The request's body parsed as one JSON object, at most max_len bytes (after
 * base64 decoding when isBase64Encoded). Returns the object (caller owns), or
 * NULL with *error_response set (caller owns): 413 over max_len, 400 absent,
 * not JSON or not an object. */
cJSON *http_body_object(const cJSON *event, size_t max_len, cJSON **error_response);

/* requestContext.authorizer.jwt.claims (borrowed), or NULL. */
const cJSON *http_claims(const cJSON *event);

/* One claim as a string (borrowed), or NULL. */
const char *http_claim(const cJSON *event, const char *name);

/* The signed-in user's id (the `sub` claim), or NULL when the request carries no
 * valid user (the route has no authorizer, or sub is empty or over 128 bytes). */
const char *http_user_id(const cJSON *event);

/* Nonzero when the `cognito:groups` claim names group exactly. The claim is
 * AWS's "[Admins Staff]", a single "Admins", or a JSON array text
 * "[\"Admins\",\"Staff\"]". */
int http_claims_in_group(const cJSON *event, const char *group);

/* Parse the bounded integer query parameter name: *out = dflt when absent.
 * Returns 0, or -1 when present but not a decimal integer in [min, max]. */
int http_query_int(const cJSON *event, const char *name, long long min, long long max,
                   long long dflt, long long *out);

#endif
