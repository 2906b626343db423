/*
 * proxy_txn.c - the upstream transaction of the proxy plugin, step by
 * step with the client's, as Postfix's smtpd_proxy_filter does: so that
 * a recipient is accepted on both sides or refused on both, and the
 * client hears 250 for a message only when the upstream said 250.
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psmtpd/plugin.h>

#include "../delivery_util.h"
#include "proxy.h"

/* ---- replies ----------------------------------------------------------- */

/* proxy_tempfail - a failure of ours or of the link: 451, message kept. */
void
proxy_tempfail(struct proxy_result *res, const char *what)
{
	res->code = 451;
	snprintf(res->text, sizeof(res->text),
	    "4.4.2 Error: upstream %s, try again later", what);
}

void
proxy_broken_reply(const struct proxy_txn *t, struct proxy_result *res)
{
	proxy_tempfail(res, t->why[0] != '\0' ? t->why : "unavailable");
}

/* proxy_upstream - the upstream refused a step with r: pass it on, but a
 * 421 as 451 (our client's session goes on) and a code that makes no
 * sense here (2xx/3xx where a refusal was seen) as a 451 too. */
void
proxy_upstream(struct proxy_txn *t, const struct smtpc_reply *r,
    struct proxy_result *res)
{
	res->code = r->code;
	snprintf(res->text, sizeof(res->text), "%s", r->text);
	if (r->code == 421) {
		res->code = 451;
		t->broken = 1;
		snprintf(t->why, sizeof(t->why), "closing (421)");
	} else if (r->code < 400) {
		res->code = 451;
		snprintf(res->text, sizeof(res->text), "4.4.2 Error: "
		    "unexpected upstream reply \"%d %.200s\", try again later",
		    r->code, r->text);
	}
}

/* proxy_io_failed - a status other than OK: the link is unusable. */
void
proxy_io_failed(struct proxy_txn *t, enum smtpc_status st, const char *step,
    struct proxy_result *res)
{
	if (st == SMTPC_TIMEOUT)
		snprintf(t->why, sizeof(t->why), "timed out at %s", step);
	else
		snprintf(t->why, sizeof(t->why), "failed at %s (%s)", step,
		    smtpc_status_text(&t->c, st));
	t->broken = 1;
	proxy_broken_reply(t, res);
}

/* proxy_expect - whether a step went as wanted: the status OK and the
 * reply's code want; else the client's reply is set in res. */
int
proxy_expect(struct proxy_txn *t, enum smtpc_status st,
    const struct smtpc_reply *r, int want, const char *step,
    struct proxy_result *res)
{
	if (st != SMTPC_OK) {
		proxy_io_failed(t, st, step, res);
		return -1;
	}
	if (r->code != want) {
		proxy_upstream(t, r, res);
		return -1;
	}
	return 0;
}

/* ---- opening ----------------------------------------------------------- */

/* proxy_trace - the upstream conversation at debug level (psmtpd -d). */
static void
proxy_trace(void *arg, const char *dir, const char *line)
{
	const struct proxy_txn *t = arg;
	char clean[SMTPC_LINE_MAX];

	delivery_sanitize(clean, sizeof(clean), line, strlen(line));
	psmtpd_session_log(t->s, PSMTPD_LOG_DEBUG, "%s %s %s", t->pc->tag,
	    dir, clean);
}

struct proxy_txn *
proxy_txn_new(const struct proxy_conf *pc)
{
	struct proxy_txn *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->pc = pc;
	t->c.fd = -1;
	return t;
}

/* proxy_connect - the connection; a failure is logged with its reason. */
static int
proxy_connect(struct proxy_txn *t, psmtpd_session *s,
    struct proxy_result *res)
{
	char err[300];
	enum smtpc_status st = smtpc_connect(&t->c, t->pc->remote,
	    t->pc->connect_ms, t->pc->reply_ms, err, sizeof(err));

