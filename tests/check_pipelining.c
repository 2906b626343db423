/*
 * check_pipelining.c - RFC 2920: the replies to a pipelined group go out
 * in one write.  The channel serves a SOCK_SEQPACKET socketpair, where
 * each of its writes arrives as one packet: the test counts packets.
 */
#include "autoconfig.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "channel.h"
#include "log.h"
#include "tests/check_run.h"
#include "tests/session_util.h"

/* pk_serve - a channel with PIPELINING on the other end of fd[1]. */
static pid_t
pk_serve(int fd[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct su_options o = { .data_size_limit = 33554432,
		    .esmtp = { .pipelining = true } };
		struct channel_params p = su_params(&o);
		close(fd[0]);
		channel_serve(&p, NULL, fd[1], NULL, 0, NULL, NULL);
		_exit(0);
	}
	close(fd[1]);
	return pid;
}

/* pk_packet - one packet (one write of the server), NUL-terminated. */
static void
pk_packet(int fd, char *buf, size_t size)
{
	ssize_t n = recv(fd, buf, size - 1, 0);

	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
}

static void
pk_send(int fd, const char *s)
{
	ck_assert_int_eq(send(fd, s, strlen(s), MSG_NOSIGNAL),
	    (ssize_t)strlen(s));
}

START_TEST(test_group_one_write)
{
	int fd[2], status;
	char buf[4096];
	pid_t pid = pk_serve(fd);

	pk_packet(fd[0], buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "220 "));
	pk_send(fd[0], "EHLO client.example\r\n");
	pk_packet(fd[0], buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "250-PIPELINING\r\n") != NULL, "%s", buf);
	/* RFC 2920 3.1: the group up to DATA, in one packet */
	pk_send(fd[0], "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>"
	    "\r\nRCPT TO:\r\nRCPT TO:<c@example.org>\r\nDATA\r\n");
	pk_packet(fd[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "250 OK\r\n250 OK\r\n501 Syntax: RCPT TO: "
	    "<address> [SP <mail-parameters>]\r\n250 OK\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n");
	/* the end of data, RSET, NOOP and QUIT: one write again */
	pk_send(fd[0], "Subject: x\r\n\r\nbody\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n");
	pk_packet(fd[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "250 OK\r\n250 OK\r\n250 OK\r\n221 Bye\r\n");
	close(fd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pipelining");
	TCase *tc = tcase_create("pipelining");

	log_init(LOG_DEST_STDERR, LOG_MAIL, LOG_WARNING, "check_pipelining");
	signal(SIGPIPE, SIG_IGN);
	tcase_add_test(tc, test_group_one_write);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
