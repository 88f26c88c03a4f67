/*
 * The people reading mail: which client each mailbox uses, when it is
 * online, and when a message stored in the mailbox reaches the client.
 *
 * Webmail gets a WebSocket push and IMAP a notice on IDLE while online;
 * a POP3 client sees mail at its next poll while online; an offline reader
 * sees it when the next online period starts (at the next poll for POP3).
 *
 * Online and offline periods alternate, each exponentially distributed.
 * The periods of a mailbox are drawn lazily, only as far as a query needs,
 * so a mailbox that never receives mail costs one zeroed state record.
 */
#ifndef MAILSIM_READER_H
#define MAILSIM_READER_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "models/scenario.h"
#include "sim/simtime.h"

/* The online or offline period a mailbox is in, or the next one ahead of
 * the last query: see reader_seen_time for why that is enough. */
struct reader_period {
    sim_time start;
    sim_time end;            /* 0 before the first query */
    int online;
};

struct reader_pool {
    const struct client_params *params;
    uint64_t mailboxes;
    struct reader_period *periods;  /* one per mailbox */
    gsl_rng *rng;                   /* period lengths and push latency */
};

void reader_pool_init(struct reader_pool *pool, const struct client_params *params,
                      uint64_t mailboxes, gsl_rng *rng);
void reader_pool_fini(struct reader_pool *pool);

/* The client kind of a mailbox.  Kinds are assigned along the golden-ratio
 * sequence frac(m * 0.618...), so the shares hold closely over any range of
 * mailboxes without drawing random numbers. */
enum client_kind reader_client_kind(const struct reader_pool *pool,
                                    uint64_t mailbox);

const char *client_kind_name(enum client_kind kind);

/* Returns when the reader of `mailbox` has a message stored at `stored`.
 * Calls must come with non-decreasing `stored` times per mailbox, as they
 * do when `stored` is the simulation clock. */
sim_time reader_seen_time(struct reader_pool *pool, uint64_t mailbox,
                          sim_time stored);

#endif
