/*
 * One SMTP session of an outgoing worker.  For each envelope the worker
 * scans it and writes the Sent copy.  It then looks up the MX hosts and
 * connects to each in turn, and runs an SMTP session between the pure
 * client and server state machines.  Their command and reply text crosses
 * the simulated network.  With connection reuse the session goes on with
 * the next envelope waiting for the same destination.
 *
 * Timing of a session, with L the one-way latency between the regions:
 *   connect:   SYN reaches the server after L; a refused connection is known
 *              to the client after 2L; an accepted one completes at the
 *              server after 3L, which sends its greeting at once.
 *   each line: L plus its bytes over the link, then the server's command
 *              time, then L plus the reply's bytes back.  A pipelined group
 *              of commands takes one such trip, with one command time per
 *              command.
 *   STARTTLS:  the handshake's round trips and computation (smtp_out.tls).
 *   body:      L plus size / bandwidth; large attachments are written to the
 *              object store before the end-of-data reply.
 * Every step arms the RFC 5321 timeout for the state and cancels it when the
 * reply arrives, as a real client does.
 *
 * Deciding what a failure means is delivery_decide's job (delivery_policy.c),
 * and deferring, bouncing and the per-destination limits are outgoing.c's;
 * this file applies their decisions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsl/gsl_rng.h>

#include "models/address.h"
#include "models/delivery_policy.h"
#include "models/dns.h"
#include "models/journey.h"
#include "models/report.h"
#include "models/smtp_client.h"
#include "models/smtp_reply.h"
#include "models/smtp_server.h"
#include "models/outgoing.h"
#include "models/world.h"
#include "sim/memory.h"

#define ADDRESS_MAX 320
/* Replies to a pipelined group of up to 100 RCPT TO fit easily. */
#define REPLY_MAX 16384

enum session_step {
    STEP_SCANNED,
    STEP_SENT_COPY,
    STEP_RESOLVED,
    STEP_DNS_SERVFAIL,
    STEP_DNS_TIMEOUT,
    STEP_CONNECT_FAILED,
    STEP_SERVER_ACCEPT,
    STEP_TLS_DONE,
    STEP_LINE_AT_SERVER,
    STEP_BODY_AT_SERVER,
    STEP_BODY_STORED,
    STEP_REPLY_AT_CLIENT,
    STEP_TIMEOUT,
};

struct smtp_session {
    struct smtp_session *live_prev;
    struct smtp_session *live_next;
    struct world *world;
    struct provider_state *sender;
    struct envelope *envelope;       /* freed before the session ends when
                                        no recipient is left to retry */
    struct message *message;         /* held until the envelope settles */
    bool connected;                  /* a connection is open to the host */
    uint64_t connection;             /* number of the open connection */

    struct dns_answer answer;
    size_t host_index;               /* MX host being tried */
    uint32_t server_provider;
    int server_slot;                 /* SMTP server at the receiver, or -1 */
    struct receive_client client_side;  /* this client, as the receiving policies key it */
    size_t destination;              /* world_domain_index of the envelope */
    sim_time attempt_start;

    struct smtp_client client;
    struct smtp_client_envelope client_envelope;
    struct smtp_client_timeouts timeouts;
    struct smtp_server server;
    struct smtp_server_policy policy;
    uint8_t *server_accepted;        /* per envelope recipient: RCPT_* */

    event_handle timeout;
    char line[SMTP_CLIENT_OUTPUT_MAX + 1];  /* commands on their way */
    size_t line_length;
    char reply[REPLY_MAX];                 /* reply on its way */
    size_t reply_length;

    char sender_text[ADDRESS_MAX];
    char (*recipient_text)[ADDRESS_MAX];
    const char **recipient_pointers;
};

static void on_step(struct engine *engine, void *object, uint64_t step);
static void record_attempt(struct smtp_session *session, int code, const char *enhanced,
                           const char *step, const char *result);
static void conclude_unreached(struct smtp_session *session, int code,
                               const struct smtp_reply *reply);
static void end_server_side(struct smtp_session *session);
static void end_session(struct smtp_session *session);

static void schedule_step(struct smtp_session *session, sim_time delay,
                          enum session_step step)
{
    engine_schedule(session->world->engine, delay, on_step, session, step);
}

static void arm_timeout(struct smtp_session *session)
{
    struct engine *engine = session->world->engine;
    engine_cancel(engine, session->timeout);
    session->timeout = EVENT_HANDLE_NONE;
    sim_time limit = smtp_client_current_timeout(&session->client);
    if (limit > 0)
        session->timeout = engine_schedule(engine, limit, on_step, session,
                                           STEP_TIMEOUT);
}

static const struct provider *receiver_params(const struct smtp_session *session)
{
    return &session->world->scenario->providers[session->server_provider];
}

static gsl_rng *receiver_rng(const struct smtp_session *session)
{
    return session->world->providers[session->server_provider].rng_smtp_in;
}

/* What the receiving server has done with each envelope recipient.  One
 * envelope can take several transactions when the server limits the
 * recipients per transaction (452 4.5.3). */
enum {
    RCPT_OPEN,          /* not accepted yet */
    RCPT_ACCEPTED,      /* RCPT TO accepted in the current transaction */
    RCPT_HANDED_OVER,   /* its copy went to the incoming queue */
};

