/*
 * Future-event list as a 4-ary min-heap with payloads kept apart.
 *
 * The heap array contains only what comparisons and moves need: the key
 * (time, sequence) and the index of the slot that contains the payload.  A
 * 4-ary heap is half as deep as a binary one, and the four children of a
 * node sit next to each other in memory, so a sift-down reads one or two
 * cache lines per level.
 *
 * Invariants:
 *   - heap[i] is never less than heap[(i - 1) / 4] under entry_less.
 *   - For every pending event, slots[heap[i].slot].heap_index == i.
 *   - A free slot is on the free list (linked through next_free) and its
 *     generation has not been handed out yet, so no live handle matches it.
 *     NOTE: generations are 32 bits, so a handle kept across 2^32 reuses
 *     of one slot would match again; handles are meant to be short-lived.
 *
 * Slots and heap entries grow together by doubling: the number of pending
 * events equals the number of slots in use, so both arrays have the same
 * capacity and a push never allocates unless both are full.
 */
#include "sim/event_queue.h"

#include <stdio.h>
#include <stdlib.h>

/* Heap entry: the ordering key next to the slot that contains the payload.
 * Sequence numbers are unique, so (time, sequence) is a total order. */
struct heap_entry {
    sim_time time;
    uint64_t sequence;
    uint32_t slot;
};

/* Payload of one event.  `generation` changes every time the slot is
 * released, which makes handles to earlier occupants stale. */
struct event_slot {
    event_fn fn;
    void *object;
    uint64_t argument;
    union {
        uint32_t heap_index;  /* position in heap[] while pending */
        uint32_t next_free;   /* next slot on the free list while free */
    };
    uint32_t generation;
};

#define SLOT_NONE UINT32_MAX
#define INITIAL_CAPACITY 64u
/* Handles store slot + 1 in 32 bits, and SLOT_NONE ends the free list. */
#define MAX_CAPACITY ((size_t)UINT32_MAX - 1)

struct event_queue {
    struct heap_entry *heap;
    struct event_slot *slots;
    size_t size;            /* pending events, also heap entries in use */
    size_t capacity;        /* entries in heap[] and slots[] */
    uint32_t free_head;     /* first free slot, or SLOT_NONE */
    uint64_t next_sequence;
};

static void event_queue_die(const char *message)
{
    fprintf(stderr, "event_queue: %s\n", message);
    abort();
}

static inline bool entry_less(const struct heap_entry *a,
                              const struct heap_entry *b)
{
    return a->time < b->time
           || (a->time == b->time && a->sequence < b->sequence);
}

/* Links slots [from, to) onto the front of the free list, lowest index
 * first, so slots are taken in index order after each growth. */
static void link_free_slots(struct event_queue *queue, size_t from, size_t to)
{
    for (size_t i = to; i > from; i--) {
        struct event_slot *slot = &queue->slots[i - 1];
        slot->next_free = queue->free_head;
        queue->free_head = (uint32_t)(i - 1);
    }
}

static void event_queue_grow(struct event_queue *queue)
{
    size_t old_capacity = queue->capacity;
    size_t new_capacity = old_capacity ? old_capacity * 2 : INITIAL_CAPACITY;

    if (new_capacity > MAX_CAPACITY) {
        if (old_capacity >= MAX_CAPACITY)
            event_queue_die("too many pending events (limit 2^32 - 2)");
        new_capacity = MAX_CAPACITY;
    }

    struct heap_entry *heap = realloc(queue->heap, new_capacity * sizeof *heap);
    if (heap == NULL)
        event_queue_die("out of memory growing the heap");
    queue->heap = heap;

    struct event_slot *slots =
        realloc(queue->slots, new_capacity * sizeof *slots);
    if (slots == NULL)
        event_queue_die("out of memory growing the slot pool");
    queue->slots = slots;

    for (size_t i = old_capacity; i < new_capacity; i++)
        slots[i].generation = 0;
    link_free_slots(queue, old_capacity, new_capacity);
    queue->capacity = new_capacity;
}

struct event_queue *event_queue_new(void)
{
    struct event_queue *queue = calloc(1, sizeof *queue);
    if (queue == NULL)
        event_queue_die("out of memory allocating the queue");
    queue->free_head = SLOT_NONE;
    event_queue_grow(queue);
    return queue;
}

