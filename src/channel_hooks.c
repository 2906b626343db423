/*
 * channel_hooks.c - the plugin chain for each hook, and plugin verbs.
 *
 * Plugins run in config order.  CONTINUE goes on to the next; a reply
 * (REPLY or DISCONNECT) ends the chain and the channel acts on it.
 */
#include "autoconfig.h"

#include <bsd/string.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel_session.h"
#include "log.h"
#include "plugin_loader.h"
#include "plugin_timeout.h"

/* Seconds to answer and leave after a plugin timed out. */
#define CHANNEL_TIMEOUT_GRACE 5

/* The second level of the API: hooks that plugins built for API 1 do not
 * have (their slots were reserved, and are not read). */
#define CHANNEL_HOOK2(p, f) ((p)->api >= 2 ? (p)->f : NULL)

/* What one call of a plugin needs beside the session and the plugin. */
struct channel_call {
	enum channel_hook hook;
	const char *arg;
	const char *arg2;
	const struct psmtpd_command *cmd;	/* CHANNEL_HOOK_VERB */
};

static const char *const channel_hook_names[] = {
	[CHANNEL_HOOK_NONE] = "none", [CHANNEL_HOOK_CONNECT] = "on_connect",
	[CHANNEL_HOOK_HELO] = "on_helo", [CHANNEL_HOOK_MAIL] = "on_mail",
	[CHANNEL_HOOK_RCPT] = "on_rcpt", [CHANNEL_HOOK_DATA] = "on_data",
	[CHANNEL_HOOK_MESSAGE] = "process_message",
	[CHANNEL_HOOK_RSET] = "on_rset",
	[CHANNEL_HOOK_DISCONNECT] = "on_disconnect",
	[CHANNEL_HOOK_OUTCOME] = "on_outcome",
	[CHANNEL_HOOK_EHLO] = "ehlo_keywords",
	[CHANNEL_HOOK_UNKNOWN] = "on_unknown_command",
	[CHANNEL_HOOK_VERB] = "command",
};

/* channel_hook_where - what the API allows during this hook. */
static enum api_where
channel_hook_where(enum channel_hook hook)
{
	switch (hook) {
	case CHANNEL_HOOK_MAIL:
		return API_IN_MAIL;
	case CHANNEL_HOOK_MESSAGE:
		return API_IN_MESSAGE;
	case CHANNEL_HOOK_RSET:
	case CHANNEL_HOOK_DISCONNECT:
		return API_IN_QUIET;
	case CHANNEL_HOOK_OUTCOME:
		return API_IN_OUTCOME;
	case CHANNEL_HOOK_EHLO:
		return API_IN_EHLO;
	default:
		return API_IN_HOOK;
	}
}

/* channel_call_void - the hooks that cannot answer. */
static enum psmtpd_result
channel_call_void(struct psmtpd_session *s, const struct psmtpd_plugin *p,
    void *data, enum channel_hook hook)
{
	void (*fn)(psmtpd_session *, void *) =
	    hook == CHANNEL_HOOK_RSET ? p->on_rset :
	    hook == CHANNEL_HOOK_DISCONNECT ? p->on_disconnect :
	    hook == CHANNEL_HOOK_OUTCOME ? CHANNEL_HOOK2(p, on_outcome) :
	    CHANNEL_HOOK2(p, ehlo_keywords);

	if (fn != NULL)
		fn(s, data);
	return PSMTPD_CONTINUE;
}

/* channel_call_hook - one plugin's hook of the given kind; CONTINUE when
 * the plugin has none. */
