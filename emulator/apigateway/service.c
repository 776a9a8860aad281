/*
 * service.c — the HTTP API as a running service: the web listener's /api paths go
 * through the template's HTTP API to the Lambda service, as CloudFront sends
 * them to API Gateway in production.
 *
 * Per request, in API Gateway's order: CORS preflight, route match (404), stage
 * throttling (429), the route's authorizer (401), the payload 2.0 event, the
 * function (500 when it errors or answers garbage, 503 past the route's
 * integration timeout), the format 2.0 response mapping, CORS headers, and one
 * JSON access-log line. Every answer carries apigw-requestid.
 *
 * A route with a JWT authorizer is checked by apigateway/jwt.c against the
 * signing keys of the service's JWKS registry, keyed by issuer: the Cognito
 * service registers each pool's keys there (apigw_service_jwks), and tests or
 * developers register theirs with PUT /_shoplocal/jwks?issuer=<url-encoded>
 * and a JWKS body. A refused token is 401 {"message":"Unauthorized"}, an unmet
 * route scope 403 {"message":"Forbidden"}, each with API Gateway's
 * www-authenticate; neither reaches the function. The registry exists even
 * when the template has no HTTP API, so Cognito can always register.
 */
#include "apigateway/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apigateway/cors.h"
#include "apigateway/event.h"
#include "apigateway/jwt.h"
#include "apigateway/response.h"
#include "apigateway/route.h"
#include "apigateway/throttle.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"
#include "core/template.h"
#include "lambda/lambda.h"

typedef struct apigw_service {
    core_emulator *emu;
    const core_tpl_http_api *api; /* borrowed from the template */
    apigw_routes *routes;
    apigw_cors *cors;
    apigw_throttle *throttle;
    apigw_jwks *jwks;
} apigw_service;

static void access_log(const apigw_service *svc, const core_http_request *req, const char *route,
                       int status, size_t length, double latency_ms)
{
    if (!core_log_enabled(CORE_LOG_INFO))
        return;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "apiId", svc->api->id);
    cJSON_AddStringToObject(f, "ip", req->remote_addr);
    cJSON_AddStringToObject(f, "httpMethod", req->method);
    cJSON_AddStringToObject(f, "path", req->path);
    cJSON_AddStringToObject(f, "routeKey", route ? route : "-");
    cJSON_AddNumberToObject(f, "status", status);
    cJSON_AddNumberToObject(f, "responseLength", (double)length);
    cJSON_AddNumberToObject(f, "integrationLatency", latency_ms);
    core_log_fields(CORE_LOG_INFO, "apigateway", req->request_id, f, "access");
    cJSON_Delete(f);
}

static const core_tpl_authorizer *find_authorizer(const core_tpl_http_api *api, const char *name)
{
    for (size_t i = 0; i < api->n_authorizers; i++)
        if (!strcmp(api->authorizers[i].name, name))
            return &api->authorizers[i];
    return NULL;
}

/* Run the route's JWT authorizer. 1: go on with claims/scopes (owned by the
 * caller); 0: resp holds the 401 or 403. */
static int authorize(apigw_service *svc, const apigw_route *route, const core_http_request *req,
                     int64_t now_s, cJSON **claims, cJSON **scopes, core_http_response *resp)
{
    const core_tpl_authorizer *auth = find_authorizer(svc->api, route->authorizer);
    static const char header_source[] = "$request.header.";
    const char *token = NULL;
    /* Only header identity sources are modelled; any other finds no token. */
    if (auth && !strncasecmp(auth->identity_source, header_source, sizeof header_source - 1))
        token = core_http_header_get(req, auth->identity_source + sizeof header_source - 1);
    char why[512] = "";
    apigw_jwt_result r = auth ? apigw_jwt_authorize(svc->jwks, auth, route->scopes,
                                                    route->n_scopes, token, now_s, claims,
                                                    scopes, why, sizeof why)
                              : APIGW_JWT_DENIED;
    if (r == APIGW_JWT_ALLOWED)
        return 1;
    char challenge[1024];
    apigw_jwt_challenge(r, why, route->scopes, route->n_scopes, challenge, sizeof challenge);
    apigw_answer(resp, r == APIGW_JWT_FORBIDDEN ? 403 : 401, req->request_id);
    core_http_response_header(resp, "www-authenticate", challenge, 0);
    return 0;
}

/* PUT /_shoplocal/jwks?issuer=<url-encoded issuer>, body a JWKS: replace the
 * issuer's signing keys. */
static void jwks_admin(void *ctx, const core_http_request *req, core_http_response *resp)
{
    apigw_service *svc = ctx;
    if (strcmp(req->method, "PUT") != 0) {
        core_http_response_aws_error(resp, req, 405, "MethodNotAllowedException",
                                     "use PUT /_shoplocal/jwks?issuer=<url-encoded issuer>");
        return;
    }
    char *issuer = core_query_param(req->raw_query, "issuer");
    if (!issuer || !issuer[0] || strlen(issuer) > 2047) {
        free(issuer);
        core_http_response_aws_error(resp, req, 400, "ValidationException",
                                     "the issuer query parameter is required (url-encoded)");
        return;
    }
    char *body = malloc(req->body_len + 1);
    if (!body) {
        free(issuer);
        core_http_response_aws_error(resp, req, 500, "InternalFailure", "out of memory");
        return;
    }
    if (req->body_len)
        memcpy(body, req->body, req->body_len);
    body[req->body_len] = 0;
    core_err err;
    core_err_clear(&err);
    int rc = apigw_jwks_set(svc->jwks, issuer, body, &err);
    free(body);
    if (rc != CORE_OK) {
        free(issuer);
        core_http_response_aws_error(resp, req, err.status, err.type, err.message);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "issuer", issuer);
    cJSON_AddNumberToObject(o, "keys", (double)apigw_jwks_count(svc->jwks, issuer));
    core_http_response_json(resp, 200, "application/json", o);
    cJSON_Delete(o);
    free(issuer);
}

