/*
 * check_config.c - unit tests of src/config.c: defaults, every setting
 * from a file, every kind of error with its "FILE:LINE:" prefix, the
 * files in tests/data/config, and the sample etc/psmtpd.conf and
 * psmtpd.conf(5) against the schema.  The command line side (-o, -c) and
 * the checks across settings are in check_config_cmdline.c.
 *
 * Files are written into a fresh directory per test (check forks one
 * process per test), or read from tests/data/config/ in the source tree.
 */
#include "autoconfig.h"

#include <check.h>
#include <arpa/inet.h>
#include <libconfig.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "paths.h"
#include "check_config.h"

void
tmpconf_write(struct tmpconf *t, const char *text)
{
	const char *base = getenv("TMPDIR");
	FILE *fp;

	snprintf(t->dir, sizeof(t->dir), "%s/check_config.XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/psmtpd.conf", t->dir);
	ck_assert_ptr_nonnull(fp = fopen(t->path, "w"));
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
}

void
tmpconf_remove(struct tmpconf *t)
{
	unlink(t->path);
	rmdir(t->dir);
}

int
load_text(struct config *cfg, struct tmpconf *t, const char *text,
    char *err, size_t errlen)
{
	config_init(cfg);
	tmpconf_write(t, text);
	err[0] = '\0';
	return config_load_file(cfg, t->path, err, errlen);
}

void
assert_field(struct config *cfg, size_t off, enum ftype type, long long num,
    const char *str, const char *what)
{
	void *p = (char *)cfg + off;

	switch (type) {
	case FT_INT:
		ck_assert_msg(*(int *)p == num, "%s: %d != %lld", what,
		    *(int *)p, num);
		break;
	case FT_LL:
		ck_assert_msg(*(long long *)p == num, "%s: %lld != %lld", what,
		    *(long long *)p, num);
		break;
	case FT_BOOL:
		ck_assert_msg(*(bool *)p == (num != 0), "%s: bool", what);
		break;
	case FT_STR:
		ck_assert_msg(*(char **)p != NULL, "%s: NULL", what);
		ck_assert_msg(strcmp(*(char **)p, str) == 0, "%s: '%s' != '%s'",
		    what, *(char **)p, str);
		break;
	}
}


/* ---- defaults -------------------------------------------------------- */

START_TEST(test_defaults)
{
	struct config cfg;

	config_init(&cfg);
	ck_assert_uint_eq(cfg.nlisten, 1);
	ck_assert_str_eq(cfg.listen[0].address, "localhost:8025");
	ck_assert_str_eq(cfg.remote, "localhost:25");
	ck_assert_ptr_null(cfg.hostname);
	ck_assert_int_eq(cfg.data_size_limit, 33554432);
	ck_assert_int_eq(cfg.command_size_limit, 512);
	ck_assert(!cfg.enable_smtputf8 && !cfg.decode_data);
	ck_assert_str_eq(cfg.user, "nobody");
	ck_assert_ptr_null(cfg.group);
	ck_assert_str_eq(cfg.pidfile, PSMTPD_RUNSTATEDIR "/psmtpd.pid");
	ck_assert_int_eq(cfg.listen_backlog, 511);
	ck_assert_int_eq(cfg.log.facility, LOG_MAIL);
	ck_assert_int_eq(cfg.log.level, LOG_INFO);
	ck_assert_int_eq(cfg.timeouts.command, 300);
	ck_assert_int_eq(cfg.timeouts.data, 600);
	ck_assert_int_eq(cfg.timeouts.shutdown, 30);
	ck_assert_int_eq(cfg.timeouts.session, 0);
	ck_assert_int_eq(cfg.limits.max_recipients, 1000);
	ck_assert_int_eq(cfg.limits.max_errors, 20);
	ck_assert_int_eq(cfg.limits.max_connections_per_client, 0);
	ck_assert_int_eq(cfg.limits.max_message_size, 1073741824);
	ck_assert_int_eq(cfg.pool.start, 5);
	ck_assert_int_eq(cfg.pool.min_spare, 5);
	ck_assert_int_eq(cfg.pool.max_spare, 10);
	ck_assert_int_eq(cfg.pool.max_workers, 150);
	ck_assert_int_eq(cfg.pool.max_connections_per_worker, 10000);
	ck_assert(!cfg.pool.busy_reply);
	ck_assert_uint_eq(cfg.nplugins, 0);
	ck_assert(!cfg.have_doc && cfg.file == NULL);
	ck_assert(!cfg.no_setuid && !cfg.debug && !cfg.detach);
	config_free(&cfg);
}
END_TEST

START_TEST(test_defaults_validate)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX] = "";

	config_init(&cfg);
	ck_assert_msg(config_validate(&cfg, err, sizeof(err)) == 0, "%s",
	    err);
	config_free(&cfg);
}
END_TEST

/* libconfig's own config_init() stays reachable through the macro. */
START_TEST(test_libconfig_init_macro)
{
	config_t doc;
	int v = 0;

	config_init(&doc);
	ck_assert_int_eq(config_read_string(&doc, "a = 3;"), CONFIG_TRUE);
	ck_assert_int_eq(config_lookup_int(&doc, "a", &v), CONFIG_TRUE);
	ck_assert_int_eq(v, 3);
	config_destroy(&doc);
}
END_TEST

/* ---- every scalar setting, from the file and from -o ----------------- */

