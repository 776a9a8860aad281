/*
 * value.c — DynamoDB AttributeValues on cJSON: validation, equality, ordering,
 * sizes, key bytes and base64. See value.h.
 *
 * Validation runs in two passes, as DynamoDB's front end does:
 *   1. shape ("serialization"): every type key holds the JSON kind the wire model
 *      declares (S/N strings, B a strict base64 string, BOOL/NULL booleans, M an
 *      object of AttributeValues, L/SS/NS/BS arrays). A failure here is AWS's
 *      SerializationException, raised before any rule is looked at;
 *   2. rules ("validation"): exactly one type, numbers in range, NULL true, sets
 *      non-empty and without duplicates, attribute names non-empty, nesting at
 *      most DDB_MAX_DEPTH levels (the attribute itself is level 1). A failure is a
 *      ValidationException with AWS's wording.
 * On success every N and NS element holds its canonical text, and members other
 * than the one type key (unknown keys, JSON nulls, which AWS ignores) are removed,
 * so a stored item is exactly what GetItem returns.
 *
 * Wording, as real DynamoDB answers (checked against dynalite's test suite, which
 * was recorded against AWS, and later public captures of AWS responses):
 *   "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
 *   "Supplied AttributeValue has more than one datatypes set, must contain exactly one
 *    of the supported datatypes"
 *   "One or more parameter values were invalid: Null attribute value types must have
 *    the value of true"
 *   "One or more parameter values were invalid: An string set  may not be empty" (sic,
 *    two spaces), "... An number set  may not be empty", "... Binary sets should not
 *    be empty"
 *   "One or more parameter values were invalid: Input collection [a, a] contains
 *    duplicates." (SS), "... Input collection [Yg==, Yg==]of type BS contains
 *    duplicates." (BS, sic, no space), "Input collection contains duplicates" (NS,
 *    bare; NS duplicates are by value: "1" and "1.0")
 *   "Nesting Levels have exceeded supported limits: Attributes in the item have nested
 *    levels beyond supported limit"
 *   "One or more parameter values were invalid: Empty attribute name"
 *   base64 (SerializationException): "Base64 encoded length is expected a multiple of
 *    4 bytes but found: 5", "Invalid last non-pad Base64 character dectected" (sic).
 *
 * Sizes follow the developer guide's "DynamoDB item sizes and formats": strings and
 * binaries by bytes, numbers by ddb_num_size, BOOL/NULL 1 byte, M and L 3 bytes plus
 * 1 byte per element plus the elements (and, for M, the key names), sets the sum of
 * their elements.
 */
#include "dynamodb/value.h"

#include "core/codec.h"

#include <openssl/evp.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALIDATION "ValidationException"
#define SERIALIZATION "SerializationException"
#define INVALID_PREFIX "One or more parameter values were invalid: "

/* Deeper than this the shape pass stops looking: the rules pass refuses such
 * values anyway, and C recursion must stay bounded whatever was built. */
#define SHAPE_DEPTH_LIMIT (DDB_MAX_DEPTH + 2)

/* Longest rendering of a set in a duplicates message (core_err holds 1024). */
#define COLLECTION_TEXT_MAX 900

static const char *const type_names[] = {
    [DDB_INVALID] = "", [DDB_S] = "S",   [DDB_N] = "N",       [DDB_B] = "B",
    [DDB_BOOL] = "BOOL", [DDB_NULL] = "NULL", [DDB_M] = "M", [DDB_L] = "L",
    [DDB_SS] = "SS",    [DDB_NS] = "NS", [DDB_BS] = "BS",
};

const char *ddb_type_name(ddb_type t)
{
    if (t <= DDB_INVALID || t > DDB_BS)
        return "";
    return type_names[t];
}

ddb_type ddb_type_from_name(const char *name)
{
    if (!name)
        return DDB_INVALID;
    for (int t = DDB_S; t <= DDB_BS; t++)
        if (strcmp(name, type_names[t]) == 0)
            return (ddb_type)t;
    return DDB_INVALID;
}

