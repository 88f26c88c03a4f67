#include "sim/config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/units.h"

#define CONFIG_MESSAGE_MAX 1024

static char *config_strdup(const char *text)
{
    char *copy = strdup(text);
    if (copy == NULL) {
        fputs("mailsim: out of memory while loading the scenario\n", stderr);
        abort();
    }
    return copy;
}

bool config_open(struct config *config, const char *path, FILE *errors)
{
    *config = (struct config){ .errors = errors, .file = config_strdup(path) };
    char message[CONFIG_MESSAGE_MAX];
    config->tree = yaml_tree_parse_file(path, message, sizeof message);
    if (config->tree == NULL) {
        fprintf(errors, "%s\n", message);
        config->failed = true;
        return false;
    }
    return true;
}

void config_close(struct config *config)
{
    yaml_tree_free(config->tree);
    free(config->file);
    config->tree = NULL;
    config->file = NULL;
}

bool config_failed(const struct config *config)
{
    return config->failed;
}

static struct config_node node_at(const struct yaml_tree_node *node, int line,
                                  int column)
{
    struct config_node result = { .node = node, .line = line, .column = column };
    return result;
}

struct config_node config_root(const struct config *config)
{
    const struct yaml_tree_node *root = yaml_tree_root(config->tree);
    return node_at(root, root->line, root->column);
}

void config_error(struct config *config, const struct config_node *at,
                  const char *format, ...)
{
    if (config->failed)
        return;
    config->failed = true;
    fprintf(config->errors, "%s:%d:%d: ", config->file, at->line, at->column);
    if (at->path[0] != '\0')
        fprintf(config->errors, "%s: ", at->path);
    va_list args;
    va_start(args, format);
    vfprintf(config->errors, format, args);
    va_end(args);
    fputc('\n', config->errors);
}

bool config_present(const struct config_node *node)
{
    return node->node != NULL;
}

/* Describes the value of a node for "found ..., expected ..." messages. */
static const char *describe(const struct yaml_tree_node *node, char *buffer,
                            size_t size)
{
    if (node->kind == YAML_TREE_MAPPING)
        return "a mapping";
    if (node->kind == YAML_TREE_SEQUENCE)
        return "a sequence";
    if (yaml_tree_is_null(node))
        return "nothing";
    snprintf(buffer, size, "%s'%s'", node->quoted ? "the quoted string " : "",
             node->text);
    return buffer;
}

void config_error_found(struct config *config, const struct config_node *at,
                        const char *expected)
{
    if (at->node == NULL) {
        config_error(config, at, "missing value, expected %s", expected);
        return;
    }
    char buffer[CONFIG_MESSAGE_MAX / 2];
    config_error(config, at, "found %s, expected %s",
                 describe(at->node, buffer, sizeof buffer), expected);
}

/* Writes parent + separator + part into `path`, cutting what does not fit:
 * a truncated path still locates the error, with the line and column. */
static void path_build(char *path, const char *parent, const char *separator,
                       const char *part)
{
    const char *pieces[] = { parent, separator, part };
    size_t used = 0;
    for (size_t i = 0; i < 3; i++) {
        size_t length = strlen(pieces[i]);
        if (length > CONFIG_PATH_MAX - 1 - used)
            length = CONFIG_PATH_MAX - 1 - used;
        memmove(path + used, pieces[i], length);
        used += length;
    }
    path[used] = '\0';
}

static void join_path(char *path, const char *parent, const char *key)
{
    path_build(path, parent, parent[0] == '\0' ? "" : ".", key);
}

/* Joins a NULL-terminated list as "a, b, c". */
static void join_names(char *buffer, size_t size, const char *const *names)
{
    size_t used = 0;
    buffer[0] = '\0';
    for (size_t i = 0; names[i] != NULL && used < size; i++) {
        int written = snprintf(buffer + used, size - used, "%s%s",
                               i > 0 ? ", " : "", names[i]);
        if (written < 0)
            break;
        used += (size_t)written;
    }
}

static bool is_listed(const char *text, const char *const *names)
{
    for (size_t i = 0; names[i] != NULL; i++) {
        if (strcmp(text, names[i]) == 0)
            return true;
    }
    return false;
}

