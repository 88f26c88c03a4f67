/*
 * Line plots drawn with GNU libplot and written as PNG and SVG.
 *
 * Text uses libplot's built-in Hershey vector fonts, so the output does not
 * depend on the fonts installed.  The same input gives byte-identical SVG and
 * PNG files: libplot stamps PNG files with a "Creation Time" text chunk, and
 * plot_write removes that chunk.
 */
#ifndef MAILSIM_PLOT_H
#define MAILSIM_PLOT_H

#include <stdbool.h>
#include <stddef.h>

/* Size of the PNG image in pixels.  The SVG image has the same aspect
 * ratio (8 in by 6 in). */
#define PLOT_WIDTH  800
#define PLOT_HEIGHT 600

/* One line of a plot: `count` points (x[i], y[i]).  Points where x or y is
 * NaN or infinite, or where x <= 0 on a logarithmic x axis, are skipped and
 * break the line.  A line without a label is drawn but has no legend entry. */
struct plot_line {
    const char *label;
    const double *x;
    const double *y;
    size_t count;
};

struct plot_spec {
    const char *title;
    const char *x_label;   /* with unit, e.g. "latency (s)" */
    const char *y_label;
    bool x_log;            /* logarithmic x axis (latency CDFs span decades) */
    bool steps;            /* hold each y until the next x (queue depth) */
    double y_min, y_max;   /* NAN for automatic */
};

/* Draws the lines and writes BASE.png (PLOT_WIDTH x PLOT_HEIGHT pixels) and
 * BASE.svg.  Lines get distinct colours, and after eight lines the colours
 * repeat with dashes.  With no usable points the frame is drawn over a default
 * range.  Returns false and fills `err` on failure. */
bool plot_write(const char *base_path, const struct plot_spec *spec,
                const struct plot_line *lines, size_t line_count,
                char *err, size_t err_size);

/* Fills `ticks` with at most `max` values in [lo, hi] that are multiples of
 * the smallest step of the form 1, 2 or 5 x 10^k that allows that.  Returns
 * the number of ticks, or 0 when the range is empty or not finite. */
size_t plot_nice_ticks(double lo, double hi, double *ticks, size_t max);

/* Fills `ticks` for a logarithmic axis with the powers of ten in [lo, hi],
 * every n-th one when more than `max` fit.  A range that contains fewer than
 * three powers of ten gets 1, 2, 5 x 10^k instead, and one with fewer than
 * two of those gets plot_nice_ticks.  Returns the number of ticks, or 0
 * unless 0 < lo < hi and hi is finite. */
size_t plot_log_ticks(double lo, double hi, double *ticks, size_t max);

#endif
