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
 * at most one pass over the first 256 KiB. A cheaper upper bound (strlen per
 * string) settles first the common case of a payload far below the quota.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stepfunctions/sfn_impl.h"

/* What cJSON's escaping adds to a byte: 1 for \" \\ \b \f \n \r \t, 5 for the
 * other control characters (\u00XX), 0 otherwise (UTF-8 goes through as is). */
static const unsigned char escape_extra[256] = {
    5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 5, 1, 1, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

/* The length of a JSON string literal as cJSON escapes it. */
static size_t string_size(const char *s)
{
    size_t n = 2;
    if (!s)
        return n;
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++)
        n += escape_extra[*p];
    return n + (size_t)(p - (const unsigned char *)s);
}

/* The length of a number as cJSON 1.7 prints it (%d for the integers it holds
 * in valueint, else the shortest of %1.15g / %1.17g that reads back). */
static size_t number_size(const cJSON *v)
{
    double d = v->valuedouble;
    if (isnan(d) || isinf(d))
        return 4; /* null */
    if (d == (double)v->valueint) {
        /* the digits of %d, counted: snprintf costs more than the rest of the walk */
        long long i = v->valueint;
        size_t len = i < 0 ? 2 : 1;
        unsigned long long u = i < 0 ? (unsigned long long)(-i) : (unsigned long long)i;
        while (u >= 10) {
            u /= 10;
            len++;
        }
        return len;
    }
    char buf[64];
    double back = 0;
    int len = snprintf(buf, sizeof buf, "%1.15g", d);
    if (sscanf(buf, "%lg", &back) != 1 || back != d)
        len = snprintf(buf, sizeof buf, "%1.17g", d);
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

/* An upper bound of size_walk's count, cheaper to take: a string's bytes
 * counted by strlen (no escape scan) as if each needed the longest escape, a
 * number as the longest text %1.17g writes. Most payloads are far below the
 * quota, and this settles them without the exact count. */
static size_t bound_walk(const cJSON *v, size_t used, size_t cap, int depth)
{
    if (used > cap || !v)
        return used;
    if (depth > 1000)
        return cap + 1;
    switch (v->type & 0xFF) {
    case cJSON_String:
        return used + 2 + 6 * (v->valuestring ? strlen(v->valuestring) : 0);
    case cJSON_Raw:
        return used + (v->valuestring ? strlen(v->valuestring) : 0);
    case cJSON_Array:
    case cJSON_Object: {
        int object = (v->type & 0xFF) == cJSON_Object;
        used += 2;
        for (const cJSON *c = v->child; c && used <= cap; c = c->next) {
            used++;
            if (object)
                used += 3 + 6 * (c->string ? strlen(c->string) : 0);
            used = bound_walk(c, used, cap, depth + 1);
        }
        return used;
    }
    default:
        return used + 24; /* false, true, null, a number: "-1.2345678901234567e-308" at most */
    }
}

size_t sfn_json_size(const cJSON *value, size_t cap)
{
    size_t n = value ? size_walk(value, 0, cap, 0) : 4;
    return n > cap ? cap + 1 : n;
}

size_t sfn_json_size_bound(const cJSON *value, size_t cap)
{
    size_t n = value ? bound_walk(value, 0, cap, 0) : 4;
    return n > cap ? cap + 1 : n;
}

int sfn_data_limit_check(const cJSON *value, const char *name, core_err *err)
{
    if (!value || bound_walk(value, 0, SFN_MAX_PAYLOAD, 0) <= SFN_MAX_PAYLOAD ||
        sfn_json_size(value, SFN_MAX_PAYLOAD) <= SFN_MAX_PAYLOAD)
        return CORE_OK;
    return core_err_set(err, 400, "States.DataLimitExceeded",
                        "The state/task '%.200s' returned a result with a size exceeding the "
                        "maximum number of bytes service limit.",
                        name ? name : "");
}
