/*
 * template_eval.c — CloudFormation intrinsic functions, evaluated to local values.
 *
 * Reproduces the behaviour documented in the CloudFormation User Guide,
 * "Intrinsic function reference": Ref (parameters, pseudo parameters,
 * resources), Fn::GetAtt, Fn::Sub (string and [string, map] forms, ${!Literal}
 * escapes), Fn::Join, Fn::Select, Fn::Split, Fn::If, Fn::Equals, Fn::And,
 * Fn::Or, Fn::Not, Fn::FindInMap, Fn::Base64, Fn::GetAZs. Fn::ImportValue and
 * Fn::Cidr have no local meaning and are refused by name.
 *
 * Invariant: tpl_eval never mutates its input and returns a fresh tree, or the
 * TPL_NOVALUE sentinel (never freed), or NULL with err filled.
 */
#include "core/template_impl.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cJSON tpl_novalue;

static int bad(core_err *err, const char *where, const char *what)
{
    return core_err_set(err, 400, "ValidationError", "%s: %s", where, what);
}

int tpl_is_intrinsic(const cJSON *node)
{
    if (!cJSON_IsObject(node) || !node->child || node->child->next)
        return 0;
    const char *k = node->child->string;
    return strcmp(k, "Ref") == 0 || strcmp(k, "Condition") == 0 || strncmp(k, "Fn::", 4) == 0;
}

/* A scalar as text: strings as they are, numbers as CloudFormation prints them,
 * booleans as true/false. Caller frees. NULL for other kinds. */
static char *scalar_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return strdup(v->valuestring);
    if (cJSON_IsBool(v))
        return strdup(cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNumber(v)) {
        char buf[64];
        double d = v->valuedouble;
        if (d == (double)(long long)d && d > -1e15 && d < 1e15)
            snprintf(buf, sizeof buf, "%lld", (long long)d);
        else
            snprintf(buf, sizeof buf, "%.17g", d);
        return strdup(buf);
    }
    return NULL;
}

static cJSON *pseudo(core_template *t, const char *name)
{
    if (strcmp(name, "AWS::Region") == 0)
        return cJSON_CreateString(t->region);
    if (strcmp(name, "AWS::AccountId") == 0)
        return cJSON_CreateString(CORE_ACCOUNT_ID);
    if (strcmp(name, "AWS::StackName") == 0)
        return cJSON_CreateString(t->stack);
    if (strcmp(name, "AWS::StackId") == 0)
        return cJSON_CreateString(t->stack_id);
    if (strcmp(name, "AWS::Partition") == 0)
        return cJSON_CreateString("aws");
    if (strcmp(name, "AWS::URLSuffix") == 0)
        return cJSON_CreateString("amazonaws.com");
    if (strcmp(name, "AWS::NotificationARNs") == 0)
        return cJSON_CreateArray();
    if (strcmp(name, "AWS::NoValue") == 0)
        return TPL_NOVALUE;
    return NULL;
}

/* 1 if the parameter is declared CommaDelimitedList or List<...>. */
static int is_list_parameter(const core_template *t, const char *name)
{
    const cJSON *decls = cJSON_GetObjectItemCaseSensitive(t->doc, "Parameters");
    const cJSON *type =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(decls, name), "Type");
    return cJSON_IsString(type) && (strcmp(type->valuestring, "CommaDelimitedList") == 0 ||
                                     strncmp(type->valuestring, "List<", 5) == 0);
}

/* A list parameter's value as CloudFormation's Ref gives it: the comma-separated
 * members, each space-trimmed. */
static cJSON *split_list(const char *value)
{
    cJSON *list = cJSON_CreateArray();
    const char *s = value;
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        while (n && isspace((unsigned char)*s))
            s++, n--;
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        char *item = strndup(s, n);
        cJSON_AddItemToArray(list, cJSON_CreateString(item ? item : ""));
        free(item);
        if (!comma)
            break;
        s = comma + 1;
    }
    return list;
}

