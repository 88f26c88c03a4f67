/*
 * Greylisting table: a chained hash table of triplets.  Defaults are
 * postgrey's, from the option parsing in its main(): --delay 300,
 * --retry-window 2 days, --max-age 35 days, and --lookup-by-subnet (the
 * default) strips the last 8 bits of the client address.
 */
#include "models/greylist.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INITIAL_BUCKETS 64

struct greylist_entry {
    struct greylist_entry *next;
    uint64_t hash;
    uint32_t network;
    sim_time first_seen;
    sim_time last_seen;
    size_t sender_length;
    char key[];                /* sender NUL recipient NUL */
};

struct greylist {
    struct greylist_params params;
    struct greylist_entry **buckets;
    size_t bucket_count;       /* a power of two */
    size_t size;
};

void greylist_defaults(struct greylist_params *params)
{
    *params = (struct greylist_params){
        .enabled = false,
        .delay = 300 * SIM_SEC,
        .retry_window = 2 * SIM_DAY,
        .lifetime = 35 * SIM_DAY,
        .prefix_length = 24,
    };
}

static void *greylist_calloc(size_t count, size_t size)
{
    void *memory = calloc(count, size);
    if (memory == NULL) {
        fputs("greylist: out of memory\n", stderr);
        abort();
    }
    return memory;
}

struct greylist *greylist_new(const struct greylist_params *params)
{
    struct greylist *greylist = greylist_calloc(1, sizeof *greylist);
    greylist->params = *params;
    greylist->bucket_count = INITIAL_BUCKETS;
    greylist->buckets = greylist_calloc(greylist->bucket_count, sizeof *greylist->buckets);
    return greylist;
}

void greylist_free(struct greylist *greylist)
{
    if (greylist == NULL)
        return;
    for (size_t i = 0; i < greylist->bucket_count; i++) {
        struct greylist_entry *entry = greylist->buckets[i];
        while (entry != NULL) {
            struct greylist_entry *next = entry->next;
            free(entry);
            entry = next;
        }
    }
    free(greylist->buckets);
    free(greylist);
}

uint32_t greylist_network(uint32_t ip, int prefix_length)
{
    if (prefix_length <= 0)
        return 0;
    if (prefix_length >= 32)
        return ip;
    return ip & ~(UINT32_MAX >> prefix_length);
}

/* FNV-1a, 64-bit, over the bytes of `text` in lower case. */
static uint64_t hash_text(uint64_t hash, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        hash ^= (uint64_t)tolower(*p);
        hash *= 1099511628211u;
    }
    return hash;
}

static uint64_t hash_triplet(uint32_t network, const char *sender, const char *recipient)
{
    uint64_t hash = 14695981039346656037u;
    for (int shift = 24; shift >= 0; shift -= 8) {
        hash ^= (network >> shift) & 0xff;
        hash *= 1099511628211u;
    }
    hash = hash_text(hash, sender);
    /* 0xff never occurs in UTF-8, so it separates sender from recipient. */
    hash ^= 0xff;
    hash *= 1099511628211u;
    return hash_text(hash, recipient);
}

/* A triplet has passed once a retry came `delay` or more after first seen
 * (postgrey: last - first >= delay). */
static bool entry_passed(const struct greylist *greylist,
                         const struct greylist_entry *entry)
{
    return entry->last_seen - entry->first_seen >= greylist->params.delay;
}

static bool entry_expired(const struct greylist *greylist,
                          const struct greylist_entry *entry, sim_time now)
{
    sim_time unseen = now - entry->last_seen;
    if (entry_passed(greylist, entry))
        return unseen > greylist->params.lifetime;
    return unseen > greylist->params.retry_window;
}

static bool entry_matches(const struct greylist_entry *entry, uint64_t hash,
                          uint32_t network, const char *sender, const char *recipient)
{
    return entry->hash == hash && entry->network == network &&
           strcasecmp(entry->key, sender) == 0 &&
           strcasecmp(entry->key + entry->sender_length + 1, recipient) == 0;
}

