/*
 * check_delivery_maildir.c - the maildir plugin, its hooks called directly
 * (the plugin's source is compiled in, the server's API is stubbed).
 */
#include "../plugins/maildir.c"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <check.h>

#include "delivery_stubs.h"
#include "delivery_testutil.h"

static const char *const rcpts1[] = { "bob@example.org", NULL };

/* md_setup - init (and worker_init) the plugin on dir; the conf or NULL. */
static struct maildir_conf *
md_setup(const char *dir, int add_headers, int create,
    struct psmtpd_init *ctx)
{
	struct stub_setting set[] = {
		{ .key = "dir", .type = STUB_STR, .str = dir },
		{ .key = "add_headers", .type = STUB_BOOL, .num = add_headers },
		{ .key = "create", .type = STUB_BOOL, .num = create },
		{ .key = NULL },
	};
	void *pd = NULL;

	stub_init_ctx(ctx, set);
	if (psmtpd_plugin.init(ctx, &pd) != 0)
		return NULL;
	ck_assert_int_eq(psmtpd_plugin.worker_init(pd), 0);
	return pd;
}

/* md_only_file - the one file in dir/new, read whole. */
static char *
md_only_file(const char *dir, size_t *len)
{
	char newdir[512], name[512], path[1024];

	snprintf(newdir, sizeof(newdir), "%s/new", dir);
	ck_assert_int_eq(tu_count_dir(newdir), 1);
	ck_assert_int_eq(tu_dir_entry(newdir, 0, name, sizeof(name)), 0);
	snprintf(path, sizeof(path), "%s/%s", newdir, name);
	return tu_read_file(path, len);
}

START_TEST(test_deliver_plain)
{
	char dir[512];
	struct psmtpd_init ctx;
	struct psmtpd_session s;

	tu_tempdir(dir, sizeof(dir), "maildir");
	struct maildir_conf *mc = md_setup(dir, 0, 1, &ctx);
	ck_assert_ptr_nonnull(mc);
	stub_session(&s, "alice@example.org", rcpts1,
	    "Subject: hi\n\nbody\n.dot\nlast");
	ck_assert_int_eq(stub_code(&s, psmtpd_plugin.process_message(&s,
	    mc)), 250);
	size_t len;
	char *got = md_only_file(dir, &len);
	ck_assert_str_eq(got, "Subject: hi\n\nbody\n.dot\nlast\n");
	free(got);
	ck_assert_int_eq(tu_count_dir(dir), 3);	/* tmp new cur */
	psmtpd_plugin.fini(mc);
	tu_rmtree(dir);
}
END_TEST

/* What add_headers makes of each data, as PureProxy places X-Peer. */
static const struct {
	const char *data, *file;
	const char *from;	/* NULL: alice@example.org */
} md_header_cases[] = {
	{ "A: 1\nB: 2\n\nbody", "Return-Path: <alice@example.org>\n"
	    "A: 1\nB: 2\nX-Peer: 192.0.2.7\n\nbody\n", NULL },
	{ "A: 1", "Return-Path: <alice@example.org>\nA: 1\n"
	    "X-Peer: 192.0.2.7\n", NULL },
	{ "A: 1\n", "Return-Path: <alice@example.org>\nA: 1\n"
	    "X-Peer: 192.0.2.7\n\n", NULL },
	{ "\nbody", "Return-Path: <alice@example.org>\nX-Peer: 192.0.2.7\n"
	    "\nbody\n", NULL },
	{ "", "Return-Path: <alice@example.org>\nX-Peer: 192.0.2.7\n", NULL },
	/* A sender with a line break (only a plugin could set one: the
	 * channel refuses it) cannot add a header line. */
	{ "A: 1\n", "Return-Path: <\"a??X-Injected: yes\"@x?>\nA: 1\n"
	    "X-Peer: 192.0.2.7\n\n", "\"a\r\nX-Injected: yes\"@x\x7f" },
};

START_TEST(test_deliver_headers)
{
	char dir[512];
	struct psmtpd_init ctx;
	struct psmtpd_session s;

	tu_tempdir(dir, sizeof(dir), "maildir");
	struct maildir_conf *mc = md_setup(dir, 1, 1, &ctx);
	ck_assert_ptr_nonnull(mc);
	stub_session(&s, md_header_cases[_i].from != NULL ?
	    md_header_cases[_i].from : "alice@example.org", rcpts1,
	    md_header_cases[_i].data);
	ck_assert_int_eq(stub_code(&s, psmtpd_plugin.process_message(&s,
	    mc)), 250);
	size_t len;
	char *got = md_only_file(dir, &len);
	ck_assert_str_eq(got, md_header_cases[_i].file);
	free(got);
	psmtpd_plugin.fini(mc);
	tu_rmtree(dir);
}
END_TEST

