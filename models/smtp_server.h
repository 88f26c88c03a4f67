/*
 * The receiving side of one SMTP session as a pure state machine: command
 * lines in, reply text out.
 *
 * Decisions that depend on the rest of the simulation (refuse the session,
 * accept a recipient, accept the message) come from a caller-provided
 * struct smtp_server_policy, so the server never calls the engine and the
 * same code serves the simulator, the unit tests and a real socket.
 *
 * Supported: EHLO (advertising SIZE, 8BITMIME, ENHANCEDSTATUSCODES,
 * PIPELINING and, when the policy offers it, STARTTLS), HELO, STARTTLS,
 * MAIL FROM with SIZE= and BODY=, RCPT TO, DATA, RSET, NOOP, VRFY (answered
 * 252), QUIT.  Enhanced status codes (RFC 3463) are sent after a successful
 * EHLO, and never in the greeting or the EHLO and HELO replies (RFC 2034).
 * Pipelined commands (RFC 2920) need nothing special: the driver passes
 * the lines one at a time and may send the replies together.
 *
 * The server does no TLS itself.  After its 220 reply to STARTTLS,
 * smtp_server_tls_pending() is true and the driver runs (or models) the
 * handshake before passing the next line; the session is then back in
 * SMTP_SERVER_GREETED (RFC 3207 4.2).
 */
#ifndef MAILSIM_SMTP_SERVER_H
#define MAILSIM_SMTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/simtime.h"

/* A reply buffer of this size fits every reply the server produces. */
#define SMTP_SERVER_REPLY_MAX 1024

/* Default for smtp_server_policy.max_recipients: recipients accepted per
 * transaction, the minimum RFC 5321 4.5.3.1.8 requires of a server; more
 * get 452 4.5.3 (RFC 5321 4.5.3.1.10). */
#define SMTP_SERVER_MAX_RECIPIENTS 100

/* Wait for the next command before giving up (RFC 5321 4.5.3.2.7). */
#define SMTP_SERVER_TIMEOUT (5 * SIM_MIN)

struct smtp_server_policy {
    /* 220 to serve the session; 421 to reject it and close (a full
     * server); 554 to reject it but keep replying until QUIT
     * (RFC 5321 3.1). */
    int greeting_code;
    /* Largest message accepted, in bytes, announced with SIZE (RFC 1870);
     * 0 means no limit. */
    uint64_t max_size;
    /* Decides RCPT TO for `address` (the mailbox without angle brackets).
     * Returns a reply code (250, 450, 452, 550, ...) and may write an
     * enhanced code such as "5.1.1" into `enhanced_out` (`n` bytes).  Left
     * empty, it gets a default for the code.  NULL accepts all. */
    int (*check_recipient)(void *ctx, const char *address, char *enhanced_out,
                           size_t n);
    /* Decides the end of data for a message of `size` bytes: 250, 451,
     * 552, 554, ...  Called only for messages within max_size.  NULL
     * accepts all. */
    int (*check_message)(void *ctx, uint64_t size);
    void *ctx;
    const char *hostname;      /* named in the greeting and EHLO reply */

    /* Fields below are off when zero, which keeps the behaviour of a
     * server without them. */
    /* Advertise STARTTLS and reply 220 to it (RFC 3207). */
    bool starttls;
    /* With `starttls`: reply 454 4.7.0 to STARTTLS, as a server whose
     * certificate cannot be loaded does (RFC 3207 section 4). */
    bool starttls_unavailable;
    /* Before TLS, reply 530 5.7.0 to every command but NOOP, EHLO,
     * STARTTLS and QUIT (RFC 3207 section 4), as a server that accepts
     * mail over TLS only does. */
    bool require_starttls;
    /* Recipients accepted per transaction before 452 4.5.3; 0 means
     * SMTP_SERVER_MAX_RECIPIENTS.  Values below 100 break RFC 5321
     * 4.5.3.1.8 but model servers configured that way. */
    size_t max_recipients;
};

enum smtp_server_state {
    SMTP_SERVER_START,         /* the greeting has not been sent */
    SMTP_SERVER_REFUSED,       /* greeted with 554: only QUIT is served */
    SMTP_SERVER_GREETED,       /* waiting for EHLO or HELO */
    SMTP_SERVER_READY,         /* no mail transaction open */
    SMTP_SERVER_MAIL,          /* MAIL accepted, no recipient yet */
    SMTP_SERVER_RCPT,          /* at least one recipient accepted */
    SMTP_SERVER_DATA,          /* 354 sent, receiving the message */
    SMTP_SERVER_CLOSED,        /* 221 or 421 sent; takes no more input */
    SMTP_SERVER_STATE_COUNT
};

struct smtp_server {
    enum smtp_server_state state;
    const struct smtp_server_policy *policy;  /* borrowed */
    bool enhanced_codes;       /* the client used EHLO */
    bool tls_active;           /* STARTTLS succeeded on this connection */
    bool tls_pending;          /* the last reply was 220 to STARTTLS */
    size_t recipient_count;    /* accepted in the current transaction */
    uint64_t body_bytes;       /* message bytes received as lines */
};

/* Starts a session in SMTP_SERVER_START.  `policy` is borrowed. */
void smtp_server_init(struct smtp_server *server,
                      const struct smtp_server_policy *policy);

/* Writes the greeting for policy->greeting_code into `out` and returns its
 * length.  Called once, first.  Aborts on a greeting code other than 220,
 * 421 or 554, or when called twice. */
size_t smtp_server_greeting(struct smtp_server *server, char *out, size_t cap);

/*
 * Handles one line from the client, with or without its trailing CRLF, and
 * writes the reply into `out`.  Returns the reply length, or 0 when the
 * line needs no reply: a line of message data, or any line after the
 * session closed.  In SMTP_SERVER_DATA each line is message data (a leading
 * dot removed, RFC 5321 4.5.2) until the line ".", whose reply is the
 * end-of-data reply.  Aborts when `cap` cannot hold the reply
 * (SMTP_SERVER_REPLY_MAX always can) or before the greeting.
 */
size_t smtp_server_on_line(struct smtp_server *server, const char *line,
                           size_t len, char *out, size_t cap);

/*
 * Ends the message data of `bytes` bytes without passing its lines, for a
 * driver that simulates the transfer; writes the end-of-data reply.
 * Aborts unless the server is in SMTP_SERVER_DATA.
 */
size_t smtp_server_on_body_end(struct smtp_server *server, uint64_t bytes,
                               char *out, size_t cap);

/* Writes the 421 sent when the client has been silent for
 * SMTP_SERVER_TIMEOUT, and closes (RFC 5321 3.8).  Returns 0 when
 * already closed. */
size_t smtp_server_on_timeout(struct smtp_server *server, char *out,
                              size_t cap);

/* True when the reply just produced was 220 to STARTTLS: the driver runs
 * the TLS handshake before the next line.  Cleared by the next call of
 * smtp_server_on_line. */
bool smtp_server_tls_pending(const struct smtp_server *server);

/* True once the server has sent 221 or 421 and the connection should be
 * closed. */
bool smtp_server_closed(const struct smtp_server *server);

/* Upper-case state name: "RCPT". */
const char *smtp_server_state_name(enum smtp_server_state state);

#endif
