/*
 * check_daemon.c - the real psmtpd over TCP on loopback: IPv4 and IPv6
 * sessions, pipelining, DebuggingServer's output, real clients (Python's
 * smtplib, swaks), and the command line's contract (exit statuses 0/1/2).
 */
#include "autoconfig.h"

#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/check_run.h"
#include "tests/daemon_util.h"

#ifndef TESTS_SRCDIR
#define TESTS_SRCDIR "tests"
#endif

/* count_lines_with - how many lines of s start with prefix. */
static int
count_lines_with(const char *s, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);

	for (const char *p = s; p != NULL && *p != '\0';) {
		if (strncmp(p, prefix, len) == 0)
			n++;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return n;
}

static const char *const sink_args[] = { "-n", "-c", "SinkServer", "-o",
    "pool.start=2", "-o", "hostname=test.example", NULL };

START_TEST(test_ipv4_session)
{
	struct du_daemon d;
	struct su_buf r = { 0 };

	ck_assert_int_eq(du_start(&d, "127.0.0.1", sink_args), 0);
	ck_assert_int_eq(du_session(&d, "EHLO me\r\nQUIT\r\n", &r), 0);
	ck_assert_msg(strncmp(r.p, "220 test.example psmtpd ", 24) == 0,
	    "greeting: %s", r.p);
	ck_assert_ptr_nonnull(strstr(r.p, "\r\n250-test.example\r\n"
	    "250-SIZE 33554432\r\n250-8BITMIME\r\n250 HELP\r\n221 Bye\r\n"));
	ck_assert_int_eq(du_stop(&d), 0);
	free(r.p);
}
END_TEST

START_TEST(test_ipv6_session)
{
	struct du_daemon d;
	struct su_buf r = { 0 };

	if (du_free_port("::1") < 0) {
		printf("SKIP: test_ipv6_session: no IPv6 loopback on this machine\n");
		return;
	}
	ck_assert_int_eq(du_start(&d, "::1", sink_args), 0);
	ck_assert_int_eq(du_session(&d, "HELO me\r\nMAIL FROM:<a@b>\r\n"
	    "RCPT TO:<c@d>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n", &r), 0);
	ck_assert_int_eq(count_lines_with(r.p, "250 "), 4);
	ck_assert_ptr_nonnull(strstr(r.p, "221 Bye"));
	ck_assert_int_eq(du_stop(&d), 0);
	free(r.p);
}
END_TEST

/* Everything in one packet: the replies come back in order. */
START_TEST(test_pipelined)
{
	struct du_daemon d;
	struct su_buf r = { 0 };
	const char *expect =
	    "250-test.example\r\n250-SIZE 33554432\r\n250-8BITMIME\r\n"
	    "250 HELP\r\n250 OK\r\n250 OK\r\n501 Syntax: RCPT TO: <address>"
	    " [SP <mail-parameters>]\r\n250 OK\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n250 OK\r\n250 OK\r\n"
	    "250 OK\r\n250 OK\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 OK\r\n221 Bye\r\n";

	ck_assert_int_eq(du_start(&d, "127.0.0.1", sink_args), 0);
	ck_assert_int_eq(du_session(&d, "EHLO me\r\nMAIL FROM:<a@b>\r\n"
	    "RCPT TO:<c@d>\r\nRCPT TO:\r\nRCPT TO:<e@f>\r\nDATA\r\n"
	    "Subject: 1\r\n\r\nbody\r\n.\r\nNOOP\r\nMAIL FROM:<g@h>\r\n"
	    "RCPT TO:<i@j>\r\nDATA\r\n.\r\nQUIT\r\n", &r), 0);
	const char *after = strstr(r.p, "\r\n");
	ck_assert_ptr_nonnull(after);
	ck_assert_str_eq(after + 2, expect);
	ck_assert_int_eq(du_stop(&d), 0);
	free(r.p);
}
END_TEST

/* DebuggingServer's format, as Python prints it with decode_data=True. */
START_TEST(test_debugging_output)
{
	struct du_daemon d;
	struct su_buf r = { 0 };
	const char *args[] = { "-n", "-c", "DebuggingServer", "-o",
	    "pool.start=1", NULL };
	const char *expect =
	    "---------- MESSAGE FOLLOWS ----------\n"
	    "mail options: ['BODY=8BITMIME']\n"
	    "Subject: test\n"
	    "From: a@b\n"
	    "X-Peer: 127.0.0.1\n"
	    "\n"
	    "caf\xc3\xa9 \\xff\n"
	    ".dot\n"
	    "------------ END MESSAGE ------------\n";

	ck_assert_int_eq(du_start(&d, "127.0.0.1", args), 0);
	ck_assert_int_eq(du_session(&d, "EHLO me\r\n"
	    "MAIL FROM:<a@b> BODY=8BITMIME\r\nRCPT TO:<c@d>\r\nDATA\r\n"
	    "Subject: test\r\nFrom: a@b\r\n\r\ncaf\xc3\xa9 \xff\r\n..dot\r\n"
	    ".\r\nQUIT\r\n", &r), 0);
	ck_assert_int_eq(du_stop(&d), 0);
	char *out = du_slurp(d.out);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, expect);
	free(out);
	free(r.p);
}
END_TEST

