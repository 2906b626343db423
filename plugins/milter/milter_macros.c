/*
 * milter_macros.c - the macros sent before each event (see
 * milter_macros.h).
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <stdio.h>
#include <string.h>

#include "milter_macros.h"

/*
 * The TLS and AUTH accessors (API 2, from the TLS work) are weak: a
 * server that does not export them leaves them NULL, and the macros that
 * need them are not sent.  The declarations match plugin.h's.
 */
#pragma weak psmtpd_session_tls
#pragma weak psmtpd_session_tls_version
#pragma weak psmtpd_session_tls_cipher
#pragma weak psmtpd_session_tls_peer_subject
#pragma weak psmtpd_session_auth_user
int psmtpd_session_tls(const psmtpd_session *s);
const char *psmtpd_session_tls_version(const psmtpd_session *s);
const char *psmtpd_session_tls_cipher(const psmtpd_session *s);
const char *psmtpd_session_tls_peer_subject(const psmtpd_session *s);
const char *psmtpd_session_auth_user(const psmtpd_session *s);

#define MK_MAX 8

/* A list of macros being built; NULL values, and macros the milter did
 * not ask for, are left out. */
struct mk_list {
	const char *want;
	const char *names[MK_MAX];
	const char *values[MK_MAX];
	size_t n;
};

/* A name without its braces: its start and length. */
static size_t
mk_bare(const char *name, size_t n, const char **start)
{
	*start = name;
	if (n >= 2 && name[0] == '{' && name[n - 1] == '}') {
		*start = name + 1;
		n -= 2;
	}
	return n;
}

int
mk_wanted(const char *want, const char *name)
{
	const char *b, *w;
	size_t bn = mk_bare(name, strlen(name), &b);

	if (want == NULL)
		return 1;
	while (*want != '\0') {
		size_t n = strcspn(want, " ,\t");
		size_t wn = mk_bare(want, n, &w);
		if (wn == bn && bn > 0 && memcmp(w, b, bn) == 0)
			return 1;
		want += n + (want[n] != '\0');
	}
	return 0;
}

static void
mk_add(struct mk_list *l, const char *name, const char *value)
{
	if (value != NULL && l->n < MK_MAX && mk_wanted(l->want, name)) {
		l->names[l->n] = name;
		l->values[l->n++] = value;
	}
}

static int
mk_put(struct mp_buf *b, enum mp_cmd cmd, const struct mk_list *l)
{
	return mp_enc_macros(b, cmd, l->names, l->values, l->n);
}

int
mk_connect(struct mp_buf *b, const char *want, psmtpd_session *s,
    const char *name)
{
	struct mk_list l = { .want = want };
	char port[8];

	snprintf(port, sizeof(port), "%u", psmtpd_session_peer_port(s));
	mk_add(&l, "j", psmtpd_session_fqdn(s));
	mk_add(&l, "{daemon_name}", "psmtpd");
	mk_add(&l, "v", "psmtpd");
	mk_add(&l, "{client_addr}", psmtpd_session_peer_addr(s));
	mk_add(&l, "{client_port}", port);
	mk_add(&l, "{client_name}", name);
	mk_add(&l, "_", name);
	return mk_put(b, MP_C_CONNECT, &l);
}

int
mk_helo(struct mp_buf *b, const char *want, psmtpd_session *s)
{
	struct mk_list l = { .want = want };

	if (psmtpd_session_tls != NULL && psmtpd_session_tls(s)) {
		if (psmtpd_session_tls_version != NULL)
			mk_add(&l, "{tls_version}",
			    psmtpd_session_tls_version(s));
		if (psmtpd_session_tls_cipher != NULL)
			mk_add(&l, "{cipher}", psmtpd_session_tls_cipher(s));
		if (psmtpd_session_tls_peer_subject != NULL)
			mk_add(&l, "{cert_subject}",
			    psmtpd_session_tls_peer_subject(s));
	}
	return l.n > 0 ? mk_put(b, MP_C_HELO, &l) : 0;
}

int
mk_mail(struct mp_buf *b, const char *want, psmtpd_session *s,
    const char *msgid, const char *mailfrom)
{
	struct mk_list l = { .want = want };
	const char *user = psmtpd_session_auth_user != NULL ?
	    psmtpd_session_auth_user(s) : NULL;

	mk_add(&l, "i", msgid);
	mk_add(&l, "{mail_addr}", mailfrom);
	mk_add(&l, "{auth_authen}", user);
	return mk_put(b, MP_C_MAIL, &l);
}

int
mk_rcpt(struct mp_buf *b, const char *want, const char *msgid,
    const char *rcpt)
{
	struct mk_list l = { .want = want };

	mk_add(&l, "i", msgid);
	mk_add(&l, "{rcpt_addr}", rcpt);
	return mk_put(b, MP_C_RCPT, &l);
}

int
mk_msgid(struct mp_buf *b, const char *want, enum mp_cmd cmd,
    const char *msgid)
{
	struct mk_list l = { .want = want };

	mk_add(&l, "i", msgid);
	return mk_put(b, cmd, &l);
}
