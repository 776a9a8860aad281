/*
 * val.c — strict schema validation of request bodies. See val.h.
 */
#include "lib/val.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define VAL_MAX_SAFE 9007199254740992.0 /* 2^53: beyond it a double skips integers */
#define LLONG_MAX_SAFE 9007199254740992LL
#define LLONG_MIN_SAFE (-9007199254740992LL)

int val_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        size_t n;
        unsigned cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if ((size_t)(end - p) <= n)
            return 0;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        p += n + 1;
    }
    return 1;
}

size_t val_utf8_length(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xc0) != 0x80)
            n++;
    return n;
}

int val_id(const char *s, size_t max_len)
{
    if (!s || !*s)
        return 0;
    size_t n = 0;
    for (const char *p = s; *p; p++, n++) {
        char c = *p;
        if (n >= max_len || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int val_int(const cJSON *v, long long min, long long max, long long *out)
{
    if (!cJSON_IsNumber(v))
        return 0;
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || d > VAL_MAX_SAFE || d < -VAL_MAX_SAFE)
        return 0;
    long long n = (long long)d;
    if (n < min || n > max)
        return 0;
    if (out)
        *out = n;
    return 1;
}

static const char *type_name(val_type t)
{
    switch (t) {
    case VAL_STRING: return "a string";
    case VAL_INT: return "an integer";
    case VAL_BOOL: return "a boolean";
    case VAL_OBJECT: return "an object";
    }
    return "?";
}

static int fail(val_problem *p, const char *prefix, const char *name, const char *why)
{
    snprintf(p->message, sizeof p->message, "%s%s: %s", prefix, name, why);
    return -1;
}

static int check_string(const cJSON *v, const val_field *f, char *why, size_t why_len)
{
    const char *s = v->valuestring;
    size_t len = strlen(s);
    if (!val_utf8(s, len)) {
        snprintf(why, why_len, "must be valid UTF-8");
        return -1;
    }
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        int allowed_ws = (f->flags & VAL_MULTILINE) && (*c == '\n' || *c == '\r' || *c == '\t');
        if ((*c < 0x20 || *c == 0x7f) && !allowed_ws) {
            snprintf(why, why_len, "must not contain control characters");
            return -1;
        }
    }
    long long n = (long long)val_utf8_length(s);
    if (n < f->min || n > f->max) {
        if (f->min == f->max)
            snprintf(why, why_len, "must be %lld characters", f->min);
        else
            snprintf(why, why_len, "must be %lld to %lld characters", f->min, f->max);
        return -1;
    }
    return 0;
}

static int validate(const cJSON *obj, const val_field *fields, const char *prefix,
                    val_problem *p, int depth)
{
    char why[200];
    if (depth > 4)
        return fail(p, prefix, "(body)", "is nested too deeply");
    /* unknown fields first: a typo is the likeliest cause of a "missing" field */
    for (const cJSON *m = obj->child; m; m = m->next) {
        const val_field *f = fields;
        while (f->name && strcmp(f->name, m->string ? m->string : ""))
            f++;
        if (!f->name) {
            char name[80];
            snprintf(name, sizeof name, "%.60s%s", m->string ? m->string : "",
                     m->string && strlen(m->string) > 60 ? "..." : "");
            return fail(p, prefix, name, "is not a known field");
        }
        /* cJSON keeps duplicate keys: a second one is ambiguous, refuse it */
        for (const cJSON *o = obj->child; o != m; o = o->next)
            if (o->string && m->string && !strcmp(o->string, m->string))
                return fail(p, prefix, f->name, "appears more than once");
    }
    for (const val_field *f = fields; f->name; f++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, f->name);
        if (!v) {
            if (f->flags & VAL_REQUIRED)
                return fail(p, prefix, f->name, "is required");
            continue;
        }
        if (cJSON_IsNull(v)) {
            if (f->flags & VAL_NULLABLE)
                continue;
            snprintf(why, sizeof why, "must be %s, not null", type_name(f->type));
            return fail(p, prefix, f->name, why);
        }
        switch (f->type) {
        case VAL_STRING:
            if (!cJSON_IsString(v))
                return fail(p, prefix, f->name, "must be a string");
            if (check_string(v, f, why, sizeof why))
                return fail(p, prefix, f->name, why);
            break;
        case VAL_INT:
            if (!cJSON_IsNumber(v) || !val_int(v, LLONG_MIN_SAFE, LLONG_MAX_SAFE, NULL))
                return fail(p, prefix, f->name, "must be an integer");
            if (!val_int(v, f->min, f->max, NULL)) {
                snprintf(why, sizeof why, "must be an integer from %lld to %lld", f->min, f->max);
                return fail(p, prefix, f->name, why);
            }
            break;
        case VAL_BOOL:
            if (!cJSON_IsBool(v))
                return fail(p, prefix, f->name, "must be a boolean");
            break;
        case VAL_OBJECT: {
            if (!cJSON_IsObject(v))
                return fail(p, prefix, f->name, "must be an object");
            char sub[160];
            snprintf(sub, sizeof sub, "%s%s.", prefix, f->name);
            if (validate(v, f->fields, sub, p, depth + 1))
                return -1;
            break;
        }
        }
        if (f->check && f->check(v, why, sizeof why))
            return fail(p, prefix, f->name, why);
    }
    return 0;
}

int val_object(const cJSON *obj, const val_field *fields, val_problem *p)
{
    p->message[0] = '\0';
    if (!cJSON_IsObject(obj)) {
        snprintf(p->message, sizeof p->message, "the body must be a JSON object");
        return -1;
    }
    return validate(obj, fields, "", p, 0);
}
