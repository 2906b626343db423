/*
 * config_schema.c - the table of every setting (dotted path, kind, field,
 * bounds) and the setters that store a checked value into struct config,
 * whatever its source (the file in config_file.c, -o in config_text.c).
 * A new setting is a new row of cfg_schema, not new code.
 */
#include "autoconfig.h"

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "config_int.h"
#include "log.h"

#define F(field) offsetof(struct config, field)
#define TIMEOUT(name) \
	{ "timeouts." #name, CK_INT, F(timeouts.name), 0, CONFIG_TIMEOUT_MAX }

const struct cfg_row cfg_schema[] = {
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
	{ "timeouts.proxy", CK_INT, F(timeouts.proxy), 1, 3600 },
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
	{ "tls", CK_GROUP, 0, 0, 0 },
	{ "tls.certificate", CK_STRING, F(tls.certificate), 0, 0 },
	{ "tls.key", CK_STRING, F(tls.key), 0, 0 },
	{ "tls.min_protocol", CK_STRING, F(tls.min_protocol), 0, 0 },
	{ "tls.ciphers", CK_STRING, F(tls.ciphers), 0, 0 },
	{ "tls.ciphersuites", CK_STRING, F(tls.ciphersuites), 0, 0 },
	{ "tls.client_ca", CK_STRING, F(tls.client_ca), 0, 0 },
	{ "tls.sni", CK_TLS_SNI, 0, 0, 0 },
	{ "tls.handshake_timeout", CK_INT, F(tls.handshake_timeout),
	    0, CONFIG_TIMEOUT_MAX },
	{ "auth", CK_GROUP, 0, 0, 0 },
	{ "auth.mechanisms", CK_AUTH_MECHS, F(auth.mechanisms), 0, 0 },
	{ "auth.require_tls", CK_BOOL, F(auth.require_tls), 0, 0 },
	{ "auth.failure_delay", CK_INT, F(auth.failure_delay), 0, 60 },
	{ "status", CK_GROUP, 0, 0, 0 },
	{ "status.file", CK_STRING, F(status.file), 0, 0 },
	{ "status.format", CK_STRING, F(status.format), 0, 0 },
	{ "stress", CK_GROUP, 0, 0, 0 },
	{ "stress.command", CK_INT, F(stress.command), 0, CONFIG_TIMEOUT_MAX },
	{ "stress.data", CK_INT, F(stress.data), 0, CONFIG_TIMEOUT_MAX },
	{ "stress.max_errors", CK_LLONG, F(stress.max_errors), 0, LLONG_MAX },
	{ "esmtp", CK_GROUP, 0, 0, 0 },
	{ "esmtp.pipelining", CK_BOOL, F(esmtp.pipelining), 0, 0 },
	{ "esmtp.enhanced_status_codes", CK_BOOL,
	    F(esmtp.enhanced_status_codes), 0, 0 },
	{ "esmtp.chunking", CK_BOOL, F(esmtp.chunking), 0, 0 },
	{ "esmtp.dsn", CK_BOOL, F(esmtp.dsn), 0, 0 },
	{ "spool", CK_GROUP, 0, 0, 0 },
	{ "spool.dir", CK_STRING, F(spool.dir), 0, 0 },
	{ "spool.memory_limit", CK_LLONG, F(spool.memory_limit), 0,
	    1LL << 30 },
	{ "reply_queue_id", CK_BOOL, F(reply_queue_id), 0, 0 },
	{ "received_header", CK_BOOL, F(received_header), 0, 0 },
	{ "plugins", CK_PLUGINS, 0, 0, 0 },
};

const size_t cfg_nschema = NELEM(cfg_schema);

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


const char *
config_setting_path(size_t i)
{
	for (size_t r = 0; r < NELEM(cfg_schema); r++)
		if (cfg_schema[r].kind != CK_GROUP && i-- == 0)
			return cfg_schema[r].path;
	return NULL;
}

/* ---- storing a value, whatever its source -------------------------- */

/* cfg_range - whether v is within the row's bounds; -1 with a message. */
int
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
int
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