	if (st != SMTPC_OK) {
		psmtpd_session_log(s, PSMTPD_LOG_WARNING, "%s connect "
		    "remote=%s error=\"%s\"", t->pc->tag, t->pc->remote, err);
		t->broken = 1;
		snprintf(t->why, sizeof(t->why), "%s", st == SMTPC_TIMEOUT ?
		    "connection timed out" : "unavailable");
		proxy_broken_reply(t, res);
		return -1;
	}
	t->s = s;
	t->c.trace = proxy_trace;
	t->c.trace_arg = t;
	return 0;
}

/* proxy_open_once - connect, greeting, EHLO (HELO when EHLO is refused),
 * STARTTLS and AUTH as configured.  0, -1, or 1: again without TLS. */
static int
proxy_open_once(struct proxy_txn *t, psmtpd_session *s,
    struct proxy_result *res)
{
	struct smtpc_reply r;

	if (proxy_connect(t, s, res) != 0)
		return -1;
	if (proxy_expect(t, smtpc_read_reply(&t->c, &r), &r, 220, "greeting",
	    res) != 0)
		return -1;
	enum smtpc_status st = t->pc->lmtp ? smtpc_lhlo(&t->c,
	    t->pc->helo_name, &r) : smtpc_hello(&t->c, t->pc->helo_name, &r);
	if (proxy_expect(t, st, &r, 250, t->pc->lmtp ? "LHLO" : "EHLO",
	    res) != 0)
		return -1;
	int sec = proxy_secure_open(t, s, res);
	if (sec == 0)
		t->connected = 1;
	return sec;
}

/* proxy_open - the connection, ready for MAIL. */
static int
proxy_open(struct proxy_txn *t, psmtpd_session *s, struct proxy_result *res)
{
	int r = proxy_open_once(t, s, res);

	if (r == 1) {
		smtpc_close(&t->c);
		t->no_tls = 1;
		t->broken = 0;
		r = proxy_open_once(t, s, res);
	}
	return r == 0 ? 0 : -1;
}

/* ---- MAIL -------------------------------------------------------------- */

/* proxy_option - the client's MAIL parameter opt ("SIZE", "SMTPUTF8"):
 * "" when given without a value, its value, or NULL when not given. */
static const char *
proxy_option(const psmtpd_session *s, const char *opt)
{
	size_t n = psmtpd_session_mail_option_count(s), len = strlen(opt);

	for (size_t i = 0; i < n; i++) {
		const char *o = psmtpd_session_mail_option(s, i);
		if (o != NULL && strncmp(o, opt, len) == 0 &&
		    (o[len] == '\0' || o[len] == '='))
			return o[len] == '\0' ? "" : o + len + 1;
	}
	return NULL;
}

/* proxy_mail_params - SIZE, BODY, SMTPUTF8, RET and ENVID where both
 * sides have them; -1 (a 554) for SMTPUTF8 mail to an upstream without
 * it. */
static int
proxy_mail_params(const struct smtpc *c, const psmtpd_session *s,
    char *params, size_t size, struct proxy_result *res)
{
	const char *sz = proxy_option(s, "SIZE");
	const char *body = proxy_option(s, "BODY");
	int utf8 = proxy_option(s, "SMTPUTF8") != NULL;

	if (utf8 && !c->smtputf8) {
		res->code = 554;
		snprintf(res->text, sizeof(res->text),
		    "5.6.7 Error: upstream does not support SMTPUTF8");
		return -1;
	}
	params[0] = '\0';
	if (c->size_offered && sz != NULL && *sz != '\0' &&
	    strspn(sz, "0123456789") == strlen(sz) && strlen(sz) < 20)
		snprintf(params, size, " SIZE=%s", sz);
	if (c->eightbitmime && body != NULL && strcmp(body, "8BITMIME") == 0)
		strncat(params, " BODY=8BITMIME", size - strlen(params) - 1);
	if (utf8)
		strncat(params, " SMTPUTF8", size - strlen(params) - 1);
	proxy_dsn_mail(c, s, params, size);
	return 0;
}

