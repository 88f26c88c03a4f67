#include "models/smtp_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/smtp_reply.h"

/* Command line including CRLF (RFC 5321 4.5.3.1.4). */
#define SERVER_LINE_MAX 512
/* Reverse-path or forward-path including the angle brackets
 * (RFC 5321 4.5.3.1.3). */
#define SERVER_PATH_MAX 256
/* Local-part and domain of a mailbox (RFC 5321 4.5.3.1.1, 4.5.3.1.2). */
#define SERVER_LOCAL_PART_MAX 64
#define SERVER_DOMAIN_MAX 255
/* Room for an enhanced status code "5.123.123" and its NUL. */
#define SERVER_ENHANCED_MAX 16

static const char *const server_state_names[SMTP_SERVER_STATE_COUNT] = {
    [SMTP_SERVER_START] = "START",
    [SMTP_SERVER_REFUSED] = "REFUSED",
    [SMTP_SERVER_GREETED] = "GREETED",
    [SMTP_SERVER_READY] = "READY",
    [SMTP_SERVER_MAIL] = "MAIL",
    [SMTP_SERVER_RCPT] = "RCPT",
    [SMTP_SERVER_DATA] = "DATA",
    [SMTP_SERVER_CLOSED] = "CLOSED",
};

enum server_path_result {
    SERVER_PATH_OK,
    SERVER_PATH_SYNTAX,        /* no "<...>" where a path belongs */
    SERVER_PATH_BAD_ADDRESS,   /* a path, but not a valid mailbox */
};

static char server_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Compares `n` bytes without regard to ASCII case: verbs, "FROM:", "TO:"
 * and parameter keywords are case-insensitive (RFC 5321 2.4). */
static bool server_prefix_equal(const char *s, const char *prefix, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\0' || server_lower(s[i]) != server_lower(prefix[i]))
            return false;
    }
    return true;
}

static bool server_word_equal(const char *s, const char *word)
{
    size_t n = strlen(word);

    return strlen(s) == n && server_prefix_equal(s, word, n);
}

/*
 * Writes one reply.  Enhanced codes are left out until the client has used
 * EHLO, since ENHANCEDSTATUSCODES is an SMTP service extension negotiated
 * by EHLO (RFC 2034).  A 421 reply closes the session (RFC 5321 3.8).
 */
static size_t server_reply(struct smtp_server *server, char *out, size_t cap,
                           int code, const char *enhanced, const char *text)
{
    size_t n = smtp_reply_format(out, cap, code,
                                 server->enhanced_codes ? enhanced : NULL,
                                 text);

    if (n == 0) {
        fprintf(stderr, "smtp_server: reply %d does not fit in %zu bytes\n",
                code, cap);
        abort();
    }
    if (code == 421)
        server->state = SMTP_SERVER_CLOSED;
    return n;
}

/* Reply text for a code chosen by the policy, from RFC 5321 4.2.2. */
static const char *server_code_text(int code)
{
    switch (code) {
    case 250:
        return "Ok";
    case 450:
        return "Requested mail action not taken: mailbox unavailable";
    case 451:
        return "Requested action aborted: local error in processing";
    case 452:
        return "Requested action not taken: insufficient system storage";
    case 550:
        return "Requested action not taken: mailbox unavailable";
    case 552:
        return "Requested mail action aborted: exceeded storage allocation";
    case 553:
        return "Requested action not taken: mailbox name not allowed";
    case 554:
        return "Transaction failed";
    default:
        return code / 100 == 2 ? "Ok" : "Requested action not taken";
    }
}

/* Replies with a code chosen by the policy.  421 names the host first, as
 * RFC 5321 4.2.2 writes it ("<domain> Service not available"). */
static size_t server_policy_reply(struct smtp_server *server, char *out,
                                  size_t cap, int code, const char *enhanced)
{
    char text[SERVER_LINE_MAX];

    if (code != 421)
        return server_reply(server, out, cap, code, enhanced,
                            server_code_text(code));
    snprintf(text, sizeof text, "%s Service not available, closing "
             "transmission channel", server->policy->hostname);
    return server_reply(server, out, cap, code, enhanced, text);
}

