#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "models/smtp_client.h"
#include "models/smtp_server.h"
#include "tests/unit/test_util.h"

/* Decisions and what the policy callbacks were given. */
struct test_policy_state {
    char last_recipient[256];
    uint64_t last_size;
    int message_code;          /* returned by check_message */
    int closing_after;         /* return 421 to RCPT after this many calls;
                                  0: never */
    int recipient_calls;
};

static int test_check_recipient(void *ctx, const char *address,
                                char *enhanced_out, size_t n)
{
    struct test_policy_state *state = ctx;

    snprintf(state->last_recipient, sizeof state->last_recipient, "%s",
             address);
    state->recipient_calls++;
    if (state->closing_after > 0 && state->recipient_calls > state->closing_after)
        return 421;
    if (strncmp(address, "nobody@", 7) == 0) {
        snprintf(enhanced_out, n, "5.1.1");
        return 550;
    }
    if (strncmp(address, "busy@", 5) == 0)
        return 450;
    return 250;
}

static int test_check_message(void *ctx, uint64_t size)
{
    struct test_policy_state *state = ctx;

    state->last_size = size;
    return state->message_code;
}

struct fixture {
    struct test_policy_state state;
    struct smtp_server_policy policy;
    struct smtp_server server;
    char out[SMTP_SERVER_REPLY_MAX];
};

static void fixture_init(struct fixture *f, int greeting_code)
{
    memset(f, 0, sizeof *f);
    f->state.message_code = 250;
    f->policy = (struct smtp_server_policy){
        .greeting_code = greeting_code,
        .max_size = 10000,
        .check_recipient = test_check_recipient,
        .check_message = test_check_message,
        .ctx = &f->state,
        .hostname = "mx.example.org",
    };
    smtp_server_init(&f->server, &f->policy);
}

static const char *greet(struct fixture *f)
{
    size_t n = smtp_server_greeting(&f->server, f->out, sizeof f->out);

    ck_assert_uint_eq(n, strlen(f->out));
    return f->out;
}

/* Sends one command line (CRLF added) and returns the reply text, "" when
 * there is none. */
static const char *send_line(struct fixture *f, const char *command)
{
    char line[1024];
    size_t n;

    snprintf(line, sizeof line, "%s\r\n", command);
    f->out[0] = '\0';
    n = smtp_server_on_line(&f->server, line, strlen(line), f->out,
                            sizeof f->out);
    if (n == 0)
        return "";
    ck_assert_uint_eq(n, strlen(f->out));
    return f->out;
}

/* Greets and sends EHLO, leaving the server READY with enhanced codes. */
static void start_session(struct fixture *f)
{
    fixture_init(f, 220);
    greet(f);
    send_line(f, "EHLO client.test");
    ck_assert_int_eq(f->server.state, SMTP_SERVER_READY);
}

START_TEST(scripted_session)
{
    struct fixture f;

    fixture_init(&f, 220);
    ck_assert_str_eq(greet(&f), "220 mx.example.org ESMTP ready\r\n");
    ck_assert_str_eq(send_line(&f, "EHLO client.test"),
                     "250-mx.example.org\r\n"
                     "250-SIZE 10000\r\n"
                     "250-8BITMIME\r\n"
                     "250-ENHANCEDSTATUSCODES\r\n"
                     "250 PIPELINING\r\n");
    ck_assert_str_eq(send_line(&f, "MAIL FROM:<alice@sender.test> SIZE=500"),
                     "250 2.1.0 Ok\r\n");
    ck_assert_str_eq(send_line(&f, "RCPT TO:<bob@example.org>"),
                     "250 2.1.5 Ok\r\n");
    ck_assert_str_eq(f.state.last_recipient, "bob@example.org");
    ck_assert_str_eq(send_line(&f, "RCPT TO:<nobody@example.org>"),
                     "550 5.1.1 Requested action not taken: mailbox "
                     "unavailable\r\n");
    ck_assert_str_eq(send_line(&f, "DATA"),
                     "354 End data with <CR><LF>.<CR><LF>\r\n");
    ck_assert_str_eq(send_line(&f, "Subject: hi"), "");
    ck_assert_str_eq(send_line(&f, "..leading dot"), "");
    ck_assert_str_eq(send_line(&f, ""), "");
    ck_assert_str_eq(send_line(&f, "."), "250 2.0.0 Ok\r\n");
    /* "Subject: hi" 11 + ".leading dot" 12 + "" 0, each with CRLF. */
    ck_assert_uint_eq(f.state.last_size, 11 + 12 + 0 + 3 * 2);
    ck_assert_str_eq(send_line(&f, "QUIT"),
                     "221 2.0.0 mx.example.org Service closing transmission "
                     "channel\r\n");
    ck_assert(smtp_server_closed(&f.server));
    ck_assert_str_eq(send_line(&f, "NOOP"), "");
}
END_TEST

