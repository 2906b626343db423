/*
 * scoreboard.c - the shared-memory table of workers; see scoreboard.h.
 */
#include "autoconfig.h"

#include <bsd/string.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scoreboard.h"

#define SB_MAGIC 0x425344544d5350ULL	/* "PSMTDSB" */
#define SB_VERSION 1
#define SB_FILE_MAX (64u << 20)	/* what psmtpd -S reads at most */

/* The shared pages: a header, then the slots.  nslots and pid here are
 * for psmtpd -S; the processes that share it keep the size privately. */
struct sb_shared {
	unsigned long long magic;	/* SB_MAGIC */
	unsigned version;		/* SB_VERSION */
	unsigned nslots;
	long long master_pid;
	long long stress_since;	/* master; atomic */
	/* master: what workers that have gone had counted */
	unsigned long long gone_sessions, gone_accepted, gone_refused;
	struct sb_slot slot[];
};

/* The handle: private, so that a worker cannot change what the master
 * believes the size is. */
struct scoreboard {
	size_t nslots;
	size_t maplen;
	struct sb_shared *shm;
	bool mapped;		/* munmap, not free */
	char path[4096];	/* the status file, "" for none */
};

/* scoreboard_map - the shared pages: a file that psmtpd -S can read, or
 * anonymous memory when path is NULL or "".  The file is made anew (an
 * old one removed first, never followed if a symlink) with mode 0640. */
static void *
scoreboard_map(const char *path, size_t len)
{
	void *p;
	int fd;

	if (path == NULL || path[0] == '\0')
		return mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (unlink(path) == -1 && errno != ENOENT)
		return MAP_FAILED;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0640);
	if (fd == -1)
		return MAP_FAILED;
	if (ftruncate(fd, (off_t)len) == -1) {
		close(fd);
		unlink(path);
		return MAP_FAILED;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		unlink(path);
	return p;
}

struct scoreboard *
scoreboard_create(size_t nslots, const char *path)
{
	struct scoreboard *sb;
	size_t len;

	if (nslots == 0 || nslots > UINT32_MAX / sizeof(struct sb_slot)) {
		errno = EINVAL;
		return NULL;
	}
	if ((sb = calloc(1, sizeof(*sb))) == NULL)
		return NULL;
	len = sizeof(struct sb_shared) + nslots * sizeof(struct sb_slot);
	if (path != NULL && snprintf(sb->path, sizeof(sb->path), "%s",
	    path) >= (int)sizeof(sb->path)) {
		free(sb);
		errno = ENAMETOOLONG;
		return NULL;
	}
	/* Inherited by fork; the pages are zero, SB_FREE everywhere. */
	sb->shm = scoreboard_map(sb->path, len);
	if (sb->shm == MAP_FAILED) {
		free(sb);
		return NULL;
	}
	sb->nslots = nslots;
	sb->maplen = len;
	sb->mapped = true;
	sb->shm->magic = SB_MAGIC;
	sb->shm->version = SB_VERSION;
	sb->shm->nslots = (unsigned)nslots;
	sb->shm->master_pid = (long long)getpid();
	return sb;
}

/* scoreboard_check - a copy read from a status file: the header says
 * what it is and the size agrees.  0 or -1 with err. */
static int
scoreboard_check(const struct sb_shared *h, size_t len, char *err,
    size_t errlen)
{
	if (len < sizeof(*h) || h->magic != SB_MAGIC ||
	    h->version != SB_VERSION) {
		snprintf(err, errlen, "not a psmtpd status file");
		return -1;
	}
	if (h->nslots == 0 || len != sizeof(*h) + (size_t)h->nslots *
	    sizeof(struct sb_slot)) {
		snprintf(err, errlen, "status file of the wrong size");
		return -1;
	}
	return 0;
}

/* scoreboard_slurp - a regular file, whole, at most SB_FILE_MAX bytes. */
static void *
scoreboard_slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	void *buf = NULL;

	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size <= 0 || (size_t)st.st_size > SB_FILE_MAX ||
	    (buf = malloc((size_t)st.st_size)) == NULL ||
	    read(fd, buf, (size_t)st.st_size) != (ssize_t)st.st_size) {
		snprintf(err, errlen, "status file %s: %s", path, fd == -1 ?
		    strerror(errno) : "cannot be read");
		free(buf);
		if (fd != -1)
			close(fd);
		return NULL;
	}
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

