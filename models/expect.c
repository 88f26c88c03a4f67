/*
 * Expectations evaluated as SQL over a results database.  Each metric
 * names the rows it looks at (recipients, messages or attempts rows, of
 * submitted mail or of DSNs), an extra condition on them and an aggregate,
 * or for a percentile the value to rank.  The filters add conditions with
 * bound parameters, so no text from a scenario is ever pasted into SQL.
 */
#include "models/expect.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rows a metric counts.  DSNs are kept apart from submitted mail, so
 * that a bounce, which creates a DSN, does not also count as a delivery. */
enum expect_rows {
    ROWS_RECIPIENTS,           /* recipients of submitted messages */
    ROWS_DSN_RECIPIENTS,       /* recipients of DSNs */
    ROWS_MESSAGES,             /* submitted messages */
    ROWS_DSNS,                 /* DSN messages */
    ROWS_ATTEMPTS,             /* rows of the attempts table */
};

struct metric_info {
    enum expect_rows rows;
    const char *condition;     /* extra WHERE condition, or NULL */
    const char *aggregate;     /* SQL aggregate, or NULL for a percentile */
    const char *ranked;        /* the value a percentile ranks */
    int percentile;
    enum expect_unit unit;
    const char *empty;         /* why the value can be undefined */
};

#define DELIVERED_STORED "r.phase = 'delivered' AND r.stored IS NOT NULL"
#define DELIVERED_SEEN "r.phase = 'delivered' AND r.seen IS NOT NULL"
#define STORED_LATENCY "r.stored - m.submitted"
#define SEEN_LATENCY "r.seen - m.submitted"
#define NO_DELIVERED "no delivered recipient matches"

#define COUNT_OF(rows, condition) \
    { rows, condition, "COUNT(*)", NULL, 0, EXPECT_UNIT_COUNT, NULL }
#define PERCENTILE_OF(condition, value, p) \
    { ROWS_RECIPIENTS, condition, NULL, value, p, EXPECT_UNIT_SECONDS, NO_DELIVERED }
#define LATENCY_OF(condition, aggregate) \
    { ROWS_RECIPIENTS, condition, aggregate, NULL, 0, EXPECT_UNIT_SECONDS, NO_DELIVERED }

static const struct metric_info metrics[EXPECT_METRIC_COUNT] = {
    [EXPECT_DELIVERED] = COUNT_OF(ROWS_RECIPIENTS, "r.phase = 'delivered'"),
    [EXPECT_BOUNCED] = COUNT_OF(ROWS_RECIPIENTS, "r.phase = 'bounced'"),
    [EXPECT_REJECTED] = COUNT_OF(ROWS_RECIPIENTS, "r.phase = 'rejected'"),
    [EXPECT_DROPPED] = COUNT_OF(ROWS_DSN_RECIPIENTS, "r.phase = 'dropped'"),
    [EXPECT_IN_FLIGHT] = COUNT_OF(ROWS_RECIPIENTS, "r.phase NOT IN "
                                  "('delivered', 'bounced', 'rejected', 'dropped')"),
    [EXPECT_MESSAGES] = COUNT_OF(ROWS_MESSAGES, NULL),
    [EXPECT_DELIVERED_RATIO] = { ROWS_RECIPIENTS, NULL, "AVG(r.phase = 'delivered')",
                                 NULL, 0, EXPECT_UNIT_RATIO, "no recipient matches" },
    [EXPECT_BOUNCE_RATIO] = { ROWS_RECIPIENTS, NULL, "AVG(r.phase = 'bounced')",
                              NULL, 0, EXPECT_UNIT_RATIO, "no recipient matches" },
    [EXPECT_LATENCY_P50] = PERCENTILE_OF(DELIVERED_STORED, STORED_LATENCY, 50),
    [EXPECT_LATENCY_P95] = PERCENTILE_OF(DELIVERED_STORED, STORED_LATENCY, 95),
    [EXPECT_LATENCY_P99] = PERCENTILE_OF(DELIVERED_STORED, STORED_LATENCY, 99),
    [EXPECT_LATENCY_MAX] = LATENCY_OF(DELIVERED_STORED, "MAX(" STORED_LATENCY ")"),
    [EXPECT_LATENCY_MEAN] = LATENCY_OF(DELIVERED_STORED, "AVG(" STORED_LATENCY ")"),
    [EXPECT_SEEN_LATENCY_P50] = PERCENTILE_OF(DELIVERED_SEEN, SEEN_LATENCY, 50),
    [EXPECT_SEEN_LATENCY_P95] = PERCENTILE_OF(DELIVERED_SEEN, SEEN_LATENCY, 95),
    [EXPECT_SEEN_LATENCY_P99] = PERCENTILE_OF(DELIVERED_SEEN, SEEN_LATENCY, 99),
    [EXPECT_SEEN_LATENCY_MAX] = LATENCY_OF(DELIVERED_SEEN, "MAX(" SEEN_LATENCY ")"),
    [EXPECT_SEEN_LATENCY_MEAN] = LATENCY_OF(DELIVERED_SEEN, "AVG(" SEEN_LATENCY ")"),
    /* Mail within a provider makes no SMTP attempt, and would pull the
     * mean towards 0. */
    [EXPECT_ATTEMPTS_MEAN] = { ROWS_RECIPIENTS, "r.attempts >= 1", "AVG(r.attempts)",
                               NULL, 0, EXPECT_UNIT_NUMBER,
                               "no recipient with an SMTP attempt matches" },
    [EXPECT_ATTEMPTS_MAX] = { ROWS_RECIPIENTS, NULL, "COALESCE(MAX(r.attempts), 0)",
                              NULL, 0, EXPECT_UNIT_COUNT, NULL },
    [EXPECT_SMTP_ATTEMPTS] = COUNT_OF(ROWS_ATTEMPTS, NULL),
    [EXPECT_REPLY_CODE_COUNT] = COUNT_OF(ROWS_ATTEMPTS, NULL),
    [EXPECT_DSN_COUNT] = COUNT_OF(ROWS_DSNS, NULL),
};

