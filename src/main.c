/*
 * main.c - psmtpd's entry point: parse the command line, build the first
 * generation (config and plugins), then hand over to the master, or with
 * -t report whether the config is good.
 */
#include "autoconfig.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "master.h"
#include "runtime.h"

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
 * $PSMTPD_PLUGIN_PATH. */
static void
main_absolute_plugin_path(void)
{
	const char *env = getenv("PSMTPD_PLUGIN_PATH");
	char out[8192], one[PATH_MAX + 1], abs[PATH_MAX * 2];
	size_t off = 0;

	if (env == NULL)
		return;
	for (const char *p = env; p != NULL;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		if (len > 0 && len < sizeof(one)) {
			memcpy(one, p, len);
			one[len] = '\0';
			const char *a = main_absolute(one, abs, sizeof(abs));
			int n = snprintf(out + off, sizeof(out) - off, "%s%s",
			    off ? ":" : "", a);
			if (n < 0 || (size_t)n >= sizeof(out) - off)
				return;	/* too long: leave it as it was */
			off += (size_t)n;
		}
		p = colon ? colon + 1 : NULL;
	}
	setenv("PSMTPD_PLUGIN_PATH", out, 1);
}

/* main_reload - the master's SIGHUP: the same command line, read again. */
static struct runtime *
main_reload(void *arg)
{
	const struct cli_options *opts = arg;
	char err[CONFIG_ERR_MAX];
	struct runtime *rt = runtime_prepare(opts, err, sizeof(err));

	if (rt == NULL)
		log_warnx("reload failed, keeping the running configuration: "
		    "%s", err);
	return rt;
}

int
main(int argc, char **argv)
{
	struct cli_options opts;
	char err[CONFIG_ERR_MAX];

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
	char config_abs[PATH_MAX * 2], class_abs[PATH_MAX * 2];
	opts.config_file = main_absolute(opts.config_file, config_abs,
	    sizeof(config_abs));
	if (opts.classname != NULL && strchr(opts.classname, '/') != NULL)
		opts.classname = main_absolute(opts.classname, class_abs,
		    sizeof(class_abs));
	main_absolute_plugin_path();
	log_init(LOG_DEST_STDERR, LOG_MAIL, opts.debug ? LOG_DEBUG : LOG_INFO,
	    "psmtpd");
	struct runtime *rt = runtime_load(&opts, err, sizeof(err));
	if (rt == NULL) {
		fprintf(stderr, "psmtpd: %s\n", err);
		return 1;
	}
	if (opts.check_only) {
		printf("psmtpd: %s: configuration OK\n",
		    opts.config_file != NULL ? opts.config_file :
		    "(built-in defaults)");
		runtime_free(rt);
		return 0;
	}
	log_init(LOG_DEST_STDERR, rt->cfg.log.facility, rt->cfg.log.level,
	    "psmtpd");
	struct master_ops ops = { .reload = main_reload, .arg = &opts };
	int status = master_run(rt, &ops);
	return status;
}
