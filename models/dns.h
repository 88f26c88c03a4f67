/*
 * Resolver logic without the network: MX answers, their ordering, and a
 * cache of answers that expire after their TTL.  The caller models the
 * latency of a query, and time enters only through the `now` arguments.
 */
#ifndef MAILSIM_DNS_H
#define MAILSIM_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "models/scenario.h"
#include "sim/simtime.h"

#define DNS_MAX_MX 16

enum dns_rcode {
    DNS_NOERROR,
    DNS_NXDOMAIN,              /* the domain does not exist */
    DNS_SERVFAIL,              /* temporary failure; retry later */
    DNS_RCODE_COUNT
};

struct dns_mx {
    int preference;            /* lower is preferred */
    const char *host;          /* borrowed */
};

struct dns_answer {
    enum dns_rcode rcode;
    size_t mx_count;           /* at most DNS_MAX_MX; 0 for NXDOMAIN */
    struct dns_mx mx[DNS_MAX_MX];
    sim_time ttl;              /* how long a cache may keep the answer */
};

/*
 * Fills `answer` from a scenario zone: NOERROR with its MX records in file
 * order and its TTL, or, when `zone` is NULL, NXDOMAIN cached for
 * `negative_ttl`.  Host strings are borrowed from the zone.  Returns false
 * when the zone lists more than DNS_MAX_MX records; the first DNS_MAX_MX
 * are kept.
 */
bool dns_answer_from_zone(struct dns_answer *answer,
                          const struct dns_zone *zone, sim_time negative_ttl);

/*
 * Orders MX records by preference, lowest first, and shuffles records of
 * equal preference with `rng` (RFC 5321 5.1: the client MUST randomize
 * equal-preference hosts to spread the load).  The same rng state gives the
 * same order.  With `rng` NULL, equal preferences keep their input order.
 */
void dns_sort_mx(struct dns_answer *answer, gsl_rng *rng);

/* Counts of lookups on a cache.  Every lookup is a hit or a miss, and
 * `expiries` counts the misses that found an answer whose TTL had run out. */
struct dns_cache_counters {
    uint64_t hits;
    uint64_t misses;
    uint64_t expiries;
};

/* Answers keyed by domain name, compared without regard to ASCII case.
 * The cache owns copies of every string it stores. */
struct dns_cache;

/* Aborts on allocation failure. */
struct dns_cache *dns_cache_new(void);

void dns_cache_free(struct dns_cache *cache);

/*
 * Looks up `domain` at time `now`.  An answer stored at time t hits while
 * now < t + ttl; from t + ttl on it has expired and the lookup misses.
 * On a hit copies the answer to `*out`; its host strings belong to the
 * cache and stay valid until dns_cache_free.
 */
bool dns_cache_lookup(struct dns_cache *cache, const char *domain,
                      sim_time now, struct dns_answer *out);

/* Stores `answer` for `domain` as of `now`, replacing any earlier answer.
 * Any rcode is stored; the caller decides what is worth caching.  Aborts
 * when answer->mx_count exceeds DNS_MAX_MX. */
void dns_cache_store(struct dns_cache *cache, const char *domain,
                     const struct dns_answer *answer, sim_time now);

struct dns_cache_counters dns_cache_counters(const struct dns_cache *cache);

/* Number of domains stored, expired or not. */
size_t dns_cache_size(const struct dns_cache *cache);

/* Upper-case name: "NXDOMAIN". */
const char *dns_rcode_name(enum dns_rcode rcode);

#endif
