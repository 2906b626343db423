/*
 * check_tls.c - the TLS module on its own: names and SNI patterns (pure),
 * loading and checking certificates and keys, and real handshakes over a
 * socket pair against an OpenSSL client: lines through io.c, garbage
 * instead of a ClientHello, a stalled handshake, SNI, client
 * certificates, and a session resumed in another process.
 */
#include "autoconfig.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.h"
#include "io.h"
#include "tests/check_run.h"
#include "tests/tls_util.h"
#include "tls.h"

static char dir[64];
static char crt[256], key[256], crt2[256], key2[256], ca[256];
static char ccrt[256], ckey[256];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_tls.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(tu_make_cert(dir, "mx", "mx.test"), 0);
	ck_assert_int_eq(tu_make_cert(dir, "other", "other.test"), 0);
	ck_assert_int_eq(tu_make_ca_client(dir, "ca", "client.test"), 0);
	tu_path(crt, sizeof(crt), dir, "mx", "crt");
	tu_path(key, sizeof(key), dir, "mx", "key");
	tu_path(crt2, sizeof(crt2), dir, "other", "crt");
	tu_path(key2, sizeof(key2), dir, "other", "key");
	tu_path(ca, sizeof(ca), dir, "ca", "crt");
	tu_path(ccrt, sizeof(ccrt), dir, "client", "crt");
	tu_path(ckey, sizeof(ckey), dir, "client", "key");
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* ---- pure ------------------------------------------------------------ */

static const struct {
	const char *name;
	int version;
} protocols[] = {
	{ "TLSv1.2", TLS1_2_VERSION }, { "TLSv1.3", TLS1_3_VERSION },
	{ "TLSv1", TLS1_VERSION }, { "TLSv1.1", TLS1_1_VERSION },
	{ "tlsv1.2", -1 }, { "SSLv3", -1 }, { "", -1 }, { "TLSv1.4", -1 },
};

START_TEST(test_protocol)
{
	ck_assert_int_eq(tls_protocol_from_name(protocols[_i].name),
	    protocols[_i].version);
}
END_TEST

static const struct {
	const char *pattern, *name;
	bool match;
} names[] = {
	{ "mx.example.org", "mx.example.org", true },
	{ "mx.example.org", "MX.Example.ORG", true },
	{ "mx.example.org", "mx.example.org.evil", false },
	{ "*.example.org", "mx.example.org", true },
	{ "*.example.org", "example.org", false },
	{ "*.example.org", "a.b.example.org", false },
	{ "*.example.org", ".example.org", false },
	{ "*.example.org", "mxexample.org", false },
	{ "*", "anything", false },
};

START_TEST(test_name)
{
	ck_assert_int_eq(tls_name_matches(names[_i].pattern, names[_i].name),
	    names[_i].match);
}
END_TEST

/* ---- loading --------------------------------------------------------- */

/* load - tls_server_new with a pair; the error (or "") in err. */
static struct tls_server *
load(const char *c, const char *k, const char *min, const char *ciphers,
    char *err, size_t errlen)
{
	struct config_tls set = { .certificate = (char *)c, .key = (char *)k,
	    .min_protocol = (char *)min, .ciphers = (char *)ciphers };

	return tls_server_new(&set, err, errlen);
}

START_TEST(test_load_good)
{
	char err[512];
	struct tls_server *ts = load(crt, key, NULL, NULL, err, sizeof(err));

	ck_assert_msg(ts != NULL, "%s", err);
	tls_server_free(ts);
}
END_TEST

/* Each bad setting: the message names the setting and the file. */
START_TEST(test_load_bad)
{
	char err[512], missing[300];
	struct tls_server *ts;

	ts = load(crt, key2, NULL, NULL, err, sizeof(err));
	ck_assert_ptr_null(ts);
	ck_assert_msg(strstr(err, "tls.key") && strstr(err, key2) &&
	    strstr(err, "does not match"), "%s", err);

	snprintf(missing, sizeof(missing), "%s/nope.crt", dir);
	ts = load(missing, key, NULL, NULL, err, sizeof(err));
	ck_assert_ptr_null(ts);
	ck_assert_msg(strstr(err, "tls.certificate") && strstr(err, missing)
	    && strstr(err, "No such file"), "%s", err);

	ts = load(key, key, NULL, NULL, err, sizeof(err));
	ck_assert_ptr_null(ts);
	ck_assert_msg(strstr(err, "tls.certificate") && strstr(err, key),
	    "%s", err);

	ts = load(crt, crt, NULL, NULL, err, sizeof(err));
	ck_assert_ptr_null(ts);
	ck_assert_msg(strstr(err, "tls.key") && strstr(err, crt), "%s", err);

	ts = load(crt, key, "TLSv9", NULL, err, sizeof(err));
	ck_assert_ptr_null(ts);
	ck_assert_msg(strstr(err, "tls.min_protocol") != NULL, "%s", err);

	ts = load(crt, key, NULL, "NO-SUCH-CIPHER", err, sizeof(err));
	ck_assert_ptr_null(ts);
	ck_assert_msg(strstr(err, "tls.ciphers") != NULL, "%s", err);
}
END_TEST

