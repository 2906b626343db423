/*
 * check_milter.c - the milter plugin in the real daemon, against milters
 * on loopback: a scriptable test milter written with python3-milter
 * (tests/milter_test.py) for every stage, verdict, action, time-out and
 * failure, with the maildir plugin after the milter to see what was
 * delivered; and real milters, OpenDKIM (the signed message verifies with
 * python3-dkim against the test's own key) and rspamd.
 */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <psmtpd/plugin.h>

#include "tests/check_run.h"
#include "tests/daemon_util.h"
#include "tests/delivery_testutil.h"
#include "tests/tls_util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define PY "/usr/bin/python3"
#define MT_SCRIPT TESTS_SRCDIR "/milter_test.py"

/* One test's world: a temp dir, the milter(s), the daemon. */
struct mt {
	char dir[256];
	char md[300];		/* the maildir after the milter */
	char log[2][300];	/* each test milter's event log */
	char spec[2][400];	/* each milter's socket, psmtpd's form */
	pid_t pid[2];
	int n;			/* milters started */
	struct du_daemon d;
	int up;			/* the daemon runs */
};

static void
mt_path(const struct mt *m, char *buf, size_t size, const char *name)
{
	ck_assert_int_lt(snprintf(buf, size, "%s/%s", m->dir, name),
	    (int)size);
}

static void
mt_begin(struct mt *m)
{
	memset(m, 0, sizeof(*m));
	tu_tempdir(m->dir, sizeof(m->dir), "milter");
	mt_path(m, m->md, sizeof(m->md), "md");
}

