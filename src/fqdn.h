/*
 * fqdn.h - the host's fully qualified name, as Python's socket.getfqdn().
 */
#ifndef PSMTPD_FQDN_H
#define PSMTPD_FQDN_H

#include <stddef.h>

/* gethostname(), then its canonical name when that has a dot. */
void fqdn_lookup(char *out, size_t size);

#endif
