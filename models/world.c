/*
 * Building, running and tearing down the model.
 *
 * world_new creates one provider_state per provider with its stations and
 * named random streams ("<provider>.web", "<provider>.smtp_out", ...), so
 * adding a provider or a component leaves the others' draws unchanged.
 * world_run schedules the first arrival of each workload source (or of the
 * trace) and a sampler, then runs the engine until the queues are empty or
 * the drain time is over.  Messages still in flight then keep their state:
 * they are reported as such and freed by world_free.
 */
#include "models/world.h"
#include "sim/memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "models/dns.h"
#include "models/greylist.h"
#include "models/rate_limiter.h"
#include "models/report.h"
#include "models/run_control.h"
#include "models/trace.h"
#include "models/workload.h"
#include "sim/rng.h"

sim_time world_sample_time(const struct dist *dist, gsl_rng *rng)
{
    double seconds = dist_sample(dist, rng);
    return seconds > 0 ? sim_time_from_seconds(seconds) : 0;
}

static bool fault_active(const struct fault *fault, sim_time now)
{
    return fault->start <= now && now < fault->end;
}

sim_time world_one_way(const struct world *world, uint32_t from, uint32_t to)
{
    const struct scenario *scenario = world->scenario;
    size_t a = scenario->providers[from].region;
    size_t b = scenario->providers[to].region;
    sim_time latency = scenario_latency(scenario, a, b);
    if (!world->has_link_faults)
        return latency;

    sim_time now = engine_now(world->engine);
    for (size_t i = 0; i < scenario->fault_count; i++) {
        const struct fault *fault = &scenario->faults[i];
        if (fault->kind != FAULT_LINK_LATENCY || !fault_active(fault, now))
            continue;
        if ((fault->from_region == a && fault->to_region == b) ||
            (fault->from_region == b && fault->to_region == a))
            latency += fault->added_latency;
    }
    return latency;
}

enum fault_kind world_dns_fault(const struct world *world, const char *domain,
                                sim_time now)
{
    const struct scenario *scenario = world->scenario;
    for (size_t i = 0; i < scenario->fault_count; i++) {
        const struct fault *fault = &scenario->faults[i];
        if ((fault->kind == FAULT_DNS_SERVFAIL || fault->kind == FAULT_DNS_TIMEOUT) &&
            fault_active(fault, now) && strcasecmp(fault->target, domain) == 0)
            return fault->kind;
    }
    return FAULT_KIND_COUNT;
}

sim_time world_transfer_time(const struct world *world, uint64_t bytes)
{
    return sim_time_from_seconds((double)bytes / world->scenario->bandwidth);
}

bool world_host_down(const struct world *world, const char *host, sim_time now,
                     enum fault_mode *mode)
{
    const struct scenario *scenario = world->scenario;
    for (size_t i = 0; i < scenario->fault_count; i++) {
        const struct fault *fault = &scenario->faults[i];
        if (!fault_active(fault, now))
            continue;
        bool hit = (fault->kind == FAULT_HOST_DOWN && strcasecmp(fault->target, host) == 0) ||
                   (fault->kind == FAULT_PROVIDER_DOWN &&
                    scenario_find_host(scenario, host) == (int)fault->provider);
        if (hit) {
            *mode = fault->mode;
            return true;
        }
    }
    return false;
}

/* Live lists: every message, envelope and inbound copy not yet freed, so
 * that the end of a run can report and free what is still in flight. */
#define LIST_INSERT(head, item)                   \
    do {                                          \
        (item)->live_prev = NULL;                 \
        (item)->live_next = (head);               \
        if (head)                                 \
            (head)->live_prev = (item);           \
        (head) = (item);                          \
    } while (0)

#define LIST_REMOVE(head, item)                               \
    do {                                                      \
        if ((item)->live_prev)                                \
            (item)->live_prev->live_next = (item)->live_next; \
        else                                                  \
            (head) = (item)->live_next;                       \
        if ((item)->live_next)                                \
            (item)->live_next->live_prev = (item)->live_prev; \
    } while (0)

struct envelope *world_envelope_new(struct world *world, struct message *message,
                                    uint32_t from, const struct address *to,
                                    uint16_t count)
{
    struct envelope *envelope = memory_calloc(1, sizeof *envelope +
                                               count * sizeof(uint16_t));
    envelope->world = world;
    envelope->message = message;
    envelope->from_provider = from;
    envelope->to_provider = to->provider;
    envelope->to_domain = to->domain;
    envelope->first_queued = engine_now(world->engine);
    retry_state_init(&envelope->retry, envelope->first_queued);
    LIST_INSERT(world->live_envelopes, envelope);
    return envelope;
}

