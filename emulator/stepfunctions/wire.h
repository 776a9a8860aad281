/*
 * wire.h — the Step Functions service: its JSON protocol on the aws listener
 * (X-Amz-Target: AWSStepFunctions.<Operation>, application/x-amz-json-1.0)
 * and its life in the emulator.
 */
#ifndef SFN_WIRE_H
#define SFN_WIRE_H

#include "core/emulator.h"
#include "core/err.h"

/* Open stepfunctions.db in the data folder, load the mock config
 * (--mock-config or SFN_MOCK_CONFIG) and the chaos spec (SFN_CHAOS, JSON),
 * create or refresh the template's AWS::Serverless::StateMachine resources
 * (DefinitionUri/Definition with DefinitionSubstitutions), start the worker
 * pool, register on the router, and — once the listeners are up — resume
 * every execution that was RUNNING when the emulator last stopped. */
int sfn_service_start(core_emulator *emu, void **state, core_err *err);

/* Stop the workers (running executions stay RUNNING, to resume), close. */
void sfn_service_stop(void *state);

#endif
