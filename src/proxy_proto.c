/*
 * proxy_proto.c - the PROXY protocol header, v1 (one text line) and v2
 * (binary), as HAProxy's proxy-protocol.txt describes them; see
 * proxy_proto.h for what the result means.
 *
 * Strict where the spec is: v1 fields separated by exactly one space,
 * addresses in their canonical form (no heading zeroes: inet_pton
 * refuses them), ports without heading zeroes, CRLF and never a bare CR
 * or LF; v2 version 2 only, commands LOCAL and PROXY only, known family
 * and transport nibbles only, an address block at least as long as its
 * family needs, and TLVs that fill the rest exactly.  TLVs are skipped
 * (a CRC32C one is not checked: the spec asks that only of receivers
 * that implement it).
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "proxy_proto.h"

static const unsigned char pp_v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
static const char pp_v1_sig[] = "PROXY ";
#define PP_V1_SIGLEN (sizeof(pp_v1_sig) - 1)
#define PP_V2_FIXED 16		/* signature, ver_cmd, fam, len */
#define PP_UNIX_ADDR 108	/* each of the two UNIX addresses */

static enum proxy_proto_status
pp_invalid(struct proxy_proto *out, const char *why)
{
	out->error = why;
	return PROXY_PROTO_INVALID;
}

/* pp_prefix - buf[0..len) against the signature sig[0..n): 1 when it
 * matches all of it, 0 when it matches as far as it goes, -1 when not. */
static int
pp_prefix(const unsigned char *buf, size_t len, const void *sig, size_t n)
{
	size_t m = len < n ? len : n;

	if (memcmp(buf, sig, m) != 0)
		return -1;
	return len >= n ? 1 : 0;
}

/* ---- version 1 ------------------------------------------------------ */

/* pp_v1_end - where the line's CRLF starts: OK with *end, AGAIN while it
 * may still come, INVALID on a bare CR or LF, a byte that is not
 * printable ASCII, or no CRLF within PROXY_PROTO_V1_MAX bytes. */
static enum proxy_proto_status
pp_v1_end(const unsigned char *buf, size_t len, size_t *end,
    struct proxy_proto *out)
{
	for (size_t i = PP_V1_SIGLEN; i < len && i < PROXY_PROTO_V1_MAX; i++) {
		if (buf[i] == '\r') {
			if (i + 2 > PROXY_PROTO_V1_MAX)
				return pp_invalid(out, "v1: no CRLF in 107 bytes");
			if (i + 1 == len)
				return PROXY_PROTO_AGAIN;
			if (buf[i + 1] != '\n')
				return pp_invalid(out, "v1: CR without LF");
			*end = i;
			return PROXY_PROTO_OK;
		}
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return pp_invalid(out, buf[i] == '\n' ?
			    "v1: LF without CR" : "v1: a byte that is not text");
	}
	if (len >= PROXY_PROTO_V1_MAX)
		return pp_invalid(out, "v1: no CRLF in 107 bytes");
	return PROXY_PROTO_AGAIN;
}

/* pp_v1_split - the line's fields, separated by exactly one space, in
 * place; their number (at most max), or max + 1 when there are more. */
static size_t
pp_v1_split(char *line, char **f, size_t max)
{
	size_t n = 0;

	for (char *p = line;; p++) {
		if (n == max)
			return max + 1;
		f[n++] = p;
		if ((p = strchr(p, ' ')) == NULL)
			return n;
		*p = '\0';
	}
}

/* pp_v1_port - a decimal port in [0, 65535] without heading zeroes. */
static bool
pp_v1_port(const char *s, in_port_t *port)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*port = htons((in_port_t)v);
	return true;
}

