/*
 * channel.c - one SMTP session: the command loop, replies, state resets.
 *
 * The verbs live in channel_cmds.c, DATA in channel_data.c, the plugin
 * chain in channel_hooks.c.  The reply texts are Python 3.11 smtpd's.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "channel_session.h"
#include "log.h"
#include "plugin_loader.h"

static const char *const channel_end_names[] = {
	[CHANNEL_END_QUIT] = "quit",
	[CHANNEL_END_EOF] = "eof",
	[CHANNEL_END_TIMEOUT] = "timeout",
	[CHANNEL_END_ERROR] = "error",
	[CHANNEL_END_ERRORS] = "too-many-errors",
	[CHANNEL_END_PLUGIN] = "plugin",
	[CHANNEL_END_SHUTDOWN] = "shutdown",
};

const char *
channel_end_name(enum channel_end end)
{
	return channel_end_names[end];
}

void
channel_phase(struct psmtpd_session *s, enum channel_phase phase,
    const char *detail)
{
	if (s->obs != NULL && s->obs->phase != NULL)
		s->obs->phase(s->obs->arg, phase, detail);
}

void
channel_close(struct psmtpd_session *s, enum channel_end end)
{
	if (!s->closing) {
		s->closing = true;
		s->end = end;
	}
}

bool
channel_greeted(struct psmtpd_session *s)
{
	if (s->seen_greeting[0] != '\0')
		return true;
	channel_reply(s, "503 Error: send HELO first");
	return false;
}

/* channel_reply_raw - one reply (possibly several lines joined by "\n"),
 * each line sent with CRLF. */
