/*
 * One SQLite results file, written so that a reader never sees it half
 * done.  Rows go into FINAL_PATH.partial inside one transaction, and
 * results_db_finish renames the finished file over FINAL_PATH.  A run that
 * dies before that leaves only the .partial file behind, which the next
 * results_db_create for the same path removes.
 *
 * Errors after creation are logged to stderr with sqlite3_errmsg and
 * returned as false or NULL.
 */
#ifndef MAILSIM_RESULTS_DB_H
#define MAILSIM_RESULTS_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#define RESULTS_DB_PARTIAL_SUFFIX ".partial"

struct results_db;

/* Creates FINAL_PATH.partial (removing a stale one), opens it with
 * journal_mode=MEMORY and synchronous=OFF for bulk writing, and begins a
 * transaction.  Nothing is written at FINAL_PATH until results_db_finish.
 * Returns NULL and fills `err` on failure. */
struct results_db *results_db_create(const char *final_path, char *err,
                                     size_t err_size);

/* The connection, for binding and stepping statements directly. */
sqlite3 *results_db_handle(struct results_db *db);

/* Runs one or more SQL statements that return no rows. */
bool results_db_exec(struct results_db *db, const char *sql);

/* Prepares one statement, which the caller must finalize before
 * results_db_finish. */
sqlite3_stmt *results_db_prepare(struct results_db *db, const char *sql);

/* Commits the rows written so far and begins a new transaction, so that a
 * large insert does not keep every change in one transaction. */
bool results_db_commit_batch(struct results_db *db);

/* Commits, closes, fsyncs the file and renames it over FINAL_PATH (then
 * fsyncs the directory so the rename survives a power loss).  Every
 * prepared statement must be finalized first.  Frees `db` whatever the
 * outcome; on failure the partial file is removed and FINAL_PATH keeps its
 * previous contents, if any. */
bool results_db_finish(struct results_db *db);

/* Rolls back, closes, deletes the partial file and frees `db`.  NULL is a
 * no-op. */
void results_db_discard(struct results_db *db);

#endif