struct scoreboard *
scoreboard_open_file(const char *path, char *err, size_t errlen)
{
	struct scoreboard *sb;
	size_t len;
	struct sb_shared *h = scoreboard_slurp(path, &len, err, errlen);

	if (h == NULL)
		return NULL;
	if (scoreboard_check(h, len, err, errlen) == -1 ||
	    (sb = calloc(1, sizeof(*sb))) == NULL) {
		free(h);
		return NULL;
	}
	sb->shm = h;
	sb->nslots = h->nslots;
	sb->maplen = len;
	return sb;
}

void
scoreboard_destroy(struct scoreboard *sb)
{
	if (sb == NULL)
		return;
	if (!sb->mapped)
		free(sb->shm);
	else {
		munmap(sb->shm, sb->maplen);
		if (sb->path[0] != '\0')
			unlink(sb->path);
	}
	free(sb);
}

void
scoreboard_set_master(struct scoreboard *sb, pid_t pid)
{
	sb->shm->master_pid = (long long)pid;
}

void
scoreboard_totals(const struct scoreboard *sb, struct sb_totals *out)
{
	const struct sb_shared *h = sb->shm;

	memset(out, 0, sizeof(*out));
	out->master_pid = h->master_pid;
	out->stress = scoreboard_stress(sb) != 0;
	out->sessions = h->gone_sessions;
	out->accepted = h->gone_accepted;
	out->refused = h->gone_refused;
}

size_t
scoreboard_size(const struct scoreboard *sb)
{
	return sb->nslots;
}

struct sb_slot *
scoreboard_slot(struct scoreboard *sb, size_t i)
{
	return i < sb->nslots ? &sb->shm->slot[i] : NULL;
}

void
scoreboard_open_slot(struct scoreboard *sb, size_t i, unsigned gen)
{
	struct sb_slot *s = scoreboard_slot(sb, i);

	if (s == NULL)
		return;
	memset(s, 0, sizeof(*s));
	s->generation = gen;
	__atomic_store_n(&s->state, SB_STARTING, __ATOMIC_RELEASE);
}

void
scoreboard_close_slot(struct scoreboard *sb, size_t i)
{
	struct sb_slot *s = scoreboard_slot(sb, i);

	if (s == NULL)
		return;
	/* For display only, like everything the worker counted. */
	sb->shm->gone_sessions += s->sessions;
	sb->shm->gone_accepted += s->accepted;
	sb->shm->gone_refused += s->refused;
	s->pid = 0;
	__atomic_store_n(&s->leave, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->state, SB_FREE, __ATOMIC_RELEASE);
}

void
scoreboard_show(struct scoreboard *sb, size_t i, pid_t pid, unsigned gen)
{
	struct sb_slot *s = scoreboard_slot(sb, i);

	if (s == NULL)
		return;
	s->pid = pid;
	s->generation = gen;
}

void
scoreboard_set_state(struct scoreboard *sb, size_t i, enum sb_state state,
    const char *plugin)
{
	struct sb_slot *s = scoreboard_slot(sb, i);

	if (s == NULL)
		return;
	if (state == SB_PLUGIN)
		strlcpy(s->plugin, plugin != NULL ? plugin : "?",
		    sizeof(s->plugin));
	else
		s->plugin[0] = '\0';
	__atomic_store_n(&s->state, (int)state, __ATOMIC_RELEASE);
}

void
scoreboard_session_begin(struct scoreboard *sb, size_t i, const char *client)
{
	struct sb_slot *s = scoreboard_slot(sb, i);

	if (s == NULL)
		return;
	strlcpy(s->client, client, sizeof(s->client));
	s->sessions++;
}

void
scoreboard_session_end(struct scoreboard *sb, size_t i)
{
	struct sb_slot *s = scoreboard_slot(sb, i);

	if (s != NULL)
		s->client[0] = '\0';
}

