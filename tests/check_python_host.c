/*
 * check_python_host.c - the Python plugin host against the reference:
 * each SMTPServer subclass of tests/python/pyhost_fixtures.py runs under
 * Python 3.11's own smtpd (`python3 -m smtpd -n -c pyhost_fixtures.X`)
 * and under psmtpd (`psmtpd -n -c pyhost_fixtures.X`); the same client
 * sessions must get the same replies and the classes must record the same
 * process_message arguments.  Then what psmtpd does better (an exception
 * is a 451, not a dropped connection), start errors with file and line,
 * the config form with `path`, and SIGHUP re-importing the module.
 */
#include "autoconfig.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/check_run.h"
#include "tests/daemon_util.h"

#ifndef TESTS_SRCDIR
#define TESTS_SRCDIR "."
#endif
#define FIXTURES TESTS_SRCDIR "/tests/python"
#define REFERENCE_PYTHON "/usr/bin/python3"
#define SIZE_LIMIT "33554432"

/* ---- the client sessions (sent whole, read until the server closes) ---- */

static const char *const sessions[] = {
	/* HELO, two recipients, a dot-stuffed line */
	"HELO client.example\r\nMAIL FROM:<alice@example.org>\r\n"
	"RCPT TO:<bob@example.org>\r\nRCPT TO:<carol@example.org>\r\n"
	"DATA\r\nSubject: hello\r\n\r\nline one\r\n..dot-stuffed line\r\n"
	".\r\nQUIT\r\n",
	/* EHLO, MAIL parameters, a refused recipient and sender, RSET */
	"EHLO client.example\r\n"
	"MAIL FROM:<alice@example.org> BODY=8BITMIME SIZE=100\r\n"
	"RCPT TO:<bob@example.org>\r\nDATA\r\nSubject: opts\r\n\r\nbody\r\n"
	".\r\nMAIL FROM:<x@spam.example>\r\nRCPT TO:<bob@example.org>\r\n"
	"DATA\r\nspam\r\n.\r\nMAIL FROM:<alice@example.org>\r\n"
	"RCPT TO:<nobody@example.org>\r\nDATA\r\nhi\r\n.\r\nRSET\r\nQUIT\r\n",
	/* SMTPUTF8 and 8-bit text; content the Decode class refuses */
	"EHLO client.example\r\nMAIL FROM:<j\xc3\xb6rg@example.org> SMTPUTF8\r\n"
	"RCPT TO:<bob@example.org>\r\nDATA\r\n"
	"Subject: gr\xc3\xbc\xc3\x9f" "e\r\n\r\nplease reject this\r\n.\r\n"
	"MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\n"
	"DATA\r\nSubject: caf\xc3\xa9\r\n\r\n\xc3\xa9t\xc3\xa9\r\n.\r\nQUIT\r\n",
	/* the channel_class: a new verb, VRFY overridden, state written */
	"EHLO client.example\r\nXSTATS\r\nXSTATS now\r\nVRFY root\r\n"
	"VRFY secret\r\nVRFY <joe@example.org>\r\nVRFY\r\nHELP\r\n"
	"HELP XSTATS\r\nHELP MAIL\r\nMAIL FROM:<alice@example.org>\r\n"
	"RCPT TO:<bob@example.org>\r\nXSTATS\r\nXADD carol@example.org\r\n"
	"XSTATS\r\nDATA\r\nSubject: verbs\r\n\r\nbody\r\n.\r\n"
	"MAIL FROM:<alice@example.org>\r\nXRESET\r\nXSTATS\r\nRCPT TO:<b@c>\r\n"
	"XDATA\r\nMAIL FROM:<dave@example.org>\r\nRCPT TO:<erin@example.org>\r\n"
	"XDATA\r\nSubject: xdata\r\n\r\nby XDATA\r\n.\r\n"
	"EXPN x\r\nNOOP\r\nQUIT\r\n",
	/* a message larger than spool.memory_limit: psmtpd spools it */
	"BIG",
	/* errors around the transaction */
	"MAIL FROM:<a@b>\r\nHELO x\r\nHELO y\r\nRCPT TO:<b@c>\r\nDATA\r\n"
	"MAIL FROM:<a@b>\r\nMAIL FROM:<c@d>\r\nRCPT TO:\r\nFOO bar\r\n"
	"QUIT\r\n",
};

static const char *const classes[] = {
	"Store", "Refuse", "Forward", "Decode", "Utf8", "Verbs", "Debug",
	"Counting",
};

