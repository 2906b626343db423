/*
 * plugin_loader.c - find, dlopen and check plugins, run their init and
 * fini, and keep the table of verbs they claim.
 */
#include "autoconfig.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "plugin_init.h"
#include "plugin_loader.h"
#include "plugin_trial.h"

#include "paths.h"	/* PSMTPD_PLUGINDIR, from the configured prefix */

struct plugin_entry {
	void *handle;
	const struct psmtpd_plugin *p;
	void *data;
	int timeout;		/* seconds per hook; 0: none */
	bool inited;
	char name[128];
	char path[PATH_MAX];
	char targets[PLUGIN_TARGETS_MAX][PATH_MAX];	/* for psmtpd -t */
	size_t ntargets;
};

struct plugin_verb {
	const char *verb;
	const struct psmtpd_command *cmd;
	size_t plugin;
};

struct plugin_set {
	bool smtpd_set;		/* a plugin chose python -m smtpd's settings */
	struct plugin_smtpd smtpd;
	int progress_fd;	/* a trial's pipe to the parent, or -1 */
	size_t n;
	struct plugin_entry *e;
	size_t nverbs;
	struct plugin_verb *verbs;
};

/* Every function of the public API.  Referencing them here makes the
 * linker keep them in the executable, where plugins look them up. */
const void *const plugin_api_functions[] = {
	(const void *)psmtpd_init_name, (const void *)psmtpd_setting_string,
	(const void *)psmtpd_setting_int, (const void *)psmtpd_setting_bool,
	(const void *)psmtpd_setting_strings,
	(const void *)psmtpd_setting_strings_at,
	(const void *)psmtpd_init_error, (const void *)psmtpd_init_hostname,
	(const void *)psmtpd_init_remote, (const void *)psmtpd_init_target,
	(const void *)psmtpd_session_peer_addr,
	(const void *)psmtpd_session_peer_port,
	(const void *)psmtpd_session_fqdn, (const void *)psmtpd_session_remote,
	(const void *)psmtpd_session_greeting,
	(const void *)psmtpd_session_extended,
	(const void *)psmtpd_session_state,
	(const void *)psmtpd_session_mailfrom,
	(const void *)psmtpd_session_rcpt_count,
	(const void *)psmtpd_session_rcpt,
	(const void *)psmtpd_session_mail_option_count,
	(const void *)psmtpd_session_mail_option,
	(const void *)psmtpd_session_rcpt_option_count,
	(const void *)psmtpd_session_rcpt_option,
	(const void *)psmtpd_session_mail_param_count,
	(const void *)psmtpd_session_mail_param,
	(const void *)psmtpd_session_rcpt_param_count,
	(const void *)psmtpd_session_rcpt_param,
	(const void *)psmtpd_session_decode_data,
	(const void *)psmtpd_session_id, (const void *)psmtpd_message_data,
	(const void *)psmtpd_message_line_count, (const void *)psmtpd_reply,
	(const void *)psmtpd_vreply, (const void *)psmtpd_reply_lines,
	(const void *)psmtpd_session_set_data,
	(const void *)psmtpd_session_get_data,
	(const void *)psmtpd_txn_set_data, (const void *)psmtpd_txn_get_data,
	(const void *)psmtpd_log, (const void *)psmtpd_session_log,
	(const void *)psmtpd_session_tls,
	(const void *)psmtpd_session_tls_version,
	(const void *)psmtpd_session_tls_cipher,
	(const void *)psmtpd_session_tls_peer_subject,
	(const void *)psmtpd_session_tls_peer_verified,
	(const void *)psmtpd_session_auth_user,
	(const void *)psmtpd_init_command,
	(const void *)psmtpd_session_set_mailfrom,
	(const void *)psmtpd_session_set_rcpttos,
	(const void *)psmtpd_session_set_greeting,
	(const void *)psmtpd_session_set_state,
	(const void *)psmtpd_init_smtpd_settings,
	(const void *)psmtpd_init_set_smtpd_settings,
	(const void *)psmtpd_init_drop_privileges,
	/* API 2 */
	(const void *)psmtpd_api_level, (const void *)psmtpd_message_id,
	(const void *)psmtpd_header_count, (const void *)psmtpd_header_get,
	(const void *)psmtpd_header_add, (const void *)psmtpd_header_remove,
	(const void *)psmtpd_header_replace, (const void *)psmtpd_message_body,
	(const void *)psmtpd_body_replace, (const void *)psmtpd_body_append,
	(const void *)psmtpd_envelope_set_sender,
	(const void *)psmtpd_envelope_add_rcpt,
	(const void *)psmtpd_envelope_remove_rcpt,
	(const void *)psmtpd_session_note_set,
	(const void *)psmtpd_session_note_get,
	(const void *)psmtpd_txn_note_set, (const void *)psmtpd_txn_note_get,
	(const void *)psmtpd_check_result, (const void *)psmtpd_check_count,
	(const void *)psmtpd_check_get, (const void *)psmtpd_reply_rcpt,
	(const void *)psmtpd_rcpt_reply, (const void *)psmtpd_outcome_code,
	(const void *)psmtpd_outcome_reply, (const void *)psmtpd_outcome_plugin,
	(const void *)psmtpd_ehlo_keyword, (const void *)psmtpd_ask,
};

