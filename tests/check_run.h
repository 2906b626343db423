/*
 * check_run.h - run a check suite and turn its result into an exit
 * status, the tail of every test program's main().
 */
#ifndef PSMTPD_TESTS_CHECK_RUN_H
#define PSMTPD_TESTS_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

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
