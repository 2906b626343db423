/*
 * channel.c - one SMTP session: the command loop and channel_dispatch,
 * which runs a row of the verb table (channel_verbs.c) and applies the
 * rules for the plugins' replies in one place.  The reply texts are
 * Python 3.11 smtpd's.  See channel_session.h for the channel's layers.
 */
#include "autoconfig.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel_session.h"
#include "log.h"

/* channel_verb_allowed - the state checks of a row's flags, in
 * smtpd.py's order; false when one failed (the 503/501 is sent). */
static bool
channel_verb_allowed(struct psmtpd_session *s, const struct channel_verb *row,
    const struct channel_cmd *c)
{
	unsigned f = row->flags;

	if ((f & CHANNEL_SMTP_ONLY) && s->lmtp)
		channel_reply(s, "500 Error: this is an LMTP server: send LHLO");
	else if ((f & CHANNEL_NEEDS_GREETING) && s->seen_greeting[0] == '\0')
		channel_reply(s, "503 Error: send %s first", s->lmtp ? "LHLO" :
		    "HELO");
	else if ((f & CHANNEL_NEEDS_MAIL) && s->mailfrom == NULL)
		channel_reply(s, "503 Error: need MAIL command");
	else if ((f & CHANNEL_NEEDS_RCPT) && s->nrcpt == 0)
		channel_reply(s, "503 Error: need RCPT command");
	else if ((f & CHANNEL_NO_TXN) && s->mailfrom != NULL)
		channel_reply(s, "503 Error: transaction in progress");
	else if ((f & CHANNEL_NO_CHUNKS) && s->bdat_active)
		channel_reply(s, "503 Error: DATA after BDAT");
	else if ((f & CHANNEL_NO_ARG) && c->arg != NULL && c->arg[0] != '\0')
		channel_reply(s, "501 Syntax: %s", row->verb);
	else if (!(f & CHANNEL_SECURED) || channel_secured(s, row->verb))
		return true;
	return false;
}

/* channel_hook_accepts - whether a plugin's reply lets the verb go on. */
static bool
channel_hook_accepts(const struct channel_verb *row,
    const struct channel_verdict *v)
{
	if (v->result == PSMTPD_CONTINUE)
		return true;
	return v->reply[0] == ((row->flags & CHANNEL_INTERMEDIATE) ? '3' :
	    '2');
}

/* channel_run_verb - one row: its checks, its hook, its proceed. */
static void
channel_run_verb(struct psmtpd_session *s, const struct channel_verb *row,
    struct channel_cmd *c)
{
	struct channel_verdict v = { .result = PSMTPD_CONTINUE };

	if (!channel_verb_allowed(s, row, c))
		return;
	if (row->check != NULL && !row->check(s, c))
		return;
	if (row->hook != CHANNEL_HOOK_NONE)
		channel_run_hook(s, row->hook, c->hook_arg, &v);
	if (!channel_hook_accepts(row, &v)) {
		if (row->refused != NULL)
			row->refused(s);
		channel_send_verdict(s, &v);
		return;
	}
	row->proceed(s, c, &v);
}

/* channel_command_limit - how long a line of this verb may be. */
static size_t
channel_command_limit(const struct psmtpd_session *s, const char *verb)
{
	size_t limit = s->params->command_size_limit;

	if (s->extended_smtp && strcmp(verb, "MAIL") == 0)
		limit += s->mail_limit_extra;
	return limit;
}

/* channel_trace_arg - what the -d trace shows of an argument: AUTH's
 * initial response is a password in base64, so only its mechanism. */
static const char *
channel_trace_arg(const struct smtp_command *cmd, char *buf, size_t size)
{
	if (cmd->arg == NULL || strcmp(cmd->verb, "AUTH") != 0)
		return cmd->arg;
	snprintf(buf, size, "%.*s", (int)strcspn(cmd->arg, " "), cmd->arg);
	return buf;
}

