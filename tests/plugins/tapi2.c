/*
 * tapi2.c - a test plugin for API 2: each setting switches on one
 * capability (message and envelope edits, notes and check results,
 * per-recipient verdicts, the outcome hook, EHLO keywords, the unknown
 * command hook, a multi-line exchange, replies where none is allowed).
 * What it sees goes to the session log, with LF shown as '|'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psmtpd/plugin.h>

struct tapi2 {
	int headers, show, ask, rset_reply, mixed_reply, verdict_go_on, misuse;
	const char *body, *sender, *add_rcpt, *check, *note, *ehlo, *tag;
	long long remove_rcpt;
	size_t nverdicts;
	const char *verdicts[8];
};

/* tapi2_flat - text with LF as '|', for one log line. */
static void
tapi2_flat(char *out, size_t size, const char *in, size_t len)
{
	size_t i;

	for (i = 0; i < len && i + 1 < size; i++)
		out[i] = in[i] == '\n' ? '|' : in[i];
	out[i] = '\0';
}

static enum psmtpd_result
tapi2_connect(psmtpd_session *s, void *d)
{
	struct tapi2 *t = d;

	if (t->note != NULL)
		psmtpd_session_note_set(s, "tapi2.conn", strdup(t->note), free);
	if (t->misuse)
		psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "misuse connect: "
		    "txn_note=%d sender=%d key=%d", psmtpd_txn_note_set(s,
		    "tapi2.x", strdup("x"), free),
		    psmtpd_envelope_set_sender(s, "x@y"),
		    psmtpd_session_note_set(s, "", NULL, NULL));
	return PSMTPD_CONTINUE;
}

static enum psmtpd_result
tapi2_mail(psmtpd_session *s, const char *from, void *d)
{
	struct tapi2 *t = d;

	psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "on_mail from=%s session=%s "
	    "options=%zu first=%s", from, psmtpd_session_mailfrom(s),
	    psmtpd_session_mail_option_count(s),
	    psmtpd_session_mail_option(s, 0) ? psmtpd_session_mail_option(s, 0)
	    : "-");
	if (t->check != NULL)
		psmtpd_check_result(s, "%s", t->check);
	return PSMTPD_CONTINUE;
}

static enum psmtpd_result
tapi2_rcpt(psmtpd_session *s, const char *to, void *d)
{
	struct tapi2 *t = d;

	if (t->note != NULL)
		psmtpd_txn_note_set(s, "tapi2.txn", strdup(to), free);
	if (t->misuse) {
		char line[8];
		psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "misuse rcpt: "
		    "header=%d body=%d verdict=%d ask=%d ehlo=%d",
		    psmtpd_header_add(s, 0, "X", "y"),
		    psmtpd_body_replace(s, "x", 1),
		    psmtpd_reply_rcpt(s, 0, "250 ok"),
		    psmtpd_ask(s, line, sizeof(line), "250 not 3xx"),
		    psmtpd_ehlo_keyword(s, "XFOO"));
	}
	return PSMTPD_CONTINUE;
}

/* tapi2_edit - the header, body and envelope edits asked for. */
static void
tapi2_edit(psmtpd_session *s, struct tapi2 *t)
{
	if (t->headers) {
		psmtpd_header_add(s, PSMTPD_HEADER_TOP, "X-First", "%s", t->tag);
		psmtpd_header_add(s, PSMTPD_HEADER_END, "X-Last", "%s", t->tag);
		psmtpd_header_remove(s, "X-Remove", PSMTPD_HEADER_ALL);
		psmtpd_header_replace(s, "Subject", 0, "edited by %s", t->tag);
	}
	if (t->body != NULL)
		psmtpd_body_replace(s, t->body, strlen(t->body));
	if (t->sender != NULL)
		psmtpd_envelope_set_sender(s, t->sender);
	if (t->add_rcpt != NULL)
		psmtpd_envelope_add_rcpt(s, t->add_rcpt);
	if (t->remove_rcpt >= 0)
		psmtpd_envelope_remove_rcpt(s, (size_t)t->remove_rcpt);
}

