/*
 * plugin_trial.c - a new generation's plugins loaded and initialised
 * first in a disposable child process.  A plugin whose init crashes
 * (SIGSEGV) or hangs takes the child with it, and the master reports
 * which plugin it was, instead of dying (-t exits 1 with a message, a
 * reload keeps the running generation).  Every init therefore runs twice.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "plugin_loader.h"
#include "plugin_trial.h"

#define TRIAL_BUF 4096

void
plugin_trial_progress(int fd, char kind, const char *fmt, ...)
{
	char line[1500];
	va_list ap;

	if (fd < 0)
		return;
	line[0] = kind;
	va_start(ap, fmt);
	vsnprintf(line + 1, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	size_t n = strlen(line);
	line[n] = '\n';
	/* a short write only shortens the report */
	ssize_t w = write(fd, line, n + 1);
	(void)w;
}

/* trial_child - load, init, fini, and say how it went. */
__attribute__((noreturn)) static void
trial_child(const struct config *cfg, const char *fqdn,
    const char *plugindir, int fd)
{
	struct plugin_set *set;
	char err[1024];

	if (plugin_set_load_traced(cfg, fqdn, plugindir, fd, &set, err,
	    sizeof(err)) != 0) {
		/* one 'E' line for each line of the message */
		for (char *l = err, *nl; l != NULL; l = nl) {
			if ((nl = strchr(l, '\n')) != NULL)
				*nl++ = '\0';
			plugin_trial_progress(fd, 'E', "%s", l);
		}
		_exit(1);
	}
	plugin_trial_progress(fd, 'I', "fini");
	plugin_set_free(set);
	_exit(0);
}

/* trial_read - what the child writes, until EOF or the deadline; false
 * when the deadline passed. */
static bool
trial_read(int fd, char *buf, size_t size)
{
	size_t len = 0;
	time_t end = time(NULL) + PLUGIN_TRIAL_TIMEOUT;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(end - time(NULL));
		if (left <= 0)
			return false;
		int r = poll(&p, 1, left * 1000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? false : true;
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == size - 1)	/* keep the last part */
			len = 0;
		buf[len] = '\0';
	}
	buf[len] = '\0';
	return true;
}

/* trial_lines - the text of the lines of the given kind: the last one,
 * or all joined by LF; "" when there is none. */
static void
trial_lines(const char *buf, char kind, bool all, char *out, size_t size)
{
	size_t off = 0;

	out[0] = '\0';
	for (const char *l = buf; l != NULL && *l != '\0';) {
		const char *nl = strchr(l, '\n');
		size_t n = nl != NULL ? (size_t)(nl - l) : strlen(l);
		if (l[0] == kind && n > 1) {
			off = all ? strlen(out) : 0;
			snprintf(out + off, size - off, "%s%.*s", off ? "\n" :
			    "", (int)(n - 1), l + 1);
		}
		l = nl != NULL ? nl + 1 : NULL;
	}
}

/* trial_verdict - the child's end in words, into err. */
static int
trial_verdict(int status, bool in_time, const char *buf, char *err,
    size_t errlen)
{
	char who[1200], what[1200];

	trial_lines(buf, 'I', false, who, sizeof(who));
	trial_lines(buf, 'E', true, what, sizeof(what));
	if (!in_time)
		snprintf(err, errlen, "%s: init did not finish within %d "
		    "seconds (tried in a child process; nothing changed)",
		    who[0] ? who : "plugins", PLUGIN_TRIAL_TIMEOUT);
	else if (WIFSIGNALED(status))
		snprintf(err, errlen, "%s: %s crashed with signal %d (%s) "
		    "(tried in a child process; nothing changed)",
		    who[0] ? who : "plugins", strcmp(who, "fini") == 0 ?
		    "fini" : "init", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	else
		snprintf(err, errlen, "%s", what[0] ? what : "plugin load "
		    "failed in its trial");
	return -1;
}

int
plugin_set_trial(const struct config *cfg, const char *fqdn,
    const char *plugindir, char *err, size_t errlen)
{
	int p[2], status = 0;
	char buf[TRIAL_BUF];
	pid_t pid;

	if (cfg->nplugins == 0)
		return 0;
	if (pipe2(p, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		snprintf(err, errlen, "cannot try the plugins in a child: %s",
		    strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		trial_child(cfg, fqdn, plugindir, p[1]);
	}
	close(p[1]);
	bool in_time = trial_read(p[0], buf, sizeof(buf));
	close(p[0]);
	if (!in_time)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return trial_verdict(status, in_time, buf, err, errlen);
}
