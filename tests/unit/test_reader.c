/*
 * Unit tests for readers: client kinds against their shares, and seen
 * times of webmail and POP3 clients that are almost always online.  Also
 * the wait of an offline reader for its next online period, and the
 * ordering properties that the period cursor relies on.
 */
#include <math.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "models/reader.h"
#include "tests/unit/test_util.h"

#define PUSH_SECONDS 0.25
#define PUSH (250 * SIM_MS)

static gsl_rng *seeded_rng(unsigned long seed)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    ck_assert_ptr_nonnull(rng);
    gsl_rng_set(rng, seed);
    return rng;
}

/* A uniform duration in [0, max).  gsl_rng_uniform_int cannot serve here
 * because MT19937 limits its range to 2^32, about 4.3 s in nanoseconds. */
static sim_time random_duration(gsl_rng *rng, sim_time max)
{
    return (sim_time)(gsl_rng_uniform(rng) * (double)max);
}

/* Client parameters with the given shares, a constant push latency of
 * PUSH_SECONDS and POP3 polls every 5 minutes. */
static struct client_params make_params(double webmail, double imap, double pop3,
                                        sim_time mean_online, sim_time mean_offline)
{
    struct client_params params = {
        .share = {[CLIENT_WEBMAIL] = webmail, [CLIENT_IMAP] = imap,
                  [CLIENT_POP3] = pop3},
        .pop3_interval = 5 * SIM_MIN,
        .mean_online = mean_online,
        .mean_offline = mean_offline,
    };
    dist_constant(&params.push_latency, PUSH_SECONDS);
    return params;
}

/* Readers online for 1000 days on average, offline for 1 ns. */
static struct client_params always_online(double webmail, double imap, double pop3)
{
    return make_params(webmail, imap, pop3, 1000 * SIM_DAY, SIM_NS);
}

/* Counts kinds of mailboxes [first, first + count) and asserts each share
 * within 0.01. */
static void assert_shares(const struct reader_pool *pool, uint64_t first,
                          uint64_t count)
{
    uint64_t kinds[CLIENT_KIND_COUNT] = {0};

    for (uint64_t m = first; m < first + count; m++) {
        enum client_kind kind = reader_client_kind(pool, m);
        ck_assert_int_ge(kind, 0);
        ck_assert_int_lt(kind, CLIENT_KIND_COUNT);
        kinds[kind]++;
    }
    for (int kind = 0; kind < CLIENT_KIND_COUNT; kind++) {
        double share = (double)kinds[kind] / (double)count;
        ck_assert_msg(fabs(share - pool->params->share[kind]) < 0.01,
                      "%s share %g over [%llu, %llu), expected %g",
                      client_kind_name(kind), share, (unsigned long long)first,
                      (unsigned long long)(first + count),
                      pool->params->share[kind]);
    }
}

START_TEST(kinds_follow_shares)
{
    struct client_params params = make_params(0.6, 0.3, 0.1, SIM_HOUR, SIM_HOUR);
    gsl_rng *rng = seeded_rng(1);
    struct reader_pool pool;
    reader_pool_init(&pool, &params, 100000, rng);

    assert_shares(&pool, 0, 100000);
    assert_shares(&pool, 50000, 10000);
    assert_shares(&pool, 99000, 1000);

    reader_pool_fini(&pool);
    gsl_rng_free(rng);
}
END_TEST

/* The kind depends on the mailbox number only, not on the random stream,
 * the pool size or earlier calls. */
START_TEST(kinds_deterministic)
{
    struct client_params params = make_params(0.6, 0.3, 0.1, SIM_HOUR, SIM_HOUR);
    gsl_rng *first_rng = seeded_rng(1);
    gsl_rng *second_rng = seeded_rng(99);
    struct reader_pool first, second;
    reader_pool_init(&first, &params, 100000, first_rng);
    reader_pool_init(&second, &params, 200000, second_rng);

    for (uint64_t m = 0; m < 100000; m++) {
        enum client_kind kind = reader_client_kind(&first, m);
        ck_assert_int_eq(reader_client_kind(&second, m), kind);
        ck_assert_int_eq(reader_client_kind(&first, m), kind);
    }
    reader_pool_fini(&first);
    reader_pool_fini(&second);
    gsl_rng_free(first_rng);
    gsl_rng_free(second_rng);
}
END_TEST