const struct setting_case setting_cases[] = {
	{ "remote = \"mx.example.org:2525\";", "remote=mx.example.org:2525",
	    F(remote), FT_STR, 0, "mx.example.org:2525" },
	{ "remote = \"[::1]:25\";", "remote=\"[::1]:25\"",
	    F(remote), FT_STR, 0, "[::1]:25" },
	{ "hostname = \"mx.example.org\";", "hostname=mx.example.org",
	    F(hostname), FT_STR, 0, "mx.example.org" },
	{ "data_size_limit = 0;", "data_size_limit=0",
	    F(data_size_limit), FT_LL, 0, NULL },
	{ "data_size_limit = 4294967296L;", "data_size_limit=4G",
	    F(data_size_limit), FT_LL, 4294967296LL, NULL },
	{ "data_size_limit = 5000000000L;", "data_size_limit=5000000000L",
	    F(data_size_limit), FT_LL, 5000000000LL, NULL },
	{ "data_size_limit = 1048576;", "data_size_limit=1M",
	    F(data_size_limit), FT_LL, 1048576, NULL },
	{ "command_size_limit = 1024;", "command_size_limit=1k",
	    F(command_size_limit), FT_LL, 1024, NULL },
	{ "enable_smtputf8 = true;", "enable_smtputf8=yes",
	    F(enable_smtputf8), FT_BOOL, 1, NULL },
	{ "decode_data = true;", "decode_data=on",
	    F(decode_data), FT_BOOL, 1, NULL },
	{ "decode_data = false;", "decode_data=0",
	    F(decode_data), FT_BOOL, 0, NULL },
	{ "user = \"mail\";", "user=mail", F(user), FT_STR, 0, "mail" },
	{ "group = \"nogroup\";", "group=\"nogroup\"",
	    F(group), FT_STR, 0, "nogroup" },
	{ "pidfile = \"/tmp/p.pid\";", "pidfile=/tmp/p.pid",
	    F(pidfile), FT_STR, 0, "/tmp/p.pid" },
	{ "listen_backlog = 128;", "listen_backlog=128",
	    F(listen_backlog), FT_INT, 128, NULL },
	{ "log = { syslog_facility = \"local3\"; };",
	    "log.syslog_facility=local3", F(log.facility), FT_INT, LOG_LOCAL3,
	    NULL },
	{ "log = { syslog_facility = \"daemon\"; };",
	    "log.syslog_facility=\"daemon\"", F(log.facility), FT_INT,
	    LOG_DAEMON, NULL },
	{ "log = { level = \"debug\"; };", "log.level=debug",
	    F(log.level), FT_INT, LOG_DEBUG, NULL },
	{ "log = { level = \"warning\"; };", "log.level=WARNING",
	    F(log.level), FT_INT, LOG_WARNING, NULL },
	{ "timeouts = { command = 30; };", "timeouts.command=30",
	    F(timeouts.command), FT_INT, 30, NULL },
	{ "timeouts = { data = 60; };", "timeouts.data=60",
	    F(timeouts.data), FT_INT, 60, NULL },
	{ "timeouts = { shutdown = 0; };", "timeouts.shutdown=0",
	    F(timeouts.shutdown), FT_INT, 0, NULL },
	{ "timeouts = { session = 3600; };", "timeouts.session=3600",
	    F(timeouts.session), FT_INT, 3600, NULL },
	{ "limits = { max_recipients = 50; };", "limits.max_recipients=50",
	    F(limits.max_recipients), FT_LL, 50, NULL },
	{ "limits = { max_errors = 0; };", "limits.max_errors=0",
	    F(limits.max_errors), FT_LL, 0, NULL },
	{ "limits = { max_connections_per_client = 4; };",
	    "limits.max_connections_per_client=4",
	    F(limits.max_connections_per_client), FT_LL, 4, NULL },
	{ "limits = { max_message_size = 8589934592L; };",
	    "limits.max_message_size=8G", F(limits.max_message_size), FT_LL,
	    8589934592LL, NULL },
	{ "pool = { start = 2; };", "pool.start=2",
	    F(pool.start), FT_INT, 2, NULL },
	{ "pool = { min_spare = 1; };", "pool.min_spare=1",
	    F(pool.min_spare), FT_INT, 1, NULL },
	{ "pool = { max_spare = 20; };", "pool.max_spare=20",
	    F(pool.max_spare), FT_INT, 20, NULL },
	{ "pool = { max_workers = 7; };", " pool.max_workers = 7 ",
	    F(pool.max_workers), FT_INT, 7, NULL },
	{ "pool = { max_connections_per_worker = 0; };",
	    "pool.max_connections_per_worker=0",
	    F(pool.max_connections_per_worker), FT_LL, 0, NULL },
	{ "pool = { busy_reply = true; };", "pool.busy_reply=TRUE",
	    F(pool.busy_reply), FT_BOOL, 1, NULL },
};
const size_t nsetting_cases = NELEM(setting_cases);

START_TEST(test_setting_from_file)
{
	const struct setting_case *c = &setting_cases[_i];
	struct config cfg;
	struct tmpconf t;
	char err[CONFIG_ERR_MAX];

	ck_assert_msg(load_text(&cfg, &t, c->file, err, sizeof(err)) == 0,
	    "%s: %s", c->file, err);
	assert_field(&cfg, c->off, c->type, c->num, c->str, c->file);
	ck_assert_str_eq(cfg.file, t.path);
	config_free(&cfg);
	tmpconf_remove(&t);
}
END_TEST

/* ---- listen: one string or a list ------------------------------------ */

