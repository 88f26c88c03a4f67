/*
 * Unit tests for the event loop: the clock, time limits, engine_stop,
 * cancellation, events scheduled from events, the fingerprint, and the
 * aborts on scheduling into the past.
 */
#include <signal.h>

#include "sim/engine.h"
#include "tests/unit/test_util.h"

#define LOG_CAPACITY 64

/* Call record of the callbacks below: the argument and the clock of each
 * call, in call order. */
struct call_log {
    uint64_t arguments[LOG_CAPACITY];
    sim_time times[LOG_CAPACITY];
    size_t count;
    size_t stop_after;   /* call engine_stop on this call (1-based), or 0 */
};

static void record_call(struct engine *engine, void *object, uint64_t argument)
{
    struct call_log *log = object;
    ck_assert_uint_lt(log->count, LOG_CAPACITY);

    log->arguments[log->count] = argument;
    log->times[log->count] = engine_now(engine);
    log->count++;
    if (log->count == log->stop_after)
        engine_stop(engine);
}

/* Records the call, then schedules itself again one second later until
 * `argument` reaches zero. */
static void countdown(struct engine *engine, void *object, uint64_t argument)
{
    record_call(engine, object, argument);
    if (argument > 0)
        engine_schedule(engine, SIM_SEC, countdown, object, argument - 1);
}

/* Records the call, then schedules record_call with no delay and
 * `argument` + 1000. */
static void record_then_echo(struct engine *engine, void *object,
                             uint64_t argument)
{
    record_call(engine, object, argument);
    engine_schedule(engine, 0, record_call, object, argument + 1000);
}

static void noop_event(struct engine *engine, void *object, uint64_t argument)
{
}

START_TEST(new_engine_is_idle)
{
    struct engine *engine = engine_new();

    ck_assert_int_eq(engine_now(engine), 0);
    ck_assert_uint_eq(engine_events_processed(engine), 0);
    ck_assert_uint_eq(engine_pending(engine), 0);
    ck_assert_int_eq(engine_run(engine, SIM_TIME_MAX), ENGINE_STOP_EMPTY);
    ck_assert_int_eq(engine_now(engine), 0);
    engine_free(engine);
}
END_TEST

START_TEST(clock_jumps_to_event_time)
{
    struct engine *engine = engine_new();
    struct call_log log = { 0 };

    engine_schedule(engine, 3 * SIM_SEC, record_call, &log, 3);
    engine_schedule(engine, 1 * SIM_SEC, record_call, &log, 1);
    engine_schedule_at(engine, 2 * SIM_SEC, record_call, &log, 2);

    ck_assert_int_eq(engine_run(engine, SIM_TIME_MAX), ENGINE_STOP_EMPTY);
    ck_assert_uint_eq(log.count, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(log.arguments[i], i + 1);
        ck_assert_int_eq(log.times[i], (sim_time)(i + 1) * SIM_SEC);
    }
    ck_assert_int_eq(engine_now(engine), 3 * SIM_SEC);
    ck_assert_uint_eq(engine_events_processed(engine), 3);
    engine_free(engine);
}
END_TEST

START_TEST(equal_times_run_in_schedule_order)
{
    struct engine *engine = engine_new();
    struct call_log log = { 0 };

    for (uint64_t i = 0; i < 20; i++)
        engine_schedule(engine, SIM_MS, record_call, &log, i);
    engine_run(engine, SIM_TIME_MAX);

    ck_assert_uint_eq(log.count, 20);
    for (size_t i = 0; i < 20; i++)
        ck_assert_uint_eq(log.arguments[i], i);
    engine_free(engine);
}
END_TEST

START_TEST(run_stops_at_time_limit)
{
    struct engine *engine = engine_new();
    struct call_log log = { 0 };

    for (uint64_t i = 1; i <= 10; i++)
        engine_schedule_at(engine, (sim_time)i * SIM_SEC, record_call, &log, i);

    /* An event exactly at the limit still runs. */
    ck_assert_int_eq(engine_run(engine, 5 * SIM_SEC), ENGINE_STOP_TIME);
    ck_assert_uint_eq(log.count, 5);
    ck_assert_uint_eq(engine_events_processed(engine), 5);
    ck_assert_uint_eq(engine_pending(engine), 5);
    ck_assert_int_eq(engine_now(engine), 5 * SIM_SEC);

    /* Between events the clock stays at the last event run. */
    ck_assert_int_eq(engine_run(engine, 5 * SIM_SEC + SIM_MS),
                     ENGINE_STOP_TIME);
    ck_assert_int_eq(engine_now(engine), 5 * SIM_SEC);

    ck_assert_int_eq(engine_run(engine, SIM_TIME_MAX), ENGINE_STOP_EMPTY);
    ck_assert_uint_eq(log.count, 10);
    ck_assert_uint_eq(engine_pending(engine), 0);
    ck_assert_int_eq(engine_now(engine), 10 * SIM_SEC);
    engine_free(engine);
}
END_TEST

