#include "models/station.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/engine.h"
#include "sim/memory.h"

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
    station->ring = memory_calloc(station->ring_size, sizeof *station->ring);
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
    struct station_entry *ring = memory_calloc(size, sizeof *ring);
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

/* Records the job's wait in the queue, then hands it to a worker. */
static void start_job(struct station *station, void *job, sim_time queued)
{
    sim_time wait = engine_now(station->engine) - queued;
    double seconds = sim_time_to_seconds(wait);

    station->started++;
    station->wait_sum += seconds;
    station->wait_sum_squares += seconds * seconds;
    if (seconds > station->wait_max)
        station->wait_max = seconds;
    station->last_wait = wait;
    station->start(station, job);
}

static void start_or_queue(struct station *station, void *job)
{
    sim_time now = engine_now(station->engine);
    if (station->busy < station->workers) {
        set_busy(station, station->busy + 1);
        start_job(station, job, now);
        return;
    }
    if (station->length == station->ring_size)
        grow_ring(station);
    size_t tail = (station->head + station->length) % station->ring_size;
    station->ring[tail] = (struct station_entry){ .job = job, .queued = now };
    set_length(station, station->length + 1);
}

/* Takes the head of the queue and starts it on a worker already counted
 * as busy. */
static void start_next_queued(struct station *station)
{
    struct station_entry entry = station->ring[station->head];
    station->head = (station->head + 1) % station->ring_size;
    set_length(station, station->length - 1);
    start_job(station, entry.job, entry.queued);
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

void station_resume(struct station *station, void *job)
{
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
    if (station->length == 0 || station->busy > station->workers) {
        set_busy(station, station->busy - 1);
        return;
    }
    start_next_queued(station);
}

void station_set_workers(struct station *station, int workers)
{
    station->workers = workers;
    while (station->busy < station->workers && station->length > 0) {
        set_busy(station, station->busy + 1);
        start_next_queued(station);
    }
}

void station_drain(struct station *station, void (*drop)(void *job))
{
    while (station->length > 0) {
        void *job = station->ring[station->head].job;
        station->head = (station->head + 1) % station->ring_size;
        station->length--;
        drop(job);
    }
}

void station_reset_statistics(struct station *station)
{
    sim_time now = engine_now(station->engine);

    station->offered = 0;
    station->rejected = 0;
    station->completed = 0;
    station->peak_length = station->length;
    station->started = 0;
    station->wait_sum = 0;
    station->wait_sum_squares = 0;
    station->wait_max = 0;
    time_average_init(&station->queue_average, now, (double)station->length);
    time_average_init(&station->busy_average, now, station->busy);
}

double station_mean_wait(const struct station *station)
{
    if (station->started == 0)
        return NAN;
    return station->wait_sum / (double)station->started;
}
