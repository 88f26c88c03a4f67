/*
 * Named random-number streams.
 *
 * The stream seed is finalize(finalize(seed + golden gamma) + FNV-1a 64 of
 * the name), where finalize is the SplitMix64 finalizer, so nearby seeds
 * and similar names give unrelated streams.  Changing this derivation, the
 * generator type or the folding below changes the numbers of every run, so
 * results stored by earlier versions would no longer be reproducible. */
#include "sim/rng.h"

#include <stdio.h>
#include <stdlib.h>

#define FNV64_OFFSET_BASIS UINT64_C(0xcbf29ce484222325)
#define FNV64_PRIME        UINT64_C(0x100000001b3)
#define GOLDEN_GAMMA       UINT64_C(0x9e3779b97f4a7c15)

static uint64_t fnv1a_string(const char *text)
{
    uint64_t hash = FNV64_OFFSET_BASIS;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        hash ^= *p;
        hash *= FNV64_PRIME;
    }
    return hash;
}

/* The SplitMix64 finalizer: a bijection on 64-bit values that spreads
 * each input bit over the whole output. */
static uint64_t splitmix64_finalize(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t rng_stream_seed(uint64_t seed, const char *name)
{
    uint64_t mixed_seed = splitmix64_finalize(seed + GOLDEN_GAMMA);
    return splitmix64_finalize(mixed_seed + fnv1a_string(name));
}

/* GSL's mt19937 (checked with GSL 2.7) keeps only the low 32 bits of the
 * seed, so the two halves are folded together first and every bit of the
 * stream seed counts.  The result is the same where unsigned long has 32
 * bits.  NOTE: 2^32 generator states means two of n streams share a state
 * with probability about n^2 / 2^33, negligible for a few thousand names. */
gsl_rng *rng_stream_new(uint64_t seed, const char *name)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (rng == NULL) {
        fprintf(stderr, "rng: out of memory allocating stream \"%s\"\n", name);
        abort();
    }

    uint64_t stream_seed = rng_stream_seed(seed, name);
    uint32_t folded = (uint32_t)(stream_seed ^ (stream_seed >> 32));
    gsl_rng_set(rng, (unsigned long)folded);
    return rng;
}
