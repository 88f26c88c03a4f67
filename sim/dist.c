/*
 * Probability distributions sampled with GSL.
 *
 * Parameter order in struct dist follows dist.h (for example shape in `a`
 * and scale in `b` for Pareto and Weibull).  GSL's argument order differs
 * between distributions, so each sampler below names the GSL parameters it
 * fills: gsl_ran_pareto(a = shape, b = scale) and
 * gsl_ran_weibull(a = scale, b = shape), as documented in GSL 2.7.
 */
#include "sim/dist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_gamma.h>

/* Draws before the truncated normal gives up and returns 0.  Rejection is
 * only used while at least 15.8 % of draws are accepted (mean >= -stddev),
 * so 200 draws all fail with probability below 1e-15. */
#define DIST_NORMAL_MAX_ATTEMPTS 200

static const char *const dist_kind_names[DIST_KIND_COUNT] = {
    [DIST_CONSTANT] = "constant",
    [DIST_UNIFORM] = "uniform",
    [DIST_EXPONENTIAL] = "exponential",
    [DIST_NORMAL] = "normal",
    [DIST_LOGNORMAL] = "lognormal",
    [DIST_PARETO] = "pareto",
    [DIST_WEIBULL] = "weibull",
    [DIST_EMPIRICAL] = "empirical",
};

static void dist_die(const char *message, double value)
{
    fprintf(stderr, "dist: %s (%g)\n", message, value);
    abort();
}

const char *dist_kind_name(enum dist_kind kind)
{
    if ((unsigned)kind >= DIST_KIND_COUNT)
        return "invalid";
    return dist_kind_names[kind];
}

bool dist_kind_from_name(const char *name, enum dist_kind *kind)
{
    for (int i = 0; i < DIST_KIND_COUNT; i++) {
        if (strcmp(name, dist_kind_names[i]) == 0) {
            *kind = (enum dist_kind)i;
            return true;
        }
    }
    return false;
}

void dist_constant(struct dist *dist, double value)
{
    *dist = (struct dist){ .kind = DIST_CONSTANT, .a = value };
}

void dist_lognormal_from_moments(struct dist *dist, double mean, double stddev)
{
    if (!(mean > 0))
        dist_die("lognormal mean must be positive", mean);
    if (!(stddev >= 0))
        dist_die("lognormal standard deviation must not be negative", stddev);

    double sigma2 = log1p((stddev * stddev) / (mean * mean));
    *dist = (struct dist){
        .kind = DIST_LOGNORMAL,
        .a = log(mean) - sigma2 / 2,
        .b = sqrt(sigma2),
    };
}

const char *dist_empirical_check(const struct dist_point *points, size_t count)
{
    if (count == 0)
        return "an empirical distribution needs at least one point";

    for (size_t i = 0; i < count; i++) {
        double c = points[i].cumulative;
        if (!isfinite(points[i].value))
            return "values must be finite";
        if (!(c >= 0 && c <= 1))
            return "cumulative probabilities must lie in [0, 1]";
        if (i > 0 && !(points[i].value > points[i - 1].value))
            return "values must be strictly increasing";
        if (i > 0 && c < points[i - 1].cumulative)
            return "cumulative probabilities must not decrease";
    }
    if (fabs(points[count - 1].cumulative - 1) > 1e-9)
        return "the last cumulative probability must be 1";
    return NULL;
}

void dist_empirical(struct dist *dist, struct dist_point *points, size_t count)
{
    const char *problem = dist_empirical_check(points, count);
    if (problem != NULL) {
        fprintf(stderr, "dist: invalid empirical table of %zu points: %s\n",
                count, problem);
        abort();
    }

    *dist = (struct dist){
        .kind = DIST_EMPIRICAL,
        .points = points,
        .point_count = count,
    };
}

/* Normal(mean, stddev) conditioned on X >= 0. */
static double sample_truncated_normal(double mean, double stddev, gsl_rng *rng)
{
    if (!(stddev > 0))
        return mean > 0 ? mean : 0;

    /* Far below zero, rejection would need many draws per sample, so GSL's
     * tail sampler draws X - mean >= -mean directly. */
    if (mean < -stddev)
        return mean + gsl_ran_gaussian_tail(rng, -mean, stddev);

    for (int attempt = 0; attempt < DIST_NORMAL_MAX_ATTEMPTS; attempt++) {
        double x = mean + gsl_ran_gaussian(rng, stddev);
        if (x >= 0)
            return x;
    }
    return 0;
}

/* Inverse CDF of the piecewise-linear distribution: P(X = points[0].value)
 * is points[0].cumulative, and between points the CDF is linear. */
