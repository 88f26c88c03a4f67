#include "models/smtp_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* End of the message data (RFC 5321 4.1.1.4).  The first CRLF ends the
 * last line of the message, which the driver sends without one. */
#define CLIENT_END_OF_DATA "\r\n.\r\n"

struct client_state_info {
    const char *name;
    const char *phrase;
    sim_time timeout;
};

/*
 * Per-state names, log phrases and reply timeouts.  RFC 5321 4.5.3.2 gives
 * no value for EHLO, HELO and QUIT, so they use the 5 minutes of MAIL.
 */
static const struct client_state_info client_states[SMTP_CLIENT_STATE_COUNT] = {
    /* RFC 5321 4.5.3.2.1: initial 220 message, 5 minutes. */
    [SMTP_CLIENT_GREETING] = {"GREETING", "waiting for the greeting",
                              5 * SIM_MIN},
    [SMTP_CLIENT_EHLO] = {"EHLO", "sending EHLO", 5 * SIM_MIN},
    [SMTP_CLIENT_HELO] = {"HELO", "sending HELO", 5 * SIM_MIN},
    /* RFC 5321 4.5.3.2.2: MAIL command, 5 minutes. */
    [SMTP_CLIENT_MAIL] = {"MAIL", "sending MAIL FROM", 5 * SIM_MIN},
    /* RFC 5321 4.5.3.2.3: RCPT command, 5 minutes. */
    [SMTP_CLIENT_RCPT] = {"RCPT", "sending RCPT TO", 5 * SIM_MIN},
    /* RFC 5321 4.5.3.2.4: DATA initiation, 2 minutes. */
    [SMTP_CLIENT_DATA] = {"DATA", "sending DATA", 2 * SIM_MIN},
    /* RFC 5321 4.5.3.2.6: DATA termination, 10 minutes. */
    [SMTP_CLIENT_BODY] = {"BODY", "sending the message", 10 * SIM_MIN},
    [SMTP_CLIENT_QUIT] = {"QUIT", "sending QUIT", 5 * SIM_MIN},
    [SMTP_CLIENT_DONE] = {"DONE", "done", 0},
};

/* Meaning of a reply at the step that received it. */
enum client_outcome {
    CLIENT_OUTCOME_OK,
    CLIENT_OUTCOME_TRANSIENT,
    CLIENT_OUTCOME_PERMANENT,
    CLIENT_OUTCOME_CLOSING,    /* 421: the server is closing the channel */
};

static void client_output_reset(struct smtp_client_output *out)
{
    out->action = SMTP_CLIENT_ACTION_NONE;
    out->line[0] = '\0';
    out->line_length = 0;
    out->body_size = 0;
    out->result = NULL;
}

__attribute__((format(printf, 2, 3)))
static void client_send(struct smtp_client_output *out, const char *format, ...)
{
    va_list args;
    int n;

    va_start(args, format);
    n = vsnprintf(out->line, sizeof out->line, format, args);
    va_end(args);
    if (n < 0 || (size_t)n > SMTP_CLIENT_LINE_MAX) {
        /* RFC 5321 4.5.3.1: paths are at most 256 octets and domains 255,
         * so only an invalid envelope gets here. */
        fprintf(stderr, "smtp_client: command longer than %d bytes: %.40s\n",
                SMTP_CLIENT_LINE_MAX, out->line);
        abort();
    }
    out->action = SMTP_CLIENT_ACTION_SEND_LINE;
    out->line_length = (size_t)n;
}

/*
 * Classifies a reply at a step that expects `expected` (2yz, or 3yz after
 * DATA).  Any other class is a protocol error and counts as permanent:
 * clients SHOULD treat codes whose first digit is not 2-5 as fatal
 * (RFC 5321 4.2), and Postfix's smtp_trouble.c reports unexpected classes
 * as "Protocol error" with status 5.5.0.
 */
static enum client_outcome client_outcome(const struct smtp_reply *reply,
                                          enum smtp_reply_class expected)
{
    enum smtp_reply_class cls = smtp_reply_class(reply->code);

    /* RFC 5321 3.8: 421 may be the reply to any command and closes the
     * session. */
    if (reply->code == 421)
        return CLIENT_OUTCOME_CLOSING;
    if (cls == expected)
        return CLIENT_OUTCOME_OK;
    if (cls == SMTP_REPLY_TRANSIENT)
        return CLIENT_OUTCOME_TRANSIENT;
    return CLIENT_OUTCOME_PERMANENT;
}

