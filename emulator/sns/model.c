/*
 * model.c — Amazon SNS topics, subscriptions and Publish. See model.h.
 *
 * Rules reproduced from the SNS API reference and botocore's service model
 * (sns/2010-03-31), with the error wording AWS answers:
 *   - topic names: 1..256 of A-Za-z0-9_- ("Invalid parameter: Topic Name"); a
 *     FIFO topic's name ends in ".fifo" and it is created with FifoTopic=true
 *     (a ".fifo" name without it is an invalid standard name); CreateTopic of
 *     an existing name is idempotent and answers the same ARN unless the
 *     attributes or tags asked for differ ("Topic already exists with
 *     different attributes" / "... tags");
 *   - DeleteTopic and Unsubscribe of something that does not exist succeed
 *     (both are idempotent on AWS); every other use of a missing topic is 404
 *     NotFound "Topic does not exist";
 *   - Subscribe: email, email-json, http and https wait for confirmation (a
 *     confirmation message with its token goes out; the answer is "pending
 *     confirmation" unless ReturnSubscriptionArn), sqs, lambda, sms, firehose
 *     and application are confirmed at once; the same topic, protocol and
 *     endpoint again answer the existing subscription;
 *   - Publish: one of TopicArn, TargetArn or PhoneNumber; Message non-empty;
 *     Subject UTF-8, 1..99 characters, no line breaks or control characters;
 *     message plus attributes at most 262,144 bytes; MessageStructure=json
 *     needs a JSON object with a "default" string; a FIFO topic needs
 *     MessageGroupId and a MessageDeduplicationId unless
 *     ContentBasedDeduplication (SHA-256 of the message), answers a
 *     SequenceNumber, and drops a duplicate inside 5 minutes (accepted, not
 *     delivered);
 *   - lists page 100 at a time with an opaque NextToken.
 *
 * Invariant: a subscription row belongs to an existing topic (DeleteTopic
 * deletes its subscriptions in the same savepoint).
 */
#include "sns/model.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/codec.h"
#include "core/http.h"
#include "core/log.h"
#include "core/store.h"
#include "core/xml.h"

#define ACCOUNT "000000000000"
#define PAGE 100
#define MAX_MESSAGE 262144
#define DEDUP_WINDOW_MS (5 * 60 * 1000)
#define TOPIC_NOT_FOUND "Topic does not exist"

struct sns_model {
    core_store *store;
    core_clock *clock;
    int auto_confirm;
    char region[64];
};

static const char *const migrations[] = {
    "CREATE TABLE topics (id INTEGER PRIMARY KEY, arn TEXT UNIQUE NOT NULL, name TEXT NOT NULL,"
    "  attributes TEXT NOT NULL, tags TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL DEFAULT 0, deleted_subs INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE subscriptions (id INTEGER PRIMARY KEY, arn TEXT UNIQUE NOT NULL,"
    "  topic_arn TEXT NOT NULL, protocol TEXT NOT NULL, endpoint TEXT NOT NULL,"
    "  pending INTEGER NOT NULL, token TEXT, attributes TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE INDEX subscriptions_topic ON subscriptions(topic_arn, id);"
    "CREATE TABLE dedup (topic_arn TEXT NOT NULL, dedup_id TEXT NOT NULL,"
    "  message_id TEXT NOT NULL, sequence TEXT, expires_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (topic_arn, dedup_id));",
    /* 2: expired deduplication ids are purged by age. */
    "CREATE INDEX dedup_expiry ON dedup(expires_ms);",
};

int sns_model_open(const char *dir, const char *region, core_clock *clock, sns_model **out,
                   core_err *err)
{
    sns_model *m = calloc(1, sizeof *m);
    if (!m)
        return core_err_set(err, 500, "InternalError", "out of memory");
    m->clock = clock;
    snprintf(m->region, sizeof m->region, "%s", region ? region : "us-east-1");
    if (core_store_open(dir, "sns", migrations, sizeof migrations / sizeof *migrations,
                        &m->store, err) != CORE_OK) {
        free(m);
        return CORE_ERROR;
    }
    *out = m;
    return CORE_OK;
}

void sns_model_close(sns_model *m)
{
    if (!m)
        return;
    core_store_close(m->store);
    free(m);
}

void sns_model_set_auto_confirm(sns_model *m, int on)
{
    m->auto_confirm = on;
}

int sns_model_run(sns_model *m, sns_op op, const cJSON *req, cJSON **out, cJSON *deliveries,
                  core_err *err)
{
    *out = NULL;
    int before = cJSON_GetArraySize(deliveries);
    core_store_lock(m->store);
    int rc = core_store_run(m->store, "SAVEPOINT sns_op", err);
    if (rc == CORE_OK) {
        rc = op(m, req, out, deliveries, err);
        if (rc == CORE_OK) {
            rc = core_store_run(m->store, "RELEASE sns_op", err);
        } else {
            core_store_run(m->store, "ROLLBACK TO sns_op", NULL);
            core_store_run(m->store, "RELEASE sns_op", NULL);
        }
    }
    core_store_unlock(m->store);
    if (rc != CORE_OK) {
        cJSON_Delete(*out);
        *out = NULL;
        while (cJSON_GetArraySize(deliveries) > before)
            cJSON_DeleteItemFromArray(deliveries, before);
    }
    return rc;
}

/* --- errors ------------------------------------------------------------------- */

static const struct {
    const char *code, *shape;
} error_shapes[] = {
    {"NotFound", "NotFoundException"},
    {"InvalidParameter", "InvalidParameterException"},
    {"ParameterValueInvalid", "InvalidParameterValueException"},
    {"AuthorizationError", "AuthorizationErrorException"},
    {"InternalError", "InternalErrorException"},
    {"InvalidState", "InvalidStateException"},
    {"TopicLimitExceeded", "TopicLimitExceededException"},
    {"SubscriptionLimitExceeded", "SubscriptionLimitExceededException"},
    {"TagLimitExceeded", "TagLimitExceededException"},
    {"BatchEntryIdsNotDistinct", "BatchEntryIdsNotDistinctException"},
    {"EmptyBatchRequest", "EmptyBatchRequestException"},
    {"TooManyEntriesInBatchRequest", "TooManyEntriesInBatchRequestException"},
    {"InvalidBatchEntryId", "InvalidBatchEntryIdException"},
    {"BatchRequestTooLong", "BatchRequestTooLongException"},
    {"Throttled", "ThrottledException"},
};

const char *sns_error_shape(const char *code)
{
    for (size_t i = 0; i < sizeof error_shapes / sizeof *error_shapes; i++)
        if (!strcmp(code, error_shapes[i].code))
            return error_shapes[i].shape;
    return code;
}

#define invalid(err, ...) core_err_set(err, 400, "InvalidParameter", "Invalid parameter: " __VA_ARGS__)

static int store_failed(core_err *err)
{
    if (!err || !err->type[0])
        return core_err_set(err, 500, "InternalError", "storage failure");
    return CORE_ERROR;
}

/* --- small helpers ----------------------------------------------------------- */

static int64_t now_ms(sns_model *m)
{
    return m->clock ? core_clock_now_ms(m->clock) : 0;
}

static const char *str_field(const cJSON *req, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A boolean member: true, or the Query protocol's "true" (any case). */
static int bool_field(const cJSON *req, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v);
    return cJSON_IsString(v) && !strcasecmp(v->valuestring, "true");
}

/* An attribute value as text: strings as they are, JSON booleans and numbers
 * (a template's typed properties) as CloudFormation passes them. Writes into
 * buf when it must format. NULL when absent or of another type. */
static const char *attr_text(const cJSON *v, char *buf, size_t len)
{
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "true" : "false";
    if (cJSON_IsNumber(v)) {
        snprintf(buf, len, "%.17g", v->valuedouble);
        return buf;
    }
    return NULL;
}

static cJSON *parse_text(const unsigned char *text)
{
    return text ? cJSON_Parse((const char *)text) : NULL;
}

