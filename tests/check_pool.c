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
#include <arpa/inet.h>
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
#include "io.h"
#include "listen.h"
#include "master_int.h"
#include "privsep.h"
#include "scoreboard.h"
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

/* Deaths at times (ms), before a first session or not; the wait after
 * the last one. */
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

START_TEST(test_floor)
{
	ck_assert_int_eq(master_floor(0), 1);
	ck_assert_int_eq(master_floor(1), 1);
	ck_assert_int_eq(master_floor(5), 5);
}
END_TEST

/* ---- stress mode ------------------------------------------------------- */

/* A run of ticks: counts at each, and the plan's answer (+1 on, -1 off). */
static const struct {
	int n;
	struct { int idle, live; long long now; int change; } tick[6];
	int maxw;
} stress_rows[] = {
	/* spares left, or room to fork: never on */
	{ 2, { { 1, 4, 1000, 0 }, { 0, 3, 2000, 0 } }, 4 },
	/* exhausted: on at once; stays on while exhausted */
	{ 2, { { 0, 4, 1000, 1 }, { 0, 4, 2000, 0 } }, 4 },
	/* recovers: off only after MASTER_STRESS_CALM_MS of spares */
	{ 4, { { 0, 4, 1000, 1 }, { 1, 4, 2000, 0 }, { 1, 4, 6000, 0 },
	    { 2, 4, 7000, -1 } }, 4 },
	/* a flood that eats every freed worker again: no flapping */
	{ 5, { { 0, 4, 1000, 1 }, { 1, 4, 2000, 0 }, { 0, 4, 3000, 0 },
	    { 1, 4, 4000, 0 }, { 1, 4, 8000, 0 } }, 4 },
	/* old-generation workers count towards max_workers (a reload) */
	{ 1, { { 0, 6, 1000, 1 } }, 4 },
	/* on again after off */
	{ 3, { { 0, 1, 1000, 1 }, { 1, 1, 7000, 0 }, { 0, 1, 12000, 0 } },
	    1 },
};

START_TEST(test_stress_plan)
{
	struct stress_state st = { 0, 0 };

	for (int i = 0; i < stress_rows[_i].n; i++) {
		struct stress_input in = {
		    .idle = stress_rows[_i].tick[i].idle,
		    .live = stress_rows[_i].tick[i].live,
		    .max_workers = stress_rows[_i].maxw,
		    .now = stress_rows[_i].tick[i].now };

		ck_assert_int_eq(master_stress_plan(&in, &st),
		    stress_rows[_i].tick[i].change);
		ck_assert_int_eq(st.since != 0, st.since != 0 &&
		    st.since <= in.now);
	}
}
END_TEST

/* io_limit_deadline: the normal limit from the idle start, the stress one
 * from the record start or stress start (the later), the hard one. */
static const struct {
	struct io_limit l;
	long long idle, record, since, want;
} deadline_rows[] = {
	{ { 0, 0, NULL, 0, NULL }, 100, 100, 0, 0 },		/* no limit */
	{ { 300, 10, NULL, 0, NULL }, 100, 100, 0, 300100 },	/* stress off */
	{ { 300, 10, NULL, 0, NULL }, 100, 100, 50, 10100 },	/* on before */
	{ { 300, 10, NULL, 0, NULL }, 100, 100, 5000, 15000 },	/* on after */
	/* DATA: idle timer moved by reads, record deadline by line ends */
	{ { 600, 60, NULL, 0, NULL }, 90000, 1000, 0, 690000 },
	{ { 600, 60, NULL, 0, NULL }, 90000, 1000, 500, 61000 },
	/* stress 0: the normal limit */
	{ { 300, 0, NULL, 0, NULL }, 100, 100, 50, 300100 },
	/* the hard deadline wins when earlier */
	{ { 300, 10, NULL, 4000, NULL }, 100, 100, 50, 4000 },
	{ { 0, 0, NULL, 4000, NULL }, 100, 100, 0, 4000 },
	{ { 0, 10, NULL, 0, NULL }, 100, 100, 50, 10100 },
};

START_TEST(test_io_deadline)
{
	ck_assert_int_eq(io_limit_deadline(&deadline_rows[_i].l,
	    deadline_rows[_i].idle, deadline_rows[_i].record,
	    deadline_rows[_i].since), deadline_rows[_i].want);
}
END_TEST

