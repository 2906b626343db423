/*
 * check_proxy_proto.c - unit tests of src/proxy_proto.c, table-driven:
 * valid v1 and v2 headers of each family (TCP4, TCP6, UNIX, LOCAL,
 * UNKNOWN, UNSPEC, UDP), headers with TLVs, truncated ones (AGAIN),
 * oversized ones, garbage and every malformation the spec names
 * (INVALID); then the properties a resumable parser must have: every
 * strict prefix of a valid header is AGAIN, and bytes after a header
 * are never taken.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "proxy_proto.h"
#include "tests/check_run.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define OK PROXY_PROTO_OK
#define AGAIN PROXY_PROTO_AGAIN
#define INVALID PROXY_PROTO_INVALID

/* The v2 signature, and the fixed part of a v2 header. */
#define SIG "\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a"
#define V2(vc, fam, lenhi, lenlo) SIG vc fam lenhi lenlo
/* 192.0.2.7:56324 -> 198.51.100.1:25 */
#define A4 "\xc0\x00\x02\x07" "\xc6\x33\x64\x01" "\xdc\x04" "\x00\x19"
/* [2001:db8::7]:56324 -> [2001:db8::1]:25 */
#define A6 "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07" \
	"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01" "\xdc\x04" "\x00\x19"
#define FFFF6 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
#define L(s) s, sizeof(s) - 1
/* the rest of a row that is not OK */
#define NO 0, false, NULL, NULL, 0

