/*
 * spool.h - a byte buffer that lives in memory up to a limit and in an
 * unlinked temporary file past it, so that a worker's memory does not grow
 * with the size of a message.  Written once, front to back, then read
 * through one pointer (the memory, or a read-only mapping of the file).
 */
#ifndef PSMTPD_SPOOL_H
#define PSMTPD_SPOOL_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes written to the file at a time once spilled (the staging buffer). */
#define SPOOL_STAGE (64 * 1024)

struct spool {
	const char *dir;	/* where the temporary file goes */
	size_t limit;		/* past this many bytes: the file */
	char *buf;		/* everything, or the staging part once spilled */
	size_t len, cap;	/* in buf */
	size_t total;		/* bytes written, in buf and file */
	int fd;			/* -1 while in memory */
	char *map;		/* the file's mapping after spool_finish */
	size_t maplen;
};

/* The default spool directory: $TMPDIR when set, else /var/tmp. */
const char *spool_default_dir(void);

void spool_init(struct spool *sp, const char *dir, size_t limit);
/* Where and past what size an empty spool spills, its buffer kept (a
 * worker's next session). */
void spool_place(struct spool *sp, const char *dir, size_t limit);
/* Room for n bytes to be written at the end: a pointer, or NULL (out of
 * memory).  spool_commit() then says how many were written. */
char *spool_room(struct spool *sp, size_t n);
/* n bytes written into the room: 0, or -1 with errno (the file could not
 * be created or written: ENOSPC, EACCES). */
int spool_commit(struct spool *sp, size_t n);
int spool_append(struct spool *sp, const void *p, size_t n);
/* Done writing: the whole content, NUL-terminated, and its length; NULL
 * with errno when it cannot be read back. */
const char *spool_finish(struct spool *sp, size_t *len);
/* 1 when the content went to a file. */
bool spool_spilled(const struct spool *sp);
/* Empty again (the file closed, the buffer kept if small). */
void spool_reset(struct spool *sp);
void spool_free(struct spool *sp);

#endif
