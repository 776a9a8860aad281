/*
 * wire.c — Amazon SNS's Query protocol and the JSON form. See wire.h.
 *
 * A request is parsed (form or JSON) into the model's request tree, checked
 * against fault rules, run in one savepoint, and answered; then, with the
 * store lock released, what the publish delivered goes to the outbox and
 * lambda subscriptions' functions are invoked in-process with the SNS event
 * (synchronously, after the answer is shaped: AWS invokes them
 * asynchronously, and a function's error never fails the Publish).
 */
#include "sns/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fault.h"
#include "core/http.h"
#include "core/log.h"
#include "core/xml.h"
#include "lambda/lambda.h"
#include "sns/model.h"

#define TARGET_PREFIX "AmazonSimpleNotificationService"
#define XMLNS "http://sns.amazonaws.com/doc/2010-03-31/"
#define MAX_MEMBERS 1000

/* A Query body: a 256 KiB message percent-encoded can triple, and a batch of
 * ten carries ten of them within the same 256 KiB total. */
static const core_form_limits sns_form_limits = {
    .max_body = 4u << 20,
    .max_name = 256,
    .max_pairs = 10000,
};

typedef struct sns_service {
    sns_model *model;
    core_faults *faults;
    core_outbox *outbox;
    core_clock *clock;
    core_emulator *emu;
} sns_service;

/* --- form -> request ---------------------------------------------------------- */

static void add_scalars(cJSON *obj, const core_form *form)
{
    for (size_t i = 0; i < core_form_count(form); i++) {
        const char *name = core_form_name_at(form, i);
        if (!*name || strchr(name, '.') || !strcmp(name, "Action") || !strcmp(name, "Version"))
            continue;
        cJSON_AddStringToObject(obj, name, core_form_value_at(form, i));
    }
}

static int add_map(cJSON *obj, const core_form *form, const char *member, core_err *err)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s.entry", member);
    core_form **m;
    size_t n;
    if (core_form_members(form, prefix, MAX_MEMBERS, &m, &n, err) != CORE_OK)
        return CORE_ERROR;
    if (n) {
        cJSON *map = cJSON_AddObjectToObject(obj, member);
        for (size_t i = 0; i < n; i++) {
            const char *k = core_form_get(m[i], "key"), *v = core_form_get(m[i], "value");
            /* An entry without its key, or a key given twice, is refused: it
             * is never dropped or overwritten in silence. */
            if (!k || !*k || cJSON_GetObjectItemCaseSensitive(map, k)) {
                core_err_set(err, 400, "InvalidParameter",
                             "Invalid parameter: %s Reason: entry %zu %s", member, i + 1,
                             !k || !*k ? "has no key" : "repeats a key given before");
                core_form_members_free(m, n);
                return CORE_ERROR;
            }
            cJSON_AddStringToObject(map, k, v ? v : "");
        }
    }
    core_form_members_free(m, n);
    return CORE_OK;
}

static int add_message_attributes(cJSON *obj, const core_form *form, core_err *err)
{
    core_form **m;
    size_t n;
    if (core_form_members(form, "MessageAttributes.entry", MAX_MEMBERS, &m, &n, err) != CORE_OK)
        return CORE_ERROR;
    if (n) {
        cJSON *map = cJSON_AddObjectToObject(obj, "MessageAttributes");
        for (size_t i = 0; i < n; i++) {
            const char *name = core_form_get(m[i], "Name");
            if (!name || !*name || cJSON_GetObjectItemCaseSensitive(map, name)) {
                char shown[72];
                snprintf(shown, sizeof shown, "%s", name ? name : "");
                for (char *c = shown; *c; c++)
                    if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                        *c = '?';
                if (!name || !*name)
                    core_err_set(err, 400, "ParameterValueInvalid",
                                 "The request must contain non-empty message attribute name.");
                else
                    core_err_set(err, 400, "ParameterValueInvalid",
                                 "The message attribute '%.64s' is given more than once.", shown);
                core_form_members_free(m, n);
                return CORE_ERROR;
            }
            cJSON *v = cJSON_AddObjectToObject(map, name);
            static const char *const parts[] = {"DataType", "StringValue", "BinaryValue"};
            for (size_t k = 0; k < 3; k++) {
                char key[32];
                snprintf(key, sizeof key, "Value.%s", parts[k]);
                const char *s = core_form_get(m[i], key);
                if (s)
                    cJSON_AddStringToObject(v, parts[k], s);
            }
        }
    }
    core_form_members_free(m, n);
    return CORE_OK;
}

