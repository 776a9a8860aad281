/*
 * jsonpath.c — the paths of Amazon States Language: lexer, parser, evaluator,
 * and the InputPath/OutputPath/ResultPath steps built on them.
 *
 * AWS evaluates paths with the Jayway JSONPath library, so its dialect is the
 * one reproduced here:
 *   - "$" is the state's input, "$$" the context object;
 *   - ".name" (any characters but '.', '[' and blanks; "$.a-b", "$.sum()" are
 *     names), "['quoted']" (with \' and \\ escapes), "[n]", "[-n]" (from the
 *     end), "[*]" / ".*", "..name" / "..*" / "..[n]" (scan), "[a:b]" slices,
 *     "[0,2]" index unions, "['a','b']" (a leaf only: an object of the named
 *     fields, "Multi properties can only be used as path leafs" otherwise) and
 *     "[?(expr)]" filters with == != < <= > >= && || ! ( ) over @- and
 *     $-relative paths and literals; a bare "@.x" tests existence;
 *   - a definite path (names and single indexes only) yields one value and
 *     fails when anything on the way is missing; any other path yields the
 *     array of its matches, in document order, missing branches skipped;
 *   - a Reference Path (InputPath, OutputPath, ResultPath, Choice Variable,
 *     ItemsPath) is "$"/"$$" followed by names and non-negative indexes only.
 *
 * Invariants: the lexer makes one pass and owns all character handling; the
 * parser reads tokens only; a parsed path never changes and is evaluated
 * against borrowed trees, collecting borrowed node pointers until the end,
 * where the selection is duplicated into the caller's tree. Every bound of
 * lang_impl.h is checked where it can be exceeded, so recursion depth and work
 * are limited for any input.
 */
#include "stepfunctions/lang.h"
#include "stepfunctions/lang_impl.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNTIME "States.Runtime"

/* ---- lexer ------------------------------------------------------------------ */

typedef enum {
    TK_EOF,
    TK_ROOT,     /* $ */
    TK_CONTEXT,  /* $$ */
    TK_AT,       /* @ */
    TK_DOT,      /* . */
    TK_DOTDOT,   /* .. */
    TK_STAR,     /* * */
    TK_LBRACKET, /* [ */
    TK_RBRACKET, /* ] */
    TK_NAME,     /* a field name after '.', or a bare word in a filter */
    TK_STRING,   /* 'quoted' or "quoted" */
    TK_NUMBER,
    TK_COLON,
    TK_COMMA,
    TK_QUESTION,
    TK_LPAREN,
    TK_RPAREN,
    TK_EQ,
    TK_NE,
    TK_LT,
    TK_LE,
    TK_GT,
    TK_GE,
    TK_AND,
    TK_OR,
    TK_NOT
} token_kind;

typedef struct token {
    token_kind kind;
    char *text;    /* decoded name or string (TK_NAME, TK_STRING), else NULL */
    double number; /* TK_NUMBER */
    int integral;  /* TK_NUMBER written without '.' or exponent */
} token;

typedef struct lexer {
    const char *src;
    size_t len, pos;
    token *tokens;
    size_t n, cap;
    int filter_depth; /* > 0 inside "[?( ... )]": names stop at operators too */
    char reason[160];
} lexer;

static int lex_fail(lexer *lx, const char *reason)
{
    snprintf(lx->reason, sizeof lx->reason, "%s", reason);
    return -1;
}

