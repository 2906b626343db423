/*
 * pool_util.h - for the daemon tests: start the real psmtpd on a free
 * loopback port, find its workers, talk SMTP to it.  Every wait is
 * bounded in time.
 */
#ifndef PSMTPD_POOL_UTIL_H
#define PSMTPD_POOL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PD_MAX_ARGS 32
#define PD_MAX_WORKERS 256

struct pd {
	pid_t pid;		/* the master (we forked it) */
	int port;
	char log[300];		/* its stderr */
	char dir[256];		/* a private temporary directory */
	bool crashes;		/* crashes are the test: no sanitizer SEGV
				 * handler, no core files */
};

/* A private directory (for config files, the log) for a daemon not yet
 * started; pd_start() makes one itself for a struct pd that is zero. */
void pd_prepare(struct pd *d);
/* A port that was free a moment ago on 127.0.0.1. */
int pd_free_port(void);
/* Start psmtpd -n -c SinkServer [args...] 127.0.0.1:PORT (args ends with
 * NULL; leading "-N" leaves out -n, "-P" leaves out -c SinkServer, "-L"
 * leaves out the localaddr) and wait until it greets on d->port (a free
 * port unless set).  Fails the test if it cannot. */
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
/* The local port of a client socket. */
int smtp_local_port(int fd);
/* Send a line (CRLF added), read the reply; its code, -1 on EOF/error. */
int smtp_cmd(int fd, const char *line, char *reply, size_t size);
/* Send raw bytes. */
int smtp_send(int fd, const char *text);
/* Read one reply; its code, or -1. */
int smtp_reply(int fd, char *reply, size_t size);
/* MAIL, RCPT, DATA, body, "."; the final code. */
int smtp_message(int fd, const char *body);

void pd_sleep_ms(int ms);

#endif
