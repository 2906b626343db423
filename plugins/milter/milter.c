/*
 * milter.c - the milter plugin: psmtpd as the MTA side of the milter
 * protocol (version 6), so that the filters operators already run for
 * Postfix and sendmail (OpenDKIM, rspamd, OpenDMARC, ClamAV...) filter
 * psmtpd's mail.  Each plugin entry is one milter; several entries make a
 * chain, in config order.  Each SMTP session opens its own connection to
 * the milter (libmilter closes it when the session ends).
 *
 * Settings: socket ("inet:host:port", "inet6:[addr]:port", "unix:/path";
 * required), connect_timeout (30 s), command_timeout (30 s),
 * content_timeout (300 s), default_action ("tempfail", "accept",
 * "reject").  The verdicts and their replies: milter_map.c; the edits:
 * milter_edit.c.
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psmtpd/plugin.h>

#include "../delivery_util.h"
#include "milter_client.h"
#include "milter_edit.h"
#include "milter_macros.h"
#include "milter_map.h"
#include "milter_msg.h"

/* Every step we can skip, every no-reply step, and SMFIR_SKIP; not
 * RCPT_REJ (refused recipients are not sent) nor HDR_LEADSPC (header
 * values are sent and taken without their leading space, as sendmail). */
#define MILTER_PROTOCOL (MP_P_NOCONNECT | MP_P_NOHELO | MP_P_NOMAIL | \
	MP_P_NORCPT | MP_P_NOBODY | MP_P_NOHDRS | MP_P_NOEOH | MP_P_NR_HDR | \
	MP_P_NOUNKNOWN | MP_P_NODATA | MP_P_SKIP | MP_P_NR_CONN | \
	MP_P_NR_HELO | MP_P_NR_MAIL | MP_P_NR_RCPT | MP_P_NR_DATA | \
	MP_P_NR_UNKN | MP_P_NR_EOH | MP_P_NR_BODY)

/* One milter in one session. */
struct ms {
	struct ml_client c;
	const struct ml_conf *conf;
	enum { MS_ON, MS_OFF, MS_REFUSE } state;
	int in_txn;		/* MAIL sent; no end of message or ABORT yet */
	int msg_done;		/* it accepted the message: no more events */
	int discard_msg, discard_all;
	unsigned nmsg;		/* messages begun, for the macro i */
	char msgid[96];
	char refuse[1024];	/* MS_REFUSE: the reply to every transaction */
};

/* ---- settings ------------------------------------------------------------ */

static int
milter_default_action(psmtpd_init *ctx, enum ml_default *out)
{
	static const char *const names[] = { "tempfail", "accept", "reject" };
	const char *v = NULL;

	if (delivery_setting_text(ctx, "default_action", 0, &v) != 0)
		return -1;
	for (int i = 0; v != NULL && i < 3; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = (enum ml_default)i;
			return 0;
		}
	if (v == NULL)
		return 0;
	psmtpd_init_error(ctx, "default_action", "\"%s\": want tempfail, "
	    "accept or reject", v);
	return -1;
}

static int
milter_socket(psmtpd_init *ctx, struct ml_conf *mc)
{
	const char *why;

	if (delivery_setting_text(ctx, "socket", 1, &mc->spec) != 0)
		return -1;
	if (mc_parse_addr(mc->spec, &mc->addr, &why) == 0)
		return 0;
	psmtpd_init_error(ctx, "socket", "\"%s\": %s", mc->spec, why);
	return -1;
}

static int
milter_init(psmtpd_init *ctx, void **plugin_data)
{
	struct ml_conf *mc = calloc(1, sizeof(*mc));
	long long conn_s = 30, cmd_s = 30, content_s = 300;

	if (mc == NULL) {
		psmtpd_init_error(ctx, NULL, "out of memory");
		return -1;
	}
	int bad = milter_socket(ctx, mc) |
	    delivery_setting_range(ctx, "connect_timeout", 1, 3600, &conn_s) |
	    delivery_setting_range(ctx, "command_timeout", 1, 3600, &cmd_s) |
	    delivery_setting_range(ctx, "content_timeout", 1, 3600,
	    &content_s) | milter_default_action(ctx, &mc->def);
	if (bad) {
		free(mc);
		return -1;
	}
	mc->connect_ms = (int)conn_s * 1000;
	mc->command_ms = (int)cmd_s * 1000;
	mc->content_ms = (int)content_s * 1000;
	mc->actions = me_offered_actions();
	mc->protocol = MILTER_PROTOCOL;
	*plugin_data = mc;
	return 0;
}

