/*
 * check_relay_lmtp.c - the lmtp plugin in the real daemon against a real
 * Dovecot (dovecot-core + dovecot-lmtpd), started here in the foreground
 * with its own base_dir, a config and a passwd-file user database in a
 * temporary directory, Maildir storage below it, LMTP on a loopback port
 * and on a UNIX socket; stopped by its PID.  Skipped, with the reason,
 * when Dovecot cannot start here.  One user has a full mailbox, so that
 * Dovecot refuses her after the data.
 */
#include "autoconfig.h"

#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "tests/check_run.h"
#include "tests/daemon_util.h"
#include "tests/delivery_testutil.h"
#include "tests/relay_util.h"

#define DOVECOT "/usr/sbin/dovecot"

/* The message as sent (CRLF, dot-stuffed) and as a Maildir file keeps it
 * (LF, unstuffed), after Dovecot's Return-Path and Received. */
#define LM_WIRE "Subject: dovecot\r\nX-Test: 1\r\n\r\nline one\r\n" \
	"..leading dot\r\n\r\n\tend\r\n"
#define LM_FILE "Subject: dovecot\nX-Test: 1\n\nline one\n.leading dot\n" \
	"\n\tend\n"

struct dv {
	pid_t pid;
	int port;
	char dir[512];
	char socket[600];	/* the LMTP UNIX socket */
	char why[600];		/* why it did not start */
};

/* dv_users - the uid and the service users: as root, nobody's uid for
 * the mailboxes (Dovecot refuses uid 0) and Dovecot's own users; else
 * ourselves for everything. */
static int
dv_users(char *user, size_t size, char *login, size_t lsize, uid_t *uid)
{
	if (geteuid() != 0) {
		struct passwd *pw = getpwuid(geteuid());
		if (pw == NULL)
			return -1;
		snprintf(user, size, "%s", pw->pw_name);
		snprintf(login, lsize, "%s", pw->pw_name);
		*uid = geteuid();
		return 0;
	}
	struct passwd *pw = getpwnam("nobody");
	if (getpwnam("dovecot") == NULL || getpwnam("dovenull") == NULL ||
	    pw == NULL)
		return -1;
	snprintf(user, size, "dovecot");
	snprintf(login, lsize, "dovenull");
	*uid = pw->pw_uid;
	return 0;
}

