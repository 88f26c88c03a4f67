#include "models/trace.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "models/scenario.h"
#include "sim/rng.h"

#define TRACE_COLUMNS 3

/* Fields kept per line: the three columns and one more, so an error for
 * too many columns can point at the first extra one. */
#define FIELDS_STORED (TRACE_COLUMNS + 1)

/* Largest time that fits in sim_time (INT64_MAX ns), in whole seconds. */
#define MAX_TIME_SECONDS 9223372036.0

struct field {
    char *text;                /* NUL-terminated inside the line buffer */
    size_t length;
    size_t column;             /* 1-based byte column of the first byte */
};

/* One data row.  The text pointers are valid until the next line is read. */
struct trace_row {
    sim_time time;
    struct address sender;
    struct address recipient;
    const char *time_text;
    const char *sender_text;
    size_t recipient_column;
};

struct trace_reader {
    FILE *file;
    char *path;
    const struct scenario *scenario;
    gsl_rng *content_rng;
    char *err;
    size_t err_size;

    char *line;
    size_t line_capacity;
    size_t line_number;
    bool seen_data_row;        /* a header is only allowed before this */
    bool failed;

    bool has_previous;
    sim_time previous_time;
    char previous_text[TRACE_MAX_LINE + 1];

    bool has_pending;          /* a row read ahead that starts the next message */
    struct trace_row pending;
};

/* Writes "FILE:LINE:COLUMN: message" to the error buffer and marks the
 * reader failed.  Returns -1 for the caller to pass on. */
__attribute__((format(printf, 3, 4)))
static int fail_at(struct trace_reader *reader, size_t column, const char *format, ...)
{
    reader->failed = true;
    if (reader->err_size == 0)
        return -1;

    int prefix = snprintf(reader->err, reader->err_size, "%s:%zu:%zu: ", reader->path,
                          reader->line_number, column);
    if (prefix < 0 || (size_t)prefix >= reader->err_size)
        return -1;

    va_list args;
    va_start(args, format);
    vsnprintf(reader->err + prefix, reader->err_size - (size_t)prefix, format, args);
    va_end(args);
    return -1;
}

struct trace_reader *trace_reader_open(const char *path, const struct scenario *scenario,
                                       char *err, size_t n)
{
    struct trace_reader *reader = calloc(1, sizeof *reader);
    char *path_copy = malloc(strlen(path) + 1);
    if (reader == NULL || path_copy == NULL) {
        snprintf(err, n, "%s: out of memory opening the trace", path);
        free(reader);
        free(path_copy);
        return NULL;
    }
    strcpy(path_copy, path);

    reader->file = fopen(path, "r");
    if (reader->file == NULL) {
        snprintf(err, n, "%s: failed to open trace: %s", path, strerror(errno));
        free(path_copy);
        free(reader);
        return NULL;
    }
    reader->path = path_copy;
    reader->scenario = scenario;
    reader->content_rng = rng_stream_new(scenario->seed, "trace.content");
    reader->err = err;
    reader->err_size = n;
    return reader;
}

void trace_reader_free(struct trace_reader *reader)
{
    if (reader == NULL)
        return;
    fclose(reader->file);
    gsl_rng_free(reader->content_rng);
    free(reader->line);
    free(reader->path);
    free(reader);
}

static bool is_blank(char c)
{
    return isspace((unsigned char)c) != 0;
}

/* Cuts the line at a '#' that starts a field, so '#' inside an address is
 * kept.  Returns the new length. */
static size_t strip_comment(char *line, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        bool field_start = i == 0 || is_blank(line[i - 1]) || line[i - 1] == ',';
        if (line[i] == '#' && field_start) {
            line[i] = '\0';
            return i;
        }
    }
    return length;
}

static void store_field(struct field fields[FIELDS_STORED], size_t count, char *line,
                        size_t start, size_t end)
{
    if (count >= FIELDS_STORED)
        return;
    line[end] = '\0';
    fields[count] = (struct field){ line + start, end - start, start + 1 };
}

/* Splits at commas, trimming blanks around each field.  Every comma
 * separates two fields, so an empty field counts too. */
