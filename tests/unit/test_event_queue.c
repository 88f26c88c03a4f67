/*
 * Unit tests for the future-event list: ordering, ties, cancellation,
 * stale handles, growth, and a long random run checked against a naive
 * reference (an unsorted array searched for its minimum).
 */
#include <gsl/gsl_rng.h>

#include "sim/event_queue.h"
#include "tests/unit/test_util.h"

/* Placeholder callback: the queue stores it but never calls it. */
static void noop_event(struct engine *engine, void *object, uint64_t argument)
{
}

START_TEST(empty_queue)
{
    struct event_queue *queue = event_queue_new();
    struct event event;

    ck_assert_uint_eq(event_queue_size(queue), 0);
    ck_assert(event_queue_peek_time(queue) == SIM_TIME_MAX);
    ck_assert(!event_queue_pop(queue, &event));
    event_queue_free(queue);
}
END_TEST

START_TEST(pops_in_time_order)
{
    struct event_queue *queue = event_queue_new();
    static const sim_time times[] = { 50, 10, 40, 20, 30, 0, 60 };
    const size_t n = sizeof times / sizeof times[0];

    for (size_t i = 0; i < n; i++)
        event_queue_push(queue, times[i], noop_event, NULL, i);
    ck_assert_uint_eq(event_queue_size(queue), n);
    ck_assert_int_eq(event_queue_peek_time(queue), 0);

    struct event event;
    for (sim_time expected = 0; expected <= 60; expected += 10) {
        ck_assert(event_queue_pop(queue, &event));
        ck_assert_int_eq(event.time, expected);
        ck_assert_int_eq(times[event.argument], expected);
        ck_assert(event.fn == noop_event);
    }
    ck_assert(!event_queue_pop(queue, &event));
    event_queue_free(queue);
}
END_TEST

START_TEST(equal_times_pop_in_push_order)
{
    struct event_queue *queue = event_queue_new();
    const uint64_t n = 5000;

    /* Interleave three times so ties are spread over the whole heap. */
    for (uint64_t i = 0; i < n; i++) {
        sim_time time = (sim_time)(i % 3) * SIM_SEC;
        event_queue_push(queue, time, noop_event, NULL, i);
    }

    struct event event;
    uint64_t previous_sequence = 0;
    for (sim_time time = 0; time < 3 * SIM_SEC; time += SIM_SEC) {
        for (uint64_t i = (uint64_t)(time / SIM_SEC); i < n; i += 3) {
            ck_assert(event_queue_pop(queue, &event));
            ck_assert_int_eq(event.time, time);
            ck_assert_uint_eq(event.argument, i);
            if (i >= 3)
                ck_assert_uint_gt(event.sequence, previous_sequence);
            previous_sequence = event.sequence;
        }
    }
    ck_assert_uint_eq(event_queue_size(queue), 0);
    event_queue_free(queue);
}
END_TEST

START_TEST(payload_round_trip)
{
    struct event_queue *queue = event_queue_new();
    int object;

    event_queue_push(queue, 7, noop_event, &object, UINT64_MAX);

    struct event event;
    ck_assert(event_queue_pop(queue, &event));
    ck_assert_int_eq(event.time, 7);
    ck_assert_uint_eq(event.sequence, 0);
    ck_assert(event.fn == noop_event);
    ck_assert_ptr_eq(event.object, &object);
    ck_assert_uint_eq(event.argument, UINT64_MAX);
    event_queue_free(queue);
}
END_TEST

START_TEST(cancel_removes_event)
{
    struct event_queue *queue = event_queue_new();
    event_handle handles[100];

    for (uint64_t i = 0; i < 100; i++)
        handles[i] = event_queue_push(queue, (sim_time)(100 - i), noop_event,
                                      NULL, i);
    for (size_t i = 0; i < 100; i += 2)
        ck_assert(event_queue_cancel(queue, handles[i]));
    ck_assert_uint_eq(event_queue_size(queue), 50);

    /* Odd arguments remain, and they were pushed with decreasing times. */
    struct event event;
    for (int i = 99; i >= 1; i -= 2) {
        ck_assert(event_queue_pop(queue, &event));
        ck_assert_uint_eq(event.argument, (uint64_t)i);
    }
    ck_assert(!event_queue_pop(queue, &event));
    event_queue_free(queue);
}
END_TEST

