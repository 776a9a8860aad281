/*
 * services.h — the table of emulated services, in start-up order.
 *
 * Like Redis's command table: one row per service, naming how to start it (open
 * its storage, read what it needs from the template, register its routes) and how
 * to stop it. The emulator starts them in order after the template is loaded and
 * stops them in reverse.
 */
#ifndef CORE_SERVICES_H
#define CORE_SERVICES_H

#include <stddef.h>

#include "core/emulator.h"
#include "core/err.h"

typedef struct core_service_def {
    const char *name;
    int (*start)(core_emulator *emu, void **state, core_err *err);
    void (*stop)(void *state);
} core_service_def;

extern const core_service_def core_services[];
extern const size_t core_services_count;

#endif
