/*
 * check_config_cmdline.c - the command line side of src/config.c: every
 * setting as -o, -o errors, -c, the order of the sources, and the checks
 * across settings (config_validate).
 */
#include "autoconfig.h"

#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "check_config.h"

START_TEST(test_setting_from_override)
{
	const struct setting_case *c = &setting_cases[_i];
	struct config cfg;
	char err[CONFIG_ERR_MAX] = "";

	config_init(&cfg);
	ck_assert_msg(config_override(&cfg, c->override, err,
	    sizeof(err)) == 0, "%s: %s", c->override, err);
	assert_field(&cfg, c->off, c->type, c->num, c->str, c->override);
	config_free(&cfg);
}
END_TEST

/* ---- -o errors --------------------------------------------------------- */

static const struct override_error_case {
	const char *assignment;
	const char *error;	/* after "-o ASSIGNMENT: " */
} override_error_cases[] = {
	{ "pool.max_workers", "expected key=value" },
	{ "pool.max_wrokers=3", "unknown setting 'pool.max_wrokers'" },
	{ "=3", "unknown setting ''" },
	{ "max_workers=3", "unknown setting 'max_workers'" },
	{ "pool.max_workers=abc", "'pool.max_workers' must be an integer" },
	{ "pool.max_workers=", "'pool.max_workers' must be an integer" },
	{ "pool.max_workers=5KB", "'pool.max_workers' must be an integer" },
	{ "pool.max_workers=5x", "'pool.max_workers' must be an integer" },
	{ "pool.max_workers=1.5", "'pool.max_workers' must be an integer" },
	{ "pool.max_workers=0", "'pool.max_workers' must be between 1 and "
	    "20000" },
	{ "pool.max_workers=1G", "'pool.max_workers' must be between 1 and "
	    "20000" },
	{ "data_size_limit=-1", "'data_size_limit' must not be negative" },
	{ "data_size_limit=99999999999G", "'data_size_limit' must be an "
	    "integer" },
	{ "data_size_limit=99999999999999999999",
	    "'data_size_limit' must be an integer" },
	{ "decode_data=maybe", "'decode_data' must be true or false" },
	{ "decode_data=", "'decode_data' must be true or false" },
	{ "user=", "'user' must not be empty" },
	{ "hostname=a\tb", "'hostname' must be one word of printable ASCII" },
	{ "user=\"\"", "'user' must not be empty" },
	{ "remote=nowhere", "'remote': bad address 'nowhere': expected "
	    "host:port" },
	{ "listen=", "'listen' must name at least one address" },
	{ "listen=a:1,b", "'listen': bad address 'b': expected host:port" },
	{ "log.level=chatty", "'log.level': unknown log level 'chatty' "
	    "(debug, info, notice, warning, err)" },
	{ "log.syslog_facility=kern", "'log.syslog_facility': unknown "
	    "syslog facility 'kern' (mail, daemon, user, local0..local7)" },
	{ "pool=5", "'pool' is a group: set one of its settings, e.g. -o "
	    "pool.start" },
	{ "log=x", "'log' is a group: set one of its settings, e.g. -o "
	    "log.syslog_facility" },
	{ "plugins=maildir", "'plugins' is set in the file, or with -c for "
	    "one plugin" },
};

START_TEST(test_override_error)
{
	const struct override_error_case *c = &override_error_cases[_i];
	struct config cfg;
	char err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX];

	config_init(&cfg);
	ck_assert_msg(config_override(&cfg, c->assignment, err,
	    sizeof(err)) == -1, "accepted: %s", c->assignment);
	snprintf(want, sizeof(want), "-o %s: %s", c->assignment, c->error);
	ck_assert_str_eq(err, want);
	config_free(&cfg);
}
END_TEST

