/*
 * Line plots with GNU libplot.  User coordinates are pixels of the PNG image
 * with the origin at the bottom left: pl_fspace_r maps (0, 0)-(PLOT_WIDTH,
 * PLOT_HEIGHT) onto the whole image, and onto the whole 8 in x 6 in SVG page.
 */
#include "sim/plot.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <plot.h>

#define PLOT_MAX_TICKS 16
#define PLOT_X_TICKS 10
#define PLOT_Y_TICKS 8

/* Relative slack when deciding whether a tick lies inside a range, so that
 * rounding in lo / step does not drop a tick at the end of the range. */
#define TICK_EPS 1e-9

/* Layout in pixels. */
#define MARGIN_RIGHT 25
#define MARGIN_TOP 50
#define MARGIN_BOTTOM 65
#define TICK_LENGTH 6
#define MINOR_TICK_LENGTH 4
#define LEGEND_GAP 15
#define LEGEND_PAD 8
#define LEGEND_SAMPLE 28
#define LEGEND_ROW 20
#define LEGEND_TEXT_MAX 170

/* Pixel coordinates are clamped to this so that a point far outside a
 * fixed y range stays finite for clipping. */
#define PIXEL_LIMIT 1e7

/* Hershey fonts are built into libplot and drawn as strokes. */
#define FONT "HersheySans"
#define FONT_BOLD "HersheySans-Bold"
#define FONT_SIZE_TICK 13
#define FONT_SIZE_LABEL 15
#define FONT_SIZE_TITLE 18

/* Eight colours that stay distinct on white (the matplotlib "tab10" set
 * without its olive and cyan). */
static const unsigned char plot_palette[][3] = {
    {0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c},
    {0xd6, 0x27, 0x28}, {0x94, 0x67, 0xbd}, {0x8c, 0x56, 0x4b},
    {0xe3, 0x77, 0xc2}, {0x7f, 0x7f, 0x7f},
};
#define PALETTE_SIZE (sizeof plot_palette / sizeof plot_palette[0])

static const char *const plot_dash_styles[] = {
    "solid", "shortdashed", "dotdashed", "longdashed",
};
#define DASH_STYLE_COUNT (sizeof plot_dash_styles / sizeof plot_dash_styles[0])

struct axis {
    bool log;
    double lo, hi;               /* range in data units */
    double pixel_lo, pixel_hi;   /* where lo and hi are drawn */
    double ticks[PLOT_MAX_TICKS];
    size_t tick_count;
};

/* Everything one drawing needs.  The ranges are set once.  The pixel
 * positions and ticks are set per plotter because they use its font
 * metrics. */
struct chart {
    plPlotter *plotter;
    const struct plot_spec *spec;
    const struct plot_line *lines;
    size_t line_count;
    struct axis x, y;
};

struct point {
    double x, y;
};

/* Pen state while drawing one line, so that consecutive segments form one
 * path instead of one SVG element each. */
struct pen {
    bool down;
    struct point at;
};

/* Tick step mantissa x 10^exponent, kept apart so that multiples are
 * computed as k * mantissa / 10^-exponent (0.3, not 0.30000000000000004). */
struct step {
    int mantissa;
    int exponent;
};

__attribute__((format(printf, 3, 4)))
static void plot_error(char *err, size_t err_size, const char *format, ...)
{
    if (err == NULL || err_size == 0)
        return;
    va_list args;
    va_start(args, format);
    vsnprintf(err, err_size, format, args);
    va_end(args);
}

/* ---- Ranges and ticks ---------------------------------------------- */

static double step_multiple(struct step step, double k)
{
    if (step.exponent < 0)
        return k * step.mantissa / pow(10, -step.exponent);
    return k * step.mantissa * pow(10, step.exponent);
}

/* The smallest 1, 2, 5 x 10^k step with at most `max` multiples in
 * [lo, hi].  Requires lo < hi, hi - lo finite and max >= 1. */
static struct step nice_step(double lo, double hi, size_t max)
{
    static const int mantissas[] = {1, 2, 5};

