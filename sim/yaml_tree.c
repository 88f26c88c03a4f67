/*
 * Builds a yaml_tree from libyaml parser events.  Open collections live on a
 * stack of frames; each finished node is attached to the frame on top.
 * Every node is also listed in the tree so that freeing never has to walk
 * shared (aliased) subtrees.
 */
#include "sim/yaml_tree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

struct yaml_tree {
    char *name;
    char *text;
    size_t length;
    struct yaml_tree_node **nodes;    /* every node, for freeing */
    size_t node_count;
    size_t node_capacity;
    const struct yaml_tree_node *root;
};

/* An open sequence or mapping. */
struct frame {
    struct yaml_tree_node *node;
    size_t capacity;
    const struct yaml_tree_node *key;  /* mapping key waiting for its value */
};

struct anchor {
    char *name;
    const struct yaml_tree_node *node;
};

/* Anchors by name, open addressing; a later anchor with the same name
 * replaces the earlier one, as YAML requires. */
struct anchor_table {
    struct anchor *slots;
    size_t capacity;                   /* a power of two, or 0 */
    size_t count;
};

struct builder {
    struct yaml_tree *tree;
    yaml_parser_t parser;
    struct frame stack[YAML_TREE_MAX_DEPTH];
    size_t depth;
    struct anchor_table anchors;
    int documents;
    char *error;
    size_t error_size;
    bool failed;
};

static void *yaml_tree_alloc(size_t count, size_t size)
{
    void *memory = calloc(count ? count : 1, size);
    if (memory == NULL) {
        fputs("mailsim: out of memory while reading YAML\n", stderr);
        abort();
    }
    return memory;
}

static void *yaml_tree_grow(void *memory, size_t *capacity, size_t size)
{
    size_t grown = *capacity ? *capacity * 2 : 8;
    void *bigger = realloc(memory, grown * size);
    if (bigger == NULL) {
        fputs("mailsim: out of memory while reading YAML\n", stderr);
        abort();
    }
    *capacity = grown;
    return bigger;
}