/* dv_write_config - dovecot.conf and the passwd-file of alice and bob. */
static int
dv_write_config(struct dv *d)
{
	char path[700], user[64], login[64];
	uid_t uid;

	if (dv_users(user, sizeof(user), login, sizeof(login), &uid) != 0) {
		snprintf(d->why, sizeof(d->why), "no user for Dovecot's "
		    "services (dovecot, dovenull, nobody)");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/passwd", d->dir);
	/* carol's mailbox is full: Dovecot refuses her after the data */
	if (du_write_config(path, "alice:{PLAIN}x:%u:%u::%s/mail/alice::\n"
	    "bob:{PLAIN}x:%u:%u::%s/mail/bob::\ncarol:{PLAIN}x:%u:%u::"
	    "%s/mail/carol::userdb_quota_rule=*:storage=10B\n", (unsigned)uid,
	    (unsigned)uid, d->dir, (unsigned)uid, (unsigned)uid, d->dir,
	    (unsigned)uid, (unsigned)uid, d->dir) != 0)
		return -1;
	snprintf(d->socket, sizeof(d->socket), "%s/run/lmtp", d->dir);
	snprintf(path, sizeof(path), "%s/dovecot.conf", d->dir);
	return du_write_config(path, "base_dir = %s/run\nstate_dir = "
	    "%s/state\nlog_path = %s/dovecot.log\nprotocols = lmtp\nlisten = "
	    "127.0.0.1\nssl = no\ndefault_internal_user = %s\n"
	    "default_internal_group = %s\ndefault_login_user = %s\n"
	    "mail_location = maildir:~/Maildir\nfirst_valid_uid = 1\n"
	    "mail_plugins = quota\nplugin {\n quota = maildir:User quota\n}\n"
	    "passdb {\n driver = passwd-file\n args = %s/passwd\n}\n"
	    "userdb {\n driver = passwd-file\n args = %s/passwd\n}\n"
	    "service lmtp {\n inet_listener lmtp {\n  address = 127.0.0.1\n"
	    "  port = %d\n }\n unix_listener lmtp {\n  mode = 0666\n }\n}\n"
	    "service anvil {\n chroot =\n}\n", d->dir, d->dir, d->dir, user,
	    user, login, d->dir, d->dir, d->port);
}

/* dv_start - Dovecot in the foreground; 0 once it takes LMTP
 * connections on its port and socket, else -1 with the reason. */
static int
dv_start(struct dv *d)
{
	char conf[700], out[700], mail[700];
	const char *argv[] = { DOVECOT, "-F", "-c", conf, NULL };

	if (access(DOVECOT, X_OK) != 0) {
		snprintf(d->why, sizeof(d->why), DOVECOT " is not installed "
		    "(apt-get install dovecot-core dovecot-lmtpd)");
		return -1;
	}
	if (d->port == 0)
		d->port = du_free_port("127.0.0.1");
	snprintf(mail, sizeof(mail), "%s/mail", d->dir);
	mkdir(mail, 0777);
	chmod(mail, 0777);	/* the mailboxes' user writes below */
	chmod(d->dir, 0755);
	if (dv_write_config(d) != 0)
		return -1;
	snprintf(conf, sizeof(conf), "%s/dovecot.conf", d->dir);
	snprintf(out, sizeof(out), "%s/dovecot.out", d->dir);
	d->pid = du_spawn(argv, out, out, NULL);
	for (int i = 0; d->pid > 0 && i < 200; i++) {
		int fd = du_dial("127.0.0.1", d->port);
		if (fd >= 0) {
			close(fd);
			if (access(d->socket, F_OK) == 0)
				return 0;
		}
		if (du_wait_pid(d->pid, 50) != -1)
			break;
	}
	char *text = du_slurp(out);
	snprintf(d->why, sizeof(d->why), "dovecot did not start: %.400s",
	    text != NULL ? text : "(no output)");
	free(text);
	if (d->pid > 0)
		du_kill_wait(d->pid, 2000);
	d->pid = -1;
	return -1;
}

/* dv_stop - SIGTERM to the master we started (it stops its children). */
static void
dv_stop(struct dv *d)
{
	if (d->pid > 0)
		du_kill_wait(d->pid, 5000);
	d->pid = -1;
}

/* lm_start - psmtpd with the lmtp plugin toward address. */
static void
lm_start(struct du_daemon *px, const char *dir, const char *address)
{
	char conf[700];
	const char *args[] = { "-n", "-C", conf, NULL };

	snprintf(conf, sizeof(conf), "%s/px.conf", dir);
	ck_assert_int_eq(du_write_config(conf, "plugins = ( { name = "
	    "\"lmtp\"; settings = { address = \"%s\"; connect_timeout = 2; "
	    "reply_timeout = 5; }; } );\npool = { start = 1; min_spare = 1; "
	    "max_spare = 4; max_workers = 4; };\n", address), 0);
	ck_assert_int_eq(du_start(px, "127.0.0.1", args), 0);
}

/* lm_mailbox - the messages in user's Maildir/new: their number, and the
 * only one's content when there is one (malloc'd). */
static int
lm_mailbox(const struct dv *d, const char *user, char **content)
{
	char newdir[700], name[512], path[1300];

	snprintf(newdir, sizeof(newdir), "%s/mail/%s/Maildir/new", d->dir,
	    user);
	int n = access(newdir, F_OK) == 0 ? tu_count_dir(newdir) : 0;
	*content = NULL;
	if (n == 1 && tu_dir_entry(newdir, 0, name, sizeof(name)) == 0) {
		snprintf(path, sizeof(path), "%s/%s", newdir, name);
		*content = tu_read_file(path, NULL);
	}
	return n;
}

/* lm_check_file - the message byte for byte after Dovecot's own
 * Return-Path, Delivered-To (one recipient) and Received (with its
 * continuation lines). */
static void
lm_check_file(const char *got)
{
	static const char *const added[] = { "Return-Path: <a@example.org>\n",
	    "Delivered-To: ", "Received: ", NULL };
	const char *p = got;

	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strncmp(got, added[0], strlen(added[0])) == 0, "file: "
	    "%s", got);
	for (int i = 0; added[i] != NULL && p != NULL; i++) {
		if (strncmp(p, added[i], strlen(added[i])) != 0)
			continue;
		p = strchr(p, '\n');
		while (p != NULL && p[1] == '\t')
			p = strchr(p + 1, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	ck_assert_msg(p != NULL && strcmp(p, LM_FILE) == 0, "file: %s", got);
}

#define LM_SKIP_UNLESS_DOVECOT(d) do { \
	if (dv_start(d) != 0) { \
		tu_rmtree((d)->dir); \
		CHECK_SKIP("%s", (d)->why); \
	} \
} while (0)

/* Two users, over TCP and over the UNIX socket: both mailboxes have the
 * message, byte for byte. */
START_TEST(test_two_users)
{
	struct dv d = { .pid = -1 };
	struct du_daemon px;
	char addr[700], *got;
	const char *rcpts[] = { "alice", "bob", NULL };
	int codes[5] = { 0 };
	long long ms;

	tu_tempdir(d.dir, sizeof(d.dir), "rlmtp");
	LM_SKIP_UNLESS_DOVECOT(&d);
	if (_i == 0)
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", d.port);
	else
		snprintf(addr, sizeof(addr), "unix:%s", d.socket);
	lm_start(&px, d.dir, addr);
	ck_assert_int_eq(ru_transcript(&px, rcpts, LM_WIRE, codes, 5, &ms,
	    NULL), 5);
	du_stop(&px);
	dv_stop(&d);
	ck_assert_int_eq(codes[0], 250);
	ck_assert_int_eq(codes[1], 250);
	ck_assert_int_eq(codes[2], 250);
	ck_assert_int_eq(codes[4], 250);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(lm_mailbox(&d, rcpts[i], &got), 1);
		lm_check_file(got);
		free(got);
	}
	tu_rmtree(d.dir);
}
END_TEST

