/*
 * smtp_bdat.h - the BDAT chunks of RFC 3030 as a pure, resumable decoder
 * that gives the plugins the message in the same form as after DATA
 * (smtp_data.h): each CRLF becomes "\n" and the CRLF that ends the
 * message is dropped; a bare CR or LF is data.  Nothing is dot-unstuffed
 * (BDAT carries the message as it is).  A CRLF may be split between two
 * chunks.  Also the parser of BDAT's argument.
 */
#ifndef PSMTPD_SMTP_BDAT_H
#define PSMTPD_SMTP_BDAT_H

#include <stdbool.h>
#include <stddef.h>

/* Each call may emit up to this many bytes held back from earlier ones. */
#define SMTP_BDAT_SLACK 2

struct smtp_bdat {
	bool cr;		/* the last byte was a CR, not yet known bare */
	bool nl;		/* a CRLF seen, its "\n" held back: the end? */
	unsigned long long total;	/* raw bytes of the chunks so far */
};

void smtp_bdat_init(struct smtp_bdat *b);

/* Decode n bytes into out (room for n + SMTP_BDAT_SLACK); the number of
 * bytes written.  The raw count grows by n either way. */
size_t smtp_bdat_feed(struct smtp_bdat *b, const char *in, size_t n,
    char *out);

/* The end of the message (BDAT ... LAST): a held-back lone CR is data, a
 * held-back final CRLF is dropped.  The bytes written (room for 2). */
size_t smtp_bdat_finish(struct smtp_bdat *b, char *out);

/* "<size> [LAST]" (LAST in any case, one space between, as RFC 3030's
 * bdat-cmd): false when it is not that, or the size overflows. */
bool smtp_bdat_parse_arg(const char *arg, unsigned long long *size,
    bool *last);

#endif
