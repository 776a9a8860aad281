/*
 * err.c — filling core_err. See err.h.
 */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int core_err_set(core_err *err, int status, const char *type, const char *fmt, ...)
{
    if (!err)
        return CORE_ERROR;
    err->status = status;
    snprintf(err->type, sizeof err->type, "%s", type ? type : "InternalFailure");
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof err->message)
        memcpy(err->message + sizeof err->message - 4, "...", 4);
    return CORE_ERROR;
}

void core_err_clear(core_err *err)
{
    if (!err)
        return;
    err->status = 0;
    err->type[0] = '\0';
    err->message[0] = '\0';
}
