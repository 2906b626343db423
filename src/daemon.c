/*
 * daemon.c - detach and the pidfile; see daemon.h.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

/* daemon_read_pid - the pid written in an open pidfile, 0 if none. */
static long
daemon_read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || pid <= 0)
		return 0;
	return pid;
}

/* daemon_pidfile_open - open (or create) the pidfile itself: never
 * through a symlink, and only a plain file with one name (a hard link
 * planted in a shared directory would make us write over its other
 * name).  The fd, or -1 with err. */
static int
daemon_pidfile_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0644);

	if (fd == -1) {
		snprintf(err, errlen, "pidfile %s: %s%s", path, strerror(errno),
		    errno == ELOOP ? " (a symlink: refused)" : "");
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		snprintf(err, errlen, "pidfile %s: not a plain file with one "
		    "name: refused", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* daemon_same_file - whether fd is still what path names (a stopping
 * daemon may have removed the file between our open and our lock). */
static bool
daemon_same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && lstat(path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int
daemon_pidfile_lock(const char *path, int *out, char *err, size_t errlen)
{
	for (int tries = 0; tries < 5; tries++) {
		int fd = daemon_pidfile_open(path, err, errlen);

		if (fd == -1)
			return -1;
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			int e = errno;
			long pid = daemon_read_pid(fd);

			close(fd);
			if (e == EWOULDBLOCK)
				snprintf(err, errlen, "pidfile %s is locked by "
				    "running psmtpd pid %ld", path, pid);
			else
				snprintf(err, errlen, "pidfile %s: lock: %s",
				    path, strerror(e));
			return -1;
		}
		if (daemon_same_file(fd, path)) {
			*out = fd;
			return 0;
		}
		close(fd);
	}
	snprintf(err, errlen, "pidfile %s keeps changing", path);
	return -1;
}

int
daemon_pidfile_put(int fd, pid_t pid, char *err, size_t errlen)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%ld\n", (long)pid);

	if (ftruncate(fd, 0) == -1 || pwrite(fd, line, (size_t)n, 0) != n ||
	    fsync(fd) == -1) {
		snprintf(err, errlen, "pidfile: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void
daemon_pidfile_release(const char *path, int fd)
{
	if (fd == -1)
		return;
	/* Still ours: we hold the lock, so nobody else wrote it. */
	if (daemon_same_file(fd, path))
		unlink(path);
	close(fd);
}

bool
daemon_syslog_reachable(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd == -1)
		return false;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", _PATH_LOG);
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return ok;
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
