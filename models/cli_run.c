/*
 * mailsim run: load a scenario, simulate it, print the summary and write
 * the results database and plots.
 *
 * This file reads the wall clock (CLOCK_MONOTONIC) for two purposes only:
 * the wall time stored with the results and the progress line.  Nothing in
 * the simulation sees it, so a run's results never depend on it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "models/cli.h"
#include "models/report.h"
#include "models/scenario.h"
#include "models/summary.h"
#include "models/world.h"

static void print_run_usage(FILE *out)
{
    fprintf(out,
            "usage: mailsim run SCENARIO [-o DIR] [--seed N] [--dry-run]\n"
            "\n"
            "Simulates SCENARIO (a YAML file), prints a summary and writes\n"
            "results.sqlite and the plots to DIR.\n"
            "\n"
            "  -o, --output DIR  directory for the results (default results/<name>)\n"
            "  -s, --seed N      seed for every random stream, overriding the\n"
            "                    scenario's seed (an unsigned 64-bit integer)\n"
            "  -n, --dry-run     load and check SCENARIO, then stop without running\n"
            "  -h, --help        show this help\n");
}

struct run_options {
    const char *scenario_path;
    const char *output;
    bool has_seed;
    uint64_t seed;
    bool dry_run;
};

static bool parse_seed(const char *text, uint64_t *seed)
{
    char *end;
    errno = 0;
    if (text[0] == '-' || text[0] == '\0')
        return false;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *seed = value;
    return true;
}

/* Parses the arguments after the command word.  Returns false after
 * printing what is wrong. */
static bool parse_run_options(int argc, char **argv, struct run_options *options)
{
    static const struct option long_options[] = {
        {"output", required_argument, NULL, 'o'},
        {"seed", required_argument, NULL, 's'},
        {"dry-run", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option;

    optind = 1;
    while ((option = getopt_long(argc, argv, "o:s:nh", long_options, NULL)) != -1) {
        switch (option) {
        case 'o':
            options->output = optarg;
            break;
        case 's':
            if (!parse_seed(optarg, &options->seed)) {
                fprintf(stderr, "mailsim run: invalid seed '%s': expected an unsigned "
                        "64-bit decimal integer\n", optarg);
                return false;
            }
            options->has_seed = true;
            break;
        case 'n':
            options->dry_run = true;
            break;
        case 'h':
            print_run_usage(stdout);
            exit(CLI_EXIT_OK);
        default:
            print_run_usage(stderr);
            return false;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "mailsim run: expected exactly one scenario file\n");
        print_run_usage(stderr);
        return false;
    }
    options->scenario_path = argv[optind];
    return true;
}

static double wall_seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) +
           (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* The progress line on a terminal: shown once a run has taken two seconds,
 * then redrawn at most twice a second. */
struct progress {
    struct timespec start;
    bool enabled;
    bool shown;
    double last_shown;      /* wall seconds */
};

static void show_progress(void *context, const struct world *world)
{
    struct progress *progress = context;
    if (!progress->enabled)
        return;
    double wall = wall_seconds_since(&progress->start);
    if (wall < 2.0 || wall - progress->last_shown < 0.5)
        return;
    progress->last_shown = wall;
    progress->shown = true;

    const struct scenario *scenario = world->scenario;
    double now = sim_time_to_seconds(engine_now(world->engine));
    double duration = sim_time_to_seconds(scenario->duration);
    double events = (double)engine_events_processed(world->engine);
    if (now < duration) {
        double done = now / duration;
        double left = done > 0 ? wall * (1 - done) / done : 0;
        fprintf(stderr, "\rsimulated %.0f of %.0f s (%.0f%%), %.2g events/s, about %.0f s left  ",
                now, duration, 100 * done, events / wall, left);
    } else {
        fprintf(stderr, "\rsimulated %.0f s, draining: %" PRIu64 " messages in flight, "
                "%.2g events/s  ", now, ledger_in_flight(&world->ledger), events / wall);
    }
    fflush(stderr);
}

static int finish_run(struct world *world, struct report *report,
                      const char *directory, const struct timespec *start)
{
    char why[512];
    struct run_info info = {
        .version = MAILSIM_VERSION,
        .status = "complete",
        .events = engine_events_processed(world->engine),
        .fingerprint = engine_fingerprint(world->engine),
        .end_time = engine_now(world->engine),
    };

    if (!ledger_check(&world->ledger, why, sizeof why)) {
        fprintf(stderr, "mailsim: the message ledger does not balance: %s\n", why);
        report_discard(report);
        return CLI_EXIT_RUN_FAILED;
    }
    world_report_unfinished(world);
    info.wall_seconds = wall_seconds_since(start);
    summary_print(stdout, world, &info);
    if (!report_finish(report, world, &info))
        return CLI_EXIT_RUN_FAILED;
    printf("\nresults: %s/results.sqlite; plots: %s/*.png, *.svg\n", directory,
           directory);
    return CLI_EXIT_OK;
}

int cli_run(int argc, char **argv)
{
    struct run_options options = {0};
    struct timespec start;
    char directory[4096];
    char error[512];

    clock_gettime(CLOCK_MONOTONIC, &start);
    if (!parse_run_options(argc, argv, &options))
        return CLI_EXIT_BAD_INPUT;
    struct scenario *scenario = scenario_load(options.scenario_path);
    if (!scenario)
        return CLI_EXIT_BAD_INPUT;
    if (options.has_seed)
        scenario->seed = options.seed;
    if (options.dry_run) {
        printf("%s: valid scenario '%s' with %zu providers\n", options.scenario_path,
               scenario->name, scenario->provider_count);
        scenario_free(scenario);
        return CLI_EXIT_OK;
    }
    if (options.output)
        snprintf(directory, sizeof directory, "%s", options.output);
    else
        snprintf(directory, sizeof directory, "results/%s", scenario->name);

    struct report *report = report_open(scenario, directory, error, sizeof error);
    if (!report) {
        fprintf(stderr, "mailsim: %s\n", error);
        scenario_free(scenario);
        return CLI_EXIT_RUN_FAILED;
    }
    struct world *world = world_new(scenario, report);
    struct progress progress = {.start = start, .enabled = isatty(STDERR_FILENO)};
    int status;
    bool ran = world_run(world, show_progress, &progress);
    if (progress.shown)
        fputc('\n', stderr);
    if (ran) {
        status = finish_run(world, report, directory, &start);
    } else {
        report_discard(report);
        status = CLI_EXIT_BAD_INPUT;
    }
    world_free(world);
    scenario_free(scenario);
    return status;
}

