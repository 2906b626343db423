/*
 * master_idle.c - idle server maintenance, after Apache prefork's
 * perform_idle_server_maintenance(): once a second, count the idle workers
 * of the current generation and fork or retire some so that between
 * min_spare and max_spare wait for connections, never more than
 * max_workers in all.
 */
#include "autoconfig.h"

#include "log.h"
#include "master_int.h"
#include "runtime.h"
#include "scoreboard.h"

/* idle_retire - tell n idle workers of the current generation to leave. */
static void
idle_retire(struct master *m, int n)
{
	for (size_t i = 0; i < m->nworkers && n > 0; i++) {
		const struct master_worker *w = &m->workers[i];

		if (w->pid <= 0 || w->generation != m->generation || w->leave ||
		    scoreboard_state(m->sb, i) != SB_IDLE)
			continue;
		master_tell_leave(m, i);
		n--;
	}
}

/* master_stress_update - once a second: stress mode on or off, in the
 * shared word the workers read, and in the log. */
static void
master_stress_update(struct master *m, const struct master_counts *c)
{
	const struct config *cfg = &m->rt->cfg;
	struct stress_input in = { .idle = c->idle, .live = c->live,
	    .max_workers = master_max_workers(m), .now = master_now_ms() };
	long long began = m->stress.since;

	switch (master_stress_plan(&in, &m->stress)) {
	case 1:
		log_warnx("stress mode on: no idle worker and max_workers=%d "
		    "busy=%d; sessions now get command=%ds data=%ds "
		    "max_errors=%lld", in.max_workers, c->busy,
		    cfg->stress.command, cfg->stress.data,
		    cfg->stress.max_errors);
		break;
	case -1:
		log_notice("stress mode off after %llds idle=%d",
		    (in.now - began) / 1000, c->idle);
		break;
	}
	/* Written every second, so that a worker that scribbled over it
	 * changes the limits for a second at most. */
	scoreboard_set_stress(m->sb, m->stress.since);
}

/* master_idle_maintain - apply the plan: once a second (tick), and also
 * right after workers died, so that a recycled or crashed worker is
 * replaced at once; only the tick moves the spawn rate. */
void
master_idle_maintain(struct master *m, bool tick)
{
	const struct config *cfg = &m->rt->cfg;
	struct master_counts c;
	struct idle_input in;
	struct idle_plan plan;

	master_count(m, &c);
	in = (struct idle_input){
		.idle = c.idle, .busy = c.busy, .live = c.live,
		.start = cfg->pool.start, .min_spare = cfg->pool.min_spare,
		.max_spare = cfg->pool.max_spare,
		.max_workers = master_max_workers(m), .rate = m->rate,
	};
	master_idle_plan(&in, &plan);
	if (!tick && plan.spawn == 0)
		return;
	if (plan.at_max && !m->warned_max)
		log_warnx("pool full max_workers=%d busy=%d: new connections "
		    "wait%s", master_max_workers(m), c.busy,
		    cfg->pool.busy_reply ? " or get 421" : " in the backlog");
	m->warned_max = plan.at_max;
	if (plan.retire > 0) {
		log_info("pool retire count=%d idle=%d max_spare=%d",
		    plan.retire, c.idle, cfg->pool.max_spare);
		idle_retire(m, plan.retire);
	}
	if (plan.spawn > 0) {
		int n = master_spawn(m, plan.spawn);
		if (n > 0)
			log_info("pool spawn count=%d idle=%d busy=%d live=%d "
			    "rate=%d", n, c.idle, c.busy, c.live + n,
			    m->rate);
		if (n < plan.spawn)
			plan.rate = 1;
	}
	if (tick) {
		m->rate = plan.rate;
		master_stress_update(m, &c);
	}
}
