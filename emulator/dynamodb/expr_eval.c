/*
 * expr_eval.c — evaluating parsed expressions: conditions and filters against
 * an item, update expressions applied to an item, projections, and key
 * conditions taken apart for the storage layer.
 *
 * Conditions (developer guide, "Comparison operator and function reference",
 * and AWS's behaviour as test suites run against it record it):
 *   - a missing operand makes =, <, <=, >, >=, BETWEEN, IN and the functions
 *     false, and <> true ("q <> z" holds when neither exists);
 *   - = and <> compare any two values deeply (numbers by value, sets
 *     unordered); ordering exists only between two N, two S (UTF-8 bytes) or two
 *     B (unsigned bytes) and is false across types;
 *   - size() is the string's length in UTF-16 code units ("é𝄞" has size 3),
 *     a binary's byte count, the element count of sets and lists, the key count
 *     of maps, and nothing (so the comparison is false) for N, BOOL and NULL;
 *   - contains() is a substring test on S and B, and membership in sets and
 *     lists (deep equality for list elements).
 *
 * Updates (developer guide, "Update expressions"):
 *   - every operand is read from the item as it was before the update, so
 *     "SET a = :v, b = a" copies the old a;
 *   - SET on a list index past the end appends; several such appends (and ADDs
 *     past the end) land in the order of their indexes; REMOVE of list
 *     elements uses the indexes as they were before the update, so
 *     "REMOVE a[1] SET a[3] = :v" replaces the old a[3] and then closes the gap;
 *   - the parent of a written path must exist (a map for ".name", a list for
 *     "[i]"), else "The document path provided in the update expression is
 *     invalid for update"; REMOVE of an absent leaf is a no-op;
 *   - ADD adds numbers (a missing attribute counts as 0) and unites sets;
 *     DELETE takes elements out of a set and removes the attribute when none is
 *     left; numbers use the exact decimal arithmetic of number.h.
 */
#include "dynamodb/expr_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamodb/number.h"
#include "dynamodb/value.h"

/* ---- paths ---------------------------------------------------------------- */

static cJSON *payload_of(const cJSON *av)
{
    return (cJSON *)ddb_value_payload(av);
}

/* One step down from av (an M or an L) by element x, or NULL. */
static cJSON *step(const cJSON *av, const ddbx_elem *x)
{
    ddb_type t = ddb_value_type(av);
    if (x->is_index) {
        if (t != DDB_L)
            return NULL;
        return cJSON_GetArrayItem(payload_of(av), (int)x->index);
    }
    if (t != DDB_M)
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(payload_of(av), x->name);
}

const cJSON *ddbx_path_get(const cJSON *item, const ddbx_path *p)
{
    if (!item || p->n == 0 || p->e[0].is_index)
        return NULL;
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(item, p->e[0].name);
    for (size_t k = 1; cur && k < p->n; k++)
        cur = step(cur, &p->e[k]);
    return cur;
}

int ddbx_path_equal(const ddbx_path *a, const ddbx_path *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t k = 0; k < a->n; k++) {
        const ddbx_elem *x = &a->e[k], *y = &b->e[k];
        if (x->is_index != y->is_index)
            return 0;
        if (x->is_index ? x->index != y->index
                        : !x->name || !y->name || strcmp(x->name, y->name) != 0)
            return 0;
    }
    return 1;
}

/* ---- values ---------------------------------------------------------------- */

typedef struct val {
    const cJSON *av;  /* NULL: the operand has no value */
    cJSON *owned;     /* set when av was computed (size) */
} val;

static void val_drop(val *v)
{
    cJSON_Delete(v->owned);
    v->owned = NULL;
    v->av = NULL;
}

static const char *str_of(const cJSON *av)
{
    const cJSON *p = ddb_value_payload(av);
    return cJSON_IsString(p) && p->valuestring ? p->valuestring : "";
}

static size_t utf16_units(const char *s)
{
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if ((*c & 0xC0) == 0x80)
            continue;
        n += *c >= 0xF0 ? 2 : 1;
    }
    return n;
}

static unsigned char *bytes_of(const cJSON *av, size_t *len)
{
    return ddb_base64_decode(str_of(av), len);
}

