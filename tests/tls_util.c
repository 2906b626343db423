/*
 * tls_util.c - certificates and real clients for the TLS tests; see
 * tls_util.h.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tests/tls_util.h"

const char *
tu_path(char *buf, size_t size, const char *dir, const char *name,
    const char *ext)
{
	snprintf(buf, size, "%s/%s.%s", dir, name, ext);
	return buf;
}

/* tu_now_ms - a monotonic clock. */
static long long
tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* tu_child - in the child: stdin from the pipe, output to the other. */
__attribute__((noreturn)) static void
tu_child(const char *const *argv, int in[2], int out[2])
{
	if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
		_exit(126);
	close(in[1]);
	close(out[0]);
	execvp(argv[0], (char *const *)argv);
	_exit(127);
}

/* tu_collect - read the child's output until EOF or the deadline. */
static int
tu_collect(int fd, char *out, size_t size, long long end)
{
	size_t len = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = end - tu_now_ms();
		char sink[4096];
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		ssize_t n = len + 1 < size ? read(fd, out + len,
		    size - 1 - len) : read(fd, sink, sizeof(sink));
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0 && len + 1 < size) {
			len += (size_t)n;
			out[len] = '\0';
		}
	}
}

int
tu_run(const char *const *argv, const char *in, char *out, size_t size,
    int timeout_s)
{
	int pin[2], pout[2], status, rc;
	pid_t pid;

	if (size > 0)
		out[0] = '\0';
	if (pipe(pin) != 0)
		return -1;
	if (pipe(pout) != 0) {
		close(pin[0]);
		close(pin[1]);
		return -1;
	}
	if ((pid = fork()) == 0)
		tu_child(argv, pin, pout);
	close(pin[0]);
	close(pout[1]);
	signal(SIGPIPE, SIG_IGN);
	if (in != NULL && write(pin[1], in, strlen(in)) < 0)
		perror("tu_run: write");
	close(pin[1]);
	rc = pid > 0 ? tu_collect(pout[0], out, size,
	    tu_now_ms() + timeout_s * 1000LL) : -1;
	close(pout[0]);
	if (pid <= 0)
		return -1;
	if (rc != 0)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid || rc != 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
tu_have(const char *prog)
{
	const char *argv[] = { "sh", "-c", "command -v \"$0\"", prog, NULL };
	char out[512];

	return tu_run(argv, NULL, out, sizeof(out), 10) == 0;
}

/* tu_openssl - run openssl with args; 0 or -1 (its output printed). */
static int
tu_openssl(const char *const *argv)
{
	char out[4096];

	if (tu_run(argv, NULL, out, sizeof(out), 30) == 0)
		return 0;
	fprintf(stderr, "tu: %s %s failed: %s\n", argv[0], argv[1], out);
	return -1;
}

int
tu_make_cert(const char *dir, const char *name, const char *cn)
{
	char crt[512], key[512], subj[300], san[300];

	snprintf(subj, sizeof(subj), "/CN=%s", cn);
	snprintf(san, sizeof(san), "subjectAltName=DNS:%s", cn);
	const char *argv[] = { "openssl", "req", "-x509", "-newkey", "ec",
	    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
	    "-keyout", tu_path(key, sizeof(key), dir, name, "key"),
	    "-out", tu_path(crt, sizeof(crt), dir, name, "crt"),
	    "-subj", subj, "-days", "2", "-addext", san, NULL };
	return tu_openssl(argv);
}

int
tu_make_ca_client(const char *dir, const char *name, const char *client_cn)
{
	char ca[512], cakey[512], csr[512], crt[512], key[512], subj[300];

	if (tu_make_cert(dir, name, "ca.psmtpd.test") != 0)
		return -1;
	snprintf(subj, sizeof(subj), "/CN=%s", client_cn);
	const char *req[] = { "openssl", "req", "-new", "-newkey", "ec",
	    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
	    "-keyout", tu_path(key, sizeof(key), dir, "client", "key"),
	    "-out", tu_path(csr, sizeof(csr), dir, "client", "csr"),
	    "-subj", subj, NULL };
	const char *sign[] = { "openssl", "x509", "-req", "-in", csr,
	    "-CA", tu_path(ca, sizeof(ca), dir, name, "crt"),
	    "-CAkey", tu_path(cakey, sizeof(cakey), dir, name, "key"),
	    "-CAcreateserial", "-days", "2",
	    "-out", tu_path(crt, sizeof(crt), dir, "client", "crt"), NULL };
	return tu_openssl(req) == 0 && tu_openssl(sign) == 0 ? 0 : -1;
}

/* ---- an SMTP client over TLS ---------------------------------------- */

int
tu_dial(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	struct timeval tv = { 10, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

SSL *
tu_tls_connect(int fd, const char *sni, SSL_SESSION *sess)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx != NULL ? SSL_new(ctx) : NULL;

	SSL_CTX_free(ctx);	/* the SSL holds a reference */
	if (ssl == NULL)
		return NULL;
	SSL_set_fd(ssl, fd);
	if (sni != NULL)
		SSL_set_tlsext_host_name(ssl, sni);
	if (sess != NULL)
		SSL_set_session(ssl, sess);
	if (SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

/* tu_final - the code of the reply that buf ends with, or -1 when the
 * last line of a reply has not come yet. */
static int
tu_final(const char *buf, size_t n)
{
	size_t start;

	if (n < 2 || buf[n - 2] != '\r' || buf[n - 1] != '\n')
		return -1;
	for (start = n - 2; start > 0 && buf[start - 1] != '\n'; start--)
		;
	if (n - start < 4 || buf[start + 3] != ' ')
		return -1;
	return atoi(buf + start);
}

int
tu_tls_cmd(SSL *ssl, const char *line, char *reply, size_t size)
{
	char out[1024];
	size_t n = 0;
	int code;

	if (line != NULL) {
		int len = snprintf(out, sizeof(out), "%s\r\n", line);
		if (SSL_write(ssl, out, len) != len)
			return -1;
	}
	reply[0] = '\0';
	while (n + 1 < size) {
		int r = SSL_read(ssl, reply + n, (int)(size - 1 - n));
		if (r <= 0)
			return -1;
		n += (size_t)r;
		reply[n] = '\0';
		if ((code = tu_final(reply, n)) >= 0)
			return code;
	}
	return -1;
}

void
tu_tls_subject(SSL *ssl, char *buf, size_t size)
{
	X509 *x = SSL_get0_peer_certificate(ssl);

	buf[0] = '\0';
	if (x != NULL)
		X509_NAME_oneline(X509_get_subject_name(x), buf, (int)size);
}

void
tu_tls_close(SSL *ssl)
{
	if (ssl == NULL)
		return;
	SSL_shutdown(ssl);
	SSL_free(ssl);
}
