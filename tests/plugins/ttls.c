/*
 * ttls.c - a test plugin that shows what the API tells of a session's
 * TLS and AUTH: XTLS answers "250 tls=... version=... cipher=...
 * peer=... verified=... user=...".
 */
#include <psmtpd/plugin.h>

static const char *
ttls_or(const char *s)
{
	return s != NULL ? s : "-";
}

static enum psmtpd_result
ttls_xtls(psmtpd_session *s, const char *arg, void *d)
{
	(void)arg;
	(void)d;
	psmtpd_reply(s, "250 tls=%d version=%s cipher=%s peer=%s verified=%d "
	    "user=%s", psmtpd_session_tls(s),
	    ttls_or(psmtpd_session_tls_version(s)),
	    ttls_or(psmtpd_session_tls_cipher(s)),
	    ttls_or(psmtpd_session_tls_peer_subject(s)),
	    psmtpd_session_tls_peer_verified(s),
	    ttls_or(psmtpd_session_auth_user(s)));
	return PSMTPD_REPLY;
}

static const struct psmtpd_command ttls_commands[] = {
	{ "XTLS", ttls_xtls, "Syntax: XTLS" },
	{ NULL, NULL, NULL },
};

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "ttls",
	.version = "1.0",
	.description = "test: the TLS and AUTH accessors",
	.commands = ttls_commands,
};
