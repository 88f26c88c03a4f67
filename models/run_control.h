/*
 * Stopping a run early, at an event boundary: when a signal handler has
 * set world->interrupt, or when a run limit (scenario->limits) is
 * exceeded.  world.c runs each slice of simulated time through
 * run_control_run_until, which runs the engine in chunks of at most
 * RUN_CONTROL_CHUNK events and checks in between.  Chunking does not
 * change the order or times of events.
 */
#ifndef MAILSIM_RUN_CONTROL_H
#define MAILSIM_RUN_CONTROL_H

#include <stdint.h>

#include "sim/engine.h"

struct world;

/* Events between two checks: about 12 ms of wall time with -O2 at the
 * 1.3 million events per second measured on tests/scenarios/long.yaml, so
 * a stop is prompt even when one slice contains millions of events. */
#define RUN_CONTROL_CHUNK 16384

/* Status strings stored in the run table by an early stop. */
#define RUN_CONTROL_INTERRUPTED "interrupted"
#define RUN_CONTROL_MAX_EVENTS "limit_reached: max_events"
#define RUN_CONTROL_MAX_IN_FLIGHT "limit_reached: max_in_flight"
#define RUN_CONTROL_MAX_MEMORY "limit_reached: max_memory"

/* Runs events up to `until` like engine_run.  Returns ENGINE_STOP_REQUESTED
 * with world->stop_reason set (and a line on stderr for a limit) when the
 * run must stop early. */
enum engine_stop_reason run_control_run_until(struct world *world, sim_time until);

/* Returns the resident memory of this process in bytes, read from
 * /proc/self/statm.  Without /proc it returns the peak from getrusage, and
 * 0 if neither works. */
uint64_t run_control_resident_bytes(void);

#endif
