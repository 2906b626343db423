/*
 * smtp_client.c - the SMTP/LMTP client of libsmtpc: connecting, reading
 * replies, sending commands and the body.  See smtp_client.h.
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../delivery_util.h"
#include "smtpc_int.h"

/* The body goes out through this; counting mode only adds up sizes. */
struct smtpc_sink {
	struct smtpc *c;	/* NULL: count, or fill out/cap */
	char *out;
	size_t cap, len;
	size_t total;
	int failed;		/* out too small, or the write status below */
	enum smtpc_status status;
	char buf[16384];
};

int
smtpc_parse_reply_line(const char *line, size_t len, int *code, int *last,
    const char **text)
{
	if (len < 3 || line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9')
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + line[2] - '0';
	*last = len == 3 || line[3] == ' ';
	*text = len > 3 ? line + 4 : line + 3;
	return 0;
}

/* smtpc_note_mechanisms - the SASL mechanisms of an AUTH line. */
static void
smtpc_note_mechanisms(struct smtpc *c, const char *list)
{
	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, " ");
		if (n == 5 && strncasecmp(p, "PLAIN", 5) == 0)
			c->auth_plain = 1;
		else if (n == 5 && strncasecmp(p, "LOGIN", 5) == 0)
			c->auth_login = 1;
		p += n + (p[n] == ' ');
	}
}

void
smtpc_note_extension(struct smtpc *c, const char *text)
{
	size_t kw = strcspn(text, " ");
	const char *arg = text + kw + (text[kw] == ' ');

	if (kw == 4 && strncasecmp(text, "SIZE", 4) == 0) {
		char *end;
		errno = 0;
		long long v = strtoll(arg, &end, 10);
		c->size_offered = 1;
		c->size_max = (errno == 0 && end != arg && v > 0) ? v : 0;
	} else if (kw == 8 && strncasecmp(text, "8BITMIME", 8) == 0)
		c->eightbitmime = 1;
	else if (kw == 8 && strncasecmp(text, "SMTPUTF8", 8) == 0)
		c->smtputf8 = 1;
	else if (kw == 8 && strncasecmp(text, "STARTTLS", 8) == 0)
		c->starttls = 1;
	else if (kw == 3 && strncasecmp(text, "DSN", 3) == 0)
		c->dsn = 1;
	else if (kw == 4 && strncasecmp(text, "AUTH", 4) == 0)
		smtpc_note_mechanisms(c, arg);
}

void
smtpc_forget_extensions(struct smtpc *c)
{
	c->esmtp = c->size_offered = c->eightbitmime = c->smtputf8 = 0;
	c->starttls = c->auth_plain = c->auth_login = c->dsn = 0;
	c->size_max = 0;
}

int
smtpc_split_remote(const char *spec, char *host, size_t hostsize,
    char *port, size_t portsize)
{
	const char *hs = spec, *he, *colon;

	if (*spec == '[') {
		hs = spec + 1;
		he = strchr(hs, ']');
		if (he == NULL || he[1] != ':')
			return -1;
		colon = he + 1;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL || memchr(spec, ':', (size_t)(colon - spec)))
			return -1;
		he = colon;
	}
	const char *ps = colon + 1;
	size_t hl = (size_t)(he - hs), pl = strlen(ps);
	if (hl == 0 || hl >= hostsize || pl == 0 || pl >= portsize ||
	    strspn(ps, "0123456789") != pl || atoi(ps) < 1 || atoi(ps) > 65535)
		return -1;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	memcpy(port, ps, pl + 1);
	return 0;
}

/* ---- the body: CRLF, dot-stuffing ------------------------------------ */

/* smtpc_sink_flush - send what the sink holds (writing mode only). */
static void
smtpc_sink_flush(struct smtpc_sink *k)
{
	if (k->c != NULL && k->len > 0 && !k->failed) {
		k->status = smtpc_write(k->c, k->buf, k->len);
		k->failed = k->status != SMTPC_OK;
	}
	k->len = 0;
}

static void
smtpc_sink_put(struct smtpc_sink *k, const char *p, size_t n)
{
	k->total += n;
	if (k->c == NULL && k->out == NULL)
		return;
	if (k->out != NULL) {
		if (k->cap - k->len < n) {
			k->failed = 1;
			return;
		}
		memcpy(k->out + k->len, p, n);
		k->len += n;
		return;
	}
	if (sizeof(k->buf) - k->len < n)
		smtpc_sink_flush(k);
	memcpy(k->buf + k->len, p, n);
	k->len += n;
}

/*
 * smtpc_encode_parts - the text as smtplib sends it: CRLF, a bare LF and a
 * bare CR each become CRLF (so that no bare CR or LF reaches the upstream,
 * where it could be read as a line end), a line starting with "." gets a
 * second one, and the text ends with CRLF.
 */
