/*
 * check_config.h - what the two halves of the config tests share:
 * temporary config files, reading a field by offset, and the table of
 * settings that both the file test and the -o test walk.
 */
#ifndef PSMTPD_CHECK_CONFIG_H
#define PSMTPD_CHECK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <check.h>

#include "config.h"

#ifndef CONFIG_TEST_SRCDIR
#define CONFIG_TEST_SRCDIR "."
#endif
#define DATADIR CONFIG_TEST_SRCDIR "/tests/data/config"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define F(field) offsetof(struct config, field)

/* A config file written for one test, removed at the end of it. */
struct tmpconf {
	char dir[256];
	char path[300];
};

void tmpconf_write(struct tmpconf *t, const char *text);
void tmpconf_remove(struct tmpconf *t);
/* Defaults, then the text as a file; the load's result. */
int load_text(struct config *cfg, struct tmpconf *t, const char *text,
    char *err, size_t errlen);

enum ftype { FT_INT, FT_LL, FT_BOOL, FT_STR };

/* Assert that the field at off holds num (or str, for FT_STR). */
void assert_field(struct config *cfg, size_t off, enum ftype type,
    long long num, const char *str, const char *what);

/* One setting with the same value written in a file and as -o. */
struct setting_case {
	const char *file;	/* the file's text */
	const char *override;	/* the same value as -o */
	size_t off;
	enum ftype type;
	long long num;
	const char *str;
};

extern const struct setting_case setting_cases[];
extern const size_t nsetting_cases;

/* check_config_cmdline.c: the "override" and "validate" cases. */
void config_cmdline_tcases(Suite *s);

#endif
