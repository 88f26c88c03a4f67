/*
 * The receiving side after the SMTP server: attachment offload (done by the
 * SMTP session before it answers end of data), the incoming queue, the
 * processing workers (spam, virus and user rules), storage, and the
 * moment the reader's client has the message.
 */
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_rng.h>

#include "models/greylist.h"
#include "models/journey.h"
#include "models/rate_limiter.h"
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
    journey_note(world, inbound->message, "%s queues it for processing (%zu ahead of it)",
                 state->params->name, state->processing.length);
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
        journey_note(world, message, "stored in mailbox u%llu at %s%s; its %s client "
                     "has it at %.6f s", (unsigned long long)recipient->address.mailbox,
                     state->params->name, recipient->junk ? " (Junk folder)" : "",
                     client_kind_name(reader_client_kind(&state->readers,
                                                         recipient->address.mailbox)),
                     sim_time_to_seconds(recipient->seen));
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
    journey_note(world, inbound->message, "written to the %s mail store and cache",
                 state->params->name);
    engine_schedule(world->engine, delay, on_stored, inbound, 0);
}

static void on_processed(struct engine *engine, void *object, uint64_t argument)
{
    struct inbound *inbound = object;
    struct world *world = inbound->world;
    struct provider_state *state = &world->providers[inbound->provider];
    double spam = state->params->processing.spam_probability;

    station_release(&state->processing);
    journey_note(world, inbound->message, "spam, virus and rule checks done at %s",
                 state->params->name);
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

/* The rate limits of `provider` that apply at `step`: takes a token from
 * each and returns the first refusal's reply code (with its enhanced
 * code), or 0 when every limit allows. */
static int check_rate_limits(struct world *world, uint32_t provider,
                             enum rate_limiter_step step,
                             const struct receive_client *client,
                             char *enhanced, size_t enhanced_size)
{
    struct provider_state *state = &world->providers[provider];
    const struct smtp_in_policy *policy = &state->params->smtp_in.policy;
    sim_time now = engine_now(world->engine);

    for (size_t i = 0; i < policy->rate_limit_count; i++) {
        const struct rate_limiter_params *limit = &policy->rate_limits[i];
        if (limit->step != step)
            continue;
        const char *key = limit->key == RATE_LIMITER_KEY_CLIENT ? client->key
                                                                : client->sender_domain;
        if (!rate_limiter_allow(state->rate_limiters[i], key, now)) {
            snprintf(enhanced, enhanced_size, "%s", limit->enhanced);
            return limit->code;
        }
    }
    return 0;
}

int receive_path_greeting(struct world *world, uint32_t provider,
                          struct receive_client *client, int *server)
{
    struct provider_state *state = &world->providers[provider];
    char enhanced[16];

    *server = -1;
    if (state->connection_limit) {
        if (!rate_limiter_connection_open(state->connection_limit, client->key))
            return 421;
        client->connection_counted = true;
    }
    if (check_rate_limits(world, provider, RATE_LIMITER_STEP_CONNECT, client, enhanced,
                          sizeof enhanced) != 0)
        return 421;
    if (!receive_path_open_session(world, provider, server))
        return 421;
    if (gsl_rng_uniform(state->rng_smtp_in) < state->params->smtp_in.spam_source)
        return 554;
    return 220;
}

void receive_path_end_session(struct world *world, uint32_t provider,
                              struct receive_client *client, int *server)
{
    struct provider_state *state = &world->providers[provider];

    if (*server >= 0)
        receive_path_close_session(world, provider, *server);
    *server = -1;
    if (client->connection_counted)
        rate_limiter_connection_close(state->connection_limit, client->key);
    client->connection_counted = false;
}

/*
 * Checks RCPT TO in the order a Postfix smtpd_recipient_restrictions list
 * usually has: rate limit, unknown mailbox (550 5.1.1), mailbox over quota
 * (452 4.2.2), then greylisting (450 4.2.0).  Sites put greylisting last so
 * that mail they would reject anyway leaves no greylist entry.
 * MODEL: unknown mailboxes and full ones are fixed fractions drawn per
 * RCPT; real servers look the mailbox up.
 */
int receive_path_check_recipient(struct world *world, uint32_t provider,
                                 const struct receive_client *client,
                                 const char *recipient, char *enhanced,
                                 size_t enhanced_size)
{
    struct provider_state *state = &world->providers[provider];
    const struct smtp_in_params *params = &state->params->smtp_in;

    int code = check_rate_limits(world, provider, RATE_LIMITER_STEP_RCPT, client,
                                 enhanced, enhanced_size);
    if (code != 0)
        return code;
    if (gsl_rng_uniform(state->rng_smtp_in) < params->unknown_recipient) {
        snprintf(enhanced, enhanced_size, "5.1.1");
        return 550;
    }
    if (params->policy.quota_full > 0 &&
        gsl_rng_uniform(state->rng_smtp_in) < params->policy.quota_full) {
        snprintf(enhanced, enhanced_size, "%s", SCENARIO_POLICY_QUOTA_ENHANCED);
        return SCENARIO_POLICY_QUOTA_CODE;
    }
    if (state->greylist &&
        greylist_check(state->greylist, client->address, client->sender, recipient,
                       engine_now(world->engine)) == GREYLIST_DEFER) {
        snprintf(enhanced, enhanced_size, "%s", GREYLIST_REPLY_ENHANCED);
        return GREYLIST_REPLY_CODE;
    }
    snprintf(enhanced, enhanced_size, "2.1.5");
    return 250;
}

/* Checks the end of data.  A rate limit here rejects a body that has
 * already crossed the network, so its bytes are counted.  A full incoming
 * queue gets 452 4.3.1 (insufficient system storage, RFC 3463).  Returns
 * 250 when the caller may hand the copy to the incoming queue. */
int receive_path_check_message(struct world *world, uint32_t provider,
                               const struct receive_client *client, uint64_t size)
{
    struct provider_state *state = &world->providers[provider];
    char enhanced[16];

    int code = check_rate_limits(world, provider, RATE_LIMITER_STEP_DATA, client,
                                 enhanced, sizeof enhanced);
    if (code != 0) {
        state->bytes_refused_after_data += size;
        return code;
    }
    if (!receive_path_has_room(world, provider))
        return 452;
    return 250;
}
