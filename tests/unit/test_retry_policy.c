#include <math.h>

#include "models/delivery_policy.h"
#include "models/retry_policy.h"
#include "sim/rng.h"
#include "tests/unit/test_util.h"

#define S(seconds) ((sim_time)((seconds) * (double)SIM_SEC))

/* Attempts of one message against a destination that replies 4xx to
 * every attempt.  Each attempt's failure comes `session` after its
 * start. */
struct timeline {
    sim_time attempts[256];
    size_t count;
    sim_time bounced_at;       /* failure time of the attempt that bounced */
    sim_time warnings[16];     /* failure times that sent a delay warning */
    size_t warning_count;
};

static void run_timeline(const struct retry_policy *policy, sim_time queued,
                         sim_time session, gsl_rng *rng, struct timeline *out)
{
    struct retry_state state;
    sim_time attempt = queued;

    *out = (struct timeline){ .bounced_at = -1 };
    retry_state_init(&state, queued);
    while (out->count < sizeof out->attempts / sizeof out->attempts[0]) {
        out->attempts[out->count++] = attempt;
        sim_time failed = attempt + session;
        struct retry_decision decision = retry_policy_on_failure(policy, &state,
                                                                 failed, rng);
        if (decision.delay_warning && out->warning_count < 16)
            out->warnings[out->warning_count++] = failed;
        if (decision.bounce) {
            out->bounced_at = failed;
            return;
        }
        ck_assert_int_ge(decision.next_attempt, failed);
        attempt = decision.next_attempt;
    }
}

static void check_prefix(const struct timeline *timeline, const double *seconds,
                         size_t count)
{
    ck_assert_uint_ge(timeline->count, count);
    for (size_t i = 0; i < count; i++)
        ck_assert_msg(timeline->attempts[i] == S(seconds[i]),
                      "attempt %zu at %.3f s, expected %.3f s", i + 1,
                      sim_time_to_seconds(timeline->attempts[i]), seconds[i]);
}

/*
 * Postfix defaults: minimal_backoff_time 300s, maximal_backoff_time 4000s,
 * queue_run_delay 300s (scans at 0, 300, 600, ...), maximal_queue_lifetime
 * 5d.  Queued at 0; each failure happens at the attempt's start.
 *   attempt 1 at 0:    age 0 -> wait 300 (minimum)  -> wakeup 300, scan 300
 *   attempt 2 at 300:  age 300 -> wait 300          -> 600, scan 600
 *   attempt 3 at 600:  age 600 -> wait 600          -> 1200, scan 1200
 *   attempt 4 at 1200: age 1200 -> wait 1200        -> 2400, scan 2400
 *   attempt 5 at 2400: age 2400 -> wait 2400        -> 4800, scan 4800
 *   attempt 6 at 4800: age 4800 -> wait 4000 (max)  -> 8800, scan 9000
 *   attempt 7 at 9000: wait 4000 -> 13000, scan 13200
 *   from then on each wakeup is 4000 s after a scan, and 4000 mod 300 = 100,
 *   so every attempt is 4200 s after the last: 9000 + 4200 k.
 * Expiry (age >= 432000 at a failure) is first true at k = 101:
 *   9000 + 4200 * 100 = 429000 < 432000 defers to 433000, scan 433200;
 *   the attempt at 433200 fails at age 433200 >= 432000 and bounces.
 * Attempts: 6 before 9000, and k = 0..101 after: 108.
 */
START_TEST(postfix_default_timeline)
{
    static const double expected[] = {
        0, 300, 600, 1200, 2400, 4800, 9000, 13200, 17400, 21600,
    };
    struct retry_policy policy;
    struct timeline timeline;

    retry_policy_defaults(&policy, RETRY_POLICY_POSTFIX);
    run_timeline(&policy, 0, 0, NULL, &timeline);

    check_prefix(&timeline, expected, sizeof expected / sizeof expected[0]);
    ck_assert_uint_eq(timeline.count, 108);
    ck_assert_int_eq(timeline.attempts[106], S(429000));
    ck_assert_int_eq(timeline.attempts[107], S(433200));
    ck_assert_int_eq(timeline.bounced_at, S(433200));
    /* delay_warning_time defaults to 0h: no warning. */
    ck_assert_uint_eq(timeline.warning_count, 0);
}
END_TEST

