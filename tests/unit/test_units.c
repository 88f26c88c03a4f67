#include <math.h>
#include <string.h>

#include "sim/units.h"
#include "tests/unit/test_util.h"

static char error[256];

static sim_time duration_of(const char *text)
{
    sim_time value = -1;
    error[0] = '\0';
    ck_assert_msg(units_parse_duration(text, &value, error, sizeof error),
                  "'%s' rejected: %s", text, error);
    return value;
}

static uint64_t size_of(const char *text)
{
    uint64_t value = 0;
    error[0] = '\0';
    ck_assert_msg(units_parse_size(text, &value, error, sizeof error),
                  "'%s' rejected: %s", text, error);
    return value;
}

static double rate_of(const char *text)
{
    double value = -1;
    error[0] = '\0';
    ck_assert_msg(units_parse_rate(text, &value, error, sizeof error),
                  "'%s' rejected: %s", text, error);
    return value;
}

static double bandwidth_of(const char *text)
{
    double value = -1;
    error[0] = '\0';
    ck_assert_msg(units_parse_bandwidth(text, &value, error, sizeof error),
                  "'%s' rejected: %s", text, error);
    return value;
}

/* Returns the error message for a duration that must be rejected. */
static const char *duration_error(const char *text)
{
    sim_time value = 12345;
    error[0] = '\0';
    ck_assert_msg(!units_parse_duration(text, &value, error, sizeof error),
                  "'%s' accepted", text);
    ck_assert_int_eq(value, 12345);
    return error;
}

static const char *size_error(const char *text)
{
    uint64_t value = 0;
    error[0] = '\0';
    ck_assert_msg(!units_parse_size(text, &value, error, sizeof error),
                  "'%s' accepted", text);
    return error;
}

START_TEST(duration_every_unit)
{
    ck_assert_int_eq(duration_of("7ns"), 7);
    ck_assert_int_eq(duration_of("3us"), 3 * SIM_US);
    ck_assert_int_eq(duration_of("250ms"), 250 * SIM_MS);
    ck_assert_int_eq(duration_of("1.5s"), 1500 * SIM_MS);
    ck_assert_int_eq(duration_of("5m"), 5 * SIM_MIN);
    ck_assert_int_eq(duration_of("5min"), 5 * SIM_MIN);
    ck_assert_int_eq(duration_of("4h"), 4 * SIM_HOUR);
    ck_assert_int_eq(duration_of("5d"), 5 * SIM_DAY);
}
END_TEST

START_TEST(duration_number_forms)
{
    ck_assert_int_eq(duration_of("0s"), 0);
    ck_assert_int_eq(duration_of("0.1s"), 100 * SIM_MS);
    ck_assert_int_eq(duration_of(".5s"), 500 * SIM_MS);
    ck_assert_int_eq(duration_of("2.s"), 2 * SIM_SEC);
    ck_assert_int_eq(duration_of("1e3ms"), SIM_SEC);
    ck_assert_int_eq(duration_of("2.5E-3s"), 2500 * SIM_US);
    ck_assert_int_eq(duration_of("+3s"), 3 * SIM_SEC);
    ck_assert_int_eq(duration_of("30 s"), 30 * SIM_SEC);
    ck_assert_int_eq(duration_of("0.4ns"), 0);
    ck_assert_int_eq(duration_of("0.5ns"), 1);
    ck_assert_int_eq(duration_of("106751d"), 106751 * SIM_DAY);
}
END_TEST

START_TEST(duration_missing_unit)
{
    ck_assert_str_eq(duration_error("5"),
                     "found '5', a number without a unit, "
                     "expected a duration such as 250ms, 5m or 4h");
    ck_assert_str_eq(duration_error("1.5"),
                     "found '1.5', a number without a unit, "
                     "expected a duration such as 250ms, 5m or 4h");
}
END_TEST

START_TEST(duration_unknown_unit)
{
    ck_assert_str_eq(duration_error("5 fortnights"),
                     "found '5 fortnights' with unknown unit 'fortnights', "
                     "expected a duration in ns, us, ms, s, m, min, h or d");
    /* Units are case-sensitive: "MS" is not milliseconds. */
    ck_assert_ptr_nonnull(strstr(duration_error("5MS"), "unknown unit 'MS'"));
    ck_assert_ptr_nonnull(strstr(duration_error("5sec"), "unknown unit 'sec'"));
}
END_TEST

START_TEST(duration_trailing_garbage)
{
    ck_assert_ptr_nonnull(strstr(duration_error("5m!"), "unknown unit 'm!'"));
    ck_assert_ptr_nonnull(strstr(duration_error("5m 3s"), "unknown unit 'm 3s'"));
    ck_assert_ptr_nonnull(strstr(duration_error("1.2.3s"), "unknown unit '.3s'"));
    ck_assert_ptr_nonnull(strstr(duration_error("5s "), "unknown unit 's '"));
}
END_TEST

