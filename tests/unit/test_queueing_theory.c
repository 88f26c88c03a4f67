/*
 * Unit tests for the closed forms of queueing theory.  Every expected
 * value is worked out by hand in the comment above its check, from the
 * defining formula rather than the recursion the code uses.
 */
#include <math.h>

#include "models/queueing_theory.h"
#include "tests/unit/test_util.h"

#define TOLERANCE 1e-9

START_TEST(erlang_b_small)
{
    /* B(1, a) = a / (1 + a): 1 / 2 at a = 1. */
    ck_assert_double_eq_tol(queueing_theory_erlang_b(1, 1.0), 0.5, TOLERANCE);
    /* B(2, 1) = (1/2!) / (1 + 1 + 1/2) = 0.5 / 2.5 = 0.2. */
    ck_assert_double_eq_tol(queueing_theory_erlang_b(2, 1.0), 0.2, TOLERANCE);
    /* No servers: every arrival is blocked. */
    ck_assert_double_eq(queueing_theory_erlang_b(0, 3.0), 1.0);
}
END_TEST

START_TEST(erlang_b_five_servers)
{
    /* B(5, 4) = (4^5/5!) / sum_{k=0..5} 4^k/k!
     *         = 8.53333 / (1 + 4 + 8 + 10.66667 + 10.66667 + 8.53333)
     *         = 8.53333 / 42.86667 = 0.1990669. */
    ck_assert_double_eq_tol(queueing_theory_erlang_b(5, 4.0), 0.19906687, 1e-8);
}
END_TEST

START_TEST(erlang_b_eight_servers)
{
    /* B(8, 7.2): the terms 7.2^k/k! for k = 0..8 are 1, 7.2, 25.92,
     * 62.208, 111.9744, 161.2431, 193.4918, 199.0201, 179.1181; their sum
     * is 941.1755, so B = 179.1181 / 941.1755 = 0.1903132. */
    ck_assert_double_eq_tol(queueing_theory_erlang_b(8, 7.2), 0.1903132, 1e-7);
}
END_TEST

START_TEST(erlang_b_large_is_finite)
{
    /* 1000 servers at a = 900: a^c / c! overflows a double, the recursion
     * does not.  The blocking is small but positive. */
    double b = queueing_theory_erlang_b(1000, 900.0);
    ck_assert(isfinite(b));
    ck_assert(b > 0);
    ck_assert(b < 1e-3);
}
END_TEST

START_TEST(erlang_b_invalid)
{
    ck_assert(isnan(queueing_theory_erlang_b(-1, 1.0)));
    ck_assert(isnan(queueing_theory_erlang_b(3, 0.0)));
    ck_assert(isnan(queueing_theory_erlang_b(3, -1.0)));
    ck_assert(isnan(queueing_theory_erlang_b(3, INFINITY)));
}
END_TEST

START_TEST(erlang_c_values)
{
    /* M/M/1: C(1, a) = a, the probability that the server is busy. */
    ck_assert_double_eq_tol(queueing_theory_erlang_c(1, 0.8), 0.8, TOLERANCE);
    /* C(2, 1) = c B / (c - a (1 - B)) with B(2, 1) = 0.2:
     * 2 * 0.2 / (2 - 0.8) = 1/3. */
    ck_assert_double_eq_tol(queueing_theory_erlang_c(2, 1.0), 1.0 / 3, TOLERANCE);
    /* C(8, 7.2) = 8 * 0.1903132 / (8 - 7.2 * 0.8096868) = 1.5225053 / 2.1702550
     * = 0.7015330. */
    ck_assert_double_eq_tol(queueing_theory_erlang_c(8, 7.2), 0.7015330, 1e-7);
}
END_TEST

START_TEST(erlang_c_unstable)
{
    ck_assert(isnan(queueing_theory_erlang_c(2, 2.0)));
    ck_assert(isnan(queueing_theory_erlang_c(2, 3.0)));
    ck_assert(isnan(queueing_theory_erlang_c(0, 0.5)));
}
END_TEST

