/*
 * master_spawn.c - fork workers into scoreboard slots, and tell them to
 * go.
 */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "master_int.h"
#include "runtime.h"
#include "scoreboard.h"
#include "worker.h"

long long
master_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		log_panic("clock_gettime: monotonic clock missing");
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* master_child - in the new worker: leave the master's world behind. */
__attribute__((noreturn)) static void
master_child(struct master *m, size_t slot)
{
	struct worker_args args = {
		.rt = m->rt, .listeners = m->listeners,
		.nlisteners = m->nlisteners, .sb = m->sb, .slot = slot,
		.creds = &m->creds, .alive_fd = m->alive[0],
		.master_pid = getppid(),
	};

	/* Only the master may hold the write end: the workers see EOF on
	 * [0] once it is gone. */
	close(m->alive[1]);
	/* Nor the pidfile's lock: a worker that outlives the master must
	 * not keep a new one from starting. */
	if (m->pidfile_fd != -1)
		close(m->pidfile_fd);
	worker_main(&args);
}

/* master_spawn_one - fork one worker of the current generation; 0, or -1
 * when no slot is free or fork failed (logged). */
static int
master_spawn_one(struct master *m, long long now)
{
	int slot = master_worker_claim(m, now);
	pid_t pid;

	if (slot == -1) {
		log_warnx("pool scoreboard full slots=%zu", m->nworkers);
		return -1;
	}
	fflush(NULL);	/* nothing buffered is written twice */
	pid = fork();
	if (pid == -1) {
		log_warn("pool fork");
		master_worker_release(m, (size_t)slot);
		return -1;
	}
	if (pid == 0)
		master_child(m, (size_t)slot);
	m->workers[slot].pid = pid;
	scoreboard_show(m->sb, (size_t)slot, pid, m->generation);
	log_debug("pool worker started pid=%ld slot=%d generation=%u",
	    (long)pid, slot, m->generation);
	return 0;
}

/* master_max_workers - pool.max_workers, within what the scoreboard made
 * at start can hold (a reload may ask for more). */
int
master_max_workers(const struct master *m)
{
	int max = m->rt->cfg.pool.max_workers;

	return (size_t)max > m->nworkers ? (int)m->nworkers : max;
}

/*
 * master_spawn_allowed - how many of n workers the crash-loop back-off
 * lets through: all when it does not hold; otherwise only enough to keep
 * the floor (pool.min_spare live workers, at least one), and that at most
 * once a second, so that a real crash loop costs a few forks a second
 * and killed workers never leave the pool empty.
 */
static int
master_spawn_allowed(struct master *m, int n, int live, long long now)
{
	int floor = master_floor(m->rt->cfg.pool.min_spare);

	if (master_backoff_wait(&m->backoff, now) == 0)
		return n;
	if (live >= floor || now < m->floor_next)
		return 0;
	m->floor_next = now + MASTER_TICK_MS;
	return n < floor - live ? n : floor - live;
}

/*
 * master_spawn - fork up to n workers; how many were forked.  None past
 * max_workers, none when stopping; the back-off may allow fewer.
 */
int
master_spawn(struct master *m, int n)
{
	long long now = master_now_ms();
	struct master_counts c;
	int done = 0;

	if (m->stopping)
		return 0;
	master_count(m, &c);
	if (n > master_max_workers(m) - c.live)
		n = master_max_workers(m) - c.live;
	n = master_spawn_allowed(m, n, c.live, now);
	while (done < n && master_spawn_one(m, now) == 0)
		done++;
	return done;
}

/* master_kill - a signal to one of our workers, by the PID we forked. */
static void
master_kill(const struct master_worker *w, int sig)
{
	if (w->pid > 0 && kill(w->pid, sig) == -1 && errno != ESRCH)
		log_warn("kill pid=%ld", (long)w->pid);
}

/* master_tell_leave - a worker is to finish its session, then exit.  The
 * scoreboard flag is read between sessions, the signal wakes an idle
 * worker from its wait. */
void
master_tell_leave(struct master *m, size_t slot)
{
	struct master_worker *w;

	if (slot >= m->nworkers || m->workers[slot].pid <= 0)
		return;
	w = &m->workers[slot];
	w->leave = true;
	scoreboard_set_leave(m->sb, slot);
	master_kill(w, SIGUSR1);
}

/* master_leave_old - every worker not of the current generation goes
 * once its session is over (reload, and stop). */
void
master_leave_old(struct master *m)
{
	for (size_t i = 0; i < m->nworkers; i++) {
		const struct master_worker *w = &m->workers[i];

		if (w->pid > 0 && !w->leave && (m->stopping ||
		    w->generation != m->generation))
			master_tell_leave(m, i);
	}
}

/* master_signal_all - send sig to every worker. */
void
master_signal_all(struct master *m, int sig)
{
	for (size_t i = 0; i < m->nworkers; i++)
		master_kill(&m->workers[i], sig);
}