static void random_hex(char *out, size_t bytes)
{
    unsigned char raw[64];
    if (bytes > sizeof raw)
        bytes = sizeof raw;
    if (RAND_bytes(raw, (int)bytes) != 1)
        memset(raw, 0x5a, bytes);
    for (size_t i = 0; i < bytes; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

static int valid_topic_name(const char *name, int fifo)
{
    size_t n = strlen(name);
    if (n < 1 || n > 256)
        return 0;
    size_t body = n;
    if (fifo) {
        if (n < 6 || strcmp(name + n - 5, ".fifo") != 0)
            return 0;
        body = n - 5;
    }
    for (size_t i = 0; i < body; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
            return 0;
    return 1;
}

/* arn:aws:sns:<region>:<12 digits>:<name>; the name (borrowed) or NULL. The
 * region must be the model's: SNS answers an ARN of another region (a client
 * configured for the wrong region) 400 "Invalid parameter: TopicArn", not
 * 404 NotFound. */
static const char *topic_arn_name(const sns_model *m, const char *arn)
{
    if (!arn || strncmp(arn, "arn:aws:sns:", 12) != 0)
        return NULL;
    const char *region = arn + 12;
    const char *c1 = strchr(region, ':');
    if (!c1 || c1 == region)
        return NULL;
    size_t rlen = strlen(m->region);
    if ((size_t)(c1 - region) != rlen || strncmp(region, m->region, rlen) != 0)
        return NULL;
    const char *acct = c1 + 1;
    const char *c2 = strchr(acct, ':');
    if (!c2 || c2 - acct != 12 || strspn(acct, "0123456789") != 12)
        return NULL;
    const char *name = c2 + 1;
    size_t n = strlen(name);
    int fifo = n > 5 && !strcmp(name + n - 5, ".fifo");
    return valid_topic_name(name, fifo) ? name : NULL;
}

/* --- topics ------------------------------------------------------------------- */

typedef struct topic {
    int64_t id;
    char *arn, *name;
    cJSON *attrs; /* what was set: DisplayName, Policy, FifoTopic, ... */
    cJSON *tags;  /* [{Key, Value}] */
    int64_t seq, deleted_subs;
    int fifo, cbd;
} topic;

static void topic_release(topic *t)
{
    free(t->arn);
    free(t->name);
    cJSON_Delete(t->attrs);
    cJSON_Delete(t->tags);
    memset(t, 0, sizeof *t);
}

/* 1 found, 0 not, CORE_ERROR on storage failure. */
static int topic_load(sns_model *m, const char *arn, topic *t, core_err *err)
{
    memset(t, 0, sizeof *t);
    sqlite3_stmt *st = core_store_stmt(m->store,
                                       "SELECT id, arn, name, attributes, tags, seq, deleted_subs "
                                       "FROM topics WHERE arn = ?", err);
    if (!st)
        return store_failed(err);
    sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : store_failed(err);
    }
    t->id = sqlite3_column_int64(st, 0);
    t->arn = strdup((const char *)sqlite3_column_text(st, 1));
    t->name = strdup((const char *)sqlite3_column_text(st, 2));
    t->attrs = parse_text(sqlite3_column_text(st, 3));
    t->tags = parse_text(sqlite3_column_text(st, 4));
    t->seq = sqlite3_column_int64(st, 5);
    t->deleted_subs = sqlite3_column_int64(st, 6);
    sqlite3_reset(st);
    if (!t->arn || !t->name || !cJSON_IsObject(t->attrs) || !cJSON_IsArray(t->tags)) {
        topic_release(t);
        return store_failed(err);
    }
    const char *fifo = str_field(t->attrs, "FifoTopic");
    const char *cbd = str_field(t->attrs, "ContentBasedDeduplication");
    t->fifo = fifo && !strcmp(fifo, "true");
    t->cbd = cbd && !strcmp(cbd, "true");
    return 1;
}

/* Load the topic at arn or fail as AWS does: a malformed ARN is
 * InvalidParameter naming the member, a missing topic 404 NotFound. */
static int topic_require(sns_model *m, const char *member, const char *arn, topic *t,
                         core_err *err)
{
    if (!arn)
        return invalid(err, "%s", member);
    if (!topic_arn_name(m, arn))
        return invalid(err, "%s", member);
    int rc = topic_load(m, arn, t, err);
    if (rc < 0)
        return CORE_ERROR;
    if (rc == 0)
        return core_err_set(err, 404, "NotFound", TOPIC_NOT_FOUND);
    return CORE_OK;
}

static int topic_save(sns_model *m, const topic *t, core_err *err)
{
    char *attrs = cJSON_PrintUnformatted(t->attrs), *tags = cJSON_PrintUnformatted(t->tags);
    sqlite3_stmt *st = core_store_stmt(m->store,
                                       "UPDATE topics SET attributes = ?, tags = ?, seq = ?, "
                                       "deleted_subs = ? WHERE id = ?", err);
    int rc = CORE_ERROR;
    if (st && attrs && tags) {
        sqlite3_bind_text(st, 1, attrs, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, tags, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, t->seq);
        sqlite3_bind_int64(st, 4, t->deleted_subs);
        sqlite3_bind_int64(st, 5, t->id);
        rc = sqlite3_step(st) == SQLITE_DONE ? CORE_OK : CORE_ERROR;
        sqlite3_reset(st);
    }
    free(attrs);
    free(tags);
    return rc == CORE_OK ? CORE_OK : store_failed(err);
}

/* Attributes CreateTopic and SetTopicAttributes take (FifoTopic at create only). */
static const char *const topic_attribute_names[] = {
    "DeliveryPolicy", "DisplayName", "Policy", "TracingConfig", "KmsMasterKeyId",
    "SignatureVersion", "ContentBasedDeduplication", "ArchivePolicy", "FifoThroughputScope",
    "DataProtectionPolicy", "HTTPSuccessFeedbackRoleArn", "HTTPSuccessFeedbackSampleRate",
    "HTTPFailureFeedbackRoleArn", "FirehoseSuccessFeedbackRoleArn",
    "FirehoseSuccessFeedbackSampleRate", "FirehoseFailureFeedbackRoleArn",
    "LambdaSuccessFeedbackRoleArn", "LambdaSuccessFeedbackSampleRate",
    "LambdaFailureFeedbackRoleArn", "ApplicationSuccessFeedbackRoleArn",
    "ApplicationSuccessFeedbackSampleRate", "ApplicationFailureFeedbackRoleArn",
    "SQSSuccessFeedbackRoleArn", "SQSSuccessFeedbackSampleRate", "SQSFailureFeedbackRoleArn",
};

static int known_topic_attribute(const char *name)
{
    for (size_t i = 0; i < sizeof topic_attribute_names / sizeof *topic_attribute_names; i++)
        if (!strcmp(name, topic_attribute_names[i]))
            return 1;
    return 0;
}

/* One attribute's value checked as SNS checks it. */
static int check_topic_attribute(const char *name, const char *value, int fifo, core_err *err)
{
    if (!known_topic_attribute(name))
        return invalid(err, "AttributeName");
    if (!strcmp(name, "Policy") || !strcmp(name, "DeliveryPolicy") ||
        !strcmp(name, "ArchivePolicy") || !strcmp(name, "DataProtectionPolicy")) {
        cJSON *doc = cJSON_Parse(value);
        int ok = cJSON_IsObject(doc);
        cJSON_Delete(doc);
        if (!ok)
            return invalid(err, "%s: failed to parse JSON", name);
    } else if (!strcmp(name, "ContentBasedDeduplication")) {
        if (!fifo)
            return invalid(err, "ContentBasedDeduplication Reason: Content based deduplication "
                           "can only be set for FIFO topics");
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
            return invalid(err, "ContentBasedDeduplication Reason: Invalid value [%.64s]. Must "
                           "be true or false.", value);
    } else if (!strcmp(name, "FifoThroughputScope")) {
        /* FIFO topics only, and one of two values; anything else would be
         * stored and then steer deduplication. */
        if (!fifo || (strcmp(value, "Topic") != 0 && strcmp(value, "MessageGroup") != 0))
            return invalid(err, "FifoThroughputScope");
    } else if (!strcmp(name, "TracingConfig")) {
        if (strcmp(value, "PassThrough") != 0 && strcmp(value, "Active") != 0)
            return invalid(err, "TracingConfig: Invalid value [%.64s]. Must be PassThrough or "
                           "Active.", value);
    } else if (!strcmp(name, "SignatureVersion")) {
        if (strcmp(value, "1") != 0 && strcmp(value, "2") != 0)
            return invalid(err, "SignatureVersion");
    } else if (!strcmp(name, "DisplayName")) {
        if (strlen(value) > 100)
            return invalid(err, "DisplayName");
    }
    return CORE_OK;
}

static int check_tags(const cJSON *tags, core_err *err)
{
    if (!tags)
        return CORE_OK;
    if (!cJSON_IsArray(tags))
        return invalid(err, "Tags");
    if (cJSON_GetArraySize(tags) > 50)
        return core_err_set(err, 400, "TagLimitExceeded",
                            "Could not complete request: tag quota of per resource exceeded");
    const cJSON *t;
    cJSON_ArrayForEach(t, tags) {
        const char *k = str_field(t, "Key"), *v = str_field(t, "Value");
        if (!k || !v || !*k || strlen(k) > 128 || strlen(v) > 256)
            return invalid(err, "Tags");
        /* One key twice in one request (AWS's answer; a key the topic has
         * already is overwritten by TagResource, not refused). */
        for (const cJSON *u = tags->child; u != t; u = u->next)
            if (!strcmp(str_field(u, "Key"), k))
                return invalid(err, "Duplicated keys are not allowed.");
    }
    return CORE_OK;
}

/* Tags as an object key -> value, to compare sets. */
static cJSON *tag_map(const cJSON *tags)
{
    cJSON *map = cJSON_CreateObject();
    const cJSON *t;
    cJSON_ArrayForEach(t, tags) {
        const char *k = str_field(t, "Key"), *v = str_field(t, "Value");
        if (!k || !v)
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(map, k);
        cJSON_AddStringToObject(map, k, v);
    }
    return map;
}

static int create_topic(sns_model *m, const char *name, const cJSON *attributes,
                        const cJSON *tags, char **arn_out, core_err *err)
{
    *arn_out = NULL;
    if (attributes && !cJSON_IsObject(attributes))
        return invalid(err, "Attributes");
    char buf[32];
    const char *fifo_text = attr_text(cJSON_GetObjectItemCaseSensitive(attributes, "FifoTopic"),
                                      buf, sizeof buf);
    if (fifo_text && strcasecmp(fifo_text, "true") != 0 && strcasecmp(fifo_text, "false") != 0)
        return invalid(err, "FifoTopic Reason: Invalid value [%.64s]. Must be true or false.",
                       fifo_text);
    int fifo = fifo_text && !strcasecmp(fifo_text, "true");
    if (!name)
        return invalid(err, "Topic Name");
    if (!valid_topic_name(name, fifo)) {
        if (fifo)
            return invalid(err, "Fifo Topic names must end with .fifo and must be made up of "
                           "only uppercase and lowercase ASCII letters, numbers, underscores, "
                           "and hyphens, and must be between 1 and 256 characters long.");
        return invalid(err, "Topic Name");
    }
    /* The attributes as stored: text values, FifoTopic only when true. */
    cJSON *stored = cJSON_CreateObject();
    const cJSON *a;
    cJSON_ArrayForEach(a, attributes) {
        if (!strcmp(a->string, "FifoTopic"))
            continue;
        char vbuf[32];
        const char *v = attr_text(a, vbuf, sizeof vbuf);
        if (!v) {
            cJSON_Delete(stored);
            return invalid(err, "%.64s", a->string);
        }
        if (check_topic_attribute(a->string, v, fifo, err) != CORE_OK) {
            cJSON_Delete(stored);
            return CORE_ERROR;
        }
        cJSON_AddStringToObject(stored, a->string, v);
    }
    if (fifo) {
        cJSON_AddStringToObject(stored, "FifoTopic", "true");
        if (!cJSON_GetObjectItemCaseSensitive(stored, "ContentBasedDeduplication"))
            cJSON_AddStringToObject(stored, "ContentBasedDeduplication", "false");
    }
    if (check_tags(tags, err) != CORE_OK) {
        cJSON_Delete(stored);
        return CORE_ERROR;
    }
    char arn[400];
    snprintf(arn, sizeof arn, "arn:aws:sns:%s:%s:%s", m->region, ACCOUNT, name);
    topic t;
    int found = topic_load(m, arn, &t, err);
    if (found < 0) {
        cJSON_Delete(stored);
        return CORE_ERROR;
    }
    if (found) {
        /* Idempotent: the same name answers the same ARN, unless asked for
         * other attributes or tags than the topic has. */
        int differs = 0;
        cJSON_ArrayForEach(a, stored) {
            const char *have = str_field(t.attrs, a->string);
            if (!have || strcmp(have, a->valuestring) != 0)
                differs = 1;
        }
        int tags_differ = 0;
        if (tags && cJSON_GetArraySize(tags)) {
            cJSON *want = tag_map(tags), *have = tag_map(t.tags);
            tags_differ = !cJSON_Compare(want, have, 1);
            cJSON_Delete(want);
            cJSON_Delete(have);
        }
        topic_release(&t);
        cJSON_Delete(stored);
        if (differs)
            return invalid(err, "Attributes Reason: Topic already exists with different "
                           "attributes");
        if (tags_differ)
            return invalid(err, "Tags Reason: Topic already exists with different tags");
        *arn_out = strdup(arn);
        return *arn_out ? CORE_OK : core_err_set(err, 500, "InternalError", "out of memory");
    }
    cJSON *tag_list = tags ? cJSON_Duplicate(tags, 1) : cJSON_CreateArray();
    char *attrs_text = cJSON_PrintUnformatted(stored), *tags_text = cJSON_PrintUnformatted(tag_list);
    cJSON_Delete(stored);
    cJSON_Delete(tag_list);
    sqlite3_stmt *st = core_store_stmt(m->store,
                                       "INSERT INTO topics(arn, name, attributes, tags, created_ms)"
                                       " VALUES (?, ?, ?, ?, ?)", err);
    int rc = CORE_ERROR;
    if (st && attrs_text && tags_text) {
        sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, attrs_text, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, tags_text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, now_ms(m));
        rc = sqlite3_step(st) == SQLITE_DONE ? CORE_OK : CORE_ERROR;
        sqlite3_reset(st);
    }
    free(attrs_text);
    free(tags_text);
    if (rc != CORE_OK)
        return store_failed(err);
    *arn_out = strdup(arn);
    return *arn_out ? CORE_OK : core_err_set(err, 500, "InternalError", "out of memory");
}

int sns_op_create_topic(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err)
{
    (void)d;
    char *arn = NULL;
    if (create_topic(m, str_field(req, "Name"), cJSON_GetObjectItemCaseSensitive(req, "Attributes"),
                     cJSON_GetObjectItemCaseSensitive(req, "Tags"), &arn, err) != CORE_OK)
        return CORE_ERROR;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "TopicArn", arn);
    free(arn);
    return CORE_OK;
}

int sns_op_delete_topic(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err)
{
    (void)d;
    const char *arn = str_field(req, "TopicArn");
    if (!arn || !topic_arn_name(m, arn))
        return invalid(err, "TopicArn");
    sqlite3_stmt *st = core_store_stmt(m->store, "DELETE FROM subscriptions WHERE topic_arn = ?",
                                       err);
    if (!st)
        return store_failed(err);
    sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    st = rc == SQLITE_DONE ? core_store_stmt(m->store, "DELETE FROM topics WHERE arn = ?", err)
                           : NULL;
    if (!st)
        return store_failed(err);
    sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    st = rc == SQLITE_DONE ? core_store_stmt(m->store, "DELETE FROM dedup WHERE topic_arn = ?",
                                             err)
                           : NULL;
    if (!st)
        return store_failed(err);
    sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_failed(err);
    *out = cJSON_CreateObject();
    return CORE_OK;
}

/* --- paging ------------------------------------------------------------------- */

