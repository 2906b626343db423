/*
 * check_delivery_daemon.c - the delivery plugins in the real daemon, with
 * real peers on loopback: proxy in front of a second psmtpd (maildir), in
 * front of Postfix's smtp-sink, with the upstream stopped and hanging;
 * maildir and mbox under 20 concurrent senders; pipe with commands that
 * succeed, fail, exit 75 and hang; bad settings at -t.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "tests/check_run.h"
#include "tests/daemon_util.h"
#include "tests/delivery_fakesmtp.h"
#include "tests/relay_util.h"
#include "tests/delivery_testutil.h"

#define DL_POOL "pool = { start = 4; min_spare = 2; max_spare = 24; " \
	"max_workers = 30; };\n"

/* dl_conf - write dir/name with text; the path into path. */
static void
dl_conf(char *path, size_t size, const char *dir, const char *name,
    const char *text)
{
	snprintf(path, size, "%s/%s", dir, name);
	ck_assert_int_eq(du_write_config(path, "%s", text), 0);
}

/* dl_start - the daemon with -n -C conf (and extra args). */
static void
dl_start(struct du_daemon *d, const char *conf, const char *extra)
{
	const char *args[] = { "-n", "-C", conf, extra, NULL };

	ck_assert_int_eq(du_start(d, "127.0.0.1", args), 0);
}

/* dl_stop - stop the daemon by PID and remove its output files. */
static void
dl_stop(struct du_daemon *d)
{
	du_stop(d);
	unlink(d->out);
	unlink(d->err);
}

/* dl_send - one message (body with CRLF, dot-stuffed, ending in CRLF);
 * the code of the reply to the final dot, or -1. */
static int
dl_send(const struct du_daemon *d, const char *rcpt, const char *body)
{
	struct su_buf out = { 0 }, in = { 0 };
	int code = -1;

	su_buf_puts(&out, "EHLO client.test\r\nMAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<");
	su_buf_puts(&out, rcpt);
	su_buf_puts(&out, ">\r\nDATA\r\n");
	su_buf_puts(&out, body);
	su_buf_puts(&out, ".\r\nQUIT\r\n");
	su_buf_put(&out, "", 0);
	if (du_session(d, out.p, &in) == 0) {
		su_buf_put(&in, "", 0);
		const char *p = strstr(in.p, "\r\n354 ");
		if (p != NULL && (p = strstr(p + 2, "\r\n")) != NULL)
			code = atoi(p + 2);
	}
	free(out.p);
	free(in.p);
	return code;
}

/* dl_only_file - the one file in a maildir's new/. */
static char *
dl_only_file(const char *md)
{
	char newdir[700], name[512], path[1300];

	ck_assert_int_lt(snprintf(newdir, sizeof(newdir), "%s/new", md),
	    (int)sizeof(newdir));
	ck_assert_int_eq(tu_count_dir(newdir), 1);
	ck_assert_int_eq(tu_dir_entry(newdir, 0, name, sizeof(name)), 0);
	snprintf(path, sizeof(path), "%s/%s", newdir, name);
	return tu_read_file(path, NULL);
}

/* ---- proxy ---------------------------------------------------------------- */

/* proxy (from the config, and as -c PureProxy) in front of a second
 * psmtpd that delivers to a maildir. */
START_TEST(test_proxy_to_psmtpd)
{
	char dir[512], conf[700], md[600], text[2048];
	struct du_daemon up, px;

	tu_tempdir(dir, sizeof(dir), "dlproxy");
	snprintf(md, sizeof(md), "%s/md", dir);
	snprintf(text, sizeof(text), "plugins = ( { name = \"maildir\"; "
	    "settings = { dir = \"%s\"; add_headers = false; }; } );\n"
	    DL_POOL, md);
	dl_conf(conf, sizeof(conf), dir, "up.conf", text);
	dl_start(&up, conf, NULL);
	if (_i == 0) {
		snprintf(text, sizeof(text), "plugins = ( { name = \"proxy\"; "
		    "settings = { remote = \"127.0.0.1:%d\"; helo_name = "
		    "\"relay.test\"; reply_timeout = 10; }; } );\n" DL_POOL,
		    up.port);
		dl_conf(conf, sizeof(conf), dir, "px.conf", text);
		dl_start(&px, conf, NULL);
	} else {
		const char *args[] = { "-n", "-c", "PureProxy", "-o", text,
		    NULL };
		snprintf(text, sizeof(text), "remote=\"127.0.0.1:%d\"",
		    up.port);
		ck_assert_int_eq(du_start(&px, "127.0.0.1", args), 0);
	}
	ck_assert_int_eq(dl_send(&px, "b@example.org", "Subject: x\r\n\r\n"
	    "body\r\n..dot\r\n"), 250);
	char *got = dl_only_file(md);
	ck_assert_str_eq(got, "Subject: x\nX-Peer: 127.0.0.1\n\nbody\n.dot\n");
	free(got);
	ck_assert(du_file_has(px.err, "proxy relayed", 1000));
	dl_stop(&px);
	dl_stop(&up);
	tu_rmtree(dir);
}
END_TEST

