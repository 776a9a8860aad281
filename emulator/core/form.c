/*
 * form.c — form-encoded bodies of the AWS Query protocol. See form.h.
 *
 * Names are kept twice: in the order sent (for members, which must keep the
 * client's order inside one index) and in a sorted index (for lookups and to
 * find a name given twice in O(n log n), so a hostile body of 100,000 pairs
 * costs milliseconds, not minutes).
 */
#include "core/form.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/xml.h"

const core_form_limits core_form_default_limits = {
    .max_body = 16u << 20,
    .max_name = 1024,
    .max_pairs = 100000,
};

typedef struct form_pair {
    char *name;
    char *value;
} form_pair;

struct core_form {
    form_pair *pairs;
    size_t n, cap;
    size_t *sorted; /* indexes into pairs, by name */
};

void core_form_free(core_form *form)
{
    if (!form)
        return;
    for (size_t i = 0; i < form->n; i++) {
        free(form->pairs[i].name);
        free(form->pairs[i].value);
    }
    free(form->pairs);
    free(form->sorted);
    free(form);
}

static int form_push(core_form *form, char *name, char *value)
{
    if (form->n == form->cap) {
        size_t cap = form->cap ? form->cap * 2 : 16;
        form_pair *p = realloc(form->pairs, cap * sizeof *p);
        if (!p)
            return CORE_ERROR;
        form->pairs = p;
        form->cap = cap;
    }
    form->pairs[form->n].name = name;
    form->pairs[form->n].value = value;
    form->n++;
    return CORE_OK;
}

/* qsort has no context argument: the pairs being sorted are passed here. The
 * sort runs under no lock, so this is per-thread. */
static _Thread_local const form_pair *sort_pairs;

static int by_name(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(sort_pairs[x].name, sort_pairs[y].name);
    return c ? c : (x < y ? -1 : x > y);
}

static int form_index(core_form *form, core_err *err)
{
    if (!form->n)
        return CORE_OK;
    form->sorted = malloc(form->n * sizeof *form->sorted);
    if (!form->sorted)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    for (size_t i = 0; i < form->n; i++)
        form->sorted[i] = i;
    sort_pairs = form->pairs;
    qsort(form->sorted, form->n, sizeof *form->sorted, by_name);
    for (size_t i = 1; i < form->n; i++) {
        const char *a = form->pairs[form->sorted[i - 1]].name;
        if (!strcmp(a, form->pairs[form->sorted[i]].name))
            return core_err_set(err, 400, "MalformedQueryString",
                                "The query string contains a syntax error: the parameter '%.200s' "
                                "is given more than once", a);
    }
    return CORE_OK;
}

/* A name for a message: printable ASCII only, so a hostile name cannot put
 * control characters into an error message or a log line. */
static void printable(char *dst, size_t len, const char *src, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < len; i++)
        dst[j++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
    dst[j] = '\0';
}

