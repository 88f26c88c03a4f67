/*
 * Loading of the SMTP protocol options (models/scenario_protocol.h).
 */
#include "models/scenario_protocol.h"

#include "sim/config.h"

static bool bool_at(struct config *config, const struct config_node *section,
                    const char *key, bool fallback)
{
    struct config_node node = config_get(config, section, key);
    return config_bool(config, &node, fallback);
}

static sim_time duration_at(struct config *config, const struct config_node *section,
                            const char *key, sim_time fallback)
{
    struct config_node node = config_get(config, section, key);
    return config_duration(config, &node, fallback, 1);
}

static void load_timeouts(struct config *config, const struct config_node *smtp_out,
                          struct smtp_timeouts *timeouts)
{
    static const char *const keys[] = {
        "greeting", "hello", "starttls", "rset", "mail", "rcpt", "data_initiation",
        "data_block", "data_termination", "quit", NULL,
    };
    struct config_node section = config_get(config, smtp_out, "timeouts");
    config_mapping(config, &section, keys);

    timeouts->greeting = duration_at(config, &section, "greeting", 300 * SIM_SEC);
    timeouts->hello = duration_at(config, &section, "hello", 300 * SIM_SEC);
    timeouts->starttls = duration_at(config, &section, "starttls", 300 * SIM_SEC);
    timeouts->rset = duration_at(config, &section, "rset", 20 * SIM_SEC);
    timeouts->mail = duration_at(config, &section, "mail", 300 * SIM_SEC);
    timeouts->rcpt = duration_at(config, &section, "rcpt", 300 * SIM_SEC);
    timeouts->data_initiation = duration_at(config, &section, "data_initiation",
                                            120 * SIM_SEC);
    timeouts->data_block = duration_at(config, &section, "data_block", 180 * SIM_SEC);
    timeouts->data_termination = duration_at(config, &section, "data_termination",
                                             600 * SIM_SEC);
    timeouts->quit = duration_at(config, &section, "quit", 300 * SIM_SEC);
}

static void load_tls(struct config *config, const struct config_node *smtp_out,
                     struct smtp_out_protocol *protocol)
{
    static const char *const keys[] = { "level", "round_trips", "cpu", NULL };
    static const char *const levels[] = { "none", "may", "encrypt", NULL };
    struct config_node section = config_get(config, smtp_out, "tls");
    config_mapping(config, &section, keys);

    struct config_node level = config_get(config, &section, "level");
    protocol->tls = (enum tls_level)config_choice(config, &level, levels, TLS_NONE);
    struct config_node round_trips = config_get(config, &section, "round_trips");
    protocol->tls_round_trips = (int)config_int(config, &round_trips, 2, 1, 4);
    struct config_node cpu = config_get(config, &section, "cpu");
    protocol->tls_cpu = config_duration(config, &cpu, SIM_MS, 0);
}

void scenario_protocol_load_smtp_out(struct config *config,
                                     const struct config_node *smtp_out,
                                     struct smtp_out_protocol *protocol)
{
    protocol->pipelining = bool_at(config, smtp_out, "pipelining", true);
    protocol->declare_size = bool_at(config, smtp_out, "declare_size", true);
    protocol->connection_reuse = bool_at(config, smtp_out, "connection_reuse", true);
    load_tls(config, smtp_out, protocol);
    load_timeouts(config, smtp_out, &protocol->timeouts);
}

void scenario_protocol_load_smtp_in(struct config *config,
                                    const struct config_node *smtp_in,
                                    struct smtp_in_protocol *protocol)
{
    protocol->starttls = bool_at(config, smtp_in, "starttls", true);
    struct config_node limit = config_get(config, smtp_in, "max_recipients");
    protocol->max_recipients = (int)config_int(config, &limit, 1000, 1, 100000);
}
