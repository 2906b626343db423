/*
 * channel_verbs.c - the verb table: one row per verb with the states it
 * is allowed in, the plugin hook it runs and its functions (see "The verb
 * table" in channel_session.h for the order channel_dispatch runs them).
 * Adding a verb is one row here and its functions in its own file,
 * declared in channel_session.h.  The EHLO keyword table is here too, so
 * that an extension's verb and its keyword are added side by side.
 */
#include "autoconfig.h"

#include <string.h>

#include "channel_session.h"

#define NEEDS_GREETING CHANNEL_NEEDS_GREETING
#define NEEDS_MAIL CHANNEL_NEEDS_MAIL
#define NEEDS_RCPT CHANNEL_NEEDS_RCPT
#define NO_ARG CHANNEL_NO_ARG

static const struct channel_verb channel_verbs[] = {
	{ .verb = "HELO", .flags = CHANNEL_SMTP_ONLY, .hook = CHANNEL_HOOK_HELO,
	  .check = channel_helo_check, .refused = channel_helo_refused,
	  .proceed = channel_helo_proceed },
	{ .verb = "EHLO", .flags = CHANNEL_SMTP_ONLY, .hook = CHANNEL_HOOK_HELO,
	  .check = channel_ehlo_check, .refused = channel_helo_refused,
	  .proceed = channel_ehlo_proceed },
	/* RFC 2033: EHLO's twin, on LMTP listeners only */
	{ .verb = "LHLO", .enabled = channel_lmtp_enabled,
	  .hook = CHANNEL_HOOK_HELO, .check = channel_ehlo_check,
	  .refused = channel_helo_refused, .proceed = channel_ehlo_proceed },
	{ .verb = "NOOP", .flags = NO_ARG, .proceed = channel_noop_proceed },
	{ .verb = "QUIT", .proceed = channel_quit_proceed },
	{ .verb = "MAIL", .flags = NEEDS_GREETING | CHANNEL_SECURED,
	  .hook = CHANNEL_HOOK_MAIL,
	  .check = channel_mail_check, .refused = channel_mail_refused,
	  .proceed = channel_mail_proceed },
	{ .verb = "RCPT", .flags = NEEDS_GREETING | NEEDS_MAIL,
	  .hook = CHANNEL_HOOK_RCPT, .check = channel_rcpt_check,
	  .proceed = channel_rcpt_proceed },
	{ .verb = "RSET", .flags = NO_ARG, .proceed = channel_rset_proceed },
	{ .verb = "DATA", .flags = NEEDS_GREETING | NEEDS_RCPT |
	  CHANNEL_NO_CHUNKS | NO_ARG | CHANNEL_INTERMEDIATE,
	  .hook = CHANNEL_HOOK_DATA, .proceed = channel_data_proceed },
	/* BDAT reads its chunk before any check: channel_bdat.c */
	{ .verb = "BDAT", .enabled = channel_bdat_enabled,
	  .proceed = channel_bdat_proceed },
	/* XCLIENT, for xclient_trusted clients only: channel_xclient.c */
	{ .verb = "XCLIENT", .flags = CHANNEL_NO_TXN,
	  .enabled = channel_xclient_enabled,
	  .proceed = channel_xclient_proceed },
	{ .verb = "HELP", .proceed = channel_help_proceed },
	{ .verb = "VRFY", .proceed = channel_vrfy_proceed },
	{ .verb = "EXPN", .proceed = channel_expn_proceed },
	{ .verb = "STARTTLS", .flags = CHANNEL_NO_TXN | NO_ARG,
	  .enabled = channel_starttls_enabled,
	  .check = channel_starttls_check,
	  .proceed = channel_starttls_proceed },
	{ .verb = "AUTH", .flags = NEEDS_GREETING | CHANNEL_NO_TXN |
	  CHANNEL_SECURED, .enabled = channel_auth_enabled,
	  .check = channel_auth_check, .proceed = channel_auth_proceed },
};

/* The EHLO keywords of the extensions, in the order advertised, after
 * Python's own (SIZE, 8BITMIME, SMTPUTF8) and before HELP.  Each says
 * itself whether it is on in the session. */
static const channel_ehlo_fn channel_ehlo_keywords[] = {
	channel_ehlo_pipelining,
	channel_ehlo_enhanced,
	channel_ehlo_chunking,
	channel_ehlo_dsn,
	channel_ehlo_xclient,
	channel_ehlo_starttls,
	channel_ehlo_auth,
};

const struct channel_verb *
channel_verb_find(const struct psmtpd_session *s, const char *verb)
{
	for (size_t i = 0; i < sizeof(channel_verbs) / sizeof(channel_verbs[0]);
	    i++) {
		const struct channel_verb *row = &channel_verbs[i];
		if (strcmp(verb, row->verb) == 0)
			return row->enabled == NULL || row->enabled(s) ? row :
			    NULL;
	}
	return NULL;
}

channel_ehlo_fn
channel_ehlo_keyword(size_t i)
{
	size_t n = sizeof(channel_ehlo_keywords) /
	    sizeof(channel_ehlo_keywords[0]);

	return i < n ? channel_ehlo_keywords[i] : NULL;
}