/* Builds the recipient outcome for a failure reply. */
static struct smtp_client_recipient client_failure_from_reply(
    enum failure_scope scope, enum client_outcome outcome,
    const struct smtp_reply *reply)
{
    struct smtp_client_recipient failure = {
        .status = outcome == CLIENT_OUTCOME_PERMANENT
                      ? SMTP_CLIENT_RCPT_PERMANENT
                      : SMTP_CLIENT_RCPT_TRANSIENT,
        .scope = scope,
        .reply_class = outcome == CLIENT_OUTCOME_PERMANENT
                           ? SMTP_REPLY_PERMANENT
                           : SMTP_REPLY_TRANSIENT,
        .code = reply->code,
        .enhanced_class = reply->enhanced_class,
        .enhanced_subject = reply->enhanced_subject,
        .enhanced_detail = reply->enhanced_detail,
    };
    enum smtp_reply_class cls = smtp_reply_class(reply->code);

    if (cls != SMTP_REPLY_TRANSIENT && cls != SMTP_REPLY_PERMANENT) {
        /* Protocol error: 5.5.0 "other or undefined protocol status"
         * (RFC 3463), as Postfix reports it. */
        failure.enhanced_class = 5;
        failure.enhanced_subject = 5;
        failure.enhanced_detail = 0;
    }
    return failure;
}

/* Gives `failure` to every recipient without an outcome and records it as
 * the session's failure.  After the RCPT phase these are exactly the
 * recipients the server accepted, so a MESSAGE failure at DATA or end of
 * data reaches them and leaves refused recipients alone. */
static void client_fail_remaining(struct smtp_client *client,
                                  const struct smtp_client_recipient *failure,
                                  enum smtp_client_cause cause)
{
    struct smtp_client_result *result = &client->result;

    result->scope = failure->scope;
    result->cause = cause;
    result->failed_state = client->state;
    result->reply_class = failure->reply_class;
    result->code = failure->code;
    for (size_t i = 0; i < result->recipient_count; i++) {
        struct smtp_client_recipient *recipient = &result->recipients[i];
        bool rcpt_accepted = recipient->rcpt_accepted;

        if (recipient->status != SMTP_CLIENT_RCPT_NOT_TRIED)
            continue;
        *recipient = *failure;
        recipient->rcpt_accepted = rcpt_accepted;
    }
}

/* Produces the command for `state` and moves to it. */
static void client_enter(struct smtp_client *client,
                         enum smtp_client_state state,
                         struct smtp_client_output *out)
{
    const struct smtp_client_envelope *envelope = client->envelope;

    client->state = state;
    switch (state) {
    case SMTP_CLIENT_EHLO:
        /* RFC 5321 3.2, 4.1.1.1: a session starts with EHLO. */
        client_send(out, "EHLO %s\r\n", envelope->helo_name);
        break;
    case SMTP_CLIENT_HELO:
        client_send(out, "HELO %s\r\n", envelope->helo_name);
        break;
    case SMTP_CLIENT_MAIL:
        /* RFC 5321 3.3: no space on either side of the colon; the null
         * reverse-path is "<>" (4.1.2). */
        client_send(out, "MAIL FROM:<%s>\r\n", envelope->sender);
        break;
    case SMTP_CLIENT_RCPT:
        client_send(out, "RCPT TO:<%s>\r\n",
                    envelope->recipients[client->next_recipient]);
        break;
    case SMTP_CLIENT_DATA:
        client_send(out, "DATA\r\n");
        break;
    case SMTP_CLIENT_BODY:
        out->action = SMTP_CLIENT_ACTION_SEND_BODY;
        out->body_size = envelope->size;
        out->line_length = strlen(CLIENT_END_OF_DATA);
        memcpy(out->line, CLIENT_END_OF_DATA, out->line_length + 1);
        break;
    case SMTP_CLIENT_QUIT:
        /* RFC 5321 4.1.1.10: the client sends QUIT before closing, even
         * after an error reply. */
        client_send(out, "QUIT\r\n");
        break;
    case SMTP_CLIENT_DONE:
        out->action = SMTP_CLIENT_ACTION_CLOSE;
        out->result = &client->result;
        break;
    default:
        fprintf(stderr, "smtp_client: cannot enter state %d\n", (int)state);
        abort();
    }
}

/*
 * Records a failure reply for the whole session or message and ends the
 * transaction.  After a 421 the server closes the channel (RFC 5321 3.8),
 * so the client closes too; otherwise it sends QUIT first.
 */