/* NextToken: base64url of "<kind>:<last id>", opaque to clients. */
static char *page_token(char kind, int64_t last)
{
    char raw[40];
    int n = snprintf(raw, sizeof raw, "%c:%" PRId64, kind, last);
    return core_base64url_encode((const unsigned char *)raw, (size_t)n);
}

static int page_after(const cJSON *req, char kind, int64_t *after, core_err *err)
{
    *after = 0;
    const char *tok = str_field(req, "NextToken");
    if (!tok || !*tok)
        return CORE_OK;
    size_t n = 0;
    unsigned char *raw = core_base64url_decode(tok, strlen(tok), &n);
    int ok = raw && n >= 3 && n < 32 && raw[0] == (unsigned char)kind && raw[1] == ':';
    char *end = NULL;
    long long v = ok ? strtoll((const char *)raw + 2, &end, 10) : 0;
    ok = ok && end && *end == '\0' && v > 0;
    free(raw);
    if (!ok)
        return invalid(err, "NextToken");
    *after = v;
    return CORE_OK;
}

int sns_op_list_topics(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err)
{
    (void)d;
    int64_t after;
    if (page_after(req, 't', &after, err) != CORE_OK)
        return CORE_ERROR;
    sqlite3_stmt *st = core_store_stmt(m->store,
                                       "SELECT id, arn FROM topics WHERE id > ? ORDER BY id "
                                       "LIMIT 101", err);
    if (!st)
        return store_failed(err);
    sqlite3_bind_int64(st, 1, after);
    *out = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(*out, "Topics");
    int n = 0, rc;
    int64_t last = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == PAGE) {
            char *tok = page_token('t', last);
            if (tok)
                cJSON_AddStringToObject(*out, "NextToken", tok);
            free(tok);
            break;
        }
        last = sqlite3_column_int64(st, 0);
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "TopicArn", (const char *)sqlite3_column_text(st, 1));
        cJSON_AddItemToArray(list, t);
        n++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_failed(err);
    return CORE_OK;
}

/* --- topic attributes --------------------------------------------------------- */

static int count_subscriptions(sns_model *m, const char *topic_arn, int pending, int64_t *n,
                               core_err *err)
{
    sqlite3_stmt *st = core_store_stmt(m->store,
                                       "SELECT count(*) FROM subscriptions WHERE topic_arn = ? "
                                       "AND pending = ?", err);
    if (!st)
        return store_failed(err);
    sqlite3_bind_text(st, 1, topic_arn, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, pending);
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? CORE_OK : store_failed(err);
}

static char *default_policy(const char *arn)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "Version", "2008-10-17");
    cJSON_AddStringToObject(p, "Id", "__default_policy_ID");
    cJSON *sts = cJSON_AddArrayToObject(p, "Statement");
    cJSON *s = cJSON_CreateObject();
    cJSON_AddItemToArray(sts, s);
    cJSON_AddStringToObject(s, "Sid", "__default_statement_ID");
    cJSON_AddStringToObject(s, "Effect", "Allow");
    cJSON *pr = cJSON_AddObjectToObject(s, "Principal");
    cJSON_AddStringToObject(pr, "AWS", "*");
    static const char *const actions[] = {
        "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
        "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
        "SNS:ListSubscriptionsByTopic", "SNS:Publish",
    };
    cJSON *act = cJSON_AddArrayToObject(s, "Action");
    for (size_t i = 0; i < sizeof actions / sizeof *actions; i++)
        cJSON_AddItemToArray(act, cJSON_CreateString(actions[i]));
    cJSON_AddStringToObject(s, "Resource", arn);
    cJSON *cond = cJSON_AddObjectToObject(s, "Condition");
    cJSON *eq = cJSON_AddObjectToObject(cond, "StringEquals");
    cJSON_AddStringToObject(eq, "AWS:SourceOwner", ACCOUNT);
    char *text = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    return text;
}

#define EFFECTIVE_DELIVERY_POLICY                                                                 \
    "{\"http\":{\"defaultHealthyRetryPolicy\":{\"minDelayTarget\":20,\"maxDelayTarget\":20,"     \
    "\"numRetries\":3,\"numMaxDelayRetries\":0,\"numNoDelayRetries\":0,"                         \
    "\"numMinDelayRetries\":0,\"backoffFunction\":\"linear\"},"                                  \
    "\"disableSubscriptionOverrides\":false,\"defaultRequestPolicy\":{\"headerContentType\":"    \
    "\"text/plain; charset=UTF-8\"}}}"

int sns_op_get_topic_attributes(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                                core_err *err)
{
    (void)d;
    topic t;
    if (topic_require(m, "TopicArn", str_field(req, "TopicArn"), &t, err) != CORE_OK)
        return CORE_ERROR;
    int64_t confirmed = 0, pending = 0;
    if (count_subscriptions(m, t.arn, 0, &confirmed, err) != CORE_OK ||
        count_subscriptions(m, t.arn, 1, &pending, err) != CORE_OK) {
        topic_release(&t);
        return CORE_ERROR;
    }
    *out = cJSON_CreateObject();
    cJSON *a = cJSON_AddObjectToObject(*out, "Attributes");
    const char *policy = str_field(t.attrs, "Policy");
    char *dflt = policy ? NULL : default_policy(t.arn);
    cJSON_AddStringToObject(a, "Policy", policy ? policy : (dflt ? dflt : ""));
    free(dflt);
    cJSON_AddStringToObject(a, "Owner", ACCOUNT);
    char num[32];
    snprintf(num, sizeof num, "%" PRId64, pending);
    cJSON_AddStringToObject(a, "SubscriptionsPending", num);
    cJSON_AddStringToObject(a, "TopicArn", t.arn);
    const char *dp = str_field(t.attrs, "DeliveryPolicy");
    cJSON_AddStringToObject(a, "EffectiveDeliveryPolicy", dp ? dp : EFFECTIVE_DELIVERY_POLICY);
    snprintf(num, sizeof num, "%" PRId64, confirmed);
    cJSON_AddStringToObject(a, "SubscriptionsConfirmed", num);
    const char *dn = str_field(t.attrs, "DisplayName");
    cJSON_AddStringToObject(a, "DisplayName", dn ? dn : "");
    snprintf(num, sizeof num, "%" PRId64, t.deleted_subs);
    cJSON_AddStringToObject(a, "SubscriptionsDeleted", num);
    const cJSON *x;
    cJSON_ArrayForEach(x, t.attrs) {
        if (!strcmp(x->string, "Policy") || !strcmp(x->string, "DisplayName"))
            continue;
        if (cJSON_IsString(x))
            cJSON_AddStringToObject(a, x->string, x->valuestring);
    }
    topic_release(&t);
    return CORE_OK;
}

int sns_op_set_topic_attributes(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                                core_err *err)
{
    (void)d;
    const char *name = str_field(req, "AttributeName");
    const char *value = str_field(req, "AttributeValue");
    topic t;
    if (topic_require(m, "TopicArn", str_field(req, "TopicArn"), &t, err) != CORE_OK)
        return CORE_ERROR;
    int rc = CORE_OK;
    if (!name)
        rc = invalid(err, "AttributeName");
    else if (!strcmp(name, "FifoTopic"))
        rc = invalid(err, "AttributeName");
    else if (value && check_topic_attribute(name, value, t.fifo, err) != CORE_OK)
        rc = CORE_ERROR;
    else if (!value && !known_topic_attribute(name))
        rc = invalid(err, "AttributeName");
    if (rc == CORE_OK) {
        cJSON_DeleteItemFromObjectCaseSensitive(t.attrs, name);
        /* An absent or empty value clears the attribute (Policy and
         * DeliveryPolicy go back to their defaults). */
        if (value && *value)
            cJSON_AddStringToObject(t.attrs, name, value);
        else if (!strcmp(name, "DisplayName"))
            cJSON_AddStringToObject(t.attrs, name, "");
        rc = topic_save(m, &t, err);
    }
    topic_release(&t);
    if (rc == CORE_OK)
        *out = cJSON_CreateObject();
    return rc;
}

/* --- subscriptions ------------------------------------------------------------ */

static const char *const subscription_attribute_names[] = {
    "DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery",
    "RedrivePolicy", "SubscriptionRoleArn", "ReplayPolicy",
};

static int check_subscription_attribute(const char *name, const char *value, core_err *err)
{
    int known = 0;
    for (size_t i = 0; i < sizeof subscription_attribute_names /
                               sizeof *subscription_attribute_names; i++)
        known |= !strcmp(name, subscription_attribute_names[i]);
    if (!known)
        return invalid(err, "AttributeName");
    if (!strcmp(name, "RawMessageDelivery")) {
        if (strcasecmp(value, "true") != 0 && strcasecmp(value, "false") != 0)
            return invalid(err, "Attributes Reason: RawMessageDelivery: Invalid value [%.64s]. "
                           "Must be true or false.", value);
    } else if (!strcmp(name, "FilterPolicyScope")) {
        if (strcmp(value, "MessageAttributes") != 0 && strcmp(value, "MessageBody") != 0)
            return invalid(err, "Attributes Reason: FilterPolicyScope: Invalid value [%.64s]. "
                           "Please use either MessageBody or MessageAttributes", value);
    } else if (!strcmp(name, "FilterPolicy") || !strcmp(name, "DeliveryPolicy") ||
               !strcmp(name, "RedrivePolicy") || !strcmp(name, "ReplayPolicy")) {
        if (*value) {
            cJSON *doc = cJSON_Parse(value);
            int ok = cJSON_IsObject(doc);
            cJSON_Delete(doc);
            if (!ok)
                return invalid(err, "%s: failed to parse JSON.", name);
        }
    }
    return CORE_OK;
}

static int needs_confirmation(const char *protocol)
{
    return !strcmp(protocol, "email") || !strcmp(protocol, "email-json") ||
           !strcmp(protocol, "http") || !strcmp(protocol, "https");
}

static int valid_phone(const char *p)
{
    if (*p == '+')
        p++;
    size_t digits = 0;
    for (; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if (*p != '-' && *p != ' ')
            return 0;
    }
    return digits >= 2 && digits <= 15;
}

static int valid_email(const char *e)
{
    const char *at = strchr(e, '@');
    if (!at || at == e || !at[1] || strchr(at + 1, '@') || !strchr(at + 1, '.'))
        return 0;
    for (const char *p = e; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == ',')
            return 0;
    return 1;
}

/* The endpoint checked against the protocol, with AWS's wording. */
static int check_endpoint(const char *protocol, const char *endpoint, core_err *err)
{
    if (!strcmp(protocol, "http") || !strcmp(protocol, "https")) {
        size_t n = !strcmp(protocol, "http") ? 7 : 8;
        if (!endpoint || strncasecmp(endpoint, protocol, n - 3) != 0 || strncmp(endpoint + n - 3, "://", 3) != 0 || !endpoint[n])
            return invalid(err, "Endpoint must match the specified protocol");
        return CORE_OK;
    }
    if (!endpoint || !*endpoint)
        return invalid(err, "Endpoint");
    if (!strcmp(protocol, "email") || !strcmp(protocol, "email-json"))
        return valid_email(endpoint) ? CORE_OK : invalid(err, "Email address");
    if (!strcmp(protocol, "sms"))
        return valid_phone(endpoint) ? CORE_OK : invalid(err, "SMS endpoint");
    if (!strcmp(protocol, "sqs"))
        return !strncmp(endpoint, "arn:aws:sqs:", 12) ? CORE_OK
                                                     : invalid(err, "SQS endpoint ARN");
    if (!strcmp(protocol, "lambda"))
        return !strncmp(endpoint, "arn:aws:lambda:", 15) && strstr(endpoint, ":function:")
                   ? CORE_OK
                   : invalid(err, "Lambda endpoint ARN");
    if (!strcmp(protocol, "firehose"))
        return !strncmp(endpoint, "arn:aws:firehose:", 17) ? CORE_OK
                                                          : invalid(err, "Firehose endpoint ARN");
    if (!strcmp(protocol, "application"))
        return !strncmp(endpoint, "arn:aws:sns:", 12) && strstr(endpoint, ":endpoint/")
                   ? CORE_OK
                   : invalid(err, "Application endpoint ARN");
    return invalid(err, "Amazon SNS does not support this protocol string: %.64s", protocol);
}