/* The envelope recipient that a RCPT TO names: the first with that
 * address not accepted yet (a trace may name one address twice). */
static int recipient_index(const struct smtp_session *session, const char *address)
{
    for (uint16_t i = 0; i < session->envelope->recipient_count; i++)
        if (session->server_accepted[i] == RCPT_OPEN &&
            strcmp(session->recipient_text[i], address) == 0)
            return i;
    return -1;
}

/* Server policy callback for RCPT TO: the receiving provider's policies
 * decide (receive_path_check_recipient). */
static int check_recipient(void *context, const char *address, char *enhanced,
                           size_t enhanced_size)
{
    struct smtp_session *session = context;
    int index = recipient_index(session, address);
    int code = receive_path_check_recipient(session->world, session->server_provider,
                                            &session->client_side, address, enhanced,
                                            enhanced_size);
    if (code / 100 == 2 && index >= 0)
        session->server_accepted[index] = RCPT_ACCEPTED;
    return code;
}

/* A refused message leaves its recipients open for a later transaction. */
static void reopen_accepted(struct smtp_session *session)
{
    for (uint16_t i = 0; i < session->envelope->recipient_count; i++)
        if (session->server_accepted[i] == RCPT_ACCEPTED)
            session->server_accepted[i] = RCPT_OPEN;
}

/* Server policy callback for the end of data: on 250 the copy for the
 * recipients the server accepted goes to the incoming queue. */
static int check_message(void *context, uint64_t size)
{
    struct smtp_session *session = context;
    struct world *world = session->world;
    struct envelope *envelope = session->envelope;

    int code = receive_path_check_message(world, session->server_provider,
                                          &session->client_side, size);
    if (code != 250) {
        reopen_accepted(session);
        return code;
    }

    uint16_t accepted = 0;
    for (uint16_t i = 0; i < envelope->recipient_count; i++)
        accepted += session->server_accepted[i] == RCPT_ACCEPTED;
    struct inbound *copy = world_inbound_new(world, envelope->message,
                                             session->server_provider, accepted);
    for (uint16_t i = 0; i < envelope->recipient_count; i++) {
        if (session->server_accepted[i] != RCPT_ACCEPTED)
            continue;
        session->server_accepted[i] = RCPT_HANDED_OVER;
        copy->recipients[copy->recipient_count++] = envelope->recipients[i];
    }
    receive_path_accept(world, copy);
    return 250;
}

static void format_addresses(struct smtp_session *session)
{
    struct envelope *envelope = session->envelope;
    const struct message *message = envelope->message;
    const struct scenario *scenario = session->world->scenario;

    if (message->is_dsn)
        session->sender_text[0] = '\0';
    else
        address_format(scenario, &message->sender, session->sender_text, ADDRESS_MAX);
    for (uint16_t i = 0; i < envelope->recipient_count; i++) {
        const struct recipient *recipient = &message->recipients[envelope->recipients[i]];
        address_format(scenario, &recipient->address, session->recipient_text[i],
                       ADDRESS_MAX);
        session->recipient_pointers[i] = session->recipient_text[i];
    }
    const struct smtp_out_protocol *protocol =
        &scenario->providers[envelope->from_provider].smtp_out.protocol;
    session->client_envelope = (struct smtp_client_envelope){
        .helo_name = scenario->providers[envelope->from_provider].domains[0],
        .sender = session->sender_text,
        .recipients = session->recipient_pointers,
        .recipient_count = envelope->recipient_count,
        .size = message->size,
        .declare_size = protocol->declare_size,
        .pipelining = protocol->pipelining,
        .starttls = protocol->tls != TLS_NONE,
        .require_tls = protocol->tls == TLS_ENCRYPT,
        .keep_open = protocol->connection_reuse,
        .timeouts = &session->timeouts,
    };
}

static void copy_timeouts(struct smtp_client_timeouts *to, const struct smtp_timeouts *from)
{
    *to = (struct smtp_client_timeouts){
        .greeting = from->greeting,
        .hello = from->hello,
        .starttls = from->starttls,
        .rset = from->rset,
        .mail = from->mail,
        .rcpt = from->rcpt,
        .data_initiation = from->data_initiation,
        .data_block = from->data_block,
        .data_termination = from->data_termination,
        .quit = from->quit,
    };
}

/* Makes `envelope` the session's current one: takes a reference to its
 * message, marks its recipients active and formats their addresses. */
static void prepare_envelope(struct smtp_session *session, struct envelope *envelope)
{
    struct world *world = session->world;
    size_t count = envelope->recipient_count;

    session->envelope = envelope;
    session->message = envelope->message;
    world_hold_message(world, envelope->message);
    for (uint16_t i = 0; i < count; i++)
        world_set_phase(world, envelope->message, envelope->recipients[i], PHASE_ACTIVE);

    free(session->server_accepted);
    free(session->recipient_text);
    free(session->recipient_pointers);
    session->server_accepted = memory_calloc(count, sizeof *session->server_accepted);
    session->recipient_text = memory_calloc(count, sizeof *session->recipient_text);
    session->recipient_pointers = memory_calloc(count, sizeof *session->recipient_pointers);
    session->attempt_start = engine_now(world->engine);
    format_addresses(session);
}

/* The worker's per-message work before SMTP: the content scan, then
 * (STEP_SCANNED) the copy to Sent, then the MX lookup or, on a reused
 * connection, the next transaction. */