START_TEST(kinds_single_share)
{
    gsl_rng *rng = seeded_rng(1);

    for (int only = 0; only < CLIENT_KIND_COUNT; only++) {
        struct client_params params = make_params(only == CLIENT_WEBMAIL,
                                                  only == CLIENT_IMAP,
                                                  only == CLIENT_POP3,
                                                  SIM_HOUR, SIM_HOUR);
        struct reader_pool pool;
        reader_pool_init(&pool, &params, 10000, rng);
        for (uint64_t m = 0; m < 10000; m++)
            ck_assert_int_eq(reader_client_kind(&pool, m), only);
        reader_pool_fini(&pool);
    }
    gsl_rng_free(rng);
}
END_TEST

START_TEST(kind_names)
{
    ck_assert_str_eq(client_kind_name(CLIENT_WEBMAIL), "webmail");
    ck_assert_str_eq(client_kind_name(CLIENT_IMAP), "imap");
    ck_assert_str_eq(client_kind_name(CLIENT_POP3), "pop3");
    ck_assert_str_eq(client_kind_name(CLIENT_KIND_COUNT), "invalid");
}
END_TEST

/* Webmail and IMAP readers that are online see a message after the push
 * latency exactly. */
START_TEST(push_online_exact)
{
    struct client_params params = always_online(0.5, 0.5, 0);
    gsl_rng *rng = seeded_rng(7);
    gsl_rng *times = seeded_rng(8);
    struct reader_pool pool;
    reader_pool_init(&pool, &params, 1000, rng);
    int queries = 0;
    int exact = 0;

    for (uint64_t m = 0; m < 1000; m++) {
        sim_time stored = 0;
        for (int i = 0; i < 5; i++) {
            stored += random_duration(times, SIM_HOUR);
            sim_time seen = reader_seen_time(&pool, m, stored);
            ck_assert_int_ge(seen, stored + PUSH);
            ck_assert_int_lt(seen, stored + PUSH + SIM_US);
            exact += seen == stored + PUSH;
            queries++;
        }
    }
    ck_assert_int_eq(queries, 5000);
    ck_assert_int_ge(exact, 4990);

    reader_pool_fini(&pool);
    gsl_rng_free(rng);
    gsl_rng_free(times);
}
END_TEST

/* A POP3 reader that is online sees a message at the first poll at or
 * after it was stored, plus the push latency.  Each mailbox polls at a
 * fixed phase within the interval. */
START_TEST(pop3_at_poll_instants)
{
    struct client_params params = always_online(0, 0, 1);
    const sim_time interval = params.pop3_interval;
    gsl_rng *rng = seeded_rng(11);
    gsl_rng *times = seeded_rng(12);
    struct reader_pool pool;
    reader_pool_init(&pool, &params, 200, rng);
    sim_time lowest_phase = interval;
    sim_time highest_phase = -1;

    for (uint64_t m = 0; m < 200; m++) {
        sim_time stored = 0;
        sim_time phase = -1;
        for (int i = 0; i < 20; i++) {
            stored += random_duration(times, 17 * SIM_MIN);
            sim_time poll = reader_seen_time(&pool, m, stored) - PUSH;
            ck_assert_int_ge(poll, stored);
            ck_assert_int_lt(poll - stored, interval);
            if (phase < 0)
                phase = poll % interval;
            ck_assert_int_eq(poll % interval, phase);
        }
        if (phase < lowest_phase)
            lowest_phase = phase;
        if (phase > highest_phase)
            highest_phase = phase;

        /* Stored exactly at a poll instant: seen at that poll. */
        sim_time at_poll = stored - stored % interval + phase + 3 * interval;
        ck_assert_int_eq(reader_seen_time(&pool, m, at_poll), at_poll + PUSH);
    }
    ck_assert_int_ge(lowest_phase, 0);
    ck_assert_int_lt(highest_phase, interval);
    /* Mailboxes do not all poll at once. */
    ck_assert_int_gt(highest_phase - lowest_phase, interval / 2);

    reader_pool_fini(&pool);
    gsl_rng_free(rng);
    gsl_rng_free(times);
}
END_TEST

/*
 * Drives `pool` the way the simulation does: a clock that never goes back
 * (a quarter of the steps are zero, so equal stored times occur), random
 * mailboxes.  Asserts that seen is never earlier than stored plus
 * `min_push`, and when `monotone` is set, that each mailbox's seen times
 * never decrease.
 */
