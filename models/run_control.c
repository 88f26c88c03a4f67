#include "models/run_control.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "models/world.h"

uint64_t run_control_resident_bytes(void)
{
    char text[128];
    ssize_t length = -1;
    int fd = open("/proc/self/statm", O_RDONLY);
    if (fd >= 0) {
        length = read(fd, text, sizeof text - 1);
        close(fd);
    }
    unsigned long long size_pages, resident_pages;
    long page = sysconf(_SC_PAGESIZE);
    if (length > 0 && page > 0) {
        text[length] = '\0';
        if (sscanf(text, "%llu %llu", &size_pages, &resident_pages) == 2)
            return (uint64_t)resident_pages * (uint64_t)page;
    }

    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) == 0 && usage.ru_maxrss > 0)
        return (uint64_t)usage.ru_maxrss * 1024;   /* Linux reports kilobytes */
    return 0;
}

/* Ends the run for a limit, with one line on stderr saying which, when,
 * and the value found. */
static void stop_for_limit(struct world *world, const char *status, const char *limit,
                           const char *what, uint64_t found, uint64_t maximum)
{
    world->stop_reason = status;
    fprintf(stderr,
            "mailsim: run stopped at %.3f s of simulated time by limit %s (%" PRIu64
            " %s, limit %" PRIu64 "); results so far kept\n",
            sim_time_to_seconds(engine_now(world->engine)), limit, found, what, maximum);
}

/* Checks the interrupt flag and every limit, measuring memory once per
 * RUN_CONTROL_CHUNK events.  Returns true when the run must stop. */
static bool must_stop(struct world *world)
{
    const struct run_limits *limits = &world->scenario->limits;
    uint64_t events = engine_events_processed(world->engine);

    if (world->interrupt && *world->interrupt) {
        world->stop_reason = RUN_CONTROL_INTERRUPTED;
        return true;
    }
    /* A run that ends after exactly max_events events is complete. */
    if (limits->max_events && events >= limits->max_events &&
        engine_pending(world->engine) > 0) {
        stop_for_limit(world, RUN_CONTROL_MAX_EVENTS, "max_events", "events run", events,
                       limits->max_events);
        return true;
    }
    uint64_t in_flight = ledger_in_flight(&world->ledger);
    if (limits->max_in_flight && in_flight > limits->max_in_flight) {
        stop_for_limit(world, RUN_CONTROL_MAX_IN_FLIGHT, "max_in_flight",
                       "messages in flight", in_flight, limits->max_in_flight);
        return true;
    }
    if (limits->max_memory && events >= world->next_memory_check) {
        world->next_memory_check = events + RUN_CONTROL_CHUNK;
        uint64_t resident = run_control_resident_bytes();
        if (resident > limits->max_memory) {
            stop_for_limit(world, RUN_CONTROL_MAX_MEMORY, "max_memory", "bytes resident",
                           resident, limits->max_memory);
            return true;
        }
    }
    return false;
}

enum engine_stop_reason run_control_run_until(struct world *world, sim_time until)
{
    const struct run_limits *limits = &world->scenario->limits;

    for (;;) {
        if (must_stop(world))
            return ENGINE_STOP_REQUESTED;
        uint64_t chunk = RUN_CONTROL_CHUNK;
        uint64_t events = engine_events_processed(world->engine);
        if (limits->max_events) {
            uint64_t left = events < limits->max_events ? limits->max_events - events : 0;
            chunk = left < chunk ? left : chunk;
        }
        enum engine_stop_reason reason = engine_run_bounded(world->engine, until, chunk);
        if (reason != ENGINE_STOP_EVENTS)
            return reason;
    }
}