static int lex_push(lexer *lx, token_kind kind, char *text, double number, int integral)
{
    if (lx->n == lx->cap) {
        size_t cap = lx->cap ? lx->cap * 2 : 16;
        token *grown = realloc(lx->tokens, cap * sizeof *grown);
        if (!grown) {
            free(text);
            return lex_fail(lx, "out of memory");
        }
        lx->tokens = grown;
        lx->cap = cap;
    }
    lx->tokens[lx->n++] = (token){kind, text, number, integral};
    return 0;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A name after '.': Jayway reads up to '.', '[' or a blank; inside a filter an
 * operator or ')' also ends it, so "@.x==1" is the field x. */
static int name_ends(const lexer *lx, char c)
{
    if (c == '.' || c == '[' || is_blank(c))
        return 1;
    if (lx->filter_depth > 0)
        return strchr("=!<>&|)],", c) != NULL;
    return 0;
}

static int lex_name(lexer *lx)
{
    size_t start = lx->pos;
    while (lx->pos < lx->len && !name_ends(lx, lx->src[lx->pos]))
        lx->pos++;
    if (lx->pos == start) {
        if (lx->pos < lx->len && is_blank(lx->src[lx->pos]))
            return lex_fail(lx, "Use bracket notion ['my prop'] if your property contains blank characters");
        return lex_fail(lx, "Path must not end with a '.' or '..'");
    }
    char *text = strndup(lx->src + start, lx->pos - start);
    if (!text)
        return lex_fail(lx, "out of memory");
    return lex_push(lx, TK_NAME, text, 0, 0);
}

static int lex_string(lexer *lx)
{
    char quote = lx->src[lx->pos++];
    char *buf = malloc(lx->len - lx->pos + 1);
    size_t n = 0;
    if (!buf)
        return lex_fail(lx, "out of memory");
    while (lx->pos < lx->len && lx->src[lx->pos] != quote) {
        char c = lx->src[lx->pos++];
        if (c == '\\') {
            if (lx->pos >= lx->len)
                break;
            c = lx->src[lx->pos++];
        }
        buf[n++] = c;
    }
    if (lx->pos >= lx->len) {
        free(buf);
        return lex_fail(lx, "Property has not been closed - missing closing quote");
    }
    lx->pos++;
    buf[n] = '\0';
    return lex_push(lx, TK_STRING, buf, 0, 0);
}

static int lex_number(lexer *lx)
{
    char *end = NULL;
    size_t i = lx->pos;
    int integral = 1;
    size_t digit = i < lx->len && lx->src[i] == '-' ? i + 1 : i;
    if (digit >= lx->len || lx->src[digit] < '0' || lx->src[digit] > '9')
        return lex_fail(lx, "Expected a number");
    /* strtod may not read past the path: copy the numeric run first. */
    char num[64];
    size_t k = 0;
    while (i < lx->len && strchr("0123456789.eE+-", lx->src[i]) && k + 1 < sizeof num) {
        if (lx->src[i] == '.' || lx->src[i] == 'e' || lx->src[i] == 'E')
            integral = 0;
        if ((lx->src[i] == '+' || lx->src[i] == '-') && k > 0 && num[k - 1] != 'e' && num[k - 1] != 'E')
            break;
        num[k++] = lx->src[i++];
    }
    num[k] = '\0';
    if (lx->filter_depth == 0 && !integral)
        return lex_fail(lx, "Expected an integer index");
    double v = strtod(num, &end);
    if (!end || end != num + k || !isfinite(v))
        return lex_fail(lx, "Invalid number");
    lx->pos += k;
    return lex_push(lx, TK_NUMBER, NULL, v, integral);
}

/* Tokenize the whole path; 0 or -1 with lx->reason. */
static int lex_run(lexer *lx)
{
    int paren = 0; /* parentheses open inside the current filter */
    while (lx->pos < lx->len) {
        char c = lx->src[lx->pos];
        token_kind prev = lx->n ? lx->tokens[lx->n - 1].kind : TK_EOF;
        if (lx->n == 0 && c != '$')
            return lex_fail(lx, "Path must start with '$'");
        if (is_blank(c)) {
            /* Blanks may pad what is inside brackets ("[ 0 ]", "[?(@.a == 1) ]"),
             * never separate segments ("$.a b", "$ .a", "$[0] .b"). */
            if (lx->filter_depth == 0 && (prev == TK_NAME || prev == TK_ROOT || prev == TK_CONTEXT
                                          || prev == TK_RBRACKET || prev == TK_STAR))
                return lex_fail(lx, "Unexpected blank character");
            lx->pos++;
            continue;
        }
        if (prev == TK_DOT || prev == TK_DOTDOT) {
            if (c == '*') {
                lx->pos++;
                if (lex_push(lx, TK_STAR, NULL, 0, 0))
                    return -1;
            } else if (c == '[' && prev == TK_DOTDOT) {
                lx->pos++;
                if (lex_push(lx, TK_LBRACKET, NULL, 0, 0))
                    return -1;
            } else if (lex_name(lx)) {
                return -1;
            }
            continue;
        }
        int rc = 0;
        switch (c) {
        case '$':
            if (lx->pos + 1 < lx->len && lx->src[lx->pos + 1] == '$') {
                lx->pos += 2;
                rc = lex_push(lx, TK_CONTEXT, NULL, 0, 0);
            } else {
                lx->pos++;
                rc = lex_push(lx, TK_ROOT, NULL, 0, 0);
            }
            break;
        case '@':
            lx->pos++;
            rc = lex_push(lx, TK_AT, NULL, 0, 0);
            break;
        case '.':
            if (lx->pos + 1 < lx->len && lx->src[lx->pos + 1] == '.') {
                lx->pos += 2;
                rc = lex_push(lx, TK_DOTDOT, NULL, 0, 0);
            } else {
                lx->pos++;
                rc = lex_push(lx, TK_DOT, NULL, 0, 0);
            }
            if (rc == 0 && lx->pos >= lx->len)
                return lex_fail(lx, "Path must not end with a '.' or '..'");
            break;
        case '*':
            lx->pos++;
            rc = lex_push(lx, TK_STAR, NULL, 0, 0);
            break;
        case '[':
            lx->pos++;
            rc = lex_push(lx, TK_LBRACKET, NULL, 0, 0);
            break;
        case ']':
            lx->pos++;
            rc = lex_push(lx, TK_RBRACKET, NULL, 0, 0);
            break;
        case '\'':
        case '"':
            rc = lex_string(lx);
            break;
        case ':':
            lx->pos++;
            rc = lex_push(lx, TK_COLON, NULL, 0, 0);
            break;
        case ',':
            lx->pos++;
            rc = lex_push(lx, TK_COMMA, NULL, 0, 0);
            break;
        case '?':
            lx->pos++;
            rc = lex_push(lx, TK_QUESTION, NULL, 0, 0);
            break;
        case '(':
            if (prev == TK_QUESTION) {
                if (++lx->filter_depth > SFN_PATH_MAX_FILTER_DEPTH)
                    return lex_fail(lx, "Filters are nested too deeply");
            } else if (lx->filter_depth > 0) {
                if (++paren > SFN_PATH_MAX_FILTER_DEPTH * 4)
                    return lex_fail(lx, "Filter expression is nested too deeply");
            } else {
                return lex_fail(lx, "Unexpected '('");
            }
            lx->pos++;
            rc = lex_push(lx, TK_LPAREN, NULL, 0, 0);
            break;
        case ')':
            if (lx->filter_depth == 0)
                return lex_fail(lx, "Unexpected ')'");
            if (paren > 0)
                paren--;
            else
                lx->filter_depth--;
            lx->pos++;
            rc = lex_push(lx, TK_RPAREN, NULL, 0, 0);
            break;
        case '=':
        case '!':
        case '<':
        case '>':
        case '&':
        case '|': {
            if (lx->filter_depth == 0)
                return lex_fail(lx, "Operators are only allowed in filters");
            char d = lx->pos + 1 < lx->len ? lx->src[lx->pos + 1] : '\0';
            token_kind k;
            size_t w = 2;
            if (c == '=' && d == '=')
                k = TK_EQ;
            else if (c == '!' && d == '=')
                k = TK_NE;
            else if (c == '<' && d == '=')
                k = TK_LE;
            else if (c == '>' && d == '=')
                k = TK_GE;
            else if (c == '&' && d == '&')
                k = TK_AND;
            else if (c == '|' && d == '|')
                k = TK_OR;
            else if (c == '<')
                k = TK_LT, w = 1;
            else if (c == '>')
                k = TK_GT, w = 1;
            else if (c == '!')
                k = TK_NOT, w = 1;
            else
                return lex_fail(lx, "Unknown operator");
            lx->pos += w;
            rc = lex_push(lx, k, NULL, 0, 0);
            break;
        }
        default:
            if (c == '-' || (c >= '0' && c <= '9')) {
                rc = lex_number(lx);
            } else if (lx->filter_depth > 0
                       && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
                size_t start = lx->pos;
                while (lx->pos < lx->len && ((lx->src[lx->pos] >= 'a' && lx->src[lx->pos] <= 'z')
                                             || (lx->src[lx->pos] >= 'A' && lx->src[lx->pos] <= 'Z')))
                    lx->pos++;
                char *text = strndup(lx->src + start, lx->pos - start);
                if (!text)
                    return lex_fail(lx, "out of memory");
                rc = lex_push(lx, TK_NAME, text, 0, 0);
            } else {
                return lex_fail(lx, "Unexpected character");
            }
        }
        if (rc)
            return -1;
    }
    if (lx->n == 0)
        return lex_fail(lx, "Path must start with '$'");
    if (lx->filter_depth > 0)
        return lex_fail(lx, "Filter has not been closed");
    return lex_push(lx, TK_EOF, NULL, 0, 0);
}

static void lex_free(lexer *lx)
{
    for (size_t i = 0; i < lx->n; i++)
        free(lx->tokens[i].text);
    free(lx->tokens);
    lx->tokens = NULL;
    lx->n = lx->cap = 0;
}

/* ---- parsed form --------------------------------------------------------------- */

typedef enum {
    SEG_NAME,    /* .name, ['name'] */
    SEG_NAMES,   /* ['a','b'] (leaf only) */
    SEG_INDEX,   /* [n] */
    SEG_INDEXES, /* [n,m,...] */
    SEG_WILD,    /* [*], .* */
    SEG_SLICE,   /* [a:b] */
    SEG_FILTER   /* [?(...)] */
} seg_kind;

typedef struct filter_node filter_node;

typedef struct segment {
    seg_kind kind;
    int scan; /* preceded by "..": applies to the node and all its descendants */
    char **names;
    size_t n_names;
    long *indexes;
    size_t n_indexes;
    long start, end;
    int has_start, has_end;
    filter_node *filter;
} segment;

struct sfn_jpath {
    char *text;
    int context;
    int definite;
    int reference;
    segment *segs;
    size_t n;
    int cached; /* owned by the parse cache: sfn_jpath_free leaves it */
};

typedef enum { FN_OR, FN_AND, FN_NOT, FN_CMP, FN_EXISTS } filter_kind;
typedef enum { OP_AT_PATH, OP_ROOT_PATH, OP_LITERAL } operand_kind;

typedef struct operand {
    operand_kind kind;
    sfn_jpath *path; /* @- or $-relative, definite */
    cJSON *literal;
} operand;

struct filter_node {
    filter_kind kind;
    token_kind op;
    filter_node *left, *right;
    operand a, b;
};

static void filter_free(filter_node *f);

static void segment_clear(segment *s)
{
    for (size_t i = 0; i < s->n_names; i++)
        free(s->names[i]);
    free(s->names);
    free(s->indexes);
    filter_free(s->filter);
}

void sfn_jpath_free(sfn_jpath *path)
{
    if (!path || path->cached)
        return;
    for (size_t i = 0; i < path->n; i++)
        segment_clear(&path->segs[i]);
    free(path->segs);
    free(path->text);
    free(path);
}

static void operand_clear(operand *o)
{
    sfn_jpath_free(o->path);
    cJSON_Delete(o->literal);
}

static void filter_free(filter_node *f)
{
    if (!f)
        return;
    filter_free(f->left);
    filter_free(f->right);
    operand_clear(&f->a);
    operand_clear(&f->b);
    free(f);
}

/* ---- parser -------------------------------------------------------------------- */

typedef struct parser {
    const token *t;
    size_t n, pos;
    char reason[160];
    int depth;
} parser;

static const token *peek(const parser *p)
{
    return &p->t[p->pos < p->n ? p->pos : p->n - 1];
}

static int accept(parser *p, token_kind k)
{
    if (peek(p)->kind != k)
        return 0;
    p->pos++;
    return 1;
}

static int parse_fail(parser *p, const char *reason)
{
    if (!p->reason[0])
        snprintf(p->reason, sizeof p->reason, "%s", reason);
    return -1;
}

static int path_add(parser *p, sfn_jpath *path, segment seg)
{
    if (path->n >= SFN_PATH_MAX_SEGMENTS) {
        segment_clear(&seg);
        return parse_fail(p, "Path has too many segments");
    }
    segment *grown = realloc(path->segs, (path->n + 1) * sizeof *grown);
    if (!grown) {
        segment_clear(&seg);
        return parse_fail(p, "out of memory");
    }
    path->segs = grown;
    path->segs[path->n++] = seg;
    return 0;
}

static int parse_filter_or(parser *p, filter_node **out);
static int parse_segments(parser *p, sfn_jpath *path, int in_filter);

static int index_value(parser *p, const token *t, long *out)
{
    if (t->kind != TK_NUMBER || !t->integral || fabs(t->number) > 2147483647.0)
        return parse_fail(p, "Expected an integer index");
    *out = (long)t->number;
    return 0;
}

/* After '[': index, union, slice, quoted names, '*' or a filter. */
static int parse_bracket(parser *p, sfn_jpath *path, int scan, int in_filter)
{
    segment seg = {0};
    seg.scan = scan;
    const token *t = peek(p);
    if (accept(p, TK_STAR)) {
        seg.kind = SEG_WILD;
    } else if (t->kind == TK_QUESTION) {
        if (in_filter)
            return parse_fail(p, "Filters inside filters are not supported");
        p->pos++;
        if (!accept(p, TK_LPAREN))
            return parse_fail(p, "Expected '(' after '?'");
        seg.kind = SEG_FILTER;
        if (parse_filter_or(p, &seg.filter) || !accept(p, TK_RPAREN)) {
            filter_free(seg.filter);
            return parse_fail(p, "Expected ')' closing the filter");
        }
    } else if (t->kind == TK_STRING) {
        seg.kind = SEG_NAME;
        do {
            t = peek(p);
            if (t->kind != TK_STRING) {
                segment_clear(&seg);
                return parse_fail(p, "Expected a quoted property name");
            }
            char **grown = realloc(seg.names, (seg.n_names + 1) * sizeof *grown);
            char *copy = strdup(t->text);
            if (!grown || !copy) {
                free(copy);
                if (grown)
                    seg.names = grown;
                segment_clear(&seg);
                return parse_fail(p, "out of memory");
            }
            seg.names = grown;
            seg.names[seg.n_names++] = copy;
            p->pos++;
            if (seg.n_names > SFN_PATH_MAX_SEGMENTS) {
                segment_clear(&seg);
                return parse_fail(p, "Too many property names");
            }
        } while (accept(p, TK_COMMA));
        if (seg.n_names > 1)
            seg.kind = SEG_NAMES;
    } else if (t->kind == TK_NUMBER || t->kind == TK_COLON) {
        long first = 0;
        int has_first = 0;
        if (t->kind == TK_NUMBER) {
            if (index_value(p, t, &first))
                return -1;
            has_first = 1;
            p->pos++;
        }
        if (accept(p, TK_COLON)) {
            seg.kind = SEG_SLICE;
            seg.start = first;
            seg.has_start = has_first;
            if (peek(p)->kind == TK_NUMBER) {
                if (index_value(p, peek(p), &seg.end))
                    return -1;
                seg.has_end = 1;
                p->pos++;
            }
            if (peek(p)->kind == TK_COLON)
                return parse_fail(p, "Slice steps are not supported");
        } else {
            seg.kind = SEG_INDEX;
            seg.indexes = malloc(sizeof *seg.indexes);
            if (!seg.indexes)
                return parse_fail(p, "out of memory");
            seg.indexes[0] = first;
            seg.n_indexes = 1;
            while (accept(p, TK_COMMA)) {
                long v;
                if (index_value(p, peek(p), &v) || seg.n_indexes >= SFN_PATH_MAX_SEGMENTS) {
                    segment_clear(&seg);
                    return parse_fail(p, "Invalid index union");
                }
                p->pos++;
                long *grown = realloc(seg.indexes, (seg.n_indexes + 1) * sizeof *grown);
                if (!grown) {
                    segment_clear(&seg);
                    return parse_fail(p, "out of memory");
                }
                seg.indexes = grown;
                seg.indexes[seg.n_indexes++] = v;
                seg.kind = SEG_INDEXES;
            }
        }
    } else {
        return parse_fail(p, "Unexpected token in brackets");
    }
    if (!accept(p, TK_RBRACKET)) {
        segment_clear(&seg);
        return parse_fail(p, "Expected ']'");
    }
    return path_add(p, path, seg);
}

/* The segments after "$", "$$" or "@", up to a token that cannot continue a
 * path (EOF at top level, an operator or ')' in a filter). */
static int parse_segments(parser *p, sfn_jpath *path, int in_filter)
{
    for (;;) {
        const token *t = peek(p);
        if (t->kind == TK_DOT || t->kind == TK_DOTDOT) {
            int scan = t->kind == TK_DOTDOT;
            if (scan && in_filter)
                return parse_fail(p, "Deep scan is not supported in filters");
            p->pos++;
            t = peek(p);
            if (t->kind == TK_STAR) {
                p->pos++;
                if (path_add(p, path, (segment){.kind = SEG_WILD, .scan = scan}))
                    return -1;
            } else if (t->kind == TK_LBRACKET && scan) {
                p->pos++;
                if (parse_bracket(p, path, 1, in_filter))
                    return -1;
            } else if (t->kind == TK_NAME) {
                segment seg = {.kind = SEG_NAME, .scan = scan};
                seg.names = malloc(sizeof *seg.names);
                char *copy = strdup(t->text);
                if (!seg.names || !copy) {
                    free(seg.names);
                    free(copy);
                    return parse_fail(p, "out of memory");
                }
                seg.names[0] = copy;
                seg.n_names = 1;
                p->pos++;
                if (path_add(p, path, seg))
                    return -1;
            } else {
                return parse_fail(p, "Expected a property name");
            }
        } else if (t->kind == TK_LBRACKET) {
            p->pos++;
            if (parse_bracket(p, path, 0, in_filter))
                return -1;
        } else {
            return 0;
        }
    }
}

static void path_classify(sfn_jpath *path)
{
    path->definite = 1;
    path->reference = 1;
    for (size_t i = 0; i < path->n; i++) {
        const segment *s = &path->segs[i];
        if (s->scan || (s->kind != SEG_NAME && s->kind != SEG_INDEX && s->kind != SEG_NAMES))
            path->definite = 0;
        if (s->scan || s->kind == SEG_NAMES || (s->kind != SEG_NAME && s->kind != SEG_INDEX)
            || (s->kind == SEG_INDEX && s->indexes[0] < 0))
            path->reference = 0;
    }
}

/* A path inside a filter, starting at '@' or '$'. */
static int parse_operand_path(parser *p, operand *o)
{
    const token *t = peek(p);
    sfn_jpath *path = calloc(1, sizeof *path);
    if (!path)
        return parse_fail(p, "out of memory");
    o->kind = t->kind == TK_AT ? OP_AT_PATH : OP_ROOT_PATH;
    path->context = t->kind == TK_CONTEXT;
    p->pos++;
    o->path = path;
    if (parse_segments(p, path, 1))
        return -1;
    path_classify(path);
    if (!path->definite)
        return parse_fail(p, "Paths inside filters must be definite");
    return 0;
}

static int parse_operand(parser *p, operand *o)
{
    const token *t = peek(p);
    switch (t->kind) {
    case TK_AT:
    case TK_ROOT:
    case TK_CONTEXT:
        return parse_operand_path(p, o);
    case TK_NUMBER:
        o->kind = OP_LITERAL;
        o->literal = cJSON_CreateNumber(t->number);
        break;
    case TK_STRING:
        o->kind = OP_LITERAL;
        o->literal = cJSON_CreateString(t->text);
        break;
    case TK_NAME:
        o->kind = OP_LITERAL;
        if (strcmp(t->text, "true") == 0)
            o->literal = cJSON_CreateTrue();
        else if (strcmp(t->text, "false") == 0)
            o->literal = cJSON_CreateFalse();
        else if (strcmp(t->text, "null") == 0)
            o->literal = cJSON_CreateNull();
        else
            return parse_fail(p, "Unknown word in filter");
        break;
    default:
        return parse_fail(p, "Expected a value in filter");
    }
    if (!o->literal)
        return parse_fail(p, "out of memory");
    p->pos++;
    return 0;
}

static int is_comparison(token_kind k)
{
    return k == TK_EQ || k == TK_NE || k == TK_LT || k == TK_LE || k == TK_GT || k == TK_GE;
}

static int parse_filter_unary_at(parser *p, filter_node **out);

/* Depth-counted, so "!!!!...x" and "((((...))))" stop at a bound. */
static int parse_filter_unary(parser *p, filter_node **out)
{
    if (++p->depth > SFN_PATH_MAX_FILTER_DEPTH * 4)
        return parse_fail(p, "Filter expression is nested too deeply");
    int rc = parse_filter_unary_at(p, out);
    p->depth--;
    return rc;
}

static int parse_filter_unary_at(parser *p, filter_node **out)
{
    filter_node *f = calloc(1, sizeof *f);
    if (!f)
        return parse_fail(p, "out of memory");
    *out = f;
    if (accept(p, TK_NOT)) {
        f->kind = FN_NOT;
        return parse_filter_unary(p, &f->left);
    }
    if (accept(p, TK_LPAREN)) {
        free(f);
        *out = NULL;
        if (parse_filter_or(p, out))
            return -1;
        if (!accept(p, TK_RPAREN))
            return parse_fail(p, "Expected ')'");
        return 0;
    }
    if (parse_operand(p, &f->a))
        return -1;
    if (is_comparison(peek(p)->kind)) {
        f->kind = FN_CMP;
        f->op = peek(p)->kind;
        p->pos++;
        return parse_operand(p, &f->b);
    }
    if (f->a.kind == OP_LITERAL)
        return parse_fail(p, "A literal alone is not a filter");
    f->kind = FN_EXISTS;
    return 0;
}

static int parse_filter_binary(parser *p, filter_node **out, token_kind op, filter_kind kind)
{
    int rc = op == TK_OR ? parse_filter_binary(p, out, TK_AND, FN_AND) : parse_filter_unary(p, out);
    if (rc)
        return rc;
    while (accept(p, op)) {
        filter_node *f = calloc(1, sizeof *f);
        if (!f)
            return parse_fail(p, "out of memory");
        f->kind = kind;
        f->left = *out;
        *out = f;
        rc = op == TK_OR ? parse_filter_binary(p, &f->right, TK_AND, FN_AND)
                         : parse_filter_unary(p, &f->right);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_filter_or(parser *p, filter_node **out)
{
    return parse_filter_binary(p, out, TK_OR, FN_OR);
}

sfn_jpath *sfn_jpath_parse(const char *text, core_err *err)
{
    if (!text) {
        core_err_set(err, 400, RUNTIME, "Invalid path: null");
        return NULL;
    }
    size_t len = strlen(text);
    if (len > SFN_PATH_MAX_LEN) {
        core_err_set(err, 400, RUNTIME, "Invalid path '%.64s...' : longer than %d characters",
                     text, SFN_PATH_MAX_LEN);
        return NULL;
    }
    lexer lx = {.src = text, .len = len};
    parser p = {0};
    sfn_jpath *path = NULL;
    const char *reason = NULL;
    if (lex_run(&lx)) {
        reason = lx.reason;
        goto done;
    }
    p.t = lx.tokens;
    p.n = lx.n;
    path = calloc(1, sizeof *path);
    if (!path) {
        reason = "out of memory";
        goto done;
    }
    /* The lexer guarantees the first token is "$" or "$$". */
    path->context = peek(&p)->kind == TK_CONTEXT;
    p.pos++;
    if (parse_segments(&p, path, 0) || peek(&p)->kind != TK_EOF) {
        reason = p.reason[0] ? p.reason : "Unexpected token";
        goto done;
    }
    path_classify(path);
    for (size_t i = 0; i + 1 < path->n; i++)
        if (path->segs[i].kind == SEG_NAMES)
            reason = "Multi properties can only be used as path leafs";
    if (!reason && !(path->text = strdup(text)))
        reason = "out of memory";
done:
    if (reason) {
        core_err_set(err, 400, RUNTIME, "Invalid path '%s' : %s", text, reason);
        sfn_jpath_free(path);
        path = NULL;
    }
    lex_free(&lx);
    return path;
}

/* The parse cache: definitions name the same few paths at every step of every
 * execution, so each distinct short path text is parsed once and kept for the
 * life of the process (open addressing, insert only: entries are never freed
 * nor changed once published, so a path found stays valid for any thread).
 * Bounded: texts longer than JPATH_CACHE_TEXT and texts arriving once the table
 * is half full are parsed afresh and freed by their caller as before. */
#define JPATH_CACHE_SLOTS 1024
#define JPATH_CACHE_TEXT 256

static struct {
    sfn_jpath *path;
} jpath_cache[JPATH_CACHE_SLOTS];
static size_t jpath_cache_n;
static pthread_mutex_t jpath_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* In front of the shared table, each thread remembers the last cached path it
 * got for a text at a given address (a definition's strings stay where they are
 * while it runs): a hit costs one string comparison, no hash and no lock. The
 * comparison makes a reused address harmless; cached paths live for good. */
#define JPATH_RECENT 256
static _Thread_local struct {
    const char *text;
    sfn_jpath *path;
} jpath_recent[JPATH_RECENT];

static sfn_jpath *parse_cached_shared(const char *text, core_err *err);

sfn_jpath *sfn_jpath_parse_cached(const char *text, core_err *err)
{
    if (!text)
        return sfn_jpath_parse(text, err);
    size_t r = (size_t)(((uint64_t)(uintptr_t)text * 0x9E3779B97F4A7C15ULL) >> 56) % JPATH_RECENT;
    if (jpath_recent[r].text == text && !strcmp(jpath_recent[r].path->text, text))
        return jpath_recent[r].path;
    sfn_jpath *path = parse_cached_shared(text, err);
    if (path && path->cached) {
        jpath_recent[r].text = text;
        jpath_recent[r].path = path;
    }
    return path;
}

static sfn_jpath *parse_cached_shared(const char *text, core_err *err)
{
    size_t len = text ? strlen(text) : 0;
    if (!text || len > JPATH_CACHE_TEXT)
        return sfn_jpath_parse(text, err);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 16777619u;
    pthread_mutex_lock(&jpath_cache_lock);
    size_t slot = h % JPATH_CACHE_SLOTS;
    while (jpath_cache[slot].path && strcmp(jpath_cache[slot].path->text, text) != 0)
        slot = (slot + 1) % JPATH_CACHE_SLOTS;
    sfn_jpath *hit = jpath_cache[slot].path;
    if (hit || jpath_cache_n >= JPATH_CACHE_SLOTS / 2) {
        pthread_mutex_unlock(&jpath_cache_lock);
        return hit ? hit : sfn_jpath_parse(text, err);
    }
    sfn_jpath *path = sfn_jpath_parse(text, err); /* under the lock: rare, and short */
    if (path) {
        path->cached = 1;
        jpath_cache[slot].path = path;
        jpath_cache_n++;
    }
    pthread_mutex_unlock(&jpath_cache_lock);
    return path;
}

int sfn_jpath_is_context(const sfn_jpath *path)
{
    return path && path->context;
}

int sfn_jpath_is_definite(const sfn_jpath *path)
{
    return path && path->definite;
}

/* ---- evaluator ----------------------------------------------------------------- */

typedef struct node_list {
    const cJSON **items;
    size_t n, cap;
} node_list;

typedef struct eval_ctx {
    const cJSON *root, *context;
    size_t work;    /* nodes visited, against SFN_PATH_MAX_NODES */
    int overflow;   /* a bound was hit: the evaluation fails */
    cJSON *made;    /* objects built for ['a','b'] leaves, freed at the end */
} eval_ctx;

static int list_push(eval_ctx *ev, node_list *l, const cJSON *item)
{
    if (++ev->work > SFN_PATH_MAX_NODES) {
        ev->overflow = 1;
        return -1;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        const cJSON **grown = realloc(l->items, cap * sizeof *grown);
        if (!grown) {
            ev->overflow = 1;
            return -1;
        }
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->n++] = item;
    return 0;
}

static size_t child_count(const cJSON *node)
{
    size_t n = 0;
    for (const cJSON *c = node->child; c; c = c->next)
        n++;
    return n;
}

/* Field lookup with exact (case-sensitive) keys, as JSON wants. */
static const cJSON *field(const cJSON *obj, const char *name)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
}

static const cJSON *element(const cJSON *arr, long index)
{
    if (!cJSON_IsArray(arr))
        return NULL;
    if (index < 0) {
        long n = (long)child_count(arr);
        index += n;
        if (index < 0)
            return NULL;
    }
    return cJSON_GetArrayItem(arr, (int)index);
}

static int filter_eval(eval_ctx *ev, const filter_node *f, const cJSON *at);

/* Apply one segment (without its scan) to node, appending matches to out. */
static int apply_segment(eval_ctx *ev, const segment *s, const cJSON *node, node_list *out)
{
    switch (s->kind) {
    case SEG_NAME: {
        const cJSON *c = field(node, s->names[0]);
        return c ? list_push(ev, out, c) : 0;
    }
    case SEG_NAMES: {
        if (!cJSON_IsObject(node))
            return 0;
        cJSON *obj = cJSON_CreateObject();
        if (!obj) {
            ev->overflow = 1;
            return -1;
        }
        for (size_t i = 0; i < s->n_names; i++) {
            const cJSON *c = field(node, s->names[i]);
            if (c && !cJSON_AddItemToObject(obj, s->names[i], cJSON_Duplicate(c, 1))) {
                cJSON_Delete(obj);
                ev->overflow = 1;
                return -1;
            }
        }
        cJSON_AddItemToArray(ev->made, obj);
        return list_push(ev, out, obj);
    }
    case SEG_INDEX:
    case SEG_INDEXES:
        for (size_t i = 0; i < s->n_indexes; i++) {
            const cJSON *c = element(node, s->indexes[i]);
            if (c && list_push(ev, out, c))
                return -1;
        }
        return 0;
    case SEG_WILD:
        if (!cJSON_IsArray(node) && !cJSON_IsObject(node))
            return 0;
        for (const cJSON *c = node->child; c; c = c->next)
            if (list_push(ev, out, c))
                return -1;
        return 0;
    case SEG_SLICE: {
        if (!cJSON_IsArray(node))
            return 0;
        long n = (long)child_count(node);
        long from = s->has_start ? s->start : 0, to = s->has_end ? s->end : n;
        if (from < 0)
            from = from + n < 0 ? 0 : from + n;
        if (to < 0)
            to = to + n < 0 ? 0 : to + n;
        if (to > n)
            to = n;
        long i = 0;
        for (const cJSON *c = node->child; c && i < to; c = c->next, i++)
            if (i >= from && list_push(ev, out, c))
                return -1;
        return 0;
    }
    case SEG_FILTER:
        if (cJSON_IsArray(node)) {
            for (const cJSON *c = node->child; c; c = c->next) {
                int ok = filter_eval(ev, s->filter, c);
                if (ok < 0)
                    return -1;
                if (ok && list_push(ev, out, c))
                    return -1;
            }
            return 0;
        }
        if (cJSON_IsObject(node)) {
            int ok = filter_eval(ev, s->filter, node);
            if (ok < 0)
                return -1;
            return ok ? list_push(ev, out, node) : 0;
        }
        return 0;
    }
    return 0;
}

/* ".." : apply s to node and every descendant, in document order. */
static int apply_scan(eval_ctx *ev, const segment *s, const cJSON *node, node_list *out, int depth)
{
    if (depth > SFN_JSON_MAX_DEPTH || ++ev->work > SFN_PATH_MAX_NODES) {
        ev->overflow = 1;
        return -1;
    }
    if (apply_segment(ev, s, node, out))
        return -1;
    if (cJSON_IsArray(node) || cJSON_IsObject(node))
        for (const cJSON *c = node->child; c; c = c->next)
            if ((cJSON_IsArray(c) || cJSON_IsObject(c)) && apply_scan(ev, s, c, out, depth + 1))
                return -1;
    return 0;
}

/* Select the nodes of path from start; 0, or -1 when a bound was hit. */
static int select_nodes(eval_ctx *ev, const sfn_jpath *path, const cJSON *start, node_list *out)
{
    node_list cur = {0}, next = {0};
    if (list_push(ev, &cur, start))
        goto fail;
    for (size_t i = 0; i < path->n; i++) {
        const segment *s = &path->segs[i];
        next.n = 0;
        for (size_t j = 0; j < cur.n; j++) {
            int rc = s->scan ? apply_scan(ev, s, cur.items[j], &next, 0)
                             : apply_segment(ev, s, cur.items[j], &next);
            if (rc)
                goto fail;
        }
        node_list tmp = cur;
        cur = next;
        next = tmp;
        if (cur.n == 0)
            break;
    }
    free(next.items);
    *out = cur;
    return 0;
fail:
    free(cur.items);
    free(next.items);
    return -1;
}

static const cJSON *operand_value(eval_ctx *ev, const operand *o, const cJSON *at)
{
    if (o->kind == OP_LITERAL)
        return o->literal;
    const cJSON *start = o->kind == OP_AT_PATH ? at : o->path->context ? ev->context : ev->root;
    if (!start)
        return NULL;
    node_list l = {0};
    if (select_nodes(ev, o->path, start, &l))
        return NULL;
    const cJSON *v = l.n ? l.items[0] : NULL;
    free(l.items);
    return v;
}

/* Jayway's comparisons: numbers with numbers, strings with strings (ordered
 * by code unit), booleans and null by equality; anything else is unequal. */
static int compare(token_kind op, const cJSON *a, const cJSON *b)
{
    if (!a || !b)
        return op == TK_NE && (a || b);
    int order;
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
        order = a->valuedouble < b->valuedouble ? -1 : a->valuedouble > b->valuedouble;
    } else if (cJSON_IsString(a) && cJSON_IsString(b)) {
        order = strcmp(a->valuestring, b->valuestring);
        order = order < 0 ? -1 : order > 0;
    } else if (op == TK_EQ || op == TK_NE) {
        int eq = cJSON_Compare(a, b, 1);
        return op == TK_EQ ? eq : !eq;
    } else {
        return 0;
    }
    switch (op) {
    case TK_EQ: return order == 0;
    case TK_NE: return order != 0;
    case TK_LT: return order < 0;
    case TK_LE: return order <= 0;
    case TK_GT: return order > 0;
    case TK_GE: return order >= 0;
    default: return 0;
    }
}

/* 1 match, 0 no match, -1 a bound was hit. */
static int filter_eval(eval_ctx *ev, const filter_node *f, const cJSON *at)
{
    int l;
    if (++ev->work > SFN_PATH_MAX_NODES) {
        ev->overflow = 1;
        return -1;
    }
    switch (f->kind) {
    case FN_OR:
        l = filter_eval(ev, f->left, at);
        return l != 0 ? l : filter_eval(ev, f->right, at);
    case FN_AND:
        l = filter_eval(ev, f->left, at);
        return l != 1 ? l : filter_eval(ev, f->right, at);
    case FN_NOT:
        l = filter_eval(ev, f->left, at);
        return l < 0 ? l : !l;
    case FN_EXISTS:
        l = operand_value(ev, &f->a, at) != NULL;
        return ev->overflow ? -1 : l;
    case FN_CMP: {
        const cJSON *a = operand_value(ev, &f->a, at), *b = operand_value(ev, &f->b, at);
        return ev->overflow ? -1 : compare(f->op, a, b);
    }
    }
    return 0;
}

/* Jayway's normalized form, e.g. $['a'][0]['b'] ("$$" stays as written). */
static void normalized(const sfn_jpath *path, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "%s", path->context ? "$$" : "$");
    for (size_t i = 0; i < path->n && n < size; i++) {
        const segment *s = &path->segs[i];
        if (s->kind == SEG_NAME)
            n += (size_t)snprintf(buf + n, size - n, "['%s']", s->names[0]);
        else if (s->kind == SEG_INDEX)
            n += (size_t)snprintf(buf + n, size - n, "[%ld]", s->indexes[0]);
        else if (s->kind == SEG_NAMES) {
            for (size_t k = 0; k < s->n_names && n < size; k++)
                n += (size_t)snprintf(buf + n, size - n, "%s'%s'", k ? ", " : "[", s->names[k]);
            if (n < size)
                n += (size_t)snprintf(buf + n, size - n, "]");
        }
    }
}