static const struct {
	const char *in;
	size_t len;
	enum proxy_proto_status want;
	int version;
	size_t hlen;		/* OK: the header's length */
	bool local;
	const char *src, *dst;	/* OK and not local: "addr port" */
	size_t ntlv;
} cases[] = {
	/* v1, valid */
	{ L("PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\n"), OK, 1, 44,
	    false, "192.0.2.7 56324", "198.51.100.1 25", 0 },
	{ L("PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\nEHLO x\r\n"), OK,
	    1, 44, false, "192.0.2.7 56324", "198.51.100.1 25", 0 },
	{ L("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n"), OK, 1, 44,
	    false, "0.0.0.0 0", "255.255.255.255 65535", 0 },
	{ L("PROXY TCP6 2001:db8::7 2001:DB8::1 65535 25\r\n"), OK, 1, 45,
	    false, "2001:db8::7 65535", "2001:db8::1 25", 0 },
	{ L("PROXY TCP6 " FFFF6 " " FFFF6 " 65535 65535\r\n"), OK, 1, 104,
	    false, FFFF6 " 65535", FFFF6 " 65535", 0 },
	{ L("PROXY UNKNOWN\r\n"), OK, 1, 15, true, NULL, NULL, 0 },
	{ L("PROXY UNKNOWN " FFFF6 " " FFFF6 " 65535 65535\r\n"), OK, 1,
	    107, true, NULL, NULL, 0 },
	{ L("PROXY UNKNOWN whatever\r\n\x16\x03\x01"), OK, 1, 24, true,
	    NULL, NULL, 0 },
	/* v1, truncated */
	{ L("P"), AGAIN, 0, NO },
	{ L("PROXY"), AGAIN, 0, NO },
	{ L("PROXY "), AGAIN, 1, NO },
	{ L("PROXY TCP4 192.0.2.7 198.51.100.1 56324 25"), AGAIN, 1, NO },
	{ L("PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r"), AGAIN, 1, NO },
	/* v1, malformed */
	{ L("PROXY TCP4 192.0.2.07 198.51.100.1 56324 25\r\n"), INVALID, 1, NO },
	{ L("PROXY TCP4 192.0.2 198.51.100.1 56324 25\r\n"), INVALID, 1, NO },
	{ L("PROXY TCP4 192.0.2.7 198.51.100.1 056324 25\r\n"), INVALID, 1, NO },
	{ L("PROXY TCP4 192.0.2.7 198.51.100.1 65536 25\r\n"), INVALID, 1, NO },
	{ L("PROXY TCP4 192.0.2.7 198.51.100.1 -1 25\r\n"), INVALID, 1, NO },
	{ L("PROXY TCP4 192.0.2.7 198.51.100.1 5632x 25\r\n"), INVALID, 1, NO },
	{ L("PROXY TCP4 192.0.2.7 198.51.100.1 56324 \r\n"), INVALID, 1, NO },
	{ L("PROXY TCP4 192.0.2.7  198.51.100.1 56324 25\r\n"), INVALID, 1, NO },
	{ L("PROXY TCP4 192.0.2.7 198.51.100.1 56324 25 \r\n"), INVALID, 1, NO },
	{ L("PROXY TCP4 192.0.2.7 198.51.100.1 56324 25 1\r\n"), INVALID, 1, NO },
	{ L("PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n"), INVALID, 1, NO },
	{ L("PROXY TCP4 2001:db8::7 2001:db8::1 56324 25\r\n"), INVALID, 1, NO },
	{ L("PROXY TCP6 192.0.2.7 198.51.100.1 56324 25\r\n"), INVALID, 1, NO },
	{ L("PROXY TCP5 192.0.2.7 198.51.100.1 56324 25\r\n"), INVALID, 1, NO },
	{ L("PROXY tcp4 192.0.2.7 198.51.100.1 56324 25\r\n"), INVALID, 1, NO },
	{ L("PROXY UNKNOWNX\r\n"), INVALID, 1, NO },
	{ L("PROXY \r\n"), INVALID, 1, NO },
	{ L("PROXY  TCP4 192.0.2.7 198.51.100.1 56324 25\r\n"), INVALID, 1, NO },
	{ L("PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\n"), INVALID, 1, NO },
	{ L("PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\rX"), INVALID, 1, NO },
	{ L("PROXY TCP4 192.0.2.7\0 198.51.100.1 56324 25\r\n"), INVALID, 1, NO },
	{ L("PROXY UNKNOWN \xc3\xa9\r\n"), INVALID, 1, NO },
	/* v1, oversized: no CRLF within 107 bytes */
	{ L("PROXY UNKNOWN " FFFF6 " " FFFF6 " 65535 655350\r\n"), INVALID,
	    1, NO },
	{ L("PROXY UNKNOWN " FFFF6 " " FFFF6 " 65535 65535x\r"), INVALID, 1, NO },
	{ L("PROXY UNKNOWN " FFFF6 " " FFFF6 " 65535 65535xx"), INVALID, 1, NO },
	/* v2, valid */
	{ L(V2("\x21", "\x11", "\x00", "\x0c") A4), OK, 2, 28, false,
	    "192.0.2.7 56324", "198.51.100.1 25", 0 },
	{ L(V2("\x21", "\x11", "\x00", "\x0c") A4 "\x16\x03\x01"), OK, 2, 28,
	    false, "192.0.2.7 56324", "198.51.100.1 25", 0 },
	{ L(V2("\x21", "\x21", "\x00", "\x24") A6), OK, 2, 52, false,
	    "2001:db8::7 56324", "2001:db8::1 25", 0 },
	{ L(V2("\x20", "\x00", "\x00", "\x00")), OK, 2, 16, true, NULL, NULL,
	    0 },
	{ L(V2("\x20", "\x11", "\x00", "\x0c") A4), OK, 2, 28, true, NULL,
	    NULL, 0 },	/* LOCAL: the block is ignored */
	{ L(V2("\x20", "\xff", "\x00", "\x03") "abc"), OK, 2, 19, true, NULL,
	    NULL, 0 },
	{ L(V2("\x21", "\x00", "\x00", "\x00")), OK, 2, 16, true, NULL, NULL,
	    0 },	/* PROXY UNSPEC */
	{ L(V2("\x21", "\x10", "\x00", "\x02") "xy"), OK, 2, 18, true, NULL,
	    NULL, 0 },	/* INET over an unspecified transport */
	{ L(V2("\x21", "\x12", "\x00", "\x0c") A4), OK, 2, 28, true, NULL,
	    NULL, 0 },	/* UDP */
	{ L(V2("\x21", "\x11", "\x00", "\x15") A4 "\x04\x00\x03xyz"
	    "\x05\x00\x00"), OK, 2, 37, false, "192.0.2.7 56324",
	    "198.51.100.1 25", 2 },
	{ L(V2("\x21", "\x21", "\x00", "\x2b") A6 "\xea\x00\x04vpce"), OK, 2,
	    59, false, "2001:db8::7 56324", "2001:db8::1 25", 1 },
	/* v2, truncated */
	{ L("\r"), AGAIN, 0, NO },
	{ L("\r\n\r\n\0"), AGAIN, 0, NO },
	{ L(SIG), AGAIN, 2, NO },
	{ L(SIG "\x21\x11\x00"), AGAIN, 2, NO },
	{ L(V2("\x21", "\x11", "\x00", "\x0c") "\xc0\x00\x02\x07"), AGAIN, 2,
	    0, false, NULL, NULL, 0 },
	{ L(V2("\x21", "\x11", "\x07", "\xf0")), AGAIN, 2, 0, false, NULL,
	    NULL, 0 },	/* exactly PROXY_PROTO_V2_MAX */
	/* v2, malformed or oversized */
	{ L(V2("\x11", "\x11", "\x00", "\x0c") A4), INVALID, 2, NO },
	{ L(V2("\x31", "\x11", "\x00", "\x0c") A4), INVALID, 2, NO },
	{ L(V2("\x22", "\x11", "\x00", "\x0c") A4), INVALID, 2, NO },
	{ L(V2("\x2f", "\x11", "\x00", "\x0c") A4), INVALID, 2, NO },
	{ L(V2("\x21", "\x41", "\x00", "\x0c") A4), INVALID, 2, NO },
	{ L(V2("\x21", "\x13", "\x00", "\x0c") A4), INVALID, 2, NO },
	{ L(V2("\x21", "\x11", "\x00", "\x08") "\xc0\x00\x02\x07"
	    "\xc6\x33\x64\x01"), INVALID, 2, NO },
	{ L(V2("\x21", "\x21", "\x00", "\x0c") A4), INVALID, 2, NO },
	{ L(V2("\x21", "\x31", "\x00", "\x0c") A4), INVALID, 2, NO },
	{ L(V2("\x21", "\x11", "\x00", "\x11") A4 "\x04\x00\x05" "ab"),
	    INVALID, 2, NO },	/* a TLV longer than the header */
	{ L(V2("\x21", "\x11", "\x00", "\x0e") A4 "\x04\x00"), INVALID, 2, NO },
	{ L(V2("\x21", "\x11", "\x00", "\x0d") A4 "\x04"), INVALID, 2, NO },
	{ L(V2("\x21", "\x11", "\x07", "\xf1")), INVALID, 2, NO },	/* too long */
	{ L(V2("\x21", "\x11", "\xff", "\xff")), INVALID, 2, NO },
	/* neither */
	{ L("EHLO client.example\r\n"), INVALID, 0, NO },
	{ L("\x16\x03\x01\x02\x00"), INVALID, 0, NO },	/* TLS ClientHello */
	{ L("proxy TCP4 192.0.2.7 198.51.100.1 56324 25\r\n"), INVALID, 0, NO },
	{ L("PROXY\t"), INVALID, 0, NO },
	{ L("\r\n\r\n\x01"), INVALID, 0, NO },
	{ L("\r\n\r\n\0\r\n\x51\x55\x49\x54\x0b"), INVALID, 0, NO },
	{ L("\0"), INVALID, 0, NO },
	{ "", 0, AGAIN, 0, NO },
};

