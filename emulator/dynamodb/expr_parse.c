/*
 * expr_parse.c — the parser of DynamoDB's expression language: tokens to a
 * tree, once, with every check AWS makes before it reads an item.
 *
 * Grammars (keywords are case-insensitive, function names are not):
 *
 *   condition  := or                           (Condition, Filter, KeyCondition)
 *   or         := and (OR and)*
 *   and        := not (AND not)*
 *   not        := NOT* primary
 *   primary    := '(' or ')' [path-rest] [compare] | operand [compare]
 *   compare    := comparator arg | BETWEEN arg AND arg | IN '(' arg (',' arg)* ')'
 *   arg        := '(' arg ')' [path-rest] | operand
 *   operand    := :value | name '(' arg (',' arg)* ')' | path
 *   path       := (name | #name) path-rest ;  path-rest := ('.' (name | #name) | '[' digits ']')*
 *
 *   update     := (SET set (',' set)* | REMOVE path (',' path)* | ADD path :value (',' ...)*
 *                  | DELETE path :value (',' ...)*)+
 *   set        := path '=' value ;  value := uoperand [('+'|'-') uoperand] | '(' the same ')'
 *   uoperand   := '(' uoperand ')' | :value | name '(' uoperand (',' uoperand)* ')' | path
 *
 *   projection := path (',' path)*
 *
 * A parenthesised group in a condition may hold a condition or an operand, so
 * primary parses "(x)" first and decides by what follows: an operand in
 * parentheses may be compared ("(a) = :v") or continue as a path ("(a.b).c"),
 * which AWS accepts; an operand where a condition is needed ("NOT a", "a" alone)
 * is a syntax error on the token after it, as AWS reports ("token: "<EOF>",
 * near: "a"").
 *
 * Syntax errors quote the token where reading stopped and, as "near", the text
 * from the token before it to the token after it (AWS: 'a-b' gives token "-",
 * near "a-b"; 'SET _123 = :v' gives token "_", near "SET _123").
 *
 * After a successful parse the tree is checked in AWS's order (taken from its
 * observable behaviour and from DynamoDB Local): too many operators, redundant
 * parentheses, unknown function names, functions used in the wrong place,
 * path nesting and list index limits, reserved words, then per operator or
 * function (in the order the parser finished them): undefined #names and
 * :values, number of operands, repeated first operand, operand types, BETWEEN
 * bounds. Updates check clauses used twice, overlapping and conflicting paths,
 * and the operand types of ADD and DELETE; key conditions check their shape.
 *
 * Hostile input is bounded before it costs anything: 4096 bytes at most, a
 * nesting bound (DDBX_MAX_NESTING) on recursion, n-ary AND/OR so term counts
 * never turn into depth, and 300 operators at most.
 */
#include "dynamodb/expr_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamodb/value.h"

/* ---- errors --------------------------------------------------------------- */

static const char *kind_name(ddb_expr_kind kind)
{
    switch (kind) {
    case DDB_EXPR_KEY_CONDITION: return "KeyConditionExpression";
    case DDB_EXPR_CONDITION: return "ConditionExpression";
    case DDB_EXPR_FILTER: return "FilterExpression";
    case DDB_EXPR_UPDATE: return "UpdateExpression";
    case DDB_EXPR_PROJECTION: return "ProjectionExpression";
    }
    return "Expression";
}

int ddbx_invalid(core_err *err, ddb_expr_kind kind, const char *fmt, ...)
{
    char msg[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return core_err_set(err, 400, "ValidationException", "Invalid %s: %s", kind_name(kind), msg);
}

int ddbx_validation(core_err *err, const char *fmt, ...)
{
    char msg[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return core_err_set(err, 400, "ValidationException", "%s", msg);
}

int ddbx_oom(core_err *err)
{
    return core_err_set(err, 500, "InternalServerError", "out of memory");
}

/* ---- the tree ------------------------------------------------------------- */

void ddbx_path_clear(ddbx_path *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->e[i].name);
    free(p->e);
    p->e = NULL;
    p->n = 0;
}

void ddbx_node_free(ddbx_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkid; i++)
        ddbx_node_free(n->kid[i]);
    free(n->kid);
    ddbx_path_clear(&n->path);
    cJSON_Delete(n->value);
    free(n);
}

void ddb_expr_free(ddb_expr *e)
{
    if (!e)
        return;
    ddbx_node_free(e->cond);
    for (size_t i = 0; i < e->nact; i++) {
        ddbx_path_clear(&e->act[i].path);
        ddbx_node_free(e->act[i].value);
    }
    free(e->act);
    for (size_t i = 0; i < e->nproj; i++)
        ddbx_path_clear(&e->proj[i]);
    free(e->proj);
    for (size_t i = 0; i < e->nkey; i++)
        free(e->key[i].attr);
    free(e);
}

/* ---- the request's names and values --------------------------------------- */

static int key_order(const void *a, const void *b)
{
    return strcmp(((const ddbx_ctx_key *)a)->key, ((const ddbx_ctx_key *)b)->key);
}

static ddbx_ctx_key *ctx_keys(const cJSON *obj, size_t *n)
{
    *n = 0;
    if (!cJSON_IsObject(obj))
        return NULL;
    size_t count = 0;
    const cJSON *c;
    for (c = obj->child; c; c = c->next)
        if (c->string)
            count++;
    if (count == 0)
        return NULL;
    ddbx_ctx_key *k = calloc(count, sizeof *k);
    if (!k)
        return NULL;
    size_t i = 0;
    for (c = obj->child; c; c = c->next) {
        if (!c->string)
            continue;
        k[i].key = c->string;
        k[i].item = c;
        i++;
    }
    qsort(k, count, sizeof *k, key_order);
    *n = count;
    return k;
}

