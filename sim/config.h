/*
 * Typed access to a YAML configuration file with error messages that name
 * the place and the key path of a bad value:
 *
 *   FILE:LINE:COLUMN: providers[0].web.servers: found 'abc', expected an
 *   integer >= 1
 *
 * Errors are sticky: the first one is printed and marks the config failed,
 * and every later call does nothing and returns its fallback.  A loader can
 * therefore read a whole section and test config_failed once at the end.
 *
 * A struct config_node is a position in the file plus its key path.  Its
 * `node` is NULL when the key is absent or its value is null.  Getters then
 * return their fallback, and errors about it point at the parent.
 */
#ifndef MAILSIM_CONFIG_H
#define MAILSIM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/dist.h"
#include "sim/simtime.h"
#include "sim/yaml_tree.h"

#define CONFIG_PATH_MAX 256

struct config {
    struct yaml_tree *tree;
    FILE *errors;              /* where the first error is printed */
    char *file;                /* file name as given, for messages */
    bool failed;
};

struct config_node {
    const struct yaml_tree_node *node;  /* NULL: absent */
    int line;                  /* where errors about this value point */
    int column;
    char path[CONFIG_PATH_MAX];         /* "providers[0].web"; "" at the root */
};

/* Quantity measured by the values of a distribution: durations converted
 * to seconds, sizes converted to bytes, or plain numbers without units. */
enum config_quantity {
    CONFIG_SECONDS,
    CONFIG_BYTES,
    CONFIG_NUMBER,
};

/* Reads and parses `path`.  On failure prints the error to `errors`,
 * leaves the config failed (config_close is still required) and returns
 * false. */
bool config_open(struct config *config, const char *path, FILE *errors);
void config_close(struct config *config);
bool config_failed(const struct config *config);

struct config_node config_root(const struct config *config);

/* Prints "FILE:LINE:COLUMN: PATH: message" at `at` unless an error was
 * already printed, and marks the config failed. */
void config_error(struct config *config, const struct config_node *at,
                  const char *format, ...) __attribute__((format(printf, 3, 4)));

/* Reports "found <what the node contains>, expected <expected>" at `at`. */
void config_error_found(struct config *config, const struct config_node *at,
                        const char *expected);

bool config_present(const struct config_node *node);

/* Checks that a present node is a mapping whose keys all appear in the
 * NULL-terminated `allowed` list.  Returns true when it is present and
 * valid; false (with no error) when absent. */
bool config_mapping(struct config *config, const struct config_node *node,
                    const char *const *allowed);

/* The value under `key` of a mapping; absent when the mapping or the key is
 * absent or the value is null. */
struct config_node config_get(struct config *config,
                              const struct config_node *mapping, const char *key);
/* Like config_get, and an error when the key is absent or null. */
struct config_node config_require(struct config *config,
                                  const struct config_node *mapping,
                                  const char *key);

/* Number of pairs of a mapping (0 when absent).  config_entry returns the
 * key and value of pair `index`, with the path ending in that key. */
size_t config_mapping_size(const struct config_node *mapping);
void config_entry(const struct config_node *mapping, size_t index,
                  struct config_node *key, struct config_node *value);

/* Checks that a present node is a sequence and returns its length; 0 when
 * absent or on error. */
size_t config_sequence(struct config *config, const struct config_node *node);
struct config_node config_item(const struct config_node *sequence, size_t index);

/* A scalar as a malloc'ed string; a copy of `fallback` (or NULL) when absent
 * or on error.  `expected` describes the value in messages ("a region
 * name").  Empty strings and strings containing NUL are rejected. */
char *config_string(struct config *config, const struct config_node *node,
                    const char *fallback, const char *expected);

/* A name made of letters, digits, '_', '.' and '-' (not "." or ".."), which
 * is safe to use as a file name.  `expected` describes it in messages.
 * Returns NULL when absent or on error. */
char *config_identifier(struct config *config, const struct config_node *node,
                        const char *expected);

/* A host or domain name: dot-separated labels of letters, digits and '-'.
 * NULL when absent or on error. */
char *config_hostname(struct config *config, const struct config_node *node);

/* Index of the scalar among the NULL-terminated `names`, or `fallback`. */
int config_choice(struct config *config, const struct config_node *node,
                  const char *const *names, int fallback);

/* A plain integer in [min, max].  Quoted scalars are rejected. */
int64_t config_int(struct config *config, const struct config_node *node,
                   int64_t fallback, int64_t min, int64_t max);

/* A plain finite decimal number in [min, max]; with `above_min` the range
 * is (min, max]. */
double config_double(struct config *config, const struct config_node *node,
                     double fallback, double min, double max, bool above_min);

/* true/True/TRUE or false/False/FALSE, unquoted. */
bool config_bool(struct config *config, const struct config_node *node,
                 bool fallback);

/* Values with units (see sim/units.h) of at least `min`. */
sim_time config_duration(struct config *config, const struct config_node *node,
                         sim_time fallback, sim_time min);
uint64_t config_size(struct config *config, const struct config_node *node,
                     uint64_t fallback, uint64_t min);
/* Rates and bandwidths; with `positive` zero is rejected. */
double config_rate(struct config *config, const struct config_node *node,
                   double fallback, bool positive);
double config_bandwidth(struct config *config, const struct config_node *node,
                        double fallback);

/* A distribution: a bare scalar means a constant, a mapping names the kind
 * under `dist` (see docs/scenario-format.md for the keys of each kind).
 * When absent, `out` gets a copy of `fallback`.  On error `out` is a
 * constant 0 that owns nothing.  Values of kind CONFIG_SECONDS and
 * CONFIG_BYTES need units; CONFIG_NUMBER values must not have any. */
void config_dist(struct config *config, const struct config_node *node,
                 enum config_quantity quantity, const struct dist *fallback,
                 struct dist *out);

#endif
