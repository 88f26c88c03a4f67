/*
 * Loader of queue scenarios (`kind: queue`), with the sim/config.h API:
 * errors name the file, line, column and key path of the bad value.
 *
 * After the keys are read, the loader checks that the scenario meets the
 * assumptions of its closed form, so that `mailsim validate` never
 * compares a simulation with a formula that does not apply to it.
 */
#include "models/queue_scenario.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/queueing_theory.h"
#include "sim/config.h"
#include "sim/yaml_tree.h"

/* Upper bounds that catch typos rather than limits of the model. */
#define MAX_SERVERS 100000
#define MAX_CAPACITY 1000000000
#define MAX_REPLICATIONS 10000

/* Defaults of the `quick` section: a tenth of the measured duration and
 * at most this many replications. */
#define QUICK_REPLICATIONS 5
#define QUICK_DURATION_DIVISOR 10

#define NAME_CHARACTERS "a name of letters, digits, '_', '.' and '-'"

enum capacity_rule {
    CAPACITY_UNLIMITED,
    CAPACITY_ZERO,
    CAPACITY_FINITE,
};

/* Assumptions of a closed form about the scenario. */
struct model_rule {
    const char *name;
    enum dist_kind service;      /* required kind, or DIST_KIND_COUNT: any */
    bool one_server;
    enum capacity_rule capacity;
    bool wait_threshold;         /* P(wait > t) has a closed form */
};

static const struct model_rule model_rules[QUEUE_MODEL_COUNT] = {
    [QUEUE_MODEL_MM1] = { "mm1", DIST_EXPONENTIAL, true, CAPACITY_UNLIMITED, true },
    [QUEUE_MODEL_MMC] = { "mmc", DIST_EXPONENTIAL, false, CAPACITY_UNLIMITED, true },
    [QUEUE_MODEL_MD1] = { "md1", DIST_CONSTANT, true, CAPACITY_UNLIMITED, false },
    [QUEUE_MODEL_MG1] = { "mg1", DIST_KIND_COUNT, true, CAPACITY_UNLIMITED, false },
    [QUEUE_MODEL_ERLANG_B] = { "erlang_b", DIST_KIND_COUNT, false, CAPACITY_ZERO, false },
    [QUEUE_MODEL_MM1K] = { "mm1k", DIST_EXPONENTIAL, true, CAPACITY_FINITE, false },
};

/* Positions of the values that the model checks point at. */
struct loader {
    struct config config;
    struct queue_scenario *scenario;
    struct config_node root;
    struct config_node arrival;
    struct config_node service;
    struct config_node servers;
    struct config_node capacity;
    struct config_node model;
    struct config_node wait_threshold;
};

const char *queue_scenario_model_name(enum queue_model_kind model)
{
    if ((unsigned)model >= QUEUE_MODEL_COUNT)
        return "invalid";
    return model_rules[model].name;
}

double queue_scenario_arrival_rate(const struct queue_scenario *scenario)
{
    return 1 / dist_mean(&scenario->arrival);
}

bool queue_scenario_file_is_queue(const char *path)
{
    char error[512];
    struct yaml_tree *tree = yaml_tree_parse_file(path, error, sizeof error);
    if (tree == NULL)
        return false;

    bool is_queue = false;
    const struct yaml_tree_node *root = yaml_tree_root(tree);
    for (size_t i = 0; root != NULL && root->kind == YAML_TREE_MAPPING &&
                       i < root->count; i++) {
        const struct yaml_tree_node *value = root->pairs[i].value;
        if (strcmp(root->pairs[i].key->text, "kind") == 0 &&
            value->kind == YAML_TREE_SCALAR && strcmp(value->text, "queue") == 0)
            is_queue = true;
    }
    yaml_tree_free(tree);
    return is_queue;
}

/* Reads `capacity`: the word `unlimited` or a number of waiting places. */
static void load_capacity(struct loader *loader)
{
    struct queue_scenario *scenario = loader->scenario;
    const struct yaml_tree_node *node = loader->capacity.node;

    if (node != NULL && node->kind == YAML_TREE_SCALAR && !node->quoted &&
        strcmp(node->text, "unlimited") == 0) {
        scenario->unlimited = true;
        return;
    }
    scenario->unlimited = false;
    scenario->capacity = (size_t)config_int(&loader->config, &loader->capacity,
                                            0, 0, MAX_CAPACITY);
}

static void load_run_length(struct loader *loader, const struct config_node *section,
                            const struct queue_run_length *fallback,
                            struct queue_run_length *out)
{
    struct config *config = &loader->config;

    struct config_node warmup = config_get(config, section, "warmup");
    out->warmup = config_duration(config, &warmup, fallback->warmup, 0);

