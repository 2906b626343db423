/*
 * worker.c - one worker of the pool: accept, serve the session with the
 * channel, repeat; see worker.h.
 *
 * Several idle workers wait on the same listening sockets.  To wake only
 * one of them per connection, each worker has its own epoll set with the
 * listeners added EPOLLEXCLUSIVE (Linux 4.5; nginx does the same).  This
 * was measured against the alternatives with 32 workers, 2 listeners and
 * 4000 connections on loopback (2 cores):
 *
 *	poll(), no lock (thundering herd)  11232 wakeups  0.66 s worker CPU
 *	EPOLLEXCLUSIVE                      4027 wakeups  0.12 s
 *	fcntl() lock around poll+accept     4000 wakeups  0.33 s
 *	process-shared pthread mutex        4000 wakeups  0.25 s
 *
 * Besides being the cheapest, it has no lock that a worker killed by
 * SIGKILL could leave held, and epoll_pwait() is interrupted by the
 * master's signals without a race, which a blocking mutex is not.  Where
 * EPOLLEXCLUSIVE does not exist, workers fall back to ppoll(): correct,
 * with the herd.
 */
#include "autoconfig.h"

#include <bsd/unistd.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif

#include "channel.h"
#include "listen.h"
#include "log.h"
#include "plugin_loader.h"
#include "privsep.h"
#include "proxy_accept.h"
#include "runtime.h"
#include "scoreboard.h"
#include "worker.h"

#if defined(__linux__) && defined(EPOLLEXCLUSIVE)
#define WORKER_EPOLL 1
#endif

#define WORKER_MAX_FDS 64

_Static_assert(__builtin_types_compatible_p(sig_atomic_t, int),
    "channel_serve() polls the stop flag as an int");

/* volatile sig_atomic_t: set by the handlers, read by the loop and the
 * channel.  leave: SIGUSR1, finish the session then exit; stop: SIGTERM,
 * end the session at its next command. */
static volatile sig_atomic_t worker_leave_flag;
static volatile sig_atomic_t worker_stop_flag;
/* The listening sockets, for the SIGUSR2 handler to close (written once
 * before the handler is installed). */
static int worker_listen_fds[WORKER_MAX_FDS];
static volatile sig_atomic_t worker_nlisten_fds;

struct worker {
	const struct worker_args *a;
	sigset_t waitmask;	/* the mask inside the accept wait */
	sigset_t sessmask;	/* the mask during a session */
	int epfd;
	bool master_gone;
	struct psmtpd_session *kept;	/* every session's memory */
};

/*
 * worker_on_orphan - SIGUSR2, the parent-death signal: the master is
 * gone.  Close the listeners here and now (close() is async-signal-safe),
 * so that a new master can bind the addresses while this worker finishes
 * the session in flight; then leave.
 */
static void
worker_on_orphan(int signo)
{
	int saved = errno;

	(void)signo;
	for (sig_atomic_t i = 0; i < worker_nlisten_fds; i++)
		close(worker_listen_fds[i]);
	worker_nlisten_fds = 0;
	worker_leave_flag = 1;
	errno = saved;
}

static void
worker_on_signal(int signo)
{
	if (signo == SIGTERM)
		worker_stop_flag = 1;
	worker_leave_flag = 1;
}

/*
 * worker_signals - SIGUSR1 and SIGTERM set the flags; they are blocked
 * but inside the accept wait (and SIGTERM during a session, so that the
 * channel's poll() is interrupted).  SIGINT and SIGHUP are the master's
 * business: a ^C on the terminal reaches the whole process group.
 * SIGUSR2 (the master died) is never blocked.
 */
