/*
 * channel_session.h - the state of one session (SMTPChannel's attributes),
 * shared by the channel's files and the plugin API functions.  Plugins see
 * only the opaque psmtpd_session and the accessors of session_api.c.
 *
 * The channel's files in layers; each calls only those below it (and
 * io.c, smtp_*.c, log.c), so no two files call each other:
 *   channel.c           the command loop, channel_dispatch, error count
 *   channel_verbs.c     the verb table and the EHLO keyword table
 *   channel_cmds.c      HELO, EHLO, LHLO, NOOP, QUIT, RSET, HELP, VRFY, EXPN
 *   channel_envelope.c  MAIL, RCPT (with DSN's parameters)
 *   channel_esmtp.c     the extensions' EHLO keywords, LHLO's presence
 *   channel_bdat.c      BDAT (it uses channel_data.c's end of message)
 *   channel_data.c      DATA: receive the message, hand it on, answer
 *                       (once, or per recipient on LMTP)
 *   channel_xclient.c   XCLIENT (xclient_trusted clients), xclient.c
 *   channel_state.c     session init/free, transaction resets, recipients
 *   channel_hooks.c     the plugin chain, verdicts, plugin verbs
 *   channel_reply.c     replies (enhanced status codes), close, phase
 * channel_verbs.c only names the verbs' functions; channel.c reaches them
 * through the table.  The pure parts are smtp_parse.c, smtp_addr.c,
 * smtp_data.c (DATA), smtp_bdat.c (BDAT), smtp_dsn.c (RFC 3461) and
 * smtp_esc.c (RFC 2034 codes).  See doc/HACKING for the life of a
 * connection.
 */
#ifndef PSMTPD_CHANNEL_SESSION_H
#define PSMTPD_CHANNEL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <psmtpd/plugin.h>

#include "channel.h"
#include "io.h"
#include "smtp_auth.h"
#include "smtp_bdat.h"
#include "message.h"
#include "session_api.h"
#include "smtp_parse.h"
#include "tls.h"

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
 * (the line buffer is reused by the next command); raw holds the same
 * words as the client sent them, at the same offsets. */
struct channel_options {
	size_t n;
	char *opt[SMTP_OPTIONS_MAX];	/* into buf */
	char buf[CHANNEL_LINE_MAX + 1];
	char raw[CHANNEL_LINE_MAX + 1];
};

/* One accepted recipient, in RCPT order. */
struct channel_rcpt {
	char *addr;		/* the address as smtpd.py renders it */
	char **param;		/* its parameters as sent; one allocation
				 * with addr, freed through param */
	size_t nparam;
	char *reply;		/* its verdict (API 2: psmtpd_reply_rcpt, or
				 * the message's once the chain settled);
				 * NULL before; the one LMTP answers */
};

struct channel_plugin_data {
	void *session_data;
	void (*session_free)(void *);
	void *txn_data;
	void (*txn_free)(void *);
};

/* The command being dispatched, as a row's functions see it. */
struct channel_cmd {
	const char *verb;
	char *arg;		/* NULL: no argument; stripped */
	bool arg_nul;		/* arg held NUL bytes, now '?' */
	const char *hook_arg;	/* what check hands to the hook */
	const char *rest;	/* MAIL/RCPT: the parameters after the path */
	char addr[CHANNEL_LINE_MAX * 2];	/* MAIL/RCPT: the address */
};

struct psmtpd_session {
	const struct channel_params *params;
	struct plugin_set *plugins;
	const struct channel_observer *obs;
	volatile const int *stop;

	char id[CHANNEL_ID_LEN];
	char peer_addr[64];
	unsigned peer_port;

	/* the extensions on in this session */
	struct channel_esmtp ext;
	bool lmtp;		/* an LMTP listener (RFC 2033) */
	/* the verb being answered, for enhanced status codes ("" between
	 * commands, NULL for the greeting: no code) */
	const char *reply_context;

	/* SMTPChannel's state */
	enum psmtpd_smtp_state smtp_state;
	bool extended_smtp;
	bool require_smtputf8;
	/* BDAT: a message is being received in chunks */
	bool bdat_active;
	struct smtp_bdat bdat;
	char *mailfrom;			/* NULL: no MAIL yet */
	size_t nrcpt;			/* in rcpts */
	size_t mail_limit_extra;	/* command_size_limits['MAIL'] growth */

