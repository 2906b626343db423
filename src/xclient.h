/*
 * xclient.h - pure parsing of the argument of Postfix's XCLIENT command
 * (XCLIENT_README): "attribute=value" pairs separated by white space,
 * names case-insensitive, values xtext (RFC 1891: "+XX" for a byte).
 * Bytes in, a result out: no I/O, no allocation, no globals.
 *
 * Taken: ADDR (an IPv4 address, or "IPV6:" and an IPv6 one), PORT (0 to
 * 65535), NAME and HELO (up to 255 printable ASCII characters), each or
 * "[UNAVAILABLE]", and for NAME also "[TEMPUNAVAIL]" (any case); PROTO
 * (SMTP or ESMTP) is checked and ignored.  Refused (INVALID): any other
 * attribute (LOGIN, DESTADDR, DESTPORT are not supported), a value that
 * is not xtext or decodes to a control byte or a space, an attribute
 * given twice, and an empty argument.
 */
#ifndef PSMTPD_XCLIENT_H
#define PSMTPD_XCLIENT_H

#include <netinet/in.h>

#define XCLIENT_VALUE_MAX 255

enum xclient_status { XCLIENT_OK = 0, XCLIENT_INVALID };

/* What one attribute said. */
enum xclient_given {
	XCLIENT_ABSENT = 0,
	XCLIENT_VALUE,		/* the value is in the struct */
	XCLIENT_UNAVAILABLE,	/* [UNAVAILABLE] */
	XCLIENT_TEMPUNAVAIL	/* [TEMPUNAVAIL] (NAME only) */
};

struct xclient {
	enum xclient_given addr, port, name, helo;
	char addr_text[INET6_ADDRSTRLEN];	/* canonical numeric form */
	int family;				/* AF_INET or AF_INET6 */
	unsigned port_value;
	char name_text[XCLIENT_VALUE_MAX + 1];
	char helo_text[XCLIENT_VALUE_MAX + 1];
	const char *error;			/* INVALID: why */
};

/* Parse arg (NUL-terminated, the command's argument) into out. */
enum xclient_status xclient_parse(const char *arg, struct xclient *out);

/* The keyword and attributes for the EHLO reply. */
#define XCLIENT_EHLO "XCLIENT NAME ADDR PORT PROTO HELO"

#endif
