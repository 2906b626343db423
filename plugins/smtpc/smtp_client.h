/*
 * smtp_client.h - the small SMTP and LMTP client shared by the proxy and
 * lmtp plugins (libsmtpc, linked into both): connect with a timeout (TCP,
 * or a UNIX socket for "unix:/path"), EHLO (HELO when EHLO is refused) or
 * LHLO, STARTTLS (smtpc_tls.c) and AUTH PLAIN/LOGIN (smtpc_auth.c),
 * commands and their replies, and the message body with CRLF line ends
 * and dot-stuffing.
 *
 * Every wait is a poll(2) bounded by the connect or the reply timeout; the
 * socket is non-blocking and writes use MSG_NOSIGNAL, so a dead upstream
 * is a status, never a hang or a SIGPIPE.  The parsers are pure functions
 * so that the tests feed them strings.
 */
#ifndef PSMTPD_SMTPC_SMTP_CLIENT_H
#define PSMTPD_SMTPC_SMTP_CLIENT_H

#include <stddef.h>

/* Longest reply line taken (RFC 5321 says 512 with the CRLF). */
#define SMTPC_LINE_MAX 1024
/* Most lines in one multi-line reply. */
#define SMTPC_REPLY_LINES_MAX 100

enum smtpc_status {
	SMTPC_OK = 0,
	SMTPC_TIMEOUT,		/* no (complete) answer in time */
	SMTPC_EOF,		/* the upstream closed the connection */
	SMTPC_ERROR,		/* a system error; errno is in err */
	SMTPC_PROTOCOL,		/* the upstream's reply does not parse */
	SMTPC_TLS		/* the TLS handshake or a TLS record failed */
};

struct ssl_st;
struct ssl_ctx_st;

struct smtpc_reply {
	int code;		/* 200..599 */
	char text[SMTPC_LINE_MAX]; /* the first line's text, without "NNN " */
};

struct smtpc {
	int fd;
	int reply_timeout_ms;	/* for each reply and each write */
	int err;		/* errno of the last SMTPC_ERROR */
	/* what EHLO offered */
	int esmtp;
	int size_offered;
	long long size_max;	/* 0: SIZE without a limit */
	int eightbitmime;
	int smtputf8;
	int starttls;
	int dsn;		/* RFC 3461 */
	int auth_plain, auth_login;
	struct ssl_st *ssl;	/* after STARTTLS; NULL in plaintext */
	int secret;		/* the next command line is traced masked */
	char tls_err[256];	/* why SMTPC_TLS, for the log */
	/* called with each command sent ("> ") and reply line read ("< "),
	 * not the message, for protocol traces; may be NULL */
	void (*trace)(void *arg, const char *dir, const char *line);
	void *trace_arg;
	/* unread input is rbuf[rpos..rlen) */
	size_t rpos, rlen;
	char rbuf[4096];
};

/* One piece of the message; the client sends them as one text. */
struct smtpc_part {
	const char *data;
	size_t len;
};

/* ---- pure ------------------------------------------------------------ */

/* Split "NNN-text" / "NNN text" / "NNN".  0 with *code, *last (0 for a
 * continuation line) and *text (points into line), or -1. */
int smtpc_parse_reply_line(const char *line, size_t len, int *code,
    int *last, const char **text);
/* Note one EHLO keyword line ("SIZE 10240000", "8BITMIME"). */
void smtpc_note_extension(struct smtpc *c, const char *text);
/* Split "host:port" or "[v6]:port".  0, or -1 when it does not parse.
 * ("unix:/path" is taken by smtpc_connect, not by this.) */
int smtpc_split_remote(const char *spec, char *host, size_t hostsize,
    char *port, size_t portsize);
/* The size of the parts on the wire: CRLF line ends, dot-stuffed, with
 * the final CRLF, without the ".<CRLF>" that ends the data. */
