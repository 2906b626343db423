/*
 * config.c - the settings of psmtpd: built-in defaults, a libconfig file
 * read against one schema table, and the checks across settings.  The
 * text of -o overrides goes through the same table in config_text.c.
 *
 * Every setting is one row of cfg_schema (dotted path, kind, field,
 * bounds); what a kind accepts, from the file or from the command line,
 * is one row of cfg_kinds.  A new setting is a new row, not new code.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>

#include "addr.h"
#include "config.h"
#include "config_int.h"
#include "log.h"

#ifndef PSMTPD_RUNSTATEDIR
#define PSMTPD_RUNSTATEDIR "/run"
#endif

#define CFG_PATH_MAX 256

#define F(field) offsetof(struct config, field)
#define TIMEOUT(name) \
	{ "timeouts." #name, CK_INT, F(timeouts.name), 0, CONFIG_TIMEOUT_MAX }

static const struct cfg_row cfg_schema[] = {
	{ "listen", CK_LISTEN, 0, 0, 0 },
	{ "remote", CK_ADDR, F(remote), 0, 0 },
	{ "hostname", CK_HOST, F(hostname), 0, 0 },
	{ "data_size_limit", CK_LLONG, F(data_size_limit), 0, LLONG_MAX },
	{ "command_size_limit", CK_LLONG, F(command_size_limit),
	    CONFIG_COMMAND_SIZE_MIN, CONFIG_COMMAND_SIZE_MAX },
	{ "enable_smtputf8", CK_BOOL, F(enable_smtputf8), 0, 0 },
	{ "decode_data", CK_BOOL, F(decode_data), 0, 0 },
	{ "user", CK_STRING, F(user), 0, 0 },
	{ "group", CK_STRING, F(group), 0, 0 },
	{ "pidfile", CK_STRING, F(pidfile), 0, 0 },
	{ "listen_backlog", CK_INT, F(listen_backlog), 1, 65535 },
	{ "log", CK_GROUP, 0, 0, 0 },
	{ "log.syslog_facility", CK_FACILITY, F(log.facility), 0, 0 },
	{ "log.level", CK_LEVEL, F(log.level), 0, 0 },
	{ "timeouts", CK_GROUP, 0, 0, 0 },
	TIMEOUT(command), TIMEOUT(data), TIMEOUT(shutdown), TIMEOUT(session),
	{ "limits", CK_GROUP, 0, 0, 0 },
	{ "limits.max_recipients", CK_LLONG, F(limits.max_recipients),
	    1, LLONG_MAX },
	{ "limits.max_errors", CK_LLONG, F(limits.max_errors), 0, LLONG_MAX },
	{ "limits.max_connections_per_client", CK_LLONG,
	    F(limits.max_connections_per_client), 0, LLONG_MAX },
	{ "limits.max_message_size", CK_LLONG, F(limits.max_message_size),
	    1, LLONG_MAX },
	{ "pool", CK_GROUP, 0, 0, 0 },
	{ "pool.start", CK_INT, F(pool.start), 0, CONFIG_WORKERS_MAX },
	{ "pool.min_spare", CK_INT, F(pool.min_spare), 0, CONFIG_WORKERS_MAX },
	{ "pool.max_spare", CK_INT, F(pool.max_spare), 0, CONFIG_WORKERS_MAX },
	{ "pool.max_workers", CK_INT, F(pool.max_workers),
	    1, CONFIG_WORKERS_MAX },
	{ "pool.max_connections_per_worker", CK_LLONG,
	    F(pool.max_connections_per_worker), 0, LLONG_MAX },
	{ "pool.busy_reply", CK_BOOL, F(pool.busy_reply), 0, 0 },
	{ "plugins", CK_PLUGINS, 0, 0, 0 },
};

/* The keys of one entry of `plugins`. */
enum cfg_entry_kind { CE_STRING, CE_GROUP };