static int
worker_signals(struct worker *w)
{
	struct sigaction sa;
	sigset_t block;

	for (size_t i = 0; i < w->a->nlisteners; i++)
		worker_listen_fds[i] = w->a->listeners[i].fd;
	worker_nlisten_fds = (sig_atomic_t)w->a->nlisteners;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = worker_on_orphan;
	sa.sa_flags = SA_RESTART;	/* plugins' calls go on */
	if (sigaction(SIGUSR2, &sa, NULL) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = worker_on_signal;	/* no SA_RESTART: EINTR */
	if (sigaction(SIGUSR1, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		return -1;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1 ||
	    sigaction(SIGPIPE, &sa, NULL) == -1)
		return -1;
	sa.sa_handler = SIG_DFL;	/* plugins may fork and wait */
	if (sigaction(SIGCHLD, &sa, NULL) == -1)
		return -1;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigemptyset(&w->waitmask);
	sigemptyset(&w->sessmask);
	sigaddset(&w->sessmask, SIGUSR1);
	return sigprocmask(SIG_SETMASK, &block, NULL);
}

/* worker_quitting - whether to take no more connections. */
static bool
worker_quitting(const struct worker *w)
{
	return worker_leave_flag || worker_stop_flag || w->master_gone ||
	    scoreboard_leaving(w->a->sb, w->a->slot);
}

#ifdef WORKER_EPOLL
/* worker_wait_setup - this worker's own epoll set (one made before the
 * fork would be shared, and EPOLLEXCLUSIVE works per set). */
static int
worker_wait_setup(struct worker *w)
{
	struct epoll_event ev;

	if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	for (size_t i = 0; i < w->a->nlisteners; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.fd = w->a->listeners[i].fd;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) == -1)
			return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = w->a->alive_fd;
	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
}

/* worker_wait - the fds ready to accept on (or the alive fd); -1 with
 * EINTR when a signal came. */
static int
worker_wait(struct worker *w, int *fds, int max)
{
	struct epoll_event ev[WORKER_MAX_FDS];
	int n = epoll_pwait(w->epfd, ev, max, -1, &w->waitmask);

	for (int i = 0; i < n; i++)
		fds[i] = ev[i].data.fd;
	return n;
}
#else
static int
worker_wait_setup(struct worker *w)
{
	w->epfd = -1;
	return 0;
}

static int
worker_wait(struct worker *w, int *fds, int max)
{
	struct pollfd p[WORKER_MAX_FDS + 1];
	size_t n = w->a->nlisteners;
	int k = 0, r;

	for (size_t i = 0; i < n; i++)
		p[i] = (struct pollfd){ .fd = w->a->listeners[i].fd,
		    .events = POLLIN };
	p[n] = (struct pollfd){ .fd = w->a->alive_fd, .events = POLLIN };
	if ((r = ppoll(p, n + 1, NULL, &w->waitmask)) <= 0)
		return r;
	for (size_t i = 0; i <= n && k < max; i++)
		if (p[i].revents != 0)
			fds[k++] = p[i].fd;
	return k;
}
#endif

/* worker_accept_error - what a failed accept() means: nothing (another
 * worker was faster, the client left), or a shortage worth a pause so
 * that the loop does not spin on it. */
static void
worker_accept_error(const char *listener)
{
	struct timespec pause = { 0, 100 * 1000 * 1000 };

	switch (errno) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
		return;
	case EINVAL:	/* the master shut the listener: stopping */
		nanosleep(&pause, NULL);
		return;
	default:
		log_warn("accept listener=%s", listener);
		nanosleep(&pause, NULL);
	}
}

/* worker_listener - the listener of an fd. */
static const struct listener *
worker_listener(const struct worker *w, int fd)
{
	for (size_t i = 0; i < w->a->nlisteners; i++)
		if (w->a->listeners[i].fd == fd)
			return &w->a->listeners[i];
	return NULL;
}

/* worker_accept - the next connection, or -1 when it is time to go. */
static int
worker_accept(struct worker *w, struct sockaddr_storage *peer,
    socklen_t *peerlen, const struct listener **from)
{
	int fds[WORKER_MAX_FDS];

	while (!worker_quitting(w)) {
		int n = worker_wait(w, fds, WORKER_MAX_FDS);

		if (n == -1 && errno != EINTR) {
			log_warn("worker wait");
			return -1;
		}
		for (int i = 0; i < n; i++) {
			const struct listener *l = worker_listener(w, fds[i]);
			int fd;

			if (l == NULL) {
				/* the alive fd: EOF */
				w->master_gone = true;
				return -1;
			}
			*peerlen = sizeof(*peer);
			fd = accept4(l->fd, (struct sockaddr *)peer, peerlen,
			    SOCK_CLOEXEC);
			if (fd != -1) {
				*from = l;
				return fd;
			}
			worker_accept_error(l->name);
		}
	}
	return -1;
}

