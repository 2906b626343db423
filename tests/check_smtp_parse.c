/*
 * check_smtp_parse.c - unit tests of src/smtp_parse.c, table-driven: the
 * command split (found_terminator), Python's str.strip() white space,
 * UTF-8 validation, MAIL/RCPT paths (_strip_command_keyword + _getaddr),
 * VRFY's address, rest.upper().split(), and every rule and rejection of
 * smtp_MAIL's and smtp_RCPT's parameters.  The answers are those of
 * Python 3.11's smtpd.SMTPChannel (most rows were checked against it),
 * and tests/golden/commands.tsv holds the replies of a real SMTPChannel to
 * several hundred MAIL/RCPT/VRFY lines, which the parse steps composed as
 * smtpd.py composes them must give (tests/gen_addr_golden.py commands).
 */
#include "autoconfig.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_golden.h"
#include "smtp_parse.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define OK SMTP_PARSE_OK
#define INVALID SMTP_PARSE_INVALID
#define TOO_LONG SMTP_PARSE_TOO_LONG

/* smtp_parse_command: line (len from sizeof, so NUL can be inside). */
static const struct {
	const char *line;
	size_t len;
	enum smtp_parse_status want;
	const char *verb, *arg;		/* arg NULL: no space in the line */
} commands[] = {
#define L(s) s, sizeof(s) - 1
	{ L("HELO example"), OK, "HELO", "example" },
	{ L("helo"), OK, "HELO", NULL },
	{ L(""), OK, "", NULL },
	{ L("mail FROM:<a@b>"), OK, "MAIL", "FROM:<a@b>" },
	{ L("MaIl from: <a@b>  SIZE=1  "), OK, "MAIL", "from: <a@b>  SIZE=1" },
	{ L("NOOP "), OK, "NOOP", "" },
	{ L("NOOP    "), OK, "NOOP", "" },
	{ L("NOOP  x  y  "), OK, "NOOP", "x  y" },
	{ L("noop\tx"), OK, "NOOP\tX", NULL },	/* only ' ' splits */
	{ L(" HELO x"), OK, "", "HELO x" },
	{ L("QUIT\r"), OK, "QUIT\r", NULL },
	{ L("RCPT TO: <a@b> \r"), OK, "RCPT", "TO: <a@b>" },
	{ L("VRFY \t\n\v\f\r\x1c\x1d\x1e\x1fx\x1f "), OK, "VRFY", "x" },
	{ L("EHLO \xc2\x85\xc2\xa0host\xe3\x80\x80"), OK, "EHLO", "host" },
	{ L("EHLO \xe1\x9a\x80\xe2\x80\x80\xe2\x80\x8a\xe2\x80\xa8x"
	    "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\x9f"), OK, "EHLO", "x" },
	/* U+200B and U+180E are not white space for Python 3.11 */
	{ L("EHLO \xe2\x80\x8bx\xe1\xa0\x8e"), OK, "EHLO",
	    "\xe2\x80\x8bx\xe1\xa0\x8e" },
	{ L("ehlo \xc3\xa9"), OK, "EHLO", "\xc3\xa9" },
	{ L("h\xc3\xa9llo x"), OK, "H\xc3\xa9LLO", "x" },	/* ASCII only */
	{ L("XSTATS"), OK, "XSTATS", NULL },
	{ L("\xf0\x9f\x98\x80 x"), OK, "\xf0\x9f\x98\x80", "x" },
	{ L("HELO \xff"), INVALID, NULL, NULL },
	{ L("HELO a\0b"), OK, "HELO", "a?b" },	/* arg_nul set */
	{ L("NOOP \0"), OK, "NOOP", "?" },
	{ L("NO\0OP"), INVALID, NULL, NULL },
	{ L("\0"), INVALID, NULL, NULL },
	{ L("\0 x"), INVALID, NULL, NULL },
	{ L("HELO \xc0\xaf"), INVALID, NULL, NULL },	/* overlong */
	{ L("HELO \xe0\x80\xaf"), INVALID, NULL, NULL },
	{ L("HELO \xed\xa0\x80"), INVALID, NULL, NULL },	/* surrogate */
	{ L("HELO \xf4\x90\x80\x80"), INVALID, NULL, NULL }, /* > U+10FFFF */
	{ L("HELO \xe2\x80"), INVALID, NULL, NULL },	/* truncated */
	{ L("HELO \x80"), INVALID, NULL, NULL },
	{ L("HELO \xc2\x41"), INVALID, NULL, NULL },
#undef L
};

