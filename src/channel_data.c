/*
 * channel_data.c - the DATA phase: receive the message (smtp_data.c does
 * the decoding), hand it to the plugin chain, answer, log one line.
 */
#include "autoconfig.h"

#include <bsd/string.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channel_session.h"
#include "log.h"
#include "smtp_data.h"

/* channel_data_limit - the raw size past which the message is refused:
 * data_size_limit, or the hard cap when there is none. */
unsigned long long
channel_data_limit(const struct channel_params *p)
{
	return p->data_size_limit != 0 ? p->data_size_limit :
	    p->max_message_size;
}

void
channel_data_begin(struct psmtpd_session *s)
{
	io_mark(&s->io);
}

/* channel_data_fill - timeouts.data is the time allowed between two
 * reads (a steady sender is never cut off), within the session's time;
 * in stress mode each line must arrive within stress.data. */
bool
channel_data_fill(struct psmtpd_session *s)
{
	const struct io_limit lim = { .timeout = s->params->timeout_data,
	    .stress_timeout = s->params->stress_data,
	    .stress = s->params->stress, .hard = s->session_deadline };
	enum io_status st;

	/* a signal (a stop) waits for the message */
	while ((st = io_fill_record(&s->io, s->params->timeout_command,
	    &lim)) == IO_INTR)
		;
	if (st == IO_OK)
		return true;
	channel_read_failed(s, st);
	return false;
}

/* channel_spool_failed - the message cannot be kept (no memory, a full
 * spool disk): it is read to its end and refused with a 451. */
static void
channel_spool_failed(struct psmtpd_session *s, bool *failed)
{
	log_warn("id=%s msgid=%s cannot spool the message in %s", s->id,
	    s->api.msgid, s->msg.orig.dir);
	*failed = true;
}

/* channel_read_message - read up to the end marker; false when the
 * session ended on the way (EOF, timeout, error). */
static bool
channel_read_message(struct psmtpd_session *s, struct smtp_data *sd,
    bool *nomem)
{
	channel_data_begin(s);
	while (!sd->done) {
		if (!channel_data_fill(s))
			return false;
		size_t avail, produced;
		const char *in = io_peek(&s->io, &avail);
		char *out = NULL;
		if (!sd->overflow && !*nomem &&
		    (out = message_room(&s->msg, avail + SMTP_DATA_SLACK)) ==
		    NULL)
			*nomem = true;
		if (out == NULL)
			sd->overflow = true;	/* keep scanning, store none */
		io_consume(&s->io, smtp_data_feed(sd, in, avail, out,
		    &produced));
		if (out != NULL && message_commit(&s->msg, produced) != 0)
			channel_spool_failed(s, nomem);
	}
	return true;
}

/* channel_log_message - one line per message, Postfix style. */
static void
channel_log_message(const struct psmtpd_session *s, const char *reply)
{
	char to[1024], from[512], rcpt[512], safe[512];
	size_t n = 0;

	to[0] = '\0';
	for (size_t i = 0; i < s->nrcpt && n < sizeof(to); i++)
		n += (size_t)snprintf(to + n, sizeof(to) - n, "%s<%s>",
		    i ? "," : "", log_escape(rcpt, sizeof(rcpt),
		    s->rcpts[i].addr));
	log_info("message id=%s msgid=%s client=%s from=<%s> to=%s nrcpt=%zu "
	    "size=%zu%s reply=\"%s\"", s->id, s->api.msgid, s->peer_addr,
	    log_escape(from, sizeof(from), s->mailfrom), to, s->nrcpt,
	    message_size(&s->msg), message_spooled(&s->msg) ? " spooled=1" :
	    "", log_escape(safe, sizeof(safe), reply));
}

/* channel_received - the Received: header (RFC 5321 4.4), when the
 * config asks for it; the client's HELO text is shown as printable
 * ASCII only. */