START_TEST(mm1_wait_sojourn_tail)
{
    /* lambda = 1/s, mu = 1.25/s, rho = 0.8: Wq = rho / (mu - lambda)
     * = 0.8 / 0.25 = 3.2 s, W = 1 / (mu - lambda) = 4 s, and
     * P(Wq > 2 s) = rho exp(-(mu - lambda) 2) = 0.8 exp(-0.5) = 0.4852245. */
    ck_assert_double_eq_tol(queueing_theory_mmc_wait(1, 1.0, 1.25), 3.2, TOLERANCE);
    ck_assert_double_eq_tol(queueing_theory_mmc_sojourn(1, 1.0, 1.25), 4.0, TOLERANCE);
    ck_assert_double_eq_tol(queueing_theory_mmc_wait_exceeds(1, 1.0, 1.25, 2.0),
                            0.4852245, 1e-7);
    /* At t = 0 the tail is the probability of waiting at all. */
    ck_assert_double_eq_tol(queueing_theory_mmc_wait_exceeds(1, 1.0, 1.25, 0.0),
                            0.8, TOLERANCE);
}
END_TEST

START_TEST(mm2_wait)
{
    /* lambda = mu = 1/s, c = 2: Wq = C / (c mu - lambda) = (1/3) / 1 s,
     * W = 1/3 + 1 = 4/3 s. */
    ck_assert_double_eq_tol(queueing_theory_mmc_wait(2, 1.0, 1.0), 1.0 / 3, TOLERANCE);
    ck_assert_double_eq_tol(queueing_theory_mmc_sojourn(2, 1.0, 1.0), 4.0 / 3,
                            TOLERANCE);
}
END_TEST

START_TEST(mm8_wait_and_tail)
{
    /* c = 8, mu = 1/s, lambda = 7.2/s (rho = 0.9): c mu - lambda = 0.8/s,
     * Wq = 0.7015330 / 0.8 = 0.8769162 s, and
     * P(Wq > 1 s) = 0.7015330 exp(-0.8) = 0.7015330 * 0.4493290 = 0.3152191. */
    ck_assert_double_eq_tol(queueing_theory_mmc_wait(8, 7.2, 1.0), 0.8769162, 1e-7);
    ck_assert_double_eq_tol(queueing_theory_mmc_sojourn(8, 7.2, 1.0), 1.8769162, 1e-7);
    ck_assert_double_eq_tol(queueing_theory_mmc_wait_exceeds(8, 7.2, 1.0, 1.0),
                            0.3152191, 1e-7);
}
END_TEST

START_TEST(mmc_invalid)
{
    ck_assert(isnan(queueing_theory_mmc_wait(1, 1.0, 0.0)));
    ck_assert(isnan(queueing_theory_mmc_wait(1, 2.0, 1.0)));
    ck_assert(isnan(queueing_theory_mmc_wait_exceeds(1, 0.5, 1.0, -1.0)));
}
END_TEST

START_TEST(mg1_pollaczek_khinchine)
{
    /* M/D/1, lambda = 1/s, D = 0.8 s: Wq = 1 * 0.64 / (2 * 0.2) = 1.6 s. */
    ck_assert_double_eq_tol(queueing_theory_mg1_wait(1.0, 0.8, 0.64), 1.6, TOLERANCE);
    /* Exponential service, E[S^2] = 2 * 0.64 = 1.28: the M/M/1 value 3.2 s. */
    ck_assert_double_eq_tol(queueing_theory_mg1_wait(1.0, 0.8, 1.28), 3.2, TOLERANCE);
    /* Lognormal with mean 0.8 s and SCV 4: E[S^2] = (1 + 4) 0.64 = 3.2,
     * Wq = 3.2 / 0.4 = 8 s. */
    ck_assert_double_eq_tol(queueing_theory_mg1_wait(1.0, 0.8, 3.2), 8.0, TOLERANCE);
}
END_TEST

START_TEST(mg1_invalid)
{
    /* rho = 1 and rho > 1 are unstable. */
    ck_assert(isnan(queueing_theory_mg1_wait(1.0, 1.0, 1.0)));
    ck_assert(isnan(queueing_theory_mg1_wait(2.0, 1.0, 1.0)));
    /* E[S^2] < E[S]^2 is impossible. */
    ck_assert(isnan(queueing_theory_mg1_wait(1.0, 0.5, 0.2)));
    ck_assert(isnan(queueing_theory_mg1_wait(0.0, 0.5, 0.25)));
}
END_TEST

