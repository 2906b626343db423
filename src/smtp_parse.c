/*
 * smtp_parse.c - pure parsing of SMTP command lines, as Python 3.11's
 * smtpd.SMTPChannel does it (found_terminator, _strip_command_keyword,
 * _getaddr, _getparams, smtp_MAIL, smtp_RCPT).
 *
 * Python works on str (code points) after decoding the line as UTF-8; we
 * work on the UTF-8 bytes.  Every character that the reference treats
 * specially is ASCII, so byte-wise scanning gives the same answers, except
 * for white space: str.strip()/split()/isspace() know Unicode spaces,
 * which smtp_space_len() recognizes in their UTF-8 form.
 *
 * Known differences from the reference (all for input no real client
 * sends):
 * - A NUL byte in the verb makes the line INVALID (Python answers 500
 *   too, echoing the NUL); one in the argument becomes '?' and is flagged
 *   (arg_nul), so that the verb's own checks answer as Python's do.
 * - A CR or LF inside a MAIL or RCPT argument makes the path INVALID
 *   (Python takes them into the address; with them a client injects
 *   commands into an upstream, headers into a mailbox, lines into logs).
 * - Upper-casing (the verb, mail/rcpt options) is ASCII only: Python's
 *   str.upper() also maps e.g. U+017F to "S" and U+00DF to "SS".
 * - isalnum() of a parameter name treats every non-ASCII byte as alnum.
 * - SIZE= takes ASCII digits only; Python's isdigit() also accepts other
 *   Unicode digits (and then int() either converts or raises).
 */
#include "autoconfig.h"

#include <limits.h>
#include <string.h>

#include "smtp_addr.h"
#include "smtp_parse.h"

/* smtp_space_len - length of the Python white space character at p, or 0.
 * The set is str.isspace(): ASCII \t\n\v\f\r, \x1c-\x1f, ' ', and the
 * Unicode spaces U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
 * U+202F, U+205F, U+3000. */
