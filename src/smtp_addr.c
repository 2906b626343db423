/*
 * smtp_addr.c - interim: plain <local@domain> and local@domain only.
 * The full emulation of Python's email parser follows.
 */
#include "autoconfig.h"

#include <string.h>

#include "smtp_addr.h"

enum smtp_parse_status
smtp_addr_get(const char *arg, size_t len, char *addr, size_t addrsize,
    size_t *restoff)
{
	size_t i = 0, s, e;

	*restoff = len;
	if (addrsize > 0)
		addr[0] = '\0';
	if (len == 0)
		return SMTP_PARSE_OK;
	if (arg[0] == '<') {
		for (i = 1; i < len && arg[i] != '>'; i++)
			if (strchr(" \t()<,:;\\\"[]", arg[i]) != NULL)
				return SMTP_PARSE_INVALID;
		if (i == 1 && i < len) {
			s = 0;
			e = 2;
		} else {
			s = 1;
			e = i;
		}
		if (i < len)
			i++;
	} else {
		for (; i < len && arg[i] != ' ' && arg[i] != '\t'; i++)
			if (strchr("()<>,:;\\\"[]", arg[i]) != NULL)
				return SMTP_PARSE_INVALID;
		s = 0;
		e = i;
	}
	while (i < len && (arg[i] == ' ' || arg[i] == '\t'))
		i++;
	if (e - s >= addrsize)
		return SMTP_PARSE_TOO_LONG;
	memcpy(addr, arg + s, e - s);
	addr[e - s] = '\0';
	*restoff = i;
	return SMTP_PARSE_OK;
}
