/*
 * form.h — the application/x-www-form-urlencoded body of an AWS Query-protocol
 * request (SNS, and any later Query service: SQS's old protocol, STS, SES v1),
 * parsed once into name/value pairs, with the Query protocol's structure
 * conventions on top:
 *
 *   Name=value                           a scalar member
 *   Attributes.entry.N.key / .value      a map (N = 1, 2, ...)
 *   Tags.member.N.Key / .Value           a list of structures
 *   MessageAttributes.entry.N.Value.DataType   nested to any depth
 *
 * It is a parser of untrusted input, so it is strict and bounded:
 *   - every name and value is percent-decoded ('+' is a space); a bad escape
 *     ('%' without two hex digits), a decoded NUL byte (%00), a pair without
 *     '=', an empty name, a name or value that is not well-formed UTF-8 once
 *     decoded, or a name given twice is refused with HTTP 400
 *     MalformedQueryString naming the offending name — never guessed at;
 *   - a body over limits.max_body bytes is 413 RequestEntityTooLarge, a name
 *     over limits.max_name bytes or more than limits.max_pairs pairs is 400
 *     MalformedQueryString: nothing is ever silently truncated;
 *   - member indexes are decimal 1..max_members with no sign and no leading
 *     zero, and "prefix.N." (a dot with nothing after it) is malformed;
 *     anything else (0, 007, 99999999999, -1, 1x) is 400
 *     InvalidParameterValue naming the member.
 * The pairs keep the order they were sent in.
 */
#ifndef CORE_FORM_H
#define CORE_FORM_H

#include <stddef.h>

#include "core/err.h"

typedef struct core_form core_form;

typedef struct core_form_limits {
    size_t max_body;  /* bytes of the encoded body */
    size_t max_name;  /* bytes of one decoded name */
    size_t max_pairs; /* pairs in the body */
} core_form_limits;

/* Defaults: 16 MiB body, 1024-byte names, 100,000 pairs. */
extern const core_form_limits core_form_default_limits;

/* Parse body[0..len) (need not be NUL-terminated; may be empty). limits NULL
 * takes the defaults. On success *out owns the form; on error *out is NULL
 * and err says why (see above). */
int core_form_parse(const char *body, size_t len, const core_form_limits *limits,
                    core_form **out, core_err *err);

/* Free; NULL is a no-op. */
void core_form_free(core_form *form);

size_t core_form_count(const core_form *form);
/* The i-th pair's decoded name / value (borrowed), or NULL past the end. */
const char *core_form_name_at(const core_form *form, size_t i);
const char *core_form_value_at(const core_form *form, size_t i);

/* The decoded value of name (borrowed), or NULL when absent. */
const char *core_form_get(const core_form *form, const char *name);

/* The members prefix.1, prefix.2, ... (e.g. prefix "Tags.member") as
 * sub-forms, ordered by index (gaps allowed): each holds the pairs whose names
 * follow "prefix.N.", with that part removed ("Tags.member.2.Key" -> "Key" in
 * the second member). A pair named exactly "prefix.N" is kept under the name
 * "" in its member. *members (owned; free each with core_form_free and the
 * array with free) and *n are 0/NULL when there is none. CORE_ERROR (400
 * InvalidParameterValue) for a malformed index or one over max_members. */
int core_form_members(const core_form *form, const char *prefix, size_t max_members,
                      core_form ***members, size_t *n, core_err *err);

/* Free an array from core_form_members; NULL is a no-op. */
void core_form_members_free(core_form **members, size_t n);

#endif