static const struct listen_case {
	const char *text;	/* a file's text, or -o's value */
	bool override;
	size_t n;
	const char *first, *last;
} listen_cases[] = {
	{ "listen = \"0.0.0.0:25\";", false, 1, "0.0.0.0:25", "0.0.0.0:25" },
	{ "listen = [ \"127.0.0.1:8025\", \"[::1]:8025\" ];", false, 2,
	    "127.0.0.1:8025", "[::1]:8025" },
	{ "listen = ( \"a:1\", \"b:2\", \":3\" );", false, 3, "a:1", ":3" },
	{ "listen=127.0.0.1:2525", true, 1, "127.0.0.1:2525",
	    "127.0.0.1:2525" },
	{ "listen=127.0.0.1:1, [::1]:2", true, 2, "127.0.0.1:1", "[::1]:2" },
	{ "listen=[\"a:1\",\"b:2\"]", true, 2, "a:1", "b:2" },
};

START_TEST(test_listen)
{
	const struct listen_case *c = &listen_cases[_i];
	struct config cfg;
	struct tmpconf t = { "", "" };
	char err[CONFIG_ERR_MAX] = "";
	int rc;

	if (c->override) {
		config_init(&cfg);
		rc = config_override(&cfg, c->text, err, sizeof(err));
	} else
		rc = load_text(&cfg, &t, c->text, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s: %s", c->text, err);
	ck_assert_uint_eq(cfg.nlisten, c->n);
	ck_assert_str_eq(cfg.listen[0].address, c->first);
	ck_assert_str_eq(cfg.listen[c->n - 1].address, c->last);
	config_free(&cfg);
	if (!c->override)
		tmpconf_remove(&t);
}
END_TEST

/* ---- listener groups -------------------------------------------------- */

START_TEST(test_listen_groups)
{
	struct config cfg;
	struct tmpconf t = { "", "" };
	char err[CONFIG_ERR_MAX] = "";
	const char *text =
	    "listen = ( \"127.0.0.1:25\",\n"
	    "  { address = \"[::1]:587\"; tls = \"starttls\";\n"
	    "    require_tls = true; require_auth = true; },\n"
	    "  { address = \"127.0.0.1:465\"; tls = \"implicit\"; },\n"
	    "  { address = \"127.0.0.1:10025\"; proxy_protocol = true;\n"
	    "    proxy_trusted = [ \"127.0.0.1\", \"10.0.0.0/8\", \"::1\" ];\n"
	    "    xclient_trusted = [ \"127.0.0.0/8\" ]; },\n"
	    "  { address = \"unix:/run/psmtpd/lmtp\"; protocol = \"lmtp\";\n"
	    "    mode = \"0660\"; } );\n"
	    "tls = { certificate = \"/c.pem\"; key = \"/k.pem\"; };\n";

	ck_assert_msg(load_text(&cfg, &t, text, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_uint_eq(cfg.nlisten, 5);
	ck_assert_str_eq(cfg.listen[0].address, "127.0.0.1:25");
	ck_assert_int_eq(cfg.listen[0].tls, CONFIG_TLS_NONE);
	ck_assert_int_eq(cfg.listen[0].mode, 0666);
	ck_assert_int_eq(cfg.listen[1].tls, CONFIG_TLS_STARTTLS);
	ck_assert(cfg.listen[1].require_tls && cfg.listen[1].require_auth);
	ck_assert_int_eq(cfg.listen[1].line, 2);
	ck_assert_int_eq(cfg.listen[2].tls, CONFIG_TLS_IMPLICIT);
	ck_assert(!cfg.listen[2].require_auth);
	ck_assert(cfg.listen[3].proxy_protocol);
	ck_assert_uint_eq(cfg.listen[3].nproxy_trusted, 3);
	ck_assert(addr_cidr_match(cfg.listen[3].proxy_trusted, 3,
	    "10.9.8.7"));
	ck_assert(!addr_cidr_match(cfg.listen[3].proxy_trusted, 3,
	    "192.0.2.1"));
	ck_assert_uint_eq(cfg.listen[3].nxclient_trusted, 1);
	ck_assert_int_eq(cfg.listen[4].protocol, CONFIG_PROTOCOL_LMTP);
	ck_assert_int_eq(cfg.listen[4].mode, 0660);
	ck_assert_str_eq(config_listen_unix_path(cfg.listen[4].address),
	    "/run/psmtpd/lmtp");
	ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), 0);
	config_free(&cfg);
	tmpconf_remove(&t);
}
END_TEST

/* Each bad listener group is an error at its line. */
static const struct {
	const char *text, *want;
} listen_group_bad[] = {
	{ "listen = ( { tls = \"starttls\"; } );\n",
	    "1: a listener group needs an address" },
	{ "listen = (\n { address = \"a:1\"; tls = \"yes\"; } );\n",
	    "2: 'listen.tls' must be \"none\", \"starttls\" or \"implicit\"" },
	{ "listen = ( { address = \"a:1\"; protocol = \"esmtp\"; } );\n",
	    "1: 'listen.protocol' must be \"smtp\" or \"lmtp\"" },
	{ "listen = ( { address = \"a:1\"; colour = 1; } );\n",
	    "1: unknown setting 'listen.colour'" },
	{ "listen = ( { address = \"a:1\"; require_tls = true; } );\n",
	    "1: 'listen.require_tls' needs tls = \"starttls\"" },
	{ "listen = ( { address = \"a:1\"; proxy_protocol = true; } );\n",
	    "1: 'listen.proxy_protocol' on 'a:1' needs 'proxy_trusted'" },
	{ "listen = ( { address = \"a:1\"; proxy_protocol = true;\n"
	  "  proxy_trusted = [ \"10.1.0.0/8\" ]; } );\n",
	    "2: 'listen.proxy_trusted': '10.1.0.0/8': bits set after the "
	    "prefix length" },
	{ "listen = ( { address = \"a:1\"; proxy_protocol = true;\n"
	  "  proxy_trusted = [ \"example.org\" ]; } );\n",
	    "2: 'listen.proxy_trusted': 'example.org': not a numeric" },
	{ "listen = ( { address = \"unix:run/lmtp\"; } );\n",
	    "1: 'listen': 'unix:run/lmtp': a unix: socket needs an absolute "
	    "path" },
	{ "listen = ( { address = \"a:99999\"; } );\n",
	    "1: 'listen': bad address 'a:99999': bad port" },
	{ "listen = ( { address = \"a:1\"; mode = 0660; } );\n",
	    "1: 'listen.mode' must be octal permissions in a string" },
	{ "listen = ( { address = \"a:1\"; mode = \"0999\"; } );\n",
	    "1: 'listen.mode' must be octal permissions in a string" },
	{ "listen = ( { address = \"a:1\"; require_auth = 1; } );\n",
	    "1: 'listen.require_auth' must be true or false" },
};

START_TEST(test_listen_groups_bad)
{
	struct config cfg;
	struct tmpconf t = { "", "" };
	char err[CONFIG_ERR_MAX] = "";

	ck_assert_int_eq(load_text(&cfg, &t, listen_group_bad[_i].text, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, listen_group_bad[_i].want) != NULL,
	    "want '%s' in '%s'", listen_group_bad[_i].want, err);
	config_free(&cfg);
	tmpconf_remove(&t);
}
END_TEST

/* addr_cidr: networks of both families, IPv4-mapped IPv6 addresses. */
static const struct {
	const char *net, *addr;
	int match;
} cidr_rows[] = {
	{ "127.0.0.1", "127.0.0.1", 1 },
	{ "127.0.0.1", "127.0.0.2", 0 },
	{ "10.0.0.0/8", "10.255.1.2", 1 },
	{ "10.0.0.0/8", "11.0.0.1", 0 },
	{ "192.168.4.0/22", "192.168.7.255", 1 },
	{ "192.168.4.0/22", "192.168.8.0", 0 },
	{ "0.0.0.0/0", "203.0.113.9", 1 },
	{ "::1", "::1", 1 },
	{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
	{ "2001:db8::/32", "2001:db9::1", 0 },
	{ "127.0.0.0/8", "::ffff:127.0.0.3", 1 },
	{ "::1", "127.0.0.1", 0 },
	{ "127.0.0.1", "not-an-address", 0 },
};

START_TEST(test_cidr)
{
	struct addr_cidr c;
	const char *why = NULL;

	ck_assert_msg(addr_cidr_parse(cidr_rows[_i].net, &c, &why) == 0,
	    "%s: %s", cidr_rows[_i].net, why);
	ck_assert_int_eq(addr_cidr_match(&c, 1, cidr_rows[_i].addr),
	    cidr_rows[_i].match);
}
END_TEST

/* addr_numeric formats IPv4 itself: it must say what getnameinfo says. */
static const struct {
	const char *addr;
	unsigned port;
} numeric_rows[] = {
	{ "0.0.0.0", 0 }, { "1.2.3.4", 25 }, { "9.10.99.100", 8025 },
	{ "127.0.0.1", 65535 }, { "203.0.113.250", 1 },
	{ "255.255.255.255", 587 }, { "::1", 25 }, { "::ffff:1.2.3.4", 25 },
	{ "2001:db8::10", 465 },
};

START_TEST(test_addr_numeric)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	char want[NI_MAXHOST], serv[NI_MAXSERV], got[NI_MAXHOST];
	unsigned port = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, numeric_rows[_i].addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(numeric_rows[_i].port);
		len = sizeof(*in);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, numeric_rows[_i].addr,
		    &in6->sin6_addr), 1);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(numeric_rows[_i].port);
		len = sizeof(*in6);
	}
	ck_assert_int_eq(getnameinfo((struct sockaddr *)&ss, len, want,
	    sizeof(want), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV), 0);
	ck_assert_int_eq(addr_numeric((struct sockaddr *)&ss, len, got,
	    sizeof(got), &port), 0);
	ck_assert_str_eq(got, want);
	ck_assert_str_eq(got, numeric_rows[_i].addr);
	ck_assert_uint_eq(port, numeric_rows[_i].port);
}
END_TEST