/* dl_proxy_to - a proxy daemon relaying to port with reply_timeout. */
static void
dl_proxy_to(struct du_daemon *px, const char *dir, int port, int timeout)
{
	char conf[700], text[1024];

	snprintf(text, sizeof(text), "remote = \"127.0.0.1:%d\";\nplugins = "
	    "( { name = \"proxy\"; settings = { connect_timeout = %d; "
	    "reply_timeout = %d; }; } );\n" DL_POOL, port, timeout, timeout);
	dl_conf(conf, sizeof(conf), dir, "px.conf", text);
	dl_start(px, conf, NULL);
}

/* dl_mail_code - the reply to MAIL: the upstream is reached then. */
static int
dl_mail_code(const struct du_daemon *d)
{
	const char *rcpts[] = { "b@example.org", NULL };
	int codes[1] = { 0 };
	long long ms;

	ru_transcript(d, rcpts, "Subject: x\r\n\r\nbody\r\n", codes, 1,
	    &ms, NULL);
	return codes[0];
}

/* The upstream stopped: 451 at MAIL, never 250. */
START_TEST(test_proxy_upstream_stopped)
{
	char dir[512];
	struct du_daemon px;

	tu_tempdir(dir, sizeof(dir), "dlproxy");
	dl_proxy_to(&px, dir, du_free_port("127.0.0.1"), 5);
	ck_assert_int_eq(dl_mail_code(&px), 451);
	ck_assert(du_file_has(px.err, "proxy not relayed", 1000));
	dl_stop(&px);
	tu_rmtree(dir);
}
END_TEST

/* The upstream takes the connection and says nothing: 451 at MAIL after
 * the reply timeout. */
START_TEST(test_proxy_upstream_hanging)
{
	char dir[512];
	struct du_daemon px;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);

	tu_tempdir(dir, sizeof(dir), "dlproxy");
	sin.sin_addr.s_addr = htonl(0x7f000001);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	dl_proxy_to(&px, dir, ntohs(sin.sin_port), 1);
	time_t t0 = time(NULL);
	ck_assert_int_eq(dl_mail_code(&px), 451);
	ck_assert_int_le(time(NULL) - t0, 5);
	ck_assert(du_file_has(px.err, "upstream timed out at greeting",
	    1000));
	dl_stop(&px);
	close(lfd);
	tu_rmtree(dir);
}
END_TEST

/* Issue 10, defect 1: the upstream refuses one of two recipients, for
 * now (450) or for good (550).  The client hears exactly that for that
 * recipient at RCPT time, 250 for the other, and the message reaches the
 * upstream for the one it took: no 250 for a copy that went nowhere. */
static const struct {
	struct fake_script sc;
	int codes[6];		/* MAIL, RCPT, RCPT, DATA, data, QUIT */
	const char *rcpt_seen;	/* the RCPT the upstream took */
} dl_mixed_cases[] = {
	{ { .rcpt = { "450 4.2.0 <b@example.org> greylisted" } },
	    { 250, 450, 250, 354, 250, 221 }, "RCPT TO:<c@example.org>" },
	{ { .rcpt = { "250 OK", "550 5.1.1 <c@example.org> unknown" } },
	    { 250, 250, 550, 354, 250, 221 }, "RCPT TO:<b@example.org>" },
	{ { .rcpt = { "451 4.3.0 later", "554 5.7.1 no" } },
	    { 250, 451, 554, 503, 500, 500 }, NULL },
	{ { .end = "452 4.3.1 full" }, { 250, 250, 250, 354, 452, 221 },
	    NULL },
};

