/*
 * check_inject.c - a client cannot inject through the envelope (issue 10,
 * defect 2): a CR, LF or NUL inside a MAIL or RCPT argument is a syntax
 * error (stricter than Python's smtpd, which takes them into the
 * address), and no client byte reaches a log line unescaped.  The
 * escaping function is tested as a table, then the real daemon
 * (DebuggingServer, -d traces) gets the attacks of the issue.
 */
#include "autoconfig.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tests/check_run.h"
#include "tests/daemon_util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *in;
	size_t size;
	const char *out;
} escapes[] = {
	{ "plain@example.org", 64, "plain@example.org" },
	{ "a\nX-Injected: yes", 64, "a\\x0aX-Injected: yes" },
	{ "a\r\nb", 64, "a\\x0d\\x0ab" },
	{ "q\"uote\\", 64, "q\\\"uote\\\\" },
	{ "\x1b[31mred\x7f", 64, "\\x1b[31mred\\x7f" },
	{ "tab\there", 64, "tab\\x09here" },
	{ "na\xc3\xafve", 64, "na\xc3\xafve" },	/* UTF-8 stays */
	{ "", 64, "" },
	{ "abcdef", 4, "abc" },			/* cut to fit */
	{ "ab\ncd", 6, "ab" },			/* never half an escape */
	{ "ab\"c", 4, "ab" },
	{ "x", 1, "" },
};

START_TEST(test_escape)
{
	char buf[64];

	memset(buf, 'Z', sizeof(buf));
	ck_assert_ptr_eq(log_escape(buf, escapes[_i].size, escapes[_i].in),
	    buf);
	ck_assert_str_eq(buf, escapes[_i].out);
}
END_TEST

START_TEST(test_escape_null)
{
	char buf[8] = "junk";

	ck_assert_str_eq(log_escape(buf, sizeof(buf), NULL), "");
	ck_assert_ptr_eq(log_escape(buf, 0, "x"), buf);	/* writes nothing */
	ck_assert_str_eq(buf, "");
}
END_TEST

/* The session of the issue, pipelined; HELO so that the 501s are the
 * short ones. */
static const char inject_session[] =
    "HELO client.example\r\n"
    "MAIL FROM:<\"a\nX-Injected: yes\"@x>\r\n"
    "MAIL FROM:<a\r@x>\r\n"
    "MAIL FROM:<a@x>\r\n"
    "RCPT TO:<b@y>\nRCPT TO:<evil@z>\r\n"
    "RCPT TO:<b\r@y>\r\n"
    "RCPT TO:<b\0@y>\r\n"
    "RCPT TO:<ok@y>\r\n"
    "DATA\r\n"
    "Subject: hi\r\n\r\nbody\r\n.\r\n"
    "QUIT\r\n";

static const char inject_replies[] =
    "220 *\r\n"
    "250 *\r\n"
    "501 Syntax: MAIL FROM: <address>\r\n"
    "501 Syntax: MAIL FROM: <address>\r\n"
    "250 OK\r\n"
    "501 Syntax: RCPT TO: <address>\r\n"
    "501 Syntax: RCPT TO: <address>\r\n"
    "501 Syntax: RCPT TO: <address>\r\n"
    "250 OK\r\n"
    "354 End data with <CR><LF>.<CR><LF>\r\n"
    "250 OK\r\n"
    "221 Bye\r\n";

/* replies_match - got against want line by line; "NNN *" matches any
 * text after the code. */
static bool
replies_match(const char *got, const char *want)
{
	while (*want != '\0') {
		const char *we = strstr(want, "\r\n"), *ge = strstr(got, "\r\n");
		if (we == NULL || ge == NULL)
			return false;
		size_t wl = (size_t)(we - want), gl = (size_t)(ge - got);
		bool any = wl == 5 && want[4] == '*';
		if (any ? strncmp(got, want, 4) != 0 :
		    wl != gl || memcmp(got, want, wl) != 0)
			return false;
		want = we + 2;
		got = ge + 2;
	}
	return *got == '\0';
}

/* log_lines_clean - every line of the log is one of the daemon's own
 * (a timestamp, then "psmtpd"): no client text started a line. */
static bool
log_lines_clean(const char *log)
{
	for (const char *p = log; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		if (strncmp(p, "20", 2) != 0 || strstr(p, " psmtpd") == NULL ||
		    (nl != NULL && strstr(p, " psmtpd") > nl))
			return false;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return true;
}

START_TEST(test_daemon_injection)
{
	static const char *const args[] = { "-n", "-d", "-c",
	    "DebuggingServer", NULL };
	struct du_daemon d;
	struct su_buf r = { 0 };

	ck_assert_int_eq(du_start(&d, "127.0.0.1", args), 0);
	su_buf_put(&r, "", 0);
	struct su_buf in = { 0 };
	su_buf_put(&in, inject_session, sizeof(inject_session) - 1);
	int fd = du_connect(&d);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(su_exchange(fd, in.p, in.len, &r, 20), 0);
	close(fd);
	ck_assert(du_stop(&d) != -1);
	su_buf_put(&r, "", 1);
	ck_assert_msg(replies_match(r.p, inject_replies), "replies:\n%s",
	    r.p);

	char *out = du_slurp(d.out), *log = du_slurp(d.err);
	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(log);
	/* One message, to ok@y only, and no injected header in it. */
	ck_assert_msg(strstr(out, "\nX-Injected") == NULL, "%s", out);
	ck_assert_msg(strstr(out, "evil") == NULL, "%s", out);
	ck_assert_msg(strstr(out, "Subject: hi") != NULL, "%s", out);
	ck_assert_msg(log_lines_clean(log), "a forged log line:\n%s", log);
	ck_assert_msg(strstr(log, "\"a\\x0aX-Injected: yes\\\"@x>") != NULL,
	    "the trace does not show the LF escaped:\n%s", log);
	ck_assert_msg(strstr(log, "from=<a@x> to=<ok@y> nrcpt=1") != NULL,
	    "%s", log);
	free(out);
	free(log);
	free(r.p);
	free(in.p);
	unlink(d.out);
	unlink(d.err);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("inject");
	TCase *tc = tcase_create("escape");

	tcase_add_loop_test(tc, test_escape, 0, (int)NELEM(escapes));
	tcase_add_test(tc, test_escape_null);
	suite_add_tcase(s, tc);
	tc = tcase_create("daemon");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_daemon_injection);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
