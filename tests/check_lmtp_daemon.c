/*
 * check_lmtp_daemon.c - LMTP listeners (RFC 2033) of the real daemon,
 * over TCP and a unix: socket, with two real LMTP clients: Python's
 * smtplib.LMTP (reading the one reply per recipient itself) and Postfix's
 * lmtp delivery agent (tests/postfix-instance.sh), which logs each
 * recipient's reply.  A client that cannot run skips its test, saying so.
 */
#include "autoconfig.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/check_run.h"
#include "tests/daemon_util.h"

#define LM_PSMTPD TESTS_BUILDDIR "/psmtpd"
#define LM_POSTFIX TESTS_SRCDIR "/postfix-instance.sh"

struct lm {
	char dir[64];		/* config, socket, output */
	char sock[128];
	char out[128];
	int port;
	pid_t pid;
};

/* lm_start - psmtpd with a TCP and a unix: LMTP listener, each message
 * shown by DebuggingServer in l->out. */
static void
lm_start(struct lm *l)
{
	char conf[128];

	snprintf(l->dir, sizeof(l->dir), "/tmp/check_lmtp.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(l->dir));
	ck_assert_int_eq(chmod(l->dir, 0755), 0);	/* Postfix's lmtp */
	snprintf(l->sock, sizeof(l->sock), "%s/lmtp.sock", l->dir);
	snprintf(l->out, sizeof(l->out), "%s/out", l->dir);
	snprintf(conf, sizeof(conf), "%s/psmtpd.conf", l->dir);
	l->port = du_free_port("127.0.0.1");
	ck_assert_int_eq(du_write_config(conf, "listen = ( { address = "
	    "\"127.0.0.1:%d\"; protocol = \"lmtp\"; }, { address = "
	    "\"unix:%s\"; protocol = \"lmtp\"; } );\n", l->port, l->sock), 0);
	const char *argv[] = { LM_PSMTPD, "-n", "-C", conf, "-c",
	    "DebuggingServer", NULL };
	const struct du_opts o = { .deathsig = SIGKILL };
	l->pid = du_spawn(argv, l->out, l->out, &o);
	ck_assert_int_gt(l->pid, 0);
	ck_assert_int_eq(du_wait_up(l->pid, "127.0.0.1", l->port, 10000,
	    NULL), 0);
}

static void
lm_stop(struct lm *l)
{
	ck_assert_int_eq(du_kill_wait(l->pid, 10000), 0);
}

/* lm_run - a shell command; its exit status. */
static int
lm_run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* smtplib.LMTP over TCP and over the unix socket: HELO refused, LHLO
 * advertises PIPELINING and ENHANCEDSTATUSCODES, one reply per accepted
 * recipient after the data. */
START_TEST(test_smtplib_lmtp)
{
	struct lm l;
	char cmd[4096];

	if (system("python3 -c 'import smtplib' 2>/dev/null") != 0)
		CHECK_SKIP("python3 with smtplib is not installed");
	lm_start(&l);
	snprintf(cmd, sizeof(cmd), "timeout 20 python3 -c \""
	    "import smtplib\n"
	    "for where in (('127.0.0.1', %d), ('%s', 0)):\n"
	    "    s = smtplib.LMTP(*where, timeout=10)\n"
	    "    assert s.docmd('HELO x')[0] == 500\n"
	    "    code, text = s.ehlo('client.example')\n"
	    "    assert code == 250 and b'PIPELINING' in text and "
	    "b'ENHANCEDSTATUSCODES' in text, text\n"
	    "    assert s.mail('a@example.org')[0] == 250\n"
	    "    for r in ('b@example.org', 'c@example.org', 'd@example.org'):\n"
	    "        assert s.rcpt(r) == (250, b'2.1.5 OK')\n"
	    "    assert s.rcpt('bad@@')[0] == 501\n"
	    "    assert s.data(b'Subject: lmtp\\\\r\\\\n\\\\r\\\\n'"
	    " + where[0].encode() + b'\\\\r\\\\n') == (250, b'2.0.0 OK')\n"
	    "    assert s.getreply() == (250, b'2.0.0 OK')\n"
	    "    assert s.getreply() == (250, b'2.0.0 OK')\n"
	    "    assert s.quit() == (221, b'2.0.0 Bye')\n"
	    "\"", l.port, l.sock);
	int rc = lm_run(cmd);
	lm_stop(&l);
	char *out = du_slurp(l.out);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_msg(strstr(out, "\n127.0.0.1\n") != NULL &&
	    strstr(out, "lmtp.sock\n") != NULL, "%s", out);
	free(out);
	du_rmtree(l.dir);
}
END_TEST

/* Postfix's lmtp client delivers one message to three recipients into
 * psmtpd, over TCP (_i 0) and over the unix socket (_i 1); it logs a
 * 2.0.0 reply for each recipient. */
START_TEST(test_postfix_lmtp)
{
	struct lm l;
	char fmt[512], pf[128], log[160], transport[160];

	lm_start(&l);
	snprintf(pf, sizeof(pf), "%s/postfix", l.dir);
	if (_i == 0)
		snprintf(transport, sizeof(transport), "lmtp:inet:127.0.0.1:%d",
		    l.port);
	else
		snprintf(transport, sizeof(transport), "lmtp:unix:%s", l.sock);
	snprintf(fmt, sizeof(fmt), "%s start %s '%s'", LM_POSTFIX, pf,
	    transport);
	int st = lm_run(fmt);
	if (st != 0) {
		snprintf(fmt, sizeof(fmt), "%s stop %s", LM_POSTFIX, pf);
		lm_run(fmt);
		lm_stop(&l);
		du_rmtree(l.dir);
		CHECK_SKIP("a private Postfix cannot start here (%d)", st);
	}
	snprintf(fmt, sizeof(fmt), "printf 'Subject: postfix lmtp\\n\\nvia "
	    "lmtp\\n' | %s send %s a@example.org b@example.org "
	    "c@example.org d@example.org", LM_POSTFIX, pf);
	ck_assert_int_eq(lm_run(fmt), 0);
	snprintf(log, sizeof(log), "%s/maillog", pf);
	bool done = du_file_has(log, "removed", 20000);
	snprintf(fmt, sizeof(fmt), "%s stop %s", LM_POSTFIX, pf);
	lm_run(fmt);
	lm_stop(&l);
	char *maillog = du_slurp(log);
	ck_assert_msg(done, "%s", maillog);
	const char *p = maillog;
	int sent = 0;
	while ((p = strstr(p, "dsn=2.0.0, status=sent (250 2.0.0 OK)")) != NULL) {
		sent++;
		p++;
	}
	ck_assert_msg(sent == 3, "%d sent:\n%s", sent, maillog);
	char *out = du_slurp(l.out);
	ck_assert_msg(strstr(out, "\nvia lmtp\n") != NULL, "%s", out);
	free(out);
	free(maillog);
	du_rmtree(l.dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("lmtp_daemon");
	TCase *tc = tcase_create("lmtp");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_smtplib_lmtp);
	tcase_add_loop_test(tc, test_postfix_lmtp, 0, 2);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