START_TEST(test_load_sni_bad)
{
	struct config_tls_sni sni[] = {
		{ (char *)"other.test", crt2, key2 },
		{ (char *)"bad.test", crt2, key },
	};
	struct config_tls set = { .certificate = crt, .key = key,
	    .sni = sni, .nsni = 2 };
	char err[512];
	struct tls_server *ts = tls_server_new(&set, err, sizeof(err));

	ck_assert_ptr_null(ts);
	ck_assert_msg(strstr(err, "tls.sni.[1].key") && strstr(err, key),
	    "%s", err);
}
END_TEST

/* ---- handshakes ------------------------------------------------------ */

struct client {
	const char *sni;	/* NULL: none */
	bool cert;		/* present the client certificate */
	SSL_SESSION *resume;	/* NULL: a full handshake */
	SSL_SESSION *got;	/* the session afterwards */
	char subject[256];	/* the server certificate's */
	bool reused;
};

/* client_run - an OpenSSL client on fd: handshake, send a line, read the
 * server's line (which also takes in TLS 1.3 tickets).  0 or -1. */
static int
client_run(int fd, struct client *cl)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	char buf[128];
	int rc = -1;

	if (cl->cert && (SSL_use_certificate_file(ssl, ccrt,
	    SSL_FILETYPE_PEM) != 1 || SSL_use_PrivateKey_file(ssl, ckey,
	    SSL_FILETYPE_PEM) != 1))
		goto out;
	SSL_set_fd(ssl, fd);
	if (cl->sni != NULL)
		SSL_set_tlsext_host_name(ssl, cl->sni);
	if (cl->resume != NULL)
		SSL_set_session(ssl, cl->resume);
	if (SSL_connect(ssl) != 1 || SSL_write(ssl, "hello\r\n", 7) != 7 ||
	    SSL_read(ssl, buf, sizeof(buf)) <= 0)
		goto out;
	X509_NAME_oneline(X509_get_subject_name(
	    SSL_get0_peer_certificate(ssl)), cl->subject,
	    sizeof(cl->subject));
	cl->reused = SSL_session_reused(ssl) == 1;
	cl->got = SSL_get1_session(ssl);
	SSL_shutdown(ssl);
	rc = 0;
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return rc;
}

/* server_run - the server side as the channel runs it: handshake, a
 * line through io.c, a reply.  0, or -1 with why in err. */
static int
server_run(struct tls_server *ts, int fd, struct tls_info *info,
    char *err, size_t errlen, int timeout)
{
	struct io *io = malloc(sizeof(*io));
	char line[64];
	size_t len;
	int rc = -1;

	io_init(io, fd);
	if ((io->tls = tls_conn_new(ts, fd, err, errlen)) == NULL)
		goto out;
	if (tls_conn_handshake(io->tls, io_deadline(timeout), err,
	    errlen) != 0)
		goto out;
	tls_conn_info(io->tls, info);
	if (io_read_line(io, line, sizeof(line) - 1, &len, 5) != IO_OK ||
	    strcmp(line, "hello") != 0) {
		snprintf(err, errlen, "read: '%s'", line);
		goto out;
	}
	if (io_write(io, "250 hi\r\n", 8, 5) != IO_OK ||
	    io_flush(io, 5) != IO_OK) {
		snprintf(err, errlen, "write");
		goto out;
	}
	rc = 0;
out:
	tls_conn_free(io->tls);
	free(io);
	return rc;
}

/* pair_run - one session: the server in a forked child (a worker), the
 * client here.  The child's exit status says whether its side went well. */
