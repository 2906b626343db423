/*
 * config_validate.c - the checks across settings, after the file, the
 * flags and the -o overrides are applied: numbers within bounds (the flags
 * bypass the table), addresses that parse, settings that exclude each
 * other, with the file and line of the later one when the file set both.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_int.h"


/* cfg_validate_ranges - every number within its row's bounds, for the
 * fields that a caller sets by hand (the flags) rather than by the table. */
static int
cfg_validate_ranges(const struct config *cfg, struct cfg_err *e)
{
	const void *p;
	long long v;

	for (size_t i = 0; i < cfg_nschema; i++) {
		const struct cfg_row *row = &cfg_schema[i];
		if (row->kind != CK_INT && row->kind != CK_LLONG)
			continue;
		p = (const char *)cfg + row->off;
		v = row->kind == CK_INT ? *(const int *)p :
		    *(const long long *)p;
		if (cfg_range(row, v, e) == -1)
			return -1;
	}
	return 0;
}

static int
cfg_validate_addrs(const struct config *cfg, struct cfg_err *e)
{
	if (cfg_validate_listeners(cfg, e) == -1)
		return -1;
	if (cfg->remote != NULL && cfg_addr("remote", cfg->remote, e) == -1)
		return -1;
	return 0;
}

/* cfg_blame - prefix a cross-setting error with "FILE:LINE: " of the
 * later of two settings that the file sets (none when neither came from
 * the file, e.g. both from -o or the flags); always -1. */
static int
cfg_blame(const struct config *cfg, struct cfg_err *e, const char *a,
    const char *b)
{
	const config_setting_t *sa = NULL, *sb = NULL, *at;
	char msg[CONFIG_ERR_MAX];

	if (cfg->have_doc) {
		sa = config_lookup(&cfg->doc, a);
		sb = config_lookup(&cfg->doc, b);
	}
	at = sa == NULL ? sb : sb == NULL ? sa :
	    config_setting_source_line(sa) > config_setting_source_line(sb) ?
	    sa : sb;
	if (at == NULL || config_setting_source_file(at) == NULL)
		return -1;
	snprintf(msg, sizeof(msg), "%s", e->msg);
	snprintf(e->msg, sizeof(e->msg), "%.300s:%u: %.700s",
	    config_setting_source_file(at), config_setting_source_line(at),
	    msg);
	return -1;
}

static int
cfg_validate_rules(const struct config *cfg, struct cfg_err *e)
{
	if (cfg->decode_data && cfg->enable_smtputf8) {
		cfg_fail(e, "decode_data and enable_smtputf8 cannot both be "
		    "true");
		return cfg_blame(cfg, e, "decode_data", "enable_smtputf8");
	}
	if (cfg->pool.min_spare > cfg->pool.max_spare) {
		cfg_fail(e, "'pool.min_spare' (%d) must be between 0 and "
		    "'pool.max_spare' (%d)", cfg->pool.min_spare,
		    cfg->pool.max_spare);
		return cfg_blame(cfg, e, "pool.min_spare", "pool.max_spare");
	}
	if (cfg->pool.start > cfg->pool.max_workers) {
		cfg_fail(e, "'pool.start' (%d) must be between 0 and "
		    "'pool.max_workers' (%d)", cfg->pool.start,
		    cfg->pool.max_workers);
		return cfg_blame(cfg, e, "pool.start", "pool.max_workers");
	}
	if (strcmp(cfg->status.format, "text") != 0 &&
	    strcmp(cfg->status.format, "prometheus") != 0) {
		cfg_fail(e, "'status.format' must be \"text\" or "
		    "\"prometheus\", not \"%s\"", cfg->status.format);
		return cfg_blame(cfg, e, "status.format", "status.format");
	}
	for (size_t i = 0; i < cfg->nplugins; i++)
		if (cfg->plugins[i].name == NULL &&
		    cfg->plugins[i].path == NULL)
			return cfg_fail(e, "plugin %zu has neither name nor "
			    "path", i + 1);
	return 0;
}

int
config_validate(const struct config *cfg, char *err, size_t errlen)
{
	struct cfg_err e = { "", NULL };

	if (cfg_validate_rules(cfg, &e) == 0 &&
	    cfg_validate_ranges(cfg, &e) == 0 &&
	    cfg_validate_addrs(cfg, &e) == 0 &&
	    cfg_validate_tls(cfg, &e) == 0)
		return 0;
	snprintf(err, errlen, "%s", e.msg);
	return -1;
}
