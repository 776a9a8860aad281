/*
 * handler.c — the small helpers of the handler ABI (see handler.h): error
 * filling and deadline arithmetic. Host-independent: used by handlers under the
 * production runtime and under the emulator alike.
 */
#include "runtime/handler.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Copy src into dst[cap], marking a cut with "..." so truncation is visible. */
static void copy_marked(char *dst, size_t cap, const char *src, size_t src_len)
{
    if (src_len < cap) {
        memcpy(dst, src, src_len);
        dst[src_len] = '\0';
        return;
    }
    memcpy(dst, src, cap - 4);
    memcpy(dst + cap - 4, "...", 4);
}

cJSON *lambda_error_set(lambda_error *err, const char *type, const char *fmt, ...)
{
    if (!err)
        return NULL;
    const char *t = type ? type : "Error";
    copy_marked(err->type, sizeof err->type, t, strlen(t));

    char buf[sizeof err->message + 1];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt ? fmt : "", ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    /* vsnprintf reports the full length: a length past the buffer means a cut. */
    size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf;
    copy_marked(err->message, sizeof err->message, buf, len);
    return NULL;
}

long long lambda_remaining_ms(const lambda_context *ctx, long long now_ms)
{
    if (!ctx || ctx->deadline_ms <= 0)
        return LLONG_MAX;
    if (now_ms >= ctx->deadline_ms)
        return 0;
    return ctx->deadline_ms - now_ms;
}

long long lambda_epoch_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
