/*
 * listen.c - resolve and bind the listen specs; see listen.h.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "listen.h"
#include "log.h"

/* A growing array of listeners being opened. */
struct listen_set {
	struct listener *l;
	size_t n, cap;
};

void
listen_addr_name(const struct sockaddr *sa, socklen_t len, char *buf,
    size_t size)
{
	char host[NI_MAXHOST];
	unsigned port;

	if (addr_numeric(sa, len, host, sizeof(host), &port) != 0) {
		snprintf(buf, size, "?");
		return;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", host, port);
	else
		snprintf(buf, size, "%s:%u", host, port);
}

/* listen_lacking - errors that mean the host lacks this address family
 * or address (no IPv6, ::1 not configured), which a spec may skip. */
static int
listen_lacking(int err)
{
	return err == EAFNOSUPPORT || err == EPROTONOSUPPORT ||
	    err == EADDRNOTAVAIL;
}

/* listen_socket_opts - what every listening socket gets before bind. */
static int
listen_socket_opts(int fd, int family)
{
	int on = 1;
	int fl;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		return -1;
	/* v6 sockets take only v6, so that "[::]:25" and "0.0.0.0:25" can
	 * both be bound, as getaddrinfo returns them for ":25". */
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    &on, sizeof(on)) == -1)
		return -1;
	/* Non-blocking: several workers wait on the socket and only one
	 * gets each connection; the others must not block in accept(). */
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	return 0;
}

/* listen_bind_one - a listening socket on one address; the fd, or -1
 * with errno. */
static int
listen_bind_one(const struct addrinfo *ai, int backlog)
{
	int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);

	if (fd == -1)
		return -1;
	if (listen_socket_opts(fd, ai->ai_family) == -1 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, backlog) == -1) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* listen_have - whether an address is already bound (a name and its
 * address both listed, or getaddrinfo repeating itself). */
static int
listen_have(const struct addrinfo *ai, const struct sockaddr_storage *bound,
    size_t nbound)
{
	for (size_t i = 0; i < nbound; i++)
		if (memcmp(&bound[i], ai->ai_addr, ai->ai_addrlen) == 0)
			return 1;
	return 0;
}

static int
listen_add(struct listen_set *set, int fd, size_t index, const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 4;
		struct listener *l = realloc(set->l, cap * sizeof(*l));
		if (l == NULL)
			return -1;
		set->l = l;
		set->cap = cap;
	}
	set->l[set->n].fd = fd;
	set->l[set->n].index = index;
	snprintf(set->l[set->n].address, sizeof(set->l[set->n].address),
	    "%s", spec);
	/* The name of the bound socket: with port 0 the real port. */
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (ss.ss_family == AF_UNIX)
		snprintf(set->l[set->n].name, sizeof(set->l[set->n].name),
		    "unix:%s", ((struct sockaddr_un *)&ss)->sun_path);
	else
		listen_addr_name((struct sockaddr *)&ss, len,
		    set->l[set->n].name, sizeof(set->l[set->n].name));
	set->n++;
	return 0;
}

/* listen_resolve - getaddrinfo for a parsed spec; 0 or -1 with err. */
static int
listen_resolve(const char *spec, const struct addr_spec *as,
    struct addrinfo **res, char *err, size_t errlen)
{
	struct addrinfo hints;
	int gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	gai = getaddrinfo(as->host[0] ? as->host : NULL, as->port, &hints, res);
	if (gai != 0) {
		snprintf(err, errlen, "listen %s: %s", spec,
		    gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return -1;
	}
	return 0;
}

/* listen_spec - bind every address of one spec. */
static int
listen_spec(struct listen_set *set, const char *spec, size_t index,
    int backlog,
    struct sockaddr_storage *bound, size_t *nbound, size_t maxbound,
    char *err, size_t errlen)
{
	struct addr_spec as;
	struct addrinfo *res, *ai;
	const char *why;
	int ok = 0, rc = 0;

	if (addr_parse(spec, &as, &why) == -1) {
		snprintf(err, errlen, "listen %s: %s", spec, why);
		return -1;
	}
	if (listen_resolve(spec, &as, &res, err, errlen) == -1)
		return -1;
	for (ai = res; ai != NULL && rc == 0; ai = ai->ai_next) {
		char name[300];
		int fd;

		if (ai->ai_addrlen > sizeof(bound[0]))
			continue;
		if (listen_have(ai, bound, *nbound)) {
			ok = 1;
			continue;
		}
		listen_addr_name(ai->ai_addr, ai->ai_addrlen, name,
		    sizeof(name));
		fd = listen_bind_one(ai, backlog);
		if (fd == -1 && listen_lacking(errno)) {
			log_warn("listen %s: skipping %s", spec, name);
			continue;
		}
		if (fd == -1 || listen_add(set, fd, index, spec) == -1) {
			snprintf(err, errlen, "listen %s: %s: %s", spec, name,
			    strerror(errno));
			if (fd != -1)
				close(fd);
			rc = -1;
			break;
		}
		ok = 1;
		if (*nbound < maxbound) {
			memset(&bound[*nbound], 0, sizeof(bound[0]));
			memcpy(&bound[*nbound], ai->ai_addr, ai->ai_addrlen);
			(*nbound)++;
		}
	}
	freeaddrinfo(res);
	if (rc == 0 && !ok) {
		snprintf(err, errlen, "listen %s: no address could be bound",
		    spec);
		rc = -1;
	}
	return rc;
}

/* listen_unix_clear - make room at path: a stale socket file (left by a
 * psmtpd that was killed) goes; anything else there is an error. */
static int
listen_unix_clear(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	return unlink(path);
}

/* listen_unix - a UNIX socket at the path of "unix:/path". */
static int
listen_unix(struct listen_set *set, const struct config_listener *l,
    size_t index, int backlog, char *err, size_t errlen)
{
	const char *path = config_listen_unix_path(l->address);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct addrinfo ai = { .ai_family = AF_UNIX,
	    .ai_socktype = SOCK_STREAM, .ai_addr = (struct sockaddr *)&sun,
	    .ai_addrlen = sizeof(sun) };
	int fd = -1;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "listen %s: path too long", l->address);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (listen_unix_clear(path) == -1 ||
	    (fd = listen_bind_one(&ai, backlog)) == -1 ||
	    chmod(path, (mode_t)l->mode) == -1 ||
	    listen_add(set, fd, index, l->address) == -1) {
		snprintf(err, errlen, "listen %s: %s", l->address,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return 0;
}

int
listen_open(const struct config_listener *ls, size_t nls, int backlog,
    struct listener **out, size_t *nout, char *err, size_t errlen)
{
	struct listen_set set = { NULL, 0, 0 };
	struct sockaddr_storage bound[64];
	size_t nbound = 0;
	int rc = 0;

	if (nls == 0) {
		snprintf(err, errlen, "nothing to listen on");
		return -1;
	}
	for (size_t i = 0; i < nls && rc == 0; i++) {
		if (config_listen_unix_path(ls[i].address) != NULL)
			rc = listen_unix(&set, &ls[i], i, backlog, err, errlen);
		else
			rc = listen_spec(&set, ls[i].address, i, backlog,
			    bound, &nbound, sizeof(bound) / sizeof(bound[0]),
			    err, errlen);
	}
	if (rc == -1) {
		listen_close(set.l, set.n);
		return -1;
	}
	*out = set.l;
	*nout = set.n;
	return 0;
}

void
listen_close(struct listener *l, size_t n)
{
	for (size_t i = 0; l != NULL && i < n; i++)
		if (l[i].fd != -1)
			close(l[i].fd);
	free(l);
}
