/*
 * Scenario loader: the YAML schema of docs/scenario-format.md into struct
 * scenario, with defaults, then checks across sections.
 *
 * Loading runs in passes, so that each cross-reference is checked while the
 * position of the value that makes it is at hand.  The passes read the
 * top-level values, the regions, each provider's identity (name, region,
 * domains, MX hosts), the network and DNS sections, each provider's
 * parameters (destinations refer to other providers' domains), the faults,
 * the trace and the output settings.  Config errors are sticky, so each
 * pass reads a whole section and loading stops after the first failed pass.
 */
#include "models/scenario.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "models/scenario_expect.h"
#include "models/scenario_limits.h"
#include "sim/config.h"

/* Upper bounds that catch typos (an extra digit or three) rather than
 * limits of the models. */
#define MAX_COUNT 1000000
#define MAX_CAPACITY 1000000000
#define MAX_MAILBOXES 1000000000

#define NAME_CHARACTERS "a name of letters, digits, '_', '.' and '-'"

/* A region paired with itself when network.latency does not give it. */
#define SAME_REGION_LATENCY SIM_MS

struct loader {
    struct config config;
    struct scenario *scenario;
    struct config_node root;
};

static const char *const top_keys[] = {
    "name", "seed", "duration", "drain", "regions", "network", "dns",
    "providers", "faults", "trace", "output", "limits", "expect", NULL,
};

static void *scenario_calloc(size_t count, size_t size)
{
    void *memory = calloc(count ? count : 1, size);
    if (memory == NULL) {
        fputs("mailsim: out of memory while loading the scenario\n", stderr);
        abort();
    }
    return memory;
}

static char *scenario_strndup(const char *text, size_t length)
{
    char *copy = scenario_calloc(length + 1, 1);
    memcpy(copy, text, length);
    return copy;
}

static struct dist dist_of(enum dist_kind kind, double a, double b)
{
    struct dist dist = { .kind = kind, .a = a, .b = b };
    return dist;
}

static struct dist lognormal_of(double mean, double stddev)
{
    struct dist dist;
    dist_lognormal_from_moments(&dist, mean, stddev);
    return dist;
}

