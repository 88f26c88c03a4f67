#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/scenario.h"
#include "tests/unit/test_util.h"

/* One provider, whose other keys each test appends at its indentation. */
static const char base_scenario[] =
    "name: policy\n"
    "duration: 1h\n"
    "regions: [eu-west]\n"
    "dns:\n"
    "  zones:\n"
    "    - domain: alpha.example\n"
    "providers:\n"
    "  - name: alpha\n"
    "    region: eu-west\n"
    "    domains: [alpha.example]\n"
    "    mailboxes: 10\n";

/* Output of the last load: the error and warning lines, "" for none. */
static char messages[2048];

static char *read_stream(FILE *file)
{
    rewind(file);
    size_t used = 0;
    size_t capacity = 256;
    char *text = malloc(capacity);
    int c;
    while ((c = fgetc(file)) != EOF) {
        if (used + 1 >= capacity)
            text = realloc(text, capacity *= 2);
        text[used++] = (char)c;
    }
    text[used] = '\0';
    return text;
}

/* Loads the base scenario followed by `provider_tail`; fills `messages`
 * with what the loader printed, with "FILE:" replaced by "F:". */
static struct scenario *load(const char *provider_tail)
{
    char path[] = "/tmp/mailsim-policy-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *file = fdopen(fd, "w");
    fputs(base_scenario, file);
    fputs(provider_tail, file);
    fclose(file);

    FILE *errors = tmpfile();
    struct scenario *scenario = scenario_load_report(path, errors);
    char *text = read_stream(errors);
    fclose(errors);

    messages[0] = '\0';
    const char *rest = text;
    const char *found;
    while ((found = strstr(rest, path)) != NULL) {
        strncat(messages, rest, (size_t)(found - rest));
        strcat(messages, "F");
        rest = found + strlen(path);
    }
    strncat(messages, rest, sizeof messages - strlen(messages) - 1);
    free(text);
    unlink(path);
    return scenario;
}

static void assert_error(const char *provider_tail, const char *expected)
{
    struct scenario *scenario = load(provider_tail);
    ck_assert_msg(scenario == NULL, "loaded without error: %s", provider_tail);
    ck_assert_str_eq(messages, expected);
}

static struct scenario *load_ok(const char *provider_tail)
{
    struct scenario *scenario = load(provider_tail);
    ck_assert_msg(scenario != NULL, "failed to load: %s", messages);
    return scenario;
}

START_TEST(defaults_without_keys)
{
    struct scenario *scenario = load_ok("    smtp_in: {hosts: [mx.alpha.example]}\n");
    const struct smtp_out_policy *out = &scenario->providers[0].smtp_out.policy;
    const struct smtp_in_policy *in = &scenario->providers[0].smtp_in.policy;

    ck_assert_int_eq(out->retry.kind, RETRY_POLICY_EXPONENTIAL);
    ck_assert_int_eq(out->retry.exponential.initial, 5 * SIM_MIN);
    ck_assert(out->retry.exponential.factor == 2);
    ck_assert_int_eq(out->retry.exponential.maximum, 4 * SIM_HOUR);
    ck_assert(out->retry.exponential.jitter == 0);
    ck_assert_int_eq(out->retry.queue_lifetime, 5 * SIM_DAY);
    ck_assert_int_eq(out->retry.delay_warning, 0);
    ck_assert_int_eq(out->destination_concurrency, 20);
    ck_assert_int_eq(out->dead_destination.failures, 0);

    ck_assert(!in->greylisting.enabled);
    ck_assert_int_eq(in->greylisting.delay, 300 * SIM_SEC);
    ck_assert_uint_eq(in->rate_limit_count, 0);
    ck_assert_int_eq(in->connection_limit, 0);
    ck_assert(in->quota_full == 0);
    ck_assert_str_eq(messages, "");
    scenario_free(scenario);
}
END_TEST

