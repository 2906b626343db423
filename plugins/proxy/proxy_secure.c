/*
 * proxy_secure.c - relaying through a smarthost: STARTTLS toward the
 * upstream (off, opportunistic, or required with its certificate checked
 * against the system's CAs or ca_file and against its name) and AUTH
 * PLAIN/LOGIN with username/password or a credentials_file.
 *
 * A failure here is ours or the upstream's, never the client's: it is a
 * 451 (the client keeps the message), logged with the reason.  The
 * password is never logged, not even in the protocol trace.
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <psmtpd/plugin.h>

#include "../delivery_util.h"
#include "proxy.h"

/* ---- settings ---------------------------------------------------------- */

static const char *const proxy_tls_names[] = {
	[PROXY_TLS_OFF] = "off",
	[PROXY_TLS_OPPORTUNISTIC] = "opportunistic",
	[PROXY_TLS_REQUIRE] = "require",
};

/* proxy_tls_setting - starttls = "require" | "opportunistic" | "off". */
static int
proxy_tls_setting(psmtpd_init *ctx, struct proxy_conf *pc)
{
	const char *v = NULL;
	int r = psmtpd_setting_string(ctx, "starttls", &v);

	pc->tls = PROXY_TLS_OFF;
	if (r <= 0)
		return r;
	for (int i = 0; i < 3; i++)
		if (strcmp(v, proxy_tls_names[i]) == 0) {
			pc->tls = (enum proxy_tls)i;
			return 0;
		}
	psmtpd_init_error(ctx, "starttls", "starttls must be \"require\", "
	    "\"opportunistic\" or \"off\", not \"%s\"", v);
	return -1;
}

/* proxy_parse_secret - the first line of a credentials file that is not
 * empty or a comment: "user:password".  0 with the NUL-separated pair in
 * buf, or -1. */
static int
proxy_parse_secret(char *buf, size_t len)
{
	for (char *line = buf; line < buf + len;) {
		char *nl = memchr(line, '\n', (size_t)(buf + len - line));
		char *end = nl != NULL ? nl : buf + len;
		if (end > line && end[-1] == '\r')
			end--;
		if (end > line && *line != '#') {
			char *colon = memchr(line, ':', (size_t)(end - line));
			if (colon == NULL || colon == line || colon + 1 == end)
				return -1;
			size_t ul = (size_t)(colon - line);
			size_t pl = (size_t)(end - colon - 1);
			memmove(buf, line, ul);
			buf[ul] = '\0';
			memmove(buf + ul + 1, colon + 1, pl);
			buf[ul + 1 + pl] = '\0';
			return 0;
		}
		line = nl != NULL ? nl + 1 : buf + len;
	}
	return -1;
}

/* proxy_read_secret - read a credentials file (in the master: it may be
 * readable by root only). */
static int
proxy_read_secret(psmtpd_init *ctx, struct proxy_conf *pc, const char *path)
{
	char *buf = calloc(1, 4096);
	int fd = buf != NULL ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	ssize_t n = fd >= 0 ? read(fd, buf, 4095) : -1;
	struct stat sb;

	if (buf == NULL || fd < 0 || n < 0) {
		psmtpd_init_error(ctx, "credentials_file", "cannot read %s: %s",
		    path, buf == NULL ? "out of memory" : strerror(errno));
		if (fd >= 0)
			close(fd);
		free(buf);
		return -1;
	}
	if (fstat(fd, &sb) == 0 && (sb.st_mode & 077) != 0)
		psmtpd_log(PSMTPD_LOG_WARNING, "%s: %s is readable by "
		    "others (chmod 600 it)", pc->tag, path);
	close(fd);
	if (proxy_parse_secret(buf, (size_t)n) != 0) {
		psmtpd_init_error(ctx, "credentials_file", "%s: want one line "
		    "user:password", path);
		explicit_bzero(buf, 4096);
		free(buf);
		return -1;
	}
	pc->file_secret = buf;
	pc->file_secret_len = 4096;
	pc->username = buf;
	pc->password = buf + strlen(buf) + 1;
	return 0;
}

