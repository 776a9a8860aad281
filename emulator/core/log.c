/*
 * log.c — JSON-lines logger. See log.h.
 *
 * The line is built fully in memory (cJSON does the escaping) and written with
 * one fwrite while holding a mutex, so lines from concurrent request threads
 * never interleave.
 */
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static core_log_level log_min = CORE_LOG_INFO;
static FILE *log_out;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void core_log_setup(core_log_level min_level, FILE *out)
{
    pthread_mutex_lock(&log_lock);
    log_min = min_level;
    log_out = out;
    pthread_mutex_unlock(&log_lock);
}

int core_log_level_parse(const char *name, core_log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof *level_names; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (core_log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *core_log_level_name(core_log_level level)
{
    return level >= CORE_LOG_DEBUG && level <= CORE_LOG_ERROR ? level_names[level] : "info";
}

int core_log_enabled(core_log_level level)
{
    return level >= log_min;
}

void core_log_format_time(long long epoch_ms, char *buf, size_t len)
{
    time_t secs = (time_t)(epoch_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", base, (int)(epoch_ms % 1000));
}

void core_log_fields(core_log_level level, const char *component, const char *request_id,
                     const cJSON *fields, const char *message)
{
    if (!core_log_enabled(level))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[40];
    core_log_format_time((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, when, sizeof when);

    cJSON *line = cJSON_CreateObject();
    if (!line)
        return;
    cJSON_AddStringToObject(line, "time", when);
    cJSON_AddStringToObject(line, "level", core_log_level_name(level));
    cJSON_AddStringToObject(line, "component", component ? component : "core");
    if (request_id)
        cJSON_AddStringToObject(line, "requestId", request_id);
    cJSON_AddStringToObject(line, "message", message ? message : "");
    if (fields) {
        for (const cJSON *f = fields->child; f; f = f->next)
            if (f->string)
                cJSON_AddItemToObject(line, f->string, cJSON_Duplicate(f, 1));
    }
    char *text = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    if (!text)
        return;
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the terminator; we write n + 1 bytes and never read it as a string */

    pthread_mutex_lock(&log_lock);
    FILE *out = log_out ? log_out : stderr;
    fwrite(text, 1, n + 1, out);
    fflush(out);
    pthread_mutex_unlock(&log_lock);
    free(text);
}

void core_log(core_log_level level, const char *component, const char *request_id,
              const char *fmt, ...)
{
    if (!core_log_enabled(level))
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    core_log_fields(level, component, request_id, NULL, msg);
}
