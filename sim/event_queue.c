/*
 * Future-event list: a sorted run and a small heap in front of a calendar
 * of buckets.
 *
 * Layout, by time from now on:
 *   run       the earliest events, sorted, consumed from `run_cursor`;
 *   side      a binary min-heap of events pushed into the time range that
 *             the run already covers (or before it);
 *   buckets   an array of unsorted buckets of equal width (a power of two
 *             in nanoseconds) starting at `start`; buckets before
 *             `next_bucket` have already been moved into the run;
 *   overflow  one unsorted array of the events past the last bucket.
 * Every pop takes the earlier of the run's head and the side heap's top.
 * When both are empty, the next non-empty bucket is sorted into the run
 * (a radix sort on the time, O(n)); when the buckets run out, a new
 * calendar is laid over the overflow, its bucket width chosen from a
 * sample of the overflow's times.  So a push is one append to a bucket
 * and a pop is one step along a sorted array: with 10^6 pending events
 * the work per event touches a few cache lines, where a binary heap
 * touches one per level.  A queue of at most SMALL_MODE_MAX events keeps
 * no calendar at all (small mode): the side array is then a list sorted
 * latest first, so a pop takes its last entry and a push shifts the few
 * entries due before the new one.
 *
 * Entries carry the whole event.  The side heap holds entries; the run
 * holds nodes, each the time and the index of an entry in `current`, the
 * bucket being consumed.  In every array of entries, entries with equal
 * times appear in sequence order, because entries are only appended (with
 * a sequence number above all others), filtered or moved in order.  So in
 * the run, which a stable sort orders by time, the index breaks ties in
 * scheduling order.  Side entries were pushed after the run was sorted,
 * so on equal times the run's head comes first.
 *
 * A handle names a slot, which records the sequence number of its event.
 * An entry is live exactly when its slot still has its sequence number, so
 * cancelling only frees the slot: the stale entry is dropped when it
 * reaches the front, or when stale entries outnumber pending events and
 * the whole queue is compacted.
 *
 * Invariants:
 *   - Entry e is in the run or side heap when e.time < start or its
 *     bucket index (e.time - start) >> shift is below next_bucket; in
 *     bucket i when the index is i < bucket_count; in the overflow
 *     otherwise.  So run and side entries are earlier than bucket
 *     entries, which are earlier than overflow entries.  In small mode
 *     next_bucket is SIZE_MAX, so every entry is in the side list.
 *   - Every run node from run_cursor on indexes a distinct entry of
 *     `current`; other entries of `current` are done.
 *   - The side heap is empty whenever a bucket is sorted into the run.
 *   - When pending > 0, the front (the earlier of run head and side top)
 *     exists and is live, so peek is O(1) and const.
 *   - stale counts the entries whose slot was released by a cancel.
 *   - A free slot has sequence SLOT_FREE and is on the free list.
 */
#include "sim/event_queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One event with its key.  Sequence numbers are unique. */
struct queue_entry {
    sim_time time;
    uint64_t sequence;
    event_fn fn;
    void *object;
    uint64_t argument;
    uint32_t slot;
};

/* Run node: the time and the index of the entry in `current`. */
struct node {
    sim_time time;
    uint32_t index;
};

/* Slot named by a handle: the sequence number of the pending event in
 * it, or SLOT_FREE and the next free slot. */
struct event_slot {
    uint64_t sequence;
    uint32_t next_free;
};

/* A growable array of entries: one bucket, the overflow, `current` or
 * the side heap. */
struct bucket {
    struct queue_entry *entries;
    size_t count;
    size_t capacity;
};

/* A growable array of nodes. */
struct node_array {
    struct node *nodes;
    size_t count;
    size_t capacity;
};

#define SLOT_NONE UINT32_MAX
#define SLOT_FREE UINT64_MAX
#define INITIAL_SLOTS 64u
/* Handles store slot + 1 in 32 bits, and SLOT_NONE ends the free list. */
#define MAX_SLOTS ((size_t)UINT32_MAX - 1)
/* Run nodes index `current` with 32 bits. */
#define MAX_CURRENT ((size_t)UINT32_MAX)

/* Events per bucket that a new calendar aims at, which is the length of
 * the run sorted at each bucket load: about 1/CALENDAR_BUCKETS of the
 * events it covers, within [MIN_BUCKET_TARGET, MAX_BUCKET_TARGET].
 * Chosen with tests/bench/hold.c: many small buckets keep a small queue
 * fast, and at most about 1000 events per bucket keep the sort short
 * while few buckets mean few bucket ends to keep in cache. */
