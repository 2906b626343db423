/*
 * py_check.c - import and check the user's class at init, in a child
 * process that is thrown away: the master never runs Python, so a syntax
 * error, a missing module or class, a wrong base class or an import that
 * crashes is a start error (and a -t error), never a dead master.  The
 * child reports one line on a pipe: "ok VERB ..." or "error TEXT".
 */
#include "autoconfig.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "python.h"

#define PY_CHECK_SECONDS 30
#define PY_CHECK_REPORT_MAX 4096

/* py_check_instance - the instance, made as a worker will make it, and
 * what it chose: " size=N utf8=B decode=B". */
static int
py_check_instance(const struct py_host *h, PyObject *host, char *out,
    size_t size)
{
	PyObject *server, *st;
	long long n;
	int utf8, decode;

	if ((server = py_make_server(h, host)) == NULL)
		return -1;
	st = py_host_call(host, "settings", "(O)", server);
	Py_DECREF(server);
	if (st == NULL || !PyArg_ParseTuple(st, "Lpp", &n, &utf8, &decode)) {
		Py_XDECREF(st);
		return -1;
	}
	Py_DECREF(st);
	snprintf(out, size, " size=%lld utf8=%d decode=%d", n, utf8, decode);
	return 0;
}

/* py_check_report - what the child found, as its one line. */
static void
py_check_report(const struct py_host *h, const psmtpd_init *ctx, char *out,
    size_t size)
{
	PyObject *host, *cls = NULL, *verbs = NULL;
	char err[PY_ERR_MAX] = "", chosen[128] = "";
	size_t off;

	/* the user's code runs as the workers' user, here as there */
	if (psmtpd_init_drop_privileges(ctx) != 0) {
		snprintf(out, size, "error cannot become the workers' user: "
		    "%s", strerror(errno));
		return;
	}
	if (py_start(h, &host, err, sizeof(err)) != 0) {
		snprintf(out, size, "error %s", err);
		return;
	}
	if ((cls = py_host_call(host, "load", "(s)", h->classname)) == NULL ||
	    (verbs = py_host_call(host, "verbs", "(O)", cls)) == NULL ||
	    py_check_instance(h, host, chosen, sizeof(chosen)) != 0) {
		if (PyErr_Occurred())
			py_error_line(host, err, sizeof(err));
		snprintf(out, size, "error %s", err[0] ? err : chosen);
		return;
	}
	off = (size_t)snprintf(out, size, "ok%s", chosen);
	for (Py_ssize_t i = 0; PyList_Check(verbs) &&
	    i < PyList_GET_SIZE(verbs) && off < size; i++) {
		const char *v = PyUnicode_AsUTF8(PyList_GET_ITEM(verbs, i));
		off += (size_t)snprintf(out + off, size - off, " %s",
		    v != NULL ? v : "?");
	}
}

/* py_check_exit - leave the child at once: it is a copy of the master
 * that only reports one line, so nothing of the master's (atexit
 * handlers, stdio buffers, a sanitizer's exit-time leak check of the
 * master's memory) may run.  exit_group is _exit without interposers. */
static void
py_check_exit(int status)
{
	syscall(SYS_exit_group, status);
	_exit(status);
}

/* py_check_child - in the child: check, report, exit. */
static void
py_check_child(const struct py_host *h, const psmtpd_init *ctx, int fd)
{
	char line[PY_CHECK_REPORT_MAX];
	size_t off = 0, len;

	py_check_report(h, ctx, line, sizeof(line) - 1);
	len = strlen(line);
	line[len++] = '\n';
	while (off < len) {
		ssize_t w = write(fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			py_check_exit(1);
		off += (size_t)w;
	}
	py_check_exit(0);
}

/* py_check_read - the child's line, within the time limit; its length,
 * or -1 on time-out. */
static ssize_t
py_check_read(int fd, char *buf, size_t size)
{
	time_t end = time(NULL) + PY_CHECK_SECONDS;
	size_t off = 0;

	while (off + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(end - time(NULL));
		if (left <= 0)
			return -1;
		int r = poll(&p, 1, left * 1000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? -1 : (ssize_t)off;
		ssize_t n = read(fd, buf + off, size - 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	return (ssize_t)off;
}

/* py_check_wait - reap the child; kill it first when it overran. */
static int
py_check_wait(pid_t pid, bool kill_it)
{
	int status;

	if (kill_it)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* py_check_word - one word of the "ok" line: a setting the instance
 * chose, or a verb. */
static int
py_check_word(struct py_host *h, const char *w)
{
	if (strncmp(w, "size=", 5) == 0)
		h->chosen_size = strtoll(w + 5, NULL, 10);
	else if (strncmp(w, "utf8=", 5) == 0)
		h->chosen_smtputf8 = w[5] == '1';
	else if (strncmp(w, "decode=", 7) == 0)
		h->chosen_decode = w[7] == '1';
	else if (strcmp(w, "channel=1") == 0)
		h->channel = true;
	else if (h->nverbs < PY_VERBS_MAX && strlen(w) < PY_VERB_LEN)
		snprintf(h->verbs[h->nverbs++], PY_VERB_LEN, "%s", w);
	else
		return -1;
	return 0;
}

/* py_check_parse - "ok size=N utf8=B decode=B [channel=1] VERB ..."
 * into h, or the error. */
static int
py_check_parse(struct py_host *h, char *line, char *err, size_t errlen)
{
	char *save = NULL;

	line[strcspn(line, "\n")] = '\0';
	if (strncmp(line, "ok ", 3) != 0) {
		snprintf(err, errlen, "%s", strncmp(line, "error ", 6) == 0 ?
		    line + 6 : "the Python check failed");
		return -1;
	}
	h->nverbs = 0;
	for (char *w = strtok_r(line + 3, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save))
		if (py_check_word(h, w) != 0) {
			snprintf(err, errlen, "too many or too long smtp_ "
			    "verbs in %s (at most %d)", h->classname,
			    PY_VERBS_MAX);
			return -1;
		}
	return 0;
}

int
py_check(struct py_host *h, const psmtpd_init *ctx, char *err,
    size_t errlen)
{
	char line[PY_CHECK_REPORT_MAX];
	int fds[2];
	pid_t pid;

	if (pipe(fds) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);	/* nothing of the master's written twice */
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		py_check_child(h, ctx, fds[1]);
	}
	close(fds[1]);
	ssize_t n = py_check_read(fds[0], line, sizeof(line));
	close(fds[0]);
	int status = py_check_wait(pid, n < 0);
	if (n < 0) {
		snprintf(err, errlen, "importing %s took longer than %d s",
		    h->classname, PY_CHECK_SECONDS);
		return -1;
	}
	if (n == 0) {
		snprintf(err, errlen, "the Python check of %s died (%s %d)",
		    h->classname, WIFSIGNALED(status) ? "signal" : "status",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
		return -1;
	}
	return py_check_parse(h, line, err, errlen);
}