/* payload - the session's text; "BIG" is a 400 KiB message, made here. */
static char *
payload(const char *session)
{
	struct su_buf b = { 0 };

	if (strcmp(session, "BIG") != 0)
		return strdup(session);
	su_buf_puts(&b, "EHLO client.example\r\nMAIL FROM:<big@example.org>\r\n"
	    "RCPT TO:<bob@example.org>\r\nDATA\r\nSubject: big\r\n\r\n");
	for (int i = 0; i < 6000; i++)
		su_buf_puts(&b, i % 100 == 0 ? ".a dot-stuffed line\r\n" :
		    "0123456789012345678901234567890123456789012345678901234567"
		    "89abcdef\r\n");
	su_buf_puts(&b, ".\r\nQUIT\r\n");
	su_buf_put(&b, "", 1);
	return b.p;
}

/* ---- a server under test: Python's smtpd or psmtpd ---------------------- */

struct server {
	pid_t pid;
	int port;
	char out[128], err[128];
};

/* tmp_name - a fresh temporary file name. */
static void
tmp_name(char *buf, size_t size, const char *what)
{
	snprintf(buf, size, "/tmp/pyhost-%s.%d.%ld", what, (int)getpid(),
	    random());
}

/* start - argv with "LOCAL" replaced by 127.0.0.1:<a free port>. */
static void
start(struct server *sv, const char *const *argv)
{
	const char *av[24];
	char local[64];
	size_t n = 0;

	tmp_name(sv->out, sizeof(sv->out), "out");
	snprintf(sv->err, sizeof(sv->err), "%.100s.err", sv->out);
	for (int attempt = 0; attempt < 5; attempt++) {
		sv->port = du_free_port("127.0.0.1");
		snprintf(local, sizeof(local), "127.0.0.1:%d", sv->port);
		for (n = 0; argv[n] != NULL && n + 1 < 24; n++)
			av[n] = strcmp(argv[n], "LOCAL") == 0 ? local : argv[n];
		av[n] = NULL;
		sv->pid = du_spawn(av, sv->out, sv->err, NULL);
		ck_assert_int_gt(sv->pid, 0);
		if (du_wait_up(sv->pid, "127.0.0.1", sv->port, 15000, NULL) ==
		    0)
			return;
		du_kill_wait(sv->pid, 3000);
	}
	char *e = du_slurp(sv->err);
	ck_abort_msg("%s did not start:\n%s", argv[0], e ? e : "");
}

static void
stop(struct server *sv)
{
	du_kill_wait(sv->pid, 10000);
	unlink(sv->out);
	unlink(sv->err);
}

static void
start_python(struct server *sv, const char *cls)
{
	char c[128];
	const char *argv[] = { REFERENCE_PYTHON, "-W", "ignore", "-m",
	    "smtpd", "-n", "-s", SIZE_LIMIT, "-c", c, "LOCAL", NULL };

	snprintf(c, sizeof(c), "pyhost_fixtures.%s", cls);
	start(sv, argv);
}

static void
start_psmtpd(struct server *sv, const char *cls)
{
	char c[128];
	/* a fixed pool: a worker still starting Python delays the stop */
	const char *argv[] = { TESTS_BUILDDIR "/psmtpd", "-n", "-c", c,
	    "-o", "pool.start=2", "-o", "pool.min_spare=1", "-o",
	    "pool.max_spare=2", "LOCAL", NULL };

	snprintf(c, sizeof(c), "pyhost_fixtures.%s", cls);
	start(sv, argv);
}

/* exchange - send the session whole (no half-close: Python's smtpd drops
 * what it has not sent yet when it reads EOF), read until it closes. */
static char *
exchange(int port, const char *payload)
{
	struct su_buf in = { 0 };
	int fd = du_dial("127.0.0.1", port);
	long long end = du_now_ms() + 15000;
	char buf[4096];

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, payload, strlen(payload)),
	    (ssize_t)strlen(payload));
	while (du_now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 200) <= 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		su_buf_put(&in, buf, (size_t)n);
	}
	close(fd);
	su_buf_put(&in, "", 1);
	return in.p;
}

/* normalize - the greeting's text and the host name (socket.getfqdn()
 * or psmtpd's) become "FQDN". */