    for (int exponent = (int)floor(log10((hi - lo) / (double)max));; exponent++) {
        for (size_t i = 0; i < 3; i++) {
            struct step step = {mantissas[i], exponent};
            double size = step_multiple(step, 1);
            double count = floor(hi / size + TICK_EPS) - ceil(lo / size - TICK_EPS) + 1;
            if (count <= (double)max)
                return step;
        }
    }
}

size_t plot_nice_ticks(double lo, double hi, double *ticks, size_t max)
{
    if (max == 0 || !isfinite(lo) || !isfinite(hi) || !(lo < hi) ||
        !isfinite(hi - lo))
        return 0;

    struct step step = nice_step(lo, hi, max);
    double size = step_multiple(step, 1);
    double last = floor(hi / size + TICK_EPS);
    size_t count = 0;
    for (double k = ceil(lo / size - TICK_EPS); k <= last && count < max; k++)
        ticks[count++] = step_multiple(step, k) + 0.0;  /* -0.0 becomes 0 */
    return count;
}

static size_t decade_ticks(int first, int last, double *ticks, size_t max)
{
    size_t decades = (size_t)(last - first + 1);
    int stride = (int)((decades + max - 1) / max);
    size_t count = 0;

    for (int k = first; k <= last && count < max; k++) {
        if (k % stride == 0)
            ticks[count++] = pow(10, k);
    }
    return count;
}

static size_t one_two_five_ticks(double lo, double hi, double *ticks,
                                 size_t max)
{
    static const int mantissas[] = {1, 2, 5};
    int last = (int)floor(log10(hi));
    size_t count = 0;

    for (int exponent = (int)floor(log10(lo)); exponent <= last; exponent++) {
        for (size_t i = 0; i < 3 && count < max; i++) {
            double tick = step_multiple((struct step){mantissas[i], exponent}, 1);
            if (tick >= lo * (1 - TICK_EPS) && tick <= hi * (1 + TICK_EPS))
                ticks[count++] = tick;
        }
    }
    return count;
}

size_t plot_log_ticks(double lo, double hi, double *ticks, size_t max)
{
    if (max == 0 || !(lo > 0) || !isfinite(hi) || !(lo < hi))
        return 0;

    int first = (int)ceil(log10(lo) - TICK_EPS);
    int last = (int)floor(log10(hi) + TICK_EPS);
    if (last - first >= 2)
        return decade_ticks(first, last, ticks, max);

    size_t count = one_two_five_ticks(lo, hi, ticks, max);
    if (count >= 2)
        return count;
    return plot_nice_ticks(lo, hi, ticks, max);
}

/* Widens a log range to whole decades.  With no data it is 1 to 10. */
static void axis_set_log_range(struct axis *axis, double lo, double hi)
{
    axis->lo = isnan(lo) ? 1 : pow(10, floor(log10(lo) + TICK_EPS));
    axis->hi = isnan(hi) ? 10 : pow(10, ceil(log10(hi) - TICK_EPS));
    if (!(axis->hi > axis->lo))
        axis->hi = axis->lo * 10;
}

/* Widens the automatic ends of [lo, hi] to multiples of the tick step.
 * Widening can make the range need a larger step, so this repeats with the
 * step of the widened range until the step stays the same.  Steps only
 * grow, so a few rounds suffice. */
static void axis_widen_to_ticks(struct axis *axis, double lo, double hi,
                                bool auto_lo, bool auto_hi)
{
    axis->lo = lo;
    axis->hi = hi;
    for (int round = 0; round < 8; round++) {
        struct step step = nice_step(axis->lo, axis->hi, PLOT_Y_TICKS);
        double size = step_multiple(step, 1);
        double new_lo = auto_lo ? step_multiple(step, floor(lo / size + TICK_EPS)) : lo;
        double new_hi = auto_hi ? step_multiple(step, ceil(hi / size - TICK_EPS)) : hi;
        if (new_lo == axis->lo && new_hi == axis->hi)
            return;
        axis->lo = new_lo;
        axis->hi = new_hi;
    }
}

/* Sets a linear range from the data range [lo, hi] (NAN without data).
 * Fixed ends (not NAN) are kept.  Automatic ends are padded when the range
 * is empty and then widened to the next tick.  Returns false when both
 * ends are fixed and lo >= hi, or when the range is not finite. */
