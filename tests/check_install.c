/*
 * check_install.c - psmtpd as an operator and a plugin author meet it:
 * installed with `make install DESTDIR=...` from this build tree, then
 *
 *   - the layout of the install (binary, plugins, header, .pc, config, man);
 *   - `psmtpd -t` on the installed sample config (0) and on broken ones
 *     (FILE:LINE and 1);
 *   - contrib/example-plugin built against the installed header and
 *     psmtpd.pc only, loaded by the installed psmtpd, its verb and its
 *     policy hook checked over SMTP;
 *   - contrib/init.d/psmtpd driving the installed server (start, status,
 *     reload, restart, stop) as a non-root user on a loopback port;
 *   - the man pages lint clean, the systemd unit verifies (each skipped
 *     with a message when the tool is missing).
 *
 * Why in `make check` and not installcheck: CI runs `make check`, and a
 * DESTDIR install is harmless to the build tree and needs no root.  The
 * install runs once, in main(), before check forks the tests.  What only
 * a real install can show (plugins found by name in $(pkglibdir) without
 * PSMTPD_PLUGIN_PATH) is in tests/ops.am's installcheck-local, which
 * distcheck runs.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "delivery_testutil.h"

#define OPS_CMD_MAX 8192
#define OPS_REPLY_MAX 4096

/* The install: written once by main() before check forks the tests. */
static struct {
	char tmp[256];		/* private temporary directory */
	char destdir[300];	/* tmp/dest */
	char psmtpd[1024];	/* the installed binary */
	char plugindir[1024];	/* the installed $(pkglibdir) */
	char conf[1024];	/* the installed sample config */
	char pcdir[1024];	/* where psmtpd.pc is */
	int installed;		/* make install succeeded */
} ops;

/* ops_inst - the path of an installed file: DESTDIR + dir + "/" + name.
 * No check calls: main() uses it before the tests run. */
static int
ops_inst(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s%s%s%s", ops.destdir, dir,
	    name[0] != '\0' ? "/" : "", name);

	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* ops_run - sh -c cmd, stdout and stderr into log, bounded by timeout
 * seconds.  Its exit status, 128 for a signal, -1 on a time-out or when
 * it cannot run.  No check calls, for main() too. */
