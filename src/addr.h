/*
 * addr.h - "host:port" and "[v6addr]:port" specs, as python -m smtpd
 * takes them for localaddr and remoteaddr.  Pure: no resolving.
 */
#ifndef PSMTPD_ADDR_H
#define PSMTPD_ADDR_H

#include <stddef.h>

#define ADDR_HOST_MAX 256

struct addr_spec {
	char host[ADDR_HOST_MAX];	/* without brackets; "" = any */
	char port[8];			/* digits, 0..65535 */
};

/* 0, or -1 with a short reason in *why. */
int addr_parse(const char *spec, struct addr_spec *out, const char **why);

#endif
