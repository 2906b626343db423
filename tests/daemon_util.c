/*
 * daemon_util.c - the real daemon in tests; see daemon_util.h.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
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

#include "tests/daemon_util.h"

#ifndef TESTS_BUILDDIR
#define TESTS_BUILDDIR "."
#endif
#define DU_PSMTPD TESTS_BUILDDIR "/psmtpd"
#define DU_PLUGIN_PATH TESTS_BUILDDIR "/.libs"
#define DU_MAX_ARGS 64

/* ---- the core --------------------------------------------------------- */

long long
du_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
du_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

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
du_dial(const char *host, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = du_sockaddr(host, port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* du_env_add - append ":opt" to a sanitizer's options variable. */
static void
du_env_add(const char *name, const char *opt)
{
	const char *old = getenv(name);
	char buf[2048];

	snprintf(buf, sizeof(buf), "%s%s%s", old ? old : "",
	    old && *old ? ":" : "", opt);
	setenv(name, buf, 1);
}

/* du_limits - in the child: what opts asks for before exec.  A daemon
 * whose workers are meant to crash dies of the signal, as it would in
 * production, rather than a sanitizer turning the crash into a report
 * (which a sanitizer CI run counts as a failure); and leaves no core. */
static void
du_limits(const struct du_opts *o)
{
	if (o->deathsig != 0)
		prctl(PR_SET_PDEATHSIG, o->deathsig);
	if (o->fsize_limit > 0) {
		struct rlimit rl = { (rlim_t)o->fsize_limit,
		    (rlim_t)o->fsize_limit };
		if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR ||
		    setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(126);
	}
	if (o->crashes) {
		struct rlimit none = { 0, 0 };

		setrlimit(RLIMIT_CORE, &none);
		du_env_add("ASAN_OPTIONS", "handle_segv=0");
		du_env_add("UBSAN_OPTIONS", "handle_segv=0");
	}
}

/* du_exec - in the child: output files, limits, then argv under the
 * wrapper ($HU_WRAPPER, split at spaces) when asked for. */
__attribute__((noreturn)) static void
du_exec(const char *const *argv, const char *out, const char *err,
    const struct du_opts *o)
{
	const char *av[2 * DU_MAX_ARGS + 2];
	int flags = O_WRONLY | O_CREAT | (o->append ? O_APPEND : O_TRUNC);
	int n = 0, ofd = open(out, flags, 0600);
	int efd = strcmp(out, err) == 0 ? dup(ofd) : open(err, flags, 0600);
	char *w = o->wrapper ? getenv("HU_WRAPPER") : NULL;

	du_limits(o);
	if (ofd < 0 || efd < 0 || dup2(ofd, 1) < 0 || dup2(efd, 2) < 0)
		_exit(126);
	if (w != NULL && *w != '\0' && (w = strdup(w)) != NULL)
		for (char *t = strtok(w, " "); t != NULL && n < DU_MAX_ARGS;
		    t = strtok(NULL, " "))
			av[n++] = t;
	for (int i = 0; argv[i] != NULL && i < DU_MAX_ARGS; i++)
		av[n++] = argv[i];
	av[n] = NULL;
	setenv("PSMTPD_PLUGIN_PATH", DU_PLUGIN_PATH, 1);
	execvp(av[0], (char *const *)av);
	_exit(127);
}

pid_t
du_spawn(const char *const *argv, const char *out, const char *err,
    const struct du_opts *opts)
{
	static const struct du_opts none;
	pid_t pid = fork();

	if (pid == 0)
		du_exec(argv, out, err, opts != NULL ? opts : &none);
	return pid;
}

int
du_wait_up(pid_t pid, const char *host, int port, int timeout_ms,
    int *status)
{
	long long end = du_now_ms() + timeout_ms;

	while (du_now_ms() < end) {
		int fd = du_dial(host, port);
		if (fd >= 0) {
			char buf[4];
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int ok = poll(&p, 1, 5000) == 1 &&
			    recv(fd, buf, 3, MSG_WAITALL) == 3 &&
			    buf[0] >= '2' && buf[0] <= '5';
			close(fd);
			if (ok)
				return 0;
		}
		if (waitpid(pid, status, WNOHANG) == pid)
			return -1;
		du_sleep_ms(50);
	}
	return -2;
}

int
du_wait_pid(pid_t pid, int timeout_ms)
{
	long long end = du_now_ms() + timeout_ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r == -1 || du_now_ms() >= end)
			return -1;
		du_sleep_ms(20);
	}
}

int
du_kill_wait(pid_t pid, int timeout_ms)
{
	int status;

	kill(pid, SIGTERM);
	if ((status = du_wait_pid(pid, timeout_ms)) != -1)
		return status;
	kill(pid, SIGKILL);
	du_wait_pid(pid, 5000);
	return -1;
}

/* du_read - a whole file, NUL-terminated, its length in *len. */
static char *
du_read(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *p = NULL;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && (p = malloc((size_t)st.st_size + 1))) {
		ssize_t n = read(fd, p, (size_t)st.st_size);
		if (n < 0) {
			free(p);
			p = NULL;
		} else {
			p[n] = '\0';
			if (len != NULL)
				*len = (size_t)n;
		}
	}
	close(fd);
	return p;
}