static cJSON *ref(core_template *t, const char *name, const char *where, core_err *err)
{
    cJSON *p = cJSON_GetObjectItemCaseSensitive(t->params, name);
    if (cJSON_IsString(p))
        return is_list_parameter(t, name) ? split_list(p->valuestring) : cJSON_Duplicate(p, 1);
    cJSON *ps = pseudo(t, name);
    if (ps)
        return ps;
    if (strncmp(name, "AWS::", 5) == 0) {
        bad(err, where, "unknown pseudo parameter");
        return NULL;
    }
    tpl_res *r = tpl_resolve(t, name, where, err);
    return r ? cJSON_CreateString(r->pub.physical_id) : NULL;
}

static cJSON *get_att(core_template *t, const char *logical, const char *attr, const char *where,
                      core_err *err)
{
    tpl_res *r = tpl_resolve(t, logical, where, err);
    if (!r)
        return NULL;
    const cJSON *v = tpl_attribute(t, r, attr, where, err);
    return v ? cJSON_Duplicate(v, 1) : NULL;
}

/* Append s[0..n) to a growing buffer. */
typedef struct strbuf {
    char *s;
    size_t len, cap;
} strbuf;

static int sb_add(strbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p)
            return -1;
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

/* Fn::Sub on template text with an optional variable map (already evaluated). */
static cJSON *sub(core_template *t, const char *text, const cJSON *vars, const char *where,
                  core_err *err)
{
    strbuf out = {0};
    sb_add(&out, "", 0);
    const char *p = text;
    while (*p) {
        const char *open = strstr(p, "${");
        if (!open) {
            sb_add(&out, p, strlen(p));
            break;
        }
        sb_add(&out, p, (size_t)(open - p));
        const char *close = strchr(open + 2, '}');
        if (!close) {
            free(out.s);
            bad(err, where, "Fn::Sub: unterminated ${");
            return NULL;
        }
        size_t n = (size_t)(close - open - 2);
        if (n > 0 && open[2] == '!') { /* ${!Literal} -> ${Literal} */
            sb_add(&out, "${", 2);
            sb_add(&out, open + 3, n - 1);
            sb_add(&out, "}", 1);
            p = close + 1;
            continue;
        }
        char name[512];
        if (n == 0 || n >= sizeof name) {
            free(out.s);
            bad(err, where, n ? "Fn::Sub: variable name too long" : "Fn::Sub: empty ${}");
            return NULL;
        }
        memcpy(name, open + 2, n);
        name[n] = '\0';
        cJSON *value = NULL;
        const cJSON *v = vars ? cJSON_GetObjectItemCaseSensitive(vars, name) : NULL;
        char *dot = strchr(name, '.');
        if (v)
            value = cJSON_Duplicate(v, 1);
        else if (dot && strncmp(name, "AWS::", 5) != 0) {
            *dot = '\0';
            value = get_att(t, name, dot + 1, where, err);
        } else
            value = ref(t, name, where, err);
        if (!value) {
            free(out.s);
            return NULL;
        }
        char *s = value == TPL_NOVALUE ? NULL : scalar_text(value);
        if (value != TPL_NOVALUE)
            cJSON_Delete(value);
        if (!s) {
            free(out.s);
            core_err_set(err, 400, "ValidationError", "%s: Fn::Sub: ${%s} is not a string",
                         where, name);
            return NULL;
        }
        sb_add(&out, s, strlen(s));
        free(s);
        p = close + 1;
    }
    cJSON *res = cJSON_CreateString(out.s ? out.s : "");
    free(out.s);
    return res;
}

/* Evaluate node and require a list (after evaluation). */
static cJSON *eval_list(core_template *t, const cJSON *node, const char *where, core_err *err)
{
    cJSON *v = tpl_eval(t, node, where, err);
    if (!v)
        return NULL;
    if (v == TPL_NOVALUE || !cJSON_IsArray(v)) {
        if (v != TPL_NOVALUE)
            cJSON_Delete(v);
        bad(err, where, "expected a list");
        return NULL;
    }
    return v;
}