void
scoreboard_count_message(struct scoreboard *sb, size_t i, bool accepted)
{
	struct sb_slot *s = scoreboard_slot(sb, i);

	if (s == NULL)
		return;
	if (accepted)
		s->accepted++;
	else
		s->refused++;
}

enum sb_state
scoreboard_state(const struct scoreboard *sb, size_t i)
{
	int st;

	if (i >= sb->nslots)
		return SB_FREE;
	st = __atomic_load_n(&sb->shm->slot[i].state, __ATOMIC_ACQUIRE);
	return st >= 0 && st < SB_NSTATES ? (enum sb_state)st : SB_COMMAND;
}

/* scoreboard_clean - a bounded copy of a string another process writes:
 * cut at its size, printable ASCII only (it goes into log lines). */
static void
scoreboard_clean(char *dst, const char *src, size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size; i++) {
		char c = __atomic_load_n(&src[i], __ATOMIC_RELAXED);

		if (c == '\0')
			break;
		dst[i] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	dst[i] = '\0';
}

void
scoreboard_read(const struct scoreboard *sb, size_t i, struct sb_slot *out)
{
	const struct sb_slot *s;

	memset(out, 0, sizeof(*out));
	if (i >= sb->nslots)
		return;
	s = &sb->shm->slot[i];
	out->pid = s->pid;
	out->generation = s->generation;
	out->state = (int)scoreboard_state(sb, i);
	out->leave = scoreboard_leaving(sb, i);
	out->sessions = s->sessions;
	out->accepted = s->accepted;
	out->refused = s->refused;
	scoreboard_clean(out->client, s->client, sizeof(out->client));
	scoreboard_clean(out->plugin, s->plugin, sizeof(out->plugin));
}

/* scoreboard_host_len - the length of the host part of "host:port". */
static size_t
scoreboard_host_len(const char *client)
{
	const char *colon = strrchr(client, ':');

	return colon != NULL ? (size_t)(colon - client) : strlen(client);
}

int
scoreboard_count_client(const struct scoreboard *sb, const char *client)
{
	size_t n = scoreboard_host_len(client);
	int count = 0;

	for (size_t i = 0; i < sb->nslots; i++) {
		char other[SCOREBOARD_CLIENT_MAX];

		if (scoreboard_state(sb, i) == SB_FREE)
			continue;
		/* Copied and bounded: another worker may be writing it. */
		scoreboard_clean(other, sb->shm->slot[i].client,
		    sizeof(other));
		if (other[0] != '\0' && scoreboard_host_len(other) == n &&
		    strncmp(other, client, n) == 0)
			count++;
	}
	return count;
}

bool
scoreboard_leaving(const struct scoreboard *sb, size_t i)
{
	return i < sb->nslots &&
	    __atomic_load_n(&sb->shm->slot[i].leave, __ATOMIC_ACQUIRE) != 0;
}

void
scoreboard_set_leave(struct scoreboard *sb, size_t i)
{
	if (i < sb->nslots)
		__atomic_store_n(&sb->shm->slot[i].leave, 1, __ATOMIC_RELEASE);
}

void
scoreboard_set_stress(struct scoreboard *sb, long long since_ms)
{
	__atomic_store_n(&sb->shm->stress_since, since_ms, __ATOMIC_RELEASE);
}

long long
scoreboard_stress(const struct scoreboard *sb)
{
	return __atomic_load_n(&sb->shm->stress_since, __ATOMIC_ACQUIRE);
}

const volatile long long *
scoreboard_stress_word(const struct scoreboard *sb)
{
	return &sb->shm->stress_since;
}

const char *
scoreboard_state_name(enum sb_state state)
{
	static const char *const names[] = {
		[SB_FREE] = "free", [SB_STARTING] = "starting",
		[SB_IDLE] = "idle", [SB_COMMAND] = "command",
		[SB_DATA] = "data", [SB_PLUGIN] = "plugin",
		[SB_CLOSING] = "closing", [SB_EXITING] = "exiting",
	};

	if ((unsigned)state < sizeof(names) / sizeof(names[0]))
		return names[state];
	return "unknown";
}
