#include "models/workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "models/scenario.h"
#include "sim/dist.h"
#include "sim/rng.h"

#define HOURS_PER_DAY 24
#define SECONDS_PER_HOUR 3600.0

/* Sizes are capped so that a message plus its attachment fits in 64 bits
 * even for a heavy-tailed sample. */
#define SIZE_CAP_BYTES 0x1p62

/* A domain that can receive mail, with the cumulative weight of this and
 * every earlier entry of the table. */
struct destination {
    struct address domain;     /* provider and domain; mailbox unused */
    uint64_t mailboxes;
    double cumulative;
};

struct workload_source {
    const struct scenario *scenario;
    const struct provider *provider;
    uint32_t provider_index;
    gsl_rng *arrival_rng;
    gsl_rng *content_rng;

    double hour_rate[HOURS_PER_DAY];  /* messages per second */
    bool exhausted;

    /* Time of the last arrival, split so precision does not degrade over
     * long runs: hour number since 0 and seconds into that hour. */
    int64_t hour;
    double offset;

    struct destination *destinations;
    size_t destination_count;
};

/* Returns a uniform integer in [0, n); n must be at least 1. */
static uint64_t draw_below(gsl_rng *rng, uint64_t n)
{
    if (n <= UINT32_MAX)
        return gsl_rng_uniform_int(rng, (unsigned long)n);

    /* Two 32-bit outputs (the streams are mt19937) with rejection of the
     * incomplete last block of n, so every value stays equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
        uint64_t high = (uint64_t)gsl_rng_get(rng) & UINT32_MAX;
        uint64_t low = (uint64_t)gsl_rng_get(rng) & UINT32_MAX;
        uint64_t value = high << 32 | low;
        if (value < limit)
            return value % n;
    }
}

static gsl_rng *new_stream(const struct scenario *scenario, const char *provider_name,
                           const char *suffix)
{
    size_t length = strlen("workload.") + strlen(provider_name) + strlen(suffix) + 1;
    char *name = malloc(length);
    if (name == NULL)
        return NULL;
    snprintf(name, length, "workload.%s%s", provider_name, suffix);
    gsl_rng *rng = rng_stream_new(scenario->seed, name);
    free(name);
    return rng;
}

static bool add_destination(struct workload_source *source, const struct address *domain,
                            double weight)
{
    const struct provider *provider = &source->scenario->providers[domain->provider];
    uint64_t mailboxes = address_domain_mailboxes(provider, domain->domain);
    if (mailboxes == 0 || !(weight > 0))
        return true;

    size_t count = source->destination_count;
    struct destination *grown = realloc(source->destinations, (count + 1) * sizeof *grown);
    if (grown == NULL)
        return false;
    double previous = count == 0 ? 0.0 : grown[count - 1].cumulative;
    grown[count] = (struct destination){ *domain, mailboxes, previous + weight };
    source->destinations = grown;
    source->destination_count = count + 1;
    return true;
}

/* Builds the destination table.  Returns false for an unknown domain, an
 * allocation failure, or a table without any weight. */
static bool build_destinations(struct workload_source *source)
{
    const struct scenario *scenario = source->scenario;
    const struct workload_params *params = &source->provider->workload;

    for (size_t i = 0; i < params->destination_count; i++) {
        struct address domain = { 0 };
        if (!address_find_domain(scenario, params->destinations[i].domain, &domain))
            return false;
        if (!add_destination(source, &domain, params->destinations[i].share))
            return false;
    }
    if (params->destination_count == 0) {
        for (size_t p = 0; p < scenario->provider_count; p++) {
            const struct provider *provider = &scenario->providers[p];
            for (size_t d = 0; d < provider->domain_count; d++) {
                struct address domain = { .provider = (uint32_t)p, .domain = (uint32_t)d };
                double weight = (double)address_domain_mailboxes(provider, d);
                if (!add_destination(source, &domain, weight))
                    return false;
            }
        }
    }
    return source->destination_count > 0;
}

static void set_hour_rates(struct workload_source *source)
{
    const struct workload_params *params = &source->provider->workload;
    double base = (double)source->provider->mailboxes * params->rate_per_mailbox;
    bool any_positive = false;

    for (int h = 0; h < HOURS_PER_DAY; h++) {
        double rate = params->has_profile ? base * params->profile[h] : base;
        /* Negative and NaN rates count as zero. */
        source->hour_rate[h] = rate > 0 ? rate : 0.0;
        any_positive = any_positive || rate > 0;
    }
    source->exhausted = !any_positive || source->provider->domain_count == 0 ||
                        source->scenario->duration <= 0;
}

struct workload_source *workload_source_new(const struct scenario *scenario,
                                            size_t provider)
{
    if (provider >= scenario->provider_count)
        return NULL;
    struct workload_source *source = calloc(1, sizeof *source);
    if (source == NULL)
        return NULL;
    source->scenario = scenario;
    source->provider = &scenario->providers[provider];
    source->provider_index = (uint32_t)provider;

    source->arrival_rng = new_stream(scenario, source->provider->name, "");
    source->content_rng = new_stream(scenario, source->provider->name, ".content");
    if (source->arrival_rng == NULL || source->content_rng == NULL ||
        !build_destinations(source)) {
        workload_source_free(source);
        return NULL;
    }
    set_hour_rates(source);
    return source;
}

void workload_source_free(struct workload_source *source)
{
    if (source == NULL)
        return;
    if (source->arrival_rng != NULL)
        gsl_rng_free(source->arrival_rng);
    if (source->content_rng != NULL)
        gsl_rng_free(source->content_rng);
    free(source->destinations);
    free(source);
}

/* True if hour `hour` starts at or after the end of the workload. */
static bool hour_is_past_duration(const struct workload_source *source, int64_t hour)
{
    return hour > (source->scenario->duration - 1) / SIM_HOUR;
}

/* Moves (hour, offset) to the next arrival.  The Exp(1) work is used up at
 * each hour's rate, and what remains at an hour's end carries over to the
 * next hour.  Returns false if the walk reaches the end of the workload. */
static bool advance_to_next_arrival(struct workload_source *source)
{
    double work = gsl_ran_exponential(source->arrival_rng, 1.0);

    for (;;) {
        if (hour_is_past_duration(source, source->hour))
            return false;
        double rate = source->hour_rate[source->hour % HOURS_PER_DAY];
        double left = SECONDS_PER_HOUR - source->offset;
        if (rate > 0 && work < rate * left) {
            source->offset += work / rate;
            /* Rounding must not push the arrival into the next hour,
             * which may have a different rate. */
            if (source->offset >= SECONDS_PER_HOUR)
                source->offset = nextafter(SECONDS_PER_HOUR, 0.0);
            return true;
        }
        work -= rate * left;
        source->hour++;
        source->offset = 0.0;
    }
}

static sim_time current_time(const struct workload_source *source)
{
    sim_time within = sim_time_from_seconds(source->offset);
    if (within >= SIM_HOUR)
        within = SIM_HOUR - 1;
    return source->hour * SIM_HOUR + within;
}

/* Rounds a sampled size to whole bytes in [minimum, SIZE_CAP_BYTES]. */
static uint64_t round_bytes(double sample, uint64_t minimum)
{
    double rounded = round(sample);
    if (!(rounded >= (double)minimum))
        return minimum;
    if (rounded > SIZE_CAP_BYTES)
        return (uint64_t)SIZE_CAP_BYTES;
    return (uint64_t)rounded;
}

void workload_sample_size(const struct workload_params *params, gsl_rng *rng,
                          struct submission *out)
{
    uint64_t body = round_bytes(dist_sample(&params->message_size, rng), 1);
    double decision = gsl_rng_uniform(rng);
    uint64_t attachment = 0;
    if (decision < params->attachment_probability)
        attachment = round_bytes(dist_sample(&params->attachment_size, rng), 1);
    out->attachment_size = attachment;
    out->size = body + attachment;
}

static size_t draw_recipient_count(const struct workload_source *source)
{
    double rounded = round(dist_sample(&source->provider->workload.recipients,
                                       source->content_rng));
    if (!(rounded >= 1))
        return 1;
    if (rounded > SUBMISSION_MAX_RECIPIENTS)
        return SUBMISSION_MAX_RECIPIENTS;
    return (size_t)rounded;
}

static const struct destination *draw_destination(const struct workload_source *source)
{
    size_t count = source->destination_count;
    double target = gsl_rng_uniform(source->content_rng) *
                    source->destinations[count - 1].cumulative;

    /* First entry whose cumulative weight exceeds the target. */
    size_t low = 0;
    size_t high = count - 1;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (source->destinations[middle].cumulative > target)
            high = middle;
        else
            low = middle + 1;
    }
    return &source->destinations[low];
}

