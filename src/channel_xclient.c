/*
 * channel_xclient.c - XCLIENT, Postfix's extension (XCLIENT_README): a
 * front end or a test tool that its listener's xclient_trusted names
 * sets the client's address, port, host name and HELO for the rest of
 * the session.  For everyone else (and without xclient_trusted, the
 * default) the verb does not exist, as in Python's smtpd (500), and EHLO
 * does not name it.  Its rows are in channel_verbs.c.
 *
 * After a good XCLIENT the session is back at its start, as Postfix's
 * is: a new 220, no greeting (unless HELO= gave one, as if the client
 * had said HELO), no transaction.  The trust is that of the client the
 * session now has, so an XCLIENT that sets an address outside
 * xclient_trusted is the last one.  NAME is logged only (psmtpd looks
 * up no names).  The connect hooks do not run again, and the per-client
 * limit keeps counting the connection's own client.
 */
#include "autoconfig.h"

#include <stdio.h>

#include "addr.h"
#include "channel_session.h"
#include "config.h"
#include "log.h"
#include "xclient.h"

bool
channel_xclient_enabled(const struct psmtpd_session *s)
{
	const struct config_listener *l = s->params->listener;

	return l != NULL && l->nxclient_trusted > 0 &&
	    addr_cidr_match(l->xclient_trusted, l->nxclient_trusted,
	    s->peer_addr);
}

bool
channel_ehlo_xclient(const struct psmtpd_session *s, char *buf, size_t size)
{
	if (!channel_xclient_enabled(s))
		return false;
	snprintf(buf, size, "%s", XCLIENT_EHLO);
	return true;
}

/* channel_xclient_text - what the log shows for one attribute. */
static const char *
channel_xclient_text(enum xclient_given g, const char *value)
{
	return g == XCLIENT_ABSENT ? "-" : g == XCLIENT_VALUE ? value :
	    g == XCLIENT_UNAVAILABLE ? "[UNAVAILABLE]" : "[TEMPUNAVAIL]";
}

/* channel_xclient_log - who the session is now, and who said so. */
static void
channel_xclient_log(const struct psmtpd_session *s, const struct xclient *x,
    const char *via)
{
	char name[300], helo[300];

	log_info("xclient id=%s client=%s port=%u name=%s helo=%s via=%s",
	    s->id, s->peer_addr, s->peer_port,
	    log_escape(name, sizeof(name), channel_xclient_text(x->name,
	    x->name_text)), log_escape(helo, sizeof(helo),
	    channel_xclient_text(x->helo, x->helo_text)), via);
}

/* channel_xclient_apply - the new client, and the session's start. */
static void
channel_xclient_apply(struct psmtpd_session *s, const struct xclient *x)
{
	if (x->addr == XCLIENT_VALUE)
		snprintf(s->peer_addr, sizeof(s->peer_addr), "%s",
		    x->addr_text);
	else if (x->addr == XCLIENT_UNAVAILABLE)
		snprintf(s->peer_addr, sizeof(s->peer_addr), "unknown");
	if (x->port != XCLIENT_ABSENT)
		s->peer_port = x->port == XCLIENT_VALUE ? x->port_value : 0;
	channel_run_rset_hooks(s);
	channel_rset_state(s);
	s->seen_greeting[0] = '\0';
	s->extended_smtp = false;
	s->mail_limit_extra = 0;
	if (x->helo == XCLIENT_VALUE)
		snprintf(s->seen_greeting, sizeof(s->seen_greeting), "%s",
		    x->helo_text);
}

void
channel_xclient_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v)
{
	struct xclient x;
	char via[sizeof(s->peer_addr)];

	(void)v;
	if (c->arg == NULL || c->arg_nul ||
	    xclient_parse(c->arg, &x) != XCLIENT_OK) {
		channel_reply(s, "501 Syntax: XCLIENT attribute=value ...");
		return;
	}
	snprintf(via, sizeof(via), "%s", s->peer_addr);
	channel_xclient_apply(s, &x);
	channel_xclient_log(s, &x, via);
	channel_reply(s, "220 %s %s", s->params->fqdn,
	    s->params->version_text);
}
