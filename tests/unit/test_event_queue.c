/*
 * Unit tests for the future-event list: ordering, ties, cancellation,
 * stale handles, growth, and long random runs checked against two
 * references: a naive one (an unsorted array searched for its minimum)
 * and, for runs large enough to use the calendar, a binary heap.
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

START_TEST(pop_until_respects_limit)
{
    struct event_queue *queue = event_queue_new();
    struct event event;

    ck_assert(!event_queue_pop_until(queue, SIM_TIME_MAX, &event));
    event_queue_push(queue, 20, noop_event, NULL, 2);
    event_queue_push(queue, 10, noop_event, NULL, 1);

    ck_assert(!event_queue_pop_until(queue, 9, &event));
    ck_assert_uint_eq(event_queue_size(queue), 2);
    ck_assert(event_queue_pop_until(queue, 10, &event));
    ck_assert_uint_eq(event.argument, 1);
    ck_assert(!event_queue_pop_until(queue, 19, &event));
    ck_assert_int_eq(event_queue_peek_time(queue), 20);
    ck_assert(event_queue_pop_until(queue, SIM_TIME_MAX, &event));
    ck_assert_uint_eq(event.argument, 2);
    ck_assert_uint_eq(event_queue_size(queue), 0);
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

/* A second reference for long runs: a binary heap of (time, sequence),
 * with cancelled events skipped when they reach the top. */
struct model_event {
    sim_time time;
    uint64_t sequence;
};

struct model {
    struct model_event *heap;
    size_t size;
    event_handle *handles;   /* by sequence number */
    bool *pending;           /* by sequence number */
    size_t pushed;
    size_t live;
};

static bool model_less(struct model_event a, struct model_event b)
{
    return a.time < b.time || (a.time == b.time && a.sequence < b.sequence);
}

static void model_init(struct model *model, size_t max_pushes)
{
    model->heap = calloc(max_pushes, sizeof *model->heap);
    model->handles = calloc(max_pushes, sizeof *model->handles);
    model->pending = calloc(max_pushes, sizeof *model->pending);
    ck_assert_ptr_nonnull(model->heap);
    ck_assert_ptr_nonnull(model->handles);
    ck_assert_ptr_nonnull(model->pending);
    model->size = 0;
    model->pushed = 0;
    model->live = 0;
}

static void model_fini(struct model *model)
{
    free(model->heap);
    free(model->handles);
    free(model->pending);
}

static void model_remove_top(struct model *model)
{
    struct model_event last = model->heap[--model->size];
    size_t pos = 0;
    for (;;) {
        size_t child = 2 * pos + 1;
        if (child >= model->size)
            break;
        if (child + 1 < model->size
            && model_less(model->heap[child + 1], model->heap[child]))
            child++;
        if (!model_less(model->heap[child], last))
            break;
        model->heap[pos] = model->heap[child];
        pos = child;
    }
    if (model->size > 0)
        model->heap[pos] = last;
}

/* Drops cancelled events from the top; returns the earliest live one. */
static const struct model_event *model_top(struct model *model)
{
    while (model->size > 0 && !model->pending[model->heap[0].sequence])
        model_remove_top(model);
    return model->size > 0 ? &model->heap[0] : NULL;
}

/* Pushes into both the queue and the model. */
static void both_push(struct event_queue *queue, struct model *model, sim_time time)
{
    uint64_t sequence = model->pushed++;
    model->handles[sequence] = event_queue_push(queue, time, noop_event, NULL,
                                                sequence);
    model->pending[sequence] = true;
    model->live++;

    size_t pos = model->size++;
    struct model_event event = { time, sequence };
    while (pos > 0 && model_less(event, model->heap[(pos - 1) / 2])) {
        model->heap[pos] = model->heap[(pos - 1) / 2];
        pos = (pos - 1) / 2;
    }
    model->heap[pos] = event;
}

/* Pops from both and checks they agree; returns the popped time, or -1
 * when both were empty. */
static sim_time both_pop(struct event_queue *queue, struct model *model)
{
    struct event event;
    const struct model_event *expected = model_top(model);
    if (expected == NULL) {
        ck_assert(!event_queue_pop(queue, &event));
        return -1;
    }
    ck_assert(event_queue_pop(queue, &event));
    ck_assert_int_eq(event.time, expected->time);
    ck_assert_uint_eq(event.sequence, expected->sequence);
    ck_assert_uint_eq(event.argument, expected->sequence);
    model->pending[expected->sequence] = false;
    model->live--;
    model_remove_top(model);
    return event.time;
}

/* Cancels an event pushed at some point, pending or not, in both. */
static void both_cancel_any(struct event_queue *queue, struct model *model,
                            gsl_rng *rng)
{
    if (model->pushed == 0)
        return;
    size_t sequence = gsl_rng_uniform_int(rng, model->pushed);
    bool was_pending = model->pending[sequence];
    ck_assert(event_queue_cancel(queue, model->handles[sequence]) == was_pending);
    if (was_pending) {
        model->pending[sequence] = false;
        model->live--;
    }
}

static void check_agree(struct event_queue *queue, struct model *model)
{
    const struct model_event *top = model_top(model);
    ck_assert_uint_eq(event_queue_size(queue), model->live);
    ck_assert_int_eq(event_queue_peek_time(queue),
                     top ? top->time : SIM_TIME_MAX);
}

