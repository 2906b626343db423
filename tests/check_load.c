/*
 * check_load.c - a bounded load test through the maildir plugin: 200
 * concurrent sessions of 5 messages each against the real daemon.  Then
 * the count of delivered files must equal the count of 250 replies, each
 * message answered 250 must be there exactly once, and every file must be
 * byte-identical to what its client sent (as the channel hands it on:
 * lines joined by "\n", dots unstuffed; maildir adds the final "\n").
 */
#include "autoconfig.h"

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/hostile_util.h"

#define SESSIONS 200
#define MESSAGES 5
#define OP_MS 30000	/* one reply may take this long under load */

struct client {
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

/* check_file - the file is message i-m exactly once. */
static void
check_file(struct client *cls, int seen[SESSIONS][MESSAGES],
    const char *f, size_t len)
{
	int i, m;

	ck_assert_ptr_nonnull(f);
	ck_assert_msg(sscanf(f, "Message-Id: <load-%d-%d@", &i, &m) == 2 &&
	    i >= 0 && i < SESSIONS && m >= 0 && m < MESSAGES,
	    "unknown file: %.60s", f);
	ck_assert_msg(cls[i].accepted[m], "message %d-%d delivered without "
	    "250", i, m);
	ck_assert_msg(seen[i][m]++ == 0, "message %d-%d twice", i, m);
	char *text, *wire;
	size_t tlen, wlen;
	message_text(i, m, &text, &tlen, &wire, &wlen);
	ck_assert_msg(len == tlen + 1 && memcmp(f, text, tlen) == 0 &&
	    f[tlen] == '\n', "message %d-%d differs (%zu bytes, want %zu)",
	    i, m, len, tlen + 1);
	free(text);
	free(wire);
}

START_TEST(test_load)
{
	static struct client cls[SESSIONS];
	static pthread_t th[SESSIONS];
	static int seen[SESSIONS][MESSAGES];
	static char *files[SESSIONS * MESSAGES + 1];
	static size_t lens[SESSIONS * MESSAGES + 1];
	const char *opts[] = { "pool.start=40", "pool.min_spare=10",
	    "pool.max_spare=60", "pool.max_workers=200", "log.level=warning",
	    NULL };
	struct hu_daemon d;

	ck_assert_msg(hu_start(&d, opts) == 0, "psmtpd did not start");
	long long t0 = hu_now_ms();
	for (int i = 0; i < SESSIONS; i++) {
		cls[i] = (struct client){ .port = d.port, .index = i };
		ck_assert_int_eq(pthread_create(&th[i], NULL, client_run,
		    &cls[i]), 0);
	}
	int replies = 0, failed = 0;
	for (int i = 0; i < SESSIONS; i++) {
		pthread_join(th[i], NULL);
		replies += cls[i].replies250;
		if (cls[i].error[0] != '\0' && failed++ < 3)
			fprintf(stderr, "session %d: %s\n", i, cls[i].error);
	}
	fprintf(stderr, "load: %d sessions x %d messages, %d accepted in "
	    "%lld ms\n", SESSIONS, MESSAGES, replies, hu_now_ms() - t0);
	size_t n = hu_delivered(&d, files, lens, SESSIONS * MESSAGES + 1);
	ck_assert_msg(n == (size_t)replies, "%zu files for %d replies 250",
	    n, replies);
	for (size_t k = 0; k < n && k < SESSIONS * MESSAGES; k++) {
		check_file(cls, seen, files[k], lens[k]);
		free(files[k]);
	}
	int st = hu_stop(&d);
	ck_assert_msg(failed == 0, "%d sessions failed", failed);
	ck_assert_int_eq(replies, SESSIONS * MESSAGES);
	ck_assert_msg(st == 0, "daemon exit status %d", st);
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
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