void
channel_reply_raw(struct psmtpd_session *s, const char *text)
{
	int timeout = s->params->timeout_command;

	if (s->params->trace)
		log_debug("id=%s reply=\"%s\"", s->id, text);
	if (text[0] == '4' || text[0] == '5')
		s->errors++;
	for (const char *p = text;;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (io_write(&s->io, p, n, timeout) != IO_OK ||
		    io_write(&s->io, "\r\n", 2, timeout) != IO_OK) {
			channel_close(s, CHANNEL_END_ERROR);
			return;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* channel_reply - one reply line.  Its text may echo the client (the
 * verb, a VRFY argument): CR and LF there would inject reply lines, and
 * smtpd.py raises on non-ASCII, so those bytes are sent as '?'. */
void
channel_reply(struct psmtpd_session *s, const char *fmt, ...)
{
	char text[CHANNEL_REPLY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (char *p = text; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n' || (unsigned char)*p >= 0x80)
			*p = '?';
	channel_reply_raw(s, text);
}

/* channel_reset_transaction - smtpd.py's _set_post_data_state. */
void
channel_reset_transaction(struct psmtpd_session *s)
{
	s->smtp_state = PSMTPD_STATE_COMMAND;
	free(s->mailfrom);
	s->mailfrom = NULL;
	for (size_t i = 0; i < s->nrcpt; i++)
		free(s->rcpttos[i]);
	s->nrcpt = 0;
	s->require_smtputf8 = false;
	channel_free_plugin_data(s, true);
}

/* channel_rset_state - smtpd.py's _set_rset_state: the transaction and
 * the received data, not the greeting. */
void
channel_rset_state(struct psmtpd_session *s)
{
	channel_reset_transaction(s);
	s->data_len = 0;
	if (s->data != NULL)
		s->data[0] = '\0';
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

/* channel_dispatch - found_terminator in COMMAND state. */
static void
channel_dispatch(struct psmtpd_session *s, size_t len)
{
	struct smtp_command cmd;
	size_t max = s->params->command_size_limit + s->mail_limit_extra;

	if (len == 0) {
		channel_reply(s, "500 Error: bad syntax");
		return;
	}
	if (len > max || len > CHANNEL_LINE_MAX) {
		channel_reply(s, "500 Error: line too long");
		return;
	}
	if (smtp_parse_command(s->line, len, &cmd) != SMTP_PARSE_OK) {
		channel_reply(s, "500 Error: bad syntax");
		return;
	}
	if (s->params->trace)
		log_debug("id=%s command=\"%s\" arg=\"%s\"", s->id, cmd.verb,
		    cmd.arg != NULL ? cmd.arg : "");
	if (len > channel_command_limit(s, cmd.verb)) {
		channel_reply(s, "500 Error: line too long");
		return;
	}
	if (channel_run_plugin_verb(s, cmd.verb, cmd.arg))
		return;
	channel_verb_fn fn = channel_builtin_verb(cmd.verb);
	if (fn == NULL) {
		channel_reply(s, "500 Error: command \"%s\" not recognized",
		    cmd.verb);
		return;
	}
	fn(s, cmd.arg);
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
		    .stress = s->params->stress };
		enum io_status st = io_read_line_limit(&s->io, s->line,
		    CHANNEL_LINE_MAX, len, &lim);
		switch (st) {
		case IO_OK:
			return true;
		case IO_INTR:
			continue;
		case IO_TIMEOUT:
			if (s->session_deadline != 0 &&
			    io_seconds_left(s->session_deadline) == 0)
				continue;	/* the session limit answers */
			channel_reply(s, "421 %s Error: timeout exceeded",
			    s->params->fqdn);
			channel_close(s, CHANNEL_END_TIMEOUT);
			return false;
		case IO_EOF:
			channel_close(s, CHANNEL_END_EOF);
			return false;
		case IO_ERROR:
			channel_close(s, CHANNEL_END_ERROR);
			return false;
		}
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

/* channel_check_errors - end a session that keeps sending bad commands. */
static void
channel_check_errors(struct psmtpd_session *s)
{
	unsigned max = channel_error_limit(s->params);

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

/* channel_session_id - a short random id for the log lines. */
static void
channel_session_id(char *id, size_t size)
{
	unsigned char b[6];

	if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b)) {
		unsigned long long t = (unsigned long long)time(NULL) ^
		    ((unsigned long long)getpid() << 16) ^ (uintptr_t)id;
		memcpy(b, &t, sizeof(b));
	}
	snprintf(id, size, "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
	    b[3], b[4], b[5]);
}

/* channel_session_init - a fresh session for fd. */
static int
channel_session_init(struct psmtpd_session *s,
    const struct channel_params *params, struct plugin_set *plugins,
    int fd, const struct sockaddr *peer, socklen_t peerlen)
{
	char port[16] = "0";

	memset(s, 0, offsetof(struct psmtpd_session, line));
	s->line[0] = '\0';
	s->params = params;
	s->plugins = plugins;
	io_init(&s->io, fd);
	channel_session_id(s->id, sizeof(s->id));
	if (peer == NULL || getnameinfo(peer, peerlen, s->peer_addr,
	    sizeof(s->peer_addr), port, sizeof(port),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(s->peer_addr, sizeof(s->peer_addr), "unknown");
	s->peer_port = (unsigned)strtoul(port, NULL, 10);
	size_t n = plugins != NULL ? plugin_set_count(plugins) : 0;
	s->pdata = calloc(n + 1, sizeof(*s->pdata));
	return s->pdata == NULL ? -1 : 0;
}

/* channel_session_free - everything the session allocated. */
static void
channel_session_free(struct psmtpd_session *s)
{
	channel_rset_state(s);
	channel_free_plugin_data(s, false);
	free(s->pdata);
	free(s->rcpttos);
	free(s->data);
}

enum channel_end
channel_serve(const struct channel_params *params,
    struct plugin_set *plugins, int fd, const struct sockaddr *peer,
    socklen_t peerlen, const struct channel_observer *obs,
    volatile const int *stop)
{
	struct psmtpd_session *s = malloc(sizeof(*s));
	enum channel_end end;

	if (s == NULL || channel_session_init(s, params, plugins, fd, peer,
	    peerlen) != 0) {
		log_warn("session: out of memory");
		if (s != NULL)
			free(s->pdata);
		free(s);
		channel_refuse(params, fd, "Error: out of memory");
		return CHANNEL_END_ERROR;
	}
	s->obs = obs;
	s->stop = stop;
	s->session_deadline = io_deadline(params->timeout_session);
	log_info("connect id=%s client=%s port=%u", s->id, s->peer_addr,
	    s->peer_port);
	channel_greet(s);
	while (!s->closing) {
		size_t len;
		if (!channel_read_command(s, &len))
			break;
		channel_dispatch(s, len);
		if (s->smtp_state == PSMTPD_STATE_DATA && !s->closing)
			channel_receive_data(s);
		channel_check_errors(s);
	}
	io_flush(&s->io, params->timeout_command);
	channel_phase(s, CHANNEL_PHASE_CLOSING, NULL);
	channel_run_disconnect_hooks(s);
	log_info("disconnect id=%s client=%s messages=%u errors=%u reason=%s",
	    s->id, s->peer_addr, s->messages, s->errors,
	    channel_end_name(s->end));
	end = s->end;
	channel_session_free(s);
	free(s);
	return end;
}

void
channel_refuse(const struct channel_params *params, int fd, const char *text)
{
	char line[CHANNEL_REPLY_MAX];
	int n = snprintf(line, sizeof(line), "421 %s %s\r\n", params->fqdn,
	    text);

	if (n > 0 && (size_t)n < sizeof(line)) {
		/* Best effort: the connection is being dropped anyway. */
		ssize_t w = send(fd, line, (size_t)n, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
		(void)w;
	}
}
