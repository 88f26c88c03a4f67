#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/results_db.h"
#include "tests/unit/test_util.h"

static char temp_dir[64];
static char final_path[128];
static char partial_path[160];

static void setup_dir(void)
{
    snprintf(temp_dir, sizeof temp_dir, "/tmp/mailsim_results_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(temp_dir));
    snprintf(final_path, sizeof final_path, "%s/run.sqlite", temp_dir);
    snprintf(partial_path, sizeof partial_path, "%s%s", final_path,
             RESULTS_DB_PARTIAL_SUFFIX);
}

static void teardown_dir(void)
{
    unlink(final_path);
    unlink(partial_path);
    ck_assert_int_eq(rmdir(temp_dir), 0);
}

static bool file_exists(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0;
}

/* Opens `path` read-only with a fresh connection and returns the result of
 * a single-integer query, or -1 when the file or table is missing. */
static long long query_int(const char *path, const char *sql)
{
    sqlite3 *handle = NULL;
    sqlite3_stmt *statement = NULL;
    long long value = -1;

    if (sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(handle, sql, -1, &statement, NULL) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW)
        value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    sqlite3_close(handle);
    return value;
}

/* Creates table t and inserts rows [first, first + count) with a prepared
 * statement, committing a batch every 100 rows. */
static void insert_rows(struct results_db *db, int first, int count)
{
    ck_assert(results_db_exec(db, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, value REAL)"));
    sqlite3_stmt *insert = results_db_prepare(db, "INSERT INTO t VALUES (?, ?)");
    ck_assert_ptr_nonnull(insert);
    for (int i = first; i < first + count; i++) {
        sqlite3_bind_int(insert, 1, i);
        sqlite3_bind_double(insert, 2, i * 0.5);
        ck_assert_int_eq(sqlite3_step(insert), SQLITE_DONE);
        sqlite3_reset(insert);
        if ((i + 1) % 100 == 0)
            ck_assert(results_db_commit_batch(db));
    }
    ck_assert_int_eq(sqlite3_finalize(insert), SQLITE_OK);
}

START_TEST(finish_publishes_rows)
{
    char err[256] = "";
    struct results_db *db = results_db_create(final_path, err, sizeof err);
    ck_assert_msg(db != NULL, "%s", err);
    ck_assert(file_exists(partial_path));
    ck_assert(!file_exists(final_path));

    insert_rows(db, 0, 1050);
    ck_assert(results_db_finish(db));

    ck_assert(file_exists(final_path));
    ck_assert(!file_exists(partial_path));
    ck_assert_int_eq(query_int(final_path, "SELECT count(*) FROM t"), 1050);
    ck_assert_int_eq(query_int(final_path, "SELECT sum(id) FROM t"), 1050 * 1049 / 2);
    ck_assert_int_eq(query_int(final_path, "SELECT value * 2 FROM t WHERE id = 777"), 777);
}
END_TEST

START_TEST(create_sets_pragmas)
{
    char err[256] = "";
    struct results_db *db = results_db_create(final_path, err, sizeof err);
    ck_assert_msg(db != NULL, "%s", err);
    sqlite3_stmt *statement = results_db_prepare(db, "PRAGMA journal_mode");
    ck_assert_ptr_nonnull(statement);
    ck_assert_int_eq(sqlite3_step(statement), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(statement, 0), "memory");
    sqlite3_finalize(statement);

    statement = results_db_prepare(db, "PRAGMA synchronous");
    ck_assert_ptr_nonnull(statement);
    ck_assert_int_eq(sqlite3_step(statement), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(statement, 0), 0);  /* OFF */
    sqlite3_finalize(statement);

    ck_assert(!sqlite3_get_autocommit(results_db_handle(db)));  /* in a transaction */
    results_db_discard(db);
}
END_TEST

START_TEST(commit_batch_persists_rows)
{
    char err[256] = "";
    struct results_db *db = results_db_create(final_path, err, sizeof err);
    ck_assert_msg(db != NULL, "%s", err);

    insert_rows(db, 0, 250);
    /* Rows 0..199 are committed in two batches; 200..249 are still in the
     * open transaction, which another connection does not see. */
    ck_assert_int_eq(query_int(partial_path, "SELECT count(*) FROM t"), 200);
    ck_assert(results_db_finish(db));
    ck_assert_int_eq(query_int(final_path, "SELECT count(*) FROM t"), 250);
}
END_TEST

START_TEST(finish_replaces_old_file)
{
    char err[256] = "";
    struct results_db *db = results_db_create(final_path, err, sizeof err);
    ck_assert_msg(db != NULL, "%s", err);
    insert_rows(db, 0, 10);
    ck_assert(results_db_finish(db));

    db = results_db_create(final_path, err, sizeof err);
    ck_assert_msg(db != NULL, "%s", err);
    /* The old results stay readable until the new file is finished. */
    ck_assert_int_eq(query_int(final_path, "SELECT count(*) FROM t"), 10);
    insert_rows(db, 100, 3);
    ck_assert(results_db_finish(db));
    ck_assert_int_eq(query_int(final_path, "SELECT count(*) FROM t"), 3);
    ck_assert_int_eq(query_int(final_path, "SELECT min(id) FROM t"), 100);
}
END_TEST

START_TEST(discard_removes_files)
{
    char err[256] = "";
    struct results_db *db = results_db_create(final_path, err, sizeof err);
    ck_assert_msg(db != NULL, "%s", err);
    insert_rows(db, 0, 150);
    results_db_discard(db);

    ck_assert(!file_exists(partial_path));
    ck_assert(!file_exists(final_path));
    results_db_discard(NULL);
}
END_TEST

START_TEST(discard_with_open_statement)
{
    char err[256] = "";
    struct results_db *db = results_db_create(final_path, err, sizeof err);
    ck_assert_msg(db != NULL, "%s", err);
    ck_assert(results_db_exec(db, "CREATE TABLE t (id INTEGER)"));
    sqlite3_stmt *statement = results_db_prepare(db, "INSERT INTO t VALUES (1)");
    ck_assert_ptr_nonnull(statement);

    results_db_discard(db);
    ck_assert(!file_exists(partial_path));
    /* The connection is closed once its last statement is finalized. */
    ck_assert_int_eq(sqlite3_finalize(statement), SQLITE_OK);
}
END_TEST

START_TEST(crash_leaves_no_final_file)
{
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        char err[256];
        struct results_db *db = results_db_create(final_path, err, sizeof err);
        if (db != NULL) {
            insert_rows(db, 0, 120);
            raise(SIGKILL);
        }
        _exit(1);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert(WIFSIGNALED(status));
    ck_assert_int_eq(WTERMSIG(status), SIGKILL);
    ck_assert(!file_exists(final_path));
    ck_assert(file_exists(partial_path));

    /* The next run removes the stale partial file and starts afresh. */
    char err[256] = "";
    struct results_db *db = results_db_create(final_path, err, sizeof err);
    ck_assert_msg(db != NULL, "%s", err);
    ck_assert_int_eq(query_int(partial_path, "SELECT count(*) FROM t"), -1);
    insert_rows(db, 0, 5);
    ck_assert(results_db_finish(db));
    ck_assert_int_eq(query_int(final_path, "SELECT count(*) FROM t"), 5);
}
END_TEST

START_TEST(exec_invalid_sql)
{
    char err[256] = "";
    struct results_db *db = results_db_create(final_path, err, sizeof err);
    ck_assert_msg(db != NULL, "%s", err);
    ck_assert(!results_db_exec(db, "CREATE TABLEX t (id)"));
    ck_assert_ptr_null(results_db_prepare(db, "SELECT * FROM missing_table"));
    ck_assert_ptr_nonnull(results_db_handle(db));

    /* A failed statement leaves the transaction usable. */
    ck_assert(results_db_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY)"));
    ck_assert(results_db_exec(db, "INSERT INTO t VALUES (1)"));
    ck_assert(!results_db_exec(db, "INSERT INTO t VALUES (1)"));
    ck_assert(results_db_finish(db));
    ck_assert_int_eq(query_int(final_path, "SELECT count(*) FROM t"), 1);
}
END_TEST

START_TEST(finish_with_open_statement)
{
    char err[256] = "";
    struct results_db *db = results_db_create(final_path, err, sizeof err);
    ck_assert_msg(db != NULL, "%s", err);
    ck_assert(results_db_exec(db, "CREATE TABLE t (id INTEGER)"));
    sqlite3_stmt *statement = results_db_prepare(db, "INSERT INTO t VALUES (1)");
    ck_assert_ptr_nonnull(statement);

    ck_assert(!results_db_finish(db));
    ck_assert(!file_exists(final_path));
    ck_assert(!file_exists(partial_path));
    ck_assert_int_eq(sqlite3_finalize(statement), SQLITE_OK);
}
END_TEST

START_TEST(create_missing_directory)
{
    char err[256] = "";
    char path[192];
    snprintf(path, sizeof path, "%s/missing/run.sqlite", temp_dir);
    ck_assert_ptr_null(results_db_create(path, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "missing/run.sqlite.partial"));
}
END_TEST

Suite *results_db_suite(void);

Suite *results_db_suite(void)
{
    Suite *suite = suite_create("results_db");
    TCase *files = tcase_create("files");
    tcase_add_checked_fixture(files, setup_dir, teardown_dir);
    tcase_add_test(files, finish_publishes_rows);
    tcase_add_test(files, create_sets_pragmas);
    tcase_add_test(files, commit_batch_persists_rows);
    tcase_add_test(files, finish_replaces_old_file);
    tcase_add_test(files, discard_removes_files);
    tcase_add_test(files, discard_with_open_statement);
    tcase_add_test(files, crash_leaves_no_final_file);
    tcase_add_test(files, exec_invalid_sql);
    tcase_add_test(files, finish_with_open_statement);
    tcase_add_test(files, create_missing_directory);
    suite_add_tcase(suite, files);
    return suite;
}

TEST_MAIN(results_db_suite)