/* pp_v1_endpoint - one address and port of the family into sa. */
static bool
pp_v1_endpoint(int family, const char *addr, const char *port,
    struct sockaddr_storage *sa, socklen_t *salen)
{
	memset(sa, 0, sizeof(*sa));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;
		in->sin_family = AF_INET;
		*salen = sizeof(*in);
		return inet_pton(AF_INET, addr, &in->sin_addr) == 1 &&
		    pp_v1_port(port, &in->sin_port);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
	in6->sin6_family = AF_INET6;
	*salen = sizeof(*in6);
	return inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1 &&
	    pp_v1_port(port, &in6->sin6_port);
}

/* pp_v1_fields - "TCP4|TCP6 src dst sport dport" or "UNKNOWN[ ...]". */
static enum proxy_proto_status
pp_v1_fields(char *line, struct proxy_proto *out)
{
	char *f[5];
	size_t n;

	if (strncmp(line, "UNKNOWN", 7) == 0 &&
	    (line[7] == '\0' || line[7] == ' ')) {
		out->local = true;	/* the rest is to be ignored */
		return PROXY_PROTO_OK;
	}
	n = pp_v1_split(line, f, 5);
	if (strcmp(f[0], "TCP4") == 0)
		out->family = AF_INET;
	else if (strcmp(f[0], "TCP6") == 0)
		out->family = AF_INET6;
	else
		return pp_invalid(out, "v1: unknown protocol");
	if (n != 5)
		return pp_invalid(out, "v1: not 5 fields after PROXY");
	if (!pp_v1_endpoint(out->family, f[1], f[3], &out->src,
	    &out->srclen) || !pp_v1_endpoint(out->family, f[2], f[4],
	    &out->dst, &out->dstlen))
		return pp_invalid(out, "v1: bad address or port");
	return PROXY_PROTO_OK;
}

static enum proxy_proto_status
pp_v1(const unsigned char *buf, size_t len, struct proxy_proto *out)
{
	char line[PROXY_PROTO_V1_MAX + 1];
	size_t end = 0;
	enum proxy_proto_status st = pp_v1_end(buf, len, &end, out);

	if (st != PROXY_PROTO_OK)
		return st;
	memcpy(line, buf + PP_V1_SIGLEN, end - PP_V1_SIGLEN);
	line[end - PP_V1_SIGLEN] = '\0';
	if ((st = pp_v1_fields(line, out)) != PROXY_PROTO_OK)
		return st;
	out->len = end + 2;
	return PROXY_PROTO_OK;
}

/* ---- version 2 ------------------------------------------------------ */

static unsigned
pp_be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* pp_v2_inet - the TCP endpoints of an AF_INET/AF_INET6 block: the two
 * addresses, then the two ports. */
static void
pp_v2_inet(const unsigned char *p, int family, struct proxy_proto *out)
{
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&out->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&out->dst;
		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, p, 4);
		memcpy(&d->sin_addr, p + 4, 4);
		memcpy(&s->sin_port, p + 8, 2);
		memcpy(&d->sin_port, p + 10, 2);
		out->srclen = out->dstlen = sizeof(*s);
		return;
	}
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->src;
	struct sockaddr_in6 *d = (struct sockaddr_in6 *)&out->dst;
	s->sin6_family = d->sin6_family = AF_INET6;
	memcpy(&s->sin6_addr, p, 16);
	memcpy(&d->sin6_addr, p + 16, 16);
	memcpy(&s->sin6_port, p + 32, 2);
	memcpy(&d->sin6_port, p + 34, 2);
	out->srclen = out->dstlen = sizeof(*s);
}

/* pp_v2_unix - the two paths (108 bytes each, NUL-padded) of a UNIX
 * block, for the log: the session keeps its own addresses. */
static void
pp_v2_unix(const unsigned char *p, struct proxy_proto *out)
{
	struct sockaddr_un *s = (struct sockaddr_un *)&out->src;
	struct sockaddr_un *d = (struct sockaddr_un *)&out->dst;

	s->sun_family = d->sun_family = AF_UNIX;
	memcpy(s->sun_path, p, PP_UNIX_ADDR);
	memcpy(d->sun_path, p + PP_UNIX_ADDR, PP_UNIX_ADDR);
	out->srclen = out->dstlen = sizeof(*s);
}

