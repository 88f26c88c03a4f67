/*
 * Rate limits and session limits per key, each a chained hash table of
 * keys.
 *
 * A token bucket is kept as its theoretical arrival time (TAT, the generic
 * cell rate algorithm): with T = 1 / rate and a tolerance of
 * (burst - 1) * T, an event at t is allowed when t >= TAT - tolerance, and
 * then TAT = max(TAT, t) + T.  This admits exactly the events a bucket of
 * `burst` tokens refilled at `rate` admits, in integer nanoseconds, so
 * long runs do not accumulate rounding errors in a token count.
 */
#include "models/rate_limiter.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INITIAL_BUCKETS 64

struct keyed_entry {
    struct keyed_entry *next;
    uint64_t hash;
    int64_t value;             /* TAT for a rate limit, count for sessions */
    char key[];
};

struct keyed_table {
    struct keyed_entry **buckets;
    size_t bucket_count;       /* a power of two */
    size_t size;
};

struct rate_limiter {
    struct rate_limiter_params params;
    sim_time interval;         /* T: nanoseconds per token */
    sim_time tolerance;        /* (burst - 1) * T */
    struct keyed_table table;
};

struct connection_limit {
    int limit;
    struct keyed_table table;
};

static void *limiter_calloc(size_t count, size_t size)
{
    void *memory = calloc(count, size);
    if (memory == NULL) {
        fputs("rate_limiter: out of memory\n", stderr);
        abort();
    }
    return memory;
}

/* FNV-1a, 64-bit, over the key in lower case. */
static uint64_t hash_key(const char *key)
{
    uint64_t hash = 14695981039346656037u;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        hash ^= (uint64_t)tolower(*p);
        hash *= 1099511628211u;
    }
    return hash;
}

static void table_init(struct keyed_table *table)
{
    table->bucket_count = INITIAL_BUCKETS;
    table->buckets = limiter_calloc(table->bucket_count, sizeof *table->buckets);
    table->size = 0;
}

static void table_fini(struct keyed_table *table)
{
    for (size_t i = 0; i < table->bucket_count; i++) {
        struct keyed_entry *entry = table->buckets[i];
        while (entry != NULL) {
            struct keyed_entry *next = entry->next;
            free(entry);
            entry = next;
        }
    }
    free(table->buckets);
}

static struct keyed_entry **table_link(const struct keyed_table *table,
                                       uint64_t hash, const char *key)
{
    struct keyed_entry **link = &table->buckets[(size_t)hash & (table->bucket_count - 1)];
    while (*link != NULL &&
           ((*link)->hash != hash || strcasecmp((*link)->key, key) != 0))
        link = &(*link)->next;
    return link;
}

static void table_grow(struct keyed_table *table)
{
    size_t count = table->bucket_count * 2;
    struct keyed_entry **buckets = limiter_calloc(count, sizeof *buckets);
    for (size_t i = 0; i < table->bucket_count; i++) {
        struct keyed_entry *entry = table->buckets[i];
        while (entry != NULL) {
            struct keyed_entry *next = entry->next;
            size_t index = (size_t)entry->hash & (count - 1);
            entry->next = buckets[index];
            buckets[index] = entry;
            entry = next;
        }
    }
    free(table->buckets);
    table->buckets = buckets;
    table->bucket_count = count;
}

/* Adds `key` with `value`; the caller has checked that it is absent. */
static struct keyed_entry *table_insert(struct keyed_table *table, uint64_t hash,
                                        const char *key, int64_t value)
{
    size_t length = strlen(key);
    struct keyed_entry *entry = limiter_calloc(1, sizeof *entry + length + 1);
    entry->hash = hash;
    entry->value = value;
    memcpy(entry->key, key, length + 1);

    size_t index = (size_t)hash & (table->bucket_count - 1);
    entry->next = table->buckets[index];
    table->buckets[index] = entry;
    table->size++;
    return entry;
}

static void table_unlink(struct keyed_table *table, struct keyed_entry **link)
{
    struct keyed_entry *entry = *link;
    *link = entry->next;
    free(entry);
    table->size--;
}

static const char *const key_names[RATE_LIMITER_KEY_COUNT] = {
    [RATE_LIMITER_KEY_CLIENT] = "client",
    [RATE_LIMITER_KEY_SENDER_DOMAIN] = "sender_domain",
};

static const char *const step_names[RATE_LIMITER_STEP_COUNT] = {
    [RATE_LIMITER_STEP_CONNECT] = "connect",
    [RATE_LIMITER_STEP_RCPT] = "rcpt",
    [RATE_LIMITER_STEP_DATA] = "data",
};

const char *rate_limiter_key_name(enum rate_limiter_key key)
{
    return (unsigned)key < RATE_LIMITER_KEY_COUNT ? key_names[key] : "invalid";
}

const char *rate_limiter_step_name(enum rate_limiter_step step)
{
    return (unsigned)step < RATE_LIMITER_STEP_COUNT ? step_names[step] : "invalid";
}