static int
ops_run(const char *cmd, const char *log, int timeout)
{
	int status;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		FILE *f = freopen(log, "w", stdout);
		if (f == NULL || dup2(1, 2) == -1)
			_exit(126);
		setpgid(0, 0);	/* one group: a time-out kills it all */
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < timeout * 20; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* ops_vsh - a shell command in a test: its exit status, its output in
 * *out when asked; a time-out fails the test. */
static int
ops_vsh(char **out, int timeout, const char *fmt, va_list ap)
{
	char cmd[OPS_CMD_MAX], log[300];

	ck_assert_int_lt(vsnprintf(cmd, sizeof(cmd), fmt, ap), sizeof(cmd));
	snprintf(log, sizeof(log), "%s/sh.out", ops.tmp);
	int r = ops_run(cmd, log, timeout);
	ck_assert_msg(r != -1, "timed out after %ds: %s", timeout, cmd);
	if (out != NULL) {
		*out = tu_read_file(log, NULL);
		ck_assert_ptr_nonnull(*out);
	}
	return r;
}

static int
ops_sh(char **out, int timeout, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
ops_sh(char **out, int timeout, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = ops_vsh(out, timeout, fmt, ap);
	va_end(ap);
	return r;
}

/* ops_have - whether a program is on PATH. */
static int
ops_have(const char *prog)
{
	return ops_sh(NULL, 10, "command -v %s >/dev/null 2>&1", prog) == 0;
}

/* ops_free_port - a loopback port that was free a moment ago. */
static int
ops_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_addr = { htonl(INADDR_LOOPBACK) } };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* ops_connect - connect to 127.0.0.1:port, retrying for up to 5 s while
 * the server comes up; -1 when it never does. */
static int
ops_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((unsigned short)port),
	    .sin_addr = { htonl(INADDR_LOOPBACK) } };
	struct timeval tv = { 10, 0 };

	for (int i = 0; i < 100; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_ne(fd, -1);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* ops_reply_done - whether buf ends with the last line of a reply. */
static int
ops_reply_done(const char *buf, size_t n)
{
	if (n < 2 || buf[n - 1] != '\n')
		return 0;
	const char *line = buf + n - 1;
	while (line > buf && line[-1] != '\n')
		line--;
	return strlen(line) >= 4 && line[3] == ' ';
}

/* ops_reply - read one (multi-line) reply; its code, -1 on EOF. */
static int
ops_reply(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t r = recv(fd, buf + n, size - 1 - n, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = '\0';
		if (ops_reply_done(buf, n))
			return atoi(buf);
	}
	buf[n] = '\0';
	return -1;
}

/* ops_cmd - send one line (CRLF added) and read the reply; its code. */
static int
ops_cmd(int fd, const char *line, char *buf, size_t size)
{
	char out[1024];
	int n = snprintf(out, sizeof(out), "%s\r\n", line);

	ck_assert(n > 0 && (size_t)n < sizeof(out));
	ck_assert_int_eq(send(fd, out, (size_t)n, MSG_NOSIGNAL), n);
	return ops_reply(fd, buf, size);
}

/* ops_wait_exit - wait up to seconds for a child; its exit status. */
static int
ops_wait_exit(pid_t pid, int seconds)
{
	int status;

	for (int i = 0; i < seconds * 20; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) :
			    128 + WTERMSIG(status);
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* ops_spawn - the installed psmtpd in the foreground with a config; its
 * stderr in tmp/NAME.log. */
static pid_t
ops_spawn(const char *conf, const char *name)
{
	char log[300];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/%s.log", ops.tmp, name);
	fflush(NULL);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		if (freopen(log, "w", stderr) == NULL)
			_exit(126);
		execl(ops.psmtpd, "psmtpd", "-n", "-C", conf, (char *)NULL);
		_exit(127);
	}
	/* For main() to stop it should the test fail with it running. */
	char text[32];
	snprintf(log, sizeof(log), "%s/%s.pid", ops.tmp, name);
	snprintf(text, sizeof(text), "%ld\n", (long)pid);
	tu_write_file(log, text, 0);
	return pid;
}

/* ---- the install ---------------------------------------------------- */

/* The files make install puts, relative to DESTDIR. */
static const struct { const char *dir, *name; } ops_layout[] = {
	{ OPS_SBINDIR, "psmtpd" },
	{ OPS_PKGLIBDIR, "debugging.so" },
	{ OPS_PKGLIBDIR, "sink.so" },
	{ OPS_PKGLIBDIR, "proxy.so" },
	{ OPS_INCLUDEDIR, "psmtpd/plugin.h" },
	{ OPS_LIBDIR, "pkgconfig/psmtpd.pc" },
	{ OPS_SYSCONFDIR, "psmtpd.conf" },
	{ OPS_MANDIR, "man8/psmtpd.8" },
	{ OPS_MANDIR, "man5/psmtpd.conf.5" },
	{ OPS_MANDIR, "man3/psmtpd-plugin.3" },
	{ OPS_EXAMPLEDIR, "xstats.c" },
	{ OPS_EXAMPLEDIR, "Makefile" },
	{ OPS_EXAMPLEDIR, "README" },
};
#define OPS_NLAYOUT (int)(sizeof(ops_layout) / sizeof(ops_layout[0]))

START_TEST(test_layout)
{
	char path[1024];
	struct stat st;

	ck_assert_msg(ops.installed, "make install failed, see %s/install.log",
	    ops.tmp);
	ck_assert_int_eq(ops_inst(path, sizeof(path), ops_layout[_i].dir,
	    ops_layout[_i].name), 0);
	ck_assert_msg(stat(path, &st) == 0, "not installed: %s", path);
	ck_assert_int_gt(st.st_size, 0);
}
END_TEST

START_TEST(test_binary_runs)
{
	char *out = NULL;

	ck_assert_int_eq(ops_sh(&out, 10, "'%s' -V", ops.psmtpd), 0);
	ck_assert_msg(strstr(out, "psmtpd " PACKAGE_VERSION) != NULL,
	    "-V said: %s", out);
	free(out);
	ck_assert_int_eq(ops_sh(NULL, 10, "'%s' -x", ops.psmtpd), 2);
}
END_TEST

/* An edited config survives a second install. */
START_TEST(test_config_kept)
{
	char *text;

	tu_write_file(ops.conf, "# edited by the operator\n", 0);
	ck_assert_int_eq(ops_sh(NULL, 300, "unset MAKEFLAGS MFLAGS; "
	    "cd '%s' && %s install DESTDIR='%s'", OPS_BUILDDIR, OPS_MAKE,
	    ops.destdir), 0);
	text = tu_read_file(ops.conf, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "# edited by the operator\n");
	free(text);
	ck_assert_int_eq(ops_sh(NULL, 10, "cp '%s/etc/psmtpd.conf' '%s'",
	    OPS_SRCDIR, ops.conf), 0);
}
END_TEST

/* ---- psmtpd -t ------------------------------------------------------ */

START_TEST(test_sample_config)
{
	char *out = NULL;

	/* The sample runs the workers as the system user psmtpd: -t says
	 * how to create it where it does not exist (as here). */
	if (getpwnam("psmtpd") == NULL) {
		ck_assert_int_eq(ops_sh(&out, 10, "'%s' -t -C '%s'",
		    ops.psmtpd, ops.conf), 1);
		ck_assert_msg(strstr(out, "adduser --system") != NULL, "%s",
		    out);
		free(out);
		out = NULL;
	}
	ck_assert_int_eq(ops_sh(&out, 10, "'%s' -t -C '%s' -o user=nobody "
	    "-o group=nogroup", ops.psmtpd, ops.conf), 0);
	ck_assert_msg(strstr(out, "configuration OK") != NULL, "%s", out);
	free(out);
}
END_TEST

/* Broken configs: each names its file and line and exits 1. */
static const struct { const char *file, *where, *what; } ops_broken[] = {
	{ "unknown-setting.conf", ":3:", "data_size_limt" },
	{ "wrong-type.conf", ":4:", "max_workers" },
	{ "syntax-error.conf", ":3:", "syntax error" },
	{ "bad-value.conf", ":2:", "command_size_limit" },
	{ "bad-listen.conf", ":3:", "99999" },
	{ "bad-facility.conf", ":3:", "email" },
	{ "no-plugin.conf", ":4:", "no-such-plugin" },
	{ "plugin-setting.conf", ":4:", "colour" },
	/* a check across two settings blames the later one */
	{ "conflict.conf", ":3:", "decode_data and enable_smtputf8" },
};
#define OPS_NBROKEN (int)(sizeof(ops_broken) / sizeof(ops_broken[0]))

START_TEST(test_broken_config)
{
	char *out = NULL, want[512];

	ck_assert_int_eq(ops_sh(&out, 10, "cd '%s/tests/data/ops' && "
	    "'%s' -t -C %s", OPS_SRCDIR, ops.psmtpd, ops_broken[_i].file), 1);
	snprintf(want, sizeof(want), "%s%s", ops_broken[_i].file,
	    ops_broken[_i].where);
	if (ops_broken[_i].where[0] != '\0')
		ck_assert_msg(strstr(out, want) != NULL, "want %s in: %s",
		    want, out);
	ck_assert_msg(strstr(out, ops_broken[_i].what) != NULL,
	    "want %s in: %s", ops_broken[_i].what, out);
	ck_assert_msg(strstr(out, "configuration OK") == NULL, "%s", out);
	free(out);
}
END_TEST

/* ---- the example plugin, out of tree -------------------------------- */

/* ops_build_example - copy the installed example (share/doc/psmtpd/
 * examples/example-plugin), build it with the installed psmtpd.pc only,
 * and install it into the plugin directory that the .pc names; the path
 * of the built .so in so. */
static void
ops_build_example(char *so, size_t size)
{
	char *out = NULL, src[1024];

	ck_assert_int_eq(ops_inst(src, sizeof(src), OPS_EXAMPLEDIR, ""), 0);
	/* PKG_CONFIG_SYSROOT_DIR makes the .pc's paths point into DESTDIR;
	 * PKG_CONFIG_LIBDIR (not _PATH) hides any other psmtpd.pc. */
	int r = ops_sh(&out, 120, "rm -rf '%1$s/ex' && "
	    "cp -R '%2$s' '%1$s/ex' && "
	    "chmod -R u+w '%1$s/ex' && cd '%1$s/ex' && "
	    "unset MAKEFLAGS MFLAGS; PKG_CONFIG_LIBDIR='%3$s' "
	    "PKG_CONFIG_SYSROOT_DIR='%4$s' make clean all install 2>&1",
	    ops.tmp, src, ops.pcdir, ops.destdir);
	ck_assert_msg(r == 0, "example plugin build failed: %s", out);
	ck_assert_msg(strstr(out, ops.destdir) != NULL,
	    "not built with the installed header: %s", out);
	free(out);
	ck_assert_int_lt(snprintf(so, size, "%s/ex/xstats.so", ops.tmp), size);
}

/* ops_example_conf - a config loading the example by name (from the
 * plugin directory it was installed into) then `after` (a plugin entry). */
static void
ops_example_conf(char *conf, size_t size, int port, const char *spool,
    const char *after)
{
	char text[2048];

	snprintf(conf, size, "%s/example.conf", ops.tmp);
	snprintf(text, sizeof(text),
	    "listen = [ \"127.0.0.1:%d\" ];\n"
	    "pool = { start = 1; min_spare = 1; max_spare = 1; "
	    "max_workers = 1; };\n"
	    "plugins = (\n"
	    "  { name = \"xstats\";\n"
	    "    settings = { reject_domains = [ \"blocked.example\" ];\n"
	    "                 spool = \"%s\"; }; },\n"
	    "  %s\n);\n", port, spool, after);
	tu_write_file(conf, text, 0);
}

/* ops_example_session - the verb, the policy hook and a message. */
static void
ops_example_session(int fd)
{
	char r[OPS_REPLY_MAX];

	ck_assert_int_eq(ops_reply(fd, r, sizeof(r)), 220);
	ck_assert_int_eq(ops_cmd(fd, "EHLO client.example", r, sizeof(r)), 250);
	ck_assert_msg(strstr(r, "250-XSTATS") != NULL, "EHLO: %s", r);
	ck_assert_int_eq(ops_cmd(fd, "HELP", r, sizeof(r)), 250);
	ck_assert_msg(strstr(r, "XSTATS") != NULL, "HELP: %s", r);
	ck_assert_int_eq(ops_cmd(fd, "XSTATS", r, sizeof(r)), 250);
	ck_assert_msg(strstr(r, "250 messages=0") != NULL, "%s", r);
	ck_assert_int_eq(ops_cmd(fd, "MAIL FROM:<a@client.example>", r,
	    sizeof(r)), 250);
	ck_assert_int_eq(ops_cmd(fd, "RCPT TO:<x@blocked.example>", r,
	    sizeof(r)), 550);
	ck_assert_int_eq(ops_cmd(fd, "RCPT TO:<y@ok.example>", r, sizeof(r)),
	    250);
	ck_assert_int_eq(ops_cmd(fd, "DATA", r, sizeof(r)), 354);
	ck_assert_int_eq(ops_cmd(fd, "Subject: t\r\n\r\nhello xstats\r\n.", r,
	    sizeof(r)), 250);
	ck_assert_int_eq(ops_cmd(fd, "XSTATS", r, sizeof(r)), 250);
	ck_assert_msg(strstr(r, "250-rejected=1") != NULL &&
	    strstr(r, "250-undone=0") != NULL &&
	    strstr(r, "250 messages=1") != NULL, "%s", r);
	ck_assert_int_eq(ops_cmd(fd, "XSTATS now", r, sizeof(r)), 501);
	ck_assert_int_eq(ops_cmd(fd, "QUIT", r, sizeof(r)), 221);
}

START_TEST(test_example_plugin)
{
	char so[1024], conf[1024], spool[300], msg[400], path[800], *text;
	char *out = NULL;
	int port = ops_free_port();

	ops_build_example(so, sizeof(so));
	snprintf(spool, sizeof(spool), "%s/spool", ops.tmp);
	ck_assert_int_eq(mkdir(spool, 0700), 0);
	ops_example_conf(conf, sizeof(conf), port, spool,
	    "{ name = \"sink\"; }");
	ck_assert_int_eq(ops_sh(&out, 10, "'%s' -t -n -C '%s'", ops.psmtpd,
	    conf), 0);
	free(out);

	pid_t pid = ops_spawn(conf, "example");
	int fd = ops_connect(port);
	ck_assert_msg(fd != -1, "the server did not come up; see %s/example.log",
	    ops.tmp);
	ops_example_session(fd);
	close(fd);
	kill(pid, SIGTERM);
	ck_assert_int_eq(ops_wait_exit(pid, 40), 0);
	snprintf(path, sizeof(path), "%s/example.pid", ops.tmp);
	unlink(path);

	/* The stored message: the worker's pid, the first message. */
	ck_assert_int_eq(tu_count_dir(spool), 1);
	ck_assert_int_eq(tu_dir_entry(spool, 0, msg, sizeof(msg)), 0);
	snprintf(path, sizeof(path), "%s/%s", spool, msg);
	text = tu_read_file(path, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "X-Envelope-From: <a@client.example>\n"
	    "X-Xstats: worker=") && strstr(text, "\nSubject: t\n\nhello "
	    "xstats"), "%s", text);
	free(text);
}
END_TEST