#ifndef CALENDAR_BUCKETS
#define CALENDAR_BUCKETS 64u
#endif
#define MIN_BUCKET_TARGET 32u
#ifndef MAX_BUCKET_TARGET
#define MAX_BUCKET_TARGET 1024u
#endif
/* A new calendar covers about this share (in eighths) of the overflow.
 * The rest stays for the next calendar, so that one far-off event cannot
 * stretch the buckets. */
#ifndef CALENDAR_COVER_EIGHTHS
#define CALENDAR_COVER_EIGHTHS 4u
#endif
/* Small mode ends when the side list grows past SMALL_MODE_MAX entries,
 * and a calendar over fewer than SMALL_MODE_MIN events returns to it.  A
 * push shifts half the list on average, so the list stays short. */
#ifndef SMALL_MODE_MAX
#define SMALL_MODE_MAX 32u
#endif
#define SMALL_MODE_MIN (SMALL_MODE_MAX / 4)
/* A bucket with more than SPLIT_FACTOR times the calendar's target is
 * not sorted but spread over a new calendar. */
#define SPLIT_FACTOR 8u
#define MAX_BUCKETS ((size_t)1 << 22)
/* Overflow entries sampled to estimate the time quantile a calendar
 * covers. */
#define QUANTILE_SAMPLES 63u
/* Compact when stale entries outnumber pending events and exceed this. */
#define COMPACT_MIN 1024u
/* An emptied array is freed rather than kept for reuse when it is at
 * least this large. */
#define SHRINK_BYTES ((size_t)1 << 20)
/* Runs up to this length are sorted by insertion instead of radix. */
#define INSERTION_SORT_MAX 24u

struct event_queue {
    struct node_array run;      /* sorted; nodes before run_cursor are done */
    size_t run_cursor;
    struct node_array scratch;  /* radix sort buffer */
    struct bucket current;      /* entries the run's nodes index */
    struct bucket side;         /* binary min-heap */

    struct event_slot *slots;
    size_t slot_capacity;
    uint32_t free_head;         /* first free slot, or SLOT_NONE */

    struct bucket *buckets;
    size_t bucket_count;        /* buckets of the current calendar */
    size_t bucket_allocated;    /* bucket structs allocated */
    size_t next_bucket;         /* first bucket not yet sorted into the run */
    sim_time start;             /* time at which bucket 0 begins */
    unsigned shift;             /* bucket width is 2^shift ns */
    size_t bucket_target;       /* events per bucket the calendar aims at */
    bool split_allowed;         /* an oversized bucket may be regathered */
    struct bucket overflow;

    size_t pending;             /* live events */
    size_t stale;               /* entries of cancelled events */
    uint64_t next_sequence;
};

static void event_queue_die(const char *message)
{
    fprintf(stderr, "event_queue: %s\n", message);
    abort();
}

static void *grow_array(void *array, size_t *capacity, size_t minimum,
                        size_t element_size, const char *what)
{
    size_t new_capacity = *capacity ? *capacity : 16;
    while (new_capacity < minimum)
        new_capacity *= 2;
    void *grown = realloc(array, new_capacity * element_size);
    if (grown == NULL)
        event_queue_die(what);
    *capacity = new_capacity;
    return grown;
}

static void reserve_nodes(struct node_array *array, size_t count)
{
    if (count > array->capacity)
        array->nodes = grow_array(array->nodes, &array->capacity, count,
                                  sizeof *array->nodes,
                                  "out of memory growing the heap");
}

static inline bool node_less(const struct node *a, const struct node *b)
{
    return a->time < b->time || (a->time == b->time && a->index < b->index);
}

static inline bool entry_live(const struct event_queue *queue,
                              const struct queue_entry *entry)
{
    return queue->slots[entry->slot].sequence == entry->sequence;
}

static inline bool small_mode(const struct event_queue *queue)
{
    return queue->next_bucket == SIZE_MAX;
}

/* --- Slots ------------------------------------------------------------ */

/* Links slots [from, to) onto the front of the free list, lowest index
 * first, so slots are taken in index order after each growth. */
static void link_free_slots(struct event_queue *queue, size_t from, size_t to)
{
    for (size_t i = to; i > from; i--) {
        struct event_slot *slot = &queue->slots[i - 1];
        slot->sequence = SLOT_FREE;
        slot->next_free = queue->free_head;
        queue->free_head = (uint32_t)(i - 1);
    }
}

