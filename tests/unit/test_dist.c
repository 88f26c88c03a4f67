/*
 * Unit tests for distributions: names, analytic means against closed
 * forms, sample means against dist_mean, supports, the empirical table,
 * copies, and the aborts on invalid parameters.
 *
 * Sample means use SAMPLES draws at a fixed seed and must lie within five
 * standard errors (5 * stddev / sqrt(SAMPLES)) of dist_mean, where stddev
 * is the distribution's known standard deviation.
 */
#include <math.h>
#include <signal.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_gamma.h>

#include "sim/dist.h"
#include "tests/unit/test_util.h"

#define SAMPLES 200000
#define SEED 2024UL

static gsl_rng *test_rng(void)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, SEED);
    return rng;
}

/* A table with an atom of 0.2 at 1 and three linear segments. */
static void make_table(struct dist *dist)
{
    static const struct dist_point table[] = {
        { 1, 0.2 }, { 2, 0.5 }, { 4, 0.9 }, { 10, 1.0 },
    };
    struct dist_point *points = malloc(sizeof table);
    ck_assert_ptr_nonnull(points);
    memcpy(points, table, sizeof table);
    dist_empirical(dist, points, 4);
}

/* Standard deviation of a piecewise-linear empirical distribution: the
 * atom at the first value plus, per segment, a uniform distribution. */
static double empirical_stddev(const struct dist *dist)
{
    const struct dist_point *p = dist->points;
    double second_moment = p[0].cumulative * p[0].value * p[0].value;
    for (size_t i = 1; i < dist->point_count; i++) {
        double a = p[i - 1].value;
        double b = p[i].value;
        double mass = p[i].cumulative - p[i - 1].cumulative;
        second_moment += mass * (a * a + a * b + b * b) / 3;
    }
    double mean = dist_mean(dist);
    return sqrt(second_moment - mean * mean);
}

/* Standard deviation of Normal(mean, stddev) conditioned on X >= 0. */
static double truncated_normal_stddev(double mean, double stddev)
{
    double alpha = -mean / stddev;
    double hazard = gsl_ran_ugaussian_pdf(alpha) / gsl_cdf_ugaussian_Q(alpha);
    return stddev * sqrt(1 + alpha * hazard - hazard * hazard);
}

START_TEST(kind_names_round_trip)
{
    for (int i = 0; i < DIST_KIND_COUNT; i++) {
        enum dist_kind kind;
        const char *name = dist_kind_name((enum dist_kind)i);
        ck_assert(dist_kind_from_name(name, &kind));
        ck_assert_int_eq(kind, i);
    }
    ck_assert_str_eq(dist_kind_name(DIST_LOGNORMAL), "lognormal");
    ck_assert_str_eq(dist_kind_name(DIST_KIND_COUNT), "invalid");

    enum dist_kind unchanged = DIST_PARETO;
    ck_assert(!dist_kind_from_name("gaussian", &unchanged));
    ck_assert(!dist_kind_from_name("", &unchanged));
    ck_assert_int_eq(unchanged, DIST_PARETO);
}
END_TEST

START_TEST(mean_closed_forms)
{
    struct dist d;

    dist_constant(&d, 3.5);
    ck_assert_double_eq(dist_mean(&d), 3.5);
    d = (struct dist){ .kind = DIST_UNIFORM, .a = 2, .b = 6 };
    ck_assert_double_eq(dist_mean(&d), 4);
    d = (struct dist){ .kind = DIST_EXPONENTIAL, .a = 2.5 };
    ck_assert_double_eq(dist_mean(&d), 2.5);
    d = (struct dist){ .kind = DIST_LOGNORMAL, .a = 1, .b = 0.5 };
    ck_assert_double_eq_tol(dist_mean(&d), 3.080216848918031, 1e-12);
    d = (struct dist){ .kind = DIST_PARETO, .a = 3, .b = 2 };
    ck_assert_double_eq_tol(dist_mean(&d), 3, 1e-12);
    d = (struct dist){ .kind = DIST_PARETO, .a = 1, .b = 2 };
    ck_assert_double_infinite(dist_mean(&d));
    d = (struct dist){ .kind = DIST_PARETO, .a = 0.5, .b = 2 };
    ck_assert_double_infinite(dist_mean(&d));
    /* Weibull(k = 2, lambda = 3): 3 * Gamma(3/2) = 3 * sqrt(pi) / 2. */
    d = (struct dist){ .kind = DIST_WEIBULL, .a = 2, .b = 3 };
    ck_assert_double_eq_tol(dist_mean(&d), 2.658680776358274, 1e-12);
    d = (struct dist){ .kind = DIST_WEIBULL, .a = 1, .b = 2 };
    ck_assert_double_eq_tol(dist_mean(&d), 2, 1e-12);

    make_table(&d);
    /* 0.2 * 1 + 0.3 * 1.5 + 0.4 * 3 + 0.1 * 7 */
    ck_assert_double_eq_tol(dist_mean(&d), 2.55, 1e-12);
    dist_fini(&d);
}
END_TEST

