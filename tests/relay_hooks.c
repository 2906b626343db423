/*
 * relay_hooks.c - helpers of the relaying plugins' hook tests.  See
 * relay_hooks.h.
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "delivery_testutil.h"
#include "relay_hooks.h"

void
rh_start(struct rh_fixture *fx, const struct psmtpd_plugin *plugin,
    const struct fake_script *sc, const struct stub_setting *set)
{
	int port;

	fx->plugin = plugin;
	fx->pd = NULL;
	tu_tempdir(fx->dir, sizeof(fx->dir), plugin->name);
	snprintf(fx->capture, sizeof(fx->capture), "%s/sent", fx->dir);
	fx->pid = fake_start(sc, fx->capture, &port);
	snprintf(fx->remote, sizeof(fx->remote), "127.0.0.1:%d", port);
	stub_init_ctx(&fx->ctx, set);
	fx->ctx.remote = fx->remote;
	ck_assert_msg(plugin->init(&fx->ctx, &fx->pd) == 0, "init: %s",
	    fx->ctx.errors);
}

char *
rh_stop(struct rh_fixture *fx)
{
	fake_stop(fx->pid);
	char *sent = tu_read_file(fx->capture, NULL);
	ck_assert_ptr_nonnull(sent);
	return sent;
}

void
rh_end(struct rh_fixture *fx)
{
	fx->plugin->fini(fx->pd);
	tu_rmtree(fx->dir);
}

void
rh_init_fails(const struct psmtpd_plugin *plugin,
    const struct stub_setting *set, const char *remote, const char *error)
{
	struct psmtpd_init ctx;
	void *pd = NULL;

	stub_init_ctx(&ctx, set);
	ctx.remote = remote;
	ck_assert_int_eq(plugin->init(&ctx, &pd), -1);
	ck_assert_msg(strstr(ctx.errors, error) == ctx.errors, "errors: %s",
	    ctx.errors);
}

void
rh_run(const struct psmtpd_plugin *plugin, void *pd,
    struct psmtpd_session *s, const char *const *rcpts, int codes[4])
{
	static const char *taken[3];
	size_t n = 0;

	memset(codes, 0, 4 * sizeof(*codes));
	taken[0] = NULL;
	s->rcpts = taken;
	codes[0] = stub_code(s, plugin->on_mail(s, s->mailfrom, pd));
	for (int i = 0; codes[0] == 250 && i < 2 && rcpts[i] != NULL; i++) {
		codes[1 + i] = stub_code(s, plugin->on_rcpt(s, rcpts[i], pd));
		if (codes[1 + i] == 250) {
			taken[n++] = rcpts[i];
			taken[n] = NULL;
		}
	}
	/* the reply left is the message's (or the last refusal's) */
	if (n > 0) {
		s->reply[0] = '\0';
		codes[3] = stub_code(s, plugin->process_message(s, pd));
	}
	stub_txn_end(s);
}
