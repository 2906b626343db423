/*
 * config.c - the settings of psmtpd: built-in defaults, loading a file,
 * the -c class, freeing.  The table of settings is in config_schema.c,
 * reading the file's values in config_file.c, the text of -o overrides in
 * config_text.c, the checks across settings in config_validate.c.
 */
#include "autoconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>

#include "config.h"
#include "config_int.h"
#include "log.h"

#include "paths.h"	/* PSMTPD_RUNSTATEDIR, from the configured prefix */
#define CONFIG_DEFAULT_STATUS_FILE PSMTPD_RUNSTATEDIR "/psmtpd.status"

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
	cfg->timeouts.proxy = 5;
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
	cfg_tls_defaults(cfg);
	cfg->stress.command = 10;
	cfg->stress.data = 60;
	cfg->stress.max_errors = 1;
	cfg->spool.memory_limit = 262144;
	/* Strings: out of memory this early is a broken environment. */
	const char *listen = CONFIG_DEFAULT_LISTEN;
	char err[CONFIG_ERR_MAX];

	if (config_set_listen(cfg, &listen, 1, err, sizeof(err)) == -1 ||
	    config_set_string(&cfg->remote, CONFIG_DEFAULT_REMOTE) == -1 ||
	    config_set_string(&cfg->user, CONFIG_DEFAULT_USER) == -1 ||
	    config_set_string(&cfg->pidfile,
	    PSMTPD_RUNSTATEDIR "/psmtpd.pid") == -1 ||
	    config_set_string(&cfg->status.file, CONFIG_DEFAULT_STATUS_FILE) ==
	    -1 || config_set_string(&cfg->status.format, "text") == -1)
		fatal("config: out of memory");
}

void
config_free(struct config *cfg)
{
	config_listeners_free(cfg->listen, cfg->nlisten);
	cfg_free_plugins(cfg->plugins, cfg->nplugins);
	cfg_tls_free(cfg);
	free(cfg->remote);
	free(cfg->hostname);
	free(cfg->user);
	free(cfg->group);
	free(cfg->pidfile);
	free(cfg->status.file);
	free(cfg->status.format);
	free(cfg->spool.dir);
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