void event_queue_free(struct event_queue *queue)
{
    if (queue == NULL)
        return;
    free(queue->heap);
    free(queue->slots);
    free(queue);
}

/* Moves `entry` up from the hole at `pos` until its parent is not greater,
 * then stores it.  Entries passed over move down into the hole. */
static inline void sift_up(struct event_queue *queue, size_t pos,
                           struct heap_entry entry)
{
    struct heap_entry *heap = queue->heap;
    struct event_slot *slots = queue->slots;

    while (pos > 0) {
        size_t parent = (pos - 1) >> 2;
        if (!entry_less(&entry, &heap[parent]))
            break;
        heap[pos] = heap[parent];
        slots[heap[pos].slot].heap_index = (uint32_t)pos;
        pos = parent;
    }
    heap[pos] = entry;
    slots[entry.slot].heap_index = (uint32_t)pos;
}

/* Moves `entry` down from the hole at `pos` until no child is less, then
 * stores it.  Only the first `queue->size` entries are part of the heap. */
static inline void sift_down(struct event_queue *queue, size_t pos,
                             struct heap_entry entry)
{
    struct heap_entry *heap = queue->heap;
    struct event_slot *slots = queue->slots;
    size_t size = queue->size;

    for (;;) {
        size_t first = (pos << 2) + 1;
        if (first >= size)
            break;
        size_t last = first + 4 < size ? first + 4 : size;
        size_t best = first;
        for (size_t child = first + 1; child < last; child++) {
            if (entry_less(&heap[child], &heap[best]))
                best = child;
        }
        if (!entry_less(&heap[best], &entry))
            break;
        heap[pos] = heap[best];
        slots[heap[pos].slot].heap_index = (uint32_t)pos;
        pos = best;
    }
    heap[pos] = entry;
    slots[entry.slot].heap_index = (uint32_t)pos;
}

/* Returns a slot to the free list and invalidates its handles. */
static inline void release_slot(struct event_queue *queue, uint32_t index)
{
    struct event_slot *slot = &queue->slots[index];
    slot->generation++;
    slot->next_free = queue->free_head;
    queue->free_head = index;
}

/* Removes the entry at heap position `pos`, which must be < size, by
 * moving the last entry into its place and restoring the heap order. */
static inline void remove_at(struct event_queue *queue, size_t pos)
{
    struct heap_entry removed = queue->heap[pos];
    size_t last = --queue->size;

    if (pos != last) {
        struct heap_entry moved = queue->heap[last];
        if (entry_less(&moved, &removed))
            sift_up(queue, pos, moved);
        else
            sift_down(queue, pos, moved);
    }
    release_slot(queue, removed.slot);
}

event_handle event_queue_push(struct event_queue *queue, sim_time time,
                              event_fn fn, void *object, uint64_t argument)
{
    if (queue->free_head == SLOT_NONE)
        event_queue_grow(queue);

    uint32_t index = queue->free_head;
    struct event_slot *slot = &queue->slots[index];
    queue->free_head = slot->next_free;
    slot->fn = fn;
    slot->object = object;
    slot->argument = argument;

    struct heap_entry entry = {
        .time = time,
        .sequence = queue->next_sequence++,
        .slot = index,
    };
    size_t pos = queue->size++;
    sift_up(queue, pos, entry);

    return ((uint64_t)slot->generation << 32) | ((uint64_t)index + 1);
}

bool event_queue_cancel(struct event_queue *queue, event_handle handle)
{
    uint64_t low = handle & UINT32_MAX;
    if (low == 0 || low > queue->capacity)
        return false;

    uint32_t index = (uint32_t)(low - 1);
    if (queue->slots[index].generation != (uint32_t)(handle >> 32))
        return false;

    remove_at(queue, queue->slots[index].heap_index);
    return true;
}

bool event_queue_pop(struct event_queue *queue, struct event *out)
{
    if (queue->size == 0)
        return false;

    const struct heap_entry *top = &queue->heap[0];
    const struct event_slot *slot = &queue->slots[top->slot];
    out->time = top->time;
    out->sequence = top->sequence;
    out->fn = slot->fn;
    out->object = slot->object;
    out->argument = slot->argument;

    remove_at(queue, 0);
    return true;
}

sim_time event_queue_peek_time(const struct event_queue *queue)
{
    return queue->size ? queue->heap[0].time : SIM_TIME_MAX;
}

size_t event_queue_size(const struct event_queue *queue)
{
    return queue->size;
}