static cJSON *eval_string(core_template *t, const cJSON *node, const char *where, core_err *err,
                          char **text)
{
    cJSON *v = tpl_eval(t, node, where, err);
    if (!v)
        return NULL;
    *text = v == TPL_NOVALUE ? NULL : scalar_text(v);
    if (!*text) {
        if (v != TPL_NOVALUE)
            cJSON_Delete(v);
        bad(err, where, "expected a string");
        return NULL;
    }
    return v;
}

static cJSON *fn_join(core_template *t, const cJSON *arg, const char *where, core_err *err)
{
    if (!cJSON_IsArray(arg) || cJSON_GetArraySize(arg) != 2 ||
        !cJSON_IsString(cJSON_GetArrayItem(arg, 0))) {
        bad(err, where, "Fn::Join takes [delimiter, [values]]");
        return NULL;
    }
    const char *delim = cJSON_GetArrayItem(arg, 0)->valuestring;
    cJSON *list = eval_list(t, cJSON_GetArrayItem(arg, 1), where, err);
    if (!list)
        return NULL;
    strbuf out = {0};
    sb_add(&out, "", 0);
    int first = 1;
    for (const cJSON *e = list->child; e; e = e->next) {
        char *s = scalar_text(e);
        if (!s) {
            free(out.s);
            cJSON_Delete(list);
            bad(err, where, "Fn::Join: values must be strings");
            return NULL;
        }
        if (!first)
            sb_add(&out, delim, strlen(delim));
        sb_add(&out, s, strlen(s));
        free(s);
        first = 0;
    }
    cJSON_Delete(list);
    cJSON *res = cJSON_CreateString(out.s ? out.s : "");
    free(out.s);
    return res;
}

static cJSON *fn_select(core_template *t, const cJSON *arg, const char *where, core_err *err)
{
    if (!cJSON_IsArray(arg) || cJSON_GetArraySize(arg) != 2) {
        bad(err, where, "Fn::Select takes [index, [values]]");
        return NULL;
    }
    char *idx_text = NULL;
    cJSON *idx = eval_string(t, cJSON_GetArrayItem(arg, 0), where, err, &idx_text);
    if (!idx)
        return NULL;
    cJSON_Delete(idx);
    char *end;
    long i = strtol(idx_text, &end, 10);
    int ok = *idx_text && !*end && i >= 0;
    free(idx_text);
    if (!ok) {
        bad(err, where, "Fn::Select: index must be a non-negative integer");
        return NULL;
    }
    cJSON *list = eval_list(t, cJSON_GetArrayItem(arg, 1), where, err);
    if (!list)
        return NULL;
    if (i >= cJSON_GetArraySize(list)) {
        cJSON_Delete(list);
        bad(err, where, "Fn::Select: index out of range");
        return NULL;
    }
    cJSON *res = cJSON_DetachItemFromArray(list, (int)i);
    cJSON_Delete(list);
    return res;
}

static cJSON *fn_split(core_template *t, const cJSON *arg, const char *where, core_err *err)
{
    if (!cJSON_IsArray(arg) || cJSON_GetArraySize(arg) != 2 ||
        !cJSON_IsString(cJSON_GetArrayItem(arg, 0)) ||
        !*cJSON_GetArrayItem(arg, 0)->valuestring) {
        bad(err, where, "Fn::Split takes [delimiter, string]");
        return NULL;
    }
    const char *delim = cJSON_GetArrayItem(arg, 0)->valuestring;
    char *text = NULL;
    cJSON *v = eval_string(t, cJSON_GetArrayItem(arg, 1), where, err, &text);
    if (!v)
        return NULL;
    cJSON_Delete(v);
    cJSON *list = cJSON_CreateArray();
    size_t dl = strlen(delim);
    const char *p = text;
    for (;;) {
        const char *hit = strstr(p, delim);
        if (!hit) {
            cJSON_AddItemToArray(list, cJSON_CreateString(p));
            break;
        }
        char *part = strndup(p, (size_t)(hit - p));
        cJSON_AddItemToArray(list, cJSON_CreateString(part ? part : ""));
        free(part);
        p = hit + dl;
    }
    free(text);
    return list;
}