static void grow_slots(struct event_queue *queue)
{
    size_t old_capacity = queue->slot_capacity;
    size_t new_capacity = old_capacity ? old_capacity * 2 : INITIAL_SLOTS;

    if (new_capacity > MAX_SLOTS) {
        if (old_capacity >= MAX_SLOTS)
            event_queue_die("too many pending events (limit 2^32 - 2)");
        new_capacity = MAX_SLOTS;
    }
    struct event_slot *slots =
        realloc(queue->slots, new_capacity * sizeof *slots);
    if (slots == NULL)
        event_queue_die("out of memory growing the slot pool");
    queue->slots = slots;
    queue->slot_capacity = new_capacity;
    link_free_slots(queue, old_capacity, new_capacity);
}

static inline void release_slot(struct event_queue *queue, uint32_t index)
{
    struct event_slot *slot = &queue->slots[index];
    slot->sequence = SLOT_FREE;
    slot->next_free = queue->free_head;
    queue->free_head = index;
}

/* --- Arrays of entries ------------------------------------------------ */

/* Returns a new place at the end of `bucket`, for the caller to fill. */
static inline struct queue_entry *bucket_extend(struct bucket *bucket)
{
    if (bucket->count == bucket->capacity)
        bucket->entries = grow_array(bucket->entries, &bucket->capacity,
                                     bucket->count + 1, sizeof *bucket->entries,
                                     "out of memory growing a bucket");
    return &bucket->entries[bucket->count++];
}

static inline void bucket_append(struct bucket *bucket, const struct queue_entry *entry)
{
    *bucket_extend(bucket) = *entry;
}

/* Empties a bucket, freeing its array when it is large. */
static void bucket_clear(struct bucket *bucket)
{
    bucket->count = 0;
    if (bucket->capacity * sizeof *bucket->entries >= SHRINK_BYTES) {
        free(bucket->entries);
        bucket->entries = NULL;
        bucket->capacity = 0;
    }
}

static void swap_buckets(struct bucket *a, struct bucket *b)
{
    struct bucket swap = *a;
    *a = *b;
    *b = swap;
}

/* --- Side heap -------------------------------------------------------- */

static inline bool entry_less(const struct queue_entry *a, const struct queue_entry *b)
{
    return a->time < b->time || (a->time == b->time && a->sequence < b->sequence);
}

/* Moves `entry` down from the hole at `pos` until no child is less, then
 * stores it.  Only the first `size` entries are part of the heap. */
static inline void sift_down(struct queue_entry *heap, size_t size, size_t pos,
                             const struct queue_entry *entry)
{
    for (;;) {
        size_t child = (pos << 1) + 1;
        if (child >= size)
            break;
        if (child + 1 < size && entry_less(&heap[child + 1], &heap[child]))
            child++;
        if (!entry_less(&heap[child], entry))
            break;
        heap[pos] = heap[child];
        pos = child;
    }
    heap[pos] = *entry;
}

static void heapify(struct queue_entry *heap, size_t size)
{
    if (size < 2)
        return;
    for (size_t i = (size - 2) / 2 + 1; i > 0; i--) {
        struct queue_entry entry = heap[i - 1];
        sift_down(heap, size, i - 1, &entry);
    }
}

/* Opens a hole for a new entry at `time` in the side heap and returns it
 * for the caller to fill.  The new entry's sequence number is above every
 * other, so on equal times it stays below its parent. */
static inline struct queue_entry *side_hole(struct event_queue *queue, sim_time time)
{
    struct bucket *side = &queue->side;
    size_t pos = side->count;
    bucket_extend(side);

    while (pos > 0) {
        size_t parent = (pos - 1) >> 1;
        if (time >= side->entries[parent].time)
            break;
        side->entries[pos] = side->entries[parent];
        pos = parent;
    }
    return &side->entries[pos];
}

static inline void side_remove_top(struct event_queue *queue)
{
    struct bucket *side = &queue->side;
    size_t last = --side->count;
    if (last > 0) {
        struct queue_entry moved = side->entries[last];
        sift_down(side->entries, last, 0, &moved);
    }
}

static inline size_t front_count(const struct event_queue *queue)
{
    return queue->run.count - queue->run_cursor + queue->side.count;
}

/* Returns the earliest entry, from the run or the side heap, or NULL when
 * both are empty.  Sets `*from_run` when it comes from the run. */
