/*
 * worker.h - a forked worker: accept a connection, run a channel on it,
 * repeat.  The master forks it and hands it the listeners (listen.h) and
 * a scoreboard slot (scoreboard.h); worker.c is all of it.
 */
#ifndef PSMTPD_WORKER_H
#define PSMTPD_WORKER_H

#include <stddef.h>
#include <sys/types.h>

struct listener;
struct runtime;
struct scoreboard;
struct privsep_creds;

/* Exit statuses of a worker that the master treats specially. */
#define WORKER_EXIT_OK 0
#define WORKER_EXIT_INIT 70	/* plugin worker init failed: a crash */
#define WORKER_EXIT_PRIV 77	/* could not drop privileges: fatal */

/* What the master hands a worker it has just forked. */
struct worker_args {
	struct runtime *rt;			/* its generation */
	const struct listener *listeners;	/* non-blocking */
	size_t nlisteners;
	struct scoreboard *sb;
	size_t slot;				/* its own */
	const struct privsep_creds *creds;	/* who to become */
	int alive_fd;		/* reads EOF when the master is gone */
	pid_t master_pid;	/* getppid() while the master lives */
};

/*
 * Run a worker to its end and exit: drop privileges, plugin worker init,
 * then accept and serve connections until told to leave (SIGUSR1 or the
 * scoreboard: finish the session first), told to stop (SIGTERM: the
 * session ends at its next command with 421), after
 * pool.max_connections_per_worker sessions, or when the master is gone
 * (SIGUSR2, the parent-death signal: the listeners are closed at once,
 * the session in flight is finished).
 * Exit status: one of WORKER_EXIT_*.
 */
__attribute__((noreturn)) void worker_main(const struct worker_args *args);

#endif
