/*
 * config_tls.c - the `tls` and `auth` groups: the SNI list, the SASL
 * mechanisms, their defaults and checks, and config_where() that puts
 * the file and line in front of an error found later (a key that does
 * not match its certificate is found when the master loads it).
 *
 *   tls = { certificate = "/etc/psmtpd/tls/fullchain.pem";
 *           key = "/etc/psmtpd/tls/privkey.pem";
 *           sni = ( { name = "mx.example.net"; certificate = "...";
 *                     key = "..."; } ); };
 *   auth = { mechanisms = [ "PLAIN", "LOGIN" ]; require_tls = true; };
 */
#include "autoconfig.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_int.h"
#include "tls.h"

static const struct {
	const char *name;
	int bit;
} cfg_mechs[] = {
	{ "PLAIN", CONFIG_AUTH_PLAIN },
	{ "LOGIN", CONFIG_AUTH_LOGIN },
};

/* The keys of one `tls.sni` entry, all needed. */
static const struct cfg_entry_key cfg_sni_keys[] = {
	{ "name", CE_STRING, offsetof(struct config_tls_sni, name) },
	{ "certificate", CE_STRING,
	    offsetof(struct config_tls_sni, certificate) },
	{ "key", CE_STRING, offsetof(struct config_tls_sni, key) },
};

void
cfg_tls_defaults(struct config *cfg)
{
	cfg->tls.handshake_timeout = TLS_DEFAULT_HANDSHAKE_TIMEOUT;
	cfg->auth.mechanisms = CONFIG_AUTH_PLAIN | CONFIG_AUTH_LOGIN;
	cfg->auth.require_tls = true;
	cfg->auth.failure_delay = 1;
}

/* cfg_sni_free - a list of n entries (a void * for struct cfg_list). */
static void
cfg_sni_free(void *list, size_t n)
{
	struct config_tls_sni *sni = list;

	for (size_t i = 0; sni != NULL && i < n; i++) {
		free(sni[i].name);
		free(sni[i].certificate);
		free(sni[i].key);
	}
	free(sni);
}

void
cfg_tls_free(struct config *cfg)
{
	struct config_tls *t = &cfg->tls;

	free(t->certificate);
	free(t->key);
	free(t->min_protocol);
	free(t->ciphers);
	free(t->ciphersuites);
	free(t->client_ca);
	cfg_sni_free(t->sni, t->nsni);
}

static int
cfg_sni_done(void *entry, const config_setting_t *g, const char *path,
    int index, struct cfg_err *e)
{
	const struct config_tls_sni *sni = entry;

	(void)g;
	if (sni->name == NULL || sni->certificate == NULL || sni->key == NULL)
		return cfg_fail(e, "'%s.[%d]' needs a name, a certificate and a "
		    "key", path, index);
	return 0;
}

static const struct cfg_list cfg_sni_list = {
	cfg_sni_keys, NELEM(cfg_sni_keys), sizeof(struct config_tls_sni),
	"( { name = \"...\"; ... }, ... )", "{ name = \"...\"; certificate = "
	"\"...\"; key = \"...\"; }", "name, certificate, key", cfg_sni_done,
	cfg_sni_free,
};

/* cfg_tls_sni_from_setting - ( { name = ..; certificate = ..; key = ..; } ) */
int
cfg_tls_sni_from_setting(struct config *cfg, const struct cfg_row *row,
    const config_setting_t *s, struct cfg_err *e)
{
	size_t n;
	struct config_tls_sni *list = cfg_list_from_setting(&cfg_sni_list, row,
	    s, &n, e);

	if (list == NULL)
		return -1;
	cfg_sni_free(cfg->tls.sni, cfg->tls.nsni);
	cfg->tls.sni = list;
	cfg->tls.nsni = n;
	return 0;
}

/* cfg_mech - the bit of a mechanism's name (any case), 0 if unknown. */
static int
cfg_mech(const char *name, size_t len)
{
	for (size_t i = 0; i < NELEM(cfg_mechs); i++)
		if (strlen(cfg_mechs[i].name) == len &&
		    strncasecmp(cfg_mechs[i].name, name, len) == 0)
			return cfg_mechs[i].bit;
	return 0;
}

static int
cfg_mech_unknown(const struct cfg_row *row, const char *name, size_t len,
    struct cfg_err *e)
{
	return cfg_fail(e, "'%s': unknown mechanism '%.*s' (PLAIN, LOGIN)",
	    row->path, (int)len, name);
}

