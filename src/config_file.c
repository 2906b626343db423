/*
 * config_file.c - values from the libconfig document: every setting of a
 * group must be a row of the schema, read by its kind (cfg_kinds), with
 * errors that point at the setting's file and line; and the reader of a
 * list of groups by a table of keys, for `plugins` and `tls.sni`.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"

#define CFG_PATH_MAX 256

/* The keys of one entry of `plugins`. */
static const struct cfg_entry_key cfg_plugin_keys[] = {
	{ "name", CE_STRING, offsetof(struct config_plugin, name) },
	{ "path", CE_STRING, offsetof(struct config_plugin, path) },
	{ "settings", CE_GROUP, offsetof(struct config_plugin, settings) },
	{ "timeout", CE_TIMEOUT, offsetof(struct config_plugin, timeout) },
};

static int
cfg_group_from_setting(struct config *cfg, const struct cfg_row *row,
    const config_setting_t *s, struct cfg_err *e)
{
	if (!config_setting_is_group(s))
		return cfg_fail(e, "'%s' must be a group: %s = { ... };",
		    row->path, row->path);
	return cfg_walk(cfg, s, row->path, e);
}

static int
cfg_bool_from_setting(struct config *cfg, const struct cfg_row *row,
    const config_setting_t *s, struct cfg_err *e)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return cfg_fail(e, "'%s' must be true or false", row->path);
	*(bool *)cfg_field(cfg, row) = config_setting_get_bool(s) != 0;
	return 0;
}

/* cfg_resolve - a file name as libconfig keeps it, as a path that opens:
 * an @include's name is kept as written, relative to the include
 * directory (the directory of the main file). */
const char *
cfg_resolve(const struct config *cfg, const char *file, char *buf,
    size_t len)
{
	if (file == NULL)
		return cfg->file;
	if (file[0] == '/' || cfg->doc.include_dir == NULL ||
	    (cfg->file != NULL && strcmp(file, cfg->file) == 0))
		return file;
	snprintf(buf, len, "%s/%s", cfg->doc.include_dir, file);
	return buf;
}

/* cfg_written - the integer written after "name =" or "name:" in a line
 * (too big for long long reads as LLONG_MAX). */
static long long
cfg_written(const char *q)
{
	long long v;

	q += 1 + strspn(q + 1, " \t");
	errno = 0;
	if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
		v = (long long)strtoull(q, NULL, 16);
	else
		v = strtoll(q, NULL, 10);
	return errno == ERANGE ? LLONG_MAX : v;
}

/* cfg_line_disagrees - whether every "name =" of the line says another
 * number than v (the first in *written); false when none is there. */
static bool
cfg_line_disagrees(const char *line, const char *name, long long v,
    long long *written)
{
	size_t n = strlen(name);
	bool found = false;

	for (const char *p = strstr(line, name); p != NULL;
	    p = strstr(p + 1, name)) {
		const char *q = p + n + strspn(p + n, " \t");
		if ((p > line && (isalnum((unsigned char)p[-1]) ||
		    p[-1] == '_')) || (*q != '=' && *q != ':'))
			continue;
		if (cfg_written(q) == v)
			return false;
		if (!found)
			*written = cfg_written(q);
		found = true;
	}
	return found;
}

/* cfg_int_cut - libconfig 1.5 reads 4294967296 written without an L as a
 * 32-bit int, cut silently (to 0 here, "no limit" for a size).  Read the
 * number back from the source line; -1 when it says otherwise. */
static int
cfg_int_cut(const struct config *cfg, const config_setting_t *s,
    long long *written)
{
	char buf[PATH_MAX], *line = NULL;
	size_t cap = 0;
	unsigned int n = 0, want = config_setting_source_line(s);
	FILE *fp;
	int rc = 0;

	if (config_setting_type(s) != CONFIG_TYPE_INT ||
	    config_setting_name(s) == NULL || (fp = fopen(cfg_resolve(cfg,
	    config_setting_source_file(s), buf, sizeof(buf)), "r")) == NULL)
		return 0;
	while (n < want && getline(&line, &cap, fp) != -1)
		n++;
	if (n == want && want > 0 && cfg_line_disagrees(line,
	    config_setting_name(s), config_setting_get_int64(s), written))
		rc = -1;
	free(line);
	fclose(fp);
	return rc;
}