static bool axis_set_linear_range(struct axis *axis, double lo, double hi,
                                  double fixed_lo, double fixed_hi)
{
    bool auto_lo = isnan(fixed_lo), auto_hi = isnan(fixed_hi);

    lo = auto_lo ? lo : fixed_lo;
    hi = auto_hi ? hi : fixed_hi;
    if (isnan(lo) && isnan(hi)) {
        lo = 0;
        hi = 1;
    }
    if (isnan(lo) || isnan(hi) || !(lo < hi)) {
        double base = auto_lo ? hi : lo;   /* the fixed end or the one value */
        double pad = base == 0 ? 1 : fabs(base) * 0.1;
        if (!auto_lo && !auto_hi)
            return false;
        lo = auto_lo ? base - pad : lo;
        hi = auto_hi ? base + pad : hi;
    }
    if (!isfinite(lo) || !isfinite(hi) || !isfinite(hi - lo))
        return false;
    axis_widen_to_ticks(axis, lo, hi, auto_lo, auto_hi);
    return true;
}

static double axis_pixel(const struct axis *axis, double value)
{
    double lo = axis->lo, hi = axis->hi;
    if (axis->log) {
        lo = log10(lo);
        hi = log10(hi);
        value = log10(value);
    }
    double pixel = axis->pixel_lo +
                   (value - lo) / (hi - lo) * (axis->pixel_hi - axis->pixel_lo);
    return fmin(fmax(pixel, -PIXEL_LIMIT), PIXEL_LIMIT);
}

/* Formats a tick label with as many decimals as the tick step needs. */
static void format_tick(const struct axis *axis, double value, char *text,
                        size_t size)
{
    double magnitude = fmax(fabs(axis->lo), fabs(axis->hi));
    double step = axis->tick_count >= 2 ? axis->ticks[1] - axis->ticks[0] : 1;
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - TICK_EPS);

    if (axis->log || magnitude >= 1e6 || decimals > 6)
        snprintf(text, size, "%g", value);
    else
        snprintf(text, size, "%.*f", decimals, value);
}

static double widest_tick_label(plPlotter *plotter, const struct axis *axis)
{
    char text[32];
    double widest = 0;
    for (size_t i = 0; i < axis->tick_count; i++) {
        format_tick(axis, axis->ticks[i], text, sizeof text);
        widest = fmax(widest, pl_flabelwidth_r(plotter, text));
    }
    return widest;
}

static void axis_compute_ticks(struct axis *axis, size_t max)
{
    axis->tick_count = axis->log
        ? plot_log_ticks(axis->lo, axis->hi, axis->ticks, max)
        : plot_nice_ticks(axis->lo, axis->hi, axis->ticks, max);
}

/* Picks x ticks whose labels do not overlap: fewer ticks until they fit.
 * Requires the tick font to be selected. */
static void axis_compute_x_ticks(plPlotter *plotter, struct axis *axis)
{
    for (size_t max = PLOT_X_TICKS; max >= 2; max--) {
        axis_compute_ticks(axis, max);
        double spacing = axis->pixel_hi - axis->pixel_lo;
        for (size_t i = 1; i < axis->tick_count; i++) {
            spacing = fmin(spacing, axis_pixel(axis, axis->ticks[i]) -
                                    axis_pixel(axis, axis->ticks[i - 1]));
        }
        if (widest_tick_label(plotter, axis) + 12 <= spacing)
            return;
    }
}

/* ---- Data lines ---------------------------------------------------- */

static bool point_usable(const struct plot_spec *spec,
                         const struct plot_line *line, size_t i)
{
    double x = line->x[i], y = line->y[i];
    return isfinite(x) && isfinite(y) && (!spec->x_log || x > 0);
}

