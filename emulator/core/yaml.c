/*
 * yaml.c — YAML events to a cJSON tree. See yaml.h.
 *
 * Recursive descent over libyaml's event stream: a node is a scalar, or a
 * sequence/mapping start followed by its children and its end event. Each
 * function takes ownership of the event it is handed and deletes it.
 */
#include "core/yaml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct reader {
    yaml_parser_t parser;
    core_err *err;
} reader;

/* Short-form tags and their long-form keys. */
static const struct {
    const char *tag;
    const char *key;
} intrinsic_tags[] = {
    {"!Ref", "Ref"},           {"!Condition", "Condition"}, {"!GetAtt", "Fn::GetAtt"},
    {"!Sub", "Fn::Sub"},       {"!Join", "Fn::Join"},       {"!Select", "Fn::Select"},
    {"!Split", "Fn::Split"},   {"!If", "Fn::If"},           {"!Equals", "Fn::Equals"},
    {"!And", "Fn::And"},       {"!Or", "Fn::Or"},           {"!Not", "Fn::Not"},
    {"!FindInMap", "Fn::FindInMap"}, {"!Base64", "Fn::Base64"}, {"!GetAZs", "Fn::GetAZs"},
    {"!ImportValue", "Fn::ImportValue"}, {"!Cidr", "Fn::Cidr"},
    {"!Transform", "Fn::Transform"},
};

static int fail(reader *r, size_t line, const char *msg, const char *detail)
{
    return core_err_set(r->err, 400, "ValidationError", "line %zu: %s%s%s", line + 1, msg,
                        detail ? ": " : "", detail ? detail : "");
}

static int next_event(reader *r, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&r->parser, ev)) {
        const char *problem = r->parser.problem ? r->parser.problem : "syntax error";
        size_t line = r->parser.problem_mark.line;
        if (r->parser.context)
            return core_err_set(r->err, 400, "ValidationError", "line %zu: %s %s", line + 1,
                                problem, r->parser.context);
        return fail(r, line, problem, NULL);
    }
    return CORE_OK;
}

static int is_plain_int(const char *s)
{
    const char *p = s + (*s == '-');
    size_t n = strlen(p);
    if (n == 0 || n > 15 || (p[0] == '0' && n > 1))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

static int is_plain_decimal(const char *s)
{
    const char *p = s + (*s == '-');
    const char *dot = strchr(p, '.');
    if (!dot || dot == p || !dot[1] || strlen(p) > 17)
        return 0;
    if (p[0] == '0' && dot != p + 1)
        return 0;
    for (const char *c = p; *c; c++)
        if (c != dot && (*c < '0' || *c > '9'))
            return 0;
    return 1;
}

static cJSON *plain_scalar(const char *v)
{
    if (!*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
        strcmp(v, "NULL") == 0)
        return cJSON_CreateNull();
    if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0)
        return cJSON_CreateTrue();
    if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 || strcmp(v, "FALSE") == 0)
        return cJSON_CreateFalse();
    if (is_plain_int(v) || is_plain_decimal(v))
        return cJSON_CreateNumber(strtod(v, NULL));
    return cJSON_CreateString(v);
}

/* Wrap node per its tag; consumes node. NULL (err filled) for an unknown tag. */
static cJSON *apply_tag(reader *r, const char *tag, cJSON *node, size_t line)
{
    if (!tag || !node)
        return node;
    if (strncmp(tag, "tag:yaml.org,2002:", 18) == 0) {
        const char *t = tag + 18;
        if (strcmp(t, "str") == 0 && !cJSON_IsString(node)) {
            /* !!str on a plain scalar: keep its text. Numbers were parsed from text
             * that round-trips, so printing them back is faithful. */
            char *text = cJSON_IsNumber(node) || cJSON_IsBool(node) ? cJSON_PrintUnformatted(node)
                                                                   : strdup("");
            cJSON_Delete(node);
            node = cJSON_CreateString(text ? text : "");
            free(text);
        }
        return node;
    }
    for (size_t i = 0; i < sizeof intrinsic_tags / sizeof *intrinsic_tags; i++) {
        if (strcmp(tag, intrinsic_tags[i].tag) != 0)
            continue;
        if (strcmp(tag, "!GetAtt") == 0 && cJSON_IsString(node)) {
            const char *s = node->valuestring;
            const char *dot = strchr(s, '.');
            if (!dot || dot == s || !dot[1]) {
                cJSON_Delete(node);
                fail(r, line, "!GetAtt needs LogicalId.Attribute", NULL);
                return NULL;
            }
            cJSON *pair = cJSON_CreateArray();
            char *logical = strndup(s, (size_t)(dot - s));
            cJSON_AddItemToArray(pair, cJSON_CreateString(logical ? logical : ""));
            cJSON_AddItemToArray(pair, cJSON_CreateString(dot + 1));
            free(logical);
            cJSON_Delete(node);
            node = pair;
        }
        cJSON *wrap = cJSON_CreateObject();
        cJSON_AddItemToObject(wrap, intrinsic_tags[i].key, node);
        return wrap;
    }
    cJSON_Delete(node);
    fail(r, line, "unknown tag", tag);
    return NULL;
}

static cJSON *parse_node(reader *r, yaml_event_t *ev, int depth);

