/*
 * delivery_fakesmtp.c - a scripted SMTP server.  See delivery_fakesmtp.h.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "delivery_fakesmtp.h"

struct fake_conn {
	int fd, cap;
	size_t len;
	char buf[65536];
};

/* fake_say - one reply; "\n" in it separates lines; "HANG" stops. */
static void
fake_say(struct fake_conn *c, const char *reply)
{
	char out[4096];
	size_t n = 0;

	if (strcmp(reply, "HANG") == 0) {
		/* Answer nothing, until the client gives up and closes. */
		for (int i = 0; i < 100000 && read(c->fd, out,
		    sizeof(out)) > 0; i++)
			;
		_exit(0);
	}
	for (const char *p = reply; *p != '\0' && n + 3 < sizeof(out); p++) {
		if (*p == '\n')
			out[n++] = '\r';
		out[n++] = *p;
	}
	memcpy(out + n, "\r\n", 2);
	if (write(c->fd, out, n + 2) < 0)
		_exit(1);
}

/* fake_line - the next line, with its CRLF, into line; 0 at EOF. */
static size_t
fake_line(struct fake_conn *c, char *line, size_t size)
{
	for (int i = 0; i < 100000; i++) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl != NULL) {
			size_t n = (size_t)(nl - c->buf) + 1;
			if (n >= size)
				_exit(1);
			memcpy(line, c->buf, n);
			line[n] = '\0';
			memmove(c->buf, c->buf + n, c->len - n);
			c->len -= n;
			if (write(c->cap, line, n) < 0)
				_exit(1);
			return n;
		}
		if (c->len == sizeof(c->buf))
			_exit(1);
		ssize_t r = read(c->fd, c->buf + c->len,
		    sizeof(c->buf) - c->len);
		if (r <= 0)
			return 0;
		c->len += (size_t)r;
	}
	return 0;
}

static void
fake_session(struct fake_conn *c, const struct fake_script *sc)
{
	char line[8192];
	int nrcpt = 0;
	const char *r;

	fake_say(c, sc->greeting ? sc->greeting : "220 fake ESMTP");
	for (int i = 0; i < 1000 && fake_line(c, line, sizeof(line)) > 0;
	    i++) {
		if (strncasecmp(line, "EHLO", 4) == 0)
			r = sc->ehlo ? sc->ehlo : "250 fake";
		else if (strncasecmp(line, "HELO", 4) == 0)
			r = sc->helo ? sc->helo : "250 fake";
		else if (strncasecmp(line, "MAIL", 4) == 0)
			r = sc->mail ? sc->mail : "250 OK";
		else if (strncasecmp(line, "RCPT", 4) == 0)
			r = nrcpt < 4 && sc->rcpt[nrcpt] ? sc->rcpt[nrcpt] :
			    "250 OK";
		else if (strncasecmp(line, "QUIT", 4) == 0) {
			fake_say(c, sc->quit ? sc->quit : "221 Bye");
			return;
		} else if (strncasecmp(line, "DATA", 4) == 0) {
			r = sc->data ? sc->data : "354 go ahead";
			fake_say(c, r);
			if (r[0] != '3')
				continue;
			for (int j = 0; j < 1000000 && fake_line(c, line,
			    sizeof(line)) > 0 && strcmp(line, ".\r\n") != 0;
			    j++)
				;
			r = sc->end ? sc->end : "250 queued";
		} else
			r = "250 OK";
		if (strncasecmp(line, "RCPT", 4) == 0)
			nrcpt++;
		fake_say(c, r);
	}
}

pid_t
fake_start(const struct fake_script *sc, const char *capture, int *port)
{
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);

	ck_assert_int_ge(lfd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 5), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid > 0) {
		close(lfd);
		return pid;
	}
	alarm(60);	/* whatever happens, this server ends */
	struct fake_conn *c = calloc(1, sizeof(*c));
	c->cap = open(capture, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	c->fd = accept(lfd, NULL, NULL);
	if (c->cap < 0 || c->fd < 0)
		_exit(1);
	fake_session(c, sc);
	_exit(0);
}

void
fake_stop(pid_t pid)
{
	int st;

	for (int i = 0; i < 300; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}
