/*
 * delivery_testutil.c - file helpers of the delivery plugins' tests.
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "delivery_testutil.h"

void
tu_tempdir(char *path, size_t size, const char *tag)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(path, size, "%s/psmtpd-%s-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp", tag);
	ck_assert_ptr_nonnull(mkdtemp(path));
}

static void
tu_rmtree_depth(const char *path, int depth)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char sub[1024];

	if (d == NULL) {
		unlink(path);
		return;
	}
	for (int i = 0; i < 100000 && (e = readdir(d)) != NULL; i++) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (depth < 8 && e->d_type == DT_DIR)
			tu_rmtree_depth(sub, depth + 1);
		else
			unlink(sub);
	}
	closedir(d);
	rmdir(path);
}

void
tu_rmtree(const char *path)
{
	tu_rmtree_depth(path, 0);
}

char *
tu_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;

	if (fd < 0)
		return NULL;
	ck_assert_int_eq(fstat(fd, &st), 0);
	char *buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	size_t n = 0;
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		ck_assert_int_gt(r, 0);
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

void
tu_write_file(const char *path, const char *text, int exec)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, exec ? 0755 : 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)),
	    (ssize_t)strlen(text));
	ck_assert_int_eq(close(fd), 0);
}

int
tu_count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	for (int i = 0; i < 1000000 && (e = readdir(d)) != NULL; i++)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

int
tu_dir_entry(const char *path, int n, char *name, size_t size)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int k = 0;

	if (d == NULL)
		return -1;
	for (int i = 0; i < 1000000 && (e = readdir(d)) != NULL; i++) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (k++ == n) {
			snprintf(name, size, "%s", e->d_name);
			closedir(d);
			return 0;
		}
	}
	closedir(d);
	return -1;
}

int
tu_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