START_TEST(mm1k_blocking)
{
    /* rho = 0.8, K = 5: (1 - 0.8) 0.8^5 / (1 - 0.8^6)
     * = 0.2 * 0.32768 / (1 - 0.262144) = 0.065536 / 0.737856 = 0.0888195. */
    ck_assert_double_eq_tol(queueing_theory_mm1k_blocking(1.0, 1.25, 5), 0.0888195,
                            1e-7);
    /* rho = 1: every one of the K + 1 states is equally likely, 1/5 at K = 4. */
    ck_assert_double_eq_tol(queueing_theory_mm1k_blocking(1.0, 1.0, 4), 0.2, TOLERANCE);
    /* rho = 2, K = 2: (1 - 2) 4 / (1 - 8) = 4/7. */
    ck_assert_double_eq_tol(queueing_theory_mm1k_blocking(2.0, 1.0, 2), 4.0 / 7,
                            TOLERANCE);
    /* K = 1 is Erlang B with one server: a / (1 + a) = 0.8 / 1.8. */
    ck_assert_double_eq_tol(queueing_theory_mm1k_blocking(0.8, 1.0, 1), 0.8 / 1.8,
                            TOLERANCE);
    /* Close to rho = 1 the value is continuous. */
    ck_assert_double_eq_tol(queueing_theory_mm1k_blocking(1.0 + 1e-9, 1.0, 4), 0.2,
                            1e-8);
}
END_TEST

START_TEST(mm1k_invalid)
{
    ck_assert(isnan(queueing_theory_mm1k_blocking(1.0, 1.0, 0)));
    ck_assert(isnan(queueing_theory_mm1k_blocking(0.0, 1.0, 3)));
    ck_assert(isnan(queueing_theory_mm1k_blocking(1.0, 0.0, 3)));
}
END_TEST

START_TEST(moment_simple_kinds)
{
    struct dist dist;

    dist_constant(&dist, 3.0);
    ck_assert_double_eq_tol(queueing_theory_second_moment(&dist), 9.0, TOLERANCE);

    /* Uniform on [1, 3]: (1 + 3 + 9) / 3 = 13/3. */
    dist = (struct dist){ .kind = DIST_UNIFORM, .a = 1, .b = 3 };
    ck_assert_double_eq_tol(queueing_theory_second_moment(&dist), 13.0 / 3,
                            TOLERANCE);

    /* Exponential with mean 2: 2 * 2^2 = 8. */
    dist = (struct dist){ .kind = DIST_EXPONENTIAL, .a = 2 };
    ck_assert_double_eq_tol(queueing_theory_second_moment(&dist), 8.0, TOLERANCE);
}
END_TEST

START_TEST(moment_lognormal)
{
    /* mu = 0, sigma = 1: exp(0 + 2) = e^2 = 7.3890561. */
    struct dist dist = { .kind = DIST_LOGNORMAL, .a = 0, .b = 1 };
    ck_assert_double_eq_tol(queueing_theory_second_moment(&dist), 7.3890561, 1e-7);

    /* From mean 0.8 and stddev 1.6: mean^2 + stddev^2 = 0.64 + 2.56 = 3.2,
     * and the SCV is 2.56 / 0.64 = 4. */
    dist_lognormal_from_moments(&dist, 0.8, 1.6);
    ck_assert_double_eq_tol(queueing_theory_second_moment(&dist), 3.2, 1e-12);
    ck_assert_double_eq_tol(queueing_theory_scv(&dist), 4.0, 1e-12);
}
END_TEST

START_TEST(moment_pareto_weibull)
{
    /* Pareto shape 3, scale 1: 3 * 1 / (3 - 2) = 3. */
    struct dist dist = { .kind = DIST_PARETO, .a = 3, .b = 1 };
    ck_assert_double_eq_tol(queueing_theory_second_moment(&dist), 3.0, TOLERANCE);
    /* Shape 2: the second moment diverges. */
    dist.a = 2;
    ck_assert(isinf(queueing_theory_second_moment(&dist)));

    /* Weibull shape 1, scale 2 is the exponential with mean 2:
     * 2^2 Gamma(3) = 8. */
    dist = (struct dist){ .kind = DIST_WEIBULL, .a = 1, .b = 2 };
    ck_assert_double_eq_tol(queueing_theory_second_moment(&dist), 8.0, 1e-12);
    /* Shape 2, scale 1: Gamma(2) = 1. */
    dist = (struct dist){ .kind = DIST_WEIBULL, .a = 2, .b = 1 };
    ck_assert_double_eq_tol(queueing_theory_second_moment(&dist), 1.0, 1e-12);
}
END_TEST

