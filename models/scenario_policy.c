/*
 * Scenario keys of the sending and receiving policies, read with the
 * sim/config.h API.  Defaults and their sources are in
 * docs/scenario-format.md and in the modules that define the parameters.
 */
#include "models/scenario_policy.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/scenario.h"
#include "sim/config.h"

/* Upper bound that catches typos rather than a limit of the model. */
#define MAX_COUNT 1000000

/* Postfix default_destination_concurrency_limit (mail_params.h
 * DEF_DEST_CON_LIMIT 20). */
#define DEFAULT_DESTINATION_CONCURRENCY 20

/* Used when dead_destination is given without them.  Postfix keeps a dead
 * destination for minimal_backoff_time (qmgr_queue.c starts the unthrottle
 * timer with var_min_backoff_time, 300s by default).  The failure count is
 * an estimate: with initial_destination_concurrency 5, negative feedback
 * 1/concurrency and default_destination_concurrency_failed_cohort_limit 1,
 * qmgr_queue_throttle declares a destination dead at the 5th failure in a
 * row by our reading of it. */
#define DEFAULT_DEAD_FAILURES 5
#define DEFAULT_DEAD_PAUSE (300 * SIM_SEC)

enum {
    APPLIES_EXPONENTIAL = 1 << RETRY_POLICY_EXPONENTIAL,
    APPLIES_POSTFIX = 1 << RETRY_POLICY_POSTFIX,
    APPLIES_EXIM = 1 << RETRY_POLICY_EXIM,
    APPLIES_FIXED = 1 << RETRY_POLICY_FIXED,
    APPLIES_LADDER = 1 << RETRY_POLICY_LADDER,
    APPLIES_ALL = (1 << RETRY_POLICY_KIND_COUNT) - 1,
};

/* Keys of smtp_out.retry and the policies that read them.  scenario.c
 * checks that no other key appears. */
static const struct {
    const char *key;
    unsigned policies;
} retry_keys[] = {
    { "policy", APPLIES_ALL },
    { "delay_warning", APPLIES_ALL },
    { "initial", APPLIES_EXPONENTIAL },
    { "factor", APPLIES_EXPONENTIAL },
    { "maximum", APPLIES_EXPONENTIAL },
    { "jitter", APPLIES_EXPONENTIAL },
    { "queue_lifetime", APPLIES_ALL & ~APPLIES_EXIM },
    { "minimal_backoff_time", APPLIES_POSTFIX },
    { "maximal_backoff_time", APPLIES_POSTFIX },
    { "queue_run_delay", APPLIES_POSTFIX },
    { "rules", APPLIES_EXIM },
    { "retry_interval_max", APPLIES_EXIM },
    { "queue_run_interval", APPLIES_EXIM },
    { "interval", APPLIES_FIXED },
    { "waits", APPLIES_LADDER },
};

#define RETRY_KEY_COUNT (sizeof retry_keys / sizeof retry_keys[0])

static unsigned retry_key_policies(const char *key)
{
    for (size_t i = 0; i < RETRY_KEY_COUNT; i++) {
        if (strcmp(retry_keys[i].key, key) == 0)
            return retry_keys[i].policies;
    }
    return 0;
}

/* Fills `out` with "a, b, c": the retry keys that `kind` reads. */
static void join_retry_keys(enum retry_policy_kind kind, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < RETRY_KEY_COUNT && used < size; i++) {
        if (!(retry_keys[i].policies & (1u << kind)))
            continue;
        int written = snprintf(out + used, size - used, "%s%s",
                               used > 0 ? ", " : "", retry_keys[i].key);
        if (written > 0)
            used += (size_t)written;
    }
}

/* Rejects a key of smtp_out.retry that the chosen policy does not read,
 * so that a key meant for another policy is not silently ignored. */
