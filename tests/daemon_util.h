/*
 * daemon_util.h - the one harness for tests that run the built psmtpd:
 * start it on a free loopback port (args, env, rlimits, an optional
 * $HU_WRAPPER such as valgrind), wait until it answers, talk SMTP to it,
 * read its log, stop it by PID (SIGTERM, bounded wait, SIGKILL).  Every
 * wait is bounded in time.
 *
 * Three front ends share the core: du_* (stdout and stderr in temp files,
 * any args), pd_* (the pool tests: a private dir, -n -c SinkServer by
 * default, worker pids from /proc and the log) and hu_* (the hostile and
 * load tests: the maildir plugin and -o settings, a buffered client).
 * The SMTP clients are in daemon_smtp.c.
 */
#ifndef PSMTPD_TESTS_DAEMON_UTIL_H
#define PSMTPD_TESTS_DAEMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tests/session_util.h"

/* ---- the core --------------------------------------------------------- */

/* What the daemon's process gets before exec. */
struct du_opts {
	long long fsize_limit;	/* RLIMIT_FSIZE in bytes (0: unchanged);
				 * SIGXFSZ is then ignored, so a write past
				 * it fails with EFBIG, as on a full disk */
	int deathsig;		/* it gets this when the test dies (0: none) */
	bool crashes;		/* crashes are the test: no sanitizer SEGV
				 * handler, no core files */
	bool wrapper;		/* run it under $HU_WRAPPER when set */
	bool append;		/* append to its output files, not truncate */
};

/* Milliseconds on a monotonic clock. */
long long du_now_ms(void);
void du_sleep_ms(int ms);
/* A port that was free a moment ago on host. */
int du_free_port(const char *host);
/* A connection to host:port (close-on-exec); -1 on failure. */
int du_dial(const char *host, int port);
/* Fork and exec argv[0] (a path) with stdout to out, stderr to err (may
 * be the same file); its pid, or -1. */
pid_t du_spawn(const char *const *argv, const char *out, const char *err,
    const struct du_opts *opts);
/* Until host:port answers with a reply (2xx-5xx) within timeout_ms: 0;
 * -1 when pid exited (its wait status in *status), -2 on time-out. */
int du_wait_up(pid_t pid, const char *host, int port, int timeout_ms,
    int *status);
/* Wait at most timeout_ms for pid to exit; its wait status, or -1. */
int du_wait_pid(pid_t pid, int timeout_ms);
/* SIGTERM, wait at most timeout_ms, then SIGKILL: the wait status of
 * the exit after SIGTERM, or -1 when it took the SIGKILL. */
int du_kill_wait(pid_t pid, int timeout_ms);
/* Whether the file contains text (polling for up to timeout_ms). */
bool du_file_has(const char *path, const char *text, int timeout_ms);
/* The file's contents (NUL-terminated), or NULL. */
char *du_slurp(const char *path);
/* Write a config file from fmt, whole: to path.new, then renamed over
 * path, as an editor would, so that a reload never reads half a file.
 * 0 or -1. */
