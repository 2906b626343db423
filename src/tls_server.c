/*
 * tls_server.c - one generation's TLS server contexts: certificates and
 * keys loaded and checked, protocol floor, ciphers, client CA, SNI, and
 * the session-ticket keys that every worker of the generation shares.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.h"
#include "tls.h"
#include "tls_int.h"

/* The context that resumed sessions must match (OpenSSL refuses to
 * resume a session with a client certificate without one). */
static const unsigned char tls_sid_ctx[] = "psmtpd";

static const struct {
	const char *name;
	int version;
} tls_protocols[] = {
	{ "TLSv1", TLS1_VERSION },
	{ "TLSv1.1", TLS1_1_VERSION },
	{ "TLSv1.2", TLS1_2_VERSION },
	{ "TLSv1.3", TLS1_3_VERSION },
};

int
tls_protocol_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(tls_protocols) /
	    sizeof(tls_protocols[0]); i++)
		if (strcmp(name, tls_protocols[i].name) == 0)
			return tls_protocols[i].version;
	return -1;
}

bool
tls_name_matches(const char *pattern, const char *name)
{
	const char *dot;

	if (pattern[0] != '*' || pattern[1] != '.')
		return strcasecmp(pattern, name) == 0;
	/* "*.example.org" covers "mx.example.org", not "example.org" nor
	 * "a.b.example.org" (RFC 6125 6.4.3) */
	if ((dot = strchr(name, '.')) == NULL || dot == name)
		return false;
	return strcasecmp(pattern + 1, dot) == 0;
}

void
tls_error(char *err, size_t errlen, const char *what)
{
	unsigned long e, last = 0;
	const char *why;

	while ((e = ERR_get_error()) != 0)
		last = e;	/* the last one is the nearest to the cause */
	why = last != 0 ? ERR_reason_error_string(last) : NULL;
	snprintf(err, errlen, "%s: %s", what, why != NULL ? why :
	    "unknown error");
}

/* tls_readable - a clear message for a file that does not open, before
 * OpenSSL's less clear one. */
static int
tls_readable(const char *setting, const char *path, char *err,
    size_t errlen)
{
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		snprintf(err, errlen, "%s %s: %s", setting, path,
		    strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

/* tls_mismatch - whether OpenSSL's last error says that a key is not
 * the certificate's (it checks while loading the key). */
static bool
tls_mismatch(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_X509 &&
	    (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH ||
	    ERR_GET_REASON(e) == X509_R_KEY_TYPE_MISMATCH);
}

/* tls_load_pair - the certificate chain and its key, checked to match. */
static int
tls_load_pair(SSL_CTX *ctx, const char *cert, const char *key,
    const char *where, char *err, size_t errlen)
{
	char setting[128], what[512];
	bool loaded;

	snprintf(setting, sizeof(setting), "%scertificate", where);
	if (tls_readable(setting, cert, err, errlen) == -1)
		return -1;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(what, sizeof(what), "%s %s: cannot load", setting,
		    cert);
		tls_error(err, errlen, what);
		return -1;
	}
	snprintf(setting, sizeof(setting), "%skey", where);
	if (tls_readable(setting, key, err, errlen) == -1)
		return -1;
	ERR_clear_error();
	loaded = SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1;
	if (!loaded && !tls_mismatch()) {
		snprintf(what, sizeof(what), "%s %s: cannot load", setting,
		    key);
		tls_error(err, errlen, what);
		return -1;
	}
	if (!loaded || SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "%s %s: does not match the certificate "
		    "%s", setting, key, cert);
		return -1;
	}
	return 0;
}

/* tls_verify_any - a client certificate that does not verify is noted
 * (tls_info.peer_verified), not a reason to end the session: an MTA
 * cannot refuse mail for it. */
static int
tls_verify_any(int ok, X509_STORE_CTX *store)
{
	(void)ok;
	(void)store;
	return 1;
}

/* tls_ctx_client_ca - ask for client certificates signed by client_ca. */
static int
tls_ctx_client_ca(SSL_CTX *ctx, const char *file, char *err, size_t errlen)
{
	STACK_OF(X509_NAME) *names;
	char what[512];

	if (tls_readable("tls.client_ca", file, err, errlen) == -1)
		return -1;
	if (SSL_CTX_load_verify_locations(ctx, file, NULL) != 1 ||
	    (names = SSL_load_client_CA_file(file)) == NULL) {
		snprintf(what, sizeof(what), "tls.client_ca %s: cannot load",
		    file);
		tls_error(err, errlen, what);
		return -1;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, tls_verify_any);
	return 0;
}

