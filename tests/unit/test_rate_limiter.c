#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "models/rate_limiter.h"
#include "tests/unit/test_util.h"

#define MS(milliseconds) ((sim_time)(milliseconds) * SIM_MS)

static struct rate_limiter *new_limiter(double rate, double burst)
{
    struct rate_limiter_params params = {
        .key = RATE_LIMITER_KEY_CLIENT,
        .rate = rate,
        .burst = burst,
        .step = RATE_LIMITER_STEP_RCPT,
        .code = 451,
        .enhanced = "4.7.1",
    };
    return rate_limiter_new(&params);
}

/* rate 1/s, burst 3: a new key has 3 tokens, then one more each second. */
START_TEST(bucket_burst_then_rate)
{
    struct rate_limiter *limiter = new_limiter(1, 3);

    ck_assert(rate_limiter_allow(limiter, "192.0.2.1", 0));
    ck_assert(rate_limiter_allow(limiter, "192.0.2.1", 0));
    ck_assert(rate_limiter_allow(limiter, "192.0.2.1", 0));
    ck_assert(!rate_limiter_allow(limiter, "192.0.2.1", 0));
    ck_assert(!rate_limiter_allow(limiter, "192.0.2.1", SIM_SEC - 1));
    ck_assert(rate_limiter_allow(limiter, "192.0.2.1", SIM_SEC));
    ck_assert(!rate_limiter_allow(limiter, "192.0.2.1", SIM_SEC));
    /* After 10 idle seconds the bucket has 3 tokens again, not 10. */
    ck_assert(rate_limiter_allow(limiter, "192.0.2.1", 11 * SIM_SEC));
    ck_assert(rate_limiter_allow(limiter, "192.0.2.1", 11 * SIM_SEC));
    ck_assert(rate_limiter_allow(limiter, "192.0.2.1", 11 * SIM_SEC));
    ck_assert(!rate_limiter_allow(limiter, "192.0.2.1", 11 * SIM_SEC));
    rate_limiter_free(limiter);
}
END_TEST

/* rate 10/s, burst 1: allowed exactly every 100 ms over 10,000 periods,
 * never 1 ns earlier, so no rounding error builds up. */
START_TEST(bucket_exact_over_long_run)
{
    struct rate_limiter *limiter = new_limiter(10, 1);

    for (int k = 0; k < 10000; k++) {
        if (k > 0)
            ck_assert_msg(!rate_limiter_allow(limiter, "a", MS(100) * k - 1),
                          "allowed 1 ns before period %d", k);
        ck_assert_msg(rate_limiter_allow(limiter, "a", MS(100) * k),
                      "denied at period %d", k);
    }
    rate_limiter_free(limiter);
}
END_TEST

/* An attempt every 1 ms for 100 s against rate 5/s, burst 10: 10 at once,
 * then one every 200 ms at 0.2 s, 0.4 s, ..., 99.8 s (499 more). */
START_TEST(bucket_dense_attempts)
{
    struct rate_limiter *limiter = new_limiter(5, 10);
    int allowed = 0;

    for (int ms = 0; ms < 100000; ms++)
        allowed += rate_limiter_allow(limiter, "a", MS(ms));
    ck_assert_int_eq(allowed, 509);
    rate_limiter_free(limiter);
}
END_TEST

START_TEST(keys_separate_and_caseless)
{
    struct rate_limiter *limiter = new_limiter(1, 1);

    ck_assert(rate_limiter_allow(limiter, "alpha.example", 0));
    ck_assert(!rate_limiter_allow(limiter, "ALPHA.example", 0));
    ck_assert(rate_limiter_allow(limiter, "beta.example", 0));
    ck_assert_uint_eq(rate_limiter_size(limiter), 2);
    rate_limiter_free(limiter);
}
END_TEST

/* A bucket is purged once it is full again: at its TAT. */
START_TEST(purge_full_buckets)
{
    struct rate_limiter *limiter = new_limiter(1, 2);

    rate_limiter_allow(limiter, "a", 0);
    rate_limiter_allow(limiter, "a", 0);
    rate_limiter_allow(limiter, "b", 0);
    ck_assert_uint_eq(rate_limiter_purge(limiter, SIM_SEC - 1), 0);
    ck_assert_uint_eq(rate_limiter_purge(limiter, SIM_SEC), 1);
    ck_assert_uint_eq(rate_limiter_size(limiter), 1);
    ck_assert_uint_eq(rate_limiter_purge(limiter, 2 * SIM_SEC), 1);
    ck_assert_uint_eq(rate_limiter_size(limiter), 0);
    rate_limiter_free(limiter);
}
END_TEST

/* 100,000 keys one per millisecond at rate 1/s, burst 1: each bucket is
 * full again after 1 s, so about 1000 are live, and the table stays
 * within 2048 entries (its bucket count). */
