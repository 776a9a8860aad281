/*
 * model.c — Step Functions state on SQLite (stepfunctions.db in the data
 * folder): state machines, executions and their history events.
 *
 * Invariant that makes executions survive kill -9: a running execution is
 * changed only by sfn_model_exec_update, which appends its new history events
 * and moves its position (the top-level state it stands in, that state's
 * input, whether the ...StateEntered event is written, the retriers' counters,
 * its virtual-time offset) in ONE transaction. The interpreter writes the
 * position before it runs a task and the task's result before it moves on, so
 * after a crash the position names exactly the step still to do, and the
 * history holds every event of the steps already done, each once.
 *
 * Executions are ordered by a rowid-like sequence number (newest first in
 * ListExecutions); events by one integer key, (execution seq << 20) | id.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "core/store.h"
#include "stepfunctions/sfn_impl.h"

struct sfn_model {
    core_store *store;
    /* The last definition an execution was created with and its hash (under the
     * store lock): executions of one machine follow each other, and hashing
     * 15 KB at every StartExecution cost more than comparing it. */
    char *last_def;
    char last_hash[2 * SHA256_DIGEST_LENGTH + 1];
};

static const char *const migrations[] = {
    "CREATE TABLE machines ("
    "  arn TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, definition TEXT NOT NULL,"
    "  role_arn TEXT NOT NULL, type TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL, revision_id TEXT NOT NULL);"
    "CREATE TABLE executions ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, arn TEXT NOT NULL UNIQUE,"
    "  machine_arn TEXT NOT NULL, machine_name TEXT NOT NULL, name TEXT NOT NULL,"
    "  status TEXT NOT NULL, input TEXT NOT NULL, output TEXT, error TEXT, cause TEXT,"
    "  def_hash TEXT NOT NULL, role_arn TEXT NOT NULL, type TEXT NOT NULL, test_case TEXT,"
    "  start_ms INTEGER NOT NULL, stop_ms INTEGER,"
    "  pos_state TEXT, pos_input TEXT, pos_entered INTEGER NOT NULL DEFAULT 0,"
    "  pos_retries TEXT, offset_ms INTEGER NOT NULL DEFAULT 0,"
    "  last_event_id INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX executions_by_machine ON executions(machine_arn, seq);"
    "CREATE INDEX executions_running ON executions(status, seq);"
    "CREATE TABLE definitions (hash TEXT PRIMARY KEY, text TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE events ("
    "  exec_arn TEXT NOT NULL, id INTEGER NOT NULL, prev_id INTEGER NOT NULL,"
    "  ts_ms INTEGER NOT NULL, type TEXT NOT NULL, details TEXT,"
    "  PRIMARY KEY (exec_arn, id)) WITHOUT ROWID;",
    /* 2: events keyed by one integer, (execution seq << EVENT_KEY_BITS) | id, in a
     * rowid table. The WITHOUT ROWID table keyed by the 90-byte ARN repeated the
     * ARN in every row and spilled every row past ~1 KB (an index b-tree's local
     * limit on 4 KB pages) into an overflow page of its own; appended integer keys
     * fill leaf pages whole. */
    "CREATE TABLE events_by_key ("
    "  event_key INTEGER PRIMARY KEY, prev_id INTEGER NOT NULL, ts_ms INTEGER NOT NULL,"
    "  type TEXT NOT NULL, details TEXT);"
    "INSERT INTO events_by_key(event_key, prev_id, ts_ms, type, details)"
    "  SELECT x.seq * 1048576 + e.id, e.prev_id, e.ts_ms, e.type, e.details"
    "  FROM events e JOIN executions x ON x.arn = e.exec_arn ORDER BY x.seq, e.id;"
    "DROP TABLE events;"
    "ALTER TABLE events_by_key RENAME TO events;",
};

/* An event's key: its execution's seq shifted by EVENT_KEY_BITS, or its id
 * (at most SFN_MAX_EVENTS, 25,000; the migration above spells 1 << 20). */