static inline const struct queue_entry *front_entry(const struct event_queue *queue,
                                                    bool *from_run)
{
    *from_run = false;
    if (small_mode(queue))
        return queue->side.count ? &queue->side.entries[queue->side.count - 1] : NULL;

    const struct node *run = queue->run_cursor < queue->run.count
                                 ? &queue->run.nodes[queue->run_cursor]
                                 : NULL;
    const struct queue_entry *side = queue->side.count ? &queue->side.entries[0] : NULL;

    *from_run = run != NULL && (side == NULL || run->time <= side->time);
    if (*from_run)
        return &queue->current.entries[run->index];
    return side;
}

static inline void remove_front(struct event_queue *queue, bool from_run)
{
    if (from_run)
        queue->run_cursor++;
    else if (small_mode(queue))
        queue->side.count--;
    else
        side_remove_top(queue);
}

/* Opens a place for a new entry at `time` in the small-mode list, sorted
 * by decreasing (time, sequence), and returns it for the caller to fill.
 * The new entry's sequence number is above every other, so it goes after
 * every entry with a later time and before all the others. */
static inline struct queue_entry *list_hole(struct event_queue *queue, sim_time time)
{
    struct bucket *side = &queue->side;
    size_t pos = side->count;
    bucket_extend(side);

    while (pos > 0 && side->entries[pos - 1].time <= time) {
        side->entries[pos] = side->entries[pos - 1];
        pos--;
    }
    return &side->entries[pos];
}

/* --- Sorting a bucket into the run ------------------------------------ */

static void insertion_sort(struct node *nodes, size_t count)
{
    for (size_t i = 1; i < count; i++) {
        struct node node = nodes[i];
        size_t j = i;
        while (j > 0 && node_less(&node, &nodes[j - 1])) {
            nodes[j] = nodes[j - 1];
            j--;
        }
        nodes[j] = node;
    }
}

/* Sorts the run by time with a stable LSD radix sort on the offset from
 * `base`, 8 bits per pass, skipping the bytes in which all offsets agree.
 * Stability keeps equal times in index order.  Every offset is below
 * 2^bits. */
static void radix_sort_run(struct event_queue *queue, sim_time base, unsigned bits)
{
    struct node_array *run = &queue->run;
    size_t count = run->count;
    unsigned passes = (bits + 7) / 8;
    size_t histogram[8][256];

    memset(histogram, 0, passes * sizeof histogram[0]);
    for (size_t i = 0; i < count; i++) {
        uint64_t offset = (uint64_t)run->nodes[i].time - (uint64_t)base;
        for (unsigned pass = 0; pass < passes; pass++)
            histogram[pass][(offset >> (8 * pass)) & 0xff]++;
    }

    reserve_nodes(&queue->scratch, count);
    for (unsigned pass = 0; pass < passes; pass++) {
        size_t *counts = histogram[pass];
        uint64_t first_digit = (((uint64_t)run->nodes[0].time - (uint64_t)base)
                                >> (8 * pass)) & 0xff;
        if (counts[first_digit] == count)
            continue;

        size_t total = 0;
        for (unsigned digit = 0; digit < 256; digit++) {
            size_t n = counts[digit];
            counts[digit] = total;
            total += n;
        }
        struct node *to = queue->scratch.nodes;
        for (size_t i = 0; i < count; i++) {
            struct node node = run->nodes[i];
            uint64_t offset = (uint64_t)node.time - (uint64_t)base;
            to[counts[(offset >> (8 * pass)) & 0xff]++] = node;
        }
        struct node_array swap = *run;
        run->nodes = queue->scratch.nodes;
        run->capacity = queue->scratch.capacity;
        queue->scratch.nodes = swap.nodes;
        queue->scratch.capacity = swap.capacity;
    }
}

static void prefetch_slots(const struct event_queue *queue, const struct bucket *bucket)
{
    for (size_t i = 0; i < bucket->count; i++)
        __builtin_prefetch(&queue->slots[bucket->entries[i].slot], 1);
}

/* Makes bucket `index` the new `current` and sorts it into the run.  Run
 * and side heap are empty, so the old `current` has only done entries:
 * its array goes to the bucket for reuse. */
