/*
 * message_api.c - the plugin API's message functions: the data as it
 * stands after the edits of earlier plugins, its headers and body, and
 * the edits (API 2).  The work is message.c's; here are the rules of
 * place (edits in process_message only) and the log of what was refused.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psmtpd/plugin.h>

#include "channel_session.h"
#include "log.h"
#include "plugin_loader.h"

/* message_api_msg - the session's message; reads do not change what a
 * plugin sees, only when it is built (the view is made on demand). */
static struct message *
message_api_msg(const psmtpd_session *s)
{
	return (struct message *)&s->msg;
}

/* message_api_refuse - log an edit that is not made. */
static int
message_api_refuse(const psmtpd_session *s, const char *fn, const char *why)
{
	log_warnx("id=%s msgid=%s plugin=%s %s refused: %s", s->id,
	    s->api.msgid, plugin_set_name(s->plugins, s->current_plugin), fn,
	    why);
	return -1;
}

/* message_api_editable - edits are for process_message. */
static bool
message_api_editable(const psmtpd_session *s)
{
	return s->api.where == API_IN_MESSAGE && s->msg.ended;
}

const char *
psmtpd_message_id(const psmtpd_session *s)
{
	return s->api.msgid;
}

const char *
psmtpd_message_data(const psmtpd_session *s, size_t *len)
{
	size_t n = 0;
	const char *d = message_data(message_api_msg(s), &n);

	if (d == NULL) {
		/* the message this plugin sees is not the message: the client
		 * must not get a 2xx for it (channel_run_message_hooks) */
		log_warn("id=%s msgid=%s cannot build the edited message",
		    s->id, s->api.msgid);
		((psmtpd_session *)s)->api.lost = true;
		d = "";
		n = 0;
	}
	if (len != NULL)
		*len = n;
	return d;
}

size_t
psmtpd_message_line_count(const psmtpd_session *s)
{
	size_t len, lines = 1;
	const char *d = psmtpd_message_data(s, &len);

	for (const char *p = d; (p = memchr(p, '\n', len - (size_t)(p - d)));
	    p++)
		lines++;
	return lines;
}

const char *
psmtpd_message_body(const psmtpd_session *s, size_t *len)
{
	size_t n = 0;
	const char *b = message_body(message_api_msg(s), &n);

	if (len != NULL)
		*len = b != NULL ? n : 0;
	return b != NULL ? b : "";
}

size_t
psmtpd_header_count(const psmtpd_session *s, const char *name)
{
	return message_header_count(message_api_msg(s), name);
}

const char *
psmtpd_header_get(const psmtpd_session *s, const char *name, size_t i,
    size_t *len)
{
	size_t n = 0;
	const char *h = message_header_get(message_api_msg(s), name, i, &n);

	if (len != NULL)
		*len = n;
	return h;
}

/* message_api_value - the formatted value, or NULL when too long. */
__attribute__((format(printf, 1, 0))) static char *
message_api_value(const char *fmt, va_list ap)
{
	char *v = NULL;

	if (vasprintf(&v, fmt, ap) < 0)
		return NULL;
	if (strlen(v) > MESSAGE_FIELD_MAX) {
		free(v);
		return NULL;
	}
	return v;
}

/* A header edit that takes a position, a name and a value. */
typedef int (*message_api_edit_fn)(struct message *m, size_t i,
    const char *name, const char *value);

/* message_api_replace - message_header_replace in the order of add. */
static int
message_api_replace(struct message *m, size_t i, const char *name,
    const char *value)
{
	return message_header_replace(m, name, i, value);
}

/* message_api_vedit - format the value, make the edit, log a refusal. */
__attribute__((format(printf, 6, 0))) static int
message_api_vedit(psmtpd_session *s, const char *fn, message_api_edit_fn op,
    size_t i, const char *name, const char *fmt, va_list ap)
{
	int r = -1;

	if (!message_api_editable(s))
		return message_api_refuse(s, fn, "not in process_message");
	char *v = message_api_value(fmt, ap);
	if (v != NULL)
		r = op(&s->msg, i, name, v);
	free(v);
	if (r != 0)
		return message_api_refuse(s, fn, "no such field, or an invalid "
		    "name or value");
	return 0;
}

int
psmtpd_header_add(psmtpd_session *s, size_t at, const char *name,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = message_api_vedit(s, "psmtpd_header_add", message_header_add,
	    at, name, fmt, ap);
	va_end(ap);
	return r;
}

int
psmtpd_header_remove(psmtpd_session *s, const char *name, size_t i)
{
	if (!message_api_editable(s))
		return message_api_refuse(s, "psmtpd_header_remove", "not in "
		    "process_message");
	if (message_header_remove(&s->msg, name, i) != 0)
		return message_api_refuse(s, "psmtpd_header_remove", "no such "
		    "field");
	return 0;
}

int
psmtpd_header_replace(psmtpd_session *s, const char *name, size_t i,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = message_api_vedit(s, "psmtpd_header_replace",
	    message_api_replace, i, name, fmt, ap);
	va_end(ap);
	return r;
}

int
psmtpd_body_replace(psmtpd_session *s, const char *body, size_t len)
{
	if (!message_api_editable(s))
		return message_api_refuse(s, "psmtpd_body_replace", "not in "
		    "process_message");
	if (message_body_replace(&s->msg, body, len) != 0)
		return message_api_refuse(s, "psmtpd_body_replace", "spool "
		    "error");
	return 0;
}

int
psmtpd_body_append(psmtpd_session *s, const char *more, size_t len)
{
	if (!message_api_editable(s))
		return message_api_refuse(s, "psmtpd_body_append", "not in "
		    "process_message");
	if (message_body_append(&s->msg, more, len) != 0)
		return message_api_refuse(s, "psmtpd_body_append", "no body "
		    "replaced yet, or a spool error");
	return 0;
}