START_TEST(test_proxy_rcpt_verified)
{
	char dir[512], capture[700];
	struct du_daemon px;
	const char *rcpts[] = { "b@example.org", "c@example.org", NULL };
	int port, codes[6] = { 0 };
	long long ms;

	tu_tempdir(dir, sizeof(dir), "dlproxy");
	snprintf(capture, sizeof(capture), "%s/sent", dir);
	pid_t fake = fake_start(&dl_mixed_cases[_i].sc, capture, &port);
	dl_proxy_to(&px, dir, port, 5);
	int n = ru_transcript(&px, rcpts, "Subject: x\r\n\r\nbody\r\n", codes,
	    6, &ms, NULL);
	fake_stop(fake);
	ck_assert_int_eq(n, 6);
	for (int i = 0; i < 6; i++)
		ck_assert_msg(codes[i] == dl_mixed_cases[_i].codes[i],
		    "reply %d: %d", i, codes[i]);
	char *sent = du_slurp(capture);
	ck_assert_ptr_nonnull(sent);
	if (dl_mixed_cases[_i].rcpt_seen != NULL)
		ck_assert_ptr_nonnull(strstr(sent, "\r\nDATA\r\nSubject: x\r\n"
		    "X-Peer: 127.0.0.1\r\n\r\nbody\r\n.\r\nQUIT\r\n"));
	free(sent);
	dl_stop(&px);
	tu_rmtree(dir);
}
END_TEST

/* The client's SIZE and BODY reach the upstream's MAIL (replayed before
 * DATA when the server showed them to the proxy only after MAIL); the
 * null sender of a bounce is MAIL FROM:<> (the server gives it as "<>",
 * which 0.1 sent as "<<>>"). */
START_TEST(test_proxy_mail_params)
{
	char dir[512], capture[700];
	struct du_daemon px;
	struct fake_script sc = { .ehlo = "250-fake\n250-SIZE 100000\n"
	    "250 8BITMIME" };
	struct su_buf in = { 0 };
	int port, codes[8] = { 0 };

	tu_tempdir(dir, sizeof(dir), "dlproxy");
	snprintf(capture, sizeof(capture), "%s/sent", dir);
	pid_t fake = fake_start(&sc, capture, &port);
	dl_proxy_to(&px, dir, port, 5);
	ck_assert_int_eq(du_session(&px, _i == 0 ? "EHLO c.test\r\nMAIL FROM:"
	    "<a@example.org> BODY=8BITMIME SIZE=30\r\nRCPT TO:<b@example.org>"
	    "\r\nDATA\r\nSubject: 8\r\n\r\n\xc3\xa9t\xc3\xa9\r\n.\r\nQUIT\r\n" :
	    "EHLO c.test\r\nMAIL FROM:<>\r\nRCPT TO:<b@example.org>\r\nDATA"
	    "\r\nSubject: bounce\r\n\r\nx\r\n.\r\nQUIT\r\n", &in), 0);
	su_buf_put(&in, "", 0);
	fake_stop(fake);
	ck_assert_int_eq(ru_codes(in.p, codes, 8), 7);
	ck_assert_int_eq(codes[5], 250);
	char *sent = du_slurp(capture);
	const char *data = strstr(sent, "\r\nDATA\r\n");
	ck_assert_ptr_nonnull(data);
	const char *mail = strstr(sent, _i == 0 ? "MAIL FROM:<a@example.org> "
	    "SIZE=30 BODY=8BITMIME\r\nRCPT TO:<b@example.org>\r\nDATA\r\n" :
	    "MAIL FROM:<>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n");
	ck_assert_msg(mail != NULL && mail < data, "sent: %s", sent);
	free(sent);
	free(in.p);
	dl_stop(&px);
	tu_rmtree(dir);
}
END_TEST

/* Issue 10, defect 9: after a failure the proxy does not wait for the
 * QUIT as long again; an unanswered QUIT holds nobody for more than
 * about 2 s. */
static const struct {
	struct fake_script sc;
	int timeout;
	int code;		/* the reply to the data */
	long long max_ms;	/* the whole session */
} dl_hang_cases[] = {
	{ { .end = "HANG" }, 3, 451, 3000 + 1500 },
	{ { .quit = "HANG" }, 10, 250, 2000 + 1500 },
};