static int not_found(const sfn_jpath *path, core_err *err)
{
    char norm[640];
    normalized(path, norm, sizeof norm);
    return core_err_set(err, 400, RUNTIME, "Invalid path '%s' : No results for path: %s",
                        path->text, norm);
}

int sfn_jpath_eval(const sfn_jpath *path, const cJSON *root, const cJSON *context, cJSON **out,
                   core_err *err)
{
    *out = NULL;
    eval_ctx ev = {.root = root, .context = context, .made = cJSON_CreateArray()};
    const cJSON *start = path->context ? context : root;
    node_list l = {0};
    int rc = CORE_OK;
    if (!ev.made)
        return core_err_set(err, 500, RUNTIME, "out of memory");
    if (!start) {
        if (path->definite) {
            cJSON_Delete(ev.made);
            return not_found(path, err);
        }
    } else if (select_nodes(&ev, path, start, &l)) {
        cJSON_Delete(ev.made);
        return core_err_set(err, 400, RUNTIME,
                            "Invalid path '%s' : the evaluation exceeds %d nodes or %d levels",
                            path->text, SFN_PATH_MAX_NODES, SFN_JSON_MAX_DEPTH);
    }
    if (path->definite) {
        if (l.n == 0)
            rc = not_found(path, err);
        else if (!(*out = cJSON_Duplicate(l.items[0], 1)))
            rc = core_err_set(err, 500, RUNTIME, "out of memory");
    } else {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; arr && i < l.n; i++) {
            cJSON *copy = cJSON_Duplicate(l.items[i], 1);
            if (!copy) {
                cJSON_Delete(arr);
                arr = NULL;
                break;
            }
            cJSON_AddItemToArray(arr, copy);
        }
        if (!arr)
            rc = core_err_set(err, 500, RUNTIME, "out of memory");
        *out = arr;
    }
    free(l.items);
    cJSON_Delete(ev.made);
    return rc;
}