static void begin_envelope(struct smtp_session *session)
{
    const struct provider_state *sender = session->sender;
    schedule_step(session, world_sample_time(&sender->params->smtp_out.scan_time,
                                             sender->rng_smtp_out),
                  STEP_SCANNED);
}

void smtp_session_start(struct station *station, void *job)
{
    struct provider_state *sender = station->context;
    struct envelope *envelope = job;
    struct world *world = sender->world;
    size_t destination = world_domain_index(world, envelope->to_provider,
                                            envelope->to_domain);
    int limit = sender->params->smtp_out.policy.destination_concurrency;

    if (limit > 0 && sender->destination_sessions[destination] >= limit) {
        journey_note(world, envelope->message, "%d sessions to its domain are open: it "
                     "waits for one to finish", limit);
        outgoing_wait_for_destination(sender, envelope, destination);
        station_release(station);
        return;
    }
    sender->destination_sessions[destination]++;

    struct smtp_session *session = memory_calloc(1, sizeof *session);
    session->destination = destination;
    session->world = world;
    session->sender = sender;
    session->server_slot = -1;
    copy_timeouts(&session->timeouts, &sender->params->smtp_out.protocol.timeouts);
    session->live_next = world->live_sessions;
    if (world->live_sessions)
        world->live_sessions->live_prev = session;
    world->live_sessions = session;

    prepare_envelope(session, envelope);
    journey_note(world, envelope->message, "SMTP worker of %s takes the envelope for %s "
                 "(attempt %u)", sender->params->name,
                 world->scenario->providers[envelope->to_provider].domains[envelope->to_domain],
                 envelope->failures + 1u);
    if (engine_now(world->engine) < sender->destination_dead_until[destination]) {
        journey_note(world, envelope->message, "the destination is suspended after "
                     "repeated failures: no attempt");
        /* No attempt is made, so none is recorded: the envelope goes
         * back to wait for its next retry (Postfix: "delivery temporarily
         * suspended"). */
        sender->deliveries_suspended++;
        outgoing_defer(world, envelope);
        end_session(session);
        return;
    }
    begin_envelope(session);
}

static void free_session(struct smtp_session *session)
{
    struct world *world = session->world;
    if (session->live_prev)
        session->live_prev->live_next = session->live_next;
    else
        world->live_sessions = session->live_next;
    if (session->live_next)
        session->live_next->live_prev = session->live_prev;
    free(session->server_accepted);
    free(session->recipient_text);
    free(session->recipient_pointers);
    free(session);
}

void smtp_session_free_all(struct world *world)
{
    while (world->live_sessions)
        free_session(world->live_sessions);
}

/* Latency to the server now: link faults can change it mid-session. */
static sim_time one_way(const struct smtp_session *session)
{
    return world_one_way(session->world, session->sender->index, session->server_provider);
}

static const char *current_host(const struct smtp_session *session)
{
    return session->answer.mx[session->host_index].host;
}

static size_t usable_hosts(const struct smtp_session *session)
{
    size_t limit = (size_t)session->sender->params->smtp_out.max_mx_hosts;
    return session->answer.mx_count < limit ? session->answer.mx_count : limit;
}

static void record_attempt(struct smtp_session *session, int code, const char *enhanced,
                           const char *step, const char *result)
{
    struct world *world = session->world;
    struct envelope *envelope = session->envelope;

    world->attempts++;
    if (!world->report || !report_samples_message(world->scenario, envelope->message->id))
        return;
    struct attempt_record record = {
        .message_id = envelope->message->id,
        .from_provider = envelope->from_provider,
        .to_provider = envelope->to_provider,
        .attempt = (uint16_t)(envelope->failures + 1),
        .start = session->attempt_start,
        .end = engine_now(world->engine),
        .mx_host = session->answer.mx_count ? current_host(session) : "",
        .reply_code = code,
        .enhanced = enhanced,
        .step = step,
        .result = result,
        .recipients = envelope->recipient_count,
        .connection = session->connected ? session->connection : 0,
        .tls = session->connected && session->client.result.tls,
    };
    report_attempt(world->report, &record);
}

/* Ends the session: frees the worker and the session, and lets go of the
 * message if it is still held. */
static void end_session(struct smtp_session *session)
{
    struct world *world = session->world;
    struct message *message = session->message;
    struct provider_state *sender = session->sender;
    size_t destination = session->destination;

    engine_cancel(world->engine, session->timeout);
    free_session(session);
    sender->destination_sessions[destination]--;
    station_release(&sender->outgoing);
    outgoing_wake_waiting(sender, destination);
    if (message)
        world_release_message(world, message);
}

/* Lets go of the current envelope's message once its recipients are
 * settled; the message may then be freed. */
static void release_message(struct smtp_session *session)
{
    world_release_message(session->world, session->message);
    session->message = NULL;
}

static void note_reply(struct recipient *recipient, int code, int klass, int subject,
                       int detail)
{
    recipient->reply_code = (int16_t)code;
    if (klass)
        snprintf(recipient->enhanced, sizeof recipient->enhanced, "%d.%d.%d",
                 klass, subject, detail);
    else
        recipient->enhanced[0] = '\0';
}

/* Applies the result of a transaction that reached the server.  Accepted
 * recipients now belong to the receiver, and delivery_decide chooses for
 * each other one whether it is deferred or bounced.  Releases the message. */
