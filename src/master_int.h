/*
 * master_int.h - the master's private state and the functions of the
 * master_*.c files, one job each: master.c (set up, the loop, stop),
 * master_workers.c (which processes are ours: private memory),
 * master_spawn.c (fork, tell to leave, signal), master_reap.c (collect
 * the dead, crash-loop back-off), master_plan.c (the pure decisions:
 * idle maintenance, back-off, stress mode), master_idle.c (apply them
 * once a second), master_signal.c (handlers that set flags),
 * master_reload.c (SIGHUP), master_busy.c (421 when full), master_listen.c
 * (keep the listeners listening).  Not for use outside the master.
 */
#ifndef PSMTPD_MASTER_INT_H
#define PSMTPD_MASTER_INT_H

#include <signal.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>

#include "privsep.h"

struct runtime;
struct master_ops;
struct listener;
struct scoreboard;

/* Apache prefork's MAX_SPAWN_RATE: the most workers forked in one second. */
#define MASTER_MAX_SPAWN_RATE 32
/* Stress mode, decided once a second from the counts (pure). */
struct stress_input {
	int idle;		/* current generation, idle or starting */
	int live;		/* every worker alive */
	int max_workers;
	long long now;		/* ms */
};
struct stress_state {
	long long since;	/* ms when it began; 0: off */
	long long calm;		/* ms since the pool has had a spare; 0 */
};

/* The crash-loop back-off: a worker that dies abnormally before it has
 * served a session counts (as in Postfix's master); how long it lived
 * does not matter. */
#define MASTER_BACKOFF_BASE_MS 250
#define MASTER_BACKOFF_MAX_MS 30000
/* After this long without a fast death the back-off starts over. */
#define MASTER_BACKOFF_FORGET_MS 60000
/* At stop, after timeouts.shutdown: workers get SIGTERM (421 at the next
 * command), then SIGKILL this much later. */
#define MASTER_KILL_GRACE_MS 5000
/* Idle maintenance runs once a second, as in Apache. */
#define MASTER_TICK_MS 1000
/* Stress mode ends once the pool has had a spare worker for this long. */
#define MASTER_STRESS_CALM_MS 5000

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

/* The crash-loop back-off: spawning beyond the floor (pool.min_spare
 * live workers, at least one) waits while `until` is ahead. */
struct master_backoff {
	int failures;		/* deaths before a first session, in a row */
	long long until;	/* ms, monotonic */
	long long last;		/* ms of the last such death */
};

/* What the master knows of a worker it forked, in its private memory:
 * the only PIDs it ever signals, never read back from shared memory. */
struct master_worker {
	pid_t pid;		/* 0: no worker in this slot */
	unsigned generation;
	long long started;	/* ms, monotonic */
	bool leave;		/* told to leave */
};

/* Workers counted from the master's own table, states from the
 * scoreboard (untrusted: an unknown state counts as busy). */
struct master_counts {
	int live;	/* every worker alive, any generation */
	int idle;	/* of the current generation, idle or starting */
	int busy;	/* of the current generation, in a session */
	int old;	/* of another generation, leaving, or exiting */
};

struct master {
	struct runtime *rt;		/* the current generation */
	const struct master_ops *ops;
	unsigned generation;
	struct listener *listeners;
	size_t nlisteners;
	int backlog;			/* listen_backlog of the start */
	struct scoreboard *sb;
	struct master_worker *workers;	/* one per scoreboard slot */
	size_t nworkers;
	struct privsep_creds creds;	/* for the workers of rt */
	int alive[2];		/* workers hold [0]: EOF = master gone */
	int rate;			/* idle maintenance spawn rate */
	bool warned_max;		/* "max_workers reached" said once */
	struct master_backoff backoff;
	long long floor_next;	/* ms: next refill of the floor in back-off */
	struct stress_state stress;	/* the master's own copy */
	long long next_tick;		/* ms */
	bool stopping;
	int stop_stage;		/* 0 graceful, 1 SIGTERM sent, 2 SIGKILL */
	long long stop_deadline;	/* ms of the next stage */
	int status;			/* exit status of master_run */
	char pidfile[4096];		/* locked by us, "" if none */
	int pidfile_fd;			/* holds the lock; -1 */
	int ready_fd;		/* -D: tell the starting process, or -1 */
};

long long master_now_ms(void);

/* master.c: begin a graceful stop (idempotent). */
void master_stop_begin(struct master *m);

/* master_signal.c: the handlers only set flags; the loop takes them. */
enum master_sig { MSIG_TERM, MSIG_HUP, MSIG_CHLD, MSIG_STATUS, MSIG_COUNT };
int master_signal_setup(sigset_t *waitmask);
bool master_signal_take(enum master_sig sig);

/* master_plan.c (pure) */
void master_idle_plan(const struct idle_input *in, struct idle_plan *out);
void master_idle_maintain(struct master *m, bool tick);
/* +1: stress mode begins now, -1: it ends, 0: no change. */
int master_stress_plan(const struct stress_input *in,
    struct stress_state *st);

/* master_plan.c (pure): the back-off, and the floor it keeps. */
void master_backoff_note(struct master_backoff *b, bool unserved_failure,
    long long now);
long long master_backoff_wait(const struct master_backoff *b, long long now);
int master_floor(int min_spare);

/* master_reap.c */
void master_reap(struct master *m);

/* master_workers.c: the private table of workers. */
int master_workers_init(struct master *m, size_t n);
int master_worker_claim(struct master *m, long long now);
int master_worker_find(const struct master *m, pid_t pid);
void master_worker_release(struct master *m, size_t i);
void master_count(const struct master *m, struct master_counts *out);

/* master_spawn.c */
int master_max_workers(const struct master *m);
int master_spawn(struct master *m, int n);
void master_tell_leave(struct master *m, size_t slot);
void master_leave_old(struct master *m);
void master_signal_all(struct master *m, int sig);

/* master_reload.c */
void master_reload(struct master *m);

/* master_listen.c */
void master_listen_check(struct master *m);
void master_relay_warning(const struct master *m);
bool master_is_loopback(const struct sockaddr *sa);

/* master_busy.c */
bool master_busy_wanted(struct master *m);
void master_busy_refuse(struct master *m, int listen_fd);

#endif
