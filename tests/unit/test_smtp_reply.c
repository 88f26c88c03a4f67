#include <stdio.h>
#include <string.h>

#include "models/smtp_reply.h"
#include "tests/unit/test_util.h"

/* Parses a whole NUL-terminated buffer. */
static int parse(const char *wire, struct smtp_reply *reply, size_t *consumed)
{
    return smtp_reply_parse(wire, strlen(wire), reply, consumed);
}

START_TEST(parse_single_line)
{
    struct smtp_reply reply;
    size_t consumed = 0;
    const char *wire = "250 OK\r\n";

    ck_assert_int_eq(parse(wire, &reply, &consumed), 1);
    ck_assert_int_eq(reply.code, 250);
    ck_assert_str_eq(reply.text, "OK");
    ck_assert_int_eq(reply.line_count, 1);
    ck_assert_int_eq(reply.enhanced_class, 0);
    ck_assert_uint_eq(consumed, strlen(wire));
}
END_TEST

START_TEST(parse_enhanced_code)
{
    struct smtp_reply reply;
    size_t consumed;

    ck_assert_int_eq(parse("550 5.1.1 No such user\r\n", &reply, &consumed), 1);
    ck_assert_int_eq(reply.code, 550);
    ck_assert_int_eq(reply.enhanced_class, 5);
    ck_assert_int_eq(reply.enhanced_subject, 1);
    ck_assert_int_eq(reply.enhanced_detail, 1);
    ck_assert_str_eq(reply.text, "No such user");
}
END_TEST

START_TEST(parse_enhanced_code_three_digits)
{
    struct smtp_reply reply;
    size_t consumed;

    ck_assert_int_eq(parse("451 4.123.45\r\n", &reply, &consumed), 1);
    ck_assert_int_eq(reply.enhanced_class, 4);
    ck_assert_int_eq(reply.enhanced_subject, 123);
    ck_assert_int_eq(reply.enhanced_detail, 45);
    ck_assert_str_eq(reply.text, "");
}
END_TEST

START_TEST(parse_text_like_enhanced_code)
{
    struct smtp_reply reply;
    size_t consumed;

    /* "2.0" is not an enhanced code, and class 3 does not exist. */
    ck_assert_int_eq(parse("250 2.0 things\r\n", &reply, &consumed), 1);
    ck_assert_int_eq(reply.enhanced_class, 0);
    ck_assert_str_eq(reply.text, "2.0 things");
    ck_assert_int_eq(parse("250 3.1.1 x\r\n", &reply, &consumed), 1);
    ck_assert_int_eq(reply.enhanced_class, 0);
    ck_assert_str_eq(reply.text, "3.1.1 x");
    ck_assert_int_eq(parse("250 2.1.1x\r\n", &reply, &consumed), 1);
    ck_assert_int_eq(reply.enhanced_class, 0);
}
END_TEST

START_TEST(parse_multi_line)
{
    struct smtp_reply reply;
    size_t consumed;
    const char *wire = "250-mx.example.com\r\n"
                       "250-SIZE 1000\r\n"
                       "250-8BITMIME\r\n"
                       "250 PIPELINING\r\n";

    ck_assert_int_eq(parse(wire, &reply, &consumed), 1);
    ck_assert_int_eq(reply.code, 250);
    ck_assert_int_eq(reply.line_count, 4);
    ck_assert_str_eq(reply.text, "mx.example.com");
    ck_assert_uint_eq(consumed, strlen(wire));
}
END_TEST

START_TEST(parse_stops_after_reply)
{
    struct smtp_reply reply;
    size_t consumed;
    const char *wire = "250 first\r\n354 second\r\n";

    ck_assert_int_eq(parse(wire, &reply, &consumed), 1);
    ck_assert_int_eq(reply.code, 250);
    ck_assert_uint_eq(consumed, strlen("250 first\r\n"));
    ck_assert_int_eq(smtp_reply_parse(wire + consumed, strlen(wire) - consumed,
                                      &reply, &consumed), 1);
    ck_assert_int_eq(reply.code, 354);
}
END_TEST

START_TEST(parse_bare_code)
{
    struct smtp_reply reply;
    size_t consumed;

    /* RFC 5321 4.2: clients accept a code without text. */
    ck_assert_int_eq(parse("221\r\n", &reply, &consumed), 1);
    ck_assert_int_eq(reply.code, 221);
    ck_assert_str_eq(reply.text, "");
    ck_assert_uint_eq(consumed, 5);
}
END_TEST

