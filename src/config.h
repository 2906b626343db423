/*
 * config.h - the settings of psmtpd, from built-in defaults, the libconfig
 * file, the python-smtpd style flags and -o key=value overrides, in that
 * order.  Every setting of DESIGN.md and psmtpd.conf(5) is a field here.
 *
 * Errors are reported as one line, "FILE:LINE: message" for the file and
 * "-o KEY=VALUE: message" for an override, in the caller's buffer.
 */
#ifndef PSMTPD_CONFIG_H
#define PSMTPD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <libconfig.h>

#include "addr.h"

#define CONFIG_DEFAULT_LISTEN "localhost:8025"
#define CONFIG_DEFAULT_REMOTE "localhost:25"
#define CONFIG_DEFAULT_DATA_SIZE_LIMIT 33554432LL
#define CONFIG_DEFAULT_COMMAND_SIZE_LIMIT 512LL
#define CONFIG_DEFAULT_MAX_MESSAGE_SIZE 1073741824LL	/* 1 GiB */
#define CONFIG_DEFAULT_LISTEN_BACKLOG 511
#define CONFIG_DEFAULT_USER "nobody"
#define CONFIG_ERR_MAX 1024

/* Bounds that the file and -o enforce, and psmtpd.conf(5) documents. */
#define CONFIG_COMMAND_SIZE_MIN 64
#define CONFIG_COMMAND_SIZE_MAX 1048576
#define CONFIG_TIMEOUT_MAX 86400	/* seconds; 0 = none */
#define CONFIG_WORKERS_MAX 20000	/* as Apache's MAX_SERVER_LIMIT */

/* One entry of `tls.sni`: another certificate for a server name. */
struct config_tls_sni {
	char *name;		/* "mail.example.org" or "*.example.org" */
	char *certificate;
	char *key;
};

/* The `tls` group: what tls_server_new() builds a generation from.  No
 * certificate: no TLS anywhere. */
struct config_tls {
	char *certificate;	/* PEM chain, leaf first */
	char *key;		/* PEM private key */
	char *min_protocol;	/* NULL: TLSv1.2 */
	char *ciphers;		/* TLS 1.2 and lower; NULL: OpenSSL's */
	char *ciphersuites;	/* TLS 1.3; NULL: OpenSSL's */
	char *client_ca;	/* NULL: no client certificates asked */
	struct config_tls_sni *sni;
	size_t nsni;
	int handshake_timeout;	/* seconds, 30; 0 = none */
};

/* SASL mechanisms, for `auth.mechanisms`. */
#define CONFIG_AUTH_PLAIN 0x1
#define CONFIG_AUTH_LOGIN 0x2

/* The `auth` group. */
struct config_auth {
	int mechanisms;		/* CONFIG_AUTH_*; default both */
	bool require_tls;	/* no AUTH offered before TLS; default true */
	int failure_delay;	/* seconds before a 535; 1 */
};

/* A listener's TLS: none, STARTTLS offered, or TLS from the first byte. */
enum config_tls_mode {
	CONFIG_TLS_NONE = 0,
	CONFIG_TLS_STARTTLS,
	CONFIG_TLS_IMPLICIT
};

/* The protocol a listener speaks. */
enum config_protocol {
	CONFIG_PROTOCOL_SMTP = 0,
	CONFIG_PROTOCOL_LMTP		/* RFC 2033: LHLO, a reply per recipient */
};

/*
 * One entry of `listen`.  A string entry is a listener with every other
 * field at its default (plain SMTP, the global settings); a group sets
 * them:  { address = "[::]:587"; tls = "starttls"; require_auth = true; }
 */
struct config_listener {
	char *address;		/* "host:port", "[v6]:port" or "unix:/path" */
	enum config_tls_mode tls;	/* `tls`: "none" (default), "starttls",
					 * "implicit" */
	bool require_tls;	/* MAIL and AUTH need STARTTLS first */
	bool require_auth;	/* MAIL needs AUTH first */
	bool proxy_protocol;	/* a PROXY v1/v2 header comes first */
	struct addr_cidr *proxy_trusted;	/* who may send it */
	size_t nproxy_trusted;
	struct addr_cidr *xclient_trusted;	/* who may use XCLIENT */
	size_t nxclient_trusted;
	enum config_protocol protocol;	/* `protocol`: "smtp" or "lmtp" */
	int mode;		/* a unix: socket's permissions, 0666 */
	int line;		/* where the file sets it; 0 otherwise */
};

/* The path of a "unix:/path" address; NULL for a TCP one. */
const char *config_listen_unix_path(const char *address);
void config_listeners_free(struct config_listener *l, size_t n);

/* One entry of the `plugins` list (or the -c class). */
struct config_plugin {
	char *name;		/* `name`, e.g. "maildir"; NULL when only a path */
	char *path;		/* `path`; NULL when only a name */
	/* the `settings` group inside the document, or NULL */
	const config_setting_t *settings;
	char *file;		/* where the entry is, for error messages */
	int line;		/* 0 when it came from the command line */
	int timeout;		/* `timeout`: seconds per hook; 0: none */
};

struct config {
	config_t doc;		/* the parsed file, kept for plugin settings */
	bool have_doc;
	char *file;		/* the file read, NULL for none */

