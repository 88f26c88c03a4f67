/*
 * Expectations: evaluation over a small results database built here, with
 * values worked out by hand, the PASS and FAIL lines, and loading of the
 * `expect:` list from a scenario.  Run from the repository root, as
 * `make test` does, because the loading tests start from
 * scenarios/minimal.yaml.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "models/expect.h"
#include "models/scenario.h"
#include "models/scenario_expect.h"
#include "tests/unit/test_util.h"

/* The columns of docs/results-schema.md that expectations read, and a run
 * small enough to count by hand:
 *
 *   message 1  alpha -> alpha (delivered after 1 s, seen after 11 s)
 *                    -> beta  (delivered after 600 s in 2 attempts)
 *   message 2  alpha -> gamma (bounced with 550 at RCPT TO)
 *   message 3  beta  -> alpha (delivered after 60 s in 3 attempts, two 451s)
 *                    -> beta  (rejected)
 *   message 4  alpha -> beta  (deferred when the run ended)
 *   message 5  DSN to alpha (delivered), message 6 DSN to alpha (dropped)
 */
static const char *const test_database =
    "CREATE TABLE messages (id INTEGER PRIMARY KEY, sender TEXT, is_dsn INTEGER,"
    " submitted REAL, state TEXT);"
    "CREATE TABLE recipients (message_id INTEGER, idx INTEGER, address TEXT,"
    " provider TEXT, external INTEGER, phase TEXT, attempts INTEGER,"
    " reply_code INTEGER, stored REAL, seen REAL, PRIMARY KEY (message_id, idx));"
    "CREATE TABLE attempts (id INTEGER PRIMARY KEY, message_id INTEGER,"
    " from_provider TEXT, to_provider TEXT, attempt INTEGER, reply_code INTEGER,"
    " step TEXT, result TEXT);"
    "INSERT INTO messages VALUES"
    " (1, 'u1@alpha.example', 0, 0, 'delivered'),"
    " (2, 'u4@alpha.example', 0, 100, 'bounced'),"
    " (3, 'u6@beta.example', 0, 200, 'bounced'),"
    " (4, 'u9@alpha.example', 0, 300, 'deferred'),"
    " (5, '<>', 1, 101, 'delivered'),"
    " (6, '<>', 1, 150, 'dropped');"
    "INSERT INTO recipients VALUES"
    " (1, 0, 'u2@alpha.example', 'alpha', 0, 'delivered', 0, NULL, 1, 11),"
    " (1, 1, 'u3@beta.example', 'beta', 1, 'delivered', 2, 250, 600, 700),"
    " (2, 0, 'u5@gamma.example', 'gamma', 1, 'bounced', 1, 550, NULL, NULL),"
    " (3, 0, 'u7@Alpha.Example', 'alpha', 1, 'delivered', 3, 250, 260, 300),"
    " (3, 1, 'u8@beta.example', 'beta', 0, 'rejected', 0, NULL, NULL, NULL),"
    " (4, 0, 'u10@beta.example', 'beta', 1, 'deferred', 1, NULL, NULL, NULL),"
    " (5, 0, 'u4@alpha.example', 'alpha', 0, 'delivered', 0, NULL, 102, 103),"
    " (6, 0, 'u1@alpha.example', 'alpha', 0, 'dropped', 0, NULL, NULL, NULL);"
    "INSERT INTO attempts (message_id, from_provider, to_provider, attempt,"
    " reply_code, step, result) VALUES"
    " (1, 'alpha', 'beta', 1, NULL, 'connect', 'deferred'),"
    " (1, 'alpha', 'beta', 2, 250, 'end of data', 'delivered'),"
    " (2, 'alpha', 'gamma', 1, 550, 'RCPT TO', 'failed'),"
    " (3, 'beta', 'alpha', 1, 451, 'RCPT TO', 'deferred'),"
    " (3, 'beta', 'alpha', 2, 451, 'RCPT TO', 'deferred'),"
    " (3, 'beta', 'alpha', 3, 250, 'end of data', 'delivered'),"
    " (4, 'alpha', 'beta', 1, NULL, 'connect', 'deferred');";