/* channel_parse - found_terminator's checks of a command line; false
 * when the line is answered already (500). */
static bool
channel_parse(struct psmtpd_session *s, size_t len, struct smtp_command *cmd)
{
	size_t max = s->params->command_size_limit + s->mail_limit_extra;

	if (len == 0) {
		channel_reply(s, "500 Error: bad syntax");
		return false;
	}
	if (len > max || len > CHANNEL_LINE_MAX) {
		channel_reply(s, "500 Error: line too long");
		return false;
	}
	if (smtp_parse_command(s->line, len, cmd) != SMTP_PARSE_OK) {
		channel_reply(s, "500 Error: bad syntax");
		return false;
	}
	if (s->params->trace) {
		char verb[256], arg[1024], mech[64];
		log_debug("id=%s command=\"%s\" arg=\"%s\"", s->id,
		    log_escape(verb, sizeof(verb), cmd->verb),
		    log_escape(arg, sizeof(arg), channel_trace_arg(cmd, mech,
		    sizeof(mech))));
	}
	if (len > channel_command_limit(s, cmd->verb)) {
		channel_reply(s, "500 Error: line too long");
		return false;
	}
	return true;
}

/* channel_dispatch - found_terminator in COMMAND state: a plugin's verb
 * first (it may override a built-in one), then the table's row. */
static void
channel_dispatch(struct psmtpd_session *s, size_t len)
{
	struct smtp_command cmd;
	struct channel_cmd *c = &s->cmd;

	if (!channel_parse(s, len, &cmd))
		return;
	s->reply_context = cmd.verb;
	if (channel_run_plugin_verb(s, cmd.verb, cmd.arg)) {
		/* a handler may start a message as smtpd.py's smtp_DATA
		 * does: smtp_state = DATA after its 354 */
		if (s->smtp_state == PSMTPD_STATE_DATA && !s->closing)
			channel_receive_data(s);
		return;
	}
	const struct channel_verb *row = channel_verb_find(s, cmd.verb);
	if (row == NULL) {
		if (!channel_run_unknown_hooks(s, cmd.verb, cmd.arg))
			channel_reply(s, "500 Error: command \"%s\" not "
			    "recognized", cmd.verb);
		return;
	}
	c->verb = cmd.verb;
	c->arg = cmd.arg;
	c->arg_nul = cmd.arg_nul;
	c->hook_arg = NULL;
	c->rest = NULL;
	c->addr[0] = '\0';
	channel_run_verb(s, row, c);
}

/* channel_command_timeout - the command timeout, cut short by what is
 * left of the session's time; 0 when the session's time is up. */
static int
channel_command_timeout(const struct psmtpd_session *s)
{
	int timeout = s->params->timeout_command;
	int left = io_seconds_left(s->session_deadline);

	if (s->session_deadline == 0)
		return timeout;
	return timeout == 0 || left < timeout ? left : timeout;
}

/* channel_read_command - wait for a line; false when the session ends. */
static bool
channel_read_command(struct psmtpd_session *s, size_t *len)
{
	for (;;) {
		int timeout = channel_command_timeout(s);
		if (s->session_deadline != 0 && timeout == 0) {
			channel_reply(s, "421 %s Error: session time limit "
			    "exceeded", s->params->fqdn);
			channel_close(s, CHANNEL_END_TIMEOUT);
			return false;
		}
		if (s->stop != NULL && *s->stop) {
			channel_reply(s, "421 %s Service shutting down",
			    s->params->fqdn);
			channel_close(s, CHANNEL_END_SHUTDOWN);
			return false;
		}
		channel_phase(s, CHANNEL_PHASE_COMMAND, NULL);
		const struct io_limit lim = { .timeout = timeout,
		    .stress_timeout = s->params->stress_command,
		    .stress = s->params->stress, .stop = s->stop };
		enum io_status st = io_read_line_limit(&s->io, s->line,
		    CHANNEL_LINE_MAX, len, &lim);
		if (st == IO_OK)
			return true;
		if (st == IO_INTR || (st == IO_TIMEOUT &&
		    s->session_deadline != 0 &&
		    io_seconds_left(s->session_deadline) == 0))
			continue;	/* the stop flag, the session limit */
		channel_read_failed(s, st);
		return false;
	}
}

