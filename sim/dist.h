/*
 * Probability distributions as given in scenario files, sampled with GSL.
 * Values are plain doubles in the unit of the quantity they describe: the
 * scenario loader converts durations to seconds and sizes to bytes before
 * filling a struct dist.
 */
#ifndef MAILSIM_DIST_H
#define MAILSIM_DIST_H

#include <stdbool.h>
#include <stddef.h>

#include <gsl/gsl_rng.h>

enum dist_kind {
    DIST_CONSTANT,     /* value */
    DIST_UNIFORM,      /* min, max */
    DIST_EXPONENTIAL,  /* mean */
    DIST_NORMAL,       /* mean, stddev; conditioned on X >= 0 */
    DIST_LOGNORMAL,    /* mu, sigma of the underlying normal */
    DIST_PARETO,       /* shape (alpha), scale (x_m, the minimum) */
    DIST_WEIBULL,      /* shape (k), scale (lambda) */
    DIST_EMPIRICAL,    /* table of (value, cumulative probability) */
    DIST_KIND_COUNT
};

/* One point of an empirical distribution: P(X <= value) = cumulative. */
struct dist_point {
    double value;
    double cumulative;
};

struct dist {
    enum dist_kind kind;
    double a;                 /* value, min, mean, mu, shape */
    double b;                 /* max, stddev, sigma, scale */
    struct dist_point *points;  /* owned; DIST_EMPIRICAL only */
    size_t point_count;
};

/* Name as written in scenario files ("constant", "lognormal", ...), or
 * "invalid" for a value outside the enum. */
const char *dist_kind_name(enum dist_kind kind);

/* Looks up a kind by its scenario-file name.  Returns false if unknown. */
bool dist_kind_from_name(const char *name, enum dist_kind *kind);

/* The constructors below overwrite every field of `dist`: call dist_fini
 * first if it may hold an empirical table. */
void dist_constant(struct dist *dist, double value);

/* Lognormal parameters from the mean and standard deviation of the
 * distribution itself (not of its logarithm): sigma^2 = ln(1 + sd^2/mean^2)
 * and mu = ln(mean) - sigma^2/2.  Aborts unless mean > 0 and stddev >= 0. */
void dist_lognormal_from_moments(struct dist *dist, double mean, double stddev);

/* Checks an empirical table: at least one point, finite and strictly
 * increasing values, cumulative probabilities in [0, 1] that never decrease
 * and end at 1 (within 1e-9).  Returns NULL when the table is valid, else
 * a message saying what is wrong, for the scenario loader to report. */
const char *dist_empirical_check(const struct dist_point *points, size_t count);

/* Takes ownership of `points` (malloc'ed).  Points must have increasing
 * values and non-decreasing cumulative probabilities ending at 1; sampling
 * interpolates linearly between points, and below the first point returns
 * the first value.  Aborts when dist_empirical_check rejects the table. */
void dist_empirical(struct dist *dist, struct dist_point *points, size_t count);

double dist_sample(const struct dist *dist, gsl_rng *rng);

/* The analytic mean (for the truncated normal, the mean of the truncated
 * distribution; for Pareto with shape <= 1, INFINITY). */
double dist_mean(const struct dist *dist);

/* Deep copy: the copy owns its own points. */
void dist_copy(struct dist *to, const struct dist *from);

void dist_fini(struct dist *dist);

#endif
