/*
 * The journey of one message, for teaching.  Every step it takes gets one
 * line with the simulation time: submission, queues, the MX lookup, each
 * SMTP command and reply on the wire, storage and the reader's client.
 * `mailsim run --journey ID` writes it to DIR/journey-ID.txt.  The check of
 * the message id comes before any formatting, so a run that follows no
 * message pays one pointer test per call.
 */
#ifndef MAILSIM_JOURNEY_H
#define MAILSIM_JOURNEY_H

#include <stdint.h>
#include <stdio.h>

#include "models/message.h"
#include "models/world.h"

static inline int journey_following(const struct world *world,
                                    const struct message *message)
{
    return world->journey && message &&
           (message->id == world->journey_id || message->journey_of == world->journey_id);
}

/* Writes one step of `message`'s journey if it is the message followed. */
#define journey_note(world, message, ...)                                      \
    do {                                                                       \
        if (journey_following((world), (message)))                             \
            journey_write((world), (message), __VA_ARGS__);                    \
    } while (0)

void journey_write(const struct world *world, const struct message *message,
                   const char *format, ...) __attribute__((format(printf, 3, 4)));

/* Writes SMTP wire text (one or more CRLF-terminated lines) with a
 * "C: " or "S: " prefix per line. */
void journey_wire(const struct world *world, const struct message *message,
                  const char *prefix, const char *text, size_t length);

#endif