/* Sets x and y ranges from the usable points and the spec. */
static bool chart_set_ranges(struct chart *chart, char *err, size_t err_size)
{
    double x_lo = NAN, x_hi = NAN, y_lo = NAN, y_hi = NAN;
    for (size_t l = 0; l < chart->line_count; l++) {
        const struct plot_line *line = &chart->lines[l];
        for (size_t i = 0; i < line->count; i++) {
            if (!point_usable(chart->spec, line, i))
                continue;
            /* fmin and fmax return the other argument when one is NAN. */
            x_lo = fmin(x_lo, line->x[i]);
            x_hi = fmax(x_hi, line->x[i]);
            y_lo = fmin(y_lo, line->y[i]);
            y_hi = fmax(y_hi, line->y[i]);
        }
    }

    const struct plot_spec *spec = chart->spec;
    if (isinf(spec->y_min) || isinf(spec->y_max) || spec->y_min >= spec->y_max) {
        plot_error(err, err_size, "invalid y range: y_min (%g) must be less than y_max (%g), and each finite or NAN for automatic",
                   spec->y_min, spec->y_max);
        return false;
    }
    chart->x.log = spec->x_log;
    if (chart->x.log)
        axis_set_log_range(&chart->x, x_lo, x_hi);
    else if (!axis_set_linear_range(&chart->x, x_lo, x_hi, NAN, NAN)) {
        plot_error(err, err_size, "x values from %g to %g span more than a double can hold", x_lo, x_hi);
        return false;
    }
    if (!axis_set_linear_range(&chart->y, y_lo, y_hi, spec->y_min, spec->y_max)) {
        plot_error(err, err_size, "y values from %g to %g span more than a double can hold", y_lo, y_hi);
        return false;
    }
    return true;
}

static void set_line_style(plPlotter *plotter, size_t index)
{
    const unsigned char *rgb = plot_palette[index % PALETTE_SIZE];
    pl_pencolor_r(plotter, rgb[0] * 257, rgb[1] * 257, rgb[2] * 257);
    pl_fillcolor_r(plotter, rgb[0] * 257, rgb[1] * 257, rgb[2] * 257);
    pl_linemod_r(plotter, plot_dash_styles[(index / PALETTE_SIZE) % DASH_STYLE_COUNT]);
    pl_flinewidth_r(plotter, 2);
}

/* Clips segment a-b to the plot area (Liang-Barsky).  Returns false when
 * nothing is left.  Ends inside the area are kept bit for bit, so that the
 * next segment starts exactly where this one ended. */
static bool clip_segment(const struct chart *chart, struct point *a,
                         struct point *b)
{
    double dx = b->x - a->x, dy = b->y - a->y;
    double p[4] = {-dx, dx, -dy, dy};
    double q[4] = {a->x - chart->x.pixel_lo, chart->x.pixel_hi - a->x,
                   a->y - chart->y.pixel_lo, chart->y.pixel_hi - a->y};
    double t0 = 0, t1 = 1;

    for (size_t i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0)
                return false;
            continue;
        }
        double t = q[i] / p[i];
        if (p[i] < 0 && t > t0)
            t0 = t;
        else if (p[i] > 0 && t < t1)
            t1 = t;
        if (t0 > t1)
            return false;
    }
    struct point start = *a;
    if (t1 < 1)
        *b = (struct point){start.x + t1 * dx, start.y + t1 * dy};
    if (t0 > 0)
        *a = (struct point){start.x + t0 * dx, start.y + t0 * dy};
    return true;
}

static void pen_segment(const struct chart *chart, struct pen *pen,
                        struct point a, struct point b)
{
    if (!clip_segment(chart, &a, &b)) {
        pen->down = false;
        return;
    }
    /* pl_fmove_r ends the path in progress and starts a new one. */
    if (!pen->down || a.x != pen->at.x || a.y != pen->at.y)
        pl_fmove_r(chart->plotter, a.x, a.y);
    pl_fcont_r(chart->plotter, b.x, b.y);
    pen->down = true;
    pen->at = b;
}

static struct point line_point(const struct chart *chart,
                               const struct plot_line *line, size_t i)
{
    return (struct point){axis_pixel(&chart->x, line->x[i]),
                          axis_pixel(&chart->y, line->y[i])};
}

/* Draws a dot for a point with no usable neighbour, which no segment
 * would show. */
static void draw_lone_point(const struct chart *chart, struct point at)
{
    if (at.x < chart->x.pixel_lo || at.x > chart->x.pixel_hi ||
        at.y < chart->y.pixel_lo || at.y > chart->y.pixel_hi)
        return;
    pl_endpath_r(chart->plotter);
    pl_fmarker_r(chart->plotter, at.x, at.y, 16 /* filled circle */, 10);
}

