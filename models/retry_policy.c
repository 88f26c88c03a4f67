/*
 * Retry schedules.  The postfix and exim policies follow the source code of
 * those programs; each step below names the file it comes from.  Postfix:
 * src/qmgr/qmgr_active.c, src/qmgr/qmgr.c and src/global/mail_params.h of
 * the vdukhovni/postfix mirror (3.x).  Exim: src/src/retry.c,
 * src/src/globals.c and src/src/deliver.c of Exim 4.
 *
 * Modelling choices:
 * - Postfix runs a deferred-queue scan every queue_run_delay.  mailsim puts
 *   the scans at k * queue_run_delay from the start of the run, and a scan
 *   takes no time.  A deferred message is attempted at the first scan at or
 *   after its wakeup time.  NOTE: Postfix also picks up a file whose wakeup
 *   time is up to one second after the scan (qmgr_active_feed skips only
 *   time stamps more than 1 s in the future); mailsim does not.
 * - Exim keeps retry records per host, so one failing message delays the
 *   others to that host.  mailsim keeps them per message: the first failure
 *   is the message's own.  Exim computes in whole seconds; mailsim in
 *   nanoseconds, so G intervals are not truncated to the second.
 */
#include "models/retry_policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const kind_names[RETRY_POLICY_KIND_COUNT] = {
    [RETRY_POLICY_EXPONENTIAL] = "exponential",
    [RETRY_POLICY_POSTFIX] = "postfix",
    [RETRY_POLICY_EXIM] = "exim",
    [RETRY_POLICY_FIXED] = "fixed",
    [RETRY_POLICY_LADDER] = "ladder",
};

const char *retry_policy_kind_name(enum retry_policy_kind kind)
{
    if ((unsigned)kind >= RETRY_POLICY_KIND_COUNT)
        return "invalid";
    return kind_names[kind];
}

/* Exim's default retry rule "F,2h,15m; G,16h,1h,1.5; F,4d,6h", from the
 * default configure file that ships with Exim 4 (src/src/configure.default,
 * also Debian's conf.d/retry/30_exim4-config). */
static void exim_defaults(struct retry_exim_params *exim)
{
    static const struct retry_exim_rule rules[] = {
        { RETRY_EXIM_F, 2 * SIM_HOUR, 15 * SIM_MIN, 0 },
        { RETRY_EXIM_G, 16 * SIM_HOUR, SIM_HOUR, 1.5 },
        { RETRY_EXIM_F, 4 * SIM_DAY, 6 * SIM_HOUR, 0 },
    };
    exim->rule_count = sizeof rules / sizeof rules[0];
    for (size_t i = 0; i < exim->rule_count; i++)
        exim->rules[i] = rules[i];
    /* globals.c: retry_interval_max = 24*60*60. */
    exim->retry_interval_max = SIM_DAY;
    /* Exim runs the queue only when started with -qTIME; 0 means that an
     * attempt happens at its retry time. */
    exim->queue_run_interval = 0;
}

void retry_policy_defaults(struct retry_policy *policy,
                           enum retry_policy_kind kind)
{
    *policy = (struct retry_policy){ .kind = kind };

    /* The values of the scenario keys retry.initial, factor, maximum and
     * queue_lifetime, so that policy exponential without keys keeps the
     * old schedule. */
    policy->exponential.initial = 5 * SIM_MIN;
    policy->exponential.factor = 2;
    policy->exponential.maximum = 4 * SIM_HOUR;
    policy->exponential.jitter = 0;
    policy->queue_lifetime = 5 * SIM_DAY;

    /* mail_params.h: DEF_MIN_BACKOFF_TIME DEF_QUEUE_RUN_DELAY, which is
     * "300s"; DEF_MAX_BACKOFF_TIME "4000s"; DEF_MAX_QUEUE_TIME "5d";
     * DEF_DELAY_WARN_TIME "0h" (no warning). */
    policy->postfix.minimal_backoff_time = 300 * SIM_SEC;
    policy->postfix.maximal_backoff_time = 4000 * SIM_SEC;
    policy->postfix.queue_run_delay = 300 * SIM_SEC;

    exim_defaults(&policy->exim);

    /* RFC 5321 4.5.4.1: the retry interval SHOULD be at least 30 minutes. */
    policy->fixed_interval = 30 * SIM_MIN;
    policy->ladder[0] = 30 * SIM_MIN;
    policy->ladder_count = 1;