START_TEST(memory_bounded)
{
    struct rate_limiter *limiter = new_limiter(1, 1);
    size_t largest = 0;

    for (int i = 0; i < 100000; i++) {
        char key[32];
        snprintf(key, sizeof key, "client-%d", i);
        ck_assert(rate_limiter_allow(limiter, key, MS(i)));
        if (rate_limiter_size(limiter) > largest)
            largest = rate_limiter_size(limiter);
    }
    ck_assert_uint_le(largest, 2048);
    ck_assert_uint_ge(largest, 1000);
    rate_limiter_free(limiter);
}
END_TEST

START_TEST(connections_limit)
{
    struct connection_limit *connections = rate_limiter_connection_new(2);

    ck_assert(rate_limiter_connection_open(connections, "192.0.2.1"));
    ck_assert(rate_limiter_connection_open(connections, "192.0.2.1"));
    ck_assert(!rate_limiter_connection_open(connections, "192.0.2.1"));
    ck_assert_int_eq(rate_limiter_connection_count(connections, "192.0.2.1"), 2);
    ck_assert(rate_limiter_connection_open(connections, "192.0.2.2"));

    rate_limiter_connection_close(connections, "192.0.2.1");
    ck_assert_int_eq(rate_limiter_connection_count(connections, "192.0.2.1"), 1);
    ck_assert(rate_limiter_connection_open(connections, "192.0.2.1"));
    rate_limiter_connection_close(connections, "192.0.2.1");
    rate_limiter_connection_close(connections, "192.0.2.1");
    ck_assert_int_eq(rate_limiter_connection_count(connections, "192.0.2.1"), 0);
    rate_limiter_connection_free(connections);
}
END_TEST

START_TEST(connections_unlimited)
{
    struct connection_limit *connections = rate_limiter_connection_new(0);

    for (int i = 0; i < 1000; i++)
        ck_assert(rate_limiter_connection_open(connections, "a"));
    ck_assert_int_eq(rate_limiter_connection_count(connections, "a"), 1000);
    rate_limiter_connection_free(connections);
}
END_TEST

START_TEST(connections_close_unknown_aborts)
{
    struct connection_limit *connections = rate_limiter_connection_new(1);
    rate_limiter_connection_close(connections, "never-opened");
}
END_TEST

START_TEST(invalid_rate_aborts)
{
    new_limiter(0, 1);
}
END_TEST

START_TEST(names_and_defaults)
{
    ck_assert_str_eq(rate_limiter_key_name(RATE_LIMITER_KEY_CLIENT), "client");
    ck_assert_str_eq(rate_limiter_key_name(RATE_LIMITER_KEY_SENDER_DOMAIN), "sender_domain");
    ck_assert_str_eq(rate_limiter_key_name(RATE_LIMITER_KEY_COUNT), "invalid");
    ck_assert_str_eq(rate_limiter_step_name(RATE_LIMITER_STEP_CONNECT), "connect");
    ck_assert_str_eq(rate_limiter_step_name(RATE_LIMITER_STEP_RCPT), "rcpt");
    ck_assert_str_eq(rate_limiter_step_name(RATE_LIMITER_STEP_DATA), "data");
    ck_assert_int_eq(rate_limiter_default_code(RATE_LIMITER_STEP_CONNECT), 421);
    ck_assert_str_eq(rate_limiter_default_enhanced(RATE_LIMITER_STEP_CONNECT), "4.7.0");
    ck_assert_int_eq(rate_limiter_default_code(RATE_LIMITER_STEP_RCPT), 451);
    ck_assert_str_eq(rate_limiter_default_enhanced(RATE_LIMITER_STEP_RCPT), "4.7.1");
    ck_assert_int_eq(rate_limiter_default_code(RATE_LIMITER_STEP_DATA), 451);
    ck_assert_str_eq(rate_limiter_default_enhanced(RATE_LIMITER_STEP_DATA), "4.7.1");
    ck_assert_ptr_nonnull(strstr(rate_limiter_reply_format(RATE_LIMITER_STEP_RCPT),
                                 "too many recipients"));
}
END_TEST

Suite *rate_limiter_suite(void);

Suite *rate_limiter_suite(void)
{
    Suite *suite = suite_create("rate_limiter");
    TCase *buckets = tcase_create("buckets");
    tcase_add_test(buckets, bucket_burst_then_rate);
    tcase_add_test(buckets, bucket_exact_over_long_run);
    tcase_add_test(buckets, bucket_dense_attempts);
    tcase_add_test(buckets, keys_separate_and_caseless);
    tcase_add_test(buckets, purge_full_buckets);
    tcase_add_test(buckets, memory_bounded);
    tcase_add_test_raise_signal(buckets, invalid_rate_aborts, SIGABRT);
    tcase_add_test(buckets, names_and_defaults);
    suite_add_tcase(suite, buckets);

    TCase *connections = tcase_create("connections");
    tcase_add_test(connections, connections_limit);
    tcase_add_test(connections, connections_unlimited);
    tcase_add_test_raise_signal(connections, connections_close_unknown_aborts, SIGABRT);
    suite_add_tcase(suite, connections);
    return suite;
}

TEST_MAIN(rate_limiter_suite)
