/*
 * check_delivery_pipe.c - the pipe plugin, its hooks called directly,
 * running real commands through /bin/sh.
 */
#include "../plugins/pipe.c"

#include <check.h>

#include "delivery_stubs.h"
#include "delivery_testutil.h"

static const char *const rcpts2[] = { "bob@example.org", "carol@example.org",
    NULL };

/* pp_setup - init with command argv (NULL-terminated) and timeout. */
static struct pipe_conf *
pp_setup(const char *const *argv, long long timeout, struct psmtpd_init *ctx,
    struct stub_setting *set)
{
	void *pd = NULL;

	memset(set, 0, 3 * sizeof(*set));
	set[0].key = "command";
	set[0].type = STUB_LIST;
	for (size_t i = 0; argv[i] != NULL && i < 15; i++)
		set[0].list[i] = argv[i];
	set[1].key = "timeout";
	set[1].type = STUB_INT;
	set[1].num = timeout;
	stub_init_ctx(ctx, set);
	if (psmtpd_plugin.init(ctx, &pd) != 0)
		return NULL;
	return pd;
}

/* pp_run - one message through sh -c script; the reply code. */
static int
pp_run(const char *script, const char *arg0, long long timeout,
    const char *data, struct psmtpd_session *s)
{
	const char *argv[] = { "/bin/sh", "-c", script, arg0, "%s", "%r",
	    "x%%y%c", NULL };
	struct psmtpd_init ctx;
	struct stub_setting set[3];
	struct pipe_conf *pc = pp_setup(argv, timeout, &ctx, set);

	ck_assert_msg(pc != NULL, "init: %s", ctx.errors);
	stub_session(s, "alice@example.org", rcpts2, data);
	int code = stub_code(s, psmtpd_plugin.process_message(s, pc));
	psmtpd_plugin.fini(pc);
	return code;
}

START_TEST(test_success)
{
	char dir[512], out[600], path[700];
	struct psmtpd_session s;

	tu_tempdir(dir, sizeof(dir), "pipe");
	snprintf(out, sizeof(out), "%s/out", dir);
	ck_assert_int_eq(pp_run("cat > \"$0\"; printf '%%s|' \"$@\" > "
	    "\"$0.args\"; env > \"$0.env\"", out, 10,
	    "Subject: x\n\nFrom me\n.\nend", &s), 250);
	char *got = tu_read_file(out, NULL);
	ck_assert_str_eq(got, "Subject: x\n\nFrom me\n.\nend\n");
	free(got);
	snprintf(path, sizeof(path), "%s.args", out);
	got = tu_read_file(path, NULL);
	ck_assert_str_eq(got, "alice@example.org|bob@example.org|"
	    "carol@example.org|x%y192.0.2.7|");
	free(got);
	snprintf(path, sizeof(path), "%s.env", out);
	got = tu_read_file(path, NULL);
	ck_assert_ptr_nonnull(strstr(got, "SENDER=alice@example.org\n"));
	ck_assert_ptr_nonnull(strstr(got, "RECIPIENTS=bob@example.org "
	    "carol@example.org\n"));
	ck_assert_ptr_nonnull(strstr(got, "CLIENT_ADDRESS=192.0.2.7\n"));
	ck_assert_ptr_nonnull(strstr(got, "CLIENT_HELO=client.example\n"));
	free(got);
	ck_assert_ptr_nonnull(strstr(s.log, "pipe delivered"));
	tu_rmtree(dir);
}
END_TEST

/* Exit statuses and their replies; the output is logged. */
static const struct {
	const char *script;
	int code;
	const char *reply, *log;
} pp_status_cases[] = {
	{ "cat >/dev/null; echo oops >&2; exit 1", 554,
	    "554 5.3.0 Error: delivery command failed (exit 1)",
	    "status=exit/1 size=10 output=\"oops\"" },
	{ "cat >/dev/null; echo later; exit 75", 451,
	    "451 4.3.0 Error: delivery command failed temporarily (exit 75)",
	    "output=\"later\"" },
	{ "kill -9 $$", 451, "451 4.3.0 Error: delivery command killed by "
	    "signal 9", "status=signal/9" },
	{ "exit 0", 250, "", "pipe delivered" },
	{ "exit 67", 554, "554 5.3.0 Error: delivery command failed (exit 67)",
	    "status=exit/67" },
};

START_TEST(test_status)
{
	struct psmtpd_session s;

	ck_assert_int_eq(pp_run(pp_status_cases[_i].script, "sh", 10,
	    "Subject: x", &s), pp_status_cases[_i].code);
	ck_assert_str_eq(s.reply, pp_status_cases[_i].reply);
	ck_assert_msg(strstr(s.log, pp_status_cases[_i].log) != NULL,
	    "log: %s", s.log);
}
END_TEST

/* pp_big - a message of n bytes in lines. */
static char *
pp_big(size_t n)
{
	char *data = malloc(n + 1);

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < n; i++)
		data[i] = i % 64 == 63 ? '\n' : 'a' + (char)(i % 26);
	data[n] = '\0';
	return data;
}