/* Whether python3-milter can run here (else the test is skipped). */
static int
mt_have_python_milter(void)
{
	const char *argv[] = { PY, "-c", "import Milter", NULL };

	if (access(PY, X_OK) != 0)
		return 0;
	pid_t pid = du_spawn(argv, "/dev/null", "/dev/null", NULL);
	int st = pid > 0 ? du_wait_pid(pid, 20000) : -1;
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Where a test milter listens. */
enum mt_sock { MT_INET, MT_UNIX, MT_INET6 };

/* Wait until something accepts connections at the milter's socket. */
static int
mt_wait_listen(const char *host, int port, const char *path)
{
	for (int i = 0; i < 200; i++) {
		int fd = port > 0 ? du_dial(host, port) : -1;
		struct stat st;
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (port == 0 && stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		du_sleep_ms(50);
	}
	return -1;
}

/* Start the test milter with a script, on a socket of that kind.  0, or
 * -1 when it did not come up. */
static int
mt_milter(struct mt *m, const char *script, enum mt_sock kind)
{
	char sfile[320], out[320], sock[320], name[32];
	int i = m->n++, port = 0;

	snprintf(name, sizeof(name), "script%d", i);
	mt_path(m, sfile, sizeof(sfile), name);
	tu_write_file(sfile, script, 0);
	snprintf(name, sizeof(name), "milter%d.log", i);
	mt_path(m, m->log[i], sizeof(m->log[i]), name);
	snprintf(name, sizeof(name), "milter%d.out", i);
	mt_path(m, out, sizeof(out), name);
	if (kind == MT_UNIX) {
		snprintf(name, sizeof(name), "m%d.sock", i);
		mt_path(m, sock, sizeof(sock) - 5, name);
		snprintf(m->spec[i], sizeof(m->spec[i]), "unix:%s", sock);
		memmove(sock + 5, sock, strlen(sock) + 1);
		memcpy(sock, "unix:", 5);
	} else if (kind == MT_INET6) {
		port = du_free_port("::1");
		snprintf(sock, sizeof(sock), "inet6:%d@::1", port);
		snprintf(m->spec[i], sizeof(m->spec[i]), "inet6:[::1]:%d",
		    port);
	} else {
		port = du_free_port("127.0.0.1");
		snprintf(sock, sizeof(sock), "inet:%d@127.0.0.1", port);
		snprintf(m->spec[i], sizeof(m->spec[i]), "inet:127.0.0.1:%d",
		    port);
	}
	const char *argv[] = { PY, MT_SCRIPT, sock, sfile, m->log[i], NULL };
	struct du_opts o = { .deathsig = SIGKILL };
	m->pid[i] = du_spawn(argv, out, out, &o);
	if (m->pid[i] < 0)
		return -1;
	return mt_wait_listen(kind == MT_INET6 ? "::1" : "127.0.0.1", port,
	    sock + 5);
}

/* The daemon's config: top (more top-level settings, or ""), then the
 * plugins: first (entries before the milters, or ""), each milter entry
 * with its extra settings, then maildir.  Its path into conf. */
static void
mt_config(struct mt *m, char *conf, size_t size, const char *top,
    const char *first, const char *settings)
{
	char text[4096], *p = text;

	p += sprintf(p, "%s\npool = { start = 2; min_spare = 1; "
	    "max_spare = 4; max_workers = 8; };\nplugins = (\n%s", top,
	    first);
	for (int i = 0; i < m->n; i++)
		p += sprintf(p, "  { name = \"milter\"; settings = { socket = "
		    "\"%s\"; %s }; },\n", m->spec[i], settings ? settings : "");
	sprintf(p, "  { name = \"maildir\"; settings = { dir = \"%s\"; }; }\n"
	    ");\n", m->md);
	mt_path(m, conf, size, "psmtpd.conf");
	ck_assert_int_eq(du_write_config(conf, "%s", text), 0);
}

/* The daemon is up: let the milters see its start-up probe end. */
static void
mt_settle(struct mt *m)
{
	m->up = 1;
	/* The start-up probe is a session too: let the milters see its
	 * end, so that its events do not mix with the test's (a milter sees
	 * a close for every connection; 3 s was too short under ASan on a
	 * loaded machine, and its close fell between the test's connect
	 * and helo). */
	for (int i = 0; i < m->n; i++)
		if (m->pid[i] > 0 && m->log[i][0] != '\0')
			(void)du_file_has(m->log[i], "close", 20000);
}

/* The daemon with more top-level settings, on the port du_start picks. */
static void
mt_daemon_top(struct mt *m, const char *top, const char *settings)
{
	char conf[320];

	mt_config(m, conf, sizeof(conf), top, "", settings);
	const char *args[] = { "-n", "-C", conf, NULL };
	ck_assert_int_eq(du_start(&m->d, "127.0.0.1", args), 0);
	mt_settle(m);
}

/* The daemon: each milter entry with its extra settings, then maildir. */
static void
mt_daemon(struct mt *m, const char *settings)
{
	mt_daemon_top(m, "", settings);
}

static void
mt_end(struct mt *m)
{
	if (m->up)
		du_stop(&m->d);
	for (int i = 0; i < m->n; i++)
		if (m->pid[i] > 0)
			du_kill_wait(m->pid[i], 2000);
	if (m->up) {
		unlink(m->d.out);
		unlink(m->d.err);
	}
	tu_rmtree(m->dir);
}

/* One client session; the replies, NUL-terminated (malloc'd). */
static char *
mt_session(const struct mt *m, const char *payload)
{
	struct su_buf in = { 0 };

	ck_assert_int_eq(du_session(&m->d, payload, &in), 0);
	su_buf_put(&in, "", 1);
	return in.p;
}

/* Each "|"-separated piece of want is in text, in that order. */
static void
mt_has_in_order(const char *text, const char *want)
{
	char piece[512];
	const char *at = text;

	while (*want != '\0') {
		size_t n = strcspn(want, "|");
		snprintf(piece, sizeof(piece), "%.*s", (int)n, want);
		const char *hit = strstr(at, piece);
		if (hit == NULL)
			ck_abort_msg("\"%s\" missing in:\n%s", piece, at);
		at = hit + n;
		want += n + (want[n] == '|');
	}
}

/* How many messages the maildir got. */
static int
mt_delivered(const struct mt *m)
{
	char newdir[400];

	snprintf(newdir, sizeof(newdir), "%s/new", m->md);
	int n = tu_count_dir(newdir);
	return n < 0 ? 0 : n;
}

/* The one message delivered (malloc'd). */
static char *
mt_message(const struct mt *m)
{
	char newdir[400], name[300], path[800];

	snprintf(newdir, sizeof(newdir), "%s/new", m->md);
	ck_assert_int_eq(tu_count_dir(newdir), 1);
	ck_assert_int_eq(tu_dir_entry(newdir, 0, name, sizeof(name)), 0);
	snprintf(path, sizeof(path), "%s/%s", newdir, name);
	return tu_read_file(path, NULL);
}

#define MT_ONE "EHLO c.test\r\nMAIL FROM:<a@example.org>\r\n" \
	"RCPT TO:<b@example.org>\r\nDATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\n" \
	"QUIT\r\n"
#define MT_TWO "EHLO c.test\r\nMAIL FROM:<a@example.org>\r\n" \
	"RCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n" \
	"Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n"

/* ---- every stage, as the milter sees it ------------------------------ */

/* A session through a test milter with a script; the replies must hold
 * `replies`.  The milter's event log once it has seen the message. */
static char *
mt_logged(struct mt *m, const char *script, const char *session,
    const char *replies)
{
	mt_begin(m);
	ck_assert_int_eq(mt_milter(m, script, MT_INET), 0);
	mt_daemon(m, NULL);
	char *r = mt_session(m, session);
	mt_has_in_order(r, replies);
	free(r);
	ck_assert(du_file_has(m->log[0], "eom i=", 5000));
	return du_slurp(m->log[0]);
}

START_TEST(test_stages)
{
	struct mt m;

	if (!mt_have_python_milter())
		CHECK_SKIP("python3-milter is not installed");
	char *log = mt_logged(&m, "# nothing: continue everywhere\n",
	    "EHLO c.test\r\nMAIL FROM:<a@example.org> "
	    "BODY=8BITMIME\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
	    "Subject: hi\r\nX-Fold: a\r\n\tb\r\nX-Empty:\r\n\r\nline1\r\n"
	    "..dot\r\n\r\nlast\r\n.\r\nQUIT\r\n", "250 OK|221");
	mt_has_in_order(log, "connect [127.0.0.1] 127.0.0.1 j=|"
	    "{client_addr}=127.0.0.1 {client_name}=[127.0.0.1] "
	    "{daemon_name}=psmtpd\nhelo c.test\n"
#if PSMTPD_PLUGIN_API >= 2	/* API 1 shows no MAIL options in on_mail */
	    "mail <a@example.org> ['BODY=8BITMIME'] i=|"
#else
	    "mail <a@example.org> [] i=|"
#endif
	    " {mail_addr}=a@example.org\n"
	    "rcpt <b@example.org> [] {rcpt_addr}=b@example.org\n"
	    "data i=|header Subject: 'hi'\nheader X-Fold: 'a\\n\\tb'\n"
	    "header X-Empty: ''\neoh\nbody 21\neom i=|"
	    "body=b'line1\\r\\n.dot\\r\\n\\r\\nlast\\r\\n'\n");
	free(log);
	char *msg = mt_message(&m);
	mt_has_in_order(msg, "Subject: hi\nX-Fold: a\n\tb\n");
	free(msg);
	mt_end(&m);
}
END_TEST

/* The body in chunks of at most 65535 bytes, with CRLF line ends. */
START_TEST(test_big_body)
{
	struct mt m;
	struct su_buf out = { 0 };
	char line[101];

	if (!mt_have_python_milter())
		CHECK_SKIP("python3-milter is not installed");
	mt_begin(&m);
	ck_assert_int_eq(mt_milter(&m, "", MT_INET), 0);
	mt_daemon(&m, NULL);
	memset(line, 'x', 98);
	memcpy(line + 98, "\r\n", 3);
	su_buf_puts(&out, "HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\n"
	    "DATA\r\nSubject: big\r\n\r\n");
	for (int i = 0; i < 2000; i++)	/* 200000 bytes of body */
		su_buf_puts(&out, line);
	su_buf_puts(&out, ".\r\nQUIT\r\n");
	su_buf_put(&out, "", 1);
	char *r = mt_session(&m, out.p);
	mt_has_in_order(r, "354|250 OK|221");
	free(r);
	free(out.p);
	ck_assert(du_file_has(m.log[0], "close", 5000));
	char *log = du_slurp(m.log[0]);
	mt_has_in_order(log, "eoh\nbody 65534\nbody 65534\nbody 65534\n"
	    "body 3398\neom");
	free(log);
	ck_assert_int_eq(mt_delivered(&m), 1);
	mt_end(&m);
}
END_TEST

/* ---- verdicts at each stage ------------------------------------------ */

static const struct {
	const char *script;
	const char *settings;	/* extra settings of the milter entry */
	const char *session;
	const char *replies;	/* in this order */
	int delivered;
	const char *not_logged;	/* an event the milter must not see */
	const char *daemon_log;	/* in the daemon's log */
} verdict_cases[] = {
	/* 0: nothing to say */
	{ "", NULL, MT_ONE, "250 OK|354|250 OK|221", 1, NULL, NULL },
	/* 1: reject at connect: every transaction is refused */
	{ "connect reject\n", NULL, MT_ONE, "220 |250 |550 5.7.1 Command "
	    "rejected\r\n", 0, "helo", "stage=connect verdict=reject" },
	/* 2: reject at HELO: that command */
	{ "helo reject\n", NULL, MT_ONE, "220 |550 5.7.1 Command rejected|"
	    "503 Error: send HELO first", 0, NULL, NULL },
	/* 3: a reply of its own at MAIL */
	{ "mail reply 550 5.7.1 sender refused\n", NULL, MT_ONE,
	    "250 |550 5.7.1 sender refused\r\n", 0, "rcpt", NULL },
	/* 4: one recipient refused, the other delivered */
	{ "rcpt reject @b@example.org\n", NULL, MT_TWO, "550 5.7.1 Command "
	    "rejected|250 OK\r\n354|250 OK", 1, NULL, NULL },
	/* 5: tempfail at DATA */
	{ "data tempfail\n", NULL, MT_ONE, "451 4.7.1 Service unavailable - "
	    "try again later", 0, "header", NULL },
	/* 6: reject on a header: the message */
	{ "header reject\n", NULL, MT_ONE, "354 |550 5.7.1 Command "
	    "rejected\r\n221", 0, "eoh", NULL },
	/* 7: a reply at the end of the message */
	{ "eom reply 554 5.7.1 spam detected\n", NULL, MT_ONE,
	    "354 |554 5.7.1 spam detected\r\n221", 0, NULL, NULL },
	/* 8: discard: the client gets 250, nothing is delivered */
	{ "eom discard\n", NULL, MT_ONE, "354 |250 OK\r\n221", 0, NULL,
	    "message discarded" },
	{ "mail discard\n", NULL, MT_ONE, "354 |250 OK\r\n221", 0, "data",
	    "message discarded" },
	/* 10: accept at connect: no more events, delivered */
	{ "connect accept\n", NULL, MT_ONE, "354 |250 OK\r\n221", 1, "helo",
	    NULL },
	/* 11: accept at RCPT: no more events for the message */
	{ "rcpt accept\n", NULL, MT_ONE, "354 |250 OK\r\n221", 1, "eom",
	    NULL },
	{ "eom tempfail\n", NULL, MT_ONE, "354 |451 4.7.1 Service "
	    "unavailable - try again later\r\n221", 0, NULL, NULL },
	/* 13: 421 at connect: said instead of the greeting, then closed */
	{ "connect reply 421 4.7.0 go away\n", NULL, MT_ONE,
	    "421 4.7.0 go away\r\n", 0, "helo", NULL },
	/* 14: skip the rest of the body */
	{ "body skip\n", NULL, MT_ONE, "354 |250 OK\r\n221", 1, NULL, NULL },
	/* 15: a milter too slow: the default action */
	{ "eom hang 4\n", "content_timeout = 1;", MT_ONE, "354 |451 4.7.1 "
	    "Service unavailable - try again later\r\n221", 0, NULL,
	    "error=\"read: timeout\" action=tempfail" },
	{ "eom hang 4\n", "content_timeout = 1; default_action = \"accept\";",
	    MT_ONE, "354 |250 OK\r\n221", 1, NULL, "action=accept" },
	{ "mail hang 4\n", "command_timeout = 1; default_action = "
	    "\"reject\";", MT_ONE, "250 |550 5.7.1 Command rejected\r\n",
	    0, NULL, "stage=mail error=\"read: timeout\" action=reject" },
	/* 18: progress keeps a slow milter alive */
	{ "eom progress 4 0.5\n", "content_timeout = 1;", MT_ONE,
	    "354 |250 OK\r\n221", 1, NULL, NULL },
	/* 19: steps it does not want, and steps it does not answer */
	{ "option nocallback body\noption nocallback hello\n"
	    "option noreply header\noption noreply envrcpt\n", NULL, MT_ONE,
	    "354 |250 OK\r\n221", 1, "helo", NULL },
	/* 20: RSET: the milter hears ABORT and a new transaction */
	{ "", NULL, "HELO c\r\nMAIL FROM:<a@b.c>\r\nRSET\r\nMAIL FROM:<x@y.z>\r\n"
	    "RCPT TO:<d@e.f>\r\nDATA\r\nS: 1\r\n\r\nb\r\n.\r\nQUIT\r\n",
	    "250 OK|250 OK|250 OK|250 OK|354 |250 OK", 1, NULL, NULL },
};

START_TEST(test_verdicts)
{
	struct mt m;

	if (!mt_have_python_milter())
		CHECK_SKIP("python3-milter is not installed");
	mt_begin(&m);
	ck_assert_int_eq(mt_milter(&m, verdict_cases[_i].script, MT_INET), 0);
	mt_daemon(&m, verdict_cases[_i].settings);
	char *r = mt_session(&m, verdict_cases[_i].session);
	mt_has_in_order(r, verdict_cases[_i].replies);
	free(r);
	ck_assert_int_eq(mt_delivered(&m), verdict_cases[_i].delivered);
	ck_assert(du_file_has(m.log[0], "close", 5000));
	if (verdict_cases[_i].not_logged != NULL) {
		char *log = du_slurp(m.log[0]), want[64];
		snprintf(want, sizeof(want), "\n%s",
		    verdict_cases[_i].not_logged);
		ck_assert_msg(strstr(log, want) == NULL, "%s in %s", want,
		    log);
		free(log);
	}
	if (verdict_cases[_i].daemon_log != NULL)
		ck_assert(du_file_has(m.d.err, verdict_cases[_i].daemon_log,
		    3000));
	if (_i == 20)
		ck_assert(du_file_has(m.log[0], "mail <a@b.c> [] i=", 10) &&
		    du_file_has(m.log[0], "abort\nmail <x@y.z>", 10));
	mt_end(&m);
}
END_TEST

/* ---- edits ---------------------------------------------------------------- */

/* Every modification action, applied through the plugin API (API 2) and
 * seen by the maildir plugin after the milter. */
START_TEST(test_edits)
{
#if PSMTPD_PLUGIN_API >= 2
	struct mt m;

	if (!mt_have_python_milter())
		CHECK_SKIP("python3-milter is not installed");
	mt_begin(&m);
	ck_assert_int_eq(mt_milter(&m, "eom addheader X-Added added value\n"
	    "eom insheader 0 X-Top at the top\n"
	    "eom chgheader Subject 1 changed subject\n"
	    "eom delheader X-Remove 1\n"
	    "eom chgheader X-New 1 added by a change\n"
	    "eom chgfrom <new@example.org>\n"
	    "eom addrcpt <added@example.org>\n"
	    "eom delrcpt <c@example.org>\n"
	    "eom replbody new body\\nsecond line\\n\n"
	    "eom quarantine held for review\n", MT_INET), 0);
	mt_daemon(&m, NULL);
	char *r = mt_session(&m, "EHLO c.test\r\nMAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n"
	    "Subject: hi\r\nX-Remove: x\r\nX-Keep: y\r\n\r\nold body\r\n"
	    ".\r\nQUIT\r\n");
	mt_has_in_order(r, "354 |250 OK\r\n221");
	free(r);
	char *msg = mt_message(&m);
	mt_has_in_order(msg, "Return-Path: <new@example.org>\n"
	    "X-Quarantine: held for review\nX-Top: at the top\n"
	    "Subject: changed subject\nX-Keep: y\nX-Added: added value\n"
	    "X-New: added by a change\n|\n\nnew body\nsecond line\n");
	ck_assert_ptr_null(strstr(msg, "X-Remove"));
	ck_assert_ptr_null(strstr(msg, "old body"));
	free(msg);
	ck_assert(du_file_has(m.d.err, "quarantine reason=\"held for review\"",
	    3000));
	ck_assert(du_file_has(m.d.err, "from=<new@example.org> "
	    "to=<b@example.org>,<added@example.org>", 3000));
	mt_end(&m);
#else
	CHECK_SKIP("the server's plugin API is 1: milter edits need API 2");
#endif
}
END_TEST

/* Only the macros the milter asked for (SMFIR_SETSYMLIST in the option
 * negotiation). */
START_TEST(test_symlist)
{
	struct mt m;

	if (!mt_have_python_milter())
		CHECK_SKIP("python3-milter is not installed");
	char *log = mt_logged(&m, "option symlist connect {client_addr}\n"
	    "option symlist envfrom {mail_addr}\n", MT_ONE,
	    "354 |250 OK\r\n221");
	mt_has_in_order(log, "connect [127.0.0.1] 127.0.0.1 j=None "
	    "{client_addr}=127.0.0.1 {client_name}=None {daemon_name}=None\n"
	    "helo c.test\nmail <a@example.org> [] i=None "
	    "{mail_addr}=a@example.org\nrcpt <b@example.org> [] "
	    "{rcpt_addr}=b@example.org\n");
	free(log);
	mt_end(&m);
}
END_TEST

/* Each RCPT's own ESMTP arguments at RCPT time, the first recipient's
 * too (esmtp.dsn lets NOTIFY through; once the first went missing: the
 * session showed RCPT options only after a recipient was accepted). */
START_TEST(test_rcpt_args)
{
	struct mt m;

	if (!mt_have_python_milter())
		CHECK_SKIP("python3-milter is not installed");
	mt_begin(&m);
	ck_assert_int_eq(mt_milter(&m, "", MT_INET), 0);
	mt_daemon_top(&m, "esmtp = { dsn = true; };", NULL);
	char *r = mt_session(&m, "EHLO c.test\r\nMAIL FROM:<a@example.org> "
	    "RET=HDRS\r\nRCPT TO:<b@example.org> NOTIFY=SUCCESS\r\n"
	    "RCPT TO:<c@example.org> NOTIFY=NEVER\r\nDATA\r\n"
	    "Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n");
	mt_has_in_order(r, "250 OK|250 OK|250 OK|354 |250 OK|221");
	free(r);
	ck_assert(du_file_has(m.log[0], "eom i=", 5000));
	char *log = du_slurp(m.log[0]);
	mt_has_in_order(log, "mail <a@example.org> ['RET=HDRS'] i=|"
	    "rcpt <b@example.org> ['NOTIFY=SUCCESS'] |"
	    "rcpt <c@example.org> ['NOTIFY=NEVER'] ");
	free(log);
	mt_end(&m);
}
END_TEST

/* STARTTLS and AUTH as the milter sees them: {tls_version} and {cipher}
 * with the HELO after STARTTLS, {auth_authen} with MAIL (Postfix's
 * macros).  The client is Python's smtplib; the user is in a passwd_file
 * with a SHA-512 crypt hash made by openssl passwd. */
START_TEST(test_tls_auth_macros)
{
	struct mt m;
	char conf[320], passwd[320], top[1024], first[512], out[4096];
	char port[16];

	if (!mt_have_python_milter())
		CHECK_SKIP("python3-milter is not installed");
	if (!tu_have("openssl"))
		CHECK_SKIP("openssl is not installed");
	mt_begin(&m);
	ck_assert_int_eq(mt_milter(&m, "", MT_INET), 0);
	ck_assert_int_eq(tu_make_cert(m.dir, "mx", "mx.test"), 0);
	const char *hash[] = { "openssl", "passwd", "-6", "m-secret", NULL };
	ck_assert_int_eq(tu_run(hash, NULL, out, sizeof(out), 20), 0);
	out[strcspn(out, "\r\n")] = '\0';
	ck_assert_msg(strncmp(out, "$6$", 3) == 0, "openssl passwd: %s", out);
	mt_path(&m, passwd, sizeof(passwd), "passwd");
	ck_assert_int_eq(du_write_config(passwd, "mia:%s\n", out), 0);
	m.d.port = du_free_port("127.0.0.1");
	snprintf(m.d.host, sizeof(m.d.host), "127.0.0.1");
	mt_path(&m, m.d.out, sizeof(m.d.out), "psmtpd.out");
	mt_path(&m, m.d.err, sizeof(m.d.err), "psmtpd.err");
	snprintf(top, sizeof(top), "listen = ( { address = \"127.0.0.1:%d\"; "
	    "tls = \"starttls\"; } );\ntls = { certificate = \"%s/mx.crt\"; "
	    "key = \"%s/mx.key\"; };", m.d.port, m.dir, m.dir);
	snprintf(first, sizeof(first), "  { name = \"passwd_file\"; settings "
	    "= { file = \"%s\"; }; },\n", passwd);
	mt_config(&m, conf, sizeof(conf), top, first, NULL);
	const char *argv[] = { TESTS_BUILDDIR "/psmtpd", "-n", "-C", conf,
	    NULL };
	ck_assert_int_gt(m.d.pid = du_spawn(argv, m.d.out, m.d.err, NULL), 0);
	ck_assert_int_eq(du_wait_up(m.d.pid, "127.0.0.1", m.d.port, 10000,
	    NULL), 0);
	mt_settle(&m);
	snprintf(port, sizeof(port), "%d", m.d.port);
	const char *client[] = { PY, "-c",
	    "import smtplib, ssl, sys\n"
	    "ctx = ssl.create_default_context()\n"
	    "ctx.check_hostname = False\n"
	    "ctx.verify_mode = ssl.CERT_NONE\n"
	    "s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)\n"
	    "s.ehlo('c.test')\n"
	    "s.starttls(context=ctx)\n"
	    "s.ehlo('c.test')\n"
	    "s.login('mia', 'm-secret')\n"
	    "s.sendmail('a@example.org', ['b@example.org'],"
	    " 'Subject: hi\\r\\n\\r\\nbody\\r\\n')\n"
	    "s.quit()\n"
	    "print('sent')\n", port, NULL };
	ck_assert_msg(tu_run(client, NULL, out, sizeof(out), 60) == 0,
	    "smtplib: %s", out);
	ck_assert(du_file_has(m.log[0], "eom i=", 5000));
	char *log = du_slurp(m.log[0]);
	mt_has_in_order(log, "helo c.test\nhelo c.test {tls_version}=TLSv1.3 "
	    "{cipher}=TLS_|\nmail <a@example.org> [|] i=|"
	    " {mail_addr}=a@example.org {auth_authen}=mia\n");
	free(log);
	ck_assert_int_eq(mt_delivered(&m), 1);
	mt_end(&m);
}
END_TEST

/* ---- failures: no milter at all ---------------------------------------- */

static const struct {
	const char *settings;
	const char *replies;
	int delivered;
} failure_cases[] = {
	{ "", "220 |250 |451 4.7.1 Service unavailable - try again later\r\n",
	    0 },
	{ "default_action = \"reject\";", "250 |550 5.7.1 Command rejected",
	    0 },
	{ "default_action = \"accept\";", "354 |250 OK\r\n221", 1 },
};

START_TEST(test_unreachable)
{
	struct mt m;

	mt_begin(&m);
	m.n = 1;	/* an entry for a milter that is not there */
	snprintf(m.spec[0], sizeof(m.spec[0]), "inet:127.0.0.1:%d",
	    du_free_port("127.0.0.1"));
	mt_daemon(&m, failure_cases[_i].settings);
	char *r = mt_session(&m, MT_ONE);
	mt_has_in_order(r, failure_cases[_i].replies);
	free(r);
	ck_assert_int_eq(mt_delivered(&m), failure_cases[_i].delivered);
	ck_assert(du_file_has(m.d.err, "stage=connect error=\"connect: "
	    "Connection refused\"", 3000));
	m.n = 0;
	mt_end(&m);
}
END_TEST

/* The milter dies in the middle of the message. */
START_TEST(test_milter_dies)
{
	struct mt m;

	if (!mt_have_python_milter())
		CHECK_SKIP("python3-milter is not installed");
	mt_begin(&m);
	ck_assert_int_eq(mt_milter(&m, "eoh hang 3\n", MT_INET), 0);
	mt_daemon(&m, NULL);
	int fd = du_connect(&m.d);
	char reply[512];
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(smtp_reply(fd, reply, sizeof(reply)), 220);
	ck_assert_int_eq(smtp_cmd(fd, "HELO c", reply, sizeof(reply)), 250);
	ck_assert_int_eq(smtp_cmd(fd, "MAIL FROM:<a@b.c>", reply,
	    sizeof(reply)), 250);
	ck_assert_int_eq(smtp_cmd(fd, "RCPT TO:<d@e.f>", reply,
	    sizeof(reply)), 250);
	ck_assert_int_eq(smtp_cmd(fd, "DATA", reply, sizeof(reply)), 354);
	ck_assert_int_eq(smtp_send(fd, "S: x\r\n\r\nb\r\n.\r\n"), 0);
	ck_assert(du_file_has(m.log[0], "eoh", 5000));
	du_kill_wait(m.pid[0], 0);
	m.pid[0] = 0;
	ck_assert_int_eq(smtp_reply(fd, reply, sizeof(reply)), 451);
	ck_assert_int_eq(smtp_cmd(fd, "MAIL FROM:<a@b.c>", reply,
	    sizeof(reply)), 451);
	close(fd);
	ck_assert_int_eq(mt_delivered(&m), 0);
	mt_end(&m);
}
END_TEST

/* ---- chains and sockets ------------------------------------------------ */

/* Two milters in config order: the second refuses a recipient the first
 * let through; both see the session. */
START_TEST(test_chain)
{
	struct mt m;

	if (!mt_have_python_milter())
		CHECK_SKIP("python3-milter is not installed");
	mt_begin(&m);
	ck_assert_int_eq(mt_milter(&m, "", MT_INET), 0);
	ck_assert_int_eq(mt_milter(&m, "rcpt reply 550 5.1.1 no c here "
	    "@c@example.org\n", MT_UNIX), 0);
	mt_daemon(&m, NULL);
	char *r = mt_session(&m, MT_TWO);
	mt_has_in_order(r, "250 OK|550 5.1.1 no c here\r\n354 |250 OK");
	free(r);
	ck_assert_int_eq(mt_delivered(&m), 1);
	ck_assert(du_file_has(m.log[0], "rcpt <c@example.org>", 5000));
	ck_assert(du_file_has(m.log[1], "rcpt <c@example.org>", 5000));
	ck_assert(du_file_has(m.log[1], "eom", 5000));
	mt_end(&m);
}
END_TEST

/* A milter on an IPv6 socket. */
START_TEST(test_inet6)
{
	struct mt m;
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	if (!mt_have_python_milter())
		CHECK_SKIP("python3-milter is not installed");
	if (fd < 0 || du_free_port("::1") <= 0) {
		if (fd >= 0)
			close(fd);
		CHECK_SKIP("no IPv6 loopback here");
	}
	close(fd);
	mt_begin(&m);
	ck_assert_int_eq(mt_milter(&m, "eom reply 550 5.7.1 via IPv6\n",
	    MT_INET6), 0);
	mt_daemon(&m, NULL);
	char *r = mt_session(&m, MT_ONE);
	mt_has_in_order(r, "354 |550 5.7.1 via IPv6\r\n221");
	free(r);
	mt_end(&m);
}
END_TEST

/* Bad settings are reported with the file and line at -t. */
static const struct {
	const char *settings;
	const char *error;
} bad_cases[] = {
	{ "", "socket" },
	{ "socket = \"tcp:1.2.3.4:5\";", "want inet:host:port" },
	{ "socket = \"inet:host\";", "want inet:host:port" },
	{ "socket = \"inet:host:0\";", "want inet:host:port" },
	{ "socket = \"unix:relative\";", "absolute path" },
	{ "socket = \"inet:h:1\"; default_action = \"bounce\";",
	    "want tempfail, accept or reject" },
	{ "socket = \"inet:h:1\"; command_timeout = 0;", "command_timeout" },
};

START_TEST(test_bad_settings)
{
	char dir[256], conf[320];
	struct su_buf out = { 0 };

	tu_tempdir(dir, sizeof(dir), "milterbad");
	snprintf(conf, sizeof(conf), "%s/c.conf", dir);
	ck_assert_int_eq(du_write_config(conf, "plugins = ( { name = "
	    "\"milter\"; settings = { %s }; } );\n", bad_cases[_i].settings),
	    0);
	const char *args[] = { "-t", "-C", conf, NULL };
	ck_assert_int_ne(du_run(args, &out), 0);
	su_buf_put(&out, "", 1);
	ck_assert_msg(strstr(out.p, bad_cases[_i].error) != NULL &&
	    strstr(out.p, "c.conf:1") != NULL, "%s", out.p);
	free(out.p);
	tu_rmtree(dir);
}
END_TEST

/* ---- real milters ------------------------------------------------------ */

/* They ask for header edits: with an API 1 server they are skipped. */
#if PSMTPD_PLUGIN_API >= 2
/* Run a program to its end (bounded); its exit status, or -1. */
static int
mt_run(const char *const *argv, const char *out)
{
	pid_t pid = du_spawn(argv, out, out, NULL);
	int st = pid > 0 ? du_wait_pid(pid, 60000) : -1;

	if (pid > 0 && st == -1)
		du_kill_wait(pid, 1000);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A real milter at 127.0.0.1:port, started with argv; it gets up to
 * wait_s seconds to listen.  0, or -1 (it is then stopped). */
static int
mt_real(struct mt *m, const char *const *argv, int port, int wait_s)
{
	char out[320];
	int i = m->n++;

	mt_path(m, out, sizeof(out), "real.out");
	snprintf(m->spec[i], sizeof(m->spec[i]), "inet:127.0.0.1:%d", port);
	struct du_opts o = { .deathsig = SIGKILL };
	m->pid[i] = du_spawn(argv, out, out, &o);
	for (int t = 0; m->pid[i] > 0 && t < wait_s * 10; t++) {
		int fd = du_dial("127.0.0.1", port);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (du_wait_pid(m->pid[i], 100) != -1) {
			m->pid[i] = 0;	/* it exited: see real.out */
			break;
		}
	}
	return -1;
}

/* Verify a delivered message's DKIM signature with python3-dkim, the
 * public key taken from opendkim-genkey's TXT record, not from DNS. */
static int
mt_dkim_verify(struct mt *m, const char *msg_path, const char *txt)
{
	char py[320], out[320];

	mt_path(m, py, sizeof(py), "verify.py");
	mt_path(m, out, sizeof(out), "verify.out");
	tu_write_file(py, "import re, sys, dkim\n"
	    "msg = open(sys.argv[1], 'rb').read().replace(b'\\n', b'\\r\\n')\n"
	    "rec = b''.join(re.findall(rb'\"([^\"]*)\"', "
	    "open(sys.argv[2], 'rb').read()))\n"
	    "def dns(name, timeout=5):\n"
	    "    return rec if name == b'test._domainkey.example.org.' "
	    "else None\n"
	    "sys.exit(0 if dkim.verify(msg, dnsfunc=dns) else 1)\n", 0);
	const char *argv[] = { PY, py, msg_path, txt, NULL };
	return mt_run(argv, out);
}

/* The path of the one delivered message. */
static void
mt_message_path(const struct mt *m, char *path, size_t size)
{
	char newdir[400], name[300];

	snprintf(newdir, sizeof(newdir), "%s/new", m->md);
	ck_assert_int_eq(tu_dir_entry(newdir, 0, name, sizeof(name)), 0);
	snprintf(path, size, "%s/%s", newdir, name);
}
#endif

/* OpenDKIM signs what psmtpd hands it; the signature verifies. */
START_TEST(test_opendkim)
{
#if PSMTPD_PLUGIN_API >= 2
	struct mt m;
	char conf[320], key[320], txt[320], out[320], path[800], bad[820];
	int port = du_free_port("127.0.0.1");

	if (access("/usr/sbin/opendkim", X_OK) != 0 ||
	    access("/usr/sbin/opendkim-genkey", X_OK) != 0)
		CHECK_SKIP("opendkim is not installed");
	mt_begin(&m);
	mt_path(&m, key, sizeof(key), "test.private");
	mt_path(&m, txt, sizeof(txt), "test.txt");
	mt_path(&m, out, sizeof(out), "genkey.out");
	const char *gen[] = { "/usr/sbin/opendkim-genkey", "-D", m.dir, "-d",
	    "example.org", "-s", "test", "-b", "1024", NULL };
	ck_assert_int_eq(mt_run(gen, out), 0);
	mt_path(&m, conf, sizeof(conf), "opendkim.conf");
	ck_assert_int_eq(du_write_config(conf, "Mode sv\nDomain example.org\n"
	    "Selector test\nKeyFile %s\nSocket inet:%d@127.0.0.1\n"
	    "Syslog no\nRequireSafeKeys false\nInternalHosts 127.0.0.1\n"
	    "Canonicalization relaxed/simple\nPidFile %s/opendkim.pid\n",
	    key, port, m.dir), 0);
	const char *argv[] = { "/usr/sbin/opendkim", "-f", "-x", conf, NULL };
	if (mt_real(&m, argv, port, 20) != 0) {
		mt_end(&m);
		CHECK_SKIP("opendkim did not start (see its output)");
	}
	mt_daemon(&m, NULL);
	char *r = mt_session(&m, "EHLO c.test\r\nMAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<b@example.net>\r\nDATA\r\nFrom: A <a@example.org>\r\n"
	    "To: <b@example.net>\r\nSubject: signed by OpenDKIM\r\n"
	    "Date: Tue, 1 Dec 2026 00:00:00 +0000\r\n\r\nHello,\r\n"
	    "\r\n..a dot line.\r\n.\r\nQUIT\r\n");
	mt_has_in_order(r, "354 |250 OK\r\n221");
	free(r);
	char *msg = mt_message(&m);
	mt_has_in_order(msg, "DKIM-Signature: v=1; a=rsa-sha256; "
	    "c=relaxed/simple; d=example.org; s=test;|From: A <a@example.org>");
	mt_message_path(&m, path, sizeof(path));
	ck_assert_int_eq(mt_dkim_verify(&m, path, txt), 0);
	/* and a changed body does not verify */
	snprintf(bad, sizeof(bad), "%s.bad", path);
	char *changed = strstr(msg, "Hello,");
	ck_assert_ptr_nonnull(changed);
	changed[0] = 'J';
	tu_write_file(bad, msg, 0);
	ck_assert_int_eq(mt_dkim_verify(&m, bad, txt), 1);
	free(msg);
	mt_end(&m);
#else
	CHECK_SKIP("OpenDKIM needs header edits: plugin API 2, the server "
	    "has API 1");
#endif
}
END_TEST

/* rspamd's proxy worker in milter mode (scanning itself): the GTUBE test
 * message is refused with its reply, a plain message goes through. */
START_TEST(test_rspamd)
{
#if PSMTPD_PLUGIN_API >= 2
	struct mt m;
	char conf[320];
	int port = du_free_port("127.0.0.1");

	if (access("/usr/bin/rspamd", X_OK) != 0)
		CHECK_SKIP("rspamd is not installed");
	mt_begin(&m);
	mt_path(&m, conf, sizeof(conf), "rspamd.conf");
	/* The stock rules, no hyperscan (its compile takes minutes here),
	 * a DNS server that answers nothing at once, state in the temp dir. */
	ck_assert_int_eq(du_write_config(conf, ".include \"$CONFDIR/common.conf\"\n"
	    "options { pidfile = \"%s/rspamd.pid\"; "
	    ".include \"$CONFDIR/options.inc\"\n dbdir = \"%s\"; "
	    "disable_hyperscan = true; dns { nameserver = [\"127.0.0.1:1\"]; "
	    "timeout = 0.1s; retransmits = 1; } }\n"
	    "logging { type = \"console\"; level = \"error\"; }\n"
	    "worker \"rspamd_proxy\" { bind_socket = \"127.0.0.1:%d\"; "
	    "milter = yes; timeout = 120s; count = 1; upstream \"local\" { "
	    "default = yes; hosts = \"localhost\"; self_scan = yes; } }\n",
	    m.dir, m.dir, port), 0);
	const char *argv[] = { "/usr/bin/rspamd", "-f", "-i", "-c", conf,
	    NULL };
	if (mt_real(&m, argv, port, 150) != 0) {
		mt_end(&m);
		CHECK_SKIP("rspamd did not start within 150 s");
	}
	mt_daemon(&m, "content_timeout = 120;");
	char *r = mt_session(&m, "EHLO c.test\r\nMAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<b@example.net>\r\nDATA\r\nFrom: <a@example.org>\r\n"
	    "To: <b@example.net>\r\nSubject: gtube\r\n\r\n"
	    "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
	    "\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
	    "DATA\r\nFrom: <a@example.org>\r\nTo: <b@example.net>\r\n"
	    "Subject: hello\r\nMessage-ID: <1@example.org>\r\n"
	    "Date: Tue, 1 Dec 2026 00:00:00 +0000\r\n\r\nJust a note.\r\n"
	    ".\r\nQUIT\r\n");
	mt_has_in_order(r, "354 |554 5.7.1 Gtube pattern\r\n|354 |250 OK\r\n"
	    "221");
	free(r);
	ck_assert_int_eq(mt_delivered(&m), 1);
	mt_end(&m);
#else
	CHECK_SKIP("rspamd asks for header edits: plugin API 2, the server "
	    "has API 1");
#endif
}
END_TEST

static Suite *
milter_suite(void)
{
	Suite *s = suite_create("milter");
	TCase *tc = tcase_create("python");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_stages);
	tcase_add_test(tc, test_big_body);
	tcase_add_loop_test(tc, test_verdicts, 0, (int)NELEM(verdict_cases));
	tcase_add_test(tc, test_edits);
	tcase_add_test(tc, test_symlist);
	tcase_add_test(tc, test_rcpt_args);
	tcase_add_test(tc, test_tls_auth_macros);
	tcase_add_loop_test(tc, test_unreachable, 0,
	    (int)NELEM(failure_cases));
	tcase_add_test(tc, test_milter_dies);
	tcase_add_test(tc, test_chain);
	tcase_add_test(tc, test_inet6);
	tcase_add_loop_test(tc, test_bad_settings, 0, (int)NELEM(bad_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("real");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_opendkim);
	tcase_add_test(tc, test_rspamd);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(milter_suite());
}