START_TEST(test_names)
{
	struct maildir_conf mc = { .dir = "/x" };
	char a[512], b[512];

	maildir_host(mc.host, sizeof(mc.host), "mx/1:2.example");
	ck_assert_str_eq(mc.host, "mx\\0571\\0722.example");
	ck_assert_int_eq(maildir_name(&mc, 42, a, sizeof(a)), 0);
	ck_assert_int_eq(maildir_name(&mc, 42, b, sizeof(b)), 0);
	ck_assert_str_ne(a, b);
	ck_assert_ptr_nonnull(strstr(a, ".mx\\0571\\0722.example,S=42"));
	ck_assert_ptr_null(strchr(a, '/'));
	ck_assert_ptr_null(strchr(a, ':'));
	char pid[32];
	snprintf(pid, sizeof(pid), "P%ldQ1R", (long)getpid());
	ck_assert_ptr_nonnull(strstr(a, pid));
}
END_TEST

/* Bad or missing settings are errors at init, about the right key. */
static const struct {
	struct stub_setting set[3];
	const char *error;
} md_bad_cases[] = {
	{ { { .key = "dir", .type = STUB_STR, .str = "rel/dir" } },
	    "dir: dir must be an absolute path" },
	{ { { .key = "dir", .type = STUB_INT, .num = 3 } }, "dir: wrong" },
	{ { { .key = "dir", .type = STUB_STR, .str = "" } },
	    "dir: dir must not be empty" },
	{ { { .key = "dir", .type = STUB_STR, .str = "/nonexistent/md" },
	    { .key = "create", .type = STUB_BOOL, .num = 0 } },
	    "dir: /nonexistent/md is not a maildir" },
	{ { { .key = "dir", .type = STUB_STR, .str = "/tmp" },
	    { .key = "add_headers", .type = STUB_STR, .str = "yes" } },
	    "add_headers: wrong" },
};

/* Without settings ("-c maildir"): ~/Maildir. */
START_TEST(test_default_dir)
{
	struct psmtpd_init ctx;
	struct stub_setting none[] = { { .key = NULL } };
	void *pd = NULL;

	setenv("HOME", "/home/someone", 1);
	stub_init_ctx(&ctx, none);
	ck_assert_int_eq(psmtpd_plugin.init(&ctx, &pd), 0);
	ck_assert_str_eq(((struct maildir_conf *)pd)->dir,
	    "/home/someone/Maildir");
	psmtpd_plugin.fini(pd);
}
END_TEST

START_TEST(test_bad_settings)
{
	struct psmtpd_init ctx;
	void *pd = NULL;

	stub_init_ctx(&ctx, md_bad_cases[_i].set);
	ck_assert_int_eq(psmtpd_plugin.init(&ctx, &pd), -1);
	ck_assert_ptr_null(pd);
	ck_assert_msg(strstr(ctx.errors, md_bad_cases[_i].error) ==
	    ctx.errors, "errors: %s", ctx.errors);
}
END_TEST

/* A write that fails (a file size limit: EFBIG, as a full disk gives
 * ENOSPC) is a 451 and leaves nothing in tmp/ or new/. */
START_TEST(test_write_failure)
{
	char dir[512], sub[600];
	struct psmtpd_init ctx;
	struct psmtpd_session s;
	struct rlimit rl = { 16, 16 };

	tu_tempdir(dir, sizeof(dir), "maildir");
	struct maildir_conf *mc = md_setup(dir, 1, 1, &ctx);
	ck_assert_ptr_nonnull(mc);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	stub_session(&s, "a@example.org", rcpts1,
	    "Subject: a message longer than sixteen bytes\n\nbody");
	ck_assert_int_eq(stub_code(&s, psmtpd_plugin.process_message(&s,
	    mc)), 451);
	ck_assert_ptr_nonnull(strstr(s.reply, "File too large"));
	snprintf(sub, sizeof(sub), "%s/tmp", dir);
	ck_assert_int_eq(tu_count_dir(sub), 0);
	snprintf(sub, sizeof(sub), "%s/new", dir);
	ck_assert_int_eq(tu_count_dir(sub), 0);
	psmtpd_plugin.fini(mc);
	tu_rmtree(dir);
}
END_TEST

/* tmp/ that cannot take files (read-only, or not a directory when the
 * test runs as root, who may write anywhere) is a 451. */
