#include "models/dns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Both tables use open addressing with linear probing and double when
 * more than half full, so a probe sequence always ends at an empty slot. */
#define DNS_TABLE_INITIAL 64

struct dns_entry {
    char *domain;              /* lower-case copy; NULL for an empty slot */
    struct dns_answer answer;  /* host strings interned in `hosts` */
    sim_time stored_at;
    bool valid;                /* false once a lookup found it expired */
};

/* Interned host names, so that answers handed out stay valid even after
 * their entry is replaced. */
struct dns_strings {
    char **slots;
    size_t capacity;
    size_t count;
};

struct dns_cache {
    struct dns_entry *entries;
    size_t capacity;
    size_t count;
    struct dns_strings hosts;
    struct dns_cache_counters counters;
};

static void *dns_calloc(size_t count, size_t size)
{
    void *memory = calloc(count, size);

    if (memory == NULL) {
        fprintf(stderr, "dns: out of memory\n");
        abort();
    }
    return memory;
}

/* ASCII only: domain names compare without regard to case (RFC 5321 2.4),
 * and the C library's tolower() depends on the locale. */
static char dns_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool dns_name_equal(const char *a, const char *b)
{
    while (*a != '\0' && dns_lower(*a) == dns_lower(*b)) {
        a++;
        b++;
    }
    return dns_lower(*a) == dns_lower(*b);
}

/* FNV-1a over the lower-cased name. */
static uint64_t dns_name_hash(const char *name)
{
    uint64_t hash = 14695981039346656037ULL;

    for (; *name != '\0'; name++) {
        hash ^= (unsigned char)dns_lower(*name);
        hash *= 1099511628211ULL;
    }
    return hash;
}

static char *dns_lower_copy(const char *name)
{
    size_t length = strlen(name);
    char *copy = dns_calloc(length + 1, 1);

    for (size_t i = 0; i < length; i++)
        copy[i] = dns_lower(name[i]);
    return copy;
}

static size_t dns_strings_find(const struct dns_strings *strings,
                               const char *s)
{
    size_t mask = strings->capacity - 1;
    size_t i = (size_t)dns_name_hash(s) & mask;

    while (strings->slots[i] != NULL && strcmp(strings->slots[i], s) != 0)
        i = (i + 1) & mask;
    return i;
}

static void dns_strings_grow(struct dns_strings *strings)
{
    struct dns_strings bigger = {
        .capacity = strings->capacity == 0 ? DNS_TABLE_INITIAL
                                           : strings->capacity * 2,
        .count = strings->count,
    };

    bigger.slots = dns_calloc(bigger.capacity, sizeof *bigger.slots);
    for (size_t i = 0; i < strings->capacity; i++) {
        if (strings->slots[i] != NULL)
            bigger.slots[dns_strings_find(&bigger, strings->slots[i])] =
                strings->slots[i];
    }
    free(strings->slots);
    *strings = bigger;
}

/* Returns the interned copy of `s`, adding it when new.  Host names keep
 * their case: they are compared exactly, like the scenario's host names. */
static const char *dns_strings_intern(struct dns_strings *strings,
                                      const char *s)
{
    size_t i;

    if (2 * (strings->count + 1) > strings->capacity)
        dns_strings_grow(strings);
    i = dns_strings_find(strings, s);
    if (strings->slots[i] == NULL) {
        size_t length = strlen(s);

        strings->slots[i] = dns_calloc(length + 1, 1);
        memcpy(strings->slots[i], s, length);
        strings->count++;
    }
    return strings->slots[i];
}

bool dns_answer_from_zone(struct dns_answer *answer,
                          const struct dns_zone *zone, sim_time negative_ttl)
{
    memset(answer, 0, sizeof *answer);
    if (zone == NULL) {
        answer->rcode = DNS_NXDOMAIN;
        answer->ttl = negative_ttl;
        return true;
    }
    answer->rcode = DNS_NOERROR;
    answer->ttl = zone->ttl;
    answer->mx_count = zone->mx_count < DNS_MAX_MX ? zone->mx_count
                                                    : DNS_MAX_MX;
    for (size_t i = 0; i < answer->mx_count; i++) {
        answer->mx[i].preference = zone->mx[i].preference;
        answer->mx[i].host = zone->mx[i].host;
    }
    return zone->mx_count <= DNS_MAX_MX;
}

/* Stable insertion sort by preference; at most DNS_MAX_MX records. */
static void dns_sort_by_preference(struct dns_mx *mx, size_t count)
{
    for (size_t i = 1; i < count; i++) {
        struct dns_mx record = mx[i];
        size_t j = i;

        while (j > 0 && mx[j - 1].preference > record.preference) {
            mx[j] = mx[j - 1];
            j--;
        }
        mx[j] = record;
    }
}

