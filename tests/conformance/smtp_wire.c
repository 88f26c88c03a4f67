/*
 * Conformance of the SMTP state machines against real peers, over TCP on
 * 127.0.0.1 only.
 *
 *   smtp_wire client PLAIN_PORT TLS_PORT LOG_FILE
 *       Drives models/smtp_client.c against a real SMTP server (aiosmtpd,
 *       started by tests/scripts/conformance.sh from aiosmtpd_peer.py):
 *       PLAIN_PORT offers no STARTTLS, TLS_PORT does.  LOG_FILE is the
 *       peers' record of the messages they accepted.  Each scenario checks
 *       the client's results, what went over the wire and what the peer
 *       recorded.
 *
 *   smtp_wire server PORT_FILE TRANSCRIPT POLICY...
 *       Serves one session per POLICY with models/smtp_server.c behind a
 *       TCP listener, for a real client (swaks).  Writes the listening port
 *       to PORT_FILE and every line both ways to TRANSCRIPT.  A POLICY is
 *       "plain" or a comma-separated list of: greet554, starttls454,
 *       limit2, size1000.
 *
 * Every failed check prints a FAIL line with what was expected and found.
 * The client mode ends with "smtp_wire: N checks, N failed"; both modes
 * exit non-zero on failure.  Every socket read and write times out after
 * WIRE_IO_TIMEOUT_SEC, so a silent peer cannot hang the test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "models/smtp_client.h"
#include "models/smtp_reply.h"
#include "models/smtp_server.h"

#define WIRE_IO_TIMEOUT_SEC 10
#define WIRE_BUFFER_SIZE 65536
#define WIRE_MAX_RESULTS 4
#define WIRE_LOG_LINE_MAX 1024

enum wire_read_status {
    WIRE_READ_OK,
    WIRE_READ_CLOSED,          /* end of stream or a socket error */
    WIRE_READ_TIMEOUT,
    WIRE_READ_MALFORMED,
};

struct wire_connection {
    int fd;
    SSL_CTX *tls_context;
    SSL *tls;
    char input[WIRE_BUFFER_SIZE];
    size_t input_used;
};

/* What one client run did, for the checks. */
struct wire_run {
    struct smtp_client_result results[WIRE_MAX_RESULTS];
    size_t result_count;
    size_t writes;             /* writes of commands: network round trips */
    size_t max_commands;       /* maximum commands in one write */
    uint64_t body_bytes;       /* message bytes sent after 354 */
    bool tls_started;
    char commands[8192];       /* every command sent, in order */
};

static int check_count;
static int failure_count;

__attribute__((format(printf, 2, 3)))
static void wire_check(bool ok, const char *format, ...)
{
    va_list args;

    check_count++;
    if (ok)
        return;
    failure_count++;
    printf("FAIL: ");
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
    printf("\n");
}

static void wire_set_timeout(int fd, int seconds)
{
    struct timeval limit = {.tv_sec = seconds, .tv_usec = 0};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
}

