/*
 * check_smtp_data.c - the DATA decoder: end detection, unstuffing, the
 * size count, fed whole and in every split, each call's output in a
 * buffer of exactly inlen + SMTP_DATA_SLACK bytes (run it under ASan or
 * valgrind to see a byte written past that).
 */
#include "autoconfig.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_data.h"
#include "tests/check_run.h"

static const struct {
	const char *in;		/* after the 354 */
	const char *out;	/* what process_message gets */
	size_t used;		/* input consumed up to the end */
	unsigned long long raw;	/* Python's num_bytes */
} data_cases[] = {
	{ "a\r\n.\r\n", "a", 6, 1 },
	{ "a\r\nb\r\n.\r\nNOOP\r\n", "a\nb", 9, 4 },
	{ ".\r\n", "", 3, 0 },
	{ "\r\n.\r\n", "", 5, 0 },
	{ "..\r\n.\r\n", ".", 7, 2 },
	{ "..x\r\n.a\r\n.\r\n", ".x\na", 12, 7 },
	{ "x\r\n\r\n.\r\n", "x\n", 8, 3 },
	{ "a\n.\nb\r\n.\r\n", "a\n.\nb", 10, 5 },
	{ "a\r\n.\nb\r\n.\r\n", "a\n\nb", 11, 6 },
	{ "a\r.\r\nb\r\n.\r\n", "a\r.\nb", 11, 6 },
	{ "\r\r\n.\r\n", "\r", 6, 1 },
	{ ".\r.\r\n.\r\n", "\r.", 8, 3 },
	{ ".\rx\r\n.\r\n", "\rx", 8, 3 },
	{ "a\r\n.\rx\r\n.\r\n", "a\n\rx", 11, 6 },
	{ "\r\n\r\n.\r\n", "\n", 7, 2 },
};

/* feed - the input in pieces of `step` bytes (0: whole), each call with
 * a buffer of exactly n + SMTP_DATA_SLACK bytes; the result in out. */
static size_t
feed(const char *in, size_t len, size_t step, struct smtp_data *sd,
    char *out, size_t *outlen)
{
	size_t off = 0;

	*outlen = 0;
	while (off < len && !sd->done) {
		size_t n = step == 0 || len - off < step ? len - off : step;
		char *buf = malloc(n + SMTP_DATA_SLACK);
		size_t produced;
		size_t used = smtp_data_feed(sd, in + off, n, buf, &produced);
		ck_assert_uint_le(produced, n + SMTP_DATA_SLACK);
		memcpy(out + *outlen, buf, produced);
		*outlen += produced;
		free(buf);
		off += used;
		if (used < n)
			break;
	}
	return off;
}

START_TEST(test_decode)
{
	const char *in = data_cases[_i].in;
	size_t len = strlen(in);

	for (size_t step = 0; step <= len; step++) {
		struct smtp_data sd;
		char out[256];
		size_t outlen;
		smtp_data_init(&sd, 0);
		size_t used = feed(in, len, step, &sd, out, &outlen);
		ck_assert_msg(sd.done, "case %d step %zu: no end", _i, step);
		ck_assert_uint_eq(used, data_cases[_i].used);
		ck_assert_uint_eq(sd.raw, data_cases[_i].raw);
		ck_assert_msg(outlen == strlen(data_cases[_i].out) &&
		    memcmp(out, data_cases[_i].out, outlen) == 0,
		    "case %d step %zu: got %zu bytes '%.*s'", _i, step, outlen,
		    (int)outlen, out);
	}
}
END_TEST

/* The limit: the size Python counts (data before CRLF.CRLF). */
START_TEST(test_limit)
{
	struct smtp_data sd;
	char out[64];
	size_t outlen;

	smtp_data_init(&sd, 4);
	feed("abcd\r\n.\r\n", 9, 0, &sd, out, &outlen);
	ck_assert(sd.done && !smtp_data_too_big(&sd));
	smtp_data_init(&sd, 4);
	feed("abcde\r\n.\r\n", 10, 0, &sd, out, &outlen);
	ck_assert(sd.done && smtp_data_too_big(&sd));
	/* Past the limit nothing more is stored, but the end is found. */
	smtp_data_init(&sd, 4);
	char big[100];
	memset(big, 'x', sizeof(big));
	size_t used = 0, produced;
	while (!sd.overflow) {
		used += smtp_data_feed(&sd, big, 1, out, &produced);
		ck_assert_uint_lt(used, 20);
	}
	ck_assert_uint_eq(smtp_data_feed(&sd, big, sizeof(big), NULL,
	    &produced), sizeof(big));
	ck_assert_uint_eq(produced, 0);
	ck_assert_uint_eq(smtp_data_feed(&sd, "\r\n.\r\nQUIT", 9, NULL,
	    &produced), 5);
	ck_assert(sd.done && smtp_data_too_big(&sd));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("smtp_data");
	TCase *tc = tcase_create("decode");

	tcase_add_loop_test(tc, test_decode, 0,
	    (int)(sizeof(data_cases) / sizeof(data_cases[0])));
	tcase_add_test(tc, test_limit);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
