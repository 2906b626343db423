/*
 * master_listen.c - keep the listening sockets listening.  Every worker
 * holds them, and a worker can shutdown() one (which on Linux ends
 * listening for every process that shares it) or listen() on it again
 * with a tiny backlog.  Nothing can prevent that short of taking the
 * sockets away from the workers, so the master checks them once a second
 * and puts them right: listen() again with the configured backlog, loudly
 * when a socket had stopped listening.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "listen.h"
#include "log.h"
#include "master_int.h"
#include "runtime.h"
#include "config.h"

/* master_is_loopback - whether a bound address is reachable only from this
 * host (127/8, ::1, a UNIX socket).  Pure. */
bool
master_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_UNIX)
		return true;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr);
	return false;
}

/* master_relays - whether the plugins include the proxy (PureProxy),
 * which relays for whoever may send a message. */
static bool
master_relays(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nplugins; i++) {
		const char *n = cfg->plugins[i].name;
		const char *p = cfg->plugins[i].path;
		const char *base = p != NULL ? strrchr(p, '/') : NULL;

		if ((n != NULL && (strcasecmp(n, "proxy") == 0 ||
		    strcasecmp(n, "PureProxy") == 0)) || (base != NULL &&
		    strcmp(base, "/proxy.so") == 0))
			return true;
	}
	return false;
}

/* master_relay_warning - at start: the proxy on an address that other
 * hosts reach, without AUTH required there, relays for anyone. */
void
master_relay_warning(const struct master *m)
{
	const struct config *cfg = &m->rt->cfg;

	if (!master_relays(cfg))
		return;
	for (size_t i = 0; i < m->nlisteners; i++) {
		const struct listener *l = &m->listeners[i];
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		if (getsockname(l->fd, (struct sockaddr *)&ss, &len) == -1 ||
		    master_is_loopback((struct sockaddr *)&ss) ||
		    (l->index < cfg->nlisten && cfg->listen[l->index].require_auth))
			continue;
		log_warnx("listener=%s is not loopback and the proxy relays "
		    "mail for anyone who connects: an open relay; listen on "
		    "localhost, require_auth, or firewall it", l->name);
	}
}

/* master_listen_check - once a second, outside a stop. */
void
master_listen_check(struct master *m)
{
	int backlog = m->backlog;

	for (size_t i = 0; i < m->nlisteners; i++) {
		const struct listener *l = &m->listeners[i];
		int on = 0;
		socklen_t len = sizeof(on);

		if (getsockopt(l->fd, SOL_SOCKET, SO_ACCEPTCONN, &on,
		    &len) == -1) {
			log_warn("listener=%s getsockopt", l->name);
			continue;
		}
		if (!on)
			log_warnx("listener=%s stopped listening (shut down by "
			    "a worker?): listening again", l->name);
		/* Also undoes a smaller backlog that a worker set. */
		if (listen(l->fd, backlog) == -1)
			log_warn("listener=%s listen", l->name);
	}
}
