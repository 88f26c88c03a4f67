/*
 * The sending side of one SMTP session that delivers one or more messages
 * to one server, each to one or more recipients, as a pure state machine.
 *
 * The caller connects, then feeds the client every complete server reply
 * (smtp_client_on_reply), the expiry of the reply timer
 * (smtp_client_on_timeout) or a lost connection
 * (smtp_client_on_connection_lost).  Each call fills a struct
 * smtp_client_output with what to do next: send command lines, start TLS,
 * send the message, close the connection, or nothing.  The client never
 * schedules events or touches a socket, so the simulator, the unit tests
 * and a real TCP driver run the same code.
 *
 * By default commands go one at a time, each after the reply to the
 * previous one (RFC 5321 4.3.1), and the session ends with QUIT after one
 * message.  Options in the envelope turn on SIZE, 8BITMIME, PIPELINING and
 * STARTTLS when the server announces them, and keep the session open for
 * further messages (smtp_client_next_envelope, smtp_client_quit).
 */
#ifndef MAILSIM_SMTP_CLIENT_H
#define MAILSIM_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/delivery_policy.h"
#include "models/smtp_reply.h"
#include "sim/simtime.h"

/* Maximum recipients in one session.  RFC 5321 4.5.3.1.8 requires servers
 * to accept at least 100 RCPT commands per transaction, so a client that
 * sends at most 100 is never refused for their number.  Callers split
 * larger envelopes into several sessions. */
#define SMTP_CLIENT_MAX_RECIPIENTS 100

/* Maximum command line including CRLF (RFC 5321 4.5.3.1.4). */
#define SMTP_CLIENT_LINE_MAX 512

/* Bytes of commands in one output.  A pipelined group (MAIL, every RCPT,
 * DATA) longer than this is sent as several groups, each after the
 * replies to the previous one.  8192 bytes hold MAIL, DATA and 100 RCPT
 * lines of 75 bytes. */
#define SMTP_CLIENT_OUTPUT_MAX 8192

/* Default timeout for each block of message data the driver sends while
 * in SMTP_CLIENT_BODY (RFC 5321 4.5.3.2.5). */
#define SMTP_CLIENT_DATA_BLOCK_TIMEOUT (3 * SIM_MIN)

enum smtp_client_state {
    SMTP_CLIENT_GREETING,      /* connected, waiting for the 220 greeting */
    SMTP_CLIENT_EHLO,          /* sent EHLO */
    SMTP_CLIENT_HELO,          /* EHLO was refused, sent HELO */
    SMTP_CLIENT_STARTTLS,      /* sent STARTTLS, waiting for 220 */
    SMTP_CLIENT_RSET,          /* sent RSET before the next transaction */
    SMTP_CLIENT_MAIL,          /* sent MAIL FROM */
    SMTP_CLIENT_RCPT,          /* sent RCPT TO for recipient `next_recipient` */
    SMTP_CLIENT_DATA,          /* sent DATA, waiting for 354 */
    SMTP_CLIENT_BODY,          /* sent the message, waiting for the
                                  end-of-data reply */
    SMTP_CLIENT_IDLE,          /* an envelope is finished and the session
                                  is open: waiting for the driver to call
                                  smtp_client_next_envelope or
                                  smtp_client_quit */
    SMTP_CLIENT_QUIT,          /* sent QUIT */
    SMTP_CLIENT_DONE,          /* ended; takes no more input */
    SMTP_CLIENT_STATE_COUNT
};

/* Reply timeouts, one per command.  RFC 5321 4.5.3.2 gives values for the
 * greeting, MAIL, RCPT, DATA, each data block and the end of data.  The
 * others default to the 5 minutes of MAIL. */
