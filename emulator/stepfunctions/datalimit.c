/*
 * datalimit.c — Step Functions' payload size quota: a state's input and
 * output, a task's (or a Parallel's, a Map's) result and so an execution's
 * output may not exceed 256 KiB, 262,144 bytes of UTF-8 JSON text. Past it
 * the state fails with States.DataLimitExceeded, a terminal error that no
 * Retry or Catch handles (AWS: "States.ALL ... can't catch the
 * States.DataLimitExceeded terminal error type").
 *
 * The size is the length of the document's compact JSON text, counted the
 * way cJSON_PrintUnformatted writes it (the text the history and the wire
 * carry) but without printing it: a walk that stops as soon as the count
 * passes the limit, so checking every state's output costs no allocation and
 * at most one pass over the first 256 KiB.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stepfunctions/sfn_impl.h"

/* The length of a JSON string literal as cJSON escapes it. */
static size_t string_size(const char *s)
{
    size_t n = 2;
    if (!s)
        return n;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\' || *p == '\b' || *p == '\f' || *p == '\n' || *p == '\r' ||
            *p == '\t')
            n += 2;
        else if (*p < 32)
            n += 6; /* \u00XX */
        else
            n += 1;
    }
    return n;
}

/* The length of a number as cJSON 1.7 prints it (%d for the integers it holds
 * in valueint, else the shortest of %1.15g / %1.17g that reads back). */
static size_t number_size(const cJSON *v)
{
    char buf[64];
    double d = v->valuedouble;
    int len;
    if (isnan(d) || isinf(d))
        return 4; /* null */
    if (d == (double)v->valueint) {
        len = snprintf(buf, sizeof buf, "%d", v->valueint);
    } else {
        double back = 0;
        len = snprintf(buf, sizeof buf, "%1.15g", d);
        if (sscanf(buf, "%lg", &back) != 1 || back != d)
            len = snprintf(buf, sizeof buf, "%1.17g", d);
    }
    return len > 0 ? (size_t)len : 0;
}

static size_t size_walk(const cJSON *v, size_t used, size_t cap, int depth)
{
    if (used > cap || !v)
        return used;
    if (depth > 1000)
        return cap + 1; /* deeper than anything the data language builds */
    switch (v->type & 0xFF) {
    case cJSON_False:
        return used + 5;
    case cJSON_True:
        return used + 4;
    case cJSON_NULL:
        return used + 4;
    case cJSON_Number:
        return used + number_size(v);
    case cJSON_String:
        return used + string_size(v->valuestring);
    case cJSON_Raw:
        return used + (v->valuestring ? strlen(v->valuestring) : 0);
    case cJSON_Array:
    case cJSON_Object: {
        int object = (v->type & 0xFF) == cJSON_Object;
        used += 2; /* [] or {} */
        for (const cJSON *c = v->child; c && used <= cap; c = c->next) {
            if (c != v->child)
                used++; /* , */
            if (object)
                used += string_size(c->string) + 1; /* "key": */
            used = size_walk(c, used, cap, depth + 1);
        }
        return used;
    }
    default:
        return used;
    }
}

size_t sfn_json_size(const cJSON *value, size_t cap)
{
    size_t n = value ? size_walk(value, 0, cap, 0) : 4;
    return n > cap ? cap + 1 : n;
}

int sfn_data_limit_check(const cJSON *value, const char *name, core_err *err)
{
    if (sfn_json_size(value, SFN_MAX_PAYLOAD) <= SFN_MAX_PAYLOAD)
        return CORE_OK;
    return core_err_set(err, 400, "States.DataLimitExceeded",
                        "The state/task '%.200s' returned a result with a size exceeding the "
                        "maximum number of bytes service limit.",
                        name ? name : "");
}
