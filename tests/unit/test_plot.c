#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/plot.h"
#include "tests/unit/test_util.h"

#define TOL 1e-12

static char temp_dir[64];

static void setup_dir(void)
{
    snprintf(temp_dir, sizeof temp_dir, "/tmp/mailsim_plot_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(temp_dir));
}

static void teardown_dir(void)
{
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", temp_dir);
    ck_assert_int_eq(system(command), 0);
}

/* Reads a whole file; returns NULL when it does not exist. */
static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    unsigned char *data = malloc((size_t)length + 1);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(fread(data, 1, (size_t)length, file), (size_t)length);
    fclose(file);
    data[length] = '\0';
    *size = (size_t)length;
    return data;
}

static unsigned char *read_output(const char *base, const char *suffix,
                                  size_t *size)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s%s", temp_dir, base, suffix);
    return read_file(path, size);
}

static bool contains(const unsigned char *data, size_t size, const char *text)
{
    size_t length = strlen(text);
    for (size_t i = 0; i + length <= size; i++) {
        if (memcmp(data + i, text, length) == 0)
            return true;
    }
    return false;
}

static void assert_ticks(const double *got, size_t count,
                         const double *expected, size_t expected_count)
{
    ck_assert_uint_eq(count, expected_count);
    for (size_t i = 0; i < count; i++)
        ck_assert_double_eq_tol(got[i], expected[i], TOL);
}

START_TEST(nice_ticks_unit_range)
{
    double ticks[16];
    const double expected[] = {0, 0.2, 0.4, 0.6, 0.8, 1.0};
    assert_ticks(ticks, plot_nice_ticks(0, 1, ticks, 10), expected, 6);
}
END_TEST

START_TEST(nice_ticks_coarse_step)
{
    double ticks[16];
    const double expected[] = {0, 50, 100};
    assert_ticks(ticks, plot_nice_ticks(0, 100, ticks, 5), expected, 3);
}
END_TEST

START_TEST(nice_ticks_unaligned_range)
{
    double ticks[16];
    const double expected[] = {-2, 0, 2, 4, 6, 8, 10, 12};
    assert_ticks(ticks, plot_nice_ticks(-3.7, 12.2, ticks, 8), expected, 8);
}
END_TEST

START_TEST(nice_ticks_small_values)
{
    double ticks[16];
    const double expected[] = {0.001, 0.002, 0.003, 0.004};
    assert_ticks(ticks, plot_nice_ticks(0.001, 0.0042, ticks, 5), expected, 4);
    /* Multiples are computed as k * m / 10^n, so they are the nearest
     * doubles, not accumulated sums. */
    ck_assert(ticks[2] == 0.003);
}
END_TEST

START_TEST(nice_ticks_zero_positive)
{
    double ticks[16];
    const double expected[] = {-1, -0.5, 0, 0.5, 1};
    assert_ticks(ticks, plot_nice_ticks(-1, 1, ticks, 5), expected, 5);
    ck_assert(!signbit(ticks[2]));
}
END_TEST

START_TEST(nice_ticks_invalid_ranges)
{
    double ticks[16];
    ck_assert_uint_eq(plot_nice_ticks(3, 3, ticks, 10), 0);
    ck_assert_uint_eq(plot_nice_ticks(5, 1, ticks, 10), 0);
    ck_assert_uint_eq(plot_nice_ticks(NAN, 1, ticks, 10), 0);
    ck_assert_uint_eq(plot_nice_ticks(0, INFINITY, ticks, 10), 0);
    ck_assert_uint_eq(plot_nice_ticks(0, 1, ticks, 0), 0);
}
END_TEST

START_TEST(nice_ticks_within_limits)
{
    const double ranges[][2] = {
        {0, 7}, {-0.013, 0.021}, {1e6, 1.0004e6}, {3.3, 3.31}, {-5e9, 2e9},
        {0.1, 0.9}, {17, 1234}, {-1e-7, 0},
    };
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        for (size_t max = 2; max <= 12; max++) {
            double ticks[16];
            double lo = ranges[r][0], hi = ranges[r][1];
            size_t count = plot_nice_ticks(lo, hi, ticks, max);
            ck_assert_uint_ge(count, 1);
            ck_assert_uint_le(count, max);
            for (size_t i = 0; i < count; i++) {
                ck_assert(ticks[i] >= lo - 1e-9 * (hi - lo));
                ck_assert(ticks[i] <= hi + 1e-9 * (hi - lo));
            }
            for (size_t i = 2; i < count; i++) {
                double step = ticks[1] - ticks[0];
                ck_assert_double_eq_tol(ticks[i] - ticks[i - 1], step,
                                        1e-9 * fabs(step));
            }
        }
    }
}
END_TEST

START_TEST(log_ticks_decades)
{
    double ticks[16];
    const double expected[] = {0.001, 0.01, 0.1, 1, 10, 100};
    assert_ticks(ticks, plot_log_ticks(0.001, 100, ticks, 10), expected, 6);
}
END_TEST

