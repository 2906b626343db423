/*
 * runtime.c - build one generation of the server from the command line
 * and the config file: defaults, then the file (-C), then python -m smtpd's
 * flags, then -o overrides; validate; load the plugins.
 */
#include "autoconfig.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <syslog.h>

#include "cli.h"
#include "fqdn.h"
#include "log.h"
#include "plugin_init.h"
#include "plugin_loader.h"
#include "runtime.h"
#include "tls.h"

/* runtime_localaddr - the localaddr argument.  Its bare ":PORT" form
 * means localhost, as aiosmtpd's users expect (not every interface: the
 * default class relays); in the config ":PORT" keeps meaning every
 * address. */
static int
runtime_localaddr(struct config *cfg, const char *spec, char *err,
    size_t errlen)
{
	char local[300];
	const char *one = spec;

	if (spec[0] == ':') {
		if (snprintf(local, sizeof(local), "localhost%s", spec) >=
		    (int)sizeof(local)) {
			snprintf(err, errlen, "localaddr too long");
			return -1;
		}
		one = local;
	}
	return config_set_listen(cfg, &one, 1, err, errlen);
}

/* runtime_apply_flags - python -m smtpd's options over the file. */
static int
runtime_apply_flags(struct config *cfg, const struct cli_options *o,
    char *err, size_t errlen)
{
	if (o->size >= 0)
		cfg->data_size_limit = o->size;
	if (o->smtputf8)
		cfg->enable_smtputf8 = true;
	if (o->localaddr != NULL && runtime_localaddr(cfg, o->localaddr, err,
	    errlen) == -1)
		return -1;
	if (o->remoteaddr != NULL && config_set_string(&cfg->remote,
	    o->remoteaddr) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (o->classname != NULL &&
	    config_set_class(cfg, o->classname, err, errlen) != 0)
		return -1;
	/* python -m smtpd's default class */
	if (cfg->nplugins == 0 &&
	    config_set_class(cfg, "PureProxy", err, errlen) != 0)
		return -1;
	cfg->plugin_path = o->plugin_path;
	cfg->no_setuid = o->no_setuid;
	cfg->detach = o->detach;
	if (o->debug) {
		cfg->debug = true;
		cfg->log.level = LOG_DEBUG;
	}
	return 0;
}

/* runtime_check_spool - a configured spool.dir is a directory: else
 * every large message would get a 451. */
static int
runtime_check_spool(const struct config *cfg, char *err, size_t errlen)
{
	struct stat st;

	if (cfg->spool.dir == NULL)
		return 0;
	bool found = stat(cfg->spool.dir, &st) == 0;

	if (found && S_ISDIR(st.st_mode))
		return 0;
	snprintf(err, errlen, "%s: spool.dir '%s': %s", cfg->file != NULL ?
	    cfg->file : "-o", cfg->spool.dir, found ? "not a directory" :
	    strerror(errno));
	return -1;
}

/* runtime_build_config - every source of settings, in order. */
static int
runtime_build_config(struct config *cfg, const struct cli_options *o,
    char *err, size_t errlen)
{
	config_defaults(cfg);
	if (o->config_file != NULL &&
	    config_load_file(cfg, o->config_file, err, errlen) != 0)
		return -1;
	if (runtime_apply_flags(cfg, o, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < o->noverrides; i++)
		if (config_override(cfg, o->overrides[i], err, errlen) != 0)
			return -1;
	if (config_validate(cfg, err, errlen) != 0)
		return -1;
	return runtime_check_spool(cfg, err, errlen);
}

/* runtime_channel_params - what the channel needs of the settings. */
static void
runtime_channel_params(struct runtime *rt)
{
	const struct config *c = &rt->cfg;

	rt->chan = (struct channel_params){
		.fqdn = rt->fqdn,
		.remote = c->remote,
		.version_text = rt->version_text,
		.data_size_limit = (unsigned long long)c->data_size_limit,
		.max_message_size = (unsigned long long)c->limits.max_message_size,
		.command_size_limit = (size_t)c->command_size_limit,
		.enable_smtputf8 = c->enable_smtputf8,
		.decode_data = c->decode_data,
		.timeout_command = c->timeouts.command,
		.timeout_data = c->timeouts.data,
		.timeout_session = c->timeouts.session,
		.max_recipients = (size_t)c->limits.max_recipients,
		.max_errors = (unsigned)c->limits.max_errors,
		.stress_command = c->stress.command,
		.stress_data = c->stress.data,
		.stress_max_errors = c->stress.max_errors > UINT_MAX ?
		    UINT_MAX : (unsigned)c->stress.max_errors,
		.trace = c->debug,
		.tls = rt->tls,
		.tls_handshake_timeout = c->tls.handshake_timeout,
		.auth_mechanisms = c->auth.mechanisms,
		.auth_require_tls = c->auth.require_tls,
		.auth_failure_delay = c->auth.failure_delay,
		.esmtp = {
			.pipelining = c->esmtp.pipelining,
			.enhanced_status_codes = c->esmtp.enhanced_status_codes,
			.chunking = c->esmtp.chunking,
			.dsn = c->esmtp.dsn,
		},
		.spool_dir = c->spool.dir,
		.spool_memory_limit = (size_t)c->spool.memory_limit,
		.reply_queue_id = c->reply_queue_id,
		.received_header = c->received_header,
	};
}

/* runtime_tls - the generation's TLS contexts, made here in the master
 * while it can read the key; an error names the file and line of the
 * setting (tls_server_new's message begins with its path). */
static int
runtime_tls(struct runtime *rt, char *err, size_t errlen)
{
	char msg[1024], path[64];

	if (rt->cfg.tls.certificate == NULL)
		return 0;
	if ((rt->tls = tls_server_new(&rt->cfg.tls, msg, sizeof(msg))) != NULL)
		return 0;
	snprintf(path, sizeof(path), "%.*s", (int)strcspn(msg, " "), msg);
	config_where(&rt->cfg, path, msg, err, errlen);
	return -1;
}

int
runtime_config(struct config *cfg, const struct cli_options *opts,
    char *err, size_t errlen)
{
	return runtime_build_config(cfg, opts, err, errlen);
}

/* runtime_apply_plugin_smtpd - the settings a Python SMTPServer's
 * constructor chose are the server's, as Python handed them to every
 * channel. */
static void
runtime_apply_plugin_smtpd(struct runtime *rt)
{
	struct plugin_smtpd p;

	if (!plugin_set_smtpd(rt->plugins, &p))
		return;
	rt->cfg.data_size_limit = p.data_size_limit;
	rt->cfg.enable_smtputf8 = p.enable_smtputf8;
	rt->cfg.decode_data = p.decode_data;
}

/* runtime_plugins_loaded - what the plugins' init chose becomes the
 * generation's settings. */
static void
runtime_plugins_loaded(struct runtime *rt)
{
	runtime_apply_plugin_smtpd(rt);
	runtime_channel_params(rt);
}

struct runtime *
runtime_load(const struct cli_options *opts, char *err, size_t errlen)
{
	struct runtime *rt = runtime_prepare(opts, err, errlen);

	if (rt != NULL && plugin_set_load_here(&rt->cfg, rt->fqdn, NULL,
	    &rt->plugins, err, errlen) != 0) {
		runtime_free(rt);
		return NULL;
	}
	if (rt != NULL)
		runtime_plugins_loaded(rt);
	return rt;
}

int
runtime_swap_plugins(struct runtime *old, struct runtime *new, char *err,
    size_t errlen)
{
	char again[512];

	plugin_set_free(old->plugins);
	old->plugins = NULL;
	if (plugin_set_load_here(&new->cfg, new->fqdn, NULL, &new->plugins,
	    err, errlen) == 0) {
		runtime_plugins_loaded(new);
		return 0;
	}
	/* The trial went through but the real init did not: bring the
	 * running generation's plugins back. */
	if (plugin_set_load_here(&old->cfg, old->fqdn, NULL, &old->plugins,
	    again, sizeof(again)) != 0)
		fatalx("reload: the new plugins failed (%s) and the running "
		    "ones cannot be loaded again: %s", err, again);
	return -1;
}

struct runtime *
runtime_prepare(const struct cli_options *opts, char *err, size_t errlen)
{
	struct runtime *rt = calloc(1, sizeof(*rt));

	if (rt == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (runtime_build_config(&rt->cfg, opts, err, errlen) != 0) {
		config_free(&rt->cfg);
		free(rt);
		return NULL;
	}
	if (rt->cfg.hostname != NULL)
		snprintf(rt->fqdn, sizeof(rt->fqdn), "%s", rt->cfg.hostname);
	else
		fqdn_lookup(rt->fqdn, sizeof(rt->fqdn));
	snprintf(rt->version_text, sizeof(rt->version_text), "psmtpd %s",
	    PACKAGE_VERSION);
	if (runtime_tls(rt, err, errlen) != 0) {
		config_free(&rt->cfg);
		free(rt);
		return NULL;
	}
	runtime_channel_params(rt);
	if (plugin_set_trial(&rt->cfg, rt->fqdn, NULL, err, errlen) != 0) {
		tls_server_free(rt->tls);
		config_free(&rt->cfg);
		free(rt);
		return NULL;
	}
	return rt;
}

void
runtime_free(struct runtime *rt)
{
	if (rt == NULL)
		return;
	plugin_set_free(rt->plugins);
	tls_server_free(rt->tls);
	config_free(&rt->cfg);
	free(rt);
}