/* proxy_auth_settings - username and password, or credentials_file. */
static int
proxy_auth_settings(psmtpd_init *ctx, struct proxy_conf *pc)
{
	const char *file = NULL;
	int bad = (psmtpd_setting_string(ctx, "username", &pc->username) |
	    psmtpd_setting_string(ctx, "password", &pc->password) |
	    psmtpd_setting_string(ctx, "credentials_file", &file)) < 0;

	if (bad)
		return -1;
	if (file != NULL && (pc->username != NULL || pc->password != NULL)) {
		psmtpd_init_error(ctx, "credentials_file", "set either "
		    "username and password or credentials_file");
		return -1;
	}
	if (file != NULL)
		return proxy_read_secret(ctx, pc, file);
	if ((pc->username == NULL) != (pc->password == NULL) ||
	    (pc->username != NULL && *pc->username == '\0')) {
		psmtpd_init_error(ctx, pc->username == NULL ? "password" :
		    "username", "username and password go together");
		return -1;
	}
	return 0;
}

/* proxy_tls_settings - ca_file and tls_name, and the context. */
static int
proxy_tls_settings(psmtpd_init *ctx, struct proxy_conf *pc)
{
	const char *name = NULL;
	char port[8], err[300];
	int bad = (psmtpd_setting_string(ctx, "ca_file", &pc->ca_file) |
	    psmtpd_setting_string(ctx, "tls_name", &name)) < 0;

	if (bad)
		return -1;
	if (pc->tls == PROXY_TLS_OFF && (pc->ca_file != NULL || name != NULL)) {
		psmtpd_init_error(ctx, pc->ca_file ? "ca_file" : "tls_name",
		    "needs starttls = \"require\" or \"opportunistic\"");
		return -1;
	}
	if (pc->tls == PROXY_TLS_OFF)
		return 0;
	if (name != NULL)
		snprintf(pc->tls_name, sizeof(pc->tls_name), "%s", name);
	else if (smtpc_split_remote(pc->remote, pc->tls_name,
	    sizeof(pc->tls_name), port, sizeof(port)) != 0)
		snprintf(pc->tls_name, sizeof(pc->tls_name), "localhost");
	pc->tls_ctx = smtpc_tls_context(pc->tls == PROXY_TLS_REQUIRE,
	    pc->ca_file, err, sizeof(err));
	if (pc->tls_ctx == NULL) {
		psmtpd_init_error(ctx, pc->ca_file ? "ca_file" : "starttls",
		    "%s%s%s", err, pc->ca_file ? " " : "",
		    pc->ca_file ? pc->ca_file : "");
		return -1;
	}
	return 0;
}

int
proxy_secure_init(psmtpd_init *ctx, struct proxy_conf *pc)
{
	if (proxy_tls_setting(ctx, pc) != 0 ||
	    proxy_tls_settings(ctx, pc) != 0 ||
	    proxy_auth_settings(ctx, pc) != 0) {
		proxy_secure_fini(pc);
		return -1;
	}
	if (pc->username != NULL && pc->tls != PROXY_TLS_REQUIRE)
		psmtpd_log(PSMTPD_LOG_WARNING, "%s: AUTH to %s without "
		    "starttls = \"require\" may send the password in clear",
		    pc->tag, pc->remote);
	return 0;
}

void
proxy_secure_fini(struct proxy_conf *pc)
{
	if (pc->tls_ctx != NULL)
		smtpc_tls_context_free(pc->tls_ctx);
	pc->tls_ctx = NULL;
	if (pc->file_secret != NULL)
		explicit_bzero(pc->file_secret, pc->file_secret_len);
	free(pc->file_secret);
	pc->file_secret = NULL;
}

/* ---- in a session ------------------------------------------------------ */