const cJSON *sfn_jpath_lookup(const sfn_jpath *path, const cJSON *root, const cJSON *context)
{
    const cJSON *node = path->context ? context : root;
    if (!path->definite)
        return NULL;
    for (size_t i = 0; node && i < path->n; i++) {
        const segment *s = &path->segs[i];
        if (s->kind == SEG_NAME)
            node = field(node, s->names[0]);
        else if (s->kind == SEG_INDEX)
            node = element(node, s->indexes[0]);
        else
            return NULL;
    }
    return node;
}

/* ---- helpers ------------------------------------------------------------------ */

char *sfn_json_text(const cJSON *item)
{
    char *text = item ? cJSON_PrintUnformatted(item) : NULL;
    return text ? text : strdup("null");
}

void sfn_number_text(double v, char *buf, size_t size)
{
    if (!isfinite(v)) {
        snprintf(buf, size, "null");
    } else if (v == floor(v) && fabs(v) < 9.2e18) {
        snprintf(buf, size, "%lld", (long long)v);
    } else {
        snprintf(buf, size, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, size, "%.17g", v);
    }
}

int sfn_json_depth(const cJSON *item, int limit)
{
    /* Iterative walk with an explicit stack, so a hostile tree cannot
     * exhaust the C stack. */
    const cJSON *stack[SFN_JSON_MAX_DEPTH + 2];
    int depth_of[SFN_JSON_MAX_DEPTH + 2];
    int top = 0, max = 0;
    if (!item)
        return 0;
    if (limit > SFN_JSON_MAX_DEPTH)
        limit = SFN_JSON_MAX_DEPTH;
    stack[top] = item;
    depth_of[top++] = 1;
    while (top > 0) {
        const cJSON *node = stack[--top];
        int d = depth_of[top];
        if (d > max)
            max = d;
        if (max > limit)
            return limit + 1;
        if (node->next && node != item) {
            stack[top] = node->next;
            depth_of[top++] = d;
        }
        if ((cJSON_IsArray(node) || cJSON_IsObject(node)) && node->child) {
            stack[top] = node->child;
            depth_of[top++] = d + 1;
        }
    }
    return max;
}

