/*
 * A message in flight and its recipients.
 *
 * Each recipient moves through phases (queued, active, deferred, then one
 * outcome); the message's ledger state follows from its recipients' phases:
 * final once every recipient has an outcome, otherwise in_delivery if any
 * recipient is active, queued if any is queued, deferred if all that are
 * left wait for a retry.  message_set_phase keeps the ledger in step.
 */
#ifndef MAILSIM_MESSAGE_H
#define MAILSIM_MESSAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "models/address.h"
#include "models/ledger.h"
#include "sim/simtime.h"

enum recipient_phase {
    PHASE_NEW,         /* not yet accepted by the sender's web server */
    PHASE_QUEUED,
    PHASE_ACTIVE,
    PHASE_DEFERRED,
    PHASE_DELIVERED,   /* stored in the mailbox */
    PHASE_BOUNCED,     /* permanent failure or queue lifetime expired */
    PHASE_REJECTED,    /* the whole message was refused at submission */
    PHASE_DROPPED,     /* a DSN that could not be delivered */
    PHASE_COUNT
};

/* Reason a message or recipient ended as it did, stored in the results. */
enum outcome_reason {
    REASON_NONE,
    REASON_RATE_LIMIT,       /* load balancer token bucket empty */
    REASON_WEB_QUEUE_FULL,
    REASON_TOO_LARGE,        /* over the web server's size limit */
    REASON_OUTGOING_FULL,    /* outgoing queue full */
    REASON_SMTP_PERMANENT,   /* 5xx from the receiving server */
    REASON_LIFETIME,         /* queue lifetime expired */
    REASON_NO_MX,            /* no MX records and no address record */
    REASON_NXDOMAIN,         /* the recipient domain does not exist */
    REASON_NULL_MX,          /* the domain publishes a null MX (RFC 7505) */
    REASON_WEB_UNAVAILABLE,  /* every web server is down */
    REASON_COUNT
};

struct recipient {
    struct address address;
    enum recipient_phase phase;
    bool external;           /* served by another provider than the sender */
    bool junk;               /* filed to Junk by the spam filter */
    uint16_t attempts;       /* SMTP delivery attempts */
    int16_t reply_code;      /* last SMTP reply code, 0 for none */
    char enhanced[12];       /* last enhanced status code, "" for none */
    enum outcome_reason reason;
    sim_time stored;         /* in the mailbox; -1 until then */
    sim_time seen;           /* the reader's client has it; -1 until then */
};

struct message {
    struct message *live_prev;   /* list of unfinished messages, world.c */
    struct message *live_next;
    uint64_t id;
    enum message_state state;
    bool is_dsn;             /* a bounce notification from the null sender */
    bool copied_to_sent;     /* the sender's Sent copy has been written */
    uint64_t journey_of;     /* a DSN: the id of the message it reports on */
    struct address sender;
    uint64_t size;           /* bytes, attachment included */
    uint64_t attachment_size;
    sim_time submitted;
    sim_time accepted;       /* web server done; -1 until then */
    sim_time finished;       /* final state reached; -1 until then */
    enum outcome_reason reason;  /* for rejected messages */
    uint16_t references;     /* open SMTP sessions using the message */
    uint16_t phase_count[PHASE_COUNT];
    uint16_t recipient_count;
    struct recipient recipients[];
};

/* Allocates a message with `recipient_count` recipients in PHASE_NEW and
 * counts it in the ledger as created. */
struct message *message_new(struct ledger *ledger, uint64_t id,
                            uint16_t recipient_count, sim_time now);
void message_free(struct message *message);

/* Moves recipient `index` to `phase` and the message to the ledger state
 * that follows.  Returns true when the message has just become final. */
bool message_set_phase(struct message *message, struct ledger *ledger,
                       uint16_t index, enum recipient_phase phase,
                       sim_time now);

const char *recipient_phase_name(enum recipient_phase phase);
const char *outcome_reason_name(enum outcome_reason reason);

#endif
