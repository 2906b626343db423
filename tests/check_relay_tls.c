/*
 * check_relay_tls.c - the proxy plugin relaying through a smarthost
 * (issue 12): STARTTLS required, opportunistic or off, the upstream's
 * certificate checked against a CA file and its name, AUTH PLAIN and
 * LOGIN with a password or a credentials file; every failure a 451 to
 * the client, and the password never in the log (even with -d).  The
 * upstream is tests/relay_upstream.py (Python's ssl), and psmtpd itself
 * with STARTTLS, require_auth and passwd_file; the certificate is made by
 * openssl for this run.
 */
#include "autoconfig.h"

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

#define RT_PASSWORD "s3cret-pw"

static const struct {
	const char *up[8];	/* relay_upstream.py options */
	const char *settings;	/* the proxy's; @ is the test's dir */
	int mail, data;		/* the client's replies */
	const char *capture[3];	/* what the upstream saw */
	const char *log;
} rt_cases[] = {
	/* 0: the smarthost use: TLS required and verified, AUTH PLAIN */
	{ { "--starttls", "--auth", "u:" RT_PASSWORD, NULL },
	    "starttls = \"require\"; ca_file = \"@/cert.pem\"; username = "
	    "\"u\"; password = \"" RT_PASSWORD "\";", 250, 250,
	    { "TLS TLSv1.", "AUTH PLAIN u ok", "MESSAGE Subject: tls|" },
	    "verified=yes" },
	/* 1: AUTH LOGIN when that is all the upstream offers */
	{ { "--starttls", "--auth", "u:" RT_PASSWORD, "--mechs", "LOGIN",
	    NULL }, "starttls = \"require\"; ca_file = \"@/cert.pem\"; "
	    "tls_name = \"localhost\"; username = \"u\"; password = \""
	    RT_PASSWORD "\";", 250, 250, { "AUTH LOGIN u ok", "MESSAGE " },
	    "proxy auth remote=" },
	/* 2: required, not offered */
	{ { NULL }, "starttls = \"require\"; ca_file = \"@/cert.pem\";", 451,
	    0, { "EHLO", NULL }, "does not offer STARTTLS" },
	/* 3: required, the certificate unknown to the system's CAs */
	{ { "--starttls", NULL }, "starttls = \"require\";", 451, 0,
	    { "TLS", NULL }, "certificate not verified" },
	/* 4: required, the certificate not for that name */
	{ { "--starttls", NULL }, "starttls = \"require\"; ca_file = "
	    "\"@/cert.pem\"; tls_name = \"mx.example.org\";", 451, 0,
	    { NULL }, "certificate not verified: hostname mismatch" },
	/* 5: opportunistic: TLS without the check when offered */
	{ { "--starttls", NULL }, "starttls = \"opportunistic\";", 250, 250,
	    { "TLS TLSv1.", "MESSAGE " }, "verified=no" },
	/* 6: opportunistic, not offered: plaintext */
	{ { NULL }, "starttls = \"opportunistic\";", 250, 250,
	    { "MESSAGE " }, "proxy relayed" },
	/* 7: the wrong password: 451 (ours to fix), the client keeps it */
	{ { "--starttls", "--auth", "u:other", NULL }, "starttls = "
	    "\"require\"; ca_file = \"@/cert.pem\"; username = \"u\"; "
	    "password = \"" RT_PASSWORD "\";", 451, 0, { "AUTH PLAIN u bad" },
	    "refused our AUTH error=\"user=u reply=535" },
	/* 8: a credentials file */
	{ { "--starttls", "--auth", "u:" RT_PASSWORD, NULL }, "starttls = "
	    "\"require\"; ca_file = \"@/cert.pem\"; credentials_file = "
	    "\"@/secret\";", 250, 250, { "AUTH PLAIN u ok" }, "verified=yes" },
	/* 9: off, as PureProxy: no STARTTLS even when offered */
	{ { "--starttls", NULL }, "", 250, 250, { "MESSAGE " },
	    "proxy relayed" },
};

/* rt_settings - the case's settings with @ replaced by dir. */
static void
rt_settings(char *out, size_t size, const char *tmpl, const char *dir)
{
	size_t n = 0;

	for (const char *p = tmpl; *p != '\0' && n + 1 < size; p++) {
		if (*p == '@')
			n += (size_t)snprintf(out + n, size - n, "%s", dir);
		else
			out[n++] = *p;
		if (n >= size)
			n = size - 1;
	}
	out[n] = '\0';
}