static void draw_line(const struct chart *chart, size_t index)
{
    const struct plot_spec *spec = chart->spec;
    const struct plot_line *line = &chart->lines[index];
    struct pen pen = {false, {0, 0}};

    set_line_style(chart->plotter, index);
    for (size_t i = 0; i < line->count; i++) {
        bool prev = i > 0 && point_usable(spec, line, i - 1);
        bool next = i + 1 < line->count && point_usable(spec, line, i + 1);
        if (!point_usable(spec, line, i) || !next) {
            pen.down = false;
            if (point_usable(spec, line, i) && !prev)
                draw_lone_point(chart, line_point(chart, line, i));
            continue;
        }
        struct point a = line_point(chart, line, i);
        struct point b = line_point(chart, line, i + 1);
        if (spec->steps) {
            struct point corner = {b.x, a.y};
            pen_segment(chart, &pen, a, corner);
            pen_segment(chart, &pen, corner, b);
        } else {
            pen_segment(chart, &pen, a, b);
        }
    }
    pl_endpath_r(chart->plotter);
}

/* ---- Frame, axes and titles ---------------------------------------- */

static void set_pen(plPlotter *plotter, int grey, double width)
{
    pl_pencolor_r(plotter, grey * 257, grey * 257, grey * 257);
    pl_linemod_r(plotter, "solid");
    pl_flinewidth_r(plotter, width);
}

static void draw_grid(const struct chart *chart)
{
    set_pen(chart->plotter, 0xdd, 1);
    for (size_t i = 0; i < chart->x.tick_count; i++) {
        double x = axis_pixel(&chart->x, chart->x.ticks[i]);
        pl_fline_r(chart->plotter, x, chart->y.pixel_lo, x, chart->y.pixel_hi);
    }
    for (size_t i = 0; i < chart->y.tick_count; i++) {
        double y = axis_pixel(&chart->y, chart->y.ticks[i]);
        pl_fline_r(chart->plotter, chart->x.pixel_lo, y, chart->x.pixel_hi, y);
    }
    pl_endpath_r(chart->plotter);
}

/* Unlabelled ticks at 2..9 x 10^k unless labelled ticks skip decades. */
static void draw_log_minor_ticks(const struct chart *chart)
{
    const struct axis *x = &chart->x;
    if (x->tick_count < 2 || x->ticks[1] / x->ticks[0] > 10 * (1 + 1e-6))
        return;
    for (int e = (int)floor(log10(x->lo)); e < (int)ceil(log10(x->hi)); e++) {
        for (int m = 2; m <= 9; m++) {
            double value = step_multiple((struct step){m, e}, 1);
            if (value <= x->lo || value >= x->hi)
                continue;
            double px = axis_pixel(x, value);
            pl_fline_r(chart->plotter, px, chart->y.pixel_lo, px,
                       chart->y.pixel_lo - MINOR_TICK_LENGTH);
        }
    }
}

/* Draws the frame, tick marks outside it and tick labels. */
static void draw_axes(const struct chart *chart)
{
    plPlotter *plotter = chart->plotter;
    char text[32];

    set_pen(plotter, 0, 1);
    pl_ffontsize_r(plotter, FONT_SIZE_TICK);
    for (size_t i = 0; i < chart->x.tick_count; i++) {
        double x = axis_pixel(&chart->x, chart->x.ticks[i]);
        pl_fline_r(plotter, x, chart->y.pixel_lo, x, chart->y.pixel_lo - TICK_LENGTH);
        format_tick(&chart->x, chart->x.ticks[i], text, sizeof text);
        pl_fmove_r(plotter, x, chart->y.pixel_lo - TICK_LENGTH - 5);
        pl_alabel_r(plotter, 'c', 't', text);
    }
    if (chart->x.log)
        draw_log_minor_ticks(chart);
    for (size_t i = 0; i < chart->y.tick_count; i++) {
        double y = axis_pixel(&chart->y, chart->y.ticks[i]);
        pl_fline_r(plotter, chart->x.pixel_lo - TICK_LENGTH, y, chart->x.pixel_lo, y);
        format_tick(&chart->y, chart->y.ticks[i], text, sizeof text);
        pl_fmove_r(plotter, chart->x.pixel_lo - TICK_LENGTH - 5, y);
        pl_alabel_r(plotter, 'r', 'c', text);
    }
    pl_filltype_r(plotter, 0);
    pl_fbox_r(plotter, chart->x.pixel_lo, chart->y.pixel_lo,
              chart->x.pixel_hi, chart->y.pixel_hi);
}