char *
du_slurp(const char *path)
{
	return du_read(path, NULL);
}

bool
du_file_has(const char *path, const char *text, int timeout_ms)
{
	long long end = du_now_ms() + timeout_ms;

	for (;;) {
		char *s = du_read(path, NULL);
		bool has = s != NULL && strstr(s, text) != NULL;

		free(s);
		if (has)
			return true;
		if (du_now_ms() >= end)
			return false;
		du_sleep_ms(20);
	}
}

int
du_write_config(const char *path, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	FILE *f;
	int ok;

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp) ||
	    (f = fopen(tmp, "w")) == NULL)
		return -1;
	va_start(ap, fmt);
	ok = vfprintf(f, fmt, ap) >= 0;
	va_end(ap);
	if (fclose(f) != 0 || !ok || rename(tmp, path) != 0)
		return -1;
	return 0;
}

void
du_rmtree(const char *path)
{
	DIR *dir = opendir(path);
	char sub[1024];

	if (dir != NULL) {
		for (struct dirent *e; (e = readdir(dir)) != NULL;) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			if (unlink(sub) != 0)
				du_rmtree(sub);	/* a directory */
		}
		closedir(dir);
	}
	rmdir(path);
}

/* du_find_worker - in a log, the pid in "worker[PID]: connect ...
 * port=P\n". */
static pid_t
du_find_worker(const char *log, int client_port)
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
du_log_worker(const char *path, int client_port, int timeout_ms)
{
	long long end = du_now_ms() + timeout_ms;

	for (;;) {
		char *log = du_slurp(path);
		pid_t pid = log != NULL ? du_find_worker(log, client_port) : -1;

		free(log);
		if (pid > 0)
			return pid;
		if (du_now_ms() >= end)
			return -1;
		du_sleep_ms(50);
	}
}

int
du_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	return ss.ss_family == AF_INET6 ?
	    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
	    ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* ---- du_*: any args, output in temp files ----------------------------- */

