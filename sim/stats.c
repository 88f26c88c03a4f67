/*
 * Streaming statistics: a log-bucketed histogram, a time-weighted average
 * and a growing (time, value) series.
 *
 * Histogram layout: bucket 0 contains values below min_value, negative
 * values included.  Bucket i >= 1 contains [min_value * g^(i-1),
 * min_value * g^i) with g = 1 + 2 * relative_error, and the last bucket
 * also takes every value above max_value.  The arithmetic midpoint of a
 * geometric bucket [lo, lo * g) is lo * (1 + relative_error), which is
 * within relative_error of every value in the bucket, the worst case being
 * lo itself.
 */
#include "sim/stats.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERIES_INITIAL_CAPACITY 64

struct histogram {
    double min_value;
    double max_value;
    double relative_error;
    double log_growth;       /* log(1 + 2 * relative_error) */
    size_t bucket_count;
    uint64_t *buckets;

    uint64_t count;
    double min;
    double max;
    double sum;
    double mean;             /* running mean, for Welford's update */
    double m2;               /* sum of squared deviations from the mean */
};

static void stats_die(const char *message, double value)
{
    fprintf(stderr, "stats: %s (%g)\n", message, value);
    abort();
}

struct histogram *histogram_new(double min_value, double max_value,
                                double relative_error)
{
    if (!(min_value > 0))
        stats_die("histogram min_value must be positive", min_value);
    if (!(max_value > min_value))
        stats_die("histogram max_value must exceed min_value", max_value);
    if (!(relative_error > 0 && relative_error < 1))
        stats_die("histogram relative_error must lie in (0, 1)",
                  relative_error);

    struct histogram *histogram = calloc(1, sizeof *histogram);
    if (histogram == NULL)
        stats_die("out of memory allocating a histogram", 0);

    histogram->min_value = min_value;
    histogram->max_value = max_value;
    histogram->relative_error = relative_error;
    histogram->log_growth = log1p(2 * relative_error);

    /* Bucket 0, then enough geometric buckets that max_value falls in the
     * last one. */
    double spans = floor(log(max_value / min_value) / histogram->log_growth);
    histogram->bucket_count = (size_t)spans + 2;
    histogram->buckets = calloc(histogram->bucket_count, sizeof(uint64_t));
    if (histogram->buckets == NULL)
        stats_die("out of memory allocating histogram buckets",
                  (double)histogram->bucket_count);
    return histogram;
}

void histogram_free(struct histogram *histogram)
{
    if (histogram == NULL)
        return;
    free(histogram->buckets);
    free(histogram);
}

static size_t bucket_index(const struct histogram *histogram, double value)
{
    if (!(value >= histogram->min_value))
        return 0;

    double span = log(value / histogram->min_value) / histogram->log_growth;
    size_t last = histogram->bucket_count - 1;
    if (span >= (double)(last - 1))
        return last;
    return (size_t)span + 1;
}

/* Lower and upper bound of bucket `index`; bucket 0 starts at 0. */
static void bucket_bounds(const struct histogram *histogram, size_t index,
                          double *lower, double *upper)
{
    if (index == 0) {
        *lower = 0;
        *upper = histogram->min_value;
        return;
    }
    *lower = histogram->min_value
             * exp((double)(index - 1) * histogram->log_growth);
    *upper = histogram->min_value * exp((double)index * histogram->log_growth);
}

void histogram_add(struct histogram *histogram, double value)
{
    if (isnan(value))
        stats_die("histogram_add given NaN", value);

    histogram->buckets[bucket_index(histogram, value)]++;

    if (histogram->count == 0 || value < histogram->min)
        histogram->min = value;
    if (histogram->count == 0 || value > histogram->max)
        histogram->max = value;

    histogram->count++;
    histogram->sum += value;
    double delta = value - histogram->mean;
    histogram->mean += delta / (double)histogram->count;
    histogram->m2 += delta * (value - histogram->mean);
}

uint64_t histogram_count(const struct histogram *histogram)
{
    return histogram->count;
}

double histogram_min(const struct histogram *histogram)
{
    return histogram->count ? histogram->min : NAN;
}

double histogram_max(const struct histogram *histogram)
{
    return histogram->count ? histogram->max : NAN;
}

double histogram_mean(const struct histogram *histogram)
{
    return histogram->count ? histogram->sum / (double)histogram->count : NAN;
}

double histogram_stddev(const struct histogram *histogram)
{
    if (histogram->count == 0)
        return NAN;
    if (histogram->count == 1)
        return 0;
    return sqrt(histogram->m2 / (double)(histogram->count - 1));
}

static double clamp(double value, double lower, double upper)
{
    if (value < lower)
        return lower;
    if (value > upper)
        return upper;
    return value;
}