static void fail_at(struct builder *builder, size_t line, size_t column,
                    const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the first error as "NAME:LINE:COLUMN: message". */
static void fail_at(struct builder *builder, size_t line, size_t column,
                    const char *format, ...)
{
    if (builder->failed)
        return;
    builder->failed = true;
    int used = snprintf(builder->error, builder->error_size, "%s:%zu:%zu: ",
                        builder->tree->name, line, column);
    if (used < 0 || (size_t)used >= builder->error_size)
        return;
    va_list args;
    va_start(args, format);
    vsnprintf(builder->error + used, builder->error_size - (size_t)used,
              format, args);
    va_end(args);
}

static struct yaml_tree_node *node_new(struct builder *builder,
                                       enum yaml_tree_kind kind,
                                       yaml_mark_t mark)
{
    struct yaml_tree *tree = builder->tree;
    if (tree->node_count == tree->node_capacity)
        tree->nodes = yaml_tree_grow(tree->nodes, &tree->node_capacity,
                                     sizeof *tree->nodes);
    struct yaml_tree_node *node = yaml_tree_alloc(1, sizeof *node);
    node->kind = kind;
    node->line = (int)mark.line + 1;
    node->column = (int)mark.column + 1;
    node->expanded = 1;
    tree->nodes[tree->node_count++] = node;
    return node;
}

static uint64_t anchor_hash(const char *name)
{
    uint64_t hash = 14695981039346656037u;     /* FNV-1a, 64-bit */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        hash = (hash ^ *p) * 1099511628211u;
    return hash;
}

static struct anchor *anchor_slot(const struct anchor_table *table,
                                  const char *name)
{
    size_t mask = table->capacity - 1;
    size_t i = (size_t)anchor_hash(name) & mask;
    while (table->slots[i].name != NULL && strcmp(table->slots[i].name, name) != 0)
        i = (i + 1) & mask;
    return &table->slots[i];
}

static void anchor_table_resize(struct anchor_table *table)
{
    struct anchor_table bigger = {
        .capacity = table->capacity ? table->capacity * 2 : 16,
        .count = table->count,
    };
    bigger.slots = yaml_tree_alloc(bigger.capacity, sizeof *bigger.slots);
    for (size_t i = 0; i < table->capacity; i++) {
        if (table->slots[i].name != NULL)
            *anchor_slot(&bigger, table->slots[i].name) = table->slots[i];
    }
    free(table->slots);
    *table = bigger;
}

static void anchor_define(struct anchor_table *table, const char *name,
                          const struct yaml_tree_node *node)
{
    if (2 * (table->count + 1) > table->capacity)
        anchor_table_resize(table);
    struct anchor *slot = anchor_slot(table, name);
    if (slot->name == NULL) {
        slot->name = strdup(name);
        if (slot->name == NULL)
            abort();
        table->count++;
    }
    slot->node = node;
}

static const struct yaml_tree_node *anchor_find(const struct anchor_table *table,
                                                const char *name)
{
    if (table->capacity == 0)
        return NULL;
    return anchor_slot(table, name)->node;
}

static void anchor_table_free(struct anchor_table *table)
{
    for (size_t i = 0; i < table->capacity; i++)
        free(table->slots[i].name);
    free(table->slots);
}

/* Adds a finished node (or an alias to one) to the open collection on top of
 * the stack, or makes it the root.  (line, column) is where it was written,
 * which for an alias differs from the node's own position. */
static void attach(struct builder *builder, const struct yaml_tree_node *node,
                   size_t line, size_t column, bool is_alias)
{
    if (builder->depth == 0) {
        builder->tree->root = node;
        return;
    }
    struct frame *frame = &builder->stack[builder->depth - 1];
    struct yaml_tree_node *parent = frame->node;

    parent->expanded += node->expanded;
    if (parent->expanded > YAML_TREE_MAX_NODES) {
        fail_at(builder, line, column, "%s exceeds %d nodes",
                is_alias ? "alias expansion" : "document", YAML_TREE_MAX_NODES);
        return;
    }

    if (parent->kind == YAML_TREE_SEQUENCE) {
        if (parent->count == frame->capacity)
            parent->items = yaml_tree_grow(parent->items, &frame->capacity,
                                           sizeof *parent->items);
        parent->items[parent->count++] = node;
    } else if (frame->key == NULL) {
        if (node->kind != YAML_TREE_SCALAR) {
            fail_at(builder, line, column,
                    "mapping key is a %s, expected a scalar",
                    node->kind == YAML_TREE_MAPPING ? "mapping" : "sequence");
            return;
        }
        frame->key = node;
    } else {
        if (parent->count == frame->capacity)
            parent->pairs = yaml_tree_grow(parent->pairs, &frame->capacity,
                                           sizeof *parent->pairs);
        parent->pairs[parent->count].key = frame->key;
        parent->pairs[parent->count].value = node;
        parent->count++;
        frame->key = NULL;
    }
}

struct key_entry {
    const struct yaml_tree_node *key;
    size_t index;
};

static int key_entry_compare(const void *left, const void *right)
{
    const struct key_entry *a = left;
    const struct key_entry *b = right;
    if (a->key->length != b->key->length)
        return a->key->length < b->key->length ? -1 : 1;
    int order = memcmp(a->key->text, b->key->text, a->key->length);
    if (order != 0)
        return order;
    return a->index < b->index ? -1 : a->index > b->index;
}

static bool same_key(const struct key_entry *a, const struct key_entry *b)
{
    return a->key->length == b->key->length &&
           memcmp(a->key->text, b->key->text, a->key->length) == 0;
}

/* Reports the first repeated key in file order.  Sorting by (key, index)
 * keeps this O(n log n) for mappings with many keys, and puts each key's
 * first definition at the start of its run of equal keys. */
static void check_duplicate_keys(struct builder *builder,
                                 const struct yaml_tree_node *mapping)
{
    if (mapping->count < 2)
        return;
    struct key_entry *entries = yaml_tree_alloc(mapping->count, sizeof *entries);
    for (size_t i = 0; i < mapping->count; i++)
        entries[i] = (struct key_entry){ mapping->pairs[i].key, i };
    qsort(entries, mapping->count, sizeof *entries, key_entry_compare);

    const struct key_entry *first = NULL;
    const struct key_entry *repeat = NULL;
    for (size_t i = 1; i < mapping->count; i++) {
        bool starts_repeat = same_key(&entries[i - 1], &entries[i]) &&
                             (i < 2 || !same_key(&entries[i - 2], &entries[i]));
        if (starts_repeat && (repeat == NULL || entries[i].index < repeat->index)) {
            first = &entries[i - 1];
            repeat = &entries[i];
        }
    }
    if (repeat != NULL)
        fail_at(builder, (size_t)repeat->key->line, (size_t)repeat->key->column,
                "duplicate key '%s', first defined at line %d, column %d",
                repeat->key->text, first->key->line, first->key->column);
    free(entries);
}

/* Rejects tags: scenario values get their type from the schema, and a tag
 * such as !!binary would silently change what a scalar means. */
static bool check_no_tag(struct builder *builder, const yaml_char_t *tag,
                         yaml_mark_t mark)
{
    if (tag == NULL)
        return true;
    fail_at(builder, mark.line + 1, mark.column + 1,
            "YAML tag '%s' is not supported, remove it", (const char *)tag);
    return false;
}

static void on_scalar(struct builder *builder, const yaml_event_t *event)
{
    if (!check_no_tag(builder, event->data.scalar.tag, event->start_mark))
        return;
    struct yaml_tree_node *node = node_new(builder, YAML_TREE_SCALAR,
                                           event->start_mark);
    node->length = event->data.scalar.length;
    node->text = yaml_tree_alloc(node->length + 1, 1);
    memcpy(node->text, event->data.scalar.value, node->length);
    node->quoted = event->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    node->complete = true;
    if (event->data.scalar.anchor != NULL)
        anchor_define(&builder->anchors, (const char *)event->data.scalar.anchor,
                      node);
    attach(builder, node, node->line, node->column, false);
}

static void on_collection_start(struct builder *builder, const yaml_event_t *event,
                                enum yaml_tree_kind kind)
{
    const yaml_char_t *tag = kind == YAML_TREE_MAPPING
                                 ? event->data.mapping_start.tag
                                 : event->data.sequence_start.tag;
    const yaml_char_t *anchor = kind == YAML_TREE_MAPPING
                                    ? event->data.mapping_start.anchor
                                    : event->data.sequence_start.anchor;
    if (!check_no_tag(builder, tag, event->start_mark))
        return;
    if (builder->depth == YAML_TREE_MAX_DEPTH) {
        fail_at(builder, event->start_mark.line + 1, event->start_mark.column + 1,
                "nesting is deeper than the limit of %d levels", YAML_TREE_MAX_DEPTH);
        return;
    }
    struct yaml_tree_node *node = node_new(builder, kind, event->start_mark);
    if (anchor != NULL)
        anchor_define(&builder->anchors, (const char *)anchor, node);
    builder->stack[builder->depth++] = (struct frame){ .node = node };
}

static void on_collection_end(struct builder *builder)
{
    struct yaml_tree_node *node = builder->stack[--builder->depth].node;
    if (node->kind == YAML_TREE_MAPPING)
        check_duplicate_keys(builder, node);
    node->complete = true;
    attach(builder, node, (size_t)node->line, (size_t)node->column, false);
}

static void on_alias(struct builder *builder, const yaml_event_t *event)
{
    const char *name = (const char *)event->data.alias.anchor;
    const struct yaml_tree_node *node = anchor_find(&builder->anchors, name);
    yaml_mark_t mark = event->start_mark;
    if (node == NULL) {
        fail_at(builder, mark.line + 1, mark.column + 1,
                "alias '*%s' refers to an undefined anchor", name);
        return;
    }
    if (!node->complete) {
        fail_at(builder, mark.line + 1, mark.column + 1,
                "alias '*%s' refers to a node that contains it", name);
        return;
    }
    attach(builder, node, mark.line + 1, mark.column + 1, true);
}

/* libyaml's reader reports a byte offset instead of a mark; the column
 * counts characters, as marks do. */
static void offset_position(const struct yaml_tree *tree, size_t offset,
                            size_t *line, size_t *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < offset && i < tree->length; i++) {
        unsigned char byte = (unsigned char)tree->text[i];
        if (byte == '\n' || (byte == '\r' && tree->text[i + 1] != '\n')) {
            ++*line;
            *column = 1;
        } else if ((byte & 0xC0) != 0x80 && byte != '\r') {
            ++*column;
        }
    }
}

