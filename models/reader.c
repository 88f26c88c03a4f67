#include "models/reader.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_randist.h>

static const char *const kind_names[CLIENT_KIND_COUNT] = {
    [CLIENT_WEBMAIL] = "webmail",
    [CLIENT_IMAP] = "imap",
    [CLIENT_POP3] = "pop3",
};

/* Fractional part of the golden ratio: successive multiples are spread
 * evenly over [0, 1) (a Weyl sequence). */
static const double golden_fraction = 0.6180339887498949;

const char *client_kind_name(enum client_kind kind)
{
    return (unsigned)kind < CLIENT_KIND_COUNT ? kind_names[kind] : "invalid";
}

void reader_pool_init(struct reader_pool *pool, const struct client_params *params,
                      uint64_t mailboxes, gsl_rng *rng)
{
    *pool = (struct reader_pool){0};
    pool->params = params;
    pool->mailboxes = mailboxes;
    pool->rng = rng;
    pool->periods = calloc(mailboxes ? mailboxes : 1, sizeof *pool->periods);
    if (!pool->periods) {
        fprintf(stderr, "mailsim: out of memory for %llu mailboxes\n",
                (unsigned long long)mailboxes);
        abort();
    }
}

void reader_pool_fini(struct reader_pool *pool)
{
    free(pool->periods);
    *pool = (struct reader_pool){0};
}

static double weyl(uint64_t mailbox, double offset)
{
    double x = (double)mailbox * golden_fraction + offset;
    return x - floor(x);
}

enum client_kind reader_client_kind(const struct reader_pool *pool,
                                    uint64_t mailbox)
{
    double u = weyl(mailbox, 0.0);
    double cumulative = 0;
    for (int kind = 0; kind < CLIENT_KIND_COUNT - 1; kind++) {
        cumulative += pool->params->share[kind];
        if (u < cumulative)
            return kind;
    }
    return CLIENT_KIND_COUNT - 1;
}

static sim_time draw_period(struct reader_pool *pool, int online)
{
    sim_time mean = online ? pool->params->mean_online : pool->params->mean_offline;
    sim_time length = sim_time_from_seconds(
        gsl_ran_exponential(pool->rng, sim_time_to_seconds(mean)));
    return length > 0 ? length : 1;
}

/* Starts a mailbox in the stationary state of the on/off process: online
 * with probability on / (on + off), for an exponential remainder. */
static void start_periods(struct reader_pool *pool, struct reader_period *period)
{
    double on = sim_time_to_seconds(pool->params->mean_online);
    double off = sim_time_to_seconds(pool->params->mean_offline);
    period->online = gsl_rng_uniform(pool->rng) < on / (on + off);
    period->start = 0;
    period->end = draw_period(pool, period->online);
}

static void next_period(struct reader_pool *pool, struct reader_period *period)
{
    period->online = !period->online;
    period->start = period->end;
    period->end = period->start + draw_period(pool, period->online);
}

/* First POP3 poll at or after `t`: polls happen at phase + k * interval. */
static sim_time next_poll(const struct reader_pool *pool, uint64_t mailbox,
                          sim_time t)
{
    sim_time interval = pool->params->pop3_interval;
    sim_time phase = (sim_time)(weyl(mailbox, 0.5) * (double)interval);
    if (t <= phase)
        return phase;
    sim_time polls = (t - phase + interval - 1) / interval;
    return phase + polls * interval;
}

/*
 * The period cursor only moves forward, past periods in which nothing could
 * be seen.  So a later query at a time before the cursor's start falls in a
 * gap that an earlier query already found empty, and its answer is the same
 * instant the cursor points to: the start of the online period (webmail,
 * IMAP) or the first poll in it (POP3).
 */
sim_time reader_seen_time(struct reader_pool *pool, uint64_t mailbox,
                          sim_time stored)
{
    struct reader_period *period = &pool->periods[mailbox];
    enum client_kind kind = reader_client_kind(pool, mailbox);

    if (period->end == 0)
        start_periods(pool, period);

    for (;;) {
        while (period->end <= stored || !period->online)
            next_period(pool, period);
        sim_time from = stored > period->start ? stored : period->start;
        sim_time at = kind == CLIENT_POP3 ? next_poll(pool, mailbox, from) : from;
        if (at < period->end) {
            double push = dist_sample(&pool->params->push_latency, pool->rng);
            return at + sim_time_from_seconds(push);
        }
        next_period(pool, period);
    }
}