START_TEST(parse_partial_input)
{
    static const char *const partial[] = {
        "",
        "2",
        "250",
        "250 OK",
        "250 OK\r",
        "250-first\r\n",
        "250-first\r\n250 la",
        "250-first\r\n25",
    };
    struct smtp_reply reply = {.code = 999};
    size_t consumed = 77;

    for (size_t i = 0; i < sizeof partial / sizeof *partial; i++) {
        ck_assert_msg(parse(partial[i], &reply, &consumed) == 0,
                      "partial input %zu: \"%s\"", i, partial[i]);
    }
    ck_assert_int_eq(reply.code, 999);
    ck_assert_uint_eq(consumed, 77);
}
END_TEST

START_TEST(parse_malformed)
{
    static const char *const malformed[] = {
        "25 OK\r\n",            /* two digits */
        "2x0 OK\r\n",           /* not a digit */
        "250OK\r\n",            /* no separator */
        "250 OK\n",             /* bare LF */
        "\r\n",                 /* empty line */
        "250-one\r\n251 two\r\n",  /* codes differ across lines */
        "250-one\r\n250 two\n",      /* bare LF on a later line */
    };
    struct smtp_reply reply;
    size_t consumed;

    for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
        int got = parse(malformed[i], &reply, &consumed);

        ck_assert_msg(got == -1, "case %zu returned %d", i, got);
    }
}
END_TEST

START_TEST(parse_line_length_limit)
{
    char wire[SMTP_REPLY_LINE_MAX + 8];
    struct smtp_reply reply;
    size_t consumed;

    /* Exactly 512 bytes with CRLF is allowed (RFC 5321 4.5.3.1.5). */
    memset(wire, 'a', sizeof wire);
    memcpy(wire, "250 ", 4);
    memcpy(wire + SMTP_REPLY_LINE_MAX - 2, "\r\n", 2);
    ck_assert_int_eq(smtp_reply_parse(wire, SMTP_REPLY_LINE_MAX, &reply,
                                      &consumed), 1);
    ck_assert_uint_eq(consumed, SMTP_REPLY_LINE_MAX);
    ck_assert_uint_eq(strlen(reply.text), SMTP_REPLY_TEXT_MAX - 1);

    /* One byte more is too long, with or without its CRLF yet. */
    memset(wire, 'a', sizeof wire);
    memcpy(wire, "250 ", 4);
    memcpy(wire + SMTP_REPLY_LINE_MAX - 1, "\r\n", 2);
    ck_assert_int_eq(smtp_reply_parse(wire, SMTP_REPLY_LINE_MAX + 1, &reply,
                                      &consumed), -1);
    ck_assert_int_eq(smtp_reply_parse(wire, SMTP_REPLY_LINE_MAX, &reply,
                                      &consumed), -1);
    ck_assert_int_eq(smtp_reply_parse(wire, SMTP_REPLY_LINE_MAX - 1, &reply,
                                      &consumed), 0);
}
END_TEST

START_TEST(parse_keeps_every_line)
{
    struct smtp_reply reply;
    size_t consumed;
    const char *wire = "250-mx.example.com greets you\r\n"
                       "250-SIZE 1000\r\n"
                       "250-\r\n"
                       "250 PIPELINING\r\n";

    ck_assert_int_eq(parse(wire, &reply, &consumed), 1);
    ck_assert_int_eq(reply.stored_line_count, 4);
    ck_assert_str_eq(smtp_reply_line(&reply, 0), "mx.example.com greets you");
    ck_assert_str_eq(smtp_reply_line(&reply, 1), "SIZE 1000");
    ck_assert_str_eq(smtp_reply_line(&reply, 2), "");
    ck_assert_str_eq(smtp_reply_line(&reply, 3), "PIPELINING");
    ck_assert_ptr_null(smtp_reply_line(&reply, 4));
    ck_assert_ptr_null(smtp_reply_line(&reply, -1));

    /* The enhanced code stays in the stored line; `text` drops it. */
    ck_assert_int_eq(parse("550 5.1.1 No such user\r\n", &reply, &consumed),
                     1);
    ck_assert_str_eq(smtp_reply_line(&reply, 0), "5.1.1 No such user");
    ck_assert_int_eq(parse("221\r\n", &reply, &consumed), 1);
    ck_assert_str_eq(smtp_reply_line(&reply, 0), "");
}
END_TEST

START_TEST(parse_lines_beyond_storage)
{
    char wire[(SMTP_REPLY_MAX_LINES + 4) * 16];
    size_t used = 0;
    struct smtp_reply reply;
    size_t consumed;

    for (int i = 0; i < SMTP_REPLY_MAX_LINES + 3; i++)
        used += (size_t)snprintf(wire + used, sizeof wire - used,
                                 "250-line %d\r\n", i);
    used += (size_t)snprintf(wire + used, sizeof wire - used, "250 last\r\n");

    ck_assert_int_eq(smtp_reply_parse(wire, used, &reply, &consumed), 1);
    ck_assert_uint_eq(consumed, used);
    ck_assert_int_eq(reply.line_count, SMTP_REPLY_MAX_LINES + 4);
    ck_assert_int_eq(reply.stored_line_count, SMTP_REPLY_MAX_LINES);
    ck_assert_str_eq(smtp_reply_line(&reply, SMTP_REPLY_MAX_LINES - 1),
                     "line 31");
    ck_assert_ptr_null(smtp_reply_line(&reply, SMTP_REPLY_MAX_LINES));
}
END_TEST

