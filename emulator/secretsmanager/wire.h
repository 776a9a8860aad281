/*
 * wire.h — Secrets Manager's JSON protocol on the aws listener, and the
 * service's life.
 */
#ifndef SM_WIRE_H
#define SM_WIRE_H

#include "core/emulator.h"
#include "core/err.h"

/* Open secretsmanager.db in the data folder, create the template's secrets
 * that do not exist yet, and register the service on the router (X-Amz-Target
 * prefix "secretsmanager", signing name "secretsmanager"). */
int sm_service_start(core_emulator *emu, void **state, core_err *err);
void sm_service_stop(void *state);

#endif