/* tapi2_show - what this plugin sees of the message and envelope. */
static void
tapi2_show(psmtpd_session *s, struct tapi2 *t)
{
	char flat[600], to[200] = "";
	size_t len, n = 0;
	const char *data = psmtpd_message_data(s, &len);

	tapi2_flat(flat, sizeof(flat), data, len);
	for (size_t i = 0; i < psmtpd_session_rcpt_count(s); i++)
		n += (size_t)snprintf(to + n, sizeof(to) - n, "%s%s",
		    i ? "," : "", psmtpd_session_rcpt(s, i));
	psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "%s sees from=%s to=%s "
	    "data=[%s] headers=%zu msgid=%s", t->tag,
	    psmtpd_session_mailfrom(s), to, flat, psmtpd_header_count(s, NULL),
	    psmtpd_message_id(s));
	for (size_t i = 0; i < psmtpd_check_count(s); i++)
		psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "%s check=%s", t->tag,
		    psmtpd_check_get(s, i));
	const char *cn = psmtpd_session_note_get(s, "tapi2.conn");
	const char *tn = psmtpd_txn_note_get(s, "tapi2.txn");
	if (cn != NULL || tn != NULL)
		psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "%s notes conn=%s "
		    "txn=%s", t->tag, cn ? cn : "-", tn ? tn : "-");
}

/* tapi2_misuse_message - edits and verdicts the API must refuse. */
static void
tapi2_misuse_message(psmtpd_session *s)
{
	char line[8];
	int first = psmtpd_reply_rcpt(s, 0, "250 first");

	psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "misuse message: "
	    "badname=%d badvalue=%d nofield=%d noindex=%d append=%d "
	    "verdict=%d,%d,%d,%d remove=%d ask=%d",
	    psmtpd_header_add(s, 0, "Bad Name", "x"),
	    psmtpd_header_add(s, 0, "X", "a\nb"),
	    psmtpd_header_replace(s, "Nope", 0, "v"),
	    psmtpd_header_remove(s, "Subject", 9),
	    psmtpd_body_append(s, "x", 1), first,
	    psmtpd_reply_rcpt(s, 0, "250 again"),
	    psmtpd_reply_rcpt(s, 99, "250 nobody"),
	    psmtpd_reply_rcpt(s, 1, "354 not a verdict"),
	    psmtpd_envelope_remove_rcpt(s, 0),
	    psmtpd_ask(s, line, sizeof(line), "334 not here"));
}

static enum psmtpd_result
tapi2_message(psmtpd_session *s, void *d)
{
	struct tapi2 *t = d;

	tapi2_edit(s, t);
	if (t->misuse)
		tapi2_misuse_message(s);
	if (t->show)
		tapi2_show(s, t);
	if (t->mixed_reply) {
		int r = psmtpd_reply(s, "250-fine\n550 not fine");
		psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "mixed reply=%d", r);
		return PSMTPD_REPLY;
	}
	for (size_t i = 0; i < t->nverdicts; i++)
		psmtpd_reply_rcpt(s, i, "%s", t->verdicts[i]);
	if (t->nverdicts > 0 && !t->verdict_go_on)
		return PSMTPD_REPLY;
	return PSMTPD_CONTINUE;
}

static void
tapi2_outcome(psmtpd_session *s, void *d)
{
	struct tapi2 *t = d;
	const char *r0 = psmtpd_rcpt_reply(s, 0);

	psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "%s outcome code=%d by=%s "
	    "rcpt0=%s", t->tag, psmtpd_outcome_code(s),
	    psmtpd_outcome_plugin(s)[0] ? psmtpd_outcome_plugin(s) : "server",
	    r0 ? r0 : "-");
}

