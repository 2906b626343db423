/*
 * py_module.c - _psmtpd, the module behind smtpd.SMTPChannel: its state
 * reads and writes, push(), close_when_done() and the calls of the base
 * smtp_<VERB> methods go to the session of the hook in progress, which the
 * module's state (struct py_call) names.
 */
#include "autoconfig.h"

#include <string.h>

#include "python.h"

/* py_session - the session in progress, or NULL with RuntimeError. */
static struct py_call *
py_session(PyObject *self)
{
	struct py_call *c = PyModule_GetState(self);

	if (c != NULL && c->s != NULL)
		return c;
	PyErr_SetString(PyExc_RuntimeError, "no SMTP session: a channel's "
	    "state exists while psmtpd runs one of its smtp_ methods");
	return NULL;
}

/* py_append - one reply line after those pushed before. */
static void
py_append(struct py_call *c, const char *line, size_t n)
{
	if (c->len + n + 2 > sizeof(c->reply)) {
		c->bad = true;
		return;
	}
	if (c->len > 0)
		c->reply[c->len++] = '\n';
	memcpy(c->reply + c->len, line, n);
	c->len += n;
	c->reply[c->len] = '\0';
}

/* push(msg): msg + CRLF to the client; a CRLF inside makes more lines. */
static PyObject *
py_push(PyObject *self, PyObject *arg)
{
	struct py_call *c = py_session(self);
	Py_ssize_t n;
	const char *text;

	if (c == NULL || (text = PyUnicode_AsUTF8AndSize(arg, &n)) == NULL)
		return NULL;
	for (const char *p = text, *end = text + n;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl != NULL ? nl : end) - p);
		if (nl != NULL && len > 0 && p[len - 1] == '\r')
			len--;
		/* "msg\r\n" is one line, as push() adds the CRLF itself */
		if (nl != NULL || len > 0 || p == text)
			py_append(c, p, len);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	Py_RETURN_NONE;
}

static PyObject *
py_close(PyObject *self, PyObject *unused)
{
	struct py_call *c = py_session(self);

	(void)unused;
	if (c == NULL)
		return NULL;
	c->close = true;
	Py_RETURN_NONE;
}

/* builtin(): the base class's smtp_<VERB>, run by psmtpd afterwards. */
static PyObject *
py_builtin(PyObject *self, PyObject *unused)
{
	struct py_call *c = py_session(self);

	(void)unused;
	if (c == NULL)
		return NULL;
	c->builtin = true;
	Py_RETURN_NONE;
}

PyObject *
py_options(psmtpd_session *s, bool mail)
{
	size_t n = mail ? psmtpd_session_mail_option_count(s) :
	    psmtpd_session_rcpt_option_count(s);
	PyObject *list = PyList_New((Py_ssize_t)n);

	for (size_t i = 0; list != NULL && i < n; i++) {
		PyObject *o = PyUnicode_FromString(mail ?
		    psmtpd_session_mail_option(s, i) :
		    psmtpd_session_rcpt_option(s, i));
		if (o == NULL) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, o);
	}
	return list;
}

/* py_received_data - '' before any message, then bytes or str. */
static PyObject *
py_received_data(psmtpd_session *s)
{
	size_t len;
	const char *data = psmtpd_message_data(s, &len);

	if (len == 0)
		return PyUnicode_FromString("");
	if (psmtpd_session_decode_data(s))
		return PyUnicode_DecodeUTF8(data, (Py_ssize_t)len, "replace");
	return PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
}

PyObject *
py_rcpt_list(psmtpd_session *s)
{
	size_t n = psmtpd_session_rcpt_count(s);
	PyObject *list = PyList_New((Py_ssize_t)n);

	for (size_t i = 0; list != NULL && i < n; i++) {
		PyObject *o = PyUnicode_FromString(psmtpd_session_rcpt(s, i));
		if (o == NULL) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, o);
	}
	return list;
}

/* get(name): one attribute of SMTPChannel's state. */
static PyObject *
py_get(PyObject *self, PyObject *arg)
{
	struct py_call *c = py_session(self);
	const char *name = c != NULL ? PyUnicode_AsUTF8(arg) : NULL;
	const char *mailfrom;

	if (name == NULL)
		return NULL;
	psmtpd_session *s = c->s;
	if (strcmp(name, "mailfrom") == 0) {
		if ((mailfrom = psmtpd_session_mailfrom(s)) == NULL)
			Py_RETURN_NONE;
		return PyUnicode_FromString(mailfrom);
	}
	if (strcmp(name, "seen_greeting") == 0)
		return PyUnicode_FromString(psmtpd_session_greeting(s));
	if (strcmp(name, "extended_smtp") == 0)
		return PyBool_FromLong(psmtpd_session_extended(s));
	if (strcmp(name, "smtp_state") == 0)
		return PyLong_FromLong((long)psmtpd_session_state(s));
	if (strcmp(name, "fqdn") == 0)
		return PyUnicode_FromString(psmtpd_session_fqdn(s));
	if (strcmp(name, "received_data") == 0)
		return py_received_data(s);
	if (strcmp(name, "mail_options") == 0 ||
	    strcmp(name, "rcpt_options") == 0)
		return py_options(s, name[0] == 'm');
	PyErr_Format(PyExc_AttributeError, "no session attribute '%s'", name);
	return NULL;
}

