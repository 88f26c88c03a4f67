#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/scenario.h"
#include "models/workload.h"
#include "tests/unit/test_util.h"

static char *alpha_domains[] = { "alpha.example", "alpha.test" };
static char *beta_domains[] = { "beta.example" };
static char *gamma_domains[] = { "gamma.example" };

static struct scenario scenario;
static struct provider providers[3];
static struct destination_share destinations[3];

/* alpha: 1000 mailboxes over 2 domains, beta: 500, gamma: 3.  Only alpha
 * sends, 0.01 messages per second per mailbox (10 per second), each to
 * one recipient anywhere, 1000 bytes and no attachment. */
static void fill_scenario(void)
{
    memset(&scenario, 0, sizeof scenario);
    memset(providers, 0, sizeof providers);
    memset(destinations, 0, sizeof destinations);

    providers[0].name = "alpha";
    providers[0].domains = alpha_domains;
    providers[0].domain_count = 2;
    providers[0].mailboxes = 1000;
    providers[1].name = "beta";
    providers[1].domains = beta_domains;
    providers[1].domain_count = 1;
    providers[1].mailboxes = 500;
    providers[2].name = "gamma";
    providers[2].domains = gamma_domains;
    providers[2].domain_count = 1;
    providers[2].mailboxes = 3;

    struct workload_params *params = &providers[0].workload;
    params->rate_per_mailbox = 0.01;
    params->recipients = (struct dist){ .kind = DIST_CONSTANT, .a = 1 };
    params->message_size = (struct dist){ .kind = DIST_CONSTANT, .a = 1000 };
    params->attachment_size = (struct dist){ .kind = DIST_CONSTANT, .a = 5000 };

    scenario.name = "workload-test";
    scenario.seed = 42;
    scenario.duration = 1000 * SIM_SEC;
    scenario.providers = providers;
    scenario.provider_count = 3;
}

static void set_destination(size_t i, char *domain, double share)
{
    destinations[i] = (struct destination_share){ .domain = domain, .share = share };
    providers[0].workload.destinations = destinations;
    providers[0].workload.destination_count = i + 1;
}

static struct workload_source *new_alpha_source(void)
{
    struct workload_source *source = workload_source_new(&scenario, 0);
    ck_assert_ptr_nonnull(source);
    return source;
}

/* Asserts |observed - expected| <= 5 sigma for a Poisson count. */
static void assert_poisson_count(double observed, double expected)
{
    double band = 5 * sqrt(expected);
    ck_assert_msg(fabs(observed - expected) <= band,
                  "count %.0f outside %.0f +- %.1f", observed, expected, band);
}

/* Asserts a binomial proportion is within 5 sigma of p over n trials. */
static void assert_proportion(double hits, double n, double p)
{
    double band = 5 * sqrt(p * (1 - p) / n);
    ck_assert_msg(fabs(hits / n - p) <= band, "proportion %.4f outside %.4f +- %.4f",
                  hits / n, p, band);
}

START_TEST(constant_rate_count)
{
    scenario.duration = 10000 * SIM_SEC;
    struct workload_source *source = new_alpha_source();
    struct submission submission;
    size_t count = 0;
    sim_time previous = 0;

    while (workload_source_next(source, &submission)) {
        ck_assert_int_ge(submission.time, previous);
        ck_assert_int_lt(submission.time, scenario.duration);
        previous = submission.time;
        count++;
    }
    assert_poisson_count((double)count, 10.0 * 10000);
    ck_assert(!workload_source_next(source, &submission));
    workload_source_free(source);
}
END_TEST

START_TEST(constant_rate_gaps)
{
    /* 0.1 s mean gaps: check their mean and that their standard deviation
     * equals the mean, as for exponential gaps. */
    scenario.duration = 10000 * SIM_SEC;
    struct workload_source *source = new_alpha_source();
    struct submission submission;
    double sum = 0;
    double sum_squares = 0;
    size_t gaps = 0;
    sim_time previous = 0;

    while (workload_source_next(source, &submission)) {
        double gap = sim_time_to_seconds(submission.time - previous);
        sum += gap;
        sum_squares += gap * gap;
        gaps++;
        previous = submission.time;
    }
    double mean = sum / (double)gaps;
    double stddev = sqrt(sum_squares / (double)gaps - mean * mean);
    ck_assert_double_eq_tol(mean, 0.1, 5 * 0.1 / sqrt((double)gaps));
    ck_assert_double_eq_tol(stddev, 0.1, 0.0025);
    workload_source_free(source);
}
END_TEST

