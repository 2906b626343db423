/*
 * check_channel.c - the channel against golden transcripts made by
 * Python 3.11's smtpd (tests/gen_session_refs.py): each tests/sessions/
 * NAME.in is sent over a socketpair to channel_serve(), and the replies,
 * plus one line per message process_message received, must equal NAME.ref.
 */
#include "autoconfig.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include "plugin_loader.h"
#include "tests/check_run.h"
#include "tests/session_util.h"

#ifndef TESTS_SRCDIR
#define TESTS_SRCDIR "tests"
#endif

#define MAX_SESSIONS 256

static char *session_names[MAX_SESSIONS];
static int nsessions;

/* The recording plugin writes here; set in the child before serving. */
static int record_fd = -1;

static void
record_list(struct su_buf *b, size_t n, const char *(*at)(
    const psmtpd_session *, size_t), const psmtpd_session *s)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			su_buf_put(b, ",", 1);
		const char *v = at(s, i);
		su_escape(b, v, strlen(v));
	}
}

/* record_params - the parameters as sent (API 2), only where Python has
 * nothing like them, so that its transcripts stay as they are: MAIL's
 * when one differs from its upper-cased form, each recipient's when any
 * recipient has some. */
static void
record_params(struct su_buf *b, const psmtpd_session *s)
{
	size_t n = psmtpd_session_mail_param_count(s), nr = 0;
	bool raw = false;

	for (size_t j = 0; j < n; j++)
		raw |= strcmp(psmtpd_session_mail_param(s, j),
		    psmtpd_session_mail_option(s, j)) != 0;
	for (size_t j = 0; raw && j < n; j++) {
		su_buf_puts(b, j ? "," : " mail_params=");
		su_buf_puts(b, psmtpd_session_mail_param(s, j));
	}
	for (size_t i = 0; i < psmtpd_session_rcpt_count(s); i++)
		nr += psmtpd_session_rcpt_param_count(s, i);
	if (nr > 0)
		su_buf_puts(b, " rcpt_params=");
	for (size_t i = 0; nr > 0 && i < psmtpd_session_rcpt_count(s); i++) {
		su_buf_puts(b, "[");
		for (size_t j = 0; j < psmtpd_session_rcpt_param_count(s, i);
		    j++) {
			su_buf_puts(b, j ? " " : "");
			su_buf_puts(b, psmtpd_session_rcpt_param(s, i, j));
		}
		su_buf_puts(b, "]");
	}
}

/* record_verdicts - a message whose first line is "X-Verdicts: A|B|..."
 * gets those per-recipient verdicts (LMTP; an empty one leaves that
 * recipient to the message's reply). */
static void
record_verdicts(psmtpd_session *s, const char *msg)
{
	static const char tag[] = "X-Verdicts: ";
	char buf[512];

	if (strncmp(msg, tag, sizeof(tag) - 1) != 0)
		return;
	snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(msg, "\n") -
	    (int)(sizeof(tag) - 1), msg + sizeof(tag) - 1);
	char *p = buf;
	for (size_t i = 0; p != NULL; i++) {
		char *bar = strchr(p, '|');
		if (bar != NULL)
			*bar = '\0';
		if (*p != '\0')
			ck_assert_int_eq(psmtpd_reply_rcpt(s, i, "%s", p), 0);
		p = bar != NULL ? bar + 1 : NULL;
	}
}

