#include "models/ledger.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const state_names[MESSAGE_STATE_COUNT] = {
    [MESSAGE_CREATED] = "created",
    [MESSAGE_QUEUED] = "queued",
    [MESSAGE_IN_DELIVERY] = "in_delivery",
    [MESSAGE_DEFERRED] = "deferred",
    [MESSAGE_DELIVERED] = "delivered",
    [MESSAGE_BOUNCED] = "bounced",
    [MESSAGE_REJECTED] = "rejected",
    [MESSAGE_DROPPED] = "dropped",
};

/* allowed[from] is a bit set of the states a message may move to. */
#define BIT(state) (1u << (state))
static const unsigned allowed[MESSAGE_STATE_COUNT] = {
    [MESSAGE_CREATED] = BIT(MESSAGE_QUEUED) | BIT(MESSAGE_IN_DELIVERY) |
                        BIT(MESSAGE_REJECTED),
    [MESSAGE_QUEUED] = BIT(MESSAGE_IN_DELIVERY) | BIT(MESSAGE_DEFERRED),
    [MESSAGE_DEFERRED] = BIT(MESSAGE_IN_DELIVERY) | BIT(MESSAGE_QUEUED) |
                         BIT(MESSAGE_BOUNCED),
    [MESSAGE_IN_DELIVERY] = BIT(MESSAGE_QUEUED) | BIT(MESSAGE_DEFERRED) |
                            BIT(MESSAGE_DELIVERED) | BIT(MESSAGE_BOUNCED) |
                            BIT(MESSAGE_DROPPED),
};

const char *message_state_name(enum message_state state)
{
    if ((unsigned)state >= MESSAGE_STATE_COUNT)
        return "invalid";
    return state_names[state];
}

bool message_state_is_final(enum message_state state)
{
    return state == MESSAGE_DELIVERED || state == MESSAGE_BOUNCED ||
           state == MESSAGE_REJECTED || state == MESSAGE_DROPPED;
}

void ledger_init(struct ledger *ledger)
{
    *ledger = (struct ledger){0};
}

void ledger_create(struct ledger *ledger)
{
    ledger->count[MESSAGE_CREATED]++;
    ledger->created++;
}

void ledger_move(struct ledger *ledger, enum message_state from,
                 enum message_state to)
{
    if ((unsigned)from >= MESSAGE_STATE_COUNT ||
        (unsigned)to >= MESSAGE_STATE_COUNT || !(allowed[from] & BIT(to))) {
        fprintf(stderr, "mailsim: internal error: ledger move %s -> %s is not allowed\n",
                message_state_name(from), message_state_name(to));
        abort();
    }
    if (ledger->count[from] == 0) {
        fprintf(stderr, "mailsim: internal error: ledger move %s -> %s with no message in %s\n",
                message_state_name(from), message_state_name(to),
                message_state_name(from));
        abort();
    }
    ledger->count[from]--;
    ledger->count[to]++;
}

uint64_t ledger_in_flight(const struct ledger *ledger)
{
    uint64_t total = 0;
    for (int state = 0; state < MESSAGE_STATE_COUNT; state++)
        if (!message_state_is_final(state))
            total += ledger->count[state];
    return total;
}

bool ledger_check(const struct ledger *ledger, char *why, size_t why_size)
{
    uint64_t sum = 0;
    for (int state = 0; state < MESSAGE_STATE_COUNT; state++)
        sum += ledger->count[state];
    if (sum == ledger->created)
        return true;

    int used = snprintf(why, why_size, "created %" PRIu64 " but states sum to %" PRIu64 ":",
                        ledger->created, sum);
    for (int state = 0; state < MESSAGE_STATE_COUNT && used >= 0 &&
                        (size_t)used < why_size; state++)
        used += snprintf(why + used, why_size - (size_t)used, " %s=%" PRIu64,
                         state_names[state], ledger->count[state]);
    return false;
}
