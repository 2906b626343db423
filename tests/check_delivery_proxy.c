/*
 * check_delivery_proxy.c - the proxy plugin against a scripted upstream
 * on loopback, its hooks called directly; and the pure parts of its SMTP
 * client.
 */
#include "../plugins/proxy/proxy.c"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "delivery_testutil.h"
#include "relay_hooks.h"
#include "../plugins/smtpc/smtpc_int.h"

static const char *const rcpts2[] = { "bob@example.org", "carol@example.org",
    NULL };

/* ---- pure parts ---------------------------------------------------------- */

static const struct {
	const char *line;
	int ok, code, last;
	const char *text;
} px_reply_cases[] = {
	{ "250 OK", 1, 250, 1, "OK" },
	{ "250-SIZE 100", 1, 250, 0, "SIZE 100" },
	{ "354", 1, 354, 1, "" },
	{ "550 5.1.1 no", 1, 550, 1, "5.1.1 no" },
	{ "25", 0, 0, 0, NULL },
	{ "2500 x", 0, 0, 0, NULL },
	{ "650 x", 0, 0, 0, NULL },
	{ "abc def", 0, 0, 0, NULL },
	{ "", 0, 0, 0, NULL },
};

START_TEST(test_reply_parse)
{
	int code = 0, last = 0;
	const char *text = NULL, *line = px_reply_cases[_i].line;
	int r = smtpc_parse_reply_line(line, strlen(line), &code, &last,
	    &text);

	ck_assert_int_eq(r, px_reply_cases[_i].ok ? 0 : -1);
	if (r == 0) {
		ck_assert_int_eq(code, px_reply_cases[_i].code);
		ck_assert_int_eq(last, px_reply_cases[_i].last);
		ck_assert_str_eq(text, px_reply_cases[_i].text);
	}
}
END_TEST

static const struct {
	const char *spec, *host, *port;
} px_remote_cases[] = {
	{ "localhost:25", "localhost", "25" },
	{ "[::1]:2525", "::1", "2525" },
	{ "127.0.0.1:65535", "127.0.0.1", "65535" },
	{ "localhost", NULL, NULL },
	{ "::1:25", NULL, NULL },
	{ "host:", NULL, NULL },
	{ ":25", NULL, NULL },
	{ "host:0", NULL, NULL },
	{ "host:65536", NULL, NULL },
	{ "host:2x", NULL, NULL },
	{ "[::1]25", NULL, NULL },
};

START_TEST(test_split_remote)
{
	char host[64], port[8];
	int r = smtpc_split_remote(px_remote_cases[_i].spec, host,
	    sizeof(host), port, sizeof(port));

	ck_assert_int_eq(r, px_remote_cases[_i].host ? 0 : -1);
	if (r == 0) {
		ck_assert_str_eq(host, px_remote_cases[_i].host);
		ck_assert_str_eq(port, px_remote_cases[_i].port);
	}
}
END_TEST

/* The body on the wire: CRLF everywhere, dot-stuffing, a final CRLF; a
 * CR LF pair split across two parts is still one line end. */
static const struct {
	const char *a, *b, *wire;
} px_encode_cases[] = {
	{ "a\nb", "", "a\r\nb\r\n" },
	{ ".x\n..y", "", "..x\r\n...y\r\n" },
	{ "a.\n.", "", "a.\r\n..\r\n" },
	{ "a\r", "\nb", "a\r\nb\r\n" },
	{ "a\rb", "", "a\r\nb\r\n" },
	{ "a\r\r\n", "", "a\r\n\r\n" },
	{ "a\n", "", "a\r\n" },
	{ "a\n", ".b", "a\r\n..b\r\n" },
	{ "", "", "" },
};

START_TEST(test_encode)
{
	struct smtpc_part parts[2] = {
		{ px_encode_cases[_i].a, strlen(px_encode_cases[_i].a) },
		{ px_encode_cases[_i].b, strlen(px_encode_cases[_i].b) },
	};
	char out[64];
	size_t n = smtpc_encode(parts, 2, out, sizeof(out));

	ck_assert_uint_eq(n, strlen(px_encode_cases[_i].wire));
	ck_assert(memcmp(out, px_encode_cases[_i].wire, n) == 0);
	ck_assert_uint_eq(smtpc_wire_size(parts, 2), n);
	ck_assert_uint_eq(smtpc_encode(parts, 2, out, n > 0 ? n - 1 : 0),
	    n > 0 ? (size_t)-1 : 0);
}
END_TEST

