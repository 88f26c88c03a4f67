/*
 * A scenario as parameter structs.  scenario_load is the only code that
 * reads YAML: models take these structs and never see libyaml nodes.
 *
 * Units after loading: times are sim_time (nanoseconds), sizes are bytes,
 * rates are events per second, bandwidth is bytes per second, and the
 * values of a struct dist are seconds (for times) or bytes (for sizes).
 * Every pointer is owned by the scenario and freed by scenario_free.
 */
#ifndef MAILSIM_SCENARIO_H
#define MAILSIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "models/scenario_policy.h"
#include "models/scenario_protocol.h"
#include "sim/dist.h"
#include "sim/simtime.h"

struct region {
    char *name;
};

struct mx_record {
    int preference;
    char *host;                /* an MX host name listed by some provider */
};

struct dns_zone {
    char *domain;
    struct mx_record *mx;      /* in file order; empty for a domain with no MX */
    size_t mx_count;
    bool null_mx;              /* "MX 0 ." (RFC 7505): accepts no mail */
    bool address;              /* has an address record: with no MX it is
                                  its own implicit MX (RFC 5321 5.1) */
    bool nxdomain;             /* the domain does not exist in the DNS */
    sim_time ttl;
};

struct resolver_params {
    struct dist latency;       /* seconds, per query that misses the cache */
    bool cache;                /* keep answers until their TTL expires */
    sim_time negative_ttl;     /* how long an NXDOMAIN answer is cached */
    sim_time timeout;          /* wait for an answer before retrying */
    int attempts;              /* queries before a temporary failure */
};

enum lb_policy {
    LB_ROUND_ROBIN,
    LB_LEAST_CONNECTIONS,
};

/* Token bucket: `rate` tokens per second, at most `burst` stored.
 * A rate of zero means no limit. */
struct rate_limit {
    double rate;
    double burst;
};

struct load_balancer_params {
    enum lb_policy policy;
    struct rate_limit limit;   /* requests over the limit are rejected */
};

struct web_params {
    int servers;
    struct dist service_time;  /* seconds per submission */
    uint64_t max_message_size; /* bytes; larger goes to the error queue */
    size_t queue_capacity;     /* submissions waiting for a server */
};

struct retry_params {
    sim_time initial;          /* wait after the first failure */
    double factor;             /* each further wait is factor times longer */
    sim_time maximum;          /* cap on one wait */
    sim_time queue_lifetime;   /* after this age the message bounces */
};

struct smtp_out_params {
    int workers;               /* concurrent SMTP client sessions */
    size_t queue_capacity;     /* outgoing queue; a full queue rejects */
    struct dist scan_time;     /* seconds for the spam and virus scan */
    struct retry_params retry;
    sim_time connect_timeout;  /* a host that does not answer costs this */
    int max_mx_hosts;          /* MX hosts tried in one delivery attempt */
    /* Sending policy (models/scenario_policy.h): retry policy, destination
     * concurrency, dead destinations.  With no retry.policy key,
     * policy.retry is the exponential policy made from `retry`. */
    struct smtp_out_policy policy;
    struct smtp_out_protocol protocol;  /* models/scenario_protocol.h */
};

struct smtp_in_params {
    char **hosts;              /* MX host names served by this provider */
    size_t host_count;
    int servers;               /* SMTP servers behind the SMTP balancer */
    int sessions_per_server;   /* a full server answers 421 at greeting */
    struct dist command_time;  /* seconds a server spends on one command */
    uint64_t max_message_size; /* bytes; larger is refused with 552 */
    double unknown_recipient;  /* fraction of RCPT TO answered 550 */
    double spam_source;        /* fraction of client sessions refused 554 */
    /* Receiving policy (models/scenario_policy.h): greylisting, rate
     * limits, session limits, full mailboxes. */
    struct smtp_in_policy policy;
    struct smtp_in_protocol protocol;   /* models/scenario_protocol.h */
};

struct processing_params {
    int workers;
    size_t queue_capacity;     /* incoming queue */
    struct dist service_time;  /* seconds for spam, virus and user rules */
    double spam_probability;   /* fraction filed to Junk */
};

struct storage_params {
    struct dist mail_store;    /* seconds per mail-store write */
    struct dist cache;         /* seconds per cache update */
    struct dist object_store;  /* seconds per object-store write */
    uint64_t offload_threshold;/* attachments larger go to the object store */
};

enum client_kind {
    CLIENT_WEBMAIL,            /* WebSocket push while online */
    CLIENT_IMAP,               /* IMAP IDLE while online */
    CLIENT_POP3,               /* polls every pop3_interval while online */
    CLIENT_KIND_COUNT
};

struct client_params {
    double share[CLIENT_KIND_COUNT];  /* fractions of mailboxes, sum 1 */
    sim_time pop3_interval;
    sim_time mean_online;      /* online and offline periods alternate, */
    sim_time mean_offline;     /* each exponentially distributed */
    struct dist push_latency;  /* seconds from storage to the client */
};