static const struct {
	const char *key;
	enum cfg_entry_kind kind;
	size_t off;
} cfg_entry_schema[] = {
	{ "name", CE_STRING, offsetof(struct config_plugin, name) },
	{ "path", CE_STRING, offsetof(struct config_plugin, path) },
	{ "settings", CE_GROUP, offsetof(struct config_plugin, settings) },
};

/* cfg_fail - write a message for the caller to prefix; always -1. */
int
cfg_fail(struct cfg_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void *
cfg_field(struct config *cfg, const struct cfg_row *row)
{
	return (char *)cfg + row->off;
}

const struct cfg_row *
cfg_row_find(const char *path)
{
	for (size_t i = 0; i < NELEM(cfg_schema); i++)
		if (strcmp(cfg_schema[i].path, path) == 0)
			return &cfg_schema[i];
	return NULL;
}

/* ---- storing a value, whatever its source -------------------------- */

/* cfg_range - whether v is within the row's bounds; -1 with a message. */
static int
cfg_range(const struct cfg_row *row, long long v, struct cfg_err *e)
{
	if (v >= row->min && v <= row->max)
		return 0;
	if (row->max == LLONG_MAX && row->min == 0)
		return cfg_fail(e, "'%s' must not be negative", row->path);
	if (row->max == LLONG_MAX)
		return cfg_fail(e, "'%s' must be at least %lld", row->path,
		    row->min);
	return cfg_fail(e, "'%s' must be between %lld and %lld", row->path,
	    row->min, row->max);
}

/* cfg_store_int - range-check and store into an int or long long field. */
int
cfg_store_int(struct config *cfg, const struct cfg_row *row, long long v,
    struct cfg_err *e)
{
	if (cfg_range(row, v, e) == -1)
		return -1;
	if (row->kind == CK_INT)
		*(int *)cfg_field(cfg, row) = (int)v;
	else
		*(long long *)cfg_field(cfg, row) = v;
	return 0;
}

/* cfg_addr - whether a listen or remote spec parses; -1 with a message. */
static int
cfg_addr(const char *what, const char *spec, struct cfg_err *e)
{
	struct addr_spec out;
	const char *why;

	if (addr_parse(spec, &out, &why) == -1)
		return cfg_fail(e, "'%s': bad address '%s': %s", what, spec,
		    why);
	return 0;
}

int
cfg_store_string(struct config *cfg, const struct cfg_row *row,
    const char *s, struct cfg_err *e)
{
	if (*s == '\0')
		return cfg_fail(e, "'%s' must not be empty", row->path);
	if (row->kind == CK_ADDR && cfg_addr(row->path, s, e) == -1)
		return -1;
	/* it goes into the 220 and 250 replies: no CR LF smuggled there */
	for (const char *c = s; row->kind == CK_HOST && *c != '\0'; c++)
		if (*c <= ' ' || *c >= 0x7f)
			return cfg_fail(e, "'%s' must be one word of printable "
			    "ASCII", row->path);
	if (config_set_string(cfg_field(cfg, row), s) == -1)
		return cfg_fail(e, "out of memory");
	return 0;
}

/* cfg_store_name - a facility or level by name, through log.h's tables. */
int
cfg_store_name(struct config *cfg, const struct cfg_row *row,
    const char *s, struct cfg_err *e)
{
	int v;

	if (row->kind == CK_FACILITY) {
		if ((v = log_facility_from_name(s)) == -1)
			return cfg_fail(e, "'%s': unknown syslog facility '%s'"
			    " (mail, daemon, user, local0..local7)",
			    row->path, s);
	} else if ((v = log_level_from_name(s)) == -1)
		return cfg_fail(e, "'%s': unknown log level '%s'"
		    " (debug, info, notice, warning, err)", row->path, s);
	*(int *)cfg_field(cfg, row) = v;
	return 0;
}

static void
cfg_free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* cfg_store_listen - check every spec, then replace the whole list. */
int
cfg_store_listen(struct config *cfg, const char *const *specs, size_t n,
    struct cfg_err *e)
{
	char **list;

	if (n == 0)
		return cfg_fail(e, "'listen' must name at least one address");
	for (size_t i = 0; i < n; i++)
		if (cfg_addr("listen", specs[i], e) == -1)
			return -1;
	if ((list = calloc(n, sizeof(*list))) == NULL)
		return cfg_fail(e, "out of memory");
	for (size_t i = 0; i < n; i++)
		if ((list[i] = strdup(specs[i])) == NULL) {
			cfg_free_list(list, i);
			return cfg_fail(e, "out of memory");
		}
	cfg_free_list(cfg->listen, cfg->nlisten);
	cfg->listen = list;
	cfg->nlisten = n;
	return 0;
}

/* ---- from the file --------------------------------------------------- */

static int
cfg_walk(struct config *cfg, const config_setting_t *group,
    const char *prefix, struct cfg_err *e);

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
static const char *
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

/* cfg_listen_from_setting - "spec", [ "spec", ... ] or ( "spec", ... ). */
static int
cfg_listen_from_setting(struct config *cfg, const struct cfg_row *row,
    const config_setting_t *s, struct cfg_err *e)
{
	const char *one, **specs;
	int n, rc;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		one = config_setting_get_string(s);
		return cfg_store_listen(cfg, &one, 1, e);
	}
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return cfg_fail(e, "'%s' must be a string or a list of "
		    "strings", row->path);
	n = config_setting_length(s);
	if ((specs = calloc((size_t)n + 1, sizeof(*specs))) == NULL)
		return cfg_fail(e, "out of memory");
	rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		const config_setting_t *el = config_setting_get_elem(s, i);
		if (config_setting_type(el) != CONFIG_TYPE_STRING) {
			e->at = el;
			rc = cfg_fail(e, "'%s' must be a string or a list of "
			    "strings", row->path);
		} else
			specs[i] = config_setting_get_string(el);
	}
	if (rc == 0)
		rc = cfg_store_listen(cfg, specs, (size_t)n, e);
	free(specs);
	return rc;
}