/* ---- lang.h: paths --------------------------------------------------------------- */

int sfn_path_get(const cJSON *root, const cJSON *context, const char *path, cJSON **out,
                 core_err *err)
{
    *out = NULL;
    sfn_jpath *p = sfn_jpath_parse_cached(path, err);
    if (!p)
        return CORE_ERROR;
    int rc = sfn_jpath_eval(p, root, context, out, err);
    sfn_jpath_free(p);
    return rc;
}

int sfn_path_is_reference(const char *path)
{
    sfn_jpath *p = sfn_jpath_parse(path, NULL);
    int ok = p && p->reference;
    sfn_jpath_free(p);
    return ok;
}

int sfn_path_is_valid(const char *path)
{
    sfn_jpath *p = sfn_jpath_parse(path, NULL);
    sfn_jpath_free(p);
    return p != NULL;
}

int sfn_filter_path(const cJSON *doc, const cJSON *context, const cJSON *field_value, cJSON **out,
                    core_err *err)
{
    *out = NULL;
    if (!field_value) {
        *out = cJSON_Duplicate(doc, 1);
        return *out ? CORE_OK : core_err_set(err, 500, RUNTIME, "out of memory");
    }
    if (cJSON_IsNull(field_value)) {
        *out = cJSON_CreateObject();
        return *out ? CORE_OK : core_err_set(err, 500, RUNTIME, "out of memory");
    }
    if (!cJSON_IsString(field_value))
        return core_err_set(err, 400, RUNTIME, "Invalid path: the field is not a string");
    return sfn_path_get(doc, context, field_value->valuestring, out, err);
}