/* Which bound addresses only this host reaches (the open relay warning). */
static const struct {
	int family;
	const char *addr;
	bool loopback;
} loopback_rows[] = {
	{ AF_INET, "127.0.0.1", true }, { AF_INET, "127.1.2.3", true },
	{ AF_INET, "0.0.0.0", false }, { AF_INET, "10.0.0.1", false },
	{ AF_INET, "128.0.0.1", false }, { AF_INET6, "::1", true },
	{ AF_INET6, "::", false }, { AF_INET6, "::ffff:10.0.0.1", false },
	{ AF_UNIX, NULL, true },
};

START_TEST(test_loopback)
{
	struct sockaddr_storage ss = { .ss_family =
	    (sa_family_t)loopback_rows[_i].family };
	void *a = NULL;

	if (ss.ss_family == AF_INET)
		a = &((struct sockaddr_in *)&ss)->sin_addr;
	else if (ss.ss_family == AF_INET6)
		a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
	if (a != NULL)
		ck_assert_int_eq(inet_pton(ss.ss_family,
		    loopback_rows[_i].addr, a), 1);
	ck_assert_int_eq(master_is_loopback((struct sockaddr *)&ss),
	    loopback_rows[_i].loopback);
}
END_TEST

/* ---- the master's own table of workers ------------------------------- */

/* One row: four slots, each with a pid or not (the master's memory), a
 * generation and a leave flag (the master's), the state the worker wrote;
 * the counts expected for generation 1. */
static const struct {
	pid_t pid[4];
	unsigned gen[4];
	bool leave[4];
	int state[4];
	int live, idle, busy, old;
} count_rows[] = {
	{ { 0, 0, 0, 0 }, { 1, 1, 1, 1 }, { 0 }, { SB_FREE, SB_FREE, SB_FREE,
	    SB_FREE }, 0, 0, 0, 0 },
	{ { 9, 9, 9, 0 }, { 1, 1, 1, 1 }, { 0 }, { SB_IDLE, SB_STARTING,
	    SB_COMMAND, SB_FREE }, 3, 2, 1, 0 },
	{ { 9, 9, 9, 9 }, { 1, 1, 1, 1 }, { 0 }, { SB_IDLE, SB_DATA,
	    SB_PLUGIN, SB_CLOSING }, 4, 1, 3, 0 },
	/* another generation, leaving, exiting: neither idle nor busy */
	{ { 9, 9, 9, 9 }, { 0, 0, 1, 1 }, { 0, 0, 1, 0 }, { SB_IDLE,
	    SB_COMMAND, SB_IDLE, SB_EXITING }, 4, 0, 0, 4 },
	/* a worker that wrote garbage or FREE into its slot is busy, and
	 * still live: the master's table says so, not the scoreboard */
	{ { 9, 9, 9, 0 }, { 1, 1, 1, 1 }, { 0 }, { 77, SB_FREE, -1,
	    SB_IDLE }, 3, 0, 3, 0 },
	/* a slot that claims a worker the master never forked is nobody */
	{ { 0, 0, 0, 0 }, { 1, 1, 1, 1 }, { 0 }, { SB_IDLE, SB_IDLE,
	    SB_COMMAND, SB_IDLE }, 0, 0, 0, 0 },
};

START_TEST(test_master_count)
{
	struct master m = { .generation = 1 };
	struct master_counts c;

	m.sb = scoreboard_create(4, NULL);
	ck_assert_int_eq(master_workers_init(&m, 4), 0);
	for (size_t i = 0; i < 4; i++) {
		m.workers[i] = (struct master_worker){
		    .pid = count_rows[_i].pid[i] ? 100 + (pid_t)i : 0,
		    .generation = count_rows[_i].gen[i],
		    .leave = count_rows[_i].leave[i] };
		scoreboard_slot(m.sb, i)->state = count_rows[_i].state[i];
	}
	master_count(&m, &c);
	ck_assert_int_eq(c.live, count_rows[_i].live);
	ck_assert_int_eq(c.idle, count_rows[_i].idle);
	ck_assert_int_eq(c.busy, count_rows[_i].busy);
	ck_assert_int_eq(c.old, count_rows[_i].old);
	free(m.workers);
	scoreboard_destroy(m.sb);
}
END_TEST

/* Claiming goes by the master's table: a slot whose scoreboard says FREE
 * but whose worker is alive is not handed out again, and a pid planted
 * in the scoreboard is never found. */