void world_envelope_free(struct world *world, struct envelope *envelope)
{
    LIST_REMOVE(world->live_envelopes, envelope);
    free(envelope);
}

struct inbound *world_inbound_new(struct world *world, struct message *message,
                                  uint32_t provider, uint16_t count)
{
    struct inbound *inbound = memory_calloc(1, sizeof *inbound +
                                             count * sizeof(uint16_t));
    inbound->world = world;
    inbound->message = message;
    inbound->provider = provider;
    LIST_INSERT(world->live_inbound, inbound);
    return inbound;
}

void world_inbound_free(struct world *world, struct inbound *inbound)
{
    LIST_REMOVE(world->live_inbound, inbound);
    free(inbound);
}

struct message *world_message_new(struct world *world, uint16_t recipients)
{
    struct message *message = message_new(&world->ledger, ++world->next_message_id,
                                          recipients, engine_now(world->engine));
    LIST_INSERT(world->live_messages, message);
    return message;
}

void world_set_phase(struct world *world, struct message *message,
                     uint16_t index, enum recipient_phase phase)
{
    message_set_phase(message, &world->ledger, index, phase,
                      engine_now(world->engine));
}

/* Records a finished message and frees it. */
static void retire_message(struct world *world, struct message *message)
{
    if (world->report)
        report_message(world->report, world, message);
    LIST_REMOVE(world->live_messages, message);
    message_free(message);
}

void world_finish_recipient(struct world *world, struct message *message,
                            uint16_t index, enum recipient_phase phase)
{
    if (phase == PHASE_DELIVERED)
        world->recipients_delivered++;
    else if (phase == PHASE_BOUNCED)
        world->recipients_bounced++;

    bool finished = message_set_phase(message, &world->ledger, index, phase,
                                      engine_now(world->engine));
    if (finished && message->references == 0)
        retire_message(world, message);
}

void world_hold_message(struct world *world, struct message *message)
{
    message->references++;
}

void world_release_message(struct world *world, struct message *message)
{
    message->references--;
    if (message->references == 0 && message_state_is_final(message->state))
        retire_message(world, message);
}

static gsl_rng *provider_stream(const struct world *world, const struct provider *provider,
                                const char *component)
{
    char name[256];
    snprintf(name, sizeof name, "%s.%s", provider->name, component);
    return rng_stream_new(world->scenario->seed, name);
}

size_t world_domain_index(const struct world *world, uint32_t provider, uint32_t domain)
{
    return world->domain_base[provider] + domain;
}

/* The per-destination tables of the sending side and the receiving
 * side's greylisting, rate limits and connection limit. */
static void init_policies(struct world *world, struct provider_state *state)
{
    const struct provider *provider = state->params;
    const struct smtp_in_policy *in = &provider->smtp_in.policy;
    size_t domains = world->domain_count;

    state->destination_sessions = memory_calloc(domains, sizeof(int));
    state->destination_waiting = memory_calloc(domains, sizeof(struct envelope *));
    state->destination_waiting_tail = memory_calloc(domains, sizeof(struct envelope *));
    state->destination_failures = memory_calloc(domains, sizeof(int));
    state->destination_dead_until = memory_calloc(domains, sizeof(sim_time));
    state->rng_retry = provider_stream(world, provider, "retry");

    if (in->greylisting.enabled)
        state->greylist = greylist_new(&in->greylisting);
    state->rate_limiters = memory_calloc(in->rate_limit_count,
                                          sizeof *state->rate_limiters);
    for (size_t i = 0; i < in->rate_limit_count; i++)
        state->rate_limiters[i] = rate_limiter_new(&in->rate_limits[i]);
    if (in->connection_limit > 0)
        state->connection_limit = rate_limiter_connection_new(in->connection_limit);
}

static void free_policies(struct provider_state *state)
{
    free(state->destination_sessions);
    free(state->destination_waiting);
    free(state->destination_waiting_tail);
    free(state->destination_failures);
    free(state->destination_dead_until);
    gsl_rng_free(state->rng_retry);
    if (state->greylist)
        greylist_free(state->greylist);
    for (size_t i = 0; i < state->params->smtp_in.policy.rate_limit_count; i++)
        rate_limiter_free(state->rate_limiters[i]);
    free(state->rate_limiters);
    if (state->connection_limit)
        rate_limiter_connection_free(state->connection_limit);
}