START_TEST(profile_hours_and_proportions)
{
    /* Hours 0-5 silent, 6-11 at twice the mean and 12-23 at the mean. */
    struct workload_params *params = &providers[0].workload;
    params->has_profile = true;
    for (int h = 0; h < 6; h++)
        params->profile[h] = 0.0;
    for (int h = 6; h < 12; h++)
        params->profile[h] = 2.0;
    for (int h = 12; h < 24; h++)
        params->profile[h] = 1.0;
    params->rate_per_mailbox = 0.001;
    scenario.duration = 2 * SIM_DAY;

    struct workload_source *source = new_alpha_source();
    struct submission submission;
    size_t per_hour[24] = { 0 };
    while (workload_source_next(source, &submission))
        per_hour[(submission.time / SIM_HOUR) % 24]++;
    workload_source_free(source);

    for (int h = 0; h < 24; h++) {
        double expected = 1.0 * params->profile[h] * 3600 * 2;
        if (expected == 0)
            ck_assert_uint_eq(per_hour[h], 0);
        else
            assert_poisson_count((double)per_hour[h], expected);
    }
}
END_TEST

START_TEST(profile_carries_work_over)
{
    /* Only hour 3 is open, at about 2 messages a day: most gaps cross many
     * silent hours, so this fails if work is lost at hour boundaries. */
    struct workload_params *params = &providers[0].workload;
    params->has_profile = true;
    memset(params->profile, 0, sizeof params->profile);
    params->profile[3] = 24.0;
    params->rate_per_mailbox = 2.0 / (1000 * 24 * 3600);
    scenario.duration = 400 * SIM_DAY;

    struct workload_source *source = new_alpha_source();
    struct submission submission;
    size_t count = 0;
    while (workload_source_next(source, &submission)) {
        ck_assert_int_eq((submission.time / SIM_HOUR) % 24, 3);
        count++;
    }
    workload_source_free(source);
    assert_poisson_count((double)count, 2.0 * 400);
}
END_TEST

START_TEST(zero_rate_gives_nothing)
{
    providers[0].workload.rate_per_mailbox = 0;
    struct workload_source *source = new_alpha_source();
    struct submission submission;
    ck_assert(!workload_source_next(source, &submission));
    workload_source_free(source);

    struct workload_source *beta = workload_source_new(&scenario, 1);
    ck_assert_ptr_nonnull(beta);
    ck_assert(!workload_source_next(beta, &submission));
    workload_source_free(beta);
}
END_TEST

static void assert_same_submission(const struct submission *a, const struct submission *b)
{
    ck_assert_int_eq(a->time, b->time);
    ck_assert(address_equal(&a->sender, &b->sender));
    ck_assert_uint_eq(a->recipient_count, b->recipient_count);
    for (size_t i = 0; i < a->recipient_count; i++)
        ck_assert(address_equal(&a->recipients[i], &b->recipients[i]));
    ck_assert_uint_eq(a->size, b->size);
    ck_assert_uint_eq(a->attachment_size, b->attachment_size);
}

START_TEST(same_seed_same_sequence)
{
    providers[0].workload.recipients = (struct dist){ .kind = DIST_UNIFORM, .a = 1, .b = 6 };
    providers[0].workload.message_size =
        (struct dist){ .kind = DIST_EXPONENTIAL, .a = 20000 };
    providers[0].workload.attachment_probability = 0.3;
    struct workload_source *first = new_alpha_source();
    struct workload_source *second = new_alpha_source();
    struct submission a;
    struct submission b;
    size_t count = 0;

    while (workload_source_next(first, &a)) {
        ck_assert(workload_source_next(second, &b));
        assert_same_submission(&a, &b);
        count++;
    }
    ck_assert(!workload_source_next(second, &b));
    ck_assert_uint_gt(count, 9000);
    workload_source_free(first);
    workload_source_free(second);
}
END_TEST

