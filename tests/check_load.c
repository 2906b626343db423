/*
 * check_load.c - a bounded load test through the maildir plugin: 200
 * concurrent sessions of 5 messages each against the real daemon.  Then
 * the count of delivered files must equal the count of 250 replies, each
 * message answered 250 must be there exactly once, and every file must be
 * byte-identical to what its client sent (as the channel hands it on:
 * lines joined by "\n", dots unstuffed; maildir adds the final "\n").
 * The same with a SIGHUP (reload) and a SIGTERM (stop) in the middle of
 * the load: nothing answered 250 is ever lost.
 */
#include "autoconfig.h"

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/daemon_util.h"

#define SESSIONS 200
#define MESSAGES 5
#define OP_MS 30000	/* one reply may take this long under load */

struct client {
	int *progress;		/* messages accepted by all clients */
	int port;
	int index;
	int accepted[MESSAGES];	/* 250 for message m */
	int replies250;		/* 250s to messages */
	int last;		/* the last reply's code */
	char error[256];
};

/* message_text - message m of session i as the plugin must see it, and
 * its wire form (CRLF, dot-stuffed, end marker).  Sizes from ~100 bytes
 * to ~20 KiB; some lines begin with dots. */
static void
message_text(int i, int m, char **text, size_t *tlen, char **wire,
    size_t *wlen)
{
	int lines = 2 + ((i * MESSAGES + m) * 37) % 300;
	size_t cap = 256 + (size_t)lines * 80;
	char *t = malloc(cap), *w = malloc(2 * cap);
	size_t tn, wn = 0;

	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(w);
	tn = (size_t)snprintf(t, cap, "Message-Id: <load-%d-%d@test>\n"
	    "Subject: load %d/%d\n", i, m, i, m);
	for (int l = 0; l < lines; l++) {
		const char *lead = l % 11 == 3 ? "." : l % 13 == 5 ? ".." : "";
		tn += (size_t)snprintf(t + tn, cap - tn, "\n%sline %d of "
		    "message %d-%d: the quick brown fox", lead, l, i, m);
	}
	/* the wire form: split on "\n", stuff, CRLF */
	for (size_t p = 0; p <= tn;) {
		const char *nl = memchr(t + p, '\n', tn - p);
		size_t len = nl != NULL ? (size_t)(nl - (t + p)) : tn - p;
		if (len > 0 && t[p] == '.')
			w[wn++] = '.';
		memcpy(w + wn, t + p, len);
		wn += len;
		memcpy(w + wn, "\r\n", 2);
		wn += 2;
		p += len + 1;
	}
	memcpy(w + wn, ".\r\n", 3);
	*text = t;
	*tlen = tn;
	*wire = w;
	*wlen = wn + 3;
}

/* client_step - send cmd (if any), want code; false with error set. */
static bool
client_step(struct client *cl, struct hu_conn *c, const char *cmd,
    size_t len, int want)
{
	char text[1024];

	if (cmd != NULL && hu_send(c, cmd, len, OP_MS) != 0) {
		snprintf(cl->error, sizeof(cl->error), "send failed");
		return false;
	}
	int code = hu_reply(c, text, sizeof(text), OP_MS);
	cl->last = code;
	if (code != want) {
		snprintf(cl->error, sizeof(cl->error),
		    "want %d got %d \"%.200s\"", want, code, text);
		return false;
	}
	return true;
}

#define STEP(cmd, want) client_step(cl, &c, cmd, strlen(cmd), want)

/* client_run - one session: EHLO, five messages, QUIT. */
static void *
client_run(void *arg)
{
	struct client *cl = arg;
	struct hu_conn c;

	if (hu_connect(&c, cl->port) != 0) {
		snprintf(cl->error, sizeof(cl->error), "connect failed");
		return NULL;
	}
	if (!client_step(cl, &c, NULL, 0, 220) || !STEP("EHLO load\r\n", 250))
		goto out;
	for (int m = 0; m < MESSAGES; m++) {
		char *text, *wire;
		size_t tlen, wlen;
		if (!STEP("MAIL FROM:<load@example.org>\r\n", 250) ||
		    !STEP("RCPT TO:<sink@example.org>\r\n", 250) ||
		    !STEP("DATA\r\n", 354))
			goto out;
		message_text(cl->index, m, &text, &tlen, &wire, &wlen);
		bool ok = client_step(cl, &c, wire, wlen, 250);
		cl->accepted[m] = cl->last == 250;
		cl->replies250 += cl->accepted[m];
		__atomic_add_fetch(cl->progress, cl->accepted[m],
		    __ATOMIC_RELAXED);
		free(text);
		free(wire);
		if (!ok)
			goto out;
	}
	STEP("QUIT\r\n", 221);
out:
	hu_close(&c);
	return NULL;
}

/* check_file - the file is message i-m, exactly once, as sent; 1 when
 * its client got a 250 for it (always, with exact). */
static int
check_file(struct client *cls, int seen[SESSIONS][MESSAGES],
    const char *f, size_t len, bool exact)
{
	int i, m;

	ck_assert_ptr_nonnull(f);
	ck_assert_msg(sscanf(f, "Message-Id: <load-%d-%d@", &i, &m) == 2 &&
	    i >= 0 && i < SESSIONS && m >= 0 && m < MESSAGES,
	    "unknown file: %.60s", f);
	ck_assert_msg(!exact || cls[i].accepted[m], "message %d-%d delivered "
	    "without 250", i, m);
	ck_assert_msg(seen[i][m]++ == 0, "message %d-%d twice", i, m);
	char *text, *wire;
	size_t tlen, wlen;
	message_text(i, m, &text, &tlen, &wire, &wlen);
	ck_assert_msg(len == tlen + 1 && memcmp(f, text, tlen) == 0 &&
	    f[tlen] == '\n', "message %d-%d differs (%zu bytes, want %zu)",
	    i, m, len, tlen + 1);
	free(text);
	free(wire);
	return cls[i].accepted[m];
}

