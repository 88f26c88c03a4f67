/*
 * Retry schedules of a sending MTA for one queued message, as pure
 * functions of the policy, the message's retry state and the time of a
 * failed attempt.
 *
 * Five policies:
 *
 *   exponential  wait min(initial * factor^(n-1), maximum) after failure n,
 *                optionally jittered; bounce at the queue lifetime.  The
 *                default, with the semantics of struct retry_params.
 *   postfix      Postfix's queue manager: wait the message's age clamped to
 *                [minimal_backoff_time, maximal_backoff_time], then wait for
 *                the next deferred-queue scan.
 *   exim         Exim's retry rules (F, G and H), timed from the first
 *                failure; bounce after the last rule's cutoff.
 *   fixed        the same wait after every failure.
 *   ladder       an explicit list of waits whose last entry repeats.
 *
 * The driver keeps one struct retry_state per queued message and starts it
 * with retry_state_init when the message enters the queue.  The first
 * attempt happens at once.  After each failed attempt the driver calls
 * retry_policy_on_failure, which returns the decision and records the
 * failure.
 *
 * Times are sim_time (nanoseconds since the start of the run).
 */
#ifndef MAILSIM_RETRY_POLICY_H
#define MAILSIM_RETRY_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include <gsl/gsl_rng.h>

#include "sim/simtime.h"

/* Returned by retry_policy_next_attempt when the message bounces now. */
#define RETRY_BOUNCE ((sim_time)-1)

/* Bounds of the fixed arrays in struct retry_policy; the scenario loader
 * rejects longer lists. */
#define RETRY_EXIM_RULES_MAX 16
#define RETRY_LADDER_MAX 32

enum retry_policy_kind {
    RETRY_POLICY_EXPONENTIAL,
    RETRY_POLICY_POSTFIX,
    RETRY_POLICY_EXIM,
    RETRY_POLICY_FIXED,
    RETRY_POLICY_LADDER,
    RETRY_POLICY_KIND_COUNT
};

/* Kind of one Exim retry rule, named by the letter Exim uses. */
enum retry_exim_kind {
    RETRY_EXIM_F,              /* fixed interval */
    RETRY_EXIM_G,              /* geometric: previous interval x factor */
    RETRY_EXIM_H,              /* G, randomised below the G value */
    RETRY_EXIM_KIND_COUNT
};

/* One Exim rule "F,cutoff,interval" or "G,cutoff,interval,factor".  A rule
 * applies while the time since the first failure is at most `cutoff`. */
struct retry_exim_rule {
    enum retry_exim_kind kind;
    sim_time cutoff;           /* from the first failure */
    sim_time interval;         /* F: the interval; G, H: the minimum */
    double factor;             /* G, H only */
};

/* Postfix's queue manager parameters (postconf(5) names). */
struct retry_postfix_params {
    sim_time minimal_backoff_time;
    sim_time maximal_backoff_time;
    sim_time queue_run_delay;  /* period of the deferred-queue scans */
};

struct retry_exim_params {
    struct retry_exim_rule rules[RETRY_EXIM_RULES_MAX];
    size_t rule_count;         /* at least 1 */
    sim_time retry_interval_max;   /* cap on one interval */
    sim_time queue_run_interval;   /* period of queue runs; 0: none */
};

struct retry_exponential_params {
    sim_time initial;          /* wait after the first failure */
    double factor;             /* >= 1 */
    sim_time maximum;          /* cap on one wait, before jitter */
    double jitter;             /* in [0, 1]: each wait is scaled by a
                                  uniform factor in [1 - jitter, 1 + jitter) */
};

struct retry_policy {
    enum retry_policy_kind kind;
    /* Every policy but exim: a failure at this age or later bounces. */
    sim_time queue_lifetime;
    /* Age after which the sender gets a "delayed" notice; 0: never.  Exim
     * repeats the notice every delay_warning of age, the others send one. */
    sim_time delay_warning;
    struct retry_exponential_params exponential;
    struct retry_postfix_params postfix;
    struct retry_exim_params exim;
    sim_time fixed_interval;
    sim_time ladder[RETRY_LADDER_MAX];
    size_t ladder_count;       /* at least 1 for the ladder policy */
};

/* Retry state of one queued message, kept by the driver between attempts. */
struct retry_state {
    sim_time queued;           /* entered the queue; its age counts from here */
    int failures;              /* failed attempts recorded so far */
    sim_time first_failure;    /* time of failure 1; unset while failures == 0 */
    sim_time last_failure;     /* time of the latest recorded failure */
    /* Earliest retry time computed after last_failure, before rounding up
     * to a queue run (Exim's next_try). */
    sim_time retry_time;
    int warnings;              /* delay warnings sent */
};

/* Decision after a failed attempt. */
struct retry_decision {
    bool bounce;               /* give up and return the message */
    sim_time next_attempt;     /* absolute time; RETRY_BOUNCE when bouncing */
    bool delay_warning;        /* send the sender a "delayed" notice now */
};

/* Fills every field with the defaults of `kind`: the software's own
 * defaults for postfix and exim, see retry_policy.c for the sources. */
void retry_policy_defaults(struct retry_policy *policy,
                           enum retry_policy_kind kind);

/* Name as written in scenario files ("postfix", ...), or "invalid". */
const char *retry_policy_kind_name(enum retry_policy_kind kind);

/* Starts the state of a message that entered the queue at `queued`. */
void retry_state_init(struct retry_state *state, sim_time queued);

/*
 * True when a failure at `now` makes the message bounce.  `state` records the
 * failures before this one.  exim: the time since the first failure (or
 * since queueing) is past the last rule's cutoff.  Every other policy: the
 * age has reached queue_lifetime.
 */
bool retry_policy_expired(const struct retry_policy *policy,
                          const struct retry_state *state, sim_time now);

/*
 * Time of the next attempt after a failure at `now`, or RETRY_BOUNCE when
 * retry_policy_expired.  `state` records the failures before this one and
 * is not changed.  `rng` is drawn from only by exponential with jitter and by
 * exim H rules, and may be NULL otherwise.  The result is >= now.
 */
sim_time retry_policy_next_attempt(const struct retry_policy *policy,
                                   const struct retry_state *state,
                                   sim_time now, gsl_rng *rng);

/* True when a failure at `now` that does not bounce is due to send a
 * delay warning (see struct retry_policy.delay_warning). */
bool retry_policy_warning_due(const struct retry_policy *policy,
                              const struct retry_state *state, sim_time now);

/*
 * Decides after a failed attempt that ended at `now` and records it in
 * `state`: the bounce, the next attempt and the delay warning above.  Calls
 * must come in time order.
 */
struct retry_decision retry_policy_on_failure(const struct retry_policy *policy,
                                              struct retry_state *state,
                                              sim_time now, gsl_rng *rng);

#endif
