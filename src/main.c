/*
 * main.c - psmtpd's entry point: parse the command line, build the first
 * generation (config and plugins), then hand over to the master, or with
 * -t report whether the config is good.
 */
#include "autoconfig.h"

#include <bsd/unistd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "master.h"
#include "plugin_loader.h"
#include "privsep.h"
#include "runtime.h"
#include "status.h"

/* main_absolute - a relative path made absolute against the working
 * directory of the start, so that a reload after -D's chdir("/") still
 * finds it.  The result is path itself or buf. */
static const char *
main_absolute(const char *path, char *buf, size_t size)
{
	char cwd[PATH_MAX];

	if (path == NULL || path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return path;
	if ((size_t)snprintf(buf, size, "%s/%s", cwd, path) >= size)
		return path;
	return buf;
}

/* main_absolute_plugin_path - the same for each entry of
 * $PSMTPD_PLUGIN_PATH, into out (NULL: leave it as it is). */
static const char *
main_absolute_plugin_path(char *out, size_t size)
{
	const char *env = getenv("PSMTPD_PLUGIN_PATH");
	char one[PATH_MAX + 1], abs[PATH_MAX * 2];
	size_t off = 0;

	if (env == NULL)
		return NULL;
	out[0] = '\0';
	for (const char *p = env; p != NULL;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		if (len > 0 && len < sizeof(one)) {
			memcpy(one, p, len);
			one[len] = '\0';
			const char *a = main_absolute(one, abs, sizeof(abs));
			int n = snprintf(out + off, size - off, "%s%s",
			    off ? ":" : "", a);
			if (n < 0 || (size_t)n >= size - off)
				return NULL;	/* too long: as it was */
			off += (size_t)n;
		}
		p = colon ? colon + 1 : NULL;
	}
	return out;
}

/* main_reload - the master's SIGHUP: the same command line, read again. */
static struct runtime *
main_reload(void *arg, char *err, size_t errlen)
{
	return runtime_prepare(arg, err, errlen);
}

/* main_check - -t beyond the config itself: the workers' user and group
 * exist, and they can write every delivery target the plugins named
 * (checked as that user, which needs root unless it is -n). */
static int
main_check(const struct runtime *rt)
{
	const struct config *cfg = &rt->cfg;
	struct privsep_creds creds;
	char err[PATH_MAX + 512];
	const char *path, *plugin;
	int rc = 0;

	if (privsep_resolve(cfg->user, cfg->group, cfg->no_setuid, &creds,
	    err, sizeof(err)) == -1) {
		if (privsep_lookup(cfg->user, cfg->group, &creds, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "psmtpd: %s\n", err);
			return 1;
		}
		printf("psmtpd: not root: delivery targets not checked as "
		    "user %s\n", creds.user);
		return 0;
	}
	for (size_t i = 0; (path = plugin_set_target(rt->plugins, i,
	    &plugin)) != NULL; i++)
		if (privsep_check_target(&creds, path, err, sizeof(err)) ==
		    -1) {
			fprintf(stderr, "psmtpd: plugin %s: %s\n", plugin, err);
			rc = 1;
		}
	return rc;
}

/* main_status - psmtpd -S: the settings only (no plugin is loaded), then
 * the status file they name. */
static int
main_status(const struct cli_options *opts)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];
	int rc;

	if (runtime_config(&cfg, opts, err, sizeof(err)) != 0) {
		fprintf(stderr, "psmtpd: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	rc = status_run(cfg.status.file, cfg.status.format);
	config_free(&cfg);
	return rc;
}

int
main(int argc, char **argv, char **envp)
{
	struct cli_options opts;
	char err[CONFIG_ERR_MAX];

	/* Before anything keeps a pointer into argv or the environment:
	 * setproctitle() moves them to make room for the titles. */
	setproctitle_init(argc, argv, envp);
	switch (cli_parse(argc, argv, &opts, stdout, err, sizeof(err))) {
	case CLI_DONE:
		return 0;
	case CLI_USAGE:
		fprintf(stderr, "psmtpd: %s\n", err);
		return 2;
	case CLI_RUN:
		break;
	}
	/* main's frame lives as long as the options that point into it */
	char config_abs[PATH_MAX * 2], class_abs[PATH_MAX * 2], path_abs[8192];
	opts.config_file = main_absolute(opts.config_file, config_abs,
	    sizeof(config_abs));
	if (opts.classname != NULL && strchr(opts.classname, '/') != NULL)
		opts.classname = main_absolute(opts.classname, class_abs,
		    sizeof(class_abs));
	opts.plugin_path = main_absolute_plugin_path(path_abs,
	    sizeof(path_abs));
	log_init(LOG_DEST_STDERR, LOG_MAIL, opts.debug ? LOG_DEBUG : LOG_INFO,
	    "psmtpd");
	if (opts.status)
		return main_status(&opts);
	struct runtime *rt = runtime_load(&opts, err, sizeof(err));
	if (rt == NULL) {
		fprintf(stderr, "psmtpd: %s\n", err);
		return 1;
	}
	if (opts.check_only) {
		int rc = main_check(rt);

		if (rc == 0)
			printf("psmtpd: %s: configuration OK\n",
			    opts.config_file != NULL ? opts.config_file :
			    "(built-in defaults)");
		runtime_free(rt);
		return rc;
	}
	log_init(LOG_DEST_STDERR, rt->cfg.log.facility, rt->cfg.log.level,
	    "psmtpd");
	struct master_ops ops = { .reload = main_reload, .arg = &opts };
	int status = master_run(rt, &ops);
	return status;
}
