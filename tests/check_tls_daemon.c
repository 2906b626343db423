/*
 * check_tls_daemon.c - STARTTLS, implicit TLS and AUTH on the real
 * daemon, with real clients: openssl s_client, swaks, Python's smtplib,
 * and an OpenSSL client in the test for the protocol details (command
 * injection after STARTTLS, 501/503/530/535, the failure delay, the
 * error limit).  Also: a key that does not match (-t), garbage instead
 * of a ClientHello, a stalled handshake, session resumption across
 * workers, and certificate rotation under SIGHUP.
 *
 * The daemon has four listeners: starttls, starttls with require_tls and
 * require_auth (submission), implicit TLS with require_auth, and plain.
 */
#include "autoconfig.h"

#include <check.h>
#include <crypt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "tests/check_run.h"
#include "tests/daemon_util.h"
#include "tests/tls_util.h"

struct td {
	struct pd pd;
	int starttls, submission, implicit, plain;	/* ports */
	int max_errors;
	const char *plugins;	/* the `plugins` entries; NULL: passwd_file */
	const char *tls_extra;	/* more settings of the tls group */
	char conf[320];
};

/* td_hash - a crypt(5) hash of password with the method's prefix
 * ("$y$", "$6$", "$2b$"). */
static void
td_hash(const char *prefix, const char *password, char *out, size_t size)
{
	struct crypt_data cd;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];

	memset(&cd, 0, sizeof(cd));
	ck_assert_ptr_nonnull(crypt_gensalt_rn(prefix, 0, NULL, 0, salt,
	    sizeof(salt)));
	const char *h = crypt_r(password, salt, &cd);
	ck_assert(h != NULL && h[0] == '$');
	snprintf(out, size, "%s", h);
}

/* td_passwd - three users, one per hash method. */
static void
td_passwd(const struct td *t)
{
	char path[400], y[256], six[256], bf[256];

	td_hash("$y$", "yes-secret", y, sizeof(y));
	td_hash("$6$", "sha-secret", six, sizeof(six));
	td_hash("$2b$", "bf-secret", bf, sizeof(bf));
	pd_path(&t->pd, "passwd", path, sizeof(path));
	ck_assert_int_eq(du_write_config(path, "# users\nalice:%s\n"
	    "bob:%s:19000:0:99999:7:::\n\ncarol:%s\n", y, six, bf), 0);
}

/* td_config - the config (again, for a reload) with cert name.crt. */
static void
td_config(struct td *t, const char *cert, const char *extra)
{
	ck_assert_int_eq(du_write_config(t->conf,
	    "listen = ( { address = \"127.0.0.1:%d\"; tls = \"starttls\"; },\n"
	    "  { address = \"127.0.0.1:%d\"; tls = \"starttls\";\n"
	    "    require_tls = true; require_auth = true; },\n"
	    "  { address = \"127.0.0.1:%d\"; tls = \"implicit\";"
	    " require_auth = true; },\n"
	    "  \"127.0.0.1:%d\" );\n"
	    "tls = { certificate = \"%s/%s.crt\"; key = \"%s/%s.key\";\n"
	    "  handshake_timeout = 2; %s };\n"
	    "auth = { failure_delay = 1; };\n"
	    "limits = { max_errors = %d; };\n"
	    "pool = { start = 2; min_spare = 1; max_spare = 3; };\n"
	    "plugins = ( %s%s%s, { name = \"sink\"; } );\n%s",
	    t->starttls, t->submission, t->implicit, t->plain, t->pd.dir,
	    cert, t->pd.dir, cert, t->tls_extra != NULL ? t->tls_extra : "",
	    t->max_errors,
	    t->plugins != NULL ? t->plugins : "{ name = \"passwd_file\"; "
	    "settings = { file = \"", t->plugins != NULL ? "" : t->pd.dir,
	    t->plugins != NULL ? "" : "/passwd\"; }; }", extra), 0);
}

/* td_prepare - the directory, the ports, the certificates, the users. */
static void
td_prepare(struct td *t, int max_errors)
{
	memset(t, 0, sizeof(*t));
	t->max_errors = max_errors;
	pd_prepare(&t->pd);
	t->starttls = t->pd.port = du_free_port("127.0.0.1");
	t->submission = du_free_port("127.0.0.1");
	t->implicit = du_free_port("127.0.0.1");
	t->plain = du_free_port("127.0.0.1");
	ck_assert_int_eq(tu_make_cert(t->pd.dir, "mx", "mx.test"), 0);
	ck_assert_int_eq(tu_make_cert(t->pd.dir, "new", "new.test"), 0);
	td_passwd(t);
	pd_path(&t->pd, "psmtpd.conf", t->conf, sizeof(t->conf));
}

/* td_run - write the config and start the daemon. */
static void
td_run(struct td *t, const char *extra)
{
	const char *args[] = { "-L", "-P", "-d", "-C", t->conf, NULL };

	td_config(t, "mx", extra);
	pd_start(&t->pd, args);
}

static void
td_start_with(struct td *t, int max_errors, const char *extra)
{
	td_prepare(t, max_errors);
	td_run(t, extra);
}

static void
td_start(struct td *t)
{
	td_start_with(t, 20, "");
}

static void
td_stop(struct td *t)
{
	ck_assert_int_eq(pd_stop(&t->pd), 0);
	pd_cleanup(&t->pd);
}

/* td_implicit - TLS from the first byte; the greeting read. */
static SSL *
td_implicit(int port, int *fdp, const char *sni, SSL_SESSION *sess)
{
	char reply[512];
	int fd = smtp_connect(port);

	ck_assert_int_ge(fd, 0);
	SSL *ssl = tu_tls_connect(fd, sni, sess);
	ck_assert_ptr_nonnull(ssl);
	ck_assert_int_eq(tu_tls_cmd(ssl, NULL, reply, sizeof(reply)), 220);
	*fdp = fd;
	return ssl;
}

