/*
 * Queue scenarios: one station (a FIFO queue in front of identical
 * servers) fed by a renewal arrival process, run for independent
 * replications and compared with a closed form of queueing theory.  The
 * file format (YAML with `kind: queue`, as in scenarios/validation) is
 * described in docs/validation.md.
 *
 * Units after loading: times are sim_time (nanoseconds) and the values of
 * the two distributions are seconds.
 */
#ifndef MAILSIM_QUEUE_SCENARIO_H
#define MAILSIM_QUEUE_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/dist.h"
#include "sim/simtime.h"

/* The closed form a scenario is compared with.  Every model has Poisson
 * arrivals (exponential inter-arrival times). */
enum queue_model_kind {
    QUEUE_MODEL_MM1,        /* exponential service, 1 server, no bound */
    QUEUE_MODEL_MMC,        /* exponential service, c servers, no bound */
    QUEUE_MODEL_MD1,        /* constant service, 1 server, no bound */
    QUEUE_MODEL_MG1,        /* any service with finite E[S^2], 1 server */
    QUEUE_MODEL_ERLANG_B,   /* any service, c servers, no waiting room */
    QUEUE_MODEL_MM1K,       /* exponential service, 1 server, finite queue */
    QUEUE_MODEL_COUNT
};

/* How long one replication runs: arrivals during [0, warmup) are not
 * measured, arrivals during [warmup, warmup + duration) are. */
struct queue_run_length {
    sim_time warmup;
    sim_time duration;
    int replications;       /* at least 2, for a confidence interval */
};

struct queue_scenario {
    char *name;
    char *path;             /* file it was loaded from */
    uint64_t seed;          /* replication r uses seed + r */
    struct dist arrival;    /* seconds between arrivals */
    struct dist service;    /* seconds per job */
    int servers;
    bool unlimited;         /* no bound on the queue */
    size_t capacity;        /* waiting places unless unlimited; 0: loss system */
    struct queue_run_length full;
    struct queue_run_length quick;  /* for `mailsim validate --quick` */
    enum queue_model_kind model;
    bool has_wait_threshold;
    sim_time wait_threshold;  /* compare P(wait > threshold) too */
};

/* Name as written after `theory: {model: ...}` ("mm1", "erlang_b", ...),
 * or "invalid". */
const char *queue_scenario_model_name(enum queue_model_kind model);

/* Returns true if `path` parses as a YAML mapping whose `kind` is
 * `queue`.  Prints nothing: a file that fails to parse returns false, and
 * the loader for the other format then reports the error. */
bool queue_scenario_file_is_queue(const char *path);

/* Loads and checks a queue scenario, including that the model's
 * assumptions hold (for example exponential service for mm1, and a
 * stable queue when it is unlimited).  On bad input prints
 * "file:line:column: key.path: what is wrong" to `errors` and returns
 * NULL. */
struct queue_scenario *queue_scenario_load(const char *path, FILE *errors);
void queue_scenario_free(struct queue_scenario *scenario);

/* Arrivals per second: 1 / mean inter-arrival time. */
double queue_scenario_arrival_rate(const struct queue_scenario *scenario);

#endif