START_TEST(truncated_normal_mean_values)
{
    struct dist d = { .kind = DIST_NORMAL, .a = 0, .b = 1 };

    /* Half-normal: sqrt(2 / pi). */
    ck_assert_double_eq_tol(dist_mean(&d), 0.7978845608028654, 1e-12);
    d.b = 3;
    ck_assert_double_eq_tol(dist_mean(&d), 3 * 0.7978845608028654, 1e-12);

    /* mean = stddev: 1 + phi(1) / P(1), computed with Python's erfc. */
    d = (struct dist){ .kind = DIST_NORMAL, .a = 1, .b = 1 };
    ck_assert_double_eq_tol(dist_mean(&d), 1.2875999709391783, 1e-12);

    /* Far above zero the truncation does not matter. */
    d = (struct dist){ .kind = DIST_NORMAL, .a = 10, .b = 1 };
    ck_assert_double_eq_tol(dist_mean(&d), 10, 1e-12);

    /* Far below zero: 1/a - 2/a^3 + 10/a^5 - 74/a^7 with a = 50. */
    d = (struct dist){ .kind = DIST_NORMAL, .a = -50, .b = 1 };
    ck_assert_double_eq_tol(dist_mean(&d), 0.019984031905280003, 1e-9);

    /* Zero stddev: the mean itself, clipped at zero. */
    d = (struct dist){ .kind = DIST_NORMAL, .a = 4, .b = 0 };
    ck_assert_double_eq(dist_mean(&d), 4);
    d.a = -4;
    ck_assert_double_eq(dist_mean(&d), 0);
}
END_TEST

START_TEST(truncated_normal_mean_continuous)
{
    /* Around alpha = 37 the exact formula hands over to the series. */
    struct dist d = { .kind = DIST_NORMAL, .b = 1 };
    for (double alpha = 30; alpha <= 45; alpha += 0.25) {
        d.a = -alpha;
        double a2 = alpha * alpha;
        double series = (1 - 2 / a2 + 10 / (a2 * a2) - 74 / (a2 * a2 * a2))
                        / alpha;
        ck_assert_double_eq_tol(dist_mean(&d), series, 1e-7 * series);
    }
}
END_TEST

/* One row of the sample-mean table. */
struct sample_case {
    const char *label;
    struct dist dist;
    double stddev;     /* known standard deviation of the distribution */
};

/* Checks that the sample mean is within 5 standard errors of dist_mean
 * and the sample standard deviation within 5 % of the known one. */
static void check_sample_moments(const struct sample_case *c, gsl_rng *rng)
{
    double sum = 0;
    double sum_squares = 0;
    for (int i = 0; i < SAMPLES; i++) {
        double x = dist_sample(&c->dist, rng);
        sum += x;
        sum_squares += x * x;
    }
    double mean = sum / SAMPLES;
    double variance = (sum_squares - sum * mean) / (SAMPLES - 1);
    double expected = dist_mean(&c->dist);
    double tolerance = 5 * c->stddev / sqrt(SAMPLES);

    ck_assert_msg(fabs(mean - expected) <= tolerance,
                  "%s: sample mean %g, dist_mean %g, tolerance %g", c->label,
                  mean, expected, tolerance);
    ck_assert_msg(fabs(sqrt(variance) - c->stddev) <= 0.05 * c->stddev,
                  "%s: sample stddev %g, expected %g", c->label,
                  sqrt(variance), c->stddev);
}

