/*
 * intrinsics.c — the intrinsic functions of Amazon States Language
 * ("States.Format('Hello {}', $.name)"): lexer, parser, evaluator, and the
 * eighteen functions.
 *
 * Grammar (AWS's "Intrinsic functions" page):
 *   call     := NAME '(' [arg {',' arg}] ')'        NAME is States.<Function>
 *   arg      := 'string' | number | true | false | null | path | call
 * A string literal is single-quoted; a backslash escapes one of the four
 * characters ' { } and backslash ("\'", "\\", and in a Format template "\{" /
 * "\}" for literal braces); any other
 * backslash makes the call invalid, as AWS refuses 'a\nb' at validation. A path is a
 * JSONPath ("$.a", "$$.Execution.Id", "$.items[*].id") read up to the ',' or
 * ')' that ends the argument. Calls nest at most SFN_INTRINSIC_MAX_DEPTH deep,
 * as AWS documents ("up to 10 intrinsic functions within a field").
 *
 * Behaviour reproduced from AWS as observed by public conformance suites run
 * against the service:
 *   - every argument error (type, count, range, size) fails with
 *     States.Runtime and the cause "Invalid arguments in States.<Function>";
 *     a path argument that selects nothing fails with "The JSONPath '$.x'
 *     specified for the field 'f.$' could not be found in the input '{...}'";
 *   - numbers where integers are wanted (ArrayRange, ArrayPartition,
 *     ArrayGetItem, MathRandom) are truncated toward zero first, as a Java int
 *     cast does (ArrayRange(1.4, 5.6, 2.2) is [1, 3, 5]); MathAdd alone rounds
 *     to the nearest (1.6 + 2.7 is 5) and wants operands and sum in 32 bits;
 *   - States.Format renders null as "null" and refuses objects and arrays;
 *   - States.Hash hashes the JSON text of a non-string value; its data, and
 *     Base64Encode/Decode's input, may hold at most 10,000 characters;
 *   - StringToJson of an empty string is null; ArrayContains compares by text
 *     (a string's characters, else compact JSON), so true matches 'true' and
 *     objects match only with their keys in the same order;
 *   - JsonMerge is shallow: a deep flag of true is refused, any other value
 *     (even the string 'false') merges shallowly;
 *   - Base64Decode is lenient like Java's MIME decoder: characters outside the
 *     alphabet are skipped and a short final group still yields its bytes;
 *   - ArrayRange yields at most 1000 items; MathRandom(start, end[, seed]) is an
 *     integer in [start, end), the same for the same seed.
 * cJSON strings end at NUL, so a decoded "\u0000" truncates the string.
 */
#include "stepfunctions/lang.h"
#include "stepfunctions/lang_impl.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#define RUNTIME "States.Runtime"
#define MAX_TEXT 10000 /* AWS's cap on Hash and Base64 input, in characters */
#define MAX_RANGE 1000 /* AWS's cap on the items of ArrayRange */

/* ---- lexer ------------------------------------------------------------------ */

typedef enum {
    IT_EOF,
    IT_NAME,   /* States.Format, true, false, null */
    IT_STRING, /* 'text' */
    IT_NUMBER,
    IT_PATH,   /* $..., $$... */
    IT_LPAREN,
    IT_RPAREN,
    IT_COMMA
} itoken_kind;

typedef struct itoken {
    itoken_kind kind;
    char *text; /* NAME, PATH: as written; STRING: decoded */
    char *raw;  /* STRING: as written between the quotes (Format needs escapes) */
    double number;
} itoken;

typedef struct ilexer {
    const char *src;
    size_t len, pos;
    itoken *t;
    size_t n, cap;
    const char *reason;
} ilexer;