static void
pair_run(struct tls_server *ts, struct client *cl, struct tls_info *info)
{
	int sv[2], status, ip[2];
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(pipe(ip), 0);
	if ((pid = fork()) == 0) {
		char err[256] = "";
		struct tls_info mine;
		close(sv[0]);
		int rc = server_run(ts, sv[1], &mine, err, sizeof(err), 5);
		if (rc != 0)
			fprintf(stderr, "server: %s\n", err);
		if (write(ip[1], &mine, sizeof(mine)) != sizeof(mine))
			rc = -1;
		_exit(rc == 0 ? 0 : 1);
	}
	close(sv[1]);
	close(ip[1]);
	ck_assert_int_eq(client_run(sv[0], cl), 0);
	close(sv[0]);
	ck_assert_int_eq(read(ip[0], info, sizeof(*info)), sizeof(*info));
	close(ip[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
}

static struct tls_server *
server_with(const char *client_ca)
{
	static struct config_tls_sni sni[1];
	struct config_tls set = { .certificate = crt, .key = key,
	    .client_ca = (char *)client_ca, .sni = sni, .nsni = 1 };
	char err[512];
	struct tls_server *ts;

	sni[0] = (struct config_tls_sni){ (char *)"*.other.test", crt2,
	    key2 };
	ts = tls_server_new(&set, err, sizeof(err));
	ck_assert_msg(ts != NULL, "%s", err);
	return ts;
}

START_TEST(test_handshake)
{
	struct tls_server *ts = server_with(NULL);
	struct client cl = { 0 };
	struct tls_info info;

	pair_run(ts, &cl, &info);
	ck_assert_str_eq(info.version, "TLSv1.3");
	ck_assert_str_ne(info.cipher, "");
	ck_assert_str_eq(info.peer_subject, "");
	ck_assert(!info.resumed);
	ck_assert_str_eq(cl.subject, "/CN=mx.test");
	SSL_SESSION_free(cl.got);
	tls_server_free(ts);
}
END_TEST

/* Tickets: a session made with one worker resumes with another. */
START_TEST(test_resume)
{
	struct tls_server *ts = server_with(NULL);
	struct client first = { 0 }, again = { 0 };
	struct tls_info info;

	pair_run(ts, &first, &info);
	ck_assert_ptr_nonnull(first.got);
	again.resume = first.got;
	pair_run(ts, &again, &info);
	ck_assert(again.reused);
	ck_assert(info.resumed);
	SSL_SESSION_free(first.got);
	SSL_SESSION_free(again.got);
	tls_server_free(ts);
}
END_TEST

START_TEST(test_sni)
{
	struct tls_server *ts = server_with(NULL);
	struct client cl = { .sni = "mail.other.test" };
	struct client plain = { .sni = "unknown.test" };
	struct tls_info info;

	pair_run(ts, &cl, &info);
	ck_assert_str_eq(cl.subject, "/CN=other.test");
	ck_assert_str_eq(info.sni, "mail.other.test");
	pair_run(ts, &plain, &info);
	ck_assert_str_eq(plain.subject, "/CN=mx.test");
	SSL_SESSION_free(cl.got);
	SSL_SESSION_free(plain.got);
	tls_server_free(ts);
}
END_TEST

START_TEST(test_client_cert)
{
	struct tls_server *ts = server_with(ca);
	struct client cl = { .cert = true }, none = { 0 };
	struct tls_info info;

	pair_run(ts, &cl, &info);
	ck_assert_str_eq(info.peer_subject, "/CN=client.test");
	ck_assert(info.peer_verified);
	pair_run(ts, &none, &info);
	ck_assert_str_eq(info.peer_subject, "");
	ck_assert(!info.peer_verified);
	SSL_SESSION_free(cl.got);
	SSL_SESSION_free(none.got);
	tls_server_free(ts);
}
END_TEST

/* handshake_with - the server's handshake against raw bytes from the
 * client side (NULL: nothing at all); its error text. */
static int
handshake_with(const char *bytes, int timeout, char *err, size_t errlen)
{
	struct tls_server *ts = server_with(NULL);
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (bytes != NULL)
		ck_assert_int_eq(write(sv[0], bytes, strlen(bytes)),
		    (ssize_t)strlen(bytes));
	struct tls_conn *c = tls_conn_new(ts, sv[1], err, errlen);
	ck_assert_ptr_nonnull(c);
	int rc = tls_conn_handshake(c, io_deadline(timeout), err, errlen);
	tls_conn_free(c);
	close(sv[0]);
	close(sv[1]);
	tls_server_free(ts);
	return rc;
}

START_TEST(test_garbage)
{
	char err[256];

	ck_assert_int_eq(handshake_with("EHLO client.test\r\n", 5, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "handshake") != NULL, "%s", err);
}
END_TEST

START_TEST(test_stalled)
{
	char err[256];

	ck_assert_int_eq(handshake_with(NULL, 1, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "timeout");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tls");
	TCase *pure = tcase_create("pure");
	TCase *tc = tcase_create("tls");

	tcase_add_loop_test(pure, test_protocol, 0,
	    sizeof(protocols) / sizeof(protocols[0]));
	tcase_add_loop_test(pure, test_name, 0, sizeof(names) /
	    sizeof(names[0]));
	suite_add_tcase(s, pure);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_load_good);
	tcase_add_test(tc, test_load_bad);
	tcase_add_test(tc, test_load_sni_bad);
	tcase_add_test(tc, test_handshake);
	tcase_add_test(tc, test_resume);
	tcase_add_test(tc, test_sni);
	tcase_add_test(tc, test_client_cert);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_stalled);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
