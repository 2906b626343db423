/*
 * channel_esmtp.c - the EHLO keywords of the extensions switched on in
 * the esmtp group (or always on, as on an LMTP listener); their rows are
 * in the keyword table of channel_verbs.c.  And whether LHLO exists.
 */
#include "autoconfig.h"

#include <stdio.h>

#include "channel_session.h"

/* channel_keyword - word into buf when on. */
static bool
channel_keyword(bool on, const char *word, char *buf, size_t size)
{
	if (on)
		snprintf(buf, size, "%s", word);
	return on;
}

bool
channel_lmtp_enabled(const struct psmtpd_session *s)
{
	return s->lmtp;
}

bool
channel_ehlo_pipelining(const struct psmtpd_session *s, char *buf,
    size_t size)
{
	return channel_keyword(s->ext.pipelining, "PIPELINING", buf, size);
}

bool
channel_ehlo_enhanced(const struct psmtpd_session *s, char *buf, size_t size)
{
	return channel_keyword(s->ext.enhanced_status_codes,
	    "ENHANCEDSTATUSCODES", buf, size);
}

bool
channel_ehlo_chunking(const struct psmtpd_session *s, char *buf, size_t size)
{
	return channel_keyword(s->ext.chunking, "CHUNKING", buf, size);
}

bool
channel_ehlo_dsn(const struct psmtpd_session *s, char *buf, size_t size)
{
	return channel_keyword(s->ext.dsn, "DSN", buf, size);
}