int
du_connect(const struct du_daemon *d)
{
	return du_dial(d->host, d->port);
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
	const char *argv[DU_MAX_ARGS];
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
		argv[n++] = DU_PSMTPD;
		for (size_t i = 0; args[i] != NULL && n < DU_MAX_ARGS - 2; i++)
			argv[n++] = args[i];
		argv[n++] = local;
		argv[n] = NULL;
		if ((d->pid = du_spawn(argv, d->out, d->err, opts)) < 0)
			return -1;
		int rc = du_wait_up(d->pid, host, d->port, 10000, NULL);
		if (rc == 0)
			return 0;
		if (rc == -2)
			du_stop(d);
		d->pid = -1;
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

	if (d->pid > 0)
		status = du_kill_wait(d->pid, 10000);
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

int
du_run(const char *const *args, struct su_buf *output)
{
	const char *argv[DU_MAX_ARGS];
	char out[64];
	int n = 0, fd, status;

	argv[n++] = DU_PSMTPD;
	for (size_t i = 0; args[i] != NULL && n < DU_MAX_ARGS - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	snprintf(out, sizeof(out), "/tmp/psmtpd-run.XXXXXX");
	if ((fd = mkstemp(out)) < 0)
		return -1;
	close(fd);
	pid_t pid = du_spawn(argv, out, out, NULL);
	if (pid < 0 || (status = du_wait_pid(pid, 20000)) == -1) {
		if (pid > 0)
			du_kill_wait(pid, 0);
		status = 128 << 8;
	}
	char *text = du_slurp(out);
	if (text != NULL)
		su_buf_puts(output, text);
	free(text);
	unlink(out);
	su_buf_put(output, "", 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* ---- pd_*: the pool tests --------------------------------------------- */

void
pd_path(const struct pd *d, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", d->dir, name);
}

/* pd_argv - psmtpd [-n] [-c SinkServer] args [127.0.0.1:PORT]: our own
 * leading markers "-N" leave out -n (to test the user switch), "-P"
 * leaves out -c SinkServer (the config names the plugins), "-L" the
 * localaddr. */
static void
pd_argv(const char **argv, const char *const *args, const char *addr)
{
	bool keep_user = true, sink = true, localaddr = true;
	int n = 0;

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
	argv[n++] = DU_PSMTPD;
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
	/* If the test dies, so does the daemon it started. */
	struct du_opts o = { .deathsig = SIGKILL, .crashes = d->crashes,
	    .append = true };
	const char *argv[PD_MAX_ARGS + 8];
	char addr[64];

	if (d->dir[0] == '\0')
		pd_prepare(d);
	if (d->port == 0)
		d->port = du_free_port("127.0.0.1");
	ck_assert_int_gt(d->port, 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", d->port);
	pd_argv(argv, args, addr);
	d->pid = du_spawn(argv, d->log, d->log, &o);
	ck_assert_int_ne(d->pid, -1);
}

int
pd_try_start(struct pd *d, const char *const *args)
{
	int status = 0;

	pd_spawn(d, args);
	switch (du_wait_up(d->pid, "127.0.0.1", d->port, 5000, &status)) {
	case 0:
		return -1;
	case -1:
		return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	default:
		return -2;
	}
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
	int status = du_wait_pid(pid, seconds * 1000);

	if (status == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status);
}

void
pd_cleanup(struct pd *d)
{
	if (d->dir[0] == '\0')
		return;
	/* A sanitizer build reports in the daemon's log, not in the exit
	 * status of every process: look there before the log goes. */
	ck_assert_msg(!pd_log_has(d, "Sanitizer", 0) &&
	    !pd_log_has(d, "runtime error:", 0), "sanitizer report in %s",
	    d->log);
	du_rmtree(d->dir);
	d->dir[0] = '\0';
}

int
pd_stop(struct pd *d)
{
	int status;

	if (d->pid <= 0)
		return -1;
	status = du_kill_wait(d->pid, 15000);
	d->pid = 0;
	if (status == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status);
}

/* pd_stat - the state letter and parent of a process (/proc/PID/stat). */
static char
pd_stat(const char *pid, long *ppid)
{
	char path[64], buf[512], *p, state = '\0';
	FILE *f;

	*ppid = -1;
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return '\0';
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		sscanf(p + 1, " %c %ld", &state, ppid);
	fclose(f);
	return state;
}

bool
pd_alive(pid_t pid)
{
	char s[32];
	long ppid;

	if (kill(pid, 0) == -1 && errno == ESRCH)
		return false;
	snprintf(s, sizeof(s), "%ld", (long)pid);
	char state = pd_stat(s, &ppid);
	return state != '\0' && state != 'Z' && state != 'X';
}

int
pd_workers(pid_t master, pid_t *pids, int max)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;
	long ppid;
	int n = 0;

	ck_assert_ptr_nonnull(dir);
	while ((e = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (pd_stat(e->d_name, &ppid) == '\0' || ppid != master)
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
		du_sleep_ms(50);
	}
	return -1;
}

bool
pd_log_has(const struct pd *d, const char *text, int seconds)
{
	return du_file_has(d->log, text, seconds * 1000);
}

pid_t
pd_log_worker(const struct pd *d, int client_port, int seconds)
{
	return du_log_worker(d->log, client_port, seconds * 1000);
}

/* ---- hu_*: the hostile-input and load tests --------------------------- */

/* hu_timeout - a wait for the daemon: longer under a wrapper. */
static int
hu_timeout(int native_ms)
{
	return getenv("HU_WRAPPER") != NULL ? 60000 : native_ms;
}

int
hu_start(struct hu_daemon *d, const char *const *opts)
{
	struct du_opts o = { .deathsig = SIGTERM, .wrapper = true,
	    .append = true };
	const char *argv[DU_MAX_ARGS + 8];
	char conf[256], log[256];
	const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	int n = 0;

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	snprintf(d->dir, sizeof(d->dir), "%s/psmtpd-hard.XXXXXX", tmp);
	if (mkdtemp(d->dir) == NULL)
		return -1;
	snprintf(d->maildir, sizeof(d->maildir), "%s/Maildir", d->dir);
	snprintf(conf, sizeof(conf), "%s/psmtpd.conf", d->dir);
	snprintf(log, sizeof(log), "%s/log", d->dir);
	argv[n++] = DU_PSMTPD;
	argv[n++] = "-n";
	argv[n++] = "-C";
	argv[n++] = conf;
	for (size_t i = 0; opts != NULL && opts[i] != NULL &&
	    n < DU_MAX_ARGS; i++) {
		argv[n++] = "-o";
		argv[n++] = opts[i];
	}
	argv[n] = NULL;
	/* A port can be taken between the probe and the bind: retry. */
	for (int attempt = 0; attempt < 3; attempt++) {
		d->port = du_free_port("127.0.0.1");
		if (d->port < 0 || du_write_config(conf,
		    "listen = [ \"127.0.0.1:%d\" ];\nplugins = ( { name = "
		    "\"maildir\"; settings = { dir = \"%s\"; add_headers = "
		    "false; }; } );\n", d->port, d->maildir) != 0)
			return -1;
		if ((d->pid = du_spawn(argv, log, log, &o)) < 0)
			return -1;
		if (du_wait_up(d->pid, "127.0.0.1", d->port,
		    hu_timeout(10000), NULL) == 0)
			return 0;
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = -1;
	}
	return -1;
}

int
hu_wait(struct hu_daemon *d, int timeout_ms)
{
	int status = -1;

	if (d->pid > 0 && (status = du_wait_pid(d->pid, timeout_ms)) != -1)
		d->pid = -1;
	return status;
}

int
hu_stop(struct hu_daemon *d)
{
	int status = -1;

	if (d->pid > 0)
		status = du_kill_wait(d->pid, hu_timeout(15000));
	d->pid = -1;
	if (getenv("HU_KEEP") == NULL)
		du_rmtree(d->dir);
	return status;
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
			contents[n] = du_read(file, &lens[n]);
		}
		n++;
	}
	closedir(dir);
	return n;
}
