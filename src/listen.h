/*
 * listen.h - the listening sockets.  The master opens them once, before
 * anything else (binding port 25 needs root), and keeps them open across
 * reloads so that no connection is refused; the workers inherit them.
 */
#ifndef PSMTPD_LISTEN_H
#define PSMTPD_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>

struct config_listener;

/* One bound socket.  A `listen` entry whose host resolves to several
 * addresses gives several; index says which entry, so that a worker finds
 * that entry's settings (TLS, PROXY, LMTP) in its generation's config. */
struct listener {
	int fd;
	size_t index;		/* into the config's listen[] */
	char address[300];	/* that entry's address, as configured */
	char name[300];	/* "127.0.0.1:8025", "[::1]:8025", "unix:/p" */
};

/*
 * Bind every listener's address: a "host:port" / "[v6]:port" whose host
 * name binds every address it resolves to, "" (":8025") every local
 * address; "unix:/path" a UNIX socket there (a stale socket file is
 * replaced; anything else at the path is an error), with the listener's
 * mode.  An address of a family the host lacks is skipped with a warning
 * as long as one address of the spec binds.  The sockets are
 * non-blocking, close-on-exec, SO_REUSEADDR, IPV6_V6ONLY for IPv6,
 * listening with backlog.  0 with a malloc'd array in *out, or -1 with
 * err (nothing left open).
 */
int listen_open(const struct config_listener *ls, size_t nls, int backlog,
    struct listener **out, size_t *nout, char *err, size_t errlen);
void listen_close(struct listener *l, size_t n);

/* "192.0.2.1:25" or "[2001:db8::1]:25"; "?" when it cannot be shown. */
void listen_addr_name(const struct sockaddr *sa, socklen_t len, char *buf,
    size_t size);

#endif
