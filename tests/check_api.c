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
#include <time.h>
#include <unistd.h>

#include "tests/check_run.h"
#include "tests/daemon_util.h"

#ifndef TESTS_BUILDDIR
#define TESTS_BUILDDIR "."
#endif
#define PLUGDIR TESTS_BUILDDIR "/tests/.libs/"

/* write_config_with - a config file with global settings (on the first
 * line) and the given plugins list; its path. */
static char *
write_config_with(const char *globals, const char *plugins)
{
	char *path = strdup("/tmp/check_api.conf.XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "hostname = \"api.test\"; %s\npool = { start = 1; "
	    "min_spare = 1; max_spare = 2; };\nplugins = (\n%s\n);\n",
	    globals, plugins);
	fclose(f);
	return path;
}

static char *
write_config(const char *plugins)
{
	return write_config_with("", plugins);
}

/* run_with - start the daemon with the settings and plugins, run one
 * session, return the replies (raw). */
static char *
run_with(const char *globals, const char *plugins, const char *payload,
    struct du_daemon *keep)
{
	struct du_daemon d;
	char *conf = write_config_with(globals, plugins);
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

static char *
run(const char *plugins, const char *payload, struct du_daemon *keep)
{
	return run_with("", plugins, payload, keep);
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

#define TAPI2(settings) \
	"{ path = \"" PLUGDIR "tapi2.so\"; settings = { " settings " }; }"
#define DATA_CMD "DATA\r\n"
#define MSG "Subject: hi\r\nX-Remove: a\r\nTo: c@d\r\nX-Remove: b\r\n" \
	"\r\nbody\r\n.\r\n"
#define TWO_RCPT "EHLO me\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n" \
	"RCPT TO:<e@f>\r\n"
#define OKDATA "354 End data with <CR><LF>.<CR><LF>\r\n"

/* API 2, one capability a row: the replies' tail and what the log must
 * say (the plugins log what they see). */
static const struct {
	const char *name;
	const char *plugins;
	const char *payload;
	const char *expect;	/* the end of the replies */
	const char *log[4];	/* each must be in the log */
} api2_cases[] = {
	{ "header edits seen by the next plugin",
	    TAPI2("headers = true; tag = \"p1\";") ","
	    TAPI2("show = true; tag = \"p2\";"),
	    ENVELOPE DATA_CMD MSG "QUIT\r\n", "@" OKDATA "250 OK\r\n"
	    "221 Bye\r\n", { "p2 sees from=a@b to=c@d data=[X-First: p1|"
	    "Subject: edited by p1|To: c@d|X-Last: p1||body] headers=4" } },
	{ "body replaced", TAPI2("body = \"new|body\"; tag = \"p1\";") ","
	    TAPI2("show = true; tag = \"p2\";"), ENVELOPE DATA_CMD MSG
	    "QUIT\r\n", "@250 OK\r\n221 Bye\r\n", { "data=[Subject: hi|"
	    "X-Remove: a|To: c@d|X-Remove: b||new|body]" } },
	{ "envelope edits", TAPI2("sender = \"srs@x\"; add_rcpt = "
	    "\"archive@x\"; remove_rcpt = 0; tag = \"p1\";") ","
	    TAPI2("show = true; tag = \"p2\";"), TWO_RCPT DATA_CMD MSG
	    "QUIT\r\n", "@250 OK\r\n221 Bye\r\n", { "p2 sees from=srs@x "
	    "to=e@f,archive@x", "plugin=tapi2 sender=<srs@x> was=<a@b>",
	    "removed to=<c@d>", "added to=<archive@x>" } },
	{ "a bad envelope edit is refused", TAPI2("add_rcpt = \"a\tb\"; "
	    "remove_rcpt = 7; show = true; tag = \"p1\";"), ENVELOPE
	    DATA_CMD MSG "QUIT\r\n", "@250 OK\r\n221 Bye\r\n", {
	    "psmtpd_envelope_add_rcpt refused: not a valid address",
	    "psmtpd_envelope_remove_rcpt refused", "p1 sees from=a@b to=c@d "
	    } },
	{ "notes and check results", TAPI2("note = \"n1\"; check = "
	    "\"spf=pass smtp.mailfrom=b\"; tag = \"p1\";") ","
	    TAPI2("show = true; tag = \"p2\";"), ENVELOPE DATA_CMD MSG
	    "QUIT\r\n", "@250 OK\r\n221 Bye\r\n", { "p2 check=spf=pass "
	    "smtp.mailfrom=b", "p2 notes conn=n1 txn=c@d" } },
	{ "a bad check result is refused", TAPI2("check = \"spf pass\";"),
	    ENVELOPE "QUIT\r\n", "@250 OK\r\n221 Bye\r\n", {
	    "psmtpd_check_result refused" } },
	{ "on_mail sees the sender and its options", TAPI2("tag = \"p\";"),
	    "EHLO me\r\nMAIL FROM:<a@b> BODY=8BITMIME\r\nQUIT\r\n",
	    "@250 OK\r\n221 Bye\r\n", { "on_mail from=a@b session=a@b "
	    "options=1 first=BODY=8BITMIME" } },
	{ "verdicts: all accepted", TAPI2("verdicts = [ \"250 ok 1\", "
	    "\"250 ok 2\" ]; tag = \"p\";"), TWO_RCPT DATA_CMD MSG "QUIT\r\n",
	    "@" OKDATA "250 ok 1\r\n221 Bye\r\n", { "p outcome code=250 "
	    "by=tapi2 rcpt0=250 ok 1" } },
	{ "verdicts: delivered and temporary failure: 451 for all",
	    TAPI2("verdicts = [ \"250 ok\", \"450 mailbox busy\" ];"),
	    TWO_RCPT DATA_CMD MSG "QUIT\r\n", "@" OKDATA "451 Error: delivery "
	    "failed for some recipients, try again later\r\n221 Bye\r\n",
	    { "outcome code=451" } },
	{ "verdicts: delivered and permanent failure: the 5xx",
	    TAPI2("verdicts = [ \"250 ok\", \"550 no such user e@f\" ];"),
	    TWO_RCPT DATA_CMD MSG "QUIT\r\n", "@" OKDATA "550 no such user "
	    "e@f\r\n221 Bye\r\n", { "outcome code=550" } },
	{ "verdicts: temporary and permanent failures: the 4xx",
	    TAPI2("verdicts = [ \"550 no\", \"452 full\" ];"), TWO_RCPT
	    DATA_CMD MSG "QUIT\r\n", "@" OKDATA "452 full\r\n221 Bye\r\n",
	    { "outcome code=452" } },
	{ "verdicts: one recipient settled, the rest go down the chain",
	    TAPI2("verdicts = [ \"550 not here\" ]; verdict_go_on = true; "
	    "tag = \"p1\";") "," TAPI2("tag = \"p2\";"), TWO_RCPT DATA_CMD
	    MSG "QUIT\r\n", "@" OKDATA "550 not here\r\n221 Bye\r\n",
	    { "p1 outcome code=550 by=server rcpt0=550 not here",
	    "p2 outcome code=550" } },
	{ "outcome: only the plugins that saw the message",
	    TAPI2("tag = \"p1\";") "," TPLUG("message = \"reply:554 "
	    "refused\";") "," TAPI2("tag = \"p3\";"), ENVELOPE DATA_CMD MSG
	    "QUIT\r\n", "@554 refused\r\n221 Bye\r\n", { "p1 outcome "
	    "code=554 by=tplug rcpt0=554 refused" } },
	{ "API calls out of place or with bad arguments are refused",
	    TAPI2("misuse = true;"), TWO_RCPT DATA_CMD MSG "QUIT\r\n", "@"
	    OKDATA "250 first\r\n221 Bye\r\n", { "misuse connect: "
	    "txn_note=-1 sender=-1 key=-1", "misuse rcpt: header=-1 body=-1 "
	    "verdict=-1 ask=-1 ehlo=-1", "misuse message: badname=-1 "
	    "badvalue=-1 nofield=-1 noindex=-1 append=-1 verdict=0,-1,-1,-1 "
	    "remove=-1 ask=-1", "psmtpd_header_add refused: no such field, or "
	    "an invalid name or value" } },
	{ "a reply with mixed codes is refused", TAPI2("mixed_reply = true;"),
	    ENVELOPE DATA_CMD MSG "QUIT\r\n", "@451 Error: local error in "
	    "processing\r\n221 Bye\r\n", { "mixed reply=-1",
	    "gave an invalid reply" } },
	{ "a reply in on_rset is reported", TAPI2("rset_reply = true;"),
	    ENVELOPE "RSET\r\nQUIT\r\n", "@250 OK\r\n221 Bye\r\n",
	    { "set a reply in on_rset, which cannot answer", "rset reply=-1" } },
	{ "EHLO keywords from plugins", TAPI2("ehlo = \"XASK\";"),
	    "EHLO me\r\nQUIT\r\n", "@250-8BITMIME\r\n250-XASK\r\n"
	    "250 HELP\r\n221 Bye\r\n", { "psmtpd_ehlo_keyword refused" } },
	{ "unknown command hook", TAPI2(""), "XUNK arg\r\nXOTHER\r\n"
	    "QUIT\r\n", "@502 tapi2 knows XUNK but not arg\r\n500 Error: "
	    "command \"XOTHER\" not recognized\r\n221 Bye\r\n", { NULL } },
	{ "a multi-line exchange", TAPI2(""), "XASK\r\nhello there\r\n"
	    "XASK\r\n0123456789abcdefghij\r\nQUIT\r\n", "@334 go on\r\n"
	    "250 got 11 [hello there] api=2\r\n334 go on\r\n501 answer too "
	    "long\r\n221 Bye\r\n", { NULL } },
};

/* api2_log - each expected text is in the daemon's log. */
static void
api2_log(const char *name, const char *log, const char *const *want)
{
	for (int k = 0; k < 4 && want[k] != NULL; k++)
		ck_assert_msg(strstr(log, want[k]) != NULL, "%s: log lacks "
		    "'%s':\n%s", name, want[k], log);
}

START_TEST(test_api2)
{
	struct du_daemon d;
	char *got = run(api2_cases[_i].plugins, api2_cases[_i].payload, &d);

	check_replies(api2_cases[_i].name, got, api2_cases[_i].expect);
	free(got);
	ck_assert_int_eq(du_stop(&d), 0);
	char *log = du_slurp(d.err);
	api2_log(api2_cases[_i].name, log, api2_cases[_i].log);
	free(log);
}
END_TEST

/* Log correlation: the message's id in the reply (reply_queue_id), in
 * the Received: header (received_header) and in the log lines. */
START_TEST(test_message_id)
{
	struct du_daemon d;
	char *got = run_with("reply_queue_id = true; received_header = true;",
	    TAPI2("show = true; tag = \"p\";"), "EHLO client.example\r\n"
	    "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: x\r\n\r\n"
	    "y\r\n.\r\nQUIT\r\n", &d);
	const char *q = strstr(got, "250 OK queued as ");

	ck_assert_msg(q != NULL, "%s", got);
	char id[40];
	ck_assert_int_eq(sscanf(q, "250 OK queued as %39s", id), 1);
	free(got);
	ck_assert_int_eq(du_stop(&d), 0);
	char *log = du_slurp(d.err), want[200];
	/* the log escapes control bytes: the header's tabs are \x09 */
	snprintf(want, sizeof(want), "data=[Received: from client.example "
	    "(127.0.0.1)|\\x09by api.test with ESMTP id %s;|\\x09", id);
	ck_assert_msg(strstr(log, want) != NULL, "%s\nlacks %s", log, want);
	snprintf(want, sizeof(want), "msgid=%s client=127.0.0.1 plugin=tapi2 "
	    "p sees", id);
	ck_assert_msg(strstr(log, want) != NULL, "%s\nlacks %s", log, want);
	snprintf(want, sizeof(want), "message id=%.12s msgid=%s ", id, id);
	ck_assert_msg(strstr(log, want) != NULL, "%s\nlacks %s", log, want);
	free(log);
}
END_TEST

/* read_new_mail - the content of the files in dir/new. */
static char *
read_new_mail(const char *dir)
{
	char cmd[600], buf[4096];
	struct su_buf out = { 0 };
	size_t n;

	snprintf(cmd, sizeof(cmd), "cat %s/new/*", dir);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		su_buf_put(&out, buf, n);
	pclose(p);
	su_buf_put(&out, "", 1);
	return out.p;
}

/* The stock delivery plugins deliver the message as earlier plugins
 * edited it: the debugging output and the maildir file show the headers
 * added before them. */
START_TEST(test_stock_plugins_see_edits)
{
	struct du_daemon d;
	char dir[] = "/tmp/check_api.maildir.XXXXXX", plugins[1024];
	const char *payload = ENVELOPE "DATA\r\nSubject: hi\r\n\r\nbody\r\n"
	    ".\r\nQUIT\r\n";

	char *got = run(TAPI2("headers = true;") ", { name = \"debugging\"; }",
	    payload, &d);
	free(got);
	ck_assert_int_eq(du_stop(&d), 0);
	char *out = du_slurp(d.out);
	ck_assert_msg(strstr(out, "X-First: tapi2\nSubject: edited by tapi2\n"
	    "X-Last: tapi2\nX-Peer: 127.0.0.1\n\nbody") != NULL, "%s", out);
	free(out);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(plugins, sizeof(plugins), TAPI2("headers = true;") ", { name "
	    "= \"maildir\"; settings = { dir = \"%s\"; }; }", dir);
	got = run(plugins, payload, NULL);
	ck_assert_msg(strstr(got, "250 OK\r\n221 Bye") != NULL, "%s", got);
	free(got);
	char *mail = read_new_mail(dir);
	ck_assert_msg(strstr(mail, "Return-Path: <a@b>\nX-First: tapi2\n"
	    "Subject: edited by tapi2\nX-Last: tapi2\nX-Peer: 127.0.0.1\n\n"
	    "body\n") != NULL, "%s", mail);
	free(mail);
	du_rmtree(dir);
}
END_TEST

#define PAD "0123456789012345678901234567890123456789012345678901234567890"

/* The edited message cannot be built (its spool file may not grow past
 * 1000 bytes here): the plugin that reads it gets "", and the client a
 * 451, never a 250 for a message not handed on whole. */
START_TEST(test_edit_spool_failure)
{
	struct du_daemon d;
	struct du_opts o = { .fsize_limit = 1000, .deathsig = SIGTERM };
	char body[1750], plugins[4096];
	struct su_buf r = { 0 };

	memset(body, 'b', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	snprintf(plugins, sizeof(plugins), TAPI2("body = \"%s\"; tag = "
	    "\"p1\";") "," TAPI2("show = true; tag = \"p2\";"), body);
	char *conf = write_config_with("spool = { memory_limit = 1800; };",
	    plugins);
	const char *args[] = { "-n", "-C", conf, NULL };
	ck_assert_int_eq(du_start_with(&d, "127.0.0.1", args, &o), 0);
	ck_assert_int_eq(du_session(&d, ENVELOPE "DATA\r\nSubject: x\r\n"
	    "X-Pad: " PAD PAD "\r\n\r\nshort\r\n.\r\nQUIT\r\n", &r), 0);
	su_buf_put(&r, "", 1);
	ck_assert_msg(strstr(r.p, "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "451 Error: local error in processing\r\n") != NULL, "%s", r.p);
	free(r.p);
	ck_assert_int_eq(du_stop(&d), 0);
	ck_assert(du_file_has(d.err, "cannot build the edited message", 100));
	unlink(conf);
	free(conf);
}
END_TEST

/* serve_again - the pool answers a new session (the worker that ended
 * was replaced). */
static void
serve_again(struct du_daemon *d, const char *want)
{
	struct su_buf r = { 0 };

	for (int i = 0; i < 50; i++) {
		free(r.p);
		r = (struct su_buf){ 0 };
		if (du_session(d, "NOOP\r\nQUIT\r\n", &r) == 0 &&
		    r.p != NULL && strstr(r.p, want) != NULL)
			break;
		usleep(100000);
	}
	ck_assert_msg(r.p != NULL && strstr(r.p, want) != NULL,
	    "no service after: %s", r.p ? r.p : "");
	free(r.p);
}

#define TSLOW(hook) "{ path = \"" PLUGDIR "tplug.so\"; timeout = 1; " \
	"settings = { " hook " = \"sleep:20\"; }; }"

static const struct {
	const char *plugins, *payload, *expect, *log;
} timeout_cases[] = {
	{ TSLOW("message"), ENVELOPE "DATA\r\nx\r\n.\r\nQUIT\r\n",
	    "@354 End data with <CR><LF>.<CR><LF>\r\n451 Error: plugin timed "
	    "out\r\n", "plugin=tplug hook=process_message timed out after 1s" },
	{ TSLOW("connect"), "QUIT\r\n", "451 Error: plugin timed out\r\n",
	    "plugin=tplug hook=on_connect timed out after 1s" },
	{ TSLOW("rcpt"), ENVELOPE "QUIT\r\n", "@250 OK\r\n451 Error: plugin "
	    "timed out\r\n", "hook=on_rcpt timed out" },
};

/* A hook over its plugin's timeout: 451, never 250, the plugin named in
 * the log, the worker gone and replaced. */
START_TEST(test_timeout)
{
	struct du_daemon d;
	time_t t0 = time(NULL);
	char *got = run(timeout_cases[_i].plugins, timeout_cases[_i].payload,
	    &d);

	ck_assert_msg(time(NULL) - t0 < 10, "the limit did not act");
	check_replies("timeout", got, timeout_cases[_i].expect);
	free(got);
	serve_again(&d, _i == 1 ? "451 Error: plugin timed out" :
	    "250 OK\r\n221 Bye");
	ck_assert_int_eq(du_stop(&d), 0);
	char *log = du_slurp(d.err);
	ck_assert_msg(strstr(log, timeout_cases[_i].log) != NULL, "%s", log);
	free(log);
}
END_TEST

/* -t on a config: the status and what it must say. */
static void
check_t_with(const char *globals, const char *plugins, int status,
    const char *says)
{
	char *conf = write_config_with(globals, plugins);
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

static void
check_t(const char *plugins, int status, const char *says)
{
	check_t_with("", plugins, status, says);
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
	check_t(TPLUG("nosuch = 1; other = 2;"), 1, "setting 'nosuch': unknown "
	    "setting\n");
	check_t(TPLUG("nosuch = 1; other = 2;"), 1, "setting 'other': unknown "
	    "setting");
	check_t(TPLUG("message = 5;"), 1, "setting 'message': must be a "
	    "string");
	check_t_with("spool = { dir = \"/nonexistent/spool\"; };", TVERBS, 1,
	    "spool.dir '/nonexistent/spool': No such file or directory");
	check_t("{ path = \"" PLUGDIR "tnewapi.so\"; }", 1, "was built for "
	    "plugin API 3, this psmtpd has API 2: it needs a newer psmtpd");
}
END_TEST

/* no_segv_report - under AddressSanitizer, let a crash be a plain
 * SIGSEGV, as it is in production, rather than a sanitizer report. */
static void
no_segv_report(void)
{
	const char *asan = getenv("ASAN_OPTIONS");
	char opts[512];

	if (asan != NULL && strstr(asan, "handle_segv=0") != NULL)
		return;
	snprintf(opts, sizeof(opts), "%s%shandle_segv=0", asan ? asan : "",
	    asan ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
}

/* A crash in a plugin's init: -t names the plugin and exits 1 (not 139),
 * and the start is refused the same way. */
START_TEST(test_init_crash)
{
	no_segv_report();
	check_t(TPLUG("init_crash = true;"), 1, ":4: plugin tplug: init "
	    "crashed with signal 11");
	check_t(TVERBS "," TPLUG("init_crash = true;"), 1, "tried in a child "
	    "process; nothing changed");
}
END_TEST

/* sighup - rewrite the config, SIGHUP, wait for the log to say word. */
static void
sighup(struct du_daemon *d, const char *conf, const char *plugins,
    const char *word)
{
	ck_assert_int_eq(du_write_config(conf, "hostname = \"api.test\";\n"
	    "pool = { start = 1; min_spare = 1; max_spare = 2; };\n"
	    "plugins = (\n%s\n);\n", plugins), 0);
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert_msg(du_file_has(d->err, word, 10000), "no '%s' in the log",
	    word);
}

/* deliver - one message through whichever worker takes it. */
static void
deliver(struct du_daemon *d)
{
	struct su_buf r = { 0 };

	du_session(d, ENVELOPE "DATA\r\nx\r\n.\r\nQUIT\r\n", &r);
	free(r.p);
}

/* new_message_logged - a message logged after offset seen. */
static bool
new_message_logged(const struct du_daemon *d, size_t seen)
{
	char *log = du_slurp(d->err);
	bool yes = log != NULL && strlen(log) > seen &&
	    strstr(log + seen, "inits=") != NULL;

	free(log);
	return yes;
}

/* Reload: a new generation whose init crashes is refused with the
 * plugin's name and the running one keeps serving; a good one gets
 * fresh static state (fini and dlclose of the old before its init). */
START_TEST(test_reload_isolation)
{
	struct du_daemon d;
	char *conf = write_config(TPLUG(""));
	const char *args[] = { "-n", "-C", conf, NULL };

	no_segv_report();
	ck_assert_int_eq(du_start(&d, "127.0.0.1", args), 0);
	deliver(&d);
	ck_assert(du_file_has(d.err, "inits=1 global=set-by-init", 5000));
	sighup(&d, conf, TPLUG("init_crash = true;"), "reload failed");
	ck_assert(du_file_has(d.err, "plugin tplug: init crashed with "
	    "signal 11", 1000));
	serve_again(&d, "250 OK\r\n221 Bye");
	sighup(&d, conf, TPLUG("rcpt = \"continue\";"), "reload done "
	    "generation=1");
	/* a message through the new generation's workers */
	char *before = du_slurp(d.err);
	size_t seen = strlen(before);
	free(before);
	for (int i = 0; i < 50 && !new_message_logged(&d, seen); i++) {
		deliver(&d);
		usleep(100000);
	}
	char *log = du_slurp(d.err);
	ck_assert_msg(strstr(log + seen, "inits=1 global=set-by-init") !=
	    NULL && strstr(log, "inits=2") == NULL && strstr(log,
	    "global=(freed)") == NULL, "state shared across generations:\n"
	    "%s", log);
	free(log);
	ck_assert_int_eq(du_stop(&d), 0);
	unlink(conf);
	free(conf);
}
END_TEST

/* A plugin that crashes in process_message: the client never gets a 250
 * for that message, and the server goes on serving. */
START_TEST(test_crash)
{
	struct du_daemon d;

	no_segv_report();
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
	serve_again(&d, "250 OK\r\n221 Bye");
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
	tcase_add_loop_test(tc, test_api2, 0,
	    (int)(sizeof(api2_cases) / sizeof(api2_cases[0])));
	tcase_add_test(tc, test_void_hooks);
	tcase_add_test(tc, test_message_id);
	tcase_add_test(tc, test_stock_plugins_see_edits);
	tcase_add_test(tc, test_edit_spool_failure);
	tcase_add_loop_test(tc, test_timeout, 0,
	    (int)(sizeof(timeout_cases) / sizeof(timeout_cases[0])));
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_crash);
	tcase_add_test(tc, test_init_crash);
	tcase_add_test(tc, test_reload_isolation);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
