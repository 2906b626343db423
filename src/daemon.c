/*
 * daemon.c - detach and the pidfile; see daemon.h.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

/* daemon_read_pid - the pid in a pidfile: >0, 0 when absent or not a
 * pid, -1 on a read error. */
static long
daemon_read_pid(const char *path)
{
	char buf[32];
	ssize_t n;
	char *end;
	long pid;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') ||
	    pid <= 0)
		return 0;
	return pid;
}

/* daemon_comm - the program name of a process (Linux /proc), "" if it
 * cannot be read. */
static void
daemon_comm(const char *pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	if ((f = fopen(path, "re")) == NULL)
		return;
	if (fgets(buf, (int)size, f) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* daemon_same_program - whether pid runs the program we run.  Where the
 * name cannot be told (no /proc), a live pid is taken to be ours. */
static int
daemon_same_program(long pid)
{
	char theirs[64], ours[64], num[32];

	snprintf(num, sizeof(num), "%ld", pid);
	daemon_comm(num, theirs, sizeof(theirs));
	daemon_comm("self", ours, sizeof(ours));
	if (theirs[0] == '\0' || ours[0] == '\0')
		return 1;
	return strcmp(theirs, ours) == 0;
}

int
daemon_pidfile_live(const char *path, char *err, size_t errlen)
{
	long pid = daemon_read_pid(path);

	if (pid < 0) {
		snprintf(err, errlen, "pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	if (pid == 0 || pid == (long)getpid())
		return 0;
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		return 0;
	if (!daemon_same_program(pid))
		return 0;
	snprintf(err, errlen, "pidfile %s names running psmtpd pid %ld", path,
	    pid);
	return 1;
}

int
daemon_pidfile_write(const char *path, pid_t pid, char *err, size_t errlen)
{
	char tmp[4096], line[32];
	int fd, n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "pidfile %s: name too long", path);
		return -1;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)pid);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		snprintf(err, errlen, "pidfile %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write(fd, line, (size_t)n) != n || fsync(fd) == -1) {
		snprintf(err, errlen, "pidfile %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		snprintf(err, errlen, "pidfile %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

void
daemon_pidfile_remove(const char *path, pid_t pid)
{
	if (path[0] != '\0' && daemon_read_pid(path) == (long)pid)
		unlink(path);
}

int
daemon_abspath(const char *path, char *out, size_t size)
{
	char cwd[4096];

	if (path[0] == '/') {
		if (snprintf(out, size, "%s", path) >= (int)size)
			return -1;
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	if (snprintf(out, size, "%s/%s", cwd, path) >= (int)size)
		return -1;
	return 0;
}

/* daemon_wait_ready - in the calling process: wait for the daemon's word
 * and exit with it.  EOF without a word means it died. */
__attribute__((noreturn)) static void
daemon_wait_ready(int fd, pid_t child)
{
	char c = '1';
	ssize_t n;

	/* The first child exits right after the second fork. */
	while (waitpid(child, NULL, 0) == -1 && errno == EINTR)
		;
	do
		n = read(fd, &c, 1);
	while (n == -1 && errno == EINTR);
	_exit(n == 1 && c == '0' ? 0 : 1);
}

int
daemon_detach(int *ready_fd, char *err, size_t errlen)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		daemon_wait_ready(p[0], pid);
	}
	close(p[0]);
	/* A new session without a controlling terminal; the second fork
	 * makes sure we never get one back (not a session leader). */
	if (setsid() == -1)
		_exit(1);
	if ((pid = fork()) == -1)
		_exit(1);
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1) {
		fprintf(stderr, "psmtpd: chdir /: %s\n", strerror(errno));
		_exit(1);
	}
	umask(022);
	*ready_fd = p[1];
	return 0;
}

void
daemon_ready(int ready_fd, int ok)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (ready_fd != -1) {
		char c = ok ? '0' : '1';
		ssize_t n = write(ready_fd, &c, 1);
		(void)n;
		close(ready_fd);
	}
}
