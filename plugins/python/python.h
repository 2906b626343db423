/*
 * python.h - the Python plugin host: one CPython interpreter per worker
 * running an smtpd.SMTPServer subclass (process_message, channel_class
 * with smtp_<VERB> methods).  Shared by the host's files:
 *
 *   python.c     the plugin: settings, init/fini, worker_init/fini, hooks
 *   py_check.c   the check at init, in a disposable child process
 *   py_interp.c  start the interpreter, install smtpd, import the class
 *   py_module.c  _psmtpd: what SMTPChannel's state and push() call
 *   py_call.c    process_message and smtp_<VERB> calls, replies, errors
 */
#ifndef PSMTPD_PY_HOST_H
#define PSMTPD_PY_HOST_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <stdbool.h>

#include <psmtpd/plugin.h>

#define PY_VERBS_MAX 32
#define PY_VERB_LEN 33
#define PY_PATHS_MAX 32
#define PY_REPLY_MAX 2000
#define PY_ERR_MAX 1024

struct py_host {
	/* from init, in the master; read only afterwards */
	char classname[512];		/* "mymod.MyServer" */
	size_t npath;
	char path[PY_PATHS_MAX][PATH_MAX];	/* absolute; the start dir last */
	char remote[300];		/* remoteaddr "host:port" */
	char local[300];		/* localaddr, the first listener */
	long long size;			/* given to the constructor */
	bool smtputf8;
	/* what the instance chose, found by the check */
	long long chosen_size;
	bool chosen_smtputf8, chosen_decode;
	bool channel;			/* channel_class is a subclass */
	size_t nverbs;
	char verbs[PY_VERBS_MAX][PY_VERB_LEN];
	struct psmtpd_command commands[PY_VERBS_MAX];

	/* in a worker, from worker_init on */
	PyObject *host;			/* the _psmtpd_host module */
	PyObject *server;		/* the one SMTPServer instance */
	PyObject *module;		/* _psmtpd, whose state is the call */
	/* The GIL is released between hooks, so that threads the user's
	 * code starts run while the worker waits for its client. */
	PyThreadState *main;
};

/* What the _psmtpd functions act on: the hook in progress. */
struct py_call {
	psmtpd_session *s;		/* NULL outside a hook */
	char reply[PY_REPLY_MAX];	/* push()ed lines, "\n" between */
	size_t len;
	bool bad;			/* a push that cannot be sent */
	bool builtin;			/* a base smtp_<VERB> was called */
	bool close;			/* close_when_done() */
};

/* py_interp.c */
/* Start the interpreter with the host's path, psmtpd's smtpd module and
 * _psmtpd; 0, or -1 with err. */
int py_start(const struct py_host *h, PyObject **hostmod, char *err,
    size_t errlen);
/* host.<fn>(*args) with args built by Py_BuildValue's fmt; a new
 * reference, or NULL with the Python error set. */
PyObject *py_host_call(PyObject *hostmod, const char *fn, const char *fmt,
    ...);
/* The current Python error, normalized, with its traceback; cleared.
 * A new reference, or NULL when there is none. */
PyObject *py_fetch_error(void);
/* The current Python error as one line, cleared. */
void py_error_line(PyObject *hostmod, char *err, size_t errlen);
/* ("host", port) from "host:port" or "[v6]:port". */
PyObject *py_addr_tuple(const char *spec);

/* py_check.c */
/* Import and check the class in a child process; fill h->verbs.  0, or -1
 * with the error, with file and line when it is in the user's code. */
int py_check(struct py_host *h, const psmtpd_init *ctx, char *err,
    size_t errlen);

/* python.c */
/* The user's class and its one instance; a new reference, or NULL with
 * the Python error set. */
PyObject *py_make_server(const struct py_host *h, PyObject *hostmod);

/* py_module.c */
PyObject *py_module_init(void);
struct py_call *py_module_call(PyObject *module);
/* mail_options (mail) or rcpt_options as a new list. */
PyObject *py_options(psmtpd_session *s, bool mail);
/* rcpttos as a new list. */
PyObject *py_rcpt_list(psmtpd_session *s);

/* py_call.c */
enum psmtpd_result py_process_message(struct py_host *h, psmtpd_session *s);
enum psmtpd_result py_connect(struct py_host *h, psmtpd_session *s);
enum psmtpd_result py_verb(struct py_host *h, psmtpd_session *s,
    const char *verb, const char *arg);

#endif
