/*
 * sink.c - SinkServer: accept every message and discard it.
 */
#include <psmtpd/plugin.h>

/* sink_process_message - nothing to do: the chain goes on to "250 OK". */
static enum psmtpd_result
sink_process_message(psmtpd_session *s, void *plugin_data)
{
	(void)s;
	(void)plugin_data;
	return PSMTPD_CONTINUE;
}

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "sink",
	.version = "1.0",
	.description = "accept every message and discard it (SinkServer)",
	.process_message = sink_process_message,
};
