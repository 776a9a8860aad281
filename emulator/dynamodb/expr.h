/*
 * expr.h — DynamoDB's expression language: lex -> parse once into a tree -> evaluate.
 *
 * Five kinds of expression share one grammar of operands and document paths
 * ("a.b[2].c", "#n", ":v"):
 *   KeyConditionExpression  pk = :v [AND sk op :w | sk BETWEEN :a AND :b | begins_with(sk, :p)]
 *   ConditionExpression     comparators, BETWEEN, IN, AND/OR/NOT, parentheses, functions
 *   FilterExpression        same grammar as ConditionExpression
 *   UpdateExpression        SET (with +, -, if_not_exists, list_append), REMOVE, ADD, DELETE
 *   ProjectionExpression    comma-separated document paths
 *
 * The layering follows Lua's: expr_lex.c (tokens), expr_parse.c (tree, all syntax
 * and static validation), expr_eval.c (evaluation, update application, projection).
 * A tree never changes after parsing and may be evaluated from any thread.
 *
 * Errors are ValidationException (status 400) with AWS's wording, e.g.
 *   Invalid ConditionExpression: Syntax error; token: "<", near: "< < b"
 *   Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status
 *   Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}
 *   Invalid FilterExpression: An expression attribute value used in expression is not
 *     defined; attribute value: :x
 * and hostile input (deep nesting, thousands of terms, > 4 KB) is refused by the
 * limits AWS documents, before it can exhaust the stack.
 */
#ifndef DDB_EXPR_H
#define DDB_EXPR_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/err.h"

typedef enum ddb_expr_kind {
    DDB_EXPR_KEY_CONDITION,
    DDB_EXPR_CONDITION,
    DDB_EXPR_FILTER,
    DDB_EXPR_UPDATE,
    DDB_EXPR_PROJECTION,
} ddb_expr_kind;

/* The request's ExpressionAttributeNames / ExpressionAttributeValues (borrowed;
 * either may be NULL) and which of them the request's expressions used. One
 * context serves all the expressions of one request (or of one transaction item). */
typedef struct ddb_expr_ctx ddb_expr_ctx;

/* names, values: JSON objects as sent ({"#n": "name"}, {":v": {"S": "x"}}), or NULL.
 * Values must already be validated (ddb_value_validate). Caller frees with _free. */
ddb_expr_ctx *ddb_expr_ctx_new(const cJSON *names, const cJSON *values);
void ddb_expr_ctx_free(ddb_expr_ctx *ctx);

/* After parsing all of a request's expressions: AWS's errors for names or values
 * that no expression used ("Value provided in ExpressionAttributeValues unused in
 * expressions: keys: {:a, :b}", "Value provided in ExpressionAttributeNames unused in
 * expressions: keys: {#a}"), keys listed in sorted order. */
int ddb_expr_ctx_check_unused(const ddb_expr_ctx *ctx, core_err *err);

typedef struct ddb_expr ddb_expr;

/* Parse text as the given kind, resolving #names and :values through ctx (the tree
 * keeps its own copies, so ctx may be freed first). *out owns the tree. */
int ddb_expr_parse(ddb_expr_kind kind, const char *text, ddb_expr_ctx *ctx, ddb_expr **out,
                   core_err *err);

void ddb_expr_free(ddb_expr *e);

/* Condition or filter: *result = 1 if item satisfies it. item (borrowed) may be
 * NULL, meaning "no such item": attribute_not_exists(x) is then true and every
 * comparison false. Errors only for evaluation-time type problems AWS reports. */
int ddb_expr_eval(const ddb_expr *e, const cJSON *item, int *result, core_err *err);

/* Key condition, taken apart for the storage layer. */
typedef enum ddb_key_op {
    DDB_KEY_NONE = 0, /* no sort-key condition */
    DDB_KEY_EQ,
    DDB_KEY_LT,
    DDB_KEY_LE,
    DDB_KEY_GT,
    DDB_KEY_GE,
    DDB_KEY_BETWEEN,
    DDB_KEY_BEGINS_WITH,
} ddb_key_op;

typedef struct ddb_key_cond {
    const cJSON *hash_value;  /* borrowed from the tree */
    ddb_key_op op;
    const cJSON *range_lo;    /* the operand of op; BETWEEN's low bound */
    const cJSON *range_hi;    /* BETWEEN's high bound, else NULL */
} ddb_key_cond;

/* Check a KEY_CONDITION tree against the key schema (hash_name, range_name or NULL)
 * and fill out. AWS's errors: "Query condition missed key schema element: <name>",
 * "Query key condition not supported", a non-key attribute named, begins_with on a
 * number, more than two conditions. */
int ddb_expr_key_condition(const ddb_expr *e, const char *hash_name, const char *range_name,
                           ddb_key_cond *out, core_err *err);

/* Apply an UPDATE tree to item (modified in place; an empty object for a new item).
 * Every operand is read from the item as it was before the update, as AWS does.
 * Errors: "The provided expression refers to an attribute that does not exist in
 * the item", "An operand in the update expression has an incorrect data type",
 * "The document path provided in the update expression is invalid for update", and
 * number overflow. On error item may be partly changed: apply to a copy. */
int ddb_expr_update_apply(const ddb_expr *e, cJSON *item, core_err *err);

/* 1 if the UPDATE tree changes the top-level attribute `name` (for the "Cannot update
 * attribute X. This attribute is part of the key" check). */
int ddb_expr_update_touches(const ddb_expr *e, const char *name);

/* A new item with only the document paths of a PROJECTION tree, or of the paths an
 * UPDATE tree changes (for ReturnValues UPDATED_OLD / UPDATED_NEW), taken from item.
 * Nested paths keep their nesting ({"a": {"M": {"b": ...}}}); list elements keep
 * their order, without gaps. Paths absent from item are left out. Caller owns. */
cJSON *ddb_expr_project(const ddb_expr *e, const cJSON *item);

/* Top-level attribute names a PROJECTION tree reads (borrowed strings), for
 * deciding whether an index projection can answer without the base item. */
size_t ddb_expr_top_names(const ddb_expr *e, const char **names, size_t max);

/* The reserved words of DynamoDB (for tests and documentation). */
int ddb_expr_is_reserved(const char *word);

/* Added by the expression engine (the declarations above are unchanged): */

/* ddb_expr_parse for text[0..len) that may hold NUL bytes (cJSON decodes
 * "\u0000" into one); a NUL is a stray character, refused as a syntax error. */
int ddb_expr_parse_len(ddb_expr_kind kind, const char *text, size_t len, ddb_expr_ctx *ctx,
                       ddb_expr **out, core_err *err);

/* ddb_expr_update_apply, saying whether the item existed before the update.
 * AWS silently ignores "REMOVE a.b" (any nested path) on an item that does not
 * exist yet, but refuses it on an existing item without a map `a`; the plain
 * function guesses "existed" from item having any attribute, which is wrong
 * when the caller seeds a new item with its key (pass existed = 0 then). */
int ddb_expr_update_apply_ex(const ddb_expr *e, cJSON *item, int existed, core_err *err);

#endif