static int ilex_push(ilexer *lx, itoken tok)
{
    if (lx->n == lx->cap) {
        size_t cap = lx->cap ? lx->cap * 2 : 16;
        itoken *grown = realloc(lx->t, cap * sizeof *grown);
        if (!grown) {
            free(tok.text);
            free(tok.raw);
            lx->reason = "out of memory";
            return -1;
        }
        lx->t = grown;
        lx->cap = cap;
    }
    lx->t[lx->n++] = tok;
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int ilex_string(ilexer *lx)
{
    size_t start = ++lx->pos;
    char *text = malloc(lx->len - start + 1);
    size_t n = 0;
    if (!text) {
        lx->reason = "out of memory";
        return -1;
    }
    while (lx->pos < lx->len && lx->src[lx->pos] != '\'') {
        if (lx->src[lx->pos] == '\\') {
            /* AWS accepts these four escapes only ("'a\\nb'" is an invalid call). */
            if (lx->pos + 1 >= lx->len || !strchr("'{}\\", lx->src[lx->pos + 1])) {
                free(text);
                lx->reason = "invalid escape sequence in a string literal";
                return -1;
            }
            lx->pos++;
        }
        text[n++] = lx->src[lx->pos++];
    }
    if (lx->pos >= lx->len) {
        free(text);
        lx->reason = "unterminated string literal";
        return -1;
    }
    text[n] = '\0';
    char *raw = strndup(lx->src + start, lx->pos - start);
    lx->pos++;
    if (!raw) {
        free(text);
        lx->reason = "out of memory";
        return -1;
    }
    return ilex_push(lx, (itoken){IT_STRING, text, raw, 0});
}

/* A path runs to the ',' or ')' that ends the argument, or a blank, outside
 * brackets and the quotes inside them. */
static int ilex_path(ilexer *lx)
{
    size_t start = lx->pos;
    int bracket = 0, paren = 0;
    char quote = 0;
    while (lx->pos < lx->len) {
        char c = lx->src[lx->pos];
        if (quote) {
            if (c == '\\' && lx->pos + 1 < lx->len)
                lx->pos++;
            else if (c == quote)
                quote = 0;
        } else if (bracket > 0 && (c == '\'' || c == '"')) {
            quote = c;
        } else if (c == '[') {
            bracket++;
        } else if (c == ']') {
            bracket--;
        } else if (bracket > 0 && c == '(') {
            paren++;
        } else if (bracket > 0 && c == ')') {
            paren--;
        } else if (bracket <= 0 && paren <= 0 && (c == ',' || c == ')' || is_space(c))) {
            break;
        }
        lx->pos++;
    }
    char *text = strndup(lx->src + start, lx->pos - start);
    if (!text) {
        lx->reason = "out of memory";
        return -1;
    }
    return ilex_push(lx, (itoken){IT_PATH, text, NULL, 0});
}

/* JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? ("1." and
 * "01" are not numbers). */
static int json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (is_digit(*s))
        while (is_digit(*s))
            s++;
    else
        return 0;
    if (*s == '.') {
        if (!is_digit(*++s))
            return 0;
        while (is_digit(*s))
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!is_digit(*s))
            return 0;
        while (is_digit(*s))
            s++;
    }
    return *s == '\0';
}

static int ilex_number(ilexer *lx)
{
    char num[64];
    size_t k = 0, i = lx->pos;
    if (lx->src[i] == '-')
        num[k++] = lx->src[i++];
    if (i >= lx->len || !is_digit(lx->src[i])) {
        lx->reason = "malformed number";
        return -1;
    }
    while (i < lx->len && k + 1 < sizeof num
           && (is_digit(lx->src[i]) || lx->src[i] == '.' || lx->src[i] == 'e' || lx->src[i] == 'E'
               || ((lx->src[i] == '+' || lx->src[i] == '-') && (num[k - 1] == 'e' || num[k - 1] == 'E'))))
        num[k++] = lx->src[i++];
    num[k] = '\0';
    if (!json_number(num)) {
        lx->reason = "malformed number";
        return -1;
    }
    char *end = NULL;
    double v = strtod(num, &end);
    if (end != num + k || !isfinite(v) || (i < lx->len && (is_letter(lx->src[i]) || is_digit(lx->src[i])))) {
        lx->reason = "malformed number";
        return -1;
    }
    lx->pos = i;
    return ilex_push(lx, (itoken){IT_NUMBER, NULL, NULL, v});
}

static int ilex_run(ilexer *lx)
{
    while (lx->pos < lx->len) {
        char c = lx->src[lx->pos];
        int rc;
        if (is_space(c)) {
            lx->pos++;
            continue;
        }
        if (c == '(' || c == ')' || c == ',') {
            lx->pos++;
            rc = ilex_push(lx, (itoken){c == '(' ? IT_LPAREN : c == ')' ? IT_RPAREN : IT_COMMA,
                                        NULL, NULL, 0});
        } else if (c == '\'') {
            rc = ilex_string(lx);
        } else if (c == '$') {
            rc = ilex_path(lx);
        } else if (c == '-' || is_digit(c)) {
            rc = ilex_number(lx);
        } else if (is_letter(c)) {
            size_t start = lx->pos;
            while (lx->pos < lx->len
                   && (is_letter(lx->src[lx->pos]) || is_digit(lx->src[lx->pos]) || lx->src[lx->pos] == '.'))
                lx->pos++;
            char *text = strndup(lx->src + start, lx->pos - start);
            if (!text) {
                lx->reason = "out of memory";
                return -1;
            }
            rc = ilex_push(lx, (itoken){IT_NAME, text, NULL, 0});
        } else {
            lx->reason = "unexpected character";
            return -1;
        }
        if (rc)
            return -1;
    }
    return ilex_push(lx, (itoken){IT_EOF, NULL, NULL, 0});
}

static void ilex_free(ilexer *lx)
{
    for (size_t i = 0; i < lx->n; i++) {
        free(lx->t[i].text);
        free(lx->t[i].raw);
    }
    free(lx->t);
}

/* ---- parsed form ------------------------------------------------------------------ */

