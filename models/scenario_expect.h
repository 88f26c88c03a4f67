/*
 * The top-level `expect:` list of a scenario: the expectations that
 * `mailsim check` evaluates after the run (models/expect.h,
 * docs/expectations.md).  `mailsim run` loads and validates the list too,
 * so a malformed expectation is reported before anything runs.
 */
#ifndef MAILSIM_SCENARIO_EXPECT_H
#define MAILSIM_SCENARIO_EXPECT_H

#include <stdbool.h>
#include <stdio.h>

#include "models/expect.h"
#include "models/scenario.h"
#include "sim/config.h"

/* Reads `expect` from the root mapping into scenario->expectations.
 * Domains are checked against the scenario's providers and the output
 * section must be loaded first, because expectations need
 * output.message_rows.  Does nothing once the config has failed. */
void scenario_expect_load(struct config *config, const struct config_node *root,
                          struct scenario *scenario);

/* Frees scenario->expectations.  scenario_free calls it. */
void scenario_expect_free(struct scenario *scenario);

/* Returns true when the scenario has expectations.  Otherwise prints
 * "FILE:LINE:COLUMN: missing required key 'expect'" to `errors`, as the
 * loader reports a missing key, and returns false. */
bool scenario_expect_require(const struct scenario *scenario, FILE *errors);

#endif
