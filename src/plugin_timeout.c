/*
 * plugin_timeout.c - SIGALRM around a plugin's hook.
 *
 * The jump target is the one piece of state a signal handler must reach:
 * a file-scope pointer, set only while a hook with a limit runs.
 */
#include "autoconfig.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "plugin_timeout.h"

/* volatile: read by the SIGALRM handler */
static sigjmp_buf *volatile plugin_timeout_target;
static struct sigaction plugin_timeout_saved;

static void
plugin_timeout_handler(int sig)
{
	sigjmp_buf *jb = plugin_timeout_target;

	(void)sig;
	if (jb == NULL)
		return;		/* disarmed meanwhile */
	plugin_timeout_target = NULL;
	siglongjmp(*jb, 1);
}

/* plugin_timeout_timer - the real-time timer, 0 to disarm. */
static void
plugin_timeout_timer(int seconds)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = seconds;
	/* cannot fail with these arguments */
	(void)setitimer(ITIMER_REAL, &it, NULL);
}

void
plugin_timeout_start(sigjmp_buf *jb, int seconds)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = plugin_timeout_handler;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGALRM, &sa, &plugin_timeout_saved);
	plugin_timeout_target = jb;
	plugin_timeout_timer(seconds);
}

void
plugin_timeout_stop(void)
{
	plugin_timeout_timer(0);
	plugin_timeout_target = NULL;
	(void)sigaction(SIGALRM, &plugin_timeout_saved, NULL);
}

void
plugin_timeout_watchdog(int seconds)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGALRM, &sa, NULL);
	/* the jump left SIGALRM blocked only if the mask was not saved;
	 * make sure the watchdog can fire */
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
	plugin_timeout_timer(seconds);
}

void
plugin_timeout_exit(void)
{
	/* Not exit(): atexit handlers and stdio buffers may belong to the
	 * interrupted code.  0: an orderly end, logged by the caller. */
	_exit(0);
}