/* A delay as a simulation draws them: mostly milliseconds to seconds,
 * sometimes zero (ties), sometimes days, rarely the end of time. */
static sim_time mixed_delay(gsl_rng *rng)
{
    unsigned long kind = gsl_rng_uniform_int(rng, 100);
    if (kind < 10)
        return 0;
    if (kind < 60)
        return (sim_time)gsl_rng_uniform_int(rng, 50) * SIM_MS;
    if (kind < 95)
        return (sim_time)(gsl_rng_uniform(rng) * 10.0 * SIM_SEC);
    if (kind < 99)
        return (sim_time)gsl_rng_uniform_int(rng, 5) * SIM_DAY;
    return SIM_TIME_MAX;
}

/* Engine-like use: times never go back.  The queue grows to `peak`,
 * runs steady with cancels, then drains, so every part of the calendar
 * is used: heap mode, bucket loads, replanning and compaction. */
static void run_engine_like(size_t peak, size_t steps, unsigned long seed)
{
    const size_t max_pushes = 2 * peak + 2 * steps;
    struct event_queue *queue = event_queue_new();
    struct model model;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    model_init(&model, max_pushes);

    sim_time now = 0;
    for (size_t i = 0; i < peak; i++)
        both_push(queue, &model, now + mixed_delay(rng));
    check_agree(queue, &model);

    for (size_t step = 0; step < steps; step++) {
        unsigned long choice = gsl_rng_uniform_int(rng, 10);
        if (choice < 6) {
            sim_time popped = both_pop(queue, &model);
            if (popped >= 0)
                now = popped;
            sim_time delay = mixed_delay(rng);
            both_push(queue, &model,
                      delay > SIM_TIME_MAX - now ? SIM_TIME_MAX : now + delay);
        } else if (choice < 8) {
            both_cancel_any(queue, &model, rng);
            sim_time delay = mixed_delay(rng);
            both_push(queue, &model,
                      delay > SIM_TIME_MAX - now ? SIM_TIME_MAX : now + delay);
        } else {
            both_cancel_any(queue, &model, rng);
        }
        if (step % 97 == 0)
            check_agree(queue, &model);
    }
    while (both_pop(queue, &model) >= 0)
        ;
    check_agree(queue, &model);

    model_fini(&model);
    gsl_rng_free(rng);
    event_queue_free(queue);
}

START_TEST(engine_like_small)
{
    run_engine_like(50, 20000, 1);
}
END_TEST

START_TEST(engine_like_large)
{
    run_engine_like(60000, 150000, 2);
}
END_TEST

/* Times in any order over the whole range, including before events
 * already popped and at SIM_TIME_MAX. */
START_TEST(wide_random_times)
{
    const size_t operations = 200000;
    struct event_queue *queue = event_queue_new();
    struct model model;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 3);
    model_init(&model, operations);

    for (size_t op = 0; op < operations; op++) {
        unsigned long choice = gsl_rng_uniform_int(rng, 10);
        if (choice < 6) {
            sim_time time = (sim_time)(gsl_rng_get(rng) >> 1)
                            << gsl_rng_uniform_int(rng, 32);
            if (time < 0 || gsl_rng_uniform_int(rng, 50) == 0)
                time = SIM_TIME_MAX;
            both_push(queue, &model, time);
        } else if (choice < 9) {
            both_pop(queue, &model);
        } else {
            both_cancel_any(queue, &model, rng);
        }
        if (op % 101 == 0)
            check_agree(queue, &model);
    }
    while (both_pop(queue, &model) >= 0)
        ;
    model_fini(&model);
    gsl_rng_free(rng);
    event_queue_free(queue);
}
END_TEST

/* Nearly every event cancelled: the queue compacts and still pops the
 * few that remain in order, and every handle then reports stale. */
START_TEST(mass_cancel_keeps_survivors)
{
    const size_t n = 100000;
    struct event_queue *queue = event_queue_new();
    event_handle *handles = malloc(n * sizeof *handles);
    ck_assert_ptr_nonnull(handles);

    for (size_t i = 0; i < n; i++)
        handles[i] = event_queue_push(queue, (sim_time)(n - i) * SIM_MS,
                                      noop_event, NULL, i);
    for (size_t i = 0; i < n; i++) {
        if (i % 1000 != 7)
            ck_assert(event_queue_cancel(queue, handles[i]));
    }
    ck_assert_uint_eq(event_queue_size(queue), n / 1000);

    struct event event;
    for (size_t i = n - 1000 + 7;; i -= 1000) {
        ck_assert(event_queue_pop(queue, &event));
        ck_assert_uint_eq(event.argument, i);
        if (i < 1000)
            break;
    }
    ck_assert(!event_queue_pop(queue, &event));
    for (size_t i = 0; i < n; i++)
        ck_assert(!event_queue_cancel(queue, handles[i]));
    free(handles);
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
    tcase_add_test(basic, pop_until_respects_limit);
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
    tcase_add_test(stress, engine_like_small);
    tcase_add_test(stress, engine_like_large);
    tcase_add_test(stress, wide_random_times);
    tcase_add_test(stress, mass_cancel_keeps_survivors);
    suite_add_tcase(suite, stress);
    return suite;
}

TEST_MAIN(event_queue_suite)
