#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "models/smtp_client.h"
#include "tests/unit/test_util.h"

static const char *const one_recipient[] = {"bob@example.org"};
static const char *const three_recipients[] = {
    "bob@example.org", "carol@example.org", "dave@example.org"};

static struct smtp_client_envelope make_envelope(const char *const *recipients,
                                                 size_t count)
{
    return (struct smtp_client_envelope){
        .helo_name = "out.sender.test",
        .sender = "alice@sender.test",
        .recipients = recipients,
        .recipient_count = count,
        .size = 1234,
    };
}

/* Parses one reply from wire text and hands it to the client. */
static void feed(struct smtp_client *client, const char *wire,
                 struct smtp_client_output *out)
{
    struct smtp_reply reply;
    size_t consumed;

    ck_assert_msg(smtp_reply_parse(wire, strlen(wire), &reply, &consumed) == 1,
                  "test reply does not parse: %s", wire);
    smtp_client_on_reply(client, &reply, out);
}

/* The reply that moves each state forward on the happy path. */
static const char *happy_reply(enum smtp_client_state state)
{
    switch (state) {
    case SMTP_CLIENT_GREETING:
        return "220 mx.example.org ESMTP\r\n";
    case SMTP_CLIENT_EHLO:
    case SMTP_CLIENT_HELO:
        return "250-mx.example.org\r\n250 PIPELINING\r\n";
    case SMTP_CLIENT_MAIL:
        return "250 2.1.0 Ok\r\n";
    case SMTP_CLIENT_RCPT:
        return "250 2.1.5 Ok\r\n";
    case SMTP_CLIENT_DATA:
        return "354 End data with <CR><LF>.<CR><LF>\r\n";
    case SMTP_CLIENT_BODY:
        return "250 2.0.0 Ok: queued\r\n";
    default:
        return "221 2.0.0 Bye\r\n";
    }
}

/* Feeds happy replies until the client is in `target`.  HELO is reached
 * by refusing EHLO with 502. */
static void advance_to(struct smtp_client *client,
                       enum smtp_client_state target,
                       struct smtp_client_output *out)
{
    while (client->state != target) {
        ck_assert_msg(client->state != SMTP_CLIENT_DONE,
                      "never reached state %s",
                      smtp_client_state_name(target));
        if (target == SMTP_CLIENT_HELO && client->state == SMTP_CLIENT_EHLO)
            feed(client, "502 5.5.1 Command not implemented\r\n", out);
        else
            feed(client, happy_reply(client->state), out);
    }
}