static struct sockaddr_in wire_loopback(int port)
{
    struct sockaddr_in address;

    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

/* Connects to 127.0.0.1:`port`; returns the socket or -1. */
static int wire_connect(int port)
{
    struct sockaddr_in address = wire_loopback(port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    wire_set_timeout(fd, WIRE_IO_TIMEOUT_SEC);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        printf("smtp_wire: connect to 127.0.0.1:%d failed: %s\n", port,
               strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Listens on 127.0.0.1 at a port the kernel picks; returns the socket and
 * sets `*port`, or returns -1. */
static int wire_listen(int *port)
{
    struct sockaddr_in address = wire_loopback(0);
    socklen_t length = sizeof address;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) != 0
        || listen(fd, 8) != 0
        || getsockname(fd, (struct sockaddr *)&address, &length) != 0) {
        printf("smtp_wire: listen on 127.0.0.1 failed: %s\n", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(address.sin_port);
    return fd;
}

static bool wire_write(struct wire_connection *connection, const char *data,
                       size_t length)
{
    while (length > 0) {
        ssize_t n = connection->tls != NULL
                        ? SSL_write(connection->tls, data, (int)length)
                        : send(connection->fd, data, length, MSG_NOSIGNAL);

        if (n <= 0)
            return false;
        data += n;
        length -= (size_t)n;
    }
    return true;
}

/* Reads what has arrived, waiting at most `seconds`. */
static enum wire_read_status wire_read_more(struct wire_connection *connection,
                                            int seconds)
{
    size_t room = sizeof connection->input - connection->input_used;
    char *at = connection->input + connection->input_used;
    ssize_t n;

    if (room == 0)
        return WIRE_READ_MALFORMED;
    wire_set_timeout(connection->fd, seconds);
    errno = 0;
    n = connection->tls != NULL ? SSL_read(connection->tls, at, (int)room)
                                : recv(connection->fd, at, room, 0);
    if (n > 0) {
        connection->input_used += (size_t)n;
        return WIRE_READ_OK;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return WIRE_READ_TIMEOUT;
    return WIRE_READ_CLOSED;
}

/* Seconds to wait for a reply: the client's timeout for its state, cut to
 * WIRE_IO_TIMEOUT_SEC so that the test stays short. */
static int wire_wait_seconds(sim_time timeout)
{
    sim_time seconds = timeout / SIM_SEC;

    if (seconds < 1)
        return 1;
    return seconds < WIRE_IO_TIMEOUT_SEC ? (int)seconds : WIRE_IO_TIMEOUT_SEC;
}

static enum wire_read_status wire_read_reply(
    struct wire_connection *connection, struct smtp_reply *reply,
    sim_time timeout)
{
    for (;;) {
        size_t consumed;
        int parsed = smtp_reply_parse(connection->input,
                                      connection->input_used, reply,
                                      &consumed);
        enum wire_read_status status;

        if (parsed < 0)
            return WIRE_READ_MALFORMED;
        if (parsed == 1) {
            connection->input_used -= consumed;
            memmove(connection->input, connection->input + consumed,
                    connection->input_used);
            return WIRE_READ_OK;
        }
        status = wire_read_more(connection, wire_wait_seconds(timeout));
        if (status != WIRE_READ_OK)
            return status;
    }
}

/* Runs the client side of the TLS handshake (RFC 3207 4.2).  The peer's
 * certificate is self-signed for the test and is not verified: the test
 * is of the SMTP exchange around TLS. */
static bool wire_start_tls(struct wire_connection *connection)
{
    /* RFC 3207 section 4: nothing may follow the 220 in clear. */
    if (connection->input_used != 0)
        return false;
    connection->tls_context = SSL_CTX_new(TLS_client_method());
    if (connection->tls_context == NULL)
        return false;
    SSL_CTX_set_verify(connection->tls_context, SSL_VERIFY_NONE, NULL);
    connection->tls = SSL_new(connection->tls_context);
    if (connection->tls == NULL)
        return false;
    SSL_set_fd(connection->tls, connection->fd);
    SSL_set_tlsext_host_name(connection->tls, "peer.test");
    wire_set_timeout(connection->fd, WIRE_IO_TIMEOUT_SEC);
    return SSL_connect(connection->tls) == 1;
}

static void wire_close(struct wire_connection *connection)
{
    if (connection->tls != NULL) {
        SSL_shutdown(connection->tls);
        SSL_free(connection->tls);
        connection->tls = NULL;
    }
    if (connection->tls_context != NULL) {
        SSL_CTX_free(connection->tls_context);
        connection->tls_context = NULL;
    }
    if (connection->fd >= 0)
        close(connection->fd);
    connection->fd = -1;
}

/*
 * Sends a message of exactly `size` bytes: a header, then lines of 70
 * characters.  No line starts with a dot, so none needs dot-stuffing, and
 * the last line has no CRLF because the end of data adds it.  An 8-bit
 * message carries "é" in UTF-8 on every line.
 */
static bool wire_send_message(struct wire_connection *connection,
                              uint64_t size, bool eight_bit)
{
    static const char header[] = "Subject: conformance\r\n\r\n";
    char block[4096];
    uint64_t sent = 0;

    while (sent < size) {
        size_t n = 0;

        for (; n < sizeof block && sent + n < size; n++) {
            uint64_t at = sent + n;
            uint64_t column = (at - (sizeof header - 1)) % 72;

            if (at < sizeof header - 1)
                block[n] = header[at];
            else if (column == 70)
                /* A CR only where its LF fits too. */
                block[n] = at + 1 < size ? '\r' : 'x';
            else if (column == 71)
                block[n] = '\n';
            else if (eight_bit && column < 2)
                block[n] = column == 0 ? '\xc3' : '\xa9';
            else
                block[n] = 'x';
        }
        if (!wire_write(connection, block, n))
            return false;
        sent += n;
    }
    return true;
}

/* Appends the output's commands to the run's record, as far as it has
 * room. */
static void wire_record_commands(struct wire_run *run,
                                 const struct smtp_client_output *out)
{
    size_t used = strlen(run->commands);
    size_t room = sizeof run->commands - used - 1;
    size_t n = out->line_length < room ? out->line_length : room;

    memcpy(run->commands + used, out->line, n);
    run->commands[used + n] = '\0';
}

/* Carries out one client output.  Returns false when the connection
 * failed. */
static bool wire_perform(struct wire_connection *connection,
                         const struct smtp_client *client,
                         const struct smtp_client_output *out,
                         struct wire_run *run)
{
    bool ok = true;

    if (out->result != NULL && run->result_count < WIRE_MAX_RESULTS)
        run->results[run->result_count++] = *out->result;
    switch (out->action) {
    case SMTP_CLIENT_ACTION_START_TLS:
        /* The handshake, then the EHLO in `line` like any command. */
        ok = wire_start_tls(connection);
        run->tls_started = ok;
        /* fall through */
    case SMTP_CLIENT_ACTION_SEND_LINE:
        ok = ok && wire_write(connection, out->line, out->line_length);
        run->writes++;
        if (out->command_count > run->max_commands)
            run->max_commands = out->command_count;
        wire_record_commands(run, out);
        break;
    case SMTP_CLIENT_ACTION_SEND_BODY:
        ok = wire_send_message(connection, out->body_size,
                               client->envelope->eight_bit)
             && wire_write(connection, out->line, out->line_length);
        run->body_bytes += out->body_size;
        break;
    case SMTP_CLIENT_ACTION_CLOSE:
        wire_close(connection);
        break;
    default:
        break;
    }
    return ok;
}

/* Delivers `envelopes` in order over one connection to 127.0.0.1:`port`,
 * reusing the session when they ask for keep_open. */
static void wire_run_client(int port,
                            const struct smtp_client_envelope *const *envelopes,
                            size_t count, struct wire_run *run)
{
    static struct wire_connection connection;
    struct smtp_client client;
    size_t next = 1;

    memset(run, 0, sizeof *run);
    memset(&connection, 0, sizeof connection);
    connection.fd = wire_connect(port);
    smtp_client_init(&client, envelopes[0]);
    for (int step = 0; step < 1000 && !smtp_client_done(&client); step++) {
        struct smtp_client_output out;
        struct smtp_reply reply;
        enum wire_read_status status = WIRE_READ_CLOSED;

        if (connection.fd >= 0)
            status = wire_read_reply(&connection, &reply,
                                     smtp_client_current_timeout(&client));
        if (status == WIRE_READ_OK)
            smtp_client_on_reply(&client, &reply, &out);
        else if (status == WIRE_READ_TIMEOUT)
            smtp_client_on_timeout(&client, &out);
        else
            smtp_client_on_connection_lost(&client, &out);
        if (!wire_perform(&connection, &client, &out, run)) {
            smtp_client_on_connection_lost(&client, &out);
            wire_perform(&connection, &client, &out, run);
        }
        while (client.state == SMTP_CLIENT_IDLE) {
            if (next < count)
                smtp_client_next_envelope(&client, envelopes[next++], &out);
            else
                smtp_client_quit(&client, &out);
            wire_perform(&connection, &client, &out, run);
        }
    }
    wire_check(smtp_client_done(&client), "client did not finish");
    wire_close(&connection);
}

/* Reads the peers' message log and returns how many lines it has.  With
 * `index` >= 0 it copies that line (0-based) into `line`. */
static int wire_log_line(const char *path, int index, char *line, size_t n)
{
    char buffer[WIRE_LOG_LINE_MAX];
    FILE *log = fopen(path, "r");
    int count = 0;

    if (line != NULL && n > 0)
        line[0] = '\0';
    if (log == NULL)
        return 0;
    while (fgets(buffer, sizeof buffer, log) != NULL) {
        if (count == index && line != NULL)
            snprintf(line, n, "%s", buffer);
        count++;
    }
    fclose(log);
    return count;
}

/* Checks that the peer logged `expected` messages after its first
 * `before` lines. */
static void wire_check_log(const char *scenario, const char *log_path,
                           int before, int expected)
{
    int now = wire_log_line(log_path, -1, NULL, 0);

    wire_check(now - before == expected,
               "%s: peer logged %d messages, expected %d", scenario,
               now - before, expected);
}

/* Checks that line `index` of the peer's log contains `part`. */
static void wire_check_log_has(const char *scenario, const char *log_path,
                               int index, const char *part)
{
    char line[WIRE_LOG_LINE_MAX];

    wire_log_line(log_path, index, line, sizeof line);
    wire_check(strstr(line, part) != NULL,
               "%s: peer log line %d \"%.200s\" lacks \"%s\"", scenario,
               index, line, part);
}

static void wire_check_recipient(const char *scenario,
                                 const struct smtp_client_result *result,
                                 size_t index,
                                 enum smtp_client_recipient_status status,
                                 int code)
{
    const struct smtp_client_recipient *recipient =
        &result->recipients[index];

    wire_check(recipient->status == status,
               "%s: recipient %zu is %s, expected %s", scenario, index,
               smtp_client_recipient_status_name(recipient->status),
               smtp_client_recipient_status_name(status));
    wire_check(recipient->code == code, "%s: recipient %zu code %d, expected %d",
               scenario, index, recipient->code, code);
}

static const char *const mixed_recipients[] = {
    "bob@peer.test", "unknown1@peer.test", "carol@peer.test"};

static struct smtp_client_envelope wire_envelope(const char *sender,
                                                 const char *const *recipients,
                                                 size_t count, uint64_t size)
{
    return (struct smtp_client_envelope){
        .helo_name = "client.test",
        .sender = sender,
        .recipients = recipients,
        .recipient_count = count,
        .size = size,
    };
}

/* One command at a time; a 550 for one recipient leaves the others. */
static void scenario_plain(int port, const char *log_path)
{
    struct smtp_client_envelope envelope =
        wire_envelope("alice@sender.test", mixed_recipients, 3, 1500);
    const struct smtp_client_envelope *list[] = {&envelope};
    const struct smtp_client_result *result;
    struct wire_run run;
    int before = wire_log_line(log_path, -1, NULL, 0);

    wire_run_client(port, list, 1, &run);
    result = &run.results[0];
    wire_check(run.result_count == 1, "plain: %zu results", run.result_count);
    wire_check(result->accepted_count == 2, "plain: %zu accepted",
               result->accepted_count);
    wire_check_recipient("plain", result, 0, SMTP_CLIENT_RCPT_ACCEPTED, 250);
    wire_check_recipient("plain", result, 1, SMTP_CLIENT_RCPT_PERMANENT, 550);
    wire_check(result->recipients[1].enhanced_subject == 1
                   && result->recipients[1].enhanced_detail == 1,
               "plain: unknown recipient lacks 5.1.1");
    wire_check(result->recipients[1].scope == FAILURE_SCOPE_RECIPIENT,
               "plain: unknown recipient scope %s",
               delivery_scope_name(result->recipients[1].scope));
    wire_check_recipient("plain", result, 2, SMTP_CLIENT_RCPT_ACCEPTED, 250);
    /* EHLO, MAIL, 3 RCPT, DATA, QUIT. */
    wire_check(run.writes == 7, "plain: %zu writes, expected 7", run.writes);
    wire_check(run.max_commands == 1, "plain: %zu commands in one write",
               run.max_commands);
    wire_check(strstr(run.commands, "SIZE=") == NULL, "plain: SIZE sent");
    wire_check(run.body_bytes == 1500, "plain: %llu body bytes",
               (unsigned long long)run.body_bytes);
    wire_check_log("plain", log_path, before, 1);
    wire_check_log_has("plain", log_path, before,
                       "rcpt=bob@peer.test,carol@peer.test ");
    wire_check_log_has("plain", log_path, before, "options=\n");
}

/* RFC 2920: MAIL, the RCPTs and DATA in one write; RFC 1870 SIZE. */
static void scenario_pipelined(int port, const char *log_path)
{
    struct smtp_client_envelope envelope =
        wire_envelope("alice@sender.test", mixed_recipients, 3, 1500);
    const struct smtp_client_envelope *list[] = {&envelope};
    struct wire_run run;
    int before = wire_log_line(log_path, -1, NULL, 0);

    envelope.pipelining = true;
    envelope.declare_size = true;
    wire_run_client(port, list, 1, &run);
    wire_check(run.max_commands == 5, "pipelined: %zu commands in one write, "
               "expected 5", run.max_commands);
    /* EHLO, the group, QUIT. */
    wire_check(run.writes == 3, "pipelined: %zu writes, expected 3",
               run.writes);
    wire_check(strstr(run.commands, "MAIL FROM:<alice@sender.test> "
                                    "SIZE=1500\r\nRCPT TO:<bob@peer.test>\r\n")
                   != NULL,
               "pipelined: group does not start with MAIL SIZE=, RCPT");
    wire_check(run.results[0].accepted_count == 2, "pipelined: %zu accepted",
               run.results[0].accepted_count);
    wire_check_recipient("pipelined", &run.results[0], 1,
                         SMTP_CLIENT_RCPT_PERMANENT, 550);
    wire_check_log("pipelined", log_path, before, 1);
    wire_check_log_has("pipelined", log_path, before, "options=SIZE=1500");
}

/* RFC 1870 6.2: the server rejects a declared size over its limit at MAIL
 * with 552, before any message byte.  The client reads and ignores the
 * replies to the pipelined RCPT and DATA that follow. */
static void scenario_size_refused(int port, const char *log_path)
{
    struct smtp_client_envelope envelope =
        wire_envelope("alice@sender.test", mixed_recipients, 3, 200000);
    const struct smtp_client_envelope *list[] = {&envelope};
    const struct smtp_client_result *result;
    struct wire_run run;
    int before = wire_log_line(log_path, -1, NULL, 0);

    envelope.pipelining = true;
    envelope.declare_size = true;
    wire_run_client(port, list, 1, &run);
    result = &run.results[0];
    wire_check(result->scope == FAILURE_SCOPE_MESSAGE,
               "size: scope %s, expected message",
               delivery_scope_name(result->scope));
    wire_check(result->code == 552, "size: code %d, expected 552",
               result->code);
    wire_check(result->failed_state == SMTP_CLIENT_MAIL,
               "size: failed in %s", smtp_client_state_name(result->failed_state));
    for (size_t i = 0; i < 3; i++)
        wire_check_recipient("size", result, i, SMTP_CLIENT_RCPT_PERMANENT,
                             552);
    wire_check(run.body_bytes == 0, "size: %llu body bytes sent",
               (unsigned long long)run.body_bytes);
    wire_check_log("size", log_path, before, 0);
}

/* RFC 5321 4.5.3.1.10: after 452 "too many recipients" the rest go in
 * further transactions on the same connection. */
static void scenario_too_many(int port, const char *log_path, bool pipelined)
{
    static const char *const recipients[] = {
        "r1@peer.test", "r2@peer.test", "r3@peer.test", "r4@peer.test",
        "r5@peer.test"};
    const char *name = pipelined ? "too many, pipelined" : "too many";
    struct smtp_client_envelope envelope =
        wire_envelope("limit2@sender.test", recipients, 5, 800);
    const struct smtp_client_envelope *list[] = {&envelope};
    struct wire_run run;
    int before = wire_log_line(log_path, -1, NULL, 0);

    envelope.pipelining = pipelined;
    wire_run_client(port, list, 1, &run);
    wire_check(run.results[0].accepted_count == 5, "%s: %zu accepted", name,
               run.results[0].accepted_count);
    wire_check(run.results[0].transaction_count == 3,
               "%s: %zu transactions, expected 3", name,
               run.results[0].transaction_count);
    wire_check_log(name, log_path, before, 3);
    wire_check_log_has(name, log_path, before, "rcpt=r1@peer.test,r2@peer.test ");
    wire_check_log_has(name, log_path, before + 1,
                       "rcpt=r3@peer.test,r4@peer.test ");
    wire_check_log_has(name, log_path, before + 2, "rcpt=r5@peer.test ");
}

/* RFC 6152: BODY=8BITMIME with an 8-bit message. */
static void scenario_eight_bit(int port, const char *log_path)
{
    struct smtp_client_envelope envelope =
        wire_envelope("alice@sender.test", mixed_recipients, 1, 3000);
    const struct smtp_client_envelope *list[] = {&envelope};
    struct wire_run run;
    int before = wire_log_line(log_path, -1, NULL, 0);

    envelope.eight_bit = true;
    envelope.declare_size = true;
    wire_run_client(port, list, 1, &run);
    wire_check(run.results[0].accepted_count == 1, "8bit: %zu accepted",
               run.results[0].accepted_count);
    wire_check_log("8bit", log_path, before, 1);
    wire_check_log_has("8bit", log_path, before,
                       "options=SIZE=3000 BODY=8BITMIME");
}

/* Three messages on one connection: the first has no valid recipient, so
 * its pipelined DATA is refused and RSET clears the transaction. */
static void scenario_reuse(int port, const char *log_path)
{
    static const char *const unknown[] = {"unknown2@peer.test",
                                          "unknown3@peer.test"};
    struct smtp_client_envelope first =
        wire_envelope("alice@sender.test", unknown, 2, 500);
    struct smtp_client_envelope second =
        wire_envelope("", mixed_recipients, 1, 700);
    struct smtp_client_envelope third =
        wire_envelope("alice@sender.test", mixed_recipients + 2, 1, 900);
    const struct smtp_client_envelope *list[] = {&first, &second, &third};
    struct wire_run run;
    int before = wire_log_line(log_path, -1, NULL, 0);

    first.keep_open = second.keep_open = third.keep_open = true;
    first.pipelining = second.pipelining = third.pipelining = true;
    wire_run_client(port, list, 3, &run);
    wire_check(run.result_count == 3, "reuse: %zu results, expected 3",
               run.result_count);
    wire_check(run.results[0].accepted_count == 0, "reuse: first accepted %zu",
               run.results[0].accepted_count);
    wire_check_recipient("reuse", &run.results[0], 0,
                         SMTP_CLIENT_RCPT_PERMANENT, 550);
    wire_check(run.results[1].accepted_count == 1, "reuse: second accepted %zu",
               run.results[1].accepted_count);
    wire_check(run.results[2].accepted_count == 1, "reuse: third accepted %zu",
               run.results[2].accepted_count);
    /* RSET only before the second message. */
    wire_check(strstr(run.commands, "RSET\r\nMAIL FROM:<>") != NULL,
               "reuse: no RSET before the second message");
    wire_check(strstr(strstr(run.commands, "RSET") + 4, "RSET") == NULL,
               "reuse: RSET sent twice");
    wire_check(strstr(run.commands, "QUIT\r\n") != NULL, "reuse: no QUIT");
    wire_check_log("reuse", log_path, before, 2);
    wire_check_log_has("reuse", log_path, before, "from=<> rcpt=bob@peer.test");
}

/* RFC 3207: STARTTLS, the handshake, EHLO again, then the message. */
static void scenario_starttls(int port, const char *log_path)
{
    struct smtp_client_envelope envelope =
        wire_envelope("alice@sender.test", mixed_recipients, 3, 1200);
    const struct smtp_client_envelope *list[] = {&envelope};
    struct wire_run run;
    int before = wire_log_line(log_path, -1, NULL, 0);

    envelope.starttls = true;
    envelope.declare_size = true;
    envelope.pipelining = true;
    wire_run_client(port, list, 1, &run);
    wire_check(run.tls_started, "starttls: no TLS handshake");
    wire_check(run.results[0].tls, "starttls: result says no TLS");
    wire_check(run.results[0].accepted_count == 2, "starttls: %zu accepted",
               run.results[0].accepted_count);
    wire_check(strstr(run.commands, "STARTTLS\r\nEHLO client.test\r\n")
                   != NULL,
               "starttls: no EHLO right after STARTTLS");
    wire_check_log("starttls", log_path, before, 1);
    wire_check_log_has("starttls", log_path, before, "tls=1 options=SIZE=1200");
}

/* TLS required by the envelope, not offered by the server: deferred. */
static void scenario_require_tls(int port, const char *log_path)
{
    struct smtp_client_envelope envelope =
        wire_envelope("alice@sender.test", mixed_recipients, 1, 100);
    const struct smtp_client_envelope *list[] = {&envelope};
    const struct smtp_client_result *result;
    struct wire_run run;
    int before = wire_log_line(log_path, -1, NULL, 0);

    envelope.require_tls = true;
    wire_run_client(port, list, 1, &run);
    result = &run.results[0];
    wire_check(result->cause == SMTP_CLIENT_CAUSE_NO_TLS,
               "require_tls: cause %d", (int)result->cause);
    wire_check_recipient("require_tls", result, 0, SMTP_CLIENT_RCPT_TRANSIENT,
                         0);
    wire_check(strstr(run.commands, "MAIL") == NULL,
               "require_tls: MAIL sent in clear");
    wire_check_log("require_tls", log_path, before, 0);
}

/* A server that accepts the connection and never greets: the greeting
 * timeout from the envelope ends the session as transient. */
static void scenario_greeting_timeout(void)
{
    struct smtp_client_timeouts timeouts = smtp_client_default_timeouts;
    struct smtp_client_envelope envelope =
        wire_envelope("alice@sender.test", mixed_recipients, 1, 100);
    const struct smtp_client_envelope *list[] = {&envelope};
    struct wire_run run;
    int port;
    int listener = wire_listen(&port);

    if (listener < 0) {
        wire_check(false, "timeout: no listener");
        return;
    }
    timeouts.greeting = 1 * SIM_SEC;
    envelope.timeouts = &timeouts;
    /* The kernel completes the handshake from the listen backlog; nothing
     * is ever written. */
    wire_run_client(port, list, 1, &run);
    close(listener);
    wire_check(run.results[0].cause == SMTP_CLIENT_CAUSE_TIMEOUT,
               "timeout: cause %d, expected a timeout",
               (int)run.results[0].cause);
    wire_check(run.results[0].scope == FAILURE_SCOPE_GREETING,
               "timeout: scope %s", delivery_scope_name(run.results[0].scope));
    wire_check(run.writes == 0, "timeout: %zu writes", run.writes);
}

static int wire_client_main(int argc, char **argv)
{
    int plain_port;
    int tls_port;
    const char *log_path;

    if (argc != 5) {
        fprintf(stderr, "usage: smtp_wire client PLAIN_PORT TLS_PORT "
                "LOG_FILE\n");
        return 2;
    }
    plain_port = atoi(argv[2]);
    tls_port = atoi(argv[3]);
    log_path = argv[4];

    scenario_plain(plain_port, log_path);
    scenario_pipelined(plain_port, log_path);
    scenario_size_refused(plain_port, log_path);
    scenario_too_many(plain_port, log_path, false);
    scenario_too_many(plain_port, log_path, true);
    scenario_eight_bit(plain_port, log_path);
    scenario_reuse(plain_port, log_path);
    scenario_starttls(tls_port, log_path);
    scenario_require_tls(plain_port, log_path);
    scenario_greeting_timeout();

    printf("smtp_wire: %d checks, %d failed\n", check_count, failure_count);
    return failure_count == 0 ? 0 : 1;
}

/* RCPT policy of the served sessions: local parts starting with
 * "unknown" do not exist. */
static int wire_check_address(void *context, const char *address,
                              char *enhanced, size_t n)
{
    if (strncmp(address, "unknown", 7) == 0) {
        snprintf(enhanced, n, "5.1.1");
        return 550;
    }
    return 250;
}

static bool wire_policy_has(const char *spec, const char *word)
{
    size_t n = strlen(word);

    for (const char *at = strstr(spec, word); at != NULL;
         at = strstr(at + 1, word)) {
        if ((at == spec || at[-1] == ',') && (at[n] == '\0' || at[n] == ','))
            return true;
    }
    return false;
}

static struct smtp_server_policy wire_policy(const char *spec)
{
    struct smtp_server_policy policy = {
        .greeting_code = 220,
        .max_size = 100000,
        .check_recipient = wire_check_address,
        .hostname = "wire.test",
    };

    if (wire_policy_has(spec, "greet554"))
        policy.greeting_code = 554;
    if (wire_policy_has(spec, "starttls454")) {
        policy.starttls = true;
        policy.starttls_unavailable = true;
    }
    if (wire_policy_has(spec, "limit2"))
        policy.max_recipients = 2;
    if (wire_policy_has(spec, "size1000"))
        policy.max_size = 1000;
    return policy;
}

/* Writes `text` to the transcript, one prefixed line per CRLF line. */
static void wire_log_text(FILE *transcript, const char *prefix,
                          const char *text, size_t length)
{
    size_t start = 0;

    for (size_t i = 0; i + 1 < length; i++) {
        if (text[i] != '\r' || text[i + 1] != '\n')
            continue;
        fprintf(transcript, "%s%.*s\n", prefix, (int)(i - start),
                text + start);
        start = i + 2;
    }
}

/* Passes every complete line in the input to the server and sends the
 * replies together, as RFC 2920 3.2 allows for a pipelined group.
 * Returns false when the connection should close. */
static bool wire_serve_input(struct wire_connection *connection,
                             struct smtp_server *server, FILE *transcript)
{
    static char replies[WIRE_BUFFER_SIZE];
    size_t used = 0;
    size_t start = 0;

    for (size_t i = 0; i + 1 < connection->input_used; i++) {
        char *line = connection->input + start;
        size_t length = i + 2 - start;

        if (connection->input[i] != '\r' || connection->input[i + 1] != '\n')
            continue;
        wire_log_text(transcript, "C: ", line, length);
        if (sizeof replies - used >= SMTP_SERVER_REPLY_MAX)
            used += smtp_server_on_line(server, line, length, replies + used,
                                        sizeof replies - used);
        start = i + 2;
        i++;
        if (smtp_server_closed(server))
            break;
    }
    connection->input_used -= start;
    memmove(connection->input, connection->input + start,
            connection->input_used);
    wire_log_text(transcript, "S: ", replies, used);
    if (used > 0 && !wire_write(connection, replies, used))
        return false;
    /* This server cannot run a TLS handshake, so a session that started
     * one ends here. */
    return !smtp_server_closed(server) && !smtp_server_tls_pending(server);
}

static bool wire_serve_session(int listener, const char *spec,
                               FILE *transcript)
{
    static struct wire_connection connection;
    struct smtp_server_policy policy = wire_policy(spec);
    struct smtp_server server;
    char greeting[SMTP_SERVER_REPLY_MAX];
    size_t length;

    memset(&connection, 0, sizeof connection);
    wire_set_timeout(listener, 30);
    connection.fd = accept(listener, NULL, NULL);
    if (connection.fd < 0) {
        printf("smtp_wire: no client connected within 30 s: %s\n",
               strerror(errno));
        return false;
    }
    fprintf(transcript, "== session %s\n", spec);
    smtp_server_init(&server, &policy);
    length = smtp_server_greeting(&server, greeting, sizeof greeting);
    wire_log_text(transcript, "S: ", greeting, length);
    bool open = wire_write(&connection, greeting, length)
                && !smtp_server_closed(&server);

    while (open) {
        enum wire_read_status status =
            wire_read_more(&connection, WIRE_IO_TIMEOUT_SEC);

        if (status == WIRE_READ_TIMEOUT) {
            length = smtp_server_on_timeout(&server, greeting,
                                            sizeof greeting);
            wire_log_text(transcript, "S: ", greeting, length);
            wire_write(&connection, greeting, length);
            break;
        }
        if (status != WIRE_READ_OK)
            break;
        open = wire_serve_input(&connection, &server, transcript);
    }
    fprintf(transcript, "== end in state %s\n",
            smtp_server_state_name(server.state));
    fflush(transcript);
    wire_close(&connection);
    return true;
}

static int wire_server_main(int argc, char **argv)
{
    const char *port_file;
    char temporary[4096];
    FILE *out;
    FILE *transcript;
    int port;
    int listener;

    if (argc < 5) {
        fprintf(stderr, "usage: smtp_wire server PORT_FILE TRANSCRIPT "
                "POLICY...\n");
        return 2;
    }
    port_file = argv[2];
    transcript = fopen(argv[3], "w");
    listener = wire_listen(&port);
    if (transcript == NULL || listener < 0)
        return 1;
    /* Renamed into place so that a reader never sees a partial number. */
    snprintf(temporary, sizeof temporary, "%s.tmp", port_file);
    out = fopen(temporary, "w");
    if (out == NULL || fprintf(out, "%d\n", port) < 0 || fclose(out) != 0
        || rename(temporary, port_file) != 0)
        return 1;
    for (int i = 4; i < argc; i++) {
        if (!wire_serve_session(listener, argv[i], transcript))
            return 1;
    }
    close(listener);
    fclose(transcript);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && strcmp(argv[1], "client") == 0)
        return wire_client_main(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "server") == 0)
        return wire_server_main(argc, argv);
    fprintf(stderr, "usage: smtp_wire client PLAIN_PORT TLS_PORT LOG_FILE\n"
            "       smtp_wire server PORT_FILE TRANSCRIPT POLICY...\n");
    return 2;
}