START_TEST(cancel_stale_handle_fails)
{
    struct event_queue *queue = event_queue_new();
    struct event event;

    event_handle popped = event_queue_push(queue, 1, noop_event, NULL, 1);
    event_handle cancelled = event_queue_push(queue, 2, noop_event, NULL, 2);
    ck_assert_uint_ne(popped, EVENT_HANDLE_NONE);
    ck_assert_uint_ne(cancelled, EVENT_HANDLE_NONE);

    ck_assert(event_queue_pop(queue, &event));
    ck_assert(!event_queue_cancel(queue, popped));
    ck_assert(event_queue_cancel(queue, cancelled));
    ck_assert(!event_queue_cancel(queue, cancelled));
    ck_assert(!event_queue_cancel(queue, EVENT_HANDLE_NONE));
    /* A slot index far beyond the pool. */
    ck_assert(!event_queue_cancel(queue, (event_handle)0xfffffff0u));
    ck_assert_uint_eq(event_queue_size(queue), 0);
    event_queue_free(queue);
}
END_TEST

START_TEST(reused_slot_keeps_new_event)
{
    struct event_queue *queue = event_queue_new();
    struct event event;

    event_handle first = event_queue_push(queue, 1, noop_event, NULL, 1);
    ck_assert(event_queue_pop(queue, &event));

    /* The freed slot is taken again, and only the generation differs. */
    event_handle second = event_queue_push(queue, 2, noop_event, NULL, 2);
    ck_assert_uint_eq(second & UINT32_MAX, first & UINT32_MAX);
    ck_assert_uint_ne(second, first);

    ck_assert(!event_queue_cancel(queue, first));
    ck_assert_uint_eq(event_queue_size(queue), 1);
    ck_assert(event_queue_pop(queue, &event));
    ck_assert_uint_eq(event.argument, 2);
    event_queue_free(queue);
}
END_TEST

START_TEST(growth_keeps_order)
{
    struct event_queue *queue = event_queue_new();
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 7);
    const uint64_t n = 200000;

    for (uint64_t i = 0; i < n; i++) {
        sim_time time = (sim_time)gsl_rng_uniform_int(rng, 1000000);
        event_queue_push(queue, time, noop_event, NULL, i);
    }
    ck_assert_uint_eq(event_queue_size(queue), n);

    struct event previous;
    struct event event;
    ck_assert(event_queue_pop(queue, &previous));
    for (uint64_t i = 1; i < n; i++) {
        ck_assert(event_queue_pop(queue, &event));
        ck_assert(event.time > previous.time
                  || (event.time == previous.time
                      && event.sequence > previous.sequence));
        previous = event;
    }
    ck_assert_uint_eq(event_queue_size(queue), 0);
    gsl_rng_free(rng);
    event_queue_free(queue);
}
END_TEST

/* One event in the reference model. */
struct reference_event {
    sim_time time;
    uint64_t sequence;
    event_handle handle;
    bool pending;
};

struct reference {
    struct reference_event *events;  /* every event ever pushed */
    size_t count;
    size_t pending;
};

/* Index of the pending event with the least (time, sequence), or
 * reference->count when none is pending. */
static size_t reference_min(const struct reference *reference)
{
    size_t best = reference->count;
    for (size_t i = 0; i < reference->count; i++) {
        const struct reference_event *e = &reference->events[i];
        if (!e->pending)
            continue;
        if (best == reference->count
            || e->time < reference->events[best].time
            || (e->time == reference->events[best].time
                && e->sequence < reference->events[best].sequence))
            best = i;
    }
    return best;
}

