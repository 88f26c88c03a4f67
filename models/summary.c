#include "models/summary.h"

#include <inttypes.h>
#include <math.h>

#include "models/report.h"
#include "models/world.h"

static void print_latency_row(FILE *out, const char *label,
                              const struct histogram *histogram)
{
    uint64_t count = histogram_count(histogram);
    if (count == 0) {
        fprintf(out, "  %-26s %9" PRIu64 "\n", label, count);
        return;
    }
    fprintf(out, "  %-26s %9" PRIu64 " %10.3f %10.3f %10.3f %10.3f\n", label, count,
            histogram_quantile(histogram, 0.50), histogram_quantile(histogram, 0.95),
            histogram_quantile(histogram, 0.99), histogram_max(histogram));
}

static void print_messages(FILE *out, const struct world *world)
{
    const uint64_t *count = world->ledger.count;
    uint64_t in_flight = ledger_in_flight(&world->ledger);

    fprintf(out, "messages\n");
    fprintf(out, "  submitted %" PRIu64 ", DSNs %" PRIu64 ", total %" PRIu64 "\n",
            world->messages_submitted, world->dsn_created, world->ledger.created);
    fprintf(out, "  delivered %" PRIu64 ", bounced %" PRIu64 ", rejected %" PRIu64
            ", dropped %" PRIu64 "\n",
            count[MESSAGE_DELIVERED], count[MESSAGE_BOUNCED], count[MESSAGE_REJECTED],
            count[MESSAGE_DROPPED]);
    fprintf(out, "  still in flight %" PRIu64 " (queued %" PRIu64 ", deferred %" PRIu64
            ", in delivery %" PRIu64 ", created %" PRIu64 ")\n",
            in_flight, count[MESSAGE_QUEUED], count[MESSAGE_DEFERRED],
            count[MESSAGE_IN_DELIVERY], count[MESSAGE_CREATED]);
    fprintf(out, "  recipients delivered %" PRIu64 ", bounced %" PRIu64
            ", filed to Junk %" PRIu64 "; SMTP attempts %" PRIu64 "\n",
            world->recipients_delivered, world->recipients_bounced, world->junk,
            world->attempts);
}

static void print_queues(FILE *out, const struct world *world)
{
    sim_time now = engine_now(world->engine);

    fprintf(out, "\nqueues (peak / mean length)    %12s %12s %12s %9s\n",
            "web", "outgoing", "incoming", "deferred");
    for (size_t i = 0; i < world->scenario->provider_count; i++) {
        const struct provider_state *state = &world->providers[i];
        size_t web_peak = 0;
        double web_mean = 0;
        for (int w = 0; w < state->params->web.servers; w++) {
            web_peak += state->web_servers[w].peak_length;
            web_mean += time_average_mean(&state->web_servers[w].queue_average, now);
        }
        fprintf(out, "  %-28s %5zu/%6.1f %5zu/%6.1f %5zu/%6.1f %9" PRIu64 "\n",
                state->params->name, web_peak, web_mean,
                (size_t)(state->peak_outgoing > state->outgoing.peak_length
                             ? state->peak_outgoing : state->outgoing.peak_length),
                time_average_mean(&state->outgoing.queue_average, now) +
                    time_average_mean(&state->waiting_average, now),
                state->processing.peak_length,
                time_average_mean(&state->processing.queue_average, now),
                state->peak_deferred);
    }
}

void summary_print(FILE *out, const struct world *world, const struct run_info *info)
{
    const struct scenario *scenario = world->scenario;

    fprintf(out, "mailsim %s: scenario %s, seed %" PRIu64 "\n", info->version,
            scenario->name, scenario->seed);
    fprintf(out, "simulated %.1f s in %.2f s of wall time: %" PRIu64
            " events, fingerprint %016" PRIx64 "\n\n",
            sim_time_to_seconds(info->end_time), info->wall_seconds, info->events,
            info->fingerprint);
    print_messages(out, world);

    fprintf(out, "\nlatency (s)                   %9s %10s %10s %10s %10s\n",
            "count", "p50", "p95", "p99", "max");
    print_latency_row(out, "to mailbox, same provider",
                      world->stored_latency[PATH_LOCAL]);
    print_latency_row(out, "to mailbox, other provider",
                      world->stored_latency[PATH_EXTERNAL]);
    print_latency_row(out, "to reader, same provider",
                      world->seen_latency[PATH_LOCAL]);
    print_latency_row(out, "to reader, other provider",
                      world->seen_latency[PATH_EXTERNAL]);
    print_queues(out, world);
}