const char *
plugin_class_to_name(const char *classname)
{
	static const struct {
		const char *cls, *name;
	} classes[] = {
		{ "DebuggingServer", "debugging" },
		{ "PureProxy", "proxy" },
		{ "SinkServer", "sink" },
	};

	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strcmp(classname, classes[i].cls) == 0)
			return classes[i].name;
	/* A dotted name is a Python class (module.Class): the python plugin
	 * runs it.  (A name with a '/' or ending in ".so" is a file and
	 * never comes here: config_set_class makes it a path.) */
	if (strchr(classname, '.') != NULL)
		return "python";
	return classname;
}

/* plugin_where - "FILE:LINE: " of a config entry, or "". */
static void
plugin_where(const struct config_plugin *cp, char *buf, size_t size)
{
	if (cp->file != NULL && cp->line > 0)
		snprintf(buf, size, "%s:%d: ", cp->file, cp->line);
	else
		buf[0] = '\0';
}

/* plugin_find_in - "<dir>/<name>.so" when it exists. */
static bool
plugin_find_in(const char *dir, size_t dirlen, const char *name, char *out,
    size_t size)
{
	int n = snprintf(out, size, "%.*s/%s.so", (int)dirlen, dir, name);

	return n > 0 && (size_t)n < size && access(out, F_OK) == 0;
}

/* plugin_resolve - the file to load for a config entry: a path as given,
 * a name looked up in $PSMTPD_PLUGIN_PATH (as main made it absolute, in
 * cfg->plugin_path) then the plugin directory. */
static int
plugin_resolve(const struct config *cfg, const struct config_plugin *cp,
    const char *plugindir, char *out, size_t size, char *why, size_t whylen)
{
	if (cp->path != NULL) {
		snprintf(out, size, "%s", cp->path);
		return 0;
	}
	const char *name = plugin_class_to_name(cp->name);
	const char *env = cfg->plugin_path != NULL ? cfg->plugin_path :
	    getenv("PSMTPD_PLUGIN_PATH");
	for (const char *p = env; p != NULL && *p != '\0';) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		if (len > 0 && plugin_find_in(p, len, name, out, size))
			return 0;
		p = colon ? colon + 1 : NULL;
	}
	const char *dir = plugindir != NULL ? plugindir : PSMTPD_PLUGINDIR;
	if (plugin_find_in(dir, strlen(dir), name, out, size))
		return 0;
	snprintf(why, whylen, "no plugin named '%s' in %s%s%s", name, dir,
	    env != NULL ? " or $PSMTPD_PLUGIN_PATH=" : "", env ? env : "");
	return -1;
}

