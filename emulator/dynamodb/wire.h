/*
 * wire.h — DynamoDB's JSON protocol on the aws listener, and the service's life.
 */
#ifndef DDB_WIRE_H
#define DDB_WIRE_H

#include "core/emulator.h"
#include "core/err.h"

/* Open dynamodb.db in the data folder, create the template's tables that do not
 * exist yet (with their TimeToLiveSpecification), start the TTL sweeper and
 * register the service on the router. *state is for ddb_service_stop. */
int ddb_service_start(core_emulator *emu, void **state, core_err *err);
void ddb_service_stop(void *state);

/* CRC32 (IEEE) of the answer, for botocore's x-amz-crc32 check. */
unsigned long ddb_crc32(const unsigned char *data, size_t len);

#endif