static void draw_titles(const struct chart *chart)
{
    plPlotter *plotter = chart->plotter;
    const struct plot_spec *spec = chart->spec;
    double center_x = (chart->x.pixel_lo + chart->x.pixel_hi) / 2;
    double center_y = (chart->y.pixel_lo + chart->y.pixel_hi) / 2;

    set_pen(plotter, 0, 1);
    if (spec->title != NULL) {
        pl_ffontname_r(plotter, FONT_BOLD);
        pl_ffontsize_r(plotter, FONT_SIZE_TITLE);
        pl_fmove_r(plotter, center_x, PLOT_HEIGHT - MARGIN_TOP / 2.0);
        pl_alabel_r(plotter, 'c', 'c', spec->title);
        pl_ffontname_r(plotter, FONT);
    }
    pl_ffontsize_r(plotter, FONT_SIZE_LABEL);
    if (spec->x_label != NULL) {
        pl_fmove_r(plotter, center_x, 14);
        pl_alabel_r(plotter, 'c', 'b', spec->x_label);
    }
    if (spec->y_label != NULL) {
        /* Turned a quarter turn, "top" justification puts the top of the
         * letters at the given x. */
        pl_ftextangle_r(plotter, 90);
        pl_fmove_r(plotter, 12, center_y);
        pl_alabel_r(plotter, 'c', 't', spec->y_label);
        pl_ftextangle_r(plotter, 0);
    }
}

/* ---- Legend -------------------------------------------------------- */

/* Whether the line gets a legend entry: it needs a label and a usable
 * point.  Colours follow the line's index whether or not it is listed. */
static bool in_legend(const struct chart *chart, size_t index)
{
    const struct plot_line *line = &chart->lines[index];
    if (line->label == NULL || line->label[0] == '\0')
        return false;
    for (size_t i = 0; i < line->count; i++) {
        if (point_usable(chart->spec, line, i))
            return true;
    }
    return false;
}

/* Copies `label` into `text`, shortened with ".." to LEGEND_TEXT_MAX
 * pixels.  Requires the legend font to be selected. */
static void legend_fit_label(plPlotter *plotter, const char *label,
                             char *text, size_t size)
{
    snprintf(text, size, "%s", label);
    size_t length = strlen(text);
    while (length > 3 && pl_flabelwidth_r(plotter, text) > LEGEND_TEXT_MAX) {
        length--;
        memcpy(text + length - 2, "..", 3);
    }
}

/* Width taken from the plot area by the legend, 0 when it has no row. */
static double legend_width(const struct chart *chart)
{
    char text[128];
    double widest = -1;

    pl_ffontsize_r(chart->plotter, FONT_SIZE_TICK);
    for (size_t i = 0; i < chart->line_count; i++) {
        if (!in_legend(chart, i))
            continue;
        legend_fit_label(chart->plotter, chart->lines[i].label, text, sizeof text);
        widest = fmax(widest, pl_flabelwidth_r(chart->plotter, text));
    }
    return widest < 0 ? 0 : LEGEND_GAP + 3 * LEGEND_PAD + LEGEND_SAMPLE + widest;
}

/* Draws a legend row: a line sample when `index` names a line, and text. */
static void draw_legend_row(const struct chart *chart, size_t row,
                            size_t index, const char *text)
{
    double left = chart->x.pixel_hi + LEGEND_GAP;
    double y = chart->y.pixel_hi - LEGEND_PAD - (row + 0.5) * LEGEND_ROW;

    if (index < chart->line_count) {
        set_line_style(chart->plotter, index);
        pl_fline_r(chart->plotter, left + LEGEND_PAD, y,
                   left + LEGEND_PAD + LEGEND_SAMPLE, y);
        pl_endpath_r(chart->plotter);
    }
    set_pen(chart->plotter, 0, 1);
    pl_fmove_r(chart->plotter, left + 2 * LEGEND_PAD + LEGEND_SAMPLE, y);
    pl_alabel_r(chart->plotter, 'l', 'c', text);
}