/* DynamoDB's size(): 1 and *out set when defined for the type. */
static int size_of(const cJSON *av, size_t *out)
{
    switch (ddb_value_type(av)) {
    case DDB_S: *out = utf16_units(str_of(av)); return 1;
    case DDB_B: {
        size_t len = 0;
        unsigned char *b = bytes_of(av, &len);
        if (!b)
            return 0;
        free(b);
        *out = len;
        return 1;
    }
    case DDB_SS:
    case DDB_NS:
    case DDB_BS:
    case DDB_L:
    case DDB_M: *out = (size_t)cJSON_GetArraySize(payload_of(av)); return 1;
    default: return 0;
    }
}

static cJSON *number_av(const char *text)
{
    cJSON *av = cJSON_CreateObject();
    if (av && !cJSON_AddStringToObject(av, "N", text)) {
        cJSON_Delete(av);
        return NULL;
    }
    return av;
}

static int operand(const ddbx_node *n, const cJSON *item, val *out, core_err *err)
{
    out->av = NULL;
    out->owned = NULL;
    switch (n->kind) {
    case NK_PATH: out->av = ddbx_path_get(item, &n->path); return CORE_OK;
    case NK_VALUE: out->av = n->value; return CORE_OK;
    case NK_CALL: {
        /* size() is the only function that yields an operand. */
        val a;
        if (operand(n->kid[0], item, &a, err) != CORE_OK)
            return CORE_ERROR;
        size_t sz;
        int ok = a.av && size_of(a.av, &sz);
        val_drop(&a);
        if (!ok)
            return CORE_OK;
        char buf[32];
        snprintf(buf, sizeof buf, "%zu", sz);
        out->owned = number_av(buf);
        if (!out->owned)
            return ddbx_oom(err);
        out->av = out->owned;
        return CORE_OK;
    }
    default: return CORE_OK;
    }
}

static int num_equal(const char *a, const char *b)
{
    ddb_num x, y;
    if (ddb_num_parse(a, strlen(a), &x, NULL) != CORE_OK ||
        ddb_num_parse(b, strlen(b), &y, NULL) != CORE_OK)
        return 0;
    return ddb_num_cmp(&x, &y) == 0;
}

static int bytes_equal(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    unsigned char *x = ddb_base64_decode(a, &la), *y = ddb_base64_decode(b, &lb);
    int eq = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return eq;
}

/* Equality of two members of a set of type t (given as JSON strings). */
static int member_equal(ddb_type t, const cJSON *x, const cJSON *y)
{
    const char *a = cJSON_IsString(x) ? x->valuestring : "";
    const char *b = cJSON_IsString(y) ? y->valuestring : "";
    switch (t) {
    case DDB_NS: return num_equal(a, b);
    case DDB_BS: return bytes_equal(a, b);
    default: return strcmp(a, b) == 0;
    }
}

static ddb_type member_type(ddb_type set)
{
    return set == DDB_SS ? DDB_S : set == DDB_NS ? DDB_N : set == DDB_BS ? DDB_B : DDB_INVALID;
}

static int has_member(ddb_type t, const cJSON *arr, const cJSON *x)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, arr)
    {
        if (member_equal(t, m, x))
            return 1;
    }
    return 0;
}

static int memmem_in(const unsigned char *h, size_t hl, const unsigned char *n, size_t nl)
{
    if (nl == 0)
        return 1;
    if (nl > hl)
        return 0;
    for (size_t i = 0; i + nl <= hl; i++)
        if (memcmp(h + i, n, nl) == 0)
            return 1;
    return 0;
}

static int f_begins_with(const cJSON *a, const cJSON *b)
{
    ddb_type ta = ddb_value_type(a), tb = ddb_value_type(b);
    if (ta != tb)
        return 0;
    if (ta == DDB_S) {
        const char *s = str_of(a), *pre = str_of(b);
        return strncmp(s, pre, strlen(pre)) == 0;
    }
    if (ta == DDB_B) {
        size_t la = 0, lb = 0;
        unsigned char *x = bytes_of(a, &la), *y = bytes_of(b, &lb);
        int r = x && y && lb <= la && memcmp(x, y, lb) == 0;
        free(x);
        free(y);
        return r;
    }
    return 0;
}