static void drive_random(struct reader_pool *pool, unsigned long seed,
                         int queries, sim_time min_push, bool monotone)
{
    gsl_rng *driver = seeded_rng(seed);
    sim_time *last_seen = calloc(pool->mailboxes, sizeof *last_seen);
    ck_assert_ptr_nonnull(last_seen);
    sim_time clock = 0;

    for (int i = 0; i < queries; i++) {
        if (gsl_rng_uniform(driver) >= 0.25)
            clock += random_duration(driver, 20 * SIM_SEC);
        uint64_t m = gsl_rng_uniform_int(driver, pool->mailboxes);
        sim_time seen = reader_seen_time(pool, m, clock);

        ck_assert_msg(seen >= clock + min_push,
                      "query %d mailbox %llu: stored %lld, seen %lld", i,
                      (unsigned long long)m, (long long)clock, (long long)seen);
        if (monotone)
            ck_assert_msg(seen >= last_seen[m],
                          "query %d mailbox %llu: seen %lld after %lld", i,
                          (unsigned long long)m, (long long)seen,
                          (long long)last_seen[m]);
        last_seen[m] = seen;
    }
    free(last_seen);
    gsl_rng_free(driver);
}

START_TEST(seen_not_before_stored)
{
    struct client_params params = make_params(0.6, 0.3, 0.1, 20 * SIM_MIN,
                                              2 * SIM_HOUR);
    params.push_latency = (struct dist){.kind = DIST_EXPONENTIAL, .a = 2.0};
    gsl_rng *rng = seeded_rng(21);
    struct reader_pool pool;
    reader_pool_init(&pool, &params, 500, rng);

    drive_random(&pool, 22, 50000, 0, false);

    reader_pool_fini(&pool);
    gsl_rng_free(rng);
}
END_TEST

/* With a constant push latency, non-decreasing stored times of a mailbox
 * give non-decreasing seen times. */
START_TEST(seen_monotone_per_mailbox)
{
    struct client_params params = make_params(0.4, 0.3, 0.3, 10 * SIM_MIN,
                                              SIM_HOUR);
    params.pop3_interval = 3 * SIM_MIN;
    gsl_rng *rng = seeded_rng(31);
    struct reader_pool pool;
    reader_pool_init(&pool, &params, 300, rng);

    drive_random(&pool, 32, 50000, PUSH, true);

    reader_pool_fini(&pool);
    gsl_rng_free(rng);
}
END_TEST

/* Readers online 1 minute and offline 1 hour on average, so most are
 * offline at the stored time.  After a query the pool's period record is
 * the online period in which the message was seen (reader.h). */
START_TEST(offline_waits_for_online)
{
    struct client_params params = make_params(1, 0, 0, SIM_MIN, SIM_HOUR);
    gsl_rng *rng = seeded_rng(41);
    struct reader_pool pool;
    reader_pool_init(&pool, &params, 2000, rng);
    const sim_time stored = 10 * SIM_HOUR;
    int offline = 0;

    for (uint64_t m = 0; m < 2000; m++) {
        sim_time seen = reader_seen_time(&pool, m, stored);
        const struct reader_period *period = &pool.periods[m];

        ck_assert_int_eq(period->online, 1);
        ck_assert_int_lt(seen - PUSH, period->end);
        if (stored < period->start) {
            ck_assert_int_eq(seen, period->start + PUSH);
            offline++;
        } else {
            ck_assert_int_eq(seen, stored + PUSH);
        }
    }
    /* The stationary offline probability is 60 / 61, about 1967 of 2000. */
    ck_assert_int_gt(offline, 1900);
    ck_assert_int_lt(offline, 2000);

    reader_pool_fini(&pool);
    gsl_rng_free(rng);
}
END_TEST

/* The same for POP3: the first poll in the next online period that has
 * one. */
START_TEST(offline_pop3_first_poll)
{
    struct client_params params = make_params(0, 0, 1, 10 * SIM_MIN, SIM_HOUR);
    const sim_time interval = params.pop3_interval;
    gsl_rng *rng = seeded_rng(43);
    struct reader_pool pool;
    reader_pool_init(&pool, &params, 2000, rng);
    const sim_time stored = 10 * SIM_HOUR;

    for (uint64_t m = 0; m < 2000; m++) {
        sim_time poll = reader_seen_time(&pool, m, stored) - PUSH;
        const struct reader_period *period = &pool.periods[m];
        sim_time from = stored > period->start ? stored : period->start;

        ck_assert_int_eq(period->online, 1);
        ck_assert_int_ge(poll, from);
        ck_assert_int_lt(poll - from, interval);
        ck_assert_int_lt(poll, period->end);
    }
    reader_pool_fini(&pool);
    gsl_rng_free(rng);
}
END_TEST

/*
 * Asserts the online fraction and the mean wait for messages stored at
 * `stored` in 20000 mailboxes, online 1 hour and offline 3 hours on
 * average.  A quarter of the readers are online at any time.  An offline
 * reader waits 3 hours on average (the exponential's remaining time), so
 * the mean wait is 0.75 * 3 h.
 */
