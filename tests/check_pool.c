/*
 * check_pool.c - unit tests of the process side: the pool arithmetic and
 * the crash back-off (tables), the listeners, the pidfile, privileges.
 * The daemon itself is tested by pool_daemon.c.
 */
#include "autoconfig.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "listen.h"
#include "master_int.h"
#include "privsep.h"
#include "worker.h"

/* ---- idle maintenance ------------------------------------------------ */

static const struct {
	struct idle_input in;
	int spawn, retire, rate;
	bool at_max;
} plan_rows[] = {
	/* idle busy live start min max maxw rate -> spawn retire rate */
	/* enough spares */
	{ { 5, 0, 5, 5, 5, 10, 150, 1 }, 0, 0, 1, false },
	{ { 7, 3, 10, 5, 5, 10, 150, 4 }, 0, 0, 1, false },
	/* an idle pool keeps `start`, even below min_spare */
	{ { 3, 0, 3, 3, 5, 10, 150, 1 }, 0, 0, 1, false },
	{ { 2, 0, 2, 3, 5, 10, 150, 1 }, 1, 0, 2, false },
	/* under load min_spare counts: shortfall or rate, the larger */
	{ { 2, 1, 3, 3, 5, 10, 150, 1 }, 3, 0, 2, false },
	{ { 0, 20, 20, 5, 5, 10, 150, 8 }, 8, 0, 16, false },
	{ { 0, 40, 40, 5, 5, 10, 150, 32 }, 32, 0, 32, false },
	{ { 0, 40, 40, 5, 5, 10, 150, 16 }, 16, 0, 32, false },
	/* never past max_workers */
	{ { 0, 18, 18, 5, 5, 10, 20, 8 }, 2, 0, 16, false },
	{ { 0, 20, 20, 5, 5, 10, 20, 8 }, 0, 0, 1, true },
	/* old generation workers count towards max_workers */
	{ { 0, 0, 20, 5, 5, 10, 20, 1 }, 0, 0, 1, true },
	/* too many spares: retire the excess, rate back to 1 */
	{ { 14, 2, 16, 5, 5, 10, 150, 8 }, 0, 4, 1, false },
	{ { 11, 0, 11, 5, 5, 10, 150, 1 }, 0, 1, 1, false },
	/* a rate below 1 is taken as 1 */
	{ { 4, 1, 5, 5, 5, 10, 150, 0 }, 1, 0, 2, false },
	/* zero spares or start: one worker still waits, and stays */
	{ { 0, 0, 0, 0, 0, 0, 150, 1 }, 1, 0, 2, false },
	{ { 1, 0, 1, 0, 0, 0, 150, 1 }, 0, 0, 1, false },
	{ { 0, 3, 3, 5, 0, 0, 150, 1 }, 1, 0, 2, false },
	{ { 3, 0, 3, 5, 0, 0, 150, 1 }, 0, 2, 1, false },
};

START_TEST(test_idle_plan)
{
	struct idle_plan p;

	master_idle_plan(&plan_rows[_i].in, &p);
	ck_assert_int_eq(p.spawn, plan_rows[_i].spawn);
	ck_assert_int_eq(p.retire, plan_rows[_i].retire);
	ck_assert_int_eq(p.rate, plan_rows[_i].rate);
	ck_assert_int_eq(p.at_max, plan_rows[_i].at_max);
}
END_TEST

/* A burst: every second all the spares are taken; the rate doubles. */
START_TEST(test_idle_ramp)
{
	static const int expect[] = { 5, 5, 5, 8, 16, 32, 32 };
	struct idle_input in = { 0, 0, 5, 5, 5, 10, 1000, 1 };
	struct idle_plan p;

	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		in.busy = in.live;
		in.idle = 0;
		master_idle_plan(&in, &p);
		ck_assert_int_eq(p.spawn, expect[i]);
		in.live += p.spawn;
		in.rate = p.rate;
	}
}
END_TEST

/* ---- crash back-off -------------------------------------------------- */