    /* globals.c: delay_warning = 24*60*60, repeated every 24 h (see
     * retry_policy_warning_due). */
    policy->delay_warning = kind == RETRY_POLICY_EXIM ? SIM_DAY : 0;
}

void retry_state_init(struct retry_state *state, sim_time queued)
{
    *state = (struct retry_state){
        .queued = queued,
        .first_failure = queued,
        .last_failure = queued,
        .retry_time = queued,
    };
}

/* Time since the first failure, counting a failure at `now` as the first
 * when none is recorded (retry.c starts a new record with
 * first_failed = now). */
static sim_time since_first_failure(const struct retry_state *state, sim_time now)
{
    return state->failures == 0 ? 0 : now - state->first_failure;
}

/*
 * retry.c, retry_update: the rule in force is the first whose cutoff is at
 * or after the time since the first failure.  With none left, the address
 * times out.  It also times out when the message has been queued longer
 * than the last cutoff.  Cutoffs increase (the loader checks), so both
 * tests compare with the last cutoff.
 */
static bool exim_expired(const struct retry_exim_params *exim,
                         const struct retry_state *state, sim_time now)
{
    sim_time last_cutoff = exim->rules[exim->rule_count - 1].cutoff;
    return since_first_failure(state, now) > last_cutoff ||
           now - state->queued > last_cutoff;
}

bool retry_policy_expired(const struct retry_policy *policy,
                          const struct retry_state *state, sim_time now)
{
    if (policy->kind == RETRY_POLICY_EXIM)
        return exim_expired(&policy->exim, state, now);
    /* qmgr_active.c: event_time() >= create_time + var_max_queue_time. */
    return now - state->queued >= policy->queue_lifetime;
}

/* First instant k * period (k >= 0) at or after `time`; `time` itself when
 * period is 0. */
static sim_time next_run(sim_time time, sim_time period)
{
    if (period <= 0 || time <= 0)
        return time < 0 ? 0 : time;
    return (time + period - 1) / period * period;
}

/* Same arithmetic as retry_next_delay in delivery_policy.c, so that the
 * default policy keeps the schedule of struct retry_params. */
static sim_time exponential_wait(const struct retry_exponential_params *params,
                                 int failures, gsl_rng *rng)
{
    double wait = (double)params->initial * pow(params->factor, failures - 1);
    if (!(wait < (double)params->maximum))
        wait = (double)params->maximum;
    if (params->jitter > 0) {
        double u = gsl_rng_uniform(rng);
        wait *= 1 + params->jitter * (2 * u - 1);
    }
    return (sim_time)llround(wait);
}

/*
 * qmgr_active.c, qmgr_active_done_3_generic: the wait is the time since
 * the message was queued, first capped at maximal_backoff_time and then
 * raised to minimal_backoff_time.  So when the maximum is below the
 * minimum every wait is the minimum.
 */
static sim_time postfix_wait(const struct retry_postfix_params *postfix,
                             const struct retry_state *state, sim_time now)
{
    sim_time wait = now - state->queued;
    if (wait > postfix->maximal_backoff_time)
        wait = postfix->maximal_backoff_time;
    if (wait < postfix->minimal_backoff_time)
        wait = postfix->minimal_backoff_time;
    return wait;
}

static const struct retry_exim_rule *exim_rule(const struct retry_exim_params *exim,
                                               sim_time failing)
{
    for (size_t i = 0; i < exim->rule_count; i++) {
        if (failing <= exim->rules[i].cutoff)
            return &exim->rules[i];
    }
    return &exim->rules[exim->rule_count - 1];
}

/*
 * retry.c, retry_update.  F: the fixed interval.  G and H start from the
 * previous interval, which is the smaller of the planned one
 * (next_try - last_try) and the one that happened (now - last_try).  A new
 * record has both 0.
 * G: the rule's interval while the previous one is shorter, else the
 * previous one times the factor.  H: the rule's interval plus, when the G
 * value is larger, half the difference plus a uniform random part of the
 * other half, so it falls in [midpoint of interval and G value, G value).
 * The result is capped at retry_interval_max.
 */