ddb_expr_ctx *ddb_expr_ctx_new(const cJSON *names, const cJSON *values)
{
    ddb_expr_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->names = ctx_keys(names, &ctx->nnames);
    ctx->values = ctx_keys(values, &ctx->nvalues);
    if ((cJSON_IsObject(names) && names->child && !ctx->names) ||
        (cJSON_IsObject(values) && values->child && !ctx->values)) {
        ddb_expr_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

void ddb_expr_ctx_free(ddb_expr_ctx *ctx)
{
    if (!ctx)
        return;
    free(ctx->names);
    free(ctx->values);
    free(ctx);
}

/* The key equal to s[0..len), by binary search, or NULL. */
static ddbx_ctx_key *ctx_find(ddbx_ctx_key *k, size_t n, const char *s, size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        size_t kl = strlen(k[mid].key);
        int c = memcmp(s, k[mid].key, len < kl ? len : kl);
        if (c == 0)
            c = len < kl ? -1 : len > kl ? 1 : 0;
        if (c == 0)
            return &k[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static int list_unused(const ddbx_ctx_key *k, size_t n, const char *what, core_err *err)
{
    size_t need = 1, count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!k[i].used) {
            need += strlen(k[i].key) + 2;
            count++;
        }
    }
    if (count == 0)
        return CORE_OK;
    char *list = malloc(need);
    if (!list)
        return ddbx_oom(err);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (k[i].used)
            continue;
        size_t l = strlen(k[i].key);
        if (o) {
            memcpy(list + o, ", ", 2);
            o += 2;
        }
        memcpy(list + o, k[i].key, l);
        o += l;
    }
    list[o] = '\0';
    ddbx_validation(err, "Value provided in %s unused in expressions: keys: {%s}", what, list);
    free(list);
    return CORE_ERROR;
}

int ddb_expr_ctx_check_unused(const ddb_expr_ctx *ctx, core_err *err)
{
    if (!ctx)
        return CORE_OK;
    if (list_unused(ctx->names, ctx->nnames, "ExpressionAttributeNames", err) != CORE_OK)
        return CORE_ERROR;
    return list_unused(ctx->values, ctx->nvalues, "ExpressionAttributeValues", err);
}

/* ---- parser state ------------------------------------------------------- */

typedef struct parser {
    ddb_expr_kind kind;
    const char *src;
    size_t len;
    ddbx_token *t;
    size_t nt;
    size_t i;
    ddb_expr_ctx *ctx;
    core_err *err;
    unsigned depth;
    int too_deep;
    int operators;
    int redundant;
    int failed;
} parser;

static int is_cond_kind(const parser *p)
{
    return p->kind == DDB_EXPR_CONDITION || p->kind == DDB_EXPR_FILTER ||
           p->kind == DDB_EXPR_KEY_CONDITION;
}

static const ddbx_token *cur(const parser *p)
{
    return &p->t[p->i];
}

static const ddbx_token *peek(const parser *p, size_t ahead)
{
    size_t j = p->i + ahead;
    return &p->t[j < p->nt ? j : p->nt - 1];
}

static int kw(const parser *p, const ddbx_token *t, const char *word)
{
    return ddbx_tok_is(p->src, t, word);
}

/* Words that are keywords of this kind of expression (never names). */
static int is_keyword(const parser *p, const ddbx_token *t)
{
    if (t->kind != TK_IDENT)
        return 0;
    if (is_cond_kind(p))
        return kw(p, t, "AND") || kw(p, t, "OR") || kw(p, t, "NOT") || kw(p, t, "BETWEEN") ||
               kw(p, t, "IN");
    if (p->kind == DDB_EXPR_UPDATE)
        return kw(p, t, "SET") || kw(p, t, "REMOVE") || kw(p, t, "ADD") || kw(p, t, "DELETE");
    return 0;
}

static int oom(parser *p)
{
    if (!p->failed) {
        p->failed = 1;
        ddbx_oom(p->err);
    }
    return CORE_ERROR;
}

static int syntax_error(parser *p, size_t at)
{
    if (p->failed)
        return CORE_ERROR;
    p->failed = 1;
    const ddbx_token *t = &p->t[at];
    size_t from, to;
    if (t->kind == TK_EOF) {
        from = at > 0 ? p->t[at - 1].pos : t->pos;
        to = at > 0 ? p->t[at - 1].pos + p->t[at - 1].len : t->pos;
    } else {
        from = at > 0 ? p->t[at - 1].pos : t->pos;
        to = t->pos + t->len;
        if (at + 1 < p->nt && p->t[at + 1].kind != TK_EOF)
            to = p->t[at + 1].pos + p->t[at + 1].len;
    }
    char *tok = t->kind == TK_EOF ? strdup("<EOF>") : ddbx_display(p->src + t->pos, t->len);
    char *near = ddbx_display(p->src + from, to - from);
    if (!tok || !near) {
        free(tok);
        free(near);
        return ddbx_oom(p->err);
    }
    ddbx_invalid(p->err, p->kind, "Syntax error; token: \"%s\", near: \"%s\"", tok, near);
    free(tok);
    free(near);
    return CORE_ERROR;
}

static int enter(parser *p)
{
    if (++p->depth > DDBX_MAX_NESTING) {
        p->too_deep = 1;
        return CORE_ERROR;
    }
    return CORE_OK;
}

static void leave(parser *p)
{
    p->depth--;
}

static ddbx_node *new_node(parser *p, ddbx_node_kind kind)
{
    ddbx_node *n = calloc(1, sizeof *n);
    if (!n) {
        oom(p);
        return NULL;
    }
    n->kind = kind;
    n->tok = (uint32_t)p->i;
    return n;
}

/* Arrays grow by doubling: a count that is 0 or a power of two is full. */
static int full(size_t n)
{
    return (n & (n - 1)) == 0;
}

static int add_kid(parser *p, ddbx_node *n, ddbx_node *kid)
{
    if (full(n->nkid)) {
        ddbx_node **k = realloc(n->kid, (n->nkid ? n->nkid * 2 : 1) * sizeof *k);
        if (!k) {
            ddbx_node_free(kid);
            return oom(p);
        }
        n->kid = k;
    }
    n->kid[n->nkid++] = kid;
    return CORE_OK;
}

static int is_operand(const ddbx_node *n)
{
    return n->kind == NK_PATH || n->kind == NK_VALUE || n->kind == NK_CALL;
}

/* A group "( x )" closed: a group directly inside another is redundant. */
static void wrapped(parser *p, ddbx_node *n)
{
    n->parens++;
    if (n->parens >= 2)
        p->redundant = 1;
    n->next_tok = (uint32_t)p->i;
}

/* ---- paths ---------------------------------------------------------------- */

static int path_push(parser *p, ddbx_path *path, const ddbx_token *t)
{
    if (full(path->n)) {
        ddbx_elem *e = realloc(path->e, (path->n ? path->n * 2 : 1) * sizeof *e);
        if (!e)
            return oom(p);
        path->e = e;
    }
    ddbx_elem *x = &path->e[path->n];
    memset(x, 0, sizeof *x);
    x->tok = (uint32_t)(t - p->t);
    if (t->kind == TK_NUMBER) {
        x->is_index = 1;
        uint64_t v = 0;
        for (size_t i = 0; i < t->len; i++) {
            v = v * 10 + (uint64_t)(p->src[t->pos + i] - '0');
            if (v > DDBX_MAX_LIST_INDEX) {
                x->index_too_big = 1;
                break;
            }
        }
        x->index = x->index_too_big ? 0 : (uint32_t)v;
    } else if (t->kind == TK_NAME) {
        x->is_ref = 1;
    } else {
        x->name = strndup(p->src + t->pos, t->len);
        if (!x->name)
            return oom(p);
    }
    path->n++;
    return CORE_OK;
}

static int is_name_token(const parser *p, const ddbx_token *t)
{
    return t->kind == TK_NAME || (t->kind == TK_IDENT && !is_keyword(p, t));
}

/* '.' name | '[' digits ']', as many as follow. */
static int path_rest(parser *p, ddbx_path *path)
{
    for (;;) {
        if (cur(p)->kind == TK_DOT) {
            p->i++;
            if (!is_name_token(p, cur(p)))
                return syntax_error(p, p->i);
            if (path_push(p, path, cur(p)) != CORE_OK)
                return CORE_ERROR;
            p->i++;
        } else if (cur(p)->kind == TK_LBRACKET) {
            p->i++;
            if (cur(p)->kind != TK_NUMBER)
                return syntax_error(p, p->i);
            if (path_push(p, path, cur(p)) != CORE_OK)
                return CORE_ERROR;
            p->i++;
            if (cur(p)->kind != TK_RBRACKET)
                return syntax_error(p, p->i);
            p->i++;
        } else {
            return CORE_OK;
        }
    }
}

static ddbx_node *parse_path(parser *p)
{
    if (!is_name_token(p, cur(p))) {
        syntax_error(p, p->i);
        return NULL;
    }
    ddbx_node *n = new_node(p, NK_PATH);
    if (!n)
        return NULL;
    if (path_push(p, &n->path, cur(p)) != CORE_OK) {
        ddbx_node_free(n);
        return NULL;
    }
    p->i++;
    if (path_rest(p, &n->path) != CORE_OK) {
        ddbx_node_free(n);
        return NULL;
    }
    n->next_tok = (uint32_t)p->i;
    return n;
}

static ddbx_func func_lookup(const char *s, size_t len)
{
    static const struct {
        const char *name;
        ddbx_func fn;
    } table[] = {
        {"attribute_exists", FN_ATTRIBUTE_EXISTS},
        {"attribute_not_exists", FN_ATTRIBUTE_NOT_EXISTS},
        {"attribute_type", FN_ATTRIBUTE_TYPE},
        {"begins_with", FN_BEGINS_WITH},
        {"contains", FN_CONTAINS},
        {"size", FN_SIZE},
        {"if_not_exists", FN_IF_NOT_EXISTS},
        {"list_append", FN_LIST_APPEND},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strlen(table[i].name) == len && memcmp(table[i].name, s, len) == 0)
            return table[i].fn;
    return FN_UNKNOWN;
}

/* arg (',' arg)* ')' after an opening parenthesis, each arg parsed by the given
 * rule and added to n; the ')' is consumed. CORE_ERROR after a syntax error. */
static int arg_list(parser *p, ddbx_node *n, ddbx_node *(*arg)(parser *))
{
    for (;;) {
        ddbx_node *a = arg(p);
        if (!a || add_kid(p, n, a) != CORE_OK)
            return CORE_ERROR;
        if (cur(p)->kind == TK_COMMA) {
            p->i++;
            continue;
        }
        if (cur(p)->kind == TK_RPAREN) {
            p->i++;
            return CORE_OK;
        }
        syntax_error(p, p->i);
        return CORE_ERROR;
    }
}

/* name '(' arg (',' arg)* ')' with the given argument rule. */
static ddbx_node *parse_call(parser *p, ddbx_node *(*arg)(parser *))
{
    ddbx_node *n = new_node(p, NK_CALL);
    if (!n)
        return NULL;
    const ddbx_token *name = cur(p);
    n->op = func_lookup(p->src + name->pos, name->len);
    p->i += 2;
    p->operators++;
    if (enter(p) != CORE_OK)
        goto fail;
    if (arg_list(p, n, arg) != CORE_OK)
        goto fail_left;
    leave(p);
    n->next_tok = (uint32_t)p->i;
    return n;
fail_left:
    leave(p);
fail:
    ddbx_node_free(n);
    return NULL;
}

/* ---- condition grammar ---------------------------------------------------- */

static ddbx_node *c_or(parser *p);
static ddbx_node *c_arg(parser *p);

/* An operand standing where a condition is needed: only a function call can
 * (its use is checked later); a path or value is a syntax error on the token
 * where the comparator should have been. */
static int as_condition(parser *p, const ddbx_node *n)
{
    if (n->kind == NK_PATH || n->kind == NK_VALUE)
        return syntax_error(p, n->next_tok);
    return CORE_OK;
}

/* An operand that is not parenthesised: a :value, a function call (its
 * arguments parsed by arg), or a document path. */
static ddbx_node *value_call_or_path(parser *p, ddbx_node *(*arg)(parser *))
{
    const ddbx_token *t = cur(p);
    if (t->kind == TK_VALUE) {
        ddbx_node *n = new_node(p, NK_VALUE);
        if (!n)
            return NULL;
        p->i++;
        n->next_tok = (uint32_t)p->i;
        return n;
    }
    if (t->kind == TK_IDENT && !is_keyword(p, t) && peek(p, 1)->kind == TK_LPAREN)
        return parse_call(p, arg);
    return parse_path(p);
}

static ddbx_node *c_operand(parser *p)
{
    return value_call_or_path(p, c_arg);
}

/* After "( inner": expect ")", mark the group, and let a grouped path go on as
 * "(a.b).c". Takes inner (may be NULL after an error); returns it or NULL. */
static ddbx_node *close_group(parser *p, ddbx_node *in)
{
    if (!in)
        return NULL;
    if (cur(p)->kind != TK_RPAREN) {
        syntax_error(p, p->i);
        ddbx_node_free(in);
        return NULL;
    }
    p->i++;
    wrapped(p, in);
    if (in->kind == NK_PATH && (cur(p)->kind == TK_DOT || cur(p)->kind == TK_LBRACKET)) {
        if (path_rest(p, &in->path) != CORE_OK) {
            ddbx_node_free(in);
            return NULL;
        }
        in->parens = 0;
        in->next_tok = (uint32_t)p->i;
    }
    return in;
}

/* "( arg )", possibly continued as a grouped path "(a.b).c". */
static ddbx_node *c_arg(parser *p)
{
    if (cur(p)->kind != TK_LPAREN)
        return c_operand(p);
    p->i++;
    if (enter(p) != CORE_OK)
        return NULL;
    ddbx_node *in = c_arg(p);
    leave(p);
    return close_group(p, in);
}

static int comparator(ddbx_tok_kind k, ddbx_cmp *op)
{
    switch (k) {
    case TK_EQ: *op = CMP_EQ; return 1;
    case TK_NE: *op = CMP_NE; return 1;
    case TK_LT: *op = CMP_LT; return 1;
    case TK_LE: *op = CMP_LE; return 1;
    case TK_GT: *op = CMP_GT; return 1;
    case TK_GE: *op = CMP_GE; return 1;
    default: return 0;
    }
}

/* left [comparator arg | BETWEEN arg AND arg | IN (arg, ...)]; owns left. */
static ddbx_node *c_compare(parser *p, ddbx_node *left)
{
    ddbx_cmp op;
    ddbx_node *n = NULL;
    if (comparator(cur(p)->kind, &op)) {
        n = new_node(p, NK_CMP);
        if (!n)
            goto fail;
        n->op = op;
        p->i++;
        p->operators++;
        if (add_kid(p, n, left) != CORE_OK) {
            left = NULL;
            goto fail;
        }
        left = NULL;
        ddbx_node *r = c_arg(p);
        if (!r || add_kid(p, n, r) != CORE_OK)
            goto fail;
    } else if (kw(p, cur(p), "BETWEEN")) {
        n = new_node(p, NK_BETWEEN);
        if (!n)
            goto fail;
        p->i++;
        p->operators++;
        if (add_kid(p, n, left) != CORE_OK) {
            left = NULL;
            goto fail;
        }
        left = NULL;
        ddbx_node *lo = c_arg(p);
        if (!lo || add_kid(p, n, lo) != CORE_OK)
            goto fail;
        if (!kw(p, cur(p), "AND")) {
            syntax_error(p, p->i);
            goto fail;
        }
        p->i++;
        ddbx_node *hi = c_arg(p);
        if (!hi || add_kid(p, n, hi) != CORE_OK)
            goto fail;
    } else if (kw(p, cur(p), "IN")) {
        n = new_node(p, NK_IN);
        if (!n)
            goto fail;
        p->i++;
        p->operators++;
        if (add_kid(p, n, left) != CORE_OK) {
            left = NULL;
            goto fail;
        }
        left = NULL;
        if (cur(p)->kind != TK_LPAREN) {
            syntax_error(p, p->i);
            goto fail;
        }
        p->i++;
        if (arg_list(p, n, c_arg) != CORE_OK)
            goto fail;
    } else {
        return left;
    }
    n->next_tok = (uint32_t)p->i;
    return n;
fail:
    ddbx_node_free(left);
    ddbx_node_free(n);
    return NULL;
}

static ddbx_node *c_primary(parser *p)
{
    if (cur(p)->kind != TK_LPAREN) {
        ddbx_node *left = c_operand(p);
        return left ? c_compare(p, left) : NULL;
    }
    p->i++;
    if (enter(p) != CORE_OK)
        return NULL;
    ddbx_node *in = c_or(p);
    leave(p);
    in = close_group(p, in);
    if (!in)
        return NULL;
    return is_operand(in) ? c_compare(p, in) : in;
}

static ddbx_node *c_not(parser *p)
{
    int count = 0;
    size_t first = p->i;
    while (kw(p, cur(p), "NOT")) {
        count++;
        p->i++;
    }
    ddbx_node *in = c_primary(p);
    if (!in || count == 0)
        return in;
    if (as_condition(p, in) != CORE_OK) {
        ddbx_node_free(in);
        return NULL;
    }
    /* A run of NOTs is one node: depth never grows with their number. */
    ddbx_node *n = new_node(p, NK_NOT);
    if (!n) {
        ddbx_node_free(in);
        return NULL;
    }
    n->tok = (uint32_t)first;
    n->op = count;
    p->operators += count;
    if (add_kid(p, n, in) != CORE_OK) {
        ddbx_node_free(n);
        return NULL;
    }
    n->next_tok = (uint32_t)p->i;
    return n;
}

/* One level of AND or OR, n-ary. */
static ddbx_node *c_chain(parser *p, const char *word, ddbx_node_kind kind,
                          ddbx_node *(*sub)(parser *))
{
    ddbx_node *first = sub(p);
    if (!first || !kw(p, cur(p), word))
        return first;
    if (as_condition(p, first) != CORE_OK) {
        ddbx_node_free(first);
        return NULL;
    }
    ddbx_node *n = new_node(p, kind);
    if (!n) {
        ddbx_node_free(first);
        return NULL;
    }
    if (add_kid(p, n, first) != CORE_OK)
        goto fail;
    while (kw(p, cur(p), word)) {
        p->i++;
        p->operators++;
        ddbx_node *k = sub(p);
        if (!k)
            goto fail;
        if (as_condition(p, k) != CORE_OK) {
            ddbx_node_free(k);
            goto fail;
        }
        if (add_kid(p, n, k) != CORE_OK)
            goto fail;
    }
    n->next_tok = (uint32_t)p->i;
    return n;
fail:
    ddbx_node_free(n);
    return NULL;
}

static ddbx_node *c_and(parser *p)
{
    return c_chain(p, "AND", NK_AND, c_not);
}

static ddbx_node *c_or(parser *p)
{
    return c_chain(p, "OR", NK_OR, c_and);
}

static int parse_condition(parser *p, ddb_expr *e)
{
    ddbx_node *root = c_or(p);
    if (!root)
        return CORE_ERROR;
    e->cond = root;
    if (as_condition(p, root) != CORE_OK)
        return CORE_ERROR;
    if (cur(p)->kind != TK_EOF)
        return syntax_error(p, p->i);
    return CORE_OK;
}

/* ---- update grammar ------------------------------------------------------- */

static ddbx_node *u_operand(parser *p)
{
    const ddbx_token *t = cur(p);
    if (t->kind == TK_LPAREN) {
        p->i++;
        if (enter(p) != CORE_OK)
            return NULL;
        ddbx_node *in = u_operand(p);
        leave(p);
        if (!in)
            return NULL;
        if (cur(p)->kind != TK_RPAREN) {
            syntax_error(p, p->i);
            ddbx_node_free(in);
            return NULL;
        }
        p->i++;
        in->parens++;
        in->next_tok = (uint32_t)p->i;
        return in;
    }
    return value_call_or_path(p, u_operand);
}

static ddbx_node *u_binary(parser *p, ddbx_node *left)
{
    ddbx_node_kind kind = cur(p)->kind == TK_PLUS ? NK_PLUS : NK_MINUS;
    ddbx_node *n = new_node(p, kind);
    if (!n) {
        ddbx_node_free(left);
        return NULL;
    }
    p->i++;
    p->operators++;
    if (add_kid(p, n, left) != CORE_OK)
        goto fail;
    ddbx_node *right = u_operand(p);
    if (!right || add_kid(p, n, right) != CORE_OK)
        goto fail;
    n->next_tok = (uint32_t)p->i;
    return n;
fail:
    ddbx_node_free(n);
    return NULL;
}

/* value := uoperand [+|- uoperand] | '(' uoperand (+|-) uoperand ')'. A '('
 * may open either form; one look past its first operand decides, and the
 * operand is parsed again as a parenthesised one if no + or - follows (once,
 * so the cost stays linear). */
static ddbx_node *u_value(parser *p)
{
    if (cur(p)->kind == TK_LPAREN) {
        size_t save = p->i;
        int ops = p->operators;
        p->i++;
        if (enter(p) != CORE_OK)
            return NULL;
        ddbx_node *first = u_operand(p);
        if (!first) {
            leave(p);
            return NULL;
        }
        if (cur(p)->kind == TK_PLUS || cur(p)->kind == TK_MINUS) {
            ddbx_node *n = u_binary(p, first);
            leave(p);
            if (!n)
                return NULL;
            if (cur(p)->kind != TK_RPAREN) {
                syntax_error(p, p->i);
                ddbx_node_free(n);
                return NULL;
            }
            p->i++;
            n->parens++;
            n->next_tok = (uint32_t)p->i;
            return n;
        }
        leave(p);
        ddbx_node_free(first);
        p->i = save;
        p->operators = ops;
    }
    ddbx_node *left = u_operand(p);
    if (!left)
        return NULL;
    if (cur(p)->kind == TK_PLUS || cur(p)->kind == TK_MINUS)
        return u_binary(p, left);
    return left;
}

static int section_of(const parser *p, const ddbx_token *t, ddbx_action_kind *k)
{
    if (kw(p, t, "SET"))
        *k = UA_SET;
    else if (kw(p, t, "REMOVE"))
        *k = UA_REMOVE;
    else if (kw(p, t, "ADD"))
        *k = UA_ADD;
    else if (kw(p, t, "DELETE"))
        *k = UA_DELETE;
    else
        return 0;
    return 1;
}

static int push_action(parser *p, ddb_expr *e, ddbx_action *a)
{
    if (full(e->nact)) {
        ddbx_action *x = realloc(e->act, (e->nact ? e->nact * 2 : 1) * sizeof *x);
        if (!x) {
            ddbx_path_clear(&a->path);
            ddbx_node_free(a->value);
            return oom(p);
        }
        e->act = x;
    }
    e->act[e->nact++] = *a;
    return CORE_OK;
}

static int parse_update(parser *p, ddb_expr *e, int *dup_section)
{
    int seen[4] = {0, 0, 0, 0};
    *dup_section = -1;
    if (cur(p)->kind == TK_EOF)
        return syntax_error(p, p->i);
    while (cur(p)->kind != TK_EOF) {
        ddbx_action_kind kind;
        if (!section_of(p, cur(p), &kind))
            return syntax_error(p, p->i);
        if (seen[kind] && *dup_section < 0)
            *dup_section = (int)kind;
        seen[kind] = 1;
        p->i++;
        for (;;) {
            ddbx_action a;
            memset(&a, 0, sizeof a);
            a.kind = kind;
            ddbx_node *target = parse_path(p);
            if (!target)
                return CORE_ERROR;
            /* The action keeps the path; the node that carried it goes. */
            a.path = target->path;
            memset(&target->path, 0, sizeof target->path);
            ddbx_node_free(target);
            if (kind == UA_SET) {
                if (cur(p)->kind != TK_EQ) {
                    ddbx_path_clear(&a.path);
                    return syntax_error(p, p->i);
                }
                p->i++;
                a.value = u_value(p);
                if (!a.value) {
                    ddbx_path_clear(&a.path);
                    return CORE_ERROR;
                }
            } else if (kind == UA_ADD || kind == UA_DELETE) {
                if (cur(p)->kind != TK_VALUE) {
                    ddbx_path_clear(&a.path);
                    return syntax_error(p, p->i);
                }
                a.value = new_node(p, NK_VALUE);
                if (!a.value) {
                    ddbx_path_clear(&a.path);
                    return CORE_ERROR;
                }
                p->i++;
                a.value->next_tok = (uint32_t)p->i;
            }
            if (push_action(p, e, &a) != CORE_OK)
                return CORE_ERROR;
            if (cur(p)->kind != TK_COMMA)
                break;
            p->i++;
        }
    }
    return CORE_OK;
}

/* ---- projection grammar --------------------------------------------------- */

static int parse_projection(parser *p, ddb_expr *e)
{
    for (;;) {
        ddbx_node *n = parse_path(p);
        if (!n)
            return CORE_ERROR;
        if (full(e->nproj)) {
            ddbx_path *x = realloc(e->proj, (e->nproj ? e->nproj * 2 : 1) * sizeof *x);
            if (!x) {
                ddbx_node_free(n);
                return oom(p);
            }
            e->proj = x;
        }
        e->proj[e->nproj++] = n->path;
        memset(&n->path, 0, sizeof n->path);
        ddbx_node_free(n);
        if (cur(p)->kind == TK_COMMA) {
            p->i++;
            continue;
        }
        if (cur(p)->kind == TK_EOF)
            return CORE_OK;
        return syntax_error(p, p->i);
    }
}

/* ---- static checks -------------------------------------------------------- */

static int invalid(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int invalid(parser *p, const char *fmt, ...)
{
    if (p->failed)
        return CORE_ERROR;
    p->failed = 1;
    char msg[sizeof p->err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ddbx_invalid(p->err, p->kind, "%s", msg);
}

/* A message without the "Invalid ...Expression:" prefix (key conditions). */
static int plain(parser *p, const char *msg)
{
    if (p->failed)
        return CORE_ERROR;
    p->failed = 1;
    return ddbx_validation(p->err, "%s", msg);
}

static const char *func_name(ddbx_func f)
{
    switch (f) {
    case FN_ATTRIBUTE_EXISTS: return "attribute_exists";
    case FN_ATTRIBUTE_NOT_EXISTS: return "attribute_not_exists";
    case FN_ATTRIBUTE_TYPE: return "attribute_type";
    case FN_BEGINS_WITH: return "begins_with";
    case FN_CONTAINS: return "contains";
    case FN_SIZE: return "size";
    case FN_IF_NOT_EXISTS: return "if_not_exists";
    case FN_LIST_APPEND: return "list_append";
    case FN_UNKNOWN: break;
    }
    return "";
}

static const char *cmp_name(int op)
{
    static const char *const names[] = {"=", "<>", "<", "<=", ">", ">="};
    return op >= 0 && op < 6 ? names[op] : "";
}

static int is_cond_func(ddbx_func f)
{
    return f == FN_ATTRIBUTE_EXISTS || f == FN_ATTRIBUTE_NOT_EXISTS || f == FN_ATTRIBUTE_TYPE ||
           f == FN_BEGINS_WITH || f == FN_CONTAINS || f == FN_SIZE;
}

/* Unknown function names, innermost first. */
static int check_unknown(parser *p, const ddbx_node *n)
{
    if (!n)
        return CORE_OK;
    for (size_t i = 0; i < n->nkid; i++)
        if (check_unknown(p, n->kid[i]) != CORE_OK)
            return CORE_ERROR;
    if (n->kind == NK_CALL && n->op == FN_UNKNOWN) {
        const ddbx_token *t = &p->t[n->tok];
        return invalid(p, "Invalid function name; function: %.*s", (int)t->len, p->src + t->pos);
    }
    return CORE_OK;
}

enum { POS_COND, POS_OPERAND, POS_ARG, POS_VALUE, POS_APPEND_ARG };

/* Functions in a place they cannot be: size where a condition is needed, a
 * boolean function as an operand, update functions in a condition and
 * condition functions in an update, list_append inside list_append. */
static int check_misuse(parser *p, const ddbx_node *n, int pos)
{
    if (!n)
        return CORE_OK;
    int kid_pos;
    switch (n->kind) {
    case NK_AND:
    case NK_OR:
    case NK_NOT: kid_pos = POS_COND; break;
    case NK_CMP:
    case NK_BETWEEN:
    case NK_IN: kid_pos = POS_OPERAND; break;
    case NK_CALL:
        kid_pos = is_cond_kind(p) ? POS_ARG
                  : n->op == FN_LIST_APPEND ? POS_APPEND_ARG
                                            : POS_VALUE;
        break;
    default: kid_pos = POS_VALUE; break;
    }
    for (size_t i = 0; i < n->nkid; i++)
        if (check_misuse(p, n->kid[i], kid_pos) != CORE_OK)
            return CORE_ERROR;
    if (n->kind != NK_CALL)
        return CORE_OK;
    const char *name = func_name((ddbx_func)n->op);
    if (is_cond_kind(p)) {
        if (!is_cond_func((ddbx_func)n->op))
            return invalid(p, "The function is not allowed in a condition expression; function: %s",
                           name);
        int bad = pos == POS_COND ? n->op == FN_SIZE : n->op != FN_SIZE;
        if (bad)
            return invalid(p, "The function is not allowed to be used this way in an expression; "
                              "function: %s", name);
        return CORE_OK;
    }
    if (is_cond_func((ddbx_func)n->op))
        return invalid(p, "The function is not allowed in an update expression; function: %s",
                       name);
    if (n->op == FN_LIST_APPEND && pos == POS_APPEND_ARG)
        return invalid(p, "The function is not allowed to be used this way in an expression; "
                          "function: %s", name);
    return CORE_OK;
}

/* Visit every path of a tree in source order. */
static int walk_paths(parser *p, ddbx_node *n, int (*fn)(parser *, ddbx_path *))
{
    if (!n)
        return CORE_OK;
    if (n->kind == NK_PATH)
        return fn(p, &n->path);
    for (size_t i = 0; i < n->nkid; i++)
        if (walk_paths(p, n->kid[i], fn) != CORE_OK)
            return CORE_ERROR;
    return CORE_OK;
}

static int check_limits(parser *p, ddbx_path *path)
{
    if (path->n > DDBX_MAX_PATH_DEPTH)
        return invalid(p, "The document path has too many nesting levels; nesting levels: %zu",
                       path->n);
    for (size_t i = 0; i < path->n; i++) {
        if (path->e[i].index_too_big) {
            const ddbx_token *t = &p->t[path->e[i].tok];
            return invalid(p, "List index is not within the allowable range; index: [%.*s]",
                           (int)t->len, p->src + t->pos);
        }
    }
    return CORE_OK;
}

static int check_reserved(parser *p, ddbx_path *path)
{
    for (size_t i = 0; i < path->n; i++) {
        const ddbx_elem *x = &path->e[i];
        if (!x->is_index && !x->is_ref && x->name && ddb_expr_is_reserved(x->name))
            return invalid(p, "Attribute name is a reserved keyword; reserved keyword: %s",
                           x->name);
    }
    return CORE_OK;
}

static int resolve_path(parser *p, ddbx_path *path)
{
    for (size_t i = 0; i < path->n; i++) {
        ddbx_elem *x = &path->e[i];
        if (!x->is_ref || x->name)
            continue;
        const ddbx_token *t = &p->t[x->tok];
        ddbx_ctx_key *k = p->ctx ? ctx_find(p->ctx->names, p->ctx->nnames, p->src + t->pos, t->len)
                                 : NULL;
        if (!k || !cJSON_IsString(k->item) || !k->item->valuestring)
            return invalid(p, "An expression attribute name used in the document path is not "
                              "defined; attribute name: %.*s",
                           (int)t->len, p->src + t->pos);
        k->used = 1;
        x->name = strdup(k->item->valuestring);
        if (!x->name)
            return oom(p);
    }
    return CORE_OK;
}

static int resolve_value(parser *p, ddbx_node *n)
{
    if (n->value)
        return CORE_OK;
    const ddbx_token *t = &p->t[n->tok];
    ddbx_ctx_key *k = p->ctx ? ctx_find(p->ctx->values, p->ctx->nvalues, p->src + t->pos, t->len)
                             : NULL;
    if (!k)
        return invalid(p, "An expression attribute value used in expression is not defined; "
                          "attribute value: %.*s",
                       (int)t->len, p->src + t->pos);
    k->used = 1;
    n->value = cJSON_Duplicate(k->item, 1);
    if (!n->value)
        return oom(p);
    return CORE_OK;
}

/* Resolve the paths and values that are direct operands of n. */
static int resolve_kids(parser *p, ddbx_node *n)
{
    for (size_t i = 0; i < n->nkid; i++) {
        ddbx_node *k = n->kid[i];
        int rc = CORE_OK;
        if (k->kind == NK_PATH)
            rc = resolve_path(p, &k->path);
        else if (k->kind == NK_VALUE)
            rc = resolve_value(p, k);
        if (rc != CORE_OK)
            return CORE_ERROR;
    }
    return CORE_OK;
}

/* "[a, b, [1]]", as AWS prints document paths. Caller frees. */
static char *path_text(const ddbx_path *path)
{
    size_t need = 3;
    for (size_t i = 0; i < path->n; i++)
        need += (path->e[i].is_index ? 14 : strlen(path->e[i].name ? path->e[i].name : "")) + 2;
    char *s = malloc(need);
    if (!s)
        return NULL;
    size_t o = 0;
    s[o++] = '[';
    for (size_t i = 0; i < path->n; i++) {
        if (i) {
            s[o++] = ',';
            s[o++] = ' ';
        }
        if (path->e[i].is_index) {
            o += (size_t)snprintf(s + o, need - o, "[%u]", path->e[i].index);
        } else {
            const char *nm = path->e[i].name ? path->e[i].name : "";
            size_t l = strlen(nm);
            memcpy(s + o, nm, l);
            o += l;
        }
    }
    s[o++] = ']';
    s[o] = '\0';
    return s;
}

/* The type an operand is known to have before any item is read, or NULL. */
static const char *static_type(const ddbx_node *n)
{
    if (n->kind == NK_VALUE && n->value)
        return ddb_type_name(ddb_value_type(n->value));
    if (n->kind == NK_CALL)
        return n->op == FN_SIZE ? "N" : "BOOL";
    return NULL;
}

static int orderable(const char *t)
{
    return !strcmp(t, "N") || !strcmp(t, "S") || !strcmp(t, "B");
}

/* "The first operand must be distinct from the remaining operands". */
static int check_distinct(parser *p, const ddbx_node *n, const char *op)
{
    if (n->nkid < 2 || n->kid[0]->kind != NK_PATH)
        return CORE_OK;
    for (size_t i = 1; i < n->nkid; i++) {
        if (n->kid[i]->kind == NK_PATH && ddbx_path_equal(&n->kid[0]->path, &n->kid[i]->path)) {
            char *s = path_text(&n->kid[0]->path);
            if (!s)
                return oom(p);
            invalid(p, "The first operand must be distinct from the remaining operands for this "
                       "operator or function; operator: %s, first operand: %s",
                    op, s);
            free(s);
            return CORE_ERROR;
        }
    }
    return CORE_OK;
}

static int operand_type_error(parser *p, const char *op, const char *type)
{
    return invalid(p, "Incorrect operand type for operator or function; operator or function: %s, "
                      "operand type: %s",
                   op, type);
}

static char *value_text(const cJSON *v)
{
    const cJSON *pl = ddb_value_payload(v);
    const char *s = cJSON_IsString(pl) && pl->valuestring ? pl->valuestring : "";
    return ddbx_display(s, strlen(s));
}

static int check_between_bounds(parser *p, const ddbx_node *n)
{
    const ddbx_node *lo = n->kid[1], *hi = n->kid[2];
    if (lo->kind != NK_VALUE || hi->kind != NK_VALUE)
        return CORE_OK;
    ddb_type lt = ddb_value_type(lo->value), ht = ddb_value_type(hi->value);
    int c = 0;
    const char *why = NULL;
    if (lt != ht)
        why = "The BETWEEN operator requires same data type for lower and upper bounds";
    else if (ddb_value_compare(lo->value, hi->value, &c) == 0 && c > 0)
        why = "The BETWEEN operator requires upper bound to be greater than or equal to lower "
              "bound";
    if (!why)
        return CORE_OK;
    char *a = value_text(lo->value), *b = value_text(hi->value);
    if (!a || !b) {
        free(a);
        free(b);
        return oom(p);
    }
    invalid(p, "%s; lower bound operand: AttributeValue: {%s:%s}, upper bound operand: "
               "AttributeValue: {%s:%s}",
            why, ddb_type_name(lt), a, ddb_type_name(ht), b);
    free(a);
    free(b);
    return CORE_ERROR;
}

static int check_call_cond(parser *p, const ddbx_node *n)
{
    static const size_t want[] = {
        [FN_ATTRIBUTE_EXISTS] = 1, [FN_ATTRIBUTE_NOT_EXISTS] = 1, [FN_ATTRIBUTE_TYPE] = 2,
        [FN_BEGINS_WITH] = 2,      [FN_CONTAINS] = 2,             [FN_SIZE] = 1,
        [FN_IF_NOT_EXISTS] = 2,    [FN_LIST_APPEND] = 2,
    };
    ddbx_func f = (ddbx_func)n->op;
    const char *name = func_name(f);
    if (n->nkid != want[f])
        return invalid(p, "Incorrect number of operands for operator or function; operator or "
                          "function: %s, number of operands: %zu",
                       name, n->nkid);
    if (check_distinct(p, n, name) != CORE_OK)
        return CORE_ERROR;
    switch (f) {
    case FN_ATTRIBUTE_EXISTS:
    case FN_ATTRIBUTE_NOT_EXISTS:
        if (n->kid[0]->kind != NK_PATH)
            return invalid(p, "Operator or function requires a document path; operator or "
                              "function: %s",
                           name);
        break;
    case FN_ATTRIBUTE_TYPE: {
        const ddbx_node *t = n->kid[1];
        const char *st = static_type(t);
        if (!st)
            return operand_type_error(p, name, "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}");
        if (strcmp(st, "S") != 0)
            return operand_type_error(p, name, st);
        const cJSON *pl = ddb_value_payload(t->value);
        const char *tn = cJSON_IsString(pl) && pl->valuestring ? pl->valuestring : "";
        if (ddb_type_from_name(tn) == DDB_INVALID) {
            char *d = ddbx_display(tn, strlen(tn));
            if (!d)
                return oom(p);
            invalid(p, "Invalid attribute type name found; type: %s, valid types: "
                       "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
                    d);
            free(d);
            return CORE_ERROR;
        }
        break;
    }
    case FN_BEGINS_WITH:
        for (size_t i = 0; i < n->nkid; i++) {
            const char *st = static_type(n->kid[i]);
            if (st && strcmp(st, "S") != 0 && strcmp(st, "B") != 0)
                return operand_type_error(p, name, st);
        }
        break;
    case FN_SIZE: {
        const char *st = static_type(n->kid[0]);
        if (st && (!strcmp(st, "N") || !strcmp(st, "BOOL") || !strcmp(st, "NULL")))
            return operand_type_error(p, name, st);
        break;
    }
    default: break;
    }
    return CORE_OK;
}

/* Per operator and function, innermost first: names and values, operand
 * counts, repeated operands, operand types. */
static int check_cond_node(parser *p, ddbx_node *n)
{
    for (size_t i = 0; i < n->nkid; i++)
        if (check_cond_node(p, n->kid[i]) != CORE_OK)
            return CORE_ERROR;
    switch (n->kind) {
    case NK_CMP:
        if (resolve_kids(p, n) != CORE_OK || check_distinct(p, n, cmp_name(n->op)) != CORE_OK)
            return CORE_ERROR;
        if (n->op >= CMP_LT) {
            for (size_t i = 0; i < n->nkid; i++) {
                const char *st = static_type(n->kid[i]);
                if (st && !orderable(st))
                    return operand_type_error(p, cmp_name(n->op), st);
            }
        }
        return CORE_OK;
    case NK_BETWEEN:
        if (resolve_kids(p, n) != CORE_OK)
            return CORE_ERROR;
        for (size_t i = 0; i < n->nkid; i++) {
            const char *st = static_type(n->kid[i]);
            if (st && !orderable(st))
                return operand_type_error(p, "BETWEEN", st);
        }
        return check_between_bounds(p, n);
    case NK_IN:
        if (resolve_kids(p, n) != CORE_OK)
            return CORE_ERROR;
        if (n->nkid - 1 > DDBX_MAX_IN_OPERANDS)
            return invalid(p, "The IN operator is provided with too many operands; number of "
                              "operands: %zu",
                           n->nkid - 1);
        return CORE_OK;
    case NK_CALL:
        if (resolve_kids(p, n) != CORE_OK)
            return CORE_ERROR;
        return check_call_cond(p, n);
    default: return CORE_OK;
    }
}

/* ---- key conditions ------------------------------------------------------- */

typedef struct keylist {
    ddbx_keycond *k;
    size_t n;
} keylist;

static int key_add(parser *p, keylist *l, const char *attr, ddb_key_op op, const cJSON *lo,
                   const cJSON *hi)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->k[i].attr, attr))
            return plain(p, "KeyConditionExpressions must only contain one condition per key");
    ddbx_keycond *k = realloc(l->k, (l->n + 1) * sizeof *k);
    if (!k)
        return oom(p);
    l->k = k;
    l->k[l->n].attr = strdup(attr);
    if (!l->k[l->n].attr)
        return oom(p);
    l->k[l->n].op = op;
    l->k[l->n].lo = lo;
    l->k[l->n].hi = hi;
    l->n++;
    return CORE_OK;
}

