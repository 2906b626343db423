/*
 * plugin_loader.h - the loaded plugins of one generation (struct
 * plugin_set): find and dlopen them, check their magic, ABI and API
 * level, run their global init with their settings (plugin_trial.c runs
 * it once first in a child) and their fini, and keep the table of verbs
 * they claim.  The channel runs the hooks (channel_hooks.c) through the
 * accessors below.  The public side is include/psmtpd/plugin.h.
 */
#ifndef PSMTPD_PLUGIN_LOADER_H
#define PSMTPD_PLUGIN_LOADER_H

#include <stddef.h>

#include <psmtpd/plugin.h>

#include "config.h"

struct plugin_set;

/* Built-in class names of python -m smtpd, mapped to plugin names; a
 * dotted name (module.Class) is a Python class: "python". */
const char *plugin_class_to_name(const char *classname);

/*
 * Load every plugin of cfg in order, check magic, ABI and API level, run
 * init with its settings: first in a disposable child (plugin_trial.h),
 * so that a crash in an init is reported with the plugin's name and
 * hurts nothing, then here.  A name without '/' is looked up in
 * plugindir (NULL: the installed PSMTPD_PLUGINDIR, or
 * $PSMTPD_PLUGIN_PATH).  0, or -1 with "FILE:LINE: plugin NAME: message"
 * in err.
 */
int plugin_set_load(const struct config *cfg, const char *fqdn,
    const char *plugindir, struct plugin_set **out, char *err,
    size_t errlen);
/* The same without the trial (it was made already: a reload). */
int plugin_set_load_here(const struct config *cfg, const char *fqdn,
    const char *plugindir, struct plugin_set **out, char *err,
    size_t errlen);
/* The same, writing to progress_fd (a trial's pipe) the name of each
 * plugin before its init. */
int plugin_set_load_traced(const struct config *cfg, const char *fqdn,
    const char *plugindir, int progress_fd, struct plugin_set **out,
    char *err, size_t errlen);
/* Load and init every plugin in a disposable child, then fini: 0 when
 * that went through; -1 with err: the load's own message, or the
 * plugin whose init crashed or hung. */
int plugin_set_trial(const struct config *cfg, const char *fqdn,
    const char *plugindir, char *err, size_t errlen);
void plugin_set_free(struct plugin_set *set);

/* A set of plugins linked into the program (tests, embedding): no dlopen,
 * init called with no settings.  NULL with err on failure. */
struct plugin_set *plugin_set_builtin(const struct psmtpd_plugin *const *p,
    size_t n, const char *fqdn, char *err, size_t errlen);

/* The i-th path a plugin's init asked psmtpd -t to check
 * (psmtpd_init_target), and that plugin's name; NULL past the last. */
const char *plugin_set_target(const struct plugin_set *set, size_t i,
    const char **plugin);

/* In a worker, after fork: worker_init of each plugin; -1 on failure. */
int plugin_set_worker_init(struct plugin_set *set);
void plugin_set_worker_fini(struct plugin_set *set);

size_t plugin_set_count(const struct plugin_set *set);
const char *plugin_set_name(const struct plugin_set *set, size_t i);
const struct psmtpd_plugin *plugin_set_plugin(const struct plugin_set *set,
    size_t i);
void *plugin_set_data(const struct plugin_set *set, size_t i);
/* The plugin entry's `timeout` in seconds, 0 for none. */
int plugin_set_timeout(const struct plugin_set *set, size_t i);

/* The handler for a verb added or overridden by a plugin, or NULL. */
const struct psmtpd_command *plugin_set_command(const struct plugin_set *set,
    const char *verb, size_t *plugin_index);
/* The verbs plugins claim, in config order, for HELP. */
/* The python -m smtpd settings a plugin chose at init (the Python host:
 * its SMTPServer's); false when none did. */
struct plugin_smtpd;
bool plugin_set_smtpd(const struct plugin_set *set, struct plugin_smtpd *out);

size_t plugin_set_verb_count(const struct plugin_set *set);
const char *plugin_set_verb(const struct plugin_set *set, size_t i);

#endif
