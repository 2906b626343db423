/*
 * channel_cmds.c - the functions of the session verbs (HELO, EHLO, NOOP,
 * QUIT, RSET, HELP, VRFY, EXPN), smtpd.SMTPChannel's smtp_<VERB> methods;
 * their rows are in channel_verbs.c.  Replies and the order of checks are
 * Python 3.11's.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel_session.h"
#include "log.h"
#include "plugin_loader.h"

#define CHANNEL_EXTENDED " [SP <mail-parameters>]"
#define CHANNEL_HELP_LIST "EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY"

/* channel_greeting_ok - HELO/EHLO checks shared by both; true to go on
 * (the greeting is then in effect for the hook to see). */
static bool
channel_greeting_ok(struct psmtpd_session *s, struct channel_cmd *c)
{
	if (c->arg == NULL || c->arg[0] == '\0') {
		channel_reply(s, "501 Syntax: %s hostname", c->verb);
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
	snprintf(s->seen_greeting, sizeof(s->seen_greeting), "%s", c->arg);
	c->hook_arg = c->arg;
	return true;
}

bool
channel_helo_check(struct psmtpd_session *s, struct channel_cmd *c)
{
	return channel_greeting_ok(s, c);
}

bool
channel_ehlo_check(struct psmtpd_session *s, struct channel_cmd *c)
{
	if (!channel_greeting_ok(s, c))
		return false;
	s->extended_smtp = true;
	if (s->params->data_size_limit != 0)
		s->mail_limit_extra += 26;
	if (s->params->enable_smtputf8)
		s->mail_limit_extra += 10;
	return true;
}

/* channel_helo_refused - a refused greeting is no greeting. */
void
channel_helo_refused(struct psmtpd_session *s)
{
	s->seen_greeting[0] = '\0';
	s->extended_smtp = false;
	s->mail_limit_extra = 0;
}

void
channel_helo_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v)
{
	char text[CHANNEL_REPLY_MAX];

	(void)c;
	snprintf(text, sizeof(text), "250 %s", s->params->fqdn);
	channel_reply_accepted(s, v, text);
}

/* channel_ehlo_add - one more "250-" line of the EHLO reply. */
static void
channel_ehlo_add(char *text, size_t size, size_t *n, const char *line)
{
	int w = snprintf(text + *n, size - *n, "\n250-%s", line);

	if (w > 0 && (size_t)w < size - *n)
		*n += (size_t)w;
}

/* channel_ehlo_plugins - the keywords plugins add (API 2). */
static void
channel_ehlo_plugins(struct psmtpd_session *s, char *text, size_t size,
    size_t *n)
{
	channel_run_ehlo_hooks(s);
	for (char *p = s->api.ehlo; s->api.ehlo_len > 0 && p != NULL;) {
		char *nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		channel_ehlo_add(text, size, n, p);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

/* channel_ehlo_list - Python's keywords, then the extensions' from the
 * keyword table, then HELP. */
static void
channel_ehlo_list(struct psmtpd_session *s)
{
	const struct channel_params *p = s->params;
	char text[CHANNEL_REPLY_MAX], line[256];
	size_t n = 0;
	channel_ehlo_fn fn;

	n += (size_t)snprintf(text, sizeof(text), "250-%s", p->fqdn);
	if (p->data_size_limit != 0) {
		snprintf(line, sizeof(line), "SIZE %llu", p->data_size_limit);
		channel_ehlo_add(text, sizeof(text), &n, line);
	}
	if (!p->decode_data)
		channel_ehlo_add(text, sizeof(text), &n, "8BITMIME");
	if (p->enable_smtputf8)
		channel_ehlo_add(text, sizeof(text), &n, "SMTPUTF8");
	for (size_t i = 0; (fn = channel_ehlo_keyword(i)) != NULL; i++)
		if (fn(s, line, sizeof(line)))
			channel_ehlo_add(text, sizeof(text), &n, line);
	channel_ehlo_plugins(s, text, sizeof(text), &n);
	snprintf(text + n, sizeof(text) - n, "\n250 HELP");
	channel_reply_raw(s, text);
}

void
channel_ehlo_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v)
{
	(void)c;
	if (!channel_send_verdict(s, v))
		channel_ehlo_list(s);
}

void
channel_noop_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v)
{
	(void)c;
	(void)v;
	channel_reply(s, "250 OK");
}

void
channel_quit_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v)
{
	(void)c;
	(void)v;
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
		if (channel_verb_find(s, v) != NULL)
			continue;
		int n = snprintf(buf + off, size - off, "%s%s", off ? " " : "",
		    v);
		if (n < 0 || (size_t)n >= size - off)
			break;
		off += (size_t)n;
	}
}

void
channel_help_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v)
{
	char added[512];
	char *arg = c->arg;

	channel_added_verbs(s, added, sizeof(added));
	if (arg == NULL || arg[0] == '\0') {
		channel_reply(s, "250 Supported commands: " CHANNEL_HELP_LIST
		    "%s%s", added[0] != '\0' ? " " : "", added);
		return;
	}
	for (char *p = arg; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	(void)v;
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

void
channel_vrfy_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v)
{
	const char *rest, *arg = c->arg;

	(void)v;
	if (arg == NULL || arg[0] == '\0') {
		channel_reply(s, "501 Syntax: VRFY <address>");
		return;
	}
	if (smtp_parse_address(arg, c->addr, sizeof(c->addr), &rest) ==
	    SMTP_PARSE_OK)
		channel_reply(s, "252 Cannot VRFY user, but will accept "
		    "message and attempt delivery");
	else
		channel_reply(s, "502 Could not VRFY %s", arg);
}

void
channel_expn_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v)
{
	(void)c;
	(void)v;
	channel_reply(s, "502 EXPN not implemented");
}

void
channel_rset_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v)
{
	(void)c;
	(void)v;
	channel_run_rset_hooks(s);
	channel_rset_state(s);
	channel_reply(s, "250 OK");
}