static enum psmtpd_result
channel_call_hook(struct psmtpd_session *s, const struct psmtpd_plugin *p,
    void *data, const struct channel_call *c)
{
	switch (c->hook) {
	case CHANNEL_HOOK_CONNECT:
		return p->on_connect ? p->on_connect(s, data) : PSMTPD_CONTINUE;
	case CHANNEL_HOOK_HELO:
		return p->on_helo ? p->on_helo(s, c->arg, data) :
		    PSMTPD_CONTINUE;
	case CHANNEL_HOOK_MAIL:
		return p->on_mail ? p->on_mail(s, c->arg, data) :
		    PSMTPD_CONTINUE;
	case CHANNEL_HOOK_RCPT:
		return p->on_rcpt ? p->on_rcpt(s, c->arg, data) :
		    PSMTPD_CONTINUE;
	case CHANNEL_HOOK_DATA:
		return p->on_data ? p->on_data(s, data) : PSMTPD_CONTINUE;
	case CHANNEL_HOOK_MESSAGE:
		return p->process_message ? p->process_message(s, data) :
		    PSMTPD_CONTINUE;
	case CHANNEL_HOOK_UNKNOWN:
		return CHANNEL_HOOK2(p, on_unknown_command) ?
		    p->on_unknown_command(s, c->arg, c->arg2, data) :
		    PSMTPD_CONTINUE;
	case CHANNEL_HOOK_VERB:
		return c->cmd->handler(s, c->arg, data);
	default:
		return channel_call_void(s, p, data, c->hook);
	}
}

/* channel_settle_verdict - a plugin that ended the chain without a reply
 * gets a default one, and a word in the log. */
static void
channel_settle_verdict(struct psmtpd_session *s, const char *name,
    struct channel_verdict *v)
{
	if (v->result != PSMTPD_REPLY && v->result != PSMTPD_DISCONNECT) {
		log_warnx("id=%s plugin=%s returned an unknown result %d",
		    s->id, name, (int)v->result);
		v->result = PSMTPD_REPLY;
		v->reply[0] = '\0';
	}
	if (v->reply[0] != '\0')
		return;
	if (v->result == PSMTPD_DISCONNECT) {
		snprintf(v->reply, sizeof(v->reply), "421 %s Service closing "
		    "transmission channel", s->params->fqdn);
		return;
	}
	log_warnx("id=%s plugin=%s answered without a reply", s->id, name);
	snprintf(v->reply, sizeof(v->reply), "451 Error: local error in "
	    "processing");
}

/* channel_enter_plugin - make plugin i the one psmtpd_reply() answers
 * for, and tell the API which hook runs. */
static void
channel_enter_plugin(struct psmtpd_session *s, size_t i,
    struct channel_verdict *v, enum channel_hook hook)
{
	s->current_plugin = i;
	s->reply_target = v;
	s->api.where = channel_hook_where(hook);
	s->api.hook = channel_hook_names[hook];
	v->reply[0] = '\0';
	channel_phase(s, CHANNEL_PHASE_PLUGIN, plugin_set_name(s->plugins, i));
}

static void
channel_leave_plugin(struct psmtpd_session *s)
{
	s->reply_target = NULL;
	s->api.where = API_IN_NONE;
	s->api.hook = NULL;
	channel_phase(s, s->smtp_state == PSMTPD_STATE_DATA ?
	    CHANNEL_PHASE_DATA : CHANNEL_PHASE_COMMAND, NULL);
}

/* channel_plugin_timed_out - a hook ran past its plugin's `timeout`:
 * answer what the client waits for (never a 250), log, and end the
 * worker, bounded by a watchdog should the answer hang. */
__attribute__((noreturn)) static void
channel_plugin_timed_out(struct psmtpd_session *s, size_t i,
    enum channel_hook hook, int limit)
{
	plugin_timeout_watchdog(CHANNEL_TIMEOUT_GRACE);
	s->reply_target = NULL;
	s->api.where = API_IN_NONE;
	log_warnx("id=%s%s%s plugin=%s hook=%s timed out after %ds: the "
	    "worker exits", s->id, s->api.msgid[0] ? " msgid=" : "",
	    s->api.msgid, plugin_set_name(s->plugins, i),
	    channel_hook_names[hook], limit);
	if (hook != CHANNEL_HOOK_DISCONNECT && hook != CHANNEL_HOOK_OUTCOME &&
	    hook != CHANNEL_HOOK_EHLO) {
		channel_reply_raw(s, s->ext.enhanced_status_codes ?
		    "451 4.3.0 Error: plugin timed out" :
		    "451 Error: plugin timed out");
	}
	io_flush(&s->io, CHANNEL_TIMEOUT_GRACE);
	plugin_timeout_exit();
}

