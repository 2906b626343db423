/*
 * tls_util.c - certificates and real clients for the TLS tests; see
 * tls_util.h.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/tls_util.h"

const char *
tu_path(char *buf, size_t size, const char *dir, const char *name,
    const char *ext)
{
	snprintf(buf, size, "%s/%s.%s", dir, name, ext);
	return buf;
}

/* tu_now_ms - a monotonic clock. */
static long long
tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* tu_child - in the child: stdin from the pipe, output to the other. */
__attribute__((noreturn)) static void
tu_child(const char *const *argv, int in[2], int out[2])
{
	if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
		_exit(126);
	close(in[1]);
	close(out[0]);
	execvp(argv[0], (char *const *)argv);
	_exit(127);
}

/* tu_collect - read the child's output until EOF or the deadline. */
static int
tu_collect(int fd, char *out, size_t size, long long end)
{
	size_t len = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = end - tu_now_ms();
		char sink[4096];
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		ssize_t n = len + 1 < size ? read(fd, out + len,
		    size - 1 - len) : read(fd, sink, sizeof(sink));
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0 && len + 1 < size) {
			len += (size_t)n;
			out[len] = '\0';
		}
	}
}

int
tu_run(const char *const *argv, const char *in, char *out, size_t size,
    int timeout_s)
{
	int pin[2], pout[2], status, rc;
	pid_t pid;

	if (size > 0)
		out[0] = '\0';
	if (pipe(pin) != 0)
		return -1;
	if (pipe(pout) != 0) {
		close(pin[0]);
		close(pin[1]);
		return -1;
	}
	if ((pid = fork()) == 0)
		tu_child(argv, pin, pout);
	close(pin[0]);
	close(pout[1]);
	signal(SIGPIPE, SIG_IGN);
	if (in != NULL && write(pin[1], in, strlen(in)) < 0)
		perror("tu_run: write");
	close(pin[1]);
	rc = pid > 0 ? tu_collect(pout[0], out, size,
	    tu_now_ms() + timeout_s * 1000LL) : -1;
	close(pout[0]);
	if (pid <= 0)
		return -1;
	if (rc != 0)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid || rc != 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
tu_have(const char *prog)
{
	const char *argv[] = { "sh", "-c", "command -v \"$0\"", prog, NULL };
	char out[512];

	return tu_run(argv, NULL, out, sizeof(out), 10) == 0;
}

int
tu_s_client(int port, const char *const *opts, const char *in, char *out,
    size_t size)
{
	const char *argv[16] = { "openssl", "s_client", "-connect" };
	char addr[32];
	size_t n = 3;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	argv[n++] = addr;
	while (*opts != NULL && n < sizeof(argv) / sizeof(argv[0]) - 1)
		argv[n++] = *opts++;
	if (*opts != NULL)
		return -1;
	return tu_run(argv, in, out, size, 20);
}

int
tu_python(const char *script, char *out, size_t size)
{
	const char *argv[] = { "python3", "-c", script, NULL };

	return tu_run(argv, NULL, out, size, 30);
}

/* tu_openssl - run openssl with args; 0 or -1 (its output printed). */
static int
tu_openssl(const char *const *argv)
{
	char out[4096];

	if (tu_run(argv, NULL, out, sizeof(out), 30) == 0)
		return 0;
	fprintf(stderr, "tu: %s %s failed: %s\n", argv[0], argv[1], out);
	return -1;
}

int
tu_make_cert(const char *dir, const char *name, const char *cn)
{
	char crt[512], key[512], subj[300], san[300];

	snprintf(subj, sizeof(subj), "/CN=%s", cn);
	snprintf(san, sizeof(san), "subjectAltName=DNS:%s", cn);
	const char *argv[] = { "openssl", "req", "-x509", "-newkey", "ec",
	    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
	    "-keyout", tu_path(key, sizeof(key), dir, name, "key"),
	    "-out", tu_path(crt, sizeof(crt), dir, name, "crt"),
	    "-subj", subj, "-days", "2", "-addext", san, NULL };
	return tu_openssl(argv);
}

int
tu_make_ca_client(const char *dir, const char *name, const char *client_cn)
{
	char ca[512], cakey[512], csr[512], crt[512], key[512], subj[300];

	if (tu_make_cert(dir, name, "ca.psmtpd.test") != 0)
		return -1;
	snprintf(subj, sizeof(subj), "/CN=%s", client_cn);
	const char *req[] = { "openssl", "req", "-new", "-newkey", "ec",
	    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
	    "-keyout", tu_path(key, sizeof(key), dir, "client", "key"),
	    "-out", tu_path(csr, sizeof(csr), dir, "client", "csr"),
	    "-subj", subj, NULL };
	const char *sign[] = { "openssl", "x509", "-req", "-in", csr,
	    "-CA", tu_path(ca, sizeof(ca), dir, name, "crt"),
	    "-CAkey", tu_path(cakey, sizeof(cakey), dir, name, "key"),
	    "-CAcreateserial", "-days", "2",
	    "-out", tu_path(crt, sizeof(crt), dir, "client", "crt"), NULL };
	return tu_openssl(req) == 0 && tu_openssl(sign) == 0 ? 0 : -1;
}