/* channel_error_limit - limits.max_errors, or the stress one while the
 * pool is exhausted (0: none). */
static unsigned
channel_error_limit(const struct channel_params *p)
{
	unsigned max = p->max_errors;

	if (p->stress != NULL && *p->stress != 0 && p->stress_max_errors > 0 &&
	    (max == 0 || p->stress_max_errors < max))
		max = p->stress_max_errors;
	return max;
}

/* channel_count_errors - the one place errors are counted: a command
 * whose last reply was 4xx or 5xx is one; too many end the session. */
static void
channel_count_errors(struct psmtpd_session *s)
{
	unsigned max = channel_error_limit(s->params);

	if (s->last_code == '4' || s->last_code == '5')
		s->errors++;
	if (max == 0 || s->errors < max || s->closing)
		return;
	channel_reply(s, "421 %s Error: too many errors", s->params->fqdn);
	channel_close(s, CHANNEL_END_ERRORS);
}

/* channel_greet - the connect hooks, then the 220 unless they answered. */
static void
channel_greet(struct psmtpd_session *s)
{
	struct channel_verdict v;

	channel_phase(s, CHANNEL_PHASE_GREETING, NULL);
	channel_run_hook(s, CHANNEL_HOOK_CONNECT, NULL, &v);
	if (channel_send_verdict(s, &v)) {
		/* A refusal at connect ends the session. */
		if (v.reply[0] != '2')
			channel_close(s, CHANNEL_END_PLUGIN);
		return;
	}
	channel_reply(s, "220 %s %s", s->params->fqdn,
	    s->params->version_text);
}

enum channel_end
channel_serve_kept(struct psmtpd_session *s,
    const struct channel_params *params, struct plugin_set *plugins,
    int fd, const struct sockaddr *peer, socklen_t peerlen,
    const struct channel_observer *obs, volatile const int *stop)
{
	if (channel_session_init(s, params, plugins, fd, peer, peerlen) != 0) {
		log_warn("session: out of memory");
		channel_refuse(params, fd, "Error: out of memory");
		return CHANNEL_END_ERROR;
	}
	s->obs = obs;
	s->stop = stop;
	s->session_deadline = io_deadline(params->timeout_session);
	log_info("connect id=%s client=%s port=%u", s->id, s->peer_addr,
	    s->peer_port);
	if (channel_tls_implicit(s))
		channel_greet(s);
	s->reply_context = "";
	while (!s->closing) {
		size_t len;
		if (!channel_read_command(s, &len))
			break;
		s->last_code = '\0';
		channel_dispatch(s, len);
		s->reply_context = "";
		channel_count_errors(s);
	}
	io_flush(&s->io, params->timeout_command);
	channel_phase(s, CHANNEL_PHASE_CLOSING, NULL);
	channel_run_disconnect_hooks(s);
	log_info("disconnect id=%s client=%s messages=%u errors=%u reason=%s",
	    s->id, s->peer_addr, s->messages, s->errors,
	    channel_end_name(s->end));
	channel_session_free(s);
	return s->end;
}

enum channel_end
channel_serve(const struct channel_params *params,
    struct plugin_set *plugins, int fd, const struct sockaddr *peer,
    socklen_t peerlen, const struct channel_observer *obs,
    volatile const int *stop)
{
	struct psmtpd_session *s = channel_keep_new();
	enum channel_end end;

	if (s == NULL) {
		log_warn("session: out of memory");
		channel_refuse(params, fd, "Error: out of memory");
		return CHANNEL_END_ERROR;
	}
	end = channel_serve_kept(s, params, plugins, fd, peer, peerlen, obs,
	    stop);
	channel_keep_free(s);
	return end;
}
