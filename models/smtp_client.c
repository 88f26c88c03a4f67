#include "models/smtp_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* End of the message data (RFC 5321 4.1.1.4).  The first CRLF ends the
 * last line of the message, which the driver sends without one. */
#define CLIENT_END_OF_DATA "\r\n.\r\n"
/* End of data with no message before it: the single dot RFC 2920 3.1
 * sends after a 354 that no accepted recipient asked for. */
#define CLIENT_EMPTY_DATA ".\r\n"
#define CLIENT_DATA_COMMAND "DATA\r\n"

/* Meaning of a reply at the step that received it. */
enum client_outcome {
    CLIENT_OUTCOME_OK,
    CLIENT_OUTCOME_TRANSIENT,
    CLIENT_OUTCOME_PERMANENT,
    CLIENT_OUTCOME_CLOSING,    /* 421: the server is closing the channel */
};

static void client_enter_quit(struct smtp_client *client,
                              struct smtp_client_output *out);
static void client_send_transaction(struct smtp_client *client,
                                    struct smtp_client_output *out);

static void client_output_reset(struct smtp_client_output *out)
{
    out->action = SMTP_CLIENT_ACTION_NONE;
    out->line[0] = '\0';
    out->line_length = 0;
    out->command_count = 0;
    out->body_size = 0;
    out->result = NULL;
}

static size_t client_vformat(char command[SMTP_CLIENT_LINE_MAX + 1],
                             const char *format, va_list args)
{
    int n = vsnprintf(command, SMTP_CLIENT_LINE_MAX + 1, format, args);

    if (n < 0 || (size_t)n > SMTP_CLIENT_LINE_MAX) {
        /* RFC 5321 4.5.3.1: paths are at most 256 octets and domains 255,
         * so only an invalid envelope gets here. */
        fprintf(stderr, "smtp_client: command longer than %d bytes: %.40s\n",
                SMTP_CLIENT_LINE_MAX, command);
        abort();
    }
    return (size_t)n;
}

/* Formats one command with its CRLF into `command` and returns its
 * length. */
__attribute__((format(printf, 2, 3)))
static size_t client_format(char command[SMTP_CLIENT_LINE_MAX + 1],
                            const char *format, ...)
{
    va_list args;
    size_t n;

    va_start(args, format);
    n = client_vformat(command, format, args);
    va_end(args);
    return n;
}

static bool client_room_for(const struct smtp_client_output *out, size_t n)
{
    return out->line_length + n <= SMTP_CLIENT_OUTPUT_MAX;
}

/* Adds one formatted command to the output; the caller checked the room. */
static void client_append(struct smtp_client_output *out, const char *command,
                          size_t n)
{
    if (!client_room_for(out, n)) {
        fprintf(stderr, "smtp_client: output full at %zu bytes\n",
                out->line_length);
        abort();
    }
    memcpy(out->line + out->line_length, command, n);
    out->line_length += n;
    out->line[out->line_length] = '\0';
    out->command_count++;
    out->action = SMTP_CLIENT_ACTION_SEND_LINE;
}

/* Sends one command and waits for its reply in `state`. */
__attribute__((format(printf, 4, 5)))
static void client_send(struct smtp_client *client,
                        enum smtp_client_state state,
                        struct smtp_client_output *out, const char *format, ...)
{
    char command[SMTP_CLIENT_LINE_MAX + 1];
    va_list args;
    size_t n;

    va_start(args, format);
    n = client_vformat(command, format, args);
    va_end(args);
    client_append(out, command, n);
    client->state = state;
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

/*
 * Gives `failure` to every recipient without an outcome and records it as
 * the envelope's failure, unless an earlier one was recorded.  Recipients
 * the server accepted at RCPT have no outcome until the end of data, so a
 * MESSAGE failure at DATA or end of data reaches them and leaves refused
 * recipients alone.
 */
static void client_fail_remaining(struct smtp_client *client,
                                  const struct smtp_client_recipient *failure,
                                  enum smtp_client_cause cause)
{
    struct smtp_client_result *result = &client->result;