/* pp_v2_tlvs - the TLVs after the addresses must fill p[0..n) exactly,
 * each a type, a 16-bit length and that many bytes. */
static bool
pp_v2_tlvs(const unsigned char *p, size_t n, struct proxy_proto *out)
{
	size_t off = 0;

	while (off < n) {
		if (n - off < 3 || n - off - 3 < pp_be16(p + off + 1))
			return false;
		off += 3 + pp_be16(p + off + 1);
		out->ntlv++;
	}
	return true;
}

/* The address block of each family (hi nibble) over a transport. */
static const struct {
	int family;
	size_t addrlen;
} pp_v2_families[4] = {
	{ AF_UNSPEC, 0 }, { AF_INET, 12 }, { AF_INET6, 36 },
	{ AF_UNIX, 2 * PP_UNIX_ADDR },
};

/* pp_v2_block - the command's address block and TLVs, body[0..n). */
static enum proxy_proto_status
pp_v2_block(unsigned cmd, unsigned fam, const unsigned char *body, size_t n,
    struct proxy_proto *out)
{
	unsigned family = fam >> 4, transport = fam & 0xf;

	out->local = true;
	if (cmd == 0)
		return PROXY_PROTO_OK;	/* LOCAL: the block is ignored */
	if (family > 3 || transport > 2)
		return pp_invalid(out, "v2: unknown family or transport");
	out->family = pp_v2_families[family].family;
	if (family == 0 || transport == 0)
		return PROXY_PROTO_OK;	/* UNSPEC: addresses are ignored */
	size_t alen = pp_v2_families[family].addrlen;
	if (n < alen)
		return pp_invalid(out, "v2: address block too short");
	if (!pp_v2_tlvs(body + alen, n - alen, out))
		return pp_invalid(out, "v2: a TLV goes past the header");
	if (out->family == AF_UNIX)
		pp_v2_unix(body, out);
	else if (transport == 1) {
		out->local = false;
		pp_v2_inet(body, out->family, out);
	}
	return PROXY_PROTO_OK;
}

static enum proxy_proto_status
pp_v2(const unsigned char *buf, size_t len, struct proxy_proto *out)
{
	if (len < PP_V2_FIXED)
		return PROXY_PROTO_AGAIN;
	if (buf[12] >> 4 != 2)
		return pp_invalid(out, "v2: version is not 2");
	if ((buf[12] & 0xf) > 1)
		return pp_invalid(out, "v2: command is neither LOCAL nor PROXY");
	size_t total = PP_V2_FIXED + pp_be16(buf + 14);
	if (total > PROXY_PROTO_V2_MAX)
		return pp_invalid(out, "v2: header too long");
	if (len < total)
		return PROXY_PROTO_AGAIN;
	enum proxy_proto_status st = pp_v2_block(buf[12] & 0xfu, buf[13],
	    buf + PP_V2_FIXED, total - PP_V2_FIXED, out);
	if (st == PROXY_PROTO_OK)
		out->len = total;
	return st;
}

enum proxy_proto_status
proxy_proto_parse(const void *buf, size_t len, struct proxy_proto *out)
{
	const unsigned char *p = buf;
	int v1, v2;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return PROXY_PROTO_AGAIN;
	v2 = pp_prefix(p, len, pp_v2_sig, sizeof(pp_v2_sig));
	v1 = pp_prefix(p, len, pp_v1_sig, PP_V1_SIGLEN);
	if (v2 == 1) {
		out->version = 2;
		return pp_v2(p, len, out);
	}
	if (v1 == 1) {
		out->version = 1;
		return pp_v1(p, len, out);
	}
	if (v1 == 0 || v2 == 0)
		return PROXY_PROTO_AGAIN;
	return pp_invalid(out, "not a PROXY protocol header");
}
