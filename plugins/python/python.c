/*
 * python.c - the python plugin: run an smtpd.SMTPServer subclass, as
 * `python -m smtpd -c module.Class` did, inside psmtpd's workers.
 *
 *   plugins = ( { name = "python";
 *                 settings = { class = "mymod.MyServer";
 *                              path = [ "/srv/mail-hooks" ]; }; } );
 *
 * or `psmtpd -c mymod.MyServer` (a dotted -c names a Python class).  At
 * init (in the master) the class is imported and checked in a child
 * process that is then thrown away; each worker starts its own
 * interpreter after fork and privilege drop and makes the one SMTPServer
 * instance of that worker.  The smtp_<VERB> methods of its channel_class
 * become verbs.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "python.h"

/* Where psmtpd started: the module path keeps it after -D's chdir("/"),
 * for reloads, as python -m keeps its directory on sys.path. */
#define PY_START_DIR_ENV "PSMTPD_PYTHON_START_DIR"

/* py_start_dir - the directory psmtpd started in, remembered in the
 * environment by the first init so that a reload sees the same. */
static int
py_start_dir(char *out, size_t size)
{
	const char *env = getenv(PY_START_DIR_ENV);

	if (env != NULL && env[0] == '/') {
		snprintf(out, size, "%s", env);
		return 0;
	}
	if (getcwd(out, size) == NULL)
		return -1;
	return setenv(PY_START_DIR_ENV, out, 1);
}

/* py_add_path - one directory of the module path, made absolute. */
static int
py_add_path(psmtpd_init *ctx, struct py_host *h, const char *dir,
    const char *start)
{
	char *slot = h->path[h->npath];
	int n;

	if (h->npath == PY_PATHS_MAX) {
		psmtpd_init_error(ctx, "path", "at most %d directories",
		    PY_PATHS_MAX - 1);
		return -1;
	}
	n = dir[0] == '/' ? snprintf(slot, PATH_MAX, "%s", dir) :
	    snprintf(slot, PATH_MAX, "%s/%s", start, dir);
	if (n < 0 || n >= PATH_MAX) {
		psmtpd_init_error(ctx, "path", "'%s' is too long", dir);
		return -1;
	}
	h->npath++;
	return 0;
}

