/*
 * milter_conn.c - the connection to one milter (see milter_conn.h).
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "../delivery_util.h"
#include "milter_conn.h"

/* ---- the address ----------------------------------------------------------- */

/* Copy n bytes of s into dst (size cap) as a string; -1 when it is empty,
 * does not fit or contains a NUL or space. */
static int
mc_copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n == 0 || n >= cap || memchr(s, ' ', n) != NULL)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int
mc_port_ok(const char *port)
{
	char *end;
	long v = strtol(port, &end, 10);

	return port[0] >= '0' && port[0] <= '9' && *end == '\0' && v > 0 &&
	    v < 65536;
}

/* "host:port", "[v6]:port" or sendmail's "port@host". */
static int
mc_parse_inet(const char *s, struct mc_addr *out)
{
	const char *at = strchr(s, '@'), *colon = strrchr(s, ':');

	if (at != NULL)
		return mc_copy(out->port, sizeof(out->port), s,
		    (size_t)(at - s)) | mc_copy(out->host, sizeof(out->host),
		    at + 1, strlen(at + 1));
	if (colon == NULL)
		return -1;
	const char *h = s, *hend = colon;
	if (*s == '[') {
		if (colon == s || colon[-1] != ']')
			return -1;
		h = s + 1;
		hend = colon - 1;
	}
	return mc_copy(out->host, sizeof(out->host), h, (size_t)(hend - h)) |
	    mc_copy(out->port, sizeof(out->port), colon + 1, strlen(colon + 1));
}

int
mc_parse_addr(const char *spec, struct mc_addr *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		const char *path = strchr(spec, ':') + 1;
		out->family = AF_UNIX;
		if (path[0] != '/' ||
		    strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			*why = "a unix socket needs an absolute path of at "
			    "most 107 bytes";
		else
			(void)mc_copy(out->host, sizeof(out->host), path,
			    strlen(path));
		return *why ? -1 : 0;
	}
	if (strncmp(spec, "inet:", 5) == 0)
		out->family = AF_UNSPEC;
	else if (strncmp(spec, "inet6:", 6) == 0)
		out->family = AF_INET6;
	else {
		*why = "want inet:host:port, inet6:host:port or unix:/path";
		return -1;
	}
	if (mc_parse_inet(strchr(spec, ':') + 1, out) != 0 ||
	    !mc_port_ok(out->port))
		*why = "want inet:host:port, inet6:[addr]:port or port@host";
	return *why ? -1 : 0;
}

/* ---- connecting ------------------------------------------------------------ */

/* Wait until fd is ready for events or the deadline; 1, 0 on time-out,
 * -1 on error (errno). */
static int
mc_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		int n = poll(&pfd, 1, delivery_ms_left(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -1 : n > 0;
	}
}

/* One non-blocking connect, waited for until deadline; the fd or -1. */
static int
mc_try(int family, const struct sockaddr *sa, socklen_t len,
    long long deadline, int *err)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (connect(fd, sa, len) == 0)
		return fd;
	*err = errno;
	if (errno == EINPROGRESS || errno == EINTR) {
		int r = mc_wait(fd, POLLOUT, deadline);
		socklen_t sl = sizeof(*err);
		*err = r == 0 ? ETIMEDOUT : r < 0 ? errno : 0;
		if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &sl))
			*err = errno;
		if (*err == 0)
			return fd;
	}
	close(fd);
	return -1;
}

static int
mc_connect_unix(const struct mc_addr *a, long long deadline, int *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	memcpy(sun.sun_path, a->host, strlen(a->host) + 1);
	return mc_try(AF_UNIX, (struct sockaddr *)&sun, sizeof(sun), deadline,
	    err);
}

static int
mc_connect_inet(const struct mc_addr *a, long long deadline, int *err,
    char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_family = a->family,
	    .ai_socktype = SOCK_STREAM }, *res;
	int fd = -1;

	int gai = getaddrinfo(a->host, a->port, &hints, &res);
	if (gai != 0) {
		snprintf(why, whylen, "%s: %s", a->host, gai_strerror(gai));
		return -1;
	}
	for (struct addrinfo *ai = res; ai != NULL && fd < 0 &&
	    delivery_ms_left(deadline) > 0; ai = ai->ai_next)
		fd = mc_try(ai->ai_family, ai->ai_addr, ai->ai_addrlen,
		    deadline, err);
	freeaddrinfo(res);
	return fd;
}

enum mc_status
mc_connect(struct mc_conn *c, const struct mc_addr *a, int timeout_ms,
    char *why, size_t whylen)
{
	long long deadline = delivery_now_ms() + timeout_ms;
	int err = ETIMEDOUT;

	why[0] = '\0';
	c->fd = a->family == AF_UNIX ? mc_connect_unix(a, deadline, &err) :
	    mc_connect_inet(a, deadline, &err, why, whylen);
	if (c->fd >= 0)
		return MC_OK;
	c->err = err;
	if (why[0] == '\0')
		snprintf(why, whylen, "%s", strerror(err));
	return err == ETIMEDOUT ? MC_TIMEOUT : MC_ERROR;
}

/* ---- packets --------------------------------------------------------------- */

enum mc_status
mc_write(struct mc_conn *c, const void *p, size_t n, long long deadline)
{
	const char *b = p;

	while (n > 0) {
		ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
		if (w > 0) {
			b += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			c->err = errno;
			return MC_ERROR;
		}
		int r = mc_wait(c->fd, POLLOUT, deadline);
		if (r <= 0) {
			c->err = errno;
			return r == 0 ? MC_TIMEOUT : MC_ERROR;
		}
	}
	return MC_OK;
}

/* Read exactly n bytes into p before deadline. */
static enum mc_status
mc_read_n(struct mc_conn *c, unsigned char *p, size_t n, long long deadline)
{
	while (n > 0) {
		ssize_t r = recv(c->fd, p, n, 0);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r == 0)
			return MC_EOF;
		if (errno != EAGAIN && errno != EINTR) {
			c->err = errno;
			return MC_ERROR;
		}
		int w = mc_wait(c->fd, POLLIN, deadline);
		if (w <= 0) {
			c->err = errno;
			return w == 0 ? MC_TIMEOUT : MC_ERROR;
		}
	}
	return MC_OK;
}

enum mc_status
mc_read(struct mc_conn *c, long long deadline)
{
	unsigned char hdr[4];
	size_t plen, size;

	enum mc_status st = mc_read_n(c, hdr, 4, deadline);
	if (st != MC_OK)
		return st;
	if (mp_frame(hdr, 4, MP_PACKET_MAX, &plen, &size) != MP_AGAIN)
		return MC_PROTOCOL;	/* a zero or oversized length */
	size -= 4;
	if (size > c->pkt_cap) {
		unsigned char *p = realloc(c->pkt, size);
		if (p == NULL) {
			c->err = errno;
			return MC_ERROR;
		}
		c->pkt = p;
		c->pkt_cap = size;
	}
	c->pkt_len = size;
	return mc_read_n(c, c->pkt, size, deadline);
}

void
mc_close(struct mc_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->pkt);
	c->pkt = NULL;
	c->pkt_cap = c->pkt_len = 0;
}

const char *
mc_status_text(const struct mc_conn *c, enum mc_status st)
{
	switch (st) {
	case MC_OK:
		return "ok";
	case MC_TIMEOUT:
		return "timeout";
	case MC_EOF:
		return "connection closed by the milter";
	case MC_PROTOCOL:
		return "malformed packet";
	case MC_ERROR:
		break;
	}
	return strerror(c->err);
}
