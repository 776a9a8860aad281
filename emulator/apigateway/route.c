/*
 * route.c — the route table of one HTTP API and API Gateway's route
 * selection. See route.h for the rules and the evidence behind them.
 *
 * A route's path is parsed once, at build time, into segments (literal,
 * {var}, {greedy+}). A request path is checked and percent-decoded segment by
 * segment, then every route is tried; the most specific match wins by the
 * order in rank_cmp. Tables are small (tens of routes), so a linear scan is
 * simpler than a tree and fast enough; nothing is allocated unless a route
 * matches.
 */
#include "apigateway/route.h"

#include <stdlib.h>
#include <string.h>

#include "apigateway/util.h"
#include "core/codec.h"

typedef enum seg_kind { SEG_LITERAL, SEG_VAR, SEG_GREEDY } seg_kind;

typedef struct seg {
    seg_kind kind;
    char *text; /* literal text, or variable name without braces and '+' */
} seg;

typedef struct entry {
    apigw_route pub; /* first, so &entry->pub converts back */
    int is_default;
    seg *segs;
    size_t n_segs;
} entry;

struct apigw_routes {
    entry *entries;
    size_t n;
};

/* ---- building --------------------------------------------------------------- */

static void entry_release(entry *e)
{
    for (size_t i = 0; i < e->n_segs; i++)
        free(e->segs[i].text);
    free(e->segs);
}

static int parse_route_path(entry *e, const char *path, core_err *err)
{
    if (!strcmp(path, "$default")) {
        e->is_default = 1;
        return CORE_OK;
    }
    if (path[0] != '/')
        return core_err_set(err, 400, "ValidationError", "route %s: path must start with /",
                            e->pub.route_key);
    size_t cap = 0;
    for (const char *c = path; *c; c++)
        cap += *c == '/';
    e->segs = calloc(cap + 1, sizeof *e->segs);
    if (!e->segs)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    size_t n_vars = 0;
    const char *p = path + 1;
    if (!*p)
        return CORE_OK; /* "/" has no segments */
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0)
            return core_err_set(err, 400, "ValidationError",
                                "route %s: empty path segment (a route cannot contain // or "
                                "end in /)", e->pub.route_key);
        seg *s = &e->segs[e->n_segs++];
        if (p[0] == '{') {
            if (p[len - 1] != '}' || len < 3 || memchr(p + 1, '{', len - 1) ||
                memchr(p + 1, '}', len - 2))
                return core_err_set(err, 400, "ValidationError",
                                    "route %s: a path variable must be a whole segment {name}",
                                    e->pub.route_key);
            size_t name_len = len - 2;
            s->kind = SEG_VAR;
            if (p[len - 2] == '+') {
                s->kind = SEG_GREEDY;
                name_len--;
                if (slash)
                    return core_err_set(err, 400, "ValidationError",
                                        "route %s: the greedy variable must be the last segment",
                                        e->pub.route_key);
            }
            if (name_len == 0)
                return core_err_set(err, 400, "ValidationError",
                                    "route %s: a path variable needs a name", e->pub.route_key);
            if (++n_vars > APIGW_MAX_PARAMS)
                return core_err_set(err, 400, "ValidationError",
                                    "route %s: more than %d path variables", e->pub.route_key,
                                    APIGW_MAX_PARAMS);
            s->text = strndup(p + 1, name_len);
        } else {
            if (memchr(p, '{', len) || memchr(p, '}', len))
                return core_err_set(err, 400, "ValidationError",
                                    "route %s: a path variable must be a whole segment {name}",
                                    e->pub.route_key);
            s->kind = SEG_LITERAL;
            s->text = strndup(p, len);
        }
        if (!s->text)
            return core_err_set(err, 500, "InternalFailure", "out of memory");
        if (!slash)
            break;
        p = slash + 1;
    }
    return CORE_OK;
}

