/*
 * Quantities with units as written in scenario files: durations ("250ms"),
 * sizes ("25MiB"), rates ("30/h") and bandwidths ("1Gbit/s").
 *
 * A quantity is a decimal number (optional sign, digits, optional fraction
 * and exponent: "1.5", "2e3"), optional spaces, then a unit, which is
 * case-sensitive.  A bare number is rejected because the unit would be a
 * guess.  Negative values, NaN, infinity and values that do not fit the
 * result type are rejected too.
 *
 * The parsers return false on bad input and write a message of the form
 * "found '5', a number without a unit, expected a duration such as ..." to
 * `error` (which may be NULL when `error_size` is 0).
 */
#ifndef MAILSIM_UNITS_H
#define MAILSIM_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/simtime.h"

/* Parses a whole string as a finite decimal number (no unit, no YAML
 * spellings such as ".inf" or "0x10").  Returns false on anything else. */
bool units_parse_number(const char *text, double *value);

/* Duration units: ns, us, ms, s, m or min, h, d.  Rounds to the nearest
 * nanosecond; at most INT64_MAX ns (about 106751 days). */
bool units_parse_duration(const char *text, sim_time *duration, char *error,
                          size_t error_size);

/* Size units: B; decimal kB or KB, MB, GB, TB (powers of 1000); binary KiB,
 * MiB, GiB, TiB (powers of 1024).  Rounds to the nearest byte. */
bool units_parse_size(const char *text, uint64_t *bytes, char *error,
                      size_t error_size);

/* Rate units: /s, /min, /h, /d.  The result is events per second. */
bool units_parse_rate(const char *text, double *per_second, char *error,
                      size_t error_size);

/* Bandwidth units: B/s, kB/s or KB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s,
 * and bit/s, kbit/s or Kbit/s, Mbit/s, Gbit/s, Tbit/s (powers of 1000).  The
 * result is bytes per second. */
bool units_parse_bandwidth(const char *text, double *bytes_per_second,
                           char *error, size_t error_size);

#endif