static void
tapi2_rset(psmtpd_session *s, void *d)
{
	struct tapi2 *t = d;

	if (t->rset_reply)
		psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "rset reply=%d",
		    psmtpd_reply(s, "250 not allowed"));
}

static void
tapi2_ehlo(psmtpd_session *s, void *d)
{
	struct tapi2 *t = d;

	if (t->ehlo != NULL)
		psmtpd_ehlo_keyword(s, "%s", t->ehlo);
	psmtpd_ehlo_keyword(s, "BAD\nKEYWORD");
}

/* tapi2_xask - a two-step command: 334, then the client's line. */
static enum psmtpd_result
tapi2_xask(psmtpd_session *s)
{
	char line[16];
	int n;

	if ((n = psmtpd_ask(s, line, sizeof(line), "334 %s", "go on")) < 0) {
		psmtpd_reply(s, "501 answer too long");
		return PSMTPD_REPLY;
	}
	psmtpd_reply(s, "250 got %d [%s] api=%u", n, line, psmtpd_api_level());
	return PSMTPD_REPLY;
}

/* XUNK and XASK through the catch-all (two instances of this plugin can
 * be loaded: no verb is claimed). */
static enum psmtpd_result
tapi2_unknown(psmtpd_session *s, const char *verb, const char *arg, void *d)
{
	(void)d;
	if (strcmp(verb, "XASK") == 0)
		return tapi2_xask(s);
	if (strcmp(verb, "XUNK") != 0)
		return PSMTPD_CONTINUE;
	psmtpd_reply(s, "502 tapi2 knows %s but not %s", verb, arg ? arg : "-");
	return PSMTPD_REPLY;
}

/* tapi2_settings - every setting, each one switch. */
static void
tapi2_settings(psmtpd_init *ctx, struct tapi2 *t)
{
	size_t n = 0;

	psmtpd_setting_bool(ctx, "headers", &t->headers);
	psmtpd_setting_bool(ctx, "show", &t->show);
	psmtpd_setting_bool(ctx, "rset_reply", &t->rset_reply);
	psmtpd_setting_bool(ctx, "mixed_reply", &t->mixed_reply);
	psmtpd_setting_bool(ctx, "verdict_go_on", &t->verdict_go_on);
	psmtpd_setting_bool(ctx, "misuse", &t->misuse);
	psmtpd_setting_string(ctx, "body", &t->body);
	psmtpd_setting_string(ctx, "sender", &t->sender);
	psmtpd_setting_string(ctx, "add_rcpt", &t->add_rcpt);
	psmtpd_setting_string(ctx, "check", &t->check);
	psmtpd_setting_string(ctx, "note", &t->note);
	psmtpd_setting_string(ctx, "ehlo", &t->ehlo);
	psmtpd_setting_string(ctx, "tag", &t->tag);
	psmtpd_setting_int(ctx, "remove_rcpt", &t->remove_rcpt);
	if (psmtpd_setting_strings(ctx, "verdicts", &n) == 1)
		for (size_t i = 0; i < n && i < 8; i++)
			t->verdicts[t->nverdicts++] =
			    psmtpd_setting_strings_at(ctx, "verdicts", i);
}

static int
tapi2_init(psmtpd_init *ctx, void **data)
{
	struct tapi2 *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	t->remove_rcpt = -1;
	t->tag = psmtpd_init_name(ctx);
	tapi2_settings(ctx, t);
	*data = t;
	return 0;
}

static void
tapi2_fini(void *data)
{
	free(data);
}

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "tapi2",
	.version = "2",
	.description = "test plugin: API 2, one setting per capability",
	.init = tapi2_init,
	.fini = tapi2_fini,
	.on_connect = tapi2_connect,
	.on_mail = tapi2_mail,
	.on_rcpt = tapi2_rcpt,
	.process_message = tapi2_message,
	.on_rset = tapi2_rset,
	.ehlo_keywords = tapi2_ehlo,
	.on_unknown_command = tapi2_unknown,
	.on_outcome = tapi2_outcome,
};