/* endpoint - "addr port" of an AF_INET/AF_INET6 address. */
static void
endpoint(const struct sockaddr_storage *ss, socklen_t len, char *buf,
    size_t size)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		ck_assert_uint_eq(len, sizeof(*in));
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		ck_assert_uint_eq(len, sizeof(*in6));
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		port = ntohs(in6->sin6_port);
	}
	snprintf(buf, size, "%s %u", a, port);
}

START_TEST(test_parse)
{
	struct proxy_proto pp;
	char src[128], dst[128];
	enum proxy_proto_status st;

	st = proxy_proto_parse(cases[_i].in, cases[_i].len, &pp);
	ck_assert_msg(st == cases[_i].want, "status %d, want %d (%s)", st,
	    cases[_i].want, pp.error != NULL ? pp.error : "");
	ck_assert_int_eq(pp.version, cases[_i].version);
	if (st == INVALID)
		ck_assert_ptr_nonnull(pp.error);
	if (st != OK)
		return;
	ck_assert_ptr_null(pp.error);
	ck_assert_uint_eq(pp.len, cases[_i].hlen);
	ck_assert_int_eq(pp.local, cases[_i].local);
	ck_assert_uint_eq(pp.ntlv, cases[_i].ntlv);
	if (pp.local)
		return;
	endpoint(&pp.src, pp.srclen, src, sizeof(src));
	endpoint(&pp.dst, pp.dstlen, dst, sizeof(dst));
	ck_assert_str_eq(src, cases[_i].src);
	ck_assert_str_eq(dst, cases[_i].dst);
}
END_TEST