#define EVENT_KEY_BITS 20
#define EVENT_KEY(seq, id) (((int64_t)(seq) << EVENT_KEY_BITS) | (int64_t)(id))

static int db_error(sfn_model *m, core_err *err)
{
    return core_err_set(err, 500, "InternalFailure", "stepfunctions.db: %s",
                        sqlite3_errmsg(core_store_db(m->store)));
}

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* bind_text without SQLite's copy of the text: for a statement that is stepped,
 * reset and cleared (sqlite3_clear_bindings) while s lives. The history's rows
 * carry every state's input and output: copying each cost more than storing it. */
static void bind_text_borrowed(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

int sfn_model_open(const char *dir, sfn_model **out, core_err *err)
{
    *out = NULL;
    sfn_model *m = calloc(1, sizeof *m);
    if (!m)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    if (core_store_open(dir, "stepfunctions", migrations, sizeof migrations / sizeof *migrations,
                        &m->store, err) != CORE_OK) {
        free(m);
        return CORE_ERROR;
    }
    *out = m;
    return CORE_OK;
}

void sfn_model_close(sfn_model *m)
{
    if (!m)
        return;
    core_store_close(m->store);
    free(m->last_def);
    free(m);
}

void sfn_machine_release(sfn_machine *sm)
{
    if (!sm)
        return;
    free(sm->arn);
    free(sm->name);
    free(sm->definition);
    free(sm->role_arn);
    free(sm->type);
    free(sm->revision_id);
    memset(sm, 0, sizeof *sm);
}

void sfn_exec_row_release(sfn_exec_row *r)
{
    if (!r)
        return;
    char **fields[] = {&r->arn, &r->machine_arn, &r->machine_name, &r->name, &r->status,
                       &r->input, &r->output, &r->error, &r->cause, &r->definition,
                       &r->role_arn, &r->type, &r->test_case, &r->pos_state, &r->pos_input,
                       &r->pos_retries};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        free(*fields[i]);
    memset(r, 0, sizeof *r);
}

typedef void (*row_reader)(sqlite3_stmt *st, void *dst);

/* The row sql selects for arn (its one ?), read by from_row into out; no row:
 * a 400 `code` "<what> Does Not Exist: '<arn>'". Takes the store's lock. */
static int get_by_arn(sfn_model *m, const char *sql, const char *arn, row_reader from_row,
                      void *out, const char *code, const char *what, core_err *err)
{
    core_store_lock(m->store);
    int rc = CORE_ERROR;
    sqlite3_stmt *st = core_store_stmt(m->store, sql, err);
    if (st) {
        bind_text(st, 1, arn);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            from_row(st, out);
            rc = CORE_OK;
        } else if (step == SQLITE_DONE) {
            core_err_set(err, 400, code, "%s Does Not Exist: '%s'", what, arn);
        } else {
            db_error(m, err);
        }
        sqlite3_reset(st);
    }
    core_store_unlock(m->store);
    return rc;
}

/* Steps the bound st (asking limit + 1 rows) into list, elements of elem bytes
 * read by from_row: *n rows, *more when one more stands behind. Resets st. */
static int fill_page(sfn_model *m, sqlite3_stmt *st, int limit, void *list, size_t elem,
                     row_reader from_row, size_t *n, int *more, core_err *err)
{
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == (size_t)limit) {
            *more = 1;
            break;
        }
        from_row(st, (char *)list + elem * (*n)++);
    }
    int rc = step == SQLITE_ROW || step == SQLITE_DONE ? CORE_OK : db_error(m, err);
    sqlite3_reset(st);
    return rc;
}

/* ---- state machines ---------------------------------------------------------- */

#define MACHINE_COLS "arn, name, definition, role_arn, type, created_ms, updated_ms, revision_id"

static void machine_from_row(sqlite3_stmt *st, void *dst)
{
    sfn_machine *out = dst;
    out->arn = col_text(st, 0);
    out->name = col_text(st, 1);
    out->definition = col_text(st, 2);
    out->role_arn = col_text(st, 3);
    out->type = col_text(st, 4);
    out->created_ms = sqlite3_column_int64(st, 5);
    out->updated_ms = sqlite3_column_int64(st, 6);
    out->revision_id = col_text(st, 7);
}

