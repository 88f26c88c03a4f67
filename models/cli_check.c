/*
 * mailsim check: run a scenario exactly as `mailsim run` does, then
 * evaluate the expectations of its `expect:` list over the results
 * database and print one PASS or FAIL line for each.
 *
 * The run itself is `cli_run` with the same scenario, output directory and
 * seed, so a check never simulates anything differently from a run.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "models/cli.h"
#include "models/expect.h"
#include "models/scenario.h"
#include "models/scenario_expect.h"

static void print_check_usage(FILE *out)
{
    fprintf(out,
            "usage: mailsim check SCENARIO [-o DIR] [--seed N]\n"
            "\n"
            "Runs SCENARIO like `mailsim run`, then evaluates the expectations of\n"
            "its `expect:` list over DIR/results.sqlite and prints PASS or FAIL for\n"
            "each.  Exit status: 0 when all pass, 1 when one fails or the run\n"
            "fails, 2 on bad input.  docs/expectations.md describes the list.\n"
            "\n"
            "  -o, --output DIR  directory for the results (default results/<name>)\n"
            "  -s, --seed N      seed for every random stream, overriding the\n"
            "                    scenario's seed (an unsigned 64-bit integer)\n"
            "  -h, --help        show this help\n");
}

struct check_options {
    const char *scenario_path;
    const char *output;
    const char *seed;          /* as given, passed on to `mailsim run` */
};

/* The rule `mailsim run` applies: decimal digits that fit in 64 bits. */
static bool valid_seed(const char *text)
{
    if (text[0] == '\0' || strlen(text) > 20 || strspn(text, "0123456789") != strlen(text))
        return false;
    return strlen(text) < 20 || strcmp(text, "18446744073709551615") <= 0;
}

/* Parses the arguments after the command word.  Returns false after
 * printing what is wrong; exits after --help. */
static bool parse_check_options(int argc, char **argv, struct check_options *options)
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
            if (!valid_seed(optarg)) {
                fprintf(stderr, "mailsim check: invalid seed '%s': expected an unsigned "
                        "64-bit decimal integer\n", optarg);
                return false;
            }
            options->seed = optarg;
            break;
        case 'h':
            print_check_usage(stdout);
            exit(CLI_EXIT_OK);
        default:
            print_check_usage(stderr);
            return false;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "mailsim check: expected exactly one scenario file\n");
        print_check_usage(stderr);
        return false;
    }
    options->scenario_path = argv[optind];
    return true;
}

/* Runs the scenario through `mailsim run` with the results in `directory`. */
static int run_scenario(const struct check_options *options, const char *directory)
{
    char *arguments[8];
    int count = 0;
    arguments[count++] = "run";
    arguments[count++] = "--output";
    arguments[count++] = (char *)directory;
    if (options->seed != NULL) {
        arguments[count++] = "--seed";
        arguments[count++] = (char *)options->seed;
    }
    arguments[count++] = "--";  /* a scenario path may start with '-' */
    arguments[count++] = (char *)options->scenario_path;
    arguments[count] = NULL;
    return cli_run(count, arguments);
}

/* Prints a line per expectation and the closing count.  Returns the exit
 * status: 1 when an expectation fails or cannot be evaluated. */
static int evaluate_all(sqlite3 *db, const struct scenario *scenario)
{
    char line[1024];
    char error[512];
    size_t passed = 0;
    size_t failed = 0;

    printf("\nexpectations of %s\n", scenario->path);
    for (size_t i = 0; i < scenario->expectation_count; i++) {
        const struct expectation *expectation = &scenario->expectations[i];
        struct expect_outcome outcome;
        if (expect_evaluate(db, expectation, &outcome, error, sizeof error)) {
            expect_format_result(expectation, &outcome, line, sizeof line);
            printf("%s\n", line);
        } else {
            expect_format_label(expectation, line, sizeof line);
            printf("FAIL  %s: %s\n", line, error);
        }
        if (outcome.passed)
            passed++;
        else
            failed++;
    }
    printf("%zu passed, %zu failed\n", passed, failed);
    return failed == 0 ? CLI_EXIT_OK : CLI_EXIT_RUN_FAILED;
}

static int check_results(const struct scenario *scenario, const char *directory)
{
    char path[4200];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/results.sqlite", directory);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "mailsim check: cannot open %s: %s\n", path,
                db != NULL ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return CLI_EXIT_RUN_FAILED;
    }
    int status = evaluate_all(db, scenario);
    sqlite3_close(db);
    return status;
}

int cli_check(int argc, char **argv)
{
    struct check_options options = {0};
    char directory[4096];

    if (!parse_check_options(argc, argv, &options))
        return CLI_EXIT_BAD_INPUT;
    struct scenario *scenario = scenario_load(options.scenario_path);
    if (scenario == NULL)
        return CLI_EXIT_BAD_INPUT;
    if (!scenario_expect_require(scenario, stderr)) {
        scenario_free(scenario);
        return CLI_EXIT_BAD_INPUT;
    }
    if (options.output != NULL)
        snprintf(directory, sizeof directory, "%s", options.output);
    else
        snprintf(directory, sizeof directory, "results/%s", scenario->name);

    int status = run_scenario(&options, directory);
    if (status == CLI_EXIT_OK)
        status = check_results(scenario, directory);
    scenario_free(scenario);
    return status;
}
