/*
 * Unit tests for stations: starting, queueing and rejecting offers, FIFO
 * release, unbounded offers, the counters, the time-weighted averages over
 * an engine-driven schedule, ring-buffer growth across the wrap, draining,
 * and the abort on releasing an idle station.
 */
#include <math.h>
#include <signal.h>

#include "models/station.h"
#include "sim/engine.h"
#include "tests/unit/test_util.h"

#define JOB_COUNT 64

/* Jobs are pointers into `jobs`, and the start callback appends each
 * started job's index to `started`. */
struct fixture {
    struct engine *engine;
    struct station station;
    int jobs[JOB_COUNT];
    int started[JOB_COUNT];
    sim_time waits[JOB_COUNT];  /* station->last_wait seen by each start */
    size_t started_count;
};

static void record_start(struct station *station, void *job)
{
    struct fixture *fixture = station->context;
    ck_assert_uint_lt(fixture->started_count, JOB_COUNT);
    fixture->waits[fixture->started_count] = station->last_wait;
    fixture->started[fixture->started_count++] = *(int *)job;
}

static void fixture_init(struct fixture *fixture, int workers, size_t capacity)
{
    *fixture = (struct fixture){0};
    fixture->engine = engine_new();
    for (int i = 0; i < JOB_COUNT; i++)
        fixture->jobs[i] = i;
    station_init(&fixture->station, fixture->engine, "alpha.test", workers,
                 capacity, record_start, fixture);
}

static void fixture_fini(struct fixture *fixture)
{
    station_fini(&fixture->station);
    engine_free(fixture->engine);
}

static bool offer(struct fixture *fixture, int job)
{
    return station_offer(&fixture->station, &fixture->jobs[job]);
}

START_TEST(init_fields)
{
    struct fixture f;
    fixture_init(&f, 2, 3);

    ck_assert_str_eq(f.station.name, "alpha.test");
    ck_assert_int_eq(f.station.workers, 2);
    ck_assert_int_eq(f.station.busy, 0);
    ck_assert_uint_eq(f.station.capacity, 3);
    ck_assert_uint_eq(f.station.length, 0);
    ck_assert_uint_eq(f.station.offered, 0);
    ck_assert_uint_eq(f.station.rejected, 0);
    ck_assert_uint_eq(f.station.completed, 0);
    ck_assert_uint_eq(f.station.peak_length, 0);
    fixture_fini(&f);
}
END_TEST

START_TEST(offer_start_queue_reject)
{
    struct fixture f;
    fixture_init(&f, 2, 3);

    ck_assert(offer(&f, 1));
    ck_assert(offer(&f, 2));
    ck_assert_uint_eq(f.started_count, 2);
    ck_assert_int_eq(f.started[0], 1);
    ck_assert_int_eq(f.started[1], 2);
    ck_assert_int_eq(f.station.busy, 2);
    ck_assert_uint_eq(f.station.length, 0);

    ck_assert(offer(&f, 3));
    ck_assert(offer(&f, 4));
    ck_assert(offer(&f, 5));
    ck_assert_uint_eq(f.started_count, 2);
    ck_assert_uint_eq(f.station.length, 3);
    ck_assert_int_eq(f.station.busy, 2);

    ck_assert(!offer(&f, 6));
    ck_assert_uint_eq(f.started_count, 2);
    ck_assert_uint_eq(f.station.length, 3);
    ck_assert_uint_eq(f.station.offered, 6);
    ck_assert_uint_eq(f.station.rejected, 1);
    ck_assert_uint_eq(f.station.peak_length, 3);
    ck_assert_uint_eq(f.station.completed, 0);
    fixture_fini(&f);
}
END_TEST