/* The outcome hook: a later plugin refuses the message (pipe to
 * /bin/false), the client gets no 2xx, and the example takes back the
 * copy it had stored. */
START_TEST(test_example_plugin_outcome)
{
	char so[1024], conf[1024], spool[300], r[OPS_REPLY_MAX];
	int port = ops_free_port();

	ops_build_example(so, sizeof(so));
	snprintf(spool, sizeof(spool), "%s/spool-undo", ops.tmp);
	ck_assert_int_eq(mkdir(spool, 0700), 0);
	ops_example_conf(conf, sizeof(conf), port, spool, "{ name = \"pipe\"; "
	    "settings = { command = [ \"/bin/false\" ]; }; }");
	pid_t pid = ops_spawn(conf, "example-undo");
	int fd = ops_connect(port);
	ck_assert_msg(fd != -1, "the server did not come up");
	ck_assert_int_eq(ops_reply(fd, r, sizeof(r)), 220);
	ck_assert_int_eq(ops_cmd(fd, "HELO c", r, sizeof(r)), 250);
	ck_assert_int_eq(ops_cmd(fd, "MAIL FROM:<a@c>", r, sizeof(r)), 250);
	ck_assert_int_eq(ops_cmd(fd, "RCPT TO:<y@ok.example>", r, sizeof(r)),
	    250);
	ck_assert_int_eq(ops_cmd(fd, "DATA", r, sizeof(r)), 354);
	int code = ops_cmd(fd, "hello\r\n.", r, sizeof(r));
	ck_assert_msg(code >= 400, "%d %s", code, r);
	ck_assert_int_eq(ops_cmd(fd, "XSTATS", r, sizeof(r)), 250);
	ck_assert_msg(strstr(r, "250-undone=1") != NULL &&
	    strstr(r, "250 messages=0") != NULL, "%s", r);
	ck_assert_int_eq(ops_cmd(fd, "QUIT", r, sizeof(r)), 221);
	close(fd);
	kill(pid, SIGTERM);
	ck_assert_int_eq(ops_wait_exit(pid, 40), 0);
	ck_assert_int_eq(tu_count_dir(spool), 0);
}
END_TEST

