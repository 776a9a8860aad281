/*
 * expr_impl.h — internals shared by the three layers of DynamoDB's expression
 * language: expr_lex.c (tokens), expr_parse.c (tree and static validation) and
 * expr_eval.c (evaluation, update application, projection). Not for other
 * modules: they use expr.h.
 *
 * Names here carry the prefix ddbx_ ("the expression engine of ddb").
 *
 * Invariants a parsed tree keeps:
 *   - every #name in a path is resolved to its attribute name (owned copy);
 *   - every :value node holds its own copy of the AttributeValue;
 *   - AND/OR nodes are n-ary, a run of NOTs is one node with a count, so the
 *     depth of a tree is bounded by DDBX_MAX_NESTING, never by the number of
 *     terms;
 *   - a tree that exists has passed every static check AWS makes, so the
 *     evaluator meets only the evaluation-time errors AWS reports.
 */
#ifndef DDB_EXPR_IMPL_H
#define DDB_EXPR_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/err.h"
#include "dynamodb/expr.h"

/* Limits. The first four are AWS's ("Expression parameters" in the developer
 * guide's constraints, and the nesting limit of document paths); the nesting
 * bound is ours, chosen above anything AWS can accept within 4 KB before it
 * reports too many operators, so it only ever stops hostile input. */
#define DDBX_MAX_EXPR_BYTES 4096
#define DDBX_MAX_OPERATORS 300
#define DDBX_MAX_IN_OPERANDS 100
#define DDBX_MAX_PATH_DEPTH 32
#define DDBX_MAX_NESTING 400
#define DDBX_MAX_LIST_INDEX 2147483647u

/* ---- lexer (expr_lex.c) --------------------------------------------------- */

typedef enum ddbx_tok_kind {
    TK_EOF = 0,
    TK_IDENT,    /* [A-Za-z][A-Za-z0-9_]*: names, keywords, function names */
    TK_NAME,     /* #[A-Za-z0-9_]+ */
    TK_VALUE,    /* :[A-Za-z0-9_]+ */
    TK_NUMBER,   /* [0-9]+, only valid as a list index */
    TK_LPAREN,
    TK_RPAREN,
    TK_LBRACKET,
    TK_RBRACKET,
    TK_COMMA,
    TK_DOT,
    TK_EQ,
    TK_NE,
    TK_LT,
    TK_LE,
    TK_GT,
    TK_GE,
    TK_PLUS,
    TK_MINUS,
    TK_BAD,      /* any other character (a whole UTF-8 sequence when valid) */
} ddbx_tok_kind;

typedef struct ddbx_token {
    ddbx_tok_kind kind;
    size_t pos, len; /* bytes of the source; EOF has pos = source length, len 0 */
} ddbx_token;

/* Tokenize text[0..len) (NUL bytes included) into *out, ending with one TK_EOF.
 * Caller frees *out. Returns CORE_ERROR only when out of memory. */
int ddbx_lex(const char *text, size_t len, ddbx_token **out, size_t *n);

/* 1 if the token is the identifier word (ASCII case-insensitive). */
int ddbx_tok_is(const char *text, const ddbx_token *t, const char *word);

/* Copy bytes for an error message: NUL and invalid UTF-8 become U+FFFD, so the
 * message stays a valid C string and valid UTF-8. Returns a malloc'd string or
 * NULL. */
char *ddbx_display(const char *text, size_t len);

/* How many reserved words there are (573, for the tests). */
size_t ddbx_reserved_count(void);

/* ---- tree (expr_parse.c builds it, expr_eval.c reads it) ------------------- */

typedef struct ddbx_elem {
    char *name;        /* resolved attribute name (owned); NULL for an index */
    uint32_t index;    /* list index */
    uint32_t tok;      /* token of the element (parse time only) */
    unsigned char is_index, is_ref, index_too_big;
} ddbx_elem;

typedef struct ddbx_path {
    ddbx_elem *e;
    size_t n;
} ddbx_path;

typedef enum ddbx_node_kind {
    NK_PATH,
    NK_VALUE,
    NK_CALL,
    NK_CMP,
    NK_BETWEEN,
    NK_IN,
    NK_AND,
    NK_OR,
    NK_NOT,
    NK_PLUS,
    NK_MINUS,
} ddbx_node_kind;

typedef enum ddbx_func {
    FN_UNKNOWN = 0,
    FN_ATTRIBUTE_EXISTS,
    FN_ATTRIBUTE_NOT_EXISTS,
    FN_ATTRIBUTE_TYPE,
    FN_BEGINS_WITH,
    FN_CONTAINS,
    FN_SIZE,
    FN_IF_NOT_EXISTS,
    FN_LIST_APPEND,
} ddbx_func;

typedef enum ddbx_cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE } ddbx_cmp;

typedef struct ddbx_node ddbx_node;
struct ddbx_node {
    ddbx_node_kind kind;
    int op;               /* ddbx_cmp for NK_CMP, ddbx_func for NK_CALL, count for NK_NOT */
    uint32_t tok;         /* operator / function-name / value token (parse time only) */
    uint32_t next_tok;    /* the token after the node (parse time only) */
    uint32_t parens;      /* parentheses directly around the node */
    ddbx_path path;       /* NK_PATH */
    cJSON *value;         /* NK_VALUE: owned copy once resolved */
    ddbx_node **kid;
    size_t nkid;
};

typedef enum ddbx_action_kind { UA_SET, UA_REMOVE, UA_ADD, UA_DELETE } ddbx_action_kind;

typedef struct ddbx_action {
    ddbx_action_kind kind;
    ddbx_path path;
    ddbx_node *value; /* SET: the value expression; ADD/DELETE: the :value; REMOVE: NULL */
} ddbx_action;

typedef struct ddbx_keycond {
    char *attr;
    ddb_key_op op;
    const cJSON *lo, *hi; /* borrowed from value nodes of the tree */
} ddbx_keycond;

struct ddb_expr {
    ddb_expr_kind kind;
    ddbx_node *cond;      /* CONDITION, FILTER, KEY_CONDITION */
    ddbx_action *act;     /* UPDATE, in source order */
    size_t nact;
    ddbx_path *proj;      /* PROJECTION, in source order */
    size_t nproj;
    ddbx_keycond key[2];  /* KEY_CONDITION, taken apart at parse time */
    size_t nkey;
};

/* The request's names and values, sorted by key for lookup and for AWS's
 * sorted "unused" listing. */
typedef struct ddbx_ctx_key {
    const char *key;
    const cJSON *item;
    unsigned char used;
} ddbx_ctx_key;

struct ddb_expr_ctx {
    ddbx_ctx_key *names, *values;
    size_t nnames, nvalues;
};

void ddbx_node_free(ddbx_node *n);
void ddbx_path_clear(ddbx_path *p);

/* ---- evaluation helpers (expr_eval.c) ------------------------------------ */

/* The value at path p of item (borrowed), or NULL when absent. */
const cJSON *ddbx_path_get(const cJSON *item, const ddbx_path *p);

/* Same path (resolved names, same indexes)? */
int ddbx_path_equal(const ddbx_path *a, const ddbx_path *b);

/* Error helpers: fill err with a ValidationException. ddbx_invalid prefixes
 * "Invalid <Kind>Expression: ". */
int ddbx_invalid(core_err *err, ddb_expr_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ddbx_validation(core_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ddbx_oom(core_err *err);

#endif
