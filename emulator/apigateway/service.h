/*
 * service.h — the HTTP API service: serves the template's HTTP API on the web
 * listener's /api paths (see service.c).
 */
#ifndef APIGW_SERVICE_H
#define APIGW_SERVICE_H

#include "apigateway/jwt.h"
#include "core/emulator.h"
#include "core/err.h"
#include "core/http.h"

int apigw_service_start(core_emulator *emu, void **state, core_err *err);
void apigw_service_stop(void *state);

/* The JWKS registry the HTTP API's JWT authorizers verify with (borrowed; it
 * lives as long as the emulator), or NULL before the service started. The
 * Cognito service registers each user pool's keys here under the pool's
 * issuer URL. */
apigw_jwks *apigw_service_jwks(core_emulator *emu);

/* One request, its path already relative to the API (the web listener strips
 * "/api"). */
void apigw_service_handle(void *ctx, const core_http_request *req, core_http_response *resp);

#endif
