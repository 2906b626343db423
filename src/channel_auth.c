/*
 * channel_auth.c - AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN, as a
 * row of the verb table.  The credentials go to the plugins' authenticate
 * hooks; the first that answers decides.
 *
 * A password is never logged, not even by -d (channel.c traces only the
 * mechanism of the command; the 334 exchange is not traced), and its
 * buffers are cleared after use.  A failure is answered after
 * auth.failure_delay seconds and counts as an error toward
 * limits.max_errors, which slows guessing down.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "channel_session.h"
#include "config.h"
#include "log.h"
#include "plugin_loader.h"
#include "smtp_auth.h"

/* The credentials of one attempt, cleared when it is over. */
struct channel_creds {
	const char *mech;
	char user[SMTP_AUTH_FIELD_MAX + 1];
	char password[SMTP_AUTH_FIELD_MAX + 1];
	char line[SMTP_AUTH_B64_MAX + 2];	/* one client response */
	struct smtp_auth_plain plain;
};

static void
channel_auth_wipe(void *p, size_t n)
{
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, n);
#else
	volatile unsigned char *v = p;
	while (n-- > 0)
		*v++ = 0;
#endif
}

/* channel_has_authenticator - whether the i-th plugin decides AUTH. */
static bool
channel_has_authenticator(const struct plugin_set *set, size_t i)
{
	const struct psmtpd_plugin *p = plugin_set_plugin(set, i);

	return p->api >= 2 && p->authenticate != NULL;
}

bool
channel_auth_enabled(const struct psmtpd_session *s)
{
	size_t n = s->plugins != NULL ? plugin_set_count(s->plugins) : 0;

	for (size_t i = 0; i < n; i++)
		if (channel_has_authenticator(s->plugins, i))
			return true;
	return false;
}

/* channel_auth_offered - AUTH is offered here and now. */
static bool
channel_auth_offered(const struct psmtpd_session *s)
{
	return channel_auth_enabled(s) &&
	    (!s->params->auth_require_tls || channel_tls_active(s));
}

bool
channel_ehlo_auth(const struct psmtpd_session *s, char *buf, size_t size)
{
	int m = s->params->auth_mechanisms;

	if (!channel_auth_offered(s))
		return false;
	snprintf(buf, size, "AUTH%s%s", (m & CONFIG_AUTH_PLAIN) ? " PLAIN" :
	    "", (m & CONFIG_AUTH_LOGIN) ? " LOGIN" : "");
	return true;
}

/* channel_auth_mech - the configured mechanism of this name, or 0. */
static int
channel_auth_mech(const struct psmtpd_session *s, const char *name)
{
	int bit = strcmp(name, "PLAIN") == 0 ? CONFIG_AUTH_PLAIN :
	    strcmp(name, "LOGIN") == 0 ? CONFIG_AUTH_LOGIN : 0;

	return bit & s->params->auth_mechanisms;
}

bool
channel_auth_check(struct psmtpd_session *s, struct channel_cmd *c)
{
	struct smtp_auth_cmd cmd;

	if (!channel_auth_offered(s))
		channel_reply_status(s, 538, "5.7.11", "Encryption required "
		    "for requested authentication mechanism");
	else if (s->auth_user[0] != '\0')
		channel_reply_status(s, 503, "5.5.1", "Error: already "
		    "authenticated");
	else if (smtp_auth_parse_cmd(c->arg, &cmd) != SMTP_AUTH_OK)
		channel_reply_status(s, 501, "5.5.4", "Syntax: AUTH mechanism "
		    "[initial-response]");
	else if (channel_auth_mech(s, cmd.mech) == 0)
		channel_reply_status(s, 504, "5.5.4", "Unrecognized "
		    "authentication type");
	else
		return true;
	return false;
}

/* channel_auth_read - the client's answer to a 334; false when the
 * session ends (closing set) or the line is too long (500 sent). */
static bool
channel_auth_read(struct psmtpd_session *s, char *line, size_t cap)
{
	size_t len;
	enum io_status st = io_read_line(&s->io, line, cap, &len,
	    s->params->timeout_command);

	if (st != IO_OK) {
		channel_read_failed(s, st);
		return false;
	}
	if (len <= cap)
		return true;
	channel_reply_status(s, 500, "5.5.6", "Authentication Exchange "
	    "line is too long");
	return false;
}

/* channel_auth_response - a response to a challenge (or the initial
 * one), decoded into out; SMTP_AUTH_OK, or the status after which the
 * caller stops (the reply is sent, or the session is closing). */
static enum smtp_auth_status
channel_auth_response(struct psmtpd_session *s, struct channel_creds *k,
    const char *initial, const char *challenge, char *out, size_t cap,
    size_t *len)
{
	enum smtp_auth_status st;

	if (initial == NULL) {
		channel_reply(s, "334 %s", challenge);
		if (!channel_auth_read(s, k->line, sizeof(k->line) - 1))
			return SMTP_AUTH_TOO_LONG;
		initial = k->line;
	}
	st = smtp_auth_decode(initial, out, cap, len);
	if (st == SMTP_AUTH_CANCEL)
		channel_reply(s, "501 Authentication cancelled");
	else if (st != SMTP_AUTH_OK)
		channel_reply_status(s, 501, "5.5.2", "Cannot decode "
		    "response");
	return st;
}