static double sample_empirical(const struct dist *dist, gsl_rng *rng)
{
    const struct dist_point *p = dist->points;
    size_t n = dist->point_count;
    double u = gsl_rng_uniform(rng);

    /* Binary search for the first point whose cumulative is >= u. */
    size_t lo = 0;
    size_t hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid].cumulative < u)
            lo = mid + 1;
        else
            hi = mid;
    }

    if (lo == 0)
        return p[0].value;
    if (lo == n)  /* u beyond a last cumulative rounded just below 1 */
        return p[n - 1].value;

    /* p[lo - 1].cumulative < u <= p[lo].cumulative, so the width is > 0. */
    double width = p[lo].cumulative - p[lo - 1].cumulative;
    double fraction = (u - p[lo - 1].cumulative) / width;
    return p[lo - 1].value + fraction * (p[lo].value - p[lo - 1].value);
}

double dist_sample(const struct dist *dist, gsl_rng *rng)
{
    switch (dist->kind) {
    case DIST_CONSTANT:
        return dist->a;
    case DIST_UNIFORM:
        return gsl_ran_flat(rng, dist->a, dist->b);
    case DIST_EXPONENTIAL:
        /* Inversion with log of a uniform on (0, 1): the same law as
         * gsl_ran_exponential (which takes log1p(-u)), and measurably
         * cheaper, because log is faster than log1p in glibc. */
        return -dist->a * log(gsl_rng_uniform_pos(rng));
    case DIST_NORMAL:
        return sample_truncated_normal(dist->a, dist->b, rng);
    case DIST_LOGNORMAL:
        return gsl_ran_lognormal(rng, dist->a, dist->b);
    case DIST_PARETO:
        return gsl_ran_pareto(rng, dist->a, dist->b);
    case DIST_WEIBULL:
        return gsl_ran_weibull(rng, dist->b, dist->a);
    case DIST_EMPIRICAL:
        return sample_empirical(dist, rng);
    case DIST_KIND_COUNT:
        break;
    }
    dist_die("invalid distribution kind", (double)dist->kind);
    return 0;
}

/* E[X | X >= 0] for X ~ Normal(mean, stddev):
 * mean + stddev * phi(alpha) / Q(alpha) with alpha = -mean / stddev. */
static double truncated_normal_mean(double mean, double stddev)
{
    if (!(stddev > 0))
        return mean > 0 ? mean : 0;

    double alpha = -mean / stddev;
    double q = gsl_cdf_ugaussian_Q(alpha);
    if (q > 1e-300)
        return mean + stddev * gsl_ran_ugaussian_pdf(alpha) / q;

    /* Q underflows far in the tail (alpha above about 37).  There the
     * asymptotic series phi/Q - alpha = 1/a - 2/a^3 + 10/a^5 - ... is
     * accurate to about 1e-7 relative after three terms. */
    double a2 = alpha * alpha;
    return stddev * (1 - 2 / a2 + 10 / (a2 * a2)) / alpha;
}

/* Integral of the piecewise-linear inverse CDF: the atom at the first
 * value plus, for each segment, its probability times its midpoint. */
static double empirical_mean(const struct dist *dist)
{
    const struct dist_point *p = dist->points;
    double mean = p[0].cumulative * p[0].value;

    for (size_t i = 1; i < dist->point_count; i++) {
        double mass = p[i].cumulative - p[i - 1].cumulative;
        mean += mass * (p[i - 1].value + p[i].value) / 2;
    }
    return mean;
}

double dist_mean(const struct dist *dist)
{
    switch (dist->kind) {
    case DIST_CONSTANT:
        return dist->a;
    case DIST_UNIFORM:
        return (dist->a + dist->b) / 2;
    case DIST_EXPONENTIAL:
        return dist->a;
    case DIST_NORMAL:
        return truncated_normal_mean(dist->a, dist->b);
    case DIST_LOGNORMAL:
        return exp(dist->a + dist->b * dist->b / 2);
    case DIST_PARETO:
        if (dist->a <= 1)
            return INFINITY;
        return dist->a * dist->b / (dist->a - 1);
    case DIST_WEIBULL:
        return dist->b * gsl_sf_gamma(1 + 1 / dist->a);
    case DIST_EMPIRICAL:
        return empirical_mean(dist);
    case DIST_KIND_COUNT:
        break;
    }
    dist_die("invalid distribution kind", (double)dist->kind);
    return 0;
}

void dist_copy(struct dist *to, const struct dist *from)
{
    *to = *from;
    if (from->points == NULL)
        return;

    size_t bytes = from->point_count * sizeof *from->points;
    to->points = malloc(bytes);
    if (to->points == NULL)
        dist_die("out of memory copying empirical points",
                 (double)from->point_count);
    memcpy(to->points, from->points, bytes);
}

void dist_fini(struct dist *dist)
{
    free(dist->points);
    dist->points = NULL;
    dist->point_count = 0;
}