/* What EHLO offers, line by line; and RFC 4616's initial response. */
START_TEST(test_extensions)
{
	struct smtpc c = { .fd = -1 };
	char b64[64];

	smtpc_note_extension(&c, "STARTTLS");
	smtpc_note_extension(&c, "AUTH LOGIN PLAIN CRAM-MD5");
	smtpc_note_extension(&c, "SIZE 1000");
	smtpc_note_extension(&c, "DSN");
	ck_assert(c.starttls && c.auth_login && c.auth_plain && c.dsn);
	ck_assert_int_eq(c.size_max, 1000);
	smtpc_forget_extensions(&c);
	ck_assert(!c.starttls && !c.auth_login && !c.auth_plain &&
	    !c.size_offered && !c.dsn);
	smtpc_note_extension(&c, "AUTH XOAUTH2 LOGIN");
	ck_assert(c.auth_login && !c.auth_plain);
	ck_assert_int_eq(smtpc_auth_plain_b64("u", "s3cret-pw", b64,
	    sizeof(b64)), 0);
	ck_assert_str_eq(b64, "AHUAczNjcmV0LXB3");
	ck_assert_int_eq(smtpc_auth_plain_b64("u", "s3cret-pw", b64, 16), -1);
}
END_TEST

static const struct {
	const char *data;
	size_t off;
	int at_end;
} px_header_cases[] = {
	{ "A: 1\nB: 2\n\nbody", 10, 0 },
	{ "A: 1", 4, 1 },
	{ "A: 1\n", 5, 0 },
	{ "", 0, 0 },
	{ "\nbody", 0, 0 },
	{ "A: 1\r\n\r\nbody", 12, 1 },
};

START_TEST(test_header_end)
{
	int at_end = -1;
	const char *d = px_header_cases[_i].data;

	ck_assert_uint_eq(delivery_header_end(d, strlen(d), &at_end),
	    px_header_cases[_i].off);
	ck_assert_int_eq(at_end, px_header_cases[_i].at_end);
}
END_TEST

/* ---- against a scripted upstream ----------------------------------------- */

#define PX_DATA "Subject: x\n\n.dot\nbody"
#define PX_WIRE "Subject: x\r\nX-Peer: 192.0.2.7\r\n\r\n..dot\r\nbody\r\n.\r\n"

/* px_run - a client transaction (see rh_run) for bob and carol. */
static void
px_run(void *pd, struct psmtpd_session *s, int codes[4])
{
	rh_run(&psmtpd_plugin, pd, s, rcpts2, codes);
}