START_TEST(test_unwritable)
{
	char dir[512], sub[600];
	struct psmtpd_init ctx;
	struct psmtpd_session s;

	tu_tempdir(dir, sizeof(dir), "maildir");
	snprintf(sub, sizeof(sub), "%s/tmp", dir);
	if (geteuid() == 0)
		tu_write_file(sub, "", 0);
	struct maildir_conf *mc = md_setup(dir, 1, 1, &ctx);
	ck_assert_ptr_nonnull(mc);
	if (geteuid() != 0)
		ck_assert_int_eq(chmod(sub, 0500), 0);
	stub_session(&s, "a@example.org", rcpts1, "Subject: x\n\nbody");
	ck_assert_int_eq(stub_code(&s, psmtpd_plugin.process_message(&s,
	    mc)), 451);
	ck_assert_ptr_nonnull(strstr(s.reply, "451 4.3.0 Error: cannot "
	    "deliver to the maildir: "));
	snprintf(sub, sizeof(sub), "%s/new", dir);
	ck_assert_int_eq(tu_count_dir(sub), 0);
	psmtpd_plugin.fini(mc);
	snprintf(sub, sizeof(sub), "%s/tmp", dir);
	chmod(sub, 0700);
	tu_rmtree(dir);
}
END_TEST

#define MD_SENDERS 20
#define MD_EACH 10

/* md_sender - one concurrent writer, in a child process. */
static void
md_sender(const char *dir, int who)
{
	struct psmtpd_init ctx;
	struct psmtpd_session s;
	char data[256];
	struct maildir_conf *mc = md_setup(dir, 0, 1, &ctx);

	if (mc == NULL)
		_exit(2);
	for (int i = 0; i < MD_EACH; i++) {
		snprintf(data, sizeof(data), "X-Test: %d.%d\n\nFrom here\n"
		    ".\n..\nmessage %d of sender %d", who, i, i, who);
		stub_session(&s, "a@example.org", rcpts1, data);
		if (stub_code(&s, psmtpd_plugin.process_message(&s, mc)) !=
		    250)
			_exit(3);
	}
	psmtpd_plugin.fini(mc);
	_exit(0);
}

/* Twenty processes at once: every message there exactly once, whole. */
START_TEST(test_concurrent)
{
	char dir[512], newdir[600], name[512], path[1200], want[256];
	int seen[MD_SENDERS][MD_EACH] = { { 0 } };
	pid_t pids[MD_SENDERS];

	tu_tempdir(dir, sizeof(dir), "maildir");
	for (int w = 0; w < MD_SENDERS; w++) {
		pids[w] = fork();
		ck_assert_int_ge(pids[w], 0);
		if (pids[w] == 0)
			md_sender(dir, w);
	}
	for (int w = 0; w < MD_SENDERS; w++) {
		int st;
		ck_assert_int_eq(waitpid(pids[w], &st, 0), pids[w]);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	snprintf(newdir, sizeof(newdir), "%s/new", dir);
	ck_assert_int_eq(tu_count_dir(newdir), MD_SENDERS * MD_EACH);
	for (int n = 0; n < MD_SENDERS * MD_EACH; n++) {
		int who, i;
		ck_assert_int_eq(tu_dir_entry(newdir, n, name, sizeof(name)), 0);
		snprintf(path, sizeof(path), "%s/%s", newdir, name);
		char *got = tu_read_file(path, NULL);
		ck_assert_int_eq(sscanf(got, "X-Test: %d.%d", &who, &i), 2);
		ck_assert(who >= 0 && who < MD_SENDERS && i >= 0 &&
		    i < MD_EACH);
		snprintf(want, sizeof(want), "X-Test: %d.%d\n\nFrom here\n"
		    ".\n..\nmessage %d of sender %d\n", who, i, i, who);
		ck_assert_str_eq(got, want);
		ck_assert_int_eq(seen[who][i]++, 0);
		free(got);
	}
	tu_rmtree(dir);
}
END_TEST

static Suite *
maildir_suite(void)
{
	Suite *s = suite_create("delivery_maildir");
	TCase *tc = tcase_create("maildir");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_deliver_plain);
	tcase_add_loop_test(tc, test_deliver_headers, 0,
	    sizeof(md_header_cases) / sizeof(md_header_cases[0]));
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_default_dir);
	tcase_add_loop_test(tc, test_bad_settings, 0,
	    sizeof(md_bad_cases) / sizeof(md_bad_cases[0]));
	tcase_add_test(tc, test_write_failure);
	tcase_add_test(tc, test_unwritable);
	tcase_add_test(tc, test_concurrent);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run_suite(maildir_suite());
}