/* A failed -o leaves the setting as it was. */
START_TEST(test_override_error_keeps_value)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];

	config_init(&cfg);
	ck_assert_int_eq(config_override(&cfg, "listen=a:1,bad", err,
	    sizeof(err)), -1);
	ck_assert_uint_eq(cfg.nlisten, 1);
	ck_assert_str_eq(cfg.listen[0].address, "localhost:8025");
	ck_assert_int_eq(config_override(&cfg, "pool.start=-1", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(cfg.pool.start, 5);
	config_free(&cfg);
}
END_TEST

/* ---- -c ------------------------------------------------------------ */

static const struct class_case {
	const char *arg;
	const char *name, *path;
} class_cases[] = {
	{ "DebuggingServer", "DebuggingServer", NULL },
	{ "SinkServer", "SinkServer", NULL },
	{ "PureProxy", "PureProxy", NULL },
	{ "maildir", "maildir", NULL },
	{ "path/to/x.so", NULL, "path/to/x.so" },
	{ "x.so", NULL, "x.so" },
	{ "/opt/lib/filter", NULL, "/opt/lib/filter" },
};

START_TEST(test_set_class)
{
	const struct class_case *c = &class_cases[_i];
	struct config cfg;
	struct tmpconf t;
	char err[CONFIG_ERR_MAX];

	/* -c replaces the file's whole list. */
	ck_assert_int_eq(load_text(&cfg, &t, "plugins = ( { name = \"a\"; "
	    "settings = { x = 1; }; }, { name = \"b\"; } );\n", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(config_set_class(&cfg, c->arg, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.nplugins, 1);
	if (c->name != NULL)
		ck_assert_str_eq(cfg.plugins[0].name, c->name);
	else
		ck_assert_ptr_null(cfg.plugins[0].name);
	if (c->path != NULL)
		ck_assert_str_eq(cfg.plugins[0].path, c->path);
	else
		ck_assert_ptr_null(cfg.plugins[0].path);
	ck_assert_ptr_null(cfg.plugins[0].settings);
	ck_assert_ptr_null(cfg.plugins[0].file);
	ck_assert_int_eq(cfg.plugins[0].line, 0);
	config_free(&cfg);
	tmpconf_remove(&t);
}
END_TEST

START_TEST(test_set_class_empty)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];

	config_init(&cfg);
	ck_assert_int_eq(config_set_class(&cfg, "", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "-c: empty class name");
	ck_assert_int_eq(config_set_class(&cfg, "a", err, sizeof(err)), 0);
	ck_assert_int_eq(config_set_class(&cfg, "b", err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.nplugins, 1);
	ck_assert_str_eq(cfg.plugins[0].name, "b");
	config_free(&cfg);
}
END_TEST

/* ---- checks across settings ------------------------------------------ */

static const struct validate_case {
	const char *overrides[3];
	const char *error;	/* NULL: valid */
} validate_cases[] = {
	{ { "decode_data=true", "enable_smtputf8=true" },
	    "decode_data and enable_smtputf8 cannot both be true" },
	{ { "decode_data=true" }, NULL },
	{ { "enable_smtputf8=true" }, NULL },
	{ { "pool.min_spare=11" },
	    "'pool.min_spare' (11) must be between 0 and 'pool.max_spare' "
	    "(10)" },
	{ { "pool.min_spare=0", "pool.max_spare=0" }, NULL },
	{ { "pool.start=151" },
	    "'pool.start' (151) must be between 0 and 'pool.max_workers' "
	    "(150)" },
	{ { "pool.max_workers=4" },
	    "'pool.start' (5) must be between 0 and 'pool.max_workers' (4)" },
	{ { "pool.max_workers=1", "pool.start=1", "pool.min_spare=0" },
	    NULL },
	{ { "pool.start=0" }, NULL },
	{ { "timeouts.session=0", "timeouts.shutdown=0" }, NULL },
	{ { "data_size_limit=0", "command_size_limit=64" }, NULL },
	{ { "listen=[::]:25,0.0.0.0:25", "remote=[2001:db8::1]:25" }, NULL },
};

START_TEST(test_validate)
{
	const struct validate_case *c = &validate_cases[_i];
	struct config cfg;
	char err[CONFIG_ERR_MAX] = "";
	int rc;

	config_init(&cfg);
	for (size_t i = 0; i < NELEM(c->overrides) && c->overrides[i]; i++)
		ck_assert_msg(config_override(&cfg, c->overrides[i], err,
		    sizeof(err)) == 0, "%s", err);
	rc = config_validate(&cfg, err, sizeof(err));
	if (c->error == NULL)
		ck_assert_msg(rc == 0, "%s", err);
	else {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err, c->error);
	}
	config_free(&cfg);
}
END_TEST

/* What -o and the file refuse, a caller could still set by hand. */
START_TEST(test_validate_fields)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];

	config_init(&cfg);
	cfg.timeouts.data = -1;
	ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "'timeouts.data' must be between 0 and 86400");
	cfg.timeouts.data = 600;
	cfg.command_size_limit = 10;
	ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "'command_size_limit' must be between 64 "
	    "and 1048576");
	cfg.command_size_limit = 512;
	cfg.pool.max_workers = 0;
	cfg.pool.start = 0;
	ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "'pool.max_workers' must be between 1 and "
	    "20000");
	cfg.pool.max_workers = 150;
	ck_assert_int_eq(config_set_string(&cfg.remote, "bad"), 0);
	ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "'remote': bad address 'bad': expected "
	    "host:port");
	config_listeners_free(cfg.listen, cfg.nlisten);
	cfg.listen = NULL;
	cfg.nlisten = 0;
	ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "'listen' must name at least one address");
	config_free(&cfg);
}
END_TEST

START_TEST(test_set_string)
{
	char *s = NULL;

	ck_assert_int_eq(config_set_string(&s, "a"), 0);
	ck_assert_str_eq(s, "a");
	ck_assert_int_eq(config_set_string(&s, "bb"), 0);
	ck_assert_str_eq(s, "bb");
	ck_assert_int_eq(config_set_string(&s, NULL), 0);
	ck_assert_ptr_null(s);
}
END_TEST

/* The order of the command line: file, flags, then -o wins. */
START_TEST(test_order)
{
	struct config cfg;
	struct tmpconf t;
	char err[CONFIG_ERR_MAX];

	ck_assert_int_eq(load_text(&cfg, &t, "data_size_limit = 100;\n"
	    "plugins = ( { name = \"a\"; } );\n", err, sizeof(err)), 0);
	cfg.data_size_limit = 200;	/* -s, as cli.c sets it */
	ck_assert_int_eq(config_set_class(&cfg, "SinkServer", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(config_override(&cfg, "data_size_limit=300", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(cfg.data_size_limit, 300);
	ck_assert_str_eq(cfg.plugins[0].name, "SinkServer");
	ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), 0);
	config_free(&cfg);
	tmpconf_remove(&t);
}
END_TEST

void
config_cmdline_tcases(Suite *s)
{
	TCase *tc = tcase_create("override");

	tcase_add_loop_test(tc, test_setting_from_override, 0,
	    (int)nsetting_cases);
	tcase_add_loop_test(tc, test_override_error, 0,
	    NELEM(override_error_cases));
	tcase_add_test(tc, test_override_error_keeps_value);
	tcase_add_loop_test(tc, test_set_class, 0, NELEM(class_cases));
	tcase_add_test(tc, test_set_class_empty);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_set_string);
	suite_add_tcase(s, tc);

	tc = tcase_create("validate");
	tcase_add_loop_test(tc, test_validate, 0, NELEM(validate_cases));
	tcase_add_test(tc, test_validate_fields);
	suite_add_tcase(s, tc);
}
