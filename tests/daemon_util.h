/*
 * daemon_util.h - start the built psmtpd on a free loopback port, talk to
 * it, stop it by PID.  Every wait is bounded.
 */
#ifndef PSMTPD_TESTS_DAEMON_UTIL_H
#define PSMTPD_TESTS_DAEMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tests/session_util.h"

struct du_daemon {
	pid_t pid;
	int port;
	char host[64];		/* "127.0.0.1" or "::1" */
	char out[256];		/* its stdout, a temp file */
	char err[256];		/* its stderr */
};

/* What du_start_with sets up in the daemon's process before exec. */
struct du_opts {
	long long fsize_limit;	/* RLIMIT_FSIZE in bytes (0: unchanged);
				 * SIGXFSZ is then ignored, so a write past
				 * it fails with EFBIG, as on a full disk */
};

/* A port that was free a moment ago on host. */
int du_free_port(const char *host);
/* Start psmtpd with args (NULL-terminated, without the program name and
 * without localaddr, which is added as [host]:port); wait until it accepts.
 * 0, or -1 (its stderr is printed). */
int du_start(struct du_daemon *d, const char *host, const char *const *args);
int du_start_with(struct du_daemon *d, const char *host,
    const char *const *args, const struct du_opts *opts);
/* SIGTERM, wait up to 10 s, then SIGKILL.  The exit status. */
int du_stop(struct du_daemon *d);
/* Connect to the daemon; -1 on failure. */
int du_connect(const struct du_daemon *d);
/* Send a whole session and read every reply until the server closes. */
int du_session(const struct du_daemon *d, const char *payload,
    struct su_buf *replies);
/* Run psmtpd with args and collect stdout+stderr; the exit status. */
int du_run(const char *const *args, struct su_buf *output);
/* The file's contents (NUL-terminated), or NULL. */
char *du_slurp(const char *path);

#endif
