/*
 * master.c - the master's life: set up (bind, check who the workers will
 * be, detach, pidfile), run the loop that reaps, reloads, keeps the pool
 * and stops, and clean up.  The jobs themselves are in master_*.c.
 */
#include "autoconfig.h"

#include <bsd/unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "listen.h"
#include "log.h"
#include "master.h"
#include "master_int.h"
#include "plugin_loader.h"
#include "runtime.h"
#include "scoreboard.h"
#include "worker.h"

/* The scoreboard is made once, with room for more workers than the first
 * max_workers, so that a reload may raise it up to there. */
#define MASTER_MIN_SLOTS 1024
#define MASTER_MAX_LISTENERS 60

/* master_detach - -D: lock the pidfile (refused when another psmtpd
 * holds it), go to the background, write our pid, log to syslog.  Errors
 * are still on stderr. */
static int
master_detach(struct master *m)
{
	const struct config *cfg = &m->rt->cfg;
	char err[4200];

	if (cfg->pidfile != NULL && cfg->pidfile[0] != '\0') {
		if (daemon_abspath(cfg->pidfile, m->pidfile,
		    sizeof(m->pidfile)) == -1) {
			log_warnx("pidfile %s: path too long", cfg->pidfile);
			return -1;
		}
		if (daemon_pidfile_lock(m->pidfile, &m->pidfile_fd, err,
		    sizeof(err)) == -1) {
			log_warnx("%s", err);
			return -1;
		}
	}
	if (!daemon_syslog_reachable())
		log_warnx("no syslog daemon listens on %s: the detached "
		    "server's log lines will be lost (run it in the "
		    "foreground under a supervisor, or start syslog)",
		    _PATH_LOG);
	if (daemon_detach(&m->ready_fd, err, sizeof(err)) == -1) {
		log_warnx("detach: %s", err);
		return -1;
	}
	if (m->pidfile_fd != -1 && daemon_pidfile_put(m->pidfile_fd, getpid(),
	    err, sizeof(err)) == -1) {
		log_warnx("%s %s", m->pidfile, err);
		return -1;
	}
	log_init(LOG_DEST_SYSLOG, cfg->log.facility, cfg->log.level, "psmtpd");
	return 0;
}

/* master_scoreboard - the scoreboard in status.file for psmtpd -S; in
 * anonymous memory when that cannot be (a warning when the file was
 * configured; only a debug line for the default one, which a user who
 * is not root cannot write: python -m smtpd's users never asked). */
static struct scoreboard *
master_scoreboard(const struct config *cfg, size_t slots)
{
	const char *path = cfg->status.file;
	struct scoreboard *sb;

	if (path == NULL || path[0] == '\0')
		return scoreboard_create(slots, NULL);
	if ((sb = scoreboard_create(slots, path)) != NULL)
		return sb;
	log_msg(cfg->have_doc && config_lookup(&cfg->doc, "status.file") ?
	    LOG_WARNING : LOG_DEBUG, "status file %s: %s; psmtpd -S will "
	    "not see this server", path, strerror(errno));
	return scoreboard_create(slots, NULL);
}

