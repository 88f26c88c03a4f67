/*
 * The event loop.  The engine owns the clock and the future-event list and
 * keeps a running FNV-1a hash of every event it runs, so two runs can be
 * compared with one number.
 */
#include "sim/engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* FNV-1a, 64-bit variant: offset basis and prime. */
#define FNV64_OFFSET_BASIS UINT64_C(0xcbf29ce484222325)
#define FNV64_PRIME        UINT64_C(0x100000001b3)

struct engine {
    struct event_queue *queue;
    sim_time now;
    uint64_t processed;
    uint64_t fingerprint;
    bool stop_requested;
};

/* Scheduling into the past is a bug in the caller, so it aborts with the
 * sim time instead of reordering events. */
static void engine_die_past(const struct engine *engine, const char *quantity,
                            sim_time value)
{
    fprintf(stderr,
            "engine: invalid %s %" PRId64 " ns at sim time %" PRId64
            " ns (%.9f s): events cannot be scheduled in the past\n",
            quantity, value, engine->now, sim_time_to_seconds(engine->now));
    abort();
}

/* Hashes the 8 bytes of `value`, least significant first, so the result
 * does not depend on the host's byte order.  Written out byte by byte
 * because this runs twice per event: the loop form costs twice the
 * instructions at -O2. */
static inline uint64_t fnv1a_u64(uint64_t hash, uint64_t value)
{
    hash = (hash ^ (value & 0xff)) * FNV64_PRIME;
    hash = (hash ^ ((value >> 8) & 0xff)) * FNV64_PRIME;
    hash = (hash ^ ((value >> 16) & 0xff)) * FNV64_PRIME;
    hash = (hash ^ ((value >> 24) & 0xff)) * FNV64_PRIME;
    hash = (hash ^ ((value >> 32) & 0xff)) * FNV64_PRIME;
    hash = (hash ^ ((value >> 40) & 0xff)) * FNV64_PRIME;
    hash = (hash ^ ((value >> 48) & 0xff)) * FNV64_PRIME;
    hash = (hash ^ (value >> 56)) * FNV64_PRIME;
    return hash;
}

struct engine *engine_new(void)
{
    struct engine *engine = calloc(1, sizeof *engine);
    if (engine == NULL) {
        fprintf(stderr, "engine: out of memory allocating the engine\n");
        abort();
    }
    engine->queue = event_queue_new();
    engine->fingerprint = FNV64_OFFSET_BASIS;
    return engine;
}

void engine_free(struct engine *engine)
{
    if (engine == NULL)
        return;
    event_queue_free(engine->queue);
    free(engine);
}

sim_time engine_now(const struct engine *engine)
{
    return engine->now;
}

/* A delay that would carry the time past SIM_TIME_MAX schedules the event
 * at SIM_TIME_MAX, so it only runs in engine_run(engine, SIM_TIME_MAX). */
event_handle engine_schedule(struct engine *engine, sim_time delay,
                             event_fn fn, void *object, uint64_t argument)
{
    if (delay < 0)
        engine_die_past(engine, "negative delay", delay);

    sim_time time = delay > SIM_TIME_MAX - engine->now
                        ? SIM_TIME_MAX
                        : engine->now + delay;
    return event_queue_push(engine->queue, time, fn, object, argument);
}

event_handle engine_schedule_at(struct engine *engine, sim_time time,
                                event_fn fn, void *object, uint64_t argument)
{
    if (time < engine->now)
        engine_die_past(engine, "event time", time);
    return event_queue_push(engine->queue, time, fn, object, argument);
}

bool engine_cancel(struct engine *engine, event_handle handle)
{
    return event_queue_cancel(engine->queue, handle);
}

/* Why the loop cannot run the next event within `until`: the queue is
 * empty, its next event is later, or else the event budget is spent. */
static enum engine_stop_reason engine_idle_reason(const struct engine *engine,
                                                  sim_time until)
{
    if (event_queue_size(engine->queue) == 0)
        return ENGINE_STOP_EMPTY;
    if (event_queue_peek_time(engine->queue) > until)
        return ENGINE_STOP_TIME;
    return ENGINE_STOP_EVENTS;
}

/* A stop requested while no run is active makes the next engine_run return
 * before running any event.  The request is cleared when engine_run
 * returns because of it. */
enum engine_stop_reason engine_run(struct engine *engine, sim_time until)
{
    return engine_run_bounded(engine, until, UINT64_MAX);
}

enum engine_stop_reason engine_run_bounded(struct engine *engine, sim_time until,
                                           uint64_t max_events)
{
    struct event event;

    for (uint64_t ran = 0;; ran++) {
        if (engine->stop_requested) {
            engine->stop_requested = false;
            return ENGINE_STOP_REQUESTED;
        }
        if (ran == max_events)
            return engine_idle_reason(engine, until);
        if (!event_queue_pop_until(engine->queue, until, &event))
            return engine_idle_reason(engine, until);

        engine->now = event.time;
        engine->processed++;
        engine->fingerprint = fnv1a_u64(engine->fingerprint,
                                        (uint64_t)event.time);
        engine->fingerprint = fnv1a_u64(engine->fingerprint, event.sequence);
        event.fn(engine, event.object, event.argument);
    }
}

void engine_stop(struct engine *engine)
{
    engine->stop_requested = true;
}

uint64_t engine_events_processed(const struct engine *engine)
{
    return engine->processed;
}

size_t engine_pending(const struct engine *engine)
{
    return event_queue_size(engine->queue);
}

uint64_t engine_fingerprint(const struct engine *engine)
{
    return engine->fingerprint;
}