START_TEST(test_command)
{
	char line[128];
	struct smtp_command c;
	enum smtp_parse_status st;

	memcpy(line, commands[_i].line, commands[_i].len);
	line[commands[_i].len] = 'Z';	/* must become the NUL */
	st = smtp_parse_command(line, commands[_i].len, &c);
	ck_assert_int_eq(st, commands[_i].want);
	if (st != OK)
		return;
	ck_assert_str_eq(c.verb, commands[_i].verb);
	if (commands[_i].arg == NULL)
		ck_assert_ptr_null(c.arg);
	else {
		ck_assert_ptr_nonnull(c.arg);
		ck_assert_str_eq(c.arg, commands[_i].arg);
	}
	ck_assert_ptr_eq(c.verb, line);
	ck_assert(c.arg_nul == (memchr(commands[_i].line, '\0',
	    commands[_i].len) != NULL));
}
END_TEST

/* smtp_strip and smtp_space_len. */
static const struct {
	const char *in, *out;
} strips[] = {
	{ "", "" }, { "   ", "" }, { "a", "a" }, { " a b ", "a b" },
	{ "\xc2\xa0" "a\xc2\xa0", "a" }, { "\xe3\x80\x80", "" },
	{ "a\xc2\xa1", "a\xc2\xa1" },	/* U+00A1 is not a space */
	{ "\xe2\x80\x8b", "\xe2\x80\x8b" },
	{ "x\xe2\x80\x8a", "x" }, { "x\xe2\x80\x8b", "x\xe2\x80\x8b" },
	{ "\x1c\x1fx\x0b", "x" }, { "\x1bx\x7f", "\x1bx\x7f" },
};

START_TEST(test_strip)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", strips[_i].in);
	ck_assert_str_eq(smtp_strip(buf), strips[_i].out);
}
END_TEST

START_TEST(test_space_len)
{
	ck_assert_uint_eq(smtp_space_len(" ", 1), 1);
	ck_assert_uint_eq(smtp_space_len(" ", 0), 0);
	ck_assert_uint_eq(smtp_space_len("\xc2\xa0", 2), 2);
	ck_assert_uint_eq(smtp_space_len("\xc2\xa0", 1), 0);
	ck_assert_uint_eq(smtp_space_len("\xe3\x80\x80", 2), 0);
	ck_assert_uint_eq(smtp_space_len("\xe3\x80\x80", 3), 3);
	ck_assert_uint_eq(smtp_space_len("\xe2\x80\x8b", 3), 0);
	ck_assert_uint_eq(smtp_space_len("a", 1), 0);
	for (int c = 0; c < 0x80; c++) {
		char s[1] = { (char)c };
		bool sp = (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20);
		ck_assert_uint_eq(smtp_space_len(s, 1), sp ? 1 : 0);
	}
	ck_assert_uint_eq(smtp_space_len_before("a ", "a " + 2), 1);
	ck_assert_uint_eq(smtp_space_len_before("a\xe2\x80\xa9",
	    "a\xe2\x80\xa9" + 4), 3);
	ck_assert_uint_eq(smtp_space_len_before("\xa0", "\xa0" + 1), 0);
	ck_assert_uint_eq(smtp_space_len_before("", ""), 0);
}
END_TEST