/* Deaths at times (ms), fast or not; the wait after the last one. */
static const struct {
	long long at[6];
	bool fast[6];
	int n;
	long long wait;
} backoff_rows[] = {
	{ { 0 }, { true }, 1, 0 },			/* one is a fluke */
	{ { 0, 10 }, { true, true }, 2, 250 },
	{ { 0, 10, 20 }, { true, true, true }, 3, 500 },
	{ { 0, 1, 2, 3, 4, 5 }, { true, true, true, true, true, true }, 6,
	    4000 },
	{ { 0, 10 }, { false, false }, 2, 0 },		/* normal exits */
	{ { 0, 10, 20 }, { true, false, true }, 3, 250 },
	/* a minute later it starts over */
	{ { 0, 10, 70010 }, { true, true, true }, 3, 0 },
};

START_TEST(test_backoff)
{
	struct master_backoff b = { 0, 0, 0 };
	int n = backoff_rows[_i].n;

	for (int i = 0; i < n; i++)
		master_backoff_note(&b, backoff_rows[_i].fast[i],
		    backoff_rows[_i].at[i]);
	ck_assert_int_eq(master_backoff_wait(&b, backoff_rows[_i].at[n - 1]),
	    backoff_rows[_i].wait);
}
END_TEST

START_TEST(test_backoff_cap)
{
	struct master_backoff b = { 0, 0, 0 };

	for (int i = 0; i < 100; i++)
		master_backoff_note(&b, true, i);
	ck_assert_int_eq(master_backoff_wait(&b, 99), MASTER_BACKOFF_MAX_MS);
	ck_assert_int_eq(master_backoff_wait(&b, 99 + MASTER_BACKOFF_MAX_MS),
	    0);
}
END_TEST

/* ---- listeners ------------------------------------------------------- */

