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
	};

	/* Only the master may hold the write end: the workers see EOF on
	 * [0] once it is gone. */
	close(m->alive[1]);
	worker_main(&args);
}

/* master_spawn_one - fork one worker of the current generation; 0, or -1
 * when no slot is free or fork failed (logged). */
static int
master_spawn_one(struct master *m, long long now)
{
	int slot = scoreboard_claim(m->sb, m->generation, now);
	pid_t pid;

	if (slot == -1) {
		log_warnx("pool scoreboard full slots=%zu",
		    scoreboard_size(m->sb));
		return -1;
	}
	fflush(NULL);	/* nothing buffered is written twice */
	pid = fork();
	if (pid == -1) {
		log_warn("pool fork");
		scoreboard_release(m->sb, (size_t)slot);
		return -1;
	}
	if (pid == 0)
		master_child(m, (size_t)slot);
	scoreboard_slot(m->sb, (size_t)slot)->pid = pid;
	log_debug("pool worker started pid=%ld slot=%d generation=%u",
	    (long)pid, slot, m->generation);
	return 0;
}

/* master_max_workers - pool.max_workers, within what the scoreboard made
 * at start can hold (a reload may ask for more). */
int
master_max_workers(const struct master *m)
{
	size_t slots = scoreboard_size(m->sb);
	int max = m->rt->cfg.pool.max_workers;

	return (size_t)max > slots ? (int)slots : max;
}

/*
 * master_spawn - fork up to n workers; how many were forked.  None while
 * the crash-loop back-off holds, none past max_workers, none when
 * stopping.
 */
int
master_spawn(struct master *m, int n)
{
	long long now = master_now_ms();
	struct sb_counts c;
	int done = 0;

	if (m->stopping || master_backoff_wait(&m->backoff, now) > 0)
		return 0;
	scoreboard_count(m->sb, m->generation, &c);
	if (n > master_max_workers(m) - c.live)
		n = master_max_workers(m) - c.live;
	while (done < n && master_spawn_one(m, now) == 0)
		done++;
	return done;
}

/* master_tell_leave - a worker is to finish its session, then exit.  The
 * scoreboard flag is read between sessions, the signal wakes an idle
 * worker from its wait. */
void
master_tell_leave(struct master *m, size_t slot)
{
	struct sb_slot *s = scoreboard_slot(m->sb, slot);

	if (s == NULL || s->pid <= 0)
		return;
	scoreboard_set_leave(m->sb, slot);
	if (kill(s->pid, SIGUSR1) == -1 && errno != ESRCH)
		log_warn("kill pid=%ld", (long)s->pid);
}

/* master_leave_old - every worker not of the current generation goes
 * once its session is over (reload, and stop). */
void
master_leave_old(struct master *m)
{
	size_t size = scoreboard_size(m->sb);

	for (size_t i = 0; i < size; i++) {
		struct sb_slot *s = scoreboard_slot(m->sb, i);

		if (s->pid > 0 && (m->stopping ||
		    s->generation != m->generation) &&
		    !scoreboard_leaving(m->sb, i))
			master_tell_leave(m, i);
	}
}

/* master_signal_all - send sig to every worker. */
void
master_signal_all(struct master *m, int sig)
{
	size_t size = scoreboard_size(m->sb);

	for (size_t i = 0; i < size; i++) {
		struct sb_slot *s = scoreboard_slot(m->sb, i);

		if (s->pid > 0 && scoreboard_state(m->sb, i) != SB_FREE &&
		    kill(s->pid, sig) == -1 && errno != ESRCH)
			log_warn("kill pid=%ld", (long)s->pid);
	}
}
