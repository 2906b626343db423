/*
 * config_text.c - the text of -o key=value overrides: the key is looked
 * up in config.c's schema and the value read by its kind (integers with
 * an L or K/M/G suffix, booleans, strings quoted or not, listen lists
 * separated by commas), then stored by config.c's setters.
 */
#include "autoconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_int.h"

/* cfg_no_text - a group or the plugin list, which -o does not set. */
int
cfg_no_text(struct config *cfg, const struct cfg_row *row, const char *text,
    struct cfg_err *e)
{
	(void)cfg;
	(void)text;
	if (row->kind == CK_PLUGINS)
		return cfg_fail(e, "'%s' is set in the file, or with -c for "
		    "one plugin", row->path);
	return cfg_fail(e, "'%s' is a group: set one of its settings, "
	    "e.g. -o %s", row->path, row[1].path);
}

int
cfg_bool_from_text(struct config *cfg, const struct cfg_row *row,
    const char *text, struct cfg_err *e)
{
	static const struct {
		const char *word;
		bool value;
	} words[] = {
		{ "true", true }, { "yes", true }, { "on", true }, { "1", true },
		{ "false", false }, { "no", false }, { "off", false },
		{ "0", false },
	};

	for (size_t i = 0; i < NELEM(words); i++)
		if (strcasecmp(text, words[i].word) == 0) {
			*(bool *)cfg_field(cfg, row) = words[i].value;
			return 0;
		}
	return cfg_fail(e, "'%s' must be true or false", row->path);
}

/* cfg_parse_size - decimal, optional L (libconfig's int64 mark) or a
 * K/M/G suffix (powers of 1024).  0, or -1 when not such a number. */
static int
cfg_parse_size(const char *text, long long *out)
{
	static const struct {
		char suffix;
		long long mult;
	} units[] = {
		{ '\0', 1 }, { 'L', 1 }, { 'k', 1LL << 10 }, { 'K', 1LL << 10 },
		{ 'm', 1LL << 20 }, { 'M', 1LL << 20 }, { 'g', 1LL << 30 },
		{ 'G', 1LL << 30 },
	};
	char *end;
	long long v;

	if (*text != '-' && (*text < '0' || *text > '9'))
		return -1;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || (*end != '\0' && end[1] != '\0'))
		return -1;
	for (size_t i = 0; i < NELEM(units); i++) {
		if (*end != units[i].suffix)
			continue;
		if (v > LLONG_MAX / units[i].mult ||
		    v < LLONG_MIN / units[i].mult)
			return -1;
		*out = v * units[i].mult;
		return 0;
	}
	return -1;
}

int
cfg_int_from_text(struct config *cfg, const struct cfg_row *row,
    const char *text, struct cfg_err *e)
{
	long long v;

	if (cfg_parse_size(text, &v) == -1)
		return cfg_fail(e, "'%s' must be an integer", row->path);
	return cfg_store_int(cfg, row, v, e);
}

/* cfg_unquote - trim blanks and one pair of double quotes, in place. */
static char *
cfg_unquote(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s[n - 1] = '\0';
		s++;
	}
	return s;
}

/* cfg_listen_from_text - "a:1,b:2", also in brackets as in the file. */
int
cfg_listen_from_text(struct config *cfg, const struct cfg_row *row,
    const char *text, struct cfg_err *e)
{
	char *copy, *p, *tok, *save = NULL;
	const char **specs;
	size_t n = 0, len;
	int rc;

	(void)row;
	if ((copy = strdup(text)) == NULL ||
	    (specs = calloc(strlen(text) + 1, sizeof(*specs))) == NULL) {
		free(copy);
		return cfg_fail(e, "out of memory");
	}
	p = copy;
	len = strlen(p);
	if (len >= 2 && ((p[0] == '[' && p[len - 1] == ']') ||
	    (p[0] == '(' && p[len - 1] == ')'))) {
		p[len - 1] = '\0';
		p++;
	}
	for (tok = strtok_r(p, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		specs[n++] = cfg_unquote(tok);
	rc = cfg_store_listen(cfg, specs, n, e);
	free(specs);
	free(copy);
	return rc;
}

int
config_override(struct config *cfg, const char *assignment, char *err,
    size_t errlen)
{
	struct cfg_err e = { "", NULL };
	const struct cfg_row *row;
	const char *eq = strchr(assignment, '=');
	char *key, *value;
	int rc = -1;

	if (eq == NULL) {
		snprintf(err, errlen, "-o %s: expected key=value", assignment);
		return -1;
	}
	if ((key = strndup(assignment, (size_t)(eq - assignment))) == NULL ||
	    (value = strdup(eq + 1)) == NULL) {
		free(key);
		snprintf(err, errlen, "-o %s: out of memory", assignment);
		return -1;
	}
	if ((row = cfg_row_find(cfg_unquote(key))) == NULL)
		cfg_fail(&e, "unknown setting '%s'", cfg_unquote(key));
	else
		rc = cfg_kinds[row->kind].from_text(cfg, row,
		    cfg_unquote(value), &e);
	if (rc == -1)
		snprintf(err, errlen, "-o %s: %s", assignment, e.msg);
	free(key);
	free(value);
	return rc;
}