static void
td_close(SSL *ssl, int fd)
{
	tu_tls_close(ssl);
	close(fd);
}

/* td_implicit_ehlo - TLS from the first byte, and EHLO answered 250 (its
 * reply in reply). */
static SSL *
td_implicit_ehlo(const struct td *t, int *fdp, char *reply, size_t size)
{
	SSL *ssl = td_implicit(t->implicit, fdp, NULL, NULL);

	ck_assert_int_eq(tu_tls_cmd(ssl, "EHLO c", reply, size), 250);
	return ssl;
}

/* td_plain_ehlo - a plaintext connection to port, greeted with 220 and
 * past the EHLO line (its 250 reply in reply). */
static int
td_plain_ehlo(int port, const char *ehlo, char *reply, size_t size)
{
	int fd = smtp_connect(port);

	ck_assert_int_eq(smtp_reply(fd, reply, size), 220);
	ck_assert_int_eq(smtp_cmd(fd, ehlo, reply, size), 250);
	return fd;
}

/* td_swaks - swaks sends a message to 127.0.0.1:port with tls (--tls:
 * STARTTLS, --tlsc: implicit) and AUTH mech as user:password; its exit
 * status, out its output. */
static int
td_swaks(int port, const char *tls, const char *mech, const char *user,
    const char *password, char *out, size_t size)
{
	char addr[32];

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	const char *argv[] = { "swaks", "--server", addr, tls, "--auth", mech,
	    "--auth-user", user, "--auth-password", password, "--from",
	    "a@example.org", "--to", "b@example.org", NULL };
	return tu_run(argv, NULL, out, size, 30);
}

/* ---- STARTTLS ---------------------------------------------------------- */

START_TEST(test_openssl_starttls)
{
	const char *opts[] = { "-starttls", "smtp", "-quiet", "-verify_quiet",
	    "-ign_eof", NULL };
	struct td t;
	char out[16384];

	td_start(&t);
	ck_assert_int_eq(tu_s_client(t.starttls, opts, "EHLO client.test\r\n"
	    "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
	    "DATA\r\nSubject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n", out,
	    sizeof(out)), 0);
	ck_assert_msg(strstr(out, "354 ") && strstr(out, "221 Bye"), "%s",
	    out);
	/* after STARTTLS, STARTTLS is no longer advertised */
	ck_assert_msg(strstr(out, "STARTTLS") == NULL, "%s", out);
	ck_assert(pd_log_has(&t.pd, "tls id=", 5));
	ck_assert(pd_log_has(&t.pd, "version=TLSv1.3 cipher=", 5));
	ck_assert(pd_log_has(&t.pd, "messages=1", 5));
	td_stop(&t);
}
END_TEST

START_TEST(test_openssl_implicit)
{
	const char *opts[] = { "-quiet", "-verify_quiet", "-ign_eof", NULL };
	struct td t;
	char out[16384];

	td_start(&t);
	ck_assert_int_eq(tu_s_client(t.implicit, opts, "EHLO client.test\r\n"
	    "QUIT\r\n", out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "220 ") && strstr(out, "250-AUTH PLAIN "
	    "LOGIN") && strstr(out, "221 Bye"), "%s", out);
	ck_assert_msg(strstr(out, "STARTTLS") == NULL, "%s", out);
	td_stop(&t);
}
END_TEST

/* CVE-2011-0411: what follows STARTTLS in the same read never runs. */
START_TEST(test_starttls_injection)
{
	struct td t;
	char reply[2048];
	int fd;

	td_start(&t);
	fd = td_plain_ehlo(t.starttls, "EHLO client.test", reply,
	    sizeof(reply));
	ck_assert_int_eq(smtp_send(fd, "STARTTLS\r\nNOOP\r\n"), 0);
	ck_assert_int_eq(smtp_reply(fd, reply, sizeof(reply)), 220);
	ck_assert_str_eq(reply, "220 Ready to start TLS\r\n");
	SSL *ssl = tu_tls_connect(fd, NULL, NULL);
	ck_assert_ptr_nonnull(ssl);
	/* the first reply inside TLS answers this EHLO, not the NOOP */
	ck_assert_int_eq(tu_tls_cmd(ssl, "EHLO client.test", reply,
	    sizeof(reply)), 250);
	ck_assert_msg(strncmp(reply, "250-", 4) == 0, "%s", reply);
	ck_assert_int_eq(tu_tls_cmd(ssl, "QUIT", reply, sizeof(reply)), 221);
	td_close(ssl, fd);
	ck_assert(pd_log_has(&t.pd, "pipelined input discarded bytes=6", 5));
	td_stop(&t);
}
END_TEST