static void check_retry_keys(struct config *config, const struct config_node *retry,
                             enum retry_policy_kind kind)
{
    for (size_t i = 0; i < config_mapping_size(retry) && !config_failed(config); i++) {
        struct config_node key;
        struct config_node value;
        config_entry(retry, i, &key, &value);
        unsigned policies = retry_key_policies(key.node->text);
        if (policies == 0 || (policies & (1u << kind)))
            continue;
        char names[256];
        join_retry_keys(kind, names, sizeof names);
        config_error(config, &key,
                     "key '%s' does not apply to policy '%s', expected one of: %s",
                     key.node->text, retry_policy_kind_name(kind), names);
    }
}

static sim_time duration_at(struct config *config, const struct config_node *mapping,
                            const char *key, sim_time fallback, sim_time min)
{
    struct config_node node = config_get(config, mapping, key);
    return config_duration(config, &node, fallback, min);
}

/* Prints "warning: FILE:LINE:COLUMN: PATH: message" without failing the
 * load, in the format of config_error. */
static void warn_at(const struct config *config, const struct config_node *at,
                    const char *message)
{
    if (config->errors == NULL)
        return;
    fprintf(config->errors, "warning: %s:%d:%d: %s: %s\n", config->file,
            at->line, at->column, at->path, message);
}

static void load_postfix(struct config *config, const struct config_node *retry,
                         struct retry_postfix_params *postfix)
{
    struct config_node maximal = config_get(config, retry, "maximal_backoff_time");

    postfix->minimal_backoff_time = duration_at(config, retry, "minimal_backoff_time",
                                                postfix->minimal_backoff_time, 1);
    postfix->maximal_backoff_time = config_duration(config, &maximal,
                                                    postfix->maximal_backoff_time, 1);
    postfix->queue_run_delay = duration_at(config, retry, "queue_run_delay",
                                           postfix->queue_run_delay, 1);
    if (!config_failed(config) &&
        postfix->maximal_backoff_time < postfix->minimal_backoff_time) {
        const struct config_node *at = config_present(&maximal)
            ? &maximal : retry;
        warn_at(config, at, "maximal_backoff_time is below minimal_backoff_time, "
                            "so every wait is minimal_backoff_time, as in Postfix");
    }
}

static void load_exim_rule(struct config *config, const struct config_node *item,
                           struct retry_exim_rule *rule)
{
    static const char *const keys[] = { "kind", "cutoff", "interval", "factor", NULL };
    static const char *const kinds[] = { "F", "G", "H", NULL };
    if (!config_mapping(config, item, keys)) {
        if (!config_failed(config))
            config_error_found(config, item, "a mapping such as {kind: F, cutoff: 2h, "
                                             "interval: 15m}");
        return;
    }
    struct config_node kind = config_require(config, item, "kind");
    rule->kind = (enum retry_exim_kind)config_choice(config, &kind, kinds, RETRY_EXIM_F);

    struct config_node cutoff = config_require(config, item, "cutoff");
    rule->cutoff = config_duration(config, &cutoff, 0, 1);

    struct config_node interval = config_require(config, item, "interval");
    rule->interval = config_duration(config, &interval, 0, 1);

    struct config_node factor = config_get(config, item, "factor");
    if (rule->kind == RETRY_EXIM_F && config_present(&factor)) {
        config_error(config, &factor, "kind F has no factor, expected it only "
                                      "with kind G or H");
        return;
    }
    if (rule->kind != RETRY_EXIM_F) {
        factor = config_require(config, item, "factor");
        rule->factor = config_double(config, &factor, 1, 1, 1000, false);
    }
}

/* Rules apply in turn, so each cutoff must be later than the one before
 * (retry.c takes the first rule whose cutoff is not yet reached). */
static void check_cutoff_order(struct config *config, const struct config_node *rules,
                               size_t index, const struct retry_exim_rule *loaded)
{
    if (loaded[index].cutoff > loaded[index - 1].cutoff)
        return;
    struct config_node item = config_item(rules, index);
    struct config_node previous_item = config_item(rules, index - 1);
    struct config_node cutoff = config_get(config, &item, "cutoff");
    struct config_node previous = config_get(config, &previous_item, "cutoff");
    config_error(config, &cutoff,
                 "found '%s', expected a cutoff after the previous rule's ('%s')",
                 cutoff.node->text, previous.node->text);
}

