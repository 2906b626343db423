/*
 * check_delivery_lmtp.c - the lmtp plugin's hooks called directly, against
 * a scripted LMTP server on loopback: one reply per recipient after the
 * data, each its verdict; failures, hangs; recipients that have a verdict
 * from an earlier plugin left out.
 */
#include "../plugins/lmtp/lmtp.c"

#include <check.h>

#include "delivery_testutil.h"
#include "relay_hooks.h"

/* ---- against a scripted LMTP server -------------------------------------- */

static const char *const lm_rcpts[] = { "alice", "bob", NULL };

static const struct {
	struct fake_script sc;
	int codes[4];		/* MAIL, RCPT, RCPT, the data (0: verdicts) */
	const char *verdict[2];	/* of the session's recipients */
	const char *sent;
} lm_cases[] = {
	{ { .end = "250 2.0.0 <alice> Saved\n250 2.0.0 <bob> Saved" },
	    { 250, 250, 250, 0 }, { "250 2.0.0 <alice> Saved",
	    "250 2.0.0 <bob> Saved" }, "LHLO mx.example.org\r\nMAIL FROM:"
	    "<a@example.org>\r\nRCPT TO:<alice>\r\nRCPT TO:<bob>\r\nDATA\r\n"
	    "Subject: x\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n" },
	/* an unknown user refused at RCPT time, with the server's reply */
	{ { .rcpt = { "550 5.1.1 <alice> User doesn't exist" },
	    .end = "250 2.0.0 <bob> Saved" }, { 250, 550, 250, 0 },
	    { "250 2.0.0 <bob> Saved", "" }, "RCPT TO:<bob>\r\nDATA\r\n" },
	/* each recipient's reply after the data is its verdict */
	{ { .end = "250 2.0.0 <alice> Saved\n452 4.2.2 <bob> Quota" },
	    { 250, 250, 250, 0 }, { "250 2.0.0 <alice> Saved",
	    "452 4.2.2 <bob> Quota" }, "" },
	{ { .end = "550 5.7.1 <alice> no\n554 5.7.1 <bob> no" },
	    { 250, 250, 250, 0 }, { "550 5.7.1 <alice> no",
	    "554 5.7.1 <bob> no" }, "" },
	/* garbage or silence after the data: those recipients 451 */
	{ { .end = "250 2.0.0 <alice> Saved\nHANG" }, { 250, 250, 250, 0 },
	    { "250 2.0.0 <alice> Saved", "451 4.4.2 Error: LMTP server failed "
	    "at DATA (reply does not parse)" }, "" },
	{ { .end = "HANG" }, { 250, 250, 250, 0 }, { "451 4.4.2 Error: LMTP "
	    "server timed out at DATA", "451 4.4.2" }, "" },
	{ { .end = "421 4.3.2 shutting down" }, { 250, 250, 250, 0 },
	    { "451 4.3.2 shutting down", "451 4.4.2 Error: LMTP server closing "
	    "(421)" }, "" },
	/* unreachable at MAIL */
	{ { .greeting = "HANG" }, { 451, 0, 0, 0 }, { "", "" }, "" },
	/* DATA refused: the message refused as a whole */
	{ { .data = "451 4.3.0 later" }, { 250, 250, 250, 451 }, { "", "" },
	    "DATA\r\nQUIT" },
};