const char *const expect_metric_names[EXPECT_METRIC_COUNT + 1] = {
    [EXPECT_DELIVERED] = "delivered",
    [EXPECT_BOUNCED] = "bounced",
    [EXPECT_REJECTED] = "rejected",
    [EXPECT_DROPPED] = "dropped",
    [EXPECT_IN_FLIGHT] = "in_flight",
    [EXPECT_MESSAGES] = "messages",
    [EXPECT_DELIVERED_RATIO] = "delivered_ratio",
    [EXPECT_BOUNCE_RATIO] = "bounce_ratio",
    [EXPECT_LATENCY_P50] = "latency_p50",
    [EXPECT_LATENCY_P95] = "latency_p95",
    [EXPECT_LATENCY_P99] = "latency_p99",
    [EXPECT_LATENCY_MAX] = "latency_max",
    [EXPECT_LATENCY_MEAN] = "latency_mean",
    [EXPECT_SEEN_LATENCY_P50] = "seen_latency_p50",
    [EXPECT_SEEN_LATENCY_P95] = "seen_latency_p95",
    [EXPECT_SEEN_LATENCY_P99] = "seen_latency_p99",
    [EXPECT_SEEN_LATENCY_MAX] = "seen_latency_max",
    [EXPECT_SEEN_LATENCY_MEAN] = "seen_latency_mean",
    [EXPECT_ATTEMPTS_MEAN] = "attempts_mean",
    [EXPECT_ATTEMPTS_MAX] = "attempts_max",
    [EXPECT_SMTP_ATTEMPTS] = "smtp_attempts",
    [EXPECT_REPLY_CODE_COUNT] = "reply_code_count",
    [EXPECT_DSN_COUNT] = "dsn_count",
    [EXPECT_METRIC_COUNT] = NULL,
};

const char *const expect_filter_names[EXPECT_FILTER_COUNT + 1] = {
    [EXPECT_FILTER_SENDER_DOMAIN] = "sender_domain",
    [EXPECT_FILTER_RECIPIENT_DOMAIN] = "recipient_domain",
    [EXPECT_FILTER_PATH] = "path",
    [EXPECT_FILTER_SUBMITTED_FROM] = "submitted_from",
    [EXPECT_FILTER_SUBMITTED_UNTIL] = "submitted_until",
    [EXPECT_FILTER_STEP] = "step",
    [EXPECT_FILTER_CODE] = "code",
    [EXPECT_FILTER_COUNT] = NULL,
};

const char *const expect_comparison_names[EXPECT_COMPARISON_COUNT + 1] = {
    [EXPECT_AT_LEAST] = "at_least",
    [EXPECT_AT_MOST] = "at_most",
    [EXPECT_EQUALS] = "equals",
    [EXPECT_BETWEEN] = "between",
    [EXPECT_COMPARISON_COUNT] = NULL,
};