/*
 * Default enhanced code for a policy decision.  RFC 3463 defines X.1.5
 * (destination address valid), X.1.1 (bad destination mailbox), X.3.0
 * (other mail system status), X.3.1 (mail system full) and X.3.4 (message
 * too big).  Other codes get X.0.0, which RFC 3463 reserves for errors
 * whose class alone is known.
 */
static void server_default_enhanced(int code, bool at_rcpt, char *buf,
                                    size_t n)
{
    const char *known = NULL;

    if (at_rcpt && code / 100 == 2)
        known = "2.1.5";
    else if (at_rcpt && code == 550)
        known = "5.1.1";
    else if (!at_rcpt && code / 100 == 2)
        known = "2.0.0";
    else if (!at_rcpt && code == 451)
        known = "4.3.0";
    else if (!at_rcpt && code == 452)
        known = "4.3.1";
    else if (!at_rcpt && code == 552)
        known = "5.3.4";
    if (known != NULL)
        snprintf(buf, n, "%s", known);
    else
        snprintf(buf, n, "%d.0.0", code / 100);
}

/* RFC 5321 4.1.1.2, 4.1.1.5: MAIL, RSET, EHLO and HELO clear the sender,
 * the recipients and the message data. */
static void server_reset_transaction(struct smtp_server *server)
{
    server->recipient_count = 0;
    server->body_bytes = 0;
}

static bool server_is_atext(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9')
           || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5321 4.1.2: Local-part = Dot-string.  NOTE: quoted local-parts are
 * rejected; no scenario address needs one. */
static bool server_valid_local_part(const char *s, size_t n)
{
    if (n == 0 || n > SERVER_LOCAL_PART_MAX || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' ? s[i + 1] == '.' : !server_is_atext(s[i]))
            return false;
    }
    return true;
}

/* RFC 5321 4.1.2: sub-domains of letters, digits and hyphens, separated by
 * dots; or an address literal in brackets (4.1.3). */
static bool server_valid_domain(const char *s, size_t n)
{
    size_t label = 0;

    if (n == 0 || n > SERVER_DOMAIN_MAX)
        return false;
    if (s[0] == '[')
        return n > 2 && s[n - 1] == ']';
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                   || (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
            label++;
        } else {
            return false;
        }
    }
    return label > 0 && s[n - 1] != '-';
}

static bool server_valid_mailbox(const char *mailbox)
{
    const char *at = strrchr(mailbox, '@');

    if (at == NULL)
        return false;
    return server_valid_local_part(mailbox, (size_t)(at - mailbox))
           && server_valid_domain(at + 1, strlen(at + 1));
}

/*
 * Reads "<path>" at `arg` into `mailbox` (without brackets and without a
 * source route, which servers SHOULD strip per RFC 5321 4.1.1.3) and points
 * `*rest` after the '>'.  Does not check the mailbox syntax.
 */
static enum server_path_result server_parse_path(char *arg, char *mailbox,
                                                 size_t cap, char **rest)
{
    char *close;
    const char *start = arg + 1;
    size_t length;

    if (arg[0] != '<' || (close = strchr(arg, '>')) == NULL)
        return SERVER_PATH_SYNTAX;
    *rest = close + 1;
    if ((size_t)(close - arg) + 1 > SERVER_PATH_MAX)
        return SERVER_PATH_BAD_ADDRESS;
    if (*start == '@') {
        const char *colon = memchr(start, ':', (size_t)(close - start));

        if (colon == NULL)
            return SERVER_PATH_BAD_ADDRESS;
        start = colon + 1;
    }
    length = (size_t)(close - start);
    if (length >= cap)
        return SERVER_PATH_BAD_ADDRESS;
    memcpy(mailbox, start, length);
    mailbox[length] = '\0';
    return SERVER_PATH_OK;
}