int
proxy_txn_mail(struct proxy_txn *t, psmtpd_session *s, const char *from,
    struct proxy_result *res)
{
	char params[sizeof(t->mail_params)];
	struct smtpc_reply r;

	if (t->broken) {
		proxy_broken_reply(t, res);
		return -1;
	}
	if (!t->connected && proxy_open(t, s, res) != 0)
		return -1;
	if (proxy_mail_params(&t->c, s, params, sizeof(params), res) != 0)
		return -1;
	/* the server gives the null sender as "<>", as Python's smtpd */
	const char *path = from == NULL || strcmp(from, "<>") == 0 ? "" : from;
	free(t->from);
	if ((t->from = strdup(from != NULL ? from : "")) == NULL) {
		proxy_tempfail(res, "unusable (out of memory)");
		return -1;
	}
	enum smtpc_status st = smtpc_command(&t->c, &r, "MAIL FROM:<%s>%s",
	    path, params);
	if (proxy_expect(t, st, &r, 250, "MAIL", res) != 0)
		return -1;
	t->in_mail = 1;
	memcpy(t->mail_params, params, sizeof(t->mail_params));
	return 0;
}

/* ---- RCPT -------------------------------------------------------------- */

/* proxy_keep_rcpt - remember a recipient the upstream took, and the DSN
 * parameters it took it with. */
