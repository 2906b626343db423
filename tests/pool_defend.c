/*
 * pool_defend.c - the attacks of issue #10 on the process side, each
 * against the real daemon on loopback, bounded in time: workers killed
 * again and again, a worker that scribbles over the scoreboard or shuts
 * the listener down, the master killed with a session in flight, two -D
 * at once and symlinks at the pidfile, a flood of idle, trickling and
 * DATA-stalled connections (stress mode), a slow steady sender.
 */
#include "autoconfig.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/check_run.h"
#include "tests/pool_util.h"

#define TEVIL POOL_TEST_PLUGINS "/pool_tevil.so"
#define TCRASH POOL_TEST_PLUGINS "/pool_tcrash.so"

/* served_ms - a whole session with one message: the ms it took, from the
 * connect to the 250, or -1 when it did not get its 250. */
static long long
served_ms(int port)
{
	long long t0 = du_now_ms();

	return pu_session(port) == 250 ? du_now_ms() - t0 : -1;
}

/* ---- defect 3: killed workers ------------------------------------------ */

/* Fourteen workers killed, each right after it served a session and
 * within 2 s of its fork (0.1 took every one for a crash loop and stopped
 * respawning for up to 30 s): every session is still served at once. */
START_TEST(test_kill_served_workers)
{
	const char *args[] = { "-o", "pool.start=3", "-o", "pool.min_spare=2",
	    "-o", "pool.max_spare=4", NULL };
	struct pd d = { 0 };

	pd_start(&d, args);
	for (int i = 0; i < 14; i++) {
		char buf[512];
		long long t0 = du_now_ms();
		int fd = smtp_open(d.port, buf, sizeof(buf));
		pid_t w;

		ck_assert_msg(fd != -1, "kill %d: no greeting", i);
		w = pd_log_worker(&d, du_local_port(fd), 5);
		ck_assert_int_gt(w, 0);
		ck_assert_int_eq(smtp_cmd(fd, "HELO c.example", buf,
		    sizeof(buf)), 250);
		ck_assert_int_eq(smtp_message(fd, PU_BODY), 250);
		close(fd);
		ck_assert_msg(du_now_ms() - t0 < 3000, "kill %d: %lld ms", i,
		    du_now_ms() - t0);
		ck_assert_int_eq(kill(w, SIGKILL), 0);
		du_sleep_ms(100);
	}
	ck_assert_int_eq(pu_log_count(&d, "respawn throttled"), 0);
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* A crash loop, then a reload with a config that cures it: the reload
 * starts its workers whatever the back-off says. */
START_TEST(test_reload_ends_crash_loop)
{
	char conf[512];
	const char *args[] = { "-P", "-C", conf, "-o", "pool.start=2", "-o",
	    "pool.min_spare=1", NULL };
	struct pd d = { 0 };
	long long ms;

	pu_prepare_config(&d, conf, sizeof(conf), "plugins = ( { path = \""
	    TCRASH "\"; settings = { worker_init = \"crash\"; }; } );\n");
	d.crashes = true;
	pd_spawn(&d, args);
	for (int i = 0; i < 100 && pu_log_count(&d, "worker died") < 6; i++)
		du_sleep_ms(100);
	ck_assert_int_ge(pu_log_count(&d, "worker died"), 6);
	pu_config(&d, "plugins = ( { path = \"" TCRASH "\"; } );\n");
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	ck_assert(pd_log_has(&d, "reload done", 5));
	ms = served_ms(d.port);
	ck_assert_msg(ms >= 0 && ms < 3000, "served in %lld ms", ms);
	ck_assert(pd_log_has(&d, "respawn throttled", 0));
	ck_assert(pd_log_has(&d, "back-off cleared", 0));
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* ---- defect 4: a compromised worker ------------------------------------ */

/* victim - a process of ours that any stray signal would end. */
static pid_t
victim_start(void)
{
	pid_t pid = fork();

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		for (int i = 0; i < 600; i++)
			sleep(1);
		_exit(0);
	}
	return pid;
}

/* The victim still runs (not even a zombie). */
static bool
victim_alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

/* A worker writes the PID of another process over the whole scoreboard,
 * then the master reloads (SIGUSR1 to the old workers) and stops
 * (SIGTERM, then SIGKILL to what is left): the victim lives, the master
 * still stops in bounded time, sessions are served meanwhile. */
START_TEST(test_scoreboard_corrupted)
{
	char conf[512], cmd[64], buf[512];
	const char *args[] = { "-P", "-C", conf, "-o", "pool.start=3", "-o",
	    "timeouts.shutdown=1", NULL };
	struct pd d = { 0 };
	pid_t victim = victim_start();
	long long t0;
	int fd;

	pu_prepare_config(&d, conf, sizeof(conf), "plugins = ( { path = \""
	    TEVIL "\"; } );\n");
	pd_start(&d, args);
	fd = smtp_open(d.port, buf, sizeof(buf));
	ck_assert_int_ne(fd, -1);
	snprintf(cmd, sizeof(cmd), "XEVIL CORRUPT %ld", (long)victim);
	ck_assert_int_eq(smtp_cmd(fd, cmd, buf, sizeof(buf)), 250);
	ck_assert_str_eq(buf, "250 scribbled 1\r\n");
	pu_quit(fd);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	ck_assert(pd_log_has(&d, "reload done", 5));
	du_sleep_ms(1500);
	ck_assert_msg(victim_alive(victim), "the master killed the victim");
	ck_assert_int_ge(served_ms(d.port), 0);
	t0 = du_now_ms();
	ck_assert_int_eq(pd_stop(&d), 0);
	ck_assert_int_lt(du_now_ms() - t0, 10000);
	ck_assert_msg(victim_alive(victim), "the master killed the victim");
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	pd_cleanup(&d);
}
END_TEST

/* A worker shuts the listening socket down (which on Linux ends listening
 * for every process): the master notices and listens again. */
START_TEST(test_listener_shutdown)
{
	char conf[512], buf[512];
	const char *args[] = { "-P", "-C", conf, "-o", "pool.start=2", NULL };
	struct pd d = { 0 };
	long long ms = -1;
	int fd;

	pu_prepare_config(&d, conf, sizeof(conf), "plugins = ( { path = \""
	    TEVIL "\"; } );\n");
	pd_start(&d, args);
	fd = smtp_open(d.port, buf, sizeof(buf));
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(smtp_cmd(fd, "XEVIL SHUTDOWN", buf, sizeof(buf)),
	    250);
	ck_assert_str_eq(buf, "250 shut 1\r\n");
	pu_quit(fd);
	for (int i = 0; i < 30 && ms < 0; i++) {
		if (i > 0)
			du_sleep_ms(200);
		fd = smtp_open(d.port, buf, sizeof(buf));
		if (fd == -1)
			continue;
		close(fd);
		ms = served_ms(d.port);
	}
	ck_assert_msg(ms >= 0, "no session after the shutdown");
	ck_assert(pd_log_has(&d, "stopped listening", 0));
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* ---- defect 7: the master killed ----------------------------------------- */

/* kill -9 of the master while a session is busy: the orphaned worker
 * closes its listener at once, so a new psmtpd binds the same port
 * straight away, and the session in flight still finishes. */
START_TEST(test_master_killed_restart)
{
	const char *args[] = { "-o", "pool.start=2", NULL };
	struct pd d = { 0 }, d2 = { 0 };
	char buf[512];
	int a;

	pd_start(&d, args);
	a = smtp_open(d.port, buf, sizeof(buf));
	ck_assert_int_ne(a, -1);
	ck_assert_int_eq(smtp_cmd(a, "EHLO c.example", buf, sizeof(buf)), 250);
	ck_assert_int_eq(kill(d.pid, SIGKILL), 0);
	ck_assert_int_eq(pd_wait_exit(d.pid, 5), 128 + SIGKILL);
	d.pid = 0;
	pd_prepare(&d2);
	d2.port = d.port;
	ck_assert_int_eq(pd_try_start(&d2, args), -1);
	ck_assert_int_eq(smtp_cmd(a, "NOOP", buf, sizeof(buf)), 250);
	ck_assert_int_eq(smtp_message(a, PU_BODY), 250);
	pu_quit(a);
	ck_assert_int_ge(served_ms(d2.port), 0);
	ck_assert_int_eq(pd_stop(&d2), 0);
	pd_cleanup(&d2);
	pd_cleanup(&d);
}
END_TEST

/* ---- defect 8: the pidfile ---------------------------------------------- */

/* kill_orphans - every detached daemon that came to us as subreaper (and
 * its workers die with their master's alive pipe). */
static int
kill_orphans(void)
{
	pid_t kids[PD_MAX_WORKERS];
	int n = pd_workers(getpid(), kids, PD_MAX_WORKERS), daemons = 0;

	for (int i = 0; i < n && i < PD_MAX_WORKERS; i++) {
		char path[64], comm[64] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%ld/comm", (long)kids[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL &&
		    strncmp(comm, "psmtpd", 6) == 0) {
			kill(kids[i], SIGTERM);
			pd_wait_exit(kids[i], 10);
			daemons++;
		}
		fclose(f);
	}
	return daemons;
}

/* Two -D with the same pidfile, started at the same moment, six times:
 * each time exactly one runs (0.1: both, 2 times in 10). */
START_TEST(test_two_detached)
{
	char pidfile[512], opt[600];
	const char *args[] = { "-D", "-o", opt, "-o", "pool.start=1", NULL };

	for (int round = 0; round < 6; round++) {
		struct pd a = { 0 }, b = { 0 };
		int sa, sb;

		pu_prepare_pidfile(&a, pidfile, sizeof(pidfile), opt,
		    sizeof(opt));
		pd_prepare(&b);
		pd_spawn(&a, args);
		pd_spawn(&b, args);
		sa = pd_wait_exit(a.pid, 10);
		sb = pd_wait_exit(b.pid, 10);
		du_sleep_ms(200);
		ck_assert_msg((sa == 0) + (sb == 0) == 1, "round %d: exit "
		    "%d and %d", round, sa, sb);
		ck_assert(pd_log_has(sa == 0 ? &b : &a, "is locked by running "
		    "psmtpd", 0));
		ck_assert_int_eq(kill_orphans(), 1);
		ck_assert_int_eq(access(pidfile, F_OK), -1);
		pd_cleanup(&a);
		pd_cleanup(&b);
	}
}
END_TEST

/* A symlink planted at the pidfile: -D refuses to start and the target
 * is untouched.  One at the old temporary name (<pidfile>.tmp, which
 * 0.1 wrote through as root): never used. */
START_TEST(test_pidfile_symlink)
{
	char pidfile[512], tmp[600], target[512], opt[600];
	const char *args[] = { "-D", "-o", opt, "-o", "pool.start=1", NULL };
	struct pd d = { 0 };
	char *text;

	pu_prepare_pidfile(&d, pidfile, sizeof(pidfile), opt, sizeof(opt));
	pd_path(&d, "target", target, sizeof(target));
	snprintf(tmp, sizeof(tmp), "%s.tmp", pidfile);
	ck_assert_int_eq(du_write_config(target, "precious\n"), 0);
	ck_assert_int_eq(symlink(target, pidfile), 0);
	pd_spawn(&d, args);
	ck_assert_int_eq(pd_wait_exit(d.pid, 10), 1);
	ck_assert(pd_log_has(&d, "symlink", 0));
	ck_assert_int_eq(unlink(pidfile), 0);
	ck_assert_int_eq(symlink(target, tmp), 0);
	d.port = 0;
	pd_spawn(&d, args);
	ck_assert_int_eq(pd_wait_exit(d.pid, 10), 0);
	ck_assert_int_eq(kill_orphans(), 1);
	ck_assert_ptr_nonnull(text = du_slurp(target));
	ck_assert_str_eq(text, "precious\n");
	free(text);
	pd_cleanup(&d);
}
END_TEST

/* -D with no syslog daemon: the lines would be lost, and the start says
 * so on standard error (0.1 said nothing). */
START_TEST(test_detach_without_syslog)
{
	char pidfile[512], opt[600];
	const char *args[] = { "-D", "-o", opt, "-o", "pool.start=1", NULL };
	struct pd d = { 0 };

	if (access("/dev/log", F_OK) == 0)
		CHECK_SKIP("a syslog socket exists here (/dev/log)");
	pu_prepare_pidfile(&d, pidfile, sizeof(pidfile), opt, sizeof(opt));
	pd_spawn(&d, args);
	ck_assert_int_eq(pd_wait_exit(d.pid, 10), 0);
	ck_assert(pd_log_has(&d, "no syslog daemon listens on /dev/log", 0));
	ck_assert_int_eq(kill_orphans(), 1);
	pd_cleanup(&d);
}
END_TEST

/* ---- defect 6: a slow steady sender -------------------------------------- */

/* timeouts.data=2 is the time allowed between reads: a message sent over
 * some 6 s, a line every 300 ms, is taken (0.1 cut it off at 2 s). */
START_TEST(test_slow_steady_data)
{
	const char *args[] = { "-o", "timeouts.data=2", NULL };
	struct pd d = { 0 };
	char buf[512];
	int fd;

	pd_start(&d, args);
	fd = smtp_open(d.port, buf, sizeof(buf));
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(smtp_cmd(fd, "HELO c.example", buf, sizeof(buf)), 250);
	ck_assert_int_eq(smtp_cmd(fd, "MAIL FROM:<a@example.org>", buf,
	    sizeof(buf)), 250);
	ck_assert_int_eq(smtp_cmd(fd, "RCPT TO:<b@example.org>", buf,
	    sizeof(buf)), 250);
	ck_assert_int_eq(smtp_cmd(fd, "DATA", buf, sizeof(buf)), 354);
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(smtp_send(fd, "a line of a slow message\r\n"),
		    0);
		du_sleep_ms(300);
	}
	ck_assert_int_eq(smtp_cmd(fd, ".", buf, sizeof(buf)), 250);
	pu_quit(fd);
	/* and a sender that stops is still cut off after 2 s */
	fd = smtp_open(d.port, buf, sizeof(buf));
	ck_assert_int_eq(smtp_cmd(fd, "HELO c.example", buf, sizeof(buf)), 250);
	smtp_cmd(fd, "MAIL FROM:<a@example.org>", buf, sizeof(buf));
	smtp_cmd(fd, "RCPT TO:<b@example.org>", buf, sizeof(buf));
	ck_assert_int_eq(smtp_cmd(fd, "DATA", buf, sizeof(buf)), 354);
	ck_assert_int_eq(smtp_send(fd, "half a line"), 0);
	ck_assert_int_eq(smtp_reply(fd, buf, sizeof(buf)), 421);
	close(fd);
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* ---- stress mode: a flood ------------------------------------------------ */

#define FLOOD_MAX 16

/* An attacker's connections: idle (greeting, then silence), trickling
 * (a byte of a command every 300 ms, never a line end), DATA-stalled
 * (a transaction into DATA, half a line, silence).  Each one the server
 * closes is opened again at once, as a flood does. */
enum flood_kind { FLOOD_IDLE, FLOOD_TRICKLE, FLOOD_DATA };

struct flood {
	int port;
	int n;
	volatile int stop;
	int fd[FLOOD_MAX];
	long long next[FLOOD_MAX];
	int reconnects;
};

static void
flood_open(struct flood *f, int i)
{
	static const char data[] = "EHLO attacker\r\nMAIL FROM:<a@x.example>"
	    "\r\nRCPT TO:<b@x.example>\r\nDATA\r\nSubject: half";

	f->fd[i] = du_dial("127.0.0.1", f->port);
	f->next[i] = du_now_ms() + 300;
	if (f->fd[i] != -1 && i % 3 == FLOOD_DATA)
		(void)!send(f->fd[i], data, sizeof(data) - 1, MSG_NOSIGNAL);
}

/* flood_step - read and drop what the server says; reopen what it closed;
 * trickle. */
static void
flood_step(struct flood *f, int i)
{
	char buf[1024];
	ssize_t r;

	if (f->fd[i] == -1) {
		flood_open(f, i);
		return;
	}
	r = recv(f->fd[i], buf, sizeof(buf), MSG_DONTWAIT);
	if (r == 0 || (r == -1 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		close(f->fd[i]);
		f->reconnects++;
		flood_open(f, i);
		return;
	}
	if (i % 3 == FLOOD_TRICKLE && du_now_ms() >= f->next[i]) {
		(void)!send(f->fd[i], "N", 1, MSG_NOSIGNAL);
		f->next[i] = du_now_ms() + 300;
	}
}

static void *
flood_run(void *arg)
{
	struct flood *f = arg;

	for (int i = 0; i < f->n; i++)
		flood_open(f, i);
	while (!f->stop) {
		for (int i = 0; i < f->n; i++)
			flood_step(f, i);
		du_sleep_ms(50);
	}
	for (int i = 0; i < f->n; i++)
		if (f->fd[i] != -1)
			close(f->fd[i]);
	return NULL;
}

/* 2 x max_workers attacking connections keep the pool full; stress mode
 * comes on, cuts them short (those in progress too), and a legitimate
 * client is served within about 2 x stress.command plus a few seconds
 * (0.1: after timeouts.command, 300 s).  When the flood ends, stress mode
 * ends. */
START_TEST(test_stress_flood)
{
	const char *args[] = { "-o", "pool.start=4", "-o", "pool.min_spare=1",
	    "-o", "pool.max_spare=4", "-o", "pool.max_workers=4", "-o",
	    "stress.command=3", "-o", "stress.data=3", NULL };
	struct flood f = { .n = 8 };
	struct pd d = { 0 };
	pthread_t t;
	long long ms;

	pd_start(&d, args);
	f.port = d.port;
	ck_assert_int_eq(pthread_create(&t, NULL, flood_run, &f), 0);
	ck_assert(pd_log_has(&d, "stress mode on", 5));
	ms = served_ms(d.port);
	ck_assert_msg(ms >= 0 && ms <= 2 * 3000 + 4000,
	    "legitimate client served in %lld ms", ms);
	printf("stress flood: a legitimate client served in %lld ms\n", ms);
	/* the flood goes on being cut short while it lasts */
	du_sleep_ms(1000);
	ms = served_ms(d.port);
	ck_assert_msg(ms >= 0 && ms <= 2 * 3000 + 4000,
	    "second client served in %lld ms", ms);
	f.stop = 1;
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_gt(f.reconnects, 8);
	ck_assert(pd_log_has(&d, "stress mode off", 10));
	ck_assert_int_ge(served_ms(d.port), 0);
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* ---- defect 10: the workers' user ---------------------------------------- */

/* -t refuses a user or group that does not exist, and a maildir the
 * workers' user cannot create (0.1 said OK, then answered 451 to every
 * message). */
START_TEST(test_check_user_and_targets)
{
	char ro[512], rw[512], conf[512], text[1200];
	const char *bad_user[] = { "-t", "-c", "SinkServer", "-o",
	    "user=no-such-user-psmtpd", NULL };
	const char *bad_group[] = { "-t", "-c", "SinkServer", "-o",
	    "group=no-such-group-psmtpd", NULL };
	const char *check[] = { "-t", "-C", conf, "-o", "user=nobody", NULL };
	struct su_buf out = { 0 };
	struct pd d = { 0 };

	if (geteuid() != 0 || getpwnam("nobody") == NULL)
		CHECK_SKIP("needs root and a user nobody");
	pd_prepare(&d);
	pd_path(&d, "ro", ro, sizeof(ro));
	pd_path(&d, "rw", rw, sizeof(rw));
	pd_path(&d, "psmtpd.conf", conf, sizeof(conf));
	ck_assert_int_eq(mkdir(ro, 0755), 0);
	ck_assert_int_eq(mkdir(rw, 0777), 0);
	ck_assert_int_eq(chmod(rw, 0777), 0);
	ck_assert_int_eq(chmod(d.dir, 0755), 0);
	ck_assert_int_eq(du_run(bad_user, &out), 1);
	ck_assert(strstr(out.p, "unknown user") != NULL);
	out.len = 0;
	ck_assert_int_eq(du_run(bad_group, &out), 1);
	ck_assert(strstr(out.p, "unknown group") != NULL);
	snprintf(text, sizeof(text), "plugins = ( { name = \"maildir\"; "
	    "settings = { dir = \"%s/Maildir\"; }; } );\n", ro);
	ck_assert_int_eq(du_write_config(conf, "%s", text), 0);
	out.len = 0;
	ck_assert_int_eq(du_run(check, &out), 1);
	ck_assert_msg(strstr(out.p, "not writable by user nobody") != NULL,
	    "%s", out.p);
	snprintf(text, sizeof(text), "plugins = ( { name = \"maildir\"; "
	    "settings = { dir = \"%s/Maildir\"; }; } );\n", rw);
	ck_assert_int_eq(du_write_config(conf, "%s", text), 0);
	out.len = 0;
	ck_assert_msg(du_run(check, &out) == 0, "%s", out.p);
	free(out.p);
	pd_cleanup(&d);
}
END_TEST

/* Without a config the workers are nobody, as with python -m smtpd; a
 * delivery plugin then warns at start. */
START_TEST(test_nobody_warning)
{
	char conf[512], rw[512], text[1024];
	const char *args[] = { "-N", "-P", "-C", conf, "-o", "pool.start=1",
	    NULL };
	struct pd d = { 0 };

	if (geteuid() != 0 || getpwnam("nobody") == NULL)
		CHECK_SKIP("needs root and a user nobody");
	pd_prepare(&d);
	pd_path(&d, "rw", rw, sizeof(rw));
	pd_path(&d, "psmtpd.conf", conf, sizeof(conf));
	ck_assert_int_eq(mkdir(rw, 0777), 0);
	ck_assert_int_eq(chmod(rw, 0777), 0);
	ck_assert_int_eq(chmod(d.dir, 0755), 0);
	snprintf(text, sizeof(text), "plugins = ( { name = \"maildir\"; "
	    "settings = { dir = \"%s/Maildir\"; }; } );\n", rw);
	ck_assert_int_eq(du_write_config(conf, "%s", text), 0);
	pd_start(&d, args);
	ck_assert(pd_log_has(&d, "workers run as nobody and plugin maildir",
	    0));
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* ---- stopping during a pipe delivery -------------------------------------- */

/* psmtpd stopped while a pipe delivery's command runs: the command dies
 * with its worker (0.1 left it running under init). */
START_TEST(test_stop_kills_pipe_command)
{
	char conf[512], pidfile[512], text[1024], buf[512];
	const char *args[] = { "-P", "-C", conf, "-o", "pool.start=1", "-o",
	    "timeouts.shutdown=1", NULL };
	struct pd d = { 0 };
	char *pidtext = NULL;
	pid_t cmd;
	int fd;

	pd_prepare(&d);
	pd_path(&d, "psmtpd.conf", conf, sizeof(conf));
	pd_path(&d, "cmd.pid", pidfile, sizeof(pidfile));
	snprintf(text, sizeof(text), "plugins = ( { name = \"pipe\"; "
	    "settings = { command = [ \"/bin/sh\", \"-c\", \"echo $$ > %s; "
	    "exec sleep 60\" ]; timeout = 100; }; } );\n", pidfile);
	ck_assert_int_eq(du_write_config(conf, "%s", text), 0);
	pd_start(&d, args);
	fd = smtp_open(d.port, buf, sizeof(buf));
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(smtp_cmd(fd, "HELO c.example", buf, sizeof(buf)), 250);
	ck_assert_int_eq(smtp_cmd(fd, "MAIL FROM:<a@example.org>", buf,
	    sizeof(buf)), 250);
	ck_assert_int_eq(smtp_cmd(fd, "RCPT TO:<b@example.org>", buf,
	    sizeof(buf)), 250);
	ck_assert_int_eq(smtp_cmd(fd, "DATA", buf, sizeof(buf)), 354);
	ck_assert_int_eq(smtp_send(fd, PU_BODY ".\r\n"), 0);
	for (int i = 0; i < 100 && (pidtext == NULL || atol(pidtext) <= 0);
	    i++) {
		free(pidtext);
		du_sleep_ms(50);
		pidtext = du_slurp(pidfile);
	}
	ck_assert_ptr_nonnull(pidtext);
	cmd = (pid_t)atol(pidtext);
	free(pidtext);
	ck_assert_int_gt(cmd, 0);
	ck_assert(pd_alive(cmd));
	ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
	ck_assert_int_ge(pd_wait_exit(d.pid, 20), 0);
	d.pid = 0;
	for (int i = 0; i < 40 && pd_alive(cmd); i++)
		du_sleep_ms(50);
	if (pd_alive(cmd))
		kill(cmd, SIGKILL);
	ck_assert_msg(!pd_alive(cmd), "the pipe command outlived psmtpd");
	close(fd);
	pd_cleanup(&d);
}
END_TEST

/* ---- signals, titles, a broken reload ------------------------------------ */

/* title_is - whether a process's title (as ps shows it) begins with
 * want. */
static bool
title_is(pid_t pid, const char *want)
{
	char path[64], t[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return false;
	n = read(fd, t, sizeof(t) - 1);	/* /proc files have no size */
	close(fd);
	t[n > 0 ? n : 0] = '\0';
	return strncmp(t, want, strlen(want)) == 0;
}

/* SIGUSR1 and SIGUSR2 log the pool (0.1: they killed the master and left
 * the pidfile); the titles say who is who; a broken reload is logged
 * once; a second SIGINT ends a session at once with 421 (0.1 waited for
 * timeouts.shutdown). */
START_TEST(test_signals_and_titles)
{
	char conf[512], buf[512], want[80];
	const char *args[] = { "-C", conf, "-o", "pool.start=1", "-o",
	    "pool.min_spare=1", "-o", "pool.max_spare=1", NULL };
	struct pd d = { 0 };
	pid_t w[PD_MAX_WORKERS];
	long long t0;
	int fd;

	pu_prepare_config(&d, conf, sizeof(conf),
	    "timeouts = { shutdown = 30; };\n");
	pd_start(&d, args);
	ck_assert_int_eq(pd_wait_workers(d.pid, 1, 1, 5), 1);
	du_sleep_ms(200);
	ck_assert_int_eq(kill(d.pid, SIGUSR1), 0);
	ck_assert_int_eq(kill(d.pid, SIGUSR2), 0);
	ck_assert(pd_log_has(&d, "status live=1 idle=1", 5));
	ck_assert(pd_alive(d.pid));
	ck_assert(title_is(d.pid, "psmtpd: master"));
	ck_assert_int_eq(pd_workers(d.pid, w, PD_MAX_WORKERS), 1);
	ck_assert(title_is(w[0], "psmtpd: worker idle"));
	pu_config(&d, "timeouts = { shutdown = ; };\n");
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	ck_assert(pd_log_has(&d, "keeping generation=0", 5));
	ck_assert_int_eq(pu_log_count(&d, "reload failed"), 1);
	fd = smtp_open(d.port, buf, sizeof(buf));
	ck_assert_int_ne(fd, -1);
	snprintf(want, sizeof(want), "psmtpd: worker busy 127.0.0.1:%d",
	    du_local_port(fd));
	ck_assert(title_is(pd_log_worker(&d, du_local_port(fd), 5), want));
	t0 = du_now_ms();
	ck_assert_int_eq(kill(d.pid, SIGINT), 0);
	ck_assert(pd_log_has(&d, "stopping workers=", 5));
	ck_assert_int_eq(kill(d.pid, SIGINT), 0);
	ck_assert_int_eq(smtp_reply(fd, buf, sizeof(buf)), 421);
	ck_assert_int_eq(pd_wait_exit(d.pid, 10), 0);
	ck_assert_msg(du_now_ms() - t0 < 5000, "stopped after %lld ms",
	    du_now_ms() - t0);
	d.pid = 0;
	close(fd);
	pd_cleanup(&d);
}
END_TEST

/* ---- psmtpd :PORT ------------------------------------------------------ */

/* "psmtpd :PORT" listens on localhost, not on every interface (the
 * default class relays). */
START_TEST(test_bare_port_is_localhost)
{
	char port[16];
	const char *args[] = { "-L", port, NULL };
	struct pd d = { 0 };
	char want[64];

	pd_prepare(&d);
	d.port = du_free_port("127.0.0.1");
	snprintf(port, sizeof(port), ":%d", d.port);
	pd_start(&d, args);
	snprintf(want, sizeof(want), "listen=127.0.0.1:%d", d.port);
	ck_assert(pd_log_has(&d, want, 0));
	ck_assert(!pd_log_has(&d, "0.0.0.0", 0));
	ck_assert(!pd_log_has(&d, "open relay", 0));
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* ---- psmtpd -S -------------------------------------------------------- */

/* status_of - psmtpd -S for the daemon's status file, in text or
 * Prometheus format; the output must contain want. */
static void
status_has(const char *file_opt, const char *format, const char *want)
{
	const char *args[] = { "-S", "-o", file_opt, "-o", format, NULL };
	struct su_buf out = { 0 };

	ck_assert_int_eq(du_run(args, &out), 0);
	ck_assert_msg(strstr(out.p, want) != NULL, "no '%s' in:\n%s", want,
	    out.p);
	free(out.p);
}

/* The pool as psmtpd -S shows it: workers by state, sessions and
 * messages since the start (a worker that died still counts), stress
 * mode, in text and for Prometheus; nothing running: exit 1. */
START_TEST(test_status_command)
{
	char file[512], opt[600];
	const char *args[] = { "-o", "pool.start=2", "-o", "pool.min_spare=2",
	    "-o", "pool.max_spare=2", "-o", opt, NULL };
	const char *none[] = { "-S", "-o", opt, NULL };
	struct su_buf out = { 0 };
	struct pd d = { 0 };
	char buf[512];
	int fd;

	pd_prepare(&d);
	pd_path(&d, "status", file, sizeof(file));
	snprintf(opt, sizeof(opt), "status.file=\"%s\"", file);
	pd_start(&d, args);		/* its probe is a session too */
	ck_assert_int_ge(served_ms(d.port), 0);
	fd = smtp_open(d.port, buf, sizeof(buf));
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(smtp_cmd(fd, "HELO c.example", buf, sizeof(buf)), 250);
	ck_assert_int_eq(smtp_message(fd, PU_BODY), 250);
	ck_assert_int_eq(kill(pd_log_worker(&d, du_local_port(fd), 5),
	    SIGKILL), 0);
	close(fd);
	ck_assert_int_eq(pd_wait_workers(d.pid, 2, 2, 5), 2);
	du_sleep_ms(300);
	status_has(opt, "status.format=text", "stress mode off");
	status_has(opt, "status.format=text", "workers: 2 idle=2");
	status_has(opt, "status.format=text", "messages accepted 2, "
	    "refused 0");
	status_has(opt, "status.format=prometheus",
	    "psmtpd_workers{state=\"idle\"} 2\n");
	status_has(opt, "status.format=prometheus",
	    "psmtpd_messages_total{result=\"accepted\"} 2\n");
	status_has(opt, "status.format=prometheus", "psmtpd_stress 0\n");
	ck_assert_int_eq(pd_stop(&d), 0);
	ck_assert_int_eq(access(file, F_OK), -1);
	ck_assert_int_eq(du_run(none, &out), 1);
	ck_assert(strstr(out.p, "status file") != NULL);
	free(out.p);
	pd_cleanup(&d);
}
END_TEST

static Suite *
defend_suite(void)
{
	Suite *s = suite_create("pool_defend");
	TCase *tc = tcase_create("attacks");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_kill_served_workers);
	tcase_add_test(tc, test_reload_ends_crash_loop);
	tcase_add_test(tc, test_scoreboard_corrupted);
	tcase_add_test(tc, test_listener_shutdown);
	tcase_add_test(tc, test_master_killed_restart);
	tcase_add_test(tc, test_two_detached);
	tcase_add_test(tc, test_pidfile_symlink);
	tcase_add_test(tc, test_detach_without_syslog);
	tcase_add_test(tc, test_slow_steady_data);
	tcase_add_test(tc, test_stress_flood);
	tcase_add_test(tc, test_status_command);
	tcase_add_test(tc, test_bare_port_is_localhost);
	tcase_add_test(tc, test_check_user_and_targets);
	tcase_add_test(tc, test_nobody_warning);
	tcase_add_test(tc, test_stop_kills_pipe_command);
	tcase_add_test(tc, test_signals_and_titles);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(defend_suite());
}