double histogram_quantile(const struct histogram *histogram, double q)
{
    if (histogram->count == 0)
        return NAN;
    if (q <= 0)
        return histogram->min;
    if (q >= 1)
        return histogram->max;

    /* The sample of rank ceil(q * n), counting from 1. */
    double rank = ceil(q * (double)histogram->count);
    uint64_t target = rank < 1 ? 1 : (uint64_t)rank;

    uint64_t seen = 0;
    size_t index = 0;
    for (; index < histogram->bucket_count - 1; index++) {
        seen += histogram->buckets[index];
        if (seen >= target)
            break;
    }

    double lower, upper;
    bucket_bounds(histogram, index, &lower, &upper);
    return clamp((lower + upper) / 2, histogram->min, histogram->max);
}

/* Within the bucket that contains `value`, samples are taken as spread
 * evenly between the bucket's bounds narrowed to the observed min and max.
 * The error is therefore at most that bucket's share of the samples. */
double histogram_cdf(const struct histogram *histogram, double value)
{
    if (histogram->count == 0)
        return NAN;
    if (value < histogram->min)
        return 0;
    if (value >= histogram->max)
        return 1;

    size_t index = bucket_index(histogram, value);
    uint64_t below = 0;
    for (size_t i = 0; i < index; i++)
        below += histogram->buckets[i];

    double lower, upper;
    bucket_bounds(histogram, index, &lower, &upper);
    lower = fmax(lower, histogram->min);
    upper = fmin(upper, histogram->max);
    if (index == histogram->bucket_count - 1)
        upper = histogram->max;

    double fraction = upper > lower ? (value - lower) / (upper - lower) : 1;
    fraction = clamp(fraction, 0, 1);
    double inside = fraction * (double)histogram->buckets[index];
    return ((double)below + inside) / (double)histogram->count;
}

/* Combines the running means and m2 with the parallel-variance update:
 * m2 grows by delta^2 * n_to * n_from / n, where delta is the difference
 * of the two means. */
void histogram_merge(struct histogram *to, const struct histogram *from)
{
    if (to->bucket_count != from->bucket_count
        || to->min_value != from->min_value
        || to->relative_error != from->relative_error) {
        fprintf(stderr,
                "stats: histogram_merge needs equal parameters, got "
                "min_value %g and %g, relative_error %g and %g, "
                "%zu and %zu buckets\n",
                to->min_value, from->min_value, to->relative_error,
                from->relative_error, to->bucket_count, from->bucket_count);
        abort();
    }
    if (from->count == 0)
        return;

    for (size_t i = 0; i < to->bucket_count; i++)
        to->buckets[i] += from->buckets[i];

    if (to->count == 0 || from->min < to->min)
        to->min = from->min;
    if (to->count == 0 || from->max > to->max)
        to->max = from->max;

    double n_to = (double)to->count;
    double n_from = (double)from->count;
    double n = n_to + n_from;
    double delta = from->mean - to->mean;
    to->mean += delta * n_from / n;
    to->m2 += from->m2 + delta * delta * n_to * n_from / n;
    to->sum += from->sum;
    to->count += from->count;
}

void time_average_init(struct time_average *average, sim_time start,
                       double initial_value)
{
    average->start = start;
    average->last_change = start;
    average->value = initial_value;
    average->area = 0;
    average->maximum = initial_value;
}

void time_average_set(struct time_average *average, sim_time now,
                      double value)
{
    if (now < average->last_change) {
        fprintf(stderr,
                "stats: time_average_set at sim time %.9f s, before the "
                "last change at %.9f s\n",
                sim_time_to_seconds(now),
                sim_time_to_seconds(average->last_change));
        abort();
    }

    average->area += average->value
                     * sim_time_to_seconds(now - average->last_change);
    average->last_change = now;
    average->value = value;
    if (value > average->maximum)
        average->maximum = value;
}

double time_average_mean(const struct time_average *average, sim_time now)
{
    if (now <= average->start)
        return average->value;

    double pending = now > average->last_change
                         ? average->value
                               * sim_time_to_seconds(now - average->last_change)
                         : 0;
    return (average->area + pending) / sim_time_to_seconds(now - average->start);
}

void series_init(struct series *series, const char *name)
{
    *series = (struct series){ 0 };
    series->name = strdup(name);
    if (series->name == NULL)
        stats_die("out of memory copying a series name", 0);
}

void series_append(struct series *series, sim_time time, double value)
{
    if (series->count == series->capacity) {
        size_t capacity = series->capacity ? series->capacity * 2
                                           : SERIES_INITIAL_CAPACITY;
        sim_time *times = realloc(series->times, capacity * sizeof *times);
        if (times == NULL)
            stats_die("out of memory growing a series", (double)capacity);
        series->times = times;

        double *values = realloc(series->values, capacity * sizeof *values);
        if (values == NULL)
            stats_die("out of memory growing a series", (double)capacity);
        series->values = values;
        series->capacity = capacity;
    }
    series->times[series->count] = time;
    series->values[series->count] = value;
    series->count++;
}

void series_fini(struct series *series)
{
    free(series->name);
    free(series->times);
    free(series->values);
    *series = (struct series){ 0 };
}