START_TEST(duration_not_a_number)
{
    const char *expected = "expected a duration such as 250ms, 5m or 4h";
    const char *inputs[] = { "", "abc", "ms", "nan s", "NaN", "inf s", "-inf",
                             ".s", "-", "0x10s", " 5s" };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        const char *message = duration_error(inputs[i]);
        ck_assert_msg(strstr(message, expected) != NULL || strstr(message, "unknown unit"),
                      "'%s': %s", inputs[i], message);
    }
    ck_assert_str_eq(duration_error("abc"),
                     "found 'abc', expected a duration such as 250ms, 5m or 4h");
    ck_assert_str_eq(duration_error("nan s"),
                     "found 'nan s', expected a duration such as 250ms, 5m or 4h");
    /* "0x10s" scans as 0 followed by the unit "x10s", never as hex 16. */
    ck_assert_ptr_nonnull(strstr(duration_error("0x10s"), "unknown unit 'x10s'"));
}
END_TEST

START_TEST(duration_negative)
{
    ck_assert_str_eq(duration_error("-5m"),
                     "found '-5m', expected a non-negative duration "
                     "such as 250ms, 5m or 4h");
    ck_assert_int_eq(duration_of("-0s"), 0);
}
END_TEST

START_TEST(duration_overflow)
{
    ck_assert_str_eq(duration_error("106752d"),
                     "found '106752d', expected a duration of at most 106751d");
    ck_assert_ptr_nonnull(strstr(duration_error("1e400s"), "at most 106751d"));
    ck_assert_ptr_nonnull(strstr(duration_error("1e19ns"), "at most 106751d"));
}
END_TEST

START_TEST(size_every_unit)
{
    ck_assert_uint_eq(size_of("12B"), 12);
    ck_assert_uint_eq(size_of("75KB"), 75000);
    ck_assert_uint_eq(size_of("75kB"), 75000);
    ck_assert_uint_eq(size_of("10MB"), 10000000);
    ck_assert_uint_eq(size_of("2GB"), 2000000000);
    ck_assert_uint_eq(size_of("3TB"), 3000000000000u);
    ck_assert_uint_eq(size_of("4KiB"), 4096);
    ck_assert_uint_eq(size_of("25MiB"), 25u << 20);
    ck_assert_uint_eq(size_of("1GiB"), 1u << 30);
    ck_assert_uint_eq(size_of("2TiB"), (uint64_t)2 << 40);
    ck_assert_uint_eq(size_of("1.5KiB"), 1536);
    ck_assert_uint_eq(size_of("0.5B"), 1);
    ck_assert_uint_eq(size_of("0B"), 0);
}
END_TEST

START_TEST(size_errors)
{
    ck_assert_str_eq(size_error("100"),
                     "found '100', a number without a unit, "
                     "expected a size such as 75KB, 10MB or 25MiB");
    ck_assert_str_eq(size_error("10mb"),
                     "found '10mb' with unknown unit 'mb', expected a size in "
                     "B, kB, KB, MB, GB, TB, KiB, MiB, GiB or TiB");
    ck_assert_str_eq(size_error("-1KB"),
                     "found '-1KB', expected a non-negative size "
                     "such as 75KB, 10MB or 25MiB");
    ck_assert_str_eq(size_error("20EB"),
                     "found '20EB' with unknown unit 'EB', expected a size in "
                     "B, kB, KB, MB, GB, TB, KiB, MiB, GiB or TiB");
    ck_assert_str_eq(size_error("1e8TB"),
                     "found '1e8TB', expected a size of at most 16EiB");
    ck_assert_str_eq(size_error("big"),
                     "found 'big', expected a size such as 75KB, 10MB or 25MiB");
}
END_TEST

START_TEST(rate_every_unit)
{
    ck_assert_double_eq_tol(rate_of("20/s"), 20, 1e-12);
    ck_assert_double_eq_tol(rate_of("5/min"), 5.0 / 60, 1e-12);
    ck_assert_double_eq_tol(rate_of("30/h"), 30.0 / 3600, 1e-12);
    ck_assert_double_eq_tol(rate_of("100/d"), 100.0 / 86400, 1e-12);
    ck_assert_double_eq(rate_of("0/s"), 0);
}
END_TEST

START_TEST(rate_errors)
{
    double value = 0;
    ck_assert(!units_parse_rate("20", &value, error, sizeof error));
    ck_assert_str_eq(error, "found '20', a number without a unit, "
                            "expected a rate such as 20/s, 5/min, 30/h or 100/d");
    ck_assert(!units_parse_rate("20/week", &value, error, sizeof error));
    ck_assert_str_eq(error, "found '20/week' with unknown unit '/week', "
                            "expected a rate in /s, /min, /h or /d");
    ck_assert(!units_parse_rate("-1/s", &value, error, sizeof error));
    ck_assert_str_eq(error, "found '-1/s', expected a non-negative rate "
                            "such as 20/s, 5/min, 30/h or 100/d");
    ck_assert(!units_parse_rate("1e300/s", &value, error, sizeof error));
    ck_assert_str_eq(error, "found '1e300/s', expected a rate of at most 1e18/s");
    /* A NULL buffer with size 0 is allowed. */
    ck_assert(!units_parse_rate("x", &value, NULL, 0));
}
END_TEST

