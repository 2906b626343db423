/*
 * channel_tls.c - STARTTLS (RFC 3207) and implicit TLS (RFC 8314) in the
 * channel, and the listener's policy (require_tls, require_auth) that
 * MAIL and AUTH must pass.
 *
 * After STARTTLS the session starts over (RFC 3207 4.2): the greeting,
 * the transaction and AUTH are forgotten.  Whatever the client sent after
 * the STARTTLS line in the same plaintext read is thrown away and logged,
 * never run inside TLS (Postfix CVE-2011-0411).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "channel_session.h"
#include "config.h"
#include "log.h"
#include "tls.h"

/* channel_tls_mode - the listener's TLS, none without TLS contexts. */
static enum config_tls_mode
channel_tls_mode(const struct psmtpd_session *s)
{
	if (s->params->tls == NULL || s->params->listener == NULL)
		return CONFIG_TLS_NONE;
	return s->params->listener->tls;
}

bool
channel_tls_active(const struct psmtpd_session *s)
{
	return s->io.tls != NULL;
}

bool
channel_starttls_enabled(const struct psmtpd_session *s)
{
	return channel_tls_mode(s) == CONFIG_TLS_STARTTLS;
}

bool
channel_ehlo_starttls(const struct psmtpd_session *s, char *buf,
    size_t size)
{
	if (!channel_starttls_enabled(s) || channel_tls_active(s))
		return false;
	snprintf(buf, size, "STARTTLS");
	return true;
}

/* channel_tls_log - the session's one TLS line. */
static void
channel_tls_log(const struct psmtpd_session *s)
{
	const struct tls_info *t = &s->tls;

	log_info("tls id=%s client=%s version=%s cipher=%s resumed=%s "
	    "sni=%s client_cert=%s%s%s verified=%s", s->id, s->peer_addr,
	    t->version, t->cipher, t->resumed ? "yes" : "no",
	    t->sni[0] != '\0' ? t->sni : "-",
	    t->peer_subject[0] != '\0' ? "\"" : "",
	    t->peer_subject[0] != '\0' ? t->peer_subject : "none",
	    t->peer_subject[0] != '\0' ? "\"" : "",
	    t->peer_verified ? "yes" : "no");
}

/* channel_tls_start - the handshake on the session's socket, bounded by
 * tls.handshake_timeout; false (logged, closing) when it fails. */
static bool
channel_tls_start(struct psmtpd_session *s, const char *how)
{
	const struct channel_params *p = s->params;
	char err[256];

	s->io.tls = tls_conn_new(p->tls, s->io.fd, err, sizeof(err));
	if (s->io.tls == NULL ||
	    tls_conn_handshake(s->io.tls, io_deadline(p->tls_handshake_timeout),
	    err, sizeof(err)) != 0) {
		log_info("tls failed id=%s client=%s via=%s reason=\"%s\"",
		    s->id, s->peer_addr, how, err);
		/* nothing more is said on a connection in an unknown state */
		tls_conn_free(s->io.tls);
		s->io.tls = NULL;
		s->io.write_failed = true;
		channel_close(s, CHANNEL_END_ERROR);
		return false;
	}
	tls_conn_info(s->io.tls, &s->tls);
	channel_tls_log(s);
	return true;
}

bool
channel_tls_implicit(struct psmtpd_session *s)
{
	if (channel_tls_mode(s) != CONFIG_TLS_IMPLICIT)
		return true;
	return channel_tls_start(s, "implicit");
}

bool
channel_starttls_check(struct psmtpd_session *s, struct channel_cmd *c)
{
	(void)c;
	if (channel_tls_active(s)) {
		channel_reply(s, "503 Error: TLS already active");
		return false;
	}
	return true;
}

/* channel_starttls_discard - the plaintext the client pipelined after
 * STARTTLS goes, with a log line. */
static void
channel_starttls_discard(struct psmtpd_session *s)
{
	size_t avail;

	io_peek(&s->io, &avail);
	if (avail == 0)
		return;
	log_notice("starttls id=%s client=%s pipelined input discarded "
	    "bytes=%zu", s->id, s->peer_addr, avail);
	io_consume(&s->io, avail);
}

void
channel_starttls_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v)
{
	(void)c;
	(void)v;
	channel_starttls_discard(s);
	channel_reply(s, "220 Ready to start TLS");
	if (io_flush(&s->io, s->params->timeout_command) != IO_OK) {
		channel_close(s, CHANNEL_END_ERROR);
		return;
	}
	if (!channel_tls_start(s, "starttls"))
		return;
	/* RFC 3207 4.2: forget what the client said in plaintext */
	channel_run_rset_hooks(s);
	channel_rset_state(s);
	s->seen_greeting[0] = '\0';
	s->extended_smtp = false;
	s->mail_limit_extra = 0;
	s->auth_user[0] = '\0';
}

void
channel_reply_status(struct psmtpd_session *s, int code, const char *esc,
    const char *text)
{
	if (s->ext.enhanced_status_codes)
		channel_reply(s, "%d %s %s", code, esc, text);
	else
		channel_reply(s, "%d %s", code, text);
}

/* channel_secured - the listener's require_tls (MAIL, AUTH) and
 * require_auth (MAIL); false when refused (530 sent). */
bool
channel_secured(struct psmtpd_session *s, const char *verb)
{
	const struct config_listener *l = s->params->listener;

	if (l == NULL)
		return true;
	if (l->require_tls && !channel_tls_active(s)) {
		channel_reply_status(s, 530, "5.7.0", "Must issue a STARTTLS "
		    "command first");
		return false;
	}
	if (l->require_auth && strcmp(verb, "MAIL") == 0 &&
	    s->auth_user[0] == '\0') {
		channel_reply_status(s, 530, "5.7.0", "Authentication "
		    "required");
		return false;
	}
	return true;
}
