/*
 * smtp_dsn.c - the DSN parameters of RFC 3461; see smtp_dsn.h.
 */
#include "autoconfig.h"

#include <strings.h>
#include <string.h>

#include "smtp_dsn.h"

static bool
dsn_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

bool
smtp_xtext_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			if (i + 2 >= len || !dsn_hex(s[i + 1]) ||
			    !dsn_hex(s[i + 2]))
				return false;
			i += 2;
		} else if (c < '!' || c > '~' || c == '=')
			return false;
	}
	return true;
}

/* dsn_key - the value of param when its keyword is key (any case). */
static const char *
dsn_key(const char *param, const char *key)
{
	size_t n = strlen(key);

	if (strncasecmp(param, key, n) != 0 || param[n] != '=')
		return NULL;
	return param + n + 1;
}

/* dsn_notify - "NEVER", or a comma list of SUCCESS, FAILURE, DELAY
 * (RFC 3461 4.1), each at most once. */
static bool
dsn_notify(const char *v)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	unsigned seen = 0;

	if (strcasecmp(v, "NEVER") == 0)
		return true;
	for (const char *p = v;; p++) {
		size_t len = strcspn(p, ",");
		size_t w = 0;
		while (w < 3 && (strlen(words[w]) != len ||
		    strncasecmp(p, words[w], len) != 0))
			w++;
		if (w == 3 || (seen & (1u << w)))
			return false;
		seen |= 1u << w;
		p += len;
		if (*p == '\0')
			return true;
	}
}

/* dsn_orcpt - addr-type ";" xtext (RFC 3461 4.2); addr-type an atom. */
static bool
dsn_orcpt(const char *v)
{
	const char *semi = strchr(v, ';');

	if (semi == NULL || semi == v || strlen(v) > SMTP_DSN_ORCPT_MAX)
		return false;
	for (const char *p = v; p < semi; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return smtp_xtext_valid(semi + 1, strlen(semi + 1));
}

enum smtp_dsn_status
smtp_dsn_check_mail(char *const *params, size_t n)
{
	bool ret = false, envid = false;
	const char *v;

	for (size_t i = 0; i < n; i++) {
		if ((v = dsn_key(params[i], "RET")) != NULL) {
			if (ret)
				return SMTP_DSN_DUPLICATE;
			ret = true;
			if (strcasecmp(v, "FULL") != 0 &&
			    strcasecmp(v, "HDRS") != 0)
				return SMTP_DSN_BAD_RET;
		} else if ((v = dsn_key(params[i], "ENVID")) != NULL) {
			if (envid)
				return SMTP_DSN_DUPLICATE;
			envid = true;
			if (strlen(v) > SMTP_DSN_ENVID_MAX ||
			    !smtp_xtext_valid(v, strlen(v)))
				return SMTP_DSN_BAD_ENVID;
		}
	}
	return SMTP_DSN_OK;
}

enum smtp_dsn_status
smtp_dsn_check_rcpt(char *const *params, size_t n)
{
	bool notify = false, orcpt = false;
	const char *v;

	for (size_t i = 0; i < n; i++) {
		if ((v = dsn_key(params[i], "NOTIFY")) != NULL) {
			if (notify)
				return SMTP_DSN_DUPLICATE;
			notify = true;
			if (!dsn_notify(v))
				return SMTP_DSN_BAD_NOTIFY;
		} else if ((v = dsn_key(params[i], "ORCPT")) != NULL) {
			if (orcpt)
				return SMTP_DSN_DUPLICATE;
			orcpt = true;
			if (!dsn_orcpt(v))
				return SMTP_DSN_BAD_ORCPT;
		} else
			return SMTP_DSN_OTHER;
	}
	return SMTP_DSN_OK;
}