START_TEST(parse_lines_beyond_text_size)
{
    char wire[12 * SMTP_REPLY_LINE_MAX];
    char text[400];
    size_t used = 0;
    struct smtp_reply reply;
    size_t consumed;

    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    /* Six lines of 400 bytes overflow the 2048 bytes of line_text. */
    for (int i = 0; i < 5; i++)
        used += (size_t)snprintf(wire + used, sizeof wire - used,
                                 "250-%s\r\n", text);
    used += (size_t)snprintf(wire + used, sizeof wire - used, "250 %s\r\n",
                             text);

    ck_assert_int_eq(smtp_reply_parse(wire, used, &reply, &consumed), 1);
    ck_assert_int_eq(reply.line_count, 6);
    ck_assert_int_eq(reply.stored_line_count, 5);
    ck_assert_uint_eq(strlen(smtp_reply_line(&reply, 4)), sizeof text - 1);
}
END_TEST

START_TEST(extensions_from_ehlo)
{
    struct smtp_reply reply;
    struct smtp_extensions ext;
    size_t consumed;
    const char *wire = "250-mx.example.com SIZE is not a keyword here\r\n"
                       "250-PIPELINING\r\n"
                       "250-SIZE 10240000\r\n"
                       "250-VRFY\r\n"
                       "250-ETRN\r\n"
                       "250-STARTTLS\r\n"
                       "250-ENHANCEDSTATUSCODES\r\n"
                       "250-8BITMIME\r\n"
                       "250-DSN\r\n"
                       "250 CHUNKING\r\n";

    ck_assert_int_eq(parse(wire, &reply, &consumed), 1);
    smtp_reply_extensions(&reply, &ext);
    ck_assert(ext.pipelining);
    ck_assert(ext.size);
    ck_assert_uint_eq(ext.size_limit, 10240000);
    ck_assert(ext.eight_bit_mime);
    ck_assert(ext.enhanced_status_codes);
    ck_assert(ext.starttls);
}
END_TEST

START_TEST(extensions_case_and_near_misses)
{
    struct smtp_reply reply;
    struct smtp_extensions ext;
    size_t consumed;
    const char *wire = "250-mx\r\n"
                       "250-pipelining\r\n"
                       "250-Size\r\n"
                       "250-STARTTLSX\r\n"
                       "250-8BITMIMEX\r\n"
                       "250 XENHANCEDSTATUSCODES\r\n";

    ck_assert_int_eq(parse(wire, &reply, &consumed), 1);
    smtp_reply_extensions(&reply, &ext);
    ck_assert(ext.pipelining);
    /* SIZE without an argument: no fixed limit (RFC 1870 section 7). */
    ck_assert(ext.size);
    ck_assert_uint_eq(ext.size_limit, 0);
    ck_assert(!ext.starttls);
    ck_assert(!ext.eight_bit_mime);
    ck_assert(!ext.enhanced_status_codes);
}
END_TEST

START_TEST(extensions_none)
{
    struct smtp_reply reply;
    struct smtp_extensions ext;
    size_t consumed;

    /* A one-line reply names the server only. */
    ck_assert_int_eq(parse("250 PIPELINING\r\n", &reply, &consumed), 1);
    smtp_reply_extensions(&reply, &ext);
    ck_assert(!ext.pipelining);

    /* A failure reply announces no extension, whatever its lines contain. */
    ck_assert_int_eq(parse("550-x\r\n550 PIPELINING\r\n", &reply,
                           &consumed), 1);
    smtp_reply_extensions(&reply, &ext);
    ck_assert(!ext.pipelining);

    /* A malformed SIZE argument means no fixed limit. */
    ck_assert_int_eq(parse("250-x\r\n250 SIZE 12k\r\n", &reply, &consumed),
                     1);
    smtp_reply_extensions(&reply, &ext);
    ck_assert(ext.size);
    ck_assert_uint_eq(ext.size_limit, 0);
}
END_TEST

START_TEST(format_single_line)
{
    char buf[128];
    size_t n;

    n = smtp_reply_format(buf, sizeof buf, 550, "5.1.1", "No such user");
    ck_assert_str_eq(buf, "550 5.1.1 No such user\r\n");
    ck_assert_uint_eq(n, strlen(buf));
    n = smtp_reply_format(buf, sizeof buf, 250, NULL, "Ok");
    ck_assert_str_eq(buf, "250 Ok\r\n");
    n = smtp_reply_format(buf, sizeof buf, 221, "2.0.0", NULL);
    ck_assert_str_eq(buf, "221 2.0.0\r\n");
    n = smtp_reply_format(buf, sizeof buf, 354, "", "");
    ck_assert_str_eq(buf, "354 \r\n");
    ck_assert_uint_eq(n, 6);
}
END_TEST

