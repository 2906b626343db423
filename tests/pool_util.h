/*
 * pool_util.h - what the process-side tests (pool_daemon.c,
 * pool_defend.c) do again and again on top of the pd_* harness of
 * daemon_util.h: a whole session, a config file in the daemon's
 * directory, a pidfile for -D, lines of the log counted.  Failures are
 * check assertions.
 */
#ifndef PSMTPD_TESTS_POOL_UTIL_H
#define PSMTPD_TESTS_POOL_UTIL_H

#include <stddef.h>

#include "tests/daemon_util.h"

/* The message every session of these tests sends. */
#define PU_BODY "Subject: pool test\r\n\r\nhello\r\n"

/* A whole session with one message (HELO, the message, QUIT after a
 * 250); the message's final code, or -1 when no session was had. */
int pu_session(int port);
/* A connection past EHLO; the greeting in greet. */
int pu_ehlo(int port, char *greet, size_t size);
/* QUIT answered 221, and close. */
void pu_quit(int fd);
/* Lines of the daemon's log that contain text (0 while it has no log). */
int pu_log_count(const struct pd *d, const char *text);
/* A fresh directory for d (pd_prepare) with psmtpd.conf holding text;
 * its path in conf. */
void pu_prepare_config(struct pd *d, char *conf, size_t size,
    const char *text);
/* d's psmtpd.conf written (again) with text, whole. */
void pu_config(const struct pd *d, const char *text);
/* For a -D daemon: we become the subreaper of what it leaves, d gets a
 * fresh directory, pidfile its path and opt the "pidfile=..." setting. */
void pu_prepare_pidfile(struct pd *d, char *pidfile, size_t pidsize,
    char *opt, size_t optsize);

#endif
