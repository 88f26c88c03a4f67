/*
 * Synthetic mail submissions: one Poisson source per provider.
 *
 * The arrival rate of provider p at time t is
 *     mailboxes * rate_per_mailbox * profile[floor(t / 1 h) mod 24]
 * messages per second (profile 1 in every hour without has_profile).  The
 * process is generated exactly for this piecewise-constant rate: each gap
 * is an Exp(1) amount of "work" spent at the rate of each hour it crosses.
 *
 * Arrival times come from the RNG stream "workload.<provider name>" and
 * message content from "workload.<provider name>.content", so changing
 * content parameters leaves the arrival times unchanged.  Content draws
 * per message, in this order:
 *   1. sender: uniform over the provider's mailboxes;
 *   2. recipient count: round(recipients sample), clamped to
 *      [1, SUBMISSION_MAX_RECIPIENTS];
 *   3. per recipient attempt: one uniform for the destination domain (by
 *      share), then a uniform mailbox of that domain.  The mailbox is not
 *      the sender unless the domain has only one mailbox.  A recipient
 *      that repeats an earlier one of the message is redrawn, at most
 *      WORKLOAD_RECIPIENT_ATTEMPTS times in all.  After that it is
 *      dropped, so a message to a small domain may get fewer recipients.
 *   4. sizes as in workload_sample_size.
 */
#ifndef MAILSIM_WORKLOAD_H
#define MAILSIM_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "models/address.h"
#include "sim/simtime.h"

struct scenario;
struct workload_params;

#define SUBMISSION_MAX_RECIPIENTS 64
#define WORKLOAD_RECIPIENT_ATTEMPTS 8

/* One message as a user submits it to the provider's web tier. */
struct submission {
    sim_time time;
    struct address sender;
    size_t recipient_count;
    struct address recipients[SUBMISSION_MAX_RECIPIENTS];
    uint64_t size;             /* bytes, including the attachment */
    uint64_t attachment_size;  /* bytes; 0 when none */
};

struct workload_source;

/* Creates the source of provider index `provider`.  Destinations are the
 * provider's workload destinations; without any, every mailbox of every
 * provider is equally likely.  Destination domains with no mailboxes get
 * no mail.  Returns NULL if a destination domain is not served by any
 * provider or no destination has a mailbox.  The scenario must outlive
 * the source. */
struct workload_source *workload_source_new(const struct scenario *scenario,
                                            size_t provider);
void workload_source_free(struct workload_source *source);

/* Fills the next submission in time order.  Returns false, now and on every
 * later call, once the next arrival would be at or after
 * scenario->duration. */
bool workload_source_next(struct workload_source *source, struct submission *out);

/* Samples out->size and out->attachment_size from `params`.  Draws, in
 * this order: the message size, one uniform for the attachment decision
 * (always drawn), and the attachment size only if there is one.  Sizes are
 * rounded to whole bytes, at least 1 byte each and at most 2^62. */
void workload_sample_size(const struct workload_params *params, gsl_rng *rng,
                          struct submission *out);

#endif
