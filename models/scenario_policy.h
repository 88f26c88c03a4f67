/*
 * Sending and receiving policies of a provider as scenario parameters:
 * the retry policy, destination concurrency and dead-destination pause of
 * smtp_out, and greylisting, rate limits, session limits and full
 * mailboxes of smtp_in.  docs/scenario-format.md lists the keys.
 *
 * scenario.h includes this header, so it must not include scenario.h.
 */
#ifndef MAILSIM_SCENARIO_POLICY_H
#define MAILSIM_SCENARIO_POLICY_H

#include <stddef.h>

#include "models/greylist.h"
#include "models/rate_limiter.h"
#include "models/retry_policy.h"
#include "sim/simtime.h"

struct config;
struct config_node;
struct retry_params;

/* Bound of smtp_in.rate_limits; the loader rejects longer lists. */
#define SCENARIO_POLICY_RATE_LIMITS_MAX 8

/* Reply to RCPT TO for a mailbox over its quota: 452 is RFC 5321's
 * "insufficient system storage" and X.2.2 is RFC 3463's "mailbox full". */
#define SCENARIO_POLICY_QUOTA_CODE 452
#define SCENARIO_POLICY_QUOTA_ENHANCED "4.2.2"
#define SCENARIO_POLICY_QUOTA_TEXT "Mailbox full"

/* The sender stops trying a destination for `pause` after `failures`
 * attempts in a row failed to connect or to get a greeting. */
struct dead_destination_params {
    int failures;              /* 0: never */
    sim_time pause;
};

struct smtp_out_policy {
    struct retry_policy retry;
    int destination_concurrency;   /* sessions per destination domain */
    struct dead_destination_params dead_destination;
};

struct smtp_in_policy {
    struct greylist_params greylisting;
    struct rate_limiter_params rate_limits[SCENARIO_POLICY_RATE_LIMITS_MAX];
    size_t rate_limit_count;
    int connection_limit;      /* sessions per client; 0: no limit */
    double quota_full;         /* fraction of RCPT TO answered 452 4.2.2 */
};

/*
 * Reads the policy keys of one provider's smtp_out mapping (absent: every
 * default).  `legacy` is the struct retry_params that scenario.c already
 * read from the keys retry.initial, factor, maximum and queue_lifetime.
 * Errors go through `config` and are sticky.  A maximal_backoff_time below
 * minimal_backoff_time is allowed and prints a warning to config->errors.
 */
void scenario_policy_load_smtp_out(struct config *config,
                                   const struct config_node *smtp_out,
                                   const struct retry_params *legacy,
                                   struct smtp_out_policy *policy);

/* Reads the policy keys of one provider's smtp_in mapping. */
void scenario_policy_load_smtp_in(struct config *config,
                                  const struct config_node *smtp_in,
                                  struct smtp_in_policy *policy);

#endif