    if (result->scope == FAILURE_SCOPE_NONE) {
        result->scope = failure->scope;
        result->cause = cause;
        result->failed_state = client->state;
        result->reply_class = failure->reply_class;
        result->code = failure->code;
    }
    for (size_t i = 0; i < result->recipient_count; i++) {
        struct smtp_client_recipient *recipient = &result->recipients[i];
        bool rcpt_accepted = recipient->rcpt_accepted;

        if (recipient->status != SMTP_CLIENT_RCPT_NOT_TRIED)
            continue;
        *recipient = *failure;
        recipient->rcpt_accepted = rcpt_accepted;
    }
}

/* Hands the envelope's result to the driver, once per envelope. */
static void client_report(struct smtp_client *client,
                          struct smtp_client_output *out)
{
    if (client->result_reported)
        return;
    client->result.tls = client->tls_active;
    client->result_reported = true;
    out->result = &client->result;
}

static void client_enter_done(struct smtp_client *client,
                              struct smtp_client_output *out)
{
    client->state = SMTP_CLIENT_DONE;
    out->action = SMTP_CLIENT_ACTION_CLOSE;
    client_report(client, out);
}

static void client_enter_quit(struct smtp_client *client,
                              struct smtp_client_output *out)
{
    /* RFC 5321 4.1.1.10: the client sends QUIT before closing, even
     * after an error reply. */
    client_send(client, SMTP_CLIENT_QUIT, out, "QUIT\r\n");
}

/* Sends the message, or with `empty` only the end of data. */
static void client_enter_body(struct smtp_client *client, bool empty,
                              struct smtp_client_output *out)
{
    const char *end = empty ? CLIENT_EMPTY_DATA : CLIENT_END_OF_DATA;

    client->state = SMTP_CLIENT_BODY;
    out->action = SMTP_CLIENT_ACTION_SEND_BODY;
    out->body_size = empty ? 0 : client->envelope->size;
    out->line_length = strlen(end);
    memcpy(out->line, end, out->line_length + 1);
}

/*
 * Records a failure reply for the whole session (or the greeting) and
 * ends the session.  After a 421 the server closes the channel (RFC 5321
 * 3.8), so the client closes too; otherwise it sends QUIT first.
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
    if (outcome == CLIENT_OUTCOME_CLOSING)
        client_enter_done(client, out);
    else
        client_enter_quit(client, out);
}

/* Ends the envelope: wait in IDLE for the driver with `keep_open`, else
 * QUIT. */
static void client_finish_envelope(struct smtp_client *client,
                                   struct smtp_client_output *out)
{
    if (!client->envelope->keep_open) {
        client_enter_quit(client, out);
        return;
    }
    client->state = SMTP_CLIENT_IDLE;
    client_report(client, out);
}

/*
 * Fails the envelope because TLS is required and cannot be had: the
 * server did not announce STARTTLS (`reply` NULL, 4.7.4 "security
 * features not supported", RFC 3463), or refused it with `reply`.  Either
 * way transient for this session, as Postfix defers mail when its TLS
 * security level is "encrypt"; the session itself is still usable.
 */
static void client_fail_tls(struct smtp_client *client,
                            const struct smtp_reply *reply,
                            struct smtp_client_output *out)
{
    struct smtp_client_recipient failure = {
        .status = SMTP_CLIENT_RCPT_TRANSIENT,
        .scope = FAILURE_SCOPE_SESSION,
        .reply_class = SMTP_REPLY_TRANSIENT,
        .enhanced_class = 4,
        .enhanced_subject = 7,
        .enhanced_detail = 4,
    };