/* The shape AWS allows: conditions on distinct top-level key attributes, joined
 * by AND, each "key op :v", "key BETWEEN :a AND :b" or begins_with(key, :v). */
static int key_shape(parser *p, const ddbx_node *n, keylist *l)
{
    char buf[160];
    switch (n->kind) {
    case NK_OR: return plain(p, "Invalid operator used in KeyConditionExpression: OR");
    case NK_NOT: return plain(p, "Invalid operator used in KeyConditionExpression: NOT");
    case NK_IN: return plain(p, "Invalid operator used in KeyConditionExpression: IN");
    case NK_CMP:
        if (n->op == CMP_NE)
            return plain(p, "Invalid operator used in KeyConditionExpression: <>");
        break;
    case NK_CALL:
        if (n->op == FN_SIZE)
            return plain(p, "KeyConditionExpressions cannot contain nested operations");
        if (n->op != FN_BEGINS_WITH) {
            snprintf(buf, sizeof buf, "Invalid operator used in KeyConditionExpression: %s",
                     func_name((ddbx_func)n->op));
            return plain(p, buf);
        }
        if (n->kid[0]->kind != NK_PATH)
            return plain(p, "Invalid condition in KeyConditionExpression: begins_with operator "
                            "must have the key attribute as its first operand");
        break;
    case NK_BETWEEN:
        if (n->kid[0]->kind != NK_PATH)
            return plain(p, "Invalid condition in KeyConditionExpression: BETWEEN operator must "
                            "have the key attribute as its first operand");
        break;
    case NK_AND:
        for (size_t i = 0; i < n->nkid; i++)
            if (key_shape(p, n->kid[i], l) != CORE_OK)
                return CORE_ERROR;
        return CORE_OK;
    default: break;
    }
    const char *attr = NULL;
    size_t at = 0;
    for (size_t i = 0; i < n->nkid; i++) {
        const ddbx_node *k = n->kid[i];
        if (k->kind == NK_PATH) {
            if (attr)
                return plain(p, "Invalid condition in KeyConditionExpression: Multiple attribute "
                                "names used in one condition");
            if (k->path.n > 1)
                return plain(p, "KeyConditionExpressions cannot have conditions on nested "
                                "attributes");
            attr = k->path.e[0].name;
            at = i;
        } else if (k->kind == NK_CALL) {
            if (key_shape(p, k, l) != CORE_OK)
                return CORE_ERROR;
        }
    }
    if (!attr)
        return plain(p, "Invalid condition in KeyConditionExpression: No key attribute specified");
    if (n->kind == NK_BETWEEN)
        return key_add(p, l, attr, DDB_KEY_BETWEEN, n->kid[1]->value, n->kid[2]->value);
    if (n->kind == NK_CALL)
        return key_add(p, l, attr, DDB_KEY_BEGINS_WITH, n->kid[1]->value, NULL);
    static const ddb_key_op as_is[] = {DDB_KEY_EQ, DDB_KEY_NONE, DDB_KEY_LT,
                                       DDB_KEY_LE, DDB_KEY_GT,   DDB_KEY_GE};
    static const ddb_key_op flipped[] = {DDB_KEY_EQ, DDB_KEY_NONE, DDB_KEY_GT,
                                         DDB_KEY_GE, DDB_KEY_LT,   DDB_KEY_LE};
    ddb_key_op op = at == 0 ? as_is[n->op] : flipped[n->op];
    return key_add(p, l, attr, op, n->kid[at == 0 ? 1 : 0]->value, NULL);
}

