/*
 * addr.h - "host:port" and "[v6addr]:port" specs, as python -m smtpd
 * takes them for localaddr and remoteaddr.  Pure: no resolving.
 */
#ifndef PSMTPD_ADDR_H
#define PSMTPD_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

#define ADDR_HOST_MAX 256

struct addr_spec {
	char host[ADDR_HOST_MAX];	/* without brackets; "" = any */
	char port[8];			/* digits, 0..65535 */
};

/* 0, or -1 with a short reason in *why. */
int addr_parse(const char *spec, struct addr_spec *out, const char **why);

/* An address or a network: "192.0.2.1", "10.0.0.0/8", "::1",
 * "2001:db8::/32".  A bare address is a /32 or /128. */
struct addr_cidr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];	/* network byte order; 4 used for AF_INET */
	unsigned bits;		/* prefix length */
};

/* 0, or -1 with a short reason in *why.  Host bits beyond the prefix
 * must be zero ("10.1.0.0/8" is refused: it says two things). */
int addr_cidr_parse(const char *text, struct addr_cidr *out,
    const char **why);
/* Whether a numeric address ("192.0.2.1", "::1", "::ffff:192.0.2.1")
 * is inside one of the n networks.  An IPv4-mapped IPv6 address matches
 * the IPv4 networks.  false for text that is no address. */
int addr_cidr_match(const struct addr_cidr *list, size_t n,
    const char *numeric);

/* The numeric host ("192.0.2.1", "::1") and port of a socket address, as
 * getnameinfo(NI_NUMERICHOST | NI_NUMERICSERV) gives them; -1 when it
 * fails or the host does not fit in size.  IPv4 is formatted here, not
 * by getnameinfo: it is done for every connection. */
int addr_numeric(const struct sockaddr *sa, socklen_t len, char *host,
    size_t size, unsigned *port);

#endif