static cJSON *fn_sub(core_template *t, const cJSON *arg, const char *where, core_err *err)
{
    if (cJSON_IsString(arg))
        return sub(t, arg->valuestring, NULL, where, err);
    if (!cJSON_IsArray(arg) || cJSON_GetArraySize(arg) != 2 ||
        !cJSON_IsString(cJSON_GetArrayItem(arg, 0)) ||
        !cJSON_IsObject(cJSON_GetArrayItem(arg, 1))) {
        bad(err, where, "Fn::Sub takes a string or [string, {variables}]");
        return NULL;
    }
    cJSON *vars = tpl_eval(t, cJSON_GetArrayItem(arg, 1), where, err);
    if (!vars)
        return NULL;
    cJSON *res = sub(t, cJSON_GetArrayItem(arg, 0)->valuestring,
                     vars == TPL_NOVALUE ? NULL : vars, where, err);
    if (vars != TPL_NOVALUE)
        cJSON_Delete(vars);
    return res;
}

static cJSON *fn_get_att(core_template *t, const cJSON *arg, const char *where, core_err *err)
{
    if (cJSON_IsString(arg)) { /* long form "A.B" */
        const char *dot = strchr(arg->valuestring, '.');
        if (dot && dot != arg->valuestring) {
            char *logical = strndup(arg->valuestring, (size_t)(dot - arg->valuestring));
            cJSON *res = logical ? get_att(t, logical, dot + 1, where, err) : NULL;
            free(logical);
            return res;
        }
    } else if (cJSON_IsArray(arg) && cJSON_GetArraySize(arg) == 2 &&
               cJSON_IsString(cJSON_GetArrayItem(arg, 0))) {
        char *attr = NULL;
        cJSON *a = eval_string(t, cJSON_GetArrayItem(arg, 1), where, err, &attr);
        if (!a)
            return NULL;
        cJSON_Delete(a);
        cJSON *res = get_att(t, cJSON_GetArrayItem(arg, 0)->valuestring, attr, where, err);
        free(attr);
        return res;
    }
    bad(err, where, "Fn::GetAtt takes [LogicalId, Attribute] or LogicalId.Attribute");
    return NULL;
}

static cJSON *fn_find_in_map(core_template *t, const cJSON *arg, const char *where,
                             core_err *err)
{
    if (!cJSON_IsArray(arg) || cJSON_GetArraySize(arg) != 3) {
        bad(err, where, "Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey]");
        return NULL;
    }
    char *keys[3] = {0};
    for (int i = 0; i < 3; i++) {
        cJSON *v = eval_string(t, cJSON_GetArrayItem(arg, i), where, err, &keys[i]);
        if (!v) {
            for (int k = 0; k < i; k++)
                free(keys[k]);
            return NULL;
        }
        cJSON_Delete(v);
    }
    const cJSON *maps = cJSON_GetObjectItemCaseSensitive(t->doc, "Mappings");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(maps, keys[0]);
    const cJSON *top = cJSON_GetObjectItemCaseSensitive(m, keys[1]);
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(top, keys[2]);
    cJSON *res = NULL;
    if (!val)
        core_err_set(err, 400, "ValidationError", "%s: Fn::FindInMap: no %s.%s.%s in Mappings",
                     where, keys[0], keys[1], keys[2]);
    else
        res = cJSON_Duplicate(val, 1);
    for (int i = 0; i < 3; i++)
        free(keys[i]);
    return res;
}

static cJSON *fn_base64(core_template *t, const cJSON *arg, const char *where, core_err *err)
{
    char *text = NULL;
    cJSON *v = eval_string(t, arg, where, err, &text);
    if (!v)
        return NULL;
    cJSON_Delete(v);
    size_t n = strlen(text);
    unsigned char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (!out) {
        free(text);
        bad(err, where, "out of memory");
        return NULL;
    }
    EVP_EncodeBlock(out, (const unsigned char *)text, (int)n);
    cJSON *res = cJSON_CreateString((char *)out);
    free(out);
    free(text);
    return res;
}