static int kind_fits(ddb_type t, const cJSON *payload)
{
    switch (t) {
    case DDB_S:
    case DDB_N:
    case DDB_B:
        return cJSON_IsString(payload) && payload->valuestring != NULL;
    case DDB_BOOL:
    case DDB_NULL:
        return cJSON_IsBool(payload);
    case DDB_M:
        return cJSON_IsObject(payload);
    case DDB_L:
    case DDB_SS:
    case DDB_NS:
    case DDB_BS:
        return cJSON_IsArray(payload);
    default:
        return 0;
    }
}

/* The one known, non-null type member of av, or NULL when there is not exactly one. */
static const cJSON *type_member(const cJSON *av, ddb_type *type)
{
    const cJSON *found = NULL;
    int count = 0;
    *type = DDB_INVALID;
    if (!cJSON_IsObject(av))
        return NULL;
    for (const cJSON *c = av->child; c; c = c->next) {
        ddb_type t = ddb_type_from_name(c->string);
        if (t == DDB_INVALID || cJSON_IsNull(c))
            continue;
        count++;
        found = c;
        *type = t;
    }
    if (count != 1) {
        *type = DDB_INVALID;
        return NULL;
    }
    return found;
}

ddb_type ddb_value_type(const cJSON *av)
{
    ddb_type t;
    const cJSON *payload = type_member(av, &t);
    if (!payload || !kind_fits(t, payload))
        return DDB_INVALID;
    return t;
}

const cJSON *ddb_value_payload(const cJSON *av)
{
    ddb_type t;
    const cJSON *payload = type_member(av, &t);
    if (!payload || !kind_fits(t, payload))
        return NULL;
    return payload;
}

/* ---- base64 -------------------------------------------------------------- */

typedef enum base64_fault {
    BASE64_OK = 0,
    BASE64_LENGTH,    /* not a multiple of 4 */
    BASE64_CHARACTER, /* outside the alphabet, misplaced '=', or non-zero pad bits */
} base64_fault;

/* Strict standard base64: length a multiple of 4, at most two '=' and only at the
 * end, and the bits a '=' stands for zero (the one canonical text of the bytes, as
 * AWS insists). On success *decoded_len is the byte count. */
static base64_fault base64_check(const char *text, size_t len, size_t *decoded_len)
{
    if (len % 4 != 0)
        return BASE64_LENGTH;
    size_t pad = 0;
    if (len >= 4 && text[len - 1] == '=')
        pad = text[len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < len - pad; i++)
        if (core_base64_digit((unsigned char)text[i], 0) < 0)
            return BASE64_CHARACTER;
    if (pad > 0) {
        int last = core_base64_digit((unsigned char)text[len - pad - 1], 0);
        if ((pad == 2 && (last & 0x0F) != 0) || (pad == 1 && (last & 0x03) != 0))
            return BASE64_CHARACTER;
    }
    if (decoded_len)
        *decoded_len = len / 4 * 3 - pad;
    return BASE64_OK;
}

/* Decodes text already accepted by base64_check into out (decoded_len bytes). */
static void base64_decode_checked(const char *text, size_t len, unsigned char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int count = 0;
        for (int j = 0; j < 4; j++) {
            v[j] = text[i + (size_t)j] == '=' ? 0 : core_base64_digit((unsigned char)text[i + (size_t)j], 0);
            if (text[i + (size_t)j] != '=')
                count++;
        }
        unsigned long group = ((unsigned long)v[0] << 18) | ((unsigned long)v[1] << 12) |
                              ((unsigned long)v[2] << 6) | (unsigned long)v[3];
        out[o++] = (unsigned char)(group >> 16);
        if (count > 2)
            out[o++] = (unsigned char)(group >> 8);
        if (count > 3)
            out[o++] = (unsigned char)group;
    }
}

unsigned char *ddb_base64_decode(const char *text, size_t *len)
{
    size_t n;
    if (!text)
        return NULL;
    size_t text_len = strlen(text);
    if (base64_check(text, text_len, &n) != BASE64_OK)
        return NULL;
    unsigned char *out = malloc(n ? n : 1);
    if (!out)
        return NULL;
    base64_decode_checked(text, text_len, out);
    if (len)
        *len = n;
    return out;
}

