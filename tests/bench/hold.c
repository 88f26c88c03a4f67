/*
 * Hold-model benchmark of the future-event list.
 *
 * With N events pending, each step pops the earliest event and schedules a
 * new one at now + Exp(1) seconds, so the queue size stays N.  The same
 * work runs twice in one program: through mailsim's engine (engine_schedule
 * from inside a callback run by engine_run) and through a minimal binary
 * heap written inline below.  Both use one GSL mt19937 generator seeded
 * alike and gsl_ran_exponential, and both order by (time, sequence), so
 * they process the very same events.  Rounds alternate between the two,
 * and each side's best round is reported: other programs on the machine
 * can only slow a round down, so the best round is the least disturbed.
 *
 * Usage: hold [N...]   (default 1000 100000 1000000)
 * Output: one table row per N, then "hold N=... ratio=R" lines that the
 * bench script collects.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "sim/engine.h"

#define ROUNDS 5
#define HOLD_SEED 20240601UL

/* Steps per timed round: under a second on either side on the machine
 * of docs/performance.md, and many times the queue size, so that a round
 * passes through many calendars of the queue. */
static uint64_t steps_for(size_t pending)
{
    return pending >= 1000000 ? 3000000 : 5000000;
}

/* CPU time of this process: other programs running on the machine slow
 * the wall clock of a run but hardly its CPU time. */
static double cpu_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static sim_time draw_delay(gsl_rng *rng)
{
    return sim_time_from_seconds(gsl_ran_exponential(rng, 1.0));
}

/* --- The reference: a plain binary min-heap of (time, sequence). --- */

struct ref_entry {
    sim_time time;
    uint64_t sequence;
};

struct ref_heap {
    struct ref_entry *entries;
    size_t size;
    uint64_t next_sequence;
};

static inline int ref_less(struct ref_entry a, struct ref_entry b)
{
    return a.time < b.time || (a.time == b.time && a.sequence < b.sequence);
}

static inline void ref_push(struct ref_heap *heap, sim_time time)
{
    struct ref_entry entry = { time, heap->next_sequence++ };
    size_t pos = heap->size++;
    while (pos > 0) {
        size_t parent = (pos - 1) / 2;
        if (!ref_less(entry, heap->entries[parent]))
            break;
        heap->entries[pos] = heap->entries[parent];
        pos = parent;
    }
    heap->entries[pos] = entry;
}

static inline struct ref_entry ref_pop(struct ref_heap *heap)
{
    struct ref_entry top = heap->entries[0];
    struct ref_entry last = heap->entries[--heap->size];
    size_t size = heap->size;
    size_t pos = 0;

    for (;;) {
        size_t child = 2 * pos + 1;
        if (child >= size)
            break;
        if (child + 1 < size
            && ref_less(heap->entries[child + 1], heap->entries[child]))
            child++;
        if (!ref_less(heap->entries[child], last))
            break;
        heap->entries[pos] = heap->entries[child];
        pos = child;
    }
    heap->entries[pos] = last;
    return top;
}

/* Runs `steps` hold steps and returns events per CPU second.  `checksum`
 * receives the sum of popped times, to compare with the engine's side. */
static double run_reference(size_t pending, uint64_t steps, uint64_t *checksum)
{
    struct ref_heap heap = { malloc((pending + 1) * sizeof *heap.entries), 0, 0 };
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, HOLD_SEED);
    if (heap.entries == NULL) {
        fprintf(stderr, "hold: out of memory\n");
        exit(1);
    }

    for (size_t i = 0; i < pending; i++)
        ref_push(&heap, draw_delay(rng));

    uint64_t sum = 0;
    double start = cpu_now();
    for (uint64_t i = 0; i < steps; i++) {
        struct ref_entry top = ref_pop(&heap);
        sum += (uint64_t)top.time;
        ref_push(&heap, top.time + draw_delay(rng));
    }
    double elapsed = cpu_now() - start;

    *checksum = sum;
    gsl_rng_free(rng);
    free(heap.entries);
    return (double)steps / elapsed;
}

/* --- mailsim: the same steps through engine_run. --- */

struct hold_state {
    gsl_rng *rng;
    uint64_t remaining;   /* steps left in the timed part */
    uint64_t sum;         /* sum of the times of the timed events */
};

static void hold_event(struct engine *engine, void *object, uint64_t argument)
{
    struct hold_state *state = object;
    state->sum += (uint64_t)engine_now(engine);
    engine_schedule(engine, draw_delay(state->rng), hold_event, state, argument);
    if (--state->remaining == 0)
        engine_stop(engine);
}

static double run_engine(size_t pending, uint64_t steps, uint64_t *checksum)
{
    struct engine *engine = engine_new();
    struct hold_state state = { gsl_rng_alloc(gsl_rng_mt19937), steps, 0 };
    gsl_rng_set(state.rng, HOLD_SEED);

    for (size_t i = 0; i < pending; i++)
        engine_schedule(engine, draw_delay(state.rng), hold_event, &state, i);

    double start = cpu_now();
    engine_run(engine, SIM_TIME_MAX);
    double elapsed = cpu_now() - start;

    *checksum = state.sum;
    gsl_rng_free(state.rng);
    engine_free(engine);
    return (double)steps / elapsed;
}

static double maximum(const double *values, size_t count)
{
    double best = values[0];
    for (size_t i = 1; i < count; i++)
        best = values[i] > best ? values[i] : best;
    return best;
}

/* Returns 0 when both sides processed the same events. */
static int bench_one(size_t pending)
{
    double engine_rates[ROUNDS];
    double reference_rates[ROUNDS];
    uint64_t steps = steps_for(pending);
    uint64_t engine_sum = 0;
    uint64_t reference_sum = 0;

    for (int round = 0; round < ROUNDS; round++) {
        engine_rates[round] = run_engine(pending, steps, &engine_sum);
        reference_rates[round] = run_reference(pending, steps, &reference_sum);
    }
    if (engine_sum != reference_sum) {
        fprintf(stderr, "hold: N=%zu: the engine and the reference popped "
                "different events (time sums %" PRIu64 " and %" PRIu64 ")\n",
                pending, engine_sum, reference_sum);
        return 1;
    }

    double engine_rate = maximum(engine_rates, ROUNDS);
    double reference_rate = maximum(reference_rates, ROUNDS);
    printf("%10zu %12.3g %12.3g %8.3f\n", pending, engine_rate,
           reference_rate, engine_rate / reference_rate);
    return 0;
}

int main(int argc, char **argv)
{
    static const size_t defaults[] = { 1000, 100000, 1000000 };
    size_t sizes[16];
    size_t count = 0;

    for (int i = 1; i < argc && count < 16; i++) {
        char *end;
        unsigned long long value = strtoull(argv[i], &end, 10);
        if (*end != '\0' || value == 0) {
            fprintf(stderr, "hold: invalid pending count '%s': expected a "
                    "positive integer\n", argv[i]);
            return 2;
        }
        sizes[count++] = (size_t)value;
    }
    if (count == 0) {
        memcpy(sizes, defaults, sizeof defaults);
        count = sizeof defaults / sizeof defaults[0];
    }

    printf("hold model: events per CPU second, best of %d rounds\n", ROUNDS);
    printf("%10s %12s %12s %8s\n", "pending", "mailsim", "binary heap", "ratio");
    int status = 0;
    for (size_t i = 0; i < count; i++)
        status |= bench_one(sizes[i]);
    return status;
}