START_TEST(simulated_body_end)
{
    struct fixture f;
    size_t n;

    start_session(&f);
    send_line(&f, "MAIL FROM:<alice@sender.test>");
    send_line(&f, "RCPT TO:<bob@example.org>");
    send_line(&f, "DATA");
    n = smtp_server_on_body_end(&f.server, 4321, f.out, sizeof f.out);
    ck_assert_str_eq(f.out, "250 2.0.0 Ok\r\n");
    ck_assert_uint_eq(n, strlen(f.out));
    ck_assert_uint_eq(f.state.last_size, 4321);
    ck_assert_int_eq(f.server.state, SMTP_SERVER_READY);
    ck_assert_uint_eq(f.server.recipient_count, 0);

    /* A second transaction on the same session. */
    ck_assert_str_eq(send_line(&f, "MAIL FROM:<>"), "250 2.1.0 Ok\r\n");
}
END_TEST

START_TEST(bad_sequence_before_ehlo)
{
    struct fixture f;

    fixture_init(&f, 220);
    greet(&f);
    /* No enhanced codes before EHLO. */
    ck_assert_str_eq(send_line(&f, "MAIL FROM:<alice@sender.test>"),
                     "503 Bad sequence of commands: send HELO/EHLO first\r\n");
    ck_assert_str_eq(send_line(&f, "RCPT TO:<bob@example.org>"),
                     "503 Bad sequence of commands: need MAIL command\r\n");
    ck_assert_int_eq(f.server.state, SMTP_SERVER_GREETED);
    /* RFC 5321 4.1.4: NOOP and RSET work before EHLO. */
    ck_assert_str_eq(send_line(&f, "NOOP"), "250 Ok\r\n");
    ck_assert_str_eq(send_line(&f, "RSET"), "250 Ok\r\n");
    ck_assert_int_eq(f.server.state, SMTP_SERVER_GREETED);
}
END_TEST

START_TEST(bad_sequence_in_transaction)
{
    struct fixture f;

    start_session(&f);
    ck_assert_str_eq(send_line(&f, "RCPT TO:<bob@example.org>"),
                     "503 5.5.1 Bad sequence of commands: need MAIL "
                     "command\r\n");
    ck_assert_str_eq(send_line(&f, "DATA"),
                     "503 5.5.1 Bad sequence of commands: need MAIL "
                     "command\r\n");
    ck_assert_str_eq(send_line(&f, "MAIL FROM:<alice@sender.test>"),
                     "250 2.1.0 Ok\r\n");
    ck_assert_str_eq(send_line(&f, "MAIL FROM:<alice@sender.test>"),
                     "503 5.5.1 Bad sequence of commands: nested MAIL "
                     "command\r\n");
    ck_assert_int_eq(f.server.state, SMTP_SERVER_MAIL);
}
END_TEST

START_TEST(data_without_valid_recipients)
{
    struct fixture f;

    start_session(&f);
    send_line(&f, "MAIL FROM:<alice@sender.test>");
    send_line(&f, "RCPT TO:<nobody@example.org>");
    ck_assert_str_eq(send_line(&f, "DATA"),
                     "554 5.5.1 No valid recipients\r\n");
    ck_assert_int_eq(f.server.state, SMTP_SERVER_MAIL);
}
END_TEST

START_TEST(size_refused_at_mail)
{
    struct fixture f;

    start_session(&f);
    ck_assert_str_eq(send_line(&f, "MAIL FROM:<alice@sender.test> SIZE=10001"),
                     "552 5.3.4 Message size exceeds fixed maximum message "
                     "size\r\n");
    ck_assert_int_eq(f.server.state, SMTP_SERVER_READY);
    ck_assert_str_eq(send_line(&f, "mail from:<alice@sender.test> size=10000 "
                                   "BODY=8BITMIME"),
                     "250 2.1.0 Ok\r\n");
}
END_TEST

START_TEST(size_refused_at_end_of_data)
{
    struct fixture f;

    start_session(&f);
    send_line(&f, "MAIL FROM:<alice@sender.test>");
    send_line(&f, "RCPT TO:<bob@example.org>");
    send_line(&f, "DATA");
    smtp_server_on_body_end(&f.server, 10001, f.out, sizeof f.out);
    ck_assert_str_eq(f.out, "552 5.3.4 Message size exceeds fixed maximum "
                            "message size\r\n");
    /* The policy is not asked about a message over the limit. */
    ck_assert_uint_eq(f.state.last_size, 0);
    ck_assert_int_eq(f.server.state, SMTP_SERVER_READY);
}
END_TEST

