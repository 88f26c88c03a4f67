#include "sim/units.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit {
    const char *name;
    double factor;             /* result units per unit */
};

/* Accepted units and message wording of one kind of quantity. */
struct quantity {
    const char *noun;          /* "duration" */
    const char *examples;      /* "250ms, 5m or 4h" */
    const char *unit_names;    /* "ns, us, ms, s, m, min, h or d" */
    const struct unit *units;
    size_t unit_count;
    double limit;              /* results must be below this */
    const char *limit_text;    /* the largest accepted value, for messages */
};

static const struct unit duration_units[] = {
    { "ns", 1.0 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
    { "m", 60e9 }, { "min", 60e9 }, { "h", 3600e9 }, { "d", 86400e9 },
};

static const struct unit size_units[] = {
    { "B", 1.0 },
    { "kB", 1e3 }, { "KB", 1e3 }, { "MB", 1e6 }, { "GB", 1e9 }, { "TB", 1e12 },
    { "KiB", 1024.0 }, { "MiB", 1048576.0 }, { "GiB", 1073741824.0 },
    { "TiB", 1099511627776.0 },
};

static const struct unit rate_units[] = {
    { "/s", 1.0 }, { "/min", 1.0 / 60 }, { "/h", 1.0 / 3600 },
    { "/d", 1.0 / 86400 },
};

static const struct unit bandwidth_units[] = {
    { "B/s", 1.0 },
    { "kB/s", 1e3 }, { "KB/s", 1e3 }, { "MB/s", 1e6 }, { "GB/s", 1e9 },
    { "TB/s", 1e12 },
    { "KiB/s", 1024.0 }, { "MiB/s", 1048576.0 }, { "GiB/s", 1073741824.0 },
    { "bit/s", 1.0 / 8 },
    { "kbit/s", 1e3 / 8 }, { "Kbit/s", 1e3 / 8 }, { "Mbit/s", 1e6 / 8 },
    { "Gbit/s", 1e9 / 8 }, { "Tbit/s", 1e12 / 8 },
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static const struct quantity duration_quantity = {
    "duration", "250ms, 5m or 4h", "ns, us, ms, s, m, min, h or d",
    duration_units, COUNT(duration_units),
    9223372036854775808.0,     /* 2^63 ns */
    "106751d",
};

static const struct quantity size_quantity = {
    "size", "75KB, 10MB or 25MiB", "B, kB, KB, MB, GB, TB, KiB, MiB, GiB or TiB",
    size_units, COUNT(size_units),
    18446744073709551616.0,    /* 2^64 bytes */
    "16EiB",
};

static const struct quantity rate_quantity = {
    "rate", "20/s, 5/min, 30/h or 100/d", "/s, /min, /h or /d",
    rate_units, COUNT(rate_units),
    1e18,
    "1e18/s",
};

static const struct quantity bandwidth_quantity = {
    "bandwidth", "12.5MB/s, 100Mbit/s or 1Gbit/s",
    "B/s, kB/s, KB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s, bit/s, kbit/s, "
    "Kbit/s, Mbit/s, Gbit/s or Tbit/s",
    bandwidth_units, COUNT(bandwidth_units),
    1e18,
    "1e18B/s",
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static const char *skip_digits(const char *p)
{
    while (is_digit(*p))
        p++;
    return p;
}

/* Scans [sign] digits [. digits] [e [sign] digits] at the start of `text`,
 * with at least one digit before the exponent.  Returns the end of the
 * number, or NULL when `text` does not start with one.  Only this decimal
 * form is passed on, so strtod never parses "0x", "inf" or "nan". */
static const char *scan_number(const char *text, double *value)
{
    const char *p = text;
    if (*p == '+' || *p == '-')
        p++;
    const char *integer_end = skip_digits(p);
    bool has_digits = integer_end > p;
    p = integer_end;
    if (*p == '.') {
        const char *fraction_end = skip_digits(p + 1);
        has_digits = has_digits || fraction_end > p + 1;
        p = fraction_end;
    }
    if (!has_digits)
        return NULL;
    if (*p == 'e' || *p == 'E') {
        const char *exponent = p + 1;
        if (*exponent == '+' || *exponent == '-')
            exponent++;
        if (is_digit(*exponent))
            p = skip_digits(exponent);
    }

    char buffer[128];
    size_t length = (size_t)(p - text);
    if (length >= sizeof buffer)
        return NULL;
    memcpy(buffer, text, length);
    buffer[length] = '\0';
    /* Overflow gives HUGE_VAL, which the callers reject as too large. */
    *value = strtod(buffer, NULL);
    return p;
}

bool units_parse_number(const char *text, double *value)
{
    double number = 0;
    const char *end = scan_number(text, &number);
    if (end == NULL || *end != '\0' || !isfinite(number))
        return false;
    *value = number;
    return true;
}

static bool fail(char *error, size_t error_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *error, size_t error_size, const char *format, ...)
{
    if (error_size > 0) {
        va_list args;
        va_start(args, format);
        vsnprintf(error, error_size, format, args);
        va_end(args);
    }
    return false;
}

static const struct unit *find_unit(const struct quantity *quantity,
                                    const char *name)
{
    for (size_t i = 0; i < quantity->unit_count; i++) {
        if (strcmp(quantity->units[i].name, name) == 0)
            return &quantity->units[i];
    }
    return NULL;
}

/* Parses "<number> [spaces] <unit>" into number * unit factor, checked
 * against the quantity's range. */
static bool parse_quantity(const char *text, const struct quantity *quantity,
                           double *result, char *error, size_t error_size)
{
    double number = 0;
    const char *end = scan_number(text, &number);
    if (end == NULL)
        return fail(error, error_size, "found '%s', expected a %s such as %s",
                    text, quantity->noun, quantity->examples);

    const char *unit_name = end;
    while (*unit_name == ' ')
        unit_name++;
    if (*unit_name == '\0')
        return fail(error, error_size,
                    "found '%s', a number without a unit, expected a %s such as %s",
                    text, quantity->noun, quantity->examples);

    const struct unit *unit = find_unit(quantity, unit_name);
    if (unit == NULL)
        return fail(error, error_size,
                    "found '%s' with unknown unit '%s', expected a %s in %s",
                    text, unit_name, quantity->noun, quantity->unit_names);
    if (number < 0)
        return fail(error, error_size,
                    "found '%s', expected a non-negative %s such as %s",
                    text, quantity->noun, quantity->examples);

    double value = number * unit->factor;
    if (!(value < quantity->limit))
        return fail(error, error_size, "found '%s', expected a %s of at most %s",
                    text, quantity->noun, quantity->limit_text);
    *result = value;
    return true;
}

bool units_parse_duration(const char *text, sim_time *duration, char *error,
                          size_t error_size)
{
    double nanoseconds = 0;
    if (!parse_quantity(text, &duration_quantity, &nanoseconds, error, error_size))
        return false;
    /* Below 2^63 the spacing of doubles is at least 1, so adding 0.5 cannot
     * carry past INT64_MAX. */
    *duration = (sim_time)floor(nanoseconds + 0.5);
    return true;
}

bool units_parse_size(const char *text, uint64_t *bytes, char *error,
                      size_t error_size)
{
    double value = 0;
    if (!parse_quantity(text, &size_quantity, &value, error, error_size))
        return false;
    double rounded = floor(value + 0.5);
    *bytes = rounded < 18446744073709551616.0 ? (uint64_t)rounded : UINT64_MAX;
    return true;
}

bool units_parse_rate(const char *text, double *per_second, char *error,
                      size_t error_size)
{
    return parse_quantity(text, &rate_quantity, per_second, error, error_size);
}

bool units_parse_bandwidth(const char *text, double *bytes_per_second,
                           char *error, size_t error_size)
{
    return parse_quantity(text, &bandwidth_quantity, bytes_per_second, error,
                          error_size);
}
