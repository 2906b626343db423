/*
 * check_relay_dsn.c - the DSN parameters of RFC 3461 through the relaying
 * plugins, end to end: psmtpd with esmtp.dsn and the proxy (or lmtp)
 * plugin in front of Postfix's smtp-sink, which records each transaction
 * it took.  An upstream that offers DSN gets RET and ENVID with MAIL and
 * each recipient's own NOTIFY and ORCPT, as the client wrote them; one
 * that does not (smtp-sink -N) gets the message without them, and the
 * client still hears 250.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "tests/check_run.h"
#include "tests/daemon_util.h"
#include "tests/delivery_testutil.h"
#include "tests/relay_util.h"

/* What the client sends: three recipients, one with both parameters (an
 * ORCPT whose case must survive), one with none, one with NOTIFY=NEVER. */
#define RD_SESSION "EHLO client.test\r\n" \
	"MAIL FROM:<a@example.org> RET=HDRS ENVID=QQ+2B314159\r\n" \
	"RCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE " \
	"ORCPT=rfc822;Bob@Example.org\r\n" \
	"RCPT TO:<c@example.org>\r\n" \
	"RCPT TO:<d@example.org> NOTIFY=NEVER\r\n" \
	"DATA\r\nSubject: dsn\r\n\r\nbody\r\n.\r\nQUIT\r\n"

static const struct {
	const char *plugin;	/* "proxy" or "lmtp" */
	const char *sink[3];	/* smtp-sink's options */
	const char *mail;	/* the upstream's X-Mail-Args line */
	const char *rcpt[3];	/* its X-Rcpt-Args lines */
	const char *log;	/* in psmtpd -d's log */
} rd_cases[] = {
	/* 0: the upstream offers DSN: everything handed on, as sent */
	{ "proxy", { NULL }, "<a@example.org> RET=HDRS ENVID=QQ+2B314159",
	    { "<b@example.org> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;Bob@Example.org", "<c@example.org>",
	    "<d@example.org> NOTIFY=NEVER" },
	    "proxy > RCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;Bob@Example.org" },
	/* 1: it does not: dropped (RFC 3461 5.2.2), the message relayed */
	{ "proxy", { "-N", NULL }, "<a@example.org>",
	    { "<b@example.org>", "<c@example.org>", "<d@example.org>" },
	    "proxy dsn dropped remote=" },
	/* 2, 3: the same over LMTP */
	{ "lmtp", { "-L", NULL }, "<a@example.org> RET=HDRS "
	    "ENVID=QQ+2B314159", { "<b@example.org> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;Bob@Example.org", "<c@example.org>",
	    "<d@example.org> NOTIFY=NEVER" },
	    "lmtp > RCPT TO:<d@example.org> NOTIFY=NEVER" },
	{ "lmtp", { "-L", "-N", NULL }, "<a@example.org>",
	    { "<b@example.org>", "<c@example.org>", "<d@example.org>" },
	    "lmtp dsn dropped remote=" },
};

/* rd_start - psmtpd -d with esmtp.dsn and the case's plugin toward port. */
static void
rd_start(struct du_daemon *d, const char *dir, int port, int i)
{
	char conf[700];
	const char *args[] = { "-n", "-d", "-C", conf, NULL };

	snprintf(conf, sizeof(conf), "%s/rd.conf", dir);
	ck_assert_int_eq(du_write_config(conf, "esmtp = { dsn = true; };\n"
	    "plugins = ( { name = \"%s\"; settings = { %s = "
	    "\"127.0.0.1:%d\"; reply_timeout = 5; }; } );\npool = { start = "
	    "1; min_spare = 1; max_spare = 4; max_workers = 4; };\n",
	    rd_cases[i].plugin, strcmp(rd_cases[i].plugin, "lmtp") == 0 ?
	    "address" : "remote", port), 0);
	ck_assert_int_eq(du_start(d, "127.0.0.1", args), 0);
}

/* rd_has_line - whether text has "\nX-...-Args: want\n". */
static void
rd_has_line(const char *text, const char *field, const char *want)
{
	char line[700];

	snprintf(line, sizeof(line), "\n%s: %s\n", field, want);
	ck_assert_msg(strstr(text, line) != NULL, "no \"%s: %s\" in: %s",
	    field, want, text);
}

START_TEST(test_dsn_relayed)
{
	char dir[512];
	struct du_daemon d;
	struct su_buf in = { 0 };
	int port, codes[10] = { 0 };
	static const int want[] = { 220, 250, 250, 250, 250, 250, 354, 250,
	    221 };

	tu_tempdir(dir, sizeof(dir), "rdsn");
	chmod(dir, 0777);	/* smtp-sink dumps as nobody */
	pid_t sink = ru_sink_start(dir, rd_cases[_i].sink, &port);
	if (sink < 0) {
		tu_rmtree(dir);
		CHECK_SKIP("/usr/sbin/smtp-sink cannot start (apt-get install "
		    "postfix)");
	}
	rd_start(&d, dir, port, _i);
	ck_assert_int_eq(du_session(&d, RD_SESSION, &in), 0);
	su_buf_put(&in, "", 0);
	ck_assert_msg(du_file_has(d.err, rd_cases[_i].log, 2000),
	    "no \"%s\" in the log", rd_cases[_i].log);
	du_stop(&d);
	du_kill_wait(sink, 2000);
	/* EHLO's reply is one code among its lines */
	ck_assert_int_eq(ru_codes(in.p, codes, 10), 9);
	for (int k = 0; k < 9; k++)
		ck_assert_msg(codes[k] == want[k], "reply %d: %d in %s", k,
		    codes[k], in.p);
	char *dump = ru_sink_dump(dir);
	ck_assert_ptr_nonnull(dump);
	rd_has_line(dump, "X-Mail-Args", rd_cases[_i].mail);
	for (int k = 0; k < 3; k++)
		rd_has_line(dump, "X-Rcpt-Args", rd_cases[_i].rcpt[k]);
	ck_assert_ptr_nonnull(strstr(dump, "\nSubject: dsn\n"));
	free(dump);
	free(in.p);
	unlink(d.out);
	unlink(d.err);
	tu_rmtree(dir);
}
END_TEST

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static Suite *
relay_dsn_suite(void)
{
	Suite *s = suite_create("relay_dsn");
	TCase *tc = tcase_create("dsn");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_dsn_relayed, 0, NELEM(rd_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(relay_dsn_suite());
}
