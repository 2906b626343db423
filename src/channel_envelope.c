/*
 * channel_envelope.c - MAIL and RCPT, smtpd.py's smtp_MAIL and smtp_RCPT:
 * the same checks in the same order, then the plugins' word.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel_session.h"
#include "log.h"

#define CHANNEL_MAIL_SYNTAX "501 Syntax: MAIL FROM: <address>"
#define CHANNEL_RCPT_SYNTAX "501 Syntax: RCPT TO: <address>"
#define CHANNEL_EXTENDED " [SP <mail-parameters>]"
/* Without a configured limit the recipients are still bounded. */
#define CHANNEL_RCPT_HARD_MAX 100000

/* channel_syntax_error - the 501 of MAIL or RCPT, longer after EHLO. */
static void
channel_syntax_error(struct psmtpd_session *s, const char *base)
{
	channel_reply(s, "%s%s", base, s->extended_smtp ? CHANNEL_EXTENDED :
	    "");
}

/* channel_store_options - keep rest.upper().split() as the session's
 * mail_options or rcpt_options; -1 past SMTP_OPTIONS_MAX of them. */
static int
channel_store_options(const char *rest, struct channel_options *o)
{
	snprintf(o->buf, sizeof(o->buf), "%s", rest);
	if (smtp_parse_options(o->buf, o->opt, SMTP_OPTIONS_MAX, &o->n) !=
	    SMTP_PARSE_OK) {
		o->n = 0;
		return -1;
	}
	return 0;
}

/* channel_parse_envelope_arg - keyword, address and "no parameters
 * before EHLO": true with c->addr and c->rest set, else the 501 is sent.
 * A NUL in the argument is a syntax error here (DESIGN.md). */
static bool
channel_parse_envelope_arg(struct psmtpd_session *s, struct channel_cmd *c,
    const char *keyword, const char *syntax)
{
	if (c->arg == NULL || c->arg_nul ||
	    smtp_parse_path(c->arg, keyword, c->addr, sizeof(c->addr),
	    &c->rest) != SMTP_PARSE_OK ||
	    (!s->extended_smtp && c->rest[0] != '\0')) {
		channel_syntax_error(s, syntax);
		return false;
	}
	c->hook_arg = c->addr;
	return true;
}

static const char *const channel_mail_option_replies[] = {
	[SMTP_OPTIONS_BAD_BODY] =
	    "501 Error: BODY can only be one of 7BIT, 8BITMIME",
	[SMTP_OPTIONS_SMTPUTF8_ARG] = "501 Error: SMTPUTF8 takes no arguments",
	[SMTP_OPTIONS_SIZE_EXCEEDED] =
	    "552 Error: message size exceeds fixed maximum message size",
	[SMTP_OPTIONS_UNRECOGNIZED] =
	    "555 MAIL FROM parameters not recognized or not implemented",
};

/* channel_check_mail_options - the parameter rules; true when they pass,
 * else the reply is sent. */
static bool
channel_check_mail_options(struct psmtpd_session *s)
{
	struct smtp_mail_rules rules = {
		.decode_data = s->params->decode_data,
		.enable_smtputf8 = s->params->enable_smtputf8,
		.data_size_limit = s->params->data_size_limit,
		.auth = channel_auth_enabled(s),
	};
	struct smtp_mail_params mp;
	enum smtp_option_status st = smtp_check_mail_options(
	    s->mail_options.opt, s->mail_options.n, &rules, &mp);

	if (st == SMTP_OPTIONS_OK) {
		s->require_smtputf8 = mp.smtputf8;
		return true;
	}
	if (st == SMTP_OPTIONS_SYNTAX)
		channel_syntax_error(s, CHANNEL_MAIL_SYNTAX);
	else
		channel_reply(s, "%s", channel_mail_option_replies[st]);
	return false;
}

bool
channel_mail_check(struct psmtpd_session *s, struct channel_cmd *c)
{
	if (!channel_parse_envelope_arg(s, c, "FROM:", CHANNEL_MAIL_SYNTAX))
		return false;
	if (s->mailfrom != NULL) {
		channel_reply(s, "503 Error: nested MAIL command");
		return false;
	}
	if (channel_store_options(c->rest, &s->mail_options) != 0) {
		channel_syntax_error(s, CHANNEL_MAIL_SYNTAX);
		return false;
	}
	return channel_check_mail_options(s);
}

void
channel_mail_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v)
{
	if ((s->mailfrom = strdup(c->addr)) == NULL) {
		channel_reply(s, "451 Error: out of memory");
		return;
	}
	channel_reply_accepted(s, v, "250 OK");
}

/* channel_add_rcpt - append to rcpttos; -1 when out of memory. */
static int
channel_add_rcpt(struct psmtpd_session *s, const char *addr)
{
	if (s->nrcpt == s->rcpt_cap) {
		size_t cap = s->rcpt_cap ? s->rcpt_cap * 2 : 8;
		char **r = realloc(s->rcpttos, cap * sizeof(*r));
		if (r == NULL)
			return -1;
		s->rcpttos = r;
		s->rcpt_cap = cap;
	}
	if ((s->rcpttos[s->nrcpt] = strdup(addr)) == NULL)
		return -1;
	s->nrcpt++;
	return 0;
}

/* channel_rcpt_limit_reached - true when one more recipient is too many
 * (the 452 is sent). */
static bool
channel_rcpt_limit_reached(struct psmtpd_session *s)
{
	size_t max = s->params->max_recipients;

	if (max == 0 || max > CHANNEL_RCPT_HARD_MAX)
		max = CHANNEL_RCPT_HARD_MAX;
	if (s->nrcpt < max)
		return false;
	channel_reply(s, "452 Error: too many recipients");
	return true;
}

bool
channel_rcpt_check(struct psmtpd_session *s, struct channel_cmd *c)
{
	if (!channel_parse_envelope_arg(s, c, "TO:", CHANNEL_RCPT_SYNTAX))
		return false;
	if (channel_store_options(c->rest, &s->rcpt_options) != 0 ||
	    smtp_check_rcpt_options(s->rcpt_options.opt, s->rcpt_options.n) ==
	    SMTP_OPTIONS_SYNTAX) {
		channel_syntax_error(s, CHANNEL_RCPT_SYNTAX);
		return false;
	}
	if (s->rcpt_options.n > 0) {
		channel_reply(s, "555 RCPT TO parameters not recognized or "
		    "not implemented");
		return false;
	}
	return !channel_rcpt_limit_reached(s);
}

void
channel_rcpt_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v)
{
	if (channel_add_rcpt(s, c->addr) != 0) {
		channel_reply(s, "451 Error: out of memory");
		return;
	}
	channel_reply_accepted(s, v, "250 OK");
}