static void load_exim(struct config *config, const struct config_node *retry,
                      struct retry_exim_params *exim)
{
    struct config_node rules = config_get(config, retry, "rules");

    exim->retry_interval_max = duration_at(config, retry, "retry_interval_max",
                                           exim->retry_interval_max, 1);
    exim->queue_run_interval = duration_at(config, retry, "queue_run_interval",
                                           exim->queue_run_interval, 0);
    if (!config_present(&rules))
        return;

    size_t count = config_sequence(config, &rules);
    if (config_failed(config))
        return;
    if (count == 0 || count > RETRY_EXIM_RULES_MAX) {
        config_error(config, &rules, "found %zu rules, expected 1 to %d",
                     count, RETRY_EXIM_RULES_MAX);
        return;
    }
    exim->rule_count = count;
    for (size_t i = 0; i < count && !config_failed(config); i++) {
        struct config_node item = config_item(&rules, i);
        load_exim_rule(config, &item, &exim->rules[i]);
        if (i > 0 && !config_failed(config))
            check_cutoff_order(config, &rules, i, exim->rules);
    }
}

static void load_ladder(struct config *config, const struct config_node *retry,
                        struct retry_policy *policy)
{
    struct config_node waits = config_require(config, retry, "waits");
    size_t count = config_sequence(config, &waits);
    if (config_failed(config))
        return;
    if (count == 0 || count > RETRY_LADDER_MAX) {
        config_error(config, &waits, "found %zu waits, expected 1 to %d",
                     count, RETRY_LADDER_MAX);
        return;
    }
    policy->ladder_count = count;
    for (size_t i = 0; i < count && !config_failed(config); i++) {
        struct config_node item = config_item(&waits, i);
        policy->ladder[i] = config_duration(config, &item, 0, 1);
    }
}

/* The exponential policy takes the old keys from `legacy`, so a scenario
 * without `policy` keeps its schedule; jitter is its only new key. */
static void load_exponential(struct config *config, const struct config_node *retry,
                             const struct retry_params *legacy,
                             struct retry_policy *policy)
{
    struct config_node jitter = config_get(config, retry, "jitter");

    policy->exponential.initial = legacy->initial;
    policy->exponential.factor = legacy->factor;
    policy->exponential.maximum = legacy->maximum;
    policy->exponential.jitter = config_double(config, &jitter, 0, 0, 1, false);
}

static void load_retry_policy(struct config *config, const struct config_node *smtp_out,
                              const struct retry_params *legacy,
                              struct retry_policy *policy)
{
    static const char *const names[] = {
        [RETRY_POLICY_EXPONENTIAL] = "exponential",
        [RETRY_POLICY_POSTFIX] = "postfix",
        [RETRY_POLICY_EXIM] = "exim",
        [RETRY_POLICY_FIXED] = "fixed",
        [RETRY_POLICY_LADDER] = "ladder",
        [RETRY_POLICY_KIND_COUNT] = NULL,
    };
    struct config_node retry = config_get(config, smtp_out, "retry");
    struct config_node name = config_get(config, &retry, "policy");
    enum retry_policy_kind kind = (enum retry_policy_kind)
        config_choice(config, &name, names, RETRY_POLICY_EXPONENTIAL);

