/*
 * tls_api.c - the plugin API's view of a session's TLS and AUTH (API 2,
 * declared in include/psmtpd/plugin.h).
 */
#include "autoconfig.h"

#include <stddef.h>

#include "channel_session.h"

int
psmtpd_session_tls(const psmtpd_session *s)
{
	return s->io.tls != NULL;
}

const char *
psmtpd_session_tls_version(const psmtpd_session *s)
{
	return s->io.tls != NULL ? s->tls.version : NULL;
}

const char *
psmtpd_session_tls_cipher(const psmtpd_session *s)
{
	return s->io.tls != NULL ? s->tls.cipher : NULL;
}

const char *
psmtpd_session_tls_peer_subject(const psmtpd_session *s)
{
	return s->io.tls != NULL && s->tls.peer_subject[0] != '\0' ?
	    s->tls.peer_subject : NULL;
}

int
psmtpd_session_tls_peer_verified(const psmtpd_session *s)
{
	return s->io.tls != NULL && s->tls.peer_verified;
}

const char *
psmtpd_session_auth_user(const psmtpd_session *s)
{
	return s->auth_user[0] != '\0' ? s->auth_user : NULL;
}