/* Draws one recipient: a destination domain, then a uniform mailbox of it
 * other than the sender whenever the domain has another mailbox. */
static struct address draw_recipient(const struct workload_source *source,
                                     const struct address *sender)
{
    const struct destination *destination = draw_destination(source);
    const struct provider *provider =
        &source->scenario->providers[destination->domain.provider];
    struct address recipient = destination->domain;
    bool sender_domain = recipient.provider == sender->provider &&
                         recipient.domain == sender->domain;

    uint64_t k;
    if (sender_domain && destination->mailboxes > 1) {
        /* Index of the sender within its domain, skipped over. */
        uint64_t sender_k = sender->mailbox / provider->domain_count;
        k = draw_below(source->content_rng, destination->mailboxes - 1);
        if (k >= sender_k)
            k++;
    } else {
        k = draw_below(source->content_rng, destination->mailboxes);
    }
    recipient.mailbox = address_domain_mailbox(provider, recipient.domain, k);
    return recipient;
}

static bool has_recipient(const struct submission *out, const struct address *address)
{
    for (size_t i = 0; i < out->recipient_count; i++) {
        if (address_equal(&out->recipients[i], address))
            return true;
    }
    return false;
}

static void draw_content(struct workload_source *source, struct submission *out)
{
    const struct provider *provider = source->provider;
    uint64_t mailbox = draw_below(source->content_rng, provider->mailboxes);
    out->sender = (struct address){
        .provider = source->provider_index,
        .domain = (uint32_t)(mailbox % provider->domain_count),
        .mailbox = mailbox,
    };

    size_t requested = draw_recipient_count(source);
    out->recipient_count = 0;
    for (size_t i = 0; i < requested; i++) {
        for (int attempt = 0; attempt < WORKLOAD_RECIPIENT_ATTEMPTS; attempt++) {
            struct address recipient = draw_recipient(source, &out->sender);
            if (!has_recipient(out, &recipient)) {
                out->recipients[out->recipient_count++] = recipient;
                break;
            }
        }
    }
    workload_sample_size(&provider->workload, source->content_rng, out);
}

bool workload_source_next(struct workload_source *source, struct submission *out)
{
    if (source->exhausted)
        return false;
    if (!advance_to_next_arrival(source)) {
        source->exhausted = true;
        return false;
    }
    sim_time time = current_time(source);
    if (time >= source->scenario->duration) {
        source->exhausted = true;
        return false;
    }
    memset(out, 0, sizeof *out);
    out->time = time;
    draw_content(source, out);
    return true;
}
