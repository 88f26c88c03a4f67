/*
 * The sending side up to the outgoing queue: the submission load balancer
 * with its token bucket, the web servers that validate a submission, the
 * same-provider shortcut into storage, and DSNs for bounced recipients.
 */
#include <stdio.h>
#include <stdlib.h>

#include "models/address.h"
#include "models/journey.h"
#include "models/workload.h"
#include "models/world.h"

/* Refills the bucket for the time since the last request and takes one
 * token.  Returns false when the bucket is empty. */
static bool take_token(struct token_bucket *bucket, const struct rate_limit *limit,
                       sim_time now)
{
    if (limit->rate <= 0)
        return true;
    double refill = sim_time_to_seconds(now - bucket->updated) * limit->rate;
    bucket->tokens += refill;
    if (bucket->tokens > limit->burst)
        bucket->tokens = limit->burst;
    bucket->updated = now;
    if (bucket->tokens < 1.0)
        return false;
    bucket->tokens -= 1.0;
    return true;
}

/* Picks a web server that is up (has a worker), or NULL when all are
 * down: the balancer's health checks take a down server out of rotation. */
static struct station *choose_web_server(struct provider_state *state)
{
    uint32_t servers = (uint32_t)state->params->web.servers;

    if (state->params->load_balancer.policy == LB_ROUND_ROBIN) {
        for (uint32_t tried = 0; tried < servers; tried++) {
            struct station *station = &state->web_servers[state->next_web];
            state->next_web = (state->next_web + 1) % servers;
            if (station->workers > 0)
                return station;
        }
        return NULL;
    }
    /* Least connections: the minimum of requests in service or queued.
     * Ties go to the lowest index, so the choice is deterministic. */
    struct station *best = NULL;
    for (uint32_t i = 0; i < servers; i++) {
        struct station *station = &state->web_servers[i];
        if (station->workers == 0)
            continue;
        if (!best || station->busy + station->length < best->busy + best->length)
            best = station;
    }
    return best;
}

static void reject_message(struct world *world, struct message *message,
                           enum outcome_reason reason)
{
    journey_note(world, message, "submission rejected: %s", outcome_reason_name(reason));
    message->reason = reason;
    for (uint16_t i = 0; i < message->recipient_count; i++) {
        message->recipients[i].reason = reason;
        if (i + 1 == message->recipient_count) {
            world_finish_recipient(world, message, i, PHASE_REJECTED);
            return;
        }
        world_set_phase(world, message, i, PHASE_REJECTED);
    }
}

void send_path_submit(struct world *world, const struct submission *submission)
{
    uint32_t sender_provider = submission->sender.provider;
    struct provider_state *state = &world->providers[sender_provider];
    struct message *message = world_message_new(world,
                                                (uint16_t)submission->recipient_count);

    world->messages_submitted++;
    message->sender = submission->sender;
    message->size = submission->size;
    message->attachment_size = submission->attachment_size;
    for (size_t i = 0; i < submission->recipient_count; i++) {
        struct recipient *recipient = &message->recipients[i];
        recipient->address = submission->recipients[i];
        recipient->external = recipient->address.provider != sender_provider;
    }

    if (journey_following(world, message)) {
        char sender[320];
        address_format(world->scenario, &message->sender, sender, sizeof sender);
        journey_write(world, message, "%s submits a message of %llu bytes to %u "
                      "recipient(s) through the %s load balancer", sender,
                      (unsigned long long)message->size, message->recipient_count,
                      state->params->name);
    }
    sim_time now = engine_now(world->engine);
    if (!take_token(&state->bucket, &state->params->load_balancer.limit, now)) {
        reject_message(world, message, REASON_RATE_LIMIT);
        return;
    }
    struct station *web_server = choose_web_server(state);
    if (!web_server)
        reject_message(world, message, REASON_WEB_UNAVAILABLE);
    else if (!station_offer(web_server, message))
        reject_message(world, message, REASON_WEB_QUEUE_FULL);
}

static void on_web_done(struct engine *engine, void *object, uint64_t argument);

void send_path_start_web(struct station *station, void *job)
{
    struct provider_state *state = station->context;
    uint64_t server = (uint64_t)(station - state->web_servers);
    sim_time service = world_sample_time(&state->params->web.service_time,
                                         state->rng_web);
    state->web_current[server] = job;
    journey_note(state->world, (struct message *)job, "web server %s validates it",
                 station->name);
    engine_schedule(station->engine, service, on_web_done, state, server);
}

static bool has_room(const struct station *station, size_t jobs)
{
    size_t idle = (size_t)(station->workers - station->busy);
    size_t free_slots = station->capacity - station->length;
    return jobs <= idle + free_slots;
}

/* Splits the external recipients into one envelope per destination
 * domain, the unit of an MX lookup.  Returns how many envelopes were made. */
static size_t make_envelopes(struct world *world, struct message *message,
                             struct envelope **envelopes)
{
    size_t count = 0;
    uint32_t from = message->sender.provider;

