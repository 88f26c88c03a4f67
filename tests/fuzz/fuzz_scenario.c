/*
 * libFuzzer target for the scenario loader: each input is a scenario file.
 * Any outcome but a crash, a sanitizer report or a leak is a pass; the
 * error message of a rejected input goes to /dev/null.
 */
#include <stdio.h>
#include <stdlib.h>

#include "models/scenario.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *discard;
    if (!discard)
        discard = fopen("/dev/null", "w");
    if (!discard)
        abort();

    const char *path = fuzz_input_write(data, size, "scenario");
    struct scenario *scenario = scenario_load_report(path, discard);
    scenario_free(scenario);
    return 0;
}