START_TEST(release_starts_fifo)
{
    struct fixture f;
    fixture_init(&f, 2, 3);
    for (int job = 1; job <= 6; job++)
        offer(&f, job);

    station_release(&f.station);
    ck_assert_uint_eq(f.started_count, 3);
    ck_assert_int_eq(f.started[2], 3);
    ck_assert_int_eq(f.station.busy, 2);
    ck_assert_uint_eq(f.station.length, 2);
    ck_assert_uint_eq(f.station.completed, 1);

    /* The freed queue slot takes a new offer, behind the older jobs. */
    ck_assert(offer(&f, 7));
    ck_assert_uint_eq(f.station.length, 3);

    for (int i = 0; i < 3; i++)
        station_release(&f.station);
    ck_assert_uint_eq(f.started_count, 6);
    ck_assert_int_eq(f.started[3], 4);
    ck_assert_int_eq(f.started[4], 5);
    ck_assert_int_eq(f.started[5], 7);
    ck_assert_int_eq(f.station.busy, 2);
    ck_assert_uint_eq(f.station.length, 0);

    station_release(&f.station);
    ck_assert_int_eq(f.station.busy, 1);
    station_release(&f.station);
    ck_assert_int_eq(f.station.busy, 0);
    ck_assert_uint_eq(f.started_count, 6);
    ck_assert_uint_eq(f.station.completed, 6);
    ck_assert_uint_eq(f.station.offered, 7);
    ck_assert_uint_eq(f.station.rejected, 1);
    ck_assert_uint_eq(f.station.peak_length, 3);
    fixture_fini(&f);
}
END_TEST

START_TEST(zero_capacity_rejects_when_busy)
{
    struct fixture f;
    fixture_init(&f, 1, 0);

    ck_assert(offer(&f, 1));
    ck_assert(!offer(&f, 2));
    ck_assert_uint_eq(f.station.length, 0);
    ck_assert_uint_eq(f.station.rejected, 1);
    ck_assert_uint_eq(f.started_count, 1);

    station_release(&f.station);
    ck_assert(offer(&f, 3));
    ck_assert_uint_eq(f.started_count, 2);
    ck_assert_int_eq(f.started[1], 3);
    ck_assert_uint_eq(f.station.peak_length, 0);
    fixture_fini(&f);
}
END_TEST

START_TEST(unbounded_exceeds_capacity)
{
    struct fixture f;
    fixture_init(&f, 1, 2);
    offer(&f, 1);
    offer(&f, 2);
    offer(&f, 3);
    ck_assert(!offer(&f, 4));

    station_offer_unbounded(&f.station, &f.jobs[5]);
    station_offer_unbounded(&f.station, &f.jobs[6]);
    ck_assert_uint_eq(f.station.length, 4);
    ck_assert_uint_eq(f.station.peak_length, 4);
    ck_assert_uint_eq(f.station.offered, 6);
    ck_assert_uint_eq(f.station.rejected, 1);

    /* Bounded offers stay rejected while the queue is over capacity. */
    ck_assert(!offer(&f, 7));
    ck_assert_uint_eq(f.station.rejected, 2);

    for (int i = 0; i < 4; i++)
        station_release(&f.station);
    ck_assert_uint_eq(f.started_count, 5);
    ck_assert_int_eq(f.started[1], 2);
    ck_assert_int_eq(f.started[2], 3);
    ck_assert_int_eq(f.started[3], 5);
    ck_assert_int_eq(f.started[4], 6);
    fixture_fini(&f);
}
END_TEST

START_TEST(unbounded_starts_idle_worker)
{
    struct fixture f;
    fixture_init(&f, 1, 0);

    station_offer_unbounded(&f.station, &f.jobs[9]);
    ck_assert_uint_eq(f.started_count, 1);
    ck_assert_int_eq(f.started[0], 9);
    ck_assert_int_eq(f.station.busy, 1);
    ck_assert_uint_eq(f.station.length, 0);
    fixture_fini(&f);
}
END_TEST

/* Offers the jobs in [argument / 100, argument % 100) at the event's
 * time. */
static void offer_event(struct engine *engine, void *object, uint64_t argument)
{
    struct fixture *fixture = object;
    for (uint64_t job = argument / 100; job < argument % 100; job++)
        ck_assert(offer(fixture, (int)job));
}

static void release_event(struct engine *engine, void *object, uint64_t argument)
{
    struct fixture *fixture = object;
    station_release(&fixture->station);
}

static void noop_event(struct engine *engine, void *object, uint64_t argument)
{
}

/*
 * Two workers, and this schedule (seconds):
 *   0  job 0 starts             busy 1, queue 0
 *   1  jobs 1-3 offered         busy 2, queue 2
 *   3  release, job 2 starts    busy 2, queue 1
 *   4  release, job 3 starts    busy 2, queue 0
 *   6  release                  busy 1
 *   8  release                  busy 0
 *  10  end
 * Queue area 2*2 + 1*1 = 5, busy area 1*1 + 2*5 + 1*2 = 13, over 10 s.
 */