/* Parses a decimal SIZE value; false on a non-digit or overflow. */
static bool server_parse_size(const char *s, uint64_t *value)
{
    *value = 0;
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || *value > (UINT64_MAX - 9) / 10)
            return false;
        *value = *value * 10 + (uint64_t)(*s - '0');
    }
    return true;
}

/*
 * Checks the parameters after "MAIL FROM:<...>": SIZE (RFC 1870) and BODY
 * (RFC 1652).  Returns 0 when they are acceptable, or writes the error
 * reply and returns its length.
 */
static size_t server_mail_parameters(struct smtp_server *server, char *params,
                                     char *out, size_t cap)
{
    char *save = NULL;
    uint64_t max_size = server->policy->max_size;

    for (char *word = strtok_r(params, " ", &save); word != NULL;
         word = strtok_r(NULL, " ", &save)) {
        uint64_t size;

        if (server_prefix_equal(word, "SIZE=", 5)) {
            if (!server_parse_size(word + 5, &size))
                return server_reply(server, out, cap, 501, "5.5.4",
                                    "Bad SIZE parameter syntax");
            /* RFC 1870 section 6: a declared size above the fixed maximum
             * gets 552; RFC 3463 X.3.4 is "message too big for system". */
            if (max_size > 0 && size > max_size)
                return server_reply(server, out, cap, 552, "5.3.4",
                                    "Message size exceeds fixed maximum "
                                    "message size");
        } else if (server_prefix_equal(word, "BODY=", 5)) {
            if (!server_word_equal(word + 5, "7BIT")
                && !server_word_equal(word + 5, "8BITMIME"))
                return server_reply(server, out, cap, 501, "5.5.4",
                                    "Bad BODY parameter");
        } else {
            /* RFC 5321 4.1.1.11: unrecognized parameters get 555. */
            return server_reply(server, out, cap, 555, "5.5.4",
                                "MAIL FROM/RCPT TO parameters not "
                                "recognized or not implemented");
        }
    }
    return 0;
}

static size_t server_bad_sequence(struct smtp_server *server, char *out,
                                  size_t cap, const char *detail)
{
    char text[SERVER_LINE_MAX];

    /* RFC 5321 4.1.4: commands out of order get 503, state unchanged;
     * RFC 3463 X.5.1 is "invalid command". */
    snprintf(text, sizeof text, "Bad sequence of commands: %s", detail);
    return server_reply(server, out, cap, 503, "5.5.1", text);
}

static size_t server_syntax_error(struct smtp_server *server, char *out,
                                  size_t cap)
{
    /* RFC 5321 4.1.4: 501 for a bad argument; X.5.4 is "invalid command
     * arguments" (RFC 3463). */
    return server_reply(server, out, cap, 501, "5.5.4",
                        "Syntax error in parameters or arguments");
}

static size_t server_ehlo(struct smtp_server *server, char *args, char *out,
                          size_t cap)
{
    char size_line[32];
    const char *lines[6];
    size_t line_count = 0;

    if (args[0] == '\0')
        return server_syntax_error(server, out, cap);
    /* RFC 5321 4.1.4: an accepted EHLO resets the state like RSET. */
    server_reset_transaction(server);
    server->state = SMTP_SERVER_READY;
    server->enhanced_codes = true;

    /* RFC 1870: "SIZE 0" would mean no fixed limit, so 0 is sent as is. */
    snprintf(size_line, sizeof size_line, "SIZE %llu",
             (unsigned long long)server->policy->max_size);
    lines[line_count++] = server->policy->hostname;
    lines[line_count++] = size_line;
    lines[line_count++] = "8BITMIME";
    lines[line_count++] = "ENHANCEDSTATUSCODES";
    lines[line_count++] = "PIPELINING";
    /* RFC 3207 4.2: STARTTLS is not offered again once TLS is active. */
    if (server->policy->starttls && !server->tls_active)
        lines[line_count++] = "STARTTLS";
    /* RFC 5321 4.1.1.1: multi-line 250, the domain first, then one
     * extension keyword per line; no enhanced codes here (RFC 2034). */
    size_t n = smtp_reply_format_lines(out, cap, 250, NULL, lines, line_count);
    if (n == 0) {
        fprintf(stderr, "smtp_server: EHLO reply does not fit in %zu bytes\n",
                cap);
        abort();
    }
    return n;
}

