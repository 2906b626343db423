/*
 * verdict.h - one SMTP reply from the replies of each recipient (API 2
 * per-recipient verdicts), by the rules documented in plugin.h at
 * psmtpd_reply_rcpt().  Pure: no I/O, no allocation.
 */
#ifndef PSMTPD_VERDICT_H
#define PSMTPD_VERDICT_H

#include <stddef.h>

/* The reply of the i-th recipient, from whatever holds them. */
typedef const char *(*verdict_at_fn)(const void *arg, size_t i);

/* The reply a client of an SMTP listener gets for n recipients whose
 * replies are at(arg, 0..n): a pointer to one of them, or to `mixed` (the
 * 451 for "some delivered, some failed for now").  A NULL reply (no
 * memory to keep it) counts as that temporary failure. */
const char *verdict_fold(verdict_at_fn at, const void *arg, size_t n,
    const char *mixed);

#endif
