/*
 * plugin_timeout.h - the time limit of a plugin's hook (a plugin entry's
 * `timeout`), in a worker.  A timer (SIGALRM) that jumps back out of the
 * plugin's code when it fires; the caller then answers the client and
 * the worker exits: code interrupted in the middle (holding a lock, half
 * through a write) cannot be trusted to go on.
 */
#ifndef PSMTPD_PLUGIN_TIMEOUT_H
#define PSMTPD_PLUGIN_TIMEOUT_H

#include <setjmp.h>

/* Arm: when `seconds` pass before plugin_timeout_stop(), siglongjmp(*jb,
 * 1).  The caller did sigsetjmp(*jb, 1) just before. */
void plugin_timeout_start(sigjmp_buf *jb, int seconds);
/* Disarm, and give SIGALRM back its previous disposition. */
void plugin_timeout_stop(void);
/* After a jump: a last bound for answering and leaving (the process is
 * killed by SIGALRM when `seconds` pass), then _exit() when done. */
void plugin_timeout_watchdog(int seconds);
__attribute__((noreturn)) void plugin_timeout_exit(void);

#endif
