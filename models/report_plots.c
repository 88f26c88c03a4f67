#include "models/report_plots.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "models/world.h"
#include "sim/plot.h"

#define CDF_POINTS 240

struct cdf_curve {
    double x[CDF_POINTS];
    double y[CDF_POINTS];
};

/* Samples the CDF of `histogram` at log-spaced points over [low, high]. */
static size_t sample_cdf(const struct histogram *histogram, double low, double high,
                         struct cdf_curve *curve)
{
    if (histogram_count(histogram) == 0)
        return 0;
    double step = log(high / low) / (CDF_POINTS - 1);
    for (size_t i = 0; i < CDF_POINTS; i++) {
        curve->x[i] = low * exp(step * (double)i);
        curve->y[i] = histogram_cdf(histogram, curve->x[i]);
    }
    return CDF_POINTS;
}

static bool plot_latency(const struct world *world, const char *directory,
                         char *error, size_t error_size)
{
    const struct histogram *histograms[4] = {
        world->stored_latency[PATH_LOCAL], world->stored_latency[PATH_EXTERNAL],
        world->seen_latency[PATH_LOCAL], world->seen_latency[PATH_EXTERNAL],
    };
    static const char *const labels[4] = {
        "to mailbox, same provider", "to mailbox, other provider",
        "to reader, same provider", "to reader, other provider",
    };
    double low = INFINITY, high = 0;
    for (int i = 0; i < 4; i++) {
        if (histogram_count(histograms[i]) == 0)
            continue;
        low = fmin(low, histogram_min(histograms[i]));
        high = fmax(high, histogram_max(histograms[i]));
    }
    if (!(high > 0)) {
        low = 1e-3;
        high = 1;
    }
    low = fmax(low, 1e-3);
    high = fmax(high, low * 10);

    struct cdf_curve curves[4];
    struct plot_line lines[4];
    for (int i = 0; i < 4; i++)
        lines[i] = (struct plot_line){
            .label = labels[i], .x = curves[i].x, .y = curves[i].y,
            .count = sample_cdf(histograms[i], low, high, &curves[i])};

    struct plot_spec spec = {
        .title = "End-to-end latency",
        .x_label = "latency since submission (s)",
        .y_label = "fraction of recipients",
        .x_log = true,
        .y_min = 0,
        .y_max = 1,
    };
    char base[4200];
    snprintf(base, sizeof base, "%s/latency_cdf", directory);
    return plot_write(base, &spec, lines, 4, error, error_size);
}

/* Times of a series in the unit chosen for the x axis. */
static double *series_x(const struct series *series, double unit_seconds)
{
    double *x = malloc((series->count ? series->count : 1) * sizeof *x);
    if (!x)
        abort();
    for (size_t i = 0; i < series->count; i++)
        x[i] = sim_time_to_seconds(series->times[i]) / unit_seconds;
    return x;
}

static bool plot_series(const char *base, const char *title, const char *y_label,
                        const struct series *const *series, const char *const *labels,
                        size_t count, char *error, size_t error_size)
{
    double end = 0;
    for (size_t i = 0; i < count; i++)
        if (series[i]->count > 0)
            end = fmax(end, sim_time_to_seconds(series[i]->times[series[i]->count - 1]));
    bool hours = end > 4 * 3600.0;
    double unit = hours ? 3600.0 : 60.0;

    struct plot_line lines[8];
    double *xs[8];
    for (size_t i = 0; i < count; i++) {
        xs[i] = series_x(series[i], unit);
        lines[i] = (struct plot_line){.label = labels[i], .x = xs[i],
                                      .y = series[i]->values, .count = series[i]->count};
    }
    struct plot_spec spec = {
        .title = title,
        .x_label = hours ? "simulated time (h)" : "simulated time (min)",
        .y_label = y_label,
        .steps = true,
        .y_min = 0,
        .y_max = NAN,
    };
    bool ok = plot_write(base, &spec, lines, count, error, error_size);
    for (size_t i = 0; i < count; i++)
        free(xs[i]);
    return ok;
}

static bool plot_provider(const struct provider_state *state, const char *directory,
                          char *error, size_t error_size)
{
    char base[4200];
    char title[300];
    const char *name = state->params->name;

    const struct series *queues[4] = {&state->web_queue, &state->outgoing_queue,
                                      &state->deferred_series, &state->incoming_queue};
    static const char *const queue_labels[4] = {
        "web servers", "outgoing queue", "deferred (waiting to retry)", "incoming queue"};
    snprintf(base, sizeof base, "%s/queues_%s", directory, name);
    snprintf(title, sizeof title, "Queue length at %s", name);
    if (!plot_series(base, title, "messages waiting", queues, queue_labels, 4,
                     error, error_size))
        return false;

    const struct series *workers[3] = {&state->smtp_out_busy, &state->processing_busy,
                                       &state->smtp_in_sessions};
    static const char *const worker_labels[3] = {
        "busy SMTP workers", "busy processing workers", "inbound SMTP sessions"};
    snprintf(base, sizeof base, "%s/workers_%s", directory, name);
    snprintf(title, sizeof title, "Workers and sessions at %s", name);
    return plot_series(base, title, "count", workers, worker_labels, 3, error, error_size);
}

bool report_plots_write(const struct world *world, const char *directory,
                        char *error, size_t error_size)
{
    if (!plot_latency(world, directory, error, error_size))
        return false;
    for (size_t i = 0; i < world->scenario->provider_count; i++)
        if (!plot_provider(&world->providers[i], directory, error, error_size))
            return false;
    return true;
}