/* plugin_open - dlopen and check the descriptor. */
static int
plugin_open(struct plugin_entry *e, char *why, size_t whylen)
{
	e->handle = dlopen(e->path, RTLD_NOW | RTLD_LOCAL);
	if (e->handle == NULL) {
		snprintf(why, whylen, "cannot load %s: %s", e->path, dlerror());
		return -1;
	}
	e->p = dlsym(e->handle, PSMTPD_PLUGIN_SYMBOL);
	if (e->p == NULL) {
		snprintf(why, whylen, "%s has no symbol '%s': not a psmtpd "
		    "plugin", e->path, PSMTPD_PLUGIN_SYMBOL);
		return -1;
	}
	if (e->p->magic != PSMTPD_PLUGIN_MAGIC) {
		snprintf(why, whylen, "%s: '%s' has a bad magic number: not a "
		    "psmtpd plugin", e->path, PSMTPD_PLUGIN_SYMBOL);
		return -1;
	}
	if (e->p->abi != PSMTPD_PLUGIN_ABI) {
		snprintf(why, whylen, "%s was built for plugin ABI %u, this "
		    "psmtpd has ABI %u: rebuild it against this psmtpd's "
		    "<psmtpd/plugin.h>", e->path, (unsigned)e->p->abi,
		    (unsigned)PSMTPD_PLUGIN_ABI);
		return -1;
	}
	if (e->p->api > PSMTPD_PLUGIN_API) {
		snprintf(why, whylen, "%s was built for plugin API %u, this "
		    "psmtpd has API %u: it needs a newer psmtpd", e->path,
		    (unsigned)e->p->api, (unsigned)PSMTPD_PLUGIN_API);
		return -1;
	}
	return 0;
}

/* plugin_add_verb - one command into the table; a verb that another
 * plugin claimed already is an error. */
static int
plugin_add_verb(struct plugin_set *set, size_t idx,
    const struct psmtpd_command *c, char *why, size_t whylen)
{
	if (!plugin_valid_verb(c->verb) || c->handler == NULL) {
		snprintf(why, whylen, "command '%s' is not a valid verb with a "
		    "handler", c->verb);
		return -1;
	}
	for (size_t i = 0; i < set->nverbs; i++)
		if (strcmp(set->verbs[i].verb, c->verb) == 0) {
			snprintf(why, whylen, "verb %s is already claimed by "
			    "plugin %s", c->verb,
			    set->e[set->verbs[i].plugin].name);
			return -1;
		}
	struct plugin_verb *v = realloc(set->verbs,
	    (set->nverbs + 1) * sizeof(*v));
	if (v == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	set->verbs = v;
	set->verbs[set->nverbs++] = (struct plugin_verb){ c->verb, c, idx };
	return 0;
}

/* plugin_add_verbs - the plugin's `commands` into the table. */
static int
plugin_add_verbs(struct plugin_set *set, size_t idx, char *why,
    size_t whylen)
{
	const struct psmtpd_command *c = set->e[idx].p->commands;

	for (; c != NULL && c->verb != NULL; c++)
		if (plugin_add_verb(set, idx, c, why, whylen) != 0)
			return -1;
	return 0;
}

/* plugin_add_init_verbs - the verbs its init added (API 2). */
static int
plugin_add_init_verbs(struct plugin_set *set, size_t idx,
    const struct psmtpd_init *ctx, char *err, size_t errlen)
{
	char why[512];

	for (size_t i = 0; i < ctx->ncommands; i++)
		if (plugin_add_verb(set, idx, ctx->commands[i], why,
		    sizeof(why)) != 0) {
			snprintf(err, errlen, "plugin %s: %s", set->e[idx].name,
			    why);
			return -1;
		}
	return 0;
}

/* plugin_init_one - the plugin's init with its settings. */
static int
plugin_init_one(struct plugin_set *set, size_t idx, const struct config *cfg,
    const struct config_plugin *cp, const char *fqdn, char *err,
    size_t errlen)
{
	struct plugin_entry *e = &set->e[idx];
	struct psmtpd_init *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		snprintf(err, errlen, "plugin %s: out of memory", e->name);
		return -1;
	}
	ctx->name = e->name;
	ctx->settings = cp->settings;
	ctx->file = cp->file;
	ctx->line = cp->line;
	ctx->hostname = fqdn;
	ctx->remote = cfg->remote;
	ctx->cfg = cfg;
	ctx->targets = e->targets;
	ctx->ntargets = &e->ntargets;
	int r = e->p->init != NULL ? e->p->init(ctx, &e->data) : 0;
	e->inited = r == 0;
	if (r == 0 && !ctx->failed)
		plugin_init_check_unread(ctx);
	if (r != 0 || ctx->failed) {
		char where[600];
		plugin_where(cp, where, sizeof(where));
		if (ctx->failed)
			snprintf(err, errlen, "%s", ctx->err);
		else
			snprintf(err, errlen, "%splugin %s: init failed",
			    where, e->name);
		free(ctx);
		return -1;
	}
	r = plugin_add_init_verbs(set, idx, ctx, err, errlen);
	if (ctx->smtpd_set) {
		set->smtpd_set = true;
		set->smtpd = ctx->smtpd;
	}
	free(ctx);
	return r;
}