static int check_key_condition(parser *p, ddb_expr *e)
{
    keylist l = {NULL, 0};
    int rc = key_shape(p, e->cond, &l);
    if (rc == CORE_OK && l.n > 2)
        rc = plain(p, "Conditions can be of length 1 or 2 only");
    if (rc == CORE_OK) {
        for (size_t i = 0; i < l.n; i++)
            e->key[i] = l.k[i];
        e->nkey = l.n;
    } else {
        for (size_t i = 0; i < l.n; i++)
            free(l.k[i].attr);
    }
    free(l.k);
    return rc;
}

/* ---- update and projection checks ---------------------------------------- */

static int resolve_values_in(parser *p, ddbx_node *n)
{
    if (!n)
        return CORE_OK;
    if (n->kind == NK_VALUE)
        return resolve_value(p, n);
    for (size_t i = 0; i < n->nkid; i++)
        if (resolve_values_in(p, n->kid[i]) != CORE_OK)
            return CORE_ERROR;
    return CORE_OK;
}

/* Overlapping ("a" and "a.b") and conflicting ("a.b" and "a[1]") paths, each
 * new path against every earlier one; an overlap anywhere wins. */
static int check_overlaps(parser *p, ddbx_path *const *paths, size_t n)
{
    const ddbx_path *ov1 = NULL, *ov2 = NULL, *cf1 = NULL, *cf2 = NULL;
    for (size_t j = 1; j < n && !ov1; j++) {
        for (size_t i = 0; i < j && !ov1; i++) {
            const ddbx_path *a = paths[i], *b = paths[j];
            size_t m = a->n < b->n ? a->n : b->n, k;
            int differ = 0;
            for (k = 0; k < m; k++) {
                const ddbx_elem *x = &a->e[k], *y = &b->e[k];
                if (x->is_index != y->is_index) {
                    if (!cf1) {
                        cf1 = a;
                        cf2 = b;
                    }
                    differ = 1;
                    break;
                }
                if (x->is_index ? x->index != y->index : strcmp(x->name, y->name) != 0) {
                    differ = 1;
                    break;
                }
            }
            if (!differ) {
                ov1 = a;
                ov2 = b;
            }
        }
    }
    const ddbx_path *one = ov1 ? ov1 : cf1, *two = ov1 ? ov2 : cf2;
    if (!one)
        return CORE_OK;
    char *s1 = path_text(one), *s2 = path_text(two);
    if (!s1 || !s2) {
        free(s1);
        free(s2);
        return oom(p);
    }
    invalid(p, "Two document paths %s with each other; must remove or rewrite one of these paths; "
               "path one: %s, path two: %s",
            ov1 ? "overlap" : "conflict", s1, s2);
    free(s1);
    free(s2);
    return CORE_ERROR;
}