START_TEST(events_schedule_more_events)
{
    struct engine *engine = engine_new();
    struct call_log log = { 0 };

    engine_schedule(engine, 0, countdown, &log, 20);
    ck_assert_int_eq(engine_run(engine, 10 * SIM_SEC + SIM_MS),
                     ENGINE_STOP_TIME);

    /* Calls at 0, 1, ..., 10 s, and the one for 11 s is pending. */
    ck_assert_uint_eq(log.count, 11);
    ck_assert_uint_eq(log.arguments[10], 10);
    ck_assert_int_eq(log.times[10], 10 * SIM_SEC);
    ck_assert_uint_eq(engine_pending(engine), 1);
    engine_free(engine);
}
END_TEST

START_TEST(zero_delay_runs_after_current)
{
    struct engine *engine = engine_new();
    struct call_log log = { 0 };

    engine_schedule(engine, SIM_SEC, record_then_echo, &log, 1);
    engine_schedule(engine, SIM_SEC, record_call, &log, 2);
    ck_assert_int_eq(engine_run(engine, SIM_SEC), ENGINE_STOP_EMPTY);

    /* The echo has the same time but a later sequence than event 2. */
    ck_assert_uint_eq(log.count, 3);
    ck_assert_uint_eq(log.arguments[0], 1);
    ck_assert_uint_eq(log.arguments[1], 2);
    ck_assert_uint_eq(log.arguments[2], 1001);
    ck_assert_int_eq(log.times[2], SIM_SEC);
    engine_free(engine);
}
END_TEST

START_TEST(stop_returns_after_event)
{
    struct engine *engine = engine_new();
    struct call_log log = { .stop_after = 3 };

    for (uint64_t i = 1; i <= 6; i++)
        engine_schedule_at(engine, (sim_time)i * SIM_SEC, record_call, &log, i);

    ck_assert_int_eq(engine_run(engine, SIM_TIME_MAX), ENGINE_STOP_REQUESTED);
    ck_assert_uint_eq(log.count, 3);
    ck_assert_int_eq(engine_now(engine), 3 * SIM_SEC);
    ck_assert_uint_eq(engine_pending(engine), 3);

    /* The request is consumed, so the next run continues. */
    ck_assert_int_eq(engine_run(engine, SIM_TIME_MAX), ENGINE_STOP_EMPTY);
    ck_assert_uint_eq(log.count, 6);
    engine_free(engine);
}
END_TEST

START_TEST(stop_before_run_runs_nothing)
{
    struct engine *engine = engine_new();
    struct call_log log = { 0 };

    engine_schedule(engine, SIM_SEC, record_call, &log, 1);
    engine_stop(engine);
    ck_assert_int_eq(engine_run(engine, SIM_TIME_MAX), ENGINE_STOP_REQUESTED);
    ck_assert_uint_eq(log.count, 0);
    ck_assert_int_eq(engine_run(engine, SIM_TIME_MAX), ENGINE_STOP_EMPTY);
    ck_assert_uint_eq(log.count, 1);
    engine_free(engine);
}
END_TEST

START_TEST(cancelled_event_does_not_run)
{
    struct engine *engine = engine_new();
    struct call_log log = { 0 };

    engine_schedule(engine, 1 * SIM_SEC, record_call, &log, 1);
    event_handle handle = engine_schedule(engine, 2 * SIM_SEC, record_call,
                                          &log, 2);
    engine_schedule(engine, 3 * SIM_SEC, record_call, &log, 3);

    ck_assert(engine_cancel(engine, handle));
    ck_assert(!engine_cancel(engine, handle));
    ck_assert(!engine_cancel(engine, EVENT_HANDLE_NONE));
    ck_assert_uint_eq(engine_pending(engine), 2);

    engine_run(engine, SIM_TIME_MAX);
    ck_assert_uint_eq(log.count, 2);
    ck_assert_uint_eq(log.arguments[0], 1);
    ck_assert_uint_eq(log.arguments[1], 3);
    ck_assert_uint_eq(engine_events_processed(engine), 2);
    engine_free(engine);
}
END_TEST

