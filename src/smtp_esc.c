/*
 * smtp_esc.c - enhanced status codes; see smtp_esc.h.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "smtp_esc.h"

/* One rule: a reply in context verb (NULL: any), whose code starts with
 * code, and whose text (after "NNN ") holds text (NULL: any), gets esc.  The first rule that matches wins: specific ones come first. */
struct esc_rule {
	const char *verb, *code, *text, *esc;
};

static const struct esc_rule esc_rules[] = {
	{ "MAIL", "552", NULL, "5.3.4" },	/* SIZE= over the limit */
	{ "MAIL", "25", NULL, "2.1.0" },
	{ "MAIL", "501", NULL, "5.5.4" },
	{ "MAIL", "555", NULL, "5.5.4" },
	{ "RCPT", "25", NULL, "2.1.5" },
	{ "RCPT", "452", "Error: too many", "4.5.3" },
	{ "RCPT", "501", NULL, "5.5.4" },
	{ "RCPT", "555", NULL, "5.5.4" },
	{ "VRFY", "252", NULL, "2.0.0" },
	{ "DATA", "552", NULL, "5.3.4" },
	{ "BDAT", "552", NULL, "5.3.4" },
	{ "DATA", "554", "Error: message is not valid UTF-8", "5.6.0" },
	{ "BDAT", "554", "Error: message is not valid UTF-8", "5.6.0" },
	{ NULL, "421", NULL, NULL },	/* below, by text */
	{ NULL, "451", NULL, "4.3.0" },
	{ NULL, "500", NULL, "5.5.2" },
	{ NULL, "501", NULL, "5.5.4" },
	{ NULL, "502", NULL, "5.5.1" },
	{ NULL, "503", NULL, "5.5.1" },
	{ NULL, "504", NULL, "5.5.4" },
	/* what is left: a plugin's refusal of an envelope or a message
	 * (policy, as Postfix's access maps answer), or the class default */
	{ "MAIL", "4", NULL, "4.7.1" }, { "MAIL", "5", NULL, "5.7.1" },
	{ "RCPT", "4", NULL, "4.7.1" }, { "RCPT", "5", NULL, "5.7.1" },
	{ "DATA", "4", NULL, "4.7.1" }, { "DATA", "5", NULL, "5.7.1" },
	{ "BDAT", "4", NULL, "4.7.1" }, { "BDAT", "5", NULL, "5.7.1" },
	{ NULL, "2", NULL, "2.0.0" },
	{ NULL, "4", NULL, "4.0.0" },
	{ NULL, "5", NULL, "5.0.0" },
};

/* The 421s say why the session ends. */
static const struct esc_rule esc_421[] = {
	{ NULL, "421", "Error: timeout", "4.4.2" },
	{ NULL, "421", "Error: session time limit", "4.4.2" },
	{ NULL, "421", "Error: too many errors", "4.7.0" },
	{ NULL, "421", "Service shutting down", "4.3.2" },
	{ NULL, "421", NULL, "4.3.0" },
};

/* esc_digits - the length of 1 to 3 digits at p; 0 when none. */
static size_t
esc_digits(const char *p)
{
	size_t n = 0;

	while (n < 4 && p[n] >= '0' && p[n] <= '9')
		n++;
	return n >= 1 && n <= 3 ? n : 0;
}

size_t
smtp_esc_len(const char *text)
{
	const char *p = text + 4, *start = p;
	size_t n;

	if (strlen(text) < 4 || (text[3] != ' ' && text[3] != '-') ||
	    p[0] < '2' || p[0] > '5' || p[1] != '.')
		return 0;
	p += 2;
	if ((n = esc_digits(p)) == 0 || p[n] != '.')
		return 0;
	p += n + 1;
	if ((n = esc_digits(p)) == 0 || (p[n] != ' ' && p[n] != '\0' &&
	    p[n] != '\n'))
		return 0;
	return (size_t)(p + n - start);
}

/* esc_match - the first rule of a table that fits; NULL if none. */
static const struct esc_rule *
esc_match(const struct esc_rule *rules, size_t n, const char *context,
    const char *line)
{
	for (size_t i = 0; i < n; i++) {
		const struct esc_rule *r = &rules[i];
		if (r->verb != NULL && strcmp(r->verb, context) != 0)
			continue;
		if (strncmp(line, r->code, strlen(r->code)) != 0)
			continue;
		if (r->text != NULL && strstr(line + 4, r->text) == NULL)
			continue;
		return r;
	}
	return NULL;
}

const char *
smtp_esc_for(const char *context, const char *line)
{
	if (context == NULL || strcmp(context, "HELO") == 0 ||
	    strcmp(context, "EHLO") == 0 || strcmp(context, "LHLO") == 0)
		return NULL;
	if (strlen(line) < 3 || (line[0] != '2' && line[0] != '4' &&
	    line[0] != '5') || (line[3] != ' ' && line[3] != '-' &&
	    line[3] != '\0'))
		return NULL;
	const struct esc_rule *r = esc_match(esc_rules,
	    sizeof(esc_rules) / sizeof(esc_rules[0]), context, line);
	if (r != NULL && r->esc == NULL)
		r = esc_match(esc_421, sizeof(esc_421) / sizeof(esc_421[0]),
		    context, line);
	return r != NULL ? r->esc : NULL;
}

/* esc_line - one line into out at *off, with esc after its code when it
 * needs one; false when out is full. */
static bool
esc_line(const char *line, size_t len, const char *esc, char *out,
    size_t size, size_t *off)
{
	int n;

	if (esc == NULL || len < 3)
		n = snprintf(out + *off, size - *off, "%.*s", (int)len, line);
	else if (len == 3)	/* a bare code: "250" */
		n = snprintf(out + *off, size - *off, "%.3s %s", line, esc);
	else
		n = snprintf(out + *off, size - *off, "%.4s%s %.*s", line, esc,
		    (int)(len - 4), line + 4);
	if (n < 0 || (size_t)n >= size - *off)
		return false;
	*off += (size_t)n;
	return true;
}

bool
smtp_esc_apply(const char *context, const char *reply, char *out,
    size_t size)
{
	char first[16] = "";
	size_t off = 0;
	const char *esc = smtp_esc_for(context, reply);

	if (smtp_esc_len(reply) > 0)
		snprintf(first, sizeof(first), "%.*s", (int)smtp_esc_len(reply),
		    reply + 4);
	for (const char *p = reply;;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		const char *e = smtp_esc_len(p) > 0 || esc == NULL ? NULL :
		    first[0] != '\0' ? first : esc;
		if (!esc_line(p, len, e, out, size, &off) ||
		    (nl != NULL && !esc_line("\n", 1, NULL, out, size, &off))) {
			snprintf(out, size, "%s", reply);
			return false;
		}
		if (nl == NULL)
			return true;
		p = nl + 1;
	}
}
