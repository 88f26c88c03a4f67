/*
 * Unit tests for streaming statistics: histogram quantiles within the
 * relative error, exact count/min/max/mean, the CDF, merging, values
 * outside [min_value, max_value], the time-weighted average on a
 * hand-computed piecewise-constant function, and series growth.
 */
#include <math.h>
#include <signal.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "sim/stats.h"
#include "tests/unit/test_util.h"

#define N_VALUES 100000
#define RELATIVE_ERROR 0.01

static const double quantiles[] = {
    0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999,
};
#define QUANTILE_COUNT (sizeof quantiles / sizeof quantiles[0])

/* A histogram of the integers 1..N_VALUES. */
static struct histogram *histogram_of_integers(double min_value)
{
    struct histogram *histogram =
        histogram_new(min_value, 1e6, RELATIVE_ERROR);
    for (int i = 1; i <= N_VALUES; i++)
        histogram_add(histogram, i);
    return histogram;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

START_TEST(quantiles_of_integers)
{
    static const double min_values[] = { 1, 1e-6, 0.37 };

    for (size_t m = 0; m < 3; m++) {
        struct histogram *histogram = histogram_of_integers(min_values[m]);
        for (size_t i = 0; i < QUANTILE_COUNT; i++) {
            double q = quantiles[i];
            double exact = ceil(q * N_VALUES);
            double estimate = histogram_quantile(histogram, q);
            ck_assert_msg(fabs(estimate - exact)
                              <= RELATIVE_ERROR * exact * (1 + 1e-9),
                          "min_value %g, q %g: estimate %g, exact %g",
                          min_values[m], q, estimate, exact);
        }
        histogram_free(histogram);
    }
}
END_TEST

START_TEST(quantiles_of_exponential_sample)
{
    double *values = malloc(N_VALUES * sizeof *values);
    ck_assert_ptr_nonnull(values);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 99);
    struct histogram *histogram = histogram_new(1e-6, 1e3, RELATIVE_ERROR);

    for (int i = 0; i < N_VALUES; i++) {
        values[i] = gsl_ran_exponential(rng, 0.25);
        histogram_add(histogram, values[i]);
    }
    qsort(values, N_VALUES, sizeof *values, compare_doubles);

    for (size_t i = 0; i < QUANTILE_COUNT; i++) {
        double q = quantiles[i];
        double exact = values[(size_t)ceil(q * N_VALUES) - 1];
        double estimate = histogram_quantile(histogram, q);
        ck_assert_msg(fabs(estimate - exact)
                          <= RELATIVE_ERROR * exact * (1 + 1e-9),
                      "q %g: estimate %g, exact %g", q, estimate, exact);
    }
    ck_assert_double_eq(histogram_quantile(histogram, 0), values[0]);
    ck_assert_double_eq(histogram_quantile(histogram, 1),
                        values[N_VALUES - 1]);

    histogram_free(histogram);
    gsl_rng_free(rng);
    free(values);
}
END_TEST

START_TEST(exact_summary_values)
{
    struct histogram *histogram = histogram_of_integers(1);
    double n = N_VALUES;

    ck_assert_uint_eq(histogram_count(histogram), N_VALUES);
    ck_assert_double_eq(histogram_min(histogram), 1);
    ck_assert_double_eq(histogram_max(histogram), n);
    ck_assert_double_eq(histogram_mean(histogram), (n + 1) / 2);
    /* Sample variance of 1..n is n (n + 1) / 12. */
    ck_assert_double_eq_tol(histogram_stddev(histogram),
                            sqrt(n * (n + 1) / 12), 1e-6);
    ck_assert_double_eq(histogram_quantile(histogram, 0), 1);
    ck_assert_double_eq(histogram_quantile(histogram, 1), n);
    histogram_free(histogram);
}
END_TEST

