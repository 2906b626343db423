/*
 * cli.h - the command line: python -m smtpd's options and arguments
 * (-n -c -s -u -d [localaddr [remoteaddr]]) plus the daemon's own
 * (-C -o -t -D -S -V -h).
 */
#ifndef PSMTPD_CLI_H
#define PSMTPD_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CLI_OVERRIDES_MAX 64

struct cli_options {
	const char *config_file;	/* -C */
	const char *classname;		/* -c */
	long long size;			/* -s; -1 when not given */
	bool smtputf8;			/* -u */
	bool debug;			/* -d */
	bool no_setuid;			/* -n */
	bool check_only;		/* -t */
	bool detach;			/* -D */
	bool status;			/* -S */
	const char *localaddr;
	const char *remoteaddr;
	const char *overrides[CLI_OVERRIDES_MAX];	/* -o, in order */
	size_t noverrides;
	const char *plugin_path;	/* $PSMTPD_PLUGIN_PATH made absolute
					 * by main; NULL: as in the env */
};

enum cli_result {
	CLI_RUN,	/* options parsed: go on */
	CLI_DONE,	/* -h or -V answered: exit 0 */
	CLI_USAGE	/* bad arguments: the message is in err, exit 2 */
};

enum cli_result cli_parse(int argc, char **argv, struct cli_options *o,
    FILE *out, char *err, size_t errlen);
void cli_usage(FILE *out);

#endif
