/*
 * Greylisting table of a receiving MTA, in the manner of postgrey: the
 * first delivery attempt for a triplet (client network, sender, recipient)
 * is deferred, and a retry after `delay` passes.
 *
 * Rules, as postgrey's smtpd_access_policy applies them:
 * - An unknown triplet is stored with first seen = last seen = now and
 *   deferred.
 * - A retry sooner than `delay` after first seen is deferred again, and
 *   first seen stays as it was.
 * - A retry at or after first seen + delay passes, and so does every later
 *   attempt while the entry lives.
 * - A triplet that has not passed yet and is retried more than
 *   `retry_window` after first seen starts over (first seen = now).
 *
 * Entries expire, so memory is bounded by the triplets seen recently: a
 * triplet that has passed expires `lifetime` after it was last seen, and
 * one that has not passed expires `retry_window` after it was last seen
 * (postgrey's nightly clean-up rules).  An expired entry counts as absent
 * at once.  The table also removes expired entries before it grows, so
 * its size stays within twice the number of live entries.
 */
#ifndef MAILSIM_GREYLIST_H
#define MAILSIM_GREYLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/simtime.h"

/* Reply to a deferred RCPT TO when Postfix queries postgrey.  postgrey
 * returns DEFER_IF_PERMIT with its default text, which it prefixes with
 * the enhanced code 4.2.0 for Postfix 2.3 and later, and Postfix defers
 * with access_map_defer_code (450 by default).  %s is the recipient
 * domain. */
#define GREYLIST_REPLY_CODE 450
#define GREYLIST_REPLY_ENHANCED "4.2.0"
#define GREYLIST_REPLY_FORMAT \
    "Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/%s.html"

struct greylist_params {
    bool enabled;
    sim_time delay;            /* minimum wait before a retry passes */
    sim_time retry_window;     /* first seen to the latest retry that counts */
    sim_time lifetime;         /* a passed triplet lives this long unseen */
    int prefix_length;         /* client network bits kept, 0 to 32 */
};

enum greylist_verdict {
    GREYLIST_PASS,
    GREYLIST_DEFER,
};

struct greylist;

/* Fills `params` with postgrey's defaults and enabled = false. */
void greylist_defaults(struct greylist_params *params);

/* Creates an empty table.  Aborts on allocation failure. */
struct greylist *greylist_new(const struct greylist_params *params);
void greylist_free(struct greylist *greylist);

/*
 * Looks up and updates the triplet of a RCPT TO at `now`.  `client_ip` is
 * an IPv4 address in host byte order; only its first prefix_length bits
 * count.  Sender and recipient are compared without regard to case.  A
 * disabled table passes everything and stores nothing.  Calls must come
 * in time order.
 */
enum greylist_verdict greylist_check(struct greylist *greylist, uint32_t client_ip,
                                     const char *sender, const char *recipient,
                                     sim_time now);

/* Removes the entries expired at `now` and returns how many. */
size_t greylist_purge(struct greylist *greylist, sim_time now);

/* Number of stored entries, live or not yet purged. */
size_t greylist_size(const struct greylist *greylist);

/* The network of `ip`: its first `prefix_length` bits, the rest zero. */
uint32_t greylist_network(uint32_t ip, int prefix_length);

#endif
