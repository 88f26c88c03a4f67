/*
 * Results of a run: the SQLite database, the plots and the summary table.
 *
 * report_open creates results.sqlite.partial in the output directory and
 * writes rows as the run goes (messages as they finish, delivery attempts
 * as they end), committing in batches; report_finish adds the run
 * metadata, time series and summary, then renames the file into place, so
 * a results.sqlite on disk is always complete.  The schema is documented
 * in docs/results-schema.md.
 */
#ifndef MAILSIM_REPORT_H
#define MAILSIM_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/simtime.h"

struct message;
struct scenario;
struct world;

/* Values of attempts.step: where an attempt ended.  NULL-terminated. */
extern const char *const report_attempt_steps[];

/* One SMTP delivery attempt to one host. */
struct attempt_record {
    uint64_t message_id;
    uint32_t from_provider;
    uint32_t to_provider;
    uint16_t attempt;          /* 1 for the first attempt of this envelope */
    sim_time start;
    sim_time end;
    const char *mx_host;
    int reply_code;            /* 0 when no reply came (connection failure) */
    const char *enhanced;      /* "" when none */
    const char *step;          /* one of report_attempt_steps */
    const char *result;        /* delivered, next_mx, deferred, bounced */
    uint16_t recipients;
    uint64_t connection;       /* SMTP connection number; 0 for none */
    bool tls;                  /* the transaction ran over TLS */
};

/* Run facts known only at the end, stored in the run table. */
struct run_info {
    const char *version;
    const char *status;        /* "complete" */
    double wall_seconds;
    uint64_t events;
    uint64_t fingerprint;
    sim_time end_time;
};

struct report;

/* Creates the output directory if needed and opens the partial database.
 * Returns NULL with a message in `error` on failure. */
struct report *report_open(const struct scenario *scenario, const char *directory,
                           char *error, size_t error_size);

/* Whether output.message_rows and output.message_sample select message
 * `id` for the messages, recipients and attempts tables. */
bool report_samples_message(const struct scenario *scenario, uint64_t id);

void report_message(struct report *report, const struct world *world,
                    const struct message *message);
void report_attempt(struct report *report, const struct attempt_record *attempt);

/* Writes the remaining tables and the plots, and renames the database into
 * place.  Returns false after printing what failed. */
bool report_finish(struct report *report, const struct world *world,
                   const struct run_info *info);

/* Deletes the partial database and frees the report. */
void report_discard(struct report *report);

const char *report_directory(const struct report *report);

#endif
