/*
 * Closed forms of queueing theory.  Each function in queueing_theory.h
 * states its formula; tests/unit/test_queueing_theory.c checks them against
 * values worked out by hand.
 */
#include "models/queueing_theory.h"

#include <math.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_gamma.h>

double queueing_theory_erlang_b(int servers, double offered_load)
{
    if (servers < 0 || !(offered_load > 0) || !isfinite(offered_load))
        return NAN;

    /* Each step divides by n + a B(n-1) > n, so B stays in (0, 1] and the
     * recursion neither overflows nor loses precision, unlike a^c / c!. */
    double blocking = 1;
    for (int n = 1; n <= servers; n++)
        blocking = offered_load * blocking / (n + offered_load * blocking);
    return blocking;
}

double queueing_theory_erlang_c(int servers, double offered_load)
{
    if (servers < 1 || !(offered_load < servers))
        return NAN;
    double b = queueing_theory_erlang_b(servers, offered_load);
    return servers * b / (servers - offered_load * (1 - b));
}

double queueing_theory_mmc_wait(int servers, double arrival_rate,
                                double service_rate)
{
    if (!(service_rate > 0))
        return NAN;
    double c = queueing_theory_erlang_c(servers, arrival_rate / service_rate);
    return c / (servers * service_rate - arrival_rate);
}

double queueing_theory_mmc_sojourn(int servers, double arrival_rate,
                                   double service_rate)
{
    return queueing_theory_mmc_wait(servers, arrival_rate, service_rate) +
           1 / service_rate;
}

double queueing_theory_mmc_wait_exceeds(int servers, double arrival_rate,
                                        double service_rate, double threshold)
{
    if (!(service_rate > 0) || !(threshold >= 0))
        return NAN;
    double c = queueing_theory_erlang_c(servers, arrival_rate / service_rate);
    return c * exp(-(servers * service_rate - arrival_rate) * threshold);
}

double queueing_theory_mg1_wait(double arrival_rate, double service_mean,
                                double service_second_moment)
{
    double rho = arrival_rate * service_mean;
    /* E[S^2] >= E[S]^2 always.  The allowance is for rounding, so that a
     * constant's 0.8^2 passes against 0.64. */
    double least_moment = service_mean * service_mean * (1 - 1e-12);
    if (!(arrival_rate > 0) || !(service_mean > 0) || !(rho < 1) ||
        !(service_second_moment >= least_moment))
        return NAN;
    return arrival_rate * service_second_moment / (2 * (1 - rho));
}

double queueing_theory_mm1k_blocking(double arrival_rate, double service_rate,
                                     int places)
{
    if (!(arrival_rate > 0) || !(service_rate > 0) || places < 1)
        return NAN;
    double rho = arrival_rate / service_rate;
    if (fabs(rho - 1) < 1e-12)
        return 1.0 / (places + 1);
    /* (1 - rho) rho^K / (1 - rho^(K+1)), written with expm1 so that rho
     * close to 1 does not cancel: both differences are -expm1(x log rho). */
    double log_rho = log(rho);
    return expm1(log_rho) * exp(places * log_rho) /
           expm1((places + 1) * log_rho);
}

/* E[X^2 | X >= 0] for X ~ Normal(mean, stddev).  With alpha = -mean /
 * stddev and h = phi(alpha) / Q(alpha), E[Z | Z >= alpha] = h and
 * E[Z^2 | Z >= alpha] = 1 + alpha h, so that
 * E[X^2] = mean^2 + stddev^2 + mean stddev h. */
static double truncated_normal_second_moment(double mean, double stddev)
{
    if (!(stddev > 0))
        return mean > 0 ? mean * mean : 0;

    double alpha = -mean / stddev;
    double q = gsl_cdf_ugaussian_Q(alpha);
    if (q > 1e-300) {
        double h = gsl_ran_ugaussian_pdf(alpha) / q;
        return mean * mean + stddev * stddev + mean * stddev * h;
    }
    /* Q underflows far in the tail (alpha above about 37).  There
     * E[X^2] = stddev^2 (1 - alpha h + alpha^2), and the asymptotic series
     * h = alpha + 1/alpha - 2/alpha^3 + 10/alpha^5 gives
     * stddev^2 (2/alpha^2 - 10/alpha^4). */
    double a2 = alpha * alpha;
    return stddev * stddev * (2 / a2 - 10 / (a2 * a2));
}

/* The atom at the first value plus, for each segment, its probability
 * times E[X^2] of a uniform on the segment, (lo^2 + lo hi + hi^2) / 3. */
static double empirical_second_moment(const struct dist *dist)
{
    const struct dist_point *p = dist->points;
    double moment = p[0].cumulative * p[0].value * p[0].value;

    for (size_t i = 1; i < dist->point_count; i++) {
        double mass = p[i].cumulative - p[i - 1].cumulative;
        double lo = p[i - 1].value;
        double hi = p[i].value;
        moment += mass * (lo * lo + lo * hi + hi * hi) / 3;
    }
    return moment;
}

double queueing_theory_second_moment(const struct dist *dist)
{
    double a = dist->a;
    double b = dist->b;

    switch (dist->kind) {
    case DIST_CONSTANT:
        return a * a;
    case DIST_UNIFORM:
        return (a * a + a * b + b * b) / 3;
    case DIST_EXPONENTIAL:
        return 2 * a * a;
    case DIST_NORMAL:
        return truncated_normal_second_moment(a, b);
    case DIST_LOGNORMAL:
        return exp(2 * a + 2 * b * b);
    case DIST_PARETO:
        /* Shape a, scale (minimum) b. */
        return a > 2 ? a * b * b / (a - 2) : INFINITY;
    case DIST_WEIBULL:
        /* Shape a, scale b. */
        return b * b * gsl_sf_gamma(1 + 2 / a);
    case DIST_EMPIRICAL:
        return empirical_second_moment(dist);
    case DIST_KIND_COUNT:
        break;
    }
    return NAN;
}

double queueing_theory_scv(const struct dist *dist)
{
    double mean = dist_mean(dist);
    if (!(mean != 0))
        return NAN;
    return queueing_theory_second_moment(dist) / (mean * mean) - 1;
}