bool config_mapping(struct config *config, const struct config_node *node,
                    const char *const *allowed)
{
    if (config->failed || node->node == NULL)
        return false;
    if (node->node->kind != YAML_TREE_MAPPING) {
        config_error_found(config, node, "a mapping");
        return false;
    }
    for (size_t i = 0; i < node->node->count; i++) {
        const struct yaml_tree_node *key = node->node->pairs[i].key;
        if (is_listed(key->text, allowed))
            continue;
        char names[CONFIG_MESSAGE_MAX / 2];
        join_names(names, sizeof names, allowed);
        struct config_node at = node_at(key, key->line, key->column);
        memcpy(at.path, node->path, sizeof at.path);
        config_error(config, &at, "unknown key '%s', expected one of: %s",
                     key->text, names);
        return false;
    }
    return true;
}

/* A pair's value as a config node.  A null value counts as absent and is
 * positioned at its key, so that errors point at the line of the key. */
static struct config_node pair_value(const struct config_node *mapping,
                                     const struct yaml_tree_pair *pair)
{
    const struct yaml_tree_node *value = pair->value;
    struct config_node result;
    if (yaml_tree_is_null(value))
        result = node_at(NULL, pair->key->line, pair->key->column);
    else
        result = node_at(value, value->line, value->column);
    join_path(result.path, mapping->path, pair->key->text);
    return result;
}

static const struct yaml_tree_pair *find_pair(const struct yaml_tree_node *mapping,
                                              const char *key)
{
    for (size_t i = 0; i < mapping->count; i++) {
        if (strcmp(mapping->pairs[i].key->text, key) == 0)
            return &mapping->pairs[i];
    }
    return NULL;
}

struct config_node config_get(struct config *config,
                              const struct config_node *mapping, const char *key)
{
    struct config_node absent = node_at(NULL, mapping->line, mapping->column);
    join_path(absent.path, mapping->path, key);
    if (mapping->node == NULL)
        return absent;
    if (mapping->node->kind != YAML_TREE_MAPPING) {
        config_error_found(config, mapping, "a mapping");
        return absent;
    }
    const struct yaml_tree_pair *pair = find_pair(mapping->node, key);
    return pair != NULL ? pair_value(mapping, pair) : absent;
}

struct config_node config_require(struct config *config,
                                  const struct config_node *mapping,
                                  const char *key)
{
    struct config_node value = config_get(config, mapping, key);
    if (value.node != NULL || mapping->node == NULL ||
        mapping->node->kind != YAML_TREE_MAPPING)
        return value;
    if (find_pair(mapping->node, key) != NULL)
        config_error(config, &value, "missing value");
    else
        config_error(config, mapping, "missing required key '%s'", key);
    return value;
}

size_t config_mapping_size(const struct config_node *mapping)
{
    if (mapping->node == NULL || mapping->node->kind != YAML_TREE_MAPPING)
        return 0;
    return mapping->node->count;
}

void config_entry(const struct config_node *mapping, size_t index,
                  struct config_node *key, struct config_node *value)
{
    const struct yaml_tree_pair *pair = &mapping->node->pairs[index];
    *value = pair_value(mapping, pair);
    *key = node_at(pair->key, pair->key->line, pair->key->column);
    memcpy(key->path, value->path, sizeof key->path);
}

size_t config_sequence(struct config *config, const struct config_node *node)
{
    if (config->failed || node->node == NULL)
        return 0;
    if (node->node->kind != YAML_TREE_SEQUENCE) {
        config_error_found(config, node, "a sequence");
        return 0;
    }
    return node->node->count;
}

struct config_node config_item(const struct config_node *sequence, size_t index)
{
    const struct yaml_tree_node *item = sequence->node->items[index];
    struct config_node result = node_at(item, item->line, item->column);
    char index_text[32];
    snprintf(index_text, sizeof index_text, "[%zu]", index);
    path_build(result.path, sequence->path, "", index_text);
    return result;
}

/* The scalar of a present node, or NULL after reporting what was found
 * instead.  `plain` rejects quoted scalars: numbers and booleans are
 * written without quotes. */
static const struct yaml_tree_node *scalar(struct config *config,
                                           const struct config_node *node,
                                           const char *expected, bool plain)
{
    if (config->failed || node->node == NULL)
        return NULL;
    const struct yaml_tree_node *value = node->node;
    if (value->kind != YAML_TREE_SCALAR || yaml_tree_is_null(value) ||
        (plain && value->quoted)) {
        config_error_found(config, node, expected);
        return NULL;
    }
    return value;
}