cJSON *sns_form_request(const core_form *form, core_err *err)
{
    cJSON *req = cJSON_CreateObject();
    add_scalars(req, form);
    core_form **m = NULL;
    size_t n = 0;
    if (add_map(req, form, "Attributes", err) != CORE_OK ||
        add_message_attributes(req, form, err) != CORE_OK)
        goto fail;
    if (core_form_members(form, "Tags.member", MAX_MEMBERS, &m, &n, err) != CORE_OK)
        goto fail;
    if (n) {
        cJSON *tags = cJSON_AddArrayToObject(req, "Tags");
        for (size_t i = 0; i < n; i++) {
            cJSON *t = cJSON_CreateObject();
            add_scalars(t, m[i]);
            cJSON_AddItemToArray(tags, t);
        }
    }
    core_form_members_free(m, n);
    if (core_form_members(form, "TagKeys.member", MAX_MEMBERS, &m, &n, err) != CORE_OK)
        goto fail;
    if (n) {
        cJSON *keys = cJSON_AddArrayToObject(req, "TagKeys");
        for (size_t i = 0; i < n; i++) {
            const char *k = core_form_get(m[i], "");
            if (k)
                cJSON_AddItemToArray(keys, cJSON_CreateString(k));
        }
    }
    core_form_members_free(m, n);
    if (core_form_members(form, "PublishBatchRequestEntries.member", MAX_MEMBERS, &m, &n, err) !=
        CORE_OK)
        goto fail;
    if (n) {
        cJSON *entries = cJSON_AddArrayToObject(req, "PublishBatchRequestEntries");
        for (size_t i = 0; i < n; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToArray(entries, e);
            add_scalars(e, m[i]);
            if (add_message_attributes(e, m[i], err) != CORE_OK) {
                core_form_members_free(m, n);
                goto fail;
            }
        }
    }
    core_form_members_free(m, n);
    return req;
fail:
    cJSON_Delete(req);
    return NULL;
}

/* --- XML answers -------------------------------------------------------------- */

static void indent(core_xml *x, int depth)
{
    static const char spaces[] = "                                                            ";
    int n = depth * 2;
    if (n > (int)sizeof spaces - 1)
        n = (int)sizeof spaces - 1;
    char buf[sizeof spaces];
    memcpy(buf, spaces, (size_t)n);
    buf[n] = '\0';
    core_xml_raw(x, buf);
}

static void xml_scalar(core_xml *x, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        core_xml_text(x, v->valuestring, strlen(v->valuestring));
    } else if (cJSON_IsBool(v)) {
        core_xml_raw(x, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNumber(v)) {
        char num[32];
        snprintf(num, sizeof num, "%.17g", v->valuedouble);
        core_xml_raw(x, num);
    }
}

static void xml_value(core_xml *x, const char *tag, const cJSON *v, int depth);

static void xml_members(core_xml *x, const cJSON *obj, int depth)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, obj) {
        xml_value(x, c->string, c, depth);
    }
}

/* One member as <tag>...</tag> at depth: scalars inline, lists as <member>s,
 * the Attributes maps as <entry><key/><value/></entry>s. */
