/*
 * SMTP protocol options of a provider: what its SMTP client uses of the
 * server's extensions (smtp_out) and what its SMTP servers offer (smtp_in).
 * Defaults follow Postfix, whose parameter each field names.
 */
#ifndef MAILSIM_SCENARIO_PROTOCOL_H
#define MAILSIM_SCENARIO_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/simtime.h"

struct config;
struct config_node;

/* Postfix smtp_tls_security_level. */
enum tls_level {
    TLS_NONE,                  /* never STARTTLS (Postfix default) */
    TLS_MAY,                   /* STARTTLS when offered, else in clear */
    TLS_ENCRYPT,               /* only over TLS: defer when it fails */
};

/* Per-command timeouts of the SMTP client (RFC 5321 section 4.5.3.2). */
struct smtp_timeouts {
    sim_time greeting;         /* smtp_helo_timeout covers the greeting: 300s */
    sim_time hello;            /* smtp_helo_timeout: 300s */
    sim_time starttls;         /* smtp_starttls_timeout: 300s */
    sim_time rset;             /* smtp_rset_timeout: 20s */
    sim_time mail;             /* smtp_mail_timeout: 300s */
    sim_time rcpt;             /* smtp_rcpt_timeout: 300s */
    sim_time data_initiation;  /* smtp_data_init_timeout: 120s */
    sim_time data_block;       /* smtp_data_xfer_timeout: 180s */
    sim_time data_termination; /* smtp_data_done_timeout: 600s */
    sim_time quit;             /* smtp_quit_timeout: 300s */
};

struct smtp_out_protocol {
    bool pipelining;           /* use PIPELINING when offered (RFC 2920) */
    bool declare_size;         /* MAIL FROM ... SIZE= when offered (RFC 1870) */
    bool connection_reuse;     /* smtp_connection_cache_on_demand: send mail
                                  waiting for the destination on the open
                                  connection */
    enum tls_level tls;
    int tls_round_trips;       /* TLS handshake: 2 for TLS 1.2, 1 for 1.3 */
    sim_time tls_cpu;          /* handshake computation, both sides */
    struct smtp_timeouts timeouts;
};

struct smtp_in_protocol {
    bool starttls;             /* offer STARTTLS (RFC 3207) */
    int max_recipients;        /* smtpd_recipient_limit: 1000; 452 4.5.3 past it */
};

/* Read the protocol keys of one provider's smtp_out and smtp_in mappings
 * (the callers list the key names as allowed). */
void scenario_protocol_load_smtp_out(struct config *config,
                                     const struct config_node *smtp_out,
                                     struct smtp_out_protocol *protocol);
void scenario_protocol_load_smtp_in(struct config *config,
                                    const struct config_node *smtp_in,
                                    struct smtp_in_protocol *protocol);

#endif