static const char *long_type(ddb_type t)
{
    switch (t) {
    case DDB_S: return "STRING";
    case DDB_N: return "NUMBER";
    case DDB_B: return "BINARY";
    case DDB_BOOL: return "BOOLEAN";
    case DDB_NULL: return "NULL";
    case DDB_M: return "MAP";
    case DDB_L: return "LIST";
    default: return ddb_type_name(t);
    }
}

static int check_update_funcs(parser *p, const ddbx_node *n)
{
    for (size_t i = 0; i < n->nkid; i++)
        if (check_update_funcs(p, n->kid[i]) != CORE_OK)
            return CORE_ERROR;
    if (n->kind == NK_PLUS || n->kind == NK_MINUS) {
        for (size_t i = 0; i < n->nkid; i++) {
            const ddbx_node *k = n->kid[i];
            if (k->kind == NK_VALUE && ddb_value_type(k->value) != DDB_N)
                return operand_type_error(p, n->kind == NK_PLUS ? "+" : "-",
                                          ddb_type_name(ddb_value_type(k->value)));
        }
        return CORE_OK;
    }
    if (n->kind != NK_CALL)
        return CORE_OK;
    const char *name = func_name((ddbx_func)n->op);
    if (n->nkid != 2)
        return invalid(p, "Incorrect number of operands for operator or function; operator or "
                          "function: %s, number of operands: %zu",
                       name, n->nkid);
    if (n->op == FN_IF_NOT_EXISTS && n->kid[0]->kind != NK_PATH)
        return invalid(p, "Operator or function requires a document path; operator or function: "
                          "%s",
                       name);
    if (n->op == FN_LIST_APPEND) {
        for (size_t i = 0; i < n->nkid; i++) {
            const ddbx_node *k = n->kid[i];
            if (k->kind == NK_VALUE && ddb_value_type(k->value) != DDB_L)
                return operand_type_error(p, name, ddb_type_name(ddb_value_type(k->value)));
        }
    }
    return CORE_OK;
}