START_TEST(bandwidth_every_unit)
{
    ck_assert_double_eq_tol(bandwidth_of("100B/s"), 100, 1e-9);
    ck_assert_double_eq_tol(bandwidth_of("1kB/s"), 1e3, 1e-9);
    ck_assert_double_eq_tol(bandwidth_of("1KB/s"), 1e3, 1e-9);
    ck_assert_double_eq_tol(bandwidth_of("12.5MB/s"), 12.5e6, 1e-6);
    ck_assert_double_eq_tol(bandwidth_of("2GB/s"), 2e9, 1e-3);
    ck_assert_double_eq_tol(bandwidth_of("1TB/s"), 1e12, 1);
    ck_assert_double_eq_tol(bandwidth_of("1KiB/s"), 1024, 1e-9);
    ck_assert_double_eq_tol(bandwidth_of("1MiB/s"), 1048576, 1e-9);
    ck_assert_double_eq_tol(bandwidth_of("1GiB/s"), 1073741824, 1e-6);
    ck_assert_double_eq_tol(bandwidth_of("800bit/s"), 100, 1e-9);
    ck_assert_double_eq_tol(bandwidth_of("8kbit/s"), 1e3, 1e-9);
    ck_assert_double_eq_tol(bandwidth_of("8Kbit/s"), 1e3, 1e-9);
    ck_assert_double_eq_tol(bandwidth_of("100Mbit/s"), 12.5e6, 1e-6);
    ck_assert_double_eq_tol(bandwidth_of("1Gbit/s"), 125e6, 1e-3);
    ck_assert_double_eq_tol(bandwidth_of("1Tbit/s"), 125e9, 1);
}
END_TEST

START_TEST(bandwidth_errors)
{
    double value = 0;
    ck_assert(!units_parse_bandwidth("1Gbps", &value, error, sizeof error));
    ck_assert_ptr_nonnull(strstr(error, "unknown unit 'Gbps'"));
    ck_assert(!units_parse_bandwidth("1G", &value, error, sizeof error));
    ck_assert_ptr_nonnull(strstr(error, "unknown unit 'G'"));
    ck_assert(!units_parse_bandwidth("1000", &value, error, sizeof error));
    ck_assert_str_eq(error, "found '1000', a number without a unit, "
                            "expected a bandwidth such as 12.5MB/s, 100Mbit/s or 1Gbit/s");
    ck_assert(!units_parse_bandwidth("-1MB/s", &value, error, sizeof error));
    ck_assert_ptr_nonnull(strstr(error, "non-negative bandwidth"));
}
END_TEST

START_TEST(number_strict_decimal)
{
    double value = 0;
    ck_assert(units_parse_number("0.25", &value));
    ck_assert_double_eq(value, 0.25);
    ck_assert(units_parse_number("-3e2", &value));
    ck_assert_double_eq(value, -300);
    ck_assert(units_parse_number("7", &value));
    ck_assert_double_eq(value, 7);

    const char *rejected[] = { "", "abc", ".nan", "nan", ".inf", "inf",
                               "0x10", "1e999", "1.5s", "1,5", " 1", "1 " };
    for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++)
        ck_assert_msg(!units_parse_number(rejected[i], &value), "'%s' accepted",
                      rejected[i]);
}
END_TEST

static Suite *units_suite(void)
{
    Suite *suite = suite_create("units");
    TCase *durations = tcase_create("durations");
    tcase_add_test(durations, duration_every_unit);
    tcase_add_test(durations, duration_number_forms);
    tcase_add_test(durations, duration_missing_unit);
    tcase_add_test(durations, duration_unknown_unit);
    tcase_add_test(durations, duration_trailing_garbage);
    tcase_add_test(durations, duration_not_a_number);
    tcase_add_test(durations, duration_negative);
    tcase_add_test(durations, duration_overflow);
    suite_add_tcase(suite, durations);

    TCase *others = tcase_create("sizes, rates and bandwidths");
    tcase_add_test(others, size_every_unit);
    tcase_add_test(others, size_errors);
    tcase_add_test(others, rate_every_unit);
    tcase_add_test(others, rate_errors);
    tcase_add_test(others, bandwidth_every_unit);
    tcase_add_test(others, bandwidth_errors);
    tcase_add_test(others, number_strict_decimal);
    suite_add_tcase(suite, others);
    return suite;
}

TEST_MAIN(units_suite)