size_t smtpc_wire_size(const struct smtpc_part *parts, size_t nparts);
/* The same, written to out (cap bytes); the number of bytes, or
 * (size_t)-1 when out is too small.  For the tests. */
size_t smtpc_encode(const struct smtpc_part *parts, size_t nparts,
    char *out, size_t cap);

/* ---- I/O ------------------------------------------------------------- */

/* Connect to spec within connect_ms (for all its addresses together).
 * On failure err tells why, for the log.  Clears *c first: set trace
 * after it. */
enum smtpc_status smtpc_connect(struct smtpc *c, const char *spec,
    int connect_ms, int reply_ms, char *err, size_t errlen);
/* Read one (multi-line) reply. */
enum smtpc_status smtpc_read_reply(struct smtpc *c, struct smtpc_reply *r);
/* Send one command line (CRLF added) and read its reply. */
enum smtpc_status smtpc_command(struct smtpc *c, struct smtpc_reply *r,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* EHLO name, and HELO name when EHLO is refused with a 5xx. */
enum smtpc_status smtpc_hello(struct smtpc *c, const char *name,
    struct smtpc_reply *r);
/* LHLO name (RFC 2033), its extensions noted. */
enum smtpc_status smtpc_lhlo(struct smtpc *c, const char *name,
    struct smtpc_reply *r);
/* Send one command line without reading a reply. */
enum smtpc_status smtpc_send_line(struct smtpc *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* After a 354: the parts and ".<CRLF>", no reply read (LMTP reads one
 * per recipient). */
enum smtpc_status smtpc_send_body(struct smtpc *c,
    const struct smtpc_part *parts, size_t nparts);
/* After a 354: the parts, then ".<CRLF>", then read the reply. */
enum smtpc_status smtpc_send_data(struct smtpc *c,
    const struct smtpc_part *parts, size_t nparts, struct smtpc_reply *r);
/* A text for a status other than SMTPC_OK, for logs. */
const char *smtpc_status_text(const struct smtpc *c, enum smtpc_status st);
/* Close the connection (and free its TLS state). */
void smtpc_close(struct smtpc *c);

/* ---- smtpc_tls.c: STARTTLS toward the upstream ------------------------ */

/* A client context: TLS 1.2 at least; with verify, the peer's chain is
 * checked against ca_file (NULL: the system's CAs).  NULL with err set. */
struct ssl_ctx_st *smtpc_tls_context(int verify, const char *ca_file,
    char *err, size_t errlen);
void smtpc_tls_context_free(struct ssl_ctx_st *ctx);
/* STARTTLS, and on its 220 the handshake (bounded by the reply timeout),
 * with name as SNI and, with verify, as the name (or IP address) the
 * certificate must carry.  SMTPC_OK with *r the reply to STARTTLS (TLS is
 * on when it is 220); SMTPC_TLS with c->tls_err when the handshake or the
 * check failed.  What the server offered before is forgotten: EHLO again. */
enum smtpc_status smtpc_starttls(struct smtpc *c, struct ssl_ctx_st *ctx,
    const char *name, int verify, struct smtpc_reply *r);
/* "version=TLSv1.3 cipher=..." of the session, for the log. */
void smtpc_tls_describe(const struct smtpc *c, char *buf, size_t size);

/* ---- smtpc_auth.c: AUTH toward the upstream --------------------------- */

/* AUTH PLAIN (or LOGIN when only that is offered) with user and password;
 * *r is the final reply (235 on success).  -1 in *mech_missing when the
 * server offers neither (r untouched).  The credentials never reach the
 * trace. */
enum smtpc_status smtpc_auth(struct smtpc *c, const char *user,
    const char *password, struct smtpc_reply *r, int *mech_missing);
/* Pure: RFC 4616's "\0user\0password" in base64 into out; 0, or -1 when
 * out is too small. */
int smtpc_auth_plain_b64(const char *user, const char *password, char *out,
    size_t size);

#endif
