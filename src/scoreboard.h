/*
 * scoreboard.h - what every worker is doing, in memory shared between the
 * master and its workers (Apache's scoreboard, reduced to what psmtpd
 * needs).
 *
 * Every worker can write all of it, so nothing in it is trusted by the
 * master for anything that matters: which processes exist, which slot is
 * whose, which generation a worker runs and when it started are kept in
 * the master's private memory (master_int.h); the master only reads the
 * states here to count idle workers, and the rest for display (logs,
 * psmtpd -S), through functions that bound and clean what they read.
 * The region's size is kept in the process's own handle, never in the
 * shared pages.
 *
 * A worker writes its own slot: state, client, plugin and counters; the
 * master writes the `leave` flag and the stress-mode word.  Words are
 * written and read atomically; the strings may be seen half-written.
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
	SB_EXITING,	/* leaving: no more sessions */
	SB_NSTATES
};

/* One slot in shared memory.  pid and generation are copies the master
 * writes for display; it never reads them back. */
struct sb_slot {
	pid_t pid;		/* master, display only */
	unsigned generation;	/* master, display only */
	int state;		/* worker: enum sb_state; atomic */
	int leave;		/* master: end after the session; atomic */
	unsigned long long sessions;	/* worker: connections served */
	unsigned long long accepted;	/* worker: messages answered 2xx */
	unsigned long long refused;	/* worker: messages answered 4xx/5xx */
	char client[SCOREBOARD_CLIENT_MAX];	/* worker: current peer */
	char plugin[SCOREBOARD_PLUGIN_MAX];	/* worker: in SB_PLUGIN */
};

struct scoreboard;

/* A shared mapping of nslots slots: of the status file path (made anew,
 * mode 0640, removed by scoreboard_destroy) for psmtpd -S to read, or
 * anonymous when path is NULL or "".  NULL with errno.  The handle
 * itself is private memory (a worker inherits its own copy). */
struct scoreboard *scoreboard_create(size_t nslots, const char *path);
/* psmtpd -S: a private copy of a status file, checked; NULL with err. */
struct scoreboard *scoreboard_open_file(const char *path, char *err,
    size_t errlen);
void scoreboard_destroy(struct scoreboard *sb);

/* What the header says, for display. */
struct sb_totals {
	long long master_pid;
	bool stress;
	/* of the workers that have gone since the start */
	unsigned long long sessions, accepted, refused;
};
void scoreboard_totals(const struct scoreboard *sb, struct sb_totals *out);
/* Master: its pid, for display (after -D's forks). */
void scoreboard_set_master(struct scoreboard *sb, pid_t pid);
size_t scoreboard_size(const struct scoreboard *sb);
/* The shared slot i (NULL past the end): for a worker's own slot and for
 * tests; the master reads through the functions below. */
struct sb_slot *scoreboard_slot(struct scoreboard *sb, size_t i);

/* Master: a slot for a new worker (cleared, state SB_STARTING), and the
 * end of one (SB_FREE; its counters go to the totals). */
void scoreboard_open_slot(struct scoreboard *sb, size_t i, unsigned gen);
void scoreboard_close_slot(struct scoreboard *sb, size_t i);
/* Master: the display copies of a worker's pid and generation. */
void scoreboard_show(struct scoreboard *sb, size_t i, pid_t pid,
    unsigned gen);

/* Worker: its own slot. */
void scoreboard_set_state(struct scoreboard *sb, size_t i,
    enum sb_state state, const char *plugin);
void scoreboard_session_begin(struct scoreboard *sb, size_t i,
    const char *client);
void scoreboard_session_end(struct scoreboard *sb, size_t i);
/* Worker: one message answered, accepted (2xx) or not. */
void scoreboard_count_message(struct scoreboard *sb, size_t i,
    bool accepted);

/* The state of slot i as read: anything out of range is SB_COMMAND
 * (busy: a corrupted slot is never taken for an idle worker). */
enum sb_state scoreboard_state(const struct scoreboard *sb, size_t i);
/* A clean copy of slot i for display: strings cut at their size and
 * with anything but printable ASCII replaced. */
void scoreboard_read(const struct scoreboard *sb, size_t i,
    struct sb_slot *out);
/* Sessions in progress, in every worker, from the host of client (the
 * "addr:port" / "[addr]:port" form that scoreboard_session_begin()
 * takes). */
int scoreboard_count_client(const struct scoreboard *sb, const char *client);
bool scoreboard_leaving(const struct scoreboard *sb, size_t i);
void scoreboard_set_leave(struct scoreboard *sb, size_t i);

/* Stress mode: the monotonic ms when it began, 0 when off.  The master
 * writes it; workers read it through the pointer (io.h's io_limit). */
void scoreboard_set_stress(struct scoreboard *sb, long long since_ms);
long long scoreboard_stress(const struct scoreboard *sb);
const volatile long long *scoreboard_stress_word(
    const struct scoreboard *sb);

const char *scoreboard_state_name(enum sb_state state);

#endif
