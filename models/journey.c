#include "models/journey.h"

#include <stdarg.h>
#include <string.h>

void journey_write(const struct world *world, const struct message *message,
                   const char *format, ...)
{
    va_list arguments;

    fprintf(world->journey, "%12.6f s  ",
            sim_time_to_seconds(engine_now(world->engine)));
    if (message->id != world->journey_id)
        fprintf(world->journey, "[DSN %llu] ", (unsigned long long)message->id);
    va_start(arguments, format);
    vfprintf(world->journey, format, arguments);
    va_end(arguments);
    fputc('\n', world->journey);
}

void journey_wire(const struct world *world, const struct message *message,
                  const char *prefix, const char *text, size_t length)
{
    if (!world->journey || !message ||
        (message->id != world->journey_id && message->journey_of != world->journey_id))
        return;
    while (length > 0) {
        const char *end = memchr(text, '\n', length);
        size_t line = end ? (size_t)(end - text) + 1 : length;
        size_t shown = line;
        while (shown > 0 && (text[shown - 1] == '\n' || text[shown - 1] == '\r'))
            shown--;
        journey_write(world, message, "%s%.*s", prefix, (int)shown, text);
        text += line;
        length -= line;
    }
}
