/*
 * config_listen.c - the `listen` setting: a string, a list of strings, or
 * a list of listener groups (DESIGN.md's listener groups), into struct
 * config_listener; and the checks of each listener.
 *
 *   listen = "127.0.0.1:8025";
 *   listen = [ "127.0.0.1:8025", "[::1]:8025" ];
 *   listen = ( "127.0.0.1:25",
 *              { address = "[::]:587"; tls = "starttls"; require_auth = true; },
 *              { address = "unix:/run/psmtpd/lmtp"; protocol = "lmtp"; } );
 */
#include "autoconfig.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config.h"
#include "config_int.h"

#define CFG_UNIX_PREFIX "unix:"
#define CFG_LISTEN_MODE_DEFAULT 0666

enum cfg_listen_kind { LK_ADDRESS, LK_BOOL, LK_TLS, LK_PROTOCOL, LK_CIDRS,
    LK_MODE };

/* The keys of a listener group. */
static const struct cfg_listen_key {
	const char *key;
	enum cfg_listen_kind kind;
	size_t off;		/* the field; for LK_CIDRS the list, then n */
	size_t off_n;
} cfg_listen_keys[] = {
#define LF(f) offsetof(struct config_listener, f)
	{ "address", LK_ADDRESS, LF(address), 0 },
	{ "tls", LK_TLS, LF(tls), 0 },
	{ "require_tls", LK_BOOL, LF(require_tls), 0 },
	{ "require_auth", LK_BOOL, LF(require_auth), 0 },
	{ "proxy_protocol", LK_BOOL, LF(proxy_protocol), 0 },
	{ "proxy_trusted", LK_CIDRS, LF(proxy_trusted), LF(nproxy_trusted) },
	{ "xclient_trusted", LK_CIDRS, LF(xclient_trusted),
	    LF(nxclient_trusted) },
	{ "protocol", LK_PROTOCOL, LF(protocol), 0 },
	{ "mode", LK_MODE, LF(mode), 0 },
#undef LF
};

static const char *const cfg_tls_names[] = {
	[CONFIG_TLS_NONE] = "none",
	[CONFIG_TLS_STARTTLS] = "starttls",
	[CONFIG_TLS_IMPLICIT] = "implicit",
};

static const char *const cfg_protocol_names[] = {
	[CONFIG_PROTOCOL_SMTP] = "smtp",
	[CONFIG_PROTOCOL_LMTP] = "lmtp",
};

const char *
config_listen_unix_path(const char *address)
{
	size_t n = strlen(CFG_UNIX_PREFIX);

	return strncmp(address, CFG_UNIX_PREFIX, n) == 0 ? address + n : NULL;
}

/* cfg_listen_address - a TCP spec that addr_parse takes, or unix: with an
 * absolute path that fits a sockaddr_un; -1 with a message. */
static int
cfg_listen_address(const char *spec, struct cfg_err *e)
{
	const char *path = config_listen_unix_path(spec);

	if (path == NULL)
		return cfg_addr("listen", spec, e);
	if (path[0] != '/')
		return cfg_fail(e, "'listen': '%s': a unix: socket needs an "
		    "absolute path", spec);
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return cfg_fail(e, "'listen': '%s': the path is too long for "
		    "a socket", spec);
	return 0;
}

void
config_listeners_free(struct config_listener *l, size_t n)
{
	for (size_t i = 0; l != NULL && i < n; i++) {
		free(l[i].address);
		free(l[i].proxy_trusted);
		free(l[i].xclient_trusted);
	}
	free(l);
}

/* cfg_listeners_new - n listeners with their defaults, no address yet. */
static struct config_listener *
cfg_listeners_new(size_t n)
{
	struct config_listener *l = calloc(n + 1, sizeof(*l));

	for (size_t i = 0; l != NULL && i < n; i++)
		l[i].mode = CFG_LISTEN_MODE_DEFAULT;
	return l;
}

/* cfg_listeners_replace - cfg's listeners become l (n of them). */
static void
cfg_listeners_replace(struct config *cfg, struct config_listener *l,
    size_t n)
{
	config_listeners_free(cfg->listen, cfg->nlisten);
	cfg->listen = l;
	cfg->nlisten = n;
}

/* cfg_store_listen - plain listeners on specs, all checked first. */
int
cfg_store_listen(struct config *cfg, const char *const *specs, size_t n,
    struct cfg_err *e)
{
	struct config_listener *l;

