/*
 * Unit tests for stopping a run early: engine_run_bounded, the limits
 * section of a scenario, and run_control_run_until on a world built from
 * scenarios/minimal.yaml without a results database.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "models/run_control.h"
#include "models/scenario.h"
#include "models/world.h"
#include "sim/engine.h"
#include "tests/unit/test_util.h"

static void count_event(struct engine *engine, void *object, uint64_t argument)
{
    (*(int *)object)++;
}

START_TEST(bounded_stops_after_max)
{
    struct engine *engine = engine_new();
    int ran = 0;
    for (int i = 0; i < 10; i++)
        engine_schedule(engine, i * SIM_SEC, count_event, &ran, 0);

    ck_assert_int_eq(engine_run_bounded(engine, SIM_TIME_MAX, 4), ENGINE_STOP_EVENTS);
    ck_assert_int_eq(ran, 4);
    ck_assert_int_eq(engine_now(engine), 3 * SIM_SEC);
    ck_assert_uint_eq(engine_events_processed(engine), 4);
    ck_assert_int_eq(engine_run_bounded(engine, SIM_TIME_MAX, 0), ENGINE_STOP_EVENTS);
    ck_assert_int_eq(ran, 4);
    engine_free(engine);
}
END_TEST

START_TEST(bounded_prefers_other_reasons)
{
    struct engine *engine = engine_new();
    int ran = 0;
    for (int i = 0; i < 4; i++)
        engine_schedule(engine, i * SIM_SEC, count_event, &ran, 0);

    /* When the bound and another reason apply at once, the other wins,
     * so ENGINE_STOP_EVENTS always means that events are left to run. */
    ck_assert_int_eq(engine_run_bounded(engine, SIM_SEC, 2), ENGINE_STOP_TIME);
    ck_assert_int_eq(ran, 2);
    ck_assert_int_eq(engine_run_bounded(engine, SIM_TIME_MAX, 2), ENGINE_STOP_EMPTY);
    ck_assert_int_eq(ran, 4);
    engine_free(engine);
}
END_TEST

/* Runs 50 events in chunks of `chunk` events and returns the engine's
 * fingerprint. */
static uint64_t chunked_fingerprint(uint64_t chunk)
{
    struct engine *engine = engine_new();
    int ran = 0;
    for (int i = 0; i < 50; i++)
        engine_schedule(engine, (i % 7) * SIM_SEC, count_event, &ran, 0);
    while (engine_run_bounded(engine, SIM_TIME_MAX, chunk) == ENGINE_STOP_EVENTS)
        continue;
    ck_assert_int_eq(ran, 50);
    uint64_t fingerprint = engine_fingerprint(engine);
    engine_free(engine);
    return fingerprint;
}

START_TEST(bounded_keeps_event_order)
{
    uint64_t whole = chunked_fingerprint(UINT64_MAX);
    ck_assert_uint_eq(chunked_fingerprint(1), whole);
    ck_assert_uint_eq(chunked_fingerprint(7), whole);
}
END_TEST

/* Writes scenarios/minimal.yaml plus `extra` to a temporary file and loads
 * it, with errors going to `errors`. */
static struct scenario *load_with(const char *extra, char *errors, size_t size)
{
    char path[] = "/tmp/mailsim-test-run-control-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *out = fdopen(fd, "w");
    FILE *in = fopen("scenarios/minimal.yaml", "r");
    ck_assert_ptr_nonnull(in);
    char buffer[4096];
    size_t length;
    while ((length = fread(buffer, 1, sizeof buffer, in)) > 0)
        fwrite(buffer, 1, length, out);
    fputs(extra, out);
    fclose(in);
    fclose(out);

    FILE *error_stream = fmemopen(errors, size, "w");
    struct scenario *scenario = scenario_load_report(path, error_stream);
    fclose(error_stream);
    unlink(path);
    return scenario;
}

START_TEST(limits_absent_are_zero)
{
    char errors[512] = "";
    struct scenario *scenario = load_with("", errors, sizeof errors);
    ck_assert_ptr_nonnull(scenario);
    ck_assert_uint_eq(scenario->limits.max_events, 0);
    ck_assert_uint_eq(scenario->limits.max_in_flight, 0);
    ck_assert_uint_eq(scenario->limits.max_memory, 0);
    scenario_free(scenario);
}
END_TEST

