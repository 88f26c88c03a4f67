/*
 * One station fed by a renewal arrival process, on the engine.
 *
 * A job needs no data of its own: the station records when it joined the
 * queue and reports its wait in station->last_wait, and its sojourn is
 * that wait plus the service time drawn when it starts.  So the job
 * pointer handed to the station only marks whether the job arrived in the
 * measurement window, as the address of one of two tags in the model.
 */
#include "models/queue_model.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_rng.h>

#include "models/station.h"
#include "sim/engine.h"
#include "sim/rng.h"

struct queue_model {
    const struct queue_scenario *scenario;
    struct engine *engine;
    struct station station;
    gsl_rng *arrivals;
    gsl_rng *service;
    sim_time window_start;
    sim_time window_end;
    char measured_tag;           /* jobs arriving in the window point here */
    char warmup_tag;             /* jobs arriving before it point here */

    uint64_t served;
    uint64_t waits_over_threshold;
    double wait_sum;             /* seconds */
    double sojourn_sum;          /* seconds */
    struct queue_result window;  /* time averages and counts at window end */
};

/* Draws a duration in seconds and rounds it to the engine's nanoseconds;
 * a negative draw counts as 0. */
static sim_time sample_time(const struct dist *dist, gsl_rng *rng)
{
    double seconds = dist_sample(dist, rng);
    return seconds > 0 ? sim_time_from_seconds(seconds) : 0;
}

static void on_departure(struct engine *engine, void *object, uint64_t argument)
{
    struct queue_model *model = object;
    station_release(&model->station);
}

/* The station's start callback: a server takes the job. */
static void start_service(struct station *station, void *job)
{
    struct queue_model *model = station->context;
    sim_time service = sample_time(&model->scenario->service, model->service);

    if (job == &model->measured_tag) {
        sim_time wait = station->last_wait;
        model->served++;
        model->wait_sum += sim_time_to_seconds(wait);
        model->sojourn_sum += sim_time_to_seconds(wait + service);
        if (model->scenario->has_wait_threshold &&
            wait > model->scenario->wait_threshold)
            model->waits_over_threshold++;
    }
    engine_schedule(model->engine, service, on_departure, model, 0);
}

static void on_arrival(struct engine *engine, void *object, uint64_t argument)
{
    struct queue_model *model = object;
    sim_time now = engine_now(engine);
    void *job = now >= model->window_start ? &model->measured_tag : &model->warmup_tag;

    /* A rejected job leaves at once; the station counts it. */
    station_offer(&model->station, job);

    sim_time next = now + sample_time(&model->scenario->arrival, model->arrivals);
    if (next < model->window_end)
        engine_schedule_at(engine, next, on_arrival, model, 0);
}

static void on_window_start(struct engine *engine, void *object, uint64_t argument)
{
    struct queue_model *model = object;
    station_reset_statistics(&model->station);
}

/* Takes the time averages and counts over the window; the jobs still in
 * the system finish afterwards and add only their per-job values. */
static void on_window_end(struct engine *engine, void *object, uint64_t argument)
{
    struct queue_model *model = object;
    struct station *station = &model->station;
    sim_time now = engine_now(engine);

    model->window.arrivals = station->offered;
    model->window.blocked = station->rejected;
    model->window.queue_length_mean = time_average_mean(&station->queue_average, now);
    model->window.utilisation =
        time_average_mean(&station->busy_average, now) / station->workers;
}

static void fill_result(const struct queue_model *model, struct queue_result *result)
{
    *result = model->window;
    double served = (double)model->served;
    result->served = model->served;
    result->wait_mean = model->served > 0 ? model->wait_sum / served : NAN;
    result->sojourn_mean = model->served > 0 ? model->sojourn_sum / served : NAN;
    result->wait_exceeds =
        model->served > 0 ? (double)model->waits_over_threshold / served : NAN;
    result->blocking = result->arrivals > 0
                           ? (double)result->blocked / (double)result->arrivals
                           : NAN;
    result->events = engine_events_processed(model->engine);
}

uint64_t queue_model_run(const struct queue_scenario *scenario,
                         const struct queue_run_length *length, uint64_t seed,
                         struct queue_result *result)
{
    struct queue_model model = {
        .scenario = scenario,
        .engine = engine_new(),
        .arrivals = rng_stream_new(seed, "arrivals"),
        .service = rng_stream_new(seed, "service"),
        .window_start = length->warmup,
        .window_end = length->warmup + length->duration,
    };
    size_t capacity = scenario->unlimited ? SIZE_MAX : scenario->capacity;
    station_init(&model.station, model.engine, scenario->name, scenario->servers,
                 capacity, start_service, &model);

    /* The window events are scheduled first, so that an arrival at the
     * same nanosecond runs after them and is counted in the window. */
    engine_schedule_at(model.engine, model.window_start, on_window_start, &model, 0);
    engine_schedule_at(model.engine, model.window_end, on_window_end, &model, 0);
    sim_time first = sample_time(&scenario->arrival, model.arrivals);
    if (first < model.window_end)
        engine_schedule_at(model.engine, first, on_arrival, &model, 0);
    engine_run(model.engine, SIM_TIME_MAX);

    struct queue_result filled;
    fill_result(&model, &filled);
    if (result != NULL)
        *result = filled;

    station_fini(&model.station);
    gsl_rng_free(model.arrivals);
    gsl_rng_free(model.service);
    engine_free(model.engine);
    return filled.events;
}
