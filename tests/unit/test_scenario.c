/*
 * Scenario loading: the YAML tree, the typed config getters and the
 * scenario schema, from a valid file with defaults to every malformed file
 * in tests/bad.  Run from the repository root, as `make test` does.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/scenario.h"
#include "sim/config.h"
#include "sim/yaml_tree.h"
#include "tests/unit/test_util.h"

static char *read_all(FILE *file)
{
    size_t capacity = 4096;
    size_t length = 0;
    char *text = malloc(capacity);
    ck_assert_ptr_nonnull(text);
    size_t got;
    while ((got = fread(text + length, 1, capacity - length - 1, file)) > 0) {
        length += got;
        if (capacity - length < 2) {
            capacity *= 2;
            text = realloc(text, capacity);
            ck_assert_ptr_nonnull(text);
        }
    }
    text[length] = '\0';
    return text;
}

static char *read_path(const char *path)
{
    FILE *file = fopen(path, "rb");
    ck_assert_msg(file != NULL, "cannot open %s (run from the repository root)", path);
    char *text = read_all(file);
    fclose(file);
    return text;
}

static struct yaml_tree *parse(const char *text, char *error, size_t size)
{
    error[0] = '\0';
    return yaml_tree_parse_string("t.yaml", text, strlen(text), error, size);
}

static void assert_parse_error(const char *text, const char *expected)
{
    char error[512];
    struct yaml_tree *tree = parse(text, error, sizeof error);
    ck_assert_ptr_null(tree);
    ck_assert_str_eq(error, expected);
}

START_TEST(tree_marks_and_styles)
{
    char error[512];
    struct yaml_tree *tree = parse("a: 1\nb:\n  - 'x'\n  - y\n", error, sizeof error);
    ck_assert_msg(tree != NULL, "%s", error);
    const struct yaml_tree_node *root = yaml_tree_root(tree);
    ck_assert_int_eq(root->kind, YAML_TREE_MAPPING);
    ck_assert_uint_eq(root->count, 2);
    ck_assert_str_eq(root->pairs[1].key->text, "b");
    ck_assert_int_eq(root->pairs[1].key->line, 2);
    ck_assert_int_eq(root->pairs[1].key->column, 1);

    const struct yaml_tree_node *list = yaml_tree_lookup(root, "b");
    ck_assert_int_eq(list->kind, YAML_TREE_SEQUENCE);
    ck_assert_uint_eq(list->count, 2);
    ck_assert_str_eq(list->items[0]->text, "x");
    ck_assert(list->items[0]->quoted);
    ck_assert(!list->items[1]->quoted);
    ck_assert_int_eq(list->items[1]->line, 4);
    ck_assert_int_eq(list->items[1]->column, 5);
    ck_assert_ptr_null(yaml_tree_lookup(root, "c"));
    yaml_tree_free(tree);
}
END_TEST

START_TEST(tree_null_spellings)
{
    char error[512];
    struct yaml_tree *tree = parse("a:\nb: ~\nc: null\nd: ''\ne: Null\n", error,
                                   sizeof error);
    ck_assert_msg(tree != NULL, "%s", error);
    const struct yaml_tree_node *root = yaml_tree_root(tree);
    ck_assert(yaml_tree_is_null(yaml_tree_lookup(root, "a")));
    ck_assert(yaml_tree_is_null(yaml_tree_lookup(root, "b")));
    ck_assert(yaml_tree_is_null(yaml_tree_lookup(root, "c")));
    ck_assert(!yaml_tree_is_null(yaml_tree_lookup(root, "d")));
    ck_assert(yaml_tree_is_null(yaml_tree_lookup(root, "e")));
    yaml_tree_free(tree);
}
END_TEST

START_TEST(tree_alias_shares_node)
{
    char error[512];
    struct yaml_tree *tree = parse("a: &x {k: 1}\nb: *x\nc: [*x, *x]\n", error,
                                   sizeof error);
    ck_assert_msg(tree != NULL, "%s", error);
    const struct yaml_tree_node *root = yaml_tree_root(tree);
    const struct yaml_tree_node *anchored = yaml_tree_lookup(root, "a");
    ck_assert_ptr_eq(yaml_tree_lookup(root, "b"), anchored);
    ck_assert_ptr_eq(yaml_tree_lookup(root, "c")->items[1], anchored);
    /* An anchor may be redefined; later aliases use the new node. */
    yaml_tree_free(tree);
    tree = parse("a: &x 1\nb: &x 2\nc: *x\n", error, sizeof error);
    ck_assert_msg(tree != NULL, "%s", error);
    ck_assert_str_eq(yaml_tree_lookup(yaml_tree_root(tree), "c")->text, "2");
    yaml_tree_free(tree);
}
END_TEST

