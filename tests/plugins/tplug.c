/*
 * tplug.c - a test plugin whose every hook does what its settings say:
 * "continue", "reply:TEXT", "close:TEXT", "close" (no reply), "crash",
 * "sleep:N" (N seconds, then continue).
 * `rcpt_only` limits the rcpt action to one address.  The message hook
 * records what it received in the session log.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <psmtpd/plugin.h>

enum { H_CONNECT, H_HELO, H_MAIL, H_RCPT, H_DATA, H_MESSAGE, H_MAX };
static const char *const hook_keys[H_MAX] = { "connect", "helo", "mail",
    "rcpt", "data", "message" };

struct tplug {
	const char *action[H_MAX];
	const char *rcpt_only;
};

/* Static state, as a plugin might keep its config: each generation must
 * get its own (the old one's fini and dlclose come before the new init). */
static int tplug_inits;
static char *tplug_global;

/* tplug_act - carry out an action string. */
static enum psmtpd_result
tplug_act(psmtpd_session *s, const char *action)
{
	if (action == NULL || strcmp(action, "continue") == 0)
		return PSMTPD_CONTINUE;
	if (strcmp(action, "crash") == 0) {
		raise(SIGSEGV);
		return PSMTPD_CONTINUE;
	}
	if (strncmp(action, "sleep:", 6) == 0) {
		unsigned left = (unsigned)atoi(action + 6);
		while (left > 0)
			left = sleep(left);
		return PSMTPD_CONTINUE;
	}
	if (strcmp(action, "close") == 0)
		return PSMTPD_DISCONNECT;
	if (strncmp(action, "reply:", 6) == 0) {
		psmtpd_reply(s, "%s", action + 6);
		return PSMTPD_REPLY;
	}
	if (strncmp(action, "close:", 6) == 0) {
		psmtpd_reply(s, "%s", action + 6);
		return PSMTPD_DISCONNECT;
	}
	return PSMTPD_CONTINUE;
}

static enum psmtpd_result
tplug_connect(psmtpd_session *s, void *d)
{
	return tplug_act(s, ((struct tplug *)d)->action[H_CONNECT]);
}

static enum psmtpd_result
tplug_helo(psmtpd_session *s, const char *helo, void *d)
{
	(void)helo;
	return tplug_act(s, ((struct tplug *)d)->action[H_HELO]);
}

static enum psmtpd_result
tplug_mail(psmtpd_session *s, const char *from, void *d)
{
	(void)from;
	return tplug_act(s, ((struct tplug *)d)->action[H_MAIL]);
}

static enum psmtpd_result
tplug_rcpt(psmtpd_session *s, const char *to, void *d)
{
	struct tplug *t = d;

	if (t->rcpt_only != NULL && strcmp(t->rcpt_only, to) != 0)
		return PSMTPD_CONTINUE;
	return tplug_act(s, t->action[H_RCPT]);
}

static enum psmtpd_result
tplug_data(psmtpd_session *s, void *d)
{
	return tplug_act(s, ((struct tplug *)d)->action[H_DATA]);
}

static enum psmtpd_result
tplug_message(psmtpd_session *s, void *d)
{
	size_t len;
	const char *data = psmtpd_message_data(s, &len);

	psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "got from=%s nrcpt=%zu "
	    "size=%zu first=%s inits=%d global=%s", psmtpd_session_mailfrom(s),
	    psmtpd_session_rcpt_count(s), len, len ? data : "", tplug_inits,
	    tplug_global != NULL ? tplug_global : "(freed)");
	return tplug_act(s, ((struct tplug *)d)->action[H_MESSAGE]);
}

/* The hooks without a reply say in the log that they ran. */
static void
tplug_rset(psmtpd_session *s, void *d)
{
	(void)d;
	psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "hook=rset mailfrom=%s",
	    psmtpd_session_mailfrom(s) ? psmtpd_session_mailfrom(s) : "-");
}

static void
tplug_disconnect(psmtpd_session *s, void *d)
{
	(void)d;
	psmtpd_session_log(s, PSMTPD_LOG_NOTICE, "hook=disconnect greeting=%s",
	    psmtpd_session_greeting(s));
}

static int
tplug_init(psmtpd_init *ctx, void **data)
{
	struct tplug *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	for (int i = 0; i < H_MAX; i++)
		psmtpd_setting_string(ctx, hook_keys[i], &t->action[i]);
	psmtpd_setting_string(ctx, "rcpt_only", &t->rcpt_only);
	const char *fail;
	if (psmtpd_setting_string(ctx, "fail_init", &fail) == 1) {
		psmtpd_init_error(ctx, "fail_init", "%s", fail);
		free(t);
		return -1;
	}
	int crash = 0;
	if (psmtpd_setting_bool(ctx, "init_crash", &crash) == 1 && crash)
		raise(SIGSEGV);
	tplug_inits++;
	free(tplug_global);
	tplug_global = strdup("set-by-init");
	*data = t;
	return 0;
}

static void
tplug_fini(void *data)
{
	free(tplug_global);
	tplug_global = NULL;
	free(data);
}

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "tplug",
	.version = "1",
	.description = "test plugin: hooks do what the settings say",
	.init = tplug_init,
	.fini = tplug_fini,
	.on_connect = tplug_connect,
	.on_helo = tplug_helo,
	.on_mail = tplug_mail,
	.on_rcpt = tplug_rcpt,
	.on_data = tplug_data,
	.process_message = tplug_message,
	.on_rset = tplug_rset,
	.on_disconnect = tplug_disconnect,
};
