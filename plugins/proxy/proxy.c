/*
 * proxy.c - the proxy plugin: Python's PureProxy.  Each message is relayed
 * to the remote address (remoteaddr, or the `remote` setting) with a real
 * SMTP client, with "X-Peer: <client ip>" added after the last header line
 * as PureProxy does.
 *
 * Unlike PureProxy it never answers 250 for mail that went nowhere: when
 * the upstream cannot be reached, times out, or refuses the message or
 * every recipient, the client gets a 451 (or the upstream's own 5xx for a
 * permanent refusal) and keeps the message.  When the upstream takes some
 * recipients and refuses others, the message was delivered to those: the
 * client gets 250 and each refused recipient is logged, as PureProxy does.
 *
 * Settings: remote ("host:port", "[v6]:port"), helo_name (default: the
 * server's hostname), connect_timeout (30 s), reply_timeout (300 s).
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psmtpd/plugin.h>

#include "../delivery_util.h"
#include "smtp_client.h"

struct proxy_conf {
	const char *remote;
	const char *helo_name;
	int connect_ms;
	int reply_ms;
};

/* What became of one message. */
struct proxy_result {
	int code;		/* 0: delivered (perhaps not to everyone) */
	char text[SMTPC_LINE_MAX + 64];
	size_t accepted;	/* recipients the upstream took */
	size_t refused;
};

/* ---- settings ---------------------------------------------------------- */

static int
proxy_check_remote(psmtpd_init *ctx, const char *key, const char *spec)
{
	char host[256], port[8];

	if (smtpc_split_remote(spec, host, sizeof(host), port,
	    sizeof(port)) == 0)
		return 0;
	psmtpd_init_error(ctx, key, "bad remote address \"%s\" "
	    "(want host:port or [v6addr]:port)", spec);
	return -1;
}

static int
proxy_init(psmtpd_init *ctx, void **plugin_data)
{
	struct proxy_conf *pc = calloc(1, sizeof(*pc));
	long long connect_s = 30, reply_s = 300;

	if (pc == NULL) {
		psmtpd_init_error(ctx, NULL, "out of memory");
		return -1;
	}
	pc->remote = psmtpd_init_remote(ctx);
	pc->helo_name = psmtpd_init_hostname(ctx);
	int bad = delivery_setting_text(ctx, "remote", 0, &pc->remote) |
	    delivery_setting_text(ctx, "helo_name", 0, &pc->helo_name) |
	    delivery_setting_range(ctx, "connect_timeout", 1, 3600,
	    &connect_s) |
	    delivery_setting_range(ctx, "reply_timeout", 1, 3600, &reply_s);
	if (!bad && (pc->remote == NULL || *pc->remote == '\0')) {
		psmtpd_init_error(ctx, "remote", "no remote address to relay to");
		bad = -1;
	}
	if (!bad)
		bad = proxy_check_remote(ctx, "remote", pc->remote);
	if (!bad && (pc->helo_name == NULL || *pc->helo_name == '\0'))
		pc->helo_name = "localhost";
	if (bad) {
		free(pc);
		return -1;
	}
	pc->connect_ms = (int)connect_s * 1000;
	pc->reply_ms = (int)reply_s * 1000;
	*plugin_data = pc;
	return 0;
}

static void
proxy_fini(void *plugin_data)
{
	free(plugin_data);
}

/* ---- outcomes ---------------------------------------------------------- */

/* proxy_tempfail - a failure of ours or of the link: 451, message kept. */
static void
proxy_tempfail(struct proxy_result *res, const char *what)
{
	res->code = 451;
	snprintf(res->text, sizeof(res->text),
	    "4.4.2 Error: upstream %s, try again later", what);
}

/* proxy_upstream - the upstream answered code/text where it should not:
 * pass it on, but as a 451 for a 421 (we are not closing) and for a code
 * that makes no sense at this point. */
static void
proxy_upstream(struct proxy_result *res, const struct smtpc_reply *r)
{
	res->code = r->code;
	if (r->code < 400 || r->code == 421)
		res->code = 451;
	snprintf(res->text, sizeof(res->text), "%s", r->text);
}

/* proxy_io_failed - a status other than OK from the client, in a result. */
static void
proxy_io_failed(struct proxy_result *res, struct smtpc *c,
    enum smtpc_status st, const char *step)
{
	char what[160];