START_TEST(happy_session_lines)
{
    static const char *const two[] = {"bob@example.org", "carol@example.org"};
    struct smtp_client_envelope envelope = make_envelope(two, 2);
    struct smtp_client client;
    struct smtp_client_output out;

    smtp_client_init(&client, &envelope);
    ck_assert_int_eq(client.state, SMTP_CLIENT_GREETING);

    feed(&client, "220 mx.example.org ESMTP\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_SEND_LINE);
    ck_assert_str_eq(out.line, "EHLO out.sender.test\r\n");
    ck_assert_uint_eq(out.line_length, strlen(out.line));

    feed(&client, "250-mx.example.org\r\n250 SIZE 1000000\r\n", &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test>\r\n");
    feed(&client, "250 2.1.0 Ok\r\n", &out);
    ck_assert_str_eq(out.line, "RCPT TO:<bob@example.org>\r\n");
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    ck_assert_str_eq(out.line, "RCPT TO:<carol@example.org>\r\n");
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    ck_assert_str_eq(out.line, "DATA\r\n");

    feed(&client, "354 End data with <CR><LF>.<CR><LF>\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_SEND_BODY);
    ck_assert_uint_eq(out.body_size, 1234);
    ck_assert_str_eq(out.line, "\r\n.\r\n");
    ck_assert_ptr_null(out.result);

    feed(&client, "250 2.0.0 Ok: queued\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_SEND_LINE);
    ck_assert_str_eq(out.line, "QUIT\r\n");
    ck_assert_ptr_null(out.result);
    ck_assert(!smtp_client_done(&client));

    feed(&client, "221 2.0.0 Bye\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_CLOSE);
    ck_assert(smtp_client_done(&client));
    ck_assert_ptr_eq(out.result, smtp_client_result(&client));
    ck_assert_int_eq(out.result->scope, FAILURE_SCOPE_NONE);
    ck_assert_int_eq(out.result->cause, SMTP_CLIENT_CAUSE_NONE);
    ck_assert_uint_eq(out.result->accepted_count, 2);
    for (size_t i = 0; i < 2; i++) {
        const struct smtp_client_recipient *recipient =
            &out.result->recipients[i];

        ck_assert_int_eq(recipient->status, SMTP_CLIENT_RCPT_ACCEPTED);
        ck_assert_int_eq(recipient->reply_class, SMTP_REPLY_POSITIVE);
        ck_assert_int_eq(recipient->code, 250);
        ck_assert_int_eq(recipient->enhanced_class, 2);
    }
}
END_TEST

START_TEST(done_takes_no_input)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    smtp_client_init(&client, &envelope);
    feed(&client, "421 busy\r\n", &out);
    ck_assert(smtp_client_done(&client));

    feed(&client, "220 hello again\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_NONE);
    ck_assert_ptr_null(out.result);
    smtp_client_on_timeout(&client, &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_NONE);
    smtp_client_on_connection_lost(&client, &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_NONE);
    ck_assert_int_eq(client.state, SMTP_CLIENT_DONE);
    ck_assert_int_eq(client.result.recipients[0].code, 421);
}
END_TEST

/* One reply in one state, for a one-recipient message. */
struct reply_case {
    enum smtp_client_state state;
    const char *wire;
    enum smtp_client_state next;
    enum smtp_client_action action;
    const char *line;          /* expected output line; NULL: none */
    enum smtp_client_recipient_status status;
    enum failure_scope scope;
};

static const struct reply_case reply_cases[] = {
    {SMTP_CLIENT_GREETING, "220 mx ESMTP\r\n", SMTP_CLIENT_EHLO,
     SMTP_CLIENT_ACTION_SEND_LINE, "EHLO out.sender.test\r\n",
     SMTP_CLIENT_RCPT_NOT_TRIED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_GREETING, "450 try later\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_GREETING},
    {SMTP_CLIENT_GREETING, "554 No SMTP service here\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_PERMANENT, FAILURE_SCOPE_GREETING},
    {SMTP_CLIENT_GREETING, "421 mx busy\r\n", SMTP_CLIENT_DONE,
     SMTP_CLIENT_ACTION_CLOSE, NULL,
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_GREETING},

    {SMTP_CLIENT_EHLO, "250 mx\r\n", SMTP_CLIENT_MAIL,
     SMTP_CLIENT_ACTION_SEND_LINE, "MAIL FROM:<alice@sender.test>\r\n",
     SMTP_CLIENT_RCPT_NOT_TRIED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_EHLO, "451 later\r\n", SMTP_CLIENT_HELO,
     SMTP_CLIENT_ACTION_SEND_LINE, "HELO out.sender.test\r\n",
     SMTP_CLIENT_RCPT_NOT_TRIED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_EHLO, "500 unrecognized\r\n", SMTP_CLIENT_HELO,
     SMTP_CLIENT_ACTION_SEND_LINE, "HELO out.sender.test\r\n",
     SMTP_CLIENT_RCPT_NOT_TRIED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_EHLO, "421 closing\r\n", SMTP_CLIENT_DONE,
     SMTP_CLIENT_ACTION_CLOSE, NULL,
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_SESSION},

    {SMTP_CLIENT_HELO, "250 mx\r\n", SMTP_CLIENT_MAIL,
     SMTP_CLIENT_ACTION_SEND_LINE, "MAIL FROM:<alice@sender.test>\r\n",
     SMTP_CLIENT_RCPT_NOT_TRIED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_HELO, "451 later\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_SESSION},
    {SMTP_CLIENT_HELO, "550 go away\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_PERMANENT, FAILURE_SCOPE_SESSION},
    {SMTP_CLIENT_HELO, "421 closing\r\n", SMTP_CLIENT_DONE,
     SMTP_CLIENT_ACTION_CLOSE, NULL,
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_SESSION},

    {SMTP_CLIENT_MAIL, "250 2.1.0 Ok\r\n", SMTP_CLIENT_RCPT,
     SMTP_CLIENT_ACTION_SEND_LINE, "RCPT TO:<bob@example.org>\r\n",
     SMTP_CLIENT_RCPT_NOT_TRIED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_MAIL, "451 4.3.0 later\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_MESSAGE},
    {SMTP_CLIENT_MAIL, "553 5.1.7 bad sender\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_PERMANENT, FAILURE_SCOPE_MESSAGE},
    {SMTP_CLIENT_MAIL, "421 4.3.2 closing\r\n", SMTP_CLIENT_DONE,
     SMTP_CLIENT_ACTION_CLOSE, NULL,
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_SESSION},

    {SMTP_CLIENT_RCPT, "250 2.1.5 Ok\r\n", SMTP_CLIENT_DATA,
     SMTP_CLIENT_ACTION_SEND_LINE, "DATA\r\n",
     SMTP_CLIENT_RCPT_NOT_TRIED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_RCPT, "450 4.2.1 busy\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_RECIPIENT},
    {SMTP_CLIENT_RCPT, "550 5.1.1 unknown\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_PERMANENT, FAILURE_SCOPE_RECIPIENT},
    /* RFC 5321 4.5.3.1.10: 552 to RCPT counts as temporary. */
    {SMTP_CLIENT_RCPT, "552 too many recipients\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_RECIPIENT},
    {SMTP_CLIENT_RCPT, "421 closing\r\n", SMTP_CLIENT_DONE,
     SMTP_CLIENT_ACTION_CLOSE, NULL,
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_SESSION},

    {SMTP_CLIENT_DATA, "354 go ahead\r\n", SMTP_CLIENT_BODY,
     SMTP_CLIENT_ACTION_SEND_BODY, "\r\n.\r\n",
     SMTP_CLIENT_RCPT_NOT_TRIED, FAILURE_SCOPE_NONE},
    /* A 2xx where 354 belongs is a protocol error. */
    {SMTP_CLIENT_DATA, "250 Ok\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_PERMANENT, FAILURE_SCOPE_MESSAGE},
    {SMTP_CLIENT_DATA, "451 later\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_MESSAGE},
    {SMTP_CLIENT_DATA, "554 5.5.1 No valid recipients\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_PERMANENT, FAILURE_SCOPE_MESSAGE},
    {SMTP_CLIENT_DATA, "421 closing\r\n", SMTP_CLIENT_DONE,
     SMTP_CLIENT_ACTION_CLOSE, NULL,
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_SESSION},

    {SMTP_CLIENT_BODY, "250 2.0.0 queued\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_ACCEPTED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_BODY, "452 4.3.1 full\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_MESSAGE},
    {SMTP_CLIENT_BODY, "552 5.3.4 too big\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_PERMANENT, FAILURE_SCOPE_MESSAGE},
    {SMTP_CLIENT_BODY, "421 closing\r\n", SMTP_CLIENT_DONE,
     SMTP_CLIENT_ACTION_CLOSE, NULL,
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_SESSION},

    /* Codes RFC 5321 does not list act by their first digit (4.2.1). */
    {SMTP_CLIENT_GREETING, "299 odd but positive\r\n", SMTP_CLIENT_EHLO,
     SMTP_CLIENT_ACTION_SEND_LINE, "EHLO out.sender.test\r\n",
     SMTP_CLIENT_RCPT_NOT_TRIED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_MAIL, "499 odd\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_MESSAGE},
    {SMTP_CLIENT_RCPT, "599 odd\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_PERMANENT, FAILURE_SCOPE_RECIPIENT},
    {SMTP_CLIENT_DATA, "399 odd\r\n", SMTP_CLIENT_BODY,
     SMTP_CLIENT_ACTION_SEND_BODY, "\r\n.\r\n",
     SMTP_CLIENT_RCPT_NOT_TRIED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_BODY, "298 odd\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_ACCEPTED, FAILURE_SCOPE_NONE},

    /* After QUIT the outcome is settled; every reply closes. */
    {SMTP_CLIENT_QUIT, "221 Bye\r\n", SMTP_CLIENT_DONE,
     SMTP_CLIENT_ACTION_CLOSE, NULL,
     SMTP_CLIENT_RCPT_ACCEPTED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_QUIT, "451 odd\r\n", SMTP_CLIENT_DONE,
     SMTP_CLIENT_ACTION_CLOSE, NULL,
     SMTP_CLIENT_RCPT_ACCEPTED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_QUIT, "554 odd\r\n", SMTP_CLIENT_DONE,
     SMTP_CLIENT_ACTION_CLOSE, NULL,
     SMTP_CLIENT_RCPT_ACCEPTED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_QUIT, "421 closing\r\n", SMTP_CLIENT_DONE,
     SMTP_CLIENT_ACTION_CLOSE, NULL,
     SMTP_CLIENT_RCPT_ACCEPTED, FAILURE_SCOPE_NONE},
};

START_TEST(reply_in_every_state)
{
    const struct reply_case *c = &reply_cases[_i];
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;
    const struct smtp_client_recipient *recipient;

    smtp_client_init(&client, &envelope);
    advance_to(&client, c->state, &out);
    feed(&client, c->wire, &out);
    recipient = &client.result.recipients[0];

    ck_assert_msg(client.state == c->next, "%s + %.3s: state %s",
                  smtp_client_state_name(c->state), c->wire,
                  smtp_client_state_name(client.state));
    ck_assert_msg(out.action == c->action, "%s + %.3s: action %s",
                  smtp_client_state_name(c->state), c->wire,
                  smtp_client_action_name(out.action));
    ck_assert_str_eq(out.line, c->line != NULL ? c->line : "");
    ck_assert_msg(recipient->status == c->status, "%s + %.3s: status %s",
                  smtp_client_state_name(c->state), c->wire,
                  smtp_client_recipient_status_name(recipient->status));
    ck_assert_msg(recipient->scope == c->scope, "%s + %.3s: scope %s",
                  smtp_client_state_name(c->state), c->wire,
                  delivery_scope_name(recipient->scope));
    if (c->next == SMTP_CLIENT_DONE)
        ck_assert_ptr_eq(out.result, &client.result);
    else
        ck_assert_ptr_null(out.result);
}
END_TEST

/* One reply in a state that only an envelope option reaches: STARTTLS
 * (starttls), RSET (keep_open after a refused DATA) and IDLE (keep_open
 * after delivery). */
static const struct reply_case option_reply_cases[] = {
    {SMTP_CLIENT_STARTTLS, "220 2.0.0 Ready\r\n", SMTP_CLIENT_EHLO,
     SMTP_CLIENT_ACTION_START_TLS, "EHLO out.sender.test\r\n",
     SMTP_CLIENT_RCPT_NOT_TRIED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_STARTTLS, "454 4.7.0 no TLS\r\n", SMTP_CLIENT_MAIL,
     SMTP_CLIENT_ACTION_SEND_LINE, "MAIL FROM:<alice@sender.test>\r\n",
     SMTP_CLIENT_RCPT_NOT_TRIED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_STARTTLS, "554 5.7.0 no\r\n", SMTP_CLIENT_MAIL,
     SMTP_CLIENT_ACTION_SEND_LINE, "MAIL FROM:<alice@sender.test>\r\n",
     SMTP_CLIENT_RCPT_NOT_TRIED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_STARTTLS, "699 odd\r\n", SMTP_CLIENT_MAIL,
     SMTP_CLIENT_ACTION_SEND_LINE, "MAIL FROM:<alice@sender.test>\r\n",
     SMTP_CLIENT_RCPT_NOT_TRIED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_STARTTLS, "421 4.3.2 closing\r\n", SMTP_CLIENT_DONE,
     SMTP_CLIENT_ACTION_CLOSE, NULL,
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_SESSION},

    {SMTP_CLIENT_RSET, "250 2.0.0 Ok\r\n", SMTP_CLIENT_MAIL,
     SMTP_CLIENT_ACTION_SEND_LINE, "MAIL FROM:<alice@sender.test>\r\n",
     SMTP_CLIENT_RCPT_NOT_TRIED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_RSET, "451 4.3.0 later\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_SESSION},
    {SMTP_CLIENT_RSET, "502 5.5.1 no\r\n", SMTP_CLIENT_QUIT,
     SMTP_CLIENT_ACTION_SEND_LINE, "QUIT\r\n",
     SMTP_CLIENT_RCPT_PERMANENT, FAILURE_SCOPE_SESSION},
    {SMTP_CLIENT_RSET, "421 4.3.2 closing\r\n", SMTP_CLIENT_DONE,
     SMTP_CLIENT_ACTION_CLOSE, NULL,
     SMTP_CLIENT_RCPT_TRANSIENT, FAILURE_SCOPE_SESSION},

    /* Nothing was asked in IDLE: any reply ends the session, and the
     * reported envelope keeps its outcome. */
    {SMTP_CLIENT_IDLE, "421 4.4.2 timeout\r\n", SMTP_CLIENT_DONE,
     SMTP_CLIENT_ACTION_CLOSE, NULL,
     SMTP_CLIENT_RCPT_ACCEPTED, FAILURE_SCOPE_NONE},
    {SMTP_CLIENT_IDLE, "250 odd\r\n", SMTP_CLIENT_DONE,
     SMTP_CLIENT_ACTION_CLOSE, NULL,
     SMTP_CLIENT_RCPT_ACCEPTED, FAILURE_SCOPE_NONE},
};

/* Brings a one-recipient client with the options for `state` into it. */
static void advance_to_option_state(struct smtp_client *client,
                                    struct smtp_client_envelope *envelope,
                                    enum smtp_client_state state,
                                    struct smtp_client_output *out)
{
    *envelope = make_envelope(one_recipient, 1);
    envelope->starttls = state == SMTP_CLIENT_STARTTLS;
    envelope->keep_open = state != SMTP_CLIENT_STARTTLS;
    smtp_client_init(client, envelope);
    if (state == SMTP_CLIENT_STARTTLS) {
        feed(client, "220 mx\r\n", out);
        feed(client, "250-mx\r\n250 STARTTLS\r\n", out);
    } else if (state == SMTP_CLIENT_RSET) {
        advance_to(client, SMTP_CLIENT_DATA, out);
        feed(client, "554 5.7.1 rejected\r\n", out);
        smtp_client_next_envelope(client, envelope, out);
    } else {
        advance_to(client, SMTP_CLIENT_IDLE, out);
    }
    ck_assert_int_eq(client->state, state);
}

START_TEST(reply_in_option_states)
{
    const struct reply_case *c = &option_reply_cases[_i];
    struct smtp_client_envelope envelope;
    struct smtp_client client;
    struct smtp_client_output out;
    const struct smtp_client_recipient *recipient;

    advance_to_option_state(&client, &envelope, c->state, &out);
    feed(&client, c->wire, &out);
    recipient = &client.result.recipients[0];

    ck_assert_msg(client.state == c->next, "%s + %.3s: state %s",
                  smtp_client_state_name(c->state), c->wire,
                  smtp_client_state_name(client.state));
    ck_assert_msg(out.action == c->action, "%s + %.3s: action %s",
                  smtp_client_state_name(c->state), c->wire,
                  smtp_client_action_name(out.action));
    ck_assert_str_eq(out.line, c->line != NULL ? c->line : "");
    ck_assert_msg(recipient->status == c->status, "%s + %.3s: status %s",
                  smtp_client_state_name(c->state), c->wire,
                  smtp_client_recipient_status_name(recipient->status));
    ck_assert_msg(recipient->scope == c->scope, "%s + %.3s: scope %s",
                  smtp_client_state_name(c->state), c->wire,
                  delivery_scope_name(recipient->scope));
}
END_TEST

START_TEST(failure_records_reply)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;
    const struct smtp_client_recipient *recipient = &client.result.recipients[0];

    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_RCPT, &out);
    feed(&client, "550 5.1.1 <bob@example.org>: User unknown\r\n", &out);

    ck_assert_int_eq(recipient->code, 550);
    ck_assert_int_eq(recipient->reply_class, SMTP_REPLY_PERMANENT);
    ck_assert_int_eq(recipient->enhanced_class, 5);
    ck_assert_int_eq(recipient->enhanced_subject, 1);
    ck_assert_int_eq(recipient->enhanced_detail, 1);
    ck_assert(!recipient->rcpt_accepted);
}
END_TEST

START_TEST(protocol_error_is_5_5_0)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_MAIL, &out);
    feed(&client, "354 out of place\r\n", &out);

    ck_assert_int_eq(client.result.scope, FAILURE_SCOPE_MESSAGE);
    ck_assert_int_eq(client.result.reply_class, SMTP_REPLY_PERMANENT);
    ck_assert_int_eq(client.result.code, 354);
    ck_assert_int_eq(client.result.recipients[0].enhanced_class, 5);
    ck_assert_int_eq(client.result.recipients[0].enhanced_subject, 5);
    ck_assert_int_eq(client.result.recipients[0].enhanced_detail, 0);
}
END_TEST

START_TEST(out_of_range_code_is_permanent)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    smtp_client_init(&client, &envelope);
    feed(&client, "620 strange\r\n", &out);

    ck_assert_int_eq(client.state, SMTP_CLIENT_QUIT);
    ck_assert_int_eq(client.result.recipients[0].status,
                     SMTP_CLIENT_RCPT_PERMANENT);
    ck_assert_int_eq(client.result.scope, FAILURE_SCOPE_GREETING);
}
END_TEST

START_TEST(timeout_in_every_state)
{
    /* The states of a plain session; STARTTLS, RSET and IDLE have tests
     * of their own. */
    static const enum smtp_client_state states[] = {
        SMTP_CLIENT_GREETING, SMTP_CLIENT_EHLO, SMTP_CLIENT_HELO,
        SMTP_CLIENT_MAIL, SMTP_CLIENT_RCPT, SMTP_CLIENT_DATA,
        SMTP_CLIENT_BODY, SMTP_CLIENT_QUIT,
    };

    for (size_t k = 0; k < sizeof states / sizeof *states; k++) {
        enum smtp_client_state state = states[k];
        struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
        struct smtp_client client;
        struct smtp_client_output out;
        const struct smtp_client_recipient *recipient =
            &client.result.recipients[0];

        smtp_client_init(&client, &envelope);
        advance_to(&client, state, &out);
        smtp_client_on_timeout(&client, &out);

        ck_assert_int_eq(client.state, SMTP_CLIENT_DONE);
        ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_CLOSE);
        ck_assert_ptr_eq(out.result, &client.result);
        if (state == SMTP_CLIENT_QUIT) {
            /* The message was delivered before QUIT was sent. */
            ck_assert_int_eq(recipient->status, SMTP_CLIENT_RCPT_ACCEPTED);
            ck_assert_int_eq(client.result.cause, SMTP_CLIENT_CAUSE_NONE);
            continue;
        }
        ck_assert_int_eq(recipient->status, SMTP_CLIENT_RCPT_TRANSIENT);
        ck_assert_int_eq(recipient->reply_class, SMTP_REPLY_TRANSIENT);
        ck_assert_int_eq(recipient->code, 0);
        ck_assert_int_eq(recipient->enhanced_class, 4);
        ck_assert_int_eq(recipient->enhanced_subject, 4);
        ck_assert_int_eq(recipient->enhanced_detail, 2);
        ck_assert_int_eq(recipient->scope, state == SMTP_CLIENT_GREETING
                                               ? FAILURE_SCOPE_GREETING
                                               : FAILURE_SCOPE_SESSION);
        ck_assert_int_eq(client.result.cause, SMTP_CLIENT_CAUSE_TIMEOUT);
        ck_assert_int_eq(client.result.failed_state, state);
    }
}
END_TEST

START_TEST(connection_lost_after_body)
{
    struct smtp_client_envelope envelope = make_envelope(three_recipients, 3);
    struct smtp_client client;
    struct smtp_client_output out;

    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_RCPT, &out);
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    feed(&client, "550 5.1.1 unknown\r\n", &out);
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    feed(&client, "354 go\r\n", &out);
    smtp_client_on_connection_lost(&client, &out);

    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_CLOSE);
    ck_assert_int_eq(client.result.cause, SMTP_CLIENT_CAUSE_CONNECTION_LOST);
    ck_assert_int_eq(client.result.failed_state, SMTP_CLIENT_BODY);
    ck_assert_int_eq(client.result.recipients[0].status,
                     SMTP_CLIENT_RCPT_TRANSIENT);
    ck_assert(client.result.recipients[0].rcpt_accepted);
    /* The refusal at RCPT is kept. */
    ck_assert_int_eq(client.result.recipients[1].status,
                     SMTP_CLIENT_RCPT_PERMANENT);
    ck_assert_int_eq(client.result.recipients[1].scope,
                     FAILURE_SCOPE_RECIPIENT);
    ck_assert_int_eq(client.result.recipients[2].status,
                     SMTP_CLIENT_RCPT_TRANSIENT);
    ck_assert_uint_eq(client.result.accepted_count, 0);
}
END_TEST

START_TEST(helo_fallback_delivers)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    smtp_client_init(&client, &envelope);
    feed(&client, "220 old.example.org SMTP\r\n", &out);
    ck_assert_str_eq(out.line, "EHLO out.sender.test\r\n");
    feed(&client, "500 5.5.2 Syntax error, command unrecognized\r\n", &out);
    ck_assert_int_eq(client.state, SMTP_CLIENT_HELO);
    ck_assert_str_eq(out.line, "HELO out.sender.test\r\n");
    feed(&client, "250 old.example.org\r\n", &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test>\r\n");
    advance_to(&client, SMTP_CLIENT_DONE, &out);

    ck_assert_int_eq(client.result.recipients[0].status,
                     SMTP_CLIENT_RCPT_ACCEPTED);
    ck_assert_uint_eq(client.result.accepted_count, 1);
}
END_TEST

START_TEST(mixed_recipients_data_for_accepted)
{
    struct smtp_client_envelope envelope = make_envelope(three_recipients, 3);
    struct smtp_client client;
    struct smtp_client_output out;
    const struct smtp_client_recipient *r = client.result.recipients;

    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_RCPT, &out);
    ck_assert_str_eq(out.line, "RCPT TO:<bob@example.org>\r\n");
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    ck_assert_str_eq(out.line, "RCPT TO:<carol@example.org>\r\n");
    feed(&client, "550 5.1.1 unknown\r\n", &out);
    ck_assert_str_eq(out.line, "RCPT TO:<dave@example.org>\r\n");
    feed(&client, "450 4.2.1 busy\r\n", &out);
    ck_assert_str_eq(out.line, "DATA\r\n");
    feed(&client, "354 go\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_SEND_BODY);
    feed(&client, "250 2.0.0 queued\r\n", &out);
    ck_assert_str_eq(out.line, "QUIT\r\n");
    feed(&client, "221 Bye\r\n", &out);

    ck_assert_int_eq(r[0].status, SMTP_CLIENT_RCPT_ACCEPTED);
    ck_assert_int_eq(r[0].scope, FAILURE_SCOPE_NONE);
    ck_assert_int_eq(r[1].status, SMTP_CLIENT_RCPT_PERMANENT);
    ck_assert_int_eq(r[1].scope, FAILURE_SCOPE_RECIPIENT);
    ck_assert_int_eq(r[1].code, 550);
    ck_assert_int_eq(r[2].status, SMTP_CLIENT_RCPT_TRANSIENT);
    ck_assert_int_eq(r[2].scope, FAILURE_SCOPE_RECIPIENT);
    ck_assert_int_eq(r[2].code, 450);
    ck_assert_uint_eq(client.result.accepted_count, 1);
    ck_assert_int_eq(client.result.scope, FAILURE_SCOPE_NONE);
}
END_TEST

START_TEST(data_refusal_hits_accepted_only)
{
    struct smtp_client_envelope envelope = make_envelope(three_recipients, 3);
    struct smtp_client client;
    struct smtp_client_output out;
    const struct smtp_client_recipient *r = client.result.recipients;

    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_RCPT, &out);
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    feed(&client, "450 4.2.1 busy\r\n", &out);
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    feed(&client, "554 5.7.1 rejected\r\n", &out);
    ck_assert_str_eq(out.line, "QUIT\r\n");

    ck_assert_int_eq(r[0].status, SMTP_CLIENT_RCPT_PERMANENT);
    ck_assert_int_eq(r[0].scope, FAILURE_SCOPE_MESSAGE);
    ck_assert(r[0].rcpt_accepted);
    ck_assert_int_eq(r[1].status, SMTP_CLIENT_RCPT_TRANSIENT);
    ck_assert_int_eq(r[1].scope, FAILURE_SCOPE_RECIPIENT);
    ck_assert_int_eq(r[2].status, SMTP_CLIENT_RCPT_PERMANENT);
    ck_assert_int_eq(r[2].code, 554);
    ck_assert_int_eq(client.result.scope, FAILURE_SCOPE_MESSAGE);
    ck_assert_int_eq(client.result.failed_state, SMTP_CLIENT_DATA);
}
END_TEST

START_TEST(no_accepted_recipient_skips_data)
{
    struct smtp_client_envelope envelope = make_envelope(three_recipients, 2);
    struct smtp_client client;
    struct smtp_client_output out;

    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_RCPT, &out);
    feed(&client, "550 5.1.1 unknown\r\n", &out);
    feed(&client, "450 4.2.1 busy\r\n", &out);

    ck_assert_int_eq(client.state, SMTP_CLIENT_QUIT);
    ck_assert_str_eq(out.line, "QUIT\r\n");
    feed(&client, "221 Bye\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_CLOSE);
    ck_assert_int_eq(client.result.recipients[0].status,
                     SMTP_CLIENT_RCPT_PERMANENT);
    ck_assert_int_eq(client.result.recipients[1].status,
                     SMTP_CLIENT_RCPT_TRANSIENT);
    ck_assert_uint_eq(client.result.accepted_count, 0);
}
END_TEST

START_TEST(closing_mid_rcpt_fails_all)
{
    struct smtp_client_envelope envelope = make_envelope(three_recipients, 3);
    struct smtp_client client;
    struct smtp_client_output out;

    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_RCPT, &out);
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    feed(&client, "421 4.3.2 shutting down\r\n", &out);

    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_CLOSE);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(client.result.recipients[i].status,
                         SMTP_CLIENT_RCPT_TRANSIENT);
        ck_assert_int_eq(client.result.recipients[i].scope,
                         FAILURE_SCOPE_SESSION);
        ck_assert_int_eq(client.result.recipients[i].code, 421);
    }
    ck_assert(client.result.recipients[0].rcpt_accepted);
    ck_assert(!client.result.recipients[2].rcpt_accepted);
}
END_TEST

START_TEST(null_sender_line)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.sender = "";
    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_MAIL, &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<>\r\n");
}
END_TEST

START_TEST(init_rejects_no_recipients)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 0);
    struct smtp_client client;

    smtp_client_init(&client, &envelope);
}
END_TEST

START_TEST(init_rejects_too_many_recipients)
{
    struct smtp_client_envelope envelope =
        make_envelope(one_recipient, SMTP_CLIENT_MAX_RECIPIENTS + 1);
    struct smtp_client client;

    smtp_client_init(&client, &envelope);
}
END_TEST

START_TEST(timeouts_follow_rfc_5321)
{
    ck_assert_int_eq(smtp_client_timeout(SMTP_CLIENT_GREETING), 5 * SIM_MIN);
    ck_assert_int_eq(smtp_client_timeout(SMTP_CLIENT_EHLO), 5 * SIM_MIN);
    ck_assert_int_eq(smtp_client_timeout(SMTP_CLIENT_MAIL), 5 * SIM_MIN);
    ck_assert_int_eq(smtp_client_timeout(SMTP_CLIENT_RCPT), 5 * SIM_MIN);
    ck_assert_int_eq(smtp_client_timeout(SMTP_CLIENT_DATA), 2 * SIM_MIN);
    ck_assert_int_eq(smtp_client_timeout(SMTP_CLIENT_BODY), 10 * SIM_MIN);
    ck_assert_int_eq(smtp_client_timeout(SMTP_CLIENT_DONE), 0);
    ck_assert_int_eq(SMTP_CLIENT_DATA_BLOCK_TIMEOUT, 3 * SIM_MIN);
}
END_TEST

START_TEST(state_names_and_phrases)
{
    for (int state = 0; state < SMTP_CLIENT_STATE_COUNT; state++) {
        ck_assert_ptr_nonnull(smtp_client_state_name(state));
        ck_assert_str_ne(smtp_client_state_name(state), "UNKNOWN");
        ck_assert_ptr_nonnull(smtp_client_state_phrase(state));
    }
    ck_assert_str_eq(smtp_client_state_name(SMTP_CLIENT_RCPT), "RCPT");
    ck_assert_str_eq(smtp_client_state_phrase(SMTP_CLIENT_RCPT),
                     "sending RCPT TO");
    ck_assert_str_eq(smtp_client_state_name(SMTP_CLIENT_STATE_COUNT),
                     "UNKNOWN");
}
END_TEST

/* Feeds the greeting and an EHLO reply announcing `extensions` (lines
 * after the server name, each with CRLF), leaving the output of the EHLO
 * reply in `out`. */
static void greet_with(struct smtp_client *client, const char *extensions,
                       struct smtp_client_output *out)
{
    char wire[1024];

    feed(client, "220 mx.example.org ESMTP\r\n", out);
    snprintf(wire, sizeof wire, "250-mx.example.org\r\n%s", extensions);
    feed(client, wire, out);
}

#define ALL_EXTENSIONS                                                       \
    "250-PIPELINING\r\n250-SIZE 10000\r\n250-8BITMIME\r\n"                   \
    "250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n"

START_TEST(ehlo_extensions_recorded)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    smtp_client_init(&client, &envelope);
    greet_with(&client, ALL_EXTENSIONS, &out);
    ck_assert(client.extensions.pipelining);
    ck_assert(client.extensions.size);
    ck_assert_uint_eq(client.extensions.size_limit, 10000);
    ck_assert(client.extensions.eight_bit_mime);
    ck_assert(client.extensions.enhanced_status_codes);
    ck_assert(client.extensions.starttls);
    /* No option is on: a plain MAIL, no STARTTLS. */
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test>\r\n");
    ck_assert_uint_eq(out.command_count, 1);
}
END_TEST

START_TEST(helo_fallback_has_no_extensions)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.declare_size = true;
    envelope.pipelining = true;
    smtp_client_init(&client, &envelope);
    feed(&client, "220 mx\r\n", &out);
    feed(&client, "502 5.5.1 no EHLO\r\n", &out);
    ck_assert_str_eq(out.line, "HELO out.sender.test\r\n");
    feed(&client, "250 mx\r\n", &out);
    ck_assert(!client.extensions.size);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test>\r\n");
    ck_assert_uint_eq(out.command_count, 1);
}
END_TEST

START_TEST(size_declared_when_announced)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.declare_size = true;
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 SIZE 10000\r\n", &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test> SIZE=1234\r\n");

    /* Not announced: no parameter. */
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 8BITMIME\r\n", &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test>\r\n");

    /* Announced but not requested by the envelope. */
    envelope.declare_size = false;
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 SIZE 10000\r\n", &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test>\r\n");
}
END_TEST

START_TEST(size_refusal_is_permanent)
{
    struct smtp_client_envelope envelope = make_envelope(three_recipients, 3);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.declare_size = true;
    envelope.size = 20000;
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 SIZE 10000\r\n", &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test> SIZE=20000\r\n");
    feed(&client, "552 5.3.4 Message size exceeds fixed maximum message "
                  "size\r\n", &out);

    /* No RCPT, no DATA, no body: straight to QUIT (RFC 1870 6.2). */
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_SEND_LINE);
    ck_assert_str_eq(out.line, "QUIT\r\n");
    ck_assert_int_eq(client.result.scope, FAILURE_SCOPE_MESSAGE);
    ck_assert_int_eq(client.result.failed_state, SMTP_CLIENT_MAIL);
    ck_assert_int_eq(client.result.code, 552);
    for (size_t i = 0; i < 3; i++) {
        const struct smtp_client_recipient *r = &client.result.recipients[i];

        ck_assert_int_eq(r->status, SMTP_CLIENT_RCPT_PERMANENT);
        ck_assert_int_eq(r->scope, FAILURE_SCOPE_MESSAGE);
        ck_assert_int_eq(r->enhanced_subject, 3);
        ck_assert_int_eq(r->enhanced_detail, 4);
    }
}
END_TEST