static enum psmtpd_result
record_message(psmtpd_session *s, void *data)
{
	struct su_buf b = { 0 };
	size_t len;
	const char *msg = psmtpd_message_data(s, &len);
	const char *from = psmtpd_session_mailfrom(s);

	(void)data;
	su_buf_puts(&b, "-- message from=");
	su_escape(&b, from, strlen(from));
	su_buf_puts(&b, " to=");
	record_list(&b, psmtpd_session_rcpt_count(s), psmtpd_session_rcpt, s);
	su_buf_puts(&b, " mail_options=");
	if (!psmtpd_session_decode_data(s))
		record_list(&b, psmtpd_session_mail_option_count(s),
		    psmtpd_session_mail_option, s);
	su_buf_puts(&b, " rcpt_options=");
	if (!psmtpd_session_decode_data(s))
		record_list(&b, psmtpd_session_rcpt_option_count(s),
		    psmtpd_session_rcpt_option, s);
	record_params(&b, s);
	record_verdicts(s, msg);
	su_buf_puts(&b, " data=");
	su_escape(&b, msg, len);
	su_buf_puts(&b, "\n");
	ck_assert_int_eq(write(record_fd, b.p, b.len), (ssize_t)b.len);
	free(b.p);
	return PSMTPD_CONTINUE;
}

static const struct psmtpd_plugin record_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "record",
	.version = "1",
	.process_message = record_message,
};

/* run_session - serve the payload in a child, return the normalized
 * transcript. */
static char *
run_session(const struct su_session *ss)
{
	int sv[2];
	char tmpl[] = "/tmp/check_channel.XXXXXX";
	int rec = mkstemp(tmpl);

	ck_assert_int_ge(rec, 0);
	unlink(tmpl);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct channel_params p = su_params(&ss->opts);
		const struct psmtpd_plugin *list[] = { &record_plugin };
		char err[256];
		struct plugin_set *set = plugin_set_builtin(list, 1, "FQDN",
		    err, sizeof(err));
		close(sv[0]);
		record_fd = rec;
		if (set == NULL)
			_exit(3);
		channel_serve(&p, set, sv[1], NULL, 0, NULL, NULL);
		plugin_set_free(set);
		_exit(0);
	}
	close(sv[1]);
	struct su_buf replies = { 0 };
	ck_assert_int_eq(su_exchange(sv[0], ss->payload, ss->len, &replies,
	    10), 0);
	close(sv[0]);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "channel child failed: status %d", status);
	char *out = su_normalize(&replies, rec);
	close(rec);
	free(replies.p);
	return out;
}

START_TEST(test_session)
{
	char path[1024];
	struct su_session ss;

	snprintf(path, sizeof(path), "%s/sessions/%s.in", TESTS_SRCDIR,
	    session_names[_i]);
	ck_assert_msg(su_read_session(path, &ss) == 0, "cannot read %s", path);
	char *got = run_session(&ss);
	snprintf(path, sizeof(path), "%s/sessions/%s.ref", TESTS_SRCDIR,
	    session_names[_i]);
	char *want = su_read_file(path);
	ck_assert_msg(want != NULL, "cannot read %s", path);
	ck_assert_msg(strcmp(got, want) == 0,
	    "session %s differs from the reference\n--- want\n%s--- got\n%s",
	    session_names[_i], want, got);
	free(got);
	free(want);
	free(ss.payload);
}
END_TEST

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* list_sessions - every NAME.in of the sessions directory. */
static void
list_sessions(void)
{
	DIR *d = opendir(TESTS_SRCDIR "/sessions");

	if (d == NULL)
		return;
	for (struct dirent *e; (e = readdir(d)) != NULL &&
	    nsessions < MAX_SESSIONS;) {
		size_t n = strlen(e->d_name);
		if (n > 3 && strcmp(e->d_name + n - 3, ".in") == 0)
			session_names[nsessions++] = strndup(e->d_name, n - 3);
	}
	closedir(d);
	qsort(session_names, (size_t)nsessions, sizeof(char *), cmp_names);
}

int
main(void)
{
	Suite *s = suite_create("channel");
	TCase *tc = tcase_create("sessions");

	log_init(LOG_DEST_STDERR, LOG_MAIL, LOG_WARNING, "check_channel");
	signal(SIGPIPE, SIG_IGN);
	list_sessions();
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_session, 0, nsessions);
	suite_add_tcase(s, tc);
	int status = check_run_suite(s);
	for (int i = 0; i < nsessions; i++)
		free(session_names[i]);
	/* no transcripts found is a broken tree, not a pass */
	return nsessions > 0 ? status : EXIT_FAILURE;
}