	if (st == SMTPC_TIMEOUT)
		snprintf(what, sizeof(what), "timed out at %s", step);
	else
		snprintf(what, sizeof(what), "failed at %s (%s)", step,
		    smtpc_status_text(c, st));
	proxy_tempfail(res, what);
}

/* ---- the transaction ---------------------------------------------------- */

static int
proxy_has_option(const psmtpd_session *s, const char *opt)
{
	size_t n = psmtpd_session_mail_option_count(s), len = strlen(opt);

	for (size_t i = 0; i < n; i++) {
		const char *o = psmtpd_session_mail_option(s, i);
		if (o != NULL && strncmp(o, opt, len) == 0 &&
		    (o[len] == '\0' || o[len] == '='))
			return 1;
	}
	return 0;
}

/* proxy_mail - MAIL FROM with SIZE, BODY and SMTPUTF8 where they apply. */
static int
proxy_mail(struct smtpc *c, psmtpd_session *s, size_t size,
    struct proxy_result *res)
{
	char params[128] = "";
	const char *from = psmtpd_session_mailfrom(s);
	struct smtpc_reply r;
	int utf8 = proxy_has_option(s, "SMTPUTF8");

	if (c->size_offered && c->size_max > 0 &&
	    (long long)size > c->size_max) {
		res->code = 552;
		snprintf(res->text, sizeof(res->text), "5.3.4 Error: message "
		    "size exceeds the upstream's limit of %lld", c->size_max);
		return -1;
	}
	if (utf8 && !c->smtputf8) {
		res->code = 554;
		snprintf(res->text, sizeof(res->text),
		    "5.6.7 Error: upstream does not support SMTPUTF8");
		return -1;
	}
	if (c->size_offered)
		snprintf(params, sizeof(params), " SIZE=%zu", size);
	if (c->eightbitmime && proxy_has_option(s, "BODY=8BITMIME"))
		strcat(params, " BODY=8BITMIME");
	if (utf8)
		strcat(params, " SMTPUTF8");
	enum smtpc_status st = smtpc_command(c, &r, "MAIL FROM:<%s>%s",
	    from != NULL ? from : "", params);
	if (st != SMTPC_OK) {
		proxy_io_failed(res, c, st, "MAIL");
		return -1;
	}
	if (r.code != 250) {
		proxy_upstream(res, &r);
		return -1;
	}
	return 0;
}

/* proxy_rcpts - RCPT TO for each recipient; refusals logged.  With none
 * taken, the result is a 451 when any refusal was temporary, else the
 * first permanent refusal. */
static int
proxy_rcpts(struct smtpc *c, psmtpd_session *s, struct proxy_result *res)
{
	size_t n = psmtpd_session_rcpt_count(s);
	struct smtpc_reply first_temp = { 0, "" }, first_perm = { 0, "" };

	for (size_t i = 0; i < n; i++) {
		const char *rcpt = psmtpd_session_rcpt(s, i);
		struct smtpc_reply r;
		enum smtpc_status st = smtpc_command(c, &r, "RCPT TO:<%s>",
		    rcpt);
		if (st != SMTPC_OK) {
			proxy_io_failed(res, c, st, "RCPT");
			return -1;
		}
		if (r.code == 250 || r.code == 251) {
			res->accepted++;
			continue;
		}
		res->refused++;
		psmtpd_session_log(s, PSMTPD_LOG_WARNING, "proxy refused "
		    "rcpt=<%s> reply=\"%d %s\"", rcpt, r.code, r.text);
		if (r.code < 500 && first_temp.code == 0)
			first_temp = r;
		else if (r.code >= 500 && first_perm.code == 0)
			first_perm = r;
	}
	if (res->accepted > 0)
		return 0;
	proxy_upstream(res, first_temp.code != 0 ? &first_temp : &first_perm);
	return -1;
}

/* proxy_transaction - greeting to end of data on a connected client. */
static void
proxy_transaction(const struct proxy_conf *pc, struct smtpc *c,
    psmtpd_session *s, const struct smtpc_part *parts, size_t nparts,
    struct proxy_result *res)
{
	struct smtpc_reply r;
	enum smtpc_status st = smtpc_read_reply(c, &r);

