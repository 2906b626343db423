/*
 * channel_data.c - the DATA phase: receive the message (smtp_data.c does
 * the decoding), hand it to the plugin chain, answer, log one line.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel_session.h"
#include "log.h"
#include "smtp_data.h"

/* channel_data_room - make room for n more bytes (plus a NUL) in the
 * message buffer; -1 when that cannot be had. */
int
channel_data_room(struct psmtpd_session *s, size_t n)
{
	if (s->data_len + n + 1 <= s->data_cap)
		return 0;
	size_t cap = s->data_cap ? s->data_cap : 65536;
	while (cap < s->data_len + n + 1)
		cap *= 2;
	char *d = realloc(s->data, cap);
	if (d == NULL)
		return -1;
	s->data = d;
	s->data_cap = cap;
	return 0;
}

/* channel_data_limit - the raw size past which the message is refused:
 * data_size_limit, or the hard cap when there is none. */
unsigned long long
channel_data_limit(const struct channel_params *p)
{
	return p->data_size_limit != 0 ? p->data_size_limit :
	    p->max_message_size;
}

long long
channel_data_deadline(const struct psmtpd_session *s)
{
	return io_deadline_min(io_deadline(s->params->timeout_data),
	    s->session_deadline);
}

bool
channel_data_fill(struct psmtpd_session *s, long long deadline)
{
	enum io_status st;

	/* a signal (a stop) waits for the message */
	while ((st = io_fill_until(&s->io, s->params->timeout_command,
	    deadline)) == IO_INTR)
		;
	if (st == IO_OK)
		return true;
	if (st == IO_TIMEOUT)
		channel_reply(s, "421 %s Error: timeout exceeded",
		    s->params->fqdn);
	channel_close(s, st == IO_TIMEOUT ? CHANNEL_END_TIMEOUT :
	    st == IO_EOF ? CHANNEL_END_EOF : CHANNEL_END_ERROR);
	return false;
}

/* channel_read_message - read up to the end marker; false when the
 * session ended on the way (EOF, timeout, error). */
static bool
channel_read_message(struct psmtpd_session *s, struct smtp_data *sd,
    bool *nomem)
{
	long long deadline = channel_data_deadline(s);

	while (!sd->done) {
		if (!channel_data_fill(s, deadline))
			return false;
		size_t avail, produced;
		const char *in = io_peek(&s->io, &avail);
		char *out = NULL;
		if (!sd->overflow && !*nomem) {
			if (channel_data_room(s, avail + SMTP_DATA_SLACK) == 0)
				out = s->data + s->data_len;
			else
				*nomem = true;
		}
		if (out == NULL)
			sd->overflow = true;	/* keep scanning, store none */
		io_consume(&s->io, smtp_data_feed(sd, in, avail, out,
		    &produced));
		s->data_len += produced;
	}
	return true;
}

/* channel_log_message - one line per message, Postfix style. */
static void
channel_log_message(const struct psmtpd_session *s, const char *reply)
{
	char to[1024];
	size_t n = 0;

	to[0] = '\0';
	for (size_t i = 0; i < s->nrcpt && n < sizeof(to); i++)
		n += (size_t)snprintf(to + n, sizeof(to) - n, "%s<%s>",
		    i ? "," : "", s->rcpts[i].addr);
	log_info("message id=%s client=%s from=<%s> to=%s nrcpt=%zu size=%zu "
	    "reply=\"%s\"", s->id, s->peer_addr,
	    s->mailfrom != NULL ? s->mailfrom : "", to, s->nrcpt, s->data_len,
	    reply);
}

/* channel_deliver - process_message over the chain, then the reply. */
static void
channel_deliver(struct psmtpd_session *s)
{
	struct channel_verdict v;

	channel_run_hook(s, CHANNEL_HOOK_MESSAGE, NULL, &v);
	s->messages++;
	if (v.result == PSMTPD_CONTINUE) {
		channel_log_message(s, "250 OK");
		channel_reply(s, "250 OK");
		return;
	}
	channel_log_message(s, v.reply);
	channel_send_verdict(s, &v);
}

/* channel_receive_data - the message after the 354, to its reply. */
static void
channel_receive_data(struct psmtpd_session *s)
{
	struct smtp_data sd;
	bool nomem = false;

	channel_phase(s, CHANNEL_PHASE_DATA, NULL);
	smtp_data_init(&sd, channel_data_limit(s->params));
	s->data_len = 0;
	if (!channel_read_message(s, &sd, &nomem))
		return;
	/* Unlike smtpd.py, which stays in DATA after a 552 and takes the
	 * next commands as a message, the transaction ends here. */
	channel_end_message(s, smtp_data_too_big(&sd), nomem);
}

void
channel_end_message(struct psmtpd_session *s, bool too_big, bool nomem)
{
	if (s->data != NULL)
		s->data[s->data_len] = '\0';
	if (too_big) {
		channel_reply(s, "552 Error: Too much mail data");
		channel_reset_transaction(s);
		return;
	}
	if (nomem) {
		channel_reply(s, "451 Error: out of memory");
		channel_reset_transaction(s);
		return;
	}
	if (s->params->decode_data && !smtp_utf8_valid(s->data, s->data_len)) {
		channel_reply(s, "554 Error: message is not valid UTF-8");
		channel_reset_transaction(s);
		return;
	}
	channel_deliver(s);
	channel_reset_transaction(s);
}

void
channel_data_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v)
{
	(void)c;
	s->smtp_state = PSMTPD_STATE_DATA;
	channel_reply_accepted(s, v, "354 End data with <CR><LF>.<CR><LF>");
	if (!s->closing)
		channel_receive_data(s);
}