START_TEST(other_seed_other_times)
{
    struct workload_source *first = new_alpha_source();
    scenario.seed = 43;
    struct workload_source *second = new_alpha_source();
    struct submission a;
    struct submission b;
    size_t equal = 0;

    for (int i = 0; i < 100; i++) {
        ck_assert(workload_source_next(first, &a));
        ck_assert(workload_source_next(second, &b));
        equal += a.time == b.time;
    }
    ck_assert_uint_lt(equal, 5);
    workload_source_free(first);
    workload_source_free(second);
}
END_TEST

START_TEST(content_change_keeps_times)
{
    struct workload_source *first = new_alpha_source();
    providers[0].workload.recipients = (struct dist){ .kind = DIST_UNIFORM, .a = 1, .b = 9 };
    providers[0].workload.attachment_probability = 0.5;
    struct workload_source *second = new_alpha_source();
    struct submission a;
    struct submission b;

    for (int i = 0; i < 1000; i++) {
        ck_assert(workload_source_next(first, &a));
        ck_assert(workload_source_next(second, &b));
        ck_assert_int_eq(a.time, b.time);
    }
    workload_source_free(first);
    workload_source_free(second);
}
END_TEST

START_TEST(sender_is_own_mailbox)
{
    struct workload_source *source = new_alpha_source();
    struct submission submission;
    size_t in_second_domain = 0;
    size_t count = 0;

    while (workload_source_next(source, &submission)) {
        ck_assert_uint_eq(submission.sender.provider, 0);
        ck_assert_uint_lt(submission.sender.mailbox, 1000);
        ck_assert_uint_eq(submission.sender.domain, submission.sender.mailbox % 2);
        in_second_domain += submission.sender.domain == 1;
        count++;
    }
    assert_proportion((double)in_second_domain, (double)count, 0.5);
    workload_source_free(source);
}
END_TEST

START_TEST(recipient_count_distribution)
{
    /* round(uniform(0.5, 4.5)) is 1, 2, 3 or 4, each with probability 1/4. */
    providers[0].workload.recipients = (struct dist){ .kind = DIST_UNIFORM, .a = 0.5, .b = 4.5 };
    struct workload_source *source = new_alpha_source();
    struct submission submission;
    size_t by_count[SUBMISSION_MAX_RECIPIENTS + 1] = { 0 };
    size_t total = 0;

    while (workload_source_next(source, &submission)) {
        ck_assert_uint_ge(submission.recipient_count, 1);
        ck_assert_uint_le(submission.recipient_count, 4);
        by_count[submission.recipient_count]++;
        total++;
    }
    for (size_t k = 1; k <= 4; k++)
        assert_proportion((double)by_count[k], (double)total, 0.25);
    workload_source_free(source);
}
END_TEST

START_TEST(recipient_count_clamped)
{
    struct submission submission;
    providers[0].workload.recipients = (struct dist){ .kind = DIST_CONSTANT, .a = 100 };
    struct workload_source *many = new_alpha_source();
    ck_assert(workload_source_next(many, &submission));
    ck_assert_uint_eq(submission.recipient_count, SUBMISSION_MAX_RECIPIENTS);
    workload_source_free(many);

    providers[0].workload.recipients = (struct dist){ .kind = DIST_CONSTANT, .a = 0.2 };
    struct workload_source *few = new_alpha_source();
    ck_assert(workload_source_next(few, &submission));
    ck_assert_uint_eq(submission.recipient_count, 1);
    workload_source_free(few);
}
END_TEST

