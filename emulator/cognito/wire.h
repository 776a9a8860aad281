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

int cog_service_start(core_emulator *emu, void **state, core_err *err);
void cog_service_stop(void *state);

#endif