static void init_series(struct provider_state *state)
{
    series_init(&state->web_queue, "web_queue");
    series_init(&state->outgoing_queue, "outgoing_queue");
    series_init(&state->deferred_series, "deferred");
    series_init(&state->incoming_queue, "incoming_queue");
    series_init(&state->smtp_out_busy, "smtp_out_busy");
    series_init(&state->processing_busy, "processing_busy");
    series_init(&state->smtp_in_sessions, "smtp_in_sessions");
}

static void init_provider(struct world *world, uint32_t index)
{
    const struct provider *provider = &world->scenario->providers[index];
    struct provider_state *state = &world->providers[index];
    char name[256];

    state->world = world;
    state->params = provider;
    state->index = index;
    state->bucket.tokens = provider->load_balancer.limit.burst;

    state->web_servers = memory_calloc((size_t)provider->web.servers,
                                        sizeof *state->web_servers);
    for (int i = 0; i < provider->web.servers; i++) {
        snprintf(name, sizeof name, "%s.web%d", provider->name, i);
        station_init(&state->web_servers[i], world->engine, name, 1,
                     provider->web.queue_capacity, send_path_start_web, state);
    }
    snprintf(name, sizeof name, "%s.smtp_out", provider->name);
    station_init(&state->outgoing, world->engine, name, provider->smtp_out.workers,
                 provider->smtp_out.queue_capacity, smtp_session_start, state);
    snprintf(name, sizeof name, "%s.processing", provider->name);
    station_init(&state->processing, world->engine, name, provider->processing.workers,
                 provider->processing.queue_capacity, receive_path_start_processing,
                 state);
    state->web_current = memory_calloc((size_t)provider->web.servers,
                                        sizeof *state->web_current);
    state->smtp_sessions = memory_calloc((size_t)provider->smtp_in.servers,
                                          sizeof *state->smtp_sessions);

    state->rng_web = provider_stream(world, provider, "web");
    state->rng_smtp_out = provider_stream(world, provider, "smtp_out");
    state->rng_dns = provider_stream(world, provider, "dns");
    state->rng_smtp_in = provider_stream(world, provider, "smtp_in");
    state->rng_processing = provider_stream(world, provider, "processing");
    state->rng_storage = provider_stream(world, provider, "storage");
    state->rng_clients = provider_stream(world, provider, "clients");

    init_policies(world, state);
    state->dns_cache = dns_cache_new();
    reader_pool_init(&state->readers, &provider->clients, provider->mailboxes,
                     state->rng_clients);
    time_average_init(&state->deferred_average, 0, 0);
    time_average_init(&state->waiting_average, 0, 0);
    init_series(state);
    if (!world->scenario->trace_path) {
        state->workload = workload_source_new(world->scenario, index);
        if (!state->workload) {
            fprintf(stderr, "mailsim: internal error: no workload for provider %s, "
                    "which the scenario loader should have rejected\n", provider->name);
            abort();
        }
    }
    state->next_submission = memory_calloc(1, sizeof *state->next_submission);
}

struct world *world_new(const struct scenario *scenario, struct report *report)
{
    struct world *world = memory_calloc(1, sizeof *world);
    world->scenario = scenario;
    world->engine = engine_new();
    world->report = report;
    ledger_init(&world->ledger);

    /* 1 ms to 30 days at 1% relative error: about 1,100 buckets each. */
    for (int path = 0; path < PATH_COUNT; path++) {
        world->stored_latency[path] = histogram_new(1e-3, 30 * 86400.0, 0.01);
        world->seen_latency[path] = histogram_new(1e-3, 30 * 86400.0, 0.01);
    }
    for (size_t i = 0; i < scenario->fault_count; i++)
        world->has_link_faults |= scenario->faults[i].kind == FAULT_LINK_LATENCY;
    world->domain_base = memory_calloc(scenario->provider_count, sizeof(size_t));
    for (uint32_t i = 0; i < scenario->provider_count; i++) {
        world->domain_base[i] = world->domain_count;
        world->domain_count += scenario->providers[i].domain_count;
    }
    world->providers = memory_calloc(scenario->provider_count,
                                      sizeof *world->providers);
    for (uint32_t i = 0; i < scenario->provider_count; i++)
        init_provider(world, i);
    return world;
}

static void on_workload_arrival(struct engine *engine, void *object, uint64_t argument)
{
    struct provider_state *state = object;
    struct world *world = state->world;

    send_path_submit(world, state->next_submission);
    if (workload_source_next(state->workload, state->next_submission))
        engine_schedule_at(engine, state->next_submission->time,
                           on_workload_arrival, state, 0);
}

static void on_trace_arrival(struct engine *engine, void *object, uint64_t argument);