static int
cfg_int_from_setting(struct config *cfg, const struct cfg_row *row,
    const config_setting_t *s, struct cfg_err *e)
{
	int type = config_setting_type(s);
	long long written;

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return cfg_fail(e, "'%s' must be an integer", row->path);
	if (cfg_int_cut(cfg, s, &written) == -1)
		return cfg_fail(e, "'%s': %lld is beyond 32 bits and needs an "
		    "L: %lldL", row->path, written, written);
	return cfg_store_int(cfg, row, config_setting_get_int64(s), e);
}

/* cfg_string_from_setting - a string, then as the same text after -o. */
static int
cfg_string_from_setting(struct config *cfg, const struct cfg_row *row,
    const config_setting_t *s, struct cfg_err *e)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_fail(e, "'%s' must be a string", row->path);
	return cfg_kinds[row->kind].from_text(cfg, row,
	    config_setting_get_string(s), e);
}

void
cfg_free_plugins(struct config_plugin *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].path);
		free(p[i].file);
	}
	free(p);
}

/* cfg_entry_timeout - a `timeout` key: whole seconds, 0 for none. */
static int
cfg_entry_timeout(int *field, const config_setting_t *k, const char *path,
    int index, struct cfg_err *e)
{
	if (config_setting_type(k) != CONFIG_TYPE_INT ||
	    config_setting_get_int(k) < 0 ||
	    config_setting_get_int(k) > CONFIG_TIMEOUT_MAX)
		return cfg_fail(e, "'%s.[%d].%s' must be a number of seconds "
		    "from 0 to %d", path, index, config_setting_name(k),
		    CONFIG_TIMEOUT_MAX);
	*field = config_setting_get_int(k);
	return 0;
}

/* cfg_entry_value - the value of one key k of an entry, by its kind. */
static int
cfg_entry_value(void *field, enum cfg_entry_kind kind,
    const config_setting_t *k, const char *path, int index,
    struct cfg_err *e)
{
	const char *key = config_setting_name(k);

	if (kind == CE_TIMEOUT)
		return cfg_entry_timeout(field, k, path, index, e);
	if (kind == CE_GROUP) {
		if (!config_setting_is_group(k))
			return cfg_fail(e, "'%s.[%d].%s' must be a group",
			    path, index, key);
		*(const config_setting_t **)field = k;
		return 0;
	}
	if (config_setting_type(k) != CONFIG_TYPE_STRING ||
	    *config_setting_get_string(k) == '\0')
		return cfg_fail(e, "'%s.[%d].%s' must be a non-empty string",
		    path, index, key);
	if (config_set_string(field, config_setting_get_string(k)) != 0)
		return cfg_fail(e, "out of memory");
	return 0;
}

/* cfg_entry_key - one key of an entry, by the list's table of keys. */
static int
cfg_entry_key(const struct cfg_list *l, void *entry,
    const config_setting_t *k, const char *path, int index,
    struct cfg_err *e)
{
	const char *key = config_setting_name(k);

	e->at = k;
	for (size_t i = 0; i < l->nkeys; i++)
		if (strcmp(key, l->keys[i].key) == 0)
			return cfg_entry_value((char *)entry + l->keys[i].off,
			    l->keys[i].kind, k, path, index, e);
	return cfg_fail(e, "unknown setting '%s.[%d].%s' (%s)", path, index,
	    key, l->names);
}

/* cfg_entry - one group of the list: its keys, then what it needs. */
static int
cfg_entry(const struct cfg_list *l, void *entry, const config_setting_t *g,
    const char *path, int index, struct cfg_err *e)
{
	e->at = g;
	if (!config_setting_is_group(g))
		return cfg_fail(e, "'%s.[%d]' must be a group: %s", path, index,
		    l->entry_shape);
	for (int i = 0; i < config_setting_length(g); i++)
		if (cfg_entry_key(l, entry, config_setting_get_elem(g, i), path,
		    index, e) == -1)
			return -1;
	e->at = g;
	return l->done(entry, g, path, index, e);
}

