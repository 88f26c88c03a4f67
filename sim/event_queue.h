/*
 * Future-event list: a 4-ary min-heap ordered by (time, sequence number).
 *
 * The sequence number is taken when an event is pushed, so events with equal
 * times come out in the order they were scheduled.  Heap entries pack the key
 * (time, sequence) next to a 32-bit slot index; the payload (callback, object,
 * argument) lives in a pool of slots that is reused, never one malloc per
 * event.  A handle names a slot and its generation, so cancelling an event
 * that already ran or was already cancelled is a harmless no-op.
 */
#ifndef MAILSIM_EVENT_QUEUE_H
#define MAILSIM_EVENT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/simtime.h"

struct engine;

/* Callback run when an event fires.  `object` and `argument` are the values
 * given when the event was scheduled. */
typedef void (*event_fn)(struct engine *engine, void *object, uint64_t argument);

/* Opaque handle: slot index in the low 32 bits, generation in the high 32.
 * Zero is never a valid handle. */
typedef uint64_t event_handle;
#define EVENT_HANDLE_NONE ((event_handle)0)

struct event {
    sim_time time;
    uint64_t sequence;
    event_fn fn;
    void *object;
    uint64_t argument;
};

struct event_queue;

struct event_queue *event_queue_new(void);
void event_queue_free(struct event_queue *queue);

/* Inserts an event and returns its handle.  O(log n).  Aborts on allocation
 * failure. */
event_handle event_queue_push(struct event_queue *queue, sim_time time,
                              event_fn fn, void *object, uint64_t argument);

/* Removes the event named by `handle`.  Returns false when it is no longer
 * pending (already popped or cancelled).  O(log n). */
bool event_queue_cancel(struct event_queue *queue, event_handle handle);

/* Removes the earliest event into `*out`.  Returns false when empty. */
bool event_queue_pop(struct event_queue *queue, struct event *out);

/* Time of the earliest event, or SIM_TIME_MAX when empty. */
sim_time event_queue_peek_time(const struct event_queue *queue);

size_t event_queue_size(const struct event_queue *queue);

#endif