/* Schedules the next message of the trace; on a bad row stops the run. */
static void schedule_trace(struct world *world)
{
    int status = trace_reader_next(world->trace, world->next_trace);
    if (status < 0) {
        fprintf(stderr, "%s\n", world->trace_error);
        world->trace_failed = true;
        engine_stop(world->engine);
        return;
    }
    if (status == 1 && world->next_trace->time < world->scenario->duration)
        engine_schedule_at(world->engine, world->next_trace->time,
                           on_trace_arrival, world, 0);
}

static void on_trace_arrival(struct engine *engine, void *object, uint64_t argument)
{
    struct world *world = object;
    send_path_submit(world, world->next_trace);
    schedule_trace(world);
}

static void sample_provider(struct world *world, struct provider_state *state)
{
    sim_time now = engine_now(world->engine);
    size_t web_queue = 0;
    int sessions = 0;

    for (int i = 0; i < state->params->web.servers; i++)
        web_queue += state->web_servers[i].length;
    for (int i = 0; i < state->params->smtp_in.servers; i++)
        sessions += state->smtp_sessions[i];

    series_append(&state->web_queue, now, (double)web_queue);
    /* Mail waiting for a destination's session limit is queued too, only
     * outside the station's ring. */
    uint64_t outgoing = state->outgoing.length + state->waiting_for_destination;
    if (outgoing > state->peak_outgoing)
        state->peak_outgoing = outgoing;
    series_append(&state->outgoing_queue, now, (double)outgoing);
    series_append(&state->deferred_series, now, (double)state->deferred);
    series_append(&state->incoming_queue, now, (double)state->processing.length);
    series_append(&state->smtp_out_busy, now, (double)state->outgoing.busy);
    series_append(&state->processing_busy, now, (double)state->processing.busy);
    series_append(&state->smtp_in_sessions, now, (double)sessions);
}

/* Samples every queue, and keeps sampling while mail is submitted or in
 * flight, so that the sampler alone never keeps the run going. */
static void on_sample(struct engine *engine, void *object, uint64_t argument)
{
    struct world *world = object;

    for (uint32_t i = 0; i < world->scenario->provider_count; i++)
        sample_provider(world, &world->providers[i]);
    if (engine_now(engine) < world->scenario->duration ||
        ledger_in_flight(&world->ledger) > 0)
        engine_schedule(engine, world->scenario->output.sample_interval,
                        on_sample, world, 0);
}

static bool start_trace(struct world *world)
{
    world->trace = trace_reader_open(world->scenario->trace_path, world->scenario,
                                     world->trace_error, sizeof world->trace_error);
    if (!world->trace) {
        fprintf(stderr, "%s\n", world->trace_error);
        return false;
    }
    world->next_trace = memory_calloc(1, sizeof *world->next_trace);
    schedule_trace(world);
    return !world->trace_failed;
}

/* Runs the engine in slices of simulated time, so that the progress
 * callback gets control regularly.  Slicing does not change the order or
 * times of events, so the results are those of one engine_run. */
static void run_in_slices(struct world *world, world_progress_fn progress,
                          void *context)
{
    const struct scenario *scenario = world->scenario;
    sim_time end = scenario->duration + scenario->drain;
    sim_time slice = scenario->duration / 1000 > 0 ? scenario->duration / 1000 : 1;
    sim_time until = 0;

    for (;;) {
        until = end - until > slice ? until + slice : end;
        enum engine_stop_reason reason = run_control_run_until(world, until);
        if (progress)
            progress(context, world);
        if (reason != ENGINE_STOP_TIME || until == end)
            return;
    }
}

static void schedule_faults(struct world *world);

bool world_run(struct world *world, world_progress_fn progress, void *context)
{
    const struct scenario *scenario = world->scenario;

    if (scenario->trace_path) {
        if (!start_trace(world))
            return false;
    } else {
        for (uint32_t i = 0; i < scenario->provider_count; i++) {
            struct provider_state *state = &world->providers[i];
            if (workload_source_next(state->workload, state->next_submission))
                engine_schedule_at(world->engine, state->next_submission->time,
                                   on_workload_arrival, state, 0);
        }
    }
    schedule_faults(world);
    engine_schedule(world->engine, 0, on_sample, world, 0);
    run_in_slices(world, progress, context);
    return !world->trace_failed;
}

/* Sets each component's workers from its configured count and the faults
 * active on it. */
