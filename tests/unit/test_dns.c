#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "models/dns.h"
#include "tests/unit/test_util.h"

static struct dns_answer make_answer(const struct dns_mx *mx, size_t count,
                                     sim_time ttl)
{
    struct dns_answer answer = {.rcode = DNS_NOERROR, .ttl = ttl};

    memcpy(answer.mx, mx, count * sizeof *mx);
    answer.mx_count = count;
    return answer;
}

static gsl_rng *seeded_rng(unsigned long seed)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);

    gsl_rng_set(rng, seed);
    return rng;
}

START_TEST(sort_by_preference)
{
    static const struct dns_mx mx[] = {
        {20, "b"}, {10, "a"}, {30, "c"}, {10, "d"}, {5, "e"}};
    struct dns_answer answer = make_answer(mx, 5, SIM_HOUR);

    dns_sort_mx(&answer, NULL);
    ck_assert_int_eq(answer.mx[0].preference, 5);
    ck_assert_str_eq(answer.mx[0].host, "e");
    /* Without an rng, equal preferences keep their input order. */
    ck_assert_str_eq(answer.mx[1].host, "a");
    ck_assert_str_eq(answer.mx[2].host, "d");
    ck_assert_str_eq(answer.mx[3].host, "b");
    ck_assert_str_eq(answer.mx[4].host, "c");
    ck_assert_uint_eq(answer.mx_count, 5);
}
END_TEST

/* Sorts {10 a, 10 b, 20 c} with a generator seeded with `seed`; returns
 * true when "a" comes first. */
static bool sort_puts_a_first(unsigned long seed)
{
    static const struct dns_mx mx[] = {{10, "a"}, {20, "c"}, {10, "b"}};
    struct dns_answer answer = make_answer(mx, 3, SIM_HOUR);
    gsl_rng *rng = seeded_rng(seed);

    dns_sort_mx(&answer, rng);
    gsl_rng_free(rng);
    ck_assert_int_eq(answer.mx[0].preference, 10);
    ck_assert_int_eq(answer.mx[1].preference, 10);
    ck_assert_str_eq(answer.mx[2].host, "c");
    return strcmp(answer.mx[0].host, "a") == 0;
}

START_TEST(sort_shuffles_equal_preferences)
{
    int a_first = 0;
    int b_first = 0;

    for (unsigned long seed = 1; seed <= 64; seed++) {
        if (sort_puts_a_first(seed))
            a_first++;
        else
            b_first++;
    }
    /* RFC 5321 5.1: equal preferences are randomized. */
    ck_assert_int_gt(a_first, 0);
    ck_assert_int_gt(b_first, 0);
}
END_TEST

START_TEST(sort_same_seed_same_order)
{
    for (unsigned long seed = 1; seed <= 16; seed++)
        ck_assert(sort_puts_a_first(seed) == sort_puts_a_first(seed));
}
END_TEST

START_TEST(sort_keeps_every_record)
{
    static const char *const hosts[DNS_MAX_MX] = {
        "h0", "h1", "h2", "h3", "h4", "h5", "h6", "h7",
        "h8", "h9", "h10", "h11", "h12", "h13", "h14", "h15"};
    struct dns_answer answer = {.mx_count = DNS_MAX_MX};
    gsl_rng *rng = seeded_rng(7);
    int seen[DNS_MAX_MX] = {0};

    for (int i = 0; i < DNS_MAX_MX; i++)
        answer.mx[i] = (struct dns_mx){i % 3, hosts[i]};
    dns_sort_mx(&answer, rng);
    gsl_rng_free(rng);

    for (int i = 0; i < DNS_MAX_MX; i++) {
        int index;

        ck_assert_int_eq(sscanf(answer.mx[i].host, "h%d", &index), 1);
        ck_assert_int_eq(answer.mx[i].preference, index % 3);
        seen[index]++;
        if (i > 0)
            ck_assert_int_le(answer.mx[i - 1].preference,
                             answer.mx[i].preference);
    }
    for (int i = 0; i < DNS_MAX_MX; i++)
        ck_assert_int_eq(seen[i], 1);
}
END_TEST