START_TEST(test_master_claim)
{
	struct master m = { .generation = 3 };

	m.sb = scoreboard_create(2, NULL);
	ck_assert_int_eq(master_workers_init(&m, 2), 0);
	ck_assert_int_eq(master_worker_claim(&m, 500), 0);
	m.workers[0].pid = 4242;
	ck_assert_int_eq(scoreboard_state(m.sb, 0), SB_STARTING);
	scoreboard_slot(m.sb, 0)->state = SB_FREE;	/* a lie */
	ck_assert_int_eq(master_worker_claim(&m, 600), 1);
	m.workers[1].pid = 4243;
	ck_assert_int_eq(master_worker_claim(&m, 700), -1);
	scoreboard_slot(m.sb, 1)->pid = 1;	/* planted */
	ck_assert_int_eq(master_worker_find(&m, 1), -1);
	ck_assert_int_eq(master_worker_find(&m, 4243), 1);
	ck_assert_int_eq(m.workers[1].started, 600);
	master_worker_release(&m, 0);
	ck_assert_int_eq(master_worker_find(&m, 4242), -1);
	ck_assert_int_eq(scoreboard_state(m.sb, 0), SB_FREE);
	ck_assert_int_eq(master_worker_claim(&m, 800), 0);
	free(m.workers);
	scoreboard_destroy(m.sb);
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

/* Lock, write, a second lock refused with the pid, release, again. */
/* slurp_file - a small file's contents (malloc'd), or NULL. */
static char *
slurp_file(const char *path)
{
	char *buf = calloc(1, 4096);
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (buf == NULL || fd == -1) {
		free(buf);
		if (fd != -1)
			close(fd);
		return NULL;
	}
	n = read(fd, buf, 4095);
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

START_TEST(test_pidfile_lock)
{
	char path[PATH_MAX], err[256], *text;
	struct stat st;
	int fd, fd2;

	tmp_path(path, sizeof(path), "pid");
	write_file(path, "99999\n");	/* stale: nobody holds the lock */
	ck_assert_int_eq(daemon_pidfile_lock(path, &fd, err, sizeof(err)), 0);
	ck_assert_int_eq(daemon_pidfile_put(fd, 12345, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(text = slurp_file(path));
	ck_assert_str_eq(text, "12345\n");
	free(text);
	ck_assert_int_eq(daemon_pidfile_lock(path, &fd2, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "is locked by running psmtpd pid 12345") !=
	    NULL, "%s", err);
	daemon_pidfile_release(path, fd);
	ck_assert_int_eq(stat(path, &st), -1);
	ck_assert_int_eq(daemon_pidfile_lock(path, &fd, err, sizeof(err)), 0);
	daemon_pidfile_release(path, fd);
	ck_assert_int_eq(daemon_pidfile_lock("/nonexistent/dir/pid", &fd, err,
	    sizeof(err)), -1);
	ck_assert(strstr(err, "/nonexistent/dir/pid") != NULL);
}
END_TEST

/* A symlink or a hard link planted at the pidfile: refused, and the file
 * it points to is left as it was. */
START_TEST(test_pidfile_planted)
{
	char path[PATH_MAX], target[PATH_MAX], err[256], *text;
	int fd;

	tmp_path(path, sizeof(path), "pid");
	tmp_path(target, sizeof(target), "target");
	write_file(target, "precious\n");
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(daemon_pidfile_lock(path, &fd, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "symlink") != NULL, "%s", err);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(link(target, path), 0);
	ck_assert_int_eq(daemon_pidfile_lock(path, &fd, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "one name") != NULL, "%s", err);
	ck_assert_ptr_nonnull(text = slurp_file(target));
	ck_assert_str_eq(text, "precious\n");
	free(text);
	unlink(path);
	unlink(target);
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
	tcase_add_test(tc, test_floor);
	tcase_add_loop_test(tc, test_loopback, 0,
	    sizeof(loopback_rows) / sizeof(loopback_rows[0]));
	tcase_add_loop_test(tc, test_stress_plan, 0,
	    sizeof(stress_rows) / sizeof(stress_rows[0]));
	tcase_add_loop_test(tc, test_io_deadline, 0,
	    sizeof(deadline_rows) / sizeof(deadline_rows[0]));
	tcase_add_loop_test(tc, test_master_count, 0,
	    sizeof(count_rows) / sizeof(count_rows[0]));
	tcase_add_test(tc, test_master_claim);
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
	tcase_add_test(tc, test_pidfile_lock);
	tcase_add_test(tc, test_pidfile_planted);
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