/* AWS's cause quotes the input as a JSON string: Unable to apply ReferencePath
 * $.a.b to input "{\"a\":\"x\"}". */
static int result_path_fail(const cJSON *input, const char *path, core_err *err)
{
    char *text = sfn_json_text(input);
    cJSON *str = cJSON_CreateString(text);
    char *quoted = str ? cJSON_PrintUnformatted(str) : NULL;
    core_err_set(err, 400, "States.ResultPathMatchFailure",
                 "Unable to apply ReferencePath %s to input %s", path, quoted ? quoted : "null");
    free(quoted);
    cJSON_Delete(str);
    free(text);
    return CORE_ERROR;
}

/* Put *result at reference path p (n > 0) inside doc, creating objects on the
 * way: 0 with *result consumed (NULL), or -1 when the path crosses a
 * non-object or a missing array element. */
static int place_at(cJSON *doc, const sfn_jpath *p, cJSON **result)
{
    cJSON *copy_result = *result;
    cJSON *node = doc;
    for (size_t i = 0; node && i < p->n; i++) {
        const segment *s = &p->segs[i];
        int last = i + 1 == p->n;
        if (s->kind == SEG_NAME) {
            if (!cJSON_IsObject(node)) {
                node = NULL;
                break;
            }
            const char *name = s->names[0];
            cJSON *child = cJSON_GetObjectItemCaseSensitive(node, name);
            if (last) {
                int ok = child ? cJSON_ReplaceItemInObjectCaseSensitive(node, name, copy_result)
                               : cJSON_AddItemToObject(node, name, copy_result);
                if (!ok)
                    node = NULL;
                else
                    copy_result = NULL;
                break;
            }
            if (!child) {
                child = cJSON_CreateObject();
                if (!child || !cJSON_AddItemToObject(node, name, child)) {
                    cJSON_Delete(child);
                    node = NULL;
                    break;
                }
            }
            node = child;
        } else {
            cJSON *child = cJSON_IsArray(node) ? cJSON_GetArrayItem(node, (int)s->indexes[0]) : NULL;
            if (!child) {
                node = NULL;
                break;
            }
            if (last) {
                if (cJSON_ReplaceItemViaPointer(node, child, copy_result))
                    copy_result = NULL;
                else
                    node = NULL;
                break;
            }
            node = child;
        }
    }
    *result = copy_result;
    return !node || copy_result ? -1 : 0;
}