/* A bad plugin setting fails -t with the config file and line. */
START_TEST(test_example_plugin_bad_setting)
{
	char so[1024], conf[1024], *out = NULL;

	ops_build_example(so, sizeof(so));
	snprintf(conf, sizeof(conf), "%s/bad-example.conf", ops.tmp);
	char text[1500];
	snprintf(text, sizeof(text), "plugins = (\n  { path = \"%s\";\n"
	    "    settings = { reject_domains = 5; }; }\n);\n", so);
	tu_write_file(conf, text, 0);
	ck_assert_int_eq(ops_sh(&out, 10, "'%s' -t -n -C '%s'", ops.psmtpd,
	    conf), 1);
	ck_assert_msg(strstr(out, "bad-example.conf:3") != NULL &&
	    strstr(out, "reject_domains") != NULL, "%s", out);
	free(out);
}
END_TEST

/* ---- contrib/init.d/psmtpd ----------------------------------------- */

/* ops_init_setup - a run directory for one test: a sink config on a free
 * port, the defaults file the script reads, the pidfile place.  Returns
 * the port. */
static int
ops_init_setup(char *dir, size_t size, const char *name, const char *conf)
{
	char path[600], text[2048];
	int port = ops_free_port();

	ck_assert_int_lt(snprintf(dir, size, "%s/%s", ops.tmp, name), size);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/psmtpd.conf", dir);
	tu_write_file(path, conf, 0);
	snprintf(path, sizeof(path), "%s/defaults", dir);
	snprintf(text, sizeof(text), "PSMTPD='%s'\nCONFIG='%s/psmtpd.conf'\n"
	    "PIDFILE='%s/psmtpd.pid'\nSTOP_TIMEOUT=20\n"
	    "DAEMON_ARGS=\"-n -o listen=127.0.0.1:%d\"\n", ops.psmtpd, dir,
	    dir, port);
	tu_write_file(path, text, 0);
	return port;
}

