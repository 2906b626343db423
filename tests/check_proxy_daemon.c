/*
 * check_proxy_daemon.c - the PROXY protocol against the real daemon, over
 * raw sockets on loopback.  One daemon per test listens on a plain port
 * (to see it is up), a proxy_protocol port that trusts 127.0.0.1 and one
 * that trusts only 10.0.0.0/8; DebuggingServer prints each message with
 * its X-Peer into the log.  Valid v1 and v2 headers (whole, split, with
 * the client's first bytes in the same packet), LOCAL and UNKNOWN; then
 * truncated, oversized, garbage, untrusted and late headers: closed with
 * no greeting, logged, and the one worker free again at once.  The
 * per-client limit counts the header's client.
 */
#include "autoconfig.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tests/check_run.h"
#include "tests/daemon_util.h"

#define SIG "\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a"
/* v2 PROXY TCP4 192.0.2.7:56324 -> 198.51.100.1:25 */
#define V2_TCP4 SIG "\x21\x11\x00\x0c" "\xc0\x00\x02\x07" \
	"\xc6\x33\x64\x01" "\xdc\x04" "\x00\x19"
/* v2 PROXY TCP6 [2001:db8::7]:56324 -> [2001:db8::1]:25, one NOOP TLV */
#define V2_TCP6 SIG "\x21\x21\x00\x2a" \
	"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07" \
	"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01" "\xdc\x04" "\x00\x19" \
	"\x04\x00\x03xyz"
#define V1_TCP4 "PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\n"
#define L(s) s, sizeof(s) - 1
/* a command and the code of its reply, r its text */
#define CMD(fd, line) smtp_cmd(fd, line, r, sizeof(r))

struct pp_daemon {
	struct pd d;
	int proxy_port;		/* trusts 127.0.0.1 */
	int untrusted_port;	/* trusts 10.0.0.0/8 only */
	int xclient_port;	/* XCLIENT from 127.0.0.1 and 192.0.2.0/24 */
};

/* start - the daemon with one worker (unless workers > 1) and extra
 * config text. */
static void
start(struct pp_daemon *p, int workers, const char *extra)
{
	char conf[512];
	const char *args[] = { "-P", "-L", "-C", conf, NULL };

	memset(p, 0, sizeof(*p));
	pd_prepare(&p->d);
	pd_path(&p->d, "psmtpd.conf", conf, sizeof(conf));
	p->d.port = du_free_port("127.0.0.1");
	p->proxy_port = du_free_port("127.0.0.1");
	p->untrusted_port = du_free_port("127.0.0.1");
	p->xclient_port = du_free_port("127.0.0.1");
	ck_assert_int_eq(du_write_config(conf,
	    "listen = ( \"127.0.0.1:%d\",\n"
	    "  { address = \"127.0.0.1:%d\"; proxy_protocol = true;\n"
	    "    proxy_trusted = [ \"::1\", \"127.0.0.0/8\" ]; },\n"
	    "  { address = \"127.0.0.1:%d\"; proxy_protocol = true;\n"
	    "    proxy_trusted = [ \"10.0.0.0/8\" ]; },\n"
	    "  { address = \"127.0.0.1:%d\";\n"
	    "    xclient_trusted = [ \"127.0.0.1\", \"192.0.2.0/24\" ]; } );\n"
	    "timeouts = { proxy = 1; };\n"
	    "pool = { start = %d; min_spare = 1; max_spare = %d; "
	    "max_workers = %d; };\n"
	    "plugins = ( { name = \"debugging\"; } );\n%s\n",
	    p->d.port, p->proxy_port, p->untrusted_port, p->xclient_port,
	    workers, workers, workers, extra != NULL ? extra : ""), 0);
	pd_start(&p->d, args);
}

static void
stop(struct pp_daemon *p)
{
	pd_stop(&p->d);
	pd_cleanup(&p->d);
}

/* dial - a connection to a port with the bytes sent at once. */
static int
dial(int port, const char *bytes, size_t len)
{
	int fd = smtp_connect(port);

	ck_assert_int_ge(fd, 0);
	if (len > 0)
		ck_assert_int_eq(send(fd, bytes, len, MSG_NOSIGNAL),
		    (ssize_t)len);
	return fd;
}

