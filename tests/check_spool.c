/*
 * check_spool.c - a worker's memory does not grow with the message: ten
 * clients send 30 MiB each at once, a plugin adds a header (so the
 * edited message is built too) and reads the data.  Every client sends
 * its whole message but the end marker, then waits for the others, so
 * that the ten messages are in the workers at the same time; the sum of
 * the workers' anonymous memory (what they pin: heap, not the page cache
 * of the spool files) is sampled then, and must stay far below the
 * 300 MiB that holding them in memory takes (0.1: 320 MiB).
 */
#include "autoconfig.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/check_run.h"
#include "tests/daemon_util.h"

#ifndef TESTS_BUILDDIR
#define TESTS_BUILDDIR "."
#endif
#define PLUGDIR TESTS_BUILDDIR "/tests/.libs/"

#define CLIENTS 10
#define MESSAGE_MIB 30
#define LIMIT_MIB 60	/* the ten workers together, over their idle size */

struct client {
	int port;
	const char *body;	/* without the end marker */
	pthread_barrier_t *sent, *go;
	int code;		/* the reply to the message */
};

/* client_run - one session with one large message. */
static void *
client_run(void *arg)
{
	struct client *c = arg;
	char reply[1024];
	int fd = smtp_open(c->port, reply, sizeof(reply));

	c->code = -1;
	if (fd == -1)
		return NULL;
	if (smtp_cmd(fd, "EHLO me", reply, sizeof(reply)) == 250 &&
	    smtp_cmd(fd, "MAIL FROM:<a@b>", reply, sizeof(reply)) == 250 &&
	    smtp_cmd(fd, "RCPT TO:<c@d>", reply, sizeof(reply)) == 250 &&
	    smtp_cmd(fd, "DATA", reply, sizeof(reply)) == 354 &&
	    smtp_send(fd, c->body) == 0)
		c->code = 0;
	/* every message is in the workers at once before any ends */
	pthread_barrier_wait(c->sent);
	pthread_barrier_wait(c->go);
	if (c->code == 0 && smtp_send(fd, ".\r\n") == 0)
		c->code = smtp_reply(fd, reply, sizeof(reply));
	smtp_cmd(fd, "QUIT", reply, sizeof(reply));
	close(fd);
	return NULL;
}

/* big_body - MESSAGE_MIB of 1000-byte lines. */
static char *
big_body(void)
{
	size_t line = 1000, lines = ((size_t)MESSAGE_MIB << 20) / line;
	char *b = malloc(16 + lines * line + 4);

	ck_assert_ptr_nonnull(b);
	memcpy(b, "Subject: big\r\n\r\n", 16);
	for (size_t i = 0; i < lines; i++) {
		memset(b + 16 + i * line, 'x', line - 2);
		memcpy(b + 16 + i * line + line - 2, "\r\n", 2);
	}
	b[16 + lines * line] = '\0';
	return b;
}

/* anon_kib - RssAnon of a process, in KiB (0 when it is gone). */
static long
anon_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "RssAnon: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* workers_anon_kib - the sum over the master's workers. */
static long
workers_anon_kib(pid_t master)
{
	pid_t pids[64];
	int n = pd_workers(master, pids, 64);
	long sum = 0;

	for (int i = 0; i < n; i++)
		sum += anon_kib(pids[i]);
	return sum;
}

/* asan_small_quarantine - in a sanitized build, ASan keeps up to 256 MiB
 * of freed memory per process in its quarantine: pinned by the
 * sanitizer, not by psmtpd.  The daemon started after this keeps 1 MiB
 * (the variable is read by the ASan runtime only; a plain build ignores
 * it). */
static void
asan_small_quarantine(void)
{
	const char *old = getenv("ASAN_OPTIONS");
	char buf[2048];

	snprintf(buf, sizeof(buf), "%s%squarantine_size_mb=1", old ? old : "",
	    old && *old ? ":" : "");
	setenv("ASAN_OPTIONS", buf, 1);
}

START_TEST(test_ten_large_messages)
{
	struct du_daemon d;
	char conf[] = "/tmp/check_spool.conf.XXXXXX";
	int fd = mkstemp(conf);
	FILE *f = fdopen(fd, "w");
	pthread_t th[CLIENTS];
	struct client c[CLIENTS];
	char *body = big_body();
	long peak = 0;
	pthread_barrier_t sent, go;

	fprintf(f, "pool = { start = %d; min_spare = 1; max_spare = %d; "
	    "max_workers = %d; };\ndata_size_limit = 0;\nplugins = ( { path = "
	    "\"" PLUGDIR "tapi2.so\"; settings = { headers = true; show = "
	    "true; }; } );\n", CLIENTS, CLIENTS, CLIENTS + 2);
	fclose(f);
	const char *args[] = { "-n", "-C", conf, NULL };
	asan_small_quarantine();
	ck_assert_int_eq(du_start(&d, "127.0.0.1", args), 0);
	ck_assert_int_ge(pd_wait_workers(d.pid, CLIENTS, CLIENTS + 2, 10), 0);
	long idle = workers_anon_kib(d.pid);
	pthread_barrier_init(&sent, NULL, CLIENTS + 1);
	pthread_barrier_init(&go, NULL, CLIENTS + 1);
	for (int i = 0; i < CLIENTS; i++) {
		c[i] = (struct client){ d.port, body, &sent, &go, -1 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, client_run,
		    &c[i]), 0);
	}
	pthread_barrier_wait(&sent);
	/* the workers read what the sockets still hold; sample meanwhile */
	for (int k = 0; k < 50; k++) {
		long now = workers_anon_kib(d.pid);
		peak = now > peak ? now : peak;
		usleep(20000);
	}
	pthread_barrier_wait(&go);
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(c[i].code, 250);
	}
	fprintf(stderr, "check_spool: %d x %d MiB: workers' anonymous memory "
	    "%ld KiB idle, %ld KiB at the peak\n", CLIENTS, MESSAGE_MIB, idle,
	    peak);
	ck_assert_msg(peak - idle < LIMIT_MIB * 1024L, "workers pinned %ld KiB",
	    peak - idle);
	ck_assert_int_eq(du_stop(&d), 0);
	ck_assert(du_file_has(d.err, "spooled=1 reply=\"250 OK\"", 100));
	ck_assert(du_file_has(d.err, "sees from=a@b to=c@d data=[X-First: "
	    "tapi2|Subject: edited by tapi2|X-Last: tapi2||xxx", 100));
	free(body);
	unlink(conf);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("spool");
	TCase *tc = tcase_create("spool");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ten_large_messages);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