/*
 * The same defaults with a 20 s session, so each failure comes 20 s after
 * the attempt started:
 *   attempt 0    fails 20:   age 20 -> wait 300   -> 320,   scan 600
 *   attempt 600  fails 620:  age 620 -> wait 620  -> 1240,  scan 1500
 *   attempt 1500 fails 1520: wait 1520            -> 3040,  scan 3300
 *   attempt 3300 fails 3320: wait 3320            -> 6640,  scan 6900
 *   attempt 6900 fails 6920: wait 4000 (max)      -> 10920, scan 11100
 */
START_TEST(postfix_session_duration)
{
    static const double expected[] = { 0, 600, 1500, 3300, 6900, 11100 };
    struct retry_policy policy;
    struct timeline timeline;

    retry_policy_defaults(&policy, RETRY_POLICY_POSTFIX);
    run_timeline(&policy, 0, S(20), NULL, &timeline);
    check_prefix(&timeline, expected, sizeof expected / sizeof expected[0]);
}
END_TEST

/* A message queued at 100 s: ages count from 100, scans stay at k * 300.
 *   attempt 100 fails at age 0   -> wait 300 -> 400, scan 600
 *   attempt 600, age 500         -> wait 500 -> 1100, scan 1200
 *   attempt 1200, age 1100       -> 2300, scan 2400 */
START_TEST(postfix_queued_off_scan)
{
    static const double expected[] = { 100, 600, 1200, 2400 };
    struct retry_policy policy;
    struct timeline timeline;

    retry_policy_defaults(&policy, RETRY_POLICY_POSTFIX);
    run_timeline(&policy, S(100), 0, NULL, &timeline);
    check_prefix(&timeline, expected, sizeof expected / sizeof expected[0]);
}
END_TEST

/* qmgr_active.c caps at the maximum first and raises to the minimum last,
 * so with maximal 300s below minimal 600s every wait is 600 s:
 *   0 -> 600, 600 -> 1200, 1200 -> 1800 (age 1200 capped to 300, then 600). */
START_TEST(postfix_maximum_below_minimum)
{
    static const double expected[] = { 0, 600, 1200, 1800, 2400 };
    struct retry_policy policy;
    struct timeline timeline;

    retry_policy_defaults(&policy, RETRY_POLICY_POSTFIX);
    policy.postfix.minimal_backoff_time = S(600);
    policy.postfix.maximal_backoff_time = S(300);
    run_timeline(&policy, 0, 0, NULL, &timeline);
    check_prefix(&timeline, expected, sizeof expected / sizeof expected[0]);
}
END_TEST

/* delay_warning_time 4h (14400 s): one warning, at the first failure at
 * age >= 14400, which is the attempt at 17400 (13200 is too early). */
START_TEST(postfix_delay_warning_once)
{
    struct retry_policy policy;
    struct timeline timeline;

    retry_policy_defaults(&policy, RETRY_POLICY_POSTFIX);
    policy.delay_warning = 4 * SIM_HOUR;
    run_timeline(&policy, 0, 0, NULL, &timeline);
    ck_assert_uint_eq(timeline.warning_count, 1);
    ck_assert_int_eq(timeline.warnings[0], S(17400));
}
END_TEST

/*
 * Exim's default rule F,2h,15m; G,16h,1h,1.5; F,4d,6h with no queue runner
 * interval, first failure at 0 (the first attempt, queued at 0):
 *   F,2h,15m while the time since the first failure is <= 7200:
 *     attempts 0, 900, ..., 7200 (9 attempts); at 7200 (<= 7200) +900 -> 8100
 *   G,16h,1h,1.5 while <= 57600; previous interval = min(planned, actual):
 *     8100:  previous 900 < 3600           -> wait 3600    -> 11700
 *     11700: previous 3600                 -> 5400         -> 17100
 *     17100: previous 5400                 -> 8100         -> 25200
 *     25200: previous 8100                 -> 12150        -> 37350
 *     37350: previous 12150                -> 18225        -> 55575
 *     55575 (<= 57600): previous 18225     -> 27337.5      -> 82912.5
 *   F,4d,6h while <= 345600: 82912.5 + 21600 k
 *     k = 12: 342112.5 <= 345600 -> 363712.5
 *     363712.5 > 345600: no rule left, retry timeout, bounce.
 * Attempts: 9 + 1 (8100) + 5 + 1 (82912.5) + 13 = 29.
 * delay_warning 24h, repeated: first failures at age >= 86400, 172800 and
 * 259200 are 104512.5, 190912.5 and 277312.5.
 */
