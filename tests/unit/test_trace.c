#include <stdio.h>
#include <string.h>

#include "models/scenario.h"
#include "models/trace.h"
#include "tests/unit/test_util.h"

/* Relative to the repository root, where `make test` runs the tests. */
#define TRACES "tests/traces/"

static char *alpha_domains[] = { "alpha.example" };
static char *beta_domains[] = { "beta.example" };

static struct scenario scenario;
static struct provider providers[2];

/* alpha and beta with 20000 mailboxes each, as in scenarios/default.yaml.
 * alpha's messages are 2000 bytes without attachment; beta's are 1000
 * bytes, each with a 3000-byte attachment. */
static void fill_scenario(void)
{
    memset(&scenario, 0, sizeof scenario);
    memset(providers, 0, sizeof providers);

    providers[0].name = "alpha";
    providers[0].domains = alpha_domains;
    providers[0].domain_count = 1;
    providers[0].mailboxes = 20000;
    providers[0].workload.message_size = (struct dist){ .kind = DIST_CONSTANT, .a = 2000 };

    providers[1].name = "beta";
    providers[1].domains = beta_domains;
    providers[1].domain_count = 1;
    providers[1].mailboxes = 20000;
    providers[1].workload.message_size = (struct dist){ .kind = DIST_CONSTANT, .a = 1000 };
    providers[1].workload.attachment_probability = 1.0;
    providers[1].workload.attachment_size = (struct dist){ .kind = DIST_CONSTANT, .a = 3000 };

    scenario.name = "trace-test";
    scenario.seed = 7;
    scenario.duration = SIM_HOUR;
    scenario.providers = providers;
    scenario.provider_count = 2;
}

static struct trace_reader *open_trace(const char *path, char *err, size_t n)
{
    struct trace_reader *reader = trace_reader_open(path, &scenario, err, n);
    ck_assert_msg(reader != NULL, "opening %s failed: %s", path, err);
    return reader;
}

static struct address mailbox(uint32_t provider, uint64_t number)
{
    return (struct address){ .provider = provider, .domain = 0, .mailbox = number };
}

static struct address parse(const char *text)
{
    struct address address;
    char err[128];
    ck_assert_msg(address_parse(&scenario, text, &address, err, sizeof err), "%s", err);
    return address;
}

static void assert_message(struct trace_reader *reader, sim_time time,
                           struct address sender, size_t count,
                           const struct address *recipients)
{
    struct submission submission;
    ck_assert_int_eq(trace_reader_next(reader, &submission), 1);
    ck_assert_int_eq(submission.time, time);
    ck_assert(address_equal(&submission.sender, &sender));
    ck_assert_uint_eq(submission.recipient_count, count);
    for (size_t i = 0; i < count; i++)
        ck_assert_msg(address_equal(&submission.recipients[i], &recipients[i]),
                      "recipient %zu of the message at %lld ns differs", i,
                      (long long)time);
}

/* Checks the messages of grouping.trace and its CSV twin. */
static void assert_grouping(const char *path)
{
    char err[256] = "";
    struct trace_reader *reader = open_trace(path, err, sizeof err);

    struct address first[] = { mailbox(1, 2), mailbox(1, 3) };
    assert_message(reader, 0, mailbox(0, 1), 2, first);
    struct address second[] = { mailbox(1, 3) };
    assert_message(reader, 0, mailbox(0, 2), 1, second);
    struct address third[] = { mailbox(1, 4), mailbox(1, 5), parse("carol@beta.example") };
    assert_message(reader, 1500 * SIM_MS, mailbox(0, 1), 3, third);
    struct address fourth[] = { mailbox(1, 7) };
    assert_message(reader, 2 * SIM_SEC, mailbox(0, 1), 1, fourth);
    assert_message(reader, 2250 * SIM_MS, mailbox(0, 1), 1, fourth);
    struct address last[] = { mailbox(0, 10) };
    assert_message(reader, 30 * SIM_SEC, mailbox(1, 9), 1, last);

    struct submission submission;
    ck_assert_int_eq(trace_reader_next(reader, &submission), 0);
    ck_assert_int_eq(trace_reader_next(reader, &submission), 0);
    ck_assert_str_eq(err, "");
    trace_reader_free(reader);
}

START_TEST(grouping_whitespace)
{
    assert_grouping(TRACES "grouping.trace");
}
END_TEST

