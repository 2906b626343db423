/*
 * py_call.c - the calls into the user's Python code during a session:
 * process_message, the channel at connect, smtp_<VERB> methods.  What
 * they return or push becomes the reply; an exception is logged with its
 * traceback and answered 451 (Python's smtpd dropped the connection).
 */
#include "autoconfig.h"

#include <string.h>

#include "python.h"

#define PY_ERROR_REPLY "451 Requested action aborted: local error in " \
	"processing"

/* py_enter - make s the session that _psmtpd's functions act on. */
static struct py_call *
py_enter(struct py_host *h, psmtpd_session *s)
{
	struct py_call *c = py_module_call(h->module);

	memset(c, 0, sizeof(*c));
	c->s = s;
	return c;
}

/* py_log_exception - the traceback into the log, one line each. */
static void
py_log_exception(struct py_host *h, psmtpd_session *s, const char *what)
{
	PyObject *exc = py_fetch_error();
	PyObject *lines = exc != NULL ? py_host_call(h->host,
	    "format_exception", "(O)", exc) : NULL;

	psmtpd_session_log(s, PSMTPD_LOG_ERR, "%s raised an exception, "
	    "answered 451", what);
	for (Py_ssize_t i = 0; lines != NULL && PyList_Check(lines) &&
	    i < PyList_GET_SIZE(lines); i++) {
		const char *line = PyUnicode_AsUTF8(PyList_GET_ITEM(lines, i));
		if (line != NULL)
			psmtpd_session_log(s, PSMTPD_LOG_ERR, "python: %s",
			    line);
	}
	PyErr_Clear();
	Py_XDECREF(lines);
	Py_XDECREF(exc);
}

/* py_failed - an exception in what: logged, 451. */
static enum psmtpd_result
py_failed(struct py_host *h, psmtpd_session *s, const char *what)
{
	py_log_exception(h, s, what);
	psmtpd_reply(s, PY_ERROR_REPLY);
	return PSMTPD_REPLY;
}

/* py_peer - SMTPChannel.peer: (host, port), or a 4-tuple for IPv6 as
 * socket.getpeername() gives it. */
static PyObject *
py_peer(psmtpd_session *s)
{
	const char *addr = psmtpd_session_peer_addr(s);
	unsigned port = psmtpd_session_peer_port(s);

	if (strchr(addr, ':') != NULL)
		return Py_BuildValue("(sIii)", addr, port, 0, 0);
	return Py_BuildValue("(sI)", addr, port);
}

/* py_reply_text - a reply that Python code returned or pushed: CRLF
 * inside it separates lines.  A text psmtpd cannot send gets the 451
 * (the channel logs it). */
static enum psmtpd_result
py_reply_text(psmtpd_session *s, const char *text, bool close)
{
	char buf[PY_REPLY_MAX];
	size_t n = 0;

	for (const char *p = text; *p != '\0' && n + 1 < sizeof(buf); p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			buf[n++] = *p;
	buf[n] = '\0';
	if (text[n] != '\0' && strlen(text) >= sizeof(buf))
		psmtpd_session_log(s, PSMTPD_LOG_ERR, "python: reply too long");
	else
		psmtpd_reply(s, "%s", buf);
	return close ? PSMTPD_DISCONNECT : PSMTPD_REPLY;
}

enum psmtpd_result
py_process_message(struct py_host *h, psmtpd_session *s)
{
	size_t len;
	const char *data = psmtpd_message_data(s, &len);
	PyObject *peer = py_peer(s), *rcpts = py_rcpt_list(s);
	PyObject *mo = py_options(s, true), *ro = py_options(s, false);
	PyObject *r = NULL;

	py_enter(h, s);
	if (peer != NULL && rcpts != NULL && mo != NULL && ro != NULL)
		r = py_host_call(h->host, "message", "(OOzOy#OO)", h->server,
		    peer, psmtpd_session_mailfrom(s), rcpts, data,
		    (Py_ssize_t)len, mo, ro);
	py_module_call(h->module)->s = NULL;
	Py_XDECREF(peer);
	Py_XDECREF(rcpts);
	Py_XDECREF(mo);
	Py_XDECREF(ro);
	if (r == NULL)
		return py_failed(h, s, "process_message");
	enum psmtpd_result res = PSMTPD_CONTINUE;
	const char *text = r != Py_None ? PyUnicode_AsUTF8(r) : NULL;
	if (text != NULL)
		res = py_reply_text(s, text, false);
	else if (r != Py_None)
		res = py_failed(h, s, "process_message");
	Py_DECREF(r);
	return res;
}

static void
py_decref(void *o)
{
	PyGILState_STATE g = PyGILState_Ensure();

	Py_XDECREF((PyObject *)o);
	PyGILState_Release(g);
}

enum psmtpd_result
py_connect(struct py_host *h, psmtpd_session *s)
{
	PyObject *peer = py_peer(s), *chan = NULL;
	struct py_call *c = py_enter(h, s);

	if (peer != NULL)
		chan = py_host_call(h->host, "make_channel", "(OO)",
		    h->server, peer);
	c->s = NULL;
	Py_XDECREF(peer);
	if (chan == NULL) {
		py_log_exception(h, s, "channel_class()");
		psmtpd_reply(s, "421 %s Error: local error in processing",
		    psmtpd_session_fqdn(s));
		return PSMTPD_DISCONNECT;
	}
	psmtpd_session_set_data(s, chan, py_decref);
	/* what its __init__ pushed replaces the greeting */
	return c->len > 0 ? py_reply_text(s, c->reply, c->close) :
	    PSMTPD_CONTINUE;
}

enum psmtpd_result
py_verb(struct py_host *h, psmtpd_session *s, const char *verb,
    const char *arg)
{
	PyObject *chan = psmtpd_session_get_data(s);
	struct py_call *c;
	PyObject *r;

	if (chan == NULL)
		return PSMTPD_CONTINUE;
	c = py_enter(h, s);
	r = py_host_call(h->host, "verb", "(Osz)", chan, verb, arg);
	c->s = NULL;
	if (r == NULL) {
		char what[64];
		snprintf(what, sizeof(what), "smtp_%s", verb);
		return py_failed(h, s, what);
	}
	Py_DECREF(r);
	if (c->len == 0 && c->builtin)
		return PSMTPD_CONTINUE;	/* super().smtp_VERB(arg): psmtpd's */
	if (c->len == 0 && c->close)
		return PSMTPD_DISCONNECT;
	if (c->len == 0 || c->bad)
		psmtpd_session_log(s, PSMTPD_LOG_ERR, "python: smtp_%s %s",
		    verb, c->bad ? "pushed more than a reply can hold" :
		    "pushed no reply");
	if (c->len == 0 || c->bad)
		return PSMTPD_REPLY;	/* no reply set: the channel's 451 */
	return py_reply_text(s, c->reply, c->close);
}