    if (reply != NULL) {
        failure.code = reply->code;
        if (reply->enhanced_class != 0) {
            failure.enhanced_class = 4;
            failure.enhanced_subject = reply->enhanced_subject;
            failure.enhanced_detail = reply->enhanced_detail;
        }
    }
    client_fail_remaining(client, &failure,
                          reply != NULL ? SMTP_CLIENT_CAUSE_REPLY
                                        : SMTP_CLIENT_CAUSE_NO_TLS);
    client_finish_envelope(client, out);
}

static bool client_pipelining(const struct smtp_client *client)
{
    return client->envelope->pipelining && client->extensions.pipelining;
}

/* True when the recipient still needs an RCPT in this transaction. */
static bool client_untried(const struct smtp_client *client, size_t i)
{
    const struct smtp_client_recipient *recipient =
        &client->result.recipients[i];

    return !client->rcpt_sent[i]
           && recipient->status == SMTP_CLIENT_RCPT_NOT_TRIED
           && !recipient->rcpt_accepted;
}

/* Returns the next recipient to send RCPT for in this transaction, or
 * the recipient count when none is left. */
static size_t client_next_untried(const struct smtp_client *client)
{
    size_t count = client->result.recipient_count;

    if (client->rcpt_limit_reached)
        return count;
    for (size_t i = 0; i < count; i++) {
        if (client_untried(client, i))
            return i;
    }
    return count;
}

/* Points the state at the command whose reply comes next in the group.
 * Returns false when every command of the group has its reply. */
static bool client_await_next(struct smtp_client *client)
{
    const struct smtp_client_group *group = &client->group;

    if (group->mail_pending) {
        client->state = SMTP_CLIENT_MAIL;
        return true;
    }
    if (group->rcpt_replied < group->rcpt_count) {
        client->state = SMTP_CLIENT_RCPT;
        client->next_recipient = group->rcpt[group->rcpt_replied];
        return true;
    }
    if (group->data_pending) {
        client->state = SMTP_CLIENT_DATA;
        return true;
    }
    return false;
}

/* Starts a mail transaction for the recipients without an outcome. */
static void client_begin_transaction(struct smtp_client *client,
                                     struct smtp_client_output *out)
{
    client->mail_sent = false;
    client->data_sent = false;
    client->draining = false;
    client->rcpt_limit_reached = false;
    client->rcpt_accepted_count = 0;
    memset(client->rcpt_sent, 0, sizeof client->rcpt_sent);
    client_send_transaction(client, out);
}

/*
 * Ends the current transaction.  RFC 5321 4.5.3.1.10: after "too many
 * recipients" the rest go in another transaction on the same connection,
 * which starts here when this one delivered.  It accepted at least one
 * recipient (client_record_rcpt defers only then), so each round makes
 * progress.
 */
static void client_end_transaction(struct smtp_client *client,
                                   struct smtp_client_output *out)
{
    bool delivered = client->rcpt_accepted_count > 0
                     && client->result.scope == FAILURE_SCOPE_NONE;

    client->draining = false;
    for (size_t i = 0; delivered && i < client->result.recipient_count; i++) {
        const struct smtp_client_recipient *recipient =
            &client->result.recipients[i];

        if (recipient->status == SMTP_CLIENT_RCPT_NOT_TRIED
            && !recipient->rcpt_accepted) {
            client_begin_transaction(client, out);
            return;
        }
    }
    client_finish_envelope(client, out);
}

/* Waits for the next reply of the group, or once every command of the
 * group has its reply, sends what comes next. */
static void client_continue(struct smtp_client *client,
                            struct smtp_client_output *out)
{
    if (client_await_next(client))
        return;
    if (client->draining)
        client_end_transaction(client, out);
    else
        client_send_transaction(client, out);
}

static size_t client_format_mail(const struct smtp_client *client,
                                 char command[SMTP_CLIENT_LINE_MAX + 1])
{
    const struct smtp_client_envelope *envelope = client->envelope;
    char size_parameter[32] = "";
    const char *body_parameter = "";

    /* RFC 1870 section 6: SIZE= declares the message size in octets to a
     * server that announced SIZE. */
    if (envelope->declare_size && client->extensions.size)
        snprintf(size_parameter, sizeof size_parameter, " SIZE=%llu",
                 (unsigned long long)envelope->size);
    /* RFC 6152 section 3: BODY=8BITMIME labels 8-bit content for a server
     * that announced 8BITMIME.  NOTE: to a server without it the message
     * goes unchanged; a real client converts it to 7 bits or returns it. */
    if (envelope->eight_bit && client->extensions.eight_bit_mime)
        body_parameter = " BODY=8BITMIME";
    /* RFC 5321 3.3: no space on either side of the colon; the null
     * reverse-path is "<>" (4.1.2). */
    return client_format(command, "MAIL FROM:<%s>%s%s\r\n", envelope->sender,
                         size_parameter, body_parameter);
}

/* Adds RCPT commands for the untried recipients: all that fit with
 * pipelining, else one. */
static void client_add_rcpts(struct smtp_client *client, bool pipelined,
                             struct smtp_client_output *out)
{
    struct smtp_client_group *group = &client->group;
    char command[SMTP_CLIENT_LINE_MAX + 1];