START_TEST(eight_bit_body_parameter)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.eight_bit = true;
    envelope.declare_size = true;
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250-SIZE\r\n250 8BITMIME\r\n", &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test> SIZE=1234 "
                               "BODY=8BITMIME\r\n");

    envelope.declare_size = false;
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 8BITMIME\r\n", &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test> "
                               "BODY=8BITMIME\r\n");

    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 SIZE 100\r\n", &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test>\r\n");
}
END_TEST

START_TEST(pipelined_group_in_order)
{
    struct smtp_client_envelope envelope = make_envelope(three_recipients, 3);
    struct smtp_client client;
    struct smtp_client_output out;
    const struct smtp_client_recipient *r = client.result.recipients;

    envelope.pipelining = true;
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 PIPELINING\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_SEND_LINE);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test>\r\n"
                               "RCPT TO:<bob@example.org>\r\n"
                               "RCPT TO:<carol@example.org>\r\n"
                               "RCPT TO:<dave@example.org>\r\n"
                               "DATA\r\n");
    ck_assert_uint_eq(out.line_length, strlen(out.line));
    ck_assert_uint_eq(out.command_count, 5);
    ck_assert_int_eq(client.state, SMTP_CLIENT_MAIL);

    /* RFC 2920 3.1: replies are matched to the commands in order. */
    feed(&client, "250 2.1.0 Ok\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_NONE);
    ck_assert_int_eq(client.state, SMTP_CLIENT_RCPT);
    ck_assert_uint_eq(client.next_recipient, 0);
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_NONE);
    ck_assert_uint_eq(client.next_recipient, 1);
    feed(&client, "550 5.1.1 unknown\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_NONE);
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_NONE);
    ck_assert_int_eq(client.state, SMTP_CLIENT_DATA);
    feed(&client, "354 go ahead\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_SEND_BODY);
    ck_assert_uint_eq(out.body_size, 1234);
    feed(&client, "250 2.0.0 queued\r\n", &out);
    ck_assert_str_eq(out.line, "QUIT\r\n");
    feed(&client, "221 2.0.0 Bye\r\n", &out);

    ck_assert_ptr_eq(out.result, &client.result);
    ck_assert_int_eq(r[0].status, SMTP_CLIENT_RCPT_ACCEPTED);
    ck_assert_int_eq(r[1].status, SMTP_CLIENT_RCPT_PERMANENT);
    ck_assert_int_eq(r[1].scope, FAILURE_SCOPE_RECIPIENT);
    ck_assert_int_eq(r[2].status, SMTP_CLIENT_RCPT_ACCEPTED);
    ck_assert_uint_eq(client.result.accepted_count, 2);
    ck_assert_uint_eq(client.result.transaction_count, 1);
}
END_TEST