/* The replies around STARTTLS, and the session forgotten after it. */
START_TEST(test_starttls_replies)
{
	struct td t;
	char reply[2048];
	int fd;

	td_start(&t);
	fd = td_plain_ehlo(t.starttls, "EHLO c", reply, sizeof(reply));
	ck_assert_int_eq(smtp_cmd(fd, "STARTTLS now", reply, sizeof(reply)),
	    501);
	ck_assert_int_eq(smtp_cmd(fd, "MAIL FROM:<a@example.org>", reply,
	    sizeof(reply)), 250);
	ck_assert_int_eq(smtp_cmd(fd, "STARTTLS", reply, sizeof(reply)), 503);
	ck_assert_int_eq(smtp_cmd(fd, "RSET", reply, sizeof(reply)), 250);
	ck_assert_int_eq(smtp_cmd(fd, "STARTTLS", reply, sizeof(reply)), 220);
	SSL *ssl = tu_tls_connect(fd, NULL, NULL);
	ck_assert_ptr_nonnull(ssl);
	/* RFC 3207 4.2: the greeting is forgotten */
	ck_assert_int_eq(tu_tls_cmd(ssl, "MAIL FROM:<a@example.org>", reply,
	    sizeof(reply)), 503);
	ck_assert_int_eq(tu_tls_cmd(ssl, "EHLO c", reply, sizeof(reply)), 250);
	ck_assert_int_eq(tu_tls_cmd(ssl, "STARTTLS", reply, sizeof(reply)),
	    503);
	td_close(ssl, fd);
	/* a plain listener knows no STARTTLS */
	fd = td_plain_ehlo(t.plain, "EHLO c", reply, sizeof(reply));
	ck_assert_msg(strstr(reply, "STARTTLS") == NULL, "%s", reply);
	ck_assert_int_eq(smtp_cmd(fd, "STARTTLS", reply, sizeof(reply)), 500);
	close(fd);
	td_stop(&t);
}
END_TEST

/* require_tls: MAIL and AUTH before STARTTLS are 530 (5.7.0 with
 * enhanced status codes); AUTH is not even offered in plaintext. */
START_TEST(test_require_tls)
{
	struct td t;
	char reply[2048];
	int fd;

	td_start_with(&t, 20, "esmtp = { enhanced_status_codes = true; };\n");
	fd = td_plain_ehlo(t.submission, "EHLO c", reply, sizeof(reply));
	ck_assert_msg(strstr(reply, "AUTH") == NULL, "%s", reply);
	ck_assert_int_eq(smtp_cmd(fd, "MAIL FROM:<a@example.org>", reply,
	    sizeof(reply)), 530);
	ck_assert_str_eq(reply, "530 5.7.0 Must issue a STARTTLS command "
	    "first\r\n");
	ck_assert_int_eq(smtp_cmd(fd, "AUTH PLAIN", reply, sizeof(reply)),
	    530);
	ck_assert_int_eq(smtp_cmd(fd, "STARTTLS", reply, sizeof(reply)), 220);
	SSL *ssl = tu_tls_connect(fd, NULL, NULL);
	ck_assert_ptr_nonnull(ssl);
	ck_assert_int_eq(tu_tls_cmd(ssl, "EHLO c", reply, sizeof(reply)), 250);
	ck_assert_msg(strstr(reply, "250-AUTH PLAIN LOGIN") != NULL, "%s",
	    reply);
	/* require_auth */
	ck_assert_int_eq(tu_tls_cmd(ssl, "MAIL FROM:<a@example.org>", reply,
	    sizeof(reply)), 530);
	ck_assert_str_eq(reply, "530 5.7.0 Authentication required\r\n");
	/* alice:yes-secret */
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH PLAIN "
	    "AGFsaWNlAHllcy1zZWNyZXQ=", reply, sizeof(reply)), 235);
	ck_assert_str_eq(reply, "235 2.7.0 Authentication successful\r\n");
	ck_assert_int_eq(tu_tls_cmd(ssl, "MAIL FROM:<a@example.org> "
	    "AUTH=<>", reply, sizeof(reply)), 250);
	td_close(ssl, fd);
	td_stop(&t);
}
END_TEST

/* A client that goes quiet inside the AUTH exchange gets the command
 * timeout's 421, as at a command prompt. */
START_TEST(test_auth_timeout)
{
	struct td t;
	char reply[2048];
	int fd;

	td_start_with(&t, 20, "timeouts = { command = 1; };\n");
	SSL *ssl = td_implicit_ehlo(&t, &fd, reply, sizeof(reply));
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH LOGIN", reply, sizeof(reply)),
	    334);
	ck_assert_int_eq(tu_tls_cmd(ssl, NULL, reply, sizeof(reply)), 421);
	ck_assert_msg(strstr(reply, "Error: timeout exceeded") != NULL,
	    "%s", reply);
	td_close(ssl, fd);
	td_stop(&t);
}
END_TEST

/* ---- AUTH ------------------------------------------------------------ */

START_TEST(test_auth_exchange)
{
	struct td t;
	char reply[2048];
	int fd;

	td_start(&t);
	SSL *ssl = td_implicit_ehlo(&t, &fd, reply, sizeof(reply));
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH", reply, sizeof(reply)), 501);
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH CRAM-MD5", reply,
	    sizeof(reply)), 504);
	/* PLAIN with the 334 exchange, cancelled */
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH PLAIN", reply, sizeof(reply)),
	    334);
	ck_assert_str_eq(reply, "334 \r\n");
	ck_assert_int_eq(tu_tls_cmd(ssl, "*", reply, sizeof(reply)), 501);
	/* bad base64 */
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH PLAIN not-base64!", reply,
	    sizeof(reply)), 501);
	/* LOGIN, user then password: bob:sha-secret */
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH LOGIN", reply, sizeof(reply)),
	    334);
	ck_assert_str_eq(reply, "334 VXNlcm5hbWU6\r\n");
	ck_assert_int_eq(tu_tls_cmd(ssl, "Ym9i", reply, sizeof(reply)), 334);
	ck_assert_str_eq(reply, "334 UGFzc3dvcmQ6\r\n");
	ck_assert_int_eq(tu_tls_cmd(ssl, "c2hhLXNlY3JldA==", reply,
	    sizeof(reply)), 235);
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH PLAIN", reply, sizeof(reply)),
	    503);
	ck_assert_int_eq(tu_tls_cmd(ssl, "QUIT", reply, sizeof(reply)), 221);
	td_close(ssl, fd);
	/* carol (bcrypt), PLAIN through 334; then AUTH in a transaction */
	ssl = td_implicit_ehlo(&t, &fd, reply, sizeof(reply));
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH PLAIN", reply, sizeof(reply)),
	    334);
	ck_assert_int_eq(tu_tls_cmd(ssl, "AGNhcm9sAGJmLXNlY3JldA==", reply,
	    sizeof(reply)), 235);
	ck_assert_int_eq(tu_tls_cmd(ssl, "MAIL FROM:<a@example.org>", reply,
	    sizeof(reply)), 250);
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH LOGIN", reply, sizeof(reply)),
	    503);
	td_close(ssl, fd);
	ck_assert(pd_log_has(&t.pd, "mechanism=LOGIN user=\"bob\" result=ok",
	    5));
	ck_assert(pd_log_has(&t.pd, "user=\"carol\" result=ok", 5));
	td_stop(&t);
}
END_TEST