int
cfg_auth_mechs_from_setting(struct config *cfg, const struct cfg_row *row,
    const config_setting_t *s, struct cfg_err *e)
{
	int bits = 0;

	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return cfg_fail(e, "'%s' must be a list of names: "
		    "[ \"PLAIN\", \"LOGIN\" ]", row->path);
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *el = config_setting_get_elem(s, i);
		const char *name = config_setting_get_string(el);
		e->at = el;
		if (name == NULL)
			return cfg_fail(e, "'%s' must be a list of names",
			    row->path);
		int bit = cfg_mech(name, strlen(name));
		if (bit == 0)
			return cfg_mech_unknown(row, name, strlen(name), e);
		bits |= bit;
	}
	*(int *)cfg_field(cfg, row) = bits;
	return 0;
}

/* cfg_auth_mechs_from_text - -o auth.mechanisms=PLAIN,LOGIN */
int
cfg_auth_mechs_from_text(struct config *cfg, const struct cfg_row *row,
    const char *text, struct cfg_err *e)
{
	int bits = 0;

	for (const char *p = text; *p != '\0';) {
		size_t len = strcspn(p, ", ");
		int bit = cfg_mech(p, len);
		if (len > 0 && bit == 0)
			return cfg_mech_unknown(row, p, len, e);
		bits |= bit;
		p += len + (p[len] != '\0');
	}
	*(int *)cfg_field(cfg, row) = bits;
	return 0;
}

void
config_where(const struct config *cfg, const char *path, const char *msg,
    char *out, size_t outlen)
{
	const config_setting_t *at = NULL;
	char buf[1024];

	if (cfg->have_doc)
		at = config_lookup(&cfg->doc, path);
	if (at == NULL || config_setting_source_line(at) == 0) {
		snprintf(out, outlen, "%s", msg);
		return;
	}
	snprintf(out, outlen, "%s:%u: %s", cfg_resolve(cfg,
	    config_setting_source_file(at), buf, sizeof(buf)),
	    config_setting_source_line(at), msg);
}

/* cfg_tls_blame - an error about one setting, with its file and line. */
static int
cfg_tls_blame(const struct config *cfg, struct cfg_err *e,
    const char *path)
{
	char msg[CONFIG_ERR_MAX];

	snprintf(msg, sizeof(msg), "%s", e->msg);
	config_where(cfg, path, msg, e->msg, sizeof(e->msg));
	return -1;
}

/* cfg_validate_listener_tls - a listener that offers TLS needs the
 * certificate; the error points at the listener. */
static int
cfg_validate_listener_tls(const struct config *cfg, struct cfg_err *e)
{
	char msg[CONFIG_ERR_MAX];

	for (size_t i = 0; i < cfg->nlisten; i++) {
		const struct config_listener *l = &cfg->listen[i];
		if (l->tls == CONFIG_TLS_NONE || cfg->tls.certificate != NULL)
			continue;
		snprintf(msg, sizeof(msg), "listener '%s' has tls = \"%s\" "
		    "but there is no 'tls.certificate'", l->address,
		    l->tls == CONFIG_TLS_STARTTLS ? "starttls" : "implicit");
		if (l->line > 0 && cfg->file != NULL)
			return cfg_fail(e, "%.300s:%d: %.700s", cfg->file,
			    l->line, msg);
		return cfg_fail(e, "%s", msg);
	}
	return 0;
}

int
cfg_validate_tls(const struct config *cfg, struct cfg_err *e)
{
	const struct config_tls *t = &cfg->tls;

	if (cfg_validate_listener_tls(cfg, e) == -1)
		return -1;
	if ((t->certificate == NULL) != (t->key == NULL)) {
		cfg_fail(e, "'tls' needs both a certificate and a key");
		return cfg_tls_blame(cfg, e, t->key == NULL ?
		    "tls.certificate" : "tls.key");
	}
	if (t->min_protocol != NULL &&
	    tls_protocol_from_name(t->min_protocol) == -1) {
		cfg_fail(e, "'tls.min_protocol': unknown protocol '%s' "
		    "(TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)", t->min_protocol);
		return cfg_tls_blame(cfg, e, "tls.min_protocol");
	}
	if (cfg->auth.mechanisms == 0) {
		cfg_fail(e, "'auth.mechanisms' must name at least one "
		    "mechanism (PLAIN, LOGIN)");
		return cfg_tls_blame(cfg, e, "auth.mechanisms");
	}
	return 0;
}