static sqlite3 *db;

static void open_database(void)
{
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    char *error = NULL;
    int status = sqlite3_exec(db, test_database, NULL, NULL, &error);
    ck_assert_msg(status == SQLITE_OK, "building the database: %s", error);
}

static void close_database(void)
{
    sqlite3_close(db);
    db = NULL;
}

/* An expectation of `metric` with no filter, at_least 0. */
static struct expectation expectation_of(enum expect_metric metric)
{
    struct expectation expectation = { .metric = metric };
    expect_filter_init(&expectation.filter);
    return expectation;
}

/* The measured value; fails the test when the metric has none. */
static double measure(const struct expectation *expectation)
{
    struct expect_outcome outcome;
    char error[256] = "";
    ck_assert_msg(expect_evaluate(db, expectation, &outcome, error, sizeof error),
                  "%s", error);
    ck_assert_msg(outcome.has_value, "%s has no value",
                  expect_metric_names[expectation->metric]);
    return outcome.value;
}

static double measure_metric(enum expect_metric metric)
{
    struct expectation expectation = expectation_of(metric);
    return measure(&expectation);
}

START_TEST(counts_recipients_and_messages)
{
    ck_assert_double_eq(measure_metric(EXPECT_DELIVERED), 3);
    ck_assert_double_eq(measure_metric(EXPECT_BOUNCED), 1);
    ck_assert_double_eq(measure_metric(EXPECT_REJECTED), 1);
    ck_assert_double_eq(measure_metric(EXPECT_IN_FLIGHT), 1);
    ck_assert_double_eq(measure_metric(EXPECT_MESSAGES), 4);
}
END_TEST

START_TEST(counts_dsns_apart)
{
    ck_assert_double_eq(measure_metric(EXPECT_DSN_COUNT), 2);
    ck_assert_double_eq(measure_metric(EXPECT_DROPPED), 1);

    struct expectation dsns = expectation_of(EXPECT_DSN_COUNT);
    dsns.filter.recipient_domain = "alpha.example";
    ck_assert_double_eq(measure(&dsns), 2);
    dsns.filter.recipient_domain = "beta.example";
    ck_assert_double_eq(measure(&dsns), 0);
}
END_TEST

START_TEST(ratios_over_all_recipients)
{
    ck_assert_double_eq_tol(measure_metric(EXPECT_DELIVERED_RATIO), 3.0 / 6, 1e-12);
    ck_assert_double_eq_tol(measure_metric(EXPECT_BOUNCE_RATIO), 1.0 / 6, 1e-12);

    struct expectation gamma = expectation_of(EXPECT_BOUNCE_RATIO);
    gamma.filter.recipient_domain = "gamma.example";
    ck_assert_double_eq(measure(&gamma), 1);
}
END_TEST

/* Delivered latencies are 1, 60 and 600 s, and seen latencies 11, 100, 700 s. */
START_TEST(latency_nearest_rank)
{
    ck_assert_double_eq(measure_metric(EXPECT_LATENCY_P50), 60);
    ck_assert_double_eq(measure_metric(EXPECT_LATENCY_P95), 600);
    ck_assert_double_eq(measure_metric(EXPECT_LATENCY_P99), 600);
    ck_assert_double_eq(measure_metric(EXPECT_LATENCY_MAX), 600);
    ck_assert_double_eq_tol(measure_metric(EXPECT_LATENCY_MEAN), 661.0 / 3, 1e-9);
    ck_assert_double_eq(measure_metric(EXPECT_SEEN_LATENCY_P50), 100);
    ck_assert_double_eq(measure_metric(EXPECT_SEEN_LATENCY_P95), 700);
    ck_assert_double_eq(measure_metric(EXPECT_SEEN_LATENCY_MAX), 700);
    ck_assert_double_eq_tol(measure_metric(EXPECT_SEEN_LATENCY_MEAN), 811.0 / 3, 1e-9);
}
END_TEST

