/*
 * dovecot_auth.c - an authenticator (AUTH) that asks Dovecot, through the
 * client side of its authentication protocol on a UNIX socket, as
 * Postfix's smtpd_sasl_type = dovecot does.
 *
 *   { name = "dovecot_auth"; settings = {
 *       socket = "/var/spool/postfix/private/auth";  # an auth-client
 *       timeout = 10; service = "smtp"; }; }
 *
 * One connection per attempt: read the server's handshake up to DONE,
 * say VERSION and CPID, send the credentials as one PLAIN response
 * (LOGIN's two answers make the same message), read OK or FAIL.  A
 * server that cannot be reached or answers nonsense is a temporary
 * failure (454), logged; FAIL with "temp" is one too.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <psmtpd/plugin.h>

#define DA_DEFAULT_SOCKET "/var/run/dovecot/auth-client"
#define DA_LINE_MAX 8192
#define DA_FIELD_MAX 255

struct da {
	const char *socket;
	const char *service;
	long long timeout;	/* seconds */
};

/* One conversation with the server. */
struct da_conn {
	int fd;
	long long deadline;	/* ms, monotonic */
	char buf[DA_LINE_MAX];
	size_t len;
};

static long long
da_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
da_init(psmtpd_init *ctx, void **plugin_data)
{
	struct da *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		psmtpd_init_error(ctx, NULL, "out of memory");
		return -1;
	}
	d->socket = DA_DEFAULT_SOCKET;
	d->service = "smtp";
	d->timeout = 10;
	if (psmtpd_setting_string(ctx, "socket", &d->socket) == -1 ||
	    psmtpd_setting_string(ctx, "service", &d->service) == -1 ||
	    psmtpd_setting_int(ctx, "timeout", &d->timeout) == -1) {
		free(d);
		return -1;
	}
	if (d->timeout < 1 || d->timeout > 3600 ||
	    strlen(d->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path)
	    || strpbrk(d->service, "\t\n") != NULL) {
		psmtpd_init_error(ctx, NULL, "'timeout' must be 1 to 3600, "
		    "'socket' a path that fits a socket, 'service' one word");
		free(d);
		return -1;
	}
	*plugin_data = d;
	return 0;
}

static void
da_fini(void *plugin_data)
{
	free(plugin_data);
}

/* da_wait - poll until the deadline; 0, or -1 (timeout or error). */
static int
da_wait(const struct da_conn *c, short events)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = events };
		long long left = c->deadline - da_now_ms();
		if (left <= 0)
			return -1;
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0 || errno != EINTR)
			return -1;
	}
}

static int
da_send(struct da_conn *c, const char *s, size_t n)
{
	while (n > 0) {
		if (da_wait(c, POLLOUT) != 0)
			return -1;
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
		if (w > 0) {
			s += w;
			n -= (size_t)w;
		}
	}
	return 0;
}

/* da_line - the next line (without its LF) into line; 0 or -1. */
static int
da_line(struct da_conn *c, char *line, size_t size)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl != NULL) {
			size_t n = (size_t)(nl - c->buf);
			if (n >= size)
				return -1;
			memcpy(line, c->buf, n);
			line[n] = '\0';
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return 0;
		}
		if (c->len == sizeof(c->buf) || da_wait(c, POLLIN) != 0)
			return -1;
		ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) -
		    c->len, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
			return -1;
		if (r > 0)
			c->len += (size_t)r;
	}
}

/* da_connect - the socket, and the server's handshake read to DONE;
 * 0, or -1 with why. */
static int
da_connect(struct da_conn *c, const struct da *d, const char **why)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char line[DA_LINE_MAX], hello[64];
	int n;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", d->socket);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sun,
	    sizeof(sun)) != 0) {
		*why = strerror(errno);
		return -1;
	}
	n = snprintf(hello, sizeof(hello), "VERSION\t1\t2\nCPID\t%ld\n",
	    (long)getpid());
	*why = "no handshake from the server";
	if (da_send(c, hello, (size_t)n) != 0 || da_line(c, line,
	    sizeof(line)) != 0 || strncmp(line, "VERSION\t1\t", 10) != 0)
		return -1;
	while (da_line(c, line, sizeof(line)) == 0)
		if (strcmp(line, "DONE") == 0)
			return 0;
	return -1;
}