    for (size_t i = client_next_untried(client);
         i < client->result.recipient_count; i = client_next_untried(client)) {
        size_t n = client_format(command, "RCPT TO:<%s>\r\n",
                                 client->envelope->recipients[i]);

        if (!client_room_for(out, n))
            break;
        client_append(out, command, n);
        client->rcpt_sent[i] = true;
        group->rcpt[group->rcpt_count++] = (uint16_t)i;
        if (!pipelined)
            break;
    }
}

/*
 * Sends the next commands of the transaction: MAIL, then RCPT for each
 * recipient without an outcome, then DATA once every RCPT has its reply.
 * With PIPELINING they go as one group as far as the output holds; DATA
 * may only end a group (RFC 2920 3.1).  Without it, one command at a time
 * (RFC 5321 4.3.1).
 */
static void client_send_transaction(struct smtp_client *client,
                                    struct smtp_client_output *out)
{
    struct smtp_client_group *group = &client->group;
    bool pipelined = client_pipelining(client);
    char command[SMTP_CLIENT_LINE_MAX + 1];

    memset(group, 0, sizeof *group);
    if (!client->mail_sent) {
        client_append(out, command, client_format_mail(client, command));
        client->mail_sent = true;
        client->result.transaction_count++;
        group->mail_pending = true;
    }
    if (!group->mail_pending || pipelined)
        client_add_rcpts(client, pipelined, out);

    bool rcpts_done = client_next_untried(client)
                      == client->result.recipient_count;
    bool alone = !group->mail_pending && group->rcpt_count == 0;

    /* DATA after the last RCPT in a group, or alone once every RCPT has
     * its reply and one was accepted (RFC 5321 3.3: with none accepted
     * DATA can only fail). */
    if (rcpts_done && !client->data_sent
        && (pipelined ? !alone || client->rcpt_accepted_count > 0
                      : alone && client->rcpt_accepted_count > 0)
        && client_room_for(out, strlen(CLIENT_DATA_COMMAND))) {
        client_append(out, CLIENT_DATA_COMMAND, strlen(CLIENT_DATA_COMMAND));
        client->data_sent = true;
        group->data_pending = true;
    }
    if (!client_await_next(client))
        client_end_transaction(client, out);
}

/* Enters STARTTLS when TLS is wanted and offered, fails when it is
 * required and not offered, and otherwise starts the first transaction. */
static void client_after_hello(struct smtp_client *client,
                               struct smtp_client_output *out)
{
    const struct smtp_client_envelope *envelope = client->envelope;
    bool want_tls = envelope->starttls || envelope->require_tls;

    if (want_tls && !client->tls_active && client->extensions.starttls) {
        client_send(client, SMTP_CLIENT_STARTTLS, out, "STARTTLS\r\n");
        return;
    }
    if (envelope->require_tls && !client->tls_active) {
        client_fail_tls(client, NULL, out);
        return;
    }
    client_begin_transaction(client, out);
}

static void client_on_greeting(struct smtp_client *client,
                               const struct smtp_reply *reply,
                               struct smtp_client_output *out)
{
    enum client_outcome outcome = client_outcome(reply, SMTP_REPLY_POSITIVE);