static void
smtpc_encode_parts(struct smtpc_sink *k, const struct smtpc_part *parts,
    size_t nparts)
{
	int bol = 1, cr = 0;

	for (size_t i = 0; i < nparts && !k->failed; i++) {
		const char *p = parts[i].data;
		for (size_t j = 0; j < parts[i].len; j++) {
			char ch = p[j];
			if (cr) {
				smtpc_sink_put(k, "\r\n", 2);
				bol = 1;
				cr = 0;
				if (ch == '\n')
					continue;
			}
			if (ch == '\r') {
				cr = 1;
				continue;
			}
			if (ch == '\n') {
				smtpc_sink_put(k, "\r\n", 2);
				bol = 1;
				continue;
			}
			if (bol && ch == '.')
				smtpc_sink_put(k, ".", 1);
			smtpc_sink_put(k, &ch, 1);
			bol = 0;
		}
	}
	if (cr || !bol)
		smtpc_sink_put(k, "\r\n", 2);
}

size_t
smtpc_wire_size(const struct smtpc_part *parts, size_t nparts)
{
	struct smtpc_sink *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return 0;
	smtpc_encode_parts(k, parts, nparts);
	size_t total = k->total;
	free(k);
	return total;
}

size_t
smtpc_encode(const struct smtpc_part *parts, size_t nparts, char *out,
    size_t cap)
{
	struct smtpc_sink *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return (size_t)-1;
	k->out = out;
	k->cap = cap;
	smtpc_encode_parts(k, parts, nparts);
	size_t n = k->failed ? (size_t)-1 : k->len;
	free(k);
	return n;
}

/* ---- connecting ------------------------------------------------------ */

/* smtpc_try_addr - one non-blocking connect, waited for until deadline. */
static int
smtpc_try_addr(const struct addrinfo *ai, long long deadline, int *err)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);

	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EINTR) {
		*err = errno;
		close(fd);
		return -1;
	}
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	for (int tries = 0; tries < 1000; tries++) {
		int n = poll(&pfd, 1, delivery_ms_left(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*err = n == 0 ? ETIMEDOUT : errno;
			break;
		}
		socklen_t sl = sizeof(*err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &sl) != 0)
			*err = errno;
		if (*err == 0)
			return fd;
		break;
	}
	close(fd);
	return -1;
}

/* smtpc_connect_unix - a UNIX stream socket at path. */
static enum smtpc_status
smtpc_connect_unix(struct smtpc *c, const char *path, int connect_ms,
    char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct addrinfo ai = { .ai_family = AF_UNIX,
	    .ai_socktype = SOCK_STREAM, .ai_addr = (struct sockaddr *)&sun,
	    .ai_addrlen = sizeof(sun) };
	int e = ETIMEDOUT;

	if (*path != '/' || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "bad socket path \"%s\"", path);
		return SMTPC_ERROR;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	c->fd = smtpc_try_addr(&ai, delivery_now_ms() + connect_ms, &e);
	if (c->fd >= 0)
		return SMTPC_OK;
	snprintf(err, errlen, "unix:%s: %s", path, strerror(e));
	return e == ETIMEDOUT ? SMTPC_TIMEOUT : SMTPC_ERROR;
}

enum smtpc_status
smtpc_connect(struct smtpc *c, const char *spec, int connect_ms,
    int reply_ms, char *err, size_t errlen)
{
	char host[256], port[8];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->reply_timeout_ms = reply_ms;
	if (strncmp(spec, "unix:", 5) == 0)
		return smtpc_connect_unix(c, spec + 5, connect_ms, err,
		    errlen);
	if (smtpc_split_remote(spec, host, sizeof(host), port,
	    sizeof(port)) != 0) {
		snprintf(err, errlen, "bad remote address \"%s\"", spec);
		return SMTPC_ERROR;
	}
	int gai = getaddrinfo(host, port, &hints, &res);
	if (gai != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(gai));
		return SMTPC_ERROR;
	}
	long long deadline = delivery_now_ms() + connect_ms;
	int e = ETIMEDOUT;
	for (struct addrinfo *ai = res; ai != NULL && c->fd < 0;
	    ai = ai->ai_next) {
		c->fd = smtpc_try_addr(ai, deadline, &e);
		if (delivery_ms_left(deadline) == 0)
			break;
	}
	freeaddrinfo(res);
	if (c->fd < 0) {
		snprintf(err, errlen, "%s: %s", spec, strerror(e));
		return e == ETIMEDOUT ? SMTPC_TIMEOUT : SMTPC_ERROR;
	}
	return SMTPC_OK;
}

