/*
 * hostile_util.h - the real daemon on loopback for the hostile-input and
 * load tests: start psmtpd on a free port with the maildir plugin (no
 * added headers, so each file is the message as received) and -o
 * settings, stop it by PID, talk SMTP to it with bounded waits, and read
 * what was delivered.
 */
#ifndef PSMTPD_TESTS_HOSTILE_UTIL_H
#define PSMTPD_TESTS_HOSTILE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct hu_daemon {
	pid_t pid;
	int port;
	char dir[128];		/* scratch dir: config, log, maildir */
	char maildir[192];
};

/* Start with "-o" values from opts (NULL-terminated, may be NULL); 0 when
 * it answers 220 on its port within a few seconds. */
int hu_start(struct hu_daemon *d, const char *const *opts);
/* SIGTERM, wait (bounded), SIGKILL if need be, remove the scratch dir.
 * Returns the daemon's wait status. */
int hu_stop(struct hu_daemon *d);
/* Wait at most timeout_ms for the daemon to exit by itself (after a
 * signal the test sent); its wait status, or -1 if it is still running.
 * hu_stop() then only removes the scratch dir. */
int hu_wait(struct hu_daemon *d, int timeout_ms);
/* The daemon's log so far (malloc'd), for failure messages. */
char *hu_log(const struct hu_daemon *d);

struct hu_conn {
	int fd;
	size_t len;
	char buf[16384];	/* received, not yet returned */
};

/* Connect to 127.0.0.1:port; 0 or -1. */
int hu_connect(struct hu_conn *c, int port);
void hu_close(struct hu_conn *c);
/* Send all of p, waiting at most timeout_ms in total; 0 or -1. */
int hu_send(struct hu_conn *c, const void *p, size_t n, int timeout_ms);
int hu_sendstr(struct hu_conn *c, const char *s);
/* One reply (every line of a multi-line one, joined by "\n", without the
 * CRLFs) into out; its code, or -1 on EOF, timeout or a malformed line. */
int hu_reply(struct hu_conn *c, char *out, size_t size, int timeout_ms);
/* The server closed the connection within timeout_ms (input before the
 * close is discarded). */
bool hu_closed(struct hu_conn *c, int timeout_ms);

/* Files in maildir/new: their count, and the content of each (malloc'd,
 * *lens beside) when contents is not NULL, up to max. */
size_t hu_delivered(const struct hu_daemon *d, char **contents,
    size_t *lens, size_t max);

/* Milliseconds on a monotonic clock. */
long long hu_now_ms(void);

#endif