typedef enum {
    F_FORMAT, F_STRING_TO_JSON, F_JSON_TO_STRING, F_ARRAY, F_ARRAY_PARTITION, F_ARRAY_CONTAINS,
    F_ARRAY_RANGE, F_ARRAY_GET_ITEM, F_ARRAY_LENGTH, F_ARRAY_UNIQUE, F_BASE64_ENCODE,
    F_BASE64_DECODE, F_HASH, F_JSON_MERGE, F_MATH_RANDOM, F_MATH_ADD, F_STRING_SPLIT, F_UUID
} func_id;

/* The function table: name, and the argument counts AWS accepts. */
static const struct {
    const char *name;
    func_id id;
    int min_args, max_args; /* max -1: any number */
} FUNCS[] = {
    {"States.Format", F_FORMAT, 1, -1},
    {"States.StringToJson", F_STRING_TO_JSON, 1, 1},
    {"States.JsonToString", F_JSON_TO_STRING, 1, 1},
    {"States.Array", F_ARRAY, 0, -1},
    {"States.ArrayPartition", F_ARRAY_PARTITION, 2, 2},
    {"States.ArrayContains", F_ARRAY_CONTAINS, 2, 2},
    {"States.ArrayRange", F_ARRAY_RANGE, 3, 3},
    {"States.ArrayGetItem", F_ARRAY_GET_ITEM, 2, 2},
    {"States.ArrayLength", F_ARRAY_LENGTH, 1, 1},
    {"States.ArrayUnique", F_ARRAY_UNIQUE, 1, 1},
    {"States.Base64Encode", F_BASE64_ENCODE, 1, 1},
    {"States.Base64Decode", F_BASE64_DECODE, 1, 1},
    {"States.Hash", F_HASH, 2, 2},
    {"States.JsonMerge", F_JSON_MERGE, 3, 3},
    {"States.MathRandom", F_MATH_RANDOM, 2, 3},
    {"States.MathAdd", F_MATH_ADD, 2, 2},
    {"States.StringSplit", F_STRING_SPLIT, 2, 2},
    {"States.UUID", F_UUID, 0, 0},
};

typedef enum { N_CALL, N_LITERAL, N_PATH } node_kind;

typedef struct inode {
    node_kind kind;
    int func; /* index into FUNCS */
    struct inode **args;
    size_t n_args;
    cJSON *literal;
    char *raw;        /* a string literal as written, for Format templates */
    sfn_jpath *path;
    char *path_text;
} inode;

static void inode_free(inode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n_args; i++)
        inode_free(n->args[i]);
    free(n->args);
    cJSON_Delete(n->literal);
    free(n->raw);
    sfn_jpath_free(n->path);
    free(n->path_text);
    free(n);
}

/* ---- parser ------------------------------------------------------------------------ */

typedef struct iparser {
    const itoken *t;
    size_t pos;
    int depth;
    const char *reason;
} iparser;

static int find_func(const char *name)
{
    for (size_t i = 0; i < sizeof FUNCS / sizeof FUNCS[0]; i++)
        if (strcmp(FUNCS[i].name, name) == 0)
            return (int)i;
    return -1;
}

static inode *parse_call(iparser *p);

static inode *parse_arg(iparser *p)
{
    const itoken *t = &p->t[p->pos];
    inode *n = NULL;
    if (t->kind == IT_NAME && find_func(t->text) >= 0)
        return parse_call(p);
    n = calloc(1, sizeof *n);
    if (!n) {
        p->reason = "out of memory";
        return NULL;
    }
    n->kind = N_LITERAL;
    switch (t->kind) {
    case IT_STRING:
        n->literal = cJSON_CreateString(t->text);
        n->raw = strdup(t->raw);
        if (!n->raw) {
            inode_free(n);
            p->reason = "out of memory";
            return NULL;
        }
        break;
    case IT_NUMBER:
        n->literal = cJSON_CreateNumber(t->number);
        break;
    case IT_NAME:
        if (strcmp(t->text, "true") == 0)
            n->literal = cJSON_CreateTrue();
        else if (strcmp(t->text, "false") == 0)
            n->literal = cJSON_CreateFalse();
        else if (strcmp(t->text, "null") == 0)
            n->literal = cJSON_CreateNull();
        else {
            inode_free(n);
            p->reason = "unknown function";
            return NULL;
        }
        break;
    case IT_PATH:
        n->kind = N_PATH;
        n->path = sfn_jpath_parse(t->text, NULL);
        n->path_text = strdup(t->text);
        if (!n->path || !n->path_text) {
            inode_free(n);
            p->reason = "invalid path argument";
            return NULL;
        }
        p->pos++;
        return n;
    default:
        inode_free(n);
        p->reason = "expected an argument";
        return NULL;
    }
    if (!n->literal) {
        inode_free(n);
        p->reason = "out of memory";
        return NULL;
    }
    p->pos++;
    return n;
}