/* closed_silently - the server closes within ms without a byte sent. */
static bool
closed_silently(int fd, int ms)
{
	char buf[256];
	long long end = du_now_ms() + ms;
	struct timeval tv = { 0, 100 * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (du_now_ms() < end) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			return true;
		if (n > 0)
			return false;
		if (errno == ECONNRESET)
			return true;
		if (errno != EINTR && errno != EAGAIN)
			return false;
	}
	return false;
}

/* session - greeting, one message and QUIT on a connection that carried
 * a header; the 250 of the message. */
static void
session(int fd)
{
	char reply[1024];

	ck_assert_int_eq(smtp_reply(fd, reply, sizeof(reply)), 220);
	ck_assert_int_eq(smtp_cmd(fd, "HELO client.example", reply,
	    sizeof(reply)), 250);
	ck_assert_int_eq(smtp_message(fd, "Subject: t\r\n\r\nbody\r\n"), 250);
	ck_assert_int_eq(smtp_cmd(fd, "QUIT", reply, sizeof(reply)), 221);
	close(fd);
}

/* plain_served - the one worker serves a plain session now. */
static void
plain_served(struct pp_daemon *p)
{
	char greet[512];
	long long t0 = du_now_ms();
	int fd = smtp_open(p->d.port, greet, sizeof(greet));

	ck_assert_int_ge(fd, 0);
	ck_assert_msg(du_now_ms() - t0 < 900, "the worker was held %lld ms",
	    du_now_ms() - t0);
	close(fd);
}

/* Valid headers: what the session and the plugin see as the peer. */
static const struct {
	const char *bytes;
	size_t len;
	const char *connect;	/* in the log's connect line */
	const char *xpeer;	/* DebuggingServer's X-Peer line */
} valid[] = {
	{ L(V1_TCP4), "client=192.0.2.7 port=56324", "X-Peer: 192.0.2.7\n" },
	{ L("PROXY TCP6 2001:db8::7 2001:db8::1 40000 25\r\n"),
	    "client=2001:db8::7 port=40000", "X-Peer: 2001:db8::7\n" },
	{ L(V2_TCP4), "client=192.0.2.7 port=56324", "X-Peer: 192.0.2.7\n" },
	{ L(V2_TCP6), "client=2001:db8::7 port=56324",
	    "X-Peer: 2001:db8::7\n" },
	/* LOCAL and UNKNOWN: the balancer itself */
	{ L(SIG "\x20\x00\x00\x00"), "client=127.0.0.1 port=",
	    "X-Peer: 127.0.0.1\n" },
	{ L("PROXY UNKNOWN\r\n"), "client=127.0.0.1 port=",
	    "X-Peer: 127.0.0.1\n" },
};

START_TEST(test_valid)
{
	struct pp_daemon p;

	start(&p, 1, NULL);
	session(dial(p.proxy_port, valid[_i].bytes, valid[_i].len));
	ck_assert_msg(pd_log_has(&p.d, valid[_i].connect, 5),
	    "no \"%s\" in %s", valid[_i].connect, p.d.log);
	ck_assert_msg(pd_log_has(&p.d, valid[_i].xpeer, 5), "no \"%s\" in %s",
	    valid[_i].xpeer, p.d.log);
	stop(&p);
}
END_TEST

/* The header in pieces, and the client's first command in the same
 * packet as the header: nothing past the header is lost. */
START_TEST(test_split_and_pipelined)
{
	struct pp_daemon p;
	char reply[1024];

	start(&p, 1, NULL);
	int fd = dial(p.proxy_port, "PROX", 4);
	du_sleep_ms(150);
	ck_assert_int_eq(smtp_send(fd, "Y TCP4 192.0.2.7 198.51."), 0);
	du_sleep_ms(150);
	ck_assert_int_eq(smtp_send(fd, "100.1 56324 25\r"), 0);
	du_sleep_ms(150);
	ck_assert_int_eq(smtp_send(fd, "\n"), 0);
	session(fd);

	fd = dial(p.proxy_port, L(V2_TCP4 "EHLO pipelined.example\r\n"));
	/* The 220 and the EHLO reply may come in one read. */
	int code = smtp_reply(fd, reply, sizeof(reply));
	if (code == 220)
		code = smtp_reply(fd, reply, sizeof(reply));
	ck_assert_int_eq(code, 250);
	ck_assert_msg(strstr(reply, "250 HELP") != NULL, "%s", reply);
	ck_assert_int_eq(smtp_cmd(fd, "QUIT", reply, sizeof(reply)), 221);
	close(fd);
	stop(&p);
}
END_TEST