static void apply_component_faults(struct provider_state *state)
{
    const struct provider *params = state->params;
    int configured[COMPONENT_COUNT] = {
        [COMPONENT_WEB] = params->web.servers,
        [COMPONENT_SMTP_OUT] = params->smtp_out.workers,
        [COMPONENT_PROCESSING] = params->processing.workers,
    };
    int effective[COMPONENT_COUNT];
    for (int c = 0; c < COMPONENT_COUNT; c++) {
        int left = configured[c] - state->workers_lost[c];
        effective[c] = state->components_down[c] > 0 || left < 0 ? 0 : left;
    }
    /* Each web server is a one-worker station: the first `effective` of
     * them serve, the others are down. */
    for (int i = 0; i < params->web.servers; i++)
        station_set_workers(&state->web_servers[i], i < effective[COMPONENT_WEB] ? 1 : 0);
    station_set_workers(&state->outgoing, effective[COMPONENT_SMTP_OUT]);
    station_set_workers(&state->processing, effective[COMPONENT_PROCESSING]);
}

/* Starts (argument 1) or ends (argument 0) a component_down or
 * workers_lost fault. */
static void on_component_fault(struct engine *engine, void *object, uint64_t starts)
{
    struct fault_event *event = object;
    const struct fault *fault = event->fault;
    struct provider_state *state = &event->world->providers[fault->provider];
    int sign = starts ? 1 : -1;

    if (fault->kind == FAULT_COMPONENT_DOWN)
        state->components_down[fault->component] += sign;
    else
        state->workers_lost[fault->component] += sign * fault->workers;
    apply_component_faults(state);
}

static void schedule_faults(struct world *world)
{
    const struct scenario *scenario = world->scenario;
    world->fault_events = memory_calloc(scenario->fault_count, sizeof *world->fault_events);
    for (size_t i = 0; i < scenario->fault_count; i++) {
        const struct fault *fault = &scenario->faults[i];
        if (fault->kind != FAULT_COMPONENT_DOWN && fault->kind != FAULT_WORKERS_LOST)
            continue;
        world->fault_events[i] = (struct fault_event){.world = world, .fault = fault};
        engine_schedule_at(world->engine, fault->start, on_component_fault,
                           &world->fault_events[i], 1);
        engine_schedule_at(world->engine, fault->end, on_component_fault,
                           &world->fault_events[i], 0);
    }
}

static void free_provider(struct provider_state *state)
{
    for (int i = 0; i < state->params->web.servers; i++)
        station_fini(&state->web_servers[i]);
    free(state->web_servers);
    free(state->web_current);
    station_fini(&state->outgoing);
    station_fini(&state->processing);
    free(state->smtp_sessions);
    dns_cache_free(state->dns_cache);
    free_policies(state);
    reader_pool_fini(&state->readers);
    gsl_rng_free(state->rng_web);
    gsl_rng_free(state->rng_smtp_out);
    gsl_rng_free(state->rng_dns);
    gsl_rng_free(state->rng_smtp_in);
    gsl_rng_free(state->rng_processing);
    gsl_rng_free(state->rng_storage);
    gsl_rng_free(state->rng_clients);
    if (state->workload)
        workload_source_free(state->workload);
    free(state->next_submission);
    series_fini(&state->web_queue);
    series_fini(&state->outgoing_queue);
    series_fini(&state->deferred_series);
    series_fini(&state->incoming_queue);
    series_fini(&state->smtp_out_busy);
    series_fini(&state->processing_busy);
    series_fini(&state->smtp_in_sessions);
}

/* Reports every message still in flight, then frees it.  Envelopes and
 * copies still referenced by pending events or queues go with it: the
 * engine is not run again. */
void world_report_unfinished(struct world *world)
{
    for (struct message *message = world->live_messages; message;
         message = message->live_next)
        if (world->report)
            report_message(world->report, world, message);
}

void world_free(struct world *world)
{
    if (!world)
        return;
    while (world->live_envelopes)
        world_envelope_free(world, world->live_envelopes);
    while (world->live_inbound)
        world_inbound_free(world, world->live_inbound);
    while (world->live_messages) {
        struct message *message = world->live_messages;
        LIST_REMOVE(world->live_messages, message);
        message_free(message);
    }
    smtp_session_free_all(world);
    for (uint32_t i = 0; i < world->scenario->provider_count; i++)
        free_provider(&world->providers[i]);
    free(world->providers);
    for (int path = 0; path < PATH_COUNT; path++) {
        histogram_free(world->stored_latency[path]);
        histogram_free(world->seen_latency[path]);
    }
    if (world->trace)
        trace_reader_free(world->trace);
    if (world->journey)
        fclose(world->journey);
    free(world->next_trace);
    free(world->fault_events);
    free(world->domain_base);
    engine_free(world->engine);
    free(world);
}