START_TEST(format_too_small)
{
    char buf[8];

    ck_assert_uint_eq(smtp_reply_format(buf, sizeof buf, 250, NULL,
                                        "Too long"), 0);
    ck_assert_uint_eq(smtp_reply_format(buf, sizeof buf, 42, NULL, ""), 0);
}
END_TEST

START_TEST(format_lines)
{
    static const char *const lines[] = {"mx.example.com", "SIZE 10",
                                        "PIPELINING"};
    char buf[256];
    size_t n;

    n = smtp_reply_format_lines(buf, sizeof buf, 250, NULL, lines, 3);
    ck_assert_str_eq(buf, "250-mx.example.com\r\n"
                          "250-SIZE 10\r\n"
                          "250 PIPELINING\r\n");
    ck_assert_uint_eq(n, strlen(buf));
    ck_assert_uint_eq(smtp_reply_format_lines(buf, sizeof buf, 250, NULL,
                                              lines, 0), 0);
    ck_assert_uint_eq(smtp_reply_format_lines(buf, 20, 250, NULL, lines, 3),
                      0);
}
END_TEST

START_TEST(format_then_parse)
{
    static const char *const lines[] = {"a", "b"};
    char buf[128];
    struct smtp_reply reply;
    size_t consumed;
    size_t n;

    n = smtp_reply_format_lines(buf, sizeof buf, 452, "4.5.3", lines, 2);
    ck_assert_int_eq(smtp_reply_parse(buf, n, &reply, &consumed), 1);
    ck_assert_int_eq(reply.code, 452);
    ck_assert_int_eq(reply.line_count, 2);
    ck_assert_int_eq(reply.enhanced_subject, 5);
    ck_assert_int_eq(reply.enhanced_detail, 3);
    ck_assert_str_eq(reply.text, "a");
    ck_assert_uint_eq(consumed, n);
}
END_TEST

START_TEST(class_by_first_digit)
{
    static const struct {
        int code;
        enum smtp_reply_class cls;
    } cases[] = {
        {220, SMTP_REPLY_POSITIVE},
        {299, SMTP_REPLY_POSITIVE},
        {354, SMTP_REPLY_INTERMEDIATE},
        {421, SMTP_REPLY_TRANSIENT},
        {499, SMTP_REPLY_TRANSIENT},
        {550, SMTP_REPLY_PERMANENT},
        {599, SMTP_REPLY_PERMANENT},
        {199, SMTP_REPLY_INVALID},
        {600, SMTP_REPLY_INVALID},
        {0, SMTP_REPLY_INVALID},
        {-250, SMTP_REPLY_INVALID},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ck_assert_msg(smtp_reply_class(cases[i].code) == cases[i].cls,
                      "code %d", cases[i].code);
    }
    ck_assert_str_eq(smtp_reply_class_name(SMTP_REPLY_TRANSIENT), "transient");
}
END_TEST

Suite *smtp_reply_suite(void);

Suite *smtp_reply_suite(void)
{
    Suite *suite = suite_create("smtp_reply");
    TCase *parse_case = tcase_create("parse");
    TCase *format_case = tcase_create("format");

    tcase_add_test(parse_case, parse_single_line);
    tcase_add_test(parse_case, parse_enhanced_code);
    tcase_add_test(parse_case, parse_enhanced_code_three_digits);
    tcase_add_test(parse_case, parse_text_like_enhanced_code);
    tcase_add_test(parse_case, parse_multi_line);
    tcase_add_test(parse_case, parse_stops_after_reply);
    tcase_add_test(parse_case, parse_bare_code);
    tcase_add_test(parse_case, parse_partial_input);
    tcase_add_test(parse_case, parse_malformed);
    tcase_add_test(parse_case, parse_line_length_limit);
    tcase_add_test(parse_case, parse_keeps_every_line);
    tcase_add_test(parse_case, parse_lines_beyond_storage);
    tcase_add_test(parse_case, parse_lines_beyond_text_size);
    tcase_add_test(parse_case, extensions_from_ehlo);
    tcase_add_test(parse_case, extensions_case_and_near_misses);
    tcase_add_test(parse_case, extensions_none);
    suite_add_tcase(suite, parse_case);

    tcase_add_test(format_case, format_single_line);
    tcase_add_test(format_case, format_too_small);
    tcase_add_test(format_case, format_lines);
    tcase_add_test(format_case, format_then_parse);
    tcase_add_test(format_case, class_by_first_digit);
    suite_add_tcase(suite, format_case);
    return suite;
}

TEST_MAIN(smtp_reply_suite)