static void
milter_fini(void *plugin_data)
{
	free(plugin_data);
}

/* ---- the milter's state in the session --------------------------------- */

static void
ms_free(void *p)
{
	struct ms *ms = p;

	ml_close(&ms->c);
	free(ms);
}

/* Say goodbye and stop talking to the milter for this session. */
static void
ms_stop(struct ms *ms, int new_state)
{
	if (ml_is_open(&ms->c) && mp_enc_bare(&ms->c.out, MP_C_QUIT) == 0)
		(void)ml_send_only(&ms->c, ms->conf->command_ms);
	ml_close(&ms->c);
	ms->state = new_state;
}

/* The end of a transaction the milter has begun (RSET, a new MAIL or
 * HELO, a message refused before it got to the milter). */
static void
ms_abort(struct ms *ms)
{
	if (ms->in_txn && ms->state == MS_ON &&
	    mp_enc_bare(&ms->c.out, MP_C_ABORT) == 0 &&
	    ml_send_only(&ms->c, ms->conf->command_ms) != 0)
		ms_stop(ms, MS_OFF);
	ms->in_txn = ms->msg_done = ms->discard_msg = 0;
}

/* Whether events of the current message still go to the milter. */
static int
ms_on(const struct ms *ms)
{
	return ms->state == MS_ON && !ms->msg_done;
}

/* ---- verdicts --------------------------------------------------------- */

static void
ms_log_verdict(psmtpd_session *s, struct ms *ms, enum mx_stage stage,
    enum ml_verdict v)
{
	static const char *const stages[] = { "connect", "helo", "mail",
	    "rcpt", "data", "message" };

	if (v == ML_FAIL)
		psmtpd_session_log(s, PSMTPD_LOG_WARNING, "milter=%s stage=%s "
		    "error=\"%s\" action=%s", ms->conf->spec, stages[stage],
		    ms->c.why, ms->conf->def == ML_DEF_ACCEPT ? "accept" :
		    ms->conf->def == ML_DEF_REJECT ? "reject" : "tempfail");
	else if (v != ML_CONTINUE && v != ML_SKIP)
		psmtpd_session_log(s, PSMTPD_LOG_INFO, "milter=%s stage=%s "
		    "verdict=%s%s%s", ms->conf->spec, stages[stage],
		    ml_verdict_name(v), v == ML_REPLY ? " reply=" : "",
		    v == ML_REPLY ? ms->c.reply : "");
}

static void
ms_next(struct ms *ms, const struct mx_outcome *o)
{
	switch (o->next) {
	case MX_KEEP:
		break;
	case MX_DONE:
		ms_stop(ms, MS_OFF);
		break;
	case MX_REFUSE:
		snprintf(ms->refuse, sizeof(ms->refuse), "%s", o->reply);
		ms_stop(ms, MS_REFUSE);
		break;
	case MX_MSG_DONE:
		ms->msg_done = 1;
		break;
	case MX_DISCARD_MSG:	/* and libmilter expects no more events */
		ms->discard_msg = ms->msg_done = 1;
		break;
	case MX_DISCARD_ALL:
		ms->discard_all = 1;
		ms_stop(ms, MS_OFF);
		break;
	}
}

/* What the verdict of a stage means for the client, and for the milter. */
static enum psmtpd_result
ms_verdict(psmtpd_session *s, struct ms *ms, enum mx_stage stage,
    enum ml_verdict v)
{
	struct mx_outcome o;
	char reply[sizeof(ms->c.reply)];

	ms_log_verdict(s, ms, stage, v);
	mx_map(stage, v, ms->conf->def, ms->c.reply, &o);
	if (o.reply != NULL)	/* ms_next may close the client */
		snprintf(reply, sizeof(reply), "%s", o.reply);
	ms_next(ms, &o);
	if (o.answer == MX_GO_ON)
		return PSMTPD_CONTINUE;
	if (psmtpd_reply(s, "%s", reply) != 0)
		psmtpd_reply(s, "%s", MX_TEMPFAIL_TEXT);
	return o.answer == MX_DISCONNECT ? PSMTPD_DISCONNECT : PSMTPD_REPLY;
}

/* Send what is composed for a step and take the milter's verdict.  A
 * packet that did not fit (an address of many kilobytes) is a failure. */