START_TEST(destination_shares)
{
    set_destination(0, "beta.example", 0.7);
    set_destination(1, "ALPHA.test", 0.3);
    providers[0].workload.recipients = (struct dist){ .kind = DIST_CONSTANT, .a = 2 };
    struct workload_source *source = new_alpha_source();
    struct submission submission;
    size_t to_beta = 0;
    size_t total = 0;

    while (workload_source_next(source, &submission)) {
        ck_assert_uint_eq(submission.recipient_count, 2);
        for (size_t i = 0; i < submission.recipient_count; i++) {
            const struct address *to = &submission.recipients[i];
            if (to->provider == 1) {
                ck_assert_uint_lt(to->mailbox, 500);
                to_beta++;
            } else {
                ck_assert_uint_eq(to->provider, 0);
                ck_assert_uint_eq(to->domain, 1);
                ck_assert_uint_eq(to->mailbox % 2, 1);
            }
            ck_assert(!address_equal(to, &submission.sender));
            total++;
        }
    }
    /* Two recipients of one message are not independent when both fall in
     * one domain, but with 500 mailboxes a redraw barely moves the share. */
    assert_proportion((double)to_beta, (double)total, 0.7);
    workload_source_free(source);
}
END_TEST

START_TEST(default_destinations_by_mailboxes)
{
    /* Without destinations each of the 1503 mailboxes is equally likely. */
    struct workload_source *source = new_alpha_source();
    struct submission submission;
    size_t by_provider[3] = { 0 };
    size_t total = 0;

    while (workload_source_next(source, &submission)) {
        by_provider[submission.recipients[0].provider]++;
        total++;
    }
    assert_proportion((double)by_provider[0], (double)total, 1000.0 / 1503);
    assert_proportion((double)by_provider[1], (double)total, 500.0 / 1503);
    assert_proportion((double)by_provider[2], (double)total, 3.0 / 1503);
    workload_source_free(source);
}
END_TEST

static bool has_duplicates(const struct submission *submission)
{
    for (size_t i = 0; i < submission->recipient_count; i++) {
        for (size_t j = i + 1; j < submission->recipient_count; j++) {
            if (address_equal(&submission->recipients[i], &submission->recipients[j]))
                return true;
        }
    }
    return false;
}

START_TEST(no_duplicate_recipients)
{
    /* gamma has 3 mailboxes, so 5 recipients must be cut to 3. */
    set_destination(0, "gamma.example", 1.0);
    providers[0].workload.recipients = (struct dist){ .kind = DIST_CONSTANT, .a = 5 };
    struct workload_source *source = new_alpha_source();
    struct submission submission;
    size_t three = 0;
    size_t total = 0;

    while (workload_source_next(source, &submission)) {
        ck_assert(!has_duplicates(&submission));
        ck_assert_uint_le(submission.recipient_count, 3);
        three += submission.recipient_count == 3;
        total++;
    }
    /* The third recipient fails 8 redraws with probability (2/3)^8 < 0.04. */
    ck_assert_uint_gt(three, total * 9 / 10);
    workload_source_free(source);
}
END_TEST

START_TEST(no_self_in_own_domain)
{
    /* alpha.test has 500 mailboxes: no recipient is the sender and no
     * message repeats a recipient. */
    set_destination(0, "alpha.test", 1.0);
    providers[0].workload.recipients = (struct dist){ .kind = DIST_CONSTANT, .a = 20 };
    struct workload_source *source = new_alpha_source();
    struct submission submission;

    for (int n = 0; n < 2000 && workload_source_next(source, &submission); n++) {
        ck_assert_uint_eq(submission.recipient_count, 20);
        ck_assert(!has_duplicates(&submission));
        for (size_t i = 0; i < submission.recipient_count; i++)
            ck_assert(!address_equal(&submission.recipients[i], &submission.sender));
    }
    workload_source_free(source);
}
END_TEST

START_TEST(sizes_and_attachments)
{
    providers[0].workload.attachment_probability = 0.25;
    struct workload_source *source = new_alpha_source();
    struct submission submission;
    size_t attached = 0;
    size_t total = 0;

    while (workload_source_next(source, &submission)) {
        if (submission.attachment_size == 0) {
            ck_assert_uint_eq(submission.size, 1000);
        } else {
            ck_assert_uint_eq(submission.attachment_size, 5000);
            ck_assert_uint_eq(submission.size, 6000);
            attached++;
        }
        total++;
    }
    assert_proportion((double)attached, (double)total, 0.25);
    workload_source_free(source);
}
END_TEST