static void settle_result(struct smtp_session *session,
                          const struct smtp_client_result *result)
{
    struct world *world = session->world;
    struct envelope *envelope = session->envelope;
    struct message *message = envelope->message;
    uint16_t bounced[SMTP_CLIENT_MAX_RECIPIENTS] = {0};
    size_t bounced_count = 0;
    uint16_t kept = 0;

    for (uint16_t i = 0; i < envelope->recipient_count; i++) {
        const struct smtp_client_recipient *outcome = &result->recipients[i];
        uint16_t index = envelope->recipients[i];
        struct recipient *recipient = &message->recipients[index];

        recipient->attempts++;
        note_reply(recipient, outcome->code, outcome->enhanced_class,
                   outcome->enhanced_subject, outcome->enhanced_detail);
        journey_note(world, message, "recipient %s: %s", session->recipient_text[i],
                     smtp_client_recipient_status_name(outcome->status));
        enum delivery_decision decision = DECIDE_DELIVERED;
        if (outcome->status != SMTP_CLIENT_RCPT_ACCEPTED)
            decision = delivery_decide(outcome->scope, outcome->reply_class,
                                       false);
        if (decision == DECIDE_BOUNCE)
            bounced[bounced_count++] = index;
        else if (decision == DECIDE_DEFER || decision == DECIDE_NEXT_MX)
            envelope->recipients[kept++] = index;
    }
    envelope->recipient_count = kept;

    outgoing_bounce(world, message, bounced, bounced_count, REASON_SMTP_PERMANENT);
    if (kept > 0)
        outgoing_defer(world, envelope);
    else
        world_envelope_free(world, envelope);
    session->envelope = NULL;
    release_message(session);
}

static void conclude(struct smtp_session *session, const struct smtp_client_result *result)
{
    settle_result(session, result);
    end_server_side(session);
    end_session(session);
}

/* No host took the message in this attempt: every recipient is deferred
 * with the last failure. */
static void conclude_unreached(struct smtp_session *session, int code,
                               const struct smtp_reply *reply)
{
    struct world *world = session->world;
    struct envelope *envelope = session->envelope;
    struct message *message = envelope->message;

    for (uint16_t i = 0; i < envelope->recipient_count; i++) {
        struct recipient *recipient = &message->recipients[envelope->recipients[i]];
        recipient->attempts++;
        if (reply)
            note_reply(recipient, code, reply->enhanced_class, reply->enhanced_subject,
                       reply->enhanced_detail);
        else
            note_reply(recipient, code, 0, 0, 0);
    }
    outgoing_defer(world, envelope);
    end_session(session);
}

/* The MX lookup settled the envelope's fate without a connection: a
 * permanent answer bounces every recipient with `code` and `enhanced` as the
 * reason given in the DSN; a temporary one defers them. */
static void conclude_at_lookup(struct smtp_session *session, bool permanent, int code,
                               const char *enhanced, enum outcome_reason reason)
{
    struct world *world = session->world;
    struct envelope *envelope = session->envelope;
    struct message *message = envelope->message;

    session->attempt_start = engine_now(world->engine);
    record_attempt(session, code, enhanced, "MX lookup", permanent ? "bounced" : "deferred");
    for (uint16_t i = 0; i < envelope->recipient_count; i++) {
        struct recipient *recipient = &message->recipients[envelope->recipients[i]];
        recipient->attempts++;
        recipient->reply_code = (int16_t)code;
        snprintf(recipient->enhanced, sizeof recipient->enhanced, "%s", enhanced);
    }
    if (permanent) {
        outgoing_bounce(world, message, envelope->recipients,
                          envelope->recipient_count, reason);
        world_envelope_free(world, envelope);
    } else {
        outgoing_defer(world, envelope);
    }
    end_session(session);
}

/* The attempts.step value (report_attempt_steps) for a failure in each
 * client state. */
static const char *attempt_step(enum smtp_client_state state)
{
    static const char *const steps[SMTP_CLIENT_STATE_COUNT] = {
        [SMTP_CLIENT_GREETING] = "greeting",
        [SMTP_CLIENT_EHLO] = "EHLO",
        [SMTP_CLIENT_HELO] = "HELO",
        [SMTP_CLIENT_STARTTLS] = "STARTTLS",
        [SMTP_CLIENT_RSET] = "RSET",
        [SMTP_CLIENT_MAIL] = "MAIL FROM",
        [SMTP_CLIENT_RCPT] = "RCPT TO",
        [SMTP_CLIENT_DATA] = "DATA",
        [SMTP_CLIENT_BODY] = "end of data",
        [SMTP_CLIENT_QUIT] = "QUIT",
    };
    if ((unsigned)state >= SMTP_CLIENT_STATE_COUNT || !steps[state])
        return "QUIT";
    return steps[state];
}

/* The attempts.result column for a host that did not take the message. */
static const char *const attempt_result_names[DECIDE_COUNT] = {
    [DECIDE_DELIVERED] = "delivered",
    [DECIDE_NEXT_MX] = "next_mx",
    [DECIDE_DEFER] = "deferred",
    [DECIDE_BOUNCE] = "bounced",
};

static void begin_connect(struct smtp_session *session);
static void pin_hosts(struct smtp_session *session);