apigw_routes *apigw_routes_new(const core_template *tpl, const char *api_logical_id,
                               core_err *err)
{
    int found = 0;
    for (size_t i = 0; i < core_template_http_api_count(tpl); i++)
        found |= !strcmp(core_template_http_api_at(tpl, i)->logical_id, api_logical_id);
    if (!found) {
        core_err_set(err, 400, "ValidationError", "no HTTP API %s in the template",
                     api_logical_id);
        return NULL;
    }
    apigw_routes *t = calloc(1, sizeof *t);
    if (!t) {
        core_err_set(err, 500, "InternalFailure", "out of memory");
        return NULL;
    }
    size_t total = 0;
    for (size_t i = 0; i < core_template_function_count(tpl); i++)
        total += core_template_function_at(tpl, i)->n_routes;
    t->entries = calloc(total + 1, sizeof *t->entries);
    if (!t->entries) {
        core_err_set(err, 500, "InternalFailure", "out of memory");
        free(t);
        return NULL;
    }
    for (size_t i = 0; i < core_template_function_count(tpl); i++) {
        const core_tpl_function *f = core_template_function_at(tpl, i);
        for (size_t k = 0; k < f->n_routes; k++) {
            const core_tpl_route *r = &f->routes[k];
            if (strcmp(r->api_logical_id, api_logical_id) != 0)
                continue;
            for (size_t j = 0; j < t->n; j++)
                if (!strcmp(t->entries[j].pub.route_key, r->route_key)) {
                    core_err_set(err, 400, "ValidationError",
                                 "HTTP API %s: route %s is defined by both %s and %s",
                                 api_logical_id, r->route_key, t->entries[j].pub.function_id,
                                 f->resource->logical_id);
                    apigw_routes_free(t);
                    return NULL;
                }
            entry *e = &t->entries[t->n++];
            e->pub.function_id = f->resource->logical_id;
            e->pub.route_key = r->route_key;
            e->pub.method = r->method;
            e->pub.path = r->path;
            e->pub.authorizer = r->authorizer;
            e->pub.scopes = r->scopes;
            e->pub.n_scopes = r->n_scopes;
            e->pub.timeout_ms = r->timeout_ms;
            e->pub.payload_version = r->payload_version;
            if (parse_route_path(e, r->path, err) != CORE_OK) {
                apigw_routes_free(t);
                return NULL;
            }
        }
    }
    return t;
}

void apigw_routes_free(apigw_routes *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        entry_release(&t->entries[i]);
    free(t->entries);
    free(t);
}

size_t apigw_routes_count(const apigw_routes *t)
{
    return t ? t->n : 0;
}

const apigw_route *apigw_routes_at(const apigw_routes *t, size_t i)
{
    return t && i < t->n ? &t->entries[i].pub : NULL;
}

/* ---- the request path ------------------------------------------------------ */

typedef struct req_path {
    char **segs; /* decoded */
    size_t n;
    int trailing_slash; /* "/a/b/": one more, empty, segment only greedy takes */
} req_path;

static void req_path_release(req_path *rp)
{
    for (size_t i = 0; i < rp->n; i++)
        free(rp->segs[i]);
    free(rp->segs);
    rp->segs = NULL;
    rp->n = 0;
}

/* Split and decode; 0 when the path is one we refuse (see route.h). */
static int req_path_parse(const char *path, req_path *rp)
{
    memset(rp, 0, sizeof *rp);
    size_t len = strlen(path);
    if (len == 0 || len > APIGW_MAX_PATH || path[0] != '/')
        return 0;
    if (len == 1)
        return 1;
    size_t cap = 0;
    for (size_t i = 0; i < len; i++)
        cap += path[i] == '/';
    rp->segs = calloc(cap, sizeof *rp->segs);
    if (!rp->segs)
        return 0;
    const char *p = path + 1;
    const char *end = path + len;
    while (p < end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        size_t n = slash ? (size_t)(slash - p) : (size_t)(end - p);
        if (n == 0)
            goto refuse; /* "//" */
        for (size_t i = 0; i + 2 < n; i++)
            if (p[i] == '%' && p[i + 1] == '2' && (p[i + 2] == 'F' || p[i + 2] == 'f'))
                goto refuse; /* an encoded slash: where API Gateway splits is unknown */
        size_t dlen;
        char *d = core_url_decode(p, n, 0, &dlen);
        if (!d)
            goto refuse;
        rp->segs[rp->n++] = d;
        if (!core_utf8_valid((const unsigned char *)d, dlen) || !strcmp(d, ".") ||
            !strcmp(d, ".."))
            goto refuse;
        if (!slash)
            break;
        p = slash + 1;
        if (p == end)
            rp->trailing_slash = 1;
    }
    return 1;
refuse:
    req_path_release(rp);
    return 0;
}

/* ---- matching --------------------------------------------------------------- */

enum { TIER_FULL = 0, TIER_GREEDY = 1, TIER_DEFAULT = 2 };