/* A host that does not fit, a short address: -1. */
START_TEST(test_addr_numeric_none)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	char host[16];
	unsigned port;

	ck_assert_int_eq(addr_numeric((struct sockaddr *)&in, 2, host,
	    sizeof(host), &port), -1);
	ck_assert_int_eq(inet_pton(AF_INET, "255.255.255.255", &in.sin_addr),
	    1);
	ck_assert_int_eq(addr_numeric((struct sockaddr *)&in, sizeof(in),
	    host, 15, &port), -1);
	ck_assert_int_eq(addr_numeric((struct sockaddr *)&in, sizeof(in),
	    host, 16, &port), 0);
	ck_assert_str_eq(host, "255.255.255.255");
}
END_TEST

/* ---- plugins ---------------------------------------------------------- */

START_TEST(test_plugins)
{
	struct config cfg;
	struct tmpconf t;
	char err[CONFIG_ERR_MAX];
	const char *dir = NULL;

	ck_assert_msg(load_text(&cfg, &t,
	    "# plugins in order\n"
	    "plugins = (\n"
	    "  { name = \"maildir\"; settings = { dir = \"/var/spool/x\"; }; },\n"
	    "  { path = \"/opt/site/lib/filter.so\"; },\n"
	    "  { name = \"pipe\"; path = \"./pipe.so\";\n"
	    "    settings = { }; }\n"
	    ");\n", err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.nplugins, 3);
	ck_assert_str_eq(cfg.plugins[0].name, "maildir");
	ck_assert_ptr_null(cfg.plugins[0].path);
	ck_assert_str_eq(cfg.plugins[0].file, t.path);
	ck_assert_int_eq(cfg.plugins[0].line, 3);
	ck_assert_ptr_nonnull(cfg.plugins[0].settings);
	ck_assert_int_eq(config_setting_lookup_string(cfg.plugins[0].settings,
	    "dir", &dir), CONFIG_TRUE);
	ck_assert_str_eq(dir, "/var/spool/x");
	ck_assert_ptr_null(cfg.plugins[1].name);
	ck_assert_str_eq(cfg.plugins[1].path, "/opt/site/lib/filter.so");
	ck_assert_ptr_null(cfg.plugins[1].settings);
	ck_assert_int_eq(cfg.plugins[1].line, 4);
	ck_assert_str_eq(cfg.plugins[2].name, "pipe");
	ck_assert_str_eq(cfg.plugins[2].path, "./pipe.so");
	ck_assert_ptr_nonnull(cfg.plugins[2].settings);
	ck_assert_int_eq(config_setting_length(cfg.plugins[2].settings), 0);
	ck_assert_int_eq(cfg.plugins[2].line, 5);
	ck_assert_msg(config_validate(&cfg, err, sizeof(err)) == 0, "%s", err);
	config_free(&cfg);
	tmpconf_remove(&t);
}
END_TEST

/* The plugin's own settings are the loader's business, not ours. */
START_TEST(test_plugin_settings_not_checked)
{
	struct config cfg;
	struct tmpconf t;
	char err[CONFIG_ERR_MAX];

	ck_assert_msg(load_text(&cfg, &t,
	    "plugins = ( { name = \"x\"; settings = { anything = 1;\n"
	    "  nested = { deep = [ 1, 2 ]; }; pool = \"not ours\"; }; } );\n",
	    err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.nplugins, 1);
	config_free(&cfg);
	tmpconf_remove(&t);
}
END_TEST

START_TEST(test_plugins_empty)
{
	struct config cfg;
	struct tmpconf t;
	char err[CONFIG_ERR_MAX];

	ck_assert_int_eq(load_text(&cfg, &t, "plugins = ();\n", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(cfg.nplugins, 0);
	config_free(&cfg);
	tmpconf_remove(&t);
}
END_TEST

/* ---- every kind of error in a file, with its line -------------------- */

static const struct file_error_case {
	const char *text;
	const char *error;	/* after "FILE:" */
} file_error_cases[] = {
	/* syntax, from libconfig */
	{ "pool = {\n  start = ;\n};\n", "2: syntax error" },
	{ "a = 1;\nuser = \"x\";\nuser = \"y\";\n",
	    "3: duplicate setting name" },
	{ "\n@include \"no-such-file.conf\"\n",
	    "2: cannot open include file" },
	/* unknown settings at every level */
	{ "lisen = \"a:1\";\n", "1: unknown setting 'lisen'" },
	{ "pool = {\n  start = 1;\n  max_wrokers = 3;\n};\n",
	    "3: unknown setting 'pool.max_wrokers'" },
	{ "log = {\n  facility = \"mail\";\n};\n",
	    "2: unknown setting 'log.facility'" },
	{ "timeouts = { command = 1; idle = 2; };\n",
	    "1: unknown setting 'timeouts.idle'" },
	{ "limits = {\n\n  max_rcpt = 2;\n};\n",
	    "3: unknown setting 'limits.max_rcpt'" },
	/* wrong types */
	{ "pool = {\n  start = \"5\";\n};\n",
	    "2: 'pool.start' must be an integer" },
	{ "pool = { start = 5.0; };\n", "1: 'pool.start' must be an integer" },
	{ "data_size_limit = true;\n",
	    "1: 'data_size_limit' must be an integer" },
	{ "decode_data = 1;\n", "1: 'decode_data' must be true or false" },
	{ "pool = { busy_reply = \"yes\"; };\n",
	    "1: 'pool.busy_reply' must be true or false" },
	{ "user = 65534;\n", "1: 'user' must be a string" },
	{ "remote = [ \"a:1\" ];\n", "1: 'remote' must be a string" },
	{ "log = { level = 7; };\n", "1: 'log.level' must be a string" },
	{ "pool = 5;\n", "1: 'pool' must be a group: pool = { ... };" },
	{ "timeouts = ( 1, 2 );\n",
	    "1: 'timeouts' must be a group: timeouts = { ... };" },
	{ "listen = 8025;\n", "1: 'listen' must be a string, a list of "
	    "strings, or a list of listener groups" },
	{ "listen = ( \"a:1\",\n  25 );\n", "2: 'listen' must be a string, "
	    "a list of strings, or a list of listener groups" },
	/* bad values */
	{ "listen = [];\n", "1: 'listen' must name at least one address" },
	{ "listen = \"localhost\";\n",
	    "1: 'listen': bad address 'localhost': expected host:port" },
	{ "listen = [ \"a:1\", \"b:99999\" ];\n",
	    "1: 'listen': bad address 'b:99999': bad port" },
	{ "remote = \"mx\";\n",
	    "1: 'remote': bad address 'mx': expected host:port" },
	{ "log = { syslog_facility = \"mial\"; };\n",
	    "1: 'log.syslog_facility': unknown syslog facility 'mial' "
	    "(mail, daemon, user, local0..local7)" },
	{ "log = { level = \"loud\"; };\n", "1: 'log.level': unknown log "
	    "level 'loud' (debug, info, notice, warning, err)" },
	{ "data_size_limit = -1;\n",
	    "1: 'data_size_limit' must not be negative" },
	{ "limits = { max_message_size = 0; };\n",
	    "1: 'limits.max_message_size' must be at least 1" },
	{ "limits = { max_errors = -1; };\n",
	    "1: 'limits.max_errors' must not be negative" },
	{ "command_size_limit = 10;\n", "1: 'command_size_limit' must be "
	    "between 64 and 1048576" },
	{ "listen_backlog = 0;\n",
	    "1: 'listen_backlog' must be between 1 and 65535" },
	{ "timeouts = { data = -5; };\n",
	    "1: 'timeouts.data' must be between 0 and 86400" },
	{ "pool = { max_workers = 0; };\n",
	    "1: 'pool.max_workers' must be between 1 and 20000" },
	{ "pool = { start = 5000000000L; };\n",
	    "1: 'pool.start' must be between 0 and 20000" },
	{ "hostname = \"\";\n", "1: 'hostname' must not be empty" },
	{ "hostname = \"mx.example.org\\r\\n250 x\";\n", "1: 'hostname' "
	    "must be one word of printable ASCII" },
	{ "hostname = \"two words\";\n", "1: 'hostname' must be one word "
	    "of printable ASCII" },
	/* plugins */
	{ "plugins = { name = \"x\"; };\n", "1: 'plugins' must be a list of "
	    "groups: ( { name = \"...\"; }, ... )" },
	{ "plugins = (\n  { name = \"a\"; },\n  \"b\" );\n",
	    "3: 'plugins.[1]' must be a group: { name = \"...\"; }" },
	{ "plugins = (\n  { settings = { a = 1; }; }\n);\n",
	    "2: 'plugins.[0]' needs a name or a path" },
	{ "plugins = (\n  { name = \"a\";\n    nmae = \"b\"; }\n);\n",
	    "3: unknown setting 'plugins.[0].nmae' (name, path, settings, "
	    "timeout)" },
	{ "plugins = ( { name = 5; } );\n",
	    "1: 'plugins.[0].name' must be a non-empty string" },
	{ "plugins = ( { path = \"\"; } );\n",
	    "1: 'plugins.[0].path' must be a non-empty string" },
	{ "plugins = ( { name = \"a\"; settings = 1; } );\n",
	    "1: 'plugins.[0].settings' must be a group" },
	{ "plugins = ( { name = \"a\"; timeout = -1; } );\n",
	    "1: 'plugins.[0].timeout' must be a number of seconds from 0 "
	    "to 86400" },
	/* tls.sni: a list of groups like plugins, read the same way */
	{ "tls = { sni = { name = \"a\"; }; };\n", "1: 'tls.sni' must be a "
	    "list of groups: ( { name = \"...\"; ... }, ... )" },
	{ "tls = { sni = (\n  \"b\" ); };\n", "2: 'tls.sni.[0]' must be a "
	    "group: { name = \"...\"; certificate = \"...\"; key = "
	    "\"...\"; }" },
	{ "tls = { sni = (\n  { name = \"a\"; } ); };\n",
	    "2: 'tls.sni.[0]' needs a name, a certificate and a key" },
	{ "tls = { sni = ( { name = \"a\";\n  nmae = \"b\"; } ); };\n",
	    "2: unknown setting 'tls.sni.[0].nmae' (name, certificate, key)" },
	{ "tls = { sni = ( { key = \"\"; } ); };\n",
	    "1: 'tls.sni.[0].key' must be a non-empty string" },
	{ "tls = { sni = ( { name = 5; } ); };\n",
	    "1: 'tls.sni.[0].name' must be a non-empty string" },
};

START_TEST(test_file_error)
{
	const struct file_error_case *c = &file_error_cases[_i];
	struct config cfg;
	struct tmpconf t;
	char err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX + 300];

	ck_assert_msg(load_text(&cfg, &t, c->text, err, sizeof(err)) == -1,
	    "loaded: %s", c->text);
	snprintf(want, sizeof(want), "%s:%s", t.path, c->error);
	ck_assert_str_eq(err, want);
	config_free(&cfg);
	tmpconf_remove(&t);
}
END_TEST

/*
 * A number beyond 32 bits written without an L: libconfig 1.5 cuts it
 * (4294967296 reads as 0, "no limit"), later ones promote it.  Either way
 * it must never load as another number.
 */
static const struct big_int_case {
	const char *text;
	size_t off;
	enum ftype type;
	long long num;
	const char *error;	/* after "FILE:", when refused */
} big_int_cases[] = {
	{ "data_size_limit = 4294967296;\n", F(data_size_limit), FT_LL,
	    4294967296LL, "1: 'data_size_limit': 4294967296 is beyond 32 "
	    "bits and needs an L: 4294967296L" },
	{ "limits = {\n  max_message_size:3000000000; };\n",
	    F(limits.max_message_size), FT_LL, 3000000000LL,
	    "2: 'limits.max_message_size': 3000000000 is beyond 32 bits and "
	    "needs an L: 3000000000L" },
	{ "pool = { start = 4294967297; };\n", F(pool.start), FT_INT, -1,
	    "1: 'pool.start': 4294967297 is beyond 32 bits and needs an L: "
	    "4294967297L" },
	{ "data_size_limit = 0x100000000;\n", F(data_size_limit), FT_LL,
	    4294967296LL, "1: 'data_size_limit': 4294967296 is beyond 32 "
	    "bits and needs an L: 4294967296L" },
	{ "data_size_limit = 0x10; # 16\n", F(data_size_limit), FT_LL, 16,
	    NULL },
	{ "data_size_limit = 2147483647;\n", F(data_size_limit), FT_LL,
	    2147483647LL, NULL },
	{ "user = \"data_size_limit = 5\"; data_size_limit = 7;\n",
	    F(data_size_limit), FT_LL, 7, NULL },
};

START_TEST(test_big_int)
{
	const struct big_int_case *c = &big_int_cases[_i];
	struct config cfg;
	struct tmpconf t;
	char err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX + 300];

	if (load_text(&cfg, &t, c->text, err, sizeof(err)) == 0) {
		if (c->num == -1)	/* out of range when read right */
			ck_abort_msg("loaded: %s", c->text);
		assert_field(&cfg, c->off, c->type, c->num, NULL, c->text);
	} else {
		ck_assert_msg(c->error != NULL, "%s: %s", c->text, err);
		snprintf(want, sizeof(want), "%s:%s", t.path, c->error);
		if (strcmp(err, want) != 0 && c->num == -1)
			snprintf(want, sizeof(want), "%s:1: 'pool.start' must "
			    "be between 0 and 20000", t.path);
		ck_assert_str_eq(err, want);
	}
	config_free(&cfg);
	tmpconf_remove(&t);
}
END_TEST

/* ---- files kept in tests/data/config --------------------------------- */

static const struct data_case {
	const char *file;
	int rc;
	const char *error;	/* after DATADIR "/" */
} data_cases[] = {
	{ "full.conf", 0, NULL },
	{ "include.conf", 0, NULL },
	{ "syntax.conf", -1, "syntax.conf:7: syntax error" },
	{ "unknown.conf", -1, "unknown.conf:11: unknown setting "
	    "'pool.max_wrokers'" },
	{ "type.conf", -1, "type.conf:5: 'pool.start' must be an integer" },
	{ "include-bad.conf", -1, "included-bad.inc:3: unknown setting "
	    "'timeouts.comand'" },
	{ "plugin-nameless.conf", -1, "plugin-nameless.conf:6: "
	    "'plugins.[1]' needs a name or a path" },
};

START_TEST(test_data_file)
{
	const struct data_case *c = &data_cases[_i];
	struct config cfg;
	char path[512], err[CONFIG_ERR_MAX] = "", want[CONFIG_ERR_MAX];

	snprintf(path, sizeof(path), "%s/%s", DATADIR, c->file);
	config_init(&cfg);
	ck_assert_msg(config_load_file(&cfg, path, err, sizeof(err)) == c->rc,
	    "%s: %s", path, err);
	if (c->error != NULL) {
		snprintf(want, sizeof(want), "%s/%s", DATADIR, c->error);
		ck_assert_str_eq(err, want);
	}
	config_free(&cfg);
}
END_TEST

/* full.conf sets every setting away from its default. */
START_TEST(test_full_file)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX] = "";

	config_init(&cfg);
	ck_assert_msg(config_load_file(&cfg, DATADIR "/full.conf", err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.nlisten, 2);
	ck_assert_str_eq(cfg.listen[0].address, "127.0.0.1:2525");
	ck_assert_str_eq(cfg.listen[1].address, "[::1]:2525");
	ck_assert_str_eq(cfg.remote, "relay.example.org:587");
	ck_assert_str_eq(cfg.hostname, "mx.example.org");
	ck_assert_int_eq(cfg.data_size_limit, 10485760);
	ck_assert_int_eq(cfg.command_size_limit, 1024);
	ck_assert(cfg.enable_smtputf8 && !cfg.decode_data);
	ck_assert_str_eq(cfg.user, "mail");
	ck_assert_str_eq(cfg.group, "mail");
	ck_assert_str_eq(cfg.pidfile, "/tmp/psmtpd-test.pid");
	ck_assert_int_eq(cfg.listen_backlog, 128);
	ck_assert_int_eq(cfg.log.facility, LOG_LOCAL5);
	ck_assert_int_eq(cfg.log.level, LOG_NOTICE);
	ck_assert_int_eq(cfg.timeouts.command, 60);
	ck_assert_int_eq(cfg.timeouts.data, 120);
	ck_assert_int_eq(cfg.timeouts.shutdown, 5);
	ck_assert_int_eq(cfg.timeouts.session, 1800);
	ck_assert_int_eq(cfg.limits.max_recipients, 100);
	ck_assert_int_eq(cfg.limits.max_errors, 5);
	ck_assert_int_eq(cfg.limits.max_connections_per_client, 10);
	ck_assert_int_eq(cfg.limits.max_message_size, 4294967296LL);
	ck_assert_int_eq(cfg.pool.start, 2);
	ck_assert_int_eq(cfg.pool.min_spare, 1);
	ck_assert_int_eq(cfg.pool.max_spare, 4);
	ck_assert_int_eq(cfg.pool.max_workers, 8);
	ck_assert_int_eq(cfg.pool.max_connections_per_worker, 500);
	ck_assert(cfg.pool.busy_reply);
	ck_assert_uint_eq(cfg.nplugins, 2);
	ck_assert_str_eq(cfg.plugins[0].name, "maildir");
	ck_assert_str_eq(cfg.plugins[1].path, "/opt/site/lib/filter.so");
	ck_assert_msg(config_validate(&cfg, err, sizeof(err)) == 0, "%s", err);
	config_free(&cfg);
}
END_TEST

/* The sample shipped in etc/ loads as it is and passes validation. */
START_TEST(test_sample_config)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX] = "";

	config_init(&cfg);
	ck_assert_msg(config_load_file(&cfg, CONFIG_TEST_SRCDIR
	    "/etc/psmtpd.conf", err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(config_validate(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(cfg.listen[0].address, "localhost:8025");
	ck_assert_int_eq(cfg.data_size_limit, 33554432);
	config_free(&cfg);
}
END_TEST

/* read_file - a whole small file of the source tree, NUL-terminated. */
static char *
read_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	size_t n;

	ck_assert_msg(fp != NULL, "%s", path);
	ck_assert_ptr_nonnull(buf = calloc(1, 1 << 20));
	n = fread(buf, 1, (1 << 20) - 1, fp);
	ck_assert_msg(n > 0 && n < (1 << 20) - 1, "%s: size", path);
	fclose(fp);
	return buf;
}

/* sample_mentions - a line "[#] leaf =" in etc/psmtpd.conf. */
static bool
sample_mentions(const char *text, const char *path)
{
	const char *leaf = strrchr(path, '.') ? strrchr(path, '.') + 1 : path;
	size_t n = strlen(leaf);

	for (const char *l = text; l != NULL && *l != '\0';
	    l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		l += strspn(l, " \t#");
		if (strncmp(l, leaf, n) == 0 && strncmp(l + n, " =", 2) == 0)
			return true;
	}
	return false;
}

/* man_documents - a ".BR path" entry (maybe "\%path") in the man page. */
static bool
man_documents(const char *text, const char *path)
{
	char want[128], alt[128];

	snprintf(want, sizeof(want), "\n.BR %s \"", path);
	snprintf(alt, sizeof(alt), "\n.BR \\%%%s \"", path);
	return strstr(text, want) != NULL || strstr(text, alt) != NULL;
}

/* Every setting of the schema is in the sample and in psmtpd.conf(5). */
START_TEST(test_docs_cover_schema)
{
	char *sample = read_file(CONFIG_TEST_SRCDIR "/etc/psmtpd.conf");
	char *man = read_file(CONFIG_TEST_SRCDIR "/man/psmtpd.conf.5");
	const char *path;
	size_t i;

	for (i = 0; (path = config_setting_path(i)) != NULL; i++) {
		ck_assert_msg(sample_mentions(sample, path),
		    "etc/psmtpd.conf lacks %s", path);
		ck_assert_msg(man_documents(man, path),
		    "man/psmtpd.conf.5 lacks %s", path);
	}
	ck_assert_uint_gt(i, 30);	/* the schema was walked */
	free(sample);
	free(man);
}
END_TEST

START_TEST(test_missing_file)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];

	config_init(&cfg);
	ck_assert_int_eq(config_load_file(&cfg, "/nonexistent/psmtpd.conf",
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/psmtpd.conf: cannot read: "
	    "No such file or directory");
	config_free(&cfg);
	config_init(&cfg);
	ck_assert_int_eq(config_load_file(&cfg, DATADIR, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, DATADIR ": cannot read: Is a directory");
	config_free(&cfg);
}
END_TEST

START_TEST(test_load_twice)
{
	struct config cfg;
	struct tmpconf t;
	char err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX + 300];

	ck_assert_int_eq(load_text(&cfg, &t, "user = \"a\";\n", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(config_load_file(&cfg, t.path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: a configuration file was already "
	    "read into this config", t.path);
	ck_assert_str_eq(err, want);
	config_free(&cfg);
	tmpconf_remove(&t);
}
END_TEST

/* A file sets only what it names; the rest keeps the earlier values. */
START_TEST(test_file_over_current)
{
	struct config cfg;
	struct tmpconf t;
	char err[CONFIG_ERR_MAX];

	config_init(&cfg);
	ck_assert_int_eq(config_override(&cfg, "pool.max_workers=3", err,
	    sizeof(err)), 0);
	tmpconf_write(&t, "pool = { start = 1; };\n");
	ck_assert_int_eq(config_load_file(&cfg, t.path, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.pool.start, 1);
	ck_assert_int_eq(cfg.pool.max_workers, 3);
	ck_assert_int_eq(cfg.pool.min_spare, 5);
	config_free(&cfg);
	tmpconf_remove(&t);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("defaults");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_defaults_validate);
	tcase_add_test(tc, test_libconfig_init_macro);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_loop_test(tc, test_setting_from_file, 0,
	    NELEM(setting_cases));
	tcase_add_loop_test(tc, test_listen, 0, NELEM(listen_cases));
	tcase_add_test(tc, test_listen_groups);
	tcase_add_loop_test(tc, test_listen_groups_bad, 0,
	    NELEM(listen_group_bad));
	tcase_add_loop_test(tc, test_cidr, 0, NELEM(cidr_rows));
	tcase_add_loop_test(tc, test_addr_numeric, 0, NELEM(numeric_rows));
	tcase_add_test(tc, test_addr_numeric_none);
	tcase_add_test(tc, test_plugins);
	tcase_add_test(tc, test_plugin_settings_not_checked);
	tcase_add_test(tc, test_plugins_empty);
	tcase_add_loop_test(tc, test_file_error, 0, NELEM(file_error_cases));
	tcase_add_loop_test(tc, test_big_int, 0, NELEM(big_int_cases));
	tcase_add_loop_test(tc, test_data_file, 0, NELEM(data_cases));
	tcase_add_test(tc, test_full_file);
	tcase_add_test(tc, test_sample_config);
	tcase_add_test(tc, test_docs_cover_schema);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_load_twice);
	tcase_add_test(tc, test_file_over_current);
	suite_add_tcase(s, tc);

	config_cmdline_tcases(s);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
