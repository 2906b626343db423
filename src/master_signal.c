/*
 * master_signal.c - the master's signals.  The handlers only set flags
 * (nginx's way); the master loop takes them and acts.  The signals stay
 * blocked except inside ppoll(), so none can arrive between the loop's
 * check of a flag and its going to sleep.
 */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "master_int.h"

/* volatile sig_atomic_t: set from the signal handler, read by the loop. */
static volatile sig_atomic_t master_flags[MSIG_COUNT];

static void
master_on_signal(int signo)
{
	switch (signo) {
	case SIGTERM:
	case SIGINT:
		master_flags[MSIG_TERM] = 1;
		break;
	case SIGHUP:
		master_flags[MSIG_HUP] = 1;
		break;
	case SIGCHLD:
		master_flags[MSIG_CHLD] = 1;
		break;
	case SIGUSR1:
	case SIGUSR2:
		master_flags[MSIG_STATUS] = 1;
		break;
	}
}

/*
 * master_signal_setup - install the handlers, block the signals, and fill
 * waitmask with the mask to give ppoll() (the old mask without them).
 * SIGPIPE is ignored: the master writes only 421 replies when busy, and a
 * client gone by then is no reason to die.  SIGUSR1 and SIGUSR2 log the
 * pool's state (to a worker they mean "leave" and "the master is gone";
 * blocked here, they stay blocked in a new worker until its handlers are
 * in place).
 */
int
master_signal_setup(sigset_t *waitmask)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1,
	    SIGUSR2 };
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sa.sa_handler = master_on_signal;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaddset(&block, sigs[i]);
		if (sigaction(sigs[i], &sa, NULL) == -1)
			return -1;
	}
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		return -1;
	if (sigprocmask(SIG_BLOCK, &block, waitmask) == -1)
		return -1;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(waitmask, sigs[i]);
	return 0;
}

/* master_signal_take - whether sig came since the last take; clears it. */
bool
master_signal_take(enum master_sig sig)
{
	if (!master_flags[sig])
		return false;
	master_flags[sig] = 0;
	return true;
}
