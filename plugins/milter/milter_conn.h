/*
 * milter_conn.h - the connection to one milter: where it listens
 * ("inet:host:port", "inet6:host:port", "unix:/path"), connecting within a
 * time limit, and writing and reading whole packets, each wait a poll(2)
 * bounded by a deadline.  A milter that sends "progress" extends the
 * deadline of the reply it is working on (the caller decides that).
 */
#ifndef PSMTPD_MILTER_CONN_H
#define PSMTPD_MILTER_CONN_H

#include <stddef.h>
#include <sys/socket.h>

#include "milter_proto.h"

/* Where a milter listens. */
struct mc_addr {
	int family;		/* AF_INET, AF_INET6 (or AF_UNSPEC: either), AF_UNIX */
	char host[256];		/* or the path of a unix socket */
	char port[8];
};

/* Parse a socket spec: "inet:host:port" (IPv4 or a name), "inet6:host:port"
 * or "inet6:[addr]:port", "unix:/path" (also "local:/path").  Pure.  0, or
 * -1 with *why set. */
int mc_parse_addr(const char *spec, struct mc_addr *out, const char **why);

enum mc_status {
	MC_OK = 0,
	MC_TIMEOUT,		/* no answer in time */
	MC_EOF,			/* the milter closed the connection */
	MC_ERROR,		/* a system error: errno in err */
	MC_PROTOCOL		/* what it sent does not parse */
};

struct mc_conn {
	int fd;
	int err;
	unsigned char *pkt;	/* the last packet read (code + payload) */
	size_t pkt_len, pkt_cap;
};

/* Connect within timeout_ms; fd set.  On failure a text in why. */
enum mc_status mc_connect(struct mc_conn *c, const struct mc_addr *a,
    int timeout_ms, char *why, size_t whylen);
/* Write all of p[0..n) before deadline (delivery_now_ms() time). */
enum mc_status mc_write(struct mc_conn *c, const void *p, size_t n,
    long long deadline);
/* Read one packet before deadline: then c->pkt[0] is the code and
 * c->pkt[1..pkt_len) the payload. */
enum mc_status mc_read(struct mc_conn *c, long long deadline);
/* Close the socket, free the buffer. */
void mc_close(struct mc_conn *c);
/* A word for a status, for logs ("timeout"). */
const char *mc_status_text(const struct mc_conn *c, enum mc_status st);

#endif
