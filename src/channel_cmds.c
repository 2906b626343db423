/*
 * channel_cmds.c - the built-in verbs, smtpd.SMTPChannel's smtp_<VERB>
 * methods, in a table.  Replies and the order of checks are Python 3.11's.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "channel_session.h"
#include "log.h"
#include "plugin_loader.h"

#define CHANNEL_EXTENDED " [SP <mail-parameters>]"
#define CHANNEL_HELP_LIST "EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY"

/* channel_greeting_ok - HELO/EHLO checks shared by both; true to go on. */
static bool
channel_greeting_ok(struct psmtpd_session *s, const char *verb,
    const char *arg)
{
	if (arg == NULL || arg[0] == '\0') {
		channel_reply(s, "501 Syntax: %s hostname", verb);
		return false;
	}
	/* See Python issue #21783: a second greeting is refused. */
	if (s->seen_greeting[0] != '\0') {
		channel_reply(s, "503 Duplicate HELO/EHLO");
		return false;
	}
	/* The plugins see the transaction that is being reset. */
	channel_run_rset_hooks(s);
	channel_rset_state(s);
	snprintf(s->seen_greeting, sizeof(s->seen_greeting), "%s", arg);
	return true;
}

/* channel_helo_hook - the plugins' word on a greeting; true if they
 * answered (the reply is sent). */
static bool
channel_helo_hook(struct psmtpd_session *s, const char *arg)
{
	struct channel_verdict v;

	channel_run_hook(s, CHANNEL_HOOK_HELO, arg, &v);
	if (!channel_send_verdict(s, &v))
		return false;
	if (v.reply[0] != '2') {
		/* A refused greeting is no greeting. */
		s->seen_greeting[0] = '\0';
		s->extended_smtp = false;
		s->mail_limit_extra = 0;
	}
	return true;
}

static void
channel_handle_helo(struct psmtpd_session *s, char *arg)
{
	if (!channel_greeting_ok(s, "HELO", arg))
		return;
	if (channel_helo_hook(s, arg))
		return;
	channel_reply(s, "250 %s", s->params->fqdn);
}

static void
channel_handle_ehlo(struct psmtpd_session *s, char *arg)
{
	const struct channel_params *p = s->params;
	char text[CHANNEL_REPLY_MAX];
	size_t n = 0;

	if (!channel_greeting_ok(s, "EHLO", arg))
		return;
	s->extended_smtp = true;
	if (p->data_size_limit != 0)
		s->mail_limit_extra += 26;
	if (p->enable_smtputf8)
		s->mail_limit_extra += 10;
	if (channel_helo_hook(s, arg))
		return;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "250-%s", p->fqdn);
	if (p->data_size_limit != 0)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "\n250-SIZE %llu", p->data_size_limit);
	if (!p->decode_data)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "\n250-8BITMIME");
	if (p->enable_smtputf8)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "\n250-SMTPUTF8");
	snprintf(text + n, sizeof(text) - n, "\n250 HELP");
	channel_reply_raw(s, text);
}

static void
channel_handle_noop(struct psmtpd_session *s, char *arg)
{
	if (arg != NULL && arg[0] != '\0')
		channel_reply(s, "501 Syntax: NOOP");
	else
		channel_reply(s, "250 OK");
}

static void
channel_handle_quit(struct psmtpd_session *s, char *arg)
{
	(void)arg;
	channel_reply(s, "221 Bye");
	channel_close(s, CHANNEL_END_QUIT);
}

/* channel_help_topic - the one-verb HELP answers; NULL if unknown. */
static const char *
channel_help_topic(const char *topic)
{
	static const struct {
		const char *verb, *text;
	} topics[] = {
		{ "EHLO", "250 Syntax: EHLO hostname" },
		{ "HELO", "250 Syntax: HELO hostname" },
		{ "MAIL", "250 Syntax: MAIL FROM: <address>" },
		{ "RCPT", "250 Syntax: RCPT TO: <address>" },
		{ "DATA", "250 Syntax: DATA" },
		{ "RSET", "250 Syntax: RSET" },
		{ "NOOP", "250 Syntax: NOOP" },
		{ "QUIT", "250 Syntax: QUIT" },
		{ "VRFY", "250 Syntax: VRFY <address>" },
	};

	for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
		if (strcmp(topic, topics[i].verb) == 0)
			return topics[i].text;
	return NULL;
}

