/*
 * lmtp.h - the lmtp delivery plugin (RFC 2033): lmtp.c the settings and
 * the message hook, lmtp_data.c the replies after DATA, one per
 * recipient, and what becomes of them.
 */
#ifndef PSMTPD_LMTP_H
#define PSMTPD_LMTP_H

#include "../proxy/proxy.h"

/* The reply of each recipient after the data. */
struct lmtp_replies {
	size_t n;
	struct smtpc_reply *r;	/* n of them, in the order of RCPT */
};

/* Send the body and read a reply per recipient; a recipient whose reply
 * never came (time-out, closed) gets a 451.  0, or -1 with res set when
 * the data did not go out at all. */
int lmtp_data(struct proxy_txn *t, const struct smtpc_part *parts,
    size_t nparts, struct lmtp_replies *out, struct proxy_result *res);
void lmtp_replies_free(struct lmtp_replies *out);

/* Pure: what the SMTP client hears for the message, from the recipients'
 * codes: LMTP_FOLD_OK (all 2xx), LMTP_FOLD_SOME (some 2xx, some not: a
 * 451, a retry sends duplicates, never loses a copy), or the index of
 * the reply to pass on (none 2xx: the first 4xx, else the first 5xx). */
#define LMTP_FOLD_OK (-1)
#define LMTP_FOLD_SOME (-2)
int lmtp_fold(const int *codes, size_t n);

#endif