/* 100 delivered recipients with latencies 1..100 s: rank ceil(p * n / 100). */
START_TEST(latency_percentile_ranks)
{
    sqlite3_exec(db, "DELETE FROM recipients; DELETE FROM messages;", NULL, NULL, NULL);
    for (int i = 1; i <= 100; i++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO messages VALUES (%d, 'u@alpha.example', 0, 0, 'delivered');"
                 "INSERT INTO recipients VALUES (%d, 0, 'v@alpha.example', 'alpha', 0,"
                 " 'delivered', 0, NULL, %d, %d);", i, i, 101 - i, 101 - i);
        ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    ck_assert_double_eq(measure_metric(EXPECT_LATENCY_P50), 50);
    ck_assert_double_eq(measure_metric(EXPECT_LATENCY_P95), 95);
    ck_assert_double_eq(measure_metric(EXPECT_LATENCY_P99), 99);

    sqlite3_exec(db, "DELETE FROM recipients WHERE message_id > 97", NULL, NULL, NULL);
    /* 97 values 4..100: p95 has rank ceil(92.15) = 93, the value 96. */
    ck_assert_double_eq(measure_metric(EXPECT_LATENCY_P95), 96);
    ck_assert_double_eq(measure_metric(EXPECT_LATENCY_P50), 52);
}
END_TEST

START_TEST(filters_by_domain_and_path)
{
    struct expectation delivered = expectation_of(EXPECT_DELIVERED);
    delivered.filter.sender_domain = "alpha.example";
    ck_assert_double_eq(measure(&delivered), 2);

    delivered = expectation_of(EXPECT_DELIVERED);
    delivered.filter.recipient_domain = "ALPHA.example";
    ck_assert_double_eq(measure(&delivered), 2);

    struct expectation latency = expectation_of(EXPECT_LATENCY_P50);
    latency.filter.path = EXPECT_PATH_SAME_PROVIDER;
    ck_assert_double_eq(measure(&latency), 1);
    latency.filter.path = EXPECT_PATH_OTHER_PROVIDER;
    ck_assert_double_eq(measure(&latency), 60);

    struct expectation messages = expectation_of(EXPECT_MESSAGES);
    messages.filter.recipient_domain = "gamma.example";
    ck_assert_double_eq(measure(&messages), 1);
    messages.filter.recipient_domain = NULL;
    messages.filter.path = EXPECT_PATH_SAME_PROVIDER;
    ck_assert_double_eq(measure(&messages), 2);
}
END_TEST

/* Messages were submitted at 0, 100, 200 and 300 s. */
START_TEST(filters_by_submission_window)
{
    struct expectation messages = expectation_of(EXPECT_MESSAGES);
    messages.filter.submitted_from = 100 * SIM_SEC;
    messages.filter.submitted_until = 300 * SIM_SEC;
    ck_assert_double_eq(measure(&messages), 2);

    messages.filter.submitted_from = -1;
    ck_assert_double_eq(measure(&messages), 3);

    messages.filter.submitted_from = 300 * SIM_SEC;
    messages.filter.submitted_until = -1;
    ck_assert_double_eq(measure(&messages), 1);

    struct expectation delivered = expectation_of(EXPECT_DELIVERED);
    delivered.filter.submitted_from = 100 * SIM_SEC;
    ck_assert_double_eq(measure(&delivered), 1);
}
END_TEST