	/* the plugin API's part of the session (session_api.h) */
	struct api_state api;

	long long session_deadline;	/* timeouts.session; 0: none */

	/* TLS and AUTH (channel_tls.c, channel_auth.c) */
	struct tls_info tls;		/* valid while io.tls is set */
	char auth_user[SMTP_AUTH_FIELD_MAX + 1];	/* "": none yet */

	/* counters for the limits and the log */
	char last_code;			/* first digit of the last reply */
	unsigned errors;
	unsigned messages;
	bool closing;
	enum channel_end end;

	/* plugins */
	size_t current_plugin;		/* whose hook runs now */
	struct channel_verdict *reply_target;	/* where psmtpd_reply goes */

	/*
	 * Kept from one session to the next (a worker serves every
	 * connection in the same struct): never zeroed whole, each field
	 * made ready by channel_session_init.  Zeroing and faulting in
	 * these buffers for every connection was a tenth of a small
	 * message's cost.  io comes first: the fields above it are zeroed.
	 */
	struct io io;
	char seen_greeting[CHANNEL_LINE_MAX + 1];
	struct channel_options mail_options;	/* of the MAIL in effect */
	struct channel_options rcpt_options;	/* of the last RCPT */
	struct channel_rcpt *rcpts;	/* rcpttos, with their parameters */
	size_t rcpt_cap;
	struct channel_plugin_data *pdata;	/* one per plugin */
	size_t pdata_cap;
	/* the message of the current DATA, for process_message; its
	 * buffers stay for the next message */
	struct message msg;
	char line[CHANNEL_LINE_MAX + 1];
	struct channel_cmd cmd;		/* the command being dispatched */
};

