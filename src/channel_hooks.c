/*
 * channel_hooks.c - the plugin chain for each hook, and plugin verbs.
 *
 * Plugins run in config order.  CONTINUE goes on to the next; a reply
 * (REPLY or DISCONNECT) ends the chain and the channel acts on it.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "channel_session.h"
#include "log.h"
#include "plugin_loader.h"

/* channel_call_hook - one plugin's hook of the given kind; CONTINUE when
 * the plugin has none. */
static enum psmtpd_result
channel_call_hook(struct psmtpd_session *s, const struct psmtpd_plugin *p,
    void *data, enum channel_hook hook, const char *arg)
{
	switch (hook) {
	case CHANNEL_HOOK_NONE:
		return PSMTPD_CONTINUE;
	case CHANNEL_HOOK_CONNECT:
		return p->on_connect ? p->on_connect(s, data) : PSMTPD_CONTINUE;
	case CHANNEL_HOOK_HELO:
		return p->on_helo ? p->on_helo(s, arg, data) : PSMTPD_CONTINUE;
	case CHANNEL_HOOK_MAIL:
		return p->on_mail ? p->on_mail(s, arg, data) : PSMTPD_CONTINUE;
	case CHANNEL_HOOK_RCPT:
		return p->on_rcpt ? p->on_rcpt(s, arg, data) : PSMTPD_CONTINUE;
	case CHANNEL_HOOK_DATA:
		return p->on_data ? p->on_data(s, data) : PSMTPD_CONTINUE;
	case CHANNEL_HOOK_MESSAGE:
		return p->process_message ? p->process_message(s, data) :
		    PSMTPD_CONTINUE;
	}
	return PSMTPD_CONTINUE;
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

/* channel_enter_plugin - make plugin i the one psmtpd_reply() answers for. */
static void
channel_enter_plugin(struct psmtpd_session *s, size_t i,
    struct channel_verdict *v)
{
	s->current_plugin = i;
	s->reply_target = v;
	v->reply[0] = '\0';
	channel_phase(s, CHANNEL_PHASE_PLUGIN, plugin_set_name(s->plugins, i));
}

static void
channel_leave_plugin(struct psmtpd_session *s)
{
	s->reply_target = NULL;
	channel_phase(s, s->smtp_state == PSMTPD_STATE_DATA ?
	    CHANNEL_PHASE_DATA : CHANNEL_PHASE_COMMAND, NULL);
}

void
channel_run_hook(struct psmtpd_session *s, enum channel_hook hook,
    const char *arg, struct channel_verdict *v)
{
	size_t n = s->plugins != NULL ? plugin_set_count(s->plugins) : 0;

	v->result = PSMTPD_CONTINUE;
	v->reply[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const struct psmtpd_plugin *p = plugin_set_plugin(s->plugins, i);
		channel_enter_plugin(s, i, v);
		v->result = channel_call_hook(s, p, plugin_set_data(s->plugins,
		    i), hook, arg);
		channel_leave_plugin(s);
		if (v->result != PSMTPD_CONTINUE) {
			channel_settle_verdict(s, plugin_set_name(s->plugins, i),
			    v);
			return;
		}
	}
	v->reply[0] = '\0';
}

/* channel_run_void_hooks - on_rset or on_disconnect of every plugin. */
static void
channel_run_void_hooks(struct psmtpd_session *s, bool disconnect)
{
	size_t n = s->plugins != NULL ? plugin_set_count(s->plugins) : 0;
	struct channel_verdict ignored;

	for (size_t i = 0; i < n; i++) {
		const struct psmtpd_plugin *p = plugin_set_plugin(s->plugins, i);
		void (*fn)(psmtpd_session *, void *) = disconnect ?
		    p->on_disconnect : p->on_rset;
		if (fn == NULL)
			continue;
		channel_enter_plugin(s, i, &ignored);
		fn(s, plugin_set_data(s->plugins, i));
		channel_leave_plugin(s);
	}
}

void
channel_run_rset_hooks(struct psmtpd_session *s)
{
	channel_run_void_hooks(s, false);
}

void
channel_run_disconnect_hooks(struct psmtpd_session *s)
{
	channel_run_void_hooks(s, true);
}

bool
channel_run_plugin_verb(struct psmtpd_session *s, const char *verb,
    const char *arg)
{
	size_t i;
	const struct psmtpd_command *c;
	struct channel_verdict v;

	if (s->plugins == NULL ||
	    (c = plugin_set_command(s->plugins, verb, &i)) == NULL)
		return false;
	channel_enter_plugin(s, i, &v);
	v.result = c->handler(s, arg, plugin_set_data(s->plugins, i));
	channel_leave_plugin(s);
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