static int
is_nonblock_cloexec(int fd)
{
	return (fcntl(fd, F_GETFL) & O_NONBLOCK) &&
	    (fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

/* pool_listen_open - listen_open on plain listeners at these specs. */
static int
pool_listen_open(char *const *specs, size_t n, int backlog,
    struct listener **l, size_t *nl, char *err, size_t errlen)
{
	struct config_listener ls[4];

	ck_assert_uint_le(n, 4);
	memset(ls, 0, sizeof(ls));
	for (size_t i = 0; i < n; i++) {
		ls[i].address = specs[i];
		ls[i].mode = 0666;
	}
	return listen_open(ls, n, backlog, l, nl, err, errlen);
}

START_TEST(test_listen_v4)
{
	char *specs[] = { "127.0.0.1:0" };
	struct listener *l;
	size_t n;
	char err[256];
	int rc = pool_listen_open(specs, 1, 16, &l, &n, err, sizeof(err));

	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_uint_eq(n, 1);
	ck_assert(is_nonblock_cloexec(l[0].fd));
	ck_assert(strncmp(l[0].name, "127.0.0.1:", 10) == 0);
	ck_assert_str_ne(l[0].name, "127.0.0.1:0");
	listen_close(l, n);
}
END_TEST

/* localhost binds each address it resolves to that the host has. */
START_TEST(test_listen_localhost)
{
	char *specs[] = { "localhost:0" };
	struct listener *l;
	size_t n;
	char err[256];
	int rc = pool_listen_open(specs, 1, 16, &l, &n, err, sizeof(err));

	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_uint_ge(n, 1);
	for (size_t i = 0; i < n; i++)
		ck_assert(strncmp(l[i].name, "127.", 4) == 0 ||
		    strncmp(l[i].name, "[::1]:", 6) == 0);
	listen_close(l, n);
}
END_TEST

static const struct {
	const char *spec;
	const char *msg;
} listen_bad_rows[] = {
	{ "nocolon", "expected host:port" },
	{ "127.0.0.1:99999", "bad port" },
	{ "::1:25", "brackets" },
	{ "no-such-host.invalid:25", "no-such-host.invalid" },
	{ "192.0.2.254:0", "no address could be bound" },
};

START_TEST(test_listen_bad)
{
	char *specs[] = { (char *)listen_bad_rows[_i].spec };
	struct listener *l = NULL;
	size_t n = 0;
	char err[256] = "";

	ck_assert_int_eq(pool_listen_open(specs, 1, 16, &l, &n, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, listen_bad_rows[_i].msg) != NULL, "%s",
	    err);
}
END_TEST

/* A port in use is an error that names it; the same address twice is
 * bound once. */
START_TEST(test_listen_in_use)
{
	char *specs[] = { "127.0.0.1:0" };
	char spec2[300], *specs2[2] = { spec2, spec2 };
	struct listener *l, *l2;
	size_t n, n2;
	char err[256];

	ck_assert_int_eq(pool_listen_open(specs, 1, 16, &l, &n, err, sizeof(err)),
	    0);
	snprintf(spec2, sizeof(spec2), "%s", l[0].name);
	ck_assert_int_eq(pool_listen_open(specs2, 1, 16, &l2, &n2, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "in use") != NULL, "%s", err);
	listen_close(l, n);
	ck_assert_int_eq(pool_listen_open(specs2, 2, 16, &l2, &n2, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n2, 1);
	listen_close(l2, n2);
}
END_TEST

/* unix:/path binds a UNIX socket there, with the listener's mode, and
 * replaces a stale socket file but nothing else. */
START_TEST(test_listen_unix)
{
	char dir[] = "/tmp/psmtpd-listen-XXXXXX", path[300], spec[310];
	char *specs[] = { spec };
	struct listener *l;
	size_t n;
	char err[256];
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/lmtp", dir);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	ck_assert_int_eq(pool_listen_open(specs, 1, 16, &l, &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(l[0].name, spec);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0666);	/* chmod, not umask */
	listen_close(l, n);
	/* the socket file left behind is stale: replaced */
	ck_assert_int_eq(pool_listen_open(specs, 1, 16, &l, &n, err,
	    sizeof(err)), 0);
	listen_close(l, n);
	ck_assert_int_eq(unlink(path), 0);
	/* a regular file is not ours to remove */
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fclose(fp);
	ck_assert_int_eq(pool_listen_open(specs, 1, 16, &l, &n, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "exists") != NULL, "%s", err);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_addr_name)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6,
	    .sin6_port = htons(25), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in s4 = { .sin_family = AF_INET,
	    .sin_port = htons(8025), .sin_addr = { htonl(0x7f000001) } };
	char buf[64];

	listen_addr_name((struct sockaddr *)&s6, sizeof(s6), buf, sizeof(buf));
	ck_assert_str_eq(buf, "[::1]:25");
	listen_addr_name((struct sockaddr *)&s4, sizeof(s4), buf, sizeof(buf));
	ck_assert_str_eq(buf, "127.0.0.1:8025");
}
END_TEST

/* ---- pidfile --------------------------------------------------------- */

static void
tmp_path(char *buf, size_t size, const char *name)
{
	const char *dir = getenv("TMPDIR");

	snprintf(buf, size, "%s/pool-%ld-%s", dir ? dir : "/tmp",
	    (long)getpid(), name);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_pidfile_write_remove)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], err[256];
	struct stat st;

	tmp_path(path, sizeof(path), "pid");
	ck_assert_int_eq(daemon_pidfile_write(path, 12345, err, sizeof(err)),
	    0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_int_eq(stat(tmp, &st), -1);
	daemon_pidfile_remove(path, 999);	/* not ours: stays */
	ck_assert_int_eq(stat(path, &st), 0);
	daemon_pidfile_remove(path, 12345);
	ck_assert_int_eq(stat(path, &st), -1);
	ck_assert_int_eq(daemon_pidfile_write("/nonexistent/dir/pid", 1, err,
	    sizeof(err)), -1);
	ck_assert(strstr(err, "/nonexistent/dir/pid") != NULL);
}
END_TEST

/* What a pidfile holds, and whether it counts as a live psmtpd. */
START_TEST(test_pidfile_live)
{
	char path[PATH_MAX], err[256], text[64];
	pid_t child;
	int status;

	tmp_path(path, sizeof(path), "live");
	/* absent, garbage, stale: not live */
	unlink(path);
	ck_assert_int_eq(daemon_pidfile_live(path, err, sizeof(err)), 0);
	write_file(path, "garbage\n");
	ck_assert_int_eq(daemon_pidfile_live(path, err, sizeof(err)), 0);
	child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, &status, 0);
	snprintf(text, sizeof(text), "%ld\n", (long)child);
	write_file(path, text);
	ck_assert_int_eq(daemon_pidfile_live(path, err, sizeof(err)), 0);
	/* a live process of this same program: live */
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	snprintf(text, sizeof(text), "%ld\n", (long)child);
	write_file(path, text);
	ck_assert_int_eq(daemon_pidfile_live(path, err, sizeof(err)), 1);
	ck_assert(strstr(err, text[0] ? "names running" : "") != NULL);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	/* a live process of another program (pid 1): not ours */
	write_file(path, "1\n");
	ck_assert_int_eq(daemon_pidfile_live(path, err, sizeof(err)), 0);
	unlink(path);
}
END_TEST