static void load_bucket(struct event_queue *queue, size_t index)
{
    struct bucket *bucket = &queue->buckets[index];
    if (bucket->count > MAX_CURRENT)
        event_queue_die("too many events due at once (limit 2^32 - 1)");
    swap_buckets(&queue->current, bucket);
    bucket_clear(bucket);

    const struct bucket *current = &queue->current;
    struct node_array *run = &queue->run;
    reserve_nodes(run, current->count);
    for (size_t i = 0; i < current->count; i++) {
        run->nodes[i].time = current->entries[i].time;
        run->nodes[i].index = (uint32_t)i;
    }
    run->count = current->count;
    queue->run_cursor = 0;
    if (run->count <= INSERTION_SORT_MAX)
        insertion_sort(run->nodes, run->count);
    else
        radix_sort_run(queue,
                       (sim_time)((uint64_t)queue->start + ((uint64_t)index << queue->shift)),
                       queue->shift);

    /* Every pop writes its event's slot, and slots of events pushed long
     * ago are out of cache.  Fetching the slots of this bucket and the
     * next now overlaps those misses instead of waiting for each in turn. */
    prefetch_slots(queue, current);
    if (queue->next_bucket < queue->bucket_count)
        prefetch_slots(queue, &queue->buckets[queue->next_bucket]);
}

/* --- Calendar --------------------------------------------------------- */

/* Returns a new place for an entry at `time` in the container that the
 * invariants assign it.  The caller fills the place: building the entry
 * there, not on the stack, saves a copy that the processor cannot
 * forward from the stores that built it. */
static inline struct queue_entry *place_for(struct event_queue *queue, sim_time time)
{
    if (small_mode(queue))
        return list_hole(queue, time);
    if (time < queue->start)
        return side_hole(queue, time);
    uint64_t index = ((uint64_t)time - (uint64_t)queue->start) >> queue->shift;
    if (index < queue->next_bucket)
        return side_hole(queue, time);
    if (index < queue->bucket_count)
        return bucket_extend(&queue->buckets[index]);
    return bucket_extend(&queue->overflow);
}

/* Routes every later push to the side list. */
static void enter_small_mode(struct event_queue *queue)
{
    queue->start = INT64_MIN;
    queue->shift = 1;           /* so that no bucket index reaches SIZE_MAX */
    queue->next_bucket = SIZE_MAX;
    queue->bucket_count = 0;
}

static int compare_entries_latest_first(const void *a, const void *b)
{
    const struct queue_entry *x = a;
    const struct queue_entry *y = b;
    return entry_less(x, y) - entry_less(y, x);
}

/* Moves the whole overflow into the side list and enters small mode.  Run
 * and side heap are empty. */
static void load_overflow_as_list(struct event_queue *queue)
{
    swap_buckets(&queue->side, &queue->overflow);
    queue->overflow.count = 0;
    qsort(queue->side.entries, queue->side.count, sizeof *queue->side.entries,
          compare_entries_latest_first);
    enter_small_mode(queue);
}

static int compare_times(const void *a, const void *b)
{
    sim_time x = *(const sim_time *)a;
    sim_time y = *(const sim_time *)b;
    return (x > y) - (x < y);
}

/* Estimates the time below which CALENDAR_COVER_EIGHTHS / 8 of the
 * overflow lies, from evenly spaced samples (deterministic). */
static sim_time overflow_quantile(const struct bucket *overflow)
{
    sim_time samples[QUANTILE_SAMPLES];
    size_t count = overflow->count < QUANTILE_SAMPLES ? overflow->count
                                                      : QUANTILE_SAMPLES;
    size_t stride = overflow->count / count;

    for (size_t i = 0; i < count; i++)
        samples[i] = overflow->entries[i * stride].time;
    qsort(samples, count, sizeof samples[0], compare_times);
    return samples[(count * CALENDAR_COVER_EIGHTHS) / 8];
}

static void reserve_buckets(struct event_queue *queue, size_t count)
{
    if (count <= queue->bucket_allocated)
        return;
    size_t old = queue->bucket_allocated;
    queue->buckets = grow_array(queue->buckets, &queue->bucket_allocated, count,
                                sizeof *queue->buckets,
                                "out of memory growing the calendar");
    memset(queue->buckets + old, 0,
           (queue->bucket_allocated - old) * sizeof *queue->buckets);
}

/* Lays a new calendar over the overflow and moves the entries it covers
 * into their buckets, keeping their order.  A small overflow goes to the
 * side heap instead.  Run, side heap and every bucket are empty. */
