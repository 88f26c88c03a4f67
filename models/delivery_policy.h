/*
 * Decisions after a failed delivery attempt, kept in one place in the
 * manner of Postfix's smtp_trouble.c: try the next MX host, defer the
 * message for a later retry, or bounce it.  Also the retry schedule.
 *
 * Everything here is a pure function of its arguments.
 */
#ifndef MAILSIM_DELIVERY_POLICY_H
#define MAILSIM_DELIVERY_POLICY_H

#include <stdbool.h>

#include "models/scenario.h"
#include "models/smtp_reply.h"
#include "sim/simtime.h"

/* How much of a delivery a failure covers. */
enum failure_scope {
    FAILURE_SCOPE_NONE,        /* nothing failed */
    FAILURE_SCOPE_CONNECT,     /* no connection: refused or timed out */
    FAILURE_SCOPE_GREETING,    /* connected, but no 220 greeting: a 4xx or
                                  5xx greeting, or a timeout or lost
                                  connection while waiting for it */
    FAILURE_SCOPE_SESSION,     /* after the greeting: EHLO and HELO refused,
                                  421 at any step, timeout, lost connection */
    FAILURE_SCOPE_MESSAGE,     /* MAIL, DATA or end of data refused */
    FAILURE_SCOPE_RECIPIENT,   /* one RCPT refused */
    FAILURE_SCOPE_COUNT
};

enum delivery_decision {
    DECIDE_DELIVERED,          /* the server accepted the message */
    DECIDE_NEXT_MX,            /* try the next MX host now */
    DECIDE_DEFER,              /* keep the message and retry later */
    DECIDE_BOUNCE,             /* give up and notify the sender */
    DECIDE_COUNT
};

/*
 * Decides what to do about one recipient after an attempt.
 *
 * `cls` is the class of the reply that decided the outcome; pass
 * SMTP_REPLY_TRANSIENT for timeouts and lost connections.  A positive class
 * means delivered whatever the scope.  Intermediate and invalid classes are
 * protocol errors and count as permanent.  `more_mx_hosts` is true when an
 * untried MX host is left within this attempt.
 *
 *   scope               transient             permanent
 *   CONNECT, GREETING   next MX, else defer   next MX, else defer
 *   SESSION             defer                 bounce
 *   MESSAGE, RECIPIENT  defer                 bounce
 *
 * Aborts on FAILURE_SCOPE_NONE with a failing class (a caller bug).
 */
enum delivery_decision delivery_decide(enum failure_scope scope,
                                       enum smtp_reply_class cls,
                                       bool more_mx_hosts);

/* Upper-case name for logs: "NEXT_MX", ... */
const char *delivery_decision_name(enum delivery_decision decision);

/* Lower-case name for logs: "greeting", "recipient", ... */
const char *delivery_scope_name(enum failure_scope scope);

/*
 * Wait before the next attempt after `failures` failed attempts (1 after
 * the first): min(initial * factor^(failures - 1), maximum).  With
 * initial 5 min, factor 2 and maximum 4 h the waits are 5, 10, 20, 40, 80,
 * 160, 240, 240, ... minutes.  Aborts when `failures` < 1.
 */
sim_time retry_next_delay(const struct retry_params *params, int failures);

/* True when a message queued at `first_queued` has reached the queue
 * lifetime at `now` and bounces instead of being retried. */
bool retry_expired(const struct retry_params *params, sim_time first_queued,
                   sim_time now);

#endif