/* Draws the legend right of the plot area.  When the rows do not all fit,
 * the last row shows how many lines were left out. */
static void draw_legend(const struct chart *chart)
{
    size_t entries = 0;
    for (size_t i = 0; i < chart->line_count; i++)
        entries += in_legend(chart, i);
    size_t room = (size_t)((chart->y.pixel_hi - chart->y.pixel_lo -
                            2 * LEGEND_PAD) / LEGEND_ROW);
    size_t rows = entries < room ? entries : room;
    if (rows == 0)
        return;
    size_t listed = entries > rows ? rows - 1 : rows;

    double top = chart->y.pixel_hi;
    set_pen(chart->plotter, 0, 1);
    pl_filltype_r(chart->plotter, 0);
    pl_fbox_r(chart->plotter, chart->x.pixel_hi + LEGEND_GAP,
              top - 2 * LEGEND_PAD - rows * LEGEND_ROW, PLOT_WIDTH - MARGIN_RIGHT, top);
    pl_ffontsize_r(chart->plotter, FONT_SIZE_TICK);

    char text[128];
    size_t row = 0;
    for (size_t i = 0; i < chart->line_count && row < listed; i++) {
        if (!in_legend(chart, i))
            continue;
        legend_fit_label(chart->plotter, chart->lines[i].label, text, sizeof text);
        draw_legend_row(chart, row++, i, text);
    }
    if (listed < rows) {
        snprintf(text, sizeof text, "(%zu more)", entries - listed);
        draw_legend_row(chart, listed, SIZE_MAX, text);
    }
}

/* ---- Rendering and output ------------------------------------------ */

/* Places the plot area (the y tick labels set the left margin and the
 * legend the right one) and picks the ticks. */
static void chart_layout(struct chart *chart)
{
    chart->y.pixel_lo = MARGIN_BOTTOM;
    chart->y.pixel_hi = PLOT_HEIGHT - MARGIN_TOP;
    axis_compute_ticks(&chart->y, PLOT_Y_TICKS);

    pl_ffontsize_r(chart->plotter, FONT_SIZE_TICK);
    double y_labels = widest_tick_label(chart->plotter, &chart->y);
    chart->x.pixel_lo = 12 + FONT_SIZE_LABEL + 12 + y_labels + 5 + TICK_LENGTH;
    chart->x.pixel_hi = PLOT_WIDTH - MARGIN_RIGHT - legend_width(chart);
    pl_ffontsize_r(chart->plotter, FONT_SIZE_TICK);
    axis_compute_x_ticks(chart->plotter, &chart->x);
}

static bool chart_draw(struct chart *chart)
{
    if (pl_openpl_r(chart->plotter) < 0)
        return false;
    pl_fspace_r(chart->plotter, 0, 0, PLOT_WIDTH, PLOT_HEIGHT);
    pl_erase_r(chart->plotter);
    pl_ffontname_r(chart->plotter, FONT);
    chart_layout(chart);

    draw_grid(chart);
    for (size_t i = 0; i < chart->line_count; i++)
        draw_line(chart, i);
    draw_axes(chart);
    draw_titles(chart);
    draw_legend(chart);
    return pl_closepl_r(chart->plotter) >= 0;
}

/* Runs a libplot plotter of `type` ("png" or "svg") writing to `out`.
 * Every parameter that changes the output is set here, because libplot
 * reads unset ones from environment variables of the same name.
 * NOTE: libplot 4.4 (Debian plotutils 2.6-13) leaks about 1 KB per PNG
 * plotter, its copy of the parameters and libpng's info struct, as
 * AddressSanitizer shows.  No libplot call frees them. */
