/*
 * init_api.c - the plugin API during init: settings and errors.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>

#include "plugin_init.h"
#include "privsep.h"

const char *
psmtpd_init_name(const psmtpd_init *ctx)
{
	return ctx->name;
}

const char *
psmtpd_init_hostname(const psmtpd_init *ctx)
{
	return ctx->hostname;
}

const char *
psmtpd_init_remote(const psmtpd_init *ctx)
{
	return ctx->remote;
}

int
psmtpd_init_target(psmtpd_init *ctx, const char *path)
{
	if (ctx->targets == NULL || *ctx->ntargets == PLUGIN_TARGETS_MAX ||
	    path == NULL || snprintf(ctx->targets[*ctx->ntargets], PATH_MAX,
	    "%s", path) >= PATH_MAX)
		return -1;
	(*ctx->ntargets)++;
	return 0;
}

/* init_where - "FILE:LINE: " of a setting (or of the entry), or "". */
static void
init_where(const psmtpd_init *ctx, const config_setting_t *st, char *buf,
    size_t size)
{
	const char *file = st ? config_setting_source_file(st) : ctx->file;
	int line = st ? (int)config_setting_source_line(st) : ctx->line;

	if (file == NULL)
		file = ctx->file;
	if (file != NULL && line > 0)
		snprintf(buf, size, "%s:%d: ", file, line);
	else
		buf[0] = '\0';
}

/* init_record_error - every error, one line each, as far as the buffer
 * goes: a user fixing a config wants them all at once. */
static void
init_record_error(psmtpd_init *ctx, const config_setting_t *st,
    const char *key, const char *text)
{
	char where[600];
	size_t off = strlen(ctx->err);

	if (ctx->failed && off + 2 >= sizeof(ctx->err))
		return;
	if (ctx->failed)
		ctx->err[off++] = '\n';
	ctx->failed = true;
	init_where(ctx, st, where, sizeof(where));
	if (key != NULL)
		snprintf(ctx->err + off, sizeof(ctx->err) - off, "%splugin %s: "
		    "setting '%s': %s", where, ctx->name, key, text);
	else
		snprintf(ctx->err + off, sizeof(ctx->err) - off, "%splugin %s: "
		    "%s", where, ctx->name, text);
}

void
psmtpd_init_error(psmtpd_init *ctx, const char *key, const char *fmt, ...)
{
	char text[600];
	va_list ap;
	const config_setting_t *st = NULL;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (key != NULL && ctx->settings != NULL)
		st = config_setting_get_member(ctx->settings, key);
	init_record_error(ctx, st, key, text);
}

/* init_lookup - the member `key`, remembered as read; NULL if absent. */
static const config_setting_t *
init_lookup(psmtpd_init *ctx, const char *key)
{
	bool known = false;

	for (size_t i = 0; i < ctx->nread && !known; i++)
		known = strcmp(ctx->read[i], key) == 0;
	if (!known && ctx->nread < PLUGIN_INIT_KEYS_MAX)
		snprintf(ctx->read[ctx->nread++], PLUGIN_INIT_KEY_LEN, "%s",
		    key);
	if (ctx->settings == NULL)
		return NULL;
	return config_setting_get_member(ctx->settings, key);
}

/* init_type_error - the setting exists with another type. */
static int
init_type_error(psmtpd_init *ctx, const config_setting_t *st,
    const char *key, const char *want)
{
	char text[100];

	snprintf(text, sizeof(text), "must be %s", want);
	init_record_error(ctx, st, key, text);
	return -1;
}

int
psmtpd_setting_string(psmtpd_init *ctx, const char *key, const char **out)
{
	const config_setting_t *st = init_lookup(ctx, key);

	if (st == NULL)
		return 0;
	if (config_setting_type(st) != CONFIG_TYPE_STRING)
		return init_type_error(ctx, st, key, "a string");
	*out = config_setting_get_string(st);
	return 1;
}

int
psmtpd_setting_int(psmtpd_init *ctx, const char *key, long long *out)
{
	const config_setting_t *st = init_lookup(ctx, key);

	if (st == NULL)
		return 0;
	if (config_setting_type(st) != CONFIG_TYPE_INT &&
	    config_setting_type(st) != CONFIG_TYPE_INT64)
		return init_type_error(ctx, st, key, "an integer");
	*out = config_setting_get_int64(st);
	return 1;
}