static void random_push(struct event_queue *queue, struct reference *reference,
                        gsl_rng *rng)
{
    /* Few distinct times, so many events tie. */
    sim_time time = (sim_time)gsl_rng_uniform_int(rng, 64);
    size_t id = reference->count;
    event_handle handle = event_queue_push(queue, time, noop_event, NULL, id);

    reference->events[id] = (struct reference_event){
        .time = time,
        .sequence = id,
        .handle = handle,
        .pending = true,
    };
    reference->count++;
    reference->pending++;
}

static void random_pop(struct event_queue *queue, struct reference *reference)
{
    struct event event;
    size_t expected = reference_min(reference);

    if (expected == reference->count) {
        ck_assert(!event_queue_pop(queue, &event));
        return;
    }
    ck_assert(event_queue_pop(queue, &event));
    ck_assert_uint_eq(event.argument, expected);
    ck_assert_int_eq(event.time, reference->events[expected].time);
    ck_assert_uint_eq(event.sequence, reference->events[expected].sequence);
    reference->events[expected].pending = false;
    reference->pending--;
}

/* Cancels a random event ever pushed, pending or not. */
static void random_cancel(struct event_queue *queue,
                          struct reference *reference, gsl_rng *rng)
{
    if (reference->count == 0)
        return;

    size_t id = gsl_rng_uniform_int(rng, reference->count);
    struct reference_event *e = &reference->events[id];
    ck_assert(event_queue_cancel(queue, e->handle) == e->pending);
    if (e->pending) {
        e->pending = false;
        reference->pending--;
    }
}

START_TEST(random_ops_match_reference)
{
    const size_t operations = 30000;
    struct event_queue *queue = event_queue_new();
    struct reference reference = {
        .events = calloc(operations, sizeof(struct reference_event)),
    };
    ck_assert_ptr_nonnull(reference.events);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 12345);

    for (size_t op = 0; op < operations; op++) {
        /* 50 % push, 30 % pop, 20 % cancel: the queue grows and shrinks
         * and slots are reused many times. */
        unsigned long choice = gsl_rng_uniform_int(rng, 10);
        if (choice < 5)
            random_push(queue, &reference, rng);
        else if (choice < 8)
            random_pop(queue, &reference);
        else
            random_cancel(queue, &reference, rng);

        ck_assert_uint_eq(event_queue_size(queue), reference.pending);
        size_t min = reference_min(&reference);
        sim_time expected_peek =
            min == reference.count ? SIM_TIME_MAX : reference.events[min].time;
        ck_assert_int_eq(event_queue_peek_time(queue), expected_peek);
    }

    while (reference.pending > 0)
        random_pop(queue, &reference);
    ck_assert_uint_eq(event_queue_size(queue), 0);

    free(reference.events);
    gsl_rng_free(rng);
    event_queue_free(queue);
}
END_TEST

static Suite *event_queue_suite(void)
{
    Suite *suite = suite_create("event_queue");
    TCase *basic = tcase_create("basic");
    tcase_add_test(basic, empty_queue);
    tcase_add_test(basic, pops_in_time_order);
    tcase_add_test(basic, equal_times_pop_in_push_order);
    tcase_add_test(basic, payload_round_trip);
    suite_add_tcase(suite, basic);

    TCase *cancel = tcase_create("cancel");
    tcase_add_test(cancel, cancel_removes_event);
    tcase_add_test(cancel, cancel_stale_handle_fails);
    tcase_add_test(cancel, reused_slot_keeps_new_event);
    suite_add_tcase(suite, cancel);

    TCase *stress = tcase_create("stress");
    tcase_set_timeout(stress, 60);
    tcase_add_test(stress, growth_keeps_order);
    tcase_add_test(stress, random_ops_match_reference);
    suite_add_tcase(suite, stress);
    return suite;
}

TEST_MAIN(event_queue_suite)