static const struct {
	struct fake_script sc;
	int codes[4];		/* MAIL, RCPT, RCPT, data */
	const char *reply;	/* the start of the last one */
	const char *sent[4];	/* what the upstream must have got */
	const char *log;
} px_relay_cases[] = {
	/* 0: all well, with SIZE and 8BITMIME */
	{ { .ehlo = "250-fake\n250-SIZE 100000\n250 8BITMIME" },
	    { 250, 250, 250, 250 }, "",
	    { "EHLO mx.example.org\r\nMAIL FROM:<alice@example.org> SIZE=46 "
	    "BODY=8BITMIME\r\nRCPT TO:<bob@example.org>\r\nRCPT "
	    "TO:<carol@example.org>\r\nDATA\r\n" PX_WIRE "QUIT\r\n" },
	    "proxy relayed remote=127.0.0.1:" },
	/* 1: EHLO refused: HELO, no SIZE */
	{ { .ehlo = "502 no", .helo = "250 hi" }, { 250, 250, 250, 250 }, "",
	    { "EHLO mx.example.org\r\nHELO mx.example.org\r\n"
	    "MAIL FROM:<alice@example.org>\r\n" }, "accepted=2" },
	/* 2: one recipient refused for good: refused to the client too, the
	 * message goes to the other */
	{ { .rcpt = { "550 5.1.1 no such user" } }, { 250, 550, 250, 250 },
	    "", { "RCPT TO:<carol@example.org>\r\nDATA\r\n" PX_WIRE },
	    "proxy refused rcpt=<bob@example.org> reply=\"550 5.1.1 no such "
	    "user\"" },
	/* 3: greylisted: the client hears 450 for that one (issue 10,
	 * defect 1: it was a 250 and a lost copy) */
	{ { .rcpt = { "450 4.2.0 greylisted" } }, { 250, 450, 250, 250 },
	    "", { "DATA\r\n" PX_WIRE }, "accepted=1" },
	{ { .rcpt = { "250 OK", "451 4.3.0 later" } }, { 250, 250, 451, 250 },
	    "", { "DATA\r\n" PX_WIRE }, "accepted=1" },
	/* 5: all refused: no DATA upstream */
	{ { .rcpt = { "550 5.1.1 no", "553 bad" } }, { 250, 550, 553, 0 },
	    "553 bad", { "RCPT TO:<carol@example.org>\r\nQUIT\r\n" },
	    "proxy refused rcpt=<carol@example.org> reply=\"553 bad\"" },
	/* 6: MAIL refused */
	{ { .mail = "452 4.3.1 full" }, { 452, 0, 0, 0 }, "452 4.3.1 full",
	    { "QUIT" }, "proxy not relayed step=MAIL" },
	/* 7: greeting 554 */
	{ { .greeting = "554 go away" }, { 554, 0, 0, 0 }, "554 go away",
	    { "" }, "" },
	/* 8: 421 means closing: 451 to our client, which stays */
	{ { .greeting = "421 busy" }, { 451, 0, 0, 0 }, "451 busy", { "" },
	    "" },
	{ { .rcpt = { "421 4.3.2 bye" } }, { 250, 451, 451, 0 },
	    "451 4.4.2 Error: upstream closing (421), try again later", { "" },
	    "" },
	/* 10: the message refused after the data: its class passed on */
	{ { .end = "554 5.7.1 spam" }, { 250, 250, 250, 554 },
	    "554 5.7.1 spam", { PX_WIRE }, "" },
	{ { .end = "451 4.3.0 later" }, { 250, 250, 250, 451 },
	    "451 4.3.0 later", { "" }, "" },
	{ { .end = "421 4.3.0 bye" }, { 250, 250, 250, 451 },
	    "451 4.3.0 bye", { "" }, "" },
	/* 13: never a 250 unless the upstream said 250 */
	{ { .end = "251 odd" }, { 250, 250, 250, 451 }, "451 4.4.2 Error: "
	    "unexpected upstream reply \"251 odd\"", { "" }, "" },
	/* 14: too big for the upstream: not even tried */
	{ { .ehlo = "250-fake\n250 SIZE 20" }, { 250, 250, 250, 552 },
	    "552 5.3.4 Error: message size exceeds the upstream's limit of 20",
	    { "RCPT TO:<carol@example.org>\r\nQUIT\r\n" }, "" },
	/* 15: silence: timeouts at each step, no QUIT waited for */
	{ { .greeting = "HANG" }, { 451, 0, 0, 0 }, "451 4.4.2 Error: "
	    "upstream timed out at greeting", { "" }, "" },
	{ { .end = "HANG" }, { 250, 250, 250, 451 }, "451 4.4.2 Error: "
	    "upstream timed out at DATA", { PX_WIRE }, "" },
	{ { .rcpt = { "250 OK", "HANG" } }, { 250, 250, 451, 451 },
	    "451 4.4.2 Error: upstream timed out at RCPT", { "" }, "" },
	/* 18: garbage */
	{ { .greeting = "hello there" }, { 451, 0, 0, 0 }, "451 4.4.2 Error: "
	    "upstream failed at greeting (reply does not parse), try again "
	    "later", { "" }, "" },
	{ { .data = "250 what" }, { 250, 250, 250, 451 }, "451 4.4.2 Error: "
	    "unexpected upstream reply \"250 what\"", { "" }, "" },
	/* 20: a QUIT that is never answered does not hold the client */
	{ { .quit = "HANG" }, { 250, 250, 250, 250 }, "", { "QUIT\r\n" },
	    "accepted=2" },
};