START_TEST(exim_default_timeline)
{
    static const double expected[] = {
        0, 900, 1800, 2700, 3600, 4500, 5400, 6300, 7200,
        8100, 11700, 17100, 25200, 37350, 55575, 82912.5, 104512.5,
    };
    struct retry_policy policy;
    struct timeline timeline;

    retry_policy_defaults(&policy, RETRY_POLICY_EXIM);
    run_timeline(&policy, 0, 0, NULL, &timeline);

    check_prefix(&timeline, expected, sizeof expected / sizeof expected[0]);
    ck_assert_uint_eq(timeline.count, 29);
    ck_assert_int_eq(timeline.attempts[27], S(342112.5));
    ck_assert_int_eq(timeline.bounced_at, S(363712.5));
    ck_assert_uint_eq(timeline.warning_count, 3);
    ck_assert_int_eq(timeline.warnings[0], S(104512.5));
    ck_assert_int_eq(timeline.warnings[1], S(190912.5));
    ck_assert_int_eq(timeline.warnings[2], S(277312.5));
}
END_TEST

/*
 * The default rule with a queue runner every 30m (1800 s): an attempt waits
 * for the first run at or after its retry time, and G uses the smaller of
 * the planned and the actual previous interval:
 *   0    -> retry 900   -> run 1800
 *   1800 -> 2700 -> 3600;  3600 -> 4500 -> 5400;  5400 -> 6300 -> 7200
 *   7200 (<= 2h, F) -> 8100 -> run 9000
 *   9000 (G): min(planned 8100-7200, actual 9000-7200) = 900 < 3600
 *        -> 12600 -> run 12600
 *   12600: min(3600, 3600) -> 5400 -> 18000 -> run 18000
 *   18000: previous 5400 -> 8100 -> 26100 -> run 27000
 *   27000: min(planned 8100, actual 9000) = 8100 -> 12150 -> 39150 -> 39600
 */
START_TEST(exim_queue_runs)
{
    static const double expected[] = {
        0, 1800, 3600, 5400, 7200, 9000, 12600, 18000, 27000, 39600,
    };
    struct retry_policy policy;
    struct timeline timeline;

    retry_policy_defaults(&policy, RETRY_POLICY_EXIM);
    policy.exim.queue_run_interval = 30 * SIM_MIN;
    run_timeline(&policy, 0, 0, NULL, &timeline);
    check_prefix(&timeline, expected, sizeof expected / sizeof expected[0]);
}
END_TEST

/* retry_interval_max caps G: with G,1d,1h,3 and a 2h cap the waits are
 * 1h, 2h (3h capped), then min(planned 2h, actual 2h) * 3 capped: 2h. */
START_TEST(exim_interval_max)
{
    static const double expected[] = { 0, 3600, 10800, 18000, 25200 };
    struct retry_policy policy;
    struct timeline timeline;

    retry_policy_defaults(&policy, RETRY_POLICY_EXIM);
    policy.exim.rules[0] = (struct retry_exim_rule){ RETRY_EXIM_G, SIM_DAY, SIM_HOUR, 3 };
    policy.exim.rule_count = 1;
    policy.exim.retry_interval_max = 2 * SIM_HOUR;
    run_timeline(&policy, 0, 0, NULL, &timeline);
    check_prefix(&timeline, expected, sizeof expected / sizeof expected[0]);
}
END_TEST

/* H,1d,1h,2: first wait 1h (no previous interval); then the G value is
 * 2 x 3600 = 7200 > 3600, so the wait is 3600 + 1800 + a uniform part of
 * 1800: in [5400, 7200).  The draws come from the rng, so a seed repeats
 * them. */
