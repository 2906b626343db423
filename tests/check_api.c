/*
 * check_api.c - the plugin API through the real daemon: every hook's
 * continue / reply / close path, the chain order, verbs added and
 * overridden, duplicate verbs, a plugin for another ABI, a file that is no
 * plugin, init errors with file and line, and a plugin that crashes.
 */
#include "autoconfig.h"

#include <check.h>
#include <signal.h>
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

/* write_config - a config file with the given plugins list; its path. */
static char *
write_config(const char *plugins)
{
	char *path = strdup("/tmp/check_api.conf.XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "hostname = \"api.test\";\npool = { start = 1; "
	    "min_spare = 1; max_spare = 2; };\nplugins = (\n%s\n);\n",
	    plugins);
	fclose(f);
	return path;
}

/* run - start the daemon with the plugins, run one session, return the
 * replies without the greeting's CRLF normalisation (raw). */
static char *
run(const char *plugins, const char *payload, struct du_daemon *keep)
{
	struct du_daemon d;
	char *conf = write_config(plugins);
	const char *args[] = { "-n", "-C", conf, NULL };
	struct su_buf r = { 0 };

	ck_assert_int_eq(du_start(&d, "127.0.0.1", args), 0);
	ck_assert_int_eq(du_session(&d, payload, &r), 0);
	if (keep != NULL)
		*keep = d;
	else
		ck_assert_int_eq(du_stop(&d), 0);
	unlink(conf);
	free(conf);
	su_buf_put(&r, "", 0);
	return r.p;
}

#define TPLUG(settings) \
	"{ path = \"" PLUGDIR "tplug.so\"; settings = { " settings " }; }"
#define ENVELOPE "HELO me\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"

static const struct {
	const char *name;
	const char *plugins;
	const char *payload;
	const char *expect;	/* the replies, exactly */
} hook_cases[] = {
	{ "connect reply refuses", TPLUG("connect = \"reply:554 go away\";"),
	    "HELO me\r\n", "554 go away\r\n" },
	{ "connect close", TPLUG("connect = \"close:421 busy now\";"),
	    "HELO me\r\n", "421 busy now\r\n" },
	{ "connect close without reply", TPLUG("connect = \"close\";"),
	    "HELO me\r\n", "421 api.test Service closing transmission "
	    "channel\r\n" },
	{ "connect 2xx replaces greeting", TPLUG("connect = \"reply:220 "
	    "custom hello\";"), "QUIT\r\n", "220 custom hello\r\n221 Bye\r\n" },
	{ "helo rejected", TPLUG("helo = \"reply:550 not you\";"),
	    "HELO me\r\nMAIL FROM:<a@b>\r\nQUIT\r\n", "@550 not you\r\n"
	    "503 Error: send HELO first\r\n221 Bye\r\n" },
	{ "mail rejected", TPLUG("mail = \"reply:550 sender refused\";"),
	    ENVELOPE "QUIT\r\n", "@250 api.test\r\n550 sender refused\r\n"
	    "503 Error: need MAIL command\r\n221 Bye\r\n" },
	{ "mail accepted with own 2xx", TPLUG("mail = \"reply:250 fine "
	    "sender\";"), ENVELOPE "QUIT\r\n", "@250 api.test\r\n250 fine "
	    "sender\r\n250 OK\r\n221 Bye\r\n" },
	{ "mail closes", TPLUG("mail = \"close:421 go\";"),
	    ENVELOPE "QUIT\r\n", "@250 api.test\r\n421 go\r\n" },
	{ "rcpt rejects one recipient", TPLUG("rcpt = \"reply:550 no such "
	    "user\"; rcpt_only = \"bad@x\"; message = \"reply:250 got it\";"),
	    "HELO me\r\nMAIL FROM:<a@b>\r\nRCPT TO:<bad@x>\r\nRCPT TO:<c@d>"
	    "\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n", "@250 api.test\r\n250 OK\r\n"
	    "550 no such user\r\n250 OK\r\n354 End data with "
	    "<CR><LF>.<CR><LF>\r\n250 got it\r\n221 Bye\r\n" },
	{ "only rejected recipients: no DATA", TPLUG("rcpt = \"reply:550 "
	    "no\";"), ENVELOPE "DATA\r\nQUIT\r\n", "@250 api.test\r\n250 OK\r\n"
	    "550 no\r\n503 Error: need RCPT command\r\n221 Bye\r\n" },
	{ "data rejected", TPLUG("data = \"reply:554 no data today\";"),
	    ENVELOPE "DATA\r\nNOOP\r\nQUIT\r\n", "@250 api.test\r\n250 OK\r\n"
	    "250 OK\r\n554 no data today\r\n250 OK\r\n221 Bye\r\n" },
	{ "message reply", TPLUG("message = \"reply:250 Okish\";"),
	    ENVELOPE "DATA\r\nx\r\n.\r\nQUIT\r\n", "@250 OK\r\n354 End data "
	    "with <CR><LF>.<CR><LF>\r\n250 Okish\r\n221 Bye\r\n" },
	{ "message temporary failure", TPLUG("message = \"reply:451 try "
	    "later\";"), ENVELOPE "DATA\r\nx\r\n.\r\nQUIT\r\n", "@354 End "
	    "data with <CR><LF>.<CR><LF>\r\n451 try later\r\n221 Bye\r\n" },
	{ "message close", TPLUG("message = \"close:421 bye now\";"),
	    ENVELOPE "DATA\r\nx\r\n.\r\nQUIT\r\n", "@354 End data with "
	    "<CR><LF>.<CR><LF>\r\n421 bye now\r\n" },
	{ "message multi-line reply", TPLUG("message = \"reply:250-one\\n"
	    "250 two\";"), ENVELOPE "DATA\r\nx\r\n.\r\nQUIT\r\n", "@354 End "
	    "data with <CR><LF>.<CR><LF>\r\n250-one\r\n250 two\r\n221 Bye\r\n" },
	{ "an invalid reply is not sent", TPLUG("message = \"reply:hello\";"),
	    ENVELOPE "DATA\r\nx\r\n.\r\nQUIT\r\n", "@354 End data with "
	    "<CR><LF>.<CR><LF>\r\n451 Error: local error in processing\r\n"
	    "221 Bye\r\n" },
	{ "chain: continue passes on", TPLUG("message = \"continue\";") ","
	    TPLUG("message = \"reply:250 from second\";"),
	    ENVELOPE "DATA\r\nx\r\n.\r\nQUIT\r\n", "@\r\n250 from second\r\n"
	    "221 Bye\r\n" },
	{ "chain: the first reply ends it", TPLUG("message = \"reply:550 "
	    "from first\";") "," TPLUG("message = \"reply:250 from second\";"),
	    ENVELOPE "DATA\r\nx\r\n.\r\nQUIT\r\n", "@\r\n550 from first\r\n"
	    "221 Bye\r\n" },
	{ "chain: every hook in order", TPLUG("rcpt = \"continue\";") ","
	    TPLUG("rcpt = \"reply:551 second says no\";"),
	    ENVELOPE "QUIT\r\n", "@250 OK\r\n551 second says no\r\n221 Bye\r\n"
	},
};

