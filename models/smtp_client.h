/*
 * The sending side of one SMTP session that delivers one message to one or
 * more recipients at one server, as a pure state machine.
 *
 * The caller connects, then feeds the client every complete server reply
 * (smtp_client_on_reply), the expiry of the reply timer
 * (smtp_client_on_timeout) or a lost connection
 * (smtp_client_on_connection_lost).  Each call fills a struct
 * smtp_client_output with what to do next: send a command line, send the
 * message, close the connection, or nothing.  The client never schedules
 * events or touches a socket, so the simulator, the unit tests and a real
 * TCP driver run the same code.
 *
 * Commands go one at a time, each after the reply to the previous one
 * (RFC 5321 4.3.1); the client does not pipeline.
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

/* Timeout for each block of message data the driver sends while in
 * SMTP_CLIENT_BODY (RFC 5321 4.5.3.2.5). */
#define SMTP_CLIENT_DATA_BLOCK_TIMEOUT (3 * SIM_MIN)

enum smtp_client_state {
    SMTP_CLIENT_GREETING,      /* connected, waiting for the 220 greeting */
    SMTP_CLIENT_EHLO,          /* sent EHLO */
    SMTP_CLIENT_HELO,          /* EHLO was refused, sent HELO */
    SMTP_CLIENT_MAIL,          /* sent MAIL FROM */
    SMTP_CLIENT_RCPT,          /* sent RCPT TO for recipient `next_recipient` */
    SMTP_CLIENT_DATA,          /* sent DATA, waiting for 354 */
    SMTP_CLIENT_BODY,          /* sent the message, waiting for the
                                  end-of-data reply */
    SMTP_CLIENT_QUIT,          /* sent QUIT */
    SMTP_CLIENT_DONE,          /* ended; takes no more input */
    SMTP_CLIENT_STATE_COUNT
};

/* The message to deliver.  Every pointer is borrowed and must stay valid
 * until the session is done. */
struct smtp_client_envelope {
    const char *helo_name;     /* domain sent with EHLO and HELO */
    const char *sender;        /* reverse-path; "" for the null sender */
    const char *const *recipients;
    size_t recipient_count;    /* 1 to SMTP_CLIENT_MAX_RECIPIENTS */
    uint64_t size;             /* message bytes sent after 354 */
};

enum smtp_client_recipient_status {
    SMTP_CLIENT_RCPT_NOT_TRIED,  /* no outcome yet; none is left at DONE */
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
    struct smtp_client_recipient recipients[SMTP_CLIENT_MAX_RECIPIENTS];
};

struct smtp_client {
    enum smtp_client_state state;
    const struct smtp_client_envelope *envelope;
    size_t next_recipient;     /* index of the recipient whose RCPT reply
                                  is awaited */
    size_t rcpt_accepted_count;
    struct smtp_client_result result;
};

enum smtp_client_action {
    SMTP_CLIENT_ACTION_NONE,        /* wait for the next reply */
    SMTP_CLIENT_ACTION_SEND_LINE,   /* send `line` */
    SMTP_CLIENT_ACTION_SEND_BODY,   /* send `body_size` bytes of message,
                                       then `line` ("\r\n.\r\n") */
    SMTP_CLIENT_ACTION_CLOSE,       /* close the connection */
    SMTP_CLIENT_ACTION_COUNT
};

struct smtp_client_output {
    enum smtp_client_action action;
    char line[SMTP_CLIENT_LINE_MAX + 1];  /* with CRLF, NUL-terminated */
    size_t line_length;
    uint64_t body_size;
    /* Set when this call ended the session: `result` is final and points
     * into the client.  NULL otherwise. */
    const struct smtp_client_result *result;
};

/*
 * Starts a session in SMTP_CLIENT_GREETING, waiting for the greeting.
 * `envelope` is borrowed.  Aborts when the recipient count is 0 or above
 * SMTP_CLIENT_MAX_RECIPIENTS.
 */
void smtp_client_init(struct smtp_client *client,
                      const struct smtp_client_envelope *envelope);

/* Handles one complete server reply. */
void smtp_client_on_reply(struct smtp_client *client,
                          const struct smtp_reply *reply,
                          struct smtp_client_output *out);

/* Handles the expiry of the timer started for the current state (see
 * smtp_client_timeout): the session fails as transient and the connection
 * is closed without QUIT. */
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

/* Returns the reply timeout for `state` (RFC 5321 4.5.3.2), or 0 for
 * SMTP_CLIENT_DONE, which waits for nothing. */
sim_time smtp_client_timeout(enum smtp_client_state state);

const char *smtp_client_recipient_status_name(
    enum smtp_client_recipient_status status);

const char *smtp_client_action_name(enum smtp_client_action action);

#endif
