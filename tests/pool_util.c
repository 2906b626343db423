/*
 * pool_util.c - the process-side tests' shared steps (see pool_util.h).
 */
#include "autoconfig.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "tests/pool_util.h"

int
pu_session(int port)
{
	char buf[512];
	int fd = smtp_open(port, buf, sizeof(buf));
	int code = -1;

	if (fd == -1)
		return -1;
	if (smtp_cmd(fd, "HELO client.example", buf, sizeof(buf)) == 250)
		code = smtp_message(fd, PU_BODY);
	if (code == 250)
		smtp_cmd(fd, "QUIT", buf, sizeof(buf));
	close(fd);
	return code;
}

int
pu_ehlo(int port, char *greet, size_t size)
{
	char reply[1024];
	int fd = smtp_open(port, greet, size);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(smtp_cmd(fd, "EHLO client.example", reply,
	    sizeof(reply)), 250);
	return fd;
}

void
pu_quit(int fd)
{
	char reply[256];

	ck_assert_int_eq(smtp_cmd(fd, "QUIT", reply, sizeof(reply)), 221);
	close(fd);
}

int
pu_log_count(const struct pd *d, const char *text)
{
	FILE *f = fopen(d->log, "r");
	char line[2048];
	int n = 0;

	if (f == NULL)		/* a daemon just spawned may have none yet */
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, text) != NULL;
	fclose(f);
	return n;
}

void
pu_config(const struct pd *d, const char *text)
{
	char path[512];

	pd_path(d, "psmtpd.conf", path, sizeof(path));
	ck_assert_int_eq(du_write_config(path, "%s", text), 0);
}

void
pu_prepare_config(struct pd *d, char *conf, size_t size, const char *text)
{
	pd_prepare(d);
	pd_path(d, "psmtpd.conf", conf, size);
	pu_config(d, text);
}

void
pu_prepare_pidfile(struct pd *d, char *pidfile, size_t pidsize, char *opt,
    size_t optsize)
{
	/* Orphans of the double fork come to us, to be waited for. */
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	pd_prepare(d);
	pd_path(d, "psmtpd.pid", pidfile, pidsize);
	snprintf(opt, optsize, "pidfile=\"%s\"", pidfile);
}
