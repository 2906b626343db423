/*
 * master_reap.c - collect dead workers, say how each abnormal one died and
 * what it was doing, and hold back respawning when workers die right after
 * they start (a crash loop must not spin the CPU).
 */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "log.h"
#include "master_int.h"
#include "runtime.h"
#include "scoreboard.h"
#include "worker.h"

/* master_reap_log - one line for a worker's end: info when it left as it
 * should, a warning with what it was doing when it did not.  s is a clean
 * copy of its scoreboard slot (display only); pid is ours. */
static void
master_reap_log(const struct sb_slot *s, pid_t pid, unsigned gen,
    int wstatus)
{
	char what[160];

	if (s->state == SB_PLUGIN)
		snprintf(what, sizeof(what), "state=plugin plugin=%s",
		    s->plugin);
	else
		snprintf(what, sizeof(what), "state=%s",
		    scoreboard_state_name((enum sb_state)s->state));
	if (WIFSIGNALED(wstatus))
		log_warnx("worker died pid=%ld signal=%d (%s)%s %s client=%s "
		    "sessions=%llu generation=%u", (long)pid,
		    WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)),
		    WCOREDUMP(wstatus) ? " core dumped" : "", what,
		    s->client[0] ? s->client : "-", s->sessions, gen);
	else if (WEXITSTATUS(wstatus) != WORKER_EXIT_OK)
		log_warnx("worker failed pid=%ld status=%d %s client=%s "
		    "sessions=%llu generation=%u", (long)pid,
		    WEXITSTATUS(wstatus), what, s->client[0] ? s->client : "-",
		    s->sessions, gen);
	else
		log_debug("worker exited pid=%ld sessions=%llu generation=%u",
		    (long)pid, s->sessions, gen);
}

/* master_reap_backoff - a worker that died abnormally before serving a
 * session counts towards the crash-loop back-off (its session count is
 * the scoreboard's: a lie can only hasten or delay a pause that never
 * takes the pool below its floor). */
static void
master_reap_backoff(struct master *m, bool unserved, long long now)
{
	long long wait;

	master_backoff_note(&m->backoff, unserved, now);
	wait = master_backoff_wait(&m->backoff, now);
	if (unserved && wait > 0)
		log_warnx("pool workers die before serving a session: respawn "
		    "throttled ms=%lld failures=%d floor=%d", wait,
		    m->backoff.failures,
		    master_floor(m->rt->cfg.pool.min_spare));
}

/* master_reap_one - bookkeeping for one dead worker. */
static void
master_reap_one(struct master *m, pid_t pid, int wstatus, long long now)
{
	int slot = master_worker_find(m, pid);
	struct sb_slot s;
	bool abnormal;

	if (slot == -1) {
		log_debug("reaped unknown child pid=%ld", (long)pid);
		return;
	}
	scoreboard_read(m->sb, (size_t)slot, &s);
	master_reap_log(&s, pid, m->workers[slot].generation, wstatus);
	abnormal = WIFSIGNALED(wstatus) || WEXITSTATUS(wstatus) != 0;
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == WORKER_EXIT_PRIV &&
	    !m->stopping) {
		log_warnx("workers cannot drop privileges: stopping");
		m->status = 1;
		master_stop_begin(m);
	}
	master_reap_backoff(m, abnormal && s.sessions == 0, now);
	master_worker_release(m, (size_t)slot);
}

/* master_reap - collect every dead child. */
void
master_reap(struct master *m)
{
	long long now = master_now_ms();
	int wstatus;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &wstatus, WNOHANG);
		if (pid == 0)
			break;
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				log_warn("waitpid");
			break;
		}
		master_reap_one(m, pid, wstatus, now);
	}
}
