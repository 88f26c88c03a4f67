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

#include <stddef.h>

/* Maximum length of one reply line including the code and CRLF
 * (RFC 5321 4.5.3.1.5). */
#define SMTP_REPLY_LINE_MAX 512

/* Size of smtp_reply.text, including the terminating NUL. */
#define SMTP_REPLY_TEXT_MAX 256

struct smtp_reply {
    int code;                  /* three digits, e.g. 250 */
    int enhanced_class;        /* 2, 4 or 5; 0 when the reply has none */
    int enhanced_subject;
    int enhanced_detail;
    /* First line's text after the code and the enhanced code, without
     * CRLF; truncated to fit. */
    char text[SMTP_REPLY_TEXT_MAX];
    int line_count;
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

/* Class of a reply code.  Codes 200-599 that RFC 5321 does not list are
 * classified by their first digit (RFC 5321 4.2.1); other values are
 * SMTP_REPLY_INVALID. */
enum smtp_reply_class smtp_reply_class(int code);

/* Lower-case name for logs: "positive", "transient", ... */
const char *smtp_reply_class_name(enum smtp_reply_class cls);

#endif
