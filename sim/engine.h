/*
 * The event loop: one simulation clock and one future-event list.
 *
 * engine_run pops events in (time, scheduling order) and calls them; the
 * clock jumps to each event's time.  Nothing under sim/ or models/ reads the
 * wall clock: the only "now" is engine_now().
 */
#ifndef MAILSIM_ENGINE_H
#define MAILSIM_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/event_queue.h"
#include "sim/simtime.h"

struct engine;

/* Why engine_run returned. */
enum engine_stop_reason {
    ENGINE_STOP_EMPTY,      /* no events left */
    ENGINE_STOP_TIME,       /* the next event is later than the time limit */
    ENGINE_STOP_REQUESTED,  /* engine_stop was called from an event */
    ENGINE_STOP_EVENTS,     /* engine_run_bounded ran its maximum of events */
};

struct engine *engine_new(void);
void engine_free(struct engine *engine);

sim_time engine_now(const struct engine *engine);

/* Schedules `fn(engine, object, argument)` at now + delay.  `delay` must not
 * be negative.  Returns a handle for engine_cancel. */
event_handle engine_schedule(struct engine *engine, sim_time delay,
                             event_fn fn, void *object, uint64_t argument);

/* Schedules at an absolute time, which must not be earlier than now. */
event_handle engine_schedule_at(struct engine *engine, sim_time time,
                                event_fn fn, void *object, uint64_t argument);

/* Cancels a pending event.  Returns false if it already ran or was
 * cancelled; EVENT_HANDLE_NONE is accepted and returns false. */
bool engine_cancel(struct engine *engine, event_handle handle);

/* Runs events until none is left, the next one is later than `until`
 * (the clock then stays at the last event run), or engine_stop is called. */
enum engine_stop_reason engine_run(struct engine *engine, sim_time until);

/* Like engine_run, but also returns after running `max_events` events, so
 * that a caller can check something between chunks of a long run without
 * changing the order or times of events. */
enum engine_stop_reason engine_run_bounded(struct engine *engine, sim_time until,
                                           uint64_t max_events);

/* Asks engine_run to return after the current event. */
void engine_stop(struct engine *engine);

uint64_t engine_events_processed(const struct engine *engine);
size_t engine_pending(const struct engine *engine);

/* Order-sensitive hash (FNV-1a, 64-bit) over the time and sequence number
 * of every event processed, for checking that two runs are identical. */
uint64_t engine_fingerprint(const struct engine *engine);

#endif