int core_form_parse(const char *body, size_t len, const core_form_limits *limits,
                    core_form **out, core_err *err)
{
    *out = NULL;
    if (!limits)
        limits = &core_form_default_limits;
    if (len > limits->max_body)
        return core_err_set(err, 413, "RequestEntityTooLarge",
                            "The request body is %zu bytes; the limit is %zu", len,
                            limits->max_body);
    core_form *form = calloc(1, sizeof *form);
    if (!form)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    const char *p = body, *end = body + len;
    while (len && p <= end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if (stop == p) { /* "a=1&&b=2" or a trailing '&': nothing to keep */
            if (!amp)
                break;
            p = amp + 1;
            continue;
        }
        char shown[64];
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (!eq) {
            printable(shown, sizeof shown, p, (size_t)(stop - p));
            core_form_free(form);
            return core_err_set(err, 400, "MalformedQueryString",
                                "The query string contains a syntax error: '%s' has no '='",
                                shown);
        }
        if (eq == p) {
            core_form_free(form);
            return core_err_set(err, 400, "MalformedQueryString",
                                "The query string contains a syntax error: a parameter has an "
                                "empty name");
        }
        if (form->n >= limits->max_pairs) {
            core_form_free(form);
            return core_err_set(err, 400, "MalformedQueryString",
                                "The query string has more than %zu parameters",
                                limits->max_pairs);
        }
        size_t name_len = 0, value_len = 0;
        char *name = core_url_decode(p, (size_t)(eq - p), 1, &name_len);
        char *value = name ? core_url_decode(eq + 1, (size_t)(stop - eq - 1), 1, &value_len)
                           : NULL;
        if (!name || !value) {
            printable(shown, sizeof shown, p, (size_t)(eq - p));
            free(name);
            free(value);
            core_form_free(form);
            return core_err_set(err, 400, "MalformedQueryString",
                                "The query string contains a syntax error: a malformed %%-escape "
                                "or an encoded NUL byte in parameter '%s'", shown);
        }
        if (!core_xml_utf8_valid(name, name_len) || !core_xml_utf8_valid(value, value_len)) {
            printable(shown, sizeof shown, name, name_len);
            free(name);
            free(value);
            core_form_free(form);
            return core_err_set(err, 400, "MalformedQueryString",
                                "The query string contains a syntax error: parameter '%s' is "
                                "not valid UTF-8", shown);
        }
        if (name_len > limits->max_name) {
            free(name);
            free(value);
            core_form_free(form);
            return core_err_set(err, 400, "MalformedQueryString",
                                "A parameter name is %zu bytes; the limit is %zu", name_len,
                                limits->max_name);
        }
        if (form_push(form, name, value) != CORE_OK) {
            free(name);
            free(value);
            core_form_free(form);
            return core_err_set(err, 500, "InternalFailure", "out of memory");
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    if (form_index(form, err) != CORE_OK) {
        core_form_free(form);
        return CORE_ERROR;
    }
    *out = form;
    return CORE_OK;
}

size_t core_form_count(const core_form *form)
{
    return form ? form->n : 0;
}

const char *core_form_name_at(const core_form *form, size_t i)
{
    return form && i < form->n ? form->pairs[i].name : NULL;
}

const char *core_form_value_at(const core_form *form, size_t i)
{
    return form && i < form->n ? form->pairs[i].value : NULL;
}

const char *core_form_get(const core_form *form, const char *name)
{
    if (!form || !form->n)
        return NULL;
    size_t lo = 0, hi = form->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(form->pairs[form->sorted[mid]].name, name);
        if (!c)
            return form->pairs[form->sorted[mid]].value;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

typedef struct member_ref {
    size_t index; /* the N of prefix.N */
    size_t pair;  /* position in the form */
    size_t rest;  /* offset of the sub-name in the pair's name */
} member_ref;

static int by_index(const void *a, const void *b)
{
    const member_ref *x = a, *y = b;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return x->pair < y->pair ? -1 : x->pair > y->pair;
}

void core_form_members_free(core_form **members, size_t n)
{
    if (!members)
        return;
    for (size_t i = 0; i < n; i++)
        core_form_free(members[i]);
    free(members);
}

int core_form_members(const core_form *form, const char *prefix, size_t max_members,
                      core_form ***members, size_t *n, core_err *err)
{
    *members = NULL;
    *n = 0;
    size_t plen = strlen(prefix);
    member_ref *refs = NULL;
    size_t nrefs = 0, cap = 0;
    for (size_t i = 0; form && i < form->n; i++) {
        const char *name = form->pairs[i].name;
        if (strncmp(name, prefix, plen) != 0 || name[plen] != '.')
            continue;
        const char *d = name + plen + 1;
        size_t digits = strspn(d, "0123456789");
        uint64_t index = 0;
        /* "prefix.N" or "prefix.N.rest" with a non-empty rest: "prefix.N." is
         * malformed (it would name the same member part as "prefix.N"). */
        int ok = digits > 0 && digits <= 9 && d[0] != '0' &&
                 (d[digits] == '\0' || (d[digits] == '.' && d[digits + 1] != '\0'));
        for (size_t k = 0; ok && k < digits; k++)
            index = index * 10 + (uint64_t)(d[k] - '0');
        if (!ok || index > max_members) {
            char shown[64];
            printable(shown, sizeof shown, name, strlen(name));
            free(refs);
            return core_err_set(err, 400, "InvalidParameterValue",
                                "Invalid member index in '%s': members are numbered 1 to %zu",
                                shown, max_members);
        }
        if (nrefs == cap) {
            cap = cap ? cap * 2 : 16;
            member_ref *grown = realloc(refs, cap * sizeof *refs);
            if (!grown) {
                free(refs);
                return core_err_set(err, 500, "InternalFailure", "out of memory");
            }
            refs = grown;
        }
        refs[nrefs].index = (size_t)index;
        refs[nrefs].pair = i;
        refs[nrefs].rest = plen + 1 + digits + (d[digits] == '.');
        nrefs++;
    }
    if (!nrefs)
        return CORE_OK;
    qsort(refs, nrefs, sizeof *refs, by_index);
    size_t groups = 1;
    for (size_t i = 1; i < nrefs; i++)
        groups += refs[i].index != refs[i - 1].index;
    core_form **out = calloc(groups, sizeof *out);
    if (!out) {
        free(refs);
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    }
    size_t g = 0;
    for (size_t i = 0; i < nrefs; i++) {
        if (i && refs[i].index != refs[i - 1].index)
            g++;
        if (!out[g] && !(out[g] = calloc(1, sizeof **out)))
            goto oom;
        const form_pair *pair = &form->pairs[refs[i].pair];
        char *sub = strdup(pair->name + refs[i].rest);
        char *value = strdup(pair->value);
        if (!sub || !value || form_push(out[g], sub, value) != CORE_OK) {
            free(sub);
            free(value);
            goto oom;
        }
    }
    free(refs);
    for (size_t i = 0; i < groups; i++) {
        /* Names were unique in the form, so they are unique in each member. */
        if (form_index(out[i], err) != CORE_OK) {
            core_form_members_free(out, groups);
            return CORE_ERROR;
        }
    }
    *members = out;
    *n = groups;
    return CORE_OK;
oom:
    free(refs);
    core_form_members_free(out, groups);
    return core_err_set(err, 500, "InternalFailure", "out of memory");
}
