/*
 * channel_session.h - the state of one session (SMTPChannel's attributes),
 * shared by the channel's files and the plugin API functions.  Plugins see
 * only the opaque psmtpd_session and the accessors of session_api.c.
 */
#ifndef PSMTPD_CHANNEL_SESSION_H
#define PSMTPD_CHANNEL_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include <psmtpd/plugin.h>

#include "channel.h"
#include "io.h"
#include "smtp_parse.h"

/* A command line may be this long before it is "too long": the largest
 * limit the channel can reach (512 + 26 for SIZE + 10 for SMTPUTF8 by
 * default), with room for a configured larger limit. */
#define CHANNEL_LINE_MAX 4096
#define CHANNEL_REPLY_MAX 2048
#define CHANNEL_ID_LEN 16

/* What the plugin hooks of one kind said, for the channel to act on. */
struct channel_verdict {
	enum psmtpd_result result;
	char reply[CHANNEL_REPLY_MAX];	/* valid when result != CONTINUE */
};

/* mail_options or rcpt_options: rest.upper().split(), kept in the session
 * (the line buffer is reused by the next command). */
struct channel_options {
	size_t n;
	char *opt[SMTP_OPTIONS_MAX];	/* into buf */
	char buf[CHANNEL_LINE_MAX + 1];
};

struct channel_plugin_data {
	void *session_data;
	void (*session_free)(void *);
	void *txn_data;
	void (*txn_free)(void *);
};

struct psmtpd_session {
	const struct channel_params *params;
	struct plugin_set *plugins;
	const struct channel_observer *obs;
	volatile const int *stop;
	struct io io;

	char id[CHANNEL_ID_LEN];
	char peer_addr[64];
	unsigned peer_port;

	/* SMTPChannel's state */
	enum psmtpd_smtp_state smtp_state;
	char seen_greeting[CHANNEL_LINE_MAX + 1];
	bool extended_smtp;
	bool require_smtputf8;
	char *mailfrom;			/* NULL: no MAIL yet */
	char **rcpttos;
	size_t nrcpt, rcpt_cap;
	struct channel_options mail_options;	/* of the MAIL in effect */
	struct channel_options rcpt_options;	/* of the last RCPT */
	size_t mail_limit_extra;	/* command_size_limits['MAIL'] growth */

	/* the message of the current DATA, for process_message */
	char *data;
	size_t data_len, data_cap;

	long long session_deadline;	/* timeouts.session; 0: none */

	/* counters for the limits and the log */
	unsigned errors;
	unsigned messages;
	bool closing;
	enum channel_end end;

	/* plugins */
	size_t current_plugin;		/* whose hook runs now */
	struct channel_plugin_data *pdata;	/* one per plugin */
	struct channel_verdict *reply_target;	/* where psmtpd_reply goes */

	char line[CHANNEL_LINE_MAX + 1];
};

/* channel.c */
void channel_reply(struct psmtpd_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void channel_reply_raw(struct psmtpd_session *s, const char *text);
void channel_phase(struct psmtpd_session *s, enum channel_phase phase,
    const char *detail);
void channel_reset_transaction(struct psmtpd_session *s);
void channel_rset_state(struct psmtpd_session *s);
void channel_close(struct psmtpd_session *s, enum channel_end end);
/* MAIL, RCPT and DATA need a HELO/EHLO first: false (503 sent) if not. */
bool channel_greeted(struct psmtpd_session *s);

/* channel_cmds.c: the built-in verbs, by name; NULL if none. */
typedef void (*channel_verb_fn)(struct psmtpd_session *s, char *arg);
channel_verb_fn channel_builtin_verb(const char *verb);

/* channel_data.c: receive the message after 354 and hand it on. */
void channel_receive_data(struct psmtpd_session *s);

/* channel_hooks.c: run one hook over the chain.  The verdict holds the
 * reply of the plugin that answered, if any. */
enum channel_hook {
	CHANNEL_HOOK_CONNECT, CHANNEL_HOOK_HELO, CHANNEL_HOOK_MAIL,
	CHANNEL_HOOK_RCPT, CHANNEL_HOOK_DATA, CHANNEL_HOOK_MESSAGE
};
void channel_run_hook(struct psmtpd_session *s, enum channel_hook hook,
    const char *arg, struct channel_verdict *v);
void channel_run_rset_hooks(struct psmtpd_session *s);
void channel_run_disconnect_hooks(struct psmtpd_session *s);
/* A plugin's verb, if one claims it: runs it and returns true. */
bool channel_run_plugin_verb(struct psmtpd_session *s, const char *verb,
    const char *arg);
/* Send a verdict's reply; close on DISCONNECT.  false for CONTINUE. */
bool channel_send_verdict(struct psmtpd_session *s,
    const struct channel_verdict *v);
void channel_free_plugin_data(struct psmtpd_session *s, bool txn_only);

#endif
