/*
 * log.c — structured, redacted handler logs through ctx->log. See log.h.
 */
#include "lib/log.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/http.h"

static int level_rank(const char *level)
{
    if (!level)
        return 1;
    if (!strcasecmp(level, "DEBUG"))
        return 0;
    if (!strcasecmp(level, "WARN") || !strcasecmp(level, "WARNING"))
        return 2;
    if (!strcasecmp(level, "ERROR"))
        return 3;
    return 1;
}

int log_is_sensitive_name(const char *name)
{
    static const char *const words[] = {"authorization", "token", "password", "secret",
                                        "cookie", "key", "credential", NULL};
    if (!name)
        return 0;
    char low[128];
    size_t n = 0;
    for (; name[n] && n + 1 < sizeof low; n++)
        low[n] = (char)tolower((unsigned char)name[n]);
    low[n] = '\0';
    for (size_t i = 0; words[i]; i++)
        if (strstr(low, words[i]))
            return 1;
    return 0;
}

int log_is_sensitive_value(const char *value)
{
    if (!value)
        return 0;
    if (!strncasecmp(value, "bearer ", 7))
        return 1;
    /* a JWT: base64url header starting {" (eyJ), then two more dot-separated parts */
    const char *p = strstr(value, "eyJ");
    if (p) {
        const char *dot1 = strchr(p, '.');
        if (dot1 && strchr(dot1 + 1, '.'))
            return 1;
    }
    return 0;
}

cJSON *log_redact(const cJSON *fields)
{
    cJSON *out = cJSON_CreateObject();
    for (const cJSON *f = fields ? fields->child : NULL; out && f; f = f->next) {
        if (!f->string)
            continue;
        cJSON *v;
        if (log_is_sensitive_name(f->string) ||
            (cJSON_IsString(f) && log_is_sensitive_value(f->valuestring)))
            v = cJSON_CreateString("[redacted]");
        else if (cJSON_IsObject(f))
            v = log_redact(f);
        else
            v = cJSON_Duplicate(f, 1);
        if (v)
            cJSON_AddItemToObject(out, f->string, v);
    }
    return out;
}

void log_event(const lambda_context *ctx, const char *level, const char *event,
               const cJSON *fields)
{
    if (!ctx || !ctx->log)
        return;
    const char *threshold = ctx->getenv ? ctx->getenv(ctx, "LOG_LEVEL") : NULL;
    if (level_rank(level) < level_rank(threshold ? threshold : "INFO"))
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", event ? event : ""); /* first, for the reader */
    cJSON *red = log_redact(fields);
    for (cJSON *f = red ? red->child : NULL; f; f = f->next)
        if (strcmp(f->string, "event"))
            cJSON_AddItemToObject(o, f->string, cJSON_Duplicate(f, 1));
    cJSON_Delete(red);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text)
        ctx->log(ctx, level, text);
    free(text);
}

void log_request(const lambda_context *ctx, const cJSON *request_event, int status,
                 long long started_ms)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "route", http_route_key(request_event));
    cJSON_AddNumberToObject(f, "status", status);
    const char *user = http_user_id(request_event);
    if (user)
        cJSON_AddStringToObject(f, "user", user);
    cJSON_AddNumberToObject(f, "ms", (double)(lambda_epoch_ms() - started_ms));
    log_event(ctx, status >= 500 ? "ERROR" : "INFO", "request", f);
    cJSON_Delete(f);
}