/* Failures: 535 5.7.8 after the delay, counted toward max_errors (4),
 * no password in the log even with -d. */
START_TEST(test_auth_failures)
{
	struct td t;
	char reply[2048];
	int fd;

	td_start_with(&t, 4, "esmtp = { enhanced_status_codes = true; };\n");
	SSL *ssl = td_implicit_ehlo(&t, &fd, reply, sizeof(reply));
	for (int i = 0; i < 3; i++) {
		long long t0 = du_now_ms();
		/* alice:wrong-secret */
		ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH PLAIN "
		    "AGFsaWNlAHdyb25nLXNlY3JldA==", reply, sizeof(reply)),
		    535);
		ck_assert_str_eq(reply, "535 5.7.8 Authentication "
		    "credentials invalid\r\n");
		ck_assert_int_ge(du_now_ms() - t0, 900);
	}
	/* an unknown user is no different; the fourth error ends it */
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH PLAIN AG1hbGxvcnkAeA==",
	    reply, sizeof(reply)), 421);
	ck_assert_msg(strncmp(reply, "535 5.7.8 ", 10) == 0, "%s", reply);
	td_close(ssl, fd);
	ck_assert(pd_log_has(&t.pd, "reason=too-many-errors", 5));
	ck_assert(pd_log_has(&t.pd, "user=\"alice\" result=failed", 5));
	ck_assert(!pd_log_has(&t.pd, "wrong-secret", 0));
	ck_assert(!pd_log_has(&t.pd, "AGFsaWNlAHdyb25nLXNlY3JldA", 0));
	ck_assert(pd_log_has(&t.pd, "command=\"AUTH\" arg=\"PLAIN\"", 0));
	td_stop(&t);
}
END_TEST

START_TEST(test_swaks)
{
	struct td t;
	char out[16384];

	if (!tu_have("swaks"))
		CHECK_SKIP("swaks is not installed");
	td_start(&t);
	ck_assert_msg(td_swaks(t.submission, "--tls", "PLAIN", "alice",
	    "yes-secret", out, sizeof(out)) == 0, "%s", out);
	ck_assert_msg(strstr(out, "235 Authentication successful"), "%s", out);
	ck_assert_msg(td_swaks(t.implicit, "--tlsc", "LOGIN", "bob",
	    "sha-secret", out, sizeof(out)) == 0, "%s", out);
	ck_assert_int_ne(td_swaks(t.implicit, "--tlsc", "LOGIN", "bob",
	    "nope", out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "535 Authentication credentials invalid"),
	    "%s", out);
	ck_assert(pd_log_has(&t.pd, "messages=1", 5));
	td_stop(&t);
}
END_TEST

START_TEST(test_smtplib)
{
	struct td t;
	char script[2048], out[8192];

	td_start(&t);
	snprintf(script, sizeof(script),
	    "import smtplib, ssl\n" TU_PY_ANY_CERT
	    "s = smtplib.SMTP('127.0.0.1', %d, timeout=10)\n"
	    "s.starttls(context=ctx)\n"
	    "s.login('alice', 'yes-secret')\n"
	    "s.sendmail('a@example.org', ['b@example.org'], 'Subject: x\\n\\nhi\\n')\n"
	    "s.quit()\n"
	    "s = smtplib.SMTP_SSL('127.0.0.1', %d, context=ctx, timeout=10)\n"
	    "s.login('carol', 'bf-secret')\n"
	    "s.sendmail('a@example.org', ['b@example.org'], 'Subject: y\\n\\nhi\\n')\n"
	    "try:\n"
	    "    s.login('carol', 'bf-secret')\n"
	    "except smtplib.SMTPException as e:\n"
	    "    print('second login:', e)\n"
	    "s.quit()\n"
	    "s = smtplib.SMTP_SSL('127.0.0.1', %d, context=ctx, timeout=10)\n"
	    "try:\n"
	    "    s.login('carol', 'wrong')\n"
	    "except smtplib.SMTPAuthenticationError as e:\n"
	    "    print('refused', e.smtp_code)\n"
	    "print('done')\n", t.submission, t.implicit, t.implicit);
	ck_assert_msg(tu_python(script, out, sizeof(out)) == 0, "%s", out);
	ck_assert_msg(strstr(out, "refused 535") && strstr(out, "done"), "%s",
	    out);
	ck_assert(pd_log_has(&t.pd, "messages=1", 5));
	td_stop(&t);
}
END_TEST

/* PROXY comes first, then TLS (issue 13): on a proxy_protocol listener
 * with implicit TLS the header precedes the ClientHello, with STARTTLS
 * the greeting; either way the session's client is the header's. */
