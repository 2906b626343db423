/*
 * channel_bdat.c - BDAT (RFC 3030 CHUNKING), with esmtp.chunking.
 *
 * A chunk is always read whole before any reply, even when it is refused,
 * so that client and server stay in step: that is why BDAT's row in
 * channel_verbs.c has no flags and no hook, and this file checks the
 * state and runs the DATA hook (at the first chunk) after the read.  The
 * chunks of a message go through smtp_bdat.c into the same buffer and the
 * same form as DATA's; the size limit applies to their running total;
 * BDAT ... LAST ends the message as the end of DATA does.
 */
#include "autoconfig.h"

#include <stdio.h>

#include "channel_session.h"
#include "smtp_bdat.h"

bool
channel_bdat_enabled(const struct psmtpd_session *s)
{
	return s->ext.chunking;
}

/* channel_bdat_read - the chunk's size bytes, decoded into the message
 * when store; false when the session ended on the way. */
static bool
channel_bdat_read(struct psmtpd_session *s, unsigned long long size,
    bool store, bool *nomem)
{
	size_t avail;

	channel_data_begin(s);
	while (size > 0) {
		if (!io_pending(&s->io) && !channel_data_fill(s))
			return false;
		const char *in = io_peek(&s->io, &avail);
		size_t n = avail < size ? avail : (size_t)size;
		char *out = store && !*nomem ? message_room(&s->msg, n +
		    SMTP_BDAT_SLACK) : NULL;
		if (store && out == NULL)
			*nomem = true;
		if (out != NULL && message_commit(&s->msg,
		    smtp_bdat_feed(&s->bdat, in, n, out)) != 0)
			*nomem = true;
		io_consume(&s->io, n);
		size -= n;
	}
	return true;
}

/* channel_bdat_state_ok - after the read, the state checks that DATA's
 * row has; false when one failed (the 503 is sent). */
static bool
channel_bdat_state_ok(struct psmtpd_session *s)
{
	if (s->seen_greeting[0] == '\0')
		channel_reply(s, "503 Error: send %s first", s->lmtp ? "LHLO" :
		    "HELO");
	else if (s->mailfrom == NULL)
		channel_reply(s, "503 Error: need MAIL command");
	else if (s->nrcpt == 0)
		channel_reply(s, "503 Error: need RCPT command");
	else
		return true;
	return false;
}

/* channel_bdat_first - the DATA hook at the first chunk of a message;
 * true when it lets the message go on. */
static bool
channel_bdat_first(struct psmtpd_session *s, struct channel_verdict *v)
{
	v->result = PSMTPD_CONTINUE;
	if (s->bdat_active)
		return true;
	channel_run_hook(s, CHANNEL_HOOK_DATA, NULL, v);
	if (v->result != PSMTPD_CONTINUE && v->reply[0] != '2' &&
	    v->reply[0] != '3')
		return false;
	s->bdat_active = true;
	message_reset(&s->msg);
	smtp_bdat_init(&s->bdat);
	return true;
}

/* channel_bdat_finish - the held-back bytes, then the message is whole;
 * true when it could not be stored. */
static bool
channel_bdat_finish(struct psmtpd_session *s)
{
	char *out = message_room(&s->msg, SMTP_BDAT_SLACK);

	return out == NULL || message_commit(&s->msg,
	    smtp_bdat_finish(&s->bdat, out)) != 0 || message_end(&s->msg) != 0;
}

/* channel_bdat_answer - the reply to a chunk read whole. */
static void
channel_bdat_answer(struct psmtpd_session *s, unsigned long long size,
    bool last, bool too_big, bool nomem)
{
	if (too_big || nomem || last) {
		if (last && !too_big && !nomem)
			nomem = channel_bdat_finish(s);
		channel_end_message(s, too_big, nomem);
		return;
	}
	s->smtp_state = PSMTPD_STATE_COMMAND;
	channel_reply(s, "250 OK %llu octets received", size);
}

void
channel_bdat_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *unused)
{
	unsigned long long size, limit = channel_data_limit(s->params);
	struct channel_verdict v = { .result = PSMTPD_CONTINUE };
	bool last, nomem = false;

	(void)unused;
	if (!smtp_bdat_parse_arg(c->arg, &size, &last)) {
		channel_reply(s, "501 Syntax: BDAT <size> [LAST]");
		return;
	}
	bool txn = s->seen_greeting[0] != '\0' && s->mailfrom != NULL &&
	    s->nrcpt > 0;
	bool accepted = txn && channel_bdat_first(s, &v);
	bool too_big = accepted && size > limit - s->bdat.total;
	if (accepted) {
		s->smtp_state = PSMTPD_STATE_DATA;
		channel_phase(s, CHANNEL_PHASE_DATA, NULL);
	}
	if (!channel_bdat_read(s, size, accepted && !too_big, &nomem))
		return;
	if (!txn) {
		channel_bdat_state_ok(s);
		return;
	}
	if (!accepted) {
		channel_send_verdict(s, &v);
		channel_reset_transaction(s);
		return;
	}
	channel_bdat_answer(s, size, last, too_big, nomem);
}
