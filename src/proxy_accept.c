/*
 * proxy_accept.c - read and apply a PROXY header on an accepted
 * connection (see proxy_accept.h).
 *
 * Not a byte past the header may be taken: with implicit TLS the
 * client's ClientHello follows it at once, and it belongs to the TLS
 * layer.  So each round peeks at what has arrived and lets the parser
 * judge all it has: while the header is incomplete every byte peeked is
 * part of it and is consumed; once it is whole exactly its remaining
 * bytes are.  A round never spins: what stays queued after it is only
 * what follows the header.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "config.h"
#include "io.h"
#include "listen.h"
#include "log.h"
#include "proxy_accept.h"
#include "proxy_proto.h"

#define PA_NAME_MAX 80	/* "[v6 address]:port" */

/* pa_trusted - whether the connection's own peer may send a header. */
static bool
pa_trusted(const struct config_listener *l,
    const struct sockaddr_storage *peer, socklen_t peerlen)
{
	char host[NI_MAXHOST];

	if (peer->ss_family == AF_UNIX)
		return true;
	if (getnameinfo((const struct sockaddr *)peer, peerlen, host,
	    sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
		return false;
	return addr_cidr_match(l->proxy_trusted, l->nproxy_trusted, host);
}

/* pa_wait - until fd is readable: 0; -1 with *why on time-out or error. */
static int
pa_wait(int fd, long long deadline, const char **why)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		int left = io_seconds_left(deadline);
		if (left == 0) {
			*why = "no header in time";
			return -1;
		}
		int n = poll(&p, 1, left > 3600 ? 3600 * 1000 : left * 1000);
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR) {
			*why = strerror(errno);
			return -1;
		}
	}
}

/* pa_round - peek, parse, consume; the parser's status, or INVALID with
 * *why for an end of input or a read error. */
static enum proxy_proto_status
pa_round(int fd, unsigned char *buf, size_t *have, struct proxy_proto *pp,
    const char **why)
{
	ssize_t n = recv(fd, buf + *have, PROXY_PROTO_MAX - *have, MSG_PEEK);

	if (n <= 0) {
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			return PROXY_PROTO_AGAIN;
		*why = n == 0 ? "closed before the end of the header" :
		    strerror(errno);
		return PROXY_PROTO_INVALID;
	}
	enum proxy_proto_status st = proxy_proto_parse(buf,
	    *have + (size_t)n, pp);
	if (st == PROXY_PROTO_INVALID) {
		*why = pp->error;
		return st;
	}
	size_t take = st == PROXY_PROTO_OK ? pp->len - *have : (size_t)n;
	if (recv(fd, buf + *have, take, MSG_DONTWAIT) != (ssize_t)take) {
		*why = "cannot consume the header";
		return PROXY_PROTO_INVALID;
	}
	*have += take;
	return st;
}

/* pa_read - the whole header within timeout seconds; 0 or -1 (*why). */
static int
pa_read(int fd, int timeout, struct proxy_proto *pp, const char **why)
{
	unsigned char buf[PROXY_PROTO_MAX];
	size_t have = 0;
	long long deadline = io_deadline(timeout);

	for (;;) {
		if (pa_wait(fd, deadline, why) == -1)
			return -1;
		switch (pa_round(fd, buf, &have, pp, why)) {
		case PROXY_PROTO_OK:
			return 0;
		case PROXY_PROTO_INVALID:
			return -1;
		case PROXY_PROTO_AGAIN:
			break;
		}
	}
}

int
proxy_accept(int fd, const struct config_listener *l, int timeout,
    const char *listener, struct sockaddr_storage *peer, socklen_t *peerlen)
{
	char via[PA_NAME_MAX], client[PA_NAME_MAX], why[160];
	const char *reason = NULL;
	struct proxy_proto pp;

	listen_addr_name((const struct sockaddr *)peer, *peerlen, via,
	    sizeof(via));
	if (!pa_trusted(l, peer, *peerlen))
		reason = "sender not in proxy_trusted";
	else if (pa_read(fd, timeout, &pp, &reason) == 0) {
		if (!pp.local) {
			memcpy(peer, &pp.src, pp.srclen);
			*peerlen = pp.srclen;
		}
		listen_addr_name((const struct sockaddr *)peer, *peerlen,
		    client, sizeof(client));
		log_debug("proxy client=%s via=%s listener=%s version=%d "
		    "local=%s tlvs=%zu", client, via, listener, pp.version,
		    pp.local ? "yes" : "no", pp.ntlv);
		return 0;
	}
	log_notice("proxy refused via=%s listener=%s reason=\"%s\"", via,
	    listener, log_escape(why, sizeof(why), reason));
	return -1;
}
