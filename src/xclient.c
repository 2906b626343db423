/*
 * xclient.c - the XCLIENT argument; see xclient.h.
 *
 * Every value is decoded from xtext first; then [UNAVAILABLE] and
 * [TEMPUNAVAIL] are recognized (Postfix's Note 2: any case), ADDR is
 * turned into its canonical numeric form (so that what the session and
 * the logs show is never client text), and NAME and HELO keep only
 * printable ASCII without spaces: nothing that could break a log line or
 * a header reaches them.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "xclient.h"

static enum xclient_status
xc_invalid(struct xclient *out, const char *why)
{
	out->error = why;
	return XCLIENT_INVALID;
}

static int
xc_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* xc_xtext - the xtext s[0..n) decoded into dst (size bytes); false when
 * it is not xtext, does not fit, or holds a byte that is not printable
 * ASCII without space (0x21 to 0x7e). */
static bool
xc_xtext(const char *s, size_t n, char *dst, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '+') {
			int hi, lo;
			if (n - i < 3 || (hi = xc_hex(s[i + 1])) < 0 ||
			    (lo = xc_hex(s[i + 2])) < 0)
				return false;
			c = hi << 4 | lo;
			i += 2;
		} else if (c == '=')
			return false;
		if (c < 0x21 || c > 0x7e || o + 1 >= size)
			return false;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return true;
}

/* xc_special - [UNAVAILABLE] or [TEMPUNAVAIL], any case; else VALUE. */
static enum xclient_given
xc_special(const char *v)
{
	if (strcasecmp(v, "[UNAVAILABLE]") == 0)
		return XCLIENT_UNAVAILABLE;
	if (strcasecmp(v, "[TEMPUNAVAIL]") == 0)
		return XCLIENT_TEMPUNAVAIL;
	return XCLIENT_VALUE;
}

/* xc_addr - an IPv4 address or "IPV6:" and an IPv6 one, canonical. */
static bool
xc_addr(const char *v, struct xclient *out)
{
	unsigned char bin[sizeof(struct in6_addr)];

	out->family = strncasecmp(v, "IPV6:", 5) == 0 ? AF_INET6 : AF_INET;
	if (out->family == AF_INET6)
		v += 5;
	return inet_pton(out->family, v, bin) == 1 &&
	    inet_ntop(out->family, bin, out->addr_text,
	    sizeof(out->addr_text)) != NULL;
}

/* xc_port - a decimal port, 0 to 65535. */
static bool
xc_port(const char *v, unsigned *port)
{
	size_t n = strlen(v);

	if (n == 0 || n > 5 || strspn(v, "0123456789") != n)
		return false;
	unsigned long p = 0;
	for (size_t i = 0; i < n; i++)
		p = p * 10 + (unsigned long)(v[i] - '0');
	*port = (unsigned)p;
	return p <= 65535;
}

/* xc_set - one decoded attribute into out; NULL, or why it is refused. */
static const char *
xc_set(const char *name, const char *v, struct xclient *out)
{
	enum xclient_given g = xc_special(v);

	if (strcasecmp(name, "PROTO") == 0)
		return strcasecmp(v, "SMTP") == 0 ||
		    strcasecmp(v, "ESMTP") == 0 ? NULL : "bad PROTO";
	if (strcasecmp(name, "NAME") == 0) {
		if (out->name != XCLIENT_ABSENT)
			return "NAME given twice";
		out->name = g;
		snprintf(out->name_text, sizeof(out->name_text), "%s", v);
		return NULL;
	}
	if (g == XCLIENT_TEMPUNAVAIL)
		return "[TEMPUNAVAIL] is for NAME only";
	if (strcasecmp(name, "HELO") == 0) {
		if (out->helo != XCLIENT_ABSENT)
			return "HELO given twice";
		out->helo = g;
		snprintf(out->helo_text, sizeof(out->helo_text), "%s", v);
		return NULL;
	}
	if (strcasecmp(name, "ADDR") == 0) {
		if (out->addr != XCLIENT_ABSENT)
			return "ADDR given twice";
		out->addr = g;
		return g != XCLIENT_VALUE || xc_addr(v, out) ? NULL :
		    "bad ADDR";
	}
	if (strcasecmp(name, "PORT") == 0) {
		if (out->port != XCLIENT_ABSENT)
			return "PORT given twice";
		out->port = g;
		return g != XCLIENT_VALUE || xc_port(v, &out->port_value) ?
		    NULL : "bad PORT";
	}
	return "unsupported attribute";
}

/* xc_pair - one "name=xtext" of len bytes at p. */
static enum xclient_status
xc_pair(const char *p, size_t len, struct xclient *out)
{
	char name[16], value[XCLIENT_VALUE_MAX + 1];
	const char *eq = memchr(p, '=', len), *why;

	if (eq == NULL || eq == p || (size_t)(eq - p) >= sizeof(name))
		return xc_invalid(out, "not attribute=value");
	memcpy(name, p, (size_t)(eq - p));
	name[eq - p] = '\0';
	if (!xc_xtext(eq + 1, len - (size_t)(eq - p) - 1, value,
	    sizeof(value)) || value[0] == '\0')
		return xc_invalid(out, "bad xtext value");
	if ((why = xc_set(name, value, out)) != NULL)
		return xc_invalid(out, why);
	return XCLIENT_OK;
}

enum xclient_status
xclient_parse(const char *arg, struct xclient *out)
{
	static const char space[] = " \t";
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	for (const char *p = arg + strspn(arg, space); *p != '\0';
	    p += strspn(p, space)) {
		size_t len = strcspn(p, space);
		if (xc_pair(p, len, out) != XCLIENT_OK)
			return XCLIENT_INVALID;
		p += len;
		n++;
	}
	return n > 0 ? XCLIENT_OK : xc_invalid(out, "no attribute");
}