/* A delivery object for the outbox (see model.h). */
static cJSON *delivery_new(cJSON *deliveries, const char *channel, const char *to,
                           const char *from, const char *subject, const char *body)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "channel", channel);
    cJSON_AddStringToObject(d, "to", to);
    if (from)
        cJSON_AddStringToObject(d, "from", from);
    if (subject)
        cJSON_AddStringToObject(d, "subject", subject);
    cJSON_AddStringToObject(d, "body", body ? body : "");
    cJSON_AddItemToArray(deliveries, d);
    return d;
}

static void signing_urls(sns_model *m, const char *sub_arn, char *cert, size_t cert_len,
                         char *unsub, size_t unsub_len)
{
    snprintf(cert, cert_len,
             "https://sns.%s.amazonaws.com/SimpleNotificationService-"
             "shoplocal0000000000000000000000.pem", m->region);
    snprintf(unsub, unsub_len,
             "https://sns.%s.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=%s", m->region,
             sub_arn);
}

/* SNS signs every message with its certificate's key; shoplocal has no such
 * key, so the Signature is the base64 of SHA-256 over the signed fields: the
 * right shape, verifiable by nobody (said in docs/EMULATOR.md). */
static void signature(const char *text, char out[64])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, strlen(text), md);
    EVP_EncodeBlock((unsigned char *)out, md, (int)sizeof md);
}

/* The confirmation SNS sends a pending subscription. */
static void confirmation_delivery(sns_model *m, const char *topic_arn, const char *sub_arn,
                                  const char *protocol, const char *endpoint, const char *token,
                                  const char *display, cJSON *deliveries)
{
    char url[1400];
    snprintf(url, sizeof url,
             "https://sns.%s.amazonaws.com/?Action=ConfirmSubscription&TopicArn=%s&Token=%s",
             m->region, topic_arn, token);
    char from[200];
    snprintf(from, sizeof from, "%.100s <no-reply@sns.amazonaws.com>",
             display && *display ? display : "AWS Notifications");
    if (!strcmp(protocol, "email")) {
        char body[3000];
        snprintf(body, sizeof body,
                 "You have chosen to subscribe to the topic: \n%s\n\nTo confirm this "
                 "subscription, click or visit the link below (If this was in error no action "
                 "is necessary): \nConfirm subscription: %s\n\nToken: %s\n", topic_arn, url,
                 token);
        cJSON *d = delivery_new(deliveries, "email", endpoint, from,
                                "AWS Notification - Subscription Confirmation", body);
        cJSON_AddStringToObject(d, "subscriptionArn", sub_arn);
        return;
    }
    char id[40], ts[32], cert[300], unsub[1200], sig[64];
    core_http_uuid(id);
    core_log_format_time(now_ms(m), ts, sizeof ts); /* SNS's envelope timestamp */
    signing_urls(m, sub_arn, cert, sizeof cert, unsub, sizeof unsub);
    cJSON *env = cJSON_CreateObject();
    cJSON_AddStringToObject(env, "Type", "SubscriptionConfirmation");
    cJSON_AddStringToObject(env, "MessageId", id);
    cJSON_AddStringToObject(env, "Token", token);
    cJSON_AddStringToObject(env, "TopicArn", topic_arn);
    char msg[600];
    snprintf(msg, sizeof msg, "You have chosen to subscribe to the topic %s.\nTo confirm the "
             "subscription, visit the SubscribeURL included in this message.", topic_arn);
    cJSON_AddStringToObject(env, "Message", msg);
    cJSON_AddStringToObject(env, "SubscribeURL", url);
    cJSON_AddStringToObject(env, "Timestamp", ts);
    cJSON_AddStringToObject(env, "SignatureVersion", "1");
    char signed_text[2000];
    snprintf(signed_text, sizeof signed_text, "%s\n%s\n%s\n%s", msg, id, token, ts);
    signature(signed_text, sig);
    cJSON_AddStringToObject(env, "Signature", sig);
    cJSON_AddStringToObject(env, "SigningCertURL", cert);
    char *text = cJSON_PrintUnformatted(env);
    cJSON_Delete(env);
    cJSON *d = delivery_new(deliveries, protocol, endpoint,
                            !strcmp(protocol, "email-json") ? from : NULL,
                            !strcmp(protocol, "email-json")
                                ? "AWS Notification - Subscription Confirmation"
                                : NULL,
                            text);
    cJSON_AddStringToObject(d, "subscriptionArn", sub_arn);
    free(text);
}

/* Subscribe protocol/endpoint to the topic; *arn_out (owned) the
 * subscription's ARN, *pending whether it waits for confirmation. */
static int subscribe(sns_model *m, const topic *t, const char *protocol, const char *endpoint,
                     const cJSON *attributes, char **arn_out, int *pending, cJSON *deliveries,
                     core_err *err)
{
    *arn_out = NULL;
    *pending = 0;
    if (!protocol || !*protocol)
        return invalid(err, "Protocol");
    char lower[32];
    size_t n = strlen(protocol);
    if (n >= sizeof lower)
        return invalid(err, "Amazon SNS does not support this protocol string: %.64s", protocol);
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)protocol[i]);
    if (check_endpoint(lower, endpoint, err) != CORE_OK)
        return CORE_ERROR;
    if (t->fifo && strcmp(lower, "sqs") != 0 && strcmp(lower, "lambda") != 0 &&
        strcmp(lower, "firehose") != 0)
        return invalid(err, "Invalid protocol type: %s", lower);
    if (attributes && !cJSON_IsObject(attributes))
        return invalid(err, "Attributes");
    cJSON *stored = cJSON_CreateObject();
    const cJSON *a;
    cJSON_ArrayForEach(a, attributes) {
        char buf[32];
        const char *v = attr_text(a, buf, sizeof buf);
        if (!v) {
            cJSON_Delete(stored);
            return invalid(err, "Attributes");
        }
        if (check_subscription_attribute(a->string, v, err) != CORE_OK) {
            cJSON_Delete(stored);
            return CORE_ERROR;
        }
        cJSON_AddStringToObject(stored, a->string, v);
    }
    if (!strcmp(lower, "firehose") && !cJSON_GetObjectItemCaseSensitive(stored, "SubscriptionRoleArn")) {
        cJSON_Delete(stored);
        return invalid(err, "SubscriptionRoleArn");
    }
    /* The same subscription again answers the one there is. */
    sqlite3_stmt *st = core_store_stmt(m->store,
                                       "SELECT arn, pending, attributes FROM subscriptions WHERE "
                                       "topic_arn = ? AND protocol = ? AND endpoint = ?", err);
    if (!st) {
        cJSON_Delete(stored);
        return store_failed(err);
    }
    sqlite3_bind_text(st, 1, t->arn, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, lower, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, endpoint, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        cJSON *have = parse_text(sqlite3_column_text(st, 2));
        int differs = 0;
        cJSON_ArrayForEach(a, stored) {
            const char *hv = str_field(have, a->string);
            if (!hv || strcmp(hv, a->valuestring) != 0)
                differs = 1;
        }
        *arn_out = strdup((const char *)sqlite3_column_text(st, 0));
        *pending = sqlite3_column_int(st, 1);
        sqlite3_reset(st);
        cJSON_Delete(have);
        cJSON_Delete(stored);
        if (differs) {
            free(*arn_out);
            *arn_out = NULL;
            return invalid(err, "Attributes Reason: Subscription already exists with different "
                           "attributes");
        }
        return *arn_out ? CORE_OK : core_err_set(err, 500, "InternalError", "out of memory");
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(stored);
        return store_failed(err);
    }
    char uuid[40], arn[600], token[129];
    core_http_uuid(uuid);
    snprintf(arn, sizeof arn, "%s:%s", t->arn, uuid);
    random_hex(token, 64);
    int wait = needs_confirmation(lower) && !m->auto_confirm;
    char *attrs_text = cJSON_PrintUnformatted(stored);
    cJSON_Delete(stored);
    st = core_store_stmt(m->store,
                         "INSERT INTO subscriptions(arn, topic_arn, protocol, endpoint, pending, "
                         "token, attributes, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", err);
    rc = CORE_ERROR;
    if (st && attrs_text) {
        sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, t->arn, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, lower, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, endpoint, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, wait);
        sqlite3_bind_text(st, 6, token, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, attrs_text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, now_ms(m));
        rc = sqlite3_step(st) == SQLITE_DONE ? CORE_OK : CORE_ERROR;
        sqlite3_reset(st);
    }
    free(attrs_text);
    if (rc != CORE_OK)
        return store_failed(err);
    if (wait)
        confirmation_delivery(m, t->arn, arn, lower, endpoint, token,
                              str_field(t->attrs, "DisplayName"), deliveries);
    *pending = wait;
    *arn_out = strdup(arn);
    return *arn_out ? CORE_OK : core_err_set(err, 500, "InternalError", "out of memory");
}

int sns_op_subscribe(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err)
{
    topic t;
    if (topic_require(m, "TopicArn", str_field(req, "TopicArn"), &t, err) != CORE_OK)
        return CORE_ERROR;
    char *arn = NULL;
    int pending = 0;
    int rc = subscribe(m, &t, str_field(req, "Protocol"), str_field(req, "Endpoint"),
                       cJSON_GetObjectItemCaseSensitive(req, "Attributes"), &arn, &pending, d,
                       err);
    topic_release(&t);
    if (rc != CORE_OK)
        return CORE_ERROR;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "SubscriptionArn",
                            pending && !bool_field(req, "ReturnSubscriptionArn")
                                ? "pending confirmation"
                                : arn);
    free(arn);
    return CORE_OK;
}

int sns_op_confirm_subscription(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                                core_err *err)
{
    (void)d;
    const char *token = str_field(req, "Token");
    topic t;
    if (topic_require(m, "TopicArn", str_field(req, "TopicArn"), &t, err) != CORE_OK)
        return CORE_ERROR;
    topic_release(&t);
    if (!token || !*token)
        return invalid(err, "Token");
    sqlite3_stmt *st = core_store_stmt(m->store,
                                       "SELECT id, arn FROM subscriptions WHERE topic_arn = ? "
                                       "AND token = ?", err);
    if (!st)
        return store_failed(err);
    sqlite3_bind_text(st, 1, str_field(req, "TopicArn"), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, token, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? invalid(err, "Token") : store_failed(err);
    }
    int64_t id = sqlite3_column_int64(st, 0);
    char *arn = strdup((const char *)sqlite3_column_text(st, 1));
    sqlite3_reset(st);
    st = core_store_stmt(m->store, "UPDATE subscriptions SET pending = 0 WHERE id = ?", err);
    if (!st || !arn) {
        free(arn);
        return store_failed(err);
    }
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(arn);
        return store_failed(err);
    }
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "SubscriptionArn", arn);
    free(arn);
    return CORE_OK;
}

/* arn:aws:sns:<region>:<acct>:<topic>:<id>: the topic ARN's length, or 0. */
static size_t subscription_topic_len(const sns_model *m, const char *arn)
{
    const char *last = arn ? strrchr(arn, ':') : NULL;
    if (!last || !last[1])
        return 0;
    size_t n = (size_t)(last - arn);
    char buf[400];
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, arn, n);
    buf[n] = '\0';
    return topic_arn_name(m, buf) ? n : 0;
}

int sns_op_unsubscribe(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err)
{
    (void)d;
    const char *arn = str_field(req, "SubscriptionArn");
    size_t tn = subscription_topic_len(m, arn);
    if (!tn)
        return invalid(err, "SubscriptionArn");
    sqlite3_stmt *st = core_store_stmt(m->store, "DELETE FROM subscriptions WHERE arn = ?", err);
    if (!st)
        return store_failed(err);
    sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_failed(err);
    if (sqlite3_changes(core_store_db(m->store)) > 0) {
        st = core_store_stmt(m->store, "UPDATE topics SET deleted_subs = deleted_subs + 1 "
                             "WHERE arn = substr(?, 1, ?)", err);
        if (!st)
            return store_failed(err);
        sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)tn);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return store_failed(err);
    }
    *out = cJSON_CreateObject();
    return CORE_OK;
}

