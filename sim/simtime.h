/*
 * Simulation time: a signed 64-bit count of nanoseconds since the start of
 * the run.  Integer time keeps the order of events independent of floating
 * point rounding; 2^63 ns is about 292 years, far beyond any scenario.
 */
#ifndef MAILSIM_SIMTIME_H
#define MAILSIM_SIMTIME_H

#include <stdint.h>

typedef int64_t sim_time;

#define SIM_NS   ((sim_time)1)
#define SIM_US   ((sim_time)1000)
#define SIM_MS   ((sim_time)1000000)
#define SIM_SEC  ((sim_time)1000000000)
#define SIM_MIN  (60 * SIM_SEC)
#define SIM_HOUR (60 * SIM_MIN)
#define SIM_DAY  (24 * SIM_HOUR)

/* A time later than any event a run can schedule. */
#define SIM_TIME_MAX INT64_MAX

static inline double sim_time_to_seconds(sim_time t)
{
    return (double)t / (double)SIM_SEC;
}

/* Converts seconds to nanoseconds, rounding to the nearest nanosecond. */
static inline sim_time sim_time_from_seconds(double seconds)
{
    double ns = seconds * 1e9;
    return (sim_time)(ns < 0 ? ns - 0.5 : ns + 0.5);
}

#endif
