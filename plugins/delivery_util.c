/*
 * delivery_util.c - helpers shared by the stock delivery plugins.
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <psmtpd/plugin.h>

#include "delivery_util.h"

/* delivery_header_end - the offset of the first empty line, as PureProxy's
 * "for line in data.split('\n'): if not line: break" finds it. */
size_t
delivery_header_end(const char *data, size_t len, int *at_end)
{
	size_t pos = 0;

	while (pos <= len) {
		if (pos == len || data[pos] == '\n') {
			*at_end = 0;
			return pos;
		}
		const char *nl = memchr(data + pos, '\n', len - pos);
		if (nl == NULL)
			break;
		pos = (size_t)(nl - data) + 1;
	}
	*at_end = 1;
	return len;
}

int
delivery_setting_range(psmtpd_init *ctx, const char *key, long long min,
    long long max, long long *out)
{
	long long v;
	int r = psmtpd_setting_int(ctx, key, &v);

	if (r < 0)
		return -1;
	if (r == 0)
		return 0;
	if (v < min || v > max) {
		psmtpd_init_error(ctx, key, "%s must be between %lld and %lld",
		    key, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int
delivery_setting_flag(psmtpd_init *ctx, const char *key, int *out)
{
	int v;
	int r = psmtpd_setting_bool(ctx, key, &v);

	if (r < 0)
		return -1;
	if (r > 0)
		*out = v != 0;
	return 0;
}

int
delivery_setting_text(psmtpd_init *ctx, const char *key, int required,
    const char **out)
{
	const char *v;
	int r = psmtpd_setting_string(ctx, key, &v);

	if (r < 0)
		return -1;
	if (r == 0) {
		if (!required)
			return 0;
		psmtpd_init_error(ctx, NULL, "the setting %s is required",
		    key);
		return -1;
	}
	if (*v == '\0') {
		psmtpd_init_error(ctx, key, "%s must not be empty", key);
		return -1;
	}
	*out = v;
	return 0;
}

int
delivery_home(char *buf, size_t size)
{
	const char *home = getenv("HOME");

	if (home == NULL || home[0] != '/') {
		struct passwd *pw = getpwuid(geteuid());
		home = pw != NULL ? pw->pw_dir : NULL;
	}
	if (home == NULL || home[0] != '/')
		return -1;
	return snprintf(buf, size, "%s", home) < (int)size ? 0 : -1;
}

int
delivery_user(char *buf, size_t size)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw == NULL || pw->pw_name[0] == '\0')
		return -1;
	return snprintf(buf, size, "%s", pw->pw_name) < (int)size ? 0 : -1;
}

int
delivery_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
delivery_sanitize(char *dst, size_t size, const char *text, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < size; i++) {
		unsigned char c = (unsigned char)text[i];
		dst[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[n] = '\0';
}

int
delivery_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	int r = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}

long long
delivery_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
delivery_ms_left(long long deadline)
{
	long long left = deadline - delivery_now_ms();

	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}