int du_write_config(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Remove a directory and everything below it. */
void du_rmtree(const char *path);
/* The pid of the worker that logged "worker[PID]: connect ... port=PORT"
 * in the log at path (waits up to timeout_ms for it), or -1. */
pid_t du_log_worker(const char *path, int client_port, int timeout_ms);
/* The local port of a socket. */
int du_local_port(int fd);

/* ---- du_*: any args, output in temp files ----------------------------- */

struct du_daemon {
	pid_t pid;
	int port;
	char host[64];		/* "127.0.0.1" or "::1" */
	char out[256];		/* its stdout, a temp file */
	char err[256];		/* its stderr */
};

/* Start psmtpd with args (NULL-terminated, without the program name and
 * without localaddr, which is added as [host]:port); wait until it accepts.
 * 0, or -1 (its stderr is printed). */
int du_start(struct du_daemon *d, const char *host, const char *const *args);
int du_start_with(struct du_daemon *d, const char *host,
    const char *const *args, const struct du_opts *opts);
/* SIGTERM, wait up to 10 s, then SIGKILL.  The wait status, or -1 when
 * it had to be killed. */
int du_stop(struct du_daemon *d);
/* Connect to the daemon; -1 on failure. */
int du_connect(const struct du_daemon *d);
/* Send a whole session and read every reply until the server closes. */
int du_session(const struct du_daemon *d, const char *payload,
    struct su_buf *replies);
/* Run psmtpd with args and collect stdout+stderr; the exit status. */
int du_run(const char *const *args, struct su_buf *output);

/* ---- pd_*: the pool tests --------------------------------------------- */

#define PD_MAX_ARGS 32
#define PD_MAX_WORKERS 256

struct pd {
	pid_t pid;		/* the master (we forked it) */
	int port;
	char log[300];		/* its stderr */
	char dir[256];		/* a private temporary directory */
	bool crashes;		/* see du_opts */
};

/* A private directory (for config files, the log) for a daemon not yet
 * started; pd_start() makes one itself for a struct pd that is zero. */
void pd_prepare(struct pd *d);
/* Start psmtpd -n -c SinkServer [args...] 127.0.0.1:PORT (args ends with
 * NULL; leading "-N" leaves out -n, "-P" leaves out -c SinkServer, "-L"
 * leaves out the localaddr) and wait until it greets on d->port (a free
 * port unless set).  Fails the test if it cannot.  The daemon dies with
 * the test. */
void pd_start(struct pd *d, const char *const *args);
/* As pd_start, but return the exit status when it exits by itself
 * within a few seconds (-1 when it is still running: then it is up). */
int pd_try_start(struct pd *d, const char *const *args);
/* Only fork and exec it. */
void pd_spawn(struct pd *d, const char *const *args);
/* SIGTERM, wait (bounded), SIGKILL if need be; the exit status, or -1. */
int pd_stop(struct pd *d);
/* Remove the private directory (a failed test leaves it, to look at). */
void pd_cleanup(struct pd *d);
/* Wait for the master to exit by itself; its exit status, -1 on time-out. */
int pd_wait_exit(pid_t pid, int seconds);
/* Path of a file in d->dir. */
void pd_path(const struct pd *d, const char *name, char *buf, size_t size);

/* Whether a process runs (a zombie that nobody reaps does not). */
bool pd_alive(pid_t pid);
/* The workers: children of the master (from /proc); their number. */
int pd_workers(pid_t master, pid_t *pids, int max);
/* Wait until the number of workers satisfies lo <= n <= hi; n or -1. */
int pd_wait_workers(pid_t master, int lo, int hi, int seconds);
/* Whether the log contains text (waits up to `seconds` for it). */
bool pd_log_has(const struct pd *d, const char *text, int seconds);
/* The pid of the worker that logged "connect ... port=PORT". */
pid_t pd_log_worker(const struct pd *d, int client_port, int seconds);

/* A TCP connection to 127.0.0.1:port, 10 s timeouts; -1 on failure. */
int smtp_connect(int port);
/* SMTP client: connect (reads the greeting into greet), -1 on failure. */
int smtp_open(int port, char *greet, size_t size);
/* Send a line (CRLF added), read the reply; its code, -1 on EOF/error. */
int smtp_cmd(int fd, const char *line, char *reply, size_t size);
/* Send raw bytes. */
int smtp_send(int fd, const char *text);
/* Where the last line of buf starts when buf holds a whole reply: it
 * ends with "NNN text\r\n" (a space after the code); or -1. */
long smtp_last(const char *buf, size_t n);
/* Read one reply; its code, or -1. */
int smtp_reply(int fd, char *reply, size_t size);
/* MAIL, RCPT, DATA, body, "."; the final code. */
int smtp_message(int fd, const char *body);

/* ---- hu_*: the hostile-input and load tests --------------------------- */

struct hu_daemon {
	pid_t pid;
	int port;
	char dir[128];		/* scratch dir: config, log, maildir */
	char maildir[192];
};

/* Start with the maildir plugin (no added headers, so each file is the
 * message as received) and "-o" values from opts (NULL-terminated, may
 * be NULL), under $HU_WRAPPER when set; 0 when it answers 220 on its
 * port within a few seconds.  The daemon dies with the test. */
int hu_start(struct hu_daemon *d, const char *const *opts);
/* SIGTERM, wait (bounded), SIGKILL if need be, remove the scratch dir
 * (unless $HU_KEEP).  Returns the daemon's wait status. */
int hu_stop(struct hu_daemon *d);
/* Wait at most timeout_ms for the daemon to exit by itself (after a
 * signal the test sent); its wait status, or -1 if it is still running.
 * hu_stop() then only removes the scratch dir. */
int hu_wait(struct hu_daemon *d, int timeout_ms);

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

#endif
