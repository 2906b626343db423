/*
 * addr.c - parse "host:port" and "[v6]:port".
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