/* 1 if place_at(doc, p) succeeds, checked without changing doc. */
static int applicable(const sfn_jpath *p, const cJSON *doc)
{
    const cJSON *node = doc;
    for (size_t i = 0; i < p->n; i++) {
        const segment *s = &p->segs[i];
        int last = i + 1 == p->n;
        if (s->kind == SEG_NAME) {
            if (!cJSON_IsObject(node))
                return 0;
            const cJSON *child = cJSON_GetObjectItemCaseSensitive(node, s->names[0]);
            if (last)
                return 1;
            if (!child) { /* created objects from here on: only names can follow */
                for (size_t k = i + 1; k < p->n; k++)
                    if (p->segs[k].kind != SEG_NAME)
                        return 0;
                return 1;
            }
            node = child;
        } else if (s->kind == SEG_INDEX) {
            const cJSON *child =
                cJSON_IsArray(node) ? cJSON_GetArrayItem(node, (int)s->indexes[0]) : NULL;
            if (!child)
                return 0;
            if (last)
                return 1;
            node = child;
        } else {
            return 0;
        }
    }
    return 1;
}

int sfn_result_path(const cJSON *input, const cJSON *field_value, const cJSON *result, cJSON **out,
                    core_err *err)
{
    cJSON *copy = cJSON_Duplicate(result, 1);
    if (!copy && result)
        return core_err_set(err, 500, RUNTIME, "out of memory");
    return sfn_result_path_take(input, field_value, copy, out, err);
}

