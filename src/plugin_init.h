/*
 * plugin_init.h - what a plugin's init sees (struct psmtpd_init): its
 * settings group, and what it read of it so that the loader can report
 * every setting nobody asked for.
 */
#ifndef PSMTPD_PLUGIN_INIT_H
#define PSMTPD_PLUGIN_INIT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <libconfig.h>

#include <psmtpd/plugin.h>

#include "config.h"

#define PLUGIN_INIT_KEYS_MAX 64
#define PLUGIN_INIT_KEY_LEN 64
#define PLUGIN_TARGETS_MAX 4
#define PLUGIN_INIT_COMMANDS_MAX 64

/* What a plugin's init chose of python -m smtpd's settings. */
struct plugin_smtpd {
	long long data_size_limit;
	bool enable_smtputf8;
	bool decode_data;
};

struct psmtpd_init {
	const char *name;
	const config_setting_t *settings;	/* may be NULL */
	const char *file;			/* config file, or NULL */
	int line;				/* the plugin entry's line */
	const char *hostname;
	const char *remote;
	bool failed;
	char err[1024];
	/* psmtpd_init_target(): the plugin entry's list */
	char (*targets)[PATH_MAX];
	size_t *ntargets;
	size_t nread;
	char read[PLUGIN_INIT_KEYS_MAX][PLUGIN_INIT_KEY_LEN];
	const struct config *cfg;		/* the generation's settings */
	/* psmtpd_init_set_smtpd_settings() (API 2) */
	bool smtpd_set;
	struct plugin_smtpd smtpd;
	/* verbs added with psmtpd_init_command() (API 2) */
	size_t ncommands;
	const struct psmtpd_command *commands[PLUGIN_INIT_COMMANDS_MAX];
};

/* After a successful init: -1 with ctx->err set when settings in the
 * group were never read (unknown settings: each one, a line each). */
int plugin_init_check_unread(struct psmtpd_init *ctx);
/* A verb of 1 to 32 upper-case letters and digits. */
bool plugin_valid_verb(const char *v);

#endif