START_TEST(test_proxy_quit_bounded)
{
	char dir[512], capture[700];
	struct du_daemon px;
	const char *rcpts[] = { "b@example.org", NULL };
	int port, codes[5] = { 0 };
	long long ms;

	tu_tempdir(dir, sizeof(dir), "dlproxy");
	snprintf(capture, sizeof(capture), "%s/sent", dir);
	pid_t fake = fake_start(&dl_hang_cases[_i].sc, capture, &port);
	dl_proxy_to(&px, dir, port, dl_hang_cases[_i].timeout);
	int n = ru_transcript(&px, rcpts, "Subject: x\r\n\r\nbody\r\n", codes,
	    5, &ms, NULL);
	fake_stop(fake);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(codes[3], dl_hang_cases[_i].code);
	ck_assert_int_eq(codes[4], 221);
	ck_assert_msg(ms < dl_hang_cases[_i].max_ms, "session took %lld ms",
	    ms);
	dl_stop(&px);
	tu_rmtree(dir);
}
END_TEST

/* smtp-sink as the upstream, two recipients: accepting, refusing RCPT
 * hard and soft, closing with 421 at MAIL, refusing DATA, too slow.  The
 * client sees the upstream's answer per recipient. */
static const struct {
	const char *opt, *arg;
	int codes[5];		/* MAIL, RCPT, RCPT, DATA, the data */
} dl_sink_cases[] = {
	{ NULL, NULL, { 250, 250, 250, 354, 250 } },
	{ "-f", "RCPT", { 250, 500, 500, 503, 500 } },
	{ "-r", "RCPT", { 250, 450, 450, 503, 500 } },
	{ "-Q", "MAIL", { 451, 503, 503, 503, 500 } },
	{ "-f", "DATA", { 250, 250, 250, 354, 500 } },
	{ "-w", "3", { 250, 250, 250, 354, 451 } },
};

START_TEST(test_proxy_smtp_sink)
{
	char dir[512];
	struct du_daemon px;
	const char *rcpts[] = { "b@example.org", "c@example.org", NULL };
	int port, codes[5] = { 0 };
	long long ms;

	tu_tempdir(dir, sizeof(dir), "dlsink");
	chmod(dir, 0777);	/* smtp-sink dumps as nobody */
	const char *opts[] = { dl_sink_cases[_i].opt, dl_sink_cases[_i].arg,
	    NULL };
	pid_t sink = ru_sink_start(dir, opts, &port);
	if (sink < 0) {
		tu_rmtree(dir);
		CHECK_SKIP("/usr/sbin/smtp-sink cannot start (apt-get install "
		    "postfix)");
	}
	dl_proxy_to(&px, dir, port, 1);
	int n = ru_transcript(&px, rcpts, "Subject: sink\r\n\r\nbody\r\n",
	    codes, 5, &ms, NULL);
	dl_stop(&px);
	du_kill_wait(sink, 2000);
	ck_assert_int_eq(n, 5);
	for (int i = 0; i < 5; i++)
		ck_assert_msg(codes[i] == dl_sink_cases[_i].codes[i],
		    "reply %d: %d", i, codes[i]);
	if (codes[4] == 250) {
		ck_assert_int_eq(tu_count_dir(dir), 2);	/* px.conf, dump */
		char *got = ru_sink_dump(dir);
		ck_assert_ptr_nonnull(got);
		/* smtp-sink dumps with LF line ends */
		ck_assert_ptr_nonnull(strstr(got, "\nX-Mail-Args: "
		    "<a@example.org>"));
		ck_assert_ptr_nonnull(strstr(got, "\nX-Rcpt-Args: "
		    "<b@example.org>\n"));
		ck_assert_ptr_nonnull(strstr(got, "\nX-Rcpt-Args: "
		    "<c@example.org>\n"));
		ck_assert_ptr_nonnull(strstr(got, "\nSubject: sink\nX-Peer: "
		    "127.0.0.1\n\nbody\n"));
		free(got);
	}
	tu_rmtree(dir);
}
END_TEST

/* ---- maildir and mbox under 20 concurrent senders ------------------------- */

#define DL_SENDERS 20
#define DL_EACH 5

/* dl_body - message i of sender w, on the wire (CRLF, dot-stuffed) and
 * as delivered (LF, unstuffed). */
static void
dl_body(int w, int i, char *wire, size_t wsize, char *plain, size_t psize)
{
	snprintf(wire, wsize, "X-Test: %d.%d\r\n\r\nFrom here\r\n..\r\n"
	    "...dots\r\nmessage %d of sender %d\r\n", w, i, i, w);
	snprintf(plain, psize, "X-Test: %d.%d\n\nFrom here\n.\n..dots\n"
	    "message %d of sender %d\n", w, i, i, w);
}