static enum ml_verdict
ms_event(struct ms *ms, int composed, enum mp_step step, int timeout_ms)
{
	if (composed != 0) {
		ms->c.out.len = 0;
		snprintf(ms->c.why, sizeof(ms->c.why), "command too long");
		return ML_FAIL;
	}
	return ml_send(&ms->c, step, timeout_ms, NULL, NULL);
}

static struct ms *
ms_get(psmtpd_session *s)
{
	return psmtpd_session_get_data(s);
}

/* ---- macros ----------------------------------------------------------- */

/* The message id for the macro i: the server's where it has one. */
static const char *
ms_msgid(psmtpd_session *s, struct ms *ms)
{
#if PSMTPD_PLUGIN_API >= 2
	const char *id = psmtpd_message_id(s);
	if (id != NULL && id[0] != '\0')
		return id;
#endif
	snprintf(ms->msgid, sizeof(ms->msgid), "%s.%u", psmtpd_session_id(s),
	    ms->nmsg);
	return ms->msgid;
}

/* ---- the hooks -------------------------------------------------------- */

/* The client's address family for SMFIC_CONNECT. */
static char
ms_family(const char *addr)
{
	unsigned char buf[16];

	if (inet_pton(AF_INET, addr, buf) == 1)
		return '4';
	return inet_pton(AF_INET6, addr, buf) == 1 ? '6' : 'U';
}

static enum ml_verdict
ms_connect_event(psmtpd_session *s, struct ms *ms)
{
	const char *addr = psmtpd_session_peer_addr(s);
	char name[300];

	snprintf(name, sizeof(name), "[%s]", addr);
	int bad = mk_connect(&ms->c.out, ms->c.symlist[MP_M_CONNECT], s,
	    name) | mp_enc_connect(&ms->c.out, name, ms_family(addr),
	    (uint16_t)psmtpd_session_peer_port(s), addr);
	return ms_event(ms, bad, MP_S_CONNECT, ms->conf->command_ms);
}

static enum psmtpd_result
milter_on_connect(psmtpd_session *s, void *plugin_data)
{
	struct ms *ms = calloc(1, sizeof(*ms));

	if (ms == NULL) {
		psmtpd_reply(s, "%s", MX_TEMPFAIL_TEXT);
		return PSMTPD_DISCONNECT;
	}
	ms->conf = plugin_data;
	ms->c.conn.fd = -1;
	psmtpd_session_set_data(s, ms, ms_free);
	enum ml_verdict v = ML_CONTINUE;
	if (ml_open(&ms->c, ms->conf) != 0)
		v = ML_FAIL;
	else if (mp_step_sent(&ms->c.opt, MP_S_CONNECT))
		v = ms_connect_event(s, ms);
	return ms_verdict(s, ms, MX_CONNECT, v);
}

static enum psmtpd_result
milter_on_helo(psmtpd_session *s, const char *helo, void *plugin_data)
{
	struct ms *ms = ms_get(s);

	(void)plugin_data;
	if (ms == NULL)
		return PSMTPD_CONTINUE;
	ms_abort(ms);
	if (ms->state != MS_ON || !mp_step_sent(&ms->c.opt, MP_S_HELO))
		return PSMTPD_CONTINUE;
	int bad = mk_helo(&ms->c.out, ms->c.symlist[MP_M_HELO], s) |
	    mp_enc_helo(&ms->c.out, helo);
	return ms_verdict(s, ms, MX_HELO, ms_event(ms, bad, MP_S_HELO,
	    ms->conf->command_ms));
}

/* The refusal of every transaction, after a verdict at connect. */
static enum psmtpd_result
ms_refused(psmtpd_session *s, struct ms *ms)
{
	psmtpd_reply(s, "%s", ms->refuse);
	return PSMTPD_REPLY;
}

/* MAIL or RCPT: "<addr>" and the ESMTP arguments. */
static int
ms_envelope(psmtpd_session *s, struct ms *ms, enum mp_cmd cmd,
    const char *addr)
{
	const char *args[64];
	char a[1100];
	int mail = cmd == MP_C_MAIL;
	size_t n = mail ? psmtpd_session_mail_option_count(s) :
	    psmtpd_session_rcpt_option_count(s);

	if (n > 64)
		n = 64;
	for (size_t i = 0; i < n; i++)
		args[i] = mail ? psmtpd_session_mail_option(s, i) :
		    psmtpd_session_rcpt_option(s, i);
	if (strcmp(addr, "<>") == 0 || addr[0] == '\0')
		snprintf(a, sizeof(a), "<>");
	else if (snprintf(a, sizeof(a), "<%s>", addr) >= (int)sizeof(a))
		return -1;
	return mp_enc_envelope(&ms->c.out, cmd, a, args, n);
}

