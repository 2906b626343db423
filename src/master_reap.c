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
#include "scoreboard.h"
#include "worker.h"

/* master_reap_log - one line for a worker's end: info when it left as it
 * should, a warning with what it was doing when it did not. */
static void
master_reap_log(const struct sb_slot *s, int wstatus, enum sb_state st,
    unsigned long long sessions)
{
	char what[160];

	if (st == SB_PLUGIN)
		snprintf(what, sizeof(what), "state=plugin plugin=%s",
		    s->plugin);
	else
		snprintf(what, sizeof(what), "state=%s",
		    scoreboard_state_name(st));
	if (WIFSIGNALED(wstatus))
		log_warnx("worker died pid=%ld signal=%d (%s)%s %s client=%s "
		    "sessions=%llu generation=%u", (long)s->pid,
		    WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)),
		    WCOREDUMP(wstatus) ? " core dumped" : "", what,
		    s->client[0] ? s->client : "-", sessions, s->generation);
	else if (WEXITSTATUS(wstatus) != WORKER_EXIT_OK)
		log_warnx("worker failed pid=%ld status=%d %s client=%s "
		    "sessions=%llu generation=%u", (long)s->pid,
		    WEXITSTATUS(wstatus), what, s->client[0] ? s->client : "-",
		    sessions, s->generation);
	else
		log_debug("worker exited pid=%ld sessions=%llu generation=%u",
		    (long)s->pid, sessions, s->generation);
}

/* master_reap_one - bookkeeping for one dead worker. */
static void
master_reap_one(struct master *m, pid_t pid, int wstatus, long long now)
{
	int slot = scoreboard_find(m->sb, pid);
	struct sb_slot *s;
	bool abnormal, fast;

	if (slot == -1) {
		log_debug("reaped unknown child pid=%ld", (long)pid);
		return;
	}
	s = scoreboard_slot(m->sb, (size_t)slot);
	master_reap_log(s, wstatus, scoreboard_state(m->sb, (size_t)slot),
	    s->sessions);
	abnormal = WIFSIGNALED(wstatus) || WEXITSTATUS(wstatus) != 0;
	fast = abnormal && now - s->started < MASTER_FAST_DEATH_MS;
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == WORKER_EXIT_PRIV &&
	    !m->stopping) {
		log_warnx("workers cannot drop privileges: stopping");
		m->status = 1;
		master_stop_begin(m);
	}
	master_backoff_note(&m->backoff, fast, now);
	if (fast && master_backoff_wait(&m->backoff, now) > 0)
		log_warnx("pool workers die at start: respawn paused ms=%lld "
		    "failures=%d", master_backoff_wait(&m->backoff, now),
		    m->backoff.failures);
	scoreboard_release(m->sb, (size_t)slot);
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