static size_t server_helo(struct smtp_server *server, char *args, char *out,
                          size_t cap)
{
    if (args[0] == '\0')
        return server_syntax_error(server, out, cap);
    server_reset_transaction(server);
    server->state = SMTP_SERVER_READY;
    /* RFC 5321 3.2: no extensions after HELO, so no enhanced codes. */
    server->enhanced_codes = false;
    return server_reply(server, out, cap, 250, NULL, server->policy->hostname);
}

static size_t server_mail(struct smtp_server *server, char *args, char *out,
                          size_t cap)
{
    char mailbox[SERVER_PATH_MAX];
    char *rest;
    enum server_path_result parsed;
    size_t error;

    if (server->state == SMTP_SERVER_GREETED)
        return server_bad_sequence(server, out, cap, "send HELO/EHLO first");
    if (server->state != SMTP_SERVER_READY)
        return server_bad_sequence(server, out, cap, "nested MAIL command");
    /* RFC 5321 3.3: "MAIL FROM:" with no space around the colon. */
    if (!server_prefix_equal(args, "FROM:", 5))
        return server_syntax_error(server, out, cap);
    parsed = server_parse_path(args + 5, mailbox, sizeof mailbox, &rest);
    if (parsed == SERVER_PATH_SYNTAX || (*rest != '\0' && *rest != ' '))
        return server_syntax_error(server, out, cap);
    /* RFC 5321 4.1.2: the reverse-path may be null ("<>").  X.1.7 is
     * "bad sender's mailbox address syntax" (RFC 3463). */
    if (parsed == SERVER_PATH_BAD_ADDRESS
        || (mailbox[0] != '\0' && !server_valid_mailbox(mailbox)))
        return server_reply(server, out, cap, 501, "5.1.7",
                            "Bad sender address syntax");
    error = server_mail_parameters(server, rest, out, cap);
    if (error > 0)
        return error;

    server_reset_transaction(server);
    server->state = SMTP_SERVER_MAIL;
    /* X.1.0 "other address status": the sender is fine (RFC 3463). */
    return server_reply(server, out, cap, 250, "2.1.0", "Ok");
}

/* Asks the policy about one recipient and replies with its decision. */
static size_t server_check_recipient(struct smtp_server *server,
                                     const char *mailbox, char *out,
                                     size_t cap)
{
    const struct smtp_server_policy *policy = server->policy;
    char enhanced[SERVER_ENHANCED_MAX] = "";
    int code = 250;

    if (policy->check_recipient != NULL)
        code = policy->check_recipient(policy->ctx, mailbox, enhanced,
                                       sizeof enhanced);
    if (enhanced[0] == '\0')
        server_default_enhanced(code, true, enhanced, sizeof enhanced);
    if (code / 100 == 2) {
        server->recipient_count++;
        server->state = SMTP_SERVER_RCPT;
    }
    return server_policy_reply(server, out, cap, code, enhanced);
}

static size_t server_max_recipients(const struct smtp_server *server)
{
    size_t limit = server->policy->max_recipients;

    return limit > 0 ? limit : SMTP_SERVER_MAX_RECIPIENTS;
}

