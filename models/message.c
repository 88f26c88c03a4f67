#include "models/message.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const phase_names[PHASE_COUNT] = {
    [PHASE_NEW] = "new",
    [PHASE_QUEUED] = "queued",
    [PHASE_ACTIVE] = "active",
    [PHASE_DEFERRED] = "deferred",
    [PHASE_DELIVERED] = "delivered",
    [PHASE_BOUNCED] = "bounced",
    [PHASE_REJECTED] = "rejected",
    [PHASE_DROPPED] = "dropped",
};

static const char *const reason_names[REASON_COUNT] = {
    [REASON_NONE] = "",
    [REASON_RATE_LIMIT] = "rate_limit",
    [REASON_WEB_QUEUE_FULL] = "web_queue_full",
    [REASON_TOO_LARGE] = "too_large",
    [REASON_OUTGOING_FULL] = "outgoing_queue_full",
    [REASON_SMTP_PERMANENT] = "smtp_permanent",
    [REASON_LIFETIME] = "queue_lifetime",
    [REASON_NO_MX] = "no_mx",
    [REASON_NXDOMAIN] = "nxdomain",
    [REASON_NULL_MX] = "null_mx",
    [REASON_WEB_UNAVAILABLE] = "web_unavailable",
};

const char *recipient_phase_name(enum recipient_phase phase)
{
    return (unsigned)phase < PHASE_COUNT ? phase_names[phase] : "invalid";
}

const char *outcome_reason_name(enum outcome_reason reason)
{
    return (unsigned)reason < REASON_COUNT ? reason_names[reason] : "invalid";
}

struct message *message_new(struct ledger *ledger, uint64_t id,
                            uint16_t recipient_count, sim_time now)
{
    struct message *message = calloc(1, sizeof *message +
                                     recipient_count * sizeof(struct recipient));
    if (!message) {
        fprintf(stderr, "mailsim: out of memory for message %llu\n",
                (unsigned long long)id);
        abort();
    }
    message->id = id;
    message->state = MESSAGE_CREATED;
    message->submitted = now;
    message->accepted = -1;
    message->finished = -1;
    message->recipient_count = recipient_count;
    message->phase_count[PHASE_NEW] = recipient_count;
    for (uint16_t i = 0; i < recipient_count; i++) {
        message->recipients[i].phase = PHASE_NEW;
        message->recipients[i].stored = -1;
        message->recipients[i].seen = -1;
    }
    ledger_create(ledger);
    return message;
}

void message_free(struct message *message)
{
    free(message);
}

static bool phase_is_final(enum recipient_phase phase)
{
    return phase >= PHASE_DELIVERED;
}

/* The ledger state that the recipients' phases imply. */
static enum message_state state_from_phases(const struct message *message)
{
    const uint16_t *count = message->phase_count;
    uint16_t finished = count[PHASE_DELIVERED] + count[PHASE_BOUNCED] +
                        count[PHASE_REJECTED] + count[PHASE_DROPPED];

    if (finished < message->recipient_count) {
        if (count[PHASE_ACTIVE] > 0)
            return MESSAGE_IN_DELIVERY;
        if (count[PHASE_QUEUED] > 0)
            return MESSAGE_QUEUED;
        if (count[PHASE_DEFERRED] > 0)
            return MESSAGE_DEFERRED;
        return MESSAGE_CREATED;
    }
    if (count[PHASE_REJECTED] == message->recipient_count)
        return MESSAGE_REJECTED;
    if (count[PHASE_DROPPED] > 0)
        return MESSAGE_DROPPED;
    if (count[PHASE_BOUNCED] > 0)
        return MESSAGE_BOUNCED;
    return MESSAGE_DELIVERED;
}

bool message_set_phase(struct message *message, struct ledger *ledger,
                       uint16_t index, enum recipient_phase phase,
                       sim_time now)
{
    struct recipient *recipient = &message->recipients[index];

    if (phase_is_final(recipient->phase)) {
        fprintf(stderr, "mailsim: internal error: message %llu recipient %u "
                "moved from final phase %s to %s\n",
                (unsigned long long)message->id, (unsigned)index,
                recipient_phase_name(recipient->phase),
                recipient_phase_name(phase));
        abort();
    }
    message->phase_count[recipient->phase]--;
    message->phase_count[phase]++;
    recipient->phase = phase;

    enum message_state next = state_from_phases(message);
    if (next == message->state)
        return false;

    /* A message that goes straight from the web server to a final state
     * still passes through in_delivery, so the ledger sees every step. */
    if (message->state == MESSAGE_CREATED && message_state_is_final(next) &&
        next != MESSAGE_REJECTED) {
        ledger_move(ledger, MESSAGE_CREATED, MESSAGE_IN_DELIVERY);
        message->state = MESSAGE_IN_DELIVERY;
    }
    ledger_move(ledger, message->state, next);
    message->state = next;
    if (!message_state_is_final(next))
        return false;
    message->finished = now;
    return true;
}
