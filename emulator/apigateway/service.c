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
 * The JWT authorizer is Cognito's (issue 5): until the Cognito service signs
 * tokens, a route that declares an authorizer answers 401 to every request, with
 * or without a token — never lets one through unchecked.
 */
#include "apigateway/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apigateway/cors.h"
#include "apigateway/event.h"
#include "apigateway/response.h"
#include "apigateway/route.h"
#include "apigateway/throttle.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/template.h"
#include "lambda/lambda.h"

typedef struct apigw_service {
    core_emulator *emu;
    const core_tpl_http_api *api; /* borrowed from the template */
    apigw_routes *routes;
    apigw_cors *cors;
    apigw_throttle *throttle;
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
    if (route->authorizer) {
        apigw_answer(resp, 401, req->request_id);
        core_http_response_header(resp, "www-authenticate",
                                  core_http_header_get(req, "Authorization")
                                      ? "Bearer scope=\"\" error=\"invalid_token\" "
                                        "error_description=\"the token could not be verified\""
                                      : "Bearer", 0);
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
    };
    cJSON *event = apigw_event_build(&in);
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
    if (core_template_http_api_count(tpl) == 0)
        return CORE_OK; /* no HTTP API in this stack: /api answers 404 */
    apigw_service *svc = calloc(1, sizeof *svc);
    if (!svc)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    svc->emu = emu;
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
    free(svc);
}