START_TEST(test_lmtp)
{
	struct rh_fixture fx;
	struct psmtpd_session s;
	struct stub_setting set[] = {
		{ .key = "address", .type = STUB_STR, .str = fx.remote },
		{ .key = "reply_timeout", .type = STUB_INT, .num = 1 },
		{ .key = NULL },
	};
	int codes[4];

	rh_start(&fx, &psmtpd_plugin, &lm_cases[_i].sc, set);
	stub_session(&s, "a@example.org", lm_rcpts, "Subject: x\n\n.dot\n"
	    "body\n");
	long long t0 = delivery_now_ms();
	rh_run(&psmtpd_plugin, fx.pd, &s, lm_rcpts, codes);
	ck_assert_int_lt(delivery_now_ms() - t0, 4000);
	char *sent = rh_stop(&fx);
	for (int i = 0; i < 4; i++)
		ck_assert_msg(codes[i] == lm_cases[_i].codes[i], "step %d: "
		    "%d, reply: %s", i, codes[i], s.reply);
	for (int i = 0; i < 2; i++)
		ck_assert_msg(strncmp(s.verdicts[i], lm_cases[_i].verdict[i],
		    strlen(lm_cases[_i].verdict[i])) == 0 &&
		    (s.verdicts[i][0] != '\0') == (lm_cases[_i].verdict[i][0] !=
		    '\0'), "verdict %d: %s", i, s.verdicts[i]);
	ck_assert_msg(strstr(sent, lm_cases[_i].sent) != NULL, "sent: %s",
	    sent);
	free(sent);
	rh_end(&fx);
}
END_TEST

/* An earlier plugin gave alice a verdict after the LMTP server took
 * her: the envelope is replayed with bob only, and only bob gets the
 * server's verdict. */
START_TEST(test_open_only)
{
	struct rh_fixture fx;
	struct psmtpd_session s;
	struct stub_setting set[] = {
		{ .key = "address", .type = STUB_STR, .str = fx.remote },
		{ .key = NULL },
	};
	struct fake_script sc = { .end = "250 2.0.0 <bob> Saved" };

	rh_start(&fx, &psmtpd_plugin, &sc, set);
	stub_session(&s, "a@example.org", lm_rcpts, "Subject: x\n\nbody\n");
	ck_assert_int_eq(psmtpd_plugin.on_mail(&s, s.mailfrom, fx.pd),
	    PSMTPD_CONTINUE);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(psmtpd_plugin.on_rcpt(&s, lm_rcpts[i], fx.pd),
		    PSMTPD_CONTINUE);
	snprintf(s.verdicts[0], sizeof(s.verdicts[0]), "550 5.7.1 not her");
	ck_assert_int_eq(psmtpd_plugin.process_message(&s, fx.pd),
	    PSMTPD_REPLY);
	stub_txn_end(&s);
	char *sent = rh_stop(&fx);
	ck_assert_str_eq(s.verdicts[0], "550 5.7.1 not her");
	ck_assert_str_eq(s.verdicts[1], "250 2.0.0 <bob> Saved");
	ck_assert_msg(strstr(sent, "RSET\r\nMAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<bob>\r\nDATA\r\n") != NULL, "sent: %s", sent);
	free(sent);
	rh_end(&fx);
}
END_TEST

static const struct {
	struct stub_setting set[3];
	const char *error;
} lm_bad_cases[] = {
	{ { { .key = NULL } }, "(plugin): the setting address is required" },
	{ { { .key = "address", .type = STUB_STR, .str = "unix:rel" } },
	    "address: bad address \"unix:rel\"" },
	{ { { .key = "address", .type = STUB_STR, .str = "host" } },
	    "address: bad address" },
	{ { { .key = "address", .type = STUB_STR, .str = "h:24" },
	    { .key = "reply_timeout", .type = STUB_INT, .num = 0 } },
	    "reply_timeout: reply_timeout must be" },
};

START_TEST(test_bad_settings)
{
	rh_init_fails(&psmtpd_plugin, lm_bad_cases[_i].set, "localhost:25",
	    lm_bad_cases[_i].error);
}
END_TEST

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static Suite *
lmtp_suite(void)
{
	Suite *s = suite_create("delivery_lmtp");
	TCase *tc = tcase_create("lmtp");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_open_only);
	tcase_add_loop_test(tc, test_lmtp, 0, NELEM(lm_cases));
	tcase_add_loop_test(tc, test_bad_settings, 0, NELEM(lm_bad_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run_suite(lmtp_suite());
}