static int f_contains(const cJSON *a, const cJSON *b)
{
    ddb_type ta = ddb_value_type(a), tb = ddb_value_type(b);
    switch (ta) {
    case DDB_S:
        if (tb != DDB_S)
            return 0;
        return strstr(str_of(a), str_of(b)) != NULL;
    case DDB_B: {
        if (tb != DDB_B)
            return 0;
        size_t la = 0, lb = 0;
        unsigned char *x = bytes_of(a, &la), *y = bytes_of(b, &lb);
        int r = x && y && memmem_in(x, la, y, lb);
        free(x);
        free(y);
        return r;
    }
    case DDB_SS:
    case DDB_NS:
    case DDB_BS:
        if (tb != member_type(ta))
            return 0;
        return has_member(ta, payload_of(a), ddb_value_payload(b));
    case DDB_L: {
        const cJSON *m;
        cJSON_ArrayForEach(m, payload_of(a))
        {
            if (ddb_value_equal(m, b))
                return 1;
        }
        return 0;
    }
    default: return 0;
    }
}

static int ordered(const cJSON *a, const cJSON *b, int *c)
{
    return a && b && ddb_value_compare(a, b, c) == 0;
}

static int cond(const ddbx_node *n, const cJSON *item, int *res, core_err *err);

static int eval_cmp(const ddbx_node *n, const cJSON *item, int *res, core_err *err)
{
    val a, b;
    if (operand(n->kid[0], item, &a, err) != CORE_OK)
        return CORE_ERROR;
    if (operand(n->kid[1], item, &b, err) != CORE_OK) {
        val_drop(&a);
        return CORE_ERROR;
    }
    int c = 0;
    switch (n->op) {
    case CMP_EQ: *res = a.av && b.av && ddb_value_equal(a.av, b.av); break;
    case CMP_NE: *res = !(a.av && b.av && ddb_value_equal(a.av, b.av)); break;
    case CMP_LT: *res = ordered(a.av, b.av, &c) && c < 0; break;
    case CMP_LE: *res = ordered(a.av, b.av, &c) && c <= 0; break;
    case CMP_GT: *res = ordered(a.av, b.av, &c) && c > 0; break;
    default: *res = ordered(a.av, b.av, &c) && c >= 0; break;
    }
    val_drop(&a);
    val_drop(&b);
    return CORE_OK;
}

static int eval_call(const ddbx_node *n, const cJSON *item, int *res, core_err *err)
{
    *res = 0;
    if (n->op == FN_ATTRIBUTE_EXISTS || n->op == FN_ATTRIBUTE_NOT_EXISTS) {
        int exists = ddbx_path_get(item, &n->kid[0]->path) != NULL;
        *res = n->op == FN_ATTRIBUTE_EXISTS ? exists : !exists;
        return CORE_OK;
    }
    val a, b;
    if (operand(n->kid[0], item, &a, err) != CORE_OK)
        return CORE_ERROR;
    if (operand(n->kid[1], item, &b, err) != CORE_OK) {
        val_drop(&a);
        return CORE_ERROR;
    }
    if (a.av && b.av) {
        switch (n->op) {
        case FN_ATTRIBUTE_TYPE:
            *res = strcmp(ddb_type_name(ddb_value_type(a.av)), str_of(b.av)) == 0;
            break;
        case FN_BEGINS_WITH: *res = f_begins_with(a.av, b.av); break;
        case FN_CONTAINS: *res = f_contains(a.av, b.av); break;
        default: break;
        }
    }
    val_drop(&a);
    val_drop(&b);
    return CORE_OK;
}