struct smtp_client_timeouts {
    sim_time greeting;         /* 4.5.3.2.1: 5 min */
    sim_time hello;            /* EHLO and HELO: 5 min */
    sim_time starttls;         /* 5 min */
    sim_time rset;             /* 5 min */
    sim_time mail;             /* 4.5.3.2.2: 5 min */
    sim_time rcpt;             /* 4.5.3.2.3: 5 min */
    sim_time data_initiation;  /* 4.5.3.2.4: 2 min, DATA until 354 */
    sim_time data_block;       /* 4.5.3.2.5: 3 min, each block of data */
    sim_time data_termination; /* 4.5.3.2.6: 10 min, "." until the reply */
    sim_time quit;             /* 5 min */
};

/* The RFC 5321 4.5.3.2 values above. */
extern const struct smtp_client_timeouts smtp_client_default_timeouts;

/* The message to deliver.  Every pointer is borrowed and must stay valid
 * until the envelope's result has been reported. */
struct smtp_client_envelope {
    const char *helo_name;     /* domain sent with EHLO and HELO */
    const char *sender;        /* reverse-path; "" for the null sender */
    const char *const *recipients;
    size_t recipient_count;    /* 1 to SMTP_CLIENT_MAX_RECIPIENTS */
    uint64_t size;             /* message bytes sent after 354 */

    /* Options.  All false and NULL keep the plain behaviour: one command
     * at a time, no MAIL parameters, no STARTTLS, QUIT after the message,
     * RFC 5321 timeouts. */
    /* Declare the size with SIZE= when the server announces SIZE
     * (RFC 1870 section 6). */
    bool declare_size;
    /* The message has 8-bit data: BODY=8BITMIME when the server announces
     * 8BITMIME (RFC 6152 section 3). */
    bool eight_bit;
    /* Send MAIL, the RCPTs and DATA as one group when the server
     * announces PIPELINING (RFC 2920). */
    bool pipelining;
    /* Start TLS when the server announces STARTTLS (RFC 3207); if the
     * server does not or replies 454, continue without TLS. */
    bool starttls;
    /* Never send the message without TLS: STARTTLS as above, and when TLS
     * cannot be started, fail the session as transient (4.7.4 when
     * STARTTLS is not announced, the reply otherwise) so it is deferred. */
    bool require_tls;
    /* After the message, wait in SMTP_CLIENT_IDLE instead of sending
     * QUIT, so that the driver can send another message on the same
     * connection. */
    bool keep_open;
    /* NULL: smtp_client_default_timeouts. */
    const struct smtp_client_timeouts *timeouts;
};

enum smtp_client_recipient_status {
    SMTP_CLIENT_RCPT_NOT_TRIED,  /* no outcome yet; none is left once the
                                    result is reported */
    SMTP_CLIENT_RCPT_ACCEPTED,   /* the end-of-data reply was 250 */
    SMTP_CLIENT_RCPT_TRANSIENT,  /* failed with a 4xx, timeout or lost
                                    connection */
    SMTP_CLIENT_RCPT_PERMANENT,  /* failed with a 5xx or a protocol error */
    SMTP_CLIENT_RCPT_STATUS_COUNT
};

/* Cause of a session-wide or message-wide failure. */
enum smtp_client_cause {
    SMTP_CLIENT_CAUSE_NONE,
    SMTP_CLIENT_CAUSE_REPLY,            /* a failure reply */
    SMTP_CLIENT_CAUSE_TIMEOUT,          /* no reply within the state's timeout */
    SMTP_CLIENT_CAUSE_CONNECTION_LOST,
    SMTP_CLIENT_CAUSE_NO_TLS,           /* TLS required, STARTTLS not
                                           announced */
    SMTP_CLIENT_CAUSE_COUNT
};

/* Outcome for one recipient, and the reply that decided it.  Timeouts and
 * lost connections have code 0 and enhanced code 4.4.2 ("bad connection",
 * RFC 3463), as Postfix's smtp_trouble.c reports them. */
