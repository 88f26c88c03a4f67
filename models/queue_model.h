/*
 * The queue model: one station of models/station.c (a FIFO queue in front
 * of identical servers) fed by the arrival process of a queue scenario,
 * driven by the engine like the email model.  Arrivals and departures are
 * engine events, and each job is offered to the station.  The results are
 * the station's own measurements: per-job waits, time-weighted queue
 * length and busy servers, offered and rejected counts.  Comparing them
 * with queueing theory therefore validates those components.
 *
 * One replication seeds the named streams "arrivals" and "service" from
 * one seed.  Arrivals in [0, warmup) warm the queue up and are not
 * measured.  Arrivals in [warmup, warmup + duration) are measured, after
 * which arrivals stop and the run goes on until every measured job has
 * left, so that each one contributes its whole wait and sojourn time.
 */
#ifndef MAILSIM_QUEUE_MODEL_H
#define MAILSIM_QUEUE_MODEL_H

#include <stdint.h>

#include "models/queue_scenario.h"

/* Measurements of one replication.  Per-job values cover the measured
 * arrivals that the station accepted.  Time averages cover the window
 * [warmup, warmup + duration). */
struct queue_result {
    uint64_t arrivals;           /* measured arrivals */
    uint64_t blocked;            /* measured arrivals the station rejected */
    uint64_t served;             /* measured arrivals accepted and served */
    double wait_mean;            /* seconds in the queue; NAN if none served */
    double sojourn_mean;         /* seconds from arrival to departure */
    double wait_exceeds;         /* fraction waiting more than the threshold */
    double queue_length_mean;    /* time-weighted jobs waiting */
    double utilisation;          /* time-weighted busy servers / servers */
    double blocking;             /* blocked / arrivals; NAN if no arrival */
    uint64_t events;             /* engine events processed */
};

/* Runs one replication of `scenario` with the run length `length` (the
 * scenario's `full` or `quick`) and every random stream seeded from
 * `seed`; `mailsim validate` passes scenario->seed + r for replication r.
 * Fills `result` when it is not NULL and returns the number of engine
 * events processed, for benchmarks. */
uint64_t queue_model_run(const struct queue_scenario *scenario,
                         const struct queue_run_length *length, uint64_t seed,
                         struct queue_result *result);

#endif