START_TEST(empty_histogram_is_nan)
{
    struct histogram *histogram = histogram_new(1, 10, RELATIVE_ERROR);

    ck_assert_uint_eq(histogram_count(histogram), 0);
    ck_assert_double_nan(histogram_min(histogram));
    ck_assert_double_nan(histogram_max(histogram));
    ck_assert_double_nan(histogram_mean(histogram));
    ck_assert_double_nan(histogram_stddev(histogram));
    ck_assert_double_nan(histogram_quantile(histogram, 0.5));
    ck_assert_double_nan(histogram_cdf(histogram, 5));
    histogram_free(histogram);
}
END_TEST

START_TEST(single_sample_is_exact)
{
    struct histogram *histogram = histogram_new(1, 10, RELATIVE_ERROR);
    histogram_add(histogram, 3.3);

    ck_assert_double_eq(histogram_stddev(histogram), 0);
    ck_assert_double_eq(histogram_quantile(histogram, 0.5), 3.3);
    ck_assert_double_eq(histogram_cdf(histogram, 3.2), 0);
    ck_assert_double_eq(histogram_cdf(histogram, 3.3), 1);
    histogram_free(histogram);
}
END_TEST

START_TEST(values_outside_range)
{
    struct histogram *histogram = histogram_new(1, 100, RELATIVE_ERROR);
    static const double values[] = { 0, 0.25, 50, 1000, 5000 };
    for (size_t i = 0; i < 5; i++)
        histogram_add(histogram, values[i]);

    ck_assert_uint_eq(histogram_count(histogram), 5);
    ck_assert_double_eq(histogram_min(histogram), 0);
    ck_assert_double_eq(histogram_max(histogram), 5000);
    ck_assert_double_eq(histogram_mean(histogram), 6050.25 / 5);

    /* Below min_value: the first bucket, [0, 1). */
    double low = histogram_quantile(histogram, 0.4);
    ck_assert(low >= 0 && low < 1);
    /* Inside the range the relative error holds. */
    ck_assert_double_eq_tol(histogram_quantile(histogram, 0.6), 50,
                            50 * RELATIVE_ERROR);
    /* Above max_value: the last bucket, clamped to the observed max. */
    double high = histogram_quantile(histogram, 0.8);
    ck_assert(high >= 100 / (1 + 2 * RELATIVE_ERROR) && high <= 5000);
    ck_assert_double_eq(histogram_quantile(histogram, 1), 5000);
    histogram_free(histogram);
}
END_TEST

START_TEST(cdf_of_integers)
{
    struct histogram *histogram = histogram_of_integers(1);
    static const double points[] = { 1, 7.5, 100, 999, 12345, 50000, 99999 };

    ck_assert_double_eq(histogram_cdf(histogram, 0.5), 0);
    ck_assert_double_eq(histogram_cdf(histogram, N_VALUES), 1);
    ck_assert_double_eq(histogram_cdf(histogram, 1e9), 1);

    /* The error is at most the share of the one bucket that contains the
     * value: about 2 % of the value, plus one integer. */
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        double exact = floor(points[i]) / N_VALUES;
        double tolerance = (2 * RELATIVE_ERROR * points[i] + 1) / N_VALUES;
        ck_assert_double_eq_tol(histogram_cdf(histogram, points[i]), exact,
                                tolerance);
    }
    histogram_free(histogram);
}
END_TEST