static int list_subscriptions(sns_model *m, const cJSON *req, const char *topic_arn, cJSON **out,
                              core_err *err)
{
    int64_t after;
    if (page_after(req, topic_arn ? 'b' : 's', &after, err) != CORE_OK)
        return CORE_ERROR;
    sqlite3_stmt *st = core_store_stmt(
        m->store,
        topic_arn ? "SELECT id, arn, protocol, endpoint, topic_arn, pending FROM subscriptions "
                    "WHERE id > ? AND topic_arn = ? ORDER BY id LIMIT 101"
                  : "SELECT id, arn, protocol, endpoint, topic_arn, pending FROM subscriptions "
                    "WHERE id > ? ORDER BY id LIMIT 101",
        err);
    if (!st)
        return store_failed(err);
    sqlite3_bind_int64(st, 1, after);
    if (topic_arn)
        sqlite3_bind_text(st, 2, topic_arn, -1, SQLITE_STATIC);
    *out = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(*out, "Subscriptions");
    int n = 0, rc;
    int64_t last = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == PAGE) {
            char *tok = page_token(topic_arn ? 'b' : 's', last);
            if (tok)
                cJSON_AddStringToObject(*out, "NextToken", tok);
            free(tok);
            break;
        }
        last = sqlite3_column_int64(st, 0);
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "SubscriptionArn",
                                sqlite3_column_int(st, 5)
                                    ? "PendingConfirmation"
                                    : (const char *)sqlite3_column_text(st, 1));
        cJSON_AddStringToObject(s, "Owner", ACCOUNT);
        cJSON_AddStringToObject(s, "Protocol", (const char *)sqlite3_column_text(st, 2));
        cJSON_AddStringToObject(s, "Endpoint", (const char *)sqlite3_column_text(st, 3));
        cJSON_AddStringToObject(s, "TopicArn", (const char *)sqlite3_column_text(st, 4));
        cJSON_AddItemToArray(list, s);
        n++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_failed(err);
    return CORE_OK;
}

int sns_op_list_subscriptions(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                              core_err *err)
{
    (void)d;
    return list_subscriptions(m, req, NULL, out, err);
}

int sns_op_list_subscriptions_by_topic(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                                       core_err *err)
{
    (void)d;
    topic t;
    if (topic_require(m, "TopicArn", str_field(req, "TopicArn"), &t, err) != CORE_OK)
        return CORE_ERROR;
    int rc = list_subscriptions(m, req, t.arn, out, err);
    topic_release(&t);
    return rc;
}

typedef struct subscription {
    int64_t id;
    char *arn, *topic_arn, *protocol, *endpoint;
    int pending;
    cJSON *attrs;
} subscription;

static void subscription_release(subscription *s)
{
    free(s->arn);
    free(s->topic_arn);
    free(s->protocol);
    free(s->endpoint);
    cJSON_Delete(s->attrs);
    memset(s, 0, sizeof *s);
}

static int subscription_require(sns_model *m, const char *arn, subscription *s, core_err *err)
{
    memset(s, 0, sizeof *s);
    if (!subscription_topic_len(m, arn))
        return invalid(err, "SubscriptionArn");
    sqlite3_stmt *st = core_store_stmt(m->store,
                                       "SELECT id, arn, topic_arn, protocol, endpoint, pending, "
                                       "attributes FROM subscriptions WHERE arn = ?", err);
    if (!st)
        return store_failed(err);
    sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? core_err_set(err, 404, "NotFound",
                                                "Subscription does not exist")
                                 : store_failed(err);
    }
    s->id = sqlite3_column_int64(st, 0);
    s->arn = strdup((const char *)sqlite3_column_text(st, 1));
    s->topic_arn = strdup((const char *)sqlite3_column_text(st, 2));
    s->protocol = strdup((const char *)sqlite3_column_text(st, 3));
    s->endpoint = strdup((const char *)sqlite3_column_text(st, 4));
    s->pending = sqlite3_column_int(st, 5);
    s->attrs = parse_text(sqlite3_column_text(st, 6));
    sqlite3_reset(st);
    if (!s->arn || !s->topic_arn || !s->protocol || !s->endpoint || !cJSON_IsObject(s->attrs)) {
        subscription_release(s);
        return store_failed(err);
    }
    return CORE_OK;
}

int sns_op_get_subscription_attributes(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                                       core_err *err)
{
    (void)d;
    subscription s;
    if (subscription_require(m, str_field(req, "SubscriptionArn"), &s, err) != CORE_OK)
        return CORE_ERROR;
    *out = cJSON_CreateObject();
    cJSON *a = cJSON_AddObjectToObject(*out, "Attributes");
    cJSON_AddStringToObject(a, "Owner", ACCOUNT);
    cJSON_AddStringToObject(a, "RawMessageDelivery", "false");
    cJSON_AddStringToObject(a, "TopicArn", s.topic_arn);
    cJSON_AddStringToObject(a, "Endpoint", s.endpoint);
    cJSON_AddStringToObject(a, "Protocol", s.protocol);
    cJSON_AddStringToObject(a, "PendingConfirmation", s.pending ? "true" : "false");
    cJSON_AddStringToObject(a, "ConfirmationWasAuthenticated", s.pending ? "false" : "true");
    cJSON_AddStringToObject(a, "SubscriptionArn", s.arn);
    cJSON_AddStringToObject(a, "SubscriptionPrincipal", "arn:aws:iam::" ACCOUNT ":user/shoplocal");
    const cJSON *x;
    cJSON_ArrayForEach(x, s.attrs) {
        cJSON_DeleteItemFromObjectCaseSensitive(a, x->string);
        cJSON_AddStringToObject(a, x->string, x->valuestring);
    }
    if (cJSON_GetObjectItemCaseSensitive(s.attrs, "FilterPolicy") &&
        !cJSON_GetObjectItemCaseSensitive(s.attrs, "FilterPolicyScope"))
        cJSON_AddStringToObject(a, "FilterPolicyScope", "MessageAttributes");
    subscription_release(&s);
    return CORE_OK;
}

int sns_op_set_subscription_attributes(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                                       core_err *err)
{
    (void)d;
    const char *name = str_field(req, "AttributeName");
    const char *value = str_field(req, "AttributeValue");
    subscription s;
    if (subscription_require(m, str_field(req, "SubscriptionArn"), &s, err) != CORE_OK)
        return CORE_ERROR;
    int rc = !name ? invalid(err, "AttributeName")
                   : check_subscription_attribute(name, value ? value : "", err);
    if (rc == CORE_OK) {
        cJSON_DeleteItemFromObjectCaseSensitive(s.attrs, name);
        if (value && *value)
            cJSON_AddStringToObject(s.attrs, name, value);
        char *text = cJSON_PrintUnformatted(s.attrs);
        sqlite3_stmt *st = core_store_stmt(m->store,
                                           "UPDATE subscriptions SET attributes = ? WHERE id = ?",
                                           err);
        rc = CORE_ERROR;
        if (st && text) {
            sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, s.id);
            rc = sqlite3_step(st) == SQLITE_DONE ? CORE_OK : CORE_ERROR;
            sqlite3_reset(st);
        }
        free(text);
        if (rc != CORE_OK)
            store_failed(err);
    }
    subscription_release(&s);
    if (rc == CORE_OK)
        *out = cJSON_CreateObject();
    return rc;
}

/* --- Publish ------------------------------------------------------------------ */

/* 1 with *bytes the decoded size when s is padded base64 (the standard
 * alphabet, a length that is a multiple of 4, at most two '=' at the end),
 * else 0. */
static int base64_bytes(const char *s, size_t *bytes)
{
    size_t len = strlen(s), pad = 0;
    if (len % 4)
        return 0;
    while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i < len - pad; i++)
        if (core_base64_digit((unsigned char)s[i], 0) < 0)
            return 0;
    *bytes = len / 4 * 3 - pad;
    return 1;
}

/* MessageAttributes checked as SNS checks them; *size grows by each
 * attribute's name, type and value bytes (they count toward the 256 KiB). */
static int check_message_attributes(const cJSON *attrs, size_t *size, core_err *err)
{
    if (!attrs)
        return CORE_OK;
    if (!cJSON_IsObject(attrs))
        return invalid(err, "MessageAttributes");
    if (cJSON_GetArraySize(attrs) > 10)
        return invalid(err, "MessageAttributes Reason: Number of message attributes [%d] "
                       "exceeds the allowed maximum [10].", cJSON_GetArraySize(attrs));
    const cJSON *a;
    cJSON_ArrayForEach(a, attrs) {
        const char *name = a->string;
        size_t n = strlen(name);
        int bad = n == 0 || n > 256 || name[0] == '.' || name[n - 1] == '.' ||
                  strstr(name, "..") || !strncasecmp(name, "AWS.", 4) ||
                  !strncasecmp(name, "Amazon.", 7);
        for (size_t i = 0; i < n && !bad; i++)
            bad = !isalnum((unsigned char)name[i]) && !strchr("_-.", name[i]);
        if (bad)
            return invalid(err, "MessageAttributes Reason: Message attribute name '%.64s' has "
                           "an invalid character or starts or ends with a period, or uses a "
                           "reserved prefix.", name);
        const char *type = str_field(a, "DataType");
        if (!type || !*type)
            return core_err_set(err, 400, "ParameterValueInvalid",
                                "The message attribute '%.64s' must contain non-empty message "
                                "attribute type.", name);
        int is_string = !strncmp(type, "String", 6) && (!type[6] || type[6] == '.');
        int is_number = !strncmp(type, "Number", 6) && (!type[6] || type[6] == '.');
        int is_binary = !strncmp(type, "Binary", 6) && (!type[6] || type[6] == '.');
        if (!is_string && !is_number && !is_binary)
            return core_err_set(err, 400, "ParameterValueInvalid",
                                "The message attribute '%.64s' has an invalid message attribute "
                                "type, the set of supported type prefixes is Binary, Number, and "
                                "String.", name);
        const char *sv = str_field(a, "StringValue");
        const char *bv = str_field(a, "BinaryValue");
        if (is_binary) {
            if (!bv || !*bv)
                return core_err_set(err, 400, "ParameterValueInvalid",
                                    "The message attribute '%.64s' must contain non-empty message "
                                    "attribute value for message attribute type 'Binary'.", name);
            /* A blob travels as base64 (the Query form and the JSON form
             * alike); what counts toward the 256 KiB is the bytes it stands
             * for, and text that is not base64 is refused, not passed on. */
            size_t bytes = 0;
            if (!base64_bytes(bv, &bytes))
                return core_err_set(err, 400, "ParameterValueInvalid",
                                    "The message attribute '%.64s' has an invalid binary value: "
                                    "it is not base64.", name);
            *size += n + strlen(type) + bytes;
            continue;
        }
        if (!sv || !*sv)
            return core_err_set(err, 400, "ParameterValueInvalid",
                                "The message attribute '%.64s' must contain non-empty message "
                                "attribute value for message attribute type '%s'.", name,
                                is_number ? "Number" : "String");
        if (is_number) {
            char *end = NULL;
            double v = strtod(sv, &end);
            if (!end || *end || end == sv || isnan(v) || isinf(v) || fabs(v) > 1e126)
                return core_err_set(err, 400, "ParameterValueInvalid",
                                    "Could not cast message attribute '%.64s' value to number.",
                                    name);
        }
        if (!strcmp(type, "String.Array")) {
            cJSON *arr = cJSON_Parse(sv);
            int ok = cJSON_IsArray(arr);
            const cJSON *e;
            cJSON_ArrayForEach(e, arr) {
                if (cJSON_IsObject(e) || cJSON_IsArray(e))
                    ok = 0;
            }
            cJSON_Delete(arr);
            if (!ok)
                return core_err_set(err, 400, "ParameterValueInvalid",
                                    "The message attribute '%.64s' has an invalid value: "
                                    "String.Array must be a JSON array of strings, numbers, "
                                    "booleans or nulls.", name);
        }
        *size += n + strlen(type) + strlen(sv);
    }
    return CORE_OK;
}