/* rt_start_proxy - psmtpd -d with the proxy toward port. */
static void
rt_start_proxy(struct du_daemon *px, const char *dir, int port, int i)
{
	char conf[700], set[1024];
	const char *args[] = { "-n", "-d", "-C", conf, NULL };

	rt_settings(set, sizeof(set), rt_cases[i].settings, dir);
	snprintf(conf, sizeof(conf), "%s/px.conf", dir);
	ck_assert_int_eq(du_write_config(conf, "plugins = ( { name = "
	    "\"proxy\"; settings = { remote = \"127.0.0.1:%d\"; "
	    "reply_timeout = 5; %s }; } );\npool = { start = 1; min_spare = "
	    "1; max_spare = 4; max_workers = 4; };\n", port, set), 0);
	ck_assert_int_eq(du_start(px, "127.0.0.1", args), 0);
}

/* rt_check_log - the outcome's line there, the password nowhere. */
static void
rt_check_log(const struct du_daemon *px, int i)
{
	ck_assert_msg(du_file_has(px->err, rt_cases[i].log, 2000),
	    "no \"%s\" in the log", rt_cases[i].log);
	char *log = du_slurp(px->err);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(strstr(log, RT_PASSWORD) == NULL &&
	    strstr(log, "czNjcmV0LXB3") == NULL, "password logged: %s", log);
	if (strstr(rt_cases[i].settings, "username") != NULL &&
	    rt_cases[i].mail == 250)
		ck_assert_msg(strstr(log, "proxy > AUTH PLAIN ****") != NULL ||
		    strstr(log, "proxy > ****") != NULL, "trace: %s", log);
	free(log);
}

START_TEST(test_smarthost)
{
	char dir[512], path[700];
	struct du_daemon px;
	const char *rcpts[] = { "b@example.org", NULL };
	int port, codes[4] = { 0 };
	long long ms;

	tu_tempdir(dir, sizeof(dir), "rtls");
	if (ru_make_cert(dir) != 0) {
		tu_rmtree(dir);
		CHECK_SKIP("openssl cannot make a certificate");
	}
	snprintf(path, sizeof(path), "%s/secret", dir);
	ck_assert_int_eq(du_write_config(path, "# smarthost\nu:%s\n",
	    RT_PASSWORD), 0);
	chmod(path, 0600);
	const char *up[12] = { "--cert", NULL, "--key", NULL };
	char cert[700], key[700];
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	up[1] = cert;
	up[3] = key;
	for (int k = 0; k < 7 && rt_cases[_i].up[k] != NULL; k++)
		up[4 + k] = rt_cases[_i].up[k];
	pid_t up_pid = ru_upstream_start(dir, up, &port);
	if (up_pid < 0) {
		tu_rmtree(dir);
		CHECK_SKIP("/usr/bin/python3 cannot run relay_upstream.py");
	}
	rt_start_proxy(&px, dir, port, _i);
	ru_transcript(&px, rcpts, "Subject: tls\r\n\r\nbody\r\n", codes, 4,
	    &ms, NULL);
	ck_assert_int_eq(codes[0], rt_cases[_i].mail);
	if (rt_cases[_i].data != 0)
		ck_assert_int_eq(codes[3], rt_cases[_i].data);
	rt_check_log(&px, _i);
	du_stop(&px);
	du_kill_wait(up_pid, 2000);
	snprintf(path, sizeof(path), "%s/capture", dir);
	char *cap = du_slurp(path);
	ck_assert_ptr_nonnull(cap);
	for (int k = 0; k < 3 && rt_cases[_i].capture[k] != NULL; k++)
		ck_assert_msg(strstr(cap, rt_cases[_i].capture[k]) != NULL,
		    "upstream saw: %s", cap);
	if (_i == 9 || _i == 6)
		ck_assert_msg(strstr(cap, "TLS") == NULL, "%s", cap);
	free(cap);
	unlink(px.out);
	unlink(px.err);
	tu_rmtree(dir);
}
END_TEST

/* ---- psmtpd itself as the smarthost ------------------------------------- */

/* rt_start_upstream - psmtpd on port with a STARTTLS listener that wants
 * TLS and AUTH (passwd_file with a SHA-512-crypt hash that openssl makes)
 * in front of a maildir; its pid, or -1. */