/* channel_auth_plain - PLAIN: one message, authzid empty or the user. */
static enum smtp_auth_status
channel_auth_plain(struct psmtpd_session *s, struct channel_creds *k,
    const char *initial)
{
	char msg[3 * SMTP_AUTH_FIELD_MAX + 3];
	size_t len;
	enum smtp_auth_status st = channel_auth_response(s, k, initial, "",
	    msg, sizeof(msg) - 1, &len);

	if (st == SMTP_AUTH_OK &&
	    smtp_auth_parse_plain(msg, len, &k->plain) != SMTP_AUTH_OK) {
		channel_reply_status(s, 501, "5.5.2", "Cannot decode "
		    "response");
		st = SMTP_AUTH_SYNTAX;
	}
	channel_auth_wipe(msg, sizeof(msg));
	if (st != SMTP_AUTH_OK)
		return st;
	memcpy(k->user, k->plain.user, sizeof(k->user));
	memcpy(k->password, k->plain.password, sizeof(k->password));
	/* acting for another user is not something we grant */
	if (k->plain.authzid[0] != '\0' &&
	    strcmp(k->plain.authzid, k->user) != 0) {
		k->password[0] = '\0';
		k->user[0] = '\0';
	}
	return SMTP_AUTH_OK;
}

/* channel_auth_login - LOGIN: the user, then the password. */
static enum smtp_auth_status
channel_auth_login(struct psmtpd_session *s, struct channel_creds *k,
    const char *initial)
{
	size_t len;
	enum smtp_auth_status st;

	st = channel_auth_response(s, k, initial, SMTP_AUTH_LOGIN_USER,
	    k->user, sizeof(k->user) - 1, &len);
	if (st != SMTP_AUTH_OK)
		return st;
	if (memchr(k->user, '\0', len) != NULL)
		k->user[0] = '\0';	/* fails below */
	return channel_auth_response(s, k, NULL, SMTP_AUTH_LOGIN_PASS,
	    k->password, sizeof(k->password) - 1, &len);
}

/* channel_auth_decide - the authenticators' word; UNKNOWN when none
 * knows the user. */
static enum psmtpd_auth_result
channel_auth_decide(struct psmtpd_session *s, const struct channel_creds *k)
{
	size_t n = plugin_set_count(s->plugins);
	enum psmtpd_auth_result r = PSMTPD_AUTH_UNKNOWN;

	if (k->user[0] == '\0')
		return PSMTPD_AUTH_FAIL;
	for (size_t i = 0; i < n && r == PSMTPD_AUTH_UNKNOWN; i++) {
		if (!channel_has_authenticator(s->plugins, i))
			continue;
		s->current_plugin = i;
		channel_phase(s, CHANNEL_PHASE_PLUGIN,
		    plugin_set_name(s->plugins, i));
		r = plugin_set_plugin(s->plugins, i)->authenticate(s, k->mech,
		    k->user, k->password, plugin_set_data(s->plugins, i));
	}
	channel_phase(s, CHANNEL_PHASE_COMMAND, NULL);
	return r;
}

/* channel_auth_printable - a user name for the log line. */
static void
channel_auth_printable(char *dst, size_t size, const char *user)
{
	size_t i = 0;

	for (; user[i] != '\0' && i + 1 < size; i++)
		dst[i] = (unsigned char)user[i] < 0x20 || user[i] == '"' ||
		    (unsigned char)user[i] >= 0x7f ? '?' : user[i];
	dst[i] = '\0';
}

/* channel_auth_delay - slow a guesser down (a signal cuts it short). */
static void
channel_auth_delay(struct psmtpd_session *s)
{
	struct timespec ts = { s->params->auth_failure_delay, 0 };

	if (ts.tv_sec > 0 && io_flush(&s->io,
	    s->params->timeout_command) == IO_OK)
		nanosleep(&ts, NULL);
}

/* channel_auth_answer - the reply and the log line of an attempt. */
static void
channel_auth_answer(struct psmtpd_session *s, const struct channel_creds *k,
    enum psmtpd_auth_result r)
{
	static const char *const results[] = { "unknown-user", "ok",
	    "failed", "tempfail" };
	char user[2 * SMTP_AUTH_FIELD_MAX];

	channel_auth_printable(user, sizeof(user), k->user);
	log_info("auth id=%s client=%s mechanism=%s user=\"%s\" result=%s",
	    s->id, s->peer_addr, k->mech, user, results[r]);
	if (r == PSMTPD_AUTH_OK) {
		snprintf(s->auth_user, sizeof(s->auth_user), "%s", k->user);
		channel_reply_status(s, 235, "2.7.0", "Authentication "
		    "successful");
	} else if (r == PSMTPD_AUTH_TEMPFAIL) {
		channel_reply_status(s, 454, "4.7.0", "Temporary "
		    "authentication failure");
	} else {
		channel_auth_delay(s);
		channel_reply_status(s, 535, "5.7.8", "Authentication "
		    "credentials invalid");
	}
}

void
channel_auth_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v)
{
	struct smtp_auth_cmd cmd;
	struct channel_creds *k = calloc(1, sizeof(*k));
	enum smtp_auth_status st;

	(void)v;
	if (k == NULL) {
		channel_reply_status(s, 454, "4.3.0", "Error: out of memory");
		return;
	}
	smtp_auth_parse_cmd(c->arg, &cmd);	/* checked already */
	k->mech = strcmp(cmd.mech, "PLAIN") == 0 ? "PLAIN" : "LOGIN";
	st = k->mech[0] == 'P' ? channel_auth_plain(s, k, cmd.initial) :
	    channel_auth_login(s, k, cmd.initial);
	if (st == SMTP_AUTH_OK)
		channel_auth_answer(s, k, channel_auth_decide(s, k));
	else if (st == SMTP_AUTH_CANCEL)
		log_info("auth id=%s client=%s mechanism=%s result=cancelled",
		    s->id, s->peer_addr, k->mech);
	/* the initial response is in the command line too */
	if (c->arg != NULL)
		channel_auth_wipe(c->arg, strlen(c->arg));
	channel_auth_wipe(k, sizeof(*k));
	free(k);
}