char *config_string(struct config *config, const struct config_node *node,
                    const char *fallback, const char *expected)
{
    const struct yaml_tree_node *value = scalar(config, node, expected, false);
    if (value == NULL)
        return fallback != NULL ? config_strdup(fallback) : NULL;
    if (value->length == 0 || strlen(value->text) != value->length) {
        config_error_found(config, node, expected);
        return fallback != NULL ? config_strdup(fallback) : NULL;
    }
    return config_strdup(value->text);
}

/* [A-Za-z0-9_.-]+ except "." and "..", so that the name is safe as one
 * component of a file path. */
static bool valid_identifier(const char *name)
{
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (const char *p = name; *p != '\0'; p++) {
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
            !(*p >= '0' && *p <= '9') && *p != '_' && *p != '.' && *p != '-')
            return false;
    }
    return true;
}

/* Dot-separated non-empty labels of letters, digits and '-'. */
static bool valid_hostname(const char *name)
{
    size_t label = 0;
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || *p == '-') {
            label++;
        } else {
            return false;
        }
    }
    return label > 0;
}

/* A required string that `valid` accepts; NULL when absent or invalid. */
static char *checked_string(struct config *config, const struct config_node *node,
                            bool (*valid)(const char *), const char *expected)
{
    char *text = config_string(config, node, NULL, expected);
    if (text != NULL && !valid(text)) {
        config_error(config, node, "found '%s', expected %s", text, expected);
        free(text);
        return NULL;
    }
    return text;
}

char *config_identifier(struct config *config, const struct config_node *node,
                        const char *expected)
{
    return checked_string(config, node, valid_identifier, expected);
}

char *config_hostname(struct config *config, const struct config_node *node)
{
    return checked_string(config, node, valid_hostname,
                          "a host name such as mx1.alpha.example");
}

int config_choice(struct config *config, const struct config_node *node,
                  const char *const *names, int fallback)
{
    char list[CONFIG_MESSAGE_MAX / 2];
    char expected[CONFIG_MESSAGE_MAX / 2 + 16];
    join_names(list, sizeof list, names);
    snprintf(expected, sizeof expected, "one of: %s", list);

    const struct yaml_tree_node *value = scalar(config, node, expected, false);
    if (value == NULL)
        return fallback;
    for (int i = 0; names[i] != NULL; i++) {
        if (strcmp(value->text, names[i]) == 0)
            return i;
    }
    config_error_found(config, node, expected);
    return fallback;
}

static bool parse_int(const char *text, int64_t *value)
{
    const char *digits = text[0] == '-' || text[0] == '+' ? text + 1 : text;
    if (digits[0] < '0' || digits[0] > '9')
        return false;
    for (const char *p = digits; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
    }
    errno = 0;
    long long parsed = strtoll(text, NULL, 10);
    if (errno == ERANGE)
        return false;
    *value = parsed;
    return true;
}

int64_t config_int(struct config *config, const struct config_node *node,
                   int64_t fallback, int64_t min, int64_t max)
{
    char expected[96];
    if (max == INT64_MAX)
        snprintf(expected, sizeof expected, "an integer >= %" PRId64, min);
    else
        snprintf(expected, sizeof expected, "an integer from %" PRId64 " to %" PRId64,
                 min, max);

    const struct yaml_tree_node *value = scalar(config, node, expected, true);
    int64_t parsed = 0;
    if (value == NULL)
        return fallback;
    if (!parse_int(value->text, &parsed) || parsed < min || parsed > max) {
        config_error_found(config, node, expected);
        return fallback;
    }
    return parsed;
}

double config_double(struct config *config, const struct config_node *node,
                     double fallback, double min, double max, bool above_min)
{
    char expected[96];
    const char *lower = above_min ? ">" : ">=";
    if (isinf(min) && isinf(max))
        snprintf(expected, sizeof expected, "a number");
    else if (isinf(max))
        snprintf(expected, sizeof expected, "a number %s %g", lower, min);
    else if (above_min)
        snprintf(expected, sizeof expected, "a number > %g and <= %g", min, max);
    else
        snprintf(expected, sizeof expected, "a number from %g to %g", min, max);

    const struct yaml_tree_node *value = scalar(config, node, expected, true);
    double parsed = 0;
    if (value == NULL)
        return fallback;
    if (!units_parse_number(value->text, &parsed) || parsed < min ||
        parsed > max || (above_min && parsed == min)) {
        config_error_found(config, node, expected);
        return fallback;
    }
    return parsed;
}