START_TEST(exim_h_rule_bounds)
{
    struct retry_policy policy;

    retry_policy_defaults(&policy, RETRY_POLICY_EXIM);
    policy.exim.rules[0] = (struct retry_exim_rule){ RETRY_EXIM_H, SIM_DAY, SIM_HOUR, 2 };
    policy.exim.rule_count = 1;

    for (uint64_t seed = 1; seed <= 200; seed++) {
        gsl_rng *rng = rng_stream_new(seed, "retry");
        struct retry_state state;
        retry_state_init(&state, 0);
        struct retry_decision first = retry_policy_on_failure(&policy, &state, 0, rng);
        ck_assert_int_eq(first.next_attempt, SIM_HOUR);
        struct retry_decision second = retry_policy_on_failure(&policy, &state,
                                                               SIM_HOUR, rng);
        sim_time wait = second.next_attempt - SIM_HOUR;
        ck_assert_int_ge(wait, S(5400));
        ck_assert_int_lt(wait, S(7200));
        gsl_rng_free(rng);
    }
}
END_TEST

/* Exim retries while the message is at most the last cutoff (4d) old.
 * Here the first failure is the message's own, at or after queueing, so
 * the message-age test of retry.c is the one that ends the retries. */
START_TEST(exim_cutoff_edge)
{
    struct retry_policy policy;
    struct retry_state state;

    retry_policy_defaults(&policy, RETRY_POLICY_EXIM);
    retry_state_init(&state, 0);
    retry_policy_on_failure(&policy, &state, S(10), NULL);
    ck_assert(!retry_policy_expired(&policy, &state, 4 * SIM_DAY));
    ck_assert(retry_policy_expired(&policy, &state, 4 * SIM_DAY + 1));
    ck_assert_int_eq(retry_policy_next_attempt(&policy, &state, 4 * SIM_DAY, NULL),
                     4 * SIM_DAY + 6 * SIM_HOUR);
    ck_assert_int_eq(retry_policy_next_attempt(&policy, &state, 4 * SIM_DAY + 1, NULL),
                     RETRY_BOUNCE);
}
END_TEST

/* The default policy reproduces retry_next_delay and retry_expired of
 * struct retry_params for the old keys. */
START_TEST(exponential_matches_retry_params)
{
    static const struct retry_params params[] = {
        { 5 * SIM_MIN, 2, 4 * SIM_HOUR, 5 * SIM_DAY },
        { 7 * SIM_SEC, 1.7, 3 * SIM_HOUR, 2 * SIM_DAY },
        { SIM_MIN, 1, SIM_MIN, SIM_DAY },
    };

    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        struct retry_policy policy;
        struct retry_state state;
        retry_policy_defaults(&policy, RETRY_POLICY_EXPONENTIAL);
        policy.exponential.initial = params[i].initial;
        policy.exponential.factor = params[i].factor;
        policy.exponential.maximum = params[i].maximum;
        policy.queue_lifetime = params[i].queue_lifetime;

        retry_state_init(&state, 0);
        sim_time now = 0;
        for (int failures = 1; failures <= 40; failures++) {
            bool expired = retry_expired(&params[i], 0, now);
            struct retry_decision decision = retry_policy_on_failure(&policy, &state,
                                                                     now, NULL);
            ck_assert_int_eq(decision.bounce, expired);
            if (expired)
                break;
            ck_assert_int_eq(decision.next_attempt - now,
                             retry_next_delay(&params[i], failures));
            now = decision.next_attempt;
        }
    }
}
END_TEST

/* initial 5m, factor 2, maximum 4h: waits 5, 10, 20, 40, 80, 160, 240,
 * 240 minutes. */
START_TEST(exponential_table)
{
    static const int minutes[] = { 5, 10, 20, 40, 80, 160, 240, 240 };
    struct retry_policy policy;
    struct retry_state state;
    sim_time now = 0;

    retry_policy_defaults(&policy, RETRY_POLICY_EXPONENTIAL);
    retry_state_init(&state, 0);
    for (size_t i = 0; i < sizeof minutes / sizeof minutes[0]; i++) {
        struct retry_decision decision = retry_policy_on_failure(&policy, &state, now, NULL);
        ck_assert_int_eq(decision.next_attempt - now, minutes[i] * SIM_MIN);
        now = decision.next_attempt;
    }
    ck_assert_int_eq(state.failures, 8);
}
END_TEST