static void client_fail_step(struct smtp_client *client,
                             enum failure_scope scope,
                             enum client_outcome outcome,
                             const struct smtp_reply *reply,
                             struct smtp_client_output *out)
{
    struct smtp_client_recipient failure;

    if (outcome == CLIENT_OUTCOME_CLOSING && scope != FAILURE_SCOPE_GREETING)
        scope = FAILURE_SCOPE_SESSION;
    failure = client_failure_from_reply(scope, outcome, reply);
    client_fail_remaining(client, &failure, SMTP_CLIENT_CAUSE_REPLY);
    client_enter(client, outcome == CLIENT_OUTCOME_CLOSING
                             ? SMTP_CLIENT_DONE : SMTP_CLIENT_QUIT, out);
}

static void client_on_greeting(struct smtp_client *client,
                               const struct smtp_reply *reply,
                               struct smtp_client_output *out)
{
    enum client_outcome outcome = client_outcome(reply, SMTP_REPLY_POSITIVE);

    if (outcome == CLIENT_OUTCOME_OK) {
        client_enter(client, SMTP_CLIENT_EHLO, out);
        return;
    }
    /* RFC 5321 3.1: after a 554 greeting the server waits for QUIT. */
    client_fail_step(client, FAILURE_SCOPE_GREETING, outcome, reply, out);
}

static void client_on_ehlo(struct smtp_client *client,
                           const struct smtp_reply *reply,
                           struct smtp_client_output *out)
{
    enum client_outcome outcome = client_outcome(reply, SMTP_REPLY_POSITIVE);

    switch (outcome) {
    case CLIENT_OUTCOME_OK:
        client_enter(client, SMTP_CLIENT_MAIL, out);
        break;
    case CLIENT_OUTCOME_CLOSING:
        client_fail_step(client, FAILURE_SCOPE_SESSION, outcome, reply, out);
        break;
    default:
        /* RFC 5321 3.2: fall back to HELO when EHLO is not recognized.
         * The server stays in its state after refusing EHLO (4.1.4), so
         * like Postfix's smtp_proto.c we fall back after any refusal. */
        client_enter(client, SMTP_CLIENT_HELO, out);
        break;
    }
}

static void client_on_helo(struct smtp_client *client,
                           const struct smtp_reply *reply,
                           struct smtp_client_output *out)
{
    enum client_outcome outcome = client_outcome(reply, SMTP_REPLY_POSITIVE);

    if (outcome == CLIENT_OUTCOME_OK)
        client_enter(client, SMTP_CLIENT_MAIL, out);
    else
        client_fail_step(client, FAILURE_SCOPE_SESSION, outcome, reply, out);
}

static void client_on_mail(struct smtp_client *client,
                           const struct smtp_reply *reply,
                           struct smtp_client_output *out)
{
    enum client_outcome outcome = client_outcome(reply, SMTP_REPLY_POSITIVE);

    if (outcome == CLIENT_OUTCOME_OK) {
        client->next_recipient = 0;
        client_enter(client, SMTP_CLIENT_RCPT, out);
        return;
    }
    /* RFC 5321 3.3: a refused MAIL fails the message for every recipient. */
    client_fail_step(client, FAILURE_SCOPE_MESSAGE, outcome, reply, out);
}

/* Records the reply to RCPT for the current recipient alone. */
static void client_record_rcpt(struct smtp_client *client,
                               enum client_outcome outcome,
                               const struct smtp_reply *reply)
{
    struct smtp_client_recipient *recipient =
        &client->result.recipients[client->next_recipient];

    if (outcome == CLIENT_OUTCOME_OK) {
        recipient->rcpt_accepted = true;
        recipient->code = reply->code;
        client->rcpt_accepted_count++;
        return;
    }
    /* RFC 5321 4.5.3.1.10: treat 552 to RCPT ("too many recipients" in
     * RFC 821) as temporary. */
    if (reply->code == 552)
        outcome = CLIENT_OUTCOME_TRANSIENT;
    *recipient = client_failure_from_reply(FAILURE_SCOPE_RECIPIENT, outcome,
                                           reply);
}

static void client_on_rcpt(struct smtp_client *client,
                           const struct smtp_reply *reply,
                           struct smtp_client_output *out)
{
    enum client_outcome outcome = client_outcome(reply, SMTP_REPLY_POSITIVE);

    if (outcome == CLIENT_OUTCOME_CLOSING) {
        client_fail_step(client, FAILURE_SCOPE_SESSION, outcome, reply, out);
        return;
    }
    client_record_rcpt(client, outcome, reply);
    client->next_recipient++;

