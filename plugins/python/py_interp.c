/*
 * py_interp.c - start CPython in a process (a worker, or the check child)
 * with the host's module path, psmtpd's smtpd module in place of any
 * other, the _psmtpd module and the _psmtpd_host glue.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "python.h"
#include "py_sources.h"

/* py_status - a PyStatus as an error line; true when it is one. */
static bool
py_status(PyStatus st, const char *what, char *err, size_t errlen)
{
	if (!PyStatus_Exception(st))
		return false;
	snprintf(err, errlen, "cannot start Python: %s: %s", what,
	    st.err_msg != NULL ? st.err_msg : "error");
	return true;
}

/* py_init_interpreter - a Python that leaves the signals to psmtpd and
 * reads no command line; sys.argv is ["psmtpd"]. */
static int
py_init_interpreter(char *err, size_t errlen)
{
	PyConfig cfg;
	char *argv[] = { (char *)"psmtpd", NULL };
	bool bad;

	if (PyImport_AppendInittab("_psmtpd", py_module_init) != 0) {
		snprintf(err, errlen, "cannot start Python: no room for the "
		    "_psmtpd module");
		return -1;
	}
	PyConfig_InitPythonConfig(&cfg);
	cfg.install_signal_handlers = 0;
	cfg.parse_argv = 0;
	bad = py_status(PyConfig_SetBytesString(&cfg, &cfg.program_name,
	    PSMTPD_PYTHON_PROGRAM), "program name", err, errlen) ||
	    py_status(PyConfig_SetBytesArgv(&cfg, 1, argv), "argv", err,
	    errlen) ||
	    py_status(Py_InitializeFromConfig(&cfg), "init", err, errlen);
	PyConfig_Clear(&cfg);
	return bad ? -1 : 0;
}

/* py_set_path - the configured directories, then the start directory,
 * first on sys.path (python -m puts its directory first too). */
static int
py_set_path(const struct py_host *h)
{
	PyObject *sys_path = PySys_GetObject("path");	/* borrowed */

	if (sys_path == NULL || !PyList_Check(sys_path))
		return -1;
	for (size_t i = 0; i < h->npath; i++) {
		PyObject *dir = PyUnicode_DecodeFSDefault(h->path[i]);
		if (dir == NULL || PyList_Insert(sys_path, (Py_ssize_t)i,
		    dir) != 0) {
			Py_XDECREF(dir);
			return -1;
		}
		Py_DECREF(dir);
	}
	return 0;
}

/* py_install - compile an embedded module's source into sys.modules. */
static PyObject *
py_install(const char *name, const char *source, const char *file)
{
	PyObject *code = Py_CompileString(source, file, Py_file_input);
	PyObject *mod;

	if (code == NULL)
		return NULL;
	mod = PyImport_ExecCodeModuleEx(name, code, file);
	Py_DECREF(code);
	return mod;
}

int
py_start(const struct py_host *h, PyObject **hostmod, char *err,
    size_t errlen)
{
	PyObject *smtpd;

	*hostmod = NULL;
	if (py_init_interpreter(err, errlen) != 0)
		return -1;
	if (py_set_path(h) != 0 || (smtpd = py_install("smtpd",
	    py_source_smtpd, "<psmtpd>/smtpd.py")) == NULL) {
		py_error_line(NULL, err, errlen);
		return -1;
	}
	Py_DECREF(smtpd);
	*hostmod = py_install("_psmtpd_host", py_source_host,
	    "<psmtpd>/host.py");
	if (*hostmod == NULL) {
		py_error_line(NULL, err, errlen);
		return -1;
	}
	return 0;
}

PyObject *
py_host_call(PyObject *hostmod, const char *fn, const char *fmt, ...)
{
	PyObject *f = PyObject_GetAttrString(hostmod, fn);
	PyObject *args, *r = NULL;
	va_list ap;

	if (f == NULL)
		return NULL;
	va_start(ap, fmt);
	args = Py_VaBuildValue(fmt, ap);
	va_end(ap);
	if (args != NULL)
		r = PyObject_CallObject(f, args);
	Py_XDECREF(args);
	Py_DECREF(f);
	return r;
}

/* py_utf8 - str(o) as UTF-8 into buf. */
static void
py_utf8(PyObject *o, char *buf, size_t size)
{
	PyObject *s = o != NULL ? PyObject_Str(o) : NULL;
	const char *text = s != NULL ? PyUnicode_AsUTF8(s) : NULL;

	snprintf(buf, size, "%s", text != NULL ? text : "unknown error");
	Py_XDECREF(s);
	PyErr_Clear();
}

PyObject *
py_fetch_error(void)
{
	PyObject *type, *value, *tb;

	PyErr_Fetch(&type, &value, &tb);
	if (type == NULL)
		return NULL;
	PyErr_NormalizeException(&type, &value, &tb);
	if (value != NULL && tb != NULL)
		PyException_SetTraceback(value, tb);
	Py_XDECREF(type);
	Py_XDECREF(tb);
	return value;
}

void
py_error_line(PyObject *hostmod, char *err, size_t errlen)
{
	PyObject *exc = py_fetch_error();
	PyObject *start = hostmod != NULL ? PyObject_GetAttrString(hostmod,
	    "StartError") : NULL;
	PyObject *line = NULL;

	PyErr_Clear();
	if (exc != NULL && start != NULL && !PyObject_IsInstance(exc, start))
		line = py_host_call(hostmod, "describe", "(O)", exc);
	py_utf8(line != NULL ? line : exc, err, errlen);
	Py_XDECREF(line);
	Py_XDECREF(start);
	Py_XDECREF(exc);
}

PyObject *
py_addr_tuple(const char *spec)
{
	const char *colon = strrchr(spec, ':');
	const char *host = spec;
	size_t hostlen;

	if (colon == NULL)
		return Py_BuildValue("(si)", spec, 0);
	hostlen = (size_t)(colon - spec);
	if (hostlen >= 2 && spec[0] == '[' && colon[-1] == ']') {
		host++;
		hostlen -= 2;
	}
	return Py_BuildValue("(s#i)", host, (Py_ssize_t)hostlen,
	    atoi(colon + 1));
}