/* "Subjects must be UTF-8 text with no line breaks or control characters, and
 * less than 100 characters long." */
static int check_subject(const char *subject, core_err *err)
{
    if (!core_xml_utf8_valid(subject, strlen(subject)))
        return invalid(err, "Subject");
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)subject; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return invalid(err, "Subject");
        chars += (*p & 0xC0) != 0x80;
    }
    if (chars == 0 || chars >= 100)
        return invalid(err, "Subject");
    return CORE_OK;
}

/* MessageGroupId and MessageDeduplicationId: "up to 128 alphanumeric
 * characters (a-z, A-Z, 0-9) and punctuation". */
static int check_message_id_text(const char *member, const char *v, core_err *err)
{
    size_t n = strlen(v);
    int ok = n >= 1 && n <= 128;
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)v[i]) || ispunct((unsigned char)v[i]);
    return ok ? CORE_OK : invalid(err, "%s", member);
}

/* --- filter policies ---------------------------------------------------------- */

/* One rule of a filter policy's list against one value (string, number). */
static int rule_matches(const cJSON *rule, const char *sval, double nval, int is_number,
                        int present)
{
    if (cJSON_IsString(rule))
        return present && sval && !strcmp(rule->valuestring, sval);
    if (cJSON_IsNumber(rule))
        return present && is_number && rule->valuedouble == nval;
    if (cJSON_IsBool(rule))
        return present && sval && !strcmp(sval, cJSON_IsTrue(rule) ? "true" : "false");
    if (cJSON_IsNull(rule))
        return present && !sval && !is_number;
    if (!cJSON_IsObject(rule))
        return 0;
    const cJSON *op = rule->child;
    if (!op)
        return 0;
    if (!strcmp(op->string, "exists"))
        return cJSON_IsTrue(op) ? present : !present;
    if (!present)
        return 0;
    if (!strcmp(op->string, "prefix"))
        return cJSON_IsString(op) && sval && !strncmp(sval, op->valuestring, strlen(op->valuestring));
    if (!strcmp(op->string, "suffix")) {
        size_t a = sval ? strlen(sval) : 0, b = cJSON_IsString(op) ? strlen(op->valuestring) : 0;
        return cJSON_IsString(op) && sval && a >= b && !strcmp(sval + a - b, op->valuestring);
    }
    if (!strcmp(op->string, "equals-ignore-case"))
        return cJSON_IsString(op) && sval && !strcasecmp(sval, op->valuestring);
    if (!strcmp(op->string, "anything-but")) {
        if (cJSON_IsArray(op)) {
            const cJSON *x;
            cJSON_ArrayForEach(x, op) {
                if (rule_matches(x, sval, nval, is_number, 1))
                    return 0;
            }
            return 1;
        }
        return !rule_matches(op, sval, nval, is_number, 1);
    }
    if (!strcmp(op->string, "numeric")) {
        if (!is_number || !cJSON_IsArray(op))
            return 0;
        int n = cJSON_GetArraySize(op);
        for (int i = 0; i + 1 < n; i += 2) {
            const cJSON *o = cJSON_GetArrayItem(op, i), *v = cJSON_GetArrayItem(op, i + 1);
            if (!cJSON_IsString(o) || !cJSON_IsNumber(v))
                return 0;
            double b = v->valuedouble;
            const char *s = o->valuestring;
            int ok = !strcmp(s, "=") ? nval == b : !strcmp(s, "<") ? nval < b
                   : !strcmp(s, "<=") ? nval <= b : !strcmp(s, ">") ? nval > b
                   : !strcmp(s, ">=") ? nval >= b : 0;
            if (!ok)
                return 0;
        }
        return 1;
    }
    return 0;
}

/* Any rule of the list matches the value (or, for an array value, any
 * element). */
static int rules_match(const cJSON *rules, const cJSON *value)
{
    const cJSON *r;
    if (cJSON_IsArray(value) && cJSON_GetArraySize(value) > 0) {
        const cJSON *e;
        cJSON_ArrayForEach(e, value) {
            if (rules_match(rules, e))
                return 1;
        }
        return 0;
    }
    char num[64];
    const char *s = cJSON_IsString(value) ? value->valuestring
                    : cJSON_IsBool(value) ? (cJSON_IsTrue(value) ? "true" : "false")
                                          : NULL;
    int is_number = cJSON_IsNumber(value);
    if (is_number) {
        snprintf(num, sizeof num, "%.17g", value->valuedouble);
        s = NULL;
    }
    if (!cJSON_IsArray(rules))
        return 0;
    cJSON_ArrayForEach(r, rules) {
        if (rule_matches(r, s, is_number ? value->valuedouble : 0, is_number, value != NULL))
            return 1;
    }
    return 0;
}

/* Every key of the policy matches (keys AND, a key's rules OR); nested
 * objects for a MessageBody scope. */
static int policy_matches(const cJSON *policy, const cJSON *doc)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, policy) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, k->string);
        if (cJSON_IsObject(k)) {
            if (!cJSON_IsObject(v) || !policy_matches(k, v))
                return 0;
        } else if (!rules_match(k, v)) {
            return 0;
        }
    }
    return 1;
}

/* The message attributes as a document a filter policy reads: String values
 * as strings, Number as numbers, String.Array as arrays; Binary is never
 * matched (as on AWS). */
static cJSON *attribute_document(const cJSON *attrs)
{
    cJSON *doc = cJSON_CreateObject();
    const cJSON *a;
    cJSON_ArrayForEach(a, attrs) {
        const char *type = str_field(a, "DataType"), *sv = str_field(a, "StringValue");
        if (!type || !sv)
            continue;
        if (!strncmp(type, "Number", 6))
            cJSON_AddNumberToObject(doc, a->string, strtod(sv, NULL));
        else if (!strcmp(type, "String.Array")) {
            cJSON *arr = cJSON_Parse(sv);
            if (arr)
                cJSON_AddItemToObject(doc, a->string, arr);
        } else if (!strncmp(type, "String", 6))
            cJSON_AddStringToObject(doc, a->string, sv);
    }
    return doc;
}

static int filter_passes(const cJSON *sub_attrs, const cJSON *msg_attrs, const char *message)
{
    const char *policy_text = str_field(sub_attrs, "FilterPolicy");
    if (!policy_text || !*policy_text)
        return 1;
    cJSON *policy = cJSON_Parse(policy_text);
    if (!cJSON_IsObject(policy)) {
        cJSON_Delete(policy);
        return 1;
    }
    const char *scope = str_field(sub_attrs, "FilterPolicyScope");
    cJSON *doc = scope && !strcmp(scope, "MessageBody") ? cJSON_Parse(message)
                                                        : attribute_document(msg_attrs);
    int ok = cJSON_IsObject(doc) && policy_matches(policy, doc);
    cJSON_Delete(doc);
    cJSON_Delete(policy);
    return ok;
}

/* --- envelopes ---------------------------------------------------------------- */

typedef struct publication {
    const topic *t;
    const char *message_id;
    const char *sequence; /* FIFO only */
    const char *subject;
    const char *message;      /* the default message */
    const cJSON *structured;  /* MessageStructure=json: the per-protocol object */
    const cJSON *attributes;  /* MessageAttributes, or NULL */
    char timestamp[32];
} publication;

static const char *message_for(const publication *p, const char *protocol)
{
    if (p->structured) {
        const char *v = str_field(p->structured, protocol);
        if (v)
            return v;
    }
    return p->message;
}

/* {name: {"Type", "Value"}} as SNS puts message attributes in envelopes. */
static cJSON *envelope_attributes(const cJSON *attrs)
{
    cJSON *out = cJSON_CreateObject();
    const cJSON *a;
    cJSON_ArrayForEach(a, attrs) {
        const char *type = str_field(a, "DataType");
        const char *v = str_field(a, "StringValue");
        if (!v)
            v = str_field(a, "BinaryValue");
        cJSON *e = cJSON_AddObjectToObject(out, a->string);
        cJSON_AddStringToObject(e, "Type", type ? type : "String");
        cJSON_AddStringToObject(e, "Value", v ? v : "");
    }
    return out;
}

/* The JSON notification SNS delivers to email-json, sqs, http(s), firehose. */
static char *notification_envelope(sns_model *m, const publication *p, const char *sub_arn,
                                   const char *protocol)
{
    char cert[300], unsub[1200], sig[64], signed_text[1024];
    signing_urls(m, sub_arn, cert, sizeof cert, unsub, sizeof unsub);
    const char *msg = message_for(p, protocol);
    cJSON *env = cJSON_CreateObject();
    cJSON_AddStringToObject(env, "Type", "Notification");
    cJSON_AddStringToObject(env, "MessageId", p->message_id);
    if (p->sequence)
        cJSON_AddStringToObject(env, "SequenceNumber", p->sequence);
    cJSON_AddStringToObject(env, "TopicArn", p->t->arn);
    if (p->subject)
        cJSON_AddStringToObject(env, "Subject", p->subject);
    cJSON_AddStringToObject(env, "Message", msg);
    cJSON_AddStringToObject(env, "Timestamp", p->timestamp);
    cJSON_AddStringToObject(env, "SignatureVersion", "1");
    snprintf(signed_text, sizeof signed_text, "%s\n%s\n%.300s\n%s", p->message_id, p->t->arn,
             p->subject ? p->subject : "", p->timestamp);
    signature(signed_text, sig);
    cJSON_AddStringToObject(env, "Signature", sig);
    cJSON_AddStringToObject(env, "SigningCertURL", cert);
    cJSON_AddStringToObject(env, "UnsubscribeURL", unsub);
    if (p->attributes && cJSON_GetArraySize(p->attributes))
        cJSON_AddItemToObject(env, "MessageAttributes", envelope_attributes(p->attributes));
    char *text = cJSON_PrintUnformatted(env);
    cJSON_Delete(env);
    return text;
}

/* The event a lambda subscription's function is invoked with ("Using Amazon
 * SNS with Lambda"). */
static cJSON *lambda_event(sns_model *m, const publication *p, const char *sub_arn)
{
    char cert[300], unsub[1200], sig[64], signed_text[1024];
    signing_urls(m, sub_arn, cert, sizeof cert, unsub, sizeof unsub);
    cJSON *ev = cJSON_CreateObject();
    cJSON *records = cJSON_AddArrayToObject(ev, "Records");
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToArray(records, r);
    cJSON_AddStringToObject(r, "EventSource", "aws:sns");
    cJSON_AddStringToObject(r, "EventVersion", "1.0");
    cJSON_AddStringToObject(r, "EventSubscriptionArn", sub_arn);
    cJSON *sns = cJSON_AddObjectToObject(r, "Sns");
    cJSON_AddStringToObject(sns, "Type", "Notification");
    cJSON_AddStringToObject(sns, "MessageId", p->message_id);
    cJSON_AddStringToObject(sns, "TopicArn", p->t->arn);
    if (p->subject)
        cJSON_AddStringToObject(sns, "Subject", p->subject);
    else
        cJSON_AddNullToObject(sns, "Subject");
    cJSON_AddStringToObject(sns, "Message", message_for(p, "lambda"));
    cJSON_AddStringToObject(sns, "Timestamp", p->timestamp);
    cJSON_AddStringToObject(sns, "SignatureVersion", "1");
    snprintf(signed_text, sizeof signed_text, "%s\n%s\n%.300s\n%s", p->message_id, p->t->arn,
             p->subject ? p->subject : "", p->timestamp);
    signature(signed_text, sig);
    cJSON_AddStringToObject(sns, "Signature", sig);
    cJSON_AddStringToObject(sns, "SigningCertUrl", cert);
    cJSON_AddStringToObject(sns, "UnsubscribeUrl", unsub);
    cJSON_AddItemToObject(sns, "MessageAttributes", envelope_attributes(p->attributes));
    if (p->sequence)
        cJSON_AddStringToObject(sns, "SequenceNumber", p->sequence);
    return ev;
}