/* worker_phase - the channel's progress, into the scoreboard. */
static void
worker_phase(void *arg, enum channel_phase phase, const char *detail)
{
	const struct worker *w = arg;
	enum sb_state st = SB_COMMAND;

	switch (phase) {
	case CHANNEL_PHASE_GREETING:
	case CHANNEL_PHASE_COMMAND:
		st = SB_COMMAND;
		break;
	case CHANNEL_PHASE_DATA:
		st = SB_DATA;
		break;
	case CHANNEL_PHASE_PLUGIN:
		st = SB_PLUGIN;
		break;
	case CHANNEL_PHASE_CLOSING:
		st = SB_CLOSING;
		break;
	}
	scoreboard_set_state(w->a->sb, w->a->slot, st, detail);
}

/* worker_message - a message answered, into the scoreboard's counters
 * (for psmtpd -S). */
static void
worker_message(void *arg, bool accepted)
{
	const struct worker *w = arg;

	scoreboard_count_message(w->a->sb, w->a->slot, accepted);
}

/* worker_client_over_limit - limits.max_connections_per_client, counted
 * across every worker (this session included): refuse with a 421. */
static bool
worker_client_over_limit(struct worker *w, int fd, const char *client)
{
	const struct runtime *rt = w->a->rt;
	long long limit = rt->cfg.limits.max_connections_per_client;

	if (limit <= 0 ||
	    scoreboard_count_client(w->a->sb, client) <= limit)
		return false;
	log_info("refused client=%s reason=max_connections_per_client "
	    "limit=%lld", client, limit);
	channel_refuse(&rt->chan, fd, "Error: too many connections from "
	    "your address");
	return true;
}

/* worker_params - the generation's channel settings for a connection
 * from this listener.  A reload that changed `listen` keeps the old
 * sockets (that needs a restart): a socket whose entry is gone from the
 * new config serves plain SMTP with the global settings. */
static const struct channel_params *
worker_params(const struct worker *w, const struct listener *from,
    struct channel_params *buf)
{
	const struct config *cfg = &w->a->rt->cfg;

	*buf = w->a->rt->chan;
	buf->listener = NULL;
	if (from->index < cfg->nlisten && strcmp(from->address,
	    cfg->listen[from->index].address) == 0)
		buf->listener = &cfg->listen[from->index];
	return buf;
}

/* worker_proxy - on a proxy_protocol listener the PROXY header comes
 * first: its client becomes the peer.  false: close the connection. */
static bool
worker_proxy(struct worker *w, int fd, struct sockaddr_storage *peer,
    socklen_t *peerlen, const struct listener *from)
{
	struct channel_params params;
	const struct config_listener *l =
	    worker_params(w, from, &params)->listener;

	if (l == NULL || !l->proxy_protocol)
		return true;
	scoreboard_set_state(w->a->sb, w->a->slot, SB_COMMAND, NULL);
	return proxy_accept(fd, l, w->a->rt->cfg.timeouts.proxy, from->name,
	    peer, peerlen) == 0;
}