static void xml_value(core_xml *x, const char *tag, const cJSON *v, int depth)
{
    indent(x, depth);
    int is_map = cJSON_IsObject(v) && !strcmp(tag, "Attributes");
    if ((cJSON_IsArray(v) || cJSON_IsObject(v)) && !v->child) {
        core_xml_raw(x, "<");
        core_xml_raw(x, tag);
        core_xml_raw(x, "/>\n");
        return;
    }
    core_xml_open(x, tag, NULL);
    if (cJSON_IsArray(v)) {
        core_xml_raw(x, "\n");
        const cJSON *e;
        cJSON_ArrayForEach(e, v) {
            if (cJSON_IsObject(e)) {
                indent(x, depth + 1);
                core_xml_raw(x, "<member>\n");
                xml_members(x, e, depth + 2);
                indent(x, depth + 1);
                core_xml_raw(x, "</member>\n");
            } else {
                xml_value(x, "member", e, depth + 1);
            }
        }
        indent(x, depth);
    } else if (is_map) {
        core_xml_raw(x, "\n");
        const cJSON *e;
        cJSON_ArrayForEach(e, v) {
            indent(x, depth + 1);
            core_xml_raw(x, "<entry>\n");
            indent(x, depth + 2);
            core_xml_element(x, "key", e->string);
            core_xml_raw(x, "\n");
            indent(x, depth + 2);
            core_xml_open(x, "value", NULL);
            xml_scalar(x, e);
            core_xml_close(x, "value");
            core_xml_raw(x, "\n");
            indent(x, depth + 1);
            core_xml_raw(x, "</entry>\n");
        }
        indent(x, depth);
    } else if (cJSON_IsObject(v)) {
        core_xml_raw(x, "\n");
        xml_members(x, v, depth + 1);
        indent(x, depth);
    } else {
        xml_scalar(x, v);
    }
    core_xml_close(x, tag);
    core_xml_raw(x, "\n");
}

/* Operations whose output has no result wrapper in the API model. */
static int has_result(const char *action)
{
    static const char *const none[] = {"DeleteTopic", "SetTopicAttributes", "Unsubscribe",
                                       "SetSubscriptionAttributes"};
    for (size_t i = 0; i < sizeof none / sizeof *none; i++)
        if (!strcmp(action, none[i]))
            return 0;
    return 1;
}

char *sns_xml_answer(const char *action, const cJSON *out, const char *request_id,
                     size_t *len)
{
    char tag[96];
    core_xml x;
    core_xml_init(&x);
    snprintf(tag, sizeof tag, "%sResponse", action);
    core_xml_open(&x, tag, XMLNS);
    core_xml_raw(&x, "\n");
    if (has_result(action)) {
        char result[96];
        snprintf(result, sizeof result, "%sResult", action);
        indent(&x, 1);
        if (!out || !out->child) {
            core_xml_raw(&x, "<");
            core_xml_raw(&x, result);
            core_xml_raw(&x, "/>\n");
        } else {
            core_xml_open(&x, result, NULL);
            core_xml_raw(&x, "\n");
            xml_members(&x, out, 2);
            indent(&x, 1);
            core_xml_close(&x, result);
            core_xml_raw(&x, "\n");
        }
    }
    core_xml_raw(&x, "  <ResponseMetadata>\n    ");
    core_xml_element(&x, "RequestId", request_id);
    core_xml_raw(&x, "\n  </ResponseMetadata>\n");
    core_xml_close(&x, tag);
    core_xml_raw(&x, "\n");
    return core_xml_take(&x, len);
}

char *sns_xml_error(const core_err *err, const char *request_id, size_t *len)
{
    core_xml x;
    core_xml_init(&x);
    core_xml_open(&x, "ErrorResponse", XMLNS);
    core_xml_raw(&x, "\n  <Error>\n    ");
    core_xml_element(&x, "Type", err->status >= 500 ? "Receiver" : "Sender");
    core_xml_raw(&x, "\n    ");
    core_xml_element(&x, "Code", err->type);
    core_xml_raw(&x, "\n    ");
    core_xml_element(&x, "Message", err->message);
    core_xml_raw(&x, "\n  </Error>\n  ");
    core_xml_element(&x, "RequestId", request_id);
    core_xml_raw(&x, "\n</ErrorResponse>\n");
    return core_xml_take(&x, len);
}

/* --- answers ------------------------------------------------------------------ */

static int error_status(const core_err *err)
{
    return err->status >= 400 && err->status <= 599 ? err->status : 400;
}

static void answer_xml_error(core_http_response *resp, const core_http_request *req,
                             const core_err *err)
{
    size_t len = 0;
    char *body = sns_xml_error(err, req->request_id, &len);
    if (!body) {
        core_http_response_aws_error(resp, req, 500, "InternalError", "out of memory");
        return;
    }
    core_http_response_body(resp, error_status(err), "text/xml", body, len);
    core_http_response_header(resp, "x-amzn-RequestId", req->request_id, 0);
    free(body);
}