/* Every strict prefix of a valid header is AGAIN: what has arrived may
 * be consumed, and nothing is decided before the header is whole. */
START_TEST(test_prefixes)
{
	struct proxy_proto pp;

	if (cases[_i].want != OK)
		return;
	for (size_t n = 0; n < cases[_i].hlen; n++)
		ck_assert_msg(proxy_proto_parse(cases[_i].in, n, &pp) == AGAIN,
		    "prefix of %zu bytes: %s", n, pp.error);
}
END_TEST

/* v2 over UNIX sockets: 2 x 108 bytes of NUL-padded paths, then a TLV. */
START_TEST(test_v2_unix)
{
	unsigned char buf[16 + 216 + 8];
	struct proxy_proto pp;
	const struct sockaddr_un *src = (const void *)&pp.src;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, L(V2("\x21", "\x31", "\x00", "\xdf")));
	memcpy(buf + 16, "/run/haproxy/client.sock", 24);
	memcpy(buf + 16 + 108, "/run/psmtpd/smtp", 16);
	memcpy(buf + 16 + 216, "\x04\x00\x04xxxx", 7);
	ck_assert_int_eq(proxy_proto_parse(buf, 16 + 223, &pp), OK);
	ck_assert_uint_eq(pp.len, 16 + 223);
	ck_assert(pp.local);	/* the balancer's own address stays */
	ck_assert_int_eq(pp.family, AF_UNIX);
	ck_assert_int_eq(src->sun_family, AF_UNIX);
	ck_assert_str_eq(src->sun_path, "/run/haproxy/client.sock");
	ck_assert_uint_eq(pp.ntlv, 1);
	/* a 108-byte path without its NUL is not read past */
	memset(buf + 16, 'a', 108);
	ck_assert_int_eq(proxy_proto_parse(buf, 16 + 223, &pp), OK);
	ck_assert_int_eq(memcmp(src->sun_path, buf + 16, 108), 0);
	/* one byte short of the two paths */
	buf[15] = 215;
	ck_assert_int_eq(proxy_proto_parse(buf, 16 + 215, &pp), INVALID);
}
END_TEST

/* A header of exactly PROXY_PROTO_V2_MAX bytes, padded with a NOOP TLV,
 * is taken; one byte more is refused before it is read. */
START_TEST(test_v2_bounds)
{
	static unsigned char buf[PROXY_PROTO_V2_MAX + 1];
	size_t tlv = PROXY_PROTO_V2_MAX - 28 - 3;
	struct proxy_proto pp;

	memcpy(buf, L(V2("\x21", "\x11", "\x07", "\xf0") A4));
	buf[28] = 0x04;
	buf[29] = (unsigned char)(tlv >> 8);
	buf[30] = (unsigned char)tlv;
	ck_assert_int_eq(proxy_proto_parse(buf, PROXY_PROTO_V2_MAX, &pp), OK);
	ck_assert_uint_eq(pp.len, PROXY_PROTO_V2_MAX);
	ck_assert_uint_eq(pp.ntlv, 1);
	buf[15] = 0xf1;
	buf[30]++;
	ck_assert_int_eq(proxy_proto_parse(buf, 16, &pp), INVALID);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("proxy_proto");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse, 0, (int)NELEM(cases));
	tcase_add_loop_test(tc, test_prefixes, 0, (int)NELEM(cases));
	tcase_add_test(tc, test_v2_unix);
	tcase_add_test(tc, test_v2_bounds);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