/* Indexed by enum expect_path; "any" is the absence of the filter and is
 * not a YAML value, so the list for config_choice starts after it. */
const char *const expect_path_names[] = {
    [EXPECT_PATH_ANY] = "any",
    [EXPECT_PATH_SAME_PROVIDER] = "same_provider",
    [EXPECT_PATH_OTHER_PROVIDER] = "other_provider",
    NULL,
};

void expect_filter_init(struct expect_filter *filter)
{
    *filter = (struct expect_filter){
        .path = EXPECT_PATH_ANY,
        .submitted_from = -1,
        .submitted_until = -1,
    };
}

void expect_fini(struct expectation *expectation)
{
    free(expectation->filter.sender_domain);
    free(expectation->filter.recipient_domain);
    free(expectation->filter.step);
    expectation->filter.sender_domain = NULL;
    expectation->filter.recipient_domain = NULL;
    expectation->filter.step = NULL;
}

enum expect_unit expect_metric_unit(enum expect_metric metric)
{
    return metrics[metric].unit;
}

bool expect_filter_applies(enum expect_metric metric, enum expect_filter_key key)
{
    enum expect_rows rows = metrics[metric].rows;
    bool dsn = rows == ROWS_DSN_RECIPIENTS || rows == ROWS_DSNS;
    switch (key) {
    case EXPECT_FILTER_SENDER_DOMAIN:
        return !dsn;           /* a DSN's sender is the null path <> */
    case EXPECT_FILTER_STEP:
        return rows == ROWS_ATTEMPTS;
    case EXPECT_FILTER_CODE:
        return metric == EXPECT_REPLY_CODE_COUNT;
    default:
        return true;
    }
}

bool expect_filter_required(enum expect_metric metric, enum expect_filter_key key)
{
    return metric == EXPECT_REPLY_CODE_COUNT && key == EXPECT_FILTER_CODE;
}

static bool nearly_equal(double value, double bound)
{
    return fabs(value - bound) <= 1e-9 * fmax(1.0, fabs(bound));
}

bool expect_compare(const struct expectation *expectation, double value)
{
    switch (expectation->comparison) {
    case EXPECT_AT_LEAST:
        return value >= expectation->low;
    case EXPECT_AT_MOST:
        return value <= expectation->high;
    case EXPECT_EQUALS:
        return nearly_equal(value, expectation->low);
    case EXPECT_BETWEEN:
        return value >= expectation->low && value <= expectation->high;
    default:
        return false;
    }
}

/* An SQL statement under construction with its parameters, which are bound
 * in order after preparing. */
#define QUERY_TEXT_MAX 2048
#define QUERY_BINDS_MAX 12

enum bind_kind { BIND_TEXT, BIND_DOUBLE, BIND_INT };

struct query {
    char text[QUERY_TEXT_MAX];
    size_t length;
    bool overflow;
    struct {
        enum bind_kind kind;
        const char *text;
        double number;
        int64_t integer;
    } binds[QUERY_BINDS_MAX];
    size_t bind_count;
};