START_TEST(tree_rejects_bad_structure)
{
    assert_parse_error("a: 1\nb: 2\na: 3\n",
                       "t.yaml:3:1: duplicate key 'a', first defined at line 1, column 1");
    assert_parse_error("a: 1\n---\nb: 2\n",
                       "t.yaml:2:1: a second YAML document starts here, "
                       "expected one document per file");
    assert_parse_error("", "t.yaml:1:1: the file is empty, expected a YAML document");
    assert_parse_error("? [a]\n: 1\n", "t.yaml:1:3: mapping key is a sequence, expected a scalar");
    assert_parse_error("a: *nowhere\n",
                       "t.yaml:1:4: alias '*nowhere' refers to an undefined anchor");
    assert_parse_error("a: !!str 5\n",
                       "t.yaml:1:4: YAML tag 'tag:yaml.org,2002:str' is not supported, remove it");
    assert_parse_error("a: [1, 2\n",
                       "t.yaml:2:1: did not find expected ',' or ']' "
                       "(while parsing a flow sequence at line 1, column 4)");
}
END_TEST

START_TEST(tree_nesting_limit)
{
    char text[300];
    char error[512];
    /* The root mapping is level 1, so 63 brackets reach the limit of 64. */
    snprintf(text, sizeof text, "a: %.63s%.63s\n",
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    struct yaml_tree *tree = parse(text, error, sizeof error);
    ck_assert_msg(tree != NULL, "%s", error);
    yaml_tree_free(tree);

    snprintf(text, sizeof text, "a: %.64s%.64s\n",
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    assert_parse_error(text, "t.yaml:1:67: nesting is deeper than the limit of 64 levels");
}
END_TEST

START_TEST(tree_alias_expansion_limit)
{
    /* Level k of ten aliases each expands to about 10^k nodes. */
    const char *text =
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
    char error[512];
    struct yaml_tree *tree = parse(text, error, sizeof error);
    ck_assert_msg(tree != NULL, "%s", error);
    yaml_tree_free(tree);

    /* f's list reaches 1 + 10 * 111111 nodes at its tenth alias. */
    char bigger[1024];
    snprintf(bigger, sizeof bigger,
             "%sf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n", text);
    assert_parse_error(bigger, "t.yaml:6:44: alias expansion exceeds 1000000 nodes");
}
END_TEST

START_TEST(tree_size_limit)
{
    size_t length = YAML_TREE_MAX_BYTES + 1;
    char *text = malloc(length);
    ck_assert_ptr_nonnull(text);
    memset(text, ' ', length);
    char error[512];
    ck_assert_ptr_null(yaml_tree_parse_string("big.yaml", text, length, error,
                                              sizeof error));
    ck_assert_str_eq(error, "big.yaml: the file is larger than the limit of 16 MiB");
    free(text);
}
END_TEST

START_TEST(tree_utf8_errors)
{
    assert_parse_error("a: caf\xe9 x\n",
                       "t.yaml:1:7: invalid UTF-8: byte 0xE9 followed by 0x20; "
                       "the file must be UTF-8 text");
    assert_parse_error("a: caf\xe9\n",
                       "t.yaml:1:7: incomplete UTF-8 octet sequence; "
                       "the file must be UTF-8 text");
    assert_parse_error("a: \xe2\x82\xac\xff\n",
                       "t.yaml:1:5: invalid leading UTF-8 octet (0xFF); "
                       "the file must be UTF-8 text");
    /* A UTF-16 byte-order mark must not switch the decoder. */
    assert_parse_error("\xff\xfe" "a\0:\0",
                       "t.yaml:1:1: invalid leading UTF-8 octet (0xFF); "
                       "the file must be UTF-8 text");
    char error[512];
    struct yaml_tree *tree = parse("\xef\xbb\xbfname: caf\xc3\xa9\n", error, sizeof error);
    ck_assert_msg(tree != NULL, "%s", error);
    ck_assert_str_eq(yaml_tree_lookup(yaml_tree_root(tree), "name")->text, "caf\xc3\xa9");
    yaml_tree_free(tree);
}
END_TEST

/* Writes `text` to a new temporary file and returns its malloc'ed path. */
static char *temp_file(const char *text)
{
    char *path = strdup("/tmp/mailsim-test-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *file = fdopen(fd, "w");
    fputs(text, file);
    fclose(file);
    return path;
}

/* Loads key `d` of a one-line YAML file as a distribution; returns the
 * error line, or "" on success. */
static const char *load_dist(const char *yaml, enum config_quantity quantity,
                             struct dist *out)
{
    static char message[512];
    char *path = temp_file(yaml);
    FILE *errors = tmpfile();
    struct config config;
    if (config_open(&config, path, errors)) {
        struct config_node root = config_root(&config);
        struct config_node node = config_get(&config, &root, "d");
        struct dist fallback;
        dist_constant(&fallback, 99);
        config_dist(&config, &node, quantity, &fallback, out);
    }
    config_close(&config);
    rewind(errors);
    char *text = read_all(errors);
    fclose(errors);
    const char *tail = strstr(text, ": ");
    snprintf(message, sizeof message, "%s", tail != NULL ? tail + 2 : text);
    message[strcspn(message, "\n")] = '\0';
    free(text);
    unlink(path);
    free(path);
    return message;
}

START_TEST(dist_every_kind)
{
    struct dist d;
    ck_assert_str_eq(load_dist("d: 30ms\n", CONFIG_SECONDS, &d), "");
    ck_assert_int_eq(d.kind, DIST_CONSTANT);
    ck_assert_double_eq_tol(d.a, 0.030, 1e-12);

    ck_assert_str_eq(load_dist("x: 1\n", CONFIG_SECONDS, &d), "");
    ck_assert_double_eq(d.a, 99);

    ck_assert_str_eq(load_dist("d: {dist: constant, value: 2KB}\n", CONFIG_BYTES, &d), "");
    ck_assert_double_eq(d.a, 2000);

    ck_assert_str_eq(load_dist("d: {dist: uniform, min: 1s, max: 3s}\n", CONFIG_SECONDS, &d), "");
    ck_assert_int_eq(d.kind, DIST_UNIFORM);
    ck_assert_double_eq_tol(d.a, 1, 1e-12);
    ck_assert_double_eq_tol(d.b, 3, 1e-12);

    ck_assert_str_eq(load_dist("d: {dist: exponential, mean: 250ms}\n", CONFIG_SECONDS, &d), "");
    ck_assert_int_eq(d.kind, DIST_EXPONENTIAL);
    ck_assert_double_eq_tol(d.a, 0.25, 1e-12);

    ck_assert_str_eq(load_dist("d: {dist: normal, mean: 10ms, stddev: 2ms}\n",
                               CONFIG_SECONDS, &d), "");
    ck_assert_int_eq(d.kind, DIST_NORMAL);
    ck_assert_double_eq_tol(d.a, 0.010, 1e-12);
    ck_assert_double_eq_tol(d.b, 0.002, 1e-12);

    ck_assert_str_eq(load_dist("d: {dist: pareto, shape: 1.5, scale: 1KiB}\n",
                               CONFIG_BYTES, &d), "");
    ck_assert_int_eq(d.kind, DIST_PARETO);
    ck_assert_double_eq(d.a, 1.5);
    ck_assert_double_eq(d.b, 1024);

    ck_assert_str_eq(load_dist("d: {dist: weibull, shape: 2, scale: 1m}\n",
                               CONFIG_SECONDS, &d), "");
    ck_assert_int_eq(d.kind, DIST_WEIBULL);
    ck_assert_double_eq(d.a, 2);
    ck_assert_double_eq_tol(d.b, 60, 1e-9);
}
END_TEST

START_TEST(dist_lognormal_forms)
{
    struct dist d;
    ck_assert_str_eq(load_dist("d: {dist: lognormal, mu: -3.5, sigma: 0.5}\n",
                               CONFIG_SECONDS, &d), "");
    ck_assert_int_eq(d.kind, DIST_LOGNORMAL);
    ck_assert_double_eq(d.a, -3.5);
    ck_assert_double_eq(d.b, 0.5);

    ck_assert_str_eq(load_dist("d: {dist: lognormal, mean: 50ms, stddev: 30ms}\n",
                               CONFIG_SECONDS, &d), "");
    double sigma2 = log(1 + 0.03 * 0.03 / (0.05 * 0.05));
    ck_assert_double_eq_tol(d.b, sqrt(sigma2), 1e-9);
    ck_assert_double_eq_tol(d.a, log(0.05) - sigma2 / 2, 1e-9);

    ck_assert_str_eq(load_dist("d: {dist: lognormal, mu: 1}\n", CONFIG_SECONDS, &d),
                     "d: missing required key 'sigma'");
    ck_assert_str_eq(load_dist("d: {dist: lognormal, mean: 1s, sigma: 1}\n",
                               CONFIG_SECONDS, &d),
                     "d: give either mean and stddev or mu and sigma, not both");
}
END_TEST

START_TEST(dist_empirical_table)
{
    struct dist d;
    ck_assert_str_eq(load_dist("d: {dist: empirical, points: [[1, 0.5], [3, 1]]}\n",
                               CONFIG_NUMBER, &d), "");
    ck_assert_int_eq(d.kind, DIST_EMPIRICAL);
    ck_assert_uint_eq(d.point_count, 2);
    ck_assert_double_eq(d.points[1].value, 3);
    ck_assert_double_eq(d.points[0].cumulative, 0.5);
    dist_fini(&d);

    ck_assert_str_eq(load_dist("d: {dist: empirical, points: [[1KB, 0.5], [1KB, 1]]}\n",
                               CONFIG_BYTES, &d),
                     "d.points[1][0]: found '1KB', expected a value greater than "
                     "the previous point's");
    ck_assert_str_eq(load_dist("d: {dist: empirical, points: [[1, 0.7], [2, 0.5], [3, 1]]}\n",
                               CONFIG_NUMBER, &d),
                     "d.points[1][1]: found '0.5', expected a cumulative probability "
                     ">= the previous point's");
    ck_assert_str_eq(load_dist("d: {dist: empirical, points: [[1, 0.7, 3]]}\n",
                               CONFIG_NUMBER, &d),
                     "d.points[0]: found a sequence, expected a pair "
                     "[value, cumulative probability]");
    ck_assert_str_eq(load_dist("d: {dist: empirical, points: []}\n", CONFIG_NUMBER, &d),
                     "d.points: found an empty list, expected at least one point");
    ck_assert_str_eq(load_dist("d: {dist: empirical, points: [[1ms, 1]]}\n",
                               CONFIG_NUMBER, &d),
                     "d.points[0][0]: found '1ms', expected a number >= 0");
}
END_TEST

START_TEST(dist_bad_parameters)
{
    struct dist d;
    ck_assert_str_eq(load_dist("d: {dist: exponential, mean: 0s}\n", CONFIG_SECONDS, &d),
                     "d.mean: found '0s', expected a duration > 0");
    ck_assert_str_eq(load_dist("d: {dist: uniform, min: 3s, max: 1s}\n", CONFIG_SECONDS, &d),
                     "d.max: found '1s', expected a value >= min ('3s')");
    ck_assert_str_eq(load_dist("d: {dist: pareto, shape: 0, scale: 1s}\n", CONFIG_SECONDS, &d),
                     "d.shape: found '0', expected a number > 0");
    ck_assert_str_eq(load_dist("d: {dist: exponential, men: 1s}\n", CONFIG_SECONDS, &d),
                     "d: unknown key 'men', expected one of: dist, mean");
    ck_assert_str_eq(load_dist("d: {mean: 1s}\n", CONFIG_SECONDS, &d),
                     "d: missing required key 'dist'");
    ck_assert_str_eq(load_dist("d: [1s]\n", CONFIG_SECONDS, &d),
                     "d: found a sequence, expected a distribution: a value, or a "
                     "mapping such as {dist: exponential, mean: 30ms}");
    ck_assert_str_eq(load_dist("d: 5\n", CONFIG_SECONDS, &d),
                     "d: found '5', a number without a unit, expected a duration "
                     "such as 250ms, 5m or 4h");
    ck_assert_int_eq(d.kind, DIST_CONSTANT);
    ck_assert_ptr_null(d.points);
}
END_TEST

static struct scenario *load_minimal(void)
{
    struct scenario *scenario = scenario_load("scenarios/minimal.yaml");
    ck_assert_msg(scenario != NULL, "scenarios/minimal.yaml did not load "
                                    "(run from the repository root)");
    return scenario;
}

START_TEST(minimal_top_level)
{
    struct scenario *s = load_minimal();
    ck_assert_str_eq(s->name, "minimal");
    ck_assert_str_eq(s->path, "scenarios/minimal.yaml");
    ck_assert_uint_eq(s->seed, 7);
    ck_assert_int_eq(s->duration, 10 * SIM_MIN);
    ck_assert_int_eq(s->drain, 5 * SIM_DAY);
    ck_assert_uint_eq(s->region_count, 2);
    ck_assert_str_eq(s->regions[1].name, "us-east");
    ck_assert_int_eq(scenario_latency(s, 0, 1), 40 * SIM_MS);
    ck_assert_int_eq(scenario_latency(s, 1, 0), 40 * SIM_MS);
    ck_assert_int_eq(scenario_latency(s, 0, 0), SIM_MS);
    ck_assert_int_eq(scenario_latency(s, 1, 1), SIM_MS);
    ck_assert_double_eq_tol(s->bandwidth, 125e6, 1e-3);
    ck_assert_ptr_null(s->trace_path);
    ck_assert_int_eq(s->output.sample_interval, SIM_MIN);
    ck_assert(s->output.message_rows);
    ck_assert(s->output.plots);

    char *text = read_path("scenarios/minimal.yaml");
    ck_assert_str_eq(s->text, text);
    free(text);
    scenario_free(s);
}
END_TEST

START_TEST(minimal_dns)
{
    struct scenario *s = load_minimal();
    ck_assert_int_eq(s->resolver.latency.kind, DIST_CONSTANT);
    ck_assert_double_eq_tol(s->resolver.latency.a, 0.020, 1e-12);
    ck_assert(s->resolver.cache);
    ck_assert_int_eq(s->resolver.negative_ttl, 15 * SIM_MIN);
    ck_assert_uint_eq(s->zone_count, 2);
    ck_assert_str_eq(s->zones[0].domain, "alpha.example");
    ck_assert_int_eq(s->zones[0].ttl, SIM_HOUR);
    ck_assert_uint_eq(s->zones[0].mx_count, 2);
    ck_assert_int_eq(s->zones[0].mx[1].preference, 20);
    ck_assert_str_eq(s->zones[0].mx[1].host, "mx2.alpha.example");
    ck_assert_int_eq(s->zones[1].ttl, 30 * SIM_MIN);
    scenario_free(s);
}
END_TEST

START_TEST(minimal_alpha_values)
{
    struct scenario *s = load_minimal();
    ck_assert_uint_eq(s->provider_count, 2);
    const struct provider *p = &s->providers[0];
    ck_assert_str_eq(p->name, "alpha");
    ck_assert_uint_eq(p->region, 0);
    ck_assert_uint_eq(p->mailboxes, 100);
    ck_assert_int_eq(p->load_balancer.policy, LB_LEAST_CONNECTIONS);
    ck_assert_double_eq(p->load_balancer.limit.rate, 500);
    ck_assert_double_eq(p->load_balancer.limit.burst, 1000);
    ck_assert_int_eq(p->web.servers, 2);
    ck_assert_int_eq(p->web.service_time.kind, DIST_EXPONENTIAL);
    ck_assert_double_eq_tol(p->web.service_time.a, 0.030, 1e-12);
    ck_assert_int_eq(p->smtp_out.retry.initial, SIM_MIN);
    ck_assert_double_eq(p->smtp_out.retry.factor, 3);
    ck_assert_int_eq(p->smtp_out.retry.maximum, SIM_HOUR);
    ck_assert_uint_eq(p->smtp_in.host_count, 2);
    ck_assert_str_eq(p->smtp_in.hosts[1], "mx2.alpha.example");
    ck_assert_double_eq(p->smtp_in.unknown_recipient, 0.002);
    ck_assert_double_eq(p->clients.share[CLIENT_WEBMAIL], 0.5);
    ck_assert_double_eq(p->clients.share[CLIENT_IMAP], 0.5);
    ck_assert_double_eq(p->clients.share[CLIENT_POP3], 0);

    const struct workload_params *w = &p->workload;
    ck_assert_double_eq_tol(w->rate_per_mailbox, 30.0 / 3600, 1e-15);
    ck_assert(!w->has_profile);
    ck_assert_double_eq(w->profile[13], 1);
    ck_assert_int_eq(w->recipients.kind, DIST_EMPIRICAL);
    ck_assert_uint_eq(w->recipients.point_count, 3);
    ck_assert_double_eq(w->recipients.points[2].value, 5);
    ck_assert_uint_eq(w->destination_count, 2);
    ck_assert_str_eq(w->destinations[0].domain, "beta.example");
    ck_assert_double_eq(w->destinations[0].share, 0.75);
    ck_assert_double_eq(w->destinations[1].share, 0.25);
    ck_assert_int_eq(w->message_size.kind, DIST_UNIFORM);
    ck_assert_double_eq(w->message_size.a, 1000);
    ck_assert_double_eq(w->message_size.b, 2048);

    ck_assert_uint_eq(s->fault_count, 1);
    ck_assert_str_eq(s->faults[0].target, "mx.beta.example");
    ck_assert_int_eq(s->faults[0].start, 2 * SIM_MIN);
    ck_assert_int_eq(s->faults[0].end, 4 * SIM_MIN);
    ck_assert_int_eq(s->faults[0].mode, FAULT_TIMEOUT);
    scenario_free(s);
}
END_TEST

START_TEST(minimal_provider_defaults)
{
    struct scenario *s = load_minimal();
    const struct provider *p = &s->providers[1];
    ck_assert_str_eq(p->name, "beta");
    ck_assert_int_eq(p->load_balancer.policy, LB_ROUND_ROBIN);
    ck_assert_double_eq(p->load_balancer.limit.rate, 0);
    ck_assert_int_eq(p->web.servers, 4);
    ck_assert_uint_eq(p->web.max_message_size, 25u << 20);
    ck_assert_uint_eq(p->web.queue_capacity, 10000);
    ck_assert_int_eq(p->smtp_out.workers, 16);
    ck_assert_uint_eq(p->smtp_out.queue_capacity, 1000000);
    ck_assert_int_eq(p->smtp_out.connect_timeout, 30 * SIM_SEC);
    ck_assert_int_eq(p->smtp_out.max_mx_hosts, 5);
    ck_assert_int_eq(p->smtp_out.retry.initial, 5 * SIM_MIN);
    ck_assert_double_eq(p->smtp_out.retry.factor, 2);
    ck_assert_int_eq(p->smtp_out.retry.maximum, 4 * SIM_HOUR);
    ck_assert_int_eq(p->smtp_out.retry.queue_lifetime, 5 * SIM_DAY);
    ck_assert_int_eq(p->smtp_in.servers, 2);
    ck_assert_int_eq(p->smtp_in.sessions_per_server, 100);
    ck_assert_uint_eq(p->smtp_in.max_message_size, 50000000);
    ck_assert_double_eq(p->smtp_in.spam_source, 0);
    ck_assert_int_eq(p->processing.workers, 8);
    ck_assert_uint_eq(p->processing.queue_capacity, 100000);
    ck_assert_double_eq_tol(p->processing.service_time.a, 0.2, 1e-12);
    ck_assert_double_eq(p->processing.spam_probability, 0);
    ck_assert_uint_eq(p->storage.offload_threshold, 1000000);
    ck_assert_double_eq_tol(p->storage.cache.a, 0.001, 1e-12);
    ck_assert_double_eq_tol(p->clients.share[CLIENT_WEBMAIL], 0.6, 1e-12);
    ck_assert_double_eq_tol(p->clients.share[CLIENT_POP3], 0.1, 1e-12);
    ck_assert_int_eq(p->clients.pop3_interval, 10 * SIM_MIN);
    ck_assert_int_eq(p->clients.mean_online, 2 * SIM_HOUR);
    ck_assert_int_eq(p->clients.mean_offline, 6 * SIM_HOUR);

    const struct workload_params *w = &p->workload;
    ck_assert_double_eq_tol(w->rate_per_mailbox, 30.0 / 86400, 1e-15);
    ck_assert_int_eq(w->recipients.kind, DIST_CONSTANT);
    ck_assert_double_eq(w->recipients.a, 1);
    /* By default mail goes to every domain in proportion to mailboxes. */
    ck_assert_uint_eq(w->destination_count, 2);
    ck_assert_str_eq(w->destinations[0].domain, "alpha.example");
    ck_assert_double_eq_tol(w->destinations[0].share, 100.0 / 150, 1e-12);
    ck_assert_double_eq_tol(w->destinations[1].share, 50.0 / 150, 1e-12);
    ck_assert_int_eq(w->message_size.kind, DIST_LOGNORMAL);
    ck_assert_double_eq(w->attachment_probability, 0.2);
    ck_assert_int_eq(w->attachment_size.kind, DIST_LOGNORMAL);
    scenario_free(s);
}
END_TEST

START_TEST(lookup_domain_and_host)
{
    struct scenario *s = load_minimal();
    ck_assert_int_eq(scenario_find_domain(s, "alpha.example"), 0);
    ck_assert_int_eq(scenario_find_domain(s, "BETA.Example"), 1);
    ck_assert_int_eq(scenario_find_domain(s, "gamma.example"), -1);
    ck_assert_int_eq(scenario_find_host(s, "mx2.alpha.example"), 0);
    ck_assert_int_eq(scenario_find_host(s, "mx.beta.example"), 1);
    ck_assert_int_eq(scenario_find_host(s, "alpha.example"), -1);
    scenario_free(s);
}
END_TEST

START_TEST(default_profile_normalised)
{
    struct scenario *s = scenario_load("scenarios/default.yaml");
    ck_assert_ptr_nonnull(s);
    const struct workload_params *w = &s->providers[0].workload;
    ck_assert(w->has_profile);
    double sum = 0;
    for (int hour = 0; hour < 24; hour++)
        sum += w->profile[hour];
    ck_assert_double_eq_tol(sum, 24, 1e-9);
    ck_assert_double_eq_tol(w->profile[0] / w->profile[2], 1.62 / 2.97, 1e-9);
    scenario_free(s);
}
END_TEST

START_TEST(trace_path_relative)
{
    char directory[] = "/tmp/mailsim-trace-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(directory));
    char *minimal = read_path("scenarios/minimal.yaml");
    char path[256];
    snprintf(path, sizeof path, "%s/s.yaml", directory);
    FILE *file = fopen(path, "w");
    fprintf(file, "%strace: t.trace\n", minimal);
    fclose(file);
    free(minimal);

    FILE *errors = tmpfile();
    ck_assert_ptr_null(scenario_load_report(path, errors));
    rewind(errors);
    char *message = read_all(errors);
    fclose(errors);
    ck_assert_ptr_nonnull(strstr(message, "trace: cannot read the trace file"));
    free(message);

    char trace[256];
    snprintf(trace, sizeof trace, "%s/t.trace", directory);
    fclose(fopen(trace, "w"));
    struct scenario *s = scenario_load(path);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->trace_path, trace);
    scenario_free(s);
    unlink(trace);
    unlink(path);
    rmdir(directory);
}
END_TEST

/* Loads one malformed file and compares the error with NAME.expected. */
static void check_bad_file(const char *name)
{
    char path[512];
    char expected_path[512];
    snprintf(path, sizeof path, "tests/bad/%s", name);
    snprintf(expected_path, sizeof expected_path, "tests/bad/%.*s.expected",
             (int)(strlen(name) - strlen(".yaml")), name);

    FILE *errors = tmpfile();
    struct scenario *scenario = scenario_load_report(path, errors);
    ck_assert_msg(scenario == NULL, "%s loaded without error", path);
    rewind(errors);
    char *actual = read_all(errors);
    fclose(errors);
    char *expected = read_path(expected_path);
    ck_assert_msg(strcmp(actual, expected) == 0, "%s:\n  expected: %s  found:    %s",
                  path, expected, actual);
    free(actual);
    free(expected);
}

START_TEST(bad_files_exact_errors)
{
    DIR *directory = opendir("tests/bad");
    ck_assert_msg(directory != NULL, "tests/bad not found (run from the repository root)");
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL) {
        size_t length = strlen(entry->d_name);
        if (length <= 5 || strcmp(entry->d_name + length - 5, ".yaml") != 0)
            continue;
        check_bad_file(entry->d_name);
        count++;
    }
    closedir(directory);
    ck_assert_uint_ge(count, 15);
}
END_TEST

START_TEST(missing_file_error)
{
    FILE *errors = tmpfile();
    ck_assert_ptr_null(scenario_load_report("tests/bad/no-such-file.yaml", errors));
    rewind(errors);
    char *message = read_all(errors);
    fclose(errors);
    ck_assert_str_eq(message, "tests/bad/no-such-file.yaml: cannot open: "
                              "No such file or directory\n");
    free(message);
}
END_TEST

static Suite *scenario_suite(void)
{
    Suite *suite = suite_create("scenario");
    TCase *tree = tcase_create("yaml tree");
    tcase_add_test(tree, tree_marks_and_styles);
    tcase_add_test(tree, tree_null_spellings);
    tcase_add_test(tree, tree_alias_shares_node);
    tcase_add_test(tree, tree_rejects_bad_structure);
    tcase_add_test(tree, tree_nesting_limit);
    tcase_add_test(tree, tree_alias_expansion_limit);
    tcase_add_test(tree, tree_size_limit);
    tcase_add_test(tree, tree_utf8_errors);
    suite_add_tcase(suite, tree);

    TCase *dists = tcase_create("distributions");
    tcase_add_test(dists, dist_every_kind);
    tcase_add_test(dists, dist_lognormal_forms);
    tcase_add_test(dists, dist_empirical_table);
    tcase_add_test(dists, dist_bad_parameters);
    suite_add_tcase(suite, dists);

    TCase *load = tcase_create("load");
    tcase_add_test(load, minimal_top_level);
    tcase_add_test(load, minimal_dns);
    tcase_add_test(load, minimal_alpha_values);
    tcase_add_test(load, minimal_provider_defaults);
    tcase_add_test(load, lookup_domain_and_host);
    tcase_add_test(load, default_profile_normalised);
    tcase_add_test(load, trace_path_relative);
    tcase_add_test(load, bad_files_exact_errors);
    tcase_add_test(load, missing_file_error);
    tcase_set_timeout(load, 30);
    suite_add_tcase(suite, load);
    return suite;
}

TEST_MAIN(scenario_suite)