struct load {
	struct hu_daemon d;
	int sessions;
	struct client cls[SESSIONS];
	pthread_t th[SESSIONS];
	int seen[SESSIONS][MESSAGES];
	char *files[SESSIONS * MESSAGES + 1];
	size_t lens[SESSIONS * MESSAGES + 1];
	int replies, failed;
	int progress;
	long long t0;
};

/* load_start - the daemon, then one client thread per session. */
static void
load_start(struct load *l, int sessions)
{
	const char *opts[] = { "pool.start=40", "pool.min_spare=10",
	    "pool.max_spare=60", "pool.max_workers=200", "log.level=warning",
	    "timeouts.shutdown=20", NULL };

	memset(l, 0, sizeof(*l));
	l->sessions = sessions;
	ck_assert_msg(hu_start(&l->d, opts) == 0, "psmtpd did not start");
	l->t0 = du_now_ms();
	for (int i = 0; i < sessions; i++) {
		l->cls[i] = (struct client){ .port = l->d.port, .index = i,
		    .progress = &l->progress };
		ck_assert_int_eq(pthread_create(&l->th[i], NULL, client_run,
		    &l->cls[i]), 0);
	}
}

/* load_signal - sig to the daemon once n messages are accepted, so
 * that it lands in the middle of the load (bounded wait). */
static void
load_signal(struct load *l, int n, int sig)
{
	long long end = du_now_ms() + OP_MS;

	while (__atomic_load_n(&l->progress, __ATOMIC_RELAXED) < n &&
	    du_now_ms() < end)
		usleep(1000);
	ck_assert_int_eq(kill(l->d.pid, sig), 0);
	fprintf(stderr, "signal %d after %d messages\n", sig,
	    __atomic_load_n(&l->progress, __ATOMIC_RELAXED));
}

/* load_join - every client done (each bounded by OP_MS per reply). */
static void
load_join(struct load *l, const char *what)
{
	for (int i = 0; i < l->sessions; i++) {
		pthread_join(l->th[i], NULL);
		l->replies += l->cls[i].replies250;
		if (l->cls[i].error[0] != '\0' && l->failed++ < 3)
			fprintf(stderr, "%s: session %d: %s\n", what, i,
			    l->cls[i].error);
	}
	fprintf(stderr, "%s: %d sessions x %d messages, %d accepted in "
	    "%lld ms\n", what, l->sessions, MESSAGES, l->replies,
	    du_now_ms() - l->t0);
}

/* load_verify - every message answered 250 was delivered once and is
 * byte-identical; with exact, nothing else was delivered either (a
 * worker stopped between delivery and its 250 may leave one more). */
static void
load_verify(struct load *l, bool exact)
{
	size_t max = SESSIONS * MESSAGES + 1;
	size_t n = hu_delivered(&l->d, l->files, l->lens, max);
	int found = 0;

	ck_assert_msg(exact ? n == (size_t)l->replies : n >= (size_t)
	    l->replies, "%zu files for %d replies 250", n, l->replies);
	for (size_t k = 0; k < n && k < max - 1; k++) {
		found += check_file(l->cls, l->seen, l->files[k], l->lens[k],
		    exact);
		free(l->files[k]);
	}
	ck_assert_int_eq(found, l->replies);
}

START_TEST(test_load)
{
	static struct load l;

	load_start(&l, SESSIONS);
	load_join(&l, "load");
	load_verify(&l, true);
	int st = hu_stop(&l.d);
	ck_assert_msg(l.failed == 0, "%d sessions failed", l.failed);
	ck_assert_int_eq(l.replies, SESSIONS * MESSAGES);
	ck_assert_msg(st == 0, "daemon exit status %d", st);
}
END_TEST

/* SIGHUP under load: a graceful reload loses no session and no message. */
START_TEST(test_sighup_under_load)
{
	static struct load l;

	load_start(&l, SESSIONS / 2);
	load_signal(&l, 100, SIGHUP);
	load_join(&l, "sighup");
	load_verify(&l, true);
	ck_assert_msg(l.failed == 0, "%d sessions failed", l.failed);
	ck_assert_int_eq(l.replies, SESSIONS / 2 * MESSAGES);
	struct hu_conn c;
	char text[512];
	ck_assert_int_eq(hu_connect(&c, l.d.port), 0);
	ck_assert_int_eq(hu_reply(&c, text, sizeof(text), OP_MS), 220);
	hu_close(&c);
	ck_assert_int_eq(hu_stop(&l.d), 0);
}
END_TEST

/* SIGTERM under load: the daemon stops within timeouts.shutdown, and
 * every message that was answered 250 is in the maildir. */
START_TEST(test_sigterm_under_load)
{
	static struct load l;

	load_start(&l, SESSIONS / 2);
	load_signal(&l, 100, SIGTERM);
	int st = hu_wait(&l.d, 30000);
	load_join(&l, "sigterm");
	ck_assert_msg(st == 0, "daemon exit status %d after SIGTERM", st);
	ck_assert_msg(l.replies > 0, "SIGTERM came before any message");
	load_verify(&l, false);
	hu_stop(&l.d);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("load");
	TCase *tc = tcase_create("maildir");

	signal(SIGPIPE, SIG_IGN);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_sighup_under_load);
	tcase_add_test(tc, test_sigterm_under_load);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
