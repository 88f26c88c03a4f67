/*
 * mailsim validate: runs every case in a directory (default
 * scenarios/validation) for independent replications and prints one table
 * row per compared quantity, with a 95% confidence interval from the t
 * distribution over the replications.
 *
 * A queue scenario (`kind: queue`) is compared with its closed form.  Any
 * other file is an email scenario, and each of its stations is checked for
 * Little's law on the queue, L = lambda W: the time-weighted queue length
 * against the arrival rate times the mean wait measured per job.
 *
 * This file reads the wall clock (CLOCK_MONOTONIC) only to report how long
 * each case took, on stderr; no simulated value depends on it.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_cdf.h>

#include "models/cli.h"
#include "models/queue_model.h"
#include "models/queue_scenario.h"
#include "models/queueing_theory.h"
#include "models/scenario.h"
#include "models/world.h"

#define DEFAULT_DIRECTORY "scenarios/validation"

/* Replications of an email scenario, which has no key for them.  Little's
 * law is an identity over the run (see check_little), so a few suffice. */
#define EMAIL_REPLICATIONS_FULL 10
#define EMAIL_REPLICATIONS_QUICK 3

/* Relative allowance added to each confidence interval for rounding: two
 * sides equal in exact arithmetic may differ in the last digits. */
#define ROUNDING_ALLOWANCE 1e-9

#define CONFIDENCE 0.95

struct validate_options {
    const char *directory;
    bool quick;
    bool has_seed;
    uint64_t seed;
};

/* Rows printed and rows that passed, over the whole command. */
struct tally {
    int rows;
    int passed;
};

static void print_validate_usage(FILE *out)
{
    fprintf(out,
            "usage: mailsim validate [--quick] [--seed N] [--dir DIR]\n"
            "\n"
            "Runs every case in DIR for independent replications and compares\n"
            "the simulated mean of each quantity with queueing theory (queue\n"
            "scenarios, kind: queue) or with Little's law on every station\n"
            "(email scenarios).  A row passes when the analytic value lies in\n"
            "the 95%% confidence interval of the simulated mean.\n"
            "\n"
            "  -q, --quick     shorter runs and fewer replications (the `quick`\n"
            "                  section of each queue scenario)\n"
            "  -s, --seed N    base seed of every case, replacing the files' seeds;\n"
            "                  replication r uses N + r\n"
            "  -d, --dir DIR   directory of the cases (default " DEFAULT_DIRECTORY ")\n"
            "  -h, --help      show this help\n"
            "\n"
            "Exit status: 0 when every row passes, 1 when one fails, 2 on bad input.\n");
}

static bool parse_seed(const char *text, uint64_t *seed)
{
    char *end;
    errno = 0;
    if (text[0] < '0' || text[0] > '9')
        return false;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *seed = value;
    return true;
}

/* Parses the arguments after the command word.  Returns false after
 * printing what is wrong. */
