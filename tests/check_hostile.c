/*
 * check_hostile.c - hostile input against the real daemon on loopback:
 * SMTP smuggling variants, a 1 MiB line, NUL bytes, random junk, and the
 * limits that end abusive sessions (errors, recipients, command and DATA
 * timeouts, a byte-a-second client, the DATA size limit).  Each test
 * starts psmtpd on a free port with the maildir plugin and checks both
 * what the client was answered and what was delivered.  Also the
 * regression tests for what the fuzz targets found.
 */
#include "autoconfig.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtp_data.h"
#include "tests/daemon_util.h"

#define T_MS 10000	/* a reply that takes longer is a failure */

/* The output room smtp_data.h asks for beyond the input's size. */
#ifndef SMTP_DATA_SLACK
#define SMTP_DATA_SLACK 0
#endif

struct session {
	struct hu_daemon d;
	struct hu_conn c;
	char text[4096];
};

/* start - the daemon with opts and one connection, past the 220. */
static void
start(struct session *s, const char *const *opts)
{
	ck_assert_msg(hu_start(&s->d, opts) == 0, "psmtpd did not start");
	ck_assert_int_eq(hu_connect(&s->c, s->d.port), 0);
	ck_assert_int_eq(hu_reply(&s->c, s->text, sizeof(s->text), T_MS),
	    220);
}

static void
stop(struct session *s)
{
	hu_close(&s->c);
	hu_stop(&s->d);
}

/* expect - send a command, check the reply code. */
static void
expect(struct session *s, const char *cmd, int code)
{
	if (cmd != NULL)
		ck_assert_int_eq(hu_sendstr(&s->c, cmd), 0);
	int got = hu_reply(&s->c, s->text, sizeof(s->text), T_MS);
	ck_assert_msg(got == code, "after %s: want %d, got %d \"%s\"",
	    cmd != NULL ? cmd : "(input)", code, got, s->text);
}

/* envelope - HELO, MAIL, RCPT, DATA up to the 354. */
static void
envelope(struct session *s)
{
	expect(s, "HELO client.example\r\n", 250);
	expect(s, "MAIL FROM:<a@example.org>\r\n", 250);
	expect(s, "RCPT TO:<b@example.org>\r\n", 250);
	expect(s, "DATA\r\n", 354);
}

/* still_serving - a fresh connection gets a whole session. */
static void
still_serving(const struct hu_daemon *d)
{
	struct session s2 = { .d = *d };

	ck_assert_int_eq(hu_connect(&s2.c, d->port), 0);
	expect(&s2, NULL, 220);
	expect(&s2, "NOOP\r\n", 250);
	expect(&s2, "QUIT\r\n", 221);
	hu_close(&s2.c);
}

/* assert_delivered - exactly one file, holding want (maildir adds the
 * final "\n"). */
static void
assert_delivered(const struct hu_daemon *d, const char *want, size_t len)
{
	char *files[4];
	size_t lens[4];
	size_t n = hu_delivered(d, files, lens, 4);

	ck_assert_msg(n == 1, "%zu messages delivered, want 1", n);
	ck_assert_ptr_nonnull(files[0]);
	ck_assert_msg(lens[0] == len + 1 && memcmp(files[0], want, len) == 0 &&
	    files[0][len] == '\n', "delivered message differs (%zu bytes, "
	    "want %zu): \"%.80s\"", lens[0], len + 1, files[0]);
	free(files[0]);
}

/* The smuggling variants: none of them ends the message, so the "second
 * transaction" after them is part of the first message's text. */
static const struct {
	const char *mark;	/* sent after "a" */
	const char *text;	/* what the message holds there */
} smuggle[] = {
	{ "\n.\n", "a\n.\n" },
	{ "\r\n.\n", "a\n\n" },		/* ".\nMAIL" is a stuffed line */
	{ "\n.\r\n", "a\n.\n" },
	{ "\r.\r\n", "a\r.\n" },
};

START_TEST(test_smuggling)
{
	struct session s;
	const char *inner = "MAIL FROM:<evil@example.org>\r\n"
	    "RCPT TO:<victim@example.org>\r\nDATA\r\nsmuggled";
	char out[1024], want[1024];

	start(&s, NULL);
	envelope(&s);
	snprintf(out, sizeof(out), "Subject: t\r\n\r\na%s%s\r\n.\r\n",
	    smuggle[_i].mark, inner);
	ck_assert_int_eq(hu_sendstr(&s.c, out), 0);
	expect(&s, NULL, 250);
	expect(&s, "QUIT\r\n", 221);
	snprintf(want, sizeof(want), "Subject: t\n\n%sMAIL FROM:<evil@"
	    "example.org>\nRCPT TO:<victim@example.org>\nDATA\nsmuggled",
	    smuggle[_i].text);
	assert_delivered(&s.d, want, strlen(want));
	stop(&s);
}
END_TEST