START_TEST(test_proxy_then_tls)
{
	struct pd pd;
	char conf[400], script[2048], out[8192];
	const char *args[] = { "-L", "-P", "-d", "-C", conf, NULL };

	pd_prepare(&pd);
	pd.port = du_free_port("127.0.0.1");	/* plain: pd_start's probe */
	int implicit = du_free_port("127.0.0.1");
	int starttls = du_free_port("127.0.0.1");
	ck_assert_int_eq(tu_make_cert(pd.dir, "mx", "mx.test"), 0);
	pd_path(&pd, "psmtpd.conf", conf, sizeof(conf));
	ck_assert_int_eq(du_write_config(conf,
	    "listen = ( { address = \"127.0.0.1:%d\"; tls = \"implicit\";\n"
	    "    proxy_protocol = true; proxy_trusted = [ \"127.0.0.1\" ]; },\n"
	    "  { address = \"127.0.0.1:%d\"; tls = \"starttls\";\n"
	    "    proxy_protocol = true; proxy_trusted = [ \"127.0.0.1\" ]; },\n"
	    "  \"127.0.0.1:%d\" );\n"
	    "tls = { certificate = \"%s/mx.crt\"; key = \"%s/mx.key\"; };\n"
	    "pool = { start = 2; min_spare = 1; max_spare = 3; };\n"
	    "plugins = ( { name = \"sink\"; } );\n", implicit, starttls,
	    pd.port, pd.dir, pd.dir), 0);
	pd_start(&pd, args);
	snprintf(script, sizeof(script),
	    "import smtplib, socket, ssl\n" TU_PY_ANY_CERT
	    "class P(smtplib.SMTP):\n"
	    "    def _get_socket(self, host, port, timeout):\n"
	    "        s = socket.create_connection((host, port), timeout)\n"
	    "        s.sendall(self.proxy)\n"
	    "        return ctx.wrap_socket(s) if self.implicit else s\n"
	    "for port, implicit, client in ((%d, True, '192.0.2.7'),\n"
	    "                               (%d, False, '192.0.2.8')):\n"
	    "    P.proxy = ('PROXY TCP4 %%s 192.0.2.1 40000 25\\r\\n' %% client).encode()\n"
	    "    P.implicit = implicit\n"
	    "    s = P('127.0.0.1', port, timeout=10)\n"
	    "    if not implicit:\n"
	    "        s.starttls(context=ctx)\n"
	    "    s.sendmail('a@example.org', ['b@example.org'], 'Subject: x\\n\\nhi\\n')\n"
	    "    s.quit()\n"
	    "print('done')\n", implicit, starttls);
	ck_assert_msg(tu_python(script, out, sizeof(out)) == 0, "%s", out);
	ck_assert_msg(strstr(out, "done") != NULL, "%s", out);
	ck_assert(pd_log_has(&pd, "tls id=", 5));
	ck_assert(pd_log_has(&pd, "client=192.0.2.7 version=TLS", 5));
	ck_assert(pd_log_has(&pd, "client=192.0.2.8 version=TLS", 5));
	ck_assert(pd_log_has(&pd, "client=192.0.2.8 messages=1", 5));
	ck_assert_int_eq(pd_stop(&pd), 0);
	pd_cleanup(&pd);
}
END_TEST

/* ---- handshakes that go wrong ---------------------------------------- */

START_TEST(test_garbage_and_stall)
{
	struct td t;
	char reply[512];
	int fd, stalled;

	td_start(&t);
	/* plaintext SMTP on the implicit-TLS port */
	fd = smtp_connect(t.implicit);
	ck_assert_int_eq(smtp_send(fd, "EHLO client.test\r\n"), 0);
	ck_assert_int_eq(smtp_reply(fd, reply, sizeof(reply)), -1);
	close(fd);
	ck_assert(pd_log_has(&t.pd, "tls failed", 5));
	/* a client that says nothing is dropped after handshake_timeout */
	long long t0 = du_now_ms();
	stalled = smtp_connect(t.implicit);
	ck_assert_int_eq(smtp_reply(stalled, reply, sizeof(reply)), -1);
	ck_assert_int_lt(du_now_ms() - t0, 6000);
	close(stalled);
	ck_assert(pd_log_has(&t.pd, "reason=\"timeout\"", 5));
	/* and the workers still serve */
	SSL *ssl = td_implicit(t.implicit, &fd, NULL, NULL);
	ck_assert_int_eq(tu_tls_cmd(ssl, "QUIT", reply, sizeof(reply)), 221);
	td_close(ssl, fd);
	td_stop(&t);
}
END_TEST

/* -t names the key that does not match its certificate. */
START_TEST(test_wrong_key)
{
	struct td t;
	struct su_buf out = { 0 };
	char conf[400];

	td_start(&t);
	pd_path(&t.pd, "bad.conf", conf, sizeof(conf));
	ck_assert_int_eq(du_write_config(conf, "listen = \"127.0.0.1:1\";\n"
	    "tls = {\n  certificate = \"%s/mx.crt\";\n  key = \"%s/new.key\";"
	    "\n};\n", t.pd.dir, t.pd.dir), 0);
	const char *args[] = { "-t", "-C", conf, NULL };
	ck_assert_int_eq(du_run(args, &out), 1);
	ck_assert_msg(strstr(out.p, "bad.conf:4: tls.key") &&
	    strstr(out.p, "new.key: does not match the certificate"),
	    "%s", out.p);
	free(out.p);
	td_stop(&t);
}
END_TEST

/* A session made on one worker resumes on any (the master's ticket
 * keys); openssl s_client -sess_out / -sess_in. */
START_TEST(test_resume)
{
	struct td t;
	char sess[400], out[16384];
	const char *first[] = { "-sess_out", sess, "-ign_eof", NULL };
	const char *again[] = { "-sess_in", sess, "-ign_eof", NULL };

	td_start(&t);
	pd_path(&t.pd, "session.pem", sess, sizeof(sess));
	ck_assert_int_eq(tu_s_client(t.implicit, first, "QUIT\r\n", out,
	    sizeof(out)), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(tu_s_client(t.implicit, again, "QUIT\r\n",
		    out, sizeof(out)), 0);
		ck_assert_msg(strstr(out, "Reused, TLSv1.3") != NULL, "%s",
		    out);
	}
	ck_assert(pd_log_has(&t.pd, "resumed=yes", 5));
	td_stop(&t);
}
END_TEST