size_t
smtp_space_len(const char *s, size_t avail)
{
	const unsigned char *p = (const unsigned char *)s;

	if (avail == 0)
		return 0;
	if ((p[0] >= 0x09 && p[0] <= 0x0d) || (p[0] >= 0x1c && p[0] <= 0x20))
		return 1;
	if (p[0] == 0xc2 && avail >= 2)
		return p[1] == 0x85 || p[1] == 0xa0 ? 2 : 0;
	if (avail < 3)
		return 0;
	if (p[0] == 0xe1)
		return p[1] == 0x9a && p[2] == 0x80 ? 3 : 0;
	if (p[0] == 0xe2 && p[1] == 0x80)
		return (p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 ||
		    p[2] == 0xa9 || p[2] == 0xaf ? 3 : 0;
	if (p[0] == 0xe2 && p[1] == 0x81)
		return p[2] == 0x9f ? 3 : 0;
	if (p[0] == 0xe3)
		return p[1] == 0x80 && p[2] == 0x80 ? 3 : 0;
	return 0;
}

/* smtp_space_len_before - length of the white space character that ends
 * at end (start <= end), or 0.  In valid UTF-8 a lead byte cannot be a
 * continuation byte, so matching the last 1-3 bytes is unambiguous. */
size_t
smtp_space_len_before(const char *start, const char *end)
{
	size_t avail = (size_t)(end - start);

	for (size_t n = 1; n <= 3 && n <= avail; n++)
		if (smtp_space_len(end - n, n) == n)
			return n;
	return 0;
}

/* smtp_utf8_seq - length of the well-formed UTF-8 sequence at p, 0 if
 * none (overlong forms, surrogates and code points past U+10FFFF are
 * rejected, as Python's strict decoder does). */
static size_t
smtp_utf8_seq(const unsigned char *p, size_t avail)
{
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

bool
smtp_utf8_valid(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t i = 0;

	while (i < len) {
		size_t n = smtp_utf8_seq(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* smtp_upper - ASCII upper-casing in place of s[0..len). */
static void
smtp_upper(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 'a' && s[i] <= 'z')
			s[i] = (char)(s[i] - 'a' + 'A');
}

char *
smtp_strip(char *s)
{
	char *end = s + strlen(s);
	size_t n;

	while ((n = smtp_space_len(s, (size_t)(end - s))) > 0)
		s += n;
	while ((n = smtp_space_len_before(s, end)) > 0)
		end -= n;
	*end = '\0';
	return s;
}

enum smtp_parse_status
smtp_parse_command(char *line, size_t len, struct smtp_command *out)
{
	out->verb = NULL;
	out->arg = NULL;
	out->arg_nul = false;
	if (!smtp_utf8_valid(line, len))
		return SMTP_PARSE_INVALID;
	char *sp = memchr(line, ' ', len);
	size_t verblen = sp != NULL ? (size_t)(sp - line) : len;
	if (memchr(line, '\0', verblen) != NULL)
		return SMTP_PARSE_INVALID;
	line[len] = '\0';
	out->verb = line;
	if (sp == NULL) {
		smtp_upper(line, len);
		return SMTP_PARSE_OK;
	}
	/* Python keeps a NUL in the argument; a C string cannot. */
	for (char *p = sp + 1; (p = memchr(p, '\0', (size_t)(line + len -
	    p))) != NULL; p++) {
		*p = '?';
		out->arg_nul = true;
	}
	*sp = '\0';
	smtp_upper(line, (size_t)(sp - line));
	out->arg = smtp_strip(sp + 1);
	return SMTP_PARSE_OK;
}

/* smtp_strip_keyword - _strip_command_keyword: when arg starts with the
 * keyword (ASCII case-insensitive: no non-ASCII character upper-cases to
 * one of "FROM:" or "TO:"), what follows it, stripped, as [*s, *e);
 * else false (Python's ''). */
static bool
smtp_strip_keyword(const char *arg, const char *keyword, const char **s,
    const char **e)
{
	size_t klen = strlen(keyword), n;

	for (size_t i = 0; i < klen; i++) {
		char c = arg[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c != keyword[i])
			return false;
	}
	*s = arg + klen;
	*e = *s + strlen(*s);
	while ((n = smtp_space_len(*s, (size_t)(*e - *s))) > 0)
		*s += n;
	while ((n = smtp_space_len_before(*s, *e)) > 0)
		*e -= n;
	return true;
}

/* smtp_getaddr - _getaddr on [s, e): a non-empty address or INVALID. */
static enum smtp_parse_status
smtp_getaddr(const char *s, const char *e, char *addr, size_t addrsize,
    const char **rest)
{
	size_t restoff = 0;
	enum smtp_parse_status st;

	if (addrsize > 0)
		addr[0] = '\0';
	*rest = e;
	st = smtp_addr_get(s, (size_t)(e - s), addr, addrsize, &restoff);
	if (st != SMTP_PARSE_OK)
		return st;
	if (addr[0] == '\0')
		return SMTP_PARSE_INVALID;
	/* Nothing left but white space that the strip took off: "". */
	*rest = s + restoff == e ? e + strlen(e) : s + restoff;
	return SMTP_PARSE_OK;
}

enum smtp_parse_status
smtp_parse_path(const char *arg, const char *keyword, char *addr,
    size_t addrsize, const char **rest)
{
	const char *s, *e;

	*rest = arg + strlen(arg);
	if (addrsize > 0)
		addr[0] = '\0';
	if (strpbrk(arg, "\r\n") != NULL)
		return SMTP_PARSE_INVALID;	/* stricter than Python */
	if (!smtp_strip_keyword(arg, keyword, &s, &e))
		return SMTP_PARSE_INVALID;
	return smtp_getaddr(s, e, addr, addrsize, rest);
}

enum smtp_parse_status
smtp_parse_address(const char *arg, char *addr, size_t addrsize,
    const char **rest)
{
	return smtp_getaddr(arg, arg + strlen(arg), addr, addrsize, rest);
}

enum smtp_parse_status
smtp_parse_options(char *rest, char **opts, size_t maxopts, size_t *count)
{
	char *p = rest, *end = rest + strlen(rest);
	size_t n;

	*count = 0;
	smtp_upper(rest, (size_t)(end - rest));
	for (;;) {
		while ((n = smtp_space_len(p, (size_t)(end - p))) > 0)
			p += n;
		if (p == end)
			return SMTP_PARSE_OK;
		if (*count == maxopts)
			return SMTP_PARSE_TOO_LONG;
		opts[(*count)++] = p;
		while (p < end && smtp_space_len(p, (size_t)(end - p)) == 0)
			p++;
		if (p == end)
			return SMTP_PARSE_OK;
		n = smtp_space_len(p, (size_t)(end - p));
		*p = '\0';
		p += n;
	}
}

/* One parameter split as str.partition('='). */
struct smtp_param {
	const char *key;
	size_t keylen;
	const char *value;	/* NULL without '=' (Python's True) */
};

/* smtp_param_split - _getparams' check of one parameter: the name must be
 * non-empty and alphanumeric, and "KEY=" needs a value. */
static bool
smtp_param_split(const char *opt, struct smtp_param *p)
{
	const char *eq = strchr(opt, '=');

	p->key = opt;
	p->keylen = eq != NULL ? (size_t)(eq - opt) : strlen(opt);
	p->value = eq != NULL ? eq + 1 : NULL;
	if (p->keylen == 0 || (p->value != NULL && *p->value == '\0'))
		return false;
	for (size_t i = 0; i < p->keylen; i++) {
		unsigned char c = (unsigned char)opt[i];
		if (!(c >= 0x80 || (c >= '0' && c <= '9') ||
		    (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return false;
	}
	return true;
}

static bool
smtp_param_is(const struct smtp_param *p, const char *name)
{
	return p->keylen == strlen(name) &&
	    memcmp(p->key, name, p->keylen) == 0;
}

/* The parameters smtp_MAIL pops from the dictionary: the last of each
 * name wins, as in a dict. */
struct smtp_mail_seen {
	struct smtp_param body, smtputf8, size;
	bool has_body, has_smtputf8, has_size, has_other;
};

/* smtp_mail_collect - _getparams over opts, sorting the names into the
 * ones smtp_MAIL knows (under the rules) and the rest. */
static bool
smtp_mail_collect(char *const *opts, size_t count,
    const struct smtp_mail_rules *rules, struct smtp_mail_seen *seen)
{
	struct smtp_param p;

	memset(seen, 0, sizeof(*seen));
	for (size_t i = 0; i < count; i++) {
		if (!smtp_param_split(opts[i], &p))
			return false;
		if (!rules->decode_data && smtp_param_is(&p, "BODY")) {
			seen->body = p;
			seen->has_body = true;
		} else if (rules->enable_smtputf8 &&
		    smtp_param_is(&p, "SMTPUTF8")) {
			seen->smtputf8 = p;
			seen->has_smtputf8 = true;
		} else if (smtp_param_is(&p, "SIZE")) {
			seen->size = p;
			seen->has_size = true;
		} else if (rules->dsn && (smtp_param_is(&p, "RET") ||
		    smtp_param_is(&p, "ENVID")))
			continue;
		else if (rules->auth && smtp_param_is(&p, "AUTH")) {
			/* accepted and not used: we trust no other server's
			 * word on who submitted a message */
			if (p.value == NULL || p.value[0] == '\0')
				return false;
		} else
			seen->has_other = true;
	}
	return true;
}

/* smtp_size_value - SIZE's value: ASCII digits, saturated at ULLONG_MAX. */
static bool
smtp_size_value(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');
		v = v > (ULLONG_MAX - d) / 10 ? ULLONG_MAX : v * 10 + d;
	}
	*out = v;
	return true;
}

enum smtp_option_status
smtp_check_mail_options(char *const *opts, size_t count,
    const struct smtp_mail_rules *rules, struct smtp_mail_params *out)
{
	struct smtp_mail_seen seen;
	const char *v;

	memset(out, 0, sizeof(*out));
	if (!smtp_mail_collect(opts, count, rules, &seen))
		return SMTP_OPTIONS_SYNTAX;
	if (seen.has_body) {
		v = seen.body.value;
		if (v == NULL || (strcmp(v, "7BIT") != 0 &&
		    strcmp(v, "8BITMIME") != 0))
			return SMTP_OPTIONS_BAD_BODY;
		out->body_8bitmime = strcmp(v, "8BITMIME") == 0;
	}
	if (seen.has_smtputf8) {
		if (seen.smtputf8.value != NULL)
			return SMTP_OPTIONS_SMTPUTF8_ARG;
		out->smtputf8 = true;
	}
	if (seen.has_size) {
		/* A bare SIZE is True in Python, and True.isdigit() raises. */
		if (seen.size.value == NULL ||
		    !smtp_size_value(seen.size.value, &out->size))
			return SMTP_OPTIONS_SYNTAX;
		out->has_size = true;
		if (rules->data_size_limit != 0 &&
		    out->size > rules->data_size_limit)
			return SMTP_OPTIONS_SIZE_EXCEEDED;
	}
	return seen.has_other ? SMTP_OPTIONS_UNRECOGNIZED : SMTP_OPTIONS_OK;
}

enum smtp_option_status
smtp_check_rcpt_options(char *const *opts, size_t count)
{
	struct smtp_param p;

	for (size_t i = 0; i < count; i++)
		if (!smtp_param_split(opts[i], &p))
			return SMTP_OPTIONS_SYNTAX;
	return count > 0 ? SMTP_OPTIONS_UNRECOGNIZED : SMTP_OPTIONS_OK;
}