bool config_bool(struct config *config, const struct config_node *node,
                 bool fallback)
{
    static const char *const spellings[] = {
        "false", "False", "FALSE", "true", "True", "TRUE", NULL,
    };
    const struct yaml_tree_node *value = scalar(config, node, "true or false", true);
    if (value == NULL)
        return fallback;
    for (int i = 0; spellings[i] != NULL; i++) {
        if (strcmp(value->text, spellings[i]) == 0)
            return i >= 3;
    }
    config_error_found(config, node, "true or false");
    return fallback;
}

/* Formats a duration with the largest unit that divides it exactly. */
static void format_duration(char *buffer, size_t size, sim_time duration)
{
    static const struct {
        const char *name;
        sim_time length;
    } units[] = {
        { "d", SIM_DAY }, { "h", SIM_HOUR }, { "m", SIM_MIN }, { "s", SIM_SEC },
        { "ms", SIM_MS }, { "us", SIM_US },
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (duration != 0 && duration % units[i].length == 0) {
            snprintf(buffer, size, "%" PRId64 "%s", duration / units[i].length,
                     units[i].name);
            return;
        }
    }
    snprintf(buffer, size, "%" PRId64 "ns", duration);
}

sim_time config_duration(struct config *config, const struct config_node *node,
                         sim_time fallback, sim_time min)
{
    const struct yaml_tree_node *value =
        scalar(config, node, "a duration such as 250ms, 5m or 4h", false);
    if (value == NULL)
        return fallback;
    char message[CONFIG_MESSAGE_MAX / 2];
    sim_time parsed = 0;
    if (!units_parse_duration(value->text, &parsed, message, sizeof message)) {
        config_error(config, node, "%s", message);
        return fallback;
    }
    if (parsed < min) {
        char bound[32];
        format_duration(bound, sizeof bound, min);
        if (min == 1)
            config_error(config, node, "found '%s', expected a duration > 0",
                         value->text);
        else
            config_error(config, node, "found '%s', expected a duration >= %s",
                         value->text, bound);
        return fallback;
    }
    return parsed;
}

uint64_t config_size(struct config *config, const struct config_node *node,
                     uint64_t fallback, uint64_t min)
{
    const struct yaml_tree_node *value =
        scalar(config, node, "a size such as 75KB, 10MB or 25MiB", false);
    if (value == NULL)
        return fallback;
    char message[CONFIG_MESSAGE_MAX / 2];
    uint64_t parsed = 0;
    if (!units_parse_size(value->text, &parsed, message, sizeof message)) {
        config_error(config, node, "%s", message);
        return fallback;
    }
    if (parsed < min) {
        if (min == 1)
            config_error(config, node, "found '%s', expected a size > 0",
                         value->text);
        else
            config_error(config, node, "found '%s', expected a size >= %" PRIu64 "B",
                         value->text, min);
        return fallback;
    }
    return parsed;
}

double config_rate(struct config *config, const struct config_node *node,
                   double fallback, bool positive)
{
    const struct yaml_tree_node *value =
        scalar(config, node, "a rate such as 20/s, 5/min, 30/h or 100/d", false);
    if (value == NULL)
        return fallback;
    char message[CONFIG_MESSAGE_MAX / 2];
    double parsed = 0;
    if (!units_parse_rate(value->text, &parsed, message, sizeof message)) {
        config_error(config, node, "%s", message);
        return fallback;
    }
    if (positive && parsed == 0) {
        config_error(config, node, "found '%s', expected a rate > 0", value->text);
        return fallback;
    }
    return parsed;
}

double config_bandwidth(struct config *config, const struct config_node *node,
                        double fallback)
{
    const struct yaml_tree_node *value =
        scalar(config, node, "a bandwidth such as 100Mbit/s or 1Gbit/s", false);
    if (value == NULL)
        return fallback;
    char message[CONFIG_MESSAGE_MAX / 2];
    double parsed = 0;
    if (!units_parse_bandwidth(value->text, &parsed, message, sizeof message)) {
        config_error(config, node, "%s", message);
        return fallback;
    }
    if (parsed == 0) {
        config_error(config, node, "found '%s', expected a bandwidth > 0",
                     value->text);
        return fallback;
    }
    return parsed;
}

/* A distribution parameter measured in the distribution's quantity:
 * seconds and bytes need units, plain numbers must have none.  Values are
 * non-negative; with `positive` zero is rejected too. */
static double dist_value(struct config *config, const struct config_node *node,
                         enum config_quantity quantity, bool positive)
{
    switch (quantity) {
    case CONFIG_SECONDS:
        return sim_time_to_seconds(config_duration(config, node, 0, positive ? 1 : 0));
    case CONFIG_BYTES:
        return (double)config_size(config, node, 0, positive ? 1 : 0);
    case CONFIG_NUMBER:
    default:
        return config_double(config, node, 0, 0, INFINITY, positive);
    }
}

