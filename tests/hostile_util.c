/*
 * hostile_util.c - see hostile_util.h.
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "tests/hostile_util.h"

#ifndef HARD_PSMTPD
#define HARD_PSMTPD "./psmtpd"
#endif
#ifndef HARD_PLUGIN_PATH
#define HARD_PLUGIN_PATH "./.libs"
#endif

#define HU_MAX_ARGS 64

long long
hu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* hu_free_port - a port the kernel just gave out on 127.0.0.1. */
static int
hu_free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = -1;

	if (fd < 0)
		return -1;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* hu_write_config - listen address and the maildir plugin. */
static int
hu_write_config(const struct hu_daemon *d, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "listen = [ \"127.0.0.1:%d\" ];\n"
	    "plugins = ( { name = \"maildir\"; settings = { dir = \"%s\";"
	    " add_headers = false; }; } );\n", d->port, d->maildir);
	return fclose(f) == 0 ? 0 : -1;
}

/* hu_exec - the child: the daemon, under $HU_WRAPPER (valgrind) if set;
 * it dies with the test process that started it. */
static void
hu_exec(const struct hu_daemon *d, const char *conf, const char *const *opts)
{
	char *argv[HU_MAX_ARGS + 8];
	char logpath[256], *wrapper = NULL;
	int n = 0;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	snprintf(logpath, sizeof(logpath), "%s/log", d->dir);
	int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 ||
	    dup2(fd, STDOUT_FILENO) < 0)
		_exit(126);
	if (getenv("HU_WRAPPER") != NULL && *getenv("HU_WRAPPER") != '\0') {
		wrapper = strdup(getenv("HU_WRAPPER"));
		for (char *t = strtok(wrapper, " "); t != NULL &&
		    n < HU_MAX_ARGS / 2; t = strtok(NULL, " "))
			argv[n++] = t;
	}
	argv[n++] = (char *)HARD_PSMTPD;
	argv[n++] = (char *)"-n";
	argv[n++] = (char *)"-C";
	argv[n++] = (char *)conf;
	for (size_t i = 0; opts != NULL && opts[i] != NULL &&
	    n < HU_MAX_ARGS; i++) {
		argv[n++] = (char *)"-o";
		argv[n++] = (char *)opts[i];
	}
	argv[n] = NULL;
	setenv("PSMTPD_PLUGIN_PATH", HARD_PLUGIN_PATH, 1);
	execvp(argv[0], argv);
	_exit(127);
}

/* hu_wait_ready - the daemon answers 220 within timeout_ms. */
static int
hu_wait_ready(const struct hu_daemon *d, int timeout_ms)
{
	long long end = hu_now_ms() + timeout_ms;
	char text[512];

	while (hu_now_ms() < end) {
		struct hu_conn c;
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid)
			return -1;
		if (hu_connect(&c, d->port) == 0) {
			int code = hu_reply(&c, text, sizeof(text), 5000);
			hu_close(&c);
			if (code == 220)
				return 0;
		}
		usleep(50 * 1000);
	}
	return -1;
}

int
hu_start(struct hu_daemon *d, const char *const *opts)
{
	char conf[256];
	const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	snprintf(d->dir, sizeof(d->dir), "%s/psmtpd-hard.XXXXXX", tmp);
	if (mkdtemp(d->dir) == NULL)
		return -1;
	snprintf(d->maildir, sizeof(d->maildir), "%s/Maildir", d->dir);
	snprintf(conf, sizeof(conf), "%s/psmtpd.conf", d->dir);
	/* A port can be taken between the probe and the bind: retry. */
	for (int attempt = 0; attempt < 3; attempt++) {
		d->port = hu_free_port();
		if (d->port < 0 || hu_write_config(d, conf) != 0)
			return -1;
		d->pid = fork();
		if (d->pid < 0)
			return -1;
		if (d->pid == 0)
			hu_exec(d, conf, opts);
		int wait = getenv("HU_WRAPPER") != NULL ? 60000 : 10000;
		if (hu_wait_ready(d, wait) == 0)
			return 0;
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = -1;
	}
	return -1;
}

/* hu_rmtree - the scratch dir and the maildir below it. */
static void
hu_rmtree(const char *path)
{
	DIR *dir = opendir(path);
	char sub[512];

	if (dir != NULL) {
		for (struct dirent *e; (e = readdir(dir)) != NULL;) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			if (unlink(sub) != 0)
				hu_rmtree(sub);	/* a directory */
		}
		closedir(dir);
	}
	rmdir(path);
}

int
hu_wait(struct hu_daemon *d, int timeout_ms)
{
	long long end = hu_now_ms() + timeout_ms;
	int status;

	while (d->pid > 0 && hu_now_ms() < end) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = -1;
			return status;
		}
		usleep(20 * 1000);
	}
	return -1;
}

int
hu_stop(struct hu_daemon *d)
{
	int status = -1;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		long long end = hu_now_ms() + (getenv("HU_WRAPPER") != NULL ?
		    60000 : 15000);
		while (hu_now_ms() < end) {
			if (waitpid(d->pid, &status, WNOHANG) == d->pid)
				break;
			usleep(20 * 1000);
		}
		if (hu_now_ms() >= end) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
		}
		d->pid = -1;
	}
	if (getenv("HU_KEEP") == NULL)
		hu_rmtree(d->dir);
	return status;
}

char *
hu_log(const struct hu_daemon *d)
{
	char path[256];
	FILE *f;
	char *buf = calloc(1, 8193);

	snprintf(path, sizeof(path), "%s/log", d->dir);
	if (buf != NULL && (f = fopen(path, "r")) != NULL) {
		/* the tail is what tells */
		if (fseek(f, -8192, SEEK_END) != 0)
			rewind(f);
		size_t n = fread(buf, 1, 8192, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

int
hu_connect(struct hu_conn *c, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	c->len = 0;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
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
		long long left = deadline - hu_now_ms();
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
	long long deadline = hu_now_ms() + timeout_ms;
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
	long long deadline = hu_now_ms() + timeout_ms;
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
	long long deadline = hu_now_ms() + timeout_ms;

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

/* hu_slurp - a whole file. */
static char *
hu_slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *p = NULL;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && (p = malloc((size_t)st.st_size + 1))) {
		ssize_t n = read(fd, p, (size_t)st.st_size);
		if (n != st.st_size) {
			free(p);
			p = NULL;
		} else {
			p[n] = '\0';
			*len = (size_t)n;
		}
	}
	close(fd);
	return p;
}

size_t
hu_delivered(const struct hu_daemon *d, char **contents, size_t *lens,
    size_t max)
{
	char path[512];
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/new", d->maildir);
	DIR *dir = opendir(path);
	if (dir == NULL)
		return 0;
	for (struct dirent *e; (e = readdir(dir)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		if (contents != NULL && n < max) {
			char file[1024];
			snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
			contents[n] = hu_slurp(file, &lens[n]);
		}
		n++;
	}
	closedir(dir);
	return n;
}
