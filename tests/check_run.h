/*
 * check_run.h - run a check suite and turn its result into an exit
 * status, the tail of every test program's main().
 */
#ifndef PSMTPD_TESTS_CHECK_RUN_H
#define PSMTPD_TESTS_CHECK_RUN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * CHECK_SKIP("haproxy is not installed") - inside a START_TEST: the test
 * cannot run here because its real peer (a tool or server) cannot start.
 * Prints "SKIP: <test>: <why>" on a line of its own and returns.  check
 * counts the test as passed; .ci/run counts these lines as skipped.
 */
#define CHECK_SKIP(...) do { \
	printf("SKIP: %s: ", __func__); \
	printf(__VA_ARGS__); \
	printf("\n"); \
	fflush(stdout); \
	return; \
} while (0)

static inline int
check_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
