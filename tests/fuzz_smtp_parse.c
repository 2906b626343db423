/*
 * fuzz_smtp_parse.c - libFuzzer target for the pure SMTP parser: the input
 * is one command line (without CRLF); it goes through every step that the
 * channel runs (command, MAIL/RCPT path, VRFY address, options, the MAIL
 * and RCPT parameter checks under every rule set), and the address parser
 * also sees the raw input.  Besides the sanitizers, it checks what the
 * API promises: results inside the caller's buffers, NUL-terminated,
 * TOO_LONG exactly when the address does not fit, rest inside arg.
 *
 * Build and run (clang with libFuzzer; not part of the normal build):
 *   make fuzz && make fuzz-run      every target of the tree (hard.am)
 *   make fuzz-parse-run             this one alone (parse.am)
 * or by hand, keeping new inputs in a directory of your own:
 *   make fuzz-parse
 *   ./tests/fuzz_smtp_parse -max_total_time=300 -max_len=1100 \
 *       MY-CORPUS-DIR $(top_srcdir)/tests/corpus/smtp_parse
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_addr.h"
#include "smtp_parse.h"

#define FZ_LINE_MAX 4096
#define FZ_ADDR_MAX (2 * FZ_LINE_MAX + 3)	/* see smtp_addr.h */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fz_assert(cond) do { if (!(cond)) abort(); } while (0)

/* fz_addr - one address parse twice: with room, then with exactly too
 * little room, which must be TOO_LONG and write nothing past it. */
static void
fz_addr(const char *arg, size_t len)
{
	static char addr[FZ_ADDR_MAX + 1];
	size_t restoff = 0, alen;
	enum smtp_parse_status st;

	st = smtp_addr_get(arg, len, addr, FZ_ADDR_MAX, &restoff);
	if (st != SMTP_PARSE_OK)
		return;
	fz_assert(restoff <= len);
	alen = strlen(addr);
	fz_assert(alen <= 2 * len + 2);	/* the bound smtp_addr.h promises */
	fz_assert(smtp_addr_get(arg, len, addr, alen + 1, &restoff) ==
	    SMTP_PARSE_OK);
	if (alen == 0)
		return;
	addr[alen] = 'X';
	fz_assert(smtp_addr_get(arg, len, addr, alen, &restoff) ==
	    SMTP_PARSE_TOO_LONG);
	fz_assert(addr[alen] == 'X');
}

/* fz_options - rest.upper().split() and the MAIL/RCPT parameter checks
 * under every combination of the rules. */
static void
fz_options(const char *rest)
{
	static char buf[FZ_LINE_MAX + 1];
	char *opts[SMTP_OPTIONS_MAX];
	size_t n;
	struct smtp_mail_params p;

	fz_assert(strlen(rest) <= FZ_LINE_MAX);
	strcpy(buf, rest);
	if (smtp_parse_options(buf, opts, SMTP_OPTIONS_MAX, &n) !=
	    SMTP_PARSE_OK)
		return;
	for (size_t i = 0; i < n; i++)
		fz_assert(opts[i][0] != '\0');
	for (int r = 0; r < 16; r++) {
		struct smtp_mail_rules rules = { (r & 1) != 0, (r & 2) != 0,
		    (r & 4) != 0 ? 1000 : 0, (r & 8) != 0 };
		if (rules.decode_data && rules.enable_smtputf8)
			continue;	/* the config forbids it */
		enum smtp_option_status st =
		    smtp_check_mail_options(opts, n, &rules, &p);
		fz_assert(st <= SMTP_OPTIONS_UNRECOGNIZED);
	}
	fz_assert(smtp_check_rcpt_options(opts, n) <=
	    SMTP_OPTIONS_UNRECOGNIZED);
}

/* fz_path - the MAIL/RCPT argument with one keyword. */
static void
fz_path(const char *arg, const char *keyword)
{
	static char addr[FZ_ADDR_MAX + 1];
	const char *rest = NULL;

	if (smtp_parse_path(arg, keyword, addr, sizeof(addr), &rest) !=
	    SMTP_PARSE_OK)
		return;
	fz_assert(addr[0] != '\0');
	fz_assert(rest >= arg && rest <= arg + strlen(arg));
	fz_options(rest);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char line[FZ_LINE_MAX + 1], copy[FZ_LINE_MAX + 1];
	struct smtp_command c;
	char addr[64];
	const char *rest;

	if (size > FZ_LINE_MAX)
		return 0;
	memcpy(line, data, size);
	if (smtp_utf8_valid(line, size) && memchr(line, '\0', size) == NULL)
		fz_addr(line, size);
	if (smtp_parse_command(line, size, &c) != SMTP_PARSE_OK)
		return 0;
	fz_assert(c.verb == line);
	if (c.arg == NULL)
		return 0;
	fz_assert(c.arg > line && c.arg <= line + size);
	strcpy(copy, c.arg);
	fz_assert(strcmp(smtp_strip(copy), c.arg) == 0);	/* idempotent */
	fz_path(c.arg, "FROM:");
	fz_path(c.arg, "TO:");
	if (smtp_parse_address(c.arg, addr, sizeof(addr), &rest) ==
	    SMTP_PARSE_OK)
		fz_assert(addr[0] != '\0' && strlen(addr) < sizeof(addr));
	fz_options(c.arg);
	return 0;
}
