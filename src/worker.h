/*
 * worker.h - a forked worker: accept a connection, run a channel on it,
 * repeat.  The master forks it and hands it the listeners and a scoreboard
 * slot.
 */
#ifndef PSMTPD_WORKER_H
#define PSMTPD_WORKER_H

#include <stddef.h>

struct runtime;

struct listener {
	int fd;
	char name[300];	/* "127.0.0.1:8025", "[::1]:8025" for logs */
};

#endif