static size_t server_rcpt(struct smtp_server *server, char *args, char *out,
                          size_t cap)
{
    char mailbox[SERVER_PATH_MAX];
    char *rest;
    enum server_path_result parsed;

    /* RFC 5321 3.3: RCPT without a previous MAIL gets 503. */
    if (server->state != SMTP_SERVER_MAIL && server->state != SMTP_SERVER_RCPT)
        return server_bad_sequence(server, out, cap, "need MAIL command");
    if (!server_prefix_equal(args, "TO:", 3))
        return server_syntax_error(server, out, cap);
    parsed = server_parse_path(args + 3, mailbox, sizeof mailbox, &rest);
    if (parsed == SERVER_PATH_SYNTAX)
        return server_syntax_error(server, out, cap);
    /* RFC 5321 4.1.1.3: "<Postmaster>" needs no domain.  X.1.3 is "bad
     * destination mailbox address syntax" (RFC 3463). */
    if (parsed == SERVER_PATH_BAD_ADDRESS
        || (!server_word_equal(mailbox, "postmaster")
            && !server_valid_mailbox(mailbox)))
        return server_reply(server, out, cap, 501, "5.1.3",
                            "Bad recipient address syntax");
    /* No RCPT parameters are offered in the EHLO reply (RFC 5321
     * 4.1.1.3, 4.1.1.11). */
    if (*rest != '\0')
        return server_reply(server, out, cap, 555, "5.5.4",
                            "MAIL FROM/RCPT TO parameters not recognized "
                            "or not implemented");
    /* RFC 5321 4.5.3.1.10: over the recipient limit, 452 "too many
     * recipients"; RFC 3463 X.5.3. */
    if (server->recipient_count >= server_max_recipients(server))
        return server_reply(server, out, cap, 452, "4.5.3",
                            "Too many recipients");
    return server_check_recipient(server, mailbox, out, cap);
}

static size_t server_data(struct smtp_server *server, char *args, char *out,
                          size_t cap)
{
    /* RFC 5321 4.3.2: arguments to DATA, RSET or QUIT get 501. */
    if (args[0] != '\0')
        return server_syntax_error(server, out, cap);
    if (server->state == SMTP_SERVER_MAIL)
        /* RFC 5321 3.3: DATA with every RCPT rejected may get 554
         * "no valid recipients"; RFC 2920 3.1 relies on it so that a
         * pipelining client sends no message. */
        return server_reply(server, out, cap, 554, "5.5.1",
                            "No valid recipients");
    if (server->state != SMTP_SERVER_RCPT)
        return server_bad_sequence(server, out, cap, "need MAIL command");
    server->state = SMTP_SERVER_DATA;
    server->body_bytes = 0;
    /* RFC 5321 3.3: 354, then the message up to <CRLF>.<CRLF>.  A 3yz
     * reply carries no enhanced code. */
    return server_reply(server, out, cap, 354, NULL,
                        "End data with <CR><LF>.<CR><LF>");
}

static size_t server_rset(struct smtp_server *server, char *args, char *out,
                          size_t cap)
{
    if (args[0] != '\0')
        return server_syntax_error(server, out, cap);
    /* RFC 5321 4.1.1.5: RSET aborts the transaction and always gets 250;
     * before EHLO or HELO it changes nothing. */
    server_reset_transaction(server);
    if (server->state != SMTP_SERVER_GREETED)
        server->state = SMTP_SERVER_READY;
    return server_reply(server, out, cap, 250, "2.0.0", "Ok");
}

static size_t server_noop(struct smtp_server *server, char *args, char *out,
                          size_t cap)
{
    /* RFC 5321 4.1.1.9: any argument is ignored. */
    return server_reply(server, out, cap, 250, "2.0.0", "Ok");
}

static size_t server_quit(struct smtp_server *server, char *args, char *out,
                          size_t cap)
{
    char text[SERVER_LINE_MAX];
    size_t n;

    if (args[0] != '\0')
        return server_syntax_error(server, out, cap);
    /* RFC 5321 4.1.1.10: reply 221, then close. */
    snprintf(text, sizeof text, "%s Service closing transmission channel",
             server->policy->hostname);
    n = server_reply(server, out, cap, 221, "2.0.0", text);
    server->state = SMTP_SERVER_CLOSED;
    return n;
}

