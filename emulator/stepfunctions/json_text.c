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
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stepfunctions/lang_impl.h"
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

static inline int put1(out *o, char c)
{
    if (o->len == o->cap && reserve(o, 1) != 0)
        return -1;
    o->p[o->len++] = c;
    return 0;
}

/* The escape of each byte: 0 when it goes as is, 'u' for \u00xx, else the
 * letter after the backslash. */
static const char escape_of[256] = {
    [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
    [0x06] = 'u', [0x07] = 'u', ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', [0x0b] = 'u',
    ['\f'] = 'f', ['\r'] = 'r', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u', [0x11] = 'u',
    [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u',
    [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u', [0x1d] = 'u',
    [0x1e] = 'u', [0x1f] = 'u', ['"'] = '"', ['\\'] = '\\',
};

/* 8 bytes at once: nonzero when any of them is below 0x20, '"' or '\\' (needs an
 * escape, or ends a string being read). The classic "has a byte less than n"
 * test, on the word and on its XOR with the repeated quote and backslash. */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static inline uint64_t special8(uint64_t w)
{
    uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
    return ((w - ONES * 0x20) | (q - ONES) | (b - ONES)) & ~w & HIGHS;
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
    const unsigned char *r = (const unsigned char *)s, *end = r + n;
    while (end - r >= 8) { /* runs of plain bytes, a word at a time */
        uint64_t word;
        memcpy(&word, r, 8);
        if (special8(word))
            break;
        memcpy(w, &word, 8);
        w += 8;
        r += 8;
    }
    for (; r < end; r++) {
        char e = escape_of[*r];
        if (!e) {
            *w++ = (char)*r; /* byte by byte: keys and values are short */
            continue;
        }
        if (e != 'u') {
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
        if (put1(o, '[') != 0)
            return -1;
        for (c = item->child; c; c = c->next)
            if (put_value(o, c) != 0 || (c->next && put1(o, ',') != 0))
                return -1;
        return put1(o, ']');
    case cJSON_Object:
        if (put1(o, '{') != 0)
            return -1;
        for (c = item->child; c; c = c->next)
            if (put_string(o, c->string) != 0 || put1(o, ':') != 0 || put_value(o, c) != 0 ||
                (c->next && put1(o, ',') != 0))
                return -1;
        return put1(o, '}');
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

/* ---- parsing ------------------------------------------------------------------ */

/* The fast parser builds exactly the tree cJSON_Parse builds (same types,
 * valuestring, keys in order, duplicates kept, valuedouble from strtod on the
 * same characters, valueint saturated as cJSON saturates it, valueint 1 on
 * true) for documents without \u escapes; on anything else it gives up and the
 * caller gets cJSON_Parse's own answer (NULL for what is not JSON). */

#define PARSE_MAX_DEPTH 512 /* below cJSON's nesting limit (1000): deeper goes to cJSON */

typedef struct reader {
    const unsigned char *p;
    int depth;
} reader;

static void skip_space(reader *r)
{
    while (*r->p && *r->p <= 32)
        r->p++;
}

/* A node as cJSON_New_Item makes it (zeroed, from cJSON's allocator). */
static cJSON *new_node(int type)
{
    cJSON *n = cJSON_malloc(sizeof *n);
    if (n) {
        memset(n, 0, sizeof *n);
        n->type = type;
    }
    return n;
}

/* cJSON_AddItemToArray's links: child->prev is the last member. */
static void append(cJSON *c, cJSON *v)
{
    if (!c->child) {
        c->child = v;
        v->prev = v;
    } else {
        cJSON *last = c->child->prev;
        last->next = v;
        v->prev = last;
        c->child->prev = v;
    }
}

/* A string at r->p (its opening quote) as a new buffer, or NULL (give up). */
static char *read_string(reader *r)
{
    const unsigned char *s = r->p + 1, *e = s;
    size_t escapes = 0;
    while (*e && *e != '"') {
        if (*e == '\\') {
            if (!e[1] || e[1] == 'u')
                return NULL; /* \u: cJSON's UTF-16 handling decides */
            escapes++;
            e++;
        }
        e++;
    }
    if (*e != '"')
        return NULL;
    size_t n = (size_t)(e - s) - escapes;
    char *copy = cJSON_malloc(n + 1);
    if (!copy)
        return NULL;
    if (!escapes) {
        memcpy(copy, s, n);
    } else {
        char *w = copy;
        for (const unsigned char *q = s; q < e; q++) {
            if (*q != '\\') {
                *w++ = (char)*q;
                continue;
            }
            switch (*++q) {
            case 'b': *w++ = '\b'; break;
            case 'f': *w++ = '\f'; break;
            case 'n': *w++ = '\n'; break;
            case 'r': *w++ = '\r'; break;
            case 't': *w++ = '\t'; break;
            case '"': case '\\': case '/': *w++ = (char)*q; break;
            default:
                cJSON_free(copy);
                return NULL; /* cJSON refuses other escapes */
            }
        }
    }
    copy[n] = '\0';
    r->p = e + 1;
    return copy;
}

static int number_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == 'e' || c == 'E' || c == '.';
}

static cJSON *read_number(reader *r)
{
    /* cJSON copies at most 63 such characters and lets strtod take what it can */
    char buf[64];
    size_t n = 0;
    while (n < sizeof buf - 1 && number_char(r->p[n])) {
        buf[n] = (char)r->p[n];
        n++;
    }
    buf[n] = '\0';
    size_t i = buf[0] == '-', digits = n - i;
    double d;
    size_t used = n;
    int plain = digits >= 1 && digits <= 15;
    for (size_t k = i; plain && k < n; k++)
        plain = buf[k] >= '0' && buf[k] <= '9';
    if (plain) {
        long long v = 0;
        for (size_t k = i; k < n; k++)
            v = v * 10 + (buf[k] - '0');
        d = i ? -(double)v : (double)v; /* exact below 2^53, as strtod's */
    } else {
        const struct lconv *lc = localeconv();
        char point = lc && lc->decimal_point ? lc->decimal_point[0] : '.';
        for (size_t k = 0; k < n; k++)
            if (buf[k] == '.')
                buf[k] = point;
        char *end;
        d = strtod(buf, &end);
        if (end == buf)
            return NULL;
        used = (size_t)(end - buf);
    }
    r->p += used;
    cJSON *num = new_node(cJSON_Number);
    if (num) { /* valueint saturated as parse_number does */
        num->valuedouble = d;
        num->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
    }
    return num;
}

static cJSON *read_value(reader *r);


static cJSON *read_container(reader *r, int object)
{
    if (++r->depth > PARSE_MAX_DEPTH)
        return NULL;
    cJSON *c = new_node(object ? cJSON_Object : cJSON_Array);
    if (!c)
        return NULL;
    r->p++;
    skip_space(r);
    if (*r->p == (object ? '}' : ']')) {
        r->p++;
        r->depth--;
        return c;
    }
    for (;;) {
        char *key = NULL;
        skip_space(r);
        if (object) {
            if (*r->p != '"' || !(key = read_string(r)))
                break;
            skip_space(r);
            if (*r->p != ':') {
                cJSON_free(key);
                break;
            }
            r->p++;
            skip_space(r);
        }
        cJSON *v = read_value(r);
        if (!v) {
            cJSON_free(key);
            break;
        }
        v->string = key; /* what parse_object leaves there: the key, owned */
        append(c, v);
        skip_space(r);
        if (*r->p == ',') {
            r->p++;
            continue;
        }
        if (*r->p == (object ? '}' : ']')) {
            r->p++;
            r->depth--;
            return c;
        }
        break;
    }
    cJSON_Delete(c);
    return NULL;
}

static cJSON *read_value(reader *r)
{
    const unsigned char *p = r->p;
    cJSON *v = NULL;
    switch (*p) {
    case 'n':
        if (!strncmp((const char *)p, "null", 4) && (v = new_node(cJSON_NULL)))
            r->p += 4;
        return v;
    case 'f':
        if (!strncmp((const char *)p, "false", 5) && (v = new_node(cJSON_False)))
            r->p += 5;
        return v;
    case 't':
        if (!strncmp((const char *)p, "true", 4) && (v = new_node(cJSON_True))) {
            v->valueint = 1;
            r->p += 4;
        }
        return v;
    case '"': {
        char *s = read_string(r);
        if (s && !(v = new_node(cJSON_NULL)))
            cJSON_free(s);
        if (v) {
            v->type = cJSON_String;
            v->valuestring = s;
        }
        return v;
    }
    case '{':
        return read_container(r, 1);
    case '[':
        return read_container(r, 0);
    default:
        return *p == '-' || (*p >= '0' && *p <= '9') ? read_number(r) : NULL;
    }
}

cJSON *sfn_json_parse(const char *text)
{
    if (!text)
        return NULL;
    reader r = {.p = (const unsigned char *)text};
    if (r.p[0] == 0xEF) /* a byte order mark: cJSON's rules */
        return cJSON_Parse(text);
    skip_space(&r);
    cJSON *v = read_value(&r);
    return v ? v : cJSON_Parse(text);
}

/* ---- lookups --------------------------------------------------------------------- */

cJSON *sfn_object_item(const cJSON *object, const char *name)
{
    if (!object || !name)
        return NULL;
    /* cJSON_GetObjectItemCaseSensitive's answer (the first member with that key);
     * the first byte is compared before the call to strcmp, which most keys of a
     * document fail */
    const char first = name[0];
    for (cJSON *c = object->child; c; c = c->next)
        if (c->string && c->string[0] == first && (!first || !strcmp(c->string + 1, name + 1)))
            return c;
    return NULL;
}
