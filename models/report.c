/*
 * The results database.  Rows are written through prepared
 * statements inside one open transaction that is committed every
 * BATCH_ROWS rows, so writing stays a small share of the run time.
 */
#include "models/report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "models/address.h"
#include "models/message.h"
#include "models/report_plots.h"
#include "models/world.h"
#include "sim/results_db.h"

#define BATCH_ROWS 50000

static const char schema[] =
    "CREATE TABLE run (key TEXT PRIMARY KEY, value TEXT);\n"
    "CREATE TABLE messages (id INTEGER PRIMARY KEY, sender TEXT, is_dsn INTEGER,"
    " size INTEGER, attachment_size INTEGER, recipients INTEGER,"
    " submitted REAL, accepted REAL, finished REAL, state TEXT, reason TEXT,"
    " attempts INTEGER, final_code INTEGER, latency REAL);\n"
    "CREATE TABLE recipients (message_id INTEGER, idx INTEGER, address TEXT,"
    " provider TEXT, external INTEGER, phase TEXT, reason TEXT, attempts INTEGER,"
    " reply_code INTEGER, enhanced TEXT, stored REAL, seen REAL, junk INTEGER,"
    " client TEXT, PRIMARY KEY (message_id, idx)) WITHOUT ROWID;\n"
    "CREATE TABLE attempts (id INTEGER PRIMARY KEY, message_id INTEGER,"
    " from_provider TEXT, to_provider TEXT, attempt INTEGER, start REAL, end REAL,"
    " mx_host TEXT, reply_code INTEGER, enhanced TEXT, step TEXT, result TEXT,"
    " recipients INTEGER, connection INTEGER, tls INTEGER);\n"
    "CREATE TABLE samples (time REAL, provider TEXT, metric TEXT, value REAL);\n"
    "CREATE TABLE stations (name TEXT PRIMARY KEY, workers INTEGER,"
    " capacity INTEGER, offered INTEGER, rejected INTEGER, completed INTEGER,"
    " peak_queue INTEGER, mean_queue REAL, utilisation REAL);\n"
    "CREATE TABLE ledger (state TEXT PRIMARY KEY, count INTEGER);\n"
    "CREATE TABLE summary (metric TEXT, path TEXT, value REAL,"
    " PRIMARY KEY (metric, path));\n";

const char *const report_attempt_steps[] = {
    "MX lookup", "connect", "greeting", "EHLO", "HELO", "STARTTLS", "RSET",
    "MAIL FROM", "RCPT TO", "DATA", "end of data", "QUIT", NULL,
};

struct report {
    const struct scenario *scenario;
    char *directory;
    struct results_db *db;
    sqlite3_stmt *insert_message;
    sqlite3_stmt *insert_recipient;
    sqlite3_stmt *insert_attempt;
    uint64_t rows_since_commit;
    bool failed;
    int lock;                  /* descriptor holding DIR/results.lock */
};

const char *report_directory(const struct report *report)
{
    return report->directory;
}

/* Takes an exclusive lock on DIR/results.lock for the whole run, so that
 * a second run into the same directory stops at once instead of removing
 * this run's partial database.  The lock goes with the descriptor, also
 * when the process dies; the file itself stays. */
static int lock_directory(const char *directory, char *error, size_t error_size)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/results.lock", directory);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        snprintf(error, error_size, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(error, error_size, "another mailsim run is writing to %s; wait for it "
                 "to finish or choose another directory with -o", directory);
        close(fd);
        return -1;
    }
    return fd;
}

/* Creates `path` and its parents, like mkdir -p. */
static bool make_directories(const char *path, char *error, size_t error_size)
{
    char buffer[4096];
    if (snprintf(buffer, sizeof buffer, "%s", path) >= (int)sizeof buffer) {
        snprintf(error, error_size, "output directory name is too long");
        return false;
    }
    for (char *p = buffer + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buffer, 0777) != 0 && errno != EEXIST) {
            snprintf(error, error_size, "cannot create directory %s: %s",
                     buffer, strerror(errno));
            return false;
        }
        *p = saved;
        if (saved == '\0')
            return true;
    }
}