/* 421 closes the session (RFC 5321 3.8), which suits a limit on sessions;
 * 451 is "local error in processing" and defers one command.  Postfix uses
 * "421 4.7.0" for its connection count and rate limits (smtpd.c). */
int rate_limiter_default_code(enum rate_limiter_step step)
{
    return step == RATE_LIMITER_STEP_CONNECT ? 421 : 451;
}

const char *rate_limiter_default_enhanced(enum rate_limiter_step step)
{
    return step == RATE_LIMITER_STEP_CONNECT ? "4.7.0" : "4.7.1";
}

/* smtpd.c words its anvil replies "Error: too many connections from %s",
 * "Error: too many recipients from %s" and "Error: too much mail from %s". */
const char *rate_limiter_reply_format(enum rate_limiter_step step)
{
    switch (step) {
    case RATE_LIMITER_STEP_CONNECT:
        return "Error: too many connections from %s";
    case RATE_LIMITER_STEP_RCPT:
        return "Error: too many recipients from %s";
    default:
        return "Error: too much mail from %s";
    }
}

struct rate_limiter *rate_limiter_new(const struct rate_limiter_params *params)
{
    if (!(params->rate > 0) || !(params->burst >= 1)) {
        fprintf(stderr, "rate_limiter_new: invalid rate %g or burst %g\n",
                params->rate, params->burst);
        abort();
    }
    struct rate_limiter *limiter = limiter_calloc(1, sizeof *limiter);
    limiter->params = *params;
    limiter->interval = (sim_time)llround((double)SIM_SEC / params->rate);
    if (limiter->interval < 1)
        limiter->interval = 1;
    limiter->tolerance = (sim_time)llround((params->burst - 1) * (double)limiter->interval);
    table_init(&limiter->table);
    return limiter;
}

void rate_limiter_free(struct rate_limiter *limiter)
{
    if (limiter == NULL)
        return;
    table_fini(&limiter->table);
    free(limiter);
}

size_t rate_limiter_purge(struct rate_limiter *limiter, sim_time now)
{
    struct keyed_table *table = &limiter->table;
    size_t removed = 0;
    for (size_t i = 0; i < table->bucket_count; i++) {
        struct keyed_entry **link = &table->buckets[i];
        while (*link != NULL) {
            if ((*link)->value <= now) {
                table_unlink(table, link);
                removed++;
            } else {
                link = &(*link)->next;
            }
        }
    }
    return removed;
}

/* Keeps the load factor at most 1.  A full table is purged first, and
 * grows unless the purge left it at most half full, so the next purge is
 * at least bucket_count / 2 new keys away. */
static void make_room(struct rate_limiter *limiter, sim_time now)
{
    struct keyed_table *table = &limiter->table;
    if (table->size < table->bucket_count)
        return;
    rate_limiter_purge(limiter, now);
    if (table->size > table->bucket_count / 2)
        table_grow(table);
}

bool rate_limiter_allow(struct rate_limiter *limiter, const char *key, sim_time now)
{
    uint64_t hash = hash_key(key);
    struct keyed_entry *entry = *table_link(&limiter->table, hash, key);

    if (entry == NULL) {
        make_room(limiter, now);
        entry = table_insert(&limiter->table, hash, key, now);
    }
    if (now < entry->value - limiter->tolerance)
        return false;
    entry->value = (entry->value > now ? entry->value : now) + limiter->interval;
    return true;
}

size_t rate_limiter_size(const struct rate_limiter *limiter)
{
    return limiter->table.size;
}

struct connection_limit *rate_limiter_connection_new(int limit)
{
    struct connection_limit *connections = limiter_calloc(1, sizeof *connections);
    connections->limit = limit;
    table_init(&connections->table);
    return connections;
}

void rate_limiter_connection_free(struct connection_limit *connections)
{
    if (connections == NULL)
        return;
    table_fini(&connections->table);
    free(connections);
}

bool rate_limiter_connection_open(struct connection_limit *connections,
                                  const char *key)
{
    struct keyed_table *table = &connections->table;
    uint64_t hash = hash_key(key);
    struct keyed_entry *entry = *table_link(table, hash, key);

    if (entry == NULL) {
        if (table->size >= table->bucket_count)
            table_grow(table);
        entry = table_insert(table, hash, key, 0);
    }
    if (connections->limit > 0 && entry->value >= connections->limit)
        return false;
    entry->value++;
    return true;
}

/* A key's entry goes when its last session closes, so the table holds
 * only keys with open sessions. */
void rate_limiter_connection_close(struct connection_limit *connections,
                                   const char *key)
{
    struct keyed_table *table = &connections->table;
    struct keyed_entry **link = table_link(table, hash_key(key), key);

    if (*link == NULL || (*link)->value <= 0) {
        fprintf(stderr, "rate_limiter_connection_close: no open session for '%s'\n", key);
        abort();
    }
    if (--(*link)->value == 0)
        table_unlink(table, link);
}

int rate_limiter_connection_count(const struct connection_limit *connections,
                                  const char *key)
{
    const struct keyed_entry *entry = *table_link(&connections->table, hash_key(key), key);
    return entry == NULL ? 0 : (int)entry->value;
}