/* proxy_secure_fail - a 451 with an enhanced code of class 4.7. */
static int
proxy_secure_fail(psmtpd_session *s, const struct proxy_conf *pc,
    struct proxy_result *res, const char *why, const char *detail)
{
	psmtpd_session_log(s, PSMTPD_LOG_WARNING, "%s %s error=\"%s\"",
	    pc->tag, why, detail);
	res->code = 451;
	snprintf(res->text, sizeof(res->text), "4.7.0 Error: upstream %s, "
	    "try again later", why);
	return -1;
}

/* proxy_after_tls - log the session, EHLO again (RFC 3207 4.2). */
static int
proxy_after_tls(struct proxy_txn *t, psmtpd_session *s,
    struct proxy_result *res)
{
	char desc[200];
	struct smtpc_reply r;

	smtpc_tls_describe(&t->c, desc, sizeof(desc));
	psmtpd_session_log(s, PSMTPD_LOG_INFO, "%s starttls remote=%s %s "
	    "verified=%s", t->pc->tag, t->pc->remote, desc,
	    t->pc->tls == PROXY_TLS_REQUIRE ? "yes" : "no");
	return proxy_expect(t, smtpc_hello(&t->c, t->pc->helo_name, &r), &r,
	    250, "EHLO", res);
}

/* proxy_starttls - TLS as the starttls setting wants.  0, -1, or 1 for
 * "connect again without TLS" (opportunistic, handshake failed). */
static int
proxy_starttls(struct proxy_txn *t, psmtpd_session *s,
    struct proxy_result *res)
{
	int require = t->pc->tls == PROXY_TLS_REQUIRE;
	struct smtpc_reply r;

	if (t->pc->tls == PROXY_TLS_OFF || t->no_tls)
		return 0;
	if (!t->c.starttls)
		return require ? proxy_secure_fail(s, t->pc, res, "does not offer "
		    "STARTTLS", t->pc->remote) : 0;
	enum smtpc_status st = smtpc_starttls(&t->c, t->pc->tls_ctx,
	    t->pc->tls_name, require, &r);
	if (st == SMTPC_OK && r.code != 220)
		return require ? proxy_secure_fail(s, t->pc, res, "refused STARTTLS",
		    r.text) : 0;
	if (st == SMTPC_TLS) {
		t->broken = 1;
		if (!require) {
			psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "%s "
			    "starttls failed, again in plaintext error=\"%s\"",
			    t->pc->tag, t->c.tls_err);
			return 1;
		}
		snprintf(t->why, sizeof(t->why), "TLS failed");
		return proxy_secure_fail(s, t->pc, res, "TLS failed", t->c.tls_err);
	}
	if (st != SMTPC_OK) {
		proxy_io_failed(t, st, "STARTTLS", res);
		return -1;
	}
	return proxy_after_tls(t, s, res);
}

/* proxy_auth - AUTH as the credentials say. */
static int
proxy_auth(struct proxy_txn *t, psmtpd_session *s, struct proxy_result *res)
{
	struct smtpc_reply r;
	int missing;

	if (t->pc->username == NULL)
		return 0;
	enum smtpc_status st = smtpc_auth(&t->c, t->pc->username,
	    t->pc->password, &r, &missing);
	if (st != SMTPC_OK) {
		proxy_io_failed(t, st, "AUTH", res);
		return -1;
	}
	if (missing)
		return proxy_secure_fail(s, t->pc, res, "offers no AUTH PLAIN or "
		    "LOGIN", t->pc->remote);
	if (r.code != 235) {
		char detail[SMTPC_LINE_MAX + 300];
		snprintf(detail, sizeof(detail), "user=%s reply=%d %s",
		    t->pc->username, r.code, r.text);
		return proxy_secure_fail(s, t->pc, res, "refused our AUTH", detail);
	}
	psmtpd_session_log(s, PSMTPD_LOG_INFO, "%s auth remote=%s user=%s",
	    t->pc->tag, t->pc->remote, t->pc->username);
	return 0;
}

int
proxy_secure_open(struct proxy_txn *t, psmtpd_session *s,
    struct proxy_result *res)
{
	int r = proxy_starttls(t, s, res);

	if (r != 0)
		return r;
	return proxy_auth(t, s, res);
}