/* The old keys fill the default exponential policy, and jitter adds to it. */
START_TEST(old_keys_fill_exponential)
{
    struct scenario *scenario = load_ok(
        "    smtp_out:\n"
        "      retry: {initial: 1m, factor: 3, maximum: 1h, queue_lifetime: 2d, jitter: 0.1}\n");
    const struct retry_policy *retry = &scenario->providers[0].smtp_out.policy.retry;

    ck_assert_int_eq(retry->kind, RETRY_POLICY_EXPONENTIAL);
    ck_assert_int_eq(retry->exponential.initial, SIM_MIN);
    ck_assert(retry->exponential.factor == 3);
    ck_assert_int_eq(retry->exponential.maximum, SIM_HOUR);
    ck_assert(retry->exponential.jitter == 0.1);
    ck_assert_int_eq(retry->queue_lifetime, 2 * SIM_DAY);
    ck_assert_int_eq(scenario->providers[0].smtp_out.retry.initial, SIM_MIN);
    scenario_free(scenario);
}
END_TEST

START_TEST(postfix_keys)
{
    struct scenario *scenario = load_ok(
        "    smtp_out:\n"
        "      retry:\n"
        "        policy: postfix\n"
        "        minimal_backoff_time: 1000s\n"
        "        maximal_backoff_time: 2h\n"
        "        queue_run_delay: 1000s\n"
        "        queue_lifetime: 3d\n"
        "        delay_warning: 4h\n");
    const struct retry_policy *retry = &scenario->providers[0].smtp_out.policy.retry;

    ck_assert_int_eq(retry->kind, RETRY_POLICY_POSTFIX);
    ck_assert_int_eq(retry->postfix.minimal_backoff_time, 1000 * SIM_SEC);
    ck_assert_int_eq(retry->postfix.maximal_backoff_time, 2 * SIM_HOUR);
    ck_assert_int_eq(retry->postfix.queue_run_delay, 1000 * SIM_SEC);
    ck_assert_int_eq(retry->queue_lifetime, 3 * SIM_DAY);
    ck_assert_int_eq(retry->delay_warning, 4 * SIM_HOUR);
    scenario_free(scenario);
}
END_TEST

START_TEST(postfix_defaults)
{
    struct scenario *scenario = load_ok("    smtp_out: {retry: {policy: postfix}}\n");
    const struct retry_policy *retry = &scenario->providers[0].smtp_out.policy.retry;

    ck_assert_int_eq(retry->postfix.minimal_backoff_time, 300 * SIM_SEC);
    ck_assert_int_eq(retry->postfix.maximal_backoff_time, 4000 * SIM_SEC);
    ck_assert_int_eq(retry->postfix.queue_run_delay, 300 * SIM_SEC);
    ck_assert_int_eq(retry->queue_lifetime, 5 * SIM_DAY);
    ck_assert_int_eq(retry->delay_warning, 0);
    scenario_free(scenario);
}
END_TEST

/* A maximum below the minimum loads, with a warning at the maximum. */
START_TEST(postfix_maximum_below_minimum_warns)
{
    struct scenario *scenario = load_ok(
        "    smtp_out:\n"
        "      retry: {policy: postfix, minimal_backoff_time: 600s, maximal_backoff_time: 300s}\n");

    ck_assert_str_eq(messages,
                     "warning: F:13:82: providers[0].smtp_out.retry.maximal_backoff_time: "
                     "maximal_backoff_time is below minimal_backoff_time, so every wait "
                     "is minimal_backoff_time, as in Postfix\n");
    scenario_free(scenario);
}
END_TEST

START_TEST(exim_rules)
{
    struct scenario *scenario = load_ok(
        "    smtp_out:\n"
        "      retry:\n"
        "        policy: exim\n"
        "        rules:\n"
        "          - {kind: F, cutoff: 1h, interval: 10m}\n"
        "          - {kind: H, cutoff: 1d, interval: 30m, factor: 2}\n"
        "        retry_interval_max: 12h\n"
        "        queue_run_interval: 30m\n");
    const struct retry_exim_params *exim = &scenario->providers[0].smtp_out.policy.retry.exim;

    ck_assert_uint_eq(exim->rule_count, 2);
    ck_assert_int_eq(exim->rules[0].kind, RETRY_EXIM_F);
    ck_assert_int_eq(exim->rules[0].cutoff, SIM_HOUR);
    ck_assert_int_eq(exim->rules[0].interval, 10 * SIM_MIN);
    ck_assert_int_eq(exim->rules[1].kind, RETRY_EXIM_H);
    ck_assert_int_eq(exim->rules[1].cutoff, SIM_DAY);
    ck_assert(exim->rules[1].factor == 2);
    ck_assert_int_eq(exim->retry_interval_max, 12 * SIM_HOUR);
    ck_assert_int_eq(exim->queue_run_interval, 30 * SIM_MIN);
    ck_assert_int_eq(scenario->providers[0].smtp_out.policy.retry.delay_warning, SIM_DAY);
    scenario_free(scenario);
}
END_TEST

