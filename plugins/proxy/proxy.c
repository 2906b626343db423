/*
 * proxy.c - the proxy plugin: Python's PureProxy.  Each message is relayed
 * to the remote address (remoteaddr, or the `remote` setting) with a real
 * SMTP client, with "X-Peer: <client ip>" added after the last header line
 * as PureProxy does.
 *
 * Unlike PureProxy it never answers 250 for mail that went nowhere.  The
 * upstream transaction follows the client's, as Postfix's
 * smtpd_proxy_filter does: opened at MAIL (connect, EHLO, MAIL; an
 * upstream that cannot be reached is a 451, its refusal is the client's
 * reply), each RCPT forwarded and the upstream's answer given to the
 * client, so that a recipient is accepted on both sides or refused on
 * both; after the data the client gets 250 only when the upstream said
 * 250, else the upstream's refusal (4xx stays 4xx, a 421 becomes 451).
 * RSET, HELO, the end of the message and the end of the session close
 * the upstream connection (QUIT, its reply waited for 2 s at most).
 *
 * Settings: remote ("host:port", "[v6]:port"), helo_name (default: the
 * server's hostname), connect_timeout (30 s), reply_timeout (300 s); and
 * toward a smarthost (proxy_secure.c) starttls, ca_file, tls_name,
 * username/password or credentials_file.
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psmtpd/plugin.h>

#include "../delivery_util.h"
#include "proxy.h"

/* ---- settings ---------------------------------------------------------- */

/* proxy_check_remote - "host:port" or "[v6]:port", from the setting or
 * the top-level remote (remoteaddr), which may be missing. */
static int
proxy_check_remote(psmtpd_init *ctx, const char *key, const char *spec)
{
	char host[256], port[8];

	if (spec == NULL || *spec == '\0') {
		psmtpd_init_error(ctx, key, "no remote address to relay to");
		return -1;
	}
	if (smtpc_split_remote(spec, host, sizeof(host), port,
	    sizeof(port)) == 0)
		return 0;
	psmtpd_init_error(ctx, key, "bad remote address \"%s\" "
	    "(want host:port or [v6addr]:port)", spec);
	return -1;
}

static const struct proxy_kind proxy_kind = {
	.tag = "proxy", .lmtp = 0, .address_key = "remote", .top_remote = 1,
	.check_address = proxy_check_remote, .helo_key = "helo_name",
};

static int
proxy_init(psmtpd_init *ctx, void **plugin_data)
{
	return proxy_conf_init(ctx, &proxy_kind, plugin_data);
}

/* ---- the hooks: one upstream transaction per client transaction ------- */

/* proxy_process_message - insert X-Peer after the headers, check that
 * the upstream has the same recipients, send the data: the client gets
 * 250 only when the upstream said 250. */
static enum psmtpd_result
proxy_process_message(psmtpd_session *s, void *plugin_data)
{
	const struct proxy_conf *pc = plugin_data;
	struct proxy_result res = { 0, "" };
	size_t len;
	const char *data = psmtpd_message_data(s, &len);
	char xpeer[128];
	int at_end;
	size_t off = delivery_header_end(data, len, &at_end);
	enum psmtpd_result r;
	struct proxy_txn *t = proxy_txn_ready(s, pc, &r);

	if (t == NULL)
		return r;
	snprintf(xpeer, sizeof(xpeer), at_end ? "\nX-Peer: %s" :
	    "X-Peer: %s\n", psmtpd_session_peer_addr(s));
	struct smtpc_part parts[3] = {
		{ data, off }, { xpeer, strlen(xpeer) },
		{ data + off, len - off }
	};
	if (proxy_txn_data(t, parts, 3, &res) != 0)
		return proxy_refuse(s, pc, "DATA", &res);
	psmtpd_session_log(s, PSMTPD_LOG_INFO, "proxy relayed remote=%s "
	    "size=%zu accepted=%zu", pc->remote, len, t->nrcpt);
	return PSMTPD_CONTINUE;
}

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "proxy",
	.version = "1.0",
	.description = "relay each message to the remote SMTP server "
	    "(PureProxy)",
	.init = proxy_init,
	.fini = proxy_conf_free,
	.on_mail = proxy_on_mail,
	.on_rcpt = proxy_on_rcpt,
	.process_message = proxy_process_message,
};