/* A 1 MiB line: "500 Error: line too long" at its CRLF, the session goes
 * on; the same without a CRLF and a close leaves the server serving. */
START_TEST(test_long_line)
{
	struct session s;
	size_t n = 1 << 20;
	char *big = malloc(n);

	ck_assert_ptr_nonnull(big);
	memset(big, 'A', n);
	memcpy(big, "HELO ", 5);
	start(&s, NULL);
	ck_assert_int_eq(hu_send(&s.c, big, n, T_MS), 0);
	expect(&s, "\r\n", 500);
	ck_assert_str_eq(s.text, "500 Error: line too long");
	expect(&s, "NOOP\r\n", 250);
	hu_close(&s.c);
	ck_assert_int_eq(hu_connect(&s.c, s.d.port), 0);
	expect(&s, NULL, 220);
	ck_assert_int_eq(hu_send(&s.c, big, n, T_MS), 0);
	hu_close(&s.c);
	still_serving(&s.d);
	free(big);
	hu_stop(&s.d);
}
END_TEST

/* NUL bytes: in a command they are answered like any other byte; in a
 * message they are delivered as they are. */
START_TEST(test_nul_bytes)
{
	struct session s;
	static const char cmd[] = "NOOP \0x\r\n";
	static const char msg[] = "a\0b\r\n\0\r\n.\r\n";

	start(&s, NULL);
	ck_assert_int_eq(hu_send(&s.c, cmd, sizeof(cmd) - 1, T_MS), 0);
	int code = hu_reply(&s.c, s.text, sizeof(s.text), T_MS);
	ck_assert_msg(code == 250 || code == 501 || code == 500,
	    "NOOP with NUL: %d \"%s\"", code, s.text);
	envelope(&s);
	ck_assert_int_eq(hu_send(&s.c, msg, sizeof(msg) - 1, T_MS), 0);
	expect(&s, NULL, 250);
	expect(&s, "QUIT\r\n", 221);
	assert_delivered(&s.d, "a\0b\n\0", 5);
	stop(&s);
}
END_TEST