START_TEST(exim_default_rules)
{
    struct scenario *scenario = load_ok("    smtp_out: {retry: {policy: exim}}\n");
    const struct retry_exim_params *exim = &scenario->providers[0].smtp_out.policy.retry.exim;

    ck_assert_uint_eq(exim->rule_count, 3);
    ck_assert_int_eq(exim->rules[1].kind, RETRY_EXIM_G);
    ck_assert_int_eq(exim->rules[1].cutoff, 16 * SIM_HOUR);
    ck_assert(exim->rules[1].factor == 1.5);
    ck_assert_int_eq(exim->rules[2].cutoff, 4 * SIM_DAY);
    ck_assert_int_eq(exim->retry_interval_max, SIM_DAY);
    scenario_free(scenario);
}
END_TEST

START_TEST(exim_rule_errors)
{
    assert_error("    smtp_out:\n"
                 "      retry:\n"
                 "        policy: exim\n"
                 "        rules: [{kind: F, cutoff: 2h, interval: 15m}, "
                 "{kind: F, cutoff: 1h, interval: 15m}]\n",
                 "F:15:73: providers[0].smtp_out.retry.rules[1].cutoff: found '1h', "
                 "expected a cutoff after the previous rule's ('2h')\n");
    assert_error("    smtp_out:\n"
                 "      retry: {policy: exim, rules: [{kind: F, cutoff: 2h, interval: 15m, "
                 "factor: 2}]}\n",
                 "F:13:82: providers[0].smtp_out.retry.rules[0].factor: kind F has no "
                 "factor, expected it only with kind G or H\n");
    assert_error("    smtp_out:\n"
                 "      retry: {policy: exim, rules: [{kind: G, cutoff: 2h, interval: 15m}]}\n",
                 "F:13:37: providers[0].smtp_out.retry.rules[0]: missing required key "
                 "'factor'\n");
    assert_error("    smtp_out:\n"
                 "      retry: {policy: exim, rules: []}\n",
                 "F:13:36: providers[0].smtp_out.retry.rules: found 0 rules, expected "
                 "1 to 16\n");
}
END_TEST

START_TEST(fixed_and_ladder)
{
    struct scenario *scenario = load_ok(
        "    smtp_out: {retry: {policy: fixed, interval: 20m, queue_lifetime: 1d}}\n");
    const struct retry_policy *retry = &scenario->providers[0].smtp_out.policy.retry;
    ck_assert_int_eq(retry->kind, RETRY_POLICY_FIXED);
    ck_assert_int_eq(retry->fixed_interval, 20 * SIM_MIN);
    ck_assert_int_eq(retry->queue_lifetime, SIM_DAY);
    scenario_free(scenario);

    scenario = load_ok("    smtp_out: {retry: {policy: ladder, waits: [1m, 10m, 1h]}}\n");
    retry = &scenario->providers[0].smtp_out.policy.retry;
    ck_assert_int_eq(retry->kind, RETRY_POLICY_LADDER);
    ck_assert_uint_eq(retry->ladder_count, 3);
    ck_assert_int_eq(retry->ladder[0], SIM_MIN);
    ck_assert_int_eq(retry->ladder[2], SIM_HOUR);
    scenario_free(scenario);

    assert_error("    smtp_out: {retry: {policy: ladder}}\n",
                 "F:12:23: providers[0].smtp_out.retry: missing required key 'waits'\n");
}
END_TEST