static size_t server_starttls(struct smtp_server *server, char *args,
                              char *out, size_t cap)
{
    const struct smtp_server_policy *policy = server->policy;
    size_t n;

    /* RFC 5321 4.2.4: a command the server does not offer gets 502. */
    if (!policy->starttls)
        return server_reply(server, out, cap, 502, "5.5.1",
                            "Command not implemented");
    /* RFC 3207 section 4: STARTTLS takes no parameters. */
    if (args[0] != '\0')
        return server_reply(server, out, cap, 501, "5.5.4",
                            "Syntax error (no parameters allowed)");
    /* RFC 3207 4.2: a client MUST NOT start TLS twice. */
    if (server->tls_active)
        return server_bad_sequence(server, out, cap, "TLS already active");
    /* The extension is announced by EHLO, and a transaction in progress
     * would be lost by the reset below. */
    if (server->state == SMTP_SERVER_GREETED)
        return server_bad_sequence(server, out, cap, "send EHLO first");
    if (server->state != SMTP_SERVER_READY)
        return server_bad_sequence(server, out, cap,
                                   "mail transaction in progress");
    /* RFC 3207 section 4: 454 when TLS is temporarily unavailable; X.7.0
     * is "other or undefined security status" (RFC 3463). */
    if (policy->starttls_unavailable)
        return server_reply(server, out, cap, 454, "4.7.0",
                            "TLS not available due to temporary reason");
    n = server_reply(server, out, cap, 220, "2.0.0", "Ready to start TLS");
    /* RFC 3207 4.2: after the handshake the protocol is back in its state
     * after the greeting, and the server discards the EHLO argument. */
    server_reset_transaction(server);
    server->state = SMTP_SERVER_GREETED;
    server->enhanced_codes = false;
    server->tls_active = true;
    server->tls_pending = true;
    return n;
}

static size_t server_vrfy(struct smtp_server *server, char *args, char *out,
                          size_t cap)
{
    if (args[0] == '\0')
        return server_syntax_error(server, out, cap);
    /* RFC 5321 3.5.3: 252 when the address cannot be verified now. */
    return server_reply(server, out, cap, 252, "2.0.0",
                        "Cannot VRFY user, but will accept message and "
                        "attempt delivery");
}

static size_t server_expn(struct smtp_server *server, char *args, char *out,
                          size_t cap)
{
    /* RFC 5321 4.2.4: a recognized command that is not implemented gets
     * 502, and EXPN is not listed in the EHLO reply. */
    return server_reply(server, out, cap, 502, "5.5.1",
                        "Command not implemented");
}

static size_t server_help(struct smtp_server *server, char *args, char *out,
                          size_t cap)
{
    return server_reply(server, out, cap, 214, "2.0.0",
                        "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT "
                        "VRFY");
}

struct server_command {
    const char *verb;
    size_t (*handle)(struct smtp_server *server, char *args, char *out,
                     size_t cap);
};

static const struct server_command server_commands[] = {
    {"EHLO", server_ehlo},
    {"HELO", server_helo},
    {"STARTTLS", server_starttls},
    {"MAIL", server_mail},
    {"RCPT", server_rcpt},
    {"DATA", server_data},
    {"RSET", server_rset},
    {"NOOP", server_noop},
    {"QUIT", server_quit},
    {"VRFY", server_vrfy},
    {"EXPN", server_expn},
    {"HELP", server_help},
};

/* RFC 5321 2.4: commands are ASCII; other bytes and control characters get
 * "500 syntax error - invalid character". */
static bool server_valid_command_chars(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];

        if ((c < 32 && c != '\t') || c >= 127)
            return false;
    }
    return true;
}

/* Splits a command line into a NUL-terminated verb and arguments in
 * `buffer`, dropping trailing white space, which servers SHOULD tolerate
 * (RFC 5321 4.1.1).  Returns the arguments, "" when there are none. */