/* channel_call_plugin - plugin i's hook, with everything around a call:
 * the API's place, the phase, the plugin's time limit. */
static enum psmtpd_result
channel_call_plugin(struct psmtpd_session *s, size_t i,
    const struct channel_call *c, struct channel_verdict *v)
{
	enum psmtpd_result r;
	int limit = plugin_set_timeout(s->plugins, i);
	sigjmp_buf jb;

	channel_enter_plugin(s, i, v, c->hook);
	if (limit > 0) {
		if (sigsetjmp(jb, 1) != 0)
			channel_plugin_timed_out(s, i, c->hook, limit);
		plugin_timeout_start(&jb, limit);
	}
	r = channel_call_hook(s, plugin_set_plugin(s->plugins, i),
	    plugin_set_data(s->plugins, i), c);
	if (limit > 0)
		plugin_timeout_stop();
	channel_leave_plugin(s);
	return r;
}

/* channel_run_chain - plugins from first on until one answers; the
 * number of plugins that ran into *reached. */
static void
channel_run_chain(struct psmtpd_session *s, const struct channel_call *c,
    struct channel_verdict *v, size_t *reached)
{
	size_t n = s->plugins != NULL ? plugin_set_count(s->plugins) : 0;

	v->result = PSMTPD_CONTINUE;
	v->reply[0] = '\0';
	*reached = n;
	for (size_t i = 0; i < n; i++) {
		v->result = channel_call_plugin(s, i, c, v);
		if (v->result != PSMTPD_CONTINUE) {
			channel_settle_verdict(s, plugin_set_name(s->plugins, i),
			    v);
			*reached = i + 1;
			return;
		}
	}
	v->reply[0] = '\0';
}

void
channel_run_hook(struct psmtpd_session *s, enum channel_hook hook,
    const char *arg, struct channel_verdict *v)
{
	struct channel_call c = { .hook = hook, .arg = arg };
	size_t reached;

	channel_run_chain(s, &c, v, &reached);
}

/* channel_run_each - a hook without a reply, of every plugin (or of the
 * first n). */
static void
channel_run_each(struct psmtpd_session *s, enum channel_hook hook, size_t n)
{
	struct channel_call c = { .hook = hook };
	struct channel_verdict ignored;

	for (size_t i = 0; i < n; i++)
		channel_call_plugin(s, i, &c, &ignored);
}

/* channel_plugin_count - how many plugins the session has. */
static size_t
channel_plugin_count(const struct psmtpd_session *s)
{
	return s->plugins != NULL ? plugin_set_count(s->plugins) : 0;
}

void
channel_run_rset_hooks(struct psmtpd_session *s)
{
	channel_run_each(s, CHANNEL_HOOK_RSET, channel_plugin_count(s));
}

void
channel_run_disconnect_hooks(struct psmtpd_session *s)
{
	channel_run_each(s, CHANNEL_HOOK_DISCONNECT, channel_plugin_count(s));
}

void
channel_run_ehlo_hooks(struct psmtpd_session *s)
{
	s->api.ehlo_len = 0;
	s->api.ehlo[0] = '\0';
	channel_run_each(s, CHANNEL_HOOK_EHLO, channel_plugin_count(s));
}

bool
channel_run_unknown_hooks(struct psmtpd_session *s, const char *verb,
    const char *arg)
{
	struct channel_call c = { .hook = CHANNEL_HOOK_UNKNOWN, .arg = verb,
	    .arg2 = arg };
	struct channel_verdict v;
	size_t reached;

	channel_run_chain(s, &c, &v, &reached);
	return channel_send_verdict(s, &v);
}

/* channel_message_lost - a plugin got "" for an edited message that
 * could not be built (a spool error): whatever the chain said, the
 * message was not handed on whole, so no recipient gets a 2xx. */