/* Collects the first `count` waits of a jittered exponential schedule. */
static void jittered_waits(uint64_t seed, sim_time *waits, size_t count)
{
    struct retry_policy policy;
    struct retry_state state;
    gsl_rng *rng = rng_stream_new(seed, "smtp_out");
    sim_time now = 0;

    retry_policy_defaults(&policy, RETRY_POLICY_EXPONENTIAL);
    policy.exponential.jitter = 0.2;
    policy.queue_lifetime = 1000 * SIM_DAY;
    retry_state_init(&state, 0);
    for (size_t i = 0; i < count; i++) {
        struct retry_decision decision = retry_policy_on_failure(&policy, &state, now, rng);
        waits[i] = decision.next_attempt - now;
        now = decision.next_attempt;
    }
    gsl_rng_free(rng);
}

/* Jitter 0.2 keeps each wait within [0.8, 1.2) of the unjittered one. */
START_TEST(exponential_jitter_bounds)
{
    sim_time waits[30];

    for (uint64_t seed = 1; seed <= 50; seed++) {
        jittered_waits(seed, waits, 30);
        for (int i = 0; i < 30; i++) {
            double base = fmin(300.0 * pow(2, i), 14400.0);
            double seconds = sim_time_to_seconds(waits[i]);
            ck_assert_msg(seconds >= 0.8 * base - 1e-6 && seconds < 1.2 * base,
                          "seed %llu wait %d: %.3f s outside [%.1f, %.1f)",
                          (unsigned long long)seed, i + 1, seconds,
                          0.8 * base, 1.2 * base);
        }
    }
}
END_TEST

START_TEST(exponential_jitter_reproducible)
{
    sim_time first[20];
    sim_time again[20];
    sim_time other[20];

    jittered_waits(42, first, 20);
    jittered_waits(42, again, 20);
    jittered_waits(43, other, 20);
    bool differs = false;
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(first[i], again[i]);
        differs = differs || first[i] != other[i];
    }
    ck_assert(differs);
}
END_TEST

/* fixed 30m, lifetime 2h: failures at 0, 1800, 3600 and 5400 retry 30 min
 * later; the failure at 7200 (age 2h) bounces. */
START_TEST(fixed_timeline)
{
    static const double expected[] = { 0, 1800, 3600, 5400, 7200 };
    struct retry_policy policy;
    struct timeline timeline;

    retry_policy_defaults(&policy, RETRY_POLICY_FIXED);
    policy.fixed_interval = 30 * SIM_MIN;
    policy.queue_lifetime = 2 * SIM_HOUR;
    run_timeline(&policy, 0, 0, NULL, &timeline);
    check_prefix(&timeline, expected, 5);
    ck_assert_uint_eq(timeline.count, 5);
    ck_assert_int_eq(timeline.bounced_at, 2 * SIM_HOUR);
}
END_TEST

/* ladder [1m, 5m, 15m]: waits 60, 300, 900, then 900 again. */
START_TEST(ladder_last_repeats)
{
    static const double expected[] = { 0, 60, 360, 1260, 2160, 3060 };
    struct retry_policy policy;
    struct timeline timeline;

    retry_policy_defaults(&policy, RETRY_POLICY_LADDER);
    policy.ladder[0] = SIM_MIN;
    policy.ladder[1] = 5 * SIM_MIN;
    policy.ladder[2] = 15 * SIM_MIN;
    policy.ladder_count = 3;
    policy.queue_lifetime = SIM_HOUR;
    run_timeline(&policy, 0, 0, NULL, &timeline);
    check_prefix(&timeline, expected, 6);
    /* The failure at 3060 retries at 3960, and that failure is past 1 h. */
    ck_assert_uint_eq(timeline.count, 7);
    ck_assert_int_eq(timeline.bounced_at, S(3960));
}
END_TEST

