/*
 * delivery_testutil.h - file helpers of the delivery plugins' tests.
 */
#ifndef PSMTPD_DELIVERY_TESTUTIL_H
#define PSMTPD_DELIVERY_TESTUTIL_H

#include <stddef.h>

#include <check.h>

/* A new directory under $TMPDIR (or /tmp); path has room for 256. */
void tu_tempdir(char *path, size_t size, const char *tag);
/* Remove a tree made by a test (depth and count bounded). */
void tu_rmtree(const char *path);
/* A whole file, malloc'd and NUL-terminated; NULL when unreadable. */
char *tu_read_file(const char *path, size_t *len);
/* Write a whole file (mode 0755 when exec is set). */
void tu_write_file(const char *path, const char *text, int exec);
/* How many entries (not . and ..) a directory has; -1 when unreadable. */
int tu_count_dir(const char *path);
/* The name of the n-th entry of a directory, in readdir order. */
int tu_dir_entry(const char *path, int n, char *name, size_t size);

/* Run a suite in check's fork mode; the exit status for main(). */
int tu_run_suite(Suite *s);

#endif
