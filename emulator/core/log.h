/*
 * log.h — structured logging: one JSON object per line.
 *
 * Every line carries "time" (UTC, ISO-8601 with milliseconds), "level",
 * "component" and, when known, "requestId", then "message" and any extra fields.
 * Lines are written with a single fwrite under a lock, so concurrent threads
 * never interleave within a line. Library code logs only through here.
 */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stdio.h>

#include <cjson/cJSON.h>

typedef enum core_log_level {
    CORE_LOG_DEBUG = 0,
    CORE_LOG_INFO,
    CORE_LOG_WARN,
    CORE_LOG_ERROR,
} core_log_level;

/* Set the minimum level and the stream (borrowed; default stderr). Thread-safe. */
void core_log_setup(core_log_level min_level, FILE *out);

/* Parse "debug" | "info" | "warn" | "error". Returns 0, or -1 if unknown. */
int core_log_level_parse(const char *name, core_log_level *out);

/* The level's lower-case name. */
const char *core_log_level_name(core_log_level level);

/* Nonzero if a line at this level would be written. */
int core_log_enabled(core_log_level level);

/* Log a formatted message. request_id may be NULL. */
void core_log(core_log_level level, const char *component, const char *request_id,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Log a message with extra fields: every member of `fields` (borrowed, may be
 * NULL) is copied into the line after "message". */
void core_log_fields(core_log_level level, const char *component, const char *request_id,
                     const cJSON *fields, const char *message);

/* Format epoch milliseconds as "2026-01-02T03:04:05.678Z" into buf (>= 25 bytes). */
void core_log_format_time(long long epoch_ms, char *buf, size_t len);

#endif