/* da_b64 - base64 of n bytes into out (room for 4 * ((n + 2) / 3) + 1). */
static void
da_b64(const unsigned char *in, size_t n, char *out)
{
	static const char d[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 |
		    (i + 1 < n ? (unsigned long)in[i + 1] << 8 : 0) |
		    (i + 2 < n ? in[i + 2] : 0);
		out[o++] = d[v >> 18 & 63];
		out[o++] = d[v >> 12 & 63];
		out[o++] = i + 1 < n ? d[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? d[v & 63] : '=';
	}
	out[o] = '\0';
}

/* da_request - the AUTH line: PLAIN, its response, where it came from. */
static int
da_request(struct da_conn *c, const struct da *d, psmtpd_session *s,
    const char *user, const char *password)
{
	unsigned char msg[2 * DA_FIELD_MAX + 2];
	char resp[sizeof(msg) * 4 / 3 + 8], line[sizeof(resp) + 512];
	size_t ul = strlen(user), pl = strlen(password);
	int n, rc;

	if (ul > DA_FIELD_MAX || pl > DA_FIELD_MAX)
		return -1;
	msg[0] = '\0';
	memcpy(msg + 1, user, ul);
	msg[1 + ul] = '\0';
	memcpy(msg + 2 + ul, password, pl);
	da_b64(msg, 2 + ul + pl, resp);
	n = snprintf(line, sizeof(line), "AUTH\t1\tPLAIN\tservice=%s\t"
	    "nologin\trip=%s\t%sresp=%s\n", d->service,
	    psmtpd_session_peer_addr(s), psmtpd_session_tls(s) ?
	    "secured\t" : "", resp);
	rc = n > 0 && (size_t)n < sizeof(line) ? da_send(c, line,
	    (size_t)n) : -1;
	memset(msg, 0, sizeof(msg));
	memset(resp, 0, sizeof(resp));
	memset(line, 0, sizeof(line));
	return rc;
}

/* da_verdict - the server's answer to request 1. */
static enum psmtpd_auth_result
da_verdict(struct da_conn *c, const char **why)
{
	char line[DA_LINE_MAX];

	*why = "no answer from the server";
	while (da_line(c, line, sizeof(line)) == 0) {
		if (strncmp(line, "OK\t1", 4) == 0 &&
		    (line[4] == '\0' || line[4] == '\t'))
			return PSMTPD_AUTH_OK;
		if (strncmp(line, "FAIL\t1", 6) == 0 &&
		    (line[6] == '\0' || line[6] == '\t')) {
			*why = "the server says to try later";
			return strstr(line, "\ttemp") != NULL ?
			    PSMTPD_AUTH_TEMPFAIL : PSMTPD_AUTH_FAIL;
		}
		if (strncmp(line, "CONT\t1\t", 7) == 0) {
			*why = "the server wants more than PLAIN";
			return PSMTPD_AUTH_TEMPFAIL;
		}
	}
	return PSMTPD_AUTH_TEMPFAIL;
}

static enum psmtpd_auth_result
da_authenticate(psmtpd_session *s, const char *mechanism, const char *user,
    const char *password, void *plugin_data)
{
	const struct da *d = plugin_data;
	struct da_conn *c = calloc(1, sizeof(*c));
	enum psmtpd_auth_result r = PSMTPD_AUTH_TEMPFAIL;
	const char *why = "out of memory";

	(void)mechanism;
	if (c != NULL) {
		c->fd = -1;
		c->deadline = da_now_ms() + d->timeout * 1000;
		if (da_connect(c, d, &why) == 0) {
			why = "cannot send the request";
			if (da_request(c, d, s, user, password) == 0)
				r = da_verdict(c, &why);
		}
		if (c->fd >= 0)
			close(c->fd);
		free(c);
	}
	if (r == PSMTPD_AUTH_TEMPFAIL)
		psmtpd_session_log(s, PSMTPD_LOG_WARNING, "dovecot socket=%s: "
		    "%s", d->socket, why);
	return r;
}

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "dovecot_auth",
	.version = "1.0",
	.description = "AUTH through Dovecot's authentication socket",
	.init = da_init,
	.fini = da_fini,
	.authenticate = da_authenticate,
};