static int find_region(const struct scenario *scenario, const char *name)
{
    for (size_t i = 0; i < scenario->region_count; i++) {
        if (strcmp(scenario->regions[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

/* Reads a region name and returns its index; -1 after an error. */
static int read_region(struct loader *loader, const struct config_node *node)
{
    struct scenario *scenario = loader->scenario;
    const char **names = scenario_calloc(scenario->region_count + 1, sizeof *names);
    for (size_t i = 0; i < scenario->region_count; i++)
        names[i] = scenario->regions[i].name;
    int index = config_choice(&loader->config, node, names, -1);
    free(names);
    return index;
}

static void load_top(struct loader *loader)
{
    struct config *config = &loader->config;
    struct scenario *scenario = loader->scenario;
    struct config_node root = loader->root;

    if (!config_mapping(config, &root, top_keys))
        return;
    struct config_node name = config_require(config, &root, "name");
    scenario->name = config_identifier(config, &name, NAME_CHARACTERS);

    struct config_node seed = config_get(config, &root, "seed");
    scenario->seed = (uint64_t)config_int(config, &seed, 1, 0, INT64_MAX);

    struct config_node duration = config_require(config, &root, "duration");
    scenario->duration = config_duration(config, &duration, 0, 1);

    struct config_node drain = config_get(config, &root, "drain");
    scenario->drain = config_duration(config, &drain, 5 * SIM_DAY, 0);
    if (scenario->drain > SIM_TIME_MAX / 2 || scenario->duration > SIM_TIME_MAX / 2)
        config_error(config, config_present(&drain) ? &drain : &duration,
                     "duration and drain must each be at most 53375d");
}

static void load_regions(struct loader *loader)
{
    struct config *config = &loader->config;
    struct scenario *scenario = loader->scenario;
    struct config_node list = config_require(config, &loader->root, "regions");
    size_t count = config_sequence(config, &list);
    if (config_failed(config))
        return;
    if (count == 0) {
        config_error(config, &list, "found an empty list, expected at least one region");
        return;
    }
    scenario->regions = scenario_calloc(count, sizeof *scenario->regions);
    for (size_t i = 0; i < count && !config_failed(config); i++) {
        struct config_node item = config_item(&list, i);
        char *name = config_identifier(config, &item, NAME_CHARACTERS);
        if (name != NULL && find_region(scenario, name) >= 0)
            config_error(config, &item, "region '%s' is listed twice", name);
        scenario->regions[scenario->region_count++].name = name;
    }
}

/* Reads a list of host names into a new array, rejecting names that
 * `taken` already finds (in other providers) or that repeat in the list.
 * `*count` is set on return, so lookups meanwhile skip the list. */
static char **read_names(struct loader *loader, const struct config_node *list,
                         size_t *count, int (*taken)(const struct scenario *, const char *),
                         const char *what)
{
    struct config *config = &loader->config;
    size_t length = config_sequence(config, list);
    char **names = scenario_calloc(length, sizeof *names);
    size_t used = 0;
    for (size_t i = 0; i < length && !config_failed(config); i++) {
        struct config_node item = config_item(list, i);
        char *name = config_hostname(config, &item);
        if (name == NULL)
            break;
        int owner = taken(loader->scenario, name);
        bool repeated = false;
        for (size_t j = 0; j < used; j++)
            repeated = repeated || strcasecmp(names[j], name) == 0;
        if (repeated)
            config_error(config, &item, "%s '%s' is listed twice", what, name);
        else if (owner >= 0)
            config_error(config, &item, "%s '%s' is already listed by provider '%s'",
                         what, name, loader->scenario->providers[owner].name);
        names[used++] = name;
    }
    *count = used;
    return names;
}

static void load_identity(struct loader *loader, const struct config_node *node,
                          struct provider *provider)
{
    static const char *const keys[] = {
        "name", "region", "domains", "mailboxes", "load_balancer", "web",
        "smtp_out", "smtp_in", "processing", "storage", "clients", "workload", NULL,
    };
    struct config *config = &loader->config;
    struct scenario *scenario = loader->scenario;
    if (!config_mapping(config, node, keys))
        return;

    struct config_node name = config_require(config, node, "name");
    provider->name = config_identifier(config, &name, NAME_CHARACTERS);
    for (size_t i = 0; provider->name != NULL && i + 1 < scenario->provider_count; i++) {
        if (strcmp(scenario->providers[i].name, provider->name) == 0)
            config_error(config, &name, "provider name '%s' is used twice", provider->name);
    }

    struct config_node region = config_require(config, node, "region");
    provider->region = (size_t)read_region(loader, &region);

    struct config_node domains = config_require(config, node, "domains");
    provider->domains = read_names(loader, &domains, &provider->domain_count,
                                   scenario_find_domain, "domain");
    if (provider->domain_count == 0)
        config_error(config, &domains, "found an empty list, expected at least one domain");

    struct config_node mailboxes = config_require(config, node, "mailboxes");
    provider->mailboxes = (uint64_t)config_int(config, &mailboxes, 1, 1, MAX_MAILBOXES);

    struct config_node smtp_in = config_get(config, node, "smtp_in");
    struct config_node hosts = config_get(config, &smtp_in, "hosts");
    provider->smtp_in.hosts = read_names(loader, &hosts, &provider->smtp_in.host_count,
                                         scenario_find_host, "MX host");
}

static void load_providers_identity(struct loader *loader)
{
    struct config *config = &loader->config;
    struct scenario *scenario = loader->scenario;
    struct config_node list = config_require(config, &loader->root, "providers");
    size_t count = config_sequence(config, &list);
    if (config_failed(config))
        return;
    if (count == 0) {
        config_error(config, &list, "found an empty list, expected at least one provider");
        return;
    }
    scenario->providers = scenario_calloc(count, sizeof *scenario->providers);
    for (size_t i = 0; i < count && !config_failed(config); i++) {
        struct config_node item = config_item(&list, i);
        /* Counted before loading so that provider i's lookups see itself. */
        scenario->provider_count++;
        load_identity(loader, &item, &scenario->providers[i]);
    }
}

/* Stores one latency and its mirror image; a pair given twice must agree. */
static void set_latency(struct loader *loader, const struct config_node *at,
                        size_t from, size_t to, sim_time latency)
{
    struct scenario *scenario = loader->scenario;
    size_t n = scenario->region_count;
    sim_time *forward = &scenario->latency[from * n + to];
    if (*forward >= 0 && *forward != latency) {
        config_error(&loader->config, at,
                     "found '%s', but the latency between '%s' and '%s' is already "
                     "given with another value; latency is symmetric, so give it once",
                     at->node->text, scenario->regions[to].name,
                     scenario->regions[from].name);
        return;
    }
    *forward = latency;
    scenario->latency[to * n + from] = latency;
}

static void load_latency_row(struct loader *loader, const struct config_node *key,
                             const struct config_node *row)
{
    struct config *config = &loader->config;
    int from = read_region(loader, key);
    if (from < 0)
        return;
    if (!config_present(row) || row->node->kind != YAML_TREE_MAPPING) {
        config_error_found(config, row, "a mapping from region names to latencies, "
                                        "such as {us-east: 40ms}");
        return;
    }
    for (size_t i = 0; i < config_mapping_size(row) && !config_failed(config); i++) {
        struct config_node to_key;
        struct config_node value;
        config_entry(row, i, &to_key, &value);
        int to = read_region(loader, &to_key);
        if (!config_present(&value))
            config_error(config, &value, "missing value");
        sim_time latency = config_duration(config, &value, 0, 0);
        if (to >= 0 && !config_failed(config))
            set_latency(loader, &value, (size_t)from, (size_t)to, latency);
    }
}

/* Requires a latency for every pair of regions that providers use.  Pairs
 * with an unused region are never looked up and stay 0. */
static void check_latency(struct loader *loader, const struct config_node *at)
{
    struct scenario *scenario = loader->scenario;
    size_t n = scenario->region_count;
    bool *used = scenario_calloc(n, sizeof *used);
    for (size_t i = 0; i < scenario->provider_count; i++)
        used[scenario->providers[i].region] = true;

    for (size_t from = 0; from < n; from++) {
        for (size_t to = 0; to < n; to++) {
            sim_time *latency = &scenario->latency[from * n + to];
            if (*latency < 0 && from == to)
                *latency = SAME_REGION_LATENCY;
            if (*latency >= 0)
                continue;
            if (used[from] && used[to])
                config_error(&loader->config, at,
                             "missing latency between regions '%s' and '%s', "
                             "add it, for example %s: {%s: 40ms}",
                             scenario->regions[from].name, scenario->regions[to].name,
                             scenario->regions[from].name, scenario->regions[to].name);
            *latency = 0;
        }
    }
    free(used);
}

static void load_network(struct loader *loader)
{
    static const char *const keys[] = { "bandwidth", "latency", NULL };
    struct config *config = &loader->config;
    struct scenario *scenario = loader->scenario;
    struct config_node network = config_get(config, &loader->root, "network");
    config_mapping(config, &network, keys);

    struct config_node bandwidth = config_get(config, &network, "bandwidth");
    scenario->bandwidth = config_bandwidth(config, &bandwidth, 1e9 / 8);

    size_t n = scenario->region_count;
    scenario->latency = scenario_calloc(n * n, sizeof *scenario->latency);
    for (size_t i = 0; i < n * n; i++)
        scenario->latency[i] = -1;

    struct config_node matrix = config_get(config, &network, "latency");
    if (config_present(&matrix) && matrix.node->kind != YAML_TREE_MAPPING)
        config_mapping(config, &matrix, keys);
    for (size_t i = 0; i < config_mapping_size(&matrix) && !config_failed(config); i++) {
        struct config_node key;
        struct config_node row;
        config_entry(&matrix, i, &key, &row);
        load_latency_row(loader, &key, &row);
    }
    if (!config_failed(config))
        check_latency(loader, &matrix);
}

static void load_resolver(struct loader *loader, const struct config_node *dns)
{
    static const char *const keys[] = { "latency", "cache", "negative_ttl", "timeout",
                                        "attempts", NULL };
    struct config *config = &loader->config;
    struct resolver_params *resolver = &loader->scenario->resolver;
    struct config_node node = config_get(config, dns, "resolver");
    config_mapping(config, &node, keys);

    struct config_node latency = config_get(config, &node, "latency");
    struct dist latency_default = lognormal_of(0.025, 0.020);
    config_dist(config, &latency, CONFIG_SECONDS, &latency_default, &resolver->latency);

    struct config_node cache = config_get(config, &node, "cache");
    resolver->cache = config_bool(config, &cache, true);

    struct config_node negative_ttl = config_get(config, &node, "negative_ttl");
    resolver->negative_ttl = config_duration(config, &negative_ttl, 15 * SIM_MIN, 0);

    /* glibc's stub resolver defaults (resolv.conf(5)): timeout:5, attempts:2. */
    struct config_node timeout = config_get(config, &node, "timeout");
    resolver->timeout = config_duration(config, &timeout, 5 * SIM_SEC, 1);
    struct config_node attempts = config_get(config, &node, "attempts");
    resolver->attempts = (int)config_int(config, &attempts, 2, 1, 5);
}

static void load_mx(struct loader *loader, const struct config_node *item,
                    struct mx_record *record)
{
    static const char *const keys[] = { "preference", "host", NULL };
    struct config *config = &loader->config;
    if (!config_mapping(config, item, keys))
        return;
    struct config_node preference = config_require(config, item, "preference");
    record->preference = (int)config_int(config, &preference, 0, 0, 65535);

    struct config_node host = config_require(config, item, "host");
    record->host = config_hostname(config, &host);
    if (record->host != NULL && scenario_find_host(loader->scenario, record->host) < 0)
        config_error(config, &host,
                     "MX host '%s' is not served by any provider, "
                     "expected a host listed in some providers[].smtp_in.hosts",
                     record->host);
}

/* null_mx, address and nxdomain, and the MX records they exclude. */
static void load_zone_flags(struct loader *loader, const struct config_node *item,
                            struct dns_zone *zone)
{
    struct config *config = &loader->config;
    struct config_node null_mx = config_get(config, item, "null_mx");
    zone->null_mx = config_bool(config, &null_mx, false);
    struct config_node address = config_get(config, item, "address");
    zone->address = config_bool(config, &address, false);
    struct config_node nxdomain = config_get(config, item, "nxdomain");
    zone->nxdomain = config_bool(config, &nxdomain, false);
    if (config_failed(config))
        return;

    if ((zone->null_mx || zone->nxdomain) && zone->mx_count > 0)
        config_error(config, zone->null_mx ? &null_mx : &nxdomain,
                     "found MX records as well, expected no mx list with %s",
                     zone->null_mx ? "null_mx" : "nxdomain");
    else if (zone->null_mx && zone->nxdomain)
        config_error(config, &nxdomain, "found null_mx as well, expected one of the two");
    else if (zone->address && zone->mx_count == 0 && zone->domain != NULL &&
             scenario_find_host(loader->scenario, zone->domain) < 0)
        config_error(config, &address,
                     "domain '%s' is its own implicit MX host, expected '%s' in some "
                     "providers[].smtp_in.hosts", zone->domain, zone->domain);
}

static int find_zone(const struct scenario *scenario, const char *domain)
{
    for (size_t i = 0; i < scenario->zone_count; i++) {
        if (scenario->zones[i].domain != NULL &&
            strcasecmp(scenario->zones[i].domain, domain) == 0)
            return (int)i;
    }
    return -1;
}

static void load_zone(struct loader *loader, const struct config_node *item,
                      struct dns_zone *zone)
{
    static const char *const keys[] = { "domain", "ttl", "mx", "null_mx", "address",
                                        "nxdomain", NULL };
    struct config *config = &loader->config;
    struct scenario *scenario = loader->scenario;
    if (!config_mapping(config, item, keys))
        return;

    struct config_node domain = config_require(config, item, "domain");
    char *name = config_hostname(config, &domain);
    if (name != NULL && find_zone(scenario, name) >= 0)
        config_error(config, &domain, "zone '%s' is listed twice", name);
    else if (name != NULL && scenario_find_domain(scenario, name) < 0)
        config_error(config, &domain,
                     "domain '%s' is not served by any provider, "
                     "expected a domain listed in some providers[].domains", name);
    zone->domain = name;

    struct config_node ttl = config_get(config, item, "ttl");
    zone->ttl = config_duration(config, &ttl, SIM_HOUR, 0);

    struct config_node mx = config_get(config, item, "mx");
    size_t count = config_sequence(config, &mx);
    zone->mx = scenario_calloc(count, sizeof *zone->mx);
    for (size_t i = 0; i < count && !config_failed(config); i++) {
        struct config_node record = config_item(&mx, i);
        zone->mx_count++;
        load_mx(loader, &record, &zone->mx[i]);
    }
    load_zone_flags(loader, item, zone);
}

static void load_dns(struct loader *loader)
{
    static const char *const keys[] = { "resolver", "zones", NULL };
    struct config *config = &loader->config;
    struct scenario *scenario = loader->scenario;
    struct config_node dns = config_require(config, &loader->root, "dns");
    config_mapping(config, &dns, keys);
    load_resolver(loader, &dns);

    struct config_node zones = config_require(config, &dns, "zones");
    size_t count = config_sequence(config, &zones);
    scenario->zones = scenario_calloc(count, sizeof *scenario->zones);
    for (size_t i = 0; i < count && !config_failed(config); i++) {
        struct config_node item = config_item(&zones, i);
        load_zone(loader, &item, &scenario->zones[scenario->zone_count]);
        scenario->zone_count++;
    }
}

/* Shorthands for the parameter sections, where each key is read from the
 * section mapping `section` with a default. */
static struct config_node key_of(struct loader *loader,
                                 const struct config_node *section, const char *key)
{
    return config_get(&loader->config, section, key);
}

static int count_at(struct loader *loader, const struct config_node *section,
                    const char *key, int fallback)
{
    struct config_node node = key_of(loader, section, key);
    return (int)config_int(&loader->config, &node, fallback, 1, MAX_COUNT);
}

static size_t capacity_at(struct loader *loader, const struct config_node *section,
                          const char *key, size_t fallback)
{
    struct config_node node = key_of(loader, section, key);
    return (size_t)config_int(&loader->config, &node, (int64_t)fallback, 1,
                              MAX_CAPACITY);
}

static double probability_at(struct loader *loader,
                             const struct config_node *section, const char *key,
                             double fallback)
{
    struct config_node node = key_of(loader, section, key);
    return config_double(&loader->config, &node, fallback, 0, 1, false);
}

static sim_time time_at(struct loader *loader, const struct config_node *section,
                        const char *key, sim_time fallback)
{
    struct config_node node = key_of(loader, section, key);
    return config_duration(&loader->config, &node, fallback, 1);
}

static uint64_t size_at(struct loader *loader, const struct config_node *section,
                        const char *key, uint64_t fallback)
{
    struct config_node node = key_of(loader, section, key);
    return config_size(&loader->config, &node, fallback, 1);
}

static void dist_at(struct loader *loader, const struct config_node *section,
                    const char *key, enum config_quantity quantity,
                    struct dist fallback, struct dist *out)
{
    struct config_node node = key_of(loader, section, key);
    config_dist(&loader->config, &node, quantity, &fallback, out);
    dist_fini(&fallback);
}

/* The provider's sub-mapping `key`, checked against `keys`; absent when
 * not given, so that every value in it takes its default. */
static struct config_node section_of(struct loader *loader,
                                     const struct config_node *provider,
                                     const char *key, const char *const *keys)
{
    struct config_node section = key_of(loader, provider, key);
    config_mapping(&loader->config, &section, keys);
    return section;
}

static void load_balancer(struct loader *loader, const struct config_node *provider,
                          struct load_balancer_params *params)
{
    static const char *const keys[] = { "policy", "rate_limit", NULL };
    static const char *const limit_keys[] = { "rate", "burst", NULL };
    static const char *const policies[] = { "round_robin", "least_connections", NULL };
    struct config *config = &loader->config;
    struct config_node section = section_of(loader, provider, "load_balancer", keys);

    struct config_node policy = key_of(loader, &section, "policy");
    params->policy = (enum lb_policy)config_choice(config, &policy, policies,
                                                   LB_ROUND_ROBIN);

    struct config_node limit = key_of(loader, &section, "rate_limit");
    if (!config_mapping(config, &limit, limit_keys))
        return;
    struct config_node rate = config_require(config, &limit, "rate");
    params->limit.rate = config_rate(config, &rate, 0, true);
    struct config_node burst = key_of(loader, &limit, "burst");
    double one_second = fmax(1, ceil(params->limit.rate));
    params->limit.burst = config_double(config, &burst, one_second, 1, INFINITY, false);
}

static void load_web(struct loader *loader, const struct config_node *provider,
                     struct web_params *web)
{
    static const char *const keys[] = {
        "servers", "service_time", "max_message_size", "queue_capacity", NULL,
    };
    struct config_node section = section_of(loader, provider, "web", keys);
    web->servers = count_at(loader, &section, "servers", 4);
    dist_at(loader, &section, "service_time", CONFIG_SECONDS,
            dist_of(DIST_EXPONENTIAL, 0.050, 0), &web->service_time);
    web->max_message_size = size_at(loader, &section, "max_message_size",
                                    (uint64_t)25 << 20);
    web->queue_capacity = capacity_at(loader, &section, "queue_capacity", 10000);
}

static void load_retry(struct loader *loader, const struct config_node *smtp_out,
                       struct retry_params *retry)
{
    static const char *const keys[] = {
        "initial", "factor", "maximum", "queue_lifetime",
        /* Read by models/scenario_policy.c. */
        "policy", "delay_warning", "jitter", "minimal_backoff_time",
        "maximal_backoff_time", "queue_run_delay", "rules",
        "retry_interval_max", "queue_run_interval", "interval", "waits", NULL,
    };
    struct config *config = &loader->config;
    struct config_node section = section_of(loader, smtp_out, "retry", keys);
    retry->initial = time_at(loader, &section, "initial", 5 * SIM_MIN);

    struct config_node factor = key_of(loader, &section, "factor");
    retry->factor = config_double(config, &factor, 2, 1, 1000, false);

    struct config_node maximum = key_of(loader, &section, "maximum");
    sim_time maximum_default = retry->initial > 4 * SIM_HOUR ? retry->initial
                                                             : 4 * SIM_HOUR;
    retry->maximum = config_duration(config, &maximum, maximum_default, retry->initial);
    retry->queue_lifetime = time_at(loader, &section, "queue_lifetime", 5 * SIM_DAY);
}

static void load_smtp_out(struct loader *loader, const struct config_node *provider,
                          struct smtp_out_params *smtp_out)
{
    static const char *const keys[] = {
        "workers", "queue_capacity", "scan_time", "connect_timeout",
        "max_mx_hosts", "retry", "destination_concurrency", "dead_destination",
        "pipelining", "declare_size", "connection_reuse", "tls", "timeouts", NULL,
    };
    struct config *config = &loader->config;
    struct config_node section = section_of(loader, provider, "smtp_out", keys);
    smtp_out->workers = count_at(loader, &section, "workers", 16);
    smtp_out->queue_capacity = capacity_at(loader, &section, "queue_capacity", 1000000);
    dist_at(loader, &section, "scan_time", CONFIG_SECONDS,
            dist_of(DIST_EXPONENTIAL, 0.100, 0), &smtp_out->scan_time);
    smtp_out->connect_timeout = time_at(loader, &section, "connect_timeout",
                                        30 * SIM_SEC);
    struct config_node max_mx = key_of(loader, &section, "max_mx_hosts");
    smtp_out->max_mx_hosts = (int)config_int(config, &max_mx, 5, 1, 100);
    load_retry(loader, &section, &smtp_out->retry);
    scenario_policy_load_smtp_out(config, &section, &smtp_out->retry, &smtp_out->policy);
    scenario_protocol_load_smtp_out(config, &section, &smtp_out->protocol);
}

static void load_smtp_in(struct loader *loader, const struct config_node *provider,
                         struct smtp_in_params *smtp_in)
{
    static const char *const keys[] = {
        "hosts", "servers", "sessions_per_server", "command_time",
        "max_message_size", "unknown_recipient", "spam_source",
        "greylisting", "rate_limits", "connection_limit", "quota_full",
        "starttls", "max_recipients", NULL,
    };
    struct config_node section = section_of(loader, provider, "smtp_in", keys);
    smtp_in->servers = count_at(loader, &section, "servers", 2);
    smtp_in->sessions_per_server = count_at(loader, &section, "sessions_per_server", 100);
    dist_at(loader, &section, "command_time", CONFIG_SECONDS,
            dist_of(DIST_EXPONENTIAL, 0.002, 0), &smtp_in->command_time);
    smtp_in->max_message_size = size_at(loader, &section, "max_message_size",
                                        50000000);
    smtp_in->unknown_recipient = probability_at(loader, &section, "unknown_recipient", 0);
    smtp_in->spam_source = probability_at(loader, &section, "spam_source", 0);
    scenario_policy_load_smtp_in(&loader->config, &section, &smtp_in->policy);
    scenario_protocol_load_smtp_in(&loader->config, &section, &smtp_in->protocol);
}

static void load_processing(struct loader *loader, const struct config_node *provider,
                            struct processing_params *processing)
{
    static const char *const keys[] = {
        "workers", "queue_capacity", "service_time", "spam_probability", NULL,
    };
    struct config_node section = section_of(loader, provider, "processing", keys);
    processing->workers = count_at(loader, &section, "workers", 8);
    processing->queue_capacity = capacity_at(loader, &section, "queue_capacity", 100000);
    dist_at(loader, &section, "service_time", CONFIG_SECONDS,
            dist_of(DIST_EXPONENTIAL, 0.200, 0), &processing->service_time);
    processing->spam_probability = probability_at(loader, &section, "spam_probability", 0);
}

static void load_storage(struct loader *loader, const struct config_node *provider,
                         struct storage_params *storage)
{
    static const char *const keys[] = {
        "mail_store", "cache", "object_store", "offload_threshold", NULL,
    };
    struct config_node section = section_of(loader, provider, "storage", keys);
    dist_at(loader, &section, "mail_store", CONFIG_SECONDS,
            dist_of(DIST_EXPONENTIAL, 0.010, 0), &storage->mail_store);
    dist_at(loader, &section, "cache", CONFIG_SECONDS,
            dist_of(DIST_CONSTANT, 0.001, 0), &storage->cache);
    dist_at(loader, &section, "object_store", CONFIG_SECONDS,
            dist_of(DIST_EXPONENTIAL, 0.080, 0), &storage->object_store);
    storage->offload_threshold = size_at(loader, &section, "offload_threshold", 1000000);
}

/* Client shares default to 0.6, 0.3, 0.1 when none is given; once one is
 * given, the others default to 0.  They are normalised to sum 1. */
static void load_clients(struct loader *loader, const struct config_node *provider,
                         struct client_params *clients)
{
    static const char *const keys[] = {
        "webmail", "imap", "pop3", "pop3_interval", "mean_online",
        "mean_offline", "push_latency", NULL,
    };
    static const double defaults[CLIENT_KIND_COUNT] = { 0.6, 0.3, 0.1 };
    struct config *config = &loader->config;
    struct config_node section = section_of(loader, provider, "clients", keys);

    bool any_share = false;
    for (int i = 0; i < CLIENT_KIND_COUNT; i++) {
        struct config_node share = key_of(loader, &section, keys[i]);
        any_share = any_share || config_present(&share);
    }
    double sum = 0;
    for (int i = 0; i < CLIENT_KIND_COUNT; i++) {
        struct config_node share = key_of(loader, &section, keys[i]);
        clients->share[i] = config_double(config, &share, any_share ? 0 : defaults[i],
                                          0, INFINITY, false);
        sum += clients->share[i];
    }
    if (sum <= 0 && !config_failed(config))
        config_error(config, &section, "client shares sum to 0, expected a positive sum");
    for (int i = 0; i < CLIENT_KIND_COUNT && sum > 0; i++)
        clients->share[i] /= sum;

    clients->pop3_interval = time_at(loader, &section, "pop3_interval", 10 * SIM_MIN);
    clients->mean_online = time_at(loader, &section, "mean_online", 2 * SIM_HOUR);
    clients->mean_offline = time_at(loader, &section, "mean_offline", 6 * SIM_HOUR);
    dist_at(loader, &section, "push_latency", CONFIG_SECONDS,
            dist_of(DIST_EXPONENTIAL, 0.100, 0), &clients->push_latency);
}

/* Relative rates for the 24 hours of the day, scaled to mean 1. */
static void load_profile(struct loader *loader, const struct config_node *section,
                         struct workload_params *workload)
{
    struct config *config = &loader->config;
    for (int hour = 0; hour < 24; hour++)
        workload->profile[hour] = 1;
    struct config_node list = key_of(loader, section, "profile");
    size_t count = config_sequence(config, &list);
    if (!config_present(&list) || config_failed(config))
        return;
    if (count != 24) {
        config_error(config, &list,
                     "found %zu values, expected 24 (one per hour of the day)", count);
        return;
    }
    double sum = 0;
    for (size_t hour = 0; hour < 24; hour++) {
        struct config_node item = config_item(&list, hour);
        workload->profile[hour] = config_double(config, &item, 1, 0, INFINITY, false);
        sum += workload->profile[hour];
    }
    if (sum <= 0 && !config_failed(config))
        config_error(config, &list, "all 24 values are 0, expected a positive sum");
    for (int hour = 0; hour < 24 && sum > 0; hour++)
        workload->profile[hour] *= 24 / sum;
    workload->has_profile = true;
}

/* Without a destinations list, mail goes to every domain of the scenario in
 * proportion to its mailboxes (a provider's mailboxes are spread evenly
 * over its domains). */
static void default_destinations(struct loader *loader,
                                 struct workload_params *workload)
{
    const struct scenario *scenario = loader->scenario;
    size_t count = 0;
    for (size_t i = 0; i < scenario->provider_count; i++)
        count += scenario->providers[i].domain_count;
    workload->destinations = scenario_calloc(count, sizeof *workload->destinations);
    for (size_t i = 0; i < scenario->provider_count; i++) {
        const struct provider *provider = &scenario->providers[i];
        for (size_t j = 0; j < provider->domain_count; j++) {
            struct destination_share *share =
                &workload->destinations[workload->destination_count++];
            share->domain = scenario_strndup(provider->domains[j],
                                             strlen(provider->domains[j]));
            share->share = (double)provider->mailboxes / (double)provider->domain_count;
        }
    }
}

static void load_destination(struct loader *loader, const struct config_node *item,
                             struct workload_params *workload)
{
    static const char *const keys[] = { "domain", "share", NULL };
    struct config *config = &loader->config;
    if (!config_mapping(config, item, keys))
        return;
    struct config_node domain = config_require(config, item, "domain");
    char *name = config_hostname(config, &domain);
    if (name == NULL)
        return;
    if (scenario_find_domain(loader->scenario, name) < 0)
        config_error(config, &domain,
                     "domain '%s' is not served by any provider, "
                     "expected a domain listed in some providers[].domains", name);
    for (size_t i = 0; i < workload->destination_count; i++) {
        if (strcasecmp(workload->destinations[i].domain, name) == 0)
            config_error(config, &domain, "domain '%s' is listed twice", name);
    }
    struct destination_share *share =
        &workload->destinations[workload->destination_count++];
    share->domain = name;
    struct config_node value = config_require(config, item, "share");
    share->share = config_double(config, &value, 0, 0, INFINITY, false);
}

static void load_destinations(struct loader *loader, const struct config_node *section,
                              struct workload_params *workload)
{
    struct config *config = &loader->config;
    struct config_node list = key_of(loader, section, "destinations");
    if (!config_present(&list)) {
        default_destinations(loader, workload);
    } else {
        size_t count = config_sequence(config, &list);
        if (count == 0 && !config_failed(config))
            config_error(config, &list,
                         "found an empty list, expected at least one destination");
        workload->destinations = scenario_calloc(count, sizeof *workload->destinations);
        for (size_t i = 0; i < count && !config_failed(config); i++) {
            struct config_node item = config_item(&list, i);
            load_destination(loader, &item, workload);
        }
    }
    double sum = 0;
    for (size_t i = 0; i < workload->destination_count; i++)
        sum += workload->destinations[i].share;
    if (sum <= 0 && !config_failed(config))
        config_error(config, &list, "shares sum to 0, expected a positive sum");
    for (size_t i = 0; i < workload->destination_count && sum > 0; i++)
        workload->destinations[i].share /= sum;
}

static void load_workload(struct loader *loader, const struct config_node *provider,
                          struct workload_params *workload)
{
    static const char *const keys[] = {
        "rate", "profile", "recipients", "destinations", "message_size",
        "attachment", NULL,
    };
    static const char *const attachment_keys[] = { "probability", "size", NULL };
    struct config *config = &loader->config;
    struct config_node section = section_of(loader, provider, "workload", keys);

    struct config_node rate = key_of(loader, &section, "rate");
    workload->rate_per_mailbox = config_rate(config, &rate, 30.0 / 86400, false);
    load_profile(loader, &section, workload);
    dist_at(loader, &section, "recipients", CONFIG_NUMBER,
            dist_of(DIST_CONSTANT, 1, 0), &workload->recipients);
    load_destinations(loader, &section, workload);
    dist_at(loader, &section, "message_size", CONFIG_BYTES,
            lognormal_of(75e3, 50e3), &workload->message_size);

    struct config_node attachment = section_of(loader, &section, "attachment",
                                               attachment_keys);
    workload->attachment_probability = probability_at(loader, &attachment,
                                                      "probability", 0.2);
    dist_at(loader, &attachment, "size", CONFIG_BYTES, lognormal_of(500e3, 1e6),
            &workload->attachment_size);
}

/* Every domain of the provider needs a zone, or mail to it could not be
 * routed. */
static void check_zones(struct loader *loader, const struct config_node *node,
                        const struct provider *provider)
{
    struct config_node domains = key_of(loader, node, "domains");
    for (size_t i = 0; i < provider->domain_count; i++) {
        if (find_zone(loader->scenario, provider->domains[i]) >= 0)
            continue;
        struct config_node item = config_item(&domains, i);
        config_error(&loader->config, &item,
                     "domain '%s' has no zone, expected an entry in dns.zones",
                     provider->domains[i]);
        return;
    }
}

static void load_providers_params(struct loader *loader)
{
    struct config *config = &loader->config;
    struct scenario *scenario = loader->scenario;
    struct config_node list = config_get(config, &loader->root, "providers");
    for (size_t i = 0; i < scenario->provider_count && !config_failed(config); i++) {
        struct config_node node = config_item(&list, i);
        struct provider *provider = &scenario->providers[i];
        check_zones(loader, &node, provider);
        load_balancer(loader, &node, &provider->load_balancer);
        load_web(loader, &node, &provider->web);
        load_smtp_out(loader, &node, &provider->smtp_out);
        load_smtp_in(loader, &node, &provider->smtp_in);
        load_processing(loader, &node, &provider->processing);
        load_storage(loader, &node, &provider->storage);
        load_clients(loader, &node, &provider->clients);
        load_workload(loader, &node, &provider->workload);
    }
}

static const char *const fault_kinds[] = {
    [FAULT_HOST_DOWN] = "host_down",
    [FAULT_PROVIDER_DOWN] = "provider_down",
    [FAULT_COMPONENT_DOWN] = "component_down",
    [FAULT_WORKERS_LOST] = "workers_lost",
    [FAULT_DNS_SERVFAIL] = "dns_servfail",
    [FAULT_DNS_TIMEOUT] = "dns_timeout",
    [FAULT_LINK_LATENCY] = "link_latency",
    NULL,
};

static const char *const fault_components[] = {
    [COMPONENT_WEB] = "web",
    [COMPONENT_SMTP_OUT] = "smtp_out",
    [COMPONENT_PROCESSING] = "processing",
    NULL,
};

/* The keys each fault kind requires besides kind, start and end. */
static const char *const fault_required_keys[FAULT_KIND_COUNT][3] = {
    [FAULT_HOST_DOWN] = {"host"},
    [FAULT_PROVIDER_DOWN] = {"provider"},
    [FAULT_COMPONENT_DOWN] = {"provider", "component"},
    [FAULT_WORKERS_LOST] = {"provider", "component", "workers"},
    [FAULT_DNS_SERVFAIL] = {"domain"},
    [FAULT_DNS_TIMEOUT] = {"domain"},
    [FAULT_LINK_LATENCY] = {"from", "to", "latency"},
};

/* Rejects a key that the fault's kind does not use, so that a typo such as
 * `host` on a provider_down fault is not silently ignored. */
static void check_fault_keys(struct loader *loader, const struct config_node *item,
                             enum fault_kind kind)
{
    static const char *const common[] = {"kind", "start", "end", "mode", NULL};
    struct config *config = &loader->config;

    for (size_t i = 0; i < config_mapping_size(item) && !config_failed(config); i++) {
        struct config_node key, value;
        config_entry(item, i, &key, &value);
        bool known = false;
        for (size_t k = 0; common[k] && !known; k++)
            known = strcmp(key.node->text, common[k]) == 0 &&
                    (k != 3 || kind == FAULT_HOST_DOWN || kind == FAULT_PROVIDER_DOWN);
        for (size_t k = 0; k < 3 && fault_required_keys[kind][k] && !known; k++)
            known = strcmp(key.node->text, fault_required_keys[kind][k]) == 0;
        if (!known)
            config_error(config, &key, "key '%s' does not apply to a %s fault",
                         key.node->text, fault_kinds[kind]);
    }
}

static size_t read_fault_provider(struct loader *loader, const struct config_node *item)
{
    struct config *config = &loader->config;
    struct scenario *scenario = loader->scenario;
    struct config_node node = config_require(config, item, "provider");
    const char **names = scenario_calloc(scenario->provider_count + 1, sizeof *names);
    for (size_t i = 0; i < scenario->provider_count; i++)
        names[i] = scenario->providers[i].name;
    int index = config_choice(config, &node, names, 0);
    free(names);
    return (size_t)(index < 0 ? 0 : index);
}

static void load_fault_target(struct loader *loader, const struct config_node *item,
                              struct fault *fault)
{
    struct config *config = &loader->config;
    struct scenario *scenario = loader->scenario;

    switch (fault->kind) {
    case FAULT_HOST_DOWN: {
        struct config_node host = config_require(config, item, "host");
        fault->target = config_hostname(config, &host);
        if (fault->target != NULL && scenario_find_host(scenario, fault->target) < 0)
            config_error(config, &host,
                         "host '%s' is not served by any provider, "
                         "expected a host listed in some providers[].smtp_in.hosts",
                         fault->target);
        break;
    }
    case FAULT_DNS_SERVFAIL:
    case FAULT_DNS_TIMEOUT: {
        struct config_node domain = config_require(config, item, "domain");
        fault->target = config_hostname(config, &domain);
        if (fault->target != NULL && scenario_find_domain(scenario, fault->target) < 0)
            config_error(config, &domain,
                         "domain '%s' is not served by any provider, "
                         "expected a domain listed in some providers[].domains",
                         fault->target);
        break;
    }
    case FAULT_PROVIDER_DOWN:
        fault->provider = read_fault_provider(loader, item);
        break;
    case FAULT_COMPONENT_DOWN:
    case FAULT_WORKERS_LOST: {
        fault->provider = read_fault_provider(loader, item);
        struct config_node component = config_require(config, item, "component");
        fault->component = (enum fault_component)config_choice(config, &component,
                                                               fault_components, 0);
        if (fault->kind == FAULT_WORKERS_LOST) {
            struct config_node workers = config_require(config, item, "workers");
            fault->workers = (int)config_int(config, &workers, 1, 1, 1000000);
        }
        break;
    }
    case FAULT_LINK_LATENCY: {
        struct config_node from = config_require(config, item, "from");
        struct config_node to = config_require(config, item, "to");
        struct config_node latency = config_require(config, item, "latency");
        fault->from_region = (size_t)read_region(loader, &from);
        fault->to_region = (size_t)read_region(loader, &to);
        fault->added_latency = config_duration(config, &latency, 0, 0);
        break;
    }
    case FAULT_KIND_COUNT:
        break;
    }
}

static void load_fault(struct loader *loader, const struct config_node *item,
                       struct fault *fault)
{
    static const char *const keys[] = { "kind", "start", "end", "mode", "host", "domain",
                                        "provider", "component", "workers", "from", "to",
                                        "latency", NULL };
    static const char *const modes[] = { "refused", "timeout", NULL };
    struct config *config = &loader->config;
    if (!config_mapping(config, item, keys))
        return;

    struct config_node kind = config_require(config, item, "kind");
    int kind_index = config_choice(config, &kind, fault_kinds, FAULT_HOST_DOWN);
    if (config_failed(config))
        return;
    fault->kind = (enum fault_kind)kind_index;
    check_fault_keys(loader, item, fault->kind);
    load_fault_target(loader, item, fault);

    struct config_node start = config_require(config, item, "start");
    fault->start = config_duration(config, &start, 0, 0);
    struct config_node end = config_require(config, item, "end");
    fault->end = config_duration(config, &end, 0, 0);
    if (!config_failed(config) && fault->end <= fault->start)
        config_error(config, &end, "found '%s', expected a time after start ('%s')",
                     end.node->text, start.node->text);

    struct config_node mode = config_get(config, item, "mode");
    fault->mode = (enum fault_mode)config_choice(config, &mode, modes, FAULT_REFUSED);
}

static void load_faults(struct loader *loader)
{
    struct config *config = &loader->config;
    struct scenario *scenario = loader->scenario;
    struct config_node list = config_get(config, &loader->root, "faults");
    size_t count = config_sequence(config, &list);
    scenario->faults = scenario_calloc(count, sizeof *scenario->faults);
    for (size_t i = 0; i < count && !config_failed(config); i++) {
        struct config_node item = config_item(&list, i);
        load_fault(loader, &item, &scenario->faults[scenario->fault_count++]);
    }
}

/* A relative trace path is taken from the scenario file's directory, so a
 * scenario runs the same from any working directory. */
static void load_trace(struct loader *loader)
{
    struct config *config = &loader->config;
    struct scenario *scenario = loader->scenario;
    struct config_node node = config_get(config, &loader->root, "trace");
    char *path = config_string(config, &node, NULL, "a trace file path");
    if (path == NULL)
        return;

    const char *slash = strrchr(scenario->path, '/');
    if (path[0] == '/' || slash == NULL) {
        scenario->trace_path = path;
    } else {
        size_t directory = (size_t)(slash - scenario->path) + 1;
        scenario->trace_path = scenario_calloc(directory + strlen(path) + 1, 1);
        memcpy(scenario->trace_path, scenario->path, directory);
        strcpy(scenario->trace_path + directory, path);
        free(path);
    }
    if (access(scenario->trace_path, R_OK) != 0)
        config_error(config, &node, "cannot read the trace file '%s': %s",
                     scenario->trace_path, strerror(errno));
}

static void load_output(struct loader *loader)
{
    static const char *const keys[] = { "sample_interval", "message_rows",
                                        "message_sample", "plots", NULL };
    struct config *config = &loader->config;
    struct output_params *output = &loader->scenario->output;
    struct config_node section = config_get(config, &loader->root, "output");
    config_mapping(config, &section, keys);

    output->sample_interval = time_at(loader, &section, "sample_interval", SIM_MIN);
    struct config_node message_rows = key_of(loader, &section, "message_rows");
    output->message_rows = config_bool(config, &message_rows, true);
    struct config_node message_sample = key_of(loader, &section, "message_sample");
    output->message_sample = config_double(config, &message_sample, 1.0, 0.0, 1.0, true);
    struct config_node plots = key_of(loader, &section, "plots");
    output->plots = config_bool(config, &plots, true);
}

static void load_all(struct loader *loader)
{
    void (*const passes[])(struct loader *) = {
        load_top, load_regions, load_providers_identity, load_network,
        load_dns, load_providers_params, load_faults, load_trace, load_output,
    };
    for (size_t i = 0; i < sizeof passes / sizeof passes[0]; i++) {
        if (config_failed(&loader->config))
            return;
        passes[i](loader);
    }
}

struct scenario *scenario_load_report(const char *path, FILE *errors)
{
    struct loader loader = { .scenario = scenario_calloc(1, sizeof *loader.scenario) };
    struct scenario *scenario = loader.scenario;
    scenario->path = scenario_strndup(path, strlen(path));

    if (config_open(&loader.config, path, errors)) {
        size_t length = 0;
        const char *text = yaml_tree_text(loader.config.tree, &length);
        scenario->text = scenario_strndup(text, length);
        loader.root = config_root(&loader.config);
        load_all(&loader);
        scenario_limits_load(&loader.config, &loader.root, &scenario->limits);
        scenario_expect_load(&loader.config, &loader.root, scenario);
    }
    bool failed = config_failed(&loader.config);
    config_close(&loader.config);
    if (failed) {
        scenario_free(scenario);
        return NULL;
    }
    return scenario;
}

struct scenario *scenario_load(const char *path)
{
    return scenario_load_report(path, stderr);
}

static void free_names(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

static void provider_free(struct provider *provider)
{
    free(provider->name);
    free_names(provider->domains, provider->domain_count);
    free_names(provider->smtp_in.hosts, provider->smtp_in.host_count);
    dist_fini(&provider->web.service_time);
    dist_fini(&provider->smtp_out.scan_time);
    dist_fini(&provider->smtp_in.command_time);
    dist_fini(&provider->processing.service_time);
    dist_fini(&provider->storage.mail_store);
    dist_fini(&provider->storage.cache);
    dist_fini(&provider->storage.object_store);
    dist_fini(&provider->clients.push_latency);

    struct workload_params *workload = &provider->workload;
    dist_fini(&workload->recipients);
    dist_fini(&workload->message_size);
    dist_fini(&workload->attachment_size);
    for (size_t i = 0; i < workload->destination_count; i++)
        free(workload->destinations[i].domain);
    free(workload->destinations);
}

void scenario_free(struct scenario *scenario)
{
    if (scenario == NULL)
        return;
    scenario_expect_free(scenario);
    for (size_t i = 0; i < scenario->region_count; i++)
        free(scenario->regions[i].name);
    free(scenario->regions);
    free(scenario->latency);
    dist_fini(&scenario->resolver.latency);
    for (size_t i = 0; i < scenario->zone_count; i++) {
        for (size_t j = 0; j < scenario->zones[i].mx_count; j++)
            free(scenario->zones[i].mx[j].host);
        free(scenario->zones[i].mx);
        free(scenario->zones[i].domain);
    }
    free(scenario->zones);
    for (size_t i = 0; i < scenario->provider_count; i++)
        provider_free(&scenario->providers[i]);
    free(scenario->providers);
    for (size_t i = 0; i < scenario->fault_count; i++)
        free(scenario->faults[i].target);
    free(scenario->faults);
    free(scenario->trace_path);
    free(scenario->text);
    free(scenario->path);
    free(scenario->name);
    free(scenario);
}

int scenario_find_domain(const struct scenario *scenario, const char *domain)
{
    for (size_t i = 0; i < scenario->provider_count; i++) {
        const struct provider *provider = &scenario->providers[i];
        for (size_t j = 0; j < provider->domain_count; j++) {
            if (strcasecmp(provider->domains[j], domain) == 0)
                return (int)i;
        }
    }
    return -1;
}

int scenario_find_host(const struct scenario *scenario, const char *host)
{
    for (size_t i = 0; i < scenario->provider_count; i++) {
        const struct smtp_in_params *smtp_in = &scenario->providers[i].smtp_in;
        for (size_t j = 0; j < smtp_in->host_count; j++) {
            if (strcasecmp(smtp_in->hosts[j], host) == 0)
                return (int)i;
        }
    }
    return -1;
}

sim_time scenario_latency(const struct scenario *scenario, size_t from_region,
                          size_t to_region)
{
    return scenario->latency[from_region * scenario->region_count + to_region];
}
