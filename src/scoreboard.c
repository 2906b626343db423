/*
 * scoreboard.c - the shared-memory table of workers; see scoreboard.h.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "scoreboard.h"

struct scoreboard {
	size_t nslots;
	size_t maplen;
	struct sb_slot slot[];
};

struct scoreboard *
scoreboard_create(size_t nslots)
{
	struct scoreboard *sb;
	size_t len;

	if (nslots == 0 || nslots > (SIZE_MAX - sizeof(*sb)) /
	    sizeof(struct sb_slot)) {
		errno = EINVAL;
		return NULL;
	}
	len = sizeof(*sb) + nslots * sizeof(struct sb_slot);
	/* MAP_SHARED|MAP_ANONYMOUS: inherited by fork, no file to clean up;
	 * the pages are zero, which is SB_FREE everywhere. */
	sb = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (sb == MAP_FAILED)
		return NULL;
	sb->nslots = nslots;
	sb->maplen = len;
	return sb;
}

void
scoreboard_destroy(struct scoreboard *sb)
{
	if (sb != NULL)
		munmap(sb, sb->maplen);
}

size_t
scoreboard_size(const struct scoreboard *sb)
{
	return sb->nslots;
}

struct sb_slot *
scoreboard_slot(struct scoreboard *sb, size_t i)
{
	return i < sb->nslots ? &sb->slot[i] : NULL;
}

static int
slot_state(const struct sb_slot *s)
{
	return __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
}

int
scoreboard_claim(struct scoreboard *sb, unsigned generation, long long now_ms)
{
	for (size_t i = 0; i < sb->nslots; i++) {
		struct sb_slot *s = &sb->slot[i];

		if (slot_state(s) != SB_FREE)
			continue;
		memset(s, 0, sizeof(*s));
		s->generation = generation;
		s->started = now_ms;
		__atomic_store_n(&s->state, SB_STARTING, __ATOMIC_RELEASE);
		return (int)i;
	}
	return -1;
}

int
scoreboard_find(const struct scoreboard *sb, pid_t pid)
{
	if (pid <= 0)
		return -1;
	for (size_t i = 0; i < sb->nslots; i++)
		if (sb->slot[i].pid == pid &&
		    slot_state(&sb->slot[i]) != SB_FREE)
			return (int)i;
	return -1;
}

void
scoreboard_release(struct scoreboard *sb, size_t i)
{
	if (i >= sb->nslots)
		return;
	sb->slot[i].pid = 0;
	__atomic_store_n(&sb->slot[i].state, SB_FREE, __ATOMIC_RELEASE);
}

/* scoreboard_count - live workers, and the idle and busy ones of the
 * current generation that will go on serving (not told to leave). */
void
scoreboard_count(const struct scoreboard *sb, unsigned generation,
    struct sb_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sb->nslots; i++) {
		const struct sb_slot *s = &sb->slot[i];
		int st = slot_state(s);

		if (st == SB_FREE)
			continue;
		out->live++;
		if (s->generation != generation || st == SB_EXITING ||
		    __atomic_load_n(&s->leave, __ATOMIC_ACQUIRE))
			out->old++;
		else if (st == SB_IDLE || st == SB_STARTING)
			out->idle++;
		else
			out->busy++;
	}
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
scoreboard_session(struct scoreboard *sb, size_t i, const char *client)
{
	struct sb_slot *s = scoreboard_slot(sb, i);

	if (s == NULL)
		return;
	snprintf(s->client, sizeof(s->client), "%s",
	    client != NULL ? client : "");
	if (client != NULL)
		s->sessions++;
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
		const struct sb_slot *s = &sb->slot[i];
		int st = slot_state(s);
		/* The string may be half-written by its worker: a rare
		 * miscount, never a fault (both are NUL-terminated). */
		if (st == SB_FREE || s->client[0] == '\0')
			continue;
		if (scoreboard_host_len(s->client) == n &&
		    strncmp(s->client, client, n) == 0)
			count++;
	}
	return count;
}

enum sb_state
scoreboard_state(const struct scoreboard *sb, size_t i)
{
	return i < sb->nslots ? (enum sb_state)slot_state(&sb->slot[i]) :
	    SB_FREE;
}

bool
scoreboard_leaving(const struct scoreboard *sb, size_t i)
{
	return i < sb->nslots &&
	    __atomic_load_n(&sb->slot[i].leave, __ATOMIC_ACQUIRE) != 0;
}

void
scoreboard_set_leave(struct scoreboard *sb, size_t i)
{
	if (i < sb->nslots)
		__atomic_store_n(&sb->slot[i].leave, 1, __ATOMIC_RELEASE);
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
