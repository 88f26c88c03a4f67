#include "sim/results_db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct results_db {
    sqlite3 *handle;
    char *final_path;
    char *partial_path;
};

static void log_sqlite_error(const struct results_db *db, const char *operation)
{
    fprintf(stderr, "results_db: %s failed on %s: %s\n", operation,
            db->partial_path, sqlite3_errmsg(db->handle));
}

static void results_db_free(struct results_db *db)
{
    free(db->final_path);
    free(db->partial_path);
    free(db);
}

/* Removes the partial file and frees `db`.  Close the connection first. */
static void remove_partial(struct results_db *db)
{
    if (unlink(db->partial_path) != 0 && errno != ENOENT)
        fprintf(stderr, "results_db: removing %s failed: %s\n",
                db->partial_path, strerror(errno));
    results_db_free(db);
}

static struct results_db *results_db_alloc(const char *final_path)
{
    struct results_db *db = calloc(1, sizeof *db);
    size_t length = strlen(final_path);
    if (db == NULL)
        return NULL;
    db->final_path = strdup(final_path);
    db->partial_path = malloc(length + sizeof RESULTS_DB_PARTIAL_SUFFIX);
    if (db->final_path == NULL || db->partial_path == NULL) {
        results_db_free(db);
        return NULL;
    }
    memcpy(db->partial_path, final_path, length);
    memcpy(db->partial_path + length, RESULTS_DB_PARTIAL_SUFFIX,
           sizeof RESULTS_DB_PARTIAL_SUFFIX);
    return db;
}

/* The rollback journal lives in memory because the file is invisible under
 * its final name until finished: a crash leaves only a .partial file that
 * is never read.  MEMORY rather than OFF keeps ROLLBACK and the undoing of
 * a failed statement working.  Pages appended to a new file are not
 * journaled, so bulk inserts cost little journal memory. */
static const char results_db_setup_sql[] =
    "PRAGMA journal_mode=MEMORY;"
    "PRAGMA synchronous=OFF;"
    "BEGIN;";

struct results_db *results_db_create(const char *final_path, char *err,
                                     size_t err_size)
{
    struct results_db *db = results_db_alloc(final_path);
    if (db == NULL) {
        snprintf(err, err_size, "out of memory opening results file %s", final_path);
        return NULL;
    }
    if (unlink(db->partial_path) != 0 && errno != ENOENT) {
        snprintf(err, err_size, "removing stale %s failed: %s", db->partial_path,
                 strerror(errno));
        results_db_free(db);
        return NULL;
    }

    /* One thread uses the connection, so SQLite's mutexes are not needed. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(db->partial_path, &db->handle, flags, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db->handle, results_db_setup_sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "creating results file %s failed: %s",
                 db->partial_path, db->handle != NULL
                     ? sqlite3_errmsg(db->handle) : sqlite3_errstr(rc));
        sqlite3_close(db->handle);
        remove_partial(db);
        return NULL;
    }
    return db;
}

sqlite3 *results_db_handle(struct results_db *db)
{
    return db->handle;
}

bool results_db_exec(struct results_db *db, const char *sql)
{
    if (sqlite3_exec(db->handle, sql, NULL, NULL, NULL) == SQLITE_OK)
        return true;
    log_sqlite_error(db, "SQL");
    fprintf(stderr, "results_db: the statement was: %s\n", sql);
    return false;
}

sqlite3_stmt *results_db_prepare(struct results_db *db, const char *sql)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(db->handle, sql, -1, &statement, NULL) == SQLITE_OK)
        return statement;
    log_sqlite_error(db, "prepare");
    fprintf(stderr, "results_db: the statement was: %s\n", sql);
    return NULL;
}

bool results_db_commit_batch(struct results_db *db)
{
    return results_db_exec(db, "COMMIT; BEGIN;");
}

/* Flushes `path` to disk.  Set `directory` when `path` names a directory. */
static bool fsync_path(const char *path, bool directory)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
    if (fd < 0 || fsync(fd) != 0) {
        fprintf(stderr, "results_db: fsync of %s failed: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    return close(fd) == 0;
}

/* Flushes the directory that contains `path`, so a rename in it is durable. */
static bool fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return fsync_path(".", true);
    if (slash == path)
        return fsync_path("/", true);

    size_t length = (size_t)(slash - path);
    char *parent = malloc(length + 1);
    if (parent == NULL)
        return false;
    memcpy(parent, path, length);
    parent[length] = '\0';
    bool ok = fsync_path(parent, true);
    free(parent);
    return ok;
}

bool results_db_finish(struct results_db *db)
{
    if (!results_db_exec(db, "COMMIT;")) {
        sqlite3_close_v2(db->handle);
        remove_partial(db);
        return false;
    }
    if (sqlite3_close(db->handle) != SQLITE_OK) {
        fprintf(stderr, "results_db: closing %s failed: %s.  Finalize every "
                "prepared statement before results_db_finish.\n",
                db->partial_path, sqlite3_errmsg(db->handle));
        sqlite3_close_v2(db->handle);
        remove_partial(db);
        return false;
    }
    if (!fsync_path(db->partial_path, false)) {
        remove_partial(db);
        return false;
    }
    if (rename(db->partial_path, db->final_path) != 0) {
        fprintf(stderr, "results_db: renaming %s to %s failed: %s\n",
                db->partial_path, db->final_path, strerror(errno));
        remove_partial(db);
        return false;
    }
    /* The file is complete under its final name even if this fails. */
    fsync_parent(db->final_path);
    results_db_free(db);
    return true;
}

void results_db_discard(struct results_db *db)
{
    if (db == NULL)
        return;
    /* Fails harmlessly when no transaction is open. */
    sqlite3_exec(db->handle, "ROLLBACK;", NULL, NULL, NULL);
    /* close_v2 defers the close until the caller's statements are
     * finalized instead of failing. */
    sqlite3_close_v2(db->handle);
    remove_partial(db);
}