/* A shape parameter: a plain number > 0 whatever the quantity. */
static double dist_shape(struct config *config, const struct config_node *node)
{
    return config_double(config, node, 1, 0, INFINITY, true);
}

static void dist_uniform(struct config *config, const struct config_node *node,
                         enum config_quantity quantity, struct dist *out)
{
    struct config_node min_node = config_require(config, node, "min");
    struct config_node max_node = config_require(config, node, "max");
    double min = dist_value(config, &min_node, quantity, false);
    double max = dist_value(config, &max_node, quantity, false);
    if (!config->failed && max < min)
        config_error(config, &max_node, "found '%s', expected a value >= min ('%s')",
                     max_node.node->text, min_node.node->text);
    *out = (struct dist){ .kind = DIST_UNIFORM, .a = min, .b = max };
}

/* Lognormal accepts either the moments of the value (mean, stddev, with
 * units) or the parameters of its logarithm (mu, sigma, plain numbers). */
static void dist_lognormal(struct config *config, const struct config_node *node,
                           enum config_quantity quantity, struct dist *out)
{
    struct config_node mu_node = config_get(config, node, "mu");
    struct config_node sigma_node = config_get(config, node, "sigma");
    struct config_node mean_node = config_get(config, node, "mean");
    struct config_node stddev_node = config_get(config, node, "stddev");
    bool log_form = config_present(&mu_node) || config_present(&sigma_node);

    if (log_form && (config_present(&mean_node) || config_present(&stddev_node))) {
        config_error(config, node,
                     "give either mean and stddev or mu and sigma, not both");
        return;
    }
    if (log_form) {
        mu_node = config_require(config, node, "mu");
        sigma_node = config_require(config, node, "sigma");
        double mu = config_double(config, &mu_node, 0, -INFINITY, INFINITY, false);
        double sigma = config_double(config, &sigma_node, 0, 0, INFINITY, false);
        *out = (struct dist){ .kind = DIST_LOGNORMAL, .a = mu, .b = sigma };
        return;
    }
    mean_node = config_require(config, node, "mean");
    stddev_node = config_require(config, node, "stddev");
    double mean = dist_value(config, &mean_node, quantity, true);
    double stddev = dist_value(config, &stddev_node, quantity, false);
    if (!config->failed)
        dist_lognormal_from_moments(out, mean, stddev);
}

/* One [value, cumulative] point of an empirical table, checked against the
 * point before it. */
static bool empirical_point(struct config *config, const struct config_node *item,
                            enum config_quantity quantity, size_t index,
                            struct dist_point *points)
{
    if (item->node->kind != YAML_TREE_SEQUENCE || item->node->count != 2) {
        config_error_found(config, item, "a pair [value, cumulative probability]");
        return false;
    }
    struct config_node value_node = config_item(item, 0);
    struct config_node cumulative_node = config_item(item, 1);
    double value = dist_value(config, &value_node, quantity, false);
    double cumulative = config_double(config, &cumulative_node, 0, 0, 1, false);
    if (config->failed)
        return false;
    if (index > 0 && value <= points[index - 1].value) {
        config_error(config, &value_node,
                     "found '%s', expected a value greater than the previous point's",
                     value_node.node->text);
        return false;
    }
    if (index > 0 && cumulative < points[index - 1].cumulative) {
        config_error(config, &cumulative_node,
                     "found '%s', expected a cumulative probability >= the previous point's",
                     cumulative_node.node->text);
        return false;
    }
    points[index] = (struct dist_point){ value, cumulative };
    return true;
}

static void dist_table(struct config *config, const struct config_node *node,
                       enum config_quantity quantity, struct dist *out)
{
    struct config_node list = config_require(config, node, "points");
    size_t count = config_sequence(config, &list);
    if (config->failed)
        return;
    if (count == 0) {
        config_error(config, &list, "found an empty list, expected at least one point");
        return;
    }
    struct dist_point *points = calloc(count, sizeof *points);
    if (points == NULL)
        abort();
    for (size_t i = 0; i < count; i++) {
        struct config_node item = config_item(&list, i);
        if (!empirical_point(config, &item, quantity, i, points)) {
            free(points);
            return;
        }
    }
    if (fabs(points[count - 1].cumulative - 1) > 1e-9) {
        struct config_node last = config_item(&list, count - 1);
        struct config_node cumulative = config_item(&last, 1);
        config_error(config, &cumulative,
                     "found '%s', expected the last cumulative probability to be 1",
                     cumulative.node->text);
        free(points);
        return;
    }
    const char *problem = dist_empirical_check(points, count);
    if (problem != NULL) {
        config_error(config, &list, "%s", problem);
        free(points);
        return;
    }
    dist_empirical(out, points, count);
}