static size_t split_csv(char *line, size_t length, struct field fields[FIELDS_STORED])
{
    size_t count = 0;
    size_t start = 0;

    for (;;) {
        char *comma = memchr(line + start, ',', length - start);
        size_t stop = comma == NULL ? length : (size_t)(comma - line);
        size_t first = start;
        size_t end = stop;
        while (first < end && is_blank(line[first]))
            first++;
        while (end > first && is_blank(line[end - 1]))
            end--;
        store_field(fields, count, line, first, end);
        count++;
        if (comma == NULL)
            return count;
        start = stop + 1;
    }
}

static size_t split_blanks(char *line, size_t length, struct field fields[FIELDS_STORED])
{
    size_t count = 0;
    size_t i = 0;

    for (;;) {
        while (i < length && is_blank(line[i]))
            i++;
        if (i == length)
            return count;
        size_t start = i;
        while (i < length && !is_blank(line[i]))
            i++;
        store_field(fields, count, line, start, i);
        count++;
        if (i < length)
            i++;
    }
}

/* Reads one line into reader->line without its terminator.  Returns its
 * length, or -1 at the end of the file or on a read error (with
 * reader->failed set for an error). */
static ssize_t read_line(struct trace_reader *reader)
{
    errno = 0;
    ssize_t read = getline(&reader->line, &reader->line_capacity, reader->file);
    if (read < 0) {
        if (ferror(reader->file) || errno == ENOMEM) {
            reader->line_number++;
            fail_at(reader, 1, "failed to read the trace: %s", strerror(errno));
        }
        return -1;
    }
    reader->line_number++;

    size_t length = (size_t)read;
    if (length > 0 && reader->line[length - 1] == '\n')
        length--;
    if (length > 0 && reader->line[length - 1] == '\r')
        length--;
    reader->line[length] = '\0';

    /* A UTF-8 byte order mark becomes blanks, which keeps byte columns. */
    if (reader->line_number == 1 && length >= 3 && memcmp(reader->line, "\xEF\xBB\xBF", 3) == 0)
        memset(reader->line, ' ', 3);
    return (ssize_t)length;
}

/* Checks the line for a NUL byte and its length, then splits it into
 * fields.  Returns the field count, or -1 after an error. */
static long split_line(struct trace_reader *reader, size_t length,
                       struct field fields[FIELDS_STORED])
{
    char *line = reader->line;

    if (length > TRACE_MAX_LINE)
        return fail_at(reader, TRACE_MAX_LINE + 1, "line is longer than %d bytes",
                       TRACE_MAX_LINE);
    char *nul = memchr(line, '\0', length);
    if (nul != NULL)
        return fail_at(reader, (size_t)(nul - line) + 1,
                       "line contains a NUL byte, expected text");

    length = strip_comment(line, length);
    if (memchr(line, ',', length) != NULL)
        return (long)split_csv(line, length, fields);
    return (long)split_blanks(line, length, fields);
}

static bool has_hex_marker(const char *text)
{
    return strchr(text, 'x') != NULL || strchr(text, 'X') != NULL;
}

static int parse_time(struct trace_reader *reader, const struct field *field,
                      struct trace_row *row)
{
    const char *text = field->text;
    if (field->length == 0)
        return fail_at(reader, field->column, "time is empty, expected seconds");

    char *end;
    double seconds = strtod(text, &end);
    if (end != text + field->length || has_hex_marker(text))
        return fail_at(reader, field->column, "time '%s' is not a number, expected seconds",
                       text);
    if (!isfinite(seconds))
        return fail_at(reader, field->column, "time '%s' is not a finite number", text);
    if (seconds < 0)
        return fail_at(reader, field->column, "time '%s' is negative, expected seconds >= 0",
                       text);
    if (seconds > MAX_TIME_SECONDS)
        return fail_at(reader, field->column, "time '%s' is too large, expected at most %.0f seconds",
                       text, MAX_TIME_SECONDS);

    row->time = sim_time_from_seconds(seconds);
    row->time_text = text;
    if (reader->has_previous && row->time < reader->previous_time)
        return fail_at(reader, field->column,
                       "time '%s' is earlier than the previous row's %s, "
                       "expected non-decreasing times",
                       text, reader->previous_text);
    return 0;
}

