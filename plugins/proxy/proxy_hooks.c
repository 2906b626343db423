/*
 * proxy_hooks.c - the MAIL and RCPT hooks of the proxy and lmtp plugins:
 * the upstream transaction opened at MAIL, each RCPT forwarded, and the
 * upstream's answer given to the client (Postfix's smtpd_proxy_filter).
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <stdio.h>

#include <psmtpd/plugin.h>

#include "proxy.h"

/* proxy_refuse - the client's reply for a step the upstream did not take. */
enum psmtpd_result
proxy_refuse(psmtpd_session *s, const struct proxy_conf *pc, const char *step,
    const struct proxy_result *res)
{
	psmtpd_session_log(s, PSMTPD_LOG_WARNING, "%s not relayed "
	    "step=%s reply=\"%d %s\"", pc->tag, step, res->code, res->text);
	psmtpd_reply(s, "%d %s", res->code, res->text);
	return PSMTPD_REPLY;
}

/* proxy_txn_get - the transaction's upstream, made when there is none
 * yet (a plugin before this one answered MAIL and ended the chain). */
struct proxy_txn *
proxy_txn_get(psmtpd_session *s, const struct proxy_conf *pc,
    struct proxy_result *res)
{
	struct proxy_txn *t = psmtpd_txn_get_data(s);

	if (t != NULL)
		return t;
	if ((t = proxy_txn_new(pc)) == NULL) {
		res->code = 451;
		snprintf(res->text, sizeof(res->text),
		    "4.3.0 Error: out of memory");
		return NULL;
	}
	psmtpd_txn_set_data(s, t, proxy_txn_free);
	return t;
}

struct proxy_txn *
proxy_txn_ready(psmtpd_session *s, const struct proxy_conf *pc,
    enum psmtpd_result *r)
{
	struct proxy_result res = { 0, "" };
	struct proxy_txn *t = proxy_txn_get(s, pc, &res);

	if (t == NULL || proxy_txn_sync(t, s, &res) != 0) {
		*r = proxy_refuse(s, pc, "RCPT", &res);
		return NULL;
	}
	*r = PSMTPD_CONTINUE;	/* every recipient has a verdict already */
	return t->nopen > 0 ? t : NULL;
}

/* proxy_on_mail - connect, EHLO and MAIL upstream; its refusal, or a 451
 * when it cannot be reached, is the client's answer. */
enum psmtpd_result
proxy_on_mail(psmtpd_session *s, const char *mailfrom, void *plugin_data)
{
	struct proxy_result res = { 0, "" };
	struct proxy_txn *t = proxy_txn_new(plugin_data);

	if (t == NULL) {
		psmtpd_reply(s, "451 4.3.0 Error: out of memory");
		return PSMTPD_REPLY;
	}
	/* replaces (and closes) the upstream of a MAIL refused later on */
	psmtpd_txn_set_data(s, t, proxy_txn_free);
	if (proxy_txn_mail(t, s, mailfrom, &res) != 0)
		return proxy_refuse(s, plugin_data, "MAIL", &res);
	return PSMTPD_CONTINUE;
}

/* proxy_on_rcpt - the client gets the upstream's answer to this RCPT. */
enum psmtpd_result
proxy_on_rcpt(psmtpd_session *s, const char *rcptto, void *plugin_data)
{
	struct proxy_result res = { 0, "" };
	struct proxy_txn *t = proxy_txn_get(s, plugin_data, &res);

	if (t == NULL)
		return proxy_refuse(s, plugin_data, "RCPT", &res);
	if (!t->in_mail && !t->broken && proxy_txn_mail(t, s,
	    psmtpd_session_mailfrom(s), &res) != 0)
		return proxy_refuse(s, plugin_data, "MAIL", &res);
	/* without NOTIFY and ORCPT: API 2 shows a recipient's parameters
	 * only once it is accepted; proxy_txn_sync hands them on */
	if (proxy_txn_rcpt(t, s, rcptto, "", &res) != 0)
		return proxy_refuse(s, plugin_data, "RCPT", &res);
	return PSMTPD_CONTINUE;
}
