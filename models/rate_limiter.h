/*
 * Receiving-side limits of an SMTP server, per client or per sender
 * domain: token-bucket rate limits applied at one SMTP step, and a limit
 * on the concurrent sessions of one client (Postfix's anvil limits
 * smtpd_client_connection_count_limit and the *_rate_limit family work
 * the same way).
 *
 * Keys are strings chosen by the caller (a client address or host name,
 * or a sender domain) and are compared without regard to case.
 */
#ifndef MAILSIM_RATE_LIMITER_H
#define MAILSIM_RATE_LIMITER_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/simtime.h"

/* Key by which a rate limit counts events. */
enum rate_limiter_key {
    RATE_LIMITER_KEY_CLIENT,           /* the connecting client */
    RATE_LIMITER_KEY_SENDER_DOMAIN,    /* the domain of MAIL FROM */
    RATE_LIMITER_KEY_COUNT
};

/* SMTP step at which a rate limit takes one token and replies when none
 * is left. */
enum rate_limiter_step {
    RATE_LIMITER_STEP_CONNECT,         /* at the greeting, per session */
    RATE_LIMITER_STEP_RCPT,            /* per RCPT TO */
    RATE_LIMITER_STEP_DATA,            /* after the end of data, per message */
    RATE_LIMITER_STEP_COUNT
};

#define RATE_LIMITER_ENHANCED_MAX 16

struct rate_limiter_params {
    enum rate_limiter_key key;
    double rate;               /* tokens per second, > 0 */
    double burst;              /* tokens stored at most, >= 1 */
    enum rate_limiter_step step;
    int code;                  /* reply code when the limit is hit */
    char enhanced[RATE_LIMITER_ENHANCED_MAX];  /* "4.7.1" */
};

struct rate_limiter;
struct connection_limit;

/* Reply code and enhanced code used at `step` unless a scenario gives
 * others: 421 4.7.0 at connect, 451 4.7.1 at RCPT TO and after data. */
int rate_limiter_default_code(enum rate_limiter_step step);
const char *rate_limiter_default_enhanced(enum rate_limiter_step step);

/* Reply text after the codes, as Postfix's smtpd words it for its anvil
 * limits; %s is the key (client or sender domain). */
const char *rate_limiter_reply_format(enum rate_limiter_step step);

/* Names as written in scenario files: "client", "sender_domain";
 * "connect", "rcpt", "data"; "invalid" outside the enums. */
const char *rate_limiter_key_name(enum rate_limiter_key key);
const char *rate_limiter_step_name(enum rate_limiter_step step);

/* Creates a limiter with no buckets.  Aborts on allocation failure or
 * when rate <= 0 or burst < 1. */
struct rate_limiter *rate_limiter_new(const struct rate_limiter_params *params);
void rate_limiter_free(struct rate_limiter *limiter);

/*
 * Takes one token from the bucket of `key` at `now` and returns true, or
 * returns false and takes nothing when the bucket is empty.  A new key
 * starts with a full bucket of `burst` tokens, and a bucket gains `rate`
 * tokens per second up to `burst`.  Calls must come in time order.
 */
bool rate_limiter_allow(struct rate_limiter *limiter, const char *key, sim_time now);

/* Removes the buckets that are full again at `now` (a full bucket acts as
 * a new one) and returns how many.  rate_limiter_allow also does this
 * before the table grows, so memory follows the recently active keys. */
size_t rate_limiter_purge(struct rate_limiter *limiter, sim_time now);

/* Number of stored buckets. */
size_t rate_limiter_size(const struct rate_limiter *limiter);

/* Creates a per-client session counter allowing `limit` concurrent
 * sessions per key; 0 means no limit. */
struct connection_limit *rate_limiter_connection_new(int limit);
void rate_limiter_connection_free(struct connection_limit *connections);

/* Counts a new session of `key` and returns true, or returns false without
 * counting it when `key` already has `limit` open sessions (Postfix
 * rejects a connection when the count including it exceeds the limit). */
bool rate_limiter_connection_open(struct connection_limit *connections,
                                  const char *key);

/* Ends a session counted by rate_limiter_connection_open.  Aborts when
 * `key` has no open session (a caller bug). */
void rate_limiter_connection_close(struct connection_limit *connections,
                                   const char *key);

/* Open sessions of `key`. */
int rate_limiter_connection_count(const struct connection_limit *connections,
                                  const char *key);

#endif