static int cond(const ddbx_node *n, const cJSON *item, int *res, core_err *err)
{
    *res = 0;
    switch (n->kind) {
    case NK_AND:
    case NK_OR: {
        int want = n->kind == NK_OR;
        for (size_t i = 0; i < n->nkid; i++) {
            int r;
            if (cond(n->kid[i], item, &r, err) != CORE_OK)
                return CORE_ERROR;
            if (r == want) {
                *res = want;
                return CORE_OK;
            }
        }
        *res = !want;
        return CORE_OK;
    }
    case NK_NOT: {
        int r;
        if (cond(n->kid[0], item, &r, err) != CORE_OK)
            return CORE_ERROR;
        *res = (n->op % 2) ? !r : r;
        return CORE_OK;
    }
    case NK_CMP: return eval_cmp(n, item, res, err);
    case NK_BETWEEN: {
        val a, lo, hi;
        if (operand(n->kid[0], item, &a, err) != CORE_OK)
            return CORE_ERROR;
        if (operand(n->kid[1], item, &lo, err) != CORE_OK) {
            val_drop(&a);
            return CORE_ERROR;
        }
        if (operand(n->kid[2], item, &hi, err) != CORE_OK) {
            val_drop(&a);
            val_drop(&lo);
            return CORE_ERROR;
        }
        int c1 = 0, c2 = 0;
        *res = ordered(a.av, lo.av, &c1) && ordered(a.av, hi.av, &c2) && c1 >= 0 && c2 <= 0;
        val_drop(&a);
        val_drop(&lo);
        val_drop(&hi);
        return CORE_OK;
    }
    case NK_IN: {
        val a;
        if (operand(n->kid[0], item, &a, err) != CORE_OK)
            return CORE_ERROR;
        for (size_t i = 1; a.av && i < n->nkid && !*res; i++) {
            val m;
            if (operand(n->kid[i], item, &m, err) != CORE_OK) {
                val_drop(&a);
                return CORE_ERROR;
            }
            *res = m.av && ddb_value_equal(a.av, m.av);
            val_drop(&m);
        }
        val_drop(&a);
        return CORE_OK;
    }
    case NK_CALL: return eval_call(n, item, res, err);
    default: return CORE_OK;
    }
}

int ddb_expr_eval(const ddb_expr *e, const cJSON *item, int *result, core_err *err)
{
    *result = 0;
    if (!e || !e->cond)
        return core_err_set(err, 500, "InternalServerError",
                            "ddb_expr_eval needs a condition, filter or key condition");
    return cond(e->cond, item, result, err);
}

/* ---- key conditions ---------------------------------------------------------- */

int ddb_expr_key_condition(const ddb_expr *e, const char *hash_name, const char *range_name,
                           ddb_key_cond *out, core_err *err)
{
    memset(out, 0, sizeof *out);
    if (!e || e->kind != DDB_EXPR_KEY_CONDITION || e->nkey == 0 || !hash_name)
        return core_err_set(err, 500, "InternalServerError",
                            "ddb_expr_key_condition needs a key condition and a hash key");
    const ddbx_keycond *hash = NULL, *other = NULL;
    for (size_t i = 0; i < e->nkey; i++) {
        if (!strcmp(e->key[i].attr, hash_name))
            hash = &e->key[i];
        else
            other = &e->key[i];
    }
    if (!range_name && e->nkey > 1)
        return ddbx_validation(err, "Query key condition not supported");
    if (!hash)
        return ddbx_validation(err, "Query condition missed key schema element: %s", hash_name);
    if (hash->op != DDB_KEY_EQ)
        return ddbx_validation(err, "Query key condition not supported");
    if (other && (!range_name || strcmp(other->attr, range_name) != 0))
        return ddbx_validation(err, "Query condition missed key schema element: %s",
                               range_name ? range_name : hash_name);
    out->hash_value = hash->lo;
    out->op = DDB_KEY_NONE;
    if (other) {
        out->op = other->op;
        out->range_lo = other->lo;
        out->range_hi = other->hi;
    }
    return CORE_OK;
}

/* ---- updates ---------------------------------------------------------------- */

static int missing_attr(core_err *err)
{
    return ddbx_validation(err, "The provided expression refers to an attribute that does not "
                                "exist in the item");
}

static int bad_type(core_err *err)
{
    return ddbx_validation(err, "An operand in the update expression has an incorrect data type");
}

static int bad_path(core_err *err)
{
    return ddbx_validation(err, "The document path provided in the update expression is invalid "
                                "for update");
}

static cJSON *num_op(const cJSON *a, const cJSON *b, int minus, core_err *err)
{
    const char *sa = str_of(a), *sb = str_of(b);
    ddb_num x, y, r;
    if (ddb_num_parse(sa, strlen(sa), &x, err) != CORE_OK ||
        ddb_num_parse(sb, strlen(sb), &y, err) != CORE_OK)
        return NULL;
    if ((minus ? ddb_num_sub(&x, &y, &r, err) : ddb_num_add(&x, &y, &r, err)) != CORE_OK)
        return NULL;
    char buf[DDB_NUM_TEXT_MAX];
    ddb_num_format(&r, buf, sizeof buf);
    cJSON *av = number_av(buf);
    if (!av)
        ddbx_oom(err);
    return av;
}

