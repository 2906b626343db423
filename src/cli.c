/*
 * cli.c - parse the command line.  Pure apart from printing -h and -V.
 */
#include "autoconfig.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cli.h"

static const char cli_usage_text[] =
"Usage: psmtpd [options] [localaddr [remoteaddr]]\n"
"\n"
"A prefork SMTP server that answers as Python's smtpd module.\n"
"localaddr defaults to localhost:8025, remoteaddr to localhost:25;\n"
"write IPv6 addresses as [::1]:8025.\n"
"\n"
"Options of python -m smtpd:\n"
"  -n, --nosetuid      keep the current user (do not switch to 'nobody')\n"
"  -c, --class CLASS   PureProxy (default), DebuggingServer, SinkServer,\n"
"                      a plugin name, a plugin file (a '/' or .so),\n"
"                      or a Python class module.Class (an SMTPServer)\n"
"  -s, --size LIMIT    largest message in bytes (default 33554432; 0: none)\n"
"  -u, --smtputf8      enable the SMTPUTF8 extension\n"
"  -d, --debug         protocol traces in the log\n"
"Daemon options:\n"
"  -C FILE             read the config file FILE\n"
"  -o KEY=VALUE        set one setting (dotted: -o pool.max_workers=10)\n"
"  -t                  check the config and plugins, then exit 0 or 1\n"
"  -D                  detach into the background and write the pidfile\n"
"  -S                  show the pool of the running psmtpd (status.file);\n"
"                      -o status.format=prometheus for node-exporter\n"
"  -V, --version       print the version and exit\n"
"  -h, --help          print this help and exit\n";

void
cli_usage(FILE *out)
{
	fputs(cli_usage_text, out);
}

/* cli_parse_size - a decimal number of bytes, 0 or more. */
static int
cli_parse_size(const char *s, long long *out)
{
	char *end;

	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || v < 0)
		return -1;
	*out = v;
	return 0;
}

/* cli_check_spec - a host:port argument that parses. */
static int
cli_check_spec(const char *what, const char *spec, char *err, size_t errlen)
{
	struct addr_spec a;
	const char *why;

	if (addr_parse(spec, &a, &why) == 0)
		return 0;
	snprintf(err, errlen, "bad %s '%s': %s", what, spec, why);
	return -1;
}

static const struct option cli_long_options[] = {
	{ "nosetuid", no_argument, NULL, 'n' },
	{ "class", required_argument, NULL, 'c' },
	{ "size", required_argument, NULL, 's' },
	{ "smtputf8", no_argument, NULL, 'u' },
	{ "debug", no_argument, NULL, 'd' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* cli_option - apply one option; CLI_RUN to go on. */
static enum cli_result
cli_option(int c, const char *arg, struct cli_options *o, FILE *out,
    char *err, size_t errlen)
{
	switch (c) {
	case 'n': o->no_setuid = true; break;
	case 'c': o->classname = arg; break;
	case 'u': o->smtputf8 = true; break;
	case 'd': o->debug = true; break;
	case 'C': o->config_file = arg; break;
	case 't': o->check_only = true; break;
	case 'D': o->detach = true; break;
	case 'S': o->status = true; break;
	case 's':
		if (cli_parse_size(arg, &o->size) != 0) {
			snprintf(err, errlen, "invalid size: %s", arg);
			return CLI_USAGE;
		}
		break;
	case 'o':
		if (o->noverrides == CLI_OVERRIDES_MAX ||
		    strchr(arg, '=') == NULL) {
			snprintf(err, errlen, o->noverrides == CLI_OVERRIDES_MAX ?
			    "too many -o options" : "-o wants KEY=VALUE, not "
			    "'%s'", arg);
			return CLI_USAGE;
		}
		o->overrides[o->noverrides++] = arg;
		break;
	case 'V':
		fprintf(out, "psmtpd %s\n", PACKAGE_VERSION);
		return CLI_DONE;
	case 'h':
		cli_usage(out);
		return CLI_DONE;
	default:
		snprintf(err, errlen, "unknown option; see psmtpd -h");
		return CLI_USAGE;
	}
	return CLI_RUN;
}

enum cli_result
cli_parse(int argc, char **argv, struct cli_options *o, FILE *out,
    char *err, size_t errlen)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->size = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+nc:s:udC:o:tDSVh",
	    cli_long_options, NULL)) != -1) {
		if (c == '?' || c == ':') {
			snprintf(err, errlen, "bad option '%s'; see psmtpd -h",
			    argv[optind - 1]);
			return CLI_USAGE;
		}
		enum cli_result r = cli_option(c, optarg, o, out, err, errlen);
		if (r != CLI_RUN)
			return r;
	}
	int rest = argc - optind;
	if (rest > 2) {
		snprintf(err, errlen, "too many arguments: %s ...",
		    argv[optind + 2]);
		return CLI_USAGE;
	}
	if (rest >= 1)
		o->localaddr = argv[optind];
	if (rest == 2)
		o->remoteaddr = argv[optind + 1];
	if ((o->localaddr != NULL && cli_check_spec("localaddr", o->localaddr,
	    err, errlen) != 0) || (o->remoteaddr != NULL &&
	    cli_check_spec("remoteaddr", o->remoteaddr, err, errlen) != 0))
		return CLI_USAGE;
	return CLI_RUN;
}
