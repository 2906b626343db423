/*
 * check_haproxy.c - the real balancer: Debian's haproxy, run with
 * contrib/haproxy/psmtpd.cfg (from `defaults` on, its addresses moved to
 * loopback), in front of two psmtpd instances that deliver into a maildir
 * each (with X-Peer); once with send-proxy-v2 as the file says, once with
 * send-proxy (version 1).  Clients connect from their own loopback
 * addresses (127.0.0.2, 127.0.0.3, ...: Linux routes all of 127/8).
 * Checked:
 * - every message's X-Peer is the address its client connected from;
 * - both backends took messages;
 * - limits.max_connections_per_client (1) counts the real client: a
 *   third session of one client is refused while another client is
 *   served;
 * - stopping one backend mid-run (SIGTERM) loses no message that got
 *   250, and every session that starts after it is gone gets 250 from
 *   the other one;
 * - the balancer's health checks end cleanly in the backends' logs.
 * Skipped (counted as skipped) when haproxy is missing or cannot start.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/check_run.h"
#include "tests/daemon_util.h"

#define HAPROXY "/usr/sbin/haproxy"
#define CONTRIB TESTS_SRCDIR "/../contrib/haproxy/psmtpd.cfg"
#define MAX_MSGS 400

struct backend {
	struct pd d;
	int proxy_port;
	char maildir[300];
	size_t log_from;	/* its log before the balancer came */
};

struct rig {
	struct backend b[2];
	pid_t haproxy;
	int port;		/* the balancer's frontend */
	char dir[256], log[300];
};

static int dial_from(const char *src, int port);

/* ---- the pieces ------------------------------------------------------ */

/* backend_start - psmtpd with a plain port (to see it is up), a
 * proxy_protocol port for the balancer, and a maildir. */
static void
backend_start(struct backend *b)
{
	char conf[512];
	const char *args[] = { "-P", "-L", "-C", conf, NULL };

	memset(b, 0, sizeof(*b));
	pd_prepare(&b->d);
	pd_path(&b->d, "psmtpd.conf", conf, sizeof(conf));
	pd_path(&b->d, "Maildir", b->maildir, sizeof(b->maildir));
	b->d.port = du_free_port("127.0.0.1");
	b->proxy_port = du_free_port("127.0.0.1");
	ck_assert_int_eq(du_write_config(conf,
	    "listen = ( \"127.0.0.1:%d\",\n"
	    "  { address = \"127.0.0.1:%d\"; proxy_protocol = true;\n"
	    "    proxy_trusted = [ \"127.0.0.1\" ]; } );\n"
	    "pool = { start = 4; min_spare = 2; max_spare = 6; "
	    "max_workers = 12; };\n"
	    "limits = { max_connections_per_client = 1; };\n"
	    "timeouts = { shutdown = 10; };\n"
	    "plugins = ( { name = \"maildir\"; settings = { dir = \"%s\"; }; "
	    "} );\n", b->d.port, b->proxy_port, b->maildir), 0);
	pd_start(&b->d, args);
}

/* replace - the first "from" in text (malloc'd, freed) becomes "to". */
static char *
replace(char *text, const char *from, const char *to)
{
	char *at = strstr(text, from);

	ck_assert_msg(at != NULL, "no \"%s\" in %s", from, CONTRIB);
	size_t head = (size_t)(at - text), tail = strlen(at + strlen(from));
	char *out = malloc(head + strlen(to) + tail + 1);
	ck_assert_ptr_nonnull(out);
	memcpy(out, text, head);
	memcpy(out + head, to, strlen(to));
	memcpy(out + head + strlen(to), at + strlen(from), tail + 1);
	free(text);
	return out;
}

/* haproxy_config - contrib's file from `defaults` on, on loopback. */
static void
haproxy_config(const struct rig *r, const char *path, bool v1)
{
	char *all = du_slurp(CONTRIB), *text, to[64];

	ck_assert_ptr_nonnull(all);
	ck_assert_ptr_nonnull(strstr(all, "\ndefaults"));
	text = strdup(strstr(all, "\ndefaults") + 1);
	free(all);
	ck_assert_ptr_nonnull(text);
	snprintf(to, sizeof(to), "bind 127.0.0.1:%d", r->port);
	text = replace(text, "bind :25", to);
	snprintf(to, sizeof(to), "127.0.0.1:%d", r->b[0].proxy_port);
	text = replace(text, "10.0.0.11:10025", to);
	snprintf(to, sizeof(to), "127.0.0.1:%d", r->b[1].proxy_port);
	text = replace(text, "10.0.0.12:10025", to);
	text = replace(text, "inter 2s", "inter 300ms");
	if (v1)
		text = replace(text, "send-proxy-v2", "send-proxy");
	ck_assert_int_eq(du_write_config(path, "global\n\tmaxconn 200\n\n%s",
	    text), 0);
	free(text);
}

