/*
 * Unit tests for queue scenarios and the queue model.  Loading: a scenario
 * file, and the exact message for one whose model assumptions do not
 * hold.  Running: deterministic runs worked out by hand (constant arrivals
 * and service), the warm-up window, blocking in a loss system, the event
 * count, reproducibility by seed, and one M/M/1 run against its closed
 * form.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/queue_model.h"
#include "models/queue_scenario.h"
#include "models/queueing_theory.h"
#include "tests/unit/test_util.h"

#define MM1_TEXT                                                        \
    "name: mm1\n"                                                       \
    "kind: queue\n"                                                     \
    "seed: 5\n"                                                         \
    "arrival: {dist: exponential, mean: 1s}\n"                          \
    "service: {dist: exponential, mean: 800ms}\n"                       \
    "servers: 1\n"                                                      \
    "capacity: unlimited\n"                                             \
    "warmup: 1000s\n"                                                   \
    "duration: 100000s\n"                                               \
    "replications: 20\n"                                                \
    "theory: {model: mm1, wait_threshold: 2s}\n"

/* Writes `text` to a new temporary file and stores its name in `path`. */
static void write_temporary(char *path, size_t size, const char *text)
{
    snprintf(path, size, "/tmp/test_queue_model_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *file = fdopen(fd, "w");
    ck_assert_ptr_nonnull(file);
    fputs(text, file);
    fclose(file);
}

/* Loads `text` as a queue scenario.  The error output, if any, goes to
 * `errors` without its final newline. */
static struct queue_scenario *load_text(const char *text, char *errors, size_t size,
                                        char *path, size_t path_size)
{
    write_temporary(path, path_size, text);
    FILE *stream = tmpfile();
    ck_assert_ptr_nonnull(stream);
    struct queue_scenario *scenario = queue_scenario_load(path, stream);

    rewind(stream);
    size_t length = fread(errors, 1, size - 1, stream);
    errors[length] = '\0';
    if (length > 0 && errors[length - 1] == '\n')
        errors[length - 1] = '\0';
    fclose(stream);
    return scenario;
}

/* Loads `text`, expects a failure, and checks the message after the
 * file name. */
static void expect_error(const char *text, const char *expected)
{
    char errors[1024];
    char path[64];
    struct queue_scenario *scenario = load_text(text, errors, sizeof errors,
                                                path, sizeof path);
    ck_assert_ptr_null(scenario);
    size_t prefix = strlen(path);
    ck_assert_int_eq(strncmp(errors, path, prefix), 0);
    ck_assert_str_eq(errors + prefix, expected);
    unlink(path);
}

/* MM1_TEXT with the line that starts with `key` replaced by `line`. */
static char *replace_line(const char *key, const char *line)
{
    static char text[2048];
    const char *start = strstr(MM1_TEXT, key);
    ck_assert_ptr_nonnull(start);
    const char *end = strchr(start, '\n') + 1;
    snprintf(text, sizeof text, "%.*s%s%s", (int)(start - MM1_TEXT), MM1_TEXT,
             line, end);
    return text;
}

START_TEST(load_mm1_fields)
{
    char errors[1024];
    char path[64];
    struct queue_scenario *scenario = load_text(MM1_TEXT, errors, sizeof errors,
                                                path, sizeof path);
    ck_assert_str_eq(errors, "");
    ck_assert_ptr_nonnull(scenario);
    ck_assert_str_eq(scenario->name, "mm1");
    ck_assert_uint_eq(scenario->seed, 5);
    ck_assert_int_eq(scenario->arrival.kind, DIST_EXPONENTIAL);
    ck_assert_double_eq_tol(scenario->arrival.a, 1.0, 1e-12);
    ck_assert_double_eq_tol(scenario->service.a, 0.8, 1e-12);
    ck_assert_int_eq(scenario->servers, 1);
    ck_assert(scenario->unlimited);
    ck_assert_int_eq(scenario->full.warmup, 1000 * SIM_SEC);
    ck_assert_int_eq(scenario->full.duration, 100000 * SIM_SEC);
    ck_assert_int_eq(scenario->full.replications, 20);
    ck_assert_int_eq(scenario->model, QUEUE_MODEL_MM1);
    ck_assert(scenario->has_wait_threshold);
    ck_assert_int_eq(scenario->wait_threshold, 2 * SIM_SEC);
    ck_assert_double_eq_tol(queue_scenario_arrival_rate(scenario), 1.0, 1e-12);
    ck_assert(queue_scenario_file_is_queue(path));

    /* Without a quick section: the same warm-up, a tenth of the duration
     * and at most 5 replications. */
    ck_assert_int_eq(scenario->quick.warmup, 1000 * SIM_SEC);
    ck_assert_int_eq(scenario->quick.duration, 10000 * SIM_SEC);
    ck_assert_int_eq(scenario->quick.replications, 5);
    queue_scenario_free(scenario);
    unlink(path);
}
END_TEST

START_TEST(load_quick_and_capacity)
{
    char text[2048];
    snprintf(text, sizeof text, "%s",
             replace_line("capacity:", "capacity: 4\n"
                          "quick: {duration: 50s, replications: 3}\n"));
    char *theory = strstr(text, "theory:");
    snprintf(theory, sizeof text - (size_t)(theory - text), "theory: {model: mm1k}\n");

    char errors[1024];
    char path[64];
    struct queue_scenario *scenario = load_text(text, errors, sizeof errors,
                                                path, sizeof path);
    ck_assert_str_eq(errors, "");
    ck_assert_ptr_nonnull(scenario);
    ck_assert(!scenario->unlimited);
    ck_assert_uint_eq(scenario->capacity, 4);
    ck_assert_int_eq(scenario->model, QUEUE_MODEL_MM1K);
    ck_assert(!scenario->has_wait_threshold);
    ck_assert_int_eq(scenario->quick.warmup, 1000 * SIM_SEC);
    ck_assert_int_eq(scenario->quick.duration, 50 * SIM_SEC);
    ck_assert_int_eq(scenario->quick.replications, 3);
    queue_scenario_free(scenario);
    unlink(path);
}
END_TEST

START_TEST(file_kind_detection)
{
    char path[64];
    write_temporary(path, sizeof path, "name: x\nduration: 1s\n");
    ck_assert(!queue_scenario_file_is_queue(path));
    unlink(path);

    write_temporary(path, sizeof path, "kind: [queue]\n");
    ck_assert(!queue_scenario_file_is_queue(path));
    unlink(path);

    write_temporary(path, sizeof path, "kind: queue\nbroken: [\n");
    ck_assert(!queue_scenario_file_is_queue(path));
    unlink(path);

    ck_assert(!queue_scenario_file_is_queue("/nonexistent/queue.yaml"));
}
END_TEST

START_TEST(reject_wrong_service_kind)
{
    expect_error(replace_line("service:", "service: {dist: lognormal, mean: 800ms, "
                                          "stddev: 1s}\n"),
                 ":5:10: service: model 'mm1' assumes exponential service times, "
                 "found 'lognormal'");
}
END_TEST

START_TEST(reject_unstable)
{
    expect_error(replace_line("service:", "service: {dist: exponential, mean: 1s}\n"),
                 ":5:10: service: the queue is unstable: the offered load lambda "
                 "E[S] = 1 Erlangs is not below servers = 1; lengthen the mean "
                 "inter-arrival time, add servers or give a finite capacity");
}
END_TEST

START_TEST(reject_constant_arrivals)
{
    expect_error(replace_line("arrival:", "arrival: 1s\n"),
                 ":4:10: arrival: model 'mm1' assumes Poisson arrivals, expected "
                 "{dist: exponential, mean: ...} with a mean above 0, found 'constant'");
}
END_TEST

START_TEST(reject_servers_for_mm1)
{
    expect_error(replace_line("servers:", "servers: 2\n"),
                 ":6:10: servers: model 'mm1' has one server, found servers: 2");
}
END_TEST

START_TEST(reject_capacity_word)
{
    expect_error(replace_line("capacity:", "capacity: many\n"),
                 ":7:11: capacity: found 'many', expected an integer from 0 to "
                 "1000000000");
}
END_TEST

START_TEST(reject_finite_capacity_mm1)
{
    expect_error(replace_line("capacity:", "capacity: 3\n"),
                 ":7:11: capacity: model 'mm1' has an unlimited queue, expected "
                 "capacity: unlimited");
}
END_TEST

START_TEST(reject_threshold_md1)
{
    char text[2048];
    snprintf(text, sizeof text, "%s", replace_line("service:", "service: 800ms\n"));
    char *theory = strstr(text, "theory:");
    snprintf(theory, sizeof text - (size_t)(theory - text),
             "theory: {model: md1, wait_threshold: 1s}\n");
    expect_error(text, ":11:38: theory.wait_threshold: model 'md1' has no closed "
                       "form for P(wait > t), remove wait_threshold (only mm1 and "
                       "mmc compare it)");
}
END_TEST

START_TEST(reject_one_replication)
{
    expect_error(replace_line("replications:", "replications: 1\n"),
                 ":10:15: replications: found '1', expected an integer from 2 to "
                 "10000");
}
END_TEST

START_TEST(reject_unknown_key)
{
    expect_error(replace_line("servers:", "server: 1\n"),
                 ":6:1: unknown key 'server', expected one of: name, kind, seed, "
                 "arrival, service, servers, capacity, warmup, duration, "
                 "replications, theory, quick");
}
END_TEST

START_TEST(reject_other_kind)
{
    expect_error(replace_line("kind:", "kind: email\n"),
                 ":2:7: kind: found 'email', expected one of: queue");
}
END_TEST

START_TEST(reject_unknown_model)
{
    char text[2048];
    snprintf(text, sizeof text, "%s", MM1_TEXT);
    char *theory = strstr(text, "theory:");
    snprintf(theory, sizeof text - (size_t)(theory - text), "theory: {model: gg1}\n");
    expect_error(text, ":11:17: theory.model: found 'gg1', expected one of: mm1, "
                       "mmc, md1, mg1, erlang_b, mm1k");
}
END_TEST

/* A scenario built in code, so that arrivals can be constant, which the
 * loader rejects for every closed form. */
static struct queue_scenario constant_scenario(double interval, double service,
                                               int servers, bool unlimited)
{
    struct queue_scenario scenario = {
        .name = "constant",
        .seed = 1,
        .servers = servers,
        .unlimited = unlimited,
        .capacity = 0,
        .model = QUEUE_MODEL_MG1,
        .full = { .warmup = 0, .duration = 10 * SIM_SEC, .replications = 2 },
    };
    dist_constant(&scenario.arrival, interval);
    dist_constant(&scenario.service, service);
    return scenario;
}

/*
 * Arrivals every 1 s from 1 s, service 1.5 s, one server, window [0, 10):
 * job k arrives at k s and starts at 1 + 1.5 (k - 1) s, so it waits
 * 0.5 (k - 1) s.  Jobs 1-9 arrive in the window: mean wait
 * (0 + 0.5 + ... + 4) / 9 = 2 s, mean sojourn 3.5 s, and 4 of 9 wait
 * more than 2 s.  Up to 10 s the queue contains job 2 over [2, 2.5), job 3
 * over [3, 4), job 4 over [4, 5.5), job 5 over [5, 7), job 6 over
 * [6, 8.5), job 7 over [7, 10), job 8 over [8, 10) and job 9 over [9, 10):
 * area 13.5, mean length 1.35.  The server is busy over [1, 10): 0.9.
 * Events: 9 arrivals, 9 departures and the two window events.
 */
START_TEST(constant_waits_by_hand)
{
    struct queue_scenario scenario = constant_scenario(1.0, 1.5, 1, true);
    scenario.has_wait_threshold = true;
    scenario.wait_threshold = 2 * SIM_SEC;
    struct queue_result result;
    uint64_t events = queue_model_run(&scenario, &scenario.full, 1, &result);

    ck_assert_uint_eq(events, 20);
    ck_assert_uint_eq(result.events, 20);
    ck_assert_uint_eq(result.arrivals, 9);
    ck_assert_uint_eq(result.blocked, 0);
    ck_assert_uint_eq(result.served, 9);
    ck_assert_double_eq_tol(result.wait_mean, 2.0, 1e-9);
    ck_assert_double_eq_tol(result.sojourn_mean, 3.5, 1e-9);
    ck_assert_double_eq_tol(result.wait_exceeds, 4.0 / 9, 1e-12);
    ck_assert_double_eq_tol(result.queue_length_mean, 1.35, 1e-9);
    ck_assert_double_eq_tol(result.utilisation, 0.9, 1e-9);
    ck_assert_double_eq(result.blocking, 0);
}
END_TEST

/* The same with a warm-up of 5 s: jobs 5-9 are measured, waiting 2, 2.5,
 * 3, 3.5 and 4 s (mean 3 s).  Over [5, 10) the queue contains job 5 over
 * [5, 7), job 6 over [6, 8.5), job 7 over [7, 10), job 8 over [8, 10) and
 * job 9 over [9, 10), plus job 4 over [5, 5.5): area 11, mean 2.2. */
START_TEST(constant_warmup_window)
{
    struct queue_scenario scenario = constant_scenario(1.0, 1.5, 1, true);
    scenario.full.warmup = 5 * SIM_SEC;
    scenario.full.duration = 5 * SIM_SEC;
    struct queue_result result;
    queue_model_run(&scenario, &scenario.full, 1, &result);

    ck_assert_uint_eq(result.arrivals, 5);
    ck_assert_uint_eq(result.served, 5);
    ck_assert_double_eq_tol(result.wait_mean, 3.0, 1e-9);
    ck_assert_double_eq_tol(result.sojourn_mean, 4.5, 1e-9);
    ck_assert_double_eq_tol(result.queue_length_mean, 2.2, 1e-9);
    ck_assert_double_eq_tol(result.utilisation, 1.0, 1e-9);
    ck_assert(isnan(result.wait_exceeds) == false);
}
END_TEST

/* Two servers, no waiting room, arrivals every 1 s from 1 s, service
 * 2.5 s: the arrivals at 3, 6 and 9 s find both servers busy, so 3 of the
 * 9 arrivals in [0, 10) are blocked. */
START_TEST(loss_system_blocks)
{
    struct queue_scenario scenario = constant_scenario(1.0, 2.5, 2, false);
    struct queue_result result;
    queue_model_run(&scenario, &scenario.full, 1, &result);

    ck_assert_uint_eq(result.arrivals, 9);
    ck_assert_uint_eq(result.blocked, 3);
    ck_assert_uint_eq(result.served, 6);
    ck_assert_double_eq_tol(result.blocking, 1.0 / 3, 1e-12);
    ck_assert_double_eq(result.wait_mean, 0);
    ck_assert_double_eq(result.queue_length_mean, 0);
}
END_TEST

START_TEST(no_arrival_gives_nan)
{
    struct queue_scenario scenario = constant_scenario(20.0, 1.0, 1, true);
    struct queue_result result;
    uint64_t events = queue_model_run(&scenario, &scenario.full, 1, &result);

    ck_assert_uint_eq(events, 2);
    ck_assert_uint_eq(result.arrivals, 0);
    ck_assert(isnan(result.wait_mean));
    ck_assert(isnan(result.blocking));
    ck_assert_double_eq(result.utilisation, 0);
}
END_TEST

static struct queue_scenario mm1_scenario(void)
{
    struct queue_scenario scenario = {
        .name = "mm1",
        .seed = 1,
        .servers = 1,
        .unlimited = true,
        .model = QUEUE_MODEL_MM1,
        .full = { .warmup = 1000 * SIM_SEC, .duration = 50000 * SIM_SEC,
                  .replications = 2 },
    };
    scenario.arrival = (struct dist){ .kind = DIST_EXPONENTIAL, .a = 1.0 };
    scenario.service = (struct dist){ .kind = DIST_EXPONENTIAL, .a = 0.8 };
    return scenario;
}

START_TEST(same_seed_same_result)
{
    struct queue_scenario scenario = mm1_scenario();
    scenario.full.duration = 2000 * SIM_SEC;
    struct queue_result first;
    struct queue_result second;
    struct queue_result other;
    queue_model_run(&scenario, &scenario.full, 7, &first);
    queue_model_run(&scenario, &scenario.full, 7, &second);
    queue_model_run(&scenario, &scenario.full, 8, &other);

    ck_assert_uint_eq(first.events, second.events);
    ck_assert_uint_eq(first.arrivals, second.arrivals);
    ck_assert_double_eq(first.wait_mean, second.wait_mean);
    ck_assert_double_eq(first.queue_length_mean, second.queue_length_mean);
    ck_assert(first.wait_mean != other.wait_mean);
    ck_assert_uint_ne(first.events, other.events);
    /* A NULL result is allowed, for benchmarks. */
    ck_assert_uint_eq(queue_model_run(&scenario, &scenario.full, 7, NULL), first.events);
}
END_TEST

/* One long M/M/1 replication at rho = 0.8: the measured values lie near
 * theory (Wq = 3.2 s, W = 4 s, Lq = 3.2, utilisation 0.8).  The 10%
 * allowance is two standard errors of the mean wait of a 50,000 s run
 * (0.16 s over 100 seeds).  The check is deterministic at a fixed seed,
 * and `mailsim validate` compares with confidence intervals over
 * replications. */
START_TEST(mm1_near_theory)
{
    struct queue_scenario scenario = mm1_scenario();
    struct queue_result result;
    queue_model_run(&scenario, &scenario.full, 1, &result);

    double wait = queueing_theory_mmc_wait(1, 1.0, 1.25);
    ck_assert_double_eq_tol(result.wait_mean, wait, 0.1 * wait);
    ck_assert_double_eq_tol(result.sojourn_mean, wait + 0.8, 0.1 * (wait + 0.8));
    ck_assert_double_eq_tol(result.queue_length_mean, wait, 0.1 * wait);
    ck_assert_double_eq_tol(result.utilisation, 0.8, 0.02);
    /* Little's law holds per replication within edge effects. */
    double rate = (double)result.arrivals / 50000.0;
    ck_assert_double_eq_tol(result.queue_length_mean, rate * result.wait_mean,
                            0.01 * result.queue_length_mean);
}
END_TEST

Suite *queue_model_suite(void);

Suite *queue_model_suite(void)
{
    Suite *suite = suite_create("queue_model");
    TCase *load_case = tcase_create("load");
    TCase *run_case = tcase_create("run");

    tcase_add_test(load_case, load_mm1_fields);
    tcase_add_test(load_case, load_quick_and_capacity);
    tcase_add_test(load_case, file_kind_detection);
    tcase_add_test(load_case, reject_wrong_service_kind);
    tcase_add_test(load_case, reject_unstable);
    tcase_add_test(load_case, reject_constant_arrivals);
    tcase_add_test(load_case, reject_servers_for_mm1);
    tcase_add_test(load_case, reject_capacity_word);
    tcase_add_test(load_case, reject_finite_capacity_mm1);
    tcase_add_test(load_case, reject_threshold_md1);
    tcase_add_test(load_case, reject_one_replication);
    tcase_add_test(load_case, reject_unknown_key);
    tcase_add_test(load_case, reject_other_kind);
    tcase_add_test(load_case, reject_unknown_model);
    suite_add_tcase(suite, load_case);

    tcase_add_test(run_case, constant_waits_by_hand);
    tcase_add_test(run_case, constant_warmup_window);
    tcase_add_test(run_case, loss_system_blocks);
    tcase_add_test(run_case, no_arrival_gives_nan);
    tcase_add_test(run_case, same_seed_same_result);
    tcase_add_test(run_case, mm1_near_theory);
    suite_add_tcase(suite, run_case);
    return suite;
}

TEST_MAIN(queue_model_suite)
