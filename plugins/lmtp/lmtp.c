/*
 * lmtp.c - the lmtp delivery plugin: each message to an LMTP server
 * (RFC 2033) such as Dovecot's, over TCP ("127.0.0.1:24") or a UNIX
 * socket ("unix:/run/dovecot/lmtp").
 *
 * The LMTP transaction follows the client's (librelay, as the proxy
 * plugin's): opened at MAIL, each RCPT forwarded at once, so an unknown
 * user gets the server's 550 during the SMTP session, not a bounce
 * later.  After the data the server answers once per recipient; the SMTP
 * client hears 250 only when every recipient got 2xx, the server's reply
 * when none did, and 451 when some did and some did not (a retry may
 * deliver a duplicate to those who got it, never lose a copy).  An
 * unreachable, hanging or closing server is a 451, bounded by the
 * timeouts, and logged.
 *
 * Settings: address (required), lhlo_name (default: the server's
 * hostname), connect_timeout (30 s), reply_timeout (300 s), and the
 * proxy's starttls, ca_file, tls_name, username/password,
 * credentials_file toward a remote LMTP server.
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psmtpd/plugin.h>

#include "../delivery_util.h"
#include "lmtp.h"

/* ---- settings ---------------------------------------------------------- */

/* lmtp_check_address - "host:port", "[v6]:port" or "unix:/path". */
static int
lmtp_check_address(psmtpd_init *ctx, const char *key, const char *spec)
{
	char host[256], port[8];

	if (strncmp(spec, "unix:/", 6) == 0 && strlen(spec) < 5 + 108)
		return 0;
	if (strncmp(spec, "unix:", 5) != 0 && smtpc_split_remote(spec, host,
	    sizeof(host), port, sizeof(port)) == 0)
		return 0;
	psmtpd_init_error(ctx, key, "bad address \"%s\" (want "
	    "host:port, [v6addr]:port or unix:/path)", spec);
	return -1;
}

static const struct proxy_kind lmtp_kind = {
	.tag = "lmtp", .lmtp = 1, .address_key = "address", .top_remote = 0,
	.check_address = lmtp_check_address, .helo_key = "lhlo_name",
};

static int
lmtp_init(psmtpd_init *ctx, void **plugin_data)
{
	return proxy_conf_init(ctx, &lmtp_kind, plugin_data);
}

/* ---- the message ------------------------------------------------------- */

/* lmtp_verdicts - each open recipient's LMTP reply becomes its verdict
 * (API 2): an LMTP listener passes each on, an SMTP listener folds them
 * into one reply that never says 250 for a recipient that failed. */
static enum psmtpd_result
lmtp_verdicts(psmtpd_session *s, const struct proxy_txn *t,
    const struct lmtp_replies *rep)
{
	int unset = 0;

	for (size_t i = 0; i < rep->n; i++) {
		const struct smtpc_reply *r = &rep->r[i];
		int ok = r->code >= 200 && r->code < 300;
		psmtpd_session_log(s, ok ? PSMTPD_LOG_INFO : PSMTPD_LOG_WARNING,
		    "lmtp %s rcpt=<%s> remote=%s reply=\"%d %s\"", ok ?
		    "delivered" : "not delivered", t->rcpts[i], t->pc->remote,
		    r->code, r->text);
		if (psmtpd_reply_rcpt(s, t->open[i], "%d %s", r->code,
		    r->text) != 0)
			unset++;
	}
	/* a verdict refused (out of memory): the others get a 451 - a
	 * retry may duplicate, never lose */
	if (unset > 0)
		psmtpd_reply(s, "451 4.3.0 Error: local error in processing");
	return PSMTPD_REPLY;
}

/* lmtp_process_message - the data to the LMTP server, then a verdict. */
static enum psmtpd_result
lmtp_process_message(psmtpd_session *s, void *plugin_data)
{
	const struct proxy_conf *pc = plugin_data;
	struct proxy_result res = { 0, "" };
	struct lmtp_replies rep = { 0, NULL };
	struct smtpc_part part;
	enum psmtpd_result r;
	struct proxy_txn *t = proxy_txn_ready(s, pc, &r);

	if (t == NULL)
		return r;
	part.data = psmtpd_message_data(s, &part.len);
	if (lmtp_data(t, &part, 1, &rep, &res) != 0) {
		lmtp_replies_free(&rep);
		return proxy_refuse(s, pc, "DATA", &res);
	}
	r = lmtp_verdicts(s, t, &rep);
	lmtp_replies_free(&rep);
	return r;
}

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "lmtp",
	.version = "1.0",
	.description = "deliver each message to an LMTP server (Dovecot), "
	    "recipients checked at RCPT time",
	.init = lmtp_init,
	.fini = proxy_conf_free,
	.on_mail = proxy_on_mail,
	.on_rcpt = proxy_on_rcpt,
	.process_message = lmtp_process_message,
};