START_TEST(sample_means_match)
{
    double weibull_k = 1.5;
    double weibull_lambda = 2;
    double g1 = gsl_sf_gamma(1 + 1 / weibull_k);
    double g2 = gsl_sf_gamma(1 + 2 / weibull_k);
    double lognormal_var = (exp(0.25) - 1) * exp(2 * 0.5 + 0.25);

    struct sample_case cases[] = {
        { "uniform", { .kind = DIST_UNIFORM, .a = 2, .b = 6 },
          4 / sqrt(12) },
        { "exponential", { .kind = DIST_EXPONENTIAL, .a = 2.5 }, 2.5 },
        { "normal by rejection", { .kind = DIST_NORMAL, .a = 1, .b = 2 },
          truncated_normal_stddev(1, 2) },
        { "normal by tail", { .kind = DIST_NORMAL, .a = -2, .b = 1 },
          truncated_normal_stddev(-2, 1) },
        { "lognormal", { .kind = DIST_LOGNORMAL, .a = 0.5, .b = 0.5 },
          sqrt(lognormal_var) },
        /* Pareto(alpha = 5, x_m = 2): variance x_m^2 a / ((a-1)^2 (a-2)). */
        { "pareto", { .kind = DIST_PARETO, .a = 5, .b = 2 },
          sqrt(4.0 * 5 / (16 * 3)) },
        { "weibull", { .kind = DIST_WEIBULL, .a = weibull_k,
                       .b = weibull_lambda },
          weibull_lambda * sqrt(g2 - g1 * g1) },
    };

    gsl_rng *rng = test_rng();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_sample_moments(&cases[i], rng);

    struct sample_case table = { .label = "empirical" };
    make_table(&table.dist);
    table.stddev = empirical_stddev(&table.dist);
    check_sample_moments(&table, rng);
    dist_fini(&table.dist);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(lognormal_from_moments_matches)
{
    struct dist d;
    dist_lognormal_from_moments(&d, 2, 1);

    ck_assert_int_eq(d.kind, DIST_LOGNORMAL);
    ck_assert_double_eq_tol(d.b * d.b, log(1.25), 1e-12);
    ck_assert_double_eq_tol(d.a, log(2) - log(1.25) / 2, 1e-12);
    ck_assert_double_eq_tol(dist_mean(&d), 2, 1e-12);

    gsl_rng *rng = test_rng();
    struct sample_case c = { "lognormal from moments", d, 1 };
    check_sample_moments(&c, rng);
    gsl_rng_free(rng);

    dist_lognormal_from_moments(&d, 3, 0);
    ck_assert_double_eq(d.b, 0);
    ck_assert_double_eq_tol(dist_mean(&d), 3, 1e-12);
}
END_TEST

START_TEST(samples_stay_in_support)
{
    struct dist uniform = { .kind = DIST_UNIFORM, .a = 2, .b = 6 };
    struct dist pareto = { .kind = DIST_PARETO, .a = 1.2, .b = 3 };
    struct dist rejection = { .kind = DIST_NORMAL, .a = 0.5, .b = 2 };
    struct dist tail = { .kind = DIST_NORMAL, .a = -6, .b = 1 };
    struct dist constant;
    dist_constant(&constant, 7.25);
    gsl_rng *rng = test_rng();

    for (int i = 0; i < 20000; i++) {
        double u = dist_sample(&uniform, rng);
        ck_assert(u >= 2 && u < 6);
        ck_assert_double_ge(dist_sample(&pareto, rng), 3);
        ck_assert_double_ge(dist_sample(&rejection, rng), 0);
        ck_assert_double_ge(dist_sample(&tail, rng), 0);
        ck_assert_double_eq(dist_sample(&constant, rng), 7.25);
    }
    gsl_rng_free(rng);
}
END_TEST

START_TEST(empirical_follows_table)
{
    struct dist d;
    make_table(&d);
    gsl_rng *rng = test_rng();

    int at_first = 0;
    int up_to[4] = { 0 };
    for (int i = 0; i < SAMPLES; i++) {
        double x = dist_sample(&d, rng);
        ck_assert(x >= 1 && x <= 10);
        at_first += x == 1;
        for (size_t p = 0; p < 4; p++)
            up_to[p] += x <= d.points[p].value;
    }

    /* Each observed fraction is within 5 binomial standard errors. */
    double fraction = (double)at_first / SAMPLES;
    ck_assert_double_eq_tol(fraction, 0.2, 5 * sqrt(0.2 * 0.8 / SAMPLES));
    for (size_t p = 0; p < 3; p++) {
        double c = d.points[p].cumulative;
        double observed = (double)up_to[p] / SAMPLES;
        ck_assert_double_eq_tol(observed, c, 5 * sqrt(c * (1 - c) / SAMPLES));
    }
    ck_assert_int_eq(up_to[3], SAMPLES);

    dist_fini(&d);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(empirical_single_point)
{
    struct dist d;
    struct dist_point *point = malloc(sizeof *point);
    ck_assert_ptr_nonnull(point);
    *point = (struct dist_point){ .value = 5, .cumulative = 1 };
    dist_empirical(&d, point, 1);
    gsl_rng *rng = test_rng();

    ck_assert_double_eq(dist_mean(&d), 5);
    for (int i = 0; i < 100; i++)
        ck_assert_double_eq(dist_sample(&d, rng), 5);
    gsl_rng_free(rng);
    dist_fini(&d);
}
END_TEST

START_TEST(empirical_check_rejects)
{
    struct case_row {
        struct dist_point points[3];
        size_t count;
        bool valid;
    } rows[] = {
        { { { 1, 0.5 }, { 2, 1 } }, 2, true },
        { { { 1, 0 }, { 2, 0.5 }, { 3, 1 } }, 3, true },
        { { { 1, 1 } }, 1, true },
        { { { 1, 1 } }, 0, false },                        /* empty */
        { { { 2, 0.5 }, { 1, 1 } }, 2, false },            /* values down */
        { { { 1, 0.5 }, { 1, 1 } }, 2, false },            /* values equal */
        { { { 1, 0.6 }, { 2, 0.5 }, { 3, 1 } }, 3, false }, /* cdf down */
        { { { 1, 0.5 }, { 2, 0.9 } }, 2, false },          /* ends below 1 */
        { { { 1, 0.5 }, { 2, 1.5 } }, 2, false },          /* above 1 */
        { { { 1, -0.1 }, { 2, 1 } }, 2, false },           /* below 0 */
        { { { NAN, 0.5 }, { 2, 1 } }, 2, false },          /* NaN value */
    };

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *problem = dist_empirical_check(rows[i].points,
                                                   rows[i].count);
        ck_assert_msg((problem == NULL) == rows[i].valid,
                      "row %zu: got \"%s\"", i, problem ? problem : "valid");
    }
}
END_TEST

START_TEST(copy_is_deep)
{
    struct dist original;
    struct dist copy;
    make_table(&original);
    dist_copy(&copy, &original);

    ck_assert_ptr_ne(copy.points, original.points);
    ck_assert_uint_eq(copy.point_count, 4);
    ck_assert_int_eq(copy.kind, DIST_EMPIRICAL);
    dist_fini(&original);
    ck_assert_ptr_null(original.points);

    /* The copy still works after the original is gone. */
    ck_assert_double_eq_tol(dist_mean(&copy), 2.55, 1e-12);
    dist_fini(&copy);

    struct dist parametric = { .kind = DIST_WEIBULL, .a = 2, .b = 3 };
    dist_copy(&copy, &parametric);
    ck_assert_ptr_null(copy.points);
    ck_assert_double_eq(copy.a, 2);
    ck_assert_double_eq(copy.b, 3);
}
END_TEST

START_TEST(lognormal_zero_mean_aborts)
{
    struct dist d;
    dist_lognormal_from_moments(&d, 0, 1);
}
END_TEST

START_TEST(invalid_table_aborts)
{
    struct dist d;
    struct dist_point *points = calloc(2, sizeof *points);
    points[0] = (struct dist_point){ 1, 0.5 };
    points[1] = (struct dist_point){ 2, 0.7 };
    dist_empirical(&d, points, 2);
}
END_TEST

static Suite *dist_suite(void)
{
    Suite *suite = suite_create("dist");
    TCase *analytic = tcase_create("analytic");
    tcase_add_test(analytic, kind_names_round_trip);
    tcase_add_test(analytic, mean_closed_forms);
    tcase_add_test(analytic, truncated_normal_mean_values);
    tcase_add_test(analytic, truncated_normal_mean_continuous);
    tcase_add_test(analytic, empirical_check_rejects);
    tcase_add_test(analytic, copy_is_deep);
    suite_add_tcase(suite, analytic);

    TCase *sampling = tcase_create("sampling");
    tcase_set_timeout(sampling, 60);
    tcase_add_test(sampling, sample_means_match);
    tcase_add_test(sampling, lognormal_from_moments_matches);
    tcase_add_test(sampling, samples_stay_in_support);
    tcase_add_test(sampling, empirical_follows_table);
    tcase_add_test(sampling, empirical_single_point);
    suite_add_tcase(suite, sampling);

    TCase *invariants = tcase_create("invariants");
    tcase_add_test_raise_signal(invariants, lognormal_zero_mean_aborts,
                                SIGABRT);
    tcase_add_test_raise_signal(invariants, invalid_table_aborts, SIGABRT);
    suite_add_tcase(suite, invariants);
    return suite;
}

TEST_MAIN(dist_suite)