static int check_update(parser *p, ddb_expr *e, int dup_section)
{
    static const char *const sections[] = {"SET", "REMOVE", "ADD", "DELETE"};
    for (size_t i = 0; i < e->nact; i++) {
        if (check_reserved(p, &e->act[i].path) != CORE_OK ||
            walk_paths(p, e->act[i].value, check_reserved) != CORE_OK)
            return CORE_ERROR;
    }
    for (size_t i = 0; i < e->nact; i++)
        if (check_unknown(p, e->act[i].value) != CORE_OK)
            return CORE_ERROR;
    for (size_t i = 0; i < e->nact; i++)
        if (check_misuse(p, e->act[i].value, POS_VALUE) != CORE_OK)
            return CORE_ERROR;
    if (dup_section >= 0)
        return invalid(p, "The \"%s\" section can only be used once in an update expression;",
                       sections[dup_section]);
    for (size_t i = 0; i < e->nact; i++) {
        if (check_limits(p, &e->act[i].path) != CORE_OK ||
            walk_paths(p, e->act[i].value, check_limits) != CORE_OK)
            return CORE_ERROR;
    }
    for (size_t i = 0; i < e->nact; i++) {
        if (resolve_path(p, &e->act[i].path) != CORE_OK ||
            walk_paths(p, e->act[i].value, resolve_path) != CORE_OK)
            return CORE_ERROR;
    }
    for (size_t i = 0; i < e->nact; i++)
        if (resolve_values_in(p, e->act[i].value) != CORE_OK)
            return CORE_ERROR;
    ddbx_path **paths = malloc((e->nact ? e->nact : 1) * sizeof *paths);
    if (!paths)
        return oom(p);
    for (size_t i = 0; i < e->nact; i++)
        paths[i] = &e->act[i].path;
    int rc = check_overlaps(p, paths, e->nact);
    free(paths);
    if (rc != CORE_OK)
        return CORE_ERROR;
    for (size_t i = 0; i < e->nact; i++) {
        const ddbx_action *a = &e->act[i];
        if (a->kind != UA_ADD && a->kind != UA_DELETE)
            continue;
        ddb_type t = ddb_value_type(a->value->value);
        int ok = t == DDB_SS || t == DDB_NS || t == DDB_BS || (a->kind == UA_ADD && t == DDB_N);
        if (!ok)
            return invalid(p, "Incorrect operand type for operator or function; operator: %s, "
                              "operand type: %s",
                           a->kind == UA_ADD ? "ADD" : "DELETE", long_type(t));
    }
    for (size_t i = 0; i < e->nact; i++)
        if (e->act[i].value && check_update_funcs(p, e->act[i].value) != CORE_OK)
            return CORE_ERROR;
    return CORE_OK;
}

