/*
 * session_api.c - the plugin API's session functions: read access to the
 * channel's state, replies, per-plugin data, logging.  Exported from the
 * psmtpd binary for plugins to call.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <psmtpd/plugin.h>

#include "channel_session.h"
#include "io.h"
#include "log.h"
#include "plugin_loader.h"

const char *
psmtpd_session_peer_addr(const psmtpd_session *s)
{
	return s->peer_addr;
}

unsigned
psmtpd_session_peer_port(const psmtpd_session *s)
{
	return s->peer_port;
}

const char *
psmtpd_session_fqdn(const psmtpd_session *s)
{
	return s->params->fqdn;
}

const char *
psmtpd_session_remote(const psmtpd_session *s)
{
	return s->params->remote;
}

const char *
psmtpd_session_greeting(const psmtpd_session *s)
{
	return s->seen_greeting;
}

int
psmtpd_session_extended(const psmtpd_session *s)
{
	return s->extended_smtp;
}

enum psmtpd_smtp_state
psmtpd_session_state(const psmtpd_session *s)
{
	return s->smtp_state;
}

const char *
psmtpd_session_mailfrom(const psmtpd_session *s)
{
	return s->mailfrom;
}

size_t
psmtpd_session_rcpt_count(const psmtpd_session *s)
{
	return s->nrcpt;
}

const char *
psmtpd_session_rcpt(const psmtpd_session *s, size_t i)
{
	return i < s->nrcpt ? s->rcpts[i].addr : NULL;
}

size_t
psmtpd_session_mail_option_count(const psmtpd_session *s)
{
	return s->mailfrom != NULL ? s->mail_options.n : 0;
}

const char *
psmtpd_session_mail_option(const psmtpd_session *s, size_t i)
{
	return i < psmtpd_session_mail_option_count(s) ? s->mail_options.opt[i] :
	    NULL;
}

size_t
psmtpd_session_rcpt_option_count(const psmtpd_session *s)
{
	/* the RCPT in progress too: its hooks see its parameters */
	return s->rcpt_options.n;
}

const char *
psmtpd_session_rcpt_option(const psmtpd_session *s, size_t i)
{
	return i < psmtpd_session_rcpt_option_count(s) ? s->rcpt_options.opt[i] :
	    NULL;
}

size_t
psmtpd_session_mail_param_count(const psmtpd_session *s)
{
	return psmtpd_session_mail_option_count(s);
}

const char *
psmtpd_session_mail_param(const psmtpd_session *s, size_t j)
{
	return j < psmtpd_session_mail_param_count(s) ?
	    channel_option_raw(&s->mail_options, j) : NULL;
}

size_t
psmtpd_session_rcpt_param_count(const psmtpd_session *s, size_t i)
{
	return i < s->nrcpt ? s->rcpts[i].nparam : 0;
}

const char *
psmtpd_session_rcpt_param(const psmtpd_session *s, size_t i, size_t j)
{
	return j < psmtpd_session_rcpt_param_count(s, i) ?
	    s->rcpts[i].param[j] : NULL;
}

int
psmtpd_session_decode_data(const psmtpd_session *s)
{
	return s->params->decode_data;
}

const char *
psmtpd_session_id(const psmtpd_session *s)
{
	return s->id;
}

unsigned
psmtpd_api_level(void)
{
	return PSMTPD_PLUGIN_API;
}

/* session_reply_allowed - the running hook can answer; else logged. */
static bool
session_reply_allowed(psmtpd_session *s)
{
	enum api_where w = s->api.where;

	if (s->reply_target != NULL && w != API_IN_QUIET &&
	    w != API_IN_OUTCOME && w != API_IN_EHLO)
		return true;
	log_warnx("id=%s plugin=%s set a reply in %s, which cannot answer: "
	    "not sent", s->id, plugin_set_name(s->plugins, s->current_plugin),
	    s->api.hook != NULL ? s->api.hook : "no hook");
	return false;
}

int
psmtpd_vreply(psmtpd_session *s, const char *fmt, va_list ap)
{
	char text[CHANNEL_REPLY_MAX];
	int n;

	if (!session_reply_allowed(s))
		return -1;
	n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(text) || !api_reply_valid(text)) {
		log_warnx("id=%s plugin=%s gave an invalid reply \"%.80s\"",
		    s->id, plugin_set_name(s->plugins, s->current_plugin),
		    text);
		return -1;
	}
	memcpy(s->reply_target->reply, text, (size_t)n + 1);
	return 0;
}

int
psmtpd_reply(psmtpd_session *s, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = psmtpd_vreply(s, fmt, ap);
	va_end(ap);
	return r;
}