static bool parse_validate_options(int argc, char **argv,
                                   struct validate_options *options)
{
    static const struct option long_options[] = {
        {"quick", no_argument, NULL, 'q'},
        {"seed", required_argument, NULL, 's'},
        {"dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option;

    optind = 1;
    while ((option = getopt_long(argc, argv, "qs:d:h", long_options, NULL)) != -1) {
        switch (option) {
        case 'q':
            options->quick = true;
            break;
        case 's':
            if (!parse_seed(optarg, &options->seed)) {
                fprintf(stderr, "mailsim validate: invalid seed '%s': expected an "
                        "unsigned 64-bit decimal integer\n", optarg);
                return false;
            }
            options->has_seed = true;
            break;
        case 'd':
            options->directory = optarg;
            break;
        case 'h':
            print_validate_usage(stdout);
            exit(CLI_EXIT_OK);
        default:
            print_validate_usage(stderr);
            return false;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "mailsim validate: unexpected argument '%s': give the "
                "directory of the cases with --dir DIR\n", argv[optind]);
        print_validate_usage(stderr);
        return false;
    }
    return true;
}

static double wall_seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) +
           (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void *validate_calloc(size_t count, size_t size)
{
    void *memory = calloc(count ? count : 1, size);
    if (memory == NULL) {
        fputs("mailsim validate: out of memory\n", stderr);
        abort();
    }
    return memory;
}

static void print_header(void)
{
    printf("%-20s %-30s %12s %12s  %-27s %9s  %s\n", "case", "quantity", "analytic",
           "simulated", "95% confidence interval", "rel.err", "result");
}

/* Half-width of the 95% confidence interval of the mean of `count`
 * values, from the t distribution with count - 1 degrees of freedom.
 * With `paired`, of the mean of the differences values[i] - paired[i]. */
static double half_width(const double *values, const double *paired, int count)
{
    double sum = 0;
    for (int i = 0; i < count; i++)
        sum += values[i] - (paired ? paired[i] : 0);
    double mean = sum / count;

    double squares = 0;
    for (int i = 0; i < count; i++) {
        double deviation = values[i] - (paired ? paired[i] : 0) - mean;
        squares += deviation * deviation;
    }
    double stddev = sqrt(squares / (count - 1));
    double t = gsl_cdf_tdist_Pinv(1 - (1 - CONFIDENCE) / 2, count - 1);
    return t * stddev / sqrt(count);
}

/* Prints one row from the values of `count` replications and counts it.
 * The row passes when `analytic` lies in the 95% confidence interval of
 * the mean of `values`, widened by the rounding allowance.  When the
 * analytic value is itself measured in each replication (`paired`), the
 * interval's half-width is that of the paired differences. */
static void print_row(struct tally *tally, const char *case_name, const char *quantity,
                      double analytic, const double *values, const double *paired,
                      int count)
{
    double sum = 0;
    for (int i = 0; i < count; i++)
        sum += values[i];
    double mean = sum / count;
    double half = half_width(values, paired, count);

    double allowance = ROUNDING_ALLOWANCE * fmax(fabs(analytic), fabs(mean));
    bool pass = fabs(analytic - mean) <= half + allowance;

    char interval[64];
    snprintf(interval, sizeof interval, "[%.6g, %.6g]", mean - half, mean + half);
    /* Relative errors below 0.001% (Little's law, where they are
     * rounding) in scientific notation, so that they do not show as 0. */
    char error[32] = "-";
    double relative = 100 * (mean - analytic) / analytic;
    if (analytic != 0 && relative != 0 && fabs(relative) < 1e-3)
        snprintf(error, sizeof error, "%+.0e%%", relative);
    else if (analytic != 0)
        snprintf(error, sizeof error, "%+.3f%%", relative);
    printf("%-20s %-30s %12.6g %12.6g  %-27s %9s  %s\n", case_name, quantity, analytic,
           mean, interval, error, pass ? "PASS" : "FAIL");
    fflush(stdout);

    tally->rows++;
    if (pass)
        tally->passed++;
}

/* The quantities a queue case compares, one row each. */
enum quantity_kind {
    QUANTITY_WAIT,
    QUANTITY_SOJOURN,
    QUANTITY_QUEUE_LENGTH,
    QUANTITY_UTILISATION,
    QUANTITY_WAIT_EXCEEDS,
    QUANTITY_BLOCKING,
    QUANTITY_COUNT
};

struct quantity {
    enum quantity_kind kind;
    char label[64];
    double analytic;
};

static double measured_value(enum quantity_kind kind, const struct queue_result *result)
{
    switch (kind) {
    case QUANTITY_WAIT:
        return result->wait_mean;
    case QUANTITY_SOJOURN:
        return result->sojourn_mean;
    case QUANTITY_QUEUE_LENGTH:
        return result->queue_length_mean;
    case QUANTITY_UTILISATION:
        return result->utilisation;
    case QUANTITY_WAIT_EXCEEDS:
        return result->wait_exceeds;
    case QUANTITY_BLOCKING:
        return result->blocking;
    case QUANTITY_COUNT:
        break;
    }
    return NAN;
}

static void add_quantity(struct quantity *list, int *count, enum quantity_kind kind,
                         const char *label, double analytic)
{
    struct quantity *quantity = &list[(*count)++];
    quantity->kind = kind;
    snprintf(quantity->label, sizeof quantity->label, "%s", label);
    quantity->analytic = analytic;
}

/* Fills `list` with the quantities of the scenario's model and their
 * closed forms; returns how many.  Lq comes from Wq by Little's law. */
static int queue_quantities(const struct queue_scenario *scenario,
                            struct quantity *list)
{
    int count = 0;
    int c = scenario->servers;
    double lambda = queue_scenario_arrival_rate(scenario);
    double mean = dist_mean(&scenario->service);
    double mu = 1 / mean;
    double load = lambda * mean;

    if (scenario->model == QUEUE_MODEL_ERLANG_B) {
        double blocking = queueing_theory_erlang_b(c, load);
        add_quantity(list, &count, QUANTITY_BLOCKING, "blocking probability", blocking);
        add_quantity(list, &count, QUANTITY_UTILISATION, "utilisation",
                     load * (1 - blocking) / c);
        return count;
    }
    if (scenario->model == QUEUE_MODEL_MM1K) {
        double blocking = queueing_theory_mm1k_blocking(lambda, mu,
                                                        (int)scenario->capacity + 1);
        add_quantity(list, &count, QUANTITY_BLOCKING, "blocking probability", blocking);
        add_quantity(list, &count, QUANTITY_UTILISATION, "utilisation",
                     load * (1 - blocking));
        return count;
    }

    bool exponential = scenario->model == QUEUE_MODEL_MM1 ||
                       scenario->model == QUEUE_MODEL_MMC;
    double wait = exponential
                      ? queueing_theory_mmc_wait(c, lambda, mu)
                      : queueing_theory_mg1_wait(lambda, mean,
                                                 queueing_theory_second_moment(
                                                     &scenario->service));
    add_quantity(list, &count, QUANTITY_WAIT, "mean wait Wq (s)", wait);
    add_quantity(list, &count, QUANTITY_SOJOURN, "mean sojourn W (s)", wait + mean);
    add_quantity(list, &count, QUANTITY_QUEUE_LENGTH, "mean queue length Lq",
                 lambda * wait);
    add_quantity(list, &count, QUANTITY_UTILISATION, "utilisation", load / c);
    if (scenario->has_wait_threshold) {
        double threshold = sim_time_to_seconds(scenario->wait_threshold);
        char label[64];
        snprintf(label, sizeof label, "P(wait > %gs)", threshold);
        add_quantity(list, &count, QUANTITY_WAIT_EXCEEDS, label,
                     queueing_theory_mmc_wait_exceeds(c, lambda, mu, threshold));
    }
    return count;
}

/* Runs every replication of a queue scenario and prints its rows. */
static int run_queue_case(const char *path, const struct validate_options *options,
                          struct tally *tally)
{
    struct queue_scenario *scenario = queue_scenario_load(path, stderr);
    if (scenario == NULL)
        return CLI_EXIT_BAD_INPUT;

    const struct queue_run_length *length = options->quick ? &scenario->quick
                                                           : &scenario->full;
    uint64_t base = options->has_seed ? options->seed : scenario->seed;
    int replications = length->replications;
    struct quantity quantities[QUANTITY_COUNT];
    int count = queue_quantities(scenario, quantities);
    double *values = validate_calloc((size_t)(count * replications), sizeof *values);

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    uint64_t events = 0;
    for (int r = 0; r < replications; r++) {
        struct queue_result result;
        events += queue_model_run(scenario, length, base + (uint64_t)r, &result);
        for (int q = 0; q < count; q++)
            values[q * replications + r] = measured_value(quantities[q].kind, &result);
    }
    for (int q = 0; q < count; q++)
        print_row(tally, scenario->name, quantities[q].label, quantities[q].analytic,
                  &values[q * replications], NULL, replications);
    fprintf(stderr, "%s: %d replications, %llu events, %.1f s\n", scenario->name,
            replications, (unsigned long long)events, wall_seconds_since(&start));

    free(values);
    queue_scenario_free(scenario);
    return CLI_EXIT_OK;
}

/* Every station of a world, in a fixed order: each provider's web
 * servers, then its outgoing and its processing station. */
static size_t world_station_count(const struct world *world)
{
    size_t count = 0;
    for (size_t p = 0; p < world->scenario->provider_count; p++)
        count += (size_t)world->scenario->providers[p].web.servers + 2;
    return count;
}

static struct station *world_station(struct world *world, size_t index)
{
    for (size_t p = 0; p < world->scenario->provider_count; p++) {
        struct provider_state *state = &world->providers[p];
        size_t web = (size_t)state->params->web.servers;
        if (index < web)
            return &state->web_servers[index];
        if (index == web)
            return &state->outgoing;
        if (index == web + 1)
            return &state->processing;
        index -= web + 2;
    }
    return NULL;
}

/*
 * Little's law on a station's queue over the whole run [start, now]:
 * L = area / T, lambda = jobs / T and W = wait sum / jobs, so
 * lambda W = wait sum / T.  The jobs still queued at the end count the
 * time they have waited so far.  The two sides are then equal in exact
 * arithmetic, because both integrate the number of jobs waiting over the
 * run, one over time and one over jobs.  So a difference beyond rounding
 * means that the station's time-weighted length and its per-job waits
 * disagree.
 */
static void check_little(const struct station *station, sim_time now,
                         double *length, double *rate_times_wait)
{
    double seconds = sim_time_to_seconds(now - station->queue_average.start);
    double waits = station->wait_sum;
    for (size_t i = 0; i < station->length; i++) {
        const struct station_entry *entry =
            &station->ring[(station->head + i) % station->ring_size];
        waits += sim_time_to_seconds(now - entry->queued);
    }
    *length = time_average_mean(&station->queue_average, now);
    *rate_times_wait = seconds > 0 ? waits / seconds : 0;
}

/* Runs one replication of an email scenario and stores each station's
 * two sides of Little's law at [station * replications + r].  Returns
 * false if the run failed (the error is already printed). */
static bool run_email_replication(struct scenario *scenario, int r, int replications,
                                  double *lengths, double *products, char ***names,
                                  size_t *station_count)
{
    struct world *world = world_new(scenario, NULL);
    bool ok = world_run(world, NULL, NULL);
    sim_time now = engine_now(world->engine);
    size_t count = world_station_count(world);

    if (*names == NULL) {
        *station_count = count;
        *names = validate_calloc(count, sizeof **names);
        for (size_t s = 0; s < count; s++)
            (*names)[s] = strdup(world_station(world, s)->name);
    }
    for (size_t s = 0; ok && s < count; s++) {
        size_t at = s * (size_t)replications + (size_t)r;
        check_little(world_station(world, s), now, &lengths[at], &products[at]);
    }
    world_free(world);
    return ok;
}

static void print_email_rows(struct tally *tally, const char *case_name, char **names,
                             size_t station_count, const double *lengths,
                             const double *products, int replications)
{
    for (size_t s = 0; s < station_count; s++) {
        const double *products_of = &products[s * (size_t)replications];
        double expected = 0;
        for (int r = 0; r < replications; r++)
            expected += products_of[r] / replications;
        char label[64];
        snprintf(label, sizeof label, "%s L = lambda W", names[s]);
        print_row(tally, case_name, label, expected,
                  &lengths[s * (size_t)replications], products_of, replications);
    }
}

/* Runs an email scenario for several replications and prints one Little's
 * law row per station.  The analytic value is the mean of lambda W over
 * the replications, and the simulated one the mean of L, with the
 * confidence interval of the paired differences L - lambda W. */
static int run_email_case(const char *path, const struct validate_options *options,
                          struct tally *tally)
{
    struct scenario *scenario = scenario_load_report(path, stderr);
    if (scenario == NULL)
        return CLI_EXIT_BAD_INPUT;

    int replications = options->quick ? EMAIL_REPLICATIONS_QUICK : EMAIL_REPLICATIONS_FULL;
    uint64_t base = options->has_seed ? options->seed : scenario->seed;
    size_t max_stations = 0;
    for (size_t p = 0; p < scenario->provider_count; p++)
        max_stations += (size_t)scenario->providers[p].web.servers + 2;
    double *lengths = validate_calloc(max_stations * (size_t)replications, sizeof *lengths);
    double *products = validate_calloc(max_stations * (size_t)replications, sizeof *products);
    char **names = NULL;
    size_t station_count = 0;
    int status = CLI_EXIT_OK;

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int r = 0; r < replications && status == CLI_EXIT_OK; r++) {
        scenario->seed = base + (uint64_t)r;
        if (!run_email_replication(scenario, r, replications, lengths, products,
                                   &names, &station_count))
            status = CLI_EXIT_BAD_INPUT;
    }
    if (status == CLI_EXIT_OK) {
        print_email_rows(tally, scenario->name, names, station_count, lengths,
                         products, replications);
        fprintf(stderr, "%s: %d replications, %.1f s\n", scenario->name, replications,
                wall_seconds_since(&start));
    }

    for (size_t s = 0; s < station_count; s++)
        free(names[s]);
    free(names);
    free(lengths);
    free(products);
    scenario_free(scenario);
    return status;
}

int cli_validate(int argc, char **argv)
{
    struct validate_options options = { .directory = DEFAULT_DIRECTORY };
    if (!parse_validate_options(argc, argv, &options))
        return CLI_EXIT_BAD_INPUT;

    char pattern[4096];
    snprintf(pattern, sizeof pattern, "%s/*.yaml", options.directory);
    glob_t files;
    if (glob(pattern, 0, NULL, &files) != 0 || files.gl_pathc == 0) {
        fprintf(stderr, "mailsim validate: no case files (*.yaml) found in '%s'; "
                "run from the repository root or give --dir DIR\n", options.directory);
        globfree(&files);
        return CLI_EXIT_BAD_INPUT;
    }

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct tally tally = { 0 };
    int status = CLI_EXIT_OK;
    print_header();
    for (size_t i = 0; i < files.gl_pathc && status == CLI_EXIT_OK; i++) {
        const char *path = files.gl_pathv[i];
        status = queue_scenario_file_is_queue(path)
                     ? run_queue_case(path, &options, &tally)
                     : run_email_case(path, &options, &tally);
    }
    globfree(&files);
    if (status != CLI_EXIT_OK)
        return status;

    /* The wall time goes to stderr, so that stdout depends on the seed
     * alone. */
    printf("%d of %d rows passed (%s run)\n", tally.passed, tally.rows,
           options.quick ? "quick" : "full");
    fprintf(stderr, "validate: %.1f s\n", wall_seconds_since(&start));
    return tally.passed == tally.rows ? CLI_EXIT_OK : CLI_EXIT_RUN_FAILED;
}