/* td_subject - the certificate that new connections get becomes want
 * (workers of the old generation leave when they notice the reload). */
static void
td_subject(struct td *t, const char *want)
{
	char subject[256] = "";
	int fd;

	for (int i = 0; i < 50; i++) {
		SSL *ssl = td_implicit(t->implicit, &fd, NULL, NULL);
		tu_tls_subject(ssl, subject, sizeof(subject));
		td_close(ssl, fd);
		if (strcmp(subject, want) == 0)
			return;
		du_sleep_ms(100);
	}
	ck_assert_str_eq(subject, want);
}

/* SIGHUP: new connections get the new certificate, a session opened
 * before finishes; a bad new pair keeps the old one serving. */
START_TEST(test_rotation)
{
	struct td t;
	char reply[512];
	int oldfd;

	td_start(&t);
	SSL *old = td_implicit(t.implicit, &oldfd, NULL, NULL);
	ck_assert_int_eq(tu_tls_cmd(old, "EHLO c", reply, sizeof(reply)), 250);
	td_config(&t, "new", "");
	ck_assert_int_eq(kill(t.pd.pid, SIGHUP), 0);
	ck_assert(pd_log_has(&t.pd, "reload done generation=1", 10));
	td_subject(&t, "/CN=new.test");
	/* the old session goes on, on its old worker */
	ck_assert_int_eq(tu_tls_cmd(old, "AUTH PLAIN AGFsaWNlAHllcy1zZWNyZXQ=",
	    reply, sizeof(reply)), 235);
	ck_assert_int_eq(tu_tls_cmd(old, "MAIL FROM:<a@example.org>", reply,
	    sizeof(reply)), 250);
	ck_assert_int_eq(tu_tls_cmd(old, "QUIT", reply, sizeof(reply)), 221);
	td_close(old, oldfd);
	/* a key that does not match: generation 1 keeps serving */
	char bad[400];
	pd_path(&t.pd, "mx.key", bad, sizeof(bad));
	ck_assert_int_eq(du_write_config(bad, "not a key\n"), 0);
	td_config(&t, "mx", "");
	ck_assert_int_eq(kill(t.pd.pid, SIGHUP), 0);
	ck_assert(pd_log_has(&t.pd, "keeping generation=1", 10));
	for (int i = 0; i < 5; i++)
		td_subject(&t, "/CN=new.test");
	td_stop(&t);
}
END_TEST

/* ---- what plugins see; client certificates; the password file ----- */

#define TTLS_PLUGIN TESTS_BUILDDIR "/tests/.libs/ttls.so"

/* The accessors of API 2, and a client certificate (tls.client_ca)
 * logged and shown to plugins. */
START_TEST(test_accessors_client_cert)
{
	struct td t;
	char plugins[600], tls[400], cert[400], key[400];
	char reply[512], out[16384];
	int fd;

	td_prepare(&t, 20);
	ck_assert_int_eq(tu_make_ca_client(t.pd.dir, "ca", "client.test"), 0);
	snprintf(plugins, sizeof(plugins), "{ name = \"passwd_file\"; "
	    "settings = { file = \"%s/passwd\"; }; }, { path = \"%s\"; }",
	    t.pd.dir, TTLS_PLUGIN);
	snprintf(tls, sizeof(tls), "client_ca = \"%s/ca.crt\";", t.pd.dir);
	t.plugins = plugins;
	t.tls_extra = tls;
	td_run(&t, "");
	/* plaintext: nothing */
	fd = smtp_connect(t.plain);
	ck_assert_int_eq(smtp_reply(fd, reply, sizeof(reply)), 220);
	ck_assert_int_eq(smtp_cmd(fd, "XTLS", reply, sizeof(reply)), 250);
	ck_assert_str_eq(reply, "250 tls=0 version=- cipher=- peer=- "
	    "verified=0 user=-\r\n");
	close(fd);
	/* TLS and AUTH, no certificate */
	SSL *ssl = td_implicit_ehlo(&t, &fd, reply, sizeof(reply));
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH PLAIN "
	    "AGFsaWNlAHllcy1zZWNyZXQ=", reply, sizeof(reply)), 235);
	ck_assert_int_eq(tu_tls_cmd(ssl, "XTLS", reply, sizeof(reply)), 250);
	ck_assert_msg(strstr(reply, "tls=1 version=TLSv1.3 cipher=TLS_") &&
	    strstr(reply, "peer=- verified=0 user=alice"), "%s", reply);
	td_close(ssl, fd);
	/* a client certificate signed by client_ca */
	tu_path(cert, sizeof(cert), t.pd.dir, "client", "crt");
	tu_path(key, sizeof(key), t.pd.dir, "client", "key");
	const char *opts[] = { "-cert", cert, "-key", key, "-quiet",
	    "-verify_quiet", "-ign_eof", NULL };
	ck_assert_int_eq(tu_s_client(t.implicit, opts, "XTLS\r\nQUIT\r\n",
	    out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "peer=/CN=client.test verified=1 user=-"),
	    "%s", out);
	ck_assert(pd_log_has(&t.pd, "client_cert=\"/CN=client.test\" "
	    "verified=yes", 5));
	td_stop(&t);
}
END_TEST