    for (uint16_t i = 0; i < message->recipient_count; i++) {
        struct recipient *recipient = &message->recipients[i];
        if (!recipient->external)
            continue;
        const struct address *to = &recipient->address;
        size_t e = 0;
        while (e < count && (envelopes[e]->to_provider != to->provider ||
                             envelopes[e]->to_domain != to->domain))
            e++;
        if (e == count)
            envelopes[count++] = world_envelope_new(world, message, from, to,
                                                    message->recipient_count);
        envelopes[e]->recipients[envelopes[e]->recipient_count++] = i;
    }
    return count;
}

static struct inbound *make_local_copy(struct world *world, struct message *message)
{
    uint16_t local = 0;
    for (uint16_t i = 0; i < message->recipient_count; i++)
        local += !message->recipients[i].external;
    if (local == 0)
        return NULL;

    struct inbound *inbound = world_inbound_new(world, message,
                                                message->sender.provider, local);
    for (uint16_t i = 0; i < message->recipient_count; i++)
        if (!message->recipients[i].external)
            inbound->recipients[inbound->recipient_count++] = i;
    return inbound;
}

/* Validates an accepted submission and routes it: same-provider recipients
 * straight to storage, the others to the outgoing queue.  Every recipient
 * leaves PHASE_NEW before any copy moves on, so the message never looks
 * half-created to the ledger. */
static void route_message(struct world *world, struct provider_state *state,
                          struct message *message)
{
    struct envelope *envelopes[SUBMISSION_MAX_RECIPIENTS];

    if (message->size > state->params->web.max_message_size) {
        state->error_queue++;
        reject_message(world, message, REASON_TOO_LARGE);
        return;
    }
    size_t external = 0;
    for (uint16_t i = 0; i < message->recipient_count; i++)
        external += message->recipients[i].external;
    if (external > 0 && !has_room(&state->outgoing, message->recipient_count)) {
        reject_message(world, message, REASON_OUTGOING_FULL);
        return;
    }

    size_t envelope_count = make_envelopes(world, message, envelopes);
    struct inbound *local = make_local_copy(world, message);
    journey_note(world, message, "web server accepts it: %u recipient(s) at %s go "
                 "straight to storage, %zu envelope(s) to the outgoing queue",
                 local ? local->recipient_count : 0, state->params->name, envelope_count);
    for (uint16_t i = 0; i < message->recipient_count; i++)
        world_set_phase(world, message, i,
                        message->recipients[i].external ? PHASE_QUEUED : PHASE_ACTIVE);

    for (size_t e = 0; e < envelope_count; e++)
        send_path_queue_envelope(world, envelopes[e]);
    if (local)
        receive_path_store(world, local);
}

static void on_web_done(struct engine *engine, void *object, uint64_t server)
{
    struct provider_state *state = object;
    struct message *message = state->web_current[server];

    state->web_current[server] = NULL;
    message->accepted = engine_now(engine);
    station_release(&state->web_servers[server]);
    route_message(state->world, state, message);
}

void send_path_queue_envelope(struct world *world, struct envelope *envelope)
{
    struct provider_state *state = &world->providers[envelope->from_provider];
    struct message *message = envelope->message;

    for (uint16_t i = 0; i < envelope->recipient_count; i++)
        if (message->recipients[envelope->recipients[i]].phase != PHASE_QUEUED)
            world_set_phase(world, message, envelope->recipients[i], PHASE_QUEUED);
    journey_note(world, message, "envelope for %s waits in %s (%zu ahead of it)",
                 world->scenario->providers[envelope->to_provider].domains[envelope->to_domain],
                 state->outgoing.name, state->outgoing.length);
    station_offer_unbounded(&state->outgoing, envelope);
}

/* A DSN goes from the null sender to the original sender, who is always a
 * mailbox of the sending provider, so it takes the local path to storage.
 * A DSN about a DSN is never sent (RFC 5321 section 6.1 and RFC 3464):
 * the failed DSN recipient is dropped instead. */
void send_path_bounce(struct world *world, struct message *original)
{
    struct message *dsn = world_message_new(world, 1);

    world->dsn_created++;
    dsn->is_dsn = true;
    dsn->sender = original->sender;
    /* MODEL: a DSN is about 2 KB of report plus the original's headers,
     * taken as at most 4 KB of it. */
    dsn->size = 2000 + (original->size < 4000 ? original->size : 4000);
    dsn->recipients[0].address = original->sender;
    dsn->journey_of = original->id;
    journey_note(world, original, "a DSN (message %llu) goes to the sender from <>",
                 (unsigned long long)dsn->id);
    dsn->accepted = engine_now(world->engine);

    struct inbound *copy = world_inbound_new(world, dsn, original->sender.provider, 1);
    copy->recipients[copy->recipient_count++] = 0;
    world_set_phase(world, dsn, 0, PHASE_ACTIVE);
    receive_path_store(world, copy);
}
