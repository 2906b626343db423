/*
 * smtp_auth.c - pure parsing for AUTH; see smtp_auth.h.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <string.h>

#include "smtp_auth.h"

enum smtp_auth_status
smtp_auth_parse_cmd(const char *arg, struct smtp_auth_cmd *out)
{
	size_t n;

	memset(out, 0, sizeof(*out));
	if (arg == NULL)
		return SMTP_AUTH_SYNTAX;
	n = strcspn(arg, " ");
	if (n == 0 || n >= sizeof(out->mech))
		return SMTP_AUTH_SYNTAX;
	for (size_t i = 0; i < n; i++)
		out->mech[i] = (char)toupper((unsigned char)arg[i]);
	if (arg[n] == '\0')
		return SMTP_AUTH_OK;
	out->initial = arg + n + strspn(arg + n, " ");
	/* one token after the mechanism, nothing more */
	if (*out->initial == '\0' || strchr(out->initial, ' ') != NULL)
		return SMTP_AUTH_SYNTAX;
	return SMTP_AUTH_OK;
}

/* smtp_auth_b64 - the value of a base64 digit, -1 for anything else. */
static int
smtp_auth_b64(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* smtp_auth_quad - one group of four digits (pad: how many '=' end
 * it) into 3 - pad bytes; -1 when a digit is not one. */
static int
smtp_auth_quad(const char *in, int pad, unsigned char *out)
{
	unsigned long v = 0;

	for (int i = 0; i < 4; i++) {
		int d = i < 4 - pad ? smtp_auth_b64((unsigned char)in[i]) : 0;
		if (d < 0)
			return -1;
		v = v << 6 | (unsigned long)d;
	}
	out[0] = (unsigned char)(v >> 16);
	out[1] = (unsigned char)(v >> 8);
	out[2] = (unsigned char)v;
	return 0;
}

enum smtp_auth_status
smtp_auth_decode(const char *in, char *out, size_t cap, size_t *len)
{
	size_t n = strlen(in), pad = 0;
	unsigned char b[3];

	*len = 0;
	if (strcmp(in, "*") == 0)
		return SMTP_AUTH_CANCEL;
	if (strcmp(in, "=") == 0) {
		out[0] = '\0';
		return SMTP_AUTH_OK;
	}
	if (n == 0 || n % 4 != 0)
		return SMTP_AUTH_SYNTAX;
	if (n / 4 * 3 > cap + 2)
		return SMTP_AUTH_TOO_LONG;
	pad = in[n - 1] == '=' ? in[n - 2] == '=' ? 2 : 1 : 0;
	for (size_t i = 0; i < n; i += 4) {
		int p = i + 4 == n ? (int)pad : 0;
		if (smtp_auth_quad(in + i, p, b) != 0)
			return SMTP_AUTH_SYNTAX;
		for (int k = 0; k < 3 - p; k++) {
			if (*len == cap)
				return SMTP_AUTH_TOO_LONG;
			out[(*len)++] = (char)b[k];
		}
	}
	out[*len] = '\0';
	return SMTP_AUTH_OK;
}

/* smtp_auth_field - copy one field of at most SMTP_AUTH_FIELD_MAX. */
static int
smtp_auth_field(char *dst, const char *src, size_t n)
{
	if (n > SMTP_AUTH_FIELD_MAX)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

enum smtp_auth_status
smtp_auth_parse_plain(const char *msg, size_t len,
    struct smtp_auth_plain *out)
{
	const char *nul1 = memchr(msg, '\0', len), *nul2, *end = msg + len;

	if (nul1 == NULL)
		return SMTP_AUTH_SYNTAX;
	nul2 = memchr(nul1 + 1, '\0', (size_t)(end - nul1 - 1));
	if (nul2 == NULL || memchr(nul2 + 1, '\0', (size_t)(end - nul2 - 1))
	    != NULL || nul2 == nul1 + 1)
		return SMTP_AUTH_SYNTAX;
	if (smtp_auth_field(out->authzid, msg, (size_t)(nul1 - msg)) != 0 ||
	    smtp_auth_field(out->user, nul1 + 1,
	    (size_t)(nul2 - nul1 - 1)) != 0 ||
	    smtp_auth_field(out->password, nul2 + 1,
	    (size_t)(end - nul2 - 1)) != 0)
		return SMTP_AUTH_SYNTAX;
	return SMTP_AUTH_OK;
}