struct report *report_open(const struct scenario *scenario, const char *directory,
                           char *error, size_t error_size)
{
    char path[4200];
    if (!make_directories(directory, error, error_size))
        return NULL;
    snprintf(path, sizeof path, "%s/results.sqlite", directory);

    struct report *report = calloc(1, sizeof *report);
    if (!report) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    report->scenario = scenario;
    report->directory = strdup(directory);
    report->lock = lock_directory(directory, error, error_size);
    if (report->lock < 0) {
        free(report->directory);
        free(report);
        return NULL;
    }
    report->db = results_db_create(path, error, error_size);
    if (!report->db || !results_db_exec(report->db, schema)) {
        if (report->db)
            snprintf(error, error_size, "cannot create the results schema in %s", path);
        report_discard(report);
        return NULL;
    }
    report->insert_message = results_db_prepare(report->db,
        "INSERT INTO messages VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    report->insert_recipient = results_db_prepare(report->db,
        "INSERT INTO recipients VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    report->insert_attempt = results_db_prepare(report->db,
        "INSERT INTO attempts (message_id, from_provider, to_provider, attempt,"
        " start, end, mx_host, reply_code, enhanced, step, result, recipients,"
        " connection, tls) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!report->insert_message || !report->insert_recipient || !report->insert_attempt) {
        snprintf(error, error_size, "cannot prepare the results statements");
        report_discard(report);
        return NULL;
    }
    return report;
}

static void finalize_statements(struct report *report)
{
    sqlite3_finalize(report->insert_message);
    sqlite3_finalize(report->insert_recipient);
    sqlite3_finalize(report->insert_attempt);
    report->insert_message = NULL;
    report->insert_recipient = NULL;
    report->insert_attempt = NULL;
}

void report_discard(struct report *report)
{
    if (!report)
        return;
    finalize_statements(report);
    if (report->db)
        results_db_discard(report->db);
    close(report->lock);
    free(report->directory);
    free(report);
}

/* Binds a time in seconds, or NULL for "not reached" (negative). */
static void bind_time(sqlite3_stmt *statement, int column, sim_time t)
{
    if (t < 0)
        sqlite3_bind_null(statement, column);
    else
        sqlite3_bind_double(statement, column, sim_time_to_seconds(t));
}