static inode *parse_call(iparser *p)
{
    const itoken *t = &p->t[p->pos];
    int f = t->kind == IT_NAME ? find_func(t->text) : -1;
    if (f < 0) {
        p->reason = "expected States.<Function>(...)";
        return NULL;
    }
    if (++p->depth > SFN_INTRINSIC_MAX_DEPTH) {
        p->reason = "intrinsic functions nested too deeply";
        return NULL;
    }
    p->pos++;
    if (p->t[p->pos].kind != IT_LPAREN) {
        p->reason = "expected '('";
        return NULL;
    }
    p->pos++;
    inode *n = calloc(1, sizeof *n);
    if (!n) {
        p->reason = "out of memory";
        return NULL;
    }
    n->kind = N_CALL;
    n->func = f;
    if (p->t[p->pos].kind != IT_RPAREN) {
        for (;;) {
            if (n->n_args >= SFN_INTRINSIC_MAX_ARGS) {
                p->reason = "too many arguments";
                inode_free(n);
                return NULL;
            }
            inode *arg = parse_arg(p);
            if (!arg) {
                inode_free(n);
                return NULL;
            }
            inode **grown = realloc(n->args, (n->n_args + 1) * sizeof *grown);
            if (!grown) {
                inode_free(arg);
                inode_free(n);
                p->reason = "out of memory";
                return NULL;
            }
            n->args = grown;
            n->args[n->n_args++] = arg;
            if (p->t[p->pos].kind != IT_COMMA)
                break;
            p->pos++;
        }
    }
    if (p->t[p->pos].kind != IT_RPAREN) {
        p->reason = "expected ',' or ')'";
        inode_free(n);
        return NULL;
    }
    p->pos++;
    p->depth--;
    return n;
}

/* Parse a whole call; NULL with *reason on error. */
static inode *intrinsic_parse(const char *text, const char **reason)
{
    *reason = NULL;
    if (!text || strlen(text) > SFN_INTRINSIC_MAX_LEN) {
        *reason = "the call is missing or too long";
        return NULL;
    }
    ilexer lx = {.src = text, .len = strlen(text)};
    inode *root = NULL;
    if (ilex_run(&lx) == 0) {
        iparser p = {.t = lx.t};
        root = parse_call(&p);
        if (root && p.t[p.pos].kind != IT_EOF) {
            inode_free(root);
            root = NULL;
            p.reason = "unexpected text after the call";
        }
        *reason = p.reason;
    } else {
        *reason = lx.reason;
    }
    ilex_free(&lx);
    return root;
}

int sfn_is_intrinsic(const char *text)
{
    if (!text || strncmp(text, "States.", 7) != 0)
        return 0;
    const char *open = strchr(text, '(');
    size_t len = strlen(text);
    return open != NULL && len > 0 && text[len - 1] == ')';
}

int sfn_intrinsic_is_valid(const char *text, const char **reason)
{
    const char *why = NULL;
    inode *n = intrinsic_parse(text, &why);
    if (reason)
        *reason = why;
    inode_free(n);
    return n != NULL;
}

/* ---- evaluator: helpers --------------------------------------------------------------- */

typedef struct ieval {
    const cJSON *input, *context;
    const char *field; /* the template key, e.g. "x.$", for path errors; may be NULL */
    core_err *err;
} ieval;

static int invalid(ieval *ev, func_id f)
{
    for (size_t i = 0; i < sizeof FUNCS / sizeof FUNCS[0]; i++)
        if (FUNCS[i].id == f)
            return core_err_set(ev->err, 400, RUNTIME, "Invalid arguments in %s", FUNCS[i].name);
    return core_err_set(ev->err, 400, RUNTIME, "Invalid arguments");
}

static int oom(ieval *ev)
{
    return core_err_set(ev->err, 500, RUNTIME, "out of memory");
}

/* Java's (int) cast of a double: truncation toward zero, saturating. */
static long long truncate_int(double v)
{
    if (v >= 9.2e18)
        return LLONG_MAX;
    if (v <= -9.2e18)
        return LLONG_MIN;
    return (long long)v;
}

/* Characters of a UTF-8 string (code points; continuation bytes not counted). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* Append to a growing buffer. */
typedef struct buf {
    char *p;
    size_t n, cap;
    int failed;
} buf;

static void buf_add(buf *b, const char *s, size_t len)
{
    if (b->failed)
        return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + len + 1)
            cap *= 2;
        char *grown = realloc(b->p, cap);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

static cJSON *string_result(ieval *ev, buf *b)
{
    cJSON *out = NULL;
    if (!b->failed)
        out = cJSON_CreateString(b->p ? b->p : "");
    free(b->p);
    if (!out)
        oom(ev);
    return out;
}

/* ---- the functions ----------------------------------------------------------------------- */

/* Text of a Format argument: strings as they are, numbers and booleans as JSON
 * writes them, null as "null"; objects and arrays are refused. */
static int format_piece(const cJSON *v, buf *b)
{
    if (cJSON_IsString(v)) {
        buf_add(b, v->valuestring, strlen(v->valuestring));
        return 0;
    }
    if (cJSON_IsObject(v) || cJSON_IsArray(v))
        return -1;
    if (cJSON_IsNumber(v)) {
        char num[64];
        sfn_number_text(v->valuedouble, num, sizeof num);
        buf_add(b, num, strlen(num));
        return 0;
    }
    char *text = sfn_json_text(v);
    if (!text)
        return -1;
    buf_add(b, text, strlen(text));
    free(text);
    return 0;
}