void
smtpc_close(struct smtpc *c)
{
	smtpc_tls_end(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

const char *
smtpc_status_text(const struct smtpc *c, enum smtpc_status st)
{
	switch (st) {
	case SMTPC_OK:
		return "ok";
	case SMTPC_TIMEOUT:
		return "timeout";
	case SMTPC_EOF:
		return "connection closed by upstream";
	case SMTPC_PROTOCOL:
		return "reply does not parse";
	case SMTPC_TLS:
		return c->tls_err[0] != '\0' ? c->tls_err : "TLS failed";
	case SMTPC_ERROR:
		break;
	}
	return strerror(c->err);
}

/* ---- reading and writing --------------------------------------------- */

/* smtpc_wait - poll for events until deadline. */
enum smtpc_status
smtpc_wait(struct smtpc *c, short events, long long deadline)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };

	for (int tries = 0; tries < 1000; tries++) {
		int n = poll(&pfd, 1, delivery_ms_left(deadline));
		if (n > 0)
			return SMTPC_OK;
		if (n == 0)
			return SMTPC_TIMEOUT;
		if (errno != EINTR)
			break;
	}
	c->err = errno;
	return SMTPC_ERROR;
}

/* smtpc_send_some - one write, in plaintext or through TLS. */
static ssize_t
smtpc_send_some(struct smtpc *c, const char *buf, size_t len, short *ev)
{
	if (c->ssl != NULL)
		return smtpc_tls_write(c, buf, len, ev);
	*ev = POLLOUT;
	ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EWOULDBLOCK || errno == EINTR))
		errno = EAGAIN;
	return n;
}

/* smtpc_recv_some - one read, in plaintext or through TLS. */
static ssize_t
smtpc_recv_some(struct smtpc *c, char *buf, size_t len, short *ev)
{
	if (c->ssl != NULL)
		return smtpc_tls_read(c, buf, len, ev);
	*ev = POLLIN;
	ssize_t n = recv(c->fd, buf, len, 0);
	if (n < 0 && (errno == EWOULDBLOCK || errno == EINTR))
		errno = EAGAIN;
	return n;
}

/* smtpc_io_status - the status of a failed read or write. */
static enum smtpc_status
smtpc_io_status(struct smtpc *c)
{
	c->err = errno;
	if (errno == EPROTO && c->ssl != NULL)
		return SMTPC_TLS;
	return errno == EPIPE || errno == ECONNRESET ? SMTPC_EOF : SMTPC_ERROR;
}

enum smtpc_status
smtpc_write(struct smtpc *c, const char *buf, size_t len)
{
	long long deadline = delivery_now_ms() + c->reply_timeout_ms;

	while (len > 0) {
		short ev;
		ssize_t n = smtpc_send_some(c, buf, len, &ev);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0 || errno != EAGAIN)
			return n == 0 ? SMTPC_EOF : smtpc_io_status(c);
		enum smtpc_status st = smtpc_wait(c, ev, deadline);
		if (st != SMTPC_OK)
			return st;
	}
	return SMTPC_OK;
}

/* smtpc_fill - read more input into rbuf, waiting until deadline. */
static enum smtpc_status
smtpc_fill(struct smtpc *c, long long deadline)
{
	if (c->rpos > 0) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	for (;;) {
		short ev;
		ssize_t n = smtpc_recv_some(c, c->rbuf + c->rlen,
		    sizeof(c->rbuf) - c->rlen, &ev);
		if (n > 0) {
			c->rlen += (size_t)n;
			return SMTPC_OK;
		}
		if (n == 0)
			return SMTPC_EOF;
		if (errno != EAGAIN)
			return smtpc_io_status(c);
		enum smtpc_status st = smtpc_wait(c, ev, deadline);
		if (st != SMTPC_OK)
			return st;
	}
}

/* smtpc_read_line - one line without its CRLF (a bare LF is taken too). */
static enum smtpc_status
smtpc_read_line(struct smtpc *c, char *line, size_t *len, long long deadline)
{
	for (;;) {
		char *start = c->rbuf + c->rpos;
		char *nl = memchr(start, '\n', c->rlen - c->rpos);
		if (nl != NULL) {
			size_t n = (size_t)(nl - start);
			c->rpos += n + 1;
			if (n > 0 && start[n - 1] == '\r')
				n--;
			if (n >= SMTPC_LINE_MAX)
				return SMTPC_PROTOCOL;
			memcpy(line, start, n);
			line[n] = '\0';
			*len = n;
			return SMTPC_OK;
		}
		if (c->rlen - c->rpos >= SMTPC_LINE_MAX + 2)
			return SMTPC_PROTOCOL;
		enum smtpc_status st = smtpc_fill(c, deadline);
		if (st != SMTPC_OK)
			return st;
	}
}