START_TEST(time_averages_by_hand)
{
    struct fixture f;
    fixture_init(&f, 2, 5);

    offer(&f, 0);
    engine_schedule(f.engine, 1 * SIM_SEC, offer_event, &f, 1 * 100 + 4);
    engine_schedule(f.engine, 3 * SIM_SEC, release_event, &f, 0);
    engine_schedule(f.engine, 4 * SIM_SEC, release_event, &f, 0);
    engine_schedule(f.engine, 6 * SIM_SEC, release_event, &f, 0);
    engine_schedule(f.engine, 8 * SIM_SEC, release_event, &f, 0);
    engine_schedule(f.engine, 10 * SIM_SEC, noop_event, &f, 0);

    ck_assert_int_eq(engine_run(f.engine, SIM_TIME_MAX), ENGINE_STOP_EMPTY);
    sim_time now = engine_now(f.engine);
    ck_assert_int_eq(now, 10 * SIM_SEC);

    ck_assert_double_eq_tol(time_average_mean(&f.station.queue_average, now),
                            0.5, 1e-12);
    ck_assert_double_eq_tol(time_average_mean(&f.station.busy_average, now),
                            1.3, 1e-12);
    ck_assert_double_eq(f.station.queue_average.maximum, 2);
    ck_assert_double_eq(f.station.busy_average.maximum, 2);
    ck_assert_uint_eq(f.station.completed, 4);
    ck_assert_uint_eq(f.station.peak_length, 2);
    ck_assert_uint_eq(f.started_count, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(f.started[i], i);
    fixture_fini(&f);
}
END_TEST

/* The schedule of time_averages_by_hand: jobs 0 and 1 start at once,
 * job 2 waits from 1 s to 3 s and job 3 from 1 s to 4 s.  The wait sum,
 * 5 s, equals the queue's area, as Little's law requires. */
START_TEST(waits_by_hand)
{
    struct fixture f;
    fixture_init(&f, 2, 5);

    offer(&f, 0);
    engine_schedule(f.engine, 1 * SIM_SEC, offer_event, &f, 1 * 100 + 4);
    engine_schedule(f.engine, 3 * SIM_SEC, release_event, &f, 0);
    engine_schedule(f.engine, 4 * SIM_SEC, release_event, &f, 0);
    engine_schedule(f.engine, 6 * SIM_SEC, release_event, &f, 0);
    engine_schedule(f.engine, 8 * SIM_SEC, release_event, &f, 0);
    engine_schedule(f.engine, 10 * SIM_SEC, noop_event, &f, 0);
    engine_run(f.engine, SIM_TIME_MAX);

    ck_assert_uint_eq(f.started_count, 4);
    ck_assert_int_eq(f.waits[0], 0);
    ck_assert_int_eq(f.waits[1], 0);
    ck_assert_int_eq(f.waits[2], 2 * SIM_SEC);
    ck_assert_int_eq(f.waits[3], 3 * SIM_SEC);
    ck_assert_uint_eq(f.station.started, 4);
    ck_assert_double_eq_tol(f.station.wait_sum, 5.0, 1e-12);
    ck_assert_double_eq_tol(f.station.wait_sum_squares, 13.0, 1e-12);
    ck_assert_double_eq_tol(f.station.wait_max, 3.0, 1e-12);
    ck_assert_double_eq_tol(station_mean_wait(&f.station), 1.25, 1e-12);

    sim_time now = engine_now(f.engine);
    double area = time_average_mean(&f.station.queue_average, now) *
                  sim_time_to_seconds(now - f.station.queue_average.start);
    ck_assert_double_eq_tol(area, f.station.wait_sum, 1e-9);
    fixture_fini(&f);
}
END_TEST

START_TEST(mean_wait_empty_is_nan)
{
    struct fixture f;
    fixture_init(&f, 1, 1);
    ck_assert(isnan(station_mean_wait(&f.station)));
    fixture_fini(&f);
}
END_TEST

/* A wait that crosses a ring growth keeps its enqueue time. */
START_TEST(waits_survive_ring_growth)
{
    struct fixture f;
    fixture_init(&f, 1, JOB_COUNT);

    offer(&f, 0);
    engine_schedule(f.engine, 1 * SIM_SEC, offer_event, &f, 1 * 100 + 21);
    engine_schedule(f.engine, 5 * SIM_SEC, release_event, &f, 0);
    engine_run(f.engine, SIM_TIME_MAX);

    ck_assert_uint_eq(f.station.ring_size, 32);
    ck_assert_uint_eq(f.started_count, 2);
    ck_assert_int_eq(f.started[1], 1);
    ck_assert_int_eq(f.waits[1], 4 * SIM_SEC);
    fixture_fini(&f);
}
END_TEST

/* Reset at 5 s: counters and sums restart, the averages restart from the
 * current queue length and busy workers. */
START_TEST(reset_restarts_statistics)
{
    struct fixture f;
    fixture_init(&f, 1, 1);

    offer(&f, 0);
    engine_schedule(f.engine, 1 * SIM_SEC, offer_event, &f, 1 * 100 + 2);
    engine_schedule(f.engine, 5 * SIM_SEC, noop_event, &f, 0);
    engine_run(f.engine, SIM_TIME_MAX);
    ck_assert(!offer(&f, 2));
    ck_assert_uint_eq(f.station.offered, 3);
    ck_assert_uint_eq(f.station.rejected, 1);

    station_reset_statistics(&f.station);
    ck_assert_uint_eq(f.station.offered, 0);
    ck_assert_uint_eq(f.station.rejected, 0);
    ck_assert_uint_eq(f.station.completed, 0);
    ck_assert_uint_eq(f.station.started, 0);
    ck_assert_double_eq(f.station.wait_sum, 0);
    ck_assert_uint_eq(f.station.peak_length, 1);
    ck_assert_int_eq(f.station.queue_average.start, 5 * SIM_SEC);

    /* Job 1, queued at 1 s, starts at 7 s and counts its whole wait. */
    engine_schedule(f.engine, 2 * SIM_SEC, release_event, &f, 0);
    engine_schedule(f.engine, 5 * SIM_SEC, noop_event, &f, 0);
    engine_run(f.engine, SIM_TIME_MAX);
    ck_assert_uint_eq(f.station.started, 1);
    ck_assert_double_eq_tol(f.station.wait_sum, 6.0, 1e-12);
    sim_time now = engine_now(f.engine);
    ck_assert_int_eq(now, 10 * SIM_SEC);
    /* Queue length 1 over [5, 7), 0 over [7, 10): 2 / 5. */
    ck_assert_double_eq_tol(time_average_mean(&f.station.queue_average, now),
                            0.4, 1e-12);
    ck_assert_double_eq_tol(time_average_mean(&f.station.busy_average, now),
                            1.0, 1e-12);
    fixture_fini(&f);
}
END_TEST

/* A station created mid-run averages from its creation time. */
START_TEST(averages_start_at_init)
{
    struct engine *engine = engine_new();
    engine_schedule(engine, 4 * SIM_SEC, noop_event, NULL, 0);
    engine_run(engine, SIM_TIME_MAX);

    struct fixture f = {0};
    f.engine = engine;
    for (int i = 0; i < JOB_COUNT; i++)
        f.jobs[i] = i;
    station_init(&f.station, engine, "late", 1, 4, record_start, &f);
    offer(&f, 0);
    offer(&f, 1);
    engine_schedule(engine, 2 * SIM_SEC, release_event, &f, 0);
    engine_schedule(engine, 4 * SIM_SEC, noop_event, NULL, 0);
    engine_run(engine, SIM_TIME_MAX);

    /* Queue length 1 over [4, 6) and 0 over [6, 8), busy 1 throughout. */
    sim_time now = engine_now(engine);
    ck_assert_int_eq(now, 8 * SIM_SEC);
    ck_assert_int_eq(f.station.queue_average.start, 4 * SIM_SEC);
    ck_assert_double_eq_tol(time_average_mean(&f.station.queue_average, now),
                            0.5, 1e-12);
    ck_assert_double_eq_tol(time_average_mean(&f.station.busy_average, now),
                            1.0, 1e-12);
    fixture_fini(&f);
}
END_TEST

/* One worker is busy.  Queueing 10 jobs and releasing 5 moves the head to
 * 5, so 12 more wrap around the 16 slots and the 17th forces growth. */
START_TEST(ring_grows_across_wrap)
{
    struct fixture f;
    fixture_init(&f, 1, JOB_COUNT);
    int next_offer = 0;
    int next_start = 0;

    ck_assert(offer(&f, next_offer++));
    for (int i = 0; i < 10; i++)
        ck_assert(offer(&f, next_offer++));
    for (int i = 0; i < 5; i++)
        station_release(&f.station);
    ck_assert_uint_eq(f.station.head, 5);
    ck_assert_uint_eq(f.station.ring_size, 16);

    for (int i = 0; i < 12; i++)
        ck_assert(offer(&f, next_offer++));
    ck_assert_uint_eq(f.station.length, 17);
    ck_assert_uint_eq(f.station.ring_size, 32);
    ck_assert_uint_eq(f.station.peak_length, 17);

    /* One release and one offer per round keep 17 queued while the head
     * moves on, so the contents wrap around the 32 slots as well. */
    for (int round = 0; round < 20; round++) {
        station_release(&f.station);
        ck_assert(offer(&f, next_offer++));
    }
    ck_assert_uint_eq(f.station.length, 17);
    ck_assert_uint_eq(f.station.ring_size, 32);
    ck_assert_uint_gt(f.station.head + f.station.length, f.station.ring_size);

    while (f.station.length > 0)
        station_release(&f.station);
    station_release(&f.station);

    ck_assert_int_eq(next_offer, 43);
    ck_assert_uint_eq(f.started_count, 43);
    for (size_t i = 0; i < f.started_count; i++)
        ck_assert_int_eq(f.started[i], next_start++);
    ck_assert_int_eq(f.station.busy, 0);
    ck_assert_uint_eq(f.station.completed, 43);
    fixture_fini(&f);
}
END_TEST

static int dropped[JOB_COUNT];
static size_t dropped_count;

static void record_drop(void *job)
{
    ck_assert_uint_lt(dropped_count, JOB_COUNT);
    dropped[dropped_count++] = *(int *)job;
}

START_TEST(drain_drops_fifo)
{
    struct fixture f;
    fixture_init(&f, 1, 30);
    dropped_count = 0;

    for (int job = 0; job < 25; job++)
        offer(&f, job);
    station_release(&f.station);
    station_release(&f.station);
    station_drain(&f.station, record_drop);

    ck_assert_uint_eq(f.station.length, 0);
    ck_assert_uint_eq(dropped_count, 22);
    for (size_t i = 0; i < dropped_count; i++)
        ck_assert_int_eq(dropped[i], (int)i + 3);
    ck_assert_int_eq(f.station.busy, 1);
    fixture_fini(&f);
}
END_TEST

START_TEST(release_idle_aborts)
{
    struct fixture f;
    fixture_init(&f, 2, 3);
    offer(&f, 1);
    station_release(&f.station);

    station_release(&f.station);
}
END_TEST

Suite *station_suite(void);

Suite *station_suite(void)
{
    Suite *suite = suite_create("station");
    TCase *queue_case = tcase_create("queue");
    TCase *average_case = tcase_create("average");

    tcase_add_test(queue_case, init_fields);
    tcase_add_test(queue_case, offer_start_queue_reject);
    tcase_add_test(queue_case, release_starts_fifo);
    tcase_add_test(queue_case, zero_capacity_rejects_when_busy);
    tcase_add_test(queue_case, unbounded_exceeds_capacity);
    tcase_add_test(queue_case, unbounded_starts_idle_worker);
    tcase_add_test(queue_case, ring_grows_across_wrap);
    tcase_add_test(queue_case, drain_drops_fifo);
    tcase_add_test_raise_signal(queue_case, release_idle_aborts, SIGABRT);
    suite_add_tcase(suite, queue_case);

    tcase_add_test(average_case, time_averages_by_hand);
    tcase_add_test(average_case, averages_start_at_init);
    tcase_add_test(average_case, waits_by_hand);
    tcase_add_test(average_case, mean_wait_empty_is_nan);
    tcase_add_test(average_case, waits_survive_ring_growth);
    tcase_add_test(average_case, reset_restarts_statistics);
    suite_add_tcase(suite, average_case);
    return suite;
}

TEST_MAIN(station_suite)