static int
proxy_keep_rcpt(struct proxy_txn *t, const char *rcpt, const char *dsn)
{
	size_t alen = strlen(rcpt) + 1, dlen = strlen(dsn) + 1;

	if (t->nrcpt == t->rcpt_cap) {
		size_t cap = t->rcpt_cap ? t->rcpt_cap * 2 : 8;
		char **v = realloc(t->rcpts, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		t->rcpts = v;
		t->rcpt_cap = cap;
	}
	if ((t->rcpts[t->nrcpt] = malloc(alen + dlen)) == NULL)
		return -1;
	memcpy(t->rcpts[t->nrcpt], rcpt, alen);
	memcpy(t->rcpts[t->nrcpt] + alen, dsn, dlen);
	t->nrcpt++;
	return 0;
}

const char *
proxy_rcpt_dsn(const struct proxy_txn *t, size_t i)
{
	return t->rcpts[i] + strlen(t->rcpts[i]) + 1;
}

static void
proxy_forget_rcpts(struct proxy_txn *t)
{
	for (size_t i = 0; i < t->nrcpt; i++)
		free(t->rcpts[i]);
	t->nrcpt = 0;
}

int
proxy_txn_rcpt(struct proxy_txn *t, psmtpd_session *s, const char *rcpt,
    const char *dsn, struct proxy_result *res)
{
	struct smtpc_reply r;

	if (t->broken || !t->in_mail) {
		proxy_broken_reply(t, res);
		return -1;
	}
	enum smtpc_status st = smtpc_command(&t->c, &r, "RCPT TO:<%s>%s",
	    rcpt, dsn);
	if (st != SMTPC_OK) {
		proxy_io_failed(t, st, "RCPT", res);
		return -1;
	}
	if (r.code != 250 && r.code != 251) {
		psmtpd_session_log(s, PSMTPD_LOG_WARNING, "%s refused "
		    "rcpt=<%s> reply=\"%d %s\"", t->pc->tag, rcpt, r.code,
		    r.text);
		proxy_upstream(t, &r, res);
		return -1;
	}
	if (proxy_keep_rcpt(t, rcpt, dsn) != 0) {
		/* the upstream has it, we cannot track it: start over */
		t->broken = 1;
		snprintf(t->why, sizeof(t->why), "unusable (out of memory)");
		proxy_broken_reply(t, res);
		return -1;
	}
	return 0;
}

/* ---- before DATA: the same recipients on both sides -------------------- */

/* proxy_find_open - the session's recipients without a verdict (API 2:
 * an earlier plugin may have answered for some), into t->open. */
static int
proxy_find_open(struct proxy_txn *t, const psmtpd_session *s)
{
	size_t n = psmtpd_session_rcpt_count(s);
	size_t *v = realloc(t->open, (n > 0 ? n : 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	t->open = v;
	t->nopen = 0;
	for (size_t i = 0; i < n; i++)
		if (psmtpd_rcpt_reply(s, i) == NULL)
			t->open[t->nopen++] = i;
	return 0;
}

/* How the upstream's envelope compares with the session's. */
enum proxy_match { PROXY_SAME, PROXY_DIFFERS, PROXY_DSN_DIFFERS };

/* proxy_envelope_match - whether the upstream took exactly the open
 * recipients (another plugin may have refused one the upstream took, or
 * accepted one the proxy never saw), from the session's sender (a plugin
 * may have changed it), with the MAIL parameters the session has now;
 * and each recipient with its DSN parameters (API 2 shows them only once
 * the recipient is accepted: the RCPT hook forwards it without). */
static enum proxy_match
proxy_envelope_match(const struct proxy_txn *t, const psmtpd_session *s)
{
	const char *from = psmtpd_session_mailfrom(s);
	char params[sizeof(t->mail_params)], dsn[PROXY_DSN_RCPT_MAX];
	struct proxy_result ignored;
	enum proxy_match m = PROXY_SAME;

	if (!t->in_mail || t->nopen != t->nrcpt || t->from == NULL ||
	    strcmp(from != NULL ? from : "", t->from) != 0)
		return PROXY_DIFFERS;
	if (proxy_mail_params(&t->c, s, params, sizeof(params),
	    &ignored) != 0 || strcmp(params, t->mail_params) != 0)
		return PROXY_DIFFERS;
	for (size_t i = 0; i < t->nopen; i++) {
		if (strcmp(psmtpd_session_rcpt(s, t->open[i]), t->rcpts[i]))
			return PROXY_DIFFERS;
		proxy_dsn_rcpt(&t->c, s, t->open[i], dsn, sizeof(dsn));
		if (strcmp(dsn, proxy_rcpt_dsn(t, i)) != 0)
			m = PROXY_DSN_DIFFERS;
	}
	return m;
}

/* proxy_restart - RSET an upstream transaction that does not match. */
static int
proxy_restart(struct proxy_txn *t, struct proxy_result *res)
{
	struct smtpc_reply r;

	proxy_forget_rcpts(t);
	if (!t->in_mail)
		return 0;
	t->in_mail = 0;
	return proxy_expect(t, smtpc_command(&t->c, &r, "RSET"), &r, 250,
	    "RSET", res);
}

/* proxy_replay_rcpts - RCPT for every recipient of the session.  Any
 * refusal fails the message: with the upstream's 5xx when every one was
 * refused for good, else a 4xx (the client retries; none is lost). */
static int
proxy_replay_rcpts(struct proxy_txn *t, psmtpd_session *s,
    struct proxy_result *res)
{
	size_t n = t->nopen, refused = 0;
	struct proxy_result first = { 0, "" }, temp = { 0, "" };

	for (size_t i = 0; i < n && !t->broken; i++) {
		struct proxy_result one = { 0, "" };
		char dsn[PROXY_DSN_RCPT_MAX];
		proxy_dsn_rcpt(&t->c, s, t->open[i], dsn, sizeof(dsn));
		if (proxy_txn_rcpt(t, s, psmtpd_session_rcpt(s, t->open[i]),
		    dsn, &one) == 0)
			continue;
		refused++;
		if (first.code == 0)
			first = one;
		if (one.code < 500 && temp.code == 0)
			temp = one;
	}
	if (t->broken) {
		proxy_broken_reply(t, res);
		return -1;
	}
	if (refused == 0)
		return 0;
	*res = temp.code != 0 ? temp : first;
	if (temp.code == 0 && refused < n) {
		res->code = 451;
		snprintf(res->text, sizeof(res->text), "4.4.2 Error: upstream "
		    "refused a recipient (%d %.200s), try again later",
		    first.code, first.text);
	}
	return -1;
}

int
proxy_txn_sync(struct proxy_txn *t, psmtpd_session *s,
    struct proxy_result *res)
{
	if (t->broken) {
		proxy_broken_reply(t, res);
		return -1;
	}
	if (proxy_find_open(t, s) != 0) {
		proxy_tempfail(res, "unusable (out of memory)");
		return -1;
	}
	if (t->nopen == 0)
		return 0;
	proxy_dsn_note_dropped(t, s);
	enum proxy_match m = proxy_envelope_match(t, s);
	if (m == PROXY_SAME)
		return 0;
	if (t->connected)
		psmtpd_session_log(s, m == PROXY_DSN_DIFFERS ? PSMTPD_LOG_INFO :
		    PSMTPD_LOG_NOTICE, "%s envelope %s, replaying it",
		    t->pc->tag, m == PROXY_DSN_DIFFERS ? "without the "
		    "recipients' DSN parameters" : "differs from the "
		    "upstream's");
	if (proxy_restart(t, res) != 0 ||
	    proxy_txn_mail(t, s, psmtpd_session_mailfrom(s), res) != 0)
		return -1;
	return proxy_replay_rcpts(t, s, res);
}

/* ---- DATA -------------------------------------------------------------- */

int
proxy_txn_body(struct proxy_txn *t, const struct smtpc_part *parts,
    size_t nparts, struct proxy_result *res)
{
	struct smtpc_reply r;
	size_t size = smtpc_wire_size(parts, nparts);

	if (t->c.size_offered && t->c.size_max > 0 &&
	    (long long)size > t->c.size_max) {
		res->code = 552;
		snprintf(res->text, sizeof(res->text), "5.3.4 Error: message "
		    "size exceeds the upstream's limit of %lld", t->c.size_max);
		return -1;
	}
	enum smtpc_status st = smtpc_command(&t->c, &r, "DATA");
	if (st == SMTPC_OK && r.code != 354) {
		proxy_upstream(t, &r, res);
		if (r.code >= 200 && r.code < 400)
			t->broken = 1;	/* out of step: no QUIT */
		return -1;
	}
	if (st == SMTPC_OK)
		st = smtpc_send_body(&t->c, parts, nparts);
	if (st != SMTPC_OK) {
		proxy_io_failed(t, st, "DATA", res);
		return -1;
	}
	t->in_mail = 0;
	return 0;
}

int
proxy_txn_data(struct proxy_txn *t, const struct smtpc_part *parts,
    size_t nparts, struct proxy_result *res)
{
	struct smtpc_reply r;

	if (proxy_txn_body(t, parts, nparts, res) != 0)
		return -1;
	return proxy_expect(t, smtpc_read_reply(&t->c, &r), &r, 250, "DATA",
	    res);
}

/* ---- the end ----------------------------------------------------------- */

void
proxy_txn_free(void *txn)
{
	struct proxy_txn *t = txn;
	struct smtpc_reply r;

	if (t == NULL)
		return;
	/* A polite QUIT, its reply waited for briefly: an upstream that
	 * hangs must not hold the client (issue 10, defect 9).  Not at all
	 * when the link is out of step or dead. */
	t->c.trace = NULL;
	if (t->c.fd >= 0 && !t->broken) {
		if (t->c.reply_timeout_ms > PROXY_QUIT_MS)
			t->c.reply_timeout_ms = PROXY_QUIT_MS;
		(void)smtpc_command(&t->c, &r, "QUIT");
	}
	smtpc_close(&t->c);
	proxy_forget_rcpts(t);
	free(t->rcpts);
	free(t->open);
	free(t->from);
	free(t);
}
