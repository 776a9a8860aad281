/*
 * lang_impl.h — what the files of the data language share and nobody else
 * sees: the parsed form of a JSONPath (jsonpath.c), the bounds that keep a
 * hostile definition or input from exhausting the stack or the heap, and small
 * helpers the dataflow, intrinsic and Choice layers use to quote JSON in AWS's
 * error messages.
 *
 * Layering (Lua-style, see STYLE.md): a path is lexed to tokens, parsed once to
 * an sfn_jpath (a list of segments, filters as small trees), then evaluated
 * against any number of documents. sfn_jpath_* is the parsed-path layer; the
 * public functions of lang.h sit on top.
 */
#ifndef SFN_LANG_IMPL_H
#define SFN_LANG_IMPL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/err.h"

/* Hostile-input bounds. A path longer than SFN_PATH_MAX_LEN bytes, with more
 * than SFN_PATH_MAX_SEGMENTS segments, or filters nested deeper than
 * SFN_PATH_MAX_FILTER_DEPTH is refused when parsed. Evaluation visits at most
 * SFN_PATH_MAX_NODES nodes (a chain of ".." scans is quadratic) and descends at
 * most SFN_JSON_MAX_DEPTH levels of a document. */
#define SFN_PATH_MAX_LEN 4096
#define SFN_PATH_MAX_SEGMENTS 256
#define SFN_PATH_MAX_FILTER_DEPTH 16
#define SFN_PATH_MAX_NODES 200000
#define SFN_JSON_MAX_DEPTH 1000

/* A parsed path. Opaque; see jsonpath.c. */
typedef struct sfn_jpath sfn_jpath;

/* Parse text into a path, or NULL with err filled (type "States.Runtime",
 * message naming the path and the reason). */
sfn_jpath *sfn_jpath_parse(const char *text, core_err *err);
/* sfn_jpath_parse through the process-wide parse cache: the same path text
 * gives the same immutable path, parsed once (sfn_jpath_free of it is a no-op;
 * call it anyway, as a long text is parsed afresh and owned by the caller). */
sfn_jpath *sfn_jpath_parse_cached(const char *text, core_err *err);

/* Free a parsed path; NULL is a no-op. */
void sfn_jpath_free(sfn_jpath *path);

/* 1 if the path starts with "$$" (is evaluated against the context object). */
int sfn_jpath_is_context(const sfn_jpath *path);

/* 1 if the path yields one value (no wildcard, "..", slice, filter or index
 * union), 0 if it yields an array of the matches. */
int sfn_jpath_is_definite(const sfn_jpath *path);

/* Evaluate a parsed path: root for "$" paths, context for "$$" paths. A
 * definite path that selects nothing is CORE_ERROR (States.Runtime, "Invalid
 * path '<text>' : No results for path: $['a']['b']"); an indefinite one yields
 * an array, maybe empty. *out is a new tree. */
int sfn_jpath_eval(const sfn_jpath *path, const cJSON *root, const cJSON *context, cJSON **out,
                   core_err *err);

/* Borrowed lookup for definite paths: the node the path selects, or NULL. */
const cJSON *sfn_jpath_lookup(const sfn_jpath *path, const cJSON *root, const cJSON *context);

/* Intrinsic calls: at most SFN_INTRINSIC_MAX_LEN bytes, calls nested at most
 * SFN_INTRINSIC_MAX_DEPTH deep (AWS documents 10), SFN_INTRINSIC_MAX_ARGS
 * arguments to one call. */
#define SFN_INTRINSIC_MAX_LEN 32768
#define SFN_INTRINSIC_MAX_DEPTH 10
#define SFN_INTRINSIC_MAX_ARGS 1000

/* 1 if text parses as an intrinsic call with known function names (argument
 * types and counts are checked when it runs), else 0 with *reason (may be
 * NULL) set to a static description. For definition validation. */
int sfn_intrinsic_is_valid(const char *text, const char **reason);

/* sfn_intrinsic_eval, naming field (the template key, e.g. "x.$") in the
 * cause when a path argument selects nothing, as AWS does. field may be NULL. */
int sfn_intrinsic_eval_field(const char *call, const cJSON *input, const cJSON *context,
                             const char *field, cJSON **out, core_err *err);

/* Compact JSON text of item (cJSON_PrintUnformatted), or a copy of "null" when
 * item is NULL or printing fails for lack of memory. Caller frees. */
char *sfn_json_text(const cJSON *item);

/* Definitions nest (a Parallel branch or a Map processor holding another) at
 * most this deep. */
#define SFN_DEFINITION_MAX_DEPTH 32

/* Choice rules nest (And/Or/Not) at most this deep. */
#define SFN_CHOICE_MAX_DEPTH 64

/* Parse an RFC 3339 timestamp as AWS accepts it ("2016-03-14T01:59:00Z",
 * "...T01:59:00.123+02:00": upper-case T and Z, seconds required, fraction
 * optional): 1 with the instant in *seconds since the epoch and *nanos, or 0. */
int sfn_timestamp_parse(const char *s, long long *seconds, long *nanos);

/* Check the shape of a Choice rule for definition validation: top_level rules
 * need Next, nested ones (under And/Or/Not) must not have it; exactly one
 * operator with an operand of its type, or one combinator. 0, or -1 with a
 * message in why. */
int sfn_choice_rule_check(const cJSON *rule, int top_level, char *why, size_t size);

/* The shortest text that reads back as v exactly: integers without a
 * fraction ("9007199254740991", where cJSON would print 9.00719925474099e+15),
 * others with up to 17 significant digits. buf holds at least 32 bytes. */
void sfn_number_text(double v, char *buf, size_t size);

/* Depth of item's tree (a scalar is 1), capped at limit + 1. */
int sfn_json_depth(const cJSON *item, int limit);

#endif