char *ddb_base64_encode(const unsigned char *data, size_t len)
{
    if (!data && len > 0)
        return NULL;
    if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;
    size_t out_len = (len + 2) / 3 * 4;
    char *out = malloc(out_len + 1);
    if (!out)
        return NULL;
    /* EVP_EncodeBlock takes an int length: feed it whole 3-byte groups in chunks. */
    const size_t chunk = (size_t)3 << 20;
    size_t in = 0, o = 0;
    while (in < len) {
        size_t take = len - in < chunk ? len - in : chunk;
        int wrote = EVP_EncodeBlock((unsigned char *)out + o, data + in, (int)take);
        if (wrote < 0) {
            free(out);
            return NULL;
        }
        in += take;
        o += (size_t)wrote;
    }
    out[o] = '\0';
    return out;
}

/* ---- pass 1: shape ------------------------------------------------------- */

static int shape_error(core_err *err, const char *message)
{
    return core_err_set(err, 400, SERIALIZATION, "%s", message);
}

/* Coral's name for a JSON scalar in its "X cannot be converted" messages. */
static const char *scalar_word(const cJSON *v)
{
    if (cJSON_IsTrue(v))
        return "TRUE_VALUE";
    if (cJSON_IsFalse(v))
        return "FALSE_VALUE";
    if (cJSON_IsString(v))
        return "STRING_VALUE";
    double d = v->valuedouble;
    if (d >= -9.0e18 && d <= 9.0e18 && d == (double)(long long)d)
        return "NUMBER_VALUE";
    return "DECIMAL_VALUE";
}

static int shape_string(const cJSON *v, core_err *err)
{
    if (cJSON_IsString(v) && v->valuestring)
        return CORE_OK;
    if (cJSON_IsArray(v))
        return shape_error(err, "Unrecognized collection type class java.lang.String");
    if (cJSON_IsObject(v))
        return shape_error(err, "Start of structure or map found where not expected");
    return core_err_set(err, 400, SERIALIZATION, "%s cannot be converted to String",
                        scalar_word(v));
}

static int base64_error(base64_fault fault, size_t len, core_err *err)
{
    if (fault == BASE64_LENGTH)
        return core_err_set(err, 400, SERIALIZATION,
                            "Base64 encoded length is expected a multiple of 4 bytes but "
                            "found: %zu",
                            len);
    return shape_error(err, "Invalid last non-pad Base64 character dectected");
}

static int shape_blob(const cJSON *v, core_err *err)
{
    if (cJSON_IsArray(v))
        return shape_error(err, "Unrecognized collection type class java.nio.ByteBuffer");
    if (cJSON_IsObject(v))
        return shape_error(err, "Start of structure or map found where not expected");
    if (!cJSON_IsString(v) || !v->valuestring)
        return shape_error(err, "only base-64-encoded strings are convertible to bytes");
    size_t len = strlen(v->valuestring);
    base64_fault fault = base64_check(v->valuestring, len, NULL);
    if (fault != BASE64_OK)
        return base64_error(fault, len, err);
    return CORE_OK;
}

static int shape_bool(const cJSON *v, core_err *err)
{
    if (cJSON_IsBool(v))
        return CORE_OK;
    if (cJSON_IsArray(v))
        return shape_error(err, "Unrecognized collection type class java.lang.Boolean");
    if (cJSON_IsObject(v))
        return shape_error(err, "Start of structure or map found where not expected");
    if (cJSON_IsString(v))
        return shape_error(err, "Unexpected token received from parser");
    return core_err_set(err, 400, SERIALIZATION, "%s cannot be converted to Boolean",
                        scalar_word(v));
}

static int shape_av(const cJSON *av, int depth, core_err *err);

static int shape_list(const cJSON *v, ddb_type t, int depth, core_err *err)
{
    if (cJSON_IsObject(v))
        return shape_error(err, "Start of structure or map found where not expected");
    if (!cJSON_IsArray(v))
        return shape_error(err, "Unexpected field type");
    for (const cJSON *e = v->child; e; e = e->next) {
        if (cJSON_IsNull(e))
            continue; /* a null member is a rule (pass 2) matter */
        int rc = CORE_OK;
        if (t == DDB_L)
            rc = shape_av(e, depth + 1, err);
        else if (t == DDB_BS)
            rc = shape_blob(e, err);
        else
            rc = shape_string(e, err);
        if (rc != CORE_OK)
            return rc;
    }
    return CORE_OK;
}