static void build_calendar(struct event_queue *queue)
{
    struct bucket *overflow = &queue->overflow;
    if (overflow->count == 0)
        event_queue_die("internal error: pending events not found");
    if (overflow->count < SMALL_MODE_MIN) {
        load_overflow_as_list(queue);
        return;
    }

    sim_time min = overflow->entries[0].time;
    for (size_t i = 1; i < overflow->count; i++) {
        if (overflow->entries[i].time < min)
            min = overflow->entries[i].time;
    }
    uint64_t span = (uint64_t)overflow_quantile(overflow) - (uint64_t)min;
    size_t covered = overflow->count * CALENDAR_COVER_EIGHTHS / 8;
    size_t target = covered / CALENDAR_BUCKETS;
    if (target < MIN_BUCKET_TARGET)
        target = MIN_BUCKET_TARGET;
    if (target > MAX_BUCKET_TARGET)
        target = MAX_BUCKET_TARGET;
    size_t buckets = covered / target;
    if (buckets < 1)
        buckets = 1;
    if (buckets > MAX_BUCKETS)
        buckets = MAX_BUCKETS;
    unsigned shift = 0;
    while (shift < 63 && (span >> shift) >= buckets)
        shift++;

    reserve_buckets(queue, buckets);
    queue->start = min;
    queue->shift = shift;
    queue->bucket_target = target;
    queue->bucket_count = buckets;
    queue->next_bucket = 0;

    size_t kept = 0;
    for (size_t i = 0; i < overflow->count; i++) {
        const struct queue_entry *entry = &overflow->entries[i];
        uint64_t index = ((uint64_t)entry->time - (uint64_t)min) >> shift;
        if (index < buckets)
            bucket_append(&queue->buckets[index], entry);
        else
            overflow->entries[kept++] = *entry;
    }
    overflow->count = kept;
}

static void append_all(struct bucket *to, struct bucket *from)
{
    /* An empty bucket may have no array at all, and memcpy must not be
     * given a null pointer even for zero bytes (C11 7.24.1). */
    if (from->count == 0)
        return;
    if (to->count + from->count > to->capacity)
        to->entries = grow_array(to->entries, &to->capacity,
                                 to->count + from->count, sizeof *to->entries,
                                 "out of memory growing the overflow");
    memcpy(to->entries + to->count, from->entries, from->count * sizeof *from->entries);
    to->count += from->count;
    bucket_clear(from);
}

/* Moves buckets [first, bucket_count) and then the overflow into a new
 * overflow and drops the calendar, for one laid out afresh.  Used when a
 * bucket contains far more events than the calendar aimed at, because the
 * queue grew since the calendar was built.  Equal times never span two
 * of these arrays, so equal times stay in sequence order. */
static void regather(struct event_queue *queue, size_t first)
{
    struct bucket gathered = { 0 };
    for (size_t i = first; i < queue->bucket_count; i++)
        append_all(&gathered, &queue->buckets[i]);
    append_all(&gathered, &queue->overflow);
    swap_buckets(&gathered, &queue->overflow);
    free(gathered.entries);
    queue->start = INT64_MIN;
    queue->shift = 0;
    queue->bucket_count = 0;
    queue->next_bucket = 0;
}

/* Moves every entry (run, side heap, buckets, overflow, in this order of
 * time) into the overflow for a new calendar.  Used on leaving heap mode
 * and when the side heap has grown large, which means the buckets are
 * too wide for how densely events now arrive.  The run's entries go in
 * run order and the side heap's in (time, sequence) order, both before
 * any later entry, so equal times stay in sequence order. */
static void replan(struct event_queue *queue)
{
    struct bucket gathered = { 0 };
    for (size_t i = queue->run_cursor; i < queue->run.count; i++)
        bucket_append(&gathered, &queue->current.entries[queue->run.nodes[i].index]);
    queue->run.count = 0;
    queue->run_cursor = 0;
    if (small_mode(queue)) {
        for (size_t i = queue->side.count; i > 0; i--)
            bucket_append(&gathered, &queue->side.entries[i - 1]);
        queue->side.count = 0;
    }
    while (queue->side.count > 0) {
        bucket_append(&gathered, &queue->side.entries[0]);
        side_remove_top(queue);
    }

    if (!small_mode(queue)) {
        for (size_t i = queue->next_bucket; i < queue->bucket_count; i++)
            append_all(&gathered, &queue->buckets[i]);
    }
    append_all(&gathered, &queue->overflow);
    swap_buckets(&gathered, &queue->overflow);
    free(gathered.entries);
    queue->start = INT64_MIN;
    queue->shift = 0;
    queue->bucket_count = 0;
    queue->next_bucket = 0;
}