struct smtp_client_recipient {
    enum smtp_client_recipient_status status;
    enum failure_scope scope;  /* FAILURE_SCOPE_NONE when accepted */
    /* Severity to pass to delivery_decide with `scope`: POSITIVE when
     * accepted, TRANSIENT for a 4xx, a 421, a timeout or a lost connection,
     * PERMANENT for a 5xx or a protocol error.  Use this rather than
     * smtp_reply_class(code), which is INVALID for code 0. */
    enum smtp_reply_class reply_class;
    bool rcpt_accepted;        /* RCPT TO got a 2xx reply */
    int code;
    int enhanced_class;
    int enhanced_subject;
    int enhanced_detail;
};

/* Outcome of one envelope, possibly over several mail transactions. */
struct smtp_client_result {
    /* The failure that affected the whole session or message, with the
     * state it happened in; FAILURE_SCOPE_NONE when the session got as far
     * as its end-of-data reply or refused every recipient at RCPT. */
    enum failure_scope scope;
    enum smtp_client_cause cause;
    enum smtp_client_state failed_state;
    enum smtp_reply_class reply_class;  /* as in smtp_client_recipient */
    int code;                  /* 0 for a timeout or lost connection */
    size_t recipient_count;
    size_t accepted_count;     /* recipients with status ACCEPTED */
    /* MAIL commands sent for this envelope: more than 1 when the server
     * replied "too many recipients" (RFC 5321 4.5.3.1.10) and the rest
     * went in further transactions. */
    size_t transaction_count;
    bool tls;                  /* TLS was active when the outcome was
                                  decided */
    struct smtp_client_recipient recipients[SMTP_CLIENT_MAX_RECIPIENTS];
};

/* Commands sent together whose replies are not all in: MAIL when
 * `mail_pending`, RCPT for each index in `rcpt`, then DATA when
 * `data_pending`.  Without pipelining it holds one command. */
struct smtp_client_group {
    bool mail_pending;
    size_t rcpt_count;
    size_t rcpt_replied;       /* RCPT replies read so far */
    uint16_t rcpt[SMTP_CLIENT_MAX_RECIPIENTS];
    bool data_pending;
};

struct smtp_client {
    enum smtp_client_state state;
    const struct smtp_client_envelope *envelope;
    size_t next_recipient;     /* index of the recipient whose RCPT reply
                                  is awaited */
    size_t rcpt_accepted_count;  /* in the current transaction */
    struct smtp_extensions extensions;  /* from the last EHLO; none after
                                           HELO */
    bool tls_active;
    bool mail_sent;            /* MAIL went out in this transaction */
    bool data_sent;            /* DATA went out in this transaction */
    /* MAIL was accepted and neither the end of data nor RSET has closed
     * the transaction, so the next one starts with RSET. */
    bool transaction_open;
    /* The transaction failed or has no recipient: replies still due for
     * the group are read and ignored, and a 354 gets an empty message. */
    bool draining;
    /* The server replied "too many recipients": the recipients not
     * accepted yet go in the next transaction. */
    bool rcpt_limit_reached;
    /* RCPT went out for the recipient in the current transaction. */
    bool rcpt_sent[SMTP_CLIENT_MAX_RECIPIENTS];
    bool result_reported;      /* `result` was output for this envelope */
    struct smtp_client_group group;
    struct smtp_client_result result;
};

enum smtp_client_action {
    SMTP_CLIENT_ACTION_NONE,        /* wait for the next reply, or in
                                       SMTP_CLIENT_IDLE for the driver */
    SMTP_CLIENT_ACTION_SEND_LINE,   /* send `line`: one command, or a
                                       pipelined group of
                                       `command_count` in one write */
    SMTP_CLIENT_ACTION_SEND_BODY,   /* send `body_size` bytes of message,
                                       then `line` ("\r\n.\r\n", or
                                       ".\r\n" when `body_size` is 0) */
    SMTP_CLIENT_ACTION_CLOSE,       /* close the connection */
    SMTP_CLIENT_ACTION_START_TLS,   /* run the TLS handshake now (RFC 3207
                                       4.2), then send `line` (EHLO) over
                                       it */
    SMTP_CLIENT_ACTION_COUNT
};

