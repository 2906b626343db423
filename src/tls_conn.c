/*
 * tls_conn.c - one connection's TLS, in a worker: the handshake under a
 * deadline, non-blocking reads and writes for io.c, what the log line
 * and the plugins learn of it.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "io.h"
#include "log.h"
#include "tls.h"
#include "tls_int.h"

struct tls_conn {
	SSL *ssl;
	int fd;
};

struct tls_conn *
tls_conn_new(struct tls_server *ts, int fd, char *err, size_t errlen)
{
	struct tls_conn *c = calloc(1, sizeof(*c));
	int fl = fcntl(fd, F_GETFL), one = 1;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		free(c);
		return NULL;
	}
	/* TLS writes come in several records (the handshake's last flight,
	 * the session tickets, then a reply): without TCP_NODELAY the reply
	 * waits for the client's delayed ACK of the tickets, 40 ms. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ERR_clear_error();
	c->fd = fd;
	if ((c->ssl = SSL_new(ts->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, fd) != 1) {
		tls_error(err, errlen, "SSL_new");
		SSL_free(c->ssl);
		free(c);
		return NULL;
	}
	SSL_set_accept_state(c->ssl);
	return c;
}

/* tls_conn_want - what an SSL call's result asks for: 0 done, POLLIN or
 * POLLOUT to wait, -1 an error (errno set; EPROTO for TLS, 0 -> EOF
 * by SSL_ERROR_ZERO_RETURN is the caller's). */
static int
tls_conn_want(struct tls_conn *c, int rc, int *sslerr)
{
	*sslerr = SSL_get_error(c->ssl, rc);
	switch (*sslerr) {
	case SSL_ERROR_NONE:
		return 0;
	case SSL_ERROR_WANT_READ:
		return POLLIN;
	case SSL_ERROR_WANT_WRITE:
		return POLLOUT;
	case SSL_ERROR_SYSCALL:
		if (errno == 0)
			errno = EPIPE;
		return -1;
	default:
		errno = EPROTO;
		return -1;
	}
}

int
tls_conn_handshake(struct tls_conn *c, long long deadline, char *err,
    size_t errlen)
{
	int sslerr;

	for (;;) {
		ERR_clear_error();
		int rc = SSL_do_handshake(c->ssl);
		int want = tls_conn_want(c, rc, &sslerr);
		if (want == 0)
			return 0;
		if (want == -1) {
			if (sslerr == SSL_ERROR_ZERO_RETURN)
				snprintf(err, errlen, "eof");
			else if (sslerr == SSL_ERROR_SYSCALL)
				snprintf(err, errlen, "%s", errno == EPIPE ?
				    "eof" : strerror(errno));
			else
				tls_error(err, errlen, "handshake");
			return -1;
		}
		enum io_status st = io_poll(c->fd, (short)want, deadline);
		if (st == IO_INTR)
			continue;
		if (st != IO_OK) {
			snprintf(err, errlen, "%s", st == IO_TIMEOUT ?
			    "timeout" : strerror(errno));
			return -1;
		}
	}
}

/* tls_conn_result - recv/send's answer for an SSL call that moved
 * nothing. */
static ssize_t
tls_conn_result(struct tls_conn *c, int rc, short *events)
{
	int sslerr, want = tls_conn_want(c, rc, &sslerr);

	if (sslerr == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (want > 0) {
		*events = (short)want;
		errno = EAGAIN;
		return -1;
	}
	if (errno == EPROTO && log_enabled(LOG_DEBUG)) {
		char why[256];
		tls_error(why, sizeof(why), "tls");
		log_debug("%s", why);
		errno = EPROTO;
	}
	ERR_clear_error();
	return -1;
}

ssize_t
tls_conn_recv(struct tls_conn *c, void *buf, size_t len, short *events)
{
	size_t n;
	int rc;

	ERR_clear_error();
	if ((rc = SSL_read_ex(c->ssl, buf, len, &n)) == 1)
		return (ssize_t)n;
	return tls_conn_result(c, rc, events);
}

ssize_t
tls_conn_send(struct tls_conn *c, const void *buf, size_t len,
    short *events)
{
	size_t n;
	int rc;

	ERR_clear_error();
	if ((rc = SSL_write_ex(c->ssl, buf, len, &n)) == 1)
		return (ssize_t)n;
	return tls_conn_result(c, rc, events);
}

/* tls_conn_subject - the client certificate's subject, one line. */
static void
tls_conn_subject(const struct tls_conn *c, struct tls_info *info)
{
	X509 *peer = SSL_get0_peer_certificate(c->ssl);

	if (peer == NULL)
		return;
	X509_NAME_oneline(X509_get_subject_name(peer), info->peer_subject,
	    sizeof(info->peer_subject));
	info->peer_verified = SSL_get_verify_result(c->ssl) == X509_V_OK;
}

/* tls_conn_printable - what the client chose (its SNI, its subject)
 * goes into log lines: no control bytes there. */
static void
tls_conn_printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

void
tls_conn_info(const struct tls_conn *c, struct tls_info *info)
{
	const char *sni = SSL_get_servername(c->ssl,
	    TLSEXT_NAMETYPE_host_name);

	memset(info, 0, sizeof(*info));
	snprintf(info->version, sizeof(info->version), "%s",
	    SSL_get_version(c->ssl));
	snprintf(info->cipher, sizeof(info->cipher), "%s",
	    SSL_get_cipher_name(c->ssl));
	snprintf(info->sni, sizeof(info->sni), "%s", sni != NULL ? sni : "");
	info->resumed = SSL_session_reused(c->ssl) == 1;
	tls_conn_subject(c, info);
	tls_conn_printable(info->sni);
	tls_conn_printable(info->peer_subject);
}

void
tls_conn_free(struct tls_conn *c)
{
	if (c == NULL)
		return;
	/* best effort: a peer that does not read it loses nothing */
	ERR_clear_error();
	if (SSL_is_init_finished(c->ssl))
		SSL_shutdown(c->ssl);
	ERR_clear_error();
	SSL_free(c->ssl);
	free(c);
}
