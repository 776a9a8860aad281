/*
 * wire.h — the Cognito user pools service: the AWSCognitoIdentityProviderService
 * JSON protocol (awsJson1_1) on the aws listener, each pool's JWKS at
 * GET /<poolId>/.well-known/jwks.json, the pools' keys registered with the
 * HTTP API's JWT authorizer, and the demo users of --seed (see wire.c).
 */
#ifndef COG_WIRE_H
#define COG_WIRE_H

#include "core/emulator.h"
#include "core/err.h"

/* Open cognito.db, read the template's pools, route the protocol and the JWKS
 * paths, hand kept keys to the HTTP API's authorizer and load <seed>/users.json.
 * Runs after the apigateway service (services.c). On failure err says why
 * (status 2 for a users.json it cannot load: a bad command line's exit code). */
int cog_service_start(core_emulator *emu, void **state, core_err *err);

/* Close the model and free the service; NULL is a no-op. */
void cog_service_stop(void *state);

#endif