    if (client->next_recipient < client->envelope->recipient_count)
        client_enter(client, SMTP_CLIENT_RCPT, out);
    else if (client->rcpt_accepted_count > 0)
        client_enter(client, SMTP_CLIENT_DATA, out);
    else
        /* RFC 5321 3.3: with every RCPT rejected, DATA can only fail, so
         * the client skips it and ends the session. */
        client_enter(client, SMTP_CLIENT_QUIT, out);
}

static void client_on_data(struct smtp_client *client,
                           const struct smtp_reply *reply,
                           struct smtp_client_output *out)
{
    enum client_outcome outcome =
        client_outcome(reply, SMTP_REPLY_INTERMEDIATE);

    /* RFC 5321 3.3: message data is sent only after a 354 reply. */
    if (outcome == CLIENT_OUTCOME_OK)
        client_enter(client, SMTP_CLIENT_BODY, out);
    else
        client_fail_step(client, FAILURE_SCOPE_MESSAGE, outcome, reply, out);
}

/* RFC 5321 4.1.1.4: a 2yz end-of-data reply accepts the message for every
 * recipient accepted at RCPT; there is no partial success at this point. */
static void client_accept_message(struct smtp_client *client,
                                  const struct smtp_reply *reply)
{
    struct smtp_client_result *result = &client->result;

    for (size_t i = 0; i < result->recipient_count; i++) {
        struct smtp_client_recipient *recipient = &result->recipients[i];

        if (!recipient->rcpt_accepted)
            continue;
        recipient->status = SMTP_CLIENT_RCPT_ACCEPTED;
        recipient->reply_class = SMTP_REPLY_POSITIVE;
        recipient->code = reply->code;
        recipient->enhanced_class = reply->enhanced_class;
        recipient->enhanced_subject = reply->enhanced_subject;
        recipient->enhanced_detail = reply->enhanced_detail;
        result->accepted_count++;
    }
}

static void client_on_body(struct smtp_client *client,
                           const struct smtp_reply *reply,
                           struct smtp_client_output *out)
{
    enum client_outcome outcome = client_outcome(reply, SMTP_REPLY_POSITIVE);

    if (outcome == CLIENT_OUTCOME_OK) {
        client_accept_message(client, reply);
        client_enter(client, SMTP_CLIENT_QUIT, out);
        return;
    }
    client_fail_step(client, FAILURE_SCOPE_MESSAGE, outcome, reply, out);
}

void smtp_client_init(struct smtp_client *client,
                      const struct smtp_client_envelope *envelope)
{
    if (envelope->recipient_count == 0
        || envelope->recipient_count > SMTP_CLIENT_MAX_RECIPIENTS) {
        fprintf(stderr, "smtp_client_init: %zu recipients, expected 1 to %d\n",
                envelope->recipient_count, SMTP_CLIENT_MAX_RECIPIENTS);
        abort();
    }
    memset(client, 0, sizeof *client);
    client->state = SMTP_CLIENT_GREETING;
    client->envelope = envelope;
    client->result.scope = FAILURE_SCOPE_NONE;
    client->result.cause = SMTP_CLIENT_CAUSE_NONE;
    client->result.failed_state = SMTP_CLIENT_DONE;
    client->result.reply_class = SMTP_REPLY_POSITIVE;
    client->result.recipient_count = envelope->recipient_count;
    for (size_t i = 0; i < envelope->recipient_count; i++) {
        client->result.recipients[i].status = SMTP_CLIENT_RCPT_NOT_TRIED;
        client->result.recipients[i].scope = FAILURE_SCOPE_NONE;
        client->result.recipients[i].reply_class = SMTP_REPLY_POSITIVE;
    }
}

void smtp_client_on_reply(struct smtp_client *client,
                          const struct smtp_reply *reply,
                          struct smtp_client_output *out)
{
    client_output_reset(out);
    switch (client->state) {
    case SMTP_CLIENT_GREETING:
        client_on_greeting(client, reply, out);
        break;
    case SMTP_CLIENT_EHLO:
        client_on_ehlo(client, reply, out);
        break;
    case SMTP_CLIENT_HELO:
        client_on_helo(client, reply, out);
        break;
    case SMTP_CLIENT_MAIL:
        client_on_mail(client, reply, out);
        break;
    case SMTP_CLIENT_RCPT:
        client_on_rcpt(client, reply, out);
        break;
    case SMTP_CLIENT_DATA:
        client_on_data(client, reply, out);
        break;
    case SMTP_CLIENT_BODY:
        client_on_body(client, reply, out);
        break;
    case SMTP_CLIENT_QUIT:
        /* The outcome was settled before QUIT; any reply ends the session. */
        client_enter(client, SMTP_CLIENT_DONE, out);
        break;
    case SMTP_CLIENT_DONE:
        break;
    default:
        fprintf(stderr, "smtp_client_on_reply: invalid state %d\n",
                (int)client->state);
        abort();
    }
}

