#include "tests/fuzz/fuzz_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_path[64];
static int fuzz_fd = -1;

static void fuzz_input_remove(void)
{
    if (fuzz_fd >= 0)
        unlink(fuzz_path);
}

static void fuzz_input_create(const char *prefix)
{
    snprintf(fuzz_path, sizeof fuzz_path, "/tmp/mailsim-fuzz-%s-XXXXXX", prefix);
    fuzz_fd = mkstemp(fuzz_path);
    if (fuzz_fd < 0) {
        perror("fuzz: mkstemp");
        abort();
    }
    atexit(fuzz_input_remove);
}

const char *fuzz_input_write(const uint8_t *data, size_t size, const char *prefix)
{
    if (fuzz_fd < 0)
        fuzz_input_create(prefix);
    if (ftruncate(fuzz_fd, 0) != 0) {
        perror("fuzz: ftruncate");
        abort();
    }
    size_t written = 0;
    while (written < size) {
        ssize_t n = pwrite(fuzz_fd, data + written, size - written, (off_t)written);
        if (n <= 0) {
            perror("fuzz: pwrite");
            abort();
        }
        written += (size_t)n;
    }
    return fuzz_path;
}