static void
channel_received(struct psmtpd_session *s)
{
	char helo[256], date[64];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;

	for (i = 0; s->seen_greeting[i] != '\0' && i < sizeof(helo) - 1; i++)
		helo[i] = s->seen_greeting[i] > ' ' && s->seen_greeting[i] <= '~' ?
		    s->seen_greeting[i] : '?';
	helo[i] = '\0';
	if (localtime_r(&now, &tm) == NULL || strftime(date, sizeof(date),
	    "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		snprintf(date, sizeof(date), "%lld", (long long)now);
	char value[1024];
	snprintf(value, sizeof(value), "from %s (%s)\n\tby %s with %s id %s;"
	    "\n\t%s", helo, s->peer_addr, s->params->fqdn,
	    s->extended_smtp ? "ESMTP" : "SMTP", s->api.msgid, date);
	if (message_header_add(&s->msg, 0, "Received", value) != 0)
		log_warnx("id=%s msgid=%s cannot add the Received: header",
		    s->id, s->api.msgid);
}

/* channel_message_reply - the reply to a message: once in SMTP; in LMTP
 * once per accepted recipient, in RCPT order (RFC 2033 4.2): with
 * verdicts (after process_message), each recipient's own as the plugin
 * API settled them (psmtpd_reply_rcpt, else the message's), else text. */
static void
channel_message_reply(struct psmtpd_session *s, const char *text,
    bool verdicts)
{
	if (!s->lmtp) {
		channel_reply_raw(s, text);
		return;
	}
	for (size_t i = 0; i < s->nrcpt && !s->closing; i++) {
		const char *own = verdicts ? s->rcpts[i].reply : NULL;
		channel_reply_raw(s, own != NULL ? own : text);
	}
}

/* channel_deliver - process_message over the chain, then the reply. */
static void
channel_deliver(struct psmtpd_session *s)
{
	struct channel_verdict v;
	char ok[CHANNEL_REPLY_MAX];

	if (s->params->received_header)
		channel_received(s);
	channel_run_message_hooks(s, &v);
	s->messages++;
	if (s->obs != NULL && s->obs->message != NULL)
		s->obs->message(s->obs->arg, v.result == PSMTPD_CONTINUE ||
		    v.reply[0] == '2');
	if (v.result == PSMTPD_CONTINUE && s->params->reply_queue_id)
		snprintf(ok, sizeof(ok), "250 OK queued as %s", s->api.msgid);
	else if (v.result == PSMTPD_CONTINUE)
		strlcpy(ok, "250 OK", sizeof(ok));
	const char *text = v.result == PSMTPD_CONTINUE ? ok : v.reply;
	channel_log_message(s, text);
	channel_message_reply(s, text, true);
	if (v.result == PSMTPD_DISCONNECT)
		channel_close(s, CHANNEL_END_PLUGIN);
	channel_run_outcome_hooks(s);
}

/* channel_receive_data - the message after the 354, to its reply. */
void
channel_receive_data(struct psmtpd_session *s)
{
	struct smtp_data sd;
	bool nomem = false;

	channel_phase(s, CHANNEL_PHASE_DATA, NULL);
	smtp_data_init(&sd, channel_data_limit(s->params));
	message_reset(&s->msg);
	if (!channel_read_message(s, &sd, &nomem))
		return;
	if (!nomem && !smtp_data_too_big(&sd) && message_end(&s->msg) != 0)
		channel_spool_failed(s, &nomem);
	/* Unlike smtpd.py, which stays in DATA after a 552 and takes the
	 * next commands as a message, the transaction ends here. */
	channel_end_message(s, smtp_data_too_big(&sd), nomem);
}

void
channel_end_message(struct psmtpd_session *s, bool too_big, bool nomem)
{
	if (too_big)
		channel_message_reply(s, "552 Error: Too much mail data", false);
	else if (nomem)
		channel_message_reply(s, "451 Error: cannot store the message",
		    false);
	else if (s->params->decode_data && !smtp_utf8_valid(s->msg.data,
	    s->msg.len))
		channel_message_reply(s, "554 Error: message is not valid UTF-8",
		    false);
	else
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