struct destination_share {
    char *domain;
    double share;              /* normalised to sum 1 over the list */
};

struct workload_params {
    double rate_per_mailbox;   /* messages per second per mailbox */
    double profile[24];        /* relative rate per hour of day; mean 1 */
    bool has_profile;
    struct dist recipients;    /* recipients per message, rounded, >= 1 */
    struct destination_share *destinations;
    size_t destination_count;
    struct dist message_size;  /* bytes, without attachment */
    double attachment_probability;
    struct dist attachment_size;  /* bytes */
};

struct provider {
    char *name;
    size_t region;             /* index into scenario.regions */
    char **domains;
    size_t domain_count;
    uint64_t mailboxes;        /* spread round robin over the domains */
    struct load_balancer_params load_balancer;
    struct web_params web;
    struct smtp_out_params smtp_out;
    struct smtp_in_params smtp_in;
    struct processing_params processing;
    struct storage_params storage;
    struct client_params clients;
    struct workload_params workload;
};

enum fault_kind {
    FAULT_HOST_DOWN,           /* an MX host refuses or drops connections */
    FAULT_PROVIDER_DOWN,       /* every MX host of a provider does */
    FAULT_COMPONENT_DOWN,      /* a provider's component takes no new work */
    FAULT_WORKERS_LOST,        /* a provider's component loses workers */
    FAULT_DNS_SERVFAIL,        /* the resolver answers SERVFAIL for a domain */
    FAULT_DNS_TIMEOUT,         /* the resolver never answers for a domain */
    FAULT_LINK_LATENCY,        /* latency added between two regions */
    FAULT_KIND_COUNT
};

/* Components a component_down or workers_lost fault can hit. */
enum fault_component {
    COMPONENT_WEB,
    COMPONENT_SMTP_OUT,
    COMPONENT_PROCESSING,
    COMPONENT_COUNT
};

enum fault_mode {
    FAULT_REFUSED,             /* connection refused at once */
    FAULT_TIMEOUT,             /* no answer until the connect timeout */
};

struct fault {
    enum fault_kind kind;
    char *target;              /* host or domain name; NULL for other kinds */
    size_t provider;           /* provider_down, component_down, workers_lost */
    enum fault_component component;  /* component_down, workers_lost */
    int workers;               /* workers_lost: how many */
    size_t from_region;        /* link_latency: the link, both directions */
    size_t to_region;
    sim_time added_latency;    /* link_latency: one-way */
    sim_time start;
    sim_time end;
    enum fault_mode mode;      /* host_down, provider_down */
};

struct output_params {
    sim_time sample_interval;  /* queue-depth and utilisation samples */
    bool message_rows;         /* one database row per message */
    double message_sample;     /* fraction of messages whose rows are written */
    bool plots;
};

/* Runaway limits (the `limits` section, models/scenario_limits.c), checked
 * while the run goes on; 0 means no limit.  `mailsim run` options override
 * them. */
struct run_limits {
    uint64_t max_events;       /* events run by the engine */
    uint64_t max_in_flight;    /* messages created and not yet final */
    uint64_t max_memory;       /* bytes of resident memory of the process */
};

struct scenario {
    char *name;
    char *path;                /* file it was loaded from */
    char *text;                /* the whole file, stored with the results */
    uint64_t seed;
    sim_time duration;         /* workload generates mail during [0, duration) */
    sim_time drain;            /* the run goes on at most this long after */

    struct region *regions;
    size_t region_count;
    sim_time *latency;         /* one-way, region_count x region_count */
    double bandwidth;          /* bytes per second on every link */

    struct resolver_params resolver;
    struct dns_zone *zones;
    size_t zone_count;

    struct provider *providers;
    size_t provider_count;

    struct fault *faults;
    size_t fault_count;

    char *trace_path;          /* NULL: Poisson workload per provider */

    struct output_params output;
    struct run_limits limits;

    /* expect: the checks of `mailsim check`, loaded by
     * models/scenario_expect.c.  NULL without an expect list. */
    struct expectation *expectations;
    size_t expectation_count;
    /* end of expect */
};

/* Loads and validates a scenario.  On bad input prints
 * "file:line:column: key.path: what is wrong, what was expected" to stderr
 * and returns NULL; the caller exits with status 2. */
struct scenario *scenario_load(const char *path);
/* Same as scenario_load, but prints the error to `errors`. */
struct scenario *scenario_load_report(const char *path, FILE *errors);
void scenario_free(struct scenario *scenario);

/* Index of the provider serving `domain`, or -1. */
int scenario_find_domain(const struct scenario *scenario, const char *domain);
/* Index of the provider listing `host` among its MX hosts, or -1. */
int scenario_find_host(const struct scenario *scenario, const char *host);

sim_time scenario_latency(const struct scenario *scenario, size_t from_region,
                          size_t to_region);

#endif