/* through_debugging - run a client command (PORT in it is the port)
 * against a DebuggingServer; what the server printed, or NULL when the
 * client is not installed (the test then skips, saying so). */
static char *
through_debugging(const char *probe, const char *command)
{
	struct du_daemon d;
	char cmd[1024];
	const char *args[] = { "-n", "-c", "DebuggingServer", NULL };
	const char *at = strstr(command, "PORT");

	if (system(probe) != 0) {
		printf("SKIP: '%s' failed: client not installed\n", probe);
		return NULL;
	}
	ck_assert_ptr_nonnull(at);
	ck_assert_int_eq(du_start(&d, "127.0.0.1", args), 0);
	snprintf(cmd, sizeof(cmd), "%.*s%d%s", (int)(at - command), command,
	    d.port, at + 4);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(du_stop(&d), 0);
	return du_slurp(d.out);
}

/* Python's smtplib, a real client. */
START_TEST(test_smtplib_client)
{
	char *out = through_debugging("python3 -c 'import smtplib' "
	    "2>/dev/null", "timeout 20 python3 -c \""
	    "import smtplib\n"
	    "s = smtplib.SMTP('127.0.0.1', PORT, timeout=10)\n"
	    "r = s.sendmail('from@example.org', ['to@example.org', "
	    "'cc@example.org'], 'Subject: smtplib\\r\\n\\r\\nHello.\\r\\n')\n"
	    "assert r == {}, r\n"
	    "s.quit()\n\"");

	if (out == NULL)
		return;
	ck_assert_msg(strstr(out, "---------- MESSAGE FOLLOWS "
	    "----------\nmail options: ['SIZE=28']\nSubject: smtplib\n"
	    "X-Peer: 127.0.0.1\n\nHello.\n------------ END MESSAGE "
	    "------------\n") != NULL, "%s", out);
	free(out);
}
END_TEST

/* swaks, another real client. */
START_TEST(test_swaks_client)
{
	char *out = through_debugging("command -v swaks >/dev/null 2>&1",
	    "timeout 20 swaks --server 127.0.0.1 --port PORT --from "
	    "a@example.org --to b@example.org --header 'Subject: swaks' "
	    "--body 'from swaks' >/dev/null 2>&1");

	if (out == NULL)
		return;
	ck_assert_ptr_nonnull(strstr(out, "Subject: swaks\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nfrom swaks\n"));
	free(out);
}
END_TEST

/* read_until_close - an idle client: what the server says before it
 * hangs up, within 10 s. */
static char *
read_until_close(const struct du_daemon *d, const char *send_first)
{
	int fd = du_connect(d);
	struct su_buf r = { 0 };
	time_t end = time(NULL) + 10;

	ck_assert_int_ge(fd, 0);
	if (send_first != NULL)
		ck_assert_int_gt(send(fd, send_first, strlen(send_first), 0), 0);
	while (time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char chunk[1024];
		if (poll(&p, 1, 500) <= 0)
			continue;
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
		if (n <= 0)
			break;
		su_buf_put(&r, chunk, (size_t)n);
	}
	close(fd);
	su_buf_put(&r, "", 0);
	return r.p;
}

/* An idle client is let go after timeouts.command; a client that keeps
 * busy, after timeouts.session. */
START_TEST(test_timeouts)
{
	struct du_daemon d;
	const char *args[] = { "-n", "-c", "SinkServer", "-o",
	    "hostname=test.example", "-o", "timeouts.command=1", NULL };
	const char *args2[] = { "-n", "-c", "SinkServer", "-o",
	    "hostname=test.example", "-o", "timeouts.session=1", NULL };

	ck_assert_int_eq(du_start(&d, "127.0.0.1", args), 0);
	char *got = read_until_close(&d, "HELO me\r\nNOOP");
	ck_assert_msg(strstr(got, "\r\n250 test.example\r\n421 test.example "
	    "Error: timeout exceeded\r\n") != NULL, "%s", got);
	free(got);
	ck_assert_int_eq(du_stop(&d), 0);
	ck_assert_int_eq(du_start(&d, "127.0.0.1", args2), 0);
	got = read_until_close(&d, NULL);
	ck_assert_msg(strstr(got, "\r\n421 test.example Error: session time "
	    "limit exceeded\r\n") != NULL, "%s", got);
	free(got);
	ck_assert_int_eq(du_stop(&d), 0);
}
END_TEST