static sim_time exim_wait(const struct retry_exim_params *exim,
                          const struct retry_state *state, sim_time now,
                          gsl_rng *rng)
{
    const struct retry_exim_rule *rule = exim_rule(exim, since_first_failure(state, now));
    sim_time wait = rule->interval;

    if (rule->kind != RETRY_EXIM_F) {
        sim_time previous = 0;
        if (state->failures > 0) {
            sim_time planned = state->retry_time - state->last_failure;
            sim_time actual = now - state->last_failure;
            previous = planned < actual ? planned : actual;
        }
        sim_time grown = (sim_time)llround((double)previous * rule->factor);
        if (rule->kind == RETRY_EXIM_G && previous >= rule->interval) {
            wait = grown;
        } else if (rule->kind == RETRY_EXIM_H && grown > rule->interval) {
            sim_time span = grown - rule->interval;
            sim_time half = span / 2;
            wait += half + (sim_time)(gsl_rng_uniform(rng) * (double)(span - half));
        }
    }
    if (wait > exim->retry_interval_max)
        wait = exim->retry_interval_max;
    return wait;
}

/* The earliest retry time after a failure at `now`, before rounding up
 * to a queue run. */
static sim_time retry_time(const struct retry_policy *policy,
                           const struct retry_state *state, sim_time now,
                           gsl_rng *rng)
{
    int failures = state->failures + 1;

    switch (policy->kind) {
    case RETRY_POLICY_EXPONENTIAL:
        return now + exponential_wait(&policy->exponential, failures, rng);
    case RETRY_POLICY_POSTFIX:
        return now + postfix_wait(&policy->postfix, state, now);
    case RETRY_POLICY_EXIM:
        return now + exim_wait(&policy->exim, state, now, rng);
    case RETRY_POLICY_FIXED:
        return now + policy->fixed_interval;
    case RETRY_POLICY_LADDER: {
        size_t step = (size_t)(failures - 1);
        if (step >= policy->ladder_count)
            step = policy->ladder_count - 1;
        return now + policy->ladder[step];
    }
    default:
        fprintf(stderr, "retry_policy: invalid policy kind %d\n", (int)policy->kind);
        abort();
    }
}

static sim_time queue_run_after(const struct retry_policy *policy, sim_time time)
{
    if (policy->kind == RETRY_POLICY_POSTFIX)
        return next_run(time, policy->postfix.queue_run_delay);
    if (policy->kind == RETRY_POLICY_EXIM)
        return next_run(time, policy->exim.queue_run_interval);
    return time;
}

sim_time retry_policy_next_attempt(const struct retry_policy *policy,
                                   const struct retry_state *state,
                                   sim_time now, gsl_rng *rng)
{
    if (retry_policy_expired(policy, state, now))
        return RETRY_BOUNCE;
    return queue_run_after(policy, retry_time(policy, state, now, rng));
}

/*
 * Warnings due by age `age`.  Postfix sends one (qmgr_active.c sends the
 * warning once event_time() >= warn_time - 1 and then clears warn_time).
 * Exim with a one-item delay_warning list is due one warning per full
 * interval of age (deliver.c repeats the last interval of the list).
 */
static int warnings_due(const struct retry_policy *policy, sim_time age)
{
    if (policy->delay_warning <= 0 || age < policy->delay_warning)
        return 0;
    if (policy->kind == RETRY_POLICY_EXIM)
        return (int)(age / policy->delay_warning);
    return 1;
}

bool retry_policy_warning_due(const struct retry_policy *policy,
                              const struct retry_state *state, sim_time now)
{
    return state->warnings < warnings_due(policy, now - state->queued);
}

struct retry_decision retry_policy_on_failure(const struct retry_policy *policy,
                                              struct retry_state *state,
                                              sim_time now, gsl_rng *rng)
{
    struct retry_decision decision = { .next_attempt = RETRY_BOUNCE };

    if (retry_policy_expired(policy, state, now)) {
        decision.bounce = true;
    } else {
        decision.delay_warning = retry_policy_warning_due(policy, state, now);
        if (decision.delay_warning)
            state->warnings = warnings_due(policy, now - state->queued);
        state->retry_time = retry_time(policy, state, now, rng);
        decision.next_attempt = queue_run_after(policy, state->retry_time);
    }

    if (state->failures == 0)
        state->first_failure = now;
    state->failures++;
    state->last_failure = now;
    return decision;
}