int sfn_model_machine_create(sfn_model *m, const sfn_machine *sm, int *existed, core_err *err)
{
    *existed = 0;
    core_store_lock(m->store);
    int rc = CORE_ERROR;
    sqlite3_stmt *st = core_store_stmt(m->store,
                                       "SELECT definition, role_arn, type FROM machines "
                                       "WHERE name = ?", err);
    if (!st)
        goto out;
    bind_text(st, 1, sm->name);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *def = (const char *)sqlite3_column_text(st, 0);
        const char *role = (const char *)sqlite3_column_text(st, 1);
        const char *type = (const char *)sqlite3_column_text(st, 2);
        int same = def && role && type && !strcmp(def, sm->definition) &&
                   !strcmp(role, sm->role_arn) && !strcmp(type, sm->type);
        sqlite3_reset(st);
        if (!same) {
            core_err_set(err, 400, "StateMachineAlreadyExists",
                         "State Machine Already Exists: '%s'", sm->arn);
            goto out;
        }
        *existed = 1;
        rc = CORE_OK;
        goto out;
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        db_error(m, err);
        goto out;
    }
    st = core_store_stmt(m->store, "INSERT INTO machines(" MACHINE_COLS ") "
                                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", err);
    if (!st)
        goto out;
    bind_text(st, 1, sm->arn);
    bind_text(st, 2, sm->name);
    bind_text(st, 3, sm->definition);
    bind_text(st, 4, sm->role_arn);
    bind_text(st, 5, sm->type);
    sqlite3_bind_int64(st, 6, sm->created_ms);
    sqlite3_bind_int64(st, 7, sm->updated_ms);
    bind_text(st, 8, sm->revision_id);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    rc = step == SQLITE_DONE ? CORE_OK : db_error(m, err);
out:
    core_store_unlock(m->store);
    return rc;
}

int sfn_model_machine_get(sfn_model *m, const char *arn, sfn_machine *out, core_err *err)
{
    memset(out, 0, sizeof *out);
    return get_by_arn(m, "SELECT " MACHINE_COLS " FROM machines WHERE arn = ?", arn,
                      machine_from_row, out, "StateMachineDoesNotExist", "State Machine", err);
}

int sfn_model_machine_update(sfn_model *m, const char *arn, const char *definition,
                             const char *role_arn, int64_t now_ms, sfn_machine *out,
                             core_err *err)
{
    core_store_lock(m->store);
    int rc = CORE_ERROR;
    char rev[40];
    snprintf(rev, sizeof rev, "%lld", (long long)now_ms);
    sqlite3_stmt *st = core_store_stmt(
        m->store,
        "UPDATE machines SET definition = coalesce(?, definition), "
        "role_arn = coalesce(?, role_arn), updated_ms = ?, revision_id = ? WHERE arn = ?", err);
    if (st) {
        bind_text(st, 1, definition);
        bind_text(st, 2, role_arn);
        sqlite3_bind_int64(st, 3, now_ms);
        bind_text(st, 4, rev);
        bind_text(st, 5, arn);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE)
            db_error(m, err);
        else if (sqlite3_changes(core_store_db(m->store)) == 0)
            core_err_set(err, 400, "StateMachineDoesNotExist",
                         "State Machine Does Not Exist: '%s'", arn);
        else
            rc = sfn_model_machine_get(m, arn, out, err);
    }
    core_store_unlock(m->store);
    return rc;
}

int sfn_model_machine_delete(sfn_model *m, const char *arn, core_err *err)
{
    core_store_lock(m->store);
    int rc = CORE_ERROR;
    sqlite3_stmt *st = core_store_stmt(m->store, "DELETE FROM machines WHERE arn = ?", err);
    if (st) {
        bind_text(st, 1, arn);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        rc = step == SQLITE_DONE ? CORE_OK : db_error(m, err);
    }
    core_store_unlock(m->store);
    return rc;
}

