/*
 * runtime.h - one generation of the server: its settings, the loaded
 * plugins and what the channel needs, built from the command line and the
 * config file.  The master holds one and builds a new one on SIGHUP; it
 * treats it as opaque apart from the settings the pool needs.
 */
#ifndef PSMTPD_RUNTIME_H
#define PSMTPD_RUNTIME_H

#include <stddef.h>

#include "channel.h"
#include "config.h"

struct cli_options;
struct plugin_set;
struct tls_server;

struct runtime {
	struct config cfg;
	struct plugin_set *plugins;
	struct tls_server *tls;		/* NULL: no tls.certificate */
	struct channel_params chan;
	char fqdn[256];
	char version_text[64];
	unsigned generation;
};

/* Read the config named by the options, apply the options, load the
 * plugins (their global init, tried first in a child process).  NULL
 * with a message in err. */
struct runtime *runtime_load(const struct cli_options *opts, char *err,
    size_t errlen);
/* Only the settings (no plugins), for psmtpd -S.  0, or -1 with err;
 * config_free() cfg after. */
int runtime_config(struct config *cfg, const struct cli_options *opts,
    char *err, size_t errlen);
/* runtime_load, with the plugins only tried in a child (a reload): the
 * running generation's plugins are replaced by runtime_swap_plugins(). */
struct runtime *runtime_prepare(const struct cli_options *opts, char *err,
    size_t errlen);
/* The master's side of a reload: the old generation's plugins finished
 * and unloaded (fini, dlclose), then the new one's loaded, so that a
 * plugin's static variables are its generation's own.  -1 with err when
 * the new ones fail after all: the old ones are loaded again. */
int runtime_swap_plugins(struct runtime *old, struct runtime *new,
    char *err, size_t errlen);
/* Plugin fini, unload, free.  NULL is fine. */
void runtime_free(struct runtime *rt);

#endif
