/*
 * log.h — structured logs of the API handlers, through the host's ctx->log
 * (which writes one JSON object per line with time, level, requestId and
 * traceId). The message of each line is itself one JSON object:
 *
 *   {"event":"request","route":"POST /cart","status":201,"user":"u-1","ms":3}
 *
 * so CloudWatch Logs Insights reads `parse @message` and a local reader `jq`.
 *
 * No secrets or tokens reach a log: fields whose name says authorization,
 * token, password, secret, cookie or key (Idempotency-Key included) are
 * written as "[redacted]", and any string value that looks like a JWT
 * ("eyJ...x.y.z") or a bearer credential is redacted too. Bodies and headers
 * are never logged whole.
 *
 * The level threshold comes from LOG_LEVEL (DEBUG, INFO, WARN, ERROR; default
 * INFO).
 */
#ifndef BACKEND_LOG_H
#define BACKEND_LOG_H

#include <cjson/cJSON.h>

#include "runtime/handler.h"

/* Log event with fields (borrowed; may be NULL) at level ("DEBUG", "INFO",
 * "WARN", "ERROR") when LOG_LEVEL lets it through. */
void log_event(const lambda_context *ctx, const char *level, const char *event,
               const cJSON *fields);

/* The one access line per request: route, status, user, duration. */
void log_request(const lambda_context *ctx, const cJSON *request_event, int status,
                 long long started_ms);

/* Nonzero when a field of this name must never be logged in clear. */
int log_is_sensitive_name(const char *name);

/* Nonzero when the value looks like a credential (a JWT, "Bearer ..."). */
int log_is_sensitive_value(const char *value);

/* The fields with sensitive names and values redacted (caller owns). */
cJSON *log_redact(const cJSON *fields);

#endif
