/*
 * proxy_proto.h - pure parsing of the PROXY protocol header (HAProxy's
 * proxy-protocol.txt, versions 1 and 2) that a load balancer sends before
 * the client's first byte.  Bytes in, a result out: no I/O, no
 * allocation, no globals.
 *
 * Resumable the simple way: call it again on the whole of what has
 * arrived so far.  AGAIN means every byte given is part of a header that
 * is not complete yet (so the caller may consume them all); OK gives the
 * header's exact length (bytes after it belong to the client: implicit
 * TLS's ClientHello may follow at once); INVALID says why.
 *
 * What the result means for the session:
 * - local: use the connection's own addresses.  That is v2 LOCAL (the
 *   balancer's health checks), v1 UNKNOWN, and the v2 combinations the
 *   spec lets a receiver fall back on (family or transport UNSPEC, UDP,
 *   UNIX: a UNIX-socket client is local to the balancer, so the
 *   balancer's address is the truest one we have; its path is in src).
 * - otherwise src/dst are the client's and the balancer's TCP endpoints
 *   (AF_INET or AF_INET6).
 */
#ifndef PSMTPD_PROXY_PROTO_H
#define PSMTPD_PROXY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* The longest v1 line, CRLF included (the spec's worst case). */
#define PROXY_PROTO_V1_MAX 107
/* The longest v2 header taken, TLVs included: the 16 fixed bytes, a
 * UNIX address block (216) and room for the TLVs balancers send (AWS's
 * VPC endpoint id, HAProxy's SSL and unique-id ones); the spec allows
 * 65551, which no balancer sends before SMTP. */
#define PROXY_PROTO_V2_MAX 2048
#define PROXY_PROTO_MAX PROXY_PROTO_V2_MAX

enum proxy_proto_status {
	PROXY_PROTO_OK = 0,
	PROXY_PROTO_AGAIN,	/* a valid beginning: more bytes needed */
	PROXY_PROTO_INVALID	/* not a header, or a broken or too long one */
};

struct proxy_proto {
	size_t len;		/* OK: the header's bytes, to consume */
	int version;		/* 1 or 2; 0 while not known */
	bool local;		/* keep the connection's own addresses */
	int family;		/* AF_INET, AF_INET6, AF_UNIX or AF_UNSPEC */
	struct sockaddr_storage src, dst;	/* see above */
	socklen_t srclen, dstlen;		/* 0 when not given */
	size_t ntlv;		/* v2: TLVs seen (and skipped) */
	const char *error;	/* INVALID: why, for the log */
};

/*
 * Parse buf[0..len) (len may be 0).  On OK every field is set; on AGAIN
 * and INVALID only version and error are meaningful.
 */
enum proxy_proto_status proxy_proto_parse(const void *buf, size_t len,
    struct proxy_proto *out);

#endif