static enum psmtpd_result
milter_on_mail(psmtpd_session *s, const char *mailfrom, void *plugin_data)
{
	struct ms *ms = ms_get(s);

	(void)plugin_data;
	if (ms == NULL)
		return PSMTPD_CONTINUE;
	if (ms->state == MS_REFUSE)
		return ms_refused(s, ms);
	ms_abort(ms);
	ms->nmsg++;
	if (ms->state != MS_ON)
		return PSMTPD_CONTINUE;
	ms->in_txn = 1;
	if (!mp_step_sent(&ms->c.opt, MP_S_MAIL))
		return PSMTPD_CONTINUE;
	int bad = mk_mail(&ms->c.out, ms->c.symlist[MP_M_ENVFROM], s,
	    ms_msgid(s, ms), mailfrom) |
	    ms_envelope(s, ms, MP_C_MAIL, mailfrom);
	return ms_verdict(s, ms, MX_MAIL, ms_event(ms, bad, MP_S_MAIL,
	    ms->conf->command_ms));
}

static enum psmtpd_result
milter_on_rcpt(psmtpd_session *s, const char *rcptto, void *plugin_data)
{
	struct ms *ms = ms_get(s);

	(void)plugin_data;
	if (ms != NULL && ms->state == MS_REFUSE)
		return ms_refused(s, ms);
	if (ms == NULL || !ms_on(ms) || !mp_step_sent(&ms->c.opt, MP_S_RCPT))
		return PSMTPD_CONTINUE;
	int bad = mk_rcpt(&ms->c.out, ms->c.symlist[MP_M_ENVRCPT],
	    ms_msgid(s, ms), rcptto) |
	    ms_envelope(s, ms, MP_C_RCPT, rcptto);
	return ms_verdict(s, ms, MX_RCPT, ms_event(ms, bad, MP_S_RCPT,
	    ms->conf->command_ms));
}

static enum psmtpd_result
milter_on_data(psmtpd_session *s, void *plugin_data)
{
	struct ms *ms = ms_get(s);

	(void)plugin_data;
	if (ms != NULL && ms->state == MS_REFUSE)
		return ms_refused(s, ms);
	if (ms == NULL || !ms_on(ms) || !mp_step_sent(&ms->c.opt, MP_S_DATA))
		return PSMTPD_CONTINUE;
	int bad = mk_msgid(&ms->c.out, ms->c.symlist[MP_M_DATA], MP_C_DATA,
	    ms_msgid(s, ms)) |
	    mp_enc_bare(&ms->c.out, MP_C_DATA);
	return ms_verdict(s, ms, MX_DATA, ms_event(ms, bad, MP_S_DATA,
	    ms->conf->command_ms));
}

/* ---- the message ---------------------------------------------------- */

/* One header field; a value too long for one packet is cut (libmilter
 * takes no packet above 64 KiB), as no real header is that long. */
static enum ml_verdict
ms_header(struct ms *ms, const struct mm_header *h, char *scratch)
{
	size_t vlen = h->value_len, room = MP_CHUNK_MAX - 16 - h->name_len;

	if (h->name_len > MP_CHUNK_MAX / 2)
		return ML_CONTINUE;	/* no such name: not sent */
	if (vlen > room)
		vlen = room;
	memcpy(scratch, h->name, h->name_len);
	scratch[h->name_len] = '\0';
	char *value = scratch + h->name_len + 1;
	memcpy(value, h->value, vlen);
	value[vlen] = '\0';
	int bad = mp_enc_header(&ms->c.out, scratch, value);
	return ms_event(ms, bad, MP_S_HEADER, ms->conf->content_ms);
}

/* The header fields and the end of the header; *body_at, *has_body: where
 * the body's lines start. */
