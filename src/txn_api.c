/*
 * txn_api.c - the plugin API of a transaction (API 2): its life (id,
 * end), notes and check results, per-recipient verdicts and the outcome.
 */
#include "autoconfig.h"

#include <bsd/string.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psmtpd/plugin.h>

#include "channel_session.h"
#include "log.h"
#include "plugin_loader.h"
#include "verdict.h"

#define TXN_MIXED "451 Error: delivery failed for some recipients, try " \
	"again later"
#define TXN_MIXED_ENH "451 4.3.0 Error: delivery failed for some " \
	"recipients, try again later"

/* txn_refuse - a call the API cannot honour, logged with the plugin. */
static int
txn_refuse(const struct psmtpd_session *s, const char *fn, const char *why)
{
	log_warnx("id=%s plugin=%s %s refused: %s", s->id,
	    plugin_set_name(s->plugins, s->current_plugin), fn, why);
	return -1;
}

void
api_txn_begin(struct psmtpd_session *s)
{
	s->api.msgseq++;
	snprintf(s->api.msgid, sizeof(s->api.msgid), "%s.%u", s->id,
	    s->api.msgseq);
}

void
api_txn_end(struct psmtpd_session *s)
{
	notes_clear(&s->api.txn_notes);
	s->api.verdicts = false;
	s->api.lost = false;
	free(s->api.outcome);
	s->api.outcome = NULL;
	s->api.outcome_code = 0;
	s->api.outcome_plugin = "";
	s->api.msgid[0] = '\0';
}

void
api_session_end(struct psmtpd_session *s)
{
	api_txn_end(s);
	notes_clear(&s->api.session_notes);
}

void
api_verdicts_begin(struct psmtpd_session *s)
{
	for (size_t i = 0; i < s->nrcpt; i++) {
		free(s->rcpts[i].reply);
		s->rcpts[i].reply = NULL;
	}
	s->api.verdicts = true;
}

/* txn_rcpt_reply - verdict_fold's view of the recipient records. */
static const char *
txn_rcpt_reply(const void *arg, size_t i)
{
	const struct channel_rcpt *r = arg;

	return r[i].reply;
}

void
api_verdicts_settle(struct psmtpd_session *s, const char *last, char *out,
    size_t size)
{
	const char *all = last != NULL ? last : "250 OK";

	for (size_t i = 0; i < s->nrcpt; i++)
		if (s->rcpts[i].reply == NULL)
			s->rcpts[i].reply = strdup(all);
	s->api.verdicts = false;
	const char *one = s->nrcpt == 0 ? all : verdict_fold(txn_rcpt_reply,
	    s->rcpts, s->nrcpt, s->ext.enhanced_status_codes ?
	    TXN_MIXED_ENH : TXN_MIXED);
	strlcpy(out, one, size);
}

void
api_set_outcome(struct psmtpd_session *s, const char *reply,
    const char *plugin)
{
	free(s->api.outcome);
	s->api.outcome = strdup(reply);
	s->api.outcome_code = atoi(reply);
	s->api.outcome_plugin = plugin;
}

bool
api_reply_valid(const char *text)
{
	for (const char *p = text;;) {
		if (p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9' ||
		    p[2] < '0' || p[2] > '9' || strncmp(p, text, 3) != 0)
			return false;
		const char *nl = strchr(p, '\n');
		if (p[3] != (nl != NULL ? '-' : ' ') && !(nl == NULL &&
		    p[3] == '\0'))
			return false;
		if (memchr(p, '\r', nl ? (size_t)(nl - p) : strlen(p)) != NULL)
			return false;
		if (nl == NULL)
			return true;
		p = nl + 1;
	}
}

int
psmtpd_reply_rcpt(psmtpd_session *s, size_t i, const char *fmt, ...)
{
	char text[CHANNEL_REPLY_MAX];
	va_list ap;
	int n;

	if (s->api.where != API_IN_MESSAGE || !s->api.verdicts)
		return txn_refuse(s, "psmtpd_reply_rcpt", "not in "
		    "process_message");
	if (i >= s->nrcpt || s->rcpts[i].reply != NULL)
		return txn_refuse(s, "psmtpd_reply_rcpt", "no such recipient, "
		    "or it has a verdict already");
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(text) || !api_reply_valid(text) ||
	    text[0] == '3')
		return txn_refuse(s, "psmtpd_reply_rcpt", "not a valid 2xx, "
		    "4xx or 5xx reply");
	if ((s->rcpts[i].reply = strdup(text)) == NULL)
		return txn_refuse(s, "psmtpd_reply_rcpt", "out of memory");
	return 0;
}

const char *
psmtpd_rcpt_reply(const psmtpd_session *s, size_t i)
{
	return i < s->nrcpt ? s->rcpts[i].reply : NULL;
}

int
psmtpd_outcome_code(const psmtpd_session *s)
{
	return s->api.outcome_code;
}

const char *
psmtpd_outcome_reply(const psmtpd_session *s)
{
	return s->api.outcome != NULL ? s->api.outcome : "";
}

const char *
psmtpd_outcome_plugin(const psmtpd_session *s)
{
	return s->api.outcome_plugin != NULL ? s->api.outcome_plugin : "";
}

/* txn_in_transaction - a MAIL is in effect. */
static bool
txn_in_transaction(const struct psmtpd_session *s)
{
	return s->mailfrom != NULL;
}

int
psmtpd_session_note_set(psmtpd_session *s, const char *key, void *value,
    void (*free_fn)(void *))
{
	if (notes_set(&s->api.session_notes, key, value, free_fn) != 0)
		return txn_refuse(s, "psmtpd_session_note_set", "bad key or "
		    "out of memory");
	return 0;
}

void *
psmtpd_session_note_get(const psmtpd_session *s, const char *key)
{
	return notes_get(&s->api.session_notes, key);
}

int
psmtpd_txn_note_set(psmtpd_session *s, const char *key, void *value,
    void (*free_fn)(void *))
{
	if (!txn_in_transaction(s)) {
		if (free_fn != NULL && value != NULL)
			free_fn(value);
		return txn_refuse(s, "psmtpd_txn_note_set", "no transaction");
	}
	if (notes_set(&s->api.txn_notes, key, value, free_fn) != 0)
		return txn_refuse(s, "psmtpd_txn_note_set", "bad key or out "
		    "of memory");
	return 0;
}

void *
psmtpd_txn_note_get(const psmtpd_session *s, const char *key)
{
	return notes_get(&s->api.txn_notes, key);
}

int
psmtpd_check_result(psmtpd_session *s, const char *fmt, ...)
{
	char text[NOTES_CHECK_LEN + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (notes_add_check(txn_in_transaction(s) ? &s->api.txn_notes :
	    &s->api.session_notes, text) != 0)
		return txn_refuse(s, "psmtpd_check_result", "not "
		    "\"method=result ...\", or too many");
	return 0;
}

size_t
psmtpd_check_count(const psmtpd_session *s)
{
	return s->api.session_notes.nchecks + s->api.txn_notes.nchecks;
}

const char *
psmtpd_check_get(const psmtpd_session *s, size_t i)
{
	size_t ns = s->api.session_notes.nchecks;

	if (i < ns)
		return s->api.session_notes.checks[i];
	i -= ns;
	return i < s->api.txn_notes.nchecks ? s->api.txn_notes.checks[i] :
	    NULL;
}