/* An unknown user gets Dovecot's 550 at RCPT time; the known one gets
 * the message. */
START_TEST(test_unknown_user)
{
	struct dv d = { .pid = -1 };
	struct du_daemon px;
	char addr[64], *got, *replies = NULL;
	const char *rcpts[] = { "nosuchuser", "alice", NULL };
	int codes[5] = { 0 };
	long long ms;

	tu_tempdir(d.dir, sizeof(d.dir), "rlmtp");
	LM_SKIP_UNLESS_DOVECOT(&d);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", d.port);
	lm_start(&px, d.dir, addr);
	ru_transcript(&px, rcpts, LM_WIRE, codes, 5, &ms, &replies);
	du_stop(&px);
	dv_stop(&d);
	ck_assert_int_eq(codes[1], 550);
	ck_assert_msg(strstr(replies, "550 5.1.1 <nosuchuser> User doesn't "
	    "exist") != NULL, "replies: %s", replies);
	ck_assert_int_eq(codes[2], 250);
	ck_assert_int_eq(codes[4], 250);
	ck_assert_int_eq(lm_mailbox(&d, "alice", &got), 1);
	lm_check_file(got);
	free(got);
	free(replies);
	tu_rmtree(d.dir);
}
END_TEST

/* lm_expect - one command and the code its reply must have. */
static void
lm_expect(int fd, const char *line, int code)
{
	char reply[1024];

	ck_assert_msg(smtp_cmd(fd, line, reply, sizeof(reply)) == code,
	    "%s: %s", line != NULL ? line : "(data)", reply);
}

/* Dovecot stopped in the middle of a transaction: the data gets a 451
 * (the client keeps the message), the next MAIL a 451 while it is down,
 * and once it is back the message is delivered once. */
START_TEST(test_dovecot_stopped)
{
	struct dv d = { .pid = -1 };
	struct du_daemon px;
	char addr[64], greet[512], *got;

	tu_tempdir(d.dir, sizeof(d.dir), "rlmtp");
	LM_SKIP_UNLESS_DOVECOT(&d);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", d.port);
	lm_start(&px, d.dir, addr);
	int fd = smtp_open(px.port, greet, sizeof(greet));
	ck_assert_int_ge(fd, 0);
	lm_expect(fd, "EHLO client.test", 250);
	lm_expect(fd, "MAIL FROM:<a@example.org>", 250);
	lm_expect(fd, "RCPT TO:<alice>", 250);
	dv_stop(&d);
	lm_expect(fd, "DATA", 354);
	long long t0 = du_now_ms();
	ck_assert_int_eq(smtp_send(fd, LM_WIRE), 0);
	lm_expect(fd, ".", 451);
	ck_assert_int_lt(du_now_ms() - t0, 6000);
	lm_expect(fd, "MAIL FROM:<a@example.org>", 451);
	ck_assert_int_eq(lm_mailbox(&d, "alice", &got), 0);
	ck_assert_int_eq(dv_start(&d), 0);
	lm_expect(fd, "MAIL FROM:<a@example.org>", 250);
	lm_expect(fd, "RCPT TO:<alice>", 250);
	lm_expect(fd, "DATA", 354);
	ck_assert_int_eq(smtp_send(fd, LM_WIRE), 0);
	lm_expect(fd, ".", 250);
	lm_expect(fd, "QUIT", 221);
	close(fd);
	du_stop(&px);
	dv_stop(&d);
	ck_assert_int_eq(lm_mailbox(&d, "alice", &got), 1);
	lm_check_file(got);
	free(got);
	ck_assert(du_file_has(px.err, "lmtp not relayed step=DATA", 100));
	tu_rmtree(d.dir);
}
END_TEST