int sfn_model_machine_list(sfn_model *m, const char *after, int limit, sfn_machine **out,
                           size_t *n, int *more, core_err *err)
{
    *out = NULL;
    *n = 0;
    *more = 0;
    sfn_machine *list = calloc((size_t)limit + 1, sizeof *list);
    if (!list)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    core_store_lock(m->store);
    int rc = CORE_ERROR;
    sqlite3_stmt *st = core_store_stmt(m->store, "SELECT " MACHINE_COLS " FROM machines "
                                                 "WHERE name > ? ORDER BY name LIMIT ?", err);
    if (st) {
        bind_text(st, 1, after ? after : "");
        sqlite3_bind_int(st, 2, limit + 1);
        rc = fill_page(m, st, limit, list, sizeof *list, machine_from_row, n, more, err);
    }
    core_store_unlock(m->store);
    *out = list;
    return rc;
}

/* ---- executions -------------------------------------------------------------- */

#define EXEC_COLS                                                                          \
    "arn, machine_arn, machine_name, name, status, input, output, error, cause, "            \
    "(SELECT text FROM definitions WHERE hash = def_hash), "                                 \
    "role_arn, type, test_case, start_ms, stop_ms, pos_state, pos_input, pos_entered, "      \
    "pos_retries, offset_ms, last_event_id"

static void exec_from_row(sqlite3_stmt *st, void *dst)
{
    sfn_exec_row *r = dst;
    r->arn = col_text(st, 0);
    r->machine_arn = col_text(st, 1);
    r->machine_name = col_text(st, 2);
    r->name = col_text(st, 3);
    r->status = col_text(st, 4);
    r->input = col_text(st, 5);
    r->output = col_text(st, 6);
    r->error = col_text(st, 7);
    r->cause = col_text(st, 8);
    r->definition = col_text(st, 9);
    r->role_arn = col_text(st, 10);
    r->type = col_text(st, 11);
    r->test_case = col_text(st, 12);
    r->start_ms = sqlite3_column_int64(st, 13);
    r->stop_ms = sqlite3_column_int64(st, 14);
    r->pos_state = col_text(st, 15);
    r->pos_input = col_text(st, 16);
    r->pos_entered = sqlite3_column_int(st, 17);
    r->pos_retries = col_text(st, 18);
    r->offset_ms = sqlite3_column_int64(st, 19);
    r->last_event_id = sqlite3_column_int64(st, 20);
}

/* Executions keep the definition they started with; many share one, stored once
 * under its SHA-256. */
static void definition_hash(const char *text, char out[2 * SHA256_DIGEST_LENGTH + 1])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, strlen(text), d);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Up to EVENT_BATCH events in one INSERT statement (one statement per batch
 * size, prepared once and cached like every other): a commit that records a
 * whole mocked saga writes its 28 rows in 1 statement instead of 28 (32 rows
 * per statement measured 2% cheaper per execution than 8; 5 parameters a row,
 * far under SQLite's limit). */
#define EVENT_BATCH 32

/* The INSERT of k events (k = 1..EVENT_BATCH), built once. */
static char event_sql[EVENT_BATCH + 1][EVENT_BATCH * 14 + 96];

static void build_event_sql(void)
{
    for (size_t k = 1; k < sizeof event_sql / sizeof *event_sql; k++) {
        size_t used = (size_t)snprintf(event_sql[k], sizeof event_sql[k],
                                       "INSERT INTO events(event_key, prev_id, ts_ms, type, "
                                       "details) VALUES ");
        for (size_t i = 0; i < k; i++)
            used += (size_t)snprintf(event_sql[k] + used, sizeof event_sql[k] - used, "%s%s",
                                     i ? "," : "", "(?,?,?,?,?)");
    }
}

/* Events e[0..n) of the execution numbered seq, up to EVENT_BATCH rows per INSERT. */
static int insert_events(sfn_model *m, int64_t seq, const sfn_event *e, size_t n, core_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_event_sql);
    while (n > 0) {
        size_t k = n < EVENT_BATCH ? n : EVENT_BATCH;
        sqlite3_stmt *st = core_store_stmt(m->store, event_sql[k], err);
        if (!st)
            return CORE_ERROR;
        for (size_t i = 0; i < k; i++) {
            int b = (int)(5 * i);
            if (e[i].id < 0 || e[i].id >= ((int64_t)1 << EVENT_KEY_BITS)) {
                sqlite3_clear_bindings(st);
                return core_err_set(err, 500, "InternalFailure", "event id %lld out of range",
                                    (long long)e[i].id);
            }
            sqlite3_bind_int64(st, b + 1, EVENT_KEY(seq, e[i].id));
            sqlite3_bind_int64(st, b + 2, e[i].prev_id);
            sqlite3_bind_int64(st, b + 3, e[i].ts_ms);
            bind_text_borrowed(st, b + 4, e[i].type);
            bind_text_borrowed(st, b + 5, e[i].details);
        }
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st); /* the borrowed texts go back to their owners */
        if (step != SQLITE_DONE)
            return db_error(m, err);
        e += k;
        n -= k;
    }
    return CORE_OK;
}

