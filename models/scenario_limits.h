/*
 * The `limits` section of a scenario: bounds that end a runaway run early
 * with the results so far (see docs/scenario-format.md).
 */
#ifndef MAILSIM_SCENARIO_LIMITS_H
#define MAILSIM_SCENARIO_LIMITS_H

#include "models/scenario.h"
#include "sim/config.h"

/* Reads the optional `limits` mapping under `root` into `limits`; absent
 * keys leave 0 (no limit).  Errors go through `config` and are sticky. */
void scenario_limits_load(struct config *config, const struct config_node *root,
                          struct run_limits *limits);

#endif
