/*
 * tls.h - TLS for the SMTP channel (STARTTLS, implicit TLS), on OpenSSL 3.
 *
 * A tls_server is one generation's server contexts: the default
 * certificate and one per SNI name, protocol floor, ciphers, client CA and
 * session-ticket keys.  The master builds it before it forks (the key files
 * are read with the master's privileges, before the workers drop theirs),
 * so every worker of a generation has the same ticket keys and a session
 * resumes on whichever worker the client reaches next.  A SIGHUP builds a
 * new one with the new generation; a pair that does not load fails that
 * generation and the old one keeps serving.
 *
 * A tls_conn is one connection's TLS, in a worker.  Its reads and writes
 * never block: they say which poll(2) event they wait for, and the caller
 * (io.c) waits with its own deadlines.
 */
#ifndef PSMTPD_TLS_H
#define PSMTPD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct config_tls;

#define TLS_DEFAULT_MIN_PROTOCOL "TLSv1.2"
#define TLS_DEFAULT_HANDSHAKE_TIMEOUT 30	/* seconds */
#define TLS_INFO_MAX 256

/* What the log line and the plugins learn of a session's TLS. */
struct tls_info {
	char version[16];		/* "TLSv1.3" */
	char cipher[64];		/* "TLS_AES_256_GCM_SHA384" */
	char peer_subject[TLS_INFO_MAX];	/* "" without a client cert */
	bool peer_verified;	/* the client cert chains to client_ca */
	bool resumed;
	char sni[TLS_INFO_MAX];	/* the name the client asked for, or "" */
};

struct tls_server;
struct tls_conn;

/* Pure: TLS1_2_VERSION... for "TLSv1.2"...; -1 for an unknown name. */
int tls_protocol_from_name(const char *name);
/* Pure: whether an SNI pattern ("host", "*.domain") covers a name,
 * case-insensitively; a wildcard covers exactly one label. */
bool tls_name_matches(const char *pattern, const char *name);

/* Build the contexts from the `tls` group: load and check every
 * certificate and key.  NULL with a message in err that begins with the
 * dotted path of the setting at fault ("tls.key", "tls.sni.[1].key")
 * followed by a space, and names the file. */
struct tls_server *tls_server_new(const struct config_tls *set,
    char *err, size_t errlen);
void tls_server_free(struct tls_server *ts);

/* A server-side TLS connection on fd (made non-blocking).  NULL with
 * err on failure. */
struct tls_conn *tls_conn_new(struct tls_server *ts, int fd, char *err,
    size_t errlen);
/*
 * Run the handshake until it completes (0) or the deadline (io.h's,
 * 0 for none) passes, the peer leaves or sends something that is not TLS
 * (-1, why in err: "timeout", "eof", or OpenSSL's reason).
 */
int tls_conn_handshake(struct tls_conn *c, long long deadline, char *err,
    size_t errlen);
/*
 * Read or write like recv/send on a non-blocking socket: bytes moved; 0
 * for the end of the stream (read); -1 with errno EAGAIN and *events the
 * poll event to wait for (POLLIN or POLLOUT), or another errno (EPROTO:
 * a TLS error, logged at debug level).
 */
ssize_t tls_conn_recv(struct tls_conn *c, void *buf, size_t len,
    short *events);
ssize_t tls_conn_send(struct tls_conn *c, const void *buf, size_t len,
    short *events);
void tls_conn_info(const struct tls_conn *c, struct tls_info *info);
/* Send close_notify if the socket takes it now, and free. */
void tls_conn_free(struct tls_conn *c);

#endif