/* check_replies - exact, or with a leading '@' the tail of the replies. */
static void
check_replies(const char *name, const char *got, const char *want)
{
	if (want[0] == '@') {
		size_t g = strlen(got), w = strlen(want + 1);
		ck_assert_msg(g >= w && strcmp(got + g - w, want + 1) == 0,
		    "%s: replies end\n%s\nwant the end\n%s", name, got,
		    want + 1);
		return;
	}
	const char *after = strstr(got, "\r\n");
	bool greeting = strncmp(got, "220 api.test psmtpd", 19) == 0;
	ck_assert_msg(strcmp(greeting ? after + 2 : got, want) == 0,
	    "%s: replies\n%s\nwant\n%s", name, got, want);
}

START_TEST(test_hooks)
{
	char *got = run(hook_cases[_i].plugins, hook_cases[_i].payload, NULL);

	check_replies(hook_cases[_i].name, got, hook_cases[_i].expect);
	free(got);
}
END_TEST

#define TVERBS "{ path = \"" PLUGDIR "tverbs.so\"; }"

START_TEST(test_verbs)
{
	char *got = run(TVERBS, "XSTATS\r\nEHLO me\r\nXSTATS\r\nMAIL FROM:<a@b>"
	    "\r\nRCPT TO:<c@d>\r\nDATA\r\nx\r\n.\r\nxstats now\r\nVRFY joe\r\n"
	    "VRFY builtin\r\nHELP\r\nHELP XSTATS\r\nHELP xyz\r\nQUIT\r\n",
	    NULL);

	check_replies("verbs", got, "250 stats messages=0 greeting=\r\n"
	    "250-api.test\r\n250-SIZE 33554432\r\n250-8BITMIME\r\n250 HELP\r\n"
	    "250 stats messages=0 greeting=me\r\n250 OK\r\n250 OK\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n250 OK\r\n"
	    "250-stats\r\n250 messages=1\r\n252 tverbs knows joe\r\n"
	    "252 Cannot VRFY user, but will accept message and attempt "
	    "delivery\r\n250 Supported commands: EHLO HELO MAIL RCPT DATA "
	    "RSET NOOP QUIT VRFY XSTATS\r\n250 Syntax: XSTATS\r\n"
	    "501 Supported commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT "
	    "VRFY XSTATS\r\n221 Bye\r\n");
	free(got);
}
END_TEST

