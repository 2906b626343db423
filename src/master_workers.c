/*
 * master_workers.c - which processes are the master's workers, kept in
 * its private memory (Apache's CVE-2007-3304: a master that signals PIDs
 * read from a scoreboard that workers can write can be made to kill any
 * process).  Slot i here and slot i of the scoreboard belong to the same
 * worker; the scoreboard only says what that worker claims to be doing.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "master_int.h"
#include "scoreboard.h"

int
master_workers_init(struct master *m, size_t n)
{
	m->workers = calloc(n, sizeof(*m->workers));
	if (m->workers == NULL)
		return -1;
	m->nworkers = n;
	return 0;
}

/* master_worker_claim - a free slot for a worker about to be forked, its
 * scoreboard slot cleared; -1 when every slot is taken. */
int
master_worker_claim(struct master *m, long long now)
{
	for (size_t i = 0; i < m->nworkers; i++) {
		struct master_worker *w = &m->workers[i];

		if (w->pid != 0)
			continue;
		/* Taken until the fork fills in the pid or gives it back. */
		*w = (struct master_worker){ .pid = -1,
		    .generation = m->generation, .started = now };
		scoreboard_open_slot(m->sb, i, m->generation);
		return (int)i;
	}
	return -1;
}

int
master_worker_find(const struct master *m, pid_t pid)
{
	if (pid <= 0)
		return -1;
	for (size_t i = 0; i < m->nworkers; i++)
		if (m->workers[i].pid == pid)
			return (int)i;
	return -1;
}

void
master_worker_release(struct master *m, size_t i)
{
	if (i >= m->nworkers)
		return;
	memset(&m->workers[i], 0, sizeof(m->workers[i]));
	scoreboard_close_slot(m->sb, i);
}

/* master_count - live workers from the private table; idle and busy ones
 * of the current generation that will go on serving, by what their
 * scoreboard slots say. */
void
master_count(const struct master *m, struct master_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < m->nworkers; i++) {
		const struct master_worker *w = &m->workers[i];
		enum sb_state st;

		if (w->pid == 0)
			continue;
		out->live++;
		st = scoreboard_state(m->sb, i);
		if (w->generation != m->generation || w->leave ||
		    st == SB_EXITING)
			out->old++;
		else if (st == SB_IDLE || st == SB_STARTING)
			out->idle++;
		else
			out->busy++;
	}
}