static void fail_from_reader(struct builder *builder)
{
    const yaml_parser_t *parser = &builder->parser;
    const unsigned char *text = (const unsigned char *)builder->tree->text;
    size_t offset = parser->problem_offset;
    size_t line = 0;
    size_t column = 0;

    /* libyaml points at the bad continuation byte; the sequence, and what
     * an editor shows as one wrong character, starts at its lead byte. */
    if (strcmp(parser->problem, "invalid trailing UTF-8 octet") == 0) {
        size_t lead = offset;
        while (lead > 0 && offset - lead < 3 && (text[lead - 1] & 0xC0) == 0x80)
            lead--;
        lead = lead > 0 ? lead - 1 : 0;
        offset_position(builder->tree, lead, &line, &column);
        fail_at(builder, line, column,
                "invalid UTF-8: byte 0x%02X followed by 0x%02X; the file must be UTF-8 text",
                text[lead], text[offset]);
        return;
    }
    offset_position(builder->tree, offset, &line, &column);
    if (parser->problem_value >= 0)
        fail_at(builder, line, column, "%s (0x%02X); the file must be UTF-8 text",
                parser->problem, (unsigned)parser->problem_value);
    else
        fail_at(builder, line, column, "%s; the file must be UTF-8 text",
                parser->problem);
}