START_TEST(attempts_per_recipient)
{
    /* Recipients with an attempt made 2, 1, 3 and 1. */
    ck_assert_double_eq(measure_metric(EXPECT_ATTEMPTS_MEAN), 1.75);
    ck_assert_double_eq(measure_metric(EXPECT_ATTEMPTS_MAX), 3);

    struct expectation max = expectation_of(EXPECT_ATTEMPTS_MAX);
    max.filter.sender_domain = "alpha.example";
    ck_assert_double_eq(measure(&max), 2);
    max.filter.submitted_from = SIM_HOUR;
    ck_assert_double_eq(measure(&max), 0);
}
END_TEST

START_TEST(attempt_rows_and_codes)
{
    ck_assert_double_eq(measure_metric(EXPECT_SMTP_ATTEMPTS), 7);

    struct expectation attempts = expectation_of(EXPECT_SMTP_ATTEMPTS);
    attempts.filter.step = "connect";
    ck_assert_double_eq(measure(&attempts), 2);
    attempts.filter.step = NULL;
    attempts.filter.path = EXPECT_PATH_SAME_PROVIDER;
    ck_assert_double_eq(measure(&attempts), 0);
    attempts.filter.path = EXPECT_PATH_OTHER_PROVIDER;
    attempts.filter.sender_domain = "beta.example";
    ck_assert_double_eq(measure(&attempts), 3);

    struct expectation codes = expectation_of(EXPECT_REPLY_CODE_COUNT);
    codes.filter.code = 451;
    ck_assert_double_eq(measure(&codes), 2);
    codes.filter.code = 250;
    codes.filter.step = "end of data";
    ck_assert_double_eq(measure(&codes), 2);
    codes.filter.step = "RCPT TO";
    ck_assert_double_eq(measure(&codes), 0);
}
END_TEST

START_TEST(attempts_by_recipient_domain)
{
    struct expectation attempts = expectation_of(EXPECT_SMTP_ATTEMPTS);
    attempts.filter.recipient_domain = "beta.example";
    ck_assert_double_eq(measure(&attempts), 3);
    attempts.filter.recipient_domain = "gamma.example";
    ck_assert_double_eq(measure(&attempts), 1);
    attempts.filter.recipient_domain = "alpha.example";
    ck_assert_double_eq(measure(&attempts), 3);
}
END_TEST

START_TEST(undefined_value_fails)
{
    struct expectation latency = expectation_of(EXPECT_LATENCY_P95);
    latency.filter.recipient_domain = "gamma.example";
    latency.comparison = EXPECT_AT_MOST;
    latency.high = 1e9;
    struct expect_outcome outcome;
    char error[256];
    ck_assert(expect_evaluate(db, &latency, &outcome, error, sizeof error));
    ck_assert(!outcome.has_value);
    ck_assert(!outcome.passed);

    struct expectation mean = expectation_of(EXPECT_ATTEMPTS_MEAN);
    mean.filter.path = EXPECT_PATH_SAME_PROVIDER;
    ck_assert(expect_evaluate(db, &mean, &outcome, error, sizeof error));
    ck_assert(!outcome.has_value);

    char line[256];
    expect_format_result(&latency, &outcome, line, sizeof line);
    ck_assert_str_eq(line, "FAIL  latency_p95{recipient_domain=gamma.example} has no "
                           "value (no delivered recipient matches), expected at most "
                           "1e+09 s");
}
END_TEST

START_TEST(query_error_reported)
{
    sqlite3_exec(db, "DROP TABLE attempts", NULL, NULL, NULL);
    struct expectation attempts = expectation_of(EXPECT_SMTP_ATTEMPTS);
    struct expect_outcome outcome;
    char error[256] = "";
    ck_assert(!expect_evaluate(db, &attempts, &outcome, error, sizeof error));
    ck_assert(!outcome.passed);
    ck_assert_str_eq(error, "cannot query the results: no such table: attempts");
}
END_TEST