    retry_policy_defaults(policy, kind);
    check_retry_keys(config, &retry, kind);
    policy->queue_lifetime = legacy->queue_lifetime;
    policy->delay_warning = duration_at(config, &retry, "delay_warning",
                                        policy->delay_warning, 0);
    switch (kind) {
    case RETRY_POLICY_EXPONENTIAL:
        load_exponential(config, &retry, legacy, policy);
        break;
    case RETRY_POLICY_POSTFIX:
        load_postfix(config, &retry, &policy->postfix);
        break;
    case RETRY_POLICY_EXIM:
        load_exim(config, &retry, &policy->exim);
        break;
    case RETRY_POLICY_FIXED:
        policy->fixed_interval = duration_at(config, &retry, "interval",
                                             policy->fixed_interval, 1);
        break;
    default:
        load_ladder(config, &retry, policy);
        break;
    }
}

static void load_dead_destination(struct config *config,
                                  const struct config_node *smtp_out,
                                  struct dead_destination_params *dead)
{
    static const char *const keys[] = { "failures", "pause", NULL };
    struct config_node section = config_get(config, smtp_out, "dead_destination");

    dead->failures = 0;
    dead->pause = DEFAULT_DEAD_PAUSE;
    if (!config_mapping(config, &section, keys))
        return;
    struct config_node failures = config_get(config, &section, "failures");
    dead->failures = (int)config_int(config, &failures, DEFAULT_DEAD_FAILURES, 1, 1000);
    dead->pause = duration_at(config, &section, "pause", DEFAULT_DEAD_PAUSE, 1);
}

void scenario_policy_load_smtp_out(struct config *config,
                                   const struct config_node *smtp_out,
                                   const struct retry_params *legacy,
                                   struct smtp_out_policy *policy)
{
    struct config_node concurrency = config_get(config, smtp_out,
                                                "destination_concurrency");

    load_retry_policy(config, smtp_out, legacy, &policy->retry);
    policy->destination_concurrency = (int)config_int(
        config, &concurrency, DEFAULT_DESTINATION_CONCURRENCY, 1, MAX_COUNT);
    load_dead_destination(config, smtp_out, &policy->dead_destination);
}

/* Giving the greylisting mapping turns greylisting on unless it sets
 * enabled: false. */
static void load_greylisting(struct config *config, const struct config_node *smtp_in,
                             struct greylist_params *greylisting)
{
    static const char *const keys[] = {
        "enabled", "delay", "retry_window", "lifetime", "prefix", NULL,
    };
    struct config_node section = config_get(config, smtp_in, "greylisting");

    greylist_defaults(greylisting);
    if (!config_mapping(config, &section, keys))
        return;
    struct config_node enabled = config_get(config, &section, "enabled");
    greylisting->enabled = config_bool(config, &enabled, true);
    greylisting->delay = duration_at(config, &section, "delay", greylisting->delay, 1);
    greylisting->retry_window = duration_at(config, &section, "retry_window",
                                            greylisting->retry_window, 1);
    greylisting->lifetime = duration_at(config, &section, "lifetime",
                                        greylisting->lifetime, 1);
    struct config_node prefix = config_get(config, &section, "prefix");
    greylisting->prefix_length = (int)config_int(config, &prefix,
                                                 greylisting->prefix_length, 0, 32);
}

/* An enhanced status code "class.subject.detail" (RFC 3463: subject and
 * detail of 1 to 3 digits) whose class is the first digit of `code`. */
static bool valid_enhanced(const char *text, int code)
{
    int class_digit = -1;
    int subject = -1;
    int detail = -1;
    int consumed = 0;

    if (sscanf(text, "%1d.%3d.%3d%n", &class_digit, &subject, &detail, &consumed) != 3)
        return false;
    if ((size_t)consumed != strlen(text) || strchr(text, '+') || strchr(text, '-') ||
        strchr(text, ' '))
        return false;
    return class_digit == code / 100;
}

/* Without `enhanced`, the step's default enhanced code is used with its
 * class changed to the first digit of `code` ("4.7.1" becomes "5.7.1"
 * for code 550). */
static void load_rate_limit_reply(struct config *config, const struct config_node *item,
                                  struct rate_limiter_params *limit)
{
    struct config_node code = config_get(config, item, "code");
    limit->code = (int)config_int(config, &code, rate_limiter_default_code(limit->step),
                                  400, 599);

