/*
 * mailsim run: load a scenario, simulate it, print the summary and write
 * the results database and plots.
 *
 * This file reads the wall clock (CLOCK_MONOTONIC) for two purposes only:
 * the wall time stored with the results and the progress line.  The
 * simulation never reads it, so a run's results never depend on it.
 *
 * SIGINT and SIGTERM during the simulation stop it at the next check
 * between events (models/run_control.h); the results so far are then
 * written as at a normal end, with status "interrupted", and the exit
 * status is 128 plus the signal number.  A second signal kills at once,
 * which can leave results.sqlite.partial but never a half-written
 * results.sqlite.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "models/cli.h"
#include "models/report.h"
#include "models/run_control.h"
#include "models/scenario.h"
#include "models/summary.h"
#include "models/world.h"
#include "sim/units.h"

static void print_run_usage(FILE *out)
{
    fprintf(out,
            "usage: mailsim run SCENARIO [-o DIR] [--seed N] [--dry-run] [--journey ID]\n"
            "                   [--max-events N] [--max-in-flight N] [--max-memory SIZE]\n"
            "\n"
            "Simulates SCENARIO (a YAML file), prints a summary and writes\n"
            "results.sqlite and the plots to DIR.  An earlier DIR/results.sqlite\n"
            "is kept as DIR/results.previous.sqlite.\n"
            "\n"
            "  -o, --output DIR      directory for the results (default results/<name>)\n"
            "  -s, --seed N          seed for every random stream, overriding the\n"
            "                        scenario's seed (an unsigned 64-bit integer)\n"
            "  -n, --dry-run         load and check SCENARIO, then stop without running\n"
            "  -j, --journey ID      write every step of message ID (1 is the first\n"
            "                        submitted), each SMTP command and reply included,\n"
            "                        to DIR/journey-ID.txt\n"
            "      --max-events N    stop after N events\n"
            "      --max-in-flight N stop when more than N messages are in flight\n"
            "      --max-memory SIZE stop when resident memory exceeds SIZE (e.g. 2GiB)\n"
            "  -h, --help            show this help\n"
            "\n"
            "The --max-* options override the scenario's limits section; 0 removes\n"
            "a limit.  A run stopped by a limit keeps its results and exits with\n"
            "status 1; one stopped by SIGINT or SIGTERM exits with 130 or 143.\n");
}

/* Opens DIR/journey-ID.txt for the journey of message ID. */
static bool open_journey(struct world *world, const char *directory, uint64_t id)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/journey-%llu.txt", directory, (unsigned long long)id);
    world->journey = fopen(path, "w");
    if (!world->journey) {
        fprintf(stderr, "mailsim: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    world->journey_id = id;
    fprintf(world->journey, "journey of message %llu in scenario %s, seed %llu\n"
            "    time       step (C: client command, S: server reply)\n",
            (unsigned long long)id, world->scenario->name,
            (unsigned long long)world->scenario->seed);
    return true;
}

/* A run limit given on the command line. */
struct limit_option {
    bool given;
    uint64_t value;            /* 0: no limit */
};

struct run_options {
    const char *scenario_path;
    const char *output;
    bool has_seed;
    uint64_t seed;
    bool dry_run;
    uint64_t journey;          /* message to follow; 0: none */
    struct limit_option max_events;
    struct limit_option max_in_flight;
    struct limit_option max_memory;
};

/* The signal that interrupted the run, 0 if none; set by on_signal. */
static volatile sig_atomic_t caught_signal;

/* Parses an unsigned 64-bit decimal integer, without sign or blanks. */
static bool parse_unsigned(const char *text, uint64_t *value)
{
    char *end;
    errno = 0;
    if (text[0] == '-' || text[0] == '\0')
        return false;
    unsigned long long parsed = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *value = parsed;
    return true;
}

/* Parses the value of --max-events or --max-in-flight: a decimal count,
 * 0 for no limit. */
static bool parse_count_limit(const char *name, const char *text,
                              struct limit_option *limit)
{
    if (!parse_unsigned(text, &limit->value)) {
        fprintf(stderr, "mailsim run: invalid %s '%s': expected a non-negative "
                "integer (0 for no limit)\n", name, text);
        return false;
    }
    limit->given = true;
    return true;
}

/* Parses the value of --max-memory: a size with a unit, or 0. */
static bool parse_memory_limit(const char *text, struct limit_option *limit)
{
    char error[256];
    limit->given = true;
    if (strcmp(text, "0") == 0) {
        limit->value = 0;
        return true;
    }
    if (units_parse_size(text, &limit->value, error, sizeof error) && limit->value > 0)
        return true;
    fprintf(stderr, "mailsim run: invalid --max-memory '%s': expected a size such "
            "as 512MB or 2GiB (0 for no limit)\n", text);
    return false;
}

enum long_only_option {
    OPTION_MAX_EVENTS = 256,
    OPTION_MAX_IN_FLIGHT,
    OPTION_MAX_MEMORY,
};

/* Handles one option that has no short form.  Returns false after
 * printing what is wrong. */
static bool parse_limit_option(int option, const char *value, struct run_options *options)
{
    switch (option) {
    case OPTION_MAX_EVENTS:
        return parse_count_limit("--max-events", value, &options->max_events);
    case OPTION_MAX_IN_FLIGHT:
        return parse_count_limit("--max-in-flight", value, &options->max_in_flight);
    case OPTION_MAX_MEMORY:
        return parse_memory_limit(value, &options->max_memory);
    default:
        print_run_usage(stderr);
        return false;
    }
}

/* Parses the arguments after the command word.  Returns false after
 * printing what is wrong. */
static bool parse_run_options(int argc, char **argv, struct run_options *options)
{
    static const struct option long_options[] = {
        {"output", required_argument, NULL, 'o'},
        {"seed", required_argument, NULL, 's'},
        {"dry-run", no_argument, NULL, 'n'},
        {"journey", required_argument, NULL, 'j'},
        {"max-events", required_argument, NULL, OPTION_MAX_EVENTS},
        {"max-in-flight", required_argument, NULL, OPTION_MAX_IN_FLIGHT},
        {"max-memory", required_argument, NULL, OPTION_MAX_MEMORY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option;

    optind = 1;
    while ((option = getopt_long(argc, argv, "o:s:nj:h", long_options, NULL)) != -1) {
        switch (option) {
        case 'o':
            options->output = optarg;
            break;
        case 's':
            if (!parse_unsigned(optarg, &options->seed)) {
                fprintf(stderr, "mailsim run: invalid seed '%s': expected an unsigned "
                        "64-bit decimal integer\n", optarg);
                return false;
            }
            options->has_seed = true;
            break;
        case 'n':
            options->dry_run = true;
            break;
        case 'j':
            if (!parse_unsigned(optarg, &options->journey) || options->journey == 0) {
                fprintf(stderr, "mailsim run: invalid --journey '%s': expected a message "
                        "id, a whole number from 1\n", optarg);
                return false;
            }
            break;
        case 'h':
            print_run_usage(stdout);
            exit(CLI_EXIT_OK);
        default:
            if (!parse_limit_option(option, optarg, options))
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

static void on_signal(int signal_number)
{
    caught_signal = signal_number;
}

/* Installs on_signal for SIGINT and SIGTERM, once: a second signal gets the
 * default action and ends the process.  SA_RESTART keeps a read of the
 * trace file or a write of the results from failing with EINTR. */
static void catch_signals(void)
{
    struct sigaction action = {0};
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESETHAND | SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
}

static void apply_limit_options(const struct run_options *options,
                                struct run_limits *limits)
{
    if (options->max_events.given)
        limits->max_events = options->max_events.value;
    if (options->max_in_flight.given)
        limits->max_in_flight = options->max_in_flight.value;
    if (options->max_memory.given)
        limits->max_memory = options->max_memory.value;
}

/* Renames DIRECTORY/results.sqlite, if there is one, to
 * results.previous.sqlite (replacing an older one), so that a new run never
 * silently overwrites the last one.  Returns false after printing why the
 * rename failed. */
static bool keep_previous_results(const char *directory)
{
    char current[4200], previous[4200];
    struct stat status;

    snprintf(current, sizeof current, "%s/results.sqlite", directory);
    snprintf(previous, sizeof previous, "%s/results.previous.sqlite", directory);
    if (stat(current, &status) != 0)
        return true;
    if (rename(current, previous) != 0) {
        fprintf(stderr, "mailsim: failed to rename %s to %s to keep the earlier "
                "results: %s; no results written\n", current, previous, strerror(errno));
        return false;
    }
    fprintf(stderr, "mailsim: the earlier %s is kept as %s\n", current, previous);
    return true;
}

/* The line after the summary of a run that stopped early. */
static void print_early_stop(FILE *out, const struct world *world, int signal_number)
{
    double now = sim_time_to_seconds(engine_now(world->engine));
    if (signal_number != 0)
        fprintf(out, "\nrun interrupted by %s at %.3f s of simulated time; messages "
                "in flight are reported in their current state\n",
                signal_number == SIGINT ? "SIGINT" : "SIGTERM", now);
    else
        fprintf(out, "\nrun stopped at %.3f s of simulated time (%s); messages in "
                "flight are reported in their current state\n", now, world->stop_reason);
}

/* The exit status of a run whose results were written. */
static int written_run_status(const struct world *world, int signal_number)
{
    if (world->stop_reason == NULL)
        return CLI_EXIT_OK;
    if (signal_number != 0)
        return 128 + signal_number;
    return CLI_EXIT_RUN_FAILED;
}

static int finish_run(struct world *world, struct report *report,
                      const char *directory, const struct timespec *start)
{
    char why[512];
    bool interrupted = world->stop_reason &&
                       strcmp(world->stop_reason, RUN_CONTROL_INTERRUPTED) == 0;
    int signal_number = interrupted ? (int)caught_signal : 0;
    struct run_info info = {
        .version = MAILSIM_VERSION,
        .status = world->stop_reason ? world->stop_reason : "complete",
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
    if (world->stop_reason)
        print_early_stop(stdout, world, signal_number);
    if (!keep_previous_results(directory)) {
        report_discard(report);
        return CLI_EXIT_RUN_FAILED;
    }
    if (!report_finish(report, world, &info))
        return CLI_EXIT_RUN_FAILED;
    if (world->scenario->output.plots)
        printf("\nresults: %s/results.sqlite; plots: %s/*.png, *.svg\n", directory,
               directory);
    else
        printf("\nresults: %s/results.sqlite\n", directory);
    return written_run_status(world, signal_number);
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
    apply_limit_options(&options, &scenario->limits);
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
    if (options.journey && !open_journey(world, directory, options.journey)) {
        world_free(world);
        report_discard(report);
        scenario_free(scenario);
        return CLI_EXIT_RUN_FAILED;
    }
    struct progress progress = {.start = start, .enabled = isatty(STDERR_FILENO)};
    int status;
    world->interrupt = &caught_signal;
    catch_signals();
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
