/*
 * milter_msg.c - the message as a milter sees it, and back (see
 * milter_msg.h).  Pure: pointers into the caller's data, output into the
 * caller's buffers.
 */
#include <string.h>

#include "milter_msg.h"

/* The end of the line at pos: the offset of its "\n", or len. */
static size_t
mm_eol(const char *d, size_t len, size_t pos)
{
	const char *nl = memchr(d + pos, '\n', len - pos);

	return nl ? (size_t)(nl - d) : len;
}

/* The length of a field name at the start of a line, or 0 when the line
 * is no field ("Name:" with printable ASCII, white space before ':'). */
static size_t
mm_field_name(const char *s, size_t n, size_t *colon)
{
	size_t i = 0;

	while (i < n && s[i] > ' ' && s[i] < 127 && s[i] != ':')
		i++;
	size_t name = i;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (name == 0 || i == n || s[i] != ':')
		return 0;
	*colon = i;
	return name;
}

enum mm_next
mm_next_header(const char *d, size_t len, size_t *pos, struct mm_header *h)
{
	size_t p = *pos, colon = 0;

	if (p >= len)
		return MM_END;
	size_t eol = mm_eol(d, len, p);
	size_t n = eol - p;
	if (n > 0 && d[eol - 1] == '\r')
		n--;
	if (n == 0) {		/* the empty line: lines after it are body */
		*pos = eol + 1;
		return eol < len ? MM_BODY : MM_END;
	}
	h->name_len = mm_field_name(d + p, n, &colon);
	if (h->name_len == 0)
		return MM_BODY;
	h->name = d + p;
	size_t v = p + colon + 1;
	if (v < p + n && d[v] == ' ')
		v++;
	while (eol < len && eol + 1 < len &&
	    (d[eol + 1] == ' ' || d[eol + 1] == '\t'))
		eol = mm_eol(d, len, eol + 1);
	size_t vend = eol > v && d[eol - 1] == '\r' ? eol - 1 : eol;
	h->value = d + v;
	h->value_len = vend > v ? vend - v : 0;
	*pos = eol < len ? eol + 1 : len;
	return MM_FIELD;
}

void
mm_body_start(struct mm_body *b, const char *d, size_t len, int has_body)
{
	b->d = d;
	b->len = len;
	b->pos = 0;
	b->done = !has_body;
}

size_t
mm_body_chunk(struct mm_body *b, char *out, size_t cap)
{
	size_t w = 0;

	while (!b->done && w + 2 <= cap) {
		if (b->pos == b->len) {
			memcpy(out + w, "\r\n", 2);
			w += 2;
			b->done = 1;
			break;
		}
		char c = b->d[b->pos++];
		if (c != '\r' && c != '\n') {
			out[w++] = c;
			continue;
		}
		if (c == '\r' && b->pos < b->len && b->d[b->pos] == '\n')
			b->pos++;
		memcpy(out + w, "\r\n", 2);
		w += 2;
	}
	return w;
}

size_t
mm_unwire(struct mm_unwire *u, const char *in, size_t n, char *out)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (c == '\n' && u->cr) {	/* the LF of a CRLF */
			u->cr = 0;
			continue;
		}
		if (u->nl)
			out[w++] = '\n';
		u->nl = c == '\r' || c == '\n';
		u->cr = c == '\r';
		if (!u->nl)
			out[w++] = c;
	}
	return w;
}

int
mm_strip_addr(const char *addr, char *out, size_t size)
{
	size_t n = strlen(addr);

	if (n >= 2 && addr[0] == '<' && addr[n - 1] == '>' &&
	    strcmp(addr, "<>") != 0) {
		addr++;
		n -= 2;
	}
	if (n == 0 || n >= size || memchr(addr, '\r', n) != NULL ||
	    memchr(addr, '\n', n) != NULL)
		return -1;
	memcpy(out, addr, n);
	out[n] = '\0';
	return 0;
}

void
mm_header_value(const char *in, char *out)
{
	size_t w = 0;
	int held = 0;

	for (; *in != '\0'; in++) {
		if (*in == '\r' || *in == '\n') {
			if (*in == '\r' && in[1] == '\n')
				in++;
			held = 1;
			continue;
		}
		if (held) {	/* one line end: no empty folded lines */
			out[w++] = '\n';
			if (*in != ' ' && *in != '\t')
				out[w++] = '\t';
			held = 0;
		}
		out[w++] = *in;
	}
	out[w] = '\0';
}