static void
cfg_free_plugins(struct config_plugin *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].path);
		free(p[i].file);
	}
	free(p);
}

/* cfg_entry_key - one key of a `plugins` entry, by cfg_entry_schema. */
static int
cfg_entry_key(struct config_plugin *p, const config_setting_t *k,
    int index, struct cfg_err *e)
{
	const char *key = config_setting_name(k);

	e->at = k;
	for (size_t i = 0; i < NELEM(cfg_entry_schema); i++) {
		void *field = (char *)p + cfg_entry_schema[i].off;
		if (strcmp(key, cfg_entry_schema[i].key) != 0)
			continue;
		if (cfg_entry_schema[i].kind == CE_GROUP) {
			if (!config_setting_is_group(k))
				return cfg_fail(e, "'plugins.[%d].%s' must be "
				    "a group", index, key);
			*(const config_setting_t **)field = k;
			return 0;
		}
		if (config_setting_type(k) != CONFIG_TYPE_STRING ||
		    *config_setting_get_string(k) == '\0')
			return cfg_fail(e, "'plugins.[%d].%s' must be a "
			    "non-empty string", index, key);
		if (config_set_string(field, config_setting_get_string(k)))
			return cfg_fail(e, "out of memory");
		return 0;
	}
	return cfg_fail(e, "unknown setting 'plugins.[%d].%s' (name, path, "
	    "settings)", index, key);
}

static int
cfg_entry(struct config_plugin *p, const config_setting_t *g, int index,
    struct cfg_err *e)
{
	const char *file = config_setting_source_file(g);

	e->at = g;
	if (!config_setting_is_group(g))
		return cfg_fail(e, "'plugins.[%d]' must be a group: "
		    "{ name = \"...\"; }", index);
	p->line = (int)config_setting_source_line(g);
	if (file != NULL && (p->file = strdup(file)) == NULL)
		return cfg_fail(e, "out of memory");
	for (int i = 0; i < config_setting_length(g); i++)
		if (cfg_entry_key(p, config_setting_get_elem(g, i), index,
		    e) == -1)
			return -1;
	e->at = g;
	if (p->name == NULL && p->path == NULL)
		return cfg_fail(e, "'plugins.[%d]' needs a name or a path",
		    index);
	return 0;
}

