/*
 * check_smtp_bdat.c - BDAT's decoder and argument (src/smtp_bdat.c): the
 * message in DATA's form whatever the cut between chunks.
 */
#include "autoconfig.h"

#include <check.h>
#include <string.h>

#include "smtp_bdat.h"
#include "tests/check_run.h"

static const struct {
	const char *in, *out;
} msgs[] = {
	{ "", "" },
	{ "\r\n", "" },
	{ "a\r\nb\r\n", "a\nb" },
	{ "a\r\nb", "a\nb" },
	{ "a\r\n\r\n", "a\n" },
	{ "a\nb\rc\r", "a\nb\rc\r" },
	{ "a\r\r\n", "a\r" },
	{ ".\r\n..\r\n", ".\n.." },	/* no dot-unstuffing */
	{ "\r\n\r\n\r\n", "\n\n" },
	{ "x\r\n\r", "x\n\r" },
};

/* Every message cut into two chunks at every place decodes the same. */
START_TEST(test_cuts)
{
	const char *in = msgs[_i].in;
	size_t len = strlen(in);

	for (size_t cut = 0; cut <= len; cut++) {
		struct smtp_bdat b;
		char out[64];
		size_t n;
		smtp_bdat_init(&b);
		n = smtp_bdat_feed(&b, in, cut, out);
		n += smtp_bdat_feed(&b, in + cut, len - cut, out + n);
		n += smtp_bdat_finish(&b, out + n);
		out[n] = '\0';
		ck_assert_msg(strcmp(out, msgs[_i].out) == 0, "cut %zu", cut);
		ck_assert_uint_eq(b.total, len);
	}
}
END_TEST

static const struct {
	const char *arg;
	bool ok;
	unsigned long long size;
	bool last;
} args[] = {
	{ "0", true, 0, false }, { "0 LAST", true, 0, true },
	{ "123 last", true, 123, true }, { "18446744073709551615", true,
	  18446744073709551615ULL, false },
	{ "18446744073709551616", false, 0, false },
	{ "", false, 0, false }, { "x", false, 0, false },
	{ "-1", false, 0, false }, { "1  LAST", false, 0, false },
	{ "1 LASTX", false, 0, false }, { "1 FIRST", false, 0, false },
	{ " 1", false, 0, false },
};

START_TEST(test_args)
{
	unsigned long long size = 0;
	bool last = false;

	ck_assert(smtp_bdat_parse_arg(args[_i].arg, &size, &last) ==
	    args[_i].ok);
	if (!args[_i].ok)
		return;
	ck_assert(size == args[_i].size);
	ck_assert(last == args[_i].last);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("smtp_bdat");
	TCase *tc = tcase_create("bdat");

	tcase_add_loop_test(tc, test_cuts, 0, sizeof(msgs) / sizeof(msgs[0]));
	tcase_add_loop_test(tc, test_args, 0, sizeof(args) / sizeof(args[0]));
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
