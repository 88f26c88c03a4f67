#include "sim/memory.h"

#include <stdio.h>
#include <stdlib.h>

void *memory_calloc(size_t count, size_t size)
{
    void *memory = calloc(count ? count : 1, size ? size : 1);
    if (!memory) {
        fprintf(stderr, "mailsim: out of memory allocating %zu x %zu bytes\n", count, size);
        abort();
    }
    return memory;
}