/* worker_session - serve one accepted connection to its end. */
static void
worker_session(struct worker *w, int fd, const struct sockaddr_storage *peer,
    socklen_t peerlen, const struct listener *from)
{
	const struct channel_observer obs = { worker_phase, w, worker_message };
	struct runtime *rt = w->a->rt;
	char client[SCOREBOARD_CLIENT_MAX];
	sigset_t saved;
	enum channel_end end;
	struct channel_params params;

	listen_addr_name((const struct sockaddr *)peer, peerlen, client,
	    sizeof(client));
	scoreboard_session_begin(w->a->sb, w->a->slot, client);
	setproctitle("worker busy %s", client);
	scoreboard_set_state(w->a->sb, w->a->slot, SB_COMMAND, NULL);
	/* The channel logs the connection; this says where it came in. */
	log_debug("accept client=%s listener=%s", client, from->name);
	if (worker_client_over_limit(w, fd, client)) {
		close(fd);
		scoreboard_session_end(w->a->sb, w->a->slot);
		return;
	}
	/* SIGTERM may interrupt the channel's waits from here on. */
	sigprocmask(SIG_SETMASK, &w->sessmask, &saved);
	end = channel_serve_kept(w->kept, worker_params(w, from, &params),
	    rt->plugins, fd, (const struct sockaddr *)peer, peerlen, &obs,
	    (volatile const int *)&worker_stop_flag);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	close(fd);
	log_debug("session end client=%s reason=%s", client,
	    channel_end_name(end));
	scoreboard_session_end(w->a->sb, w->a->slot);
}

/* worker_orphan_watch - SIGUSR2 when the master dies, set after the
 * privilege drop (a change of credentials clears it); a master that died
 * before that is seen through getppid().  Elsewhere the alive pipe is
 * all there is (noticed between sessions). */
static int
worker_orphan_watch(const struct worker *w)
{
#ifdef PR_SET_PDEATHSIG
	if (prctl(PR_SET_PDEATHSIG, SIGUSR2) == -1)
		return -1;
	if (getppid() != w->a->master_pid)
		raise(SIGUSR2);
#else
	(void)w;
#endif
	return 0;
}

/* worker_start - privileges, plugin init, signals, the wait set. */
static int
worker_start(struct worker *w)
{
	char err[512];

	if (privsep_drop(w->a->creds, err, sizeof(err)) == -1) {
		log_warnx("worker cannot drop privileges: %s", err);
		return WORKER_EXIT_PRIV;
	}
	if (worker_signals(w) == -1 || worker_orphan_watch(w) == -1 ||
	    worker_wait_setup(w) == -1) {
		log_warn("worker setup");
		return WORKER_EXIT_INIT;
	}
	if ((w->kept = channel_keep_new()) == NULL) {
		log_warn("worker setup");
		return WORKER_EXIT_INIT;
	}
	if (plugin_set_worker_init(w->a->rt->plugins) == -1) {
		log_warnx("worker plugin init failed");
		return WORKER_EXIT_INIT;
	}
	return WORKER_EXIT_OK;
}

void
worker_main(const struct worker_args *args)
{
	struct worker w = { .a = args, .epfd = -1 };
	long long max = args->rt->cfg.pool.max_connections_per_worker;
	unsigned long long served = 0;
	int status;

	log_set_role("worker");
	if (args->nlisteners >= WORKER_MAX_FDS)
		log_panic("too many listeners: %zu", args->nlisteners);
	if ((status = worker_start(&w)) != WORKER_EXIT_OK)
		exit(status);
	/* Sessions read stress mode from the word the master sets. */
	args->rt->chan.stress = scoreboard_stress_word(args->sb);
	while (max <= 0 || served < (unsigned long long)max) {
		struct sockaddr_storage peer;
		socklen_t peerlen;
		const struct listener *from;
		int fd;

		scoreboard_set_state(args->sb, args->slot, SB_IDLE, NULL);
		setproctitle("worker idle");
		if ((fd = worker_accept(&w, &peer, &peerlen, &from)) == -1)
			break;
		if (worker_proxy(&w, fd, &peer, &peerlen, from))
			worker_session(&w, fd, &peer, peerlen, from);
		else
			close(fd);
		served++;
	}
	scoreboard_set_state(args->sb, args->slot, SB_EXITING, NULL);
	if (max > 0 && served >= (unsigned long long)max)
		log_info("worker recycled sessions=%llu", served);
	plugin_set_worker_fini(args->rt->plugins);
	channel_keep_free(w.kept);
	exit(WORKER_EXIT_OK);
}
