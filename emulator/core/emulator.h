/*
 * emulator.h — one running shoplocal: its clock, storage, template model,
 * service router and the three listeners (web, aws, stripe).
 *
 * Start-up order: data folder, core database, template, router and services,
 * then the listeners — so a listener never answers before what it serves is
 * ready. Shutdown runs backwards: stop accepting, let requests in flight
 * finish (bounded wait), stop listeners, close storage.
 */
#ifndef CORE_EMULATOR_H
#define CORE_EMULATOR_H

#include <cjson/cJSON.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/fault.h"
#include "core/outbox.h"
#include "core/router.h"
#include "core/store.h"
#include "core/template.h"

typedef struct core_emulator core_emulator;

/* Start everything cfg describes. On success *out owns the running emulator. */
int core_emulator_start(const core_config *cfg, core_emulator **out, core_err *err);

/* Graceful stop: quiesce, drain up to drain_ms, stop, close, free. NULL: no-op. */
void core_emulator_stop(core_emulator *emu, int drain_ms);

/* Base URLs of the listeners as bound ("http://127.0.0.1:4566"). Borrowed. */
const char *core_emulator_url(const core_emulator *emu, const char *listener);

/* The health document (caller owns). */
cJSON *core_emulator_health(core_emulator *emu);

/* Borrowed parts, for the services. */
core_clock *core_emulator_clock(core_emulator *emu);
const core_template *core_emulator_template(core_emulator *emu);
core_router *core_emulator_router(core_emulator *emu);
core_faults *core_emulator_faults(core_emulator *emu);
core_outbox *core_emulator_outbox(core_emulator *emu);

/* Add a line to the ready banner, printed after the listeners as
 * "  <label>   <text>" (e.g. "login", "admin@shoplocal.dev / ..."), so a service
 * can tell the developer something at start-up without main.c knowing of it.
 * Both strings are copied. CORE_ERROR when the table (16 lines) is full or on
 * allocation failure. */
int core_emulator_add_note(core_emulator *emu, const char *label, const char *text);
size_t core_emulator_note_count(const core_emulator *emu);
/* The i-th note line, formatted (borrowed), or NULL. */
const char *core_emulator_note_at(const core_emulator *emu, size_t i);

/* Route the web listener's /api and /api/... to handler (the HTTP API), with the
 * path made relative ("/api/orders" -> "/orders"). */
void core_emulator_set_api(core_emulator *emu, core_http_handler handler, void *ctx);

/* Serve the admin path `path` (exact, e.g. "/_shoplocal/jwks", any method) with
 * handler, so a service can add its own admin resource without this file
 * knowing of it. Call from a service's start. CORE_OK, or CORE_ERROR (err
 * filled) when the table is full or the path is taken. */
int core_emulator_add_admin(core_emulator *emu, const char *path, core_http_handler handler,
                            void *ctx, core_err *err);

/* Block until every listener is bound (returns 1), or until start-up failed
 * or shutdown began (0), or timeout_ms passed (0). For a service whose
 * background work calls the listeners (Step Functions resuming executions
 * whose Lambdas call the aws listener). Call from a service's own thread. */
int core_emulator_wait_listening(core_emulator *emu, int timeout_ms);

/* The state of a started service by its name in the services table (borrowed),
 * or NULL. */
void *core_emulator_service(core_emulator *emu, const char *name);
const core_config *core_emulator_config(core_emulator *emu);

#endif
