/*
 * Future-event list: pops events in (time, sequence number) order.
 *
 * The sequence number is taken when an event is pushed, so events with equal
 * times come out in the order they were scheduled.  Inside, the earliest
 * events sit in a sorted run and a small heap, the later ones in a calendar
 * of unsorted buckets that are sorted one at a time as the run drains
 * (sim/event_queue.c explains the layout).  A handle names a slot in a pool
 * and the event in it, so cancelling an event that already ran or was
 * already cancelled is a harmless no-op.
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

/* Opaque handle: slot index + 1 in the low 32 bits, and the low 32 bits
 * of the event's sequence number in the high 32.  Zero is never a valid
 * handle.  NOTE: a handle kept while 2^32 more events are pushed could
 * name a later event that took the same slot, so handles are meant to be
 * short-lived. */
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

/* Inserts an event and returns its handle.  Amortized O(1) when the event
 * is later than the ones being popped, O(log n) at worst.  Aborts on
 * allocation failure. */
event_handle event_queue_push(struct event_queue *queue, sim_time time,
                              event_fn fn, void *object, uint64_t argument);

/* Removes the event named by `handle`.  Returns false when it is no longer
 * pending (already popped or cancelled).  Amortized O(1): the entry is
 * dropped later, and memory of cancelled events is reclaimed once they
 * outnumber the pending ones. */
bool event_queue_cancel(struct event_queue *queue, event_handle handle);

/* Removes the earliest event into `*out`.  Returns false when empty.
 * Amortized O(1) for events that came through the calendar, O(log n) at
 * worst. */
bool event_queue_pop(struct event_queue *queue, struct event *out);

/* Removes the earliest event into `*out` if its time is at most `until`.
 * Returns false, and removes nothing, when the queue is empty or its
 * earliest event is later: the event loop's pop, with the peek inside. */
bool event_queue_pop_until(struct event_queue *queue, sim_time until,
                           struct event *out);

/* Time of the earliest event, or SIM_TIME_MAX when empty. */
sim_time event_queue_peek_time(const struct event_queue *queue);

size_t event_queue_size(const struct event_queue *queue);

#endif