static char *server_split_command(const char *line, size_t len, char *buffer)
{
    char *space;

    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    memcpy(buffer, line, len);
    buffer[len] = '\0';
    space = strchr(buffer, ' ');
    if (space == NULL)
        return buffer + len;
    *space = '\0';
    return space + 1;
}

/* True when the policy accepts mail over TLS only, TLS is not active yet,
 * and `verb` is not one of the commands RFC 3207 section 4 allows before
 * it. */
static bool server_needs_tls_first(const struct smtp_server *server,
                                   const char *verb)
{
    static const char *const allowed[] = {"NOOP", "EHLO", "STARTTLS", "QUIT"};

    if (!server->policy->require_starttls || server->tls_active)
        return false;
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) {
        if (server_word_equal(verb, allowed[i]))
            return false;
    }
    return true;
}

static size_t server_command(struct smtp_server *server, const char *line,
                             size_t len, char *out, size_t cap)
{
    char buffer[SERVER_LINE_MAX];
    char *args;

    /* RFC 5321 4.5.3.1.4 and 4.5.3.1.9: at most 512 bytes with CRLF;
     * longer lines get "500 Line too long". */
    if (len + 2 > SERVER_LINE_MAX)
        return server_reply(server, out, cap, 500, "5.5.2", "Line too long");
    if (!server_valid_command_chars(line, len))
        return server_reply(server, out, cap, 500, "5.5.2",
                            "Syntax error, invalid character");
    args = server_split_command(line, len, buffer);

    for (size_t i = 0; i < sizeof server_commands / sizeof *server_commands;
         i++) {
        if (!server_word_equal(buffer, server_commands[i].verb))
            continue;
        if (server_needs_tls_first(server, buffer))
            /* RFC 3207 section 4; X.7.0 as RFC 3207 gives it. */
            return server_reply(server, out, cap, 530, "5.7.0",
                                "Must issue a STARTTLS command first");
        return server_commands[i].handle(server, args, out, cap);
    }
    /* RFC 5321 4.2.4: an unrecognized command gets 500; X.5.2 is
     * "syntax error" (RFC 3463). */
    return server_reply(server, out, cap, 500, "5.5.2",
                        "Syntax error, command unrecognized");
}

/* RFC 5321 3.1: after a 554 greeting the server waits for QUIT and replies
 * 503 to every other command. */
static size_t server_refused_command(struct smtp_server *server,
                                     const char *line, size_t len, char *out,
                                     size_t cap)
{
    char buffer[SERVER_LINE_MAX];
    char *args;

    if (len + 2 <= SERVER_LINE_MAX && server_valid_command_chars(line, len)) {
        args = server_split_command(line, len, buffer);
        if (server_word_equal(buffer, "QUIT"))
            return server_quit(server, args, out, cap);
    }
    return server_bad_sequence(server, out, cap, "no SMTP service here");
}

/* Handles the end of the message data: size limit first, then the policy.
 * RFC 5321 4.1.1.4: the transaction is over whatever the reply. */
static size_t server_end_of_data(struct smtp_server *server, uint64_t bytes,
                                 char *out, size_t cap)
{
    const struct smtp_server_policy *policy = server->policy;
    char enhanced[SERVER_ENHANCED_MAX];
    int code = 250;

    server_reset_transaction(server);
    server->state = SMTP_SERVER_READY;
    if (policy->max_size > 0 && bytes > policy->max_size)
        return server_reply(server, out, cap, 552, "5.3.4",
                            "Message size exceeds fixed maximum message "
                            "size");
    if (policy->check_message != NULL)
        code = policy->check_message(policy->ctx, bytes);
    server_default_enhanced(code, false, enhanced, sizeof enhanced);
    return server_policy_reply(server, out, cap, code, enhanced);
}

/* Handles one line of message data, or the final ".".  RFC 5321 4.5.2: a
 * line of a single dot ends the data, and other lines lose a leading dot. */