/* Fills the empty run from the next non-empty bucket, building a new
 * calendar first when the buckets are used up. */
static void refill(struct event_queue *queue)
{
    while (!small_mode(queue)) {
        if (queue->next_bucket == queue->bucket_count) {
            build_calendar(queue);
            queue->split_allowed = true;
            continue;
        }
        size_t index = queue->next_bucket++;
        size_t count = queue->buckets[index].count;
        if (count > SPLIT_FACTOR * queue->bucket_target && queue->shift > 0
            && queue->split_allowed) {
            /* Once per calendar, so that a bucket of events too close
             * together to be split again cannot make this loop. */
            regather(queue, index);
            build_calendar(queue);
            queue->split_allowed = false;
        } else if (count > 0) {
            load_bucket(queue, index);
            return;
        }
    }
}

/* Empties every container once no event is pending, dropping stale
 * entries, so an idle queue starts afresh in heap mode. */
static void reset_containers(struct event_queue *queue)
{
    queue->run.count = 0;
    queue->run_cursor = 0;
    queue->side.count = 0;
    queue->current.count = 0;
    if (!small_mode(queue)) {
        for (size_t i = queue->next_bucket; i < queue->bucket_count; i++)
            queue->buckets[i].count = 0;
    }
    queue->overflow.count = 0;
    queue->stale = 0;
    enter_small_mode(queue);
}

/* Restores "pending > 0 implies a live front". */
static void settle_slowly(struct event_queue *queue)
{
    for (;;) {
        if (queue->pending == 0) {
            reset_containers(queue);
            return;
        }
        bool from_run;
        const struct queue_entry *front = front_entry(queue, &from_run);
        if (front == NULL) {
            if (small_mode(queue))
                event_queue_die("internal error: pending events not found");
            refill(queue);
            continue;
        }
        if (queue->stale == 0 || entry_live(queue, front))
            return;
        remove_front(queue, from_run);
        queue->stale--;
    }
}

/* The common case of settle_slowly, inline: no stale entry anywhere and
 * a front to pop from. */
static inline void settle(struct event_queue *queue)
{
    if (queue->stale == 0 && queue->pending > 0 && front_count(queue) > 0)
        return;
    settle_slowly(queue);
}

static size_t drop_stale(const struct event_queue *queue,
                         struct queue_entry *entries, size_t count)
{
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        if (entry_live(queue, &entries[i]))
            entries[kept++] = entries[i];
    }
    return kept;
}

/* Keeps the nodes of live entries, in order.  Returns how many. */
static size_t drop_stale_nodes(const struct event_queue *queue,
                               struct node *nodes, size_t count)
{
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        if (entry_live(queue, &queue->current.entries[nodes[i].index]))
            nodes[kept++] = nodes[i];
    }
    return kept;
}

/* Removes every stale entry: O(entries), run when stale entries outnumber
 * pending events, so its cost is spread over the cancels that made them. */
static void compact(struct event_queue *queue)
{
    struct node_array *run = &queue->run;
    size_t run_live = drop_stale_nodes(queue, run->nodes + queue->run_cursor,
                                       run->count - queue->run_cursor);
    if (run_live > 0)
        memmove(run->nodes, run->nodes + queue->run_cursor, run_live * sizeof *run->nodes);
    run->count = run_live;
    queue->run_cursor = 0;
    queue->side.count = drop_stale(queue, queue->side.entries, queue->side.count);
    if (!small_mode(queue))
        heapify(queue->side.entries, queue->side.count);

    if (!small_mode(queue)) {
        for (size_t i = queue->next_bucket; i < queue->bucket_count; i++) {
            struct bucket *bucket = &queue->buckets[i];
            bucket->count = drop_stale(queue, bucket->entries, bucket->count);
        }
    }
    queue->overflow.count =
        drop_stale(queue, queue->overflow.entries, queue->overflow.count);
    queue->stale = 0;
}

/* Side heap size above which a calendar is replanned: large against the
 * buckets and against the whole queue, so that each replan, O(pending),
 * follows at least pending / 4 pushes. */
static inline size_t replan_threshold(const struct event_queue *queue)
{
    size_t quarter = queue->pending / 4;
    size_t minimum = SPLIT_FACTOR * queue->bucket_target;
    return quarter > minimum ? quarter : minimum;
}