/* A command that hangs, with or without reading, and one that leaves
 * a big message unread: the time limit holds, nothing deadlocks, the
 * group is killed. */
static const struct {
	const char *script;
	size_t size;
	int code;
} pp_hang_cases[] = {
	{ "echo $$ > \"$0\"; sleep 30 & echo $! >> \"$0\"; wait", 10, 451 },
	{ "echo $$ > \"$0\"; sleep 30", 4 << 20, 451 },
	{ "echo $$ > \"$0\"; exit 0", 4 << 20, 250 },
	{ "echo $$ > \"$0\"; exec 0<&-; sleep 30", 4 << 20, 451 },
};

START_TEST(test_hang)
{
	char dir[512], pidfile[600];
	struct psmtpd_session s;
	char *data = pp_big(pp_hang_cases[_i].size);

	tu_tempdir(dir, sizeof(dir), "pipe");
	snprintf(pidfile, sizeof(pidfile), "%s/pids", dir);
	long long t0 = delivery_now_ms();
	ck_assert_int_eq(pp_run(pp_hang_cases[_i].script, pidfile, 1, data,
	    &s), pp_hang_cases[_i].code);
	ck_assert_int_lt(delivery_now_ms() - t0, 5000);
	if (pp_hang_cases[_i].code == 451)
		ck_assert_str_eq(s.reply, "451 4.3.0 Error: delivery command "
		    "timed out");
	char *pids = tu_read_file(pidfile, NULL);
	ck_assert_ptr_nonnull(pids);
	for (char *p = pids; *p != '\0'; p = strchr(p, '\n') + 1) {
		pid_t pid = (pid_t)atol(p);
		int gone = 0;
		for (int i = 0; i < 200 && !gone; i++) {
			gone = kill(pid, 0) != 0 && errno == ESRCH;
			if (!gone)
				usleep(10000);
		}
		ck_assert_msg(gone, "pid %ld still there", (long)pid);
		if (strchr(p, '\n') == NULL)
			break;
	}
	free(pids);
	free(data);
	tu_rmtree(dir);
}
END_TEST

static const struct {
	const char *argv[4];
	long long timeout;
	const char *error;
} pp_bad_cases[] = {
	{ { NULL }, 5, "command: command must not be empty" },
	{ { "sendmail", "-i", NULL }, 5, "command: sendmail: not an "
	    "absolute path" },
	{ { "/nonexistent/sendmail", NULL }, 5, "command: "
	    "/nonexistent/sendmail: No such file" },
	{ { "/bin/true", "%x", NULL }, 5, "command: bad placeholder in "
	    "\"%x\"" },
	{ { "/bin/true", "a%r", NULL }, 5, "command: bad placeholder" },
	{ { "/bin/true", "50%", NULL }, 5, "command: bad placeholder" },
	{ { "/bin/true", NULL }, 0, "timeout: timeout must be between" },
};

/* Without settings ("-c pipe"): sendmail -i -f sender -- recipients. */
START_TEST(test_default_command)
{
	struct psmtpd_init ctx;
	struct stub_setting none[] = { { .key = NULL } };
	void *pd = NULL;

	stub_init_ctx(&ctx, none);
	if (access("/usr/sbin/sendmail", X_OK) != 0) {
		ck_assert_int_eq(psmtpd_plugin.init(&ctx, &pd), -1);
		ck_assert_str_eq(ctx.errors, "command: /usr/sbin/sendmail: "
		    "No such file or directory\n");
		return;
	}
	ck_assert_int_eq(psmtpd_plugin.init(&ctx, &pd), 0);
	struct pipe_conf *pc = pd;
	ck_assert_uint_eq(pc->argc, 6);
	ck_assert_str_eq(pc->argv[0], "/usr/sbin/sendmail");
	ck_assert_str_eq(pc->argv[5], "%r");
	psmtpd_plugin.fini(pd);
}
END_TEST

START_TEST(test_bad_settings)
{
	struct psmtpd_init ctx;
	struct stub_setting set[3];

	ck_assert_ptr_null(pp_setup(pp_bad_cases[_i].argv,
	    pp_bad_cases[_i].timeout, &ctx, set));
	ck_assert_msg(strstr(ctx.errors, pp_bad_cases[_i].error) ==
	    ctx.errors, "errors: %s", ctx.errors);
}
END_TEST

static Suite *
pipe_suite(void)
{
	Suite *s = suite_create("delivery_pipe");
	TCase *tc = tcase_create("pipe");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_success);
	tcase_add_test(tc, test_default_command);
	tcase_add_loop_test(tc, test_status, 0,
	    sizeof(pp_status_cases) / sizeof(pp_status_cases[0]));
	tcase_add_loop_test(tc, test_hang, 0,
	    sizeof(pp_hang_cases) / sizeof(pp_hang_cases[0]));
	tcase_add_loop_test(tc, test_bad_settings, 0,
	    sizeof(pp_bad_cases) / sizeof(pp_bad_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run_suite(pipe_suite());
}
