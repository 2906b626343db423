/*
 * tls_int.h - what tls_server.c and tls_conn.c share; other modules use
 * tls.h.
 */
#ifndef PSMTPD_TLS_INT_H
#define PSMTPD_TLS_INT_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "tls.h"

/* SSL_CTX_set_tlsext_ticket_keys: 16 bytes of name, 32 of HMAC key,
 * 32 of AES key. */
#define TLS_TICKET_KEYS_LEN 80

struct tls_sni_ctx {
	char *name;
	SSL_CTX *ctx;
};

struct tls_server {
	SSL_CTX *ctx;			/* the default certificate */
	struct tls_sni_ctx *sni;	/* tls.sni, in config order */
	size_t nsni;
	unsigned char ticket_keys[TLS_TICKET_KEYS_LEN];
};

/* "what: OpenSSL's reason for the last error" into err; clears the
 * error queue. */
void tls_error(char *err, size_t errlen, const char *what);

#endif
