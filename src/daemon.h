/*
 * daemon.h - going to the background (-D) and the pidfile.
 */
#ifndef PSMTPD_DAEMON_H
#define PSMTPD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The pidfile, locked for the daemon's life (flock; the lock goes with
 * the last process that holds the fd, so workers must close it).  Never
 * opened through a symlink, never a temporary file beside it.
 * daemon_pidfile_lock: open or create it and lock it; 0 with *fd, or -1
 * with err ("pidfile P is locked by running psmtpd pid N" when another
 * one runs).  A stale file (nobody holds the lock) is simply taken over.
 */
int daemon_pidfile_lock(const char *path, int *fd, char *err,
    size_t errlen);
/* Write pid into the locked pidfile.  0 or -1 + err. */
int daemon_pidfile_put(int fd, pid_t pid, char *err, size_t errlen);
/* Remove the pidfile (still the one we locked) and close fd; -1 is fine. */
void daemon_pidfile_release(const char *path, int fd);
/* Whether a syslog daemon listens on /dev/log (where a detached server's
 * lines go). */
bool daemon_syslog_reachable(void);
/* path made absolute against the current directory, for use after the
 * chdir("/") of daemon_detach().  0 or -1 (too long, getcwd failed). */
int daemon_abspath(const char *path, char *out, size_t size);

/*
 * Detach: fork, setsid, fork again, chdir("/").  Returns in the daemon
 * (the grandchild) with *ready_fd to pass to daemon_ready(); the process
 * that called it waits until then and exits 0 (ready) or 1 (the daemon
 * failed or died first: its message is already on stderr).  -1 with err
 * when a fork or setsid fails (still in the calling process).
 */
int daemon_detach(int *ready_fd, char *err, size_t errlen);
/* In the daemon, when started: stdio to /dev/null, tell the waiting
 * process; ok = 0 makes it exit 1. */
void daemon_ready(int ready_fd, int ok);

#endif