/* rig_wait_up - a whole session through the balancer within 5 s (from
 * 127.0.0.254, so that the backends' logs show only the balancer's
 * health checks from 127.0.0.1); false when it does not come. */
static bool
rig_wait_up(const struct rig *r)
{
	char reply[512];

	for (int i = 0; i < 50; i++) {
		if (waitpid(r->haproxy, NULL, WNOHANG) != 0)
			return false;
		int fd = dial_from("127.0.0.254", r->port);
		bool up = fd != -1 &&
		    smtp_reply(fd, reply, sizeof(reply)) == 220 &&
		    smtp_cmd(fd, "QUIT", reply, sizeof(reply)) == 221;
		if (fd != -1)
			close(fd);
		if (up)
			return true;
		du_sleep_ms(100);
	}
	return false;
}

/* rig_start - two backends and the balancer; false (the why printed as
 * a skip) when haproxy is missing or cannot start. */
static bool
rig_start(struct rig *r, bool v1, char *why, size_t size)
{
	struct du_opts o = { .deathsig = SIGKILL };
	char cfg[300];

	memset(r, 0, sizeof(*r));
	r->haproxy = -1;
	if (access(HAPROXY, X_OK) != 0) {
		snprintf(why, size, "%s is not installed", HAPROXY);
		return false;
	}
	for (int i = 0; i < 2; i++) {
		backend_start(&r->b[i]);
		/* the end of the harness's probe, the one session so far */
		ck_assert(pd_log_has(&r->b[i].d, "disconnect id=", 5));
		char *log = du_slurp(r->b[i].d.log);
		r->b[i].log_from = log != NULL ? strlen(log) : 0;
		free(log);
	}
	snprintf(r->dir, sizeof(r->dir), "%s", r->b[0].d.dir);
	snprintf(cfg, sizeof(cfg), "%s/haproxy.cfg", r->dir);
	snprintf(r->log, sizeof(r->log), "%s/haproxy.log", r->dir);
	r->port = du_free_port("127.0.0.1");
	haproxy_config(r, cfg, v1);
	const char *argv[] = { HAPROXY, "-db", "-f", cfg, NULL };
	r->haproxy = du_spawn(argv, r->log, r->log, &o);
	if (r->haproxy > 0 && rig_wait_up(r))
		return true;
	char *log = du_slurp(r->log);
	snprintf(why, size, "haproxy did not start: %.300s",
	    log != NULL ? log : "");
	free(log);
	return false;
}

static void
rig_stop(struct rig *r)
{
	if (r->haproxy > 0)
		du_kill_wait(r->haproxy, 5000);
	for (int i = 0; i < 2; i++) {
		if (r->b[i].d.pid > 0)
			pd_stop(&r->b[i].d);
		pd_cleanup(&r->b[i].d);
	}
}

/* ---- a client -------------------------------------------------------- */

/* dial_from - a connection from source address src to 127.0.0.1:port. */
static int
dial_from(const char *src, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sockaddr_in to = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	struct timeval tv = { 15, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd == -1 || inet_pton(AF_INET, src, &a.sin_addr) != 1 ||
	    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) == -1) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* send_message - one session from src with a message whose Subject is
 * subject; pause_ms between commands keeps it in flight a while.  The
 * reply code to the final ".", or -1. */
static int
send_message(const char *src, int port, const char *subject, int pause_ms)
{
	char reply[1024], body[256];
	int fd = dial_from(src, port), code = -1;

	if (fd == -1)
		return -1;
	snprintf(body, sizeof(body), "Subject: %s\r\n\r\nfrom %s\r\n",
	    subject, src);
	if (smtp_reply(fd, reply, sizeof(reply)) == 220 &&
	    smtp_cmd(fd, "HELO client.example", reply, sizeof(reply)) == 250) {
		du_sleep_ms(pause_ms);
		code = smtp_message(fd, body);
		du_sleep_ms(pause_ms);
		if (code == 250)
			smtp_cmd(fd, "QUIT", reply, sizeof(reply));
	}
	close(fd);
	return code;
}