START_TEST(compare_each_kind)
{
    struct expectation expectation = expectation_of(EXPECT_DELIVERED);
    expectation.comparison = EXPECT_AT_LEAST;
    expectation.low = 3;
    ck_assert(expect_compare(&expectation, 3));
    ck_assert(!expect_compare(&expectation, 2.999));

    expectation.comparison = EXPECT_AT_MOST;
    expectation.high = 3;
    ck_assert(expect_compare(&expectation, 3));
    ck_assert(!expect_compare(&expectation, 3.001));

    expectation.comparison = EXPECT_EQUALS;
    expectation.low = 0.3;
    ck_assert(expect_compare(&expectation, 0.1 + 0.2));
    ck_assert(!expect_compare(&expectation, 0.3001));

    expectation.comparison = EXPECT_BETWEEN;
    expectation.low = 1;
    expectation.high = 1.5;
    ck_assert(expect_compare(&expectation, 1));
    ck_assert(expect_compare(&expectation, 1.5));
    ck_assert(!expect_compare(&expectation, 1.51));
    ck_assert(!expect_compare(&expectation, 0.99));
}
END_TEST

START_TEST(format_result_lines)
{
    char line[256];
    struct expectation latency = expectation_of(EXPECT_LATENCY_P95);
    latency.filter.path = EXPECT_PATH_OTHER_PROVIDER;
    latency.comparison = EXPECT_AT_MOST;
    latency.high = 300;
    struct expect_outcome outcome = { .has_value = true, .value = 600, .passed = false };
    expect_format_result(&latency, &outcome, line, sizeof line);
    ck_assert_str_eq(line, "FAIL  latency_p95{path=other_provider} = 600 s, "
                           "expected at most 300 s (5m)");

    struct expectation ratio = expectation_of(EXPECT_DELIVERED_RATIO);
    ratio.comparison = EXPECT_AT_LEAST;
    ratio.low = 0.99;
    outcome = (struct expect_outcome){ .has_value = true, .value = 0.995, .passed = true };
    expect_format_result(&ratio, &outcome, line, sizeof line);
    ck_assert_str_eq(line, "PASS  delivered_ratio = 0.995, expected at least 0.99");

    struct expectation codes = expectation_of(EXPECT_REPLY_CODE_COUNT);
    codes.filter.code = 451;
    codes.filter.step = "RCPT TO";
    codes.comparison = EXPECT_BETWEEN;
    codes.low = 1;
    codes.high = 5;
    outcome = (struct expect_outcome){ .has_value = true, .value = 2, .passed = true };
    expect_format_result(&codes, &outcome, line, sizeof line);
    ck_assert_str_eq(line, "PASS  reply_code_count{code=451,step=RCPT TO} = 2, "
                           "expected between 1 and 5");
}
END_TEST

START_TEST(format_label_every_filter)
{
    char label[256];
    struct expectation delivered = expectation_of(EXPECT_DELIVERED);
    delivered.filter.sender_domain = "alpha.example";
    delivered.filter.recipient_domain = "beta.example";
    delivered.filter.path = EXPECT_PATH_SAME_PROVIDER;
    delivered.filter.submitted_from = 30 * SIM_MIN;
    delivered.filter.submitted_until = 90 * SIM_SEC + 500 * SIM_MS;
    expect_format_label(&delivered, label, sizeof label);
    ck_assert_str_eq(label, "delivered{sender_domain=alpha.example,"
                            "recipient_domain=beta.example,path=same_provider,"
                            "submitted_from=30m,submitted_until=90500ms}");

    char small[12];
    expect_format_label(&delivered, small, sizeof small);
    ck_assert_str_eq(small, "delivered{s");
}
END_TEST

/* Writes scenarios/minimal.yaml followed by `expect` to a new temporary
 * file and stores its name in `path`. */
