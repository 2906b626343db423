/*
 * daemon_smtp.c - the harness's two SMTP clients with bounded waits: the
 * line-at-a-time smtp_* (socket timeouts) and the buffered hu_conn
 * (poll deadlines); see daemon_util.h.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "tests/daemon_util.h"

/* ---- smtp_*: the pool tests' client ----------------------------------- */

int
smtp_connect(int port)
{
	struct timeval tv = { 10, 0 };
	int fd = du_dial("127.0.0.1", port);

	if (fd != -1 &&
	    (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)) {
		close(fd);
		return -1;
	}
	return fd;
}

int
smtp_open(int port, char *greet, size_t size)
{
	int fd = smtp_connect(port);

	if (fd != -1 && smtp_reply(fd, greet, size) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

long
smtp_last(const char *buf, size_t n)
{
	size_t start;

	if (n < 2 || buf[n - 2] != '\r' || buf[n - 1] != '\n')
		return -1;
	start = n - 2;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	return n - start >= 6 && buf[start + 3] == ' ' ? (long)start : -1;
}

int
smtp_reply(int fd, char *reply, size_t size)
{
	size_t n = 0;
	long last;

	while (n + 1 < size) {
		ssize_t r = recv(fd, reply + n, size - 1 - n, 0);

		if (r <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			reply[n] = '\0';
			return -1;
		}
		n += (size_t)r;
		reply[n] = '\0';
		if ((last = smtp_last(reply, n)) >= 0)
			return atoi(reply + last);
	}
	return -1;
}

int
smtp_send(int fd, const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		ssize_t w = send(fd, text + off, len - off, MSG_NOSIGNAL);

		if (w <= 0) {
			if (w == -1 && errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

int
smtp_cmd(int fd, const char *line, char *reply, size_t size)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s\r\n", line);
	if (smtp_send(fd, buf) == -1)
		return -1;
	return smtp_reply(fd, reply, size);
}

int
smtp_message(int fd, const char *body)
{
	char reply[1024];

	if (smtp_cmd(fd, "MAIL FROM:<a@example.org>", reply, sizeof(reply))
	    != 250 || smtp_cmd(fd, "RCPT TO:<b@example.org>", reply,
	    sizeof(reply)) != 250 ||
	    smtp_cmd(fd, "DATA", reply, sizeof(reply)) != 354)
		return -1;
	if (smtp_send(fd, body) == -1)
		return -1;
	return smtp_cmd(fd, ".", reply, sizeof(reply));
}

/* ---- hu_conn: the hostile and load tests' client --------------------- */

int
hu_connect(struct hu_conn *c, int port)
{
	c->len = 0;
	c->fd = du_dial("127.0.0.1", port);
	return c->fd < 0 ? -1 : 0;
}

void
hu_close(struct hu_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* hu_poll - wait for events until the deadline; >0 ready, 0 timeout. */
static int
hu_poll(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - du_now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

int
hu_send(struct hu_conn *c, const void *p, size_t n, int timeout_ms)
{
	long long deadline = du_now_ms() + timeout_ms;
	const char *b = p;

	while (n > 0) {
		if (hu_poll(c->fd, POLLOUT, deadline) <= 0)
			return -1;
		ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int
hu_sendstr(struct hu_conn *c, const char *s)
{
	return hu_send(c, s, strlen(s), 10000);
}

/* hu_line - the next CRLF line from the buffer, reading as needed;
 * its length (without CRLF) or -1. */
static long
hu_line(struct hu_conn *c, char *line, size_t size, long long deadline)
{
	for (;;) {
		char *e = memmem(c->buf, c->len, "\r\n", 2);
		if (e != NULL) {
			size_t n = (size_t)(e - c->buf);
			size_t keep = n < size - 1 ? n : size - 1;
			memcpy(line, c->buf, keep);
			line[keep] = '\0';
			memmove(c->buf, e + 2, c->len - n - 2);
			c->len -= n + 2;
			return (long)keep;
		}
		if (c->len == sizeof(c->buf) ||
		    hu_poll(c->fd, POLLIN, deadline) <= 0)
			return -1;
		ssize_t r = recv(c->fd, c->buf + c->len,
		    sizeof(c->buf) - c->len, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return -1;
		c->len += (size_t)r;
	}
}

int
hu_reply(struct hu_conn *c, char *out, size_t size, int timeout_ms)
{
	long long deadline = du_now_ms() + timeout_ms;
	char line[2048];
	size_t off = 0;

	out[0] = '\0';
	for (int lines = 0; lines < 100; lines++) {
		long n = hu_line(c, line, sizeof(line), deadline);
		if (n < 3 || line[0] < '2' || line[0] > '5')
			return -1;
		if (memchr(line, '\n', (size_t)n) != NULL ||
		    memchr(line, '\r', (size_t)n) != NULL)
			return -1;
		off += (size_t)snprintf(out + off, size - off, "%s%s",
		    off > 0 ? "\n" : "", line);
		if (off >= size)
			off = size - 1;
		if (n == 3 || line[3] == ' ')
			return atoi(line);
		if (line[3] != '-')
			return -1;
	}
	return -1;
}

bool
hu_closed(struct hu_conn *c, int timeout_ms)
{
	long long deadline = du_now_ms() + timeout_ms;

	c->len = 0;
	for (;;) {
		if (hu_poll(c->fd, POLLIN, deadline) <= 0)
			return false;
		ssize_t r = recv(c->fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
		if (r < 0 && errno != EINTR && errno != EAGAIN)
			return true;
	}
}