static bool chart_render(struct chart chart, const char *type, FILE *out)
{
    plPlotterParams *params = pl_newplparams();
    if (params == NULL)
        return false;
    pl_setplparam(params, "BITMAPSIZE", "800x600");
    pl_setplparam(params, "PAGESIZE", "letter,xsize=8in,ysize=6in");
    pl_setplparam(params, "BG_COLOR", "white");
    pl_setplparam(params, "INTERLACE", "no");
    pl_setplparam(params, "EMULATE_COLOR", "no");
    pl_setplparam(params, "MAX_LINE_LENGTH", "500");

    bool ok = false;
    chart.plotter = pl_newpl_r(type, NULL, out, stderr, params);
    if (chart.plotter != NULL) {
        ok = chart_draw(&chart);
        ok = pl_deletepl_r(chart.plotter) >= 0 && ok;
    }
    pl_deleteplparams(params);
    return ok;
}

static bool png_is_creation_time(const unsigned char *chunk, uint32_t length)
{
    static const char keyword[] = "Creation Time";  /* with its NUL */
    return memcmp(chunk + 4, "tEXt", 4) == 0 && length >= sizeof keyword &&
           memcmp(chunk + 8, keyword, sizeof keyword) == 0;
}

/* Writes the PNG stream `data` to `out` without the "Creation Time" text
 * chunk, which is ancillary, so dropping it leaves a valid file.  Returns
 * false on malformed data or a write error. */
static bool png_copy_reproducible(FILE *out, const unsigned char *data,
                                  size_t size)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G',
                                               '\r', '\n', 0x1a, '\n'};
    if (size < 8 || memcmp(data, signature, 8) != 0)
        return false;
    fwrite(data, 1, 8, out);
    for (size_t offset = 8; offset < size;) {
        const unsigned char *chunk = data + offset;
        if (size - offset < 12)
            return false;
        uint32_t length = (uint32_t)chunk[0] << 24 | (uint32_t)chunk[1] << 16 |
                          (uint32_t)chunk[2] << 8 | chunk[3];
        if (length > size - offset - 12)
            return false;
        if (!png_is_creation_time(chunk, length))
            fwrite(chunk, 1, 12 + (size_t)length, out);
        offset += 12 + (size_t)length;
    }
    return !ferror(out);
}

/* Renders into memory first, so a libplot failure leaves no file behind
 * and the PNG can be filtered on the way out. */
static bool chart_write(const struct chart *chart, const char *path,
                        const char *type, char *err, size_t err_size)
{
    char *data = NULL;
    size_t size = 0;
    FILE *memory = open_memstream(&data, &size);
    if (memory == NULL) {
        plot_error(err, err_size, "open_memstream failed: %s", strerror(errno));
        return false;
    }
    bool ok = chart_render(*chart, type, memory);
    ok = fclose(memory) == 0 && ok;
    FILE *out = ok ? fopen(path, "wb") : NULL;
    if (out == NULL) {
        if (ok)
            plot_error(err, err_size, "creating %s failed: %s", path, strerror(errno));
        else
            plot_error(err, err_size, "libplot failed to draw %s", path);
        free(data);
        return false;
    }

    if (strcmp(type, "png") == 0)
        ok = png_copy_reproducible(out, (const unsigned char *)data, size);
    else
        ok = fwrite(data, 1, size, out) == size;
    ok = fclose(out) == 0 && ok;
    free(data);
    if (!ok) {
        plot_error(err, err_size, "failed to write %s (disk full, or malformed PNG data from libplot)", path);
        remove(path);
    }
    return ok;
}

bool plot_write(const char *base_path, const struct plot_spec *spec,
                const struct plot_line *lines, size_t line_count,
                char *err, size_t err_size)
{
    struct chart chart = {.spec = spec, .lines = lines, .line_count = line_count};
    char path[4096];

    if (!chart_set_ranges(&chart, err, err_size))
        return false;
    if (snprintf(path, sizeof path, "%s.png", base_path) >= (int)sizeof path) {
        plot_error(err, err_size, "plot path too long (%zu bytes): %s",
                   strlen(base_path), base_path);
        return false;
    }
    if (!chart_write(&chart, path, "png", err, err_size))
        return false;
    snprintf(path, sizeof path, "%s.svg", base_path);
    return chart_write(&chart, path, "svg", err, err_size);
}