/* Handles a connection to the current host that failed or was refused at
 * the greeting: tries the next host when delivery_decide returns
 * DECIDE_NEXT_MX, else defers or bounces. */
static void host_failed(struct smtp_session *session, enum failure_scope scope,
                        enum smtp_reply_class reply_class, int code,
                        const struct smtp_reply *reply, const char *step)
{
    bool more = session->host_index + 1 < usable_hosts(session);
    enum delivery_decision decision = delivery_decide(scope, reply_class, more);
    char enhanced[16] = "";

    if (reply && reply->enhanced_class)
        snprintf(enhanced, sizeof enhanced, "%d.%d.%d", reply->enhanced_class,
                 reply->enhanced_subject, reply->enhanced_detail);
    record_attempt(session, code, enhanced, step, attempt_result_names[decision]);
    end_server_side(session);
    if (decision == DECIDE_DEFER)
        outgoing_count_unreached(session->sender, session->destination,
                                 engine_now(session->world->engine));
    if (decision == DECIDE_NEXT_MX) {
        session->host_index++;
        begin_connect(session);
    } else if (decision == DECIDE_BOUNCE) {
        struct smtp_client_result result = {0};
        for (uint16_t i = 0; i < session->envelope->recipient_count; i++)
            result.recipients[i] = (struct smtp_client_recipient){
                .status = SMTP_CLIENT_RCPT_PERMANENT, .scope = scope,
                .reply_class = reply_class, .code = code};
        conclude(session, &result);
    } else {
        conclude_unreached(session, code, reply);
    }
}

static void begin_connect(struct smtp_session *session)
{
    struct world *world = session->world;
    const struct provider *sender = session->sender->params;
    enum fault_mode mode;

    const char *host = current_host(session);
    session->server_provider = (uint32_t)scenario_find_host(world->scenario, host);
    session->attempt_start = engine_now(world->engine);
    memset(session->server_accepted, 0,
           session->envelope->recipient_count * sizeof *session->server_accepted);

    journey_note(world, session->message, "connects to %s (one-way latency %.1f ms)",
                 host, sim_time_to_seconds(one_way(session)) * 1000);
    if (world_host_down(world, host, session->attempt_start, &mode)) {
        journey_note(world, session->message, "%s is down: the connection %s", host,
                     mode == FAULT_REFUSED ? "is refused" : "times out");
        /* A refusal (RST) comes back after one round trip; a silent host
         * costs the whole connect timeout (Postfix smtp_connect_timeout). */
        sim_time delay = mode == FAULT_REFUSED ? 2 * one_way(session)
                                               : sender->smtp_out.connect_timeout;
        schedule_step(session, delay, STEP_CONNECT_FAILED);
        return;
    }
    schedule_step(session, 3 * one_way(session), STEP_SERVER_ACCEPT);
}

/* Acts on an MX answer, cached or fresh (RFC 5321 section 5.1): NXDOMAIN
 * and a null MX are permanent, a domain without MX records or address
 * record has no host to try, and otherwise the hosts are tried in order
 * of preference. */
static void note_answer(const struct smtp_session *session)
{
    const struct dns_answer *answer = &session->answer;
    char hosts[512] = "";
    size_t used = 0;

    for (size_t m = 0; m < answer->mx_count && used < sizeof hosts; m++)
        used += (size_t)snprintf(hosts + used, sizeof hosts - used, "%sMX %d %s",
                                 m ? ", " : "", answer->mx[m].preference, answer->mx[m].host);
    journey_write(session->world, session->message, "DNS answer: %s%s%s",
                  dns_rcode_name(answer->rcode), used ? ", " : "", hosts);
}

static void use_answer(struct smtp_session *session)
{
    struct dns_answer *answer = &session->answer;

    if (journey_following(session->world, session->message))
        note_answer(session);

    if (answer->rcode == DNS_NXDOMAIN) {
        /* RFC 3463 X.1.2: bad destination system address. */
        conclude_at_lookup(session, true, 550, "5.1.2", REASON_NXDOMAIN);
        return;
    }
    if (answer->mx_count == 1 && strcmp(answer->mx[0].host, ".") == 0) {
        /* RFC 7505 section 4.3: the domain accepts no mail; 556 5.1.10. */
        conclude_at_lookup(session, true, 556, "5.1.10", REASON_NULL_MX);
        return;
    }
    if (answer->mx_count == 0) {
        conclude_at_lookup(session, true, 550, "5.1.2", REASON_NO_MX);
        return;
    }
    pin_hosts(session);
    dns_sort_mx(answer, session->sender->rng_dns);
    session->host_index = 0;
    begin_connect(session);
}

static void lookup_mx(struct smtp_session *session)
{
    struct world *world = session->world;
    const struct envelope *envelope = session->envelope;
    const struct resolver_params *resolver = &world->scenario->resolver;
    const char *domain = world->scenario->providers[envelope->to_provider]
                             .domains[envelope->to_domain];
    sim_time now = engine_now(world->engine);

    if (dns_cache_lookup(session->sender->dns_cache, domain, now, &session->answer)) {
        journey_note(world, session->message, "MX lookup for %s: answered from the "
                     "resolver's cache", domain);
        use_answer(session);
        return;
    }
    journey_note(world, session->message, "MX lookup for %s: query to the resolver", domain);
    /* A SERVFAIL comes back after the usual latency; a resolver that never
     * answers costs each query its timeout (resolv.conf timeout and
     * attempts).  Either is a temporary failure, and neither is cached. */
    switch (world_dns_fault(world, domain, now)) {
    case FAULT_DNS_SERVFAIL:
        schedule_step(session, world_sample_time(&resolver->latency,
                                                 session->sender->rng_dns),
                      STEP_DNS_SERVFAIL);
        return;
    case FAULT_DNS_TIMEOUT:
        schedule_step(session, resolver->timeout * resolver->attempts, STEP_DNS_TIMEOUT);
        return;
    default:
        break;
    }
    schedule_step(session, world_sample_time(&resolver->latency, session->sender->rng_dns),
                  STEP_RESOLVED);
}

