/*
 * smtp_data.c - the DATA decoder: end detection and dot-unstuffing.
 */
#include "autoconfig.h"

#include <string.h>

#include "smtp_data.h"

void
smtp_data_init(struct smtp_data *sd, unsigned long long limit)
{
	*sd = (struct smtp_data){ .state = SMTP_DATA_BOL, .limit = limit };
}

/* The writer keeps output behind the overflow check in one place. */
struct smtp_data_out {
	struct smtp_data *sd;
	char *out;
	size_t n;
};

static void
smtp_data_emit(struct smtp_data_out *w, char c)
{
	if (w->sd->overflow)
		return;
	w->out[w->n++] = c;
}

/* smtp_data_start_line - the line has content: the "\n" that joins it to
 * the previous line is data after all. */
static void
smtp_data_start_line(struct smtp_data_out *w)
{
	if (w->sd->pending_nl) {
		w->sd->pending_nl = false;
		smtp_data_emit(w, '\n');
	}
}

/* smtp_data_text - one byte inside a line. */
static void
smtp_data_text(struct smtp_data_out *w, char c)
{
	struct smtp_data *sd = w->sd;

	if (c == '\r') {
		sd->state = SMTP_DATA_CR;
		return;
	}
	smtp_data_emit(w, c);
	sd->state = SMTP_DATA_TEXT;
}

/* smtp_data_byte - advance the state machine by one byte; true at the end. */
static bool
smtp_data_byte(struct smtp_data_out *w, char c)
{
	struct smtp_data *sd = w->sd;

	switch (sd->state) {
	case SMTP_DATA_BOL:
		if (c == '.') {
			sd->state = SMTP_DATA_DOT;
			return false;
		}
		smtp_data_start_line(w);
		smtp_data_text(w, c);
		return false;
	case SMTP_DATA_DOT:
		if (c == '\r') {
			sd->state = SMTP_DATA_DOT_CR;
			return false;
		}
		/* A stuffed dot: dropped, the line goes on. */
		smtp_data_start_line(w);
		smtp_data_text(w, c);
		return false;
	case SMTP_DATA_DOT_CR:
		if (c == '\n')
			return true;
		/* ".\r" then more: the dot was stuffing, the CR is data. */
		smtp_data_start_line(w);
		sd->state = SMTP_DATA_CR;
		return smtp_data_byte(w, c);
	case SMTP_DATA_TEXT:
		smtp_data_text(w, c);
		return false;
	case SMTP_DATA_CR:
		if (c == '\n') {
			sd->pending_nl = true;
			sd->state = SMTP_DATA_BOL;
			return false;
		}
		smtp_data_emit(w, '\r');	/* a bare CR is data */
		smtp_data_text(w, c);
		return false;
	}
	return false;
}

/* smtp_data_check_limit - raw bytes so far, less the longest possible
 * terminator still to come, already over the limit? */
static void
smtp_data_check_limit(struct smtp_data *sd)
{
	if (sd->limit != 0 && sd->consumed > sd->limit + 5)
		sd->overflow = true;
}

/* smtp_data_run - inside a line everything up to the next CR is data:
 * copy it in one go (the byte-at-a-time machine was most of the cost of
 * a large message).  Returns the bytes taken. */
static size_t
smtp_data_run(struct smtp_data_out *w, const char *in, size_t n)
{
	const char *cr = memchr(in, '\r', n);
	size_t run = cr != NULL ? (size_t)(cr - in) : n;

	if (!w->sd->overflow) {
		memcpy(w->out + w->n, in, run);
		w->n += run;
	}
	w->sd->consumed += run;
	smtp_data_check_limit(w->sd);
	return run;
}

/* smtp_data_line_break - in a line at "\r\nX" where X is neither "." nor
 * "\r": a line break that cannot begin the end marker, so its "\n" is
 * data at once and X's line is text (what the byte machine would do in
 * three steps, once per line).  Returns the bytes taken: 2, or 0. */
static size_t
smtp_data_line_break(struct smtp_data_out *w, const char *in, size_t n)
{
	if (n < 3 || in[0] != '\r' || in[1] != '\n' || in[2] == '.' ||
	    in[2] == '\r')
		return 0;
	w->sd->consumed += 2;
	smtp_data_check_limit(w->sd);	/* before: as the byte machine */
	smtp_data_emit(w, '\n');
	return 2;
}

size_t
smtp_data_feed(struct smtp_data *sd, const char *in, size_t inlen,
    char *out, size_t *produced)
{
	struct smtp_data_out w = { sd, out, 0 };
	size_t i;

	for (i = 0; i < inlen && !sd->done; i++) {
		if (sd->state == SMTP_DATA_TEXT) {
			size_t run = smtp_data_run(&w, in + i, inlen - i);
			run += smtp_data_line_break(&w, in + i + run,
			    inlen - i - run);
			if (run > 0) {
				i += run - 1;
				continue;
			}
		}
		sd->consumed++;
		if (smtp_data_byte(&w, in[i])) {
			sd->done = true;
			/* Python's data ends before "\r\n.\r\n"; a message
			 * that is only ".\r\n" has three bytes of end. */
			sd->raw = sd->consumed - (sd->consumed >= 5 ? 5 : 3);
			sd->pending_nl = false;
		}
		smtp_data_check_limit(sd);
	}
	*produced = w.n;
	sd->stored += w.n;
	return i;
}

bool
smtp_data_too_big(const struct smtp_data *sd)
{
	return sd->limit != 0 && (sd->overflow || sd->raw > sd->limit);
}