static pid_t
rt_start_upstream(const char *dir, int port)
{
	char conf[700], path[700], out[700], hash[256] = "";
	const char *argv[] = { TESTS_BUILDDIR "/psmtpd", "-n", "-C", conf,
	    NULL };
	FILE *p = popen("openssl passwd -6 '" RT_PASSWORD "'", "r");

	if (p == NULL || fgets(hash, sizeof(hash), p) == NULL) {
		if (p != NULL)
			pclose(p);
		return -1;
	}
	pclose(p);
	hash[strcspn(hash, "\n")] = '\0';
	snprintf(path, sizeof(path), "%s/passwd", dir);
	ck_assert_int_eq(du_write_config(path, "u:%s\n", hash), 0);
	snprintf(conf, sizeof(conf), "%s/up.conf", dir);
	ck_assert_int_eq(du_write_config(conf, "listen = ( { address = "
	    "\"127.0.0.1:%d\"; tls = \"starttls\"; require_tls = true; "
	    "require_auth = true; } );\ntls = { certificate = \"%s/cert.pem\"; "
	    "key = \"%s/key.pem\"; };\nplugins = ( { name = \"passwd_file\"; "
	    "settings = { file = \"%s\"; }; }, { name = \"maildir\"; settings "
	    "= { dir = \"%s/md\"; add_headers = false; }; } );\npool = { start "
	    "= 1; min_spare = 1; max_spare = 4; max_workers = 4; };\n", port,
	    dir, dir, path, dir), 0);
	snprintf(out, sizeof(out), "%s/up.log", dir);
	pid_t pid = du_spawn(argv, out, out, NULL);
	if (pid > 0 && du_wait_up(pid, "127.0.0.1", port, 10000, NULL) == 0)
		return pid;
	if (pid > 0)
		du_kill_wait(pid, 2000);
	return -1;
}

/* The smarthost use against psmtpd itself: STARTTLS required and
 * verified, AUTH PLAIN, the message in the upstream's maildir byte for
 * byte (with the proxy's X-Peer). */
START_TEST(test_psmtpd_upstream)
{
	char dir[512], md[600], name[256], path[900];
	struct du_daemon px;
	const char *rcpts[] = { "b@example.org", NULL };
	int codes[4] = { 0 };
	long long ms;

	tu_tempdir(dir, sizeof(dir), "rtls");
	if (ru_make_cert(dir) != 0) {
		tu_rmtree(dir);
		CHECK_SKIP("openssl cannot make a certificate");
	}
	int port = du_free_port("127.0.0.1");
	pid_t up = rt_start_upstream(dir, port);
	ck_assert_int_gt(up, 0);
	rt_start_proxy(&px, dir, port, 0);
	ru_transcript(&px, rcpts, "Subject: tls\r\n\r\nbody\r\n", codes, 4,
	    &ms, NULL);
	ck_assert_int_eq(codes[0], 250);
	ck_assert_int_eq(codes[3], 250);
	rt_check_log(&px, 0);
	du_stop(&px);
	du_kill_wait(up, 5000);
	snprintf(md, sizeof(md), "%s/md/new", dir);
	ck_assert_int_eq(tu_count_dir(md), 1);
	ck_assert_int_eq(tu_dir_entry(md, 0, name, sizeof(name)), 0);
	snprintf(path, sizeof(path), "%s/%s", md, name);
	char *got = tu_read_file(path, NULL);
	ck_assert_str_eq(got, "Subject: tls\nX-Peer: 127.0.0.1\n\nbody\n");
	free(got);
	unlink(px.out);
	unlink(px.err);
	tu_rmtree(dir);
}
END_TEST

/* Bad settings stop the start (-t) with the file and line. */
static const struct {
	const char *settings, *error;
} rt_bad_cases[] = {
	{ "starttls = \"yes\";", "setting 'starttls': starttls must be" },
	{ "ca_file = \"/x\";", "setting 'ca_file': needs starttls" },
	{ "starttls = \"require\"; ca_file = \"/nonexistent/ca.pem\";",
	    "setting 'ca_file': cannot load the CA file" },
	{ "username = \"u\";", "username and password go together" },
	{ "credentials_file = \"/nonexistent/secret\";",
	    "setting 'credentials_file': cannot read /nonexistent/secret" },
	{ "credentials_file = \"/dev/null\";", "want one line user:password" },
	{ "username = \"u\"; password = \"p\"; credentials_file = \"/x\";",
	    "set either username and password or credentials_file" },
};

START_TEST(test_bad_settings)
{
	char dir[512], conf[700];
	struct su_buf out = { 0 };
	const char *args[] = { "-n", "-t", "-C", conf, NULL };

	tu_tempdir(dir, sizeof(dir), "rtls");
	snprintf(conf, sizeof(conf), "%s/px.conf", dir);
	ck_assert_int_eq(du_write_config(conf, "plugins = (\n{ name = "
	    "\"proxy\"; settings = { %s }; } );\n", rt_bad_cases[_i].settings),
	    0);
	ck_assert_int_eq(du_run(args, &out), 1);
	ck_assert_msg(strstr(out.p, rt_bad_cases[_i].error) != NULL &&
	    strstr(out.p, "px.conf:2") != NULL, "output: %s", out.p);
	free(out.p);
	tu_rmtree(dir);
}
END_TEST

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static Suite *
relay_tls_suite(void)
{
	Suite *s = suite_create("relay_tls");
	TCase *tc = tcase_create("smarthost");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_smarthost, 0, NELEM(rt_cases));
	tcase_add_test(tc, test_psmtpd_upstream);
	tcase_add_loop_test(tc, test_bad_settings, 0, NELEM(rt_bad_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(relay_tls_suite());
}