START_TEST(test_utf8)
{
	ck_assert(smtp_utf8_valid("", 0));
	ck_assert(smtp_utf8_valid("abc", 3));
	ck_assert(smtp_utf8_valid("\xc2\x80\xdf\xbf", 4));
	ck_assert(smtp_utf8_valid("\xe0\xa0\x80\xef\xbf\xbf", 6));
	ck_assert(smtp_utf8_valid("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 8));
	ck_assert(!smtp_utf8_valid("\xc1\xbf", 2));
	ck_assert(!smtp_utf8_valid("\xe0\x9f\xbf", 3));
	ck_assert(!smtp_utf8_valid("\xf0\x8f\xbf\xbf", 4));
	ck_assert(!smtp_utf8_valid("\xf5\x80\x80\x80", 4));
	ck_assert(!smtp_utf8_valid("\xed\xbf\xbf", 3));
	ck_assert(!smtp_utf8_valid("\xc2", 1));
	ck_assert(!smtp_utf8_valid("\xe2\x82\xac", 2));	/* cut by len */
	ck_assert(!smtp_utf8_valid("\xfe", 1));
}
END_TEST

/* smtp_parse_path: the MAIL/RCPT argument. */
static const struct {
	const char *arg, *keyword;
	enum smtp_parse_status want;
	const char *addr, *rest;
} paths[] = {
	{ "FROM:<a@b>", "FROM:", OK, "a@b", "" },
	{ "from:<a@b>", "FROM:", OK, "a@b", "" },
	{ "From:eggs@example", "FROM:", OK, "eggs@example", "" },
	{ "from:   <foo@example.com> size=20", "FROM:", OK,
	    "foo@example.com", "size=20" },
	{ "from:<foo@example.com> SIZE=1234", "FROM:", OK,
	    "foo@example.com", "SIZE=1234" },
	{ "FROM:<>", "FROM:", OK, "<>", "" },
	{ "FROM:<> SIZE=10", "FROM:", OK, "<>", " SIZE=10" },
	{ "from: <\"Fred Blogs\"@example.com>", "FROM:", OK,
	    "\"Fred Blogs\"@example.com", "" },
	{ "from: \"Fred Blogs\"@example.com", "FROM:", OK,
	    "\"Fred Blogs\"@example.com", "" },
	{ "from: <\"Fred Blogs\"@example.com> SIZE=1000", "FROM:", OK,
	    "\"Fred Blogs\"@example.com", "SIZE=1000" },
	{ "from: \"Fred Blogs\"@example.com SIZE=1000", "FROM:", OK,
	    "\"Fred Blogs\"@example.com", "SIZE=1000" },
	{ "from: <na\xc3\xafve@example.com> BODY=8BITMIME SMTPUTF8", "FROM:",
	    OK, "na\xc3\xafve@example.com", "BODY=8BITMIME SMTPUTF8" },
	{ "To:sp\xc3\xa4m@exampl\xc3\xa9", "TO:", OK,
	    "sp\xc3\xa4m@exampl\xc3\xa9", "" },
	{ "TO:<eggs@example> ham=green", "TO:", OK, "eggs@example",
	    "ham=green" },
	{ "FROM:<\"\"@x>", "FROM:", OK, "\"\"@x", "" },
	{ "FROM:<@a,@b:c@d>", "FROM:", OK, "c@d", "" },
	{ "FROM:<a (c) @b>", "FROM:", OK, "a@b", "" },
	{ "FROM:<a@[127.0.0.1]>", "FROM:", OK, "a@[127.0.0.1]", "" },
	{ "FROM:a b@c", "FROM:", OK, "\"a b\"@c", "" },
	{ "FROM:<a@b\xc2\xa0", "FROM:", OK, "a@b", "" },	/* stripped */
	{ "FROM:", "FROM:", INVALID, NULL, NULL },
	{ "FROM:  \t", "FROM:", INVALID, NULL, NULL },
	{ "FROM", "FROM:", INVALID, NULL, NULL },
	{ "", "FROM:", INVALID, NULL, NULL },
	{ "from eggs@example", "FROM:", INVALID, NULL, NULL },
	{ "<a@b>", "FROM:", INVALID, NULL, NULL },
	{ "TO:<a@b>", "FROM:", INVALID, NULL, NULL },
	{ "FROM:<a@b>", "TO:", INVALID, NULL, NULL },
	{ "FROM:\"\"", "FROM:", INVALID, NULL, NULL },	/* address "" */
	{ "FROM:<a@b.>", "FROM:", INVALID, NULL, NULL },
	{ "FROM:<", "FROM:", INVALID, NULL, NULL },
	{ "FROM:<a@>", "FROM:", INVALID, NULL, NULL },
	{ "FROM:@example", "FROM:", INVALID, NULL, NULL },
	{ "FROM:<a@b@c>", "FROM:", INVALID, NULL, NULL },
	{ "FROM:\"", "FROM:", INVALID, NULL, NULL },
	{ "FROM:<a@[1.2.3.4>", "FROM:", INVALID, NULL, NULL },
	/* Stricter than Python: no CR or LF anywhere in the argument. */
	{ "FROM:<\"a\nX-Injected: yes\"@x>", "FROM:", INVALID, NULL, NULL },
	{ "FROM:<a\r@x>", "FROM:", INVALID, NULL, NULL },
	{ "FROM:<a@x\r\n>", "FROM:", INVALID, NULL, NULL },
	{ "FROM:<a@b(\r\n)>", "FROM:", INVALID, NULL, NULL },
	{ "FROM:\n<a@x>", "FROM:", INVALID, NULL, NULL },
	{ "FROM:<a@x> SIZE=1\r\nRCPT TO:<b@y>", "FROM:", INVALID, NULL,
	    NULL },
	{ "TO:<b@y>\nRCPT TO:<c@z>", "TO:", INVALID, NULL, NULL },
	{ "TO:b\r@y", "TO:", INVALID, NULL, NULL },
	{ "TO:<b@y> X=\n", "TO:", INVALID, NULL, NULL },
};

START_TEST(test_path)
{
	char addr[256];
	const char *rest = NULL, *arg = paths[_i].arg;
	enum smtp_parse_status st;

	st = smtp_parse_path(arg, paths[_i].keyword, addr, sizeof(addr),
	    &rest);
	ck_assert_int_eq(st, paths[_i].want);
	if (st != OK)
		return;
	ck_assert_str_eq(addr, paths[_i].addr);
	ck_assert_ptr_nonnull(rest);
	ck_assert(rest >= arg && rest <= arg + strlen(arg));
	ck_assert_str_eq(rest, paths[_i].rest);
}
END_TEST

START_TEST(test_path_too_long)
{
	char addr[9];
	const char *rest;

	ck_assert_int_eq(smtp_parse_path("FROM:<abcd@efg>", "FROM:", addr,
	    sizeof(addr), &rest), OK);
	ck_assert_str_eq(addr, "abcd@efg");
	ck_assert_int_eq(smtp_parse_path("FROM:<abcde@efg>", "FROM:", addr,
	    sizeof(addr), &rest), TOO_LONG);
	ck_assert_int_eq(smtp_parse_path("FROM:<abcde@efg>", "FROM:", addr,
	    0, &rest), TOO_LONG);
}
END_TEST

/* Whole MAIL/RCPT lines (len from sizeof): a CR or LF inside the
 * argument is refused by the path; a NUL is flagged by the command split
 * (arg_nul: the channel answers the syntax error); at the ends of the
 * argument CR and LF are white space that the strip takes off. */
static const struct {
	const char *line;
	size_t len;
	enum smtp_parse_status path;
	bool nul;
} injections[] = {
#define L(s) s, sizeof(s) - 1
	{ L("MAIL FROM:<\"a\nX-Injected: yes\"@x>"), INVALID, false },
	{ L("RCPT TO:<b@y>\nRCPT TO:<c@z>"), INVALID, false },
	{ L("RCPT TO:<b\r@y>"), INVALID, false },
	{ L("RCPT TO:\r\n<b@y>"), INVALID, false },
	{ L("MAIL FROM:<a\0@x>"), OK, true },
	{ L("RCPT TO:<b@y>\0"), OK, true },
	{ L("MAIL FROM:<a@x>\r"), OK, false },
	{ L("MAIL FROM:<a@x>\n"), OK, false },
#undef L
};

START_TEST(test_injection)
{
	char line[128], addr[128];
	const char *rest;
	struct smtp_command c;

	memcpy(line, injections[_i].line, injections[_i].len);
	ck_assert_int_eq(smtp_parse_command(line, injections[_i].len, &c),
	    OK);
	ck_assert_int_eq(c.arg_nul, injections[_i].nul);
	ck_assert_int_eq(smtp_parse_path(c.arg, c.verb[0] == 'M' ? "FROM:" :
	    "TO:", addr, sizeof(addr), &rest), injections[_i].path);
	if (injections[_i].path == OK)
		ck_assert_ptr_null(strpbrk(addr, "\r\n"));
}
END_TEST

/* smtp_parse_address: VRFY's _getaddr(arg). */
static const struct {
	const char *arg;
	enum smtp_parse_status want;
	const char *addr, *rest;
} vrfys[] = {
	{ "eggs@example", OK, "eggs@example", "" },
	{ "<eggs@example> x", OK, "eggs@example", "x" },
	{ "postmaster", OK, "postmaster", "" },
	{ "<>", OK, "<>", "" },
	{ "a b", OK, "\"a b\"", "" },
	{ ".", OK, ".", "" },
	{ "\"\"", INVALID, NULL, NULL },
	{ "", INVALID, NULL, NULL },
	{ "<a@b.>", INVALID, NULL, NULL },
	{ "@", INVALID, NULL, NULL },
};

START_TEST(test_address)
{
	char addr[64];
	const char *rest = NULL;
	enum smtp_parse_status st;

	st = smtp_parse_address(vrfys[_i].arg, addr, sizeof(addr), &rest);
	ck_assert_int_eq(st, vrfys[_i].want);
	if (st != OK)
		return;
	ck_assert_str_eq(addr, vrfys[_i].addr);
	ck_assert_str_eq(rest, vrfys[_i].rest);
}
END_TEST

/* smtp_parse_options: in, then the options joined with '|'. */
static const struct {
	const char *in;
	enum smtp_parse_status want;
	const char *joined;
} optsplits[] = {
	{ "", OK, "" },
	{ "   ", OK, "" },
	{ "size=10 body=8bitmime", OK, "SIZE=10|BODY=8BITMIME" },
	{ " SIZE=10  ", OK, "SIZE=10" },
	{ "a\tb\nc\x0b" "d\x1c" "e", OK, "A|B|C|D|E" },
	{ "a\xc2\xa0" "b\xe3\x80\x80" "c\xe2\x80\xa8", OK, "A|B|C" },
	{ "\xc2\x85x", OK, "X" },
	{ "\xc3\xa9=x", OK, "\xc3\xa9=X" },	/* ASCII upper only */
	{ "a b c d e f g h", OK, "A|B|C|D|E|F|G|H" },
	{ "a b c d e f g h i", TOO_LONG, NULL },
};

START_TEST(test_options)
{
	char buf[128], joined[128] = "";
	char *opts[8];
	size_t n = 99;
	enum smtp_parse_status st;

	snprintf(buf, sizeof(buf), "%s", optsplits[_i].in);
	st = smtp_parse_options(buf, opts, NELEM(opts), &n);
	ck_assert_int_eq(st, optsplits[_i].want);
	if (st != OK)
		return;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strcat(joined, "|");
		strcat(joined, opts[i]);
	}
	ck_assert_str_eq(joined, optsplits[_i].joined);
}
END_TEST

/* smtp_check_mail_options: the options as the client sent them, the
 * rules, and smtp_MAIL's answer. */
#define SYNTAX SMTP_OPTIONS_SYNTAX
#define BAD_BODY SMTP_OPTIONS_BAD_BODY
#define UTF8_ARG SMTP_OPTIONS_SMTPUTF8_ARG
#define EXCEEDED SMTP_OPTIONS_SIZE_EXCEEDED
#define UNRECOGNIZED SMTP_OPTIONS_UNRECOGNIZED
#define OPT_OK SMTP_OPTIONS_OK
static const struct {
	const char *opts;
	bool decode_data, smtputf8;
	unsigned long long limit;
	enum smtp_option_status want;
	bool utf8, body8, has_size;
	unsigned long long size;
} mails[] = {
	{ "", 0, 0, 0, OPT_OK, 0, 0, 0, 0 },
	{ "SIZE=1000", 0, 0, 0, OPT_OK, 0, 0, 1, 1000 },
	{ "size=1000", 0, 0, 1000, OPT_OK, 0, 0, 1, 1000 },
	{ "SIZE=1001", 0, 0, 1000, EXCEEDED, 0, 0, 1, 1001 },
	{ "SIZE=2096", 0, 0, 512, EXCEEDED, 0, 0, 1, 2096 },
	{ "SIZE=0", 0, 0, 10, OPT_OK, 0, 0, 1, 0 },
	{ "SIZE=007", 0, 0, 10, OPT_OK, 0, 0, 1, 7 },
	{ "SIZE=99999999999999999999999", 0, 0, 0, OPT_OK, 0, 0, 1,
	    ULLONG_MAX },
	{ "SIZE=18446744073709551616", 0, 0, ULLONG_MAX - 1, EXCEEDED,
	    0, 0, 1, ULLONG_MAX },
	{ "SIZE=18446744073709551615", 0, 0, 0, OPT_OK, 0, 0, 1,
	    ULLONG_MAX },
	{ "SIZE", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },	/* Python crashes */
	{ "SIZE=", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },
	{ "SIZE=invalid", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },
	{ "SIZE=-1", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },
	{ "SIZE=+1", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },
	{ "SIZE=1=2", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },
	{ "SIZE=\xd9\xa3", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },
	{ "SIZE=1 SIZE=x", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },	/* last wins */
	{ "SIZE=x SIZE=5", 0, 0, 0, OPT_OK, 0, 0, 1, 5 },
	{ "SIZE=5 SIZE", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },
	{ "BODY=7BIT", 0, 0, 0, OPT_OK, 0, 0, 0, 0 },
	{ "body=8bitmime", 0, 0, 0, OPT_OK, 0, 1, 0, 0 },
	{ "BODY=BINARYMIME", 0, 0, 0, BAD_BODY, 0, 0, 0, 0 },
	{ "BODY", 0, 0, 0, BAD_BODY, 0, 0, 0, 0 },
	{ "BODY=", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },
	{ "BODY=8BITMIME BODY=7BIT", 0, 0, 0, OPT_OK, 0, 0, 0, 0 },
	{ "BODY=X BODY=8BITMIME", 0, 0, 0, OPT_OK, 0, 1, 0, 0 },
	{ "BODY=8BITMIME", 1, 0, 0, UNRECOGNIZED, 0, 0, 0, 0 },
	{ "BODY=X", 1, 0, 0, UNRECOGNIZED, 0, 0, 0, 0 },
	{ "SMTPUTF8", 0, 1, 0, OPT_OK, 1, 0, 0, 0 },
	{ "SMTPUTF8", 0, 0, 0, UNRECOGNIZED, 0, 0, 0, 0 },
	{ "SMTPUTF8=YES", 0, 1, 0, UTF8_ARG, 0, 0, 0, 0 },
	{ "SMTPUTF8=YES", 0, 0, 0, UNRECOGNIZED, 0, 0, 0, 0 },
	{ "BODY=8BITMIME SMTPUTF8", 0, 1, 0, OPT_OK, 1, 1, 0, 0 },
	{ "BODY=8BITMIME SMTPUTF8", 0, 0, 0, UNRECOGNIZED, 0, 1, 0, 0 },
	{ "HAM=GREEN", 0, 0, 0, UNRECOGNIZED, 0, 0, 0, 0 },
	{ "HAM", 0, 0, 0, UNRECOGNIZED, 0, 0, 0, 0 },
	{ "\xc3\xa9=1", 0, 0, 0, UNRECOGNIZED, 0, 0, 0, 0 },
	{ "X-FOO=1", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },
	{ "=1", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },
	{ "=", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },
	{ "A=", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },
	/* smtp_MAIL's order: _getparams, BODY, SMTPUTF8, SIZE, the rest */
	{ "HAM=1 X-Y", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },
	{ "BODY=X SIZE=x", 0, 0, 0, BAD_BODY, 0, 0, 0, 0 },
	{ "SIZE=x BODY=X", 0, 0, 0, BAD_BODY, 0, 0, 0, 0 },
	{ "SMTPUTF8=1 SIZE=x", 0, 1, 0, UTF8_ARG, 0, 0, 0, 0 },
	{ "SMTPUTF8=1 BODY=X", 0, 1, 0, BAD_BODY, 0, 0, 0, 0 },
	{ "SIZE=x HAM=1", 0, 0, 0, SYNTAX, 0, 0, 0, 0 },
	{ "SIZE=100 HAM=1", 0, 0, 10, EXCEEDED, 0, 0, 1, 100 },
	{ "SIZE=100 HAM=1", 0, 0, 0, UNRECOGNIZED, 0, 0, 1, 100 },
	{ "SIZE=1 BODY=7BIT SMTPUTF8", 0, 1, 5, OPT_OK, 1, 0, 1, 1 },
};

START_TEST(test_mail_options)
{
	char buf[128];
	char *opts[16];
	size_t n;
	struct smtp_mail_rules rules = { mails[_i].decode_data,
	    mails[_i].smtputf8, mails[_i].limit, false, false };
	struct smtp_mail_params p;
	enum smtp_option_status st;

	snprintf(buf, sizeof(buf), "%s", mails[_i].opts);
	ck_assert_int_eq(smtp_parse_options(buf, opts, NELEM(opts), &n), OK);
	st = smtp_check_mail_options(opts, n, &rules, &p);
	ck_assert_int_eq(st, mails[_i].want);
	if (st == OPT_OK || st == EXCEEDED) {
		ck_assert_int_eq(p.smtputf8, mails[_i].utf8);
		ck_assert_int_eq(p.body_8bitmime, mails[_i].body8);
		ck_assert_int_eq(p.has_size, mails[_i].has_size);
		ck_assert(p.size == mails[_i].size);
	}
}
END_TEST

static const struct {
	const char *opts;
	enum smtp_option_status want;
} rcpts[] = {
	{ "", OPT_OK }, { "  ", OPT_OK },
	{ "ham=green", UNRECOGNIZED }, { "SIZE=1", UNRECOGNIZED },
	{ "NOTIFY=NEVER ORCPT=rfc822;a@b", UNRECOGNIZED },
	{ "X", UNRECOGNIZED },
	{ "X-Y=1", SYNTAX }, { "A=", SYNTAX }, { "=", SYNTAX },
	{ "A=1 B=", SYNTAX },
};

START_TEST(test_rcpt_options)
{
	char buf[128];
	char *opts[16];
	size_t n;

	snprintf(buf, sizeof(buf), "%s", rcpts[_i].opts);
	ck_assert_int_eq(smtp_parse_options(buf, opts, NELEM(opts), &n), OK);
	ck_assert_int_eq(smtp_check_rcpt_options(opts, n), rcpts[_i].want);
}
END_TEST

/* A whole MAIL line through every step, as the channel runs them. */
START_TEST(test_mail_line)
{
	char line[] = "mail FROM: <\"Fred Blogs\"@example.com> size=100 "
	    "body=8bitmime";
	char addr[64], rest[64];
	char *opts[8];
	const char *r;
	size_t n;
	struct smtp_command c;
	struct smtp_mail_rules rules = { false, false, 1000, false, false };
	struct smtp_mail_params p;

	ck_assert_int_eq(smtp_parse_command(line, strlen(line), &c), OK);
	ck_assert_str_eq(c.verb, "MAIL");
	ck_assert_int_eq(smtp_parse_path(c.arg, "FROM:", addr, sizeof(addr),
	    &r), OK);
	ck_assert_str_eq(addr, "\"Fred Blogs\"@example.com");
	snprintf(rest, sizeof(rest), "%s", r);
	ck_assert_int_eq(smtp_parse_options(rest, opts, NELEM(opts), &n), OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(smtp_check_mail_options(opts, n, &rules, &p),
	    OPT_OK);
	ck_assert(p.has_size && p.size == 100 && p.body_8bitmime);
}
END_TEST

/* The replies that the steps above lead to, as smtp_MAIL/smtp_RCPT
 * word them; the channel owns the real ones. */
static const char *const mail_replies[] = {
	[SMTP_OPTIONS_BAD_BODY] =
	    "501 Error: BODY can only be one of 7BIT, 8BITMIME",
	[SMTP_OPTIONS_SMTPUTF8_ARG] = "501 Error: SMTPUTF8 takes no arguments",
	[SMTP_OPTIONS_SIZE_EXCEEDED] =
	    "552 Error: message size exceeds fixed maximum message size",
	[SMTP_OPTIONS_UNRECOGNIZED] =
	    "555 MAIL FROM parameters not recognized or not implemented",
};

/* reply_ok - "250 OK|address|options" as the golden file shows it. */
static void
reply_ok(char *out, size_t size, const char *addr, char **opts, size_t n)
{
	size_t len = (size_t)snprintf(out, size, "250 OK|%s|", addr);

	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s",
		    i > 0 ? " " : "", opts[i]);
}

/* reply_path - smtp_MAIL / smtp_RCPT after HELO or EHLO. */
static void
reply_path(const char *arg, bool mail, const char *settings, char *out,
    size_t size)
{
	bool extended = settings[0] == '1';
	struct smtp_mail_rules rules = { settings[1] == '1',
	    settings[2] == '1', settings[3] == '1' ? 1000 : 0, false, false };
	struct smtp_mail_params p;
	char addr[1024], rest[1024];
	char *opts[SMTP_OPTIONS_MAX];
	const char *r;
	size_t n;
	enum smtp_option_status st;

	snprintf(out, size, "501 Syntax: %s <address>%s",
	    mail ? "MAIL FROM:" : "RCPT TO:",
	    extended ? " [SP <mail-parameters>]" : "");
	if (arg == NULL || smtp_parse_path(arg, mail ? "FROM:" : "TO:",
	    addr, sizeof(addr), &r) != SMTP_PARSE_OK)
		return;
	if (!extended && *r != '\0')
		return;
	snprintf(rest, sizeof(rest), "%s", r);
	ck_assert_int_eq(smtp_parse_options(rest, opts, SMTP_OPTIONS_MAX, &n),
	    SMTP_PARSE_OK);
	st = mail ? smtp_check_mail_options(opts, n, &rules, &p) :
	    smtp_check_rcpt_options(opts, n);
	if (st == SMTP_OPTIONS_OK)
		reply_ok(out, size, addr, opts, n);
	else if (st == SMTP_OPTIONS_UNRECOGNIZED && !mail)
		snprintf(out, size, "555 RCPT TO parameters not recognized "
		    "or not implemented");
	else if (st != SMTP_OPTIONS_SYNTAX)
		snprintf(out, size, "%s", mail_replies[st]);
}

/* reply_line - the reply to a MAIL, RCPT or VRFY line. */
static void
reply_line(char *line, size_t len, const char *settings, char *out,
    size_t size)
{
	struct smtp_command c;
	char addr[1024];
	const char *rest;

	if (smtp_parse_command(line, len, &c) != SMTP_PARSE_OK)
		snprintf(out, size, "!CRASH");	/* UnicodeDecodeError */
	else if (strcmp(c.verb, "MAIL") == 0 || strcmp(c.verb, "RCPT") == 0)
		reply_path(c.arg, c.verb[0] == 'M', settings, out, size);
	else if (strcmp(c.verb, "VRFY") != 0)
		snprintf(out, size, "500 Error: command \"%s\" not recognized",
		    c.verb);
	else if (c.arg == NULL || *c.arg == '\0')
		snprintf(out, size, "501 Syntax: VRFY <address>");
	else if (smtp_parse_address(c.arg, addr, sizeof(addr), &rest) ==
	    SMTP_PARSE_OK)
		snprintf(out, size, "252 Cannot VRFY user, but will accept "
		    "message and attempt delivery");
	else
		snprintf(out, size, "502 Could not VRFY %s", c.arg);
}

/* reply_matches - ours against Python's.  Where Python raises (a parse
 * error in the email parser, a bare SIZE, a reply that push() cannot
 * encode in ASCII), psmtpd answers the syntax error instead. */
static bool
reply_matches(const char *ours, const char *python)
{
	if (strcmp(ours, python) == 0)
		return true;
	if (strcmp(python, "!CRASH") != 0)
		return false;
	for (const char *p = ours; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			return true;
	return strncmp(ours, "501 Syntax: ", 12) == 0 ||
	    strncmp(ours, "502 Could not VRFY ", 19) == 0;
}

/* golden_command - one line of commands.tsv. */
static bool
golden_command(char *text, int lineno, void *ctx)
{
	static char line[4096], want[4096], got[4096];
	char *f[3];
	size_t len;

	(void)ctx;
	if (golden_split(text, f, 3) != 3 || strlen(f[1]) != 4 ||
	    !golden_unescape(f[0], line, sizeof(line) - 1, &len) ||
	    !golden_unescape(f[2], want, sizeof(want), NULL)) {
		fprintf(stderr, "commands.tsv:%d: malformed line\n", lineno);
		return false;
	}
	reply_line(line, len, f[1], got, sizeof(got));
	if (reply_matches(got, want))
		return true;
	fprintf(stderr, "commands.tsv:%d: settings %s: python [%s], "
	    "psmtpd [%s]\n", lineno, f[1], want, got);
	return false;
}

START_TEST(test_golden_commands)
{
	const char *path = GOLDEN_DIR "/commands.tsv";
	int checked, failed = golden_each(path, golden_command, NULL,
	    &checked);

	ck_assert_msg(failed >= 0, "cannot read %s", path);
	ck_assert_int_gt(checked, 500);
	ck_assert_msg(failed == 0, "%d of %d golden commands differ",
	    failed, checked);
}
END_TEST

static Suite *
parse_suite(void)
{
	Suite *s = suite_create("smtp_parse");
	TCase *tc = tcase_create("command");

	tcase_add_loop_test(tc, test_command, 0, (int)NELEM(commands));
	tcase_add_loop_test(tc, test_strip, 0, (int)NELEM(strips));
	tcase_add_test(tc, test_space_len);
	tcase_add_test(tc, test_utf8);
	suite_add_tcase(s, tc);
	tc = tcase_create("path");
	tcase_add_loop_test(tc, test_path, 0, (int)NELEM(paths));
	tcase_add_loop_test(tc, test_injection, 0, (int)NELEM(injections));
	tcase_add_test(tc, test_path_too_long);
	tcase_add_loop_test(tc, test_address, 0, (int)NELEM(vrfys));
	suite_add_tcase(s, tc);
	tc = tcase_create("options");
	tcase_add_loop_test(tc, test_options, 0, (int)NELEM(optsplits));
	tcase_add_loop_test(tc, test_mail_options, 0, (int)NELEM(mails));
	tcase_add_loop_test(tc, test_rcpt_options, 0, (int)NELEM(rcpts));
	tcase_add_test(tc, test_mail_line);
	suite_add_tcase(s, tc);
	tc = tcase_create("golden");
	tcase_add_test(tc, test_golden_commands);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(parse_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
