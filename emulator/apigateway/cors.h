/*
 * cors.h — CORS of an HTTP API, from the template's CorsConfiguration.
 *
 * Source: API Gateway developer guide, "Configure CORS for HTTP APIs in API
 * Gateway":
 *   - "If you configure CORS for an API, API Gateway automatically sends a
 *     response to preflight OPTIONS requests, even if there isn't an OPTIONS
 *     route configured" — so the caller answers a preflight here, before
 *     routing (and before any authorizer).
 *   - "For a CORS request, API Gateway adds the configured CORS headers to the
 *     response from an integration" and "ignores CORS headers returned from
 *     your backend integration" — apigw_cors_decorate drops the function's
 *     access-control-* headers and adds the configured ones.
 *   - "To return CORS headers, your request must contain an origin header.
 *     For the OPTIONS method, your request must contain an origin header and
 *     an Access-Control-Request-Method header."
 *   - AllowOrigins entries: an exact origin, "*", or a scheme wildcard such as
 *     "https://" followed by "*" (any origin starting with https://).
 * Not in the guide, taken from observed behaviour and marked so: the
 * preflight answer is 204 with an empty body; an origin that is not allowed
 * gets the same 204 without any access-control-* header (the browser then
 * refuses). access-control-allow-origin is "*" when "*" is configured and
 * credentials are not allowed, otherwise the request's origin; list values
 * are joined with ",".
 * SAM's `CorsConfiguration: true` means origins, methods and headers "*".
 */
#ifndef APIGW_CORS_H
#define APIGW_CORS_H

#include <cjson/cJSON.h>

#include "core/err.h"
#include "core/http.h"

typedef struct apigw_cors apigw_cors;

/* Read a CorsConfiguration (an object with AllowOrigins, AllowMethods,
 * AllowHeaders, ExposeHeaders: arrays of strings; MaxAge: integer;
 * AllowCredentials: boolean; or the boolean true). *out is NULL when the API
 * has no CORS (config NULL or false). Returns CORE_OK, or CORE_ERROR with err
 * (400 ValidationError naming the field) for a malformed configuration. */
int apigw_cors_new(const cJSON *config, apigw_cors **out, core_err *err);

/* Free; NULL is a no-op. */
void apigw_cors_free(apigw_cors *cors);

/* 1 when the request is a CORS preflight: OPTIONS with both an Origin and an
 * Access-Control-Request-Method header (NULL when absent). */
int apigw_cors_is_preflight(const char *method, const char *origin,
                            const char *request_method);

/* 1 when origin is allowed by the configuration. */
int apigw_cors_origin_allowed(const apigw_cors *cors, const char *origin);

/* Answer a preflight into resp (released first): 204, empty body,
 * apigw-requestid, and when the origin is allowed access-control-allow-origin,
 * -allow-methods, -allow-headers, -max-age, -allow-credentials (those that
 * are configured). */
void apigw_cors_preflight(const apigw_cors *cors, const char *origin, const char *request_id,
                          core_http_response *resp);

/* Apply CORS to a normal response: remove every access-control-* header the
 * function set; when origin (may be NULL) is allowed, add
 * access-control-allow-origin, -expose-headers and -allow-credentials. */
void apigw_cors_decorate(const apigw_cors *cors, const char *origin, core_http_response *resp);

#endif
