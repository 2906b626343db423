/*
 * channel_envelope.c - MAIL and RCPT, smtpd.py's smtp_MAIL and smtp_RCPT:
 * the same checks in the same order, then the plugins' word.
 */
#include "autoconfig.h"

#include <bsd/string.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel_session.h"
#include "log.h"
#include "smtp_dsn.h"

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
	strlcpy(o->buf, rest, sizeof(o->buf));
	strlcpy(o->raw, rest, sizeof(o->raw));
	if (smtp_parse_options(o->buf, o->opt, SMTP_OPTIONS_MAX, &o->n) !=
	    SMTP_PARSE_OK) {
		o->n = 0;
		return -1;
	}
	/* the raw words end where the upper-cased ones do */
	for (size_t j = 0; j < o->n; j++)
		o->raw[(size_t)(o->opt[j] - o->buf) + strlen(o->opt[j])] = '\0';
	return 0;
}

static const char *const channel_dsn_replies[] = {
	[SMTP_DSN_BAD_RET] = "501 Error: RET must be FULL or HDRS",
	[SMTP_DSN_BAD_ENVID] = "501 Error: ENVID must be xtext of at most "
	    "100 characters",
	[SMTP_DSN_BAD_NOTIFY] = "501 Error: NOTIFY must be NEVER, or a list "
	    "of SUCCESS, FAILURE, DELAY",
	[SMTP_DSN_BAD_ORCPT] = "501 Error: ORCPT must be addr-type;xtext",
	[SMTP_DSN_DUPLICATE] = "501 Error: duplicate DSN parameter",
};

/* channel_rcpt_params_refused - Python 3.11 smtpd's reply to any RCPT
 * parameter it does not know (with DSN on: any but NOTIFY and ORCPT). */
static void
channel_rcpt_params_refused(struct psmtpd_session *s)
{
	channel_reply(s, "555 RCPT TO parameters not recognized or "
	    "not implemented");
}

/* channel_dsn_ok - RFC 3461's parameters of MAIL or RCPT, as sent; true
 * when they pass (or DSN is off), else the reply is sent. */
static bool
channel_dsn_ok(struct psmtpd_session *s, const struct channel_options *o,
    bool rcpt)
{
	const char *raw[SMTP_OPTIONS_MAX];
	enum smtp_dsn_status st;

	for (size_t j = 0; j < o->n; j++)
		raw[j] = channel_option_raw(o, j);
	st = rcpt ? smtp_dsn_check_rcpt((char *const *)raw, o->n) :
	    smtp_dsn_check_mail((char *const *)raw, o->n);
	if (st == SMTP_DSN_OK)
		return true;
	if (st == SMTP_DSN_OTHER)
		channel_rcpt_params_refused(s);
	else
		channel_reply(s, "%s", channel_dsn_replies[st]);
	return false;
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
		.dsn = s->ext.dsn,
	};
	struct smtp_mail_params mp;
	enum smtp_option_status st = smtp_check_mail_options(
	    s->mail_options.opt, s->mail_options.n, &rules, &mp);

	if (st == SMTP_OPTIONS_OK) {
		if (s->ext.dsn && !channel_dsn_ok(s, &s->mail_options, false))
			return false;
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
	if (!channel_check_mail_options(s))
		return false;
	/* on_mail sees what it is about to accept (API 2): the sender and
	 * its parameters are in place; channel_mail_refused undoes them. */
	if ((s->mailfrom = strdup(c->addr)) == NULL) {
		channel_reply(s, "451 Error: out of memory");
		return false;
	}
	api_txn_begin(s);
	return true;
}

void
channel_mail_refused(struct psmtpd_session *s)
{
	api_txn_end(s);
	free(s->mailfrom);
	s->mailfrom = NULL;
}

void
channel_mail_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v)
{
	(void)c;
	channel_reply_accepted(s, v, "250 OK");
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
	if (s->ext.dsn && !channel_dsn_ok(s, &s->rcpt_options, true))
		return false;
	if (!s->ext.dsn && s->rcpt_options.n > 0) {
		channel_rcpt_params_refused(s);
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