/* lm_start_lmtp - psmtpd with an LMTP listener (protocol = "lmtp") in
 * front of the lmtp plugin toward address. */
static void
lm_start_lmtp(struct du_daemon *px, const char *dir, const char *address)
{
	char conf[700];
	const char *argv[] = { TESTS_BUILDDIR "/psmtpd", "-n", "-C", conf,
	    NULL };

	memset(px, 0, sizeof(*px));
	px->port = du_free_port("127.0.0.1");
	snprintf(px->host, sizeof(px->host), "127.0.0.1");
	snprintf(px->out, sizeof(px->out), "%.200s/px.out", dir);
	snprintf(px->err, sizeof(px->err), "%.200s/px.err", dir);
	snprintf(conf, sizeof(conf), "%s/px.conf", dir);
	ck_assert_int_eq(du_write_config(conf, "listen = ( { address = "
	    "\"127.0.0.1:%d\"; protocol = \"lmtp\"; } );\nplugins = ( { name = "
	    "\"lmtp\"; settings = { address = \"%s\"; reply_timeout = 5; }; } "
	    ");\npool = { start = 1; min_spare = 1; max_spare = 4; "
	    "max_workers = 4; };\n", px->port, address), 0);
	px->pid = du_spawn(argv, px->out, px->err, NULL);
	ck_assert_int_gt(px->pid, 0);
	ck_assert_int_eq(du_wait_up(px->pid, "127.0.0.1", px->port, 10000,
	    NULL), 0);
}

/* A recipient that Dovecot refuses after the data (carol is over quota)
 * while alice gets the message: on an LMTP listener each gets her own
 * reply; on an SMTP listener the one reply is not 250 (API 2's fold:
 * the 5xx), so no copy is reported delivered that was not. */
START_TEST(test_verdict_after_data)
{
	struct dv d = { .pid = -1 };
	struct du_daemon px;
	struct su_buf in = { 0 };
	char addr[64], *got;
	const char *rcpts[] = { "alice", "carol", NULL };
	int codes[12] = { 0 };
	long long ms;

	tu_tempdir(d.dir, sizeof(d.dir), "rlmtp");
	LM_SKIP_UNLESS_DOVECOT(&d);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", d.port);
	if (_i == 0) {
		lm_start(&px, d.dir, addr);
		ck_assert_int_eq(ru_transcript(&px, rcpts, LM_WIRE, codes, 6,
		    &ms, NULL), 6);
		ck_assert_int_eq(codes[4], 552);
	} else {
		lm_start_lmtp(&px, d.dir, addr);
		ck_assert_int_eq(du_session(&px, "LHLO client.test\r\nMAIL FROM:"
		    "<a@example.org>\r\nRCPT TO:<alice>\r\nRCPT TO:<carol>\r\n"
		    "DATA\r\n" LM_WIRE ".\r\nQUIT\r\n", &in), 0);
		su_buf_put(&in, "", 0);
		ck_assert_int_eq(ru_codes(in.p, codes, 12), 9);
		ck_assert_msg(codes[6] == 250 && codes[7] == 552 &&
		    strstr(in.p, "552 5.2.2 <carol> Quota exceeded") != NULL,
		    "replies: %s", in.p);
		free(in.p);
	}
	du_stop(&px);
	dv_stop(&d);
	ck_assert_int_eq(lm_mailbox(&d, "alice", &got), 1);
	lm_check_file(got);
	free(got);
	ck_assert_int_eq(lm_mailbox(&d, "carol", &got), 0);
	ck_assert(du_file_has(px.err, "lmtp not delivered rcpt=<carol>", 100));
	tu_rmtree(d.dir);
}
END_TEST

static Suite *
relay_lmtp_suite(void)
{
	Suite *s = suite_create("relay_lmtp");
	TCase *tc = tcase_create("dovecot");

	tcase_set_timeout(tc, 90);
	tcase_add_loop_test(tc, test_two_users, 0, 2);
	tcase_add_test(tc, test_unknown_user);
	tcase_add_test(tc, test_dovecot_stopped);
	tcase_add_loop_test(tc, test_verdict_after_data, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(relay_lmtp_suite());
}
