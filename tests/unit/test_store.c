/*
 * test_store.c — the SQLite storage layer: data folder, WAL, migrations, the
 * statement cache.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/store.h"
#include "support/testutil.h"

static char *dir;

static void setup(void)
{
    dir = tu_mkdtemp();
    cr_assert_not_null(dir);
}

static void teardown(void)
{
    tu_rmrf(dir);
    free(dir);
}

TestSuite(core_store, .init = setup, .fini = teardown);

static const char *const v1[] = {
    "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT);",
};
static const char *const v2[] = {
    "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT);",
    "ALTER TABLE kv ADD COLUMN n INTEGER DEFAULT 0;",
};

static char *query_text(core_store *s, const char *sql)
{
    core_err err;
    core_store_lock(s);
    sqlite3_stmt *st = core_store_stmt(s, sql, &err);
    cr_assert_not_null(st, "%s", err.message);
    char *out = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    core_store_unlock(s);
    return out;
}

Test(core_store, opens_in_wal_mode_and_applies_migrations)
{
    core_store *s;
    core_err err;
    cr_assert_eq(core_data_dir_prepare(dir, 0, &err), CORE_OK);
    cr_assert_eq(core_store_open(dir, "t", v1, 1, &s, &err), CORE_OK, "%s", err.message);
    cr_assert_eq(core_store_version(s), 1);
    char *mode = query_text(s, "PRAGMA journal_mode");
    cr_assert_str_eq(mode, "wal");
    free(mode);
    core_store_close(s);
}

Test(core_store, migrates_an_older_database_forward_keeping_rows)
{
    core_store *s;
    core_err err;
    cr_assert_eq(core_store_open(dir, "t", v1, 1, &s, &err), CORE_OK);
    core_store_lock(s);
    cr_assert_eq(core_store_exec(s, "INSERT INTO kv VALUES('a','1');", &err), CORE_OK);
    core_store_unlock(s);
    core_store_close(s);

    cr_assert_eq(core_store_open(dir, "t", v2, 2, &s, &err), CORE_OK, "%s", err.message);
    cr_assert_eq(core_store_version(s), 2);
    char *v = query_text(s, "SELECT v || ':' || n FROM kv WHERE k = 'a'");
    cr_assert_str_eq(v, "1:0");
    free(v);
    core_store_close(s);
}

Test(core_store, refuses_a_database_newer_than_the_code)
{
    core_store *s;
    core_err err;
    cr_assert_eq(core_store_open(dir, "t", v2, 2, &s, &err), CORE_OK);
    core_store_close(s);
    cr_assert_eq(core_store_open(dir, "t", v1, 1, &s, &err), CORE_ERROR);
    cr_assert(strstr(err.message, "newer than this shoplocal knows"), "%s", err.message);
    cr_assert_null(s);
}

Test(core_store, failed_migration_rolls_back_and_keeps_version)
{
    core_store *s;
    core_err err;
    cr_assert_eq(core_store_open(dir, "t", v1, 1, &s, &err), CORE_OK);
    core_store_close(s);
    const char *const broken[] = {v1[0], "CREATE TABLE ok(x); THIS IS NOT SQL;"};
    cr_assert_eq(core_store_open(dir, "t", broken, 2, &s, &err), CORE_ERROR);
    cr_assert(strstr(err.message, "sqlite:"), "%s", err.message);
    cr_assert_eq(core_store_open(dir, "t", v1, 1, &s, &err), CORE_OK);
    cr_assert_eq(core_store_version(s), 1);
    char *t = query_text(s, "SELECT count(*) FROM sqlite_master WHERE name = 'ok'");
    cr_assert_str_eq(t, "0");
    free(t);
    core_store_close(s);
}

Test(core_store, caches_prepared_statements_by_sql)
{
    core_store *s;
    core_err err;
    cr_assert_eq(core_store_open(NULL, "mem", v1, 1, &s, &err), CORE_OK);
    core_store_lock(s);
    sqlite3_stmt *a = core_store_stmt(s, "SELECT 1", &err);
    sqlite3_stmt *b = core_store_stmt(s, "SELECT 1", &err);
    sqlite3_stmt *c = core_store_stmt(s, "SELECT 2", &err);
    core_store_unlock(s);
    cr_assert_eq(a, b);
    cr_assert_neq(a, c);
    cr_assert_eq(core_store_cached(s), 2);
    core_store_close(s);
}

Test(core_store, hands_back_statements_reset_and_unbound)
{
    core_store *s;
    core_err err;
    cr_assert_eq(core_store_open(NULL, "mem", v1, 1, &s, &err), CORE_OK);
    core_store_lock(s);
    sqlite3_stmt *st = core_store_stmt(s, "SELECT ?1", &err);
    sqlite3_bind_int(st, 1, 42);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    st = core_store_stmt(s, "SELECT ?1", &err);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_type(st, 0), SQLITE_NULL);
    sqlite3_reset(st);
    core_store_unlock(s);
    core_store_close(s);
}

Test(core_store, reports_sql_that_does_not_compile)
{
    core_store *s;
    core_err err;
    cr_assert_eq(core_store_open(NULL, "mem", v1, 1, &s, &err), CORE_OK);
    core_store_lock(s);
    cr_assert_null(core_store_stmt(s, "SELEC nonsense", &err));
    core_store_unlock(s);
    cr_assert(strstr(err.message, "prepare:"), "%s", err.message);
    cr_assert_eq(core_store_cached(s), 0);
    core_store_close(s);
}

Test(core_store, committed_rows_survive_reopen)
{
    core_store *s;
    core_err err;
    cr_assert_eq(core_store_open(dir, "t", v1, 1, &s, &err), CORE_OK);
    core_store_lock(s);
    cr_assert_eq(core_store_exec(s, "INSERT INTO kv VALUES('k','v');", &err), CORE_OK);
    core_store_unlock(s);
    core_store_close(s);
    cr_assert_eq(core_store_open(dir, "t", v1, 1, &s, &err), CORE_OK);
    char *v = query_text(s, "SELECT v FROM kv");
    cr_assert_str_eq(v, "v");
    free(v);
    core_store_close(s);
}

Test(core_store, data_dir_is_created_with_parents_and_marked)
{
    char path[600];
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    core_err err;
    cr_assert_eq(core_data_dir_prepare(path, 0, &err), CORE_OK, "%s", err.message);
    char marker[700];
    snprintf(marker, sizeof marker, "%s/.shoplocal-data", path);
    cr_assert_eq(access(marker, F_OK), 0);
}

Test(core_store, fresh_empties_our_folder)
{
    core_err err;
    cr_assert_eq(core_data_dir_prepare(dir, 0, &err), CORE_OK);
    char *f = tu_write_file(dir, "old.db", "x");
    cr_assert_eq(core_data_dir_prepare(dir, 1, &err), CORE_OK, "%s", err.message);
    cr_assert_neq(access(f, F_OK), 0);
    free(f);
}

Test(core_store, fresh_refuses_a_folder_that_is_not_ours)
{
    char *f = tu_write_file(dir, "thesis.tex", "years of work");
    core_err err;
    cr_assert_eq(core_data_dir_prepare(dir, 1, &err), CORE_ERROR);
    cr_assert(strstr(err.message, "refusing to wipe"), "%s", err.message);
    cr_assert_eq(access(f, F_OK), 0);
    free(f);
}

Test(core_store, data_dir_that_is_a_file_is_an_error)
{
    char *f = tu_write_file(dir, "file", "x");
    core_err err;
    cr_assert_eq(core_data_dir_prepare(f, 0, &err), CORE_ERROR);
    cr_assert(strstr(err.message, "not a directory"), "%s", err.message);
    free(f);
}
