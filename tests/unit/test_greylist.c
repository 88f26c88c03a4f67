#include <stdio.h>

#include "models/greylist.h"
#include "tests/unit/test_util.h"

#define S(seconds) ((sim_time)(seconds) * SIM_SEC)

/* 192.0.2.10 and 192.0.2.77 share a /24; 198.51.100.10 does not. */
#define CLIENT_A 0xC000020Au
#define CLIENT_A2 0xC000024Du
#define CLIENT_B 0xC633640Au

static struct greylist *new_enabled(void)
{
    struct greylist_params params;
    greylist_defaults(&params);
    params.enabled = true;
    return greylist_new(&params);
}

START_TEST(defaults_are_postgrey)
{
    struct greylist_params params;

    greylist_defaults(&params);
    ck_assert(!params.enabled);
    ck_assert_int_eq(params.delay, S(300));
    ck_assert_int_eq(params.retry_window, 2 * SIM_DAY);
    ck_assert_int_eq(params.lifetime, 35 * SIM_DAY);
    ck_assert_int_eq(params.prefix_length, 24);
}
END_TEST

START_TEST(network_prefixes)
{
    ck_assert_uint_eq(greylist_network(CLIENT_A, 24), 0xC0000200u);
    ck_assert_uint_eq(greylist_network(CLIENT_A, 16), 0xC0000000u);
    ck_assert_uint_eq(greylist_network(CLIENT_A, 32), CLIENT_A);
    ck_assert_uint_eq(greylist_network(CLIENT_A, 0), 0);
    ck_assert_uint_eq(greylist_network(CLIENT_A, 1), 0x80000000u);
}
END_TEST

/* An early retry is deferred and does not move first seen: the retry at
 * 200 s defers, and the one at 300 s (300 after first seen) passes. */
START_TEST(early_retry_keeps_first_seen)
{
    struct greylist *greylist = new_enabled();

    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example", 0),
                     GREYLIST_DEFER);
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example", S(200)),
                     GREYLIST_DEFER);
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example",
                                    S(300) - 1),
                     GREYLIST_DEFER);
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example", S(300)),
                     GREYLIST_PASS);
    /* Once passed, every later attempt passes while the entry lives. */
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example",
                                    30 * SIM_DAY),
                     GREYLIST_PASS);
    ck_assert_uint_eq(greylist_size(greylist), 1);
    greylist_free(greylist);
}
END_TEST

/* The key is (client /24, sender, recipient), without regard to case. */
START_TEST(triplet_key)
{
    struct greylist *greylist = new_enabled();

    greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example", 0);
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A2, "A@X.example", "b@Y.EXAMPLE", S(400)),
                     GREYLIST_PASS);
    ck_assert_int_eq(greylist_check(greylist, CLIENT_B, "a@x.example", "b@y.example", S(400)),
                     GREYLIST_DEFER);
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "c@x.example", "b@y.example", S(400)),
                     GREYLIST_DEFER);
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "a@x.example", "c@y.example", S(400)),
                     GREYLIST_DEFER);
    /* "ab" + "c" and "a" + "bc" are different triplets. */
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "ab", "c", S(500)), GREYLIST_DEFER);
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "a", "bc", S(900)), GREYLIST_DEFER);
    ck_assert_uint_eq(greylist_size(greylist), 6);
    greylist_free(greylist);
}
END_TEST

/* With prefix 32 every address is its own client. */
START_TEST(host_prefix)
{
    struct greylist_params params;
    greylist_defaults(&params);
    params.enabled = true;
    params.prefix_length = 32;
    struct greylist *greylist = greylist_new(&params);

    greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example", 0);
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A2, "a@x.example", "b@y.example", S(400)),
                     GREYLIST_DEFER);
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example", S(400)),
                     GREYLIST_PASS);
    greylist_free(greylist);
}
END_TEST

/* A first retry more than retry_window (2 d) after first seen starts the
 * triplet over, as postgrey's "discard stored first-seen" rule does. */
