/*
 * pool_util.c - start and watch the real daemon, and a small blocking
 * SMTP client; see pool_util.h.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pool_util.h"

void
pd_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
pd_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_addr = { htonl(INADDR_LOOPBACK) } };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = -1;

	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

void
pd_path(const struct pd *d, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", d->dir, name);
}

/* pd_env_add - append ":opt" to a sanitizer's options variable. */
static void
pd_env_add(const char *name, const char *opt)
{
	const char *old = getenv(name);
	char buf[2048];

	snprintf(buf, sizeof(buf), "%s%s%s", old ? old : "",
	    old && *old ? ":" : "", opt);
	setenv(name, buf, 1);
}

/* pd_crash_env - for a daemon whose workers are meant to crash: they die
 * of the signal, as they would in production, rather than a sanitizer
 * turning the crash into a report (which a sanitizer CI run counts as a
 * failure); and no core files. */
static void
pd_crash_env(void)
{
	struct rlimit none = { 0, 0 };

	setrlimit(RLIMIT_CORE, &none);
	pd_env_add("ASAN_OPTIONS", "handle_segv=0");
	pd_env_add("UBSAN_OPTIONS", "handle_segv=0");
}

/* pd_exec - in the child: the daemon, stderr to the log. */
__attribute__((noreturn)) static void
pd_exec(const struct pd *d, const char *const *args)
{
	const char *argv[PD_MAX_ARGS + 8];
	char addr[64];
	int n = 0, fd;

	/* If the test dies, so does the daemon it started. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd != -1) {
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", d->port);
	bool keep_user = true, sink = true, localaddr = true;

	/* Our own leading markers: "-N" leaves out -n (to test the user
	 * switch), "-P" leaves out -c SinkServer (the config names the
	 * plugins). */
	for (; args != NULL && args[0] != NULL; args++) {
		if (strcmp(args[0], "-N") == 0)
			keep_user = false;
		else if (strcmp(args[0], "-P") == 0)
			sink = false;
		else if (strcmp(args[0], "-L") == 0)
			localaddr = false;
		else
			break;
	}
	argv[n++] = POOL_PSMTPD;
	if (keep_user)
		argv[n++] = "-n";
	if (sink) {
		argv[n++] = "-c";
		argv[n++] = "SinkServer";
	}
	for (int i = 0; args != NULL && args[i] != NULL && i < PD_MAX_ARGS; i++)
		argv[n++] = args[i];
	if (localaddr)
		argv[n++] = addr;
	argv[n] = NULL;
	setenv("PSMTPD_PLUGIN_PATH", POOL_PLUGIN_PATH, 1);
	if (d->crashes)
		pd_crash_env();
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

/* pd_wait_up - wait until the daemon greets, or exits; -1 when up, else
 * its exit status. */
static int
pd_wait_up(struct pd *d)
{
	for (int i = 0; i < 100; i++) {
		char greet[512];
		int status, fd;

		if (waitpid(d->pid, &status, WNOHANG) == d->pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		fd = smtp_open(d->port, greet, sizeof(greet));
		if (fd != -1) {
			smtp_cmd(fd, "QUIT", greet, sizeof(greet));
			close(fd);
			return -1;
		}
		pd_sleep_ms(50);
	}
	return -2;
}

void
pd_prepare(struct pd *d)
{
	const char *tmp = getenv("TMPDIR");

	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "%s/pool-test-XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(d->dir));
	pd_path(d, "psmtpd.log", d->log, sizeof(d->log));
}

void
pd_spawn(struct pd *d, const char *const *args)
{
	if (d->dir[0] == '\0')
		pd_prepare(d);
	if (d->port == 0)
		d->port = pd_free_port();
	ck_assert_int_gt(d->port, 0);
	d->pid = fork();
	ck_assert_int_ne(d->pid, -1);
	if (d->pid == 0)
		pd_exec(d, args);
}

int
pd_try_start(struct pd *d, const char *const *args)
{
	pd_spawn(d, args);
	return pd_wait_up(d);
}

void
pd_start(struct pd *d, const char *const *args)
{
	int rc = -2;

	/* The free port may be taken between our probe and the bind: try
	 * again on another. */
	for (int i = 0; i < 3 && rc != -1; i++) {
		if (i > 0)
			d->port = 0;
		rc = pd_try_start(d, args);
	}
	ck_assert_msg(rc == -1, "psmtpd did not start (%d), see %s", rc,
	    d->log);
}

int
pd_wait_exit(pid_t pid, int seconds)
{
	for (int i = 0; i < seconds * 20; i++) {
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) :
			    128 + WTERMSIG(status);
		if (r == -1)
			return -1;
		pd_sleep_ms(50);
	}
	return -1;
}

void
pd_cleanup(struct pd *d)
{
	DIR *dir;
	struct dirent *e;

	if (d->dir[0] == '\0')
		return;
	/* A sanitizer build reports in the daemon's log, not in the exit
	 * status of every process: look there before the log goes. */
	ck_assert_msg(!pd_log_has(d, "Sanitizer", 0) &&
	    !pd_log_has(d, "runtime error:", 0), "sanitizer report in %s",
	    d->log);
	if ((dir = opendir(d->dir)) == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		char path[600];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", d->dir, e->d_name);
		unlink(path);
	}
	closedir(dir);
	rmdir(d->dir);
	d->dir[0] = '\0';
}

int
pd_stop(struct pd *d)
{
	int status;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	status = pd_wait_exit(d->pid, 15);
	if (status == -1) {
		kill(d->pid, SIGKILL);
		pd_wait_exit(d->pid, 5);
	}
	d->pid = 0;
	return status;
}

/* pd_ppid - the parent of a process, from /proc/PID/stat. */
static pid_t
pd_ppid(const char *pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	long ppid = -1;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		sscanf(p + 1, " %*c %ld", &ppid);
	fclose(f);
	return (pid_t)ppid;
}

bool
pd_alive(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool alive = false;

	if (kill(pid, 0) == -1 && errno == ESRCH)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return false;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		alive = p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return alive;
}

int
pd_workers(pid_t master, pid_t *pids, int max)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(dir);
	while ((e = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (pd_ppid(e->d_name) != master)
			continue;
		if (pids != NULL && n < max)
			pids[n] = (pid_t)atol(e->d_name);
		n++;
	}
	closedir(dir);
	return n;
}

int
pd_wait_workers(pid_t master, int lo, int hi, int seconds)
{
	int n = -1;

	for (int i = 0; i < seconds * 20; i++) {
		n = pd_workers(master, NULL, 0);
		if (n >= lo && n <= hi)
			return n;
		pd_sleep_ms(50);
	}
	return -1;
}

/* pd_read_log - the log so far, malloc'd. */
static char *
pd_read_log(const struct pd *d)
{
	FILE *f = fopen(d->log, "re");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	buf = malloc(1 << 20);
	if (buf == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

bool
pd_log_has(const struct pd *d, const char *text, int seconds)
{
	for (int i = 0; i <= seconds * 20; i++) {
		char *log = pd_read_log(d);
		bool has = log != NULL && strstr(log, text) != NULL;

		free(log);
		if (has)
			return true;
		if (i < seconds * 20)
			pd_sleep_ms(50);
	}
	return false;
}

/* pd_find_worker - in a log, the pid in "[PID]: connect ... port=P\n". */
static pid_t
pd_find_worker(const char *log, int client_port)
{
	char needle[32];
	const char *p;

	snprintf(needle, sizeof(needle), " port=%d\n", client_port);
	if ((p = strstr(log, needle)) == NULL)
		return -1;
	while (p > log && p[-1] != '\n')
		p--;
	if ((p = strstr(p, "worker[")) == NULL)
		return -1;
	return (pid_t)atol(p + 7);
}

pid_t
pd_log_worker(const struct pd *d, int client_port, int seconds)
{
	for (int i = 0; i < seconds * 20; i++) {
		char *log = pd_read_log(d);
		pid_t pid = log != NULL ? pd_find_worker(log, client_port) : -1;

		free(log);
		if (pid > 0)
			return pid;
		pd_sleep_ms(50);
	}
	return -1;
}

int
smtp_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((unsigned short)port),
	    .sin_addr = { htonl(INADDR_LOOPBACK) } };
	struct timeval tv = { 10, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
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

int
smtp_local_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
		return -1;
	return ntohs(sa.sin_port);
}

/* smtp_complete - whether buf holds a whole reply: it ends with a line
 * "NNN text\r\n" (a space after the code, not a '-'). */
static bool
smtp_complete(const char *buf, size_t n)
{
	size_t start;

	if (n < 2 || buf[n - 2] != '\r' || buf[n - 1] != '\n')
		return false;
	start = n - 2;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	return n - start >= 6 && buf[start + 3] == ' ';
}

/* smtp_code - the code of the last line of a complete reply. */
static int
smtp_code(const char *buf, size_t n)
{
	size_t start = n - 2;

	while (start > 0 && buf[start - 1] != '\n')
		start--;
	return atoi(buf + start);
}

int
smtp_reply(int fd, char *reply, size_t size)
{
	size_t n = 0;

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
		if (smtp_complete(reply, n))
			return smtp_code(reply, n);
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
	int code;

	if (smtp_cmd(fd, "MAIL FROM:<a@example.org>", reply, sizeof(reply))
	    != 250 || smtp_cmd(fd, "RCPT TO:<b@example.org>", reply,
	    sizeof(reply)) != 250 ||
	    smtp_cmd(fd, "DATA", reply, sizeof(reply)) != 354)
		return -1;
	if (smtp_send(fd, body) == -1)
		return -1;
	code = smtp_cmd(fd, ".", reply, sizeof(reply));
	return code;
}