START_TEST(pipelining_needs_both_sides)
{
    struct smtp_client_envelope envelope = make_envelope(three_recipients, 3);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.pipelining = true;
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 SIZE 100\r\n", &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test>\r\n");

    envelope.pipelining = false;
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 PIPELINING\r\n", &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test>\r\n");
    ck_assert_uint_eq(out.command_count, 1);
}
END_TEST

/* Runs a pipelined 2-recipient session whose RCPTs are both refused, up
 * to the reply to DATA. */
static void pipeline_refused_rcpts(struct smtp_client *client,
                                   struct smtp_client_envelope *envelope,
                                   struct smtp_client_output *out)
{
    *envelope = make_envelope(three_recipients, 2);
    envelope->pipelining = true;
    smtp_client_init(client, envelope);
    greet_with(client, "250 PIPELINING\r\n", out);
    ck_assert_uint_eq(out->command_count, 4);
    feed(client, "250 2.1.0 Ok\r\n", out);
    feed(client, "550 5.1.1 unknown\r\n", out);
    feed(client, "450 4.2.1 busy\r\n", out);
    ck_assert_int_eq(client->state, SMTP_CLIENT_DATA);
}

START_TEST(pipelined_data_refused_no_body)
{
    static const char *const refusals[] = {
        "554 5.5.1 No valid recipients\r\n",
        "503 Error: need RCPT command\r\n",
    };

    for (size_t i = 0; i < 2; i++) {
        struct smtp_client_envelope envelope;
        struct smtp_client client;
        struct smtp_client_output out;

        pipeline_refused_rcpts(&client, &envelope, &out);
        feed(&client, refusals[i], &out);
        ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_SEND_LINE);
        ck_assert_str_eq(out.line, "QUIT\r\n");
        /* As without pipelining: each recipient has its RCPT reply. */
        ck_assert_int_eq(client.result.scope, FAILURE_SCOPE_NONE);
        ck_assert_int_eq(client.result.recipients[0].status,
                         SMTP_CLIENT_RCPT_PERMANENT);
        ck_assert_int_eq(client.result.recipients[1].status,
                         SMTP_CLIENT_RCPT_TRANSIENT);
        ck_assert_int_eq(client.result.recipients[1].code, 450);
        ck_assert(client.transaction_open);
    }
}
END_TEST