/* master_setup - everything before the first fork of a worker. */
static int
master_setup(struct master *m, sigset_t *waitmask)
{
	const struct config *cfg = &m->rt->cfg;
	size_t slots = (size_t)(cfg->pool.max_workers > MASTER_MIN_SLOTS ?
	    cfg->pool.max_workers : MASTER_MIN_SLOTS);
	char err[1024];

	if (listen_open(cfg->listen, cfg->nlisten, cfg->listen_backlog,
	    &m->listeners, &m->nlisteners, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	m->backlog = cfg->listen_backlog;
	if (m->nlisteners > MASTER_MAX_LISTENERS) {
		log_warnx("too many listen addresses: %zu (at most %d)",
		    m->nlisteners, MASTER_MAX_LISTENERS);
		return -1;
	}
	if (privsep_resolve(cfg->user, cfg->group, cfg->no_setuid, &m->creds,
	    err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	if ((m->sb = master_scoreboard(cfg, slots)) == NULL ||
	    master_workers_init(m, slots) == -1) {
		log_warn("scoreboard");
		return -1;
	}
	if (pipe2(m->alive, O_CLOEXEC) == -1) {
		log_warn("pipe");
		return -1;
	}
	if (cfg->detach && master_detach(m) == -1)
		return -1;
	if (master_signal_setup(waitmask) == -1) {
		log_warn("signals");
		return -1;
	}
	return 0;
}

/* master_nobody_warning - mail that a delivery plugin stores as `nobody`
 * is readable by every other process that runs as nobody. */
static void
master_nobody_warning(const struct master *m)
{
	const char *plugin;

	if (m->creds.keep || strcmp(m->creds.user, "nobody") != 0 ||
	    plugin_set_target(m->rt->plugins, 0, &plugin) == NULL)
		return;
	log_warnx("workers run as nobody and plugin %s stores mail: any "
	    "process running as nobody can read it; set user = \"psmtpd\" "
	    "(adduser --system --group --no-create-home psmtpd)", plugin);
}

/* master_started - the line that says the server is up. */
static void
master_started(const struct master *m)
{
	char names[1024] = "";
	size_t off = 0;

	for (size_t i = 0; i < m->nlisteners && off < sizeof(names); i++) {
		int n = snprintf(names + off, sizeof(names) - off, "%s%s",
		    i ? "," : "", m->listeners[i].name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	log_info("started pid=%ld listen=%s generation=%u user=%s workers=%d",
	    (long)getpid(), names, m->generation,
	    m->creds.keep ? "(unchanged)" : m->creds.user,
	    m->rt->cfg.pool.start);
}

void
master_stop_begin(struct master *m)
{
	struct master_counts c;

	if (m->stopping)
		return;
	m->stopping = true;
	m->stop_stage = 0;
	m->stop_deadline = master_now_ms() +
	    (long long)m->rt->cfg.timeouts.shutdown * 1000;
	master_count(m, &c);
	log_info("stopping workers=%d busy=%d timeout=%d", c.live, c.busy,
	    m->rt->cfg.timeouts.shutdown);
	/* Stop accepting.  shutdown() of a listening socket ends listening
	 * for every process that shares it (Linux; elsewhere it fails and
	 * the sockets close with the last worker), so that new clients are
	 * refused now rather than left in the backlog of workers that will
	 * never accept again. */
	for (size_t i = 0; i < m->nlisteners; i++)
		shutdown(m->listeners[i].fd, SHUT_RD);
	listen_close(m->listeners, m->nlisteners);
	m->listeners = NULL;
	m->nlisteners = 0;
	master_leave_old(m);
}

/* master_stop_signal - SIGTERM/SIGINT: the first begins a graceful stop;
 * another one while stopping skips the wait, as a user at a terminal
 * pressing ^C twice expects (sessions get 421 at once, then SIGKILL after
 * the grace; a third skips the grace too). */
static void
master_stop_signal(struct master *m)
{
	if (!m->stopping) {
		master_stop_begin(m);
		return;
	}
	log_notice("stop signal again: ending the sessions now");
	m->stop_deadline = 0;
}

/* master_log_status - SIGUSR1/SIGUSR2: one line on the pool. */
static void
master_log_status(const struct master *m)
{
	struct master_counts c;

	master_count(m, &c);
	log_info("status live=%d idle=%d busy=%d old=%d generation=%u "
	    "stress=%s stopping=%s", c.live, c.idle, c.busy, c.old,
	    m->generation, m->stress.since != 0 ? "on" : "off",
	    m->stopping ? "yes" : "no");
}

/* master_stop_step - past timeouts.shutdown the sessions are ended (the
 * channel says 421 at the next command), and the workers killed if even
 * that does not end them. */
static void
master_stop_step(struct master *m, long long now)
{
	if (now < m->stop_deadline)
		return;
	if (m->stop_stage == 0) {
		log_notice("shutdown timeout: ending the sessions left");
		master_signal_all(m, SIGTERM);
		m->stop_stage = 1;
		m->stop_deadline = now + MASTER_KILL_GRACE_MS;
	} else if (m->stop_stage == 1) {
		log_warnx("shutdown: killing the workers left");
		master_signal_all(m, SIGKILL);
		m->stop_stage = 2;
		m->stop_deadline = now + 3600 * 1000;
	}
}

/* master_timeout - how long the loop may sleep. */
static long long
master_timeout(const struct master *m, long long now)
{
	long long t = m->stopping ? m->stop_deadline - now :
	    m->next_tick - now;
	long long b = master_backoff_wait(&m->backoff, now);

	if (!m->stopping && b > 0 && b < t)
		t = b;
	return t < 0 ? 0 : t;
}

/* master_wait - sleep until a signal, the next deadline, or (busy_reply
 * with a full pool) a connection to refuse. */
static void
master_wait(struct master *m, const sigset_t *waitmask, long long now)
{
	struct pollfd p[MASTER_MAX_LISTENERS];
	long long ms = master_timeout(m, now);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nfds_t n = 0;
	int r;

	if (master_busy_wanted(m))
		for (; n < m->nlisteners; n++)
			p[n] = (struct pollfd){ .fd = m->listeners[n].fd,
			    .events = POLLIN };
	r = ppoll(p, n, &ts, waitmask);
	if (r == -1 && errno != EINTR)
		log_warn("ppoll");
	for (nfds_t i = 0; r > 0 && i < n; i++)
		if (p[i].revents & POLLIN)
			master_busy_refuse(m, p[i].fd);
}

/* master_live - workers alive, any generation. */
static int
master_live(const struct master *m)
{
	struct master_counts c;

	master_count(m, &c);
	return c.live;
}

static void
master_loop(struct master *m, const sigset_t *waitmask)
{
	for (;;) {
		long long now;

		bool reaped = master_signal_take(MSIG_CHLD);

		if (reaped)
			master_reap(m);
		if (master_signal_take(MSIG_TERM))
			master_stop_signal(m);
		if (master_signal_take(MSIG_STATUS))
			master_log_status(m);
		if (master_signal_take(MSIG_HUP))
			master_reload(m);
		if (m->stopping && master_live(m) == 0)
			break;
		now = master_now_ms();
		if (m->stopping)
			master_stop_step(m, now);
		else if (now >= m->next_tick) {
			master_listen_check(m);
			master_idle_maintain(m, true);
			m->next_tick = now + MASTER_TICK_MS;
		} else if (reaped)
			master_idle_maintain(m, false);
		master_wait(m, waitmask, now);
	}
}

/* master_cleanup - what the master holds, whatever state it got to. */
static void
master_cleanup(struct master *m)
{
	daemon_pidfile_release(m->pidfile, m->pidfile_fd);
	if (m->ready_fd != -1)
		daemon_ready(m->ready_fd, 0);
	listen_close(m->listeners, m->nlisteners);
	scoreboard_destroy(m->sb);
	free(m->workers);
	for (int i = 0; i < 2; i++)
		if (m->alive[i] != -1)
			close(m->alive[i]);
	runtime_free(m->rt);
}

int
master_run(struct runtime *rt, const struct master_ops *ops)
{
	struct master m = {
		.rt = rt, .ops = ops, .generation = rt->generation,
		.alive = { -1, -1 }, .rate = 1, .ready_fd = -1,
		.pidfile_fd = -1,
	};
	sigset_t waitmask;

	if (master_setup(&m, &waitmask) == -1) {
		master_cleanup(&m);
		return 1;
	}
	setproctitle("master");
	scoreboard_set_master(m.sb, getpid());
	master_started(&m);
	master_relay_warning(&m);
	master_nobody_warning(&m);
	if (m.ready_fd != -1) {
		daemon_ready(m.ready_fd, 1);
		m.ready_fd = -1;
	}
	master_spawn(&m, rt->cfg.pool.start);
	m.next_tick = master_now_ms() + MASTER_TICK_MS;
	master_loop(&m, &waitmask);
	log_info("stopped status=%d", m.status);
	master_cleanup(&m);
	return m.status;
}
