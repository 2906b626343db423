/*
 * daemon_util.c - the real daemon in tests.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/daemon_util.h"

#ifndef TESTS_BUILDDIR
#define TESTS_BUILDDIR "."
#endif

/* du_sockaddr - host:port as a sockaddr. */
static socklen_t
du_sockaddr(const char *host, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, host, &s6->sin6_addr);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &s4->sin_addr);
	return sizeof(*s4);
}

int
du_free_port(const char *host)
{
	struct sockaddr_storage ss;
	socklen_t len = du_sockaddr(host, 0, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	int port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		port = ss.ss_family == AF_INET6 ?
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
		    ntohs(((struct sockaddr_in *)&ss)->sin_port);
	close(fd);
	return port;
}

int
du_connect(const struct du_daemon *d)
{
	struct sockaddr_storage ss;
	socklen_t len = du_sockaddr(d->host, d->port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* du_exec - the child: stdout/stderr to files, limits, exec psmtpd. */
static void
du_exec(const char *out, const char *err, const char *const *argv,
    const struct du_opts *opts)
{
	if (opts != NULL && opts->fsize_limit > 0) {
		struct rlimit rl = { (rlim_t)opts->fsize_limit,
		    (rlim_t)opts->fsize_limit };
		if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR ||
		    setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(126);
	}
	int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
		_exit(127);
	setenv("PSMTPD_PLUGIN_PATH", TESTS_BUILDDIR "/.libs", 1);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

/* du_wait_ready - until a connection gets a reply (the 220, or what a
 * connect hook answers instead), 10 s at most. */
static int
du_wait_ready(struct du_daemon *d)
{
	for (int i = 0; i < 200; i++) {
		int fd = du_connect(d);
		if (fd >= 0) {
			char buf[4];
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int ok = poll(&p, 1, 2000) == 1 &&
			    recv(fd, buf, 3, MSG_WAITALL) == 3 &&
			    buf[0] >= '2' && buf[0] <= '5';
			close(fd);
			if (ok)
				return 0;
		}
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
			d->pid = -1;
			return -1;
		}
		usleep(50000);
	}
	return -1;
}

int
du_start(struct du_daemon *d, const char *host, const char *const *args)
{
	return du_start_with(d, host, args, NULL);
}

int
du_start_with(struct du_daemon *d, const char *host,
    const char *const *args, const struct du_opts *opts)
{
	const char *argv[64];
	char local[128];
	int n = 0;

	memset(d, 0, sizeof(*d));
	snprintf(d->host, sizeof(d->host), "%s", host);
	snprintf(d->out, sizeof(d->out), "/tmp/psmtpd-test-out.%d.%ld",
	    (int)getpid(), (long)time(NULL) ^ (long)random());
	snprintf(d->err, sizeof(d->err), "%.200s.err", d->out);
	for (int attempt = 0; attempt < 5; attempt++) {
		d->port = du_free_port(host);
		snprintf(local, sizeof(local), strchr(host, ':') ? "[%s]:%d" :
		    "%s:%d", host, d->port);
		n = 0;
		argv[n++] = TESTS_BUILDDIR "/psmtpd";
		for (size_t i = 0; args[i] != NULL && n < 62; i++)
			argv[n++] = args[i];
		argv[n++] = local;
		argv[n] = NULL;
		d->pid = fork();
		if (d->pid < 0)
			return -1;
		if (d->pid == 0)
			du_exec(d->out, d->err, argv, opts);
		if (du_wait_ready(d) == 0)
			return 0;
		if (d->pid > 0)
			du_stop(d);
	}
	char *e = du_slurp(d->err);
	fprintf(stderr, "psmtpd did not start:\n%s\n", e ? e : "");
	free(e);
	return -1;
}

int
du_stop(struct du_daemon *d)
{
	int status = -1;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	for (int i = 0; i < 200; i++) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = -1;
			return status;
		}
		usleep(50000);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = -1;
	return status;
}

int
du_session(const struct du_daemon *d, const char *payload,
    struct su_buf *replies)
{
	int fd = du_connect(d);

	if (fd < 0)
		return -1;
	int r = su_exchange(fd, payload, strlen(payload), replies, 20);
	close(fd);
	return r;
}

char *
du_slurp(const char *path)
{
	return su_read_file(path);
}

int
du_run(const char *const *args, struct su_buf *output)
{
	int pfd[2];
	const char *argv[64];
	int n = 0, status = -1;

	argv[n++] = TESTS_BUILDDIR "/psmtpd";
	for (size_t i = 0; args[i] != NULL && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe(pfd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		setenv("PSMTPD_PLUGIN_PATH", TESTS_BUILDDIR "/.libs", 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	char chunk[4096];
	ssize_t r;
	time_t end = time(NULL) + 20;
	while (time(NULL) < end) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		if (poll(&p, 1, 1000) <= 0)
			continue;
		if ((r = read(pfd[0], chunk, sizeof(chunk))) <= 0)
			break;
		su_buf_put(output, chunk, (size_t)r);
	}
	close(pfd[0]);
	int reaped = 0;
	for (int i = 0; i < 100 && !reaped; i++) {
		reaped = waitpid(pid, &status, WNOHANG) == pid;
		if (!reaped)
			usleep(50000);
	}
	if (!reaped) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	su_buf_put(output, "", 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