/* rnd - a small deterministic generator (xorshift). */
static unsigned
rnd(unsigned *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Random binary junk in pieces: every reply well formed, nothing
 * delivered, and then a normal session on another connection. */
START_TEST(test_junk)
{
	struct session s;
	unsigned x = 2463534242u + (unsigned)_i * 7919u;
	char junk[65536];

	start(&s, NULL);
	for (size_t i = 0; i < sizeof(junk); i++) {
		junk[i] = (char)rnd(&x);
		if (_i % 2 == 1 && rnd(&x) % 64 == 0)
			junk[i] = '\n';		/* many short lines */
	}
	ck_assert_int_eq(hu_send(&s.c, junk, sizeof(junk), T_MS), 0);
	ck_assert_int_eq(hu_sendstr(&s.c, "\r\nRSET\r\nQUIT\r\n"), 0);
	int code;
	for (int i = 0; i < 1000; i++) {
		code = hu_reply(&s.c, s.text, sizeof(s.text), T_MS);
		if (code == 221 || code == 421 || code < 0)
			break;
	}
	ck_assert_msg(code == 221 || code == 421, "last reply %d \"%s\"",
	    code, s.text);
	hu_close(&s.c);
	still_serving(&s.d);
	ck_assert_int_eq(hu_delivered(&s.d, NULL, NULL, 0), 0);
	hu_stop(&s.d);
}
END_TEST

START_TEST(test_max_errors)
{
	struct session s;
	const char *opts[] = { "limits.max_errors=3", NULL };

	start(&s, opts);
	expect(&s, "FOO\r\n", 500);
	expect(&s, "BAR\r\n", 500);
	expect(&s, "\r\n", 500);
	expect(&s, NULL, 421);
	ck_assert_msg(strstr(s.text, "too many errors") != NULL, "%s",
	    s.text);
	ck_assert(hu_closed(&s.c, T_MS));
	still_serving(&s.d);
	stop(&s);
}
END_TEST

START_TEST(test_max_recipients)
{
	struct session s;
	const char *opts[] = { "limits.max_recipients=2", NULL };

	start(&s, opts);
	expect(&s, "HELO x\r\n", 250);
	expect(&s, "MAIL FROM:<a@example.org>\r\n", 250);
	expect(&s, "RCPT TO:<b1@example.org>\r\n", 250);
	expect(&s, "RCPT TO:<b2@example.org>\r\n", 250);
	expect(&s, "RCPT TO:<b3@example.org>\r\n", 452);
	expect(&s, "DATA\r\n", 354);
	expect(&s, "x\r\n.\r\n", 250);
	expect(&s, "QUIT\r\n", 221);
	assert_delivered(&s.d, "x", 1);
	stop(&s);
}
END_TEST

/* An idle client gets 421 after timeouts.command and is closed. */
START_TEST(test_command_timeout)
{
	struct session s;
	const char *opts[] = { "timeouts.command=1", NULL };

	start(&s, opts);
	long long t0 = du_now_ms();
	expect(&s, NULL, 421);
	ck_assert_msg(strstr(s.text, "timeout") != NULL, "%s", s.text);
	ck_assert(hu_closed(&s.c, T_MS));
	long long took = du_now_ms() - t0;
	ck_assert_msg(took >= 500 && took < 4000, "421 after %lld ms", took);
	still_serving(&s.d);
	stop(&s);
}
END_TEST

/* send_slowly - one byte every interval_ms until the server answers or
 * the bytes run out; the time the answer took. */
static long long
send_slowly(struct session *s, const char *bytes, int interval_ms)
{
	long long t0 = du_now_ms();

	for (size_t i = 0; bytes[i] != '\0'; i++) {
		if (hu_send(&s->c, bytes + i, 1, T_MS) != 0)
			break;		/* closed on us: fine */
		int code = hu_reply(&s->c, s->text, sizeof(s->text),
		    interval_ms);
		if (code > 0)
			return code == 421 ? du_now_ms() - t0 : -code;
	}
	return -1;
}

/* A client that sends a byte a second never finishes a line; the
 * per-line deadline ends it at timeouts.command, not later. */
START_TEST(test_slow_command)
{
	struct session s;
	const char *opts[] = { "timeouts.command=2", NULL };

	start(&s, opts);
	long long took = send_slowly(&s, "NOOP NOOP NOOP NOOP NOOP\r\n", 500);
	ck_assert_msg(took > 0 && took < 4500, "slow client: %lld \"%s\"",
	    took, s.text);
	ck_assert(hu_closed(&s.c, T_MS));
	still_serving(&s.d);
	stop(&s);
}
END_TEST

/* In DATA, timeouts.data is the time allowed between two reads (issue
 * #10, defect 6): a byte every 300 ms for some 7 s is a slow but steady
 * sender, never cut off, and its message is delivered once; a sender
 * that stops gets 421 after timeouts.data (see pool_defend.c). */
START_TEST(test_slow_data)
{
	struct session s;
	const char *opts[] = { "timeouts.command=10", "timeouts.data=2",
	    NULL };

	start(&s, opts);
	envelope(&s);
	long long took = send_slowly(&s, "Subject: s\r\n\r\nslow\r\n.\r\n",
	    300);
	ck_assert_msg(took == -250, "slow data: %lld \"%s\"", took, s.text);
	ck_assert_int_eq(hu_delivered(&s.d, NULL, NULL, 0), 1);
	stop(&s);
}
END_TEST

/* timeouts.session bounds a whole session, however busy: a client that
 * sends a NOOP every 400 ms is ended with 421 at the limit. */
START_TEST(test_session_timeout)
{
	struct session s;
	const char *opts[] = { "timeouts.session=2", NULL };
	int code = 0;

	start(&s, opts);
	long long t0 = du_now_ms();
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(hu_sendstr(&s.c, "NOOP\r\n"), 0);
		code = hu_reply(&s.c, s.text, sizeof(s.text), T_MS);
		if (code != 250)
			break;
		usleep(400 * 1000);
	}
	long long took = du_now_ms() - t0;
	ck_assert_msg(code == 421, "want 421, got %d \"%s\"", code, s.text);
	ck_assert_msg(took >= 1500 && took < 4500, "421 after %lld ms", took);
	ck_assert(hu_closed(&s.c, T_MS));
	still_serving(&s.d);
	stop(&s);
}
END_TEST

/* Over the DATA size limit: 552, nothing delivered, and the session is
 * back in command state (a new MAIL is not "nested"). */
START_TEST(test_data_size_limit)
{
	struct session s;
	const char *opts[] = { "data_size_limit=100", NULL };
	char big[400];

	memset(big, 'x', sizeof(big));
	memcpy(big + sizeof(big) - 6, "\r\n.\r\n", 6);
	start(&s, opts);
	envelope(&s);
	ck_assert_int_eq(hu_sendstr(&s.c, big), 0);
	expect(&s, NULL, 552);
	ck_assert_str_eq(s.text, "552 Error: Too much mail data");
	expect(&s, "MAIL FROM:<a@example.org>\r\n", 250);
	expect(&s, "RCPT TO:<b@example.org>\r\n", 250);
	expect(&s, "DATA\r\n", 354);
	expect(&s, "small\r\n.\r\n", 250);
	expect(&s, "QUIT\r\n", 221);
	assert_delivered(&s.d, "small", 5);
	stop(&s);
}
END_TEST

