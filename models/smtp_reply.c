#include "models/smtp_reply.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool reply_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * Finds the CRLF ending the line at `line`.  Returns 1 and the line length
 * including CRLF, 0 when no LF has arrived yet, or -1 for a bare LF
 * (RFC 5321 2.3.8: lines end with CRLF) or a line that cannot end within
 * SMTP_REPLY_LINE_MAX bytes (RFC 5321 4.5.3.1.5).
 */
static int reply_find_line(const char *line, size_t avail, size_t *length)
{
    size_t limit = avail < SMTP_REPLY_LINE_MAX ? avail : SMTP_REPLY_LINE_MAX;

    for (size_t i = 0; i < limit; i++) {
        if (line[i] != '\n')
            continue;
        if (i == 0 || line[i - 1] != '\r')
            return -1;
        *length = i + 1;
        return 1;
    }
    return avail >= SMTP_REPLY_LINE_MAX ? -1 : 0;
}

/*
 * Checks the "CODE" and separator of a complete line of `length` bytes.
 * Returns the code, or -1 when the line does not start with three digits
 * followed by '-', ' ' or CRLF.  A bare code is accepted because clients
 * SHOULD be prepared for a reply without text (RFC 5321 4.2).
 */
static int reply_line_code(const char *line, size_t length, char *separator)
{
    if (length < 5)
        return -1;
    for (int i = 0; i < 3; i++) {
        if (!reply_is_digit(line[i]))
            return -1;
    }
    *separator = line[3];
    if (*separator == '\r') {
        if (length != 5)
            return -1;
    } else if (*separator != '-' && *separator != ' ') {
        return -1;
    }
    return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* Parses 1 to 3 digits at `text`; returns how many were read, 0 if none. */
static size_t reply_parse_number(const char *text, size_t n, int *value)
{
    size_t i = 0;

    *value = 0;
    while (i < n && i < 3 && reply_is_digit(text[i])) {
        *value = *value * 10 + (text[i] - '0');
        i++;
    }
    return i;
}

/*
 * Reads an enhanced status code "class.subject.detail" at the start of the
 * text (RFC 3463: class is 2, 4 or 5, subject and detail are one to three
 * digits).  It must be followed by a space or the end of the line.
 * Returns the characters used, including one following space, or 0 when
 * the text does not start with an enhanced code.
 */
static size_t reply_parse_enhanced(const char *text, size_t n,
                                   struct smtp_reply *reply)
{
    int subject;
    int detail;
    size_t pos;
    size_t digits;

    if (n < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5')
        || text[1] != '.')
        return 0;
    pos = 2;
    digits = reply_parse_number(text + pos, n - pos, &subject);
    if (digits == 0 || pos + digits >= n || text[pos + digits] != '.')
        return 0;
    pos += digits + 1;
    digits = reply_parse_number(text + pos, n - pos, &detail);
    if (digits == 0)
        return 0;
    pos += digits;
    if (pos < n && text[pos] != ' ')
        return 0;

    reply->enhanced_class = text[0] - '0';
    reply->enhanced_subject = subject;
    reply->enhanced_detail = detail;
    return pos < n ? pos + 1 : pos;
}

/* Fills code, enhanced code and text from the first line of a reply. */
static void reply_take_first_line(const char *line, size_t length, int code,
                                  char separator, struct smtp_reply *reply)
{
    const char *text = line + 4;
    size_t n = separator == '\r' ? 0 : length - 6;
    size_t used;

    reply->code = code;
    reply->enhanced_class = 0;
    reply->enhanced_subject = 0;
    reply->enhanced_detail = 0;
    used = reply_parse_enhanced(text, n, reply);
    text += used;
    n -= used;
    if (n >= SMTP_REPLY_TEXT_MAX)
        n = SMTP_REPLY_TEXT_MAX - 1;
    memcpy(reply->text, text, n);
    reply->text[n] = '\0';
}

/* Keeps the text of one complete line of `length` bytes for
 * smtp_reply_line(), unless the line buffers are full. */
static void reply_store_line(const char *line, size_t length, char separator,
                             struct smtp_reply *reply, size_t *text_used)
{
    size_t n = separator == '\r' ? 0 : length - 6;
    int index = reply->stored_line_count;

    if (index != reply->line_count || index >= SMTP_REPLY_MAX_LINES
        || *text_used + n + 1 > SMTP_REPLY_LINES_SIZE)
        return;
    reply->line_offset[index] = (uint16_t)*text_used;
    memcpy(reply->line_text + *text_used, line + 4, n);
    reply->line_text[*text_used + n] = '\0';
    *text_used += n + 1;
    reply->stored_line_count++;
}

int smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *reply,
                     size_t *consumed)
{
    struct smtp_reply parsed;
    size_t pos = 0;
    size_t text_used = 0;
    int first_code = -1;

    parsed.line_count = 0;
    parsed.stored_line_count = 0;
    for (;;) {
        size_t length;
        char separator;
        int found = reply_find_line(buf + pos, len - pos, &length);

        if (found <= 0)
            return found;
        int code = reply_line_code(buf + pos, length, &separator);
        if (code < 0)
            return -1;
        if (first_code < 0) {
            first_code = code;
            reply_take_first_line(buf + pos, length, code, separator, &parsed);
        } else if (code != first_code) {
            /* RFC 5321 4.2.1: every line of a multi-line reply has the
             * same code. */
            return -1;
        }
        reply_store_line(buf + pos, length, separator, &parsed, &text_used);
        parsed.line_count++;
        pos += length;
        if (separator != '-')
            break;
    }
    *reply = parsed;
    *consumed = pos;
    return 1;
}