size_t greylist_purge(struct greylist *greylist, sim_time now)
{
    size_t removed = 0;
    for (size_t i = 0; i < greylist->bucket_count; i++) {
        struct greylist_entry **link = &greylist->buckets[i];
        while (*link != NULL) {
            struct greylist_entry *entry = *link;
            if (entry_expired(greylist, entry, now)) {
                *link = entry->next;
                free(entry);
                removed++;
            } else {
                link = &entry->next;
            }
        }
    }
    greylist->size -= removed;
    return removed;
}

static void grow(struct greylist *greylist)
{
    size_t count = greylist->bucket_count * 2;
    struct greylist_entry **buckets = greylist_calloc(count, sizeof *buckets);
    for (size_t i = 0; i < greylist->bucket_count; i++) {
        struct greylist_entry *entry = greylist->buckets[i];
        while (entry != NULL) {
            struct greylist_entry *next = entry->next;
            size_t index = (size_t)entry->hash & (count - 1);
            entry->next = buckets[index];
            buckets[index] = entry;
            entry = next;
        }
    }
    free(greylist->buckets);
    greylist->buckets = buckets;
    greylist->bucket_count = count;
}

/* Keeps the load factor at most 1.  A full table is purged first, and
 * grows unless the purge left it at most half full, so that the next
 * purge is at least bucket_count / 2 insertions away (amortised O(1)). */
static void make_room(struct greylist *greylist, sim_time now)
{
    if (greylist->size < greylist->bucket_count)
        return;
    greylist_purge(greylist, now);
    if (greylist->size > greylist->bucket_count / 2)
        grow(greylist);
}

static void insert(struct greylist *greylist, uint64_t hash, uint32_t network,
                   const char *sender, const char *recipient, sim_time now)
{
    size_t sender_length = strlen(sender);
    size_t recipient_length = strlen(recipient);

    make_room(greylist, now);
    struct greylist_entry *entry =
        greylist_calloc(1, sizeof *entry + sender_length + recipient_length + 2);
    entry->hash = hash;
    entry->network = network;
    entry->first_seen = now;
    entry->last_seen = now;
    entry->sender_length = sender_length;
    memcpy(entry->key, sender, sender_length + 1);
    memcpy(entry->key + sender_length + 1, recipient, recipient_length + 1);

    size_t index = (size_t)hash & (greylist->bucket_count - 1);
    entry->next = greylist->buckets[index];
    greylist->buckets[index] = entry;
    greylist->size++;
}

static struct greylist_entry *find(struct greylist *greylist, uint64_t hash,
                                   uint32_t network, const char *sender,
                                   const char *recipient)
{
    size_t index = (size_t)hash & (greylist->bucket_count - 1);
    for (struct greylist_entry *entry = greylist->buckets[index]; entry != NULL;
         entry = entry->next) {
        if (entry_matches(entry, hash, network, sender, recipient))
            return entry;
    }
    return NULL;
}

/* Applies a sighting at `now` to a stored entry, as postgrey does: a
 * triplet that has not passed starts over when first seen is more than
 * retry_window ago, and last seen becomes now. */
static void see_again(const struct greylist *greylist, struct greylist_entry *entry,
                      sim_time now)
{
    if (entry_expired(greylist, entry, now)) {
        entry->first_seen = now;
    } else if (!entry_passed(greylist, entry) &&
               now - entry->first_seen > greylist->params.retry_window) {
        entry->first_seen = now;
    }
    entry->last_seen = now;
}

enum greylist_verdict greylist_check(struct greylist *greylist, uint32_t client_ip,
                                     const char *sender, const char *recipient,
                                     sim_time now)
{
    if (!greylist->params.enabled)
        return GREYLIST_PASS;

    uint32_t network = greylist_network(client_ip, greylist->params.prefix_length);
    uint64_t hash = hash_triplet(network, sender, recipient);
    struct greylist_entry *entry = find(greylist, hash, network, sender, recipient);
    sim_time first_seen = now;

    if (entry != NULL) {
        see_again(greylist, entry, now);
        first_seen = entry->first_seen;
    } else {
        insert(greylist, hash, network, sender, recipient, now);
    }
    return now - first_seen >= greylist->params.delay ? GREYLIST_PASS : GREYLIST_DEFER;
}

size_t greylist_size(const struct greylist *greylist)
{
    return greylist->size;
}