static void assert_stationary_at(sim_time stored, unsigned long seed)
{
    struct client_params params = make_params(1, 0, 0, SIM_HOUR, 3 * SIM_HOUR);
    gsl_rng *rng = seeded_rng(seed);
    struct reader_pool pool;
    reader_pool_init(&pool, &params, 20000, rng);
    int online = 0;
    double wait_sum = 0;

    for (uint64_t m = 0; m < 20000; m++) {
        sim_time wait = reader_seen_time(&pool, m, stored) - stored - PUSH;
        ck_assert_int_ge(wait, 0);
        online += wait == 0;
        wait_sum += sim_time_to_seconds(wait);
    }
    ck_assert_double_eq_tol(online / 20000.0, 0.25, 0.02);
    ck_assert_double_eq_tol(wait_sum / 20000.0, 0.75 * 3 * 3600, 0.05 * 8100);

    reader_pool_fini(&pool);
    gsl_rng_free(rng);
}

/* Mailboxes start in the stationary state, not all online or offline. */
START_TEST(online_fraction_at_start)
{
    assert_stationary_at(0, 51);
}
END_TEST

START_TEST(online_fraction_later)
{
    assert_stationary_at(30 * SIM_HOUR, 52);
}
END_TEST

/* A later query at a time the cursor already passed returns the same
 * online start, as reader_seen_time's contract needs. */
START_TEST(queries_in_same_gap_agree)
{
    struct client_params params = make_params(1, 0, 0, SIM_MIN, SIM_HOUR);
    gsl_rng *rng = seeded_rng(61);
    struct reader_pool pool;
    reader_pool_init(&pool, &params, 500, rng);
    int checked = 0;

    for (uint64_t m = 0; m < 500; m++) {
        const sim_time stored = 5 * SIM_HOUR;
        sim_time seen = reader_seen_time(&pool, m, stored);
        sim_time online_start = seen - PUSH;
        if (online_start == stored)
            continue;
        sim_time later = stored + (online_start - stored) / 2;
        ck_assert_int_eq(reader_seen_time(&pool, m, later), seen);
        ck_assert_int_eq(reader_seen_time(&pool, m, online_start), seen);
        checked++;
    }
    ck_assert_int_gt(checked, 400);

    reader_pool_fini(&pool);
    gsl_rng_free(rng);
}
END_TEST

/* Two pools on equal seeds return equal seen times for equal queries. */
START_TEST(seen_deterministic)
{
    struct client_params params = make_params(0.6, 0.3, 0.1, 20 * SIM_MIN,
                                              SIM_HOUR);
    params.push_latency = (struct dist){.kind = DIST_EXPONENTIAL, .a = 2.0};
    gsl_rng *first_rng = seeded_rng(71);
    gsl_rng *second_rng = seeded_rng(71);
    gsl_rng *driver = seeded_rng(72);
    struct reader_pool first, second;
    reader_pool_init(&first, &params, 100, first_rng);
    reader_pool_init(&second, &params, 100, second_rng);
    sim_time clock = 0;

    for (int i = 0; i < 5000; i++) {
        clock += random_duration(driver, 60 * SIM_SEC);
        uint64_t m = gsl_rng_uniform_int(driver, 100);
        ck_assert_int_eq(reader_seen_time(&first, m, clock),
                         reader_seen_time(&second, m, clock));
    }
    reader_pool_fini(&first);
    reader_pool_fini(&second);
    gsl_rng_free(first_rng);
    gsl_rng_free(second_rng);
    gsl_rng_free(driver);
}
END_TEST

Suite *reader_suite(void);

Suite *reader_suite(void)
{
    Suite *suite = suite_create("reader");
    TCase *kind_case = tcase_create("kind");
    TCase *seen_case = tcase_create("seen");

    tcase_add_test(kind_case, kinds_follow_shares);
    tcase_add_test(kind_case, kinds_deterministic);
    tcase_add_test(kind_case, kinds_single_share);
    tcase_add_test(kind_case, kind_names);
    suite_add_tcase(suite, kind_case);

    tcase_add_test(seen_case, push_online_exact);
    tcase_add_test(seen_case, pop3_at_poll_instants);
    tcase_add_test(seen_case, seen_not_before_stored);
    tcase_add_test(seen_case, seen_monotone_per_mailbox);
    tcase_add_test(seen_case, offline_waits_for_online);
    tcase_add_test(seen_case, offline_pop3_first_poll);
    tcase_add_test(seen_case, online_fraction_at_start);
    tcase_add_test(seen_case, online_fraction_later);
    tcase_add_test(seen_case, queries_in_same_gap_agree);
    tcase_add_test(seen_case, seen_deterministic);
    suite_add_tcase(suite, seen_case);
    return suite;
}

TEST_MAIN(reader_suite)