START_TEST(test_relay)
{
	struct rh_fixture fx;
	struct psmtpd_session s;
	struct stub_setting set[] = {
		{ .key = "reply_timeout", .type = STUB_INT, .num = 1 },
		{ .key = NULL },
	};
	const char *opts[] = { "SIZE=46", "BODY=8BITMIME", NULL };
	int codes[4];

	rh_start(&fx, &psmtpd_plugin, &px_relay_cases[_i].sc, set);
	stub_session(&s, "alice@example.org", rcpts2, PX_DATA);
	s.mail_options = opts;
	long long t0 = delivery_now_ms();
	px_run(fx.pd, &s, codes);
	/* each wait is bounded: a timeout of 1 s, a QUIT of 2 s at most */
	ck_assert_int_lt(delivery_now_ms() - t0, 4000);
	char *sent = rh_stop(&fx);
	for (int i = 0; i < 4; i++)
		ck_assert_msg(codes[i] == px_relay_cases[_i].codes[i],
		    "step %d: %d, reply: %s", i, codes[i], s.reply);
	ck_assert_msg(strncmp(s.reply, px_relay_cases[_i].reply,
	    strlen(px_relay_cases[_i].reply)) == 0, "reply: %s", s.reply);
	for (int i = 0; i < 4 && px_relay_cases[_i].sent[i] != NULL; i++)
		ck_assert_msg(strstr(sent, px_relay_cases[_i].sent[i]) != NULL,
		    "sent: %s", sent);
	if (px_relay_cases[_i].codes[3] == 0)	/* no DATA upstream */
		ck_assert_msg(strstr(sent, "DATA\r\n") == NULL, "sent: %s",
		    sent);
	ck_assert_msg(strstr(s.log, px_relay_cases[_i].log) != NULL,
	    "log: %s", s.log);
	if (_i == 0)	/* the protocol trace, commands and reply lines */
		ck_assert_msg(strstr(s.log, "proxy > EHLO mx.example.org\n")
		    && strstr(s.log, "proxy < 250-SIZE 100000\n") &&
		    !strstr(s.log, "proxy > Subject"), "log: %s", s.log);
	free(sent);
	rh_end(&fx);
}
END_TEST

/* The envelope the upstream has differs from the session's (a plugin
 * after the proxy refused a recipient the upstream took; or the proxy's
 * hooks never ran): it is replayed before DATA, so the upstream gets
 * exactly the recipients the client was told 250 for. */
START_TEST(test_replay)
{
	struct rh_fixture fx;
	struct psmtpd_session s;
	struct stub_setting set[] = {
		{ .key = "reply_timeout", .type = STUB_INT, .num = 2 },
		{ .key = NULL },
	};
	struct fake_script sc = { .rcpt = { "250 a", "250 b", "250 c" } };
	static const char *const carol[] = { "carol@example.org", NULL };

	rh_start(&fx, &psmtpd_plugin, &sc, set);
	stub_session(&s, "alice@example.org", carol, PX_DATA);
	if (_i == 0) {
		ck_assert_int_eq(psmtpd_plugin.on_mail(&s, s.mailfrom, fx.pd),
		    PSMTPD_CONTINUE);
		for (int i = 0; i < 2; i++)
			ck_assert_int_eq(psmtpd_plugin.on_rcpt(&s, rcpts2[i],
			    fx.pd), PSMTPD_CONTINUE);
	}
	ck_assert_int_eq(psmtpd_plugin.process_message(&s, fx.pd),
	    PSMTPD_CONTINUE);
	stub_txn_end(&s);
	char *sent = rh_stop(&fx);
	const char *tail = _i == 0 ? "RSET\r\nMAIL FROM:<alice@example.org>"
	    "\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n" : "EHLO mx.example."
	    "org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<carol@example."
	    "org>\r\nDATA\r\n";
	ck_assert_msg(strstr(sent, tail) != NULL, "sent: %s", sent);
	free(sent);
	rh_end(&fx);
}
END_TEST

/* RFC 3461's parameters: with an upstream that offers DSN, RET and ENVID
 * go with MAIL, and each recipient's NOTIFY and ORCPT (seen only once it
 * is accepted) with the envelope replayed before DATA; without, none of
 * them, no replay, and a log line. */
static const struct {
	const char *ehlo;
	const char *sent, *log;
} px_dsn_cases[] = {
	{ "250-fake\n250 DSN", "MAIL FROM:<alice@example.org> RET=HDRS "
	    "ENVID=QQ+2B1\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<carol@"
	    "example.org>\r\nRSET\r\nMAIL FROM:<alice@example.org> RET=HDRS "
	    "ENVID=QQ+2B1\r\nRCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;Bob@Example.org\r\nRCPT TO:<carol@example.org>\r\n"
	    "DATA\r\n", "proxy envelope without the recipients' DSN "
	    "parameters, replaying it" },
	{ NULL, "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>"
	    "\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n", "proxy dsn dropped "
	    "remote=127.0.0.1:" },
};