/* tls_ctx_policy - protocol floor and ciphers. */
static int
tls_ctx_policy(SSL_CTX *ctx, const struct config_tls *set, char *err,
    size_t errlen)
{
	const char *min = set->min_protocol != NULL ? set->min_protocol :
	    TLS_DEFAULT_MIN_PROTOCOL;
	int v = tls_protocol_from_name(min);
	char what[512];

	if (v == -1 || SSL_CTX_set_min_proto_version(ctx, v) != 1) {
		snprintf(err, errlen, "tls.min_protocol: unknown protocol "
		    "'%s' (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)", min);
		return -1;
	}
	if (set->ciphers != NULL &&
	    SSL_CTX_set_cipher_list(ctx, set->ciphers) != 1) {
		snprintf(what, sizeof(what), "tls.ciphers '%s'", set->ciphers);
		tls_error(err, errlen, what);
		return -1;
	}
	if (set->ciphersuites != NULL &&
	    SSL_CTX_set_ciphersuites(ctx, set->ciphersuites) != 1) {
		snprintf(what, sizeof(what), "tls.ciphersuites '%s'",
		    set->ciphersuites);
		tls_error(err, errlen, what);
		return -1;
	}
	return 0;
}

/* tls_ctx_new - a server context with the generation's policy, its
 * ticket keys and one certificate. */
static SSL_CTX *
tls_ctx_new(const struct tls_server *ts, const struct config_tls *set,
    const char *cert, const char *key, const char *where, char *err,
    size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		tls_error(err, errlen, "tls cannot make a context");
		return NULL;
	}
	/* Sessions resume by ticket, never from a per-process cache that
	 * the next worker would not have; an unclean close is an EOF, as
	 * SMTP clients often just close after QUIT. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_set_session_id_context(ctx, tls_sid_ctx,
	    sizeof(tls_sid_ctx) - 1) != 1 ||
	    SSL_CTX_set_tlsext_ticket_keys(ctx, (void *)ts->ticket_keys,
	    sizeof(ts->ticket_keys)) != 1 ||
	    tls_ctx_policy(ctx, set, err, errlen) == -1 ||
	    tls_load_pair(ctx, cert, key, where, err, errlen) == -1 ||
	    (set->client_ca != NULL &&
	    tls_ctx_client_ca(ctx, set->client_ca, err, errlen) == -1)) {
		if (err[0] == '\0')
			tls_error(err, errlen, "tls context setup");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* tls_servername - pick the SNI entry's context for the name asked. */
static int
tls_servername(SSL *ssl, int *alert, void *arg)
{
	const struct tls_server *ts = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	(void)alert;
	if (name == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	for (size_t i = 0; i < ts->nsni; i++)
		if (tls_name_matches(ts->sni[i].name, name)) {
			SSL_set_SSL_CTX(ssl, ts->sni[i].ctx);
			return SSL_TLSEXT_ERR_OK;
		}
	/* unknown names get the default certificate */
	return SSL_TLSEXT_ERR_OK;
}

/* tls_server_sni - one context per `tls.sni` entry. */
static int
tls_server_sni(struct tls_server *ts, const struct config_tls *set,
    char *err, size_t errlen)
{
	char where[64];

	if (set->nsni == 0)
		return 0;
	if ((ts->sni = calloc(set->nsni, sizeof(*ts->sni))) == NULL) {
		snprintf(err, errlen, "tls out of memory");
		return -1;
	}
	for (size_t i = 0; i < set->nsni; i++) {
		const struct config_tls_sni *e = &set->sni[i];
		snprintf(where, sizeof(where), "tls.sni.[%zu].", i);
		if ((ts->sni[i].name = strdup(e->name)) == NULL) {
			snprintf(err, errlen, "tls out of memory");
			return -1;
		}
		ts->nsni++;
		if ((ts->sni[i].ctx = tls_ctx_new(ts, set, e->certificate,
		    e->key, where, err, errlen)) == NULL)
			return -1;
	}
	SSL_CTX_set_tlsext_servername_callback(ts->ctx, tls_servername);
	SSL_CTX_set_tlsext_servername_arg(ts->ctx, ts);
	return 0;
}

struct tls_server *
tls_server_new(const struct config_tls *set, char *err, size_t errlen)
{
	struct tls_server *ts = calloc(1, sizeof(*ts));

	err[0] = '\0';
	if (ts == NULL) {
		snprintf(err, errlen, "tls out of memory");
		return NULL;
	}
	if (set->certificate == NULL || set->key == NULL) {
		snprintf(err, errlen, "tls.certificate and tls.key are both "
		    "needed");
		free(ts);
		return NULL;
	}
	ERR_clear_error();
	/* New random keys per generation: a reload also rotates them. */
	if (RAND_bytes(ts->ticket_keys, sizeof(ts->ticket_keys)) != 1) {
		tls_error(err, errlen, "tls no random ticket keys");
		free(ts);
		return NULL;
	}
	if ((ts->ctx = tls_ctx_new(ts, set, set->certificate, set->key,
	    "tls.", err, errlen)) == NULL ||
	    tls_server_sni(ts, set, err, errlen) == -1) {
		tls_server_free(ts);
		return NULL;
	}
	return ts;
}

void
tls_server_free(struct tls_server *ts)
{
	if (ts == NULL)
		return;
	for (size_t i = 0; i < ts->nsni; i++) {
		free(ts->sni[i].name);
		SSL_CTX_free(ts->sni[i].ctx);
	}
	free(ts->sni);
	SSL_CTX_free(ts->ctx);
	OPENSSL_cleanse(ts->ticket_keys, sizeof(ts->ticket_keys));
	free(ts);
}