START_TEST(retry_window_restarts)
{
    struct greylist *greylist = new_enabled();
    sim_time late = 2 * SIM_DAY + S(1);

    greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example", 0);
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example", late),
                     GREYLIST_DEFER);
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example",
                                    late + S(299)),
                     GREYLIST_DEFER);
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example",
                                    late + S(300)),
                     GREYLIST_PASS);
    greylist_free(greylist);
}
END_TEST

/* A passed triplet unseen for more than lifetime (35 d) is greylisted
 * again; one seen within the lifetime is not. */
START_TEST(lifetime_expiry)
{
    struct greylist *greylist = new_enabled();

    greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example", 0);
    greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example", S(300));
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example",
                                    S(300) + 35 * SIM_DAY),
                     GREYLIST_PASS);
    sim_time seen = S(300) + 35 * SIM_DAY;
    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example",
                                    seen + 35 * SIM_DAY + 1),
                     GREYLIST_DEFER);
    greylist_free(greylist);
}
END_TEST

/* greylist_purge removes a passed entry after lifetime unseen and one that
 * has not passed after retry_window unseen. */
START_TEST(purge_removes_expired)
{
    struct greylist *greylist = new_enabled();

    greylist_check(greylist, CLIENT_A, "passed@x.example", "b@y.example", 0);
    greylist_check(greylist, CLIENT_A, "passed@x.example", "b@y.example", S(300));
    greylist_check(greylist, CLIENT_A, "waiting@x.example", "b@y.example", S(300));
    ck_assert_uint_eq(greylist_size(greylist), 2);

    ck_assert_uint_eq(greylist_purge(greylist, S(300) + 2 * SIM_DAY), 0);
    ck_assert_uint_eq(greylist_purge(greylist, S(300) + 2 * SIM_DAY + 1), 1);
    ck_assert_uint_eq(greylist_size(greylist), 1);
    ck_assert_uint_eq(greylist_purge(greylist, S(300) + 35 * SIM_DAY + 1), 1);
    ck_assert_uint_eq(greylist_size(greylist), 0);
    greylist_free(greylist);
}
END_TEST

/* 100,000 one-off triplets one second apart with a 1 h retry window, so
 * at most 3601 are live at a time.  The table never stores more than its
 * bucket count, and that stays below 2 x 3601 rounded up to a power of
 * two. */
START_TEST(memory_bounded)
{
    struct greylist_params params;
    greylist_defaults(&params);
    params.enabled = true;
    params.retry_window = SIM_HOUR;
    struct greylist *greylist = greylist_new(&params);
    size_t largest = 0;

    for (int i = 0; i < 100000; i++) {
        char sender[32];
        snprintf(sender, sizeof sender, "user%d@x.example", i);
        ck_assert_int_eq(greylist_check(greylist, CLIENT_A, sender, "b@y.example", S(i)),
                         GREYLIST_DEFER);
        if (greylist_size(greylist) > largest)
            largest = greylist_size(greylist);
    }
    ck_assert_uint_le(largest, 8192);
    ck_assert_uint_ge(largest, 3601);
    greylist_free(greylist);
}
END_TEST

START_TEST(disabled_passes_all)
{
    struct greylist_params params;
    greylist_defaults(&params);
    struct greylist *greylist = greylist_new(&params);

    ck_assert_int_eq(greylist_check(greylist, CLIENT_A, "a@x.example", "b@y.example", 0),
                     GREYLIST_PASS);
    ck_assert_uint_eq(greylist_size(greylist), 0);
    greylist_free(greylist);
}
END_TEST

Suite *greylist_suite(void);

Suite *greylist_suite(void)
{
    Suite *suite = suite_create("greylist");
    TCase *core = tcase_create("core");
    tcase_add_test(core, defaults_are_postgrey);
    tcase_add_test(core, network_prefixes);
    tcase_add_test(core, early_retry_keeps_first_seen);
    tcase_add_test(core, triplet_key);
    tcase_add_test(core, host_prefix);
    tcase_add_test(core, retry_window_restarts);
    tcase_add_test(core, lifetime_expiry);
    tcase_add_test(core, purge_removes_expired);
    tcase_add_test(core, memory_bounded);
    tcase_add_test(core, disabled_passes_all);
    suite_add_tcase(suite, core);
    return suite;
}

TEST_MAIN(greylist_suite)