	if (st != SMTPC_OK) {
		proxy_io_failed(res, c, st, "greeting");
		return;
	}
	if (r.code != 220) {
		proxy_upstream(res, &r);
		return;
	}
	st = smtpc_hello(c, pc->helo_name, &r);
	if (st != SMTPC_OK) {
		proxy_io_failed(res, c, st, "EHLO");
		return;
	}
	if (r.code != 250) {
		proxy_upstream(res, &r);
		return;
	}
	if (proxy_mail(c, s, smtpc_wire_size(parts, nparts), res) != 0 ||
	    proxy_rcpts(c, s, res) != 0)
		return;
	st = smtpc_command(c, &r, "DATA");
	if (st == SMTPC_OK && r.code != 354) {
		proxy_upstream(res, &r);
		return;
	}
	if (st == SMTPC_OK)
		st = smtpc_send_data(c, parts, nparts, &r);
	if (st != SMTPC_OK)
		proxy_io_failed(res, c, st, "DATA");
	else if (r.code != 250)
		proxy_upstream(res, &r);
}

/* proxy_quit - a polite end; its reply is waited for briefly at most. */
static void
proxy_quit(struct smtpc *c)
{
	struct smtpc_reply r;

	if (c->reply_timeout_ms > 5000)
		c->reply_timeout_ms = 5000;
	(void)smtpc_command(c, &r, "QUIT");
	smtpc_close(c);
}

/* proxy_trace - the upstream conversation at debug level (psmtpd -d). */
static void
proxy_trace(void *arg, const char *dir, const char *line)
{
	char clean[SMTPC_LINE_MAX];

	delivery_sanitize(clean, sizeof(clean), line, strlen(line));
	psmtpd_session_log(arg, PSMTPD_LOG_DEBUG, "proxy %s %s", dir, clean);
}

/* proxy_relay - one message to the upstream; res tells the outcome. */
static void
proxy_relay(const struct proxy_conf *pc, psmtpd_session *s,
    const struct smtpc_part *parts, size_t nparts, struct proxy_result *res)
{
	struct smtpc *c = malloc(sizeof(*c));
	char err[300];

	if (c == NULL) {
		proxy_tempfail(res, "unreachable: out of memory");
		return;
	}
	enum smtpc_status st = smtpc_connect(c, pc->remote, pc->connect_ms,
	    pc->reply_ms, err, sizeof(err));
	if (st != SMTPC_OK) {
		psmtpd_session_log(s, PSMTPD_LOG_WARNING, "proxy connect "
		    "remote=%s error=\"%s\"", pc->remote, err);
		proxy_tempfail(res, st == SMTPC_TIMEOUT ?
		    "connection timed out" : "unavailable");
		free(c);
		return;
	}
	c->trace = proxy_trace;
	c->trace_arg = s;
	proxy_transaction(pc, c, s, parts, nparts, res);
	proxy_quit(c);
	free(c);
}

/* proxy_process_message - insert X-Peer after the headers, relay. */
static enum psmtpd_result
proxy_process_message(psmtpd_session *s, void *plugin_data)
{
	const struct proxy_conf *pc = plugin_data;
	size_t len;
	const char *data = psmtpd_message_data(s, &len);
	char xpeer[128];
	int at_end;
	size_t off = delivery_header_end(data, len, &at_end);
	struct proxy_result res = { .code = 0 };

	snprintf(xpeer, sizeof(xpeer), at_end ? "\nX-Peer: %s" :
	    "X-Peer: %s\n", psmtpd_session_peer_addr(s));
	struct smtpc_part parts[3] = {
		{ data, off }, { xpeer, strlen(xpeer) },
		{ data + off, len - off }
	};
	proxy_relay(pc, s, parts, 3, &res);
	if (res.code == 0) {
		psmtpd_session_log(s, PSMTPD_LOG_INFO, "proxy relayed "
		    "remote=%s size=%zu accepted=%zu refused=%zu", pc->remote,
		    len, res.accepted, res.refused);
		return PSMTPD_CONTINUE;
	}
	psmtpd_session_log(s, PSMTPD_LOG_WARNING, "proxy not relayed "
	    "remote=%s reply=\"%d %s\"", pc->remote, res.code, res.text);
	psmtpd_reply(s, "%d %s", res.code, res.text);
	return PSMTPD_REPLY;
}

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "proxy",
	.version = "1.0",
	.description = "relay each message to the remote SMTP server "
	    "(PureProxy)",
	.init = proxy_init,
	.fini = proxy_fini,
	.process_message = proxy_process_message,
};
