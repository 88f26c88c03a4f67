#include <signal.h>

#include "models/delivery_policy.h"
#include "tests/unit/test_util.h"

START_TEST(decide_table)
{
    static const struct {
        enum failure_scope scope;
        enum smtp_reply_class cls;
        bool more_mx_hosts;
        enum delivery_decision expected;
    } cases[] = {
        /* Accepted, whatever the scope. */
        {FAILURE_SCOPE_NONE, SMTP_REPLY_POSITIVE, false, DECIDE_DELIVERED},
        {FAILURE_SCOPE_RECIPIENT, SMTP_REPLY_POSITIVE, true, DECIDE_DELIVERED},
        /* No connection: next host, else retry later. */
        {FAILURE_SCOPE_CONNECT, SMTP_REPLY_TRANSIENT, true, DECIDE_NEXT_MX},
        {FAILURE_SCOPE_CONNECT, SMTP_REPLY_TRANSIENT, false, DECIDE_DEFER},
        /* Greeting 4xx or 5xx: next host, else defer (5xx as Postfix's
         * smtp_skip_5xx_greeting). */
        {FAILURE_SCOPE_GREETING, SMTP_REPLY_TRANSIENT, true, DECIDE_NEXT_MX},
        {FAILURE_SCOPE_GREETING, SMTP_REPLY_TRANSIENT, false, DECIDE_DEFER},
        {FAILURE_SCOPE_GREETING, SMTP_REPLY_PERMANENT, true, DECIDE_NEXT_MX},
        {FAILURE_SCOPE_GREETING, SMTP_REPLY_PERMANENT, false, DECIDE_DEFER},
        /* After the greeting: 4xx defers, 5xx bounces, hosts left or not. */
        {FAILURE_SCOPE_SESSION, SMTP_REPLY_TRANSIENT, true, DECIDE_DEFER},
        {FAILURE_SCOPE_SESSION, SMTP_REPLY_TRANSIENT, false, DECIDE_DEFER},
        {FAILURE_SCOPE_SESSION, SMTP_REPLY_PERMANENT, true, DECIDE_BOUNCE},
        {FAILURE_SCOPE_SESSION, SMTP_REPLY_PERMANENT, false, DECIDE_BOUNCE},
        {FAILURE_SCOPE_MESSAGE, SMTP_REPLY_TRANSIENT, true, DECIDE_DEFER},
        {FAILURE_SCOPE_MESSAGE, SMTP_REPLY_PERMANENT, true, DECIDE_BOUNCE},
        {FAILURE_SCOPE_MESSAGE, SMTP_REPLY_PERMANENT, false, DECIDE_BOUNCE},
        {FAILURE_SCOPE_RECIPIENT, SMTP_REPLY_TRANSIENT, false, DECIDE_DEFER},
        {FAILURE_SCOPE_RECIPIENT, SMTP_REPLY_TRANSIENT, true, DECIDE_DEFER},
        {FAILURE_SCOPE_RECIPIENT, SMTP_REPLY_PERMANENT, false, DECIDE_BOUNCE},
        /* Protocol errors count as permanent. */
        {FAILURE_SCOPE_MESSAGE, SMTP_REPLY_INTERMEDIATE, false, DECIDE_BOUNCE},
        {FAILURE_SCOPE_SESSION, SMTP_REPLY_INVALID, true, DECIDE_BOUNCE},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        enum delivery_decision got = delivery_decide(
            cases[i].scope, cases[i].cls, cases[i].more_mx_hosts);

        ck_assert_msg(got == cases[i].expected,
                      "case %zu: %s, %s, more hosts %d: got %s, expected %s",
                      i, delivery_scope_name(cases[i].scope),
                      smtp_reply_class_name(cases[i].cls),
                      cases[i].more_mx_hosts, delivery_decision_name(got),
                      delivery_decision_name(cases[i].expected));
    }
}
END_TEST

START_TEST(decide_none_scope_failure_aborts)
{
    delivery_decide(FAILURE_SCOPE_NONE, SMTP_REPLY_TRANSIENT, true);
}
END_TEST

