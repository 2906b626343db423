/*
 * smtp_parse.h - pure parsing of SMTP command lines, as Python 3.11's
 * smtpd.SMTPChannel parses them.  Bytes in, results out: no I/O, no
 * globals, no allocation; results point into caller buffers.
 *
 * The channel keeps the order of checks that smtpd.py has (state checks
 * sit between these steps), so parsing comes in steps:
 *   smtp_parse_command   the verb and its argument (found_terminator)
 *   smtp_parse_path      "FROM:"/"TO:" keyword, address, rest (_getaddr)
 *   smtp_parse_options   rest.upper().split() (mail_options/rcpt_options)
 *   smtp_check_mail_options / smtp_check_rcpt_options  (_getparams + rules)
 */
#ifndef PSMTPD_SMTP_PARSE_H
#define PSMTPD_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

enum smtp_parse_status {
	SMTP_PARSE_OK = 0,
	SMTP_PARSE_INVALID,	/* syntax error */
	SMTP_PARSE_TOO_LONG	/* a result does not fit the caller's buffer */
};

/* Most MAIL/RCPT parameters one line can carry (a 1 KiB line holds at
 * most ~512 of them). */
#define SMTP_OPTIONS_MAX 512

struct smtp_command {
	char *verb;	/* upper-cased (ASCII), NUL-terminated, may be "" */
	char *arg;	/* NULL when the line has no space; else stripped as
			 * Python's str.strip() does, NUL-terminated, may be "" */
	bool arg_nul;	/* the argument held NUL bytes, now each '?' */
};

/*
 * Split a command line (without its CRLF) in place: line[len] must be
 * writable (it becomes NUL).  The verb is everything before the first
 * space (only ' ', as Python's line.find(' ')).  INVALID when the verb
 * holds a NUL byte or the line is not valid UTF-8 (Python would fail to
 * decode it).  A NUL in the argument becomes '?' and sets arg_nul.
 */
enum smtp_parse_status smtp_parse_command(char *line, size_t len,
    struct smtp_command *out);

/* Python's str.strip() on UTF-8 text, in place: returns the start and
 * NUL-terminates at the new end. */
char *smtp_strip(char *s);

/* true when buf[0..len) is well-formed UTF-8 (as Python's decoder). */
bool smtp_utf8_valid(const char *buf, size_t len);

/* The byte length of the Python white space character (str.isspace(),
 * UTF-8 encoded) that starts at s, within avail bytes; 0 when none. */
size_t smtp_space_len(const char *s, size_t avail);

/* The same for the white space character that ends at end; start bounds
 * the look-back.  0 when none. */
size_t smtp_space_len_before(const char *start, const char *end);

/*
 * MAIL/RCPT argument: arg is the command's argument (non-NULL), keyword
 * "FROM:" or "TO:".  As smtpd.py's _strip_command_keyword then _getaddr:
 * the address (addr_spec as Python's email parser renders it, e.g. "<>"
 * for the null path) goes into addr, and *rest points at what follows it
 * inside arg (not stripped; "" when nothing but white space follows).
 * arg is expected stripped, as smtp_parse_command leaves it: otherwise a
 * non-empty rest keeps the trailing white space that Python's would not
 * have (which rest.upper().split() ignores).  INVALID when Python would
 * answer the syntax error (no keyword, no address, unparsable address)
 * or raise (it then drops the connection), and also, stricter than
 * Python, when arg holds a CR or an LF anywhere (a NUL never reaches it:
 * smtp_parse_command makes it '?' and sets arg_nul, which the channel
 * refuses); TOO_LONG when addr is too
 * small.  See smtp_addr.h for the address itself.
 */
enum smtp_parse_status smtp_parse_path(const char *arg, const char *keyword,
    char *addr, size_t addrsize, const char **rest);

/* VRFY's _getaddr(arg): OK with a non-empty addr, INVALID otherwise. */
enum smtp_parse_status smtp_parse_address(const char *arg, char *addr,
    size_t addrsize, const char **rest);

/*
 * rest.upper().split(): upper-cases in place (ASCII letters) and splits on
 * white space into opts[]; *count is set.  TOO_LONG past maxopts.
 */
enum smtp_parse_status smtp_parse_options(char *rest, char **opts,
    size_t maxopts, size_t *count);

/* The rules smtp_MAIL applies to its parameters. */
struct smtp_mail_rules {
	bool decode_data;	/* BODY= is not recognized when true */
	bool enable_smtputf8;	/* SMTPUTF8 is recognized when true */
	unsigned long long data_size_limit; /* 0: none */
	bool dsn;		/* RET and ENVID are recognized (smtp_dsn.c
				 * checks their values) */
	bool auth;		/* AUTH=<mailbox> (RFC 4954 5) is recognized */
};

enum smtp_option_status {
	SMTP_OPTIONS_OK = 0,
	SMTP_OPTIONS_SYNTAX,	/* 501 Syntax: MAIL FROM: <address> ... */
	SMTP_OPTIONS_BAD_BODY,	/* 501 Error: BODY can only be one of 7BIT, 8BITMIME */
	SMTP_OPTIONS_SMTPUTF8_ARG, /* 501 Error: SMTPUTF8 takes no arguments */
	SMTP_OPTIONS_SIZE_EXCEEDED, /* 552 Error: message size exceeds fixed maximum message size */
	SMTP_OPTIONS_UNRECOGNIZED /* 555 MAIL FROM parameters not recognized or not implemented */
};

struct smtp_mail_params {
	bool smtputf8;		/* SMTPUTF8 given (require_SMTPUTF8) */
	bool body_8bitmime;	/* BODY=8BITMIME */
	bool has_size;
	unsigned long long size; /* SIZE=, saturated at ULLONG_MAX */
};

/* The checks of smtp_MAIL after mail_options is set, in its order. */
enum smtp_option_status smtp_check_mail_options(char *const *opts,
    size_t count, const struct smtp_mail_rules *rules,
    struct smtp_mail_params *out);

/* The checks of smtp_RCPT: SYNTAX or UNRECOGNIZED for any parameter. */
enum smtp_option_status smtp_check_rcpt_options(char *const *opts,
    size_t count);

#endif
