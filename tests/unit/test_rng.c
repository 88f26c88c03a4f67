/*
 * Unit tests for named random-number streams: reproducibility, independence
 * of names and seeds, and pinned values that change only when the seed
 * derivation changes (which would change every run's numbers).
 */
#include "sim/rng.h"
#include "tests/unit/test_util.h"

#define DRAWS 1000

/* Fills `out` with DRAWS raw outputs of a new stream. */
static void draw_stream(uint64_t seed, const char *name, unsigned long *out)
{
    gsl_rng *rng = rng_stream_new(seed, name);
    for (int i = 0; i < DRAWS; i++)
        out[i] = gsl_rng_get(rng);
    gsl_rng_free(rng);
}

/* Number of positions where the two sequences are equal. */
static int count_equal(const unsigned long *a, const unsigned long *b)
{
    int equal = 0;
    for (int i = 0; i < DRAWS; i++)
        equal += a[i] == b[i];
    return equal;
}

START_TEST(same_seed_and_name_repeat)
{
    unsigned long first[DRAWS], second[DRAWS];

    draw_stream(42, "smtp_out", first);
    draw_stream(42, "smtp_out", second);
    ck_assert_int_eq(count_equal(first, second), DRAWS);
    ck_assert_uint_eq(rng_stream_seed(42, "smtp_out"),
                      rng_stream_seed(42, "smtp_out"));
}
END_TEST

START_TEST(different_names_differ)
{
    unsigned long first[DRAWS], second[DRAWS];

    draw_stream(42, "web.0", first);
    draw_stream(42, "web.1", second);
    ck_assert_uint_ne(rng_stream_seed(42, "web.0"),
                      rng_stream_seed(42, "web.1"));
    /* Unrelated 32-bit outputs agree by chance about once in 4e9 draws. */
    ck_assert_int_le(count_equal(first, second), 1);
}
END_TEST

START_TEST(different_seeds_differ)
{
    unsigned long first[DRAWS], second[DRAWS];

    draw_stream(1, "dns", first);
    draw_stream(2, "dns", second);
    ck_assert_uint_ne(rng_stream_seed(1, "dns"), rng_stream_seed(2, "dns"));
    ck_assert_int_le(count_equal(first, second), 1);
}
END_TEST

START_TEST(nearby_inputs_differ)
{
    /* A one-character or one-bit change gives another stream seed. */
    ck_assert_uint_ne(rng_stream_seed(0, "a"), rng_stream_seed(0, "b"));
    ck_assert_uint_ne(rng_stream_seed(0, "a"), rng_stream_seed(1, "a"));
    ck_assert_uint_ne(rng_stream_seed(0, ""), rng_stream_seed(1, ""));
    ck_assert_uint_ne(rng_stream_seed(0, "ab"), rng_stream_seed(0, "ba"));
}
END_TEST

START_TEST(new_stream_leaves_others_alone)
{
    unsigned long alone[DRAWS], beside[DRAWS];
    draw_stream(7, "resolver", alone);

    /* Interleave draws from an added stream with the resolver's. */
    gsl_rng *resolver = rng_stream_new(7, "resolver");
    gsl_rng *added = rng_stream_new(7, "new_component");
    for (int i = 0; i < DRAWS; i++) {
        gsl_rng_get(added);
        beside[i] = gsl_rng_get(resolver);
        gsl_rng_get(added);
    }
    gsl_rng_free(added);
    gsl_rng_free(resolver);

    ck_assert_int_eq(count_equal(alone, beside), DRAWS);
}
END_TEST

START_TEST(stream_is_mt19937)
{
    gsl_rng *rng = rng_stream_new(1, "x");
    ck_assert_str_eq(gsl_rng_name(rng), "mt19937");
    gsl_rng_free(rng);
}
END_TEST

/* Expected values were computed with an independent Python version of the
 * derivation (FNV-1a 64 and the SplitMix64 finalizer). */
START_TEST(pinned_stream_seed)
{
    ck_assert_uint_eq(rng_stream_seed(42, "smtp"),
                      UINT64_C(0x7756896c686d5f81));
    ck_assert_uint_eq(rng_stream_seed(0, ""), UINT64_C(0x69dd497cadf91c08));
}
END_TEST

START_TEST(generator_gets_folded_seed)
{
    /* 524015341 = low half XOR high half of 0x7756896c686d5f81. */
    gsl_rng *expected = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(expected, 524015341UL);
    gsl_rng *stream = rng_stream_new(42, "smtp");

    for (int i = 0; i < 10; i++)
        ck_assert_uint_eq(gsl_rng_get(stream), gsl_rng_get(expected));
    gsl_rng_free(stream);
    gsl_rng_free(expected);
}
END_TEST

static Suite *rng_suite(void)
{
    Suite *suite = suite_create("rng");
    TCase *streams = tcase_create("streams");
    tcase_add_test(streams, same_seed_and_name_repeat);
    tcase_add_test(streams, different_names_differ);
    tcase_add_test(streams, different_seeds_differ);
    tcase_add_test(streams, nearby_inputs_differ);
    tcase_add_test(streams, new_stream_leaves_others_alone);
    tcase_add_test(streams, stream_is_mt19937);
    suite_add_tcase(suite, streams);

    TCase *pinned = tcase_create("pinned");
    tcase_add_test(pinned, pinned_stream_seed);
    tcase_add_test(pinned, generator_gets_folded_seed);
    suite_add_tcase(suite, pinned);
    return suite;
}

TEST_MAIN(rng_suite)
