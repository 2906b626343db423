/*
 * check_smtp_auth.c - the pure AUTH parsers: the command's argument,
 * strict base64, the PLAIN message; tables of inputs and results.
 */
#include "autoconfig.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "smtp_auth.h"
#include "smtp_parse.h"
#include "tests/check_run.h"

static const struct {
	const char *arg, *mech, *initial;
	enum smtp_auth_status st;
} cmds[] = {
	{ "PLAIN", "PLAIN", NULL, SMTP_AUTH_OK },
	{ "plain", "PLAIN", NULL, SMTP_AUTH_OK },
	{ "PLAIN AHVzZXIAcGFzcw==", "PLAIN", "AHVzZXIAcGFzcw==", SMTP_AUTH_OK },
	{ "LOGIN =", "LOGIN", "=", SMTP_AUTH_OK },
	{ "PLAIN  x", "PLAIN", "x", SMTP_AUTH_OK },
	{ "PLAIN a b", NULL, NULL, SMTP_AUTH_SYNTAX },
	{ "", NULL, NULL, SMTP_AUTH_SYNTAX },
	{ NULL, NULL, NULL, SMTP_AUTH_SYNTAX },
	{ " PLAIN", NULL, NULL, SMTP_AUTH_SYNTAX },
	{ "PLAIN ", NULL, NULL, SMTP_AUTH_SYNTAX },
	{ "X-A-VERY-LONG-MECHANISM-NAME-BEYOND", NULL, NULL, SMTP_AUTH_SYNTAX },
};

START_TEST(test_cmd)
{
	struct smtp_auth_cmd c;

	ck_assert_int_eq(smtp_auth_parse_cmd(cmds[_i].arg, &c), cmds[_i].st);
	if (cmds[_i].st != SMTP_AUTH_OK)
		return;
	ck_assert_str_eq(c.mech, cmds[_i].mech);
	if (cmds[_i].initial == NULL)
		ck_assert_ptr_null(c.initial);
	else
		ck_assert_str_eq(c.initial, cmds[_i].initial);
}
END_TEST

static const struct {
	const char *in;
	const char *out;
	size_t len;
	enum smtp_auth_status st;
} b64[] = {
	{ "dXNlcg==", "user", 4, SMTP_AUTH_OK },
	{ "dXNlcjE=", "user1", 5, SMTP_AUTH_OK },
	{ "dXNlcjEy", "user12", 6, SMTP_AUTH_OK },
	{ "AHVzZXIAcGFzcw==", "\0user\0pass", 10, SMTP_AUTH_OK },
	{ "=", "", 0, SMTP_AUTH_OK },
	{ "*", NULL, 0, SMTP_AUTH_CANCEL },
	{ "", NULL, 0, SMTP_AUTH_SYNTAX },
	{ "dXNlcg", NULL, 0, SMTP_AUTH_SYNTAX },
	{ "dXN lcg=", NULL, 0, SMTP_AUTH_SYNTAX },
	{ "dX=lcg==", NULL, 0, SMTP_AUTH_SYNTAX },
	{ "dXNl\r\n==", NULL, 0, SMTP_AUTH_SYNTAX },
	{ "====", NULL, 0, SMTP_AUTH_SYNTAX },
	{ "A===", NULL, 0, SMTP_AUTH_SYNTAX },
	{ "dXNlcg==dXNlcg==", NULL, 0, SMTP_AUTH_SYNTAX },
	{ "!!!!", NULL, 0, SMTP_AUTH_SYNTAX },
};

START_TEST(test_decode)
{
	char out[64];
	size_t len;

	ck_assert_int_eq(smtp_auth_decode(b64[_i].in, out, sizeof(out) - 1,
	    &len), b64[_i].st);
	if (b64[_i].st != SMTP_AUTH_OK)
		return;
	ck_assert_uint_eq(len, b64[_i].len);
	ck_assert(memcmp(out, b64[_i].out, len) == 0);
}
END_TEST

