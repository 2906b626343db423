/*
 * scoreboard.h - what every worker is doing, in memory shared between the
 * master and its workers (Apache's scoreboard, reduced to what psmtpd
 * needs).
 *
 * The master owns the slots: it claims one before forking a worker and
 * frees it after reaping the worker.  A worker writes only its own slot's
 * state, client and plugin; the master reads them to count idle workers
 * and to say what a dead worker was doing.  The state is written and read
 * atomically; the strings may be seen half-written while the worker runs,
 * which only a status display would notice (they are exact once the
 * worker has died, which is when the master logs them).
 */
#ifndef PSMTPD_SCOREBOARD_H
#define PSMTPD_SCOREBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SCOREBOARD_CLIENT_MAX 64	/* "[v6 address]:port" */
#define SCOREBOARD_PLUGIN_MAX 64

enum sb_state {
	SB_FREE = 0,	/* no worker */
	SB_STARTING,	/* forked: privileges, plugin worker init */
	SB_IDLE,	/* waiting for a connection */
	SB_COMMAND,	/* in a session, reading or handling a command */
	SB_DATA,	/* in a session, receiving a message */
	SB_PLUGIN,	/* in a session, in a plugin hook (see plugin) */
	SB_CLOSING,	/* session ending */
	SB_EXITING	/* leaving: no more sessions */
};

struct sb_slot {
	pid_t pid;		/* master: 0 until the fork returned */
	unsigned generation;	/* master: the runtime it runs */
	int state;		/* enum sb_state; atomic */
	int leave;		/* master: end after the session; atomic */
	long long started;	/* master: fork time, monotonic ms */
	unsigned long long sessions;	/* worker: connections served */
	char client[SCOREBOARD_CLIENT_MAX];	/* worker: current peer */
	char plugin[SCOREBOARD_PLUGIN_MAX];	/* worker: in SB_PLUGIN */
};

struct scoreboard;

/* Counts over the live slots, for idle maintenance. */
struct sb_counts {
	int live;	/* every slot with a worker, any generation */
	int idle;	/* of `generation`, idle or starting, not leaving */
	int busy;	/* of `generation`, in a session, not leaving */
	int old;	/* of another generation, or leaving */
};

/* A shared anonymous mapping of nslots slots; NULL with errno. */
struct scoreboard *scoreboard_create(size_t nslots);
void scoreboard_destroy(struct scoreboard *sb);
size_t scoreboard_size(const struct scoreboard *sb);
struct sb_slot *scoreboard_slot(struct scoreboard *sb, size_t i);

/* Master: take a free slot for a worker about to be forked (state
 * SB_STARTING); -1 when every slot is taken. */
int scoreboard_claim(struct scoreboard *sb, unsigned generation,
    long long now_ms);
/* Master: the slot of a worker, or -1. */
int scoreboard_find(const struct scoreboard *sb, pid_t pid);
void scoreboard_release(struct scoreboard *sb, size_t i);
void scoreboard_count(const struct scoreboard *sb, unsigned generation,
    struct sb_counts *out);

/* Worker: its own slot. */
void scoreboard_set_state(struct scoreboard *sb, size_t i,
    enum sb_state state, const char *plugin);
/* Worker: a session with client begins (counted), or ends (NULL). */
void scoreboard_session(struct scoreboard *sb, size_t i, const char *client);
enum sb_state scoreboard_state(const struct scoreboard *sb, size_t i);
/* Sessions in progress, in every worker, from the host of client (the
 * "addr:port" / "[addr]:port" form that scoreboard_session() takes). */
int scoreboard_count_client(const struct scoreboard *sb, const char *client);
bool scoreboard_leaving(const struct scoreboard *sb, size_t i);
void scoreboard_set_leave(struct scoreboard *sb, size_t i);

const char *scoreboard_state_name(enum sb_state state);

#endif
