/*
 * check_faults.c - faults that must never turn into a 250 for a message
 * that was not handed on: a worker killed with SIGKILL in the middle of
 * DATA, and a full disk under maildir (RLIMIT_FSIZE, so that writes fail
 * with EFBIG as on a full filesystem).
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/check_run.h"
#include "tests/daemon_util.h"

/* reply - send a line (NULL: none) and read one reply; its code, or -1
 * when the connection is gone. */
static int
reply(int fd, const char *line, char *buf, size_t size)
{
	if (line != NULL && send(fd, line, strlen(line), MSG_NOSIGNAL) < 0)
		return -1;
	size_t n = 0;
	time_t end = time(NULL) + 10;
	while (time(NULL) < end && n + 1 < size) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 500) <= 0)
			continue;
		ssize_t r = recv(fd, buf + n, size - 1 - n, 0);
		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
		/* the last line of a reply has a space after the code */
		const char *last = buf;
		for (const char *p = strstr(buf, "\r\n"); p != NULL &&
		    p[2] != '\0'; p = strstr(p + 2, "\r\n"))
			last = p + 2;
		if (strstr(last, "\r\n") != NULL && strlen(last) > 3 &&
		    last[3] == ' ')
			return atoi(last);
	}
	return -1;
}

START_TEST(test_kill_worker_in_data)
{
	struct du_daemon d;
	const char *args[] = { "-n", "-c", "SinkServer", "-o", "pool.start=2",
	    NULL };
	char buf[2048];

	ck_assert_int_eq(du_start(&d, "127.0.0.1", args), 0);
	int fd = du_connect(&d);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(reply(fd, NULL, buf, sizeof(buf)), 220);
	ck_assert_int_eq(reply(fd, "EHLO me\r\n", buf, sizeof(buf)), 250);
	ck_assert_int_eq(reply(fd, "MAIL FROM:<a@b>\r\n", buf, sizeof(buf)),
	    250);
	ck_assert_int_eq(reply(fd, "RCPT TO:<c@d>\r\n", buf, sizeof(buf)), 250);
	ck_assert_int_eq(reply(fd, "DATA\r\n", buf, sizeof(buf)), 354);
	ck_assert_int_gt(send(fd, "Subject: half\r\n\r\nhalf a message",
	    31, 0), 0);
	pid_t worker = du_log_worker(d.err, du_local_port(fd), 5000);
	ck_assert_int_gt(worker, 0);
	ck_assert_int_eq(kill(worker, SIGKILL), 0);
	/* The client sees the connection go, never a 250. */
	ck_assert_int_eq(reply(fd, "\r\n.\r\n", buf, sizeof(buf)), -1);
	close(fd);
	/* The pool recovers: a whole session succeeds. */
	struct su_buf r = { 0 };
	ck_assert_int_eq(du_session(&d, "HELO me\r\nMAIL FROM:<a@b>\r\n"
	    "RCPT TO:<c@d>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n", &r), 0);
	ck_assert_msg(strstr(r.p, "250 OK\r\n221 Bye") != NULL, "%s", r.p);
	free(r.p);
	ck_assert_int_eq(du_stop(&d), 0);
	char *log = du_slurp(d.err);
	ck_assert_msg(strstr(log, "signal=9") != NULL, "%s", log);
	free(log);
}
END_TEST

/* count_files - entries of a directory but . and .. */
static int
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

START_TEST(test_disk_full_maildir)
{
	char dir[] = "/tmp/check_faults.XXXXXX";
	char conf[256], md[256], sub[300], payload[300000];
	struct du_daemon d;
	struct du_opts opts = { .fsize_limit = 65536 };

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(md, sizeof(md), "%s/Maildir", dir);
	snprintf(conf, sizeof(conf), "%s/psmtpd.conf", dir);
	ck_assert_int_eq(du_write_config(conf, "pool = { start = 1; };\n"
	    "plugins = ( { name = \"maildir\"; settings = { dir = \"%s\"; "
	    "add_headers = false; }; } );\n", md), 0);
	const char *args[] = { "-n", "-C", conf, NULL };
	ck_assert_int_eq(du_start_with(&d, "127.0.0.1", args, &opts), 0);

	/* A message larger than the disk has room for: 451, none kept. */
	int n = snprintf(payload, sizeof(payload), "HELO me\r\nMAIL FROM:<a@b>"
	    "\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: big\r\n\r\n");
	for (int i = 0; i < 2000; i++)
		n += snprintf(payload + n, sizeof(payload) - (size_t)n,
		    "%0100d\r\n", i);
	snprintf(payload + n, sizeof(payload) - (size_t)n, ".\r\nQUIT\r\n");
	struct su_buf r = { 0 };
	ck_assert_int_eq(du_session(&d, payload, &r), 0);
	ck_assert_msg(strstr(r.p, "\r\n451 ") != NULL &&
	    strstr(r.p, "\r\n250 OK\r\n221") == NULL, "%s", r.p);
	free(r.p);
	snprintf(sub, sizeof(sub), "%s/new", md);
	ck_assert_int_eq(count_files(sub), 0);
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	ck_assert_int_eq(count_files(sub), 0);

	/* A message that fits is delivered: 250 and one file. */
	r = (struct su_buf){ 0 };
	ck_assert_int_eq(du_session(&d, "HELO me\r\nMAIL FROM:<a@b>\r\n"
	    "RCPT TO:<c@d>\r\nDATA\r\nSubject: small\r\n\r\nfits\r\n.\r\n"
	    "QUIT\r\n", &r), 0);
	ck_assert_msg(strstr(r.p, "250 OK\r\n221 Bye") != NULL, "%s", r.p);
	free(r.p);
	snprintf(sub, sizeof(sub), "%s/new", md);
	ck_assert_int_eq(count_files(sub), 1);
	ck_assert_int_eq(du_stop(&d), 0);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("faults");

	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)getpid());
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_kill_worker_in_data);
	tcase_add_test(tc, test_disk_full_maildir);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
