/*
 * The mailsim command line.
 *
 *   mailsim run SCENARIO [-o DIR] [--seed N]   simulate and write results
 *   mailsim validate SCENARIO                  check a scenario file only
 *
 * Exit status: 0 on success, 1 when a run fails (the message ledger does
 * not balance, results cannot be written), 2 on bad input or usage.
 *
 * This file reads the wall clock (CLOCK_MONOTONIC) for one purpose: the
 * wall time stored with the results.  Nothing in the simulation sees it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/report.h"
#include "models/scenario.h"
#include "models/summary.h"
#include "models/world.h"

#define MAILSIM_VERSION "0.1.0"

enum exit_status {
    EXIT_OK = 0,
    EXIT_RUN_FAILED = 1,
    EXIT_BAD_INPUT = 2,
};

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: mailsim run SCENARIO [-o DIR] [--seed N]\n"
            "       mailsim validate SCENARIO\n"
            "       mailsim --version\n"
            "\n"
            "run       simulate SCENARIO (a YAML file) and write results.sqlite and\n"
            "          the plots to DIR (default results/<scenario name>)\n"
            "validate  load SCENARIO and report the first error, without running it\n"
            "\n"
            "options:\n"
            "  -o, --output DIR  directory for the results\n"
            "  -s, --seed N      seed for every random stream, overriding the\n"
            "                    scenario's seed (an unsigned 64-bit integer)\n"
            "  -h, --help        show this help\n");
}

struct run_options {
    const char *scenario_path;
    const char *output;
    bool has_seed;
    uint64_t seed;
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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option;

    optind = 1;
    while ((option = getopt_long(argc, argv, "o:s:h", long_options, NULL)) != -1) {
        switch (option) {
        case 'o':
            options->output = optarg;
            break;
        case 's':
            if (!parse_seed(optarg, &options->seed)) {
                fprintf(stderr, "mailsim: invalid seed '%s': expected an unsigned "
                        "64-bit decimal integer\n", optarg);
                return false;
            }
            options->has_seed = true;
            break;
        case 'h':
            print_usage(stdout);
            exit(EXIT_OK);
        default:
            print_usage(stderr);
            return false;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "mailsim: expected exactly one scenario file\n");
        print_usage(stderr);
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
        return EXIT_RUN_FAILED;
    }
    world_report_unfinished(world);
    info.wall_seconds = wall_seconds_since(start);
    summary_print(stdout, world, &info);
    if (!report_finish(report, world, &info))
        return EXIT_RUN_FAILED;
    printf("\nresults: %s/results.sqlite; plots: %s/*.png, *.svg\n", directory,
           directory);
    return EXIT_OK;
}

static int command_run(int argc, char **argv)
{
    struct run_options options = {0};
    struct timespec start;
    char directory[4096];
    char error[512];

    clock_gettime(CLOCK_MONOTONIC, &start);
    if (!parse_run_options(argc, argv, &options))
        return EXIT_BAD_INPUT;
    struct scenario *scenario = scenario_load(options.scenario_path);
    if (!scenario)
        return EXIT_BAD_INPUT;
    if (options.has_seed)
        scenario->seed = options.seed;
    if (options.output)
        snprintf(directory, sizeof directory, "%s", options.output);
    else
        snprintf(directory, sizeof directory, "results/%s", scenario->name);

    struct report *report = report_open(scenario, directory, error, sizeof error);
    if (!report) {
        fprintf(stderr, "mailsim: %s\n", error);
        scenario_free(scenario);
        return EXIT_RUN_FAILED;
    }
    struct world *world = world_new(scenario, report);
    int status;
    if (world_run(world)) {
        status = finish_run(world, report, directory, &start);
    } else {
        report_discard(report);
        status = EXIT_BAD_INPUT;
    }
    world_free(world);
    scenario_free(scenario);
    return status;
}

static int command_validate(int argc, char **argv)
{
    struct run_options options = {0};
    if (!parse_run_options(argc, argv, &options))
        return EXIT_BAD_INPUT;
    struct scenario *scenario = scenario_load(options.scenario_path);
    if (!scenario)
        return EXIT_BAD_INPUT;
    printf("%s: valid scenario '%s' with %zu providers\n", options.scenario_path,
           scenario->name, scenario->provider_count);
    scenario_free(scenario);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_BAD_INPUT;
    }
    const char *command = argv[1];
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0) {
        print_usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(command, "--version") == 0) {
        printf("mailsim %s\n", MAILSIM_VERSION);
        return EXIT_OK;
    }
    if (strcmp(command, "run") == 0)
        return command_run(argc - 1, argv + 1);
    if (strcmp(command, "validate") == 0)
        return command_validate(argc - 1, argv + 1);
    fprintf(stderr, "mailsim: unknown command '%s'\n", command);
    print_usage(stderr);
    return EXIT_BAD_INPUT;
}