static char *
normalize(char *replies)
{
	char fqdn[256] = "", *eol = strstr(replies, "\r\n");
	struct su_buf out = { 0 };

	if (sscanf(replies, "220 %255s", fqdn) != 1 || eol == NULL)
		return replies;
	su_buf_puts(&out, "220 FQDN GREETING");
	for (const char *p = eol; *p != '\0';) {
		const char *hit = strstr(p, fqdn);
		if (hit == NULL) {
			su_buf_puts(&out, p);
			break;
		}
		su_buf_put(&out, p, (size_t)(hit - p));
		su_buf_puts(&out, "FQDN");
		p = hit + strlen(fqdn);
	}
	su_buf_put(&out, "", 1);
	free(replies);
	return out.p;
}

/* ---- one run: every session against one class --------------------------- */

struct run {
	char *replies[sizeof(sessions) / sizeof(sessions[0])];
	char *record;		/* the process_message arguments */
	char *upstream;		/* what the Forward class relayed */
};

/* run_class - start the upstream (a psmtpd running Store) for Forward,
 * then the server, then every session. */
static void
run_class(const char *cls, bool python, struct run *r)
{
	char record[128], uprecord[128], dir[128], up[64];
	struct server sv, upstream;

	tmp_name(record, sizeof(record), "record");
	tmp_name(uprecord, sizeof(uprecord), "uprecord");
	tmp_name(dir, sizeof(dir), "dir");
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	setenv("PYTHONPATH", FIXTURES, 1);
	setenv("PYHOST_DIR", dir, 1);
	setenv("PYHOST_RECORD", uprecord, 1);
	start_psmtpd(&upstream, "Store");
	snprintf(up, sizeof(up), "127.0.0.1:%d", upstream.port);
	setenv("PYHOST_UPSTREAM", up, 1);
	setenv("PYHOST_RECORD", record, 1);
	if (python)
		start_python(&sv, cls);
	else
		start_psmtpd(&sv, cls);
	for (size_t i = 0; i < sizeof(sessions) / sizeof(sessions[0]); i++) {
		char *p = payload(sessions[i]);
		r->replies[i] = normalize(exchange(sv.port, p));
		free(p);
	}
	stop(&sv);
	stop(&upstream);
	r->record = du_slurp(record);
	r->upstream = du_slurp(uprecord);
	unlink(record);
	unlink(uprecord);
	du_rmtree(dir);
}

static void
run_free(struct run *r)
{
	for (size_t i = 0; i < sizeof(sessions) / sizeof(sessions[0]); i++)
		free(r->replies[i]);
	free(r->record);
	free(r->upstream);
}

static bool
have_reference(void)
{
	return access(REFERENCE_PYTHON, X_OK) == 0 &&
	    system(REFERENCE_PYTHON " -W ignore -c 'import smtpd' "
	    "2>/dev/null") == 0;
}

/* Each class: the same replies, the same process_message arguments, the
 * same messages relayed. */
START_TEST(test_differential)
{
	struct run ref = { 0 }, got = { 0 };
	const char *cls = classes[_i];

	if (!have_reference())
		CHECK_SKIP("Python 3.11's smtpd (%s) is not installed",
		    REFERENCE_PYTHON);
	run_class(cls, true, &ref);
	run_class(cls, false, &got);
	for (size_t i = 0; i < sizeof(sessions) / sizeof(sessions[0]); i++)
		ck_assert_msg(strcmp(ref.replies[i], got.replies[i]) == 0,
		    "%s, session %zu:\n--- python\n%s\n--- psmtpd\n%s", cls, i,
		    ref.replies[i], got.replies[i]);
	ck_assert_ptr_nonnull(ref.record);
	ck_assert_msg(got.record != NULL && strcmp(ref.record,
	    got.record) == 0, "%s: process_message arguments:\n--- python\n"
	    "%s--- psmtpd\n%s", cls, ref.record, got.record ? got.record :
	    "(none)\n");
	ck_assert_msg((ref.upstream == NULL) == (got.upstream == NULL) &&
	    (ref.upstream == NULL || strcmp(ref.upstream, got.upstream) == 0),
	    "%s: relayed:\n--- python\n%s--- psmtpd\n%s", cls,
	    ref.upstream ? ref.upstream : "(none)\n",
	    got.upstream ? got.upstream : "(none)\n");
	if (strcmp(cls, "Forward") == 0)
		ck_assert_ptr_nonnull(got.upstream);
	run_free(&ref);
	run_free(&got);
}
END_TEST

/* A process_message that raises: Python's smtpd drops the connection;
 * psmtpd answers 451 (never 250), logs the traceback and goes on.  The
 * arguments are the same. */
