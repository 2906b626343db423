/*
 * check_scoreboard.c - the shared-memory scoreboard: claiming and freeing
 * slots, counting, and that a forked child's writes are seen.
 */
#include "autoconfig.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scoreboard.h"

START_TEST(test_claim_release)
{
	struct scoreboard *sb = scoreboard_create(3);
	int a, b, c;

	ck_assert_ptr_nonnull(sb);
	ck_assert_uint_eq(scoreboard_size(sb), 3);
	a = scoreboard_claim(sb, 1, 1000);
	b = scoreboard_claim(sb, 1, 1000);
	c = scoreboard_claim(sb, 1, 1000);
	ck_assert_int_eq(a, 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(c, 2);
	ck_assert_int_eq(scoreboard_claim(sb, 1, 1000), -1);
	scoreboard_slot(sb, 1)->pid = 4242;
	ck_assert_int_eq(scoreboard_find(sb, 4242), 1);
	ck_assert_int_eq(scoreboard_find(sb, 4243), -1);
	ck_assert_int_eq(scoreboard_state(sb, 1), SB_STARTING);
	scoreboard_release(sb, 1);
	ck_assert_int_eq(scoreboard_state(sb, 1), SB_FREE);
	ck_assert_int_eq(scoreboard_find(sb, 4242), -1);
	ck_assert_int_eq(scoreboard_claim(sb, 2, 2000), 1);
	ck_assert_uint_eq(scoreboard_slot(sb, 1)->generation, 2);
	ck_assert_int_eq(scoreboard_slot(sb, 1)->started, 2000);
	ck_assert_ptr_null(scoreboard_slot(sb, 3));
	scoreboard_destroy(sb);
}
END_TEST

/* One row: the state of each of four slots, and the counts expected. */
static const struct {
	int state[4];
	unsigned gen[4];
	int leave[4];
	int live, idle, busy, old;
} count_rows[] = {
	{ { SB_FREE, SB_FREE, SB_FREE, SB_FREE }, { 1, 1, 1, 1 },
	    { 0, 0, 0, 0 }, 0, 0, 0, 0 },
	{ { SB_IDLE, SB_STARTING, SB_COMMAND, SB_FREE }, { 1, 1, 1, 1 },
	    { 0, 0, 0, 0 }, 3, 2, 1, 0 },
	{ { SB_IDLE, SB_DATA, SB_PLUGIN, SB_CLOSING }, { 1, 1, 1, 1 },
	    { 0, 0, 0, 0 }, 4, 1, 3, 0 },
	/* another generation, leaving, exiting: neither idle nor busy */
	{ { SB_IDLE, SB_COMMAND, SB_IDLE, SB_EXITING }, { 0, 0, 1, 1 },
	    { 0, 0, 1, 0 }, 4, 0, 0, 4 },
	{ { SB_IDLE, SB_IDLE, SB_DATA, SB_IDLE }, { 1, 0, 1, 1 },
	    { 0, 0, 0, 1 }, 4, 1, 1, 2 },
};

START_TEST(test_count)
{
	struct scoreboard *sb = scoreboard_create(4);
	struct sb_counts c;

	for (size_t i = 0; i < 4; i++) {
		struct sb_slot *s = scoreboard_slot(sb, i);

		if (count_rows[_i].state[i] == SB_FREE)
			continue;
		ck_assert_int_eq(scoreboard_claim(sb, count_rows[_i].gen[i],
		    0), (int)i);
		s->pid = 100 + (pid_t)i;
		scoreboard_set_state(sb, i, count_rows[_i].state[i], "x");
		if (count_rows[_i].leave[i])
			scoreboard_set_leave(sb, i);
	}
	scoreboard_count(sb, 1, &c);
	ck_assert_int_eq(c.live, count_rows[_i].live);
	ck_assert_int_eq(c.idle, count_rows[_i].idle);
	ck_assert_int_eq(c.busy, count_rows[_i].busy);
	ck_assert_int_eq(c.old, count_rows[_i].old);
	scoreboard_destroy(sb);
}
END_TEST

START_TEST(test_shared_with_child)
{
	struct scoreboard *sb = scoreboard_create(2);
	int slot = scoreboard_claim(sb, 7, 0);
	int status;
	pid_t pid = fork();

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		scoreboard_session(sb, (size_t)slot, "[::1]:4000");
		scoreboard_set_state(sb, (size_t)slot, SB_PLUGIN, "maildir");
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(scoreboard_state(sb, (size_t)slot), SB_PLUGIN);
	ck_assert_str_eq(scoreboard_slot(sb, (size_t)slot)->plugin, "maildir");
	ck_assert_str_eq(scoreboard_slot(sb, (size_t)slot)->client,
	    "[::1]:4000");
	ck_assert_uint_eq(scoreboard_slot(sb, (size_t)slot)->sessions, 1);
	scoreboard_session(sb, (size_t)slot, NULL);
	ck_assert_str_eq(scoreboard_slot(sb, (size_t)slot)->client, "");
	ck_assert_uint_eq(scoreboard_slot(sb, (size_t)slot)->sessions, 1);
	scoreboard_set_state(sb, (size_t)slot, SB_IDLE, "ignored");
	ck_assert_str_eq(scoreboard_slot(sb, (size_t)slot)->plugin, "");
	scoreboard_destroy(sb);
}
END_TEST

START_TEST(test_long_strings_truncated)
{
	struct scoreboard *sb = scoreboard_create(1);
	char big[300];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	scoreboard_claim(sb, 1, 0);
	scoreboard_session(sb, 0, big);
	scoreboard_set_state(sb, 0, SB_PLUGIN, big);
	ck_assert_uint_eq(strlen(scoreboard_slot(sb, 0)->client),
	    SCOREBOARD_CLIENT_MAX - 1);
	ck_assert_uint_eq(strlen(scoreboard_slot(sb, 0)->plugin),
	    SCOREBOARD_PLUGIN_MAX - 1);
	scoreboard_destroy(sb);
}
END_TEST

START_TEST(test_state_names)
{
	ck_assert_str_eq(scoreboard_state_name(SB_IDLE), "idle");
	ck_assert_str_eq(scoreboard_state_name(SB_DATA), "data");
	ck_assert_str_eq(scoreboard_state_name(SB_PLUGIN), "plugin");
	ck_assert_str_eq(scoreboard_state_name((enum sb_state)99), "unknown");
	ck_assert_ptr_null(scoreboard_create(0));
}
END_TEST

static Suite *
scoreboard_suite(void)
{
	Suite *s = suite_create("scoreboard");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_claim_release);
	tcase_add_loop_test(tc, test_count, 0,
	    sizeof(count_rows) / sizeof(count_rows[0]));
	tcase_add_test(tc, test_shared_with_child);
	tcase_add_test(tc, test_long_strings_truncated);
	tcase_add_test(tc, test_state_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(scoreboard_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