int
psmtpd_reply_lines(psmtpd_session *s, int code, const char *const *lines,
    size_t n)
{
	char text[CHANNEL_REPLY_MAX];
	size_t off = 0;

	if (code < 200 || code > 599 || n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(text + off, sizeof(text) - off, "%s%d%c%s",
		    i ? "\n" : "", code, i + 1 < n ? '-' : ' ', lines[i]);
		if (w < 0 || (size_t)w >= sizeof(text) - off)
			return -1;
		off += (size_t)w;
	}
	return psmtpd_reply(s, "%s", text);
}

void
psmtpd_session_set_data(psmtpd_session *s, void *data,
    void (*free_fn)(void *))
{
	struct channel_plugin_data *d = &s->pdata[s->current_plugin];

	if (d->session_free != NULL && d->session_data != NULL &&
	    d->session_data != data)
		d->session_free(d->session_data);
	d->session_data = data;
	d->session_free = free_fn;
}

void *
psmtpd_session_get_data(const psmtpd_session *s)
{
	return s->pdata[s->current_plugin].session_data;
}

void
psmtpd_txn_set_data(psmtpd_session *s, void *data, void (*free_fn)(void *))
{
	struct channel_plugin_data *d = &s->pdata[s->current_plugin];

	if (d->txn_free != NULL && d->txn_data != NULL && d->txn_data != data)
		d->txn_free(d->txn_data);
	d->txn_data = data;
	d->txn_free = free_fn;
}

void *
psmtpd_txn_get_data(const psmtpd_session *s)
{
	return s->pdata[s->current_plugin].txn_data;
}

void
psmtpd_session_log(const psmtpd_session *s, enum psmtpd_log_level level,
    const char *fmt, ...)
{
	char text[1500];
	va_list ap;

	if (!log_enabled((int)level))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_msg((int)level, "id=%s%s%s client=%s plugin=%s %s", s->id,
	    s->api.msgid[0] != '\0' ? " msgid=" : "", s->api.msgid,
	    s->peer_addr, plugin_set_name(s->plugins, s->current_plugin),
	    text);
}

void
psmtpd_log(enum psmtpd_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg((int)level, fmt, ap);
	va_end(ap);
}

bool
api_ehlo_valid(const char *kw)
{
	size_t i = 0, n = strlen(kw);

	while ((kw[i] >= 'A' && kw[i] <= 'Z') || (kw[i] >= 'a' &&
	    kw[i] <= 'z') || (kw[i] >= '0' && kw[i] <= '9') || kw[i] == '-')
		i++;
	if (i == 0 || (kw[i] != '\0' && kw[i] != ' ') || n > 200)
		return false;
	for (; i < n; i++)
		if (kw[i] < ' ' || kw[i] > '~')
			return false;
	return true;
}

int
psmtpd_ehlo_keyword(psmtpd_session *s, const char *fmt, ...)
{
	char kw[256];
	va_list ap;
	struct api_state *a = &s->api;

	va_start(ap, fmt);
	int n = vsnprintf(kw, sizeof(kw), fmt, ap);
	va_end(ap);
	if (a->where != API_IN_EHLO || n < 0 || (size_t)n >= sizeof(kw) ||
	    !api_ehlo_valid(kw) || a->ehlo_len + (size_t)n + 2 >
	    sizeof(a->ehlo)) {
		log_warnx("id=%s plugin=%s psmtpd_ehlo_keyword refused: "
		    "\"%.80s\"", s->id, plugin_set_name(s->plugins,
		    s->current_plugin), kw);
		return -1;
	}
	a->ehlo_len += (size_t)snprintf(a->ehlo + a->ehlo_len,
	    sizeof(a->ehlo) - a->ehlo_len, "%s%s", a->ehlo_len ? "\n" : "",
	    kw);
	return 0;
}

/* session_ask_line - the client's answer to an intermediate reply. */
static int
session_ask_line(psmtpd_session *s, char *buf, size_t size)
{
	char line[CHANNEL_LINE_MAX + 1];	/* s->line holds the verb's arg */
	size_t len;
	enum io_status st;

	do
		st = io_read_line(&s->io, line, CHANNEL_LINE_MAX, &len,
		    s->params->timeout_command);
	while (st == IO_INTR);
	if (st != IO_OK) {
		channel_close(s, st == IO_TIMEOUT ? CHANNEL_END_TIMEOUT :
		    st == IO_EOF ? CHANNEL_END_EOF : CHANNEL_END_ERROR);
		return -1;
	}
	if (len > CHANNEL_LINE_MAX || len >= size)
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	return (int)len;
}

int
psmtpd_ask(psmtpd_session *s, char *buf, size_t size, const char *fmt, ...)
{
	char text[CHANNEL_REPLY_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (s->closing || size == 0 || n < 0 || (size_t)n >= sizeof(text) ||
	    !api_reply_valid(text) || text[0] != '3' ||
	    s->api.where != API_IN_HOOK)
		return -1;
	channel_reply_raw(s, text);
	if (s->closing || io_flush(&s->io, s->params->timeout_command) !=
	    IO_OK)
		return -1;
	return session_ask_line(s, buf, size);
}
