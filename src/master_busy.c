/*
 * master_busy.c - pool.busy_reply: when max_workers workers are all in a
 * session, the master itself takes new connections and answers "421 <host>
 * Service not available, too busy" instead of leaving them in the backlog.
 * That one fixed line is all the SMTP the master writes: it never reads
 * from a client nor runs the channel.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "master_int.h"
#include "runtime.h"
#include "scoreboard.h"

/* master_busy_wanted - whether to watch the listeners: busy_reply is on
 * and no worker can take a connection, nor can one be forked. */
bool
master_busy_wanted(struct master *m)
{
	struct master_counts c;

	if (m->stopping || !m->rt->cfg.pool.busy_reply)
		return false;
	master_count(m, &c);
	return c.idle == 0 && c.live >= master_max_workers(m);
}

/* master_busy_send - the 421, best effort: the connection is dropped
 * anyway. */
static void
master_busy_send(const struct master *m, int fd)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "421 %s Service not available, "
	    "too busy\r\n", m->rt->fqdn);

	if (n > 0 && (size_t)n < sizeof(line)) {
		ssize_t w = send(fd, line, (size_t)n, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
		(void)w;
	}
}

/* master_busy_refuse - take one waiting connection and refuse it.  The
 * socket is non-blocking and the reply a single short line, which a new
 * connection's send buffer always has room for: the master never waits
 * on a client. */
void
master_busy_refuse(struct master *m, int listen_fd)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	char client[SCOREBOARD_CLIENT_MAX];
	int fd;

	fd = accept4(listen_fd, (struct sockaddr *)&peer, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ECONNABORTED && errno != EINTR)
			log_warn("accept (busy)");
		return;
	}
	listen_addr_name((struct sockaddr *)&peer, len, client,
	    sizeof(client));
	master_busy_send(m, fd);
	shutdown(fd, SHUT_WR);
	close(fd);
	log_info("refused client=%s reason=busy max_workers=%d", client,
	    master_max_workers(m));
}
