/*
 * Loader of the `expect:` list.  Each item is a mapping with a `metric`,
 * any filters that metric accepts and exactly one comparison:
 *
 *   expect:
 *     - {metric: latency_p95, path: other_provider, at_most: 15m}
 *     - {metric: reply_code_count, code: 451, between: [10, 50]}
 *
 * Bounds of latency metrics are durations; other bounds are plain numbers.
 */
#include "models/scenario_expect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/report.h"

#define ITEM_KEYS_MAX (1 + EXPECT_FILTER_COUNT + EXPECT_COMPARISON_COUNT + 1)

static void *expect_calloc(size_t count, size_t size)
{
    void *memory = calloc(count ? count : 1, size);
    if (memory == NULL) {
        fputs("mailsim: out of memory while loading the scenario\n", stderr);
        abort();
    }
    return memory;
}

/* Joins the names of the filters a metric accepts as "a, b, c". */
static void applicable_filters(enum expect_metric metric, char *buffer, size_t size)
{
    size_t used = 0;
    buffer[0] = '\0';
    for (int key = 0; key < EXPECT_FILTER_COUNT; key++) {
        if (!expect_filter_applies(metric, (enum expect_filter_key)key))
            continue;
        int written = snprintf(buffer + used, size - used, "%s%s", used > 0 ? ", " : "",
                               expect_filter_names[key]);
        if (written < 0 || (size_t)written >= size - used)
            return;
        used += (size_t)written;
    }
}

/* A domain of some provider, so that a typo fails at load time instead of
 * matching no rows. */
static char *read_domain(struct config *config, const struct config_node *node,
                         const struct scenario *scenario)
{
    char *domain = config_hostname(config, node);
    if (domain != NULL && scenario_find_domain(scenario, domain) < 0)
        config_error(config, node,
                     "domain '%s' is not served by any provider, "
                     "expected a domain listed in some providers[].domains", domain);
    return domain;
}

static void read_filter(struct config *config, const struct config_node *node,
                        enum expect_filter_key key, const struct scenario *scenario,
                        struct expect_filter *filter)
{
    switch (key) {
    case EXPECT_FILTER_SENDER_DOMAIN:
        filter->sender_domain = read_domain(config, node, scenario);
        break;
    case EXPECT_FILTER_RECIPIENT_DOMAIN:
        filter->recipient_domain = read_domain(config, node, scenario);
        break;
    case EXPECT_FILTER_PATH:
        filter->path = (enum expect_path)(config_choice(config, node,
                                                        expect_path_names + 1, 0) + 1);
        break;
    case EXPECT_FILTER_SUBMITTED_FROM:
        filter->submitted_from = config_duration(config, node, -1, 0);
        break;
    case EXPECT_FILTER_SUBMITTED_UNTIL:
        filter->submitted_until = config_duration(config, node, -1, 0);
        break;
    case EXPECT_FILTER_STEP: {
        /* One of the values the attempts table records, so that a typo
         * cannot match nothing and pass. */
        int step = config_choice(config, node, report_attempt_steps, -1);
        filter->step = step >= 0 ? strdup(report_attempt_steps[step]) : NULL;
        break;
    }
    default:
        filter->code = (int)config_int(config, node, 0, 200, 599);
        break;
    }
}

static void load_filters(struct config *config, const struct config_node *item,
                         const struct scenario *scenario, struct expectation *expectation)
{
    char allowed[256];
    for (int i = 0; i < EXPECT_FILTER_COUNT && !config_failed(config); i++) {
        enum expect_filter_key key = (enum expect_filter_key)i;
        const char *name = expect_filter_names[key];
        struct config_node node = expect_filter_required(expectation->metric, key)
                                      ? config_require(config, item, name)
                                      : config_get(config, item, name);
        if (!config_present(&node))
            continue;
        if (!expect_filter_applies(expectation->metric, key)) {
            applicable_filters(expectation->metric, allowed, sizeof allowed);
            config_error(config, &node, "filter '%s' does not apply to metric '%s', "
                         "expected one of: %s", name,
                         expect_metric_names[expectation->metric], allowed);
            return;
        }
        read_filter(config, &node, key, scenario, &expectation->filter);
    }

    const struct expect_filter *filter = &expectation->filter;
    if (!config_failed(config) && filter->submitted_from >= 0 &&
        filter->submitted_until >= 0 && filter->submitted_until <= filter->submitted_from) {
        struct config_node from = config_get(config, item, "submitted_from");
        struct config_node until = config_get(config, item, "submitted_until");
        config_error(config, &until, "found '%s', expected a time after "
                     "submitted_from ('%s')", until.node->text, from.node->text);
    }
}

/* One bound in the metric's unit: a duration in seconds for latencies, a
 * ratio from 0 to 1, or a number >= 0. */