static const struct dns_zone *find_zone(const struct scenario *scenario, const char *domain)
{
    for (size_t z = 0; z < scenario->zone_count; z++)
        if (strcasecmp(scenario->zones[z].domain, domain) == 0)
            return &scenario->zones[z];
    return NULL;
}

/* The resolver's answer from the zone, cached for its TTL (a negative
 * answer for the resolver's negative_ttl, RFC 2308). */
static void resolved(struct smtp_session *session)
{
    struct world *world = session->world;
    const struct scenario *scenario = world->scenario;
    const struct envelope *envelope = session->envelope;
    const char *domain = scenario->providers[envelope->to_provider]
                             .domains[envelope->to_domain];
    const struct dns_zone *zone = find_zone(scenario, domain);
    struct dns_answer *answer = &session->answer;

    *answer = (struct dns_answer){.rcode = DNS_NXDOMAIN, .ttl = scenario->resolver.negative_ttl};
    if (zone && !zone->nxdomain) {
        answer->rcode = DNS_NOERROR;
        answer->ttl = zone->ttl;
        for (size_t m = 0; m < zone->mx_count && m < DNS_MAX_MX; m++)
            answer->mx[answer->mx_count++] = (struct dns_mx){
                .preference = zone->mx[m].preference, .host = zone->mx[m].host};
        if (zone->null_mx)
            answer->mx[answer->mx_count++] = (struct dns_mx){.preference = 0, .host = "."};
        else if (zone->mx_count == 0 && zone->address)
            /* RFC 5321 section 5.1: the domain is its own implicit MX. */
            answer->mx[answer->mx_count++] = (struct dns_mx){.preference = 0,
                                                             .host = zone->domain};
    }
    if (scenario->resolver.cache)
        dns_cache_store(session->sender->dns_cache, domain, answer,
                        engine_now(world->engine));
    use_answer(session);
}

/* Points the answer's host names at the scenario's own strings, which live
 * as long as the run, rather than at the DNS cache's copies. */
static void pin_hosts(struct smtp_session *session)
{
    const struct scenario *scenario = session->world->scenario;
    struct dns_answer *answer = &session->answer;

    for (size_t m = 0; m < answer->mx_count; m++) {
        int provider = scenario_find_host(scenario, answer->mx[m].host);
        if (provider < 0)
            continue;
        const struct smtp_in_params *smtp_in = &scenario->providers[provider].smtp_in;
        for (size_t h = 0; h < smtp_in->host_count; h++)
            if (strcmp(smtp_in->hosts[h], answer->mx[m].host) == 0)
                answer->mx[m].host = smtp_in->hosts[h];
    }
}

/* Sends the server's reply text back after `commands` command times. */
static void send_reply(struct smtp_session *session, int commands)
{
    const struct provider *receiver = receiver_params(session);
    sim_time delay = one_way(session) +
                     world_transfer_time(session->world, session->reply_length);
    for (int i = 0; i < commands; i++)
        delay += world_sample_time(&receiver->smtp_in.command_time, receiver_rng(session));
    schedule_step(session, delay, STEP_REPLY_AT_CLIENT);
}

/* Fills in the client's address, key and sender for the receiving
 * policies.  MODEL: each sending provider sends from one address,
 * 198.18.<provider>.1 in RFC 2544's benchmarking range, like a single MTA
 * host, so per-client limits and greylisting count one client per
 * provider. */
static void describe_client(struct smtp_session *session)
{
    struct receive_client *client = &session->client_side;
    struct provider_state *sender = session->sender;
    const struct message *message = session->message;
    const struct provider *params = sender->params;

    client->address = 0xC6120000u | (sender->index & 0x1FFu) << 8 | 1u;
    snprintf(client->key, sizeof client->key, "%u.%u.%u.%u", client->address >> 24,
             client->address >> 16 & 0xFFu, client->address >> 8 & 0xFFu,
             client->address & 0xFFu);
    client->sender = session->sender_text;
    client->sender_domain = message->is_dsn ? ""
                            : params->domains[message->sender.domain];
    client->connection_counted = false;
}

static void end_server_side(struct smtp_session *session)
{
    session->connected = false;
    receive_path_end_session(session->world, session->server_provider,
                             &session->client_side, &session->server_slot);
}

/* The server side of the TCP handshake completed: the receiving policies
 * choose the greeting (see receive_path_greeting). */
