/*
 * Expectations about a finished run, such as "at least 99% of the
 * recipients were delivered" or "the 95th percentile of the latency to
 * other providers is at most 15 minutes", and their evaluation as SQL over
 * a results database (docs/results-schema.md).  `mailsim check` reads them
 * from a scenario's `expect:` block; docs/expectations.md is the reference
 * of metrics, filters and comparisons.
 *
 * Values are in the metric's unit: counts, ratios from 0 to 1, seconds for
 * latencies, attempts per recipient.  Only the database is read, so an
 * expectation gives the same result on any copy of a run's results.
 */
#ifndef MAILSIM_EXPECT_H
#define MAILSIM_EXPECT_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#include "sim/simtime.h"

enum expect_metric {
    EXPECT_DELIVERED,
    EXPECT_BOUNCED,
    EXPECT_REJECTED,
    EXPECT_DROPPED,
    EXPECT_IN_FLIGHT,
    EXPECT_MESSAGES,
    EXPECT_DELIVERED_RATIO,
    EXPECT_BOUNCE_RATIO,
    EXPECT_LATENCY_P50,
    EXPECT_LATENCY_P95,
    EXPECT_LATENCY_P99,
    EXPECT_LATENCY_MAX,
    EXPECT_LATENCY_MEAN,
    EXPECT_SEEN_LATENCY_P50,
    EXPECT_SEEN_LATENCY_P95,
    EXPECT_SEEN_LATENCY_P99,
    EXPECT_SEEN_LATENCY_MAX,
    EXPECT_SEEN_LATENCY_MEAN,
    EXPECT_ATTEMPTS_MEAN,
    EXPECT_ATTEMPTS_MAX,
    EXPECT_SMTP_ATTEMPTS,
    EXPECT_REPLY_CODE_COUNT,
    EXPECT_DSN_COUNT,
    EXPECT_METRIC_COUNT
};

/* Unit of a metric's value, which fixes how bounds are written in YAML. */
enum expect_unit {
    EXPECT_UNIT_COUNT,         /* a whole number */
    EXPECT_UNIT_RATIO,         /* from 0 to 1 */
    EXPECT_UNIT_SECONDS,       /* written as a duration: 15m, 250ms */
    EXPECT_UNIT_NUMBER,        /* a plain number, such as attempts per recipient */
};

/* The filters, as YAML keys.  Which of them a metric accepts depends on
 * the rows it counts (expect_filter_applies). */
enum expect_filter_key {
    EXPECT_FILTER_SENDER_DOMAIN,
    EXPECT_FILTER_RECIPIENT_DOMAIN,
    EXPECT_FILTER_PATH,
    EXPECT_FILTER_SUBMITTED_FROM,
    EXPECT_FILTER_SUBMITTED_UNTIL,
    EXPECT_FILTER_STEP,
    EXPECT_FILTER_CODE,
    EXPECT_FILTER_COUNT
};

enum expect_path {
    EXPECT_PATH_ANY,
    EXPECT_PATH_SAME_PROVIDER,
    EXPECT_PATH_OTHER_PROVIDER,
};

enum expect_comparison {
    EXPECT_AT_LEAST,
    EXPECT_AT_MOST,
    EXPECT_EQUALS,
    EXPECT_BETWEEN,
    EXPECT_COMPARISON_COUNT
};

/* The rows an expectation looks at.  NULL strings, EXPECT_PATH_ANY, a
 * negative time and a zero code each mean "no filter". */
struct expect_filter {
    char *sender_domain;
    char *recipient_domain;
    enum expect_path path;
    sim_time submitted_from;   /* inclusive */
    sim_time submitted_until;  /* exclusive */
    char *step;                /* attempts.step, matched exactly */
    int code;                  /* attempts.reply_code */
};

struct expectation {
    enum expect_metric metric;
    struct expect_filter filter;
    enum expect_comparison comparison;
    double low;                /* bound of at_least and equals, low bound of between */
    double high;               /* bound of at_most and equals, high bound of between */
};

/* The measured value of an expectation.  `has_value` is false when the
 * value is undefined, such as a percentile or a ratio over no rows.  An
 * expectation without a value fails. */
struct expect_outcome {
    bool has_value;
    double value;
    bool passed;
};

/* Sets the fields of `filter` to "no filter". */
void expect_filter_init(struct expect_filter *filter);
/* Frees the strings an expectation owns, but not the struct itself. */
void expect_fini(struct expectation *expectation);

/* YAML names: "latency_p95", "recipient_domain", "at_most",
 * "other_provider".  The *_names arrays are NULL-terminated for
 * config_choice. */
extern const char *const expect_metric_names[EXPECT_METRIC_COUNT + 1];
extern const char *const expect_filter_names[EXPECT_FILTER_COUNT + 1];
extern const char *const expect_comparison_names[EXPECT_COMPARISON_COUNT + 1];
extern const char *const expect_path_names[];

enum expect_unit expect_metric_unit(enum expect_metric metric);
bool expect_filter_applies(enum expect_metric metric, enum expect_filter_key key);
/* Whether the metric cannot be evaluated without the filter: reply_code_count
 * needs a code. */
bool expect_filter_required(enum expect_metric metric, enum expect_filter_key key);

/* Whether `value` satisfies the comparison.  equals allows a relative
 * difference of 1e-9, so that a mean computed in floating point can equal
 * a bound written in decimal. */
bool expect_compare(const struct expectation *expectation, double value);

/* Measures the expectation in `db` and compares.  Returns false with a
 * message in `error` when a query fails, for example on a file that is not
 * a results database. */
bool expect_evaluate(sqlite3 *db, const struct expectation *expectation,
                     struct expect_outcome *outcome, char *error, size_t error_size);

/* Writes "latency_p95{path=other_provider}" to `buffer`. */
void expect_format_label(const struct expectation *expectation, char *buffer,
                         size_t size);
/* Writes the line `mailsim check` prints, such as
 * "FAIL  latency_p95{path=other_provider} = 903.1 s, expected at most 900 s". */
void expect_format_result(const struct expectation *expectation,
                          const struct expect_outcome *outcome, char *buffer,
                          size_t size);

#endif
