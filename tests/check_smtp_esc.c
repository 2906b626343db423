/*
 * check_smtp_esc.c - enhanced status codes (src/smtp_esc.c): which reply
 * gets which RFC 3463 code in which context, and the rules of RFC 2034
 * (none on 3xx, the greeting or HELO/EHLO; never doubled; every line of
 * a multi-line reply).
 */
#include "autoconfig.h"

#include <check.h>
#include <string.h>

#include "smtp_esc.h"
#include "tests/check_run.h"

static const struct {
	const char *context, *in, *out;
} cases[] = {
	{ "MAIL", "250 OK", "250 2.1.0 OK" },
	{ "RCPT", "250 OK", "250 2.1.5 OK" },
	{ "RCPT", "452 Error: too many recipients",
	  "452 4.5.3 Error: too many recipients" },
	{ "MAIL", "552 Error: message size exceeds fixed maximum message size",
	  "552 5.3.4 Error: message size exceeds fixed maximum message size" },
	{ "DATA", "354 End data with <CR><LF>.<CR><LF>",
	  "354 End data with <CR><LF>.<CR><LF>" },	/* RFC 2034 4 */
	{ "AUTH", "334 VXNlcm5hbWU6", "334 VXNlcm5hbWU6" },
	{ "DATA", "250 OK", "250 2.0.0 OK" },
	{ "DATA", "552 Error: Too much mail data",
	  "552 5.3.4 Error: Too much mail data" },
	{ "BDAT", "552 Error: Too much mail data",
	  "552 5.3.4 Error: Too much mail data" },
	{ "", "500 Error: bad syntax", "500 5.5.2 Error: bad syntax" },
	{ "NOOP", "501 Syntax: NOOP", "501 5.5.4 Syntax: NOOP" },
	{ "RCPT", "503 Error: need MAIL command",
	  "503 5.5.1 Error: need MAIL command" },
	{ "", "421 FQDN Error: timeout exceeded",
	  "421 4.4.2 FQDN Error: timeout exceeded" },
	{ "", "421 FQDN Error: too many errors",
	  "421 4.7.0 FQDN Error: too many errors" },
	{ "", "421 FQDN Service shutting down",
	  "421 4.3.2 FQDN Service shutting down" },
	{ "MAIL", "421 FQDN Service closing transmission channel",
	  "421 4.3.0 FQDN Service closing transmission channel" },
	{ NULL, "220 FQDN ESMTP", "220 FQDN ESMTP" },	/* the greeting */
	{ NULL, "554 go away", "554 go away" },	/* a refusal at connect */
	{ "EHLO", "250-FQDN\n250 HELP", "250-FQDN\n250 HELP" },
	{ "HELO", "501 Syntax: HELO hostname", "501 Syntax: HELO hostname" },
	/* a plugin's replies: the context's default, never doubled */
	{ "RCPT", "550 no such user", "550 5.7.1 no such user" },
	{ "RCPT", "550 5.1.1 no such user", "550 5.1.1 no such user" },
	{ "DATA", "451 try later", "451 4.3.0 try later" },
	{ "QUIT", "221 Bye", "221 2.0.0 Bye" },
	{ "XFOO", "250 done", "250 2.0.0 done" },
	{ "RCPT", "550-first\n550 second", "550-5.7.1 first\n550 5.7.1 second" },
	{ "RCPT", "550-5.1.1 first\n550 second",
	  "550-5.1.1 first\n550 5.1.1 second" },
	{ "MAIL", "250", "250 2.1.0" },
	{ "MAIL", "250 2.1.0", "250 2.1.0" },
	{ "MAIL", "250 2.1", "250 2.1.0 2.1" },	/* not a code */
};

START_TEST(test_apply)
{
	char out[256];

	ck_assert(smtp_esc_apply(cases[_i].context, cases[_i].in, out,
	    sizeof(out)));
	ck_assert_str_eq(out, cases[_i].out);
}
END_TEST

/* A reply that does not fit stays as it was. */
START_TEST(test_too_small)
{
	char out[8];

	ck_assert(!smtp_esc_apply("MAIL", "250 OK", out, sizeof(out)));
	ck_assert_str_eq(out, "250 OK");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("smtp_esc");
	TCase *tc = tcase_create("esc");

	tcase_add_loop_test(tc, test_apply, 0, sizeof(cases) /
	    sizeof(cases[0]));
	tcase_add_test(tc, test_too_small);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