static void write_scenario(const char *expect, char *path, size_t size)
{
    FILE *minimal = fopen("scenarios/minimal.yaml", "rb");
    ck_assert_msg(minimal != NULL, "scenarios/minimal.yaml not found "
                                   "(run from the repository root)");
    snprintf(path, size, "/tmp/mailsim-expect-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *out = fdopen(fd, "w");
    char buffer[4096];
    size_t got;
    while ((got = fread(buffer, 1, sizeof buffer, minimal)) > 0)
        ck_assert_uint_eq(fwrite(buffer, 1, got, out), got);
    fclose(minimal);
    fputs(expect, out);
    fclose(out);
}

/* Loads minimal.yaml plus `expect` into `*loaded` and returns the error
 * output, which is "" when the scenario loaded. */
static char *load_with(const char *expect, struct scenario **loaded, char *path,
                       size_t size)
{
    write_scenario(expect, path, size);
    FILE *errors = tmpfile();
    *loaded = scenario_load_report(path, errors);
    rewind(errors);
    char *message = calloc(1, 1024);
    size_t length = fread(message, 1, 1023, errors);
    message[length] = '\0';
    fclose(errors);
    return message;
}

START_TEST(load_expect_list)
{
    char path[64];
    struct scenario *scenario;
    char *errors = load_with(
        "expect:\n"
        "  - {metric: latency_p95, path: other_provider, at_most: 15m}\n"
        "  - {metric: reply_code_count, code: 451, step: RCPT TO, between: [1, 5]}\n"
        "  - {metric: delivered, sender_domain: alpha.example,\n"
        "     submitted_from: 1m, submitted_until: 2m, equals: 12}\n"
        "  - {metric: delivered_ratio, recipient_domain: beta.example, at_least: 0.99}\n",
        &scenario, path, sizeof path);
    ck_assert_str_eq(errors, "");
    ck_assert_ptr_nonnull(scenario);
    ck_assert_uint_eq(scenario->expectation_count, 4);

    const struct expectation *latency = &scenario->expectations[0];
    ck_assert_int_eq(latency->metric, EXPECT_LATENCY_P95);
    ck_assert_int_eq(latency->filter.path, EXPECT_PATH_OTHER_PROVIDER);
    ck_assert_int_eq(latency->comparison, EXPECT_AT_MOST);
    ck_assert_double_eq(latency->high, 900);

    const struct expectation *codes = &scenario->expectations[1];
    ck_assert_int_eq(codes->filter.code, 451);
    ck_assert_str_eq(codes->filter.step, "RCPT TO");
    ck_assert_int_eq(codes->comparison, EXPECT_BETWEEN);
    ck_assert_double_eq(codes->low, 1);
    ck_assert_double_eq(codes->high, 5);

    const struct expectation *delivered = &scenario->expectations[2];
    ck_assert_str_eq(delivered->filter.sender_domain, "alpha.example");
    ck_assert_ptr_null(delivered->filter.recipient_domain);
    ck_assert_int_eq(delivered->filter.submitted_from, SIM_MIN);
    ck_assert_int_eq(delivered->filter.submitted_until, 2 * SIM_MIN);
    ck_assert_int_eq(delivered->comparison, EXPECT_EQUALS);
    ck_assert_double_eq(delivered->low, 12);

    const struct expectation *ratio = &scenario->expectations[3];
    ck_assert_str_eq(ratio->filter.recipient_domain, "beta.example");
    ck_assert_int_eq(ratio->filter.path, EXPECT_PATH_ANY);
    ck_assert_int_lt(ratio->filter.submitted_from, 0);
    ck_assert_double_eq(ratio->low, 0.99);

    scenario_free(scenario);
    free(errors);
    unlink(path);
}
END_TEST

/* minimal.yaml has 46 lines, so the expect key is on line 47. */
START_TEST(load_expect_errors)
{
    static const struct {
        const char *expect;
        const char *message;
    } cases[] = {
        { "expect: []\n", "47:9: expect: found an empty list, expected at least one "
                          "expectation" },
        { "expect: [{metric: delivered, at_least: 1, equals: 2}]\n",
          "47:51: expect[0].equals: found both 'at_least' and 'equals', expected "
          "exactly one comparison (between: [low, high] for a range)" },
        { "expect: [{metric: bounced}]\n",
          "47:10: expect[0]: missing comparison, expected one of: at_least, at_most, "
          "equals, between" },
        { "expect: [{metric: latency_max, at_most: 90}]\n",
          "47:41: expect[0].at_most: found '90', a number without a unit, expected a "
          "duration such as 250ms, 5m or 4h" },
        { "expect: [{metric: delivered, code: 451, at_least: 1}]\n",
          "47:36: expect[0].code: filter 'code' does not apply to metric 'delivered', "
          "expected one of: sender_domain, recipient_domain, path, submitted_from, "
          "submitted_until" },
        { "expect: [{metric: delivered, between: [3, 2]}]\n",
          "47:43: expect[0].between[1]: found '2', expected a bound >= the low bound "
          "('3')" },
        { "expect: [{metric: messages, sender_domain: gamma.example, at_least: 1}]\n",
          "47:44: expect[0].sender_domain: domain 'gamma.example' is not served by any "
          "provider, expected a domain listed in some providers[].domains" },
        { "output: {message_rows: false}\nexpect: [{metric: delivered, at_least: 1}]\n",
          "48:9: expect: expectations are evaluated over the per-recipient rows, "
          "expected output.message_rows: true" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64];
        char expected[512];
        struct scenario *scenario;
        char *errors = load_with(cases[i].expect, &scenario, path, sizeof path);
        snprintf(expected, sizeof expected, "%s:%s\n", path, cases[i].message);
        ck_assert_ptr_null(scenario);
        ck_assert_str_eq(errors, expected);
        free(errors);
        unlink(path);
    }
}
END_TEST

START_TEST(require_missing_expect)
{
    struct scenario *scenario = scenario_load("scenarios/minimal.yaml");
    ck_assert_ptr_nonnull(scenario);
    ck_assert_uint_eq(scenario->expectation_count, 0);
    FILE *errors = tmpfile();
    ck_assert(!scenario_expect_require(scenario, errors));
    rewind(errors);
    char message[256] = "";
    size_t length = fread(message, 1, sizeof message - 1, errors);
    message[length] = '\0';
    fclose(errors);
    ck_assert_str_eq(message, "scenarios/minimal.yaml:4:1: missing required key "
                              "'expect'\n");
    scenario_free(scenario);
}
END_TEST

static Suite *expect_suite(void)
{
    Suite *suite = suite_create("expect");
    TCase *evaluate = tcase_create("evaluate");
    tcase_add_checked_fixture(evaluate, open_database, close_database);
    tcase_add_test(evaluate, counts_recipients_and_messages);
    tcase_add_test(evaluate, counts_dsns_apart);
    tcase_add_test(evaluate, ratios_over_all_recipients);
    tcase_add_test(evaluate, latency_nearest_rank);
    tcase_add_test(evaluate, latency_percentile_ranks);
    tcase_add_test(evaluate, filters_by_domain_and_path);
    tcase_add_test(evaluate, filters_by_submission_window);
    tcase_add_test(evaluate, attempts_per_recipient);
    tcase_add_test(evaluate, attempt_rows_and_codes);
    tcase_add_test(evaluate, attempts_by_recipient_domain);
    tcase_add_test(evaluate, undefined_value_fails);
    tcase_add_test(evaluate, query_error_reported);
    suite_add_tcase(suite, evaluate);

    TCase *format = tcase_create("format");
    tcase_add_test(format, compare_each_kind);
    tcase_add_test(format, format_result_lines);
    tcase_add_test(format, format_label_every_filter);
    suite_add_tcase(suite, format);

    TCase *load = tcase_create("load");
    tcase_add_test(load, load_expect_list);
    tcase_add_test(load, load_expect_errors);
    tcase_add_test(load, require_missing_expect);
    suite_add_tcase(suite, load);
    return suite;
}

TEST_MAIN(expect_suite)
