/*
 * json_text.c — compact JSON text of a cJSON tree, byte for byte what
 * cJSON_PrintUnformatted (cJSON 1.7.15) writes, in a fraction of its time.
 *
 * Why. Every execution prints its output (StartSyncExecution's answer, the
 * stored row) and a Standard one prints every state's input and output into
 * its history; cJSON's printer asks sprintf for every number, scans every
 * string twice and grows its buffer by malloc-copy-free (its realloc is off
 * once allocation hooks are set, see json_alloc.c). This printer writes into
 * a buffer kept per thread and grown by doubling.
 *
 * Invariants: the same bytes as cJSON_PrintUnformatted for every tree (pinned
 * by tests/unit/test_sfn_json.c against cJSON itself): no whitespace; strings
 * escape '"', '\\', \b \f \n \r \t and other bytes below 0x20 as \u00xx
 * (lower-case hex), everything else (UTF-8, '/', 0x7f) as is; a NULL string or
 * key prints ""; numbers as cJSON's "%1.15g", or "%1.17g" when 15 digits do
 * not give the double back, NaN and infinities as null, with '.' whatever the
 * locale's decimal point; a Raw item its text as is. Where cJSON would fail
 * (an item of no known type, a Raw item without text) this fails too.
 */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stepfunctions/sfn_impl.h"

typedef struct out {
    char *p;
    size_t len, cap;
} out;

static _Thread_local out tl_out;
static pthread_key_t buffer_key;
static pthread_once_t buffer_once = PTHREAD_ONCE_INIT;

static void buffer_free(void *arg)
{
    (void)arg;
    free(tl_out.p);
    tl_out = (out){0};
}

static void buffer_key_new(void)
{
    if (pthread_key_create(&buffer_key, buffer_free) != 0)
        buffer_key = 0;
}

static int reserve(out *o, size_t more)
{
    if (more <= o->cap - o->len)
        return 0;
    if (!o->p) {
        /* the thread's first buffer: freed when the thread ends */
        pthread_once(&buffer_once, buffer_key_new);
        pthread_setspecific(buffer_key, o);
    }
    if (more > ((size_t)-1 >> 2) - o->len)
        return -1;
    size_t cap = o->cap ? o->cap : 256;
    while (cap - o->len < more)
        cap *= 2;
    char *grown = realloc(o->p, cap);
    if (!grown)
        return -1;
    o->p = grown;
    o->cap = cap;
    return 0;
}

static int put(out *o, const char *s, size_t n)
{
    if (reserve(o, n) != 0)
        return -1;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    return 0;
}

/* The escape of byte c, or 0 when it goes as is. */
static char escape_of(unsigned char c)
{
    switch (c) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case '\b':
        return 'b';
    case '\f':
        return 'f';
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    case '\t':
        return 't';
    default:
        return c < 32 ? 'u' : 0;
    }
}

static int put_string(out *o, const char *s)
{
    if (!s)
        return put(o, "\"\"", 2);
    size_t n = strlen(s);
    /* at most 6 bytes per input byte, and the quotes */
    if (n > ((size_t)-1 >> 4) || reserve(o, 6 * n + 2) != 0)
        return -1;
    char *w = o->p + o->len;
    *w++ = '"';
    for (const unsigned char *r = (const unsigned char *)s; *r; r++) {
        char e = escape_of(*r);
        if (!e) {
            *w++ = (char)*r;
        } else if (e != 'u') {
            *w++ = '\\';
            *w++ = e;
        } else {
            static const char hex[] = "0123456789abcdef";
            memcpy(w, "\\u00", 4);
            w[4] = hex[*r >> 4];
            w[5] = hex[*r & 15];
            w += 6;
        }
    }
    *w++ = '"';
    o->len = (size_t)(w - o->p);
    return 0;
}

static int same_double(double a, double b)
{
    double max = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= max * DBL_EPSILON;
}

static int put_number(out *o, double d)
{
    char buf[32];
    int n;
    if (isnan(d) || isinf(d))
        return put(o, "null", 4);
    if (fabs(d) < 1e15 && d == (double)(long long)d && !(d == 0 && signbit(d))) {
        /* what "%1.15g" writes for an integer of at most 15 digits: its digits */
        long long v = (long long)d;
        unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
        char *w = buf + sizeof buf;
        do {
            *--w = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (v < 0)
            *--w = '-';
        return put(o, w, (size_t)(buf + sizeof buf - w));
    }
    double back;
    n = snprintf(buf, sizeof buf, "%1.15g", d);
    if (sscanf(buf, "%lg", &back) != 1 || !same_double(back, d))
        n = snprintf(buf, sizeof buf, "%1.17g", d);
    if (n < 0 || n >= (int)sizeof buf)
        return -1;
    const struct lconv *lc = localeconv();
    char point = lc && lc->decimal_point ? lc->decimal_point[0] : '.';
    if (point != '.')
        for (int i = 0; i < n; i++)
            if (buf[i] == point)
                buf[i] = '.';
    return put(o, buf, (size_t)n);
}

static int put_value(out *o, const cJSON *item)
{
    const cJSON *c;
    switch (item->type & 0xFF) {
    case cJSON_NULL:
        return put(o, "null", 4);
    case cJSON_False:
        return put(o, "false", 5);
    case cJSON_True:
        return put(o, "true", 4);
    case cJSON_Number:
        return put_number(o, item->valuedouble);
    case cJSON_Raw:
        return item->valuestring ? put(o, item->valuestring, strlen(item->valuestring)) : -1;
    case cJSON_String:
        return put_string(o, item->valuestring);
    case cJSON_Array:
        if (put(o, "[", 1) != 0)
            return -1;
        for (c = item->child; c; c = c->next)
            if (put_value(o, c) != 0 || (c->next && put(o, ",", 1) != 0))
                return -1;
        return put(o, "]", 1);
    case cJSON_Object:
        if (put(o, "{", 1) != 0)
            return -1;
        for (c = item->child; c; c = c->next)
            if (put_string(o, c->string) != 0 || put(o, ":", 1) != 0 || put_value(o, c) != 0 ||
                (c->next && put(o, ",", 1) != 0))
                return -1;
        return put(o, "}", 1);
    default:
        return -1;
    }
}

const char *sfn_json_print_borrowed(const cJSON *item, size_t *len)
{
    out *o = &tl_out;
    o->len = 0;
    if (!item || put_value(o, item) != 0 || put(o, "", 1) != 0)
        return NULL;
    if (len)
        *len = o->len - 1;
    if (o->cap > (1u << 20) && o->len < (1u << 16)) {
        /* a one-off large document: do not keep its buffer for good */
        char *small = realloc(o->p, 1u << 16);
        if (small) {
            o->p = small;
            o->cap = 1u << 16;
        }
    }
    return o->p;
}

char *sfn_json_print(const cJSON *item)
{
    size_t n;
    const char *text = sfn_json_print_borrowed(item, &n);
    if (!text)
        return NULL;
    char *copy = malloc(n + 1);
    if (copy)
        memcpy(copy, text, n + 1);
    return copy;
}