/* py_read_path - the `path` setting, then the start directory. */
static int
py_read_path(psmtpd_init *ctx, struct py_host *h)
{
	char start[PATH_MAX];
	size_t n = 0;

	if (py_start_dir(start, sizeof(start)) != 0) {
		psmtpd_init_error(ctx, NULL, "the current directory: %s",
		    strerror(errno));
		return -1;
	}
	if (psmtpd_setting_strings(ctx, "path", &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (py_add_path(ctx, h, psmtpd_setting_strings_at(ctx, "path",
		    i), start) != 0)
			return -1;
	return py_add_path(ctx, h, start, start);
}

/* py_read_class - `class`, or the plugin's name when it is a dotted
 * Python name (-c mymod.MyServer). */
static int
py_read_class(psmtpd_init *ctx, struct py_host *h)
{
	const char *cls = NULL;
	int r = psmtpd_setting_string(ctx, "class", &cls);

	if (r < 0)
		return -1;
	if (r == 0 && strchr(psmtpd_init_name(ctx), '.') != NULL)
		cls = psmtpd_init_name(ctx);
	if (cls == NULL || strchr(cls, '.') == NULL || cls[0] == '.' ||
	    cls[strlen(cls) - 1] == '.') {
		psmtpd_init_error(ctx, "class", "wants module.Class, e.g. "
		    "\"mymod.MyServer\"");
		return -1;
	}
	if (strlen(cls) >= sizeof(h->classname)) {
		psmtpd_init_error(ctx, "class", "name too long");
		return -1;
	}
	snprintf(h->classname, sizeof(h->classname), "%s", cls);
	return 0;
}

/* python_verb - a verb of the channel_class, with the GIL. */
static enum psmtpd_result
python_verb(struct py_host *h, psmtpd_session *s, const char *verb,
    const char *arg)
{
	PyGILState_STATE g = PyGILState_Ensure();
	enum psmtpd_result r = py_verb(h, s, verb, arg);

	PyGILState_Release(g);
	return r;
}

/* One handler per verb slot: a handler is not told its verb. */
#define PY_VERB_FN(i) \
static enum psmtpd_result \
py_verb_##i(psmtpd_session *s, const char *arg, void *data) \
{ \
	struct py_host *h = data; \
	return python_verb(h, s, h->verbs[i], arg); \
}
PY_VERB_FN(0) PY_VERB_FN(1) PY_VERB_FN(2) PY_VERB_FN(3) PY_VERB_FN(4)
PY_VERB_FN(5) PY_VERB_FN(6) PY_VERB_FN(7) PY_VERB_FN(8) PY_VERB_FN(9)
PY_VERB_FN(10) PY_VERB_FN(11) PY_VERB_FN(12) PY_VERB_FN(13) PY_VERB_FN(14)
PY_VERB_FN(15) PY_VERB_FN(16) PY_VERB_FN(17) PY_VERB_FN(18) PY_VERB_FN(19)
PY_VERB_FN(20) PY_VERB_FN(21) PY_VERB_FN(22) PY_VERB_FN(23) PY_VERB_FN(24)
PY_VERB_FN(25) PY_VERB_FN(26) PY_VERB_FN(27) PY_VERB_FN(28) PY_VERB_FN(29)
PY_VERB_FN(30) PY_VERB_FN(31)

static const psmtpd_command_fn py_verb_fns[PY_VERBS_MAX] = {
	py_verb_0, py_verb_1, py_verb_2, py_verb_3, py_verb_4, py_verb_5,
	py_verb_6, py_verb_7, py_verb_8, py_verb_9, py_verb_10, py_verb_11,
	py_verb_12, py_verb_13, py_verb_14, py_verb_15, py_verb_16,
	py_verb_17, py_verb_18, py_verb_19, py_verb_20, py_verb_21,
	py_verb_22, py_verb_23, py_verb_24, py_verb_25, py_verb_26,
	py_verb_27, py_verb_28, py_verb_29, py_verb_30, py_verb_31,
};

/* py_register_verbs - the channel_class's smtp_<VERB> methods. */
static int
py_register_verbs(psmtpd_init *ctx, struct py_host *h)
{
	for (size_t i = 0; i < h->nverbs; i++) {
		h->commands[i] = (struct psmtpd_command){ h->verbs[i],
		    py_verb_fns[i], NULL };
		if (psmtpd_init_command(ctx, &h->commands[i]) != 0)
			return -1;
	}
	return 0;
}

/* py_read_server - what python -m smtpd gave the constructor. */
static void
py_read_server(psmtpd_init *ctx, struct py_host *h)
{
	struct psmtpd_smtpd_settings st;
	const char *remote = psmtpd_init_remote(ctx);

	psmtpd_init_smtpd_settings(ctx, &st);
	snprintf(h->remote, sizeof(h->remote), "%s", remote != NULL ? remote :
	    "localhost:25");
	snprintf(h->local, sizeof(h->local), "%s", st.localaddr != NULL ?
	    st.localaddr : "localhost:8025");
	h->size = st.data_size_limit;
	h->smtputf8 = st.enable_smtputf8;
}

static int
python_init(psmtpd_init *ctx, void **plugin_data)
{
	struct py_host *h = calloc(1, sizeof(*h));
	char err[PY_ERR_MAX];

	if (h == NULL) {
		psmtpd_init_error(ctx, NULL, "out of memory");
		return -1;
	}
	if (py_read_class(ctx, h) != 0 || py_read_path(ctx, h) != 0)
		goto fail;
	py_read_server(ctx, h);
	if (py_check(h, ctx, err, sizeof(err)) != 0) {
		psmtpd_init_error(ctx, NULL, "%s", err);
		goto fail;
	}
	if (psmtpd_init_set_smtpd_settings(ctx, h->chosen_size,
	    h->chosen_smtputf8, h->chosen_decode) != 0 ||
	    py_register_verbs(ctx, h) != 0)
		goto fail;
	*plugin_data = h;
	return 0;
fail:
	/* fini runs only after a successful init */
	free(h);
	return -1;
}

static void
python_fini(void *plugin_data)
{
	free(plugin_data);
}

PyObject *
py_make_server(const struct py_host *h, PyObject *hostmod)
{
	PyObject *cls = py_host_call(hostmod, "load", "(s)", h->classname);
	PyObject *local = py_addr_tuple(h->local);
	PyObject *remote = py_addr_tuple(h->remote);
	PyObject *server = NULL;

	if (cls != NULL && local != NULL && remote != NULL)
		server = py_host_call(hostmod, "make_server", "(OOOLO)", cls,
		    local, remote, h->size, h->smtputf8 ? Py_True : Py_False);
	Py_XDECREF(cls);
	Py_XDECREF(local);
	Py_XDECREF(remote);
	return server;
}

static int
python_worker_init(void *plugin_data)
{
	struct py_host *h = plugin_data;
	char err[PY_ERR_MAX];

	if (py_start(h, &h->host, err, sizeof(err)) != 0 ||
	    (h->module = PyImport_ImportModule("_psmtpd")) == NULL ||
	    (h->server = py_make_server(h, h->host)) == NULL) {
		if (h->host != NULL && PyErr_Occurred())
			py_error_line(h->host, err, sizeof(err));
		psmtpd_log(PSMTPD_LOG_ERR, "plugin=python class=%s %s",
		    h->classname, err);
		return -1;
	}
	h->main = PyEval_SaveThread();
	return 0;
}

static void
python_worker_fini(void *plugin_data)
{
	struct py_host *h = plugin_data;

	if (!Py_IsInitialized())
		return;
	if (h->main != NULL)
		PyEval_RestoreThread(h->main);
	Py_CLEAR(h->server);
	Py_CLEAR(h->module);
	Py_CLEAR(h->host);
	if (Py_FinalizeEx() != 0)
		psmtpd_log(PSMTPD_LOG_WARNING, "plugin=python class=%s the "
		    "interpreter did not end cleanly", h->classname);
}

static enum psmtpd_result
python_connect(psmtpd_session *s, void *plugin_data)
{
	struct py_host *h = plugin_data;
	PyGILState_STATE g;
	enum psmtpd_result r;

	if (!h->channel)
		return PSMTPD_CONTINUE;
	g = PyGILState_Ensure();
	r = py_connect(h, s);
	PyGILState_Release(g);
	return r;
}

static enum psmtpd_result
python_process_message(psmtpd_session *s, void *plugin_data)
{
	PyGILState_STATE g = PyGILState_Ensure();
	enum psmtpd_result r = py_process_message(plugin_data, s);

	PyGILState_Release(g);
	return r;
}

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "python",
	.version = "1.0",
	.description = "run an smtpd.SMTPServer subclass (Python plugin host)",
	.init = python_init,
	.fini = python_fini,
	.worker_init = python_worker_init,
	.worker_fini = python_worker_fini,
	.on_connect = python_connect,
	.process_message = python_process_message,
};
