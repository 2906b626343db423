/*
 * daemon.h - going to the background (-D) and the pidfile.
 */
#ifndef PSMTPD_DAEMON_H
#define PSMTPD_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Whether the pidfile names a live psmtpd: 1 (with "pidfile P names
 * running psmtpd pid N" in err), 0 when it is absent, stale, or names a
 * process of another program, -1 when it cannot be read (err).
 */
int daemon_pidfile_live(const char *path, char *err, size_t errlen);
/* Write pid to path atomically (path.tmp, then rename).  0 or -1 + err. */
int daemon_pidfile_write(const char *path, pid_t pid, char *err,
    size_t errlen);
/* Remove path if it still names pid (a successor may have replaced it). */
void daemon_pidfile_remove(const char *path, pid_t pid);
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
