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

#endif