/* channel_reply.c: the bottom layer, used by every other channel file. */
void channel_reply(struct psmtpd_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void channel_reply_raw(struct psmtpd_session *s, const char *text);
void channel_phase(struct psmtpd_session *s, enum channel_phase phase,
    const char *detail);
void channel_close(struct psmtpd_session *s, enum channel_end end);
/* A read that did not give a line or data (st is not IO_OK or IO_INTR):
 * "421 ... timeout exceeded" for a timeout, and the session closes. */
void channel_read_failed(struct psmtpd_session *s, enum io_status st);

/* channel_hooks.c: run one hook over the chain.  The verdict holds the
 * reply of the plugin that answered, if any. */
enum channel_hook {
	CHANNEL_HOOK_NONE,	/* a verb without a plugin hook */
	CHANNEL_HOOK_CONNECT, CHANNEL_HOOK_HELO, CHANNEL_HOOK_MAIL,
	CHANNEL_HOOK_RCPT, CHANNEL_HOOK_DATA, CHANNEL_HOOK_MESSAGE,
	/* API 2 and the hooks without a reply (channel_hooks.c only) */
	CHANNEL_HOOK_RSET, CHANNEL_HOOK_DISCONNECT, CHANNEL_HOOK_OUTCOME,
	CHANNEL_HOOK_EHLO, CHANNEL_HOOK_UNKNOWN, CHANNEL_HOOK_VERB
};
void channel_run_hook(struct psmtpd_session *s, enum channel_hook hook,
    const char *arg, struct channel_verdict *v);
void channel_run_rset_hooks(struct psmtpd_session *s);
void channel_run_disconnect_hooks(struct psmtpd_session *s);
/* API 2: the plugins' EHLO keywords into s->api.ehlo; the catch-all for
 * an unknown command (true: a plugin answered); process_message over the
 * chain, its per-recipient verdicts folded into v (and each recipient's
 * own reply in rcpts[i].reply, for an LMTP listener); on_outcome of the
 * plugins that saw the message, after its reply is sent. */
void channel_run_ehlo_hooks(struct psmtpd_session *s);
bool channel_run_unknown_hooks(struct psmtpd_session *s, const char *verb,
    const char *arg);
void channel_run_message_hooks(struct psmtpd_session *s,
    struct channel_verdict *v);
void channel_run_outcome_hooks(struct psmtpd_session *s);
/* A plugin's verb, if one claims it: runs it and returns true. */
bool channel_run_plugin_verb(struct psmtpd_session *s, const char *verb,
    const char *arg);
/* Send a verdict's reply; close on DISCONNECT.  false for CONTINUE. */
bool channel_send_verdict(struct psmtpd_session *s,
    const struct channel_verdict *v);
/* The accepting plugin's reply if there is one, else dflt. */
void channel_reply_accepted(struct psmtpd_session *s,
    const struct channel_verdict *v, const char *dflt);
void channel_free_plugin_data(struct psmtpd_session *s, bool txn_only);

/* channel_state.c: the session's state and its resets. */
int channel_session_init(struct psmtpd_session *s,
    const struct channel_params *params, struct plugin_set *plugins,
    int fd, const struct sockaddr *peer, socklen_t peerlen);
void channel_session_free(struct psmtpd_session *s);
/* smtpd.py's _set_post_data_state: the transaction, not the data. */
void channel_reset_transaction(struct psmtpd_session *s);
/* smtpd.py's _set_rset_state: the transaction and the received data. */
void channel_rset_state(struct psmtpd_session *s);
/* Append a recipient with its parameters as sent (rcpt_options.raw);
 * -1 when out of memory. */
int channel_add_rcpt(struct psmtpd_session *s, const char *addr);
/* The same with other parameters (none: an options set with n = 0). */
int channel_add_rcpt_with(struct psmtpd_session *s, const char *addr,
    const struct channel_options *o);
/* Forget every recipient of the transaction. */
void channel_clear_rcpts(struct psmtpd_session *s);
/* The j-th option of o as the client sent it. */
const char *channel_option_raw(const struct channel_options *o, size_t j);

/*
 * The verb table (channel_verbs.c) carries the protocol, as OpenSMTPD's
 * commands[] does.  channel_dispatch (channel.c) runs a row in this order,
 * each step answering and stopping when it fails:
 *   enabled   the verb exists here (an extension switched on); else 500
 *   flags     the state checks, in the order of the flags below
 *   check     the verb's own syntax and state checks; false: it answered
 *   hook      the plugins' word; a reply that does not accept (2xx, or
 *             3xx for CHANNEL_INTERMEDIATE) is sent, refused() undoes
 *             what check did, and the command ends there
 *   proceed   the state change and the reply: channel_reply_accepted()
 *             sends the accepting plugin's reply or the default
 * A new verb is one row in channel_verbs.c plus its functions in its own
 * file, declared in the list there.
 */
enum channel_verb_flags {
	CHANNEL_NEEDS_GREETING = 1 << 0,	/* 503 Error: send HELO first */
	CHANNEL_NEEDS_MAIL = 1 << 1,		/* 503 Error: need MAIL command */
	CHANNEL_NEEDS_RCPT = 1 << 2,		/* 503 Error: need RCPT command */
	CHANNEL_NO_TXN = 1 << 3,	/* 503 Error: transaction in progress */
	CHANNEL_NO_ARG = 1 << 4,	/* 501 Syntax: VERB when it has one */
	CHANNEL_INTERMEDIATE = 1 << 5,	/* the hook accepts with 3xx (DATA) */
	CHANNEL_NO_CHUNKS = 1 << 6,	/* 503 after a BDAT chunk (RFC 3030) */
	CHANNEL_SMTP_ONLY = 1 << 7,	/* 500 on an LMTP listener (checked
					 * first) */
	CHANNEL_SECURED = 1 << 8	/* 530 unless the listener's
					 * require_tls/require_auth hold */
};

struct channel_verb {
	const char *verb;
	unsigned flags;			/* enum channel_verb_flags */
	enum channel_hook hook;
	bool (*enabled)(const struct psmtpd_session *s);	/* NULL: always */
	bool (*check)(struct psmtpd_session *s, struct channel_cmd *c);
	void (*refused)(struct psmtpd_session *s);
	void (*proceed)(struct psmtpd_session *s, struct channel_cmd *c,
	    const struct channel_verdict *v);
};

/* The row of a verb that exists in this session; NULL if none. */
const struct channel_verb *channel_verb_find(const struct psmtpd_session *s,
    const char *verb);

/* One EHLO keyword line ("PIPELINING", "AUTH PLAIN") into buf; false
 * when it is not advertised in this session. */
typedef bool (*channel_ehlo_fn)(const struct psmtpd_session *s, char *buf,
    size_t size);
/* The i-th keyword function of the table after Python's own keywords
 * (SIZE, 8BITMIME, SMTPUTF8); NULL past the end. */
channel_ehlo_fn channel_ehlo_keyword(size_t i);

/* The functions of the verbs (the rows of channel_verbs.c), by file. */
/* channel_cmds.c */
bool channel_helo_check(struct psmtpd_session *s, struct channel_cmd *c);
bool channel_ehlo_check(struct psmtpd_session *s, struct channel_cmd *c);
void channel_helo_refused(struct psmtpd_session *s);
void channel_helo_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v);
void channel_ehlo_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v);
void channel_noop_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v);
void channel_quit_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v);
void channel_rset_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v);
void channel_help_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v);
void channel_vrfy_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v);
void channel_expn_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v);
/* channel_envelope.c */
bool channel_mail_check(struct psmtpd_session *s, struct channel_cmd *c);
void channel_mail_refused(struct psmtpd_session *s);
void channel_mail_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v);
bool channel_rcpt_check(struct psmtpd_session *s, struct channel_cmd *c);
void channel_rcpt_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v);
/* channel_esmtp.c: EHLO keywords, LHLO on LMTP listeners */
bool channel_lmtp_enabled(const struct psmtpd_session *s);
bool channel_ehlo_pipelining(const struct psmtpd_session *s, char *buf,
    size_t size);