/* ---- what was delivered ---------------------------------------------- */

struct delivered {
	char subject[64], peer[64];
	int backend;
};

/* header - the value of a header line ("Subject: ") of a file, or "". */
static void
header(const char *text, const char *name, char *out, size_t size)
{
	const char *at = strstr(text, name);
	size_t n = 0;

	if (at != NULL)
		for (at += strlen(name); at[n] != '\0' && at[n] != '\n' &&
		    n + 1 < size; n++)
			out[n] = at[n];
	out[n] = '\0';
}

/* delivered_read - every message in both maildirs; their number. */
static size_t
delivered_read(const struct rig *r, struct delivered *d, size_t max)
{
	size_t n = 0;
	char path[700];

	for (int b = 0; b < 2; b++) {
		snprintf(path, sizeof(path), "%s/new", r->b[b].maildir);
		DIR *dir = opendir(path);
		struct dirent *e;
		while (dir != NULL && (e = readdir(dir)) != NULL && n < max) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/new/%s",
			    r->b[b].maildir, e->d_name);
			char *text = du_slurp(path);
			ck_assert_ptr_nonnull(text);
			header(text, "\nSubject: ", d[n].subject,
			    sizeof(d[n].subject));
			header(text, "\nX-Peer: ", d[n].peer,
			    sizeof(d[n].peer));
			d[n++].backend = b;
			free(text);
		}
		if (dir != NULL)
			closedir(dir);
	}
	return n;
}

/* count_subject - how many delivered messages have this Subject. */
static int
count_subject(const struct delivered *d, size_t n, const char *subject,
    const char *peer)
{
	int c = 0;

	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].subject, subject) == 0) {
			ck_assert_msg(strcmp(d[i].peer, peer) == 0,
			    "%s: X-Peer %s, sent from %s", subject,
			    d[i].peer, peer);
			c++;
		}
	return c;
}

/* ---- the checks ------------------------------------------------------- */

/* spread - 24 sessions from 8 addresses: each delivered once, with its
 * own address as X-Peer, and both backends took some. */
static void
spread(struct rig *r)
{
	static struct delivered d[MAX_MSGS];
	char src[32], subject[64];
	int per[2] = { 0, 0 };

	for (int i = 0; i < 24; i++) {
		snprintf(src, sizeof(src), "127.0.0.%d", 2 + i % 8);
		snprintf(subject, sizeof(subject), "spread-%d", i);
		ck_assert_int_eq(send_message(src, r->port, subject, 0), 250);
	}
	size_t n = delivered_read(r, d, MAX_MSGS);
	ck_assert_uint_eq(n, 24);
	for (int i = 0; i < 24; i++) {
		snprintf(src, sizeof(src), "127.0.0.%d", 2 + i % 8);
		snprintf(subject, sizeof(subject), "spread-%d", i);
		ck_assert_int_eq(count_subject(d, n, subject, src), 1);
	}
	for (size_t i = 0; i < n; i++)
		per[d[i].backend]++;
	ck_assert_msg(per[0] > 0 && per[1] > 0, "backends took %d and %d",
	    per[0], per[1]);
}

/* per_client - three sessions of 127.0.0.10 over two backends with a
 * limit of one each: one is refused; 127.0.0.11 is still served. */
static void
per_client(struct rig *r)
{
	char reply[512];
	int fd[3], refused = 0;

	for (int i = 0; i < 3; i++) {
		fd[i] = dial_from("127.0.0.10", r->port);
		ck_assert_int_ge(fd[i], 0);
		int code = smtp_reply(fd[i], reply, sizeof(reply));
		ck_assert_msg(code == 220 || code == 421, "%d %s", code,
		    reply);
		refused += code == 421;
	}
	ck_assert_int_ge(refused, 1);
	ck_assert_int_eq(send_message("127.0.0.11", r->port, "other", 0),
	    250);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
	ck_assert(pd_log_has(&r->b[0].d, "refused client=127.0.0.10:", 0) ||
	    pd_log_has(&r->b[1].d, "refused client=127.0.0.10:", 0));
}

/* client_run - a client process: sessions from 127.0.0.<base+i%8> until
 * end_ms, each line "subject src code started_ms" in the file. */