START_TEST(log_ticks_skip_decades)
{
    double ticks[16];
    const double expected[] = {1e-6, 1e-3, 1, 1e3, 1e6};
    size_t count = plot_log_ticks(1e-6, 1e6, ticks, 5);
    ck_assert_uint_eq(count, 5);
    for (size_t i = 0; i < count; i++)
        ck_assert_double_eq_tol(ticks[i], expected[i], expected[i] * 1e-12);
}
END_TEST

START_TEST(log_ticks_one_decade)
{
    double ticks[16];
    const double decade[] = {1, 2, 5, 10};
    assert_ticks(ticks, plot_log_ticks(1, 10, ticks, 10), decade, 4);
    const double inside[] = {2, 5};
    assert_ticks(ticks, plot_log_ticks(2, 8, ticks, 10), inside, 2);
}
END_TEST

START_TEST(log_ticks_linear_fallback)
{
    double ticks[16];
    const double expected[] = {0.5, 0.55, 0.6, 0.65, 0.7};
    assert_ticks(ticks, plot_log_ticks(0.5, 0.7, ticks, 10), expected, 5);
}
END_TEST

START_TEST(log_ticks_invalid_ranges)
{
    double ticks[16];
    ck_assert_uint_eq(plot_log_ticks(0, 10, ticks, 10), 0);
    ck_assert_uint_eq(plot_log_ticks(-1, 10, ticks, 10), 0);
    ck_assert_uint_eq(plot_log_ticks(10, 1, ticks, 10), 0);
    ck_assert_uint_eq(plot_log_ticks(1, INFINITY, ticks, 10), 0);
}
END_TEST

/* A lognormal-looking CDF over four decades: x from 0.001 s to 10 s. */
static void fill_cdf(double *x, double *y, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        double z = -3 + 6.0 * (double)i / (double)(count - 1);
        x[i] = exp(-2.3 + 1.5 * z);
        y[i] = 0.5 * erfc(-z / sqrt(2));
    }
}

static bool write_cdf(const char *base, char *err, size_t err_size)
{
    double x[2][100], y[2][100];
    char path[256];
    fill_cdf(x[0], y[0], 100);
    fill_cdf(x[1], y[1], 100);
    for (size_t i = 0; i < 100; i++)
        x[1][i] *= 3;
    struct plot_line lines[] = {
        {"smtp in", x[0], y[0], 100},
        {"end to end", x[1], y[1], 100},
    };
    struct plot_spec spec = {"Delivery latency", "latency (s)",
                             "fraction of messages", true, false, 0, 1};
    snprintf(path, sizeof path, "%s/%s", temp_dir, base);
    return plot_write(path, &spec, lines, 2, err, err_size);
}

static void assert_png(const unsigned char *png, size_t size)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G',
                                               '\r', '\n', 0x1a, '\n'};
    ck_assert_ptr_nonnull(png);
    ck_assert_uint_gt(size, 33);
    ck_assert_mem_eq(png, signature, 8);
    ck_assert_mem_eq(png + 12, "IHDR", 4);
    uint32_t width = (uint32_t)png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19];
    uint32_t height = (uint32_t)png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23];
    ck_assert_uint_eq(width, PLOT_WIDTH);
    ck_assert_uint_eq(height, PLOT_HEIGHT);
    ck_assert(!contains(png, size, "Creation Time"));
}

START_TEST(write_log_cdf)
{
    char err[256] = "";
    size_t png_size, svg_size;
    ck_assert_msg(write_cdf("cdf", err, sizeof err), "%s", err);

    unsigned char *png = read_output("cdf", ".png", &png_size);
    unsigned char *svg = read_output("cdf", ".svg", &svg_size);
    assert_png(png, png_size);
    ck_assert_ptr_nonnull(svg);
    ck_assert(contains(svg, svg_size, "<svg"));
    ck_assert(contains(svg, svg_size, "#1f77b4"));   /* first line colour */
    ck_assert(contains(svg, svg_size, "#ff7f0e"));   /* second line colour */
    free(png);
    free(svg);
}
END_TEST

START_TEST(write_step_plot)
{
    double t[40], depth[40], other[40];
    char path[256], err[256] = "";
    size_t png_size, svg_size;
    for (size_t i = 0; i < 40; i++) {
        t[i] = 5.0 * (double)i;
        depth[i] = (double)((i * 7) % 13);
        other[i] = i == 20 ? NAN : (double)(i % 5);
    }
    struct plot_line lines[] = {
        {"mx1 queue", t, depth, 40},
        {"mx2 queue", t, other, 40},
    };
    struct plot_spec spec = {"Queue depth", "time (s)", "messages", false,
                             true, 0, NAN};
    snprintf(path, sizeof path, "%s/steps", temp_dir);
    ck_assert_msg(plot_write(path, &spec, lines, 2, err, sizeof err), "%s", err);

    unsigned char *png = read_output("steps", ".png", &png_size);
    unsigned char *svg = read_output("steps", ".svg", &svg_size);
    assert_png(png, png_size);
    ck_assert_ptr_nonnull(svg);
    ck_assert(contains(svg, svg_size, "<svg"));
    ck_assert(contains(svg, svg_size, "#ff7f0e"));
    free(png);
    free(svg);
}
END_TEST