/* cfg_plugins_from_setting - ( { name = ..; path = ..; settings = {..} } ) */
static int
cfg_plugins_from_setting(struct config *cfg, const struct cfg_row *row,
    const config_setting_t *s, struct cfg_err *e)
{
	struct config_plugin *list;
	size_t n;

	if (!config_setting_is_list(s))
		return cfg_fail(e, "'%s' must be a list of groups: "
		    "( { name = \"...\"; }, ... )", row->path);
	n = (size_t)config_setting_length(s);
	if ((list = calloc(n + 1, sizeof(*list))) == NULL)
		return cfg_fail(e, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (cfg_entry(&list[i], config_setting_get_elem(s, (int)i),
		    (int)i, e) == -1) {
			cfg_free_plugins(list, n);
			return -1;
		}
	cfg_free_plugins(cfg->plugins, cfg->nplugins);
	cfg->plugins = list;
	cfg->nplugins = n;
	return 0;
}

/* cfg_walk - every setting of a group must be a row of the schema. */
static int
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
};

/* ---- the interface ---------------------------------------------------- */

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->data_size_limit = CONFIG_DEFAULT_DATA_SIZE_LIMIT;
	cfg->command_size_limit = CONFIG_DEFAULT_COMMAND_SIZE_LIMIT;
	cfg->listen_backlog = CONFIG_DEFAULT_LISTEN_BACKLOG;
	cfg->log.facility = LOG_MAIL;
	cfg->log.level = LOG_INFO;
	cfg->timeouts.command = 300;
	cfg->timeouts.data = 600;
	cfg->timeouts.shutdown = 30;
	cfg->timeouts.session = 0;
	cfg->limits.max_recipients = 1000;
	cfg->limits.max_errors = 20;
	cfg->limits.max_connections_per_client = 0;
	cfg->limits.max_message_size = CONFIG_DEFAULT_MAX_MESSAGE_SIZE;
	cfg->pool.start = 5;
	cfg->pool.min_spare = 5;
	cfg->pool.max_spare = 10;
	cfg->pool.max_workers = 150;
	cfg->pool.max_connections_per_worker = 10000;
	cfg->pool.busy_reply = false;
	/* Strings: out of memory this early is a broken environment. */
	if ((cfg->listen = calloc(1, sizeof(*cfg->listen))) == NULL ||
	    (cfg->listen[0] = strdup(CONFIG_DEFAULT_LISTEN)) == NULL ||
	    config_set_string(&cfg->remote, CONFIG_DEFAULT_REMOTE) == -1 ||
	    config_set_string(&cfg->user, CONFIG_DEFAULT_USER) == -1 ||
	    config_set_string(&cfg->pidfile,
	    PSMTPD_RUNSTATEDIR "/psmtpd.pid") == -1)
		fatal("config: out of memory");
	cfg->nlisten = 1;
}

void
config_free(struct config *cfg)
{
	cfg_free_list(cfg->listen, cfg->nlisten);
	cfg_free_plugins(cfg->plugins, cfg->nplugins);
	free(cfg->remote);
	free(cfg->hostname);
	free(cfg->user);
	free(cfg->group);
	free(cfg->pidfile);
	free(cfg->file);
	if (cfg->have_doc)
		config_destroy(&cfg->doc);
	memset(cfg, 0, sizeof(*cfg));
}

