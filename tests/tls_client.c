/*
 * tls_client.c - an SMTP client over TLS (OpenSSL) for the daemon tests;
 * see tls_util.h.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tests/daemon_util.h"
#include "tests/tls_util.h"

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

int
tu_tls_cmd(SSL *ssl, const char *line, char *reply, size_t size)
{
	char out[1024];
	size_t n = 0;
	long last;

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
		if ((last = smtp_last(reply, n)) >= 0)
			return atoi(reply + last);
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