/* py_set_one - a write psmtpd takes; -2 for one it ignores. */
static int
py_set_one(psmtpd_session *s, const char *name, PyObject *v)
{
	const char *text;

	if (strcmp(name, "mailfrom") == 0) {
		if (v == Py_None || (PyUnicode_Check(v) &&
		    PyUnicode_GetLength(v) == 0))
			return psmtpd_session_set_mailfrom(s, NULL);
		text = PyUnicode_AsUTF8(v);
		return text != NULL ? psmtpd_session_set_mailfrom(s, text) : -1;
	}
	if (strcmp(name, "seen_greeting") == 0) {
		text = PyUnicode_AsUTF8(v);
		return text != NULL ? psmtpd_session_set_greeting(s, text,
		    psmtpd_session_extended(s)) : -1;
	}
	if (strcmp(name, "extended_smtp") == 0)
		return psmtpd_session_set_greeting(s,
		    psmtpd_session_greeting(s), PyObject_IsTrue(v) == 1);
	if (strcmp(name, "smtp_state") == 0)
		return psmtpd_session_set_state(s, PyLong_AsLong(v) == 1 ?
		    PSMTPD_STATE_DATA : PSMTPD_STATE_COMMAND);
	return -2;
}

/* set(name, value): a write to SMTPChannel's state. */
static PyObject *
py_set(PyObject *self, PyObject *args)
{
	struct py_call *c = py_session(self);
	const char *name;
	PyObject *v;

	if (c == NULL || !PyArg_ParseTuple(args, "sO", &name, &v))
		return NULL;
	if (py_set_one(c->s, name, v) == -1) {
		if (!PyErr_Occurred())
			PyErr_Format(PyExc_ValueError, "psmtpd refuses %s = "
			    "%R", name, v);
		return NULL;
	}
	Py_RETURN_NONE;
}

static PyObject *
py_rcpttos(PyObject *self, PyObject *unused)
{
	struct py_call *c = py_session(self);

	(void)unused;
	return c != NULL ? py_rcpt_list(c->s) : NULL;
}

/* set_rcpttos(list): rcpttos replaced. */
static PyObject *
py_set_rcpttos(PyObject *self, PyObject *arg)
{
	struct py_call *c = py_session(self);
	PyObject *seq = c != NULL ? PySequence_Fast(arg, "a list") : NULL;
	const char *addrs[1024];
	Py_ssize_t n = seq != NULL ? PySequence_Fast_GET_SIZE(seq) : 0;

	if (seq == NULL)
		return NULL;
	for (Py_ssize_t i = 0; i < n && i < 1024; i++)
		if ((addrs[i] = PyUnicode_AsUTF8(
		    PySequence_Fast_GET_ITEM(seq, i))) == NULL) {
			Py_DECREF(seq);
			return NULL;
		}
	int r = n > 1024 ? -1 : psmtpd_session_set_rcpttos(c->s, addrs,
	    (size_t)n);
	Py_DECREF(seq);
	if (r != 0) {
		PyErr_SetString(PyExc_ValueError, "psmtpd refuses these "
		    "recipients (too many, or a CR or LF in one)");
		return NULL;
	}
	Py_RETURN_NONE;
}

static PyMethodDef py_methods[] = {
	{ "push", py_push, METH_O, "a reply line to the client" },
	{ "close", py_close, METH_NOARGS, "close after the reply" },
	{ "builtin", py_builtin, METH_NOARGS, "psmtpd's verb runs next" },
	{ "get", py_get, METH_O, "a session attribute" },
	{ "set", py_set, METH_VARARGS, "set a session attribute" },
	{ "rcpttos", py_rcpttos, METH_NOARGS, "the recipients" },
	{ "set_rcpttos", py_set_rcpttos, METH_O, "replace the recipients" },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef py_module_def = {
	PyModuleDef_HEAD_INIT, "_psmtpd",
	"psmtpd's session, for smtpd.SMTPChannel", sizeof(struct py_call),
	py_methods, NULL, NULL, NULL, NULL,
};

PyObject *
py_module_init(void)
{
	return PyModule_Create(&py_module_def);
}

struct py_call *
py_module_call(PyObject *module)
{
	return PyModule_GetState(module);
}