int sfn_model_exec_create(sfn_model *m, const sfn_exec_row *r, const char *start_at,
                          const char *started_details, core_err *err)
{
    core_store_lock(m->store);
    int rc = CORE_ERROR;
    if (core_store_run(m->store, "BEGIN IMMEDIATE", err) != CORE_OK)
        goto out;
    sqlite3_stmt *st = core_store_stmt(
        m->store,
        "INSERT INTO executions(arn, machine_arn, machine_name, name, status, input, def_hash, "
        "role_arn, type, test_case, start_ms, pos_state, pos_input, pos_entered, pos_retries, "
        "offset_ms, last_event_id) VALUES (?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, 0, "
        "NULL, 0, 1)", err);
    if (!st)
        goto rollback;
    bind_text(st, 1, r->arn);
    bind_text(st, 2, r->machine_arn);
    bind_text(st, 3, r->machine_name);
    bind_text(st, 4, r->name);
    bind_text(st, 5, r->input);
    char hash[2 * SHA256_DIGEST_LENGTH + 1];
    int known = m->last_def && !strcmp(m->last_def, r->definition);
    if (known) {
        memcpy(hash, m->last_hash, sizeof hash);
    } else {
        definition_hash(r->definition, hash);
        free(m->last_def);
        m->last_def = NULL; /* set once the definitions row is in (below) */
    }
    bind_text(st, 6, hash);
    bind_text(st, 7, r->role_arn);
    bind_text(st, 8, r->type);
    bind_text(st, 9, r->test_case);
    sqlite3_bind_int64(st, 10, r->start_ms);
    bind_text(st, 11, start_at);
    bind_text(st, 12, r->input);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if ((step & 0xff) == SQLITE_CONSTRAINT) {
        core_err_set(err, 400, "ExecutionAlreadyExists", "Execution Already Exists: '%s'", r->arn);
        goto rollback;
    }
    if (step != SQLITE_DONE) {
        db_error(m, err);
        goto rollback;
    }
    int64_t seq = sqlite3_last_insert_rowid(core_store_db(m->store));
    if (!known) {
        st = core_store_stmt(m->store,
                             "INSERT OR IGNORE INTO definitions(hash, text) VALUES (?, ?)", err);
        if (!st)
            goto rollback;
        bind_text(st, 1, hash);
        bind_text(st, 2, r->definition);
        step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE) {
            db_error(m, err);
            goto rollback;
        }
    }
    sfn_event e = {.id = 1, .prev_id = 0, .ts_ms = r->start_ms, .type = "ExecutionStarted",
                   .details = (char *)started_details};
    if (insert_events(m, seq, &e, 1, err) != CORE_OK)
        goto rollback;
    rc = core_store_run(m->store, "COMMIT", err);
    if (rc == CORE_OK) {
        if (!known && (m->last_def = strdup(r->definition)) != NULL)
            memcpy(m->last_hash, hash, sizeof hash);
        goto out;
    }
