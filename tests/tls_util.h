/*
 * tls_util.h - certificates for the TLS tests, made with `openssl req`
 * in a directory of the test's own.
 */
#ifndef PSMTPD_TESTS_TLS_UTIL_H
#define PSMTPD_TESTS_TLS_UTIL_H

#include <stddef.h>

/* A self-signed EC P-256 certificate for cn (also its DNS name):
 * dir/name.crt and dir/name.key.  0, or -1. */
int tu_make_cert(const char *dir, const char *name, const char *cn);
/* A CA (dir/name.crt, dir/name.key) and a client certificate signed by
 * it (dir/client.crt, dir/client.key, subject CN=client_cn).  0 or -1. */
int tu_make_ca_client(const char *dir, const char *name,
    const char *client_cn);
/* dir/name.ext into buf. */
const char *tu_path(char *buf, size_t size, const char *dir,
    const char *name, const char *ext);
/* Run argv (a NULL-terminated list, argv[0] looked up in PATH) with
 * stdin from in (NULL: /dev/null) and stdout+stderr collected into out
 * (NUL-terminated, up to size); a bound of timeout_s seconds.  The exit
 * status, or -1 (not run, killed by the bound). */
int tu_run(const char *const *argv, const char *in, char *out, size_t size,
    int timeout_s);
/* Whether a program is on PATH. */
int tu_have(const char *prog);
/* openssl s_client -connect 127.0.0.1:port with the options opts
 * (NULL-terminated, 12 at most), in on its stdin, 20 s at most; as
 * tu_run. */
int tu_s_client(int port, const char *const *opts, const char *in,
    char *out, size_t size);
/* python3 -c script, 30 s at most; as tu_run. */
int tu_python(const char *script, char *out, size_t size);
/* Lines of a Python script that make ctx, an SSL context for a client
 * that takes the tests' self-signed certificates. */
#define TU_PY_ANY_CERT "ctx = ssl.create_default_context()\n" \
	"ctx.check_hostname = False\n" \
	"ctx.verify_mode = ssl.CERT_NONE\n"

#endif

/* ---- tls_client.c: an SMTP client over TLS, for the daemon tests ---- */

typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;

/* TLS on a connected fd (10 s timeouts), with SNI sni (NULL: none),
 * resuming sess (NULL: a full handshake); NULL when it fails. */
SSL *tu_tls_connect(int fd, const char *sni, SSL_SESSION *sess);
/* Send line (CRLF added; NULL: send nothing) and read one reply, every
 * line of it, into reply; its code, or -1. */
int tu_tls_cmd(SSL *ssl, const char *line, char *reply, size_t size);
/* The subject of the server's certificate ("/CN=mx.test"). */
void tu_tls_subject(SSL *ssl, char *buf, size_t size);
/* close_notify, free (the context too); the fd stays open. */
void tu_tls_close(SSL *ssl);