apigw_jwks *apigw_service_jwks(core_emulator *emu)
{
    apigw_service *svc = core_emulator_service(emu, "apigateway");
    return svc ? svc->jwks : NULL;
}

void apigw_service_handle(void *ctx, const core_http_request *req, core_http_response *resp)
{
    apigw_service *svc = ctx;
    const char *origin = core_http_header_get(req, "Origin");
    const char *route_key = NULL;
    double latency = 0;
    if (svc->cors && apigw_cors_is_preflight(req->method, origin,
                                             core_http_header_get(req, "Access-Control-Request-Method"))) {
        apigw_cors_preflight(svc->cors, origin, req->request_id, resp);
        goto done;
    }
    apigw_params params;
    memset(&params, 0, sizeof params);
    const apigw_route *route = apigw_route_match(svc->routes, req->method, req->path, &params);
    if (!route) {
        apigw_answer(resp, 404, req->request_id);
        goto decorate;
    }
    route_key = route->route_key;
    core_clock *clock = core_emulator_clock(svc->emu);
    if (svc->throttle && !apigw_throttle_take(svc->throttle, core_clock_now_ms(clock))) {
        apigw_answer(resp, 429, req->request_id);
        apigw_params_release(&params);
        goto decorate;
    }
    cJSON *claims = NULL, *scopes = NULL;
    if (route->authorizer &&
        !authorize(svc, route, req, core_clock_now_ms(clock) / 1000, &claims, &scopes, resp)) {
        apigw_params_release(&params);
        goto decorate;
    }
    apigw_header_list headers;
    memset(&headers, 0, sizeof headers);
    apigw_header_list_from_request(&headers, req);
    apigw_event_input in = {
        .method = req->method,
        .raw_path = req->path,
        .raw_query = req->raw_query,
        .headers = headers.items,
        .n_headers = headers.n,
        .body = (const unsigned char *)req->body,
        .body_len = req->body_len,
        .source_ip = req->remote_addr,
        .request_id = req->request_id,
        .epoch_ms = core_clock_now_ms(clock),
        .api_id = svc->api->id,
        .stage = svc->api->stage,
        .route_key = route->route_key,
        .path_params = &params,
        .jwt_claims = claims,
        .jwt_scopes = scopes,
    };
    cJSON *event = apigw_event_build(&in);
    cJSON_Delete(claims);
    cJSON_Delete(scopes);
    apigw_header_list_release(&headers);
    apigw_params_release(&params);
    if (!event) {
        apigw_answer(resp, 500, req->request_id);
        goto decorate;
    }
    lam_result r;
    lam_invoke_event(lam_service_of(svc->emu), route->function_id, event, &r);
    cJSON_Delete(event);
    latency = r.duration_ms;
    if (r.duration_ms > route->timeout_ms)
        apigw_answer(resp, 503, req->request_id); /* past the integration timeout */
    else if (r.status != LAM_OK)
        apigw_answer(resp, 500, req->request_id);
    else
        apigw_response_map(r.payload, r.len, req->request_id, resp);
    lam_result_release(&r);
decorate:
    if (svc->cors)
        apigw_cors_decorate(svc->cors, origin, resp);
done:
    core_http_response_header(resp, "apigw-requestid", req->request_id, 0);
    access_log(svc, req, route_key, resp->status, resp->body_len, latency);
}

int apigw_service_start(core_emulator *emu, void **state, core_err *err)
{
    *state = NULL;
    const core_template *tpl = core_emulator_template(emu);
    apigw_service *svc = calloc(1, sizeof *svc);
    if (!svc || !(svc->jwks = apigw_jwks_new())) {
        free(svc);
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    }
    svc->emu = emu;
    if (core_emulator_add_admin(emu, "/_shoplocal/jwks", jwks_admin, svc, err) != CORE_OK) {
        apigw_service_stop(svc);
        return CORE_ERROR;
    }
    if (core_template_http_api_count(tpl) == 0) {
        *state = svc; /* no HTTP API in this stack: /api answers 404 */
        return CORE_OK;
    }
    svc->api = core_template_http_api_at(tpl, 0);
    if (core_template_http_api_count(tpl) > 1)
        core_log(CORE_LOG_WARN, "apigateway", NULL,
                 "the template has %zu HTTP APIs; /api serves the first, %s",
                 core_template_http_api_count(tpl), svc->api->logical_id);
    svc->routes = apigw_routes_new(tpl, svc->api->logical_id, err);
    if (!svc->routes || apigw_cors_new(svc->api->cors, &svc->cors, err) != CORE_OK) {
        apigw_service_stop(svc);
        return CORE_ERROR;
    }
    /* Only the stage's own DefaultRouteSettings throttle here: the account-level
     * quota (10,000 requests/s) is a property of an AWS account, not of the
     * template, and would only get in the way of local load tests. */
    if (svc->api->throttle_burst > 0 || svc->api->throttle_rate > 0)
        svc->throttle = apigw_throttle_new(svc->api->throttle_burst, svc->api->throttle_rate,
                                           core_clock_now_ms(core_emulator_clock(emu)));
    core_emulator_set_api(emu, apigw_service_handle, svc);
    *state = svc;
    return CORE_OK;
}

void apigw_service_stop(void *state)
{
    apigw_service *svc = state;
    if (!svc)
        return;
    apigw_routes_free(svc->routes);
    apigw_cors_free(svc->cors);
    apigw_throttle_free(svc->throttle);
    apigw_jwks_free(svc->jwks);
    free(svc);
}