rollback:
    core_store_run(m->store, "ROLLBACK", NULL);
    rc = CORE_ERROR;
out:
    core_store_unlock(m->store);
    return rc;
}

int sfn_model_exec_get(sfn_model *m, const char *arn, sfn_exec_row *out, core_err *err)
{
    memset(out, 0, sizeof *out);
    return get_by_arn(m, "SELECT " EXEC_COLS " FROM executions WHERE arn = ?", arn,
                      exec_from_row, out, "ExecutionDoesNotExist", "Execution", err);
}

typedef struct exec_for_run {
    sfn_exec_row *row;
    char *hash;
} exec_for_run;

static void exec_for_run_from_row(sqlite3_stmt *st, void *dst)
{
    exec_for_run *x = dst;
    exec_from_row(st, x->row); /* its column 9 is NULL: no definition text */
    const unsigned char *h = sqlite3_column_text(st, 21);
    snprintf(x->hash, 2 * SHA256_DIGEST_LENGTH + 1, "%s", h ? (const char *)h : "");
}

int sfn_model_exec_get_for_run(sfn_model *m, const char *arn, sfn_exec_row *out, char *hash,
                               core_err *err)
{
    memset(out, 0, sizeof *out);
    hash[0] = '\0';
    exec_for_run x = {.row = out, .hash = hash};
    return get_by_arn(m,
                      "SELECT arn, machine_arn, machine_name, name, status, input, output, "
                      "error, cause, NULL, role_arn, type, test_case, start_ms, stop_ms, "
                      "pos_state, pos_input, pos_entered, pos_retries, offset_ms, "
                      "last_event_id, def_hash FROM executions WHERE arn = ?",
                      arn, exec_for_run_from_row, &x, "ExecutionDoesNotExist", "Execution", err);
}

int sfn_model_definition(sfn_model *m, const char *hash, char **text, core_err *err)
{
    *text = NULL;
    core_store_lock(m->store);
    int rc = CORE_ERROR;
    sqlite3_stmt *st = core_store_stmt(m->store, "SELECT text FROM definitions WHERE hash = ?",
                                       err);
    if (st) {
        bind_text(st, 1, hash);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            *text = col_text(st, 0);
        rc = step == SQLITE_ROW || step == SQLITE_DONE ? CORE_OK : db_error(m, err);
        sqlite3_reset(st);
    }
    core_store_unlock(m->store);
    return rc;
}

int sfn_model_exec_list(sfn_model *m, const char *machine_arn, const char *status,
                        const char *after, int limit, sfn_exec_row **out, size_t *n, int *more,
                        core_err *err)
{
    *out = NULL;
    *n = 0;
    *more = 0;
    sfn_exec_row *list = calloc((size_t)limit + 1, sizeof *list);
    if (!list)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    core_store_lock(m->store);
    int rc = CORE_ERROR;
    sqlite3_stmt *st = core_store_stmt(
        m->store,
        "SELECT " EXEC_COLS " FROM executions WHERE machine_arn = ? "
        "AND (?2 IS NULL OR status = ?2) "
        "AND seq < coalesce((SELECT seq FROM executions WHERE arn = ?3), 9223372036854775807) "
        "ORDER BY seq DESC LIMIT ?4", err);
    if (st) {
        bind_text(st, 1, machine_arn);
        bind_text(st, 2, status);
        bind_text(st, 3, after);
        sqlite3_bind_int(st, 4, limit + 1);
        rc = fill_page(m, st, limit, list, sizeof *list, exec_from_row, n, more, err);
    }
    core_store_unlock(m->store);
    *out = list;
    return rc;
}