START_TEST(test_dsn)
{
	struct rh_fixture fx;
	struct psmtpd_session s;
	struct stub_setting set[] = {
		{ .key = "reply_timeout", .type = STUB_INT, .num = 2 },
		{ .key = NULL },
	};
	struct fake_script sc = { .ehlo = px_dsn_cases[_i].ehlo };
	static const char *const mail[] = { "RET=HDRS", "ENVID=QQ+2B1", NULL };
	static const char *const bob[] = { "NOTIFY=SUCCESS,FAILURE",
	    "ORCPT=rfc822;Bob@Example.org", NULL };
	static const char *const *const rcpt[] = { bob, NULL };
	int codes[4];

	rh_start(&fx, &psmtpd_plugin, &sc, set);
	stub_session(&s, "alice@example.org", rcpts2, PX_DATA);
	s.mail_params = mail;
	s.rcpt_params = rcpt;
	px_run(fx.pd, &s, codes);
	char *sent = rh_stop(&fx);
	for (int i = 0; i < 4; i++)
		ck_assert_msg(codes[i] == 250, "step %d: %d", i, codes[i]);
	ck_assert_msg(strstr(sent, px_dsn_cases[_i].sent) != NULL, "sent: %s",
	    sent);
	ck_assert_msg(strstr(s.log, px_dsn_cases[_i].log) != NULL, "log: %s",
	    s.log);
	free(sent);
	rh_end(&fx);
}
END_TEST

/* px_one - relay one message to remote with the given timeouts; the
 * first reply that is not 250 (or 250). */
static int
px_one(const char *remote, long long timeout, struct psmtpd_session *s)
{
	struct psmtpd_init ctx;
	struct stub_setting set[] = {
		{ .key = "connect_timeout", .type = STUB_INT, .num = timeout },
		{ .key = "reply_timeout", .type = STUB_INT, .num = timeout },
		{ .key = "remote", .type = STUB_STR, .str = remote },
		{ .key = "helo_name", .type = STUB_STR, .str = "relay.test" },
		{ .key = NULL },
	};
	void *pd = NULL;
	int codes[4];

	stub_init_ctx(&ctx, set);
	ck_assert_int_eq(psmtpd_plugin.init(&ctx, &pd), 0);
	stub_session(s, "alice@example.org", rcpts2, PX_DATA);
	px_run(pd, s, codes);
	psmtpd_plugin.fini(pd);
	for (int i = 0; i < 4; i++)
		if (codes[i] != 250)
			return codes[i];
	return 250;
}

/* px_listener - a loopback listener that never accepts; its port. */
static int
px_listener(int backlog, int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, backlog), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Nobody listening: 451 at once. */
START_TEST(test_upstream_down)
{
	struct psmtpd_session s;
	char remote[64];
	int port, fd = px_listener(1, &port);

	close(fd);
	snprintf(remote, sizeof(remote), "127.0.0.1:%d", port);
	ck_assert_int_eq(px_one(remote, 5, &s), 451);
	ck_assert_str_eq(s.reply, "451 4.4.2 Error: upstream unavailable, "
	    "try again later");
	ck_assert_ptr_nonnull(strstr(s.log, "Connection refused"));
}
END_TEST

/* The same over IPv6, "[::1]:port" (skipped without IPv6 loopback). */
START_TEST(test_upstream_down_v6)
{
	struct psmtpd_session s;
	char remote[64];
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	socklen_t sl = sizeof(sin6);

	sin6.sin6_addr = in6addr_loopback;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) != 0) {
		printf("SKIP: no IPv6 loopback\n");
		return;
	}
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin6, &sl), 0);
	close(fd);
	snprintf(remote, sizeof(remote), "[::1]:%d", ntohs(sin6.sin6_port));
	ck_assert_int_eq(px_one(remote, 5, &s), 451);
	ck_assert_msg(strstr(s.log, "remote=[::1]:") != NULL &&
	    strstr(s.log, "Connection refused") != NULL, "log: %s", s.log);
}
END_TEST