static void fail_from_parser(struct builder *builder)
{
    const yaml_parser_t *parser = &builder->parser;
    const char *problem = parser->problem ? parser->problem : "invalid YAML";

    if (parser->error == YAML_MEMORY_ERROR) {
        fail_at(builder, 1, 1, "out of memory while parsing");
    } else if (parser->error == YAML_READER_ERROR && parser->problem != NULL) {
        fail_from_reader(builder);
    } else if (parser->context != NULL) {
        fail_at(builder, parser->problem_mark.line + 1,
                parser->problem_mark.column + 1, "%s (%s at line %zu, column %zu)",
                problem, parser->context, parser->context_mark.line + 1,
                parser->context_mark.column + 1);
    } else {
        fail_at(builder, parser->problem_mark.line + 1,
                parser->problem_mark.column + 1, "%s", problem);
    }
}

/* Handles one event; returns false at the end of the stream. */
static bool on_event(struct builder *builder, const yaml_event_t *event)
{
    switch (event->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++builder->documents > 1)
            fail_at(builder, event->start_mark.line + 1,
                    event->start_mark.column + 1,
                    "a second YAML document starts here, expected one document per file");
        break;
    case YAML_SCALAR_EVENT:
        on_scalar(builder, event);
        break;
    case YAML_ALIAS_EVENT:
        on_alias(builder, event);
        break;
    case YAML_SEQUENCE_START_EVENT:
        on_collection_start(builder, event, YAML_TREE_SEQUENCE);
        break;
    case YAML_MAPPING_START_EVENT:
        on_collection_start(builder, event, YAML_TREE_MAPPING);
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        on_collection_end(builder);
        break;
    case YAML_STREAM_END_EVENT:
        if (builder->documents == 0)
            fail_at(builder, 1, 1, "the file is empty, expected a YAML document");
        return false;
    default:
        break;
    }
    return true;
}

static void build(struct builder *builder)
{
    yaml_parser_set_input_string(&builder->parser,
                                 (const unsigned char *)builder->tree->text,
                                 builder->tree->length);
    /* Without this libyaml guesses UTF-16 from a byte-order mark, and a
     * binary file could then pass as text. */
    yaml_parser_set_encoding(&builder->parser, YAML_UTF8_ENCODING);

    bool more = true;
    while (more && !builder->failed) {
        yaml_event_t event;
        if (!yaml_parser_parse(&builder->parser, &event)) {
            fail_from_parser(builder);
            break;
        }
        more = on_event(builder, &event);
        yaml_event_delete(&event);
    }
}

static struct yaml_tree *tree_new(const char *name, char *text, size_t length)
{
    struct yaml_tree *tree = yaml_tree_alloc(1, sizeof *tree);
    tree->name = strdup(name);
    if (tree->name == NULL)
        abort();
    tree->text = text;
    tree->length = length;
    return tree;
}