START_TEST(test_raise)
{
	const char *payload = "HELO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"
	    "DATA\r\nSubject: boom\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n";
	char record[128], dir[128];
	struct server sv;

	if (!have_reference())
		CHECK_SKIP("Python 3.11's smtpd is not installed");
	tmp_name(record, sizeof(record), "record");
	tmp_name(dir, sizeof(dir), "dir");
	setenv("PYTHONPATH", FIXTURES, 1);
	setenv("PYHOST_RECORD", record, 1);
	start_python(&sv, "Raise");
	char *ref = exchange(sv.port, payload);
	stop(&sv);
	char *ref_record = du_slurp(record);
	unlink(record);
	start_psmtpd(&sv, "Raise");
	char *got = exchange(sv.port, payload);
	du_kill_wait(sv.pid, 10000);
	char *got_record = du_slurp(record);
	char *log = du_slurp(sv.err);
	ck_assert_msg(strstr(ref, "354 ") != NULL && strstr(ref, "250 OK\r\n"
	    "221") == NULL, "Python's smtpd: %s", ref);
	ck_assert_msg(strstr(got, "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "451 Requested action aborted: local error in processing\r\n"
	    "250 OK\r\n221 Bye\r\n") != NULL, "psmtpd: %s", got);
	ck_assert_msg(ref_record != NULL && got_record != NULL &&
	    strcmp(ref_record, got_record) == 0, "arguments:\n%s\n%s",
	    ref_record, got_record);
	ck_assert_msg(strstr(log, "Traceback (most recent call last)") &&
	    strstr(log, "pyhost_fixtures.py\", line") &&
	    strstr(log, "KeyError: 'missing'"), "no traceback:\n%s", log);
	unlink(record);
	unlink(sv.out);
	unlink(sv.err);
	free(ref);
	free(got);
	free(ref_record);
	free(got_record);
	free(log);
}
END_TEST

/* A thread that __init__ starts runs while the worker waits for a
 * client: the GIL is not held between hooks. */
START_TEST(test_threads)
{
	char ticks[128];
	struct server sv;
	int n = 0;

	tmp_name(ticks, sizeof(ticks), "ticks");
	setenv("PYTHONPATH", FIXTURES, 1);
	setenv("PYHOST_TICKS", ticks, 1);
	const char *argv[] = { TESTS_BUILDDIR "/psmtpd", "-n", "-c",
	    "pyhost_fixtures.Ticker", "-o", "pool.start=1", "-o",
	    "pool.min_spare=1", "-o", "pool.max_spare=1", "LOCAL", NULL };
	start(&sv, argv);
	/* 20 ticks take 0.4 s; a held GIL allows one.  The highest count
	 * seen: a read between the ticker's truncate and write finds none.
	 * Polled for up to 30 s (300 tries), for a loaded machine. */
	long long end = du_now_ms() + 30000;
	for (int i = 0; i < 300 && n < 20 && du_now_ms() < end; i++) {
		du_sleep_ms(100);
		char *t = du_slurp(ticks);
		int seen;
		if (t != NULL && sscanf(t, "%d", &seen) == 1 && seen > n)
			n = seen;
		free(t);
	}
	ck_assert_msg(n >= 20, "the thread ran %d ticks in 30 s", n);
	stop(&sv);
	unlink(ticks);
}
END_TEST

/* ---- start errors -------------------------------------------------------- */

static const struct {
	const char *cls;
	const char *expect;
} start_errors[] = {
	{ "pyhost_broken.Broken",
	  "tests/python/pyhost_broken.py:6: SyntaxError: expected ':'" },
	{ "pyhost_fixtures.Missing",
	  "tests/python/pyhost_fixtures.py: module pyhost_fixtures has no "
	  "class 'Missing'" },
	{ "pyhost_fixtures.NotAServer",
	  "tests/python/pyhost_fixtures.py:190: pyhost_fixtures.NotAServer is "
	  "not a subclass of smtpd.SMTPServer" },
	{ "no_such_module.Server",
	  "no Python module named 'no_such_module'" },
};

