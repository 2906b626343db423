/*
 * check_delivery_mbox.c - the mbox plugin, its hooks called directly.
 */
#include "../plugins/mbox.c"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <check.h>

#include "delivery_stubs.h"
#include "delivery_testutil.h"

static const char *const rcpts1[] = { "bob@example.org", NULL };

static struct mbox_conf *
mb_setup(const char *file, int dotlock, struct psmtpd_init *ctx)
{
	struct stub_setting set[] = {
		{ .key = "file", .type = STUB_STR, .str = file },
		{ .key = "dotlock", .type = STUB_BOOL, .num = dotlock },
		{ .key = "lock_timeout", .type = STUB_INT, .num = 1 },
		{ .key = NULL },
	};
	void *pd = NULL;

	stub_init_ctx(ctx, set);
	if (psmtpd_plugin.init(ctx, &pd) != 0)
		return NULL;
	return pd;
}

/* mboxrd: ">*From " gets one more ">", nothing else changes. */
static const struct {
	const char *in, *out;
} mb_quote_cases[] = {
	{ "From me\n", ">From me\n" },
	{ ">From me\n", ">>From me\n" },
	{ ">>>From x", ">>>>From x" },
	{ "From: header\n", "From: header\n" },
	{ " From me\n", " From me\n" },
	{ "From", "From" },
	{ "a\nFrom b\nc", "a\n>From b\nc" },
	{ ">>", ">>" },
	{ "", "" },
};

START_TEST(test_quote)
{
	struct mbox_out *o = calloc(1, sizeof(*o));

	o->fd = -1;
	mbox_put_quoted(o, mb_quote_cases[_i].in,
	    strlen(mb_quote_cases[_i].in));
	ck_assert_uint_eq(o->len, strlen(mb_quote_cases[_i].out));
	ck_assert(memcmp(o->buf, mb_quote_cases[_i].out, o->len) == 0);
	free(o);
}
END_TEST

START_TEST(test_from_line)
{
	char line[256];
	time_t t = 1700000000;	/* Tue Nov 14 22:13:20 2023 UTC */

	setenv("TZ", "UTC", 1);
	tzset();
	mbox_from_line(line, sizeof(line), "a b@example.org", t);
	ck_assert_str_eq(line, "From a_b@example.org Tue Nov 14 22:13:20 "
	    "2023\n");
	mbox_from_line(line, sizeof(line), "", t + 86400 * 20);
	ck_assert_str_eq(line, "From MAILER-DAEMON Mon Dec  4 22:13:20 "
	    "2023\n");
}
END_TEST

/* mb_strip_dates - the mbox text with each "From " line's date replaced
 * by "DATE", for comparing. */
static void
mb_strip_dates(char *text)
{
	for (char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, "From ", 5) == 0) {
			char *sp = strchr(p + 5, ' ');
			char *nl = strchr(p, '\n');
			ck_assert(sp != NULL && nl != NULL && sp < nl);
			memmove(sp + 5, nl, strlen(nl) + 1);
			memcpy(sp, " DATE", 5);
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
}

START_TEST(test_append)
{
	char dir[512], file[600];
	struct psmtpd_init ctx;
	struct psmtpd_session s;

	tu_tempdir(dir, sizeof(dir), "mbox");
	snprintf(file, sizeof(file), "%s/mbox", dir);
	struct mbox_conf *mc = mb_setup(file, _i, &ctx);
	ck_assert_ptr_nonnull(mc);
	stub_session(&s, "alice@example.org", rcpts1,
	    "Subject: one\n\nFrom the start\n>From quoted");
	ck_assert_int_eq(stub_code(&s, psmtpd_plugin.process_message(&s,
	    mc)), 250);
	stub_session(&s, "", rcpts1, "Subject: two\n\nbody\n");
	ck_assert_int_eq(stub_code(&s, psmtpd_plugin.process_message(&s,
	    mc)), 250);
	char *got = tu_read_file(file, NULL);
	mb_strip_dates(got);
	ck_assert_str_eq(got, "From alice@example.org DATE\n"
	    "Subject: one\n\n>From the start\n>>From quoted\n\n"
	    "From MAILER-DAEMON DATE\nSubject: two\n\nbody\n\n\n");
	free(got);
	ck_assert_int_eq(access(mc->lock, F_OK), -1);
	psmtpd_plugin.fini(mc);
	tu_rmtree(dir);
}
END_TEST