/* The keys each kind accepts besides "dist". */
static const char *const *dist_keys(enum dist_kind kind)
{
    static const char *const keys[DIST_KIND_COUNT][6] = {
        [DIST_CONSTANT] = { "dist", "value", NULL },
        [DIST_UNIFORM] = { "dist", "min", "max", NULL },
        [DIST_EXPONENTIAL] = { "dist", "mean", NULL },
        [DIST_NORMAL] = { "dist", "mean", "stddev", NULL },
        [DIST_LOGNORMAL] = { "dist", "mean", "stddev", "mu", "sigma", NULL },
        [DIST_PARETO] = { "dist", "shape", "scale", NULL },
        [DIST_WEIBULL] = { "dist", "shape", "scale", NULL },
        [DIST_EMPIRICAL] = { "dist", "points", NULL },
    };
    return keys[kind];
}

static void dist_parameters(struct config *config, const struct config_node *node,
                            enum dist_kind kind, enum config_quantity quantity,
                            struct dist *out)
{
    /* The first parameter of the kinds that have a single form. */
    struct config_node first = { .node = NULL };
    if (kind != DIST_UNIFORM && kind != DIST_LOGNORMAL && kind != DIST_EMPIRICAL)
        first = config_require(config, node, dist_keys(kind)[1]);
    switch (kind) {
    case DIST_CONSTANT:
        dist_constant(out, dist_value(config, &first, quantity, false));
        break;
    case DIST_UNIFORM:
        dist_uniform(config, node, quantity, out);
        break;
    case DIST_EXPONENTIAL:
        *out = (struct dist){ .kind = kind,
                              .a = dist_value(config, &first, quantity, true) };
        break;
    case DIST_NORMAL: {
        struct config_node stddev = config_require(config, node, "stddev");
        double mean = dist_value(config, &first, quantity, true);
        *out = (struct dist){ .kind = kind, .a = mean,
                              .b = dist_value(config, &stddev, quantity, false) };
        break;
    }
    case DIST_LOGNORMAL:
        dist_lognormal(config, node, quantity, out);
        break;
    case DIST_PARETO:
    case DIST_WEIBULL: {
        struct config_node scale = config_require(config, node, "scale");
        double shape = dist_shape(config, &first);
        *out = (struct dist){ .kind = kind, .a = shape,
                              .b = dist_value(config, &scale, quantity, true) };
        break;
    }
    case DIST_EMPIRICAL:
    default:
        dist_table(config, node, quantity, out);
        break;
    }
}

static void dist_mapping(struct config *config, const struct config_node *node,
                         enum config_quantity quantity, struct dist *out)
{
    const char *names[DIST_KIND_COUNT + 1];
    for (int i = 0; i < DIST_KIND_COUNT; i++)
        names[i] = dist_kind_name((enum dist_kind)i);
    names[DIST_KIND_COUNT] = NULL;

    struct config_node kind_node = config_require(config, node, "dist");
    enum dist_kind kind = (enum dist_kind)config_choice(config, &kind_node, names, 0);
    if (config->failed || !config_mapping(config, node, dist_keys(kind)))
        return;
    /* The lognormal key check runs first so that a misspelt "mean" is
     * reported as unknown rather than as a missing "mu". */
    dist_parameters(config, node, kind, quantity, out);
}

void config_dist(struct config *config, const struct config_node *node,
                 enum config_quantity quantity, const struct dist *fallback,
                 struct dist *out)
{
    dist_constant(out, 0);
    if (config->failed)
        return;
    if (node->node == NULL) {
        dist_copy(out, fallback);
        return;
    }
    if (node->node->kind == YAML_TREE_SCALAR) {
        dist_constant(out, dist_value(config, node, quantity, false));
        return;
    }
    if (node->node->kind == YAML_TREE_MAPPING) {
        dist_mapping(config, node, quantity, out);
        if (config->failed) {
            dist_fini(out);
            dist_constant(out, 0);
        }
        return;
    }
    config_error_found(config, node,
                "a distribution: a value, or a mapping such as {dist: exponential, mean: 30ms}");
}
