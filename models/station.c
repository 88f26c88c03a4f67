#include "models/station.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/engine.h"

static void *checked_calloc(size_t count, size_t size)
{
    void *memory = calloc(count ? count : 1, size);
    if (!memory) {
        fprintf(stderr, "mailsim: out of memory\n");
        abort();
    }
    return memory;
}

void station_init(struct station *station, struct engine *engine,
                  const char *name, int workers, size_t capacity,
                  station_start_fn start, void *context)
{
    *station = (struct station){0};
    station->name = strdup(name);
    station->engine = engine;
    station->workers = workers;
    station->capacity = capacity;
    station->ring_size = 16;
    station->ring = checked_calloc(station->ring_size, sizeof *station->ring);
    station->start = start;
    station->context = context;
    time_average_init(&station->queue_average, engine_now(engine), 0);
    time_average_init(&station->busy_average, engine_now(engine), 0);
}

void station_fini(struct station *station)
{
    free(station->name);
    free(station->ring);
    *station = (struct station){0};
}

/* Doubles the ring, unwrapping its contents to the front. */
static void grow_ring(struct station *station)
{
    size_t size = station->ring_size * 2;
    void **ring = checked_calloc(size, sizeof *ring);
    for (size_t i = 0; i < station->length; i++)
        ring[i] = station->ring[(station->head + i) % station->ring_size];
    free(station->ring);
    station->ring = ring;
    station->ring_size = size;
    station->head = 0;
}

static void set_busy(struct station *station, int busy)
{
    station->busy = busy;
    time_average_set(&station->busy_average, engine_now(station->engine), busy);
}

static void set_length(struct station *station, size_t length)
{
    station->length = length;
    if (length > station->peak_length)
        station->peak_length = length;
    time_average_set(&station->queue_average, engine_now(station->engine),
                     (double)length);
}

static void start_or_queue(struct station *station, void *job)
{
    if (station->busy < station->workers) {
        set_busy(station, station->busy + 1);
        station->start(station, job);
        return;
    }
    if (station->length == station->ring_size)
        grow_ring(station);
    station->ring[(station->head + station->length) % station->ring_size] = job;
    set_length(station, station->length + 1);
}

bool station_offer(struct station *station, void *job)
{
    station->offered++;
    if (station->busy >= station->workers && station->length >= station->capacity) {
        station->rejected++;
        return false;
    }
    start_or_queue(station, job);
    return true;
}

void station_offer_unbounded(struct station *station, void *job)
{
    station->offered++;
    start_or_queue(station, job);
}

void station_release(struct station *station)
{
    if (station->busy <= 0) {
        fprintf(stderr, "mailsim: internal error: %s released with no busy worker\n",
                station->name);
        abort();
    }
    station->completed++;
    if (station->length == 0) {
        set_busy(station, station->busy - 1);
        return;
    }
    void *job = station->ring[station->head];
    station->head = (station->head + 1) % station->ring_size;
    set_length(station, station->length - 1);
    station->start(station, job);
}

void station_drain(struct station *station, void (*drop)(void *job))
{
    while (station->length > 0) {
        void *job = station->ring[station->head];
        station->head = (station->head + 1) % station->ring_size;
        station->length--;
        drop(job);
    }
}
