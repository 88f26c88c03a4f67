/*
 * Tables of the SMTP client: state names and log phrases, reply timeouts
 * per state, and the names of recipient statuses and actions.
 */
#include "models/smtp_client.h"

/* RFC 5321 4.5.3.2, with 5 minutes where it gives no value; each field
 * of struct smtp_client_timeouts names its section. */
const struct smtp_client_timeouts smtp_client_default_timeouts = {
    .greeting = 5 * SIM_MIN,
    .hello = 5 * SIM_MIN,
    .starttls = 5 * SIM_MIN,
    .rset = 5 * SIM_MIN,
    .mail = 5 * SIM_MIN,
    .rcpt = 5 * SIM_MIN,
    .data_initiation = 2 * SIM_MIN,
    .data_block = SMTP_CLIENT_DATA_BLOCK_TIMEOUT,
    .data_termination = 10 * SIM_MIN,
    .quit = 5 * SIM_MIN,
};

struct client_state_info {
    const char *name;
    const char *phrase;
};

static const struct client_state_info client_states[SMTP_CLIENT_STATE_COUNT] = {
    [SMTP_CLIENT_GREETING] = {"GREETING", "waiting for the greeting"},
    [SMTP_CLIENT_EHLO] = {"EHLO", "sending EHLO"},
    [SMTP_CLIENT_HELO] = {"HELO", "sending HELO"},
    [SMTP_CLIENT_STARTTLS] = {"STARTTLS", "sending STARTTLS"},
    [SMTP_CLIENT_RSET] = {"RSET", "sending RSET"},
    [SMTP_CLIENT_MAIL] = {"MAIL", "sending MAIL FROM"},
    [SMTP_CLIENT_RCPT] = {"RCPT", "sending RCPT TO"},
    [SMTP_CLIENT_DATA] = {"DATA", "sending DATA"},
    [SMTP_CLIENT_BODY] = {"BODY", "sending the message"},
    [SMTP_CLIENT_IDLE] = {"IDLE", "waiting for the next message"},
    [SMTP_CLIENT_QUIT] = {"QUIT", "sending QUIT"},
    [SMTP_CLIENT_DONE] = {"DONE", "done"},
};

static sim_time client_state_timeout(const struct smtp_client_timeouts *t,
                                     enum smtp_client_state state)
{
    switch (state) {
    case SMTP_CLIENT_GREETING:
        return t->greeting;
    case SMTP_CLIENT_EHLO:
    case SMTP_CLIENT_HELO:
        return t->hello;
    case SMTP_CLIENT_STARTTLS:
        return t->starttls;
    case SMTP_CLIENT_RSET:
        return t->rset;
    case SMTP_CLIENT_MAIL:
        return t->mail;
    case SMTP_CLIENT_RCPT:
        return t->rcpt;
    case SMTP_CLIENT_DATA:
        return t->data_initiation;
    case SMTP_CLIENT_BODY:
        return t->data_termination;
    case SMTP_CLIENT_QUIT:
        return t->quit;
    default:
        return 0;
    }
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
    return client_state_timeout(&smtp_client_default_timeouts, state);
}

const struct smtp_client_timeouts *smtp_client_timeouts_of(
    const struct smtp_client *client)
{
    const struct smtp_client_timeouts *timeouts = client->envelope->timeouts;

    return timeouts != NULL ? timeouts : &smtp_client_default_timeouts;
}

sim_time smtp_client_current_timeout(const struct smtp_client *client)
{
    return client_state_timeout(smtp_client_timeouts_of(client),
                                client->state);
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
        [SMTP_CLIENT_ACTION_START_TLS] = "start TLS",
    };

    if ((unsigned)action >= SMTP_CLIENT_ACTION_COUNT)
        return "unknown";
    return names[action];
}
