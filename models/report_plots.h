/* The plots of a run, drawn with sim/plot (GNU libplot) as PNG and SVG. */
#ifndef MAILSIM_REPORT_PLOTS_H
#define MAILSIM_REPORT_PLOTS_H

#include <stdbool.h>
#include <stddef.h>

struct world;

/* Writes into `directory`:
 *   latency_cdf       latency to mailbox and to reader, by path (CDF)
 *   queues_<provider> web, outgoing, deferred and incoming queue lengths
 *   workers_<provider> busy SMTP workers, processing workers, SMTP sessions
 * Returns false with a message in `error` if a file cannot be written. */
bool report_plots_write(const struct world *world, const char *directory,
                        char *error, size_t error_size);

#endif
