#include <stdio.h>
#include <string.h>

#include "models/address.h"
#include "models/scenario.h"
#include "tests/unit/test_util.h"

static char *alpha_domains[] = { "alpha.example", "alpha.test" };
static char *beta_domains[] = { "beta.example" };
static char *gamma_domains[] = { "g1.example", "g2.example", "g3.example" };

/* alpha: 10 mailboxes over 2 domains, beta: 5 over 1, gamma: 2 over 3, so
 * g3.example has none. */
static void fill_scenario(struct scenario *scenario, struct provider providers[3])
{
    memset(scenario, 0, sizeof *scenario);
    memset(providers, 0, 3 * sizeof providers[0]);
    providers[0].name = "alpha";
    providers[0].domains = alpha_domains;
    providers[0].domain_count = 2;
    providers[0].mailboxes = 10;
    providers[1].name = "beta";
    providers[1].domains = beta_domains;
    providers[1].domain_count = 1;
    providers[1].mailboxes = 5;
    providers[2].name = "gamma";
    providers[2].domains = gamma_domains;
    providers[2].domain_count = 3;
    providers[2].mailboxes = 2;
    scenario->providers = providers;
    scenario->provider_count = 3;
}

static struct scenario scenario;
static struct provider providers[3];

static void setup(void)
{
    fill_scenario(&scenario, providers);
}

static struct address parse_ok(const char *text)
{
    struct address address;
    char err[128] = "";
    bool ok = address_parse(&scenario, text, &address, err, sizeof err);
    ck_assert_msg(ok, "parsing '%s' failed: %s", text, err);
    return address;
}

static void assert_parse_error(const char *text, const char *expected)
{
    struct address address;
    char err[128] = "";
    ck_assert(!address_parse(&scenario, text, &address, err, sizeof err));
    ck_assert_str_eq(err, expected);
}

START_TEST(domain_mailbox_counts)
{
    ck_assert_uint_eq(address_domain_mailboxes(&providers[0], 0), 5);
    ck_assert_uint_eq(address_domain_mailboxes(&providers[0], 1), 5);
    ck_assert_uint_eq(address_domain_mailboxes(&providers[1], 0), 5);
    ck_assert_uint_eq(address_domain_mailboxes(&providers[2], 0), 1);
    ck_assert_uint_eq(address_domain_mailboxes(&providers[2], 1), 1);
    ck_assert_uint_eq(address_domain_mailboxes(&providers[2], 2), 0);
    ck_assert_uint_eq(address_domain_mailboxes(&providers[2], 3), 0);

    providers[1].domain_count = 3;
    providers[1].mailboxes = 5;
    ck_assert_uint_eq(address_domain_mailboxes(&providers[1], 0), 2);
    ck_assert_uint_eq(address_domain_mailboxes(&providers[1], 1), 2);
    ck_assert_uint_eq(address_domain_mailboxes(&providers[1], 2), 1);
    ck_assert_uint_eq(address_domain_mailbox(&providers[1], 2, 0), 2);
    ck_assert_uint_eq(address_domain_mailbox(&providers[1], 1, 1), 4);
}
END_TEST

START_TEST(find_domain_ignores_case)
{
    struct address address = { 0 };
    ck_assert(address_find_domain(&scenario, "G2.Example", &address));
    ck_assert_uint_eq(address.provider, 2);
    ck_assert_uint_eq(address.domain, 1);
    ck_assert(!address_find_domain(&scenario, "g2.example.", &address));
    ck_assert(!address_find_domain(&scenario, "example", &address));
}
END_TEST

START_TEST(format_numbered_mailbox)
{
    struct address address = { .provider = 0, .domain = 1, .mailbox = 3 };
    char buf[64];
    int length = address_format(&scenario, &address, buf, sizeof buf);
    ck_assert_int_eq(length, 13);
    ck_assert_str_eq(buf, "u3@alpha.test");
}
END_TEST

START_TEST(format_truncates_like_snprintf)
{
    struct address address = { .provider = 1, .domain = 0, .mailbox = 4 };
    char buf[5];
    ck_assert_int_eq(address_format(&scenario, &address, buf, sizeof buf), 15);
    ck_assert_str_eq(buf, "u4@b");
}
END_TEST

START_TEST(format_rejects_unknown_indices)
{
    char buf[64];
    struct address bad_provider = { .provider = 3, .domain = 0, .mailbox = 0 };
    struct address bad_domain = { .provider = 1, .domain = 1, .mailbox = 0 };
    ck_assert_int_eq(address_format(&scenario, &bad_provider, buf, sizeof buf), -1);
    ck_assert_int_eq(address_format(&scenario, &bad_domain, buf, sizeof buf), -1);
}
END_TEST

