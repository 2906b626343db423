/*
 * smtp_data.h - the DATA phase as a pure, resumable decoder.
 *
 * Input: the bytes the client sends after "354".  Output: the message as
 * Python's smtpd hands it to process_message: lines split on CRLF only,
 * one leading dot removed from each line (RFC 5321 4.5.2), rejoined with
 * "\n", without the CRLF before the final dot.  The end is a line holding
 * only "." after a CRLF, or as the very first line (an empty message; RFC
 * 5321 4.1.1.4).  A bare CR or LF is data and never ends anything, so a
 * message cannot be split by "\n.\n" tricks (SMTP smuggling).
 *
 * Output never exceeds input overall, but a call may emit up to
 * SMTP_DATA_SLACK bytes held back from earlier calls (a CR not yet known
 * to be bare, the "\n" of a CRLF not yet known not to start the end
 * marker), so out needs room for inlen + SMTP_DATA_SLACK bytes.  Past
 * `limit` raw bytes the decoder keeps scanning for the end but stores
 * nothing more (overflow).
 */
#ifndef PSMTPD_SMTP_DATA_H
#define PSMTPD_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_DATA_SLACK 2

enum smtp_data_state {
	SMTP_DATA_BOL,		/* at the start of a line */
	SMTP_DATA_DOT,		/* "." at the start of a line */
	SMTP_DATA_DOT_CR,	/* ".\r" at the start of a line */
	SMTP_DATA_TEXT,		/* inside a line */
	SMTP_DATA_CR		/* a CR inside a line, not yet known bare */
};

struct smtp_data {
	enum smtp_data_state state;
	bool pending_nl;	/* a CRLF seen, its "\n" not yet emitted */
	bool overflow;		/* more raw data than the limit */
	bool done;
	unsigned long long limit;	/* raw bytes allowed (0: none) */
	unsigned long long consumed;	/* raw bytes consumed, end included */
	unsigned long long raw;		/* at done: data size as Python counts */
	size_t stored;			/* bytes written to out so far */
};

void smtp_data_init(struct smtp_data *sd, unsigned long long limit);

/*
 * Feed input.  Writes the decoded bytes at out (room for at least inlen +
 * SMTP_DATA_SLACK bytes unless sd->overflow, when out may be NULL).
 * Returns the number of
 * input bytes consumed: all of them unless the end was found, in which
 * case sd->done is set and the rest (pipelined commands) is left.
 * *produced is how many bytes were written at out.
 */
size_t smtp_data_feed(struct smtp_data *sd, const char *in, size_t inlen,
    char *out, size_t *produced);

/* At done: true when the message is over the limit (552). */
bool smtp_data_too_big(const struct smtp_data *sd);

#endif