/* A key of another policy is an error, not silently ignored. */
START_TEST(key_of_other_policy)
{
    assert_error("    smtp_out: {retry: {policy: postfix, initial: 5m}}\n",
                 "F:12:41: providers[0].smtp_out.retry.initial: key 'initial' does not "
                 "apply to policy 'postfix', expected one of: policy, delay_warning, "
                 "queue_lifetime, minimal_backoff_time, maximal_backoff_time, "
                 "queue_run_delay\n");
    assert_error("    smtp_out: {retry: {policy: exim, queue_lifetime: 5d}}\n",
                 "F:12:38: providers[0].smtp_out.retry.queue_lifetime: key "
                 "'queue_lifetime' does not apply to policy 'exim', expected one of: "
                 "policy, delay_warning, rules, retry_interval_max, queue_run_interval\n");
    assert_error("    smtp_out: {retry: {policy: qmail}}\n",
                 "F:12:32: providers[0].smtp_out.retry.policy: found 'qmail', expected "
                 "one of: exponential, postfix, exim, fixed, ladder\n");
}
END_TEST

START_TEST(sending_limits)
{
    struct scenario *scenario = load_ok(
        "    smtp_out: {destination_concurrency: 5, dead_destination: {failures: 3, "
        "pause: 10m}}\n");
    const struct smtp_out_policy *out = &scenario->providers[0].smtp_out.policy;
    ck_assert_int_eq(out->destination_concurrency, 5);
    ck_assert_int_eq(out->dead_destination.failures, 3);
    ck_assert_int_eq(out->dead_destination.pause, 10 * SIM_MIN);
    scenario_free(scenario);

    scenario = load_ok("    smtp_out: {dead_destination: {}}\n");
    out = &scenario->providers[0].smtp_out.policy;
    ck_assert_int_eq(out->dead_destination.failures, 5);
    ck_assert_int_eq(out->dead_destination.pause, 300 * SIM_SEC);
    scenario_free(scenario);
}
END_TEST

START_TEST(greylisting_keys)
{
    struct scenario *scenario = load_ok(
        "    smtp_in: {hosts: [mx.alpha.example], greylisting: {}}\n");
    const struct greylist_params *greylisting =
        &scenario->providers[0].smtp_in.policy.greylisting;
    ck_assert(greylisting->enabled);
    ck_assert_int_eq(greylisting->delay, 300 * SIM_SEC);
    ck_assert_int_eq(greylisting->retry_window, 2 * SIM_DAY);
    ck_assert_int_eq(greylisting->lifetime, 35 * SIM_DAY);
    ck_assert_int_eq(greylisting->prefix_length, 24);
    scenario_free(scenario);

    scenario = load_ok(
        "    smtp_in:\n"
        "      hosts: [mx.alpha.example]\n"
        "      greylisting: {enabled: false, delay: 10m, retry_window: 6h, lifetime: 7d, "
        "prefix: 32}\n");
    greylisting = &scenario->providers[0].smtp_in.policy.greylisting;
    ck_assert(!greylisting->enabled);
    ck_assert_int_eq(greylisting->delay, 10 * SIM_MIN);
    ck_assert_int_eq(greylisting->retry_window, 6 * SIM_HOUR);
    ck_assert_int_eq(greylisting->lifetime, 7 * SIM_DAY);
    ck_assert_int_eq(greylisting->prefix_length, 32);
    scenario_free(scenario);

    assert_error("    smtp_in: {hosts: [mx.alpha.example], greylisting: {prefix: 33}}\n",
                 "F:12:64: providers[0].smtp_in.greylisting.prefix: found '33', expected "
                 "an integer from 0 to 32\n");
}
END_TEST