START_TEST(pipelined_354_without_recipient)
{
    struct smtp_client_envelope envelope;
    struct smtp_client client;
    struct smtp_client_output out;

    pipeline_refused_rcpts(&client, &envelope, &out);
    /* RFC 2920 3.1: a 354 with no accepted recipient gets a single dot. */
    feed(&client, "354 go ahead anyway\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_SEND_BODY);
    ck_assert_uint_eq(out.body_size, 0);
    ck_assert_str_eq(out.line, ".\r\n");
    feed(&client, "250 2.0.0 empty message\r\n", &out);
    ck_assert_str_eq(out.line, "QUIT\r\n");
    ck_assert_uint_eq(client.result.accepted_count, 0);
    ck_assert_int_eq(client.result.recipients[0].status,
                     SMTP_CLIENT_RCPT_PERMANENT);
    ck_assert(!client.transaction_open);
}
END_TEST

START_TEST(pipelined_mail_refused_drains)
{
    struct smtp_client_envelope envelope = make_envelope(three_recipients, 2);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.pipelining = true;
    envelope.declare_size = true;
    envelope.size = 50000;
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250-PIPELINING\r\n250 SIZE 10000\r\n", &out);
    ck_assert_uint_eq(out.command_count, 4);
    feed(&client, "552 5.3.4 too big\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_NONE);
    /* The RCPT and DATA replies of the group are read and ignored. */
    feed(&client, "503 5.5.1 need MAIL\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_NONE);
    feed(&client, "503 5.5.1 need MAIL\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_NONE);
    ck_assert_int_eq(client.state, SMTP_CLIENT_DATA);
    feed(&client, "503 5.5.1 need MAIL\r\n", &out);
    ck_assert_str_eq(out.line, "QUIT\r\n");

    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(client.result.recipients[i].status,
                         SMTP_CLIENT_RCPT_PERMANENT);
        ck_assert_int_eq(client.result.recipients[i].scope,
                         FAILURE_SCOPE_MESSAGE);
        ck_assert_int_eq(client.result.recipients[i].code, 552);
    }
    ck_assert_int_eq(client.result.failed_state, SMTP_CLIENT_MAIL);
}
END_TEST

START_TEST(pipelined_421_mid_group)
{
    struct smtp_client_envelope envelope = make_envelope(three_recipients, 3);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.pipelining = true;
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 PIPELINING\r\n", &out);
    feed(&client, "250 2.1.0 Ok\r\n", &out);
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    feed(&client, "421 4.3.2 shutting down\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_CLOSE);
    ck_assert(smtp_client_done(&client));
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(client.result.recipients[i].scope,
                         FAILURE_SCOPE_SESSION);
}
END_TEST

START_TEST(pipelined_group_split)
{
    static char addresses[SMTP_CLIENT_MAX_RECIPIENTS][260];
    const char *recipients[SMTP_CLIENT_MAX_RECIPIENTS];
    struct smtp_client_envelope envelope;
    struct smtp_client client;
    struct smtp_client_output out;
    size_t first_group;
    size_t total = 0;
    size_t groups = 0;

    /* 100 RCPT lines of about 250 bytes do not fit in one output. */
    for (size_t i = 0; i < SMTP_CLIENT_MAX_RECIPIENTS; i++) {
        memset(addresses[i], 'a', 230);
        snprintf(addresses[i] + 230, 30, "%03zu@example.org", i);
        recipients[i] = addresses[i];
    }
    envelope = make_envelope(recipients, SMTP_CLIENT_MAX_RECIPIENTS);
    envelope.pipelining = true;
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 PIPELINING\r\n", &out);
    ck_assert_uint_le(out.line_length, SMTP_CLIENT_OUTPUT_MAX);
    ck_assert_ptr_null(strstr(out.line, "DATA\r\n"));
    first_group = out.command_count - 1;
    ck_assert_uint_gt(first_group, 10);
    ck_assert_uint_lt(first_group, SMTP_CLIENT_MAX_RECIPIENTS);

    feed(&client, "250 2.1.0 Ok\r\n", &out);
    while (client.state == SMTP_CLIENT_RCPT) {
        feed(&client, "250 2.1.5 Ok\r\n", &out);
        total++;
        if (out.action == SMTP_CLIENT_ACTION_SEND_LINE) {
            char expected[300];
            bool has_data = strstr(out.line, "DATA\r\n") != NULL;

            /* The next group: the following RCPTs, and DATA after the
             * last one. */
            snprintf(expected, sizeof expected, "RCPT TO:<%s>\r\n",
                     addresses[total]);
            ck_assert_int_eq(strncmp(out.line, expected, strlen(expected)),
                             0);
            ck_assert_uint_le(out.line_length, SMTP_CLIENT_OUTPUT_MAX);
            ck_assert_uint_eq(total + out.command_count - has_data
                                  == SMTP_CLIENT_MAX_RECIPIENTS,
                              has_data);
            groups++;
        }
    }
    ck_assert_uint_ge(groups, 2);
    ck_assert_uint_eq(total, SMTP_CLIENT_MAX_RECIPIENTS);
    ck_assert_int_eq(client.state, SMTP_CLIENT_DATA);
    feed(&client, "354 go\r\n", &out);
    feed(&client, "250 2.0.0 Ok\r\n", &out);
    ck_assert_uint_eq(client.result.accepted_count, SMTP_CLIENT_MAX_RECIPIENTS);
    ck_assert_uint_eq(client.result.transaction_count, 1);
}
END_TEST

START_TEST(starttls_then_ehlo_again)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.starttls = true;
    envelope.declare_size = true;
    smtp_client_init(&client, &envelope);
    greet_with(&client, ALL_EXTENSIONS, &out);
    ck_assert_int_eq(client.state, SMTP_CLIENT_STARTTLS);
    ck_assert_str_eq(out.line, "STARTTLS\r\n");
    ck_assert_int_eq(smtp_client_current_timeout(&client), 5 * SIM_MIN);

    feed(&client, "220 2.0.0 Ready to start TLS\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_START_TLS);
    ck_assert_str_eq(out.line, "EHLO out.sender.test\r\n");
    ck_assert_uint_eq(out.command_count, 1);
    ck_assert_int_eq(client.state, SMTP_CLIENT_EHLO);
    ck_assert(client.tls_active);
    /* RFC 3207 4.2: what the server announced before TLS is discarded. */
    ck_assert(!client.extensions.size);

    feed(&client, "250-mx.example.org\r\n250 SIZE 20000\r\n", &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test> SIZE=1234\r\n");
    ck_assert_uint_eq(client.extensions.size_limit, 20000);
    advance_to(&client, SMTP_CLIENT_DONE, &out);
    ck_assert_uint_eq(client.result.accepted_count, 1);
    ck_assert(client.result.tls);
}
END_TEST

START_TEST(starttls_refused_goes_on)
{
    static const char *const refusals[] = {
        "454 4.7.0 TLS not available due to temporary reason\r\n",
        "502 5.5.1 Command not implemented\r\n",
    };

    for (size_t i = 0; i < 2; i++) {
        struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
        struct smtp_client client;
        struct smtp_client_output out;

        envelope.starttls = true;
        smtp_client_init(&client, &envelope);
        greet_with(&client, "250 STARTTLS\r\n", &out);
        feed(&client, refusals[i], &out);
        /* RFC 3207 section 4: without require_tls, go on in clear. */
        ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test>\r\n");
        advance_to(&client, SMTP_CLIENT_DONE, &out);
        ck_assert_uint_eq(client.result.accepted_count, 1);
        ck_assert(!client.result.tls);
    }
}
END_TEST

START_TEST(require_tls_454_defers)
{
    struct smtp_client_envelope envelope = make_envelope(three_recipients, 2);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.require_tls = true;
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 STARTTLS\r\n", &out);
    ck_assert_str_eq(out.line, "STARTTLS\r\n");
    feed(&client, "454 4.7.0 TLS not available due to temporary reason\r\n",
         &out);
    ck_assert_str_eq(out.line, "QUIT\r\n");
    for (size_t i = 0; i < 2; i++) {
        const struct smtp_client_recipient *r = &client.result.recipients[i];

        ck_assert_int_eq(r->status, SMTP_CLIENT_RCPT_TRANSIENT);
        ck_assert_int_eq(r->scope, FAILURE_SCOPE_SESSION);
        ck_assert_int_eq(r->code, 454);
        ck_assert_int_eq(r->enhanced_subject, 7);
        ck_assert_int_eq(r->enhanced_detail, 0);
    }
    ck_assert_int_eq(client.result.cause, SMTP_CLIENT_CAUSE_REPLY);
    ck_assert_int_eq(client.result.failed_state, SMTP_CLIENT_STARTTLS);
}
END_TEST

START_TEST(require_tls_not_announced)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;
    const struct smtp_client_recipient *r = &client.result.recipients[0];

    envelope.require_tls = true;
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 PIPELINING\r\n", &out);
    ck_assert_str_eq(out.line, "QUIT\r\n");
    ck_assert_int_eq(client.result.cause, SMTP_CLIENT_CAUSE_NO_TLS);
    ck_assert_int_eq(client.result.reply_class, SMTP_REPLY_TRANSIENT);
    ck_assert_int_eq(r->status, SMTP_CLIENT_RCPT_TRANSIENT);
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(r->enhanced_class, 4);
    ck_assert_int_eq(r->enhanced_subject, 7);
    ck_assert_int_eq(r->enhanced_detail, 4);
}
END_TEST

START_TEST(starttls_state_replies)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.starttls = true;
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 STARTTLS\r\n", &out);
    feed(&client, "421 4.3.2 closing\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_CLOSE);
    ck_assert_int_eq(client.result.scope, FAILURE_SCOPE_SESSION);

    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 STARTTLS\r\n", &out);
    smtp_client_on_timeout(&client, &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_CLOSE);
    ck_assert_int_eq(client.result.failed_state, SMTP_CLIENT_STARTTLS);
    ck_assert_int_eq(client.result.cause, SMTP_CLIENT_CAUSE_TIMEOUT);
}
END_TEST

START_TEST(too_many_recipients_next_transaction)
{
    struct smtp_client_envelope envelope = make_envelope(three_recipients, 3);
    struct smtp_client client;
    struct smtp_client_output out;
    const struct smtp_client_recipient *r = client.result.recipients;

    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_RCPT, &out);
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    ck_assert_str_eq(out.line, "RCPT TO:<carol@example.org>\r\n");
    feed(&client, "452 4.5.3 Too many recipients\r\n", &out);
    /* RFC 5321 4.5.3.1.10: no more RCPT in this transaction. */
    ck_assert_str_eq(out.line, "DATA\r\n");
    ck_assert_int_eq(r[1].status, SMTP_CLIENT_RCPT_NOT_TRIED);
    feed(&client, "354 go\r\n", &out);
    feed(&client, "250 2.0.0 queued\r\n", &out);
    ck_assert_int_eq(r[0].status, SMTP_CLIENT_RCPT_ACCEPTED);

    /* The rest go in a second transaction on the same connection. */
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test>\r\n");
    feed(&client, "250 2.1.0 Ok\r\n", &out);
    ck_assert_str_eq(out.line, "RCPT TO:<carol@example.org>\r\n");
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    ck_assert_str_eq(out.line, "RCPT TO:<dave@example.org>\r\n");
    feed(&client, "550 5.1.1 unknown\r\n", &out);
    ck_assert_str_eq(out.line, "DATA\r\n");
    feed(&client, "354 go\r\n", &out);
    feed(&client, "250 2.0.0 queued\r\n", &out);
    ck_assert_str_eq(out.line, "QUIT\r\n");
    feed(&client, "221 Bye\r\n", &out);

    ck_assert_ptr_eq(out.result, &client.result);
    ck_assert_int_eq(r[1].status, SMTP_CLIENT_RCPT_ACCEPTED);
    ck_assert_int_eq(r[2].status, SMTP_CLIENT_RCPT_PERMANENT);
    ck_assert_uint_eq(client.result.accepted_count, 2);
    ck_assert_uint_eq(client.result.transaction_count, 2);
}
END_TEST

START_TEST(too_many_recipients_pipelined)
{
    struct smtp_client_envelope envelope = make_envelope(three_recipients, 3);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.pipelining = true;
    smtp_client_init(&client, &envelope);
    greet_with(&client, "250 PIPELINING\r\n", &out);
    feed(&client, "250 2.1.0 Ok\r\n", &out);
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    feed(&client, "452 4.5.3 Too many recipients\r\n", &out);
    /* No enhanced code: 452 still means the limit (RFC 5321 4.5.3.1.10). */
    feed(&client, "452 Too many recipients\r\n", &out);
    feed(&client, "354 go\r\n", &out);
    feed(&client, "250 2.0.0 queued\r\n", &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test>\r\n"
                               "RCPT TO:<carol@example.org>\r\n"
                               "RCPT TO:<dave@example.org>\r\n"
                               "DATA\r\n");
    feed(&client, "250 2.1.0 Ok\r\n", &out);
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    feed(&client, "354 go\r\n", &out);
    feed(&client, "250 2.0.0 queued\r\n", &out);
    ck_assert_str_eq(out.line, "QUIT\r\n");
    ck_assert_uint_eq(client.result.accepted_count, 3);
    ck_assert_uint_eq(client.result.transaction_count, 2);
}
END_TEST

START_TEST(too_many_without_progress_fails)
{
    struct smtp_client_envelope envelope = make_envelope(three_recipients, 2);
    struct smtp_client client;
    struct smtp_client_output out;

    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_RCPT, &out);
    /* With nothing accepted yet, 452 4.5.3 is an ordinary failure. */
    feed(&client, "452 4.5.3 Too many recipients\r\n", &out);
    ck_assert_str_eq(out.line, "RCPT TO:<carol@example.org>\r\n");
    ck_assert_int_eq(client.result.recipients[0].status,
                     SMTP_CLIENT_RCPT_TRANSIENT);
    feed(&client, "452 4.5.3 Too many recipients\r\n", &out);
    ck_assert_str_eq(out.line, "QUIT\r\n");
    ck_assert_uint_eq(client.result.transaction_count, 1);
}
END_TEST

START_TEST(keep_open_reuses_session)
{
    static const char *const second[] = {"erin@example.org"};
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client_envelope next = make_envelope(second, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.keep_open = true;
    next.keep_open = true;
    next.sender = "";
    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_BODY, &out);
    feed(&client, "250 2.0.0 queued\r\n", &out);
    ck_assert_int_eq(client.state, SMTP_CLIENT_IDLE);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_NONE);
    ck_assert_ptr_eq(out.result, &client.result);
    ck_assert_uint_eq(out.result->accepted_count, 1);
    ck_assert_int_eq(smtp_client_current_timeout(&client), 0);

    /* The transaction ended with the end of data: no RSET. */
    smtp_client_next_envelope(&client, &next, &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<>\r\n");
    ck_assert_int_eq(client.result.recipients[0].status,
                     SMTP_CLIENT_RCPT_NOT_TRIED);
    feed(&client, "250 2.1.0 Ok\r\n", &out);
    ck_assert_str_eq(out.line, "RCPT TO:<erin@example.org>\r\n");
    feed(&client, "250 2.1.5 Ok\r\n", &out);
    feed(&client, "354 go\r\n", &out);
    feed(&client, "250 2.0.0 queued\r\n", &out);
    ck_assert_int_eq(client.state, SMTP_CLIENT_IDLE);
    ck_assert_ptr_eq(out.result, &client.result);
    ck_assert_uint_eq(client.result.transaction_count, 1);

    smtp_client_quit(&client, &out);
    ck_assert_str_eq(out.line, "QUIT\r\n");
    feed(&client, "221 2.0.0 Bye\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_CLOSE);
    /* Already reported at IDLE. */
    ck_assert_ptr_null(out.result);
    ck_assert(smtp_client_done(&client));
}
END_TEST

START_TEST(keep_open_rset_after_failure)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.keep_open = true;
    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_DATA, &out);
    feed(&client, "554 5.7.1 rejected\r\n", &out);
    ck_assert_int_eq(client.state, SMTP_CLIENT_IDLE);
    ck_assert_ptr_nonnull(out.result);
    ck_assert_int_eq(out.result->scope, FAILURE_SCOPE_MESSAGE);
    ck_assert(client.transaction_open);

    /* RFC 5321 4.1.1.5: the open transaction is reset first. */
    smtp_client_next_envelope(&client, &envelope, &out);
    ck_assert_str_eq(out.line, "RSET\r\n");
    ck_assert_int_eq(client.state, SMTP_CLIENT_RSET);
    ck_assert_int_eq(client.result.scope, FAILURE_SCOPE_NONE);
    feed(&client, "250 2.0.0 Ok\r\n", &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test>\r\n");
    advance_to(&client, SMTP_CLIENT_IDLE, &out);
    ck_assert_uint_eq(client.result.accepted_count, 1);
}
END_TEST

START_TEST(keep_open_no_rset_after_mail)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.keep_open = true;
    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_MAIL, &out);
    feed(&client, "451 4.3.0 later\r\n", &out);
    ck_assert_int_eq(client.state, SMTP_CLIENT_IDLE);
    ck_assert_int_eq(out.result->recipients[0].status,
                     SMTP_CLIENT_RCPT_TRANSIENT);
    /* A refused MAIL opened no transaction. */
    smtp_client_next_envelope(&client, &envelope, &out);
    ck_assert_str_eq(out.line, "MAIL FROM:<alice@sender.test>\r\n");
}
END_TEST