START_TEST(write_same_input_same_bytes)
{
    char err[256] = "";
    size_t size_a, size_b;
    ck_assert_msg(write_cdf("a", err, sizeof err), "%s", err);
    ck_assert_msg(write_cdf("b", err, sizeof err), "%s", err);

    unsigned char *a = read_output("a", ".svg", &size_a);
    unsigned char *b = read_output("b", ".svg", &size_b);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(size_a, size_b);
    ck_assert_mem_eq(a, b, size_a);
    free(a);
    free(b);

    a = read_output("a", ".png", &size_a);
    b = read_output("b", ".png", &size_b);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(size_a, size_b);
    ck_assert_mem_eq(a, b, size_a);
    free(a);
    free(b);
}
END_TEST

START_TEST(write_degenerate_lines)
{
    double one_x[] = {5}, one_y[] = {3};
    double flat_x[] = {1, 2, 3}, flat_y[] = {7, 7, 7};
    double bad_x[] = {1, INFINITY, 3, NAN}, bad_y[] = {NAN, 2, 4, 1};
    struct plot_line lines[] = {
        {"empty", NULL, NULL, 0}, {"one", one_x, one_y, 1},
        {"flat", flat_x, flat_y, 3}, {NULL, bad_x, bad_y, 4},
    };
    struct plot_spec spec = {"Degenerate", "x", "y", false, false, NAN, NAN};
    char path[256], err[256] = "";
    size_t size;

    for (size_t count = 0; count <= 4; count++) {
        snprintf(path, sizeof path, "%s/degenerate%zu", temp_dir, count);
        ck_assert_msg(plot_write(path, &spec, lines, count, err, sizeof err),
                      "%zu lines: %s", count, err);
        snprintf(path, sizeof path, "degenerate%zu", count);
        unsigned char *png = read_output(path, ".png", &size);
        assert_png(png, size);
        free(png);
    }
}
END_TEST

START_TEST(write_invalid_y_range)
{
    double x[] = {1, 2}, y[] = {1, 2};
    struct plot_line line = {"line", x, y, 2};
    struct plot_spec spec = {"Bad", "x", "y", false, false, 5, 1};
    char path[256], err[256] = "";
    size_t size;

    snprintf(path, sizeof path, "%s/bad", temp_dir);
    ck_assert(!plot_write(path, &spec, &line, 1, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "y_min"));
    ck_assert_ptr_null(read_output("bad", ".png", &size));
    ck_assert_ptr_null(read_output("bad", ".svg", &size));
}
END_TEST

START_TEST(write_missing_directory)
{
    char path[256], err[256] = "";
    snprintf(path, sizeof path, "%s/no/such/dir/plot", temp_dir);
    struct plot_spec spec = {"T", "x", "y", false, false, NAN, NAN};
    ck_assert(!plot_write(path, &spec, NULL, 0, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "no/such/dir/plot.png"));
}
END_TEST

Suite *plot_suite(void);

Suite *plot_suite(void)
{
    Suite *suite = suite_create("plot");

    TCase *ticks = tcase_create("ticks");
    tcase_add_test(ticks, nice_ticks_unit_range);
    tcase_add_test(ticks, nice_ticks_coarse_step);
    tcase_add_test(ticks, nice_ticks_unaligned_range);
    tcase_add_test(ticks, nice_ticks_small_values);
    tcase_add_test(ticks, nice_ticks_zero_positive);
    tcase_add_test(ticks, nice_ticks_invalid_ranges);
    tcase_add_test(ticks, nice_ticks_within_limits);
    tcase_add_test(ticks, log_ticks_decades);
    tcase_add_test(ticks, log_ticks_skip_decades);
    tcase_add_test(ticks, log_ticks_one_decade);
    tcase_add_test(ticks, log_ticks_linear_fallback);
    tcase_add_test(ticks, log_ticks_invalid_ranges);
    suite_add_tcase(suite, ticks);

    TCase *files = tcase_create("files");
    tcase_add_checked_fixture(files, setup_dir, teardown_dir);
    tcase_set_timeout(files, 30);
    tcase_add_test(files, write_log_cdf);
    tcase_add_test(files, write_step_plot);
    tcase_add_test(files, write_same_input_same_bytes);
    tcase_add_test(files, write_degenerate_lines);
    tcase_add_test(files, write_invalid_y_range);
    tcase_add_test(files, write_missing_directory);
    suite_add_tcase(suite, files);
    return suite;
}

TEST_MAIN(plot_suite)
