/*
 * The message ledger: every message is in exactly one state, and the ledger
 * counts messages per state.  A move checks that the message really is in
 * the state it leaves and that the transition is allowed, so a model bug
 * that loses or double-counts a message aborts the run at the event that
 * caused it instead of skewing the summary.
 *
 *   created -> queued | in_delivery | rejected
 *   queued | deferred -> in_delivery
 *   in_delivery -> queued | deferred | delivered | bounced | dropped
 *   queued -> deferred (a recipient waits for a retry while none is queued)
 *   deferred -> queued (retry) | bounced (queue lifetime expired)
 *
 * delivered, bounced, rejected and dropped are final.
 */
#ifndef MAILSIM_LEDGER_H
#define MAILSIM_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum message_state {
    MESSAGE_CREATED,      /* submitted by a client, not yet accepted */
    MESSAGE_QUEUED,       /* waiting in a queue for a worker */
    MESSAGE_IN_DELIVERY,  /* a worker, session or store is handling it */
    MESSAGE_DEFERRED,     /* waiting for a retry after a temporary failure */
    MESSAGE_DELIVERED,    /* stored in every recipient's mailbox */
    MESSAGE_BOUNCED,      /* some recipient failed; the sender got a DSN */
    MESSAGE_REJECTED,     /* refused at submission (rate limit, size) */
    MESSAGE_DROPPED,      /* a DSN that could not be delivered */
    MESSAGE_STATE_COUNT
};

struct ledger {
    uint64_t count[MESSAGE_STATE_COUNT];
    uint64_t created;     /* messages ever entered; equals the sum of count[] */
};

const char *message_state_name(enum message_state state);
bool message_state_is_final(enum message_state state);

void ledger_init(struct ledger *ledger);

/* Counts a new message in MESSAGE_CREATED. */
void ledger_create(struct ledger *ledger);

/* Moves one message from `from` to `to`.  Aborts with both state names if
 * the transition is not allowed or no message is counted in `from`. */
void ledger_move(struct ledger *ledger, enum message_state from,
                 enum message_state to);

/* Messages not yet in a final state. */
uint64_t ledger_in_flight(const struct ledger *ledger);

/* Checks that the per-state counts add up to the messages created.  On
 * failure writes the counts into `why` and returns false. */
bool ledger_check(const struct ledger *ledger, char *why, size_t why_size);

#endif
