/* tbadabi.c - a plugin built for another ABI: the loader must refuse it. */
#include <psmtpd/plugin.h>

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_MAGIC, PSMTPD_PLUGIN_ABI + 41, PSMTPD_PLUGIN_API,
	.name = "tbadabi",
};