    if (outcome == CLIENT_OUTCOME_OK) {
        /* RFC 5321 3.2, 4.1.1.1: a session starts with EHLO. */
        client_send(client, SMTP_CLIENT_EHLO, out, "EHLO %s\r\n",
                    client->envelope->helo_name);
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
        /* RFC 5321 4.1.1.1: the lines after the first name the service
         * extensions. */
        smtp_reply_extensions(reply, &client->extensions);
        client_after_hello(client, out);
        break;
    case CLIENT_OUTCOME_CLOSING:
        client_fail_step(client, FAILURE_SCOPE_SESSION, outcome, reply, out);
        break;
    default:
        /* RFC 5321 3.2: fall back to HELO when EHLO is not recognized.
         * The server stays in its state after refusing EHLO (4.1.4), so
         * like Postfix's smtp_proto.c we fall back after any refusal. */
        client_send(client, SMTP_CLIENT_HELO, out, "HELO %s\r\n",
                    client->envelope->helo_name);
        break;
    }
}

static void client_on_helo(struct smtp_client *client,
                           const struct smtp_reply *reply,
                           struct smtp_client_output *out)
{
    enum client_outcome outcome = client_outcome(reply, SMTP_REPLY_POSITIVE);

    if (outcome != CLIENT_OUTCOME_OK) {
        client_fail_step(client, FAILURE_SCOPE_SESSION, outcome, reply, out);
        return;
    }
    /* RFC 5321 3.2: a HELO session has no extensions. */
    memset(&client->extensions, 0, sizeof client->extensions);
    client_after_hello(client, out);
}

static void client_on_starttls(struct smtp_client *client,
                               const struct smtp_reply *reply,
                               struct smtp_client_output *out)
{
    enum client_outcome outcome = client_outcome(reply, SMTP_REPLY_POSITIVE);

    if (outcome == CLIENT_OUTCOME_OK) {
        /* RFC 3207 4.2: after the handshake the client discards what it
         * learned from the server and sends EHLO again. */
        client->tls_active = true;
        memset(&client->extensions, 0, sizeof client->extensions);
        client_send(client, SMTP_CLIENT_EHLO, out, "EHLO %s\r\n",
                    client->envelope->helo_name);
        out->action = SMTP_CLIENT_ACTION_START_TLS;
        return;
    }
    if (outcome == CLIENT_OUTCOME_CLOSING) {
        client_fail_step(client, FAILURE_SCOPE_SESSION, outcome, reply, out);
        return;
    }
    /* RFC 3207 section 4: after 454 the client decides whether to go on
     * without TLS. */
    if (client->envelope->require_tls)
        client_fail_tls(client, reply, out);
    else
        client_begin_transaction(client, out);
}

static void client_on_rset(struct smtp_client *client,
                           const struct smtp_reply *reply,
                           struct smtp_client_output *out)
{
    enum client_outcome outcome = client_outcome(reply, SMTP_REPLY_POSITIVE);

    /* RFC 5321 4.1.1.5: RSET MUST get 250, so any other reply leaves the
     * session in an unknown state. */
    if (outcome != CLIENT_OUTCOME_OK) {
        client_fail_step(client, FAILURE_SCOPE_SESSION, outcome, reply, out);
        return;
    }
    client->transaction_open = false;
    client_begin_transaction(client, out);
}

/* Records a failure of the whole message and reads the rest of the
 * group's replies before ending the transaction. */
static void client_fail_message(struct smtp_client *client,
                                enum client_outcome outcome,
                                const struct smtp_reply *reply,
                                struct smtp_client_output *out)
{
    struct smtp_client_recipient failure =
        client_failure_from_reply(FAILURE_SCOPE_MESSAGE, outcome, reply);

    client_fail_remaining(client, &failure, SMTP_CLIENT_CAUSE_REPLY);
    client->draining = true;
    client_continue(client, out);
}

static void client_on_mail(struct smtp_client *client,
                           const struct smtp_reply *reply,
                           struct smtp_client_output *out)
{
    enum client_outcome outcome = client_outcome(reply, SMTP_REPLY_POSITIVE);