static void answer_json_error(core_http_response *resp, const core_http_request *req,
                              const core_err *err)
{
    const char *shape = sns_error_shape(err->type);
    /* A message quoting the caller's text ("'%.64s'") may have cut a UTF-8
     * sequence; cJSON would print the stray bytes, so they become '?'
     * (the XML writer puts U+FFFD in their place). */
    char message[sizeof err->message];
    snprintf(message, sizeof message, "%s", err->message);
    for (size_t i = 0, n = strlen(message); i < n;) {
        size_t len = 1;
        while (len <= 4 && i + len <= n && !core_xml_utf8_valid(message + i, len))
            len++;
        if (len > 4 || i + len > n) {
            message[i++] = '?';
            continue;
        }
        i += len;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "__type", shape);
    cJSON_AddStringToObject(body, "message", message);
    core_http_response_json(resp, error_status(err), "application/x-amz-json-1.0", body);
    cJSON_Delete(body);
    core_http_response_header(resp, "x-amzn-RequestId", req->request_id, 0);
    core_http_response_header(resp, "x-amzn-ErrorType", shape, 0);
    char q[160];
    snprintf(q, sizeof q, "%s;%s", err->type, err->status >= 500 ? "Receiver" : "Sender");
    core_http_response_header(resp, "x-amzn-query-error", q, 0);
}

/* --- deliveries --------------------------------------------------------------- */

static void deliver(sns_service *svc, cJSON *deliveries, const char *request_id)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, deliveries) {
        const char *channel = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "channel"));
        const char *to = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "to"));
        core_outbox_message msg = {
            .channel = channel,
            .to = to,
            .from = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "from")),
            .subject = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "subject")),
            .body = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "body")),
            .source = "sns",
        };
        core_err err;
        core_err_clear(&err);
        if (svc->outbox &&
            core_outbox_append(svc->outbox, core_clock_now_ms(svc->clock), &msg, NULL, &err) !=
                CORE_OK)
            core_log(CORE_LOG_WARN, "sns", request_id, "outbox: %s", err.message);
        const cJSON *event = cJSON_GetObjectItemCaseSensitive(d, "event");
        if (channel && !strcmp(channel, "lambda") && event && svc->emu) {
            lam_service *lam = lam_service_of(svc->emu);
            if (!lam) {
                core_log(CORE_LOG_WARN, "sns", request_id, "no Lambda service for %s", to);
                continue;
            }
            lam_result res;
            memset(&res, 0, sizeof res);
            lam_invoke_event(lam, to, event, &res);
            if (res.status != LAM_OK)
                core_log(CORE_LOG_WARN, "sns", request_id, "lambda delivery to %s failed: %s",
                         to, res.status == LAM_NOT_FOUND ? "no such function"
                                                         : res.error_type);
            lam_result_release(&res);
        }
    }
}

/* --- the handler -------------------------------------------------------------- */