START_TEST(rset_refused_ends_session)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.keep_open = true;
    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_DATA, &out);
    feed(&client, "451 4.3.0 later\r\n", &out);
    smtp_client_next_envelope(&client, &envelope, &out);
    ck_assert_int_eq(smtp_client_current_timeout(&client), 5 * SIM_MIN);
    feed(&client, "500 5.5.2 what\r\n", &out);
    ck_assert_str_eq(out.line, "QUIT\r\n");
    ck_assert_int_eq(client.result.scope, FAILURE_SCOPE_SESSION);
    ck_assert_int_eq(client.result.failed_state, SMTP_CLIENT_RSET);
    ck_assert_int_eq(client.result.recipients[0].status,
                     SMTP_CLIENT_RCPT_PERMANENT);
}
END_TEST

START_TEST(idle_session_closed_by_server)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.keep_open = true;
    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_IDLE, &out);
    feed(&client, "421 4.4.2 mx Error: timeout exceeded\r\n", &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_CLOSE);
    ck_assert_ptr_null(out.result);
    ck_assert_int_eq(client.result.recipients[0].status,
                     SMTP_CLIENT_RCPT_ACCEPTED);

    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_IDLE, &out);
    smtp_client_on_connection_lost(&client, &out);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_CLOSE);
    ck_assert_ptr_null(out.result);
    ck_assert_int_eq(client.result.cause, SMTP_CLIENT_CAUSE_NONE);
}
END_TEST

