/*
 * A YAML file as a small tree of scalars, sequences and mappings, built with
 * libyaml's event parser.  The tree keeps the line and column of every node
 * so that callers can point at the exact place of a bad value.
 *
 * Aliases share the anchored node rather than copying it, so a node can have
 * several parents, and positions inside an aliased node are those of the
 * anchor.  The parser rejects what a configuration file has no use for:
 * more than one document, duplicate mapping keys, non-scalar mapping keys,
 * tags and recursive aliases.  It also rejects what could exhaust memory:
 * nesting deeper than YAML_TREE_MAX_DEPTH, files larger than
 * YAML_TREE_MAX_BYTES and aliases that would expand to more than
 * YAML_TREE_MAX_NODES nodes.  Input must be UTF-8.
 */
#ifndef MAILSIM_YAML_TREE_H
#define MAILSIM_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

#define YAML_TREE_MAX_DEPTH 64
#define YAML_TREE_MAX_NODES 1000000
#define YAML_TREE_MAX_BYTES ((size_t)16 << 20)

enum yaml_tree_kind {
    YAML_TREE_SCALAR,
    YAML_TREE_SEQUENCE,
    YAML_TREE_MAPPING,
};

struct yaml_tree_node;

struct yaml_tree_pair {
    const struct yaml_tree_node *key;    /* always a scalar */
    const struct yaml_tree_node *value;
};

struct yaml_tree_node {
    enum yaml_tree_kind kind;
    int line;                  /* 1-based */
    int column;                /* 1-based, in characters */

    /* Scalar: the text after YAML unescaping, NUL-terminated; `length`
     * counts bytes and differs from strlen when the text contains "\0". */
    char *text;
    size_t length;
    bool quoted;               /* single, double, literal or folded style */

    /* Sequence: `count` items.  Mapping: `count` pairs in file order. */
    const struct yaml_tree_node **items;
    struct yaml_tree_pair *pairs;
    size_t count;

    /* Nodes in the subtree, counting every alias expansion; parser use. */
    size_t expanded;
    bool complete;             /* parser use: end event seen */
};

struct yaml_tree;

/* Reads and parses `path`.  On failure returns NULL and writes
 * "PATH:LINE:COLUMN: message" (or "PATH: message" for errors about the
 * whole file) to `error`. */
struct yaml_tree *yaml_tree_parse_file(const char *path, char *error,
                                       size_t error_size);

/* Parses `length` bytes of `text`; `name` is used in error messages.  The
 * tree keeps its own copy of the text. */
struct yaml_tree *yaml_tree_parse_string(const char *name, const char *text,
                                         size_t length, char *error,
                                         size_t error_size);

void yaml_tree_free(struct yaml_tree *tree);

/* The root node of the single document. */
const struct yaml_tree_node *yaml_tree_root(const struct yaml_tree *tree);

/* The file contents, NUL-terminated; `length` may be NULL. */
const char *yaml_tree_text(const struct yaml_tree *tree, size_t *length);

/* The value stored under `key` in a mapping, or NULL. */
const struct yaml_tree_node *yaml_tree_lookup(const struct yaml_tree_node *mapping,
                                              const char *key);

/* True for a plain scalar that YAML reads as null: empty, "~" or "null". */
bool yaml_tree_is_null(const struct yaml_tree_node *node);

#endif