static const char ops_init_conf[] =
    "plugins = ( { name = \"sink\"; } );\n"
    "pool = { start = 1; min_spare = 1; max_spare = 2; max_workers = 2; };\n"
    "timeouts = { shutdown = 5; };\n";

/* ops_init - run the init script with an action; its exit status. */
static int
ops_init(const char *dir, const char *action, char **out)
{
	return ops_sh(out, 60, "PSMTPD_DEFAULTS='%s/defaults' sh "
	    "'%s/contrib/init.d/psmtpd' %s", dir, OPS_SRCDIR, action);
}

/* ops_read_pid - the pid in a file, 0 if none.  No check calls: main()
 * uses it. */
static long
ops_read_pid(const char *path)
{
	char *text;
	long pid = 0;

	if ((text = tu_read_file(path, NULL)) != NULL)
		pid = strtol(text, NULL, 10);
	free(text);
	return pid;
}

/* ops_init_pid - the pid in a run directory's pidfile, 0 if none. */
static long
ops_init_pid(const char *dir)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/psmtpd.pid", dir);
	return ops_read_pid(path);
}

/* ops_greets - whether the server on port says 220. */
static int
ops_greets(int port)
{
	char r[OPS_REPLY_MAX];
	int fd = ops_connect(port);

	if (fd == -1)
		return 0;
	int code = ops_reply(fd, r, sizeof(r));
	close(fd);
	return code == 220;
}

