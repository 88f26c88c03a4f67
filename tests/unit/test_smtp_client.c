#include <signal.h>
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
    for (int state = SMTP_CLIENT_GREETING; state < SMTP_CLIENT_DONE; state++) {
        struct smtp_client_envelope envelope = make_envelope(one_recipient, 1);
        struct smtp_client client;
        struct smtp_client_output out;
        const struct smtp_client_recipient *recipient =
            &client.result.recipients[0];

        smtp_client_init(&client, &envelope);
        advance_to(&client, (enum smtp_client_state)state, &out);
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

Suite *smtp_client_suite(void);

Suite *smtp_client_suite(void)
{
    Suite *suite = suite_create("smtp_client");
    TCase *session_case = tcase_create("session");
    TCase *table_case = tcase_create("table");
    TCase *misc_case = tcase_create("misc");

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
    tcase_add_test(misc_case, state_names_and_phrases);
    suite_add_tcase(suite, misc_case);
    return suite;
}

TEST_MAIN(smtp_client_suite)