/* Found by fuzz_channel: VRFY echoed its argument, bare LF and all, so
 * "VRFY @\n250 fake" made the server send a second, client-chosen reply
 * line.  Every reply must be one line per reply (hu_reply fails on a bare
 * CR or LF) and the next command must get its own reply. */
START_TEST(test_vrfy_reply_injection)
{
	struct session s;

	start(&s, NULL);
	expect(&s, "HELO x\r\n", 250);
	ck_assert_int_eq(hu_sendstr(&s.c, "VRFY @\n250 fake\r\n"), 0);
	int code = hu_reply(&s.c, s.text, sizeof(s.text), T_MS);
	ck_assert_msg(code == 502 || code == 501 || code == 252,
	    "VRFY: %d \"%s\"", code, s.text);
	ck_assert_int_eq(hu_sendstr(&s.c, "VRFY <a\rb@c>\r\n"), 0);
	code = hu_reply(&s.c, s.text, sizeof(s.text), T_MS);
	ck_assert_msg(code == 502 || code == 501 || code == 252,
	    "VRFY: %d \"%s\"", code, s.text);
	expect(&s, "NOOP\r\n", 250);
	stop(&s);
}
END_TEST

/* Found by fuzz_smtp_data: a CRLF or ".\r" left pending at the end of one
 * feed is emitted in the next, so a feed could write up to two bytes more
 * than its input, past the room smtp_data.h asked for (and the channel
 * gave: channel_data_room(avail)).  Either the decoder keeps within its
 * input, or the header names the slack as SMTP_DATA_SLACK. */
START_TEST(test_data_output_bounded)
{
	static const char *const pieces[][2] = {
		{ "a\r\n", "b" },	/* pending "\n", then "b" */
		{ "a\r\n.\r", "x" },	/* "\n", "\r", then "x" */
		{ "a\r", "b" },		/* pending CR, then "b" */
	};
	char out[64];

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		struct smtp_data sd;
		size_t produced, used;
		smtp_data_init(&sd, 0);
		for (int k = 0; k < 2; k++) {
			size_t n = strlen(pieces[i][k]);
			used = smtp_data_feed(&sd, pieces[i][k], n, out,
			    &produced);
			ck_assert_uint_eq(used, n);
			ck_assert_msg(produced <= used + SMTP_DATA_SLACK,
			    "case %zu feed %d: %zu bytes out of %zu in", i, k,
			    produced, used);
		}
	}
}
END_TEST

/* The same bug in the daemon: a read that ends in "\r\n.\r" followed by
 * one that fills the message buffer exactly wrote one byte past it (seen
 * as a crash under ASan).  Read boundaries are made with pauses. */
START_TEST(test_data_buffer_boundary)
{
	struct session s;
	size_t a = 60000, b = 65536 - (a - 4) - 1;
	char *p = malloc(a + b);
	char *want = malloc(a + b);

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(want);
	memset(p, 'y', a - 4);
	memcpy(p + a - 4, "\r\n.\r", 4);
	memset(p + a, 'z', b);
	start(&s, NULL);
	envelope(&s);
	ck_assert_int_eq(hu_send(&s.c, p, a, T_MS), 0);
	usleep(300 * 1000);
	ck_assert_int_eq(hu_send(&s.c, p + a, b, T_MS), 0);
	usleep(300 * 1000);
	expect(&s, "\r\n.\r\n", 250);
	expect(&s, "QUIT\r\n", 221);
	memset(want, 'y', a - 4);
	memcpy(want + a - 4, "\n\r", 2);
	memset(want + a - 2, 'z', b);
	assert_delivered(&s.d, want, a - 2 + b);
	stop(&s);
	free(p);
	free(want);
}
END_TEST

static Suite *
hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("input");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_smuggling, 0,
	    sizeof(smuggle) / sizeof(smuggle[0]));
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_nul_bytes);
	tcase_add_loop_test(tc, test_junk, 0, 4);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_max_errors);
	tcase_add_test(tc, test_max_recipients);
	tcase_add_test(tc, test_command_timeout);
	tcase_add_test(tc, test_slow_command);
	tcase_add_test(tc, test_slow_data);
	tcase_add_test(tc, test_session_timeout);
	tcase_add_test(tc, test_data_size_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("regressions");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_vrfy_reply_injection);
	tcase_add_test(tc, test_data_output_bounded);
	tcase_add_test(tc, test_data_buffer_boundary);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	SRunner *sr = srunner_create(hostile_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
