/*
 * check_smtp_dsn.c - the DSN parameters of RFC 3461 (src/smtp_dsn.c):
 * xtext, RET, ENVID, NOTIFY, ORCPT, duplicates.
 */
#include "autoconfig.h"

#include <check.h>
#include <string.h>

#include "smtp_dsn.h"
#include "tests/check_run.h"

static const struct {
	const char *s;
	bool valid;
} xtexts[] = {
	{ "QQ314159", true }, { "a+2Bb", true }, { "!~", true },
	{ "", false }, { "a b", false }, { "a=b", false }, { "a+", false },
	{ "a+2", false }, { "a+2b", false }, { "a+GG", false },
	{ "\xc3\xa9", false },
};

START_TEST(test_xtext)
{
	ck_assert(smtp_xtext_valid(xtexts[_i].s, strlen(xtexts[_i].s)) ==
	    xtexts[_i].valid);
}
END_TEST

#define NONE NULL
static const struct {
	bool rcpt;
	const char *p[3];
	enum smtp_dsn_status want;
} checks[] = {
	{ false, { "RET=FULL", "ENVID=x", NONE }, SMTP_DSN_OK },
	{ false, { "ret=hdrs", "SIZE=10", NONE }, SMTP_DSN_OK },
	{ false, { "RET=ALL", NONE }, SMTP_DSN_BAD_RET },
	{ false, { "ENVID=a=b", NONE }, SMTP_DSN_BAD_ENVID },
	{ false, { "RET=FULL", "RET=FULL", NONE }, SMTP_DSN_DUPLICATE },
	{ false, { "ENVID=x", "envid=y", NONE }, SMTP_DSN_DUPLICATE },
	{ true, { "NOTIFY=NEVER", NONE }, SMTP_DSN_OK },
	{ true, { "NOTIFY=success,FAILURE,Delay", NONE }, SMTP_DSN_OK },
	{ true, { "NOTIFY=NEVER,DELAY", NONE }, SMTP_DSN_BAD_NOTIFY },
	{ true, { "NOTIFY=DELAY,DELAY", NONE }, SMTP_DSN_BAD_NOTIFY },
	{ true, { "NOTIFY=DELAY,", NONE }, SMTP_DSN_BAD_NOTIFY },
	{ true, { "ORCPT=rfc822;a+40b", NONE }, SMTP_DSN_OK },
	{ true, { "ORCPT=rfc822", NONE }, SMTP_DSN_BAD_ORCPT },
	{ true, { "ORCPT=;a", NONE }, SMTP_DSN_BAD_ORCPT },
	{ true, { "ORCPT=rfc 822;a", NONE }, SMTP_DSN_BAD_ORCPT },
	{ true, { "NOTIFY=NEVER", "NOTIFY=NEVER", NONE }, SMTP_DSN_DUPLICATE },
	{ true, { "NOTIFY=NEVER", "FOO=BAR", NONE }, SMTP_DSN_OTHER },
};

START_TEST(test_check)
{
	size_t n = 0;

	while (n < 3 && checks[_i].p[n] != NULL)
		n++;
	char *const *p = (char *const *)checks[_i].p;
	ck_assert_int_eq(checks[_i].rcpt ? smtp_dsn_check_rcpt(p, n) :
	    smtp_dsn_check_mail(p, n), checks[_i].want);
}
END_TEST

/* RFC 3461 4.4: ENVID at most 100 characters; 4.2: ORCPT 500. */
START_TEST(test_lengths)
{
	char envid[200] = "ENVID=", orcpt[600] = "ORCPT=rfc822;";
	/* the rest of each buffer is zero: the strings end there */
	char *p[1];

	memset(envid + 6, 'x', 100);
	p[0] = envid;
	ck_assert_int_eq(smtp_dsn_check_mail(p, 1), SMTP_DSN_OK);
	envid[106] = 'x';
	ck_assert_int_eq(smtp_dsn_check_mail(p, 1), SMTP_DSN_BAD_ENVID);
	memset(orcpt + 13, 'x', 500 - 7);	/* the value: 500 */
	p[0] = orcpt;
	ck_assert_int_eq(smtp_dsn_check_rcpt(p, 1), SMTP_DSN_OK);
	orcpt[6 + 500] = 'x';
	ck_assert_int_eq(smtp_dsn_check_rcpt(p, 1), SMTP_DSN_BAD_ORCPT);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("smtp_dsn");
	TCase *tc = tcase_create("dsn");

	tcase_add_loop_test(tc, test_xtext, 0, sizeof(xtexts) /
	    sizeof(xtexts[0]));
	tcase_add_loop_test(tc, test_check, 0, sizeof(checks) /
	    sizeof(checks[0]));
	tcase_add_test(tc, test_lengths);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