	if (n == 0)
		return cfg_fail(e, "'listen' must name at least one address");
	for (size_t i = 0; i < n; i++)
		if (cfg_listen_address(specs[i], e) == -1)
			return -1;
	if ((l = cfg_listeners_new(n)) == NULL)
		return cfg_fail(e, "out of memory");
	for (size_t i = 0; i < n; i++)
		if ((l[i].address = strdup(specs[i])) == NULL) {
			config_listeners_free(l, n);
			return cfg_fail(e, "out of memory");
		}
	cfg_listeners_replace(cfg, l, n);
	return 0;
}

int
config_set_listen(struct config *cfg, const char *const *specs, size_t n,
    char *err, size_t errlen)
{
	struct cfg_err e = { "", NULL };

	if (cfg_store_listen(cfg, specs, n, &e) == 0)
		return 0;
	snprintf(err, errlen, "%s", e.msg);
	return -1;
}

/* ---- a listener group ------------------------------------------------- */

/* cfg_listen_name - a string key whose value is one of names[]. */
static int
cfg_listen_name(const config_setting_t *k, const char *const *names,
    size_t nnames, int *out, struct cfg_err *e)
{
	const char *v = config_setting_get_string(k);

	for (size_t i = 0; v != NULL && i < nnames; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	if (nnames == NELEM(cfg_tls_names))
		return cfg_fail(e, "'listen.%s' must be \"none\", \"starttls\""
		    " or \"implicit\"", config_setting_name(k));
	return cfg_fail(e, "'listen.%s' must be \"smtp\" or \"lmtp\"",
	    config_setting_name(k));
}

/* cfg_listen_cidrs - [ "127.0.0.1", "10.0.0.0/8", "::1" ]. */
static int
cfg_listen_cidrs(const config_setting_t *k, struct addr_cidr **list,
    size_t *n, struct cfg_err *e)
{
	const char *why;
	int len;

	if (!config_setting_is_array(k) && !config_setting_is_list(k))
		return cfg_fail(e, "'listen.%s' must be a list of addresses: "
		    "[ \"127.0.0.1\", \"10.0.0.0/8\" ]", config_setting_name(k));
	len = config_setting_length(k);
	free(*list);
	*n = 0;
	if ((*list = calloc((size_t)len + 1, sizeof(**list))) == NULL)
		return cfg_fail(e, "out of memory");
	for (int i = 0; i < len; i++) {
		const config_setting_t *el = config_setting_get_elem(k, i);
		const char *v = config_setting_get_string(el);
		e->at = el;
		if (v == NULL)
			return cfg_fail(e, "'listen.%s' must be a list of "
			    "strings", config_setting_name(k));
		if (addr_cidr_parse(v, &(*list)[i], &why) == -1)
			return cfg_fail(e, "'listen.%s': '%s': %s",
			    config_setting_name(k), v, why);
		(*n)++;
	}
	return 0;
}

/* cfg_listen_mode - "0660": octal permissions as a string (libconfig has
 * no octal numbers; 0660 would read as decimal 660). */
static int
cfg_listen_mode(const config_setting_t *s, int *out, struct cfg_err *e)
{
	const char *v = config_setting_get_string(s);
	char *end;
	long m;

	if (v == NULL || *v < '0' || *v > '7')
		return cfg_fail(e, "'listen.mode' must be octal permissions "
		    "in a string, such as \"0660\"");
	m = strtol(v, &end, 8);
	if (*end != '\0' || m > 0777)
		return cfg_fail(e, "'listen.mode' must be octal permissions "
		    "in a string, such as \"0660\"");
	*out = (int)m;
	return 0;
}

/* cfg_listen_scalar - a string or bool key of a group. */
static int
cfg_listen_scalar(struct config_listener *l, const struct cfg_listen_key *k,
    const config_setting_t *s, struct cfg_err *e)
{
	void *field = (char *)l + k->off;
	int type = config_setting_type(s);

	if (k->kind == LK_BOOL) {
		if (type != CONFIG_TYPE_BOOL)
			return cfg_fail(e, "'listen.%s' must be true or false",
			    k->key);
		*(bool *)field = config_setting_get_bool(s) != 0;
		return 0;
	}
	if (k->kind == LK_MODE)
		return cfg_listen_mode(s, (int *)field, e);
	if (type != CONFIG_TYPE_STRING)
		return cfg_fail(e, "'listen.%s' must be a string", k->key);
	if (k->kind == LK_TLS)
		return cfg_listen_name(s, cfg_tls_names,
		    NELEM(cfg_tls_names), (int *)field, e);
	if (k->kind == LK_PROTOCOL)
		return cfg_listen_name(s, cfg_protocol_names,
		    NELEM(cfg_protocol_names), (int *)field, e);
	if (cfg_listen_address(config_setting_get_string(s), e) == -1 ||
	    config_set_string(field, config_setting_get_string(s)) == -1)
		return e->msg[0] != '\0' ? -1 : cfg_fail(e, "out of memory");
	return 0;
}

/* cfg_listen_key - one key of a listener group, by cfg_listen_keys. */
static int
cfg_listen_key(struct config_listener *l, const config_setting_t *s,
    struct cfg_err *e)
{
	const char *name = config_setting_name(s);

	e->at = s;
	for (size_t i = 0; i < NELEM(cfg_listen_keys); i++) {
		const struct cfg_listen_key *k = &cfg_listen_keys[i];
		if (strcmp(name, k->key) != 0)
			continue;
		if (k->kind == LK_CIDRS)
			return cfg_listen_cidrs(s, (struct addr_cidr **)
			    ((char *)l + k->off), (size_t *)((char *)l +
			    k->off_n), e);
		return cfg_listen_scalar(l, k, s, e);
	}
	return cfg_fail(e, "unknown setting 'listen.%s' (address, tls, "
	    "require_tls, require_auth, proxy_protocol, proxy_trusted, "
	    "xclient_trusted, protocol, mode)", name);
}

/* cfg_listen_rules - what one listener's settings must agree on. */
static int
cfg_listen_rules(const struct config_listener *l, struct cfg_err *e)
{
	if (l->address == NULL)
		return cfg_fail(e, "a listener group needs an address: "
		    "{ address = \"[::]:25\"; ... }");
	if (l->require_tls && l->tls != CONFIG_TLS_STARTTLS)
		return cfg_fail(e, "'listen.require_tls' needs "
		    "tls = \"starttls\" on '%s' (an implicit TLS listener "
		    "has TLS anyway)", l->address);
	if (l->proxy_protocol && l->nproxy_trusted == 0)
		return cfg_fail(e, "'listen.proxy_protocol' on '%s' needs "
		    "'proxy_trusted': the balancers' addresses", l->address);
	if (!l->proxy_protocol && l->nproxy_trusted > 0)
		return cfg_fail(e, "'listen.proxy_trusted' on '%s' without "
		    "proxy_protocol = true", l->address);
	return 0;
}

/* cfg_listen_group - one element of the list: a string or a group. */
static int
cfg_listen_group(struct config_listener *l, const config_setting_t *g,
    struct cfg_err *e)
{
	e->at = g;
	l->line = (int)config_setting_source_line(g);
	if (config_setting_type(g) == CONFIG_TYPE_STRING) {
		const char *spec = config_setting_get_string(g);
		if (cfg_listen_address(spec, e) == -1)
			return -1;
		return (l->address = strdup(spec)) != NULL ? 0 :
		    cfg_fail(e, "out of memory");
	}
	if (!config_setting_is_group(g))
		return cfg_fail(e, "'listen' must be a string, a list of "
		    "strings, or a list of listener groups");
	for (int i = 0; i < config_setting_length(g); i++)
		if (cfg_listen_key(l, config_setting_get_elem(g, i), e) == -1)
			return -1;
	e->at = g;
	return cfg_listen_rules(l, e);
}

/* cfg_listen_from_setting - "spec", [ "spec", ... ] or ( "spec" or
 * { group }, ... ). */
int
cfg_listen_from_setting(struct config *cfg, const struct cfg_row *row,
    const config_setting_t *s, struct cfg_err *e)
{
	struct config_listener *l;
	size_t n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *one = config_setting_get_string(s);
		return cfg_store_listen(cfg, &one, 1, e);
	}
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return cfg_fail(e, "'%s' must be a string, a list of strings, "
		    "or a list of listener groups", row->path);
	if ((n = (size_t)config_setting_length(s)) == 0)
		return cfg_fail(e, "'listen' must name at least one address");
	if ((l = cfg_listeners_new(n)) == NULL)
		return cfg_fail(e, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (cfg_listen_group(&l[i], config_setting_get_elem(s,
		    (int)i), e) == -1) {
			config_listeners_free(l, n);
			return -1;
		}
	cfg_listeners_replace(cfg, l, n);
	return 0;
}

/* cfg_validate_listeners - every address parses, every rule holds (the
 * flags and -o replace listeners without the file's checks). */
int
cfg_validate_listeners(const struct config *cfg, struct cfg_err *e)
{
	if (cfg->nlisten == 0)
		return cfg_fail(e, "'listen' must name at least one address");
	for (size_t i = 0; i < cfg->nlisten; i++) {
		if (cfg_listen_address(cfg->listen[i].address, e) == -1 ||
		    cfg_listen_rules(&cfg->listen[i], e) == -1)
			return -1;
	}
	return 0;
}
