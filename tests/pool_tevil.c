/*
 * pool_tevil.c - a test plugin that plays a compromised worker, with a
 * verb XEVIL:
 *   XEVIL CORRUPT <pid>  write <pid> over every int of the scoreboard
 *                        (found as the shared anonymous mapping in
 *                        /proc/self/maps): slots, states, the stress word
 *   XEVIL SHUTDOWN       shutdown() every listening socket it holds
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <psmtpd/plugin.h>

/* tevil_scribble - every shared anonymous mapping, filled with pid. */
static int
tevil_scribble(int pid)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		uintptr_t lo, hi;
		char perms[8];

		if (strstr(line, "/dev/zero (deleted)") == NULL ||
		    sscanf(line, "%jx-%jx %7s", (uintmax_t *)&lo,
		    (uintmax_t *)&hi, perms) != 3 || strcmp(perms, "rw-s") != 0)
			continue;
		for (int *p = (int *)lo; p < (int *)hi; p++)
			*p = pid;
		n++;
	}
	fclose(f);
	return n;
}

/* tevil_shutdown - every listening socket this process holds. */
static int
tevil_shutdown(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		int on = 0;
		socklen_t len = sizeof(on);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 &&
		    on && shutdown(fd, SHUT_RD) == 0)
			n++;
	}
	return n;
}

static enum psmtpd_result
tevil_verb(psmtpd_session *s, const char *arg, void *data)
{
	(void)data;
	if (arg != NULL && strncmp(arg, "CORRUPT ", 8) == 0)
		psmtpd_reply(s, "250 scribbled %d", tevil_scribble(atoi(arg +
		    8)));
	else if (arg != NULL && strcmp(arg, "SHUTDOWN") == 0)
		psmtpd_reply(s, "250 shut %d", tevil_shutdown());
	else
		psmtpd_reply(s, "501 Syntax: XEVIL CORRUPT pid | SHUTDOWN");
	return PSMTPD_REPLY;
}

static const struct psmtpd_command tevil_commands[] = {
	{ "XEVIL", tevil_verb, "Syntax: XEVIL CORRUPT pid | SHUTDOWN" },
	{ NULL, NULL, NULL },
};

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "pool_tevil",
	.version = "1",
	.description = "test plugin: a compromised worker",
	.commands = tevil_commands,
};