/* Fisher-Yates shuffle of mx[0..count). */
static void dns_shuffle(struct dns_mx *mx, size_t count, gsl_rng *rng)
{
    for (size_t i = count; i > 1; i--) {
        size_t j = (size_t)gsl_rng_uniform_int(rng, (unsigned long)i);
        struct dns_mx swap = mx[i - 1];

        mx[i - 1] = mx[j];
        mx[j] = swap;
    }
}

void dns_sort_mx(struct dns_answer *answer, gsl_rng *rng)
{
    size_t start = 0;

    dns_sort_by_preference(answer->mx, answer->mx_count);
    if (rng == NULL)
        return;
    /* RFC 5321 5.1: randomize each run of equal preference. */
    while (start < answer->mx_count) {
        size_t end = start + 1;

        while (end < answer->mx_count
               && answer->mx[end].preference == answer->mx[start].preference)
            end++;
        if (end - start > 1)
            dns_shuffle(answer->mx + start, end - start, rng);
        start = end;
    }
}

struct dns_cache *dns_cache_new(void)
{
    struct dns_cache *cache = dns_calloc(1, sizeof *cache);

    cache->capacity = DNS_TABLE_INITIAL;
    cache->entries = dns_calloc(cache->capacity, sizeof *cache->entries);
    return cache;
}

void dns_cache_free(struct dns_cache *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i < cache->capacity; i++)
        free(cache->entries[i].domain);
    free(cache->entries);
    for (size_t i = 0; i < cache->hosts.capacity; i++)
        free(cache->hosts.slots[i]);
    free(cache->hosts.slots);
    free(cache);
}

/* Slot holding `domain`, or the empty slot where it would go. */
static size_t dns_cache_find(const struct dns_entry *entries, size_t capacity,
                             const char *domain)
{
    size_t mask = capacity - 1;
    size_t i = (size_t)dns_name_hash(domain) & mask;

    while (entries[i].domain != NULL
           && !dns_name_equal(entries[i].domain, domain))
        i = (i + 1) & mask;
    return i;
}

static void dns_cache_grow(struct dns_cache *cache)
{
    size_t capacity = cache->capacity * 2;
    struct dns_entry *entries = dns_calloc(capacity, sizeof *entries);

    for (size_t i = 0; i < cache->capacity; i++) {
        const struct dns_entry *entry = &cache->entries[i];

        if (entry->domain != NULL)
            entries[dns_cache_find(entries, capacity, entry->domain)] = *entry;
    }
    free(cache->entries);
    cache->entries = entries;
    cache->capacity = capacity;
}

bool dns_cache_lookup(struct dns_cache *cache, const char *domain,
                      sim_time now, struct dns_answer *out)
{
    struct dns_entry *entry =
        &cache->entries[dns_cache_find(cache->entries, cache->capacity,
                                       domain)];

    if (entry->domain == NULL || !entry->valid) {
        cache->counters.misses++;
        return false;
    }
    /* Compared as now - stored_at < ttl so that a huge TTL cannot
     * overflow stored_at + ttl. */
    if (now - entry->stored_at >= entry->answer.ttl) {
        entry->valid = false;
        cache->counters.misses++;
        cache->counters.expiries++;
        return false;
    }
    *out = entry->answer;
    cache->counters.hits++;
    return true;
}

void dns_cache_store(struct dns_cache *cache, const char *domain,
                     const struct dns_answer *answer, sim_time now)
{
    struct dns_entry *entry;

    if (answer->mx_count > DNS_MAX_MX) {
        fprintf(stderr, "dns_cache_store: %zu MX records for %s, at most %d\n",
                answer->mx_count, domain, DNS_MAX_MX);
        abort();
    }
    if (2 * (cache->count + 1) > cache->capacity)
        dns_cache_grow(cache);
    entry = &cache->entries[dns_cache_find(cache->entries, cache->capacity,
                                           domain)];
    if (entry->domain == NULL) {
        entry->domain = dns_lower_copy(domain);
        cache->count++;
    }
    entry->answer = *answer;
    for (size_t i = 0; i < answer->mx_count; i++)
        entry->answer.mx[i].host =
            dns_strings_intern(&cache->hosts, answer->mx[i].host);
    entry->stored_at = now;
    entry->valid = true;
}

struct dns_cache_counters dns_cache_counters(const struct dns_cache *cache)
{
    return cache->counters;
}

size_t dns_cache_size(const struct dns_cache *cache)
{
    return cache->count;
}

const char *dns_rcode_name(enum dns_rcode rcode)
{
    static const char *const names[DNS_RCODE_COUNT] = {
        [DNS_NOERROR] = "NOERROR",
        [DNS_NXDOMAIN] = "NXDOMAIN",
        [DNS_SERVFAIL] = "SERVFAIL",
    };

    if ((unsigned)rcode >= DNS_RCODE_COUNT)
        return "UNKNOWN";
    return names[rcode];
}
