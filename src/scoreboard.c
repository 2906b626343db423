/*
 * scoreboard.c - the shared-memory table of workers; see scoreboard.h.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "scoreboard.h"

/* The shared pages. */
struct sb_shared {
	long long stress_since;	/* master; atomic */
	struct sb_slot slot[];
};

/* The handle: private, so that a worker cannot change what the master
 * believes the size is. */
struct scoreboard {
	size_t nslots;
	size_t maplen;
	struct sb_shared *shm;
};

struct scoreboard *
scoreboard_create(size_t nslots)
{
	struct scoreboard *sb;
	size_t len;

	if (nslots == 0 || nslots > (SIZE_MAX - sizeof(struct sb_shared)) /
	    sizeof(struct sb_slot)) {
		errno = EINVAL;
		return NULL;
	}
	if ((sb = malloc(sizeof(*sb))) == NULL)
		return NULL;
	len = sizeof(struct sb_shared) + nslots * sizeof(struct sb_slot);
	/* MAP_SHARED|MAP_ANONYMOUS: inherited by fork, no file to clean up;
	 * the pages are zero, which is SB_FREE everywhere. */
	sb->shm = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sb->shm == MAP_FAILED) {
		free(sb);
		return NULL;
	}
	sb->nslots = nslots;
	sb->maplen = len;
	return sb;
}

void
scoreboard_destroy(struct scoreboard *sb)
{
	if (sb == NULL)
		return;
	munmap(sb->shm, sb->maplen);
	free(sb);
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
		snprintf(s->plugin, sizeof(s->plugin), "%s",
		    plugin != NULL ? plugin : "?");
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
	snprintf(s->client, sizeof(s->client), "%s", client);
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
