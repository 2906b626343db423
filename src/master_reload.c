/*
 * master_reload.c - SIGHUP: build a new generation, start its workers,
 * let the old ones finish their sessions and go.  The listeners stay open
 * throughout, so no connection is refused: one that arrives while no
 * worker waits sits in the backlog for a moment.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "master.h"
#include "master_int.h"
#include "runtime.h"
#include "scoreboard.h"

/* master_same_listen - whether two configs listen on the same specs. */
static bool
master_same_listen(const struct config *a, const struct config *b)
{
	if (a->nlisten != b->nlisten || a->listen_backlog != b->listen_backlog)
		return false;
	for (size_t i = 0; i < a->nlisten; i++)
		if (strcmp(a->listen[i].address, b->listen[i].address) != 0)
			return false;
	return true;
}

/* master_reload_fixed - settings that only a restart changes: say so,
 * once per reload, rather than pretend. */
static void
master_reload_fixed(const struct master *m, const struct config *now)
{
	const struct config *was = &m->rt->cfg;

	if (!master_same_listen(was, now))
		log_warnx("reload: listen and listen_backlog changes need a "
		    "restart; still listening as before");
	if ((was->pidfile == NULL) != (now->pidfile == NULL) ||
	    (was->pidfile != NULL && strcmp(was->pidfile, now->pidfile) != 0))
		log_warnx("reload: a pidfile change needs a restart");
	if ((size_t)now->pool.max_workers > m->nworkers)
		log_warnx("reload: pool.max_workers=%d is above the %zu "
		    "workers the scoreboard was made for at start; restart "
		    "to go past it", now->pool.max_workers,
		    m->nworkers);
}

/* master_reload_log - the new generation's log level and facility; the
 * destination stays what it is. */
static void
master_reload_log(const struct master *m)
{
	const struct config *cfg = &m->rt->cfg;

	log_init(cfg->detach ? LOG_DEST_SYSLOG : LOG_DEST_STDERR,
	    cfg->log.facility, cfg->log.level, "psmtpd");
}

/* master_reload - SIGHUP.  A new config that does not load, or names a
 * user the workers cannot become, leaves the running generation alone. */
void
master_reload(struct master *m)
{
	struct privsep_creds creds;
	struct runtime *nrt, *old;
	char err[CONFIG_ERR_MAX];
	int n;

	if (m->stopping)
		return;
	log_info("reload generation=%u", m->generation);
	snprintf(err, sizeof(err), "nothing to reload from");
	nrt = m->ops != NULL && m->ops->reload != NULL ?
	    m->ops->reload(m->ops->arg, err, sizeof(err)) : NULL;
	if (nrt == NULL) {
		log_warnx("reload failed: %s: keeping generation=%u", err,
		    m->generation);
		return;
	}
	if (privsep_resolve(nrt->cfg.user, nrt->cfg.group, nrt->cfg.no_setuid,
	    &creds, err, sizeof(err)) == -1) {
		log_warnx("reload failed: %s: keeping generation=%u", err,
		    m->generation);
		runtime_free(nrt);
		return;
	}
	master_reload_fixed(m, &nrt->cfg);
	if (runtime_swap_plugins(m->rt, nrt, err, sizeof(err)) != 0) {
		log_warnx("reload failed: %s: keeping generation=%u", err,
		    m->generation);
		runtime_free(nrt);
		return;
	}
	old = m->rt;
	m->rt = nrt;
	m->creds = creds;
	nrt->generation = ++m->generation;
	master_reload_log(m);
	/* The workers have their own copy; the master's goes now (its
	 * plugins' fini ran in runtime_swap_plugins). */
	runtime_free(old);
	m->rate = 1;
	/* A reload always starts its workers: the new config may be what
	 * cures a crash loop, and the back-off must not hide that. */
	if (m->backoff.failures > 0)
		log_notice("reload: crash-loop back-off cleared failures=%d",
		    m->backoff.failures);
	m->backoff = (struct master_backoff){ 0, 0, 0 };
	m->floor_next = 0;
	n = master_spawn(m, nrt->cfg.pool.start);
	master_leave_old(m);
	log_info("reload done generation=%u started=%d", m->generation, n);
}