    char fallback[RATE_LIMITER_ENHANCED_MAX];
    snprintf(fallback, sizeof fallback, "%s", rate_limiter_default_enhanced(limit->step));
    fallback[0] = (char)('0' + limit->code / 100);

    struct config_node enhanced = config_get(config, item, "enhanced");
    char *text = config_string(config, &enhanced, fallback, "an enhanced status code");
    if (!config_failed(config) && !valid_enhanced(text, limit->code))
        config_error(config, &enhanced, "found '%s', expected an enhanced status code "
                                        "%d.X.Y that matches code %d",
                     text, limit->code / 100, limit->code);
    else if (text != NULL)
        snprintf(limit->enhanced, sizeof limit->enhanced, "%s", text);
    free(text);
}

static void load_rate_limit(struct config *config, const struct config_node *item,
                            struct rate_limiter_params *limit)
{
    static const char *const keys[] = {
        "key", "rate", "burst", "step", "code", "enhanced", NULL,
    };
    static const char *const key_names[] = { "client", "sender_domain", NULL };
    static const char *const step_names[] = { "connect", "rcpt", "data", NULL };
    if (!config_mapping(config, item, keys)) {
        if (!config_failed(config))
            config_error_found(config, item, "a mapping such as {key: client, "
                                             "rate: 10/min, step: connect}");
        return;
    }
    struct config_node key = config_require(config, item, "key");
    limit->key = (enum rate_limiter_key)config_choice(config, &key, key_names,
                                                      RATE_LIMITER_KEY_CLIENT);
    struct config_node rate = config_require(config, item, "rate");
    limit->rate = config_rate(config, &rate, 1, true);
    struct config_node burst = config_get(config, item, "burst");
    double one_second = fmax(1, ceil(limit->rate));
    limit->burst = config_double(config, &burst, one_second, 1, 1e9, false);
    struct config_node step = config_require(config, item, "step");
    limit->step = (enum rate_limiter_step)config_choice(config, &step, step_names,
                                                        RATE_LIMITER_STEP_CONNECT);
    if (!config_failed(config) && limit->key == RATE_LIMITER_KEY_SENDER_DOMAIN &&
        limit->step == RATE_LIMITER_STEP_CONNECT)
        config_error(config, &step, "found 'connect', but the sender is not known at "
                                    "connect, expected rcpt or data for key sender_domain");
    if (!config_failed(config))
        load_rate_limit_reply(config, item, limit);
}

static void load_rate_limits(struct config *config, const struct config_node *smtp_in,
                             struct smtp_in_policy *policy)
{
    struct config_node list = config_get(config, smtp_in, "rate_limits");
    size_t count = config_sequence(config, &list);

    policy->rate_limit_count = 0;
    if (config_failed(config) || !config_present(&list))
        return;
    if (count > SCENARIO_POLICY_RATE_LIMITS_MAX) {
        config_error(config, &list, "found %zu rate limits, expected at most %d",
                     count, SCENARIO_POLICY_RATE_LIMITS_MAX);
        return;
    }
    for (size_t i = 0; i < count && !config_failed(config); i++) {
        struct config_node item = config_item(&list, i);
        load_rate_limit(config, &item, &policy->rate_limits[i]);
        policy->rate_limit_count++;
    }
}

void scenario_policy_load_smtp_in(struct config *config,
                                  const struct config_node *smtp_in,
                                  struct smtp_in_policy *policy)
{
    struct config_node limit = config_get(config, smtp_in, "connection_limit");
    struct config_node quota = config_get(config, smtp_in, "quota_full");

    load_greylisting(config, smtp_in, &policy->greylisting);
    load_rate_limits(config, smtp_in, policy);
    policy->connection_limit = (int)config_int(config, &limit, 0, 1, MAX_COUNT);
    policy->quota_full = config_double(config, &quota, 0, 0, 1, false);
}