static int shape_map(const cJSON *v, int depth, core_err *err)
{
    if (cJSON_IsArray(v))
        return shape_error(err, "Unrecognized collection type java.util.Map<java.lang.String, "
                                "com.amazonaws.dynamodb.v20120810.AttributeValue>");
    if (!cJSON_IsObject(v))
        return shape_error(err, "Unexpected field type");
    for (const cJSON *e = v->child; e; e = e->next)
        if (!cJSON_IsNull(e) && shape_av(e, depth + 1, err) != CORE_OK)
            return CORE_ERROR;
    return CORE_OK;
}

static int shape_av(const cJSON *av, int depth, core_err *err)
{
    if (depth > SHAPE_DEPTH_LIMIT || !av || cJSON_IsNull(av))
        return CORE_OK;
    if (cJSON_IsArray(av))
        return shape_error(err, "Unrecognized collection type class "
                                "com.amazonaws.dynamodb.v20120810.AttributeValue");
    if (!cJSON_IsObject(av))
        return shape_error(err, "Unexpected value type in payload");
    for (const cJSON *c = av->child; c; c = c->next) {
        ddb_type t = ddb_type_from_name(c->string);
        if (t == DDB_INVALID || cJSON_IsNull(c))
            continue;
        int rc = CORE_OK;
        switch (t) {
        case DDB_S:
        case DDB_N:
            rc = shape_string(c, err);
            break;
        case DDB_B:
            rc = shape_blob(c, err);
            break;
        case DDB_BOOL:
        case DDB_NULL:
            rc = shape_bool(c, err);
            break;
        case DDB_M:
            rc = shape_map(c, depth, err);
            break;
        default:
            rc = shape_list(c, t, depth, err);
            break;
        }
        if (rc != CORE_OK)
            return rc;
    }
    return CORE_OK;
}

/* ---- element keys: sets compared and deduplicated by sorting -------------- */

/* One set element reduced to bytes whose equality is DynamoDB's: the string's
 * bytes (SS), the number's key bytes (NS, unique per value), the decoded bytes (BS). */
typedef struct elem_key {
    unsigned char *bytes;
    size_t len;
} elem_key;

