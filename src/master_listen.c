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
#include <sys/socket.h>

#include "listen.h"
#include "log.h"
#include "master_int.h"
#include "runtime.h"
#include "worker.h"

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