    client->group.mail_pending = false;
    if (outcome == CLIENT_OUTCOME_CLOSING) {
        client_fail_step(client, FAILURE_SCOPE_SESSION, outcome, reply, out);
        return;
    }
    if (outcome == CLIENT_OUTCOME_OK) {
        client->transaction_open = true;
        client_continue(client, out);
        return;
    }
    /* RFC 5321 3.3: a refused MAIL fails the message for every recipient.
     * RFC 1870 6.2: so does 552 for a declared size over the limit. */
    client_fail_message(client, outcome, reply, out);
}

/* RFC 5321 4.5.3.1.10: a server over its recipient limit replies 452, or
 * 552 as RFC 821 had it; RFC 3463 X.5.3 is "too many recipients".  A 452
 * without an enhanced code counts too, since 4.5.3.1.10 requires 452 for
 * the limit. */
static bool client_too_many_recipients(const struct smtp_reply *reply)
{
    if (reply->code != 452 && reply->code != 552)
        return false;
    if (reply->enhanced_class == 0)
        return reply->code == 452;
    return reply->enhanced_subject == 5 && reply->enhanced_detail == 3;
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
    /* Too many recipients after at least one accepted: the rest wait for
     * the next transaction.  With none accepted the reply cannot mean the
     * limit, and retrying would never end, so it is an ordinary failure. */
    if (client_too_many_recipients(reply) && client->rcpt_accepted_count > 0) {
        client->rcpt_limit_reached = true;
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

    client->group.rcpt_replied++;
    if (outcome == CLIENT_OUTCOME_CLOSING) {
        client_fail_step(client, FAILURE_SCOPE_SESSION, outcome, reply, out);
        return;
    }
    /* After a refused MAIL the RCPT replies of the group mean nothing. */
    if (!client->draining)
        client_record_rcpt(client, outcome, reply);
    client_continue(client, out);
}

static void client_on_data(struct smtp_client *client,
                           const struct smtp_reply *reply,
                           struct smtp_client_output *out)
{
    enum client_outcome outcome =
        client_outcome(reply, SMTP_REPLY_INTERMEDIATE);

    client->group.data_pending = false;
    if (outcome == CLIENT_OUTCOME_CLOSING) {
        client_fail_step(client, FAILURE_SCOPE_SESSION, outcome, reply, out);
        return;
    }
    /* RFC 2920 3.1: a pipelined DATA with no recipient accepted should be
     * refused; if it gets 354 anyway, the client sends a single dot. */
    if (client->draining || client->rcpt_accepted_count == 0) {
        client->draining = true;
        if (outcome == CLIENT_OUTCOME_OK)
            client_enter_body(client, true, out);
        else
            client_end_transaction(client, out);
        return;
    }
    /* RFC 5321 3.3: message data is sent only after a 354 reply. */
    if (outcome == CLIENT_OUTCOME_OK)
        client_enter_body(client, false, out);
    else
        client_fail_message(client, outcome, reply, out);
}

/* RFC 5321 4.1.1.4: a 2yz end-of-data reply accepts the message for every
 * recipient accepted at RCPT; there is no partial success at this point. */
static void client_accept_message(struct smtp_client *client,
                                  const struct smtp_reply *reply)
{
    struct smtp_client_result *result = &client->result;

    for (size_t i = 0; i < result->recipient_count; i++) {
        struct smtp_client_recipient *recipient = &result->recipients[i];

        if (!recipient->rcpt_accepted
            || recipient->status != SMTP_CLIENT_RCPT_NOT_TRIED)
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

    if (outcome == CLIENT_OUTCOME_CLOSING) {
        client_fail_step(client, FAILURE_SCOPE_SESSION, outcome, reply, out);
        return;
    }
    /* RFC 5321 4.1.1.4: the end of data closes the transaction whatever
     * the reply. */
    client->transaction_open = false;
    if (client->draining) {
        client_end_transaction(client, out);
        return;
    }
    if (outcome != CLIENT_OUTCOME_OK) {
        client_fail_message(client, outcome, reply, out);
        return;
    }
    client_accept_message(client, reply);
    client_end_transaction(client, out);
}

static void client_check_envelope(const struct smtp_client_envelope *envelope,
                                  const char *caller)
{
    if (envelope->recipient_count == 0
        || envelope->recipient_count > SMTP_CLIENT_MAX_RECIPIENTS) {
        fprintf(stderr, "%s: %zu recipients, expected 1 to %d\n", caller,
                envelope->recipient_count, SMTP_CLIENT_MAX_RECIPIENTS);
        abort();
    }
}

/* Sets the result for a new envelope: every recipient without outcome. */
static void client_reset_result(struct smtp_client *client)
{
    struct smtp_client_result *result = &client->result;

    memset(result, 0, sizeof *result);
    result->scope = FAILURE_SCOPE_NONE;
    result->cause = SMTP_CLIENT_CAUSE_NONE;
    result->failed_state = SMTP_CLIENT_DONE;
    result->reply_class = SMTP_REPLY_POSITIVE;
    result->recipient_count = client->envelope->recipient_count;
    for (size_t i = 0; i < result->recipient_count; i++) {
        result->recipients[i].status = SMTP_CLIENT_RCPT_NOT_TRIED;
        result->recipients[i].scope = FAILURE_SCOPE_NONE;
        result->recipients[i].reply_class = SMTP_REPLY_POSITIVE;
    }
    client->result_reported = false;
}

void smtp_client_init(struct smtp_client *client,
                      const struct smtp_client_envelope *envelope)
{
    client_check_envelope(envelope, "smtp_client_init");
    memset(client, 0, sizeof *client);
    client->state = SMTP_CLIENT_GREETING;
    client->envelope = envelope;
    client_reset_result(client);
}

void smtp_client_next_envelope(struct smtp_client *client,
                               const struct smtp_client_envelope *envelope,
                               struct smtp_client_output *out)
{
    client_output_reset(out);
    if (client->state != SMTP_CLIENT_IDLE) {
        fprintf(stderr, "smtp_client_next_envelope: in state %s, not IDLE\n",
                smtp_client_state_name(client->state));
        abort();
    }
    client_check_envelope(envelope, "smtp_client_next_envelope");
    client->envelope = envelope;
    client_reset_result(client);

    if (envelope->require_tls && !client->tls_active) {
        client_fail_tls(client, NULL, out);
        return;
    }
    /* RFC 5321 4.1.1.5: RSET clears a transaction left open by a failure
     * between MAIL and the end of data; RFC 1870 6.2 sends RSET before
     * the next message after a refused size. */
    if (client->transaction_open) {
        client_send(client, SMTP_CLIENT_RSET, out, "RSET\r\n");
        return;
    }
    client_begin_transaction(client, out);
}

void smtp_client_quit(struct smtp_client *client,
                      struct smtp_client_output *out)
{
    client_output_reset(out);
    if (client->state != SMTP_CLIENT_IDLE) {
        fprintf(stderr, "smtp_client_quit: in state %s, not IDLE\n",
                smtp_client_state_name(client->state));
        abort();
    }
    client_enter_quit(client, out);
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
    case SMTP_CLIENT_STARTTLS:
        client_on_starttls(client, reply, out);
        break;
    case SMTP_CLIENT_RSET:
        client_on_rset(client, reply, out);
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
    case SMTP_CLIENT_IDLE:
        /* Nothing was asked: a server closing an idle session (421 on its
         * timeout, RFC 5321 3.8).  The envelope was already reported. */
    case SMTP_CLIENT_QUIT:
        /* The outcome was settled before QUIT; any reply ends the session. */
        client_enter_done(client, out);
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
 * In IDLE and QUIT no envelope is in progress and only the close remains.
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
    case SMTP_CLIENT_STARTTLS:
    case SMTP_CLIENT_RSET:
    case SMTP_CLIENT_MAIL:
    case SMTP_CLIENT_RCPT:
    case SMTP_CLIENT_DATA:
    case SMTP_CLIENT_BODY:
        client_fail_remaining(client, &failure, cause);
        client_enter_done(client, out);
        break;
    case SMTP_CLIENT_IDLE:
    case SMTP_CLIENT_QUIT:
        client_enter_done(client, out);
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