/* One delivery per confirmed subscription whose filter policy passes, and
 * the topic-level record. */
static int fan_out(sns_model *m, const publication *p, cJSON *deliveries, core_err *err)
{
    const char *display = str_field(p->t->attrs, "DisplayName");
    char from[200];
    snprintf(from, sizeof from, "%.100s <no-reply@sns.amazonaws.com>",
             display && *display ? display : "AWS Notifications");
    cJSON *rec = delivery_new(deliveries, "topic", p->t->arn, NULL, p->subject, p->message);
    cJSON_AddStringToObject(rec, "messageId", p->message_id);
    sqlite3_stmt *st = core_store_stmt(m->store,
                                       "SELECT arn, protocol, endpoint, attributes FROM "
                                       "subscriptions WHERE topic_arn = ? AND pending = 0 "
                                       "ORDER BY id", err);
    if (!st)
        return store_failed(err);
    sqlite3_bind_text(st, 1, p->t->arn, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *arn = (const char *)sqlite3_column_text(st, 0);
        const char *protocol = (const char *)sqlite3_column_text(st, 1);
        const char *endpoint = (const char *)sqlite3_column_text(st, 2);
        cJSON *attrs = parse_text(sqlite3_column_text(st, 3));
        const char *msg = message_for(p, protocol);
        if (!filter_passes(attrs, p->attributes, msg)) {
            cJSON_Delete(attrs);
            continue;
        }
        const char *raw = str_field(attrs, "RawMessageDelivery");
        int raw_delivery = raw && !strcasecmp(raw, "true");
        cJSON *d = NULL;
        if (!strcmp(protocol, "email")) {
            char unsub[1200], cert[300];
            signing_urls(m, arn, cert, sizeof cert, unsub, sizeof unsub);
            /* Room for the message, the footer's fixed text (under 500
             * bytes), the region, the ARN and the endpoint (an address of
             * any length), so nothing is cut. */
            size_t len = strlen(msg) + strlen(m->region) + strlen(arn) + strlen(endpoint) + 600;
            char *body = malloc(len);
            if (body) {
                snprintf(body, len,
                         "%s\n\n--\nIf you wish to stop receiving notifications from this "
                         "topic, please click or visit the link below to unsubscribe:\n"
                         "https://sns.%s.amazonaws.com/unsubscribe.html?SubscriptionArn=%s&"
                         "Endpoint=%s\n\nPlease do not reply directly to this email. If you have "
                         "any questions or comments regarding this email, please contact us at "
                         "https://aws.amazon.com/support",
                         msg, m->region, arn, endpoint);
                d = delivery_new(deliveries, "email", endpoint, from,
                                 p->subject ? p->subject : "AWS Notification Message", body);
                free(body);
            }
        } else if (!strcmp(protocol, "sms")) {
            d = delivery_new(deliveries, "sms", endpoint, display && *display ? display : NULL,
                             NULL, msg);
        } else if (!strcmp(protocol, "lambda")) {
            cJSON *ev = lambda_event(m, p, arn);
            char *text = cJSON_PrintUnformatted(ev);
            d = delivery_new(deliveries, "lambda", endpoint, NULL, p->subject, text);
            cJSON_AddItemToObject(d, "event", ev);
            free(text);
        } else {
            char *text = raw_delivery && strcmp(protocol, "email-json") != 0
                             ? strdup(msg)
                             : notification_envelope(m, p, arn, protocol);
            d = delivery_new(deliveries, protocol, endpoint,
                             !strcmp(protocol, "email-json") ? from : NULL,
                             !strcmp(protocol, "email-json")
                                 ? (p->subject ? p->subject : "AWS Notification Message")
                                 : p->subject,
                             text);
            free(text);
        }
        if (d) {
            cJSON_AddStringToObject(d, "subscriptionArn", arn);
            cJSON_AddStringToObject(d, "messageId", p->message_id);
        }
        cJSON_Delete(attrs);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CORE_OK : store_failed(err);
}

/* Validate and publish one message (Publish, or one PublishBatch entry) to
 * topic t, or to phone when t is NULL. *result gets {MessageId,
 * SequenceNumber?}. */
static int publish_one(sns_model *m, topic *t, const char *phone, const cJSON *req,
                       cJSON **result, cJSON *deliveries, core_err *err)
{
    *result = NULL;
    const cJSON *mv = cJSON_GetObjectItemCaseSensitive(req, "Message");
    const char *message = cJSON_IsString(mv) ? mv->valuestring : NULL;
    if (!message || !*message)
        return invalid(err, "Empty message");
    const char *subject = str_field(req, "Subject");
    if (cJSON_GetObjectItemCaseSensitive(req, "Subject") && !subject)
        return invalid(err, "Subject");
    if (subject && check_subject(subject, err) != CORE_OK)
        return CORE_ERROR;
    size_t size = strlen(message);
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(req, "MessageAttributes");
    if (check_message_attributes(attrs, &size, err) != CORE_OK)
        return CORE_ERROR;
    if (size > MAX_MESSAGE)
        return invalid(err, "Message too long");
    const char *structure = str_field(req, "MessageStructure");
    cJSON *structured = NULL;
    if (structure) {
        if (strcmp(structure, "json") != 0)
            return invalid(err, "MessageStructure");
        structured = cJSON_Parse(message);
        if (!cJSON_IsObject(structured)) {
            cJSON_Delete(structured);
            return invalid(err, "Message Structure - JSON message body failed to parse");
        }
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(structured, "default"))) {
            cJSON_Delete(structured);
            return invalid(err, "Message Structure - No default entry in JSON message body");
        }
    }
    const char *group = str_field(req, "MessageGroupId");
    const char *dedup = str_field(req, "MessageDeduplicationId");
    if ((group && check_message_id_text("MessageGroupId", group, err) != CORE_OK) ||
        (dedup && check_message_id_text("MessageDeduplicationId", dedup, err) != CORE_OK)) {
        cJSON_Delete(structured);
        return CORE_ERROR;
    }
    char id[40];
    core_http_uuid(id);
    if (!t) {
        /* A text message straight to a phone number. */
        delivery_new(deliveries, "sms", phone, NULL, NULL,
                     structured ? str_field(structured, "sms") ? str_field(structured, "sms")
                                                               : str_field(structured, "default")
                                : message);
        cJSON_Delete(structured);
        *result = cJSON_CreateObject();
        cJSON_AddStringToObject(*result, "MessageId", id);
        return CORE_OK;
    }
    char dedup_hex[65], dedup_scoped[300];
    char sequence[32];
    int duplicate = 0;
    if (t->fifo) {
        if (!group || !*group) {
            cJSON_Delete(structured);
            return invalid(err, "The MessageGroupId parameter is required for FIFO topics");
        }
        if (!dedup || !*dedup) {
            if (!t->cbd) {
                cJSON_Delete(structured);
                return invalid(err, "The topic should either have ContentBasedDeduplication "
                               "enabled or MessageDeduplicationId provided explicitly");
            }
            unsigned char md[SHA256_DIGEST_LENGTH];
            SHA256((const unsigned char *)message, strlen(message), md);
            for (size_t i = 0; i < sizeof md; i++)
                snprintf(dedup_hex + 2 * i, 3, "%02x", md[i]);
            dedup = dedup_hex;
        }
        /* FifoThroughputScope MessageGroup scopes deduplication to the group. */
        const char *scope = str_field(t->attrs, "FifoThroughputScope");
        if (scope && !strcmp(scope, "MessageGroup")) {
            snprintf(dedup_scoped, sizeof dedup_scoped, "%s\n%s", group, dedup);
            dedup = dedup_scoped;
        }
        /* Ids past their window are purged (by the expiry index, so the cost
         * is the rows that expired): a stream of unique ids keeps at most 5
         * minutes' worth, not every id ever sent. */
        sqlite3_stmt *st = core_store_stmt(m->store, "DELETE FROM dedup WHERE expires_ms <= ?",
                                           err);
        int purged = st ? sqlite3_bind_int64(st, 1, now_ms(m)) == SQLITE_OK &&
                              sqlite3_step(st) == SQLITE_DONE
                        : 0;
        if (st)
            sqlite3_reset(st);
        if (!purged) {
            cJSON_Delete(structured);
            return store_failed(err);
        }
        /* Inside the 5-minute window a duplicate is accepted and dropped. */
        st = core_store_stmt(m->store,
                                           "SELECT message_id, sequence FROM dedup WHERE "
                                           "topic_arn = ? AND dedup_id = ? AND expires_ms > ?",
                                           err);
        if (!st) {
            cJSON_Delete(structured);
            return store_failed(err);
        }
        sqlite3_bind_text(st, 1, t->arn, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, dedup, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now_ms(m));
        if (sqlite3_step(st) == SQLITE_ROW) {
            duplicate = 1;
            snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(st, 0));
            snprintf(sequence, sizeof sequence, "%s", (const char *)sqlite3_column_text(st, 1));
        }
        sqlite3_reset(st);
        if (!duplicate) {
            t->seq++;
            snprintf(sequence, sizeof sequence, "1%019" PRId64, t->seq);
            st = core_store_stmt(m->store,
                                 "INSERT OR REPLACE INTO dedup(topic_arn, dedup_id, message_id, "
                                 "sequence, expires_ms) VALUES (?, ?, ?, ?, ?)", err);
            int rc = CORE_ERROR;
            if (st) {
                sqlite3_bind_text(st, 1, t->arn, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, dedup, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 4, sequence, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 5, now_ms(m) + DEDUP_WINDOW_MS);
                rc = sqlite3_step(st) == SQLITE_DONE ? CORE_OK : CORE_ERROR;
                sqlite3_reset(st);
            }
            if (rc != CORE_OK || topic_save(m, t, err) != CORE_OK) {
                cJSON_Delete(structured);
                return store_failed(err);
            }
        }
    } else if (dedup) {
        /* A standard topic takes a MessageGroupId (it is forwarded to SQS
         * standard queues' fair queues) but no MessageDeduplicationId. */
        cJSON_Delete(structured);
        return invalid(err, "MessageDeduplicationId Reason: The request includes "
                       "MessageDeduplicationId parameter that is not valid for this topic type");
    }
    int rc = CORE_OK;
    if (!duplicate) {
        publication p = {.t = t, .message_id = id, .sequence = t->fifo ? sequence : NULL,
                         .subject = subject,
                         .message = structured ? str_field(structured, "default") : message,
                         .structured = structured, .attributes = attrs};
        /* SNS's envelope timestamp */
        core_log_format_time(now_ms(m), p.timestamp, sizeof p.timestamp);
        rc = fan_out(m, &p, deliveries, err);
    }
    cJSON_Delete(structured);
    if (rc != CORE_OK)
        return CORE_ERROR;
    *result = cJSON_CreateObject();
    cJSON_AddStringToObject(*result, "MessageId", id);
    if (t->fifo)
        cJSON_AddStringToObject(*result, "SequenceNumber", sequence);
    return CORE_OK;
}

int sns_op_publish(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err)
{
    const char *topic_arn = str_field(req, "TopicArn");
    const char *target = str_field(req, "TargetArn");
    const char *phone = str_field(req, "PhoneNumber");
    int given = (topic_arn != NULL) + (target != NULL) + (phone != NULL);
    if (!given)
        return invalid(err, "TopicArn or TargetArn Reason: no value for required parameter");
    if (given > 1)
        return invalid(err, "%s", phone ? "PhoneNumber Reason: PhoneNumber cannot be combined "
                                          "with TopicArn or TargetArn"
                                        : "TopicArn Reason: Only one of TopicArn or TargetArn "
                                          "may be given");
    if (phone) {
        if (*phone != '+' || !valid_phone(phone))
            return invalid(err, "PhoneNumber Reason: %.64s is not valid to publish to", phone);
        return publish_one(m, NULL, phone, req, out, d, err);
    }
    const char *arn = topic_arn ? topic_arn : target;
    if (target && strstr(target, ":endpoint/"))
        return core_err_set(err, 404, "NotFound", "Endpoint does not exist");
    topic t;
    if (topic_require(m, topic_arn ? "TopicArn" : "TargetArn", arn, &t, err) != CORE_OK)
        return CORE_ERROR;
    int rc = publish_one(m, &t, NULL, req, out, d, err);
    topic_release(&t);
    return rc;
}

