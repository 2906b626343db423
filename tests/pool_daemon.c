/*
 * pool_daemon.c - the process side against the real daemon: the pool
 * follows its settings under load and after, a killed worker costs one
 * session, reloads with a good and a bad config, a graceful stop with a
 * message in flight, recycling, 421 when full, -D and the pidfile, the
 * user switch.  Loopback only; every daemon is stopped by its pid.
 */
#include "autoconfig.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/check_run.h"
#include "tests/pool_util.h"

START_TEST(test_start_workers)
{
	const char *args[] = { "-o", "pool.start=3", NULL };
	struct pd d = { 0 };

	pd_start(&d, args);
	ck_assert_int_eq(pd_wait_workers(d.pid, 3, 3, 5), 3);
	/* Two maintenance seconds later: still three (an idle pool keeps
	 * `start` even though min_spare is 5). */
	du_sleep_ms(2500);
	ck_assert_int_eq(pd_workers(d.pid, NULL, 0), 3);
	ck_assert_int_eq(pu_session(d.port), 250);
	ck_assert_int_eq(pd_stop(&d), 0);
	ck_assert(pd_log_has(&d, "stopped status=0", 0));
	pd_cleanup(&d);
}
END_TEST

/* Connections that arrive together, as many as there are idle workers:
 * each worker takes one (with EPOLLEXCLUSIVE no connection may be left
 * behind in the queue of a worker that has gone busy).  max_workers
 * leaves no other worker to rescue one that was left. */