const char *smtp_reply_line(const struct smtp_reply *reply, int index)
{
    if (index < 0 || index >= reply->stored_line_count)
        return NULL;
    return reply->line_text + reply->line_offset[index];
}

static char reply_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* True when `line` starts with the extension keyword `keyword`, ending at
 * a space or the end of the line (RFC 5321 4.1.1.1: ehlo-line is the
 * keyword, then parameters after spaces). */
static bool reply_keyword_is(const char *line, const char *keyword,
                             const char **params)
{
    size_t n = strlen(keyword);

    for (size_t i = 0; i < n; i++) {
        if (reply_upper(line[i]) != keyword[i])
            return false;
    }
    if (line[n] != '\0' && line[n] != ' ')
        return false;
    *params = line[n] == ' ' ? line + n + 1 : line + n;
    return true;
}

/* Reads the SIZE argument (RFC 1870 section 4: size-param is 1 to 20
 * digits).  A missing or malformed argument leaves 0: no fixed limit. */
static uint64_t reply_size_limit(const char *params)
{
    uint64_t value = 0;

    for (const char *p = params; *p != '\0' && *p != ' '; p++) {
        if (!reply_is_digit(*p) || value > (UINT64_MAX - 9) / 10)
            return 0;
        value = value * 10 + (uint64_t)(*p - '0');
    }
    return value;
}

void smtp_reply_extensions(const struct smtp_reply *reply,
                           struct smtp_extensions *extensions)
{
    memset(extensions, 0, sizeof *extensions);
    if (reply->code / 100 != 2)
        return;
    /* The first line is the server's domain and greeting, not an
     * extension. */
    for (int i = 1; i < reply->stored_line_count; i++) {
        const char *line = smtp_reply_line(reply, i);
        const char *params;

        if (reply_keyword_is(line, "PIPELINING", &params)) {
            extensions->pipelining = true;
        } else if (reply_keyword_is(line, "SIZE", &params)) {
            extensions->size = true;
            extensions->size_limit = reply_size_limit(params);
        } else if (reply_keyword_is(line, "8BITMIME", &params)) {
            extensions->eight_bit_mime = true;
        } else if (reply_keyword_is(line, "ENHANCEDSTATUSCODES", &params)) {
            extensions->enhanced_status_codes = true;
        } else if (reply_keyword_is(line, "STARTTLS", &params)) {
            extensions->starttls = true;
        }
    }
}

/* Appends one reply line at `used`; returns the new length or 0. */
static size_t reply_append_line(char *buf, size_t cap, size_t used, int code,
                                char separator, const char *enhanced,
                                const char *text)
{
    bool has_enhanced = enhanced != NULL && enhanced[0] != '\0';
    bool has_text = text != NULL && text[0] != '\0';
    int n;

    if (code < 100 || code > 999 || used >= cap)
        return 0;
    n = snprintf(buf + used, cap - used, "%d%c%s%s%s\r\n", code, separator,
                 has_enhanced ? enhanced : "",
                 has_enhanced && has_text ? " " : "",
                 has_text ? text : "");
    if (n < 0 || (size_t)n >= cap - used || n > SMTP_REPLY_LINE_MAX)
        return 0;
    return used + (size_t)n;
}

size_t smtp_reply_format(char *buf, size_t cap, int code, const char *enhanced,
                         const char *text)
{
    return reply_append_line(buf, cap, 0, code, ' ', enhanced, text);
}

size_t smtp_reply_format_lines(char *buf, size_t cap, int code,
                               const char *enhanced,
                               const char *const *lines, size_t line_count)
{
    size_t used = 0;

    if (line_count == 0)
        return 0;
    for (size_t i = 0; i < line_count; i++) {
        char separator = i + 1 < line_count ? '-' : ' ';

        used = reply_append_line(buf, cap, used, code, separator, enhanced,
                                 lines[i]);
        if (used == 0)
            return 0;
    }
    return used;
}

enum smtp_reply_class smtp_reply_class(int code)
{
    if (code < 200 || code > 599)
        return SMTP_REPLY_INVALID;
    switch (code / 100) {
    case 2:
        return SMTP_REPLY_POSITIVE;
    case 3:
        return SMTP_REPLY_INTERMEDIATE;
    case 4:
        return SMTP_REPLY_TRANSIENT;
    default:
        return SMTP_REPLY_PERMANENT;
    }
}

const char *smtp_reply_class_name(enum smtp_reply_class cls)
{
    static const char *const names[SMTP_REPLY_CLASS_COUNT] = {
        [SMTP_REPLY_POSITIVE] = "positive",
        [SMTP_REPLY_INTERMEDIATE] = "intermediate",
        [SMTP_REPLY_TRANSIENT] = "transient",
        [SMTP_REPLY_PERMANENT] = "permanent",
        [SMTP_REPLY_INVALID] = "invalid",
    };

    if ((unsigned)cls >= SMTP_REPLY_CLASS_COUNT)
        return "unknown";
    return names[cls];
}
