/*
 * outbox.h — the emulator's outbox: every email and text message a service
 * "sends" lands here instead of in someone's inbox, where a developer (or a
 * test) can read it: Cognito's confirmation and reset codes today, SES and SNS
 * messages later. It knows no service: a message is {id, time, channel, to,
 * from, subject, body, source}, and the source names who wrote it.
 *
 * Messages live in <data>/outbox.db (SQLite via core/store.h), so they survive a
 * restart like every other piece of state, and are listed oldest first. The
 * admin API serves them: GET /_shoplocal/outbox[?to=<address>] and
 * DELETE /_shoplocal/outbox (see emulator.c).
 *
 * Thread-safe: every call holds the store's lock.
 */
#ifndef CORE_OUTBOX_H
#define CORE_OUTBOX_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/err.h"

typedef struct core_outbox core_outbox;

typedef struct core_outbox_message {
    const char *channel; /* "email" or "sms"; or an SNS delivery: "topic" (the
                          * publish itself), "email-json", "sqs", "lambda", "http",
                          * "https", "firehose", "application" */
    const char *to;      /* an address or phone number */
    const char *from;    /* may be NULL */
    const char *subject; /* may be NULL (sms) */
    const char *body;
    const char *source;  /* the writing service: "cognito-idp", "ses", "sns" */
} core_outbox_message;

/* Open (creating if needed) <dir>/outbox.db; dir NULL or ":memory:" keeps it in
 * memory. On success *out owns the outbox. */
int core_outbox_open(const char *dir, core_outbox **out, core_err *err);

/* Close; NULL is a no-op. */
void core_outbox_close(core_outbox *outbox);

/* Append one message stamped with time_ms (epoch ms, the emulator clock). The
 * new message's id (a UUID) is written to id_out when it is not NULL (>= 37
 * bytes). CORE_ERROR with err 400 ValidationException when channel is none of
 * the above or to/body/source is missing; 500 on storage failure. */
int core_outbox_append(core_outbox *outbox, int64_t time_ms, const core_outbox_message *msg,
                       char *id_out, core_err *err);

/* {"messages":[{"id","time" (ISO-8601),"timeMs","channel","to","from",
 * "subject","body","source"}...]} oldest first; only those sent to `to` (exact,
 * case-insensitive) when to is not NULL. Caller owns the result; NULL on
 * storage failure. */
cJSON *core_outbox_list(core_outbox *outbox, const char *to);

/* Remove every message; returns how many were removed, or -1 on failure. */
long core_outbox_clear(core_outbox *outbox);

#endif
