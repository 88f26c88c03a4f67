#include "models/delivery_policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Failures before the server has greeted us (no connection, or no 220
 * greeting) carry no verdict on the message, so another MX host may accept
 * it (RFC 5321 5.1: the client tries the MX hosts in order until a delivery
 * attempt succeeds).  A 5xx greeting is treated like a 4xx one, as Postfix
 * does with its default smtp_skip_5xx_greeting = yes: the next MX host is
 * tried, and on the last host the message is deferred, not bounced.
 */
static enum delivery_decision policy_before_greeting(bool more_mx_hosts)
{
    return more_mx_hosts ? DECIDE_NEXT_MX : DECIDE_DEFER;
}

/*
 * Once the server has greeted us, a 4xx defers and a 5xx bounces
 * (RFC 5321 4.2.1: 4yz may succeed if repeated, 5yz should not be
 * repeated).  NOTE: Postfix also tries a backup MX host after a 4xx at
 * these steps; mailsim defers instead because the MX hosts of a provider
 * share one mailbox store and would return the same reply.
 */
static enum delivery_decision policy_after_greeting(enum smtp_reply_class cls)
{
    return cls == SMTP_REPLY_TRANSIENT ? DECIDE_DEFER : DECIDE_BOUNCE;
}

enum delivery_decision delivery_decide(enum failure_scope scope,
                                       enum smtp_reply_class cls,
                                       bool more_mx_hosts)
{
    if (cls == SMTP_REPLY_POSITIVE)
        return DECIDE_DELIVERED;

    switch (scope) {
    case FAILURE_SCOPE_CONNECT:
    case FAILURE_SCOPE_GREETING:
        return policy_before_greeting(more_mx_hosts);
    case FAILURE_SCOPE_SESSION:
    case FAILURE_SCOPE_MESSAGE:
    case FAILURE_SCOPE_RECIPIENT:
        return policy_after_greeting(cls);
    default:
        fprintf(stderr, "delivery_decide: failure class %s with scope %s\n",
                smtp_reply_class_name(cls), delivery_scope_name(scope));
        abort();
    }
}

const char *delivery_decision_name(enum delivery_decision decision)
{
    static const char *const names[DECIDE_COUNT] = {
        [DECIDE_DELIVERED] = "DELIVERED",
        [DECIDE_NEXT_MX] = "NEXT_MX",
        [DECIDE_DEFER] = "DEFER",
        [DECIDE_BOUNCE] = "BOUNCE",
    };

    if ((unsigned)decision >= DECIDE_COUNT)
        return "UNKNOWN";
    return names[decision];
}

const char *delivery_scope_name(enum failure_scope scope)
{
    static const char *const names[FAILURE_SCOPE_COUNT] = {
        [FAILURE_SCOPE_NONE] = "none",
        [FAILURE_SCOPE_CONNECT] = "connect",
        [FAILURE_SCOPE_GREETING] = "greeting",
        [FAILURE_SCOPE_SESSION] = "session",
        [FAILURE_SCOPE_MESSAGE] = "message",
        [FAILURE_SCOPE_RECIPIENT] = "recipient",
    };

    if ((unsigned)scope >= FAILURE_SCOPE_COUNT)
        return "unknown";
    return names[scope];
}

sim_time retry_next_delay(const struct retry_params *params, int failures)
{
    double delay;

    if (failures < 1) {
        fprintf(stderr, "retry_next_delay: failures must be >= 1, got %d\n",
                failures);
        abort();
    }
    /* pow() of an integer factor is exact, so 5 min * 2^k has no rounding
     * error; the comparison in double also catches overflow to infinity. */
    delay = (double)params->initial * pow(params->factor, failures - 1);
    if (!(delay < (double)params->maximum))
        return params->maximum;
    return (sim_time)llround(delay);
}

/* A message whose time in the queue has reached the lifetime is not
 * retried, so the test is >=. */
bool retry_expired(const struct retry_params *params, sim_time first_queued,
                   sim_time now)
{
    return now - first_queued >= params->queue_lifetime;
}
