/*
 * relay_hooks.h - for the hook tests of the relaying plugins (proxy,
 * lmtp): the plugin's source is compiled into the test (delivery_stubs.c
 * stands in for the server), its hooks are called as the channel calls
 * them, against the scripted server of delivery_fakesmtp.c.
 */
#ifndef PSMTPD_TESTS_RELAY_HOOKS_H
#define PSMTPD_TESTS_RELAY_HOOKS_H

#include <sys/types.h>

#include <psmtpd/plugin.h>

#include "delivery_fakesmtp.h"
#include "delivery_stubs.h"

/* One plugin instance in front of one scripted server. */
struct rh_fixture {
	const struct psmtpd_plugin *plugin;
	void *pd;		/* the plugin's data, from its init */
	struct psmtpd_init ctx;
	char remote[64];	/* "127.0.0.1:port" of the server */
	char dir[512];		/* a temporary directory for the capture */
	char capture[600];	/* what the plugin sent the server */
	pid_t pid;
};

/* Start the server with script sc, then the plugin's init with set (it
 * may point at fx->remote, which is filled in first; ctx.remote is it
 * too).  Fails the test when init does. */
void rh_start(struct rh_fixture *fx, const struct psmtpd_plugin *plugin,
    const struct fake_script *sc, const struct stub_setting *set);
/* Stop the server (bounded): what the plugin sent it (malloc'd). */
char *rh_stop(struct rh_fixture *fx);
/* The plugin's fini; the directory removed. */
void rh_end(struct rh_fixture *fx);

/* The plugin's init with set and remote (the top-level setting) fails
 * with error first among its messages. */
void rh_init_fails(const struct psmtpd_plugin *plugin,
    const struct stub_setting *set, const char *remote, const char *error);

/* A client transaction through the hooks: MAIL, RCPT for each of rcpts
 * (two at the most; those accepted make the envelope), the message when
 * one was accepted, the end of the transaction.  codes[0..3]: the
 * client's reply to MAIL, each RCPT and the message (0: not reached). */
void rh_run(const struct psmtpd_plugin *plugin, void *pd,
    struct psmtpd_session *s, const char *const *rcpts, int codes[4]);

#endif