static int elem_key_cmp(const void *x, const void *y)
{
    const elem_key *a = x, *b = y;
    size_t common = a->len < b->len ? a->len : b->len;
    int c = common ? memcmp(a->bytes, b->bytes, common) : 0;
    if (c != 0)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

static void elem_keys_free(elem_key *keys, size_t n)
{
    if (!keys)
        return;
    for (size_t i = 0; i < n; i++)
        free(keys[i].bytes);
    free(keys);
}

/* Returns 0 and fills *out, or -1 (no memory, or an element that is not valid for
 * the set type: in that case the caller decides what that means). Elements that
 * fail are keyed by their text behind a 0x00 byte, which no valid key starts with,
 * when lenient is set; otherwise they fail the call. */
static int elem_key_make(const cJSON *e, ddb_type t, int lenient, elem_key *out)
{
    const char *s = cJSON_IsString(e) ? e->valuestring : NULL;
    out->bytes = NULL;
    out->len = 0;
    if (!s)
        return -1;
    size_t len = strlen(s);
    if (t == DDB_NS) {
        ddb_num n;
        if (ddb_num_parse(s, len, &n, NULL) == CORE_OK) {
            out->bytes = malloc(DDB_NUM_KEY_MAX);
            if (!out->bytes)
                return -1;
            out->len = ddb_num_key_encode(&n, out->bytes);
            return 0;
        }
    } else if (t == DDB_BS) {
        size_t n;
        unsigned char *bytes = ddb_base64_decode(s, &n);
        if (bytes) {
            out->bytes = bytes;
            out->len = n;
            return 0;
        }
    } else {
        out->bytes = malloc(len ? len : 1);
        if (!out->bytes)
            return -1;
        memcpy(out->bytes, s, len);
        out->len = len;
        return 0;
    }
    if (!lenient)
        return -1;
    out->bytes = malloc(len + 1);
    if (!out->bytes)
        return -1;
    out->bytes[0] = 0x00;
    memcpy(out->bytes + 1, s, len);
    out->len = len + 1;
    return 0;
}

/* Sorted keys of every element of the set array. NULL on failure. */
static elem_key *set_keys_sorted(const cJSON *array, ddb_type t, int lenient, size_t *count)
{
    size_t n = (size_t)cJSON_GetArraySize(array);
    *count = n;
    elem_key *keys = calloc(n ? n : 1, sizeof *keys);
    if (!keys)
        return NULL;
    size_t i = 0;
    for (const cJSON *e = array->child; e && i < n; e = e->next, i++)
        if (elem_key_make(e, t, lenient, &keys[i]) != 0) {
            elem_keys_free(keys, n);
            return NULL;
        }
    qsort(keys, n, sizeof *keys, elem_key_cmp);
    return keys;
}

/* ---- pass 2: rules ------------------------------------------------------- */

static int rule_error(core_err *err, const char *message)
{
    return core_err_set(err, 400, VALIDATION, "%s", message);
}

static int out_of_memory(core_err *err)
{
    return core_err_set(err, 500, "InternalServerError", "out of memory");
}

/* Replace a number's text by its canonical form; err as ddb_num_parse's. */
static int normalize_number_in_place(cJSON *s, core_err *err)
{
    ddb_num n;
    if (ddb_num_parse(s->valuestring, strlen(s->valuestring), &n, err) != CORE_OK)
        return CORE_ERROR;
    char text[DDB_NUM_TEXT_MAX];
    ddb_num_format(&n, text, sizeof text);
    if (strcmp(text, s->valuestring) != 0 && !cJSON_SetValuestring(s, text))
        return out_of_memory(err);
    return CORE_OK;
}

/* "[a, b, c]" as AWS renders a set in its duplicates message (cut short if long). */
static void render_collection(const cJSON *array, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (const cJSON *e = array->child; e; e = e->next) {
        const char *s = cJSON_IsString(e) ? e->valuestring : "null";
        int n = snprintf(buf + used, size - used, "%s%s", e == array->child ? "" : ", ", s);
        if (n < 0 || (size_t)n >= size - used) {
            used = strlen(buf);
            break;
        }
        used += (size_t)n;
    }
    if (used + 1 < size) {
        buf[used] = ']';
        buf[used + 1] = '\0';
    }
}

static int set_has_duplicates(const cJSON *array, ddb_type t, int *dup, core_err *err)
{
    size_t n;
    elem_key *keys = set_keys_sorted(array, t, 0, &n);
    if (!keys)
        return out_of_memory(err);
    *dup = 0;
    for (size_t i = 1; i < n && !*dup; i++)
        if (elem_key_cmp(&keys[i - 1], &keys[i]) == 0)
            *dup = 1;
    elem_keys_free(keys, n);
    return CORE_OK;
}

static int rules_set(cJSON *array, ddb_type t, core_err *err)
{
    if (cJSON_GetArraySize(array) == 0) {
        if (t == DDB_SS)
            return rule_error(err, INVALID_PREFIX "An string set  may not be empty");
        if (t == DDB_NS)
            return rule_error(err, INVALID_PREFIX "An number set  may not be empty");
        return rule_error(err, INVALID_PREFIX "Binary sets should not be empty");
    }
    for (cJSON *e = array->child; e; e = e->next) {
        if (cJSON_IsNull(e)) {
            if (t == DDB_SS)
                return rule_error(err, INVALID_PREFIX
                                  "An string set may not have a null string as a member");
            if (t == DDB_NS)
                return rule_error(err, "The parameter cannot be converted to a numeric value");
            return rule_error(err, INVALID_PREFIX
                              "Binary sets may not contain null or empty values");
        }
        if (t == DDB_NS && normalize_number_in_place(e, err) != CORE_OK)
            return CORE_ERROR;
    }
    int dup = 0;
    if (set_has_duplicates(array, t, &dup, err) != CORE_OK)
        return CORE_ERROR;
    if (!dup)
        return CORE_OK;
    if (t == DDB_NS)
        return rule_error(err, "Input collection contains duplicates");
    char text[COLLECTION_TEXT_MAX];
    render_collection(array, text, sizeof text);
    return core_err_set(err, 400, VALIDATION,
                        INVALID_PREFIX "Input collection %s%s contains duplicates.", text,
                        t == DDB_BS ? "of type BS" : "");
}

static int rules_av(cJSON *av, int depth, core_err *err);

static int rules_map(cJSON *map, int depth, core_err *err)
{
    for (cJSON *e = map->child; e; e = e->next) {
        if (!e->string || e->string[0] == '\0')
            return rule_error(err, INVALID_PREFIX "Empty attribute name");
        if (rules_av(e, depth + 1, err) != CORE_OK)
            return CORE_ERROR;
    }
    return CORE_OK;
}

static int rules_av(cJSON *av, int depth, core_err *err)
{
    if (depth > DDB_MAX_DEPTH)
        return rule_error(err, "Nesting Levels have exceeded supported limits: Attributes in "
                               "the item have nested levels beyond supported limit");
    if (!cJSON_IsObject(av))
        return rule_error(err, "Supplied AttributeValue is empty, must contain exactly one of "
                               "the supported datatypes");

    /* Each type present is checked in the order sent; the count is judged after,
     * so {"S": "a", "N": "b"} reports the number, as AWS does. */
    int count = 0;
    for (cJSON *c = av->child; c; c = c->next) {
        ddb_type t = ddb_type_from_name(c->string);
        if (t == DDB_INVALID || cJSON_IsNull(c))
            continue;
        count++;
        int rc = CORE_OK;
        switch (t) {
        case DDB_N:
            rc = normalize_number_in_place(c, err);
            break;
        case DDB_NULL:
            if (!cJSON_IsTrue(c))
                rc = rule_error(err, INVALID_PREFIX
                                "Null attribute value types must have the value of true");
            break;
        case DDB_SS:
        case DDB_NS:
        case DDB_BS:
            rc = rules_set(c, t, err);
            break;
        case DDB_M:
            rc = rules_map(c, depth, err);
            break;
        case DDB_L:
            for (cJSON *e = c->child; e && rc == CORE_OK; e = e->next)
                rc = rules_av(e, depth + 1, err);
            break;
        default:
            break;
        }
        if (rc != CORE_OK)
            return rc;
    }
    if (count == 0)
        return rule_error(err, "Supplied AttributeValue is empty, must contain exactly one of "
                               "the supported datatypes");
    if (count > 1)
        return rule_error(err, "Supplied AttributeValue has more than one datatypes set, must "
                               "contain exactly one of the supported datatypes");

    /* Keep only the type member, as AWS stores and returns the value. */
    cJSON *c = av->child;
    while (c) {
        cJSON *next = c->next;
        if (ddb_type_from_name(c->string) == DDB_INVALID || cJSON_IsNull(c))
            cJSON_Delete(cJSON_DetachItemViaPointer(av, c));
        c = next;
    }
    return CORE_OK;
}

int ddb_value_validate(cJSON *av, core_err *err)
{
    if (shape_av(av, 1, err) != CORE_OK)
        return CORE_ERROR;
    return rules_av(av, 1, err);
}

int ddb_item_validate(cJSON *item, core_err *err)
{
    if (cJSON_IsArray(item))
        return shape_error(err, "Unrecognized collection type java.util.Map<java.lang.String, "
                                "com.amazonaws.dynamodb.v20120810.AttributeValue>");
    if (!cJSON_IsObject(item))
        return shape_error(err, "Unexpected field type");
    for (const cJSON *e = item->child; e; e = e->next)
        if (shape_av(e, 1, err) != CORE_OK)
            return CORE_ERROR;
    for (cJSON *e = item->child; e; e = e->next) {
        if (!e->string || e->string[0] == '\0')
            return rule_error(err, INVALID_PREFIX "Empty attribute name");
        if (rules_av(e, 1, err) != CORE_OK)
            return CORE_ERROR;
    }
    return CORE_OK;
}

/* ---- equality ------------------------------------------------------------ */

static int number_text_cmp(const char *a, const char *b, int *cmp)
{
    ddb_num na, nb;
    if (ddb_num_parse(a, strlen(a), &na, NULL) != CORE_OK ||
        ddb_num_parse(b, strlen(b), &nb, NULL) != CORE_OK)
        return -1;
    *cmp = ddb_num_cmp(&na, &nb);
    return 0;
}

static int bytes_cmp(const unsigned char *a, size_t na, const unsigned char *b, size_t nb)
{
    size_t common = na < nb ? na : nb;
    int c = common ? memcmp(a, b, common) : 0;
    if (c != 0)
        return c < 0 ? -1 : 1;
    return (na > nb) - (na < nb);
}

static int binary_text_cmp(const char *a, const char *b, int *cmp)
{
    size_t na, nb;
    unsigned char *ba = ddb_base64_decode(a, &na);
    unsigned char *bb = ddb_base64_decode(b, &nb);
    int rc = -1;
    if (ba && bb) {
        *cmp = bytes_cmp(ba, na, bb, nb);
        rc = 0;
    }
    free(ba);
    free(bb);
    return rc;
}

static int sets_equal(const cJSON *a, const cJSON *b, ddb_type t)
{
    size_t na, nb;
    if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
        return 0;
    elem_key *ka = set_keys_sorted(a, t, 1, &na);
    elem_key *kb = set_keys_sorted(b, t, 1, &nb);
    int equal = ka && kb && na == nb;
    for (size_t i = 0; equal && i < na; i++)
        equal = elem_key_cmp(&ka[i], &kb[i]) == 0;
    elem_keys_free(ka, na);
    elem_keys_free(kb, nb);
    return equal;
}

static int member_name_cmp(const void *x, const void *y)
{
    const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;
    return strcmp(a->string ? a->string : "", b->string ? b->string : "");
}

/* The members of an object, sorted by name (caller frees). */
static const cJSON **members_sorted(const cJSON *object, size_t *count)
{
    size_t n = (size_t)cJSON_GetArraySize(object);
    const cJSON **members = malloc((n ? n : 1) * sizeof *members);
    if (!members)
        return NULL;
    size_t i = 0;
    for (const cJSON *e = object->child; e && i < n; e = e->next)
        members[i++] = e;
    qsort(members, i, sizeof *members, member_name_cmp);
    *count = i;
    return members;
}

static int equal_av(const cJSON *a, const cJSON *b, int depth);

static int maps_equal(const cJSON *a, const cJSON *b, int depth)
{
    size_t na = 0, nb = 0;
    if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
        return 0;
    const cJSON **ma = members_sorted(a, &na);
    const cJSON **mb = members_sorted(b, &nb);
    int equal = ma && mb && na == nb;
    for (size_t i = 0; equal && i < na; i++)
        equal = member_name_cmp(&ma[i], &mb[i]) == 0 && equal_av(ma[i], mb[i], depth + 1);
    free(ma);
    free(mb);
    return equal;
}

static int equal_av(const cJSON *a, const cJSON *b, int depth)
{
    ddb_type ta = ddb_value_type(a), tb = ddb_value_type(b);
    if (ta == DDB_INVALID || ta != tb || depth > SHAPE_DEPTH_LIMIT)
        return 0;
    const cJSON *pa = ddb_value_payload(a), *pb = ddb_value_payload(b);
    int cmp = 0;
    switch (ta) {
    case DDB_S:
        return strcmp(pa->valuestring, pb->valuestring) == 0;
    case DDB_N:
        if (number_text_cmp(pa->valuestring, pb->valuestring, &cmp) != 0)
            return strcmp(pa->valuestring, pb->valuestring) == 0;
        return cmp == 0;
    case DDB_B:
        if (binary_text_cmp(pa->valuestring, pb->valuestring, &cmp) != 0)
            return strcmp(pa->valuestring, pb->valuestring) == 0;
        return cmp == 0;
    case DDB_BOOL:
    case DDB_NULL:
        return cJSON_IsTrue(pa) == cJSON_IsTrue(pb);
    case DDB_M:
        return maps_equal(pa, pb, depth);
    case DDB_L: {
        if (cJSON_GetArraySize(pa) != cJSON_GetArraySize(pb))
            return 0;
        const cJSON *ea = pa->child, *eb = pb->child;
        for (; ea && eb; ea = ea->next, eb = eb->next)
            if (!equal_av(ea, eb, depth + 1))
                return 0;
        return ea == NULL && eb == NULL;
    }
    default:
        return sets_equal(pa, pb, ta);
    }
}

int ddb_value_equal(const cJSON *a, const cJSON *b)
{
    return equal_av(a, b, 1);
}

/* ---- ordering ------------------------------------------------------------ */

int ddb_value_compare(const cJSON *a, const cJSON *b, int *cmp)
{
    ddb_type ta = ddb_value_type(a), tb = ddb_value_type(b);
    if (ta != tb || (ta != DDB_S && ta != DDB_N && ta != DDB_B))
        return -1;
    const char *sa = ddb_value_payload(a)->valuestring, *sb = ddb_value_payload(b)->valuestring;
    int c = 0;
    if (ta == DDB_S)
        c = bytes_cmp((const unsigned char *)sa, strlen(sa), (const unsigned char *)sb,
                      strlen(sb));
    else if (ta == DDB_N && number_text_cmp(sa, sb, &c) != 0)
        return -1;
    else if (ta == DDB_B && binary_text_cmp(sa, sb, &c) != 0)
        return -1;
    if (cmp)
        *cmp = c;
    return 0;
}

/* ---- sizes --------------------------------------------------------------- */

static size_t number_text_size(const char *text)
{
    ddb_num n;
    if (ddb_num_parse(text, strlen(text), &n, NULL) != CORE_OK)
        return 0;
    return ddb_num_size(&n);
}

static size_t binary_text_size(const char *text)
{
    size_t n = 0;
    if (base64_check(text, strlen(text), &n) != BASE64_OK)
        return 0;
    return n;
}

static size_t size_av(const cJSON *av, int depth)
{
    ddb_type t = ddb_value_type(av);
    if (t == DDB_INVALID || depth > SHAPE_DEPTH_LIMIT)
        return 0;
    const cJSON *p = ddb_value_payload(av);
    size_t size = 0;
    switch (t) {
    case DDB_S:
        return strlen(p->valuestring);
    case DDB_N:
        return number_text_size(p->valuestring);
    case DDB_B:
        return binary_text_size(p->valuestring);
    case DDB_BOOL:
    case DDB_NULL:
        return 1;
    case DDB_M:
        size = 3;
        for (const cJSON *e = p->child; e; e = e->next)
            size += (e->string ? strlen(e->string) : 0) + size_av(e, depth + 1) + 1;
        return size;
    case DDB_L:
        size = 3;
        for (const cJSON *e = p->child; e; e = e->next)
            size += size_av(e, depth + 1) + 1;
        return size;
    default:
        for (const cJSON *e = p->child; e; e = e->next) {
            if (!cJSON_IsString(e) || !e->valuestring)
                continue;
            if (t == DDB_SS)
                size += strlen(e->valuestring);
            else if (t == DDB_NS)
                size += number_text_size(e->valuestring);
            else
                size += binary_text_size(e->valuestring);
        }
        return size;
    }
}

size_t ddb_value_size(const cJSON *av)
{
    return size_av(av, 1);
}

size_t ddb_item_size(const cJSON *item)
{
    size_t size = 0;
    if (!cJSON_IsObject(item))
        return 0;
    for (const cJSON *e = item->child; e; e = e->next)
        size += (e->string ? strlen(e->string) : 0) + size_av(e, 1);
    return size;
}

/* ---- key bytes ----------------------------------------------------------- */

int ddb_value_key_encode(const cJSON *av, unsigned char **out, size_t *len, core_err *err)
{
    ddb_type t = ddb_value_type(av);
    if (t != DDB_S && t != DDB_N && t != DDB_B)
        return rule_error(err, INVALID_PREFIX "A key attribute value must be of type S, N or B");
    const char *text = ddb_value_payload(av)->valuestring;
    size_t text_len = strlen(text);
    unsigned char *bytes = NULL;
    size_t n = 0;

    if (t == DDB_S) {
        bytes = malloc(text_len ? text_len : 1);
        if (!bytes)
            return out_of_memory(err);
        memcpy(bytes, text, text_len);
        n = text_len;
    } else if (t == DDB_N) {
        ddb_num num;
        if (ddb_num_parse(text, text_len, &num, err) != CORE_OK)
            return CORE_ERROR;
        bytes = malloc(DDB_NUM_KEY_MAX);
        if (!bytes)
            return out_of_memory(err);
        n = ddb_num_key_encode(&num, bytes);
    } else {
        base64_fault fault = base64_check(text, text_len, NULL);
        if (fault != BASE64_OK)
            return base64_error(fault, text_len, err);
        bytes = ddb_base64_decode(text, &n);
        if (!bytes)
            return out_of_memory(err);
    }
    *out = bytes;
    *len = n;
    return CORE_OK;
}
