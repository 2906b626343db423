/*
 * channel_reply.c - the bottom layer of the channel: replies to the
 * client, closing, and telling the observer what the session does.
 * Every other channel file uses these; they call nothing of the channel.
 */
#include "autoconfig.h"

#include <bsd/string.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "channel_session.h"
#include "log.h"
#include "smtp_esc.h"

static const char *const channel_end_names[] = {
	[CHANNEL_END_QUIT] = "quit",
	[CHANNEL_END_EOF] = "eof",
	[CHANNEL_END_TIMEOUT] = "timeout",
	[CHANNEL_END_ERROR] = "error",
	[CHANNEL_END_ERRORS] = "too-many-errors",
	[CHANNEL_END_PLUGIN] = "plugin",
	[CHANNEL_END_SHUTDOWN] = "shutdown",
};

const char *
channel_end_name(enum channel_end end)
{
	return channel_end_names[end];
}

void
channel_phase(struct psmtpd_session *s, enum channel_phase phase,
    const char *detail)
{
	if (s->obs != NULL && s->obs->phase != NULL)
		s->obs->phase(s->obs->arg, phase, detail);
}

/* channel_close - the session ends after this command; the first reason
 * given is the one logged. */
void
channel_close(struct psmtpd_session *s, enum channel_end end)
{
	if (!s->closing) {
		s->closing = true;
		s->end = end;
	}
}

void
channel_read_failed(struct psmtpd_session *s, enum io_status st)
{
	if (st == IO_TIMEOUT)
		channel_reply(s, "421 %s Error: timeout exceeded",
		    s->params->fqdn);
	channel_close(s, st == IO_TIMEOUT ? CHANNEL_END_TIMEOUT :
	    st == IO_EOF ? CHANNEL_END_EOF : CHANNEL_END_ERROR);
}

/* channel_reply_raw - one reply (possibly several lines joined by "\n"),
 * each line sent with CRLF, with its enhanced status code when those are
 * on.  The loop counts errors from last_code. */
void
channel_reply_raw(struct psmtpd_session *s, const char *text)
{
	int timeout = s->params->timeout_command;
	char esc[CHANNEL_REPLY_MAX * 2];

	if (s->ext.enhanced_status_codes &&
	    smtp_esc_apply(s->reply_context, text, esc, sizeof(esc)))
		text = esc;
	if (s->params->trace) {
		char safe[1024];	/* a reply may quote the client */
		log_debug("id=%s reply=\"%s\"", s->id,
		    log_escape(safe, sizeof(safe), text));
	}
	s->last_code = text[0];
	for (const char *p = text;;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (io_write(&s->io, p, n, timeout) != IO_OK ||
		    io_write(&s->io, "\r\n", 2, timeout) != IO_OK) {
			channel_close(s, CHANNEL_END_ERROR);
			return;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* channel_reply - one reply line.  Its text may echo the client (the
 * verb, a VRFY argument): CR and LF there would inject reply lines, so
 * they are sent as '?'.  smtpd.py sends its replies as UTF-8 inside an
 * SMTPUTF8 transaction and raises on non-ASCII elsewhere, so outside one
 * those bytes are sent as '?' too. */
void
channel_reply(struct psmtpd_session *s, const char *fmt, ...)
{
	char text[CHANNEL_REPLY_MAX];
	va_list ap;

	if (strchr(fmt, '%') == NULL) {	/* most replies: no formatting */
		strlcpy(text, fmt, sizeof(text));
	} else {
		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
	}
	for (char *p = text; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n' ||
		    ((unsigned char)*p >= 0x80 && !s->require_smtputf8))
			*p = '?';
	channel_reply_raw(s, text);
}

void
channel_refuse(const struct channel_params *params, int fd, const char *text)
{
	char line[CHANNEL_REPLY_MAX];
	int n = snprintf(line, sizeof(line), "421 %s %s\r\n", params->fqdn,
	    text);

	if (n > 0 && (size_t)n < sizeof(line)) {
		/* Best effort: the connection is being dropped anyway. */
		ssize_t w = send(fd, line, (size_t)n, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
		(void)w;
	}
}
