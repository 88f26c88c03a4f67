/*
 * A station: a FIFO queue in front of a pool of identical workers, the
 * building block of web servers, SMTP workers and processing workers.
 *
 * station_offer starts a job at once if a worker is idle, queues it if
 * there is room, and otherwise rejects it.  The station calls `start` when
 * a worker takes a job; the model calls station_release when that worker
 * is done, which starts the next queued job.  Queue length and busy
 * workers are tracked as time-weighted averages and sampled for plots.
 * Each queued job carries the time it joined the queue, so the station
 * also measures every job's waiting time, which with the queue's
 * time-weighted average gives Little's law L = lambda * W on the queue.
 */
#ifndef MAILSIM_STATION_H
#define MAILSIM_STATION_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/simtime.h"
#include "sim/stats.h"

struct engine;
struct station;

typedef void (*station_start_fn)(struct station *station, void *job);

/* A queued job and the time it joined the queue. */
struct station_entry {
    void *job;
    sim_time queued;
};

struct station {
    char *name;              /* "alpha.smtp_out", used in results */
    struct engine *engine;
    int workers;
    int busy;
    size_t capacity;         /* queued jobs at most; 0 means no queue */
    struct station_entry *ring;  /* queued jobs, a ring buffer */
    size_t ring_size;
    size_t head;
    size_t length;
    station_start_fn start;
    void *context;           /* for the start callback */

    uint64_t offered;
    uint64_t rejected;
    uint64_t completed;
    size_t peak_length;
    struct time_average queue_average;
    struct time_average busy_average;

    /* Waiting times in the queue of the jobs started since station_init or
     * station_reset_statistics.  A job that found an idle worker waited 0.
     * Jobs removed by station_drain never started and are not counted. */
    uint64_t started;
    double wait_sum;         /* seconds */
    double wait_sum_squares; /* seconds squared */
    double wait_max;         /* seconds */
    sim_time last_wait;      /* of the job being started, for `start` */
};

void station_init(struct station *station, struct engine *engine,
                  const char *name, int workers, size_t capacity,
                  station_start_fn start, void *context);
void station_fini(struct station *station);

/* Starts or queues `job`.  Returns false, and keeps nothing, when every
 * worker is busy and the queue is full. */
bool station_offer(struct station *station, void *job);

/* Starts or queues `job` whatever the queue's capacity: for retries of
 * mail that the queue already accepted once. */
void station_offer_unbounded(struct station *station, void *job);

/* Starts or queues a job the station already took once and handed back
 * (mail that waited for its destination): not counted as offered again. */
void station_resume(struct station *station, void *job);

/* Frees a worker and starts the next queued job, if any. */
void station_release(struct station *station);

/* Changes the number of workers, for faults that take workers away and
 * give them back.  More workers start queued jobs at once; with fewer,
 * jobs in service finish and no new job starts until busy < workers. */
void station_set_workers(struct station *station, int workers);

/* Removes every queued job, calling `drop` on each (at the end of a run). */
void station_drain(struct station *station, void (*drop)(void *job));

/* Restarts every statistic at the current time, for a measurement window
 * that begins after a warm-up.  The counters and waiting-time sums go to
 * 0, and the peak length becomes the current length.  The time-weighted
 * averages restart from the current queue length and busy workers.  Jobs
 * queued before the reset count their whole wait when they start. */
void station_reset_statistics(struct station *station);

/* Mean waiting time in seconds of the jobs started so far; NAN when none
 * has started. */
double station_mean_wait(const struct station *station);

#endif