    struct config_node duration = config_get(config, section, "duration");
    if (fallback->duration == 0)
        duration = config_require(config, section, "duration");
    out->duration = config_duration(config, &duration, fallback->duration, 1);

    struct config_node replications = config_get(config, section, "replications");
    out->replications = (int)config_int(config, &replications, fallback->replications,
                                        2, MAX_REPLICATIONS);
    if (out->warmup > SIM_TIME_MAX / 4 || out->duration > SIM_TIME_MAX / 4)
        config_error(config, section, "warmup and duration must each be at most 26687d");
}

static void load_theory(struct loader *loader)
{
    static const char *const keys[] = { "model", "wait_threshold", NULL };
    const char *names[QUEUE_MODEL_COUNT + 1];
    struct config *config = &loader->config;
    struct queue_scenario *scenario = loader->scenario;

    for (int i = 0; i < QUEUE_MODEL_COUNT; i++)
        names[i] = model_rules[i].name;
    names[QUEUE_MODEL_COUNT] = NULL;

    struct config_node theory = config_require(config, &loader->root, "theory");
    if (!config_mapping(config, &theory, keys))
        return;
    loader->model = config_require(config, &theory, "model");
    scenario->model = (enum queue_model_kind)config_choice(config, &loader->model,
                                                           names, 0);
    loader->wait_threshold = config_get(config, &theory, "wait_threshold");
    scenario->has_wait_threshold = config_present(&loader->wait_threshold);
    scenario->wait_threshold = config_duration(config, &loader->wait_threshold, 0, 0);
}

/* Reads the arrival process and the station: distributions, servers and
 * capacity. */
static void load_station(struct loader *loader)
{
    struct config *config = &loader->config;
    struct queue_scenario *scenario = loader->scenario;
    struct config_node *root = &loader->root;

    /* Both distributions are required, so the fallback is never used. */
    struct dist none;
    dist_constant(&none, 0);
    loader->arrival = config_require(config, root, "arrival");
    config_dist(config, &loader->arrival, CONFIG_SECONDS, &none, &scenario->arrival);
    loader->service = config_require(config, root, "service");
    config_dist(config, &loader->service, CONFIG_SECONDS, &none, &scenario->service);

    loader->servers = config_get(config, root, "servers");
    scenario->servers = (int)config_int(config, &loader->servers, 1, 1, MAX_SERVERS);
    loader->capacity = config_require(config, root, "capacity");
    load_capacity(loader);
}

/* Reads the full run length from the top level and the quick one from the
 * `quick` section, whose defaults derive from the full one. */
static void load_lengths(struct loader *loader)
{
    static const char *const quick_keys[] = {
        "warmup", "duration", "replications", NULL,
    };
    struct config *config = &loader->config;
    struct queue_scenario *scenario = loader->scenario;

    struct queue_run_length required = { .warmup = 0, .duration = 0, .replications = 10 };
    load_run_length(loader, &loader->root, &required, &scenario->full);

    struct queue_run_length quick = {
        .warmup = scenario->full.warmup,
        .duration = scenario->full.duration / QUICK_DURATION_DIVISOR,
        .replications = scenario->full.replications < QUICK_REPLICATIONS
                            ? scenario->full.replications : QUICK_REPLICATIONS,
    };
    if (quick.duration < 1)
        quick.duration = 1;
    struct config_node section = config_get(config, &loader->root, "quick");
    config_mapping(config, &section, quick_keys);
    load_run_length(loader, &section, &quick, &scenario->quick);
}

static void load_keys(struct loader *loader)
{
    static const char *const keys[] = {
        "name", "kind", "seed", "arrival", "service", "servers", "capacity",
        "warmup", "duration", "replications", "theory", "quick", NULL,
    };
    static const char *const kinds[] = { "queue", NULL };
    struct config *config = &loader->config;
    struct queue_scenario *scenario = loader->scenario;
    struct config_node *root = &loader->root;

    if (!config_mapping(config, root, keys)) {
        config_error_found(config, root, "a mapping with the keys of a queue scenario");
        return;
    }
    struct config_node name = config_require(config, root, "name");
    scenario->name = config_identifier(config, &name, NAME_CHARACTERS);
    struct config_node kind = config_require(config, root, "kind");
    config_choice(config, &kind, kinds, 0);
    struct config_node seed = config_get(config, root, "seed");
    scenario->seed = (uint64_t)config_int(config, &seed, 1, 0, INT64_MAX);

    load_station(loader);
    load_lengths(loader);
    load_theory(loader);
}

/* Checks the distributions that every model needs: Poisson arrivals and
 * a service time with a positive, finite mean. */
