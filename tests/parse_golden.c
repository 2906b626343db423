/*
 * parse_golden.c - reading the golden files of tests/golden/.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_golden.h"

/* put_utf8 - code point cp as UTF-8 at *o; false when it does not fit. */
static bool
put_utf8(char **o, const char *end, unsigned long cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if ((size_t)(end - *o) < n)
		return false;
	memcpy(*o, b, n);
	*o += n;
	return true;
}

/* unescape_one - the escape after a backslash at *s into *cp. */
static bool
unescape_one(const char **s, unsigned long *cp)
{
	char e = *(*s)++, hex[9] = "";
	int digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;

	if (digits > 0) {
		if (strlen(*s) < (size_t)digits)
			return false;
		memcpy(hex, *s, (size_t)digits);
		*s += digits;
		*cp = strtoul(hex, NULL, 16);
		return true;
	}
	switch (e) {
	case 't': *cp = '\t'; return true;
	case 'n': *cp = '\n'; return true;
	case 'r': *cp = '\r'; return true;
	case '\\': *cp = '\\'; return true;
	default: return false;
	}
}

bool
golden_unescape(const char *s, char *dst, size_t size, size_t *len)
{
	char *o = dst, *end = dst + size - 1;

	while (*s != '\0') {
		unsigned long cp = (unsigned char)*s++;
		if (cp == '\\' && !unescape_one(&s, &cp))
			return false;
		if (!put_utf8(&o, end, cp))
			return false;
	}
	*o = '\0';
	if (len != NULL)
		*len = (size_t)(o - dst);
	return true;
}

int
golden_split(char *line, char **fields, int max)
{
	int n = 0;

	while (n < max) {
		fields[n++] = line;
		line = strchr(line, '\t');
		if (line == NULL)
			break;
		*line++ = '\0';
	}
	return n;
}

int
golden_each(const char *path, bool (*check)(char *, int, void *), void *ctx,
    int *checked)
{
	static char line[16384];
	FILE *fp = fopen(path, "r");
	int lineno = 0, failed = 0;

	*checked = 0;
	if (fp == NULL)
		return -1;
	while (lineno < GOLDEN_MAX_LINES &&
	    fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#')
			continue;
		(*checked)++;
		if (!check(line, lineno, ctx))
			failed++;
	}
	fclose(fp);
	return failed;
}
