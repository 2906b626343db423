/*
 * proxy_conf.c - the settings of the proxy and lmtp plugins, each read
 * the same way: the server's address (checked by the plugin), the name
 * they greet with, their timeouts, and (proxy_secure.c) STARTTLS and AUTH
 * toward the server they hand mail to.
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <stdlib.h>

#include <psmtpd/plugin.h>

#include "../delivery_util.h"
#include "proxy.h"

/* proxy_conf_common - all but the address. */
static int
proxy_conf_common(psmtpd_init *ctx, struct proxy_conf *pc,
    const char *helo_key)
{
	long long connect_s = 30, reply_s = 300;

	pc->helo_name = psmtpd_init_hostname(ctx);
	int bad = delivery_setting_text(ctx, helo_key, 0, &pc->helo_name) |
	    delivery_setting_range(ctx, "connect_timeout", 1, 3600,
	    &connect_s) |
	    delivery_setting_range(ctx, "reply_timeout", 1, 3600, &reply_s);
	if (bad)
		return -1;
	if (pc->helo_name == NULL || *pc->helo_name == '\0')
		pc->helo_name = "localhost";
	pc->connect_ms = (int)connect_s * 1000;
	pc->reply_ms = (int)reply_s * 1000;
	return proxy_secure_init(ctx, pc);
}

int
proxy_conf_init(psmtpd_init *ctx, const struct proxy_kind *k,
    void **plugin_data)
{
	struct proxy_conf *pc = calloc(1, sizeof(*pc));

	if (pc == NULL) {
		psmtpd_init_error(ctx, NULL, "out of memory");
		return -1;
	}
	pc->tag = k->tag;
	pc->lmtp = k->lmtp;
	if (k->top_remote)
		pc->remote = psmtpd_init_remote(ctx);
	int bad = delivery_setting_text(ctx, k->address_key, !k->top_remote,
	    &pc->remote);
	if (!bad)
		bad = k->check_address(ctx, k->address_key, pc->remote);
	if (!bad)
		bad = proxy_conf_common(ctx, pc, k->helo_key);
	if (bad) {
		proxy_conf_free(pc);
		return -1;
	}
	*plugin_data = pc;
	return 0;
}

void
proxy_conf_free(void *plugin_data)
{
	proxy_secure_fini(plugin_data);
	free(plugin_data);
}