static int parse_address_field(struct trace_reader *reader, const struct field *field,
                               const char *role, struct address *out)
{
    if (field->length == 0)
        return fail_at(reader, field->column, "%s is empty, expected an address", role);

    char reason[256];
    if (!address_parse(reader->scenario, field->text, out, reason, sizeof reason))
        return fail_at(reader, field->column, "invalid %s '%s': %s", role, field->text,
                       reason);
    return 0;
}

/* Returns true if `fields` is a header row "time,..." that may be skipped. */
static bool is_header(const struct trace_reader *reader, const struct field *fields)
{
    return !reader->seen_data_row && strcasecmp(fields[0].text, "time") == 0;
}

static int fail_column_count(struct trace_reader *reader, const struct field *fields,
                             long count)
{
    /* Point at the first extra field, or just after the last one. */
    size_t column = 1;
    if (count > TRACE_COLUMNS)
        column = fields[TRACE_COLUMNS].column;
    else if (count > 0)
        column = fields[count - 1].column + fields[count - 1].length;
    return fail_at(reader, column,
                   "expected %d columns (time, sender, recipient), found %ld",
                   TRACE_COLUMNS, count);
}

static int parse_row(struct trace_reader *reader, const struct field *fields,
                     struct trace_row *row)
{
    if (parse_time(reader, &fields[0], row) < 0)
        return -1;
    if (parse_address_field(reader, &fields[1], "sender", &row->sender) < 0)
        return -1;
    if (parse_address_field(reader, &fields[2], "recipient", &row->recipient) < 0)
        return -1;
    row->sender_text = fields[1].text;
    row->recipient_column = fields[2].column;

    reader->has_previous = true;
    reader->previous_time = row->time;
    memcpy(reader->previous_text, fields[0].text, fields[0].length + 1);
    return 0;
}

/* Reads the next data row, skipping blank lines, comments and a header.
 * Returns 1 with *row filled, 0 at the end of the file, or -1 after an
 * error. */
static int read_row(struct trace_reader *reader, struct trace_row *row)
{
    for (;;) {
        ssize_t length = read_line(reader);
        if (length < 0)
            return reader->failed ? -1 : 0;

        struct field fields[FIELDS_STORED];
        long count = split_line(reader, (size_t)length, fields);
        if (count < 0)
            return -1;
        if (count == 0)
            continue;
        if (is_header(reader, fields)) {
            reader->seen_data_row = true;
            continue;
        }
        reader->seen_data_row = true;
        if (count != TRACE_COLUMNS)
            return fail_column_count(reader, fields, count);
        if (parse_row(reader, fields, row) < 0)
            return -1;
        return 1;
    }
}

static void start_message(struct submission *out, const struct trace_row *row)
{
    memset(out, 0, sizeof *out);
    out->time = row->time;
    out->sender = row->sender;
    out->recipients[0] = row->recipient;
    out->recipient_count = 1;
}

int trace_reader_next(struct trace_reader *reader, struct submission *out)
{
    if (reader->failed)
        return -1;
    if (!reader->has_pending) {
        int status = read_row(reader, &reader->pending);
        if (status <= 0)
            return status;
    }
    reader->has_pending = false;
    start_message(out, &reader->pending);

    /* Read ahead until a row starts another message.  An invalid row ends
     * this message, and the error stays recorded for the next call. */
    struct trace_row row;
    while (read_row(reader, &row) == 1) {
        bool same_message = row.time == out->time && address_equal(&row.sender, &out->sender);
        if (!same_message) {
            reader->pending = row;
            reader->has_pending = true;
            break;
        }
        if (out->recipient_count == SUBMISSION_MAX_RECIPIENTS)
            return fail_at(reader, row.recipient_column,
                           "message at time %s from %s has more than %d recipients",
                           row.time_text, row.sender_text, SUBMISSION_MAX_RECIPIENTS);
        out->recipients[out->recipient_count++] = row.recipient;
    }

    const struct provider *provider = &reader->scenario->providers[out->sender.provider];
    workload_sample_size(&provider->workload, reader->content_rng, out);
    return 1;
}