START_TEST(decision_and_scope_names)
{
    ck_assert_str_eq(delivery_decision_name(DECIDE_NEXT_MX), "NEXT_MX");
    ck_assert_str_eq(delivery_decision_name(DECIDE_BOUNCE), "BOUNCE");
    ck_assert_str_eq(delivery_decision_name(DECIDE_COUNT), "UNKNOWN");
    ck_assert_str_eq(delivery_scope_name(FAILURE_SCOPE_GREETING), "greeting");
    ck_assert_str_eq(delivery_scope_name(FAILURE_SCOPE_RECIPIENT),
                     "recipient");
}
END_TEST

/* The 5 minutes, factor 2, 4 hours example. */
static const struct retry_params example_retry = {
    .initial = 5 * SIM_MIN,
    .factor = 2.0,
    .maximum = 4 * SIM_HOUR,
    .queue_lifetime = 5 * SIM_DAY,
};

START_TEST(retry_doubling_schedule)
{
    static const int minutes[] = {5, 10, 20, 40, 80, 160, 240, 240};

    for (int i = 0; i < (int)(sizeof minutes / sizeof *minutes); i++) {
        sim_time got = retry_next_delay(&example_retry, i + 1);

        ck_assert_msg(got == minutes[i] * SIM_MIN,
                      "failure %d: got %lld ns, expected %d min", i + 1,
                      (long long)got, minutes[i]);
    }
}
END_TEST

START_TEST(retry_delay_capped_for_many_failures)
{
    ck_assert_int_eq(retry_next_delay(&example_retry, 1000), 4 * SIM_HOUR);
    ck_assert_int_eq(retry_next_delay(&example_retry, 2000000000),
                     4 * SIM_HOUR);
}
END_TEST

START_TEST(retry_fractional_factor)
{
    struct retry_params params = {
        .initial = 10 * SIM_SEC,
        .factor = 1.5,
        .maximum = SIM_HOUR,
    };

    ck_assert_int_eq(retry_next_delay(&params, 1), 10 * SIM_SEC);
    ck_assert_int_eq(retry_next_delay(&params, 2), 15 * SIM_SEC);
    ck_assert_int_eq(retry_next_delay(&params, 3), 22500 * SIM_MS);
}
END_TEST

START_TEST(retry_constant_factor)
{
    struct retry_params params = {
        .initial = 30 * SIM_MIN,
        .factor = 1.0,
        .maximum = 4 * SIM_HOUR,
    };

    ck_assert_int_eq(retry_next_delay(&params, 1), 30 * SIM_MIN);
    ck_assert_int_eq(retry_next_delay(&params, 50), 30 * SIM_MIN);
}
END_TEST

START_TEST(retry_zero_failures_aborts)
{
    retry_next_delay(&example_retry, 0);
}
END_TEST

START_TEST(retry_expiry_at_lifetime)
{
    sim_time queued = 3 * SIM_HOUR;
    sim_time lifetime = example_retry.queue_lifetime;

    ck_assert(!retry_expired(&example_retry, queued, queued));
    ck_assert(!retry_expired(&example_retry, queued, queued + lifetime - 1));
    ck_assert(retry_expired(&example_retry, queued, queued + lifetime));
    ck_assert(retry_expired(&example_retry, queued, queued + lifetime + 1));
}
END_TEST

Suite *delivery_policy_suite(void);

Suite *delivery_policy_suite(void)
{
    Suite *suite = suite_create("delivery_policy");
    TCase *decide_case = tcase_create("decide");
    TCase *retry_case = tcase_create("retry");

    tcase_add_test(decide_case, decide_table);
    tcase_add_test_raise_signal(decide_case, decide_none_scope_failure_aborts,
                                SIGABRT);
    tcase_add_test(decide_case, decision_and_scope_names);
    suite_add_tcase(suite, decide_case);

    tcase_add_test(retry_case, retry_doubling_schedule);
    tcase_add_test(retry_case, retry_delay_capped_for_many_failures);
    tcase_add_test(retry_case, retry_fractional_factor);
    tcase_add_test(retry_case, retry_constant_factor);
    tcase_add_test_raise_signal(retry_case, retry_zero_failures_aborts,
                                SIGABRT);
    tcase_add_test(retry_case, retry_expiry_at_lifetime);
    suite_add_tcase(suite, retry_case);
    return suite;
}

TEST_MAIN(delivery_policy_suite)