/* A write failure cuts the file back and answers 451. */
START_TEST(test_write_failure)
{
	char dir[512], file[600];
	struct psmtpd_init ctx;
	struct psmtpd_session s;
	struct rlimit rl = { 100, 100 };

	tu_tempdir(dir, sizeof(dir), "mbox");
	snprintf(file, sizeof(file), "%s/mbox", dir);
	tu_write_file(file, "From x Mon Jan  1 00:00:00 2024\nold\n\n", 0);
	struct mbox_conf *mc = mb_setup(file, 0, &ctx);
	ck_assert_ptr_nonnull(mc);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	stub_session(&s, "a@example.org", rcpts1, "Subject: a longer "
	    "message, longer than the hundred bytes the limit allows, "
	    "so that the write fails half way");
	ck_assert_int_eq(stub_code(&s, psmtpd_plugin.process_message(&s,
	    mc)), 451);
	ck_assert_ptr_nonnull(strstr(s.reply, "File too large"));
	char *got = tu_read_file(file, NULL);
	ck_assert_str_eq(got, "From x Mon Jan  1 00:00:00 2024\nold\n\n");
	free(got);
	psmtpd_plugin.fini(mc);
	tu_rmtree(dir);
}
END_TEST

/* A dotlock held by someone else: 451 after lock_timeout; a stale one
 * is broken. */
START_TEST(test_dotlock_busy)
{
	char dir[512], file[600], lock[700];
	struct psmtpd_init ctx;
	struct psmtpd_session s;

	tu_tempdir(dir, sizeof(dir), "mbox");
	snprintf(file, sizeof(file), "%s/mbox", dir);
	snprintf(lock, sizeof(lock), "%s.lock", file);
	tu_write_file(lock, "", 0);
	struct mbox_conf *mc = mb_setup(file, 1, &ctx);
	ck_assert_ptr_nonnull(mc);
	stub_session(&s, "a@example.org", rcpts1, "Subject: x\n\nbody");
	long long t0 = delivery_now_ms();
	ck_assert_int_eq(stub_code(&s, psmtpd_plugin.process_message(&s,
	    mc)), 451);
	ck_assert_int_ge(delivery_now_ms() - t0, 900);
	ck_assert_int_eq(access(lock, F_OK), 0);	/* not ours to remove */
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };
	ck_assert_int_eq(utimensat(AT_FDCWD, lock, old, 0), 0);
	ck_assert_int_eq(stub_code(&s, psmtpd_plugin.process_message(&s,
	    mc)), 250);
	ck_assert_int_eq(access(lock, F_OK), -1);
	psmtpd_plugin.fini(mc);
	tu_rmtree(dir);
}
END_TEST

static const struct {
	struct stub_setting set[3];
	const char *error;
} mb_bad_cases[] = {
	{ { { .key = "file", .type = STUB_STR, .str = "mbox" } },
	    "file: file must be an absolute path" },
	{ { { .key = "file", .type = STUB_STR, .str = "/tmp/mbox" },
	    { .key = "lock_timeout", .type = STUB_INT, .num = 0 } },
	    "lock_timeout: lock_timeout must be between 1 and 3600" },
	{ { { .key = "file", .type = STUB_STR, .str = "/tmp/mbox" },
	    { .key = "dotlock", .type = STUB_INT, .num = 1 } },
	    "dotlock: wrong" },
};

/* Without settings ("-c mbox"): $MAIL, else /var/mail/<user>. */
START_TEST(test_default_file)
{
	struct psmtpd_init ctx;
	struct stub_setting none[] = { { .key = NULL } };
	void *pd = NULL;
	char want[300];

	setenv("MAIL", "/var/spool/mail/x", 1);
	stub_init_ctx(&ctx, none);
	ck_assert_int_eq(psmtpd_plugin.init(&ctx, &pd), 0);
	ck_assert_str_eq(((struct mbox_conf *)pd)->file, "/var/spool/mail/x");
	psmtpd_plugin.fini(pd);
	unsetenv("MAIL");
	ck_assert_int_eq(psmtpd_plugin.init(&ctx, &pd), 0);
	ck_assert_int_eq(delivery_user(want + 10, sizeof(want) - 10), 0);
	memcpy(want, "/var/mail/", 10);
	ck_assert_str_eq(((struct mbox_conf *)pd)->file, want);
	psmtpd_plugin.fini(pd);
}
END_TEST

