/*
 * smtpc_tls.c - STARTTLS toward an upstream (RFC 3207), on OpenSSL 3: the
 * client context, the handshake on the non-blocking socket bounded by the
 * reply timeout, the certificate check, and TLS reads and writes.
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "../delivery_util.h"
#include "smtpc_int.h"

/* smtpc_tls_error - the newest OpenSSL error as text ("" when none). */
static void
smtpc_tls_error(char *buf, size_t size, const char *what)
{
	unsigned long e = ERR_get_error();
	char text[200] = "";

	if (e != 0)
		ERR_error_string_n(e, text, sizeof(text));
	snprintf(buf, size, "%s%s%s", what, e != 0 ? ": " : "", text);
	ERR_clear_error();
}

SSL_CTX *
smtpc_tls_context(int verify, const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		smtpc_tls_error(err, errlen, "cannot make a TLS context");
		return NULL;
	}
	int ok = SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (ok && ca_file != NULL)
		ok = SSL_CTX_load_verify_locations(ctx, ca_file, NULL);
	else if (ok)
		ok = SSL_CTX_set_default_verify_paths(ctx);
	if (!ok) {
		smtpc_tls_error(err, errlen, ca_file != NULL ?
		    "cannot load the CA file" : "cannot load the system CAs");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
	    NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* an upstream that closes without close_notify is at EOF */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	return ctx;
}

void
smtpc_tls_context_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

/* smtpc_tls_peer_name - the name the certificate must carry: a host name
 * (also sent as SNI) or an IP address. */
static int
smtpc_tls_peer_name(SSL *ssl, const char *name, int verify)
{
	unsigned char ip[16];
	int is_ip = inet_pton(AF_INET, name, ip) == 1 ||
	    inet_pton(AF_INET6, name, ip) == 1;

	if (!is_ip && SSL_set_tlsext_host_name(ssl, name) != 1)
		return -1;
	if (!verify)
		return 0;
	if (is_ip)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    name) == 1 ? 0 : -1;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return SSL_set1_host(ssl, name) == 1 ? 0 : -1;
}

/* smtpc_tls_failed - why the handshake failed, into c->tls_err. */
static void
smtpc_tls_failed(struct smtpc *c, SSL *ssl)
{
	long v = SSL_get_verify_result(ssl);

	if (v != X509_V_OK)
		snprintf(c->tls_err, sizeof(c->tls_err), "certificate not "
		    "verified: %s", X509_verify_cert_error_string(v));
	else
		smtpc_tls_error(c->tls_err, sizeof(c->tls_err),
		    "TLS handshake failed");
}

/* smtpc_tls_wait - what SSL wants, as poll events; 0 for a failure. */
static short
smtpc_tls_wants(SSL *ssl, int ret)
{
	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return POLLIN;
	case SSL_ERROR_WANT_WRITE:
		return POLLOUT;
	}
	return 0;
}

/* smtpc_handshake - SSL_connect until done or the deadline. */
static enum smtpc_status
smtpc_handshake(struct smtpc *c, SSL *ssl)
{
	long long deadline = delivery_now_ms() + c->reply_timeout_ms;

	for (int i = 0; i < 10000; i++) {
		int ret = SSL_connect(ssl);
		if (ret == 1)
			return SMTPC_OK;
		short ev = smtpc_tls_wants(ssl, ret);
		if (ev == 0) {
			smtpc_tls_failed(c, ssl);
			return SMTPC_TLS;
		}
		enum smtpc_status st = smtpc_wait(c, ev, deadline);
		if (st != SMTPC_OK)
			return st;
	}
	snprintf(c->tls_err, sizeof(c->tls_err), "TLS handshake loops");
	return SMTPC_TLS;
}

enum smtpc_status
smtpc_starttls(struct smtpc *c, SSL_CTX *ctx, const char *name, int verify,
    struct smtpc_reply *r)
{
	enum smtpc_status st = smtpc_command(c, r, "STARTTLS");

	if (st != SMTPC_OK || r->code != 220)
		return st;
	/* Bytes after the 220 were sent in plaintext: taking them as
	 * replies inside TLS is the response injection of CVE-2011-0411. */
	if (c->rlen > c->rpos) {
		snprintf(c->tls_err, sizeof(c->tls_err), "plaintext after the "
		    "220 to STARTTLS");
		return SMTPC_TLS;
	}
	SSL *ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, c->fd) != 1 ||
	    smtpc_tls_peer_name(ssl, name, verify) != 0) {
		smtpc_tls_error(c->tls_err, sizeof(c->tls_err),
		    "cannot set up TLS");
		SSL_free(ssl);
		return SMTPC_TLS;
	}
	st = smtpc_handshake(c, ssl);
	if (st != SMTPC_OK) {
		SSL_free(ssl);
		return st;
	}
	c->ssl = ssl;
	smtpc_forget_extensions(c);
	return SMTPC_OK;
}

void
smtpc_tls_describe(const struct smtpc *c, char *buf, size_t size)
{
	if (c->ssl == NULL) {
		snprintf(buf, size, "tls=no");
		return;
	}
	snprintf(buf, size, "tls=%s cipher=%s", SSL_get_version(c->ssl),
	    SSL_get_cipher_name(c->ssl));
}

/* smtpc_tls_io_result - errno and *events for a failed SSL_read/write. */
static ssize_t
smtpc_tls_io_result(struct smtpc *c, int ret, short *events)
{
	int e = SSL_get_error(c->ssl, ret);

	*events = smtpc_tls_wants(c->ssl, ret);
	if (*events != 0) {
		errno = EAGAIN;
		return -1;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (e == SSL_ERROR_SYSCALL && errno != 0)
		return -1;
	smtpc_tls_error(c->tls_err, sizeof(c->tls_err), "TLS failed");
	errno = EPROTO;
	return -1;
}

ssize_t
smtpc_tls_read(struct smtpc *c, void *buf, size_t len, short *events)
{
	errno = 0;
	int n = SSL_read(c->ssl, buf, len > 65536 ? 65536 : (int)len);

	return n > 0 ? n : smtpc_tls_io_result(c, n, events);
}

ssize_t
smtpc_tls_write(struct smtpc *c, const void *buf, size_t len, short *events)
{
	errno = 0;
	int n = SSL_write(c->ssl, buf, len > 65536 ? 65536 : (int)len);

	return n > 0 ? n : smtpc_tls_io_result(c, n, events);
}

void
smtpc_tls_end(struct smtpc *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
}