/* Takes ownership of `text`, which must have a NUL at text[length]. */
static struct yaml_tree *parse_owned(const char *name, char *text, size_t length,
                                     char *error, size_t error_size)
{
    struct builder builder = {
        .tree = tree_new(name, text, length),
        .error = error,
        .error_size = error_size,
    };
    if (!yaml_parser_initialize(&builder.parser)) {
        snprintf(error, error_size, "%s: cannot initialise the YAML parser", name);
        yaml_tree_free(builder.tree);
        return NULL;
    }
    build(&builder);
    yaml_parser_delete(&builder.parser);
    anchor_table_free(&builder.anchors);
    if (builder.failed) {
        yaml_tree_free(builder.tree);
        return NULL;
    }
    return builder.tree;
}

struct yaml_tree *yaml_tree_parse_string(const char *name, const char *text,
                                         size_t length, char *error,
                                         size_t error_size)
{
    if (length > YAML_TREE_MAX_BYTES) {
        snprintf(error, error_size, "%s: the file is larger than the limit of 16 MiB",
                 name);
        return NULL;
    }
    char *copy = yaml_tree_alloc(length + 1, 1);
    memcpy(copy, text, length);
    return parse_owned(name, copy, length, error, error_size);
}

/* Reads at most YAML_TREE_MAX_BYTES + 1 bytes, so that an oversized file is
 * detected without reading all of it.  The text gets a NUL terminator. */
static char *read_file(const char *path, size_t *length, char *error,
                       size_t error_size)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        snprintf(error, error_size, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t capacity = 0;
    size_t used = 0;
    char *text = NULL;
    for (;;) {
        if (capacity - used < 4096)
            text = yaml_tree_grow(text, &capacity, 1);
        size_t room = capacity - used - 1;
        size_t got = fread(text + used, 1, room, file);
        used += got;
        if (got < room || used > YAML_TREE_MAX_BYTES)
            break;
    }
    bool read_error = ferror(file) != 0;
    fclose(file);
    if (read_error)
        snprintf(error, error_size, "%s: cannot read the file", path);
    else if (used > YAML_TREE_MAX_BYTES)
        snprintf(error, error_size, "%s: the file is larger than the limit of 16 MiB",
                 path);
    if (read_error || used > YAML_TREE_MAX_BYTES) {
        free(text);
        return NULL;
    }
    text[used] = '\0';
    *length = used;
    return text;
}

struct yaml_tree *yaml_tree_parse_file(const char *path, char *error,
                                       size_t error_size)
{
    size_t length = 0;
    char *text = read_file(path, &length, error, error_size);
    if (text == NULL)
        return NULL;
    return parse_owned(path, text, length, error, error_size);
}

void yaml_tree_free(struct yaml_tree *tree)
{
    if (tree == NULL)
        return;
    for (size_t i = 0; i < tree->node_count; i++) {
        struct yaml_tree_node *node = tree->nodes[i];
        free(node->text);
        free(node->items);
        free(node->pairs);
        free(node);
    }
    free(tree->nodes);
    free(tree->text);
    free(tree->name);
    free(tree);
}

const struct yaml_tree_node *yaml_tree_root(const struct yaml_tree *tree)
{
    return tree->root;
}

const char *yaml_tree_text(const struct yaml_tree *tree, size_t *length)
{
    if (length != NULL)
        *length = tree->length;
    return tree->text;
}

const struct yaml_tree_node *yaml_tree_lookup(const struct yaml_tree_node *mapping,
                                              const char *key)
{
    if (mapping == NULL || mapping->kind != YAML_TREE_MAPPING)
        return NULL;
    size_t length = strlen(key);
    for (size_t i = 0; i < mapping->count; i++) {
        const struct yaml_tree_node *candidate = mapping->pairs[i].key;
        if (candidate->length == length && memcmp(candidate->text, key, length) == 0)
            return mapping->pairs[i].value;
    }
    return NULL;
}

bool yaml_tree_is_null(const struct yaml_tree_node *node)
{
    if (node == NULL || node->kind != YAML_TREE_SCALAR || node->quoted)
        return false;
    static const char *const spellings[] = { "", "~", "null", "Null", "NULL" };
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        if (strcmp(node->text, spellings[i]) == 0)
            return true;
    }
    return false;
}