START_TEST(quantile_uses_nearest_rank)
{
    /* The q-quantile is the sample of rank ceil(q * n), counting from 1. */
    struct histogram *histogram = histogram_new(0.1, 1e4, RELATIVE_ERROR);
    static const double values[] = { 1, 10, 100, 1000 };
    for (size_t i = 0; i < 4; i++)
        histogram_add(histogram, values[i]);

    static const struct {
        double q;
        double expected;
    } rows[] = {
        { 0.01, 1 }, { 0.25, 1 }, { 0.26, 10 }, { 0.5, 10 },
        { 0.51, 100 }, { 0.75, 100 }, { 0.76, 1000 }, { 0.99, 1000 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double estimate = histogram_quantile(histogram, rows[i].q);
        ck_assert_msg(fabs(estimate - rows[i].expected)
                          <= RELATIVE_ERROR * rows[i].expected,
                      "q %g: estimate %g, expected %g", rows[i].q, estimate,
                      rows[i].expected);
    }
    histogram_free(histogram);
}
END_TEST

START_TEST(cdf_interpolates_in_bucket)
{
    /* With relative error 0.1 the bucket [1.2^13, 1.2^14), about
     * [10.70, 12.84), contains every sample of 11.000, 11.001, ..., 12.000,
     * so the CDF inside it comes from interpolation alone. */
    struct histogram *histogram = histogram_new(1, 100, 0.1);
    for (int i = 0; i <= 1000; i++)
        histogram_add(histogram, 11 + i / 1000.0);

    ck_assert_double_eq_tol(histogram_cdf(histogram, 11.25), 0.25, 0.01);
    ck_assert_double_eq_tol(histogram_cdf(histogram, 11.5), 0.5, 0.01);
    ck_assert_double_eq_tol(histogram_cdf(histogram, 11.9), 0.9, 0.01);
    histogram_free(histogram);
}
END_TEST

START_TEST(merge_equals_single_histogram)
{
    struct histogram *whole = histogram_new(1, 1e6, RELATIVE_ERROR);
    struct histogram *low = histogram_new(1, 1e6, RELATIVE_ERROR);
    struct histogram *high = histogram_new(1, 1e6, RELATIVE_ERROR);
    for (int i = 1; i <= N_VALUES; i++) {
        histogram_add(whole, i);
        histogram_add(i <= N_VALUES / 3 ? low : high, i);
    }

    histogram_merge(low, high);
    ck_assert_uint_eq(histogram_count(low), N_VALUES);
    ck_assert_double_eq(histogram_min(low), 1);
    ck_assert_double_eq(histogram_max(low), N_VALUES);
    ck_assert_double_eq(histogram_mean(low), histogram_mean(whole));
    ck_assert_double_eq_tol(histogram_stddev(low), histogram_stddev(whole),
                            1e-6);
    for (size_t i = 0; i < QUANTILE_COUNT; i++)
        ck_assert_double_eq(histogram_quantile(low, quantiles[i]),
                            histogram_quantile(whole, quantiles[i]));

    histogram_free(whole);
    histogram_free(low);
    histogram_free(high);
}
END_TEST

START_TEST(merge_with_empty)
{
    struct histogram *empty = histogram_new(1, 100, RELATIVE_ERROR);
    struct histogram *full = histogram_new(1, 100, RELATIVE_ERROR);
    histogram_add(full, 2);
    histogram_add(full, 4);

    histogram_merge(full, empty);
    ck_assert_uint_eq(histogram_count(full), 2);
    ck_assert_double_eq(histogram_mean(full), 3);

    histogram_merge(empty, full);
    ck_assert_uint_eq(histogram_count(empty), 2);
    ck_assert_double_eq(histogram_min(empty), 2);
    ck_assert_double_eq(histogram_max(empty), 4);
    ck_assert_double_eq(histogram_mean(empty), 3);
    ck_assert_double_eq_tol(histogram_stddev(empty), sqrt(2), 1e-12);
    histogram_free(empty);
    histogram_free(full);
}
END_TEST

START_TEST(merge_mismatch_aborts)
{
    struct histogram *a = histogram_new(1, 100, 0.01);
    struct histogram *b = histogram_new(1, 100, 0.02);
    histogram_merge(a, b);
}
END_TEST

START_TEST(invalid_parameters_abort)
{
    histogram_new(0, 100, 0.01);
}
END_TEST

START_TEST(nan_sample_aborts)
{
    struct histogram *histogram = histogram_new(1, 100, 0.01);
    histogram_add(histogram, NAN);
}
END_TEST

START_TEST(time_average_piecewise)
{
    struct time_average average;
    time_average_init(&average, 0, 0);
    time_average_set(&average, 2 * SIM_SEC, 4);
    time_average_set(&average, 5 * SIM_SEC, 1);

    /* 0 for 2 s, 4 for 3 s, then 1: the area at 5 s is 12. */
    ck_assert_double_eq_tol(time_average_mean(&average, 5 * SIM_SEC),
                            12.0 / 5, 1e-12);
    /* Adding 1 for 5 s: (12 + 5) / 10. */
    ck_assert_double_eq_tol(time_average_mean(&average, 10 * SIM_SEC), 1.7,
                            1e-12);
    ck_assert_double_eq(average.maximum, 4);
    ck_assert_double_eq_tol(average.area, 12, 1e-12);
}
END_TEST

START_TEST(time_average_late_start)
{
    struct time_average average;
    time_average_init(&average, 10 * SIM_SEC, 1);

    ck_assert_double_eq(time_average_mean(&average, 10 * SIM_SEC), 1);
    time_average_set(&average, 12 * SIM_SEC, 5);
    /* Two changes at the same instant add no area. */
    time_average_set(&average, 12 * SIM_SEC, 3);
    time_average_set(&average, 12500 * SIM_MS, 3);

    /* 1 for 2 s, then 3 for 2 s. */
    ck_assert_double_eq_tol(time_average_mean(&average, 14 * SIM_SEC), 2,
                            1e-12);
    ck_assert_double_eq(average.maximum, 5);
    ck_assert_double_eq(average.value, 3);
}
END_TEST

START_TEST(time_average_backwards_aborts)
{
    struct time_average average;
    time_average_init(&average, 0, 0);
    time_average_set(&average, 2 * SIM_SEC, 1);
    time_average_set(&average, SIM_SEC, 2);
}
END_TEST

START_TEST(series_append_grows)
{
    char name[] = "queue_length";
    struct series series;
    series_init(&series, name);
    name[0] = 'X';

    ck_assert_str_eq(series.name, "queue_length");
    ck_assert_uint_eq(series.count, 0);

    for (int i = 0; i < 1000; i++)
        series_append(&series, (sim_time)i * SIM_SEC, i * 0.5);
    ck_assert_uint_eq(series.count, 1000);
    ck_assert_uint_ge(series.capacity, 1000);
    for (int i = 0; i < 1000; i++) {
        ck_assert_int_eq(series.times[i], (sim_time)i * SIM_SEC);
        ck_assert_double_eq(series.values[i], i * 0.5);
    }

    series_fini(&series);
    ck_assert_ptr_null(series.name);
    ck_assert_ptr_null(series.times);
    ck_assert_ptr_null(series.values);
    ck_assert_uint_eq(series.count, 0);
}
END_TEST

static Suite *stats_suite(void)
{
    Suite *suite = suite_create("stats");
    TCase *histogram = tcase_create("histogram");
    tcase_add_test(histogram, quantiles_of_integers);
    tcase_add_test(histogram, quantiles_of_exponential_sample);
    tcase_add_test(histogram, exact_summary_values);
    tcase_add_test(histogram, empty_histogram_is_nan);
    tcase_add_test(histogram, single_sample_is_exact);
    tcase_add_test(histogram, values_outside_range);
    tcase_add_test(histogram, quantile_uses_nearest_rank);
    tcase_add_test(histogram, cdf_of_integers);
    tcase_add_test(histogram, cdf_interpolates_in_bucket);
    tcase_add_test(histogram, merge_equals_single_histogram);
    tcase_add_test(histogram, merge_with_empty);
    tcase_add_test_raise_signal(histogram, merge_mismatch_aborts, SIGABRT);
    tcase_add_test_raise_signal(histogram, invalid_parameters_abort, SIGABRT);
    tcase_add_test_raise_signal(histogram, nan_sample_aborts, SIGABRT);
    suite_add_tcase(suite, histogram);

    TCase *average = tcase_create("time_average");
    tcase_add_test(average, time_average_piecewise);
    tcase_add_test(average, time_average_late_start);
    tcase_add_test_raise_signal(average, time_average_backwards_aborts,
                                SIGABRT);
    suite_add_tcase(suite, average);

    TCase *series = tcase_create("series");
    tcase_add_test(series, series_append_grows);
    suite_add_tcase(suite, series);
    return suite;
}

TEST_MAIN(stats_suite)