START_TEST(require_tls_on_reused_session)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client_envelope secure = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    envelope.keep_open = true;
    secure.keep_open = true;
    secure.require_tls = true;
    smtp_client_init(&client, &envelope);
    advance_to(&client, SMTP_CLIENT_IDLE, &out);
    smtp_client_next_envelope(&client, &secure, &out);
    ck_assert_int_eq(client.state, SMTP_CLIENT_IDLE);
    ck_assert_int_eq(out.action, SMTP_CLIENT_ACTION_NONE);
    ck_assert_ptr_eq(out.result, &client.result);
    ck_assert_int_eq(out.result->cause, SMTP_CLIENT_CAUSE_NO_TLS);
}
END_TEST

START_TEST(next_envelope_outside_idle_aborts)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    smtp_client_init(&client, &envelope);
    smtp_client_next_envelope(&client, &envelope, &out);
}
END_TEST

START_TEST(quit_outside_idle_aborts)
{
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    smtp_client_init(&client, &envelope);
    smtp_client_quit(&client, &out);
}
END_TEST

START_TEST(timeouts_configurable)
{
    struct smtp_client_timeouts timeouts = smtp_client_default_timeouts;
    struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
    struct smtp_client client;
    struct smtp_client_output out;

    timeouts.greeting = 30 * SIM_SEC;
    timeouts.mail = 40 * SIM_SEC;
    timeouts.data_termination = 20 * SIM_MIN;
    smtp_client_init(&client, &envelope);
    ck_assert_ptr_eq(smtp_client_timeouts_of(&client),
                     &smtp_client_default_timeouts);
    ck_assert_int_eq(smtp_client_current_timeout(&client), 5 * SIM_MIN);

    envelope.timeouts = &timeouts;
    smtp_client_init(&client, &envelope);
    ck_assert_int_eq(smtp_client_current_timeout(&client), 30 * SIM_SEC);
    advance_to(&client, SMTP_CLIENT_MAIL, &out);
    ck_assert_int_eq(smtp_client_current_timeout(&client), 40 * SIM_SEC);
    advance_to(&client, SMTP_CLIENT_DATA, &out);
    ck_assert_int_eq(smtp_client_current_timeout(&client), 2 * SIM_MIN);
    advance_to(&client, SMTP_CLIENT_BODY, &out);
    ck_assert_int_eq(smtp_client_current_timeout(&client), 20 * SIM_MIN);
    ck_assert_int_eq(smtp_client_timeouts_of(&client)->data_block,
                     3 * SIM_MIN);
    advance_to(&client, SMTP_CLIENT_DONE, &out);
    ck_assert_int_eq(smtp_client_current_timeout(&client), 0);
}
END_TEST