static cJSON *fn_format(ieval *ev, const inode *call, cJSON **args, size_t n)
{
    if (!cJSON_IsString(args[0])) {
        invalid(ev, F_FORMAT);
        return NULL;
    }
    /* A literal template keeps its escapes: "\{" is a brace, "{}" a slot. A
     * template read from a path has no escapes. */
    const char *t = call->args[0]->kind == N_LITERAL && call->args[0]->raw ? call->args[0]->raw
                                                                           : args[0]->valuestring;
    int escapes = t != args[0]->valuestring;
    buf b = {0};
    size_t next = 1;
    buf_add(&b, "", 0);
    for (const char *c = t; *c; c++) {
        if (escapes && *c == '\\' && c[1]) {
            c++;
            buf_add(&b, c, 1);
        } else if (*c == '{' && c[1] == '}') {
            if (next >= n || format_piece(args[next], &b)) {
                free(b.p);
                invalid(ev, F_FORMAT);
                return NULL;
            }
            next++;
            c++;
        } else if (*c == '{' || *c == '}') {
            free(b.p);
            invalid(ev, F_FORMAT);
            return NULL;
        } else {
            buf_add(&b, c, 1);
        }
    }
    if (next != n) {
        free(b.p);
        invalid(ev, F_FORMAT);
        return NULL;
    }
    return string_result(ev, &b);
}

static cJSON *fn_base64_encode(ieval *ev, const cJSON *s)
{
    if (!cJSON_IsString(s) || utf8_chars(s->valuestring) > MAX_TEXT) {
        invalid(ev, F_BASE64_ENCODE);
        return NULL;
    }
    size_t len = strlen(s->valuestring);
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out) {
        oom(ev);
        return NULL;
    }
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s->valuestring, (int)len);
    cJSON *r = cJSON_CreateString(out);
    free(out);
    if (!r)
        oom(ev);
    return r;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Replace bytes that are not valid UTF-8 by U+FFFD, as Java's String does. */
