/*
 * M/M/c benchmark, mailsim's side: runs a queue scenario (`make bench`
 * uses scenarios/validation/mmc8.yaml) through queue_model_run, the same model
 * and station code that `mailsim validate` checks against queueing
 * theory, and reports events per CPU second.  tests/bench/mmc_simpy.py is
 * the same model in SimPy; the bench script compares the two.
 *
 * Usage: mmc SCENARIO WARMUP_SECONDS DURATION_SECONDS REPLICATIONS
 * Output: one line
 *   mailsim events=N cpu_seconds=S events_per_second=R wait_mean=W
 * where N counts arrivals and departures: the model's engine events less
 * the two that open and close the measurement window in each replication.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "models/queue_model.h"
#include "models/queue_scenario.h"

/* Engine events of one replication that are neither an arrival nor a
 * departure: the start and the end of the measurement window. */
#define WINDOW_EVENTS 2u

static double cpu_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static bool parse_positive(const char *text, double *value)
{
    char *end;
    *value = strtod(text, &end);
    return *end == '\0' && *value > 0 && isfinite(*value);
}

int main(int argc, char **argv)
{
    double warmup;
    double duration;
    double replications;

    if (argc != 5 || !parse_positive(argv[2], &warmup)
        || !parse_positive(argv[3], &duration)
        || !parse_positive(argv[4], &replications)) {
        fprintf(stderr, "usage: mmc SCENARIO WARMUP_SECONDS DURATION_SECONDS "
                "REPLICATIONS (positive numbers)\n");
        return 2;
    }
    struct queue_scenario *scenario = queue_scenario_load(argv[1], stderr);
    if (scenario == NULL)
        return 2;

    struct queue_run_length length = {
        .warmup = sim_time_from_seconds(warmup),
        .duration = sim_time_from_seconds(duration),
        .replications = (int)replications,
    };
    uint64_t events = 0;
    double wait_sum = 0;
    double start = cpu_now();
    for (int r = 0; r < length.replications; r++) {
        struct queue_result result;
        events += queue_model_run(scenario, &length, scenario->seed + (uint64_t)r,
                                  &result) - WINDOW_EVENTS;
        wait_sum += result.wait_mean;
    }
    double elapsed = cpu_now() - start;

    printf("mailsim events=%" PRIu64 " cpu_seconds=%.3f events_per_second=%.0f "
           "wait_mean=%.4f\n", events, elapsed, (double)events / elapsed,
           wait_sum / length.replications);
    queue_scenario_free(scenario);
    return 0;
}