struct smtp_client_output {
    enum smtp_client_action action;
    /* One or more command lines, each with CRLF; NUL-terminated. */
    char line[SMTP_CLIENT_OUTPUT_MAX + 1];
    size_t line_length;
    /* Commands in `line` for SEND_LINE and START_TLS, each awaiting one
     * reply in order; 0 for other actions. */
    size_t command_count;
    uint64_t body_size;
    /* Set when this call decided the current envelope's outcome: at the
     * end of the session, or on entering SMTP_CLIENT_IDLE with
     * `keep_open`.  It points into the client and stays valid until
     * smtp_client_next_envelope.  NULL otherwise; once per envelope. */
    const struct smtp_client_result *result;
};

/*
 * Starts a session in SMTP_CLIENT_GREETING, waiting for the greeting.
 * `envelope` is borrowed.  Aborts when the recipient count is 0 or above
 * SMTP_CLIENT_MAX_RECIPIENTS.
 */
void smtp_client_init(struct smtp_client *client,
                      const struct smtp_client_envelope *envelope);

/*
 * Starts the next message on the open session, from SMTP_CLIENT_IDLE: RSET
 * first when the previous transaction is still open at the server (it
 * failed between MAIL and the end of data), then MAIL.  The previous
 * result is overwritten.  When `envelope` requires TLS and the session has
 * none, its result is reported at once (4.7.4) and the client stays IDLE.
 * Aborts outside IDLE or on an invalid recipient count.
 */
void smtp_client_next_envelope(struct smtp_client *client,
                               const struct smtp_client_envelope *envelope,
                               struct smtp_client_output *out);

/* Ends the open session from SMTP_CLIENT_IDLE with QUIT.  Aborts outside
 * IDLE. */
void smtp_client_quit(struct smtp_client *client,
                      struct smtp_client_output *out);

/* Handles one complete server reply. */
void smtp_client_on_reply(struct smtp_client *client,
                          const struct smtp_reply *reply,
                          struct smtp_client_output *out);

/* Handles the expiry of the timer started for the current state (see
 * smtp_client_current_timeout): the session fails as transient and the
 * connection is closed without QUIT. */
void smtp_client_on_timeout(struct smtp_client *client,
                            struct smtp_client_output *out);

/* Handles a closed or reset connection, as if a 451 reply had arrived
 * (RFC 5321 3.8); the session ends at once. */
void smtp_client_on_connection_lost(struct smtp_client *client,
                                    struct smtp_client_output *out);

bool smtp_client_done(const struct smtp_client *client);

/* Result so far; final once smtp_client_done() is true. */
const struct smtp_client_result *smtp_client_result(
    const struct smtp_client *client);

/* Upper-case state name: "RCPT". */
const char *smtp_client_state_name(enum smtp_client_state state);

/* Phrase for the client's activity in a state, for log lines such as
 * "lost connection while sending RCPT TO". */
const char *smtp_client_state_phrase(enum smtp_client_state state);

/* Returns the default reply timeout for `state` (RFC 5321 4.5.3.2), or 0
 * for SMTP_CLIENT_IDLE and SMTP_CLIENT_DONE, which wait for no reply. */
sim_time smtp_client_timeout(enum smtp_client_state state);

/* Returns the reply timeout for the client's current state from its
 * envelope's timeouts, or 0 in IDLE and DONE.  The driver arms it after
 * every output that leaves the client waiting for a reply, including
 * SMTP_CLIENT_ACTION_NONE in the middle of a pipelined group. */
sim_time smtp_client_current_timeout(const struct smtp_client *client);

/* Returns the timeouts in force: the envelope's, or the defaults. */
const struct smtp_client_timeouts *smtp_client_timeouts_of(
    const struct smtp_client *client);

const char *smtp_client_recipient_status_name(
    enum smtp_client_recipient_status status);

const char *smtp_client_action_name(enum smtp_client_action action);

#endif
