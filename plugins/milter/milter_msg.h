/*
 * milter_msg.h - the message as a milter sees it, and back: pure
 * functions that cut psmtpd's form of the message (lines joined by "\n",
 * Python's received_data) into header fields and body chunks in wire form
 * (CRLF line ends, as Postfix and sendmail send them), and turn what a
 * milter sends back (a body in CRLF form, "<address>") into psmtpd's form.
 */
#ifndef PSMTPD_MILTER_MSG_H
#define PSMTPD_MILTER_MSG_H

#include <stddef.h>

/* One header field of the message, pointers into the data. */
struct mm_header {
	const char *name;
	size_t name_len;	/* without the white space before ':' */
	const char *value;	/* after ':' and one space (sendmail eats it) */
	size_t value_len;	/* up to the line end; folded lines included,
				 * joined by "\n" as sendmail sends them */
};

/*
 * The data is lines joined by "\n": "a\n" is two lines, "a" and "".
 * The next header field at *pos: MM_FIELD with h filled and *pos after
 * it; at the end of the header block MM_BODY (the body's lines start at
 * *pos: after the empty line, or at the first line that is not a field)
 * or MM_END (the message has no body lines).
 */
enum mm_next { MM_END = 0, MM_FIELD = 1, MM_BODY = 2 };
enum mm_next mm_next_header(const char *d, size_t len, size_t *pos,
    struct mm_header *h);

/* A body being cut into chunks. */
struct mm_body {
	const char *d;
	size_t len, pos;
	int done;		/* the final CRLF was written */
};

/* Start on the body lines d[0..len) (has_body 0: there are none). */
void mm_body_start(struct mm_body *b, const char *d, size_t len,
    int has_body);
/*
 * The next chunk of the body in wire form: every line ends in CRLF (a
 * "\n", a bare "\r" or "\r\n" of the data is one line end, as the
 * proxy plugin sends them).  Writes at most cap bytes to out (cap >= 2);
 * the count, 0 when the body is done.
 */
size_t mm_body_chunk(struct mm_body *b, char *out, size_t cap);

/* Turning a replacement body in wire form back into psmtpd's form, in
 * chunks: CRLF (or a lone CR or LF) becomes "\n", except the last line
 * end of the whole body, which is held back until more follows. */
struct mm_unwire {
	int cr;			/* the chunk ended in "\r" */
	int nl;			/* a line end is held back */
};

/* Convert n bytes of in into out (room for n + 1 bytes); the count. */
size_t mm_unwire(struct mm_unwire *u, const char *in, size_t n, char *out);

/* An address as a milter sends it, "<a@b>" or "a@b", into out without
 * the brackets ("<>" stays "<>", the null sender).  0, or -1 when it is
 * empty, does not fit or holds a CR or LF. */
int mm_strip_addr(const char *addr, char *out, size_t size);

/* A header value from a milter ("\r\n" or "\n" before a folded line) in
 * psmtpd's form: "\n" then the space or tab; a line end that is not
 * followed by one gets a tab, so that a value never ends a field early.
 * Trailing line ends are dropped.  out has room for 2 * strlen + 1. */
void mm_header_value(const char *in, char *out);

#endif