/* ops_init_expect - an action, its exit status and a word of its output. */
static void
ops_init_expect(const char *dir, const char *action, int status,
    const char *word)
{
	char *out = NULL;
	int r = ops_init(dir, action, &out);

	ck_assert_msg(r == status && strstr(out, word) != NULL,
	    "%s: exit %d (want %d), want '%s' in: %s", action, r, status,
	    word, out);
	free(out);
}

START_TEST(test_init_cycle)
{
	char dir[400];
	int port = ops_init_setup(dir, sizeof(dir), "init-cycle",
	    ops_init_conf);

	ops_init_expect(dir, "status", 3, "not running");
	ops_init_expect(dir, "start", 0, "started");
	long pid = ops_init_pid(dir);
	ck_assert_int_gt(pid, 0);
	ck_assert(ops_greets(port));
	ops_init_expect(dir, "status", 0, "is running");
	ops_init_expect(dir, "start", 0, "already running");
	ops_init_expect(dir, "reload", 0, "reloading");
	ops_init_expect(dir, "status", 0, "is running");
	ck_assert_int_eq(ops_init_pid(dir), pid);
	ck_assert(ops_greets(port));
	ops_init_expect(dir, "force-reload", 0, "reloading");
	ops_init_expect(dir, "restart", 0, "started");
	ck_assert_int_ne(ops_init_pid(dir), pid);
	pid = ops_init_pid(dir);
	ck_assert(ops_greets(port));
	ops_init_expect(dir, "stop", 0, "stopped");
	ops_init_expect(dir, "status", 3, "not running");
	ck_assert_int_eq(ops_init_pid(dir), 0);
	ck_assert_int_eq(kill((pid_t)pid, 0), -1);
	ops_init_expect(dir, "stop", 0, "not running");
	ops_init_expect(dir, "reload", 7, "not running");
	ops_init_expect(dir, "bogus", 2, "Usage");
}
END_TEST

/* start refuses a broken config, and says where it is broken. */
START_TEST(test_init_broken_start)
{
	char dir[400];

	ops_init_setup(dir, sizeof(dir), "init-broken", "pool = { bogus = 1; };\n");
	ops_init_expect(dir, "start", 6, "psmtpd.conf:1:");
	ops_init_expect(dir, "status", 3, "not running");
	ops_init_expect(dir, "configtest", 1, "bogus");
}
END_TEST