void *
cfg_list_from_setting(const struct cfg_list *l, const struct cfg_row *row,
    const config_setting_t *s, size_t *np, struct cfg_err *e)
{
	size_t n;
	char *list;

	if (!config_setting_is_list(s)) {
		cfg_fail(e, "'%s' must be a list of groups: %s", row->path,
		    l->list_shape);
		return NULL;
	}
	n = (size_t)config_setting_length(s);
	if ((list = calloc(n + 1, l->size)) == NULL) {
		cfg_fail(e, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (cfg_entry(l, list + i * l->size, config_setting_get_elem(s,
		    (int)i), row->path, (int)i, e) == -1) {
			l->free(list, n);
			return NULL;
		}
	*np = n;
	return list;
}

static void
cfg_free_plugin_list(void *list, size_t n)
{
	cfg_free_plugins(list, n);
}

/* cfg_plugin_done - where the entry is (for the plugin's own errors),
 * and a name or a path. */
static int
cfg_plugin_done(void *entry, const config_setting_t *g, const char *path,
    int index, struct cfg_err *e)
{
	struct config_plugin *p = entry;
	const char *file = config_setting_source_file(g);

	p->line = (int)config_setting_source_line(g);
	if (file != NULL && (p->file = strdup(file)) == NULL)
		return cfg_fail(e, "out of memory");
	if (p->name == NULL && p->path == NULL)
		return cfg_fail(e, "'%s.[%d]' needs a name or a path", path,
		    index);
	return 0;
}

static const struct cfg_list cfg_plugin_list = {
	cfg_plugin_keys, NELEM(cfg_plugin_keys), sizeof(struct config_plugin),
	"( { name = \"...\"; }, ... )", "{ name = \"...\"; }",
	"name, path, settings, timeout", cfg_plugin_done,
	cfg_free_plugin_list,
};

/* cfg_plugins_from_setting - ( { name = ..; path = ..; settings = {..} } ) */
static int
cfg_plugins_from_setting(struct config *cfg, const struct cfg_row *row,
    const config_setting_t *s, struct cfg_err *e)
{
	size_t n;
	struct config_plugin *list = cfg_list_from_setting(&cfg_plugin_list,
	    row, s, &n, e);

	if (list == NULL)
		return -1;
	cfg_free_plugins(cfg->plugins, cfg->nplugins);
	cfg->plugins = list;
	cfg->nplugins = n;
	return 0;
}

/* cfg_walk - every setting of a group must be a row of the schema. */
int
cfg_walk(struct config *cfg, const config_setting_t *group,
    const char *prefix, struct cfg_err *e)
{
	char path[CFG_PATH_MAX];
	const struct cfg_row *row;

	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *s = config_setting_get_elem(group, i);
		snprintf(path, sizeof(path), "%s%s%s", prefix,
		    *prefix != '\0' ? "." : "", config_setting_name(s));
		e->at = s;
		if ((row = cfg_row_find(path)) == NULL)
			return cfg_fail(e, "unknown setting '%s'", path);
		if (cfg_kinds[row->kind].from_setting(cfg, row, s, e) == -1)
			return -1;
	}
	return 0;
}

const struct cfg_kind_ops cfg_kinds[] = {
	[CK_GROUP] = { cfg_group_from_setting, cfg_no_text },
	[CK_BOOL] = { cfg_bool_from_setting, cfg_bool_from_text },
	[CK_INT] = { cfg_int_from_setting, cfg_int_from_text },
	[CK_LLONG] = { cfg_int_from_setting, cfg_int_from_text },
	[CK_STRING] = { cfg_string_from_setting, cfg_store_string },
	[CK_ADDR] = { cfg_string_from_setting, cfg_store_string },
	[CK_HOST] = { cfg_string_from_setting, cfg_store_string },
	[CK_LISTEN] = { cfg_listen_from_setting, cfg_listen_from_text },
	[CK_FACILITY] = { cfg_string_from_setting, cfg_store_name },
	[CK_LEVEL] = { cfg_string_from_setting, cfg_store_name },
	[CK_PLUGINS] = { cfg_plugins_from_setting, cfg_no_text },
	[CK_TLS_SNI] = { cfg_tls_sni_from_setting, cfg_no_text },
	[CK_AUTH_MECHS] = { cfg_auth_mechs_from_setting,
	    cfg_auth_mechs_from_text },
};
