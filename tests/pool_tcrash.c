/*
 * pool_tcrash.c - a test plugin for the pool: its worker_init does what
 * the `worker_init` setting says, "crash" (SIGSEGV, no core file) or
 * "fail" (-1), so that every worker dies right after it starts; with
 * `rcpt = "hang"` a RCPT hangs the worker, deaf to every signal but
 * SIGKILL (for ten minutes at most).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <psmtpd/plugin.h>

struct tcrash {
	const char *action;
	const char *rcpt;
};

static int
tcrash_init(psmtpd_init *ctx, void **data)
{
	struct tcrash *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	psmtpd_setting_string(ctx, "worker_init", &t->action);
	psmtpd_setting_string(ctx, "rcpt", &t->rcpt);
	*data = t;
	return 0;
}

static void
tcrash_fini(void *data)
{
	free(data);
}

static int
tcrash_worker_init(void *data)
{
	const struct tcrash *t = data;
	struct rlimit none = { 0, 0 };

	if (t->action == NULL)
		return 0;
	if (strcmp(t->action, "fail") == 0)
		return -1;
	if (strcmp(t->action, "crash") == 0) {
		setrlimit(RLIMIT_CORE, &none);
		raise(SIGSEGV);
	}
	return 0;
}

static enum psmtpd_result
tcrash_rcpt(psmtpd_session *s, const char *to, void *data)
{
	const struct tcrash *t = data;
	sigset_t all;

	(void)s;
	(void)to;
	if (t->rcpt != NULL && strcmp(t->rcpt, "hang") == 0) {
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		for (int i = 0; i < 600; i++)
			sleep(1);
	}
	return PSMTPD_CONTINUE;
}

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "pool_tcrash",
	.version = "1",
	.description = "test plugin: workers that die at start",
	.init = tcrash_init,
	.fini = tcrash_fini,
	.worker_init = tcrash_worker_init,
	.on_rcpt = tcrash_rcpt,
};
