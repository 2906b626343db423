/*
 * spool.c - memory up to a limit, then an unlinked temporary file.
 *
 * The file is created with O_TMPFILE where the file system has it (no
 * name ever exists, nothing is left behind by a crash), else with
 * mkstemp() and unlinked at once.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "spool.h"

/* The buffer is given back after a message that grew it past this. */
#define SPOOL_KEEP (256 * 1024)

const char *
spool_default_dir(void)
{
	const char *t = getenv("TMPDIR");

	return t != NULL && t[0] == '/' ? t : "/var/tmp";
}

void
spool_init(struct spool *sp, const char *dir, size_t limit)
{
	memset(sp, 0, sizeof(*sp));
	sp->fd = -1;
	spool_place(sp, dir, limit);
}

void
spool_place(struct spool *sp, const char *dir, size_t limit)
{
	sp->dir = dir != NULL ? dir : spool_default_dir();
	sp->limit = limit;
}

/* spool_open - the unlinked temporary file in sp->dir. */
static int
spool_open(const struct spool *sp)
{
	char path[4096];
	int fd;

#ifdef O_TMPFILE
	fd = open(sp->dir, O_TMPFILE | O_RDWR | O_CLOEXEC | O_EXCL, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd;
#endif
	if (snprintf(path, sizeof(path), "%s/psmtpd.XXXXXX", sp->dir) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
		return -1;
	if (unlink(path) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* spool_write_all - n bytes to the file, retrying short writes. */
static int
spool_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* spool_flush - the staging bytes to the file; the buffer is empty. */
static int
spool_flush(struct spool *sp)
{
	if (spool_write_all(sp->fd, sp->buf, sp->len) != 0)
		return -1;
	sp->len = 0;
	return 0;
}

char *
spool_room(struct spool *sp, size_t n)
{
	if (sp->len + n + 1 <= sp->cap)
		return sp->buf + sp->len;
	size_t cap = sp->cap ? sp->cap : 4096;
	while (cap < sp->len + n + 1) {
		if (cap > ((size_t)-1) / 2)
			return NULL;
		cap *= 2;
	}
	char *b = realloc(sp->buf, cap);
	if (b == NULL)
		return NULL;
	sp->buf = b;
	sp->cap = cap;
	return sp->buf + sp->len;
}

int
spool_commit(struct spool *sp, size_t n)
{
	sp->len += n;
	sp->total += n;
	if (sp->fd < 0 && sp->total <= sp->limit)
		return 0;
	if (sp->fd < 0 && (sp->fd = spool_open(sp)) < 0)
		return -1;
	return sp->len >= SPOOL_STAGE ? spool_flush(sp) : 0;
}

int
spool_append(struct spool *sp, const void *p, size_t n)
{
	char *room = spool_room(sp, n);

	if (room == NULL) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(room, p, n);
	return spool_commit(sp, n);
}

/* spool_map - flush, add the NUL, map the file read-only. */
static const char *
spool_map(struct spool *sp)
{
	if (spool_flush(sp) != 0 || spool_write_all(sp->fd, "", 1) != 0)
		return NULL;
	void *m = mmap(NULL, sp->total + 1, PROT_READ, MAP_PRIVATE, sp->fd, 0);
	if (m == MAP_FAILED)
		return NULL;
	sp->map = m;
	sp->maplen = sp->total + 1;
	return sp->map;
}

const char *
spool_finish(struct spool *sp, size_t *len)
{
	*len = sp->total;
	if (sp->map != NULL)
		return sp->map;
	if (sp->fd >= 0)
		return spool_map(sp);
	if (spool_room(sp, 0) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	sp->buf[sp->len] = '\0';
	return sp->buf;
}

bool
spool_spilled(const struct spool *sp)
{
	return sp->fd >= 0;
}

void
spool_reset(struct spool *sp)
{
	if (sp->map != NULL)
		munmap(sp->map, sp->maplen);
	if (sp->fd >= 0)
		close(sp->fd);
	if (sp->cap > SPOOL_KEEP) {
		free(sp->buf);
		sp->buf = NULL;
		sp->cap = 0;
	}
	sp->map = NULL;
	sp->maplen = 0;
	sp->fd = -1;
	sp->len = 0;
	sp->total = 0;
}

void
spool_free(struct spool *sp)
{
	spool_reset(sp);
	free(sp->buf);
	sp->buf = NULL;
	sp->cap = 0;
}
