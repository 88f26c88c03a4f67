/*
 * The mailsim subcommands.  Each takes the arguments after its name
 * (argv[0] is the subcommand) and returns the process exit status.
 */
#ifndef MAILSIM_CLI_H
#define MAILSIM_CLI_H

#define MAILSIM_VERSION "0.1.0"

enum cli_exit_status {
    CLI_EXIT_OK = 0,
    CLI_EXIT_RUN_FAILED = 1,   /* ledger imbalance, results not written, a run limit reached */
    CLI_EXIT_BAD_INPUT = 2,    /* bad scenario, trace or command line */
};

/* mailsim run SCENARIO [-o DIR] [--seed N] [--dry-run] */
int cli_run(int argc, char **argv);

/* mailsim check SCENARIO [-o DIR] [--seed N]: a run, then the scenario's
 * expectations (docs/expectations.md); 1 when one fails. */
int cli_check(int argc, char **argv);

/* mailsim validate [--quick] [--seed N] [--dir DIR]: simulated queues
 * against queueing theory and Little's law (docs/validation.md); 1 when
 * a row fails. */
int cli_validate(int argc, char **argv);

#endif