int sfn_model_exec_running(sfn_model *m, char ***arns, size_t *n, core_err *err)
{
    *arns = NULL;
    *n = 0;
    core_store_lock(m->store);
    int rc = CORE_ERROR;
    size_t cap = 0;
    sqlite3_stmt *st = core_store_stmt(m->store, "SELECT arn FROM executions WHERE status = "
                                                 "'RUNNING' ORDER BY seq", err);
    if (st) {
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 8;
                char **grown = realloc(*arns, cap * sizeof **arns);
                if (!grown)
                    break;
                *arns = grown;
            }
            (*arns)[(*n)++] = col_text(st, 0);
        }
        rc = step == SQLITE_ROW || step == SQLITE_DONE ? CORE_OK : db_error(m, err);
        sqlite3_reset(st);
    }
    core_store_unlock(m->store);
    return rc;
}

int sfn_model_exec_update(sfn_model *m, const char *arn, const sfn_exec_update *u,
                          core_err *err)
{
    core_store_lock(m->store);
    int rc = CORE_ERROR;
    if (core_store_run(m->store, "BEGIN IMMEDIATE", err) != CORE_OK)
        goto out;
    int64_t last = 0;
    for (size_t i = 0; i < u->n_events; i++)
        if (u->events[i].id > last)
            last = u->events[i].id;
    /* The position first: its RETURNING names the execution's seq (the events'
     * key) and no row means it is no longer running; the events follow in the
     * same transaction. */
    sqlite3_stmt *st = core_store_stmt(
        m->store,
        "UPDATE executions SET last_event_id = max(last_event_id, ?1), offset_ms = ?2, "
        "pos_state = CASE WHEN ?3 IS NULL THEN pos_state ELSE ?3 END, "
        "pos_input = CASE WHEN ?3 IS NULL THEN pos_input ELSE ?4 END, "
        "pos_entered = CASE WHEN ?3 IS NULL THEN pos_entered ELSE ?5 END, "
        "pos_retries = CASE WHEN ?3 IS NULL THEN pos_retries ELSE ?6 END, "
        "status = coalesce(?7, status), output = CASE WHEN ?7 IS NULL THEN output ELSE ?8 END, "
        "error = CASE WHEN ?7 IS NULL THEN error ELSE ?9 END, "
        "cause = CASE WHEN ?7 IS NULL THEN cause ELSE ?10 END, "
        "stop_ms = CASE WHEN ?7 IS NULL THEN stop_ms ELSE ?11 END "
        "WHERE arn = ?12 AND status = 'RUNNING' RETURNING seq", err);
    if (!st)
        goto rollback;
    sqlite3_bind_int64(st, 1, last);
    sqlite3_bind_int64(st, 2, u->offset_ms);
    bind_text_borrowed(st, 3, u->pos_state);
    bind_text_borrowed(st, 4, u->pos_input);
    sqlite3_bind_int(st, 5, u->pos_entered);
    bind_text_borrowed(st, 6, u->pos_retries);
    bind_text_borrowed(st, 7, u->status);
    bind_text_borrowed(st, 8, u->output);
    bind_text_borrowed(st, 9, u->error);
    bind_text_borrowed(st, 10, u->cause);
    sqlite3_bind_int64(st, 11, u->stop_ms);
    bind_text_borrowed(st, 12, arn);
    int step = sqlite3_step(st);
    int64_t seq = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    while (step == SQLITE_ROW)
        step = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st); /* the borrowed texts go back to their owners */
    if (step != SQLITE_DONE) {
        db_error(m, err);
        goto rollback;
    }
    if (seq < 0) {
        /* Stopped (or deleted) meanwhile: what this worker wanted to record is void. */
        core_err_set(err, 409, "ExecutionNotRunning", "execution %s is no longer running", arn);
        goto rollback;
    }
    if (insert_events(m, seq, u->events, u->n_events, err) != CORE_OK)
        goto rollback;
    rc = core_store_run(m->store, "COMMIT", err);
    if (rc == CORE_OK)
        goto out;
rollback:
    core_store_run(m->store, "ROLLBACK", NULL);
    rc = CORE_ERROR;
out:
    core_store_unlock(m->store);
    return rc;
}