/* A listen queue that is full drops the SYN: the connect times out. */
START_TEST(test_connect_timeout)
{
	struct psmtpd_session s;
	char remote[64];
	int port, fd = px_listener(0, &port), fill[4];
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(100000);
	snprintf(remote, sizeof(remote), "127.0.0.1:%d", port);
	long long t0 = delivery_now_ms();
	int code = px_one(remote, 1, &s);
	long long took = delivery_now_ms() - t0;
	ck_assert_int_eq(code, 451);
	ck_assert_int_lt(took, 4000);
	ck_assert_msg(strstr(s.reply, "timed out") != NULL, "%s", s.reply);
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(fd);
}
END_TEST

/* SMTPUTF8 mail to an upstream without it: refused, not mangled. */
START_TEST(test_smtputf8)
{
	struct rh_fixture fx;
	struct psmtpd_session s;
	struct stub_setting set[] = {
		{ .key = "helo_name", .type = STUB_STR, .str = "relay.test" },
		{ .key = NULL },
	};
	struct fake_script sc = { .ehlo = "250-fake\n250 SIZE" };
	const char *opts[] = { "SMTPUTF8", NULL };
	int codes[4];

	rh_start(&fx, &psmtpd_plugin, &sc, set);
	stub_session(&s, "alice@example.org", rcpts2, PX_DATA);
	s.mail_options = opts;
	px_run(fx.pd, &s, codes);
	char *sent = rh_stop(&fx);
	ck_assert_int_eq(codes[0], 554);
	ck_assert_str_eq(s.reply, "554 5.6.7 Error: upstream does not "
	    "support SMTPUTF8");
	ck_assert_str_eq(sent, "EHLO relay.test\r\nQUIT\r\n");
	free(sent);
	rh_end(&fx);
}
END_TEST

static const struct {
	struct stub_setting set[3];
	const char *remote;
	const char *error;
} px_bad_cases[] = {
	{ { { .key = "remote", .type = STUB_STR, .str = "nohost" } },
	    "localhost:25", "remote: bad remote address \"nohost\"" },
	{ { { .key = NULL } }, "localhost", "remote: bad remote address" },
	{ { { .key = NULL } }, NULL, "remote: no remote address" },
	{ { { .key = "connect_timeout", .type = STUB_INT, .num = 0 } },
	    "localhost:25", "connect_timeout: connect_timeout must be" },
	{ { { .key = "reply_timeout", .type = STUB_STR, .str = "5" } },
	    "localhost:25", "reply_timeout: wrong" },
	{ { { .key = "helo_name", .type = STUB_STR, .str = "" } },
	    "localhost:25", "helo_name: helo_name must not be empty" },
};

START_TEST(test_bad_settings)
{
	rh_init_fails(&psmtpd_plugin, px_bad_cases[_i].set,
	    px_bad_cases[_i].remote, px_bad_cases[_i].error);
}
END_TEST

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static Suite *
proxy_suite(void)
{
	Suite *s = suite_create("delivery_proxy");
	TCase *tc = tcase_create("client");
	TCase *tr = tcase_create("relay");

	tcase_add_loop_test(tc, test_reply_parse, 0, NELEM(px_reply_cases));
	tcase_add_loop_test(tc, test_split_remote, 0,
	    NELEM(px_remote_cases));
	tcase_add_loop_test(tc, test_encode, 0, NELEM(px_encode_cases));
	tcase_add_test(tc, test_extensions);
	tcase_add_loop_test(tc, test_header_end, 0, NELEM(px_header_cases));
	tcase_add_loop_test(tc, test_bad_settings, 0, NELEM(px_bad_cases));
	suite_add_tcase(s, tc);
	tcase_set_timeout(tr, 30);
	tcase_add_loop_test(tr, test_relay, 0, NELEM(px_relay_cases));
	tcase_add_loop_test(tr, test_replay, 0, 2);
	tcase_add_loop_test(tr, test_dsn, 0, NELEM(px_dsn_cases));
	tcase_add_test(tr, test_upstream_down);
	tcase_add_test(tr, test_upstream_down_v6);
	tcase_add_test(tr, test_connect_timeout);
	tcase_add_test(tr, test_smtputf8);
	suite_add_tcase(s, tr);
	return s;
}

int
main(void)
{
	return tu_run_suite(proxy_suite());
}