/* Broken Python code: -t says what and where, exit 1; so does a start. */
START_TEST(test_start_error)
{
	const char *t_args[] = { "-t", "-n", "-c", start_errors[_i].cls, NULL };
	const char *args[] = { "-n", "-c", start_errors[_i].cls,
	    "127.0.0.1:1", NULL };
	struct su_buf out = { 0 };

	setenv("PYTHONPATH", FIXTURES, 1);
	ck_assert_int_eq(du_run(t_args, &out), 1);
	su_buf_put(&out, "", 1);
	ck_assert_msg(strstr(out.p, start_errors[_i].expect) != NULL,
	    "-t -c %s:\n%s", start_errors[_i].cls, out.p);
	free(out.p);
	memset(&out, 0, sizeof(out));
	ck_assert_int_eq(du_run(args, &out), 1);
	su_buf_put(&out, "", 1);
	ck_assert_msg(strstr(out.p, start_errors[_i].expect) != NULL,
	    "-c %s:\n%s", start_errors[_i].cls, out.p);
	free(out.p);
}
END_TEST

/* ---- the config form, and SIGHUP ----------------------------------------- */

/* write_module - the hot-reload module, answering with its version. */
static void
write_module(const char *dir, const char *body)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/hot.py", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "import smtpd\nclass Server(smtpd.SMTPServer):\n"
	    "    def process_message(self, *args, **kwargs):\n%s", body);
	ck_assert_int_eq(fclose(f), 0);
}

static const char message_session[] = "HELO x\r\nMAIL FROM:<a@b>\r\n"
    "RCPT TO:<c@d>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n";

/* wait_reply - until a session gets the reply, at most 15 s. */
static bool
wait_reply(int port, const char *reply)
{
	for (int i = 0; i < 75; i++) {
		char *r = exchange(port, message_session);
		bool ok = strstr(r, reply) != NULL;
		free(r);
		if (ok)
			return true;
		du_sleep_ms(200);
	}
	return false;
}

/* `path` in the settings finds the module (no PYTHONPATH); SIGHUP
 * imports it again for the new generation; a broken edit is refused and
 * the running one keeps serving. */
START_TEST(test_config_reload)
{
	char dir[128], conf[256];
	struct server sv;

	tmp_name(dir, sizeof(dir), "hot");
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(conf, sizeof(conf), "%s/psmtpd.conf", dir);
	ck_assert_int_eq(du_write_config(conf, "pool = { start = 1; };\n"
	    "plugins = ( { name = \"python\"; settings = {\n"
	    "  class = \"hot.Server\"; path = [ \"%s\" ]; }; } );\n", dir), 0);
	write_module(dir, "        return '250 version one'\n");
	unsetenv("PYTHONPATH");
	const char *argv[] = { TESTS_BUILDDIR "/psmtpd", "-n", "-C", conf,
	    "LOCAL", NULL };
	start(&sv, argv);
	ck_assert(wait_reply(sv.port, "250 version one\r\n"));
	write_module(dir, "        return '250 version two'\n");
	ck_assert_int_eq(kill(sv.pid, SIGHUP), 0);
	ck_assert_msg(wait_reply(sv.port, "250 version two\r\n"),
	    "SIGHUP did not import the module again");
	write_module(dir, "        return '250 version three'\n  oops(\n");
	ck_assert_int_eq(kill(sv.pid, SIGHUP), 0);
	ck_assert(du_file_has(sv.err, "hot.py:5: ", 15000));
	ck_assert(wait_reply(sv.port, "250 version two\r\n"));
	stop(&sv);
	du_rmtree(dir);
}
END_TEST

/* A config error in the settings names the file and line. */
START_TEST(test_config_error)
{
	char dir[128], conf[256];
	struct su_buf out = { 0 };

	tmp_name(dir, sizeof(dir), "conf");
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(conf, sizeof(conf), "%s/psmtpd.conf", dir);
	ck_assert_int_eq(du_write_config(conf, "plugins = (\n"
	    "  { name = \"python\";\n    settings = { class = \"nodots\"; }; }"
	    ");\n"), 0);
	const char *args[] = { "-t", "-n", "-C", conf, NULL };
	ck_assert_int_eq(du_run(args, &out), 1);
	su_buf_put(&out, "", 1);
	ck_assert_msg(strstr(out.p, "psmtpd.conf:3: plugin python: setting "
	    "'class': wants module.Class") != NULL, "%s", out.p);
	free(out.p);
	du_rmtree(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("python_host");
	TCase *tc = tcase_create("python_host");

	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)getpid());
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_differential, 0,
	    (int)(sizeof(classes) / sizeof(classes[0])));
	tcase_add_test(tc, test_raise);
	tcase_add_test(tc, test_threads);
	tcase_add_loop_test(tc, test_start_error, 0,
	    (int)(sizeof(start_errors) / sizeof(start_errors[0])));
	tcase_add_test(tc, test_config_reload);
	tcase_add_test(tc, test_config_error);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
