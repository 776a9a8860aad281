/*
 * store.c — SQLite databases of the data folder. See store.h.
 */
#include "core/store.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARKER ".shoplocal-data"

typedef struct cached_stmt {
    char *sql;
    sqlite3_stmt *stmt;
    struct cached_stmt *next;
} cached_stmt;

struct core_store {
    sqlite3 *db;
    pthread_mutex_t lock;
    cached_stmt *cache;
    size_t n_cached;
    int version;
};

static int mkdir_p(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    if (ftw->level == 0)
        return 0; /* keep the folder itself */
    return remove(path);
}

/* 1 if dir holds nothing but possibly the marker; 0 otherwise. */
static int dir_is_empty_or_ours(const char *dir)
{
    char marker[4096];
    snprintf(marker, sizeof marker, "%s/%s", dir, MARKER);
    if (access(marker, F_OK) == 0)
        return 1;
    DIR *d = opendir(dir);
    if (!d)
        return 1;
    int empty = 1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            empty = 0;
            break;
        }
    }
    closedir(d);
    return empty;
}

int core_data_dir_prepare(const char *dir, int fresh, core_err *err)
{
    if (!dir || !*dir)
        return core_err_set(err, 2, "InvalidArgument", "data folder: empty path");
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return core_err_set(err, 2, "InvalidArgument", "data folder %s: not a directory", dir);
    if (fresh && stat(dir, &st) == 0) {
        if (!dir_is_empty_or_ours(dir))
            return core_err_set(err, 2, "InvalidArgument",
                                "refusing to wipe %s: not a shoplocal data folder "
                                "(no %s marker)", dir, MARKER);
        if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
            return core_err_set(err, 500, "InternalFailure", "cannot empty %s: %s", dir,
                                strerror(errno));
    }
    if (mkdir_p(dir) != 0)
        return core_err_set(err, 500, "InternalFailure", "cannot create %s: %s", dir,
                            strerror(errno));
    char marker[4096];
    snprintf(marker, sizeof marker, "%s/%s", dir, MARKER);
    FILE *f = fopen(marker, "a");
    if (!f)
        return core_err_set(err, 500, "InternalFailure", "cannot write %s: %s", marker,
                            strerror(errno));
    fclose(f);
    return CORE_OK;
}

static int sqlite_fail(core_err *err, sqlite3 *db, const char *what)
{
    return core_err_set(err, 500, "InternalFailure", "%s: %s", what,
                        db ? sqlite3_errmsg(db) : "out of memory");
}

int core_store_open(const char *dir, const char *name, const char *const *migrations,
                    size_t n_migrations, core_store **out, core_err *err)
{
    *out = NULL;
    char path[4096];
    int memory = !dir || strcmp(dir, ":memory:") == 0;
    if (memory)
        snprintf(path, sizeof path, ":memory:");
    else if (snprintf(path, sizeof path, "%s/%s.db", dir, name) >= (int)sizeof path)
        return core_err_set(err, 500, "InternalFailure", "database path too long");

    core_store *store = calloc(1, sizeof *store);
    if (!store)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&store->lock, &attr);
    pthread_mutexattr_destroy(&attr);

    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path, &store->db, flags, NULL) != SQLITE_OK) {
        sqlite_fail(err, store->db, path);
        core_store_close(store);
        return CORE_ERROR;
    }
    sqlite3_busy_timeout(store->db, 5000);
    sqlite3_extended_result_codes(store->db, 1);
    if (core_store_exec(store,
                        memory ? "PRAGMA foreign_keys=ON;"
                               : "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
                                 " PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=10000;"
                                 " PRAGMA foreign_keys=ON;",
                        err) != CORE_OK) {
        core_store_close(store);
        return CORE_ERROR;
    }

    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
        sqlite_fail(err, store->db, "user_version");
        core_store_close(store);
        return CORE_ERROR;
    }
    int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (version > (int)n_migrations) {
        core_store_close(store);
        return core_err_set(err, 500, "InternalFailure",
                            "%s has schema version %d, newer than this shoplocal knows (%zu):"
                            " start with --fresh or a newer build",
                            path, version, n_migrations);
    }
    for (size_t v = (size_t)version; v < n_migrations; v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version=%zu;", v + 1);
        if (core_store_exec(store, "BEGIN IMMEDIATE;", err) != CORE_OK ||
            core_store_exec(store, migrations[v], err) != CORE_OK ||
            core_store_exec(store, bump, err) != CORE_OK ||
            core_store_exec(store, "COMMIT;", err) != CORE_OK) {
            sqlite3_exec(store->db, "ROLLBACK;", NULL, NULL, NULL);
            core_store_close(store);
            return CORE_ERROR;
        }
    }
    store->version = (int)n_migrations > version ? (int)n_migrations : version;
    *out = store;
    return CORE_OK;
}

void core_store_close(core_store *store)
{
    if (!store)
        return;
    cached_stmt *c = store->cache;
    while (c) {
        cached_stmt *next = c->next;
        sqlite3_finalize(c->stmt);
        free(c->sql);
        free(c);
        c = next;
    }
    if (store->db)
        sqlite3_close_v2(store->db);
    pthread_mutex_destroy(&store->lock);
    free(store);
}

sqlite3 *core_store_db(core_store *store)
{
    return store->db;
}

int core_store_version(core_store *store)
{
    return store->version;
}

void core_store_lock(core_store *store)
{
    pthread_mutex_lock(&store->lock);
}

void core_store_unlock(core_store *store)
{
    pthread_mutex_unlock(&store->lock);
}

sqlite3_stmt *core_store_stmt(core_store *store, const char *sql, core_err *err)
{
    for (cached_stmt *c = store->cache; c; c = c->next) {
        if (c->sql == sql || strcmp(c->sql, sql) == 0) {
            sqlite3_reset(c->stmt);
            sqlite3_clear_bindings(c->stmt);
            return c->stmt;
        }
    }
    cached_stmt *c = calloc(1, sizeof *c);
    if (!c || !(c->sql = strdup(sql))) {
        free(c);
        core_err_set(err, 500, "InternalFailure", "out of memory");
        return NULL;
    }
    if (sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmt, NULL) !=
        SQLITE_OK) {
        sqlite_fail(err, store->db, "prepare");
        free(c->sql);
        free(c);
        return NULL;
    }
    c->next = store->cache;
    store->cache = c;
    store->n_cached++;
    return c->stmt;
}

int core_store_exec(core_store *store, const char *sql, core_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(store->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        core_err_set(err, 500, "InternalFailure", "sqlite: %s", msg ? msg : "error");
        sqlite3_free(msg);
        return CORE_ERROR;
    }
    return CORE_OK;
}

int core_store_run(core_store *store, const char *sql, core_err *err)
{
    sqlite3_stmt *st = core_store_stmt(store, sql, err);
    if (!st)
        return CORE_ERROR;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return core_err_set(err, 500, "InternalFailure", "sqlite: %s", sqlite3_errmsg(store->db));
    return CORE_OK;
}

size_t core_store_cached(core_store *store)
{
    return store->n_cached;
}