static cJSON *parse_sequence(reader *r, int depth)
{
    cJSON *arr = cJSON_CreateArray();
    for (;;) {
        yaml_event_t ev;
        if (next_event(r, &ev) != CORE_OK) {
            cJSON_Delete(arr);
            return NULL;
        }
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return arr;
        }
        cJSON *child = parse_node(r, &ev, depth + 1);
        if (!child) {
            cJSON_Delete(arr);
            return NULL;
        }
        cJSON_AddItemToArray(arr, child);
    }
}

static cJSON *parse_mapping(reader *r, int depth)
{
    cJSON *obj = cJSON_CreateObject();
    for (;;) {
        yaml_event_t ev;
        if (next_event(r, &ev) != CORE_OK)
            goto fail;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return obj;
        }
        size_t line = ev.start_mark.line;
        if (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.anchor) {
            yaml_event_delete(&ev);
            fail(r, line, "anchors are not supported in templates", NULL);
            goto fail;
        }
        if (ev.type != YAML_SCALAR_EVENT || ev.data.scalar.tag) {
            yaml_event_delete(&ev);
            fail(r, line, "mapping keys must be plain strings", NULL);
            goto fail;
        }
        char *key = strdup((const char *)ev.data.scalar.value);
        yaml_event_delete(&ev);
        if (!key)
            goto fail;
        if (cJSON_GetObjectItemCaseSensitive(obj, key)) {
            fail(r, line, "duplicate key", key);
            free(key);
            goto fail;
        }
        yaml_event_t vev;
        if (next_event(r, &vev) != CORE_OK) {
            free(key);
            goto fail;
        }
        cJSON *value = parse_node(r, &vev, depth + 1);
        if (!value) {
            free(key);
            goto fail;
        }
        cJSON_AddItemToObject(obj, key, value);
        free(key);
    }
fail:
    cJSON_Delete(obj);
    return NULL;
}

static cJSON *parse_node(reader *r, yaml_event_t *ev, int depth)
{
    size_t line = ev->start_mark.line;
    if (depth > CORE_YAML_MAX_DEPTH) {
        yaml_event_delete(ev);
        fail(r, line, "nesting too deep", NULL);
        return NULL;
    }
    cJSON *node = NULL;
    char *tag = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        const char *v = (const char *)ev->data.scalar.value;
        if (ev->data.scalar.tag)
            tag = strdup((const char *)ev->data.scalar.tag);
        if (ev->data.scalar.anchor) {
            yaml_event_delete(ev);
            free(tag);
            fail(r, line, "anchors are not supported in templates", NULL);
            return NULL;
        }
        int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        node = plain && !tag ? plain_scalar(v) : cJSON_CreateString(v);
        /* A tagged plain scalar like `!Ref X` keeps its text as a string. */
        yaml_event_delete(ev);
        break;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int seq = ev->type == YAML_SEQUENCE_START_EVENT;
        yaml_char_t *t = seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag;
        yaml_char_t *anchor = seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
        if (anchor) {
            yaml_event_delete(ev);
            fail(r, line, "anchors are not supported in templates", NULL);
            return NULL;
        }
        if (t)
            tag = strdup((const char *)t);
        yaml_event_delete(ev);
        node = seq ? parse_sequence(r, depth) : parse_mapping(r, depth);
        if (!node) {
            free(tag);
            return NULL;
        }
        break;
    }
    case YAML_ALIAS_EVENT:
        yaml_event_delete(ev);
        fail(r, line, "aliases are not supported in templates", NULL);
        return NULL;
    default:
        yaml_event_delete(ev);
        fail(r, line, "unexpected YAML event", NULL);
        return NULL;
    }
    node = apply_tag(r, tag, node, line);
    free(tag);
    return node;
}

int core_yaml_parse(const char *text, size_t len, cJSON **out, core_err *err)
{
    *out = NULL;
    if (len > CORE_YAML_MAX_BYTES)
        return core_err_set(err, 400, "ValidationError",
                            "template is %zu bytes, larger than the %u byte limit", len,
                            CORE_YAML_MAX_BYTES);
    if (memchr(text, '\0', len))
        return core_err_set(err, 400, "ValidationError", "template contains a NUL byte");
    reader r = {.err = err};
    if (!yaml_parser_initialize(&r.parser))
        return core_err_set(err, 500, "InternalFailure", "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);

    cJSON *root = NULL;
    yaml_event_t ev;
    int rc = CORE_ERROR;
    if (next_event(&r, &ev) != CORE_OK)
        goto done;
    yaml_event_delete(&ev); /* STREAM_START */
    if (next_event(&r, &ev) != CORE_OK)
        goto done;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        core_err_set(err, 400, "ValidationError", "line 1: the template is empty");
        goto done;
    }
    yaml_event_delete(&ev); /* DOCUMENT_START */
    if (next_event(&r, &ev) != CORE_OK)
        goto done;
    root = parse_node(&r, &ev, 0);
    if (!root)
        goto done;
    if (next_event(&r, &ev) != CORE_OK)
        goto done;
    yaml_event_delete(&ev); /* DOCUMENT_END */
    if (next_event(&r, &ev) != CORE_OK)
        goto done;
    if (ev.type != YAML_STREAM_END_EVENT) {
        size_t line = ev.start_mark.line;
        yaml_event_delete(&ev);
        fail(&r, line, "a template is one YAML document; found another", NULL);
        goto done;
    }
    yaml_event_delete(&ev);
    rc = CORE_OK;
done:
    yaml_parser_delete(&r.parser);
    if (rc != CORE_OK) {
        cJSON_Delete(root);
        return CORE_ERROR;
    }
    *out = root;
    return CORE_OK;
}
