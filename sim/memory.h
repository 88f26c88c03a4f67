/*
 * Allocation that cannot fail quietly: a simulation that runs out of memory
 * has no useful way to go on, so these abort with a message instead of
 * returning NULL to every caller.
 */
#ifndef MAILSIM_MEMORY_H
#define MAILSIM_MEMORY_H

#include <stddef.h>

/* calloc(count, size), with at least one byte; aborts on failure. */
void *memory_calloc(size_t count, size_t size);

#endif