START_TEST(test_abspath)
{
	char out[PATH_MAX], cwd[PATH_MAX], want[PATH_MAX + 16];

	ck_assert_int_eq(daemon_abspath("/run/x.pid", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/run/x.pid");
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/x.pid", cwd);
	ck_assert_int_eq(daemon_abspath("x.pid", out, sizeof(out)), 0);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(daemon_abspath("x.pid", out, 4), -1);
}
END_TEST

/* ---- privileges ------------------------------------------------------ */

START_TEST(test_privsep_keep)
{
	struct privsep_creds c;
	char err[256];

	ck_assert_int_eq(privsep_resolve("root", NULL, true, &c, err,
	    sizeof(err)), 0);
	ck_assert(c.keep);
	ck_assert_int_eq(privsep_drop(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(getuid(), c.uid);
}
END_TEST

static const struct {
	const char *user, *group, *msg;
} privsep_bad_rows[] = {
	{ "no-such-user-psmtpd", NULL, "unknown user" },
	{ "nobody", "no-such-group-psmtpd", "unknown group" },
	{ "root", NULL, "refusing to run workers as root" },
};

START_TEST(test_privsep_refused)
{
	struct privsep_creds c;
	char err[256] = "";

	ck_assert_int_eq(privsep_resolve(privsep_bad_rows[_i].user,
	    privsep_bad_rows[_i].group, false, &c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, privsep_bad_rows[_i].msg) != NULL, "%s", err);
}
END_TEST

/* As root: a child drops to nobody for good.  As another user: switching
 * is refused, as Python's smtpd does without -n. */
START_TEST(test_privsep_drop)
{
	struct privsep_creds c;
	struct passwd *pw = getpwnam("nobody");
	char err[256] = "";
	int status;
	pid_t pid;

	if (pw == NULL)
		return;
	if (geteuid() != 0) {
		ck_assert_int_eq(privsep_resolve("nobody", NULL, false, &c, err,
		    sizeof(err)), -1);
		ck_assert_msg(strstr(err, "-n") != NULL, "%s", err);
		return;
	}
	ck_assert_int_eq(privsep_resolve("nobody", NULL, false, &c, err,
	    sizeof(err)), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (privsep_drop(&c, err, sizeof(err)) != 0)
			_exit(1);
		if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
		    getgid() != pw->pw_gid || setuid(0) != -1)
			_exit(2);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

static Suite *
pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("plan");

	tcase_add_loop_test(tc, test_idle_plan, 0,
	    sizeof(plan_rows) / sizeof(plan_rows[0]));
	tcase_add_test(tc, test_idle_ramp);
	tcase_add_loop_test(tc, test_backoff, 0,
	    sizeof(backoff_rows) / sizeof(backoff_rows[0]));
	tcase_add_test(tc, test_backoff_cap);
	suite_add_tcase(s, tc);
	tc = tcase_create("listen");
	tcase_add_test(tc, test_listen_v4);
	tcase_add_test(tc, test_listen_localhost);
	tcase_add_loop_test(tc, test_listen_bad, 0,
	    sizeof(listen_bad_rows) / sizeof(listen_bad_rows[0]));
	tcase_add_test(tc, test_listen_in_use);
	tcase_add_test(tc, test_listen_unix);
	tcase_add_test(tc, test_addr_name);
	suite_add_tcase(s, tc);
	tc = tcase_create("daemon");
	tcase_add_test(tc, test_pidfile_write_remove);
	tcase_add_test(tc, test_pidfile_live);
	tcase_add_test(tc, test_abspath);
	suite_add_tcase(s, tc);
	tc = tcase_create("privsep");
	tcase_add_test(tc, test_privsep_keep);
	tcase_add_loop_test(tc, test_privsep_refused, 0,
	    sizeof(privsep_bad_rows) / sizeof(privsep_bad_rows[0]));
	tcase_add_test(tc, test_privsep_drop);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(pool_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
