/*
 * check_esmtp_daemon.c - the ESMTP extensions against the real daemon and
 * real clients: swaks pipelining with enhanced status codes, raw batches.
 * A client that is not installed skips its test, saying so.
 */
#include "autoconfig.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check_run.h"
#include "tests/daemon_util.h"

#define ESMTP_ON "-o", "esmtp.pipelining=true", "-o", \
	"esmtp.enhanced_status_codes=true"

/* run_client - start a DebuggingServer with args, run command (PORT
 * replaced by its port) and keep what it printed in *client; what the
 * server printed. */
static char *
run_client(const char *const *args, const char *command, char **client)
{
	struct du_daemon d;
	struct su_buf out = { 0 };
	char cmd[2048], chunk[4096];
	const char *at = strstr(command, "PORT");
	size_t n;

	ck_assert_ptr_nonnull(at);
	ck_assert_int_eq(du_start(&d, "127.0.0.1", args), 0);
	snprintf(cmd, sizeof(cmd), "%.*s%d%s", (int)(at - command), command,
	    d.port, at + 4);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		su_buf_put(&out, chunk, n);
	su_buf_put(&out, "", 0);
	int status = pclose(p);
	ck_assert_int_eq(du_stop(&d), 0);
	ck_assert_msg(status == 0, "'%s' failed (%d):\n%s", cmd, status,
	    out.p);
	*client = out.p;
	return du_slurp(d.out);
}

/* swaks pipelines MAIL, RCPT and DATA when PIPELINING is advertised, and
 * sees the enhanced status codes. */
START_TEST(test_swaks_pipeline)
{
	const char *args[] = { "-n", "-c", "DebuggingServer", ESMTP_ON, NULL };
	char *client;

	if (system("command -v swaks >/dev/null 2>&1") != 0)
		CHECK_SKIP("swaks is not installed");
	char *out = run_client(args, "timeout 20 swaks --server 127.0.0.1 "
	    "--port PORT --pipeline --from a@example.org --to "
	    "b@example.org,c@example.org --header 'Subject: piped' --body "
	    "'pipelined body' </dev/null 2>&1", &client);
	/* the group went out before the first reply came back */
	ck_assert_msg(strstr(client, " -> MAIL FROM:<a@example.org>\n"
	    " -> RCPT TO:<b@example.org>\n -> RCPT TO:<c@example.org>\n"
	    " -> DATA\n<-  250 2.1.0 OK\n<-  250 2.1.5 OK\n<-  250 2.1.5 OK\n"
	    "<-  354 End data") != NULL, "%s", client);
	ck_assert_msg(strstr(client, "<-  250 2.0.0 OK\n -> QUIT\n"
	    "<-  221 2.0.0 Bye") != NULL, "%s", client);
	ck_assert_msg(strstr(out, "\npipelined body\n") != NULL, "%s", out);
	free(client);
	free(out);
}
END_TEST

/* A raw batch, all of it in one send: each command answered in order,
 * an error in the middle does not disturb the rest (RFC 2920 3.1). */
START_TEST(test_raw_batch)
{
	const char *args[] = { "-n", "-c", "DebuggingServer", ESMTP_ON, NULL };
	struct du_daemon d;
	struct su_buf r = { 0 };

	ck_assert_int_eq(du_start(&d, "127.0.0.1", args), 0);
	ck_assert_int_eq(du_session(&d, "EHLO x\r\nMAIL FROM:<a@b.example>\r\n"
	    "RCPT TO:<bad@@>\r\nRCPT TO:<c@d.example>\r\nDATA\r\nhello\r\n"
	    ".\r\nQUIT\r\n", &r), 0);
	ck_assert_int_eq(du_stop(&d), 0);
	su_buf_put(&r, "", 0);
	ck_assert_msg(strstr(r.p, "250 HELP\r\n250 2.1.0 OK\r\n"
	    "501 5.5.4 Syntax: RCPT TO: <address> [SP <mail-parameters>]\r\n"
	    "250 2.1.5 OK\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 OK\r\n221 2.0.0 Bye\r\n") != NULL, "%s", r.p);
	free(r.p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("esmtp_daemon");
	TCase *tc = tcase_create("esmtp");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_swaks_pipeline);
	tcase_add_test(tc, test_raw_batch);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