START_TEST(grouping_csv)
{
    assert_grouping(TRACES "grouping.csv.trace");
}
END_TEST

START_TEST(sizes_from_sender_provider)
{
    char err[256] = "";
    struct trace_reader *reader = open_trace(TRACES "grouping.trace", err, sizeof err);
    struct submission submission;

    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(trace_reader_next(reader, &submission), 1);
        ck_assert_uint_eq(submission.size, 2000);
        ck_assert_uint_eq(submission.attachment_size, 0);
    }
    ck_assert_int_eq(trace_reader_next(reader, &submission), 1);
    ck_assert_uint_eq(submission.sender.provider, 1);
    ck_assert_uint_eq(submission.size, 4000);
    ck_assert_uint_eq(submission.attachment_size, 3000);
    trace_reader_free(reader);
}
END_TEST

START_TEST(sizes_reproducible)
{
    providers[0].workload.message_size = (struct dist){ .kind = DIST_EXPONENTIAL, .a = 5000 };
    char err[256] = "";
    struct trace_reader *first = open_trace(TRACES "grouping.trace", err, sizeof err);
    struct trace_reader *second = open_trace(TRACES "grouping.csv.trace", err, sizeof err);
    struct submission a;
    struct submission b;
    size_t distinct = 0;
    uint64_t first_size = 0;

    while (trace_reader_next(first, &a) == 1) {
        ck_assert_int_eq(trace_reader_next(second, &b), 1);
        ck_assert_uint_eq(a.size, b.size);
        if (first_size == 0)
            first_size = a.size;
        distinct += a.size != first_size;
    }
    ck_assert_uint_gt(distinct, 0);
    trace_reader_free(first);
    trace_reader_free(second);
}
END_TEST

START_TEST(max_recipients_accepted)
{
    char err[256] = "";
    struct trace_reader *reader = open_trace(TRACES "max_recipients.trace", err, sizeof err);
    struct submission submission;

    ck_assert_int_eq(trace_reader_next(reader, &submission), 1);
    ck_assert_uint_eq(submission.recipient_count, SUBMISSION_MAX_RECIPIENTS);
    ck_assert_uint_eq(submission.recipients[63].mailbox, 63);
    ck_assert_int_eq(trace_reader_next(reader, &submission), 1);
    ck_assert_uint_eq(submission.sender.mailbox, 2);
    ck_assert_int_eq(trace_reader_next(reader, &submission), 0);
    trace_reader_free(reader);
}
END_TEST

START_TEST(sample_trace_reads)
{
    char err[256] = "";
    struct trace_reader *reader = open_trace("scenarios/traces/sample.trace", err,
                                             sizeof err);
    struct submission submission;
    size_t messages = 0;
    size_t recipients = 0;
    size_t largest = 0;

    while (trace_reader_next(reader, &submission) == 1) {
        messages++;
        recipients += submission.recipient_count;
        if (submission.recipient_count > largest)
            largest = submission.recipient_count;
    }
    ck_assert_str_eq(err, "");
    ck_assert_uint_eq(messages, 15);
    ck_assert_uint_eq(recipients, 21);
    ck_assert_uint_eq(largest, 4);
    trace_reader_free(reader);
}
END_TEST

START_TEST(open_missing_file)
{
    char err[256] = "";
    ck_assert_ptr_null(trace_reader_open(TRACES "absent.trace", &scenario, err, sizeof err));
    ck_assert_str_eq(err, TRACES "absent.trace: failed to open trace: No such file or directory");
}
END_TEST

/* Reads `name` until it fails; expects `messages` messages first and then
 * the error "tests/traces/NAME:expected". */
static void assert_trace_error(const char *name, int messages, const char *expected)
{
    char path[256];
    char want[512];
    char err[512] = "";
    snprintf(path, sizeof path, TRACES "%s", name);
    snprintf(want, sizeof want, "%s:%s", path, expected);

    struct trace_reader *reader = open_trace(path, err, sizeof err);
    struct submission submission;
    for (int i = 0; i < messages; i++)
        ck_assert_int_eq(trace_reader_next(reader, &submission), 1);
    ck_assert_int_eq(trace_reader_next(reader, &submission), -1);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(trace_reader_next(reader, &submission), -1);
    trace_reader_free(reader);
}

