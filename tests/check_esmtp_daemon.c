/*
 * check_esmtp_daemon.c - the ESMTP extensions against the real daemon and
 * real clients: swaks pipelining with enhanced status codes, raw batches,
 * BDAT chunks, and Postfix's smtp client relaying into psmtpd with DSN
 * (tests/postfix-instance.sh).  A client that is not installed, or a
 * Postfix that cannot start, skips its test, saying so.
 */
#include "autoconfig.h"

#include <check.h>
#include <stdint.h>
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

/* BDAT chunks with binary content, the last one "BDAT 0 LAST": the
 * message reaches the plugin whole (DebuggingServer shows it). */
START_TEST(test_bdat_binary)
{
	const char *args[] = { "-n", "-c", "DebuggingServer", ESMTP_ON, "-o",
	    "esmtp.chunking=true", NULL };
	static const char session[] = "EHLO x\r\nMAIL FROM:<a@b.example>\r\n"
	    "RCPT TO:<c@d.example>\r\nBDAT 22\r\nSubject: bdat\r\n\r\nbin"
	    "\x01\rBDAT 10\r\n\n.\r\nend\r\n\rBDAT 0 LAST\r\nQUIT\r\n";
	struct du_daemon d;
	struct su_buf r = { 0 };

	ck_assert_int_eq(du_start(&d, "127.0.0.1", args), 0);
	ck_assert_int_eq(du_session(&d, session, &r), 0);
	ck_assert_int_eq(du_stop(&d), 0);
	su_buf_put(&r, "", 0);
	ck_assert_msg(strstr(r.p, "250-CHUNKING\r\n") != NULL, "%s", r.p);
	ck_assert_msg(strstr(r.p, "250 2.1.5 OK\r\n"
	    "250 2.0.0 OK 22 octets received\r\n"
	    "250 2.0.0 OK 10 octets received\r\n250 2.0.0 OK\r\n"
	    "221 2.0.0 Bye\r\n") != NULL, "%s", r.p);
	char *out = du_slurp(d.out);
	ck_assert_ptr_nonnull(out);
	/* the CRLF split between the chunks is one; the "." is data */
	ck_assert_msg(strstr(out, "Subject: bdat\nX-Peer: 127.0.0.1\n\n"
	    "bin\x01\n.\nend\n") != NULL, "%s", out);
	free(r.p);
	free(out);
}
END_TEST

#define PF_SCRIPT TESTS_SRCDIR "/postfix-instance.sh"

/* pf_run - the Postfix script with its arguments; its exit status. */
static int
pf_run(const char *fmt, const char *dir, const char *arg)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "%s %s %s %s", PF_SCRIPT, fmt, dir, arg);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Postfix's smtp client relays a message with DSN parameters to psmtpd:
 * pipelined, ENVID/NOTIFY/ORCPT accepted, each recipient 2.0.0 sent. */
START_TEST(test_postfix_dsn)
{
	const char *args[] = { "-n", "-c", "DebuggingServer", ESMTP_ON, "-o",
	    "esmtp.dsn=true", "-o", "esmtp.chunking=true", NULL };
	char dir[] = "/tmp/check_esmtp_pf.XXXXXX", arg[256], log[300];
	struct du_daemon d;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(du_start(&d, "127.0.0.1", args), 0);
	snprintf(arg, sizeof(arg), "'smtp:[127.0.0.1]:%d'", d.port);
	int st = pf_run("start", dir, arg);
	if (st != 0) {
		pf_run("stop", dir, "");
		du_stop(&d);
		du_rmtree(dir);
		CHECK_SKIP("a private Postfix cannot start here (%d)", st);
	}
	ck_assert_int_eq(pf_run("send", dir, "a@example.org -N "
	    "success,failure -V envid42 b@example.org c@example.org "
	    "<<'EOM'\nSubject: via postfix\n\nhello from postfix\nEOM"), 0);
	bool got = du_file_has(d.out, "hello from postfix", 20000);
	snprintf(log, sizeof(log), "%s/maillog", dir);
	bool sent = du_file_has(log, "to=<c@example.org>, relay=127.0.0.1", 5000);
	char *maillog = du_slurp(log);
	pf_run("stop", dir, "");
	ck_assert_int_eq(du_stop(&d), 0);
	char *out = du_slurp(d.out);
	ck_assert_msg(got && sent, "%s\n%s", out, maillog);
	ck_assert_msg(strstr(out, "'ENVID=ENVID42'") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "'NOTIFY=SUCCESS,FAILURE'") != NULL, "%s", out);
	ck_assert_msg(strstr(maillog, "dsn=2.0.0, status=sent (250 2.0.0 OK)")
	    != NULL, "%s", maillog);
	free(out);
	free(maillog);
	du_rmtree(dir);
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
	tcase_add_test(tc, test_bdat_binary);
	tcase_add_test(tc, test_postfix_dsn);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