static size_t server_data_line(struct smtp_server *server, const char *line,
                               size_t len, char *out, size_t cap)
{
    if (len == 1 && line[0] == '.')
        return server_end_of_data(server, server->body_bytes, out, cap);
    if (len > 0 && line[0] == '.')
        len--;
    server->body_bytes += len + 2;
    return 0;
}

void smtp_server_init(struct smtp_server *server,
                      const struct smtp_server_policy *policy)
{
    memset(server, 0, sizeof *server);
    server->state = SMTP_SERVER_START;
    server->policy = policy;
}

size_t smtp_server_greeting(struct smtp_server *server, char *out, size_t cap)
{
    const char *hostname = server->policy->hostname;
    char text[SERVER_LINE_MAX];
    int code = server->policy->greeting_code;

    if (server->state != SMTP_SERVER_START) {
        fprintf(stderr, "smtp_server_greeting: greeting already sent\n");
        abort();
    }
    /* RFC 5321 4.3.1: greeting replies name the server host first. */
    switch (code) {
    case 220:
        server->state = SMTP_SERVER_GREETED;
        snprintf(text, sizeof text, "%s ESMTP ready", hostname);
        break;
    case 421:
        snprintf(text, sizeof text, "%s Service not available, closing "
                 "transmission channel", hostname);
        break;
    case 554:
        /* RFC 5321 3.1: reject the session but keep replying until QUIT. */
        server->state = SMTP_SERVER_REFUSED;
        snprintf(text, sizeof text, "%s No SMTP service here", hostname);
        break;
    default:
        fprintf(stderr, "smtp_server_greeting: invalid greeting code %d, expected "
                "220, 421 or 554\n", code);
        abort();
    }
    return server_reply(server, out, cap, code, NULL, text);
}

size_t smtp_server_on_line(struct smtp_server *server, const char *line,
                           size_t len, char *out, size_t cap)
{
    if (len >= 2 && line[len - 2] == '\r' && line[len - 1] == '\n')
        len -= 2;
    server->tls_pending = false;

    switch (server->state) {
    case SMTP_SERVER_GREETED:
    case SMTP_SERVER_READY:
    case SMTP_SERVER_MAIL:
    case SMTP_SERVER_RCPT:
        return server_command(server, line, len, out, cap);
    case SMTP_SERVER_DATA:
        return server_data_line(server, line, len, out, cap);
    case SMTP_SERVER_REFUSED:
        return server_refused_command(server, line, len, out, cap);
    case SMTP_SERVER_CLOSED:
        return 0;
    default:
        fprintf(stderr, "smtp_server_on_line: called in state %s\n",
                smtp_server_state_name(server->state));
        abort();
    }
}

size_t smtp_server_on_body_end(struct smtp_server *server, uint64_t bytes,
                               char *out, size_t cap)
{
    if (server->state != SMTP_SERVER_DATA) {
        fprintf(stderr, "smtp_server_on_body_end: in state %s, not DATA\n",
                smtp_server_state_name(server->state));
        abort();
    }
    return server_end_of_data(server, bytes, out, cap);
}

size_t smtp_server_on_timeout(struct smtp_server *server, char *out,
                              size_t cap)
{
    char text[SERVER_LINE_MAX];

    if (server->state == SMTP_SERVER_CLOSED)
        return 0;
    /* RFC 5321 3.8: the server may close after a timeout, and the 421 reply
     * gives the reason.  X.4.2 is "bad connection" (RFC 3463). */
    snprintf(text, sizeof text, "%s Error: timeout exceeded",
             server->policy->hostname);
    return server_reply(server, out, cap, 421, "4.4.2", text);
}

bool smtp_server_tls_pending(const struct smtp_server *server)
{
    return server->tls_pending;
}

bool smtp_server_closed(const struct smtp_server *server)
{
    return server->state == SMTP_SERVER_CLOSED;
}

const char *smtp_server_state_name(enum smtp_server_state state)
{
    if ((unsigned)state >= SMTP_SERVER_STATE_COUNT)
        return "UNKNOWN";
    return server_state_names[state];
}