/* RSET and disconnect hooks run (they have no reply: the log shows it). */
START_TEST(test_void_hooks)
{
	struct du_daemon d;
	char *got = run(TPLUG(""), "EHLO me\r\nMAIL FROM:<a@b>\r\nRSET\r\n"
	    "QUIT\r\n", &d);

	ck_assert_msg(strstr(got, "250 OK\r\n250 OK\r\n221 Bye") != NULL,
	    "%s", got);
	free(got);
	ck_assert_int_eq(du_stop(&d), 0);
	char *log = du_slurp(d.err);
	/* RSET runs the hook before the reset; EHLO resets too. */
	ck_assert_msg(strstr(log, "plugin=tplug hook=rset mailfrom=a@b") !=
	    NULL, "%s", log);
	ck_assert_msg(strstr(log, "plugin=tplug hook=disconnect greeting=me") !=
	    NULL, "%s", log);
	free(log);
}
END_TEST

/* -t on a config: the status and what it must say. */
static void
check_t(const char *plugins, int status, const char *says)
{
	char *conf = write_config(plugins);
	const char *args[] = { "-t", "-n", "-C", conf, NULL };
	struct su_buf out = { 0 };

	int st = du_run(args, &out);
	ck_assert_msg(st == status, "status %d, want %d:\n%s", st, status,
	    out.p);
	ck_assert_msg(strstr(out.p, says) != NULL, "output lacks '%s':\n%s",
	    says, out.p);
	if (status != 0)
		ck_assert_msg(strstr(out.p, conf) != NULL, "no file name:\n%s",
		    out.p);
	unlink(conf);
	free(conf);
	free(out.p);
}

START_TEST(test_load_errors)
{
	check_t(TVERBS, 0, "configuration OK");
	check_t(TVERBS "," TVERBS, 1, "verb XSTATS is already claimed by "
	    "plugin");
	check_t("{ path = \"" PLUGDIR "tbadabi.so\"; }", 1, "was built for "
	    "plugin ABI 42, this psmtpd has ABI 1");
	check_t("{ path = \"" PLUGDIR "tnosym.so\"; }", 1, "has no symbol "
	    "'psmtpd_plugin'");
	check_t("{ path = \"/nonexistent/p.so\"; }", 1, "cannot load "
	    "/nonexistent/p.so");
	check_t("{ name = \"nosuchplugin\"; }", 1, "no plugin named "
	    "'nosuchplugin'");
	check_t(TPLUG("fail_init = \"boom\";"), 1, ":4: plugin tplug: "
	    "setting 'fail_init': boom");
	check_t(TPLUG("nosuch = 1;"), 1, "setting 'nosuch': unknown setting");
	check_t(TPLUG("message = 5;"), 1, "setting 'message': must be a "
	    "string");
}
END_TEST

/* A plugin that crashes in process_message: the client never gets a 250
 * for that message, and the server goes on serving. */
START_TEST(test_crash)
{
	struct du_daemon d;
	/* Under AddressSanitizer, let the crash be a plain SIGSEGV, as it
	 * is in production, rather than a sanitizer report. */
	const char *asan = getenv("ASAN_OPTIONS");
	char opts[512];
	snprintf(opts, sizeof(opts), "%s%shandle_segv=0", asan ? asan : "",
	    asan ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
	char *got = run(TPLUG("message = \"crash\";"), ENVELOPE
	    "DATA\r\nx\r\n.\r\nQUIT\r\n", &d);

	/* The replies still buffered when the worker died are lost with
	 * it; what matters is that nothing says the message was taken. */
	const char *after = strstr(got, "354 End data");
	ck_assert_msg(after == NULL || strstr(after, "250") == NULL,
	    "a 250 after the crash:\n%s", got);
	ck_assert_msg(strstr(got, "221 Bye") == NULL, "no crash?\n%s", got);
	free(got);
	/* The pool replaces the worker; a new session is served. */
	struct su_buf r = { 0 };
	for (int i = 0; i < 50; i++) {
		free(r.p);
		r = (struct su_buf){ 0 };
		if (du_session(&d, "NOOP\r\nQUIT\r\n", &r) == 0 &&
		    r.p != NULL && strstr(r.p, "221 Bye") != NULL)
			break;
		usleep(100000);
	}
	ck_assert_msg(r.p != NULL && strstr(r.p, "250 OK\r\n221 Bye") != NULL,
	    "no service after the crash: %s", r.p ? r.p : "");
	free(r.p);
	du_stop(&d);
	char *log = du_slurp(d.err);
	ck_assert_msg(strstr(log, "signal") != NULL ||
	    strstr(log, "SIGSEGV") != NULL, "crash not logged:\n%s", log);
	free(log);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("api");

	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)getpid());
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_hooks, 0,
	    (int)(sizeof(hook_cases) / sizeof(hook_cases[0])));
	tcase_add_test(tc, test_verbs);
	tcase_add_test(tc, test_void_hooks);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_crash);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
