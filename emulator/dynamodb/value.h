/*
 * value.h — DynamoDB AttributeValues, as the wire carries them, on cJSON.
 *
 * An AttributeValue is a JSON object with exactly one type key: {"S": "x"},
 * {"N": "5"}, {"B": "<base64>"}, {"BOOL": true}, {"NULL": true}, {"M": {...}},
 * {"L": [...]}, {"SS": [...]}, {"NS": [...]}, {"BS": [...]}. An item is a JSON
 * object of attribute name -> AttributeValue.
 *
 * The emulator keeps items in exactly this form (validated, numbers normalised),
 * so a stored item can be sent back without rework.
 */
#ifndef DDB_VALUE_H
#define DDB_VALUE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/err.h"
#include "dynamodb/number.h"

#define DDB_MAX_ITEM_BYTES (400 * 1024)
#define DDB_MAX_DEPTH 32 /* nesting of M and L */

typedef enum ddb_type {
    DDB_INVALID = 0,
    DDB_S,
    DDB_N,
    DDB_B,
    DDB_BOOL,
    DDB_NULL,
    DDB_M,
    DDB_L,
    DDB_SS,
    DDB_NS,
    DDB_BS,
} ddb_type;

/* The type of an AttributeValue, or DDB_INVALID if it is not an object with exactly
 * one known type key whose JSON kind fits (S/N/B strings, BOOL/NULL booleans, M an
 * object, L/SS/NS/BS arrays). Does not look inside. */
ddb_type ddb_value_type(const cJSON *av);

/* The type key's payload (borrowed): the string of S, the array of L, ... */
const cJSON *ddb_value_payload(const cJSON *av);

/* "S", "N", ... ; "" for DDB_INVALID. */
const char *ddb_type_name(ddb_type t);

/* The type for a name "S", "N", ... or DDB_INVALID. */
ddb_type ddb_type_from_name(const char *name);

/* Validate an AttributeValue recursively, in place normalising every number (N,
 * NS elements) to its canonical text. Errors are ValidationException with AWS's
 * wording (empty AttributeValue, more than one datatype, empty set, duplicates in
 * a set, NULL not true, invalid number, nesting deeper than DDB_MAX_DEPTH), except
 * what AWS rejects while reading the request — invalid base64, a payload of the
 * wrong JSON kind — which is SerializationException, as on AWS. */
int ddb_value_validate(cJSON *av, core_err *err);

/* Validate every attribute of an item (a JSON object of name -> AttributeValue);
 * attribute names must be non-empty. Normalises numbers in place. */
int ddb_item_validate(cJSON *item, core_err *err);

/* Deep equality with DynamoDB's meaning: numbers by value, sets as unordered sets,
 * maps by keys, lists in order, binaries by decoded bytes. Different types are
 * never equal. */
int ddb_value_equal(const cJSON *a, const cJSON *b);

/* Ordering for <, <=, >, >=, BETWEEN: defined only between two values of the same
 * type among N (numeric), S (UTF-8 bytes), B (decoded bytes). Sets *cmp to -1/0/+1
 * and returns 0, or returns -1 when the two are not comparable. */
int ddb_value_compare(const cJSON *a, const cJSON *b, int *cmp);

/* DynamoDB's size of the value in bytes (the rules of "Item sizes and formats":
 * strings by UTF-8 length, numbers by ddb_num_size, binary by decoded length,
 * BOOL/NULL 1, M/L 3 + their elements + 1 byte per element (+ key names for M),
 * sets by elements). */
size_t ddb_value_size(const cJSON *av);

/* Size of an item: every attribute's name length plus its value's size. */
size_t ddb_item_size(const cJSON *item);

/* Order-preserving bytes of a key value (S, N or B), prefixed by nothing: the
 * table's key schema fixes the type. memcmp order is DynamoDB's key order (S by
 * UTF-8 bytes, B by decoded bytes, N numerically). Caller frees *out. Returns
 * CORE_ERROR (err filled) if the value is not a valid S/N/B. */
int ddb_value_key_encode(const cJSON *av, unsigned char **out, size_t *len, core_err *err);

/* Decode base64 (standard alphabet, padding required as AWS does). Caller frees.
 * Returns NULL on invalid input. */
unsigned char *ddb_base64_decode(const char *text, size_t *len);

/* Encode bytes to base64 (caller frees). */
char *ddb_base64_encode(const unsigned char *data, size_t len);

#endif