static int valid_batch_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 80)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_')
            return 0;
    return 1;
}

int sns_op_publish_batch(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err)
{
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(req, "PublishBatchRequestEntries");
    topic t;
    if (topic_require(m, "TopicArn", str_field(req, "TopicArn"), &t, err) != CORE_OK)
        return CORE_ERROR;
    int n = cJSON_IsArray(entries) ? cJSON_GetArraySize(entries) : 0;
    int rc = CORE_OK;
    if (n == 0)
        rc = core_err_set(err, 400, "EmptyBatchRequest",
                          "The batch request doesn't contain any entries.");
    else if (n > 10)
        rc = core_err_set(err, 400, "TooManyEntriesInBatchRequest",
                          "The batch request contains more entries than permissible.");
    size_t total = 0;
    for (int i = 0; rc == CORE_OK && i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(entries, i);
        const char *id = str_field(e, "Id");
        if (!id || !valid_batch_id(id)) {
            rc = core_err_set(err, 400, "InvalidBatchEntryId",
                              "A batch entry id can only contain alphanumeric characters, "
                              "hyphens and underscores. It can be at most 80 letters long.");
            break;
        }
        for (int j = 0; j < i; j++) {
            const char *other = str_field(cJSON_GetArrayItem(entries, j), "Id");
            if (other && !strcmp(other, id))
                rc = core_err_set(err, 400, "BatchEntryIdsNotDistinct",
                                  "Two or more batch entries in the request have the same Id.");
        }
        const char *msg = str_field(e, "Message");
        total += msg ? strlen(msg) : 0;
        /* Attributes count toward the limit, as they do for one Publish; their
         * errors are the entry's own, reported below. */
        core_err ignored;
        check_message_attributes(cJSON_GetObjectItemCaseSensitive(e, "MessageAttributes"), &total,
                                 &ignored);
    }
    if (rc == CORE_OK && total > MAX_MESSAGE)
        rc = core_err_set(err, 400, "BatchRequestTooLong",
                          "The length of all the messages put together is more than the limit.");
    if (rc != CORE_OK) {
        topic_release(&t);
        return CORE_ERROR;
    }
    *out = cJSON_CreateObject();
    cJSON *ok = cJSON_AddArrayToObject(*out, "Successful");
    cJSON *failed = cJSON_AddArrayToObject(*out, "Failed");
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(entries, i);
        cJSON *res = NULL;
        core_err one;
        core_err_clear(&one);
        if (publish_one(m, &t, NULL, e, &res, d, &one) == CORE_OK) {
            cJSON *s = cJSON_CreateObject();
            cJSON_AddStringToObject(s, "Id", str_field(e, "Id"));
            cJSON_AddStringToObject(s, "MessageId", str_field(res, "MessageId"));
            const char *seq = str_field(res, "SequenceNumber");
            if (seq)
                cJSON_AddStringToObject(s, "SequenceNumber", seq);
            cJSON_AddItemToArray(ok, s);
        } else if (one.status >= 500) {
            cJSON_Delete(res);
            *err = one;
            topic_release(&t);
            return CORE_ERROR;
        } else {
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "Id", str_field(e, "Id"));
            cJSON_AddStringToObject(f, "Code", one.type);
            cJSON_AddStringToObject(f, "Message", one.message);
            cJSON_AddBoolToObject(f, "SenderFault", 1);
            cJSON_AddItemToArray(failed, f);
        }
        cJSON_Delete(res);
    }
    topic_release(&t);
    return CORE_OK;
}

/* --- tags --------------------------------------------------------------------- */

int sns_op_list_tags_for_resource(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                                  core_err *err)
{
    (void)d;
    topic t;
    const char *arn = str_field(req, "ResourceArn");
    if (!arn || !topic_arn_name(m, arn))
        return invalid(err, "ResourceArn");
    int rc = topic_load(m, arn, &t, err);
    if (rc <= 0)
        return rc < 0 ? CORE_ERROR
                      : core_err_set(err, 404, "ResourceNotFound", "Resource does not exist");
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "Tags", cJSON_Duplicate(t.tags, 1));
    topic_release(&t);
    return CORE_OK;
}

static int tags_change(sns_model *m, const cJSON *req, const cJSON *add, const cJSON *remove,
                       cJSON **out, core_err *err)
{
    topic t;
    const char *arn = str_field(req, "ResourceArn");
    if (!arn || !topic_arn_name(m, arn))
        return invalid(err, "ResourceArn");
    int rc = topic_load(m, arn, &t, err);
    if (rc <= 0)
        return rc < 0 ? CORE_ERROR
                      : core_err_set(err, 404, "ResourceNotFound", "Resource does not exist");
    if (add && check_tags(add, err) != CORE_OK) {
        topic_release(&t);
        return CORE_ERROR;
    }
    cJSON *map = tag_map(t.tags);
    const cJSON *x;
    cJSON_ArrayForEach(x, add) {
        cJSON_DeleteItemFromObjectCaseSensitive(map, str_field(x, "Key"));
        cJSON_AddStringToObject(map, str_field(x, "Key"), str_field(x, "Value"));
    }
    cJSON_ArrayForEach(x, remove) {
        if (cJSON_IsString(x))
            cJSON_DeleteItemFromObjectCaseSensitive(map, x->valuestring);
    }
    if (cJSON_GetArraySize(map) > 50) {
        cJSON_Delete(map);
        topic_release(&t);
        return core_err_set(err, 400, "TagLimitExceeded",
                            "Could not complete request: tag quota of per resource exceeded");
    }
    cJSON *list = cJSON_CreateArray();
    cJSON_ArrayForEach(x, map) {
        cJSON *tag = cJSON_CreateObject();
        cJSON_AddStringToObject(tag, "Key", x->string);
        cJSON_AddStringToObject(tag, "Value", x->valuestring);
        cJSON_AddItemToArray(list, tag);
    }
    cJSON_Delete(map);
    cJSON_Delete(t.tags);
    t.tags = list;
    rc = topic_save(m, &t, err);
    topic_release(&t);
    if (rc == CORE_OK)
        *out = cJSON_CreateObject();
    return rc;
}

int sns_op_tag_resource(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err)
{
    (void)d;
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(req, "Tags");
    if (!cJSON_IsArray(tags))
        return invalid(err, "Tags");
    return tags_change(m, req, tags, NULL, out, err);
}

int sns_op_untag_resource(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err)
{
    (void)d;
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(req, "TagKeys");
    if (!cJSON_IsArray(keys))
        return invalid(err, "TagKeys");
    return tags_change(m, req, NULL, keys, out, err);
}

/* --- the template ------------------------------------------------------------- */

static int seed_template(sns_model *m, const core_template *tpl, cJSON *deliveries,
                         core_err *err);

int sns_model_seed_template(sns_model *m, const core_template *tpl, cJSON *deliveries,
                            core_err *err)
{
    /* One savepoint, like an operation: all of the template's topics, or none. */
    int before = cJSON_GetArraySize(deliveries);
    core_store_lock(m->store);
    int rc = core_store_run(m->store, "SAVEPOINT sns_seed", err);
    if (rc == CORE_OK) {
        rc = seed_template(m, tpl, deliveries, err);
        if (rc == CORE_OK) {
            rc = core_store_run(m->store, "RELEASE sns_seed", err);
        } else {
            core_store_run(m->store, "ROLLBACK TO sns_seed", NULL);
            core_store_run(m->store, "RELEASE sns_seed", NULL);
        }
    }
    core_store_unlock(m->store);
    if (rc != CORE_OK)
        while (cJSON_GetArraySize(deliveries) > before)
            cJSON_DeleteItemFromArray(deliveries, before);
    return rc;
}

static int seed_template(sns_model *m, const core_template *tpl, cJSON *deliveries,
                         core_err *err)
{
    for (size_t i = 0; i < core_template_resource_count(tpl); i++) {
        const core_tpl_resource *r = core_template_resource_at(tpl, i);
        if (strcmp(r->type, "AWS::SNS::Topic") != 0)
            continue;
        const char *name = str_field(r->attributes, "TopicName");
        cJSON *attrs = cJSON_CreateObject();
        static const char *const props[] = {"DisplayName", "FifoTopic",
                                            "ContentBasedDeduplication", "KmsMasterKeyId",
                                            "TracingConfig", "SignatureVersion",
                                            "FifoThroughputScope"};
        for (size_t k = 0; k < sizeof props / sizeof *props; k++) {
            char buf[32];
            const char *v = attr_text(cJSON_GetObjectItemCaseSensitive(r->properties, props[k]),
                                      buf, sizeof buf);
            if (v && !(strcmp(props[k], "FifoTopic") == 0 && strcmp(v, "false") == 0))
                cJSON_AddStringToObject(attrs, props[k], v);
        }
        char *arn = NULL;
        int rc = CORE_OK;
        topic t;
        int found = topic_load(m, r->arn, &t, err);
        if (found < 0) {
            cJSON_Delete(attrs);
            return CORE_ERROR;
        }
        if (found) {
            topic_release(&t);
        } else {
            rc = create_topic(m, name, attrs, cJSON_GetObjectItemCaseSensitive(r->properties, "Tags"),
                              &arn, err);
        }
        cJSON_Delete(attrs);
        if (rc != CORE_OK) {
            char why[sizeof err->message];
            snprintf(why, sizeof why, "%s", err->message);
            return core_err_set(err, 500, "InternalError", "Resources.%s: %s", r->logical_id,
                                why);
        }
        free(arn);
        if (topic_load(m, r->arn, &t, err) != 1)
            return core_err_set(err, 500, "InternalError", "Resources.%s: the topic %s was not "
                                "created (its ARN and name disagree)", r->logical_id, r->arn);
        const cJSON *subs = cJSON_GetObjectItemCaseSensitive(r->properties, "Subscription");
        const cJSON *s;
        cJSON_ArrayForEach(s, subs) {
            char *sub_arn = NULL;
            int pending;
            if (subscribe(m, &t, str_field(s, "Protocol"), str_field(s, "Endpoint"), NULL,
                          &sub_arn, &pending, deliveries, err) != CORE_OK) {
                char why[sizeof err->message];
                snprintf(why, sizeof why, "%s", err->message);
                topic_release(&t);
                return core_err_set(err, 500, "InternalError",
                                    "Resources.%s.Properties.Subscription: %s", r->logical_id,
                                    why);
            }
            free(sub_arn);
        }
        topic_release(&t);
    }
    return CORE_OK;
}

/* --- the operation table ------------------------------------------------------ */

static const struct {
    const char *name;
    sns_op op;
} ops[] = {
    {"CreateTopic", sns_op_create_topic},
    {"DeleteTopic", sns_op_delete_topic},
    {"ListTopics", sns_op_list_topics},
    {"GetTopicAttributes", sns_op_get_topic_attributes},
    {"SetTopicAttributes", sns_op_set_topic_attributes},
    {"Subscribe", sns_op_subscribe},
    {"ConfirmSubscription", sns_op_confirm_subscription},
    {"Unsubscribe", sns_op_unsubscribe},
    {"ListSubscriptions", sns_op_list_subscriptions},
    {"ListSubscriptionsByTopic", sns_op_list_subscriptions_by_topic},
    {"GetSubscriptionAttributes", sns_op_get_subscription_attributes},
    {"SetSubscriptionAttributes", sns_op_set_subscription_attributes},
    {"Publish", sns_op_publish},
    {"PublishBatch", sns_op_publish_batch},
    {"ListTagsForResource", sns_op_list_tags_for_resource},
    {"TagResource", sns_op_tag_resource},
    {"UntagResource", sns_op_untag_resource},
};

sns_op sns_op_find(const char *action)
{
    if (!action)
        return NULL;
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(action, ops[i].name))
            return ops[i].op;
    return NULL;
}