START_TEST(limits_read_with_units)
{
    char errors[512] = "";
    struct scenario *scenario = load_with(
        "limits: {max_events: 1000000, max_in_flight: 500, max_memory: 2GiB}\n",
        errors, sizeof errors);
    ck_assert_msg(scenario != NULL, "errors: %s", errors);
    ck_assert_uint_eq(scenario->limits.max_events, 1000000);
    ck_assert_uint_eq(scenario->limits.max_in_flight, 500);
    ck_assert_uint_eq(scenario->limits.max_memory, UINT64_C(2) << 30);
    scenario_free(scenario);
}
END_TEST

START_TEST(limits_reject_negative)
{
    char errors[512] = "";
    struct scenario *scenario = load_with("limits: {max_in_flight: -5}\n", errors,
                                          sizeof errors);
    ck_assert_ptr_null(scenario);
    ck_assert_ptr_nonnull(strstr(errors, "limits.max_in_flight: found '-5', "
                                         "expected an integer >= 1"));
}
END_TEST

START_TEST(resident_bytes_measured)
{
    uint64_t resident = run_control_resident_bytes();
    ck_assert_uint_gt(resident, 100000);
    ck_assert_uint_lt(resident, UINT64_C(1) << 40);
}
END_TEST

/* Runs scenarios/minimal.yaml with `limits` and returns the world, which
 * the caller frees along with *scenario. */
static struct world *run_minimal(struct run_limits limits, volatile sig_atomic_t *flag,
                                 struct scenario **scenario)
{
    char errors[512] = "";
    *scenario = load_with("", errors, sizeof errors);
    ck_assert_ptr_nonnull(*scenario);
    (*scenario)->limits = limits;
    struct world *world = world_new(*scenario, NULL);
    world->interrupt = flag;
    ck_assert(world_run(world, NULL, NULL));
    return world;
}

START_TEST(world_stops_at_max_events)
{
    struct scenario *scenario;
    struct world *world = run_minimal((struct run_limits){.max_events = 1000}, NULL,
                                      &scenario);
    ck_assert_str_eq(world->stop_reason, RUN_CONTROL_MAX_EVENTS);
    ck_assert_uint_eq(engine_events_processed(world->engine), 1000);
    world_free(world);
    scenario_free(scenario);
}
END_TEST

START_TEST(world_stops_on_interrupt)
{
    static volatile sig_atomic_t flag = SIGINT;
    struct scenario *scenario;
    struct world *world = run_minimal((struct run_limits){0}, &flag, &scenario);
    ck_assert_str_eq(world->stop_reason, RUN_CONTROL_INTERRUPTED);
    ck_assert_uint_eq(engine_events_processed(world->engine), 0);
    world_free(world);
    scenario_free(scenario);
}
END_TEST

START_TEST(world_stops_at_max_in_flight)
{
    struct scenario *scenario;
    struct world *world = run_minimal((struct run_limits){.max_in_flight = 3}, NULL,
                                      &scenario);
    ck_assert_str_eq(world->stop_reason, RUN_CONTROL_MAX_IN_FLIGHT);
    ck_assert_uint_gt(ledger_in_flight(&world->ledger), 3);
    world_free(world);
    scenario_free(scenario);
}
END_TEST

START_TEST(world_runs_to_end_unlimited)
{
    static volatile sig_atomic_t flag = 0;
    struct scenario *scenario;
    struct world *world = run_minimal((struct run_limits){.max_memory = UINT64_C(1) << 40},
                                      &flag, &scenario);
    ck_assert_ptr_null(world->stop_reason);
    ck_assert_uint_eq(ledger_in_flight(&world->ledger), 0);
    world_free(world);
    scenario_free(scenario);
}
END_TEST

Suite *run_control_suite(void);

Suite *run_control_suite(void)
{
    Suite *suite = suite_create("run_control");
    TCase *engine = tcase_create("engine");
    tcase_add_test(engine, bounded_stops_after_max);
    tcase_add_test(engine, bounded_prefers_other_reasons);
    tcase_add_test(engine, bounded_keeps_event_order);
    suite_add_tcase(suite, engine);

    TCase *limits = tcase_create("limits");
    tcase_add_test(limits, limits_absent_are_zero);
    tcase_add_test(limits, limits_read_with_units);
    tcase_add_test(limits, limits_reject_negative);
    tcase_add_test(limits, resident_bytes_measured);
    suite_add_tcase(suite, limits);

    TCase *world = tcase_create("world");
    tcase_add_test(world, world_stops_at_max_events);
    tcase_add_test(world, world_stops_on_interrupt);
    tcase_add_test(world, world_stops_at_max_in_flight);
    tcase_add_test(world, world_runs_to_end_unlimited);
    suite_add_tcase(suite, world);
    return suite;
}

TEST_MAIN(run_control_suite)
