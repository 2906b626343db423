/*
 * envelope_api.c - the plugin API's envelope edits (API 2): a new
 * sender, recipients added and removed.  What the client sent is not
 * re-checked: the plugin speaks for itself; what it gives is checked so
 * that no CR or LF reaches a header, a log line or an upstream command.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include <psmtpd/plugin.h>

#include "channel_session.h"
#include "log.h"
#include "plugin_loader.h"

#define ENVELOPE_ADDR_MAX 1000

/* A recipient a plugin adds has no parameters. */
static const struct channel_options envelope_no_params;

/* envelope_refuse - log why a plugin's edit is not made. */
static int
envelope_refuse(const struct psmtpd_session *s, const char *fn,
    const char *why)
{
	log_warnx("id=%s plugin=%s %s refused: %s", s->id,
	    plugin_set_name(s->plugins, s->current_plugin), fn, why);
	return -1;
}

/* envelope_valid_addr - non-empty, bounded, no control character. */
static bool
envelope_valid_addr(const char *a)
{
	size_t n = a != NULL ? strlen(a) : 0;

	if (n == 0 || n > ENVELOPE_ADDR_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)a[i] < ' ' || a[i] == 0x7f)
			return false;
	return true;
}

/* envelope_editable - a transaction is open and a hook that may edit
 * runs; rcpt: recipients may change too (not in on_mail). */
static bool
envelope_editable(const struct psmtpd_session *s, bool rcpt)
{
	enum api_where w = s->api.where;

	if (s->mailfrom == NULL)
		return false;
	return w == API_IN_MESSAGE || w == API_IN_HOOK ||
	    (!rcpt && w == API_IN_MAIL);
}

int
psmtpd_envelope_set_sender(psmtpd_session *s, const char *addr)
{
	const char *fn = "psmtpd_envelope_set_sender";
	char *copy;

	if (!envelope_editable(s, false))
		return envelope_refuse(s, fn, "no transaction here");
	if (!envelope_valid_addr(addr))
		return envelope_refuse(s, fn, "not a valid address");
	if ((copy = strdup(addr)) == NULL)
		return envelope_refuse(s, fn, "out of memory");
	log_info("id=%s msgid=%s plugin=%s sender=<%s> was=<%s>", s->id,
	    s->api.msgid, plugin_set_name(s->plugins, s->current_plugin),
	    copy, s->mailfrom);
	free(s->mailfrom);
	s->mailfrom = copy;
	return 0;
}

int
psmtpd_envelope_add_rcpt(psmtpd_session *s, const char *addr)
{
	const char *fn = "psmtpd_envelope_add_rcpt";

	if (!envelope_editable(s, true))
		return envelope_refuse(s, fn, "no transaction here");
	if (!envelope_valid_addr(addr))
		return envelope_refuse(s, fn, "not a valid address");
	if (channel_add_rcpt_with(s, addr, &envelope_no_params) != 0)
		return envelope_refuse(s, fn, "out of memory");
	log_info("id=%s msgid=%s plugin=%s added to=<%s>", s->id,
	    s->api.msgid, plugin_set_name(s->plugins, s->current_plugin),
	    addr);
	return 0;
}

/* envelope_any_verdict - a recipient has a verdict already. */
static bool
envelope_any_verdict(const struct psmtpd_session *s)
{
	for (size_t i = 0; s->api.verdicts && i < s->nrcpt; i++)
		if (s->rcpts[i].reply != NULL)
			return true;
	return false;
}

int
psmtpd_envelope_remove_rcpt(psmtpd_session *s, size_t i)
{
	const char *fn = "psmtpd_envelope_remove_rcpt";

	if (!envelope_editable(s, true) || i >= s->nrcpt)
		return envelope_refuse(s, fn, "no such recipient here");
	if (envelope_any_verdict(s))
		return envelope_refuse(s, fn, "recipients have verdicts");
	log_info("id=%s msgid=%s plugin=%s removed to=<%s>", s->id,
	    s->api.msgid, plugin_set_name(s->plugins, s->current_plugin),
	    s->rcpts[i].addr);
	free(s->rcpts[i].param);	/* with addr: one block */
	free(s->rcpts[i].reply);
	memmove(&s->rcpts[i], &s->rcpts[i + 1], (s->nrcpt - i - 1) *
	    sizeof(s->rcpts[0]));
	s->nrcpt--;
	return 0;
}