/* Without an authenticator there is no AUTH, even under TLS. */
START_TEST(test_no_authenticator)
{
	struct td t;
	char plugins[300], reply[512];
	int fd;

	td_prepare(&t, 20);
	snprintf(plugins, sizeof(plugins), "{ path = \"%s\"; }", TTLS_PLUGIN);
	t.plugins = plugins;
	td_run(&t, "");
	SSL *ssl = td_implicit_ehlo(&t, &fd, reply, sizeof(reply));
	ck_assert_msg(strstr(reply, "AUTH") == NULL, "%s", reply);
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH PLAIN", reply, sizeof(reply)),
	    500);
	td_close(ssl, fd);
	td_stop(&t);
}
END_TEST

/* passwd_file: a malformed line is an error at -t with the file and
 * the line; the file is read again on SIGHUP. */
START_TEST(test_passwd_file)
{
	struct td t;
	struct su_buf out = { 0 };
	char path[400], conf[400], hash[256], reply[512];
	int fd;

	td_start(&t);
	pd_path(&t.pd, "bad.passwd", path, sizeof(path));
	ck_assert_int_eq(du_write_config(path, "# ok\nalice:$6$x$y\n"
	    "bob\n"), 0);
	pd_path(&t.pd, "bad.conf", conf, sizeof(conf));
	ck_assert_int_eq(du_write_config(conf, "plugins = ( { name = "
	    "\"passwd_file\"; settings = { file = \"%s\"; }; } );\n",
	    path), 0);
	const char *args[] = { "-t", "-C", conf, NULL };
	ck_assert_int_eq(du_run(args, &out), 1);
	ck_assert_msg(strstr(out.p, "bad.passwd:3: malformed line") != NULL,
	    "%s", out.p);
	free(out.p);
	/* a new user, after a reload */
	pd_path(&t.pd, "passwd", path, sizeof(path));
	td_hash("$y$", "new-secret", hash, sizeof(hash));
	ck_assert_int_eq(du_write_config(path, "dora:%s\n", hash), 0);
	ck_assert_int_eq(kill(t.pd.pid, SIGHUP), 0);
	ck_assert(pd_log_has(&t.pd, "reload done generation=1", 10));
	for (int i = 0; i < 50; i++) {
		SSL *ssl = td_implicit_ehlo(&t, &fd, reply, sizeof(reply));
		/* dora:new-secret */
		int code = tu_tls_cmd(ssl, "AUTH PLAIN AGRvcmEAbmV3LXNlY3JldA==",
		    reply, sizeof(reply));
		td_close(ssl, fd);
		if (code == 235)
			break;
		ck_assert_int_lt(i, 49);
	}
	td_stop(&t);
}
END_TEST

/* ---- Dovecot as the authenticator ------------------------------------ */

/* dv_start - a real Dovecot with its own base_dir, a passwd-file passdb
 * (dave:dv-secret) and an auth-client socket; its pid, or -1 with why. */
static pid_t
dv_start(const char *dir, char *why, size_t size)
{
	char conf[400], log[400], sock[400], users[400];
	struct du_opts o = { .deathsig = SIGKILL };
	pid_t pid;

	snprintf(conf, sizeof(conf), "%s/dovecot.conf", dir);
	snprintf(users, sizeof(users), "%s/dovecot.users", dir);
	snprintf(log, sizeof(log), "%s/dovecot.log", dir);
	snprintf(sock, sizeof(sock), "%s/dv/auth-client", dir);
	ck_assert_int_eq(du_write_config(users, "dave:{PLAIN}dv-secret\n"), 0);
	ck_assert_int_eq(du_write_config(conf,
	    "base_dir = %s/dv\nstate_dir = %s/dvstate\nlog_path = %s\n"
	    "protocols =\nssl = no\nauth_mechanisms = plain login\n"
	    "disable_plaintext_auth = no\n"
	    "default_internal_user = root\ndefault_login_user = root\n"
	    "default_internal_group = root\n"
	    "passdb {\n  driver = passwd-file\n  args = %s\n}\n"
	    "userdb {\n  driver = static\n  args = uid=0 gid=0 home=%s\n}\n"
	    "service auth {\n  unix_listener auth-client {\n"
	    "    mode = 0666\n  }\n}\n", dir, dir, log, users, dir), 0);
	const char *argv[] = { "/usr/sbin/dovecot", "-F", "-c", conf, NULL };
	if (access(argv[0], X_OK) != 0) {
		snprintf(why, size, "%s is not installed", argv[0]);
		return -1;
	}
	if ((pid = du_spawn(argv, log, log, &o)) < 0) {
		snprintf(why, size, "cannot fork");
		return -1;
	}
	for (int i = 0; i < 100 && access(sock, F_OK) != 0; i++)
		du_sleep_ms(50);
	if (access(sock, F_OK) == 0)
		return pid;
	du_kill_wait(pid, 5000);
	snprintf(why, size, "dovecot did not start (see %s)", log);
	return -1;
}

