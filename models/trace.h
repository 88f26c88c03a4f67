/*
 * Mail submissions read from a trace file instead of the Poisson workload.
 *
 * Each data row is "time sender recipient", separated by whitespace, or by
 * commas when the row contains a comma (blanks around CSV fields are
 * ignored).  Time is in seconds, decimal or with an exponent, non-negative
 * and non-decreasing from row to row.  A '#' at the start of a field starts
 * a comment that runs to the end of the line, and blank lines are skipped.
 * The first data row is skipped as a header if its first field is "time"
 * (any case).  Addresses are parsed by address_parse.
 *
 * Consecutive rows with the same time (after rounding to nanoseconds) and
 * the same sender form one message with up to SUBMISSION_MAX_RECIPIENTS
 * recipients, in file order.  Repeated recipients are kept as written.
 * Message sizes are drawn per message, in file order, with
 * workload_sample_size from the sender's provider's workload parameters
 * and the RNG stream "trace.content".
 */
#ifndef MAILSIM_TRACE_H
#define MAILSIM_TRACE_H

#include <stddef.h>

#include "models/workload.h"

struct scenario;

/* Maximum line length in bytes, without the line terminator. */
#define TRACE_MAX_LINE 4096

struct trace_reader;

/* Opens `path` for reading.  Error messages of this reader go to `err`
 * (n bytes), which must stay valid until trace_reader_free, and so must
 * the scenario.  Returns NULL with the reason in err if the file cannot
 * be opened. */
struct trace_reader *trace_reader_open(const char *path, const struct scenario *scenario,
                                       char *err, size_t n);

/* Reads the next message.  Returns 1 with *out filled, 0 at the end of the
 * file, or -1 with "FILE:LINE:COLUMN: message" in err (LINE and COLUMN
 * count from 1, COLUMN in bytes).  A message that is complete before an
 * invalid row is still returned, and the error comes on the next call.
 * Every call after an error returns -1 again.  Times are not checked
 * against the scenario duration. */
int trace_reader_next(struct trace_reader *reader, struct submission *out);

void trace_reader_free(struct trace_reader *reader);

#endif
