/*
 * check_smtp_addr.c - unit tests of src/smtp_addr.c: every line of
 * tests/golden/addr.tsv (what Python 3.11's smtpd._getaddr answers, made
 * by tests/gen_addr_golden.py) must get the same answer from
 * smtp_addr_get(); then the bounds of the caller's buffer.
 */
#include "autoconfig.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_golden.h"
#include "smtp_addr.h"

#define GOLDEN GOLDEN_DIR "/addr.tsv"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* One golden line: the input and what Python answers. */
struct golden {
	char input[2048];
	char addr[2048];
	char rest[2048];
	bool error;
};

/* golden_parse - one line (without its newline) into g. */
static bool
golden_parse(char *line, struct golden *g)
{
	char *f[3];
	int n = golden_split(line, f, 3);

	g->error = n == 2;
	if (n < 2 || (g->error && strcmp(f[1], "!ERROR") != 0))
		return false;
	return golden_unescape(f[0], g->input, sizeof(g->input), NULL) &&
	    (g->error || (golden_unescape(f[1], g->addr, sizeof(g->addr),
	    NULL) && golden_unescape(f[2], g->rest, sizeof(g->rest), NULL)));
}

/* golden_check - our answer for one line; false (and a message on
 * stderr) when it is not Python's. */
static bool
golden_check(char *line, int lineno, void *ctx)
{
	static struct golden g;
	char addr[4096];
	size_t restoff = 0, len;
	enum smtp_parse_status st;

	(void)ctx;
	if (!golden_parse(line, &g)) {
		fprintf(stderr, "addr.tsv:%d: malformed line\n", lineno);
		return false;
	}
	len = strlen(g.input);
	st = smtp_addr_get(g.input, len, addr, sizeof(addr), &restoff);
	if (g.error && st == SMTP_PARSE_INVALID)
		return true;
	if (!g.error && st == SMTP_PARSE_OK && restoff <= len &&
	    strcmp(addr, g.addr) == 0 && strcmp(g.input + restoff,
	    g.rest) == 0)
		return true;
	fprintf(stderr, "addr.tsv:%d: input [%s]: python %s [%s] [%s], "
	    "psmtpd status %d [%s] [%s]\n", lineno, g.input,
	    g.error ? "error" : "ok", g.addr, g.rest, (int)st,
	    st == SMTP_PARSE_OK ? addr : "",
	    st == SMTP_PARSE_OK ? g.input + restoff : "");
	return false;
}

START_TEST(test_golden)
{
	int checked, failed = golden_each(GOLDEN, golden_check, NULL,
	    &checked);

	ck_assert_msg(failed >= 0, "cannot read %s", GOLDEN);
	ck_assert_int_gt(checked, 500);
	ck_assert_msg(failed == 0, "%d of %d golden addresses differ",
	    failed, checked);
}
END_TEST

/* Inputs whose answer needs more room than it gets. */
static const struct {
	const char *input;
	size_t size;		/* the caller's buffer */
	enum smtp_parse_status want;
	const char *addr;	/* when OK */
} bounds[] = {
	{ "<a@b>", 4, SMTP_PARSE_OK, "a@b" },
	{ "<a@b>", 3, SMTP_PARSE_TOO_LONG, NULL },
	{ "<a@b>", 0, SMTP_PARSE_TOO_LONG, NULL },
	{ "<>", 3, SMTP_PARSE_OK, "<>" },
	{ "<>", 2, SMTP_PARSE_TOO_LONG, NULL },
	{ "<\"a b\"@c>", 8, SMTP_PARSE_OK, "\"a b\"@c" },
	{ "<\"a b\"@c>", 7, SMTP_PARSE_TOO_LONG, NULL },
	{ "<\"a b\"@c>", 5, SMTP_PARSE_TOO_LONG, NULL },
	{ "<\"a b\"@c>", 4, SMTP_PARSE_TOO_LONG, NULL },
	{ "<\"a\\\\b\"@c>", 9, SMTP_PARSE_OK, "\"a\\\\b\"@c" },
	{ "<\"a\\\\b\"@c>", 6, SMTP_PARSE_TOO_LONG, NULL },
	{ "<\"\"@c>", 5, SMTP_PARSE_OK, "\"\"@c" },
	{ "<\"\"@c>", 2, SMTP_PARSE_TOO_LONG, NULL },
	{ "<a@b.>", 1, SMTP_PARSE_INVALID, NULL },	/* errors come first */
	{ "", 1, SMTP_PARSE_OK, "" },
};

START_TEST(test_bounds)
{
	char buf[64];
	size_t restoff = 99;
	enum smtp_parse_status st;

	memset(buf, 'X', sizeof(buf));
	st = smtp_addr_get(bounds[_i].input, strlen(bounds[_i].input), buf,
	    bounds[_i].size, &restoff);
	ck_assert_int_eq(st, bounds[_i].want);
	if (st == SMTP_PARSE_OK)
		ck_assert_str_eq(buf, bounds[_i].addr);
	for (size_t i = bounds[_i].size; i < sizeof(buf); i++)
		ck_assert_msg(buf[i] == 'X', "wrote past the buffer at %zu", i);
}
END_TEST

/* The input need not be NUL-terminated: only len bytes are read. */
START_TEST(test_length_bound)
{
	const char text[] = "<a@b> SIZE=1<c@d>";
	char buf[64];
	size_t restoff = 0;

	ck_assert_int_eq(smtp_addr_get(text, 5, buf, sizeof(buf), &restoff),
	    SMTP_PARSE_OK);
	ck_assert_str_eq(buf, "a@b");
	ck_assert_uint_eq(restoff, 5);
	ck_assert_int_eq(smtp_addr_get(text, 4, buf, sizeof(buf), &restoff),
	    SMTP_PARSE_OK);	/* "<a@b": the '>' is optional in Python */
	ck_assert_str_eq(buf, "a@b");
	ck_assert_int_eq(smtp_addr_get(text, 1, buf, sizeof(buf), &restoff),
	    SMTP_PARSE_INVALID);
}
END_TEST

/* A long input in a small buffer, and deep comments, stay bounded. */
START_TEST(test_long_inputs)
{
	static char in[20000];
	char buf[256];
	size_t restoff = 0, n = 0;

	in[n++] = '<';
	for (int i = 0; i < 9000; i++)
		in[n++] = '(';
	for (int i = 0; i < 9000; i++)
		in[n++] = ')';
	memcpy(in + n, "a@b>", 4);
	n += 4;
	ck_assert_int_eq(smtp_addr_get(in, n, buf, sizeof(buf), &restoff),
	    SMTP_PARSE_OK);
	ck_assert_str_eq(buf, "a@b");
	memset(in, 'a', sizeof(in));
	in[0] = '<';
	ck_assert_int_eq(smtp_addr_get(in, sizeof(in), buf, sizeof(buf),
	    &restoff), SMTP_PARSE_TOO_LONG);
}
END_TEST

static Suite *
addr_suite(void)
{
	Suite *s = suite_create("smtp_addr");
	TCase *tc = tcase_create("golden");

	tcase_add_test(tc, test_golden);
	suite_add_tcase(s, tc);
	tc = tcase_create("bounds");
	tcase_add_loop_test(tc, test_bounds, 0, (int)NELEM(bounds));
	tcase_add_test(tc, test_length_bound);
	tcase_add_test(tc, test_long_inputs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(addr_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
