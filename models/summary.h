/* The summary table that `mailsim run` prints on stdout. */
#ifndef MAILSIM_SUMMARY_H
#define MAILSIM_SUMMARY_H

#include <stdio.h>

struct run_info;
struct world;

void summary_print(FILE *out, const struct world *world, const struct run_info *info);

#endif