	struct config_listener *listen;	/* localaddr; at least one */
	size_t nlisten;
	char *remote;		/* remoteaddr spec */
	char *hostname;		/* NULL: the host's FQDN, found at start */
	long long data_size_limit;	/* 0: no limit */
	long long command_size_limit;	/* 512 */
	bool enable_smtputf8;
	bool decode_data;
	char *user;		/* "nobody" */
	char *group;		/* NULL: the user's primary group */
	char *pidfile;
	int listen_backlog;	/* 511 */

	struct {
		int facility;	/* LOG_MAIL */
		int level;	/* LOG_INFO; LOG_DEBUG with -d */
	} log;
	struct {
		int command;	/* seconds, 300 */
		int data;	/* 600 */
		int shutdown;	/* 30 */
		int session;	/* 0: no overall limit */
		int proxy;	/* 5: for the PROXY header, 1..3600 */
	} timeouts;
	struct {
		long long max_recipients;	/* 1000 */
		long long max_errors;		/* 20; 0 = none */
		long long max_connections_per_client; /* 0 = none */
		long long max_message_size;	/* hard cap when data_size_limit is 0 */
	} limits;
	struct {
		int start;		/* 5 */
		int min_spare;		/* 5 */
		int max_spare;		/* 10 */
		int max_workers;	/* 150 */
		long long max_connections_per_worker; /* 10000 */
		bool busy_reply;	/* 421 when every worker is busy */
	} pool;
	/* The scoreboard as a file, for psmtpd -S, and -S's format. */
	struct {
		char *file;	/* RUNSTATEDIR/psmtpd.status; "": none */
		char *format;	/* "text" or "prometheus" */
	} status;
	/* Stress mode: the limits while no idle worker is left at
	 * max_workers (0: the normal one). */
	struct {
		int command;	/* seconds per command line, 10 */
		int data;	/* seconds per line of DATA, 60 */
		long long max_errors;	/* 1 */
	} stress;
	/* The ESMTP extensions beyond Python's; all off by default. */
	struct {
		bool pipelining;		/* RFC 2920 */
		bool enhanced_status_codes;	/* RFC 2034, 3463 */
		bool chunking;			/* RFC 3030: BDAT */
		bool dsn;			/* RFC 3461 parameters */
	} esmtp;
	/* Where messages go past memory_limit bytes (API 2 message store). */
	struct {
		char *dir;		/* NULL: $TMPDIR, else /var/tmp */
		long long memory_limit;	/* 262144 */
	} spool;
	bool reply_queue_id;	/* "250 OK queued as <msgid>" */
	bool received_header;	/* add a Received: header */

	struct config_tls tls;
	struct config_auth auth;

	struct config_plugin *plugins;
	size_t nplugins;

	/* from the command line only */
	const char *plugin_path;	/* $PSMTPD_PLUGIN_PATH, absolute */
	bool no_setuid;		/* -n */
	bool debug;		/* -d: protocol traces */
	bool detach;		/* -D */
};

/*
 * Fill in the built-in defaults (no file).  libconfig already owns the
 * name config_init(config_t *), so the function is config_defaults() and
 * config_init() picks one of the two by the argument's type: callers may
 * write config_init(&cfg) for a struct config and still reach libconfig's
 * config_init() with a config_t *.
 */
void config_defaults(struct config *cfg);
#define config_init(c) _Generic((c), \
	struct config *: config_defaults, \
	default: config_init)(c)
/* Free every field and the document (plugin settings die with it). */
void config_free(struct config *cfg);

/* Read and validate a libconfig file over the current values.  Unknown
 * settings, wrong types and bad values are errors.  0, or -1 with err.
 * Once per struct config (a reload reads into a fresh one).  The
 * plugins' settings point into cfg->doc, whose settings point back at
 * it: do not copy a loaded struct config by value, move pointers. */
int config_load_file(struct config *cfg, const char *path, char *err,
    size_t errlen);

/* Apply one "-o key=value" (dotted key, e.g. pool.max_workers=10;
 * the value in libconfig syntax or bare: 10, true, "x", x). */
int config_override(struct config *cfg, const char *assignment, char *err,
    size_t errlen);

/* Replace the plugin list with one entry from the command line (-c). */
int config_set_class(struct config *cfg, const char *name_or_path,
    char *err, size_t errlen);

/* Checks across settings, after everything is applied: decode_data with
 * enable_smtputf8, pool sizes, listen specs that do not parse, ... */
int config_validate(const struct config *cfg, char *err, size_t errlen);

/* The dotted path of the i-th setting of the schema (groups left out),
 * NULL past the last: for documentation checks and completion. */
const char *config_setting_path(size_t i);

/* "FILE:LINE: msg" into out when the file sets the setting at path (a
 * libconfig path: "tls.key", "tls.sni.[1].key"), else msg alone. */
void config_where(const struct config *cfg, const char *path,
    const char *msg, char *out, size_t outlen);

/* Replace a string field (frees the old one).  0, or -1 on ENOMEM. */
int config_set_string(char **field, const char *value);

/* Replace the listeners with plain SMTP ones on these specs (localaddr
 * from the command line, -o listen=...).  0, or -1 with err. */
int config_set_listen(struct config *cfg, const char *const *specs,
    size_t n, char *err, size_t errlen);

#endif