START_TEST(rate_limit_keys)
{
    struct scenario *scenario = load_ok(
        "    smtp_in:\n"
        "      hosts: [mx.alpha.example]\n"
        "      rate_limits:\n"
        "        - {key: client, rate: 10/min, step: connect}\n"
        "        - {key: sender_domain, rate: 2/s, burst: 20, step: rcpt, code: 450}\n"
        "        - {key: client, rate: 1/h, step: data, code: 550, enhanced: 5.7.1}\n"
        "      connection_limit: 50\n"
        "      quota_full: 0.01\n");
    const struct smtp_in_policy *in = &scenario->providers[0].smtp_in.policy;

    ck_assert_uint_eq(in->rate_limit_count, 3);
    ck_assert_int_eq(in->rate_limits[0].key, RATE_LIMITER_KEY_CLIENT);
    ck_assert(in->rate_limits[0].rate == 10.0 / 60);
    ck_assert(in->rate_limits[0].burst == 1);
    ck_assert_int_eq(in->rate_limits[0].step, RATE_LIMITER_STEP_CONNECT);
    ck_assert_int_eq(in->rate_limits[0].code, 421);
    ck_assert_str_eq(in->rate_limits[0].enhanced, "4.7.0");

    ck_assert_int_eq(in->rate_limits[1].key, RATE_LIMITER_KEY_SENDER_DOMAIN);
    ck_assert(in->rate_limits[1].burst == 20);
    ck_assert_int_eq(in->rate_limits[1].step, RATE_LIMITER_STEP_RCPT);
    ck_assert_int_eq(in->rate_limits[1].code, 450);
    ck_assert_str_eq(in->rate_limits[1].enhanced, "4.7.1");

    ck_assert_int_eq(in->rate_limits[2].step, RATE_LIMITER_STEP_DATA);
    ck_assert_int_eq(in->rate_limits[2].code, 550);
    ck_assert_str_eq(in->rate_limits[2].enhanced, "5.7.1");

    ck_assert_int_eq(in->connection_limit, 50);
    ck_assert(in->quota_full == 0.01);
    scenario_free(scenario);
}
END_TEST

START_TEST(rate_limit_errors)
{
    assert_error("    smtp_in:\n"
                 "      rate_limits: [{key: client, rate: 1/s, step: rcpt, code: 451, "
                 "enhanced: 5.7.1}]\n",
                 "F:13:79: providers[0].smtp_in.rate_limits[0].enhanced: found '5.7.1', "
                 "expected an enhanced status code 4.X.Y that matches code 451\n");
    assert_error("    smtp_in:\n"
                 "      rate_limits: [{key: client, rate: 1/s, step: helo}]\n",
                 "F:13:52: providers[0].smtp_in.rate_limits[0].step: found 'helo', "
                 "expected one of: connect, rcpt, data\n");
    assert_error("    smtp_in:\n"
                 "      rate_limits: [{key: ip, rate: 1/s, step: rcpt}]\n",
                 "F:13:27: providers[0].smtp_in.rate_limits[0].key: found 'ip', "
                 "expected one of: client, sender_domain\n");
    assert_error("    smtp_in:\n"
                 "      rate_limits: [{key: sender_domain, rate: 1/s, step: connect}]\n",
                 "F:13:59: providers[0].smtp_in.rate_limits[0].step: found 'connect', but "
                 "the sender is not known at connect, expected rcpt or data for key "
                 "sender_domain\n");
    assert_error("    smtp_in: {quota_full: 1.5}\n",
                 "F:12:27: providers[0].smtp_in.quota_full: found '1.5', expected a "
                 "number from 0 to 1\n");
}
END_TEST

Suite *scenario_policy_suite(void);

Suite *scenario_policy_suite(void)
{
    Suite *suite = suite_create("scenario_policy");
    TCase *retry = tcase_create("retry");
    tcase_add_test(retry, defaults_without_keys);
    tcase_add_test(retry, old_keys_fill_exponential);
    tcase_add_test(retry, postfix_keys);
    tcase_add_test(retry, postfix_defaults);
    tcase_add_test(retry, postfix_maximum_below_minimum_warns);
    tcase_add_test(retry, exim_rules);
    tcase_add_test(retry, exim_default_rules);
    tcase_add_test(retry, exim_rule_errors);
    tcase_add_test(retry, fixed_and_ladder);
    tcase_add_test(retry, key_of_other_policy);
    suite_add_tcase(suite, retry);

    TCase *limits = tcase_create("limits");
    tcase_add_test(limits, sending_limits);
    tcase_add_test(limits, greylisting_keys);
    tcase_add_test(limits, rate_limit_keys);
    tcase_add_test(limits, rate_limit_errors);
    suite_add_tcase(suite, limits);
    return suite;
}

TEST_MAIN(scenario_policy_suite)
