/*
 * relay_util.c - helpers of the relay tests.  See relay_util.h.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/delivery_testutil.h"
#include "tests/relay_util.h"

#define RU_PYTHON "/usr/bin/python3"
#define RU_SMTP_SINK "/usr/sbin/smtp-sink"

int
ru_codes(const char *in, int *codes, int max)
{
	int n = 0;

	for (const char *p = in; *p != '\0' && n < max;) {
		const char *eol = strstr(p, "\r\n");
		if (eol == NULL)
			break;
		if (eol - p >= 3 && (eol - p == 3 || p[3] == ' '))
			codes[n++] = atoi(p);
		p = eol + 2;
	}
	return n;
}

/* ru_payload - the pipelined client side of ru_transcript. */
static void
ru_payload(struct su_buf *out, const char *const *rcpts, const char *body)
{
	su_buf_puts(out, "EHLO client.test\r\nMAIL FROM:<a@example.org>\r\n");
	for (int i = 0; rcpts[i] != NULL; i++) {
		su_buf_puts(out, "RCPT TO:<");
		su_buf_puts(out, rcpts[i]);
		su_buf_puts(out, ">\r\n");
	}
	su_buf_puts(out, "DATA\r\n");
	su_buf_puts(out, body);
	su_buf_puts(out, ".\r\nQUIT\r\n");
	su_buf_put(out, "", 0);
}

int
ru_transcript(const struct du_daemon *d, const char *const *rcpts,
    const char *body, int *codes, int max, long long *ms, char **replies)
{
	struct su_buf out = { 0 }, in = { 0 };
	int all[64], n = 0;

	ru_payload(&out, rcpts, body);
	long long t0 = du_now_ms();
	if (du_session(d, out.p, &in) == 0) {
		su_buf_put(&in, "", 0);
		n = ru_codes(in.p, all, 64) - 2;
		for (int i = 0; i < n && i < max; i++)
			codes[i] = all[i + 2];
	}
	*ms = du_now_ms() - t0;
	free(out.p);
	if (replies != NULL)
		*replies = in.p != NULL ? in.p : strdup("");
	else
		free(in.p);
	return n < max ? n : max;
}

int
ru_make_cert(const char *dir)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey rsa:2048 "
	    "-nodes -days 2 -subj /CN=localhost -addext "
	    "subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout %s/key.pem "
	    "-out %s/cert.pem >/dev/null 2>&1", dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

pid_t
ru_upstream_start(const char *dir, const char *const *opts, int *port)
{
	char portfile[600], capture[600], script[600];
	const char *argv[32];
	int n = 0;

	if (access(RU_PYTHON, X_OK) != 0)
		return -1;
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	snprintf(capture, sizeof(capture), "%s/capture", dir);
	snprintf(script, sizeof(script), "%s/relay_upstream.py", TESTS_SRCDIR);
	argv[n++] = RU_PYTHON;
	argv[n++] = script;
	argv[n++] = "--port-file";
	argv[n++] = portfile;
	argv[n++] = "--capture";
	argv[n++] = capture;
	for (int i = 0; opts[i] != NULL && n < 31; i++)
		argv[n++] = opts[i];
	argv[n] = NULL;
	pid_t pid = du_spawn(argv, "/dev/null", "/dev/null", NULL);
	for (int i = 0; pid > 0 && i < 100; i++) {
		char *text = du_slurp(portfile);
		if (text != NULL) {
			*port = atoi(text);
			free(text);
			return pid;
		}
		du_sleep_ms(50);
	}
	if (pid > 0)
		du_kill_wait(pid, 1000);
	return -1;
}

pid_t
ru_sink_start(const char *dir, const char *const *opts, int *port)
{
	char spec[64], dump[700];
	const char *argv[24];
	int n = 0;

	if (access(RU_SMTP_SINK, X_OK) != 0)
		return -1;
	*port = du_free_port("127.0.0.1");
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", *port);
	snprintf(dump, sizeof(dump), "%s/dump.", dir);
	argv[n++] = RU_SMTP_SINK;
	argv[n++] = "-d";
	argv[n++] = dump;
	if (geteuid() == 0) {	/* it insists on dropping root */
		argv[n++] = "-u";
		argv[n++] = "nobody";
	}
	for (int i = 0; opts != NULL && opts[i] != NULL && n < 20; i++)
		argv[n++] = opts[i];
	argv[n++] = spec;
	argv[n++] = "64";
	argv[n] = NULL;
	pid_t pid = du_spawn(argv, "/dev/null", "/dev/null", NULL);
	/* until it listens: 5 s at most */
	for (int i = 0, fd; pid > 0 && i < 100; i++) {
		if ((fd = du_dial("127.0.0.1", *port)) >= 0) {
			close(fd);
			return pid;
		}
		du_sleep_ms(50);
	}
	if (pid > 0)
		du_kill_wait(pid, 1000);
	return -1;
}

char *
ru_sink_dump(const char *dir)
{
	char name[512], path[1200];

	for (int i = 0; tu_dir_entry(dir, i, name, sizeof(name)) == 0; i++)
		if (strncmp(name, "dump.", 5) == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			return tu_read_file(path, NULL);
		}
	return NULL;
}