START_TEST(test_dovecot)
{
	struct td t;
	char why[512], plugins[600], reply[512];
	pid_t dv;
	int fd;

	if (getuid() != 0)
		CHECK_SKIP("dovecot needs root to start here");
	td_prepare(&t, 20);
	if ((dv = dv_start(t.pd.dir, why, sizeof(why))) < 0) {
		pd_cleanup(&t.pd);
		CHECK_SKIP("%s", why);
	}
	snprintf(plugins, sizeof(plugins), "{ name = \"dovecot_auth\"; "
	    "settings = { socket = \"%s/dv/auth-client\"; timeout = 10; }; }",
	    t.pd.dir);
	t.plugins = plugins;
	td_run(&t, "");
	SSL *ssl = td_implicit_ehlo(&t, &fd, reply, sizeof(reply));
	/* dave:wrong, then LOGIN dave:dv-secret */
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH PLAIN AGRhdmUAd3Jvbmc=", reply,
	    sizeof(reply)), 535);
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH LOGIN ZGF2ZQ==", reply,
	    sizeof(reply)), 334);
	ck_assert_int_eq(tu_tls_cmd(ssl, "ZHYtc2VjcmV0", reply,
	    sizeof(reply)), 235);
	ck_assert_int_eq(tu_tls_cmd(ssl, "MAIL FROM:<a@example.org>", reply,
	    sizeof(reply)), 250);
	td_close(ssl, fd);
	ck_assert(pd_log_has(&t.pd, "user=\"dave\" result=ok", 5));
	/* Dovecot gone: a temporary failure, not a wrong password */
	du_kill_wait(dv, 5000);
	ssl = td_implicit_ehlo(&t, &fd, reply, sizeof(reply));
	ck_assert_int_eq(tu_tls_cmd(ssl, "AUTH PLAIN AGRhdmUAZHYtc2VjcmV0",
	    reply, sizeof(reply)), 454);
	td_close(ssl, fd);
	td_stop(&t);
}
END_TEST

/* ---- Postfix as a real MTA submitting through psmtpd --------------- */

#define PF_SCRIPT TESTS_SRCDIR "/postfix-instance.sh"

/* pf_run - the Postfix script with its arguments; its exit status. */
static int
pf_run(const char *cmd, const char *dir, const char *arg)
{
	char line[1024];

	snprintf(line, sizeof(line), "%s %s %s %s", PF_SCRIPT, cmd, dir, arg);
	int st = system(line);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* pf_tls_sasl - the private Postfix's smtp client: TLS required (with
 * tlsmgr), SASL PLAIN as alice, then a reload to read it. */
static int
pf_tls_sasl(const char *dir)
{
	char conf[300], cmd[400];
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/main.cf", dir);
	if ((f = fopen(conf, "a")) == NULL)
		return -1;
	fprintf(f, "smtp_tls_security_level = encrypt\n"
	    "smtp_tls_loglevel = 1\n"
	    "smtp_sasl_auth_enable = yes\n"
	    "smtp_sasl_password_maps = static:alice:yes-secret\n"
	    "smtp_sasl_security_options = noanonymous\n"
	    "smtp_sasl_tls_security_options = noanonymous\n");
	if (fclose(f) != 0)
		return -1;
	/* the smtp client's TLS needs tlsmgr (its PRNG seed, its cache) */
	snprintf(conf, sizeof(conf), "%s/master.cf", dir);
	if ((f = fopen(conf, "a")) == NULL)
		return -1;
	fprintf(f, "tlsmgr    unix  -       -       n       1000?   1       "
	    "tlsmgr\n");
	if (fclose(f) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "postfix -c %s reload >/dev/null 2>&1", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Postfix relays to the submission listener: STARTTLS (encrypt), AUTH
 * PLAIN, the message accepted. */
START_TEST(test_postfix)
{
	struct td t;
	char dir[] = "/tmp/check_tls_pf.XXXXXX", arg[128], log[300];
	int st;

	td_start(&t);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(arg, sizeof(arg), "'smtp:[127.0.0.1]:%d'", t.submission);
	if ((st = pf_run("start", dir, arg)) != 0) {
		pf_run("stop", dir, "");
		td_stop(&t);
		du_rmtree(dir);
		CHECK_SKIP("a private Postfix cannot start here (%d)", st);
	}
	/* Postfix is stopped before any assertion can end the test */
	bool ready = pf_tls_sasl(dir) == 0;
	du_sleep_ms(500);
	bool queued = ready && pf_run("send", dir, "a@example.org "
	    "b@example.org <<'EOM'\nSubject: via postfix\n\nhello over TLS"
	    "\nEOM") == 0;
	snprintf(log, sizeof(log), "%s/maillog", dir);
	bool sent = queued && du_file_has(log, "status=sent (250 OK)", 20000);
	char *maillog = du_slurp(log);
	pf_run("stop", dir, "");
	ck_assert(ready && queued);
	ck_assert_ptr_nonnull(maillog);
	size_t n = strlen(maillog);
	const char *tail = maillog + (n > 1500 ? n - 1500 : 0);
	ck_assert_msg(sent, "%s", tail);
	ck_assert_msg(strstr(maillog, "TLS connection established to") !=
	    NULL, "%s", tail);
	free(maillog);
	ck_assert(pd_log_has(&t.pd, "mechanism=PLAIN user=\"alice\" "
	    "result=ok", 5));
	ck_assert(pd_log_has(&t.pd, "messages=1", 5));
	du_rmtree(dir);
	td_stop(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tls_daemon");
	TCase *tc = tcase_create("tls");

	signal(SIGPIPE, SIG_IGN);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_openssl_starttls);
	tcase_add_test(tc, test_openssl_implicit);
	tcase_add_test(tc, test_starttls_injection);
	tcase_add_test(tc, test_starttls_replies);
	tcase_add_test(tc, test_require_tls);
	tcase_add_test(tc, test_auth_exchange);
	tcase_add_test(tc, test_auth_timeout);
	tcase_add_test(tc, test_auth_failures);
	tcase_add_test(tc, test_swaks);
	tcase_add_test(tc, test_smtplib);
	tcase_add_test(tc, test_proxy_then_tls);
	tcase_add_test(tc, test_garbage_and_stall);
	tcase_add_test(tc, test_wrong_key);
	tcase_add_test(tc, test_resume);
	tcase_add_test(tc, test_rotation);
	tcase_add_test(tc, test_accessors_client_cert);
	tcase_add_test(tc, test_no_authenticator);
	tcase_add_test(tc, test_passwd_file);
	tcase_add_test(tc, test_dovecot);
	tcase_add_test(tc, test_postfix);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
