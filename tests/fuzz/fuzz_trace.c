/*
 * libFuzzer target for the trace reader: each input is a trace file, read
 * to its end or its first error against one fixed scenario, which gives
 * the domains that senders and recipients must belong to.  The scenario is
 * MAILSIM_FUZZ_SCENARIO, or scenarios/minimal.yaml relative to the working
 * directory.
 */
#include <stdio.h>
#include <stdlib.h>

#include "models/scenario.h"
#include "models/trace.h"
#include "tests/fuzz/fuzz_input.h"

static struct scenario *fuzz_scenario;

static void free_scenario(void)
{
    scenario_free(fuzz_scenario);
}

static void load_scenario(void)
{
    const char *path = getenv("MAILSIM_FUZZ_SCENARIO");
    fuzz_scenario = scenario_load(path ? path : "scenarios/minimal.yaml");
    if (!fuzz_scenario)
        abort();
    atexit(free_scenario);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz_scenario)
        load_scenario();

    const char *path = fuzz_input_write(data, size, "trace");
    char error[512];
    struct trace_reader *reader = trace_reader_open(path, fuzz_scenario, error,
                                                    sizeof error);
    if (!reader)
        abort();
    struct submission submission;
    while (trace_reader_next(reader, &submission) == 1)
        continue;
    trace_reader_free(reader);
    return 0;
}