START_TEST(cache_hit_until_ttl)
{
    static const struct dns_mx mx[] = {{10, "mx1.example.org"}};
    struct dns_answer stored = make_answer(mx, 1, 60 * SIM_SEC);
    struct dns_answer found;
    struct dns_cache *cache = dns_cache_new();
    sim_time at = 100 * SIM_SEC;

    dns_cache_store(cache, "example.org", &stored, at);
    ck_assert(dns_cache_lookup(cache, "example.org", at, &found));
    ck_assert_uint_eq(found.mx_count, 1);
    ck_assert_str_eq(found.mx[0].host, "mx1.example.org");
    ck_assert_int_eq(found.ttl, 60 * SIM_SEC);
    ck_assert(dns_cache_lookup(cache, "example.org", at + 60 * SIM_SEC - 1,
                               &found));

    /* Expired at exactly store time + TTL. */
    ck_assert(!dns_cache_lookup(cache, "example.org", at + 60 * SIM_SEC,
                                &found));
    ck_assert_uint_eq(dns_cache_counters(cache).hits, 2);
    ck_assert_uint_eq(dns_cache_counters(cache).misses, 1);
    ck_assert_uint_eq(dns_cache_counters(cache).expiries, 1);

    /* The expired entry counts once; later lookups are plain misses. */
    ck_assert(!dns_cache_lookup(cache, "example.org", at + 61 * SIM_SEC,
                                &found));
    ck_assert_uint_eq(dns_cache_counters(cache).misses, 2);
    ck_assert_uint_eq(dns_cache_counters(cache).expiries, 1);

    /* Storing again makes it hit again, with the new store time. */
    dns_cache_store(cache, "example.org", &stored, at + 200 * SIM_SEC);
    ck_assert(dns_cache_lookup(cache, "example.org", at + 259 * SIM_SEC,
                               &found));
    ck_assert_uint_eq(dns_cache_size(cache), 1);
    dns_cache_free(cache);
}
END_TEST

START_TEST(cache_miss_for_unknown_domain)
{
    struct dns_cache *cache = dns_cache_new();
    struct dns_answer found;

    ck_assert(!dns_cache_lookup(cache, "nowhere.test", 0, &found));
    ck_assert_uint_eq(dns_cache_counters(cache).misses, 1);
    ck_assert_uint_eq(dns_cache_counters(cache).expiries, 0);
    ck_assert_uint_eq(dns_cache_counters(cache).hits, 0);
    dns_cache_free(cache);
}
END_TEST

START_TEST(cache_ignores_case)
{
    static const struct dns_mx mx[] = {{0, "MX.Example.ORG"}};
    struct dns_answer stored = make_answer(mx, 1, SIM_HOUR);
    struct dns_answer found;
    struct dns_cache *cache = dns_cache_new();

    dns_cache_store(cache, "Example.ORG", &stored, 0);
    ck_assert(dns_cache_lookup(cache, "example.org", 1, &found));
    ck_assert(dns_cache_lookup(cache, "EXAMPLE.org", 1, &found));
    /* Host names are returned as stored. */
    ck_assert_str_eq(found.mx[0].host, "MX.Example.ORG");
    ck_assert(!dns_cache_lookup(cache, "example.com", 1, &found));

    dns_cache_store(cache, "EXAMPLE.ORG", &stored, 5);
    ck_assert_uint_eq(dns_cache_size(cache), 1);
    dns_cache_free(cache);
}
END_TEST

START_TEST(cache_owns_string_copies)
{
    char domain[32] = "example.org";
    char host[32] = "mx1.example.org";
    struct dns_mx mx[] = {{10, host}};
    struct dns_answer stored = make_answer(mx, 1, SIM_HOUR);
    struct dns_answer found;
    struct dns_cache *cache = dns_cache_new();

    dns_cache_store(cache, domain, &stored, 0);
    strcpy(domain, "changed.org");
    strcpy(host, "changed.example");
    ck_assert(dns_cache_lookup(cache, "example.org", 0, &found));
    ck_assert_str_eq(found.mx[0].host, "mx1.example.org");
    ck_assert_ptr_ne(found.mx[0].host, host);
    ck_assert(!dns_cache_lookup(cache, "changed.org", 0, &found));
    dns_cache_free(cache);
}
END_TEST

START_TEST(cache_hosts_survive_replacement)
{
    static const struct dns_mx first[] = {{10, "old.example.org"}};
    static const struct dns_mx second[] = {{10, "new.example.org"}};
    struct dns_answer stored = make_answer(first, 1, SIM_HOUR);
    struct dns_answer kept;
    struct dns_answer found;
    struct dns_cache *cache = dns_cache_new();

    dns_cache_store(cache, "example.org", &stored, 0);
    ck_assert(dns_cache_lookup(cache, "example.org", 0, &kept));
    stored = make_answer(second, 1, SIM_HOUR);
    dns_cache_store(cache, "example.org", &stored, 1);

    ck_assert(dns_cache_lookup(cache, "example.org", 1, &found));
    ck_assert_str_eq(found.mx[0].host, "new.example.org");
    ck_assert_str_eq(kept.mx[0].host, "old.example.org");
    dns_cache_free(cache);
}
END_TEST

START_TEST(cache_negative_answer)
{
    struct dns_answer stored = {.rcode = DNS_NXDOMAIN, .ttl = 5 * SIM_MIN};
    struct dns_answer found;
    struct dns_cache *cache = dns_cache_new();

    dns_cache_store(cache, "missing.test", &stored, 0);
    ck_assert(dns_cache_lookup(cache, "missing.test", SIM_MIN, &found));
    ck_assert_int_eq(found.rcode, DNS_NXDOMAIN);
    ck_assert_uint_eq(found.mx_count, 0);
    ck_assert(!dns_cache_lookup(cache, "missing.test", 5 * SIM_MIN, &found));
    dns_cache_free(cache);
}
END_TEST