/* Refused: closed without a greeting, logged, the worker free at once. */
static const struct {
	const char *bytes;
	size_t len;
	bool close_after;	/* the client closes after sending */
	const char *reason;
} refused[] = {
	{ L("EHLO client.example\r\n"), false, "not a PROXY protocol" },
	{ L("\x16\x03\x01\x02\x00\x01"), false, "not a PROXY protocol" },
	{ L("PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\n"), false,
	    "LF without CR" },
	{ L("PROXY TCP4 192.0.2.07 198.51.100.1 56324 25\r\n"), false,
	    "bad address" },
	{ L("PROXY UNKNOWN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "\r\n"), false, "no CRLF in 107 bytes" },
	{ L(SIG "\x21\x11\xff\xff"), false, "header too long" },
	{ L(SIG "\x21\x11\x00\x08" "\xc0\x00\x02\x07\xc6\x33\x64\x01"), false,
	    "address block too short" },
	{ L(SIG "\x22\x11\x00\x00"), false, "neither LOCAL nor PROXY" },
	{ L("PROXY TCP4 192.0.2.7 198.51"), true, "closed before the end" },
	{ L(SIG "\x21\x11\x00\x0c\xc0\x00"), true, "closed before the end" },
};

START_TEST(test_refused)
{
	struct pp_daemon p;
	start(&p, 1, NULL);
	int fd = dial(p.proxy_port, refused[_i].bytes, refused[_i].len);
	if (refused[_i].close_after)
		shutdown(fd, SHUT_WR);
	ck_assert_msg(closed_silently(fd, 900), "not closed silently");
	close(fd);
	ck_assert(pd_log_has(&p.d, "proxy refused via=127.0.0.1:", 5));
	ck_assert_msg(pd_log_has(&p.d, refused[_i].reason, 5),
	    "no \"%s\" in %s", refused[_i].reason, p.d.log);
	plain_served(&p);
	stop(&p);
}
END_TEST

/* A valid header from a sender not in proxy_trusted: refused before a
 * byte is read. */
START_TEST(test_untrusted)
{
	struct pp_daemon p;

	start(&p, 1, NULL);
	int fd = dial(p.untrusted_port, L(V1_TCP4));
	ck_assert(closed_silently(fd, 900));
	close(fd);
	ck_assert(pd_log_has(&p.d, "reason=\"sender not in proxy_trusted\"",
	    5));
	plain_served(&p);
	stop(&p);
}
END_TEST

/* No header, or half of one, within timeouts.proxy (1 s): closed. */
START_TEST(test_timeout)
{
	struct pp_daemon p;
	static const char *const sent[] = { "", "PROXY TCP4 192.0.2.7" };

	start(&p, 1, NULL);
	for (size_t i = 0; i < 2; i++) {
		long long t0 = du_now_ms();
		int fd = dial(p.proxy_port, sent[i], strlen(sent[i]));
		ck_assert(closed_silently(fd, 3000));
		long long took = du_now_ms() - t0;
		ck_assert_msg(took >= 900 && took < 2500, "closed after %lld "
		    "ms", took);
		close(fd);
		plain_served(&p);
	}
	ck_assert(pd_log_has(&p.d, "reason=\"no header in time\"", 5));
	stop(&p);
}
END_TEST

/* limits.max_connections_per_client counts the header's client, not the
 * balancer: a second session of 192.0.2.7 is refused while 192.0.2.8
 * and a plain connection from 127.0.0.1 are served. */
START_TEST(test_per_client_limit)
{
	struct pp_daemon p;
	char reply[512];

	start(&p, 4, "limits = { max_connections_per_client = 1; };");
	int first = dial(p.proxy_port, L(V1_TCP4));
	ck_assert_int_eq(smtp_reply(first, reply, sizeof(reply)), 220);
	int second = dial(p.proxy_port, L(V1_TCP4));
	ck_assert_int_eq(smtp_reply(second, reply, sizeof(reply)), 421);
	ck_assert_msg(strstr(reply, "too many connections") != NULL, "%s",
	    reply);
	close(second);
	session(dial(p.proxy_port,
	    L("PROXY TCP4 192.0.2.8 198.51.100.1 56324 25\r\n")));
	plain_served(&p);
	close(first);
	ck_assert(pd_log_has(&p.d, "refused client=192.0.2.7:56324 "
	    "reason=max_connections_per_client", 5));
	stop(&p);
}
END_TEST

/* XCLIENT exists only on a listener with xclient_trusted, for those
 * clients: elsewhere it is Python's unknown command. */
START_TEST(test_xclient_off)
{
	struct pp_daemon p;
	char r[1024];

	start(&p, 1, NULL);
	int fd = smtp_open(p.d.port, r, sizeof(r));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(CMD(fd, "EHLO me"), 250);
	ck_assert_ptr_null(strstr(r, "XCLIENT"));
	ck_assert_int_eq(CMD(fd, "XCLIENT ADDR=192.0.2.9"), 500);
	ck_assert_str_eq(r, "500 Error: command \"XCLIENT\" not recognized"
	    "\r\n");
	close(fd);
	stop(&p);
}
END_TEST

/* A trusted client sets the session's client: the message and its
 * X-Peer show it; an address outside xclient_trusted ends the trust. */
START_TEST(test_xclient)
{
	struct pp_daemon p;
	char r[1024];

	start(&p, 1, NULL);
	int fd = smtp_open(p.xclient_port, r, sizeof(r));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(CMD(fd, "EHLO me"), 250);
	ck_assert_msg(strstr(r, "250-XCLIENT NAME ADDR PORT PROTO HELO\r\n")
	    != NULL, "%s", r);
	ck_assert_int_eq(CMD(fd, "XCLIENT"), 501);
	ck_assert_int_eq(CMD(fd, "XCLIENT HELO=a+0D+0AMAIL"), 501);
	ck_assert_int_eq(CMD(fd, "XCLIENT LOGIN=alice"), 501);
	ck_assert_int_eq(CMD(fd, "MAIL FROM:<a@example.org>"), 250);
	ck_assert_int_eq(CMD(fd, "XCLIENT ADDR=192.0.2.9"), 503);
	ck_assert_int_eq(CMD(fd, "RSET"), 250);
	ck_assert_int_eq(CMD(fd, "XCLIENT NAME=spike.example ADDR=192.0.2.9 "
	    "PORT=4242"), 220);
	/* back at the start: a greeting is needed, and allowed */
	ck_assert_int_eq(CMD(fd, "MAIL FROM:<a@example.org>"), 503);
	ck_assert_int_eq(CMD(fd, "EHLO spike.example"), 250);
	ck_assert_int_eq(smtp_message(fd, "Subject: x\r\n\r\nbody\r\n"), 250);
	/* still trusted (192.0.2.0/24): HELO= stands for a HELO */
	ck_assert_int_eq(CMD(fd, "XCLIENT ADDR=IPV6:2001:db8::9 "
	    "HELO=other.example"), 220);
	ck_assert_int_eq(CMD(fd, "EHLO again"), 503);
	ck_assert_int_eq(smtp_message(fd, "Subject: y\r\n\r\nbody\r\n"), 250);
	/* 2001:db8::9 is not trusted: no more XCLIENT */
	ck_assert_int_eq(CMD(fd, "XCLIENT ADDR=192.0.2.10"), 500);
	ck_assert_int_eq(CMD(fd, "QUIT"), 221);
	close(fd);
	ck_assert(pd_log_has(&p.d, "xclient id=", 5));
	ck_assert(pd_log_has(&p.d, "client=192.0.2.9 port=4242 "
	    "name=spike.example helo=- via=127.0.0.1", 0));
	ck_assert(pd_log_has(&p.d, "X-Peer: 192.0.2.9\n", 0));
	ck_assert(pd_log_has(&p.d, "X-Peer: 2001:db8::9\n", 0));
	ck_assert(pd_log_has(&p.d, "message id=", 0));
	ck_assert(pd_log_has(&p.d, "client=2001:db8::9 from=<a@example.org>",
	    0));
	stop(&p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("proxy_daemon");
	TCase *tc = tcase_create("proxy");

	signal(SIGPIPE, SIG_IGN);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_valid, 0,
	    (int)(sizeof(valid) / sizeof(valid[0])));
	tcase_add_test(tc, test_split_and_pipelined);
	tcase_add_loop_test(tc, test_refused, 0,
	    (int)(sizeof(refused) / sizeof(refused[0])));
	tcase_add_test(tc, test_untrusted);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_per_client_limit);
	tcase_add_test(tc, test_xclient_off);
	tcase_add_test(tc, test_xclient);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