START_TEST(test_burst_accept)
{
	const char *args[] = { "-o", "pool.start=3", "-o", "pool.max_workers=3",
	    "-o", "pool.min_spare=1", "-o", "pool.max_spare=3", NULL };
	struct pd d = { 0 };

	pd_start(&d, args);
	for (int round = 0; round < 20; round++) {
		char reply[512];
		int fd[3];

		ck_assert_int_eq(pd_wait_workers(d.pid, 3, 3, 5), 3);
		/* The handshakes complete in the kernel; then read. */
		for (int i = 0; i < 3; i++) {
			fd[i] = smtp_connect(d.port);
			ck_assert_int_ne(fd[i], -1);
		}
		for (int i = 0; i < 3; i++)
			ck_assert_int_eq(smtp_reply(fd[i], reply,
			    sizeof(reply)), 220);
		for (int i = 0; i < 3; i++)
			pu_quit(fd[i]);
	}
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* Two listeners: both served, by the same workers, a burst on both at
 * once included. */
START_TEST(test_two_listeners)
{
	char opt[128];
	const char *args[] = { "-L", "-o", opt, "-o", "pool.start=2", "-o",
	    "pool.max_workers=4", "-o", "pool.max_spare=4", "-o",
	    "pool.min_spare=1", NULL };
	struct pd d = { 0 };
	int port[2];

	pd_prepare(&d);
	port[0] = d.port = du_free_port("127.0.0.1");
	do
		port[1] = du_free_port("127.0.0.1");
	while (port[1] == port[0]);
	snprintf(opt, sizeof(opt), "listen=[\"127.0.0.1:%d\",\"127.0.0.1:%d\"]",
	    port[0], port[1]);
	pd_start(&d, args);
	ck_assert_int_eq(d.port, port[0]);
	for (int round = 0; round < 10; round++) {
		char reply[512];
		int fd[4];

		for (int i = 0; i < 4; i++) {
			fd[i] = smtp_connect(port[i % 2]);
			ck_assert_int_ne(fd[i], -1);
		}
		for (int i = 0; i < 4; i++) {
			ck_assert_int_eq(smtp_reply(fd[i], reply,
			    sizeof(reply)), 220);
			ck_assert_int_eq(smtp_cmd(fd[i], "HELO c.example",
			    reply, sizeof(reply)), 250);
			ck_assert_int_eq(smtp_message(fd[i], PU_BODY), 250);
		}
		for (int i = 0; i < 4; i++)
			pu_quit(fd[i]);
	}
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* ---- load ------------------------------------------------------------ */

#define LOAD_CLIENTS 100
#define LOAD_MESSAGES 10

struct load {
	int port;
	int ok;		/* messages answered 250; atomic */
	int failed;	/* atomic */
};

static void *
load_client(void *arg)
{
	struct load *l = arg;
	char greet[512], reply[512];
	int fd = smtp_open(l->port, greet, sizeof(greet));
	int ok = 0;

	if (fd != -1 && smtp_cmd(fd, "EHLO load.example", reply,
	    sizeof(reply)) == 250) {
		for (int i = 0; i < LOAD_MESSAGES; i++) {
			if (smtp_message(fd, PU_BODY) == 250)
				ok++;
			/* A client that takes its time, so that the
			 * sessions overlap and the pool has to grow. */
			du_sleep_ms(20);
		}
		smtp_cmd(fd, "QUIT", reply, sizeof(reply));
	}
	if (fd != -1)
		close(fd);
	__atomic_add_fetch(&l->ok, ok, __ATOMIC_RELAXED);
	__atomic_add_fetch(&l->failed, LOAD_MESSAGES - ok, __ATOMIC_RELAXED);
	return NULL;
}

START_TEST(test_load)
{
	const char *args[] = { "-o", "pool.start=3", "-o",
	    "pool.max_workers=20", "-o", "pool.min_spare=5", "-o",
	    "pool.max_spare=10", NULL };
	pthread_t th[LOAD_CLIENTS];
	struct load l = { 0, 0, 0 };
	struct pd d = { 0 };
	int most = 0;

	pd_start(&d, args);
	l.port = d.port;
	for (int i = 0; i < LOAD_CLIENTS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, load_client, &l),
		    0);
	/* While the load lasts (bounded: 60 s), count the workers. */
	for (int i = 0; i < 1200; i++) {
		int n = pd_workers(d.pid, NULL, 0);

		most = n > most ? n : most;
		if (__atomic_load_n(&l.ok, __ATOMIC_RELAXED) +
		    __atomic_load_n(&l.failed, __ATOMIC_RELAXED) ==
		    LOAD_CLIENTS * LOAD_MESSAGES)
			break;
		du_sleep_ms(50);
	}
	for (int i = 0; i < LOAD_CLIENTS; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(l.ok, LOAD_CLIENTS * LOAD_MESSAGES);
	ck_assert_int_le(most, 20);
	ck_assert_msg(most > 5, "the pool did not grow: %d workers", most);
	/* After the load the idle workers above max_spare are retired. */
	ck_assert_int_ne(pd_wait_workers(d.pid, 1, 10, 5), -1);
	ck_assert(pd_log_has(&d, "pool spawn", 0));
	ck_assert(pd_log_has(&d, "pool retire", 0));
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* ---- crashes --------------------------------------------------------- */

/* kill -9 of a busy worker: its session is lost, the others go on, the
 * master says who died doing what, and a new worker takes its place. */
START_TEST(test_kill_busy_worker)
{
	const char *args[] = { "-o", "pool.start=3", NULL };
	char greet[512], reply[512], text[128];
	pid_t after[PD_MAX_WORKERS], victim;
	struct pd d = { 0 };
	int a, b, n, port_a;

	pd_start(&d, args);
	ck_assert_int_eq(pd_wait_workers(d.pid, 3, 3, 5), 3);
	a = pu_ehlo(d.port, greet, sizeof(greet));
	b = pu_ehlo(d.port, greet, sizeof(greet));
	ck_assert_int_eq(smtp_cmd(a, "MAIL FROM:<x@example.org>", reply,
	    sizeof(reply)), 250);
	port_a = du_local_port(a);
	victim = pd_log_worker(&d, port_a, 5);
	ck_assert_int_gt(victim, 0);
	n = pd_workers(d.pid, NULL, 0);
	ck_assert_int_eq(kill(victim, SIGKILL), 0);
	ck_assert_int_eq(smtp_cmd(a, "RCPT TO:<y@example.org>", reply,
	    sizeof(reply)), -1);
	close(a);
	ck_assert_int_eq(smtp_message(b, PU_BODY), 250);
	pu_quit(b);
	snprintf(text, sizeof(text), "worker died pid=%ld signal=9",
	    (long)victim);
	ck_assert(pd_log_has(&d, text, 5));
	/* ... and what it was doing, for whom. */
	snprintf(text, sizeof(text), "state=command client=127.0.0.1:%d",
	    port_a);
	ck_assert(pd_log_has(&d, text, 0));
	ck_assert_int_ne(pd_wait_workers(d.pid, n, PD_MAX_WORKERS, 5), -1);
	n = pd_workers(d.pid, after, PD_MAX_WORKERS);
	for (int i = 0; i < n; i++)
		ck_assert_int_ne(after[i], victim);
	ck_assert_int_eq(pu_session(d.port), 250);
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* A plugin that crashes on one recipient: that session is lost, the log
 * names the plugin it was in and the client, another session goes on. */
START_TEST(test_crash_in_plugin)
{
	char conf[512], greet[512], reply[512], text[128];
	const char *args[] = { "-P", "-C", conf, "-o", "pool.start=2", NULL };
	struct pd d = { 0 };
	int a, b;

	pu_prepare_config(&d, conf, sizeof(conf), "plugins = ( { path = \""
	    POOL_TEST_PLUGINS "/tplug.so\"; settings = { rcpt = \"crash\"; "
	    "rcpt_only = \"crash@example.org\"; }; } );\n");
	d.crashes = true;
	pd_start(&d, args);
	a = pu_ehlo(d.port, greet, sizeof(greet));
	b = pu_ehlo(d.port, greet, sizeof(greet));
	ck_assert_int_eq(smtp_cmd(a, "MAIL FROM:<x@example.org>", reply,
	    sizeof(reply)), 250);
	ck_assert_int_eq(smtp_cmd(a, "RCPT TO:<crash@example.org>", reply,
	    sizeof(reply)), -1);
	snprintf(text, sizeof(text), "state=plugin plugin=tplug "
	    "client=127.0.0.1:%d", du_local_port(a));
	close(a);
	ck_assert(pd_log_has(&d, "signal=11", 5));
	ck_assert(pd_log_has(&d, text, 0));
	ck_assert_int_eq(smtp_message(b, PU_BODY), 250);
	pu_quit(b);
	ck_assert_int_eq(pu_session(d.port), 250);
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* cpu_ms - user+system time of a process so far. */
static long
cpu_ms(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	ck_assert_ptr_nonnull(p);
	sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st);
	return (long)((ut + st) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

/* Workers that die as they start (crash, or a failing worker_init): the
 * master backs off instead of forking as fast as it can (keeping only its
 * floor, here one worker, once a second), and still stops cleanly. */
static const char *const crash_loop_actions[] = { "crash", "fail" };

START_TEST(test_crash_loop)
{
	char conf[512], cfg[512];
	const char *args[] = { "-P", "-C", conf, "-o", "pool.start=2", "-o",
	    "pool.min_spare=1", NULL };
	struct pd d = { 0 };
	int deaths;

	snprintf(cfg, sizeof(cfg), "plugins = ( { path = \"" POOL_TEST_PLUGINS
	    "/pool_tcrash.so\"; settings = { worker_init = \"%s\"; }; } );\n",
	    crash_loop_actions[_i]);
	pu_prepare_config(&d, conf, sizeof(conf), cfg);
	d.crashes = true;
	pd_spawn(&d, args);
	ck_assert(pd_log_has(&d, "respawn throttled", 5));
	du_sleep_ms(4000);
	deaths = pu_log_count(&d, "worker died") +
	    pu_log_count(&d, "worker failed");
	ck_assert_int_ge(deaths, 3);
	/* Some 5 s in all: without the back-off, thousands of forks. */
	ck_assert_msg(deaths <= 20, "%d deaths", deaths);
	ck_assert_msg(cpu_ms(d.pid) < 1000, "master cpu %ld ms",
	    cpu_ms(d.pid));
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* ---- reload ---------------------------------------------------------- */

/* Sessions one after another while the daemon reloads: none refused. */
struct hammer {
	int port;
	int sessions, ok;
};

static void *
hammer_run(void *arg)
{
	struct hammer *h = arg;

	for (int i = 0; i < h->sessions; i++) {
		if (pu_session(h->port) == 250)
			h->ok++;
		du_sleep_ms(10);
	}
	return NULL;
}

/* SIGHUP with a new hostname: new sessions see it, a session open across
 * the reload finishes as it began, and its old worker then goes; no
 * session is refused meanwhile. */
START_TEST(test_reload_hostname)
{
	char conf[512], greet[512];
	const char *args[] = { "-C", conf, "-o", "pool.start=2", NULL };
	struct hammer h = { 0, 60, 0 };
	struct pd d = { 0 };
	pthread_t th;
	pid_t old;
	int a, fd = -1;

	pu_prepare_config(&d, conf, sizeof(conf),
	    "hostname = \"one.example\";\n");
	pd_start(&d, args);
	a = pu_ehlo(d.port, greet, sizeof(greet));
	ck_assert_msg(strstr(greet, "220 one.example") == greet, "%s", greet);
	old = pd_log_worker(&d, du_local_port(a), 5);
	pu_config(&d, "hostname = \"two.example\";\n");
	h.port = d.port;
	ck_assert_int_eq(pthread_create(&th, NULL, hammer_run, &h), 0);
	du_sleep_ms(100);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	ck_assert(pd_log_has(&d, "reload done generation=1", 5));
	pthread_join(th, NULL);
	ck_assert_int_eq(h.ok, h.sessions);
	for (int i = 0; i < 50; i++) {
		fd = smtp_open(d.port, greet, sizeof(greet));
		ck_assert_int_ne(fd, -1);
		if (strstr(greet, "220 two.example") == greet)
			break;
		close(fd);
		fd = -1;
		du_sleep_ms(100);
	}
	ck_assert_msg(fd != -1, "new sessions still greet with %s", greet);
	ck_assert_int_eq(smtp_cmd(fd, "EHLO c.example", greet, sizeof(greet)),
	    250);
	ck_assert_int_eq(smtp_message(fd, PU_BODY), 250);
	pu_quit(fd);
	/* The session from before the reload is not disturbed. */
	ck_assert_int_eq(smtp_message(a, PU_BODY), 250);
	pu_quit(a);
	for (int i = 0; i < 100 && pd_alive(old); i++)
		du_sleep_ms(50);
	ck_assert(!pd_alive(old));
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* SIGHUP with a config that does not load: logged, the old one serves. */
START_TEST(test_reload_broken)
{
	char conf[512], greet[512];
	const char *args[] = { "-C", conf, "-o", "pool.start=2", NULL };
	pid_t before[PD_MAX_WORKERS], after[PD_MAX_WORKERS];
	struct pd d = { 0 };
	int n, m, fd;

	pu_prepare_config(&d, conf, sizeof(conf),
	    "hostname = \"one.example\";\n");
	pd_start(&d, args);
	ck_assert_int_eq(pd_wait_workers(d.pid, 2, 2, 5), 2);
	n = pd_workers(d.pid, before, PD_MAX_WORKERS);
	pu_config(&d, "hostname = \"two.example\"\npool = { start = ;\n");
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	ck_assert(pd_log_has(&d, "reload failed", 5));
	fd = smtp_open(d.port, greet, sizeof(greet));
	ck_assert_int_ne(fd, -1);
	ck_assert_msg(strstr(greet, "220 one.example") == greet, "%s", greet);
	ck_assert_int_eq(smtp_cmd(fd, "EHLO c.example", greet, sizeof(greet)),
	    250);
	ck_assert_int_eq(smtp_message(fd, PU_BODY), 250);
	pu_quit(fd);
	/* The same workers: nothing was restarted. */
	m = pd_workers(d.pid, after, PD_MAX_WORKERS);
	ck_assert_int_eq(m, n);
	for (int i = 0; i < n; i++) {
		bool found = false;
		for (int j = 0; j < m; j++)
			found = found || before[i] == after[j];
		ck_assert(found);
	}
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* SIGHUP with new pool settings: the new generation follows them. */
START_TEST(test_reload_pool_settings)
{
	char conf[512];
	const char *args[] = { "-C", conf, NULL };
	struct pd d = { 0 };

	pu_prepare_config(&d, conf, sizeof(conf), "pool = { start = 2; "
	    "min_spare = 1; max_spare = 2; };\n");
	pd_start(&d, args);
	ck_assert_int_eq(pd_wait_workers(d.pid, 2, 2, 5), 2);
	pu_config(&d, "pool = { start = 4; min_spare = 1; "
	    "max_spare = 4; };\n");
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	ck_assert(pd_log_has(&d, "reload done generation=1 started=4", 5));
	/* The idle workers of generation 0 leave at once. */
	ck_assert_int_eq(pd_wait_workers(d.pid, 4, 4, 5), 4);
	du_sleep_ms(1500);
	ck_assert_int_eq(pd_workers(d.pid, NULL, 0), 4);
	ck_assert_int_eq(pu_session(d.port), 250);
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* ---- stop ------------------------------------------------------------ */

/* SIGTERM while a message is half sent: new clients are refused, the
 * message is received and answered, then the daemon exits 0. */
START_TEST(test_stop_during_data)
{
	const char *args[] = { "-o", "pool.start=2", NULL };
	char greet[512], reply[512];
	struct pd d = { 0 };
	int a, status;

	pd_start(&d, args);
	a = pu_ehlo(d.port, greet, sizeof(greet));
	ck_assert_int_eq(smtp_cmd(a, "MAIL FROM:<x@example.org>", reply,
	    sizeof(reply)), 250);
	ck_assert_int_eq(smtp_cmd(a, "RCPT TO:<y@example.org>", reply,
	    sizeof(reply)), 250);
	ck_assert_int_eq(smtp_cmd(a, "DATA", reply, sizeof(reply)), 354);
	ck_assert_int_eq(smtp_send(a, "Subject: x\r\n\r\nfirst half\r\n"), 0);
	ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
	ck_assert(pd_log_has(&d, "stopping", 5));
	ck_assert_int_eq(smtp_open(d.port, greet, sizeof(greet)), -1);
	ck_assert_int_eq(waitpid(d.pid, &status, WNOHANG), 0);
	ck_assert_int_eq(smtp_send(a, "second half\r\n"), 0);
	ck_assert_int_eq(smtp_cmd(a, ".", reply, sizeof(reply)), 250);
	pu_quit(a);
	ck_assert_int_eq(pd_wait_exit(d.pid, 10), 0);
	d.pid = 0;
	ck_assert(pd_log_has(&d, "stopped status=0", 0));
	pd_cleanup(&d);
}
END_TEST

/* SIGTERM with a client that never finishes: ended after
 * timeouts.shutdown with a 421. */
START_TEST(test_stop_timeout)
{
	const char *args[] = { "-o", "pool.start=1", "-o",
	    "timeouts.shutdown=1", NULL };
	char greet[512], reply[512];
	struct pd d = { 0 };
	int a;

	pd_start(&d, args);
	a = pu_ehlo(d.port, greet, sizeof(greet));
	ck_assert_int_eq(kill(d.pid, SIGINT), 0);
	ck_assert_int_eq(smtp_reply(a, reply, sizeof(reply)), 421);
	close(a);
	ck_assert_int_eq(pd_wait_exit(d.pid, 10), 0);
	d.pid = 0;
	pd_cleanup(&d);
}
END_TEST

/* The master killed outright: its workers notice and go (an idle one at
 * once; this one after its session). */
START_TEST(test_master_killed)
{
	const char *args[] = { "-o", "pool.start=3", NULL };
	pid_t w[PD_MAX_WORKERS];
	char greet[512];
	struct pd d = { 0 };
	int n, a;

	pd_start(&d, args);
	ck_assert_int_eq(pd_wait_workers(d.pid, 3, 3, 5), 3);
	n = pd_workers(d.pid, w, PD_MAX_WORKERS);
	a = pu_ehlo(d.port, greet, sizeof(greet));
	ck_assert_int_eq(kill(d.pid, SIGKILL), 0);
	ck_assert_int_eq(pd_wait_exit(d.pid, 5), 128 + SIGKILL);
	d.pid = 0;
	ck_assert_int_eq(smtp_message(a, PU_BODY), 250);
	pu_quit(a);
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < 100 && pd_alive(w[i]); j++)
			du_sleep_ms(50);
		ck_assert_msg(!pd_alive(w[i]), "worker %ld still there",
		    (long)w[i]);
	}
	pd_cleanup(&d);
}
END_TEST

/* A worker that ignores the stop (stuck in a plugin): killed after
 * timeouts.shutdown and the grace after it; the master still exits 0. */
START_TEST(test_stop_kills_stuck)
{
	char conf[512], greet[512], reply[512];
	const char *args[] = { "-P", "-C", conf, "-o", "pool.start=1", "-o",
	    "timeouts.shutdown=1", NULL };
	struct pd d = { 0 };
	int a;

	pu_prepare_config(&d, conf, sizeof(conf), "plugins = ( { path = \""
	    POOL_TEST_PLUGINS "/pool_tcrash.so\"; settings = { rcpt = "
	    "\"hang\"; }; } );\n");
	pd_start(&d, args);
	a = pu_ehlo(d.port, greet, sizeof(greet));
	ck_assert_int_eq(smtp_cmd(a, "MAIL FROM:<x@example.org>", reply,
	    sizeof(reply)), 250);
	ck_assert_int_eq(smtp_send(a, "RCPT TO:<y@example.org>\r\n"), 0);
	ck_assert_int_eq(pd_log_worker(&d, du_local_port(a), 5) > 0, 1);
	du_sleep_ms(200);
	ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
	ck_assert_int_eq(pd_wait_exit(d.pid, 20), 0);
	d.pid = 0;
	ck_assert(pd_log_has(&d, "killing the workers left", 0));
	ck_assert(pd_log_has(&d, "signal=9", 0));
	ck_assert(pd_log_has(&d, "state=plugin plugin=pool_tcrash", 0));
	close(a);
	pd_cleanup(&d);
}
END_TEST

/* ---- recycling, busy --------------------------------------------------- */

START_TEST(test_recycle)
{
	const char *args[] = { "-o", "pool.start=1", "-o", "pool.min_spare=1",
	    "-o", "pool.max_spare=1", "-o",
	    "pool.max_connections_per_worker=2", NULL };
	pid_t seen[6];
	int distinct = 0;
	struct pd d = { 0 };

	pd_start(&d, args);	/* its probe was the first session */
	for (int i = 0; i < 5; i++) {
		char greet[512];
		int fd = smtp_open(d.port, greet, sizeof(greet));

		ck_assert_int_ne(fd, -1);
		seen[i] = pd_log_worker(&d, du_local_port(fd), 5);
		ck_assert_int_eq(smtp_cmd(fd, "HELO c.example", greet,
		    sizeof(greet)), 250);
		ck_assert_int_eq(smtp_message(fd, PU_BODY), 250);
		pu_quit(fd);
		distinct += i == 0 || seen[i] != seen[i - 1];
	}
	ck_assert_int_ge(distinct, 3);
	ck_assert(pd_log_has(&d, "worker recycled sessions=2", 0));
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

START_TEST(test_busy_reply)
{
	const char *args[] = { "-o", "pool.start=2", "-o", "pool.min_spare=1",
	    "-o", "pool.max_spare=2", "-o", "pool.max_workers=2", "-o",
	    "pool.busy_reply=true", NULL };
	char greet[512];
	struct pd d = { 0 };
	int a, b, c = -1;

	pd_start(&d, args);
	ck_assert_int_eq(pd_wait_workers(d.pid, 2, 2, 5), 2);
	a = pu_ehlo(d.port, greet, sizeof(greet));
	b = pu_ehlo(d.port, greet, sizeof(greet));
	c = smtp_open(d.port, greet, sizeof(greet));
	ck_assert_int_ne(c, -1);
	ck_assert_msg(strncmp(greet, "421 ", 4) == 0 &&
	    strstr(greet, " Service not available, too busy\r\n") != NULL,
	    "%s", greet);
	close(c);
	ck_assert(pd_log_has(&d, "refused client=127.0.0.1", 5));
	pu_quit(a);
	/* A worker is free again: served, not refused. */
	c = -1;
	for (int i = 0; i < 40 && c == -1; i++) {
		c = smtp_open(d.port, greet, sizeof(greet));
		if (c != -1 && strncmp(greet, "220 ", 4) != 0) {
			close(c);
			c = -1;
			du_sleep_ms(50);
		}
	}
	ck_assert_int_ne(c, -1);
	ck_assert_int_eq(smtp_cmd(c, "HELO c.example", greet, sizeof(greet)),
	    250);
	ck_assert_int_eq(smtp_message(c, PU_BODY), 250);
	pu_quit(c);
	pu_quit(b);
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

/* ---- daemon, privileges ------------------------------------------------ */

/* guard_daemon - a detached daemon is nobody's child: should the test
 * fail half-way, a guard process kills it once the test has gone (its
 * pipe reads EOF), if the pidfile says it still runs. */
static void
guard_daemon(pid_t pid, const char *pidfile)
{
	int p[2];
	pid_t g;

	ck_assert_int_eq(pipe(p), 0);
	g = fork();
	ck_assert_int_ne(g, -1);
	if (g == 0) {
		char c;

		close(p[1]);
		while (read(p[0], &c, 1) == -1 && errno == EINTR)
			;
		if (access(pidfile, F_OK) == 0)
			kill(pid, SIGKILL);
		_exit(0);
	}
	close(p[0]);	/* p[1] stays open until the test process ends */
}

/* pidfile_pid - the pid in a pidfile, 0 if none. */
static pid_t
pidfile_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

START_TEST(test_detach_pidfile)
{
	char pidfile[512], opt[600], greet[512];
	const char *args[] = { "-D", "-o", opt, "-o", "pool.start=1", NULL };
	struct pd d = { 0 }, d2 = { 0 };
	pid_t pid;

	pu_prepare_pidfile(&d, pidfile, sizeof(pidfile), opt, sizeof(opt));
	/* The starting process exits 0 once the daemon is ready. */
	pd_spawn(&d, args);
	ck_assert_int_eq(pd_wait_exit(d.pid, 10), 0);
	pid = pidfile_pid(pidfile);
	ck_assert_int_gt(pid, 0);
	guard_daemon(pid, pidfile);
	ck_assert_int_ne(pid, d.pid);
	ck_assert_int_eq(kill(pid, 0), 0);
	for (int i = 0; i < 40; i++) {
		int fd = smtp_open(d.port, greet, sizeof(greet));
		if (fd != -1) {
			close(fd);
			break;
		}
		du_sleep_ms(50);
	}
	ck_assert_msg(strncmp(greet, "220 ", 4) == 0, "%s", greet);
	/* A second one with the same pidfile is refused. */
	pd_spawn(&d2, args);
	ck_assert_int_eq(pd_wait_exit(d2.pid, 10), 1);
	ck_assert(pd_log_has(&d2, "is locked by running psmtpd", 0));
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(pd_wait_exit(pid, 10), 0);
	ck_assert_int_eq(access(pidfile, F_OK), -1);
	pd_cleanup(&d);
	pd_cleanup(&d2);
}
END_TEST

/* Without -n, as root: workers run as nobody; user root is refused. */
START_TEST(test_user_switch)
{
	const char *as_root[] = { "-N", "-o", "user=\"root\"", NULL };
	const char *as_nobody[] = { "-N", "-o", "pool.start=2", NULL };
	struct passwd *pw = getpwnam("nobody");
	pid_t w[PD_MAX_WORKERS];
	struct pd d = { 0 };

	if (geteuid() != 0 || pw == NULL)
		return;
	ck_assert_int_eq(pd_try_start(&d, as_root), 1);
	ck_assert(pd_log_has(&d, "refusing to run workers as root", 0));
	pd_start(&d, as_nobody);
	ck_assert_int_eq(pd_wait_workers(d.pid, 2, 2, 5), 2);
	pd_workers(d.pid, w, PD_MAX_WORKERS);
	for (int i = 0; i < 2; i++) {
		char path[64], line[256];
		long uid = -1;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%ld/status", (long)w[i]);
		f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "Uid: %ld", &uid) == 1)
				break;
		fclose(f);
		ck_assert_int_eq(uid, (long)pw->pw_uid);
	}
	ck_assert_int_eq(pu_session(d.port), 250);
	ck_assert_int_eq(pd_stop(&d), 0);
	pd_cleanup(&d);
}
END_TEST

static Suite *
daemon_suite(void)
{
	Suite *s = suite_create("pool_daemon");
	TCase *tc = tcase_create("pool");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_start_workers);
	tcase_add_test(tc, test_burst_accept);
	tcase_add_test(tc, test_two_listeners);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_kill_busy_worker);
	tcase_add_test(tc, test_crash_in_plugin);
	tcase_add_loop_test(tc, test_crash_loop, 0, 2);
	tcase_add_test(tc, test_recycle);
	tcase_add_test(tc, test_busy_reply);
	suite_add_tcase(s, tc);
	tc = tcase_create("signals");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_reload_hostname);
	tcase_add_test(tc, test_reload_broken);
	tcase_add_test(tc, test_reload_pool_settings);
	tcase_add_test(tc, test_stop_during_data);
	tcase_add_test(tc, test_stop_timeout);
	tcase_add_test(tc, test_master_killed);
	tcase_add_test(tc, test_stop_kills_stuck);
	suite_add_tcase(s, tc);
	tc = tcase_create("daemon");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_detach_pidfile);
	tcase_add_test(tc, test_user_switch);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(daemon_suite());
}
