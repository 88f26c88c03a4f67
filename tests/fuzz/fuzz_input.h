/*
 * Shared by the libFuzzer targets: the code under test reads files, so each
 * input is written to one temporary file that is reused for every run.
 */
#ifndef MAILSIM_FUZZ_INPUT_H
#define MAILSIM_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* The libFuzzer entry point, declared for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Replaces the contents of the temporary file with `data` and returns its
 * path.  The file is created in /tmp on the first call, with `prefix` (a
 * short word) in its name, and removed at exit.  Aborts if it cannot be written, because
 * every later input would then test nothing. */
const char *fuzz_input_write(const uint8_t *data, size_t size, const char *prefix);

#endif
