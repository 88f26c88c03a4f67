/*
 * The mailsim command line: dispatches to the subcommands in cli_*.c.
 *
 * Exit status: 0 on success, 1 when a run fails (the message ledger does
 * not balance, results cannot be written), 2 on bad input or usage.
 */
#include <stdio.h>
#include <string.h>

#include "models/cli.h"

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: mailsim run SCENARIO [-o DIR] [--seed N] [--dry-run]\n"
            "       mailsim check SCENARIO [-o DIR] [--seed N]\n"
            "       mailsim validate [--quick] [--seed N] [--dir DIR]\n"
            "       mailsim --version\n"
            "\n"
            "run       simulate SCENARIO (a YAML file) and write results.sqlite and\n"
            "          the plots to DIR (default results/<scenario name>)\n"
            "check     run SCENARIO, then test the expectations of its expect: list\n"
            "validate  compare simulated queues with queueing theory and Little's law\n"
            "\n"
            "`mailsim COMMAND --help` describes the options of a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_BAD_INPUT;
    }
    const char *command = argv[1];
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(command, "--version") == 0) {
        printf("mailsim %s\n", MAILSIM_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(command, "run") == 0)
        return cli_run(argc - 1, argv + 1);
    if (strcmp(command, "check") == 0)
        return cli_check(argc - 1, argv + 1);
    if (strcmp(command, "validate") == 0)
        return cli_validate(argc - 1, argv + 1);
    fprintf(stderr, "mailsim: unknown command '%s'\n", command);
    print_usage(stderr);
    return CLI_EXIT_BAD_INPUT;
}