static int entry_matches(const entry *e, const char *method, const req_path *rp, int *tier)
{
    if (strcmp(e->pub.method, "ANY") != 0 && strcmp(e->pub.method, method) != 0)
        return 0;
    if (e->is_default) {
        *tier = TIER_DEFAULT;
        return 1;
    }
    int greedy = e->n_segs > 0 && e->segs[e->n_segs - 1].kind == SEG_GREEDY;
    size_t fixed = greedy ? e->n_segs - 1 : e->n_segs;
    if (greedy) {
        if (!(rp->n > fixed || (rp->n == fixed && rp->trailing_slash)))
            return 0;
    } else if (rp->trailing_slash || rp->n != fixed) {
        return 0;
    }
    for (size_t i = 0; i < fixed; i++)
        if (e->segs[i].kind == SEG_LITERAL && strcmp(e->segs[i].text, rp->segs[i]) != 0)
            return 0;
    *tier = greedy ? TIER_GREEDY : TIER_FULL;
    return 1;
}

/* < 0 when a is more specific than b (both match, same tier). */
static int rank_cmp(const entry *a, const entry *b)
{
    size_t na = a->n_segs, nb = b->n_segs;
    if (na != nb) /* greedy: the longer prefix is the more specific */
        return na > nb ? -1 : 1;
    for (size_t i = 0; i < na; i++) {
        int la = a->segs[i].kind == SEG_LITERAL, lb = b->segs[i].kind == SEG_LITERAL;
        if (la != lb)
            return la ? -1 : 1;
    }
    int ma = strcmp(a->pub.method, "ANY") != 0, mb = strcmp(b->pub.method, "ANY") != 0;
    return ma == mb ? 0 : ma ? -1 : 1;
}

static char *join_rest(const req_path *rp, size_t from)
{
    size_t len = 1;
    for (size_t i = from; i < rp->n; i++)
        len += strlen(rp->segs[i]) + 1;
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = from; i < rp->n; i++) {
        if (i > from)
            out[o++] = '/';
        size_t l = strlen(rp->segs[i]);
        memcpy(out + o, rp->segs[i], l);
        o += l;
    }
    if (rp->trailing_slash && rp->n > from)
        out[o++] = '/';
    out[o] = '\0';
    return out;
}

const apigw_route *apigw_route_match(const apigw_routes *t, const char *method,
                                     const char *path, apigw_params *out_params)
{
    if (out_params)
        memset(out_params, 0, sizeof *out_params);
    if (!t || !method || !path)
        return NULL;
    req_path rp;
    int path_ok = req_path_parse(path, &rp);
    const entry *best = NULL;
    int best_tier = TIER_DEFAULT + 1;
    for (size_t i = 0; i < t->n; i++) {
        const entry *e = &t->entries[i];
        int tier;
        /* A refused path reaches nothing, not even $default: the refusal is
         * ours, not the API's, and must not invoke a function. */
        if (!path_ok || !entry_matches(e, method, &rp, &tier))
            continue;
        if (!best || tier < best_tier || (tier == best_tier && rank_cmp(e, best) < 0)) {
            best = e;
            best_tier = tier;
        }
    }
    if (best && out_params && best_tier != TIER_DEFAULT) {
        for (size_t i = 0; i < best->n_segs; i++) {
            const seg *s = &best->segs[i];
            if (s->kind == SEG_LITERAL)
                continue;
            apigw_param *p = &out_params->items[out_params->n++];
            p->name = s->text;
            p->value = s->kind == SEG_GREEDY ? join_rest(&rp, i) : strdup(rp.segs[i]);
            if (!p->value) {
                apigw_params_release(out_params);
                best = NULL;
                break;
            }
        }
    }
    req_path_release(&rp);
    return best ? &best->pub : NULL;
}

void apigw_params_release(apigw_params *params)
{
    if (!params)
        return;
    for (size_t i = 0; i < params->n; i++)
        free(params->items[i].value);
    memset(params, 0, sizeof *params);
}

const char *apigw_params_get(const apigw_params *params, const char *name)
{
    for (size_t i = 0; params && i < params->n; i++)
        if (!strcmp(params->items[i].name, name))
            return params->items[i].value;
    return NULL;
}

cJSON *apigw_params_json(const apigw_params *params)
{
    if (!params || params->n == 0)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < params->n; i++)
        cJSON_AddStringToObject(o, params->items[i].name, params->items[i].value);
    return o;
}

const char *apigw_strip_stage(const char *path, const char *stage)
{
    if (!path)
        return NULL;
    if (!stage || !strcmp(stage, "$default"))
        return path;
    size_t n = strlen(stage);
    if (path[0] != '/' || strncmp(path + 1, stage, n) != 0)
        return NULL;
    const char *rest = path + 1 + n;
    if (*rest == '\0')
        return "/";
    return *rest == '/' ? rest : NULL;
}
