/*
 * The running model: every provider's components, the message ledger and
 * the statistics, driven by one engine.  world.c builds and runs it; the
 * send path, SMTP sessions and receive path live in their own files and
 * share the structs declared here.
 *
 * Send path:    submission -> load balancer -> web server -> outgoing queue
 *               (or straight to storage for the sender's own provider)
 * SMTP:         outgoing worker -> scan -> copy to Sent -> MX lookup ->
 *               connect -> SMTP session with the receiving server
 * Receive path: SMTP server -> (object store) -> incoming queue ->
 *               processing worker -> storage -> the reader's client
 */
#ifndef MAILSIM_WORLD_H
#define MAILSIM_WORLD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <gsl/gsl_rng.h>

#include "models/ledger.h"
#include "models/message.h"
#include "models/reader.h"
#include "models/retry_policy.h"
#include "models/scenario.h"
#include "models/station.h"
#include "sim/engine.h"
#include "sim/stats.h"

struct dns_cache;
struct report;
struct smtp_session;
struct trace_reader;
struct workload_source;
struct submission;

/* Token bucket for the submission load balancer. */
struct token_bucket {
    double tokens;
    sim_time updated;
};

/* Outbound copy of a message for its recipients at one destination
 * domain: the unit that the outgoing queue and the retry timer hold. */
struct envelope {
    struct envelope *live_prev;     /* list of live envelopes, world.c */
    struct envelope *live_next;
    struct world *world;
    struct message *message;
    uint32_t from_provider;
    uint32_t to_provider;
    uint32_t to_domain;             /* index into the provider's domains */
    uint16_t failures;              /* delivery attempts that failed */
    sim_time first_queued;
    struct retry_state retry;       /* the retry policy's view of it */
    struct envelope *next_waiting;  /* in a destination's wait list */
    uint16_t recipient_count;       /* recipients still to deliver */
    uint16_t recipients[];          /* indices into message->recipients */
};

/* A copy of a message accepted by a receiving provider, for the
 * recipients accepted in one transaction (or by the local shortcut). */
struct inbound {
    struct inbound *live_prev;      /* list of live copies, world.c */
    struct inbound *live_next;
    struct world *world;
    struct message *message;
    uint32_t provider;
    uint16_t recipient_count;
    uint16_t recipients[];
};

struct provider_state {
    struct world *world;
    const struct provider *params;
    uint32_t index;

    struct token_bucket bucket;
    struct station *web_servers;    /* one station per web server */
    uint32_t next_web;              /* round-robin cursor */
    struct message **web_current;   /* in service, one per web server */
    struct station outgoing;        /* outgoing queue and SMTP workers */
    struct station processing;      /* incoming queue and workers */
    int *smtp_sessions;             /* open sessions per SMTP server */
    uint64_t smtp_sessions_refused;

    struct dns_cache *dns_cache;
    struct reader_pool readers;
    uint64_t deferred;              /* envelopes waiting for a retry */
    struct time_average deferred_average;
    uint64_t peak_deferred;
    uint64_t error_queue;           /* submissions refused by validation */

    gsl_rng *rng_web;
    gsl_rng *rng_smtp_out;
    gsl_rng *rng_dns;
    gsl_rng *rng_smtp_in;
    gsl_rng *rng_processing;
    gsl_rng *rng_storage;
    gsl_rng *rng_clients;

    struct workload_source *workload;
    struct submission *next_submission;

    gsl_rng *rng_retry;             /* jitter and Exim H rules only */

    /* Sending side, per destination domain (index world_domain_index):
     * open sessions, envelopes waiting for a session slot, and the
     * dead-destination state. */
    int *destination_sessions;
    struct envelope **destination_waiting;
    struct envelope **destination_waiting_tail;
    int *destination_failures;      /* attempts in a row that reached no host */
    uint64_t waiting_for_destination;  /* envelopes parked in those lists */
    struct time_average waiting_average;  /* of waiting_for_destination */
    uint64_t peak_outgoing;         /* queued plus parked, at most */
    uint64_t deliveries_suspended;  /* retries skipped for a dead destination */
    sim_time *destination_dead_until;