START_TEST(huge_delay_saturates)
{
    struct engine *engine = engine_new();

    engine_schedule(engine, SIM_SEC, noop_event, NULL, 0);
    engine_run(engine, SIM_TIME_MAX);
    engine_schedule(engine, SIM_TIME_MAX, noop_event, NULL, 0);

    ck_assert_int_eq(engine_run(engine, SIM_DAY), ENGINE_STOP_TIME);
    ck_assert_uint_eq(engine_pending(engine), 1);
    ck_assert_int_eq(engine_run(engine, SIM_TIME_MAX), ENGINE_STOP_EMPTY);
    ck_assert_int_eq(engine_now(engine), SIM_TIME_MAX);
    engine_free(engine);
}
END_TEST

/* Runs events at the given times (in ms) and returns the fingerprint. */
static uint64_t fingerprint_of(const sim_time *times_ms, size_t count)
{
    struct engine *engine = engine_new();
    for (size_t i = 0; i < count; i++)
        engine_schedule_at(engine, times_ms[i] * SIM_MS, noop_event, NULL, i);
    engine_run(engine, SIM_TIME_MAX);

    uint64_t fingerprint = engine_fingerprint(engine);
    engine_free(engine);
    return fingerprint;
}

START_TEST(fingerprint_tracks_schedule)
{
    static const sim_time base[] = { 5, 1, 3, 3, 8, 2 };
    static const sim_time shifted[] = { 5, 1, 3, 4, 8, 2 };
    static const sim_time reordered[] = { 1, 5, 3, 3, 8, 2 };
    const size_t n = sizeof base / sizeof base[0];

    struct engine *fresh = engine_new();
    uint64_t empty = engine_fingerprint(fresh);
    engine_free(fresh);

    uint64_t first = fingerprint_of(base, n);
    ck_assert_uint_eq(first, fingerprint_of(base, n));
    ck_assert_uint_ne(first, empty);
    ck_assert_uint_ne(first, fingerprint_of(shifted, n));
    /* Same times, but scheduled in another order: sequences differ. */
    ck_assert_uint_ne(first, fingerprint_of(reordered, n));
    ck_assert_uint_ne(first, fingerprint_of(base, n - 1));
}
END_TEST

START_TEST(fingerprint_is_fnv1a)
{
    struct engine *engine = engine_new();
    ck_assert_uint_eq(engine_fingerprint(engine),
                      UINT64_C(0xcbf29ce484222325));

    /* One event at time 0 with sequence 0: FNV-1a 64 of 16 zero bytes,
     * computed independently with Python's arithmetic. */
    engine_schedule(engine, 0, noop_event, NULL, 0);
    engine_run(engine, SIM_TIME_MAX);
    ck_assert_uint_eq(engine_fingerprint(engine),
                      UINT64_C(0x88201fb960ff6465));
    engine_free(engine);
}
END_TEST

START_TEST(negative_delay_aborts)
{
    struct engine *engine = engine_new();
    engine_schedule(engine, -1, noop_event, NULL, 0);
}
END_TEST

START_TEST(schedule_in_past_aborts)
{
    struct engine *engine = engine_new();
    engine_schedule(engine, 2 * SIM_SEC, noop_event, NULL, 0);
    engine_run(engine, SIM_TIME_MAX);
    engine_schedule_at(engine, SIM_SEC, noop_event, NULL, 0);
}
END_TEST

static Suite *engine_suite(void)
{
    Suite *suite = suite_create("engine");
    TCase *run = tcase_create("run");
    tcase_add_test(run, new_engine_is_idle);
    tcase_add_test(run, clock_jumps_to_event_time);
    tcase_add_test(run, equal_times_run_in_schedule_order);
    tcase_add_test(run, run_stops_at_time_limit);
    tcase_add_test(run, events_schedule_more_events);
    tcase_add_test(run, zero_delay_runs_after_current);
    tcase_add_test(run, stop_returns_after_event);
    tcase_add_test(run, stop_before_run_runs_nothing);
    tcase_add_test(run, cancelled_event_does_not_run);
    tcase_add_test(run, huge_delay_saturates);
    suite_add_tcase(suite, run);

    TCase *fingerprint = tcase_create("fingerprint");
    tcase_add_test(fingerprint, fingerprint_tracks_schedule);
    tcase_add_test(fingerprint, fingerprint_is_fnv1a);
    suite_add_tcase(suite, fingerprint);

    /* These rely on Check's default fork mode to survive the abort. */
    TCase *invariants = tcase_create("invariants");
    tcase_add_test_raise_signal(invariants, negative_delay_aborts, SIGABRT);
    tcase_add_test_raise_signal(invariants, schedule_in_past_aborts, SIGABRT);
    suite_add_tcase(suite, invariants);
    return suite;
}

TEST_MAIN(engine_suite)
