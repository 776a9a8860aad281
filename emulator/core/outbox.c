/*
 * outbox.c — the service-neutral outbox on SQLite. See outbox.h.
 */
#include "core/outbox.h"

#include <stdlib.h>
#include <string.h>

#include "core/http.h"
#include "core/log.h"
#include "core/store.h"

struct core_outbox {
    core_store *store;
};

static const char *const outbox_migrations[] = {
    "CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
    " time_ms INTEGER NOT NULL, channel TEXT NOT NULL, recipient TEXT NOT NULL COLLATE NOCASE,"
    " sender TEXT, subject TEXT, body TEXT NOT NULL, source TEXT NOT NULL);"
    "CREATE INDEX messages_by_recipient ON messages(recipient);",
};

int core_outbox_open(const char *dir, core_outbox **out, core_err *err)
{
    *out = NULL;
    core_outbox *o = calloc(1, sizeof *o);
    if (!o)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    if (core_store_open(dir, "outbox", outbox_migrations,
                        sizeof outbox_migrations / sizeof *outbox_migrations, &o->store,
                        err) != CORE_OK) {
        free(o);
        return CORE_ERROR;
    }
    *out = o;
    return CORE_OK;
}

void core_outbox_close(core_outbox *outbox)
{
    if (!outbox)
        return;
    core_store_close(outbox->store);
    free(outbox);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* email and sms for people; the rest are SNS's deliveries to machines, and
 * "topic" an SNS publish itself. */
static int known_channel(const char *channel)
{
    static const char *const channels[] = {"email", "sms", "topic", "email-json", "sqs",
                                           "lambda", "http", "https", "firehose",
                                           "application"};
    for (size_t i = 0; channel && i < sizeof channels / sizeof *channels; i++)
        if (!strcmp(channel, channels[i]))
            return 1;
    return 0;
}

int core_outbox_append(core_outbox *outbox, int64_t time_ms, const core_outbox_message *msg,
                       char *id_out, core_err *err)
{
    if (!known_channel(msg->channel))
        return core_err_set(err, 400, "ValidationException",
                            "an outbox message's channel is email or sms, or an SNS delivery "
                            "protocol (topic, email-json, sqs, lambda, http, https, firehose, "
                            "application)");
    if (!msg->to || !msg->to[0] || !msg->body || !msg->source || !msg->source[0])
        return core_err_set(err, 400, "ValidationException",
                            "an outbox message needs to, body and source");
    char id[37];
    core_http_uuid(id);
    int rc = CORE_ERROR;
    core_store_lock(outbox->store);
    sqlite3_stmt *st = core_store_stmt(
        outbox->store,
        "INSERT INTO messages(id, time_ms, channel, recipient, sender, subject, body, source)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", err);
    if (st) {
        bind_text(st, 1, id);
        sqlite3_bind_int64(st, 2, time_ms);
        bind_text(st, 3, msg->channel);
        bind_text(st, 4, msg->to);
        bind_text(st, 5, msg->from);
        bind_text(st, 6, msg->subject);
        bind_text(st, 7, msg->body);
        bind_text(st, 8, msg->source);
        if (sqlite3_step(st) == SQLITE_DONE)
            rc = CORE_OK;
        else
            core_err_set(err, 500, "InternalFailure", "outbox.db: %s",
                         sqlite3_errmsg(core_store_db(outbox->store)));
        sqlite3_reset(st);
    }
    core_store_unlock(outbox->store);
    if (rc == CORE_OK && id_out)
        memcpy(id_out, id, sizeof id);
    return rc;
}

static void add_column(cJSON *o, const char *name, sqlite3_stmt *st, int col)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    if (v)
        cJSON_AddStringToObject(o, name, (const char *)v);
}

cJSON *core_outbox_list(core_outbox *outbox, const char *to)
{
    core_err err;
    core_err_clear(&err);
    cJSON *out = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(out, "messages");
    core_store_lock(outbox->store);
    sqlite3_stmt *st = core_store_stmt(
        outbox->store,
        "SELECT id, time_ms, channel, recipient, sender, subject, body, source FROM messages"
        " WHERE ?1 IS NULL OR recipient = ?1 ORDER BY seq", &err);
    int rc = SQLITE_ERROR;
    if (st) {
        bind_text(st, 1, to);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            cJSON *m = cJSON_CreateObject();
            add_column(m, "id", st, 0);
            char when[32];
            core_log_format_time(sqlite3_column_int64(st, 1), when, sizeof when);
            cJSON_AddStringToObject(m, "time", when);
            cJSON_AddNumberToObject(m, "timeMs", (double)sqlite3_column_int64(st, 1));
            add_column(m, "channel", st, 2);
            add_column(m, "to", st, 3);
            add_column(m, "from", st, 4);
            add_column(m, "subject", st, 5);
            add_column(m, "body", st, 6);
            add_column(m, "source", st, 7);
            cJSON_AddItemToArray(arr, m);
        }
        sqlite3_reset(st);
    }
    core_store_unlock(outbox->store);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

long core_outbox_clear(core_outbox *outbox)
{
    core_err err;
    core_err_clear(&err);
    long n = -1;
    core_store_lock(outbox->store);
    if (core_store_exec(outbox->store, "DELETE FROM messages", &err) == CORE_OK)
        n = (long)sqlite3_changes(core_store_db(outbox->store));
    core_store_unlock(outbox->store);
    return n;
}
