/*
 * lmtp_data.c - after DATA an LMTP server answers once per recipient
 * (RFC 2033 4.2), in the order of the RCPT commands it took.
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psmtpd/plugin.h>

#include "lmtp.h"

/* lmtp_unknown - a recipient whose reply never came. */
static void
lmtp_unknown(struct smtpc_reply *r, const struct proxy_txn *t)
{
	r->code = 451;
	snprintf(r->text, sizeof(r->text), "4.4.2 Error: LMTP server %s, "
	    "try again later", t->why[0] != '\0' ? t->why : "failed");
}

/* lmtp_read_replies - one reply per recipient; after a failure the rest
 * are unknown (they may have been delivered: a retry may duplicate). */
static void
lmtp_read_replies(struct proxy_txn *t, struct lmtp_replies *out)
{
	for (size_t i = 0; i < out->n; i++) {
		struct proxy_result res;
		enum smtpc_status st = t->broken ? SMTPC_OK :
		    smtpc_read_reply(&t->c, &out->r[i]);
		if (!t->broken && st != SMTPC_OK)
			proxy_io_failed(t, st, "DATA", &res);
		if (t->broken) {
			lmtp_unknown(&out->r[i], t);
			continue;
		}
		int code = out->r[i].code;
		if (code == 421) {	/* closing: no more replies come */
			t->broken = 1;
			snprintf(t->why, sizeof(t->why), "closing (421)");
		}
		if (code == 421 || (code >= 300 && code < 400))
			out->r[i].code = 451;
	}
}

int
lmtp_data(struct proxy_txn *t, const struct smtpc_part *parts,
    size_t nparts, struct lmtp_replies *out, struct proxy_result *res)
{
	out->n = t->nrcpt;
	out->r = calloc(out->n > 0 ? out->n : 1, sizeof(*out->r));
	if (out->r == NULL) {
		proxy_tempfail(res, "unusable (out of memory)");
		return -1;
	}
	if (proxy_txn_body(t, parts, nparts, res) != 0)
		return -1;
	lmtp_read_replies(t, out);
	return 0;
}

void
lmtp_replies_free(struct lmtp_replies *out)
{
	free(out->r);
	out->r = NULL;
	out->n = 0;
}
