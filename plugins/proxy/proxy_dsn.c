/*
 * proxy_dsn.c - the DSN parameters of RFC 3461 that the relay hands on:
 * RET and ENVID of MAIL, each recipient's NOTIFY and ORCPT, as the client
 * sent them (API 2's psmtpd_session_mail_param and rcpt_param: ENVID and
 * ORCPT are case-sensitive), when the next hop offers DSN.
 *
 * When it does not, they are dropped (RFC 3461 5.2.2, relay to a
 * non-conforming server): the message still goes.  A conforming MTA would
 * then send a "relayed" DSN for NOTIFY=SUCCESS; psmtpd has no queue and
 * sends no DSNs, so that is logged and documented, not done.
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <psmtpd/plugin.h>

#include "proxy.h"

/* proxy_dsn_is - whether param ("KEY=value") has one of keys. */
static int
proxy_dsn_is(const char *param, const char *const *keys)
{
	size_t kw = strcspn(param, "=");

	for (; *keys != NULL; keys++)
		if (strlen(*keys) == kw && strncasecmp(param, *keys, kw) == 0)
			return 1;
	return 0;
}

/* proxy_dsn_append - " param" after out, whole or not at all (the server
 * checked the lengths: PROXY_DSN_*_MAX hold the longest it takes). */
static void
proxy_dsn_append(char *out, size_t size, const char *param)
{
	size_t len = strlen(out);

	if (len + 1 + strlen(param) < size)
		snprintf(out + len, size - len, " %s", param);
}

static const char *const proxy_dsn_mail_keys[] = { "RET", "ENVID", NULL };
static const char *const proxy_dsn_rcpt_keys[] = { "NOTIFY", "ORCPT", NULL };
static const char *const proxy_dsn_all_keys[] = { "RET", "ENVID", "NOTIFY",
    "ORCPT", NULL };

/* proxy_dsn_pick - append the parameters with one of keys: the MAIL's
 * when rcpt is PROXY_DSN_MAIL, else recipient rcpt's. */
static void
proxy_dsn_pick(const psmtpd_session *s, size_t rcpt,
    const char *const *keys, char *out, size_t size)
{
	int mail = rcpt == PROXY_DSN_MAIL;
	size_t n = mail ? psmtpd_session_mail_param_count(s) :
	    psmtpd_session_rcpt_param_count(s, rcpt);

	for (size_t j = 0; j < n; j++) {
		const char *p = mail ? psmtpd_session_mail_param(s, j) :
		    psmtpd_session_rcpt_param(s, rcpt, j);
		if (p != NULL && proxy_dsn_is(p, keys))
			proxy_dsn_append(out, size, p);
	}
}

void
proxy_dsn_mail(const struct smtpc *c, const psmtpd_session *s, char *out,
    size_t size)
{
	if (c->dsn)
		proxy_dsn_pick(s, PROXY_DSN_MAIL, proxy_dsn_mail_keys, out,
		    size);
}

void
proxy_dsn_rcpt(const struct smtpc *c, const psmtpd_session *s, size_t i,
    char *out, size_t size)
{
	out[0] = '\0';
	if (c->dsn)
		proxy_dsn_pick(s, i, proxy_dsn_rcpt_keys, out, size);
}

/* proxy_dsn_asked - whether the client gave a DSN parameter for the
 * message or for one of the open recipients. */
static int
proxy_dsn_asked(const struct proxy_txn *t, const psmtpd_session *s)
{
	char any[PROXY_DSN_RCPT_MAX] = "";

	proxy_dsn_pick(s, PROXY_DSN_MAIL, proxy_dsn_all_keys, any,
	    sizeof(any));
	for (size_t k = 0; k < t->nopen && any[0] == '\0'; k++)
		proxy_dsn_pick(s, t->open[k], proxy_dsn_all_keys, any,
		    sizeof(any));
	return any[0] != '\0';
}

void
proxy_dsn_note_dropped(const struct proxy_txn *t, psmtpd_session *s)
{
	if (t->c.dsn || !proxy_dsn_asked(t, s))
		return;
	psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "%s dsn dropped remote=%s "
	    "reason=\"the upstream does not offer DSN\"", t->pc->tag,
	    t->pc->remote);
}