static cJSON *fn_get_azs(core_template *t)
{
    cJSON *list = cJSON_CreateArray();
    for (char c = 'a'; c <= 'c'; c++) {
        char az[80];
        snprintf(az, sizeof az, "%s%c", t->region, c);
        cJSON_AddItemToArray(list, cJSON_CreateString(az));
    }
    return list;
}

/* Fn::Equals, Fn::And, Fn::Or, Fn::Not, Condition: 1, 0, or -1 (err). */
static int eval_bool(core_template *t, const cJSON *node, const char *where, core_err *err)
{
    if (cJSON_IsBool(node))
        return cJSON_IsTrue(node);
    if (!tpl_is_intrinsic(node)) {
        bad(err, where, "a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition");
        return -1;
    }
    const char *fn = node->child->string;
    const cJSON *arg = node->child;
    if (strcmp(fn, "Condition") == 0) {
        if (!cJSON_IsString(arg)) {
            bad(err, where, "Condition takes a condition name");
            return -1;
        }
        return tpl_condition(t, arg->valuestring, where, err);
    }
    if (strcmp(fn, "Fn::Equals") == 0) {
        if (!cJSON_IsArray(arg) || cJSON_GetArraySize(arg) != 2) {
            bad(err, where, "Fn::Equals takes [value, value]");
            return -1;
        }
        cJSON *a = tpl_eval(t, cJSON_GetArrayItem(arg, 0), where, err);
        if (!a)
            return -1;
        cJSON *b = tpl_eval(t, cJSON_GetArrayItem(arg, 1), where, err);
        if (!b) {
            if (a != TPL_NOVALUE)
                cJSON_Delete(a);
            return -1;
        }
        char *sa = a == TPL_NOVALUE ? NULL : scalar_text(a);
        char *sb = b == TPL_NOVALUE ? NULL : scalar_text(b);
        int eq = sa && sb ? strcmp(sa, sb) == 0
                          : (a != TPL_NOVALUE && b != TPL_NOVALUE && cJSON_Compare(a, b, 1));
        free(sa);
        free(sb);
        if (a != TPL_NOVALUE)
            cJSON_Delete(a);
        if (b != TPL_NOVALUE)
            cJSON_Delete(b);
        return eq;
    }
    int is_and = strcmp(fn, "Fn::And") == 0, is_or = strcmp(fn, "Fn::Or") == 0;
    int is_not = strcmp(fn, "Fn::Not") == 0;
    if (!is_and && !is_or && !is_not) {
        core_err_set(err, 400, "ValidationError", "%s: %s is not a condition function", where,
                     fn);
        return -1;
    }
    int n = cJSON_IsArray(arg) ? cJSON_GetArraySize(arg) : -1;
    if (is_not ? n != 1 : (n < 2 || n > 10)) {
        core_err_set(err, 400, "ValidationError", "%s: %s takes %s", where, fn,
                     is_not ? "[condition]" : "2 to 10 conditions");
        return -1;
    }
    int acc = is_and;
    for (const cJSON *c = arg->child; c; c = c->next) {
        int v = eval_bool(t, c, where, err);
        if (v < 0)
            return -1;
        if (is_not)
            return !v;
        acc = is_and ? (acc && v) : (acc || v);
    }
    return acc;
}

int tpl_condition(core_template *t, const char *name, const char *where, core_err *err)
{
    const cJSON *done = cJSON_GetObjectItemCaseSensitive(t->conditions, name);
    if (done)
        return cJSON_IsTrue(done);
    const cJSON *defs = cJSON_GetObjectItemCaseSensitive(t->doc, "Conditions");
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(defs, name);
    if (!def) {
        core_err_set(err, 400, "ValidationError", "%s: no condition named %s in Conditions",
                     where, name);
        return -1;
    }
    if (cJSON_GetObjectItemCaseSensitive(t->cond_active, name)) {
        core_err_set(err, 400, "ValidationError", "Conditions.%s: circular reference", name);
        return -1;
    }
    cJSON_AddTrueToObject(t->cond_active, name);
    char path[300];
    snprintf(path, sizeof path, "Conditions.%s", name);
    int v = eval_bool(t, def, path, err);
    cJSON_DeleteItemFromObjectCaseSensitive(t->cond_active, name);
    if (v >= 0)
        cJSON_AddBoolToObject(t->conditions, name, v);
    return v;
}

