/*
 * SMTP replies on the wire: parsing one complete reply from the bytes a
 * client has read, formatting replies for a server, and classifying reply
 * codes by their first digit.
 *
 * A reply is one or more lines "CODE-text" ending with a line "CODE text"
 * (RFC 5321 4.2).  Enhanced status codes "class.subject.detail" follow the
 * code when the server supports them (RFC 3463, RFC 2034).
 */
#ifndef MAILSIM_SMTP_REPLY_H
#define MAILSIM_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Maximum length of one reply line including the code and CRLF
 * (RFC 5321 4.5.3.1.5). */
#define SMTP_REPLY_LINE_MAX 512

/* Size of smtp_reply.text, including the terminating NUL. */
#define SMTP_REPLY_TEXT_MAX 256

/* Lines of one reply kept in smtp_reply.line_text, and the bytes that
 * contain them: room for an EHLO reply with a few dozen extensions. */
#define SMTP_REPLY_MAX_LINES 32
#define SMTP_REPLY_LINES_SIZE 2048

struct smtp_reply {
    int code;                  /* three digits, e.g. 250 */
    int enhanced_class;        /* 2, 4 or 5; 0 when the reply has none */
    int enhanced_subject;
    int enhanced_detail;
    /* First line's text after the code and the enhanced code, without
     * CRLF; truncated to fit. */
    char text[SMTP_REPLY_TEXT_MAX];
    int line_count;
    /* Every line's text after the code and its separator, without CRLF,
     * each NUL-terminated in `line_text` at `line_offset[i]`; read them
     * with smtp_reply_line().  Lines that do not fit in
     * SMTP_REPLY_MAX_LINES or SMTP_REPLY_LINES_SIZE are counted in
     * line_count but not stored. */
    int stored_line_count;
    uint16_t line_offset[SMTP_REPLY_MAX_LINES];
    char line_text[SMTP_REPLY_LINES_SIZE];
};

/* Service extensions announced in a 250 reply to EHLO (RFC 5321 4.1.1.1:
 * the first line names the server, each later line starts with an
 * extension keyword). */
struct smtp_extensions {
    bool pipelining;           /* RFC 2920 */
    bool size;                 /* RFC 1870 */
    uint64_t size_limit;       /* SIZE argument in bytes; 0 when the server
                                  gives none or 0, meaning no fixed limit */
    bool eight_bit_mime;       /* 8BITMIME, RFC 6152 */
    bool enhanced_status_codes;  /* RFC 2034 */
    bool starttls;             /* RFC 3207 */
};

/* Severity of a reply, from the first digit of its code (RFC 5321 4.2.1). */
enum smtp_reply_class {
    SMTP_REPLY_POSITIVE,       /* 2yz: completed */
    SMTP_REPLY_INTERMEDIATE,   /* 3yz: send more (the message after DATA) */
    SMTP_REPLY_TRANSIENT,      /* 4yz: failed, may succeed if repeated */
    SMTP_REPLY_PERMANENT,      /* 5yz: failed, do not repeat as is */
    SMTP_REPLY_INVALID,        /* first digit not 2-5 */
    SMTP_REPLY_CLASS_COUNT
};

/*
 * Parses one complete reply from the start of `buf`.
 * Returns 1 and sets `*reply` and `*consumed` (bytes of the reply, CRLFs
 * included) when the reply is complete; 0 when more bytes are needed;
 * -1 when the input is malformed: a line not starting with three digits
 * followed by '-', ' ' or CRLF, lines of one reply with different codes,
 * a line longer than SMTP_REPLY_LINE_MAX, or a bare LF.
 * `*reply` and `*consumed` are left unchanged unless 1 is returned.
 */
int smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *reply,
                     size_t *consumed);

/*
 * Formats a one-line reply "CODE [ENHANCED ]TEXT\r\n" into `buf`.
 * `enhanced` ("5.1.1") and `text` may be NULL or empty and are then left
 * out.  Returns the length written (without the NUL), or 0 when the reply
 * does not fit in `cap` bytes or its line exceeds SMTP_REPLY_LINE_MAX.
 */
size_t smtp_reply_format(char *buf, size_t cap, int code, const char *enhanced,
                         const char *text);

/*
 * Formats a multi-line reply: every line but the last is "CODE-", the last
 * "CODE " (RFC 5321 4.2.1), each followed by the enhanced code if given and
 * the line's text.  Used for the EHLO reply.  Returns the length written, or
 * 0 when `line_count` is 0, the reply does not fit in `cap`, or a line
 * exceeds SMTP_REPLY_LINE_MAX.
 */
size_t smtp_reply_format_lines(char *buf, size_t cap, int code,
                               const char *enhanced,
                               const char *const *lines, size_t line_count);

/* Returns the text of line `index` (0 is the first) as stored in
 * `reply->line_text`, or NULL when the reply has no such stored line. */
const char *smtp_reply_line(const struct smtp_reply *reply, int index);

/*
 * Reads the extensions announced by an EHLO reply into `*extensions`.
 * Keywords are matched without regard to case (RFC 5321 2.4) and unknown
 * ones are ignored.  A reply that is not 2yz announces none.
 */
void smtp_reply_extensions(const struct smtp_reply *reply,
                           struct smtp_extensions *extensions);

/* Class of a reply code.  Codes 200-599 that RFC 5321 does not list are
 * classified by their first digit (RFC 5321 4.2.1); other values are
 * SMTP_REPLY_INVALID. */
enum smtp_reply_class smtp_reply_class(int code);

/* Lower-case name for logs: "positive", "transient", ... */
const char *smtp_reply_class_name(enum smtp_reply_class cls);

#endif