bool channel_ehlo_enhanced(const struct psmtpd_session *s, char *buf,
    size_t size);
bool channel_ehlo_chunking(const struct psmtpd_session *s, char *buf,
    size_t size);
bool channel_ehlo_dsn(const struct psmtpd_session *s, char *buf,
    size_t size);
/* channel_tls.c: STARTTLS, implicit TLS, the listener's policy */
bool channel_tls_active(const struct psmtpd_session *s);
bool channel_starttls_enabled(const struct psmtpd_session *s);
bool channel_starttls_check(struct psmtpd_session *s, struct channel_cmd *c);
void channel_starttls_proceed(struct psmtpd_session *s,
    struct channel_cmd *c, const struct channel_verdict *v);
bool channel_ehlo_starttls(const struct psmtpd_session *s, char *buf,
    size_t size);
/* On an implicit-TLS listener, the handshake before the greeting; false
 * when it failed (logged, closing). */
bool channel_tls_implicit(struct psmtpd_session *s);
/* CHANNEL_SECURED: false when refused (530 sent). */
bool channel_secured(struct psmtpd_session *s, const char *verb);
/* "CODE ESC text" with enhanced status codes on, else "CODE text". */
void channel_reply_status(struct psmtpd_session *s, int code,
    const char *esc, const char *text);
/* channel_auth.c: AUTH */
bool channel_auth_enabled(const struct psmtpd_session *s);
bool channel_auth_check(struct psmtpd_session *s, struct channel_cmd *c);
void channel_auth_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v);
bool channel_ehlo_auth(const struct psmtpd_session *s, char *buf,
    size_t size);
/* channel_data.c */
void channel_data_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v);
/* Shared with BDAT: the size past which a message is refused, and the
 * end of a message received whole: 552, 451, 554 or process_message and its
 * reply, then the transaction is over. */
unsigned long long channel_data_limit(const struct channel_params *p);
void channel_end_message(struct psmtpd_session *s, bool too_big, bool nomem);
/* The message after a 354, to its reply (DATA, or a plugin's verb that
 * set smtp_state to DATA). */
void channel_receive_data(struct psmtpd_session *s);
/* A message's data begins (its timers start), and waiting for more of
 * it (timeouts.data between reads, stress.data per line, within the
 * session's time): false when the session ends instead (EOF, error, or
 * a timeout: the 421 is sent). */
void channel_data_begin(struct psmtpd_session *s);
bool channel_data_fill(struct psmtpd_session *s);
/* channel_xclient.c */
bool channel_xclient_enabled(const struct psmtpd_session *s);
bool channel_ehlo_xclient(const struct psmtpd_session *s, char *buf,
    size_t size);
void channel_xclient_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v);
/* channel_bdat.c */
bool channel_bdat_enabled(const struct psmtpd_session *s);
void channel_bdat_proceed(struct psmtpd_session *s, struct channel_cmd *c,
    const struct channel_verdict *v);

#endif