static void server_accept(struct smtp_session *session)
{
    const struct provider *receiver = receiver_params(session);

    describe_client(session);
    int greeting = receive_path_greeting(session->world, session->server_provider,
                                         &session->client_side, &session->server_slot);
    session->policy = (struct smtp_server_policy){
        .greeting_code = greeting,
        .max_size = receiver->smtp_in.max_message_size,
        .check_recipient = check_recipient,
        .check_message = check_message,
        .ctx = session,
        .hostname = current_host(session),
        .starttls = receiver->smtp_in.protocol.starttls,
        .max_recipients = (size_t)receiver->smtp_in.protocol.max_recipients,
    };
    session->connected = true;
    session->connection = ++session->world->connections;
    smtp_server_init(&session->server, &session->policy);
    smtp_client_init(&session->client, &session->client_envelope);
    session->reply_length = smtp_server_greeting(&session->server, session->reply,
                                                 sizeof session->reply);
    arm_timeout(session);
    send_reply(session, 1);
}

static void handle_output(struct smtp_session *session,
                          const struct smtp_client_output *out);

/* After a transaction on a connection kept open: the next envelope that
 * waits for this destination goes on the same connection (Postfix's
 * connection cache on demand), or else the client says QUIT. */
static void continue_or_quit(struct smtp_session *session)
{
    struct envelope *next = outgoing_take_waiting(session->sender, session->destination);
    struct smtp_client_output out;

    if (next) {
        prepare_envelope(session, next);
        begin_envelope(session);
        return;
    }
    smtp_client_quit(&session->client, &out);
    handle_output(session, &out);
}

static void session_finished(struct smtp_session *session,
                             const struct smtp_client_result *result)
{
    const char *step = attempt_step(result->failed_state);

    /* No usable greeting: this host is out of this attempt, the next MX
     * may do (RFC 5321 section 5.1). */
    if (result->scope == FAILURE_SCOPE_GREETING) {
        host_failed(session, result->scope, result->reply_class, result->code, NULL,
                    step);
        return;
    }
    session->sender->destination_failures[session->destination] = 0;

    int code = result->code;
    if (result->scope == FAILURE_SCOPE_NONE) {
        /* Every recipient got its own reply: at end of data if any RCPT
         * was accepted, else at RCPT TO. */
        step = result->accepted_count > 0 ? "end of data" : "RCPT TO";
        code = result->recipient_count > 0 ? result->recipients[0].code : 0;
    }
    char enhanced[16] = "";
    if (result->recipient_count > 0 && result->recipients[0].enhanced_class)
        snprintf(enhanced, sizeof enhanced, "%d.%d.%d",
                 result->recipients[0].enhanced_class,
                 result->recipients[0].enhanced_subject,
                 result->recipients[0].enhanced_detail);
    record_attempt(session, code, enhanced, step,
                   result->accepted_count == result->recipient_count ? "delivered"
                   : result->accepted_count > 0 ? "partly delivered" : "failed");
    if (session->client.state == SMTP_CLIENT_IDLE) {
        settle_result(session, result);
        continue_or_quit(session);
        return;
    }
    conclude(session, result);
}

/* Sends the command text in session->line (one command, or a pipelined
 * group) to the server: one trip across the link. */
static void send_line(struct smtp_session *session)
{
    arm_timeout(session);
    schedule_step(session, one_way(session) +
                  world_transfer_time(session->world, session->line_length),
                  STEP_LINE_AT_SERVER);
}

static void handle_output(struct smtp_session *session,
                          const struct smtp_client_output *out)
{
    struct world *world = session->world;
    const struct smtp_out_protocol *protocol = &session->sender->params->smtp_out.protocol;

    switch (out->action) {
    case SMTP_CLIENT_ACTION_SEND_LINE:
        memcpy(session->line, out->line, out->line_length);
        session->line_length = out->line_length;
        journey_wire(world, session->message, "C: ", out->line, out->line_length);
        send_line(session);
        break;
    case SMTP_CLIENT_ACTION_SEND_BODY:
        journey_note(world, session->message, "C: (the message, %llu bytes)",
                     (unsigned long long)out->body_size);
        journey_note(world, session->message, "C: .");
        arm_timeout(session);
        schedule_step(session, one_way(session) +
                      world_transfer_time(world, out->body_size + out->line_length),
                      STEP_BODY_AT_SERVER);
        break;
    case SMTP_CLIENT_ACTION_START_TLS:
        /* The TLS handshake: its round trips and computation, then the
         * client's new EHLO (RFC 3207 section 4.2). */
        memcpy(session->line, out->line, out->line_length);
        session->line_length = out->line_length;
        journey_note(world, session->message, "TLS handshake (%d round trips)",
                     protocol->tls_round_trips);
        schedule_step(session, 2 * protocol->tls_round_trips * one_way(session) +
                      protocol->tls_cpu, STEP_TLS_DONE);
        break;
    case SMTP_CLIENT_ACTION_NONE:
        if (!out->result)
            arm_timeout(session);
        break;
    case SMTP_CLIENT_ACTION_CLOSE:
        if (!out->result) {
            /* QUIT from an idle connection, or the server closed it. */
            end_server_side(session);
            end_session(session);
            return;
        }
        break;
    case SMTP_CLIENT_ACTION_COUNT:
        abort();
    }
    if (out->result)
        session_finished(session, out->result);
}

/* Hands every reply in the buffer to the client in order; a pipelined
 * group gets one reply per command.  The client acts on the last, or on
 * the first that ends the transaction early. */
