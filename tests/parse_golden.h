/*
 * parse_golden.h - reading the golden files of tests/golden/ (made by
 * tests/gen_addr_golden.py with Python 3.11): TAB-separated fields,
 * escaped as \\ \t \n \r \xNN \uXXXX \UXXXXXXXX.
 */
#ifndef PSMTPD_PARSE_GOLDEN_H
#define PSMTPD_PARSE_GOLDEN_H

#include <stdbool.h>
#include <stddef.h>

#ifndef TESTS_SRCDIR
#define TESTS_SRCDIR "tests"
#endif
#define GOLDEN_DIR TESTS_SRCDIR "/golden"
#define GOLDEN_MAX_LINES 100000	/* bound on the loop over a file */

/* One field into dst (UTF-8, NUL-terminated); *len gets its length.
 * false when malformed or too long for size. */
bool golden_unescape(const char *s, char *dst, size_t size, size_t *len);

/* Split line (its newline removed) in place at the TABs into at most max
 * fields; returns how many. */
int golden_split(char *line, char **fields, int max);

/* Call check(line, lineno, ctx) for each line of path that is not a
 * "#" comment, its newline removed; at most GOLDEN_MAX_LINES lines.
 * Returns how many lines check refused, or -1 when path cannot be read;
 * *checked gets how many lines were checked. */
int golden_each(const char *path, bool (*check)(char *, int, void *),
    void *ctx, int *checked);

#endif