/* plugin_valid_verb - upper-case letters and digits, 1..32 of them. */
bool
plugin_valid_verb(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' &&
		    v[i] <= '9')))
			return false;
	return true;
}

/* plugin_load_one - resolve, open, check, register verbs, init. */
static int
plugin_load_one(struct plugin_set *set, const struct config *cfg,
    const struct config_plugin *cp, const char *fqdn, const char *plugindir,
    char *err, size_t errlen)
{
	struct plugin_entry *e = &set->e[set->n];
	char why[PATH_MAX + 512], where[600];
	const char *label = cp->name != NULL ? cp->name : cp->path;

	plugin_where(cp, where, sizeof(where));
	snprintf(e->name, sizeof(e->name), "%s", label);
	e->timeout = cp->timeout;
	if (plugin_resolve(cfg, cp, plugindir, e->path, sizeof(e->path), why,
	    sizeof(why)) != 0 || plugin_open(e, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%splugin %s: %s", where, label, why);
		if (e->handle != NULL)
			dlclose(e->handle);
		return -1;
	}
	if (cp->name == NULL && e->p->name != NULL)
		snprintf(e->name, sizeof(e->name), "%s", e->p->name);
	set->n++;
	if (plugin_add_verbs(set, set->n - 1, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%splugin %s: %s", where, e->name, why);
		return -1;
	}
	plugin_trial_progress(set->progress_fd, 'I', "%splugin %s", where,
	    e->name);
	return plugin_init_one(set, set->n - 1, cfg, cp, fqdn, err, errlen);
}

int
plugin_set_load_traced(const struct config *cfg, const char *fqdn,
    const char *plugindir, int progress_fd, struct plugin_set **out,
    char *err, size_t errlen)
{
	struct plugin_set *set = calloc(1, sizeof(*set));

	*out = NULL;
	if (set == NULL || (set->e = calloc(cfg->nplugins + 1,
	    sizeof(*set->e))) == NULL) {
		free(set);
		snprintf(err, errlen, "out of memory loading plugins");
		return -1;
	}
	set->progress_fd = progress_fd;
	for (size_t i = 0; i < cfg->nplugins; i++) {
		if (plugin_load_one(set, cfg, &cfg->plugins[i], fqdn,
		    plugindir, err, errlen) != 0) {
			plugin_set_free(set);
			return -1;
		}
	}
	set->progress_fd = -1;
	*out = set;
	return 0;
}

int
plugin_set_load_here(const struct config *cfg, const char *fqdn,
    const char *plugindir, struct plugin_set **out, char *err,
    size_t errlen)
{
	return plugin_set_load_traced(cfg, fqdn, plugindir, -1, out, err,
	    errlen);
}

int
plugin_set_load(const struct config *cfg, const char *fqdn,
    const char *plugindir, struct plugin_set **out, char *err,
    size_t errlen)
{
	*out = NULL;
	if (plugin_set_trial(cfg, fqdn, plugindir, err, errlen) != 0)
		return -1;
	return plugin_set_load_here(cfg, fqdn, plugindir, out, err, errlen);
}

struct plugin_set *
plugin_set_builtin(const struct psmtpd_plugin *const *p, size_t n,
    const char *fqdn, char *err, size_t errlen)
{
	struct plugin_set *set = calloc(1, sizeof(*set));
	struct config cfg;

	if (set == NULL || (set->e = calloc(n + 1, sizeof(*set->e))) == NULL) {
		free(set);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	set->progress_fd = -1;
	config_defaults(&cfg);
	for (size_t i = 0; i < n; i++) {
		struct plugin_entry *e = &set->e[set->n++];
		struct config_plugin cp = { .name = (char *)p[i]->name };
		char why[512];
		e->p = p[i];
		snprintf(e->name, sizeof(e->name), "%s", p[i]->name);
		if (plugin_add_verbs(set, i, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "plugin %s: %s", e->name, why);
			goto fail;
		}
		if (plugin_init_one(set, i, &cfg, &cp, fqdn, err, errlen) != 0)
			goto fail;
	}
	config_free(&cfg);
	return set;
fail:
	config_free(&cfg);
	plugin_set_free(set);
	return NULL;
}

void
plugin_set_free(struct plugin_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = set->n; i-- > 0;) {
		struct plugin_entry *e = &set->e[i];
		if (e->inited && e->p->fini != NULL)
			e->p->fini(e->data);
		if (e->handle != NULL)
			dlclose(e->handle);
	}
	free(set->verbs);
	free(set->e);
	free(set);
}

const char *
plugin_set_target(const struct plugin_set *set, size_t i,
    const char **plugin)
{
	for (size_t k = 0; set != NULL && k < set->n; k++) {
		if (i < set->e[k].ntargets) {
			*plugin = set->e[k].name;
			return set->e[k].targets[i];
		}
		i -= set->e[k].ntargets;
	}
	return NULL;
}

int
plugin_set_worker_init(struct plugin_set *set)
{
	for (size_t i = 0; set != NULL && i < set->n; i++) {
		const struct psmtpd_plugin *p = set->e[i].p;
		if (p->worker_init != NULL && p->worker_init(set->e[i].data) !=
		    0) {
			log_warnx("plugin=%s worker_init failed", set->e[i].name);
			return -1;
		}
	}
	return 0;
}

void
plugin_set_worker_fini(struct plugin_set *set)
{
	for (size_t i = set != NULL ? set->n : 0; i-- > 0;) {
		const struct psmtpd_plugin *p = set->e[i].p;
		if (p->worker_fini != NULL)
			p->worker_fini(set->e[i].data);
	}
}

size_t
plugin_set_count(const struct plugin_set *set)
{
	return set != NULL ? set->n : 0;
}

const char *
plugin_set_name(const struct plugin_set *set, size_t i)
{
	return set != NULL && i < set->n ? set->e[i].name : "-";
}

const struct psmtpd_plugin *
plugin_set_plugin(const struct plugin_set *set, size_t i)
{
	return set->e[i].p;
}

int
plugin_set_timeout(const struct plugin_set *set, size_t i)
{
	return set != NULL && i < set->n ? set->e[i].timeout : 0;
}

void *
plugin_set_data(const struct plugin_set *set, size_t i)
{
	return set->e[i].data;
}

const struct psmtpd_command *
plugin_set_command(const struct plugin_set *set, const char *verb,
    size_t *plugin_index)
{
	for (size_t i = 0; set != NULL && i < set->nverbs; i++)
		if (strcmp(set->verbs[i].verb, verb) == 0) {
			if (plugin_index != NULL)
				*plugin_index = set->verbs[i].plugin;
			return set->verbs[i].cmd;
		}
	return NULL;
}

size_t
plugin_set_verb_count(const struct plugin_set *set)
{
	return set != NULL ? set->nverbs : 0;
}

const char *
plugin_set_verb(const struct plugin_set *set, size_t i)
{
	return set->verbs[i].verb;
}

bool
plugin_set_smtpd(const struct plugin_set *set, struct plugin_smtpd *out)
{
	if (set == NULL || !set->smtpd_set)
		return false;
	*out = set->smtpd;
	return true;
}
