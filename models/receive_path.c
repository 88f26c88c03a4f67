/*
 * The receiving side after the SMTP server: attachment offload (done by the
 * SMTP session before it answers end of data), the incoming queue, the
 * processing workers (spam, virus and user rules), storage, and the
 * moment the reader's client has the message.
 */
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_rng.h>

#include "models/world.h"

bool receive_path_open_session(struct world *world, uint32_t provider, int *server)
{
    struct provider_state *state = &world->providers[provider];
    const struct smtp_in_params *params = &state->params->smtp_in;

    /* The SMTP load balancer sends a connection to the server with the
     * fewest open sessions; ties go to the lowest index. */
    int best = 0;
    for (int i = 1; i < params->servers; i++)
        if (state->smtp_sessions[i] < state->smtp_sessions[best])
            best = i;
    if (state->smtp_sessions[best] >= params->sessions_per_server) {
        state->smtp_sessions_refused++;
        return false;
    }
    state->smtp_sessions[best]++;
    *server = best;
    return true;
}

void receive_path_close_session(struct world *world, uint32_t provider, int server)
{
    world->providers[provider].smtp_sessions[server]--;
}

static void set_phases(struct world *world, struct inbound *inbound,
                       enum recipient_phase phase)
{
    for (uint16_t i = 0; i < inbound->recipient_count; i++)
        world_set_phase(world, inbound->message, inbound->recipients[i], phase);
}

bool receive_path_has_room(struct world *world, uint32_t provider)
{
    const struct station *processing = &world->providers[provider].processing;
    return processing->busy < processing->workers ||
           processing->length < processing->capacity;
}

void receive_path_accept(struct world *world, struct inbound *inbound)
{
    struct provider_state *state = &world->providers[inbound->provider];
    set_phases(world, inbound, PHASE_QUEUED);
    station_offer_unbounded(&state->processing, inbound);
}

static void on_stored(struct engine *engine, void *object, uint64_t argument)
{
    struct inbound *inbound = object;
    struct world *world = inbound->world;
    struct provider_state *state = &world->providers[inbound->provider];
    struct message *message = inbound->message;
    sim_time now = engine_now(engine);

    for (uint16_t i = 0; i < inbound->recipient_count; i++) {
        uint16_t index = inbound->recipients[i];
        struct recipient *recipient = &message->recipients[index];
        enum latency_path path = recipient->external ? PATH_EXTERNAL : PATH_LOCAL;

        recipient->stored = now;
        recipient->seen = reader_seen_time(&state->readers,
                                           recipient->address.mailbox, now);
        if (!message->is_dsn) {
            histogram_add(world->stored_latency[path],
                          sim_time_to_seconds(now - message->submitted));
            histogram_add(world->seen_latency[path],
                          sim_time_to_seconds(recipient->seen - message->submitted));
        }
        world_finish_recipient(world, message, index, PHASE_DELIVERED);
    }
    world_inbound_free(world, inbound);
}

/* Mail-store write, then the cache update.  MODEL: one write per copy,
 * whatever its number of recipients; real stores may write per mailbox. */
void receive_path_store(struct world *world, struct inbound *inbound)
{
    struct provider_state *state = &world->providers[inbound->provider];
    const struct storage_params *storage = &state->params->storage;
    sim_time delay = world_sample_time(&storage->mail_store, state->rng_storage) +
                     world_sample_time(&storage->cache, state->rng_storage);
    engine_schedule(world->engine, delay, on_stored, inbound, 0);
}

static void on_processed(struct engine *engine, void *object, uint64_t argument)
{
    struct inbound *inbound = object;
    struct world *world = inbound->world;
    struct provider_state *state = &world->providers[inbound->provider];
    double spam = state->params->processing.spam_probability;

    station_release(&state->processing);
    if (gsl_rng_uniform(state->rng_processing) < spam) {
        world->junk += inbound->recipient_count;
        for (uint16_t i = 0; i < inbound->recipient_count; i++)
            inbound->message->recipients[inbound->recipients[i]].junk = true;
    }
    receive_path_store(world, inbound);
}

void receive_path_start_processing(struct station *station, void *job)
{
    struct provider_state *state = station->context;
    struct inbound *inbound = job;
    sim_time service = world_sample_time(&state->params->processing.service_time,
                                         state->rng_processing);
    set_phases(inbound->world, inbound, PHASE_ACTIVE);
    engine_schedule(station->engine, service, on_processed, job, 0);
}