START_TEST(round_trip_every_mailbox)
{
    for (uint32_t p = 0; p < 2; p++) {
        const struct provider *provider = &providers[p];
        for (uint64_t m = 0; m < provider->mailboxes; m++) {
            struct address address = {
                .provider = p,
                .domain = (uint32_t)(m % provider->domain_count),
                .mailbox = m,
            };
            char buf[64];
            ck_assert_int_gt(address_format(&scenario, &address, buf, sizeof buf), 0);
            struct address parsed = parse_ok(buf);
            ck_assert_msg(address_equal(&parsed, &address), "'%s' did not round trip", buf);
        }
    }
}
END_TEST

START_TEST(parse_ignores_case)
{
    struct address address = parse_ok("U3@ALPHA.Test");
    ck_assert_uint_eq(address.provider, 0);
    ck_assert_uint_eq(address.domain, 1);
    ck_assert_uint_eq(address.mailbox, 3);
}
END_TEST

START_TEST(parse_hashes_named_local_part)
{
    /* FNV-1a of "a" is 0xaf63dc4c8601ec8c, which is 1 modulo 5. */
    struct address beta = parse_ok("a@beta.example");
    ck_assert_uint_eq(beta.provider, 1);
    ck_assert_uint_eq(beta.domain, 0);
    ck_assert_uint_eq(beta.mailbox, 1);

    /* On alpha.test the 5 mailboxes are 1, 3, 5, 7, 9, so k = 1 is 3. */
    struct address alpha = parse_ok("A@alpha.test");
    ck_assert_uint_eq(alpha.domain, 1);
    ck_assert_uint_eq(alpha.mailbox, 3);
}
END_TEST

START_TEST(parse_named_local_part_is_stable)
{
    struct address first = parse_ok("Alice.Smith@alpha.example");
    struct address second = parse_ok("alice.smith@ALPHA.example");
    ck_assert(address_equal(&first, &second));
    ck_assert_uint_eq(first.domain, 0);
    ck_assert_uint_eq(first.mailbox % 2, 0);
    ck_assert_uint_lt(first.mailbox, 10);
}
END_TEST

START_TEST(parse_foreign_number_is_hashed)
{
    /* u2 belongs to alpha.example, u99 is out of range and u010 is not
     * canonical, so each is hashed onto alpha.test's odd mailboxes. */
    const char *texts[] = { "u2@alpha.test", "u99@alpha.test", "u010@alpha.test",
                            "u@alpha.test", "u18446744073709551616@alpha.test" };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct address address = parse_ok(texts[i]);
        ck_assert_uint_eq(address.domain, 1);
        ck_assert_msg(address.mailbox % 2 == 1, "%s gave mailbox %llu", texts[i],
                      (unsigned long long)address.mailbox);
        ck_assert_uint_lt(address.mailbox, 10);
    }
}
END_TEST

START_TEST(parse_uses_last_at_sign)
{
    struct address address = parse_ok("odd@local@beta.example");
    ck_assert_uint_eq(address.provider, 1);
    ck_assert_uint_lt(address.mailbox, 5);
}
END_TEST

START_TEST(parse_errors)
{
    assert_parse_error("alice", "missing '@' between local part and domain");
    assert_parse_error("@beta.example", "empty local part before '@'");
    assert_parse_error("alice@", "empty domain after '@'");
    assert_parse_error("alice@x.example", "domain 'x.example' is not served by any provider");
    assert_parse_error("alice@g3.example", "domain 'g3.example' has no mailboxes");
    assert_parse_error("al ice@beta.example", "address contains a space or control character");
    assert_parse_error("alice@beta.example\n", "address contains a space or control character");
    assert_parse_error("", "missing '@' between local part and domain");
}
END_TEST

START_TEST(parse_error_leaves_output)
{
    struct address address = { .provider = 7, .domain = 7, .mailbox = 7 };
    char err[128];
    ck_assert(!address_parse(&scenario, "u1@g3.example", &address, err, sizeof err));
    ck_assert_uint_eq(address.provider, 7);
    ck_assert_uint_eq(address.mailbox, 7);
}
END_TEST

Suite *address_suite(void);

Suite *address_suite(void)
{
    Suite *suite = suite_create("address");
    TCase *tc = tcase_create("address");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, domain_mailbox_counts);
    tcase_add_test(tc, find_domain_ignores_case);
    tcase_add_test(tc, format_numbered_mailbox);
    tcase_add_test(tc, format_truncates_like_snprintf);
    tcase_add_test(tc, format_rejects_unknown_indices);
    tcase_add_test(tc, round_trip_every_mailbox);
    tcase_add_test(tc, parse_ignores_case);
    tcase_add_test(tc, parse_hashes_named_local_part);
    tcase_add_test(tc, parse_named_local_part_is_stable);
    tcase_add_test(tc, parse_foreign_number_is_hashed);
    tcase_add_test(tc, parse_uses_last_at_sign);
    tcase_add_test(tc, parse_errors);
    tcase_add_test(tc, parse_error_leaves_output);
    suite_add_tcase(suite, tc);
    return suite;
}

TEST_MAIN(address_suite)
