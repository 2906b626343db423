/*
 * session_api.h - the part of a session that belongs to the plugin API
 * (API 2): where the plugins are (which hook runs, so that each function
 * can refuse to work out of place), notes and check results, the
 * per-recipient verdicts, the message's id and outcome, the EHLO keywords
 * plugins add.  The channel embeds it in struct psmtpd_session and calls
 * the functions below at the points of a transaction.
 */
#ifndef PSMTPD_SESSION_API_H
#define PSMTPD_SESSION_API_H

#include <stdbool.h>
#include <stddef.h>

#include "notes.h"

struct psmtpd_session;

/* Which kind of hook runs now. */
enum api_where {
	API_IN_NONE,		/* no plugin code runs */
	API_IN_HOOK,		/* a hook that answers (connect..data, verbs) */
	API_IN_MAIL,		/* on_mail: the sender may change, no rcpt yet */
	API_IN_MESSAGE,		/* process_message */
	API_IN_QUIET,		/* on_rset, on_disconnect: no reply */
	API_IN_OUTCOME,		/* on_outcome: read only */
	API_IN_EHLO		/* ehlo_keywords */
};

#define API_MSGID_LEN 32
#define API_EHLO_MAX 1024

struct api_state {
	enum api_where where;
	const char *hook;		/* its name, for the log */
	struct notes session_notes, txn_notes;
	bool verdicts;			/* in process_message's chain: the
					 * rcpts' replies are verdicts */
	bool lost;			/* the edited message could not be
					 * built: a plugin saw "" instead */
	char msgid[API_MSGID_LEN];	/* "" outside a transaction */
	unsigned msgseq;
	int outcome_code;
	char *outcome;			/* the reply the client got */
	const char *outcome_plugin;	/* "" for the server */
	size_t reached;			/* plugins process_message reached */
	char ehlo[API_EHLO_MAX];	/* keyword lines, "\n"-separated */
	size_t ehlo_len;
};

/* A transaction starts (MAIL accepted): its message id. */
void api_txn_begin(struct psmtpd_session *s);
/* The transaction ends: its notes, checks, verdicts and outcome go. */
void api_txn_end(struct psmtpd_session *s);
/* The session ends. */
void api_session_end(struct psmtpd_session *s);
/* process_message starts: no recipient has a verdict. */
void api_verdicts_begin(struct psmtpd_session *s);
/* The chain has ended with reply `last` (NULL: every plugin continued,
 * "250 OK"): every open recipient gets it; the one reply for an SMTP
 * client into out. */
void api_verdicts_settle(struct psmtpd_session *s, const char *last,
    char *out, size_t size);
/* Remember the reply the client got and whose it was, for on_outcome. */
void api_set_outcome(struct psmtpd_session *s, const char *reply,
    const char *plugin);
/* A reply text is valid: codes 200..599, one code on every line, '-'
 * on every line but the last, no CR or NUL. */
bool api_reply_valid(const char *text);
/* An EHLO keyword line from a plugin. */
bool api_ehlo_valid(const char *kw);

#endif