static char *utf8_sanitize(const unsigned char *s, size_t len)
{
    char *out = malloc(len * 3 + 1);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        int need = c < 0x80 ? 0 : (c >= 0xC2 && c <= 0xDF) ? 1 : (c & 0xF0) == 0xE0 ? 2
                 : (c >= 0xF0 && c <= 0xF4) ? 3 : -1;
        int ok = need >= 0 && i + (size_t)need < len;
        for (int k = 1; ok && k <= need; k++)
            ok = (s[i + (size_t)k] & 0xC0) == 0x80;
        if (ok) {
            memcpy(out + o, s + i, (size_t)need + 1);
            o += (size_t)need + 1;
            i += (size_t)need + 1;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

static cJSON *fn_base64_decode(ieval *ev, const cJSON *s)
{
    if (!cJSON_IsString(s) || utf8_chars(s->valuestring) > MAX_TEXT) {
        invalid(ev, F_BASE64_DECODE);
        return NULL;
    }
    size_t len = strlen(s->valuestring);
    unsigned char *bytes = malloc(len + 1);
    if (!bytes) {
        oom(ev);
        return NULL;
    }
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (const char *c = s->valuestring; *c && *c != '='; c++) {
        int v = b64_value(*c);
        if (v < 0)
            continue;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    char *text = utf8_sanitize(bytes, n);
    free(bytes);
    cJSON *r = text ? cJSON_CreateString(text) : NULL;
    free(text);
    if (!r)
        oom(ev);
    return r;
}

static cJSON *fn_hash(ieval *ev, const cJSON *data, const cJSON *alg)
{
    static const struct { const char *aws, *openssl; } ALGS[] = {
        {"MD5", "MD5"}, {"SHA-1", "SHA1"}, {"SHA-256", "SHA256"},
        {"SHA-384", "SHA384"}, {"SHA-512", "SHA512"},
    };
    const EVP_MD *md = NULL;
    for (size_t i = 0; cJSON_IsString(alg) && i < sizeof ALGS / sizeof ALGS[0]; i++)
        if (strcmp(alg->valuestring, ALGS[i].aws) == 0)
            md = EVP_get_digestbyname(ALGS[i].openssl);
    char *owned = cJSON_IsString(data) ? NULL : sfn_json_text(data);
    const char *text = owned ? owned : cJSON_IsString(data) ? data->valuestring : NULL;
    if (!md || !text || utf8_chars(text) > MAX_TEXT) {
        free(owned);
        invalid(ev, F_HASH);
        return NULL;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    int ok = EVP_Digest(text, strlen(text), digest, &dlen, md, NULL);
    free(owned);
    if (!ok) {
        invalid(ev, F_HASH);
        return NULL;
    }
    char hex[EVP_MAX_MD_SIZE * 2 + 1];
    for (unsigned i = 0; i < dlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    hex[2 * dlen] = '\0';
    cJSON *r = cJSON_CreateString(hex);
    if (!r)
        oom(ev);
    return r;
}

static cJSON *fn_array_range(ieval *ev, cJSON **a)
{
    if (!cJSON_IsNumber(a[0]) || !cJSON_IsNumber(a[1]) || !cJSON_IsNumber(a[2])) {
        invalid(ev, F_ARRAY_RANGE);
        return NULL;
    }
    long long start = truncate_int(a[0]->valuedouble), end = truncate_int(a[1]->valuedouble);
    long long step = truncate_int(a[2]->valuedouble);
    if (step == 0 || start < INT_MIN || start > INT_MAX || end < INT_MIN || end > INT_MAX) {
        invalid(ev, F_ARRAY_RANGE);
        return NULL;
    }
    long long count = 0;
    if ((step > 0 && end >= start) || (step < 0 && end <= start))
        count = (end - start) / step + 1;
    if (count > MAX_RANGE) {
        invalid(ev, F_ARRAY_RANGE);
        return NULL;
    }
    cJSON *arr = cJSON_CreateArray();
    for (long long i = 0; arr && i < count; i++) {
        cJSON *v = cJSON_CreateNumber((double)(start + i * step));
        if (!v) {
            cJSON_Delete(arr);
            arr = NULL;
        } else {
            cJSON_AddItemToArray(arr, v);
        }
    }
    if (!arr)
        oom(ev);
    return arr;
}

static cJSON *fn_array_partition(ieval *ev, const cJSON *arr, const cJSON *size)
{
    long long chunk = cJSON_IsNumber(size) ? truncate_int(size->valuedouble) : 0;
    if (!cJSON_IsArray(arr) || chunk <= 0) {
        invalid(ev, F_ARRAY_PARTITION);
        return NULL;
    }
    cJSON *out = cJSON_CreateArray(), *cur = NULL;
    long long in_chunk = 0;
    for (const cJSON *c = arr->child; out && c; c = c->next) {
        if (!cur || in_chunk == chunk) {
            cur = cJSON_CreateArray();
            if (!cur || !cJSON_AddItemToArray(out, cur)) {
                cJSON_Delete(cur);
                cJSON_Delete(out);
                out = NULL;
                break;
            }
            in_chunk = 0;
        }
        cJSON *copy = cJSON_Duplicate(c, 1);
        if (!copy) {
            cJSON_Delete(out);
            out = NULL;
            break;
        }
        cJSON_AddItemToArray(cur, copy);
        in_chunk++;
    }
    if (!out)
        oom(ev);
    return out;
}

static cJSON *fn_array_unique(ieval *ev, const cJSON *arr)
{
    if (!cJSON_IsArray(arr)) {
        invalid(ev, F_ARRAY_UNIQUE);
        return NULL;
    }
    cJSON *out = cJSON_CreateArray();
    for (const cJSON *c = arr->child; out && c; c = c->next) {
        int seen = 0;
        for (const cJSON *d = out->child; d && !seen; d = d->next)
            seen = cJSON_Compare(c, d, 1);
        if (seen)
            continue;
        cJSON *copy = cJSON_Duplicate(c, 1);
        if (!copy) {
            cJSON_Delete(out);
            out = NULL;
        } else {
            cJSON_AddItemToArray(out, copy);
        }
    }
    if (!out)
        oom(ev);
    return out;
}

static cJSON *fn_json_merge(ieval *ev, const cJSON *a, const cJSON *b, const cJSON *deep)
{
    /* AWS supports the shallow mode only: true is refused; anything else
     * (false, even a string) merges shallowly, as the service does. */
    if (!cJSON_IsObject(a) || !cJSON_IsObject(b) || cJSON_IsTrue(deep)) {
        invalid(ev, F_JSON_MERGE);
        return NULL;
    }
    cJSON *out = cJSON_Duplicate(a, 1);
    for (const cJSON *c = b->child; out && c; c = c->next) {
        cJSON *copy = cJSON_Duplicate(c, 1);
        int ok = copy != NULL;
        if (ok && cJSON_GetObjectItemCaseSensitive(out, c->string))
            ok = cJSON_ReplaceItemInObjectCaseSensitive(out, c->string, copy);
        else if (ok)
            ok = cJSON_AddItemToObject(out, c->string, copy);
        if (!ok) {
            cJSON_Delete(copy);
            cJSON_Delete(out);
            out = NULL;
        }
    }
    if (!out)
        oom(ev);
    return out;
}

/* splitmix64: a seeded MathRandom returns the same value for the same seed. */
static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static cJSON *fn_math_random(ieval *ev, cJSON **a, size_t n)
{
    if (!cJSON_IsNumber(a[0]) || !cJSON_IsNumber(a[1]) || (n == 3 && !cJSON_IsNumber(a[2]))) {
        invalid(ev, F_MATH_RANDOM);
        return NULL;
    }
    long long start = truncate_int(a[0]->valuedouble), end = truncate_int(a[1]->valuedouble);
    if (start >= end || start < INT_MIN || end > INT_MAX) {
        invalid(ev, F_MATH_RANDOM);
        return NULL;
    }
    uint64_t r;
    if (n == 3) {
        r = splitmix64((uint64_t)truncate_int(a[2]->valuedouble));
    } else if (RAND_bytes((unsigned char *)&r, sizeof r) != 1) {
        core_err_set(ev->err, 500, RUNTIME, "no randomness available");
        return NULL;
    }
    uint64_t span = (uint64_t)(end - start);
    cJSON *v = cJSON_CreateNumber((double)(start + (long long)(r % span)));
    if (!v)
        oom(ev);
    return v;
}

/* MathAdd rounds its operands to the nearest integer (AWS: 1.6 + 2.7 = 5),
 * unlike ArrayRange and MathRandom, which truncate; operands and the sum must
 * fit a 32-bit int. */
static cJSON *fn_math_add(ieval *ev, const cJSON *a, const cJSON *b)
{
    if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b)) {
        invalid(ev, F_MATH_ADD);
        return NULL;
    }
    long long x = truncate_int(floor(a->valuedouble + 0.5)), y = truncate_int(floor(b->valuedouble + 0.5));
    if (x < INT_MIN || x > INT_MAX || y < INT_MIN || y > INT_MAX || x + y < INT_MIN || x + y > INT_MAX) {
        invalid(ev, F_MATH_ADD);
        return NULL;
    }
    cJSON *v = cJSON_CreateNumber((double)(x + y));
    if (!v)
        oom(ev);
    return v;
}

/* Length of the UTF-8 sequence at s (1 for a stray byte). */
static size_t utf8_len(const char *s)
{
    unsigned char c = (unsigned char)*s;
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    for (size_t i = 1; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            return 1;
    return n;
}

/* Split at any character of the delimiter, dropping empty pieces, as Java's
 * StringTokenizer does ("a,,b" with "," is ["a", "b"]). */
static cJSON *fn_string_split(ieval *ev, const cJSON *s, const cJSON *delim)
{
    if (!cJSON_IsString(s) || !cJSON_IsString(delim)) {
        invalid(ev, F_STRING_SPLIT);
        return NULL;
    }
    cJSON *out = cJSON_CreateArray();
    const char *piece = s->valuestring, *c = s->valuestring;
    while (out) {
        size_t clen = *c ? utf8_len(c) : 0;
        int is_delim = 0;
        for (const char *d = delim->valuestring; *c && *d && !is_delim;) {
            size_t dlen = utf8_len(d);
            is_delim = dlen == clen && memcmp(c, d, clen) == 0;
            d += dlen;
        }
        if (!*c || is_delim) {
            if (c > piece) {
                char *text = strndup(piece, (size_t)(c - piece));
                cJSON *v = text ? cJSON_CreateString(text) : NULL;
                free(text);
                if (!v) {
                    cJSON_Delete(out);
                    out = NULL;
                    break;
                }
                cJSON_AddItemToArray(out, v);
            }
            if (!*c)
                break;
            piece = c + clen;
        }
        c += clen;
    }
    if (!out)
        oom(ev);
    return out;
}

static cJSON *fn_uuid(ieval *ev)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) {
        core_err_set(ev->err, 500, RUNTIME, "no randomness available");
        return NULL;
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    char text[37];
    snprintf(text, sizeof text,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    cJSON *v = cJSON_CreateString(text);
    if (!v)
        oom(ev);
    return v;
}

/* ArrayContains compares values as AWS does, by text: a string by its
 * characters, anything else by its compact JSON. So true matches "true", 5
 * matches "5", and objects match only with their keys in the same order. */
static char *member_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return strdup(v->valuestring);
    if (cJSON_IsNumber(v)) {
        char num[64];
        sfn_number_text(v->valuedouble, num, sizeof num);
        return strdup(num);
    }
    return cJSON_PrintUnformatted(v);
}

/* ---- evaluator ---------------------------------------------------------------------------- */

static cJSON *eval_node(ieval *ev, const inode *n);

static cJSON *eval_path(ieval *ev, const inode *n)
{
    cJSON *out = NULL;
    core_err perr;
    if (sfn_jpath_eval(n->path, ev->input, ev->context, &out, &perr) == CORE_OK)
        return out;
    char *text = sfn_json_text(ev->input);
    if (ev->field)
        core_err_set(ev->err, 400, RUNTIME,
                     "The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'",
                     n->path_text, ev->field, text);
    else
        core_err_set(ev->err, 400, RUNTIME, "The JSONPath '%s' could not be found in the input '%s'",
                     n->path_text, text);
    free(text);
    return NULL;
}

static cJSON *eval_call(ieval *ev, const inode *call)
{
    func_id f = FUNCS[call->func].id;
    size_t n = call->n_args;
    if ((int)n < FUNCS[call->func].min_args
        || (FUNCS[call->func].max_args >= 0 && (int)n > FUNCS[call->func].max_args)) {
        invalid(ev, f);
        return NULL;
    }
    cJSON **a = calloc(n ? n : 1, sizeof *a);
    if (!a) {
        oom(ev);
        return NULL;
    }
    cJSON *r = NULL;
    size_t done = 0;
    for (; done < n; done++)
        if (!(a[done] = eval_node(ev, call->args[done])))
            goto out;
    switch (f) {
    case F_FORMAT:
        r = fn_format(ev, call, a, n);
        break;
    case F_STRING_TO_JSON:
        /* AWS answers null for an empty (or blank) string, as Jackson reads it. */
        if (cJSON_IsString(a[0]) && a[0]->valuestring[strspn(a[0]->valuestring, " \t\r\n")] == '\0')
            r = cJSON_CreateNull();
        else if (!cJSON_IsString(a[0]) || !(r = cJSON_Parse(a[0]->valuestring)))
            invalid(ev, f);
        break;
    case F_JSON_TO_STRING: {
        char *text = cJSON_PrintUnformatted(a[0]);
        r = text ? cJSON_CreateString(text) : NULL;
        free(text);
        if (!r)
            oom(ev);
        break;
    }
    case F_ARRAY:
        r = cJSON_CreateArray();
        for (size_t i = 0; r && i < n; i++) {
            cJSON_AddItemToArray(r, a[i]);
            a[i] = NULL;
        }
        if (!r)
            oom(ev);
        break;
    case F_ARRAY_PARTITION:
        r = fn_array_partition(ev, a[0], a[1]);
        break;
    case F_ARRAY_CONTAINS: {
        int found = 0;
        if (!cJSON_IsArray(a[0])) {
            invalid(ev, f);
            break;
        }
        char *want = member_text(a[1]);
        for (const cJSON *c = a[0]->child; want && c && !found; c = c->next) {
            char *have = member_text(c);
            found = have && strcmp(have, want) == 0;
            free(have);
        }
        free(want);
        if (!(r = cJSON_CreateBool(found)))
            oom(ev);
        break;
    }
    case F_ARRAY_RANGE:
        r = fn_array_range(ev, a);
        break;
    case F_ARRAY_GET_ITEM: {
        long long i = cJSON_IsNumber(a[1]) ? truncate_int(a[1]->valuedouble) : -1;
        cJSON *item = cJSON_IsArray(a[0]) && i >= 0 && i < cJSON_GetArraySize(a[0])
                          ? cJSON_GetArrayItem(a[0], (int)i) : NULL;
        if (!item)
            invalid(ev, f);
        else if (!(r = cJSON_Duplicate(item, 1)))
            oom(ev);
        break;
    }
    case F_ARRAY_LENGTH:
        if (!cJSON_IsArray(a[0]))
            invalid(ev, f);
        else if (!(r = cJSON_CreateNumber(cJSON_GetArraySize(a[0]))))
            oom(ev);
        break;
    case F_ARRAY_UNIQUE:
        r = fn_array_unique(ev, a[0]);
        break;
    case F_BASE64_ENCODE:
        r = fn_base64_encode(ev, a[0]);
        break;
    case F_BASE64_DECODE:
        r = fn_base64_decode(ev, a[0]);
        break;
    case F_HASH:
        r = fn_hash(ev, a[0], a[1]);
        break;
    case F_JSON_MERGE:
        r = fn_json_merge(ev, a[0], a[1], a[2]);
        break;
    case F_MATH_RANDOM:
        r = fn_math_random(ev, a, n);
        break;
    case F_MATH_ADD:
        r = fn_math_add(ev, a[0], a[1]);
        break;
    case F_STRING_SPLIT:
        r = fn_string_split(ev, a[0], a[1]);
        break;
    case F_UUID:
        r = fn_uuid(ev);
        break;
    }
out:
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(a[i]);
    free(a);
    return r;
}

static cJSON *eval_node(ieval *ev, const inode *n)
{
    switch (n->kind) {
    case N_LITERAL: {
        cJSON *v = cJSON_Duplicate(n->literal, 1);
        if (!v)
            oom(ev);
        return v;
    }
    case N_PATH:
        return eval_path(ev, n);
    case N_CALL:
        return eval_call(ev, n);
    }
    return NULL;
}

int sfn_intrinsic_eval_field(const char *call, const cJSON *input, const cJSON *context,
                             const char *field, cJSON **out, core_err *err)
{
    *out = NULL;
    const char *reason = NULL;
    inode *root = intrinsic_parse(call, &reason);
    if (!root)
        return core_err_set(err, 400, RUNTIME, "Invalid intrinsic function call '%.200s': %s",
                            call ? call : "", reason ? reason : "syntax error");
    ieval ev = {.input = input, .context = context, .field = field, .err = err};
    *out = eval_node(&ev, root);
    inode_free(root);
    return *out ? CORE_OK : CORE_ERROR;
}

int sfn_intrinsic_eval(const char *call, const cJSON *input, const cJSON *context, cJSON **out,
                       core_err *err)
{
    return sfn_intrinsic_eval_field(call, input, context, NULL, out, err);
}
