/*
 * smtp_esc.h - enhanced status codes (RFC 2034, codes of RFC 3463) for
 * the replies of psmtpd and its plugins.  Pure: text in, text out.
 *
 * A reply gets the code that a real MTA sends in its context (2.1.0 for
 * MAIL, 2.1.5 for RCPT, 5.5.2 for a syntax error, 5.3.4 for a size, ...),
 * found in one table by the verb being answered, the reply code and the
 * start of the text.  Never on 3xx (354, AUTH's 334), never on the
 * greeting or on the replies to HELO, EHLO and LHLO (RFC 2034 section 3),
 * and never twice: a line that carries a code keeps it.
 */
#ifndef PSMTPD_SMTP_ESC_H
#define PSMTPD_SMTP_ESC_H

#include <stdbool.h>
#include <stddef.h>

/* The length of the "x.y.z" at the start of text (after "NNN " or
 * "NNN-"), followed by a space or the end; 0 when there is none. */
size_t smtp_esc_len(const char *text);

/* The code for one reply line in a context (the verb answered, "" for a
 * reply outside any command, NULL for the greeting); NULL for none. */
const char *smtp_esc_for(const char *context, const char *line);

/*
 * Write reply (lines joined by "\n", each "NNN text" or "NNN-text") into
 * out with each line's code added where it needs one.  A line lacking a
 * code takes the first line's when it has one, else the table's.  false
 * when out is too small (out then holds the reply unchanged, cut).
 */
bool smtp_esc_apply(const char *context, const char *reply, char *out,
    size_t size);

#endif