static void
channel_message_lost(struct psmtpd_session *s, struct channel_verdict *v)
{
	v->result = PSMTPD_REPLY;
	snprintf(v->reply, sizeof(v->reply), "451 Error: local error in "
	    "processing");
	for (size_t i = 0; i < s->nrcpt; i++) {
		free(s->rcpts[i].reply);
		s->rcpts[i].reply = NULL;
	}
}

void
channel_run_message_hooks(struct psmtpd_session *s, struct channel_verdict *v)
{
	struct channel_call c = { .hook = CHANNEL_HOOK_MESSAGE };
	char one[CHANNEL_REPLY_MAX];
	size_t reached;

	api_verdicts_begin(s);
	channel_run_chain(s, &c, v, &reached);
	s->api.reached = reached;
	if (s->api.lost)
		channel_message_lost(s, v);
	api_verdicts_settle(s, v->result == PSMTPD_CONTINUE ? NULL : v->reply,
	    one, sizeof(one));
	api_set_outcome(s, one, v->result == PSMTPD_CONTINUE || s->api.lost ?
	    "" : plugin_set_name(s->plugins, reached - 1));
	if (v->result == PSMTPD_CONTINUE && strcmp(one, "250 OK") != 0)
		v->result = PSMTPD_REPLY;	/* verdicts of plugins that went on */
	strlcpy(v->reply, one, sizeof(v->reply));
}

/* channel_run_one_outcome - plugin i's on_outcome. */
static void
channel_run_one_outcome(struct psmtpd_session *s, size_t i)
{
	struct channel_call c = { .hook = CHANNEL_HOOK_OUTCOME };
	struct channel_verdict ignored;

	channel_call_plugin(s, i, &c, &ignored);
}

void
channel_run_outcome_hooks(struct psmtpd_session *s)
{
	size_t n = s->api.reached;

	/* only the plugins that saw the message: those with the hook among
	 * the ones the chain reached */
	for (size_t i = 0; i < n; i++)
		if (plugin_set_plugin(s->plugins, i)->process_message != NULL)
			channel_run_one_outcome(s, i);
}

bool
channel_run_plugin_verb(struct psmtpd_session *s, const char *verb,
    const char *arg)
{
	size_t i;
	struct channel_call c = { .hook = CHANNEL_HOOK_VERB, .arg = arg };
	struct channel_verdict v;

	if (s->plugins == NULL ||
	    (c.cmd = plugin_set_command(s->plugins, verb, &i)) == NULL)
		return false;
	v.result = channel_call_plugin(s, i, &c, &v);
	/* CONTINUE declines: the built-in verb, if any, answers. */
	if (v.result == PSMTPD_CONTINUE)
		return false;
	channel_settle_verdict(s, plugin_set_name(s->plugins, i), &v);
	channel_send_verdict(s, &v);
	return true;
}

bool
channel_send_verdict(struct psmtpd_session *s,
    const struct channel_verdict *v)
{
	if (v->result == PSMTPD_CONTINUE)
		return false;
	channel_reply_raw(s, v->reply);
	if (v->result == PSMTPD_DISCONNECT)
		channel_close(s, CHANNEL_END_PLUGIN);
	return true;
}

void
channel_reply_accepted(struct psmtpd_session *s,
    const struct channel_verdict *v, const char *dflt)
{
	if (!channel_send_verdict(s, v))
		channel_reply_raw(s, dflt);
}

void
channel_free_plugin_data(struct psmtpd_session *s, bool txn_only)
{
	size_t n = s->plugins != NULL ? plugin_set_count(s->plugins) : 0;

	if (s->pdata == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		struct channel_plugin_data *d = &s->pdata[i];
		if (d->txn_free != NULL && d->txn_data != NULL)
			d->txn_free(d->txn_data);
		d->txn_data = NULL;
		d->txn_free = NULL;
		if (txn_only)
			continue;
		if (d->session_free != NULL && d->session_data != NULL)
			d->session_free(d->session_data);
		d->session_data = NULL;
		d->session_free = NULL;
	}
}