START_TEST(test_bad_settings)
{
	struct psmtpd_init ctx;
	void *pd = NULL;

	stub_init_ctx(&ctx, mb_bad_cases[_i].set);
	ck_assert_int_eq(psmtpd_plugin.init(&ctx, &pd), -1);
	ck_assert_msg(strstr(ctx.errors, mb_bad_cases[_i].error) ==
	    ctx.errors, "errors: %s", ctx.errors);
}
END_TEST

#define MB_SENDERS 20
#define MB_EACH 10

static void
mb_sender(const char *file, int dotlock, int who)
{
	struct psmtpd_init ctx;
	struct psmtpd_session s;
	char data[256];
	struct mbox_conf *mc = mb_setup(file, dotlock, &ctx);

	if (mc == NULL)
		_exit(2);
	mc->lock_ms = 30000;
	for (int i = 0; i < MB_EACH; i++) {
		snprintf(data, sizeof(data), "X-Test: %d.%d\n\nFrom here\n"
		    ">From there\nmessage %d of sender %d", who, i, i, who);
		stub_session(&s, "a@example.org", rcpts1, data);
		if (stub_code(&s, psmtpd_plugin.process_message(&s, mc)) !=
		    250)
			_exit(3);
	}
	psmtpd_plugin.fini(mc);
	_exit(0);
}

/* mb_check_all - every message once, whole, between "From " lines. */
static void
mb_check_all(char *text)
{
	int seen[MB_SENDERS][MB_EACH] = { { 0 } };
	char want[256];
	int count = 0;

	for (char *p = text; *p != '\0' && count <= MB_SENDERS * MB_EACH;
	    count++) {
		int who, i;
		ck_assert_msg(strncmp(p, "From a@example.org ", 19) == 0,
		    "at %.40s", p);
		p = strchr(p, '\n');
		ck_assert_ptr_nonnull(p);
		p++;
		ck_assert_int_eq(sscanf(p, "X-Test: %d.%d", &who, &i), 2);
		ck_assert(who >= 0 && who < MB_SENDERS && i >= 0 &&
		    i < MB_EACH);
		int n = snprintf(want, sizeof(want), "X-Test: %d.%d\n\n"
		    ">From here\n>>From there\nmessage %d of sender %d\n\n",
		    who, i, i, who);
		ck_assert(strncmp(p, want, (size_t)n) == 0);
		ck_assert_int_eq(seen[who][i]++, 0);
		p += n;
	}
	ck_assert_int_eq(count, MB_SENDERS * MB_EACH);
}

/* Twenty processes at once, fcntl locking (and a dotlock in the second
 * run): every message exactly once, none interleaved. */
START_TEST(test_concurrent)
{
	char dir[512], file[600];
	pid_t pids[MB_SENDERS];

	tu_tempdir(dir, sizeof(dir), "mbox");
	snprintf(file, sizeof(file), "%s/mbox", dir);
	for (int w = 0; w < MB_SENDERS; w++) {
		pids[w] = fork();
		ck_assert_int_ge(pids[w], 0);
		if (pids[w] == 0)
			mb_sender(file, _i, w);
	}
	for (int w = 0; w < MB_SENDERS; w++) {
		int st;
		ck_assert_int_eq(waitpid(pids[w], &st, 0), pids[w]);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	char *got = tu_read_file(file, NULL);
	mb_check_all(got);
	free(got);
	tu_rmtree(dir);
}
END_TEST

static Suite *
mbox_suite(void)
{
	Suite *s = suite_create("delivery_mbox");
	TCase *tc = tcase_create("mbox");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_quote, 0,
	    sizeof(mb_quote_cases) / sizeof(mb_quote_cases[0]));
	tcase_add_test(tc, test_from_line);
	tcase_add_test(tc, test_default_file);
	tcase_add_loop_test(tc, test_append, 0, 2);
	tcase_add_test(tc, test_write_failure);
	tcase_add_test(tc, test_dotlock_busy);
	tcase_add_loop_test(tc, test_bad_settings, 0,
	    sizeof(mb_bad_cases) / sizeof(mb_bad_cases[0]));
	tcase_add_loop_test(tc, test_concurrent, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run_suite(mbox_suite());
}