enum smtpc_status
smtpc_read_reply_ext(struct smtpc *c, struct smtpc_reply *r, int ehlo)
{
	long long deadline = delivery_now_ms() + c->reply_timeout_ms;
	char line[SMTPC_LINE_MAX];

	for (int i = 0; i < SMTPC_REPLY_LINES_MAX; i++) {
		size_t len;
		int code, last;
		const char *text;
		enum smtpc_status st = smtpc_read_line(c, line, &len,
		    deadline);
		if (st != SMTPC_OK)
			return st;
		if (c->trace != NULL)
			c->trace(c->trace_arg, "<", line);
		if (smtpc_parse_reply_line(line, len, &code, &last,
		    &text) != 0 || (i > 0 && code != r->code))
			return SMTPC_PROTOCOL;
		if (i == 0) {
			r->code = code;
			delivery_sanitize(r->text, sizeof(r->text), text,
			    strlen(text));
		} else if (ehlo)
			smtpc_note_extension(c, text);
		if (last)
			return SMTPC_OK;
	}
	return SMTPC_PROTOCOL;
}

enum smtpc_status
smtpc_read_reply(struct smtpc *c, struct smtpc_reply *r)
{
	return smtpc_read_reply_ext(c, r, 0);
}

/* smtpc_trace_command - a command for the trace; credentials (after the
 * last space of a secret line) as "****". */
static void
smtpc_trace_command(const struct smtpc *c, const char *line)
{
	char masked[64];

	if (!c->secret) {
		c->trace(c->trace_arg, ">", line);
		return;
	}
	const char *sp = strrchr(line, ' ');
	int keep = sp != NULL ? (int)(sp - line) + 1 : 0;
	snprintf(masked, sizeof(masked), "%.*s****", keep < 40 ? keep : 0,
	    line);
	c->trace(c->trace_arg, ">", masked);
}

/* smtpc_vsend - format one command line and send it. */
static enum smtpc_status
smtpc_vsend(struct smtpc *c, const char *fmt, va_list ap)
{
	char line[SMTPC_LINE_MAX + 2];
	int n = vsnprintf(line, sizeof(line) - 2, fmt, ap);

	if (n < 0 || (size_t)n >= sizeof(line) - 2) {
		c->err = ENAMETOOLONG;
		return SMTPC_ERROR;
	}
	/* A CR or LF from an address would start a second command. */
	if (strpbrk(line, "\r\n") != NULL) {
		c->err = EINVAL;
		return SMTPC_ERROR;
	}
	if (c->trace != NULL)
		smtpc_trace_command(c, line);
	c->secret = 0;
	memcpy(line + n, "\r\n", 2);
	return smtpc_write(c, line, (size_t)n + 2);
}

enum smtpc_status
smtpc_command(struct smtpc *c, struct smtpc_reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	enum smtpc_status st = smtpc_vsend(c, fmt, ap);
	va_end(ap);
	if (st != SMTPC_OK)
		return st;
	return smtpc_read_reply(c, r);
}

enum smtpc_status
smtpc_send_line(struct smtpc *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	enum smtpc_status st = smtpc_vsend(c, fmt, ap);
	va_end(ap);
	return st;
}

enum smtpc_status
smtpc_hello(struct smtpc *c, const char *name, struct smtpc_reply *r)
{
	enum smtpc_status st = smtpc_send_line(c, "EHLO %s", name);

	if (st == SMTPC_OK)
		st = smtpc_read_reply_ext(c, r, 1);
	if (st != SMTPC_OK)
		return st;
	if (r->code == 250) {
		c->esmtp = 1;
		return SMTPC_OK;
	}
	if (r->code < 500)
		return SMTPC_OK;
	smtpc_forget_extensions(c);
	return smtpc_command(c, r, "HELO %s", name);
}

enum smtpc_status
smtpc_lhlo(struct smtpc *c, const char *name, struct smtpc_reply *r)
{
	enum smtpc_status st = smtpc_send_line(c, "LHLO %s", name);

	if (st == SMTPC_OK)
		st = smtpc_read_reply_ext(c, r, 1);
	if (st == SMTPC_OK && r->code == 250)
		c->esmtp = 1;
	return st;
}

enum smtpc_status
smtpc_send_body(struct smtpc *c, const struct smtpc_part *parts,
    size_t nparts)
{
	struct smtpc_sink *k = calloc(1, sizeof(*k));

	if (k == NULL) {
		c->err = errno;
		return SMTPC_ERROR;
	}
	k->c = c;
	smtpc_encode_parts(k, parts, nparts);
	smtpc_sink_put(k, ".\r\n", 3);
	smtpc_sink_flush(k);
	enum smtpc_status st = k->failed ? k->status : SMTPC_OK;
	free(k);
	return st;
}

enum smtpc_status
smtpc_send_data(struct smtpc *c, const struct smtpc_part *parts,
    size_t nparts, struct smtpc_reply *r)
{
	enum smtpc_status st = smtpc_send_body(c, parts, nparts);

	if (st != SMTPC_OK)
		return st;
	return smtpc_read_reply(c, r);
}