/* dl_senders - 20 processes, each sending DL_EACH messages; all 250. */
static void
dl_senders(const struct du_daemon *d)
{
	pid_t pids[DL_SENDERS];
	char wire[256], plain[256];

	for (int w = 0; w < DL_SENDERS; w++) {
		pids[w] = fork();
		ck_assert_int_ge(pids[w], 0);
		if (pids[w] != 0)
			continue;
		for (int i = 0; i < DL_EACH; i++) {
			dl_body(w, i, wire, sizeof(wire), plain,
			    sizeof(plain));
			if (dl_send(d, "b@example.org", wire) != 250)
				_exit(1);
		}
		_exit(0);
	}
	for (int w = 0; w < DL_SENDERS; w++) {
		int st;
		ck_assert_int_eq(waitpid(pids[w], &st, 0), pids[w]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "sender %d got a reply other than 250", w);
	}
}

/* dl_check_one - text starts with some message (plain form) not seen
 * yet; its length, marked in seen. */
static size_t
dl_check_one(const char *text, int seen[DL_SENDERS][DL_EACH])
{
	int w, i;
	char wire[256], plain[256];

	ck_assert_int_eq(sscanf(text, "X-Test: %d.%d", &w, &i), 2);
	ck_assert(w >= 0 && w < DL_SENDERS && i >= 0 && i < DL_EACH);
	dl_body(w, i, wire, sizeof(wire), plain, sizeof(plain));
	ck_assert_msg(strncmp(text, plain, strlen(plain)) == 0, "got %s",
	    text);
	ck_assert_int_eq(seen[w][i]++, 0);
	return strlen(plain);
}

START_TEST(test_maildir_concurrent)
{
	char dir[512], conf[700], md[600], text[1024], newdir[700];
	char name[512], path[1400];
	int seen[DL_SENDERS][DL_EACH] = { { 0 } };
	struct du_daemon d;

	tu_tempdir(dir, sizeof(dir), "dlmd");
	snprintf(md, sizeof(md), "%s/md", dir);
	snprintf(text, sizeof(text), "plugins = ( { name = \"maildir\"; "
	    "settings = { dir = \"%s\"; add_headers = false; }; } );\n"
	    DL_POOL, md);
	dl_conf(conf, sizeof(conf), dir, "md.conf", text);
	dl_start(&d, conf, NULL);
	dl_senders(&d);
	dl_stop(&d);
	snprintf(newdir, sizeof(newdir), "%s/new", md);
	ck_assert_int_eq(tu_count_dir(newdir), DL_SENDERS * DL_EACH);
	for (int n = 0; n < DL_SENDERS * DL_EACH; n++) {
		ck_assert_int_eq(tu_dir_entry(newdir, n, name, sizeof(name)),
		    0);
		snprintf(path, sizeof(path), "%s/%s", newdir, name);
		char *got = tu_read_file(path, NULL);
		ck_assert_uint_eq(dl_check_one(got, seen), strlen(got));
		free(got);
	}
	snprintf(newdir, sizeof(newdir), "%s/tmp", md);
	ck_assert_int_eq(tu_count_dir(newdir), 0);
	tu_rmtree(dir);
}
END_TEST

/* new/ gone (a file in its place) after the start: every message is a
 * 451 and tmp/ keeps nothing. */