    /* Receiving side policies; NULL when not configured. */
    struct greylist *greylist;
    struct rate_limiter **rate_limiters;  /* one per smtp_in.rate_limits entry */
    struct connection_limit *connection_limit;
    uint64_t bytes_refused_after_data;   /* bodies sent, then refused */

    /* Active component_down and workers_lost faults, per component. */
    int components_down[COMPONENT_COUNT];
    int workers_lost[COMPONENT_COUNT];

    /* Sampled every output.sample_interval, for the plots. */
    struct series web_queue;        /* submissions waiting, all web servers */
    struct series outgoing_queue;
    struct series deferred_series;
    struct series incoming_queue;
    struct series smtp_out_busy;
    struct series processing_busy;
    struct series smtp_in_sessions;
};

enum latency_path {
    PATH_LOCAL,                     /* recipient at the sender's provider */
    PATH_EXTERNAL,
    PATH_COUNT
};

/* A scheduled component_down or workers_lost fault. */
struct fault_event {
    struct world *world;
    const struct fault *fault;
};

struct world {
    const struct scenario *scenario;
    struct engine *engine;
    struct ledger ledger;
    struct provider_state *providers;
    struct report *report;          /* NULL: no database output */
    FILE *journey;                  /* journey of one message; NULL: none */
    uint64_t journey_id;            /* the message followed */
    struct trace_reader *trace;
    uint64_t next_message_id;
    bool trace_failed;
    char trace_error[512];          /* the trace reader's last error */
    struct message *live_messages;
    struct envelope *live_envelopes;
    struct inbound *live_inbound;
    struct smtp_session *live_sessions;
    struct submission *next_trace;  /* read ahead from the trace */
    struct fault_event *fault_events;  /* one per scenario fault */
    size_t *domain_base;            /* first world_domain_index per provider */
    size_t domain_count;            /* domains of all providers */
    bool has_link_faults;           /* spares world_one_way the fault scan */

    /* Per recipient: submission to mailbox, and submission to reader. */
    struct histogram *stored_latency[PATH_COUNT];
    struct histogram *seen_latency[PATH_COUNT];

    uint64_t messages_submitted;
    uint64_t dsn_created;
    uint64_t delay_warnings;        /* "delayed" DSNs, counted in dsn_created */
    uint64_t attempts;              /* SMTP delivery attempts, all hosts */
    uint64_t connections;           /* SMTP connections opened */
    uint64_t recipients_delivered;
    uint64_t recipients_bounced;
    uint64_t junk;

    /* Stopping early (models/run_control.c). */
    volatile sig_atomic_t *interrupt;  /* set by a signal handler; NULL: none */
    const char *stop_reason;        /* NULL after a full run, else the status */
    uint64_t next_memory_check;     /* event count of the next measurement */
};

/* send_path.c */
void send_path_submit(struct world *world, const struct submission *submission);
void send_path_queue_envelope(struct world *world, struct envelope *envelope);
void send_path_start_web(struct station *station, void *job);
/* Sends a DSN for the recipients of `message` that just bounced. */
void send_path_bounce(struct world *world, struct message *message);

/* smtp_session.c: the start callback of the outgoing station. */
void smtp_session_start(struct station *station, void *job);
/* Frees the sessions still open when the run ended. */
void smtp_session_free_all(struct world *world);

/* The client side of an inbound SMTP session, as the receiving policies
 * see it. */
struct receive_client {
    uint32_t address;               /* IPv4, host byte order */
    char key[16];                   /* the address as text, for rate limits */
    const char *sender;             /* MAIL FROM address, "" for <> */
    const char *sender_domain;      /* "" for the null sender */
    bool connection_counted;        /* counted by the connection limit */
};

/* receive_path.c */
/* Chooses the greeting code of a new inbound session.  It is 421 when the
 * client is over its connection limit or connect rate, or when every SMTP
 * server is full (then *server stays -1), 554 for a known spam source, and
 * 220 otherwise. */