static void query_append(struct query *query, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void query_append(struct query *query, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    size_t room = QUERY_TEXT_MAX - query->length;
    int written = vsnprintf(query->text + query->length, room, format, args);
    va_end(args);
    if (written < 0 || (size_t)written >= room)
        query->overflow = true;
    else
        query->length += (size_t)written;
}

static void query_bind_text(struct query *query, const char *text)
{
    if (query->bind_count == QUERY_BINDS_MAX) {
        query->overflow = true;
        return;
    }
    query->binds[query->bind_count].kind = BIND_TEXT;
    query->binds[query->bind_count++].text = text;
}

static void query_bind_double(struct query *query, double number)
{
    if (query->bind_count == QUERY_BINDS_MAX) {
        query->overflow = true;
        return;
    }
    query->binds[query->bind_count].kind = BIND_DOUBLE;
    query->binds[query->bind_count++].number = number;
}

static void query_bind_int(struct query *query, int64_t integer)
{
    if (query->bind_count == QUERY_BINDS_MAX) {
        query->overflow = true;
        return;
    }
    query->binds[query->bind_count].kind = BIND_INT;
    query->binds[query->bind_count++].integer = integer;
}

#define SENDER_DOMAIN "substr(m.sender, instr(m.sender, '@') + 1)"
#define RECIPIENT_DOMAIN "substr(r.address, instr(r.address, '@') + 1)"

static const char *rows_from(enum expect_rows rows)
{
    switch (rows) {
    case ROWS_RECIPIENTS:
        return "FROM recipients r JOIN messages m ON m.id = r.message_id "
               "WHERE m.is_dsn = 0";
    case ROWS_DSN_RECIPIENTS:
        return "FROM recipients r JOIN messages m ON m.id = r.message_id "
               "WHERE m.is_dsn = 1";
    case ROWS_MESSAGES:
        return "FROM messages m WHERE m.is_dsn = 0";
    case ROWS_DSNS:
        return "FROM messages m WHERE m.is_dsn = 1";
    default:
        return "FROM attempts a JOIN messages m ON m.id = a.message_id WHERE 1";
    }
}

/* Conditions on the recipient `r` of a row: directly for recipient rows,
 * or inside an EXISTS over the message's recipients otherwise.  An
 * attempt's recipients are those at the provider it connected to.
 * NOTE: attempts rows do not store the domain, so for a message to two
 * domains of one provider, an attempt to either counts for both. */
static void append_recipient_filters(struct query *query, enum expect_rows rows,
                                     const struct expect_filter *filter)
{
    bool direct = rows == ROWS_RECIPIENTS || rows == ROWS_DSN_RECIPIENTS;
    bool path_on_recipient = rows != ROWS_ATTEMPTS && filter->path != EXPECT_PATH_ANY;
    if (filter->recipient_domain == NULL && !path_on_recipient)
        return;

    if (!direct && rows == ROWS_ATTEMPTS)
        query_append(query, " AND EXISTS (SELECT 1 FROM recipients r WHERE "
                            "r.message_id = a.message_id AND r.provider = a.to_provider");
    else if (!direct)
        query_append(query, " AND EXISTS (SELECT 1 FROM recipients r WHERE "
                            "r.message_id = m.id");
    if (filter->recipient_domain != NULL) {
        query_append(query, " AND " RECIPIENT_DOMAIN " = ? COLLATE NOCASE");
        query_bind_text(query, filter->recipient_domain);
    }
    if (path_on_recipient) {
        query_append(query, " AND r.external = ?");
        query_bind_int(query, filter->path == EXPECT_PATH_OTHER_PROVIDER);
    }
    if (!direct)
        query_append(query, ")");
}

/* Appends "FROM ... WHERE ..." for the metric's rows and every filter. */
static void append_rows(struct query *query, const struct expectation *expectation)
{
    const struct metric_info *info = &metrics[expectation->metric];
    const struct expect_filter *filter = &expectation->filter;

    query_append(query, " %s", rows_from(info->rows));
    if (info->condition != NULL)
        query_append(query, " AND %s", info->condition);
    if (filter->sender_domain != NULL) {
        query_append(query, " AND " SENDER_DOMAIN " = ? COLLATE NOCASE");
        query_bind_text(query, filter->sender_domain);
    }
    append_recipient_filters(query, info->rows, filter);
    if (info->rows == ROWS_ATTEMPTS && filter->path != EXPECT_PATH_ANY) {
        query_append(query, " AND (a.from_provider = a.to_provider) = ?");
        query_bind_int(query, filter->path == EXPECT_PATH_SAME_PROVIDER);
    }
    if (filter->submitted_from >= 0) {
        query_append(query, " AND m.submitted >= ?");
        query_bind_double(query, sim_time_to_seconds(filter->submitted_from));
    }
    if (filter->submitted_until >= 0) {
        query_append(query, " AND m.submitted < ?");
        query_bind_double(query, sim_time_to_seconds(filter->submitted_until));
    }
    if (filter->step != NULL) {
        query_append(query, " AND a.step = ?");
        query_bind_text(query, filter->step);
    }
    if (filter->code != 0) {
        query_append(query, " AND a.reply_code = ?");
        query_bind_int(query, filter->code);
    }
}

static bool query_bind_all(sqlite3_stmt *statement, const struct query *query)
{
    for (size_t i = 0; i < query->bind_count; i++) {
        int index = (int)i + 1;
        int status;
        if (query->binds[i].kind == BIND_TEXT)
            status = sqlite3_bind_text(statement, index, query->binds[i].text, -1,
                                       SQLITE_STATIC);
        else if (query->binds[i].kind == BIND_DOUBLE)
            status = sqlite3_bind_double(statement, index, query->binds[i].number);
        else
            status = sqlite3_bind_int64(statement, index, query->binds[i].integer);
        if (status != SQLITE_OK)
            return false;
    }
    return true;
}

/* Runs a query that returns at most one row of one column.  A NULL result
 * or no row leaves *has_value false. */
static bool query_value(sqlite3 *db, const struct query *query, bool *has_value,
                        double *value, char *error, size_t error_size)
{
    sqlite3_stmt *statement = NULL;
    *has_value = false;
    if (query->overflow) {
        snprintf(error, error_size, "the query does not fit in %d bytes", QUERY_TEXT_MAX);
        return false;
    }
    if (sqlite3_prepare_v2(db, query->text, -1, &statement, NULL) != SQLITE_OK ||
        !query_bind_all(statement, query)) {
        snprintf(error, error_size, "cannot query the results: %s", sqlite3_errmsg(db));
        sqlite3_finalize(statement);
        return false;
    }
    int status = sqlite3_step(statement);
    if (status == SQLITE_ROW && sqlite3_column_type(statement, 0) != SQLITE_NULL) {
        *has_value = true;
        *value = sqlite3_column_double(statement, 0);
    }
    bool ok = status == SQLITE_ROW || status == SQLITE_DONE;
    if (!ok)
        snprintf(error, error_size, "cannot query the results: %s", sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return ok;
}

/* The nearest-rank percentile: the value at rank ceil(p / 100 * n) of the
 * n matching values in ascending order, computed exactly from the rows
 * rather than from the summary table's histogram. */
static bool evaluate_percentile(sqlite3 *db, const struct expectation *expectation,
                                struct expect_outcome *outcome, char *error,
                                size_t error_size)
{
    const struct metric_info *info = &metrics[expectation->metric];
    struct query count = {0};
    bool has_count;
    double rows = 0;
    query_append(&count, "SELECT COUNT(*)");
    append_rows(&count, expectation);
    if (!query_value(db, &count, &has_count, &rows, error, error_size))
        return false;
    if (rows < 1)
        return true;

    int64_t n = (int64_t)rows;
    int64_t rank = (info->percentile * n + 99) / 100;
    struct query ranked = {0};
    query_append(&ranked, "SELECT %s", info->ranked);
    append_rows(&ranked, expectation);
    query_append(&ranked, " ORDER BY 1 LIMIT 1 OFFSET ?");
    query_bind_int(&ranked, rank - 1);
    return query_value(db, &ranked, &outcome->has_value, &outcome->value, error,
                       error_size);
}

bool expect_evaluate(sqlite3 *db, const struct expectation *expectation,
                     struct expect_outcome *outcome, char *error, size_t error_size)
{
    const struct metric_info *info = &metrics[expectation->metric];
    *outcome = (struct expect_outcome){0};
    bool ok;
    if (info->percentile > 0) {
        ok = evaluate_percentile(db, expectation, outcome, error, error_size);
    } else {
        struct query query = {0};
        query_append(&query, "SELECT %s", info->aggregate);
        append_rows(&query, expectation);
        ok = query_value(db, &query, &outcome->has_value, &outcome->value, error,
                         error_size);
    }
    outcome->passed = ok && outcome->has_value && expect_compare(expectation,
                                                                 outcome->value);
    return ok;
}

/* Text output into a fixed buffer, cut short when it is full. */
struct text {
    char *buffer;
    size_t size;
    size_t length;
};

static void text_append(struct text *text, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void text_append(struct text *text, const char *format, ...)
{
    if (text->length + 1 >= text->size)
        return;
    va_list args;
    va_start(args, format);
    int written = vsnprintf(text->buffer + text->length, text->size - text->length,
                            format, args);
    va_end(args);
    if (written > 0)
        text->length += (size_t)written;
    if (text->length >= text->size)
        text->length = text->size - 1;
}

/* A duration with the largest unit that divides it exactly: "30m", "90s". */
static void append_duration(struct text *text, sim_time duration)
{
    static const struct {
        const char *name;
        sim_time length;
    } units[] = {
        { "d", SIM_DAY }, { "h", SIM_HOUR }, { "m", SIM_MIN }, { "s", SIM_SEC },
        { "ms", SIM_MS }, { "us", SIM_US },
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (duration != 0 && duration % units[i].length == 0) {
            text_append(text, "%" PRId64 "%s", duration / units[i].length,
                        units[i].name);
            return;
        }
    }
    text_append(text, "%" PRId64 "ns", duration);
}

static void append_filter_key(struct text *text, bool *first, enum expect_filter_key key)
{
    text_append(text, "%s%s=", *first ? "{" : ",", expect_filter_names[key]);
    *first = false;
}

static void append_label(struct text *text, const struct expectation *expectation)
{
    const struct expect_filter *filter = &expectation->filter;
    bool first = true;
    text_append(text, "%s", expect_metric_names[expectation->metric]);
    if (filter->sender_domain != NULL) {
        append_filter_key(text, &first, EXPECT_FILTER_SENDER_DOMAIN);
        text_append(text, "%s", filter->sender_domain);
    }
    if (filter->recipient_domain != NULL) {
        append_filter_key(text, &first, EXPECT_FILTER_RECIPIENT_DOMAIN);
        text_append(text, "%s", filter->recipient_domain);
    }
    if (filter->path != EXPECT_PATH_ANY) {
        append_filter_key(text, &first, EXPECT_FILTER_PATH);
        text_append(text, "%s", expect_path_names[filter->path]);
    }
    if (filter->submitted_from >= 0) {
        append_filter_key(text, &first, EXPECT_FILTER_SUBMITTED_FROM);
        append_duration(text, filter->submitted_from);
    }
    if (filter->submitted_until >= 0) {
        append_filter_key(text, &first, EXPECT_FILTER_SUBMITTED_UNTIL);
        append_duration(text, filter->submitted_until);
    }
    if (filter->code != 0) {
        append_filter_key(text, &first, EXPECT_FILTER_CODE);
        text_append(text, "%d", filter->code);
    }
    if (filter->step != NULL) {
        append_filter_key(text, &first, EXPECT_FILTER_STEP);
        text_append(text, "%s", filter->step);
    }
    if (!first)
        text_append(text, "}");
}

void expect_format_label(const struct expectation *expectation, char *buffer,
                         size_t size)
{
    struct text text = { .buffer = buffer, .size = size };
    if (size > 0)
        buffer[0] = '\0';
    append_label(&text, expectation);
}

/* A value in the metric's unit: counts as integers, seconds with "s". */
static void append_value(struct text *text, enum expect_unit unit, double value)
{
    if (unit == EXPECT_UNIT_COUNT)
        text_append(text, "%.0f", value);
    else if (unit == EXPECT_UNIT_SECONDS)
        text_append(text, "%.6g s", value);
    else
        text_append(text, "%.6g", value);
}

/* A bound as written for the metric: "900 s (15m)" for a latency of a
 * whole number of minutes, so that it compares at a glance with both the
 * measured seconds and the YAML. */
static void append_bound(struct text *text, enum expect_unit unit, double bound)
{
    append_value(text, unit == EXPECT_UNIT_SECONDS ? unit : EXPECT_UNIT_NUMBER, bound);
    sim_time duration = sim_time_from_seconds(bound);
    if (unit == EXPECT_UNIT_SECONDS && duration >= SIM_MIN && duration % SIM_MIN == 0) {
        text_append(text, " (");
        append_duration(text, duration);
        text_append(text, ")");
    }
}

static void append_expected(struct text *text, const struct expectation *expectation)
{
    enum expect_unit unit = expect_metric_unit(expectation->metric);
    text_append(text, "expected ");
    switch (expectation->comparison) {
    case EXPECT_AT_LEAST:
        text_append(text, "at least ");
        append_bound(text, unit, expectation->low);
        break;
    case EXPECT_AT_MOST:
        text_append(text, "at most ");
        append_bound(text, unit, expectation->high);
        break;
    case EXPECT_EQUALS:
        append_bound(text, unit, expectation->low);
        break;
    default:
        text_append(text, "between ");
        append_bound(text, unit, expectation->low);
        text_append(text, " and ");
        append_bound(text, unit, expectation->high);
        break;
    }
}

void expect_format_result(const struct expectation *expectation,
                          const struct expect_outcome *outcome, char *buffer,
                          size_t size)
{
    const struct metric_info *info = &metrics[expectation->metric];
    struct text text = { .buffer = buffer, .size = size };
    if (size > 0)
        buffer[0] = '\0';
    text_append(&text, "%s  ", outcome->passed ? "PASS" : "FAIL");
    append_label(&text, expectation);
    if (outcome->has_value) {
        text_append(&text, " = ");
        append_value(&text, info->unit, outcome->value);
    } else {
        text_append(&text, " has no value (%s)",
                    info->empty != NULL ? info->empty : "no row matches");
    }
    text_append(&text, ", ");
    append_expected(&text, expectation);
}