static cJSON *fn_if(core_template *t, const cJSON *arg, const char *where, core_err *err)
{
    if (!cJSON_IsArray(arg) || cJSON_GetArraySize(arg) != 3 ||
        !cJSON_IsString(cJSON_GetArrayItem(arg, 0))) {
        bad(err, where, "Fn::If takes [condition_name, value_if_true, value_if_false]");
        return NULL;
    }
    int v = tpl_condition(t, cJSON_GetArrayItem(arg, 0)->valuestring, where, err);
    if (v < 0)
        return NULL;
    return tpl_eval(t, cJSON_GetArrayItem(arg, v ? 1 : 2), where, err);
}

static cJSON *eval_intrinsic(core_template *t, const cJSON *node, const char *where,
                             core_err *err)
{
    const char *fn = node->child->string;
    const cJSON *arg = node->child;
    if (strcmp(fn, "Ref") == 0) {
        if (!cJSON_IsString(arg)) {
            bad(err, where, "Ref takes a name");
            return NULL;
        }
        return ref(t, arg->valuestring, where, err);
    }
    if (strcmp(fn, "Fn::GetAtt") == 0)
        return fn_get_att(t, arg, where, err);
    if (strcmp(fn, "Fn::Sub") == 0)
        return fn_sub(t, arg, where, err);
    if (strcmp(fn, "Fn::Join") == 0)
        return fn_join(t, arg, where, err);
    if (strcmp(fn, "Fn::Select") == 0)
        return fn_select(t, arg, where, err);
    if (strcmp(fn, "Fn::Split") == 0)
        return fn_split(t, arg, where, err);
    if (strcmp(fn, "Fn::If") == 0)
        return fn_if(t, arg, where, err);
    if (strcmp(fn, "Fn::FindInMap") == 0)
        return fn_find_in_map(t, arg, where, err);
    if (strcmp(fn, "Fn::Base64") == 0)
        return fn_base64(t, arg, where, err);
    if (strcmp(fn, "Fn::GetAZs") == 0)
        return fn_get_azs(t);
    if (strcmp(fn, "Fn::Equals") == 0 || strcmp(fn, "Fn::And") == 0 ||
        strcmp(fn, "Fn::Or") == 0 || strcmp(fn, "Fn::Not") == 0 || strcmp(fn, "Condition") == 0) {
        int v = eval_bool(t, node, where, err);
        return v < 0 ? NULL : cJSON_CreateBool(v);
    }
    core_err_set(err, 400, "ValidationError", "%s: %s is not supported by shoplocal", where, fn);
    return NULL;
}

cJSON *tpl_eval(core_template *t, const cJSON *node, const char *where, core_err *err)
{
    if (tpl_is_intrinsic(node))
        return eval_intrinsic(t, node, where, err);
    if (cJSON_IsObject(node) || cJSON_IsArray(node)) {
        int is_obj = cJSON_IsObject(node);
        cJSON *out = is_obj ? cJSON_CreateObject() : cJSON_CreateArray();
        int i = 0;
        for (const cJSON *c = node->child; c; c = c->next, i++) {
            char path[1024];
            if (is_obj)
                snprintf(path, sizeof path, "%s.%s", where, c->string);
            else
                snprintf(path, sizeof path, "%s[%d]", where, i);
            cJSON *v = tpl_eval(t, c, path, err);
            if (!v) {
                cJSON_Delete(out);
                return NULL;
            }
            if (v == TPL_NOVALUE)
                continue;
            if (is_obj)
                cJSON_AddItemToObject(out, c->string, v);
            else
                cJSON_AddItemToArray(out, v);
        }
        return out;
    }
    return cJSON_Duplicate(node, 0);
}
