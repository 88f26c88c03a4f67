/*
 * Named random-number streams.  Each component draws from its own GSL
 * generator, seeded from the scenario seed and the component's name, so
 * adding a component leaves every other component's draws unchanged
 * (common random numbers across runs that differ in one place).
 */
#ifndef MAILSIM_RNG_H
#define MAILSIM_RNG_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

/* Returns a new gsl_rng (gsl_rng_mt19937) seeded from a 64-bit mix of `seed`
 * and `name`.  Free it with gsl_rng_free.  Aborts on allocation failure. */
gsl_rng *rng_stream_new(uint64_t seed, const char *name);

/* The 64-bit stream seed derived from (seed, name); exposed for tests.
 * Changing this derivation changes the numbers of every run. */
uint64_t rng_stream_seed(uint64_t seed, const char *name);

#endif
