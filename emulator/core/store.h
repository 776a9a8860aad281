/*
 * store.h — the one place that opens, migrates and closes SQLite databases.
 *
 * Each service keeps its state in its own database file in the data folder
 * (dynamodb.db, cognito.db, ...), opened in WAL mode with synchronous=NORMAL:
 * a kill -9 loses nothing that was committed, and readers never block the
 * writer. A database carries its schema version in PRAGMA user_version;
 * migrations are an ordered list of SQL scripts and each runs once, in a
 * transaction, in order.
 *
 * Prepared statements are cached per store, keyed by their SQL text, and handed
 * back reset and unbound: a hot path prepares its statement once per process.
 *
 * Each database is held in exclusive locking mode: one emulator owns its data
 * folder, SQLite skips the file locks of every transaction (a measurable share of
 * a small write), and a second process on the same folder gets "database is
 * locked" instead of a share of it.
 *
 * Thread safety: a store's connection is shared. Callers hold core_store_lock
 * around a unit of work (statement use, transaction); the lock is recursive.
 */
#ifndef CORE_STORE_H
#define CORE_STORE_H

#include <stddef.h>

#include <sqlite3.h>

#include "core/err.h"

typedef struct core_store core_store;

/* Create the data folder (and parents) if needed. With fresh, empty it first —
 * but only if it is a shoplocal data folder (it holds the marker file this
 * function writes) or already empty: a stray --data pointing at a folder of
 * yours is refused, never wiped. */
int core_data_dir_prepare(const char *dir, int fresh, core_err *err);

/* Open (creating if needed) <dir>/<name>.db, set WAL mode, and apply
 * migrations[user_version .. n). dir NULL or ":memory:" opens an in-memory
 * database. On success *out owns the store. */
int core_store_open(const char *dir, const char *name, const char *const *migrations,
                    size_t n_migrations, core_store **out, core_err *err);

/* Finalize cached statements and close; NULL is a no-op. */
void core_store_close(core_store *store);

/* The connection (borrowed). */
sqlite3 *core_store_db(core_store *store);

/* The schema version after migrations. */
int core_store_version(core_store *store);

void core_store_lock(core_store *store);
void core_store_unlock(core_store *store);

/* The cached prepared statement for sql, reset and with bindings cleared
 * (borrowed; valid until core_store_close). Caller holds the lock. NULL and err
 * filled if sql does not compile. */
sqlite3_stmt *core_store_stmt(core_store *store, const char *sql, core_err *err);

/* Run SQL text (one or more statements, no results). Caller holds the lock. */
int core_store_exec(core_store *store, const char *sql, core_err *err);

/* Run one statement without results through the statement cache (for hot
 * statements such as SAVEPOINT / RELEASE). Caller holds the lock. */
int core_store_run(core_store *store, const char *sql, core_err *err);

/* Number of statements in the cache (for tests). */
size_t core_store_cached(core_store *store);

#endif