START_TEST(sizes_rounded_and_clamped)
{
    struct workload_params params = { 0 };
    struct submission submission;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);

    params.message_size = (struct dist){ .kind = DIST_CONSTANT, .a = 1499.6 };
    workload_sample_size(&params, rng, &submission);
    ck_assert_uint_eq(submission.size, 1500);
    ck_assert_uint_eq(submission.attachment_size, 0);

    params.message_size = (struct dist){ .kind = DIST_CONSTANT, .a = -3 };
    params.attachment_probability = 1.0;
    params.attachment_size = (struct dist){ .kind = DIST_CONSTANT, .a = 0.2 };
    workload_sample_size(&params, rng, &submission);
    ck_assert_uint_eq(submission.size, 2);
    ck_assert_uint_eq(submission.attachment_size, 1);

    params.message_size = (struct dist){ .kind = DIST_CONSTANT, .a = 1e30 };
    params.attachment_size = (struct dist){ .kind = DIST_CONSTANT, .a = NAN };
    workload_sample_size(&params, rng, &submission);
    ck_assert_uint_eq(submission.size, (UINT64_C(1) << 62) + 1);
    ck_assert_uint_eq(submission.attachment_size, 1);
    gsl_rng_free(rng);
}
END_TEST

START_TEST(unknown_destination_rejected)
{
    set_destination(0, "nowhere.example", 1.0);
    ck_assert_ptr_null(workload_source_new(&scenario, 0));
    ck_assert_ptr_null(workload_source_new(&scenario, 3));
}
END_TEST

START_TEST(empty_destination_rejected)
{
    /* gamma with fewer mailboxes than domains leaves its second domain empty. */
    static char *two_domains[] = { "gamma.example", "empty.example" };
    providers[2].domains = two_domains;
    providers[2].domain_count = 2;
    providers[2].mailboxes = 1;
    set_destination(0, "empty.example", 1.0);
    ck_assert_ptr_null(workload_source_new(&scenario, 0));

    set_destination(1, "beta.example", 0.5);
    struct workload_source *source = new_alpha_source();
    struct submission submission;
    while (workload_source_next(source, &submission))
        ck_assert_uint_eq(submission.recipients[0].provider, 1);
    workload_source_free(source);
}
END_TEST

Suite *workload_suite(void);

Suite *workload_suite(void)
{
    Suite *suite = suite_create("workload");
    TCase *arrivals = tcase_create("arrivals");
    tcase_add_checked_fixture(arrivals, fill_scenario, NULL);
    tcase_set_timeout(arrivals, 30);
    tcase_add_test(arrivals, constant_rate_count);
    tcase_add_test(arrivals, constant_rate_gaps);
    tcase_add_test(arrivals, profile_hours_and_proportions);
    tcase_add_test(arrivals, profile_carries_work_over);
    tcase_add_test(arrivals, zero_rate_gives_nothing);
    tcase_add_test(arrivals, same_seed_same_sequence);
    tcase_add_test(arrivals, other_seed_other_times);
    tcase_add_test(arrivals, content_change_keeps_times);
    suite_add_tcase(suite, arrivals);

    TCase *content = tcase_create("content");
    tcase_add_checked_fixture(content, fill_scenario, NULL);
    tcase_set_timeout(content, 30);
    tcase_add_test(content, sender_is_own_mailbox);
    tcase_add_test(content, recipient_count_distribution);
    tcase_add_test(content, recipient_count_clamped);
    tcase_add_test(content, destination_shares);
    tcase_add_test(content, default_destinations_by_mailboxes);
    tcase_add_test(content, no_duplicate_recipients);
    tcase_add_test(content, no_self_in_own_domain);
    tcase_add_test(content, sizes_and_attachments);
    tcase_add_test(content, sizes_rounded_and_clamped);
    tcase_add_test(content, unknown_destination_rejected);
    tcase_add_test(content, empty_destination_rejected);
    suite_add_tcase(suite, content);
    return suite;
}

TEST_MAIN(workload_suite)