Suite *smtp_client_suite(void);

Suite *smtp_client_suite(void)
{
    Suite *suite = suite_create("smtp_client");
    TCase *session_case = tcase_create("session");
    TCase *table_case = tcase_create("table");
    TCase *misc_case = tcase_create("misc");
    TCase *extensions_case = tcase_create("extensions");
    TCase *pipelining_case = tcase_create("pipelining");
    TCase *transactions_case = tcase_create("transactions");

    tcase_add_test(session_case, happy_session_lines);
    tcase_add_test(session_case, done_takes_no_input);
    tcase_add_test(session_case, helo_fallback_delivers);
    tcase_add_test(session_case, mixed_recipients_data_for_accepted);
    tcase_add_test(session_case, data_refusal_hits_accepted_only);
    tcase_add_test(session_case, no_accepted_recipient_skips_data);
    tcase_add_test(session_case, closing_mid_rcpt_fails_all);
    tcase_add_test(session_case, connection_lost_after_body);
    tcase_add_test(session_case, null_sender_line);
    suite_add_tcase(suite, session_case);

    tcase_add_loop_test(table_case, reply_in_every_state, 0,
                        (int)(sizeof reply_cases / sizeof *reply_cases));
    tcase_add_loop_test(table_case, reply_in_option_states, 0,
                        (int)(sizeof option_reply_cases
                              / sizeof *option_reply_cases));
    tcase_add_test(table_case, failure_records_reply);
    tcase_add_test(table_case, protocol_error_is_5_5_0);
    tcase_add_test(table_case, out_of_range_code_is_permanent);
    tcase_add_test(table_case, timeout_in_every_state);
    suite_add_tcase(suite, table_case);

    tcase_add_test_raise_signal(misc_case, init_rejects_no_recipients,
                                SIGABRT);
    tcase_add_test_raise_signal(misc_case, init_rejects_too_many_recipients,
                                SIGABRT);
    tcase_add_test(misc_case, timeouts_follow_rfc_5321);
    tcase_add_test(misc_case, timeouts_configurable);
    tcase_add_test(misc_case, state_names_and_phrases);
    tcase_add_test_raise_signal(misc_case, next_envelope_outside_idle_aborts,
                                SIGABRT);
    tcase_add_test_raise_signal(misc_case, quit_outside_idle_aborts, SIGABRT);
    suite_add_tcase(suite, misc_case);

    tcase_add_test(extensions_case, ehlo_extensions_recorded);
    tcase_add_test(extensions_case, helo_fallback_has_no_extensions);
    tcase_add_test(extensions_case, size_declared_when_announced);
    tcase_add_test(extensions_case, size_refusal_is_permanent);
    tcase_add_test(extensions_case, eight_bit_body_parameter);
    tcase_add_test(extensions_case, starttls_then_ehlo_again);
    tcase_add_test(extensions_case, starttls_refused_goes_on);
    tcase_add_test(extensions_case, require_tls_454_defers);
    tcase_add_test(extensions_case, require_tls_not_announced);
    tcase_add_test(extensions_case, starttls_state_replies);
    suite_add_tcase(suite, extensions_case);

    tcase_add_test(pipelining_case, pipelined_group_in_order);
    tcase_add_test(pipelining_case, pipelining_needs_both_sides);
    tcase_add_test(pipelining_case, pipelined_data_refused_no_body);
    tcase_add_test(pipelining_case, pipelined_354_without_recipient);
    tcase_add_test(pipelining_case, pipelined_mail_refused_drains);
    tcase_add_test(pipelining_case, pipelined_421_mid_group);
    tcase_add_test(pipelining_case, pipelined_group_split);
    suite_add_tcase(suite, pipelining_case);

    tcase_add_test(transactions_case, too_many_recipients_next_transaction);
    tcase_add_test(transactions_case, too_many_recipients_pipelined);
    tcase_add_test(transactions_case, too_many_without_progress_fails);
    tcase_add_test(transactions_case, keep_open_reuses_session);
    tcase_add_test(transactions_case, keep_open_rset_after_failure);
    tcase_add_test(transactions_case, keep_open_no_rset_after_mail);
    tcase_add_test(transactions_case, rset_refused_ends_session);
    tcase_add_test(transactions_case, idle_session_closed_by_server);
    tcase_add_test(transactions_case, require_tls_on_reused_session);
    suite_add_tcase(suite, transactions_case);
    return suite;
}

TEST_MAIN(smtp_client_suite)