/* A deep copy without the key the original had in its parent object, so it
 * can go anywhere (cJSON keeps an item's key in the item). */
static cJSON *copy_bare(const cJSON *v)
{
    cJSON *c = cJSON_Duplicate(v, 1);
    if (!c)
        return NULL;
    if (c->string && !(c->type & cJSON_StringIsConst))
        cJSON_free(c->string);
    c->string = NULL;
    c->type &= ~cJSON_StringIsConst;
    return c;
}

static cJSON *dup(const cJSON *v, core_err *err)
{
    cJSON *c = copy_bare(v);
    if (!c)
        ddbx_oom(err);
    return c;
}

/* The value a SET computes, from the item before the update. Caller owns. */
static cJSON *set_value(const ddbx_node *n, const cJSON *pre, core_err *err)
{
    switch (n->kind) {
    case NK_VALUE: return dup(n->value, err);
    case NK_PATH: {
        const cJSON *v = ddbx_path_get(pre, &n->path);
        if (!v) {
            missing_attr(err);
            return NULL;
        }
        return dup(v, err);
    }
    case NK_PLUS:
    case NK_MINUS: {
        cJSON *a = set_value(n->kid[0], pre, err);
        if (!a)
            return NULL;
        cJSON *b = set_value(n->kid[1], pre, err);
        if (!b) {
            cJSON_Delete(a);
            return NULL;
        }
        cJSON *r = NULL;
        if (ddb_value_type(a) != DDB_N || ddb_value_type(b) != DDB_N)
            bad_type(err);
        else
            r = num_op(a, b, n->kind == NK_MINUS, err);
        cJSON_Delete(a);
        cJSON_Delete(b);
        return r;
    }
    case NK_CALL:
        if (n->op == FN_IF_NOT_EXISTS) {
            const cJSON *v = ddbx_path_get(pre, &n->kid[0]->path);
            return v ? dup(v, err) : set_value(n->kid[1], pre, err);
        }
        if (n->op == FN_LIST_APPEND) {
            cJSON *a = set_value(n->kid[0], pre, err);
            if (!a)
                return NULL;
            cJSON *b = set_value(n->kid[1], pre, err);
            if (!b) {
                cJSON_Delete(a);
                return NULL;
            }
            if (ddb_value_type(a) != DDB_L || ddb_value_type(b) != DDB_L) {
                cJSON_Delete(a);
                cJSON_Delete(b);
                bad_type(err);
                return NULL;
            }
            cJSON *la = payload_of(a), *lb = payload_of(b);
            while (lb->child) {
                cJSON *m = cJSON_DetachItemViaPointer(lb, lb->child);
                cJSON_AddItemToArray(la, m);
            }
            cJSON_Delete(b);
            return a;
        }
        break;
    default: break;
    }
    core_err_set(err, 500, "InternalServerError", "unexpected update operand");
    return NULL;
}

typedef struct pending_append {
    cJSON *list;    /* the L's array */
    uint32_t index;
    size_t seq;
    cJSON *value;
} pending_append;

typedef struct removal {
    cJSON *parent;  /* the item, an M's object or an L's array */
    cJSON *child;
} removal;

typedef struct applier {
    pending_append *ap;
    size_t nap;
    removal *rm;
    size_t nrm;
    core_err *err;
} applier;

static int push_append(applier *x, cJSON *list, uint32_t index, cJSON *value)
{
    pending_append *a = realloc(x->ap, (x->nap + 1) * sizeof *a);
    if (!a) {
        cJSON_Delete(value);
        return ddbx_oom(x->err);
    }
    x->ap = a;
    x->ap[x->nap] = (pending_append){list, index, x->nap, value};
    x->nap++;
    return CORE_OK;
}

static int push_removal(applier *x, cJSON *parent, cJSON *child)
{
    removal *r = realloc(x->rm, (x->nrm + 1) * sizeof *r);
    if (!r)
        return ddbx_oom(x->err);
    x->rm = r;
    x->rm[x->nrm++] = (removal){parent, child};
    return CORE_OK;
}