static void step_row(struct report *report, sqlite3_stmt *statement)
{
    if (sqlite3_step(statement) != SQLITE_DONE && !report->failed) {
        fprintf(stderr, "mailsim: writing results failed: %s\n",
                sqlite3_errmsg(results_db_handle(report->db)));
        report->failed = true;
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    if (++report->rows_since_commit >= BATCH_ROWS) {
        report->rows_since_commit = 0;
        if (!results_db_commit_batch(report->db))
            report->failed = true;
    }
}

static void write_recipient(struct report *report, const struct world *world,
                            const struct message *message, uint16_t index)
{
    const struct recipient *recipient = &message->recipients[index];
    const struct scenario *scenario = world->scenario;
    const struct provider_state *state = &world->providers[recipient->address.provider];
    sqlite3_stmt *statement = report->insert_recipient;
    char address[320];

    address_format(scenario, &recipient->address, address, sizeof address);
    sqlite3_bind_int64(statement, 1, (sqlite3_int64)message->id);
    sqlite3_bind_int(statement, 2, index);
    sqlite3_bind_text(statement, 3, address, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(statement, 4, state->params->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(statement, 5, recipient->external);
    sqlite3_bind_text(statement, 6, recipient_phase_name(recipient->phase), -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(statement, 7, outcome_reason_name(recipient->reason), -1,
                      SQLITE_STATIC);
    sqlite3_bind_int(statement, 8, recipient->attempts);
    if (recipient->reply_code)
        sqlite3_bind_int(statement, 9, recipient->reply_code);
    sqlite3_bind_text(statement, 10, recipient->enhanced, -1, SQLITE_TRANSIENT);
    bind_time(statement, 11, recipient->stored);
    bind_time(statement, 12, recipient->seen);
    sqlite3_bind_int(statement, 13, recipient->junk);
    sqlite3_bind_text(statement, 14,
                      client_kind_name(reader_client_kind(&state->readers,
                                                          recipient->address.mailbox)),
                      -1, SQLITE_STATIC);
    step_row(report, statement);
}

/* Returns whether the rows of message `id` are written.  Below a
 * message_sample of 1, a message is chosen when its id, hashed with
 * SplitMix64's finalizer, falls below the fraction.  So the same messages
 * are chosen in every run, and a message's rows are all written or none. */
bool report_samples_message(const struct scenario *scenario, uint64_t id)
{
    double fraction = scenario->output.message_sample;
    if (!scenario->output.message_rows)
        return false;
    if (fraction >= 1.0)
        return true;
    uint64_t z = id + 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53 < fraction;
}

void report_message(struct report *report, const struct world *world,
                    const struct message *message)
{
    if (!report_samples_message(world->scenario, message->is_dsn && message->journey_of
                                                     ? message->journey_of : message->id))
        return;

    sqlite3_stmt *statement = report->insert_message;
    char sender[320] = "<>";
    int attempts = 0;
    int final_code = 0;

    if (!message->is_dsn)
        address_format(world->scenario, &message->sender, sender, sizeof sender);
    for (uint16_t i = 0; i < message->recipient_count; i++) {
        const struct recipient *recipient = &message->recipients[i];
        if (recipient->attempts > attempts)
            attempts = recipient->attempts;
        if (recipient->reply_code > final_code)
            final_code = recipient->reply_code;
    }

    sqlite3_bind_int64(statement, 1, (sqlite3_int64)message->id);
    sqlite3_bind_text(statement, 2, sender, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(statement, 3, message->is_dsn);
    sqlite3_bind_int64(statement, 4, (sqlite3_int64)message->size);
    sqlite3_bind_int64(statement, 5, (sqlite3_int64)message->attachment_size);
    sqlite3_bind_int(statement, 6, message->recipient_count);
    bind_time(statement, 7, message->submitted);
    bind_time(statement, 8, message->accepted);
    bind_time(statement, 9, message->finished);
    sqlite3_bind_text(statement, 10, message_state_name(message->state), -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(statement, 11, outcome_reason_name(message->reason), -1,
                      SQLITE_STATIC);
    sqlite3_bind_int(statement, 12, attempts);
    if (final_code)
        sqlite3_bind_int(statement, 13, final_code);
    if (message->finished >= 0)
        sqlite3_bind_double(statement, 14,
                            sim_time_to_seconds(message->finished - message->submitted));
    step_row(report, statement);

    for (uint16_t i = 0; i < message->recipient_count; i++)
        write_recipient(report, world, message, i);
}

void report_attempt(struct report *report, const struct attempt_record *attempt)
{
    const struct scenario *scenario = report->scenario;
    sqlite3_stmt *statement = report->insert_attempt;

    sqlite3_bind_int64(statement, 1, (sqlite3_int64)attempt->message_id);
    sqlite3_bind_text(statement, 2, scenario->providers[attempt->from_provider].name,
                      -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 3, scenario->providers[attempt->to_provider].name,
                      -1, SQLITE_STATIC);
    sqlite3_bind_int(statement, 4, attempt->attempt);
    bind_time(statement, 5, attempt->start);
    bind_time(statement, 6, attempt->end);
    sqlite3_bind_text(statement, 7, attempt->mx_host, -1, SQLITE_TRANSIENT);
    if (attempt->reply_code)
        sqlite3_bind_int(statement, 8, attempt->reply_code);
    sqlite3_bind_text(statement, 9, attempt->enhanced, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(statement, 10, attempt->step, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(statement, 11, attempt->result, -1, SQLITE_STATIC);
    sqlite3_bind_int(statement, 12, attempt->recipients);
    if (attempt->connection)
        sqlite3_bind_int64(statement, 13, (sqlite3_int64)attempt->connection);
    sqlite3_bind_int(statement, 14, attempt->tls);
    step_row(report, statement);
}

static void insert_run_value(struct report *report, sqlite3_stmt *statement,
                             const char *key, const char *value)
{
    sqlite3_bind_text(statement, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, value, -1, SQLITE_TRANSIENT);
    step_row(report, statement);
}

static void write_run(struct report *report, const struct world *world,
                      const struct run_info *info)
{
    const struct scenario *scenario = world->scenario;
    sqlite3_stmt *statement = results_db_prepare(report->db,
                                                 "INSERT INTO run VALUES (?, ?)");
    char number[64];

    if (!statement) {
        report->failed = true;
        return;
    }
    insert_run_value(report, statement, "scenario_name", scenario->name);
    insert_run_value(report, statement, "scenario_path", scenario->path);
    insert_run_value(report, statement, "scenario_text", scenario->text);
    snprintf(number, sizeof number, "%" PRIu64, scenario->seed);
    insert_run_value(report, statement, "seed", number);
    insert_run_value(report, statement, "version", info->version);
    insert_run_value(report, statement, "status", info->status);
    snprintf(number, sizeof number, "%.3f", info->wall_seconds);
    insert_run_value(report, statement, "wall_seconds", number);
    snprintf(number, sizeof number, "%" PRIu64, info->events);
    insert_run_value(report, statement, "events", number);
    snprintf(number, sizeof number, "%016" PRIx64, info->fingerprint);
    insert_run_value(report, statement, "fingerprint", number);
    snprintf(number, sizeof number, "%.9f", sim_time_to_seconds(info->end_time));
    insert_run_value(report, statement, "end_time", number);
    sqlite3_finalize(statement);
}

static void write_series(struct report *report, sqlite3_stmt *statement,
                         const char *provider, const struct series *series)
{
    for (size_t i = 0; i < series->count; i++) {
        sqlite3_bind_double(statement, 1, sim_time_to_seconds(series->times[i]));
        sqlite3_bind_text(statement, 2, provider, -1, SQLITE_STATIC);
        sqlite3_bind_text(statement, 3, series->name, -1, SQLITE_STATIC);
        sqlite3_bind_double(statement, 4, series->values[i]);
        step_row(report, statement);
    }
}

static void write_samples(struct report *report, const struct world *world)
{
    sqlite3_stmt *statement = results_db_prepare(report->db,
                                                 "INSERT INTO samples VALUES (?,?,?,?)");
    if (!statement) {
        report->failed = true;
        return;
    }
    for (size_t i = 0; i < world->scenario->provider_count; i++) {
        const struct provider_state *state = &world->providers[i];
        const char *name = state->params->name;
        write_series(report, statement, name, &state->web_queue);
        write_series(report, statement, name, &state->outgoing_queue);
        write_series(report, statement, name, &state->deferred_series);
        write_series(report, statement, name, &state->incoming_queue);
        write_series(report, statement, name, &state->smtp_out_busy);
        write_series(report, statement, name, &state->processing_busy);
        write_series(report, statement, name, &state->smtp_in_sessions);
    }
    sqlite3_finalize(statement);
}

static void write_station(struct report *report, sqlite3_stmt *statement,
                          const struct station *station, sim_time now)
{
    double utilisation = station->workers > 0
        ? time_average_mean(&station->busy_average, now) / station->workers : 0;

    sqlite3_bind_text(statement, 1, station->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(statement, 2, station->workers);
    sqlite3_bind_int64(statement, 3, (sqlite3_int64)station->capacity);
    sqlite3_bind_int64(statement, 4, (sqlite3_int64)station->offered);
    sqlite3_bind_int64(statement, 5, (sqlite3_int64)station->rejected);
    sqlite3_bind_int64(statement, 6, (sqlite3_int64)station->completed);
    sqlite3_bind_int64(statement, 7, (sqlite3_int64)station->peak_length);
    sqlite3_bind_double(statement, 8, time_average_mean(&station->queue_average, now));
    sqlite3_bind_double(statement, 9, utilisation);
    step_row(report, statement);
}

static void write_stations(struct report *report, const struct world *world)
{
    sqlite3_stmt *statement = results_db_prepare(report->db,
        "INSERT INTO stations VALUES (?,?,?,?,?,?,?,?,?)");
    sim_time now = engine_now(world->engine);

    if (!statement) {
        report->failed = true;
        return;
    }
    for (size_t i = 0; i < world->scenario->provider_count; i++) {
        const struct provider_state *state = &world->providers[i];
        for (int w = 0; w < state->params->web.servers; w++)
            write_station(report, statement, &state->web_servers[w], now);
        write_station(report, statement, &state->outgoing, now);
        write_station(report, statement, &state->processing, now);
    }
    sqlite3_finalize(statement);
}

static void write_ledger(struct report *report, const struct world *world)
{
    sqlite3_stmt *statement = results_db_prepare(report->db,
                                                 "INSERT INTO ledger VALUES (?, ?)");
    if (!statement) {
        report->failed = true;
        return;
    }
    for (int state = 0; state < MESSAGE_STATE_COUNT; state++) {
        sqlite3_bind_text(statement, 1, message_state_name(state), -1, SQLITE_STATIC);
        sqlite3_bind_int64(statement, 2, (sqlite3_int64)world->ledger.count[state]);
        step_row(report, statement);
    }
    sqlite3_finalize(statement);
}

static const char *const path_names[PATH_COUNT] = {
    [PATH_LOCAL] = "same_provider",
    [PATH_EXTERNAL] = "other_provider",
};

static void insert_summary(struct report *report, sqlite3_stmt *statement,
                           const char *metric, const char *path, double value)
{
    sqlite3_bind_text(statement, 1, metric, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(statement, 2, path, -1, SQLITE_STATIC);
    if (isfinite(value))
        sqlite3_bind_double(statement, 3, value);
    step_row(report, statement);
}

static void write_latency_summary(struct report *report, sqlite3_stmt *statement,
                                  const char *prefix,
                                  struct histogram *const *histograms)
{
    static const struct {
        const char *name;
        double q;
    } quantiles[] = {{"p50", 0.50}, {"p95", 0.95}, {"p99", 0.99}};
    char metric[64];

    for (int path = 0; path < PATH_COUNT; path++) {
        const struct histogram *histogram = histograms[path];
        snprintf(metric, sizeof metric, "%s_count", prefix);
        insert_summary(report, statement, metric, path_names[path],
                       (double)histogram_count(histogram));
        if (histogram_count(histogram) == 0)
            continue;
        snprintf(metric, sizeof metric, "%s_mean", prefix);
        insert_summary(report, statement, metric, path_names[path],
                       histogram_mean(histogram));
        for (size_t q = 0; q < sizeof quantiles / sizeof quantiles[0]; q++) {
            snprintf(metric, sizeof metric, "%s_%s", prefix, quantiles[q].name);
            insert_summary(report, statement, metric, path_names[path],
                           histogram_quantile(histogram, quantiles[q].q));
        }
        snprintf(metric, sizeof metric, "%s_max", prefix);
        insert_summary(report, statement, metric, path_names[path],
                       histogram_max(histogram));
    }
}

static void write_summary(struct report *report, const struct world *world)
{
    sqlite3_stmt *statement = results_db_prepare(report->db,
                                                 "INSERT INTO summary VALUES (?,?,?)");
    if (!statement) {
        report->failed = true;
        return;
    }
    write_latency_summary(report, statement, "stored_latency", world->stored_latency);
    write_latency_summary(report, statement, "seen_latency", world->seen_latency);
    insert_summary(report, statement, "messages_submitted", "all",
                   (double)world->messages_submitted);
    insert_summary(report, statement, "dsn_created", "all", (double)world->dsn_created);
    insert_summary(report, statement, "delay_warnings", "all", (double)world->delay_warnings);
    insert_summary(report, statement, "smtp_attempts", "all", (double)world->attempts);
    insert_summary(report, statement, "recipients_delivered", "all",
                   (double)world->recipients_delivered);
    insert_summary(report, statement, "recipients_bounced", "all",
                   (double)world->recipients_bounced);
    insert_summary(report, statement, "recipients_junk", "all", (double)world->junk);
    for (size_t i = 0; i < world->scenario->provider_count; i++) {
        const struct provider_state *state = &world->providers[i];
        insert_summary(report, statement, "peak_outgoing_queue", state->params->name,
                       (double)(state->peak_outgoing > state->outgoing.peak_length
                                ? state->peak_outgoing : state->outgoing.peak_length));
        insert_summary(report, statement, "peak_deferred", state->params->name,
                       (double)state->peak_deferred);
        insert_summary(report, statement, "peak_incoming_queue", state->params->name,
                       (double)state->processing.peak_length);
        insert_summary(report, statement, "smtp_sessions_refused", state->params->name,
                       (double)state->smtp_sessions_refused);
        insert_summary(report, statement, "deliveries_suspended", state->params->name,
                       (double)state->deliveries_suspended);
        insert_summary(report, statement, "bytes_refused_after_data", state->params->name,
                       (double)state->bytes_refused_after_data);
    }
    sqlite3_finalize(statement);
}

bool report_finish(struct report *report, const struct world *world,
                   const struct run_info *info)
{
    char error[512];

    finalize_statements(report);
    write_run(report, world, info);
    write_samples(report, world);
    write_stations(report, world);
    write_ledger(report, world);
    write_summary(report, world);

    bool plots_ok = true;
    if (world->scenario->output.plots)
        plots_ok = report_plots_write(world, report->directory, error, sizeof error);
    if (!plots_ok)
        fprintf(stderr, "mailsim: %s\n", error);

    bool ok = !report->failed;
    if (ok)
        ok = results_db_finish(report->db);
    else
        results_db_discard(report->db);
    report->db = NULL;
    close(report->lock);
    free(report->directory);
    free(report);
    return ok && plots_ok;
}