/*
 * Ends the session after a timeout or lost connection.  Both count as
 * transient (RFC 5321 3.8: act as if 451 had been received) and the
 * connection is closed without QUIT, since the server is not responding.
 * In QUIT the transaction is already over and only the close remains.
 */
static void client_on_connection_event(struct smtp_client *client,
                                       enum smtp_client_cause cause,
                                       struct smtp_client_output *out)
{
    struct smtp_client_recipient failure = {
        .status = SMTP_CLIENT_RCPT_TRANSIENT,
        .scope = FAILURE_SCOPE_SESSION,
        .reply_class = SMTP_REPLY_TRANSIENT,
        .enhanced_class = 4,
        .enhanced_subject = 4,
        .enhanced_detail = 2,
    };

    client_output_reset(out);
    switch (client->state) {
    case SMTP_CLIENT_GREETING:
        failure.scope = FAILURE_SCOPE_GREETING;
        /* fall through */
    case SMTP_CLIENT_EHLO:
    case SMTP_CLIENT_HELO:
    case SMTP_CLIENT_MAIL:
    case SMTP_CLIENT_RCPT:
    case SMTP_CLIENT_DATA:
    case SMTP_CLIENT_BODY:
        client_fail_remaining(client, &failure, cause);
        client_enter(client, SMTP_CLIENT_DONE, out);
        break;
    case SMTP_CLIENT_QUIT:
        client_enter(client, SMTP_CLIENT_DONE, out);
        break;
    case SMTP_CLIENT_DONE:
        break;
    default:
        fprintf(stderr, "smtp_client: invalid state %d\n", (int)client->state);
        abort();
    }
}

void smtp_client_on_timeout(struct smtp_client *client,
                            struct smtp_client_output *out)
{
    client_on_connection_event(client, SMTP_CLIENT_CAUSE_TIMEOUT, out);
}

void smtp_client_on_connection_lost(struct smtp_client *client,
                                    struct smtp_client_output *out)
{
    client_on_connection_event(client, SMTP_CLIENT_CAUSE_CONNECTION_LOST, out);
}

bool smtp_client_done(const struct smtp_client *client)
{
    return client->state == SMTP_CLIENT_DONE;
}

const struct smtp_client_result *smtp_client_result(
    const struct smtp_client *client)
{
    return &client->result;
}

const char *smtp_client_state_name(enum smtp_client_state state)
{
    if ((unsigned)state >= SMTP_CLIENT_STATE_COUNT)
        return "UNKNOWN";
    return client_states[state].name;
}

const char *smtp_client_state_phrase(enum smtp_client_state state)
{
    if ((unsigned)state >= SMTP_CLIENT_STATE_COUNT)
        return "in an unknown state";
    return client_states[state].phrase;
}

sim_time smtp_client_timeout(enum smtp_client_state state)
{
    if ((unsigned)state >= SMTP_CLIENT_STATE_COUNT)
        return 0;
    return client_states[state].timeout;
}

const char *smtp_client_recipient_status_name(
    enum smtp_client_recipient_status status)
{
    static const char *const names[SMTP_CLIENT_RCPT_STATUS_COUNT] = {
        [SMTP_CLIENT_RCPT_NOT_TRIED] = "not tried",
        [SMTP_CLIENT_RCPT_ACCEPTED] = "accepted",
        [SMTP_CLIENT_RCPT_TRANSIENT] = "transient",
        [SMTP_CLIENT_RCPT_PERMANENT] = "permanent",
    };

    if ((unsigned)status >= SMTP_CLIENT_RCPT_STATUS_COUNT)
        return "unknown";
    return names[status];
}

const char *smtp_client_action_name(enum smtp_client_action action)
{
    static const char *const names[SMTP_CLIENT_ACTION_COUNT] = {
        [SMTP_CLIENT_ACTION_NONE] = "none",
        [SMTP_CLIENT_ACTION_SEND_LINE] = "send line",
        [SMTP_CLIENT_ACTION_SEND_BODY] = "send body",
        [SMTP_CLIENT_ACTION_CLOSE] = "close",
    };

    if ((unsigned)action >= SMTP_CLIENT_ACTION_COUNT)
        return "unknown";
    return names[action];
}
