/*
 * The outgoing queue's bookkeeping between delivery attempts: deferring an
 * envelope by the provider's retry policy, bouncing recipients with a DSN,
 * and the per-destination limits (concurrency and dead destinations).
 * smtp_session.c decides when; this file keeps the state.
 */
#include "models/outgoing.h"

#include <stdio.h>
#include <stdlib.h>

#include "models/journey.h"
#include "models/retry_policy.h"
#include "models/world.h"

/* Parks an envelope until a session to its domain ends, as Postfix's queue
 * manager keeps mail for a destination at its concurrency limit.  The
 * worker is free for other destinations meanwhile. */
void outgoing_wait_for_destination(struct provider_state *sender, struct envelope *envelope,
                                 size_t destination)
{
    envelope->next_waiting = NULL;
    if (sender->destination_waiting_tail[destination])
        sender->destination_waiting_tail[destination]->next_waiting = envelope;
    else
        sender->destination_waiting[destination] = envelope;
    sender->destination_waiting_tail[destination] = envelope;
    sender->waiting_for_destination++;
    time_average_set(&sender->waiting_average, engine_now(sender->world->engine),
                     (double)sender->waiting_for_destination);
    uint64_t waiting = sender->outgoing.length + sender->waiting_for_destination;
    if (waiting > sender->peak_outgoing)
        sender->peak_outgoing = waiting;
}

static void on_retry(struct engine *engine, void *object, uint64_t argument)
{
    struct envelope *envelope = object;
    struct world *world = envelope->world;
    struct provider_state *sender = &world->providers[envelope->from_provider];

    sender->deferred--;
    time_average_set(&sender->deferred_average, engine_now(engine),
                     (double)sender->deferred);
    send_path_queue_envelope(world, envelope);
}

/* Bounces the recipients in `indices` (message recipient indices) with one
 * DSN for all of them; a DSN's own recipient is dropped instead. */
void outgoing_bounce(struct world *world, struct message *message,
                              const uint16_t *indices, size_t count,
                              enum outcome_reason reason)
{
    if (count == 0)
        return;
    journey_note(world, message, "%zu recipient(s) bounce: %s", count,
                 outcome_reason_name(reason));
    if (!message->is_dsn)
        send_path_bounce(world, message);
    for (size_t i = 0; i < count; i++) {
        message->recipients[indices[i]].reason = reason;
        world_finish_recipient(world, message, indices[i],
                               message->is_dsn ? PHASE_DROPPED : PHASE_BOUNCED);
    }
}

/* "Delayed" notice to the sender, a DSN like a bounce (RFC 3464 action
 * "delayed") that leaves the message queued. */
static void warn_delayed(struct world *world, struct message *message)
{
    if (message->is_dsn)
        return;
    world->delay_warnings++;
    send_path_bounce(world, message);
}

/* Keeps the envelope for a retry at the time the provider's retry policy
 * gives, or bounces it when the policy gives up (queue lifetime, Exim's
 * last cutoff).  `now` is the failure time. */
void outgoing_defer(struct world *world, struct envelope *envelope)
{
    struct provider_state *sender = &world->providers[envelope->from_provider];
    const struct retry_policy *policy = &sender->params->smtp_out.policy.retry;
    struct message *message = envelope->message;
    sim_time now = engine_now(world->engine);

    envelope->failures++;
    struct retry_decision decision = retry_policy_on_failure(policy, &envelope->retry,
                                                             now, sender->rng_retry);
    if (decision.bounce) {
        outgoing_bounce(world, message, envelope->recipients, envelope->recipient_count,
                    REASON_LIFETIME);
        world_envelope_free(world, envelope);
        return;
    }
    journey_note(world, message, "deferred after failure %u: next attempt at %.3f s",
                 (unsigned)envelope->failures, sim_time_to_seconds(decision.next_attempt));
    if (decision.delay_warning)
        warn_delayed(world, message);
    for (uint16_t i = 0; i < envelope->recipient_count; i++)
        world_set_phase(world, message, envelope->recipients[i], PHASE_DEFERRED);
    sender->deferred++;
    if (sender->deferred > sender->peak_deferred)
        sender->peak_deferred = sender->deferred;
    time_average_set(&sender->deferred_average, now, (double)sender->deferred);
    engine_schedule_at(world->engine, decision.next_attempt, on_retry, envelope, 0);
}

/* Postfix's dead destination: after `failures` attempts in a row that
 * reached no host, the sender stops trying the domain for `pause`. */
void outgoing_count_unreached(struct provider_state *sender, size_t destination,
                              sim_time now)
{
    const struct dead_destination_params *dead =
        &sender->params->smtp_out.policy.dead_destination;

    if (dead->failures <= 0)
        return;
    if (++sender->destination_failures[destination] < dead->failures)
        return;
    sender->destination_failures[destination] = 0;
    sender->destination_dead_until[destination] = now + dead->pause;
}

/* Starts the next envelope waiting for a session slot to its domain. */
struct envelope *outgoing_take_waiting(struct provider_state *sender, size_t destination)
{
    struct envelope *envelope = sender->destination_waiting[destination];
    if (!envelope)
        return NULL;
    sender->destination_waiting[destination] = envelope->next_waiting;
    if (!envelope->next_waiting)
        sender->destination_waiting_tail[destination] = NULL;
    envelope->next_waiting = NULL;
    sender->waiting_for_destination--;
    time_average_set(&sender->waiting_average, engine_now(sender->world->engine),
                     (double)sender->waiting_for_destination);
    return envelope;
}

void outgoing_wake_waiting(struct provider_state *sender, size_t destination)
{
    struct envelope *envelope = outgoing_take_waiting(sender, destination);
    if (envelope)
        station_resume(&sender->outgoing, envelope);
}