static void reply_at_client(struct smtp_session *session)
{
    struct smtp_reply reply;
    struct smtp_client_output out;   /* 8 KB: not zeroed on this hot path */
    size_t offset = 0;

    out.action = SMTP_CLIENT_ACTION_NONE;
    out.result = NULL;

    engine_cancel(session->world->engine, session->timeout);
    session->timeout = EVENT_HANDLE_NONE;
    journey_wire(session->world, session->message, "S: ", session->reply,
                 session->reply_length);
    while (offset < session->reply_length) {
        size_t consumed = 0;
        if (smtp_reply_parse(session->reply + offset, session->reply_length - offset,
                             &reply, &consumed) != 1) {
            fprintf(stderr, "mailsim: internal error: the simulated server sent an "
                    "incomplete or malformed reply: %.*s\n",
                    (int)(session->reply_length - offset), session->reply + offset);
            abort();
        }
        offset += consumed;
        smtp_client_on_reply(&session->client, &reply, &out);
        if (out.action != SMTP_CLIENT_ACTION_NONE || out.result)
            break;
    }
    handle_output(session, &out);
}

/* The server reads each command of the group in turn and answers each;
 * its command time is spent once per command. */
static void line_at_server(struct smtp_session *session)
{
    size_t offset = 0;
    int commands = 0;

    session->reply_length = 0;
    while (offset < session->line_length) {
        const char *line = session->line + offset;
        const char *end = memchr(line, '\n', session->line_length - offset);
        size_t length = end ? (size_t)(end - line) + 1 : session->line_length - offset;
        session->reply_length += smtp_server_on_line(&session->server, line, length,
                                                     session->reply + session->reply_length,
                                                     sizeof session->reply -
                                                         session->reply_length);
        offset += length;
        commands++;
    }
    if (session->reply_length > 0)
        send_reply(session, commands);
}

/* Attachments over the offload threshold go to the object store before
 * the server answers the end of data. */
static void body_at_server(struct smtp_session *session)
{
    const struct provider *receiver = receiver_params(session);
    const struct message *message = session->envelope->message;

    if (message->attachment_size > receiver->storage.offload_threshold) {
        struct provider_state *state = &session->world->providers[session->server_provider];
        schedule_step(session, world_sample_time(&receiver->storage.object_store,
                                                 state->rng_storage),
                      STEP_BODY_STORED);
        return;
    }
    on_step(session->world->engine, session, STEP_BODY_STORED);
}

static void body_stored(struct smtp_session *session)
{
    session->reply_length = smtp_server_on_body_end(&session->server,
                                                    session->envelope->message->size,
                                                    session->reply, sizeof session->reply);
    send_reply(session, 1);
}

static void timed_out(struct smtp_session *session)
{
    struct smtp_client_output out;
    session->timeout = EVENT_HANDLE_NONE;
    smtp_client_on_timeout(&session->client, &out);
    handle_output(session, &out);
}

/* After the scan and the Sent copy: a new connection starts with the MX
 * lookup; an open one goes on with the next MAIL transaction. */
static void start_transaction(struct smtp_session *session)
{
    struct smtp_client_output out;

    if (!session->connected) {
        lookup_mx(session);
        return;
    }
    session->attempt_start = engine_now(session->world->engine);
    smtp_client_next_envelope(&session->client, &session->client_envelope, &out);
    handle_output(session, &out);
}

static void on_step(struct engine *engine, void *object, uint64_t step)
{
    struct smtp_session *session = object;
    struct provider_state *sender = session->sender;

    switch ((enum session_step)step) {
    case STEP_SCANNED:
        if (!session->envelope->message->copied_to_sent) {
            session->envelope->message->copied_to_sent = true;
            schedule_step(session, world_sample_time(&sender->params->storage.mail_store,
                                                     sender->rng_storage),
                          STEP_SENT_COPY);
            return;
        }
        start_transaction(session);
        return;
    case STEP_SENT_COPY:
        start_transaction(session);
        return;
    case STEP_TLS_DONE:
        journey_wire(session->world, session->message, "C: ", session->line,
                     session->line_length);
        send_line(session);
        return;
    case STEP_RESOLVED:
        resolved(session);
        return;
    case STEP_DNS_SERVFAIL:
        conclude_at_lookup(session, false, 0, "4.4.3", REASON_NONE);
        return;
    case STEP_DNS_TIMEOUT:
        conclude_at_lookup(session, false, 0, "4.4.3", REASON_NONE);
        return;
    case STEP_CONNECT_FAILED:
        /* A refused or silent host is a temporary, connection-level
         * failure (Postfix smtp_connect.c tries the next MX host). */
        host_failed(session, FAILURE_SCOPE_CONNECT, SMTP_REPLY_TRANSIENT, 0, NULL,
                    "connect");
        return;
    case STEP_SERVER_ACCEPT:
        server_accept(session);
        return;
    case STEP_LINE_AT_SERVER:
        line_at_server(session);
        return;
    case STEP_BODY_AT_SERVER:
        body_at_server(session);
        return;
    case STEP_BODY_STORED:
        body_stored(session);
        return;
    case STEP_REPLY_AT_CLIENT:
        reply_at_client(session);
        return;
    case STEP_TIMEOUT:
        timed_out(session);
        return;
    }
    fprintf(stderr, "mailsim: internal error: unknown session step %llu at %lld ns\n",
            (unsigned long long)step, (long long)engine_now(engine));
    abort();
}