START_TEST(error_column_count)
{
    assert_trace_error("columns_few.trace", 1,
                       "2:19: expected 3 columns (time, sender, recipient), found 2");
    assert_trace_error("columns_many.trace", 0,
                       "1:36: expected 3 columns (time, sender, recipient), found 4");
    assert_trace_error("columns_csv_empty.trace", 0,
                       "1:36: expected 3 columns (time, sender, recipient), found 4");
}
END_TEST

START_TEST(error_time_not_number)
{
    assert_trace_error("time_text.trace", 0, "2:1: time 'noon' is not a number, expected seconds");
    assert_trace_error("time_hex.trace", 0, "1:1: time '0x10' is not a number, expected seconds");
}
END_TEST

START_TEST(error_time_negative)
{
    assert_trace_error("time_negative.trace", 0,
                       "1:1: time '-1' is negative, expected seconds >= 0");
}
END_TEST

START_TEST(error_time_not_finite)
{
    assert_trace_error("time_nan.trace", 0, "1:3: time 'nan' is not a finite number");
    assert_trace_error("time_inf.trace", 1, "2:1: time 'inf' is not a finite number");
}
END_TEST

START_TEST(error_time_too_large)
{
    assert_trace_error("time_large.trace", 0,
                       "1:1: time '1e10' is too large, expected at most 9223372036 seconds");
}
END_TEST

START_TEST(error_time_decreasing)
{
    assert_trace_error("time_decreasing.trace", 3,
                       "7:1: time '12.5' is earlier than the previous row's 13, "
                       "expected non-decreasing times");
}
END_TEST

START_TEST(error_bad_address)
{
    assert_trace_error("sender_no_at.trace", 0,
                       "1:3: invalid sender 'alice': missing '@' between local part and domain");
    assert_trace_error("recipient_unknown.trace", 0,
                       "1:20: invalid recipient 'bob@gamma.example': "
                       "domain 'gamma.example' is not served by any provider");
    assert_trace_error("recipient_empty.trace", 0,
                       "1:22: recipient is empty, expected an address");
}
END_TEST

START_TEST(error_too_many_recipients)
{
    assert_trace_error("too_many_recipients.trace", 0,
                       "66:20: message at time 5 from u1@alpha.example has more than "
                       "64 recipients");
}
END_TEST

START_TEST(error_long_line)
{
    assert_trace_error("long_line.trace", 1, "2:4097: line is longer than 4096 bytes");
}
END_TEST

START_TEST(error_nul_byte)
{
    assert_trace_error("nul_byte.trace", 1, "2:11: line contains a NUL byte, expected text");
}
END_TEST

START_TEST(error_truncated_to_buffer)
{
    char err[16] = "";
    struct trace_reader *reader = open_trace(TRACES "time_negative.trace", err, sizeof err);
    struct submission submission;
    ck_assert_int_eq(trace_reader_next(reader, &submission), -1);
    ck_assert_str_eq(err, "tests/traces/ti");
    trace_reader_free(reader);
}
END_TEST

Suite *trace_suite(void);

Suite *trace_suite(void)
{
    Suite *suite = suite_create("trace");
    TCase *reading = tcase_create("reading");
    tcase_add_checked_fixture(reading, fill_scenario, NULL);
    tcase_add_test(reading, grouping_whitespace);
    tcase_add_test(reading, grouping_csv);
    tcase_add_test(reading, sizes_from_sender_provider);
    tcase_add_test(reading, sizes_reproducible);
    tcase_add_test(reading, max_recipients_accepted);
    tcase_add_test(reading, sample_trace_reads);
    suite_add_tcase(suite, reading);

    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, fill_scenario, NULL);
    tcase_add_test(errors, open_missing_file);
    tcase_add_test(errors, error_column_count);
    tcase_add_test(errors, error_time_not_number);
    tcase_add_test(errors, error_time_negative);
    tcase_add_test(errors, error_time_not_finite);
    tcase_add_test(errors, error_time_too_large);
    tcase_add_test(errors, error_time_decreasing);
    tcase_add_test(errors, error_bad_address);
    tcase_add_test(errors, error_too_many_recipients);
    tcase_add_test(errors, error_long_line);
    tcase_add_test(errors, error_nul_byte);
    tcase_add_test(errors, error_truncated_to_buffer);
    suite_add_tcase(suite, errors);
    return suite;
}

TEST_MAIN(trace_suite)
