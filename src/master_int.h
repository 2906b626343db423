/*
 * master_int.h - the master's pool bookkeeping, shared by the master_*.c
 * files (one job each: spawn, reap, idle maintenance, signals, reload,
 * busy replies).  Not for use outside the master.
 */
#ifndef PSMTPD_MASTER_INT_H
#define PSMTPD_MASTER_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "privsep.h"

struct runtime;
struct master_ops;
struct listener;
struct scoreboard;

/* Apache prefork's MAX_SPAWN_RATE: the most workers forked in one second. */
#define MASTER_MAX_SPAWN_RATE 32
/* A worker that dies abnormally sooner than this after its fork counts
 * towards the crash-loop back-off. */
#define MASTER_FAST_DEATH_MS 2000
#define MASTER_BACKOFF_BASE_MS 250
#define MASTER_BACKOFF_MAX_MS 30000
/* After this long without a fast death the back-off starts over. */
#define MASTER_BACKOFF_FORGET_MS 60000
/* At stop, after timeouts.shutdown: workers get SIGTERM (421 at the next
 * command), then SIGKILL this much later. */
#define MASTER_KILL_GRACE_MS 5000
/* Idle maintenance runs once a second, as in Apache. */
#define MASTER_TICK_MS 1000

/* What idle maintenance looks at, and decides. */
struct idle_input {
	int idle;		/* current generation, idle or starting */
	int busy;		/* current generation, in a session */
	int live;		/* every worker alive, any generation */
	int start, min_spare, max_spare, max_workers;
	int rate;		/* spawn rate of this second (>= 1) */
};
struct idle_plan {
	int spawn;
	int retire;		/* idle workers to tell to leave */
	int rate;		/* spawn rate for the next second */
	bool at_max;		/* short of spares, at max_workers */
};

/* The crash-loop back-off: spawning waits while `until` is ahead. */
struct master_backoff {
	int failures;		/* fast deaths in a row */
	long long until;	/* ms, monotonic */
	long long last;		/* ms of the last fast death */
};

struct master {
	struct runtime *rt;		/* the current generation */
	const struct master_ops *ops;
	unsigned generation;
	struct listener *listeners;
	size_t nlisteners;
	struct scoreboard *sb;
	struct privsep_creds creds;	/* for the workers of rt */
	int alive[2];		/* workers hold [0]: EOF = master gone */
	int rate;			/* idle maintenance spawn rate */
	bool warned_max;		/* "max_workers reached" said once */
	struct master_backoff backoff;
	long long next_tick;		/* ms */
	bool stopping;
	int stop_stage;		/* 0 graceful, 1 SIGTERM sent, 2 SIGKILL */
	long long stop_deadline;	/* ms of the next stage */
	int status;			/* exit status of master_run */
	char pidfile[4096];		/* written by us, "" if none */
	int ready_fd;		/* -D: tell the starting process, or -1 */
};

long long master_now_ms(void);

/* master.c: begin a graceful stop (idempotent). */
void master_stop_begin(struct master *m);

/* master_signal.c: the handlers only set flags; the loop takes them. */
enum master_sig { MSIG_TERM, MSIG_HUP, MSIG_CHLD, MSIG_COUNT };
int master_signal_setup(sigset_t *waitmask);
bool master_signal_take(enum master_sig sig);

/* master_plan.c (pure) */
void master_idle_plan(const struct idle_input *in, struct idle_plan *out);
void master_idle_maintain(struct master *m, bool tick);

/* master_reap.c */
void master_backoff_note(struct master_backoff *b, bool fast_failure,
    long long now);
long long master_backoff_wait(const struct master_backoff *b, long long now);
void master_reap(struct master *m);

/* master_spawn.c */
int master_max_workers(const struct master *m);
int master_spawn(struct master *m, int n);
void master_tell_leave(struct master *m, size_t slot);
void master_leave_old(struct master *m);
void master_signal_all(struct master *m, int sig);

/* master_reload.c */
void master_reload(struct master *m);

/* master_busy.c */
bool master_busy_wanted(struct master *m);
void master_busy_refuse(struct master *m, int listen_fd);

#endif
