#include "models/scenario_limits.h"

void scenario_limits_load(struct config *config, const struct config_node *root,
                          struct run_limits *limits)
{
    static const char *const keys[] = { "max_events", "max_in_flight", "max_memory",
                                        NULL };
    struct config_node section = config_get(config, root, "limits");
    if (!config_mapping(config, &section, keys))
        return;

    struct config_node events = config_get(config, &section, "max_events");
    limits->max_events = (uint64_t)config_int(config, &events, 0, 1, INT64_MAX);
    struct config_node in_flight = config_get(config, &section, "max_in_flight");
    limits->max_in_flight = (uint64_t)config_int(config, &in_flight, 0, 1, INT64_MAX);
    struct config_node memory = config_get(config, &section, "max_memory");
    limits->max_memory = config_size(config, &memory, 0, 1);
}
