/*
 * Streaming statistics whose memory does not grow with the number of
 * samples: a log-bucketed histogram for percentiles, a time-weighted
 * average for queue lengths, and a fixed-interval series for plots.
 */
#ifndef MAILSIM_STATS_H
#define MAILSIM_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "sim/simtime.h"

/*
 * Histogram of non-negative values with bounded relative error: bucket
 * boundaries grow geometrically by (1 + 2 * relative_error), and a quantile
 * is reported as the midpoint of its bucket, so it is within
 * relative_error of a value in that bucket.  Values below `min_value` share
 * the first bucket and values above `max_value` the last, so quantiles
 * there are only bounded by the observed min and max.  Count, min and max
 * are exact.  The mean is sum / count, and the standard deviation comes
 * from Welford's running update, both subject only to rounding.
 * Aborts on invalid parameters (min_value <= 0, max_value <= min_value,
 * relative_error outside (0, 1)) and on a NaN sample.
 */
struct histogram;

struct histogram *histogram_new(double min_value, double max_value,
                                double relative_error);
void histogram_free(struct histogram *histogram);
void histogram_add(struct histogram *histogram, double value);
uint64_t histogram_count(const struct histogram *histogram);
/* min, max, mean and stddev return NAN when the histogram is empty. */
double histogram_min(const struct histogram *histogram);
double histogram_max(const struct histogram *histogram);
double histogram_mean(const struct histogram *histogram);
/* Sample standard deviation (divides by count - 1); 0 for one sample. */
double histogram_stddev(const struct histogram *histogram);
/* Estimates the sample of rank ceil(q * count) (the nearest-rank method)
 * for q in [0, 1]; q = 0 and q = 1 return the exact min and max.  Returns
 * NAN when the histogram is empty. */
double histogram_quantile(const struct histogram *histogram, double q);
/* Fraction of samples <= value (for CDF plots), interpolated linearly
 * inside the bucket that contains `value`.  NAN when empty. */
double histogram_cdf(const struct histogram *histogram, double value);
/* Merges `from` into `to`; both must have the same parameters (aborts
 * otherwise). */
void histogram_merge(struct histogram *to, const struct histogram *from);

/* Time-weighted average of a piecewise-constant value (a queue length,
 * the number of busy workers).  Times passed to time_average_set must not
 * decrease (it aborts otherwise). */
struct time_average {
    sim_time start;
    sim_time last_change;
    double value;
    double area;      /* integral of value over time, in value-seconds */
    double maximum;
};

void time_average_init(struct time_average *average, sim_time start,
                       double initial_value);
void time_average_set(struct time_average *average, sim_time now,
                      double value);
/* Average over [start, now]; the current value when no time has passed. */
double time_average_mean(const struct time_average *average, sim_time now);

/* A series of (time, value) samples, appended by the caller at a fixed
 * interval; grows with simulated time, not with the number of messages. */
struct series {
    char *name;
    sim_time *times;
    double *values;
    size_t count;
    size_t capacity;
};

void series_init(struct series *series, const char *name);
void series_append(struct series *series, sim_time time, double value);
void series_fini(struct series *series);

#endif
