/*
 * plugin_loader.h - load plugins (dlopen), check their ABI, run their
 * global init with their settings, and run the chain of each hook for the
 * channel.  The public side is include/psmtpd/plugin.h.
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
 * Load every plugin of cfg in order, check magic and ABI, run init with
 * its settings.  A name without '/' is looked up in plugindir (NULL: the
 * installed PSMTPD_PLUGINDIR, or $PSMTPD_PLUGIN_PATH).  0, or -1 with
 * "FILE:LINE: plugin NAME: message" in err.
 */
int plugin_set_load(const struct config *cfg, const char *fqdn,
    const char *plugindir, struct plugin_set **out, char *err,
    size_t errlen);
void plugin_set_free(struct plugin_set *set);

/* A set of plugins linked into the program (tests, embedding): no dlopen,
 * init called with no settings.  NULL with err on failure. */
struct plugin_set *plugin_set_builtin(const struct psmtpd_plugin *const *p,
    size_t n, const char *fqdn, char *err, size_t errlen);

/* In a worker, after fork: worker_init of each plugin; -1 on failure. */
int plugin_set_worker_init(struct plugin_set *set);
void plugin_set_worker_fini(struct plugin_set *set);

size_t plugin_set_count(const struct plugin_set *set);
const char *plugin_set_name(const struct plugin_set *set, size_t i);
const struct psmtpd_plugin *plugin_set_plugin(const struct plugin_set *set,
    size_t i);
void *plugin_set_data(const struct plugin_set *set, size_t i);

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