/* --- Public functions ------------------------------------------------- */

struct event_queue *event_queue_new(void)
{
    struct event_queue *queue = calloc(1, sizeof *queue);
    if (queue == NULL)
        event_queue_die("out of memory allocating the queue");
    queue->free_head = SLOT_NONE;
    enter_small_mode(queue);
    grow_slots(queue);
    return queue;
}

void event_queue_free(struct event_queue *queue)
{
    if (queue == NULL)
        return;
    for (size_t i = 0; i < queue->bucket_allocated; i++)
        free(queue->buckets[i].entries);
    free(queue->buckets);
    free(queue->overflow.entries);
    free(queue->current.entries);
    free(queue->run.nodes);
    free(queue->side.entries);
    free(queue->scratch.nodes);
    free(queue->slots);
    free(queue);
}

event_handle event_queue_push(struct event_queue *queue, sim_time time,
                              event_fn fn, void *object, uint64_t argument)
{
    if (queue->free_head == SLOT_NONE)
        grow_slots(queue);

    uint32_t index = queue->free_head;
    struct event_slot *slot = &queue->slots[index];
    uint64_t sequence = queue->next_sequence++;
    queue->free_head = slot->next_free;
    slot->sequence = sequence;

    struct queue_entry *entry = place_for(queue, time);
    entry->time = time;
    entry->sequence = sequence;
    entry->fn = fn;
    entry->object = object;
    entry->argument = argument;
    entry->slot = index;
    queue->pending++;

    /* The generation part of the handle is the sequence number's low 32
     * bits, so the handle changes every time the slot is reused. */
    event_handle handle = ((uint64_t)(uint32_t)sequence << 32) | ((uint64_t)index + 1);
    if (small_mode(queue) && queue->side.count <= SMALL_MODE_MAX)
        return handle;
    if (queue->side.count > (small_mode(queue) ? SMALL_MODE_MAX : replan_threshold(queue)))
        replan(queue);
    if (front_count(queue) == 0)
        settle(queue);
    return handle;
}

bool event_queue_cancel(struct event_queue *queue, event_handle handle)
{
    uint64_t low = handle & UINT32_MAX;
    if (low == 0 || low > queue->slot_capacity)
        return false;

    uint32_t index = (uint32_t)(low - 1);
    uint64_t sequence = queue->slots[index].sequence;
    if (sequence == SLOT_FREE || (uint32_t)sequence != (uint32_t)(handle >> 32))
        return false;

    release_slot(queue, index);
    queue->pending--;
    queue->stale++;
    if (queue->stale > queue->pending && queue->stale >= COMPACT_MIN)
        compact(queue);
    settle(queue);
    return true;
}

static inline void copy_out(const struct queue_entry *entry, struct event *out)
{
    out->time = entry->time;
    out->sequence = entry->sequence;
    out->fn = entry->fn;
    out->object = entry->object;
    out->argument = entry->argument;
}

/* The pop of small mode, where every entry is in the side list and the
 * earliest is last.  pending > 0. */
static inline bool pop_from_list(struct event_queue *queue, sim_time until,
                                 struct event *out)
{
    const struct queue_entry *entry = &queue->side.entries[queue->side.count - 1];
    if (entry->time > until)
        return false;
    copy_out(entry, out);
    release_slot(queue, entry->slot);
    queue->side.count--;
    queue->pending--;
    if (queue->stale > 0 || queue->pending == 0)
        settle_slowly(queue);
    return true;
}

bool event_queue_pop(struct event_queue *queue, struct event *out)
{
    return event_queue_pop_until(queue, SIM_TIME_MAX, out);
}

bool event_queue_pop_until(struct event_queue *queue, sim_time until,
                           struct event *out)
{
    if (queue->pending == 0)
        return false;
    if (small_mode(queue))
        return pop_from_list(queue, until, out);

    bool from_run;
    const struct queue_entry *entry = front_entry(queue, &from_run);
    if (entry->time > until)
        return false;
    copy_out(entry, out);
    release_slot(queue, entry->slot);
    remove_front(queue, from_run);
    queue->pending--;
    settle(queue);
    return true;
}

sim_time event_queue_peek_time(const struct event_queue *queue)
{
    if (queue->pending == 0)
        return SIM_TIME_MAX;
    bool from_run;
    return front_entry(queue, &from_run)->time;
}

size_t event_queue_size(const struct event_queue *queue)
{
    return queue->pending;
}
