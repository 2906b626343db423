/*
 * smtp_addr.h - the address parsing of smtpd.py's _getaddr: an emulation
 * of Python 3.11's email._header_value_parser get_angle_addr() and
 * get_addr_spec(), and of the addr_spec they render.  Pure: no I/O, no
 * allocation, no globals; see smtp_addr.c for the known differences.
 */
#ifndef PSMTPD_SMTP_ADDR_H
#define PSMTPD_SMTP_ADDR_H

#include <stddef.h>

#include "smtp_parse.h"

/*
 * _getaddr(arg) on arg[0..len) (UTF-8, no NUL): when arg.lstrip() starts
 * with '<', get_angle_addr, else get_addr_spec; addr receives the
 * address's addr_spec as Python renders it (NUL-terminated; "<>" for the
 * null path; may be "" as in Python, e.g. for '""') and *restoff the
 * offset in arg of what the parser left.  An empty arg gives OK with ""
 * (Python's ('', '')).  INVALID where Python raises (HeaderParseError or
 * any other exception while parsing or rendering); TOO_LONG when addr
 * cannot hold the result.  The address is never longer than 2 * len + 2
 * (quoting escapes each character at most once and adds two quotes), so
 * an addr of 2 * len + 3 bytes always suffices.
 */
enum smtp_parse_status smtp_addr_get(const char *arg, size_t len,
    char *addr, size_t addrsize, size_t *restoff);

#endif