int sfn_model_events(sfn_model *m, const char *arn, cJSON **out, core_err *err)
{
    *out = cJSON_CreateArray();
    core_store_lock(m->store);
    int rc = CORE_ERROR;
    sqlite3_stmt *st = core_store_stmt(
        m->store,
        "SELECT event_key & 1048575, prev_id, ts_ms, type, details FROM events "
        "WHERE event_key BETWEEN (SELECT seq * 1048576 FROM executions WHERE arn = ?1) "
        "AND (SELECT seq * 1048576 + 1048575 FROM executions WHERE arn = ?1) "
        "ORDER BY event_key", err);
    if (st) {
        bind_text(st, 1, arn);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "timestampMs", (double)sqlite3_column_int64(st, 2));
            cJSON_AddStringToObject(e, "type", (const char *)sqlite3_column_text(st, 3));
            cJSON_AddNumberToObject(e, "id", (double)sqlite3_column_int64(st, 0));
            cJSON_AddNumberToObject(e, "previousEventId", (double)sqlite3_column_int64(st, 1));
            const char *details = (const char *)sqlite3_column_text(st, 4);
            cJSON *d = details ? cJSON_Parse(details) : NULL;
            for (cJSON *f = d ? d->child : NULL; f; f = f->next)
                cJSON_AddItemToObject(e, f->string, cJSON_Duplicate(f, 1));
            cJSON_Delete(d);
            cJSON_AddItemToArray(*out, e);
        }
        rc = step == SQLITE_DONE ? CORE_OK : db_error(m, err);
        sqlite3_reset(st);
    }
    core_store_unlock(m->store);
    return rc;
}

int sfn_model_exec_abort(sfn_model *m, const char *arn, const char *error, const char *cause,
                         int64_t now_ms, core_err *err)
{
    sfn_exec_row row;
    /* One lock across read and write: a worker's write in between would take the id. */
    core_store_lock(m->store);
    if (sfn_model_exec_get(m, arn, &row, err) != CORE_OK) {
        core_store_unlock(m->store);
        return CORE_ERROR;
    }
    int running = !strcmp(row.status, "RUNNING");
    int rc = CORE_OK;
    if (running) {
        cJSON *d = cJSON_CreateObject();
        cJSON *inner = cJSON_AddObjectToObject(d, "executionAbortedEventDetails");
        if (error)
            cJSON_AddStringToObject(inner, "error", error);
        if (cause)
            cJSON_AddStringToObject(inner, "cause", cause);
        char *text = cJSON_PrintUnformatted(d);
        cJSON_Delete(d);
        /* previousEventId 0: the service writes it, not a state (measured on AWS) */
        sfn_event e = {.id = row.last_event_id + 1, .prev_id = 0,
                       .ts_ms = now_ms, .type = "ExecutionAborted", .details = text};
        sfn_exec_update u = {.events = &e, .n_events = 1, .offset_ms = row.offset_ms,
                             .status = "ABORTED", .error = error, .cause = cause,
                             .stop_ms = now_ms};
        rc = sfn_model_exec_update(m, arn, &u, err);
        free(text);
    }
    sfn_exec_row_release(&row);
    core_store_unlock(m->store);
    return rc == CORE_OK ? running : CORE_ERROR;
}

void sfn_exec_arn(const char *region, const char *machine_name, const char *exec_name,
                  int express, char *out, size_t len)
{
    /* snprintf's result (truncated to len - 1 bytes), without its format parsing:
     * this runs for every execution started */
    const char *parts[] = {"arn:aws:states:", region, ":000000000000:",
                           express ? "express" : "execution", ":", machine_name, ":", exec_name};
    size_t used = 0;
    if (!len)
        return;
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        size_t n = parts[i] ? strlen(parts[i]) : 6; /* "(null)", as glibc prints NULL */
        if (n > len - 1 - used)
            n = len - 1 - used;
        memcpy(out + used, parts[i] ? parts[i] : "(null)", n);
        used += n;
    }
    out[used] = '\0';
}