/* restart and reload with a broken config leave the server running. */
START_TEST(test_init_broken_reload)
{
	char dir[400], conf[600];
	int port = ops_init_setup(dir, sizeof(dir), "init-reload",
	    ops_init_conf);

	ops_init_expect(dir, "start", 0, "started");
	long pid = ops_init_pid(dir);
	snprintf(conf, sizeof(conf), "%s/psmtpd.conf", dir);
	tu_write_file(conf, "listen = 25\n", 0);
	ops_init_expect(dir, "restart", 6, "psmtpd.conf:");
	ops_init_expect(dir, "reload", 1, "not reloading");
	ops_init_expect(dir, "status", 0, "is running");
	ck_assert_int_eq(ops_init_pid(dir), pid);
	ck_assert(ops_greets(port));
	tu_write_file(conf, ops_init_conf, 0);
	ops_init_expect(dir, "stop", 0, "stopped");
}
END_TEST

/* ops_add_init_tests - the init script's tests into tc. */
static void
ops_add_init_tests(TCase *tc)
{
	tcase_add_test(tc, test_init_cycle);
	tcase_add_test(tc, test_init_broken_start);
	tcase_add_test(tc, test_init_broken_reload);
}

/* ops_cleanup - stop what a failed test left running. */
static void
ops_cleanup(void)
{
	static const char *const pidfiles[] = {
		"init-cycle/psmtpd.pid", "init-broken/psmtpd.pid",
		"init-reload/psmtpd.pid", "example.pid",
	};

	char path[600];

	for (size_t i = 0; i < sizeof(pidfiles) / sizeof(pidfiles[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", ops.tmp, pidfiles[i]);
		long pid = ops_read_pid(path);
		if (pid > 0)
			kill((pid_t)pid, SIGTERM);
	}
}

/* ---- man pages and the systemd unit ------------------------------- */

static const char *const ops_man[] = {
	"man8/psmtpd.8", "man5/psmtpd.conf.5", "man3/psmtpd-plugin.3",
};

/* Each page through each linter: _i is linter * 3 + page. */
static const struct { const char *tool, *cmd; } ops_linters[] = {
	{ "groff", "groff -ww -z -man" },
	{ "mandoc", "mandoc -T lint" },
};
#define OPS_NLINT (int)(sizeof(ops_linters) / sizeof(ops_linters[0]) * 3)

START_TEST(test_man_lint)
{
	const char *tool = ops_linters[_i / 3].tool, *name = ops_man[_i % 3];
	char page[1024], *out = NULL;

	if (!ops_have(tool)) {
		printf("SKIP: %s is not installed, %s not checked\n", tool,
		    name);
		return;
	}
	ck_assert_int_eq(ops_inst(page, sizeof(page), OPS_MANDIR, name), 0);
	int r = ops_sh(&out, 30, "%s '%s'", ops_linters[_i / 3].cmd, page);
	ck_assert_msg(r == 0 && out[0] == '\0', "%s on %s: exit %d: %s",
	    tool, name, r, out);
	free(out);
}
END_TEST

/* The unit with its paths pointed into the install, so that verify finds
 * the executables. */
START_TEST(test_systemd_unit)
{
	char *out = NULL;

	if (!ops_have("systemd-analyze")) {
		printf("SKIP: systemd-analyze is not installed, "
		    "contrib/systemd/psmtpd.service not verified\n");
		return;
	}
	int r = ops_sh(&out, 60, "sed -e 's|/usr/sbin/psmtpd|%s|g' "
	    "-e 's|/etc/psmtpd.conf|%s|g' "
	    "'%s/contrib/systemd/psmtpd.service' >'%s/psmtpd.service' && "
	    "systemd-analyze verify --man=no '%s/psmtpd.service'",
	    ops.psmtpd, ops.conf, OPS_SRCDIR, ops.tmp, ops.tmp);
	ck_assert_msg(r == 0 && out[0] == '\0', "systemd-analyze: %s", out);
	free(out);
}
END_TEST

/* The shell scripts at least parse, with a strict POSIX shell if any. */
START_TEST(test_scripts_parse)
{
	static const char *const scripts[] = {
		"contrib/init.d/psmtpd", "contrib/openrc/psmtpd",
	};
	const char *sh = ops_have("dash") ? "dash" : "sh";

	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		ck_assert_msg(ops_sh(NULL, 10, "%s -n '%s/%s'", sh, OPS_SRCDIR,
		    scripts[i]) == 0, "%s does not parse", scripts[i]);
}
END_TEST

/* ---- setup ------------------------------------------------------------- */

/* ops_install - make install DESTDIR=tmp/dest from the build tree;
 * whether it worked. */
static int
ops_install(void)
{
	char cmd[2048], log[300];

	snprintf(log, sizeof(log), "%s/install.log", ops.tmp);
	/* The parent make's jobserver and flags are not for this one. */
	snprintf(cmd, sizeof(cmd), "unset MAKEFLAGS MFLAGS; cd '%s' && "
	    "%s install DESTDIR='%s'", OPS_BUILDDIR, OPS_MAKE, ops.destdir);
	return ops_run(cmd, log, 600) == 0;
}

/* ops_setup_paths - a private directory and where the install lands. */
static int
ops_setup_paths(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(ops.tmp, sizeof(ops.tmp), "%s/psmtpd-ops-XXXXXX",
	    t != NULL && t[0] != '\0' ? t : "/tmp");
	if (mkdtemp(ops.tmp) == NULL) {
		perror(ops.tmp);
		return -1;
	}
	snprintf(ops.destdir, sizeof(ops.destdir), "%s/dest", ops.tmp);
	if (ops_inst(ops.psmtpd, sizeof(ops.psmtpd), OPS_SBINDIR, "psmtpd") ||
	    ops_inst(ops.plugindir, sizeof(ops.plugindir), OPS_PKGLIBDIR, "") ||
	    ops_inst(ops.conf, sizeof(ops.conf), OPS_SYSCONFDIR,
	    "psmtpd.conf") ||
	    ops_inst(ops.pcdir, sizeof(ops.pcdir), OPS_LIBDIR, "pkgconfig")) {
		fprintf(stderr, "%s: paths too long\n", ops.tmp);
		return -1;
	}
	/* The installed binary looks in $(pkglibdir), outside DESTDIR. */
	setenv("PSMTPD_PLUGIN_PATH", ops.plugindir, 1);
	unsetenv("PKG_CONFIG_PATH");
	return 0;
}

static Suite *
ops_suite(void)
{
	Suite *s = suite_create("install");
	TCase *tc;

	tc = tcase_create("layout");
	tcase_set_timeout(tc, 320);
	tcase_add_loop_test(tc, test_layout, 0, OPS_NLAYOUT);
	tcase_add_test(tc, test_binary_runs);
	tcase_add_test(tc, test_config_kept);
	suite_add_tcase(s, tc);

	tc = tcase_create("config");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_sample_config);
	tcase_add_loop_test(tc, test_broken_config, 0, OPS_NBROKEN);
	suite_add_tcase(s, tc);

	tc = tcase_create("example-plugin");
	tcase_set_timeout(tc, 150);
	tcase_add_test(tc, test_example_plugin);
	tcase_add_test(tc, test_example_plugin_bad_setting);
	tcase_add_test(tc, test_example_plugin_outcome);
	suite_add_tcase(s, tc);

	tc = tcase_create("init");
	tcase_set_timeout(tc, 120);
	ops_add_init_tests(tc);
	tcase_add_test(tc, test_systemd_unit);
	tcase_add_test(tc, test_scripts_parse);
	suite_add_tcase(s, tc);

	tc = tcase_create("man");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_man_lint, 0, OPS_NLINT);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	if (ops_setup_paths() != 0)
		return 1;
	ops.installed = ops_install();
	if (!ops.installed)
		fprintf(stderr, "make install DESTDIR=%s failed; see %s/install.log\n",
		    ops.destdir, ops.tmp);
	int status = tu_run_suite(ops_suite());
	ops_cleanup();
	if (status == 0 && getenv("OPS_KEEP") == NULL) {
		/* rm -rf: the install is deeper than tu_rmtree() goes
		 * (distcheck's prefix alone is six levels). */
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ops.tmp);
		if (ops_run(cmd, "/dev/null", 60) != 0)
			fprintf(stderr, "could not remove %s\n", ops.tmp);
	} else
		fprintf(stderr, "kept %s\n", ops.tmp);
	return status;
}