static void
client_run(const char *file, int port, int base, long long end_ms)
{
	FILE *f = fopen(file, "w");
	char src[32], subject[64];

	if (f == NULL)
		_exit(2);
	for (int i = 0; du_now_ms() < end_ms && i < 100; i++) {
		snprintf(src, sizeof(src), "127.0.0.%d", base + i % 8);
		snprintf(subject, sizeof(subject), "run-%d-%d", base, i);
		long long t0 = du_now_ms();
		int code = send_message(src, port, subject, 40);
		fprintf(f, "%s %s %d %lld\n", subject, src, code, t0);
		fflush(f);
	}
	fclose(f);
	_exit(0);
}

/* stop_midrun - three clients run while backend 0 stops: nothing that got
 * 250 is lost or doubled, and what starts after it has gone gets 250. */
static void
stop_midrun(struct rig *r)
{
	static struct delivered d[MAX_MSGS];
	char file[3][320], line[256], subject[64], src[32];
	pid_t kid[3];
	long long end = du_now_ms() + 4000, gone;

	for (int k = 0; k < 3; k++) {
		snprintf(file[k], sizeof(file[k]), "%s/client%d", r->dir, k);
		if ((kid[k] = fork()) == 0)
			client_run(file[k], r->port, 20 + 10 * k, end);
		ck_assert_int_gt(kid[k], 0);
	}
	du_sleep_ms(1200);
	ck_assert_int_ne(pd_stop(&r->b[0].d), -1);	/* exited by itself */
	gone = du_now_ms();
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(du_wait_pid(kid[k], 30000), 0);
	size_t n = delivered_read(r, d, MAX_MSGS);
	int ok = 0, after = 0;
	for (int k = 0; k < 3; k++) {
		FILE *f = fopen(file[k], "r");
		ck_assert_ptr_nonnull(f);
		while (fgets(line, sizeof(line), f) != NULL) {
			int code;
			long long t0;
			ck_assert_int_eq(sscanf(line, "%63s %31s %d %lld",
			    subject, src, &code, &t0), 4);
			int copies = count_subject(d, n, subject, src);
			if (code == 250) {
				ck_assert_msg(copies == 1, "%s got 250, "
				    "delivered %d times", subject, copies);
				ok++;
			}
			if (t0 > gone) {
				ck_assert_msg(code == 250, "%s started after "
				    "the stop: %d", subject, code);
				after++;
			}
		}
		fclose(f);
	}
	printf("stop mid-run: %d sessions got 250, %zu messages on disk, %d "
	    "sessions began after the stop\n", ok, n, after);
	ck_assert_int_ge(ok, 10);
	ck_assert_int_ge(after, 3);
}

/* health_clean - the sessions from 127.0.0.1 that began after the
 * balancer came (its health checks) all ended with QUIT, and nothing was
 * refused.  (Before it, the harness saw the backend up by reading its 220
 * and closing.) */
static void
health_clean(const struct backend *b)
{
	char *all = du_slurp(b->d.log), *log;
	int checks = 0;

	ck_assert_ptr_nonnull(all);
	ck_assert(strlen(all) >= b->log_from);
	log = all + b->log_from;
	ck_assert_msg(strstr(log, "proxy refused") == NULL, "%s", log);
	for (char *p = log; (p = strstr(p, "disconnect id=")) != NULL; p++) {
		char *nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		char conn[64];
		snprintf(conn, sizeof(conn), "connect id=%.*s ",
		    (int)strcspn(p + 14, " "), p + 14);
		if (strstr(p, " client=127.0.0.1 ") != NULL &&
		    strstr(log, conn) != NULL) {
			ck_assert_msg(strstr(p, "errors=0 reason=quit") != NULL,
			    "a health check ended badly: %s", p);
			checks++;
		}
		if (nl != NULL)
			*nl = '\n';
	}
	ck_assert_msg(checks > 0, "no health check in %s", b->d.log);
	free(all);
}

static void
run(bool v1)
{
	struct rig r;
	char why[512];

	if (!rig_start(&r, v1, why, sizeof(why))) {
		rig_stop(&r);
		CHECK_SKIP("%s", why);
	}
	spread(&r);
	per_client(&r);
	du_sleep_ms(700);	/* a few health checks */
	health_clean(&r.b[0]);
	health_clean(&r.b[1]);
	stop_midrun(&r);
	health_clean(&r.b[1]);
	rig_stop(&r);
}

START_TEST(test_send_proxy_v2)
{
	run(false);
}
END_TEST

START_TEST(test_send_proxy_v1)
{
	run(true);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("haproxy");
	TCase *tc = tcase_create("haproxy");

	signal(SIGPIPE, SIG_IGN);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_send_proxy_v2);
	tcase_add_test(tc, test_send_proxy_v1);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
