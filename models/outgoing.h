/* The outgoing queue between delivery attempts; see outgoing.c. */
#ifndef MAILSIM_OUTGOING_H
#define MAILSIM_OUTGOING_H

#include <stddef.h>
#include <stdint.h>

#include "models/message.h"
#include "sim/simtime.h"

struct envelope;
struct provider_state;
struct world;

/* Keeps the envelope for a retry at the time the provider's retry policy
 * gives, or bounces it when the policy gives up.  Call at the failure. */
void outgoing_defer(struct world *world, struct envelope *envelope);

/* Bounces the recipients in `indices` (message recipient indices) with one
 * DSN for all of them; a DSN's own recipient is dropped instead. */
void outgoing_bounce(struct world *world, struct message *message,
                     const uint16_t *indices, size_t count, enum outcome_reason reason);

/* Counts an attempt that reached no host of `destination`, and marks the
 * destination dead for a while after the configured number in a row. */
void outgoing_count_unreached(struct provider_state *sender, size_t destination,
                              sim_time now);

/* Parks an envelope until a session to its destination ends. */
void outgoing_wait_for_destination(struct provider_state *sender,
                                   struct envelope *envelope, size_t destination);

/* Removes and returns the next parked envelope of `destination`, or NULL. */
struct envelope *outgoing_take_waiting(struct provider_state *sender, size_t destination);

/* Hands the next parked envelope of `destination` back to the queue. */
void outgoing_wake_waiting(struct provider_state *sender, size_t destination);

#endif
