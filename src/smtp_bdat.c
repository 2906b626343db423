/*
 * smtp_bdat.c - BDAT's chunks and argument; see smtp_bdat.h.
 */
#include "autoconfig.h"

#include <limits.h>
#include <strings.h>

#include "smtp_bdat.h"

void
smtp_bdat_init(struct smtp_bdat *b)
{
	*b = (struct smtp_bdat){ .cr = false };
}

/* bdat_put - one byte that is data, after what was held back. */
static size_t
bdat_put(struct smtp_bdat *b, char c, char *out)
{
	size_t n = 0;

	if (b->nl) {
		out[n++] = '\n';
		b->nl = false;
	}
	if (b->cr) {
		out[n++] = '\r';
		b->cr = false;
	}
	if (c == '\r')
		b->cr = true;
	else
		out[n++] = c;
	return n;
}

size_t
smtp_bdat_feed(struct smtp_bdat *b, const char *in, size_t n, char *out)
{
	size_t w = 0;

	b->total += n;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\n' && b->cr) {
			/* a CR is held only after the last "\n" went out */
			b->cr = false;
			b->nl = true;	/* held: it may end the message */
			continue;
		}
		w += bdat_put(b, in[i], out + w);
	}
	return w;
}

size_t
smtp_bdat_finish(struct smtp_bdat *b, char *out)
{
	size_t w = 0;

	if (b->cr) {		/* a lone CR at the very end is data */
		if (b->nl)
			out[w++] = '\n';
		out[w++] = '\r';
	}
	b->cr = b->nl = false;
	return w;
}

bool
smtp_bdat_parse_arg(const char *arg, unsigned long long *size, bool *last)
{
	unsigned long long v = 0;
	const char *p = arg;

	if (arg == NULL || *p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*size = v;
	*last = false;
	if (*p == '\0')
		return true;
	if (*p != ' ' || strcasecmp(p + 1, "LAST") != 0)
		return false;
	*last = true;
	return true;
}