/* The container holding the last element of path: the item for a top-level
 * name, else the object of an M (last element a name) or the array of an L
 * (last element an index). NULL when the path cannot be written. */
static cJSON *parent_of(cJSON *item, const ddbx_path *p)
{
    if (p->n == 1)
        return item;
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(item, p->e[0].name);
    for (size_t k = 1; cur && k + 1 < p->n; k++)
        cur = step(cur, &p->e[k]);
    if (!cur)
        return NULL;
    ddb_type want = p->e[p->n - 1].is_index ? DDB_L : DDB_M;
    return ddb_value_type(cur) == want ? payload_of(cur) : NULL;
}

static cJSON *child_of(cJSON *parent, const ddbx_elem *last)
{
    if (last->is_index)
        return cJSON_GetArrayItem(parent, (int)last->index);
    return cJSON_GetObjectItemCaseSensitive(parent, last->name);
}

/* Put value at the last element of the path under parent (owns value). */
static int put(applier *x, cJSON *parent, const ddbx_elem *last, cJSON *value)
{
    if (last->is_index) {
        int size = cJSON_GetArraySize(parent);
        if (last->index >= (uint32_t)size)
            return push_append(x, parent, last->index, value);
        cJSON_ReplaceItemInArray(parent, (int)last->index, value);
        return CORE_OK;
    }
    if (cJSON_GetObjectItemCaseSensitive(parent, last->name))
        cJSON_ReplaceItemInObjectCaseSensitive(parent, last->name, value);
    else
        cJSON_AddItemToObject(parent, last->name, value);
    return CORE_OK;
}

static int apply_add(applier *x, cJSON *item, const ddbx_action *a)
{
    cJSON *parent = parent_of(item, &a->path);
    if (!parent)
        return bad_path(x->err);
    const ddbx_elem *last = &a->path.e[a->path.n - 1];
    const cJSON *v = a->value->value;
    cJSON *old = child_of(parent, last);
    if (!old) {
        cJSON *c = dup(v, x->err);
        return c ? put(x, parent, last, c) : CORE_ERROR;
    }
    ddb_type to = ddb_value_type(old), tv = ddb_value_type(v);
    if (to == DDB_N && tv == DDB_N) {
        cJSON *sum = num_op(old, v, 0, x->err);
        return sum ? put(x, parent, last, sum) : CORE_ERROR;
    }
    if (to != tv || member_type(to) == DDB_INVALID)
        return bad_type(x->err);
    cJSON *set = payload_of(old);
    const cJSON *m;
    cJSON_ArrayForEach(m, ddb_value_payload(v))
    {
        if (has_member(to, set, m))
            continue;
        cJSON *c = dup(m, x->err);
        if (!c)
            return CORE_ERROR;
        cJSON_AddItemToArray(set, c);
    }
    return CORE_OK;
}

static int apply_delete(applier *x, cJSON *item, const ddbx_action *a)
{
    cJSON *parent = parent_of(item, &a->path);
    if (!parent)
        return bad_path(x->err);
    const ddbx_elem *last = &a->path.e[a->path.n - 1];
    cJSON *old = child_of(parent, last);
    if (!old)
        return CORE_OK;
    const cJSON *v = a->value->value;
    ddb_type to = ddb_value_type(old);
    if (to != ddb_value_type(v) || member_type(to) == DDB_INVALID)
        return bad_type(x->err);
    cJSON *set = payload_of(old);
    cJSON *m = set->child;
    while (m) {
        cJSON *next = m->next;
        if (has_member(to, ddb_value_payload(v), m))
            cJSON_Delete(cJSON_DetachItemViaPointer(set, m));
        m = next;
    }
    /* A set cannot be empty: deleting its last element deletes it. */
    if (!set->child)
        return push_removal(x, parent, old);
    return CORE_OK;
}

static int apply_remove(applier *x, cJSON *item, const ddbx_action *a, int existed)
{
    if (a->path.n > 1 && !existed)
        return CORE_OK;
    cJSON *parent = parent_of(item, &a->path);
    if (!parent)
        return bad_path(x->err);
    cJSON *old = child_of(parent, &a->path.e[a->path.n - 1]);
    return old ? push_removal(x, parent, old) : CORE_OK;
}