START_TEST(moment_truncated_normal)
{
    /* Mean 0, stddev 1 truncated at 0 is the half-normal: E[X^2] = 1. */
    struct dist dist = { .kind = DIST_NORMAL, .a = 0, .b = 1 };
    ck_assert_double_eq_tol(queueing_theory_second_moment(&dist), 1.0, 1e-12);

    /* Mean 10, stddev 1: truncation removes mass 7.6e-24, so the moment is
     * mean^2 + stddev^2 = 101. */
    dist.a = 10;
    ck_assert_double_eq_tol(queueing_theory_second_moment(&dist), 101.0, 1e-9);

    /* Zero stddev: the constant max(mean, 0). */
    dist = (struct dist){ .kind = DIST_NORMAL, .a = 3, .b = 0 };
    ck_assert_double_eq_tol(queueing_theory_second_moment(&dist), 9.0, TOLERANCE);

    /* Mean -40, stddev 1, alpha = 40: the tail series gives
     * 2/1600 - 10/2560000 = 0.00125 - 0.0000039 = 0.0012461. */
    dist = (struct dist){ .kind = DIST_NORMAL, .a = -40, .b = 1 };
    ck_assert_double_eq_tol(queueing_theory_second_moment(&dist), 0.0012461, 1e-7);
}
END_TEST

START_TEST(moment_empirical)
{
    /* An atom of 0.5 at 1, then uniform on [1, 3] with mass 0.5:
     * 0.5 * 1 + 0.5 * (1 + 3 + 9) / 3 = 0.5 + 13/6 = 8/3. */
    struct dist_point *points = malloc(2 * sizeof *points);
    ck_assert_ptr_nonnull(points);
    points[0] = (struct dist_point){ .value = 1, .cumulative = 0.5 };
    points[1] = (struct dist_point){ .value = 3, .cumulative = 1.0 };
    struct dist dist;
    dist_empirical(&dist, points, 2);
    ck_assert_double_eq_tol(queueing_theory_second_moment(&dist), 8.0 / 3, TOLERANCE);
    dist_fini(&dist);
}
END_TEST

START_TEST(scv_values)
{
    struct dist dist;
    dist_constant(&dist, 0.8);
    ck_assert_double_eq_tol(queueing_theory_scv(&dist), 0.0, 1e-12);

    dist = (struct dist){ .kind = DIST_EXPONENTIAL, .a = 0.8 };
    ck_assert_double_eq_tol(queueing_theory_scv(&dist), 1.0, 1e-12);

    dist_constant(&dist, 0.0);
    ck_assert(isnan(queueing_theory_scv(&dist)));
}
END_TEST

Suite *queueing_theory_suite(void);

Suite *queueing_theory_suite(void)
{
    Suite *suite = suite_create("queueing_theory");
    TCase *erlang_case = tcase_create("erlang");
    TCase *queue_case = tcase_create("queue");
    TCase *moment_case = tcase_create("moment");

    tcase_add_test(erlang_case, erlang_b_small);
    tcase_add_test(erlang_case, erlang_b_five_servers);
    tcase_add_test(erlang_case, erlang_b_eight_servers);
    tcase_add_test(erlang_case, erlang_b_large_is_finite);
    tcase_add_test(erlang_case, erlang_b_invalid);
    tcase_add_test(erlang_case, erlang_c_values);
    tcase_add_test(erlang_case, erlang_c_unstable);
    suite_add_tcase(suite, erlang_case);

    tcase_add_test(queue_case, mm1_wait_sojourn_tail);
    tcase_add_test(queue_case, mm2_wait);
    tcase_add_test(queue_case, mm8_wait_and_tail);
    tcase_add_test(queue_case, mmc_invalid);
    tcase_add_test(queue_case, mg1_pollaczek_khinchine);
    tcase_add_test(queue_case, mg1_invalid);
    tcase_add_test(queue_case, mm1k_blocking);
    tcase_add_test(queue_case, mm1k_invalid);
    suite_add_tcase(suite, queue_case);

    tcase_add_test(moment_case, moment_simple_kinds);
    tcase_add_test(moment_case, moment_lognormal);
    tcase_add_test(moment_case, moment_pareto_weibull);
    tcase_add_test(moment_case, moment_truncated_normal);
    tcase_add_test(moment_case, moment_empirical);
    tcase_add_test(moment_case, scv_values);
    suite_add_tcase(suite, moment_case);
    return suite;
}

TEST_MAIN(queueing_theory_suite)