int sfn_result_path_take(const cJSON *input, const cJSON *field_value, cJSON *result, cJSON **out,
                         core_err *err)
{
    *out = NULL;
    if (field_value && cJSON_IsNull(field_value)) {
        cJSON_Delete(result);
        *out = cJSON_Duplicate(input, 1);
        return *out ? CORE_OK : core_err_set(err, 500, RUNTIME, "out of memory");
    }
    const char *text = field_value ? (cJSON_IsString(field_value) ? field_value->valuestring : NULL)
                                   : "$";
    if (!text) {
        cJSON_Delete(result);
        return core_err_set(err, 400, "States.ResultPathMatchFailure",
                            "ResultPath must be a string or null");
    }
    sfn_jpath *p = sfn_jpath_parse_cached(text, err);
    if (!p) {
        cJSON_Delete(result);
        return CORE_ERROR;
    }
    if (!p->reference || p->context) {
        sfn_jpath_free(p);
        cJSON_Delete(result);
        return core_err_set(err, 400, "States.ResultPathMatchFailure",
                            "Invalid ResultPath '%s' : not a reference path", text);
    }
    cJSON *copy_result = result;
    if (!copy_result)
        copy_result = cJSON_CreateNull();
    if (p->n == 0) {
        sfn_jpath_free(p);
        *out = copy_result;
        return *out ? CORE_OK : core_err_set(err, 500, RUNTIME, "out of memory");
    }
    cJSON *doc = cJSON_Duplicate(input, 1);
    int placed = doc ? place_at(doc, p, &copy_result) : -1;
    if (placed != 0) {
        cJSON_Delete(copy_result);
        cJSON_Delete(doc);
        result_path_fail(input, text, err);
        sfn_jpath_free(p);
        return CORE_ERROR;
    }
    sfn_jpath_free(p);
    *out = doc;
    return CORE_OK;
}

int sfn_result_path_into(cJSON **doc, const cJSON *field_value, cJSON *result, cJSON **out,
                         core_err *err)
{
    *out = NULL;
    if (field_value && cJSON_IsNull(field_value)) {
        cJSON_Delete(result);
        *out = *doc;
        *doc = NULL;
        return CORE_OK;
    }
    const char *text = field_value ? (cJSON_IsString(field_value) ? field_value->valuestring : NULL)
                                   : "$";
    sfn_jpath *p = text ? sfn_jpath_parse_cached(text, NULL) : NULL;
    if (p && p->reference && !p->context && p->n == 1 && p->segs[0].kind == SEG_NAME &&
        cJSON_IsObject(*doc)) {
        /* "$.name" on an object always applies: one search for the name, not two */
        const char *name = p->segs[0].names[0];
        /* cJSON_GetObjectItemCaseSensitive's member (the first with that key),
         * most keys ruled out on their first byte: a state's document grows a
         * key per step, and this runs at every step */
        cJSON *child = NULL, *member;
        cJSON_ArrayForEach(member, *doc)
            if (member->string && member->string[0] == name[0] && !strcmp(member->string, name)) {
                child = member;
                break;
            }
        if (!result)
            result = cJSON_CreateNull();
        /* the member found is replaced where it is, its key moved onto the result
         * (what cJSON_ReplaceItemInObject does, less its second search and copy) */
        if (result && child) {
            if (!(result->type & cJSON_StringIsConst))
                cJSON_free(result->string);
            result->string = child->string;
            result->type = (result->type & ~cJSON_StringIsConst) | (child->type & cJSON_StringIsConst);
            child->string = NULL;
            child->type &= ~cJSON_StringIsConst;
        }
        int ok = result && (child ? cJSON_ReplaceItemViaPointer(*doc, child, result)
                                  : cJSON_AddItemToObject(*doc, name, result));
        sfn_jpath_free(p);
        if (!ok) {
            cJSON_Delete(result);
            return core_err_set(err, 500, RUNTIME, "out of memory");
        }
        *out = *doc;
        *doc = NULL;
        return CORE_OK;
    }
    if (!p || !p->reference || p->context || p->n == 0 || !applicable(p, *doc)) {
        /* "$", or an error: the copying form (it words the errors) */
        sfn_jpath_free(p);
        return sfn_result_path_take(*doc, field_value, result, out, err);
    }
    if (!result)
        result = cJSON_CreateNull();
    int placed = result ? place_at(*doc, p, &result) : -1;
    sfn_jpath_free(p);
    if (placed != 0) {
        cJSON_Delete(result);
        return core_err_set(err, 500, RUNTIME, "out of memory");
    }
    *out = *doc;
    *doc = NULL;
    return CORE_OK;
}
