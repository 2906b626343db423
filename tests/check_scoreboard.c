/*
 * check_scoreboard.c - the shared-memory scoreboard: opening and closing
 * slots, reads that stay safe over a corrupted slot, and that a forked
 * child's writes are seen.
 */
#include "autoconfig.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scoreboard.h"

START_TEST(test_open_close)
{
	struct scoreboard *sb = scoreboard_create(3, NULL);

	ck_assert_ptr_nonnull(sb);
	ck_assert_uint_eq(scoreboard_size(sb), 3);
	ck_assert_int_eq(scoreboard_state(sb, 1), SB_FREE);
	scoreboard_open_slot(sb, 1, 7);
	ck_assert_int_eq(scoreboard_state(sb, 1), SB_STARTING);
	ck_assert_uint_eq(scoreboard_slot(sb, 1)->generation, 7);
	scoreboard_show(sb, 1, 4242, 8);
	ck_assert_int_eq(scoreboard_slot(sb, 1)->pid, 4242);
	scoreboard_set_leave(sb, 1);
	ck_assert(scoreboard_leaving(sb, 1));
	scoreboard_close_slot(sb, 1);
	ck_assert_int_eq(scoreboard_state(sb, 1), SB_FREE);
	ck_assert(!scoreboard_leaving(sb, 1));
	ck_assert_int_eq(scoreboard_slot(sb, 1)->pid, 0);
	ck_assert_ptr_null(scoreboard_slot(sb, 3));
	ck_assert_int_eq(scoreboard_state(sb, 3), SB_FREE);
	scoreboard_destroy(sb);
}
END_TEST

/* What a worker may have scribbled over its slot: the master's reads stay
 * in bounds and never see an idle worker in garbage. */
START_TEST(test_corrupted_slot)
{
	struct scoreboard *sb = scoreboard_create(2, NULL);
	struct sb_slot *s = scoreboard_slot(sb, 0);
	struct sb_slot copy;

	memset(s, 0xff, sizeof(*s));
	ck_assert_int_eq(scoreboard_state(sb, 0), SB_COMMAND);
	s->state = 99;
	ck_assert_int_eq(scoreboard_state(sb, 0), SB_COMMAND);
	s->state = SB_PLUGIN;
	memset(s->client, 'x', sizeof(s->client));	/* no NUL */
	s->client[3] = '\n';
	memcpy(s->plugin, "a\033b", 4);
	scoreboard_read(sb, 0, &copy);
	ck_assert_uint_eq(strlen(copy.client), SCOREBOARD_CLIENT_MAX - 1);
	ck_assert_int_eq(copy.client[3], '?');
	ck_assert_str_eq(copy.plugin, "a?b");
	ck_assert_int_eq(copy.state, SB_PLUGIN);
	/* counting clients reads the same bounded copy */
	ck_assert_int_eq(scoreboard_count_client(sb, "xxx?xxxx:25"), 0);
	scoreboard_destroy(sb);
}
END_TEST

START_TEST(test_shared_with_child)
{
	struct scoreboard *sb = scoreboard_create(2, NULL);
	struct sb_slot copy;
	int status;
	pid_t pid;

	scoreboard_open_slot(sb, 1, 7);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		scoreboard_session_begin(sb, 1, "[::1]:4000");
		scoreboard_set_state(sb, 1, SB_PLUGIN, "maildir");
		scoreboard_count_message(sb, 1, true);
		scoreboard_count_message(sb, 1, false);
		scoreboard_count_message(sb, 1, true);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	scoreboard_read(sb, 1, &copy);
	ck_assert_int_eq(copy.state, SB_PLUGIN);
	ck_assert_str_eq(copy.plugin, "maildir");
	ck_assert_str_eq(copy.client, "[::1]:4000");
	ck_assert_uint_eq(copy.sessions, 1);
	ck_assert_uint_eq(copy.accepted, 2);
	ck_assert_uint_eq(copy.refused, 1);
	ck_assert_int_eq(scoreboard_count_client(sb, "[::1]:5000"), 1);
	scoreboard_session_end(sb, 1);
	scoreboard_read(sb, 1, &copy);
	ck_assert_str_eq(copy.client, "");
	ck_assert_uint_eq(copy.sessions, 1);
	scoreboard_set_state(sb, 1, SB_IDLE, "ignored");
	scoreboard_read(sb, 1, &copy);
	ck_assert_str_eq(copy.plugin, "");
	scoreboard_destroy(sb);
}
END_TEST

START_TEST(test_long_strings_truncated)
{
	struct scoreboard *sb = scoreboard_create(1, NULL);
	char big[300];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	scoreboard_open_slot(sb, 0, 1);
	scoreboard_session_begin(sb, 0, big);
	scoreboard_set_state(sb, 0, SB_PLUGIN, big);
	ck_assert_uint_eq(strlen(scoreboard_slot(sb, 0)->client),
	    SCOREBOARD_CLIENT_MAX - 1);
	ck_assert_uint_eq(strlen(scoreboard_slot(sb, 0)->plugin),
	    SCOREBOARD_PLUGIN_MAX - 1);
	scoreboard_destroy(sb);
}
END_TEST

START_TEST(test_stress_word)
{
	struct scoreboard *sb = scoreboard_create(1, NULL);
	const volatile long long *w = scoreboard_stress_word(sb);

	ck_assert_int_eq(scoreboard_stress(sb), 0);
	scoreboard_set_stress(sb, 123456);
	ck_assert_int_eq(*w, 123456);
	ck_assert_int_eq(scoreboard_stress(sb), 123456);
	scoreboard_set_stress(sb, 0);
	ck_assert_int_eq(*w, 0);
	scoreboard_destroy(sb);
}
END_TEST

START_TEST(test_state_names)
{
	ck_assert_str_eq(scoreboard_state_name(SB_IDLE), "idle");
	ck_assert_str_eq(scoreboard_state_name(SB_DATA), "data");
	ck_assert_str_eq(scoreboard_state_name(SB_PLUGIN), "plugin");
	ck_assert_str_eq(scoreboard_state_name((enum sb_state)99), "unknown");
	ck_assert_ptr_null(scoreboard_create(0, NULL));
}
END_TEST

static Suite *
scoreboard_suite(void)
{
	Suite *s = suite_create("scoreboard");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_open_close);
	tcase_add_test(tc, test_corrupted_slot);
	tcase_add_test(tc, test_shared_with_child);
	tcase_add_test(tc, test_stress_word);
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
