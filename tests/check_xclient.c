/*
 * check_xclient.c - unit tests of src/xclient.c, table-driven: the
 * attributes of Postfix's XCLIENT_README (ADDR with IPV6:, PORT, NAME,
 * HELO, [UNAVAILABLE], [TEMPUNAVAIL], PROTO), xtext, case, and what is
 * refused (unknown or repeated attributes, bad values, control bytes
 * smuggled in as xtext).
 */
#include "autoconfig.h"

#include <check.h>
#include <string.h>

#include "tests/check_run.h"
#include "xclient.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define A XCLIENT_ABSENT
#define V XCLIENT_VALUE
#define U XCLIENT_UNAVAILABLE
#define T XCLIENT_TEMPUNAVAIL
/* the rest of a refused row */
#define NO A, A, A, A, "", 0, "", ""

static const struct {
	const char *arg;
	enum xclient_status want;
	enum xclient_given addr, port, name, helo;
	const char *addr_text;
	unsigned port_value;
	const char *name_text, *helo_text;
} cases[] = {
	{ "NAME=spike.porcupine.org ADDR=168.100.189.2", XCLIENT_OK, V, A, V,
	    A, "168.100.189.2", 0, "spike.porcupine.org", "" },
	{ "ADDR=IPV6:2001:DB8::7 PORT=56324", XCLIENT_OK, V, V, A, A,
	    "2001:db8::7", 56324, "", "" },
	{ "addr=ipv6:::1 port=0", XCLIENT_OK, V, V, A, A, "::1", 0, "", "" },
	{ "ADDR=[UNAVAILABLE] PORT=[unavailable]", XCLIENT_OK, U, U, A, A, "",
	    0, "", "" },
	{ "NAME=[TEMPUNAVAIL] HELO=[UNAVAILABLE]", XCLIENT_OK, A, A, T, U, "",
	    0, "[TEMPUNAVAIL]", "[UNAVAILABLE]" },
	{ "NAME=[Unavailable]", XCLIENT_OK, A, A, U, A, "", 0,
	    "[Unavailable]", "" },
	{ "HELO=client+2Eexample PROTO=ESMTP", XCLIENT_OK, A, A, A, V, "", 0,
	    "", "client.example" },
	{ "  HELO=x\tPROTO=smtp  ", XCLIENT_OK, A, A, A, V, "", 0, "", "x" },
	{ "PORT=65535", XCLIENT_OK, A, V, A, A, "", 65535, "", "" },
	/* refused */
	{ "", XCLIENT_INVALID, NO },
	{ "   ", XCLIENT_INVALID, NO },
	{ "ADDR", XCLIENT_INVALID, NO },
	{ "=x", XCLIENT_INVALID, NO },
	{ "ADDR=", XCLIENT_INVALID, NO },
	{ "ADDR=192.0.2.256", XCLIENT_INVALID, NO },
	{ "ADDR=192.0.2.07", XCLIENT_INVALID, NO },
	{ "ADDR=2001:db8::7", XCLIENT_INVALID, NO },	/* needs IPV6: */
	{ "ADDR=IPV6:192.0.2.7", XCLIENT_INVALID, NO },
	{ "ADDR=[TEMPUNAVAIL]", XCLIENT_INVALID, NO },
	{ "ADDR=192.0.2.7 ADDR=192.0.2.8", XCLIENT_INVALID, NO },
	{ "PORT=65536", XCLIENT_INVALID, NO },
	{ "PORT=-1", XCLIENT_INVALID, NO },
	{ "PORT=123456", XCLIENT_INVALID, NO },
	{ "PROTO=LMTP", XCLIENT_INVALID, NO },
	{ "LOGIN=alice", XCLIENT_INVALID, NO },
	{ "DESTADDR=192.0.2.1", XCLIENT_INVALID, NO },
	{ "FOO=bar", XCLIENT_INVALID, NO },
	{ "NAME=a+0Ab", XCLIENT_INVALID, NO },	/* an LF in xtext */
	{ "HELO=a+0D+0AMAIL", XCLIENT_INVALID, NO },
	{ "HELO=a+20b", XCLIENT_INVALID, NO },	/* a space */
	{ "HELO=a+00", XCLIENT_INVALID, NO },
	{ "HELO=a+7F", XCLIENT_INVALID, NO },
	{ "HELO=a+2", XCLIENT_INVALID, NO },
	{ "HELO=a+ZZ", XCLIENT_INVALID, NO },
	{ "HELO=a=b", XCLIENT_INVALID, NO },
	{ "HELO=na\xc3\xafve", XCLIENT_INVALID, NO },
	{ "VERYLONGATTRIBUTENAME=x", XCLIENT_INVALID, NO },
};

START_TEST(test_parse)
{
	struct xclient x;
	enum xclient_status st = xclient_parse(cases[_i].arg, &x);

	ck_assert_msg(st == cases[_i].want, "[%s]: %d (%s)", cases[_i].arg,
	    st, x.error != NULL ? x.error : "");
	if (st != XCLIENT_OK) {
		ck_assert_ptr_nonnull(x.error);
		return;
	}
	ck_assert_int_eq(x.addr, cases[_i].addr);
	ck_assert_int_eq(x.port, cases[_i].port);
	ck_assert_int_eq(x.name, cases[_i].name);
	ck_assert_int_eq(x.helo, cases[_i].helo);
	ck_assert_str_eq(x.addr_text, cases[_i].addr_text);
	ck_assert_uint_eq(x.port_value, cases[_i].port_value);
	ck_assert_str_eq(x.name_text, cases[_i].name_text);
	ck_assert_str_eq(x.helo_text, cases[_i].helo_text);
}
END_TEST

/* NAME and HELO take 255 characters, not 256. */
START_TEST(test_lengths)
{
	char arg[600];
	struct xclient x;

	memcpy(arg, "NAME=", 5);
	memset(arg + 5, 'a', 255);
	arg[260] = '\0';
	ck_assert_int_eq(xclient_parse(arg, &x), XCLIENT_OK);
	ck_assert_uint_eq(strlen(x.name_text), 255);
	arg[260] = 'a';
	arg[261] = '\0';
	ck_assert_int_eq(xclient_parse(arg, &x), XCLIENT_INVALID);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("xclient");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse, 0, (int)NELEM(cases));
	tcase_add_test(tc, test_lengths);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