static enum ml_verdict
ms_headers(struct ms *ms, const char *d, size_t len, char *scratch,
    size_t *body_at, int *has_body)
{
	struct mm_header h;
	enum mm_next n;
	enum ml_verdict v = ML_CONTINUE;
	size_t pos = 0;

	while ((n = mm_next_header(d, len, &pos, &h)) == MM_FIELD)
		if (v == ML_CONTINUE && mp_step_sent(&ms->c.opt, MP_S_HEADER))
			v = ms_header(ms, &h, scratch);
	*body_at = pos;
	*has_body = n == MM_BODY;
	if (v != ML_CONTINUE || !mp_step_sent(&ms->c.opt, MP_S_EOH))
		return v;
	return ms_event(ms, mp_enc_bare(&ms->c.out, MP_C_EOH), MP_S_EOH,
	    ms->conf->content_ms);
}

static enum ml_verdict
ms_body(struct ms *ms, const char *d, size_t len, int has_body,
    char *scratch)
{
	struct mm_body b;
	size_t n;

	if (!mp_step_sent(&ms->c.opt, MP_S_BODY))
		return ML_CONTINUE;
	mm_body_start(&b, d, len, has_body);
	while ((n = mm_body_chunk(&b, scratch, MP_CHUNK_MAX)) > 0) {
		enum ml_verdict v = ms_event(ms, mp_enc_body(&ms->c.out,
		    scratch, n), MP_S_BODY, ms->conf->content_ms);
		if (v != ML_CONTINUE)
			return v == ML_SKIP ? ML_CONTINUE : v;
	}
	return ML_CONTINUE;
}

static enum ml_verdict
ms_message(psmtpd_session *s, struct ms *ms, char *scratch)
{
	size_t len, body_at;
	int has_body;
	const char *d = psmtpd_message_data(s, &len);
	struct me_ctx e;

	enum ml_verdict v = ms_headers(ms, d, len, scratch, &body_at,
	    &has_body);
	if (v == ML_CONTINUE)
		v = ms_body(ms, d + body_at, len - body_at, has_body, scratch);
	if (v != ML_CONTINUE)
		return v;
	if (mk_msgid(&ms->c.out, ms->c.symlist[MP_M_EOM], MP_C_BODYEOB,
	    ms_msgid(s, ms)) != 0 ||
	    mp_enc_bare(&ms->c.out, MP_C_BODYEOB) != 0)
		return ms_event(ms, -1, MP_S_COUNT, 0);
	me_start(&e, s, ms->conf->spec);
	v = ml_send_eom(&ms->c, ms->conf->content_ms, me_apply, &e);
	ms->in_txn = 0;
	return v;
}

static enum psmtpd_result
milter_process_message(psmtpd_session *s, void *plugin_data)
{
	struct ms *ms = ms_get(s);

	(void)plugin_data;
	if (ms != NULL && ms->state == MS_REFUSE)
		return ms_refused(s, ms);
	if (ms != NULL && (ms->discard_all || ms->discard_msg)) {
		psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "milter=%s message "
		    "discarded", ms->conf->spec);
		psmtpd_reply(s, "%s", MX_DISCARD_TEXT);
		return PSMTPD_REPLY;
	}
	if (ms == NULL || !ms_on(ms))
		return PSMTPD_CONTINUE;
	char *scratch = malloc(MP_CHUNK_MAX + 1);
	enum ml_verdict v = ML_FAIL;
	if (scratch != NULL)
		v = ms_message(s, ms, scratch);
	else
		snprintf(ms->c.why, sizeof(ms->c.why), "out of memory");
	free(scratch);
	enum psmtpd_result r = ms_verdict(s, ms, MX_MESSAGE, v);
	if (ms->discard_msg)
		psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "milter=%s message "
		    "discarded", ms->conf->spec);
	return r;
}

static void
milter_on_rset(psmtpd_session *s, void *plugin_data)
{
	struct ms *ms = ms_get(s);

	(void)plugin_data;
	if (ms != NULL)
		ms_abort(ms);
}

static void
milter_on_disconnect(psmtpd_session *s, void *plugin_data)
{
	struct ms *ms = ms_get(s);

	(void)plugin_data;
	if (ms != NULL && ms->state == MS_ON)
		ms_stop(ms, MS_OFF);
}

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "milter",
	.version = "1",
	.description = "a milter client (protocol 6): OpenDKIM, rspamd, ...",
	.init = milter_init,
	.fini = milter_fini,
	.on_connect = milter_on_connect,
	.on_helo = milter_on_helo,
	.on_mail = milter_on_mail,
	.on_rcpt = milter_on_rcpt,
	.on_data = milter_on_data,
	.process_message = milter_process_message,
	.on_rset = milter_on_rset,
	.on_disconnect = milter_on_disconnect,
};