/* channel_added_verbs - the verbs plugins add (not overrides), for HELP. */
static void
channel_added_verbs(const struct psmtpd_session *s, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < plugin_set_verb_count(s->plugins); i++) {
		const char *v = plugin_set_verb(s->plugins, i);
		if (channel_builtin_verb(v) != NULL)
			continue;
		int n = snprintf(buf + off, size - off, "%s%s", off ? " " : "",
		    v);
		if (n < 0 || (size_t)n >= size - off)
			break;
		off += (size_t)n;
	}
}

static void
channel_handle_help(struct psmtpd_session *s, char *arg)
{
	char added[512];

	channel_added_verbs(s, added, sizeof(added));
	if (arg == NULL || arg[0] == '\0') {
		channel_reply(s, "250 Supported commands: " CHANNEL_HELP_LIST
		    "%s%s", added[0] != '\0' ? " " : "", added);
		return;
	}
	for (char *p = arg; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	const struct psmtpd_command *pc = plugin_set_command(s->plugins, arg,
	    NULL);
	if (pc != NULL && pc->help != NULL) {
		channel_reply(s, "250 %s", pc->help);
		return;
	}
	const char *text = channel_help_topic(arg);
	if (text == NULL) {
		channel_reply(s, "501 Supported commands: " CHANNEL_HELP_LIST
		    "%s%s", added[0] != '\0' ? " " : "", added);
		return;
	}
	bool params = strcmp(arg, "MAIL") == 0 || strcmp(arg, "RCPT") == 0;
	channel_reply(s, "%s%s", text,
	    params && s->extended_smtp ? CHANNEL_EXTENDED : "");
}

static void
channel_handle_vrfy(struct psmtpd_session *s, char *arg)
{
	char addr[CHANNEL_LINE_MAX * 2];
	const char *rest;

	if (arg == NULL || arg[0] == '\0') {
		channel_reply(s, "501 Syntax: VRFY <address>");
		return;
	}
	if (smtp_parse_address(arg, addr, sizeof(addr), &rest) ==
	    SMTP_PARSE_OK)
		channel_reply(s, "252 Cannot VRFY user, but will accept "
		    "message and attempt delivery");
	else
		channel_reply(s, "502 Could not VRFY %s", arg);
}

static void
channel_handle_expn(struct psmtpd_session *s, char *arg)
{
	(void)arg;
	channel_reply(s, "502 EXPN not implemented");
}

static void
channel_handle_rset(struct psmtpd_session *s, char *arg)
{
	if (arg != NULL && arg[0] != '\0') {
		channel_reply(s, "501 Syntax: RSET");
		return;
	}
	channel_run_rset_hooks(s);
	channel_rset_state(s);
	channel_reply(s, "250 OK");
}

static void
channel_handle_data(struct psmtpd_session *s, char *arg)
{
	struct channel_verdict v;

	if (!channel_greeted(s))
		return;
	if (s->nrcpt == 0) {
		channel_reply(s, "503 Error: need RCPT command");
		return;
	}
	if (arg != NULL && arg[0] != '\0') {
		channel_reply(s, "501 Syntax: DATA");
		return;
	}
	channel_run_hook(s, CHANNEL_HOOK_DATA, NULL, &v);
	if (channel_send_verdict(s, &v))
		return;
	s->smtp_state = PSMTPD_STATE_DATA;
	channel_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

/* MAIL and RCPT are in channel_envelope.c. */
void channel_handle_mail(struct psmtpd_session *s, char *arg);
void channel_handle_rcpt(struct psmtpd_session *s, char *arg);

static const struct {
	const char *verb;
	channel_verb_fn fn;
} channel_verbs[] = {
	{ "HELO", channel_handle_helo },
	{ "EHLO", channel_handle_ehlo },
	{ "NOOP", channel_handle_noop },
	{ "QUIT", channel_handle_quit },
	{ "MAIL", channel_handle_mail },
	{ "RCPT", channel_handle_rcpt },
	{ "RSET", channel_handle_rset },
	{ "DATA", channel_handle_data },
	{ "HELP", channel_handle_help },
	{ "VRFY", channel_handle_vrfy },
	{ "EXPN", channel_handle_expn },
};

channel_verb_fn
channel_builtin_verb(const char *verb)
{
	for (size_t i = 0; i < sizeof(channel_verbs) / sizeof(channel_verbs[0]);
	    i++)
		if (strcmp(verb, channel_verbs[i].verb) == 0)
			return channel_verbs[i].fn;
	return NULL;
}
