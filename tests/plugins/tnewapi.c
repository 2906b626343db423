/* tnewapi.c - a plugin built for an API newer than the server's: the
 * loader must refuse it with a clear message. */
#include <psmtpd/plugin.h>

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_MAGIC, PSMTPD_PLUGIN_ABI, PSMTPD_PLUGIN_API + 1,
	.name = "tnewapi",
};
