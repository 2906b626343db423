/*
 * main.c - psmtpd's entry point: parse the command line, build the first
 * generation (config and plugins), then hand over to the master, or with
 * -t report whether the config is good.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "cli.h"
#include "log.h"
#include "master.h"
#include "runtime.h"

/* main_reload - the master's SIGHUP: the same command line, read again. */
static struct runtime *
main_reload(void *arg)
{
	const struct cli_options *opts = arg;
	char err[CONFIG_ERR_MAX];
	struct runtime *rt = runtime_load(opts, err, sizeof(err));

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