START_TEST(cache_grows_to_many_domains)
{
    struct dns_cache *cache = dns_cache_new();
    char domain[32];
    char host[32];
    struct dns_answer found;

    for (int i = 0; i < 2000; i++) {
        struct dns_mx mx[] = {{i, host}};
        struct dns_answer stored;

        snprintf(domain, sizeof domain, "d%d.test", i);
        snprintf(host, sizeof host, "mx%d.test", i % 50);
        stored = make_answer(mx, 1, SIM_DAY);
        dns_cache_store(cache, domain, &stored, 0);
    }
    ck_assert_uint_eq(dns_cache_size(cache), 2000);
    for (int i = 0; i < 2000; i++) {
        snprintf(domain, sizeof domain, "D%d.TEST", i);
        snprintf(host, sizeof host, "mx%d.test", i % 50);
        ck_assert_msg(dns_cache_lookup(cache, domain, SIM_HOUR, &found),
                      "%s not found", domain);
        ck_assert_int_eq(found.mx[0].preference, i);
        ck_assert_str_eq(found.mx[0].host, host);
    }
    ck_assert_uint_eq(dns_cache_counters(cache).hits, 2000);
    dns_cache_free(cache);
}
END_TEST

START_TEST(cache_store_rejects_too_many_mx)
{
    struct dns_answer stored = {.mx_count = DNS_MAX_MX + 1};
    struct dns_cache *cache = dns_cache_new();

    dns_cache_store(cache, "example.org", &stored, 0);
}
END_TEST

START_TEST(answer_from_zone)
{
    struct mx_record records[DNS_MAX_MX + 1];
    char names[DNS_MAX_MX + 1][16];
    struct dns_zone zone = {.domain = "example.org", .mx = records,
                            .mx_count = 2, .ttl = SIM_HOUR};
    struct dns_answer answer;

    for (int i = 0; i <= DNS_MAX_MX; i++) {
        snprintf(names[i], sizeof names[i], "mx%d", i);
        records[i] = (struct mx_record){.preference = 10 * i,
                                        .host = names[i]};
    }
    ck_assert(dns_answer_from_zone(&answer, &zone, SIM_MIN));
    ck_assert_int_eq(answer.rcode, DNS_NOERROR);
    ck_assert_uint_eq(answer.mx_count, 2);
    ck_assert_str_eq(answer.mx[1].host, "mx1");
    ck_assert_int_eq(answer.mx[1].preference, 10);
    ck_assert_int_eq(answer.ttl, SIM_HOUR);

    zone.mx_count = DNS_MAX_MX + 1;
    ck_assert(!dns_answer_from_zone(&answer, &zone, SIM_MIN));
    ck_assert_uint_eq(answer.mx_count, DNS_MAX_MX);

    ck_assert(dns_answer_from_zone(&answer, NULL, 3 * SIM_MIN));
    ck_assert_int_eq(answer.rcode, DNS_NXDOMAIN);
    ck_assert_uint_eq(answer.mx_count, 0);
    ck_assert_int_eq(answer.ttl, 3 * SIM_MIN);
    ck_assert_str_eq(dns_rcode_name(DNS_NXDOMAIN), "NXDOMAIN");
}
END_TEST

Suite *dns_suite(void);

Suite *dns_suite(void)
{
    Suite *suite = suite_create("dns");
    TCase *sort_case = tcase_create("sort");
    TCase *cache_case = tcase_create("cache");

    tcase_add_test(sort_case, sort_by_preference);
    tcase_add_test(sort_case, sort_shuffles_equal_preferences);
    tcase_add_test(sort_case, sort_same_seed_same_order);
    tcase_add_test(sort_case, sort_keeps_every_record);
    tcase_add_test(sort_case, answer_from_zone);
    suite_add_tcase(suite, sort_case);

    tcase_add_test(cache_case, cache_hit_until_ttl);
    tcase_add_test(cache_case, cache_miss_for_unknown_domain);
    tcase_add_test(cache_case, cache_ignores_case);
    tcase_add_test(cache_case, cache_owns_string_copies);
    tcase_add_test(cache_case, cache_hosts_survive_replacement);
    tcase_add_test(cache_case, cache_negative_answer);
    tcase_add_test(cache_case, cache_grows_to_many_domains);
    tcase_add_test_raise_signal(cache_case, cache_store_rejects_too_many_mx,
                                SIGABRT);
    suite_add_tcase(suite, cache_case);
    return suite;
}

TEST_MAIN(dns_suite)