int receive_path_greeting(struct world *world, uint32_t provider,
                          struct receive_client *client, int *server);
/* Releases what receive_path_greeting took. */
void receive_path_end_session(struct world *world, uint32_t provider,
                              struct receive_client *client, int *server);
/* RCPT TO policy: a reply code, with the enhanced code written out. */
int receive_path_check_recipient(struct world *world, uint32_t provider,
                                 const struct receive_client *client,
                                 const char *recipient, char *enhanced,
                                 size_t enhanced_size);
/* End-of-data policy: 250 when the copy may go to the incoming queue. */
int receive_path_check_message(struct world *world, uint32_t provider,
                               const struct receive_client *client, uint64_t size);
/* Returns true if the SMTP servers of `provider` have room for a session. */
bool receive_path_open_session(struct world *world, uint32_t provider, int *server);
void receive_path_close_session(struct world *world, uint32_t provider, int server);
/* Returns true if the incoming queue of `provider` can take a copy. */
bool receive_path_has_room(struct world *world, uint32_t provider);
/* Hands a copy accepted at end of data to the incoming queue. */
void receive_path_accept(struct world *world, struct inbound *inbound);
/* Writes a copy straight to storage (the same-provider shortcut, DSNs). */
void receive_path_store(struct world *world, struct inbound *inbound);
void receive_path_start_processing(struct station *station, void *job);

/* world.c */
struct world *world_new(const struct scenario *scenario, struct report *report);
/* Called between slices of a run, for a progress display.  It must not
 * change the world. */
typedef void (*world_progress_fn)(void *context, const struct world *world);

/* Runs the scenario to the end, calling `progress` (may be NULL) every
 * 1/1000 of the duration of simulated time.  A signal or a run limit ends
 * it early with world->stop_reason set (models/run_control.h).  Returns
 * false if the trace file had an error (already printed). */
bool world_run(struct world *world, world_progress_fn progress, void *context);
/* Reports the messages still in flight when the run ended. */
void world_report_unfinished(struct world *world);
void world_free(struct world *world);
struct message *world_message_new(struct world *world, uint16_t recipients);
/* Marks a recipient final and, when the message is finished, records and
 * frees it. */
void world_finish_recipient(struct world *world, struct message *message,
                            uint16_t index, enum recipient_phase phase);
/* A held message is not freed when it becomes final until released:
 * an SMTP session keeps its message while the receiver may finish it. */
void world_hold_message(struct world *world, struct message *message);
void world_release_message(struct world *world, struct message *message);
void world_set_phase(struct world *world, struct message *message,
                     uint16_t index, enum recipient_phase phase);
struct envelope *world_envelope_new(struct world *world, struct message *message,
                                    uint32_t from, const struct address *to,
                                    uint16_t count);
struct inbound *world_inbound_new(struct world *world, struct message *message,
                                  uint32_t provider, uint16_t count);
void world_envelope_free(struct world *world, struct envelope *envelope);
void world_inbound_free(struct world *world, struct inbound *inbound);
/* One-way latency between two providers' regions now, with any
 * link_latency fault added. */
sim_time world_one_way(const struct world *world, uint32_t from, uint32_t to);
/* Time to send `bytes` over a link at the scenario's bandwidth. */
sim_time world_transfer_time(const struct world *world, uint64_t bytes);
sim_time world_sample_time(const struct dist *dist, gsl_rng *rng);
/* Index of a (provider, domain) pair among all domains of the scenario. */
size_t world_domain_index(const struct world *world, uint32_t provider, uint32_t domain);
/* Returns true if a host_down or provider_down fault covers `host` at
 * `now`, with its mode. */
bool world_host_down(const struct world *world, const char *host, sim_time now,
                     enum fault_mode *mode);
/* The active DNS fault for `domain` at `now` (FAULT_DNS_SERVFAIL or
 * FAULT_DNS_TIMEOUT), or FAULT_KIND_COUNT when there is none. */
enum fault_kind world_dns_fault(const struct world *world, const char *domain,
                                sim_time now);

#endif
