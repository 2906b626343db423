/*
 * config_int.h - what the files of the config module share: config.c
 * (defaults, load, free), config_schema.c (the table and the setters),
 * config_file.c (values from the file), config_text.c (values from -o),
 * config_validate.c (checks across settings).  Not for other modules,
 * which use config.h.
 */
#ifndef PSMTPD_CONFIG_INT_H
#define PSMTPD_CONFIG_INT_H

#include <stddef.h>

#include "config.h"
#include "log.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum cfg_kind {
	CK_GROUP,	/* a group of settings: walked, never stored */
	CK_BOOL,	/* bool */
	CK_INT,		/* int, within min..max */
	CK_LLONG,	/* long long, within min..max */
	CK_STRING,	/* char *, not empty */
	CK_ADDR,	/* char *, a "host:port" spec that addr_parse takes */
	CK_HOST,	/* char *, one word of printable ASCII (a reply text) */
	CK_LISTEN,	/* cfg->listen: one spec or a list of them */
	CK_FACILITY,	/* int, a syslog facility by name */
	CK_LEVEL,	/* int, a syslog level by name */
	CK_PLUGINS,	/* cfg->plugins: a list of groups */
	CK_TLS_SNI,	/* cfg->tls.sni: a list of groups (config_tls.c) */
	CK_AUTH_MECHS,	/* cfg->auth.mechanisms: a list of names */
};

/* One row of the schema (cfg_schema in config_schema.c). */
struct cfg_row {
	const char *path;	/* dotted, as in the file and in -o */
	enum cfg_kind kind;
	size_t off;		/* the field in struct config */
	long long min, max;	/* for CK_INT and CK_LLONG */
};

/* Where a file error is: the setting, or one element inside it. */
struct cfg_err {
	char msg[CONFIG_ERR_MAX];
	const config_setting_t *at;	/* NULL: the setting being read */
};

typedef int cfg_from_setting_fn(struct config *, const struct cfg_row *,
    const config_setting_t *, struct cfg_err *);
typedef int cfg_from_text_fn(struct config *, const struct cfg_row *,
    const char *, struct cfg_err *);

struct cfg_kind_ops {
	cfg_from_setting_fn *from_setting;
	cfg_from_text_fn *from_text;
};

/* What each kind accepts, indexed by enum cfg_kind (config_file.c). */
extern const struct cfg_kind_ops cfg_kinds[];

/* config_schema.c: the table and the setters, whatever the source. */
extern const struct cfg_row cfg_schema[];
extern const size_t cfg_nschema;
int cfg_fail(struct cfg_err *, const char *, ...) LOG_PRINTF(2, 3);
void *cfg_field(struct config *, const struct cfg_row *);
const struct cfg_row *cfg_row_find(const char *);
/* Whether v is within the row's bounds; -1 with a message. */
int cfg_range(const struct cfg_row *, long long, struct cfg_err *);
/* Whether a listen or remote spec parses; -1 with a message. */
int cfg_addr(const char *what, const char *spec, struct cfg_err *);
int cfg_store_int(struct config *, const struct cfg_row *, long long,
    struct cfg_err *);
cfg_from_text_fn cfg_store_string, cfg_store_name;

/* config_listen.c: the `listen` setting. */
int cfg_store_listen(struct config *, const char *const *, size_t,
    struct cfg_err *);
cfg_from_setting_fn cfg_listen_from_setting;
int cfg_validate_listeners(const struct config *, struct cfg_err *);

/* config_file.c: the document's values. */
/* Every setting of a group must be a row of the schema. */
int cfg_walk(struct config *, const config_setting_t *group,
    const char *prefix, struct cfg_err *);
/* A file name as libconfig keeps it, as a path that opens. */
const char *cfg_resolve(const struct config *, const char *file, char *buf,
    size_t len);
void cfg_free_plugins(struct config_plugin *p, size_t n);

/* A list of groups read by a table of keys (`plugins`, `tls.sni`): each
 * entry's errors name its place, as 'plugins.[1].path', with the
 * entry's line. */
enum cfg_entry_kind { CE_STRING, CE_GROUP, CE_TIMEOUT };

struct cfg_entry_key {
	const char *key;
	enum cfg_entry_kind kind;	/* char *, config_setting_t *, int */
	size_t off;			/* the field in one element */
};

struct cfg_list {
	const struct cfg_entry_key *keys;
	size_t nkeys;
	size_t size;			/* of one element */
	const char *list_shape;		/* the errors' examples: a list, */
	const char *entry_shape;	/* one entry, */
	const char *names;		/* and its keys */
	/* after the keys of an entry: what it needs (e->at is the entry) */
	int (*done)(void *entry, const config_setting_t *, const char *path,
	    int index, struct cfg_err *);
	void (*free)(void *list, size_t n);
};

/* The entries of the list s, in an array of n + 1 elements (the last
 * zero); NULL with a message. */
void *cfg_list_from_setting(const struct cfg_list *, const struct cfg_row *,
    const config_setting_t *s, size_t *n, struct cfg_err *);

/* config_tls.c: the `tls` and `auth` groups. */
cfg_from_setting_fn cfg_tls_sni_from_setting, cfg_auth_mechs_from_setting;
cfg_from_text_fn cfg_auth_mechs_from_text;
void cfg_tls_defaults(struct config *);
void cfg_tls_free(struct config *);
int cfg_validate_tls(const struct config *, struct cfg_err *);

/* config_text.c: a value from the text after -o key=. */
cfg_from_text_fn cfg_no_text, cfg_bool_from_text, cfg_int_from_text,
    cfg_listen_from_text;

#endif /* PSMTPD_CONFIG_INT_H */