static int check_projection(parser *p, ddb_expr *e)
{
    for (size_t i = 0; i < e->nproj; i++)
        if (check_limits(p, &e->proj[i]) != CORE_OK)
            return CORE_ERROR;
    for (size_t i = 0; i < e->nproj; i++)
        if (check_reserved(p, &e->proj[i]) != CORE_OK)
            return CORE_ERROR;
    for (size_t i = 0; i < e->nproj; i++)
        if (resolve_path(p, &e->proj[i]) != CORE_OK)
            return CORE_ERROR;
    ddbx_path **paths = malloc((e->nproj ? e->nproj : 1) * sizeof *paths);
    if (!paths)
        return oom(p);
    for (size_t i = 0; i < e->nproj; i++)
        paths[i] = &e->proj[i];
    int rc = check_overlaps(p, paths, e->nproj);
    free(paths);
    return rc;
}

static int check_condition(parser *p, ddb_expr *e)
{
    if (p->redundant)
        return invalid(p, "The expression has redundant parentheses;");
    if (check_unknown(p, e->cond) != CORE_OK ||
        check_misuse(p, e->cond, POS_COND) != CORE_OK ||
        walk_paths(p, e->cond, check_limits) != CORE_OK ||
        walk_paths(p, e->cond, check_reserved) != CORE_OK ||
        check_cond_node(p, e->cond) != CORE_OK)
        return CORE_ERROR;
    if (p->kind == DDB_EXPR_KEY_CONDITION)
        return check_key_condition(p, e);
    return CORE_OK;
}