START_TEST(test_maildir_failure)
{
	char dir[512], conf[700], md[600], text[1024], sub[700];
	struct du_daemon d;

	tu_tempdir(dir, sizeof(dir), "dlmd");
	snprintf(md, sizeof(md), "%s/md", dir);
	snprintf(text, sizeof(text), "plugins = ( { name = \"maildir\"; "
	    "settings = { dir = \"%s\"; }; } );\n" DL_POOL, md);
	dl_conf(conf, sizeof(conf), dir, "md.conf", text);
	dl_start(&d, conf, NULL);
	snprintf(sub, sizeof(sub), "%s/new", md);
	for (int i = 0; i < 50 && rmdir(sub) != 0; i++)
		usleep(20000);	/* until a worker has made it */
	tu_write_file(sub, "", 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(dl_send(&d, "b@example.org", "Subject: f\r\n"
		    "\r\nbody\r\n"), 451);
	ck_assert(du_file_has(d.err, "maildir not delivered step=rename",
	    1000));
	dl_stop(&d);
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	ck_assert_int_eq(tu_count_dir(sub), 0);
	tu_rmtree(dir);
}
END_TEST

START_TEST(test_mbox_concurrent)
{
	char dir[512], conf[700], mbox[600], text[1024];
	int seen[DL_SENDERS][DL_EACH] = { { 0 } };
	struct du_daemon d;

	tu_tempdir(dir, sizeof(dir), "dlmbox");
	snprintf(mbox, sizeof(mbox), "%s/mbox", dir);
	snprintf(text, sizeof(text), "plugins = ( { name = \"mbox\"; "
	    "settings = { file = \"%s\"; dotlock = %s; }; } );\n" DL_POOL,
	    mbox, _i ? "true" : "false");
	dl_conf(conf, sizeof(conf), dir, "mbox.conf", text);
	dl_start(&d, conf, NULL);
	dl_senders(&d);
	dl_stop(&d);
	char *all = tu_read_file(mbox, NULL), *p = all;
	ck_assert_ptr_nonnull(all);
	for (int n = 0; n < DL_SENDERS * DL_EACH; n++) {
		ck_assert_msg(strncmp(p, "From a@example.org ", 19) == 0,
		    "at %.60s", p);
		p = strchr(p, '\n');
		ck_assert_ptr_nonnull(p);
		p++;
		/* mboxrd: the one "From " line of the body is quoted */
		ck_assert_ptr_nonnull(strstr(p, "\n>From here\n"));
		char *q = strstr(p, "\n>From here\n");
		memmove(q + 1, q + 2, strlen(q + 2) + 1);
		p += dl_check_one(p, seen);
		ck_assert_int_eq(*p++, '\n');	/* the blank line */
	}
	ck_assert_int_eq(*p, '\0');
	free(all);
	tu_rmtree(dir);
}
END_TEST

/* -c maildir and -c mbox, without settings: ~/Maildir and $MAIL. */
START_TEST(test_class)
{
	char dir[512], path[700];
	struct du_daemon d;
	const char *args[] = { "-n", "-c", _i == 0 ? "maildir" : "mbox",
	    NULL };

	tu_tempdir(dir, sizeof(dir), "dlclass");
	snprintf(path, sizeof(path), "%s/%s", dir, _i == 0 ? "Maildir" :
	    "mbox");
	setenv(_i == 0 ? "HOME" : "MAIL", _i == 0 ? dir : path, 1);
	ck_assert_int_eq(du_start(&d, "127.0.0.1", args), 0);
	ck_assert_int_eq(dl_send(&d, "b@example.org", "Subject: c\r\n\r\n"
	    "body\r\n"), 250);
	dl_stop(&d);
	char *got = _i == 0 ? dl_only_file(path) : tu_read_file(path, NULL);
	ck_assert_ptr_nonnull(got);
	if (_i == 0)
		ck_assert_str_eq(got, "Return-Path: <a@example.org>\n"
		    "Subject: c\nX-Peer: 127.0.0.1\n\nbody\n");
	else
		ck_assert_ptr_nonnull(strstr(got, "\nSubject: c\n\nbody\n\n"));
	free(got);
	tu_rmtree(dir);
}
END_TEST

/* ---- pipe ----------------------------------------------------------------- */

static const struct {
	const char *script;
	int code;
	const char *log;
} dl_pipe_cases[] = {
	{ "cat > \\\"$0\\\"", 250, "pipe delivered" },
	{ "cat >/dev/null; echo no such user >&2; exit 67", 554,
	    "output=\"no such user\"" },
	{ "cat >/dev/null; exit 75", 451, "status=exit/75" },
	{ "sleep 30", 451, "status=timeout/" },
};

START_TEST(test_pipe)
{
	char dir[512], conf[700], out[600], text[1400];
	struct du_daemon d;

	tu_tempdir(dir, sizeof(dir), "dlpipe");
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(text, sizeof(text), "plugins = ( { name = \"pipe\"; "
	    "settings = { command = [ \"/bin/sh\", \"-c\", \"%s\", \"%s\", "
	    "\"%%s\", \"%%r\" ]; timeout = 1; }; } );\n" DL_POOL,
	    dl_pipe_cases[_i].script, out);
	dl_conf(conf, sizeof(conf), dir, "pipe.conf", text);
	dl_start(&d, conf, NULL);
	time_t t0 = time(NULL);
	ck_assert_int_eq(dl_send(&d, "b@example.org", "Subject: p\r\n\r\n"
	    "..x\r\n"), dl_pipe_cases[_i].code);
	ck_assert_int_le(time(NULL) - t0, 5);
	ck_assert_msg(du_file_has(d.err, dl_pipe_cases[_i].log, 1000),
	    "log lacks %s", dl_pipe_cases[_i].log);
	dl_stop(&d);
	if (dl_pipe_cases[_i].code == 250) {
		char *got = tu_read_file(out, NULL);
		ck_assert_str_eq(got, "Subject: p\n\n.x\n");
		free(got);
	}
	tu_rmtree(dir);
}
END_TEST

/* ---- bad settings at -t ---------------------------------------------------- */

static const struct {
	const char *settings;
	const char *error;
} dl_bad_cases[] = {
	{ "name = \"maildir\"; settings = { dir = \"rel\"; };",
	    ":2: plugin maildir: setting 'dir': dir must be an absolute path" },
	{ "name = \"maildir\"; settings = { dir = \"\"; };",
	    ":2: plugin maildir: setting 'dir': dir must not be empty" },
	{ "name = \"mbox\"; settings = { file = \"/tmp/x\"; dotlock = 1; };",
	    ":2: plugin mbox: setting 'dotlock'" },
	{ "name = \"pipe\"; settings = { command = [ \"/bin/cat\", \"%x\" ]; "
	    "};", ":2: plugin pipe: setting 'command': bad placeholder" },
	{ "name = \"pipe\"; settings = { command = [ \"cat\" ]; };",
	    ":2: plugin pipe: setting 'command': cat: not an absolute path" },
	{ "name = \"proxy\"; settings = { remote = \"nohost\"; };",
	    ":2: plugin proxy: setting 'remote': bad remote address" },
	{ "name = \"proxy\"; settings = { reply_timeout = 0; };",
	    ":2: plugin proxy: setting 'reply_timeout': reply_timeout must" },
};

START_TEST(test_bad_settings)
{
	char dir[512], conf[700], text[1024];
	struct su_buf out = { 0 };

	tu_tempdir(dir, sizeof(dir), "dlbad");
	snprintf(text, sizeof(text), "plugins = (\n  { %s }\n);\n",
	    dl_bad_cases[_i].settings);
	dl_conf(conf, sizeof(conf), dir, "bad.conf", text);
	const char *args[] = { "-n", "-t", "-C", conf, NULL };
	ck_assert_int_eq(du_run(args, &out), 1);
	ck_assert_msg(strstr(out.p, dl_bad_cases[_i].error) != NULL,
	    "output: %s", out.p);
	free(out.p);
	tu_rmtree(dir);
}
END_TEST

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static Suite *
daemon_suite(void)
{
	Suite *s = suite_create("delivery_daemon");
	TCase *tp = tcase_create("proxy");
	TCase *tl = tcase_create("local");

	tcase_set_timeout(tp, 60);
	tcase_add_loop_test(tp, test_proxy_to_psmtpd, 0, 2);
	tcase_add_test(tp, test_proxy_upstream_stopped);
	tcase_add_test(tp, test_proxy_upstream_hanging);
	tcase_add_loop_test(tp, test_proxy_smtp_sink, 0, NELEM(dl_sink_cases));
	tcase_add_loop_test(tp, test_proxy_rcpt_verified, 0,
	    NELEM(dl_mixed_cases));
	tcase_add_loop_test(tp, test_proxy_quit_bounded, 0,
	    NELEM(dl_hang_cases));
	tcase_add_loop_test(tp, test_proxy_mail_params, 0, 2);
	suite_add_tcase(s, tp);
	tcase_set_timeout(tl, 120);
	tcase_add_test(tl, test_maildir_concurrent);
	tcase_add_test(tl, test_maildir_failure);
	tcase_add_loop_test(tl, test_mbox_concurrent, 0, 2);
	tcase_add_loop_test(tl, test_class, 0, 2);
	tcase_add_loop_test(tl, test_pipe, 0, NELEM(dl_pipe_cases));
	tcase_add_loop_test(tl, test_bad_settings, 0, NELEM(dl_bad_cases));
	suite_add_tcase(s, tl);
	return s;
}

int
main(void)
{
	return tu_run_suite(daemon_suite());
}