static int append_order(const void *pa, const void *pb)
{
    const pending_append *a = pa, *b = pb;
    if (a->list != b->list)
        return a->list < b->list ? -1 : 1;
    if (a->index != b->index)
        return a->index < b->index ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void applier_release(applier *x)
{
    for (size_t i = 0; i < x->nap; i++)
        cJSON_Delete(x->ap[i].value);
    free(x->ap);
    free(x->rm);
}

int ddb_expr_update_apply_ex(const ddb_expr *e, cJSON *item, int existed, core_err *err)
{
    if (!e || e->kind != DDB_EXPR_UPDATE || !cJSON_IsObject(item))
        return core_err_set(err, 500, "InternalServerError",
                            "ddb_expr_update_apply needs an update expression and an item");
    /* Every SET value first, from the item as it was. */
    cJSON **values = calloc(e->nact ? e->nact : 1, sizeof *values);
    if (!values)
        return ddbx_oom(err);
    int rc = CORE_OK;
    for (size_t i = 0; i < e->nact && rc == CORE_OK; i++) {
        if (e->act[i].kind == UA_SET) {
            values[i] = set_value(e->act[i].value, item, err);
            if (!values[i])
                rc = CORE_ERROR;
        }
    }
    applier x = {NULL, 0, NULL, 0, err};
    for (size_t i = 0; i < e->nact && rc == CORE_OK; i++) {
        const ddbx_action *a = &e->act[i];
        if (a->kind == UA_SET) {
            cJSON *parent = parent_of(item, &a->path);
            if (!parent) {
                rc = bad_path(err);
                break;
            }
            cJSON *v = values[i];
            values[i] = NULL;
            rc = put(&x, parent, &a->path.e[a->path.n - 1], v);
        } else if (a->kind == UA_ADD) {
            rc = apply_add(&x, item, a);
        } else if (a->kind == UA_DELETE) {
            rc = apply_delete(&x, item, a);
        }
    }
    /* REMOVE targets are found before any append or removal moves an index. */
    for (size_t i = 0; i < e->nact && rc == CORE_OK; i++)
        if (e->act[i].kind == UA_REMOVE)
            rc = apply_remove(&x, item, &e->act[i], existed);
    if (rc == CORE_OK) {
        if (x.nap) /* qsort must not see a NULL base, even with no elements */
            qsort(x.ap, x.nap, sizeof *x.ap, append_order);
        for (size_t i = 0; i < x.nap; i++) {
            cJSON_AddItemToArray(x.ap[i].list, x.ap[i].value);
            x.ap[i].value = NULL;
        }
        for (size_t i = 0; i < x.nrm; i++)
            cJSON_Delete(cJSON_DetachItemViaPointer(x.rm[i].parent, x.rm[i].child));
    }
    for (size_t i = 0; i < e->nact; i++)
        cJSON_Delete(values[i]);
    free(values);
    applier_release(&x);
    return rc;
}

int ddb_expr_update_apply(const ddb_expr *e, cJSON *item, core_err *err)
{
    return ddb_expr_update_apply_ex(e, item, item && item->child != NULL, err);
}

int ddb_expr_update_touches(const ddb_expr *e, const char *name)
{
    if (!e || !name || e->kind != DDB_EXPR_UPDATE)
        return 0;
    for (size_t i = 0; i < e->nact; i++) {
        const ddbx_path *p = &e->act[i].path;
        if (p->n && !p->e[0].is_index && p->e[0].name && !strcmp(p->e[0].name, name))
            return 1;
    }
    return 0;
}

/* ---- projection ------------------------------------------------------------- */

/* A trie of the selected paths over the item: each node is one element of a
 * path with the item's value there; leaves are copied whole. */
typedef struct tnode {
    const ddbx_elem *key;
    const cJSON *value;
    int leaf;
    struct tnode *kid;
    size_t nkid;
} tnode;

static void trie_free(tnode *t)
{
    for (size_t i = 0; i < t->nkid; i++)
        trie_free(&t->kid[i]);
    free(t->kid);
}

static tnode *trie_child(tnode *t, const ddbx_elem *key, const cJSON *value)
{
    for (size_t i = 0; i < t->nkid; i++) {
        const ddbx_elem *k = t->kid[i].key;
        if (k->is_index == key->is_index &&
            (k->is_index ? k->index == key->index : !strcmp(k->name, key->name)))
            return &t->kid[i];
    }
    tnode *k = realloc(t->kid, (t->nkid + 1) * sizeof *k);
    if (!k)
        return NULL;
    t->kid = k;
    memset(&t->kid[t->nkid], 0, sizeof *k);
    t->kid[t->nkid].key = key;
    t->kid[t->nkid].value = value;
    return &t->kid[t->nkid++];
}

static int trie_add(tnode *root, const cJSON *item, const ddbx_path *p)
{
    if (ddbx_path_get(item, p) == NULL)
        return CORE_OK;
    tnode *t = root;
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(item, p->e[0].name);
    for (size_t k = 0; k < p->n; k++) {
        if (k > 0)
            cur = step(cur, &p->e[k]);
        t = trie_child(t, &p->e[k], cur);
        if (!t)
            return CORE_ERROR;
    }
    t->leaf = 1;
    return CORE_OK;
}

static int by_index(const void *a, const void *b)
{
    uint32_t x = ((const tnode *)a)->key->index, y = ((const tnode *)b)->key->index;
    return x < y ? -1 : x > y;
}

static cJSON *trie_build(tnode *t)
{
    if (t->leaf)
        return copy_bare(t->value);
    int is_list = ddb_value_type(t->value) == DDB_L;
    cJSON *av = cJSON_CreateObject();
    cJSON *inner = is_list ? cJSON_CreateArray() : cJSON_CreateObject();
    if (!av || !inner) {
        cJSON_Delete(av);
        cJSON_Delete(inner);
        return NULL;
    }
    cJSON_AddItemToObject(av, is_list ? "L" : "M", inner);
    if (is_list && t->nkid)
        qsort(t->kid, t->nkid, sizeof *t->kid, by_index);
    for (size_t i = 0; i < t->nkid; i++) {
        cJSON *c = trie_build(&t->kid[i]);
        if (!c) {
            cJSON_Delete(av);
            return NULL;
        }
        if (is_list)
            cJSON_AddItemToArray(inner, c);
        else
            cJSON_AddItemToObject(inner, t->kid[i].key->name, c);
    }
    return av;
}

cJSON *ddb_expr_project(const ddb_expr *e, const cJSON *item)
{
    if (!e || (e->kind != DDB_EXPR_PROJECTION && e->kind != DDB_EXPR_UPDATE))
        return NULL;
    cJSON *out = cJSON_CreateObject();
    if (!out || !item)
        return out;
    tnode root;
    memset(&root, 0, sizeof root);
    size_t n = e->kind == DDB_EXPR_PROJECTION ? e->nproj : e->nact;
    for (size_t i = 0; i < n; i++) {
        const ddbx_path *p = e->kind == DDB_EXPR_PROJECTION ? &e->proj[i] : &e->act[i].path;
        if (trie_add(&root, item, p) != CORE_OK) {
            trie_free(&root);
            cJSON_Delete(out);
            return NULL;
        }
    }
    for (size_t i = 0; i < root.nkid; i++) {
        cJSON *c = trie_build(&root.kid[i]);
        if (!c) {
            trie_free(&root);
            cJSON_Delete(out);
            return NULL;
        }
        cJSON_AddItemToObject(out, root.kid[i].key->name, c);
    }
    trie_free(&root);
    return out;
}

size_t ddb_expr_top_names(const ddb_expr *e, const char **names, size_t max)
{
    if (!e)
        return 0;
    size_t n = e->kind == DDB_EXPR_PROJECTION ? e->nproj : e->kind == DDB_EXPR_UPDATE ? e->nact : 0;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        const ddbx_path *p = e->kind == DDB_EXPR_PROJECTION ? &e->proj[i] : &e->act[i].path;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) {
            const ddbx_path *q = e->kind == DDB_EXPR_PROJECTION ? &e->proj[j] : &e->act[j].path;
            seen = !strcmp(q->e[0].name, p->e[0].name);
        }
        if (seen)
            continue;
        if (names && count < max)
            names[count] = p->e[0].name;
        count++;
    }
    return count;
}