int
psmtpd_setting_bool(psmtpd_init *ctx, const char *key, int *out)
{
	const config_setting_t *st = init_lookup(ctx, key);

	if (st == NULL)
		return 0;
	if (config_setting_type(st) != CONFIG_TYPE_BOOL)
		return init_type_error(ctx, st, key, "true or false");
	*out = config_setting_get_bool(st);
	return 1;
}

int
psmtpd_setting_strings(psmtpd_init *ctx, const char *key, size_t *count)
{
	const config_setting_t *st = init_lookup(ctx, key);

	if (st == NULL)
		return 0;
	if (config_setting_type(st) == CONFIG_TYPE_STRING) {
		*count = 1;
		return 1;
	}
	if (!config_setting_is_aggregate(st) || config_setting_is_group(st))
		return init_type_error(ctx, st, key, "a list of strings");
	int n = config_setting_length(st);
	for (int i = 0; i < n; i++)
		if (config_setting_type(config_setting_get_elem(st,
		    (unsigned)i)) != CONFIG_TYPE_STRING)
			return init_type_error(ctx, st, key,
			    "a list of strings");
	*count = (size_t)n;
	return 1;
}

const char *
psmtpd_setting_strings_at(psmtpd_init *ctx, const char *key, size_t i)
{
	const config_setting_t *st = init_lookup(ctx, key);

	if (st == NULL)
		return NULL;
	if (config_setting_type(st) == CONFIG_TYPE_STRING)
		return i == 0 ? config_setting_get_string(st) : NULL;
	const config_setting_t *e = config_setting_get_elem(st, (unsigned)i);
	return e != NULL ? config_setting_get_string(e) : NULL;
}

int
plugin_init_check_unread(struct psmtpd_init *ctx)
{
	int n = ctx->settings ? config_setting_length(ctx->settings) : 0;

	for (int i = 0; i < n; i++) {
		const config_setting_t *st = config_setting_get_elem(
		    ctx->settings, (unsigned)i);
		const char *name = config_setting_name(st);
		bool known = false;
		for (size_t k = 0; k < ctx->nread && !known; k++)
			known = strcmp(ctx->read[k], name) == 0;
		if (!known)
			init_record_error(ctx, st, name, "unknown setting");
	}
	return ctx->failed ? -1 : 0;
}

int
psmtpd_init_command(psmtpd_init *ctx, const struct psmtpd_command *cmd)
{
	if (cmd == NULL || cmd->verb == NULL || cmd->handler == NULL ||
	    !plugin_valid_verb(cmd->verb)) {
		init_record_error(ctx, NULL, NULL, "a command is not a valid "
		    "verb with a handler");
		return -1;
	}
	if (ctx->ncommands == PLUGIN_INIT_COMMANDS_MAX) {
		init_record_error(ctx, NULL, NULL, "too many commands");
		return -1;
	}
	ctx->commands[ctx->ncommands++] = cmd;
	return 0;
}

void
psmtpd_init_smtpd_settings(const psmtpd_init *ctx,
    struct psmtpd_smtpd_settings *out)
{
	const struct config *c = ctx->cfg;

	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return;
	out->localaddr = c->nlisten > 0 ? c->listen[0].address : NULL;
	out->data_size_limit = c->data_size_limit;
	out->enable_smtputf8 = c->enable_smtputf8;
	out->decode_data = c->decode_data;
}

int
psmtpd_init_set_smtpd_settings(psmtpd_init *ctx, long long data_size_limit,
    int enable_smtputf8, int decode_data)
{
	if (data_size_limit < 0 || (enable_smtputf8 && decode_data)) {
		init_record_error(ctx, NULL, NULL, data_size_limit < 0 ?
		    "a negative data_size_limit" : "decode_data and "
		    "enable_SMTPUTF8 cannot both be true");
		return -1;
	}
	ctx->smtpd_set = true;
	ctx->smtpd = (struct plugin_smtpd){ data_size_limit,
	    enable_smtputf8 != 0, decode_data != 0 };
	return 0;
}

int
psmtpd_init_drop_privileges(const psmtpd_init *ctx)
{
	struct privsep_creds creds;
	char err[256];

	if (ctx->cfg == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (privsep_resolve(ctx->cfg->user, ctx->cfg->group,
	    ctx->cfg->no_setuid, &creds, err, sizeof(err)) != 0 ||
	    privsep_drop(&creds, err, sizeof(err)) != 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}
