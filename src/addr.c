/*
 * addr.c - parse "host:port" and "[v6]:port".
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"

/* addr_parse_port - decimal 0..65535, nothing else. */
static int
addr_parse_port(const char *s, struct addr_spec *out)
{
	size_t n = strlen(s);
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	snprintf(out->port, sizeof(out->port), "%lu", v);
	return 0;
}

int
addr_parse(const char *spec, struct addr_spec *out, const char **why)
{
	const char *colon;
	size_t hostlen;
	const char *host = spec;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (close == NULL || close[1] != ':') {
			*why = "expected [address]:port";
			return -1;
		}
		host = spec + 1;
		hostlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL) {
			*why = "expected host:port";
			return -1;
		}
		hostlen = (size_t)(colon - spec);
		if (memchr(spec, ':', hostlen) != NULL) {
			*why = "an IPv6 address needs brackets: [address]:port";
			return -1;
		}
	}
	if (hostlen >= sizeof(out->host)) {
		*why = "host name too long";
		return -1;
	}
	memcpy(out->host, host, hostlen);
	out->host[hostlen] = '\0';
	if (addr_parse_port(colon + 1, out) != 0) {
		*why = "bad port";
		return -1;
	}
	return 0;
}

/* addr_cidr_bits - the prefix length after '/', or the whole address. */
static int
addr_cidr_bits(const char *slash, unsigned max, unsigned *bits)
{
	char *end;
	unsigned long v;

	if (slash == NULL) {
		*bits = max;
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9')
		return -1;
	v = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || v > max)
		return -1;
	*bits = (unsigned)v;
	return 0;
}

/* addr_cidr_host_bits_zero - whether every bit past the prefix is 0. */
static int
addr_cidr_host_bits_zero(const struct addr_cidr *c)
{
	unsigned len = c->family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < len; i++) {
		unsigned first = i * 8;
		unsigned char mask = first >= c->bits ? 0xff :
		    first + 8 <= c->bits ? 0 : (unsigned char)(0xff >>
		    (c->bits - first));
		if (c->addr[i] & mask)
			return 0;
	}
	return 1;
}

int
addr_cidr_parse(const char *text, struct addr_cidr *out, const char **why)
{
	char buf[64];
	const char *slash = strchr(text, '/');
	size_t n = slash != NULL ? (size_t)(slash - text) : strlen(text);

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(buf)) {
		*why = "not an address";
		return -1;
	}
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = AF_INET6;
	else {
		*why = "not a numeric IPv4 or IPv6 address";
		return -1;
	}
	if (addr_cidr_bits(slash, out->family == AF_INET ? 32 : 128,
	    &out->bits) == -1) {
		*why = "bad prefix length after '/'";
		return -1;
	}
	if (!addr_cidr_host_bits_zero(out)) {
		*why = "bits set after the prefix length";
		return -1;
	}
	return 0;
}

/* addr_cidr_in - whether addr (of c's family) is inside c. */
static int
addr_cidr_in(const struct addr_cidr *c, const unsigned char *addr)
{
	unsigned full = c->bits / 8, rest = c->bits % 8;

	if (memcmp(c->addr, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (c->addr[full] & mask) == (addr[full] & mask);
}

int
addr_cidr_match(const struct addr_cidr *list, size_t n, const char *numeric)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };
	unsigned char a4[4], a6[16];
	int have4 = inet_pton(AF_INET, numeric, a4) == 1;
	int have6 = !have4 && inet_pton(AF_INET6, numeric, a6) == 1;

	if (have6 && memcmp(a6, mapped, sizeof(mapped)) == 0) {
		memcpy(a4, a6 + 12, 4);
		have4 = 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (list[i].family == AF_INET && have4 &&
		    addr_cidr_in(&list[i], a4))
			return 1;
		if (list[i].family == AF_INET6 && have6 &&
		    addr_cidr_in(&list[i], a6))
			return 1;
	}
	return 0;
}

/* addr_put_octet - one decimal octet at p; returns the end. */
static char *
addr_put_octet(char *p, unsigned v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

int
addr_numeric(const struct sockaddr *sa, socklen_t len, char *host,
    size_t size, unsigned *port)
{
	char serv[NI_MAXSERV];

	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		const unsigned char *b =
		    (const unsigned char *)&in->sin_addr.s_addr;
		char text[INET_ADDRSTRLEN], *p = text;

		for (int i = 0; i < 4; i++) {
			if (i > 0)
				*p++ = '.';
			p = addr_put_octet(p, b[i]);
		}
		*p = '\0';
		if ((size_t)(p - text) >= size)
			return -1;
		memcpy(host, text, (size_t)(p - text) + 1);
		*port = ntohs(in->sin_port);
		return 0;
	}
	if (getnameinfo(sa, len, host, size, serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return -1;
	*port = (unsigned)strtoul(serv, NULL, 10);
	return 0;
}
