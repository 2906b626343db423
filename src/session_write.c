/*
 * session_write.c - the plugin API's writes to the session's state (API 2):
 * what a Python SMTPChannel subclass does when it assigns self.mailfrom,
 * self.rcpttos, self.seen_greeting or self.smtp_state in a verb of its own.
 * Every value is checked as the channel would check a client's: no CR, LF
 * or NUL, within the line and recipient limits.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include <psmtpd/plugin.h>

#include "channel_session.h"

/* Without a configured limit the recipients are still bounded. */
#define SESSION_RCPT_HARD_MAX 100000

/* session_clean - a value a client could have sent in one command. */
static bool
session_clean(const char *v)
{
	return v != NULL && strlen(v) <= CHANNEL_LINE_MAX &&
	    strpbrk(v, "\r\n") == NULL;
}

int
psmtpd_session_set_mailfrom(psmtpd_session *s, const char *mailfrom)
{
	char *copy = NULL;

	if (mailfrom != NULL && (!session_clean(mailfrom) ||
	    (copy = strdup(mailfrom)) == NULL))
		return -1;
	free(s->mailfrom);
	s->mailfrom = copy;
	if (copy == NULL)
		s->mail_options.n = 0;
	return 0;
}

/* session_rcpt_max - max_recipients, or the hard bound without one. */
static size_t
session_rcpt_max(const psmtpd_session *s)
{
	size_t max = s->params->max_recipients;

	return max == 0 || max > SESSION_RCPT_HARD_MAX ? SESSION_RCPT_HARD_MAX :
	    max;
}

int
psmtpd_session_set_rcpttos(psmtpd_session *s, const char *const *rcpts,
    size_t n)
{
	static const struct channel_options none;	/* no parameters */

	if (n > session_rcpt_max(s))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!session_clean(rcpts[i]))
			return -1;
	/* The recipients a handler writes have no RCPT parameters. */
	channel_clear_rcpts(s);
	for (size_t i = 0; i < n; i++)
		if (channel_add_rcpt_with(s, rcpts[i], &none) == -1) {
			channel_clear_rcpts(s);
			return -1;
		}
	return 0;
}

int
psmtpd_session_set_greeting(psmtpd_session *s, const char *greeting,
    int extended)
{
	const struct channel_params *p = s->params;

	if (!session_clean(greeting))
		return -1;
	memmove(s->seen_greeting, greeting, strlen(greeting) + 1);
	s->extended_smtp = greeting[0] != '\0' && extended;
	/* EHLO's growth of the MAIL line limit (command_size_limits) */
	s->mail_limit_extra = !s->extended_smtp ? 0 :
	    (p->data_size_limit != 0 ? 26 : 0) + (p->enable_smtputf8 ? 10 : 0);
	return 0;
}

int
psmtpd_session_set_state(psmtpd_session *s, enum psmtpd_smtp_state state)
{
	if (state != PSMTPD_STATE_COMMAND && state != PSMTPD_STATE_DATA)
		return -1;
	/* a message needs a sender and a recipient to go to */
	if (state == PSMTPD_STATE_DATA && (s->mailfrom == NULL ||
	    s->nrcpt == 0))
		return -1;
	s->smtp_state = state;
	return 0;
}
