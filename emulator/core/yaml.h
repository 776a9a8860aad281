/*
 * yaml.h — CloudFormation-flavoured YAML to cJSON, on libyaml.
 *
 * CloudFormation templates are YAML 1.1 documents with short-form intrinsic
 * tags. This reader turns one document into a cJSON tree and rewrites every tag
 * into its long form, so the template loader only ever sees JSON shapes:
 *
 *   !Ref X           -> {"Ref": "X"}
 *   !GetAtt A.B.C    -> {"Fn::GetAtt": ["A", "B.C"]}     (split at the first dot)
 *   !Sub / !Join ... -> {"Fn::Sub": ...} / {"Fn::Join": ...}
 *   !Condition C     -> {"Condition": "C"}
 *
 * Plain scalars become numbers (integers without leading zeros, up to 15 digits,
 * and simple decimals), booleans (true/false) or null (~, null, empty); quoted
 * scalars stay strings. Anchors and aliases are refused (CloudFormation does not
 * take them, and they are the door to "billion laughs"), as are duplicate keys,
 * unknown tags, nesting deeper than CORE_YAML_MAX_DEPTH and input larger than
 * CORE_YAML_MAX_BYTES. Errors carry the 1-based line number.
 */
#ifndef CORE_YAML_H
#define CORE_YAML_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/err.h"

#define CORE_YAML_MAX_BYTES (4u * 1024 * 1024)
#define CORE_YAML_MAX_DEPTH 128

/* Parse text[0..len) (one YAML document; JSON is YAML) into *out (owned by the
 * caller). On error *out is NULL, err has type "ValidationError" and a message
 * "line N: ...". */
int core_yaml_parse(const char *text, size_t len, cJSON **out, core_err *err);

#endif