static void check_distributions(struct loader *loader)
{
    struct config *config = &loader->config;
    struct queue_scenario *scenario = loader->scenario;
    const char *model = model_rules[scenario->model].name;

    if (scenario->arrival.kind != DIST_EXPONENTIAL || !(scenario->arrival.a > 0))
        config_error(config, &loader->arrival,
                     "model '%s' assumes Poisson arrivals, expected "
                     "{dist: exponential, mean: ...} with a mean above 0, found '%s'",
                     model, dist_kind_name(scenario->arrival.kind));

    double mean = dist_mean(&scenario->service);
    if (!(mean > 0) || !isfinite(mean))
        config_error(config, &loader->service,
                     "the mean service time is %g s, expected a finite time above 0",
                     mean);

    enum dist_kind required = model_rules[scenario->model].service;
    if (required != DIST_KIND_COUNT && scenario->service.kind != required)
        config_error(config, &loader->service,
                     "model '%s' assumes %s service times, found '%s'", model,
                     dist_kind_name(required), dist_kind_name(scenario->service.kind));

    double moment = queueing_theory_second_moment(&scenario->service);
    if (scenario->model == QUEUE_MODEL_MG1 && !isfinite(moment))
        config_error(config, &loader->service,
                     "model 'mg1' needs a service time with a finite second "
                     "moment E[S^2], and this distribution has none");
}

static void check_shape(struct loader *loader)
{
    struct config *config = &loader->config;
    struct queue_scenario *scenario = loader->scenario;
    const struct model_rule *rule = &model_rules[scenario->model];

    if (rule->one_server && scenario->servers != 1)
        config_error(config, &loader->servers,
                     "model '%s' has one server, found servers: %d", rule->name,
                     scenario->servers);
    if (rule->capacity == CAPACITY_UNLIMITED && !scenario->unlimited)
        config_error(config, &loader->capacity,
                     "model '%s' has an unlimited queue, expected capacity: unlimited",
                     rule->name);
    if (rule->capacity == CAPACITY_ZERO && (scenario->unlimited || scenario->capacity != 0))
        config_error(config, &loader->capacity,
                     "model '%s' has no waiting room, expected capacity: 0", rule->name);
    if (rule->capacity == CAPACITY_FINITE && scenario->unlimited)
        config_error(config, &loader->capacity,
                     "model '%s' has a finite queue, expected a number of waiting places",
                     rule->name);
    if (scenario->has_wait_threshold && !rule->wait_threshold)
        config_error(config, &loader->wait_threshold,
                     "model '%s' has no closed form for P(wait > t), "
                     "remove wait_threshold (only mm1 and mmc compare it)", rule->name);
}

/* An unlimited queue needs a load below the number of servers, or it
 * grows without bound and no steady state exists to compare with. */
static void check_stability(struct loader *loader)
{
    struct queue_scenario *scenario = loader->scenario;
    if (!scenario->unlimited)
        return;
    double load = queue_scenario_arrival_rate(scenario) * dist_mean(&scenario->service);
    if (!(load < scenario->servers))
        config_error(&loader->config, &loader->service,
                     "the queue is unstable: the offered load lambda E[S] = %g Erlangs "
                     "is not below servers = %d; lengthen the mean inter-arrival time, "
                     "add servers or give a finite capacity",
                     load, scenario->servers);
}

struct queue_scenario *queue_scenario_load(const char *path, FILE *errors)
{
    struct loader loader = { 0 };
    struct queue_scenario *scenario = calloc(1, sizeof *scenario);
    if (scenario == NULL) {
        fputs("mailsim: out of memory while loading a queue scenario\n", stderr);
        abort();
    }
    loader.scenario = scenario;
    dist_constant(&scenario->arrival, 0);
    dist_constant(&scenario->service, 0);
    scenario->path = strdup(path);

    if (config_open(&loader.config, path, errors)) {
        loader.root = config_root(&loader.config);
        load_keys(&loader);
        if (!config_failed(&loader.config))
            check_distributions(&loader);
        if (!config_failed(&loader.config))
            check_shape(&loader);
        if (!config_failed(&loader.config))
            check_stability(&loader);
    }
    bool failed = config_failed(&loader.config);
    config_close(&loader.config);
    if (failed || scenario->path == NULL) {
        queue_scenario_free(scenario);
        return NULL;
    }
    return scenario;
}

void queue_scenario_free(struct queue_scenario *scenario)
{
    if (scenario == NULL)
        return;
    free(scenario->name);
    free(scenario->path);
    dist_fini(&scenario->arrival);
    dist_fini(&scenario->service);
    free(scenario);
}