static void handle(void *ctx, const core_http_request *req, core_http_response *resp)
{
    sns_service *svc = ctx;
    core_err err;
    core_err_clear(&err);
    const char *target = core_http_header_get(req, "X-Amz-Target");
    int json = target != NULL;
    cJSON *request = NULL;
    const char *action = NULL;
    char action_buf[64] = "";
    if (json) {
        action = !strncmp(target, TARGET_PREFIX ".", sizeof TARGET_PREFIX)
                     ? target + sizeof TARGET_PREFIX
                     : NULL;
        /* cJSON takes any bytes inside a string; AWS's JSON parsers take
         * only UTF-8, and the answers and envelopes must stay UTF-8. */
        request = !req->body_len ? cJSON_CreateObject()
                  : core_xml_utf8_valid(req->body, req->body_len)
                      ? cJSON_ParseWithLength(req->body, req->body_len)
                      : NULL;
        if (!cJSON_IsObject(request)) {
            cJSON_Delete(request);
            core_err_set(&err, 400, "SerializationException", "The body is not a JSON object");
            answer_json_error(resp, req, &err);
            return;
        }
    } else {
        int use_query = strcmp(req->method, "POST") != 0 || req->body_len == 0;
        core_form *form = NULL;
        const char *text = use_query ? req->raw_query : req->body;
        size_t len = use_query ? strlen(req->raw_query) : req->body_len;
        if (strcmp(req->method, "POST") != 0 && strcmp(req->method, "GET") != 0) {
            core_err_set(&err, 400, "InvalidAction", "SNS answers POST and GET only");
            answer_xml_error(resp, req, &err);
            return;
        }
        if (core_form_parse(text, len, &sns_form_limits, &form, &err) != CORE_OK) {
            answer_xml_error(resp, req, &err);
            return;
        }
        const char *a = core_form_get(form, "Action");
        if (a)
            snprintf(action_buf, sizeof action_buf, "%s", a);
        action = a ? action_buf : NULL;
        request = sns_form_request(form, &err);
        core_form_free(form);
        if (!request) {
            answer_xml_error(resp, req, &err);
            return;
        }
    }
    sns_op op = sns_op_find(action);
    if (!op) {
        cJSON_Delete(request);
        if (!action || !*action)
            core_err_set(&err, 400, "MissingAction",
                         "The request is missing an action or a required parameter.");
        else
            core_err_set(&err, 400, "InvalidAction",
                         "The action or operation requested is invalid. Verify that the action "
                         "is typed correctly.");
        json ? answer_json_error(resp, req, &err) : answer_xml_error(resp, req, &err);
        return;
    }
    const char *resource = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(request, "TopicArn"));
    if (!resource)
        resource = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(request, "SubscriptionArn"));
    if (core_fault_check(svc->faults, "sns", action, resource, &err)) {
        cJSON_Delete(request);
        json ? answer_json_error(resp, req, &err) : answer_xml_error(resp, req, &err);
        return;
    }
    cJSON *deliveries = cJSON_CreateArray();
    cJSON *out = NULL;
    int rc = sns_model_run(svc->model, op, request, &out, deliveries, &err);
    cJSON_Delete(request);
    if (rc != CORE_OK) {
        if (!err.type[0])
            core_err_set(&err, 500, "InternalError", "Internal error");
        core_log(err.status >= 500 ? CORE_LOG_ERROR : CORE_LOG_DEBUG, "sns", req->request_id,
                 "%s: %s", action, err.type);
        json ? answer_json_error(resp, req, &err) : answer_xml_error(resp, req, &err);
        cJSON_Delete(deliveries);
        return;
    }
    if (json) {
        core_http_response_json(resp, 200, "application/x-amz-json-1.0", out);
        core_http_response_header(resp, "x-amzn-RequestId", req->request_id, 0);
    } else {
        size_t len = 0;
        char *body = sns_xml_answer(action, out, req->request_id, &len);
        if (body) {
            core_http_response_body(resp, 200, "text/xml", body, len);
            core_http_response_header(resp, "x-amzn-RequestId", req->request_id, 0);
        } else {
            core_http_response_aws_error(resp, req, 500, "InternalError", "out of memory");
        }
        free(body);
    }
    cJSON_Delete(out);
    deliver(svc, deliveries, req->request_id);
    cJSON_Delete(deliveries);
}

int sns_service_start(core_emulator *emu, void **state, core_err *err)
{
    sns_service *svc = calloc(1, sizeof *svc);
    if (!svc)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    const core_config *cfg = core_emulator_config(emu);
    const core_template *tpl = core_emulator_template(emu);
    svc->emu = emu;
    svc->faults = core_emulator_faults(emu);
    svc->outbox = core_emulator_outbox(emu);
    svc->clock = core_emulator_clock(emu);
    if (sns_model_open(cfg->data_dir, core_template_region(tpl), svc->clock, &svc->model, err) !=
        CORE_OK) {
        free(svc);
        return CORE_ERROR;
    }
    sns_model_set_auto_confirm(svc->model, cfg->auto_confirm);
    cJSON *deliveries = cJSON_CreateArray();
    int rc = sns_model_seed_template(svc->model, tpl, deliveries, err);
    if (rc == CORE_OK)
        deliver(svc, deliveries, "start-up");
    cJSON_Delete(deliveries);
    if (rc != CORE_OK) {
        sns_service_stop(svc);
        return CORE_ERROR;
    }
    core_service route = {.name = "sns", .target_prefix = TARGET_PREFIX, .signing_name = "sns",
                          .handler = handle, .ctx = svc};
    if (core_router_add(core_emulator_router(emu), &route) != CORE_OK) {
        sns_service_stop(svc);
        return core_err_set(err, 500, "InternalFailure", "router full");
    }
    *state = svc;
    return CORE_OK;
}

void sns_service_stop(void *state)
{
    sns_service *svc = state;
    if (!svc)
        return;
    sns_model_close(svc->model);
    free(svc);
}