static double read_bound(struct config *config, const struct config_node *node,
                         enum expect_metric metric)
{
    switch (expect_metric_unit(metric)) {
    case EXPECT_UNIT_SECONDS:
        return sim_time_to_seconds(config_duration(config, node, 0, 0));
    case EXPECT_UNIT_RATIO:
        return config_double(config, node, 0, 0, 1, false);
    default:
        return config_double(config, node, 0, 0, INFINITY, false);
    }
}

static void read_between(struct config *config, const struct config_node *node,
                         struct expectation *expectation)
{
    size_t count = config_sequence(config, node);
    if (config_failed(config))
        return;
    if (count != 2) {
        config_error(config, node, "found %zu value%s, expected two: [low, high]", count,
                     count == 1 ? "" : "s");
        return;
    }
    struct config_node low = config_item(node, 0);
    struct config_node high = config_item(node, 1);
    expectation->low = read_bound(config, &low, expectation->metric);
    expectation->high = read_bound(config, &high, expectation->metric);
    if (!config_failed(config) && expectation->low > expectation->high)
        config_error(config, &high, "found '%s', expected a bound >= the low bound ('%s')",
                     high.node->text, low.node->text);
}

static void load_comparison(struct config *config, const struct config_node *item,
                            struct expectation *expectation)
{
    int found = -1;
    struct config_node bound = {0};
    for (int i = 0; i < EXPECT_COMPARISON_COUNT && !config_failed(config); i++) {
        struct config_node node = config_get(config, item, expect_comparison_names[i]);
        if (!config_present(&node))
            continue;
        if (found >= 0)
            config_error(config, &node, "found both '%s' and '%s', expected exactly one "
                         "comparison (between: [low, high] for a range)",
                         expect_comparison_names[found], expect_comparison_names[i]);
        found = i;
        bound = node;
    }
    if (config_failed(config))
        return;
    if (found < 0) {
        config_error(config, item, "missing comparison, expected one of: "
                     "at_least, at_most, equals, between");
        return;
    }

    expectation->comparison = (enum expect_comparison)found;
    if (expectation->comparison == EXPECT_BETWEEN) {
        read_between(config, &bound, expectation);
    } else {
        double value = read_bound(config, &bound, expectation->metric);
        expectation->low = value;
        expectation->high = value;
    }
}

static void load_expectation(struct config *config, const struct config_node *item,
                             const struct scenario *scenario,
                             struct expectation *expectation)
{
    const char *keys[ITEM_KEYS_MAX];
    size_t used = 0;
    keys[used++] = "metric";
    for (int i = 0; i < EXPECT_FILTER_COUNT; i++)
        keys[used++] = expect_filter_names[i];
    for (int i = 0; i < EXPECT_COMPARISON_COUNT; i++)
        keys[used++] = expect_comparison_names[i];
    keys[used] = NULL;

    expect_filter_init(&expectation->filter);
    if (!config_mapping(config, item, keys))
        return;
    struct config_node metric = config_require(config, item, "metric");
    int index = config_choice(config, &metric, expect_metric_names, -1);
    if (index < 0)
        return;
    expectation->metric = (enum expect_metric)index;
    load_filters(config, item, scenario, expectation);
    load_comparison(config, item, expectation);
}

void scenario_expect_load(struct config *config, const struct config_node *root,
                          struct scenario *scenario)
{
    if (config_failed(config))
        return;
    struct config_node list = config_get(config, root, "expect");
    if (!config_present(&list))
        return;
    size_t count = config_sequence(config, &list);
    if (config_failed(config))
        return;
    if (count == 0) {
        config_error(config, &list, "found an empty list, expected at least one "
                     "expectation");
        return;
    }
    if (!scenario->output.message_rows) {
        config_error(config, &list, "expectations are evaluated over the per-recipient "
                     "rows, expected output.message_rows: true");
        return;
    }
    if (scenario->output.message_sample < 1.0) {
        config_error(config, &list, "expectations are evaluated over every message's "
                     "rows, expected output.message_sample: 1");
        return;
    }

    scenario->expectations = expect_calloc(count, sizeof *scenario->expectations);
    for (size_t i = 0; i < count && !config_failed(config); i++) {
        struct config_node item = config_item(&list, i);
        scenario->expectation_count++;
        load_expectation(config, &item, scenario, &scenario->expectations[i]);
    }
}

void scenario_expect_free(struct scenario *scenario)
{
    for (size_t i = 0; i < scenario->expectation_count; i++)
        expect_fini(&scenario->expectations[i]);
    free(scenario->expectations);
    scenario->expectations = NULL;
    scenario->expectation_count = 0;
}

bool scenario_expect_require(const struct scenario *scenario, FILE *errors)
{
    if (scenario->expectation_count > 0)
        return true;
    struct config config;
    if (config_open(&config, scenario->path, errors)) {
        struct config_node root = config_root(&config);
        config_require(&config, &root, "expect");
        /* The key is present now but was not at loading, so the file changed. */
        if (!config_failed(&config))
            config_error(&config, &root, "missing required key 'expect'");
    }
    config_close(&config);
    return false;
}
