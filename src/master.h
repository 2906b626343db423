/*
 * master.h - the master process: bind, detach, fork the pool of workers
 * and manage it (spare workers, signals, reload, crash recovery) until it
 * is told to stop.  It knows nothing of SMTP: sessions are the workers'
 * business (worker.h), what a generation holds is runtime.h's.
 */
#ifndef PSMTPD_MASTER_H
#define PSMTPD_MASTER_H

#include <stddef.h>

struct runtime;

struct master_ops {
	/* Build a new generation (SIGHUP).  NULL with why in err: the master
	 * logs it once and keeps the old one. */
	struct runtime *(*reload)(void *arg, char *err, size_t errlen);
	void *arg;
};

/*
 * master_run takes rt over: it frees it, or the generation that replaced
 * it on SIGHUP, before it returns.  The caller must not free rt after.
 */
/* Bind, (detach if rt->cfg.detach), fork the pool, manage it until stopped; returns the exit status. */
int master_run(struct runtime *rt, const struct master_ops *ops);

#endif