/* A decoded text longer than the buffer is TOO_LONG, never an overflow. */
START_TEST(test_decode_bound)
{
	char out[5];
	size_t len;

	ck_assert_int_eq(smtp_auth_decode("dXNlcjEy", out, 4, &len),
	    SMTP_AUTH_TOO_LONG);
	ck_assert_int_eq(smtp_auth_decode("dXNlcjE=", out, 4, &len),
	    SMTP_AUTH_TOO_LONG);
	ck_assert_int_eq(smtp_auth_decode("dXNlcg==", out, 4, &len),
	    SMTP_AUTH_OK);
}
END_TEST

static const struct {
	const char *msg;
	size_t len;
	const char *authzid, *user, *password;
	enum smtp_auth_status st;
} plains[] = {
	{ "\0user\0pass", 10, "", "user", "pass", SMTP_AUTH_OK },
	{ "admin\0user\0pass", 15, "admin", "user", "pass", SMTP_AUTH_OK },
	{ "\0user\0", 6, "", "user", "", SMTP_AUTH_OK },
	{ "\0\0pass", 6, NULL, NULL, NULL, SMTP_AUTH_SYNTAX },
	{ "user\0pass", 9, NULL, NULL, NULL, SMTP_AUTH_SYNTAX },
	{ "\0user\0pa\0ss", 12, NULL, NULL, NULL, SMTP_AUTH_SYNTAX },
	{ "", 0, NULL, NULL, NULL, SMTP_AUTH_SYNTAX },
};

START_TEST(test_plain)
{
	struct smtp_auth_plain p;

	ck_assert_int_eq(smtp_auth_parse_plain(plains[_i].msg, plains[_i].len,
	    &p), plains[_i].st);
	if (plains[_i].st != SMTP_AUTH_OK)
		return;
	ck_assert_str_eq(p.authzid, plains[_i].authzid);
	ck_assert_str_eq(p.user, plains[_i].user);
	ck_assert_str_eq(p.password, plains[_i].password);
}
END_TEST

START_TEST(test_plain_bound)
{
	char msg[600];
	struct smtp_auth_plain p;

	memset(msg, 'a', sizeof(msg));
	msg[0] = '\0';
	msg[1 + SMTP_AUTH_FIELD_MAX] = '\0';
	ck_assert_int_eq(smtp_auth_parse_plain(msg, 2 + SMTP_AUTH_FIELD_MAX
	    + SMTP_AUTH_FIELD_MAX, &p), SMTP_AUTH_OK);
	ck_assert_int_eq(smtp_auth_parse_plain(msg, 3 + SMTP_AUTH_FIELD_MAX
	    + SMTP_AUTH_FIELD_MAX, &p), SMTP_AUTH_SYNTAX);
}
END_TEST

/* MAIL's AUTH= parameter (RFC 4954 5): accepted when AUTH is on. */
static const struct {
	const char *opt;
	bool auth;
	enum smtp_option_status st;
} mail_auth[] = {
	{ "AUTH=<>", true, SMTP_OPTIONS_OK },
	{ "AUTH=USER+40EXAMPLE.ORG", true, SMTP_OPTIONS_OK },
	{ "AUTH", true, SMTP_OPTIONS_SYNTAX },
	{ "AUTH=", true, SMTP_OPTIONS_SYNTAX },
	{ "AUTH=<>", false, SMTP_OPTIONS_UNRECOGNIZED },
};

START_TEST(test_mail_auth)
{
	char buf[64];
	char *opts[1] = { buf };
	struct smtp_mail_rules rules = { .auth = mail_auth[_i].auth };
	struct smtp_mail_params p;

	snprintf(buf, sizeof(buf), "%s", mail_auth[_i].opt);
	ck_assert_int_eq(smtp_check_mail_options(opts, 1, &rules, &p),
	    mail_auth[_i].st);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("smtp_auth");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_cmd, 0, sizeof(cmds) / sizeof(cmds[0]));
	tcase_add_loop_test(tc, test_decode, 0, sizeof(b64) / sizeof(b64[0]));
	tcase_add_test(tc, test_decode_bound);
	tcase_add_loop_test(tc, test_plain, 0,
	    sizeof(plains) / sizeof(plains[0]));
	tcase_add_test(tc, test_plain_bound);
	tcase_add_loop_test(tc, test_mail_auth, 0,
	    sizeof(mail_auth) / sizeof(mail_auth[0]));
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