START_TEST(message_policy_codes)
{
    static const struct {
        int code;
        const char *reply;
    } cases[] = {
        {451, "451 4.3.0 Requested action aborted: local error in "
              "processing\r\n"},
        {452, "452 4.3.1 Requested action not taken: insufficient system "
              "storage\r\n"},
        {554, "554 5.0.0 Transaction failed\r\n"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct fixture f;

        start_session(&f);
        f.state.message_code = cases[i].code;
        send_line(&f, "MAIL FROM:<alice@sender.test>");
        send_line(&f, "RCPT TO:<bob@example.org>");
        send_line(&f, "DATA");
        smtp_server_on_body_end(&f.server, 100, f.out, sizeof f.out);
        ck_assert_str_eq(f.out, cases[i].reply);
    }
}
END_TEST

START_TEST(unknown_recipient_and_defaults)
{
    struct fixture f;

    start_session(&f);
    send_line(&f, "MAIL FROM:<alice@sender.test>");
    ck_assert_str_eq(send_line(&f, "RCPT TO:<nobody@example.org>"),
                     "550 5.1.1 Requested action not taken: mailbox "
                     "unavailable\r\n");
    ck_assert_uint_eq(f.server.recipient_count, 0);
    ck_assert_int_eq(f.server.state, SMTP_SERVER_MAIL);
    /* No enhanced code from the policy: X.0.0 for the class. */
    ck_assert_str_eq(send_line(&f, "RCPT TO:<busy@example.org>"),
                     "450 4.0.0 Requested mail action not taken: mailbox "
                     "unavailable\r\n");
}
END_TEST

START_TEST(syntax_errors)
{
    static const struct {
        const char *command;
        const char *reply;
    } cases[] = {
        {"FROB", "500 5.5.2 Syntax error, command unrecognized\r\n"},
        {"MAIL FROM: <alice@sender.test>",
         "501 5.5.4 Syntax error in parameters or arguments\r\n"},
        {"MAIL TO:<alice@sender.test>",
         "501 5.5.4 Syntax error in parameters or arguments\r\n"},
        {"MAIL FROM:alice@sender.test",
         "501 5.5.4 Syntax error in parameters or arguments\r\n"},
        {"MAIL FROM:<alice@sender.test>junk",
         "501 5.5.4 Syntax error in parameters or arguments\r\n"},
        {"MAIL FROM:<alice>", "501 5.1.7 Bad sender address syntax\r\n"},
        {"MAIL FROM:<al ice@sender.test>",
         "501 5.1.7 Bad sender address syntax\r\n"},
        {"MAIL FROM:<alice@-bad.test>",
         "501 5.1.7 Bad sender address syntax\r\n"},
        {"MAIL FROM:<alice@sender.test> SIZE=12x",
         "501 5.5.4 Bad SIZE parameter syntax\r\n"},
        {"MAIL FROM:<alice@sender.test> BODY=BINARYMIME",
         "501 5.5.4 Bad BODY parameter\r\n"},
        {"MAIL FROM:<alice@sender.test> AUTH=<>",
         "555 5.5.4 MAIL FROM/RCPT TO parameters not recognized or not "
         "implemented\r\n"},
        {"EHLO", "501 5.5.4 Syntax error in parameters or arguments\r\n"},
        {"HELO", "501 5.5.4 Syntax error in parameters or arguments\r\n"},
        {"RSET now", "501 5.5.4 Syntax error in parameters or arguments\r\n"},
        {"QUIT now", "501 5.5.4 Syntax error in parameters or arguments\r\n"},
        {"VRFY", "501 5.5.4 Syntax error in parameters or arguments\r\n"},
        {"MAIL FROM:<al\x01ice@sender.test>",
         "500 5.5.2 Syntax error, invalid character\r\n"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct fixture f;

        start_session(&f);
        ck_assert_msg(strcmp(send_line(&f, cases[i].command), cases[i].reply)
                          == 0,
                      "%s: got %s", cases[i].command, f.out);
        ck_assert_int_eq(f.server.state, SMTP_SERVER_READY);
    }
}
END_TEST

START_TEST(rcpt_syntax_errors)
{
    struct fixture f;

    start_session(&f);
    send_line(&f, "MAIL FROM:<alice@sender.test>");
    ck_assert_str_eq(send_line(&f, "RCPT TO:<bob>"),
                     "501 5.1.3 Bad recipient address syntax\r\n");
    ck_assert_str_eq(send_line(&f, "RCPT TO:<bob@example..org>"),
                     "501 5.1.3 Bad recipient address syntax\r\n");
    ck_assert_str_eq(send_line(&f, "RCPT TO:bob@example.org"),
                     "501 5.5.4 Syntax error in parameters or arguments\r\n");
    ck_assert_str_eq(send_line(&f, "RCPT TO:<bob@example.org> NOTIFY=NEVER"),
                     "555 5.5.4 MAIL FROM/RCPT TO parameters not recognized "
                     "or not implemented\r\n");
    ck_assert_int_eq(f.state.recipient_calls, 0);
    ck_assert_int_eq(f.server.state, SMTP_SERVER_MAIL);
}
END_TEST

START_TEST(postmaster_and_source_route)
{
    struct fixture f;

    start_session(&f);
    send_line(&f, "MAIL FROM:<alice@sender.test>");
    ck_assert_str_eq(send_line(&f, "RCPT TO:<Postmaster>"), "250 2.1.5 Ok\r\n");
    ck_assert_str_eq(f.state.last_recipient, "Postmaster");
    ck_assert_str_eq(send_line(&f, "rcpt to:<@relay.test,@hop.test:"
                                   "bob@example.org>"),
                     "250 2.1.5 Ok\r\n");
    ck_assert_str_eq(f.state.last_recipient, "bob@example.org");
    ck_assert_uint_eq(f.server.recipient_count, 2);
}
END_TEST

START_TEST(helo_has_no_enhanced_codes)
{
    struct fixture f;

    fixture_init(&f, 220);
    greet(&f);
    ck_assert_str_eq(send_line(&f, "HELO client.test"),
                     "250 mx.example.org\r\n");
    ck_assert_str_eq(send_line(&f, "MAIL FROM:<alice@sender.test>"),
                     "250 Ok\r\n");
    ck_assert_str_eq(send_line(&f, "RCPT TO:<nobody@example.org>"),
                     "550 Requested action not taken: mailbox unavailable\r\n");
}
END_TEST

START_TEST(rset_noop_vrfy_expn_help)
{
    struct fixture f;

    start_session(&f);
    send_line(&f, "MAIL FROM:<alice@sender.test>");
    send_line(&f, "RCPT TO:<bob@example.org>");
    ck_assert_str_eq(send_line(&f, "RSET"), "250 2.0.0 Ok\r\n");
    ck_assert_int_eq(f.server.state, SMTP_SERVER_READY);
    ck_assert_uint_eq(f.server.recipient_count, 0);
    ck_assert_str_eq(send_line(&f, "NOOP anything"), "250 2.0.0 Ok\r\n");
    ck_assert_str_eq(send_line(&f, "VRFY bob"),
                     "252 2.0.0 Cannot VRFY user, but will accept message "
                     "and attempt delivery\r\n");
    ck_assert_str_eq(send_line(&f, "EXPN staff"),
                     "502 5.5.1 Command not implemented\r\n");
    ck_assert_str_eq(send_line(&f, "HELP"),
                     "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP "
                     "QUIT VRFY\r\n");
    /* Trailing white space is tolerated (RFC 5321 4.1.1). */
    ck_assert_str_eq(send_line(&f, "NOOP  \t"), "250 2.0.0 Ok\r\n");
}
END_TEST

START_TEST(greeting_421_closes)
{
    struct fixture f;

    fixture_init(&f, 421);
    ck_assert_str_eq(greet(&f), "421 mx.example.org Service not available, "
                                "closing transmission channel\r\n");
    ck_assert(smtp_server_closed(&f.server));
    ck_assert_str_eq(send_line(&f, "EHLO client.test"), "");
}
END_TEST

START_TEST(greeting_554_waits_for_quit)
{
    struct fixture f;

    fixture_init(&f, 554);
    ck_assert_str_eq(greet(&f), "554 mx.example.org No SMTP service here\r\n");
    ck_assert(!smtp_server_closed(&f.server));
    ck_assert_str_eq(send_line(&f, "EHLO client.test"),
                     "503 Bad sequence of commands: no SMTP service here\r\n");
    ck_assert_str_eq(send_line(&f, "NOOP"),
                     "503 Bad sequence of commands: no SMTP service here\r\n");
    ck_assert_str_eq(send_line(&f, "quit"),
                     "221 mx.example.org Service closing transmission "
                     "channel\r\n");
    ck_assert(smtp_server_closed(&f.server));
}
END_TEST

START_TEST(recipient_limit)
{
    struct fixture f;
    char command[64];

    start_session(&f);
    send_line(&f, "MAIL FROM:<alice@sender.test>");
    for (int i = 0; i < SMTP_SERVER_MAX_RECIPIENTS; i++) {
        snprintf(command, sizeof command, "RCPT TO:<user%d@example.org>", i);
        ck_assert_str_eq(send_line(&f, command), "250 2.1.5 Ok\r\n");
    }
    ck_assert_str_eq(send_line(&f, "RCPT TO:<extra@example.org>"),
                     "452 4.5.3 Too many recipients\r\n");
    ck_assert_uint_eq(f.server.recipient_count, SMTP_SERVER_MAX_RECIPIENTS);
    ck_assert_str_eq(send_line(&f, "DATA"),
                     "354 End data with <CR><LF>.<CR><LF>\r\n");
}
END_TEST

START_TEST(policy_421_closes)
{
    struct fixture f;

    start_session(&f);
    f.state.closing_after = 1;
    send_line(&f, "MAIL FROM:<alice@sender.test>");
    ck_assert_str_eq(send_line(&f, "RCPT TO:<bob@example.org>"),
                     "250 2.1.5 Ok\r\n");
    ck_assert_str_eq(send_line(&f, "RCPT TO:<carol@example.org>"),
                     "421 4.0.0 mx.example.org Service not available, "
                     "closing transmission channel\r\n");
    ck_assert(smtp_server_closed(&f.server));
}
END_TEST

START_TEST(timeout_closes)
{
    struct fixture f;
    size_t n;

    start_session(&f);
    n = smtp_server_on_timeout(&f.server, f.out, sizeof f.out);
    ck_assert_str_eq(f.out, "421 4.4.2 mx.example.org Error: timeout "
                            "exceeded\r\n");
    ck_assert_uint_eq(n, strlen(f.out));
    ck_assert(smtp_server_closed(&f.server));
    ck_assert_uint_eq(smtp_server_on_timeout(&f.server, f.out, sizeof f.out),
                      0);
}
END_TEST

START_TEST(line_too_long)
{
    struct fixture f;
    char line[600];

    start_session(&f);
    /* 510 bytes plus CRLF is the limit (RFC 5321 4.5.3.1.4). */
    memset(line, 'x', sizeof line);
    memcpy(line, "NOOP ", 5);
    line[510] = '\0';
    ck_assert_str_eq(send_line(&f, line), "250 2.0.0 Ok\r\n");
    line[510] = 'x';
    line[511] = '\0';
    ck_assert_str_eq(send_line(&f, line), "500 5.5.2 Line too long\r\n");
}
END_TEST

START_TEST(body_end_outside_data_aborts)
{
    struct fixture f;

    start_session(&f);
    smtp_server_on_body_end(&f.server, 10, f.out, sizeof f.out);
}
END_TEST

START_TEST(greeting_twice_aborts)
{
    struct fixture f;

    fixture_init(&f, 220);
    greet(&f);
    greet(&f);
}
END_TEST

START_TEST(bad_greeting_code_aborts)
{
    struct fixture f;

    fixture_init(&f, 250);
    greet(&f);
}
END_TEST

START_TEST(starttls_resets_session)
{
    struct fixture f;

    fixture_init(&f, 220);
    f.policy.starttls = true;
    greet(&f);
    ck_assert_str_eq(send_line(&f, "EHLO client.test"),
                     "250-mx.example.org\r\n"
                     "250-SIZE 10000\r\n"
                     "250-8BITMIME\r\n"
                     "250-ENHANCEDSTATUSCODES\r\n"
                     "250-PIPELINING\r\n"
                     "250 STARTTLS\r\n");
    ck_assert(!smtp_server_tls_pending(&f.server));
    ck_assert_str_eq(send_line(&f, "starttls"),
                     "220 2.0.0 Ready to start TLS\r\n");
    ck_assert(smtp_server_tls_pending(&f.server));
    ck_assert(f.server.tls_active);
    ck_assert_int_eq(f.server.state, SMTP_SERVER_GREETED);

    /* RFC 3207 4.2: the EHLO before TLS is forgotten. */
    ck_assert_str_eq(send_line(&f, "MAIL FROM:<alice@sender.test>"),
                     "503 Bad sequence of commands: send HELO/EHLO first\r\n");
    ck_assert(!smtp_server_tls_pending(&f.server));
    /* STARTTLS is not offered again. */
    ck_assert_str_eq(send_line(&f, "EHLO client.test"),
                     "250-mx.example.org\r\n"
                     "250-SIZE 10000\r\n"
                     "250-8BITMIME\r\n"
                     "250-ENHANCEDSTATUSCODES\r\n"
                     "250 PIPELINING\r\n");
    ck_assert_str_eq(send_line(&f, "STARTTLS"),
                     "503 5.5.1 Bad sequence of commands: TLS already "
                     "active\r\n");
    ck_assert_str_eq(send_line(&f, "MAIL FROM:<alice@sender.test>"),
                     "250 2.1.0 Ok\r\n");
}
END_TEST

START_TEST(starttls_refusals)
{
    struct fixture f;

    /* Not offered by the policy. */
    start_session(&f);
    ck_assert_str_eq(send_line(&f, "STARTTLS"),
                     "502 5.5.1 Command not implemented\r\n");

    fixture_init(&f, 220);
    f.policy.starttls = true;
    greet(&f);
    ck_assert_str_eq(send_line(&f, "STARTTLS"),
                     "503 Bad sequence of commands: send EHLO first\r\n");
    send_line(&f, "EHLO client.test");
    ck_assert_str_eq(send_line(&f, "STARTTLS now"),
                     "501 5.5.4 Syntax error (no parameters allowed)\r\n");
    send_line(&f, "MAIL FROM:<alice@sender.test>");
    ck_assert_str_eq(send_line(&f, "STARTTLS"),
                     "503 5.5.1 Bad sequence of commands: mail transaction "
                     "in progress\r\n");
    ck_assert(!f.server.tls_active);
    ck_assert_int_eq(f.server.state, SMTP_SERVER_MAIL);

    send_line(&f, "RSET");
    f.policy.starttls_unavailable = true;
    ck_assert_str_eq(send_line(&f, "STARTTLS"),
                     "454 4.7.0 TLS not available due to temporary "
                     "reason\r\n");
    ck_assert(!smtp_server_tls_pending(&f.server));
    ck_assert_int_eq(f.server.state, SMTP_SERVER_READY);
    ck_assert_str_eq(send_line(&f, "MAIL FROM:<alice@sender.test>"),
                     "250 2.1.0 Ok\r\n");
}
END_TEST

START_TEST(require_starttls_530)
{
    struct fixture f;

    fixture_init(&f, 220);
    f.policy.starttls = true;
    f.policy.require_starttls = true;
    greet(&f);
    ck_assert_str_eq(send_line(&f, "HELO client.test"),
                     "530 Must issue a STARTTLS command first\r\n");
    ck_assert_str_eq(send_line(&f, "NOOP"), "250 Ok\r\n");
    send_line(&f, "EHLO client.test");
    ck_assert_str_eq(send_line(&f, "MAIL FROM:<alice@sender.test>"),
                     "530 5.7.0 Must issue a STARTTLS command first\r\n");
    ck_assert_str_eq(send_line(&f, "RSET"),
                     "530 5.7.0 Must issue a STARTTLS command first\r\n");
    ck_assert_str_eq(send_line(&f, "STARTTLS"),
                     "220 2.0.0 Ready to start TLS\r\n");
    send_line(&f, "EHLO client.test");
    ck_assert_str_eq(send_line(&f, "MAIL FROM:<alice@sender.test>"),
                     "250 2.1.0 Ok\r\n");
}
END_TEST

START_TEST(recipient_limit_from_policy)
{
    struct fixture f;
    char command[64];

    start_session(&f);
    f.policy.max_recipients = 3;
    for (int round = 0; round < 2; round++) {
        send_line(&f, "MAIL FROM:<alice@sender.test>");
        for (int i = 0; i < 3; i++) {
            snprintf(command, sizeof command, "RCPT TO:<user%d@example.org>",
                     i);
            ck_assert_str_eq(send_line(&f, command), "250 2.1.5 Ok\r\n");
        }
        ck_assert_str_eq(send_line(&f, "RCPT TO:<extra@example.org>"),
                         "452 4.5.3 Too many recipients\r\n");
        /* Refused recipients do not count toward the limit either way. */
        ck_assert_uint_eq(f.server.recipient_count, 3);
        send_line(&f, "DATA");
        ck_assert_str_eq(send_line(&f, "."), "250 2.0.0 Ok\r\n");
        /* The limit is per transaction. */
        ck_assert_uint_eq(f.server.recipient_count, 0);
    }
}
END_TEST

START_TEST(pipelined_group_replies)
{
    struct fixture f;
    const char *const group[] = {
        "MAIL FROM:<alice@sender.test> SIZE=100",
        "RCPT TO:<nobody@example.org>",
        "RCPT TO:<busy@example.org>",
        "DATA",
        "RSET",
    };
    const char *const replies[] = {
        "250 2.1.0 Ok\r\n",
        "550 5.1.1 Requested action not taken: mailbox unavailable\r\n",
        "450 4.0.0 Requested mail action not taken: mailbox unavailable\r\n",
        "554 5.5.1 No valid recipients\r\n",
        "250 2.0.0 Ok\r\n",
    };

    /* RFC 2920 3.1: with no recipient accepted, the DATA that ends the
     * group is refused, so no message follows. */
    start_session(&f);
    for (size_t i = 0; i < sizeof group / sizeof *group; i++)
        ck_assert_str_eq(send_line(&f, group[i]), replies[i]);
    ck_assert_int_eq(f.server.state, SMTP_SERVER_READY);
}
END_TEST

/*
 * Runs the client against the server over text as a TCP driver does:
 * every line of an output goes to the server, the replies queue up and
 * reach the client one at a time, in order.  In IDLE the next envelope
 * from `more` is started, or QUIT once they are used up.  Returns the
 * number of writes, which is the number of network round trips.
 */
static int converse(struct smtp_client *client, struct fixture *f,
                    const struct smtp_client_envelope *const *more,
                    size_t more_count)
{
    static char replies[32768];
    size_t used = smtp_server_greeting(&f->server, replies, sizeof replies);
    int writes = 0;

    while (!smtp_client_done(client)) {
        struct smtp_reply reply;
        struct smtp_client_output out;
        size_t consumed;

        ck_assert_int_lt(writes, 100);
        ck_assert_int_eq(smtp_reply_parse(replies, used, &reply, &consumed),
                         1);
        used -= consumed;
        memmove(replies, replies + consumed, used);
        smtp_client_on_reply(client, &reply, &out);
        if (client->state == SMTP_CLIENT_IDLE && more_count > 0) {
            smtp_client_next_envelope(client, *more++, &out);
            more_count--;
        } else if (client->state == SMTP_CLIENT_IDLE) {
            smtp_client_quit(client, &out);
        }
        if (out.action == SMTP_CLIENT_ACTION_NONE
            || out.action == SMTP_CLIENT_ACTION_CLOSE)
            continue;
        /* The client writes only after reading every reply it awaited. */
        ck_assert_uint_eq(used, 0);
        writes++;
        if (out.action == SMTP_CLIENT_ACTION_SEND_BODY) {
            used = smtp_server_on_body_end(&f->server, out.body_size,
                                           replies, sizeof replies);
            continue;
        }
        if (out.action == SMTP_CLIENT_ACTION_START_TLS)
            ck_assert(smtp_server_tls_pending(&f->server));
        for (const char *line = out.line; *line != '\0';) {
            const char *end = strstr(line, "\r\n") + 2;

            used += smtp_server_on_line(&f->server, line, (size_t)(end - line),
                                        replies + used, sizeof replies - used);
            line = end;
        }
    }
    return writes;
}

START_TEST(client_every_extension)
{
    static const char *const recipients[] = {
        "r0@example.org", "nobody@example.org", "r2@example.org",
        "r3@example.org", "r4@example.org"};
    struct smtp_client_envelope envelope = {
        .helo_name = "out.sender.test",
        .sender = "alice@sender.test",
        .recipients = recipients,
        .recipient_count = 5,
        .size = 2048,
        .declare_size = true,
        .eight_bit = true,
        .pipelining = true,
        .starttls = true,
    };
    struct smtp_client client;
    struct fixture f;
    const struct smtp_client_result *result = &client.result;
    int writes;

    fixture_init(&f, 220);
    f.policy.starttls = true;
    f.policy.max_recipients = 2;
    smtp_client_init(&client, &envelope);
    writes = converse(&client, &f, NULL, 0);

    /* EHLO, STARTTLS, EHLO, group 1, body, group 2, body, QUIT. */
    ck_assert_int_eq(writes, 8);
    ck_assert(smtp_server_closed(&f.server));
    ck_assert(f.server.tls_active);
    ck_assert(result->tls);
    ck_assert_uint_eq(result->transaction_count, 2);
    ck_assert_uint_eq(result->accepted_count, 4);
    ck_assert_uint_eq(f.state.last_size, 2048);
    ck_assert_int_eq(result->recipients[1].status, SMTP_CLIENT_RCPT_PERMANENT);
    ck_assert_int_eq(result->recipients[1].code, 550);
    ck_assert_int_eq(result->recipients[3].status, SMTP_CLIENT_RCPT_ACCEPTED);
    ck_assert_int_eq(result->recipients[4].status, SMTP_CLIENT_RCPT_ACCEPTED);
}
END_TEST

START_TEST(client_reuses_session)
{
    static const char *const unknown[] = {"nobody@example.org"};
    static const char *const known[] = {"bob@example.org", "carol@example.org"};
    struct smtp_client_envelope first = {
        .helo_name = "out.sender.test",
        .sender = "alice@sender.test",
        .recipients = unknown,
        .recipient_count = 1,
        .size = 100,
        .keep_open = true,
    };
    struct smtp_client_envelope second = first;
    const struct smtp_client_envelope *const more[] = {&second};
    struct smtp_client client;
    struct fixture f;

    second.recipients = known;
    second.recipient_count = 2;
    second.size = 300;
    fixture_init(&f, 220);
    smtp_client_init(&client, &first);
    /* EHLO, MAIL, RCPT, then RSET (MAIL was accepted), MAIL, RCPT, RCPT,
     * DATA, body, QUIT. */
    ck_assert_int_eq(converse(&client, &f, more, 1), 10);
    ck_assert_uint_eq(client.result.accepted_count, 2);
    ck_assert_uint_eq(f.state.last_size, 300);
    ck_assert(smtp_server_closed(&f.server));
}
END_TEST

/* Runs the client against the server, passing text both ways; the message
 * body is simulated with smtp_server_on_body_end. */
START_TEST(client_and_server_converse)
{
    static const char *const recipients[] = {
        "bob@example.org", "nobody@example.org", "carol@example.org"};
    struct smtp_client_envelope envelope = {
        .helo_name = "out.sender.test",
        .sender = "alice@sender.test",
        .recipients = recipients,
        .recipient_count = 3,
        .size = 2048,
    };
    struct smtp_client client;
    struct smtp_client_output out;
    struct fixture f;
    size_t reply_length;
    int exchanges = 0;

    fixture_init(&f, 220);
    smtp_client_init(&client, &envelope);
    reply_length = smtp_server_greeting(&f.server, f.out, sizeof f.out);
    while (!smtp_client_done(&client)) {
        struct smtp_reply reply;
        size_t consumed;

        ck_assert_int_lt(exchanges++, 20);
        ck_assert_int_eq(smtp_reply_parse(f.out, reply_length, &reply,
                                          &consumed), 1);
        ck_assert_uint_eq(consumed, reply_length);
        smtp_client_on_reply(&client, &reply, &out);
        if (out.action == SMTP_CLIENT_ACTION_SEND_LINE)
            reply_length = smtp_server_on_line(&f.server, out.line,
                                               out.line_length, f.out,
                                               sizeof f.out);
        else if (out.action == SMTP_CLIENT_ACTION_SEND_BODY)
            reply_length = smtp_server_on_body_end(&f.server, out.body_size,
                                                   f.out, sizeof f.out);
    }

    ck_assert(smtp_server_closed(&f.server));
    ck_assert_uint_eq(f.state.last_size, 2048);
    ck_assert_uint_eq(client.result.accepted_count, 2);
    ck_assert_int_eq(client.result.recipients[0].status,
                     SMTP_CLIENT_RCPT_ACCEPTED);
    ck_assert_int_eq(client.result.recipients[1].status,
                     SMTP_CLIENT_RCPT_PERMANENT);
    ck_assert_int_eq(client.result.recipients[1].enhanced_detail, 1);
    ck_assert_int_eq(client.result.recipients[2].status,
                     SMTP_CLIENT_RCPT_ACCEPTED);
}
END_TEST

Suite *smtp_server_suite(void);

Suite *smtp_server_suite(void)
{
    Suite *suite = suite_create("smtp_server");
    TCase *session_case = tcase_create("session");
    TCase *errors_case = tcase_create("errors");

    tcase_add_test(session_case, scripted_session);
    tcase_add_test(session_case, simulated_body_end);
    tcase_add_test(session_case, helo_has_no_enhanced_codes);
    tcase_add_test(session_case, rset_noop_vrfy_expn_help);
    tcase_add_test(session_case, postmaster_and_source_route);
    tcase_add_test(session_case, greeting_421_closes);
    tcase_add_test(session_case, greeting_554_waits_for_quit);
    tcase_add_test(session_case, recipient_limit);
    tcase_add_test(session_case, timeout_closes);
    tcase_add_test(session_case, client_and_server_converse);
    tcase_add_test(session_case, starttls_resets_session);
    tcase_add_test(session_case, require_starttls_530);
    tcase_add_test(session_case, recipient_limit_from_policy);
    tcase_add_test(session_case, pipelined_group_replies);
    tcase_add_test(session_case, client_every_extension);
    tcase_add_test(session_case, client_reuses_session);
    suite_add_tcase(suite, session_case);

    tcase_add_test(errors_case, bad_sequence_before_ehlo);
    tcase_add_test(errors_case, bad_sequence_in_transaction);
    tcase_add_test(errors_case, data_without_valid_recipients);
    tcase_add_test(errors_case, size_refused_at_mail);
    tcase_add_test(errors_case, size_refused_at_end_of_data);
    tcase_add_test(errors_case, message_policy_codes);
    tcase_add_test(errors_case, unknown_recipient_and_defaults);
    tcase_add_test(errors_case, syntax_errors);
    tcase_add_test(errors_case, rcpt_syntax_errors);
    tcase_add_test(errors_case, policy_421_closes);
    tcase_add_test(errors_case, line_too_long);
    tcase_add_test(errors_case, starttls_refusals);
    tcase_add_test_raise_signal(errors_case, body_end_outside_data_aborts,
                                SIGABRT);
    tcase_add_test_raise_signal(errors_case, greeting_twice_aborts, SIGABRT);
    tcase_add_test_raise_signal(errors_case, bad_greeting_code_aborts,
                                SIGABRT);
    suite_add_tcase(suite, errors_case);
    return suite;
}

TEST_MAIN(smtp_server_suite)