/* Every policy but exim bounces a failure at age >= queue_lifetime. */
START_TEST(lifetime_expiry_edge)
{
    static const enum retry_policy_kind kinds[] = {
        RETRY_POLICY_EXPONENTIAL, RETRY_POLICY_POSTFIX, RETRY_POLICY_FIXED,
        RETRY_POLICY_LADDER,
    };

    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        struct retry_policy policy;
        struct retry_state state;
        retry_policy_defaults(&policy, kinds[i]);
        policy.queue_lifetime = SIM_HOUR;
        retry_state_init(&state, S(100));
        ck_assert(!retry_policy_expired(&policy, &state, S(100) + SIM_HOUR - 1));
        ck_assert(retry_policy_expired(&policy, &state, S(100) + SIM_HOUR));
        ck_assert_int_eq(retry_policy_next_attempt(&policy, &state,
                                                   S(100) + SIM_HOUR, NULL),
                         RETRY_BOUNCE);
        struct retry_decision decision =
            retry_policy_on_failure(&policy, &state, S(100) + SIM_HOUR, NULL);
        ck_assert(decision.bounce);
        ck_assert(!decision.delay_warning);
        ck_assert_int_eq(decision.next_attempt, RETRY_BOUNCE);
    }
}
END_TEST

/* next_attempt does not change the state; on_failure records the failure. */
START_TEST(state_recording)
{
    struct retry_policy policy;
    struct retry_state state;

    retry_policy_defaults(&policy, RETRY_POLICY_POSTFIX);
    retry_state_init(&state, S(50));
    ck_assert_int_eq(retry_policy_next_attempt(&policy, &state, S(60), NULL), S(600));
    ck_assert_int_eq(state.failures, 0);

    retry_policy_on_failure(&policy, &state, S(60), NULL);
    ck_assert_int_eq(state.failures, 1);
    ck_assert_int_eq(state.first_failure, S(60));
    ck_assert_int_eq(state.last_failure, S(60));
    ck_assert_int_eq(state.retry_time, S(360));

    retry_policy_on_failure(&policy, &state, S(600), NULL);
    ck_assert_int_eq(state.failures, 2);
    ck_assert_int_eq(state.first_failure, S(60));
    ck_assert_int_eq(state.last_failure, S(600));
}
END_TEST

START_TEST(kind_names)
{
    ck_assert_str_eq(retry_policy_kind_name(RETRY_POLICY_POSTFIX), "postfix");
    ck_assert_str_eq(retry_policy_kind_name(RETRY_POLICY_EXIM), "exim");
    ck_assert_str_eq(retry_policy_kind_name(RETRY_POLICY_EXPONENTIAL), "exponential");
    ck_assert_str_eq(retry_policy_kind_name(RETRY_POLICY_FIXED), "fixed");
    ck_assert_str_eq(retry_policy_kind_name(RETRY_POLICY_LADDER), "ladder");
    ck_assert_str_eq(retry_policy_kind_name(RETRY_POLICY_KIND_COUNT), "invalid");
}
END_TEST

Suite *retry_policy_suite(void);

Suite *retry_policy_suite(void)
{
    Suite *suite = suite_create("retry_policy");
    TCase *postfix = tcase_create("postfix");
    tcase_add_test(postfix, postfix_default_timeline);
    tcase_add_test(postfix, postfix_session_duration);
    tcase_add_test(postfix, postfix_queued_off_scan);
    tcase_add_test(postfix, postfix_maximum_below_minimum);
    tcase_add_test(postfix, postfix_delay_warning_once);
    suite_add_tcase(suite, postfix);

    TCase *exim = tcase_create("exim");
    tcase_add_test(exim, exim_default_timeline);
    tcase_add_test(exim, exim_queue_runs);
    tcase_add_test(exim, exim_interval_max);
    tcase_add_test(exim, exim_h_rule_bounds);
    tcase_add_test(exim, exim_cutoff_edge);
    suite_add_tcase(suite, exim);

    TCase *others = tcase_create("others");
    tcase_add_test(others, exponential_matches_retry_params);
    tcase_add_test(others, exponential_table);
    tcase_add_test(others, exponential_jitter_bounds);
    tcase_add_test(others, exponential_jitter_reproducible);
    tcase_add_test(others, fixed_timeline);
    tcase_add_test(others, ladder_last_repeats);
    tcase_add_test(others, lifetime_expiry_edge);
    tcase_add_test(others, state_recording);
    tcase_add_test(others, kind_names);
    suite_add_tcase(suite, others);
    return suite;
}

TEST_MAIN(retry_policy_suite)