/* Nesting past DDBX_MAX_NESTING only happens in text AWS refuses for its
 * operator count, or for parentheses around parentheses. Say which, from the
 * tokens alone (the tree was never finished). */
static int too_deep(parser *p)
{
    int ops = 0;
    for (size_t i = 0; i < p->nt; i++) {
        const ddbx_token *t = &p->t[i];
        ddbx_cmp c;
        if (comparator(t->kind, &c) || t->kind == TK_PLUS || t->kind == TK_MINUS ||
            (is_cond_kind(p) && is_keyword(p, t)) ||
            (t->kind == TK_IDENT && i + 1 < p->nt && p->t[i + 1].kind == TK_LPAREN))
            ops++;
    }
    if (ops > DDBX_MAX_OPERATORS)
        return invalid(p, "The expression contains too many operators; operator count: %d", ops);
    return invalid(p, "The expression has redundant parentheses;");
}

int ddb_expr_parse_len(ddb_expr_kind kind, const char *text, size_t len, ddb_expr_ctx *ctx,
                       ddb_expr **out, core_err *err)
{
    *out = NULL;
    if (!text || len == 0)
        return ddbx_invalid(err, kind, "The expression can not be empty;");
    if (len > DDBX_MAX_EXPR_BYTES)
        return ddbx_invalid(err, kind, "Expression size has exceeded the maximum allowed size; "
                                       "expression size: %zu",
                            len);
    parser p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.src = text;
    p.len = len;
    p.ctx = ctx;
    p.err = err;
    if (ddbx_lex(text, len, &p.t, &p.nt) != CORE_OK)
        return ddbx_oom(err);
    ddb_expr *e = calloc(1, sizeof *e);
    if (!e) {
        free(p.t);
        return ddbx_oom(err);
    }
    e->kind = kind;
    int dup_section = -1;
    int rc;
    switch (kind) {
    case DDB_EXPR_UPDATE: rc = parse_update(&p, e, &dup_section); break;
    case DDB_EXPR_PROJECTION: rc = parse_projection(&p, e); break;
    default: rc = parse_condition(&p, e); break;
    }
    if (rc != CORE_OK && p.too_deep && !p.failed)
        too_deep(&p);
    if (rc == CORE_OK && p.operators > DDBX_MAX_OPERATORS)
        rc = invalid(&p, "The expression contains too many operators; operator count: %d",
                     p.operators);
    if (rc == CORE_OK) {
        switch (kind) {
        case DDB_EXPR_UPDATE: rc = check_update(&p, e, dup_section); break;
        case DDB_EXPR_PROJECTION: rc = check_projection(&p, e); break;
        default: rc = check_condition(&p, e); break;
        }
    }
    free(p.t);
    if (rc != CORE_OK) {
        if (!p.failed)
            ddbx_oom(err);
        ddb_expr_free(e);
        return CORE_ERROR;
    }
    *out = e;
    return CORE_OK;
}

int ddb_expr_parse(ddb_expr_kind kind, const char *text, ddb_expr_ctx *ctx, ddb_expr **out,
                   core_err *err)
{
    return ddb_expr_parse_len(kind, text, text ? strlen(text) : 0, ctx, out, err);
}