int
config_set_string(char **field, const char *value)
{
	char *copy = NULL;

	if (value != NULL && (copy = strdup(value)) == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

const char *
config_setting_path(size_t i)
{
	for (size_t r = 0; r < NELEM(cfg_schema); r++)
		if (cfg_schema[r].kind != CK_GROUP && i-- == 0)
			return cfg_schema[r].path;
	return NULL;
}

/* cfg_read - parse the file into cfg->doc; @include is relative to it. */
static int
cfg_read(struct config *cfg, const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char *dir, buf[PATH_MAX];
	struct stat st;
	bool isdir;

	config_init(&cfg->doc);
	cfg->have_doc = true;
	if (slash != NULL) {
		if ((dir = strndup(path, slash == path ? 1 :
		    (size_t)(slash - path))) == NULL) {
			snprintf(err, errlen, "%s: out of memory", path);
			return -1;
		}
		config_set_include_dir(&cfg->doc, dir);
		free(dir);
	}
	/* libconfig opens a directory and reports a bare "I/O error" */
	isdir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	errno = isdir ? EISDIR : 0;
	if (!isdir && config_read_file(&cfg->doc, path) == CONFIG_TRUE)
		return 0;
	if (isdir || config_error_type(&cfg->doc) == CONFIG_ERR_FILE_IO)
		snprintf(err, errlen, "%s: cannot read: %s", path,
		    errno != 0 ? strerror(errno) : "I/O error");
	else
		snprintf(err, errlen, "%s:%d: %s", cfg_resolve(cfg,
		    config_error_file(&cfg->doc), buf, sizeof(buf)),
		    config_error_line(&cfg->doc),
		    config_error_text(&cfg->doc));
	return -1;
}

int
config_load_file(struct config *cfg, const char *path, char *err,
    size_t errlen)
{
	struct cfg_err e = { "", NULL };
	char buf[PATH_MAX];

	if (cfg->have_doc) {
		snprintf(err, errlen, "%s: a configuration file was already "
		    "read into this config", path);
		return -1;
	}
	if (config_set_string(&cfg->file, path) == -1) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if (cfg_read(cfg, path, err, errlen) == -1)
		return -1;
	if (cfg_walk(cfg, config_root_setting(&cfg->doc), "", &e) == 0)
		return 0;
	snprintf(err, errlen, "%s:%u: %s", cfg_resolve(cfg,
	    config_setting_source_file(e.at), buf, sizeof(buf)),
	    config_setting_source_line(e.at), e.msg);
	return -1;
}

/* cfg_is_path - "x.so" or anything with a slash is a file, else a name. */
static bool
cfg_is_path(const char *s)
{
	size_t n = strlen(s);

	return strchr(s, '/') != NULL || (n > 3 && strcmp(s + n - 3,
	    ".so") == 0);
}

int
config_set_class(struct config *cfg, const char *name_or_path, char *err,
    size_t errlen)
{
	struct config_plugin *p;

	if (*name_or_path == '\0') {
		snprintf(err, errlen, "-c: empty class name");
		return -1;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    config_set_string(cfg_is_path(name_or_path) ? &p->path : &p->name,
	    name_or_path) == -1) {
		free(p);
		snprintf(err, errlen, "-c %s: out of memory", name_or_path);
		return -1;
	}
	cfg_free_plugins(cfg->plugins, cfg->nplugins);
	cfg->plugins = p;
	cfg->nplugins = 1;
	return 0;
}

/* ---- checks across settings ----------------------------------------- */

/* cfg_validate_ranges - every number within its row's bounds, for the
 * fields that a caller sets by hand (the flags) rather than by the table. */
static int
cfg_validate_ranges(const struct config *cfg, struct cfg_err *e)
{
	const void *p;
	long long v;

	for (size_t i = 0; i < NELEM(cfg_schema); i++) {
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
	if (cfg->nlisten == 0)
		return cfg_fail(e, "'listen' must name at least one address");
	for (size_t i = 0; i < cfg->nlisten; i++)
		if (cfg_addr("listen", cfg->listen[i], e) == -1)
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
	    cfg_validate_addrs(cfg, &e) == 0)
		return 0;
	snprintf(err, errlen, "%s", e.msg);
	return -1;
}