/* read_greeting - the first reply line of a new connection. */
static void
read_greeting(int fd, char *buf, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n = 0;

	if (poll(&p, 1, 5000) == 1)
		n = recv(fd, buf, size - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
}

/* open_served - a connection greeted with 220, polling while the
 * daemon refuses (at most 100 tries, 100 ms apart); -1 if never. */
static int
open_served(const struct du_daemon *d, char *buf, size_t size)
{
	for (int i = 0; i < 100; i++) {
		int fd = du_connect(d);

		read_greeting(fd, buf, size);
		if (strncmp(buf, "220 ", 4) == 0)
			return fd;
		close(fd);
		usleep(100000);
	}
	return -1;
}

/* limits.max_connections_per_client counts sessions across workers. */
START_TEST(test_connections_per_client)
{
	struct du_daemon d;
	const char *args[] = { "-n", "-c", "SinkServer", "-o",
	    "hostname=test.example", "-o", "pool.start=4", "-o",
	    "limits.max_connections_per_client=2", NULL };
	int fd[3];
	char buf[256];

	ck_assert_int_eq(du_start(&d, "127.0.0.1", args), 0);
	/* du_start's probe connection may still hold its slot (its worker
	 * has not yet read the close on a loaded machine): each of the two
	 * is served once that one has gone. */
	for (int i = 0; i < 2; i++) {
		fd[i] = open_served(&d, buf, sizeof(buf));
		ck_assert_msg(fd[i] >= 0, "%d: never served: %s", i, buf);
	}
	fd[2] = du_connect(&d);
	read_greeting(fd[2], buf, sizeof(buf));
	ck_assert_str_eq(buf, "421 test.example Error: too many connections "
	    "from your address\r\n");
	close(fd[2]);
	close(fd[0]);
	/* Once one leaves, a new one is served (the worker notices the
	 * close at once; allow it a moment). */
	fd[0] = open_served(&d, buf, sizeof(buf));
	ck_assert_msg(fd[0] >= 0, "never served again: %s", buf);
	close(fd[0]);
	close(fd[1]);
	ck_assert_int_eq(du_stop(&d), 0);
}
END_TEST

/* The command line: what exits 0, 1 and 2, and says what. */
static const struct {
	const char *args[8];
	int status;
	const char *says;
} cli_cases[] = {
	{ { "-V" }, 0, "psmtpd " PACKAGE_VERSION },
	{ { "-h" }, 0, "Usage: psmtpd" },
	{ { "--help" }, 0, "Usage: psmtpd" },
	{ { "-x" }, 2, "psmtpd: bad option" },
	{ { "-s", "abc" }, 2, "invalid size: abc" },
	{ { "-s", "-5" }, 2, "invalid size" },
	{ { "a:1", "b:2", "c:3" }, 2, "too many arguments" },
	{ { "nocolon" }, 2, "bad localaddr" },
	{ { "127.0.0.1:99999" }, 2, "bad localaddr" },
	{ { "127.0.0.1:25", "::1:25" }, 2, "bad remoteaddr" },
	{ { "-o", "novalue" }, 2, "-o wants KEY=VALUE" },
	{ { "-t", "-n", "-c", "SinkServer" }, 0, "configuration OK" },
	{ { "-t", "-n", "-c", "DebuggingServer", "[::1]:8025" }, 0,
	    "configuration OK" },
	{ { "-t", "-n", "-c", "NoSuchPlugin" }, 1, "NoSuchPlugin" },
	{ { "-t", "-n", "-c", "/nonexistent/x.so" }, 1, "cannot load" },
	{ { "-t", "-n", "-c", "SinkServer", "-u", "-o", "decode_data=true" },
	    1, "cannot both be true" },
	{ { "-t", "-n", "-c", "SinkServer", "-o", "pool.nosuch=1" }, 1,
	    "pool.nosuch" },
	{ { "-t", "-C", "/nonexistent.conf" }, 1, "/nonexistent.conf" },
};

START_TEST(test_cli)
{
	struct su_buf out = { 0 };
	int status = du_run(cli_cases[_i].args, &out);

	ck_assert_msg(status == cli_cases[_i].status,
	    "case %d (%s): status %d, want %d; output:\n%s", _i,
	    cli_cases[_i].args[0], status, cli_cases[_i].status, out.p);
	ck_assert_msg(strstr(out.p, cli_cases[_i].says) != NULL,
	    "case %d: output lacks '%s':\n%s", _i, cli_cases[_i].says, out.p);
	free(out.p);
}
END_TEST

/* The sample config passes -t. */
START_TEST(test_sample_config)
{
	struct su_buf out = { 0 };
	const char *args[] = { "-t", "-n", "-C", TESTS_SRCDIR
	    "/../etc/psmtpd.conf", NULL };

	ck_assert_msg(du_run(args, &out) == 0, "%s", out.p);
	free(out.p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("daemon");

	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)getpid());
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ipv4_session);
	tcase_add_test(tc, test_ipv6_session);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_debugging_output);
	tcase_add_test(tc, test_smtplib_client);
	tcase_add_test(tc, test_swaks_client);
	tcase_add_test(tc, test_timeouts);
	tcase_add_test(tc, test_connections_per_client);
	tcase_add_loop_test(tc, test_cli, 0,
	    (int)(sizeof(cli_cases) / sizeof(cli_cases[0])));
	tcase_add_test(tc, test_sample_config);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
